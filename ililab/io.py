"""Reading data matrices, names and modalities; writing arrays and names atomically.

Graph files are :mod:`ililab.formats` (``read_graph``, ``write_graph``, ``graph_format_for``) and
atomic writes :mod:`ililab.files`; both are re-exported here for existing callers.

Nothing read here can execute code: ``.npy`` / ``.npz`` headers with object dtypes are
refused before numpy reads the data (and ``.npy`` is loaded with ``allow_pickle=False``),
and graph files are validated with pydantic. Nothing read here is held whole in memory unless
it is small: ``.npy`` files and ``.npz`` members are memory-mapped, graph readers check node
and edge counts (:class:`ililab.formats.GraphLimits`) before building a graph.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ililab.errors import DataError, UsageError, shown
from ililab.files import atomic_write, check_output_path
from ililab.files import open_error as _open_error
from ililab.formats import GRAPH_FORMATS, graph_format_for, read_graph, write_graph
from ililab.graph import Node, split_name

__all__ = [
    "Matrix",
    "load_matrix",
    "Shards",
    "is_shard_pattern",
    "load_shards",
    "validate_matrix",
    "read_names",
    "parse_modalities",
    "make_nodes",
    "atomic_write",
    "check_output_path",
    "write_array",
    "write_names",
    "write_graph",
    "read_graph",
    "GRAPH_FORMATS",
    "graph_format_for",
]

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


def _pickle_error(where: str) -> DataError:
    return DataError(
        f"{where} holds Python objects (a pickled array); ililab never unpickles "
        "data. Save a numeric array instead, e.g. np.save(path, x.astype(np.float64))"
    )


_NPY_MAGIC = b"\x93NUMPY"
# Bytes per read when a compressed .npz member is decompressed: memory stays near this.
_NPZ_BLOCK = 1 << 24
# A compressed member expanding more than _BOMB_RATIO-fold to more than _BOMB_BYTES is refused
# as a zip bomb: numeric data compress a few-fold (sparse ones tens-fold), deflate at most
# 1032-fold, and decompressing gigabytes takes tens of seconds before anything can be checked.
_BOMB_RATIO = 200
_BOMB_BYTES = 1 << 28


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:  # not just a multi-byte character cut at the end
            return False
    return not any(b < 9 or 13 < b < 32 for b in head)


def _not_numpy(path: Path, head: bytes, what: str) -> DataError:
    if _looks_like_text(head):
        hint = "it is text: name a text table .csv (comma-separated, optional header row)"
    else:
        hint = f"save arrays with {'np.save' if what == '.npy file' else 'np.savez'}"
    return DataError(f"{str(path)!r} is not a {what} ({hint})")


def _npy_header(stream, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Read and check a ``.npy`` header from ``stream``; nothing past it is read.

    Object dtypes are refused here, before numpy sees the data: this is the one check
    that keeps a pickle in a ``.npy`` or ``.npz`` from ever being loaded.
    """
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(stream)
        else:  # 3.0 only differs for structured dtypes with non-Latin-1 field names: not a matrix
            raise DataError(f"{where} is not a valid .npy file (format version {version}); save it with np.save")
    except DataError:
        raise
    except Exception as error:  # numpy raises ValueError / EOFError / SyntaxError on a bad header
        raise DataError(f"{where} is not a valid .npy file (bad header: {shown(str(error), 200)})") from None
    if dtype.hasobject:
        raise _pickle_error(where)
    return shape, fortran, dtype


def _load_npy(path: Path) -> np.ndarray:
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
            if not head.startswith(_NPY_MAGIC):
                raise _not_numpy(path, head, ".npy file")
            handle.seek(0)
            _npy_header(handle, repr(str(path)))
    except OSError as error:
        raise _open_error(path, error) from None
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except OSError as error:
        raise _open_error(path, error) from None
    except Exception as error:  # numpy raises assorted errors on corrupt files
        raise DataError(f"{str(path)!r} is not a valid .npy file: {shown(str(error), 200)}") from None


def _load_npz(path: Path, key: str | None) -> np.ndarray:
    """One array of a ``.npz`` archive, never read whole into memory.

    A stored member (``np.savez``) is memory-mapped in place; a compressed one
    (``np.savez_compressed``) is decompressed block by block into a temporary file
    that is memory-mapped (and deleted with the array). The header's shape must
    match the member's size before any data is read, so a small archive cannot
    claim gigabytes it does not hold, and one that does hold them costs disk,
    not memory.
    """
    import zipfile

    try:
        archive = zipfile.ZipFile(path)
    except OSError as error:
        raise _open_error(path, error) from None
    except (zipfile.BadZipFile, ValueError, EOFError):
        try:
            with open(path, "rb") as handle:
                head = handle.read(64)
        except OSError as error:
            raise _open_error(path, error) from None
        raise _not_numpy(path, head, ".npz archive") from None
    with archive:
        members = {info.filename[:-4]: info for info in archive.infolist() if info.filename.endswith(".npy")}
        keys = list(members)
        listing = ", ".join(keys) or "none"
        if len(listing) > 200:  # an archive of thousands of arrays: name the first few
            listing = listing[:200] + "…"
        if key is None:
            if len(keys) != 1:
                raise UsageError(f"{str(path)!r} holds {len(keys)} arrays ({listing}); choose one with --key")
            key = keys[0]
        if key not in members:
            raise UsageError(f"no array {shown(key)} in {str(path)!r}; it holds: {listing}")
        where = f"array {shown(key)} of {str(path)!r}"
        info = members[key]
        try:
            return _npz_member(path, archive, info, where)
        except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError) as error:
            raise DataError(f"cannot read {where}: {shown(str(error), 200)}") from None


def _npz_member(path: Path, archive, info, where: str) -> np.ndarray:
    import zipfile

    with archive.open(info) as stream:
        shape, fortran, dtype = _npy_header(stream, where)
        offset = stream.tell()
        order = "F" if fortran else "C"
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if info.file_size - offset != nbytes:
            raise DataError(
                f"{where}: its header says shape {shape} ({nbytes} bytes) but it holds {info.file_size - offset} "
                "bytes; the archive is damaged"
            )
        if info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & 0x1:
            with open(path, "rb") as handle:  # data start: after the member's local header
                handle.seek(info.header_offset)
                local = handle.read(30)
            if len(local) < 30 or local[:4] != b"PK\x03\x04":
                raise DataError(f"cannot read {where}: the archive is damaged")
            start = info.header_offset + 30 + int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")
            if nbytes == 0:
                return np.empty(shape, dtype, order=order)
            return np.memmap(path, dtype=dtype, mode="r", offset=start + offset, shape=shape, order=order)
        ratio = nbytes / max(info.compress_size, 1)
        if nbytes > _BOMB_BYTES and ratio > _BOMB_RATIO:
            raise DataError(
                f"{where} is compressed {ratio:.0f}-fold ({info.compress_size} bytes expanding to "
                f"{nbytes / 2**30:.1f} GiB), refused as a likely zip bomb (numeric data compress a few-fold); "
                "if the data are real, save them uncompressed (np.savez, or np.save as .npy)"
            )
        return _spool(stream, where, shape, dtype, order, nbytes)


def _spool(stream, where: str, shape: tuple[int, ...], dtype: np.dtype, order: str, nbytes: int) -> np.ndarray:
    """Decompress ``nbytes`` from ``stream`` into a temporary file and memory-map it."""
    import shutil
    import weakref

    if nbytes == 0:
        return np.empty(shape, dtype, order=order)
    directory = tempfile.gettempdir()
    free = shutil.disk_usage(directory).free
    if nbytes > free // 2:
        raise DataError(
            f"{where} is compressed and expands to {nbytes / 2**30:.1f} GiB, more than half the free space "
            f"of {directory!r}; save it uncompressed (np.savez, or np.save as .npy) so it can be read in place"
        )
    fd, name = tempfile.mkstemp(prefix="ililab-npz-", suffix=".npy.tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            left = nbytes
            while left:
                block = stream.read(min(_NPZ_BLOCK, left))
                if not block:
                    raise DataError(f"{where} is shorter than its header says; the archive is damaged")
                out.write(block)
                left -= len(block)
        array = np.memmap(name, dtype=dtype, mode="r", shape=shape, order=order)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    weakref.finalize(array, _remove, name)  # also runs at exit
    return array


def _remove(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _load_csv(path: Path) -> tuple[np.ndarray, list[str] | None]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
    except OSError as error:
        raise _open_error(path, error) from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{str(path)!r} is not a readable CSV text file: {error}") from None
    if not rows:
        raise DataError(f"{str(path)!r} is empty")
    names = None
    if not all(_is_number(cell) for cell in rows[0]):
        names = [cell.strip() for cell in rows[0]]
        rows = rows[1:]
    width = len(names) if names is not None else len(rows[0]) if rows else 0
    values = np.empty((len(rows), width))
    for r, row in enumerate(rows):
        line = r + (2 if names is not None else 1)
        if len(row) != width:
            raise DataError(f"{str(path)!r} line {line}: {len(row)} fields, expected {width}")
        for c, cell in enumerate(row):
            try:
                values[r, c] = float(cell)
            except ValueError:
                column = names[c] if names is not None else f"column {c}"
                raise DataError(
                    f"{str(path)!r} line {line}, {shown(column)}: {shown(cell.strip())} is not a number"
                ) from None
    return values, names


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


def read_names(path: str | Path) -> list[str]:
    """Column names, one per line (blank trailing lines ignored).

    Parameters
    ----------
    path : str or Path
        A UTF-8 text file (a byte-order mark is allowed).

    Returns
    -------
    list of str
        The names, stripped of surrounding white space.

    Raises
    ------
    DataError
        Unreadable file, a blank name, or a duplicate name.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "names.txt"
    ...     _ = write_names(["Bark (audio)", "Frying (food) (audio)"], path)
    ...     read_names(path)
    ['Bark (audio)', 'Frying (food) (audio)']
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise _open_error(path, error) from None
    except UnicodeDecodeError:
        raise DataError(f"names file {str(path)!r} is not UTF-8 text") from None
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    for i, name in enumerate(lines):
        if not name:
            raise DataError(f"names file {str(path)!r} line {i + 1} is blank")
    _check_unique(lines, f"names file {str(path)!r}")
    return lines


def _check_unique(names: Sequence[str], where: str) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise DataError(f"{where}: duplicate name {shown(name)} (positions {seen[name]} and {i})")
        seen[name] = i


_MODALITY_SPEC = re.compile(r"^\s*([^=,:\s][^=,:]*?)\s*=\s*(\d+)\s*:\s*(\d+)\s*$")


def parse_modalities(spec: str, n_columns: int) -> list[str | None]:
    """Parse ``"audio=0:28,visual=28:56"`` into one modality (or None) per column.

    Parameters
    ----------
    spec : str
        Comma-separated ``NAME=START:STOP`` blocks of columns (``STOP`` excluded).
    n_columns : int
        Number of columns of the data.

    Returns
    -------
    list of str or None

    Raises
    ------
    UsageError
        A malformed spec, an empty or out-of-range block, or overlapping blocks.

    Examples
    --------
    >>> parse_modalities("audio=0:2,visual=2:4", 5)  # column 4 has no modality
    ['audio', 'audio', 'visual', 'visual', None]
    """
    if not spec or not spec.strip():
        raise UsageError("--modalities is empty; expected e.g. audio=0:28,visual=28:56")
    out: list[str | None] = [None] * n_columns
    seen: set[str] = set()
    for part in spec.split(","):
        match = _MODALITY_SPEC.match(part)
        if match is None:
            raise UsageError(f"malformed --modalities part {shown(part.strip())}; expected NAME=START:STOP, e.g. audio=0:28")
        name, start, stop = match.group(1), int(match.group(2)), int(match.group(3))
        if name in seen:
            raise UsageError(f"--modalities names {shown(name)} twice")
        seen.add(name)
        if not start < stop <= n_columns:
            raise UsageError(
                f"--modalities block {name}={start}:{stop} is empty or beyond the {n_columns} columns"
            )
        for c in range(start, stop):
            if out[c] is not None:
                raise UsageError(f"--modalities blocks {shown(out[c])} and {shown(name)} overlap at column {c}")
            out[c] = name
    return out


def make_nodes(
    n_columns: int,
    names: Sequence[str] | None = None,
    modalities: Sequence[str | None] | str | None = None,
) -> list[Node]:
    """One :class:`Node` per column from names and modalities.

    Without names the columns are ``x0, x1, ...``. Without explicit modalities,
    names of the form ``"Class (modality)"`` give them, provided every name has
    such a suffix. ``modalities`` may be a spec string (see :func:`parse_modalities`).

    Parameters
    ----------
    n_columns : int
    names : sequence of str, optional
        One per column.
    modalities : sequence of str or None, or str, optional
        One per column, or a spec string.

    Returns
    -------
    list of Node

    Raises
    ------
    DataError
        Names whose count differs from the number of columns, or duplicates.

    Examples
    --------
    >>> [n.name for n in make_nodes(2)]
    ['x0', 'x1']
    >>> [n.modality for n in make_nodes(3, ["Bark (audio)", "Cat (audio)", "Bark (visual)"])]
    ['audio', 'audio', 'visual']
    >>> [n.modality for n in make_nodes(2, ["a", "b"], "audio=0:1,visual=1:2")]
    ['audio', 'visual']
    """
    if names is None:
        names = [f"x{i}" for i in range(n_columns)]
    names = [str(n) for n in names]
    if len(names) != n_columns:
        raise DataError(f"{len(names)} names given for {n_columns} columns")
    _check_unique(names, "column names")
    if isinstance(modalities, str):
        modalities = parse_modalities(modalities, n_columns)
    if modalities is not None:
        if len(modalities) != n_columns:
            raise DataError(f"{len(modalities)} modalities given for {n_columns} columns")
        nodes = []
        for name, modality in zip(names, modalities):
            label, suffix = split_name(name)
            label = label if suffix is not None and suffix == modality else name
            nodes.append(Node(name, label if modality is not None else None, modality))
        return nodes
    parsed = [split_name(n) for n in names]
    # Every name needs a suffix, and the suffixes must look like modalities, not like
    # parenthesised class names: a modality holds 2+ columns or a label recurs across them.
    looks_like_modalities = len({m for _, m in parsed}) < n_columns or len({lab for lab, _ in parsed}) < n_columns
    if all(m is not None for _, m in parsed) and looks_like_modalities:
        return [Node(n, label, m) for n, (label, m) in zip(names, parsed)]
    return [Node(n) for n in names]


# -- writing ----------------------------------------------------------------------------


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


def write_names(names: Sequence[str], path: str | Path) -> Path:
    """Write names one per line, atomically.

    Parameters
    ----------
    names : sequence of str
    path : str or Path

    Returns
    -------
    Path
        ``path`` as given.

    Raises
    ------
    DataError
        A name holding a line break (it could not be read back).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_names(["Bark (audio)", "Bark (visual)"], Path(tmp) / "names.txt")
    ...     Path(path).read_text()
    'Bark (audio)\\nBark (visual)\\n'
    """
    for name in names:
        if "\n" in name or "\r" in name:
            raise DataError(f"name {shown(name)} contains a line break")
    return atomic_write(path, "".join(f"{n}\n" for n in names))
