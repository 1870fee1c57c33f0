"""``ililab infer-graph``: data file -> class dependency graph."""

from __future__ import annotations

import sys

import click

from ililab.commands._common import Stopwatch, is_quiet, parse_params

_TRANSFORMS = ["auto", "none", "logit", "log", "alr", "clr", "softmax"]


@click.command("infer-graph")
@click.argument("data", type=click.Path(dir_okay=False, path_type=str))
@click.option("--learner", "-l", default="grasp", show_default=True, help="Learner name (see `ililab learners`).")
@click.option("--names", "names_file", type=click.Path(dir_okay=False), help="File with one column name per line.")
@click.option("--modalities", help="Column blocks, e.g. audio=0:28,visual=28:56.")
@click.option("--key", help="Array name inside an .npz archive.")
@click.option("--transform", "-t", default="auto", show_default=True, help=f"Soft-label transform: {', '.join(_TRANSFORMS)}.")
@click.option("--penalty", type=float, help="BIC penalty discount c (default 4, causal-learn's lambda = 2).")
@click.option("--lambda", "lambda_", type=float, help="causal-learn's lambda_value; sets penalty = 2 * lambda.")
@click.option("--seed", type=int, help="Seed of every random choice (default 0).")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Learner parameter (repeatable).")
@click.option("--knowledge", "knowledge_file", type=click.Path(dir_okay=False), help="Background-knowledge JSON file.")
@click.option("--forbid-within-modality", is_flag=True, help="Forbid edges between classes of the same modality.")
@click.option("--tiers-from-modalities", metavar="A,B", help="Modalities as tiers in this order (no edge B -> A).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Output file (default: JSON on stdout).")
@click.option("--format", "-f", "fmt",
              help="Output format: json, gml, graphml, dot, csv, adjacency-csv (default: from the extension, else json).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Also draw the graph: .png, .svg or .pdf.")
@click.option("--plot-layout", type=click.Choice(["auto", "modality", "spring", "circular", "hierarchical", "heatmap"]),
              default="auto", show_default=True, help="Layout of the --plot picture (see `ililab plot`).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Also write an interactive HTML report (.html).")
@click.option("--bootstrap", "-b", "bootstrap", type=click.IntRange(min=1), metavar="B",
              help="Bootstrap replicates (1 or more): each edge's confidence = its frequency over B row resamples.")
@click.option("--min-confidence", type=float, metavar="F", help="With --bootstrap: drop edges with confidence below F.")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where replicates and shard covariances run: local processes or a Dask cluster.")
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="Dask scheduler (with --engine dask); default: a new LocalCluster.")
@click.option("--scheduler-timeout", type=float, metavar="SECONDS",
              help="With --scheduler: seconds to wait for the scheduler to answer (default 10).")
@click.option("--jobs", "-j", type=int, help="Worker processes (local, default 1) or LocalCluster workers (dask, default 2).")
@click.option("--chunk-rows", type=int, help="Rows per chunk when streaming memory-mapped or sharded data (default: ~8 MB each).")
def infer_graph_command(
    data, learner, names_file, modalities, key, transform, penalty, lambda_, seed, params,
    knowledge_file, forbid_within_modality, tiers_from_modalities, output, fmt,
    bootstrap, min_confidence, engine, scheduler, scheduler_timeout, jobs, chunk_rows, plot_path, plot_layout,
    report_path,
):
    """Infer a class dependency graph from DATA (.npy, .npz or .csv, or a quoted glob of .npy shards).

    Rows are samples, columns variables (e.g. soft-label classes named
    "Class (modality)"). Without -o the graph JSON goes to stdout and a short
    summary to stderr.
    """
    from ililab.api import check_request, run_request
    from ililab.engines import make_engine
    from ililab.errors import UsageError
    from ililab.files import check_output_path
    from ililab.formats import graph_format_for
    from ililab.learners import get
    from ililab.names import read_names

    watch = Stopwatch()
    bootstrap = bootstrap or 0
    learner_cls = get(learner)  # unknown learner: a usage error before the parameters are read
    values = parse_params(params)
    for option, name, value in (("--penalty", "penalty", penalty), ("--lambda", "lambda", lambda_), ("--seed", "seed", seed)):
        if value is None:
            continue
        if name in values:  # (--penalty with -p lambda=... is checked by the learner: they must agree)
            raise UsageError(f"{option} {value:g} and -p {name}={values[name]} both set {name}; give one")
        values[name] = value
    # The API's checks (learner, parameters, --min-confidence, --chunk-rows), once, before any work;
    # run_request below carries the checked request out without checking it again.
    request = check_request(learner_cls, values, bootstrap=bootstrap, min_confidence=min_confidence, chunk_rows=chunk_rows)
    # Every output is checked before any work: a bad path must not cost a run, nor leave the other outputs.
    if output is not None:
        graph_format_for(output, fmt)
        check_output_path(output, "-o")
    elif fmt is not None:
        graph_format_for("stdout", fmt)
    if plot_path is not None:
        from ililab.viz import image_format_for

        image_format_for(plot_path)  # a wrong picture extension fails before any work
        check_output_path(plot_path, "--plot")
    if report_path is not None:
        from ililab.report import check_report_path

        check_report_path(report_path)
    names = read_names(names_file) if names_file else None
    tier_order = [m.strip() for m in tiers_from_modalities.split(",")] if tiers_from_modalities else None
    with make_engine(engine, jobs=jobs, scheduler=scheduler, timeout=scheduler_timeout) as runner:
        graph = run_request(
            request, data, names, modalities, transform, key, knowledge_file or None,
            forbid_within_modality=forbid_within_modality, tier_order=tier_order, engine=runner, progress=not is_quiet(),
        )
    if output is not None:
        graph.save(output, format=fmt)
    else:
        from ililab.formats import GRAPH_FORMATS

        name = graph_format_for("stdout.json", fmt)
        sys.stdout.write(GRAPH_FORMATS[name][1](graph))
    if plot_path is not None:
        graph.plot(plot_path, layout=plot_layout)
    if report_path is not None:
        from ililab.report import write_report

        write_report(graph, report_path, seed=seed if seed is not None else 0)
    if not is_quiet():
        n_dir = sum(e.directed for e in graph.edges)
        where = f" -> {output}" if output else ""
        click.echo(
            f"{learner}: {len(graph.nodes)} nodes, {len(graph.edges)} edges ({n_dir} directed, "
            f"{len(graph.edges) - n_dir} undirected, {len(graph.cross_modal_edges())} cross-modal), "
            f"transform {graph.meta.get('transform')}, {watch.seconds:.2f} s{where}"
            + (f", picture -> {plot_path}" if plot_path else "")
            + (f", report -> {report_path}" if report_path else ""),
            err=True,
        )
