"""Graph file formats: round trips (property-based), other tools' files, malformed input."""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ililab.errors import GraphFormatError
from ililab.formats import (
    read_adjacency_csv,
    read_csv,
    read_dot,
    read_gml,
    read_graphml,
    write_adjacency_csv,
    write_csv,
    write_dot,
    write_gml,
    write_graphml,
)
from ililab.graph import DependencyGraph, Edge, Node
from ililab.io import GRAPH_FORMATS, graph_format_for, read_graph, write_graph

FULL_FORMATS = ["json", "gml", "graphml", "dot"]  # carry everything
ALL_FORMATS = [*FULL_FORMATS, "csv", "adjacency-csv"]

TRICKY = [
    Node("Frying (food) (audio)", "Frying (food)", "audio"),
    Node("Rodents/rats (visual)", "Rodents/rats", "visual"),
    Node('Quote "q", back\\slash & <tag> (audio)', 'Quote "q", back\\slash & <tag>', "audio"),
    Node("Caf\u00e9 \u4e2d\u6587 \U0001f600 (visual)", "Caf\u00e9 \u4e2d\u6587 \U0001f600", "visual"),
    Node("()"),
    Node("line\nbreak\ttab"),
    Node("# not a comment // nor this /* */ -> --"),
]


def tricky_graph() -> DependencyGraph:
    names = [n.name for n in TRICKY]
    edges = [
        Edge(names[0], names[1], "directed", -0.41, 0.93),
        Edge(names[2], names[3], "undirected", 1e-300, None),
        Edge(names[4], names[5], "directed", None, 0.0),
        Edge(names[6], names[0], "undirected", 12345.678, 1.0),
        Edge(names[3], names[5], "directed", 0.1, None),
    ]
    meta = {"learner": "grasp", "params": {"penalty": 4.0, "depth": 3, "seed": 0}, "note": 'a "quoted" \\ text', "n": None}
    return DependencyGraph(TRICKY, edges, meta)


def roundtrip(graph: DependencyGraph, fmt: str) -> DependencyGraph:
    _, writer, reader = GRAPH_FORMATS[fmt]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return reader(writer(graph))


def as_sets(graph: DependencyGraph) -> tuple[set, set]:
    """Nodes and edges regardless of node order (an undirected edge's ends are unordered)."""
    edges = {
        (e.source, e.target, e.kind, e.weight, e.confidence)
        if e.directed
        else (frozenset((e.source, e.target)), e.kind, e.weight, e.confidence)
        for e in graph.edges
    }
    return set(graph.nodes), edges


def expected_csv(graph: DependencyGraph) -> DependencyGraph:
    """What the edge-list CSV can carry: nodes re-parsed from names, edges, no meta."""
    return DependencyGraph([Node.from_name(n) for n in graph.names], graph.edges)


def expected_adjacency(graph: DependencyGraph) -> DependencyGraph:
    """What an adjacency matrix carries: names (parsed), kinds, weights if every edge has a nonzero one, not 1."""
    weights = [e.weight for e in graph.edges if e.weight != 0.0]
    binary = all(w is None or w == 1.0 for w in weights)
    edges = [
        Edge(e.source, e.target, e.kind, None if binary else (1.0 if e.weight is None else e.weight))
        for e in graph.edges
        if e.weight != 0.0
    ]
    return DependencyGraph([Node.from_name(n) for n in graph.names], edges)


# -- hand-built examples ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FULL_FORMATS)
def test_full_formats_keep_everything(fmt):
    graph = tricky_graph()
    back = roundtrip(graph, fmt)
    assert back == graph  # nodes in order, labels, modalities, edges, meta
    assert back.names == graph.names


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

NAME_CHARS = st.sampled_from(list("abcXYZ019 ,/()-_'\"&<>;#\\:=[]{}|.+*\n\t") + ["\u00e9", "\u4e2d", "\U0001f600"])


@st.composite
def graphs(draw) -> DependencyGraph:
    n = draw(st.integers(min_value=1, max_value=8))
    # names without surrounding whitespace: the CSV readers trim cells (hand-edited files)
    texts = st.text(NAME_CHARS, min_size=1, max_size=12).map(str.strip).filter(bool)
    raw = draw(st.lists(texts, min_size=n, max_size=n, unique=True))
    nodes = []
    for text in raw:
        modality = draw(st.sampled_from([None, "audio", "visual", "odd (mod)"]))
        name = text if modality is None else f"{text} ({modality})"
        nodes.append(Node(name, text if modality is not None else None, modality))
    names = [node.name for node in nodes]
    if len(set(names)) != len(names):  # a text may collide with another's "text (modality)"
        nodes = [Node(f"{i}:{node.name}", node.label, node.modality) for i, node in enumerate(nodes)]
        names = [node.name for node in nodes]
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs))) if pairs else []
    weights = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64))
    confidences = st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0))
    edges = []
    for i, j in chosen:
        if draw(st.booleans()):
            i, j = j, i
        kind = draw(st.sampled_from(["directed", "undirected"]))
        edges.append(Edge(names[i], names[j], kind, draw(weights), draw(confidences)))
    meta = draw(
        st.dictionaries(
            st.text(NAME_CHARS, max_size=5),
            st.one_of(
                st.none(), st.integers(-10, 10), st.floats(allow_nan=False, allow_infinity=False), st.text(NAME_CHARS, max_size=5)
            ),
            max_size=3,
        )
    )
    return DependencyGraph(nodes, edges, meta)


@pytest.mark.parametrize("fmt", FULL_FORMATS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=graphs())
def test_property_full_formats_round_trip(fmt, graph):
    assert roundtrip(graph, fmt) == graph


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


# -- other tools read our files ----------------------------------------------------------


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


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_pydot_parses_our_dot():
    pydot = pytest.importorskip("pydot")
    graphs_ = pydot.graph_from_dot_data(write_dot(tricky_graph()))
    assert graphs_ is not None and len(graphs_[0].get_edges()) == len(tricky_graph().edges)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_renders_our_dot(tmp_path):
    path = tmp_path / "g.dot"
    path.write_text(write_dot(tricky_graph()), encoding="utf-8")
    done = subprocess.run(["dot", "-Tsvg", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "<svg" in done.stdout and "Frying (food)" in done.stdout


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


def test_hand_written_dot_is_read():
    text = """
    /* a comment */
      # preprocessor line
    strict digraph G {
      node [modality="audio"];
      a -> b -> c [edge_weight=0.5];
      subgraph cluster_x { node [modality="visual"]; "d e":port:n; }
      a -> {d e} [dir=none];
      "x" + "y" [class_label=X];
      f -- g; // undirected
    }
    """
    g = read_dot(text)
    assert g.node("a").modality == "audio"
    assert g.node("d e").modality == "visual"
    assert g.node("xy").label == "X"
    assert g.edge("a", "b").weight == 0.5 and g.edge("b", "c").directed
    assert g.edge("a", "d").kind == "undirected" and g.edge("a", "e").kind == "undirected"
    assert g.node("d").modality == "audio"  # declared outside the cluster
    assert g.edge("f", "g").kind == "undirected"


def test_gephi_style_csv_is_read():
    g = read_csv("Source,Target,Type,Weight\nA (audio),B (visual),Undirected,2\nB (visual),C,Directed,\n")
    assert g.edge("A (audio)", "B (visual)").kind == "undirected"
    assert g.edge("A (audio)", "B (visual)").weight == 2.0
    assert g.edge("B (visual)", "C").weight is None


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
