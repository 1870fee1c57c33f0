"""``ililab simulate``: seeded synthetic data with the true graph."""

from __future__ import annotations

from pathlib import Path

import click

from ililab.commands._common import is_quiet, output_directory


@click.group("simulate")
def simulate_command() -> None:
    """Write seeded synthetic data and its true graph."""


@simulate_command.command("soft-labels")
@click.option("--classes", "-c", type=click.IntRange(min=2), default=10, show_default=True, help="Classes per modality.")
@click.option("--modalities", default="audio,visual", show_default=True, help="Comma-separated modality names.")
@click.option("--samples", "-n", type=click.IntRange(min=2), default=5000, show_default=True, help="Rows (clips).")
@click.option(
    "--degree", type=click.FloatRange(min=0), default=2.0, show_default=True, help="Expected random neighbours per node."
)
@click.option(
    "--logit-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.5,
    show_default=True,
    help="Standard deviation of the logits.",
)
@click.option("--float32", "float32", is_flag=True, help="Same as --dtype float32.")
@click.option(
    "--dtype", type=click.Choice(["float16", "float32", "float64"]), default=None, help="dtype of the arrays written [float64]."
)
@click.option(
    "--kind", type=click.Choice(["softmax", "sigmoid"]), default="softmax", show_default=True,
    help="Softmax per modality (rows sum to 1) or sigmoid per class (multi-label).",
)
@click.option("--decimals", type=click.IntRange(min=1), default=None, help="Round the probabilities (like a CSV export).")
@click.option(
    "--imbalance", type=click.FloatRange(min=1), default=1.0, show_default=True,
    help="Ratio of the most to the least frequent class.",
)
@click.option(
    "--chain", type=click.FloatRange(min=0), default=0.0, show_default=True,
    help="Weight of extra edges class j-1 -> class j within each modality.",
)
@click.option(
    "--raw-logits", is_flag=True,
    help="Multiply the SEM's logits by --logit-scale without standardising them (saturated outputs).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--output", "-o", type=click.Path(file_okay=False), required=True, help="Output directory.")
def soft_labels(
    classes, modalities, samples, degree, logit_scale, float32, dtype, kind, decimals, imbalance, chain, raw_logits, seed, output
) -> None:
    """Soft labels from a latent class DAG: soft_labels.npy, soft_labels_logits.npy, names.txt, true_graph.json."""
    from ililab.errors import UsageError
    from ililab.simulate import simulate_soft_labels

    if float32 and dtype not in (None, "float32"):
        raise UsageError(f"--float32 contradicts --dtype {dtype}; pass one of them")
    mods = tuple(m.strip() for m in modalities.split(",") if m.strip())
    output_directory(output)  # before the work: a bad path costs nothing
    sim = simulate_soft_labels(
        classes, samples, mods, degree, seed, logit_scale, dtype=dtype or ("float32" if float32 else "float64"),
        output=kind, decimals=decimals, imbalance=imbalance, chain=chain, standardize=not raw_logits,
    )
    paths = sim.save(output)
    if is_quiet():
        return
    click.echo(
        f"{samples} x {sim.probabilities.shape[1]} soft labels ({classes} classes x {len(mods)} modalities), "
        f"true graph {len(sim.true_graph.edges)} edges -> {Path(output)}/",
        err=True,
    )
    for kind, path in paths.items():
        click.echo(f"  {kind}: {path}", err=True)


@simulate_command.command("sem")
@click.option("--variables", type=click.IntRange(min=2), default=None, help="Variables (columns).  [default: 10]")
# `-p` is a learner parameter in every other command; the old `sem -p N` still works, with a warning
@click.option("-p", "old_variables", type=click.IntRange(min=2), default=None, hidden=True)
@click.option("--samples", "-n", type=click.IntRange(min=2), default=5000, show_default=True)
@click.option("--degree", type=click.FloatRange(min=0), default=2.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--output", "-o", type=click.Path(file_okay=False), required=True, help="Output directory.")
def sem(variables, old_variables, samples, degree, seed, output) -> None:
    """Rows of a linear-Gaussian SEM: data.npy, names.txt, true_graph.json."""
    from ililab.errors import UsageError
    from ililab.matrix import write_array
    from ililab.names import write_names
    from ililab.simulate import simulate_linear_sem

    if old_variables is not None:
        if variables is not None:
            raise UsageError("give the number of variables once, as --variables N (-p is its deprecated spelling)")
        if not is_quiet():
            click.echo("warning: 'simulate sem -p N' is deprecated (-p is a learner parameter elsewhere); "
                       "use --variables N", err=True)
        variables = old_variables
    variables = 10 if variables is None else variables
    out = output_directory(output)
    sim = simulate_linear_sem(variables, samples, degree, seed)
    write_array(sim.data, out / "data.npy")
    write_names(sim.names, out / "names.txt")
    sim.true_graph.save(out / "true_graph.json")
    if not is_quiet():
        click.echo(f"{samples} x {variables} SEM data, true graph {len(sim.true_graph.edges)} edges -> {out}/", err=True)
