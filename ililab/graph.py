"""The stable graph API: :class:`Node`, :class:`Edge` and :class:`DependencyGraph`.

A :class:`DependencyGraph` is immutable. Edges are kept in a canonical order
(by the position of their source, then target, in ``nodes``) and an undirected
edge always has its source before its target, so two graphs with the same
content compare equal and serialise to the same bytes.

The serialised form is the JSON document ``ililab.graph/v1``::

    {"format": "ililab.graph/v1",
     "nodes": [{"name": "Train (visual)", "label": "Train", "modality": "visual"}],
     "edges": [{"source": "Train (visual)", "target": "Motorcycle (audio)",
                "kind": "directed", "weight": 0.41, "confidence": 0.93}],
     "meta": {"learner": "grasp", ...}}

It is validated with pydantic when read; an unknown ``format``, a dangling
edge, a duplicate node or a self-loop is a :class:`~ililab.errors.GraphFormatError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np

__all__ = ["FORMAT", "Node", "Edge", "DependencyGraph", "FrozenDict", "split_name", "join_name"]

FORMAT = "ililab.graph/v1"
EdgeKind = Literal["directed", "undirected"]

_MODALITY_SUFFIX = re.compile(r"^(?P<label>.*\S)\s+\((?P<modality>[^()]+)\)$")


def split_name(name: str) -> tuple[str, str | None]:
    """Split ``"Class (modality)"`` into ``("Class", "modality")``.

    Only the last parenthesised group is taken as the modality, so class names
    with parentheses of their own survive: ``"Frying (food) (audio)"`` gives
    ``("Frying (food)", "audio")``. A name without such a suffix gives
    ``(name, None)``.

    Examples
    --------
    >>> split_name("Train horn (visual)")
    ('Train horn', 'visual')
    >>> split_name("x0")
    ('x0', None)
    """
    match = _MODALITY_SUFFIX.match(name)
    if match is None:
        return name, None
    return match.group("label"), match.group("modality")


def join_name(label: str, modality: str | None) -> str:
    """Inverse of :func:`split_name`: ``("Train", "visual")`` -> ``"Train (visual)"``.

    Examples
    --------
    >>> join_name("Train", "visual")
    'Train (visual)'
    """
    return label if modality is None else f"{label} ({modality})"


@dataclass(frozen=True)
class Node:
    """A variable of the graph, typically one soft-label column.

    Parameters
    ----------
    name : str
        Unique name, e.g. ``"Train (visual)"``.
    label : str, optional
        The class label without the modality, e.g. ``"Train"``.
    modality : str, optional
        The modality block the column belongs to, e.g. ``"visual"``.

    Examples
    --------
    >>> Node.from_name("Frying (food) (audio)")
    Node(name='Frying (food) (audio)', label='Frying (food)', modality='audio')
    """

    name: str
    label: str | None = None
    modality: str | None = None

    @classmethod
    def from_name(cls, name: str) -> Node:
        """Build a node whose label and modality are parsed from ``name``.

        Examples
        --------
        >>> Node.from_name("Train (visual)").label, Node.from_name("x0").label
        ('Train', None)
        """
        label, modality = split_name(name)
        return cls(name=name, label=label if modality is not None else None, modality=modality)


@dataclass(frozen=True)
class Edge:
    """An edge between two nodes, named by node name.

    Parameters
    ----------
    source, target : str
        Node names. For an undirected edge the order carries no meaning.
    kind : {"directed", "undirected"}
        ``"undirected"`` means the learner could not orient the edge (CPDAG).
    weight : float, optional
        The learner's strength of the edge, e.g. a standardised regression coefficient.
    confidence : float, optional
        Bootstrap frequency of the edge, in [0, 1].
    stability : float, optional
        Fraction of the search's near-optimal restarts whose graph links the two nodes, in
        [0, 1] (the native order searches set it; see ``docs/grasp.md``). Stored in JSON as
        ``meta.edge_stability``, so ``ililab.graph/v1`` readers that do not know it still read
        the file.

    Examples
    --------
    >>> Edge("a", "b", weight=0.4).directed, Edge("a", "b", "undirected").directed
    (True, False)
    """

    source: str
    target: str
    kind: EdgeKind = "directed"
    weight: float | None = None
    confidence: float | None = None
    stability: float | None = None

    @property
    def directed(self) -> bool:
        """Whether the edge is oriented from ``source`` to ``target``.

        Examples
        --------
        >>> Edge("a", "b").directed, Edge("a", "b", "undirected").directed
        (True, False)
        """
        return self.kind == "directed"


# The edges' stability travels in meta under this key, as [source, target, value] triples in edge
# order: the v1 edge model forbids unknown fields, so a new edge field would break older readers.
STABILITY_KEY = "edge_stability"


class FrozenDict(dict):
    """A read-only ``dict``: what :attr:`DependencyGraph.meta` holds (nested mappings too).

    It is a ``dict`` subclass, so ``json.dumps(graph.meta)`` and ``dict(graph.meta)``
    work as for any dict, but every method that would change it raises ``TypeError``;
    lists inside are tuples. ``copy.copy``/``deepcopy`` and pickling give a FrozenDict again.

    Examples
    --------
    >>> meta = FrozenDict({"learner": "grasp", "params": FrozenDict({"seed": 0})})
    >>> import json; json.dumps(meta)
    '{"learner": "grasp", "params": {"seed": 0}}'
    >>> meta["learner"] = "boss"
    Traceback (most recent call last):
    TypeError: graph meta is read-only; use graph.with_meta(learner=...) for a changed copy
    """

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        key = f"{args[0]}=..." if args and isinstance(args[0], str) else "key=value"
        raise TypeError(f"graph meta is read-only; use graph.with_meta({key}) for a changed copy")

    __setitem__ = __delitem__ = _read_only  # type: ignore[assignment]
    update = setdefault = pop = popitem = clear = __ior__ = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict) -> FrozenDict:
        return self

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


@dataclass(frozen=True, eq=False)
class DependencyGraph:
    """An immutable directed / partially directed graph over named nodes.

    Parameters
    ----------
    nodes : sequence of Node or str
        The variables, in data-column order. Strings are parsed with
        :meth:`Node.from_name`.
    edges : iterable of Edge
        At most one edge per pair of nodes; no self-loops.
    meta : mapping, optional
        Provenance: learner, parameters, score, transform, version, ... Stored as a
        read-only :class:`FrozenDict` (JSON-safe values, lists as tuples):
        ``json.dumps(graph.meta)`` works, changing it raises ``TypeError``
        (:meth:`with_meta` makes a changed copy).

    Examples
    --------
    >>> g = DependencyGraph(["a (audio)", "b (visual)", "c (visual)"],
    ...                     [Edge("c (visual)", "b (visual)", "undirected"), Edge("a (audio)", "b (visual)")])
    >>> g
    DependencyGraph(3 nodes, 2 edges: 1 directed, 1 undirected)
    >>> [(e.source, e.target) for e in g.edges]  # canonical order; the undirected edge turned
    [('a (audio)', 'b (visual)'), ('b (visual)', 'c (visual)')]
    """

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, nodes: Sequence[Node | str], edges: Iterable[Edge] = (), meta: Mapping[str, Any] | None = None) -> None:
        from ililab._graphcheck import canonical_edges, freeze, json_safe, node_index

        node_tuple = tuple(n if isinstance(n, Node) else Node.from_name(n) for n in nodes)
        meta = dict(meta or {})
        if STABILITY_KEY in meta:  # a graph read back from a file (see to_dict)
            from ililab._graphdoc import attach_stability

            edges = attach_stability(list(edges), meta, STABILITY_KEY)
        index = node_index(node_tuple)  # checks the names; the edges are checked against it
        object.__setattr__(self, "nodes", node_tuple)
        object.__setattr__(self, "edges", canonical_edges(edges, index, Edge))
        object.__setattr__(self, "meta", freeze(json_safe(meta), FrozenDict))
        object.__setattr__(self, "_index", index)

    # -- basic queries ------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        """Node names in column order.

        Examples
        --------
        >>> DependencyGraph(["b", "a (audio)"]).names
        ['b', 'a (audio)']
        """
        return [n.name for n in self.nodes]

    @property
    def modalities(self) -> list[str]:
        """The distinct modalities, in order of first appearance.

        Examples
        --------
        >>> DependencyGraph(["a (visual)", "b (audio)", "c (visual)", "d"]).modalities
        ['visual', 'audio']
        """
        return list(dict.fromkeys(n.modality for n in self.nodes if n.modality is not None))

    def __len__(self) -> int:
        return len(self.nodes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DependencyGraph):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.nodes, self.edges))

    def __repr__(self) -> str:
        n_dir, n = sum(e.directed for e in self.edges), len(self.edges)
        return f"DependencyGraph({len(self.nodes)} nodes, {n} edges: {n_dir} directed, {n - n_dir} undirected)"

    def index(self, name: str) -> int:
        """Position of node ``name`` in :attr:`nodes`.

        Examples
        --------
        >>> DependencyGraph(["a", "b"]).index("b")
        1
        """
        try:
            return self._index[name]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(f"no node named {name!r}") from None

    def node(self, name: str) -> Node:
        """The :class:`Node` called ``name``.

        Examples
        --------
        >>> DependencyGraph(["Train (visual)"]).node("Train (visual)")
        Node(name='Train (visual)', label='Train', modality='visual')
        """
        return self.nodes[self.index(name)]

    def edge(self, u: str, v: str) -> Edge | None:
        """The edge between ``u`` and ``v`` in either direction, or None.

        Examples
        --------
        >>> DependencyGraph(["a", "b", "c"], [Edge("a", "b", weight=0.5)]).edge("b", "a").weight
        0.5
        """
        self.index(u), self.index(v)
        for e in self.edges:
            if {e.source, e.target} == {u, v}:
                return e
        return None

    def has_edge(self, u: str, v: str, directed: bool = False) -> bool:
        """Whether ``u`` and ``v`` are adjacent (``directed=True``: whether ``u -> v``).

        Examples
        --------
        >>> g = DependencyGraph(["a", "b"], [Edge("a", "b")])
        >>> g.has_edge("b", "a"), g.has_edge("b", "a", directed=True), g.has_edge("a", "b", directed=True)
        (True, False, True)
        """
        e = self.edge(u, v)
        if e is None:
            return False
        if not directed:
            return True
        return e.kind == "directed" and e.source == u

    def parents(self, name: str) -> list[str]:
        """Nodes with a directed edge into ``name``, in node order.

        Examples
        --------
        >>> DependencyGraph(["a", "b", "c"], [Edge("b", "c"), Edge("a", "c")]).parents("c")
        ['a', 'b']
        """
        self.index(name)
        return [e.source for e in self.edges if e.directed and e.target == name]

    def children(self, name: str) -> list[str]:
        """Nodes ``name`` has a directed edge to, in node order.

        Examples
        --------
        >>> DependencyGraph(["a", "b", "c"], [Edge("a", "c"), Edge("a", "b"), Edge("c", "b", "undirected")]).children("a")
        ['b', 'c']
        """
        self.index(name)
        return [e.target for e in self.edges if e.directed and e.source == name]

    def undirected_neighbors(self, name: str) -> list[str]:
        """Nodes joined to ``name`` by an undirected (unoriented) edge.

        Examples
        --------
        >>> DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("c", "b", "undirected")]).undirected_neighbors("b")
        ['c']
        """
        self.index(name)
        out = [e.target for e in self.edges if not e.directed and e.source == name]
        out += [e.source for e in self.edges if not e.directed and e.target == name]
        return sorted(out, key=self.index)

    def neighbors(self, name: str) -> list[str]:
        """All nodes adjacent to ``name`` whatever the edge kind (networkx's sense).

        Examples
        --------
        >>> DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("c", "b", "undirected")]).neighbors("b")
        ['a', 'c']
        """
        self.index(name)
        out = {e.target for e in self.edges if e.source == name}
        out |= {e.source for e in self.edges if e.target == name}
        return sorted(out, key=self.index)

    def adjacency(self, weight: Literal["weight", "confidence"] | None = None) -> np.ndarray:
        """Adjacency matrix aligned with :attr:`nodes`.

        ``A[i, j]`` is nonzero when ``i -> j``; an undirected edge sets both
        ``A[i, j]`` and ``A[j, i]``. With ``weight=None`` entries are 0/1; with
        ``"weight"`` or ``"confidence"`` they are that edge attribute, 0 where
        there is no edge and NaN where an edge lacks the attribute (e.g. every
        confidence of a graph inferred without ``--bootstrap``), so a missing
        value is never mistaken for a measured one.

        Examples
        --------
        >>> g = DependencyGraph(["a", "b"], [Edge("a", "b", weight=0.5)])
        >>> g.adjacency("weight").tolist()
        [[0.0, 0.5], [0.0, 0.0]]
        >>> g.adjacency("confidence").tolist()
        [[0.0, nan], [0.0, 0.0]]
        """
        from ililab._graphcheck import adjacency_of

        return adjacency_of(self, weight)

    def cross_modal_edges(self) -> list[Edge]:
        """Edges whose two ends carry different (known) modalities.

        Examples
        --------
        >>> g = DependencyGraph(["a (audio)", "b (visual)", "c"], [Edge("a (audio)", "b (visual)"), Edge("b (visual)", "c")])
        >>> [(e.source, e.target) for e in g.cross_modal_edges()]  # c has no modality
        [('a (audio)', 'b (visual)')]
        """
        out = []
        for e in self.edges:
            ms, mt = self.node(e.source).modality, self.node(e.target).modality
            if ms is not None and mt is not None and ms != mt:
                out.append(e)
        return out

    def subgraph(self, nodes: Iterable[str] | None = None, *, modalities: Iterable[str] | None = None) -> DependencyGraph:
        """The graph induced by the given node names and/or modalities.

        Examples
        --------
        >>> DependencyGraph(["a (audio)", "b (visual)"]).subgraph(modalities=["audio"]).names
        ['a (audio)']
        """
        from ililab._graphcheck import kept_names

        keep = kept_names(self, nodes, modalities)
        new_edges = [e for e in self.edges if e.source in keep and e.target in keep]
        return DependencyGraph([n for n in self.nodes if n.name in keep], new_edges, self.meta)

    def with_edges(self, edges: Iterable[Edge], **meta_updates: Any) -> DependencyGraph:
        """A copy with other edges (and updated meta entries).

        Examples
        --------
        >>> DependencyGraph(["a", "b"]).with_edges([Edge("a", "b")], learner="x").edges[0].target
        'b'
        """
        meta = _thaw(self.meta)
        meta.update(meta_updates)
        return DependencyGraph(self.nodes, edges, meta)

    def with_meta(self, **meta_updates: Any) -> DependencyGraph:
        """A copy with updated meta entries.

        Examples
        --------
        >>> dict(DependencyGraph(["a"]).with_meta(learner="ges").meta)
        {'learner': 'ges'}
        """
        return self.with_edges(self.edges, **meta_updates)

    def is_acyclic(self) -> bool:
        """Whether the directed edges contain no cycle.

        Examples
        --------
        >>> cycle = [Edge("a", "b"), Edge("b", "c"), Edge("c", "a")]
        >>> DependencyGraph(["a", "b", "c"], cycle[:2]).is_acyclic(), DependencyGraph(["a", "b", "c"], cycle).is_acyclic()
        (True, False)
        """
        from ililab._graphdoc import is_acyclic

        return is_acyclic(self)

    # -- conversions --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The ``ililab.graph/v1`` document as plain Python objects.

        Examples
        --------
        >>> DependencyGraph(["a", "b"], [Edge("a", "b")]).to_dict()["format"]
        'ililab.graph/v1'
        """
        from ililab._graphdoc import document_of

        return document_of(self, _thaw(self.meta), FORMAT, STABILITY_KEY)

    @classmethod
    def from_dict(cls, document: Any) -> DependencyGraph:
        """Validate an ``ililab.graph/v1`` document and build the graph.

        Raises
        ------
        GraphFormatError
            If the document is not a valid ``ililab.graph/v1`` graph.

        Examples
        --------
        >>> g = DependencyGraph(["a", "b"], [Edge("a", "b", weight=0.5)])
        >>> DependencyGraph.from_dict(g.to_dict()) == g
        True
        """
        from ililab._graphdoc import validate_document

        nodes, edges, meta = validate_document(document, FORMAT)
        return cls([Node(*n) for n in nodes], [Edge(*e) for e in edges], meta)

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise to ``ililab.graph/v1`` JSON text (deterministic).

        Examples
        --------
        >>> print(DependencyGraph(["a"]).to_json(indent=None), end="")
        {"format": "ililab.graph/v1", "nodes": [{"name": "a", "label": null, "modality": null}], "edges": [], "meta": {}}
        """
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> DependencyGraph:
        """Parse ``ililab.graph/v1`` JSON text; malformed text is a :class:`GraphFormatError`.

        Examples
        --------
        >>> DependencyGraph.from_json(DependencyGraph(["a", "b"], [Edge("a", "b")]).to_json()).edges
        (Edge(source='a', target='b', kind='directed', weight=None, confidence=None, stability=None),)
        """
        from ililab._graphdoc import parse_json

        return cls.from_dict(parse_json(text))

    def save(self, path: str | Path, format: str | None = None) -> Path:
        """Write the graph atomically; the format follows the extension unless given.

        Examples
        --------
        >>> import tempfile
        >>> g = DependencyGraph(["a", "b"], [Edge("a", "b", weight=0.5)])
        >>> with tempfile.TemporaryDirectory() as folder:  # removed with what it holds
        ...     DependencyGraph.from_json(g.save(Path(folder) / "g.json").read_text()) == g
        True
        """
        from ililab.io import write_graph

        return write_graph(self, path, format=format)

    def plot(self, path: str | Path | None = None, **options: Any):
        """Draw the graph with :func:`ililab.viz.plot_graph` (matplotlib is imported only now).

        ``path`` (png/svg/pdf) saves the picture; ``options`` are those of
        ``plot_graph``: ``layout``, ``top_k``, ``min_confidence``, ``min_weight``,
        ``title``, ``seed``, ``dpi``, ``legend``. Returns the matplotlib Figure.

        Examples
        --------
        >>> import tempfile  # a bare Figure, not pyplot's: no window and nothing to close; Agg draws the PNG
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     fig = DependencyGraph(["a", "b"], [Edge("a", "b")]).plot(Path(folder) / "g.png", dpi=40)
        ...     type(fig).__name__, (Path(folder) / "g.png").read_bytes()[1:4]
        ('Figure', b'PNG')
        """
        from ililab.viz import plot_graph

        return plot_graph(self, path, **options)

    def to_networkx(self):
        """A ``networkx.DiGraph``; undirected edges become two arcs marked ``kind="undirected"``.

        Examples
        --------
        >>> sorted(DependencyGraph(["a", "b"], [Edge("a", "b", "undirected")]).to_networkx().edges)
        [('a', 'b'), ('b', 'a')]
        """
        from ililab._graphdoc import networkx_of

        return networkx_of(self, _thaw(self.meta))

    @classmethod
    def from_networkx(cls, g) -> DependencyGraph:
        """Inverse of :meth:`to_networkx`.

        A pair of opposite arcs becomes one undirected edge (whatever their
        ``kind`` attribute says); an undirected networkx graph gives undirected edges.

        Examples
        --------
        >>> g = DependencyGraph(["a", "b", "c"], [Edge("a", "b"), Edge("b", "c", "undirected")])
        >>> DependencyGraph.from_networkx(g.to_networkx()) == g
        True
        """
        from ililab._graphdoc import parts_of_networkx

        nodes, edges, meta = parts_of_networkx(g)
        return cls([Node(*n) for n in nodes], [Edge(*e) for e in edges], meta)
