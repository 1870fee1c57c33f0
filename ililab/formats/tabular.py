"""CSV: an edge list (``source,target,kind,weight,confidence``) and a square adjacency matrix."""

from __future__ import annotations

import csv
import io
import warnings

from ililab.errors import GraphFormatError, IlilabWarning, shown
from ililab.formats._common import assemble, check_texts, parse_kind, parse_number
from ililab.graph import DependencyGraph, Node

__all__ = ["write_csv", "read_csv", "write_adjacency_csv", "read_adjacency_csv"]


# -- CSV edge list ----------------------------------------------------------------------


def _csv_number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    if "\x00" in text:
        raise GraphFormatError("not a CSV text file (it holds NUL bytes)")
    try:
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        raise GraphFormatError(f"not valid CSV: {error}") from None
    return [(line, [cell.strip() for cell in row]) for line, row in rows if any(cell.strip() for cell in row)]


def write_csv(graph: DependencyGraph) -> str:
    """An edge list ``source,target,kind,weight,confidence`` (Gephi's spreadsheet import reads it).

    Nodes without edges get a row with an empty target. Node labels and
    modalities are carried only by names of the form ``"Class (modality)"``.

    Parameters
    ----------
    graph : DependencyGraph

    Returns
    -------
    str
        The file's text.

    Raises
    ------
    GraphFormatError
        A node name, label or modality holding a control character this format cannot carry.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> print(write_csv(DependencyGraph(["a", "b", "c"], [Edge("a", "b", weight=0.8)])), end="")
    source,target,kind,weight,confidence
    a,b,directed,0.8,
    c,,,,
    """
    check_texts(graph, "CSV", allow_cr=False)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["source", "target", "kind", "weight", "confidence"])
    linked = set()
    for e in graph.edges:
        writer.writerow([e.source, e.target, e.kind, _csv_number(e.weight), _csv_number(e.confidence)])
        linked.update((e.source, e.target))
    for name in graph.names:
        if name not in linked:
            writer.writerow([name, "", "", "", ""])
    return buffer.getvalue()


def _looks_like_adjacency(rows: list[tuple[int, list[str]]]) -> bool:
    header = rows[0][1]
    return len(rows) == len(header) and header[0] in ("", "source \\ target") and [r[0] for _, r in rows[1:]] == header[1:]


def read_csv(text: str) -> DependencyGraph:
    """Parse a CSV edge list (columns ``source``, ``target`` and optionally ``kind``/``type``,
    ``weight``, ``confidence``, any case); a square matrix with matching row and column
    names is read as an adjacency matrix (:func:`read_adjacency_csv`).

    Parameters
    ----------
    text : str
        The file's content.

    Returns
    -------
    DependencyGraph

    Raises
    ------
    GraphFormatError
        Not CSV text, no ``source`` / ``target`` column, a bad kind or number, or more nodes or
        edges than :class:`ililab.formats.GraphLimits` allows.

    Examples
    --------
    >>> g = read_csv("Source,Target,Weight\\nrain,wet grass,0.7\\nsprinkler,wet grass,\\n")
    >>> g.names, [(e.source, e.target, e.weight) for e in g.edges]
    (['rain', 'wet grass', 'sprinkler'], [('rain', 'wet grass', 0.7), ('sprinkler', 'wet grass', None)])
    """
    rows = _csv_rows(text)
    if not rows:
        raise GraphFormatError("empty CSV file")
    header = [cell.lower() for cell in rows[0][1]]
    if "source" not in header or "target" not in header:
        if _looks_like_adjacency(rows):
            return _adjacency_from_rows(rows)
        raise GraphFormatError(
            "a CSV edge list needs a header row with 'source' and 'target' columns "
            "(or, for an adjacency matrix, an empty first cell and the node names across and down)"
        )
    column = {name: header.index(name) for name in ("source", "target", "kind", "type", "weight", "confidence") if name in header}
    kind_column = column.get("kind", column.get("type"))
    names: dict[str, None] = {}
    raw = []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise GraphFormatError(f"CSV line {line}: {len(row)} fields, expected {len(header)}")
        source, target = row[column["source"]], row[column["target"]]
        if not source:
            raise GraphFormatError(f"CSV line {line}: empty source")
        names.setdefault(source)
        if not target:
            continue
        names.setdefault(target)
        what = f"CSV line {line}"
        kind = parse_kind(row[kind_column] if kind_column is not None else None, "directed", what)
        weight = parse_number(row[column["weight"]], f"{what} weight") if "weight" in column else None
        confidence = parse_number(row[column["confidence"]], f"{what} confidence") if "confidence" in column else None
        raw.append((source, target, kind, weight, confidence))
    return assemble([Node.from_name(n) for n in names], raw, None)


# -- CSV adjacency matrix -----------------------------------------------------------------


def write_adjacency_csv(graph: DependencyGraph) -> str:
    """A square matrix: cell (row i, column j) is the weight of ``i -> j`` (1 without a weight).

    An undirected edge fills both cells; an empty pair of cells is no edge (written as 0).

    Parameters
    ----------
    graph : DependencyGraph

    Returns
    -------
    str
        The file's text.

    Raises
    ------
    GraphFormatError
        A node name, label or modality holding a control character this format cannot carry.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> g = DependencyGraph(["a", "b", "c"], [Edge("a", "b", weight=0.8), Edge("b", "c", "undirected")])
    >>> print(write_adjacency_csv(g), end="")
    ,a,b,c
    a,0,0.8,0
    b,0,0,1
    c,0,1,0
    """
    check_texts(graph, "CSV", allow_cr=False)
    index = {name: i for i, name in enumerate(graph.names)}
    p = len(graph.nodes)
    cells = [["0"] * p for _ in range(p)]
    zero = 0
    for e in graph.edges:
        value = "1" if e.weight is None else repr(float(e.weight))
        if e.weight == 0:
            zero += 1
        s, t = index[e.source], index[e.target]
        cells[s][t] = value
        if not e.directed:
            cells[t][s] = value
    if zero:
        warnings.warn(
            f"{zero} edge(s) of weight 0 cannot be told from no edge in an adjacency matrix and are lost; "
            "save as JSON, GraphML or an edge-list CSV to keep them",
            IlilabWarning,
            stacklevel=2,
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["", *graph.names])
    for name, row in zip(graph.names, cells):
        writer.writerow([name, *row])
    return buffer.getvalue()


def _adjacency_from_rows(rows: list[tuple[int, list[str]]]) -> DependencyGraph:
    names = rows[0][1][1:]
    p = len(names)
    if p == 0:
        raise GraphFormatError("an adjacency CSV needs node names across its first row")
    if len(rows) - 1 != p:
        raise GraphFormatError(f"an adjacency CSV needs {p} rows after the header (one per node), got {len(rows) - 1}")
    values: list[list[float]] = []
    for (line, row), name in zip(rows[1:], names):
        if len(row) != p + 1:
            raise GraphFormatError(f"CSV line {line}: {len(row)} fields, expected {p + 1}")
        if row[0] != name:
            raise GraphFormatError(
                f"CSV line {line}: row name {shown(row[0])} differs from column name {shown(name)}; "
                "rows and columns must list the nodes in the same order"
            )
        values.append([parse_number(cell, f"CSV line {line}, column {shown(names[j])}") or 0.0 for j, cell in enumerate(row[1:])])
    nonzero = [v for row in values for v in row if v != 0.0]
    binary = all(v == 1.0 for v in nonzero)
    raw = []
    for i in range(p):
        for j in range(p):
            a, b = values[i][j], values[j][i]
            if a == 0.0 or (i == j):
                if i == j and a != 0.0:
                    raise GraphFormatError(f"adjacency CSV: nonzero diagonal cell for {shown(names[i])} (self-loop)")
                continue
            if b != 0.0:
                if j < i:
                    continue
                weight = None if binary or a != b else a
                raw.append((names[i], names[j], "undirected", weight, None))
            else:
                raw.append((names[i], names[j], "directed", None if binary else a, None))
    return assemble([Node.from_name(n) for n in names], raw, None)


def read_adjacency_csv(text: str) -> DependencyGraph:
    """Parse a square CSV adjacency matrix with node names across the first row and down the first column.

    A nonzero cell ``(i, j)`` is an edge ``i -> j`` with that weight; two equal nonzero cells
    ``(i, j)`` and ``(j, i)`` are one undirected edge.

    Parameters
    ----------
    text : str
        The file's content.

    Returns
    -------
    DependencyGraph

    Raises
    ------
    GraphFormatError
        Row and column names that differ, a cell that is not a number, or more nodes or edges
        than :class:`ililab.formats.GraphLimits` allows.

    Examples
    --------
    >>> g = read_adjacency_csv(",a,b,c\\na,0,0.8,0\\nb,0,0,1\\nc,0,1,0\\n")
    >>> [(e.source, e.target, e.kind, e.weight) for e in g.edges]
    [('a', 'b', 'directed', 0.8), ('b', 'c', 'undirected', 1.0)]
    """
    rows = _csv_rows(text)
    if not rows:
        raise GraphFormatError("empty CSV file")
    return _adjacency_from_rows(rows)
