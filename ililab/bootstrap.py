"""Edge confidence by bootstrap: resample rows, rerun the learner, count how often each edge comes back.

What a replicate is
    Replicate ``b`` of ``B`` draws ``n`` rows with replacement (an exact
    multinomial(n, 1/n) count per row, :class:`ililab.stats.BootstrapCounts`)
    and runs the learner on the covariance of the resample. The resample is
    never materialised: its covariance is the count-weighted covariance of the
    original rows, accumulated in one streaming pass (memory-mapped shards are
    read chunk by chunk, the soft-label transform applied per chunk). Learners
    that need rows (``pc``, ``cl-grasp``) get the resampled rows when the data are
    in memory, else rows rebuilt from the covariance (``Dataset.surrogate_data``).

Seeds
    Replicate ``b`` uses ``numpy.random.SeedSequence(seed).spawn(B)[b]``: its
    first children draw the row counts, and its first 32-bit state word is the
    learner's ``seed``. A replicate is a pure function of (data, learner,
    parameters, seed, b), and results are combined in replicate order, so the
    confidences are identical on every engine and for any number of workers.

What is reported
    The graph of the full data, each edge annotated with ``confidence`` = the
    fraction of replicates in which its two nodes are adjacent (whatever the
    orientation). ``meta["bootstrap"]["pairs"]`` lists every pair adjacent in at
    least one replicate with the frequencies of ``source -> target``,
    ``target -> source`` and of the undirected edge, so consensus graphs or other
    thresholds can be formed afterwards. ``min_confidence`` drops edges of the
    full-data graph whose confidence is lower. A replicate whose search (GRaSP,
    BOSS) stopped without converging does not warn; the bootstrap warns once after
    the replicates and records how many in ``meta["bootstrap"]["not_converged"]``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ililab.dataset import Dataset
from ililab.engines.local import LocalEngine
from ililab.engines.sources import ShardSource, as_source, open_source
from ililab.errors import DataError, IlilabError, UsageError
from ililab.graph import DependencyGraph, Edge, Node
from ililab.knowledge import Knowledge
from ililab.progress import search_notes
from ililab.stats import BootstrapCounts, streaming_moments

__all__ = ["BootstrapResult", "replicate_seed", "run_bootstrap", "annotate", "bootstrap_graph"]

log = logging.getLogger(__name__)

# How a search's ``meta["search"]["stopped_by"]`` says it did not converge (ililab.search._restarts).
_NOT_CONVERGED = ("max_restarts", "rugged")

# Edge codes of a replicate: (i, j, code) with i < j in node order.
_FORWARD, _BACKWARD, _UNDIRECTED = 1, 2, 3


def replicate_seed(seed: int, replicate: int) -> int:
    """The learner seed of replicate ``replicate``: first state word of ``SeedSequence(seed).spawn(B)[replicate]``.

    It does not depend on the number of replicates ``B``: adding replicates keeps the first ones.

    Examples
    --------
    >>> replicate_seed(0, 1)
    673228719
    >>> int(np.random.SeedSequence(0).spawn(5)[1].generate_state(1, np.uint32)[0])
    673228719
    """
    child = np.random.SeedSequence(seed, spawn_key=(replicate,))
    return int(child.generate_state(1, np.uint32)[0])


@dataclass(frozen=True)
class _Shared:
    """What every replicate reads (sent to each worker once)."""

    source: ShardSource
    transform: Any  # a row-wise chunk transform, or None when the rows are already transformed
    regularise: Any  # (cov, n) -> cov after the pass (clr ridge, softmax inversion), or None
    rows_in_memory: bool
    n_rows: int
    nodes: tuple[Node, ...]
    output_names: tuple[str, ...]
    info: Mapping[str, Any]
    learner: str
    params: Mapping[str, Any]
    knowledge: Knowledge | None
    seed: int
    chunk_rows: int | None


def _replicate_dataset(shared: _Shared, b: int, needs_rows: bool) -> Dataset:
    arrays = open_source(shared.source)
    counts = BootstrapCounts(shared.n_rows, shared.seed, b)
    moments = streaming_moments(arrays, chunk_rows=shared.chunk_rows, transform=shared.transform, weights=counts)
    cov = moments.covariance()
    if shared.regularise is not None:
        cov = shared.regularise(cov, shared.n_rows)
    rows = None
    if needs_rows and shared.rows_in_memory:
        rows = np.repeat(np.concatenate([np.asarray(a, dtype=np.float64) for a in arrays]), counts(0, shared.n_rows), axis=0)
    return Dataset(shared.nodes, cov, shared.n_rows, rows, dict(shared.info))


def _fit_replicate(shared: _Shared, b: int) -> tuple[tuple[tuple[int, int, int], ...], bool]:
    """One replicate: resampled statistics -> learner -> (edges as (i, j, code) over the output nodes,
    whether the learner's search stopped without converging)."""
    from ililab.learners import get

    learner_cls = get(shared.learner)
    params = dict(shared.params)
    if "seed" in learner_cls.Params.model_fields:
        params["seed"] = replicate_seed(shared.seed, b)
    try:
        dataset = _replicate_dataset(shared, b, learner_cls.tags.needs_rows)
        with search_notes(False):  # one warning after all replicates (run_bootstrap), not one per replicate
            graph = learner_cls().fit(dataset, shared.knowledge, learner_cls.validate_params(params))
    except IlilabError as error:
        raise type(error)(f"bootstrap replicate {b}: {error}") from None
    index = {name: i for i, name in enumerate(shared.output_names)}
    out = []
    for e in graph.edges:
        i, j = index[e.source], index[e.target]
        if not e.directed:
            out.append((min(i, j), max(i, j), _UNDIRECTED))
        elif i < j:
            out.append((i, j, _FORWARD))
        else:
            out.append((j, i, _BACKWARD))
    search = graph.meta.get("search") or {}
    return tuple(sorted(out)), search.get("stopped_by") in _NOT_CONVERGED


@dataclass(frozen=True)
class BootstrapResult:
    """Counts over ``replicates`` replicates, per ordered pair of output nodes (``i < j``).

    Attributes
    ----------
    names : tuple of str
        The output nodes, in graph order.
    replicates : int
        B, the number of replicates counted.
    seed : int
        The root seed (:func:`replicate_seed`).
    forward, backward, undirected : ndarray of shape (p, p)
        ``forward[i, j]``: replicates with ``i -> j``; ``backward[i, j]``: with
        ``j -> i``; ``undirected[i, j]``: with ``i - j`` (upper triangle only).
    not_converged : int
        Replicates whose search (GRaSP, BOSS until converged) stopped without converging.

    Examples
    --------
    >>> result = BootstrapResult(
    ...     ("a", "b", "c"), replicates=4, seed=0,
    ...     forward=np.array([[0, 3, 0], [0, 0, 1], [0, 0, 0]]),   # a -> b in 3 replicates, b -> c in 1
    ...     backward=np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0]]),  # b -> a in 1
    ...     undirected=np.zeros((3, 3), dtype=int),
    ... )
    >>> result.confidence("b", "a"), result.confidence("a", "c")
    (1.0, 0.0)
    """

    names: tuple[str, ...]
    replicates: int
    seed: int
    forward: np.ndarray
    backward: np.ndarray
    undirected: np.ndarray
    not_converged: int = 0

    @property
    def adjacency(self) -> np.ndarray:
        """Replicates in which ``i`` and ``j`` are adjacent (upper triangle).

        Examples
        --------
        >>> result = BootstrapResult(
        ...     ("a", "b", "c"), replicates=4, seed=0,
        ...     forward=np.array([[0, 3, 0], [0, 0, 1], [0, 0, 0]]),   # a -> b in 3 replicates, b -> c in 1
        ...     backward=np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0]]),  # b -> a in 1
        ...     undirected=np.zeros((3, 3), dtype=int),
        ... )
        >>> result.adjacency
        array([[0, 4, 0],
               [0, 0, 1],
               [0, 0, 0]])
        """
        return self.forward + self.backward + self.undirected

    def confidence(self, u: str, v: str) -> float:
        """Fraction of replicates in which ``u`` and ``v`` are adjacent (in either order).

        Examples
        --------
        >>> result = BootstrapResult(
        ...     ("a", "b", "c"), replicates=4, seed=0,
        ...     forward=np.array([[0, 3, 0], [0, 0, 1], [0, 0, 0]]),   # a -> b in 3 replicates, b -> c in 1
        ...     backward=np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0]]),  # b -> a in 1
        ...     undirected=np.zeros((3, 3), dtype=int),
        ... )
        >>> result.confidence("a", "b"), result.confidence("c", "b")
        (1.0, 0.25)
        """
        i, j = sorted((self.names.index(u), self.names.index(v)))
        return float(self.adjacency[i, j]) / self.replicates

    def pairs(self) -> list[dict[str, Any]]:
        """Every pair adjacent in at least one replicate, with its frequencies, in node order.

        Examples
        --------
        >>> result = BootstrapResult(
        ...     ("a", "b", "c"), replicates=4, seed=0,
        ...     forward=np.array([[0, 3, 0], [0, 0, 1], [0, 0, 0]]),   # a -> b in 3 replicates, b -> c in 1
        ...     backward=np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0]]),  # b -> a in 1
        ...     undirected=np.zeros((3, 3), dtype=int),
        ... )
        >>> result.pairs()[0]
        {'source': 'a', 'target': 'b', 'adjacency': 1.0, 'forward': 0.75, 'backward': 0.25, 'undirected': 0.0}
        >>> len(result.pairs())
        2
        """
        adjacency = self.adjacency
        out = []
        for i, j in zip(*np.nonzero(adjacency)):
            out.append(
                {
                    "source": self.names[i],
                    "target": self.names[j],
                    "adjacency": float(adjacency[i, j]) / self.replicates,
                    "forward": float(self.forward[i, j]) / self.replicates,
                    "backward": float(self.backward[i, j]) / self.replicates,
                    "undirected": float(self.undirected[i, j]) / self.replicates,
                }
            )
        return out


def _shared_for(
    dataset: Dataset,
    learner: str,
    params: Mapping[str, Any],
    knowledge: Knowledge | None,
    seed: int,
    chunk_rows: int | None,
) -> _Shared:
    plan = dataset.plan
    # Every plan has regularise(cov, n) (a no-op for plain transforms other than clr), so none is named here.
    regularise = getattr(plan, "regularise", None)
    if dataset.data is not None:
        source, transform, in_memory = [np.asarray(dataset.data, dtype=np.float64)], None, True
        n_rows = dataset.data.shape[0]
    elif dataset.source is not None:
        arrays = list(dataset.source)
        source, transform, in_memory = as_source(arrays), plan, False
        n_rows = sum(a.shape[0] for a in arrays)
    else:
        raise UsageError("bootstrap needs the data rows, but this dataset holds only a covariance; pass the data file or array")
    info = {k: v for k, v in dataset.info.items() if not k.startswith("_")}
    return _Shared(
        source=source,
        transform=transform,
        regularise=regularise,
        rows_in_memory=in_memory,
        n_rows=int(n_rows),
        nodes=dataset.nodes,
        output_names=tuple(n.name for n in dataset.graph_nodes),
        info=info,
        learner=learner,
        params=dict(params),
        knowledge=knowledge,
        seed=int(seed),
        chunk_rows=chunk_rows,
    )


def run_bootstrap(
    dataset: Dataset,
    *,
    learner: str,
    params: Mapping[str, Any] | None = None,
    knowledge: Knowledge | None = None,
    replicates: int = 100,
    seed: int = 0,
    engine: Any = None,
    chunk_rows: int | None = None,
    on_result: Callable[[int], None] | None = None,
) -> BootstrapResult:
    """Run ``replicates`` bootstrap replicates of ``learner`` on ``dataset`` and count edges.

    Parameters
    ----------
    dataset : Dataset
        From :func:`ililab.api.prepare_dataset` (rows in memory, or shards it streamed).
    learner : str
        Registered learner name.
    params : mapping, optional
        Learner parameters (the replicate's seed replaces ``seed``).
    knowledge : Knowledge, optional
    replicates : int
        B, at least 1.
    seed : int
        Root of every replicate's seed.
    engine : Engine, optional
        Where replicates run (default: ``LocalEngine(1)``, this process).
    chunk_rows : int, optional
        Rows per chunk of each replicate's pass (default: automatic).
    on_result : callable, optional
        ``on_result(done)`` after each finished replicate (a progress bar).

    Returns
    -------
    BootstrapResult

    Raises
    ------
    UsageError
        ``replicates < 1``, a negative seed, or a dataset holding only a covariance (no rows).

    Examples
    --------
    >>> from ililab.simulate import simulate_linear_sem
    >>> sim = simulate_linear_sem(5, 200, seed=1)
    >>> dataset = Dataset.from_array(sim.data, sim.names)
    >>> result = run_bootstrap(dataset, learner="grasp", replicates=20, seed=0)
    >>> result.replicates, result.adjacency.shape
    (20, (5, 5))
    >>> result.confidence("x1", "x2")  # a strong edge comes back in every replicate
    1.0
    >>> again = run_bootstrap(dataset, learner="grasp", replicates=20, seed=0)
    >>> bool(np.array_equal(again.forward, result.forward))  # same seed, same counts
    True
    """
    if replicates < 1:
        raise UsageError(f"--bootstrap must be at least 1, got {replicates}")
    if seed < 0:
        raise UsageError(f"the seed must be non-negative, got {seed}")
    shared = _shared_for(dataset, learner, params or {}, knowledge, seed, chunk_rows)
    engine = engine if engine is not None else LocalEngine(1)
    results = engine.map(_fit_replicate, list(range(replicates)), shared=shared, on_result=on_result)
    p = len(shared.output_names)
    counts = {code: np.zeros((p, p), dtype=np.int64) for code in (_FORWARD, _BACKWARD, _UNDIRECTED)}
    not_converged = 0
    for edges, stopped_early in results:  # replicate order: identical sums on every engine
        not_converged += stopped_early
        for i, j, code in edges:
            counts[code][i, j] += 1
    if not_converged:
        log.warning(
            "the search stopped without converging in %d of %d bootstrap replicates: their graphs may change "
            "with the seed, which lowers the confidences; raise max_restarts (or set rugged=0)",
            not_converged, replicates,
        )
    return BootstrapResult(
        shared.output_names, replicates, int(seed), counts[_FORWARD], counts[_BACKWARD], counts[_UNDIRECTED],
        not_converged,
    )


def annotate(graph: DependencyGraph, result: BootstrapResult, min_confidence: float | None = None) -> DependencyGraph:
    """``graph`` with each edge's ``confidence`` from ``result``, edges below ``min_confidence`` dropped.

    ``meta["bootstrap"]`` records the replicates, the seed, every pair's frequencies
    (:meth:`BootstrapResult.pairs`), with ``min_confidence`` how many edges were dropped, and, when
    some replicates' search stopped without converging, how many (``not_converged``).

    Parameters
    ----------
    graph : DependencyGraph
        The full-data graph.
    result : BootstrapResult
        Counts over the same output nodes, in the same order.
    min_confidence : float, optional
        Drop edges whose confidence is lower (in ``[0, 1]``).

    Returns
    -------
    DependencyGraph

    Raises
    ------
    UsageError
        ``min_confidence`` outside ``[0, 1]``.
    DataError
        ``result`` was computed over other nodes than ``graph``'s.

    Examples
    --------
    >>> result = BootstrapResult(
    ...     ("a", "b", "c"), replicates=4, seed=0,
    ...     forward=np.array([[0, 3, 0], [0, 0, 1], [0, 0, 0]]),
    ...     backward=np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0]]),
    ...     undirected=np.zeros((3, 3), dtype=int),
    ... )
    >>> graph = DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("b", "c")])
    >>> [(e.source, e.target, e.confidence) for e in annotate(graph, result).edges]
    [('a', 'b', 1.0), ('b', 'c', 0.25)]
    >>> kept = annotate(graph, result, min_confidence=0.5)
    >>> len(kept.edges), kept.meta["bootstrap"]["edges_dropped"]
    (1, 1)
    """
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise UsageError(f"--min-confidence must lie in [0, 1], got {min_confidence}")
    if tuple(graph.names) != result.names:
        raise DataError("the bootstrap was run on other nodes than the graph's")
    edges = []
    for e in graph.edges:
        confidence = result.confidence(e.source, e.target)
        if min_confidence is not None and confidence < min_confidence:
            continue
        edges.append(Edge(e.source, e.target, e.kind, e.weight, confidence))
    summary: dict[str, Any] = {
        "replicates": result.replicates,
        "seed": result.seed,
        "resampling": "rows with replacement (multinomial counts), covariance of the resample",
        "confidence": "fraction of replicates in which the two nodes are adjacent",
        "pairs": result.pairs(),
    }
    if result.not_converged:  # replicates whose search stopped without converging (warned once)
        summary["not_converged"] = result.not_converged
    if min_confidence is not None:
        summary["min_confidence"] = min_confidence
        summary["edges_dropped"] = len(graph.edges) - len(edges)
    return graph.with_edges(edges, bootstrap=summary)


def bootstrap_graph(
    graph: DependencyGraph, dataset: Dataset, *, min_confidence: float | None = None, **settings: Any
) -> DependencyGraph:
    """Run the bootstrap and return ``graph`` (the full-data graph) annotated with confidences.

    ``settings`` are the keyword arguments of :func:`run_bootstrap` (``learner``, ``params``,
    ``knowledge``, ``replicates``, ``seed``, ``engine``, ``chunk_rows``, ``on_result``);
    ``min_confidence`` is that of :func:`annotate`.

    Parameters
    ----------
    graph : DependencyGraph
        The graph of the full data.
    dataset : Dataset
        The data it was learned from (rows in memory or streamed shards).
    min_confidence : float, optional
        As in :func:`annotate`.
    **settings
        Keyword arguments of :func:`run_bootstrap`.

    Returns
    -------
    DependencyGraph

    Examples
    --------
    >>> from ililab.learners import get
    >>> from ililab.simulate import simulate_linear_sem
    >>> sim = simulate_linear_sem(5, 200, seed=1)
    >>> dataset = Dataset.from_array(sim.data, sim.names)
    >>> grasp = get("grasp")
    >>> graph = grasp().fit(dataset, None, grasp.validate_params({"seed": 0}))
    >>> sure = bootstrap_graph(graph, dataset, learner="grasp", replicates=20, seed=0, min_confidence=0.9)
    >>> all(e.confidence >= 0.9 for e in sure.edges), len(sure.edges) < len(graph.edges)
    (True, True)
    """
    return annotate(graph, run_bootstrap(dataset, **settings), min_confidence)
