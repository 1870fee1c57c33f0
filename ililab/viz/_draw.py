"""Node-link drawing: edge styles, curved edges and arrowheads, and :func:`plot_graph`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ililab.errors import UsageError
from ililab.graph import DependencyGraph, Edge
from ililab.viz._filters import _filter_note, filter_edges
from ililab.viz._heatmap import plot_heatmap
from ililab.viz._layouts import _circular_layout, _hierarchical_layout, _Layout, _modality_layout
from ililab.viz._save import save_figure
from ililab.viz._spring import _spring_layout
from ililab.viz._style import (
    DASHED,
    LAYOUTS,
    NO_MODALITY,
    OTHER,
    UNDIRECTED,
    _check_graph,
    _heading,
    _legend,
    _modality_colours,
    _shade,
    graph_title,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


@dataclass
class _EdgeStyle:
    colour: str
    width: float
    alpha: float
    arrow: bool
    dashed: bool
    zorder: float = 1.0


def _edge_styles(graph: DependencyGraph) -> dict[tuple[str, str], _EdgeStyle]:
    colours = _modality_colours(graph)
    weights = [abs(e.weight) for e in graph.edges if e.weight is not None]
    top = max(weights, default=0.0)
    many = len(graph.edges)
    base_alpha = float(np.clip(0.9 - 0.1 * math.log2(max(many, 1) / 20.0), 0.3, 0.9))
    base_width = float(np.clip(1.6 - 0.2 * math.log2(max(many, 1) / 20.0), 0.6, 1.6))
    styles = {}
    for e in graph.edges:
        if e.weight is not None and top > 0:
            width = 0.4 + 3.2 * abs(e.weight) / top
        else:
            width = base_width
        shade = _shade(e)
        alpha = 0.12 + 0.88 * shade if shade is not None else base_alpha
        colour = colours[graph.node(e.source).modality] if e.directed else UNDIRECTED
        order = abs(e.weight) if e.weight is not None else (e.confidence or 0.0)
        styles[(e.source, e.target)] = _EdgeStyle(colour, width, alpha, e.directed, not e.directed, 1.0 + order / (top or 1.0))
    return styles


def _new_figure(layout: _Layout) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=layout.size)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(*layout.xlim)
    ax.set_ylim(*layout.ylim)
    ax.set_axis_off()
    return fig, ax


def _edge_path(
    start: np.ndarray, end: np.ndarray, bulge: float, radius: float, head: float, width: float,
    route: np.ndarray | None = None,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The polyline (in points) of an edge between two markers, and its arrowhead triangle.

    A nonzero ``bulge`` bends the edge into a quadratic curve whose apex lies
    ``bulge`` points from the chord's middle (positive: towards +x for a
    vertical chord). The line stops at the markers' rims; the arrowhead's tip
    touches the target's rim.
    """
    if route is not None and len(route):
        # a polyline through the bend points: trim its first and last legs at the markers' rims
        first, last = route[0] - start, end - route[-1]
        n_first, n_last = float(np.hypot(*first)) or 1.0, float(np.hypot(*last)) or 1.0
        curve = np.vstack([start + first / n_first * (radius + 1.0), route, end - last / n_last * (radius + 1.5)])
        return _arrowhead(curve, head, width)
    chord = end - start
    length = float(np.hypot(*chord))
    if length <= 2 * radius + 1:
        return None, None
    if bulge:
        normal = np.array([chord[1], -chord[0]]) / length
        sign = 1.0 if chord[1] <= 0 else -1.0
        control = (start + end) / 2 - sign * normal * 2.0 * bulge
        t = np.linspace(0.0, 1.0, 48)[:, None]
        curve = (1 - t) ** 2 * start + 2 * (1 - t) * t * control + t**2 * end
    else:
        curve = np.array([start, end])
    rim_start, rim_end = radius + 1.0, radius + 1.5
    # keep the part of the curve outside both markers
    away_start = np.hypot(*(curve - start).T) >= rim_start
    away_end = np.hypot(*(curve - end).T) >= rim_end
    if not bulge:
        direction = chord / length
        curve = np.array([start + direction * rim_start, end - direction * rim_end])
    else:
        keep = away_start & away_end
        if keep.sum() < 2:
            return None, None
        curve = curve[keep]
    return _arrowhead(curve, head, width)


def _arrowhead(curve: np.ndarray, head: float, width: float) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The arrowhead triangle at the end of ``curve`` (none if ``head`` is 0), and the line shortened under it."""
    tip = None
    if head:
        last = curve[-1]
        back = curve[-2] if len(curve) > 1 else curve[0]
        direction = last - back
        norm = float(np.hypot(*direction)) or 1.0
        direction /= norm
        across = np.array([-direction[1], direction[0]])
        size = head + 0.6 * width
        base = last - direction * size
        tip = np.array([last, base + across * size * 0.38, base - across * size * 0.38])
        # shorten the line so its end hides under the arrowhead
        remaining = np.hypot(*(curve - last).T)
        inside = remaining < size * 0.7
        if (~inside).sum() >= 1:
            curve = np.vstack([curve[~inside], last - direction * size * 0.7])
        if len(curve) < 2:
            return None, tip
    return curve, tip


def _draw(
    ax: Axes,
    graph: DependencyGraph,
    layout: _Layout,
    edges: Sequence[Edge],
    styles: dict[tuple[str, str], _EdgeStyle],
) -> None:
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.colors import to_rgba

    colours = _modality_colours(graph)
    head = float(np.clip(1.5 * layout.radius, 6.0, 9.0))  # arrowhead length in points
    sx, sy = layout.scale
    segments, heads, line_colours, head_colours, widths, dashes = [], [], [], [], [], []
    for e in sorted(edges, key=lambda e: styles[(e.source, e.target)].zorder):
        style = styles[(e.source, e.target)]
        start = np.array(layout.to_points(*layout.positions[e.source]))
        end = np.array(layout.to_points(*layout.positions[e.target]))
        route = layout.routes.get((e.source, e.target))
        line, tip = _edge_path(
            start, end, layout.bulge.get((e.source, e.target), 0.0), layout.radius, head if style.arrow else 0.0, style.width,
            None if route is None else np.array([layout.to_points(x, y) for x, y in route], dtype=float).reshape(-1, 2),
        )
        rgba = to_rgba(style.colour, style.alpha)
        if line is not None:
            segments.append(line / (sx, sy))
            line_colours.append(rgba)
            widths.append(style.width)
            dashes.append(DASHED if style.dashed else (0, None))
        if tip is not None:
            heads.append(tip / (sx, sy))
            head_colours.append(rgba)
    if segments:
        ax.add_collection(
            LineCollection(
                segments, colors=line_colours, linewidths=widths, linestyles=dashes, capstyle="butt", zorder=1, clip_on=False
            )
        )
    if heads:
        ax.add_collection(PolyCollection(heads, facecolors=head_colours, edgecolors="none", zorder=2, clip_on=False))
    names = graph.names
    xy = np.array([layout.positions[n] for n in names], dtype=float).reshape(-1, 2)
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=(2 * layout.radius) ** 2,
        c=[colours[graph.node(n).modality] for n in names],
        edgecolors="white",
        linewidths=0.8,
        zorder=3,
    )
    for i, name in enumerate(names):
        label = layout.labels[name]
        x, y = layout.positions[name]
        ax.annotate(
            label.text,
            (x, y),
            xytext=(label.dx, label.dy),
            textcoords="offset points",
            ha=label.ha,
            va=label.va,
            rotation=label.rotation,
            rotation_mode="anchor",
            fontsize=layout.font,
            zorder=4,
            parse_math=False,
            annotation_clip=False,
            gid=f"node-label-{i}",
            bbox={"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.75} if label.boxed else None,
        )
    for x, y, text in layout.headers:
        modality = None if text == OTHER else text
        colour = colours.get(modality, NO_MODALITY)
        _heading(ax, text, (x, y), (0, layout.radius + 6), colour, layout.font, ha="center", va="bottom")


def _layout_for(graph: DependencyGraph, layout: str, seed: int) -> _Layout:
    if layout == "modality":
        return _modality_layout(graph)
    if layout == "spring":
        return _spring_layout(graph, seed)
    if layout == "circular":
        return _circular_layout(graph)
    if layout == "hierarchical":
        return _hierarchical_layout(graph)
    raise UsageError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")


def _resolve_layout(graph: DependencyGraph, layout: str | None) -> str:
    if layout in (None, "auto"):
        return "modality" if graph.modalities else "spring"
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}; choose one of auto, {', '.join(LAYOUTS)}")
    return layout


def plot_graph(
    graph: DependencyGraph,
    path: str | Path | None = None,
    *,
    layout: str = "auto",
    top_k: int | None = None,
    min_confidence: float | None = None,
    min_weight: float | None = None,
    title: str | None = None,
    seed: int = 0,
    dpi: float = 150,
    legend: bool = True,
) -> Figure:
    """Draw ``graph``; save it to ``path`` (png/svg/pdf by extension) if given.

    Parameters
    ----------
    graph : DependencyGraph
    path : str or Path, optional
        Where to save the picture (atomically).
    layout : {"auto", "modality", "spring", "circular", "hierarchical", "heatmap"}
        ``auto`` is ``modality`` when nodes carry modalities, else ``spring``.
    top_k, min_confidence, min_weight :
        Edge filters, see :func:`filter_edges`.
    title : str, optional
        Default: the learner, its parameters and the size of the graph.
        An empty string draws no title.
    seed : int
        Seed of the spring layout.
    dpi : float
        Resolution of PNG output.
    legend : bool
        Draw the legend below the picture.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> g = DependencyGraph(["Train (visual)", "Train (audio)", "Horn (audio)"],
    ...                     [Edge("Train (visual)", "Train (audio)", weight=0.8),
    ...                      Edge("Train (visual)", "Horn (audio)", weight=0.3)])
    >>> fig = plot_graph(g, layout="modality")
    >>> fig.axes[0].get_title().splitlines()[-1]
    '3 nodes, 2 edges (2 directed, 0 undirected, 2 cross-modal)'
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = plot_graph(g, pathlib.Path(tmp) / "graph.svg", layout="circular")
    ...     print(sorted(p.name for p in pathlib.Path(tmp).iterdir()))
    ['graph.svg']
    """
    _check_graph(graph)
    chosen = _resolve_layout(graph, layout)
    if chosen == "heatmap":
        return plot_heatmap(graph, path, top_k=top_k, min_confidence=min_confidence, min_weight=min_weight, title=title, dpi=dpi)
    shown = filter_edges(graph, top_k, min_confidence, min_weight)
    geometry = _layout_for(shown, chosen, seed)
    fig, ax = _new_figure(geometry)
    _draw(ax, shown, geometry, shown.edges, _edge_styles(shown))
    if title is None:
        title = graph_title(graph, _filter_note(graph, shown, top_k, min_confidence, min_weight))
    if title:
        ax.set_title(title, fontsize=max(geometry.font, 8.0), pad=6, loc="center", parse_math=False)
    if legend:
        _legend(fig, ax, shown, geometry.font)
    if path is not None:
        save_figure(fig, path, dpi=dpi)
    return fig
