"""Replay the converged restart rule on recorded restart scores, and an alternative stopping count.

``converged_restarts`` (``ililab/search/_restarts.py``) decides when a chain ends and when the
search stops from the restart scores alone, so a recorded run can be split into its chains and
stopped earlier by another rule without rerunning it (as long as the chains themselves are
unchanged). This script checks that its replay of the current rule stops where the run stopped,
then reports where the *margin* rule would stop: ``hits`` chains that ended within ``margin``
(one edge's BIC penalty) of the best chain end, instead of at the best score exactly; and the
gap between the best score found by then and the run's best.

Usage::

    python benchmarks/replay_stopping_rule.py --reference /tmp/reference.json   # search_regression.py record
    python benchmarks/replay_stopping_rule.py --runs grasp527.jsonl             # softmax_graphs.py --scores-out
"""

from __future__ import annotations

import argparse
import json
import math

HITS, ILS, PATIENCE, RUGGED = 3, 8, 20, 5.0  # the defaults of converged_restarts


def chains(scores: list[float], tol: float) -> list[tuple[int, float]]:
    """(end, best score) of each chain, as converged_restarts forms them."""
    out: list[tuple[int, float]] = []
    r, best_chain = 0, None
    while r < len(scores):
        chain, fails = None, 0
        while r < len(scores) and fails < ILS:
            total = scores[r]
            r += 1
            if chain is None or total > chain + tol:
                chain, fails = total, 0
            else:
                fails += 1
            if best_chain is not None and abs(chain - best_chain) <= tol:
                break
        assert chain is not None
        out.append((r, chain))
        if best_chain is None or chain > best_chain + tol:
            best_chain = chain
    return out


def stop_current(ends: list[tuple[int, float]], tol: float, margin: float) -> int | None:
    best, hits, since, best_at = None, 0, 0, 0
    values: list[float] = []
    for end, value in ends:
        values.append(value)
        reached = best is not None and abs(value - best) <= tol
        if best is None or value > best + tol:
            best, hits, since, best_at = value, 1, 0, len(values)
        else:
            hits += reached
            since += 1
        if hits >= HITS or since >= PATIENCE:
            return end
        # rule 4 (rugged): only the best chain ended within RUGGED margins of the best score, and a
        # chain ended after the best one
        if len(values) >= HITS and best_at < len(values) and sum(v >= best - RUGGED * margin for v in values) == 1:
            return end
    return None


def stop_margin(ends: list[tuple[int, float]], margin: float) -> int | None:
    values: list[float] = []
    for end, value in ends:
        values.append(value)
        if sum(v >= max(values) - margin for v in values) >= HITS:
            return end
    return None


def report(name: str, scores: list[float], n: int, margin: float) -> None:
    tol = max(1e-6, 1e-9 * n)
    ends = chains(scores, tol)
    current = stop_current(ends, tol, margin) or len(scores)
    alternative = stop_margin(ends, margin) or len(scores)
    gap = max(scores) - max(scores[:alternative])
    check = "ok" if current == len(scores) else f"MISMATCH (replay stops at {current})"
    print(f"{name:<34} {len(scores):>5} restarts, {len(ends):>3} chains, replay {check:<4}; "
          f"margin rule: {alternative:>4} restarts (best score gap {gap:.3g})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", help="a search_regression.py record (converged cases only are replayed)")
    parser.add_argument("--runs", nargs="+", default=[], help="JSON lines of softmax_graphs.py --audioset --scores-out")
    args = parser.parse_args()
    if args.reference:
        from search_regression import CASES

        with open(args.reference, encoding="utf-8") as handle:
            reference = json.load(handle)
        for name, record in reference.items():
            factory, _, kwargs, _ = CASES[name]
            if "restarts" in kwargs:
                continue
            n = factory()[0].shape[0]
            report(name, [float(s) for s in record["search"]["restart_scores"]], n, 0.5 * 4.0 * math.log(n))
    for path in args.runs:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                r = json.loads(line)
                if r["restarts"] is not None:
                    continue
                for kind in ("logits", "probabilities"):
                    run = r[kind]
                    name = f"data {r['data_seed']} seed {r['seed']} {kind}"
                    report(name, run["restart_scores"], 20000, run["margin"])


if __name__ == "__main__":
    main()
