"""Learner registry: built-in learners and those of the ``ililab.learners`` entry-point group."""

from __future__ import annotations

import warnings
from importlib import import_module
from importlib.metadata import entry_points

from ililab.errors import UnknownLearnerError
from ililab.learners.base import Learner, LearnerParams, LearnerTags

__all__ = ["Learner", "LearnerParams", "LearnerTags", "register", "get", "available", "check_learner", "DEFAULT_LEARNER"]

DEFAULT_LEARNER = "grasp"
ENTRY_POINT_GROUP = "ililab.learners"

# Built-ins are registered the same way plugins are, by import path, and loaded lazily
# so that `ililab learners` does not import causal-learn or compile Numba kernels.
_BUILTIN: dict[str, str] = {
    "grasp": "ililab.learners.grasp:GraspLearner",
    "boss": "ililab.learners.boss:BossLearner",
    "ges": "ililab.learners.ges:GESLearner",
    "pc": "ililab.learners.causallearn:PCLearner",
    "cl-grasp": "ililab.learners.causallearn:CLGraspLearner",
    "cl-ges": "ililab.learners.causallearn:CLGESLearner",
}
_registered: dict[str, type[Learner]] = {}
_plugins_loaded = False


def register(cls: type[Learner]) -> type[Learner]:
    """Register a learner class under ``cls.name`` (usable as a decorator).

    Examples
    --------
    >>> from ililab.learners import Learner, available, get
    >>> @register
    ... class Empty(Learner):
    ...     name = "empty-example"
    ...     description = "No edges (an example)."
    >>> get("empty-example") is Empty, "empty-example" in available()
    (True, True)
    >>> _ = _registered.pop("empty-example")  # leave the registry as it was
    """
    if not isinstance(cls, type) or not issubclass(cls, Learner) or not cls.name:
        raise TypeError("a learner is a Learner subclass with a non-empty `name`")
    _registered[cls.name] = cls
    return cls


def _load_path(path: str) -> type[Learner]:
    module, _, attr = path.partition(":")
    return getattr(import_module(module), attr)


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _BUILTIN or ep.name in _registered:
            continue
        try:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, Learner)):
                raise TypeError(f"{ep.value} is not an ililab Learner subclass")
            if cls.name != ep.name:
                raise TypeError(f"entry point {ep.name!r} names a learner called {cls.name!r}")
            register(cls)
        except Exception as error:  # a broken plugin must not break ililab
            warnings.warn(
                f"ililab: skipping learner plugin {ep.name!r} ({ep.value}): {error}",
                RuntimeWarning,
                stacklevel=2,
            )


def check_learner(cls: type[Learner]) -> list[str]:
    """Run the learner conformance suite on ``cls`` (see :mod:`ililab.learners.conformance`).

    Third-party learners call this in their own tests; it raises ``AssertionError`` naming the
    failed check and returns the names of the checks run.

    Examples
    --------
    >>> check_learner(get("ges"))
    ['class_contract', 'returns_graph', 'deterministic', 'acyclic', 'quiet', 'knowledge']
    """
    from ililab.learners.conformance import check_learner as run

    return run(cls)


def available() -> list[str]:
    """Names of every known learner: built-ins first, then plugins, each sorted.

    Examples
    --------
    >>> available()[:3]
    ['grasp', 'boss', 'ges']
    """
    _load_plugins()
    extra = sorted(n for n in _registered if n not in _BUILTIN)
    return list(_BUILTIN) + extra


def get(name: str) -> type[Learner]:
    """The learner class registered as ``name``.

    Raises
    ------
    UnknownLearnerError
        If no learner has that name; the message lists the known ones.

    Examples
    --------
    >>> get("grasp").name
    'grasp'
    >>> get("magic")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ililab.errors.UnknownLearnerError: unknown learner 'magic'; known learners: grasp, boss, ges, ...
    """
    if name in _registered:
        return _registered[name]
    if name in _BUILTIN:
        cls = _load_path(_BUILTIN[name])
        _registered[name] = cls
        return cls
    _load_plugins()
    if name in _registered:
        return _registered[name]
    raise UnknownLearnerError(f"unknown learner {name!r}; known learners: {', '.join(available())}")
