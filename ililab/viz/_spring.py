"""The force-directed (``spring``) layout: seeded positions per component, then room for the labels."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ililab.graph import DependencyGraph

if TYPE_CHECKING:

    pass

from ililab.viz._layouts import _fit, _Label, _label_box, _Layout, _place_labels
from ililab.viz._style import MIN_LABEL_FONT, _display_label, _font_size, _text_extent


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
        # a new graph with nodes and edges in the graph's order: a subgraph view iterates a set of
        # names, whose order changes with PYTHONHASHSEED (and so would the picture)
        sub = nx.Graph()
        sub.add_nodes_from(members)
        sub.add_edges_from((e.source, e.target) for e in graph.edges if e.source in component)
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
