"""Numba kernels of the BIC score (:mod:`ililab.scores.bic`): local scores over ``(Σ, n)``.

The score they compute, and its relation to causal-learn's, is described in
:mod:`ililab.scores.bic`; :class:`ililab.scores.bic.BICScore` is their Python front end.

Near-singular parent blocks
---------------------------
Kernels use a Cholesky factorisation of ``Σ_SS``. A parent whose partial variance given the
other parents is below ``SINGULAR_TOL`` times its variance (R² above ``1 - SINGULAR_TOL``)
makes the parent set *rejected*: its score is ``-inf``, so a search never adds it, and a
counter records it (the search logs the count through :mod:`logging`). A residual variance
``σ²(i|S)`` below ``VARIANCE_FLOOR · Σ_ii`` is clamped to that floor (a near-deterministic
child). No kernel raises or returns NaN.

Kernels (``@njit(cache=True)``), callable from other kernels
-------------------------------------------------------------

- ``local_score(cov, n, penalty, y, parents, k) -> float`` — score of ``y`` given
  ``parents[:k]`` (``-inf`` when rejected).
- ``add_scores(cov, n, penalty, y, parents, k, cand, m, out) -> int`` — ``out[t]`` = score of
  ``y`` given ``parents[:k] ∪ {cand[t]}`` for ``t < m``, in ``O(k³ + m·k²)``; returns how
  many candidates were rejected as near-singular.
- ``remove_scores(cov, n, penalty, y, parents, k, out) -> int`` — ``out[t]`` = score of ``y``
  given ``parents[:k]`` without ``parents[t]``, in ``O(k³)`` for all ``t`` together.
- ``residual_variance(cov, y, parents, k) -> float`` (NaN when rejected).

``cov`` is a float64 C-contiguous ``(p, p)`` array, ``parents`` an int32 array and ``k`` an
int64 (other types work but compile another specialization: keep callers to these types).
These four allocate their scratch space on each call. The search kernels call the ``*_ws``
twins instead (``score_ws``, ``add_scores_ws``, ``remove_scores_ws``, ``residual_variance_ws``,
and ``total_score_ws`` for a whole DAG), which take the scratch from the caller
(:func:`new_scratch`) and are compiled without reference counting (``_nrt=False``): no
allocation code is compiled into them, which keeps the first-run compile short. Except
``total_score_ws`` they are callable from other kernels only: they are compiled without a
CPython or C-callback wrapper (:data:`KERNEL_ONLY`), which would only cost compile time. The
small helpers (Cholesky factor, forward substitution, score from a variance) are
``KERNEL_ONLY`` functions too: compiled once and linked, not inlined into every caller at
Numba IR level (Numba's IR inlining costs more compile time than LLVM's).

The search kernels (:mod:`ililab.search._growshrink`) memoise these scores in a grow-shrink
tree per node, which is their bounded score cache keyed by (node, parent set);
:class:`ililab.scores.bic.BICScore`'s LRU cache serves Python callers.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "SINGULAR_TOL",
    "VARIANCE_FLOOR",
    "KERNEL_ONLY",
    "local_score",
    "add_scores",
    "remove_scores",
    "residual_variance",
    "new_scratch",
    "solve_block",
    "score_ws",
    "add_scores_ws",
    "remove_scores_ws",
    "residual_variance_ws",
    "total_score_ws",
]

SINGULAR_TOL = 1e-10
#: Residual variances are clamped to at least this fraction of the node's variance.
VARIANCE_FLOOR = 1e-12

# -- Numba kernels -----------------------------------------------------------------------
#
# The search kernels take their scratch space from the caller (``*_ws`` kernels, compiled
# without Numba's reference counting, ``_nrt=False``): no array is allocated inside them, which
# keeps Numba from compiling allocation code into every kernel (first-run compile time).
# ``mat`` is a flat float64 scratch of at least ``3 k²`` entries and ``fw`` a float64 array of
# at least 3 rows of ``k`` entries; see :func:`new_scratch`.


#: ``njit`` options of kernels called only from other kernels: no reference counting and no
#: CPython / cfunc entry points. Never call one from Python: without a wrapper the call crashes
#: the interpreter (tests reach them through a small ``@njit`` function).
KERNEL_ONLY = {"cache": True, "_nrt": False, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}


def new_scratch(p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scratch arrays ``(mat, fw, sub)`` for the ``*_ws`` kernels on ``p`` variables.

    Examples
    --------
    >>> [(a.shape, a.dtype.name) for a in new_scratch(4)]
    [((48,), 'float64'), ((3, 4), 'float64'), ((4,), 'int32')]
    """
    p = max(int(p), 1)
    return np.empty(3 * p * p), np.empty((3, p)), np.empty(p, dtype=np.int32)


@njit(**KERNEL_ONLY)
def _cholesky_block(cov, idx, k, low):
    """Cholesky factor of ``cov[idx[:k], idx[:k]]`` into the flat ``low`` (row-major, stride k).

    Returns False when a pivot falls below ``SINGULAR_TOL`` of its diagonal entry.
    """
    for a in range(k):
        ia = idx[a]
        for b in range(a + 1):
            ib = idx[b]
            s = cov[ia, ib]
            for t in range(b):
                s -= low[a * k + t] * low[b * k + t]
            if a == b:
                if s <= SINGULAR_TOL * cov[ia, ia] or s <= 0.0:
                    return False
                low[a * k + a] = math.sqrt(s)
            else:
                low[a * k + b] = s / low[b * k + b]
    return True


@njit(**KERNEL_ONLY)
def _forward(low, k, rhs, out):
    """Solve ``low @ out = rhs`` (forward substitution; ``low`` flat, stride k)."""
    for a in range(k):
        s = rhs[a]
        for t in range(a):
            s -= low[a * k + t] * out[t]
        out[a] = s / low[a * k + a]


@njit(**KERNEL_ONLY)
def _score_from_variance(var, cov_yy, n, penalty, k):
    floor = VARIANCE_FLOOR * cov_yy
    if var < floor:
        var = floor
    return -0.5 * n * math.log(var) - 0.5 * penalty * (k + 1) * math.log(n)


@njit(cache=True, inline="always")
def _residual_variance(cov, y, parents, k, mat, fw):
    if k == 0:
        return cov[y, y]
    if not _cholesky_block(cov, parents, k, mat):
        return np.nan
    rhs = fw[0]
    b = fw[1]
    for a in range(k):
        rhs[a] = cov[parents[a], y]
    _forward(mat, k, rhs, b)
    var = cov[y, y]
    for a in range(k):
        var -= b[a] * b[a]
    return var


@njit(**KERNEL_ONLY)
def residual_variance_ws(cov, y, parents, k, mat, fw):
    """:func:`residual_variance` with caller-provided scratch."""
    return _residual_variance(cov, y, parents, k, mat, fw)


@njit(**KERNEL_ONLY)
def score_ws(cov, n, penalty, y, parents, k, mat, fw):
    """:func:`local_score` with caller-provided scratch."""
    var = _residual_variance(cov, y, parents, k, mat, fw)
    if np.isnan(var):
        return -np.inf
    return _score_from_variance(var, cov[y, y], n, penalty, k)


@njit(**KERNEL_ONLY)
def add_scores_ws(cov, n, penalty, y, parents, k, cand, m, out, mat, fw):
    """:func:`add_scores` with caller-provided scratch."""
    low = mat
    if k > 0 and not _cholesky_block(cov, parents, k, low):
        for t in range(m):
            out[t] = -np.inf
        return m
    rhs = fw[0]
    b = fw[1]
    v = fw[2]
    for a in range(k):
        rhs[a] = cov[parents[a], y]
    _forward(low, k, rhs, b)
    var_s = cov[y, y]
    for a in range(k):
        var_s -= b[a] * b[a]
    rejected = 0
    for t in range(m):
        x = cand[t]
        for a in range(k):
            rhs[a] = cov[parents[a], x]
        _forward(low, k, rhs, v)
        rxx = cov[x, x]
        rxy = cov[x, y]
        for a in range(k):
            rxx -= v[a] * v[a]
            rxy -= v[a] * b[a]
        if rxx <= SINGULAR_TOL * cov[x, x] or rxx <= 0.0:
            out[t] = -np.inf
            rejected += 1
            continue
        out[t] = _score_from_variance(var_s - rxy * rxy / rxx, cov[y, y], n, penalty, k + 1)
    return rejected


@njit(**KERNEL_ONLY)
def remove_scores_ws(cov, n, penalty, y, parents, k, out, mat, fw, sub):
    """:func:`remove_scores` with caller-provided scratch (``sub``: int32, at least ``k`` entries)."""
    kk = k * k
    low = mat[:kk]
    if not _cholesky_block(cov, parents, k, low):
        for t in range(k):
            c = 0
            for a in range(k):
                if a != t:
                    sub[c] = parents[a]
                    c += 1
            out[t] = score_ws(cov, n, penalty, y, sub, k - 1, mat, fw)
        return 1
    # inverse of low low^T: linv = low^-1 (lower triangle), then inv = linv^T linv
    linv = mat[kk : 2 * kk]
    inv = mat[2 * kk : 3 * kk]
    for a in range(k):
        linv[a * k + a] = 1.0 / low[a * k + a]
        for b in range(a):
            s = 0.0
            for t in range(b, a):
                s -= low[a * k + t] * linv[t * k + b]
            linv[a * k + b] = s / low[a * k + a]
    for a in range(k):
        for b in range(a + 1):
            s = 0.0
            for t in range(a, k):
                s += linv[t * k + a] * linv[t * k + b]
            inv[a * k + b] = s
            inv[b * k + a] = s
    beta = fw[2]
    for a in range(k):
        s = 0.0
        for t in range(k):
            s += inv[a * k + t] * cov[parents[t], y]
        beta[a] = s
    var_s = cov[y, y]
    for a in range(k):
        var_s -= beta[a] * cov[parents[a], y]
    for t in range(k):
        out[t] = _score_from_variance(var_s + beta[t] * beta[t] / inv[t * k + t], cov[y, y], n, penalty, k - 1)
    return 0


@njit(cache=True, _nrt=False, inline="always")
def total_score_ws(cov, n, penalty, par, npar, mat, fw):
    """Sum over nodes ``v`` of the score of ``v`` given ``par[v, :npar[v]]``.

    The one ``*_ws`` kernel with a Python entry point; the scratch comes from :func:`new_scratch`.

    Examples
    --------
    The DAG ``0 -> 1`` (node 1's parent list holds 0; the other nodes have none):

    >>> cov = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.4], [0.2, 0.4, 1.0]])
    >>> par = np.zeros((3, 3), dtype=np.int32)
    >>> npar = np.array([0, 1, 0], dtype=np.int32)
    >>> mat, fw, _ = new_scratch(3)
    >>> total = total_score_ws(cov, 100.0, 4.0, par, npar, mat, fw)
    >>> from ililab.scores.bic import BICScore
    >>> abs(total - BICScore(cov, 100).score_dag([[0, 1, 0], [0, 0, 0], [0, 0, 0]])) < 1e-9
    True
    """
    total = 0.0
    for v in range(cov.shape[0]):
        total += score_ws(cov, n, penalty, v, par[v], npar[v], mat, fw)
    return total


@njit(cache=True)
def residual_variance(cov, y, parents, k):
    """σ²(y | parents[:k]) before clamping; NaN when the parent block is near-singular.

    Parameters
    ----------
    cov : float64 ndarray of shape (p, p), C-contiguous
    y : int
        The child node.
    parents : int32 ndarray
        Candidate parents; the first ``k`` are used.
    k : int

    Returns
    -------
    float

    Examples
    --------
    >>> cov = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.4], [0.2, 0.4, 1.0]])
    >>> residual_variance(cov, 1, np.array([0], dtype=np.int32), 1)  # 1 - 0.5²
    0.75
    >>> collinear = np.ones((3, 3))  # three copies of one variable
    >>> bool(np.isnan(residual_variance(collinear, 2, np.array([0, 1], dtype=np.int32), 2)))
    True
    """
    kk = max(k, 1)
    return residual_variance_ws(cov, y, parents, k, np.empty(kk * kk), np.empty((2, kk)))


@njit(cache=True)
def local_score(cov, n, penalty, y, parents, k):
    """BIC local score of ``y`` given ``parents[:k]``; ``-inf`` for a near-singular block.

    Parameters
    ----------
    cov : float64 ndarray of shape (p, p), C-contiguous
    n : float
        Number of samples.
    penalty : float
        Penalty discount ``c``.
    y : int
        The child node.
    parents : int32 ndarray
        Candidate parents; the first ``k`` are used.
    k : int

    Returns
    -------
    float

    Examples
    --------
    >>> cov = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.4], [0.2, 0.4, 1.0]])
    >>> value = local_score(cov, 100.0, 4.0, 1, np.array([0], dtype=np.int32), 1)
    >>> abs(value - (-50 * math.log(0.75) - 0.5 * 4.0 * 2 * math.log(100))) < 1e-9
    True
    """
    kk = max(k, 1)
    return score_ws(cov, n, penalty, y, parents, k, np.empty(kk * kk), np.empty((2, kk)))


@njit(cache=True)
def add_scores(cov, n, penalty, y, parents, k, cand, m, out):
    """``out[t]`` = score of ``y`` given ``parents[:k] + [cand[t]]``, for ``t < m``.

    Uses one Cholesky factor of the parent block and a rank-one update per candidate.
    A candidate that is (nearly) a linear combination of the parents gets ``-inf``.
    Returns the number of such rejected candidates (all ``m`` if the block itself is singular).

    Parameters
    ----------
    cov : float64 ndarray of shape (p, p), C-contiguous
    n : float
        Number of samples.
    penalty : float
        Penalty discount ``c``.
    y : int
        The child node.
    parents : int32 ndarray
        Candidate parents; the first ``k`` are used.
    k : int
    cand : int32 ndarray
        Candidates to add, one at a time; the first ``m`` are used.
    m : int
    out : float64 ndarray
        Receives the ``m`` scores.

    Returns
    -------
    int

    Examples
    --------
    Node 2 with no parent yet, candidates 0 and 1:

    >>> cov = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.4], [0.2, 0.4, 1.0]])
    >>> out = np.empty(2)
    >>> add_scores(cov, 100.0, 4.0, 2, np.empty(0, dtype=np.int32), 0, np.array([0, 1], dtype=np.int32), 2, out)
    0
    >>> one = np.array([1], dtype=np.int32)
    >>> bool(abs(out[1] - local_score(cov, 100.0, 4.0, 2, one, 1)) < 1e-9), bool(out[1] > out[0])
    (True, True)
    """
    kk = max(k, 1)
    return add_scores_ws(cov, n, penalty, y, parents, k, cand, m, out, np.empty(kk * kk), np.empty((3, kk)))


@njit(cache=True)
def remove_scores(cov, n, penalty, y, parents, k, out):
    """``out[t]`` = score of ``y`` given ``parents[:k]`` without ``parents[t]``, for ``t < k``.

    Uses ``σ²(y|S∖x) = σ²(y|S) + β_x² / (Σ_SS⁻¹)_xx`` from one inverse of the block.
    Returns 1 if the block is near-singular (then every entry is computed directly).

    Parameters
    ----------
    cov : float64 ndarray of shape (p, p), C-contiguous
    n : float
        Number of samples.
    penalty : float
        Penalty discount ``c``.
    y : int
        The child node.
    parents : int32 ndarray
        Candidate parents; the first ``k`` are used.
    k : int
    out : float64 ndarray
        Receives the ``k`` scores.

    Returns
    -------
    int

    Examples
    --------
    Node 2 with parents 0 and 1: ``out[0]`` drops parent 0, ``out[1]`` drops parent 1.

    >>> cov = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.4], [0.2, 0.4, 1.0]])
    >>> out = np.empty(2)
    >>> remove_scores(cov, 100.0, 4.0, 2, np.array([0, 1], dtype=np.int32), 2, out)
    0
    >>> only_1 = local_score(cov, 100.0, 4.0, 2, np.array([1], dtype=np.int32), 1)
    >>> bool(abs(out[0] - only_1) < 1e-9)
    True
    """
    kk = max(k, 1)
    return remove_scores_ws(
        cov, n, penalty, y, parents, k, out, np.empty(3 * kk * kk), np.empty((3, kk)), np.empty(kk, dtype=np.int32)
    )


def solve_block(block: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``block⁻¹ rhs`` for a covariance block: a solve, or least squares (minimum-norm
    coefficients) when the block is near-singular by the kernels' criterion (a Cholesky pivot
    below ``SINGULAR_TOL`` of its diagonal entry).

    Parameters
    ----------
    block : ndarray of shape (k, k)
        A covariance block.
    rhs : ndarray of shape (k,)

    Returns
    -------
    ndarray of shape (k,)

    Examples
    --------
    >>> solve_block(np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([3.0, 3.0]))
    array([1., 1.])
    >>> solve_block(np.array([[2.0, 2.0], [2.0, 2.0]]), np.array([1.0, 1.0]))  # singular: minimum norm
    array([0.25, 0.25])
    """
    try:
        pivots = np.diag(np.linalg.cholesky(block)) ** 2
        stable = bool(np.all(pivots > SINGULAR_TOL * np.diag(block)))
    except np.linalg.LinAlgError:
        stable = False
    return np.linalg.solve(block, rhs) if stable else np.linalg.lstsq(block, rhs, rcond=None)[0]
