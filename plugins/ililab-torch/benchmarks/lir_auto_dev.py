"""Development of ``lam="auto"``: several choice procedures (``AutoPlan`` variants) on the same seeds, and the
test gain of the candidates they choose from, each trained in full.

Per regime and seed (as ``lir_auto.py``): the simulation, teacher and graph; the metric-only student; every
candidate ``(lam, pairs)`` given explicitly (its paired test gain); then, for each plan, only the choice
(:func:`ililab_torch.choose_lir`): its validation curve and CPU time. One JSON line per seed-regime; a rule
can then be scored offline (which candidate would it pick, and what did that candidate gain on test?).
Development seeds only (400-405, 410-419); never the seeds of a held-out claim.

    python plugins/ililab-torch/benchmarks/lir_auto_dev.py --seeds 410,411 --plans default,scratch,folds2
"""

from __future__ import annotations

import argparse
import os

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ[_var] = "1"

import time  # noqa: E402

import numpy as np  # noqa: E402
from _bench import prepare, run_seeds  # noqa: E402
from ililab_torch import StudentConfig, choose_lir, evaluate, train_student  # noqa: E402
from ililab_torch.auto import AutoPlan  # noqa: E402
from lir_auto import REGIMES, STUDENT  # noqa: E402

#: the procedures compared (name -> AutoPlan)
PLANS = {
    "default": AutoPlan(),
    "scratch": AutoPlan(warm_share=0.0),
    "folds2": AutoPlan(warm_share=0.4, folds=2),
    "scratch_folds2": AutoPlan(warm_share=0.0, folds=2),
    "warm10_folds2": AutoPlan(warm_share=0.1, folds=2),
    "scratch_folds2_b50": AutoPlan(warm_share=0.0, folds=2, budget=0.5),
}


def _bound(point: dict, rule: AutoPlan) -> float:
    """A curve point's lower bound ``gain - z * se`` (an infinite se is stored as None)."""
    return point["gain"] - rule.z * (float("inf") if point["se"] is None else point["se"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="410,411,412,413,414")
    p.add_argument("--regimes", default="balanced,skewed")
    p.add_argument("--plans", default="default,scratch,folds2")
    p.add_argument("--candidates", default="edges:2,classes:2",
                   help="Settings trained in full for their test gain ('' for none), pair use:lambda.")
    a = p.parse_args()
    regimes, plans = a.regimes.split(","), a.plans.split(",")
    fixed = [(u, float(lam)) for u, lam in (f.split(":") for f in a.candidates.split(",") if f)]

    def one_seed(seed: int) -> dict:
        r: dict = {"seed": seed}
        for name in regimes:
            simulate, teacher_epochs = REGIMES[name]
            s = prepare(seed, teacher_epochs, **simulate)
            st = {**STUDENT, "seed": seed}
            t0 = time.process_time()
            base_model = train_student(s.data, s.train, None, None, StudentConfig(**st, lam=0.0))
            t_base = time.process_time() - t0
            base = evaluate(base_model, s.data, s.test)["mean"]
            r[f"{name}_base"] = base
            for use, lam in fixed:
                cfg = StudentConfig(**st, lam=lam).with_pairs(use)
                model = train_student(s.data, s.train, s.soft.probabilities, s.graph, cfg)
                r[f"{name}_test_{use}_{lam:g}"] = evaluate(model, s.data, s.test)["mean"] - base
            for plan in plans:
                t0 = time.process_time()
                choice = choose_lir(s.data, s.train, s.soft.probabilities, s.graph, StudentConfig(**st),
                                    auto_plan=PLANS[plan])
                r[f"{name}_{plan}_time"] = (time.process_time() - t0) / t_base  # the choice alone / one metric-only run
                r[f"{name}_{plan}"] = [{k: c[k] for k in ("pairs", "lam", "gain", "se", "se_query")}
                                       for c in choice.as_dict()["curve"]]
        return r

    def summarize(rows: list[dict]) -> None:
        """Per regime: each candidate's test gain, then each plan's choice per seed (its rule: the largest
        ``gain - z * se`` above ``min_gain``) with the test gain of the chosen candidate where it was trained."""
        for name in regimes:
            for use, lam in fixed:
                g = np.array([r[f"{name}_test_{use}_{lam:g}"] for r in rows])
                print(f"{name:<10}{f'{use} {lam:g} (fixed)':<24}{g.mean():+.4f}  positive {(g > 0).sum()}/{g.size}"
                      f"  worst {g.min():+.4f}")
            for plan in plans:
                rule, picks = PLANS[plan], []
                for r in rows:
                    best = max(r[f"{name}_{plan}"], key=lambda c, rule=rule: _bound(c, rule))
                    on = _bound(best, rule) > rule.min_gain
                    key = f"{name}_test_{best['pairs']}_{best['lam']:g}"
                    test = (f"{r[key]:+.4f}" if key in r else "?") if on else "+0.0000"
                    picks.append(f"{r['seed']}: {best['pairs'] + ' ' + format(best['lam'], 'g') if on else 'off'} {test}")
                print(f"{name:<10}{plan:<24}" + ", ".join(picks))

    run_seeds(a, one_seed, summarize)


if __name__ == "__main__":
    main()
