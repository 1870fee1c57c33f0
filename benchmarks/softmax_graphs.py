"""Graphs from soft labels as real classifiers emit them: ililab vs the logits oracle and the naive choices.

Each regime simulates soft labels (``ililab.simulate.simulate_soft_labels``: a latent linear SEM
over the classes, weights ±[0.5, 1.5], softmax per modality block or sigmoid per class) in the
form a real file holds them -- rounded, float16/32, saturated, imbalanced, chained, few classes,
multi-label -- and runs on the same data

* ``oracle``: ililab GRaSP on the logits themselves (``transform="none"``);
* ``ililab``: ``ililab.infer_graph`` on the probabilities with ``transform="auto"``;
* ``log-p grasp``: ililab GRaSP on log-probabilities (each 0 replaced by the smallest positive
  value of the file, what a careful naive user does);
* ``log-p cl-grasp``: causal-learn's GRaSP (``learner="cl-grasp"``, its defaults) on the same
  log-probabilities, for graphs of at most ``--cl-max-nodes`` nodes (it is slow).

and prints the mean, sd and minimum over seeds of the skeleton (adjacency) F1 against the planted
class graph, ililab's edge count, how often the inversion reported the normalisation
"identified" and the F1 of those runs, and what ``auto`` did. ``--regimes`` picks regimes by
name (default: all). ``--audioset`` instead times 2 x 527 classes at n = 20,000 (minutes).

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/softmax_graphs.py [--seeds 5] [--seed-offset 10] \\
        [--regimes "rounded4 2x10" "few 1x5"]
    OPENBLAS_NUM_THREADS=1 python benchmarks/softmax_graphs.py --audioset [--learner boss]
"""

from __future__ import annotations

from _common import pin_blas, print_table, timed_infer_graph

pin_blas()

import argparse  # noqa: E402
from collections import Counter  # noqa: E402

import numpy as np  # noqa: E402

from ililab.metrics import adjacency_scores  # noqa: E402
from ililab.simulate import simulate_soft_labels  # noqa: E402

WEIGHTS = (0.5, 1.5)
# name: (classes, modalities, rows, options for simulate_soft_labels, extra treatment)
REGIMES: dict[str, tuple[int, int, int, dict, str | None]] = {
    "clean 1x10": (10, 1, 5000, {}, None),
    "rounded4 1x10": (10, 1, 5000, {"decimals": 4}, None),
    "rounded4 2x10": (10, 2, 5000, {"decimals": 4}, None),
    "rounded3 2x10": (10, 2, 5000, {"decimals": 3}, None),
    "rows+-1e-3 2x10": (10, 2, 5000, {}, "row-noise"),
    "float16 2x10": (10, 2, 5000, {"dtype": "float16"}, None),
    "float32 s8 1x20": (20, 1, 5000, {"dtype": "float32", "logit_scale": 8.0, "standardize": False}, None),
    "float32 s8 2x20": (20, 2, 5000, {"dtype": "float32", "logit_scale": 8.0, "standardize": False}, None),
    "imbalance100 2x10": (10, 2, 5000, {"imbalance": 100.0}, None),
    "chain1.5 1x10": (10, 1, 5000, {"chain": 1.5}, None),
    "few 1x5": (5, 1, 2000, {}, None),
    "few 2x3": (3, 2, 2000, {}, None),
    "few 2x5": (5, 2, 2000, {}, None),
    "few 1x8": (8, 1, 2000, {}, None),
    "degree4 1x8": (8, 1, 5000, {"expected_degree": 4.0}, None),
    "degree4 2x8": (8, 2, 5000, {"expected_degree": 4.0}, None),
    "sigmoid s1 2x10": (10, 2, 5000, {"output": "sigmoid", "dtype": "float32", "logit_scale": 1.0}, None),
    "sigmoid s8 2x20": (20, 2, 5000, {"output": "sigmoid", "dtype": "float32", "logit_scale": 8.0}, None),
    "sigmoid s3 2x50": (50, 2, 5000, {"output": "sigmoid", "dtype": "float32", "logit_scale": 3.0}, None),
}
DEFAULT = list(REGIMES)


def _simulate(name: str, seed: int):
    classes, modalities, n, options, extra = REGIMES[name]
    options = {"weight_range": WEIGHTS, **options}
    degree = options.pop("expected_degree", 2.0)
    sim = simulate_soft_labels(classes, n, ("audio", "visual")[:modalities], degree, seed, **options)
    p = sim.probabilities
    if extra == "row-noise":  # rows off by up to 1e-3, as after a lossy export
        rng = np.random.default_rng(seed + 1000)
        p = p * (1 + rng.uniform(-1e-3, 1e-3, size=(p.shape[0], 1)))
    return sim, p


def _log_probabilities(p: np.ndarray) -> np.ndarray:
    x = p.astype(np.float64)
    smallest = float(x[x > 0].min())
    return np.log(np.maximum(x, smallest))


def run(args: argparse.Namespace) -> None:
    _ = timed_infer_graph(simulate_soft_labels(8, 1000, ("audio",), seed=0).probabilities)  # compile first
    rows = []
    for name in args.regimes:
        results: dict[str, list[float]] = {k: [] for k in ("oracle", "ililab", "logp", "cl")}
        edges, true_edges, identified_f1, what = [], [], [], Counter()
        for seed in range(args.seed_offset, args.seed_offset + args.seeds):
            sim, p = _simulate(name, seed)
            truth = sim.true_graph
            true_edges.append(len(truth.edges))
            logits = sim.logits.astype(np.float64)
            graph, _ = timed_infer_graph(logits, names=sim.names, transform="none", seed=seed)
            results["oracle"].append(adjacency_scores(graph, truth).f1)
            graph, _ = timed_infer_graph(p, names=sim.names, transform="auto", seed=seed)
            f1 = adjacency_scores(graph, truth).f1
            results["ililab"].append(f1)
            edges.append(len(graph.edges))
            softmax = graph.meta.get("data", {}).get("softmax", {})
            what[graph.meta["transform"]] += 1
            if softmax.get("identified"):
                identified_f1.append(f1)
            logp = _log_probabilities(p)
            graph, _ = timed_infer_graph(logp, names=sim.names, transform="none", seed=seed)
            results["logp"].append(adjacency_scores(graph, truth).f1)
            if len(sim.names) <= args.cl_max_nodes:
                graph, _ = timed_infer_graph(logp, names=sim.names, transform="none", learner="cl-grasp", seed=seed)
                results["cl"].append(adjacency_scores(graph, truth).f1)
        row = (name, results, np.mean(edges), np.mean(true_edges), identified_f1, what)
        rows.append(row)
        if args.progress:
            print(_format(row), flush=True)
    first, last = args.seed_offset, args.seed_offset + args.seeds - 1
    print(
        f"seeds={args.seeds} ({first}-{last}) learner=grasp (ililab, penalty 4) weights ±{WEIGHTS}; "
        "F1 = skeleton F1, mean ± sd (min)"
    )
    header = (
        f"{'regime':<20} {'oracle':>16} {'ililab auto':>16} {'log-p grasp':>16} {'log-p cl-grasp':>16} "
        f"{'edges':>6} {'true':>5} {'ident.':>6} {'F1|id':>6}  auto ran"
    )
    print_table(header, map(_format, rows))


def _cell(values: list[float]) -> str:
    if not values:
        return f"{'-':>16}"
    a = np.array(values)
    return f"{a.mean():>5.2f} ±{a.std():.2f} ({a.min():.2f})"


def _format(row) -> str:
    name, results, edges, true_edges, identified_f1, what = row
    ident = len(identified_f1) / max(len(results["ililab"]), 1)
    id_f1 = f"{np.mean(identified_f1):>6.2f}" if identified_f1 else f"{'-':>6}"
    ran = ", ".join(f"{k} {v}" for k, v in sorted(what.items()))
    return (
        f"{name:<20} {_cell(results['oracle']):>16} {_cell(results['ililab']):>16} {_cell(results['logp']):>16} "
        f"{_cell(results['cl']):>16} {edges:>6.1f} {true_edges:>5.1f} {ident:>6.0%} {id_f1}  {ran}"
    )


def audioset(args: argparse.Namespace) -> None:
    """2 x 527 float32 probabilities, n = 20,000: the learner on the logits vs ``auto`` on the probabilities.

    CPU time of this process (the machines are shared, so wall time says little), paired in one
    process, after a warm-up that compiles the kernels; peak resident memory of the process.
    """
    import resource
    import time
    import warnings

    import ililab

    sim = simulate_soft_labels(527, 20000, ("audio", "visual"), 2.0, args.seed, 1.5, dtype="float32")
    small = simulate_soft_labels(8, 1000, ("audio",), seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ililab.infer_graph(small.probabilities, names=small.names, learner=args.learner)
        start = time.process_time()
        oracle = ililab.infer_graph(sim.logits, names=sim.names, learner=args.learner, transform="none")
        t_oracle = time.process_time() - start
        start = time.process_time()
        graph = ililab.infer_graph(sim.probabilities, names=sim.names, learner=args.learner)
        t_auto = time.process_time() - start
    info = graph.meta.get("data", {}).get("softmax", {})
    print(f"2 x 527 classes, n = 20000, float32, learner={args.learner}, seed={args.seed} (CPU seconds of this process)")
    print(f"  logits (oracle):  {t_oracle:7.1f} s  F1 {adjacency_scores(oracle, sim.true_graph).f1:.3f}")
    print(
        f"  probabilities:    {t_auto:7.1f} s  F1 {adjacency_scores(graph, sim.true_graph).f1:.3f}  "
        f"ratio {t_auto / t_oracle:.2f}  transform={graph.meta['transform']} identified={info.get('identified')}"
    )
    print(f"  peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--seed-offset", type=int, default=0, help="first seed (held-out checks: e.g. 10)")
    parser.add_argument("--regimes", nargs="+", default=DEFAULT, choices=list(REGIMES), metavar="REGIME",
                        help=f"any of: {', '.join(repr(r) for r in REGIMES)}")
    parser.add_argument("--cl-max-nodes", type=int, default=20, help="run causal-learn only up to this many nodes")
    parser.add_argument("--progress", action="store_true", help="print each regime as it is done")
    parser.add_argument("--audioset", action="store_true", help="only the paired 2 x 527 timing (see audioset())")
    parser.add_argument("--learner", default="boss", help="learner of the --audioset timing")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --audioset data")
    args = parser.parse_args()
    if args.audioset:
        audioset(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
