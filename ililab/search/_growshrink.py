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
are computed once (:func:`ililab.scores.kernels.add_scores`) and its improving children are
stored sorted by score. Tracing ``y`` for a new ``P`` then walks the tree, taking at each level
the first child whose variable is in ``P`` — no score is recomputed. The shrink result of a
tree node is memoised too. This forest is the search's bounded score cache: it has a fixed
capacity (``capacity`` tree nodes, at least ``p²``, which one trace never exceeds); when it is
full it is cleared and refilled (results do not change, only time).
:func:`grow_shrink_direct` computes the same result without memoisation (for tests).

Kernel API (shared by GRaSP and BOSS)
-------------------------------------
The kernels take every array as a separate argument (no tuples) and allocate nothing; they are
compiled without reference counting (``_nrt=False``). Three Python tuples group the arguments,
and Python callers pass them unpacked (``kernel(*forest, *ctx, ..., *work)``):

* ``ctx = make_context(score, forbidden, required, max_parents)`` —
  ``(cov, n, penalty, forb, req, nreq, max_parents)``.
* ``forest = new_forest(p, capacity)`` — ``(fi, ff, pool, stats)``: ``fi`` int32 with rows
  ``F_ADD, F_UP, F_SIZE, F_FIRST, F_NCH, F_SHO, F_SHL`` and ``ff`` float64 with rows
  ``F_SCORE, F_SHS``, one column per tree node; ``stats`` see ``STAT_*``.
  ``forest_init(*forest, *ctx, *work)`` creates the roots (the search kernels call it
  themselves on a forest with ``stats[STAT_NODES] == 0``, as :func:`new_forest` makes it).
* ``work = new_work(p)`` — ``(iw, fw, sw, mat)`` scratch of the kernels.
* ``trace_node(trace_addr, *forest, *ctx, y, rank, limit, *work) -> node`` (inlined into
  kernels) — the tree node holding the grow-shrink result of ``y`` for
  ``P = {v : rank[v] < limit}``: parents ``pool[fi[F_SHO, node]:][:fi[F_SHL, node]]`` (required
  first, then in order of addition; :func:`copy_parents`) and score ``ff[F_SHS, node]``. In a
  permutation search pass ``rank = pos`` (position of each node) and ``limit = pos[y]``. A
  memoised result is found by :func:`walk`; otherwise the tree grows in a C callback compiled once
  and shared by every search (``trace_addr = trace_address()``, passed in at run time; see
  :mod:`ililab.search._ccall` for why).
* ``walk`` and ``grow_shrink_direct`` are callable from kernels only (compiled without Python
  entry points, see :data:`ililab.scores.kernels.KERNEL_ONLY`); ``trace_kernel`` and ``direct_kernel``
  are the Python entry points.

:class:`GrowShrinkForest` wraps these for Python callers and tests.
"""

from __future__ import annotations

import functools
import logging
import os

import numpy as np
from numba import carray, cfunc, njit, types

from ililab.scores.bic import BICScore
from ililab.scores.kernels import KERNEL_ONLY, add_scores_ws, new_scratch, remove_scores_ws, score_ws
from ililab.search._ccall import address, c_caller

__all__ = [
    "GrowShrinkForest",
    "announce_compile",
    "in_disk_cache",
    "make_context",
    "new_forest",
    "new_work",
    "dag_from_parents",
    "trace_kernel",
    "direct_kernel",
    "forest_init",
    "forest_clear",
    "trace_address",
    "trace_cfunc_ready",
    "check_no_fallback",
    "trace_node",
    "copy_parents",
    "walk",
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
STAT_FALLBACKS = 6  # traces that did not fit in the forest (cannot happen: see new_forest)
STAT_TRACES = 7  # traces served to Python callers (trace_kernel; the searches do not count theirs)

# rows of the forest's int32 array ``fi`` (one column per tree node)
F_ADD = 0  # variable added to reach the node (-1: root)
F_UP = 1  # parent tree node
F_SIZE = 2  # number of parents at the node
F_FIRST = 3  # first child
F_NCH = 4  # number of children (-1: not expanded)
F_SHO = 5  # shrink result offset in the pool (-1: not computed)
F_SHL = 6  # shrink result length
# rows of the forest's float64 array ``ff``
F_SCORE = 0  # grow score of the node
F_SHS = 1  # shrink score

DEFAULT_CAPACITY = 1 << 20

log = logging.getLogger(__name__)
COMPILE_LOGGER = "ililab.compile"  # a stable name the CLI raises to INFO so the first, slow run is announced


def in_disk_cache(kernel) -> bool:
    """Whether Numba's on-disk cache has an index for the ``@njit`` function ``kernel`` (False
    when caching is disabled or this Numba lacks the internals used)."""
    try:
        return os.path.exists(kernel._cache._cache_file._index_path)
    except AttributeError:
        return False


def announce_compile(label: str, *kernels) -> None:
    """Log at INFO that ``kernels`` are about to be compiled, when this process has not loaded
    them yet and Numba's on-disk cache has no index for them (the slow first run)."""
    if all(k.signatures for k in kernels):
        return
    if not all(in_disk_cache(k) for k in kernels):
        logging.getLogger(COMPILE_LOGGER).info("compiling the %s kernels (first run only, cached afterwards)", label)


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


def new_forest(p: int, capacity: int):
    """Empty forest arrays ``(fi, ff, pool, stats)`` for ``p`` nodes and ``capacity`` tree nodes;
    see the ``F_*`` row indices.

    The capacity is raised to at least ``p²``: after a clear, one trace expands at most ``p``
    tree nodes along its path, the one at depth ``k`` adding at most ``p - 1 - k`` children, so
    ``p + p(p - 1)/2 <= p²`` nodes always suffice and a trace never needs an unmemoised fallback.
    """
    p = int(p)
    cap = max(int(capacity), p * p, 4 * p)
    return (
        np.empty((7, cap), dtype=np.int32),
        np.empty((2, cap), dtype=np.float64),
        np.empty(cap, dtype=np.int32),  # pool of shrink results
        np.zeros(8, dtype=np.int64),  # statistics, see STAT_*
    )


def dag_from_parents(par: np.ndarray, npar: np.ndarray) -> np.ndarray:
    """Boolean adjacency ``[i, j]`` for ``i -> j`` of the parent lists ``par[j, :npar[j]]``."""
    p = len(npar)
    dag = np.zeros((p, p), dtype=bool)
    for v in range(p):
        dag[par[v, : npar[v]], v] = True
    return dag


def new_work(p: int):
    """Scratch arrays ``(iw, fw, sw, mat)`` of the grow-shrink kernels for ``p`` variables."""
    p = max(int(p), 1)
    mat, _, _ = new_scratch(p)
    return np.empty((3, p), dtype=np.int64), np.empty((7, p)), np.empty((2, p), dtype=np.int32), mat


@njit(cache=True, _nrt=False, inline="always")
def forest_init(fi, ff, pool, st, cov, n, penalty, forb, req, nreq, mp, iw, fw, sw, mat):
    """Create the root of every node's tree (its required parents) and reset the forest.

    Inlined into the search kernels, which call it on a new forest (``st[STAT_NODES] == 0``),
    so that the search needs no separate compiled entry point for it.
    """
    p = cov.shape[0]
    for y in range(p):
        fi[F_ADD, y] = -1
        fi[F_UP, y] = -1
        fi[F_SIZE, y] = nreq[y]
        ff[F_SCORE, y] = score_ws(cov, n, penalty, y, req[y], nreq[y], mat, fw)
        fi[F_NCH, y] = -1
        fi[F_SHO, y] = -1
    st[STAT_NODES] = p
    st[STAT_POOL] = 0


@njit(cache=True, inline="always")
def forest_clear(fi, st, p):
    """Drop every memoised result except the roots (scores stay valid)."""
    for y in range(p):
        fi[F_NCH, y] = -1
        fi[F_SHO, y] = -1
    st[STAT_NODES] = p
    st[STAT_POOL] = 0
    st[STAT_CLEARS] += 1


@njit(**KERNEL_ONLY)
def _path_set(fi, req, nreq, node, y, buf):
    """Write the parent set of tree ``node`` of ``y`` into ``buf`` (required first); return its size."""
    k = np.int64(fi[F_SIZE, node])
    r = nreq[y]
    for a in range(r):
        buf[a] = req[y, a]
    t = k - 1
    while fi[F_ADD, node] >= 0:
        buf[t] = fi[F_ADD, node]
        t -= 1
        node = fi[F_UP, node]
    return k


@njit(cache=True, inline="always")
def _candidates(forb, mp, y, s, k, rank, limit, cand):
    """Admissible additions to ``s[:k]`` (all when ``limit < 0``), ascending; returns their count."""
    p = forb.shape[0]
    m = np.int64(0)
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
def _sort_desc(scores, m, idx):
    """``idx[:m]`` = indices of ``scores[:m]`` by decreasing score, ties by increasing index.

    A stable insertion sort: the order of ``np.argsort(-scores[:m], kind="stable")`` without
    compiling it (``m`` is the number of improving additions of a tree node, mostly small).
    """
    for a in range(m):
        value = scores[a]
        b = a - 1
        while b >= 0 and scores[idx[b]] < value:
            idx[b + 1] = idx[b]
            b -= 1
        idx[b + 1] = a


@njit(cache=True, inline="always")
def _expand(fi, ff, st, cov, n, penalty, forb, req, nreq, mp, node, y, iw, fw, sw, mat):
    """Compute and store the improving children of ``node``; False if the forest is full."""
    cap = fi.shape[1]
    s = sw[0]
    cand = iw[0]
    scores = fw[3]
    k = _path_set(fi, req, nreq, node, y, s)
    m = _candidates(forb, mp, y, s, k, s, -1, cand)
    st[STAT_REJECTED] += add_scores_ws(cov, n, penalty, y, s, k, cand, m, scores, mat, fw)
    st[STAT_SCORES] += m
    base = ff[F_SCORE, node]
    keep = 0
    for t in range(m):
        if scores[t] > base:
            cand[keep] = cand[t]
            scores[keep] = scores[t]
            keep += 1
    first = st[STAT_NODES]
    if first + keep > cap:
        return False
    order = iw[1]
    _sort_desc(scores, keep, order)
    for r in range(keep):
        c = first + r
        t = order[r]
        fi[F_ADD, c] = cand[t]
        fi[F_UP, c] = node
        fi[F_SIZE, c] = k + 1
        ff[F_SCORE, c] = scores[t]
        fi[F_NCH, c] = -1
        fi[F_SHO, c] = -1
    fi[F_FIRST, node] = first
    fi[F_NCH, node] = keep
    st[STAT_NODES] = first + keep
    st[STAT_EXPANSIONS] += 1
    return True


@njit(cache=True, inline="always")
def _shrink_set(cov, n, penalty, y, s, k, protected, current, fw, sub, mat):
    """Backward elimination on ``s[:k]`` in place (``s[:protected]`` stay); returns (score, size)."""
    tmp = fw[6]
    while k > protected:
        remove_scores_ws(cov, n, penalty, y, s, k, tmp, mat, fw, sub)
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


@njit(cache=True, inline="always")
def _shrink(fi, ff, pool, st, cov, n, penalty, req, nreq, node, y, fw, sw, mat):
    """Memoise the shrink result of ``node``; False if the pool is full."""
    s = sw[0]
    k = _path_set(fi, req, nreq, node, y, s)
    score, k = _shrink_set(cov, n, penalty, y, s, k, nreq[y], ff[F_SCORE, node], fw, sw[1], mat)
    off = st[STAT_POOL]
    if off + k > pool.shape[0]:
        return False
    for a in range(k):
        pool[off + a] = s[a]
    ff[F_SHS, node] = score
    fi[F_SHO, node] = off
    fi[F_SHL, node] = k
    st[STAT_POOL] = off + k
    return True


@njit(**KERNEL_ONLY)
def grow_shrink_direct(cov, n, penalty, forb, req, nreq, mp, y, rank, limit, out, iw, fw, sw, mat):
    """Grow-shrink parents of ``y`` among ``{v : rank[v] < limit}`` without memoisation.

    Writes the parents into ``out`` and returns ``(score, k)``; identical to :func:`trace`.
    """
    s = sw[0]
    cand = iw[0]
    scores = fw[3]
    k = nreq[y]
    for a in range(k):
        s[a] = req[y, a]
    current = score_ws(cov, n, penalty, y, s, k, mat, fw)
    while True:
        m = _candidates(forb, mp, y, s, k, rank, limit, cand)
        if m == 0:
            break
        add_scores_ws(cov, n, penalty, y, s, k, cand, m, scores, mat, fw)
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
    current, k = _shrink_set(cov, n, penalty, y, s, k, nreq[y], current, fw, sw[1], mat)
    for a in range(k):
        out[a] = s[a]
    return current, k


@njit(**KERNEL_ONLY)
def walk(f_add, f_first, f_nch, y, rank, limit):
    """Follow ``y``'s tree as far as it is expanded; returns the node reached, or ``-node - 1``
    for an unexpanded node on the way (``f_*`` are the rows ``fi[F_ADD]``, ``fi[F_FIRST]``,
    ``fi[F_NCH]``)."""
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


@njit(cache=True, inline="always")
def _grow_tree(fi, ff, pool, st, cov, n, penalty, forb, req, nreq, mp, y, rank, limit, iw, fw, sw, mat):
    """The tree node of ``y`` for ``P = {v : rank[v] < limit}``, expanded and shrunk as needed
    (clears a full forest once; ``-1`` only if one trace needs more than the whole capacity,
    which :func:`new_forest`'s minimum capacity rules out)."""
    p = cov.shape[0]
    f_add = fi[F_ADD]
    f_first = fi[F_FIRST]
    f_nch = fi[F_NCH]
    for _attempt in range(2):
        ok = True
        while True:
            node = walk(f_add, f_first, f_nch, y, rank, limit)
            if node >= 0:
                break
            if not _expand(fi, ff, st, cov, n, penalty, forb, req, nreq, mp, -node - 1, y, iw, fw, sw, mat):
                ok = False
                break
        if ok and fi[F_SHO, node] < 0:
            ok = _shrink(fi, ff, pool, st, cov, n, penalty, req, nreq, node, y, fw, sw, mat)
        if ok:
            return node
        forest_clear(fi, st, p)
    st[STAT_FALLBACKS] += 1
    return -1


def _trace_c(fi_p, ff_p, pool_p, st_p, cap, cov_p, p, n, penalty, forb_p, req_p, nreq_p, mp, y, rank_p, limit,
             iw_p, fw_p, sw_p, mat_p):  # fmt: skip
    """:func:`_grow_tree` over raw pointers: the C callback behind :func:`trace_address`."""
    q = max(p, 1)
    return _grow_tree(
        carray(fi_p, (7, cap)), carray(ff_p, (2, cap)), carray(pool_p, cap), carray(st_p, 8),
        carray(cov_p, (p, p)), n, penalty, carray(forb_p, (p, p)), carray(req_p, (p, p)), carray(nreq_p, p), mp,
        y, carray(rank_p, p), limit,
        carray(iw_p, (3, q)), carray(fw_p, (7, q)), carray(sw_p, (2, q)), carray(mat_p, 3 * q * q),
    )  # fmt: skip


_P_I32 = types.CPointer(types.int32)
_P_I64 = types.CPointer(types.int64)
_P_F64 = types.CPointer(types.float64)
_TRACE_SIGNATURE = types.int64(
    _P_I32, _P_F64, _P_I32, _P_I64, types.int64, _P_F64, types.int64, types.float64, types.float64,
    types.CPointer(types.uint8), _P_I32, _P_I64, types.int64, types.int64, _P_I64, types.int64,
    _P_I64, _P_F64, _P_I32, _P_F64,
)  # fmt: skip


_call_trace = c_caller(_TRACE_SIGNATURE)


@functools.cache
def _trace_cfunc():
    # built on first use, not at import: compiling (or loading from the cache) costs time
    return cfunc(_TRACE_SIGNATURE, cache=True)(_trace_c)


def check_no_fallback(fallbacks: int) -> int:
    """Raise if a trace did not fit in the forest (impossible with :func:`new_forest`'s minimum
    capacity: the kernels then read no result); returns ``fallbacks`` (0)."""
    if fallbacks:
        raise RuntimeError(f"internal error: {fallbacks} grow-shrink traces did not fit in the forest")
    return fallbacks


def trace_cfunc_ready() -> bool:
    """Whether :func:`trace_address` is cheap: built in this process, or in Numba's on-disk cache."""
    if _trace_cfunc.cache_info().currsize:
        return True
    try:
        from numba.core.caching import FunctionCache

        return os.path.exists(FunctionCache(_trace_c)._cache_file._index_path)
    except (ImportError, AttributeError):  # a Numba without these internals: do not guess "cold"
        return True


def trace_address() -> int:
    """Address of the compiled grow-shrink step (``trace_addr`` of :func:`trace_node`).

    The first call in a process compiles it, or loads it from Numba's on-disk cache.
    """
    return _trace_cfunc().address


@njit(cache=True, inline="always")
def trace_node(trace_addr, fi, ff, pool, st, cov, n, penalty, forb, req, nreq, mp, y, rank, limit, iw, fw, sw, mat):
    """The tree node holding the grow-shrink result of ``y`` for ``P = {v : rank[v] < limit}``.

    Its parents are ``pool[fi[F_SHO, node]:][:fi[F_SHL, node]]`` (required first, then in order
    of addition) and its score ``ff[F_SHS, node]``. A memoised result is found by :func:`walk`;
    otherwise the compiled step at ``trace_addr`` (:func:`trace_address`) grows the tree.
    ``rank`` is int64; every array C-contiguous.
    """
    node = walk(fi[F_ADD], fi[F_FIRST], fi[F_NCH], y, rank, limit)
    if node >= 0 and fi[F_SHO, node] >= 0:
        return node
    return _call_trace(
        trace_addr,
        (
            address(fi), address(ff), address(pool), address(st), np.int64(fi.shape[1]),
            address(cov), np.int64(cov.shape[0]), n, penalty, address(forb), address(req), address(nreq), mp,
            np.int64(y), address(rank), np.int64(limit), address(iw), address(fw), address(sw), address(mat),
        ),
    )  # fmt: skip


@njit(cache=True, inline="always")
def copy_parents(fi, pool, node, out):
    """Copy the parents held by tree ``node`` into ``out``; returns their number."""
    off = fi[F_SHO, node]
    k = np.int64(fi[F_SHL, node])
    for a in range(k):
        out[a] = pool[off + a]
    return k


@njit(cache=True, _nrt=False)
def direct_kernel(cov, n, penalty, forb, req, nreq, mp, y, rank, limit, out, iw, fw, sw, mat):
    """:func:`grow_shrink_direct` as a compiled function for Python callers."""
    return grow_shrink_direct(cov, n, penalty, forb, req, nreq, mp, y, rank, limit, out, iw, fw, sw, mat)


@njit(cache=True, _nrt=False)
def trace_kernel(trace_addr, fi, ff, pool, st, cov, n, penalty, forb, req, nreq, mp, y, rank, limit, out, iw, fw, sw, mat):
    """:func:`trace_node` for Python callers: parents into ``out``, returns ``(score, k)``."""
    st[STAT_TRACES] += 1
    node = trace_node(trace_addr, fi, ff, pool, st, cov, n, penalty, forb, req, nreq, mp, y, rank, limit, iw, fw, sw, mat)
    return ff[F_SHS, node], copy_parents(fi, pool, node, out)


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
        self.work = new_work(score.p)
        forest_init(*self.forest, *self.ctx, *self.work)

    def _rank(self, predecessors):
        rank = np.ones(self.score.p, dtype=np.int64)
        rank[np.asarray(list(predecessors), dtype=np.int64)] = 0
        return rank

    def trace(self, y: int, predecessors) -> tuple[float, list[int]]:
        """(score, parents) of ``y`` when its parents may be chosen among ``predecessors``."""
        out = np.empty(self.score.p, dtype=np.int32)
        score, k = trace_kernel(trace_address(), *self.forest, *self.ctx, int(y), self._rank(predecessors), 1, out, *self.work)
        return float(score), sorted(out[:k].tolist())

    def direct(self, y: int, predecessors) -> tuple[float, list[int]]:
        """Same as :meth:`trace`, computed without the tree."""
        out = np.empty(self.score.p, dtype=np.int32)
        score, k = direct_kernel(*self.ctx, int(y), self._rank(predecessors), 1, out, *self.work)
        return float(score), sorted(out[:k].tolist())

    def stats(self) -> dict[str, int]:
        """Counters of the forest (nodes, clears, rejected parent sets, expansions, ...)."""
        names = ["nodes", "pool", "clears", "rejected", "expansions", "scores", "fallbacks", "traces"]
        return dict(zip(names, (int(v) for v in self.forest[-1])))
