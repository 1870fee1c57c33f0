"""GML, written in the dialect networkx reads (``networkx.read_gml``): strings in double quotes,
with '"', '&' and anything outside printable ASCII as XML character references."""

from __future__ import annotations

import re
from typing import Any

from ililab._version import __version__
from ililab.errors import GraphFormatError, shown
from ililab.formats._common import (
    assemble,
    check_size,
    check_texts,
    meta_json,
    parse_kind,
    parse_meta,
    parse_number,
    text_or_none,
)
from ililab.graph import DependencyGraph, Node

__all__ = ["write_gml", "read_gml"]


def _gml_string(text: str) -> str:
    escaped = re.sub(r'[^ -~]|[&"]', lambda m: f"&#{ord(m.group(0))};", text)
    return f'"{escaped}"'


def _gml_text(value: Any, what: str) -> str | None:
    # networkx's GML parser turns the strings "()" and "[]" into an empty tuple / list
    if isinstance(value, (tuple, list)) and not value:
        return "()" if isinstance(value, tuple) else "[]"
    return text_or_none(value, what)


def _gml_float(value: float) -> str:
    text = repr(float(value)).upper()
    mantissa, _, exponent = text.partition("E")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + ("E" + exponent if exponent else "")


def write_gml(graph: DependencyGraph) -> str:
    """The graph as GML text (readable by ``networkx.read_gml``, Gephi, yEd).

    Parameters
    ----------
    graph : DependencyGraph

    Returns
    -------
    str
        The file's text.

    Raises
    ------
    GraphFormatError
        A node name, label or modality holding a control character this format cannot carry.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> text = write_gml(DependencyGraph(["Bark (audio)", "Bark (visual)"], [Edge("Bark (audio)", "Bark (visual)")]))
    >>> [line.strip() for line in text.splitlines() if "modality" in line]
    ['modality "audio"', 'modality "visual"']
    >>> read_gml(text).edges[0].target
    'Bark (visual)'
    """
    check_texts(graph, "GML")
    lines = ["graph [", "  directed 1", f"  comment {_gml_string(f'ililab.graph/v1 written by ililab {__version__}')}"]
    meta = meta_json(graph)
    if meta is not None:
        lines.append(f"  meta {_gml_string(meta)}")
    ids = {name: i for i, name in enumerate(graph.names)}
    for i, node in enumerate(graph.nodes):
        lines += ["  node [", f"    id {i}", f"    label {_gml_string(node.name)}"]
        if node.label is not None:
            lines.append(f"    class_label {_gml_string(node.label)}")
        if node.modality is not None:
            lines.append(f"    modality {_gml_string(node.modality)}")
        lines.append("  ]")
    for e in graph.edges:
        lines += ["  edge [", f"    source {ids[e.source]}", f"    target {ids[e.target]}", f'    kind "{e.kind}"']
        if e.weight is not None:
            lines.append(f"    weight {_gml_float(e.weight)}")
        if e.confidence is not None:
            lines.append(f"    confidence {_gml_float(e.confidence)}")
        lines.append("  ]")
    lines.append("]")
    return "\n".join(lines) + "\n"


def read_gml(text: str) -> DependencyGraph:
    """Parse GML text (as written by :func:`write_gml`, networkx, Gephi or yEd).

    Parameters
    ----------
    text : str
        The file's content.

    Returns
    -------
    DependencyGraph

    Raises
    ------
    GraphFormatError
        Text that is not GML, an empty label, or a graph beyond the limits of
        :class:`ililab.formats.GraphLimits`.

    Examples
    --------
    >>> g = read_gml('''graph [ directed 1
    ...   node [ id 0 label "rain" ] node [ id 1 label "wet grass" ]
    ...   edge [ source 0 target 1 weight 0.7 ] ]''')
    >>> [(e.source, e.target, e.weight) for e in g.edges]
    [('rain', 'wet grass', 0.7)]
    """
    import networkx as nx

    if not text.strip():
        raise GraphFormatError("empty GML file")
    try:
        g = nx.parse_gml(text, label=None)
    except RecursionError:
        raise GraphFormatError("not GML: nested too deeply") from None
    except Exception as error:  # networkx raises NetworkXError and assorted ValueError / KeyError
        raise GraphFormatError(f"not valid GML: {error}") from None
    check_size(g.number_of_nodes(), g.number_of_edges())
    nodes = []
    names: dict[Any, str] = {}
    for key, data in g.nodes(data=True):
        name = _gml_text(data.get("label", key), f"node {shown(key)} label")
        if not name:
            raise GraphFormatError(f"node {shown(key)} has an empty label")
        names[key] = name
        nodes.append(
            Node(
                name,
                _gml_text(data.get("class_label"), f"node {shown(name)} class_label"),
                _gml_text(data.get("modality"), f"node {shown(name)} modality"),
            )
        )
    directed = g.is_directed()
    raw = []
    for u, v, data in g.edges(data=True):
        s, t = names[u], names[v]
        what = f"edge {shown(s)} -> {shown(t)}"
        kind = parse_kind(data.get("kind"), "directed" if directed else "undirected", what)
        weight = parse_number(data.get("weight"), f"{what} weight")
        confidence = parse_number(data.get("confidence"), f"{what} confidence")
        raw.append((s, t, kind, weight, confidence))
    return assemble(nodes, raw, parse_meta(g.graph.get("meta"), "graph meta"))
