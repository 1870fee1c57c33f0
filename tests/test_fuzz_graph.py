"""The graph readers never crash: any input gives a valid graph or a clean GraphFormatError / DataError."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ililab.errors import DataError, GraphFormatError
from ililab.graph import FORMAT, DependencyGraph, Edge
from ililab.io import read_graph

_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_names = st.sampled_from(["a", "b", "c (audio)", "Frying (food) (visual)", "", 1, None])
_nodes = st.lists(
    st.fixed_dictionaries({"name": _names}, optional={"label": _json_values, "modality": _json_values}), max_size=4
)
_edges = st.lists(
    st.fixed_dictionaries(
        {"source": _names, "target": _names},
        optional={
            "kind": st.sampled_from(["directed", "undirected", "bidirected", 3]),
            "weight": _json_values,
            "confidence": st.floats(allow_nan=True) | st.none() | st.text(max_size=3),
        },
    ),
    max_size=5,
)
_documents = st.fixed_dictionaries(
    {
        "format": st.sampled_from([FORMAT, "ililab.graph/v2", None]),
        "nodes": _nodes | _json_values,
        "edges": _edges | _json_values,
    },
    optional={"meta": _json_values, "extra": _json_values},
)


def _parse(data):
    try:
        graph = DependencyGraph.from_json(data)
    except GraphFormatError as error:
        assert str(error) and "\n" not in str(error)
        return None
    assert isinstance(graph, DependencyGraph)
    assert DependencyGraph.from_json(graph.to_json()) == graph  # what is accepted round-trips
    return graph


@_SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes(data):
    _parse(data)


@_SETTINGS
@given(st.text(max_size=300))
def test_any_text(text):
    _parse(text)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents)
def test_graph_like_documents(document):
    _parse(json.dumps(document))


@_SETTINGS
@given(st.binary(max_size=200))
def test_read_graph_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "g.json"
    path.write_bytes(data)
    try:
        read_graph(path)
    except (GraphFormatError, DataError) as error:
        assert str(path) in str(error) or "no such file" in str(error)


def test_deeply_nested_json_is_a_clean_error():
    for text in ("[" * 100_000, '{"a":' * 50_000):
        assert _parse(text) is None


def test_a_valid_graph_survives():
    g = DependencyGraph(["a (audio)", "b (visual)"], [Edge("a (audio)", "b (visual)", confidence=0.5)])
    assert _parse(g.to_json().encode("utf-8")) == g
