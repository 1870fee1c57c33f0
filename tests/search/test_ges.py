"""Native GES (ililab.search.ges): CPDAG machinery, recovery, agreement with causal-learn, knowledge."""

from __future__ import annotations

import numpy as np
import pytest

from ililab.cpdag import dag_to_cpdag, is_dag, pdag_to_dag
from ililab.dataset import Dataset
from ililab.errors import DataError
from ililab.graph import DependencyGraph, Edge
from ililab.knowledge import Knowledge
from ililab.learners import get
from ililab.learners._scorebased import knowledge_matrices
from ililab.metrics import shd
from ililab.scores.bic import BICScore
from ililab.search.ges import _masks_from_matrix, _to_matrix, dag_to_cpdag_bits, extend_to_dag, ges_search
from ililab.simulate import random_dag, simulate_linear_sem


def _graph(directed: np.ndarray, undirected: np.ndarray, names: list[str]) -> DependencyGraph:
    edges = [Edge(names[i], names[j], "directed") for i, j in zip(*np.nonzero(directed))]
    edges += [Edge(names[i], names[j], "undirected") for i, j in zip(*np.nonzero(np.triu(undirected)))]
    return DependencyGraph(names, edges)


def _search(sim, penalty=4.0, **kwargs):
    data = Dataset.from_array(sim.data)
    return data, ges_search(data.covariance, data.n_samples, penalty, **kwargs)


# -- CPDAG machinery ---------------------------------------------------------------------------------


def test_cpdag_of_random_dags_matches_cpdag_module():
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = int(rng.integers(2, 11))
        dag = random_dag(p, float(rng.uniform(0, p - 1)), rng, (0.3, 1.0)) != 0
        directed, undirected = dag_to_cpdag(dag)
        pa, nb = dag_to_cpdag_bits(_masks_from_matrix(dag))
        np.testing.assert_array_equal(_to_matrix(pa, p), directed)
        np.testing.assert_array_equal(_to_matrix(nb, p), undirected)


def test_extension_of_a_cpdag_is_a_member_of_its_class():
    rng = np.random.default_rng(1)
    for _ in range(100):
        p = int(rng.integers(2, 10))
        dag = random_dag(p, float(rng.uniform(0, p - 1)), rng, (0.3, 1.0)) != 0
        pa, nb = dag_to_cpdag_bits(_masks_from_matrix(dag))
        ext = extend_to_dag(pa, nb)
        assert ext is not None and is_dag(_to_matrix(ext, p))
        assert dag_to_cpdag_bits(ext) == (pa, nb)


def _random_pdag(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random PDAG: a DAG's CPDAG with some undirected edges oriented at random, or some
    directed edges made undirected, so that some have a consistent extension and some not."""
    p = int(rng.integers(2, 9))
    dag = random_dag(p, float(rng.uniform(0, p - 1)), rng, (0.3, 1.0)) != 0
    directed, undirected = dag_to_cpdag(dag)
    for i, j in zip(*np.nonzero(np.triu(undirected))):
        if rng.random() < 0.3:
            a, b = (i, j) if rng.random() < 0.5 else (j, i)
            undirected[a, b] = undirected[b, a] = False
            directed[a, b] = True
    for i, j in zip(*np.nonzero(directed)):
        if rng.random() < 0.15:
            directed[i, j] = False
            undirected[i, j] = undirected[j, i] = True
    return directed, undirected


def test_bitset_extension_agrees_with_the_cpdag_module():
    """Dor-Tarsi has one reference (ililab.cpdag.pdag_to_dag); GES's bitset copy must agree with it:
    an extension exists for the same PDAGs, and both are consistent extensions."""
    rng = np.random.default_rng(7)
    outcomes = set()
    for _ in range(300):
        directed, undirected = _random_pdag(rng)
        p = directed.shape[0]
        bits = extend_to_dag(_masks_from_matrix(directed), _masks_from_matrix(undirected))
        try:
            reference = pdag_to_dag(directed, undirected)
        except ValueError:
            reference = None
        assert (bits is None) == (reference is None)
        outcomes.add(bits is None)
        if reference is None:
            continue
        for ext in (_to_matrix(bits, p), reference):
            assert is_dag(ext)
            assert ((ext | ext.T) == (directed | directed.T | undirected)).all()  # same skeleton
            assert (ext[directed]).all()  # directed edges kept
        # the same v-structures, so the same equivalence class
        for a, b in zip(dag_to_cpdag(_to_matrix(bits, p)), dag_to_cpdag(reference)):
            np.testing.assert_array_equal(a, b)
    assert outcomes == {True, False}  # both kinds of PDAG were drawn


def test_extension_fails_without_a_consistent_dag():
    # an undirected 4-cycle cannot be oriented without adding a v-structure
    nb = [0b1010, 0b0101, 0b1010, 0b0101]
    assert extend_to_dag([0, 0, 0, 0], nb) is None
    # a directed cycle
    assert extend_to_dag([0b100, 0b001, 0b010], [0, 0, 0]) is None


# -- the search ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_recovers_the_true_cpdag(seed):
    sim = simulate_linear_sem(8, 20000, 2.0, seed=seed)
    data, result = _search(sim)
    assert shd(_graph(result.directed, result.undirected, data.names), sim.true_graph) == 0


def test_recovers_a_denser_true_cpdag():
    sim = simulate_linear_sem(10, 5000, 3.0, seed=0)
    data, result = _search(sim)
    assert shd(_graph(result.directed, result.undirected, data.names), sim.true_graph) == 0


def test_score_is_the_bic_of_the_returned_dag_and_cpdag_is_its_class():
    sim = simulate_linear_sem(12, 2000, 3.0, seed=2)
    data, result = _search(sim, penalty=2.0)
    assert result.stats["inserts"] > 0
    assert result.score == pytest.approx(BICScore(data.covariance, data.n_samples, 2.0).score_dag(result.dag), abs=1e-6)
    directed, undirected = dag_to_cpdag(result.dag)
    np.testing.assert_array_equal(directed, result.directed)
    np.testing.assert_array_equal(undirected, result.undirected)


@pytest.mark.parametrize(
    ("p", "degree", "n", "penalty", "seed"),
    [(8, 2.0, 20000, 4.0, 1), (10, 3.0, 5000, 4.0, 3), (12, 3.0, 2000, 2.0, 0), (12, 3.0, 2000, 2.0, 2), (15, 4.0, 1000, 4.0, 1)],
)
def test_same_cpdag_and_bic_as_causallearn(p, degree, n, penalty, seed):
    sim = simulate_linear_sem(p, n, degree, seed=seed)
    data = Dataset.from_array(sim.data)
    native = get("ges")().fit(data, params={"penalty": penalty})
    reference = get("cl-ges")().fit(data, params={"penalty": penalty})
    assert shd(native, reference, cpdag=False) == 0
    score = BICScore(data.covariance, data.n_samples, penalty)
    undirected = np.zeros((p, p), dtype=bool)
    directed = np.zeros((p, p), dtype=bool)
    for e in reference.edges:
        i, j = data.names.index(e.source), data.names.index(e.target)
        if e.directed:
            directed[i, j] = True
        else:
            undirected[i, j] = undirected[j, i] = True
    ext = extend_to_dag(_masks_from_matrix(directed), _masks_from_matrix(undirected))
    assert ext is not None
    assert native.meta["score"] >= score.score_dag(_to_matrix(ext, p)) - 1e-6


def test_max_parents_caps_a_collider():
    rng = np.random.default_rng(3)
    n = 20000
    x = rng.normal(size=(n, 3))
    y = x @ np.array([0.8, -0.7, 0.9]) + rng.normal(size=n)
    cov = np.cov(np.column_stack([x, y]), rowvar=False)
    free = ges_search(cov, n, 4.0)
    assert free.dag[:3, 3].sum() == 3
    capped = ges_search(cov, n, 4.0, max_parents=2)
    assert capped.dag[:, 3].sum() <= 2 and capped.score < free.score


# -- knowledge ---------------------------------------------------------------------------------------


def test_random_knowledge_is_always_honoured():
    rng = np.random.default_rng(4)
    checked = 0
    for trial in range(150):
        p = int(rng.integers(3, 9))
        sim = simulate_linear_sem(p, 2000, min(2.0, p - 1), seed=trial)
        names = [f"x{i}" for i in range(p)]
        pairs = [(a, b) for a in names for b in names if a != b]
        tiers = []
        if rng.random() < 0.4:
            order = [str(v) for v in rng.permutation(names)]
            cut = int(rng.integers(1, p))
            tiers = [order[:cut], order[cut:]]
        required, forbidden = (
            [pairs[i] for i in rng.choice(len(pairs), size=int(rng.integers(0, k)), replace=False)] for k in (3, 6)
        )
        knowledge = Knowledge(required, forbidden, tiers, bool(rng.random() < 0.2))
        try:
            m = knowledge_matrices(knowledge, names)
        except DataError:
            continue  # contradictory knowledge is the learner's job to reject
        data, result = _search(sim, forbidden=m.forbidden, required=m.required)
        assert is_dag(result.dag)
        assert not (result.dag & m.forbidden).any()
        assert result.dag[m.required].all()
        directed, undirected = dag_to_cpdag(result.dag)
        np.testing.assert_array_equal(directed, result.directed)
        np.testing.assert_array_equal(undirected, result.undirected)
        checked += 1
    assert checked > 80


def test_required_edges_start_the_search_and_stay():
    sim = simulate_linear_sem(6, 3000, 2.0, seed=0)
    names = [f"x{i}" for i in range(6)]
    true_adjacent = sim.true_graph.adjacency() != 0
    i, j = next((i, j) for i in range(6) for j in range(6) if i != j and not true_adjacent[i, j] and not true_adjacent[j, i])
    m = knowledge_matrices(Knowledge(required=[(names[j], names[i])]), names)
    _, result = _search(sim, required=m.required)
    assert result.dag[j, i] and not result.dag[i, j]


def test_forbidding_both_orientations_removes_a_strong_adjacency():
    sim = simulate_linear_sem(6, 5000, 2.0, seed=1)
    data, free = _search(sim)
    i, j = map(int, np.argwhere(free.dag)[0])
    forbidden = np.zeros((6, 6), dtype=bool)
    forbidden[i, j] = forbidden[j, i] = True
    _, result = _search(sim, forbidden=forbidden)
    assert not result.dag[i, j] and not result.dag[j, i]
    assert result.score < free.score
