"""Restarts of the permutation searches (GRaSP, BOSS): a fixed number, or until converged; the consensus.

A search kernel is wrapped in a *runner* (``_GraspRunner``, ``_BossRunner``) that keeps the
compiled state of one search across restarts:

* ``runner.run(start, stream) -> float`` — search from the order ``start`` with the random stream
  at ``stream``; the total score found;
* ``runner.order()`` — the order the last run ended with;
* ``runner.last()`` / ``runner.dag_of(order)`` — ``(parents, #parents, exact score)`` of the last
  run / of an order (``dag_of`` only where ``runner.lazy_dag``: BOSS builds a DAG on request).

:func:`fixed_restarts` runs ``K`` random starts and keeps the best (the first on ties): the
searches' behaviour before the stopping rule, kept bit for bit.

:func:`converged_restarts` (the default) runs *chains of iterated local search* until converged:

1. a chain starts with a search from a random order;
2. it goes on from its best order so far with every variable's position jittered by up to
   ``strength · p`` places (:func:`jittered_order`: a random linear extension of the
   knowledge's order constraints that keeps to the jittered keys), so the search explores next
   to a good optimum instead of anywhere; the chain ends after ``ils`` such searches in a row
   that do not raise its score, or at once when it reaches the score an earlier chain ended with;
3. the search stops once ``hits`` chains have ended at the best score (independent random starts
   agreeing), or after ``patience`` chains in a row without a better score, or at
   ``max_restarts`` searches.

Search ``r`` (counted over all chains) draws from the stream ``stream_seed(seed, r)``, so a seed
fixes every choice.

Every search's DAG is kept; the *near-optimal* searches are those within ``margin`` of the best
score (default: the BIC penalty of one edge, ``c/2 · log n``: a score gap smaller than the price of
one edge does not single out one graph). Each skeleton pair's *stability* is the fraction of the
near-optimal searches whose DAG links it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ililab.search._growshrink import dag_from_parents
from ililab.search._orders import _below_py, random_order, stream_seed

__all__ = [
    "RestartOutcome", "SearchResult", "finish_search", "check_restarts", "run_restarts", "fixed_restarts",
    "converged_restarts", "jittered_order",
]

DEFAULT_HITS = 3
DEFAULT_PATIENCE = 20
DEFAULT_ILS = 8
DEFAULT_MAX_RESTARTS = 400
DEFAULT_STRENGTH = 0.3


@dataclass
class RestartOutcome:
    """The best restart and how the restarts went."""

    order: np.ndarray
    par: np.ndarray
    npar: np.ndarray
    exact: float
    restart_scores: list[float]
    best_restart: int
    convergence: dict[str, Any] = field(default_factory=dict)
    stability: np.ndarray | None = None  # (p, p) symmetric: fraction of near-optimal restarts linking the pair


CONVERGENCE_KEYS = ("hits", "patience", "ils", "max_restarts", "strength", "margin")


@dataclass(frozen=True)
class SearchResult:
    """The best DAG a permutation search found and how the search went (GRaSP and BOSS alike)."""

    dag: np.ndarray  # bool (p, p), [i, j] for i -> j
    order: np.ndarray  # the best permutation
    score: float  # total BIC of ``dag`` (recomputed exactly)
    restart_scores: list[float]
    best_restart: int
    stats: dict = field(default_factory=dict)
    convergence: dict = field(default_factory=dict)  # see converged_restarts
    stability: np.ndarray | None = None  # (p, p): fraction of near-optimal restarts linking each pair


def finish_search(
    result_type: type[SearchResult], dag: np.ndarray, outcome: RestartOutcome, stats: dict, log: logging.Logger
) -> SearchResult:
    """Warn, on the search's own logger, about what its statistics show, and build its result."""
    if stats["rejected_parent_sets"]:
        log.warning(
            "%d candidate parent sets were rejected as near-singular (a parent nearly a linear "
            "combination of the others); the covariance is close to singular",
            stats["rejected_parent_sets"],
        )
    if stats["cache_clears"]:
        log.info("grow-shrink cache was full and cleared %d times; raise cache_size", stats["cache_clears"])
    return result_type(
        dag,
        outcome.order,
        float(outcome.exact),
        [float(v) for v in outcome.restart_scores],
        int(outcome.best_restart),
        stats,
        outcome.convergence,
        outcome.stability,
    )


def check_restarts(restarts: int | None, convergence: dict | None) -> None:
    """Raise ``ValueError`` on a bad ``restarts`` / ``convergence`` setting of a search."""
    if restarts is not None and restarts < 1:
        raise ValueError(f"restarts must be >= 1 (or None: until converged), got {restarts}")
    for key, value in (convergence or {}).items():
        if key not in CONVERGENCE_KEYS:
            raise ValueError(f"unknown convergence setting {key!r}; expected one of {CONVERGENCE_KEYS}")
        if value is None:
            continue
        if key in ("strength", "margin"):
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"convergence {key} must be a finite number >= 0, got {value}")
        elif int(value) != value or value < 1:
            raise ValueError(f"convergence {key} must be an integer >= 1, got {value}")


def default_margin(score: Any) -> float:
    """The BIC penalty of one edge, ``c/2 · log n``: restarts closer than this to the best are near-optimal."""
    return 0.5 * float(score.penalty) * float(np.log(score.n))


def run_restarts(
    runner: Any, prec: np.ndarray, seed: int, restarts: int | None, score: Any, tol: float, convergence: dict | None
) -> RestartOutcome:
    """``restarts`` fixed starts, or (``restarts=None``) restarts until converged with ``convergence``
    settings (keys of :data:`CONVERGENCE_KEYS`; ``None`` values take the defaults)."""
    if restarts is not None:
        return fixed_restarts(runner, prec, seed, restarts)
    c = {k: v for k, v in (convergence or {}).items() if v is not None}
    margin = c.pop("margin", None)
    return converged_restarts(
        runner, prec, seed, tol=tol, margin=default_margin(score) if margin is None else float(margin), **c
    )


def fixed_restarts(runner: Any, prec: np.ndarray, seed: int, restarts: int) -> RestartOutcome:
    """``restarts`` random starts; the best total wins (the first on ties)."""
    rng = np.zeros(1, dtype=np.uint64)
    scores: list[float] = []
    best: tuple | None = None
    for r in range(restarts):
        rng[0] = stream_seed(seed, r)
        start = random_order(rng, prec)
        total = runner.run(start, rng[0])
        scores.append(total)
        if best is None or total > scores[best[0]]:
            best = (r, runner.order(), None if runner.lazy_dag else runner.last())
    assert best is not None
    best_r, order, dag = best
    par, npar, exact = runner.dag_of(order) if dag is None else dag
    return RestartOutcome(order, par, npar, exact, scores, best_r, _convergence(scores, best_r, "fixed", 0.0))


def jittered_order(rng: np.ndarray, base: np.ndarray, prec: np.ndarray, strength: float) -> np.ndarray:
    """``base`` with every variable's position jittered by up to ``strength · p`` places.

    Each variable gets the key ``position + U(0, strength · p)``; the order sorts the keys (ties by
    position), taking, when ``prec`` constrains the order, always the smallest key among the
    variables whose predecessors are placed (so the result is a linear extension of ``prec``).
    """
    p = base.shape[0]
    scale = 1 << 20
    key = np.empty(p)
    key[base] = np.arange(p) + np.array([_below_py(rng, scale) for _ in range(p)]) * (strength * p / scale)
    if not prec.any():
        return np.argsort(key, kind="stable").astype(np.int64)
    prec = np.asarray(prec, dtype=bool)
    indeg = prec.sum(axis=0).astype(np.int64)
    placed = np.zeros(p, dtype=bool)
    order = np.empty(p, dtype=np.int64)
    for t in range(p):
        ready = np.flatnonzero((indeg == 0) & ~placed)
        v = ready[np.argmin(key[ready])]
        order[t] = v
        placed[v] = True
        indeg[prec[v]] -= 1
    return order


def converged_restarts(
    runner: Any,
    prec: np.ndarray,
    seed: int,
    *,
    tol: float,
    margin: float,
    hits: int = DEFAULT_HITS,
    patience: int = DEFAULT_PATIENCE,
    ils: int = DEFAULT_ILS,
    max_restarts: int = DEFAULT_MAX_RESTARTS,
    strength: float = DEFAULT_STRENGTH,
) -> RestartOutcome:
    """Chains of iterated local search until converged (see the module docstring); every run's DAG
    feeds the stability."""
    p = prec.shape[0]
    rng = np.zeros(1, dtype=np.uint64)
    scores: list[float] = []
    links: list[np.ndarray] = []  # per search: flat indices of its skeleton's pairs (not p x p each)
    best: tuple | None = None  # (run, order, par, npar, exact)
    n_hits = 0
    since = 0
    chains = 0
    best_chain: float | None = None  # the best score any chain ended with
    stop = "max_restarts"
    r = 0
    while r < max_restarts:
        chains += 1
        chain: tuple | None = None  # (score, order) of this chain's best run
        fails = 0
        reached = False
        while r < max_restarts and fails < ils:
            rng[0] = stream_seed(seed, r)
            start = random_order(rng, prec) if chain is None else jittered_order(rng, chain[1], prec, strength)
            total = runner.run(start, rng[0])
            scores.append(total)
            par, npar, exact = runner.last()
            dag = dag_from_parents(par, npar)
            links.append(np.flatnonzero(dag | dag.T))
            if best is None or total > scores[best[0]] + tol:
                best = (r, runner.order(), par, npar, exact)
            r += 1
            if chain is None or total > chain[0] + tol:
                chain = (total, runner.order())
                fails = 0
            else:
                fails += 1
            if best_chain is not None and abs(chain[0] - best_chain) <= tol:
                reached = True  # an earlier chain's optimum again: no need to search around it twice
                break
        assert chain is not None
        if best_chain is None or chain[0] > best_chain + tol:
            best_chain, n_hits, since = chain[0], 1, 0
        else:
            n_hits += reached
            since += 1
        if n_hits >= hits:
            stop = "hits"
            break
        if since >= patience:
            stop = "patience"
            break
    assert best is not None
    best_r, order, par, npar, exact = best
    values = np.asarray(scores)
    near = np.flatnonzero(values >= values[best_r] - margin)
    counts = np.zeros(p * p)
    for k in near:
        counts[links[k]] += 1
    stability = (counts / len(near)).reshape(p, p)
    convergence = _convergence(scores, best_r, stop, margin, tol)
    convergence["chains"] = chains
    convergence["chains_at_best"] = n_hits
    return RestartOutcome(order, par, npar, exact, scores, best_r, convergence, stability)


def _convergence(scores: list[float], best_r: int, stop: str, margin: float, tol: float = 0.0) -> dict[str, Any]:
    values = np.asarray(scores)
    best = values[best_r]
    return {
        "restarts": len(scores),
        "stopped_by": stop,
        "best_hits": int(np.sum(values >= best - tol)) if stop != "fixed" else int(np.sum(values == best)),
        "near_optimal": int(np.sum(values >= best - margin)),
        "margin": float(margin),
        "score_spread": float(best - values.min()),
        "score_mean_gap": float(best - values.mean()),
    }
