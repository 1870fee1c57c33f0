"""Column names, modalities and the graph's nodes: reading, parsing and writing names.

Re-exported by :mod:`ililab.io`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ililab.errors import DataError, UsageError, shown
from ililab.files import atomic_write
from ililab.files import open_error as _open_error
from ililab.graph import Node, split_name

__all__ = ["read_names", "parse_modalities", "make_nodes", "write_names"]


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
