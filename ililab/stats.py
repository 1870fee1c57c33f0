"""Sufficient statistics: covariance and its conditioning checks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ililab.errors import DataError, SingularCovarianceError

__all__ = ["covariance", "check_covariance", "CONDITION_LIMIT"]

# Above this condition number a Gaussian score is dominated by rounding error.
CONDITION_LIMIT = 1e10


def covariance(x: np.ndarray) -> np.ndarray:
    """Sample covariance (ddof = 1) of the columns of ``x``, in float64."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise DataError(f"need a 2-D array with at least 2 rows, got shape {x.shape}")
    centred = x - x.mean(axis=0)
    return centred.T @ centred / (x.shape[0] - 1)


def _describe(names: Sequence[str], idx: Sequence[int], limit: int = 6) -> str:
    shown = ", ".join(repr(names[i]) for i in list(idx)[:limit])
    return shown + (f" and {len(idx) - limit} more" if len(idx) > limit else "")


def check_covariance(
    cov: np.ndarray,
    names: Sequence[str],
    *,
    hint: str = "",
    condition_limit: float = CONDITION_LIMIT,
) -> float:
    """Refuse a singular or badly conditioned covariance, naming the columns at fault.

    Parameters
    ----------
    cov : ndarray of shape (p, p)
    names : sequence of str
        Column names used in the message.
    hint : str
        Extra advice appended to the message (e.g. which transform to use).
    condition_limit : float
        Largest acceptable condition number of the correlation matrix.

    Returns
    -------
    float
        The condition number of the correlation matrix.

    Raises
    ------
    SingularCovarianceError
        For a constant column, two perfectly correlated columns, or a singular /
        badly conditioned covariance (the message names the columns involved).
    """
    cov = np.asarray(cov, dtype=np.float64)
    variances = np.diag(cov)
    scale = max(float(np.max(np.abs(variances))), np.finfo(float).tiny)
    constant = np.flatnonzero(variances <= 1e-14 * scale)
    suffix = f"; {hint}" if hint else ""
    if constant.size:
        raise SingularCovarianceError(
            f"constant column{'s' if constant.size > 1 else ''} {_describe(names, constant)} "
            f"(zero variance): remove {'them' if constant.size > 1 else 'it'}{suffix}"
        )
    sd = np.sqrt(variances)
    corr = cov / np.outer(sd, sd)
    upper = np.triu(np.abs(corr), k=1)
    i, j = np.unravel_index(np.argmax(upper), upper.shape) if upper.size else (0, 0)
    if upper.size and upper[i, j] > 1 - 1e-10:
        raise SingularCovarianceError(
            f"columns {names[i]!r} and {names[j]!r} are perfectly correlated "
            f"(r = {corr[i, j]:+.12f}): drop one of them{suffix}"
        )
    eigenvalues, eigenvectors = np.linalg.eigh(corr)
    smallest, largest = float(eigenvalues[0]), float(eigenvalues[-1])
    condition = np.inf if smallest <= 0 else largest / smallest
    if condition > condition_limit:
        loadings = np.abs(eigenvectors[:, 0])
        involved = np.flatnonzero(loadings > 0.1 * loadings.max())
        involved = involved[np.argsort(-loadings[involved])]
        what = "singular" if smallest <= 1e-14 * largest else f"badly conditioned (condition number {condition:.2g})"
        raise SingularCovarianceError(
            f"the covariance is {what}: columns {_describe(names, involved)} are (nearly) "
            f"linearly dependent, e.g. rows summing to a constant{suffix or '; drop one of them'}"
        )
    return float(condition)
