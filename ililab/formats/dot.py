"""Graphviz DOT: a styled writer and a recursive-descent reader of the DOT language."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ililab._palette import MODALITY_COLOURS
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
)
from ililab.graph import DependencyGraph, Node

__all__ = ["write_dot", "read_dot"]


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
    >>> g = DependencyGraph(["Bark (audio)", "Bark (visual)"], [Edge("Bark (audio)", "Bark (visual)", weight=0.8)])
    >>> text = write_dot(g)
    >>> print(next(line for line in text.splitlines() if "->" in line).strip())
    "Bark (audio)" -> "Bark (visual)" [kind="directed", edge_weight="0.8", color="#0072B2", penwidth="4.00"];
    >>> text.count("subgraph")  # one cluster per modality
    2
    """
    check_texts(graph, "DOT")
    colours = {m: MODALITY_COLOURS[i % len(MODALITY_COLOURS)] for i, m in enumerate(graph.modalities)}
    lines = [
        f"// ililab.graph/v1 written by ililab {__version__}; render: dot -Tsvg THIS.dot -o graph.svg",
        'digraph "ililab" {',
        "  graph" + _dot_attrs([("rankdir", "LR"), ("fontname", "Helvetica"), ("ililab_meta", meta_json(graph))]) + ";",
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
                raise GraphFormatError(f"DOT line {line}: unexpected character {shown(text[pos])}")
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
        self.items += [("end", "", line, False)] * 2

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
        return self.items[self.position + offset]  # offset <= 1; the list ends in 2 end tokens

    def next(self) -> tuple[str, str, int, bool]:
        item = self.items[self.position]
        if item[0] != "end":  # the position never passes the first end token
            self.position += 1
        return item

    def keyword(self, word: str, offset: int = 0) -> bool:
        kind, value, _, plain = self.peek(offset)
        return kind == "id" and plain and value.lower() == word

    def expect(self, kind: str, value: str | None = None) -> str:
        got_kind, got, line, _ = self.next()
        if got_kind != kind or (value is not None and got != value):
            wanted = value if value is not None else kind
            found = got if got_kind != "end" else "end of file"
            raise GraphFormatError(f"DOT line {line}: expected {shown(wanted)}, found {shown(found)}")
        return got


class _DotReader:
    """A recursive-descent reader of the DOT language (graph structure and attributes).

    Linear in the size of the text and of the graph: member lists are ordered
    dictionaries, and an edge statement's size (``{a b} -> {c d}`` is 4 edges) is
    checked against the graph limits before its edges are made.
    """

    def __init__(self, text: str) -> None:
        self.tokens = _DotTokens(text)
        self.node_attrs: dict[str, dict[str, str]] = {}
        self.order: list[str] = []  # node names in order of first appearance
        self.edges: list[tuple[str, str, dict[str, str]]] = []  # attrs shared by a statement's edges
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
            raise GraphFormatError(f"DOT line {line}: expected 'digraph' or 'graph', found {shown(value or kind)}")
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
        if name not in self.node_attrs:  # nodes grow with the text: assemble() counts them
            self.node_attrs[name] = dict(defaults)
            self.order.append(name)
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
        before = len(self.order)
        members = self.statements(dict(node_defaults), dict(edge_defaults), top=False)
        self.depth -= 1
        t.expect("punct", "}")
        for name in self.order[before:]:  # nodes first named inside (e.g. by an edge)
            members.setdefault(name, None)
        return list(members)

    def statements(self, node_defaults: dict[str, str], edge_defaults: dict[str, str], top: bool) -> dict[str, None]:
        t = self.tokens
        members: dict[str, None] = {}  # an ordered set: membership tests in O(1)
        while True:
            kind, value, line, plain = t.peek()
            if kind == "end" or (kind, value) == ("punct", "}"):
                return members
            if (kind, value) == ("punct", ";"):
                t.next()
                continue
            word = value.lower() if plain else ""  # one keyword test per statement: parsing stays fast
            if word in ("graph", "node", "edge"):
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
            if kind == "id" and t.peek(1)[:2] == ("punct", "=") and word != "subgraph":
                t.next()
                t.next()
                setting = t.expect("id")
                if top:
                    self.graph_attrs[value] = setting
                continue
            if kind not in ("id", "punct") or (kind == "punct" and value != "{"):
                raise GraphFormatError(f"DOT line {line}: unexpected {shown(value or kind)}")
            is_subgraph = kind == "punct" or word == "subgraph"
            left = self.operand(node_defaults, edge_defaults)
            if t.peek()[0] != "edgeop":
                if not is_subgraph:
                    self.declare(left[0], node_defaults, self.attr_list())
                members.update(dict.fromkeys(left))
                continue
            chain = [left]
            ops = []
            while t.peek()[0] == "edgeop":
                ops.append(t.next()[1])
                chain.append(self.operand(node_defaults, edge_defaults))
            attrs = {**edge_defaults, **self.attr_list()}
            made = sum(len(sources) * len(targets) for sources, targets in zip(chain, chain[1:]))
            check_size(len(self.order), len(self.edges) + made)  # before making them
            for (sources, targets), op in zip(zip(chain, chain[1:]), ops):
                shared = {**attrs, "_op": op}
                for s in sources:
                    for target in targets:
                        self.edges.append((s, target, shared))
            for group in chain:
                members.update(dict.fromkeys(group))


def read_dot(text: str) -> DependencyGraph:
    """Parse Graphviz DOT (as written by :func:`write_dot`, or a plain ``digraph``).

    ``a -> b`` is a directed edge unless its ``kind`` says otherwise or it has
    ``dir=none`` / ``dir=both``; ``a -- b`` (in a ``graph``) is undirected.
    Ports, HTML labels and layout attributes are read and ignored.

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
        Text that is not DOT, or a graph beyond the limits of :class:`ililab.formats.GraphLimits`.

    Examples
    --------
    >>> g = read_dot('digraph { rain -> "wet grass" [weight=2]; sprinkler -> "wet grass"; a -- b [dir=none] }')
    >>> g.names
    ['rain', 'wet grass', 'sprinkler', 'a', 'b']
    >>> [(e.source, e.target, e.kind) for e in g.edges]
    [('rain', 'wet grass', 'directed'), ('sprinkler', 'wet grass', 'directed'), ('a', 'b', 'undirected')]
    """
    reader = _DotReader(text)
    try:
        reader.parse()
    except RecursionError:
        raise GraphFormatError("DOT nested too deeply") from None
    nodes = [Node(name, attrs.get("class_label"), attrs.get("modality")) for name, attrs in reader.node_attrs.items()]
    if any(not n.name for n in nodes):
        raise GraphFormatError("DOT: a node has an empty name")
    raw = []
    for s, t, attrs in reader.edges:
        what = f"edge {shown(s)} -> {shown(t)}"
        undirected = attrs["_op"] == "--" or attrs.get("dir", "").lower() in ("none", "both")
        kind = parse_kind(attrs.get("kind"), "undirected" if undirected else "directed", what)
        weight = parse_number(attrs.get("edge_weight", attrs.get("weight")), f"{what} weight")
        raw.append((s, t, kind, weight, parse_number(attrs.get("confidence"), f"{what} confidence")))
    return assemble(nodes, raw, parse_meta(reader.graph_attrs.get("ililab_meta"), "graph attribute ililab_meta"))
