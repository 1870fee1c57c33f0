"""The BIC local score: agreement with causal-learn, the batch kernels, near-singular blocks, the cache."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from causallearn.score.LocalScoreFunction import local_score_BIC_from_cov

from ililab.scores import BICScore, lambda_from_penalty, penalty_from_lambda, to_causallearn
from ililab.scores.bic import add_scores, local_score, remove_scores


def _random_cov(rng, p, n_rows=None):
    rows = rng.standard_normal((n_rows or 3 * p, p)) @ rng.standard_normal((p, p))
    return np.cov(rows.T)


@pytest.mark.parametrize("seed", range(6))
def test_local_score_equals_causallearn_after_conversion(seed):
    rng = np.random.default_rng(seed)
    p = int(rng.integers(3, 12))
    cov = _random_cov(rng, p)
    n = int(rng.integers(50, 5000))
    lam = float(rng.choice([0.5, 1.0, 2.0, 3.5]))
    score = BICScore(cov, n, penalty=penalty_from_lambda(lam))
    for _ in range(25):
        y = int(rng.integers(p))
        others = [v for v in range(p) if v != y]
        parents = sorted(rng.choice(others, size=int(rng.integers(0, p)), replace=False).tolist())
        ours = score.local_score(y, parents)
        theirs = local_score_BIC_from_cov((cov, n), y, parents, {"lambda_value": lam})
        assert abs(to_causallearn(ours, n) - theirs) <= 1e-9
        assert abs(ours - n / 2 - theirs) <= 1e-9


def test_penalty_lambda_conversion_and_default():
    assert penalty_from_lambda(2.0) == 4.0
    assert lambda_from_penalty(4.0) == 2.0
    assert BICScore(np.eye(2), 10).penalty == 4.0
    assert BICScore(np.eye(2), 10, penalty=3.0).lambda_value == 1.5


def test_formula_by_hand():
    cov = np.array([[2.0, 0.8], [0.8, 1.0]])
    n, c = 400, 4.0
    s = BICScore(cov, n, penalty=c)
    var = 1.0 - 0.8**2 / 2.0
    expected = -n / 2 * math.log(var) - c / 2 * 2 * math.log(n)
    assert s.local_score(1, [0]) == pytest.approx(expected, abs=1e-10)
    assert s.local_score(1, []) == pytest.approx(-c / 2 * math.log(n), abs=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_add_and_remove_kernels_match_local_score(seed):
    rng = np.random.default_rng(100 + seed)
    p = 9
    cov = _random_cov(rng, p)
    n, c = 1000.0, 2.0
    y = 0
    parents = np.array([3, 5, 7], dtype=np.int64)
    cand = np.array([1, 2, 4, 6, 8], dtype=np.int64)
    out = np.empty(len(cand))
    assert add_scores(cov, n, c, y, parents, 3, cand, len(cand), out) == 0
    for t, x in enumerate(cand):
        direct = local_score(cov, n, c, y, np.append(parents, x), 4)
        assert out[t] == pytest.approx(direct, abs=1e-8)
    rem = np.empty(3)
    assert remove_scores(cov, n, c, y, parents, 3, rem) == 0
    for t in range(3):
        direct = local_score(cov, n, c, y, np.delete(parents, t), 2)
        assert rem[t] == pytest.approx(direct, abs=1e-8)


def test_near_singular_parent_block_is_rejected_without_nan(caplog):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 3))
    x = np.column_stack([x, x[:, 0] + x[:, 1]])  # column 3 = column 0 + column 1 exactly
    cov = np.cov(x.T)
    s = BICScore(cov, 500)
    with caplog.at_level(logging.WARNING, logger="ililab.scores.bic"):
        value = s.local_score(2, [0, 1, 3])
    assert value == -np.inf
    assert "near-singular" in caplog.text
    assert math.isnan(s.residual_variance(2, [0, 1, 3]))
    out = np.empty(1)
    assert add_scores(cov, 500.0, 4.0, 2, np.array([0, 1]), 2, np.array([3]), 1, out) == 1
    assert out[0] == -np.inf
    rem = np.empty(3)
    remove_scores(cov, 500.0, 4.0, 2, np.array([0, 1, 3]), 3, rem)
    assert not np.isnan(rem).any() and np.isfinite(rem).all()


def test_deterministic_child_is_clamped_not_infinite():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 2))
    x = np.column_stack([x, x[:, 0] - 2 * x[:, 1]])
    s = BICScore(np.cov(x.T), 300)
    value = s.local_score(2, [0, 1])
    assert np.isfinite(value)
    assert value > s.local_score(2, [0])


def test_cache_is_bounded_and_counts():
    rng = np.random.default_rng(2)
    s = BICScore(_random_cov(rng, 6), 100, cache_size=3)
    for y in range(5):
        s.local_score(y, [5])
    s.local_score(4, [5])
    info = s.cache_info()
    assert info["size"] == 3 and info["hits"] == 1 and info["misses"] == 5
    assert s.local_score(0, {5}) == s.local_score(0, [5])


def test_score_dag_and_regression():
    cov = np.array([[1.0, 0.5, 0.0], [0.5, 1.25, 0.0], [0.0, 0.0, 2.0]])
    s = BICScore(cov, 1000)
    dag = np.zeros((3, 3), dtype=bool)
    dag[0, 1] = True
    assert s.score_dag(dag) == pytest.approx(s.local_score(0, []) + s.local_score(1, [0]) + s.local_score(2, []))
    beta = s.regression(1, [0], standardized=False)
    assert beta[0] == pytest.approx(0.5)
    std = s.regression(1, [0])
    assert std[0] == pytest.approx(0.5 * 1.0 / math.sqrt(1.25))


@pytest.mark.parametrize(
    "bad",
    [
        dict(covariance=np.ones((2, 3)), n_samples=10),
        dict(covariance=np.full((2, 2), np.nan), n_samples=10),
        dict(covariance=np.eye(2), n_samples=1),
        dict(covariance=np.eye(2), n_samples=10, penalty=0.0),
    ],
)
def test_bad_inputs_raise(bad):
    with pytest.raises(ValueError):
        BICScore(**bad)


def test_parent_validation():
    s = BICScore(np.eye(3), 10)
    with pytest.raises(ValueError):
        s.local_score(1, [1])
    with pytest.raises(IndexError):
        s.local_score(0, [3])


def test_regression_of_a_near_singular_block_is_least_squares():
    from ililab.scores.bic import solve_block

    rng = np.random.default_rng(5)
    x = rng.normal(size=(500, 3))
    x = np.column_stack([x, x[:, 0] + x[:, 1]])  # the fourth column is collinear
    cov = np.cov(x, rowvar=False)
    block, rhs = cov[:4, :4], cov[:4, 2]
    beta = solve_block(block, rhs)
    assert np.allclose(beta, np.linalg.lstsq(block, rhs, rcond=None)[0])
    assert np.all(np.isfinite(beta))
    well = cov[:3, :3]
    assert np.allclose(solve_block(well, cov[:3, 0]), np.linalg.solve(well, cov[:3, 0]))


def test_standardized_weights_match_the_per_node_regression():
    from ililab.learners._scorebased import standardized_weights

    rng = np.random.default_rng(3)
    cov = _random_cov(rng, 6)
    dag = np.zeros((6, 6), dtype=bool)
    dag[[0, 2, 3], 4] = True
    dag[1, 5] = True
    s = BICScore(cov, 100)
    weights = standardized_weights(cov, dag)
    assert np.allclose(weights[[0, 2, 3], 4], s.regression(4, [0, 2, 3]))
    assert np.allclose(weights[1, 5], s.regression(5, [1]))
    assert (weights[~dag] == 0).all()
