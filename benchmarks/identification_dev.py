"""Development tool for the 'identified' claim of the softmax inversion: what separates right claims from wrong.

Re-draws the configurations of the given sweep seeds with :func:`softmax_sweep.draw` (the same
random sequence, so configuration ``i`` here is configuration ``i`` of
``benchmarks/softmax_sweep.py --seed S``), keeps those that can end in a softmax inversion
(softmax outputs with ``--transform auto`` or ``softmax``), runs each like the sweep does
(``infer_graph(..., seed=0)``), each in its own forked process under a time limit, ``--jobs`` at
a time, and writes one JSON line per configuration:

* ``seed``, ``index``, ``cfg``, ``seconds``, ``outcome`` (``ok``, ``user error``, ``exit 3``,
  ``timed out``), ``transform`` (what ran), ``f1`` (skeleton F1 against the planted graph),
  ``oracle_f1`` (ililab on the simulator's logits, ``transform="none"``; None if that fails);
* ``softmax``: the graph's ``meta["data"]["softmax"]`` diagnostics, as the library reports them;
* ``extra`` (with ``--extra``, only for claims: the inversion used and reported identified):
  candidate statistics that are not in the library's check -- ``half_f1`` (skeleton F1 of the
  graphs ``transform="softmax"`` finds on the even and on the odd rows against the graph of all
  rows; the smaller), ``half_truth_f1`` (those half graphs against the planted graph),
  ``perturb_f1`` (skeleton agreement of the GRaSP DAG on the completion with ``B`` moved by ±2
  standard errors along its weakest direction, against the DAG on the completion itself; the
  smaller), ``pcorr_shift`` (the largest change of a partial correlation under that move, per
  standard error, times √n), ``gof`` (deviance of that DAG model against the unrestricted centred
  covariance over ``(p - M)(p - M + 1)/2 - (edges + p - M)`` degrees of freedom).

``--tuning NAME=VALUE`` sets tuning constants of :mod:`ililab.softmax` first:
``--tuning MISFIT_LIMIT=inf PCORR_SHIFT_LIMIT=inf RIVAL_LIMIT=-inf DENSE_LIMIT=inf`` records the statistics of those
checks (``misfit``, ``misfit_edges``, ``pcorr_shift``, ``rival_gap``, ``edges``) without applying them, so that the summary
(``--summarize``, also printed at the end) can count the claims and the wrong claims (F1 < 0.9)
without and with them, at the library's current limits. Progress goes to stderr.
Not part of ``make test``; seeds 3, 4, 7, 11, 17 and 19 are the development set of the claim (see
docs/soft-labels.md), fresh seeds are for validation only.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/identification_dev.py --seeds 7 11 [--configs 600] \
        [--jobs 2] [--config-seconds 240] [--tuning MISFIT_LIMIT=inf PCORR_SHIFT_LIMIT=inf RIVAL_LIMIT=-inf DENSE_LIMIT=inf] \
        [--extra] [--out ident_dev.jsonl] [--first 0] [--skip 255] [--append]
    python benchmarks/identification_dev.py --summarize ident_dev.jsonl [more.jsonl]
"""

from __future__ import annotations

from _common import pin_blas

pin_blas()

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from softmax_sweep import draw, simulate  # noqa: E402

import ililab  # noqa: E402
from ililab import _softmax_model, softmax, softmax_transform  # noqa: E402
from ililab._softmax_candidates import _b_matrix  # noqa: E402
from ililab._softmax_model import (  # noqa: E402
    _dag_precision,
    _jacobian_gram,
    _moral,
    _search_dag,
    block_indicators,
    centred_precision,
    complete_covariance,
    observed_loglik,
)
from ililab.api import prepare_dataset  # noqa: E402
from ililab.errors import IlilabError  # noqa: E402
from ililab.metrics import adjacency_array_scores, adjacency_scores  # noqa: E402
from ililab.scores.bic import DEFAULT_PENALTY  # noqa: E402


class _Over(BaseException):
    """Raised by the alarm when a configuration runs longer than its limit."""


def _alarm(signum, frame):
    raise _Over


def _pcorr(cov: np.ndarray) -> np.ndarray:
    omega = np.linalg.inv(cov)
    d = np.sqrt(np.diag(omega))
    return -omega / np.outer(d, d)


def _half_stats(probabilities, names, graph, truth) -> tuple[float, float]:
    agree, truth_f1 = [], []
    for half in (slice(0, None, 2), slice(1, None, 2)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = ililab.infer_graph(probabilities[half], names=names, transform="softmax", seed=0)
        agree.append(adjacency_scores(g, graph).f1)
        truth_f1.append(adjacency_scores(g, truth).f1)
    return min(agree), min(truth_f1)


def _normalisation_stats(cov: np.ndarray, blocks: list[np.ndarray], n: int) -> dict:
    """Perturbation and fit statistics of the completion ``cov`` (see the module docstring)."""
    p = cov.shape[0]
    u = block_indicators(p, blocks)
    q = u / np.sqrt(u.sum(axis=0))
    proj = np.eye(p) - q @ q.T
    cov_w = proj @ cov @ proj
    k, _ = centred_precision(cov_w, u)
    b = _b_matrix(cov, u)
    m = b.shape[1]
    dag = _search_dag(cov, n, DEFAULT_PENALTY, 0)
    nonadjacent = ~_moral(dag)
    np.fill_diagonal(nonadjacent, False)
    i, j = np.nonzero(np.triu(nonadjacent, 1))
    d = np.diag(k) + np.sum(b * b, axis=1)
    se = np.sqrt(d[i] * d[j] / n)
    gram = _jacobian_gram(b, i, j, 1.0 / (se * se))
    vals, vecs = np.linalg.eigh(gram)
    rot = m * (m - 1) // 2
    out: dict = {}
    if vals.size > rot and vals[rot] > 0:
        v = vecs[:, rot].reshape(p, m)
        sd = 1.0 / np.sqrt(vals[rot])
        base_pc = _pcorr(cov)
        f1s, shifts = [], []
        for sign in (1.0, -1.0):
            moved = b + sign * 2.0 * sd * v
            try:
                c2 = complete_covariance(k, moved)
                dag2 = _search_dag(c2, n, DEFAULT_PENALTY, 0)
            except (np.linalg.LinAlgError, IlilabError, ValueError):
                f1s.append(0.0)
                continue
            f1s.append(adjacency_array_scores(dag2, dag).f1)
            shifts.append(float(np.max(np.abs(_pcorr(c2) - base_pc))) * np.sqrt(n) / 2.0)  # per standard error
        out["perturb_f1"] = min(f1s)
        out["pcorr_shift"] = max(shifts) if shifts else None
    omega = _dag_precision(cov, dag)
    ll_model = observed_loglik(omega, cov_w, u, n)
    ev = np.linalg.eigvalsh(cov_w)[m:]
    # observed_loglik's constant: log pdet K = log det Ω - log det UᵀΩU + log det UᵀU
    ll_sat = n / 2 * (-np.sum(np.log(ev)) - (p - m) - np.linalg.slogdet(u.T @ u)[1])
    # the saturated model has (p-M)(p-M+1)/2 parameters
    params = int(dag.sum()) + p - m
    df = max((p - m) * (p - m + 1) // 2 - params, 1)
    out["gof"] = float(2 * (ll_sat - ll_model) / df)
    out["dag_edges"] = int(dag.sum())
    return out


def run_one(seed: int, index: int, cfg: dict, limit: float, extra_stats: bool = False) -> dict:
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    start = time.perf_counter()
    row: dict = {"seed": seed, "index": index, "cfg": cfg}
    try:
        sim = simulate(cfg)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dataset = prepare_dataset(sim.probabilities, names=sim.names, transform=cfg["transform"], progress=False)
                graph = ililab.infer_graph(dataset, seed=0)
        except IlilabError as error:
            row.update(outcome="user error", detail=f"{type(error).__name__}: {error}"[:300])
            return row
        except Exception as error:  # what the CLI reports with exit 3
            row.update(outcome="exit 3", detail=f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=-3)}")
            return row
        softmax = graph.meta.get("data", {}).get("softmax", {})
        row.update(
            outcome="ok", transform=graph.meta.get("transform"), f1=adjacency_scores(graph, sim.true_graph).f1,
            softmax=softmax,
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                oracle = ililab.infer_graph(sim.logits.astype(np.float64), names=sim.names, transform="none", seed=0)
            row["oracle_f1"] = adjacency_scores(oracle, sim.true_graph).f1
        except IlilabError:
            row["oracle_f1"] = None
        if extra_stats and row["transform"] == "softmax" and softmax.get("identified"):
            c = cfg["n_classes"]
            blocks = [np.arange(c * m, c * (m + 1)) for m in range(cfg["blocks"])]
            extra: dict = {}
            try:
                extra.update(_normalisation_stats(dataset.covariance, blocks, dataset.n_samples))
                extra["half_f1"], extra["half_truth_f1"] = _half_stats(sim.probabilities, sim.names, graph, sim.true_graph)
            except (IlilabError, np.linalg.LinAlgError, ValueError) as error:
                extra["error"] = f"{type(error).__name__}: {error}"[:200]
            row["extra"] = extra
    except _Over:
        row.setdefault("outcome", "timed out")
        if row["outcome"] == "ok":
            row["extra_timed_out"] = True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        row["seconds"] = round(time.perf_counter() - start, 1)
    return row


def _child(conn, seed, index, cfg, limit, extra_stats) -> None:
    conn.send(run_one(seed, index, cfg, limit, extra_stats))
    conn.close()


def _run_all(todo, limit: float, jobs: int, extra_stats: bool):
    """Yield the rows of ``todo``, each run in its own forked process, ``jobs`` at a time.

    The alarm of :func:`run_one` cannot interrupt a long call into compiled code; a process still
    running 30 s after its limit is killed and its configuration reported ``timed out``.
    """
    ctx = multiprocessing.get_context("fork")
    queue, running = list(todo), []
    while queue or running:
        while queue and len(running) < jobs:
            seed, index, cfg = queue.pop(0)
            parent, child = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(child, seed, index, cfg, limit, extra_stats), daemon=True)
            proc.start()
            child.close()
            running.append((proc, parent, time.perf_counter(), (seed, index, cfg)))
        time.sleep(0.05)
        for item in list(running):
            proc, conn, began, (seed, index, cfg) = item
            row = None
            if conn.poll():
                try:
                    row = conn.recv()
                except EOFError:
                    row = {"seed": seed, "index": index, "cfg": cfg, "outcome": "exit 3", "detail": "worker died"}
            elif not proc.is_alive():
                row = {"seed": seed, "index": index, "cfg": cfg, "outcome": "exit 3", "detail": "worker died"}
            elif time.perf_counter() - began > limit + 30:
                proc.kill()
                row = {"seed": seed, "index": index, "cfg": cfg, "outcome": "timed out", "detail": "killed"}
            if row is not None:
                row.setdefault("seconds", round(time.perf_counter() - began, 1))
                proc.join(1)
                running.remove(item)
                yield row


def candidates(seeds: list[int], configs: int, max_cells: int) -> list[tuple[int, int, dict]]:
    """The (seed, index, configuration) of the sweep draws that can end in a softmax inversion."""
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for index in range(configs):
            cfg = draw(rng, max_cells)
            if cfg["output"] == "softmax" and cfg["transform"] in ("auto", "softmax"):
                out.append((seed, index, cfg))
    return out


def _refused(softmax: dict, cfg: dict) -> list[str]:
    """The checks added to the claim that refuse it at the current limits.

    The misfit, the partial-correlation shift, a rival normalisation (``rival_gap``), a dense graph
    (more than ``DENSE_LIMIT`` edges per class) and too few rows for the split-half check (fewer
    than ``SPLIT_HALF_ROWS`` per column, at most ``FAST_ABOVE`` columns). The last cannot be lifted
    by ``--tuning``; :func:`_claimed_before` counts the runs it refused as claims "before" (when the
    censored-share and rounding-noise checks pass).
    """
    why = []  # the library's own tests of each statistic; a statistic not recorded passes
    misfit, edges = softmax.get("misfit"), softmax.get("misfit_edges")
    if misfit is not None and edges is not None and _softmax_model.misfit_fails(misfit, edges):
        why.append("misfit")
    if softmax.get("pcorr_shift") is not None and _softmax_model.pcorr_shift_fails(softmax["pcorr_shift"]):
        why.append("pcorr_shift")
    if softmax.get("rival_gap") is not None and _softmax_model.rival_fails(softmax["rival_gap"]):
        why.append("rival")
    p = cfg["n_classes"] * cfg["blocks"]
    if p <= _softmax_model.FAST_ABOVE and _softmax_model.density_fails(softmax.get("edges", 0), p):
        why.append("dense")
    if p <= _softmax_model.FAST_ABOVE and cfg["n"] < softmax_transform.SPLIT_HALF_ROWS * p:
        why.append("rows")
    return why


def _claimed_before(softmax: dict) -> bool:
    """Whether the run was claimed identified, or would have been without the rows check.

    The rows check cannot be lifted by ``--tuning``, and it comes before the censored-share and
    rounding-noise checks: a run it refused counts as a claim "before" when those two pass.
    """
    if softmax.get("identified"):
        return True
    return (
        "rows are too few to check" in (softmax.get("reason") or "")
        and softmax.get("censored_share", 0.0) <= softmax_transform.CENSORED_LIMIT
        and softmax.get("rounding_noise", 0.0) <= softmax_transform.ROUNDING_NOISE_LIMIT
    )


def summarize(paths: list[str]) -> None:
    """Print every claim and the counts before and after the checks of :func:`_refused`.

    For runs made with ``--tuning MISFIT_LIMIT=inf PCORR_SHIFT_LIMIT=inf RIVAL_LIMIT=-inf DENSE_LIMIT=inf`` (the statistics
    recorded, not applied; runs of library versions before a check lack its statistic, and count as
    passing it), "before" is the claim without these checks and "after" applies the current limits.
    """
    rows = [json.loads(line) for path in paths for line in open(path)]
    claims = [r for r in rows if r.get("transform") == "softmax" and _claimed_before(r.get("softmax", {}))]
    wrong = [r for r in claims if r["f1"] < 0.9]
    kept = [r for r in claims if not _refused(r["softmax"], r["cfg"])]
    print(f"{len(rows)} configurations ({', '.join(f'seed {s}' for s in sorted({r['seed'] for r in rows}))}), "
          f"{sum(r['outcome'] == 'timed out' for r in rows)} timed out; claimed identified without the misfit, "
          f"partial-correlation, rival, density and rows checks: {len(claims)}, {len(wrong)} with F1 < 0.9; "
          f"with them: {len(kept)}, {sum(r['f1'] < 0.9 for r in kept)} with F1 < 0.9")
    keys = ("overidentification", "relative_se", "pcorr_shift", "misfit", "misfit_edges", "rival_gap", "split_half",
            "rounding_noise", "censored_share")
    print(f"{'seed':>4} {'idx':>4} {'f1':>5} {'orac':>5} " + " ".join(f"{k[:10]:>10}" for k in keys) + "  refused  cfg")
    for r in sorted(claims, key=lambda r: r["f1"]):
        s = r["softmax"]
        text = " ".join(f"{s.get(k):>10.3f}" if isinstance(s.get(k), (int, float)) else f"{'-':>10}" for k in keys)
        cfg = r["cfg"]
        short = (f"{cfg['blocks']}x{cfg['n_classes']} ch{cfg['chain']:g} d{cfg['degree']:g} {cfg['dtype']} "
                 f"s{cfg['logit_scale']:g} dec{cfg['decimals']} imb{cfg['imbalance']:g} n{cfg['n']} std{int(cfg['standardize'])}")
        orac = r.get("oracle_f1")
        refused = ",".join(_refused(s, cfg)) or "-"
        print(f"{r['seed']:>4} {r['index']:>4} {r['f1']:>5.2f} {orac if orac is None else round(orac, 2)!s:>5} {text}  "
              f"{refused:<8} {short}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 11])
    parser.add_argument("--configs", type=int, default=600, help="draws per sweep seed (as the sweep's --configs)")
    parser.add_argument("--max-cells", type=int, default=200_000, help="as the sweep's --max-cells")
    parser.add_argument("--config-seconds", type=float, default=240.0)
    parser.add_argument("--jobs", type=int, default=1,
                        help="configurations run at once, each in its own forked process (at most 2 on a shared 2-core machine)")
    parser.add_argument("--out", default="ident_dev.jsonl")
    parser.add_argument("--extra", action="store_true", help="compute the candidate statistics of the claims ('extra')")
    parser.add_argument("--append", action="store_true", help="append to --out instead of replacing it")
    parser.add_argument("--first", type=int, default=0, help="skip the draws before this index")
    parser.add_argument("--skip", type=int, nargs="*", default=[], help="indices not to run")
    parser.add_argument("--tuning", nargs="*", default=[], metavar="NAME=VALUE",
                        help="set tuning constants of ililab.softmax first, e.g. MISFIT_LIMIT=inf to record a check's "
                        "statistic without applying it")
    parser.add_argument("--summarize", metavar="JSONL", nargs="+", help="only print the claims of earlier runs")
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize)
        return
    for setting in args.tuning:  # set in this process before the forks: the children inherit it
        name, value = setting.split("=")
        setattr(softmax, name, float(value))
    todo = [t for t in candidates(args.seeds, args.configs, args.max_cells) if t[1] >= args.first and t[1] not in args.skip]
    print(f"{len(todo)} configurations can end in a softmax inversion", file=sys.stderr, flush=True)
    start = time.perf_counter()
    with open(args.out, "a" if args.append else "w") as out:
        for done, row in enumerate(_run_all(todo, args.config_seconds, max(1, args.jobs), args.extra), 1):
            out.write(json.dumps(row) + "\n")
            out.flush()
            tag = row.get("transform") or row["outcome"]
            ident = " identified" if row.get("softmax", {}).get("identified") else ""
            f1 = f" F1={row['f1']:.2f}" if "f1" in row else ""
            print(f"[{done}/{len(todo)} {time.perf_counter() - start:.0f}s] seed {row['seed']} #{row['index']} "
                  f"{tag}{ident}{f1} ({row['seconds']} s)", file=sys.stderr, flush=True)
    for setting in args.tuning:  # the summary's "after" applies the library's limits, not the lifted ones
        delattr(softmax, setting.split("=")[0])
    summarize([args.out])


if __name__ == "__main__":
    main()
