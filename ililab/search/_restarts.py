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
   ``max_restarts`` searches;
4. or, not converged, once at least ``hits`` chains have ended, every chain but the best one
   ended more than ``rugged · margin`` below the best score, and at least one chain ended after
   the best one (the chains disagree by many edges' penalties: a landscape so rugged that more
   chains rarely settle the graph, and each search on such dense data is slow; but a search whose
   latest chain set the best score is still improving, so it goes on; ``rugged = 0``, or
   ``margin = 0``, turns this off). In the measured cases that motivated the rule (sweep
   configurations 65 and 207 of seed 11, docs/grasp.md) the best chain was the first, so the
   last condition does not change them.

The search reports each search done to the caller's ``progress(done)`` (a bar whose total is
``max_restarts``) and, when it stops without converging (``max_restarts`` or ``rugged``),
:func:`finish_search` warns on the search's logger (except within
``ililab.progress.search_notes(False)``: a bootstrap replicate, counted by the bootstrap instead).

Search ``r`` (counted over all chains) draws from the stream ``stream_seed(seed, r)``, so a seed
fixes every choice.

Every search's DAG is kept; the *near-optimal* searches are those within ``margin`` of the best
score (default: the BIC penalty of one edge, ``c/2 · log n``: a score gap smaller than the price of
one edge does not single out one graph). Each skeleton pair's *stability* is the fraction of the
near-optimal searches whose DAG links it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ililab.progress import Progress, search_notes_enabled
from ililab.search._growshrink import dag_from_parents
from ililab.search._orders import _below_py, random_order, stream_seed

__all__ = [
    "RestartOutcome", "SearchResult", "finish_search", "check_restarts", "run_restarts", "fixed_restarts",
    "converged_restarts", "jittered_order", "not_converged_note", "restart_bar",
]

DEFAULT_HITS = 3
DEFAULT_PATIENCE = 20
DEFAULT_ILS = 8
DEFAULT_MAX_RESTARTS = 400
DEFAULT_STRENGTH = 0.3
#: Chains ending more than this many margins (edge penalties) below the best disagree (rule 4).
DEFAULT_RUGGED = 5.0


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


CONVERGENCE_KEYS = ("hits", "patience", "ils", "max_restarts", "strength", "margin", "rugged")


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
    note = not_converged_note(outcome.convergence, _NAMES.get(result_type.__name__, "the search"))
    if note and search_notes_enabled():  # off in bootstrap replicates: the bootstrap warns once for all
        log.warning("%s", note)
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


_NAMES = {"GraspResult": "GRaSP", "BossResult": "BOSS"}


def not_converged_note(convergence: dict, name: str = "the search") -> str | None:
    """The warning for a search stopped without converging (``max_restarts`` or ``rugged``), else None.

    Parameters
    ----------
    convergence : dict
        A search's ``convergence`` (:func:`converged_restarts`): ``stopped_by``, ``restarts``,
        ``chains``, ``chains_at_best``, ``margin`` and, when stopped by ``rugged``, ``closest_chain_gap``.
    name : str
        The search named at the start of the warning (``"GRaSP"``, ``"BOSS"``).

    Returns
    -------
    str or None
        The warning's text, or None when the search converged (or ran fixed restarts).

    Examples
    --------
    >>> not_converged_note({"stopped_by": "hits"}) is None
    True
    >>> print(not_converged_note({"stopped_by": "max_restarts", "restarts": 400, "chains": 15,
    ...                           "chains_at_best": 1, "margin": 13.8}, "GRaSP"))  # doctest: +NORMALIZE_WHITESPACE
    GRaSP stopped at max_restarts = 400 searches without converging (1 of 15 chains ended at the best
    score): the graph may change with the seed; read each edge's stability, or raise max_restarts
    """
    stop = convergence.get("stopped_by")
    if stop == "max_restarts":
        return (
            f"{name} stopped at max_restarts = {convergence['restarts']} searches without converging "
            f"({convergence['chains_at_best']} of {convergence['chains']} chains ended at the best score): the graph "
            "may change with the seed; read each edge's stability, or raise max_restarts"
        )
    if stop == "rugged":
        gap = convergence["closest_chain_gap"] / max(convergence["margin"], 1e-300)
        return (
            f"{name} stopped without converging after {convergence['restarts']} searches in {convergence['chains']} "
            f"chains: every chain but the best ended far below the best score (the closest {gap:.1f} edge "
            "penalties below), a BIC landscape too rugged to settle (dense data or few rows per column); "
            "the graph may change with the seed: read each edge's stability, or set rugged=0 to search "
            "until max_restarts"
        )
    return None


def check_restarts(restarts: int | None, convergence: dict | None) -> None:
    """Raise ``ValueError`` on a bad ``restarts`` / ``convergence`` setting of a search."""
    if restarts is not None and restarts < 1:
        raise ValueError(f"restarts must be >= 1 (or None: until converged), got {restarts}")
    for key, value in (convergence or {}).items():
        if key not in CONVERGENCE_KEYS:
            raise ValueError(f"unknown convergence setting {key!r}; expected one of {CONVERGENCE_KEYS}")
        if value is None:
            continue
        if key in ("strength", "margin", "rugged"):
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"convergence {key} must be a finite number >= 0, got {value}")
        elif int(value) != value or value < 1:
            raise ValueError(f"convergence {key} must be an integer >= 1, got {value}")


def default_margin(score: Any) -> float:
    """The BIC penalty of one edge, ``c/2 · log n``: restarts closer than this to the best are near-optimal."""
    return 0.5 * float(score.penalty) * float(np.log(score.n))


def run_restarts(
    runner: Any,
    prec: np.ndarray,
    seed: int,
    restarts: int | None,
    score: Any,
    tol: float,
    convergence: dict | None,
    progress: Callable[[int], None] | None = None,
) -> RestartOutcome:
    """``restarts`` fixed starts, or (``restarts=None``) restarts until converged with ``convergence``
    settings (keys of :data:`CONVERGENCE_KEYS`; ``None`` values take the defaults); ``progress(done)``
    after each search."""
    if restarts is not None:
        return fixed_restarts(runner, prec, seed, restarts, progress)
    c = {k: v for k, v in (convergence or {}).items() if v is not None}
    margin = c.pop("margin", None)
    return converged_restarts(
        runner, prec, seed, tol=tol, margin=default_margin(score) if margin is None else float(margin),
        progress=progress, **c,
    )


def restart_bar(name: str, restarts: int | None, convergence: dict | None, enabled: bool) -> Progress:
    """The bar of a search's restarts: ``restarts``, or until converged out of at most ``max_restarts``.

    Parameters
    ----------
    name : str
        The search, shown in the bar's label.
    restarts : int or None
        Fixed restarts (the bar's total), or None: until converged.
    convergence : dict or None
        The search's convergence settings; their ``max_restarts`` (default ``DEFAULT_MAX_RESTARTS``)
        is the total of an until-converged bar.
    enabled : bool
        False: the bar never draws (:func:`ililab.progress.search_bars_enabled` outside the API's run).

    Returns
    -------
    Progress
        Not yet drawn; use it as a context manager so its line ends with the search.

    Examples
    --------
    >>> bar = restart_bar("GRaSP", None, {"max_restarts": 50}, enabled=False)
    >>> bar.total, bar.label
    (50, 'GRaSP searches (until converged)')
    """
    if restarts is not None:
        return Progress(restarts, f"{name} searches", enabled=enabled)
    total = (convergence or {}).get("max_restarts") or DEFAULT_MAX_RESTARTS
    return Progress(total, f"{name} searches (until converged)", enabled=enabled)


def fixed_restarts(
    runner: Any, prec: np.ndarray, seed: int, restarts: int, progress: Callable[[int], None] | None = None
) -> RestartOutcome:
    """``restarts`` random starts; the best total wins (the first on ties); ``progress(done)`` after each."""
    rng = np.zeros(1, dtype=np.uint64)
    scores: list[float] = []
    best: tuple | None = None
    for r in range(restarts):
        rng[0] = stream_seed(seed, r)
        start = random_order(rng, prec)
        total = runner.run(start, rng[0])
        scores.append(total)
        if progress is not None:
            progress(len(scores))
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
    rugged: float = DEFAULT_RUGGED,
    progress: Callable[[int], None] | None = None,
) -> RestartOutcome:
    """Chains of iterated local search until converged (see the module docstring); every run's DAG
    feeds the stability; ``progress(done)`` after each search."""
    p = prec.shape[0]
    rng = np.zeros(1, dtype=np.uint64)
    scores: list[float] = []
    links: list[np.ndarray] = []  # per search: flat indices of its skeleton's pairs (not p x p each)
    best: tuple | None = None  # (run, order, par, npar, exact)
    n_hits = 0
    since = 0
    chains = 0
    best_chain: float | None = None  # the best score any chain ended with
    best_at = 0  # which chain ended with it
    ends: list[float] = []  # the score each chain ended with
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
            if progress is not None:
                progress(len(scores))
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
        ends.append(chain[0])
        if best_chain is None or chain[0] > best_chain + tol:
            best_chain, n_hits, since = chain[0], 1, 0
            best_at = chains  # the chain (1-based) that set the best score
        else:
            n_hits += reached
            since += 1
        if n_hits >= hits:
            stop = "hits"
            break
        if since >= patience:
            stop = "patience"
            break
        # rule 4: only the best chain itself ends within rugged * margin of the best score, and a chain
        # ended after the best one (not while each new chain still improves the score)
        if (
            rugged * margin > 0
            and chains >= hits
            and best_at < chains
            and sum(e >= best_chain - rugged * margin for e in ends) == 1
        ):
            stop = "rugged"
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
    if stop == "rugged":  # only then (the meta of converged searches keeps its keys)
        convergence["closest_chain_gap"] = float(best_chain - max(e for e in ends if e < best_chain - tol))
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
