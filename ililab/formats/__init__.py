"""Graph file formats besides JSON: GML, GraphML, DOT, CSV edge list and CSV adjacency matrix.

Each format is a pair of pure functions, ``write_<fmt>(graph) -> str`` and
``read_<fmt>(text) -> DependencyGraph``, registered in
:data:`GRAPH_FORMATS`, the registry this package owns (:func:`register` adds
one); :func:`write_graph` / :func:`read_graph` (re-exported by :mod:`ililab.io`) and
``ililab convert`` look the format up there by name or file extension. This
package never imports :mod:`ililab.io`.

What each format carries (``ililab.graph/v1`` JSON carries everything):

============== ===== ================ ============== ============================ ====
format         nodes node order       label/modality edge kind/weight/confidence  meta
============== ===== ================ ============== ============================ ====
json           yes   yes              yes            yes                          yes
gml            yes   yes              yes            yes                          yes
graphml        yes   yes              yes            yes                          yes
dot            yes   yes              yes            yes                          yes
csv            yes   no (first use)   from names     yes                          no
adjacency-csv  yes   yes              from names     kind, weight (not 0, see below) no
============== ===== ================ ============== ============================ ====

*From names*: the CSV formats have no room for node attributes; a node's
label and modality are parsed back from a name of the form ``"Class (modality)"``
(:meth:`ililab.graph.Node.from_name`). An adjacency matrix stores one number
per ordered pair: a directed edge fills one cell, an undirected edge both
cells; the number is the weight (1 when the edge has none), so a weight of
exactly 0 cannot be stored, and a matrix whose nonzero cells are all 1 reads
back without weights. Names may hold any printable text (spaces, commas,
slashes, parentheses, quotes, non-ASCII, tabs and line breaks); control
characters other than tab / line feed / carriage return are refused by every
format but JSON, and the CSV formats refuse carriage returns too.

Attribute vocabulary (the same names in GML, GraphML and DOT): node
``class_label`` and ``modality``; edge ``kind`` (``directed`` / ``undirected``),
``weight`` (``edge_weight`` in DOT, where ``weight`` is a Graphviz layout
setting) and ``confidence``; graph ``meta`` (``ililab_meta`` in DOT) holding
the meta dictionary as JSON text. GML and GraphML also write the node name as
``label``, which Gephi and yEd show.

Every reader raises :class:`~ililab.errors.GraphFormatError` on malformed input, and on
a graph over the size limits (:class:`GraphLimits`; change them for a block with
:func:`limits`), which it checks before building the graph.

One module per format: :mod:`~ililab.formats.json_graph`, :mod:`~ililab.formats.gml`, :mod:`~ililab.formats.graphml`,
:mod:`~ililab.formats.dot` and :mod:`~ililab.formats.tabular` (both CSV formats);
what they share is in ``_common``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ililab._palette import MODALITY_COLOURS
from ililab.errors import DataError, GraphFormatError, UsageError
from ililab.files import atomic_write, open_error
from ililab.formats._common import GraphLimits, graph_limits, limits
from ililab.formats.dot import read_dot, write_dot
from ililab.formats.gml import read_gml, write_gml
from ililab.formats.graphml import read_graphml, write_graphml
from ililab.formats.json_graph import read_json, write_json
from ililab.formats.tabular import read_adjacency_csv, read_csv, write_adjacency_csv, write_csv
from ililab.graph import DependencyGraph

__all__ = [
    "GRAPH_FORMATS",
    "graph_format_for",
    "read_graph",
    "write_graph",
    "GraphWriter",
    "GraphReader",
    "MODALITY_COLOURS",
    "GraphLimits",
    "graph_limits",
    "limits",
    "write_json",
    "read_json",
    "write_gml",
    "read_gml",
    "write_graphml",
    "read_graphml",
    "write_dot",
    "read_dot",
    "write_csv",
    "read_csv",
    "write_adjacency_csv",
    "read_adjacency_csv",
    "register",
]


GraphWriter = Callable[[DependencyGraph], str]
GraphReader = Callable[[str], DependencyGraph]

# The registry: name -> (file suffixes, writer(graph) -> text, reader(text) -> graph or None).
# Its order is the order error messages list the formats in.
GRAPH_FORMATS: dict[str, tuple[tuple[str, ...], GraphWriter, GraphReader | None]] = {}


def register(name: str, suffixes: tuple[str, ...], writer: GraphWriter, reader: GraphReader | None = None) -> None:
    """Add graph format ``name`` to :data:`GRAPH_FORMATS`.

    ``suffixes`` are the file extensions (lower case, with the dot) that select
    it; ``reader`` is None for a format that can only be written. A name already
    registered is a :class:`~ililab.errors.UsageError`: a format is never
    replaced silently.

    Examples
    --------
    >>> "gml" in GRAPH_FORMATS and GRAPH_FORMATS["dot"][0]
    ('.dot', '.gv')
    >>> register("json", (".json",), write_json)
    Traceback (most recent call last):
    ...
    ililab.errors.UsageError: graph format 'json' is already registered
    """
    if name in GRAPH_FORMATS:
        raise UsageError(f"graph format {name!r} is already registered")
    GRAPH_FORMATS[name] = (tuple(suffixes), writer, reader)


register("json", (".json",), write_json, read_json)
register("gml", (".gml",), write_gml, read_gml)
register("graphml", (".graphml",), write_graphml, read_graphml)
register("dot", (".dot", ".gv"), write_dot, read_dot)
register("csv", (".csv",), write_csv, read_csv)
register("adjacency-csv", (), write_adjacency_csv, read_adjacency_csv)


def graph_format_for(path: str | Path, format: str | None = None, option: str | None = "--format") -> str:
    """The graph format named, or the one the file extension implies.

    ``option`` is the command-line option that names a format where ``path`` is
    used (``--format``, ``--to``, ``--from``), suggested when the extension says
    nothing; ``None`` when there is no such option.

    Parameters
    ----------
    path : str or Path
        The file whose extension decides when ``format`` is None.
    format : str, optional
        A name of :data:`GRAPH_FORMATS`.
    option : str or None
        The option to suggest in the message.

    Returns
    -------
    str
        A key of :data:`GRAPH_FORMATS`.

    Raises
    ------
    UsageError
        An unknown ``format``, or an extension no format claims.

    Examples
    --------
    >>> graph_format_for("graph.graphml"), graph_format_for("graph.txt", "csv")
    ('graphml', 'csv')
    >>> graph_format_for("soft_labels.npy")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ililab.errors.UsageError: cannot tell the graph format of 'soft_labels.npy' ...; .npy holds a data matrix, not a graph ...
    """
    if format is not None:
        if format not in GRAPH_FORMATS:
            raise UsageError(f"unknown graph format {format!r}; known: {', '.join(GRAPH_FORMATS)}")
        return format
    suffix = Path(path).suffix.lower()
    for name, (suffixes, _, _) in GRAPH_FORMATS.items():
        if suffix in suffixes:
            return name
    known = ", ".join(s for suffixes, _, _ in GRAPH_FORMATS.values() for s in suffixes)
    message = f"cannot tell the graph format of {str(path)!r} from its extension (known: {known})"
    if suffix in (".npy", ".npz"):
        message += f"; {suffix} holds a data matrix, not a graph (make one with `ililab infer-graph`)"
    elif option is not None:
        message += f"; use {option} FORMAT"
    raise UsageError(message)


def write_graph(graph: DependencyGraph, path: str | Path, format: str | None = None) -> Path:
    """Write ``graph`` atomically in ``format`` (default: from the extension).

    Parameters
    ----------
    graph : DependencyGraph
    path : str or Path
    format : str, optional
        A name of :data:`GRAPH_FORMATS`; default from the extension.

    Returns
    -------
    Path
        ``path`` as given.

    Raises
    ------
    UsageError
        No format named and none implied by the extension.
    OutputError
        The file cannot be written (nothing is left half-written).

    Examples
    --------
    >>> import tempfile
    >>> from ililab.graph import Edge
    >>> g = DependencyGraph(["a", "b"], [Edge("a", "b", weight=0.5)])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("g.json", "g.gml", "g.graphml", "g.dot", "g.csv"):
    ...         again = read_graph(write_graph(g, Path(tmp) / name))
    ...         print(name, again.edges[0].weight)
    g.json 0.5
    g.gml 0.5
    g.graphml 0.5
    g.dot 0.5
    g.csv 0.5
    """
    name = graph_format_for(path, format)
    _, writer, _ = GRAPH_FORMATS[name]
    return atomic_write(path, writer(graph))


def read_graph(
    path: str | Path,
    format: str | None = None,
    *,
    max_nodes: int | None = None,
    max_edges: int | None = None,
) -> DependencyGraph:
    """Read a graph file (default format: from the extension).

    ``max_nodes`` / ``max_edges`` raise (or lower) the limits every reader checks
    before it builds a graph (:class:`ililab.formats.GraphLimits`: 100,000 nodes
    and 250,000 edges by default), so a small file cannot describe a graph that
    exhausts the machine.

    Parameters
    ----------
    path : str or Path
    format : str, optional
        A name of :data:`GRAPH_FORMATS`; default from the extension.
    max_nodes, max_edges : int, optional
        Limits for this read (default: those of :class:`GraphLimits`).

    Returns
    -------
    DependencyGraph

    Raises
    ------
    DataError
        Missing or unreadable file.
    GraphFormatError
        Malformed content, or more nodes or edges than the limits.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "edges.csv"
    ...     _ = path.write_text("source,target\\na,b\\nb,c\\n")
    ...     print(read_graph(path).names)
    ...     try:
    ...         read_graph(path, max_edges=1)
    ...     except GraphFormatError as error:
    ...         print(str(error).split(": ", 1)[1].split(";")[0])
    ['a', 'b', 'c']
    more than 1 edges (the limit)
    """
    path = Path(path)
    name = graph_format_for(path, format, option=None)
    _, _, reader = GRAPH_FORMATS[name]
    if reader is None:
        raise UsageError(f"graph format {name!r} can be written but not read")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"no such file: {str(path)!r}") from None
    except IsADirectoryError:
        raise DataError(f"{str(path)!r} is a directory, not a graph file") from None
    except OSError as error:
        raise open_error(path, error) from None
    except UnicodeDecodeError:
        raise GraphFormatError(f"{str(path)!r} is not UTF-8 text") from None
    try:
        with limits(max_nodes, max_edges):
            return reader(text)
    except GraphFormatError as error:
        raise GraphFormatError(f"{str(path)!r}: {error}") from None
