"""GRaSP's segment memo: the 128-bit keys and the hash table of tucked segments' scores.

Private to :mod:`ililab.search.grasp`, whose kernel ``_grasp_once`` probes it before re-tracing a
tucked segment (the comment below says why the key identifies the outcome).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ililab.scores.kernels import KERNEL_ONLY
from ililab.search._orders import mix64_py

_MASK64 = (1 << 64) - 1


def _new_memo(p: int):
    """The segment-score memo (see below): keys, values, counters, node hashes, powers."""
    bits = 12
    while (1 << bits) < 2 * p * p and bits < 20:
        bits += 1
    size = 1 << bits
    node_hashes = np.array(
        [[mix64_py((v * 0x9E3779B97F4A7C15 + 0x243F6A8885A308D3 + h) & _MASK64) for v in range(p)] for h in range(4)],
        dtype=np.uint64,
    ).reshape(4, p)
    powers = np.empty((2, p + 1), dtype=np.uint64)
    for h, base in enumerate((0x9E3779B97F4A7C15, 0xD1B54A32D192ED03)):
        value = 1
        for t in range(p + 1):
            powers[h, t] = value
            value = (value * base) & _MASK64
    return (
        np.zeros((size, 2), dtype=np.uint64),
        np.empty(size, dtype=np.float64),
        np.zeros(4, dtype=np.int64),
        node_hashes,
        powers,
    )


# -- the segment memo ------------------------------------------------------------------------
#
# After a tuck on positions j..i, the parents (and scores) of the nodes there depend only on the
# set of nodes before j and on the new sequence at j..i (grow-shrink of the node at k draws from
# the nodes before k). So the new total score of the segment is memoised under a 128-bit key
# made of a hash of the set before j (XOR of random node hashes, kept per position in ``ph``)
# and a polynomial hash of the sequence. A tuck whose memoised outcome is a loss, or a tie at the
# last DFS level, is skipped without re-tracing anything: the search makes the same decisions.


@njit(**KERNEL_ONLY)
def _prefix_hashes(pi, ph, nh, a, b):
    """Recompute the prefix-set hashes at positions a+1..b from the order."""
    for k in range(a + 1, b + 1):
        v = pi[k - 1]
        ph[0, k] = ph[0, k - 1] ^ nh[0, v]
        ph[1, k] = ph[1, k - 1] ^ nh[1, v]


@njit(cache=True, inline="always")
def _memo_slot(keys, k1, k2):
    """Slot holding (k1, k2), or -(free slot) - 1 for inserting it."""
    mask = keys.shape[0] - 1
    home = np.int64(k1 & np.uint64(mask))
    free = -1
    for t in range(8):
        s = (home + t) & mask
        if keys[s, 0] == k1 and keys[s, 1] == k2:
            return s
        if keys[s, 0] == 0:
            free = s
            break
    if free < 0:
        free = home
    return -free - 1
