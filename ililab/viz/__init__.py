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

The package: ``_layouts`` and ``_spring`` place nodes and labels, ``_draw`` draws node-link
pictures (:func:`plot_graph`), ``_heatmap`` the adjacency matrix (:func:`plot_heatmap`),
``_compare`` two graphs at once (:func:`plot_comparison`), ``_filters`` chooses the edges
shown (:func:`filter_edges`), ``_style`` holds colours, text sizes and legends, and ``_save``
the image formats and the atomic save (:func:`save_figure`). Public names are imported from
here, ``ililab.viz``.

Examples
--------
>>> from ililab.graph import DependencyGraph, Edge, Node
>>> g = DependencyGraph(["Train (visual)", "Train (audio)"], [Edge("Train (visual)", "Train (audio)", weight=0.8)])
>>> fig = plot_graph(g)
>>> fig.axes[0].get_title()
'2 nodes, 1 edges (1 directed, 0 undirected, 1 cross-modal)'
>>> fig = plot_heatmap(g)
"""

from ililab.viz._compare import plot_comparison
from ililab.viz._draw import plot_graph
from ililab.viz._filters import filter_edges
from ililab.viz._heatmap import plot_heatmap
from ililab.viz._layouts import node_order
from ililab.viz._save import image_format_for, save_figure

# "X as X": the colours and sizes stay importable from ``ililab.viz``, as before the package split.
from ililab.viz._style import DASHED as DASHED
from ililab.viz._style import DIFF_COLOURS as DIFF_COLOURS
from ililab.viz._style import IMAGE_FORMATS, LAYOUTS, graph_title
from ililab.viz._style import INK as INK
from ililab.viz._style import MIN_LABEL_FONT as MIN_LABEL_FONT
from ililab.viz._style import NO_MODALITY as NO_MODALITY
from ililab.viz._style import OTHER as OTHER
from ililab.viz._style import PALETTE as PALETTE
from ililab.viz._style import UNDIRECTED as UNDIRECTED

__all__ = [
    "LAYOUTS",
    "IMAGE_FORMATS",
    "plot_graph",
    "plot_heatmap",
    "plot_comparison",
    "filter_edges",
    "save_figure",
    "image_format_for",
    "graph_title",
    "node_order",
]
