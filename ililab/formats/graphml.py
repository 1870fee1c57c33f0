"""GraphML: written by hand, read with ``xml.etree`` (no DTDs, no entity expansion)."""

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

__all__ = ["write_graphml", "read_graphml"]


_GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
_GRAPHML_KEYS = (
    ("meta", "graph", "meta", "string"),
    ("label", "node", "label", "string"),
    ("class_label", "node", "class_label", "string"),
    ("modality", "node", "modality", "string"),
    ("kind", "edge", "kind", "string"),
    ("weight", "edge", "weight", "double"),
    ("confidence", "edge", "confidence", "double"),
)


def _xml_escape(text: str) -> str:
    table = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
    return "".join(table.get(ch, ch) for ch in text)


def write_graphml(graph: DependencyGraph) -> str:
    """The graph as GraphML (opens in Gephi, yEd, Cytoscape; ``networkx.read_graphml``).

    Undirected edges are marked by ``kind="undirected"`` only: networkx refuses
    GraphML's per-edge ``directed="false"`` in a directed graph (it is read, though).

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
    >>> g = DependencyGraph(["a", "b", "c"], [Edge("a", "b", weight=0.5), Edge("b", "c", "undirected")])
    >>> text = write_graphml(g)
    >>> text.count("<node "), text.count("<edge ")
    (3, 2)
    >>> [(e.source, e.target, e.kind, e.weight) for e in read_graphml(text).edges]
    [('a', 'b', 'directed', 0.5), ('b', 'c', 'undirected', None)]
    """
    check_texts(graph, "GraphML")
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<!-- ililab.graph/v1 written by ililab {__version__} -->",
        f'<graphml xmlns="{_GRAPHML_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{_GRAPHML_NS} {_GRAPHML_NS}/1.0/graphml.xsd">',
    ]
    for key, where, name, kind in _GRAPHML_KEYS:
        out.append(f'  <key id="{key}" for="{where}" attr.name="{name}" attr.type="{kind}"/>')
    out.append('  <graph id="G" edgedefault="directed">')
    meta = meta_json(graph)
    if meta is not None:
        out.append(f'    <data key="meta">{_xml_escape(meta)}</data>')
    for node in graph.nodes:
        data = [("label", node.name), ("class_label", node.label), ("modality", node.modality)]
        cells = "".join(f'<data key="{k}">{_xml_escape(v)}</data>' for k, v in data if v is not None)
        out.append(f'    <node id="{_xml_escape(node.name)}">{cells}</node>')
    for e in graph.edges:
        data = [("kind", e.kind)]
        if e.weight is not None:
            data.append(("weight", repr(float(e.weight))))
        if e.confidence is not None:
            data.append(("confidence", repr(float(e.confidence))))
        cells = "".join(f'<data key="{k}">{v}</data>' for k, v in data)
        out.append(f'    <edge source="{_xml_escape(e.source)}" target="{_xml_escape(e.target)}">{cells}</edge>')
    out += ["  </graph>", "</graphml>"]
    return "\n".join(out) + "\n"


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _graphml_value(text: str, kind: str, what: str) -> Any:
    if kind in ("double", "float"):
        return parse_number(text, what)
    if kind in ("int", "long"):
        try:
            return int(text.strip())
        except ValueError:
            raise GraphFormatError(f"{what} must be an integer, got {shown(text)}") from None
    if kind == "boolean":
        return text.strip().lower() in ("true", "1")
    return text


def read_graphml(text: str) -> DependencyGraph:
    """Parse GraphML (as written by :func:`write_graphml`, networkx, Gephi or yEd).

    Document type declarations are refused (no entity expansion); only the first
    ``<graph>`` is read; ``<data>`` of unknown keys and yEd graphics are ignored.

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
        Malformed XML, a DTD, or a graph beyond the limits of :class:`ililab.formats.GraphLimits`.

    Examples
    --------
    >>> text = '''<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
    ...   <graph edgedefault="directed">
    ...     <node id="rain"/><node id="wet"/>
    ...     <edge source="rain" target="wet"/>
    ...   </graph>
    ... </graphml>'''
    >>> g = read_graphml(text)
    >>> g.names, [(e.source, e.target, e.kind) for e in g.edges]
    (['rain', 'wet'], [('rain', 'wet', 'directed')])
    """
    import xml.etree.ElementTree as ET

    if re.search(r"<!DOCTYPE|<!ENTITY", text, re.IGNORECASE):
        raise GraphFormatError("GraphML with a DOCTYPE or ENTITY declaration is refused (entity expansion)")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise GraphFormatError(f"not valid XML: {error}") from None
    except (ValueError, RecursionError) as error:
        raise GraphFormatError(f"not valid XML: {error}") from None
    if _local(root.tag) != "graphml":
        raise GraphFormatError(f"not GraphML: the root element is <{_local(root.tag)}>, expected <graphml>")
    keys: dict[str, tuple[str, str, str | None]] = {}  # id -> (attr.name, attr.type, default)
    for element in root:
        if _local(element.tag) == "key":
            key_id = element.get("id")
            if key_id is None:
                raise GraphFormatError("a <key> element has no id")
            default = next((d.text or "" for d in element if _local(d.tag) == "default"), None)
            keys[key_id] = (element.get("attr.name") or key_id, element.get("attr.type") or "string", default)
    graph_element = next((e for e in root if _local(e.tag) == "graph"), None)
    if graph_element is None:
        raise GraphFormatError("GraphML without a <graph> element")
    default_directed = (graph_element.get("edgedefault") or "directed") == "directed"

    def attributes(element: Any, where: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, kind, default in keys.values():
            if default is not None:
                values[name] = _graphml_value(default, kind, f"{where} {name}")
        for data in element:
            if _local(data.tag) != "data":
                continue
            key_id = data.get("key")
            if key_id not in keys:
                raise GraphFormatError(f"{where}: <data> refers to undeclared key {shown(key_id)}")
            name, kind, _ = keys[key_id]
            if len(data):  # structured data (yEd graphics): not ours
                continue
            values[name] = _graphml_value(data.text or "", kind, f"{where} {name}")
        return values

    tags = [_local(element.tag) for element in graph_element]
    check_size(tags.count("node"), tags.count("edge"))
    meta = parse_meta(attributes(graph_element, "graph").get("meta"), "graph meta")
    nodes: list[Node] = []
    raw = []
    for element in graph_element:
        tag = _local(element.tag)
        if tag == "node":
            name = element.get("id")
            if not name:
                raise GraphFormatError("a <node> has no id")
            values = attributes(element, f"node {shown(name)}")
            nodes.append(
                Node(
                    name,
                    text_or_none(values.get("class_label"), f"node {shown(name)} class_label"),
                    text_or_none(values.get("modality"), f"node {shown(name)} modality"),
                )
            )
        elif tag == "edge":
            s, t = element.get("source"), element.get("target")
            if not s or not t:
                raise GraphFormatError("an <edge> lacks its source or target")
            what = f"edge {shown(s)} -> {shown(t)}"
            values = attributes(element, what)
            flag = element.get("directed")
            directed = default_directed if flag is None else flag.strip().lower() in ("true", "1")
            kind = parse_kind(values.get("kind"), "directed" if directed else "undirected", what)
            weight = parse_number(values.get("weight"), f"{what} weight")
            raw.append((s, t, kind, weight, parse_number(values.get("confidence"), f"{what} confidence")))
        elif tag == "hyperedge":
            raise GraphFormatError("GraphML hyperedges are not supported")
    return assemble(nodes, raw, meta)
