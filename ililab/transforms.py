"""Soft-label transforms: ``none``, ``logit``, ``alr``, ``clr`` and ``auto``.

Soft labels whose rows (or per-modality blocks) sum to 1 lie on a simplex:
their covariance is exactly singular, and so is that of their centred
log-ratio. A learner fed them either fails or, like causal-learn, silently
returns a wrong graph. :func:`transform_dataset` detects simplex blocks and
maps them to coordinates with a full-rank covariance:

``logit``
    per column, ``log(p / (1 - p))`` with ``p`` clipped to ``[eps, 1 - eps]``.
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
    normalisation is not identified. ``auto`` tries it first (``AUTO_SOFTMAX``) and falls
    back to ``AUTO_CHOICE`` when it is not identified.
``auto``
    the transform measured to recover planted class graphs best on
    ``ililab simulate`` data (see ``docs/soft-labels.md``) on simplex blocks;
    other data passes through unchanged.

A row block is taken to be on the simplex when every row sums to 1 within
``SIMPLEX_TOLERANCE`` (absolute), which covers float32 softmax outputs.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ililab.dataset import Dataset
from ililab.errors import DataError, UsageError
from ililab.graph import Node
from ililab.stats import check_enough_rows, covariance, iter_chunks, streaming_moments

__all__ = [
    "TRANSFORMS",
    "AUTO_CHOICE",
    "AUTO_SOFTMAX",
    "SIMPLEX_TOLERANCE",
    "LOGIT_EPSILON",
    "CLR_RIDGE",
    "IlilabWarning",
    "SimplexBlock",
    "detect_simplex_blocks",
    "TransformPlan",
    "transform_dataset",
]

TRANSFORMS = ("auto", "none", "logit", "alr", "clr", "softmax")
# What `auto` applies to simplex blocks; chosen by benchmarks/soft_label_transforms.py.
AUTO_CHOICE = "logit"
# Whether `auto` first tries to undo the softmax (ililab.softmax), falling back to AUTO_CHOICE
# when the normalisation is not identified; chosen by benchmarks/softmax_graphs.py.
AUTO_SOFTMAX = True
SIMPLEX_TOLERANCE = 1e-4
LOGIT_EPSILON = 1e-6
CLR_RIDGE = 1e-3
_CHUNK = 65536
# Transformed data up to this size is kept in memory as rows; larger data (memory maps,
# shards) is only streamed to its covariance, and learners get data=None.
IN_MEMORY_BYTES = 256 * 2**20


class IlilabWarning(UserWarning):
    """Something the user should know about the result (shown once on stderr by the CLI)."""


@dataclass(frozen=True)
class SimplexBlock:
    """Columns whose rows sum to 1: a modality's soft labels, or the whole matrix."""

    name: str | None
    columns: np.ndarray
    max_deviation: float
    has_negative: bool


def _blocks(nodes: Sequence[Node]) -> list[tuple[str | None, np.ndarray]]:
    modalities = list(dict.fromkeys(n.modality for n in nodes if n.modality is not None))
    blocks = [(m, np.array([i for i, n in enumerate(nodes) if n.modality == m])) for m in modalities]
    rest = np.array([i for i, n in enumerate(nodes) if n.modality is None], dtype=int)
    if rest.size:
        blocks.append((None, rest))
    return blocks


def _as_shards(values: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    return [values] if isinstance(values, np.ndarray) else list(values)


def _row_sum_deviation(
    values: np.ndarray | Sequence[np.ndarray], columns: np.ndarray, stop_above: float = np.inf
) -> tuple[float, bool]:
    deviation, negative = 0.0, False
    for _, chunk in iter_chunks(_as_shards(values), _CHUNK):
        chunk = chunk[:, columns]
        deviation = max(deviation, float(np.max(np.abs(chunk.sum(axis=1) - 1.0))))
        negative = negative or bool((chunk < 0).any())
        if deviation > stop_above:  # not a simplex block: no need to read the rest
            break
    return deviation, negative


def detect_simplex_blocks(
    values: np.ndarray, nodes: Sequence[Node], tolerance: float = SIMPLEX_TOLERANCE
) -> list[SimplexBlock]:
    """Blocks of columns whose rows sum to 1 within ``tolerance``.

    Each modality is a candidate block, and the columns without modality form
    one. When no node carries a modality, contiguous equal-width blocks are
    tried (1 block, then 2, 3, ...), so ``[audio | visual]`` soft labels are
    recognised even without names; the blocks are then called ``columns A-B``.
    """
    candidates = _blocks(nodes)
    if all(n.modality is None for n in nodes):
        p = len(nodes)
        for k in range(1, p // 2 + 1):
            if p % k:
                continue
            width = p // k
            blocks = [np.arange(b * width, (b + 1) * width) for b in range(k)]
            found = []
            for cols in blocks:
                deviation, negative = _row_sum_deviation(values, cols, tolerance)
                if deviation > tolerance:
                    break
                name = None if k == 1 else f"columns {cols[0]}-{cols[-1]}"
                found.append(SimplexBlock(name, cols, deviation, negative))
            else:
                return found
        return []
    found = []
    for name, columns in candidates:
        if columns.size < 2:
            continue
        deviation, negative = _row_sum_deviation(values, columns, tolerance)
        if deviation <= tolerance:
            found.append(SimplexBlock(name, columns, deviation, negative))
    if not found and len(candidates) > 1:
        columns = np.arange(len(nodes))
        deviation, negative = _row_sum_deviation(values, columns, tolerance)
        if deviation <= tolerance:
            found.append(SimplexBlock(None, columns, deviation, negative))
    return found


def _clipped_log(block: np.ndarray, what: str, info: dict) -> np.ndarray:
    clipped = int((block < LOGIT_EPSILON).sum())
    if clipped:
        info.setdefault("clipped_values", 0)
        info["clipped_values"] += clipped
    return np.log(np.clip(block, LOGIT_EPSILON, None))


@dataclass(frozen=True)
class TransformPlan:
    """A row-wise transform, fixed once the simplex blocks are known: chunk of rows -> chunk of coordinates.

    Picklable, so the same plan runs on every chunk of a streaming pass, in
    worker processes and on Dask workers.

    Attributes
    ----------
    name : str
        ``"none"``, ``"logit"``, ``"alr"`` or ``"clr"``.
    blocks : tuple of ndarray
        Column indices of each simplex block the transform applies to.
    keep : ndarray of bool
        Columns that have a coordinate (``alr`` drops each block's reference class).
    """

    name: str
    blocks: tuple[np.ndarray, ...] = ()
    keep: np.ndarray | None = None

    def clipped(self, chunk: np.ndarray) -> int:
        """How many values of ``chunk`` the transform clips before taking logarithms."""
        if self.name == "none":
            return 0
        count = 0
        for cols in self.blocks:
            block = chunk[:, cols]
            count += int((block < LOGIT_EPSILON).sum())
            if self.name == "logit":
                count += int((block > 1 - LOGIT_EPSILON).sum())
        return count

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        """The coordinates of a float64 chunk of rows (a new array; ``chunk`` is left alone)."""
        if self.name == "none":
            return chunk
        x = np.array(chunk, dtype=np.float64)
        for cols in self.blocks:
            p_block = x[:, cols]
            if self.name == "logit":
                clipped = np.clip(p_block, LOGIT_EPSILON, 1 - LOGIT_EPSILON)
                x[:, cols] = np.log(clipped) - np.log1p(-clipped)
            elif self.name == "clr":
                logs = np.log(np.clip(p_block, LOGIT_EPSILON, None))
                x[:, cols] = logs - logs.mean(axis=1, keepdims=True)
            elif self.name == "alr":
                logs = np.log(np.clip(p_block, LOGIT_EPSILON, None))
                x[:, cols] = logs - logs[:, -1:]
        return x if self.keep is None or self.keep.all() else x[:, self.keep]

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
        One per column; their modalities define the simplex blocks.
    transform : {"auto", "none", "logit", "alr", "clr", "softmax"}
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
        With ``info["transform"]`` naming what ran and ``info["simplex_blocks"]``.
    """
    if transform not in TRANSFORMS:
        raise UsageError(f"unknown transform {transform!r}; choose one of {', '.join(TRANSFORMS)}")
    nodes = list(nodes)
    check_enough_rows(sum(s.shape[0] for s in _as_shards(values)), len(nodes))
    blocks = detect_simplex_blocks(values, nodes)
    info: dict = {
        "transform_requested": transform,
        "simplex_blocks": [b.name if b.name is not None else "all columns" for b in blocks],
    }
    chosen = transform
    if transform == "auto":
        chosen = AUTO_CHOICE if blocks else "none"
    info["transform"] = chosen
    if chosen == "none" or not blocks:
        if chosen != "none":
            warnings.warn(
                f"--transform {chosen} applies to soft labels, but no block of columns sums to 1 "
                "row by row; the data is used unchanged",
                IlilabWarning,
                stacklevel=2,
            )
            info["transform"] = "none"
        if _in_memory(values, len(nodes)):
            x = np.asarray(values if isinstance(values, np.ndarray) else np.concatenate(values), dtype=np.float64)
            info["_plan"] = TransformPlan("none")
            return Dataset(tuple(nodes), covariance(x), x.shape[0], x, info)
        moments = _moments(values, chunk_rows, None, progress, engine)
        info["streamed"] = True
        info["_plan"] = TransformPlan("none")
        info["_source"] = _as_shards(values)
        return Dataset(tuple(nodes), moments.covariance(), int(moments.n), None, info)
    if chosen == "softmax" or (transform == "auto" and AUTO_SOFTMAX):
        from ililab.softmax import softmax_dataset

        dataset = softmax_dataset(
            values, nodes, blocks, info, explicit=transform == "softmax", chunk_rows=chunk_rows, progress=progress, engine=engine
        )
        if dataset is not None:
            return dataset
        chosen = info["transform"] = AUTO_CHOICE
        warnings.warn(
            f"the softmax normalisation is not identified from these data ({info['softmax'].get('reason')}); "
            f"--transform auto falls back to {AUTO_CHOICE}",
            IlilabWarning,
            stacklevel=2,
        )
    if any(b.has_negative for b in blocks) and chosen != "none":
        info["negative_values"] = True
    keep = np.ones(len(nodes), dtype=bool)
    ridge_columns: list[np.ndarray] = []
    for block in blocks:
        if chosen == "clr":
            ridge_columns.append(block.columns)
        elif chosen == "alr":
            keep[block.columns[-1]] = False
    plan = TransformPlan(chosen, tuple(b.columns for b in blocks), keep)
    if _in_memory(values, len(nodes)):
        raw = np.asarray(values if isinstance(values, np.ndarray) else np.concatenate(values), dtype=np.float64)
        n_clipped = plan.clipped(raw)
        x = plan(raw)
        cov = covariance(x) if x.shape[0] >= 2 else None
        n_rows = x.shape[0]
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
    info["_plan"] = plan  # private: what bootstrap replicates re-apply; not copied into graph meta
    if info.get("clipped_values"):
        warnings.warn(
            f"{info['clipped_values']} soft-label values below {LOGIT_EPSILON:g} (or above "
            f"1 - {LOGIT_EPSILON:g}) were clipped before taking logarithms",
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
