"""Edge stability in the graph API, the files and `ililab show`; old ililab.graph/v1 readers still read it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import ililab
from ililab._graphdoc import _EdgeModel
from ililab.cli import cli
from ililab.errors import GraphFormatError
from ililab.graph import DependencyGraph, Edge
from ililab.io import read_graph, write_graph
from ililab.simulate import simulate_linear_sem

NODES = ["a (audio)", "b (visual)", "c (visual)"]


def _graph() -> DependencyGraph:
    edges = [Edge("a (audio)", "b (visual)", weight=0.5, stability=0.75), Edge("c (visual)", "b (visual)", "undirected")]
    return DependencyGraph(NODES, edges, {"learner": "grasp"})


def test_stability_lives_in_meta_and_round_trips():
    g = _graph()
    doc = g.to_dict()
    assert all("stability" not in e for e in doc["edges"])  # the v1 edge model forbids unknown fields
    for e in doc["edges"]:
        _EdgeModel.model_validate(e)
    assert doc["meta"]["edge_stability"] == [["a (audio)", "b (visual)", 0.75]]
    back = DependencyGraph.from_json(g.to_json())
    assert back == g and back.edge("a (audio)", "b (visual)").stability == 0.75
    assert "edge_stability" not in back.meta and back.edge("b (visual)", "c (visual)").stability is None
    # an undirected edge given in the other direction keeps its stability
    flipped = DependencyGraph(NODES, [Edge("c (visual)", "a (audio)", "undirected", stability=0.5)])
    assert flipped.edges[0].source == "a (audio)" and flipped.edges[0].stability == 0.5


@pytest.mark.parametrize("suffix", [".json", ".graphml", ".gml"])
def test_stability_survives_the_file_formats_with_meta(tmp_path, suffix):
    path = tmp_path / f"g{suffix}"
    write_graph(_graph(), path)
    assert read_graph(path).edge("a (audio)", "b (visual)").stability == 0.75


@pytest.mark.parametrize(
    "entries, message",
    [
        ("nope", "must be a list"),
        ([["a (audio)", "b (visual)"]], "each entry"),
        ([["a (audio)", "c (visual)", 0.5]], "no edge of the graph"),
        ([["a (audio)", "b (visual)", 1.5]], "stability must lie in"),
    ],
)
def test_bad_stability_entries_are_format_errors(entries, message):
    doc = _graph().to_dict()
    doc["meta"]["edge_stability"] = entries
    with pytest.raises(GraphFormatError, match=message):
        DependencyGraph.from_dict(doc)


def test_infer_graph_and_show_report_stability(tmp_path):
    sim = simulate_linear_sem(8, 3000, expected_degree=3.0, seed=2)
    graph = ililab.infer_graph(sim.data, names=sim.names, seed=1)
    assert graph.edges and all(0 < e.stability <= 1 for e in graph.edges)
    assert graph.meta["search"]["stopped_by"] in ("hits", "patience", "max_restarts")
    path = tmp_path / "g.json"
    write_graph(graph, path)
    assert json.loads(path.read_text())["meta"]["edge_stability"]
    out = CliRunner().invoke(cli, ["show", str(path)])
    assert out.exit_code == 0, out.output
    assert "stability 1.00" in out.output and "chains, stopped by" in out.output
