"""GRaSP: Greedy Relaxations of the Sparsest Permutation (Lam, Andrews & Ramsey, UAI 2022).

A permutation search over a covariance matrix. Given an order ``π`` of the variables, each
node's parents are chosen by grow-shrink among its predecessors
(:mod:`ililab.search._growshrink`); the score of ``π`` is the total BIC of that DAG. The
search improves ``π`` by *tucks*: for an edge ``x -> y``, move ``y`` (and those of its
ancestors lying between ``x`` and ``y``) to just before ``x``, then re-select the parents of
every node between the two positions. A depth-first search over sequences of tucks accepts
the first sequence that raises the score by more than ``tol`` and starts again; it stops when
no sequence up to ``depth`` tucks does.

Which tucks (the paper's GRaSP0/1/2; Tetrad's ``uncoveredDepth`` / ``nonSingularDepth``)
-------------------------------------------------------------------------------------------
* ``"covered"``  — GRaSP0: only covered tucks (``x -> y`` with ``pa(y) = pa(x) ∪ {x}``), at
  every level of the DFS.
* ``"singular"`` — GRaSP1: at the first level also uncovered tucks that are *singular* (no
  moved ancestor of ``y`` other than ``y`` is a child of ``x``); deeper levels covered only.
* ``"all"``      — GRaSP2: at the first level any tuck; deeper levels covered only. This is
  what causal-learn's ``grasp`` does (its ``depth`` is our ``depth``).

With ``ordered=True`` the search runs GRaSP0 to convergence, then GRaSP1, then GRaSP2 (up to
the chosen kind), as Tetrad's ``ordered`` option does; each later stage starts from the
previous stage's order. A DFS level tucks only edges whose score change is within ``tol`` of
zero before going deeper, and never reverses a pair already tucked on the current DFS path.

Randomness and restarts
-----------------------
Restart ``r`` starts from a random order (a random linear extension of the knowledge's order
constraints) and shuffles the nodes and parents it visits, with a random stream derived from
``(seed, r)`` only. The best total score over restarts wins (the first on ties), so
``restarts=K+1`` is never worse than ``restarts=K`` with the same seed, and results are
deterministic for a seed.

Knowledge
---------
Forbidden edges are never candidates in grow-shrink. A required edge ``x -> y`` makes ``x``
a parent of ``y`` in every grow-shrink tree (never removed) and forces ``x`` before ``y`` in
every order; tiers force nodes of earlier tiers before nodes of later tiers. Tucks that would
break these order constraints are skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ililab.scores.bic import BICScore, local_score
from ililab.search._growshrink import (
    DEFAULT_CAPACITY,
    STAT_CLEARS,
    STAT_FALLBACKS,
    STAT_REJECTED,
    announce_compile,
    forest_init,
    make_context,
    new_forest,
    trace_slow,
    walk,
)

__all__ = ["GraspResult", "grasp_search", "TUCKS", "DEFAULT_RESTARTS", "DEFAULT_DEPTH"]

log = logging.getLogger(__name__)

#: Tuck kinds, by GRaSP variant (0, 1, 2).
TUCKS = ("covered", "singular", "all")
DEFAULT_DEPTH = 3
DEFAULT_RESTARTS = 4

_MASK64 = (1 << 64) - 1

# indices of the search statistics array
_S_TUCKS = 0
_S_IMPROVEMENTS = 1
_S_DFS_CALLS = 2
_S_TRACED = 3


# -- random numbers (splitmix64; the same on every platform) -------------------------------


@njit(cache=True, inline="always")
def _next(rng):
    z = rng[0] + np.uint64(0x9E3779B97F4A7C15)
    rng[0] = z
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _below(rng, m):
    """Uniform integer in [0, m)."""
    return np.int64((_next(rng) >> np.uint64(11)) % np.uint64(m))


@njit(cache=True, inline="always")
def _shuffle(rng, a, m):
    for t in range(m - 1, 0, -1):
        u = _below(rng, t + 1)
        tmp = a[t]
        a[t] = a[u]
        a[u] = tmp


@njit(cache=True, inline="always")
def _random_order(rng, prec, has_prec):
    """A uniformly random permutation, or a random linear extension of ``prec`` (a must precede b)."""
    p = prec.shape[0]
    order = np.arange(p)
    if not has_prec:
        _shuffle(rng, order, p)
        return order
    indeg = np.zeros(p, dtype=np.int64)
    for a in range(p):
        for b in range(p):
            if prec[a, b]:
                indeg[b] += 1
    ready = np.empty(p, dtype=np.int64)
    m = 0
    for v in range(p):
        if indeg[v] == 0:
            ready[m] = v
            m += 1
    for t in range(p):
        u = _below(rng, m)
        v = ready[u]
        ready[u] = ready[m - 1]
        m -= 1
        order[t] = v
        for b in range(p):
            if prec[v, b]:
                indeg[b] -= 1
                if indeg[b] == 0:
                    ready[m] = b
                    m += 1
    return order


# -- the search ------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _new_state(p, depth):
    return (
        np.arange(p),  # 0 pi: node at each position
        np.arange(p),  # 1 pos: position of each node
        np.zeros((p, p), dtype=np.int32),  # 2 par: parents of each node
        np.zeros(p, dtype=np.int64),  # 3 npar
        np.zeros(p),  # 4 loc: local scores
        np.zeros((depth + 1, p), dtype=np.int64),  # 5 saved pi segment per level
        np.zeros((depth + 1, p), dtype=np.int64),  # 6 saved npar
        np.zeros((depth + 1, p)),  # 7 saved local scores
        np.zeros((depth + 1, p, p), dtype=np.int32),  # 8 saved parents
        np.zeros(p, dtype=np.int64),  # 9 mark (stamps)
        np.zeros(1, dtype=np.int64),  # 10 stamp counter
        np.full(depth + 1, -1, dtype=np.int64),  # 11 path: tucked x per level
        np.full(depth + 1, -1, dtype=np.int64),  # 12 path: tucked y per level
        np.zeros(4, dtype=np.int64),  # 13 statistics
        np.zeros((depth + 1, max(p * (p - 1) // 2, 1), 2), dtype=np.int32),  # 14 edges to try per level
        np.zeros((depth + 1, 4), dtype=np.int64),  # 15 per level: #edges, next, j, i
        np.zeros((2, p + 1), dtype=np.uint64),  # 16 hashes of the set of nodes before each position
    )


@njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _new_memo(p):
    """The segment-score memo (see below): keys, values, counters, node hashes, powers."""
    bits = 12
    while (1 << bits) < 2 * p * p and bits < 20:
        bits += 1
    size = 1 << bits
    node_hashes = np.empty((4, p), dtype=np.uint64)
    for h in range(4):
        for v in range(p):
            node_hashes[h, v] = _mix(np.uint64(v) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(0x243F6A8885A308D3 + h))
    powers = np.empty((2, p + 1), dtype=np.uint64)
    bases = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xD1B54A32D192ED03))
    for h in range(2):
        value = np.uint64(1)
        for t in range(p + 1):
            powers[h, t] = value
            value = value * bases[h]
    return (
        np.zeros((size, 2), dtype=np.uint64),
        np.empty(size, dtype=np.float64),
        np.zeros(4, dtype=np.int64),
        node_hashes,
        powers,
    )


# -- the segment memo ------------------------------------------------------------------------
#
# After a tuck on positions j..i, the parents (and scores) of the nodes there depend only on the
# set of nodes before j and on the new sequence at j..i (grow-shrink of the node at k draws from
# the nodes before k). So the new total score of the segment is memoised under a 128-bit key
# made of a hash of the set before j (XOR of random node hashes, kept per position in ``ph``)
# and a polynomial hash of the sequence. A tuck whose memoised outcome is a loss, or a tie at the
# last DFS level, is skipped without re-tracing anything: the search makes the same decisions.


@njit(cache=True, inline="always")
def _prefix_hashes(pi, ph, nh, a, b):
    """Recompute the prefix-set hashes at positions a+1..b from the order."""
    for k in range(a + 1, b + 1):
        v = pi[k - 1]
        ph[0, k] = ph[0, k - 1] ^ nh[0, v]
        ph[1, k] = ph[1, k - 1] ^ nh[1, v]


@njit(cache=True, inline="always")
def _memo_slot(memo, k1, k2):
    """Slot holding (k1, k2), or -(free slot) - 1 for inserting it."""
    keys = memo[0]
    mask = keys.shape[0] - 1
    home = np.int64(k1 & np.uint64(mask))
    free = -1
    for t in range(8):
        s = (home + t) & mask
        if keys[s, 0] == k1 and keys[s, 1] == k2:
            return s
        if keys[s, 0] == 0:
            free = s
            break
    if free < 0:
        free = home
    return -free - 1


@njit(cache=True, inline="always")
def _update(forest, ctx, st, j, i):
    """Re-select the parents of the nodes at positions j..i; return their new total score."""
    pi, pos, par, npar, loc = st[0], st[1], st[2], st[3], st[4]
    # the memoised fast path of `trace`, inlined (arrays taken out of the tuple once)
    f_add, f_first, f_nch, f_shs, f_sho, f_shl, pool = (
        forest[0], forest[4], forest[5], forest[6], forest[7], forest[8], forest[9]
    )
    total = 0.0
    for k in range(j, i + 1):
        z = pi[k]
        node = walk(f_add, f_first, f_nch, z, pos, k)
        if node >= 0 and f_sho[node] >= 0:
            off = f_sho[node]
            kk = f_shl[node]
            for a in range(kk):
                par[z, a] = pool[off + a]
            score = f_shs[node]
        else:
            score, kk = trace_slow(forest, ctx, z, pos, k, par[z])
        npar[z] = kk
        loc[z] = score
        total += score
    return total


@njit(cache=True, inline="always")
def _save(st, level, j, i):
    pi, par, npar, loc = st[0], st[2], st[3], st[4]
    sv_pi, sv_np, sv_loc, sv_par = st[5], st[6], st[7], st[8]
    for t in range(i - j + 1):
        z = pi[j + t]
        sv_pi[level, t] = z
        sv_np[level, t] = npar[z]
        sv_loc[level, t] = loc[z]
        for a in range(npar[z]):
            sv_par[level, t, a] = par[z, a]


@njit(cache=True, inline="always")
def _restore(st, level, j, i):
    pi, pos, par, npar, loc = st[0], st[1], st[2], st[3], st[4]
    sv_pi, sv_np, sv_loc, sv_par = st[5], st[6], st[7], st[8]
    for t in range(i - j + 1):
        z = sv_pi[level, t]
        pi[j + t] = z
        pos[z] = j + t
        npar[z] = sv_np[level, t]
        loc[z] = sv_loc[level, t]
        for a in range(npar[z]):
            par[z, a] = sv_par[level, t, a]


@njit(cache=True, inline="always")
def _covered(par, npar, mark, stamp, x, y):
    """Whether ``x -> y`` is covered: pa(y) = pa(x) ∪ {x}."""
    if npar[y] != npar[x] + 1:
        return False
    stamp[0] += 1
    s = stamp[0]
    for a in range(npar[y]):
        mark[par[y, a]] = s
    for a in range(npar[x]):
        if mark[par[x, a]] != s:
            return False
    return True


@njit(cache=True, inline="always")
def _candidates_at(st, rng, cand, level):
    """Fill ``cand[level]`` with the edges (x, y) of the current DAG, nodes and parents shuffled."""
    pi, par, npar = st[0], st[2], st[3]
    p = pi.shape[0]
    nodes = np.arange(p)
    _shuffle(rng, nodes, p)
    buf = np.empty(p, dtype=np.int32)
    e = 0
    for q in range(p):
        y = nodes[q]
        m = npar[y]
        for a in range(m):
            buf[a] = par[y, a]
        _shuffle(rng, buf, m)
        for a in range(m):
            cand[level, e, 0] = buf[a]
            cand[level, e, 1] = y
            e += 1
    return e


@njit(cache=True)
def _grasp_once(forest, ctx, st, memo, prec, has_prec, rng, depth, first_variant, last_variant, tol):
    """One GRaSP run from a random order; returns the total score (state holds the DAG).

    The depth-first search over sequences of tucks is iterative: a DFS accepts the first
    sequence that raises the score by more than ``tol`` (the improved state is kept) and the
    next DFS starts; when a DFS improves nothing, every tuck it tried has been undone. It is
    written in this one function on purpose: a separate compiled function (or one inlined by
    Numba) would be compiled twice as long.
    """
    pi, pos, par, npar, loc, mark, stamp = st[0], st[1], st[2], st[3], st[4], st[9], st[10]
    path_x, path_y, stats, cand, lvl, ph = st[11], st[12], st[13], st[14], st[15], st[16]
    mkeys, mvals, mstats, nh, pw = memo
    p = pi.shape[0]
    stack = np.empty(p, dtype=np.int64)
    seg = np.empty(p, dtype=np.int64)
    order = _random_order(rng, prec, has_prec)
    for k in range(p):
        pi[k] = order[k]
        pos[order[k]] = k
    _prefix_hashes(pi, ph, nh, 0, p)
    _update(forest, ctx, st, 0, p - 1)
    for variant in range(first_variant, last_variant + 1):
        unc_depth = 0 if variant == 0 else 1
        nonsing_depth = 1 if variant == 2 else 0
        improved = True
        while improved:
            improved = False
            # lvl[level] = (number of candidates, next candidate, j, i) of each open level
            level = 1
            stats[_S_DFS_CALLS] += 1
            lvl[level, 0] = _candidates_at(st, rng, cand, level)
            lvl[level, 1] = 0
            while level >= 1:
                if lvl[level, 1] >= lvl[level, 0]:
                    level -= 1
                    if level >= 1:
                        path_x[level] = -1
                        path_y[level] = -1
                        _restore(st, level, lvl[level, 2], lvl[level, 3])
                        _prefix_hashes(pi, ph, nh, lvl[level, 2], lvl[level, 3])
                    continue
                e = lvl[level, 1]
                lvl[level, 1] = e + 1
                x = np.int64(cand[level, e, 0])
                y = np.int64(cand[level, e, 1])
                covered = _covered(par, npar, mark, stamp, x, y)
                if not covered and level > unc_depth:
                    continue
                if covered:
                    seen = False
                    for d in range(1, level):
                        if (path_x[d] == x and path_y[d] == y) or (path_x[d] == y and path_y[d] == x):
                            seen = True
                            break
                    if seen:
                        continue
                i = pos[y]
                j = pos[x]
                c = i - j + 1
                if covered:
                    # the parents of y other than x come before x: only y moves, to just before x
                    if has_prec:
                        bad = False
                        for t in range(j, i):
                            if prec[pi[t], y]:
                                bad = True
                                break
                        if bad:
                            continue
                    h1 = nh[2, y]
                    h2 = nh[3, y]
                    for t in range(j, i):
                        v = pi[t]
                        h1 += nh[2, v] * pw[0, t - j + 1]
                        h2 += nh[3, v] * pw[1, t - j + 1]
                else:
                    # ancestors of y placed strictly after x move, in order, to just before x
                    stamp[0] += 1
                    s = stamp[0]
                    mark[y] = s
                    top = 1
                    stack[0] = y
                    while top > 0:
                        top -= 1
                        z = stack[top]
                        for a in range(npar[z]):
                            w = par[z, a]
                            if pos[w] > j and mark[w] != s:
                                mark[w] = s
                                stack[top] = w
                                top += 1
                    singular = True
                    nm = 0
                    for t in range(j + 1, i + 1):
                        z = pi[t]
                        if mark[z] == s:
                            seg[nm] = z
                            nm += 1
                            if z != y and singular:
                                for a in range(npar[z]):
                                    if par[z, a] == x:
                                        singular = False
                                        break
                    if not singular and level > nonsing_depth:
                        continue
                    seg[nm] = x
                    m = nm + 1
                    for t in range(j + 1, i):
                        z = pi[t]
                        if mark[z] != s:
                            seg[m] = z
                            m += 1
                    if has_prec:
                        bad = False
                        for a in range(nm):
                            for b in range(nm, c):
                                if prec[seg[b], seg[a]]:
                                    bad = True
                                    break
                            if bad:
                                break
                        if bad:
                            continue
                    h1 = np.uint64(0)
                    h2 = np.uint64(0)
                    for t in range(c):
                        h1 += nh[2, seg[t]] * pw[0, t]
                        h2 += nh[3, seg[t]] * pw[1, t]
                k1 = (ph[0, j] ^ _mix(h1)) | np.uint64(1)
                k2 = ph[1, j] ^ _mix(h2)
                old_sum = 0.0
                for t in range(j, i + 1):
                    old_sum += loc[pi[t]]
                slot = _memo_slot(memo, k1, k2)
                if slot >= 0:
                    mstats[0] += 1
                    delta = mvals[slot] - old_sum
                    if delta <= -tol or (delta <= tol and level >= depth):
                        continue
                _save(st, level, j, i)
                if covered:
                    for t in range(i, j, -1):
                        pi[t] = pi[t - 1]
                        pos[pi[t]] = t
                    pi[j] = y
                    pos[y] = j
                else:
                    for t in range(c):
                        pi[j + t] = seg[t]
                        pos[seg[t]] = j + t
                new_sum = _update(forest, ctx, st, j, i)
                _prefix_hashes(pi, ph, nh, j, i)
                stats[_S_TRACED] += c
                if slot < 0:
                    mstats[1] += 1
                    slot = -slot - 1
                    mkeys[slot, 0] = k1
                    mkeys[slot, 1] = k2
                    mvals[slot] = new_sum
                delta = new_sum - old_sum
                stats[_S_TUCKS] += 1
                if delta > tol:
                    stats[_S_IMPROVEMENTS] += 1
                    for d in range(1, level):
                        path_x[d] = -1
                        path_y[d] = -1
                    improved = True
                    break
                if delta > -tol and level < depth:
                    lvl[level, 2] = j
                    lvl[level, 3] = i
                    path_x[level] = x
                    path_y[level] = y
                    level += 1
                    lvl[level, 0] = _candidates_at(st, rng, cand, level)
                    lvl[level, 1] = 0
                    continue
                _restore(st, level, j, i)
                _prefix_hashes(pi, ph, nh, j, i)
    total = 0.0
    for v in range(p):
        total += loc[v]
    return total


@njit(cache=True)
def _exact_total(ctx, par, npar):
    """Total score recomputed from scratch for each node's final parent set."""
    cov, n, penalty = ctx[0], ctx[1], ctx[2]
    total = 0.0
    for v in range(cov.shape[0]):
        total += local_score(cov, n, penalty, v, par[v], npar[v])
    return total


@njit(cache=True)
def _grasp_setup(ctx, depth, capacity):
    """The grow-shrink forest, the search state and the segment memo for a search."""
    p = ctx[0].shape[0]
    forest = new_forest(p, capacity)
    forest_init(forest, ctx)
    return forest, _new_state(p, depth), _new_memo(p)


def _grasp_driver(ctx, prec, has_prec, seeds, depth, first_variant, last_variant, tol, capacity):
    """All restarts (one compiled call each); returns (order, parents, #parents, restart scores,
    exact score, best restart, search statistics, forest statistics, memo statistics)."""
    forest, st, memo = _grasp_setup(ctx, depth, capacity)
    scores = np.empty(seeds.shape[0])
    best = None
    for r in range(seeds.shape[0]):
        rng = np.array([seeds[r]], dtype=np.uint64)
        total = _grasp_once(forest, ctx, st, memo, prec, has_prec, rng, depth, first_variant, last_variant, tol)
        scores[r] = total
        if best is None or total > scores[best[0]]:
            best = (r, st[0].copy(), st[2].copy(), st[3].copy())
    best_r, best_order, best_par, best_np = best
    exact = _exact_total(ctx, best_par, best_np)
    return best_order, best_par, best_np, scores, exact, best_r, st[13], forest[10], memo[2]


# -- Python driver ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GraspResult:
    """The best DAG found and how the search went."""

    dag: np.ndarray  # bool (p, p), [i, j] for i -> j
    order: np.ndarray  # the best permutation
    score: float  # total BIC of ``dag`` (recomputed exactly)
    restart_scores: list[float]
    best_restart: int
    stats: dict = field(default_factory=dict)


def _stream_seed(seed: int, restart: int) -> int:
    z = (int(seed) * 0x9E3779B97F4A7C15 + (restart + 1) * 0xD1B54A32D192ED03) & _MASK64
    z ^= z >> 29
    return (z * 0xBF58476D1CE4E5B9) & _MASK64


def precedence_matrix(required=None, tiers_rank=None, p: int | None = None) -> np.ndarray:
    """Order constraints: ``prec[a, b]`` when ``a`` must come before ``b``.

    ``required[a, b]`` (a -> b required) and ``tiers_rank[a] < tiers_rank[b]`` (both >= 0;
    -1 for a node in no tier) each impose one.
    """
    if p is None:
        p = (required if required is not None else tiers_rank).shape[0]
    prec = np.zeros((p, p), dtype=np.uint8)
    if required is not None:
        prec |= np.asarray(required, dtype=bool).astype(np.uint8)
    if tiers_rank is not None:
        r = np.asarray(tiers_rank)
        tiered = r >= 0
        prec |= (tiered[:, None] & tiered[None, :] & (r[:, None] < r[None, :])).astype(np.uint8)
    return prec


def grasp_search(
    score: BICScore,
    *,
    depth: int = DEFAULT_DEPTH,
    tucks: str = "all",
    ordered: bool = False,
    restarts: int = DEFAULT_RESTARTS,
    seed: int = 0,
    forbidden: np.ndarray | None = None,
    required: np.ndarray | None = None,
    precedence: np.ndarray | None = None,
    max_parents: int | None = None,
    cache_size: int = DEFAULT_CAPACITY,
    tol: float | None = None,
) -> GraspResult:
    """Run GRaSP on ``score`` and return the best DAG over ``restarts`` random starts.

    Parameters
    ----------
    score : BICScore
    depth : int
        Maximum number of tucks in one DFS sequence (causal-learn's ``depth``).
    tucks : {"covered", "singular", "all"}
        GRaSP0 / GRaSP1 / GRaSP2 (see the module docstring).
    ordered : bool
        Run the lower variants to convergence first.
    restarts : int
        Number of random starting orders.
    seed : int
        Seed of every random choice.
    forbidden, required : bool ndarray (p, p), optional
        ``[x, y]`` for a forbidden / required edge ``x -> y``.
    precedence : bool ndarray (p, p), optional
        ``[a, b]`` when ``a`` must precede ``b`` in every order (from required edges and tiers,
        see :func:`precedence_matrix`); must be acyclic.
    max_parents : int, optional
        Upper bound on the number of parents of a node.
    cache_size : int
        Capacity of the grow-shrink forest in tree nodes (its memory is about 40 bytes each).
    tol : float, optional
        Smallest score gain accepted as an improvement; default ``1e-9 · n`` (at least 1e-6),
        so that rounding differences between score-equivalent DAGs never count.
    """
    if tucks not in TUCKS:
        raise ValueError(f"tucks must be one of {TUCKS}, got {tucks!r}")
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    if restarts < 1:
        raise ValueError(f"restarts must be >= 1, got {restarts}")
    p = score.p
    variant = TUCKS.index(tucks)
    first_variant = 0 if ordered else variant
    if tol is None:
        tol = max(1e-6, 1e-9 * score.n)
    prec = np.zeros((p, p), dtype=np.uint8)
    if required is not None:
        prec |= np.asarray(required, dtype=bool).astype(np.uint8)
    if precedence is not None:
        prec |= np.asarray(precedence, dtype=bool).astype(np.uint8)
    np.fill_diagonal(prec, 0)
    has_prec = bool(prec.any())
    ctx = make_context(score, forbidden, required, max_parents)
    announce_compile("GRaSP", _grasp_once, _grasp_setup)
    seeds = np.array([_stream_seed(seed, r) for r in range(restarts)], dtype=np.uint64)
    order, par, npar, scores, exact, best_r, sstats, fstats, mstats = _grasp_driver(
        ctx, prec, has_prec, seeds, int(depth), first_variant, variant, float(tol), int(cache_size)
    )
    dag = np.zeros((p, p), dtype=bool)
    for v in range(p):
        dag[par[v, : npar[v]], v] = True
    stats = {
        "tucks": int(sstats[_S_TUCKS]),
        "improvements": int(sstats[_S_IMPROVEMENTS]),
        "dfs_calls": int(sstats[_S_DFS_CALLS]),
        "traced_nodes": int(sstats[_S_TRACED]),
        "tree_nodes": int(fstats[0]),
        "cache_clears": int(fstats[STAT_CLEARS]),
        "rejected_parent_sets": int(fstats[STAT_REJECTED]),
        "score_evaluations": int(fstats[5]),
        "fallbacks": int(fstats[STAT_FALLBACKS]),
        "memo_hits": int(mstats[0]),
        "memo_entries": int(mstats[1]),
    }
    if stats["rejected_parent_sets"]:
        log.warning(
            "%d candidate parent sets were rejected as near-singular (a parent nearly a linear "
            "combination of the others); the covariance is close to singular",
            stats["rejected_parent_sets"],
        )
    if stats["cache_clears"]:
        log.info("grow-shrink cache was full and cleared %d times; raise cache_size", stats["cache_clears"])
    return GraspResult(dag, order, float(exact), [float(v) for v in scores], int(best_r), stats)
