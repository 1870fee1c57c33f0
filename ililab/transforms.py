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
and is estimated by Gaussian EM (:func:`ililab.censored.fill_censored`) rather than clipped to
a constant; ``info["censored_values"]`` counts them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from ililab.dataset import Dataset
from ililab.errors import DataError, IlilabWarning, UsageError
from ililab.graph import Node
from ililab.probability_blocks import (
    APPROX_TOLERANCE,
    SIMPLEX_TOLERANCE,
    SimplexBlock,
    censoring_bounds,
    detect_probability_blocks,
    detect_simplex_blocks,
)
from ililab.stats import as_shards, check_enough_rows, covariance, in_memory, iter_chunks, shard_moments
from ililab.transform_plan import (
    CLR_RIDGE,
    LOGIT_EPSILON,
    TransformPlan,
    all_rows,
    approximate_warning,
    censored_coordinates,
    describe_block,
    finish_covariance,
    input_dtype,
    plan_for,
)

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
        to ``stats.IN_MEMORY_BYTES`` once transformed, are kept as rows; larger memory
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
    >>> from ililab.names import make_nodes
    >>> from ililab.simulate import simulate_soft_labels
    >>> sim = simulate_soft_labels(6, 2000, modalities=("audio",), output="sigmoid", seed=0)
    >>> ds = transform_dataset(sim.probabilities, make_nodes(6))
    >>> ds.info["transform"], ds.info["sigmoid_blocks"]
    ('logit', ['all columns'])
    """
    if transform not in TRANSFORMS:
        raise UsageError(f"unknown transform {transform!r}; choose one of {', '.join(TRANSFORMS)}")
    nodes = list(nodes)
    check_enough_rows(sum(s.shape[0] for s in as_shards(values)), len(nodes))
    found = detect_probability_blocks(values, nodes)
    blocks = [b for b in found if b.kind == "softmax"]
    sigmoid = [b for b in found if b.kind == "sigmoid"]
    dtype = input_dtype(values)
    info: dict = {
        "transform_requested": transform,
        "simplex_blocks": [describe_block(b) for b in blocks],
    }
    if sigmoid:
        info["sigmoid_blocks"] = [describe_block(b) for b in sigmoid]
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
        if in_memory(values, len(nodes)):
            x = all_rows(values)
            return Dataset(tuple(nodes), covariance(x), x.shape[0], x, info, plan=TransformPlan("none"))
        moments = shard_moments(values, chunk_rows, None, progress, engine)
        info["streamed"] = True
        return Dataset(
            tuple(nodes), moments.covariance(), int(moments.n), None, info,
            plan=TransformPlan("none"), source=tuple(as_shards(values)),
        )
    fills: dict = {}  # the censored fill of the softmax attempt, reused by its fallback on the same rows
    if blocks and (chosen == "softmax" or (transform == "auto" and AUTO_SOFTMAX)):
        from ililab.softmax_transform import softmax_dataset  # numba and scipy load only when needed

        dataset = softmax_dataset(
            values, nodes, found, info, explicit=transform == "softmax", chunk_rows=chunk_rows, progress=progress,
            engine=engine, fills=fills,
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
    approximate_warning(blocks, 2)
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
    if in_memory(values, len(nodes)):
        raw = all_rows(values)
        coords, filled_cov = censored_coordinates(plan, raw, info, fills)
        x = plan.finish(coords)
        n_rows = x.shape[0]
        if n_rows < 2:
            cov = None
        elif filled_cov is not None:
            cov = finish_covariance(plan, filled_cov)
        else:
            cov = covariance(x)
    else:
        clipped = [0]

        def counted(chunk: np.ndarray) -> np.ndarray:
            clipped[0] += plan.clipped(chunk)
            return plan(chunk)

        if engine is not None:  # the pass runs elsewhere: count clipped values in the moments' stead
            n_clipped = sum(plan.clipped(chunk) for _, chunk in iter_chunks(as_shards(values), chunk_rows or None))
            moments = shard_moments(values, chunk_rows, plan, progress, engine)
        else:
            moments = shard_moments(values, chunk_rows, counted, progress, None)
            n_clipped = clipped[0]
        x, cov, n_rows = None, moments.covariance(), int(moments.n)
        info["streamed"] = True
        if n_clipped:
            info["clipped_values"] = n_clipped
            warnings.warn(
                f"{n_clipped} soft-label values stored as 0 (or 1) were set to their censoring bound before "
                "taking logarithms (streamed data: no censored-value estimation)",
                IlilabWarning,
                stacklevel=2,
            )
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
            f"{', '.join(describe_block(b) for b in sigmoid)}: independent (multi-label, sigmoid) probabilities; "
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
    # plan and source: what bootstrap replicates re-apply (source only when streamed)
    source = None if x is not None else tuple(as_shards(values))
    return Dataset(kept_nodes, cov, n_rows, x, info, output_nodes, plan=plan, source=source)


_RELIABILITY = (
    "graphs from normalised probabilities without the softmax undone are less reliable "
    "(about half to four fifths of the edges right in benchmarks; see docs/soft-labels.md)"
)

