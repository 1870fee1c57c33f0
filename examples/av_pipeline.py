"""End to end: synthetic AV features -> AV-SAL teacher -> ILI graph -> student with and without LIR -> mAP.

For each seed: a synthetic benchmark with planted co-occurring, unannotated events
(ililab_torch.simulate_av), out-of-fold teacher soft labels, a graph learned from the
teacher's logits of the train clips, then students trained with the same seed: metric loss
only, metric loss + lambda * LIR with the inferred graph, the same with an empty graph (the
ablation: must equal the baseline bit for bit), and, with --oracle, LIR with the saved truth
graph. Prints how well the graph recovers the planted co-occurrences, a mAP table (mean +- sd
over seeds) and the paired differences LIR - baseline per seed.

Settings: none tuned. The graph is GRaSP on the teacher's logits with default settings, and the
students use the library defaults: lambda "auto" and pairs "auto" are chosen per seed on a
validation split of that seed's training clips (paired validation mAP gain over lambda 0, LIR off
when nothing beats 0; ililab_torch.auto). Each seed's choice is printed, and the CPU time of the whole
LIR student (choice + training) over the metric-only student's (the target: at most 2).

Regimes (--regime): "small" (default) is AVE-like small data where the student overfits
(10 classes, 60 clips per class, 1024-d visual features, no dropout or weight decay, 80 epochs).
"skewed" differs in kind: 2 x 28 classes with a 6:1 class imbalance, 7 co-occurring events
each visible in one modality only, noisier features and a teacher trained half as long
(simulate_av's "skewed" regime, the same student). "ample" is the earlier benchmark (120 clips
per class, 256-d visual, dropout 0.1, weight decay 1e-4, 30 epochs).
Seeds: 0-4 were used to design the auto choice and 300-304 were its first held-out check; 400-405 were
used to design the next two (later branches, class-clustered standard error), held out on 600-604 and
700-704, the default also on 900-904; 410-419 designed a two-fold plan, held out on 900-904 and not
made the default (docs/plugins.md). Use other seeds for new choices.

    python examples/av_pipeline.py                      # 5 seeds, a few minutes on 2 CPU cores
    python examples/av_pipeline.py --regime skewed      # the second regime
    python examples/av_pipeline.py --first-seed 300     # held-out seeds
    python examples/av_pipeline.py --lam 1 --pairs edges   # the paper's settings instead of auto
    python examples/av_pipeline.py --paper              # auto and the paper's settings side by side
    python examples/av_pipeline.py --lam 3 --pairs classes --forbid-within-modality   # the earlier tuned ones
    python examples/av_pipeline.py --oracle             # also LIR with the planted truth graph
    python examples/av_pipeline.py --quick              # tiny sizes, seconds (used by the tests)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from ililab_torch import (  # noqa: E402
    EdgeFilter,
    StudentConfig,
    TeacherConfig,
    evaluate,
    kept_edges,
    simulate_av,
    teacher_soft_labels,
    train_student,
)
from ililab_torch.synthetic import REGIMES as SIM_REGIMES  # noqa: E402
from ililab_torch.synthetic import recovery  # noqa: E402

import ililab  # noqa: E402
from ililab.graph import DependencyGraph  # noqa: E402
from ililab.knowledge import Knowledge  # noqa: E402

#: Benchmark sizes and student regularisation per regime.
REGIMES = {
    "small": {"clips_per_class": 60, "dim_visual": 1024, "epochs": 80, "teacher_epochs": 60, "dropout": 0.0,
              "weight_decay": 0.0},
    "skewed": {**SIM_REGIMES["skewed"], "dim_visual": 1024, "epochs": 80, "teacher_epochs": 30, "dropout": 0.0,
               "weight_decay": 0.0},
    "ample": {"clips_per_class": 120, "dim_visual": 256, "epochs": 30, "teacher_epochs": 30, "dropout": 0.1,
              "weight_decay": 1e-4},
    "quick": {"clips_per_class": 40, "dim_visual": 64, "epochs": 3, "teacher_epochs": 8, "dropout": 0.0,
              "weight_decay": 0.0},
}


def pick_learner(name: str) -> str:
    """``name`` if it loads, else ``ges``."""
    from ililab.learners import get

    try:
        get(name)
        return name
    except Exception as error:  # an unknown or not-yet-built learner
        print(f"note: learner {name!r} unavailable ({type(error).__name__}); using 'ges'", file=sys.stderr)
        return "ges"


def run_seed(seed: int, args: argparse.Namespace) -> dict:
    r = REGIMES[args.regime]
    simulate = {k: v for k, v in r.items() if k not in ("epochs", "teacher_epochs", "dropout", "weight_decay")}
    simulate.setdefault("n_classes", args.classes)
    sim = simulate_av(**simulate, seed=seed)
    data = sim.features
    train, test = data.split_indices()
    soft = teacher_soft_labels(data, train, TeacherConfig(epochs=r["teacher_epochs"], seed=seed))
    knowledge = None
    if args.forbid_within_modality:
        nodes = DependencyGraph(soft.names, []).nodes
        knowledge = Knowledge.from_modalities(nodes, forbid_within_modality=True)
    graph = ililab.infer_graph(soft.logits, names=soft.names, learner=args.learner, seed=seed, knowledge=knowledge)
    edges = EdgeFilter(top_k=args.top_k, cross_modal_only=args.cross_modal_only, pairs=args.pairs)
    student = {"epochs": r["epochs"], "dropout": r["dropout"], "weight_decay": r["weight_decay"], "seed": seed,
               "tau": args.tau, "edges": edges}
    cpu = time.process_time()
    base = train_student(data, train, None, None, StudentConfig(**student, lam=0.0))
    cpu_base = time.process_time() - cpu
    cpu = time.process_time()
    lir = train_student(data, train, soft.probabilities, graph, StudentConfig(**student, lam=args.lam))
    cpu_lir = time.process_time() - cpu
    # the edges LIR used (with the pair use chosen or given)
    filt = StudentConfig(**student).edge_filter(lir.config["edges"]["pairs"])
    kept = DependencyGraph(graph.nodes, [e for e, _ in kept_edges(graph, filt, soft.probabilities)]
                           if lir.config["lam"] > 0 else [])
    out = {
        "graph_edges": len(graph.edges),
        "cross_modal_edges": len(graph.cross_modal_edges()),
        "kept_edges": len(kept.edges),
        "recovery": recovery(graph, sim.true_graph, sim.cooccurrences),
        "kept_recovery": recovery(kept, sim.true_graph, sim.cooccurrences),
    }
    choice = lir.lir_choice
    out["choice"] = (f"lambda {lir.config['lam']:g}, pairs {lir.config['edges']['pairs']}" if lir.config["lam"] > 0
                     else "LIR off") + ("" if choice is None else " (auto)")
    # the whole LIR student (choice + final training) over the metric-only student's time: at most 2 is the target
    out["choice_time"] = None if choice is None else cpu_lir / cpu_base
    ablation = train_student(data, train, soft.probabilities, graph.with_edges([]), StudentConfig(**student, lam=args.lam))
    out["baseline"] = evaluate(base, data, test)
    out["lir"] = evaluate(lir, data, test)
    out["ablation"] = evaluate(ablation, data, test)
    out["ablation_identical"] = all(
        torch.equal(p, q) for p, q in zip(base.state_dict().values(), ablation.state_dict().values())
    )
    if args.paper:
        # The paper's settings on the same graph: lambda 1, kept edges as they are.
        paper = train_student(data, train, soft.probabilities, graph, StudentConfig(**student, lam=1.0).with_pairs("edges"))
        out["paper"] = evaluate(paper, data, test)
    if args.oracle:
        # The planted cross-modal edges themselves (same-class edges are dropped by the filter; the truth
        # graph's within-modality confusion edges by cross_modal_only): how LIR does when the graph is right.
        oracle_edges = replace(edges, top_k=None, pairs="edges", cross_modal_only=True)
        oracle = train_student(data, train, soft.probabilities, sim.true_graph,
                               StudentConfig(**{**student, "edges": oracle_edges}, lam=args.lam))
        out["oracle"] = evaluate(oracle, data, test)
    return out


def lam_value(text: str) -> float | str:
    """``auto`` or a number >= 0 (for ``--lam``)."""
    if text == "auto":
        return text
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"lambda must be >= 0 or 'auto', got {text!r}")
    return value


def fmt(values: list[float]) -> str:
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return f"{np.mean(values):.4f} ± {sd:.4f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="Number of seeds (first-seed, first-seed + 1, ...).")
    parser.add_argument("--first-seed", type=int, default=0, help="Seeds are first-seed, first-seed + 1, ...")
    parser.add_argument("--regime", choices=("small", "skewed", "ample"), default="small",
                        help="Benchmark size and student regularisation (see the module docstring).")
    parser.add_argument("--learner", default="grasp", help="ililab learner for the ILI graph (falls back to ges).")
    parser.add_argument("--lam", type=lam_value, default="auto",
                        help="LIR weight lambda, or 'auto' (default): chosen by validation on the train clips.")
    parser.add_argument("--top-k", type=int, default=3, help="Edges kept per node for LIR.")
    parser.add_argument("--tau", type=float, default=0.1, help="Soft-label threshold of LIR.")
    parser.add_argument("--cross-modal-only", action="store_true",
                        help="LIR uses cross-modal edges only (default: within-modality edges too).")
    parser.add_argument("--forbid-within-modality", action=argparse.BooleanOptionalAction, default=False,
                        help="Infer the graph with edges between two classes of one modality forbidden.")
    parser.add_argument("--pairs", choices=("auto", "edges", "classes"), default="auto",
                        help="How LIR uses a kept edge: as it is, as a class pair pulled across modalities, or "
                             "auto (default): chosen with --lam auto (with a numeric --lam: edges).")
    parser.add_argument("--oracle", action="store_true", help="Also train LIR with the planted truth graph.")
    parser.add_argument("--paper", action="store_true",
                        help="Also train LIR with the paper's settings (lambda 1, pairs edges) on the same graph.")
    parser.add_argument("--quick", action="store_true", help="Tiny sizes and 2 seeds: a smoke test in seconds.")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    args.classes = 10
    if args.quick:
        args.regime, args.classes, args.seeds = "quick", 6, min(args.seeds, 2)
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    args.learner = pick_learner(args.learner)
    started, cpu_started = time.perf_counter(), time.process_time()
    results = []
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    for seed in seeds:
        r = run_seed(seed, args)
        results.append(r)
        rec = r["recovery"]
        print(
            f"seed {seed}: graph ({args.learner}) {r['graph_edges']} edges, {r['cross_modal_edges']} cross-modal; "
            f"cross-modal adjacency F1 vs truth {rec['cross_modal']['f1']:.2f} "
            f"(planted only: P {rec['planted_cross_modal']['precision']:.2f} R {rec['planted_cross_modal']['recall']:.2f}"
            f" F1 {rec['planted_cross_modal']['f1']:.2f}); planted edges within a modality too: P "
            f"{rec['planted']['precision']:.2f} R {rec['planted']['recall']:.2f} F1 {rec['planted']['f1']:.2f}; "
            f"planted class pairs linked: R {rec['class_pairs']['recall']:.2f} P {rec['class_pairs']['precision']:.2f}; "
            f"LIR uses {r['kept_edges']} edges: on planted class pairs P {r['kept_recovery']['class_pairs']['precision']:.2f}"
            f" R {r['kept_recovery']['class_pairs']['recall']:.2f}, planted cross-modal F1 "
            f"{r['kept_recovery']['planted_cross_modal']['f1']:.2f}; LIR: {r['choice']}"
            + ("" if r["choice_time"] is None else f", time {r['choice_time']:.2f}x the metric-only student's"),
            flush=True,
        )
    rows = [("baseline", "metric only"), ("lir", "metric + LIR"), ("ablation", "LIR, empty graph")]
    if args.paper:
        rows.append(("paper", "LIR, paper (1, edges)"))
    if args.oracle:
        rows.append(("oracle", "LIR, truth graph"))
    print()
    print(f"cross-modal retrieval mAP on the test split, mean ± sd over {args.seeds} seeds {seeds[0]}-{seeds[-1]} "
          f"(regime {args.regime}, learner {args.learner}, lambda {args.lam}, top-k {args.top_k}, tau {args.tau}, "
          f"{'cross-modal' if args.cross_modal_only else 'all'} edges, pairs {args.pairs}, within-modality edges "
          f"{'forbidden' if args.forbid_within_modality else 'allowed'} in the graph)")
    header = f"{'student':<22}{'audio->visual':>18}{'visual->audio':>18}{'mean':>18}"
    print(header)
    print("-" * len(header))
    for key, label in rows:
        cells = [fmt([r[key][k] for r in results]) for k in ("audio_to_visual", "visual_to_audio", "mean")]
        print(f"{label:<22}" + "".join(f"{c:>18}" for c in cells))
    print()
    for key, label in rows[1:2] + rows[3:]:
        gains = [r[key]["mean"] - r["baseline"]["mean"] for r in results]
        print(f"{label} - metric only (mean mAP), paired: {fmt(gains)}, positive on {sum(g > 0 for g in gains)} "
              f"of {len(gains)} seeds, worst {min(gains):+.4f}; per seed: {' '.join(f'{g:+.4f}' for g in gains)}")
    f1 = [r["recovery"]["planted_cross_modal"]["f1"] for r in results]
    print(f"planted cross-modal edges recovered (adjacency F1 vs truth, same-class edges excluded): {fmt(f1)}")
    f1 = [r["recovery"]["planted"]["f1"] for r in results]
    print(f"  all planted edges (cross-modal and the within-modality confusion c (m) - c' (m)): F1 {fmt(f1)}; "
          f"planted class pairs linked by any edge: recall "
          f"{fmt([r['recovery']['class_pairs']['recall'] for r in results])}, precision "
          f"{fmt([r['recovery']['class_pairs']['precision'] for r in results])}")
    used = [r["kept_recovery"]["planted_cross_modal"]["f1"] for r in results]
    print(f"  the same F1 for the edges LIR uses (after top-k/sign filters and the pair use; none when LIR is off): "
          f"{fmt(used)}")
    times = [r["choice_time"] for r in results if r["choice_time"] is not None]
    if times:
        print(f"lambda auto chose: {'; '.join(r['choice'] for r in results)}; CPU time of the LIR student (choice + "
              f"training) / the metric-only student's: {np.mean(times):.2f} (max {max(times):.2f})")
    print(f"empty-graph ablation identical to baseline: {all(r['ablation_identical'] for r in results)}")
    print(f"total time {time.perf_counter() - started:.1f} s wall, {time.process_time() - cpu_started:.1f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
