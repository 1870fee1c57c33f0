"""The ``softmax`` transform: probabilities -> the Dataset of the logit covariance (:mod:`ililab.softmax`).

:func:`softmax_dataset` takes the ``log`` plan of the probability blocks
(:mod:`ililab.transform_plan`, censored zeros filled by EM when the rows are in memory),
centres each softmax block (:class:`CentredLogPlan`), undoes the normalisation with
:func:`ililab.softmax.invert_softmax`, runs the data-side checks (the two halves of the rows,
``SPLIT_HALF_LIMIT``, refused below ``SPLIT_HALF_ROWS`` rows per column; the censored share,
``CENSORED_LIMIT``; the rounding noise, ``ROUNDING_NOISE_LIMIT``) and hands learners imputed logits.
:func:`ililab.transforms.transform_dataset` calls it for ``softmax`` and ``auto``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ililab import _softmax_model
from ililab.dataset import Dataset
from ililab.errors import DataError, IlilabWarning
from ililab.probability_blocks import rounding_noise
from ililab.progress import Progress
from ililab.scores.bic import DEFAULT_PENALTY
from ililab.softmax import centred_logits, impute_logits, invert_softmax, probability_floor, split_half_discrepancy
from ililab.stats import as_shards, auto_chunk_rows, check_enough_rows, in_memory, iter_chunks, shard_moments
from ililab.transform_plan import (
    TransformPlan,
    all_rows,
    approximate_warning,
    censored_coordinates,
    finish_covariance,
    input_dtype,
    plan_for,
)

__all__ = [
    "CentredLogPlan",
    "SPLIT_HALF_LIMIT",
    "SPLIT_HALF_ROWS",
    "CENSORED_LIMIT",
    "ROUNDING_NOISE_LIMIT",
    "rounding_noise_share",
    "softmax_dataset",
]


# -- the transform learners see ------------------------------------------------------------


@dataclass(frozen=True)
class CentredLogPlan:
    """Row-wise part of the ``softmax`` transform: each block -> its centred log-ratio (picklable).

    ``floor`` is fixed from the input dtype before any chunk is converted to float64, so a
    float32 zero is clipped to float32's smallest number, not float64's. With ``base`` (a
    :class:`ililab.transform_plan.TransformPlan`), its coordinates are taken first: log p of the
    softmax blocks with censored zeros at their bound, a logit for sigmoid (multi-label) blocks.

    Examples
    --------
    >>> plan = CentredLogPlan((np.array([0, 1, 2]),), floor=1e-6)
    >>> plan(np.array([[0.2, 0.3, 0.5]])).round(3).tolist()  # each block's centred log-ratio
    [[-0.441, -0.035, 0.476]]
    """

    blocks: tuple[np.ndarray, ...]
    floor: float
    name: str = "softmax"
    base: Any = None

    def clipped(self, chunk: np.ndarray) -> int:
        """How many probabilities of ``chunk`` are censored (below the floor).

        Examples
        --------
        >>> CentredLogPlan((np.array([0, 1]),), floor=1e-6).clipped(np.array([[0.0, 1.0], [0.5, 0.5]]))
        1
        """
        if self.base is not None:
            return self.base.clipped(chunk)
        return int(sum((chunk[:, cols] < self.floor).sum() for cols in self.blocks))

    def centre(self, x: np.ndarray) -> np.ndarray:
        """Centre each softmax block of log-coordinates ``x`` row by row (in place; returned).

        Examples
        --------
        >>> CentredLogPlan((np.array([0, 1]),), floor=1e-6).centre(np.array([[1.0, 3.0, 7.0]])).tolist()
        [[-1.0, 1.0, 7.0]]
        """
        for cols in self.blocks:
            x[:, cols] -= x[:, cols].mean(axis=1, keepdims=True)
        return x

    def __call__(self, chunk: np.ndarray) -> np.ndarray:
        if self.base is not None:
            return self.centre(self.base.coordinates(chunk))
        x = np.array(chunk, dtype=np.float64)
        for cols in self.blocks:
            x[:, cols] = centred_logits(x[:, cols], self.floor)[0]
        return x

    def regularise(self, cov: np.ndarray, n: int) -> np.ndarray:
        """The covariance-level part: the centred-logit covariance of ``n`` rows -> the logit covariance.

        What a resampling pass over streamed rows must apply to each replicate's covariance
        (e.g. bootstrap), so that the inversion is redone per replicate.

        Examples
        --------
        >>> from ililab.simulate import simulate_soft_labels
        >>> sim = simulate_soft_labels(6, 2000, modalities=("audio",), seed=1)
        >>> plan = CentredLogPlan((np.arange(6),), floor=1e-300)
        >>> cov_w = np.cov(plan(sim.probabilities), rowvar=False)
        >>> int(np.linalg.matrix_rank(cov_w)), int(np.linalg.matrix_rank(plan.regularise(cov_w, 2000)))  # full rank again
        (5, 6)
        """
        return invert_softmax(cov, n, list(self.blocks)).covariance



#: 'identified' also needs the inversions of the even and the odd rows to agree with the whole:
#: ``‖BBᵀ_half - BBᵀ‖ / ‖BBᵀ‖`` below this for both halves (see :func:`split_half_discrepancy`).
SPLIT_HALF_LIMIT = 0.5
#: ... and at least this many rows per column (in memory, at most ``FAST_ABOVE`` columns): each half
#: runs its own inversion on half the rows. With fewer the halves cannot be checked, and a claim that
#: cannot be checked is not made (sweep seed 19's 2 x 100 float16 at n = 500 was claimed with F1 0.81).
SPLIT_HALF_ROWS = 4


#: A block with more than this share of censored entries (stored as 0) is not claimed identified:
#: the censored values are estimated, and the inversion is only as good as that estimate. With the
#: joint EM of :func:`ililab.censored.fill_censored` on the centred logits, float32 outputs at s = 6-8
#: (C = 10-50, 1-2 blocks, degree 2-3, seeds 20-27, the limit lifted) scored F1 >= 0.99 in all 17
#: runs at 3-14% censored that passed the other checks; the split-half check failed in the 7 runs
#: at 12.5-37% (F1 0.42-1.00). The sweep (benchmarks/softmax_sweep.py) found a 2 x 100 float16
#: block of n = 500 (too few rows for the split-half check) at 14.9% claimed identified with F1
#: 0.81: hence 10%, below the n = 5,000 evidence (``SPLIT_HALF_ROWS`` now refuses that claim too).
CENSORED_LIMIT = 0.10


#: Rounding of small non-zero probabilities (a stored 1e-3 at 3 decimals is anything in [5e-4, 1.5e-3])
#: is noise on their logs that the inversion does not model. 'identified' needs it below this share of
#: every class's innovation variance -- what its logit does not share with the other classes under
#: the fitted model, the part the graph is read from (:func:`rounding_noise_share`). Measured (seed 0
#: of the search): 0.001-0.06 in the rounded/float16/imbalanced cells of benchmarks/softmax_graphs.py
#: (seeds 0 and 10, F1 0.81-1.00) and in two identified sweep runs with F1 1.00; 1.07, 1.19 and 11.8 in
#: the three seed-7 sweep runs claimed identified with F1 0.26-0.42 (float32 or float16 rounded to 6
#: or 3 decimals, 100x imbalance, chained logits).
ROUNDING_NOISE_LIMIT = 0.25


def rounding_noise_share(values, columns, steps, covariance: np.ndarray, chunk_rows: int | None = None) -> tuple[float, int]:
    """The largest share of a class's innovation variance that is rounding noise, and that class.

    ``columns`` and ``steps``: each softmax block's column indices and rounding step;
    ``covariance`` the estimated logit covariance. A class's innovation variance is the variance
    of its logit given all the others, ``1 / Ω_jj`` (``Ω`` the inverse of ``covariance``): a
    linear-Gaussian graph is read from it, and rounding noise on the class's log-probability
    (:func:`ililab.probability_blocks.rounding_noise`) adds to it unmodelled. The share is
    ``noise_j · Ω_jj``; a singular ``covariance`` gives ``inf``.

    Examples
    --------
    >>> p = np.array([[0.001, 0.5, 0.499], [0.002, 0.3, 0.698]])
    >>> share, where = rounding_noise_share(p, [np.arange(3)], [1e-3], np.eye(3))
    >>> round(share, 3), where  # class 0 sits at 1 and 2 rounding steps: (1 + 1/4) / 24 of a unit variance
    (0.052, 0)
    """
    try:
        precision = np.diag(np.linalg.inv(covariance))
    except np.linalg.LinAlgError:
        return float("inf"), int(np.concatenate([np.asarray(c) for c in columns])[0])
    worst, where = 0.0, -1
    for cols, step in zip(columns, steps):
        cols = np.asarray(cols)
        share = rounding_noise(values, cols, step, chunk_rows) * precision[cols]
        j = int(np.argmax(share))
        if share[j] > worst:
            worst, where = float(share[j]), int(cols[j])
    return worst, where


def softmax_dataset(
    values,
    nodes,
    blocks,
    info: dict[str, Any],
    *,
    explicit: bool,
    chunk_rows: int | None = None,
    progress=None,
    engine=None,
    penalty: float = DEFAULT_PENALTY,
    seed: int = 0,
    fills: dict | None = None,
):
    """The :class:`~ililab.dataset.Dataset` of the ``softmax`` transform, or None to fall back.

    Parameters
    ----------
    values : ndarray or sequence of ndarray
        Validated data (in memory, memory-mapped, or shards).
    nodes : sequence of Node
    blocks : sequence of SimplexBlock
        The probability blocks found by :func:`ililab.probability_blocks.detect_probability_blocks`:
        the softmax is undone on ``softmax`` blocks; ``sigmoid`` blocks get a per-column logit.
    info : dict
        Provenance; ``info["softmax"]`` receives the diagnostics.
    explicit : bool
        True when the user asked for ``softmax``: negative values are then an error and an
        unidentified normalisation a warning; False (``auto``): both return None so the caller
        falls back to a plain transform (with a warning saying why).
    fills : dict, optional
        Cache of censored-value fills (:func:`ililab.transform_plan.censored_coordinates`): the
        caller passes the same dict to its fallback, which then reuses the fill of the same rows.

    Returns
    -------
    Dataset or None
        Covariance = the estimated logit covariance; ``data`` = imputed logits whose sample
        covariance equals it (in-memory data only; streamed data gives ``data=None``).

    Examples
    --------
    >>> import warnings
    >>> from ililab.names import make_nodes
    >>> from ililab.probability_blocks import detect_probability_blocks
    >>> from ililab.simulate import simulate_soft_labels
    >>> sim = simulate_soft_labels(6, 2000, modalities=("audio",), seed=1)
    >>> nodes = make_nodes(6, sim.names)
    >>> blocks = detect_probability_blocks(sim.probabilities, nodes)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     ds = softmax_dataset(sim.probabilities, nodes, blocks, {}, explicit=True)
    >>> ds.info["transform"], ds.covariance.shape, ds.data.shape
    ('softmax', (6, 6), (2000, 6))
    """
    stack = 3
    soft = [b for b in blocks if getattr(b, "kind", "softmax") == "softmax"]
    negative = [b for b in soft if b.has_negative]
    if negative:
        if explicit:
            raise DataError(
                "--transform softmax needs probabilities, but some soft labels are negative (linear "
                "label-space scores?); use --transform none or logit"
            )
        info["softmax"] = {"identified": False, "reason": "negative soft labels are not softmax probabilities"}
        return None
    dtype = input_dtype(values)
    base = plan_for("log", blocks, dtype)
    floor = min(base.lows) if base.lows else probability_floor(dtype)
    plan = CentredLogPlan(tuple(np.asarray(b.columns) for b in soft), floor, base=base)
    columns = list(plan.blocks)
    censored_share = 0.0
    if in_memory(values, len(nodes)):
        raw = all_rows(values)
        coords, filled_cov = censored_coordinates(base, raw, info, fills)
        n = coords.shape[0]
        check_enough_rows(n, len(nodes))
        w = plan.centre(coords)
        if filled_cov is not None:
            cov_w = finish_covariance(TransformPlan("clr", tuple(columns)), filled_cov)  # the centring, as for clr
        else:
            cov_w = np.cov(w, rowvar=False)
        # plan_for puts the softmax blocks first, so their bounds lead base.lows
        censored_share = float(np.hstack([raw[:, c] < lo for c, lo in zip(columns, base.lows)]).mean())
    else:
        w = None
        clipped = sum(plan.clipped(chunk) for _, chunk in _iter(values, chunk_rows))
        moments = shard_moments(values, chunk_rows, plan, progress, engine)
        cov_w, n = moments.covariance(), int(moments.n)
        check_enough_rows(n, len(nodes))
        info["streamed"] = True
        if clipped:
            info["clipped_values"] = clipped
            censored_share = clipped / max(n * sum(len(c) for c in columns), 1)
    # said once the softmax Dataset is returned: on a fallback, transform_dataset says it itself
    censoring_notes = []
    if info.get("clipped_values") and w is None:
        censoring_notes.append(
            f"{info['clipped_values']} probabilities stored as 0 were set to {floor:.3g} before taking logarithms "
            "(streamed data: no censored-value estimation); their log-ratios are only bounds"
        )
    if info.get("censored_values"):
        censoring_notes.append(
            f"{info['censored_values']} probabilities stored as 0 (or 1) are censored (only known to lie "
            f"beyond {floor:.3g}); estimated by EM from the other classes"
        )
    # the caller's bar (rows of the covariance pass) says whether bars are wanted (not with --quiet)
    wanted = bool(getattr(getattr(progress, "__self__", None), "_enabled", False))
    bar = Progress(3, "undoing the softmax", enabled=wanted)
    try:
        result = invert_softmax(cov_w, n, columns, penalty=penalty, seed=seed)
    except (DataError, np.linalg.LinAlgError) as error:
        bar.close()
        if explicit:
            raise DataError(f"--transform softmax: {error}") from None
        info["softmax"] = {"identified": False, "reason": str(error).split(";")[0]}
        return None
    bar.update(1)
    info["softmax"] = {**result.info, "floor": floor, "censored_share": round(censored_share, 6)}
    identified = result.identified
    needed = SPLIT_HALF_ROWS * len(nodes)
    if identified and w is not None and len(nodes) <= _softmax_model.FAST_ABOVE and n < needed:
        identified = False
        info["softmax"].update(
            identified=False,
            reason=f"{n} rows are too few to check the normalisation on two halves of the rows (needs "
            f"{needed}, {SPLIT_HALF_ROWS} per class)",
        )
    if identified and w is not None and len(nodes) <= _softmax_model.FAST_ABOVE:
        discrepancy = split_half_discrepancy(w, columns, result.covariance, penalty=penalty, seed=seed)
        bar.update(3)
        info["softmax"]["split_half"] = round(discrepancy, 4)
        if discrepancy > SPLIT_HALF_LIMIT:
            identified = False
            info["softmax"].update(
                identified=False,
                reason=f"the two halves of the rows give different normalisations (relative difference "
                f"{discrepancy:.2f}): the data cannot pin it down",
            )
    bar.close()
    # Rounding noise on the logs of small stored probabilities is not in the model: a claim it could
    # sway is refused (data-side, so `auto` keeps the inversion like the checks above, warned).
    steps = [b.step for b in soft]
    if dtype == np.float64 and not any(steps):
        # unrounded float64: the noise is float64's spacing, ~1e-33 of a variance; skip a second read
        # of the data and an inversion (float16/32 keep the pass: their spacing is coarse, subnormals)
        noise, worst_column = 0.0, -1
    else:
        noise, worst_column = rounding_noise_share(values, columns, steps, result.covariance, chunk_rows)
    info["softmax"]["rounding_step"] = max(steps, default=0.0)
    info["softmax"]["rounding_noise"] = round(noise, 6)
    if identified and noise > ROUNDING_NOISE_LIMIT:
        identified = False
        info["softmax"].update(
            identified=False,
            reason=f"rounding destroyed small probabilities: the rounding noise on the log-probability of "
            f"{nodes[worst_column].name!r} is {noise:.2g} times the variance its logit does not share with "
            f"the other classes (limit {ROUNDING_NOISE_LIMIT})",
        )
    # Censored values only weaken the estimate: the inversion still beats every plain transform
    # there (benchmarks/softmax_graphs.py, "float32 s8"), so `auto` keeps it, without claiming it.
    censored_only = False
    if identified and censored_share > CENSORED_LIMIT:
        identified, censored_only = False, True
        info["softmax"].update(
            identified=False,
            reason=f"{censored_share:.1%} of the probabilities are censored (stored as 0): the inversion "
            "rests on estimated values",
        )
    # An inversion that passed the graph-side checks (enough non-adjacent pairs) but is weakly
    # determined, unstable across halves or unchecked by them (too few rows), or whose graph misfits,
    # has a close rival or is dense (`misfit`, `pcorr_shift`, `rival_gap`, `DENSE_LIMIT`: they come
    # after `relative_se`) still beat log-probabilities in every such run of
    # benchmarks/softmax_graphs.py (chains, 1 x 8); one that failed them did not (dense, 2 x 3).
    weak_only = not identified and "relative_se" in result.info
    if not identified:
        reason = info["softmax"].get("reason", "not identified")
        if not explicit and not (censored_only or weak_only):
            return None
        if censored_only or weak_only:
            info["softmax"]["kept_unidentified"] = True
            warnings.warn(
                f"the softmax normalisation is not identified ({reason}), but an inversion that passed the "
                "graph checks is measured better than plain transforms, so it is used; the graph is less reliable",
                IlilabWarning,
                stacklevel=stack,
            )
        else:
            warnings.warn(
                f"--transform softmax: the softmax normalisation is not identified from these data ({reason}); "
                "the graph may be as distorted as one from plain transforms; pass the logits if you have them",
                IlilabWarning,
                stacklevel=stack,
            )
    approximate_warning(blocks, stack + 1)
    if len(soft) < len(blocks):
        warnings.warn(
            "independent (multi-label, sigmoid) probability columns are mapped back to their logits",
            IlilabWarning,
            stacklevel=stack,
        )
    info["transform"] = "softmax"
    # Streamed: a resampling pass (bootstrap) re-reads the rows through `plan` and redoes the
    # inversion per replicate with `plan.regularise`.
    source = tuple(as_shards(values)) if w is None else None
    try:
        data = impute_logits(w, result, cov_w, columns) if w is not None else None
    except (DataError, np.linalg.LinAlgError) as error:  # a near-singular completion: no rows to hand out
        if explicit:
            raise DataError(f"--transform softmax: the completed logits are numerically singular ({error})") from None
        info["softmax"].update(identified=False, reason=f"the completed logits are numerically singular ({error})")
        info["softmax"].pop("kept_unidentified", None)  # the kept inversion is not used after all
        return None
    for note in censoring_notes:
        warnings.warn(note, IlilabWarning, stacklevel=stack)
    return Dataset(tuple(nodes), result.covariance, n, data, info, plan=plan if w is None else None, source=source)


def _iter(values, chunk_rows):
    shards = as_shards(values)
    return iter_chunks(shards, chunk_rows or auto_chunk_rows(shards[0].shape[1]))

