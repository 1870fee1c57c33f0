"""A small progress bar on stderr for long searches, bootstraps and streaming passes.

The bar appears only when the work has taken more than ``delay`` seconds (about
one by default), only on a terminal unless forced (``force=True`` or the
environment variable ``ILILAB_PROGRESS=1``), never on stdout, and never when
``enabled=False`` (the CLI's ``--quiet``)::

    with Progress(total=100, label="bootstrap") as bar:
        for _ in range(100):
            ...
            bar.advance()
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import time
from collections.abc import Iterator
from typing import IO

__all__ = [
    "Progress", "format_seconds", "DEFAULT_DELAY", "search_bars", "search_bars_enabled", "search_notes",
    "search_notes_enabled",
]

# Whether the native searches' restarts may draw a bar: off unless the caller asked for it (the API's
# learner run, not the searches inside the softmax inversion or a bootstrap replicate).
_SEARCH_BARS: contextvars.ContextVar[bool] = contextvars.ContextVar("ililab_search_bars", default=False)
# Whether a search that stopped without converging warns on its logger: on, except inside a bootstrap
# replicate (the bootstrap counts those replicates and warns once, after them).
_SEARCH_NOTES: contextvars.ContextVar[bool] = contextvars.ContextVar("ililab_search_notes", default=True)


@contextlib.contextmanager
def _setting(var: contextvars.ContextVar[bool], enabled: bool) -> Iterator[None]:
    """Set ``var`` to ``enabled`` for the block, then restore the previous value."""
    token = var.set(bool(enabled))
    try:
        yield
    finally:
        var.reset(token)


@contextlib.contextmanager
def search_bars(enabled: bool = True) -> Iterator[None]:
    """Within the block, GRaSP's and BOSS's restarts show a bar (on a terminal, after ``DEFAULT_DELAY``).

    Parameters
    ----------
    enabled : bool
        True: the searches run in the block may show their bar; False: they show none.

    Yields
    ------
    None
        The setting holds until the block ends (then the previous one is back).

    Examples
    --------
    >>> search_bars_enabled()
    False
    >>> with search_bars():
    ...     search_bars_enabled()
    True
    """
    with _setting(_SEARCH_BARS, enabled):
        yield


def search_bars_enabled() -> bool:
    """Whether the searches' restarts may show a bar here (see :func:`search_bars`).

    Returns
    -------
    bool
        The innermost :func:`search_bars` setting around the caller; False outside any.

    Examples
    --------
    >>> search_bars_enabled()
    False
    """
    return _SEARCH_BARS.get()


@contextlib.contextmanager
def search_notes(enabled: bool = True) -> Iterator[None]:
    """Within the block, GRaSP and BOSS warn (or not) when they stop without converging.

    The bootstrap turns the warning off in its replicates and warns once after them, with
    the number of replicates whose search did not converge.

    Parameters
    ----------
    enabled : bool
        True: a search that stops without converging warns on its logger; False: it stays quiet
        (its result's ``convergence`` still says how it stopped).

    Yields
    ------
    None
        The setting holds until the block ends (then the previous one is back).

    Examples
    --------
    >>> search_notes_enabled()
    True
    >>> with search_notes(False):
    ...     search_notes_enabled()
    False
    """
    with _setting(_SEARCH_NOTES, enabled):
        yield


def search_notes_enabled() -> bool:
    """Whether a search that stops without converging warns here (see :func:`search_notes`).

    Returns
    -------
    bool
        The innermost :func:`search_notes` setting around the caller; True outside any.

    Examples
    --------
    >>> search_notes_enabled()
    True
    """
    return _SEARCH_NOTES.get()

_WIDTH = 24
# Seconds of work before a bar appears (short jobs never show one).
DEFAULT_DELAY = 1.0


def format_seconds(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) for a duration in seconds.

    Examples
    --------
    >>> format_seconds(75.2)
    '1:15'
    >>> format_seconds(3725)
    '1:02:05'
    """
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Percent done, elapsed time and an estimate of the time left, redrawn in place on stderr.

    Parameters
    ----------
    total : int
        Units of work (replicates, rows, ...).
    label : str
        Shown before the bar.
    enabled : bool
        False silences the bar whatever else is set (``--quiet``).
    force : bool
        Draw even when the stream is not a terminal (also ``ILILAB_PROGRESS=1``).
    delay : float, optional
        Seconds of work before the bar first appears (default ``DEFAULT_DELAY``).
    stream : file, optional
        Where to draw (default: ``sys.stderr`` at the time of each draw).
    min_interval : float
        Seconds between redraws.
    clock : callable
        Source of time in seconds (tests pass a fake clock).

    Examples
    --------
    >>> import io
    >>> out, now = io.StringIO(), [0.0]
    >>> with Progress(4, "bootstrap", force=True, delay=0, stream=out, clock=lambda: now[0]) as bar:
    ...     for _ in range(4):
    ...         now[0] += 1.5
    ...         bar.advance()
    >>> print(out.getvalue().split("\\r")[-1].replace("\\x1b[K", ""), end="")
    bootstrap: 100% |########################| 4/4 elapsed 0:06 eta 0:00
    >>> Progress(4).shown  # not a terminal and not forced: never drawn
    False
    """

    def __init__(
        self,
        total: int,
        label: str = "",
        *,
        enabled: bool = True,
        force: bool = False,
        delay: float | None = None,
        stream: IO[str] | None = None,
        min_interval: float = 0.2,
        clock=time.monotonic,
    ) -> None:
        self.total = max(int(total), 0)
        self.label = label
        self.done = 0
        self._stream = stream
        self._clock = clock
        self._start = clock()
        self._delay = DEFAULT_DELAY if delay is None else delay
        self._min_interval = min_interval
        self._last_draw: float | None = None
        self._shown = False
        forced = force or os.environ.get("ILILAB_PROGRESS", "") == "1"
        self._enabled = enabled and (forced or self._isatty())

    @property
    def stream(self) -> IO[str]:
        """Where the bar is drawn: the stream given, else ``sys.stderr`` at the time of asking.

        Examples
        --------
        >>> Progress(10).stream is sys.stderr
        True
        """
        return self._stream if self._stream is not None else sys.stderr

    def _isatty(self) -> bool:
        try:
            return bool(self.stream.isatty())
        except (AttributeError, ValueError):
            return False

    @property
    def shown(self) -> bool:
        """Whether the bar has been drawn at least once (and its line not yet ended by :meth:`close`).

        Examples
        --------
        >>> import io
        >>> bar = Progress(10, force=True, delay=5.0, stream=io.StringIO(), clock=lambda: 0.0)
        >>> bar.update(3)
        >>> bar.shown  # less than ``delay`` seconds of work: short jobs show no bar
        False
        """
        return self._shown

    def render(self, now: float | None = None) -> str:
        """The text of the bar for the current state (``now``: the clock's time; default: now).

        Examples
        --------
        >>> bar = Progress(200, "rows", clock=lambda: 0.0)
        >>> bar.done = 50
        >>> bar.render(now=30.0)
        'rows:  25% |######------------------| 50/200 elapsed 0:30 eta 1:30'
        """
        now = self._clock() if now is None else now
        elapsed = now - self._start
        fraction = self.done / self.total if self.total else 1.0
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(round(fraction * _WIDTH))
        bar = "#" * filled + "-" * (_WIDTH - filled)
        eta = format_seconds(elapsed * (1 - fraction) / fraction) if fraction > 0 else "?"
        prefix = f"{self.label}: " if self.label else ""
        return (
            f"{prefix}{fraction * 100:3.0f}% |{bar}| {self.done}/{self.total} "
            f"elapsed {format_seconds(elapsed)} eta {eta}"
        )

    def update(self, done: int) -> None:
        """Set the units done so far and redraw if it is time to.

        Examples
        --------
        >>> import io
        >>> out = io.StringIO()
        >>> bar = Progress(10, force=True, delay=0, stream=out, clock=lambda: 2.0)
        >>> bar.update(5)
        >>> bar.done, "5/10" in out.getvalue()
        (5, True)
        """
        self.done = int(done)
        if not self._enabled:
            return
        now = self._clock()
        if now - self._start < self._delay:
            return
        finished = self.done >= self.total
        if not finished and self._last_draw is not None and now - self._last_draw < self._min_interval:
            return
        self._last_draw = now
        self._shown = True
        try:
            self.stream.write("\r" + self.render(now) + "\x1b[K")
            self.stream.flush()
        except (OSError, ValueError):  # a closed stderr must not break the work
            self._enabled = False

    def advance(self, step: int = 1) -> None:
        """Count ``step`` more units done.

        Examples
        --------
        >>> bar = Progress(10)
        >>> bar.advance(); bar.advance(3)
        >>> bar.done
        4
        """
        self.update(self.done + step)

    def close(self) -> None:
        """End the bar's line (if it was drawn); later updates draw nothing.

        Examples
        --------
        >>> import io
        >>> out = io.StringIO()
        >>> bar = Progress(2, force=True, delay=0, stream=out, clock=lambda: 1.0)
        >>> bar.update(2)
        >>> bar.close()
        >>> out.getvalue().endswith("\\n"), bar.shown
        (True, False)
        """
        if self._shown:
            try:
                self.stream.write("\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self._shown = False
        self._enabled = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
