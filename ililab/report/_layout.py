"""Node positions of the HTML report, computed once in Python so the page draws at once.

Two layouts: modality columns (one column per modality, a class's twins on the same
row) and a seeded force-directed layout. Coordinates are in "world units" where
:data:`UNIT` is the gap between two rows; they are rounded so the page is
byte-for-byte reproducible.
"""

from __future__ import annotations

import numpy as np

from ililab.graph import DependencyGraph

__all__ = ["UNIT", "column_layout", "force_layout"]

UNIT = 20.0


def column_layout(graph: DependencyGraph) -> tuple[list[float], list[int], list[dict], float]:
    """Modality columns: x per modality, y per class label, so twins face each other.

    Returns
    -------
    positions : list of float
        ``[x0, y0, x1, y1, ...]`` in node order.
    side : list of int
        Per node, +1 when its within-column arcs bulge to the right (labels go left), else -1.
    columns : list of dict
        ``{"name", "x"}`` of each column, for its heading.
    gap : float
        Distance between two columns.

    Examples
    --------
    >>> g = DependencyGraph(["a (audio)", "b (audio)", "a (visual)"])
    >>> column_layout(g)[0]
    [0.0, 0.0, 0.0, 20.0, 320.0, 0.0]
    """
    groups: list[str | None] = list(graph.modalities)
    if any(node.modality is None for node in graph.nodes):
        groups.append(None)
    rows: dict[str, int] = {}
    for node in graph.nodes:
        key = node.label if node.modality is not None and node.label is not None else node.name
        rows.setdefault(key, len(rows))
    # wide enough that cross-modal edges between long columns stay readable
    gap = max(16 * UNIT, 0.6 * len(rows) * UNIT)
    positions: list[float] = []
    side: list[int] = []
    for node in graph.nodes:
        column = groups.index(node.modality)
        key = node.label if node.modality is not None and node.label is not None else node.name
        positions += [round(column * gap, 1), round(rows[key] * UNIT, 1)]
        side.append(1 if column < len(groups) / 2 else -1)
    columns = [{"name": "(no modality)" if m is None else m, "x": round(i * gap, 1)} for i, m in enumerate(groups)]
    return positions, side, columns, round(gap, 1)


def force_layout(graph: DependencyGraph, seed: int = 0, iterations: int = 50) -> list[float]:
    """A seeded Fruchterman-Reingold layout, scaled so the mean spacing is a few rows.

    Up to :data:`DENSE_LIMIT` nodes the forces are computed on dense numpy arrays
    (vectorised: 0.8 s at 1,054 nodes where networkx's ``spring_layout`` takes 5 s);
    above it, networkx's sparse ``spring_layout``, with the same seed, keeps the memory linear.

    Examples
    --------
    >>> g = DependencyGraph(["a", "b", "c"], [])
    >>> len(force_layout(g, seed=0))
    6
    """
    n = len(graph.nodes)
    if n == 0:
        return []
    edges = np.array([(graph.index(e.source), graph.index(e.target)) for e in graph.edges], dtype=np.intp).reshape(-1, 2)
    if n <= DENSE_LIMIT:
        xy = _fruchterman_reingold(n, edges, seed, iterations)
    else:
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(map(tuple, edges.tolist()))
        placed = nx.spring_layout(g, seed=seed, iterations=iterations)
        xy = np.array([placed[i] for i in range(n)], dtype=float).reshape(n, 2)
    xy = xy - np.median(xy, axis=0)
    # Isolated nodes and tiny components are pushed far out by the repulsion of the rest; put them on a
    # ring just outside the bulk so that fitting the view to all nodes does not shrink the graph to a dot.
    r = np.hypot(xy[:, 0], xy[:, 1])
    ring = 1.15 * float(np.quantile(r, 0.95)) if n >= 20 else float(r.max())
    far = r > ring
    xy[far] *= (ring / r[far])[:, None]
    half = 1.2 * UNIT * max(np.sqrt(n), 3.0)
    extent = float(np.abs(xy).max()) or 1.0
    xy = xy / extent * half
    return [round(float(v), 1) for v in xy.ravel()]


DENSE_LIMIT = 2500


def _fruchterman_reingold(n: int, edges: np.ndarray, seed: int, iterations: int) -> np.ndarray:
    """Fruchterman & Reingold (1991): repulsion k^2/d between all pairs, attraction d^2/k along edges,
    moves capped by a temperature that cools linearly; plus a weak pull to the centre so that
    isolated nodes and small components stay in view."""
    rng = np.random.default_rng(seed)
    x, y = rng.random(n), rng.random(n)
    k2 = 1.0 / n
    k = np.sqrt(k2)
    s, t = edges[:, 0], edges[:, 1]
    temp = 0.1
    cooling = temp / (iterations + 1)
    for _ in range(iterations):
        dx = x[:, None] - x[None, :]
        dy = y[:, None] - y[None, :]
        rep = dx * dx
        rep += dy * dy
        np.maximum(rep, 1e-6, out=rep)
        np.divide(k2, rep, out=rep)
        fx = (dx * rep).sum(axis=1)
        fy = (dy * rep).sum(axis=1)
        ex, ey = x[s] - x[t], y[s] - y[t]
        pull = np.sqrt(ex * ex + ey * ey) / k
        fx -= np.bincount(s, ex * pull, n) - np.bincount(t, ex * pull, n)
        fy -= np.bincount(s, ey * pull, n) - np.bincount(t, ey * pull, n)
        fx -= (x - x.mean()) * 0.5
        fy -= (y - y.mean()) * 0.5
        length = np.sqrt(fx * fx + fy * fy).clip(1e-9)
        step = np.minimum(length, temp) / length
        x += fx * step
        y += fy * step
        temp -= cooling
    return np.column_stack([x, y])
