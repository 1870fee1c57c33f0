"""Grow-shrink parent selection given a set of admissible predecessors (Numba kernels).

Given a node ``y`` and the set ``P`` of nodes allowed to be its parents (its predecessors in
a permutation), *grow-shrink* picks ``y``'s parents with the BIC score of
:mod:`ililab.scores.bic`:

* grow: starting from the required parents of ``y``, repeatedly add the ``x ∈ P`` whose
  addition gives the highest score, while that score is strictly higher than the current one
  (ties: the lowest variable index);
* shrink: repeatedly remove the non-required parent whose removal gives the highest score,
  while that score is strictly higher (ties: the earliest added).

Forbidden parents (``forbidden[x, y]``) are never candidates; ``max_parents`` (``-1`` for no
limit) stops the grow phase.

The grow path depends on ``P`` only through "the best candidate in ``P``" at each step, so it
is memoised in a *grow-shrink tree* per node (a forest over all nodes): a tree node is a
sequence of additions; when it is first reached, the scores of every possible next addition
are computed once (:func:`ililab.scores.bic.add_scores`) and its improving children are
stored sorted by score. Tracing ``y`` for a new ``P`` then walks the tree, taking at each level
the first child whose variable is in ``P`` — no score is recomputed. The shrink result of a
tree node is memoised too. This forest is the search's bounded score cache: it has a fixed
capacity (``capacity`` tree nodes); when it is full it is cleared and refilled (results do not
change, only time), and a trace that alone needs more than the capacity falls back to
:func:`grow_shrink_direct`.

Kernel API (shared by GRaSP and BOSS)
-------------------------------------
* ``ctx = make_context(score, forbidden, required, max_parents)`` — a tuple
  ``(cov, n, penalty, forbidden_u8, req, nreq, max_parents)``.
* ``forest = new_forest(p, capacity)`` (Python) then ``forest_init(forest, ctx)``.
* ``trace(forest, ctx, y, rank, limit, out) -> (score, k)`` — parents of ``y`` with
  ``P = {v : rank[v] < limit}`` written to ``out[:k]`` (required first, then in order of
  addition); ``score`` is ``y``'s local score with those parents. In a permutation search pass
  ``rank = pos`` (position of each node) and ``limit = pos[y]``.
* ``grow_shrink_direct(ctx, y, rank, limit, out)`` — the same result without memoisation.
* Hot loops: taking arrays out of a tuple costs an atomic reference-count update each time,
  which dominates a memoised trace (~10 ns). A loop tracing many nodes should take
  ``f_add, f_first, f_nch, f_shs, f_sho, f_shl, pool = forest[0], forest[4], forest[5],
  forest[6], forest[7], forest[8], forest[9]`` once and inline the fast path of :func:`trace`:
  ``node = walk(f_add, f_first, f_nch, y, rank, limit)``; if ``node >= 0 and f_sho[node] >= 0``
  the parents are ``pool[f_sho[node]:f_sho[node] + f_shl[node]]`` with score ``f_shs[node]``,
  else call ``trace_slow(forest, ctx, y, rank, limit, out)`` (see ``ililab.search.grasp._update``).
* ``forest[-1]`` is a statistics array, see ``STAT_*``.

:class:`GrowShrinkForest` wraps these for Python callers and tests.
"""

from __future__ import annotations

import logging
import os

import numpy as np
from numba import njit

from ililab.scores.bic import BICScore, add_scores, local_score, remove_scores

__all__ = [
    "GrowShrinkForest",
    "announce_compile",
    "make_context",
    "new_forest",
    "forest_init",
    "forest_clear",
    "trace",
    "walk",
    "trace_slow",
    "grow_shrink_direct",
    "STAT_NODES",
    "STAT_POOL",
    "STAT_CLEARS",
    "STAT_REJECTED",
    "STAT_EXPANSIONS",
    "STAT_SCORES",
    "STAT_FALLBACKS",
    "STAT_TRACES",
]

STAT_NODES = 0  # tree nodes in use
STAT_POOL = 1  # shrink-result pool entries in use
STAT_CLEARS = 2  # times the forest was full and cleared
STAT_REJECTED = 3  # candidate parent sets rejected as near-singular
STAT_EXPANSIONS = 4  # tree nodes expanded (score batches computed)
STAT_SCORES = 5  # local scores computed
STAT_FALLBACKS = 6  # traces done without the tree (capacity too small for one path)
STAT_TRACES = 7  # traces served

DEFAULT_CAPACITY = 1 << 20

log = logging.getLogger(__name__)


def announce_compile(label: str, *kernels) -> None:
    """Log at INFO that ``kernels`` are about to be compiled, when this process has not loaded
    them yet and Numba's on-disk cache has no index for them (the slow first run)."""
    if all(k.signatures for k in kernels):
        return
    try:
        cached = all(os.path.exists(k._cache._cache_file._index_path) for k in kernels)
    except AttributeError:  # caching disabled or a Numba without these internals
        cached = False
    if not cached:
        log.info("compiling the %s kernels (first run only, cached afterwards)", label)


def make_context(score: BICScore, forbidden=None, required=None, max_parents: int | None = None):
    """The constant inputs of the kernels as a tuple (see the module docstring).

    ``forbidden[x, y]`` / ``required[x, y]`` are boolean ``(p, p)`` matrices for ``x -> y``.
    """
    p = score.p
    f = np.zeros((p, p), dtype=np.uint8) if forbidden is None else np.asarray(forbidden, dtype=np.uint8)
    np.fill_diagonal(f, 1)
    req = np.zeros((p, p), dtype=np.int32)
    nreq = np.zeros(p, dtype=np.int64)
    if required is not None:
        r = np.asarray(required, dtype=bool)
        for y in range(p):
            parents = np.flatnonzero(r[:, y])
            req[y, : len(parents)] = parents
            nreq[y] = len(parents)
    mp = -1 if max_parents is None else int(max_parents)
    return (score.cov, float(score.n), float(score.penalty), np.ascontiguousarray(f), req, nreq, mp)


@njit(cache=True)
def new_forest(p, capacity):
    """Empty forest arrays for ``p`` nodes and ``capacity`` tree nodes (at least ``4p``)."""
    cap = max(capacity, 4 * p)
    return (
        np.empty(cap, dtype=np.int32),  # 0 add: variable added to reach the node (-1: root)
        np.empty(cap, dtype=np.int32),  # 1 up: parent tree node
        np.empty(cap, dtype=np.int32),  # 2 size: number of parents at the node
        np.empty(cap, dtype=np.float64),  # 3 score: grow score of the node
        np.empty(cap, dtype=np.int32),  # 4 first child
        np.empty(cap, dtype=np.int32),  # 5 number of children (-1: not expanded)
        np.empty(cap, dtype=np.float64),  # 6 shrink score
        np.empty(cap, dtype=np.int32),  # 7 shrink result offset in pool (-1: not computed)
        np.empty(cap, dtype=np.int32),  # 8 shrink result length
        np.empty(cap, dtype=np.int32),  # 9 pool of shrink results
        np.zeros(8, dtype=np.int64),  # 10 statistics
    )


@njit(cache=True, inline="always")
def forest_init(forest, ctx):
    """Create the root of every node's tree (its required parents) and reset the forest."""
    f_add, f_up, f_size, f_score, f_first, f_nch, f_shs, f_sho, f_shl, pool, st = forest
    cov, n, penalty, forb, req, nreq, mp = ctx
    p = cov.shape[0]
    for y in range(p):
        f_add[y] = -1
        f_up[y] = -1
        f_size[y] = nreq[y]
        f_score[y] = local_score(cov, n, penalty, y, req[y], nreq[y])
        f_nch[y] = -1
        f_sho[y] = -1
    st[STAT_NODES] = p
    st[STAT_POOL] = 0


@njit(cache=True, inline="always")
def forest_clear(forest, p):
    """Drop every memoised result except the roots (scores stay valid)."""
    f_add, f_up, f_size, f_score, f_first, f_nch, f_shs, f_sho, f_shl, pool, st = forest
    for y in range(p):
        f_nch[y] = -1
        f_sho[y] = -1
    st[STAT_NODES] = p
    st[STAT_POOL] = 0
    st[STAT_CLEARS] += 1


@njit(cache=True, inline="always")
def _path_set(forest, ctx, node, y, buf):
    """Write the parent set of tree ``node`` of ``y`` into ``buf`` (required first); return its size."""
    f_add, f_up, f_size = forest[0], forest[1], forest[2]
    req, nreq = ctx[4], ctx[5]
    k = np.int64(f_size[node])
    r = nreq[y]
    for a in range(r):
        buf[a] = req[y, a]
    t = k - 1
    while f_add[node] >= 0:
        buf[t] = f_add[node]
        t -= 1
        node = f_up[node]
    return k


@njit(cache=True, inline="always")
def _candidates(ctx, y, s, k, rank, limit, cand):
    """Admissible additions to ``s[:k]`` (all when ``limit < 0``), ascending; returns their count."""
    cov, forb, mp = ctx[0], ctx[3], ctx[6]
    p = cov.shape[0]
    m = np.int64(0)  # not a literal: a literal would type (and compile) add_scores once more
    if mp >= 0 and k >= mp:
        return m
    for v in range(p):
        if forb[v, y]:
            continue
        if limit >= 0 and rank[v] >= limit:
            continue
        inside = False
        for a in range(k):
            if s[a] == v:
                inside = True
                break
        if not inside:
            cand[m] = v
            m += 1
    return m


@njit(cache=True, inline="always")
def _sort_desc(scores, m):
    """Indices of ``scores[:m]`` by decreasing score, ties by increasing index.

    A stable sort (insertion sort of runs of 16, then bottom-up merges of (score, index) pairs):
    the same order as ``np.argsort(-scores[:m], kind="mergesort")``, without compiling it.
    """
    key = np.empty(m)
    idx = np.empty(m, dtype=np.int64)
    key2 = np.empty(m)
    idx2 = np.empty(m, dtype=np.int64)
    for a in range(m):
        key[a] = scores[a]
        idx[a] = a
    run = 16
    for lo in range(0, m, run):
        hi = min(lo + run, m)
        for a in range(lo + 1, hi):
            kv = key[a]
            iv = idx[a]
            b = a - 1
            while b >= lo and key[b] < kv:
                key[b + 1] = key[b]
                idx[b + 1] = idx[b]
                b -= 1
            key[b + 1] = kv
            idx[b + 1] = iv
    width = run
    while width < m:
        for lo in range(0, m, 2 * width):
            mid = min(lo + width, m)
            hi = min(lo + 2 * width, m)
            a = lo
            b = mid
            for t in range(lo, hi):
                if b < hi and (a >= mid or key[b] > key[a]):
                    key2[t] = key[b]
                    idx2[t] = idx[b]
                    b += 1
                else:
                    key2[t] = key[a]
                    idx2[t] = idx[a]
                    a += 1
        key, key2 = key2, key
        idx, idx2 = idx2, idx
        width *= 2
    return idx


@njit(cache=True)
def _expand(forest, ctx, node, y):
    """Compute and store the improving children of ``node``; False if the forest is full."""
    f_add, f_up, f_size, f_score, f_first, f_nch = forest[0], forest[1], forest[2], forest[3], forest[4], forest[5]
    f_sho, st = forest[7], forest[10]
    cov, n, penalty = ctx[0], ctx[1], ctx[2]
    p = cov.shape[0]
    cap = f_add.shape[0]
    s = np.empty(p, dtype=np.int32)
    cand = np.empty(p, dtype=np.int64)
    scores = np.empty(p)
    k = _path_set(forest, ctx, node, y, s)
    m = _candidates(ctx, y, s, k, s, -1, cand)
    st[STAT_REJECTED] += add_scores(cov, n, penalty, y, s, k, cand, m, scores)
    st[STAT_SCORES] += m
    base = f_score[node]
    keep = 0
    for t in range(m):
        if scores[t] > base:
            cand[keep] = cand[t]
            scores[keep] = scores[t]
            keep += 1
    first = st[STAT_NODES]
    if first + keep > cap:
        return False
    order = _sort_desc(scores, keep)
    for r in range(keep):
        c = first + r
        t = order[r]
        f_add[c] = cand[t]
        f_up[c] = node
        f_size[c] = k + 1
        f_score[c] = scores[t]
        f_nch[c] = -1
        f_sho[c] = -1
    f_first[node] = first
    f_nch[node] = keep
    st[STAT_NODES] = first + keep
    st[STAT_EXPANSIONS] += 1
    return True


@njit(cache=True, inline="always")
def _shrink_set(ctx, y, s, k, protected, current):
    """Backward elimination on ``s[:k]`` in place (``s[:protected]`` stay); returns (score, size)."""
    cov, n, penalty = ctx[0], ctx[1], ctx[2]
    tmp = np.empty(max(k, 1))
    while k > protected:
        remove_scores(cov, n, penalty, y, s, k, tmp)
        best = -1
        best_score = current
        for t in range(protected, k):
            if tmp[t] > best_score:
                best_score = tmp[t]
                best = t
        if best < 0:
            break
        for t in range(best, k - 1):
            s[t] = s[t + 1]
        k -= 1
        current = best_score
    return current, k


@njit(cache=True)
def _shrink(forest, ctx, node, y):
    """Memoise the shrink result of ``node``; False if the pool is full."""
    f_score, f_shs, f_sho, f_shl, pool, st = forest[3], forest[6], forest[7], forest[8], forest[9], forest[10]
    p = ctx[0].shape[0]
    s = np.empty(p, dtype=np.int32)
    k = _path_set(forest, ctx, node, y, s)
    score, k = _shrink_set(ctx, y, s, k, ctx[5][y], f_score[node])
    off = st[STAT_POOL]
    if off + k > pool.shape[0]:
        return False
    for a in range(k):
        pool[off + a] = s[a]
    f_shs[node] = score
    f_sho[node] = off
    f_shl[node] = k
    st[STAT_POOL] = off + k
    return True


@njit(cache=True)
def grow_shrink_direct(ctx, y, rank, limit, out):
    """Grow-shrink parents of ``y`` among ``{v : rank[v] < limit}`` without memoisation.

    Writes the parents into ``out`` and returns ``(score, k)``; identical to :func:`trace`.
    """
    cov, n, penalty, forb, req, nreq, mp = ctx
    p = cov.shape[0]
    s = np.empty(p, dtype=np.int32)
    cand = np.empty(p, dtype=np.int64)
    scores = np.empty(p)
    k = nreq[y]
    for a in range(k):
        s[a] = req[y, a]
    current = local_score(cov, n, penalty, y, s, k)
    while True:
        m = _candidates(ctx, y, s, k, rank, limit, cand)
        if m == 0:
            break
        add_scores(cov, n, penalty, y, s, k, cand, m, scores)
        best = -1
        best_score = current
        for t in range(m):
            if scores[t] > best_score:
                best_score = scores[t]
                best = t
        if best < 0:
            break
        s[k] = cand[best]
        k += 1
        current = best_score
    current, k = _shrink_set(ctx, y, s, k, nreq[y], current)
    for a in range(k):
        out[a] = s[a]
    return current, k


@njit(cache=True)
def walk(f_add, f_first, f_nch, y, rank, limit):
    """Follow ``y``'s tree as far as it is expanded; returns the node reached, or ``-node - 1``
    for an unexpanded node on the way."""
    node = y
    while True:
        count = f_nch[node]
        if count < 0:
            return -node - 1
        found = -1
        start = f_first[node]
        for c in range(start, start + count):
            if rank[f_add[c]] < limit:
                found = c
                break
        if found < 0:
            return node
        node = found


@njit(cache=True)
def trace_slow(forest, ctx, y, rank, limit, out):
    """:func:`trace` when the tree must grow: expands, shrinks, clears when full, falls back."""
    f_add, f_first, f_nch = forest[0], forest[4], forest[5]
    f_shs, f_sho, f_shl, pool, st = forest[6], forest[7], forest[8], forest[9], forest[10]
    p = ctx[0].shape[0]
    for _attempt in range(2):
        ok = True
        while True:
            node = walk(f_add, f_first, f_nch, y, rank, limit)
            if node >= 0:
                break
            if not _expand(forest, ctx, -node - 1, y):
                ok = False
                break
        if ok and f_sho[node] < 0:
            ok = _shrink(forest, ctx, node, y)
        if ok:
            off = f_sho[node]
            k = np.int64(f_shl[node])
            for a in range(k):
                out[a] = pool[off + a]
            return f_shs[node], k
        forest_clear(forest, p)
    st[STAT_FALLBACKS] += 1
    return grow_shrink_direct(ctx, y, rank, limit, out)


@njit(cache=True, inline="always")
def trace(forest, ctx, y, rank, limit, out):
    """Grow-shrink parents of ``y`` among ``{v : rank[v] < limit}``, memoised in ``forest``.

    Writes the parents into ``out[:k]`` and returns ``(score, k)``.
    """
    f_add, f_first, f_nch = forest[0], forest[4], forest[5]
    f_shs, f_sho, f_shl, pool, st = forest[6], forest[7], forest[8], forest[9], forest[10]
    st[STAT_TRACES] += 1
    node = walk(f_add, f_first, f_nch, y, rank, limit)
    if node < 0 or f_sho[node] < 0:
        return trace_slow(forest, ctx, y, rank, limit, out)
    off = f_sho[node]
    k = np.int64(f_shl[node])
    for a in range(k):
        out[a] = pool[off + a]
    return f_shs[node], k


class GrowShrinkForest:
    """Python access to a memoised grow-shrink forest (for tests and Python-level searches).

    Parameters
    ----------
    score : BICScore
    forbidden, required : bool ndarray (p, p), optional
        ``[x, y]`` True when ``x -> y`` is forbidden / required.
    max_parents : int, optional
    capacity : int
        Maximum number of tree nodes kept (the cache bound).
    """

    def __init__(self, score: BICScore, forbidden=None, required=None, max_parents=None, capacity=DEFAULT_CAPACITY):
        self.score = score
        self.ctx = make_context(score, forbidden, required, max_parents)
        self.forest = new_forest(score.p, int(capacity))
        forest_init(self.forest, self.ctx)

    def _rank(self, predecessors):
        rank = np.ones(self.score.p, dtype=np.int64)
        rank[np.asarray(list(predecessors), dtype=np.int64)] = 0
        return rank

    def trace(self, y: int, predecessors) -> tuple[float, list[int]]:
        """(score, parents) of ``y`` when its parents may be chosen among ``predecessors``."""
        out = np.empty(self.score.p, dtype=np.int32)
        score, k = trace(self.forest, self.ctx, int(y), self._rank(predecessors), 1, out)
        return float(score), sorted(out[:k].tolist())

    def direct(self, y: int, predecessors) -> tuple[float, list[int]]:
        """Same as :meth:`trace`, computed without the tree."""
        out = np.empty(self.score.p, dtype=np.int32)
        score, k = grow_shrink_direct(self.ctx, int(y), self._rank(predecessors), 1, out)
        return float(score), sorted(out[:k].tolist())

    def stats(self) -> dict[str, int]:
        """Counters of the forest (nodes, clears, rejected parent sets, expansions, ...)."""
        names = ["nodes", "pool", "clears", "rejected", "expansions", "scores", "fallbacks", "traces"]
        return dict(zip(names, (int(v) for v in self.forest[-1])))
