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
]


class IlilabError(Exception):
    """Base class of every error ililab raises on purpose."""

    exit_code: int = 1


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
