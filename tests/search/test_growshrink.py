"""The memoised grow-shrink forest gives exactly the unmemoised result, and honours knowledge."""

from __future__ import annotations

import numpy as np
import pytest

from ililab.scores import BICScore
from ililab.search._growshrink import GrowShrinkForest
from ililab.simulate import simulate_linear_sem
from ililab.stats import covariance


@pytest.fixture(scope="module")
def score():
    sim = simulate_linear_sem(15, 3000, expected_degree=3.0, seed=4)
    return BICScore(covariance(sim.data), 3000)


@pytest.mark.parametrize("capacity", [1 << 16, 60])
def test_trace_equals_direct(score, capacity):
    forest = GrowShrinkForest(score, capacity=capacity)
    rng = np.random.default_rng(0)
    p = score.p
    for _ in range(300):
        y = int(rng.integers(p))
        prefix = [v for v in range(p) if v != y and rng.random() < 0.6]
        memo = forest.trace(y, prefix)
        direct = forest.direct(y, prefix)
        assert memo == direct
        assert set(memo[1]) <= set(prefix)
        assert memo[0] == pytest.approx(score.local_score(y, memo[1]), abs=1e-7)
    stats = forest.stats()
    if capacity == 60:
        assert stats["clears"] > 0  # the bound was hit, results unchanged
    else:
        assert stats["clears"] == 0 and stats["nodes"] > p


def test_grow_shrink_is_a_local_optimum(score):
    forest = GrowShrinkForest(score)
    p = score.p
    y = 7
    prefix = [v for v in range(p) if v != y]
    value, parents = forest.trace(y, prefix)
    for v in prefix:  # no single addition or removal improves
        changed = sorted(set(parents) ^ {v})
        assert score.local_score(y, changed) <= value + 1e-9


def test_forbidden_and_required_parents(score):
    p = score.p
    y = 7
    prefix = [v for v in range(p) if v != y]
    free_score, free = GrowShrinkForest(score).trace(y, prefix)
    assert free, "the test needs a node with parents"
    forbidden = np.zeros((p, p), dtype=bool)
    forbidden[free[0], y] = True
    required = np.zeros((p, p), dtype=bool)
    other = next(v for v in prefix if v not in free)
    required[other, y] = True
    forest = GrowShrinkForest(score, forbidden=forbidden, required=required)
    _, parents = forest.trace(y, prefix)
    assert free[0] not in parents
    assert other in parents
    assert forest.trace(y, prefix) == forest.direct(y, prefix)


def test_max_parents(score):
    p = score.p
    forest = GrowShrinkForest(score, max_parents=1)
    for y in range(p):
        _, parents = forest.trace(y, [v for v in range(p) if v != y])
        assert len(parents) <= 1


def test_announce_compile_logs_only_before_the_first_compile(caplog):
    import logging

    from numba import njit

    from ililab.search._growshrink import COMPILE_LOGGER, announce_compile

    @njit
    def kernel(x):
        return x + 1

    with caplog.at_level(logging.INFO, logger=COMPILE_LOGGER):
        announce_compile("test", kernel)
    assert "compiling the test kernels (first run only, cached afterwards)" in caplog.text
    kernel(1)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=COMPILE_LOGGER):
        announce_compile("test", kernel)
    assert caplog.text == ""
