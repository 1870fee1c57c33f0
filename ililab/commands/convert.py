"""``ililab convert``: a graph file in one format -> another (json, gml, graphml, dot, csv, adjacency-csv)."""

from __future__ import annotations

import click

from ililab.commands._common import is_quiet, limit_options


def _losses(graph, target: str) -> list[str]:
    """What ``graph`` holds that the ``target`` format cannot carry (see ililab.formats)."""
    lost = []
    if target in ("csv", "adjacency-csv"):
        if graph.meta:
            lost.append("meta (learner, parameters)")
        from ililab.graph import Node

        if any(Node.from_name(n.name) != n for n in graph.nodes):
            lost.append("node labels/modalities not spelled in the names as 'Class (modality)'")
    if target == "csv":
        lost.append("the node order")
    if target == "adjacency-csv":
        if any(e.confidence is not None for e in graph.edges):
            lost.append("edge confidences")
        weights = [e.weight for e in graph.edges]
        if any(w == 0 for w in weights):
            lost.append("edges of weight 0")
        elif any(w is None for w in weights) and any(w is not None for w in weights):
            lost.append("the difference between no weight and weight 1")
    return lost


@click.command("convert")
@click.argument("source", type=click.Path(dir_okay=False))
@click.argument("target", type=click.Path(dir_okay=False))
@click.option("--to", "to_format", metavar="FORMAT", help="Format of TARGET (default: from its extension); e.g. adjacency-csv.")
@click.option("--from", "from_format", metavar="FORMAT", help="Format of SOURCE (default: from its extension).")
@limit_options
def convert_command(source, target, to_format, from_format, max_nodes, max_edges):
    """Convert the graph in SOURCE to TARGET; formats follow the extensions.

    \b
    Formats: json (.json), gml (.gml), graphml (.graphml), dot (.dot, .gv),
    csv (.csv edge list), adjacency-csv (--to adjacency-csv).
    JSON, GML, GraphML and DOT keep everything; the CSV formats keep edges
    and names, not meta (see docs/visualization.md).

    \b
    Examples:
      ililab convert graph.json graph.graphml
      ililab convert graph.json matrix.csv --to adjacency-csv
    """
    from ililab.io import check_output_path, graph_format_for, read_graph, write_graph

    target_format = graph_format_for(target, to_format, option="--to")
    check_output_path(target)
    graph = read_graph(
        source, format=graph_format_for(source, from_format, option="--from"), max_nodes=max_nodes, max_edges=max_edges
    )
    write_graph(graph, target, format=target_format)
    if not is_quiet():
        lost = _losses(graph, target_format)
        note = f"; {target_format} does not keep: {', '.join(lost)}" if lost else ""
        click.echo(f"{len(graph.nodes)} nodes, {len(graph.edges)} edges -> {target} ({target_format}){note}", err=True)
