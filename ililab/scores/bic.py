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

How the kernels treat near-singular parent blocks (``SINGULAR_TOL``, ``VARIANCE_FLOOR``) and
what each kernel computes is described in :mod:`ililab.scores.kernels`, their home; they are
re-exported here (``ililab.scores.bic.local_score`` and the others keep working).

API (shared by every score-based search: GRaSP, BOSS)
-----------------------------------------------------
* :class:`BICScore` — holds ``cov`` (float64, C-contiguous), ``n``, ``penalty`` and a bounded LRU
  cache keyed by ``(node, frozenset(parents))``; :meth:`BICScore.local_score`,
  :meth:`BICScore.score_dag`, :meth:`BICScore.regression`, :meth:`BICScore.kernel_args`.
* Numba kernels: :mod:`ililab.scores.kernels` (``local_score``, ``add_scores``,
  ``remove_scores``, ``residual_variance``, their ``*_ws`` twins, ``total_score_ws``).

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

from ililab.scores.kernels import (
    KERNEL_ONLY,
    SINGULAR_TOL,
    VARIANCE_FLOOR,
    add_scores,
    add_scores_ws,
    local_score,
    new_scratch,
    remove_scores,
    remove_scores_ws,
    residual_variance,
    residual_variance_ws,
    score_ws,
    solve_block,
    total_score_ws,
)

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
    "KERNEL_ONLY",
]

log = logging.getLogger(__name__)

#: Default penalty discount c (causal-learn's GRaSP default λ = 2).
DEFAULT_PENALTY = 4.0


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
