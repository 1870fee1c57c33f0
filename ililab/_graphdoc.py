"""The ``ililab.graph/v1`` document and networkx conversions behind :class:`~ililab.graph.DependencyGraph`.

The graph type's ``to_dict`` / ``from_dict`` / ``to_json`` / ``from_json`` /
``to_networkx`` / ``from_networkx`` / ``is_acyclic`` methods import this module when called, so that
``import ililab.graph`` loads neither pydantic nor networkx. It works on plain values
(duck-typed graphs, tuples) and imports only :mod:`ililab.errors`, so it sits in the
types layer without a circle back to ``graph.py``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, Literal

import pydantic

from ililab.errors import GraphFormatError

__all__ = ["attach_stability", "validate_document", "document_of", "parse_json", "networkx_of", "is_acyclic", "parts_of_networkx"]


class _NodeModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", strict=True)
    name: str = pydantic.Field(min_length=1)
    label: str | None = None
    modality: str | None = None


class _EdgeModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    source: pydantic.StrictStr
    target: pydantic.StrictStr
    kind: Literal["directed", "undirected"] = "directed"
    weight: pydantic.FiniteFloat | None = None
    confidence: pydantic.confloat(ge=0.0, le=1.0, allow_inf_nan=False) | None = None  # type: ignore[valid-type]


class _GraphModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    format: Literal["ililab.graph/v1"]
    nodes: list[_NodeModel]
    edges: list[_EdgeModel]
    meta: dict[str, Any] = pydantic.Field(default_factory=dict)


def _format_validation_error(error: pydantic.ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "document"
    more = error.error_count() - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{where}: {first['msg']}{suffix}"


def validate_document(document: Any, expected: str) -> tuple[list[tuple], list[tuple], dict[str, Any]]:
    """Check an ``ililab.graph/v1`` document: ``(nodes, edges, meta)`` as plain tuples.

    Nodes are ``(name, label, modality)``, edges ``(source, target, kind, weight, confidence)``.

    Raises
    ------
    GraphFormatError
        Not a JSON object, another ``format`` than ``expected``, or a field of the wrong type.

    Examples
    --------
    >>> doc = {"format": "ililab.graph/v1", "nodes": [{"name": "a"}, {"name": "b"}],
    ...        "edges": [{"source": "a", "target": "b"}]}
    >>> validate_document(doc, "ililab.graph/v1")
    ([('a', None, None), ('b', None, None)], [('a', 'b', 'directed', None, None)], {})
    """
    if not isinstance(document, Mapping):
        raise GraphFormatError(f"a graph document must be a JSON object, got {type(document).__name__}")
    if document.get("format") != expected:
        raise GraphFormatError(f"unknown graph format {document.get('format')!r}; expected {expected!r}")
    try:
        model = _GraphModel.model_validate(document)
    except pydantic.ValidationError as error:
        raise GraphFormatError(f"invalid graph: {_format_validation_error(error)}") from None
    nodes = [(n.name, n.label, n.modality) for n in model.nodes]
    edges = [(e.source, e.target, e.kind, e.weight, e.confidence) for e in model.edges]
    return nodes, edges, model.meta


def document_of(graph: Any, meta: dict[str, Any], fmt: str, key: str) -> dict[str, Any]:
    """The ``fmt`` document of ``graph`` (its nodes and edges) with ``meta`` (plain values).

    The edges' stability goes into ``meta[key]`` as ``[source, target, value]`` triples in
    edge order (the inverse of :func:`attach_stability`): the v1 edge model has no such field.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> doc = document_of(DependencyGraph(["a", "b"], [Edge("a", "b", stability=0.5)]), {}, "ililab.graph/v1", "stab")
    >>> doc["edges"], doc["meta"]
    ([{'source': 'a', 'target': 'b', 'kind': 'directed', 'weight': None, 'confidence': None}], {'stab': [['a', 'b', 0.5]]})
    """
    stable = [[e.source, e.target, e.stability] for e in graph.edges if e.stability is not None]
    if stable:
        meta[key] = stable
    return {
        "format": fmt,
        "nodes": [{"name": n.name, "label": n.label, "modality": n.modality} for n in graph.nodes],
        "edges": [
            {"source": e.source, "target": e.target, "kind": e.kind, "weight": e.weight, "confidence": e.confidence}
            for e in graph.edges
        ],
        "meta": meta,
    }


def parse_json(text: str | bytes) -> Any:
    """JSON text as Python objects; malformed or too deeply nested text is a :class:`GraphFormatError`.

    Examples
    --------
    >>> parse_json('{"format": "x"}')
    {'format': 'x'}
    """
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise GraphFormatError(f"not valid JSON: {error}") from None
    except RecursionError:
        raise GraphFormatError("not a graph: JSON nested too deeply") from None


def networkx_of(graph: Any, meta: dict[str, Any]):
    """A ``networkx.DiGraph`` of ``graph``; undirected edges become two arcs marked ``kind="undirected"``.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> sorted(networkx_of(DependencyGraph(["a", "b"], [Edge("a", "b", "undirected")]), {}).edges)
    [('a', 'b'), ('b', 'a')]
    """
    import networkx as nx

    g = nx.DiGraph(**{k: v for k, v in meta.items() if not isinstance(v, dict)})
    g.graph["meta"] = meta
    for n in graph.nodes:
        attrs = {k: v for k, v in (("label", n.label), ("modality", n.modality)) if v is not None}
        g.add_node(n.name, **attrs)
    for e in graph.edges:
        attrs = {"kind": e.kind}
        for key in ("weight", "confidence", "stability"):
            if getattr(e, key) is not None:
                attrs[key] = getattr(e, key)
        g.add_edge(e.source, e.target, **attrs)
        if not e.directed:
            g.add_edge(e.target, e.source, **attrs)
    return g


def is_acyclic(graph: Any) -> bool:
    """Whether the directed edges of ``graph`` contain no cycle (networkx decides).

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> is_acyclic(DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("b", "c"), Edge("c", "a")]))
    False
    """
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(n.name for n in graph.nodes)
    g.add_edges_from((e.source, e.target) for e in graph.edges if e.directed)
    return nx.is_directed_acyclic_graph(g)


def parts_of_networkx(g: Any) -> tuple[list[tuple], list[tuple], Any]:
    """``(nodes, edges, meta)`` of a networkx graph, the inverse of :func:`networkx_of`.

    A pair of opposite arcs becomes one undirected edge (whatever their ``kind`` attribute
    says); an undirected networkx graph gives undirected edges. Edges are
    ``(source, target, kind, weight, confidence, stability)``.

    Examples
    --------
    >>> import networkx as nx
    >>> parts_of_networkx(nx.DiGraph([("a", "b")]))
    ([('a', None, None), ('b', None, None)], [('a', 'b', 'directed', None, None, None)], {})
    """
    nodes = [(str(n), data.get("label"), data.get("modality")) for n, data in g.nodes(data=True)]
    edges: list[tuple] = []
    seen: set[frozenset] = set()
    directed_graph = g.is_directed()
    for u, v, data in g.edges(data=True):
        pair = frozenset((u, v))
        if pair in seen:
            continue
        seen.add(pair)
        kind = "undirected" if not directed_graph or g.has_edge(v, u) else "directed"
        edges.append((str(u), str(v), kind, data.get("weight"), data.get("confidence"), data.get("stability")))
    return nodes, edges, g.graph.get("meta", {})


def attach_stability(edges: list[Any], meta: dict[str, Any], key: str) -> list[Any]:
    """Move ``meta[key]`` (``[source, target, value]`` triples, as written by
    :meth:`~ililab.graph.DependencyGraph.to_dict`) onto ``edges`` as their ``stability``.

    Examples
    --------
    >>> from ililab.graph import Edge
    >>> meta = {"edge_stability": [["a", "b", 0.75]]}
    >>> attach_stability([Edge("a", "b")], meta, "edge_stability")[0].stability, meta
    (0.75, {})
    """
    entries = meta.pop(key, None)
    if entries is None:
        return edges
    if not isinstance(entries, (list, tuple)):
        raise GraphFormatError(f"meta.{key} must be a list of [source, target, value] entries")
    value_of: dict[frozenset, Any] = {}
    for entry in entries:
        if not (isinstance(entry, (list, tuple)) and len(entry) == 3 and all(isinstance(x, str) for x in entry[:2])):
            raise GraphFormatError(f"meta.{key}: each entry must be [source, target, value], got {entry!r}")
        value_of[frozenset(entry[:2])] = entry[2]
    out = []
    for edge in edges:
        value = value_of.pop(frozenset((edge.source, edge.target)), None)
        out.append(edge if value is None else dataclasses.replace(edge, stability=value))
    if value_of:
        pair = sorted(next(iter(value_of)))
        raise GraphFormatError(f"meta.{key} names a pair that is no edge of the graph: {pair}")
    return out
