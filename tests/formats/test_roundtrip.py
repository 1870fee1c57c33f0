"""Every graph format through ililab.io: round trips (property-based), malformed input, networkx's files."""

from __future__ import annotations

import io

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ililab.errors import GraphFormatError
from ililab.formats import read_gml, read_graphml, write_adjacency_csv, write_gml, write_graphml
from ililab.graph import DependencyGraph, Edge
from ililab.io import GRAPH_FORMATS, graph_format_for, read_graph, write_graph

from ._graphs import FULL_FORMATS, as_sets, graphs, roundtrip, tricky_graph

# -- hand-built examples ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FULL_FORMATS)
def test_full_formats_keep_everything(fmt):
    graph = tricky_graph()
    back = roundtrip(graph, fmt)
    assert back == graph  # nodes in order, labels, modalities, edges, meta
    assert back.names == graph.names


@pytest.mark.parametrize("fmt", ["gml", "graphml", "dot", "csv", "adjacency-csv"])
def test_control_characters_are_refused_with_a_clear_error(fmt):
    graph = DependencyGraph(["bell\x07", "b"], [Edge("bell\x07", "b")])
    with pytest.raises(GraphFormatError, match="control character U\\+0007"):
        GRAPH_FORMATS[fmt][1](graph)


def test_formats_are_chosen_by_extension(tmp_path):
    graph = tricky_graph()
    for suffix, fmt in [(".gml", "gml"), (".graphml", "graphml"), (".dot", "dot"), (".gv", "dot"), (".csv", "csv")]:
        assert graph_format_for(f"g{suffix}") == fmt
        path = write_graph(graph, tmp_path / f"g{suffix}")
        back = read_graph(path)
        assert as_sets(back)[1] == as_sets(graph)[1]
    write_graph(graph, tmp_path / "adj.csv", format="adjacency-csv")
    assert set(read_graph(tmp_path / "adj.csv").names) == set(graph.names)  # the .csv reader sniffs a matrix


# -- property-based round trips -----------------------------------------------------------


@pytest.mark.parametrize("fmt", FULL_FORMATS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=graphs())
def test_property_full_formats_round_trip(fmt, graph):
    assert roundtrip(graph, fmt) == graph


# -- networkx reads our GML and GraphML, and we read its files ---------------------------


def test_networkx_reads_gml_and_graphml():
    graph = tricky_graph()
    readers = [(write_gml(graph), nx.parse_gml), (write_graphml(graph), lambda t: nx.read_graphml(io.BytesIO(t.encode())))]
    for text, read in readers:
        g = read(text)
        assert g.is_directed()
        assert set(g.nodes) - {"()", ()} == set(graph.names) - {"()"}  # networkx turns the name "()" into a tuple
        assert g.number_of_edges() == len(graph.edges)
        assert g.nodes["Frying (food) (audio)"]["modality"] == "audio"
        assert g.nodes["Frying (food) (audio)"]["class_label"] == "Frying (food)"
        assert g.edges["Frying (food) (audio)", "Rodents/rats (visual)"]["weight"] == -0.41


def test_networkx_written_files_are_read():
    g = nx.DiGraph()
    g.add_node("a b", modality="audio")
    g.add_edge("a b", "c/d", weight=0.5)
    g.add_edge("c/d", "e", confidence=0.7)
    g.add_edge("e", "c/d", confidence=0.7)  # opposite arcs: one undirected edge
    for text, read in [("\n".join(nx.generate_gml(g)), read_gml), ("\n".join(nx.generate_graphml(g)), read_graphml)]:
        back = read(text)
        assert back.node("a b").modality == "audio"
        assert back.edge("a b", "c/d").weight == 0.5
        assert back.edge("c/d", "e").kind == "undirected"


# -- malformed input: clean errors, never a crash -------------------------------------------

MALFORMED = {
    "gml": ["", "graph [", "graph [ node [ id 0 ] node [ id 0 ] ]", "graph [ edge [ source 0 target 1 ] ]",
            'graph [ directed 1 node [ id 0 label "a" ] edge [ source 0 target 0 ] ]',
            'graph [ node [ id 0 label "a" ] node [ id 1 label "b" ] edge [ source 0 target 1 weight "x" ] ]',
            'graph [ meta "{not json" ]', "\x00\x01", "[[[[[[[[[[" * 200],
    "graphml": ["", "<graphml", "<root/>", "<graphml/>", '<!DOCTYPE x [<!ENTITY a "b">]><graphml/>',
                '<graphml><graph><node/></graph></graphml>',
                '<graphml><graph><node id="a"/><edge source="a" target="b"/></graph></graphml>',
                '<graphml><key id="w" for="edge" attr.name="weight" attr.type="double"/><graph><node id="a"/>'
                '<node id="b"/><edge source="a" target="b"><data key="w">heavy</data></edge></graph></graphml>',
                '<graphml><graph><node id="a"><data key="nokey">1</data></node></graph></graphml>'],
    "dot": ["", "digraph {", "graph G { a -> }", 'digraph { "unterminated }', "digraph { a -> b } trailing",
            "digraph { a -> a }", "digraph { a -> b; a -> b }", 'digraph { a -> b [kind="sideways"] }',
            'digraph { a -> b [edge_weight="nan"] }', 'digraph { graph [ililab_meta="[1]"] }', "digraph { <unclosed }",
            "digraph {" + "{" * 5000 + "}" * 5000 + "}", "digraph { @ }"],
    "csv": ["", "a,b\n1,2\n", "source,target\n,b\n", "source,target,weight\na,b\n", "source,target,weight\na,b,x\n",
            "source,target\na,a\n", "source,target,kind\na,b,maybe\n", "source,target\na,b\nb,a\nb,a\n", "a\x00b"],
    "adjacency-csv": ["", ",a\nb,0\n", ",a,b\na,0,1\n", ",a,b\na,0,x\nb,0,0\n", ",a,b\na,1,0\nb,0,0\n", ",a,b\na,0,1\nc,0,0\n"],
}


@pytest.mark.parametrize("fmt,text", [(fmt, text) for fmt, texts in MALFORMED.items() for text in texts])
def test_malformed_input_gives_graph_format_error(fmt, text):
    reader = GRAPH_FORMATS[fmt][2]
    with pytest.raises(GraphFormatError):
        reader(text)


@pytest.mark.parametrize("fmt", ["gml", "graphml", "dot", "csv", "adjacency-csv"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_property_mutilated_files_never_crash(fmt, data):
    """Truncated or spliced files either parse or raise GraphFormatError, nothing else."""
    _, writer, reader = GRAPH_FORMATS[fmt]
    small = DependencyGraph(["a", "b (x)"], [Edge("a", "b (x)")])
    text = writer(tricky_graph()) if fmt != "adjacency-csv" else write_adjacency_csv(small)
    start = data.draw(st.integers(0, len(text)))
    stop = data.draw(st.integers(start, len(text)))
    junk = data.draw(st.text(max_size=5))
    try:
        result = reader(text[:start] + junk + text[stop:])
    except GraphFormatError:
        return
    assert isinstance(result, DependencyGraph)
