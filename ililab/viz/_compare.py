"""Two graphs in one picture: :func:`plot_comparison`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ililab.errors import UsageError
from ililab.graph import DependencyGraph, Edge

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ililab.metrics import GraphComparison

from ililab.viz._draw import _draw, _EdgeStyle, _layout_for, _new_figure, _resolve_layout
from ililab.viz._save import save_figure
from ililab.viz._style import DASHED, DIFF_COLOURS, _check_graph, _entry, _legend


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

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> g = DependencyGraph(["Train (visual)", "Train (audio)", "Horn (audio)"],
    ...                     [Edge("Train (visual)", "Train (audio)", weight=0.8),
    ...                      Edge("Train (visual)", "Horn (audio)", weight=0.3)])
    >>> other = g.with_edges([Edge("Train (visual)", "Train (audio)", weight=0.8)])
    >>> fig = plot_comparison(g, other, names=("run 1", "run 2"))
    >>> len(fig.axes[0].get_title()) > 0
    True
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
