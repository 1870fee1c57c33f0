"""The row-wise plan of a plain soft-label transform (``none``, ``logit``, ``log``, ``alr``, ``clr``).

A :class:`TransformPlan` is fixed once the probability blocks are known
(:mod:`ililab.probability_blocks`) and maps any chunk of rows to coordinates, so the same plan
runs on every chunk of a streaming pass and again on each bootstrap replicate.
:func:`censored_coordinates` replaces the censored entries (stored as 0 or 1) of in-memory rows
by Gaussian EM (:func:`ililab.censored.fill_censored`). The ``softmax`` transform builds on the
``log`` plan (:mod:`ililab.softmax_transform`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ililab.censored import fill_censored
from ililab.errors import IlilabWarning
from ililab.probability_blocks import SIMPLEX_TOLERANCE, SimplexBlock, censoring_bounds
from ililab.stats import as_shards, covariance

__all__ = [
    "LOGIT_EPSILON",
    "CLR_RIDGE",
    "TransformPlan",
    "describe_block",
    "approximate_warning",
    "plan_for",
    "input_dtype",
    "censored_coordinates",
    "all_rows",
    "finish_covariance",
]

LOGIT_EPSILON = 1e-6
CLR_RIDGE = 1e-3


@dataclass(frozen=True)
class TransformPlan:
    """A row-wise transform, fixed once the probability blocks are known: chunk of rows -> coordinates.

    Picklable, so the same plan runs on every chunk of a streaming pass, in
    worker processes and on Dask workers. A value stored as 0 (or 1) is censored: the plan
    puts it at its bound (``lows``/``highs``); :func:`censored_coordinates` then replaces it by
    its conditional expectation (:func:`ililab.censored.fill_censored`) when the rows are in memory.

    Attributes
    ----------
    name : str
        ``"none"``, ``"logit"``, ``"log"``, ``"alr"`` or ``"clr"`` (applied to softmax blocks).
    blocks : tuple of ndarray
        Column indices of each softmax block the transform applies to.
    keep : ndarray of bool
        Columns that have a coordinate (``alr`` drops each block's reference class).
    sigmoid : tuple of ndarray
        Column indices of sigmoid (multi-label) blocks: per-column logit unless ``name`` is ``"none"``.
    renormalise : tuple of bool
        Per softmax block: divide each row by its sum first (rows summing to 1 only approximately).
    lows, highs : tuple of float
        Per softmax block then per sigmoid block: the censoring bounds (:func:`censoring_bounds`).

    Examples
    --------
    >>> plan = TransformPlan("clr", blocks=(np.array([0, 1, 2]),), lows=(1e-6,), highs=(1.0,))
    >>> plan(np.array([[0.2, 0.3, 0.5]])).round(3).tolist()  # log p minus the row's mean log p
    [[-0.441, -0.035, 0.476]]
    """

    name: str
    blocks: tuple[np.ndarray, ...] = ()
    keep: np.ndarray | None = None
    sigmoid: tuple[np.ndarray, ...] = ()
    renormalise: tuple[bool, ...] = ()
    lows: tuple[float, ...] = ()
    highs: tuple[float, ...] = ()

    def _bounds(self, index: int) -> tuple[float, float]:
        if index < len(self.lows):
            return self.lows[index], self.highs[index]
        return LOGIT_EPSILON, 1 - LOGIT_EPSILON

    def _groups(self):
        for i, cols in enumerate(self.blocks):
            yield i, cols, "softmax"
        for j, cols in enumerate(self.sigmoid):
            yield len(self.blocks) + j, cols, "sigmoid"

    def censored(self, chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Masks (below, above) of the censored entries of ``chunk``, over its columns.

        Examples
        --------
        >>> plan = TransformPlan("log", blocks=(np.array([0, 1]),), lows=(1e-4,), highs=(1.0,))
        >>> below, above = plan.censored(np.array([[0.0, 1.0], [0.3, 0.7]]))
        >>> below.tolist(), bool(above.any())
        ([[True, False], [False, False]], False)
        """
        below = np.zeros(chunk.shape, dtype=bool)
        above = np.zeros(chunk.shape, dtype=bool)
        if self.name == "none":
            return below, above
        for i, cols, kind in self._groups():
            low, high = self._bounds(i)
            block = chunk[:, cols]
            below[:, cols] = block < low
            if kind == "sigmoid" or self.name == "logit":
                above[:, cols] = block > high
        return below, above

    def clipped(self, chunk: np.ndarray) -> int:
        """How many values of ``chunk`` are censored (stored as 0, or as 1 where a logit is taken).

        Examples
        --------
        >>> plan = TransformPlan("log", blocks=(np.array([0, 1]),), lows=(1e-4,), highs=(1.0,))
        >>> plan.clipped(np.array([[0.0, 1.0], [0.3, 0.7]]))
        1
        """
        below, above = self.censored(chunk)
        return int(below.sum() + above.sum())

    def coordinates(self, chunk: np.ndarray) -> np.ndarray:
        """Per-column coordinates before any centring: log p (or logit p), censored values at their bounds.

        Examples
        --------
        >>> plan = TransformPlan("log", blocks=(np.array([0, 1]),), lows=(1e-4,), highs=(1.0,))
        >>> plan.coordinates(np.array([[0.0, 1.0]])).round(3).tolist()  # the stored 0 at its bound, log 1e-4
        [[-9.21, 0.0]]
        """
        x = np.array(chunk, dtype=np.float64)
        if self.name == "none":
            return x
        for i, cols, kind in self._groups():
            low, high = self._bounds(i)
            p_block = x[:, cols]
            if kind == "softmax" and i < len(self.renormalise) and self.renormalise[i]:
                sums = p_block.sum(axis=1, keepdims=True)
                p_block = p_block / np.where(sums > 0, sums, 1.0)
            if kind == "sigmoid" or self.name == "logit":
                clipped = np.clip(p_block, low, high)
                x[:, cols] = np.log(clipped) - np.log1p(-clipped)
            else:
                x[:, cols] = np.log(np.clip(p_block, low, None))
        return x

    def finish(self, x: np.ndarray) -> np.ndarray:
        """From :meth:`coordinates` to what the learner sees: centring (clr) or a reference (alr).

        Examples
        --------
        >>> plan = TransformPlan("alr", blocks=(np.array([0, 1, 2]),), keep=np.array([True, True, False]))
        >>> plan.finish(np.log(np.array([[0.2, 0.3, 0.5]]))).round(3).tolist()  # against the last class
        [[-0.916, -0.511]]
        """
        if self.name in ("clr", "alr"):
            x = x.copy()
            for cols in self.blocks:
                logs = x[:, cols]
                x[:, cols] = logs - (logs.mean(axis=1, keepdims=True) if self.name == "clr" else logs[:, -1:])
        return x if self.keep is None or self.keep.all() else x[:, self.keep]

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        """The coordinates of a float64 chunk of rows (a new array; ``chunk`` is left alone)."""
        if self.name == "none":
            return chunk
        return self.finish(self.coordinates(chunk))

    def regularise(self, cov: np.ndarray, n: int) -> np.ndarray:
        """The covariance-level part of the transform, applied after a pass over ``n`` rows.

        For ``clr``: add the ridge (``CLR_RIDGE`` times the block's mean variance) to each
        block, in place; other plain transforms have none. Same signature as
        :meth:`ililab.softmax_transform.CentredLogPlan.regularise`, so resampling code treats both alike.

        Examples
        --------
        >>> plan = TransformPlan("clr", blocks=(np.array([0, 1]),))
        >>> plan.regularise(np.array([[2.0, 0.0], [0.0, 4.0]]), 100).tolist()  # + CLR_RIDGE x mean variance
        [[2.003, 0.0], [0.0, 4.003]]
        """
        if self.name != "clr":
            return cov
        keep = self.keep if self.keep is not None else np.ones(cov.shape[0], dtype=bool)
        kept_index = np.cumsum(keep) - 1
        for cols in self.blocks:
            idx = kept_index[cols]
            cov[idx, idx] += CLR_RIDGE * float(np.mean(np.diag(cov)[idx]))
        return cov


def describe_block(block: SimplexBlock) -> str:
    """How warnings and ``info`` name a block: its modality, or ``all columns``.

    Examples
    --------
    >>> audio, unnamed = SimplexBlock("audio", np.arange(3), 0.0, False), SimplexBlock(None, np.arange(3), 0.0, False)
    >>> describe_block(audio), describe_block(unnamed)
    ('audio', 'all columns')
    """
    return block.name if block.name is not None else "all columns"


def approximate_warning(blocks: Sequence[SimplexBlock], stack: int) -> None:
    """Warn that softmax blocks whose rows sum to 1 only approximately are renormalised row by row.

    Examples
    --------
    >>> import warnings
    >>> loose = SimplexBlock("audio", np.arange(3), 0.003, False)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     approximate_warning([loose], stack=2)
    >>> str(caught[0].message)[:48]
    'rows of audio sum to 1 only within 0.003 (rounde'
    """
    loose = [b for b in blocks if b.kind == "softmax" and b.max_deviation > SIMPLEX_TOLERANCE]
    if loose:
        worst = max(b.max_deviation for b in loose)
        warnings.warn(
            f"rows of {', '.join(describe_block(b) for b in loose)} sum to 1 only within {worst:.2g} "
            "(rounded or low-precision probabilities); each row is renormalised to sum to 1",
            IlilabWarning,
            stacklevel=stack,
        )


def plan_for(name: str, blocks: Sequence[SimplexBlock], dtype: np.dtype, keep: np.ndarray | None = None) -> TransformPlan:
    """The :class:`TransformPlan` of ``name`` over ``blocks``: softmax blocks get ``name``, sigmoid blocks a logit.

    Examples
    --------
    >>> blocks = [SimplexBlock("audio", np.arange(3), 0.0, False, step=1e-3)]
    >>> plan = plan_for("clr", blocks, np.dtype(np.float64))
    >>> plan.name, [b.tolist() for b in plan.blocks], plan.lows
    ('clr', [[0, 1, 2]], (0.0005,))
    """
    soft = [b for b in blocks if b.kind == "softmax"]
    sig = [b for b in blocks if b.kind == "sigmoid"]
    bounds = [censoring_bounds(dtype, b.step) for b in soft + sig]
    return TransformPlan(
        name,
        tuple(b.columns for b in soft),
        keep,
        tuple(b.columns for b in sig) if name != "none" else (),
        tuple(b.max_deviation > SIMPLEX_TOLERANCE for b in soft),
        tuple(lo for lo, _ in bounds),
        tuple(hi for _, hi in bounds),
    )


def input_dtype(values) -> np.dtype:
    """The smallest float dtype of the input arrays (float64 for integer data): what its zeros mean.

    Examples
    --------
    >>> input_dtype([np.zeros(2, np.float32), np.zeros(2, np.float64)]), input_dtype(np.zeros(2, int))
    (dtype('float32'), dtype('float64'))
    """
    kinds = [np.dtype(a.dtype) for a in as_shards(values)]
    floats = [d for d in kinds if d.kind == "f"]
    return min(floats, key=lambda d: d.itemsize) if floats else np.dtype(np.float64)


def all_rows(values) -> np.ndarray:
    """In-memory data (an array or a list of shards) as one float64 array of all its rows.

    Examples
    --------
    >>> all_rows([np.ones((2, 3), np.float32), np.zeros((1, 3))]).shape, all_rows(np.ones((2, 2))).dtype
    ((3, 3), dtype('float64'))
    """
    return np.asarray(values if isinstance(values, np.ndarray) else np.concatenate(values), dtype=np.float64)


def censored_coordinates(
    plan: TransformPlan, raw: np.ndarray, info: dict, fills: dict | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``plan.coordinates(raw)`` with censored entries filled by Gaussian EM; and the covariance, if any were censored.

    Records ``info["censored_values"]`` (and the EM sweeps) when entries were censored. ``fills``
    (optional, owned by the caller) caches the fill per plan and rows: ``auto`` falling back from
    ``softmax`` to ``log`` passes the same dict and the same rows are filled once.

    Examples
    --------
    >>> from ililab.simulate import simulate_soft_labels
    >>> p = simulate_soft_labels(4, 500, ("audio",), seed=0).probabilities.copy()
    >>> p[:5, 0] = 0.0  # five probabilities stored as 0
    >>> plan = TransformPlan("log", blocks=(np.arange(4),), lows=(1e-4,), highs=(1.0,))
    >>> info = {}
    >>> x, cov = censored_coordinates(plan, p, info)
    >>> info["censored_values"], bool((x[:5, 0] < np.log(1e-4)).all()), cov.shape
    (5, True, (4, 4))
    """
    x = plan.coordinates(raw)
    below, above = plan.censored(raw)
    if not (below.any() or above.any()) or x.shape[0] < 2:
        return x, None
    cols = np.flatnonzero((below | above).any(axis=0))
    # fill jointly over every probability column (their dependence is what predicts a censored value)
    group = np.unique(np.concatenate([*plan.blocks, *plan.sigmoid, cols]).astype(int))
    low = x[below].min() if below.any() else -np.inf
    lows = np.full(group.size, low)
    highs = np.full(group.size, x[above].max() if above.any() else np.inf)
    shifted = []  # softmax blocks in log p = z - logsumexp(z): Gaussian only up to a per-row shift
    for i, c, _ in plan._groups():
        lo, hi = plan._bounds(i)
        pos = np.searchsorted(group, c)
        if plan.name == "logit" or i >= len(plan.blocks):
            lows[pos], highs[pos] = np.log(lo) - np.log1p(-lo), np.log(hi) - np.log1p(-hi)
        else:
            lows[pos] = np.log(lo)
            shifted.append(pos)
    # `auto` may fall back from softmax to `log`: the same plan on the same rows is filled once
    columns = tuple(tuple(map(tuple, c)) for c in (plan.blocks, plan.sigmoid))
    key = (plan.name, columns, plan.renormalise, plan.lows, plan.highs, raw.shape)
    fills = {} if fills is None else fills
    if key in fills:
        values, fit_cov, count, sweeps = fills[key]
    else:
        fit = fill_censored(x[:, group], below[:, group], lows, above[:, group], highs, shift_blocks=shifted)
        values, fit_cov, count, sweeps = fit.rows[(below | above)[:, group]], fit.covariance, fit.censored, fit.sweeps
        fills[key] = (values, fit_cov, count, sweeps)
    if group.size == x.shape[1]:  # every column in the fit (the usual case): no copies, no second pass
        x[below | above] = values
        cov = fit_cov.copy()
    else:
        sub = x[:, group]
        sub[(below | above)[:, group]] = values
        x[:, group] = sub
        cov = covariance(x)
        cov[np.ix_(group, group)] = fit_cov
    info["censored_values"] = count
    info["censored_em_sweeps"] = sweeps
    return x, cov


def finish_covariance(plan: TransformPlan, cov: np.ndarray) -> np.ndarray:
    """The covariance of ``plan.finish(x)`` from that of the coordinates ``x`` (a linear map).

    Examples
    --------
    >>> plan = TransformPlan("clr", blocks=(np.array([0, 1]),))
    >>> finish_covariance(plan, np.eye(2)).tolist()  # the covariance of the centred coordinates
    [[0.5, -0.5], [-0.5, 0.5]]
    """
    p = cov.shape[0]
    a = np.eye(p)
    if plan.name in ("clr", "alr"):
        for cols in plan.blocks:
            sub = np.eye(len(cols))
            sub -= 1.0 / len(cols) if plan.name == "clr" else np.eye(len(cols))[-1][None, :]
            a[np.ix_(cols, cols)] = sub
    if plan.keep is not None and not plan.keep.all():
        a = a[plan.keep]
    out = a @ cov @ a.T
    return (out + out.T) / 2
