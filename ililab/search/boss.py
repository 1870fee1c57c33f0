"""BOSS: Best Order Score Search (Andrews, Ramsey, Sanchez-Romero, Camchong & Kummerfeld, NeurIPS 2023).

A permutation search over a covariance matrix, like GRaSP, with a different move. Given an
order ``π``, each node's parents are chosen by grow-shrink among its predecessors
(:mod:`ililab.search._growshrink`, the same memoised grow-shrink trees and BIC kernels as
GRaSP — no second copy of the scoring code); the score of ``π`` is the total BIC of that DAG.

The move (*better mutation*)
----------------------------
Take one variable ``v`` out of ``π`` and put it back at the position that maximises the total
score. With ``π'`` the order without ``v`` and ``v`` inserted before ``π'[t]``:

* ``v`` may choose parents among ``π'[:t]``;
* a node ``w = π'[k]`` has ``v`` among its admissible parents exactly when ``k >= t``.

So for every ``w`` two scores are enough — with and without ``v`` available — and one of the
two is ``w``'s current local score; the total for every ``t`` then follows from prefix sums in
``O(p)``. One mutation costs about ``2p`` grow-shrink traces, each a walk down a memoised tree.
``v`` moves only if the best total beats the current one by more than ``tol`` (ties keep the
current position; among equal better positions the first wins). A *pass* visits every variable
once, in a random order; passes repeat until one makes no move.

Randomness and restarts
-----------------------
Each search starts from a random order (a random linear extension of the knowledge's order
constraints) or a jittered best order, and visits variables in random orders drawn from a
stream that depends on ``(seed, r)`` only. ``restarts=K``: the best total over ``K`` random
starts wins (the first on ties), so ``restarts=K+1`` is never worse than ``restarts=K``;
``restarts=None`` (the default): searches until converged, as in
:mod:`ililab.search._restarts`. Results are deterministic for a seed.

Knowledge
---------
As in GRaSP: forbidden edges are never grow-shrink candidates; a required edge ``x -> y`` makes
``x`` a parent of ``y`` in every trace and forces ``x`` before ``y``; tiers force earlier tiers
first. A mutation of ``v`` only tries the insertion positions consistent with these order
constraints (a contiguous range).

Deviations from the paper
-------------------------
* The paper's BOSS (and Tetrad's) can follow the order search with BES, a backward
  equivalence search over the CPDAG; this implementation, like causal-learn's ``boss``, stops
  at the best order and returns the DAG of that order (the learner reports its CPDAG).
* causal-learn's ``boss`` starts from the identity order; this one starts from a seeded
  random order per restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numba import njit

from ililab.scores.bic import BICScore
from ililab.scores.kernels import total_score_ws
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
from ililab.search._orders import order_constraints, shuffle
from ililab.search._restarts import SearchResult, check_restarts, finish_search, restart_bar, run_restarts

__all__ = ["BossResult", "boss_search", "DEFAULT_RESTARTS"]

log = logging.getLogger(__name__)

DEFAULT_RESTARTS = 4  # the fixed number of restarts before the stopping rule (restarts=4 = the old default)

# indices of the search statistics array
_S_MUTATIONS = 0
_S_MOVES = 1
_S_PASSES = 2


@njit(cache=True, inline="always")
def _better_mutation(
    trace_addr, fi, ff, pool, fst, cov, n, penalty, forb, req, nreq, mp,
    pi, pos, loc, prec, has_prec, v, tol, rank, node_of, work, stats,
    iw, fw, sw, mat,
):  # fmt: skip
    """Move ``v`` to its best position in ``pi`` if that raises the total by more than ``tol``.

    ``pi``/``pos``/``loc`` (order, positions, local scores) are updated in place on a move;
    ``rank``/``node_of`` (int64) and ``work`` (float64, 3 rows) are scratch arrays of length ``p``.
    Returns True when ``v`` moved.
    """
    p = pi.shape[0]
    f_shs = ff[F_SHS]
    with_v = work[0]
    without_v = work[1]
    at = work[2]
    pv = pos[v]
    stats[_S_MUTATIONS] += 1
    # positions in the order without v
    for u in range(p):
        rank[u] = pos[u] - 1 if pos[u] > pv else pos[u]
    # insertion indices allowed by the order constraints: lo <= t <= hi
    lo = 0
    hi = p - 1
    if has_prec:
        for u in range(p):
            if u == v:
                continue
            if prec[u, v] and rank[u] + 1 > lo:
                lo = rank[u] + 1
            if prec[v, u] and rank[u] < hi:
                hi = rank[u]
    # the score of every other node with and without v among its admissible parents
    for k in range(p - 1):
        w = pi[k] if k < pv else pi[k + 1]
        node_of[k] = w
        if forb[v, w]:  # v can never be a parent of w
            with_v[k] = loc[w]
            without_v[k] = loc[w]
            continue
        rank[v] = -1 if k < pv else p  # v available to w (w precedes v now) / not available
        s = f_shs[trace_node(trace_addr, fi, ff, pool, fst, cov, n, penalty, forb, req, nreq, mp, w, rank, k, iw, fw, sw, mat)]
        if k < pv:  # w precedes v now: its current score is the one without v
            without_v[k] = loc[w]
            with_v[k] = s
        else:
            with_v[k] = loc[w]
            without_v[k] = s
    # total for insertion index t: score(v | pi'[:t]) + sum_{k<t} without + sum_{k>=t} with
    suffix = 0.0
    for k in range(p - 1):
        suffix += with_v[k]
    prefix = 0.0
    best_t = -1
    best = -np.inf
    current = -np.inf
    for t in range(p):
        if t > 0:
            prefix += without_v[t - 1]
            suffix -= with_v[t - 1]
        if t < lo or t > hi:
            continue
        s = f_shs[trace_node(trace_addr, fi, ff, pool, fst, cov, n, penalty, forb, req, nreq, mp, v, rank, t, iw, fw, sw, mat)]
        total = s + prefix + suffix
        at[t] = s
        if t == pv:
            current = total
        if total > best:
            best = total
            best_t = t
    if best_t < 0 or best_t == pv or not best > current + tol:
        return False
    # apply the move
    for k in range(p - 1):
        w = node_of[k]
        if k < best_t:
            idx = k
            loc[w] = without_v[k]
        else:
            idx = k + 1
            loc[w] = with_v[k]
        pi[idx] = w
        pos[w] = idx
    pi[best_t] = v
    pos[v] = best_t
    loc[v] = at[best_t]
    stats[_S_MOVES] += 1
    return True


@njit(cache=True, _nrt=False)
def _boss_once(
    trace_addr, fi, ff, pool, fst, cov, n, penalty, forb, req, nreq, mp,
    pi, pos, loc, prec, has_prec, rng, tol, max_passes, stats, work, bw, par, npar, finish,
    iw, fw, sw, mat,
):  # fmt: skip
    """One BOSS run from the start order in ``pi``; returns the total score (``pi`` then holds
    the order found).

    With ``finish`` it instead takes the order in ``pi``, writes every node's parents into
    ``par``/``npar`` and returns their exact total score (one compiled function for both: a
    shorter first-run compile). ``work`` (float64, 3 rows) and ``bw`` (int64, 3 rows) are
    scratch of length ``p``; ``trace_addr`` is :func:`ililab.search._growshrink.trace_address`.
    """
    p = pi.shape[0]
    if fst[STAT_NODES] == 0:  # a new forest
        forest_init(fi, ff, pool, fst, cov, n, penalty, forb, req, nreq, mp, iw, fw, sw, mat)
    rank = bw[0]
    node_of = bw[1]
    variables = bw[2]
    for k in range(p):
        pos[pi[k]] = k
    # trace every node (one loop for both modes)
    for k in range(p):
        z = pi[k]
        node = trace_node(trace_addr, fi, ff, pool, fst, cov, n, penalty, forb, req, nreq, mp, z, pos, k, iw, fw, sw, mat)
        npar[z] = copy_parents(fi, pool, node, par[z])
        loc[z] = ff[F_SHS, node]
    if finish:
        return total_score_ws(cov, n, penalty, par, npar, mat, fw)
    for t in range(p):
        variables[t] = t
    passes = 0
    while passes < max_passes:
        passes += 1
        stats[_S_PASSES] += 1
        shuffle(rng, variables, p)
        moved = False
        for q in range(p):
            if _better_mutation(
                trace_addr, fi, ff, pool, fst, cov, n, penalty, forb, req, nreq, mp,
                pi, pos, loc, prec, has_prec, variables[q], tol, rank, node_of, work, stats,
                iw, fw, sw, mat,
            ):  # fmt: skip
                moved = True
        if not moved:
            break
    total = 0.0
    for v in range(p):
        total += loc[v]
    return total


class _BossRunner:
    """The compiled state of one search, reused by every restart (see
    :mod:`ililab.search._restarts`)."""

    lazy_dag = True  # a DAG costs one more compiled call (``finish``)

    def __init__(self, ctx, prec, has_prec, tol, max_passes, capacity):
        p = ctx[0].shape[0]
        self.forest = new_forest(p, capacity)  # the first _boss_once call initialises it
        work = new_work(p)
        self.pi = np.arange(p, dtype=np.int64)
        self.stats_arr = np.zeros(3, dtype=np.int64)
        self.par = np.zeros((p, p), dtype=np.int32)
        self.npar = np.zeros(p, dtype=np.int64)
        self.rng = np.zeros(1, dtype=np.uint64)
        pos, loc = np.arange(p, dtype=np.int64), np.zeros(p)
        scratch, bw = np.empty((3, max(p, 1))), np.empty((3, max(p, 1)), dtype=np.int64)
        args = [0, *self.forest, *ctx, self.pi, pos, loc, prec, has_prec, self.rng, tol, max_passes, self.stats_arr]
        args += [scratch, bw, self.par, self.npar, False, *work]
        self.finish_at = len(args) - len(work) - 1
        args[0] = trace_address_with(_boss_once, args)
        self.args = args

    def run(self, start: np.ndarray, stream: int) -> float:
        """Search from ``start`` with the random stream at ``stream``; the total score found."""
        self.rng[0] = stream
        self.pi[:] = start
        return float(_boss_once(*self.args))

    def order(self) -> np.ndarray:
        """The order the last run ended with (a copy)."""
        return self.pi.copy()

    def last(self):
        """``(parents, #parents, exact total score)`` of the last run (copies)."""
        return self.dag_of(self.pi)

    def dag_of(self, order: np.ndarray):
        """``(parents, #parents, exact total score)`` of ``order`` (copies)."""
        self.pi[:] = order
        self.args[self.finish_at] = True
        exact = float(_boss_once(*self.args))
        self.args[self.finish_at] = False
        return self.par.copy(), self.npar.copy(), exact


# -- Python driver ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BossResult(SearchResult):
    """The best DAG BOSS found and how the search went (the fields of :class:`SearchResult`).

    The fields are those of :class:`ililab.search.grasp.GraspResult` (documented there).

    Examples
    --------
    >>> from ililab.simulate import simulate_linear_sem
    >>> sim = simulate_linear_sem(6, 5000, seed=1)
    >>> score = BICScore(np.cov(sim.data, rowvar=False), 5000)
    >>> result = boss_search(score, seed=0)  # restarts=None: restart until converged
    >>> result.stability.shape, bool(np.isclose(result.score, score.score_dag(result.dag)))
    ((6, 6), True)
    >>> result.convergence["restarts"] == len(result.restart_scores)
    True
    """


def boss_search(
    score: BICScore,
    *,
    restarts: int | None = None,
    seed: int = 0,
    forbidden: np.ndarray | None = None,
    required: np.ndarray | None = None,
    precedence: np.ndarray | None = None,
    max_parents: int | None = None,
    cache_size: int = DEFAULT_CAPACITY,
    max_passes: int = 1000,
    tol: float | None = None,
    convergence: dict | None = None,
    progress: bool = False,
) -> BossResult:
    """Run BOSS on ``score`` and return the best DAG over ``restarts`` random starts.

    Parameters
    ----------
    score : BICScore
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
        ``[a, b]`` when ``a`` must precede ``b`` in every order (e.g. from tiers, see
        :func:`ililab.learners._scorebased.knowledge_matrices`); must be acyclic. Required edges are
        added to it.
    max_parents : int, optional
        Upper bound on the number of parents of a node.
    cache_size : int
        Capacity of the grow-shrink forest in tree nodes (about 40 bytes each).
    max_passes : int
        Safety bound on passes per restart (a pass that moves nothing ends the search first).
    tol : float, optional
        Smallest score gain accepted as a move; default ``1e-9 · n`` (at least 1e-6).

    Returns
    -------
    BossResult

    Examples
    --------
    >>> from ililab.simulate import simulate_linear_sem
    >>> import numpy as np
    >>> sim = simulate_linear_sem(6, 5000, seed=1)
    >>> result = boss_search(BICScore(np.cov(sim.data, rowvar=False), 5000), restarts=1)
    >>> bool((result.dag & result.dag.T).any())
    False
    """
    check_restarts(restarts, convergence)
    if max_passes < 1:
        raise ValueError(f"max_passes must be >= 1, got {max_passes}")
    p = score.p
    if tol is None:
        tol = max(1e-6, 1e-9 * score.n)
    prec, has_prec = order_constraints(p, required, precedence)
    ctx = make_context(score, forbidden, required, max_parents)
    announce_compile("BOSS", _boss_once)
    runner = _BossRunner(ctx, prec, has_prec, float(tol), int(max_passes), int(cache_size))
    with restart_bar("BOSS", restarts, convergence, progress) as bar:
        outcome = run_restarts(runner, prec, seed, restarts, score, tol, convergence, bar.update)
        bar.total = bar.done  # stopped before max_restarts: the bar ends full, at the searches run
        bar.update(bar.done)
    par, npar = outcome.par, outcome.npar
    dag = dag_from_parents(par, npar)
    fstats, stats_arr = runner.forest[-1], runner.stats_arr
    stats = {
        "passes": int(stats_arr[_S_PASSES]),
        "mutations": int(stats_arr[_S_MUTATIONS]),
        "moves": int(stats_arr[_S_MOVES]),
        "tree_nodes": int(fstats[STAT_NODES]),
        "cache_clears": int(fstats[STAT_CLEARS]),
        "rejected_parent_sets": int(fstats[STAT_REJECTED]),
        "score_evaluations": int(fstats[STAT_SCORES]),
        "fallbacks": check_no_fallback(int(fstats[STAT_FALLBACKS])),
    }
    return finish_search(BossResult, dag, outcome, stats, log)
