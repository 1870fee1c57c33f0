"""BIC local score of a linear-Gaussian node over a covariance matrix (Numba kernels).

The score
---------
For node ``i`` with parent set ``S``, from the covariance ``Σ`` and ``n`` samples::

    σ²(i|S)  = Σ_ii - Σ_iS Σ_SS⁻¹ Σ_Si
    score(i, S) = -n/2 · log σ²(i|S) - c/2 · (|S| + 1) · log n        (higher is better)

``c`` is the penalty discount (Tetrad's convention; ``c = 1`` is textbook BIC).
The default is ``c = 4``, which is causal-learn's GRaSP default ``λ = 2``.

Relation to causal-learn: ``local_score_BIC_from_cov((Σ, n), i, S, {"lambda_value": λ})``
computes ``-n/2 · (1 + log σ²) - λ · (|S| + 1) · log n``. With ``c = 2λ`` and the *same*
``Σ`` the two differ by the constant ``n/2``::

    causallearn = ililab - n/2                       (see :func:`to_causallearn`)

causal-learn's ``grasp(X)`` computes ``Σ`` with ``ddof=0`` while :func:`ililab.stats.covariance`
uses ``ddof=1``; that only adds ``n/2 · log(n/(n-1))`` per node, the same for every parent
set, so both rank graphs identically.

Near-singular parent blocks
---------------------------
Kernels use a Cholesky factorisation of ``Σ_SS``. A parent whose partial variance given the
other parents is below ``SINGULAR_TOL`` times its variance (R² above ``1 - SINGULAR_TOL``)
makes the parent set *rejected*: its score is ``-inf``, so a search never adds it, and a
counter records it (the search logs the count through :mod:`logging`). A residual variance
``σ²(i|S)`` below ``VARIANCE_FLOOR · Σ_ii`` is clamped to that floor (a near-deterministic
child). No kernel raises or returns NaN.

API (shared by every score-based search: GRaSP, BOSS)
-----------------------------------------------------
* :class:`BICScore` — holds ``cov`` (float64, C-contiguous), ``n``, ``penalty`` and a bounded LRU
  cache keyed by ``(node, frozenset(parents))``; :meth:`BICScore.local_score`,
  :meth:`BICScore.score_dag`, :meth:`BICScore.regression`, :meth:`BICScore.kernel_args`.
* Numba kernels (``@njit(cache=True)``), callable from other kernels:

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
tree per node, which is their bounded score cache keyed by (node, parent set); this module's
LRU cache serves Python callers.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Iterable

import numpy as np
from numba import njit

__all__ = [
    "BICScore",
    "DEFAULT_PENALTY",
    "SINGULAR_TOL",
    "VARIANCE_FLOOR",
    "penalty_from_lambda",
    "lambda_from_penalty",
    "to_causallearn",
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

log = logging.getLogger(__name__)

#: Default penalty discount c (causal-learn's GRaSP default λ = 2).
DEFAULT_PENALTY = 4.0
#: A parent whose partial variance is below this fraction of its variance is collinear.
SINGULAR_TOL = 1e-10
#: Residual variances are clamped to at least this fraction of the node's variance.
VARIANCE_FLOOR = 1e-12


def penalty_from_lambda(lambda_value: float) -> float:
    """causal-learn's ``lambda_value`` λ -> ililab's penalty discount ``c = 2λ``.

    Examples
    --------
    >>> penalty_from_lambda(2)  # causal-learn's GRaSP default: ililab's DEFAULT_PENALTY
    4.0
    """
    return 2.0 * float(lambda_value)


def lambda_from_penalty(penalty: float) -> float:
    """ililab's penalty discount ``c`` -> causal-learn's ``λ = c / 2``.

    Examples
    --------
    >>> lambda_from_penalty(DEFAULT_PENALTY), lambda_from_penalty(penalty_from_lambda(0.5))
    (2.0, 0.5)
    """
    return float(penalty) / 2.0


def to_causallearn(score: float, n_samples: int, n_nodes: int = 1) -> float:
    """Convert an ililab BIC (sum over ``n_nodes`` local scores) to causal-learn's value.

    Valid for the same covariance matrix and ``c = 2λ``: each local score differs by ``n/2``.

    Examples
    --------
    The score of node 1 given node 0 (σ² = 0.75), against causal-learn's formula
    ``-n/2 · (1 + log σ²) - λ · (|S| + 1) · log n`` with ``λ = 2``:

    >>> ours = BICScore(np.array([[1.0, 0.5], [0.5, 1.0]]), n_samples=100).local_score(1, [0])
    >>> theirs = -100 / 2 * (1 + math.log(0.75)) - 2.0 * 2 * math.log(100)
    >>> abs(to_causallearn(ours, 100) - theirs) < 1e-9
    True
    """
    return float(score) - n_nodes * n_samples / 2.0


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


# -- Python API ----------------------------------------------------------------------------


class BICScore:
    """The BIC score of the design over ``(covariance, n)`` with a bounded score cache.

    Parameters
    ----------
    covariance : ndarray of shape (p, p)
        Sample covariance (any ddof; see the module docstring).
    n_samples : int
        Number of rows behind the covariance.
    penalty : float
        Penalty discount ``c`` (> 0); ``c = 2λ`` for causal-learn's ``lambda_value``.
    cache_size : int
        Maximum number of ``(node, parent set)`` entries kept by :meth:`local_score`
        (least recently used entries are dropped).

    Examples
    --------
    >>> import numpy as np
    >>> s = BICScore(np.array([[1.0, 0.5], [0.5, 1.0]]), n_samples=100)
    >>> s.local_score(1, [0]) > s.local_score(1, [])
    True
    """

    def __init__(self, covariance, n_samples: int, penalty: float = DEFAULT_PENALTY, cache_size: int = 100_000):
        cov = np.ascontiguousarray(np.asarray(covariance, dtype=np.float64))
        if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
            raise ValueError(f"covariance must be square, got shape {cov.shape}")
        if not np.all(np.isfinite(cov)):
            raise ValueError("covariance contains NaN or inf")
        if n_samples < 2:
            raise ValueError(f"need at least 2 samples, got {n_samples}")
        if not penalty > 0:
            raise ValueError(f"penalty must be positive, got {penalty}")
        self.cov = cov
        self.n = int(n_samples)
        self.penalty = float(penalty)
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[tuple[int, frozenset], float] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @property
    def p(self) -> int:
        """Number of variables.

        Examples
        --------
        >>> BICScore(np.eye(3), n_samples=10).p
        3
        """
        return self.cov.shape[0]

    @property
    def lambda_value(self) -> float:
        """The equivalent causal-learn ``lambda_value`` (``c / 2``).

        Examples
        --------
        >>> BICScore(np.eye(2), n_samples=10, penalty=1.0).lambda_value
        0.5
        """
        return lambda_from_penalty(self.penalty)

    def kernel_args(self) -> tuple[np.ndarray, float, float]:
        """``(cov, n, penalty)`` as the Numba kernels take them.

        Examples
        --------
        >>> cov, n, penalty = BICScore(np.eye(2), n_samples=10).kernel_args()
        >>> cov.flags["C_CONTIGUOUS"], n, penalty
        (True, 10.0, 4.0)
        >>> local_score(cov, n, penalty, 0, np.empty(0, dtype=np.int32), 0) == -0.5 * 4.0 * math.log(10)
        True
        """
        return self.cov, float(self.n), self.penalty

    def _check(self, node: int, parents: Iterable[int]) -> np.ndarray:
        idx = np.array(sorted({int(q) for q in parents}), dtype=np.int32)
        if not 0 <= node < self.p or np.any(idx < 0) or np.any(idx >= self.p):
            raise IndexError(f"node or parent out of range for {self.p} variables")
        if node in idx:
            raise ValueError(f"node {node} cannot be its own parent")
        return idx

    def local_score(self, node: int, parents: Iterable[int]) -> float:
        """Score of ``node`` given ``parents`` (``-inf`` if the parent block is near-singular).

        Results are cached by ``(node, set of parents)``: the order of ``parents`` does not matter.

        Parameters
        ----------
        node : int
        parents : iterable of int

        Returns
        -------
        float

        Raises
        ------
        IndexError
            A node out of range.
        ValueError
            ``node`` among its own parents.

        Examples
        --------
        >>> cov = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.4], [0.2, 0.4, 1.0]])
        >>> s = BICScore(cov, n_samples=100)
        >>> s.local_score(2, [1]) > s.local_score(2, [0])  # 1 explains 2 better than 0 does
        True
        >>> s.local_score(2, [0, 1]) == s.local_score(2, [1, 0])
        True
        """
        idx = self._check(node, parents)
        key = (int(node), frozenset(idx.tolist()))
        value = self._cache.get(key)
        if value is not None:
            self.hits += 1
            self._cache.move_to_end(key)
            return value
        self.misses += 1
        value = float(local_score(self.cov, float(self.n), self.penalty, int(node), idx, len(idx)))
        if value == -np.inf:
            log.warning("parent set %s of node %d is near-singular; rejected (score -inf)", idx.tolist(), node)
        self._cache[key] = value
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return value

    def residual_variance(self, node: int, parents: Iterable[int]) -> float:
        """σ²(node | parents), clamped to the floor; NaN if the parent block is near-singular.

        Parameters
        ----------
        node : int
        parents : iterable of int

        Returns
        -------
        float

        Examples
        --------
        >>> s = BICScore(np.array([[1.0, 0.5], [0.5, 1.0]]), n_samples=100)
        >>> s.residual_variance(1, []), s.residual_variance(1, [0])
        (1.0, 0.75)
        """
        idx = self._check(node, parents)
        var = float(residual_variance(self.cov, int(node), idx, len(idx)))
        if math.isnan(var):
            return var
        return max(var, VARIANCE_FLOOR * float(self.cov[node, node]))

    def score_dag(self, adjacency) -> float:
        """Total score of a DAG given as a (p, p) adjacency (nonzero ``[i, j]`` for ``i -> j``).

        Parameters
        ----------
        adjacency : array_like of shape (p, p)

        Returns
        -------
        float

        Examples
        --------
        >>> s = BICScore(np.array([[1.0, 0.5], [0.5, 1.0]]), n_samples=100)
        >>> forward, backward = np.array([[0, 1], [0, 0]]), np.array([[0, 0], [1, 0]])
        >>> abs(s.score_dag(forward) - s.score_dag(backward)) < 1e-9  # Markov equivalent: equal scores
        True
        >>> s.score_dag(forward) > s.score_dag(np.zeros((2, 2)))  # and better than no edge
        True
        """
        a = np.asarray(adjacency) != 0
        if a.shape != self.cov.shape:
            raise ValueError(f"adjacency has shape {a.shape}, expected {self.cov.shape}")
        return float(sum(self.local_score(j, np.flatnonzero(a[:, j])) for j in range(self.p)))

    def regression(self, node: int, parents: Iterable[int], standardized: bool = True) -> np.ndarray:
        """Coefficients of ``node`` on ``parents`` (in sorted parent order).

        With ``standardized=True`` each coefficient is multiplied by ``sd(parent) / sd(node)``.
        A near-singular block is solved by least squares (minimum-norm coefficients), see
        :func:`solve_block`.

        Parameters
        ----------
        node : int
        parents : iterable of int
        standardized : bool

        Returns
        -------
        ndarray
            One coefficient per parent, in sorted parent order (empty without parents).

        Examples
        --------
        >>> cov = np.array([[4.0, 0.0, 2.0], [0.0, 1.0, 0.5], [2.0, 0.5, 2.0]])
        >>> s = BICScore(cov, n_samples=100)
        >>> s.regression(2, [0, 1], standardized=False)  # x2 = 0.5 x0 + 0.5 x1 + noise
        array([0.5, 0.5])
        >>> s.regression(2, [1, 0]).round(4)  # sorted parent order; times sd(parent) / sd(node)
        array([0.7071, 0.3536])
        """
        idx = self._check(node, parents)
        if len(idx) == 0:
            return np.zeros(0)
        block = self.cov[np.ix_(idx, idx)]
        beta = solve_block(block, self.cov[idx, node])
        if standardized:
            beta = beta * np.sqrt(np.diag(block)) / math.sqrt(self.cov[node, node])
        return beta

    def cache_info(self) -> dict[str, int]:
        """Hits, misses and size of the Python-level cache.

        Examples
        --------
        >>> s = BICScore(np.eye(3), n_samples=10, cache_size=1000)
        >>> _ = s.local_score(0, [1]), s.local_score(0, [1]), s.local_score(0, [2])
        >>> s.cache_info()
        {'hits': 1, 'misses': 2, 'size': 2, 'max_size': 1000}
        """
        return {"hits": self.hits, "misses": self.misses, "size": len(self._cache), "max_size": self.cache_size}
