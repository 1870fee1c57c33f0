"""Paired LIR - baseline differences per seed on simulate_av, for exploring regimes (the README's tuning figures).

Per seed: simulate_av, out-of-fold teacher, grasp graph on the train logits, a metric-only
student and, for each lambda, LIR students with the inferred graph, optionally with a random
graph of as many cross-modal edges (--random) and with the planted truth graph (--truth). The truth
graph now also lists each one-modality event's within-modality edge ``c (m) - c' (m)``: without ``--all``
only its cross-modal edges are used (as when these figures were measured), with ``--all`` those too.
Prints one JSON line per seed (differences of mean mAP against the baseline) and the means
with the number of positive seeds.

    python plugins/ililab-torch/benchmarks/lir_regimes.py --clips 60 --dimv 1024 --epochs 80 \\
        --dropout 0 --wd 0 --tepochs 60 --lams 1,4 --truth [--all]
"""

from __future__ import annotations

import argparse
import os

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402
from _bench import prepare, run_seeds  # noqa: E402
from ililab_torch import EdgeFilter, StudentConfig, kept_edges  # noqa: E402
from ililab_torch.synthetic import recovery  # noqa: E402

from ililab.graph import Edge  # noqa: E402


def random_graph(graph, count: int, seed: int):
    """``count`` random cross-modal edges between different classes."""
    rng = np.random.default_rng(seed + 1000)
    names = graph.names
    c = len(names) // 2
    edges: set[tuple[str, str]] = set()
    while len(edges) < count:
        i, j = int(rng.integers(c)), int(rng.integers(c))
        if i != j:
            edges.add((names[i], names[c + j]))
    return graph.with_edges([Edge(s, t, "undirected") for s, t in edges])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--clips", type=int, default=120)
    p.add_argument("--dimv", type=int, default=256)
    p.add_argument("--noise", type=float, default=3.0)
    p.add_argument("--mask", type=float, default=1.0)
    p.add_argument("--rate", type=float, default=0.5)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--tepochs", type=int, default=30)
    p.add_argument("--lams", default="4")
    p.add_argument("--topk", type=int, default=3)
    p.add_argument("--tau", type=float, default=0.1)
    p.add_argument("--all", action="store_true", help="within-modality edges too")
    p.add_argument("--random", action="store_true")
    p.add_argument("--truth", action="store_true")
    p.add_argument("--wd", type=float, default=1e-4)
    p.add_argument("--dropout", type=float, default=0.1)
    a = p.parse_args()

    def one_seed(seed: int) -> dict:
        s = prepare(seed, a.tepochs, clips_per_class=a.clips, dim_visual=a.dimv, noise=a.noise, mask=a.mask, rate=a.rate)
        g = s.graph
        rec = recovery(g, s.sim.true_graph, s.sim.cooccurrences)["planted_cross_modal"]
        st = {"epochs": a.epochs, "seed": seed, "tau": a.tau, "weight_decay": a.wd, "dropout": a.dropout,
              "edges": EdgeFilter(top_k=a.topk or None, cross_modal_only=not a.all)}
        unfiltered = {**st, "edges": EdgeFilter(top_k=None, cross_modal_only=not a.all, sign="any")}
        base = s.mean_map(None, StudentConfig(**st, lam=0.0))
        kept = kept_edges(g, StudentConfig(**st).edge_filter(), s.soft.probabilities)
        r = {"seed": seed, "base": base, "F1x": rec["f1"], "R": rec["recall"], "kept": len(kept)}
        for lam in [float(x) for x in a.lams.split(",")]:
            graphs = {"lir": (g, st)}
            if a.random:
                graphs["rnd"] = (random_graph(g, len(kept), seed), unfiltered)
            if a.truth:
                graphs["tru"] = (s.sim.true_graph, unfiltered)
            for key, (graph, cfg) in graphs.items():
                r[f"{key}{lam}"] = s.mean_map(graph, StudentConfig(**cfg, lam=lam)) - base
        return r

    def summarize(rows: list[dict]) -> None:
        keys = [k for k in rows[0] if k.startswith(("lir", "rnd", "tru"))]
        summary = " ".join(f"{k}: {np.mean([r[k] for r in rows]):+.4f} (+{sum(r[k] > 0 for r in rows)}/{len(rows)})"
                           for k in keys)
        print(f"base mean {np.mean([r['base'] for r in rows]):.4f} {summary}")

    run_seeds(a, one_seed, summarize)


if __name__ == "__main__":
    main()
