"""BOSS scaling: ililab's native BOSS vs causal-learn's BOSS vs ililab's GRaSP, same data, one process.

For each size ``p`` and data seed, simulates a linear-Gaussian SEM (expected degree 2) with
``n`` rows, computes the covariance once, and runs

* ``cl-boss``  — ``causallearn.search.PermutationBased.BOSS.boss`` (grow-shrink trees, BIC
  ``λ = 2``), its global ``random`` seeded with the data seed;
* ``boss``     — :func:`ililab.search.boss.boss_search` (penalty ``c = 2λ = 4``);
* ``grasp``    — :func:`ililab.search.grasp.grasp_search` (depth 3, all tucks, like causal-learn).

Every result is scored as a DAG with the same :class:`ililab.scores.bic.BICScore` on the same
covariance, so the total BICs compare directly (higher is better). causal-learn's BOSS returns
only a CPDAG; the DAG it found is captured by wrapping its ``dag2cpdag`` call. Times are wall
clock of the search alone (the covariance is computed beforehand); ililab's Numba kernels are
compiled and loaded before any timing (warm). BLAS is pinned to one thread.

Usage::

    python benchmarks/boss_scaling.py                       # p = 50, 100, 200 (3 seeds) + 500, 1054
    python benchmarks/boss_scaling.py --sizes 50 100 --seeds 1 --no-large
"""

from __future__ import annotations

from _common import pin_blas

pin_blas()

import argparse  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

from ililab.scores.bic import BICScore, to_causallearn  # noqa: E402
from ililab.search.boss import boss_search  # noqa: E402
from ililab.search.grasp import grasp_search  # noqa: E402
from ililab.simulate import simulate_linear_sem, simulate_soft_labels  # noqa: E402

LAMBDA = 2.0
PENALTY = 2 * LAMBDA


def _causallearn_boss(data: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    """Run causal-learn's BOSS; return (its DAG as a bool matrix, seconds)."""
    import causallearn.search.PermutationBased.BOSS as cl_boss

    captured = {}
    original = cl_boss.dag2cpdag

    def keep_dag(graph):
        captured["dag"] = graph.graph.copy()
        return original(graph)

    cl_boss.dag2cpdag = keep_dag
    state = random.getstate()
    random.seed(seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            cl_boss.boss(data, score_func="local_score_BIC_from_cov", parameters={"lambda_value": LAMBDA}, verbose=False)
            elapsed = time.perf_counter() - start
    finally:
        cl_boss.dag2cpdag = original
        random.setstate(state)
    g = captured["dag"]
    dag = (g.T == 1) & (g == -1)  # causal-learn: G[j, i] = 1 and G[i, j] = -1 is i -> j
    return dag, elapsed


def _warm_up() -> None:
    sim = simulate_linear_sem(10, 500, seed=0)
    score = BICScore(np.cov(sim.data, rowvar=False), 500, PENALTY)
    boss_search(score, restarts=1)
    grasp_search(score, restarts=1)


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: KiB


def run(args: argparse.Namespace) -> None:
    _warm_up()
    cases = [("sem", p, args.n, seed, True) for p in args.sizes for seed in range(args.seeds)]
    if not args.no_large:
        cases += [("sem", 500, 10_000, 0, False), ("sem", 1054, 20_000, 0, False), ("soft", 1054, 20_000, 0, False)]
    print(f"BLAS threads pinned to 1; lambda = {LAMBDA} (ililab penalty c = {PENALTY}); ililab restarts = {args.restarts}")
    header = (
        "| data | p | n | seed | cl-boss s | boss s | grasp s | speed-up vs cl-boss "
        "| BIC cl-boss | BIC boss | BIC grasp | true-DAG BIC |"
    )
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    summary: dict[tuple[str, int], list[tuple[float, float, float, float, float | None, float | None]]] = {}
    for kind, p, n, seed, compare in cases:
        if kind == "soft":  # logits of p / 2 classes x 2 modalities (latent class SEM + alignment edges)
            sim = simulate_soft_labels(p // 2, n, seed=seed)
            values = sim.logits
        else:
            sim = simulate_linear_sem(p, n, expected_degree=2.0, seed=seed)
            values = sim.data
        cov = np.cov(values, rowvar=False)
        score = BICScore(cov, n, PENALTY)
        true_bic = score.score_dag(sim.weights != 0)
        start = time.perf_counter()
        ours = boss_search(score, restarts=args.restarts, seed=seed)
        t_boss = time.perf_counter() - start
        t_cl = bic_cl = t_grasp = bic_grasp = None
        if compare and p <= args.max_cl:
            dag, t_cl = _causallearn_boss(values, seed)
            bic_cl = score.score_dag(dag)
        if compare and p <= args.max_grasp:
            start = time.perf_counter()
            g = grasp_search(score, restarts=args.restarts, seed=seed)
            t_grasp = time.perf_counter() - start
            bic_grasp = g.score
        speed = f"{t_cl / t_boss:.0f}x" if t_cl else "-"

        def f(x, fmt):
            return "-" if x is None else format(x, fmt)

        print(
            f"| {kind} | {p} | {n} | {seed} | {f(t_cl, '.2f')} | {t_boss:.3f} | {f(t_grasp, '.3f')} | {speed} | "
            f"{f(bic_cl, '.1f')} | {ours.score:.1f} | {f(bic_grasp, '.1f')} | {true_bic:.1f} |",
            flush=True,
        )
        summary.setdefault((kind, p, n), []).append((t_boss, ours.score, t_cl or 0.0, bic_cl or 0.0, t_grasp, bic_grasp))
    print()
    print(
        "| data | p | runs | mean cl-boss s | mean boss s | speed-up | mean BIC cl-boss "
        "| mean BIC boss | mean BIC grasp | mean ΔBIC boss-grasp | ΔBIC / causal-learn-scale BIC |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (kind, p, n), rows in summary.items():
        tb = np.mean([r[0] for r in rows])
        bb = np.mean([r[1] for r in rows])
        has_cl = all(r[2] > 0 for r in rows)
        has_grasp = all(r[4] is not None for r in rows)
        tc = np.mean([r[2] for r in rows]) if has_cl else None
        bc = np.mean([r[3] for r in rows]) if has_cl else None
        bg = np.mean([r[5] for r in rows]) if has_grasp else None
        # ililab's BIC omits causal-learn's constant -n/2 per node, so its totals can be near zero;
        # the relative gap is taken on causal-learn's scale (the same ranking, see ililab.scores.bic)
        delta = f"{bb - bg:+.1f}" if bg is not None else "-"
        rel = f"{100 * (bb - bg) / abs(to_causallearn(bg, n, p)):+.4f}%" if bg is not None else "-"
        print(
            f"| {kind} | {p} | {len(rows)} | {'-' if tc is None else f'{tc:.2f}'} | {tb:.3f} | "
            f"{'-' if tc is None else f'{tc / tb:.0f}x'} | {'-' if bc is None else f'{bc:.1f}'} | {bb:.1f} | "
            f"{'-' if bg is None else f'{bg:.1f}'} | {delta} | {rel} |"
        )
    print(f"\npeak resident memory of this process: {_peak_rss_gb():.2f} GB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200], help="p values compared with causal-learn")
    parser.add_argument("--n", type=int, default=10_000, help="rows for the compared sizes")
    parser.add_argument("--seeds", type=int, default=3, help="data seeds per compared size")
    parser.add_argument("--restarts", type=int, default=1, help="ililab restarts (causal-learn runs once)")
    parser.add_argument("--max-cl", type=int, default=200, help="largest p run with causal-learn")
    parser.add_argument("--max-grasp", type=int, default=200, help="largest p run with ililab GRaSP")
    parser.add_argument("--no-large", action="store_true", help="skip p = 500 (n = 10,000) and p = 1,054 (n = 20,000)")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
