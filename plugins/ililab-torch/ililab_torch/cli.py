"""``ililab teacher ...``, ``ililab student ...`` and ``ililab simulate-av``: click commands
registered through the entry-point group ``ililab.commands``.

Progress goes to stderr (one line per epoch, silenced by ``ililab -q``); results that
a script may parse (``student evaluate``) go to stdout.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

__all__ = ["teacher_command", "student_command", "simulate_av_command"]


def _quiet() -> bool:
    from ililab.commands import is_quiet

    return is_quiet()


def _progress(record: dict) -> None:
    if _quiet():
        return
    fold = f" fold {record['fold']}/{record['folds']}" if "fold" in record else ""
    head = f"{record['stage']}{fold} epoch {record['epoch']}/{record['epochs']}"
    rest = "  ".join(f"{k} {v:.4f}" for k, v in record.items()
                     if isinstance(v, float) and k not in ("epoch", "epochs", "fold", "folds"))
    click.echo(f"{head}  {rest}", err=True)


def _prepare_torch(device: str, threads: int | None) -> None:
    """Fail on an unavailable device before any work; set torch's CPU threads when asked."""
    from ililab_torch._common import resolve_device

    resolve_device(device)
    if threads:
        import torch

        torch.set_num_threads(threads)


_seed = click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random choice.")
_device = click.option("--device", default="cpu", show_default=True, help="torch device: cpu, cuda, cuda:1, mps.")
_threads = click.option("--threads", type=click.IntRange(min=1), help="torch CPU threads (default: torch's choice).")
_test_fraction = click.option(
    "--test-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.2, show_default=True,
    help="Test share of a seeded stratified split, used only when the file has no 'split' array.",
)
_epochs = click.option("--epochs", type=click.IntRange(min=1), default=30, show_default=True)


class _LambdaType(click.ParamType):
    """A number >= 0 or the word ``auto``."""

    name = "FLOAT|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)) or value == "auto":
            return value if value == "auto" else float(value)
        text = str(value).strip().lower()
        if text == "auto":
            return "auto"
        try:
            number = float(text)
        except ValueError:
            self.fail(f"{value!r} is neither a number nor 'auto'", param, ctx)
        if not number >= 0 or number == float("inf"):
            self.fail(f"{value!r} must be a finite number >= 0 (or 'auto')", param, ctx)
        return number


_LAMBDA = _LambdaType()


def _network_options(dropout: float):
    """--hidden, --dropout (default ``dropout``), --batch-size, --lr and --weight-decay, in this order."""
    options = [
        click.option("--hidden", type=click.IntRange(min=1), default=256, show_default=True),
        click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=dropout, show_default=True),
        click.option("--batch-size", type=click.IntRange(min=2), default=64, show_default=True),
        click.option("--lr", type=click.FloatRange(0, min_open=True), default=1e-3, show_default=True),
        click.option("--weight-decay", type=click.FloatRange(0), default=1e-4, show_default=True),
    ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


# -- teacher ------------------------------------------------------------------------------


@click.group("teacher")
def teacher_command() -> None:
    """AV-SAL teacher: soft labels for the ILI graph."""


@teacher_command.command("train")
@click.argument("features", type=click.Path(dir_okay=False))
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True,
              help="Soft labels .npy (probabilities); STEM_logits.npy, STEM_names.txt, STEM_meta.json are written beside.")
@_epochs
@_network_options(dropout=0.2)
@click.option("--align-weight", type=click.FloatRange(0), default=1.0, show_default=True,
              help="Weight of the audio-visual semantic-alignment (Jensen-Shannon) term.")
@click.option("--temperature", type=click.FloatRange(0, min_open=True), default=1.0, show_default=True,
              help="Softmax temperature of the soft labels and of the alignment term.")
@click.option("--folds", type=click.IntRange(min=0), default=3, show_default=True,
              help="Out-of-fold soft labels from K teachers (0: one teacher scores its own training clips).")
@click.option("--rows", type=click.Choice(["train", "all"]), default="train", show_default=True,
              help="Clips to write soft labels for: the train split (what the graph must be learned on) or all.")
@_test_fraction
@_seed
@_device
@_threads
def teacher_train(features, output, epochs, hidden, dropout, batch_size, lr, weight_decay, align_weight,
                  temperature, folds, rows, test_fraction, seed, device, threads) -> None:
    """Train the teacher on FEATURES.npz and write soft labels of the train clips.

    Next step: ililab infer-graph STEM_logits.npy --names STEM_names.txt -o graph.json
    """
    import numpy as np

    from ililab_torch.data import load_features
    from ililab_torch.teacher import TeacherConfig, predict_logits, teacher_soft_labels, train_teacher

    _prepare_torch(device, threads)
    config = TeacherConfig(hidden, dropout, epochs, batch_size, lr, weight_decay, align_weight, temperature, folds,
                           seed).validate()
    if Path(output).suffix.lower() != ".npy":
        from ililab.errors import UsageError

        raise UsageError(f"--output must end in .npy, got {output!r}")
    data = load_features(features)
    train, _ = data.split_indices(test_fraction, seed)
    soft = teacher_soft_labels(data, train, config, device, _progress)
    if rows == "all":
        # Train-split rows keep their out-of-fold scores; the other clips are scored by a teacher on all train clips.
        model = train_teacher(data, train, config, device, _progress)
        logits = predict_logits(model, data, np.arange(data.n_clips), device)
        logits[train] = soft.logits
        from ililab_torch.teacher import SoftLabels, _softmax_blocks

        soft = SoftLabels(_softmax_blocks(logits, data.n_classes, temperature), logits, soft.names,
                          np.arange(data.n_clips), {**soft.meta, "rows": "all"})
    soft.meta["test_fraction"] = test_fraction
    paths = soft.save(output)
    if not _quiet():
        p = soft.probabilities
        c = data.n_classes
        y = data.label[soft.rows]
        acc_a = float((p[:, :c].argmax(1) == y).mean())
        acc_v = float((p[:, c:].argmax(1) == y).mean())
        click.echo(
            f"soft labels {p.shape[0]} x {p.shape[1]} ({'out-of-fold, ' if folds else ''}top-1 agreement with labels: "
            f"audio {acc_a:.3f}, visual {acc_v:.3f}) -> {paths['probabilities']}", err=True)
        click.echo(f"  logits: {paths['logits']}\n  names: {paths['names']}", err=True)
        if rows == "train":
            click.echo(f"next: ililab infer-graph {paths['logits']} --names {paths['names']} -o graph.json", err=True)
        else:
            click.echo("note: these rows include test clips; learn the graph from the train rows only "
                       "(teacher train --rows train)", err=True)


# -- student ------------------------------------------------------------------------------


@click.group("student")
def student_command() -> None:
    """LIR student: train with metric loss + lambda * LIR, evaluate cross-modal mAP."""


def _read_soft_labels(path: str, names_file: str | None, data, train_rows):
    import numpy as np

    from ililab.errors import DataError
    from ililab.io import load_matrix, read_names

    matrix = load_matrix(path)
    values = np.asarray(matrix.values, dtype=np.float64)
    if names_file is None:
        guess = Path(path).with_suffix("")
        candidate = Path(f"{guess}_names.txt")
        names = read_names(candidate) if candidate.is_file() else data.soft_label_names()
    else:
        names = read_names(names_file)
    if len(names) != values.shape[1]:
        raise DataError(f"{len(names)} soft-label names for {values.shape[1]} columns")
    expected = data.soft_label_names()
    if sorted(names) != sorted(expected):
        raise DataError(
            f"soft-label names do not match the feature file's classes (expected e.g. {expected[0]!r}, got "
            f"{names[0]!r}); use soft labels made from the same features"
        )
    order = [names.index(n) for n in expected]
    values = values[:, order]
    if values.shape[0] == data.n_clips and values.shape[0] != train_rows.size:
        values = values[train_rows]
    elif values.shape[0] != train_rows.size:
        raise DataError(
            f"{path!r} has {values.shape[0]} rows; expected one per train clip ({train_rows.size}) or per clip "
            f"({data.n_clips}) of the feature file"
        )
    return values, names


@student_command.command("train")
@click.argument("features", type=click.Path(dir_okay=False))
@click.option("--graph", "graph_file", type=click.Path(dir_okay=False),
              help="ILI graph (ililab.graph/v1 JSON). Without it: the metric-only baseline.")
@click.option("--soft-labels", "soft_file", type=click.Path(dir_okay=False),
              help="Teacher probabilities (.npy) of the train clips; needed with --graph.")
@click.option("--names", "names_file", type=click.Path(dir_okay=False),
              help="Soft-label column names (default: STEM_names.txt beside the soft labels).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True, help="Checkpoint .pt to write.")
@click.option("--lam", "--lambda", "lam", type=_LAMBDA, default="auto", show_default=True,
              help="Weight of the LIR term, or 'auto': lambda 2 (with --pairs auto, for each pair use) is tried on a "
                   "validation split of the train clips and kept only if it beats lambda 0 there by 1.5 standard "
                   "errors; otherwise LIR is off. Paper: 1.")
@click.option("--top-k", type=click.IntRange(min=0), default=3, show_default=True,
              help="Edges kept per node, strongest first (0: no limit).")
@click.option("--tau", type=click.FloatRange(0, 1, max_open=True), default=0.1, show_default=True,
              help="Soft-label threshold: probabilities below count as 0.")
@click.option("--same-class", type=click.Choice(["drop", "keep"]), default="drop", show_default=True,
              help="Edges between one class's audio and visual nodes.")
@click.option("--sign", type=click.Choice(["positive", "any"]), default="positive", show_default=True,
              help="'positive' drops edges of negative strength (competition, not co-occurrence).")
@click.option("--min-weight", type=click.FloatRange(0), help="Drop edges with |strength| below this.")
@click.option("--min-confidence", type=click.FloatRange(0, 1), help="Drop edges with bootstrap confidence below this.")
@click.option("--edge-weight", type=click.Choice(["binary", "weight", "confidence"]), default="binary",
              show_default=True, help="A_ij of a kept edge.")
@click.option("--cross-modal-only", is_flag=True, help="Use only edges joining different modalities.")
@click.option("--pairs", type=click.Choice(["auto", "edges", "classes"]), default="auto", show_default=True,
              help="'edges' (the paper's): kept edges as they are. 'classes': each kept edge between two classes (any "
                   "modalities) pulls that class pair across modalities, c (audio) - c' (visual) and c' (audio) - c "
                   "(visual). 'auto': chosen with --lam auto (with a numeric --lam: edges).")
@click.option("--lir-start", type=click.IntRange(min=1), default=1, show_default=True,
              help="First epoch with the LIR term on.")
@_epochs
@click.option("--embed-dim", type=click.IntRange(min=1), default=64, show_default=True)
@_network_options(dropout=0.1)
@click.option("--margin", type=click.FloatRange(0), default=0.2, show_default=True, help="Triplet margin (cosine distance).")
@_test_fraction
@_seed
@_device
@_threads
def student_train(features, graph_file, soft_file, names_file, output, lam, top_k, tau, same_class, sign, min_weight,
                  min_confidence, edge_weight, cross_modal_only, pairs, lir_start, epochs, embed_dim, hidden, dropout,
                  batch_size, lr, weight_decay, margin, test_fraction, seed, device, threads) -> None:
    """Train the student on FEATURES.npz and write a checkpoint (state_dict + JSON config)."""
    from ililab.api import load_graph
    from ililab.errors import UsageError
    from ililab_torch.adapters import EdgeFilter
    from ililab_torch.data import load_features
    from ililab_torch.student import StudentConfig, evaluate, save_student, train_student

    _prepare_torch(device, threads)
    config = StudentConfig(
        embed_dim=embed_dim, hidden=hidden, dropout=dropout, epochs=epochs, batch_size=batch_size, lr=lr,
        weight_decay=weight_decay, margin=margin, lam=lam, lir_start=lir_start, tau=tau, seed=seed,
        edges=EdgeFilter(top_k=top_k or None, min_weight=min_weight, min_confidence=min_confidence,
                         same_class=same_class, sign=sign, cross_modal_only=cross_modal_only, edge_weight=edge_weight,
                         pairs=pairs),
    ).validate()
    if graph_file and not soft_file:
        raise UsageError("--graph needs --soft-labels (the teacher's probabilities of the train clips)")
    data = load_features(features)
    train, test = data.split_indices(test_fraction, seed)
    graph = soft = None
    if graph_file:
        graph = load_graph(graph_file)
        soft, names = _read_soft_labels(soft_file, names_file, data, train)
        from ililab_torch.adapters import _check_names

        _check_names(graph, names)
    model = train_student(data, train, soft, graph, config, device, _progress)
    meta = {"features": str(features), "graph": graph_file, "soft_labels": soft_file, "test_fraction": test_fraction,
            "class_names": data.class_names}
    save_student(model, output, meta)
    if not _quiet():
        choice = model.lir_choice
        if choice is not None:
            from ililab_torch.auto import LirChoice

            fields = {k: v for k, v in choice.items() if k != "requested"}
            click.echo(LirChoice(**fields).summary(), err=True)
            click.echo(f"  choice cost {choice['cost_epochs']:.1f} epoch-equivalents (training: {epochs}); "
                       "settings and curve saved in the checkpoint ('lir_choice')", err=True)
        used = float(model.config["lam"])
        where = "" if test.size < 2 else "  test mAP " + "  ".join(
            f"{k} {v:.4f}" for k, v in evaluate(model, data, test, device).items())
        kind = (f"LIR, lambda {used:g}, pairs {model.config['edges']['pairs']}, {model.lir_edges} edges"
                if graph is not None and used > 0 else "metric only" + (", LIR off" if graph is not None else ""))
        if graph is not None and used > 0 and model.lir_edges == 0:
            kind += ": none survives the filters, so metric only"
        click.echo(f"student ({kind}) -> {output}{where}", err=True)


@student_command.command("evaluate")
@click.argument("features", type=click.Path(dir_okay=False))
@click.option("--checkpoint", "-c", type=click.Path(dir_okay=False), required=True, help="Student checkpoint .pt.")
@click.option("--split", "which", type=click.Choice(["test", "train", "all"]), default="test", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@_test_fraction
@_seed
@_device
def student_evaluate(features, checkpoint, which, as_json, test_fraction, seed, device) -> None:
    """Cross-modal retrieval mAP (audio->visual, visual->audio, mean) of a student on FEATURES.npz."""
    import numpy as np

    from ililab_torch.data import load_features
    from ililab_torch.student import evaluate, load_student

    model, config = load_student(checkpoint, device)
    data = load_features(features)
    train, test = data.split_indices(config.get("meta", {}).get("test_fraction", test_fraction), seed)
    rows = {"test": test, "train": train, "all": np.arange(data.n_clips)}[which]
    result = evaluate(model, data, rows, device)
    if as_json:
        click.echo(json.dumps({**result, "split": which, "clips": int(rows.size)}))
    else:
        click.echo(f"mAP audio->visual {result['audio_to_visual']:.4f}")
        click.echo(f"mAP visual->audio {result['visual_to_audio']:.4f}")
        click.echo(f"mAP mean          {result['mean']:.4f}")


# -- synthetic data -----------------------------------------------------------------------


@click.command("simulate-av")
@click.option("--output", "-o", type=click.Path(file_okay=False), required=True, help="Output directory.")
@click.option("--regime", type=click.Choice(["balanced", "skewed"]), default="balanced", show_default=True,
              help="Preset: 'balanced' (10 classes, events in audio, visual or both) or 'skewed' (28 classes, 6:1 "
                   "class imbalance, 7 events each visible in one modality only, noise 3.5). Options below override it.")
@click.option("--classes", type=click.IntRange(min=2), help="Classes (balanced 10, skewed 28).")
@click.option("--clips-per-class", type=click.IntRange(min=2), help="Clips per class (of the largest class; "
              "balanced 120, skewed 60).")
@click.option("--imbalance", type=click.FloatRange(1), help="Largest / smallest class size (balanced 1, skewed 6).")
@click.option("--event-modalities", type=click.Choice(["any", "one"]),
              help="Where an event shows: any (audio, visual or both) or one modality only (balanced any, skewed one).")
@click.option("--dim-audio", type=click.IntRange(min=1), default=128, show_default=True)
@click.option("--dim-visual", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--cooccurrences", type=click.IntRange(min=0),
              help="Planted pairs (balanced classes // 2, skewed 7; at most classes // 2).")
@click.option("--rate", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Share of a source class's clips that carry the partner event.")
@click.option("--mask", type=click.FloatRange(0, 1), default=1.0, show_default=True,
              help="Share of the modality's signal the co-occurring event takes.")
@click.option("--noise", type=click.FloatRange(0), help="Feature noise sd (balanced 3, skewed 3.5).")
@_seed
def simulate_av_command(output, regime, classes, clips_per_class, imbalance, event_modalities, dim_audio, dim_visual,
                        cooccurrences, rate, mask, noise, seed) -> None:
    """Synthetic AV features with planted co-occurring, unannotated events, and the truth graph."""
    from ililab_torch.synthetic import REGIMES, simulate_av

    given = {"n_classes": classes, "clips_per_class": clips_per_class, "imbalance": imbalance,
             "event_modalities": event_modalities, "n_cooccurrences": cooccurrences, "noise": noise}
    settings = {**REGIMES[regime], **{k: v for k, v in given.items() if v is not None}}
    if cooccurrences is None and "n_cooccurrences" in settings:  # a preset's count, capped for fewer classes
        settings["n_cooccurrences"] = min(settings["n_cooccurrences"], settings.get("n_classes", 10) // 2)
    sim = simulate_av(dim_audio=dim_audio, dim_visual=dim_visual, rate=rate, mask=mask, seed=seed, **settings)
    paths = sim.save(output)
    if not _quiet():
        click.echo(f"{sim.features.n_clips} clips, {sim.features.n_classes} classes (regime {regime}), "
                   f"{len(sim.cooccurrences)} planted co-occurrences -> {output}/", err=True)
        for co in sim.cooccurrences:
            click.echo(f"  {co.source} carries {co.partner} in {'+'.join(co.modalities)} (rate {co.rate})", err=True)
        for kind, path in paths.items():
            click.echo(f"  {kind}: {path}", err=True)
