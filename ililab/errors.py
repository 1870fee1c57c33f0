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
    """``message`` with every line longer than :data:`MAX_LINE` characters cut to that length.

    Examples
    --------
    >>> clipped = clip_lines("short\\n" + "x" * 1000)
    >>> [len(line) for line in clipped.split("\\n")], clipped.endswith("…")
    ([5, 500], True)
    """
    return "\n".join(line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…" for line in message.split("\n"))


class IlilabError(Exception):
    """Base class of every error ililab raises on purpose.

    Its message is one line of at most :data:`MAX_LINE` characters (a longer
    one is clipped): it may quote input, and input can be of any size.

    Attributes
    ----------
    exit_code : int
        The CLI's exit status for this error (1 data, 2 usage).

    Examples
    --------
    >>> try:
    ...     raise DataError("row 3 holds NaN")
    ... except IlilabError as error:  # every deliberate error, whatever its kind
    ...     print(f"{type(error).__name__} (exit {error.exit_code}): {error}")
    DataError (exit 1): row 3 holds NaN
    >>> len(str(IlilabError("x" * 10_000)))  # one clipped line however long the input
    500
    """

    exit_code: int = 1

    def __str__(self) -> str:
        return clip_lines(super().__str__())


class UsageError(IlilabError):
    """The command or call was wrong: an unknown option value, learner or parameter.

    Examples
    --------
    >>> from ililab.engines import make_engine
    >>> try:
    ...     make_engine("gpu")
    ... except UsageError as error:
    ...     print(error.exit_code, error)
    2 unknown engine 'gpu'; choose one of local, dask
    """

    exit_code = 2


class DataError(IlilabError):
    """The input data cannot be used: unreadable, malformed, non-finite, degenerate.

    Examples
    --------
    >>> import numpy as np
    >>> from ililab.matrix import validate_matrix
    >>> try:
    ...     validate_matrix(np.array([[0.1, np.nan], [0.2, 0.3], [0.4, 0.5]]))
    ... except DataError as error:
    ...     print(error.exit_code, type(error).__name__)
    1 DataError
    """

    exit_code = 1


class GraphFormatError(DataError):
    """A graph file or dictionary does not follow ``ililab.graph/v1``.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph
    >>> try:
    ...     DependencyGraph.from_dict({"format": "other/v2"})
    ... except GraphFormatError as error:
    ...     print(error)
    unknown graph format 'other/v2'; expected 'ililab.graph/v1'
    """


class KnowledgeError(DataError):
    """Background knowledge that cannot be used: unreadable, malformed, or inconsistent with itself or the data.

    Every error about the knowledge's content (file or :class:`~ililab.knowledge.Knowledge`
    object) is this one, exit code 1; misused command-line options about knowledge
    (``--tiers-from-modalities`` naming no modality of the data, ...) are usage errors, exit 2.

    Examples
    --------
    >>> from ililab.knowledge import Knowledge
    >>> try:
    ...     Knowledge(tiers=[["a", "b"], ["b"]])
    ... except KnowledgeError as error:
    ...     print(error.exit_code, error)
    1 knowledge: 'b' appears in more than one tier
    """


class SingularCovarianceError(DataError):
    """The covariance of the data is singular or badly conditioned.

    Examples
    --------
    >>> import numpy as np
    >>> from ililab.stats import check_covariance
    >>> try:
    ...     check_covariance(np.array([[1.0, 0.0], [0.0, 0.0]]), ["a", "b"])
    ... except SingularCovarianceError as error:
    ...     print(error)
    constant column 'b' (zero variance): remove it
    """


class UnknownLearnerError(UsageError):
    """No learner is registered under the requested name.

    Examples
    --------
    >>> from ililab.learners import get
    >>> try:
    ...     get("lingam")
    ... except UnknownLearnerError as error:
    ...     print(error.exit_code, str(error).split(";")[0])
    2 unknown learner 'lingam'
    """


class ParameterError(UsageError):
    """A learner parameter is unknown or has the wrong type or value.

    Examples
    --------
    >>> from ililab.learners import get
    >>> try:
    ...     get("grasp").validate_params({"depth": "deep"})
    ... except ParameterError as error:
    ...     print(error.exit_code, str(error).split(":")[:2])
    2 ["learner 'grasp'", " parameter 'depth'"]
    """


class OutputError(IlilabError):
    """An output file cannot be written.

    Examples
    --------
    >>> import os, tempfile
    >>> from ililab.files import atomic_write
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     try:
    ...         atomic_write(os.path.join(tmp, "no", "such", "dir.txt"), "text")
    ...     except OutputError as error:
    ...         print(error.exit_code, str(error).endswith("does not exist"))
    1 True
    """

    exit_code = 1


class EngineError(IlilabError):
    """The engine cannot run: an unreachable scheduler, a worker pool that died.

    Examples
    --------
    >>> err = EngineError("a worker process died; rerun, or lower --jobs if memory ran out")
    >>> isinstance(err, IlilabError), err.exit_code  # a one-line message, not a traceback
    (True, 1)
    """

    exit_code = 1


class IlilabWarning(UserWarning):
    """Something the user should know about the result (shown once on stderr by the CLI).

    A warning, not an error: the result is still computed.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("3 columns are constant", IlilabWarning)
    >>> [(w.category.__name__, str(w.message)) for w in caught]
    [('IlilabWarning', '3 columns are constant')]
    """
