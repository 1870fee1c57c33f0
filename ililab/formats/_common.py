"""What the graph formats share: text checks, meta as JSON, value parsing, graph assembly."""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from ililab.errors import GraphFormatError
from ililab.graph import DependencyGraph, Edge, Node

# Palette shared with ililab.viz (colour-blind safe, Okabe & Ito).
MODALITY_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


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
                    f"node {node.name!r}: its {what} holds the control character U+{ord(bad):04X}, "
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
        raise GraphFormatError(f"{what} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GraphFormatError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise GraphFormatError(f"{what} must be finite, got {value!r}")
    return number


def parse_kind(value: Any, default: str, what: str) -> str:
    """``directed`` or ``undirected`` from an attribute value, ``default`` when absent."""
    if value is None or value == "":
        return default
    text = str(value).strip().lower()
    if text not in ("directed", "undirected"):
        raise GraphFormatError(f"{what}: kind must be 'directed' or 'undirected', got {value!r}")
    return text


def assemble(
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
