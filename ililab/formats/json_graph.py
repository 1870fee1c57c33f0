"""``ililab.graph/v1`` JSON, the native format: it carries everything a :class:`DependencyGraph` holds."""

from __future__ import annotations

import json

from ililab.errors import GraphFormatError, shown
from ililab.formats._common import check_size
from ililab.graph import FORMAT, DependencyGraph

__all__ = ["write_json", "read_json"]


def write_json(graph: DependencyGraph) -> str:
    """The graph as ``ililab.graph/v1`` JSON text (:meth:`DependencyGraph.to_json`).

    Parameters
    ----------
    graph : DependencyGraph

    Returns
    -------
    str

    Examples
    --------
    >>> from ililab.graph import DependencyGraph, Edge
    >>> text = write_json(DependencyGraph(["a", "b"], [Edge("a", "b")]))
    >>> read_json(text).edges[0].target
    'b'
    """
    return graph.to_json()


def read_json(text: str) -> DependencyGraph:
    """``ililab.graph/v1`` JSON, its node and edge counts checked before the graph is built.

    Parameters
    ----------
    text : str
        The file's content.

    Returns
    -------
    DependencyGraph

    Raises
    ------
    GraphFormatError
        Invalid JSON, another ``format``, a document that does not follow the schema, or more
        nodes or edges than :class:`ililab.formats.GraphLimits` allows.

    Examples
    --------
    >>> g = read_json('{"format": "ililab.graph/v1", "nodes": [{"name": "a"}, {"name": "b"}], '
    ...               '"edges": [{"source": "a", "target": "b", "kind": "undirected"}]}')
    >>> g.names, g.edges[0].kind
    (['a', 'b'], 'undirected')
    >>> read_json('{"format": "other"}')
    Traceback (most recent call last):
    ...
    ililab.errors.GraphFormatError: unknown graph format 'other'; expected 'ililab.graph/v1'
    """
    try:
        document = json.loads(text)
    except ValueError as error:
        raise GraphFormatError(f"not valid JSON: {error}") from None
    except RecursionError:
        raise GraphFormatError("not a graph: JSON nested too deeply") from None
    if isinstance(document, dict):
        nodes, edges = document.get("nodes"), document.get("edges")
        check_size(len(nodes) if isinstance(nodes, list) else 0, len(edges) if isinstance(edges, list) else 0)
        if document.get("format") != FORMAT:
            raise GraphFormatError(f"unknown graph format {shown(document.get('format'))}; expected {FORMAT!r}")
    return DependencyGraph.from_dict(document)
