"""Graph comparison: SHD between CPDAGs, adjacency and arrowhead precision / recall / F1."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ililab.cpdag import dag_to_cpdag, is_dag
from ililab.graph import DependencyGraph

__all__ = [
    "Scores",
    "shd",
    "adjacency_scores",
    "adjacency_array_scores",
    "arrowhead_scores",
    "to_cpdag",
    "is_dag_graph",
    "dag_against_cpdag",
    "GraphComparison",
    "compare",
]


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 with the counts behind them.

    An empty estimate has precision 1 and an empty truth recall 1 (nothing claimed, nothing wrong).

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> truth = DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("b", "c")])
    >>> learned = DependencyGraph(["a", "b", "c"], [Edge("a", "b")])
    >>> s = adjacency_scores(learned, truth)
    >>> s.precision, s.recall, round(s.f1, 3), (s.true_positives, s.estimated, s.truth)
    (1.0, 0.5, 0.667, (1, 1, 2))
    """

    precision: float
    recall: float
    f1: float
    true_positives: int
    estimated: int
    truth: int

    def as_dict(self) -> dict:
        """The fields as a plain dict (the JSON of ``ililab compare --json``).

        Examples
        --------
        >>> Scores(1.0, 0.5, 2 / 3, 1, 1, 2).as_dict()["recall"]
        0.5
        """
        return asdict(self)


def _scores(tp: int, estimated: int, truth: int) -> Scores:
    precision = tp / estimated if estimated else 1.0
    recall = tp / truth if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, tp, estimated, truth)


def _aligned(estimated: DependencyGraph, truth: DependencyGraph) -> tuple[np.ndarray, np.ndarray]:
    if set(estimated.names) != set(truth.names):
        only_est = sorted(set(estimated.names) - set(truth.names))[:3]
        only_true = sorted(set(truth.names) - set(estimated.names))[:3]
        raise ValueError(f"graphs have different nodes (only in first: {only_est}, only in second: {only_true})")
    order = [estimated.index(n) for n in truth.names]
    a = estimated.adjacency()[np.ix_(order, order)] != 0
    return a, truth.adjacency() != 0


def _split(adj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(directed-only, undirected) parts of an adjacency where undirected edges are symmetric."""
    undirected = adj & adj.T
    return adj & ~undirected, undirected


def is_dag_graph(graph: DependencyGraph) -> bool:
    """True when every edge is directed and the edges form no cycle (the graphs :func:`to_cpdag` reduces).

    Parameters
    ----------
    graph : DependencyGraph

    Returns
    -------
    bool

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> is_dag_graph(DependencyGraph(["a", "b"], [Edge("a", "b")]))
    True
    >>> is_dag_graph(DependencyGraph(["a", "b"], [Edge("a", "b", "undirected")]))
    False
    """
    return all(e.directed for e in graph.edges) and graph.is_acyclic()


def to_cpdag(graph: DependencyGraph) -> DependencyGraph:
    """The CPDAG of a graph whose edges are all directed and acyclic; other graphs unchanged.

    Parameters
    ----------
    graph : DependencyGraph

    Returns
    -------
    DependencyGraph
        Its CPDAG (edges keep their weight and confidence), or ``graph`` itself when it is not a DAG.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> chain = DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("b", "c")])
    >>> [e.kind for e in to_cpdag(chain).edges]  # a chain's direction is not identifiable
    ['undirected', 'undirected']
    >>> collider = DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("c", "b")])
    >>> [e.kind for e in to_cpdag(collider).edges]  # a v-structure is
    ['directed', 'directed']
    """
    if not is_dag_graph(graph):
        return graph
    directed, undirected = dag_to_cpdag(graph.adjacency())
    from ililab.graph import Edge

    edges = []
    for e in graph.edges:
        s, t = graph.index(e.source), graph.index(e.target)
        kind = "directed" if directed[s, t] else "undirected"
        edges.append(Edge(e.source, e.target, kind, e.weight, e.confidence))
    assert is_dag(directed)
    return graph.with_edges(edges)


def dag_against_cpdag(first: DependencyGraph, second: DependencyGraph) -> bool:
    """True when one graph is a non-empty DAG and the other has undirected edges.

    Then the two are compared as Markov equivalence classes by default (a true DAG
    against the CPDAG a learner returns): :func:`compare` and ``ililab compare``
    reduce the DAG to its CPDAG first.

    Parameters
    ----------
    first, second : DependencyGraph

    Returns
    -------
    bool

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> dag = DependencyGraph(["a", "b"], [Edge("a", "b")])
    >>> cpdag = DependencyGraph(["a", "b"], [Edge("a", "b", "undirected")])
    >>> dag_against_cpdag(dag, cpdag), dag_against_cpdag(dag, dag)
    (True, False)
    """

    def has_undirected(graph: DependencyGraph) -> bool:
        return any(not e.directed for e in graph.edges)

    return any(bool(x.edges) and is_dag_graph(x) and has_undirected(y) for x, y in ((first, second), (second, first)))


def shd(estimated: DependencyGraph, truth: DependencyGraph, cpdag: bool = True) -> int:
    """Structural Hamming distance.

    Counts node pairs whose edge differs: missing, extra, or a different mark
    (``a -> b`` vs ``b -> a`` vs ``a - b``); each pair counts once. With
    ``cpdag=True`` (default) DAGs are first reduced to their CPDAGs, so that
    Markov-equivalent DAGs are at distance 0.

    Parameters
    ----------
    estimated : DependencyGraph
        The graph to score (e.g. a learner's).
    truth : DependencyGraph
        The reference graph, over the same node names (in any order).
    cpdag : bool
        Reduce DAGs to their CPDAGs first.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the graphs have different nodes.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> forward = DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("b", "c")])
    >>> backward = DependencyGraph(["a", "b", "c"], [Edge("b", "a"), Edge("c", "b")])
    >>> shd(forward, backward), shd(forward, backward, cpdag=False)  # Markov equivalent
    (0, 2)
    """
    if cpdag:
        estimated, truth = to_cpdag(estimated), to_cpdag(truth)
    a, b = _aligned(estimated, truth)
    upper = np.triu(np.ones_like(a, dtype=bool), k=1)
    differs = ((a != b) | (a.T != b.T)) & upper
    return int(differs.sum())


def adjacency_scores(estimated: DependencyGraph, truth: DependencyGraph) -> Scores:
    """Precision / recall / F1 of the skeleton (edge kind ignored).

    Parameters
    ----------
    estimated : DependencyGraph
        The graph to score (e.g. a learner's).
    truth : DependencyGraph
        The reference graph, over the same node names (in any order).

    Returns
    -------
    Scores

    Raises
    ------
    ValueError
        If the graphs have different nodes.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> truth = DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("b", "c")])
    >>> learned = DependencyGraph(["a", "b", "c"], [Edge("b", "a"), Edge("a", "c")])
    >>> s = adjacency_scores(learned, truth)
    >>> s.precision, s.recall  # a - b is found (its direction does not matter here), a - c is extra
    (0.5, 0.5)
    """
    return adjacency_array_scores(*_aligned(estimated, truth))


def adjacency_array_scores(estimated: np.ndarray, truth: np.ndarray) -> Scores:
    """:func:`adjacency_scores` of two adjacency matrices over the same nodes in the same order.

    Parameters
    ----------
    estimated, truth : ndarray of shape (p, p)
        Nonzero ``[i, j]``: an edge between ``i`` and ``j`` (either direction; DAG matrices as
        they are).

    Returns
    -------
    Scores

    Examples
    --------
    >>> import numpy as np
    >>> chain = np.eye(3, k=1, dtype=bool)  # 0 -> 1 -> 2
    >>> adjacency_array_scores(chain.T, chain).f1  # directions do not matter
    1.0
    """
    a, b = np.asarray(estimated) != 0, np.asarray(truth) != 0
    upper = np.triu(np.ones_like(a, dtype=bool), k=1)
    sa, sb = (a | a.T) & upper, (b | b.T) & upper
    return _scores(int((sa & sb).sum()), int(sa.sum()), int(sb.sum()))


def arrowhead_scores(estimated: DependencyGraph, truth: DependencyGraph) -> Scores:
    """Precision / recall / F1 of arrowheads: ``a -> b`` counts as an arrowhead at ``b``.

    Undirected edges carry no arrowhead. Truth DAGs are compared as they are
    (reduce them with :func:`to_cpdag` first to compare equivalence classes).

    Parameters
    ----------
    estimated : DependencyGraph
        The graph to score (e.g. a learner's).
    truth : DependencyGraph
        The reference graph, over the same node names (in any order).

    Returns
    -------
    Scores

    Raises
    ------
    ValueError
        If the graphs have different nodes.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> truth = DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("c", "b")])
    >>> learned = DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("b", "c")])
    >>> s = arrowhead_scores(learned, truth)
    >>> s.true_positives, s.precision, s.recall  # the arrowhead at b from a is right, the one at c is not
    (1, 0.5, 0.5)
    """
    a, b = _aligned(estimated, truth)
    da, _ = _split(a)
    db, _ = _split(b)
    return _scores(int((da & db).sum()), int(da.sum()), int(db.sum()))


@dataclass(frozen=True)
class GraphComparison:
    """Everything :func:`compare` measures between two graphs over the same nodes.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> truth = DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("c", "b")])
    >>> learned = DependencyGraph(["a", "b", "c"], [Edge("b", "a"), Edge("c", "b")])
    >>> result = compare(learned, truth)
    >>> result.shd, result.reversed, result.only_in_first
    (1, [('b', 'a')], [])
    """

    shd: int
    adjacency: Scores
    arrowhead: Scores
    only_in_first: list[tuple[str, str, str]]
    only_in_second: list[tuple[str, str, str]]
    reversed: list[tuple[str, str]]
    # pairs adjacent in both graphs, directed in one and undirected in the other (as in the first graph)
    kind_differs: list[tuple[str, str, str]] = field(default_factory=list)
    # whether DAGs were reduced to their CPDAGs before comparing (the edge lists are those of the reduced graphs)
    cpdag: bool = False

    def as_dict(self) -> dict:
        """A JSON-ready dict (edge tuples become lists), as ``ililab compare --json`` prints it.

        Examples
        --------
        >>> from ililab.graph import DependencyGraph, Edge
        >>> truth = DependencyGraph(["a", "b"], [Edge("a", "b")])
        >>> d = compare(DependencyGraph(["a", "b"], []), truth).as_dict()
        >>> d["shd"], d["only_in_second"], d["adjacency"]["recall"]
        (1, [['a', 'b', 'directed']], 0.0)
        """
        return {
            "cpdag": self.cpdag,
            "shd": self.shd,
            "adjacency": self.adjacency.as_dict(),
            "arrowhead": self.arrowhead.as_dict(),
            "only_in_first": [list(e) for e in self.only_in_first],
            "only_in_second": [list(e) for e in self.only_in_second],
            "reversed": [list(e) for e in self.reversed],
            "kind_differs": [list(e) for e in self.kind_differs],
        }


def compare(first: DependencyGraph, second: DependencyGraph, cpdag: bool | None = None) -> GraphComparison:
    """Compare ``first`` (e.g. estimated) against ``second`` (e.g. the truth), as ``ililab compare`` does.

    Parameters
    ----------
    first, second : DependencyGraph
        Graphs over the same node names (in any order).
    cpdag : bool, optional
        Reduce every DAG (all edges directed, acyclic) to its CPDAG first. The
        default, None, does so exactly when :func:`dag_against_cpdag` holds (one
        graph a DAG, the other with undirected edges: a true DAG against a
        learner's CPDAG), like the CLI; False compares the graphs as given.

    Returns
    -------
    GraphComparison
        SHD, adjacency and arrowhead scores (``second`` as the truth), the edge
        differences, and ``cpdag``: whether the reduction was made.

    Raises
    ------
    ValueError
        If the graphs have different nodes.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> truth = DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("b", "c")])
    >>> learned = DependencyGraph(["a", "b", "c"], [Edge("a", "b", "undirected"), Edge("b", "c", "undirected")])
    >>> result = compare(learned, truth)      # the chain's CPDAG: both edges undirected
    >>> result.cpdag, result.shd
    (True, 0)
    >>> compare(learned, truth, cpdag=False).shd
    2
    """
    _aligned(first, second)
    if cpdag is None:
        cpdag = dag_against_cpdag(first, second)
    if cpdag:
        first, second = to_cpdag(first), to_cpdag(second)
    only_first, only_second, flipped, kinds = [], [], [], []
    for e in first.edges:
        other = second.edge(e.source, e.target)
        if other is None:
            only_first.append((e.source, e.target, e.kind))
        elif e.directed and other.directed and other.source != e.source:
            flipped.append((e.source, e.target))
        elif e.kind != other.kind:
            kinds.append((e.source, e.target, e.kind))
    for e in second.edges:
        if first.edge(e.source, e.target) is None:
            only_second.append((e.source, e.target, e.kind))
    return GraphComparison(
        shd(first, second, cpdag=False),
        adjacency_scores(first, second),
        arrowhead_scores(first, second),
        only_first,
        only_second,
        flipped,
        kinds,
        bool(cpdag),
    )
