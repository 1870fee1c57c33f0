"""The adjacency picture: :func:`plot_heatmap`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ililab.graph import DependencyGraph
from ililab.viz._filters import _filter_note, filter_edges
from ililab.viz._layouts import node_order
from ililab.viz._save import save_figure
from ililab.viz._style import (
    INK,
    OTHER,
    _check_graph,
    _display_label,
    _dot_entry,
    _font_size,
    _heading,
    _modality_colours,
    _place_legend,
    _shade,
    _text_extent,
    graph_title,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> g = DependencyGraph(["Train (visual)", "Train (audio)", "Horn (audio)"],
    ...                     [Edge("Train (visual)", "Train (audio)", weight=0.8),
    ...                      Edge("Train (visual)", "Horn (audio)", weight=0.3)])
    >>> fig = plot_heatmap(g)
    >>> len(fig.axes) >= 1
    True
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
