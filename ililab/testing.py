"""Helpers for testing code that uses ililab, e.g. a plugin's CLI commands.

>>> def test_my_command(capsys):
...     run = cli_runner(capsys)
...     result = run("my-command", "--help")
...     assert result.code == 0 and "Usage" in result.out
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["CliResult", "cli_runner"]


@dataclass
class CliResult:
    """Outcome of one ``ililab`` invocation: exit code, stdout and stderr.

    Attributes
    ----------
    code : int
        The exit status (0 success, 1 data error, 2 usage error).
    out, err : str
        What the command wrote to stdout and stderr.

    Examples
    --------
    >>> result = CliResult(2, "", "error: Missing argument 'FIRST'.\\n")
    >>> result.code == 2 and "Missing argument" in result.err
    True
    """

    code: int
    out: str
    err: str


def cli_runner(capsys: Any) -> Callable[..., CliResult]:
    """A function running ``ililab ARGS...`` in-process through the real entry point.

    Parameters
    ----------
    capsys
        pytest's ``capsys`` fixture; output written before each call is discarded.

    Returns
    -------
    callable
        ``run(*args) -> CliResult``; arguments are converted with ``str`` (paths are fine).
        Plugin commands are found through their entry points, as on the command line.

    Examples
    --------
    In a test, pass pytest's ``capsys``; here a stand-in with the same ``readouterr()``:

    >>> import contextlib, io, types
    >>> class Capture:
    ...     def __init__(self):
    ...         self.out, self.err = io.StringIO(), io.StringIO()
    ...     def readouterr(self):
    ...         got = types.SimpleNamespace(out=self.out.getvalue(), err=self.err.getvalue())
    ...         for stream in (self.out, self.err):
    ...             stream.seek(0)
    ...             stream.truncate()
    ...         return got
    >>> capture = Capture()
    >>> run = cli_runner(capture)
    >>> with contextlib.redirect_stdout(capture.out), contextlib.redirect_stderr(capture.err):
    ...     ok = run("--version")
    ...     usage = run("compare")
    >>> ok.code, ok.out.startswith("ililab, version")
    (0, True)
    >>> usage.code, "Missing argument" in usage.err
    (2, True)
    """
    from ililab.cli import main

    def run(*args: Any) -> CliResult:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
