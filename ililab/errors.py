"""Exception types users see.

Every error ililab raises on purpose is an :class:`IlilabError`. The CLI prints
its message on one line and exits with :attr:`IlilabError.exit_code`
(2 for usage errors, 1 for data errors); a traceback is shown only with
``--debug``.
"""

from __future__ import annotations

__all__ = [
    "IlilabError",
    "UsageError",
    "DataError",
    "GraphFormatError",
    "SingularCovarianceError",
    "UnknownLearnerError",
    "ParameterError",
    "OutputError",
    "KnowledgeError",
    "EngineError",
    "IlilabWarning",
    "shown",
    "clip_lines",
    "MAX_LINE",
]

# No line of an error message is longer than this: input echoed in a message is clipped
# (a 10^6-digit number in a graph file must not become a megabyte of stderr).
MAX_LINE = 500


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` for an error message, clipped to about ``limit`` characters.

    Input read from a file is echoed through this, so a message stays short
    however long the offending text is.

    Examples
    --------
    >>> shown("abc")
    "'abc'"
    >>> shown("9" * 1000, limit=20)
    "'999999999999999…' (1000 characters)"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, (str, bytes)):
        return f"{text[: max(limit - 4, 2)]}…{text[-1]} ({len(value)} characters)"
    return text[: max(limit - 1, 1)] + "…"


def clip_lines(message: str) -> str:
    """``message`` with every line longer than :data:`MAX_LINE` characters cut to that length."""
    return "\n".join(line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…" for line in message.split("\n"))


class IlilabError(Exception):
    """Base class of every error ililab raises on purpose.

    Its message is one line of at most :data:`MAX_LINE` characters (a longer
    one is clipped): it may quote input, and input can be of any size.
    """

    exit_code: int = 1

    def __str__(self) -> str:
        return clip_lines(super().__str__())


class UsageError(IlilabError):
    """The command or call was wrong: an unknown option value, learner or parameter."""

    exit_code = 2


class DataError(IlilabError):
    """The input data cannot be used: unreadable, malformed, non-finite, degenerate."""

    exit_code = 1


class GraphFormatError(DataError):
    """A graph file or dictionary does not follow ``ililab.graph/v1``."""


class KnowledgeError(DataError):
    """Background knowledge that cannot be used: unreadable, malformed, or inconsistent with itself or the data.

    Every error about the knowledge's content (file or :class:`~ililab.knowledge.Knowledge`
    object) is this one, exit code 1; misused command-line options about knowledge
    (``--tiers-from-modalities`` naming no modality of the data, ...) are usage errors, exit 2.
    """


class SingularCovarianceError(DataError):
    """The covariance of the data is singular or badly conditioned."""


class UnknownLearnerError(UsageError):
    """No learner is registered under the requested name."""


class ParameterError(UsageError):
    """A learner parameter is unknown or has the wrong type or value."""


class OutputError(IlilabError):
    """An output file cannot be written."""

    exit_code = 1


class EngineError(IlilabError):
    """The engine cannot run: an unreachable scheduler, a worker pool that died."""

    exit_code = 1


class IlilabWarning(UserWarning):
    """Something the user should know about the result (shown once on stderr by the CLI)."""
