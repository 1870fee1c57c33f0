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
@click.option("--float32", "float32", is_flag=True, help="Write float32 arrays (like a network's output).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--output", "-o", type=click.Path(file_okay=False), required=True, help="Output directory.")
def soft_labels(classes, modalities, samples, degree, logit_scale, float32, seed, output) -> None:
    """Soft labels from a latent class DAG: soft_labels.npy, soft_labels_logits.npy, names.txt, true_graph.json."""
    import numpy as np

    from ililab.simulate import simulate_soft_labels

    mods = tuple(m.strip() for m in modalities.split(",") if m.strip())
    output_directory(output)  # before the work: a bad path costs nothing
    sim = simulate_soft_labels(
        classes, samples, mods, degree, seed, logit_scale, dtype=np.float32 if float32 else np.float64
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
@click.option("--variables", "-p", type=click.IntRange(min=2), default=10, show_default=True)
@click.option("--samples", "-n", type=click.IntRange(min=2), default=5000, show_default=True)
@click.option("--degree", type=click.FloatRange(min=0), default=2.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--output", "-o", type=click.Path(file_okay=False), required=True, help="Output directory.")
def sem(variables, samples, degree, seed, output) -> None:
    """Rows of a linear-Gaussian SEM: data.npy, names.txt, true_graph.json."""
    from ililab.io import write_array, write_names
    from ililab.simulate import simulate_linear_sem

    out = output_directory(output)
    sim = simulate_linear_sem(variables, samples, degree, seed)
    write_array(sim.data, out / "data.npy")
    write_names(sim.names, out / "names.txt")
    sim.true_graph.save(out / "true_graph.json")
    if not is_quiet():
        click.echo(f"{samples} x {variables} SEM data, true graph {len(sim.true_graph.edges)} edges -> {out}/", err=True)
