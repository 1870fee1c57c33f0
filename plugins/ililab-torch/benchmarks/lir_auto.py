"""``lam="auto"`` against the metric-only student, paired per seed, in both synthetic regimes.

Per regime and seed: ``simulate_av`` (regime ``balanced``: the example's small-data setting, 10
classes; regime ``skewed``: 2 x 28 classes, 6:1 imbalance, events in one modality only, noisier
features, a teacher trained half as long), out-of-fold teacher soft labels, a GRaSP graph on the
train logits with default settings, a metric-only student and a student with the library defaults
(``StudentConfig()``: ``lam="auto"``, ``pairs="auto"``); optionally the paper's explicit settings
(``--paper``: λ 1, pairs edges) on the same graph. Prints one JSON line per seed (the choice, its
validation gain, the paired test gain, the CPU time of the auto student over the metric-only one's) and the table.

Seeds: 0-4 designed the first procedure (300-304 its held-out check); 400-405 designed the third
(``--curve``: every candidate also trained in full, to see whether validation ranks like test); 600-604
checked an intermediate version and 700-704 the third (the default), each run once after it was committed;
the default ran again on 900-904. The two-fold plan (``--plan two-fold``: two folds, branches from the initial
weights; not the default) was designed on 410-419 (``lir_auto_dev.py``, and ``--fixed`` here for every
candidate's test gain) and held out once on 900-904:

    python plugins/ililab-torch/benchmarks/lir_auto.py --seeds 900,901,902,903,904
    python plugins/ililab-torch/benchmarks/lir_auto.py --seeds 900,901,902,903,904 --paper --plan two-fold
"""

from __future__ import annotations

import argparse
import os

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ[_var] = "1"

import time  # noqa: E402

import numpy as np  # noqa: E402
from _bench import prepare, run_seeds  # noqa: E402
from ililab_torch import StudentConfig, evaluate, train_student  # noqa: E402
from ililab_torch.auto import AutoPlan  # noqa: E402
from ililab_torch.synthetic import REGIMES as SIM_REGIMES  # noqa: E402

#: simulate_av settings, teacher epochs and student settings per regime (the example's "small" and "skewed").
REGIMES = {
    "balanced": ({**SIM_REGIMES["balanced"], "clips_per_class": 60, "dim_visual": 1024}, 60),
    "skewed": ({**SIM_REGIMES["skewed"], "dim_visual": 1024}, 30),
}
STUDENT = {"epochs": 80, "dropout": 0.0, "weight_decay": 0.0}
#: the auto plans ``--plan`` picks: the library default and the two-fold plan held out on 900-904
PLANS = {"default": AutoPlan(), "two-fold": AutoPlan(folds=2, warm_share=0.0, budget=0.5)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--regimes", default="balanced,skewed")
    p.add_argument("--paper", action="store_true", help="Also the paper's explicit settings (lambda 1, pairs edges).")
    p.add_argument("--curve", action="store_true",
                   help="Also the test gain of every auto candidate given explicitly (does validation rank like test?).")
    p.add_argument("--fixed", default="",
                   help="Also the test gain of these explicit settings, e.g. edges:1,classes:2 (pair use:lambda).")
    p.add_argument("--plan", choices=sorted(PLANS), default="default", help="The auto plan of the 'auto' row.")
    a = p.parse_args()
    plan = PLANS[a.plan]
    fixed = [(u, float(lam)) for u, lam in (f.split(":") for f in a.fixed.split(",") if f)]
    regimes = a.regimes.split(",")
    for name in regimes:
        if name not in REGIMES:
            raise SystemExit(f"unknown regime {name!r}; choose from {', '.join(REGIMES)}")

    def one_seed(seed: int) -> dict:
        r: dict = {"seed": seed}
        for name in regimes:
            simulate, teacher_epochs = REGIMES[name]
            s = prepare(seed, teacher_epochs, **simulate)
            st = {**STUDENT, "seed": seed}
            t0 = time.process_time()
            base = train_student(s.data, s.train, None, None, StudentConfig(**st, lam=0.0))
            t_base = time.process_time() - t0
            t0 = time.process_time()
            auto = train_student(s.data, s.train, s.soft.probabilities, s.graph, StudentConfig(**st), auto_plan=plan)
            t_auto = time.process_time() - t0
            b = evaluate(base, s.data, s.test)["mean"]
            choice = auto.lir_choice
            r[f"{name}_base"] = b
            r[f"{name}_gain"] = evaluate(auto, s.data, s.test)["mean"] - b
            r[f"{name}_choice"] = f"{choice['pairs']} {choice['lam']:g}" if choice["lam"] > 0 else "off"
            r[f"{name}_valgain"] = max([c["gain"] for c in choice["curve"]], default=0.0)
            r[f"{name}_curve"] = [{k: c[k] for k in ("pairs", "lam", "gain", "se", "se_query")} for c in choice["curve"]]
            # the whole auto student (choice + final training) over the metric-only student: at most 2 is the target
            r[f"{name}_time_ratio"] = t_auto / t_base
            if a.curve:
                for point in r[f"{name}_curve"]:
                    cfg = StudentConfig(**st, lam=point["lam"]).with_pairs(point["pairs"])
                    test = evaluate(train_student(s.data, s.train, s.soft.probabilities, s.graph, cfg), s.data, s.test)
                    point["test"] = test["mean"] - b
            for use, lam in fixed:
                cfg = StudentConfig(**st, lam=lam).with_pairs(use)
                test = evaluate(train_student(s.data, s.train, s.soft.probabilities, s.graph, cfg), s.data, s.test)
                r[f"{name}_fixed_{use}_{lam:g}"] = test["mean"] - b
            if a.paper:
                paper = train_student(s.data, s.train, s.soft.probabilities, s.graph,
                                      StudentConfig(**st, lam=1.0).with_pairs("edges"))
                r[f"{name}_paper_gain"] = evaluate(paper, s.data, s.test)["mean"] - b
        return r

    def summarize(rows: list[dict]) -> None:
        print(f"paired test mean-mAP gain over the metric-only student, seeds {a.seeds}")
        print(f"{'regime':<10}{'settings':<22}{'gain mean ± sd':>20}{'positive':>10}{'worst':>9}   choices / time")
        for name in regimes:
            entries = [(f"auto ({a.plan})", f"{name}_gain")] + ([("paper (lam 1, edges)", f"{name}_paper_gain")]
                                                             if a.paper else [])
            entries += [(f"{use} {lam:g}", f"{name}_fixed_{use}_{lam:g}") for use, lam in fixed]
            for label, key in entries:
                g = np.array([r[key] for r in rows])
                sd = g.std(ddof=1) if g.size > 1 else 0.0
                extra = ""
                if key.endswith("_gain") and not key.endswith("paper_gain"):
                    ratio = [r[f"{name}_time_ratio"] for r in rows]
                    extra = (f"   {', '.join(r[f'{name}_choice'] for r in rows)}; CPU time auto / metric-only "
                             f"{np.mean(ratio):.2f} (max {np.max(ratio):.2f})")
                print(f"{name:<10}{label:<22}{f'{g.mean():+.4f} ± {sd:.4f}':>20}{f'{(g > 0).sum()}/{g.size}':>10}"
                      f"{g.min():>+9.4f}{extra}")
        print("base mAP: " + ", ".join(f"{n} {np.mean([r[f'{n}_base'] for r in rows]):.4f}" for n in regimes))

    run_seeds(a, one_seed, summarize)


if __name__ == "__main__":
    main()
