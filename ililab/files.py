"""Files: checking an output path before any work, writing atomically, and the message of a failed read.

A leaf module (it imports only :mod:`ililab.errors`), so every layer that writes a file --
the graph formats, the pictures, the report, the data writers of :mod:`ililab.matrix` and :mod:`ililab.names` -- uses the
same atomic write without importing anything above it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ililab.errors import DataError, OutputError

__all__ = ["check_output_path", "atomic_write", "open_error"]


def open_error(path: Path, error: OSError) -> DataError:
    """The one-line :class:`~ililab.errors.DataError` for a file that exists but cannot be read.

    Examples
    --------
    >>> open_error(Path("x.npy"), PermissionError(13, "Permission denied"))
    DataError("cannot read 'x.npy': Permission denied")
    """
    return DataError(f"cannot read {str(path)!r}: {error.strerror or error}")


def check_output_path(path: str | Path, what: str = "") -> Path:
    """Check, before any work, that ``path`` can be written; return the file a write replaces.

    A symbolic link is followed (the file it points to is replaced, the link kept). Nothing
    is created. ``what`` names the option in messages (e.g. ``"--plot"``).

    Parameters
    ----------
    path : str or Path
    what : str
        The option that named ``path``, for messages.

    Returns
    -------
    Path
        The file a write replaces (the target of a link).

    Raises
    ------
    OutputError
        ``path`` is a directory, or its directory is missing, not a directory, or not writable.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> check_output_path(os.path.join(folder, "g.json")).name
    'g.json'
    >>> check_output_path(os.path.join(folder, "missing", "g.json"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ililab.errors.OutputError: cannot write ...: directory ... does not exist
    >>> os.rmdir(folder)
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    shown = repr(str(path)) if target == path else f"{str(path)!r} (a link to {str(target)!r})"
    if what:
        shown = f"{what} {shown}"
    directory = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise OutputError(f"cannot write {shown}: it is a directory")
    if not directory.exists():
        raise OutputError(f"cannot write {shown}: directory {str(directory)!r} does not exist")
    if not directory.is_dir():
        raise OutputError(f"cannot write {shown}: {str(directory)!r} is not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {shown}: directory {str(directory)!r} is not writable")
    return target


def atomic_write(path: str | Path, writer: Callable[[Path], None] | bytes | str) -> Path:
    """Write a file atomically: into a temporary file beside it, then rename.

    ``writer`` is the content (bytes or text) or a function that writes to the
    temporary path it is given. On any failure, Ctrl-C included, the
    temporary file is removed and an existing file at ``path`` is untouched.
    When ``path`` is a symbolic link, the file it points to is replaced (the
    temporary file goes beside that file), so the link stays a link.

    Parameters
    ----------
    path : str or Path
    writer : bytes, str or callable
        The content, or ``writer(temporary_path)`` that writes it.

    Returns
    -------
    Path
        ``path`` as given.

    Raises
    ------
    OutputError
        If the directory does not exist or is not writable.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "notes.txt"
    ...     _ = atomic_write(path, "first\\n")
    ...     _ = atomic_write(path, lambda temporary: temporary.write_text("second\\n"))
    ...     print(path.read_text(), sorted(p.name for p in Path(tmp).iterdir()))
    second
     ['notes.txt']
    """
    given = Path(path)
    path = check_output_path(given)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise OutputError(f"cannot write {str(given)!r}: {error.strerror or error}") from None
    tmp = Path(tmp_name)
    try:
        if callable(writer):
            os.close(fd)
            writer(tmp)
        else:
            data = writer.encode("utf-8") if isinstance(writer, str) else writer
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        if path.exists():
            try:
                os.chmod(tmp, path.stat().st_mode & 0o777)
            except OSError:
                pass
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as error:
        tmp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OutputError(f"cannot write {str(given)!r}: {error.strerror or error}") from None
        raise
    return given


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
