"""``ililab show``: print a graph file's nodes and edges as a table."""

from __future__ import annotations

import click

from ililab.commands._common import limit_options


@click.command("show")
@click.argument("graph_file", type=click.Path(dir_okay=False))
@click.option("--cross-modal", is_flag=True, help="Only edges between different modalities.")
@limit_options
def show_command(graph_file: str, cross_modal: bool, max_nodes: int, max_edges: int) -> None:
    """Print the edges of GRAPH_FILE, one per line."""
    from ililab.io import read_graph

    graph = read_graph(graph_file, max_nodes=max_nodes, max_edges=max_edges)
    edges = graph.cross_modal_edges() if cross_modal else list(graph.edges)
    meta = graph.meta
    click.echo(
        f"{len(graph.nodes)} nodes, {len(edges)} {'cross-modal ' if cross_modal else ''}edges"
        f" (learner {meta.get('learner', '?')}, transform {meta.get('transform', '?')})"
    )
    search = meta.get("search") or {}
    if "chains_at_best" in search:
        at_best = search["chains_at_best"]
        click.echo(
            f"search: {search['restarts']} searches in {search['chains']} chains, stopped by {search['stopped_by']};"
            f" best score reached by {at_best} chain{'' if at_best == 1 else 's'}; {search['near_optimal']} near-optimal"
            f" searches (within {search['margin']:.3g} of the best) give each edge's stability"
        )
    width = max((len(e.source) for e in edges), default=0)
    for e in edges:
        arrow = "-->" if e.directed else "---"
        extras = []
        if e.weight is not None:
            extras.append(f"weight {e.weight:+.3f}")
        if e.confidence is not None:
            extras.append(f"confidence {e.confidence:.2f}")
        if e.stability is not None:
            extras.append(f"stability {e.stability:.2f}")
        click.echo(f"  {e.source:<{width}} {arrow} {e.target}" + (f"   ({', '.join(extras)})" if extras else ""))
