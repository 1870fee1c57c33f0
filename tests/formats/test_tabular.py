"""CSV edge lists and adjacency matrices: what they keep, Gephi-style files."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from ililab.formats import read_adjacency_csv, read_csv, write_adjacency_csv, write_csv
from ililab.graph import DependencyGraph, Edge, Node

from ._graphs import as_sets, expected_adjacency, expected_csv, graphs, roundtrip, tricky_graph


def test_csv_keeps_edges_and_names():
    graph = tricky_graph()
    back = roundtrip(graph, "csv")
    assert as_sets(back) == as_sets(expected_csv(graph))
    assert back.node("Frying (food) (audio)") == Node("Frying (food) (audio)", "Frying (food)", "audio")
    assert dict(back.meta) == {}


def test_adjacency_csv_keeps_order_kinds_and_weights():
    names = ["Frying (food) (audio)", "Rodents/rats (visual)", "x, y"]
    graph = DependencyGraph(names, [Edge(names[0], names[1], "directed", -0.5), Edge(names[1], names[2], "undirected", 2.0)])
    back = roundtrip(graph, "adjacency-csv")
    assert back == graph.with_meta() or back == DependencyGraph(graph.nodes, graph.edges)
    binary = DependencyGraph(names, [Edge(names[2], names[0]), Edge(names[0], names[1], "undirected")])
    assert roundtrip(binary, "adjacency-csv") == binary


def test_adjacency_csv_warns_about_zero_weights():
    graph = DependencyGraph(["a", "b", "c"], [Edge("a", "b", weight=0.0), Edge("b", "c", weight=0.5)])
    with pytest.warns(UserWarning, match="weight 0"):
        text = write_adjacency_csv(graph)
    assert as_sets(read_adjacency_csv(text))[1] == {("b", "c", "directed", 0.5, None)}


def test_isolated_nodes_survive_csv():
    graph = DependencyGraph(["a", "b", "lonely (audio)"], [Edge("a", "b")])
    back = read_csv(write_csv(graph))
    assert set(back.names) == {"a", "b", "lonely (audio)"}
    assert back.node("lonely (audio)").modality == "audio"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=graphs())
def test_property_csv_round_trip(graph):
    back = roundtrip(graph, "csv")
    assert as_sets(back) == as_sets(expected_csv(graph))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=graphs())
def test_property_adjacency_csv_round_trip(graph):
    back = roundtrip(graph, "adjacency-csv")
    assert back.names == graph.names
    assert as_sets(back) == as_sets(expected_adjacency(graph))


def test_gephi_style_csv_is_read():
    g = read_csv("Source,Target,Type,Weight\nA (audio),B (visual),Undirected,2\nB (visual),C,Directed,\n")
    assert g.edge("A (audio)", "B (visual)").kind == "undirected"
    assert g.edge("A (audio)", "B (visual)").weight == 2.0
    assert g.edge("B (visual)", "C").weight is None

