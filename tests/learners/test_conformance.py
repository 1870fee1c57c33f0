"""The conformance suite, run on every registered learner (built-in or plugin), one test per check."""

from __future__ import annotations

import pytest

from ililab.errors import ParameterError
from ililab.graph import DependencyGraph, Edge
from ililab.learners import Learner, LearnerParams, LearnerTags, available, check_learner, get
from ililab.learners.conformance import conformance_dataset, learner_checks


def _load(name: str) -> type[Learner]:
    # A built-in that cannot be imported is a broken install or a bug: let the error fail the test.
    return get(name)


CASES = [(name, check) for name in available() for check, _ in learner_checks(Learner)]


@pytest.mark.parametrize(("name", "check"), CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_registered_learner_conforms(name, check):
    cls = _load(name)
    dict(learner_checks(cls))[check]()


# -- the suite itself fails on learners that break the contract ----------------------------------


class _Chatty(Learner):
    name = "chatty-test"
    description = "prints, ignores knowledge while claiming support, random without a seed"
    tags = LearnerTags(output="dag", supports_knowledge=True)

    class Params(LearnerParams):
        seed: int = 0

    def fit(self, data, knowledge=None, params=None):
        self.validate_params(params)
        print("working...")
        names = data.names
        return DependencyGraph(data.nodes, [Edge(names[0], names[1]), Edge(names[1], names[2])], {})


def test_suite_catches_printing():
    with pytest.raises(AssertionError, match="chatty-test.*quiet.*working"):
        dict(learner_checks(_Chatty))["quiet"]()


def test_suite_catches_ignored_knowledge():
    with pytest.raises(AssertionError, match="failed knowledge: forbidden edge"):
        dict(learner_checks(_Chatty))["knowledge"]()


class _Cyclic(_Chatty):
    name = "cyclic-test"

    def fit(self, data, knowledge=None, params=None):
        n = data.names
        return DependencyGraph(data.nodes, [Edge(n[0], n[1]), Edge(n[1], n[2]), Edge(n[2], n[0])], {})


def test_suite_catches_cycles():
    with pytest.raises(AssertionError, match="acyclic: the directed edges contain a cycle"):
        dict(learner_checks(_Cyclic))["acyclic"]()


class _Unseeded(_Chatty):
    name = "unseeded-test"
    calls = 0

    def fit(self, data, knowledge=None, params=None):
        type(self).calls += 1
        n = data.names
        edges = [Edge(n[0], n[1])] if type(self).calls % 2 else [Edge(n[1], n[0])]
        return DependencyGraph(data.nodes, edges, {})


def test_suite_catches_nondeterminism():
    with pytest.raises(AssertionError, match="deterministic"):
        dict(learner_checks(_Unseeded))["deterministic"]()


class _Renaming(_Chatty):
    name = "renaming-test"

    def fit(self, data, knowledge=None, params=None):
        return DependencyGraph([f"v{i}" for i in range(len(data.names))], [], {})


def test_suite_catches_renamed_nodes():
    with pytest.raises(AssertionError, match="returns_graph: graph nodes"):
        dict(learner_checks(_Renaming))["returns_graph"]()


class _NoDefault(Learner):
    name = "nodefault-test"
    description = "a parameter without a default"

    class Params(LearnerParams):
        k: int


def test_suite_catches_params_without_defaults():
    with pytest.raises(AssertionError, match=r"class_contract: parameters without a default: \['k'\]"):
        check_learner(_NoDefault)


def test_check_learner_runs_every_check_on_a_conforming_learner():
    assert check_learner(get("boss")) == ["class_contract", "returns_graph", "deterministic", "acyclic", "quiet", "knowledge"]


def test_conformance_dataset_names_and_unknown_parameter():
    data = conformance_dataset()
    assert data.names[0] == "Frying (food) (audio)" and data.nodes[0].modality == "audio"
    with pytest.raises(ParameterError):
        get("boss").validate_params({"no_such": 1})
