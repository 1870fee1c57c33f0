from __future__ import annotations

import numpy as np
from numba import njit

from ililab.search._orders import random_order, shuffle, shuffle_py, stream_seed


@njit(cache=True)
def _compiled_shuffle(rng, a, m):
    shuffle(rng, a, m)  # kernels-only function: called from compiled code


def _rng(seed: int) -> np.ndarray:
    return np.array([stream_seed(seed, 0)], dtype=np.uint64)


def test_stream_seed_depends_on_seed_and_restart_only():
    assert stream_seed(3, 1) == stream_seed(3, 1)
    seeds = {stream_seed(s, r) for s in range(5) for r in range(5)}
    assert len(seeds) == 25
    assert all(0 <= z < 2**64 for z in seeds)


def test_shuffle_is_a_seeded_permutation():
    a = np.arange(20)
    shuffle_py(_rng(1), a, 20)
    b = np.arange(20)
    shuffle_py(_rng(1), b, 20)
    assert sorted(a.tolist()) == list(range(20))
    assert a.tolist() == b.tolist()
    assert a.tolist() != list(range(20))
    c = np.arange(20)
    shuffle_py(_rng(1), c, 5)  # only the first 5 entries move
    assert sorted(c[:5].tolist()) == list(range(5)) and c[5:].tolist() == list(range(5, 20))


def test_compiled_shuffle_draws_the_same_numbers_as_python():
    for seed, m in [(0, 1), (1, 2), (2, 17), (3, 200)]:
        a, b = np.arange(m), np.arange(m)
        rng_a, rng_b = _rng(seed), _rng(seed)
        shuffle_py(rng_a, a, m)
        _compiled_shuffle(rng_b, b, m)
        assert a.tolist() == b.tolist()
        assert rng_a[0] == rng_b[0]  # the stream advanced alike


def test_random_order_is_a_linear_extension_of_the_precedence():
    p = 12
    rng = np.random.default_rng(0)
    prec = np.triu(rng.random((p, p)) < 0.2, 1)
    perm = rng.permutation(p)
    prec = prec[np.ix_(perm, perm)].astype(np.uint8)  # a random DAG of order constraints
    orders = set()
    for seed in range(20):
        order = random_order(_rng(seed), prec).tolist()
        assert sorted(order) == list(range(p))
        pos = {v: k for k, v in enumerate(order)}
        assert all(pos[a] < pos[b] for a, b in zip(*np.nonzero(prec)))
        orders.add(tuple(order))
    assert len(orders) > 1


def test_random_order_without_precedence_is_a_shuffle():
    p = 9
    order = random_order(_rng(4), np.zeros((p, p), dtype=np.uint8))
    expected = np.arange(p)
    shuffle_py(_rng(4), expected, p)
    assert order.tolist() == expected.tolist()


def test_order_constraints_merge_required_edges_and_tiers():
    from ililab.search._orders import order_constraints

    required = np.zeros((3, 3), dtype=bool)
    required[0, 2] = True
    tiers = np.zeros((3, 3), dtype=bool)
    tiers[1, 2] = tiers[1, 1] = True  # a diagonal entry never constrains
    prec, has_prec = order_constraints(3, required, tiers)
    assert has_prec and prec.dtype == np.uint8
    assert {tuple(e) for e in np.argwhere(prec)} == {(0, 2), (1, 2)}
    none, has_none = order_constraints(3)
    assert not has_none and not none.any()
