"""Pieces shared by the native score-based learners (``grasp``, ``boss``).

* :func:`knowledge_matrices` — a :class:`~ililab.knowledge.Knowledge` as the boolean matrices
  the search kernels take (forbidden, required, order precedence), with a clear error when
  required edges and tiers cannot all hold (a cycle).
* :class:`OrderSearchParams` — the parameters every native order search shares (penalty /
  lambda, seed, restarts, max_parents, graph, cache_size); each learner adds its own.
* :func:`setup_search` — what every native order search's ``fit`` does first (validate the
  parameters, knowledge matrices, the BIC score), as a :class:`SearchSetup` that also builds the
  search's common keyword arguments and the graph's ``meta``.
* :func:`graph_from_dag` — a search's DAG as a :class:`~ililab.graph.DependencyGraph`: the DAG
  itself, or its CPDAG oriented further by the knowledge; edge weights are standardised
  regression coefficients of each child on its parents in the DAG.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pydantic

from ililab.cpdag import dag_to_cpdag, is_dag
from ililab.dataset import Dataset
from ililab.errors import DataError
from ililab.graph import DependencyGraph, Edge
from ililab.knowledge import Knowledge
from ililab.learners.base import PenaltyParams, penalty_from
from ililab.progress import search_bars_enabled
from ililab.scores.bic import BICScore
from ililab.scores.kernels import solve_block

__all__ = [
    "KnowledgeMatrices",
    "OrderSearchParams",
    "SearchSetup",
    "knowledge_matrices",
    "setup_search",
    "graph_from_dag",
    "standardized_weights",
]

DEFAULT_CACHE_SIZE = 1 << 20


class OrderSearchParams(PenaltyParams):
    """Parameters shared by the native permutation searches (``grasp``, ``boss``).

    Examples
    --------
    >>> params = OrderSearchParams(restarts=4)
    >>> params.restarts, params.penalty, params.graph
    (4, 4.0, 'cpdag')
    """

    restarts: int | None = pydantic.Field(
        None,
        ge=1,
        description="fixed number of random starting orders (the best total BIC wins); "
        "None (default): restart until converged (see max_restarts, hits, patience)",
    )
    max_restarts: int = pydantic.Field(400, ge=1, description="cap on searches when restarting until converged")
    hits: int = pydantic.Field(3, ge=1, description="stop once this many search chains reached the best score")
    patience: int = pydantic.Field(20, ge=1, description="stop after this many chains in a row without a better score")
    ils: int = pydantic.Field(8, ge=1, description="a chain ends after this many jittered restarts in a row without gain")
    margin: float | None = pydantic.Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="restarts within this BIC of the best are near-optimal (edge stability); "
        "default: one edge's penalty, c/2 * log n",
    )
    rugged: float = pydantic.Field(
        5.0,
        ge=0,
        allow_inf_nan=False,
        description="stop, not converged, once hits chains ended, every chain but the best ended more than "
        "rugged x margin below the best and a chain ended after the best one (a landscape too rugged to "
        "settle); 0: never",
    )
    seed: int = pydantic.Field(0, ge=0, description="seed of the random orders and shuffles")
    graph: Literal["cpdag", "dag"] = pydantic.Field("cpdag", description="return the CPDAG or the DAG found")
    max_parents: int | None = pydantic.Field(None, ge=1, description="cap on parents per node")
    cache_size: int = pydantic.Field(
        DEFAULT_CACHE_SIZE, ge=1000, description="grow-shrink tree nodes kept (about 40 bytes each)"
    )


class KnowledgeMatrices:
    """Boolean ``(p, p)`` matrices: ``forbidden[x, y]``, ``required[x, y]`` for ``x -> y``, and
    ``precedence[a, b]`` when ``a`` must come before ``b`` in every order (tiers and required edges).

    Examples
    --------
    >>> from ililab.knowledge import Knowledge
    >>> m = knowledge_matrices(Knowledge(required=[("a", "b")]), ["a", "b"])
    >>> m.required.astype(int).tolist(), m.precedence.astype(int).tolist(), m.any
    ([[0, 1], [0, 0]], [[0, 1], [0, 0]], True)
    """

    def __init__(self, forbidden: np.ndarray, required: np.ndarray, precedence: np.ndarray) -> None:
        self.forbidden = forbidden
        self.required = required
        self.precedence = precedence

    @property
    def any(self) -> bool:
        """Whether there is any constraint.

        Examples
        --------
        >>> knowledge_matrices(None, ["a", "b"]).any
        False
        """
        return bool(self.forbidden.any() or self.required.any() or self.precedence.any())


def knowledge_matrices(knowledge: Knowledge | None, names: list[str]) -> KnowledgeMatrices:
    """The matrices of ``knowledge`` over the variables ``names``.

    Raises
    ------
    DataError
        If the knowledge names unknown variables, both requires and forbids an edge, or its
        required edges and tiers form a cycle.

    Examples
    --------
    >>> from ililab.knowledge import Knowledge
    >>> knowledge_matrices(Knowledge(forbidden=[("b", "a")]), ["a", "b"]).forbidden.astype(int).tolist()
    [[0, 0], [1, 0]]
    >>> knowledge_matrices(Knowledge(required=[("a", "b"), ("b", "a")]), ["a", "b"])
    Traceback (most recent call last):
    ...
    ililab.errors.DataError: knowledge: the required edges (with the tiers) form a cycle; no DAG can satisfy them
    """
    p = len(names)
    if knowledge is None or knowledge.is_empty:
        empty = np.zeros((p, p), dtype=bool)
        return KnowledgeMatrices(empty, empty.copy(), empty.copy())
    forbidden = knowledge.forbidden_matrix(names)
    required = knowledge.required_matrix(names)
    tier_of = {name: k for k, tier in enumerate(knowledge.tiers) for name in tier}
    rank = np.array([tier_of.get(name, -1) for name in names])
    tiered = rank >= 0
    precedence = required | (tiered[:, None] & tiered[None, :] & (rank[:, None] < rank[None, :]))
    np.fill_diagonal(precedence, False)
    if not is_dag(precedence):
        raise DataError("knowledge: the required edges (with the tiers) form a cycle; no DAG can satisfy them")
    return KnowledgeMatrices(forbidden, required, precedence)


class SearchSetup:
    """The validated parameters, penalty, knowledge matrices and BIC score of one search.

    Examples
    --------
    >>> from ililab.dataset import Dataset
    >>> from ililab.simulate import simulate_linear_sem
    >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
    >>> from ililab.learners import get
    >>> setup = setup_search(get("boss"), data, None, {"restarts": 2})
    >>> setup.penalty, setup.score.n, setup.matrices.any
    (4.0, 2000, False)
    """

    def __init__(self, params: Any, penalty: float, matrices: KnowledgeMatrices, score: BICScore) -> None:
        self.params = params
        self.penalty = penalty
        self.matrices = matrices
        self.score = score

    def search_kwargs(self) -> dict[str, Any]:
        """Keyword arguments every native order search takes (restarts, seed, knowledge, caps).

        Examples
        --------
        >>> from ililab.dataset import Dataset
        >>> from ililab.simulate import simulate_linear_sem
        >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
        >>> from ililab.learners import get
        >>> setup = setup_search(get("boss"), data, None, {"restarts": 2})
        >>> setup.search_kwargs()["restarts"], setup.search_kwargs()["seed"]
        (2, 0)
        """
        p, m = self.params, self.matrices
        return {
            "restarts": p.restarts,
            "convergence": {
                "max_restarts": p.max_restarts,
                "hits": p.hits,
                "patience": p.patience,
                "ils": p.ils,
                "margin": p.margin,
                "rugged": p.rugged,
            },
            "progress": search_bars_enabled(),
            "seed": p.seed,
            "forbidden": m.forbidden,
            "required": m.required,
            "precedence": m.precedence,
            "max_parents": p.max_parents,
            "cache_size": p.cache_size,
        }

    def meta(self, learner: str, result: Any, stat_keys: tuple[str, ...]) -> dict[str, Any]:
        """The graph's ``meta``: learner, parameters, total BIC, restart scores (searches with restarts),
        chosen search statistics.

        Examples
        --------
        >>> from ililab.dataset import Dataset
        >>> from ililab.simulate import simulate_linear_sem
        >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
        >>> from ililab.learners import get
        >>> setup = setup_search(get("boss"), data, None, {"restarts": 2})
        >>> from ililab.search.boss import boss_search
        >>> result = boss_search(setup.score, **setup.search_kwargs())
        >>> meta = setup.meta("boss", result, ("passes",))
        >>> meta["learner"], meta["params"]["lambda"], list(meta["search"])[:2]
        ('boss', 2.0, ['passes', 'restarts'])
        """
        meta = {
            "learner": learner,
            "params": {**self.params.model_dump(by_alias=True), "penalty": self.penalty, "lambda": self.penalty / 2},
            "score": result.score,
        }
        if hasattr(result, "restart_scores"):
            meta["restart_scores"] = result.restart_scores
        meta["search"] = {k: v for k, v in result.stats.items() if k in stat_keys}
        meta["search"].update(getattr(result, "convergence", {}))
        stability = getattr(result, "stability", None)
        if stability is not None:
            # pairs the near-optimal restarts mostly link but the returned graph does not
            missing = np.triu((stability >= 0.5) & ~(result.dag | result.dag.T), 1)
            meta["search"]["unlinked_stable_pairs"] = int(missing.sum())
        return meta

    def graph(self, data: Dataset, learner: str, result: Any, stat_keys: tuple[str, ...]) -> DependencyGraph:
        """The search ``result`` as the learner's graph: :meth:`meta`, then :func:`graph_from_dag`
        (with each edge's stability when the search measured it) -- the last step of every native ``fit``.

        Examples
        --------
        >>> from ililab.dataset import Dataset
        >>> from ililab.simulate import simulate_linear_sem
        >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
        >>> from ililab.learners import get
        >>> setup = setup_search(get("boss"), data, None, {"restarts": 2})
        >>> from ililab.search.boss import boss_search
        >>> graph = setup.graph(data, "boss", boss_search(setup.score, **setup.search_kwargs()), ("passes",))
        >>> graph.meta["learner"], len(graph.nodes)
        ('boss', 5)
        """
        meta = self.meta(learner, result, stat_keys)
        stability = getattr(result, "stability", None)
        return graph_from_dag(data, result.dag, self.score, self.matrices, self.params.graph, meta, stability)


def setup_search(learner: Any, data: Dataset, knowledge: Knowledge | None, params: Any) -> SearchSetup:
    """Validate ``params`` for ``learner`` and build the knowledge matrices and BIC score of ``data``.

    Raises
    ------
    ParameterError
        On invalid parameters.
    DataError
        On knowledge that cannot hold (see :func:`knowledge_matrices`).

    Examples
    --------
    >>> from ililab.dataset import Dataset
    >>> from ililab.simulate import simulate_linear_sem
    >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
    >>> from ililab.learners import get
    >>> setup_search(get("grasp"), data, None, {"lambda": 1}).penalty
    2.0
    """
    params = learner.validate_params(params)
    penalty = penalty_from(params)
    matrices = knowledge_matrices(knowledge, data.names)
    return SearchSetup(params, penalty, matrices, BICScore(data.covariance, data.n_samples, penalty))


def standardized_weights(cov: np.ndarray, dag: np.ndarray) -> np.ndarray:
    """``w[i, j]``: standardised coefficient of ``i`` in the regression of ``j`` on its parents in
    ``dag`` (nonzero ``[i, j]`` for ``i -> j``); zero where there is no edge.

    The values of :meth:`BICScore.regression` (:func:`ililab.scores.kernels.solve_block`), without
    its per-call checks: one pass over the DAG.

    Examples
    --------
    >>> import numpy as np
    >>> cov = np.array([[4.0, 2.0], [2.0, 2.0]])  # y = 0.5 x + e, sd(x) = 2, sd(y) = sqrt(2)
    >>> dag = np.array([[0, 1], [0, 0]], dtype=bool)
    >>> np.round(standardized_weights(cov, dag), 4).tolist()
    [[0.0, 0.7071], [0.0, 0.0]]
    """
    p = cov.shape[0]
    weight = np.zeros((p, p))
    sd = np.sqrt(np.diag(cov))
    for j in range(p):
        parents = np.flatnonzero(dag[:, j])
        if not len(parents):
            continue
        beta = solve_block(cov[np.ix_(parents, parents)], cov[parents, j])
        weight[parents, j] = beta * sd[parents] / sd[j]
    return weight


def graph_from_dag(
    data: Dataset,
    dag: np.ndarray,
    score: BICScore,
    matrices: KnowledgeMatrices,
    output: Literal["cpdag", "dag"],
    meta: dict[str, Any],
    stability: np.ndarray | None = None,
) -> DependencyGraph:
    """The :class:`DependencyGraph` of a search result.

    With ``output="cpdag"`` reversible edges are undirected, except those the knowledge orients
    (an edge whose other orientation is forbidden, or that is required), after which Meek's
    rules propagate. Weights are standardised regression coefficients in the DAG; ``stability``
    (``(p, p)``, symmetric), when given, becomes each edge's ``stability``.

    Examples
    --------
    >>> from ililab.dataset import Dataset
    >>> from ililab.simulate import simulate_linear_sem
    >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
    >>> import numpy as np
    >>> from ililab.scores.bic import BICScore
    >>> dag = np.zeros((5, 5), dtype=bool); dag[0, 1] = dag[2, 1] = True  # a collider 0 -> 1 <- 2
    >>> graph = graph_from_dag(data, dag, BICScore(data.covariance, 2000), knowledge_matrices(None, data.names), "cpdag", {})
    >>> [(e.source, e.target, e.kind) for e in graph.edges]
    [('x0', 'x1', 'directed'), ('x2', 'x1', 'directed')]
    """
    names = data.names
    p = len(names)
    weight = standardized_weights(score.cov, dag)
    if output == "dag":
        directed, undirected = np.asarray(dag, dtype=bool), np.zeros((p, p), dtype=bool)
    else:
        directed, undirected = dag_to_cpdag(dag, forbidden=matrices.forbidden | matrices.required.T)
    def stable(i: int, j: int) -> float | None:
        return None if stability is None else round(float(stability[i, j]), 6)

    edges = []
    for i, j in zip(*np.nonzero(directed)):
        edges.append(Edge(names[i], names[j], "directed", float(weight[i, j]), None, stable(i, j)))
    for i, j in zip(*np.nonzero(np.triu(undirected))):
        w = weight[i, j] if dag[i, j] else weight[j, i]
        edges.append(Edge(names[i], names[j], "undirected", float(w), None, stable(i, j)))
    return DependencyGraph(data.nodes, edges, meta)
