"""Loading data matrices (one file, or ``.npy`` shards read as one) and checking their values.

The file readers live in :mod:`ililab._arrayfile`: nothing read here can execute code
(object dtypes are refused before numpy reads the data, ``.npy`` is loaded with
``allow_pickle=False``) and nothing is held whole in memory unless it is small (``.npy``
files and ``.npz`` members are memory-mapped). Re-exported by :mod:`ililab.io`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ililab._arrayfile import _load_csv, _load_npy, _load_npz
from ililab.errors import DataError, UsageError
from ililab.files import atomic_write

__all__ = ["Matrix", "load_matrix", "Shards", "is_shard_pattern", "load_shards", "validate_matrix", "write_array"]

DATA_SUFFIXES = (".npy", ".npz", ".csv")
# Rows checked per step for NaN/inf, so a memory-mapped file is never loaded whole.
_CHECK_ROWS = 65536


@dataclass(frozen=True)
class Matrix:
    """A validated 2-D numeric matrix and the column names its file carried (if any).

    Returned by :func:`load_matrix`.

    Attributes
    ----------
    values : ndarray of shape (n, p)
        The data (memory-mapped for ``.npy`` files).
    names : list of str or None
        Column names from a CSV header; None for ``.npy`` / ``.npz``.
    source : str
        The path it was read from (used in messages).

    Examples
    --------
    >>> m = Matrix(np.zeros((4, 2)), ["a", "b"], "memory")
    >>> m.shape, m.names
    ((4, 2), ['a', 'b'])
    """

    values: np.ndarray
    names: list[str] | None
    source: str

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of the values.

        Examples
        --------
        >>> Matrix(np.zeros((5, 3)), None, "memory").shape
        (5, 3)
        """
        return self.values.shape  # type: ignore[return-value]


def load_matrix(path: str | Path, key: str | None = None) -> Matrix:
    """Load and validate a data matrix from ``.npy``, ``.npz`` or ``.csv``.

    ``.npy`` files are memory-mapped (large files are never read whole);
    ``.npz`` takes the array ``key`` (optional when the archive holds one
    array), memory-mapped in place when stored uncompressed (``np.savez``) or
    decompressed block by block into a temporary memory-mapped file
    (``np.savez_compressed``); a ``.csv`` file's header row gives the column names.

    Parameters
    ----------
    path : str or Path
        A ``.npy``, ``.npz`` or ``.csv`` file.
    key : str, optional
        The array of a ``.npz`` archive (``--key``).

    Returns
    -------
    Matrix

    Raises
    ------
    DataError
        Missing or unreadable file, pickled objects, wrong shape or dtype,
        NaN / inf (naming the row and column), fewer than 2 rows or columns, a
        header that disagrees with the data's size, a compressed member expanding
        more than 200-fold to more than 256 MiB (a zip bomb).
    UsageError
        Unsupported extension, or ``key`` missing / not in the archive.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "soft.csv"
    ...     _ = path.write_text("Bark (audio),Bark (visual)\\n0.9,0.8\\n0.2,0.1\\n0.6,0.7\\n")
    ...     m = load_matrix(path)
    ...     print(m.shape, m.names)
    (3, 2) ['Bark (audio)', 'Bark (visual)']
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise UsageError(
            f"unsupported data file {str(path)!r}: expected one of {', '.join(DATA_SUFFIXES)}"
        )
    if not path.exists():
        raise DataError(f"no such file: {str(path)!r}")
    if path.is_dir():
        raise DataError(f"{str(path)!r} is a directory, not a data file")
    names: list[str] | None = None
    if suffix == ".npy":
        values = _load_npy(path)
    elif suffix == ".npz":
        values = _load_npz(path, key)
    else:
        values, names = _load_csv(path)
    if key is not None and suffix != ".npz":
        raise UsageError("--key applies to .npz archives only")
    validate_matrix(values, str(path))
    return Matrix(values, names, str(path))


@dataclass(frozen=True)
class Shards:
    """Row blocks of one matrix in several ``.npy`` files, each memory-mapped (never loaded whole).

    Returned by :func:`load_shards`.

    Attributes
    ----------
    arrays : list of ndarray
        One memory-mapped array per shard, in order.
    paths : list of str
        The shard files.
    source : str
        The pattern or paths as given (used in messages).

    Examples
    --------
    >>> shards = Shards([np.zeros((3, 2)), np.ones((4, 2))], ["a.npy", "b.npy"], "*.npy")
    >>> shards.shape
    (7, 2)
    """

    arrays: list[np.ndarray]
    paths: list[str]
    source: str

    @property
    def shape(self) -> tuple[int, int]:
        """``(total rows, columns)`` of the shards stacked in order.

        Examples
        --------
        >>> Shards([np.zeros((3, 2)), np.zeros((5, 2))], ["a.npy", "b.npy"], "*.npy").shape
        (8, 2)
        """
        return sum(a.shape[0] for a in self.arrays), self.arrays[0].shape[1]


def is_shard_pattern(path: str | Path) -> bool:
    """Whether ``path`` is a glob pattern (``*``, ``?`` or ``[``) naming shard files.

    Examples
    --------
    >>> is_shard_pattern("logits/part-*.npy"), is_shard_pattern("logits/part-0.npy")
    (True, False)
    """
    return any(c in str(path) for c in "*?[")


def load_shards(pattern: str | Path | Sequence[str | Path]) -> Shards:
    """Memory-map ``.npy`` shards (a glob pattern, in sorted name order, or a list of paths).

    Every shard must be a 2-D numeric ``.npy`` with the same number of columns;
    finiteness is checked chunk by chunk with plain file reads, so memory stays
    bounded by one chunk whatever the total size.

    Parameters
    ----------
    pattern : str, Path or sequence of them
        A glob pattern (matches taken in sorted name order), one path, or a list of paths in order.

    Returns
    -------
    Shards

    Raises
    ------
    DataError
        No file matches, a missing or unreadable shard, a shard with another
        column count or dtype kind, NaN / inf (naming shard, row and column), fewer than 2 rows.
    UsageError
        A shard that is not ``.npy``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for k in range(3):
    ...         _ = write_array(np.full((4, 2), float(k)), Path(tmp) / f"part-{k}.npy")
    ...     shards = load_shards(str(Path(tmp) / "part-*.npy"))
    ...     print(shards.shape, [Path(p).name for p in shards.paths])
    ...     del shards  # release the memory maps before the folder goes
    (12, 2) ['part-0.npy', 'part-1.npy', 'part-2.npy']
    """
    import glob

    from ililab.stats import iter_chunks

    if isinstance(pattern, (str, Path)):
        text = str(pattern)
        paths = sorted(glob.glob(text)) if is_shard_pattern(text) else [text]
        if not paths:
            raise DataError(f"no file matches {text!r}; check the pattern (quote it so the shell does not expand it)")
        source = text
    else:
        paths = [str(p) for p in pattern]
        if not paths:
            raise DataError("no shard files given")
        source = ", ".join(paths)
    arrays: list[np.ndarray] = []
    for path in paths:
        if Path(path).suffix.lower() != ".npy":
            raise UsageError(f"shard {path!r} is not a .npy file; shards must be .npy (np.save) files")
        if not Path(path).exists():
            raise DataError(f"no such file: {path!r} (a shard is missing)")
        if Path(path).is_dir():
            raise DataError(f"{path!r} is a directory, not a shard file")
        values = _load_npy(Path(path))
        if values.dtype == object or values.dtype.kind not in "iuf" or values.ndim != 2:
            raise DataError(f"shard {path!r}: expected a 2-D real numeric matrix, got {values.ndim}-D {values.dtype}")
        if arrays and values.shape[1] != arrays[0].shape[1]:
            raise DataError(
                f"shard {path!r} has {values.shape[1]} columns but {paths[0]!r} has {arrays[0].shape[1]}; "
                "every shard must hold the same columns"
            )
        for start, chunk in iter_chunks([values], _CHECK_ROWS):
            bad = ~np.isfinite(chunk)
            if bad.any():
                r, c = np.argwhere(bad)[0]
                what = "NaN" if np.isnan(chunk[r, c]) else "inf"
                raise DataError(f"shard {path!r}: {what} at row {start + r}, column {c}; remove or impute it")
        arrays.append(values)
    shards = Shards(arrays, paths, source)
    n, p = shards.shape
    if n < 2:
        raise DataError(f"{source}: need at least 2 rows (samples), got {n}")
    if p < 2:
        raise DataError(f"{source}: need at least 2 columns (variables), got {p}")
    return shards


def validate_matrix(values: np.ndarray, source: str = "data") -> None:
    """Check a data matrix: 2-D, real numeric, at least 2 x 2, all finite.

    Parameters
    ----------
    values : ndarray
        The matrix (rows = samples, columns = variables); memory maps are read chunk by chunk.
    source : str
        Where it came from, for messages.

    Raises
    ------
    DataError
        Naming the first offending row and column for NaN / inf.

    Examples
    --------
    >>> validate_matrix(np.ones((3, 2)))  # fine: returns None
    >>> validate_matrix(np.array([[0.5, 0.5], [np.inf, 0.0]]), "soft.npy")
    Traceback (most recent call last):
    ...
    ililab.errors.DataError: soft.npy: inf at row 1, column 0 (1 non-finite value in rows 0-1); remove or impute them
    """
    if not isinstance(values, np.ndarray):
        raise DataError(f"{source}: expected a numpy array, got {type(values).__name__}")
    if values.dtype == object:
        raise DataError(f"{source}: holds Python objects; ililab needs a numeric array")
    if values.ndim != 2:
        raise DataError(
            f"{source}: expected a 2-D matrix (rows = samples, columns = variables), "
            f"got {values.ndim}-D with shape {values.shape}"
        )
    if values.dtype.kind not in "iuf":
        raise DataError(f"{source}: expected a real numeric dtype, got {values.dtype}")
    n, p = values.shape
    if n < 2:
        raise DataError(f"{source}: need at least 2 rows (samples), got {n}")
    if p < 2:
        raise DataError(f"{source}: need at least 2 columns (variables), got {p}")
    if values.dtype.kind == "f":
        from ililab.stats import iter_chunks  # plain file reads for memory maps: RSS stays near one chunk

        for start, chunk in iter_chunks([values], _CHECK_ROWS):
            bad = ~np.isfinite(chunk)
            if bad.any():
                r, c = np.argwhere(bad)[0]
                what = "NaN" if np.isnan(chunk[r, c]) else "inf"
                count = int(bad.sum())
                raise DataError(
                    f"{source}: {what} at row {start + r}, column {c} "
                    f"({count} non-finite value{'s' if count > 1 else ''} in rows "
                    f"{start}-{start + len(chunk) - 1}); remove or impute them"
                )


def write_array(values: np.ndarray, path: str | Path) -> Path:
    """Save a numeric array as ``.npy`` atomically (never pickled).

    Parameters
    ----------
    values : array_like
        Numeric values (an object array is refused, as ``allow_pickle=False``).
    path : str or Path

    Returns
    -------
    Path
        ``path`` as given.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_array(np.arange(6.0).reshape(3, 2), Path(tmp) / "x.npy")
    ...     print(np.load(path).sum())
    15.0
    """

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.save(handle, np.asarray(values), allow_pickle=False)

    return atomic_write(path, save)
