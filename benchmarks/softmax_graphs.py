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
name (default: all). ``--audioset`` instead times 2 x 527 classes at n = 20,000 (minutes; GRaSP:
hours), paired over several search seeds (see ``audioset``); ``--output sigmoid`` makes the
2 x 527 outputs multi-label sigmoid columns (as AudioSet taggers emit them).

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/softmax_graphs.py [--seeds 5] [--seed-offset 10] \\
        [--regimes "rounded4 2x10" "few 1x5"]
    OPENBLAS_NUM_THREADS=1 python benchmarks/softmax_graphs.py --audioset [--learner boss] \\
        [--data-seeds 0 1] [--search-seeds 0 1 2] [--fixed-restarts 4] [--scores-out runs.jsonl] \\
        [--output sigmoid] [--logit-scale 3] [--fixed-only]
    python benchmarks/softmax_graphs.py --summarize runs.jsonl [more.jsonl]
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


def _one_run(values, sim, learner: str, transform: str, seed: int, restarts: int | None) -> dict:
    """One timed ``infer_graph`` call: CPU seconds, restarts, skeleton F1 and the restart scores."""
    import time

    import ililab

    start = time.process_time()
    graph = ililab.infer_graph(values, names=sim.names, learner=learner, transform=transform, seed=seed,
                               restarts=restarts, progress=False)
    elapsed = time.process_time() - start
    search = graph.meta.get("search", {})
    return {
        "cpu": elapsed, "runs": int(search.get("restarts", 0)), "f1": adjacency_scores(graph, sim.true_graph).f1,
        "restart_scores": list(graph.meta.get("restart_scores", ())), "margin": search.get("margin"),
    }


def audioset(args: argparse.Namespace) -> None:
    """2 x 527 float32 probabilities, n = 20,000: the learner on the logits vs ``auto`` on the probabilities.

    For every data seed, stopping rule (``--fixed-restarts`` random starts, then the default rule
    "until converged") and search seed, the same learner runs on the logits and on the
    probabilities in this one process, after a warm-up that compiles the kernels. Times are CPU
    seconds of this process (the machines are shared, so wall time says little; BLAS is pinned to
    one thread). The converged rule's restart count has a heavy tail that differs from seed to
    seed, so one pair says little: the table gives every paired ratio, and per data seed and rule
    the ratio of the medians and the range of the paired ratios. The inversion alone
    (``transform_dataset``, the probability path up to the learner) is timed once per data seed, so
    the seconds per restart of the probability runs leave it out. ``--scores-out`` appends each pair
    (with the restart scores) as a JSON line; ``--summarize`` prints the table of such files, e.g.
    of several processes that each ran some seeds. ``--output sigmoid`` and ``--logit-scale`` choose
    the outputs (multi-label columns, confidence scale); ``--fixed-only`` skips the converged rule
    (a check of the transform's F1 in minutes rather than hours).
    """
    import json
    import time
    import warnings

    import ililab
    from ililab.names import make_nodes
    from ililab.transforms import transform_dataset

    rules: list[int | None] = ([args.fixed_restarts] if args.fixed_restarts else []) + ([] if args.fixed_only else [None])
    small = simulate_soft_labels(8, 1000, ("audio",), seed=0)
    print(f"2 x {args.classes} classes, n = 20000, float32 {args.output} outputs at scale {args.logit_scale:g}, "
          f"learner={args.learner}", flush=True)
    records = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ililab.infer_graph(small.probabilities, names=small.names, learner=args.learner, progress=False)
        for data_seed in args.data_seeds:
            sim = simulate_soft_labels(args.classes, 20000, ("audio", "visual"), 2.0, data_seed, args.logit_scale,
                                       dtype="float32", output=args.output)
            start = time.process_time()
            transform_dataset(sim.probabilities, make_nodes(len(sim.names), sim.names), "auto", progress=False)
            t_inversion = time.process_time() - start
            print(f"data seed {data_seed}: inversion alone (transform_dataset) {t_inversion:.1f} s", flush=True)
            for restarts in rules:
                for seed in args.search_seeds:
                    record = {
                        "classes": args.classes, "learner": args.learner, "data_seed": data_seed,
                        "output": args.output, "logit_scale": args.logit_scale,
                        "restarts": restarts, "seed": seed, "inversion": t_inversion,
                        "logits": _one_run(sim.logits, sim, args.learner, "none", seed, restarts),
                        "probabilities": _one_run(sim.probabilities, sim, args.learner, "auto", seed, restarts),
                    }
                    records.append(record)
                    print(_audioset_row(record), flush=True)
                    if args.scores_out:  # the restart scores too, to replay other stopping rules afterwards
                        with open(args.scores_out, "a", encoding="utf-8") as out:
                            out.write(json.dumps(record) + "\n")
    print()
    _audioset_table(records)
    import resource

    print(f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")


def _audioset_row(r: dict) -> str:
    a, b = r["logits"], r["probabilities"]
    rule = "converged" if r["restarts"] is None else f"fixed {r['restarts']}"
    return (
        f"{r['data_seed']:>4} {rule:>9} {r['seed']:>4} | {a['cpu']:>9.1f} {a['runs']:>4} {a['cpu'] / max(a['runs'], 1):>6.1f} "
        f"{a['f1']:>5.3f} | {b['cpu']:>9.1f} {b['runs']:>4} {(b['cpu'] - r['inversion']) / max(b['runs'], 1):>6.1f} "
        f"{b['f1']:>5.3f} | {b['cpu'] / a['cpu']:>5.2f}"
    )


def _audioset_table(records: list[dict]) -> None:
    """Every pair, then per data seed and stopping rule the medians, their ratio and the paired ratios' range."""
    records = sorted(records, key=lambda r: (r["data_seed"], r["restarts"] is None, r["restarts"] or 0, r["seed"]))
    first = records[0] if records else {"classes": "?", "learner": "?"}
    # records written before --output and --logit-scale existed are softmax outputs at scale 1.5
    print(f"2 x {first['classes']} classes, n = 20000, float32 {first.get('output', 'softmax')} outputs at scale "
          f"{first.get('logit_scale', 1.5):g}, learner={first['learner']}; CPU seconds of one process, one BLAS thread")
    header = (
        f"{'data':>4} {'restarts':>9} {'seed':>4} | {'logits s':>9} {'runs':>4} {'s/run':>6} {'F1':>5} | "
        f"{'probs s':>9} {'runs':>4} {'s/run':>6} {'F1':>5} | {'ratio':>5}"
    )
    print_table(header, map(_audioset_row, records))
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        groups.setdefault((r["data_seed"], r["restarts"]), []).append(r)
    for (data_seed, restarts), group in groups.items():
        logits = np.array([r["logits"]["cpu"] for r in group])
        probs = np.array([r["probabilities"]["cpu"] for r in group])
        ratios = probs / logits
        rule = "converged" if restarts is None else f"fixed {restarts}"
        print(
            f"data seed {data_seed}, {rule:>9}: medians {np.median(logits):6.1f} s (logits) {np.median(probs):6.1f} s "
            f"(probabilities), ratio of medians {np.median(probs) / np.median(logits):.2f}; paired ratios "
            f"{ratios.min():.2f}-{ratios.max():.2f} over {len(group)} search seeds"
        )
    print("runs: restarts (searches); s/run: CPU seconds per restart (probabilities: without the inversion, "
          "timed apart); ratio: probabilities / logits")


def summarize(paths: list[str]) -> None:
    """The ``--audioset`` table of the JSON lines that ``--scores-out`` wrote (one or more files)."""
    import json

    records = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            records += [json.loads(line) for line in handle if line.strip()]
    def kind(r: dict) -> tuple:
        return r["learner"], r["classes"], r.get("output", "softmax"), r.get("logit_scale", 1.5)

    for i, key in enumerate(sorted({kind(r) for r in records})):  # one table per learner, size and output
        if i:
            print()
        _audioset_table([r for r in records if kind(r) == key])


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
    parser.add_argument("--data-seeds", type=int, nargs="+", default=[0], help="seeds of the --audioset data")
    parser.add_argument("--search-seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="learner seeds of the --audioset timing (each: a run on the logits and one on the probabilities)")
    parser.add_argument("--classes", type=int, default=527, help="classes per block of the --audioset timing (527)")
    parser.add_argument("--fixed-only", action="store_true",
                        help="--audioset: only the --fixed-restarts runs, not the converged rule (F1 checks in minutes)")
    parser.add_argument("--output", choices=("softmax", "sigmoid"), default="softmax",
                        help="--audioset: softmax blocks or multi-label sigmoid columns (AudioSet taggers' outputs)")
    parser.add_argument("--logit-scale", type=float, default=1.5,
                        help="--audioset: confidence scale s of the outputs, p = softmax(s z) or sigmoid(s z)")
    parser.add_argument("--scores-out", help="--audioset: append each pair (with restart scores) to this JSON-lines file")
    parser.add_argument("--summarize", nargs="+", metavar="JSONL", help="only print the --audioset table of these files")
    parser.add_argument("--fixed-restarts", type=int, default=4,
                        help="--audioset also times this many fixed restarts (the old default; 0: only the converged rule)")
    args = parser.parse_args()
    if args.fixed_only and not args.fixed_restarts:
        parser.error("--fixed-only needs --fixed-restarts N with N >= 1 (else nothing runs)")
    if args.summarize:
        summarize(args.summarize)
    elif args.audioset:
        audioset(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
