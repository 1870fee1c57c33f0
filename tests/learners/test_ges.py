"""The ``ges`` learner (native GES) and its reference ``cl-ges``: registry, contract, knowledge, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ililab.dataset import Dataset
from ililab.errors import DataError, ParameterError
from ililab.graph import DependencyGraph
from ililab.knowledge import Knowledge
from ililab.learners import check_learner, get
from ililab.learners.ges import GESLearner
from ililab.simulate import simulate_linear_sem


@pytest.fixture(scope="module")
def sem():
    sim = simulate_linear_sem(8, 5000, 2.0, seed=3)
    return sim, Dataset.from_array(sim.data)


def test_registry_names_native_and_reference():
    assert get("ges") is GESLearner and GESLearner.tags.supports_knowledge and GESLearner.tags.deterministic
    reference = get("cl-ges")
    assert reference.__module__ == "ililab.learners.causallearn" and not reference.tags.supports_knowledge


def test_conforms():
    assert check_learner(GESLearner)[-1] == "knowledge"


def test_penalty_lambda_and_meta(sem):
    _, data = sem
    graph = GESLearner().fit(data, params={"lambda": 1.5})
    assert graph.meta["params"]["penalty"] == 3.0 and graph.meta["params"]["lambda"] == 1.5
    assert graph.meta["learner"] == "ges" and graph.meta["search"]["inserts"] > 0
    with pytest.raises(ParameterError, match="disagree"):
        GESLearner.validate_params({"penalty": 3.0, "lambda": 2.0})


def test_dag_output_is_a_dag_of_the_cpdag(sem):
    _, data = sem
    dag = GESLearner().fit(data, params={"graph": "dag"})
    cpdag = GESLearner().fit(data)
    assert all(e.directed for e in dag.edges) and dag.is_acyclic()
    assert {frozenset((e.source, e.target)) for e in dag.edges} == {frozenset((e.source, e.target)) for e in cpdag.edges}
    for e in cpdag.edges:
        if e.directed:
            assert dag.has_edge(e.source, e.target, directed=True)


def _compelled(graph: DependencyGraph):
    return next(e for e in graph.edges if e.directed)


def test_forbidden_orientation_of_a_compelled_edge_never_appears(sem):
    _, data = sem
    base = GESLearner().fit(data)
    e = _compelled(base)
    graph = GESLearner().fit(data, Knowledge(forbidden=[(e.source, e.target)]))
    found = graph.edge(e.source, e.target)
    assert found is None or (found.directed and found.source == e.target)
    assert graph.meta["score"] < base.meta["score"]


def test_required_edge_absent_from_the_free_answer_is_present_and_directed(sem):
    _, data = sem
    base = GESLearner().fit(data)
    names = data.names
    a, b = next((a, b) for a in names for b in names if a != b and base.edge(a, b) is None)
    graph = GESLearner().fit(data, Knowledge(required=[(b, a)]))
    assert graph.has_edge(b, a, directed=True)


def test_tiers_against_a_compelled_edge_are_respected(sem):
    _, data = sem
    base = GESLearner().fit(data)
    e = _compelled(base)
    tiers = [[e.target], [n for n in data.names if n != e.target]]  # the compelled child goes first
    graph = GESLearner().fit(data, Knowledge(tiers=tiers))
    for edge in graph.edges:
        if e.target in (edge.source, edge.target):
            assert edge.directed and edge.source == e.target, edge
    assert graph.edges


def test_knowledge_consistent_with_the_truth_keeps_the_truth():
    sim = simulate_linear_sem(8, 20000, 2.0, seed=4)
    data = Dataset.from_array(sim.data)
    order = [n for n in data.names if not sim.true_graph.parents(n)]  # sources of the true DAG first
    tiers = [order, [n for n in data.names if n not in order]]
    graph = GESLearner().fit(data, Knowledge(tiers=tiers))
    truth = {(e.source, e.target) for e in sim.true_graph.edges}
    assert {frozenset(t) for t in truth} == {frozenset((e.source, e.target)) for e in graph.edges}
    for e in graph.edges:
        if e.directed:
            assert (e.source, e.target) in truth


def test_required_cycle_is_a_data_error(sem):
    _, data = sem
    with pytest.raises(DataError, match="form a cycle"):
        GESLearner().fit(data, Knowledge(required=[("x0", "x1"), ("x1", "x2"), ("x2", "x0")]))


def test_cli_knowledge_and_max_parents(run_cli, tmp_path, sem):
    sim, _ = sem
    path = tmp_path / "x.npy"
    np.save(path, sim.data)
    knowledge = tmp_path / "k.json"
    knowledge.write_text(json.dumps({"required": [["x7", "x0"]], "forbidden": [["x0", "x1"], ["x1", "x0"]]}))
    result = run_cli("infer-graph", path, "--learner", "ges", "--knowledge", knowledge, "-p", "max_parents=2")
    assert result.code == 0, result.err
    graph = DependencyGraph.from_json(result.out)
    assert graph.has_edge("x7", "x0", directed=True) and graph.edge("x0", "x1") is None
    assert graph.meta["params"]["max_parents"] == 2
    cycle = tmp_path / "cycle.json"
    cycle.write_text(json.dumps({"required": [["x0", "x1"], ["x1", "x0"]]}))
    result = run_cli("infer-graph", path, "--learner", "ges", "--knowledge", cycle)
    assert result.code == 1 and "cycle" in result.err and result.out == ""
