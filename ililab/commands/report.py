"""``ililab report``: a graph file -> one self-contained, interactive HTML page."""

from __future__ import annotations

from pathlib import Path

import click

from ililab.commands._common import is_quiet


@click.command("report")
@click.argument("graph_file", type=click.Path(dir_okay=False))
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True, help="Page to write (.html or .htm).")
@click.option("--compare", "compare_file", type=click.Path(dir_okay=False), metavar="B",
              help="A second graph over the same nodes: the page also shows the difference GRAPH_FILE -> B.")
@click.option("--title", help="Page title (default: learner and graph size).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the force layout.")
@click.option("--from", "from_format", metavar="FORMAT", help="Format of the graph files (default: from their extensions).")
def report_command(graph_file, output, compare_file, title, seed, from_format):
    """Write an interactive HTML report of the graph in GRAPH_FILE to OUTPUT.

    The page works offline (nothing is fetched) and is the same bytes for the
    same input: zoom and pan, search a class, click a class for its parents and
    children, filters, a sortable edge table, the run's parameters and warnings.

    \b
    Examples:
      ililab report graph.json -o report.html
      ililab report run1.json --compare run2.json -o diff.html
    """
    from ililab.io import read_graph
    from ililab.report import check_report_path, write_report

    check_report_path(output)  # a wrong name fails before any work
    graph = read_graph(graph_file, format=from_format)
    other = read_graph(compare_file, format=from_format) if compare_file else None
    names = (Path(graph_file).name, Path(compare_file).name if compare_file else "B")
    if names[0] == names[1]:
        names = (graph_file, compare_file)
    write_report(graph, output, compare_to=other, names=names, title=title, seed=seed)
    if not is_quiet():
        what = f", difference with {compare_file}" if compare_file else ""
        click.echo(f"{len(graph.nodes)} nodes, {len(graph.edges)} edges{what} -> {output}", err=True)
