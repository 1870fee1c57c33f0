"""An interactive HTML report of a class dependency graph: one self-contained, offline file.

The page holds everything it needs: its style, its script (a small canvas renderer in
``static/report.js``, no library) and the graph as a JSON block. It fetches nothing (a
Content-Security-Policy of ``default-src 'none'`` forbids it), opens from disk, and is the
same bytes for the same input. Node positions are computed here (modality columns and a
seeded force layout), so the browser only parses and draws.

Views: modality columns or force layout with zoom and pan; search a class by name; click a
node to highlight its parents, children and undirected neighbours; hover an edge for its
kind, weight, confidence and any further per-edge field; filters (minimum ``|weight|``,
minimum confidence, cross-modal only, one modality); a sortable, filterable edge table; the
run's ``meta``; and, with a second graph, the difference (added, removed, reversed,
re-oriented edges).
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

from ililab._version import __version__
from ililab.errors import DataError, UsageError
from ililab.files import check_output_path
from ililab.graph import DependencyGraph, Edge
from ililab.report._layout import UNIT, column_layout, force_layout

__all__ = ["build_report", "write_report", "check_report_path", "REPORT_SUFFIXES"]

REPORT_SUFFIXES = (".html", ".htm")
_STANDARD_FIELDS = {"source", "target", "kind", "weight", "confidence"}
_PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]


def check_report_path(path: str | Path) -> Path:
    """Refuse a report path that cannot be written, before any work is done.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Path

    Raises
    ------
    UsageError
        If the name does not end in ``.html`` or ``.htm``.
    OutputError
        As :func:`ililab.files.check_output_path`: it is a directory, or its directory is
        missing, not a directory or not writable.

    Examples
    --------
    >>> check_report_path("report.html").name
    'report.html'
    """
    path = Path(path)
    if path.suffix.lower() not in REPORT_SUFFIXES:
        raise UsageError(f"a report is an HTML file: {str(path)!r} must end in .html or .htm")
    check_output_path(path)  # the checks every output gets (directory, writable, through a link)
    return path


def _short(value: float) -> float:
    # 4 significant digits: enough to read, and a third of the bytes of repr()
    return float(f"{value:.4g}")


def _plain(value: Any) -> Any:
    """Extra edge fields as JSON values, floats shortened, non-finite numbers as None."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return _short(number) if math.isfinite(number) else None


def _extra_fields(edge: Edge) -> dict[str, Any]:
    """Optional per-edge fields beyond the five standard ones (e.g. restart frequencies), when set."""
    if not dataclasses.is_dataclass(edge):
        return {}
    out = {}
    for f in dataclasses.fields(edge):
        if f.name in _STANDARD_FIELDS:
            continue
        value = getattr(edge, f.name)
        if value is not None:
            out[f.name] = _plain(value)
    return out


def _number(value: float | None) -> float | None:
    return None if value is None else _short(value)


def _edge_row(graph: DependencyGraph, edge: Edge, extra: Any) -> list:
    return [graph.index(edge.source), graph.index(edge.target), int(edge.directed), _number(edge.weight),
            _number(edge.confidence), extra]


def _diff(a: DependencyGraph, b: DependencyGraph, names: tuple[str, str]) -> dict[str, Any]:
    """Every pair adjacent in A or B with its status, as :func:`ililab.metrics.compare` classes it."""
    from ililab.metrics import compare

    try:
        result = compare(a, b, cpdag=False)  # as given: the page says so (no CPDAG reduction)
    except ValueError as error:
        raise DataError(f"cannot compare {names[0]!r} with {names[1]!r}: {error}") from None
    status: dict[frozenset, str] = {}
    for s, t, _ in result.only_in_first:
        status[frozenset((s, t))] = "removed"
    for s, t, _ in result.only_in_second:
        status[frozenset((s, t))] = "added"
    for s, t in result.reversed:
        status[frozenset((s, t))] = "reversed"
    for s, t, _ in result.kind_differs:
        status[frozenset((s, t))] = "reoriented"
    rows = []
    for edge in a.edges:  # removed edges as in A, the others as they are in B
        pair = frozenset((edge.source, edge.target))
        if status.get(pair) == "removed":
            rows.append(_edge_row(a, edge, "removed"))
    for edge in b.edges:
        pair = frozenset((edge.source, edge.target))
        rows.append(_edge_row(a, edge, status.get(pair, "same")))
    rows.sort(key=lambda r: (min(r[0], r[1]), max(r[0], r[1])))
    return {"a": names[0], "b": names[1], "shd": result.shd, "edges": rows}


def build_report(
    graph: DependencyGraph,
    *,
    compare_to: DependencyGraph | None = None,
    names: tuple[str, str] = ("A", "B"),
    title: str | None = None,
    seed: int = 0,
) -> str:
    """The report page of ``graph`` as HTML text (deterministic for the same arguments).

    Parameters
    ----------
    graph : DependencyGraph
        The graph to show (graph A when comparing).
    compare_to : DependencyGraph, optional
        A second graph over the same nodes (graph B): the page gets a diff view listing the
        edges added in B, removed from A, reversed, and re-oriented (directed in one graph,
        undirected in the other).
    names : (str, str)
        What to call A and B in the page (e.g. their file names).
    title : str, optional
        Page title; default from the learner and the graph's size.
    seed : int
        Seed of the force layout.

    Raises
    ------
    DataError
        If ``compare_to`` has other nodes than ``graph``.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> g = DependencyGraph(["a (audio)", "a (visual)"], [Edge("a (audio)", "a (visual)", weight=0.5)])
    >>> page = build_report(g)
    >>> page.startswith("<!DOCTYPE html>") and "://" not in page
    True
    """
    positions, side, columns, gap = column_layout(graph)
    edge_rows = [_edge_row(graph, e, _extra_fields(e) or None) for e in graph.edges]
    extra_fields = sorted({key for row in edge_rows if row[5] for key in row[5]})
    meta = graph.to_dict()["meta"]
    payload = {
        "nodes": [[n.name, n.label, n.modality] for n in graph.nodes],
        "modalities": graph.modalities,
        "edges": edge_rows,
        "extraFields": extra_fields,
        "layouts": {"columns": positions, "force": force_layout(graph, seed=seed)},
        "side": side,
        "columns": columns,
        "columnGap": gap,
        "top": 0.0,
        "unit": UNIT,
        "defaultLayout": "columns" if len(graph.modalities) >= 2 else "force",
        "defaultMode": "graph",
        "meta": meta,
        "diff": None,
    }
    if compare_to is not None:
        payload["diff"] = _diff(graph, compare_to, names)
        payload["defaultMode"] = "diff"
    if title is None:
        learner = meta.get("learner", "graph")
        title = f"ililab report: {learner}, {len(graph.nodes)} nodes, {len(graph.edges)} edges"
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # the JSON sits in a <script> element: no "</script>", no HTML-significant characters
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        data = data.replace(char, escaped)
    static = files("ililab.report") / "static"
    mode_control = ""
    diff_section = ""
    if compare_to is not None:
        mode_control = (
            '<label>edges <select id="mode"><option value="graph">graph A only</option>'
            '<option value="diff" selected>difference A → B</option></select></label>'
        )
        diff_section = '<section><h2>Difference A → B</h2><div id="diff"></div></section>'
    swatches = " ".join(
        f'<span style="color:{_PALETTE[i % len(_PALETTE)]}">■ {html.escape(m)}</span>' for i, m in enumerate(graph.modalities)
    )
    legend = (swatches + " · " if swatches else "") + "dashed: undirected · width: |weight| · opacity: confidence"
    if compare_to is not None:
        legend += (' · diff: <span class="st-added">added</span> <span class="st-removed">removed</span> '
                   '<span class="st-reversed">reversed</span> <span class="st-reoriented">re-oriented</span>')
    parts = {
        "title": html.escape(title),
        "version": html.escape(__version__),
        "css": (static / "report.css").read_text(encoding="utf-8"),
        "js": (static / "report.js").read_text(encoding="utf-8"),
        "data": data,
        "mode_control": mode_control,
        "diff_section": diff_section,
        "legend": legend,
    }
    template = (static / "report.html").read_text(encoding="utf-8")
    out = []
    rest = template
    # one pass over the template only, so text in the data can never be taken for a placeholder
    while "{{" in rest:
        before, _, after = rest.partition("{{")
        key, _, rest = after.partition("}}")
        out += [before, parts[key]]
    out.append(rest)
    return "".join(out)


def write_report(
    graph: DependencyGraph,
    path: str | Path,
    *,
    compare_to: DependencyGraph | None = None,
    names: tuple[str, str] = ("A", "B"),
    title: str | None = None,
    seed: int = 0,
) -> Path:
    """Write the report of ``graph`` (see :func:`build_report`) atomically to ``path`` (.html).

    Parameters
    ----------
    graph : DependencyGraph
    path : str or Path
        Must end in ``.html`` or ``.htm``.
    compare_to, names, title, seed
        As in :func:`build_report`.

    Returns
    -------
    Path
        ``path`` as given.

    Examples
    --------
    >>> import tempfile, os
    >>> from ililab.graph import DependencyGraph
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_report(DependencyGraph(["a", "b"]), os.path.join(tmp, "r.html"))
    ...     print(Path(out).suffix, Path(out).read_text().lstrip().lower().startswith("<!doctype html"))
    .html True
    """
    from ililab.io import atomic_write

    check_report_path(path)
    page = build_report(graph, compare_to=compare_to, names=names, title=title, seed=seed)
    return atomic_write(path, page)
