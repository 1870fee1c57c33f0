"""What the graph formats share: text checks, meta as JSON, value parsing, graph assembly."""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ililab.errors import GraphFormatError, UsageError, shown
from ililab.graph import DependencyGraph, Edge, Node


@dataclass(frozen=True)
class GraphLimits:
    """The largest graph a reader builds: ``max_nodes`` nodes and ``max_edges`` edges.

    A few kilobytes of DOT can describe millions of edges (``{a0 ... a1499} ->
    {b0 ... b1499}``), so every reader counts before it builds and refuses a graph
    over a limit with a :class:`~ililab.errors.GraphFormatError`. The defaults
    hold the class graphs ililab is made for (AudioSet's 527 classes in two
    modalities: 1,054 nodes) with room to spare, and a graph at the edge limit
    takes seconds and a few hundred MB to read, not minutes and gigabytes
    (see ``docs/graph-format.md``); raise them with ``--max-nodes`` /
    ``--max-edges`` of ``ililab convert``, ``show`` and ``plot``, or
    ``read_graph(..., max_nodes=, max_edges=)``.

    Examples
    --------
    >>> GraphLimits()
    GraphLimits(max_nodes=100000, max_edges=250000)
    """

    max_nodes: int = 100_000
    max_edges: int = 250_000


_LIMITS: ContextVar[GraphLimits | None] = ContextVar("ililab_graph_limits", default=None)


def graph_limits() -> GraphLimits:
    """The limits in force (see :func:`limits`)."""
    return _LIMITS.get() or GraphLimits()


@contextmanager
def limits(max_nodes: int | None = None, max_edges: int | None = None) -> Iterator[GraphLimits]:
    """Read graphs under other limits inside a ``with`` block (``None`` keeps the default).

    Examples
    --------
    >>> from ililab.errors import GraphFormatError
    >>> from ililab.formats import read_dot
    >>> with limits(max_edges=1):
    ...     try:
    ...         read_dot("digraph { a -> b; b -> c }")
    ...     except GraphFormatError as error:
    ...         print(str(error)[:35])
    more than 1 edges (the limit); rais
    """
    current = graph_limits()
    chosen = GraphLimits(
        current.max_nodes if max_nodes is None else int(max_nodes),
        current.max_edges if max_edges is None else int(max_edges),
    )
    if chosen.max_nodes < 1 or chosen.max_edges < 0:
        raise UsageError(f"graph limits must be at least 1 node and 0 edges, got {chosen}")
    token = _LIMITS.set(chosen)
    try:
        yield chosen
    finally:
        _LIMITS.reset(token)


def check_size(nodes: int, edges: int) -> None:
    """Refuse ``nodes`` nodes or ``edges`` edges over the limits in force (before building them)."""
    limit = graph_limits()
    if nodes > limit.max_nodes:
        raise GraphFormatError(
            f"more than {limit.max_nodes} nodes (the limit); raise it with --max-nodes "
            "(Python: read_graph(..., max_nodes=...))"
        )
    if edges > limit.max_edges:
        raise GraphFormatError(
            f"more than {limit.max_edges} edges (the limit); raise it with --max-edges "
            "(Python: read_graph(..., max_edges=...))"
        )


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


def check_texts(graph: DependencyGraph, fmt: str, allow_cr: bool = True) -> None:
    """Refuse a graph whose node texts hold a character ``fmt`` cannot carry."""
    for node in graph.nodes:
        for what, value in (("name", node.name), ("label", node.label), ("modality", node.modality)):
            if value is None:
                continue
            bad = _bad_character(value, allow_cr)
            if bad is not None:
                raise GraphFormatError(
                    f"node {shown(node.name)}: its {what} holds the control character U+{ord(bad):04X}, "
                    f"which {fmt} cannot carry; rename the node or save as JSON"
                )


def meta_json(graph: DependencyGraph) -> str | None:
    """The graph's meta as JSON text, or None when it is empty."""
    meta = graph.to_dict()["meta"]
    return json.dumps(meta, ensure_ascii=False, allow_nan=False, sort_keys=False) if meta else None


def parse_meta(text: Any, where: str) -> dict[str, Any]:
    """The meta dictionary from its JSON text (empty when there is none)."""
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


def text_or_none(value: Any, what: str) -> str | None:
    """An attribute value as text (numbers converted), or None when absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise GraphFormatError(f"{what} must be text, got {type(value).__name__}")
    return value if isinstance(value, str) else str(value)


def parse_number(value: Any, what: str) -> float | None:
    """A finite float from an attribute value, or None when absent or blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise GraphFormatError(f"{what} must be a number, got {shown(value)}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GraphFormatError(f"{what} must be a number, got {shown(value)}") from None
    if not math.isfinite(number):
        raise GraphFormatError(f"{what} must be finite, got {shown(value)}")
    return number


def parse_kind(value: Any, default: str, what: str) -> str:
    """``directed`` or ``undirected`` from an attribute value, ``default`` when absent."""
    if value is None or value == "":
        return default
    text = str(value).strip().lower()
    if text not in ("directed", "undirected"):
        raise GraphFormatError(f"{what}: kind must be 'directed' or 'undirected', got {shown(value)}")
    return text


def assemble(
    nodes: list[Node],
    raw_edges: Sequence[tuple[str, str, str, float | None, float | None]],
    meta: Mapping[str, Any] | None,
) -> DependencyGraph:
    """Build a graph; a pair of opposite directed arcs becomes one undirected edge.

    ``raw_edges`` is a list (or any sized collection): its length is checked against
    :func:`graph_limits` before anything is built.
    """
    check_size(len(nodes), len(raw_edges))  # type: ignore[arg-type]
    by_pair: dict[frozenset[str], list[tuple[str, str, str, float | None, float | None]]] = {}
    order: list[frozenset[str]] = []
    for edge in raw_edges:
        source, target = edge[0], edge[1]
        if source == target:
            raise GraphFormatError(f"self-loop on node {shown(source)}; ililab graphs have none")
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
        raise GraphFormatError(f"more than one edge between {shown(s1)} and {shown(t1)}")
    return DependencyGraph(nodes, edges, meta)
