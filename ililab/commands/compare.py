"""``ililab compare``: SHD, adjacency / arrowhead precision-recall-F1 and edge differences of two graphs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ililab.commands._common import is_quiet


def _edge_text(source: str, target: str, kind: str = "directed") -> str:
    return f"{source} {'-->' if kind == 'directed' else '---'} {target}"


def comparison_table(result, first_name: str, second_name: str, first, second) -> str:
    """The comparison as a plain-text table (what ``ililab compare`` prints)."""
    lines = [
        f"A: {first_name} ({len(first.nodes)} nodes, {len(first.edges)} edges)",
        f"B: {second_name} ({len(second.nodes)} nodes, {len(second.edges)} edges)",
        "",
        f"SHD (A vs B)  {result.shd}",
        "",
        f"{'B as truth':<12}{'precision':>10}{'recall':>8}{'F1':>7}{'both':>7}{'in A':>7}{'in B':>7}",
    ]
    for name, score in (("adjacency", result.adjacency), ("arrowhead", result.arrowhead)):
        lines.append(
            f"{name:<12}{score.precision:>10.3f}{score.recall:>8.3f}{score.f1:>7.3f}"
            f"{score.true_positives:>7}{score.estimated:>7}{score.truth:>7}"
        )
    sections = [
        ("only in A", [_edge_text(s, t, k) for s, t, k in result.only_in_first]),
        ("only in B", [_edge_text(s, t, k) for s, t, k in result.only_in_second]),
        ("reversed (as in A)", [_edge_text(s, t) for s, t in result.reversed]),
        ("directed in one, undirected in the other (as in A)", [_edge_text(s, t, k) for s, t, k in result.kind_differs]),
    ]
    for title, edges in sections:
        lines += ["", f"{title} ({len(edges)}):"]
        lines += [f"  {edge}" for edge in edges] or ["  (none)"]
    return "\n".join(lines) + "\n"


@click.command("compare")
@click.argument("first", type=click.Path(dir_okay=False))
@click.argument("second", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON instead of a table.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Also draw the difference (.png, .svg or .pdf).")
@click.option(
    "--layout", type=click.Choice(["auto", "modality", "spring", "circular", "hierarchical"]), default="auto",
    show_default=True, help="Layout of the --plot picture.",
)
@click.option(
    "--cpdag/--no-cpdag", default=None,
    help="Reduce DAGs (all edges directed, acyclic) to their CPDAGs first. Default: only when the other graph "
    "has undirected edges (a DAG against a CPDAG), so Markov-equivalent graphs compare equal.",
)
@click.option("--dpi", type=click.FloatRange(min=10, max=1200), default=150, show_default=True, help="PNG resolution.")
def compare_command(first, second, as_json, plot_path, layout, cpdag, dpi):
    """Compare graph FIRST (A, e.g. inferred) against SECOND (B, e.g. the truth).

    Prints the structural Hamming distance, adjacency and arrowhead
    precision / recall / F1 (B taken as the truth), and the edges only in A,
    only in B, and reversed. Both graphs must have the same nodes.

    \b
    Examples:
      ililab compare inferred.json true_graph.json
      ililab compare inferred.json true_graph.json --cpdag --plot diff.png
      ililab compare run1.json run2.json --json
    """
    from ililab.errors import DataError
    from ililab.io import check_output_path, read_graph
    from ililab.metrics import compare, dag_against_cpdag, to_cpdag

    if plot_path is not None:
        from ililab.viz import image_format_for

        image_format_for(plot_path)
        check_output_path(plot_path, "--plot")
    a, b = read_graph(first), read_graph(second)
    if cpdag is None:
        cpdag = dag_against_cpdag(a, b)
        if cpdag and not is_quiet():
            click.echo("note: comparing Markov equivalence classes (a DAG against a graph with undirected edges); "
                       "--no-cpdag compares the graphs as they are", err=True)
    if cpdag:
        a, b = to_cpdag(a), to_cpdag(b)
    try:
        result = compare(a, b, cpdag=False)  # reduced above when asked
    except ValueError as error:
        raise DataError(f"cannot compare {first!r} with {second!r}: {error}") from None
    if as_json:
        document = {"first": first, "second": second, **result.as_dict(), "cpdag": cpdag}
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        click.echo(comparison_table(result, first, second, a, b), nl=False)
    if plot_path is not None:
        from ililab.viz import plot_comparison

        names = (Path(first).stem, Path(second).stem)
        if names[0] == names[1]:
            names = ("A", "B")
        plot_comparison(a, b, plot_path, names=names, layout=layout, dpi=dpi, comparison=result)
        if not is_quiet():
            click.echo(f"difference drawn -> {plot_path}", err=True)
