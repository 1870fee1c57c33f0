"""Which edges a picture shows: :func:`filter_edges` and the note that says what was left out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ililab.errors import UsageError
from ililab.graph import DependencyGraph

if TYPE_CHECKING:

    pass



def filter_edges(
    graph: DependencyGraph,
    top_k: int | None = None,
    min_confidence: float | None = None,
    min_weight: float | None = None,
) -> DependencyGraph:
    """The graph with only the edges worth drawing.

    Parameters
    ----------
    top_k : int, optional
        Keep an edge if it is among the ``top_k`` strongest edges of at least
        one of its two ends (strength: ``|weight|``, then confidence).
    min_confidence : float, optional
        Keep edges whose bootstrap confidence is at least this.
    min_weight : float, optional
        Keep edges whose ``|weight|`` is at least this.

    Raises
    ------
    UsageError
        A filter on an attribute no edge has, or a negative/zero ``top_k``.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> g = DependencyGraph(["Train (visual)", "Train (audio)", "Horn (audio)"],
    ...                     [Edge("Train (visual)", "Train (audio)", weight=0.8),
    ...                      Edge("Train (visual)", "Horn (audio)", weight=0.3)])
    >>> [(e.source, e.target) for e in filter_edges(g, min_weight=0.5).edges]
    [('Train (visual)', 'Train (audio)')]
    >>> len(filter_edges(g, top_k=1).edges)  # each edge is the strongest of one of its ends
    2
    """
    edges = list(graph.edges)
    if min_confidence is not None:
        if edges and all(e.confidence is None for e in edges):
            raise UsageError("--min-confidence: the graph's edges carry no confidence; infer it with --bootstrap B")
        edges = [e for e in edges if e.confidence is not None and e.confidence >= min_confidence]
    if min_weight is not None:
        if edges and all(e.weight is None for e in edges):
            raise UsageError(f"--min-weight: the graph's edges carry no weight (learner {graph.meta.get('learner', '?')})")
        edges = [e for e in edges if e.weight is not None and abs(e.weight) >= min_weight]
    if top_k is not None:
        if top_k < 1:
            raise UsageError(f"--top-k must be at least 1, got {top_k}")
        if edges and all(e.weight is None and e.confidence is None for e in edges):
            raise UsageError("--top-k ranks edges by |weight| or confidence, and this graph's edges have neither")
        strength = {id(e): (abs(e.weight) if e.weight is not None else -1.0, e.confidence or 0.0) for e in edges}
        keep: set[int] = set()
        for name in graph.names:
            incident = [e for e in edges if name in (e.source, e.target)]
            incident.sort(key=lambda e: strength[id(e)], reverse=True)
            keep.update(id(e) for e in incident[:top_k])
        edges = [e for e in edges if id(e) in keep]
    return DependencyGraph(graph.nodes, edges, graph.meta)


def _filter_note(before: DependencyGraph, after: DependencyGraph, top_k, min_confidence, min_weight) -> str:
    parts = []
    if top_k is not None:
        parts.append(f"top {top_k} per node")
    if min_confidence is not None:
        parts.append(f"confidence \u2265 {min_confidence:g}")
    if min_weight is not None:
        parts.append(f"|weight| \u2265 {min_weight:g}")
    if not parts:
        return ""
    return f"showing {len(after.edges)} of {len(before.edges)} edges ({', '.join(parts)})"
