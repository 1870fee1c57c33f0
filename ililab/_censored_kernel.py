"""The compiled kernel of :mod:`ililab.censored`, in its own module so that numba loads only when values are censored."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["sampled_products"]


@njit(cache=True)
def sampled_products(y, mean, omega, rows, cols):  # pragma: no cover - compiled
    """``((y - mean) @ omega)[rows[k], cols[k]]`` for each k, without the full product (``omega`` symmetric).

    Examples
    --------
    >>> y, omega = np.arange(6.0).reshape(2, 3), np.eye(3)
    >>> sampled_products(y, np.zeros(3), omega, np.array([0, 1]), np.array([2, 0])).tolist()
    [2.0, 3.0]
    """
    out = np.empty(rows.size)
    for k in range(rows.size):
        r, c = rows[k], cols[k]
        total = 0.0
        for j in range(y.shape[1]):
            total += (y[r, j] - mean[j]) * omega[c, j]
        out[k] = total
    return out
