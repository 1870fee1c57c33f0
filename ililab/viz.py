"""Pictures of class dependency graphs: node-link drawings, adjacency heatmaps, graph diffs.

Everything draws on a bare :class:`matplotlib.figure.Figure` (Agg, PDF and SVG
canvases; no GUI, no pyplot state) and returns it; a ``path`` saves it
atomically, the format following the extension (``.png``, ``.svg``, ``.pdf``).
SVGs keep their text as text and PDFs embed TrueType fonts, so labels stay
editable and searchable in a paper.

Layouts (``layout=``):

``modality``
    one column per modality (audio left, visual right, ...), the classes in the
    same order in every column so that a class faces its twin; cross-modal
    edges are arrows between columns, within-modality edges arcs on the inner
    side of their column. The default when nodes carry modalities.
``spring``, ``circular``
    force-directed (seeded) and circle layouts.
``hierarchical``
    topological layers of the directed edges, left to right (cycles, if an
    imported graph has any, are collapsed into one layer).
``heatmap``
    the adjacency matrix: rows are sources, columns targets, grouped by
    modality, cells coloured by signed weight. The readable view past ~60 nodes.

Colour follows the node's modality (edges: the source's modality; undirected
edges are grey and dashed); edge width is proportional to ``|weight|`` and
opacity to the bootstrap confidence (else the restart stability) when the graph has them.

Examples
--------
>>> from ililab.graph import DependencyGraph, Edge, Node
>>> g = DependencyGraph(["Train (visual)", "Train (audio)"], [Edge("Train (visual)", "Train (audio)", weight=0.8)])
>>> fig = plot_graph(g)                     # doctest: +SKIP
>>> plot_graph(g, "graph.svg", layout="circular")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ililab._palette import MODALITY_COLOURS
from ililab.errors import UsageError
from ililab.graph import DependencyGraph, Edge, Node

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ililab.metrics import GraphComparison

__all__ = [
    "LAYOUTS",
    "IMAGE_FORMATS",
    "plot_graph",
    "plot_heatmap",
    "plot_comparison",
    "filter_edges",
    "save_figure",
]

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


# -- filters -----------------------------------------------------------------------------


def filter_edges(
    graph: DependencyGraph,
    top_k: int | None = None,
    min_confidence: float | None = None,
    min_weight: float | None = None,
) -> DependencyGraph:
    """The graph with only the edges worth drawing.

    Parameters
    ----------
    top_k : int, optional
        Keep an edge if it is among the ``top_k`` strongest edges of at least
        one of its two ends (strength: ``|weight|``, then confidence).
    min_confidence : float, optional
        Keep edges whose bootstrap confidence is at least this.
    min_weight : float, optional
        Keep edges whose ``|weight|`` is at least this.

    Raises
    ------
    UsageError
        A filter on an attribute no edge has, or a negative/zero ``top_k``.
    """
    edges = list(graph.edges)
    if min_confidence is not None:
        if edges and all(e.confidence is None for e in edges):
            raise UsageError("--min-confidence: the graph's edges carry no confidence; infer it with --bootstrap B")
        edges = [e for e in edges if e.confidence is not None and e.confidence >= min_confidence]
    if min_weight is not None:
        if edges and all(e.weight is None for e in edges):
            raise UsageError(f"--min-weight: the graph's edges carry no weight (learner {graph.meta.get('learner', '?')})")
        edges = [e for e in edges if e.weight is not None and abs(e.weight) >= min_weight]
    if top_k is not None:
        if top_k < 1:
            raise UsageError(f"--top-k must be at least 1, got {top_k}")
        if edges and all(e.weight is None and e.confidence is None for e in edges):
            raise UsageError("--top-k ranks edges by |weight| or confidence, and this graph's edges have neither")
        strength = {id(e): (abs(e.weight) if e.weight is not None else -1.0, e.confidence or 0.0) for e in edges}
        keep: set[int] = set()
        for name in graph.names:
            incident = [e for e in edges if name in (e.source, e.target)]
            incident.sort(key=lambda e: strength[id(e)], reverse=True)
            keep.update(id(e) for e in incident[:top_k])
        edges = [e for e in edges if id(e) in keep]
    return DependencyGraph(graph.nodes, edges, graph.meta)


def _filter_note(before: DependencyGraph, after: DependencyGraph, top_k, min_confidence, min_weight) -> str:
    parts = []
    if top_k is not None:
        parts.append(f"top {top_k} per node")
    if min_confidence is not None:
        parts.append(f"confidence \u2265 {min_confidence:g}")
    if min_weight is not None:
        parts.append(f"|weight| \u2265 {min_weight:g}")
    if not parts:
        return ""
    return f"showing {len(after.edges)} of {len(before.edges)} edges ({', '.join(parts)})"


# -- sizes, colours, text -----------------------------------------------------------------


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
    """A two-line title: learner and parameters, then the size of the graph."""
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


# -- layouts -------------------------------------------------------------------------------


@dataclass
class _Label:
    """Where a node's text goes: an offset in points from the marker, alignment, rotation."""

    text: str
    dx: float
    dy: float
    ha: str
    va: str = "center"
    rotation: float = 0.0
    boxed: bool = False


@dataclass
class _Layout:
    """Node positions in data units and the scale (points per data unit) they are drawn at.

    The axes fill the figure, so the figure size is the data range times the
    scale; :func:`_fit` widens the range until every label, arc and header fits.
    """

    positions: dict[str, tuple[float, float]]
    scale: tuple[float, float]
    font: float
    radius: float  # marker radius in points
    labels: dict[str, _Label]
    bulge: dict[tuple[str, str], float] = field(default_factory=dict)  # signed arc bulge in points, per (source, target)
    # bend points (data units) of edges drawn as polylines, per (source, target), in the source -> target direction
    routes: dict[tuple[str, str], list[tuple[float, float]]] = field(default_factory=dict)
    headers: list[tuple[float, float, str]] = field(default_factory=list)  # x, y, modality or OTHER
    xlim: tuple[float, float] = (0.0, 1.0)
    ylim: tuple[float, float] = (0.0, 1.0)

    def to_points(self, x: float, y: float) -> tuple[float, float]:
        return x * self.scale[0], y * self.scale[1]

    @property
    def size(self) -> tuple[float, float]:
        return (
            (self.xlim[1] - self.xlim[0]) * self.scale[0] / 72,
            (self.ylim[1] - self.ylim[0]) * self.scale[1] / 72,
        )


def _label_box(layout: _Layout, name: str) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) in points of a node's label."""
    label = layout.labels[name]
    px, py = layout.to_points(*layout.positions[name])
    ax_, ay = px + label.dx, py + label.dy
    w, h = _text_extent(label.text, layout.font)
    x0 = {"left": 0.0, "right": -w, "center": -w / 2}[label.ha]
    y0 = {"bottom": 0.0, "top": -h, "center": -h / 2, "center_baseline": -h / 2}[label.va]
    corners = [(x0, y0), (x0 + w, y0), (x0, y0 + h), (x0 + w, y0 + h)]
    if label.rotation:
        c, s = math.cos(math.radians(label.rotation)), math.sin(math.radians(label.rotation))
        corners = [(x * c - y * s, x * s + y * c) for x, y in corners]
    xs = [ax_ + x for x, _ in corners]
    ys = [ay + y for _, y in corners]
    pad = 2.0 if label.boxed else 0.5
    return min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad


def _fit(layout: _Layout, margin: float = 4.0) -> _Layout:
    """Set the data limits so that markers, labels, arcs and column headers all lie inside the axes."""
    boxes = []
    for name, (x, y) in layout.positions.items():
        px, py = layout.to_points(x, y)
        r = layout.radius + 1
        boxes.append((px - r, py - r, px + r, py + r))
        boxes.append(_label_box(layout, name))
    for (s, t), bulge in layout.bulge.items():
        if s not in layout.positions or t not in layout.positions:
            continue
        (sx, sy), (tx, ty) = layout.to_points(*layout.positions[s]), layout.to_points(*layout.positions[t])
        length = math.hypot(tx - sx, ty - sy) or 1.0
        # the apex lies `bulge` points from the chord's middle, along (dy, -dx) / length (see _draw)
        nx_, ny = (ty - sy) / length, -(tx - sx) / length
        sign = 1.0 if ty - sy <= 0 else -1.0
        apex = ((sx + tx) / 2 - sign * nx_ * bulge, (sy + ty) / 2 - sign * ny * bulge)
        boxes.append((apex[0] - 2, apex[1] - 2, apex[0] + 2, apex[1] + 2))
    for route in layout.routes.values():
        for x, y in route:
            px, py = layout.to_points(x, y)
            boxes.append((px - 2, py - 2, px + 2, py + 2))
    for x, y, text in layout.headers:
        px, py = layout.to_points(x, y)
        w, h = _text_extent(text, layout.font + 2)
        lift = layout.radius + 6
        boxes.append((px - w / 2, py + lift, px + w / 2, py + lift + h))
    x0 = min(b[0] for b in boxes) - margin
    y0 = min(b[1] for b in boxes) - margin
    x1 = max(b[2] for b in boxes) + margin
    y1 = max(b[3] for b in boxes) + margin
    sx, sy = layout.scale
    layout.xlim = (x0 / sx, x1 / sx)
    layout.ylim = (y0 / sy, y1 / sy)
    return layout


def _row_order(graph: DependencyGraph) -> tuple[list[str | None], dict[str, int]]:
    """Modality columns and the shared row of every class (twins share a row)."""
    columns: list[str | None] = list(graph.modalities)
    if any(n.modality is None for n in graph.nodes):
        columns.append(None)

    def key(node: Node) -> str:
        return node.label if node.label is not None and node.modality is not None else node.name

    keys: dict[str, int] = {}
    for column in columns:
        for node in graph.nodes:
            if node.modality == column:
                keys.setdefault(key(node), len(keys))
    return columns, {node.name: keys[key(node)] for node in graph.nodes}


def node_order(graph: DependencyGraph) -> list[str]:
    """Nodes grouped by modality, classes in the same order in every group (the heatmap's order)."""
    columns, rows = _row_order(graph)
    out = []
    for column in columns:
        out += sorted((n.name for n in graph.nodes if n.modality == column), key=lambda name: rows[name])
    return out


def _modality_layout(graph: DependencyGraph) -> _Layout:
    columns, rows = _row_order(graph)
    n_rows = max(rows.values(), default=0) + 1
    font = _font_size(n_rows)
    pitch = max(1.75 * font, 11.0)  # points between rows
    radius = float(np.clip(0.3 * pitch, 3.0, 7.0))
    k = len(columns)
    gap = min(230.0 + 4.0 * n_rows, 420.0) if k > 1 else 72.0  # points between columns
    positions, labels = {}, {}
    for node in graph.nodes:
        c = columns.index(node.modality)
        positions[node.name] = (float(c), -float(rows[node.name]))
        text = _display_label(graph, node.name, short=True)
        left = c == 0 and k > 1 or k == 1
        offset = radius + 3.0
        labels[node.name] = _Label(text, -offset if left else offset, 0.0, "right" if left else "left", boxed=0 < c < k - 1)
    layout = _Layout(positions, (gap, pitch), font, radius, labels)
    # within-modality arcs bulge toward the inside (the right of the first column, the left of the others)
    max_bulge = 0.28 * gap if k > 1 else 0.5 * gap
    for e in graph.edges:
        (xs, ys), (xt, yt) = positions[e.source], positions[e.target]
        if xs != xt:
            continue
        span = abs(ys - yt)
        bulge = min(max_bulge, 10.0 + 0.9 * pitch * span**0.85)
        inward = 1.0 if (xs == 0 or k == 1) else -1.0
        layout.bulge[(e.source, e.target)] = inward * bulge
    for c, column in enumerate(columns):
        layout.headers.append((float(c), 0.0, column if column is not None else OTHER))
    return _fit(layout)


def _edge_samples(layout: _Layout, edges: Sequence[tuple[str, str]], per_edge: int = 24) -> np.ndarray:
    """Points (in points) spread along the straight or routed edges, for label placement to avoid."""
    out = []
    for s, t in edges:
        path = [layout.positions[s], *layout.routes.get((s, t), []), layout.positions[t]]
        pts = np.array([layout.to_points(x, y) for x, y in path], dtype=float)
        for a, b in zip(pts[:-1], pts[1:]):
            steps = np.linspace(0.0, 1.0, per_edge)[1:-1, None]
            out.append(a + steps * (b - a))
    return np.vstack(out) if out else np.empty((0, 2))


def _place_labels(layout: _Layout, edges: Sequence[tuple[str, str]] = ()) -> tuple[int, int]:
    """Put each label beside its marker where it covers no other marker and overlaps the fewest labels and edges.

    Returns the number of labels that could not avoid covering a marker, and the
    number of pairs of labels that overlap.
    """
    names = list(layout.positions)
    points = np.array([layout.to_points(*layout.positions[n]) for n in names], dtype=float).reshape(-1, 2)
    samples = _edge_samples(layout, edges)
    gap = layout.radius + 2.0
    r = gap + 0.5  # another marker must lie farther from the label than its own does
    d = gap * 0.7
    candidates = [
        (gap, 0.0, "left", "center"),
        (-gap, 0.0, "right", "center"),
        (0.0, gap, "center", "bottom"),
        (0.0, -gap, "center", "top"),
        (d, d, "left", "bottom"),
        (d, -d, "left", "top"),
        (-d, d, "right", "bottom"),
        (-d, -d, "right", "top"),
    ]
    shift_x = {"left": 0.0, "right": -1.0, "center": -0.5}
    shift_y = {"bottom": 0.0, "top": -1.0, "center": -0.5}
    placed = np.empty((0, 4))
    failures = overlaps = 0
    for i, name in enumerate(names):
        text = layout.labels[name].text
        w, h = _text_extent(text, layout.font)
        px, py = points[i]
        boxes = np.array([[px + dx + shift_x[ha] * w - 1, py + dy + shift_y[va] * h - 1] for dx, dy, ha, va in candidates])
        boxes = np.hstack([boxes, boxes + (w + 2, h + 2)])  # x0, y0, x1, y1 per candidate
        others = np.delete(points, i, axis=0)
        covers = (
            (others[None, :, 0] + r > boxes[:, None, 0])
            & (others[None, :, 0] - r < boxes[:, None, 2])
            & (others[None, :, 1] + r > boxes[:, None, 1])
            & (others[None, :, 1] - r < boxes[:, None, 3])
        ).sum(axis=1)
        if len(placed):
            ox = np.minimum(boxes[:, None, 2], placed[None, :, 2]) - np.maximum(boxes[:, None, 0], placed[None, :, 0])
            oy = np.minimum(boxes[:, None, 3], placed[None, :, 3]) - np.maximum(boxes[:, None, 1], placed[None, :, 1])
            area = np.clip(ox, 0, None) * np.clip(oy, 0, None)
            overlap = area.sum(axis=1) / (w * h + 1e-9)
            overlapping = (area > 0.25).sum(axis=1)
        else:
            overlap = np.zeros(len(candidates))
            overlapping = np.zeros(len(candidates), dtype=int)
        if len(samples):
            crossed = (
                (samples[None, :, 0] > boxes[:, None, 0])
                & (samples[None, :, 0] < boxes[:, None, 2])
                & (samples[None, :, 1] > boxes[:, None, 1])
                & (samples[None, :, 1] < boxes[:, None, 3])
            ).sum(axis=1)
        else:
            crossed = np.zeros(len(candidates))
        score = 100.0 * covers + 40.0 * overlapping + 100.0 * overlap + 0.5 * crossed + 0.01 * np.arange(len(candidates))
        best = int(np.argmin(score))
        failures += int(covers[best] > 0)
        overlaps += int(overlapping[best])
        dx, dy, ha, va = candidates[best]
        layout.labels[name] = _Label(text, dx, dy, ha, va, boxed=True)
        placed = np.vstack([placed, boxes[best]])
    return failures, overlaps


def _spring_positions(graph: DependencyGraph, seed: int) -> np.ndarray:
    """Force-directed positions (about one unit per edge), connected components packed in rows.

    Each component is laid out on its own (seeded) and the components, largest first, are
    packed into rows about as wide as the whole is tall, with nodes without edges in a grid
    at the end: no component drifts off into an empty corner.
    """
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(graph.names)
    g.add_edges_from((e.source, e.target) for e in graph.edges)
    index = {name: i for i, name in enumerate(graph.names)}
    components = sorted(nx.connected_components(g), key=lambda c: (-len(c), min(index[n] for n in c)))
    pieces = []  # (member indices, coordinates with the lower-left corner at 0)
    singles = []
    for component in components:
        members = sorted(component, key=index.__getitem__)
        if len(members) == 1:
            singles.append(index[members[0]])
            continue
        sub = g.subgraph(members)
        m = len(members)
        start = nx.spring_layout(sub, seed=seed, k=1.0 / math.sqrt(m), iterations=50)
        # Kamada-Kawai from the seeded start: edge lengths close to graph distances, so no dense
        # core with long spokes (Fruchterman-Reingold alone leaves much empty space around chains)
        raw = nx.kamada_kawai_layout(sub, pos=start) if m <= 150 else start
        xy = np.array([raw[name] for name in members], dtype=float)
        # scale so that the median edge is one unit long
        at = {name: i for i, name in enumerate(members)}
        lengths = [np.hypot(*(xy[at[a]] - xy[at[b]])) for a, b in sub.edges]
        xy /= float(np.median(lengths)) or 1.0
        xy -= xy.min(axis=0)
        pieces.append(([index[n] for n in members], xy))
    if singles:
        columns = max(1, math.ceil(math.sqrt(len(singles))))
        xy = np.array([(k % columns, -(k // columns)) for k in range(len(singles))], dtype=float)
        xy -= xy.min(axis=0)
        pieces.append((singles, xy))
    total = sum((xy[:, 0].max() + 1.0) * (xy[:, 1].max() + 1.0) for _, xy in pieces)
    # rows as wide as the largest component (or the square root of the total area): small components and
    # lone nodes go below it, not into a far corner
    row_width = max(math.sqrt(total), max(xy[:, 0].max() + 1.0 for _, xy in pieces))
    out = np.zeros((len(graph.names), 2))
    x = y = row_height = 0.0
    for members, xy in pieces:
        width, height = xy[:, 0].max() + 1.0, xy[:, 1].max() + 1.0
        if x > 0 and x + width > row_width:
            x, y, row_height = 0.0, y - row_height, 0.0
        out[members] = xy + (x, y - height)
        x += width
        row_height = max(row_height, height)
    return out


def _clear_edges(points: np.ndarray, pairs: np.ndarray, clearance: float, rounds: int = 25) -> np.ndarray:
    """Nudge nodes (positions in points) off the straight edges that pass within ``clearance`` of them."""
    points = points.copy()
    if not len(pairs):
        return points
    nodes = np.arange(len(points))
    incident = (pairs[None, :, 0] == nodes[:, None]) | (pairs[None, :, 1] == nodes[:, None])
    for _ in range(rounds + 1):
        a, b = points[pairs[:, 0]], points[pairs[:, 1]]
        # only node-edge pairs whose boxes come within the clearance can be too close
        low, high = np.minimum(a, b) - clearance, np.maximum(a, b) + clearance
        near = (
            (points[:, None, 0] > low[None, :, 0]) & (points[:, None, 0] < high[None, :, 0])
            & (points[:, None, 1] > low[None, :, 1]) & (points[:, None, 1] < high[None, :, 1]) & ~incident
        )
        i, j = np.nonzero(near)
        if not len(i):
            break
        ab = b[j] - a[j]
        length2 = np.maximum((ab**2).sum(axis=1), 1e-9)
        t = ((points[i] - a[j]) * ab).sum(axis=1) / length2
        away = points[i] - (a[j] + np.clip(t, 0.0, 1.0)[:, None] * ab)
        distance = np.hypot(away[:, 0], away[:, 1])
        close = (distance < clearance) & (t > 0.0) & (t < 1.0)
        if not close.any() or _ == rounds:
            break
        i, ab, away, distance, length2 = i[close], ab[close], away[close], distance[close], length2[close]
        normal = np.stack([-ab[:, 1], ab[:, 0]], axis=1) / np.sqrt(length2)[:, None]
        side = np.sign((away * normal).sum(axis=1))
        side[side == 0] = 1.0
        np.add.at(points, i, ((clearance - distance + 1.0) * side)[:, None] * normal)
    return points


def _bend_around(points: np.ndarray, pairs: np.ndarray, clearance: float) -> dict[int, float]:
    """Bulges (see :func:`_edge_path`) that bend straight edges away from nodes they would pass too near."""
    steps = np.linspace(0.0, 1.0, 48)[:, None]

    def hits(u: int, v: int, bulge: float) -> int:
        a, b = points[u], points[v]
        ab = b - a
        length = float(np.hypot(*ab))
        normal = np.array([ab[1], -ab[0]]) / length
        sign = 1.0 if ab[1] <= 0 else -1.0
        control = (a + b) / 2 - sign * normal * 2.0 * bulge
        curve = (1 - steps) ** 2 * a + 2 * (1 - steps) * steps * control + steps**2 * b
        distance = np.hypot(*(points[:, None, :] - curve[None]).transpose(2, 0, 1)).min(axis=1)
        distance[[u, v]] = np.inf
        return int((distance < clearance).sum())

    bends: dict[int, float] = {}
    for j, (u, v) in enumerate(pairs):
        ab = points[v] - points[u]
        length = float(np.hypot(*ab))
        if length < 1e-9 or not hits(u, v, 0.0):
            continue
        normal = np.array([ab[1], -ab[0]]) / length
        t = np.clip((points - points[u]) @ ab / length**2, 0.1, 0.9)
        offset = (points - points[u]) @ normal
        near = np.abs(offset) < clearance
        near[[u, v]] = False
        sign = 1.0 if ab[1] <= 0 else -1.0
        options = []
        for side in (1.0, -1.0):  # the apex moves along side * normal, far enough to clear the nodes in the way
            needed = float(((clearance + side * offset[near]) / (4 * t[near] * (1 - t[near]))).max(initial=clearance)) + 1.0
            for grow in (1.0, 1.5, 2.2):
                bulge = needed * grow * -sign * side
                options.append((hits(u, v, bulge), abs(bulge), bulge))
        best = min(options)
        if best[0] < hits(u, v, 0.0):
            bends[j] = best[2]
    return bends


def _spread(points: np.ndarray, boxes: np.ndarray, rounds: int = 200) -> np.ndarray:
    """Push apart nodes whose footprints overlap (``boxes``: x0, y0, x1, y1 relative to each node)."""
    points = points.copy()
    n = len(points)
    if n < 2:
        return points
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    for _ in range(rounds):
        x0, y0 = points[:, 0] + boxes[:, 0], points[:, 1] + boxes[:, 1]
        x1, y1 = points[:, 0] + boxes[:, 2], points[:, 1] + boxes[:, 3]
        ox = np.minimum(x1[:, None], x1[None]) - np.maximum(x0[:, None], x0[None])
        oy = np.minimum(y1[:, None], y1[None]) - np.maximum(y0[:, None], y0[None])
        hit = (ox > 0) & (oy > 0) & upper
        if not hit.any():
            break
        i, j = np.nonzero(hit)
        move = np.zeros_like(points)
        # separate along the axis of the smaller overlap, half each, in the direction they already lie
        along_x = ox[i, j] <= oy[i, j]
        dx = np.where(points[i, 0] <= points[j, 0], -1.0, 1.0)
        dy = np.where(points[i, 1] <= points[j, 1], -1.0, 1.0)
        step = np.where(along_x, ox[i, j], oy[i, j]) / 2 + 0.5
        shift = np.stack([np.where(along_x, dx * step, 0.0), np.where(along_x, 0.0, dy * step)], axis=1)
        np.add.at(move, i, shift)
        np.add.at(move, j, -shift)
        points += move
    return points


def _spring_layout(graph: DependencyGraph, seed: int) -> _Layout:
    n = len(graph.nodes)
    unit = _spring_positions(graph, seed) if n > 1 else np.zeros((1, 2))
    font = _font_size(n, MIN_LABEL_FONT)
    radius = float(np.clip(7.5 - 0.9 * math.log2(max(n, 1)), 3.0, 6.0))
    pairs = np.array([(graph.index(e.source), graph.index(e.target)) for e in graph.edges], dtype=int).reshape(-1, 2)
    edges = [(e.source, e.target) for e in graph.edges]
    labels = {name: _Label(_display_label(graph, name, short=False), 0.0, 0.0, "left") for name in graph.names}
    # points per unit: about half an average label; then nodes whose label footprints overlap are pushed
    # apart (dense parts spread, sparse parts stay), and the scale grows only if labels still collide
    extents = np.array([_text_extent(labels[name].text, font) for name in graph.names]).reshape(-1, 2)
    gap = radius + 2.0
    footprints = np.stack(
        [np.full(n, -radius - 2.0), -extents[:, 1] / 2 - 2.0, gap + extents[:, 0] + 2.0, extents[:, 1] / 2 + 2.0], axis=1
    )
    # labels are wide and short: give the nodes more room across than up and down
    step = max(0.7 * float(extents[:, 0].mean()), 4.0 * radius)
    points = unit * (step, 0.55 * step)
    best = None
    for _ in range(12):
        points = _clear_edges(_spread(points, footprints), pairs, radius + 3.0)
        positions = {name: (float(x), float(y)) for name, (x, y) in zip(graph.names, points)}
        layout = _Layout(positions, (1.0, 1.0), font, radius, dict(labels))
        for j, bulge in _bend_around(points, pairs, radius + 2.5).items():
            layout.bulge[edges[j]] = bulge
        failures, overlaps = _place_labels(layout, edges)
        if best is None or (failures, overlaps) < best[0]:
            best = ((failures, overlaps), layout)
        if failures == 0 and overlaps == 0:
            break
        # the labels' chosen sides become the footprints of the next spreading round; a little more room too
        for i, name in enumerate(graph.names):
            x0, y0, x1, y1 = _label_box(layout, name)
            px, py = positions[name]
            footprints[i] = (min(x0 - px, -radius) - 2.0, min(y0 - py, -radius) - 2.0, max(x1 - px, radius) + 2.0,
                             max(y1 - py, radius) + 2.0)
        points = points * 1.05
    return _fit(best[1])


def _circular_layout(graph: DependencyGraph) -> _Layout:
    columns, rows = _row_order(graph)
    n = len(graph.nodes)
    font = _font_size(n, MIN_LABEL_FONT)
    radius = float(np.clip(7.5 - 0.9 * math.log2(max(n, 1)), 3.0, 6.0))
    pitch = max(1.45 * font, 2.4 * radius)
    angles: dict[str, float] = {}
    if len(columns) == 2 and None not in columns:
        # two modalities: left and right halves, twins facing each other across the circle
        n_rows = max(rows.values()) + 1
        for node in graph.nodes:
            right = node.modality == columns[1]
            theta = 90.0 - (rows[node.name] + 0.5) * 180.0 / n_rows
            angles[node.name] = theta if right else 180.0 - theta
        slots = 2 * n_rows
    else:
        order = node_order(graph)
        groups = [m for m in columns]
        slots = n + (len(groups) if len(groups) > 1 else 0)
        slot = 0
        for column in groups:
            for name in (m for m in order if graph.node(m).modality == column):
                angles[name] = 90.0 - 360.0 * slot / slots
                slot += 1
            slot += 1 if len(groups) > 1 else 0
    circle = max(slots * pitch / (2 * math.pi), 90.0)  # radius in points
    positions, labels = {}, {}
    for name, degrees in angles.items():
        x, y = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
        positions[name] = (x, y)
        degrees %= 360
        right = degrees <= 90 or degrees >= 270
        offset = radius + 3.0
        labels[name] = _Label(
            _display_label(graph, name, short=False),
            offset * x,
            offset * y,
            "left" if right else "right",
            rotation=degrees if right else degrees - 180,
        )
    return _fit(_Layout(positions, (circle, circle), font, radius, labels))


def _layers(graph: DependencyGraph) -> dict[str, int]:
    """Longest-path layer of every node.

    Undirected edges are oriented along a topological order of the directed
    ones (ties by node order), which keeps the result acyclic; directed cycles,
    if an imported graph has any, are collapsed into one layer.
    """
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(graph.names)
    g.add_edges_from((e.source, e.target) for e in graph.edges if e.directed)
    condensed = nx.condensation(g)
    mapping = condensed.graph["mapping"]
    order = {
        c: i
        for i, c in enumerate(
            nx.lexicographical_topological_sort(
                condensed, key=lambda c: min(graph.index(n) for n in condensed.nodes[c]["members"])
            )
        )
    }
    for e in graph.edges:
        if not e.directed:
            a, b = mapping[e.source], mapping[e.target]
            if a != b:
                first, second = (a, b) if (order[a], graph.index(e.source)) < (order[b], graph.index(e.target)) else (b, a)
                condensed.add_edge(first, second)
    level: dict[int, int] = {}
    for component in nx.topological_sort(condensed):
        level[component] = 1 + max((level[p] for p in condensed.predecessors(component)), default=-1)
    return {name: level[mapping[name]] for name in graph.names}


def _hierarchical_layout(graph: DependencyGraph) -> _Layout:
    """Layers left to right; edges that skip layers run through reserved slots (Sugiyama's dummy nodes).

    Every label sits above its node inside its layer's column, and an edge runs
    horizontally inside a column (out of its source, through the slot it holds in
    each layer it passes, into its target) and diagonally only in the free gaps
    between columns, so no edge crosses a node marker or a label.
    """
    layer = _layers(graph)
    # orient every edge from the lower layer; edges inside one layer (cycles) stay arcs
    forward, inside = [], []
    for e in graph.edges:
        a, b = (e.source, e.target) if layer[e.source] <= layer[e.target] else (e.target, e.source)
        (inside if layer[a] == layer[b] else forward).append((a, b, e))
    # sources move right, next to their earliest child: fewer and shorter layer-skipping edges
    has_parent = {b for _, b, _ in forward} | {x for a, b, _ in inside for x in (a, b)}
    for name in sorted(graph.names, key=lambda m: -layer[m]):
        if name not in has_parent:
            children = [layer[b] for a, b, _ in forward if a == name]
            if children:
                layer[name] = min(children) - 1
    n_layers = max(layer.values(), default=0) + 1
    members: list[list[Any]] = [[] for _ in range(n_layers)]
    for name in node_order(graph):
        members[layer[name]].append(name)
    # a chain of slots per layer-skipping edge; neighbours in adjacent layers for the ordering sweeps
    chains: dict[tuple[str, str], list[Any]] = {}
    before: dict[Any, list[Any]] = {m: [] for group in members for m in group}
    after: dict[Any, list[Any]] = {m: [] for group in members for m in group}
    for a, b, e in forward:
        chain: list[Any] = [a]
        for level in range(layer[a] + 1, layer[b]):
            slot = ("slot", e.source, e.target, level)
            members[level].append(slot)
            before[slot], after[slot] = [], []
            chain.append(slot)
        chain.append(b)
        for u, v in zip(chain[:-1], chain[1:]):
            after[u].append(v)
            before[v].append(u)
        chains[(e.source, e.target)] = chain[1:-1] if (a, b) == (e.source, e.target) else chain[-2:0:-1]
    rank = {m: float(i) for group in members for i, m in enumerate(group)}
    for sweep in range(12):  # barycentre sweeps, alternately left-to-right and right-to-left
        down = sweep % 2 == 0
        for level in range(1, n_layers) if down else range(n_layers - 2, -1, -1):
            group = members[level]
            centre = {}
            for m in group:
                near = [rank[x] for x in (before[m] if down else after[m])]
                centre[m] = float(np.mean(near)) if near else rank[m]
            group.sort(key=lambda m: (centre[m], rank[m]))
            for i, m in enumerate(group):
                rank[m] = float(i)
    font = _font_size(len(graph.nodes), MIN_LABEL_FONT)
    radius = float(np.clip(0.25 * max(1.9 * font, 11.0), 3.0, 6.0))
    texts = {name: textwrap.fill(_display_label(graph, name, short=False), 18, break_long_words=False) for name in graph.names}
    extents = {name: _text_extent(texts[name], font) for name in graph.names}
    node_height = max((h for _, h in extents.values()), default=font) + 2 * radius + 6.0
    slot_height = 5.0
    widths = [max([extents[m][0] for m in group if isinstance(m, str)] + [2 * radius]) for group in members]
    gap = 34.0
    x, centres = 0.0, []
    for level, width in enumerate(widths):
        if level:
            x += widths[level - 1] / 2 + gap + width / 2
        centres.append(x)
    positions, labels, slots = {}, {}, {}
    for level, group in enumerate(members):
        heights = [node_height if isinstance(m, str) else slot_height for m in group]
        top = sum(heights) / 2
        for m, h in zip(group, heights):
            if isinstance(m, str):  # the marker low in its slot, the label above it
                positions[m] = (centres[level], top - h + radius + 3.0)
                labels[m] = _Label(texts[m], 0.0, radius + 1.5, "center", "bottom", boxed=True)
            else:
                slots[m] = (centres[level], top - h / 2)
            top -= h
    layout = _Layout(positions, (1.0, 1.0), font, radius, labels)

    def side(level: int, right: bool) -> float:
        return centres[level] + (1 if right else -1) * (widths[level] / 2 + 3.0)

    for a, b, e in forward:
        route = [(side(layer[a], True), positions[a][1])]
        for slot in chains[(e.source, e.target)] if (a, b) == (e.source, e.target) else chains[(e.source, e.target)][::-1]:
            level = slot[3]
            route += [(side(level, False), slots[slot][1]), (side(level, True), slots[slot][1])]
        route.append((side(layer[b], False), positions[b][1]))
        layout.routes[(e.source, e.target)] = route if (a, b) == (e.source, e.target) else route[::-1]
    # edges inside a layer (a cycle of an imported graph) leave their column to the left, run down the gap and
    # come back: never across a label
    lanes: dict[int, int] = {}
    for a, _b, e in inside:
        level = layer[a]
        lane = lanes[level] = lanes.get(level, -1) + 1
        x_gap = side(level, False) - 5.0 - 4.0 * (lane % max(1, int((gap - 10.0) / 4.0)))
        (_, ys), (_, yt) = positions[e.source], positions[e.target]
        layout.routes[(e.source, e.target)] = [(side(level, False), ys), (x_gap, ys), (x_gap, yt), (side(level, False), yt)]
    return _fit(layout)


# -- drawing -------------------------------------------------------------------------------


@dataclass
class _EdgeStyle:
    colour: str
    width: float
    alpha: float
    arrow: bool
    dashed: bool
    zorder: float = 1.0


def _shade(edge) -> float | None:
    """What an edge's opacity shows: its bootstrap confidence, else its restart stability."""
    return edge.confidence if edge.confidence is not None else edge.stability


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


def _check_graph(graph: Any) -> None:
    if not isinstance(graph, DependencyGraph):
        raise UsageError(f"expected a DependencyGraph, got {type(graph).__name__}")
    if not graph.nodes:
        raise UsageError("the graph has no nodes; there is nothing to draw")


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


# -- heatmap -------------------------------------------------------------------------------


def plot_heatmap(
    graph: DependencyGraph,
    path: str | Path | None = None,
    *,
    top_k: int | None = None,
    min_confidence: float | None = None,
    min_weight: float | None = None,
    title: str | None = None,
    dpi: float = 150,
    labels: bool | None = None,
) -> Figure:
    """The adjacency matrix as a heatmap: rows are sources, columns targets.

    Nodes are grouped by modality (classes in the same order in every group),
    cells coloured by signed weight (a diverging map centred on 0; one colour
    when the graph has no weights), opacity by confidence when present. An
    undirected edge fills both of its cells, marked with a dot.

    Parameters
    ----------
    labels : bool, optional
        Write every node's name on the axes (default: when there are at most 300 nodes).

    See :func:`plot_graph` for the other parameters.
    """
    from matplotlib import colors as mcolors
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    _check_graph(graph)
    shown = filter_edges(graph, top_k, min_confidence, min_weight)
    order = node_order(shown)
    index = {name: i for i, name in enumerate(order)}
    p = len(order)
    values = np.full((p, p), np.nan)
    alpha = np.ones((p, p))
    undirected = []
    weighted = any(e.weight is not None for e in shown.edges)
    for e in shown.edges:
        s, t = index[e.source], index[e.target]
        value = (e.weight if e.weight is not None else 0.0) if weighted else 1.0
        cells = [(s, t)] if e.directed else [(s, t), (t, s)]
        for i, j in cells:
            values[i, j] = value
            if _shade(e) is not None:
                alpha[i, j] = 0.15 + 0.85 * _shade(e)
        if not e.directed:
            undirected += cells
    font = _font_size(p)
    cell = max(1.25 * font, 6.0)  # points per cell
    show_labels = p <= 300 if labels is None else labels
    side = p * cell / 72
    fig = Figure(figsize=(side + 1.2, side))
    ax = fig.add_axes((0.0, 0.0, side / (side + 1.2), 1.0))
    cax = fig.add_axes((side / (side + 1.2) + 0.25 / (side + 1.2), 0.25, 0.18 / (side + 1.2), 0.5))
    if weighted:
        top = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
        top = top or 1.0
        cmap, norm, what = "RdBu_r", mcolors.TwoSlopeNorm(vmin=-top, vcenter=0.0, vmax=top), "edge weight (source \u2192 target)"
    else:
        cmap, norm, what = mcolors.ListedColormap([INK]), mcolors.Normalize(0.0, 1.0), "edge present"
    masked = np.ma.masked_invalid(values)
    image = ax.imshow(masked, cmap=cmap, norm=norm, alpha=alpha, interpolation="nearest", aspect="equal")
    ax.set_facecolor("white")
    colourbar = fig.colorbar(image, cax=cax)
    colourbar.set_label(what, fontsize=max(font, 7.0))
    colourbar.ax.tick_params(labelsize=max(font - 1, 6.0))
    if undirected:
        rows, cols = zip(*undirected)
        ax.scatter(cols, rows, s=max(cell * 0.3, 2.0) ** 2 / 4, c="white", edgecolors="black", linewidths=0.3, zorder=3)
    # modality blocks
    colours = _modality_colours(shown)
    groups: list[tuple[str | None, int, int]] = []
    for i, name in enumerate(order):
        modality = shown.node(name).modality
        if groups and groups[-1][0] == modality:
            groups[-1] = (modality, groups[-1][1], i + 1)
        else:
            groups.append((modality, i, i + 1))
    for _, start, _ in groups[1:]:
        ax.axhline(start - 0.5, color="black", lw=0.8)
        ax.axvline(start - 0.5, color="black", lw=0.8)
    # cell grid and labels as plain artists: matplotlib tick objects are slow by the hundred
    lines = [[(-0.5, k - 0.5), (p - 0.5, k - 0.5)] for k in range(p + 1)]
    lines += [[(k - 0.5, -0.5), (k - 0.5, p - 0.5)] for k in range(p + 1)]
    ax.add_collection(LineCollection(lines, colors="#e6e6e6", linewidths=0.3 if p > 60 else 0.5, zorder=0.5))
    ax.set_xlim(-0.5, p - 0.5)
    ax.set_ylim(p - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    if show_labels:
        for i, name in enumerate(order):
            text = _display_label(shown, name, short=True)
            colour = colours[shown.node(name).modality]
            common = {
                "fontsize": font,
                "color": colour,
                "annotation_clip": False,
                "parse_math": False,
                "textcoords": "offset points",
            }
            ax.annotate(text, (-0.5, i), xytext=(-3, 0), ha="right", va="center", gid=f"node-label-{i}", **common)
            ax.annotate(
                text, (i, p - 0.5), xytext=(0, -3), ha="center", va="top", rotation=90, gid=f"node-col-label-{i}", **common
            )
    if len(groups) > 1 or groups[0][0] is not None:
        longest = max((_text_extent(_display_label(shown, n, True), font)[0] for n in order), default=0.0) if show_labels else 0.0
        for modality, start, stop in groups:
            centre = (start + stop - 1) / 2
            text = modality if modality is not None else OTHER
            _heading(ax, text, (centre, p - 0.5), (0, -(longest + 8)), colours[modality], font, ha="center", va="top")
            _heading(
                ax, text, (-0.5, centre), (-(longest + 8), 0), colours[modality], font,
                ha="right", va="center", rotation=90, rotation_mode="anchor",
            )
    if title is None:
        title = graph_title(graph, _filter_note(graph, shown, top_k, min_confidence, min_weight))
        title += "\nrow = source, column = target"
    if title:
        ax.set_title(title, fontsize=max(font, 8.0), pad=12, parse_math=False)
    if undirected:
        handle = _dot_entry("undirected (fills both cells)", "white", size=4, rim="black", mew=0.5)
        _place_legend(ax, [handle], font, loc="upper left", bbox_to_anchor=(1.0, 0.0))
    if path is not None:
        save_figure(fig, path, dpi=dpi)
    return fig


# -- comparison ----------------------------------------------------------------------------


def _diff_edges(first: DependencyGraph, second: DependencyGraph) -> list[tuple[Edge, str]]:
    """Every edge of either graph once, with its category relative to ``second``."""
    out = []
    for e in first.edges:
        other = second.edge(e.source, e.target)
        if other is None:
            out.append((e, "only_first"))
        elif e.kind != other.kind:
            out.append((e, "kind_differs"))
        elif e.directed and other.source != e.source:
            out.append((e, "reversed"))
        else:
            out.append((e, "shared"))
    for e in second.edges:
        if first.edge(e.source, e.target) is None:
            out.append((e, "only_second"))
    return out


def plot_comparison(
    first: DependencyGraph,
    second: DependencyGraph,
    path: str | Path | None = None,
    *,
    names: tuple[str, str] = ("A", "B"),
    layout: str = "auto",
    title: str | None = None,
    seed: int = 0,
    dpi: float = 150,
    comparison: GraphComparison | None = None,
    cpdag: bool | None = None,
) -> Figure:
    """Draw the edges of two graphs over the same nodes, coloured by agreement.

    Shared edges (same pair, same orientation) are grey; edges only in
    ``first`` red, only in ``second`` blue and dashed; edges both graphs have
    but orient oppositely purple (drawn as in ``first``), edges one graph
    leaves undirected orange.

    Parameters
    ----------
    names : (str, str)
        How the legend calls the two graphs (e.g. their file names).
    comparison : GraphComparison, optional
        The result of :func:`ililab.metrics.compare` (computed if not given) for the title.
    cpdag : bool, optional
        Draw DAGs reduced to their CPDAGs, as :func:`ililab.metrics.compare` compares
        them; default: as ``comparison`` did, else by the rule of :func:`~ililab.metrics.compare`.
    """
    from ililab.metrics import compare, dag_against_cpdag, to_cpdag

    _check_graph(first)
    _check_graph(second)
    if cpdag is None:
        cpdag = comparison.cpdag if comparison is not None else dag_against_cpdag(first, second)
    if cpdag:
        first, second = to_cpdag(first), to_cpdag(second)
    if comparison is None:
        try:
            comparison = compare(first, second, cpdag=False)
        except ValueError as error:
            raise UsageError(str(error)) from None
    chosen = _resolve_layout(first, layout)
    if chosen == "heatmap":
        raise UsageError("a comparison is drawn as a graph; choose modality, spring, circular or hierarchical")
    categories = _diff_edges(first, second)
    # lay out on the union of the skeletons so both graphs' edges get sensible positions
    skeleton = []
    seen: set[frozenset[str]] = set()
    for e, _ in categories:
        pair = frozenset((e.source, e.target))
        if pair not in seen:
            seen.add(pair)
            skeleton.append(e)
    union = DependencyGraph(first.nodes, skeleton, first.meta)
    geometry = _layout_for(union, chosen, seed)
    for e, _ in categories:  # edges only in `second` may be reversed relative to the skeleton
        if (e.source, e.target) not in geometry.bulge and (e.target, e.source) in geometry.bulge:
            geometry.bulge[(e.source, e.target)] = -geometry.bulge[(e.target, e.source)]
        if (e.source, e.target) not in geometry.routes and (e.target, e.source) in geometry.routes:
            geometry.routes[(e.source, e.target)] = geometry.routes[(e.target, e.source)][::-1]
    fig, ax = _new_figure(geometry)
    many = len(categories)
    width = float(np.clip(1.8 - 0.2 * math.log2(max(many, 1) / 20.0), 0.7, 1.8))
    styles = {}
    for e, category in categories:
        styles[(e.source, e.target)] = _EdgeStyle(
            DIFF_COLOURS[category],
            width * (0.8 if category == "shared" else 1.2),
            0.55 if category == "shared" else 0.9,
            e.directed,
            category == "only_second" or not e.directed,
            1.0 if category == "shared" else 2.0,
        )
    edges = [e for e, _ in categories]
    _draw(ax, DependencyGraph(first.nodes, [], {}), geometry, edges, styles)
    counts = {c: sum(1 for _, k in categories if k == c) for c in DIFF_COLOURS}
    a, b = names
    wording = {
        "shared": "in both",
        "only_first": f"only in {a}",
        "only_second": f"only in {b}",
        "reversed": f"reversed ({a}'s direction shown)",
        "kind_differs": "directed in one, undirected in the other",
    }
    extra = [
        _entry(f"{wording[c]}: {counts[c]}", color=DIFF_COLOURS[c], lw=2.0, ls=DASHED if c == "only_second" else "solid")
        for c in DIFF_COLOURS
        if counts[c]
    ]
    if title is None:
        title = (
            f"{a} vs {b}: SHD {comparison.shd} \u00b7 adjacency F1 {comparison.adjacency.f1:.2f} "
            f"(P {comparison.adjacency.precision:.2f}, R {comparison.adjacency.recall:.2f}) \u00b7 "
            f"arrowhead F1 {comparison.arrowhead.f1:.2f}"
        )
    if title:
        ax.set_title(title, fontsize=max(geometry.font, 8.0), pad=6, parse_math=False)
    _legend(fig, ax, first, geometry.font, extra=extra, edges=False)
    if path is not None:
        save_figure(fig, path, dpi=dpi)
    return fig


# -- saving ----------------------------------------------------------------------------------


def image_format_for(path: str | Path) -> str:
    """``png``, ``svg`` or ``pdf`` from the extension of ``path``."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in IMAGE_FORMATS:
        raise UsageError(f"cannot tell the image format of {str(path)!r} from its extension; use .png, .svg or .pdf")
    return suffix


def save_figure(fig: Figure, path: str | Path, dpi: float = 150) -> Path:
    """Save ``fig`` atomically; the format follows the extension (png, svg, pdf).

    SVG keeps text as ``<text>`` (fonts are not turned into paths) and PDF
    embeds TrueType fonts, so both stay editable; output is reproducible
    (no creation date, fixed SVG ids).
    """
    import matplotlib

    from ililab.io import atomic_write

    fmt = image_format_for(path)
    if not dpi or dpi <= 0:
        raise UsageError(f"--dpi must be positive, got {dpi}")
    metadata = {
        "png": {"Software": "ililab"},
        "svg": {"Date": None, "Creator": "ililab"},
        "pdf": {"CreationDate": None, "Creator": "ililab"},
    }

    def write(tmp: Path) -> None:
        with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42, "svg.hashsalt": "ililab"}):
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", pad_inches=0.15, metadata=metadata[fmt], facecolor="white")

    return atomic_write(path, write)
