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
    "file_backing",
    "as_shards",
    "in_memory",
    "IN_MEMORY_BYTES",
    "shard_moments",
    "streaming_moments",
    "streaming_covariance",
    "BootstrapCounts",
]

# Above this condition number a Gaussian score is dominated by rounding error.
CONDITION_LIMIT = 1e10


def covariance(x: np.ndarray) -> np.ndarray:
    """Sample covariance (ddof = 1) of the columns of ``x``, in float64.

    Examples
    --------
    >>> import numpy as np
    >>> covariance(np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 8.0]])).round(3).tolist()
    [[4.0, 7.0], [7.0, 13.0]]
    """
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

    Examples
    --------
    >>> check_enough_rows(100, 20)  # fine: returns None
    >>> check_enough_rows(3, 5)
    Traceback (most recent call last):
    ...
    ililab.errors.DataError: ...
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

    Examples
    --------
    >>> import numpy as np
    >>> round(check_covariance(np.array([[2.0, 1.0], [1.0, 2.0]]), ["a", "b"]), 3)  # the condition number
    3.0
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

    Examples
    --------
    >>> import numpy as np
    >>> m = Moments(3.0, np.zeros(2), np.array([[2.0, 0.0], [0.0, 4.0]]))
    >>> m.n, m.covariance().tolist()
    (3.0, [[1.0, 0.0], [0.0, 2.0]])
    """

    n: float
    mean: np.ndarray
    m2: np.ndarray

    def covariance(self) -> np.ndarray:
        """Sample covariance ``m2 / (n - 1)`` (ddof = 1).

        Examples
        --------
        >>> import numpy as np
        >>> Moments(5.0, np.zeros(1), np.array([[8.0]])).covariance().tolist()
        [[2.0]]
        """
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

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 8.0]])
    >>> m = chunk_moments(x)
    >>> m.n, m.mean.tolist(), bool(np.allclose(m.covariance(), np.cov(x, rowvar=False)))
    (3.0, [3.0, 4.0], True)
    >>> chunk_moments(x, weights=np.array([2, 0, 1])).n  # row 0 drawn twice, row 1 not at all
    3.0
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
    """Moments of the union of two disjoint sets of rows (pairwise update).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(10, 3))
    >>> merged = merge_moments(chunk_moments(x[:4]), chunk_moments(x[4:]))
    >>> bool(np.allclose(merged.covariance(), np.cov(x, rowvar=False)))
    True
    """
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


def file_backing(array: np.ndarray) -> tuple[str, int] | None:
    """(file name, byte offset) of a whole-file, C-ordered ``np.memmap`` (as ``np.load(mmap_mode='r')`` gives).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(path, np.zeros((4, 2)))
    >>> name, offset = file_backing(np.load(path, mmap_mode="r"))
    >>> name == path, offset  # the data start after the 128-byte .npy header
    (True, 128)
    >>> file_backing(np.zeros((4, 2))) is None  # in memory: no file behind it
    True
    """
    if not isinstance(array, np.memmap) or not isinstance(array.base, mmap.mmap):
        return None
    filename = getattr(array, "filename", None)
    if not filename or not array.flags.c_contiguous or array.ndim != 2:
        return None
    return str(filename), int(array.offset)


def auto_chunk_rows(n_columns: int) -> int:
    """Rows per chunk of about ``CHUNK_BYTES`` of float64 (between 256 and ``DEFAULT_CHUNK_ROWS``).

    Examples
    --------
    >>> auto_chunk_rows(20), auto_chunk_rows(100000)  # about CHUNK_BYTES of float64, at least 256 rows
    (52428, 256)
    """
    return int(min(DEFAULT_CHUNK_ROWS, max(256, CHUNK_BYTES // (8 * max(n_columns, 1)))))


def iter_chunks(arrays: Sequence[np.ndarray], chunk_rows: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first_row, chunk)`` over the rows of several arrays, in order, as float64.

    A whole-file memory map is read with ordinary file reads into one reused
    buffer, so the pass never maps the file into the process (its resident
    memory stays near ``chunk_rows`` rows); other arrays are sliced.

    Examples
    --------
    >>> import numpy as np
    >>> [(first, chunk.shape) for first, chunk in iter_chunks([np.ones((5, 2)), np.ones((3, 2))], chunk_rows=4)]
    [(0, (4, 2)), (4, (1, 2)), (5, (3, 2))]
    """
    if chunk_rows is not None and chunk_rows < 1:
        raise DataError(f"chunk_rows must be at least 1, got {chunk_rows}")
    first = 0
    requested = chunk_rows
    for array in arrays:
        backing = file_backing(array)
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


def as_shards(values: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    """The list of arrays behind ``values``: one array, or a sequence of row shards.

    Examples
    --------
    >>> import numpy as np
    >>> len(as_shards(np.zeros((3, 2)))), len(as_shards([np.zeros((3, 2)), np.zeros((1, 2))]))
    (1, 2)
    """
    return [values] if isinstance(values, np.ndarray) else list(values)


# Data up to this size (as float64) is kept in memory as rows; larger memory maps and shards
# are only streamed to their covariance, and learners get data=None.
IN_MEMORY_BYTES = 256 * 2**20


def in_memory(values: np.ndarray | Sequence[np.ndarray], n_columns: int) -> bool:
    """Whether ``values`` (an array, or shards) is kept in memory as rows (``IN_MEMORY_BYTES``).

    Examples
    --------
    >>> import numpy as np
    >>> in_memory(np.zeros((3, 2)), 2)  # an ordinary array is in memory already
    True
    >>> in_memory([np.zeros((3, 2)), np.zeros((1, 2))], 2)  # shards: small enough to load
    True
    """
    if not isinstance(values, np.ndarray) or isinstance(values, np.memmap):
        shards = as_shards(values)
        return sum(s.shape[0] for s in shards) * n_columns * 8 <= IN_MEMORY_BYTES
    return True


def shard_moments(values, chunk_rows: int | None, transform, progress, engine) -> Moments:
    """One streaming pass over ``values``: by ``engine.moments`` when given, else :func:`streaming_moments`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(12.0).reshape(6, 2) ** 2
    >>> m = shard_moments([x[:4], x[4:]], chunk_rows=3, transform=None, progress=None, engine=None)
    >>> m.n, bool(np.allclose(m.covariance(), np.cov(x, rowvar=False)))
    (6.0, True)
    """
    rows = chunk_rows or None
    if engine is not None:
        return engine.moments(as_shards(values), chunk_rows=rows, transform=transform, progress=progress)
    return streaming_moments(as_shards(values), chunk_rows=rows, transform=transform, progress=progress)


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

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(1).normal(size=(100, 3))
    >>> m = streaming_moments([x[:30], x[30:]], chunk_rows=16, transform=np.exp)
    >>> m.n, bool(np.allclose(m.covariance(), np.cov(np.exp(x), rowvar=False)))
    (100.0, True)
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
