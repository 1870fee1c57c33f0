"""Shared look of every picture: colours, font sizes, text extents, titles, legend entries, input checks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ililab._palette import MODALITY_COLOURS
from ililab.errors import UsageError
from ililab.graph import DependencyGraph

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


LAYOUTS = ("modality", "spring", "circular", "hierarchical", "heatmap")
IMAGE_FORMATS = ("png", "svg", "pdf")
# Okabe & Ito's colour-blind-safe palette, the one the DOT writer uses too.
PALETTE = MODALITY_COLOURS
NO_MODALITY = "#7f7f7f"
UNDIRECTED = "#555555"
DASHED = (0, (4, 2.5))  # undirected edges, and edges only in the second graph of a comparison
INK = "#333333"  # neutral ink: legend samples, the cells of an unweighted heatmap
OTHER = "(no modality)"
# Comparison colours.
DIFF_COLOURS = {
    "shared": "#4d4d4d",
    "only_first": "#D55E00",
    "only_second": "#0072B2",
    "reversed": "#CC79A7",
    "kind_differs": "#E69F00",
}


def _font_size(items: int, smallest: float = 5.0) -> float:
    """Label font size (points) for a drawing with ``items`` rows or nodes, at least ``smallest``."""
    return float(np.clip(11.0 - 1.7 * math.log2(max(items, 1) / 10.0), smallest, 11.0))


# Node-link layouts never go below this label size: the figure grows instead.
MIN_LABEL_FONT = 7.0


_ADVANCE: dict[str, float] = {}


def _text_extent(text: str, size: float) -> tuple[float, float]:
    """Width and height in points of ``text`` in matplotlib's default font (measured glyph advances)."""
    if not _ADVANCE:
        from matplotlib.font_manager import FontProperties, findfont
        from matplotlib.ft2font import FT2Font

        font = FT2Font(findfont(FontProperties()))  # a private instance: matplotlib resizes its shared ones
        font.set_size(100, 72)
        _ADVANCE["__font__"] = font  # type: ignore[assignment]
    font = _ADVANCE["__font__"]
    lines = text.split("\n")
    widest = 0.0
    for line in lines:
        width = 0.0
        for ch in line:
            if ch not in _ADVANCE:
                try:
                    _ADVANCE[ch] = font.load_char(ord(ch)).linearHoriAdvance / 65536 / 100  # type: ignore[attr-defined]
                except (RuntimeError, ValueError, OverflowError):
                    _ADVANCE[ch] = 0.6
            width += _ADVANCE[ch]
        widest = max(widest, width)
    return widest * size * 1.03, len(lines) * size * 1.2


def _modality_colours(graph: DependencyGraph) -> dict[str | None, str]:
    colours: dict[str | None, str] = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(graph.modalities)}
    colours[None] = NO_MODALITY
    return colours


def _display_label(graph: DependencyGraph, name: str, short: bool) -> str:
    node = graph.node(name)
    if short and node.label is not None and node.modality is not None:
        return node.label
    return name


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def graph_title(graph: DependencyGraph, note: str = "") -> str:
    """A two-line title: learner and parameters, then the size of the graph.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> g = DependencyGraph(["a", "b"], [Edge("a", "b")], {"learner": "ges", "params": {"penalty": 4.0}})
    >>> print(graph_title(g))
    ges (penalty=4)
    2 nodes, 1 edges (1 directed, 0 undirected, 0 cross-modal)
    """
    meta = graph.meta
    first = []
    learner = meta.get("learner")
    if learner:
        params = meta.get("params") or {}
        shown = ", ".join(
            f"{k}={_format_value(v)}" for k, v in params.items() if v is not None and k not in ("cache_size", "lambda")
        )
        first.append(f"{learner} ({shown})" if shown else str(learner))
    if meta.get("transform"):
        first.append(f"transform {meta['transform']}")
    if meta.get("n_samples"):
        first.append(f"n = {int(meta['n_samples']):,}")
    if meta.get("bootstrap"):
        boot = meta["bootstrap"]
        replicates = boot.get("replicates", boot.get("B", "")) if isinstance(boot, Mapping) else boot
        first.append(f"bootstrap {replicates}".strip())
    n_dir = sum(e.directed for e in graph.edges)
    second = (
        f"{len(graph.nodes)} nodes, {len(graph.edges)} edges "
        f"({n_dir} directed, {len(graph.edges) - n_dir} undirected, {len(graph.cross_modal_edges())} cross-modal)"
    )
    if note:
        second += f"; {note}"
    return " \u00b7 ".join(first) + ("\n" if first else "") + second


def _heading(
    ax: Axes, text: str, xy: tuple[float, float], offset: tuple[float, float], colour: str, font: float, **placement: Any
) -> None:
    """A modality's name in bold, ``offset`` points away from ``xy`` (``placement``: alignment, rotation)."""
    ax.annotate(
        text,
        xy,
        xytext=offset,
        textcoords="offset points",
        fontsize=font + 2,
        fontweight="bold",
        color=colour,
        annotation_clip=False,
        parse_math=False,
        **placement,
    )


def _entry(label: str, **style: Any) -> Any:
    """A legend entry: a matplotlib ``Line2D`` without data, drawn with ``style``."""
    from matplotlib.lines import Line2D

    return Line2D([], [], label=label, **style)


def _dot_entry(label: str, colour: str, size: float = 7.0, rim: str = "white", **style: Any) -> Any:
    """A legend entry drawn as a round marker (a node)."""
    return _entry(label, ls="none", marker="o", ms=size, mfc=colour, mec=rim, **style)


def _place_legend(ax: Axes, handles: Sequence[Any], font: float, **placement: Any) -> None:
    """A frameless legend of ``handles`` at ``placement`` (``loc``, ``bbox_to_anchor``, columns)."""
    ax.legend(handles=handles, frameon=False, fontsize=max(font, 7.0), **placement)


def _legend(fig: Figure, ax: Axes, graph: DependencyGraph, font: float, extra: Sequence[Any] = (), edges: bool = True) -> None:
    """A legend below the drawing, one column per group: modalities, edge kinds, widths, opacities, extras."""
    colours = _modality_colours(graph)
    groups: list[list[Any]] = []
    dots = [_dot_entry(m, colours[m]) for m in graph.modalities]
    if any(n.modality is None for n in graph.nodes) and graph.modalities:
        dots.append(_dot_entry(OTHER, NO_MODALITY))
    groups.append(dots)
    if edges:
        kinds = []
        if any(e.directed for e in graph.edges):
            kinds.append(_entry("directed (colour of source)", color=INK, lw=1.4, marker=">", ms=5))
        if any(not e.directed for e in graph.edges):
            kinds.append(_entry("undirected (not oriented)", color=UNDIRECTED, lw=1.4, ls=DASHED))
        groups.append(kinds)
        weights = [abs(e.weight) for e in graph.edges if e.weight is not None]
        samples = (1.0, 0.5, 0.1)
        if weights:
            top = max(weights)
            groups.append([_entry(f"|weight| {top * f:.2g}", color=INK, lw=0.4 + 3.2 * f) for f in samples])
        if any(e.confidence is not None for e in graph.edges):
            groups.append([_entry(f"confidence {c:g}", color=INK, lw=2.0, alpha=0.12 + 0.88 * c) for c in samples])
        elif any(e.stability is not None for e in graph.edges):
            groups.append([_entry(f"stability {c:g}", color=INK, lw=2.0, alpha=0.12 + 0.88 * c) for c in samples])
    if extra:
        groups.append(list(extra))
    groups = [g for g in groups if g]
    if not groups:
        return
    rows = max(len(g) for g in groups)
    handles = []
    for group in groups:  # the legend fills column by column: pad every group to a full column
        handles += group + [_entry(" ", alpha=0.0) for _ in range(rows - len(group))]
    _place_legend(
        ax, handles, font, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(groups), handlelength=2.6, columnspacing=1.6
    )


def _shade(edge) -> float | None:
    """What an edge's opacity shows: its bootstrap confidence, else its restart stability."""
    return edge.confidence if edge.confidence is not None else edge.stability


def _check_graph(graph: Any) -> None:
    if not isinstance(graph, DependencyGraph):
        raise UsageError(f"expected a DependencyGraph, got {type(graph).__name__}")
    if not graph.nodes:
        raise UsageError("the graph has no nodes; there is nothing to draw")
