"""Node-link layouts: where nodes and labels go (modality columns, circle, hierarchical layers)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ililab.graph import DependencyGraph, Node

if TYPE_CHECKING:

    pass

from ililab.viz._style import MIN_LABEL_FONT, OTHER, _display_label, _font_size, _text_extent


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
    """Nodes grouped by modality, classes in the same order in every group (the heatmap's order).

    Examples
    --------
    >>> from ililab.graph import DependencyGraph
    >>> node_order(DependencyGraph(["b (audio)", "a (visual)", "a (audio)", "b (visual)"]))
    ['b (audio)', 'a (audio)', 'b (visual)', 'a (visual)']
    """
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
