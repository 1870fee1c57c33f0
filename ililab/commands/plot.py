"""``ililab plot``: a graph file -> a picture (png, svg or pdf)."""

from __future__ import annotations

import click

from ililab.commands._common import is_quiet, limit_options

LAYOUT_CHOICES = ["auto", "modality", "spring", "circular", "hierarchical", "heatmap"]


def filter_options(command):
    """The edge filters shared by ``plot`` and ``infer-graph --plot``."""
    command = click.option("--min-weight", type=click.FloatRange(min=0), metavar="W", help="Draw only edges with |weight| >= W.")(
        command
    )
    command = click.option(
        "--min-confidence", "plot_min_confidence", type=click.FloatRange(0, 1), metavar="C",
        help="Draw only edges with bootstrap confidence >= C.",
    )(command)
    command = click.option(
        "--top-k", type=click.IntRange(min=1), metavar="K", help="Draw an edge only if among the K strongest of one of its ends."
    )(command)
    return command


@click.command("plot")
@click.argument("graph_file", type=click.Path(dir_okay=False))
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True, help="Picture to write: .png, .svg or .pdf.")
@click.option(
    "--layout", "-l", type=click.Choice(LAYOUT_CHOICES), default="auto", show_default=True,
    help="auto = modality columns when nodes carry modalities, else spring; heatmap = adjacency matrix.",
)
@filter_options
@click.option("--title", help="Title (default: learner, parameters and graph size; '' for none).")
@click.option("--dpi", type=click.FloatRange(min=10, max=1200), default=150, show_default=True, help="Resolution of PNG output.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the spring layout.")
@click.option("--no-legend", is_flag=True, help="Leave out the legend.")
@click.option("--from", "from_format", metavar="FORMAT", help="Format of GRAPH_FILE (default: from its extension).")
@limit_options
def plot_command(
    graph_file, output, layout, top_k, plot_min_confidence, min_weight, title, dpi, seed, no_legend, from_format, max_nodes,
    max_edges,
):
    """Draw the graph in GRAPH_FILE (any format `ililab convert` reads) to OUTPUT.

    \b
    Examples:
      ililab plot graph.json -o graph.png
      ililab plot graph.json -o graph.pdf --layout circular
      ililab plot graph.json -o matrix.svg --layout heatmap --top-k 3
    """
    from ililab.io import check_output_path, graph_format_for, read_graph
    from ililab.viz import filter_edges, image_format_for, plot_graph

    image_format_for(output)  # a wrong extension is a usage error before any work
    check_output_path(output, "-o")
    graph = read_graph(
        graph_file, format=graph_format_for(graph_file, from_format, option="--from"), max_nodes=max_nodes, max_edges=max_edges
    )
    shown = filter_edges(graph, top_k, plot_min_confidence, min_weight)  # what the picture holds (bad filters fail here)
    plot_graph(
        graph, output, layout=layout, top_k=top_k, min_confidence=plot_min_confidence, min_weight=min_weight,
        title=title, seed=seed, dpi=dpi, legend=not no_legend,
    )
    if not is_quiet():
        filtered = top_k is not None or plot_min_confidence is not None or min_weight is not None
        drawn = f"{len(shown.edges)} of {len(graph.edges)} edges drawn" if filtered else f"{len(graph.edges)} edges"
        click.echo(f"{len(graph.nodes)} nodes, {drawn} -> {output}", err=True)
