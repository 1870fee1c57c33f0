"""Random orders for the permutation searches (GRaSP, BOSS): seeded streams, shuffles, linear extensions.

The random stream is a splitmix64 state held in a one-entry uint64 array ``rng`` (the same
numbers on every platform), shared by Python and the compiled search kernels:

* :func:`stream_seed` — the seed of restart ``r``'s random stream, from ``(seed, r)`` only.
* :func:`order_constraints` — the ``prec`` matrix of a search from required edges and tiers.
* :func:`random_order` (Python) — a uniformly random permutation, or a random linear extension
  of ``prec`` (``prec[a, b]``: ``a`` must precede ``b``); drawn once per restart, before the
  search kernel runs, so it is not compiled.
* :func:`shuffle` (Numba, callable from kernels only) — Fisher-Yates shuffle of ``a[:m]`` in
  place; :func:`shuffle_py` is the same shuffle in Python.
* :func:`mix64` (Numba, kernels only) / :func:`mix64_py` — splitmix64's output function, also
  used by GRaSP to hash order segments.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ililab.scores.kernels import KERNEL_ONLY

__all__ = ["stream_seed", "order_constraints", "random_order", "shuffle", "shuffle_py", "mix64", "mix64_py"]

_MASK64 = (1 << 64) - 1


def stream_seed(seed: int, restart: int) -> int:
    """The uint64 seed of restart ``restart``'s random stream for the search seed ``seed``."""
    z = (int(seed) * 0x9E3779B97F4A7C15 + (restart + 1) * 0xD1B54A32D192ED03) & _MASK64
    z ^= z >> 29
    return (z * 0xBF58476D1CE4E5B9) & _MASK64


_GOLDEN = 0x9E3779B97F4A7C15


@njit(**KERNEL_ONLY)
def mix64(z):
    """splitmix64's output function on a uint64 (a bijection that scrambles every bit)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def mix64_py(z: int) -> int:
    """:func:`mix64` on a Python int (modulo 2**64)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


@njit(cache=True, inline="always")
def _next(rng):
    z = rng[0] + np.uint64(_GOLDEN)
    rng[0] = z
    return mix64(z)


@njit(**KERNEL_ONLY)
def shuffle(rng, a, m):
    """Shuffle ``a[:m]`` in place (callable from kernels only)."""
    for t in range(m - 1, 0, -1):
        u = np.int64((_next(rng) >> np.uint64(11)) % np.uint64(t + 1))
        tmp = a[t]
        a[t] = a[u]
        a[u] = tmp


def _below_py(rng: np.ndarray, m: int) -> int:
    """Uniform integer in [0, m) from the stream ``rng`` (advanced in place), as the kernels draw it."""
    z = (int(rng[0]) + _GOLDEN) & _MASK64
    rng[0] = z
    return (mix64_py(z) >> 11) % m


def shuffle_py(rng: np.ndarray, a: np.ndarray, m: int) -> None:
    """:func:`shuffle` in Python: the same permutation of ``a[:m]`` for the same stream."""
    for t in range(m - 1, 0, -1):
        u = _below_py(rng, t + 1)
        a[t], a[u] = a[u], a[t]


def order_constraints(p: int, required=None, precedence=None) -> tuple[np.ndarray, bool]:
    """``(prec, has_prec)``: uint8 ``prec[a, b]`` when ``a`` must precede ``b`` in every order,
    because ``a -> b`` is required or ``precedence[a, b]`` (tiers); ``has_prec`` when any holds."""
    prec = np.zeros((p, p), dtype=np.uint8)
    for constraint in (required, precedence):
        if constraint is not None:
            prec |= np.asarray(constraint, dtype=bool).astype(np.uint8)
    np.fill_diagonal(prec, 0)
    return prec, bool(prec.any())


def random_order(rng: np.ndarray, prec: np.ndarray) -> np.ndarray:
    """A uniformly random permutation of ``range(p)``, or a random linear extension of ``prec``.

    Parameters
    ----------
    rng : uint64 ndarray of shape (1,)
        The random stream (advanced in place).
    prec : uint8 or bool ndarray (p, p)
        ``prec[a, b]`` when ``a`` must precede ``b`` (acyclic). Without any constraint the
        order is a shuffle of ``range(p)``.

    Returns
    -------
    int64 ndarray of shape (p,)
    """
    p = prec.shape[0]
    order = np.arange(p, dtype=np.int64)
    if not prec.any():
        shuffle_py(rng, order, p)
        return order
    prec = np.asarray(prec, dtype=bool)
    indeg = prec.sum(axis=0).astype(np.int64)
    ready = [int(v) for v in np.flatnonzero(indeg == 0)]
    successors = [np.flatnonzero(prec[v]).tolist() for v in range(p)]
    for t in range(p):
        u = _below_py(rng, len(ready))
        v = ready[u]
        ready[u] = ready[-1]
        ready.pop()
        order[t] = v
        for b in successors[v]:
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
    return order
