"""Randomized sweep: soft labels as real classifiers emit them must never end in an internal error.

Draws configurations from a seeded grid -- classes per block C in 3-527, one or two blocks,
confidence scale s in 1-8 (logits not standardised, so chained and high-degree classes
saturate), within-block chains of weight up to 3, float16/32/64, rounding to 3-6 decimals,
class imbalance, softmax or sigmoid (multi-label) outputs, n in 500-20,000 -- simulates each
with :func:`ililab.simulate.simulate_soft_labels` and runs ``ililab.infer_graph`` with the
``auto`` transform (and, for a third of them, ``logit`` or ``softmax``). An
:class:`~ililab.errors.IlilabError` is a clear user error (exit 1 or 2 of the CLI); any other
exception is what the CLI reports with exit 3. Prints one line per configuration that ended in
exit 3 (or was reported identified with F1 < 0.9) and a summary count -- also when the time
budget ends in the middle of a configuration, on Ctrl-C and on SIGTERM. A configuration that runs
longer than ``--config-seconds`` is stopped, printed and counted as timed out (a speed problem to
look at, not a result). Exits 1 when any configuration ended in exit 3.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/softmax_sweep.py [--configs 500] [--seed 0] \\
        [--budget-seconds 3600] [--config-seconds 600] [--max-cells 200000]
"""

from __future__ import annotations

from _common import pin_blas

pin_blas()

import argparse  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import ililab  # noqa: E402
from ililab.errors import IlilabError  # noqa: E402
from ililab.metrics import adjacency_scores  # noqa: E402
from ililab.simulate import simulate_soft_labels  # noqa: E402

CLASSES = (3, 4, 5, 6, 8, 10, 16, 20, 50, 100, 527)
SCALES = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
CHAINS = (0.0, 0.0, 0.5, 1.0, 2.0, 3.0)
DTYPES = ("float16", "float32", "float64")
DECIMALS = (None, None, 3, 4, 6)
SAMPLES = (500, 1000, 2000, 5000, 8000, 20000)


def draw(rng: np.random.Generator, max_cells: int) -> dict:
    """One configuration; ``C * blocks * n`` is kept below ``max_cells`` (the big ones are slow)."""
    while True:
        cfg = {
            "n_classes": int(rng.choice(CLASSES)),
            "blocks": int(rng.choice([1, 2])),
            "logit_scale": float(rng.choice(SCALES)),
            "chain": float(rng.choice(CHAINS)),
            "dtype": str(rng.choice(DTYPES)),
            "decimals": DECIMALS[int(rng.integers(len(DECIMALS)))],
            "imbalance": float(rng.choice([1.0, 1.0, 100.0])),
            "output": str(rng.choice(["softmax", "softmax", "softmax", "sigmoid"])),
            "n": int(rng.choice(SAMPLES)),
            "degree": float(rng.choice([1.0, 2.0, 4.0])),
            "standardize": bool(rng.random() < 0.3),
            "transform": str(rng.choice(["auto", "auto", "auto", "auto", "logit", "softmax"])),
            "seed": int(rng.integers(1_000_000)),
        }
        if cfg["n_classes"] * cfg["blocks"] * cfg["n"] <= max_cells:
            return cfg


def simulate(cfg: dict):
    """The soft labels of one drawn configuration (what every script re-running sweep draws uses)."""
    modalities = ("audio", "visual")[: cfg["blocks"]]
    return simulate_soft_labels(
        cfg["n_classes"], cfg["n"], modalities, cfg["degree"], cfg["seed"], cfg["logit_scale"],
        dtype=cfg["dtype"], output=cfg["output"], decimals=cfg["decimals"], imbalance=cfg["imbalance"],
        chain=cfg["chain"], weight_range=(0.5, 1.5), standardize=cfg["standardize"],
    )


def run_one(cfg: dict) -> tuple[str, str, float | None]:
    sim = simulate(cfg)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = ililab.infer_graph(sim.probabilities, names=sim.names, transform=cfg["transform"], seed=0)
    except IlilabError as error:
        return "user error", f"{type(error).__name__}: {error}", None
    except Exception as error:  # what the CLI would report with exit 3
        return "exit 3", f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=-3)}", None
    f1 = adjacency_scores(graph, sim.true_graph).f1
    if graph.meta.get("data", {}).get("softmax", {}).get("identified"):
        return "ok", f"{graph.meta.get('transform', '?')} (identified)", f1
    return "ok", graph.meta.get("transform", "?"), f1


class _BudgetOver(BaseException):
    """Raised by the alarm when the time budget ends in the middle of a configuration.

    A ``BaseException``, so ``run_one`` does not count it as an internal error.
    """


class _ConfigOver(BaseException):
    """Raised by the alarm when one configuration runs longer than ``--config-seconds``."""


def _summary(counts: dict, identified: list[float], seconds: float, stopped: str) -> str:
    done = sum(counts.values())
    low = sum(f1 < 0.9 for f1 in identified)
    return (
        f"{done} configurations in {seconds:.0f} s ({stopped}): {counts['ok']} graphs, "
        f"{counts['user error']} clear user errors, {counts['exit 3']} internal errors (exit 3), "
        f"{counts['timed out']} timed out; "
        f"{len(identified)} graphs reported identified, {low} of them with F1 < 0.9"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-seconds", type=float, default=3600.0,
                        help="stop after this long, also in the middle of a configuration (which is not counted)")
    parser.add_argument("--config-seconds", type=float, default=600.0,
                        help="stop a configuration after this long and count it as timed out")
    parser.add_argument("--max-cells", type=int, default=200_000, help="largest C * blocks * n drawn")
    parser.add_argument("--verbose", action="store_true", help="print every configuration")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    counts = {"ok": 0, "user error": 0, "exit 3": 0, "timed out": 0}
    identified: list[float] = []  # F1 of the graphs whose softmax inversion was reported identified

    deadline = start + args.budget_seconds
    config_deadline = [deadline]

    def over(signum, frame):
        raise _BudgetOver if config_deadline[0] >= deadline else _ConfigOver

    def terminated(signum, frame):
        raise KeyboardInterrupt

    # The summary is printed however the run ends: all configurations done, the budget over (an
    # alarm interrupts a long configuration), Ctrl-C or a SIGTERM from a job runner.
    signal.signal(signal.SIGALRM, over)
    signal.signal(signal.SIGTERM, terminated)
    stopped = "all drawn"
    try:
        for i in range(args.configs):
            cfg = draw(rng, args.max_cells)
            # one alarm: the end of this configuration's time or of the whole budget, whichever is first
            now = time.perf_counter()
            config_deadline[0] = min(deadline, now + args.config_seconds)
            signal.setitimer(signal.ITIMER_REAL, max(config_deadline[0] - now, 1e-3))
            try:
                try:
                    outcome, detail, f1 = run_one(cfg)
                except _ConfigOver:
                    outcome, detail, f1 = "timed out", f"stopped after {args.config_seconds:.0f} s", None
                signal.setitimer(signal.ITIMER_REAL, 0)
            except _ConfigOver:
                # the alarm landed after run_one returned, before it was disarmed: the configuration
                # finished (its outcome is set), so the sweep goes on instead of ending as "budget over"
                signal.setitimer(signal.ITIMER_REAL, 0)
            counts[outcome] += 1
            if detail.endswith("(identified)"):
                identified.append(f1)
            if outcome != "ok" or args.verbose or (detail.endswith("(identified)") and f1 < 0.9):
                f1_text = "" if f1 is None else f" F1={f1:.2f}"
                print(f"[{i}] {outcome}{f1_text}: {cfg} -> {detail.splitlines()[0][:200] if detail else ''}", flush=True)
                if outcome == "exit 3":
                    print(detail, flush=True)
    except (_BudgetOver, _ConfigOver):  # the budget's alarm (a configuration's is caught above)
        stopped = "time budget over"
    except KeyboardInterrupt:
        stopped = "interrupted"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        print(_summary(counts, identified, time.perf_counter() - start, stopped), flush=True)
    sys.exit(1 if counts["exit 3"] else 0)


if __name__ == "__main__":
    main()
