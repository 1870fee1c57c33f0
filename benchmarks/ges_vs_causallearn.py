"""ililab's native GES against causal-learn's ``ges`` (the ``cl-ges`` learner) on the same data, in one process.

Usage::

    .venv/bin/python benchmarks/ges_vs_causallearn.py                 # p = 10, 20, 30; 3 seeds each
    .venv/bin/python benchmarks/ges_vs_causallearn.py --sizes 10,20 --seeds 2
    .venv/bin/python benchmarks/ges_vs_causallearn.py --knowledge 10,28     # ges vs boss under knowledge
    .venv/bin/python benchmarks/ges_vs_causallearn.py --internals 10,20,30  # GES bitsets vs ililab.cpdag

Both run single-threaded (BLAS pinned to one thread before numpy is imported) on the same
covariance (n = 10,000 rows of a linear-Gaussian SEM over a random DAG, expected degree 2) with
the same penalty (ililab ``penalty = 4``, causal-learn ``lambda_value = 2``), through the learners
``ges`` and ``cl-ges`` (so both times include building the output graph).

Per size it prints, over the seeds: CPU seconds of this process (``time.process_time``) summed,
for ililab's ``ges`` (warm: the BIC kernel is loaded once before timing) and causal-learn's, their
ratio; the mean total BIC of both results (ililab's score on the same covariance: each CPDAG is
extended to a DAG and scored with one ``BICScore``); how many seeds gave the identical CPDAG; and
the mean SHD of each CPDAG to the true one.

``--knowledge C1,C2`` instead compares ``ges`` with ``boss`` (default settings) under background
knowledge (causal-learn's GES takes none): on the logits of ``simulate_soft_labels(C, 20000,
seed=0)`` (2 x C nodes), without knowledge, with tiers ``visual, audio`` and with
``--forbid-within-modality``, printing CPU seconds, total BIC, and GES's inserts, deletes and
candidates rejected by the knowledge.

``--internals P1,P2`` times ``ges_search`` itself twice per data set, paired in this process:
with its bitset CPDAG / Meek / Dor-Tarsi steps, and with those steps replaced by the one
reference implementation of each in :mod:`ililab.cpdag` (bitsets converted to matrices and
back); it checks both give the same result and prints the CPU-time ratio. This is why GES
keeps its bitset copies (as pinned internals, cross-checked by tests/search/test_ges.py).
"""

from __future__ import annotations

from _common import pin_blas

pin_blas()

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def total_bic(graph, score) -> float:
    """BIC of a DAG of the CPDAG ``graph`` (ililab's score; the same for every DAG of the class)."""
    from ililab.cpdag import pdag_to_dag

    adjacency = graph.adjacency() != 0
    try:
        dag = pdag_to_dag(adjacency & ~adjacency.T, adjacency & adjacency.T)
    except ValueError:  # no consistent extension
        return float("nan")
    return score.score_dag(dag)


def run_size(p: int, seeds: int, n: int, degree: float) -> dict:
    from ililab.dataset import Dataset
    from ililab.learners import get
    from ililab.metrics import shd
    from ililab.scores import BICScore
    from ililab.simulate import simulate_linear_sem

    native, reference = get("ges")(), get("cl-ges")()
    row = dict(p=p, t=0.0, t_cl=0.0, bic=[], bic_cl=[], same=0, shd=[], shd_cl=[])
    for seed in range(seeds):
        sim = simulate_linear_sem(p, n, expected_degree=degree, seed=seed)
        data = Dataset.from_array(sim.data, sim.names)
        score = BICScore(data.covariance, data.n_samples, 4.0)
        t0 = time.process_time()
        graph = native.fit(data, params={"penalty": 4.0})
        row["t"] += time.process_time() - t0
        t0 = time.process_time()
        graph_cl = reference.fit(data, params={"penalty": 4.0})
        row["t_cl"] += time.process_time() - t0
        row["bic"].append(total_bic(graph, score))
        row["bic_cl"].append(total_bic(graph_cl, score))
        row["same"] += shd(graph, graph_cl, cpdag=False) == 0
        row["shd"].append(shd(graph, sim.true_graph))
        row["shd_cl"].append(shd(graph_cl, sim.true_graph))
    return row


def run_knowledge(classes: int) -> None:
    from ililab.dataset import Dataset
    from ililab.knowledge import Knowledge
    from ililab.learners import get
    from ililab.simulate import simulate_soft_labels

    soft = simulate_soft_labels(classes, 20_000, seed=0)
    data = Dataset.from_array(soft.logits.astype(np.float64), soft.names)
    cases = [
        ("none", None),
        ("tiers visual,audio", Knowledge.from_modalities(data.nodes, tier_order=["visual", "audio"])),
        ("forbid within modality", Knowledge.from_modalities(data.nodes, forbid_within_modality=True)),
    ]
    for label, knowledge in cases:
        t0 = time.process_time()
        graph = get("ges")().fit(data, knowledge)
        t_ges = time.process_time() - t0
        t0 = time.process_time()
        boss = get("boss")().fit(data, knowledge)
        t_boss = time.process_time() - t0
        s = graph.meta["search"]
        print(f"{2 * classes:>4} | {label:<22} | {t_ges:6.2f} | {graph.meta['score']:12.1f} | {t_boss:6.2f} "
              f"| {boss.meta['score']:12.1f} | {s['inserts']:>4} / {s['deletes']:>3} / {s['knowledge_rejections']:>5}",
              flush=True)


def run_internals(p: int, seeds: int, n: int, degree: float) -> tuple[float, float, int]:
    """CPU seconds of ges_search with its bitset internals and with ililab.cpdag's, and how many results agree."""
    from unittest import mock

    from ililab import cpdag
    from ililab.dataset import Dataset
    from ililab.search import ges
    from ililab.simulate import simulate_linear_sem

    def to_matrix(masks: list[int]) -> np.ndarray:
        return ges._to_matrix(masks, len(masks))

    def cpdag_of(dag_pa: list[int]) -> tuple[list[int], list[int]]:
        directed, undirected = cpdag.dag_to_cpdag(to_matrix(dag_pa))
        return ges._masks_from_matrix(directed), ges._masks_from_matrix(undirected)

    def extension(pa: list[int], nb: list[int]) -> list[int] | None:
        try:
            return ges._masks_from_matrix(cpdag.pdag_to_dag(to_matrix(pa), to_matrix(nb)))
        except ValueError:
            return None

    t_bits = t_ref = 0.0
    same = 0
    for seed in range(seeds):
        sim = simulate_linear_sem(p, n, expected_degree=degree, seed=seed)
        data = Dataset.from_array(sim.data)
        t0 = time.process_time()
        bits = ges.ges_search(data.covariance, data.n_samples, 4.0)
        t_bits += time.process_time() - t0
        with mock.patch.object(ges, "dag_to_cpdag_bits", cpdag_of), mock.patch.object(ges, "extend_to_dag", extension):
            t0 = time.process_time()
            ref = ges.ges_search(data.covariance, data.n_samples, 4.0)
            t_ref += time.process_time() - t0
        same += bool((bits.directed == ref.directed).all() and (bits.undirected == ref.undirected).all()
                     and abs(bits.score - ref.score) <= 1e-9 * abs(bits.score))
    return t_bits, t_ref, same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,20,30", help="comma-separated numbers of variables")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("-n", type=int, default=10_000, help="rows per data set")
    parser.add_argument("--degree", type=float, default=2.0, help="expected degree of the random DAG")
    parser.add_argument("--knowledge", metavar="C1,C2", help="compare ges with boss under knowledge on 2 x C soft labels")
    parser.add_argument("--internals", metavar="P1,P2", help="time GES's bitset internals against ililab.cpdag's")
    args = parser.parse_args()

    from ililab.learners import get
    from ililab.simulate import simulate_linear_sem

    warm = simulate_linear_sem(4, 500, seed=0)  # load the BIC kernel before timing
    from ililab.dataset import Dataset

    get("ges")().fit(Dataset.from_array(warm.data))
    if args.knowledge:  # boss is compared only there; its first fit may compile its kernels
        get("boss")().fit(Dataset.from_array(warm.data))

    if args.internals:
        print(f"n = {args.n}, expected degree {args.degree}, penalty 4, {args.seeds} seeds per size; CPU s summed")
        print(f"{'p':>4} | {'bitsets s':>9} | {'cpdag.py s':>10} | {'ratio':>6} | same result")
        for p in (int(s) for s in args.internals.split(",")):
            t_bits, t_ref, same = run_internals(p, args.seeds, args.n, args.degree)
            print(f"{p:>4} | {t_bits:9.2f} | {t_ref:10.2f} | {t_ref / t_bits:5.1f}x | {same} of {args.seeds}", flush=True)
        return

    if args.knowledge:
        print("n = 20000 soft-label logits, penalty 4; CPU s; GES inserts / deletes / rejected by knowledge")
        print(f"{'p':>4} | {'knowledge':<22} | {'ges s':>6} | {'ges BIC':>12} | {'boss s':>6} | {'boss BIC':>12} "
              "| ges ins / del / rej")
        for classes in (int(c) for c in args.knowledge.split(",")):
            run_knowledge(classes)
        return

    print(f"n = {args.n}, expected degree {args.degree}, penalty 4 (lambda 2), {args.seeds} seeds per size; CPU s summed")
    print(f"{'p':>4} | {'ges s':>7} | {'cl-ges s':>8} | {'ratio':>6} | {'mean BIC ges':>13} | {'mean BIC cl-ges':>15} "
          f"| {'same CPDAG':>10} | {'SHD ges':>7} | {'SHD cl-ges':>10}")
    for p in (int(s) for s in args.sizes.split(",")):
        r = run_size(p, args.seeds, args.n, args.degree)
        print(f"{p:>4} | {r['t']:7.2f} | {r['t_cl']:8.2f} | {r['t_cl'] / r['t']:5.1f}x | {np.mean(r['bic']):13.2f} "
              f"| {np.mean(r['bic_cl']):15.2f} | {r['same']:>4} of {args.seeds:<2} | {np.mean(r['shd']):7.1f} "
              f"| {np.mean(r['shd_cl']):10.1f}", flush=True)


if __name__ == "__main__":
    main()
