"""Record / compare the outputs of the native GRaSP and BOSS searches (refactoring guard).

Usage::

    .venv/bin/python benchmarks/search_regression.py record /tmp/reference.json
    .venv/bin/python benchmarks/search_regression.py compare /tmp/reference.json
    .venv/bin/python benchmarks/search_regression.py compare /tmp/reference.json --restarts 4

For a fixed set of simulated data sets and settings (GRaSP defaults and restarts=1 with other
depths / tuck kinds / ordered / max_parents / a tiny cache that forces clears, BOSS defaults and
restarts=1, with background knowledge, dense p = 30, soft labels 2 x 10 classes; near-collinear
data and a cache too small for one trace at search level only) it stores the ``ililab.graph/v1``
JSON of ``ililab.infer_graph`` and, one level lower, the order, DAG, exact score, restart
scores and search statistics of ``grasp_search`` / ``boss_search``. ``compare`` reruns
everything and reports any case whose JSON text or search record differs byte for byte (and
whether the edges and scores still agree). Exit status 1 on a difference. Meant to be run before
and after any change to the search kernels that must not change results.

``--restarts K`` runs every case that sets no ``restarts`` with ``restarts=K``, and compares the
JSON after dropping the ``meta.params`` / ``meta.search`` entries the reference does not have:
with ``K = 4`` against a reference recorded before the stopping rule (the default then was 4
fixed restarts) it checks that the old default is still reproduced exactly, only with entries added.
``--added-ok`` does the same entry dropping without changing the restarts: for a change that only
adds a parameter (e.g. ``rugged``) to ``meta.params``, everything else must stay byte for byte.
"""

from __future__ import annotations

from _common import pin_blas

pin_blas()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402


def _sem(p: int, n: int, seed: int, degree: float = 2.0) -> tuple[np.ndarray, list[str]]:
    from ililab.simulate import simulate_linear_sem

    sim = simulate_linear_sem(p, n, expected_degree=degree, seed=seed)
    return sim.data, list(sim.names)


def _soft(classes: int, n: int, seed: int) -> tuple[np.ndarray, list[str]]:
    from ililab.simulate import simulate_soft_labels

    sim = simulate_soft_labels(classes, n, seed=seed)
    return sim.probabilities.astype(np.float64), list(sim.names)


def _collinear(seed: int) -> tuple[np.ndarray, list[str]]:
    x, names = _sem(8, 2000, seed)
    rng = np.random.default_rng(seed)
    extra = x[:, 0] - 2 * x[:, 3] + 1e-9 * rng.standard_normal(x.shape[0])
    return np.column_stack([x, extra]), names + ["X_dup"]


def _knowledge(names: list[str]):
    from ililab.knowledge import Knowledge

    return Knowledge(
        required=[(names[0], names[5])],
        forbidden=[(names[2], names[7]), (names[7], names[2]), (names[9], names[1])],
        tiers=[names[:4], names[4:8]],
    )


# name -> (data factory, learner, infer_graph keyword arguments, uses knowledge)
CASES: dict[str, tuple[Callable[[], tuple[np.ndarray, list[str]]], str, dict, bool]] = {
    "grasp-default-p10": (lambda: _sem(10, 2000, 0), "grasp", {}, False),
    "grasp-default-p20": (lambda: _sem(20, 5000, 1), "grasp", {"seed": 3}, False),
    "grasp-r1-depth1-covered": (lambda: _sem(30, 5000, 2), "grasp", {"restarts": 1, "depth": 1, "tucks": "covered"}, False),
    "grasp-r1-depth2-singular": (lambda: _sem(30, 5000, 3), "grasp", {"restarts": 1, "depth": 2, "tucks": "singular"}, False),
    "grasp-r1-ordered": (lambda: _sem(25, 5000, 4), "grasp", {"restarts": 1, "ordered": True}, False),
    "grasp-r2-maxparents-dag": (lambda: _sem(25, 5000, 5), "grasp", {"restarts": 2, "max_parents": 2, "graph": "dag"}, False),
    "grasp-tinycache-p60": (lambda: _sem(60, 5000, 6), "grasp", {"restarts": 2, "cache_size": 1000}, False),
    "grasp-knowledge": (lambda: _sem(12, 3000, 7), "grasp", {}, True),
    "grasp-dense30": (lambda: _sem(30, 5000, 8, degree=8.0), "grasp", {}, False),
    "grasp-soft2x10": (lambda: _soft(10, 5000, 9), "grasp", {}, False),
    "grasp-collinear": (lambda: _collinear(10), "grasp", {}, False),
    "grasp-fallback-dense30": (lambda: _sem(30, 5000, 8, degree=8.0), "grasp", {"restarts": 1, "cache_size": 1}, False),
    "boss-default-p20": (lambda: _sem(20, 5000, 1), "boss", {}, False),
    "boss-r1-p50": (lambda: _sem(50, 5000, 11), "boss", {"restarts": 1, "seed": 2}, False),
    "boss-knowledge": (lambda: _sem(12, 3000, 7), "boss", {}, True),
    "boss-dense30": (lambda: _sem(30, 5000, 8, degree=8.0), "boss", {}, False),
    "boss-soft2x10": (lambda: _soft(10, 5000, 9), "boss", {}, False),
    "boss-tinycache-p60": (lambda: _sem(60, 5000, 6), "boss", {"cache_size": 1000, "max_parents": 3}, False),
    "boss-collinear": (lambda: _collinear(10), "boss", {}, False),
    "boss-fallback-dense30": (lambda: _sem(30, 5000, 8, degree=8.0), "boss", {"restarts": 1, "cache_size": 1}, False),
}


def _search_record(learner: str, x: np.ndarray, kwargs: dict) -> dict:
    """The lower-level search result on the plain covariance (no transform, no knowledge)."""
    from ililab.scores.bic import BICScore
    from ililab.search.boss import boss_search
    from ililab.search.grasp import grasp_search

    score = BICScore(np.cov(x, rowvar=False), x.shape[0], 4.0)
    keys = {"restarts", "seed", "max_parents", "cache_size"}
    if learner == "grasp":
        keys |= {"depth", "tucks", "ordered"}
    args = {k: v for k, v in kwargs.items() if k in keys}
    result = (grasp_search if learner == "grasp" else boss_search)(score, **args)
    return {
        "order": [int(v) for v in result.order],
        "dag": np.flatnonzero(result.dag).tolist(),
        "score": repr(float(result.score)),
        "restart_scores": [repr(float(s)) for s in result.restart_scores],
        "best_restart": int(result.best_restart),
        "stats": {k: int(v) for k, v in result.stats.items()},
    }


def run_all(restarts: int | None = None) -> dict[str, dict]:
    import ililab

    out = {}
    for name, (factory, learner, kwargs, with_knowledge) in CASES.items():
        if restarts is not None:
            kwargs = {"restarts": restarts, **kwargs}
        x, names = factory()
        search = _search_record(learner, x, kwargs)
        if "fallback" in name or name.endswith("collinear"):
            # infer_graph refuses a singular covariance and a cache below 1000: search level only
            out[name] = {"json": "", "search": search}
            print(f"{name}: score {float(search['score']):.6f}", flush=True)
            continue
        knowledge = _knowledge(names) if with_knowledge else None
        graph = ililab.infer_graph(x, names=names, learner=learner, knowledge=knowledge, **kwargs)
        out[name] = {"json": graph.to_json(), "search": search}
        print(f"{name}: {len(graph.edges)} edges, score {graph.meta['score']:.6f}", flush=True)
    return out


def _edges(text: str) -> tuple[dict, float]:
    """(source, target, kind) -> weight of every edge, and the score, of an ``ililab.graph/v1`` text."""
    doc = json.loads(text)
    return {(e["source"], e["target"], e["kind"]): e.get("weight") for e in doc["edges"]}, float(doc["meta"]["score"])


def _max_weight_diff(e0: dict, e1: dict) -> float:
    diffs = [abs(e0[k] - e1[k]) for k in e0.keys() & e1.keys() if e0[k] is not None and e1[k] is not None]
    return max(diffs, default=0.0)


def _drop_added(reference_json: str, current_json: str) -> str:
    """``current_json`` without the ``meta.params`` / ``meta.search`` entries ``reference_json`` lacks."""
    if not reference_json or not current_json:
        return current_json
    ref, cur = json.loads(reference_json), json.loads(current_json)
    for part in ("params", "search"):
        if part in cur["meta"] and part in ref["meta"]:
            cur["meta"][part] = {k: v for k, v in cur["meta"][part].items() if k in ref["meta"][part]}
    return json.dumps(cur, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def compare(reference: dict, current: dict, only_added: bool = False) -> int:
    bad = 0
    for name, ref in reference.items():
        cur = current.get(name)
        if cur is None:
            print(f"MISSING {name}")
            bad += 1
            continue
        if only_added:
            cur = {**cur, "json": _drop_added(ref["json"], cur["json"])}
        same_json = cur["json"] == ref["json"]
        same_search = cur["search"] == ref["search"]
        if same_json and same_search:
            continue
        bad += 1
        e0, s0 = _edges(ref["json"]) if ref["json"] else ({}, float(ref["search"]["score"]))
        e1, s1 = _edges(cur["json"]) if cur["json"] else ({}, float(cur["search"]["score"]))
        print(
            f"DIFF {name}: json identical={same_json}, search identical={same_search}, "
            f"edges identical={e0.keys() == e1.keys()}, |score diff|={abs(s0 - s1):.3g}, "
            f"max |weight diff|={_max_weight_diff(e0, e1):.3g}"
        )
        if not same_search:
            for key in ref["search"]:
                if ref["search"][key] != cur["search"][key]:
                    print(f"    {key}: {ref['search'][key]} -> {cur['search'][key]}")
    print(f"{len(reference) - bad}/{len(reference)} cases identical")
    return 1 if bad else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["record", "compare"])
    parser.add_argument("path")
    parser.add_argument("--restarts", type=int, default=None, help="restarts=K for every case that sets none")
    parser.add_argument("--added-ok", action="store_true",
                        help="ignore meta.params / meta.search entries the reference does not have")
    args = parser.parse_args()
    current = run_all(args.restarts)
    if args.mode == "record":
        with open(args.path, "w", encoding="utf-8") as handle:
            json.dump(current, handle, indent=1, sort_keys=True)
        print(f"recorded {len(current)} cases to {args.path}")
        return
    with open(args.path, encoding="utf-8") as handle:
        reference = json.load(handle)
    sys.exit(compare(reference, current, only_added=args.restarts is not None or args.added_ok))


if __name__ == "__main__":
    main()
