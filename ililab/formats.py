"""Graph file formats besides JSON: GML, GraphML, DOT, CSV edge list and CSV adjacency matrix.

Each format is a pair of pure functions, ``write_<fmt>(graph) -> str`` and
``read_<fmt>(text) -> DependencyGraph``, registered in
:data:`ililab.io.GRAPH_FORMATS` when this module is imported (``ililab.io``
imports it), so :func:`ililab.io.write_graph` / :func:`ililab.io.read_graph`
and ``ililab convert`` pick the format from the file extension.

What each format carries (``ililab.graph/v1`` JSON carries everything):

============== ===== ================ ============== ============================ ====
format         nodes node order       label/modality edge kind/weight/confidence  meta
============== ===== ================ ============== ============================ ====
json           yes   yes              yes            yes                          yes
gml            yes   yes              yes            yes                          yes
graphml        yes   yes              yes            yes                          yes
dot            yes   yes              yes            yes                          yes
csv            yes   no (first use)   from names     yes                          no
adjacency-csv  yes   yes              from names     kind, weight (not 0, see below) no
============== ===== ================ ============== ============================ ====

*From names*: the CSV formats have no room for node attributes; a node's
label and modality are parsed back from a name of the form ``"Class (modality)"``
(:meth:`ililab.graph.Node.from_name`). An adjacency matrix stores one number
per ordered pair: a directed edge fills one cell, an undirected edge both
cells; the number is the weight (1 when the edge has none), so a weight of
exactly 0 cannot be stored, and a matrix whose nonzero cells are all 1 reads
back without weights. Names may hold any printable text (spaces, commas,
slashes, parentheses, quotes, non-ASCII, tabs and line breaks); control
characters other than tab / line feed / carriage return are refused by every
format but JSON, and the CSV formats refuse carriage returns too.

Attribute vocabulary (the same names in GML, GraphML and DOT): node
``class_label`` and ``modality``; edge ``kind`` (``directed`` / ``undirected``),
``weight`` (``edge_weight`` in DOT, where ``weight`` is a Graphviz layout
setting) and ``confidence``; graph ``meta`` (``ililab_meta`` in DOT) holding
the meta dictionary as JSON text. GML and GraphML also write the node name as
``label``, which Gephi and yEd show.

Every reader raises :class:`~ililab.errors.GraphFormatError` on malformed input.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from ililab import __version__
from ililab.errors import GraphFormatError
from ililab.graph import DependencyGraph, Edge, Node

__all__ = [
    "write_gml",
    "read_gml",
    "write_graphml",
    "read_graphml",
    "write_dot",
    "read_dot",
    "write_csv",
    "read_csv",
    "write_adjacency_csv",
    "read_adjacency_csv",
    "register",
]

# Palette shared with ililab.viz (colour-blind safe, Okabe & Ito).
MODALITY_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


# -- shared helpers -------------------------------------------------------------------------


def _bad_character(text: str, allow_cr: bool = True) -> str | None:
    """The first character of ``text`` no text format but JSON can carry, or None."""
    for ch in text:
        code = ord(ch)
        if ch in "\t\n" or (ch == "\r" and allow_cr):
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") or 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE:
            return ch
    return None


def _check_texts(graph: DependencyGraph, fmt: str, allow_cr: bool = True) -> None:
    for node in graph.nodes:
        for what, value in (("name", node.name), ("label", node.label), ("modality", node.modality)):
            if value is None:
                continue
            bad = _bad_character(value, allow_cr)
            if bad is not None:
                raise GraphFormatError(
                    f"node {node.name!r}: its {what} holds the control character U+{ord(bad):04X}, "
                    f"which {fmt} cannot carry; rename the node or save as JSON"
                )


def _meta_json(graph: DependencyGraph) -> str | None:
    meta = graph.to_dict()["meta"]
    return json.dumps(meta, ensure_ascii=False, allow_nan=False, sort_keys=False) if meta else None


def _parse_meta(text: Any, where: str) -> dict[str, Any]:
    if text is None or text == "":
        return {}
    if not isinstance(text, str):
        raise GraphFormatError(f"{where} must be JSON text, got {type(text).__name__}")
    try:
        meta = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise GraphFormatError(f"{where} is not valid JSON: {error}") from None
    if not isinstance(meta, dict):
        raise GraphFormatError(f"{where} must be a JSON object, got {type(meta).__name__}")
    return meta


def _text_or_none(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise GraphFormatError(f"{what} must be text, got {type(value).__name__}")
    return value if isinstance(value, str) else str(value)


def _number(value: Any, what: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise GraphFormatError(f"{what} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GraphFormatError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise GraphFormatError(f"{what} must be finite, got {value!r}")
    return number


def _kind(value: Any, default: str, what: str) -> str:
    if value is None or value == "":
        return default
    text = str(value).strip().lower()
    if text not in ("directed", "undirected"):
        raise GraphFormatError(f"{what}: kind must be 'directed' or 'undirected', got {value!r}")
    return text


def _assemble(
    nodes: list[Node],
    raw_edges: Iterable[tuple[str, str, str, float | None, float | None]],
    meta: Mapping[str, Any] | None,
) -> DependencyGraph:
    """Build a graph; a pair of opposite directed arcs becomes one undirected edge."""
    by_pair: dict[frozenset[str], list[tuple[str, str, str, float | None, float | None]]] = {}
    order: list[frozenset[str]] = []
    for edge in raw_edges:
        source, target = edge[0], edge[1]
        if source == target:
            raise GraphFormatError(f"self-loop on node {source!r}; ililab graphs have none")
        pair = frozenset((source, target))
        if pair not in by_pair:
            by_pair[pair] = []
            order.append(pair)
        by_pair[pair].append(edge)
    edges: list[Edge] = []
    for pair in order:
        group = by_pair[pair]
        if len(group) == 1:
            s, t, kind, weight, confidence = group[0]
            edges.append(Edge(s, t, kind, weight, confidence))  # type: ignore[arg-type]
            continue
        (s1, t1, k1, w1, c1), (s2, t2, k2, _, _) = group[0], group[1]
        if len(group) == 2 and k1 == k2 == "directed" and (s1, t1) == (t2, s2):
            edges.append(Edge(s1, t1, "undirected", w1, c1))
            continue
        raise GraphFormatError(f"more than one edge between {s1!r} and {t1!r}")
    return DependencyGraph(nodes, edges, meta)


# -- GML ------------------------------------------------------------------------------------
# Written in the dialect networkx reads (``networkx.read_gml``): strings in double quotes with
# '"', '&' and anything outside printable ASCII as XML character references.


def _gml_string(text: str) -> str:
    escaped = re.sub(r'[^ -~]|[&"]', lambda m: f"&#{ord(m.group(0))};", text)
    return f'"{escaped}"'


def _gml_text(value: Any, what: str) -> str | None:
    # networkx's GML parser turns the strings "()" and "[]" into an empty tuple / list
    if isinstance(value, (tuple, list)) and not value:
        return "()" if isinstance(value, tuple) else "[]"
    return _text_or_none(value, what)


def _gml_float(value: float) -> str:
    text = repr(float(value)).upper()
    mantissa, _, exponent = text.partition("E")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + ("E" + exponent if exponent else "")


def write_gml(graph: DependencyGraph) -> str:
    """The graph as GML text (readable by ``networkx.read_gml``, Gephi, yEd)."""
    _check_texts(graph, "GML")
    lines = ["graph [", "  directed 1", f"  comment {_gml_string(f'ililab.graph/v1 written by ililab {__version__}')}"]
    meta = _meta_json(graph)
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
    """Parse GML text (as written by :func:`write_gml`, networkx, Gephi or yEd)."""
    import networkx as nx

    if not text.strip():
        raise GraphFormatError("empty GML file")
    try:
        g = nx.parse_gml(text, label=None)
    except RecursionError:
        raise GraphFormatError("not GML: nested too deeply") from None
    except Exception as error:  # networkx raises NetworkXError and assorted ValueError / KeyError
        raise GraphFormatError(f"not valid GML: {error}") from None
    nodes = []
    names: dict[Any, str] = {}
    for key, data in g.nodes(data=True):
        name = _gml_text(data.get("label", key), f"node {key!r} label")
        if not name:
            raise GraphFormatError(f"node {key!r} has an empty label")
        names[key] = name
        nodes.append(
            Node(
                name,
                _gml_text(data.get("class_label"), f"node {name!r} class_label"),
                _gml_text(data.get("modality"), f"node {name!r} modality"),
            )
        )
    directed = g.is_directed()
    raw = []
    for u, v, data in g.edges(data=True):
        s, t = names[u], names[v]
        what = f"edge {s!r} -> {t!r}"
        kind = _kind(data.get("kind"), "directed" if directed else "undirected", what)
        weight, confidence = _number(data.get("weight"), f"{what} weight"), _number(data.get("confidence"), f"{what} confidence")
        raw.append((s, t, kind, weight, confidence))
    return _assemble(nodes, raw, _parse_meta(g.graph.get("meta"), "graph meta"))


# -- GraphML ------------------------------------------------------------------------------

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
    """
    _check_texts(graph, "GraphML")
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<!-- ililab.graph/v1 written by ililab {__version__} -->",
        f'<graphml xmlns="{_GRAPHML_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{_GRAPHML_NS} {_GRAPHML_NS}/1.0/graphml.xsd">',
    ]
    for key, where, name, kind in _GRAPHML_KEYS:
        out.append(f'  <key id="{key}" for="{where}" attr.name="{name}" attr.type="{kind}"/>')
    out.append('  <graph id="G" edgedefault="directed">')
    meta = _meta_json(graph)
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
        return _number(text, what)
    if kind in ("int", "long"):
        try:
            return int(text.strip())
        except ValueError:
            raise GraphFormatError(f"{what} must be an integer, got {text!r}") from None
    if kind == "boolean":
        return text.strip().lower() in ("true", "1")
    return text


def read_graphml(text: str) -> DependencyGraph:
    """Parse GraphML (as written by :func:`write_graphml`, networkx, Gephi or yEd).

    Document type declarations are refused (no entity expansion); only the first
    ``<graph>`` is read; ``<data>`` of unknown keys and yEd graphics are ignored.
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
                raise GraphFormatError(f"{where}: <data> refers to undeclared key {key_id!r}")
            name, kind, _ = keys[key_id]
            if len(data):  # structured data (yEd graphics): not ours
                continue
            values[name] = _graphml_value(data.text or "", kind, f"{where} {name}")
        return values

    meta = _parse_meta(attributes(graph_element, "graph").get("meta"), "graph meta")
    nodes: list[Node] = []
    raw = []
    for element in graph_element:
        tag = _local(element.tag)
        if tag == "node":
            name = element.get("id")
            if not name:
                raise GraphFormatError("a <node> has no id")
            values = attributes(element, f"node {name!r}")
            nodes.append(
                Node(
                    name,
                    _text_or_none(values.get("class_label"), f"node {name!r} class_label"),
                    _text_or_none(values.get("modality"), f"node {name!r} modality"),
                )
            )
        elif tag == "edge":
            s, t = element.get("source"), element.get("target")
            if not s or not t:
                raise GraphFormatError("an <edge> lacks its source or target")
            what = f"edge {s!r} -> {t!r}"
            values = attributes(element, what)
            flag = element.get("directed")
            directed = default_directed if flag is None else flag.strip().lower() in ("true", "1")
            kind = _kind(values.get("kind"), "directed" if directed else "undirected", what)
            weight = _number(values.get("weight"), f"{what} weight")
            raw.append((s, t, kind, weight, _number(values.get("confidence"), f"{what} confidence")))
        elif tag == "hyperedge":
            raise GraphFormatError("GraphML hyperedges are not supported")
    return _assemble(nodes, raw, meta)


# -- DOT (Graphviz) -------------------------------------------------------------------------


def _dot_string(text: str) -> str:
    table = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return '"' + "".join(table.get(ch, ch) for ch in text) + '"'


def _dot_attrs(pairs: Iterable[tuple[str, Any]]) -> str:
    items = [f"{k}={_dot_string(str(v))}" for k, v in pairs if v is not None]
    return f" [{', '.join(items)}]" if items else ""


def write_dot(graph: DependencyGraph) -> str:
    """The graph in Graphviz DOT: ``dot -Tsvg graph.dot -o graph.svg`` renders it.

    Nodes are grouped in one cluster per modality; edge pen width follows
    ``|weight|`` and opacity the confidence; undirected edges have no arrowhead.
    """
    _check_texts(graph, "DOT")
    colours = {m: MODALITY_COLOURS[i % len(MODALITY_COLOURS)] for i, m in enumerate(graph.modalities)}
    lines = [
        f"// ililab.graph/v1 written by ililab {__version__}; render: dot -Tsvg THIS.dot -o graph.svg",
        'digraph "ililab" {',
        "  graph" + _dot_attrs([("rankdir", "LR"), ("fontname", "Helvetica"), ("ililab_meta", _meta_json(graph))]) + ";",
        '  node [shape="box", style="rounded,filled", fillcolor="#f2f2f2", fontname="Helvetica"];',
        '  edge [color="#555555"];',
    ]

    def node_line(node: Node, indent: str) -> str:
        display = node.label if node.label is not None and node.modality is not None else node.name
        fill = colours[node.modality] + "33" if node.modality is not None else None
        attrs = [("label", display), ("class_label", node.label), ("modality", node.modality), ("fillcolor", fill)]
        return indent + _dot_string(node.name) + _dot_attrs(attrs) + ";"

    lines += [node_line(n, "  ") for n in graph.nodes]  # declared first: the file keeps the node order
    for i, modality in enumerate(graph.modalities):
        members = " ".join(_dot_string(n.name) + ";" for n in graph.nodes if n.modality == modality)
        lines.append(f"  subgraph {_dot_string(f'cluster_{i}')} {{")
        lines.append(f"    graph{_dot_attrs([('label', modality), ('color', colours[modality])])};")
        lines.append(f"    {members}")
        lines.append("  }")
    top = max((abs(e.weight) for e in graph.edges if e.weight is not None), default=0.0)
    for e in graph.edges:
        modality = graph.node(e.source).modality
        colour = colours.get(modality, "#555555") if modality is not None else "#555555"
        if e.confidence is not None:
            colour += f"{round(40 + 215 * e.confidence):02x}"
        pen = None if e.weight is None or top == 0 else f"{0.5 + 3.5 * abs(e.weight) / top:.2f}"
        attrs = [
            ("kind", e.kind),
            ("edge_weight", None if e.weight is None else repr(float(e.weight))),
            ("confidence", None if e.confidence is None else repr(float(e.confidence))),
            ("dir", None if e.directed else "none"),
            ("color", colour),
            ("penwidth", pen),
        ]
        lines.append(f"  {_dot_string(e.source)} -> {_dot_string(e.target)}{_dot_attrs(attrs)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


_DOT_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/)
    |(?P<edgeop>->|--)
    |(?P<punct>[{}\[\]=;,:])
    |(?P<number>-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?))
    |(?P<ident>[A-Za-z_\x80-\U0010FFFF][A-Za-z_0-9\x80-\U0010FFFF]*)
    |(?P<quote>")
    |(?P<html><)
    """,
    re.VERBOSE | re.DOTALL,
)
_DOT_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t", "\n": ""}


class _DotTokens:
    """Tokens of DOT text: (kind, value, line) with kind in id/edgeop/punct/end."""

    def __init__(self, text: str) -> None:
        self.items: list[tuple[str, str, int, bool]] = []  # kind, value, line, keyword-able
        self._scan(text)
        self.position = 0

    def _scan(self, text: str) -> None:
        pos, line, n = 0, 1, len(text)
        while pos < n:
            if text[pos] == "#" and not text[text.rfind("\n", 0, pos) + 1 : pos].strip():
                end = text.find("\n", pos)  # a C-preprocessor line
                pos = n if end < 0 else end
                continue
            match = _DOT_TOKEN.match(text, pos)
            if match is None:
                raise GraphFormatError(f"DOT line {line}: unexpected character {text[pos]!r}")
            kind = match.lastgroup
            if kind == "quote":
                value, end = self._quoted(text, pos + 1, line)
                # "a" + "b" concatenation
                while True:
                    after = re.compile(r"\s*\+\s*\"").match(text, end)
                    if after is None:
                        break
                    more, end = self._quoted(text, after.end(), line)
                    value += more
                self.items.append(("id", value, line, False))
                line += text.count("\n", pos, end)
                pos = end
                continue
            if kind == "html":
                depth, end = 0, pos
                while end < n:
                    if text[end] == "<":
                        depth += 1
                    elif text[end] == ">":
                        depth -= 1
                        if depth == 0:
                            break
                    end += 1
                if depth != 0:
                    raise GraphFormatError(f"DOT line {line}: unterminated <HTML> string")
                self.items.append(("id", text[pos + 1 : end], line, False))
                line += text.count("\n", pos, end)
                pos = end + 1
                continue
            value = match.group()
            if kind in ("number", "ident"):
                self.items.append(("id", value, line, kind == "ident"))
            elif kind != "space":
                self.items.append((kind, value, line, False))  # type: ignore[arg-type]
            line += value.count("\n")
            pos = match.end()
        self.items.append(("end", "", line, False))

    @staticmethod
    def _quoted(text: str, start: int, line: int) -> tuple[str, int]:
        out = []
        i, n = start, len(text)
        while i < n:
            ch = text[i]
            if ch == '"':
                return "".join(out), i + 1
            if ch == "\\" and i + 1 < n:
                nxt = text[i + 1]
                if nxt in _DOT_ESCAPES:
                    out.append(_DOT_ESCAPES[nxt])
                else:  # Graphviz keeps other backslash sequences (\l, \N, ...) as they are
                    out.append(ch + nxt)
                i += 2
                continue
            out.append(ch)
            i += 1
        raise GraphFormatError(f"DOT line {line}: unterminated quoted string")

    def peek(self, offset: int = 0) -> tuple[str, str, int, bool]:
        return self.items[min(self.position + offset, len(self.items) - 1)]

    def next(self) -> tuple[str, str, int, bool]:
        item = self.peek()
        self.position += 1
        return item

    def keyword(self, word: str, offset: int = 0) -> bool:
        kind, value, _, plain = self.peek(offset)
        return kind == "id" and plain and value.lower() == word

    def expect(self, kind: str, value: str | None = None) -> str:
        got_kind, got, line, _ = self.next()
        if got_kind != kind or (value is not None and got != value):
            wanted = value if value is not None else kind
            shown = got if got_kind != "end" else "end of file"
            raise GraphFormatError(f"DOT line {line}: expected {wanted!r}, found {shown!r}")
        return got


class _DotReader:
    """A recursive-descent reader of the DOT language (graph structure and attributes)."""

    def __init__(self, text: str) -> None:
        self.tokens = _DotTokens(text)
        self.node_attrs: dict[str, dict[str, str]] = {}
        self.edges: list[tuple[str, str, dict[str, str]]] = []
        self.graph_attrs: dict[str, str] = {}
        self.directed = True
        self.depth = 0

    def parse(self) -> None:
        t = self.tokens
        if t.keyword("strict"):
            t.next()
        if t.keyword("digraph"):
            self.directed = True
        elif t.keyword("graph"):
            self.directed = False
        else:
            kind, value, line, _ = t.peek()
            raise GraphFormatError(f"DOT line {line}: expected 'digraph' or 'graph', found {value or kind!r}")
        t.next()
        if t.peek()[0] == "id":
            t.next()
        t.expect("punct", "{")
        self.statements({}, {}, top=True)
        t.expect("punct", "}")
        if t.peek()[0] != "end":
            raise GraphFormatError(f"DOT line {t.peek()[2]}: text after the end of the graph")

    def attr_list(self) -> dict[str, str]:
        t = self.tokens
        out: dict[str, str] = {}
        while t.peek()[:2] == ("punct", "["):
            t.next()
            while t.peek()[:2] != ("punct", "]"):
                key = t.expect("id")
                value = "true"
                if t.peek()[:2] == ("punct", "="):
                    t.next()
                    value = t.expect("id")
                out[key] = value
                if t.peek()[0] == "punct" and t.peek()[1] in ",;":
                    t.next()
            t.next()
        return out

    def node_id(self) -> str:
        t = self.tokens
        name = t.expect("id")
        for _ in range(2):  # :port[:compass]
            if t.peek()[:2] == ("punct", ":"):
                t.next()
                t.expect("id")
        return name

    def declare(self, name: str, defaults: dict[str, str], attrs: dict[str, str] | None = None) -> None:
        if name not in self.node_attrs:
            self.node_attrs[name] = dict(defaults)
        if attrs:
            self.node_attrs[name].update(attrs)

    def operand(self, node_defaults: dict[str, str], edge_defaults: dict[str, str]) -> list[str]:
        t = self.tokens
        if t.keyword("subgraph") or t.peek()[:2] == ("punct", "{"):
            return self.subgraph(node_defaults, edge_defaults)
        name = self.node_id()
        self.declare(name, node_defaults)
        return [name]

    def subgraph(self, node_defaults: dict[str, str], edge_defaults: dict[str, str]) -> list[str]:
        t = self.tokens
        if t.keyword("subgraph"):
            t.next()
            if t.peek()[0] == "id":
                t.next()
        t.expect("punct", "{")
        self.depth += 1
        if self.depth > 100:
            raise GraphFormatError(f"DOT line {t.peek()[2]}: subgraphs nested too deeply")
        before = set(self.node_attrs)
        members = self.statements(dict(node_defaults), dict(edge_defaults), top=False)
        self.depth -= 1
        t.expect("punct", "}")
        return members + [n for n in self.node_attrs if n not in before and n not in members]

    def statements(self, node_defaults: dict[str, str], edge_defaults: dict[str, str], top: bool) -> list[str]:
        t = self.tokens
        members: list[str] = []
        while True:
            kind, value, line, _ = t.peek()
            if kind == "end" or (kind, value) == ("punct", "}"):
                return members
            if (kind, value) == ("punct", ";"):
                t.next()
                continue
            if t.keyword("graph") or t.keyword("node") or t.keyword("edge"):
                if t.peek(1)[:2] == ("punct", "["):
                    target = t.next()[1].lower()
                    attrs = self.attr_list()
                    if target == "node":
                        node_defaults.update(attrs)
                    elif target == "edge":
                        edge_defaults.update(attrs)
                    elif top:
                        self.graph_attrs.update(attrs)
                    continue
            if kind == "id" and t.peek(1)[:2] == ("punct", "=") and not t.keyword("subgraph"):
                t.next()
                t.next()
                setting = t.expect("id")
                if top:
                    self.graph_attrs[value] = setting
                continue
            if kind not in ("id", "punct") or (kind == "punct" and value != "{"):
                raise GraphFormatError(f"DOT line {line}: unexpected {value or kind!r}")
            is_subgraph = kind == "punct" or t.keyword("subgraph")
            left = self.operand(node_defaults, edge_defaults)
            if t.peek()[0] != "edgeop":
                if not is_subgraph:
                    self.declare(left[0], node_defaults, self.attr_list())
                members += [n for n in left if n not in members]
                continue
            chain = [left]
            ops = []
            while t.peek()[0] == "edgeop":
                ops.append(t.next()[1])
                chain.append(self.operand(node_defaults, edge_defaults))
            attrs = {**edge_defaults, **self.attr_list()}
            for (sources, targets), op in zip(zip(chain, chain[1:]), ops):
                for s in sources:
                    for target in targets:
                        self.edges.append((s, target, {**attrs, "_op": op}))
            for group in chain:
                members += [n for n in group if n not in members]


def read_dot(text: str) -> DependencyGraph:
    """Parse Graphviz DOT (as written by :func:`write_dot`, or a plain ``digraph``).

    ``a -> b`` is a directed edge unless its ``kind`` says otherwise or it has
    ``dir=none`` / ``dir=both``; ``a -- b`` (in a ``graph``) is undirected.
    Ports, HTML labels and layout attributes are read and ignored.
    """
    reader = _DotReader(text)
    try:
        reader.parse()
    except RecursionError:
        raise GraphFormatError("DOT nested too deeply") from None
    nodes = [
        Node(name, attrs.get("class_label"), attrs.get("modality")) for name, attrs in reader.node_attrs.items()
    ]
    if any(not n.name for n in nodes):
        raise GraphFormatError("DOT: a node has an empty name")
    raw = []
    for s, t, attrs in reader.edges:
        what = f"edge {s!r} -> {t!r}"
        undirected = attrs["_op"] == "--" or attrs.get("dir", "").lower() in ("none", "both")
        kind = _kind(attrs.get("kind"), "undirected" if undirected else "directed", what)
        weight = attrs.get("edge_weight", attrs.get("weight"))
        raw.append((s, t, kind, _number(weight, f"{what} weight"), _number(attrs.get("confidence"), f"{what} confidence")))
    return _assemble(nodes, raw, _parse_meta(reader.graph_attrs.get("ililab_meta"), "graph attribute ililab_meta"))


# -- CSV edge list ----------------------------------------------------------------------


def _csv_number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    if "\x00" in text:
        raise GraphFormatError("not a CSV text file (it holds NUL bytes)")
    try:
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        raise GraphFormatError(f"not valid CSV: {error}") from None
    return [(line, [cell.strip() for cell in row]) for line, row in rows if any(cell.strip() for cell in row)]


def write_csv(graph: DependencyGraph) -> str:
    """An edge list ``source,target,kind,weight,confidence`` (Gephi's spreadsheet import reads it).

    Nodes without edges get a row with an empty target. Node labels and
    modalities are carried only by names of the form ``"Class (modality)"``.
    """
    _check_texts(graph, "CSV", allow_cr=False)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["source", "target", "kind", "weight", "confidence"])
    linked = set()
    for e in graph.edges:
        writer.writerow([e.source, e.target, e.kind, _csv_number(e.weight), _csv_number(e.confidence)])
        linked.update((e.source, e.target))
    for name in graph.names:
        if name not in linked:
            writer.writerow([name, "", "", "", ""])
    return buffer.getvalue()


def _looks_like_adjacency(rows: list[tuple[int, list[str]]]) -> bool:
    header = rows[0][1]
    return len(rows) == len(header) and header[0] in ("", "source \\ target") and [r[0] for _, r in rows[1:]] == header[1:]


def read_csv(text: str) -> DependencyGraph:
    """Parse a CSV edge list (columns ``source``, ``target`` and optionally ``kind``/``type``,
    ``weight``, ``confidence``, any case); a square matrix with matching row and column
    names is read as an adjacency matrix (:func:`read_adjacency_csv`)."""
    rows = _csv_rows(text)
    if not rows:
        raise GraphFormatError("empty CSV file")
    header = [cell.lower() for cell in rows[0][1]]
    if "source" not in header or "target" not in header:
        if _looks_like_adjacency(rows):
            return _adjacency_from_rows(rows)
        raise GraphFormatError(
            "a CSV edge list needs a header row with 'source' and 'target' columns "
            "(or, for an adjacency matrix, an empty first cell and the node names across and down)"
        )
    column = {name: header.index(name) for name in ("source", "target", "kind", "type", "weight", "confidence") if name in header}
    kind_column = column.get("kind", column.get("type"))
    names: dict[str, None] = {}
    raw = []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise GraphFormatError(f"CSV line {line}: {len(row)} fields, expected {len(header)}")
        source, target = row[column["source"]], row[column["target"]]
        if not source:
            raise GraphFormatError(f"CSV line {line}: empty source")
        names.setdefault(source)
        if not target:
            continue
        names.setdefault(target)
        what = f"CSV line {line}"
        kind = _kind(row[kind_column] if kind_column is not None else None, "directed", what)
        weight = _number(row[column["weight"]], f"{what} weight") if "weight" in column else None
        confidence = _number(row[column["confidence"]], f"{what} confidence") if "confidence" in column else None
        raw.append((source, target, kind, weight, confidence))
    return _assemble([Node.from_name(n) for n in names], raw, None)


# -- CSV adjacency matrix -----------------------------------------------------------------


def write_adjacency_csv(graph: DependencyGraph) -> str:
    """A square matrix: cell (row i, column j) is the weight of ``i -> j`` (1 without a weight).

    An undirected edge fills both cells; an empty pair of cells is no edge (written as 0).
    """
    from ililab.transforms import IlilabWarning

    _check_texts(graph, "CSV", allow_cr=False)
    index = {name: i for i, name in enumerate(graph.names)}
    p = len(graph.nodes)
    cells = [["0"] * p for _ in range(p)]
    zero = 0
    for e in graph.edges:
        value = "1" if e.weight is None else repr(float(e.weight))
        if e.weight == 0:
            zero += 1
        s, t = index[e.source], index[e.target]
        cells[s][t] = value
        if not e.directed:
            cells[t][s] = value
    if zero:
        warnings.warn(
            f"{zero} edge(s) of weight 0 cannot be told from no edge in an adjacency matrix and are lost; "
            "save as JSON, GraphML or an edge-list CSV to keep them",
            IlilabWarning,
            stacklevel=2,
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["", *graph.names])
    for name, row in zip(graph.names, cells):
        writer.writerow([name, *row])
    return buffer.getvalue()


def _adjacency_from_rows(rows: list[tuple[int, list[str]]]) -> DependencyGraph:
    names = rows[0][1][1:]
    p = len(names)
    if p == 0:
        raise GraphFormatError("an adjacency CSV needs node names across its first row")
    if len(rows) - 1 != p:
        raise GraphFormatError(f"an adjacency CSV needs {p} rows after the header (one per node), got {len(rows) - 1}")
    values: list[list[float]] = []
    for (line, row), name in zip(rows[1:], names):
        if len(row) != p + 1:
            raise GraphFormatError(f"CSV line {line}: {len(row)} fields, expected {p + 1}")
        if row[0] != name:
            raise GraphFormatError(f"CSV line {line}: row name {row[0]!r} differs from column name {name!r}; "
                                   "rows and columns must list the nodes in the same order")
        values.append([_number(cell, f"CSV line {line}, column {names[j]!r}") or 0.0 for j, cell in enumerate(row[1:])])
    nonzero = [v for row in values for v in row if v != 0.0]
    binary = all(v == 1.0 for v in nonzero)
    raw = []
    for i in range(p):
        for j in range(p):
            a, b = values[i][j], values[j][i]
            if a == 0.0 or (i == j):
                if i == j and a != 0.0:
                    raise GraphFormatError(f"adjacency CSV: nonzero diagonal cell for {names[i]!r} (self-loop)")
                continue
            if b != 0.0:
                if j < i:
                    continue
                weight = None if binary or a != b else a
                raw.append((names[i], names[j], "undirected", weight, None))
            else:
                raw.append((names[i], names[j], "directed", None if binary else a, None))
    return _assemble([Node.from_name(n) for n in names], raw, None)


def read_adjacency_csv(text: str) -> DependencyGraph:
    """Parse a square CSV adjacency matrix with node names across the first row and down the first column."""
    rows = _csv_rows(text)
    if not rows:
        raise GraphFormatError("empty CSV file")
    return _adjacency_from_rows(rows)


# -- registration -----------------------------------------------------------------------------


def register() -> None:
    """Add the formats of this module to :data:`ililab.io.GRAPH_FORMATS` (idempotent)."""
    from ililab.io import GRAPH_FORMATS

    GRAPH_FORMATS.setdefault("gml", ((".gml",), write_gml, read_gml))
    GRAPH_FORMATS.setdefault("graphml", ((".graphml",), write_graphml, read_graphml))
    GRAPH_FORMATS.setdefault("dot", ((".dot", ".gv"), write_dot, read_dot))
    GRAPH_FORMATS.setdefault("csv", ((".csv",), write_csv, read_csv))
    GRAPH_FORMATS.setdefault("adjacency-csv", ((), write_adjacency_csv, read_adjacency_csv))


register()
