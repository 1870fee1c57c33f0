"""Which plain transform of soft labels recovers the latent class graph best?

Simulates soft labels (softmax per modality block of a latent linear SEM, see
``ililab.simulate.simulate_soft_labels``), runs one learner on each transform
of the probabilities and on the logits themselves (the oracle), and prints the
adjacency precision / recall / F1 against the planted class graph and the edge
counts, averaged over seeds. This table chose ``transforms.AUTO_CHOICE``.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/soft_label_transforms.py [--learner grasp] [--seeds 5]
"""

from __future__ import annotations

from _common import pin_blas, print_table, timed_infer_graph

pin_blas()

import argparse  # noqa: E402

import numpy as np  # noqa: E402

from ililab.metrics import adjacency_scores  # noqa: E402
from ililab.simulate import simulate_soft_labels  # noqa: E402


def run(args: argparse.Namespace) -> None:
    transforms = ["logit", "alr", "clr"]
    rows = []
    for classes in args.classes:
        for n in args.samples:
            results: dict[str, list[tuple[float, float, float, int, float]]] = {}
            for seed in range(args.seeds):
                sim = simulate_soft_labels(classes, n, seed=seed, logit_scale=args.logit_scale)
                truth = sim.true_graph
                inputs = [("logits (oracle)", sim.logits, "none")]
                inputs += [(t, sim.probabilities, t) for t in transforms]
                for label, values, transform in inputs:
                    options = {"names": sim.names, "learner": args.learner, "transform": transform, "seed": seed}
                    graph, elapsed = timed_infer_graph(values, **options)
                    score = adjacency_scores(graph, truth)
                    results.setdefault(label, []).append(
                        (score.precision, score.recall, score.f1, len(graph.edges), elapsed, len(truth.edges))
                    )
            for label, values in results.items():
                arr = np.array(values)
                prec, rec, f1, edges, elapsed, true_edges = arr.mean(axis=0)
                rows.append((classes, n, label, prec, rec, f1, edges, elapsed, arr[:, 2].std(), true_edges))
    print(f"learner={args.learner} seeds={args.seeds} logit_scale={args.logit_scale} (means over seeds)")
    header = (
        f"{'C':>4} {'n':>6}  {'input':<16} {'precision':>9} {'recall':>7} {'F1':>6} {'F1 sd':>6} "
        f"{'edges':>6} {'true':>5} {'time s':>7}"
    )
    print_table(
        header,
        (
            f"{classes:>4} {n:>6}  {label:<16} {prec:>9.2f} {rec:>7.2f} {f1:>6.2f} {f1_sd:>6.2f} "
            f"{edges:>6.1f} {true_edges:>5.1f} {elapsed:>7.2f}"
            for classes, n, label, prec, rec, f1, edges, elapsed, f1_sd, true_edges in rows
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learner", default="grasp")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--classes", type=int, nargs="+", default=[10, 28])
    parser.add_argument("--samples", type=int, nargs="+", default=[5000])
    parser.add_argument("--logit-scale", type=float, default=1.5)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
