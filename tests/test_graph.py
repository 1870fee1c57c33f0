import json

import networkx as nx
import numpy as np
import pytest

from ililab.errors import GraphFormatError
from ililab.graph import FORMAT, DependencyGraph, Edge, Node, split_name


@pytest.fixture
def graph():
    nodes = [
        Node("Train (visual)", "Train", "visual"),
        Node("Motorcycle (audio)", "Motorcycle", "audio"),
        Node("Train (audio)", "Train", "audio"),
        Node("Frying (food) (audio)", "Frying (food)", "audio"),
    ]
    edges = [
        Edge("Train (visual)", "Motorcycle (audio)", "directed", 0.41, 0.93),
        Edge("Train (audio)", "Train (visual)", "undirected", -0.2),
        Edge("Frying (food) (audio)", "Motorcycle (audio)"),
    ]
    return DependencyGraph(nodes, edges, {"learner": "grasp", "params": {"depth": 3}})


def test_split_name_keeps_inner_parentheses():
    assert split_name("Frying (food) (audio)") == ("Frying (food)", "audio")
    assert split_name("Rodents/rats (visual)") == ("Rodents/rats", "visual")
    assert split_name("plain") == ("plain", None)


def test_queries(graph):
    assert graph.parents("Motorcycle (audio)") == ["Train (visual)", "Frying (food) (audio)"]
    assert graph.children("Train (visual)") == ["Motorcycle (audio)"]
    assert graph.neighbors("Train (visual)") == ["Motorcycle (audio)", "Train (audio)"]
    assert graph.undirected_neighbors("Train (audio)") == ["Train (visual)"]
    assert graph.has_edge("Motorcycle (audio)", "Train (visual)")
    assert not graph.has_edge("Motorcycle (audio)", "Train (visual)", directed=True)
    with pytest.raises(KeyError):
        graph.parents("nope")


def test_undirected_edges_are_canonical(graph):
    e = graph.edge("Train (visual)", "Train (audio)")
    # the undirected edge was given as audio -> visual; canonical order puts the earlier node first
    assert (e.source, e.target, e.kind) == ("Train (visual)", "Train (audio)", "undirected")


def test_adjacency(graph):
    a = graph.adjacency()
    assert a[0, 1] == 1 and a[1, 0] == 0
    assert a[0, 2] == 1 and a[2, 0] == 1
    w = graph.adjacency("weight")
    assert w[0, 1] == pytest.approx(0.41)
    assert np.isnan(w[3, 1])  # the Frying -> Motorcycle edge has no weight: NaN, not 1
    c = graph.adjacency("confidence")
    assert c[0, 1] == pytest.approx(0.93) and c[1, 0] == 0
    assert np.isnan(c[0, 2]) and np.isnan(c[2, 0]) and np.isnan(c[3, 1])  # no confidence: NaN, never 1.0
    assert c[1, 3] == 0  # no edge: 0
    with pytest.raises(ValueError, match="confidence"):
        graph.adjacency("confidnce")


def test_adjacency_confidence_without_bootstrap_is_all_nan():
    g = DependencyGraph(["a", "b", "c"], [Edge("a", "b", weight=0.3), Edge("b", "c", "undirected", weight=0.1)])
    c = g.adjacency("confidence")
    assert np.isnan(c[[0, 1, 2], [1, 2, 1]]).all()
    assert not np.isnan(c[[1, 0, 2], [0, 2, 0]]).any()


def test_meta_is_read_only_and_json_serialisable(graph):
    import copy
    import pickle

    from ililab.graph import FrozenDict

    assert isinstance(graph.meta, FrozenDict) and isinstance(graph.meta["params"], FrozenDict)
    assert json.loads(json.dumps(graph.meta)) == {"learner": "grasp", "params": {"depth": 3}}
    nested = DependencyGraph(["a"], [], {"runs": [{"score": 1.5}, {"score": 2}], "pair": (1, 2)})
    assert json.loads(json.dumps(nested.meta)) == {"runs": [{"score": 1.5}, {"score": 2}], "pair": [1, 2]}
    for change in (
        lambda m: m.__setitem__("learner", "boss"),
        lambda m: m.__delitem__("learner"),
        lambda m: m.update(learner="boss"),
        lambda m: m.setdefault("x", 1),
        lambda m: m.pop("learner"),
        lambda m: m.popitem(),
        lambda m: m.clear(),
        lambda m: m["params"].__setitem__("depth", 4),
    ):
        with pytest.raises(TypeError, match="read-only"):
            change(graph.meta)
    with pytest.raises(TypeError):
        graph.meta |= {"x": 1}
    with pytest.raises(AttributeError):
        nested.meta["runs"].append({})  # lists inside are tuples
    assert graph.meta == {"learner": "grasp", "params": {"depth": 3}}  # unchanged
    assert graph.with_meta(learner="boss").meta["learner"] == "boss"
    assert pickle.loads(pickle.dumps(graph.meta)) == graph.meta
    assert copy.deepcopy(graph).meta == graph.meta
    assert isinstance(pickle.loads(pickle.dumps(graph.meta)), FrozenDict)


def test_cross_modal_and_subgraph(graph):
    cross = graph.cross_modal_edges()
    expected = {("Train (visual)", "Motorcycle (audio)"), ("Train (visual)", "Train (audio)")}
    assert {(e.source, e.target) for e in cross} == expected
    audio = graph.subgraph(modalities=["audio"])
    assert audio.names == ["Motorcycle (audio)", "Train (audio)", "Frying (food) (audio)"]
    assert len(audio.edges) == 1
    with pytest.raises(KeyError):
        graph.subgraph(modalities=["smell"])


def test_json_round_trip_is_identical(graph):
    text = graph.to_json()
    again = DependencyGraph.from_json(text)
    assert again == graph
    assert again.to_json() == text
    assert json.loads(text)["format"] == FORMAT


def test_networkx_round_trip(graph):
    g = graph.to_networkx()
    assert isinstance(g, nx.DiGraph)
    assert g.has_edge("Train (audio)", "Train (visual)") and g.has_edge("Train (visual)", "Train (audio)")
    back = DependencyGraph.from_networkx(g)
    assert back == graph


def test_immutable(graph):
    with pytest.raises(AttributeError):
        graph.nodes = ()
    with pytest.raises(TypeError):
        graph.meta["learner"] = "x"


@pytest.mark.parametrize(
    "document, message",
    [
        ({"format": "other/v9", "nodes": [], "edges": []}, "unknown graph format"),
        ({"format": FORMAT, "nodes": [{"name": "a"}], "edges": [{"source": "a", "target": "b"}]}, "unknown node"),
        ({"format": FORMAT, "nodes": [{"name": "a"}, {"name": "a"}], "edges": []}, "duplicate node"),
        ({"format": FORMAT, "nodes": [{"name": "a"}], "edges": [{"source": "a", "target": "a"}]}, "self-loop"),
        ({"format": FORMAT, "nodes": [{"name": "a"}, {"name": "b"}],
          "edges": [{"source": "a", "target": "b", "kind": "sideways"}]}, "kind"),
        ({"format": FORMAT, "nodes": [{"name": "a"}, {"name": "b"}],
          "edges": [{"source": "a", "target": "b", "confidence": 1.5}]}, "confidence"),
        ({"format": FORMAT, "nodes": [{"name": 3}], "edges": []}, "name"),
        ({"format": FORMAT, "nodes": [{"name": "a"}, {"name": "b"}],
          "edges": [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}]}, "more than one edge"),
        ([], "JSON object"),
    ],
)
def test_malformed_documents(document, message):
    with pytest.raises(GraphFormatError, match=message):
        DependencyGraph.from_dict(document)


def test_malformed_json_text():
    with pytest.raises(GraphFormatError, match="not valid JSON"):
        DependencyGraph.from_json("{not json")
    with pytest.raises(GraphFormatError):
        DependencyGraph.from_json("[" * 100000)


def test_nan_weight_rejected():
    with pytest.raises(GraphFormatError, match="finite"):
        DependencyGraph(["a", "b"], [Edge("a", "b", weight=float("nan"))])


def test_numpy_values_become_plain(tmp_path):
    g = DependencyGraph(["a", "b"], [Edge("a", "b", weight=np.float32(0.5))], {"score": np.float64(-3.0)})
    assert type(g.edges[0].weight) is float
    assert json.loads(g.to_json())["meta"]["score"] == -3.0


def test_is_acyclic():
    g = DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("b", "c"), Edge("c", "a")])
    assert not g.is_acyclic()
    assert DependencyGraph(["a", "b"], [Edge("a", "b")]).is_acyclic()
