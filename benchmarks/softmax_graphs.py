"""Graphs from probabilities: logits (oracle) vs log-probabilities vs CLR vs undoing the softmax.

Simulates soft labels (``ililab.simulate.simulate_soft_labels``: a latent linear SEM over the
classes, softmax per modality block), then runs the same learner on the same data given as

* the logits themselves (oracle, ``transform="none"``),
* log-probabilities ``log p`` (``transform="none"`` on ``log p``),
* the centred log-ratio (``transform="clr"``),
* the softmax inversion (``transform="softmax"``, :mod:`ililab.softmax`),

and prints the adjacency F1 against the planted class graph (mean, sd and minimum over
seeds), the edge counts, the wall time of ``ililab.infer_graph`` (warm: Numba kernels are
compiled before timing) and, for the inversion, how often it reported the normalisation
identified.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/softmax_graphs.py [--classes 10 28 56] \\
        [--samples 5000 20000] [--logit-scale 1.5 3] [--seeds 10] [--modalities audio]
"""

from __future__ import annotations

from _common import pin_blas, print_table, timed_infer_graph

pin_blas()

import argparse  # noqa: E402

import numpy as np  # noqa: E402

from ililab.metrics import adjacency_scores  # noqa: E402
from ililab.simulate import simulate_soft_labels  # noqa: E402
from ililab.softmax import probability_floor  # noqa: E402

INPUTS = ("logits (oracle)", "log-probabilities", "clr", "softmax")


def _inputs(sim):
    p = sim.probabilities
    floor = probability_floor(p.dtype)
    logp = np.log(np.clip(p.astype(np.float64), floor, None))
    return [
        ("logits (oracle)", sim.logits, "none"),
        ("log-probabilities", logp, "none"),
        ("clr", p, "clr"),
        ("softmax", p, "softmax"),
    ]


def _warm_up(learner: str) -> None:
    sim = simulate_soft_labels(8, 1000, modalities=("audio",), seed=0)
    timed_infer_graph(sim.probabilities, names=sim.names, learner=learner, transform="softmax")


def run(args: argparse.Namespace) -> None:
    modalities = tuple(m.strip() for m in args.modalities.split(",") if m.strip())
    _warm_up(args.learner)
    rows = []
    for classes in args.classes:
        for n in args.samples:
            for scale in args.logit_scale:
                results: dict[str, list[tuple[float, int, float, int, float]]] = {k: [] for k in INPUTS}
                for seed in range(args.seeds):
                    sim = simulate_soft_labels(
                        classes, n, modalities=modalities, expected_degree=args.degree, seed=seed,
                        logit_scale=scale, dtype=np.float32 if args.float32 else np.float64,
                    )
                    truth = sim.true_graph
                    for label, values, transform in _inputs(sim):
                        graph, elapsed = timed_infer_graph(
                            values, repeat=args.repeat, names=sim.names, learner=args.learner, transform=transform, seed=seed
                        )
                        identified = graph.meta.get("data", {}).get("softmax", {}).get("identified", True)
                        score = adjacency_scores(graph, truth)
                        results[label].append((score.f1, len(graph.edges), elapsed, len(truth.edges), float(identified)))
                for label in INPUTS:
                    arr = np.array(results[label])
                    rows.append((classes, n, scale, label, arr[:, 0].mean(), arr[:, 0].std(), arr[:, 0].min(),
                                 arr[:, 1].mean(), arr[:, 3].mean(), arr[:, 2].mean(), arr[:, 4].mean()))
                    if args.progress:
                        print(_format(rows[-1]), flush=True)
    print(
        f"learner={args.learner} seeds={args.seeds} modalities={','.join(modalities)} degree={args.degree} "
        f"dtype={'float32' if args.float32 else 'float64'} (means over seeds; time = infer_graph wall time, warm)"
    )
    header = (
        f"{'C':>4} {'n':>6} {'scale':>5}  {'input':<18} {'F1':>5} {'sd':>5} {'min':>5} "
        f"{'edges':>6} {'true':>5} {'time s':>7} {'ident.':>6}"
    )
    print_table(header, map(_format, rows))


def _format(row) -> str:
    classes, n, scale, label, f1, sd, low, edges, true_edges, elapsed, ident = row
    ident_text = f"{ident:>6.0%}" if label == "softmax" else f"{'':>6}"
    return (
        f"{classes:>4} {n:>6} {scale:>5.1f}  {label:<18} {f1:>5.2f} {sd:>5.2f} {low:>5.2f} "
        f"{edges:>6.1f} {true_edges:>5.1f} {elapsed:>7.3f} {ident_text}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learner", default="grasp")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--classes", type=int, nargs="+", default=[10, 28, 56])
    parser.add_argument("--samples", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--logit-scale", type=float, nargs="+", default=[1.5, 3.0])
    parser.add_argument("--modalities", default="audio", help="comma-separated; one softmax block per modality")
    parser.add_argument("--degree", type=float, default=2.0, help="expected degree of the planted class graph")
    parser.add_argument("--float32", action="store_true", help="probabilities and logits in float32")
    parser.add_argument("--progress", action="store_true", help="print each row as it is done")
    parser.add_argument("--repeat", type=int, default=1, help="time each run as the fastest of this many")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
