"""The checks and canonical form behind :class:`~ililab.graph.DependencyGraph`'s constructor.

``DependencyGraph.__init__`` imports this module when called: it checks the node names,
checks each edge (known ends, kind, finite numbers, confidence and stability in [0, 1], no
self-loop, one edge per pair), puts the edges in canonical order and makes ``meta``
JSON-safe. It works on duck-typed nodes and edges and imports only :mod:`ililab.errors`,
so, like :mod:`ililab._graphdoc`, it sits in the types layer without a circle back to
``graph.py``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ililab.errors import GraphFormatError

__all__ = ["json_safe", "freeze", "node_index", "canonical_edges", "kept_names", "adjacency_of"]


def json_safe(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples in ``meta`` to plain JSON types (non-finite floats to None).

    Examples
    --------
    >>> json_safe({"n": np.int64(3), "v": np.array([0.5, np.inf]), "t": (1, 2)})
    {'n': 3, 'v': [0.5, None], 't': [1, 2]}
    """
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def freeze(value: Any, frozen: Callable[[dict], Mapping]) -> Any:
    """``value`` with every mapping turned into ``frozen(dict)`` and every list into a tuple.

    Examples
    --------
    >>> from types import MappingProxyType
    >>> freeze({"a": [1, {"b": 2}]}, MappingProxyType)["a"]
    (1, mappingproxy({'b': 2}))
    """
    if isinstance(value, Mapping):
        return frozen({k: freeze(v, frozen) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v, frozen) for v in value)
    return value


def node_index(nodes: Sequence[Any]) -> dict[str, int]:
    """Position of each node by name; a missing or repeated name is a :class:`GraphFormatError`.

    Examples
    --------
    >>> from ililab.graph import Node
    >>> node_index([Node("a"), Node("b")])
    {'a': 0, 'b': 1}
    """
    index: dict[str, int] = {}
    for i, node in enumerate(nodes):
        if not isinstance(node.name, str) or not node.name:
            raise GraphFormatError(f"node {i} has no name")
        if node.name in index:
            raise GraphFormatError(f"duplicate node name {node.name!r}")
        index[node.name] = i
    return index


def _optional_float(value: Any, what: str, edge: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GraphFormatError(f"edge {edge.source!r} -> {edge.target!r}: {what} must be a number") from None
    if not math.isfinite(number):
        raise GraphFormatError(f"edge {edge.source!r} -> {edge.target!r}: {what} must be finite")
    if what in ("confidence", "stability") and not 0.0 <= number <= 1.0:
        raise GraphFormatError(f"edge {edge.source!r} -> {edge.target!r}: {what} must lie in [0, 1]")
    return number


def _clean_edge(edge: Any, make_edge: Callable[..., Any]) -> Any:
    """``edge`` with its numbers as floats; ``make_edge`` builds the copy when one changed."""
    weight = _optional_float(edge.weight, "weight", edge)
    confidence = _optional_float(edge.confidence, "confidence", edge)
    stability = _optional_float(edge.stability, "stability", edge)
    if weight is edge.weight and confidence is edge.confidence and stability is edge.stability:
        return edge
    return make_edge(edge.source, edge.target, edge.kind, weight, confidence, stability)


def canonical_edges(edges: Iterable[Any], index: Mapping[str, int], make_edge: Callable[..., Any]) -> tuple[Any, ...]:
    """Check ``edges`` against the nodes of ``index`` and return them in canonical order.

    The order is by the position of the source, then of the target; an undirected edge is
    turned so that its source comes first. ``make_edge(source, target, kind, weight,
    confidence, stability)`` rebuilds an edge whose numbers had to be converted to float.

    Raises
    ------
    GraphFormatError
        An unknown end, another kind than directed/undirected, a number that is not finite
        (or a confidence/stability outside [0, 1]), a self-loop or two edges on one pair.

    Examples
    --------
    >>> from ililab.graph import Edge
    >>> edges = [Edge("c", "b", "undirected"), Edge("a", "c", weight=np.float32(0.5))]
    >>> for e in canonical_edges(edges, {"a": 0, "b": 1, "c": 2}, Edge):
    ...     print(e.source, e.target, e.kind, repr(e.weight))
    a c directed 0.5
    b c undirected None
    """
    canonical: dict[tuple[int, int], Any] = {}
    for edge in edges:
        for end in (edge.source, edge.target):
            if end not in index:
                raise GraphFormatError(f"edge {edge.source!r} -> {edge.target!r} names unknown node {end!r}")
        if edge.kind not in ("directed", "undirected"):
            raise GraphFormatError(f"edge kind must be 'directed' or 'undirected', got {edge.kind!r}")
        edge = _clean_edge(edge, make_edge)
        s, t = index[edge.source], index[edge.target]
        if s == t:
            raise GraphFormatError(f"self-loop on node {edge.source!r}")
        if edge.kind == "undirected" and s > t:
            edge = dataclasses.replace(edge, source=edge.target, target=edge.source)
            s, t = t, s
        pair = (min(s, t), max(s, t))
        if pair in canonical:
            raise GraphFormatError(f"more than one edge between {edge.source!r} and {edge.target!r}")
        canonical[pair] = edge
    return tuple(sorted(canonical.values(), key=lambda e: (index[e.source], index[e.target])))


def kept_names(graph: Any, nodes: Iterable[str] | None, modalities: Iterable[str] | None) -> set[str]:
    """The names :meth:`~ililab.graph.DependencyGraph.subgraph` keeps; an unknown name or modality is a ``KeyError``.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph
    >>> sorted(kept_names(DependencyGraph(["a (x)", "b (y)", "c (y)"]), ["a (x)", "b (y)"], ["y"]))
    ['b (y)']
    """
    keep = set(graph.names) if nodes is None else set(nodes)
    for name in keep:
        graph.index(name)
    if modalities is not None:
        wanted = set(modalities)
        unknown = wanted - set(graph.modalities)
        if unknown:
            raise KeyError(f"unknown modalities {sorted(unknown)}; the graph has {graph.modalities}")
        keep = {n for n in keep if graph.node(n).modality in wanted}
    return keep


def adjacency_of(graph: Any, weight: str | None) -> np.ndarray:
    """The matrix of :meth:`~ililab.graph.DependencyGraph.adjacency` (all of the graph type's numpy code is here).

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> adjacency_of(DependencyGraph(["a", "b"], [Edge("a", "b", "undirected", weight=2)]), "weight").tolist()
    [[0.0, 2.0], [2.0, 0.0]]
    """
    if weight not in (None, "weight", "confidence"):
        raise ValueError(f"adjacency(weight=...) takes None, 'weight' or 'confidence', got {weight!r}")
    p = len(graph.nodes)
    a = np.zeros((p, p))
    for e in graph.edges:
        s, t = graph.index(e.source), graph.index(e.target)
        value = 1.0
        if weight is not None:
            attr = getattr(e, weight)
            value = math.nan if attr is None else float(attr)
        a[s, t] = value
        if not e.directed:
            a[t, s] = value
    return a
