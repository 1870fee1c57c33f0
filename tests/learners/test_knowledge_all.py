"""Background knowledge through the CLI, for every registered learner: a knowledge file,
--forbid-within-modality and --tiers-from-modalities on a soft-label (two-modality) graph.

A learner whose tags say it supports knowledge must honour it; the others must refuse it
with a usage error (exit 2) that mentions knowledge.
"""

from __future__ import annotations

import json

import pytest

from ililab.graph import DependencyGraph
from ililab.learners import available, get


def _cls(name):
    # A built-in that cannot be imported is a broken install or a bug: let the error fail the test.
    return get(name)


@pytest.fixture(scope="module")
def soft_dir(tmp_path_factory):
    from ililab.simulate import simulate_soft_labels

    sim = simulate_soft_labels(5, 3000, seed=4)
    return sim.save(tmp_path_factory.mktemp("soft"))


def _infer(run_cli, soft_dir, learner, *extra):
    result = run_cli(
        "infer-graph", soft_dir["logits"], "--names", soft_dir["names"], "--transform", "none",
        "--learner", learner, "--seed", "1", *extra,
    )
    return result, (DependencyGraph.from_json(result.out) if result.code == 0 else None)


def _refused(cls, result) -> bool:
    if cls.tags.supports_knowledge:
        assert result.code == 0, result.err
        return False
    assert result.code == 2 and "knowledge" in result.err and result.out == "", result.err
    return True


@pytest.mark.parametrize("learner", available())
def test_knowledge_file_forbidden_and_required(learner, run_cli, soft_dir, tmp_path):
    cls = _cls(learner)
    result, base = _infer(run_cli, soft_dir, learner)
    assert result.code == 0, result.err
    forbid = [[e.source, e.target] for e in base.edges[:3]]
    adjacent = {frozenset((e.source, e.target)) for e in base.edges}
    names = base.names
    require = [[a, b] for a in names for b in names if a < b and frozenset((a, b)) not in adjacent][:2]
    path = tmp_path / "knowledge.json"
    path.write_text(json.dumps({"forbidden": forbid, "required": require}))
    result, graph = _infer(run_cli, soft_dir, learner, "--knowledge", path)
    if _refused(cls, result):
        return
    for a, b in forbid:
        edge = graph.edge(a, b)
        assert edge is None or (edge.directed and edge.source == b), (a, b, edge)
    for a, b in require:
        assert graph.has_edge(a, b, directed=True), (a, b)
    assert [list(p) for p in graph.meta["knowledge"]["forbidden"]] == sorted(forbid)


@pytest.mark.parametrize("learner", available())
def test_forbid_within_modality(learner, run_cli, soft_dir):
    cls = _cls(learner)
    result, graph = _infer(run_cli, soft_dir, learner, "--forbid-within-modality")
    if _refused(cls, result):
        return
    assert graph.edges
    assert all(graph.node(e.source).modality != graph.node(e.target).modality for e in graph.edges)


@pytest.mark.parametrize("learner", available())
def test_tiers_from_modalities(learner, run_cli, soft_dir):
    cls = _cls(learner)
    result, graph = _infer(run_cli, soft_dir, learner, "--tiers-from-modalities", "visual,audio")
    if _refused(cls, result):
        return
    cross = graph.cross_modal_edges()
    assert cross
    for e in cross:
        assert e.directed and graph.node(e.source).modality == "visual", e


def test_bad_knowledge_file_is_a_data_error(run_cli, soft_dir, tmp_path):
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"forbidden": [["nope (audio)", "Class 1 (visual)"]]}))
    result, _ = _infer(run_cli, soft_dir, "boss", "--knowledge", path)
    assert result.code == 1 and "not in the data" in result.err
    path.write_text(json.dumps({"forbiden": []}))
    result, _ = _infer(run_cli, soft_dir, "boss", "--knowledge", path)
    assert result.code == 1 and "forbiden" in result.err
