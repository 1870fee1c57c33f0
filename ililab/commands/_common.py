"""Pieces shared by the CLI commands."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from ililab.errors import OutputError, UsageError

__all__ = ["parse_params", "is_quiet", "Stopwatch", "limit_options", "output_directory"]


def parse_params(pairs: Iterable[str]) -> dict[str, Any]:
    """Parse ``key=value`` pairs; values are read as JSON when they parse, else as strings."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_") if key.strip() != "lambda" else "lambda"
        if not sep or not key:
            raise UsageError(f"--param expects KEY=VALUE, got {pair!r}")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        out[key] = value
    return out


def limit_options(command):
    """``--max-nodes`` / ``--max-edges``: the size limits of the graph readers (ililab.formats.GraphLimits)."""
    from ililab.formats import GraphLimits

    command = click.option(
        "--max-edges", type=click.IntRange(min=0), default=GraphLimits.max_edges, show_default=True,
        help="Refuse a graph file with more edges (checked before the graph is built).",
    )(command)
    return click.option(
        "--max-nodes", type=click.IntRange(min=1), default=GraphLimits.max_nodes, show_default=True,
        help="Refuse a graph file with more nodes.",
    )(command)


def is_quiet() -> bool:
    """Whether ``ililab --quiet`` (``-q``) was given: then print nothing but errors.

    Reads the option from the running click context, so a plugin's command sees
    the flag of the ``ililab`` group it runs under; outside a command it is False.

    Examples
    --------
    >>> is_quiet()
    False
    """
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.obj and ctx.obj.get("quiet"):
            return True
        ctx = ctx.parent
    return False


class Stopwatch:
    """Wall-clock timer for the human summary on stderr."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


def output_directory(path: str | Path) -> Path:
    """Create the output directory ``path`` (and its parents) before any work, or fail in one line.

    Raises
    ------
    OutputError
        It cannot be created: a parent is a file, is read-only, or ``path`` is a file.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"cannot write into {str(path)!r}: it is a file, not a directory") from None
    except OSError as error:
        raise OutputError(f"cannot create the output directory {str(path)!r}: {error.strerror or error}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write into {str(path)!r}: the directory is not writable")
    return path
