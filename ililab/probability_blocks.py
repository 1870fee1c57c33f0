"""Which columns hold probabilities: softmax blocks (rows sum to 1) and sigmoid (multi-label) blocks.

:func:`detect_probability_blocks` reads the data once per candidate block (each modality, or
contiguous equal-width blocks when no column carries a modality) and classifies it; a softmax
block's rows must sum to 1 within ``SIMPLEX_TOLERANCE``, or, with every value in [0, 1], within
``APPROX_TOLERANCE`` (rounded or float16/32 outputs). :func:`censoring_bounds` says what a
stored 0 or 1 means: a value only known to lie beyond the rounding step or the dtype's range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ililab.graph import Node
from ililab.stats import as_shards, auto_chunk_rows, iter_chunks

__all__ = [
    "SIMPLEX_TOLERANCE",
    "APPROX_TOLERANCE",
    "INSIDE_SHARE",
    "ROUNDING_EVIDENCE",
    "SimplexBlock",
    "detect_probability_blocks",
    "detect_simplex_blocks",
    "censoring_bounds",
    "rounding_noise",
]

# Rows summing to 1 within this are a simplex block whatever the values (linear label-space scores).
SIMPLEX_TOLERANCE = 1e-4
# Rows of values in [0, 1] summing to 1 within this are probabilities that were rounded or stored in
# float16/32: recognised, renormalised, and the user told by how much they were off.
APPROX_TOLERANCE = 2e-2
# A block of values in [0, 1] counts as probabilities (sigmoid, multi-label) when at least this
# share of its entries lies strictly inside (0, 1): hard 0/1 labels do not.
INSIDE_SHARE = 0.5
# Values (strictly inside (0, 1)) that must be multiples of 10**-d, where the dtype can tell, before the
# data count as rounded to d decimals.
ROUNDING_EVIDENCE = 20

@dataclass(frozen=True)
class SimplexBlock:
    """A block of probability columns: a modality's soft labels, or the whole matrix.

    ``kind`` is ``"softmax"`` (rows sum to 1 within ``max_deviation``) or ``"sigmoid"``
    (independent per-column probabilities in [0, 1], multi-label outputs); ``step`` is the
    rounding step of the values (``1e-4`` for 4 decimals) or 0 when they are not rounded.

    Examples
    --------
    >>> from ililab.names import make_nodes
    >>> p = np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]])
    >>> block = detect_probability_blocks(p, make_nodes(2))[0]
    >>> block.kind, block.columns.tolist(), block.has_negative, block.step
    ('softmax', [0, 1], False, 0.0)
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


@dataclass(frozen=True)
class _BlockStats:
    deviation: float
    negative: bool
    in_unit: bool
    inside_share: float
    step: float


def _rounding_step(chunk: np.ndarray, dtype: np.dtype) -> float:
    """``10**-d`` when every value of ``chunk`` is a multiple of it (up to the dtype's precision), else 0.

    A value tests the claim only where the dtype resolves the step (its spacing, about
    ``eps * value``, well below the step): at least ``ROUNDING_EVIDENCE`` such values must be
    multiples, so float16 files rounded to 3 decimals and float32 files rounded to 6 are recognised
    by their small values, where the larger ones are too coarse to say. A non-zero value below half
    the step refutes it (rounding would have stored 0): the ~1e-4 (float16) or ~1e-11 (float32)
    probabilities of a confident teacher are no multiples of 0.1, however close to 0 they sit.
    """
    eps = float(np.finfo(dtype if dtype.kind == "f" else np.float64).eps)
    values = chunk[(chunk > 0) & (chunk < 1)].astype(np.float64)
    if values.size < ROUNDING_EVIDENCE:
        return 0.0
    values = values[:100000]
    for d in range(1, 10):
        scaled = values * 10.0**d
        nearest = np.round(scaled)
        if np.any(nearest < 1):
            continue  # 0 < value < step / 2: rounding to this step would have stored 0
        slack = 4 * eps * np.maximum(scaled, 1.0)
        if np.count_nonzero(slack < 0.1) < ROUNDING_EVIDENCE:
            continue  # the dtype cannot tell multiples of this step from other values
        if np.all(np.abs(scaled - nearest) <= slack + 1e-9):
            return 10.0**-d
    return 0.0


def _block_stats(values, columns: np.ndarray, stop_above: float = np.inf) -> _BlockStats:
    deviation, negative, in_unit, inside, total, step = 0.0, False, True, 0, 0, None
    shards = as_shards(values)
    dtype = np.dtype(shards[0].dtype)
    for _, chunk in iter_chunks(shards, auto_chunk_rows(shards[0].shape[1])):  # bounded float64 chunks
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
    >>> from ililab.names import make_nodes
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

    Examples
    --------
    >>> from ililab.names import make_nodes
    >>> p = np.array([[0.2, 0.8, 0.9], [0.5, 0.5, 0.1], [0.7, 0.3, 0.5]])
    >>> detect_simplex_blocks(p, make_nodes(3))  # independent probabilities: no softmax block
    []
    >>> [b.columns.tolist() for b in detect_simplex_blocks(p[:, :2], make_nodes(2))]
    [[0, 1]]
    """
    return [b for b in detect_probability_blocks(values, nodes, tolerance) if b.kind == "softmax"]


def censoring_bounds(dtype: np.dtype | type, step: float) -> tuple[float, float]:
    """``(low, high)``: a probability stored as 0 is only known to be below ``low``, one stored as 1 above ``high``.

    Rounded values (``step`` > 0): half a step from each end. Otherwise the dtype's smallest
    subnormal number (what underflows to 0) and the largest number below 1 (a stored 1 is above it).

    Examples
    --------
    >>> censoring_bounds(np.float64, 1e-3)  # 3 decimals: a stored 0 is below half a step
    (0.0005, 0.9995)
    >>> censoring_bounds(np.float32, 0.0)[0]  # float32's smallest subnormal
    1.401298464324817e-45
    """
    if step > 0:
        return step / 2, 1 - step / 2
    dt = np.dtype(dtype)
    info = np.finfo(dt if dt.kind == "f" else np.float64)
    return float(info.smallest_subnormal), 1.0 - float(info.epsneg)


def rounding_noise(values, columns: np.ndarray, step: float, chunk_rows: int | None = None) -> np.ndarray:
    """Per column, the mean variance rounding adds to the log of its stored non-zero probabilities.

    A value ``v`` stored with quantum ``q`` (the decimal ``step``, or the spacing of the dtype
    at ``v`` where that is larger: float16 keeps about 3 digits) is anything within ``q/2`` of
    it, so ``log v`` carries a roughly uniform error of variance ``(q / v)² / 12``. Values
    stored as 0 are censored, not counted here. Compared with the variance of the centred
    log-probabilities, this says how much of a class's signal the rounding destroyed.

    Examples
    --------
    >>> p = np.array([[0.001, 0.999], [0.002, 0.998], [0.5, 0.5]])
    >>> rounding_noise(p, np.array([0, 1]), 1e-3).round(4).tolist()  # 1 and 2 steps: large; near 1: small
    [0.0347, 0.0]
    """
    total = np.zeros(len(columns))
    count = np.zeros(len(columns))
    shards = as_shards(values)
    dtype = np.dtype(shards[0].dtype)
    dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
    for _, chunk in iter_chunks(shards, chunk_rows or auto_chunk_rows(shards[0].shape[1])):  # as float64
        block = chunk[:, columns]
        quantum = np.maximum(step, np.spacing(np.abs(block).astype(dtype)).astype(np.float64))
        v = block.astype(np.float64)
        positive = v > 0
        relative = np.divide(quantum, v, out=np.zeros_like(v), where=positive)
        total += (relative**2 / 12).sum(axis=0)
        count += positive.sum(axis=0)
    return total / np.maximum(count, 1)
