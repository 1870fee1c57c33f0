"""Does the graph depend on the seed? ililab's old and new defaults against causal-learn on hard, dense data.

Usage::

    .venv/bin/python benchmarks/stability.py                          # every data set (long: causal-learn)
    .venv/bin/python benchmarks/stability.py --datasets dense30 --seeds 10
    .venv/bin/python benchmarks/stability.py --datasets dense100 --cl-seeds 3
    .venv/bin/python benchmarks/stability.py --datasets "" --file teacher_logits.npy   # your own (n, p) matrix

Per data set and method, ``--seeds`` runs with seeds 0, 1, ...:

* ``ililab old``  — the ``grasp`` learner as it was by default: ``restarts=4``, the best wins;
* ``ililab new``  — the ``grasp`` learner's default now: restarts until converged (chains of
  iterated local search, see ``docs/grasp.md``);
* ``ililab boss`` — the ``boss`` learner's default (the same stopping rule);
* ``cl grasp``    — causal-learn's ``grasp`` (depth 3, ``lambda_value = 2``; seeded through
  ``random`` / ``numpy.random``);
* ``cl boss``     — causal-learn's ``boss`` (``lambda_value = 2``). It always starts from the
  identity order, so a seed alone changes nothing; here seed ``s`` permutes the columns first
  (a random start order, as in every other method).

Columns: pairwise skeleton Jaccard over the runs (mean and min over pairs), the best and mean
total BIC of the returned graphs (ililab's score of each DAG on the same covariance, penalty
``c = 4``: higher is better; a CPDAG is scored through one of its DAGs), the mean CPU seconds of
one run (``time.process_time``, this process, BLAS pinned to one thread) and the mean number of
searches ililab ran. ``--cl-seeds`` caps the causal-learn runs (they take minutes at p = 100).

The data sets are built here and nowhere else (never the Gaussian bnlearn networks of pgmpy,
which are kept as a held-out check): linear-Gaussian SEMs over random DAGs with weights in
[0.1, 1] (weak edges next to strong ones), optionally with near-collinear columns
``x_a + 0.8 x_b + 0.05 ε``, and a sparse control.
"""

from __future__ import annotations

from _common import pin_blas, print_table

pin_blas()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

# name -> (variables of the SEM, rows, expected degree, near-collinear columns added, data seed)
DATASETS = {
    "dense30": (26, 1500, 10.0, 4, 0),
    "dense30b": (30, 1500, 9.0, 0, 1),
    "dense60": (57, 2000, 8.0, 3, 2),
    "dense100": (95, 3000, 8.0, 5, 0),
    "sparse50": (50, 10_000, 2.0, 0, 3),
}
METHODS = ("ililab old", "ililab new", "ililab boss", "cl grasp", "cl boss")


def make_data(name: str) -> tuple[np.ndarray, list[str]]:
    """The rows of data set ``name`` and their column names."""
    from ililab.simulate import simulate_linear_sem

    p, n, degree, collinear, seed = DATASETS[name]
    x = simulate_linear_sem(p, n, expected_degree=degree, seed=seed, weight_range=(0.1, 1.0)).data
    rng = np.random.default_rng(seed + 1000)
    extra = []
    for _ in range(collinear):
        a, b = rng.choice(p, 2, replace=False)
        extra.append(x[:, a] + 0.8 * x[:, b] + 0.05 * rng.standard_normal(n))
    x = np.column_stack([x, *extra]) if extra else x
    return x, [f"X{i + 1}" for i in range(x.shape[1])]


def _ililab(learner: str, data, params: dict) -> tuple[np.ndarray, float, float, int]:
    """(skeleton, BIC, CPU seconds, searches run) of one ililab fit."""
    from ililab.learners import get as get_learner

    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = get_learner(learner)().fit(data, params=params)
    elapsed = time.process_time() - start
    index = {name: k for k, name in enumerate(data.names)}
    skeleton = np.zeros((len(index), len(index)), dtype=bool)
    for e in graph.edges:
        skeleton[index[e.source], index[e.target]] = skeleton[index[e.target], index[e.source]] = True
    return skeleton, float(graph.meta["score"]), elapsed, int(graph.meta["search"]["restarts"])


def _causallearn(method: str, x: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(directed, undirected, CPU seconds) of one causal-learn run, in the original column order."""
    from ililab.cpdag import from_causallearn

    random.seed(seed)
    np.random.seed(seed)
    perm = np.arange(x.shape[1])
    if method == "cl boss":
        perm = np.random.default_rng(seed).permutation(x.shape[1])
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.process_time()
        if method == "cl grasp":
            from causallearn.search.PermutationBased.GRaSP import grasp

            g = grasp(x, score_func="local_score_BIC_from_cov", depth=3, parameters={"lambda_value": 2}, verbose=False)
        else:
            from causallearn.search.PermutationBased.BOSS import boss

            g = boss(x[:, perm], score_func="local_score_BIC_from_cov", parameters={"lambda_value": 2}, verbose=False)
        elapsed = time.process_time() - start
    directed, undirected = from_causallearn(g.graph)
    back = np.argsort(perm)
    return directed[np.ix_(back, back)], undirected[np.ix_(back, back)], elapsed


def jaccard(skeletons: list[np.ndarray]) -> tuple[float, float]:
    """Mean and min pairwise Jaccard index of the skeletons' edge sets."""
    values = []
    for a in range(len(skeletons)):
        for b in range(a + 1, len(skeletons)):
            union = (skeletons[a] | skeletons[b]).sum()
            values.append((skeletons[a] & skeletons[b]).sum() / union if union else 1.0)
    return (float(np.mean(values)), float(np.min(values))) if values else (float("nan"), float("nan"))


def run(name: str, seeds: int, cl_seeds: int, methods: tuple[str, ...], extra: dict | None = None) -> list[str]:
    from ililab.cpdag import pdag_to_dag
    from ililab.dataset import Dataset
    from ililab.scores import BICScore

    if name in DATASETS:
        x, names = make_data(name)
    else:  # a file given with --file: a float (n, p) matrix, used as it is
        x = np.load(name, allow_pickle=False).astype(np.float64)
        names = [f"X{i + 1}" for i in range(x.shape[1])]
        name = name.rsplit("/", 1)[-1].removesuffix(".npy")[:9]
    data = Dataset.from_array(x, names)
    score = BICScore(data.covariance, data.n_samples, 4.0)
    lines = []
    for method in methods:
        skeletons, bics, times, searches = [], [], [], []
        count = seeds if method.startswith("ililab") else min(seeds, cl_seeds)
        for seed in range(count):
            if method.startswith("ililab"):
                learner = "boss" if method == "ililab boss" else "grasp"
                params = {"seed": seed, **({"restarts": 4} if method == "ililab old" else (extra or {}))}
                skeleton, bic, elapsed, n_searches = _ililab(learner, data, params)
                searches.append(n_searches)
            else:
                directed, undirected, elapsed = _causallearn(method, x, seed)
                skeleton = directed | directed.T | undirected
                bic = score.score_dag(pdag_to_dag(directed, undirected))
            skeletons.append(skeleton)
            bics.append(bic)
            times.append(elapsed)
        mean_j, min_j = jaccard(skeletons)
        lines.append(
            f"{name:<9} {x.shape[1]:>4} {method:<12} {count:>4} {mean_j:>7.3f} {min_j:>7.3f} {max(bics):>11.1f} "
            f"{np.mean(bics):>11.1f} {np.mean(times):>8.3f} {np.mean(searches) if searches else float('nan'):>8.1f}"
        )
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated names of DATASETS")
    parser.add_argument("--file", action="append", default=[], help="also a data set from this .npy (repeatable)")
    parser.add_argument(
        "--param", action="append", default=[], help="KEY=VALUE (integer) for 'ililab new' / 'ililab boss' (repeatable)"
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--cl-seeds", type=int, default=10, help="cap on causal-learn runs per data set")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset of " + ", ".join(METHODS))
    args = parser.parse_args()
    from ililab.learners.grasp import GraspLearner

    warm, _ = make_data("sparse50")
    from ililab.dataset import Dataset

    GraspLearner().fit(Dataset.from_array(warm[:500, :8]), params={"restarts": 1})  # load the kernels first
    header = (
        f"{'data':<9} {'p':>4} {'method':<12} {'runs':>4} {'jacc':>7} {'min':>7} {'best BIC':>11} "
        f"{'mean BIC':>11} {'cpu s':>8} {'searches':>8}"
    )
    print(header, flush=True)
    lines = []
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    extra = {key: int(value) for key, value in (item.split("=", 1) for item in args.param)}
    for name in [d for d in args.datasets.split(",") if d] + args.file:
        lines += run(name, args.seeds, args.cl_seeds, methods, extra)
    print()
    print_table(header, lines)


if __name__ == "__main__":
    main()
