"""Hostile graph files: entity declarations, size limits checked before building, linear DOT
parsing, and error messages that never echo a megabyte of input."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from ililab.errors import MAX_LINE, DataError, GraphFormatError
from ililab.formats import read_dot, read_graphml
from ililab.formats._common import GraphLimits, graph_limits, limits
from ililab.graph import DependencyGraph, Edge
from ililab.io import GRAPH_FORMATS, read_graph, write_graph

# -- GraphML: no DTD, no entity expansion, even in an otherwise valid document ----------------

_VALID = (
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph edgedefault="directed">'
    '<node id="{a}"/><node id="b"/><edge source="{a}" target="b"/></graph></graphml>'
)


@pytest.mark.parametrize(
    "declaration",
    [
        '<!DOCTYPE graphml [<!ENTITY x "expanded">]>',
        '<!DOCTYPE graphml [<!ENTITY x0 "ha"><!ENTITY x "&x0;&x0;&x0;&x0;&x0;&x0;&x0;&x0;&x0;&x0;">]>',
        '<!doctype graphml [<!ENTITY x SYSTEM "file:///etc/hostname">]>',
    ],
    ids=["internal", "laughs", "external"],
)
def test_graphml_entity_declarations_are_refused(declaration):
    read_graphml(_VALID.format(a="a"))  # the same document without the declaration is fine
    with pytest.raises(GraphFormatError, match="DOCTYPE or ENTITY"):
        read_graphml('<?xml version="1.0"?>' + declaration + _VALID.format(a="&x;"))


# -- size limits, checked before the graph is built -------------------------------------------


def _graph(n_nodes: int, n_edges: int) -> DependencyGraph:
    names = [f"n{i}" for i in range(n_nodes)]
    return DependencyGraph(names, [Edge(names[i], names[i + 1]) for i in range(n_edges)])


@pytest.mark.parametrize("fmt", sorted(GRAPH_FORMATS))
def test_every_reader_honours_the_limits(tmp_path, fmt):
    path = tmp_path / f"g.{fmt}"
    write_graph(_graph(6, 5), path, format=fmt)
    assert len(read_graph(path, format=fmt).edges) == 5
    assert len(read_graph(path, format=fmt, max_nodes=6, max_edges=5).edges) == 5
    with pytest.raises(GraphFormatError, match="more than 5 nodes .*--max-nodes"):
        read_graph(path, format=fmt, max_nodes=5)
    with pytest.raises(GraphFormatError, match="more than 4 edges .*--max-edges"):
        read_graph(path, format=fmt, max_edges=4)
    assert graph_limits() == GraphLimits()  # the override ends with the call


# Each file is over the limit *and* malformed further on: the limit error shows that the
# reader counted before it parsed attributes or built nodes and edges.
_OVER_AND_BROKEN = {
    "json": '{"format": "ililab.graph/v1", "nodes": [{"name": "a"}, {"name": "b"}, {"name": "c"}],'
    ' "edges": [{"source": "a", "target": "zz"}]}',
    "graphml": '<graphml><key id="w" for="edge" attr.name="weight" attr.type="double"/><graph>'
    '<node id="a"/><node id="b"/><node id="c"/><edge source="a" target="b"><data key="w">x</data></edge>'
    "</graph></graphml>",
    "gml": 'graph [ node [ id 0 label "a" ] node [ id 1 label "b" ] node [ id 2 label "c" ]'
    ' edge [ source 0 target 1 weight "x" ] ]',
    "dot": 'digraph { a; b; c; a -> b [edge_weight="x"] }',
}


@pytest.mark.parametrize("fmt", sorted(_OVER_AND_BROKEN))
def test_limits_are_checked_before_building(tmp_path, fmt):
    path = tmp_path / f"g.{fmt}"
    path.write_text(_OVER_AND_BROKEN[fmt])
    with pytest.raises(GraphFormatError) as broken:
        read_graph(path, format=fmt)
    assert "(the limit)" not in str(broken.value)  # malformed further on
    with pytest.raises(GraphFormatError, match="more than 2 nodes"):
        read_graph(path, format=fmt, max_nodes=2)


def _fan_out(k: int) -> str:
    left = " ".join(f"a{i}" for i in range(k))
    right = " ".join(f"b{i}" for i in range(k))
    return f"digraph {{ {{{left}}} -> {{{right}}} }}"


def test_dot_fan_out_is_refused_before_its_edges_are_made():
    text = _fan_out(1500)  # 15.8 KB describing 2,250,000 edges
    tracemalloc.start()
    try:
        with pytest.raises(GraphFormatError, match="more than 250000 edges"):
            read_dot(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, peak  # the tokens of 3,000 names, not 2.25 M edge tuples
    with limits(max_edges=10_000):
        assert len(read_dot(_fan_out(100)).edges) == 10_000


def test_dot_node_limit():
    with limits(max_nodes=3), pytest.raises(GraphFormatError, match="more than 3 nodes"):
        read_dot("digraph { a; b; c; d }")


def test_dot_parsing_is_linear():
    # 40,000 node statements: 7 s on an idle machine with the quadratic member lists of
    # before, 0.3 s now (1.2 s measured with the machine loaded); the bound leaves room for
    # load and still fails the quadratic version.
    text = "digraph {\n" + "".join(f"  n{i};\n" for i in range(40_000)) + "  subgraph { s0; s1 }\n}\n"
    start = time.perf_counter()
    graph = read_dot(text)
    seconds = time.perf_counter() - start
    assert len(graph.nodes) == 40_002 and graph.names[-1] == "s1"
    assert seconds < 4.0, seconds


def test_subgraph_members_keep_their_order_and_include_edge_endpoints():
    # the same edges, in the same order, as the reader gave before its member lists became dictionaries
    graph = read_dot("digraph { {x; y -> z} -> w; subgraph s { p -> q; r } -> {x} }")
    assert [(e.source, e.target) for e in graph.edges] == [
        ("x", "w"), ("y", "z"), ("y", "w"), ("z", "w"), ("p", "x"), ("p", "q"), ("q", "x"), ("r", "x")
    ]
    assert graph.names == ["x", "y", "z", "w", "p", "q", "r"]


def test_cli_max_edges_override(run_cli, tmp_path):
    path = tmp_path / "fan.dot"
    path.write_text(_fan_out(30))  # 900 edges
    refused = run_cli("show", path, "--max-edges", "899")
    assert refused.code == 1 and "more than 899 edges" in refused.err and "--max-edges" in refused.err
    assert run_cli("show", path, "--max-edges", "900").code == 0
    out = tmp_path / "fan.json"
    assert run_cli("convert", path, out, "--max-edges", "900").code == 0
    assert run_cli("convert", out, tmp_path / "again.gml", "--max-nodes", "59").code == 1
    assert run_cli("plot", out, "-o", tmp_path / "fan.png", "--max-edges", "10").code == 1


# -- messages quote input, clipped -----------------------------------------------------------


def test_a_huge_value_is_not_echoed(run_cli, tmp_path):
    path = tmp_path / "w.dot"
    path.write_text('digraph { a -> b [edge_weight="' + "9" * 1_000_000 + 'x"]; }')
    result = run_cli("convert", path, tmp_path / "w.json")
    assert result.code == 1 and "weight must be a number" in result.err
    assert "(1000001 characters)" in result.err
    assert max(len(line) for line in result.err.splitlines()) <= MAX_LINE


def test_no_error_message_line_is_longer_than_the_limit():
    message = str(DataError("x" * 10_000 + "\n" + "short"))
    assert [len(line) for line in message.splitlines()] == [MAX_LINE, 5]


@pytest.mark.parametrize(
    "text",
    ["digraph { " + "a" * 100_000 + " -> }", "digraph { a -> b [kind=" + "k" * 100_000 + "] }",
     "graph [ node [ id 0 label " + '"' + "n" * 100_000 + '"' + " ] node [ id 0 ] ]"],
)
def test_parse_errors_quote_at_most_a_clip(tmp_path, text):
    fmt = "gml" if text.startswith("graph [") else "dot"
    path = tmp_path / f"g.{fmt}"
    path.write_text(text)
    with pytest.raises(DataError) as caught:
        read_graph(path)
    assert len(str(caught.value)) <= MAX_LINE
