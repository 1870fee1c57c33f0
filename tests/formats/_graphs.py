"""What the graph-format tests share: a graph with awkward names, round trips, a graph strategy."""

from __future__ import annotations

import warnings

from hypothesis import strategies as st

from ililab.graph import DependencyGraph, Edge, Node
from ililab.io import GRAPH_FORMATS

FULL_FORMATS = ["json", "gml", "graphml", "dot"]  # carry everything

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
