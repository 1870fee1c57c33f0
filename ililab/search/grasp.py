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
Search ``r`` starts from an order (random: a random linear extension of the knowledge's order
constraints; or a jittered best order, see :mod:`ililab.search._restarts`) and shuffles the
nodes and parents it visits, with a random stream derived from ``(seed, r)`` only. With
``restarts=K`` the best total score over ``K`` random starts wins (the first on ties), so
``restarts=K+1`` is never worse than ``restarts=K`` with the same seed; with ``restarts=None``
(the default) searches run until converged and every near-optimal DAG feeds each pair's
stability. Results are deterministic for a seed.

Knowledge
---------
Forbidden edges are never candidates in grow-shrink. A required edge ``x -> y`` makes ``x``
a parent of ``y`` in every grow-shrink tree (never removed) and forces ``x`` before ``y`` in
every order; tiers force nodes of earlier tiers before nodes of later tiers. Tucks that would
break these order constraints are skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numba import njit

from ililab.scores.bic import BICScore
from ililab.scores.kernels import KERNEL_ONLY, total_score_ws
from ililab.search._compile import trace_address_with
from ililab.search._growshrink import (
    DEFAULT_CAPACITY,
    F_SHS,
    STAT_CLEARS,
    STAT_FALLBACKS,
    STAT_NODES,
    STAT_REJECTED,
    STAT_SCORES,
    announce_compile,
    check_no_fallback,
    copy_parents,
    dag_from_parents,
    forest_init,
    make_context,
    new_forest,
    new_work,
    trace_node,
)
from ililab.search._orders import mix64, order_constraints, shuffle
from ililab.search._restarts import SearchResult, check_restarts, finish_search, restart_bar, run_restarts
from ililab.search._segment_memo import _memo_slot, _new_memo, _prefix_hashes

__all__ = ["GraspResult", "grasp_search", "TUCKS", "DEFAULT_RESTARTS", "DEFAULT_DEPTH"]

log = logging.getLogger(__name__)

#: Tuck kinds, by GRaSP variant (0, 1, 2).
TUCKS = ("covered", "singular", "all")
DEFAULT_DEPTH = 3
DEFAULT_RESTARTS = 4  # the fixed number of restarts before the stopping rule (restarts=4 = the old default)

# indices of the search statistics array
_S_TUCKS = 0
_S_IMPROVEMENTS = 1
_S_DFS_CALLS = 2
_S_TRACED = 3
_S_CUT = 4  # runs cut short by MAX_IMPROVEMENTS
#: A run stops improving after this many improvements per node (plus ``MAX_IMPROVEMENTS_BASE``).
#: Every improvement raises the score by more than ``tol``, so in exact arithmetic a run ends; on a
#: badly conditioned covariance the local scores of one parent set differ by more than ``tol``
#: between evaluation paths, and a run can cycle for ever among orders of equal score (sweep
#: configuration 255 of seed 7: a 20 x 20 completed covariance of condition 4e9, 200,000
#: improvements of about 2.4e-6 among 378 memoised segments in 5 s). Normal runs are far below.
MAX_IMPROVEMENTS_PER_NODE = 1000
MAX_IMPROVEMENTS_BASE = 10_000


# -- the search ------------------------------------------------------------------------------
#
# The kernels take every array separately (no tuples) and allocate nothing (``_nrt=False``):
# the Python driver allocates the state, the segment memo (:mod:`ililab.search._segment_memo`)
# and the scratch once per search.


def _new_state(p: int, depth: int):
    """The search state arrays, in the order :func:`_grasp_once` takes them."""
    return (
        np.arange(p),  # pi: node at each position
        np.arange(p),  # pos: position of each node
        np.zeros((p, p), dtype=np.int32),  # par: parents of each node
        np.zeros(p, dtype=np.int64),  # npar
        np.zeros(p),  # loc: local scores
        np.zeros((depth + 1, p), dtype=np.int64),  # saved pi segment per level
        np.zeros((depth + 1, p), dtype=np.int64),  # saved npar
        np.zeros((depth + 1, p)),  # saved local scores
        np.zeros((depth + 1, p, p), dtype=np.int32),  # saved parents
        np.zeros(p, dtype=np.int64),  # mark (stamps)
        np.zeros(1, dtype=np.int64),  # stamp counter
        np.full(depth + 1, -1, dtype=np.int64),  # path: tucked x per level
        np.full(depth + 1, -1, dtype=np.int64),  # path: tucked y per level
        np.zeros(5, dtype=np.int64),  # statistics (_S_*)
        np.zeros((depth + 1, max(p * (p - 1) // 2, 1), 2), dtype=np.int32),  # edges to try per level
        np.zeros((depth + 1, 4), dtype=np.int64),  # per level: #edges, next, j, i
        np.zeros((2, p + 1), dtype=np.uint64),  # hashes of the set of nodes before each position
        np.empty((3, max(p, 1)), dtype=np.int64),  # scratch: DFS stack, moved segment, shuffled nodes
        np.empty(max(p, 1), dtype=np.int32),  # scratch: shuffled parents
    )


@njit(**KERNEL_ONLY)
def _update(trace_addr, fi, ff, pool, fst, cov, n, penalty, forb, req, nreq, mp, pi, pos, par, npar, loc, j, i, iw, fw, sw, mat):
    """Re-select the parents of the nodes at positions j..i; return their new total score."""
    total = 0.0
    for k in range(j, i + 1):
        z = pi[k]
        node = trace_node(trace_addr, fi, ff, pool, fst, cov, n, penalty, forb, req, nreq, mp, z, pos, k, iw, fw, sw, mat)
        npar[z] = copy_parents(fi, pool, node, par[z])
        score = ff[F_SHS, node]
        loc[z] = score
        total += score
    return total


@njit(cache=True, inline="always")
def _restore(pi, pos, par, npar, loc, sv_pi, sv_np, sv_loc, sv_par, level, j, i):
    for t in range(i - j + 1):
        z = sv_pi[level, t]
        pi[j + t] = z
        pos[z] = j + t
        npar[z] = sv_np[level, t]
        loc[z] = sv_loc[level, t]
        for a in range(npar[z]):
            par[z, a] = sv_par[level, t, a]


@njit(cache=True, _nrt=False)
def _grasp_once(
    trace_addr, fi, ff, pool, fst, cov, n, penalty, forb, req, nreq, mp,
    pi, pos, par, npar, loc, sv_pi, sv_np, sv_loc, sv_par, mark, stamp, path_x, path_y, stats, cand, lvl, ph, gw, gb,
    mkeys, mvals, mstats, nh, pw,
    prec, has_prec, rng, depth, first_variant, last_variant, tol,
    iw, fw, sw, mat,
):  # fmt: skip
    """One GRaSP run from the start order in ``pi``; returns the total of the memoised local
    scores and the exact total score recomputed from the parents (the state holds the DAG).

    The depth-first search over sequences of tucks is iterative: a DFS accepts the first
    sequence that raises the score by more than ``tol`` (the improved state is kept) and the
    next DFS starts; when a DFS improves nothing, every tuck it tried has been undone.
    Arguments: the forest, the context (see :mod:`ililab.search._growshrink`), the state of
    :func:`_new_state`, the memo of :func:`_new_memo`, the run's settings, the grow-shrink scratch.
    """
    p = pi.shape[0]
    if fst[STAT_NODES] == 0:  # a new forest
        forest_init(fi, ff, pool, fst, cov, n, penalty, forb, req, nreq, mp, iw, fw, sw, mat)
    stack = gw[0]
    seg = gw[1]
    nodes = gw[2]
    for k in range(p):  # pi holds the start order
        pos[pi[k]] = k
    _prefix_hashes(pi, ph, nh, 0, p)
    first, last = np.int64(0), np.int64(p - 1)  # typed like j, i below: one compiled _update
    _update(
        trace_addr, fi, ff, pool, fst, cov, n, penalty, forb, req, nreq, mp,
        pi, pos, par, npar, loc, first, last, iw, fw, sw, mat,
    )  # fmt: skip
    max_improvements = MAX_IMPROVEMENTS_BASE + MAX_IMPROVEMENTS_PER_NODE * p
    for variant in range(first_variant, last_variant + 1):
        unc_depth = 0 if variant == 0 else 1
        nonsing_depth = 1 if variant == 2 else 0
        improved = True
        run_improvements = 0
        while improved:
            if run_improvements >= max_improvements:  # cycling within rounding error: stop here
                stats[_S_CUT] += 1
                break
            run_improvements += 1
            improved = False
            # lvl[level] = (number of candidates, next candidate, j, i) of each open level
            level = 1
            stats[_S_DFS_CALLS] += 1
            fill = True
            undo = False  # restore positions uj..ui of `level` (one call site of _restore)
            uj = 0
            ui = 0
            while level >= 1:
                if undo:
                    undo = False
                    _restore(pi, pos, par, npar, loc, sv_pi, sv_np, sv_loc, sv_par, level, uj, ui)
                    _prefix_hashes(pi, ph, nh, uj, ui)
                if fill:
                    # the edges (x, y) of the current DAG, nodes and parents shuffled
                    fill = False
                    for t in range(p):
                        nodes[t] = t
                    shuffle(rng, nodes, p)
                    e = 0
                    for q in range(p):
                        y = nodes[q]
                        m = npar[y]
                        for a in range(m):
                            gb[a] = par[y, a]
                        shuffle(rng, gb, m)
                        for a in range(m):
                            cand[level, e, 0] = gb[a]
                            cand[level, e, 1] = y
                            e += 1
                    lvl[level, 0] = e
                    lvl[level, 1] = 0
                if lvl[level, 1] >= lvl[level, 0]:
                    level -= 1
                    if level >= 1:
                        path_x[level] = -1
                        path_y[level] = -1
                        uj = lvl[level, 2]
                        ui = lvl[level, 3]
                        undo = True
                    continue
                e = lvl[level, 1]
                lvl[level, 1] = e + 1
                x = np.int64(cand[level, e, 0])
                y = np.int64(cand[level, e, 1])
                # covered: pa(y) = pa(x) ∪ {x}
                covered = False
                if npar[y] == npar[x] + 1:
                    stamp[0] += 1
                    s = stamp[0]
                    for a in range(npar[y]):
                        mark[par[y, a]] = s
                    covered = True
                    for a in range(npar[x]):
                        if mark[par[x, a]] != s:
                            covered = False
                            break
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
                # ancestors of y placed strictly after x move, in order, to just before x (for a
                # covered tuck that is y alone: its other parents, pa(x), all precede x)
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
                k1 = (ph[0, j] ^ mix64(h1)) | np.uint64(1)
                k2 = ph[1, j] ^ mix64(h2)
                old_sum = 0.0
                for t in range(j, i + 1):
                    old_sum += loc[pi[t]]
                slot = _memo_slot(mkeys, k1, k2)
                if slot >= 0:
                    mstats[0] += 1
                    delta = mvals[slot] - old_sum
                    if delta <= -tol or (delta <= tol and level >= depth):
                        continue
                # save positions j..i of this level, then apply the tuck
                for t in range(c):
                    z = pi[j + t]
                    sv_pi[level, t] = z
                    sv_np[level, t] = npar[z]
                    sv_loc[level, t] = loc[z]
                    for a in range(npar[z]):
                        sv_par[level, t, a] = par[z, a]
                for t in range(c):
                    pi[j + t] = seg[t]
                    pos[seg[t]] = j + t
                new_sum = _update(
                    trace_addr, fi, ff, pool, fst, cov, n, penalty, forb, req, nreq, mp,
                    pi, pos, par, npar, loc, j, i, iw, fw, sw, mat,
                )  # fmt: skip
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
                    fill = True
                    continue
                uj = j
                ui = i
                undo = True
    total = 0.0
    for v in range(p):
        total += loc[v]
    return total, total_score_ws(cov, n, penalty, par, npar, mat, fw)


class _GraspRunner:
    """The compiled state of one search, reused by every restart (see
    :mod:`ililab.search._restarts`)."""

    def __init__(self, ctx, prec, has_prec, depth, first_variant, last_variant, tol, capacity):
        p = ctx[0].shape[0]
        self.forest = new_forest(p, capacity)
        work = new_work(p)  # the first _grasp_once call initialises the forest
        self.state = _new_state(p, depth)
        self.memo = _new_memo(p)
        self.rng = np.zeros(1, dtype=np.uint64)
        args = [0, *self.forest, *ctx, *self.state, *self.memo, prec, has_prec, self.rng, depth]
        args += [first_variant, last_variant, tol, *work]
        args[0] = trace_address_with(_grasp_once, args)
        self.args = args

    lazy_dag = False  # the state holds the DAG of the last run

    def run(self, start: np.ndarray, stream: int) -> float:
        """Search from ``start`` with the random stream at ``stream``; the total score found."""
        self.rng[0] = stream
        self.state[0][:] = start
        total, self.exact = _grasp_once(*self.args)
        return float(total)

    def order(self) -> np.ndarray:
        """The order the last run ended with (a copy)."""
        return self.state[0].copy()

    def last(self):
        """``(parents, #parents, exact total score)`` of the last run (copies)."""
        return self.state[2].copy(), self.state[3].copy(), float(self.exact)

    def stats(self):
        """(search statistics, forest statistics, memo statistics), summed over the runs so far."""
        return self.state[13], self.forest[3], self.memo[2]


# -- Python driver ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GraspResult(SearchResult):
    """The best DAG GRaSP found and how the search went (the fields of :class:`SearchResult`).

    Attributes
    ----------
    dag : bool ndarray of shape (p, p)
        ``dag[i, j]`` for ``i -> j``.
    order : ndarray of int
        The best permutation (``dag`` is its grow-shrink DAG).
    score : float
        Total BIC of ``dag``, recomputed exactly.
    restart_scores : list of float
        The best score of each restart; ``best_restart`` indexes the winner.
    stats, convergence : dict
        Search counters (tucks, score evaluations, ...) and the stopping rule's record.
    stability : ndarray of shape (p, p) or None
        With ``restarts=None``: the fraction of near-optimal restarts linking each pair.

    Examples
    --------
    >>> from ililab.simulate import simulate_linear_sem
    >>> sim = simulate_linear_sem(6, 5000, seed=1)
    >>> score = BICScore(np.cov(sim.data, rowvar=False), 5000)
    >>> result = grasp_search(score, restarts=2, seed=0)
    >>> len(result.restart_scores), bool(np.isclose(result.score, max(result.restart_scores)))
    (2, True)
    >>> bool(np.isclose(result.score, score.score_dag(result.dag))), result.stability is None
    (True, True)
    """


def grasp_search(
    score: BICScore,
    *,
    depth: int = DEFAULT_DEPTH,
    tucks: str = "all",
    ordered: bool = False,
    restarts: int | None = None,
    seed: int = 0,
    forbidden: np.ndarray | None = None,
    required: np.ndarray | None = None,
    precedence: np.ndarray | None = None,
    max_parents: int | None = None,
    cache_size: int = DEFAULT_CAPACITY,
    tol: float | None = None,
    convergence: dict | None = None,
    progress: bool = False,
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
    restarts : int, optional
        Number of random starting orders; ``None`` (default): restart until converged.
    convergence : dict, optional
        Settings of the stopping rule (``hits``, ``patience``, ``ils``, ``max_restarts``,
        ``strength``, ``margin``, ``rugged``; see :mod:`ililab.search._restarts`).
    progress : bool
        Show a bar of the searches run (on a terminal's stderr, after about a second).
    seed : int
        Seed of every random choice.
    forbidden, required : bool ndarray (p, p), optional
        ``[x, y]`` for a forbidden / required edge ``x -> y``.
    precedence : bool ndarray (p, p), optional
        ``[a, b]`` when ``a`` must precede ``b`` in every order (from required edges and tiers,
        see :func:`ililab.learners._scorebased.knowledge_matrices`); must be acyclic.
    max_parents : int, optional
        Upper bound on the number of parents of a node.
    cache_size : int
        Capacity of the grow-shrink forest in tree nodes (its memory is about 40 bytes each).
    tol : float, optional
        Smallest score gain accepted as an improvement; default ``1e-9 · n`` (at least 1e-6),
        so that rounding differences between score-equivalent DAGs never count.

    Returns
    -------
    GraspResult

    Raises
    ------
    ValueError
        An unknown ``tucks``, ``depth < 1``, or bad ``restarts`` / ``convergence`` settings.

    Examples
    --------
    On 5,000 rows of a 6-variable linear SEM GRaSP finds the true skeleton:

    >>> from ililab.simulate import simulate_linear_sem
    >>> sim = simulate_linear_sem(6, 5000, seed=1)
    >>> result = grasp_search(BICScore(np.cov(sim.data, rowvar=False), 5000), restarts=1, seed=0)
    >>> truth = sim.weights != 0
    >>> bool(np.array_equal(result.dag | result.dag.T, truth | truth.T))
    True
    >>> forbidden = np.zeros((6, 6), dtype=bool)
    >>> forbidden[2, :] = True  # knowledge: no edge out of x2
    >>> constrained = grasp_search(BICScore(np.cov(sim.data, rowvar=False), 5000), restarts=1, forbidden=forbidden)
    >>> bool(constrained.dag[2].any())
    False
    """
    if tucks not in TUCKS:
        raise ValueError(f"tucks must be one of {TUCKS}, got {tucks!r}")
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    check_restarts(restarts, convergence)
    p = score.p
    variant = TUCKS.index(tucks)
    first_variant = 0 if ordered else variant
    if tol is None:
        tol = max(1e-6, 1e-9 * score.n)
    prec, has_prec = order_constraints(p, required, precedence)
    ctx = make_context(score, forbidden, required, max_parents)
    announce_compile("GRaSP", _grasp_once)
    runner = _GraspRunner(ctx, prec, has_prec, int(depth), first_variant, variant, float(tol), int(cache_size))
    with restart_bar("GRaSP", restarts, convergence, progress) as bar:
        outcome = run_restarts(runner, prec, seed, restarts, score, tol, convergence, bar.update)
        bar.total = bar.done  # stopped before max_restarts: the bar ends full, at the searches run
        bar.update(bar.done)
    dag = dag_from_parents(outcome.par, outcome.npar)
    sstats, fstats, mstats = runner.stats()
    stats = {
        "tucks": int(sstats[_S_TUCKS]),
        "improvements": int(sstats[_S_IMPROVEMENTS]),
        "dfs_calls": int(sstats[_S_DFS_CALLS]),
        "traced_nodes": int(sstats[_S_TRACED]),
        "cut_runs": int(sstats[_S_CUT]),
        "tree_nodes": int(fstats[STAT_NODES]),
        "cache_clears": int(fstats[STAT_CLEARS]),
        "rejected_parent_sets": int(fstats[STAT_REJECTED]),
        "score_evaluations": int(fstats[STAT_SCORES]),
        "fallbacks": check_no_fallback(int(fstats[STAT_FALLBACKS])),
        "memo_hits": int(mstats[0]),
        "memo_entries": int(mstats[1]),
    }
    if stats["cut_runs"]:
        log.warning(
            "GRaSP cut %d run(s) short after %d improvements: the scores of near-equal orders cycle within "
            "rounding error (a badly conditioned covariance); the graph is one of those orders",
            stats["cut_runs"], MAX_IMPROVEMENTS_BASE + MAX_IMPROVEMENTS_PER_NODE * p,
        )
    return finish_search(GraspResult, dag, outcome, stats, log)
