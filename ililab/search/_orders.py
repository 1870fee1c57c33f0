"""Random orders for the permutation searches (GRaSP, BOSS): seeded streams, shuffles, linear extensions.

* :func:`stream_seed` — the seed of restart ``r``'s random stream, from ``(seed, r)`` only.
* Numba helpers (inlined into the search kernels; ``rng`` is a one-entry uint64 array holding a
  splitmix64 state, the same numbers on every platform):

  - ``below(rng, m)`` — uniform integer in ``[0, m)``;
  - ``shuffle(rng, a, m)`` — Fisher-Yates shuffle of ``a[:m]`` in place;
  - ``random_order(rng, prec, has_prec, order, indeg, ready)`` — writes into ``order`` a uniformly
    random permutation, or a random linear extension of ``prec`` (``prec[a, b]``: ``a`` must precede
    ``b``); ``indeg`` and ``ready`` are int64 scratch of length ``p``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["stream_seed", "below", "shuffle", "random_order"]

_MASK64 = (1 << 64) - 1


def stream_seed(seed: int, restart: int) -> int:
    """The uint64 seed of restart ``restart``'s random stream for the search seed ``seed``."""
    z = (int(seed) * 0x9E3779B97F4A7C15 + (restart + 1) * 0xD1B54A32D192ED03) & _MASK64
    z ^= z >> 29
    return (z * 0xBF58476D1CE4E5B9) & _MASK64


@njit(cache=True, inline="always")
def _next(rng):
    z = rng[0] + np.uint64(0x9E3779B97F4A7C15)
    rng[0] = z
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def below(rng, m):
    """Uniform integer in [0, m)."""
    return np.int64((_next(rng) >> np.uint64(11)) % np.uint64(m))


@njit(cache=True, inline="always")
def shuffle(rng, a, m):
    """Shuffle ``a[:m]`` in place."""
    for t in range(m - 1, 0, -1):
        u = below(rng, t + 1)
        tmp = a[t]
        a[t] = a[u]
        a[u] = tmp


@njit(cache=True, inline="always")
def random_order(rng, prec, has_prec, order, indeg, ready):
    """Write a uniformly random permutation, or a random linear extension of ``prec``, into ``order``."""
    p = prec.shape[0]
    for t in range(p):
        order[t] = t
    if not has_prec:
        shuffle(rng, order, p)
        return
    for b in range(p):
        indeg[b] = 0
    for a in range(p):
        for b in range(p):
            if prec[a, b]:
                indeg[b] += 1
    m = 0
    for v in range(p):
        if indeg[v] == 0:
            ready[m] = v
            m += 1
    for t in range(p):
        u = below(rng, m)
        v = ready[u]
        ready[u] = ready[m - 1]
        m -= 1
        order[t] = v
        for b in range(p):
            if prec[v, b]:
                indeg[b] -= 1
                if indeg[b] == 0:
                    ready[m] = b
                    m += 1
