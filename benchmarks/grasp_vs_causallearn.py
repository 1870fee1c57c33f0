"""ililab's native GRaSP against causal-learn's ``grasp`` on the same data, in one process.

Usage::

    .venv/bin/python benchmarks/grasp_vs_causallearn.py            # every case (about 10-30 min)
    .venv/bin/python benchmarks/grasp_vs_causallearn.py --cases p30,p50 --seeds 2

Both run single-threaded (BLAS pinned to one thread before numpy is imported) with the same
penalty (causal-learn ``lambda_value = 2``, ililab ``penalty = 4``), depth 3, and one random
start each (ililab ``restarts=1``: the same work as causal-learn's single greedy search).

Per case it prints, summed over the seeds (CPU seconds of this process, ``time.process_time``):

* ``ililab cold`` — the first ``GraspLearner.fit`` of the case; for the first case of the run it
  includes loading (or, with an empty cache, compiling) the Numba kernels;
* ``ililab warm`` — the same fit again;
* ``cov`` — computing the covariance from the rows (ililab's learners take it precomputed;
  causal-learn computes it inside ``grasp``, so its time includes it);
* ``causal-learn`` and ``ratio`` = causal-learn / ililab warm;
* ``ililab default`` — time, mean BIC and SHD with ililab's default settings (``restarts=4``);
* mean total BIC of both results (ililab's score, on ililab's covariance: causal-learn's CPDAG is
  extended to a DAG and scored with the same ``BICScore``) and mean SHD of both CPDAGs to the truth.

``--quality`` runs the quality check instead: on one fixed data set per size (p = 50 and
p = 100, n = 10,000, degree 2) it counts how many of 20 seeds reach the true DAG's BIC with
ililab's default settings, and how many of 8 seeds do with causal-learn.

``--skip-causal-learn`` times ililab only (the causal-learn columns print as ``nan``).

``--compile`` also measures, in fresh subprocesses, the Numba compile time of the ``grasp`` and
``boss`` kernels (cold minus warm of the first ``ililab.infer_graph`` on p = 10, n = 2,000): with
an empty cache, as shipped (the grow-shrink step compiled by a helper process meanwhile: wall
time, CPU of this process and of the helper) and in one process (``ILILAB_COMPILE_JOBS=1``), and
the load time with the on-disk cache; ``--compile --cases ""`` measures only that.
"""

from __future__ import annotations

import os

from _common import pin_blas

pin_blas()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

CASES = {
    "p30": dict(kind="sem", p=30, degree=2.0),
    "p50": dict(kind="sem", p=50, degree=2.0),
    "p100": dict(kind="sem", p=100, degree=2.0),
    "p200": dict(kind="sem", p=200, degree=2.0),
    "dense30": dict(kind="sem", p=30, degree=8.0),
    "soft2x28": dict(kind="soft", classes=28),
    "soft2x100": dict(kind="soft", classes=100),
}


def _data(case: dict, seed: int):
    from ililab.simulate import simulate_linear_sem, simulate_soft_labels

    if case["kind"] == "sem":
        sim = simulate_linear_sem(case["p"], 10_000, expected_degree=case["degree"], seed=seed)
        return sim.data, sim.names, sim.true_graph
    soft = simulate_soft_labels(case["classes"], 20_000, seed=seed)
    return soft.logits.astype(np.float64), soft.names, soft.true_graph


def _causallearn(x: np.ndarray, seed: int):
    from causallearn.search.PermutationBased.GRaSP import grasp

    random.seed(seed)
    np.random.seed(seed)
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.process_time()
        g = grasp(x, score_func="local_score_BIC_from_cov", depth=3, parameters={"lambda_value": 2}, verbose=False)
        elapsed = time.process_time() - t0
    return g.graph, elapsed


def _as_graph(directed, undirected, names):
    from ililab.graph import DependencyGraph, Edge

    edges = [Edge(names[i], names[j], "directed") for i, j in zip(*np.nonzero(directed))]
    edges += [Edge(names[i], names[j], "undirected") for i, j in zip(*np.nonzero(np.triu(undirected)))]
    return DependencyGraph(names, edges)


def run_case(name: str, seeds: int, causal_learn: bool = True) -> dict:
    from ililab.cpdag import from_causallearn, pdag_to_dag
    from ililab.dataset import Dataset
    from ililab.learners.grasp import GraspLearner
    from ililab.metrics import shd
    from ililab.scores import BICScore

    case = CASES[name]
    row = dict(case=name, cold=0.0, warm=0.0, cov=0.0, cl=0.0, default=0.0, p=0,
               bic=[], bic_cl=[], bic_default=[], shd=[], shd_cl=[], shd_default=[])
    for seed in range(seeds):
        x, names, truth = _data(case, seed)
        t0 = time.process_time()
        data = Dataset.from_array(x, names)
        row["cov"] += time.process_time() - t0
        row["p"] = len(names)
        params = {"restarts": 1, "seed": seed, "depth": 3, "penalty": 4.0}
        t0 = time.process_time()
        GraspLearner().fit(data, params=params)
        row["cold"] += time.process_time() - t0
        t0 = time.process_time()
        graph = GraspLearner().fit(data, params=params)
        row["warm"] += time.process_time() - t0
        t0 = time.process_time()
        default = GraspLearner().fit(data, params={"seed": seed})
        row["default"] += time.process_time() - t0
        row["bic_default"].append(default.meta["score"])
        row["shd_default"].append(shd(default, truth))
        row["bic"].append(graph.meta["score"])
        row["shd"].append(shd(graph, truth))
        if not causal_learn:
            row["bic_cl"].append(np.nan)
            row["shd_cl"].append(np.nan)
            continue
        matrix, elapsed = _causallearn(x, seed)
        row["cl"] += elapsed
        score = BICScore(data.covariance, data.n_samples, 4.0)
        directed, undirected = from_causallearn(matrix)
        row["bic_cl"].append(score.score_dag(pdag_to_dag(directed, undirected)))
        row["shd_cl"].append(shd(_as_graph(directed, undirected, names), truth))
    return row


def _first_run(learner: str, cache: str, jobs: str | None) -> dict[str, float]:
    """Cold minus warm of the first ``ililab.infer_graph`` (p = 10, n = 2,000) in a fresh process:
    wall seconds, CPU seconds of that process and of its children (the compile helper)."""
    code = (
        "import os,resource,time\n"
        "for v in ('OPENBLAS_NUM_THREADS','OMP_NUM_THREADS','MKL_NUM_THREADS'): os.environ[v]='1'\n"
        "import ililab\n"
        "from ililab.simulate import simulate_linear_sem\n"
        "d=simulate_linear_sem(10,2000,seed=0).data\n"
        "def kids():\n"
        "    r=resource.getrusage(resource.RUSAGE_CHILDREN); return r.ru_utime+r.ru_stime\n"
        "def run():\n"
        "    w,c,k=time.perf_counter(),time.process_time(),kids()\n"
        f"    ililab.infer_graph(d,learner={learner!r})\n"
        "    return time.perf_counter()-w,time.process_time()-c,kids()-k\n"
        "a=run(); b=run()\n"
        "print(a[0]-b[0],a[1]-b[1],a[2])\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    if jobs is not None:
        env["ILILAB_COMPILE_JOBS"] = jobs
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    wall, cpu, helper = (float(v) for v in res.stdout.strip().splitlines()[-1].split())
    return {"wall": wall, "cpu": cpu, "helper": helper}


def _compile_times(learner: str = "grasp") -> dict[str, dict[str, float]]:
    """First-run times of ``learner``'s kernels: with an empty Numba cache (default settings,
    then everything in one process, ``ILILAB_COMPILE_JOBS=1``) and with the cache written."""
    out = {}
    for label, jobs in (("parallel", None), ("one process", "1")):
        with tempfile.TemporaryDirectory() as cache:
            out[label] = _first_run(learner, cache, jobs)
            if label == "parallel":
                out["cached"] = _first_run(learner, cache, jobs)
    return out


def quality(seeds: int = 20, cl_seeds: int = 8) -> None:
    from ililab.cpdag import from_causallearn, pdag_to_dag
    from ililab.dataset import Dataset
    from ililab.learners.grasp import GraspLearner
    from ililab.scores import BICScore
    from ililab.simulate import simulate_linear_sem

    print("| p | ililab default: seeds reaching the true BIC | mean s | causal-learn: seeds reaching it | mean s |")
    print("|---|---|---|---|---|", flush=True)
    for p in (50, 100):
        sim = simulate_linear_sem(p, 10_000, expected_degree=2.0, seed=0)
        data = Dataset.from_array(sim.data, sim.names)
        score = BICScore(data.covariance, data.n_samples, 4.0)
        truth = score.score_dag(sim.weights != 0)
        ours, t_ours = 0, 0.0
        for seed in range(seeds):
            t0 = time.process_time()
            graph = GraspLearner().fit(data, params={"seed": seed})
            t_ours += time.process_time() - t0
            ours += graph.meta["score"] >= truth - 1e-6
        theirs, t_cl = 0, 0.0
        for seed in range(cl_seeds):
            matrix, elapsed = _causallearn(sim.data, seed)
            t_cl += elapsed
            directed, undirected = from_causallearn(matrix)
            theirs += score.score_dag(pdag_to_dag(directed, undirected)) >= truth - 1e-6
        print(
            f"| {p} | {ours}/{seeds} | {t_ours / seeds:.3f} | {theirs}/{cl_seeds} | {t_cl / cl_seeds:.2f} |",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of " + ",".join(CASES))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--compile", action="store_true", help="also measure Numba compile / cache-load time")
    parser.add_argument("--quality", action="store_true", help="run the 20-seed quality check instead")
    parser.add_argument(
        "--skip-causal-learn", action="store_true", help="time ililab only (causal-learn columns print as nan)"
    )
    args = parser.parse_args(argv)
    if args.quality:
        quality()
        return
    names = [c for c in args.cases.split(",") if c]
    unknown = [c for c in names if c not in CASES]
    if unknown:
        parser.error(f"unknown cases {unknown}")
    if args.compile:
        for learner in ("grasp", "boss"):
            t = _compile_times(learner)
            par, one, cached = t["parallel"], t["one process"], t["cached"]
            print(
                f"Numba ({learner}), empty cache: wall {par['wall']:.1f} s (CPU {par['cpu']:.1f} s here + "
                f"{par['helper']:.1f} s in the compile helper); in one process (ILILAB_COMPILE_JOBS=1): wall "
                f"{one['wall']:.1f} s, CPU {one['cpu']:.1f} s; load from the on-disk cache: wall {cached['wall']:.2f} s",
                flush=True,
            )
        if not names:
            return
    header = (
        "| case | p | seeds | ililab cold s | ililab warm s | cov s | causal-learn s | ratio (warm) "
        "| BIC ililab | BIC causal-learn | SHD ililab | SHD causal-learn "
        "| ililab default s | BIC default | SHD default |"
    )
    print(header)
    print("|" + "---|" * 15, flush=True)
    for name in names:
        r = run_case(name, args.seeds, causal_learn=not args.skip_causal_learn)
        ratio = r["cl"] / r["warm"] if r["warm"] > 0 and not args.skip_causal_learn else float("nan")
        print(
            f"| {name} | {r['p']} | {args.seeds} | {r['cold']:.3f} | {r['warm']:.4f} | {r['cov']:.3f} "
            f"| {r['cl']:.2f} | {ratio:.0f}x | {np.mean(r['bic']):.1f} | {np.mean(r['bic_cl']):.1f} "
            f"| {np.mean(r['shd']):.1f} | {np.mean(r['shd_cl']):.1f} "
            f"| {r['default']:.3f} | {np.mean(r['bic_default']):.1f} | {np.mean(r['shd_default']):.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
