"""Reading ``.npy``, ``.npz`` and ``.csv`` files safely: private to :mod:`ililab.matrix`.

Object dtypes are refused from the header before numpy reads any data, ``.npy`` files and
stored ``.npz`` members are memory-mapped, compressed members are decompressed in blocks
to a temporary file (a zip bomb is refused first), and CSV cells are checked as numbers.
"""

from __future__ import annotations

import csv
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

from ililab.errors import DataError, UsageError, shown
from ililab.files import open_error as _open_error


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
