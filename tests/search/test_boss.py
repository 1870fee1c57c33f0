"""Native BOSS: local optimality of the result against direct grow-shrink, exact scores, seeds, knowledge."""

from __future__ import annotations

import numpy as np
import pytest

from ililab.cpdag import is_dag
from ililab.scores.bic import BICScore
from ililab.search._growshrink import GrowShrinkForest
from ililab.search.boss import boss_search
from ililab.simulate import simulate_linear_sem


def _score(p, n=5000, seed=0, degree=2.0, penalty=4.0):
    sim = simulate_linear_sem(p, n, expected_degree=degree, seed=seed)
    return BICScore(np.cov(sim.data, rowvar=False), n, penalty), sim


def _order_total(gs: GrowShrinkForest, order) -> float:
    """Total score of an order, every node's parents by direct (unmemoised) grow-shrink."""
    return sum(gs.direct(v, order[:k])[0] for k, v in enumerate(order))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_result_is_a_local_optimum_of_single_moves(seed):
    score, _ = _score(7, seed=seed, degree=3.0)
    result = boss_search(score, restarts=1, seed=seed)
    gs = GrowShrinkForest(score)
    order = [int(v) for v in result.order]
    best = _order_total(gs, order)
    assert best == pytest.approx(result.score, abs=1e-6)
    for v in order:
        rest = [u for u in order if u != v]
        for t in range(len(order)):
            moved = rest[:t] + [v] + rest[t:]
            assert _order_total(gs, moved) <= best + 1e-6, (v, t)


def test_dag_is_the_grow_shrink_dag_of_the_order_and_score_is_exact():
    score, _ = _score(12, seed=4)
    result = boss_search(score, restarts=2, seed=1)
    gs = GrowShrinkForest(score)
    order = [int(v) for v in result.order]
    for k, v in enumerate(order):
        assert sorted(np.flatnonzero(result.dag[:, v]).tolist()) == gs.direct(v, order[:k])[1]
    assert is_dag(result.dag)
    assert result.score == pytest.approx(score.score_dag(result.dag), rel=1e-12)


def test_recovers_the_true_dag_score_on_easy_data():
    score, sim = _score(10, n=20000, seed=5)
    result = boss_search(score, restarts=2, seed=0)
    assert result.score >= score.score_dag(sim.weights != 0) - 1e-6


def test_seeded_and_restarts_never_worse():
    score, _ = _score(30, n=2000, seed=8, degree=3.0)
    a = boss_search(score, restarts=3, seed=11)
    b = boss_search(score, restarts=3, seed=11)
    assert np.array_equal(a.dag, b.dag) and a.restart_scores == b.restart_scores
    more = boss_search(score, restarts=4, seed=11)
    assert more.restart_scores[:3] == a.restart_scores
    assert more.score >= a.score - 1e-9
    assert max(a.restart_scores) == pytest.approx(a.score, abs=1e-6)


def test_small_cache_gives_the_same_result():
    score, _ = _score(15, seed=3, degree=3.0)
    big = boss_search(score, restarts=1, seed=2)
    small = boss_search(score, restarts=1, seed=2, cache_size=100)
    assert small.stats["cache_clears"] > 0
    assert np.array_equal(big.dag, small.dag)


def test_forbidden_required_and_precedence_are_honoured():
    score, _ = _score(10, n=5000, seed=6, degree=3.0)
    free = boss_search(score, restarts=1, seed=0)
    x, y = map(int, np.argwhere(free.dag)[0])
    forbidden = np.zeros((10, 10), dtype=bool)
    forbidden[x, y] = forbidden[y, x] = True
    required = np.zeros((10, 10), dtype=bool)
    absent = [(a, b) for a in range(10) for b in range(10) if a != b and not (free.dag[a, b] or free.dag[b, a])]
    a, b = absent[0]
    required[a, b] = True
    precedence = np.zeros((10, 10), dtype=bool)
    precedence[np.ix_(range(5), range(5, 10))] = True  # tier {0..4} before tier {5..9}
    for seed in range(3):
        result = boss_search(score, restarts=2, seed=seed, forbidden=forbidden, required=required, precedence=precedence)
        assert not result.dag[x, y] and not result.dag[y, x]
        assert result.dag[a, b]
        position = np.empty(10, dtype=int)
        position[result.order] = np.arange(10)
        assert position[:5].max() < position[5:].min()
        assert not result.dag[5:, :5].any()


def test_max_parents_and_argument_checks():
    score, _ = _score(10, seed=2, degree=4.0)
    result = boss_search(score, restarts=1, max_parents=1)
    assert result.dag.sum(axis=0).max() <= 1
    with pytest.raises(ValueError, match="restarts"):
        boss_search(score, restarts=0)
