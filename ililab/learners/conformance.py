"""The learner conformance suite: checks every learner, built-in or plugin, must pass.

Like scikit-learn's ``check_estimator``: a third-party learner calls :func:`check_learner` in
its own tests::

    from ililab.learners.conformance import check_learner

    def test_my_learner_conforms():
        check_learner(MyLearner)

or parametrises over :func:`learner_checks` to see each check as its own test. A failed check
raises :class:`AssertionError` naming the learner and the check.

The checks
----------
* ``class_contract`` — a non-empty ``name`` without spaces, a one-line ``description``,
  :class:`~ililab.learners.LearnerTags`, a ``Params`` model whose every field has a default,
  unknown parameters rejected with :class:`~ililab.errors.ParameterError`.
* ``returns_graph`` — ``fit`` returns a :class:`~ililab.graph.DependencyGraph` on exactly the
  data's nodes, in column order; names with spaces, slashes and parentheses round-trip, and so
  does the graph through its JSON form.
* ``deterministic`` — with the same parameters (and seed) two fits give the same graph
  (skipped when ``tags.deterministic`` is False).
* ``acyclic`` — the directed edges form no cycle; with ``tags.output == "dag"`` every edge is
  directed.
* ``quiet`` — nothing is written to stdout (Python-level or file-descriptor level).
* ``knowledge`` — with ``tags.supports_knowledge``: a forbidden edge never appears (neither
  directed that way nor undirected), a required edge always appears directed, no edge points
  from a later tier to an earlier one; without it: non-empty knowledge is refused with a
  :class:`~ililab.errors.UsageError` that mentions knowledge. An empty
  :class:`~ililab.knowledge.Knowledge` is accepted by every learner.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from functools import partial

import numpy as np

from ililab.dataset import Dataset
from ililab.errors import ParameterError, UsageError
from ililab.graph import DependencyGraph
from ililab.knowledge import Knowledge
from ililab.learners.base import Learner, LearnerParams, LearnerTags

__all__ = ["check_learner", "learner_checks", "conformance_dataset"]

#: Names that exercise node naming: spaces, slashes, parentheses, modalities.
NAMES = (
    "Frying (food) (audio)",
    "Rodents/rats (audio)",
    "Train horn (audio)",
    "Frying (food) (visual)",
    "Rodents/rats (visual)",
    "Train horn (visual)",
)


def conformance_dataset(seed: int = 7, n: int = 3000) -> Dataset:
    """The small data every check runs on: a linear-Gaussian chain-and-fork SEM over :data:`NAMES`.

    Edges (by index): 0 -> 1 -> 2, 0 -> 3, 3 -> 4, 1 -> 4, 2 -> 5; coefficients in [0.5, 0.9].

    Examples
    --------
    >>> data = conformance_dataset()
    >>> data.n_samples, len(data.names)
    (3000, 6)
    """
    rng = np.random.default_rng(seed)
    p = len(NAMES)
    weights = np.zeros((p, p))
    for a, b in ((0, 1), (1, 2), (0, 3), (3, 4), (1, 4), (2, 5)):
        weights[a, b] = rng.uniform(0.5, 0.9) * rng.choice([-1.0, 1.0])
    x = np.zeros((n, p))
    for j in range(p):  # indices are a topological order
        x[:, j] = x @ weights[:, j] + rng.normal(size=n)
    return Dataset.from_array(x, list(NAMES))


def _params(cls: type[Learner], **extra) -> LearnerParams:
    values = dict(extra)
    if "seed" not in cls.Params.model_fields:
        values.pop("seed", None)
    return cls.validate_params(values)


def _fit(cls: type[Learner], data: Dataset, knowledge: Knowledge | None = None, **params) -> DependencyGraph:
    graph = cls().fit(data, knowledge, _params(cls, **params))
    assert isinstance(graph, DependencyGraph), f"fit returned {type(graph).__name__}, not a DependencyGraph"
    return graph


def _fail(cls: type[Learner], check: str, message: str) -> AssertionError:
    return AssertionError(f"learner {getattr(cls, 'name', cls)!r} failed {check}: {message}")


def check_class_contract(cls: type[Learner]) -> None:
    """Name, description, tags and ``Params`` follow the contract.

    Examples
    --------
    >>> from ililab.learners import get
    >>> check_class_contract(get("ges"))  # passes: returns None; a failure raises AssertionError
    """
    if not (isinstance(cls, type) and issubclass(cls, Learner)):
        raise _fail(cls, "class_contract", "not a subclass of ililab.learners.Learner")
    if not isinstance(cls.name, str) or not cls.name or any(c.isspace() for c in cls.name):
        raise _fail(cls, "class_contract", f"name must be a non-empty string without spaces, got {cls.name!r}")
    if not isinstance(cls.description, str) or not cls.description.strip() or "\n" in cls.description.strip():
        raise _fail(cls, "class_contract", "description must be one non-empty line")
    if not isinstance(cls.tags, LearnerTags):
        raise _fail(cls, "class_contract", "tags must be a LearnerTags instance")
    if not (isinstance(cls.Params, type) and issubclass(cls.Params, LearnerParams)):
        raise _fail(cls, "class_contract", "Params must subclass ililab.learners.LearnerParams")
    missing = [k for k, f in cls.Params.model_fields.items() if f.is_required()]
    if missing:
        raise _fail(cls, "class_contract", f"parameters without a default: {missing}")
    cls.validate_params({})
    cls.param_table()
    try:
        cls.validate_params({"no_such_parameter_xyz": 1})
    except ParameterError:
        pass
    else:
        raise _fail(cls, "class_contract", "an unknown parameter was accepted (Params must forbid extras)")


def check_returns_graph(cls: type[Learner]) -> None:
    """``fit`` returns a graph on the data's nodes, and names survive a JSON round trip.

    Examples
    --------
    >>> from ililab.learners import get
    >>> check_returns_graph(get("ges"))  # passes: returns None; a failure raises AssertionError
    """
    data = conformance_dataset()
    graph = _fit(cls, data, seed=0)
    if graph.names != data.names:
        raise _fail(cls, "returns_graph", f"graph nodes {graph.names} differ from the data's {data.names}")
    if [n.modality for n in graph.nodes] != [n.modality for n in data.nodes]:
        raise _fail(cls, "returns_graph", "node modalities were not kept")
    again = DependencyGraph.from_json(graph.to_json())
    if again != graph or again.names != graph.names:
        raise _fail(cls, "returns_graph", "the graph does not survive to_json / from_json")


def check_deterministic(cls: type[Learner]) -> None:
    """The same parameters and seed give the same graph (edges and meta).

    Examples
    --------
    >>> from ililab.learners import get
    >>> check_deterministic(get("ges"))  # passes: returns None; a failure raises AssertionError
    """
    if not cls.tags.deterministic:
        return
    data = conformance_dataset()
    first = _fit(cls, data, seed=3).to_json()
    second = _fit(cls, data, seed=3).to_json()
    if first != second:
        raise _fail(cls, "deterministic", "two fits with seed 3 gave different graphs")


def check_acyclic(cls: type[Learner]) -> None:
    """Directed edges have no cycle; a learner promising a DAG returns only directed edges.

    Examples
    --------
    >>> from ililab.learners import get
    >>> check_acyclic(get("ges"))  # passes: returns None; a failure raises AssertionError
    """
    graph = _fit(cls, conformance_dataset(), seed=0)
    if not graph.is_acyclic():
        raise _fail(cls, "acyclic", "the directed edges contain a cycle")
    if cls.tags.output == "dag" and any(not e.directed for e in graph.edges):
        raise _fail(cls, "acyclic", "tags promise a DAG but the graph has undirected edges")


@contextlib.contextmanager
def _capture_stdout() -> Iterator[Callable[[], str]]:
    """Capture stdout at the Python level and at file descriptor 1; yields a getter."""
    buffer = io.StringIO()
    sys.stdout.flush()
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
        saved = os.dup(fd)
    except (OSError, ValueError, AttributeError):
        fd, saved = -1, -1
    with tempfile.TemporaryFile(mode="w+b") as sink:
        if saved >= 0:
            os.dup2(sink.fileno(), fd)
        text: list[str] = []
        try:
            with contextlib.redirect_stdout(buffer):
                yield lambda: "".join(text)
        finally:
            if saved >= 0:
                with contextlib.suppress(OSError, ValueError):
                    sys.__stdout__.flush()
                os.dup2(saved, fd)
                os.close(saved)
                sink.seek(0)
                text.append(sink.read().decode("utf-8", "replace"))
            text.insert(0, buffer.getvalue())


def check_quiet(cls: type[Learner]) -> None:
    """Nothing is printed to stdout during ``fit`` (stdout carries the graph in the CLI).

    Examples
    --------
    >>> from ililab.learners import get
    >>> check_quiet(get("ges"))  # passes: returns None; a failure raises AssertionError
    """
    data = conformance_dataset()
    with _capture_stdout() as printed:
        _fit(cls, data, seed=0)
    if printed():
        raise _fail(cls, "quiet", f"fit wrote to stdout: {printed()[:80]!r}")


def _violates_forbidden(graph: DependencyGraph, a: str, b: str) -> bool:
    """Whether ``a -> b`` is in the graph, directed that way or undirected."""
    edge = graph.edge(a, b)
    if edge is None:
        return False
    return (not edge.directed) or (edge.source == a and edge.target == b)


def check_knowledge(cls: type[Learner]) -> None:
    """Knowledge is honoured (forbidden, required, tiers), or refused with a clear usage error.

    Examples
    --------
    >>> from ililab.learners import get
    >>> check_knowledge(get("ges"))  # passes: returns None; a failure raises AssertionError
    """
    data = conformance_dataset()
    names = data.names
    base = _fit(cls, data, Knowledge(), seed=0)  # empty knowledge is always accepted
    forbidden = (names[0], names[1])  # an edge of the generating model
    if base.edges:
        e = base.edges[0]
        forbidden = (e.source, e.target)
    adjacent = {frozenset((e.source, e.target)) for e in base.edges}
    required = next(
        ((a, b) for i, a in enumerate(names) for b in names[i + 1 :] if frozenset((a, b)) not in adjacent),
        (names[5], names[0]),
    )
    tiers = [list(names[:3]), list(names[3:])]
    cases = [
        ("forbidden", Knowledge(forbidden=[forbidden])),
        ("required", Knowledge(required=[required])),
        ("tiers", Knowledge(tiers=tiers)),
    ]
    if not cls.tags.supports_knowledge:
        for what, knowledge in cases:
            try:
                _fit(cls, data, knowledge, seed=0)
            except UsageError as error:
                if "knowledge" not in str(error):
                    raise _fail(cls, "knowledge", f"refusal does not mention knowledge: {error}") from None
            else:
                raise _fail(cls, "knowledge", f"tags say no knowledge support, but {what} knowledge was accepted")
        return
    graph = _fit(cls, data, cases[0][1], seed=0)
    if _violates_forbidden(graph, *forbidden):
        raise _fail(cls, "knowledge", f"forbidden edge {forbidden[0]!r} -> {forbidden[1]!r} is in the graph")
    graph = _fit(cls, data, cases[1][1], seed=0)
    if not graph.has_edge(*required, directed=True):
        raise _fail(cls, "knowledge", f"required edge {required[0]!r} -> {required[1]!r} is missing")
    graph = _fit(cls, data, cases[2][1], seed=0)
    later = set(tiers[1])
    for e in graph.edges:
        crosses = (e.source in later) != (e.target in later)
        if crosses and (not e.directed or e.source in later):
            raise _fail(cls, "knowledge", f"edge {e.source!r} {e.kind} {e.target!r} breaks the tiers")


_CHECKS: tuple[tuple[str, Callable[[type[Learner]], None]], ...] = (
    ("class_contract", check_class_contract),
    ("returns_graph", check_returns_graph),
    ("deterministic", check_deterministic),
    ("acyclic", check_acyclic),
    ("quiet", check_quiet),
    ("knowledge", check_knowledge),
)


def learner_checks(cls: type[Learner]) -> Iterator[tuple[str, Callable[[], None]]]:
    """``(check name, zero-argument callable)`` for every check of ``cls``, in order.

    Examples
    --------
    >>> from ililab.learners import get
    >>> [name for name, _ in learner_checks(get("ges"))][:3]
    ['class_contract', 'returns_graph', 'deterministic']
    """
    for name, check in _CHECKS:
        yield name, partial(check, cls)


def check_learner(cls: type[Learner]) -> list[str]:
    """Run every conformance check on the learner class ``cls``.

    Returns
    -------
    list of str
        The names of the checks run (all passed).

    Raises
    ------
    AssertionError
        At the first failed check, naming the learner and the check.

    Examples
    --------
    >>> from ililab.learners import get
    >>> check_learner(get("boss"))
    ['class_contract', 'returns_graph', 'deterministic', 'acyclic', 'quiet', 'knowledge']
    """
    done = []
    for name, run in learner_checks(cls):
        run()
        done.append(name)
    return done
