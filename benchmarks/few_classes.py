"""Few classes (C <= 8 per block) and degree 4: why undoing the softmax fails there, measured.

For each cell of ``benchmarks/softmax_graphs.py``'s few-class and degree-4 regimes (same
generator, same data) and each seed this script fits, on the same soft labels,

* ``auto``: ``ililab.infer_graph(p, transform="auto")`` (what users get);
* ``log-p``: ililab GRaSP on log-probabilities (the naive choice ``auto`` must never lose to);
* ``inv``: the inversion's own graph (``transform="softmax"``, used whatever the check says);

and asks whether a better graph is reachable from the probabilities at all. The observed data
are the centred logits ``w = H z`` (one direction per block lost); for a DAG ``G`` the exact
observed-data likelihood is that of ``N(0, H Σ_G Hᵀ)`` (``ililab.softmax.observed_loglik``),
maximised over ``G``'s parameters by EM with the structure fixed (three starting completions:
the logits' own covariance -- an oracle start, only to find the truth's best fit --, the
log-probabilities' covariance, the inversion's completion). The observed-data BIC (penalty 4)
of the TRUE graph is compared with that of the graphs the inversion and log-p GRaSP found:

* ``truth>found``: share of runs where the true graph scores better than both found graphs by
  more than 2 (then the search is what fails: a better graph is there to be found);
* ``truth id.``: share of runs where the identification check (``_softmax_model._identification``)
  would certify the TRUE graph with the true normalisation (then a perfect search would be
  reported identified);
* ``basin 0.2`` / ``basin 0.4`` (with ``--basin``): mean F1 of the inversion's local search
  (structural EM, then row moves of B) started from the true ``B`` plus noise of 20% / 40% of
  its RMS size -- how close a start must be for the search to find the truth (a start whose
  search aborts on a singular completion counts as F1 0).

``--alternatives`` adds the F1 of candidate replacements for the fallback, each using only the
probabilities:

* ``multi``: the graph of best observed-data BIC among the inversion's, structural EM from the
  log-probabilities' completion, from the symmetric completion (``S_w + a·11ᵀ`` per block, the
  exact completion for independent classes) and from ``MULTI_STARTS`` random completions around
  it (each followed by the inversion's row moves); a numerically singular completion (condition
  number above 1e10) is skipped: its BIC is meaningless;
* ``gated``: ``multi``'s graph where it passes the graph side of the identification check (enough
  non-adjacent pairs, odd cycles: what lets ``auto`` keep an unidentified inversion), else log-p;
* ``prune``: the log-p GRaSP DAG with edges removed one at a time while the observed-data BIC
  (parameters by EM) rises;
* ``inv∩logp``: the edges of the inversion's graph that log-p GRaSP also finds.

Uses private functions of ``ililab.softmax`` on purpose (``_softmax_model``, ``_softmax_candidates``):
it examines the inversion's search.

What it showed (seeds 0-4 and 20-24, library as on main 7974fd4; the full table is in the issue-14b
closing note): at 1 x 5, 2 x 3 and degree 4 1 x 8 the true graph scores no better than a sparser
wrong one (median gap -61 to 0) -- the probabilities do not determine the graph there, and every
search that follows the observed-data BIC moves away from the truth; at 2 x 5 and degree 4 2 x 8
the truth scores better (median gap 47-465) but is reached only from starts within about 20% of
the true normalisation, and the identification check would not certify it (0-40% of runs). No
alternative beat ``auto`` (= log-p there) on both seed sets, so ``auto`` is unchanged. About 8
minutes per 5 seeds with ``--basin --alternatives`` on a shared 2-core machine.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/few_classes.py [--seeds 0 1 2 3 4] [--basin]
"""

from __future__ import annotations

from _common import pin_blas, print_table, timed_infer_graph

pin_blas()

import argparse  # noqa: E402

import numpy as np  # noqa: E402
from softmax_graphs import REGIMES, _log_probabilities, _simulate  # noqa: E402

from ililab import _softmax_candidates as smc  # noqa: E402
from ililab import _softmax_model as smm  # noqa: E402
from ililab import softmax as sm  # noqa: E402
from ililab.metrics import adjacency_scores  # noqa: E402
from ililab.scores.bic import DEFAULT_PENALTY  # noqa: E402

CELLS = ["few 1x5", "few 2x3", "few 2x5", "few 1x8", "degree4 1x8", "degree4 2x8"]
#: The truth "scores better" when its observed BIC beats every found graph's by more than this.
MARGIN = 2.0
#: Random starting completions of the ``multi`` alternative.
MULTI_STARTS = 20


def skeleton_f1(dag: np.ndarray, true: np.ndarray) -> float:
    """Adjacency F1 of two DAG matrices (``dag[i, j]`` = edge i -> j)."""
    upper = np.triu(np.ones(dag.shape, dtype=bool), 1)
    a, t = (dag | dag.T) & upper, (true | true.T) & upper
    tp = int((a & t).sum())
    return 0.0 if tp == 0 else 2 * tp / (int(a.sum()) + int(t.sum()))


def observed_bic(dag: np.ndarray, s: np.ndarray, u: np.ndarray, n: int, starts, iterations: int = 2000) -> float:
    """Observed-data BIC of ``dag``: its parameters fitted by EM (structure fixed), best of ``starts``."""
    best = -np.inf
    for cov in starts:
        omega = smm._dag_precision(cov, dag)
        ll = sm.observed_loglik(omega, s, u, n)
        for _ in range(iterations):
            omega = smm._dag_precision(smm._e_step(omega, s, u), dag)
            new = sm.observed_loglik(omega, s, u, n)
            if new - ll < 1e-7 * n:  # EM never decreases it; stop when it stalls
                ll = max(ll, new)
                break
            ll = new
        best = max(best, ll)
    return best - DEFAULT_PENALTY / 2 * (int(dag.sum()) + dag.shape[0]) * np.log(n)


def basin(k, s, u, n, b_true, true, seed: int, relative: float, tries: int = 3) -> float:
    """Mean F1 of the inversion's local search started from ``b_true`` plus relative noise."""
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(tries):
        b = b_true + rng.normal(size=b_true.shape) * relative * np.sqrt(np.mean(b_true**2))
        try:
            fit = smm._fit(sm.complete_covariance(k, b), s, u, n, DEFAULT_PENALTY, seed)
            fit, _ = smm._structural_em(fit, s, u, n, DEFAULT_PENALTY, seed, sm.EM_STEPS)
            fit, _ = smc._row_search(k, s, u, n, fit, DEFAULT_PENALTY, seed, 200)
        except np.linalg.LinAlgError:  # a row move reached a singular completion: the search aborts
            scores.append(0.0)
            continue
        scores.append(skeleton_f1(fit.dag.astype(bool), true))
    return float(np.mean(scores))


def _symmetric(s: np.ndarray, blocks) -> np.ndarray:
    cov = s.copy()
    for cols in blocks:
        cov[np.ix_(cols, cols)] += np.trace(s[np.ix_(cols, cols)]) / (len(cols) * (len(cols) - 1))
    return cov


def multi_start(k, s, u, n, blocks, cov_lp, found, seed: int):
    """DAG of best observed-data BIC over the inversion's and structural EM from many starting completions."""
    pen = DEFAULT_PENALTY
    best = found.fit
    symmetric = _symmetric(s, blocks)
    b_sym = smc._b_matrix(symmetric, u)
    rng = np.random.default_rng(seed)
    starts = [cov_lp, symmetric]
    starts += [
        sm.complete_covariance(k, b_sym + rng.normal(size=b_sym.shape) * 0.5 * np.sqrt(np.mean(b_sym**2)))
        for _ in range(MULTI_STARTS)
    ]
    for cov in starts:
        try:
            fit, _ = smm._structural_em(smm._fit(cov, s, u, n, pen, seed), s, u, n, pen, seed, sm.EM_STEPS)
            fit, _ = smc._row_search(k, s, u, n, fit, pen, seed, 60)
        except np.linalg.LinAlgError:
            continue
        # a random start can reach a numerically singular completion whose "BIC" is huge and wrong
        if not np.isfinite(fit.bic) or np.linalg.cond(fit.cov) > 1e10:
            continue
        if fit.bic > best.bic:
            best = fit
    return best


def _em_bic(dag, s, u, n, cov, iterations):
    omega = smm._dag_precision(cov, dag)
    for _ in range(iterations):
        cov = smm._e_step(omega, s, u)
        omega = smm._dag_precision(cov, dag)
    ll = sm.observed_loglik(omega, s, u, n)
    return ll - DEFAULT_PENALTY / 2 * (int(dag.sum()) + dag.shape[0]) * np.log(n), cov


def prune(dag: np.ndarray, cov: np.ndarray, s, u, n) -> np.ndarray:
    """Backward elimination on ``dag`` by observed-data BIC (parameters by warm-started EM)."""
    current, cov = _em_bic(dag, s, u, n, cov, 50)
    while True:
        best = (current, None, None)
        for i, j in zip(*np.nonzero(dag)):
            trial = dag.copy()
            trial[i, j] = False
            score, trial_cov = _em_bic(trial, s, u, n, cov, 10)
            if score > best[0]:
                best = (score, trial, trial_cov)
        if best[1] is None:
            return dag
        current, dag, cov = best


def one_run(cell: str, seed: int, with_basin: bool, alternatives: bool = False) -> dict:
    classes, modalities, n = REGIMES[cell][:3]
    sim, p = _simulate(cell, seed)
    truth = sim.true_graph
    true = sim.weights != 0
    out = {}
    for key, values, transform in (("auto", p, "auto"), ("inv", p, "softmax"), ("logp", _log_probabilities(p), "none")):
        graph, _ = timed_infer_graph(values, names=sim.names, transform=transform, seed=seed)
        out[key] = adjacency_scores(graph, truth).f1
    blocks = [np.arange(m * classes, (m + 1) * classes) for m in range(modalities)]
    u = sm.block_indicators(p.shape[1], blocks)
    w = np.hstack([sm.centred_logits(p[:, cols])[0] for cols in blocks])
    k, s = sm.centred_precision(np.cov(w, rowvar=False), u)
    found = smc._search_completion(k, s, u, n, DEFAULT_PENALTY, seed, sm.MAX_CANDIDATES)
    cov_z = np.cov(sim.logits.astype(np.float64), rowvar=False)
    cov_lp = np.cov(_log_probabilities(p), rowvar=False)
    starts = (cov_z, cov_lp, found.fit.cov)
    dag_lp = smm._search_dag(cov_lp, n, DEFAULT_PENALTY, seed).astype(bool)
    bic_true = observed_bic(true, s, u, n, starts)
    bic_found = max(observed_bic(found.fit.dag.astype(bool), s, u, n, starts), observed_bic(dag_lp, s, u, n, starts))
    out["gap"] = bic_true - bic_found
    out["truth_wins"] = out["gap"] > MARGIN
    b_true = smc._b_matrix(cov_z, u)
    out["truth_id"] = bool(smm._identification(k, b_true, smm._moral(true), blocks, n).get("identified"))
    if alternatives:
        best = multi_start(k, s, u, n, blocks, cov_lp, found, seed)
        out["multi"] = skeleton_f1(best.dag.astype(bool), true)
        check = smm._identification(k, smc._b_matrix(best.cov, u), smm._moral(best.dag), blocks, n)
        out["gated"] = out["multi"] if "relative_se" in check else out["logp"]
        out["prune"] = skeleton_f1(prune(dag_lp, cov_lp, s, u, n), true)
        inv = found.fit.dag.astype(bool)
        out["inter"] = skeleton_f1(inv & (dag_lp | dag_lp.T), true)
    if with_basin:
        out["basin2"] = basin(k, s, u, n, b_true, true, seed, 0.2)
        out["basin4"] = basin(k, s, u, n, b_true, true, seed, 0.4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--cells", nargs="+", default=CELLS, choices=list(REGIMES), metavar="REGIME")
    parser.add_argument("--basin", action="store_true", help="also run the local search from a perturbed true B")
    parser.add_argument("--alternatives", action="store_true", help="also score the candidate fallbacks (see above)")
    args = parser.parse_args()
    _ = timed_infer_graph(_simulate("few 1x8", 0)[1])  # compile the kernels first
    print(f"seeds={args.seeds}; F1 = skeleton F1 (mean); gap = observed BIC of the truth minus the best found graph's")
    header = (
        f"{'regime':<14} {'auto':>5} {'log-p':>5} {'inv':>5} {'truth>found':>11} {'gap median':>10} {'truth id.':>9}"
        + (f" {'basin 0.2':>9} {'basin 0.4':>9}" if args.basin else "")
        + (f" {'multi':>5} {'gated':>5} {'prune':>5} {'inv∩logp':>8}" if args.alternatives else "")
    )
    lines = []
    for cell in args.cells:
        runs = [one_run(cell, seed, args.basin, args.alternatives) for seed in args.seeds]

        def mean(key: str, runs=runs) -> float:
            return float(np.mean([r[key] for r in runs]))

        line = (
            f"{cell:<14} {mean('auto'):>5.2f} {mean('logp'):>5.2f} {mean('inv'):>5.2f} {mean('truth_wins'):>11.0%} "
            f"{np.median([r['gap'] for r in runs]):>10.1f} {mean('truth_id'):>9.0%}"
        )
        if args.basin:
            line += f" {mean('basin2'):>9.2f} {mean('basin4'):>9.2f}"
        if args.alternatives:
            line += f" {mean('multi'):>5.2f} {mean('gated'):>5.2f} {mean('prune'):>5.2f} {mean('inter'):>8.2f}"
        lines.append(line)
        print(line, flush=True)
    print()
    print_table(header, lines)


if __name__ == "__main__":
    main()
