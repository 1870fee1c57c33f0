"""Time the soft-label sweep's slow configurations one by one, with ``rugged`` on or off, and causal-learn.

``benchmarks/softmax_sweep.py`` stops a configuration after ``--config-seconds`` and counts it as
timed out. This script re-draws configurations of one sweep seed by index (the i-th draw of
``softmax_sweep.draw`` with ``np.random.default_rng(seed)``, as the sweep prints them), simulates
each as the sweep does and runs ``ililab.infer_graph`` on it under a time limit, printing the
seconds (wall and CPU of this process), the adjacency F1 against the planted graph, the searches
run and what stopped them. ``--rugged 0`` runs the search as it was before rule 4 of the stopping
rule (until ``max_restarts``; the searches are otherwise the same). ``--causal-learn`` also runs
causal-learn's GRaSP once (depth 3, ``lambda_value = 2``, one random start: its only mode) on the
same transformed data (the rows ililab's learner sees, or rows with the same covariance), in this
process, under the same limit: the paired ratio is ililab's seconds over causal-learn's.

Usage::

    python benchmarks/sweep_slow_configs.py --seed 11 --configs 65,149,207 --limit 900
    python benchmarks/sweep_slow_configs.py --seed 11 --configs 207 --rugged 0 --causal-learn
"""

from __future__ import annotations

from _common import pin_blas

pin_blas()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from softmax_sweep import draw, simulate  # noqa: E402

import ililab  # noqa: E402
from ililab.api import prepare_dataset  # noqa: E402
from ililab.metrics import adjacency_scores  # noqa: E402
from ililab.simulate import simulate_soft_labels  # noqa: E402


class _Over(BaseException):
    """Raised by the alarm when a run exceeds ``--limit``."""


def _alarm(signum, frame):
    raise _Over


def _timed(limit: float, call):
    """``(result or None, wall seconds, CPU seconds)`` of ``call()`` stopped after ``limit`` seconds."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        result = call()
    except _Over:
        result = None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _causallearn(cfg: dict, sim, limit: float) -> tuple[str, float | None]:
    from causallearn.search.PermutationBased.GRaSP import grasp

    from ililab.cpdag import from_causallearn
    from ililab.graph import DependencyGraph, Edge

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = prepare_dataset(sim.probabilities, names=sim.names, transform=cfg["transform"], progress=False)
    x = data.surrogate_data()
    names = list(data.names)
    random.seed(0)
    np.random.seed(0)

    def run():
        with contextlib.redirect_stdout(io.StringIO()):
            return grasp(x, score_func="local_score_BIC_from_cov", depth=3, parameters={"lambda_value": 2}, verbose=False)

    g, wall, cpu = _timed(limit, run)
    if g is None:
        return f"causal-learn: stopped after {cpu:.0f} s CPU (limit {limit:.0f} s)", None
    directed, undirected = from_causallearn(g.graph)
    edges = [Edge(names[i], names[j], "directed") for i, j in zip(*np.nonzero(directed))]
    edges += [Edge(names[i], names[j], "undirected") for i, j in zip(*np.nonzero(np.triu(undirected)))]
    f1 = adjacency_scores(DependencyGraph(names, edges), sim.true_graph).f1
    return f"causal-learn (one search): {wall:.1f} s wall, {cpu:.1f} s CPU, {len(edges)} edges, F1 {f1:.3f}", cpu


def _infer(sim, cfg: dict, params: dict):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ililab.infer_graph(
            sim.probabilities, names=sim.names, transform=cfg["transform"], seed=0, progress=False, **params
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11, help="the sweep's --seed")
    parser.add_argument("--configs", default="65,149,207", help="comma-separated indices of the sweep's draws")
    parser.add_argument("--max-cells", type=int, default=200_000, help="the sweep's --max-cells")
    parser.add_argument("--limit", type=float, default=900.0, help="seconds before a run is stopped")
    parser.add_argument("--rugged", type=float, default=None, help="the learner's rugged (default: its default)")
    parser.add_argument("--causal-learn", action="store_true", help="also one causal-learn GRaSP search")
    args = parser.parse_args()
    wanted = sorted(int(c) for c in args.configs.split(","))
    rng = np.random.default_rng(args.seed)
    configs = [draw(rng, args.max_cells) for _ in range(wanted[-1] + 1)]
    params = {} if args.rugged is None else {"rugged": args.rugged}
    small = simulate_soft_labels(8, 1000, ("audio",), seed=0)
    with warnings.catch_warnings():  # load (or compile) the kernels before timing
        warnings.simplefilter("ignore")
        ililab.infer_graph(small.probabilities, names=small.names, progress=False)
    for index in wanted:
        cfg = configs[index]
        print(f"[{index}] {cfg}", flush=True)
        sim = simulate(cfg)

        graph, wall, cpu = _timed(args.limit, lambda sim=sim, cfg=cfg: _infer(sim, cfg, params))
        if graph is None:
            print(f"  ililab: stopped after {wall:.0f} s wall, {cpu:.0f} s CPU (limit {args.limit:.0f} s)", flush=True)
        else:
            search = graph.meta.get("search", {})
            f1 = adjacency_scores(graph, sim.true_graph).f1
            print(
                f"  ililab ({graph.meta['transform']}, rugged={graph.meta['params'].get('rugged')}): {wall:.1f} s wall, "
                f"{cpu:.1f} s CPU, {len(graph.edges)} edges, F1 {f1:.3f}; {search.get('restarts')} searches in "
                f"{search.get('chains')} chains, stopped by {search.get('stopped_by')}",
                flush=True,
            )
        if args.causal_learn:
            line, cl_cpu = _causallearn(cfg, sim, args.limit)
            print(f"  {line}", flush=True)
            if graph is not None and cl_cpu:
                print(f"  paired ratio ililab / causal-learn (CPU): {cpu / cl_cpu:.2f}", flush=True)


if __name__ == "__main__":
    main()
