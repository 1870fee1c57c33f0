"""The ``boss`` learner: graph API, parameters, knowledge, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ililab
from ililab.dataset import Dataset
from ililab.errors import DataError
from ililab.knowledge import Knowledge
from ililab.learners import get
from ililab.metrics import shd
from ililab.scores.bic import BICScore
from ililab.simulate import simulate_linear_sem


@pytest.fixture(scope="module")
def sem8():
    return simulate_linear_sem(8, 20000, expected_degree=2.0, seed=5)


def test_recovers_true_cpdag_and_records_score(sem8):
    graph = ililab.infer_graph(sem8.data, learner="boss", seed=0)
    assert shd(graph, sem8.true_graph) == 0
    data = Dataset.from_array(sem8.data)
    truth = BICScore(data.covariance, data.n_samples, 4.0).score_dag(sem8.weights != 0)
    assert graph.meta["score"] == pytest.approx(truth, rel=1e-9)
    assert graph.meta["learner"] == "boss" and graph.meta["params"]["restarts"] is None
    search = graph.meta["search"]
    assert search["stopped_by"] == "hits" and search["chains_at_best"] == 3
    assert all(e.stability == 1.0 for e in graph.edges)  # an easy optimum: every near-optimal restart agrees


def test_same_graph_as_causallearn_grasp_reference(sem8):
    ours = ililab.infer_graph(sem8.data, learner="boss", seed=1)
    ref = ililab.infer_graph(sem8.data, learner="cl-grasp", seed=1)
    assert shd(ours, ref) == 0


def test_lambda_alias_and_dag_output(sem8):
    graph = ililab.infer_graph(sem8.data, learner="boss", graph="dag", **{"lambda": 1.5})
    assert graph.meta["params"]["penalty"] == 3.0 and graph.meta["params"]["lambda"] == 1.5
    assert all(e.directed for e in graph.edges) and graph.is_acyclic()


def test_weights_are_standardised_coefficients(sem8):
    graph = ililab.infer_graph(sem8.data, learner="boss", graph="dag")
    data = Dataset.from_array(sem8.data)
    child = max(data.names, key=lambda n: len(graph.parents(n)))
    parents = sorted(graph.parents(child), key=data.names.index)
    x = (sem8.data - sem8.data.mean(0)) / sem8.data.std(0)
    cols = [data.names.index(n) for n in parents]
    beta = np.linalg.lstsq(x[:, cols], x[:, data.names.index(child)], rcond=None)[0]
    got = [graph.edge(p, child).weight for p in parents]
    np.testing.assert_allclose(got, beta, atol=1e-9)


def test_required_edges_in_a_cycle_are_a_data_error(sem8):
    data = Dataset.from_array(sem8.data)
    with pytest.raises(DataError, match="form a cycle"):
        get("boss")().fit(data, Knowledge(required=[("x0", "x1"), ("x1", "x2"), ("x2", "x0")]))


def test_cli_every_builtin_learner_gives_the_same_json_shape(tmp_path, run_cli, sem8):
    path = tmp_path / "x.npy"
    np.save(path, sem8.data[:1000])
    shapes = set()
    for learner in ("grasp", "boss", "pc", "ges", "cl-grasp"):
        result = run_cli("infer-graph", path, "--learner", learner, "--seed", "2")
        assert result.code == 0, result.err
        doc = json.loads(result.out)
        assert doc["meta"]["learner"] == learner and doc["edges"]
        assert {"params", "n_samples", "transform", "ililab_version"} <= set(doc["meta"])
        node_keys = {tuple(sorted(n)) for n in doc["nodes"]}
        edge_keys = {tuple(sorted(e)) for e in doc["edges"]}
        shapes.add((tuple(sorted(doc)), tuple(sorted(node_keys)), tuple(sorted(edge_keys))))
    assert len(shapes) == 1


def test_cli_param_validation(tmp_path, run_cli, sem8):
    path = tmp_path / "x.npy"
    np.save(path, sem8.data[:500])
    result = run_cli("infer-graph", path, "--learner", "boss", "--param", "restarts=0")
    assert result.code == 2 and "parameter 'restarts'" in result.err and result.out == ""
    result = run_cli("infer-graph", path, "--learner", "boss", "--param", "depth=3")
    assert result.code == 2 and "unknown parameter 'depth'" in result.err
    result = run_cli("infer-graph", path, "--learner", "boss", "-p", "restarts=2", "-p", "graph=dag")
    assert result.code == 0 and json.loads(result.out)["meta"]["params"]["restarts"] == 2
