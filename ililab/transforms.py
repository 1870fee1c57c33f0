"""Soft-label transforms: ``none``, ``logit``, ``log``, ``alr``, ``clr``, ``softmax`` and ``auto``.

Soft labels whose rows (or per-modality blocks) sum to 1 lie on a simplex:
their covariance is exactly singular, and so is that of their centred
log-ratio. A learner fed them either fails or, like causal-learn, silently
returns a wrong graph. :func:`transform_dataset` detects probability blocks
(:func:`detect_probability_blocks`: softmax blocks whose rows sum to 1, also
approximately for rounded or float16/32 files, and sigmoid blocks of independent
multi-label probabilities) and maps them to coordinates with a full-rank covariance:

``logit``
    per column, ``log(p / (1 - p))``.
``log``
    log-probabilities ``log p`` of each softmax block (rows renormalised first).
``alr``
    additive log-ratio against the block's last class; that class has no
    coordinate of its own, so its node is kept in the graph without edges
    (a warning says so).
``clr``
    centred log-ratio ``log p - mean(log p)`` per block, with a ridge of
    ``CLR_RIDGE`` times the mean variance added to the covariance (CLR alone is singular).
``softmax``
    undo the softmax normalisation (:mod:`ililab.softmax`): centred log-ratios per block, then
    the logit covariance they determine once the class graph is sparse; warns when the
    normalisation is not identified.
``auto``
    on softmax blocks ``softmax`` where identified (``AUTO_SOFTMAX``), else ``AUTO_CHOICE``
    (``log``, measured best of the plain transforms, see ``docs/soft-labels.md``); on sigmoid
    blocks ``logit``; other data passes through unchanged.

Sigmoid blocks get a per-column logit under every transform but ``none``. A probability
stored as 0 (or 1) is censored — below the rounding step or the dtype's smallest number —
and is estimated by Gaussian EM (:func:`ililab.stats.fill_censored`) rather than clipped to
a constant; ``info["censored_values"]`` counts them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ililab.dataset import Dataset
from ililab.errors import DataError, IlilabWarning, UsageError
from ililab.graph import Node
from ililab.stats import check_enough_rows, covariance, fill_censored, iter_chunks, streaming_moments

__all__ = [
    "TRANSFORMS",
    "AUTO_CHOICE",
    "AUTO_SOFTMAX",
    "SIMPLEX_TOLERANCE",
    "APPROX_TOLERANCE",
    "LOGIT_EPSILON",
    "CLR_RIDGE",
    "IlilabWarning",
    "SimplexBlock",
    "detect_simplex_blocks",
    "detect_probability_blocks",
    "censoring_bounds",
    "TransformPlan",
    "transform_dataset",
]

TRANSFORMS = ("auto", "none", "logit", "log", "alr", "clr", "softmax")
# What `auto` applies to softmax blocks whose normalisation cannot be undone: log-probabilities
# (censored zeros filled by EM); chosen by benchmarks/softmax_graphs.py, where it beat the
# per-column logit on few classes (C <= 8) and was never worse elsewhere.
AUTO_CHOICE = "log"
# Whether `auto` first tries to undo the softmax (ililab.softmax), falling back to AUTO_CHOICE
# when the normalisation is not identified; chosen by benchmarks/softmax_graphs.py.
AUTO_SOFTMAX = True
# Rows summing to 1 within this are a simplex block whatever the values (linear label-space scores).
SIMPLEX_TOLERANCE = 1e-4
# Rows of values in [0, 1] summing to 1 within this are probabilities that were rounded or stored in
# float16/32: recognised, renormalised, and the user told by how much they were off.
APPROX_TOLERANCE = 2e-2
# A block of values in [0, 1] counts as probabilities (sigmoid, multi-label) when at least this
# share of its entries lies strictly inside (0, 1): hard 0/1 labels do not.
INSIDE_SHARE = 0.5
LOGIT_EPSILON = 1e-6
CLR_RIDGE = 1e-3
_CHUNK = 65536
# Transformed data up to this size is kept in memory as rows; larger data (memory maps,
# shards) is only streamed to its covariance, and learners get data=None.
IN_MEMORY_BYTES = 256 * 2**20


@dataclass(frozen=True)
class SimplexBlock:
    """A block of probability columns: a modality's soft labels, or the whole matrix.

    ``kind`` is ``"softmax"`` (rows sum to 1 within ``max_deviation``) or ``"sigmoid"``
    (independent per-column probabilities in [0, 1], multi-label outputs); ``step`` is the
    rounding step of the values (``1e-4`` for 4 decimals) or 0 when they are not rounded.
    """

    name: str | None
    columns: np.ndarray
    max_deviation: float
    has_negative: bool
    kind: str = "softmax"
    step: float = 0.0


def _blocks(nodes: Sequence[Node]) -> list[tuple[str | None, np.ndarray]]:
    modalities = list(dict.fromkeys(n.modality for n in nodes if n.modality is not None))
    blocks = [(m, np.array([i for i, n in enumerate(nodes) if n.modality == m])) for m in modalities]
    rest = np.array([i for i, n in enumerate(nodes) if n.modality is None], dtype=int)
    if rest.size:
        blocks.append((None, rest))
    return blocks


def _as_shards(values: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    return [values] if isinstance(values, np.ndarray) else list(values)


@dataclass(frozen=True)
class _BlockStats:
    deviation: float
    negative: bool
    in_unit: bool
    inside_share: float
    step: float


def _rounding_step(chunk: np.ndarray, dtype: np.dtype) -> float:
    """``10**-d`` when every value of ``chunk`` is a multiple of it (up to the dtype's precision), else 0."""
    eps = float(np.finfo(dtype if dtype.kind == "f" else np.float64).eps)
    values = chunk[(chunk > 0) & (chunk < 1)]
    if values.size < 10:
        return 0.0
    values = values[:100000]
    for d in range(1, 9):
        if 4 * eps * 10.0**d > 0.1:  # beyond the dtype's precision every value would pass
            break
        scaled = values * 10.0**d
        if np.all(np.abs(scaled - np.round(scaled)) <= 4 * eps * np.maximum(scaled, 1.0) + 1e-9):
            return 10.0**-d
    return 0.0


def _block_stats(values, columns: np.ndarray, stop_above: float = np.inf) -> _BlockStats:
    deviation, negative, in_unit, inside, total, step = 0.0, False, True, 0, 0, None
    shards = _as_shards(values)
    dtype = np.dtype(shards[0].dtype)
    for _, chunk in iter_chunks(shards, _CHUNK):
        chunk = chunk[:, columns]
        deviation = max(deviation, float(np.max(np.abs(chunk.sum(axis=1) - 1.0))))
        negative = negative or bool((chunk < 0).any())
        in_unit = in_unit and not negative and bool((chunk <= 1).all())
        inside += int(((chunk > 0) & (chunk < 1)).sum())
        total += chunk.size
        if step is None:
            step = _rounding_step(chunk, dtype)
        if deviation > stop_above and not in_unit:  # neither simplex nor probabilities: stop reading
            break
    return _BlockStats(deviation, negative, in_unit, inside / max(total, 1), step or 0.0)


def _classify(stats: _BlockStats, tolerance: float, approx_tolerance: float) -> str | None:
    if stats.deviation <= tolerance or (stats.in_unit and stats.deviation <= approx_tolerance):
        return "softmax"
    if stats.in_unit and stats.inside_share >= INSIDE_SHARE:
        return "sigmoid"
    return None


def detect_probability_blocks(
    values: np.ndarray | Sequence[np.ndarray],
    nodes: Sequence[Node],
    tolerance: float = SIMPLEX_TOLERANCE,
    approx_tolerance: float = APPROX_TOLERANCE,
) -> list[SimplexBlock]:
    """Blocks of softmax probabilities (rows sum to 1) and of sigmoid (multi-label) probabilities.

    A block is ``softmax`` when its rows sum to 1 within ``tolerance`` (whatever the values),
    or, with every value in [0, 1], within ``approx_tolerance`` (rounded or float16/32 outputs).
    It is ``sigmoid`` when every value is in [0, 1], at least ``INSIDE_SHARE`` of them strictly
    inside, and the rows do not sum to 1. Each modality is a candidate block, and the columns
    without modality form one. When no node carries a modality, contiguous equal-width blocks
    are tried (1 block, then 2, 3, ...) and the first split where every block is a probability
    block with at least one softmax block is taken (``[audio | visual]`` soft labels, or a
    softmax block beside a sigmoid one); failing that, a matrix of probabilities in [0, 1] is
    one sigmoid block. The blocks are then called ``columns A-B``.

    Examples
    --------
    >>> from ililab.io import make_nodes
    >>> p = np.array([[0.2, 0.8, 0.9], [0.5, 0.5, 0.1], [0.7, 0.3, 0.5]])
    >>> [b.kind for b in detect_probability_blocks(p, make_nodes(3))]
    ['sigmoid']
    """
    candidates = _blocks(nodes)
    if all(n.modality is None for n in nodes):
        p = len(nodes)
        whole: _BlockStats | None = None  # the stats of all columns, read once (k = 1 reads them)
        for k in range(1, p // 2 + 1):
            if p % k:
                continue
            width = p // k
            found = []
            for b in range(k):
                cols = np.arange(b * width, (b + 1) * width)
                stats = _block_stats(values, cols, approx_tolerance)
                if k == 1:
                    whole = stats
                kind = _classify(stats, tolerance, approx_tolerance)
                if kind is None:
                    break
                name = None if k == 1 else f"columns {cols[0]}-{cols[-1]}"
                found.append(SimplexBlock(name, cols, stats.deviation, stats.negative, kind, stats.step))
            else:
                if any(b.kind == "softmax" for b in found):
                    return found
        stats = whole if whole is not None else _block_stats(values, np.arange(p), approx_tolerance)
        if p >= 1 and _classify(stats, tolerance, approx_tolerance) == "sigmoid":
            return [SimplexBlock(None, np.arange(p), stats.deviation, False, "sigmoid", stats.step)]
        return []
    found = []
    for name, columns in candidates:
        if columns.size < 1:
            continue
        stats = _block_stats(values, columns, approx_tolerance)
        kind = _classify(stats, tolerance, approx_tolerance)
        if kind == "softmax" and columns.size < 2:
            kind = "sigmoid" if stats.in_unit else None
        if kind is not None:
            found.append(SimplexBlock(name, columns, stats.deviation, stats.negative, kind, stats.step))
    if not any(b.kind == "softmax" for b in found) and len(candidates) > 1:
        columns = np.arange(len(nodes))
        stats = _block_stats(values, columns, approx_tolerance)
        if _classify(stats, tolerance, approx_tolerance) == "softmax":
            return [SimplexBlock(None, columns, stats.deviation, stats.negative, "softmax", stats.step)]
    return found


def detect_simplex_blocks(
    values: np.ndarray, nodes: Sequence[Node], tolerance: float = SIMPLEX_TOLERANCE
) -> list[SimplexBlock]:
    """The softmax blocks of :func:`detect_probability_blocks`: columns whose rows sum to 1.

    Rows must sum to 1 within ``tolerance``, or within ``APPROX_TOLERANCE`` when every
    value is in [0, 1] (rounded or low-precision probabilities).
    """
    return [b for b in detect_probability_blocks(values, nodes, tolerance) if b.kind == "softmax"]


def censoring_bounds(dtype: np.dtype | type, step: float) -> tuple[float, float]:
    """``(low, high)``: a probability stored as 0 is only known to be below ``low``, one stored as 1 above ``high``.

    Rounded values (``step`` > 0): half a step from each end. Otherwise the dtype's smallest
    subnormal number (what underflows to 0) and the largest number below 1 (a stored 1 is above it).
    """
    if step > 0:
        return step / 2, 1 - step / 2
    dt = np.dtype(dtype)
    info = np.finfo(dt if dt.kind == "f" else np.float64)
    return float(info.smallest_subnormal), 1.0 - float(info.epsneg)


@dataclass(frozen=True)
class TransformPlan:
    """A row-wise transform, fixed once the probability blocks are known: chunk of rows -> coordinates.

    Picklable, so the same plan runs on every chunk of a streaming pass, in
    worker processes and on Dask workers. A value stored as 0 (or 1) is censored: the plan
    puts it at its bound (``lows``/``highs``); :func:`transform_dataset` then replaces it by
    its conditional expectation (:func:`ililab.stats.fill_censored`) when the rows are in memory.

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
        """Masks (below, above) of the censored entries of ``chunk``, over its columns."""
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
        """How many values of ``chunk`` are censored (stored as 0, or as 1 where a logit is taken)."""
        below, above = self.censored(chunk)
        return int(below.sum() + above.sum())

    def coordinates(self, chunk: np.ndarray) -> np.ndarray:
        """Per-column coordinates before any centring: log p (or logit p), censored values at their bounds."""
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
        """From :meth:`coordinates` to what the learner sees: centring (clr) or a reference (alr)."""
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
        :meth:`ililab.softmax.SoftmaxPlan.regularise`, so resampling code treats both alike.
        """
        if self.name != "clr":
            return cov
        keep = self.keep if self.keep is not None else np.ones(cov.shape[0], dtype=bool)
        kept_index = np.cumsum(keep) - 1
        for cols in self.blocks:
            idx = kept_index[cols]
            cov[idx, idx] += CLR_RIDGE * float(np.mean(np.diag(cov)[idx]))
        return cov


def _in_memory(values: np.ndarray | Sequence[np.ndarray], n_columns: int) -> bool:
    if not isinstance(values, np.ndarray) or isinstance(values, np.memmap):
        shards = _as_shards(values)
        return sum(s.shape[0] for s in shards) * n_columns * 8 <= IN_MEMORY_BYTES
    return True


def _moments(values, chunk_rows, transform, progress, engine):
    rows = chunk_rows or None
    if engine is not None:
        return engine.moments(_as_shards(values), chunk_rows=rows, transform=transform, progress=progress)
    return streaming_moments(_as_shards(values), chunk_rows=rows, transform=transform, progress=progress)


def _describe_block(block: SimplexBlock) -> str:
    return block.name if block.name is not None else "all columns"


def _approximate_warning(blocks: Sequence[SimplexBlock], stack: int) -> None:
    loose = [b for b in blocks if b.kind == "softmax" and b.max_deviation > SIMPLEX_TOLERANCE]
    if loose:
        worst = max(b.max_deviation for b in loose)
        warnings.warn(
            f"rows of {', '.join(_describe_block(b) for b in loose)} sum to 1 only within {worst:.2g} "
            "(rounded or low-precision probabilities); each row is renormalised to sum to 1",
            IlilabWarning,
            stacklevel=stack,
        )


def plan_for(name: str, blocks: Sequence[SimplexBlock], dtype: np.dtype, keep: np.ndarray | None = None) -> TransformPlan:
    """The :class:`TransformPlan` of ``name`` over ``blocks``: softmax blocks get ``name``, sigmoid blocks a logit."""
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
    """The smallest float dtype of the input arrays (float64 for integer data): what its zeros mean."""
    kinds = [np.dtype(a.dtype) for a in _as_shards(values)]
    floats = [d for d in kinds if d.kind == "f"]
    return min(floats, key=lambda d: d.itemsize) if floats else np.dtype(np.float64)


def censored_coordinates(plan: TransformPlan, raw: np.ndarray, info: dict) -> tuple[np.ndarray, np.ndarray | None]:
    """``plan.coordinates(raw)`` with censored entries filled by Gaussian EM; and the covariance, if any were censored.

    Records ``info["censored_values"]`` (and the EM sweeps) when entries were censored.
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
    cached = info.get("_censored_fill")
    if cached is not None and cached[0] == key:
        _, values, fit_cov, count, sweeps = cached
    else:
        fit = fill_censored(x[:, group], below[:, group], lows, above[:, group], highs, shift_blocks=shifted)
        values, fit_cov, count, sweeps = fit.rows[(below | above)[:, group]], fit.covariance, fit.censored, fit.sweeps
        info["_censored_fill"] = (key, values, fit_cov, count, sweeps)
    sub = x[:, group]
    sub[(below | above)[:, group]] = values
    x[:, group] = sub
    cov = covariance(x)
    cov[np.ix_(group, group)] = fit_cov
    info["censored_values"] = count
    info["censored_em_sweeps"] = sweeps
    return x, cov


def transform_dataset(
    values: np.ndarray | Sequence[np.ndarray],
    nodes: Sequence[Node],
    transform: str = "auto",
    chunk_rows: int | None = None,
    progress=None,
    engine=None,
) -> Dataset:
    """Apply a soft-label transform and build the :class:`Dataset` learners see.

    Parameters
    ----------
    values : ndarray of shape (n, p), or a sequence of them (shards)
        The validated data (may be memory-mapped). In-memory arrays, and data up
        to ``IN_MEMORY_BYTES`` once transformed, are kept as rows; larger memory
        maps and shards are streamed chunk by chunk to their covariance
        (``Dataset.data`` is then None), never loaded whole.
    nodes : sequence of Node
        One per column; their modalities define the probability blocks.
    transform : {"auto", "none", "logit", "log", "alr", "clr", "softmax"}
        ``auto``: undo the softmax on softmax blocks where identified, else log-probabilities;
        per-column logit on sigmoid (multi-label) blocks; other data unchanged.
    chunk_rows : int, optional
        Rows per chunk of the streaming pass (default: about ``stats.CHUNK_BYTES`` per chunk).
    progress : callable, optional
        ``progress(rows_done)`` after each chunk of a streaming pass.
    engine : ililab.engines.Engine, optional
        Computes the moments of streamed data (e.g. with ``dask.array`` on a cluster);
        default: one streaming pass in this process.

    Returns
    -------
    Dataset
        With ``info["transform"]`` naming what ran, ``info["simplex_blocks"]``,
        ``info["sigmoid_blocks"]`` and ``info["censored_values"]`` (entries stored as 0 or 1).

    Examples
    --------
    >>> from ililab.io import make_nodes
    >>> from ililab.simulate import simulate_soft_labels
    >>> sim = simulate_soft_labels(6, 2000, modalities=("audio",), output="sigmoid", seed=0)
    >>> ds = transform_dataset(sim.probabilities, make_nodes(6))
    >>> ds.info["transform"], ds.info["sigmoid_blocks"]
    ('logit', ['all columns'])
    """
    if transform not in TRANSFORMS:
        raise UsageError(f"unknown transform {transform!r}; choose one of {', '.join(TRANSFORMS)}")
    nodes = list(nodes)
    check_enough_rows(sum(s.shape[0] for s in _as_shards(values)), len(nodes))
    found = detect_probability_blocks(values, nodes)
    blocks = [b for b in found if b.kind == "softmax"]
    sigmoid = [b for b in found if b.kind == "sigmoid"]
    dtype = input_dtype(values)
    info: dict = {
        "transform_requested": transform,
        "simplex_blocks": [_describe_block(b) for b in blocks],
    }
    if sigmoid:
        info["sigmoid_blocks"] = [_describe_block(b) for b in sigmoid]
    if blocks and max(b.max_deviation for b in blocks) > SIMPLEX_TOLERANCE:
        info["row_sum_deviation"] = float(max(b.max_deviation for b in blocks))
    chosen = transform
    if transform == "auto":
        chosen = AUTO_CHOICE if blocks else ("logit" if sigmoid else "none")
    info["transform"] = chosen
    if chosen != "none" and not blocks and not sigmoid:
        warnings.warn(
            f"--transform {chosen} applies to soft labels, but no block of columns holds probabilities "
            "(rows summing to 1, or values in [0, 1]); the data is used unchanged",
            IlilabWarning,
            stacklevel=2,
        )
        chosen = info["transform"] = "none"
    if chosen == "none" and (blocks or sigmoid) and any(not b.has_negative for b in found):
        warnings.warn(
            "the data look like probabilities, but --transform none scores them as they are: the "
            "graph is distorted by the normalisation (softmax) or the saturation (sigmoid); "
            "consider --transform auto",
            IlilabWarning,
            stacklevel=2,
        )
    if chosen == "none":
        if _in_memory(values, len(nodes)):
            x = np.asarray(values if isinstance(values, np.ndarray) else np.concatenate(values), dtype=np.float64)
            info["_plan"] = TransformPlan("none")
            return Dataset(tuple(nodes), covariance(x), x.shape[0], x, info)
        moments = _moments(values, chunk_rows, None, progress, engine)
        info["streamed"] = True
        info["_plan"] = TransformPlan("none")
        info["_source"] = _as_shards(values)
        return Dataset(tuple(nodes), moments.covariance(), int(moments.n), None, info)
    if blocks and (chosen == "softmax" or (transform == "auto" and AUTO_SOFTMAX)):
        from ililab.softmax import softmax_dataset

        dataset = softmax_dataset(
            values, nodes, found, info, explicit=transform == "softmax", chunk_rows=chunk_rows, progress=progress, engine=engine
        )
        if dataset is not None:
            return dataset
        chosen = info["transform"] = AUTO_CHOICE
        warnings.warn(
            f"the softmax normalisation is not identified from these data ({info['softmax'].get('reason')}); "
            f"--transform auto falls back to {AUTO_CHOICE}; {_RELIABILITY}",
            IlilabWarning,
            stacklevel=2,
        )
    elif chosen == "softmax":
        chosen = info["transform"] = "logit"
        warnings.warn(
            "--transform softmax: no block of columns sums to 1 row by row (only independent "
            "probabilities); each probability column gets a logit instead",
            IlilabWarning,
            stacklevel=2,
        )
    _approximate_warning(blocks, 2)
    if any(b.has_negative for b in blocks):
        info["negative_values"] = True
    keep = np.ones(len(nodes), dtype=bool)
    ridge_columns: list[np.ndarray] = []
    for block in blocks:
        if chosen == "clr":
            ridge_columns.append(block.columns)
        elif chosen == "alr":
            keep[block.columns[-1]] = False
    plan = plan_for(chosen, found, dtype, keep)
    if _in_memory(values, len(nodes)):
        raw = np.asarray(values if isinstance(values, np.ndarray) else np.concatenate(values), dtype=np.float64)
        coords, filled_cov = censored_coordinates(plan, raw, info)
        x = plan.finish(coords)
        n_rows = x.shape[0]
        if n_rows < 2:
            cov = None
        elif filled_cov is not None:
            cov = _finish_covariance(plan, filled_cov)
        else:
            cov = covariance(x)
    else:
        clipped = [0]

        def counted(chunk: np.ndarray) -> np.ndarray:
            clipped[0] += plan.clipped(chunk)
            return plan(chunk)

        if engine is not None:  # the pass runs elsewhere: count clipped values in the moments' stead
            n_clipped = sum(plan.clipped(chunk) for _, chunk in iter_chunks(_as_shards(values), chunk_rows or None))
            moments = _moments(values, chunk_rows, plan, progress, engine)
        else:
            moments = _moments(values, chunk_rows, counted, progress, None)
            n_clipped = clipped[0]
        x, cov, n_rows = None, moments.covariance(), int(moments.n)
        info["streamed"] = True
        info["_source"] = _as_shards(values)
        if n_clipped:
            info["clipped_values"] = n_clipped
            warnings.warn(
                f"{n_clipped} soft-label values stored as 0 (or 1) were set to their censoring bound before "
                "taking logarithms (streamed data: no censored-value estimation)",
                IlilabWarning,
                stacklevel=2,
            )
    info["_plan"] = plan  # private: what bootstrap replicates re-apply; not copied into graph meta
    if info.get("censored_values"):
        warnings.warn(
            f"{info['censored_values']} soft-label values stored as 0 (or 1) are censored (only known to lie "
            "beyond the smallest value the file can hold); estimated by EM from the other classes",
            IlilabWarning,
            stacklevel=2,
        )
    if not keep.all():
        dropped = [nodes[i].name for i in np.flatnonzero(~keep)]
        info["reference_columns"] = dropped
        warnings.warn(
            "alr uses the last class of each block as reference; it has no coordinate of its own, "
            f"so {', '.join(repr(d) for d in dropped)} stay in the graph without edges",
            IlilabWarning,
            stacklevel=2,
        )
    if ridge_columns and cov is not None:
        cov = plan.regularise(cov, n_rows)
        info["clr_ridge"] = CLR_RIDGE
    if sigmoid and chosen != "none":
        warnings.warn(
            f"{', '.join(_describe_block(b) for b in sigmoid)}: independent (multi-label, sigmoid) probabilities; "
            "each column is mapped back to its logit",
            IlilabWarning,
            stacklevel=2,
        )
    if blocks:
        warnings.warn(
            "the data are normalised probabilities (rows sum to 1): their normalisation acts like a "
            "hidden common cause of every class, so the graph is less true than one from the "
            "pre-softmax logits; pass the logits if you have them (see docs/soft-labels.md)",
            IlilabWarning,
            stacklevel=2,
        )
    kept_nodes = tuple(n for n, k in zip(nodes, keep) if k)
    if n_rows < 2 or cov is None:
        raise DataError("need at least 2 rows")
    output_nodes = tuple(nodes) if len(kept_nodes) != len(nodes) else None
    return Dataset(kept_nodes, cov, n_rows, x, info, output_nodes)


_RELIABILITY = (
    "graphs from normalised probabilities without the softmax undone are less reliable "
    "(about half to four fifths of the edges right in benchmarks; see docs/soft-labels.md)"
)


def _finish_covariance(plan: TransformPlan, cov: np.ndarray) -> np.ndarray:
    """The covariance of ``plan.finish(x)`` from that of the coordinates ``x`` (a linear map)."""
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
