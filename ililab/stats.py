"""Sufficient statistics: covariance (in memory or streamed in chunks) and its conditioning checks.

Every score-based learner needs only the covariance and ``n``, so data size
scales through them. :func:`streaming_moments` makes one pass over row chunks
of one or more arrays (memory-mapped ``.npy`` shards read with plain file reads,
so the resident memory stays near one chunk), applies an optional row-wise
transform to each chunk, and combines per-chunk centred moments by pairwise
merging (Chan, Golub & LeVeque's update, organised as a binary tree like pairwise
summation) instead of raw sums of squares, which lose precision when the mean is
large against the spread.

Row weights (non-negative integers: how often each row is drawn) give the
moments of a resample without materialising it; :func:`BootstrapCounts` draws
them for a bootstrap replicate as a pure function of (seed, replicate, rows), so a
resample does not depend on the chunk size, the shard layout or the engine.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ililab.errors import DataError, SingularCovarianceError

__all__ = [
    "covariance",
    "check_covariance",
    "check_enough_rows",
    "CONDITION_LIMIT",
    "DEFAULT_CHUNK_ROWS",
    "CHUNK_BYTES",
    "auto_chunk_rows",
    "Moments",
    "chunk_moments",
    "merge_moments",
    "iter_chunks",
    "streaming_moments",
    "CensoredFill",
    "fill_censored",
    "streaming_covariance",
    "BootstrapCounts",
]

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


def check_enough_rows(n_rows: int, n_columns: int) -> None:
    """Refuse data with no more rows (samples) than columns: its covariance is singular whatever the transform.

    Raises
    ------
    DataError
        Saying how many rows and columns there are.
    """
    if n_rows <= n_columns:
        raise DataError(f"{n_rows} rows for {n_columns} columns: a graph needs more rows (clips) than columns (classes)")


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


# -- streaming moments ----------------------------------------------------------------------

# Rows per block of a Dask pass (one task each) and the most rows of a local chunk.
DEFAULT_CHUNK_ROWS = 65536
# A local chunk is sized to about this many bytes (chunk_rows=None): several passes over
# a chunk (mean, centring, rank-k update) then run from the CPU cache, not main memory.
CHUNK_BYTES = 8 * 2**20
# Rows per block of bootstrap weights: fixed, so a resample never depends on the chunk size.
WEIGHT_BLOCK_ROWS = 8192

ChunkTransform = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Moments:
    """Count, mean and centred cross-product matrix of a set of (weighted) rows.

    Attributes
    ----------
    n : float
        Number of rows (sum of the row weights).
    mean : ndarray of shape (p,)
    m2 : ndarray of shape (p, p)
        ``sum_i w_i (x_i - mean)(x_i - mean)^T``.
    """

    n: float
    mean: np.ndarray
    m2: np.ndarray

    def covariance(self) -> np.ndarray:
        """Sample covariance ``m2 / (n - 1)`` (ddof = 1)."""
        if self.n < 2:
            raise DataError(f"need at least 2 rows for a covariance, got {self.n:g}")
        return self.m2 / (self.n - 1)


def chunk_moments(x: np.ndarray, weights: np.ndarray | None = None, shift: np.ndarray | None = None) -> Moments:
    """Moments of one chunk of rows, optionally with integer frequency weights.

    The mean is refined by the mean of the centred rows (one extra reduction, no
    extra copy), and returned relative to ``shift`` (a fixed point near the data,
    e.g. the first chunk's mean) so merged means stay small and exact. The
    cross-product is a symmetric rank-k update (``c.T @ c``, BLAS syrk), with the
    weights folded in as ``sqrt(w)``.
    """
    x = np.asarray(x, dtype=np.float64)
    p = x.shape[1]
    total = float(x.shape[0]) if weights is None else float(np.sum(weights))
    if total == 0:
        return Moments(0.0, np.zeros(p), np.zeros((p, p)))
    # Column sums as BLAS matrix-vector products (faster than ufunc reductions over axis 0).
    w = np.ones(x.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    rough = w @ x / total
    centred = x - rough
    residual = w @ centred / total
    if weights is not None:
        centred *= np.sqrt(w)[:, None]
    m2 = centred.T @ centred
    m2 -= np.outer(residual, residual) * total
    mean = (rough - shift if shift is not None else rough) + residual
    return Moments(total, mean, m2)


def merge_moments(a: Moments, b: Moments) -> Moments:
    """Moments of the union of two disjoint sets of rows (pairwise update)."""
    if a.n == 0:
        return b
    if b.n == 0:
        return a
    n = a.n + b.n
    delta = b.mean - a.mean
    mean = a.mean + delta * (b.n / n)
    m2 = a.m2 + b.m2 + np.outer(delta, delta) * (a.n * b.n / n)
    return Moments(n, mean, m2)


class _PairwiseMerger:
    """Merge a stream of moments as a balanced binary tree (error grows like log of the chunk count)."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, Moments]] = []

    def add(self, m: Moments) -> None:
        level = 0
        while self._stack and self._stack[-1][0] == level:
            _, previous = self._stack.pop()
            m = merge_moments(previous, m)
            level += 1
        self._stack.append((level, m))

    def result(self) -> Moments | None:
        out: Moments | None = None
        for _, m in reversed(self._stack):
            out = m if out is None else merge_moments(m, out)
        return out


def _file_backing(array: np.ndarray) -> tuple[str, int] | None:
    """(file name, byte offset) of a whole-file, C-ordered ``np.memmap`` (as ``np.load(mmap_mode='r')`` gives)."""
    if not isinstance(array, np.memmap) or not isinstance(array.base, mmap.mmap):
        return None
    filename = getattr(array, "filename", None)
    if not filename or not array.flags.c_contiguous or array.ndim != 2:
        return None
    return str(filename), int(array.offset)


def auto_chunk_rows(n_columns: int) -> int:
    """Rows per chunk of about ``CHUNK_BYTES`` of float64 (between 256 and ``DEFAULT_CHUNK_ROWS``)."""
    return int(min(DEFAULT_CHUNK_ROWS, max(256, CHUNK_BYTES // (8 * max(n_columns, 1)))))


def iter_chunks(arrays: Sequence[np.ndarray], chunk_rows: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first_row, chunk)`` over the rows of several arrays, in order, as float64.

    A whole-file memory map is read with ordinary file reads into one reused
    buffer, so the pass never maps the file into the process (its resident
    memory stays near ``chunk_rows`` rows); other arrays are sliced.
    """
    if chunk_rows is not None and chunk_rows < 1:
        raise DataError(f"chunk_rows must be at least 1, got {chunk_rows}")
    first = 0
    requested = chunk_rows
    for array in arrays:
        backing = _file_backing(array)
        n, p = array.shape
        chunk_rows = requested if requested is not None else auto_chunk_rows(p)
        if backing is None:
            for start in range(0, n, chunk_rows):
                yield first + start, np.asarray(array[start : start + chunk_rows], dtype=np.float64)
        else:
            filename, offset = backing
            row_bytes = p * array.dtype.itemsize
            buffer = np.empty((min(chunk_rows, n), p), dtype=array.dtype)
            with open(filename, "rb", buffering=0) as handle:
                for start in range(0, n, chunk_rows):
                    rows = min(chunk_rows, n - start)
                    view = buffer[:rows]
                    handle.seek(offset + start * row_bytes)
                    target = memoryview(view.reshape(-1).view(np.uint8))
                    got = 0
                    while got < target.nbytes:
                        read = handle.readinto(target[got:])
                        if not read:
                            raise DataError(f"{filename!r} is shorter than its header says (truncated file?)")
                        got += read
                    chunk = view if array.dtype == np.float64 else view.astype(np.float64)
                    if not array.dtype.isnative:
                        chunk = chunk.astype(np.float64)
                    yield first + start, chunk
        first += n


def _check_finite(chunk: np.ndarray, first_row: int, source: str) -> None:
    if np.isfinite(chunk.sum(axis=0)).all():  # one cheap reduction; NaN / inf propagate into the sums
        return
    bad = ~np.isfinite(chunk)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        what = "NaN" if np.isnan(chunk[r, c]) else "inf"
        raise DataError(f"{source}: {what} at row {first_row + r}, column {c}; remove or impute it")


def streaming_moments(
    arrays: np.ndarray | Sequence[np.ndarray],
    *,
    chunk_rows: int | None = None,
    transform: ChunkTransform | None = None,
    weights: Callable[[int, int], np.ndarray] | None = None,
    progress: Callable[[int], None] | None = None,
    source: str = "data",
) -> Moments:
    """Moments of the rows of ``arrays`` in one pass over chunks.

    Parameters
    ----------
    arrays : ndarray or sequence of ndarray
        One matrix, or shards with the same column count, concatenated by rows.
    chunk_rows : int, optional
        Rows read per step (default: about ``CHUNK_BYTES`` per chunk); memory is
        bounded by a few chunks (plus p x p moments).
    transform : callable, optional
        Maps a float64 chunk of rows to a chunk of coordinates (row-wise, e.g. logit).
    weights : callable, optional
        ``weights(start, stop)`` gives the integer weight of rows ``start..stop-1``
        (global row numbers); the moments are those of the resample.
    progress : callable, optional
        Called with the number of rows done after each chunk.
    source : str
        Name used in error messages.

    Raises
    ------
    DataError
        NaN or inf in the data (naming row and column), or fewer than 2 rows.
    """
    if isinstance(arrays, np.ndarray):
        arrays = [arrays]
    merger = _PairwiseMerger()
    done = 0
    shift: np.ndarray | None = None
    for start, chunk in iter_chunks(arrays, chunk_rows):
        if transform is not None:
            _check_finite(chunk, start, source)
        coords = transform(chunk) if transform is not None else chunk
        if shift is None:
            # Means are kept relative to a fixed point near the data (the first chunk's
            # mean): merged means are then small, so their rounding does not leak into m2.
            shift = np.asarray(coords, dtype=np.float64).mean(axis=0)
        w = weights(start, start + chunk.shape[0]) if weights is not None else None
        moments = chunk_moments(coords, w, shift)
        if not (np.isfinite(moments.mean).all() and np.isfinite(np.diag(moments.m2)).all()):
            _check_finite(chunk, start, source)  # names the NaN / inf, else:
            raise DataError(f"{source}: values too large for float64 arithmetic in rows {start}-{start + len(chunk) - 1}")
        merger.add(moments)
        done += chunk.shape[0]
        if progress is not None:
            progress(done)
    result = merger.result()
    if result is None or result.n < 2:
        raise DataError(f"{source}: need at least 2 rows, got {0 if result is None else result.n:g}")
    return Moments(result.n, result.mean + shift, result.m2)


def streaming_covariance(
    arrays: np.ndarray | Sequence[np.ndarray],
    *,
    chunk_rows: int | None = None,
    transform: ChunkTransform | None = None,
) -> tuple[np.ndarray, int]:
    """Covariance (ddof = 1) and row count of ``arrays`` in one chunked pass.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(1000, 3))
    >>> cov, n = streaming_covariance(x, chunk_rows=64)
    >>> bool(np.allclose(cov, np.cov(x, rowvar=False))), n
    (True, 1000)
    """
    m = streaming_moments(arrays, chunk_rows=chunk_rows, transform=transform)
    return m.covariance(), int(m.n)


def _block_totals(n_rows: int, seed: int, replicate: int) -> np.ndarray:
    n_blocks = -(-n_rows // WEIGHT_BLOCK_ROWS)
    sizes = np.full(n_blocks, WEIGHT_BLOCK_ROWS, dtype=np.float64)
    sizes[-1] = n_rows - WEIGHT_BLOCK_ROWS * (n_blocks - 1)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replicate, 0)))
    return rng.multinomial(n_rows, sizes / n_rows)


class BootstrapCounts:
    """How often each row is drawn in bootstrap replicate ``replicate`` (n draws with replacement).

    The counts are an exact multinomial(n, 1/n) draw, made in two stages so any
    range of rows can be produced on its own: totals per fixed block of
    ``WEIGHT_BLOCK_ROWS`` rows, then a multinomial within each block from a
    generator keyed by (seed, replicate, block). The result is a pure function
    of (n_rows, seed, replicate): chunk size, shards and engine do not change it.

    Examples
    --------
    >>> counts = BootstrapCounts(100, seed=0, replicate=3)
    >>> int(counts(0, 100).sum())
    100
    >>> bool((counts(0, 100)[40:60] == counts(40, 60)).all())
    True
    """

    def __init__(self, n_rows: int, seed: int, replicate: int) -> None:
        if n_rows < 1:
            raise DataError(f"cannot resample {n_rows} rows")
        self.n_rows, self.seed, self.replicate = int(n_rows), int(seed), int(replicate)
        self._totals = _block_totals(self.n_rows, self.seed, self.replicate)

    def _block(self, k: int) -> np.ndarray:
        size = min(WEIGHT_BLOCK_ROWS, self.n_rows - k * WEIGHT_BLOCK_ROWS)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(self.replicate, 1, k)))
        return rng.multinomial(int(self._totals[k]), np.full(size, 1.0 / size))

    def __call__(self, start: int, stop: int) -> np.ndarray:
        if not 0 <= start <= stop <= self.n_rows:
            raise ValueError(f"rows {start}..{stop} outside 0..{self.n_rows}")
        if start == stop:
            return np.zeros(0, dtype=np.int64)
        first, last = start // WEIGHT_BLOCK_ROWS, (stop - 1) // WEIGHT_BLOCK_ROWS
        blocks = np.concatenate([self._block(k) for k in range(first, last + 1)])
        offset = first * WEIGHT_BLOCK_ROWS
        return blocks[start - offset : stop - offset]


# -- censored values -----------------------------------------------------------------------


@dataclass(frozen=True)
class CensoredFill:
    """Rows with censored entries replaced by their conditional expectations, and the covariance.

    Attributes
    ----------
    rows : ndarray of shape (n, p)
        The data, each censored entry replaced by its expectation given the row's observed
        entries and the bounds (a truncated normal mean).
    covariance : ndarray of shape (p, p)
        Covariance of ``rows`` plus the mean conditional covariance the censored entries keep
        (the E-step second moment): an estimate of the covariance of the uncensored values.
    censored : int
        How many entries were censored.
    sweeps : int
        EM sweeps run.
    """

    rows: np.ndarray
    covariance: np.ndarray
    censored: int
    sweeps: int


def fill_censored(
    y: np.ndarray,
    below: np.ndarray | None,
    low: np.ndarray | float,
    above: np.ndarray | None = None,
    high: np.ndarray | float = np.inf,
    sweeps: int = 30,
    tolerance: float = 1e-3,
    shift_blocks: Sequence[np.ndarray] = (),
) -> CensoredFill:
    """Gaussian EM for left/right-censored entries (e.g. log-probabilities that underflowed to 0).

    An entry marked in ``below`` is only known to be below ``low`` (per column or a scalar),
    one in ``above`` only above ``high``. Each sweep fits a Gaussian to the current rows plus
    the conditional covariance the censored entries keep (M-step), then replaces the censored
    entries of each row by their expectation given the row's observed entries, jointly: the
    conditional Gaussian truncated at every bound, its moments approximated by imposing the
    bounds one at a time (E-step). Above ``JOINT_WORK`` (many censored entries per row, e.g.
    thousands of columns) each censored entry is instead taken on its own, given the row's
    other entries at their current values, and only its variance kept. Sweeps stop when no
    entry moves by more than ``tolerance`` standard deviations or the covariance by more than
    ``tolerance / 2`` (relative).

    ``shift_blocks`` (column indices, disjoint) are blocks whose entries are known only up to
    one additive number per row and block: the log-probabilities of a softmax block,
    ``log p = z - logsumexp(z)``, are Gaussian logits ``z`` minus a shift that is not. The
    Gaussian is then fitted to the rows centred within each such block (where the logits are
    exactly Gaussian), and a censored entry is predicted by the precision of that fit (the
    pseudo-inverse of the centred covariance): in effect against the row's uncensored classes,
    ``log p_j - log p_r = z_j - z_r``, so the bound ``log p_j < low`` becomes one on a Gaussian
    coordinate, whatever the shift.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=20000)
    >>> cut = x < -1.0
    >>> fit = fill_censored(np.where(cut, -1.0, x), cut, -1.0)
    >>> bool(abs(fit.covariance[0, 1] - 0.8) < 0.05), fit.censored == int(cut.sum())
    (True, True)
    """
    y = np.array(y, dtype=np.float64)
    n, p = y.shape
    below = np.zeros_like(y, dtype=bool) if below is None else np.asarray(below, dtype=bool)
    above = np.zeros_like(y, dtype=bool) if above is None else np.asarray(above, dtype=bool)
    low_b = np.broadcast_to(np.asarray(low, dtype=np.float64), (p,))
    high_b = np.broadcast_to(np.asarray(high, dtype=np.float64), (p,))
    censored = below | above
    count = int(censored.sum())
    if count == 0 or n < 2:
        return CensoredFill(y, covariance(y) if n >= 2 else np.zeros((p, p)), 0, 0)
    y = np.where(below, low_b, np.where(above, high_b, y))
    # per entry: the bound it lies beyond and the side (-1 below, +1 above)
    bounds = np.where(below, low_b, high_b)
    signs = np.where(below, -1.0, 1.0)
    # q: orthonormal indicators of the shift blocks; the model lives on their complement
    q = np.zeros((p, len(shift_blocks)))
    for m, cols in enumerate(shift_blocks):
        q[np.asarray(cols, dtype=int), m] = 1.0 / np.sqrt(len(cols))
    proj = np.eye(p) - q @ q.T
    per_row = censored.sum(axis=1)
    # rows with few censored entries get the joint E-step (cost ~ k³ each), the others one at a time
    small = (per_row <= JOINT_ROW_LIMIT) & (per_row > 0)
    joint = float(np.sum(per_row[small].astype(np.float64) ** 3 + per_row[small] * p)) <= JOINT_WORK
    # Only the rows with censored entries change: the moments are updated by their difference
    # (about a shift near the means, so the sums stay small) instead of a full pass per sweep.
    hit = np.flatnonzero(per_row)
    part, part_censored, part_bounds, part_signs = y[hit], censored[hit], bounds[hit], signs[hit]
    part_small = small[hit]
    centre = y.mean(axis=0)
    gram = (y - centre).T @ (y - centre)
    total = (y - centre).sum(axis=0)
    extra = np.zeros((p, p))
    done = 0
    previous = None
    for sweep in range(1, sweeps + 1):
        done = sweep
        mean = centre + total / n
        full = (gram - np.outer(total, total) / n + extra) / (n - 1)
        cov = proj @ full @ proj
        if previous is not None and np.linalg.norm(cov - previous) < tolerance / 2 * np.linalg.norm(cov):
            done = sweep - 1
            break  # the fit no longer moves (EM converges linearly: the entries may still creep)
        previous = cov
        scale = np.mean(np.diag(cov)) or 1.0
        # with q: (S + c qqᵀ)⁻¹ - qqᵀ/c is the pseudo-inverse of S (S q = 0), whose null space is the
        # shifts; c on the scale of S keeps it accurate
        qq = q @ q.T * scale
        omega = np.linalg.inv(cov + qq + 1e-9 * scale * np.eye(p)) - qq / scale**2
        with np.errstate(all="ignore"):
            if joint:
                alone = part_censored & ~part_small[:, None]
                new, new_extra = _one_at_a_time_e_step(part, mean, omega, alone, part_bounds, part_signs)
                rows = np.flatnonzero(part_small)
                if rows.size:
                    new[rows], joint_extra = _joint_e_step(
                        part[rows], mean, omega, part_censored[rows], part_bounds[rows], part_signs[rows]
                    )
                    new_extra = new_extra + joint_extra
            else:
                new, new_extra = _one_at_a_time_e_step(part, mean, omega, part_censored, part_bounds, part_signs)
        if not (np.isfinite(new).all() and np.isfinite(new_extra).all()):
            if joint:  # numerically degenerate rows (e.g. whole columns censored): the simpler E-step
                joint = False
                continue
            break  # keep the last finite sweep
        change = float(np.max(np.abs(new - part)))
        old_c, new_c = part - centre, new - centre
        gram += new_c.T @ new_c - old_c.T @ old_c
        total += new_c.sum(axis=0) - old_c.sum(axis=0)
        part, extra = new, new_extra
        if change < tolerance * np.sqrt(scale):
            break
        if (not joint or not part_small.any()) and sweep >= ONE_AT_A_TIME_SWEEPS:
            break
    y[hit] = part
    return CensoredFill(y, covariance(y) + extra / (n - 1), count, done)


#: The E-step of :func:`fill_censored` takes the censored entries of a row jointly when there are at
#: most JOINT_ROW_LIMIT of them, else each on its own given the row's other entries; and all on their
#: own when the joint part would cost more than JOINT_WORK (the sum over its rows of k³ + k·p): about
#: 0.3 s of CPU per sweep per 1e8 (measured; the sweep of benchmarks/softmax_sweep.py found rows of
#: 50-100 censored entries costing a minute per configuration).
JOINT_ROW_LIMIT = 64
JOINT_WORK = 5e7
#: ... and then runs at most this many sweeps (it converges slowly, and each costs a pass over the rows).
ONE_AT_A_TIME_SWEEPS = 8


def _truncated_moments(m, s, bound, sign):
    """Mean and variance of N(m, s²) truncated to the side ``sign`` of ``bound`` (-1: below)."""
    from scipy.special import erfcx

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a = sign * (m - bound) / s  # standardised distance into the allowed side
        # λ = φ(a) / Φ(a) = sqrt(2/π) / erfcx(-a/√2): no overflow or cancellation in the far tails
        lam = np.sqrt(2 / np.pi) / erfcx(-a / np.sqrt(2))
        mean = m + sign * s * lam
        var = s * s * np.clip(1.0 - lam * (lam + a), 0.0, 1.0)
    # a degenerate spread (s = 0): the entry sits at m, or at the bound if m is beyond it
    flat = ~np.isfinite(a)
    if flat.any():
        mean = np.where(flat, np.where(sign * (m - bound) >= 0, m, bound), mean)
        var = np.where(flat, 0.0, var)
    return mean, var


def _one_at_a_time_e_step(y, mean, omega, censored, bounds, signs):
    """Each censored entry given the row's other entries (current values): new rows, and the summed kept variances (diagonal)."""
    p = y.shape[1]
    d = np.diag(omega)
    sd = 1.0 / np.sqrt(d)
    # conditional mean of each entry given the rest of its row: y_j - ((y - mean) Ω)_j / Ω_jj
    cond = y - ((y - mean) @ omega) / d
    rows, cols = np.nonzero(censored)
    new = y.copy()
    new[rows, cols], v = _truncated_moments(cond[rows, cols], sd[cols], bounds[rows, cols], signs[rows, cols])
    return new, np.diag(np.bincount(cols, v, minlength=p))


def _joint_e_step(y, mean, omega, censored, bounds, signs):
    """The censored entries of each row jointly, given its observed entries.

    Their conditional law is a Gaussian (precision ``Ω_SS``) truncated at every bound; its mean
    and covariance are approximated by imposing the bounds one after the other, each time
    matching the first two moments of the truncated marginal and updating the others by
    regression (assumed-density filtering). Returns the rows with the censored entries at
    their conditional means and the summed conditional covariances.
    Rows are processed in batches of equal size (a geometric grid of sizes), padded with free dummy
    entries (independent, unbounded), so the loop over entries runs a few dozen times per sweep.
    """
    p = y.shape[1]
    new = y.copy()
    dev = y - mean
    dev[censored] = 0.0  # the regression on observed entries only
    extra = np.zeros(p * p)
    rows = np.flatnonzero(censored.any(axis=1))
    counts = censored[rows].sum(axis=1)
    # batch sizes: 1-4, then about 4 per doubling (5, 6, 8, 10, 12, 16, 20, 24, 32, ...)
    grid = np.unique(np.concatenate([[1, 2, 3], *(2**e * np.array([4, 5, 6]) // 4 for e in range(2, 40))]))
    sizes = grid[np.searchsorted(grid, counts)]
    pad = int(sizes.max())
    # dummies: columns p..p+pad-1 with unit precision, no coupling, no bound
    omega_pad = np.eye(p + pad)
    omega_pad[:p, :p] = omega
    mean_pad = np.concatenate([mean, np.zeros(pad)])
    for size in np.unique(sizes):
        chosen = sizes == size
        group, group_counts = rows[chosen], counts[chosen]
        batch = max(1, 2**22 // int(size * size + p))
        for start in range(0, group.size, batch):
            r, c = group[start : start + batch], group_counts[start : start + batch]
            at, cols = np.nonzero(censored[r])  # row-major: each row's censored columns in order
            within = np.arange(at.size) - np.repeat(np.cumsum(c) - c, c)
            s_idx = np.tile(p + np.arange(size), (r.size, 1))
            s_idx[at, within] = cols
            real = s_idx < p
            fill = np.zeros((r.size, pad))
            g = np.take_along_axis(np.hstack([dev[r] @ omega, fill]), s_idx, axis=1)
            v = np.linalg.inv(omega_pad[s_idx[:, :, None], s_idx[:, None, :]])
            m = mean_pad[s_idx] - np.einsum("rij,rj->ri", v, g)
            b = np.take_along_axis(np.hstack([bounds[r], fill + np.inf]), s_idx, axis=1)
            sg = np.take_along_axis(np.hstack([signs[r], fill - 1.0]), s_idx, axis=1)
            # an entry whose conditional variance has (numerically) vanished is not updated by regression
            tiny = 1e-12 * np.max(np.diagonal(v, axis1=1, axis2=2), axis=1)
            for t in range(int(size)):
                vt = v[:, t, t]
                live = vt > tiny
                vt = np.where(live, vt, 1.0)
                mu, var = _truncated_moments(m[:, t], np.sqrt(vt), b[:, t], sg[:, t])
                col = np.where(live[:, None], v[:, :, t], 0.0)
                m += col * ((mu - m[:, t]) / vt)[:, None]
                v -= col[:, :, None] * col[:, None, :] * ((vt - var) / (vt * vt))[:, None, None]
                m[~live, t] = np.where(sg[~live, t] * (m[~live, t] - b[~live, t]) >= 0, m[~live, t], b[~live, t])
            new[r[at], cols] = m[at, within]
            pairs = real[:, :, None] & real[:, None, :]
            flat = (s_idx[:, :, None] * p + s_idx[:, None, :])[pairs]
            extra += np.bincount(flat, v[pairs], minlength=p * p)
    extra = extra.reshape(p, p)
    return new, (extra + extra.T) / 2
