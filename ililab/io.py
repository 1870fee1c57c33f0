"""Reading data matrices, names and modalities; writing arrays and names atomically.

The one import for file input and output; each job has its own module, re-exported here:
matrices (``load_matrix``, ``load_shards``, ``validate_matrix``, ``write_array``) are
:mod:`ililab.matrix`, names and modalities (``read_names``, ``parse_modalities``,
``make_nodes``, ``write_names``) :mod:`ililab.names`, graph files (``read_graph``,
``write_graph``, ``graph_format_for``) :mod:`ililab.formats` and atomic writes
:mod:`ililab.files`.

Nothing read here can execute code: ``.npy`` / ``.npz`` headers with object dtypes are
refused before numpy reads the data (and ``.npy`` is loaded with ``allow_pickle=False``),
and graph files are validated with pydantic. Nothing read here is held whole in memory unless
it is small: ``.npy`` files and ``.npz`` members are memory-mapped, graph readers check node
and edge counts (:class:`ililab.formats.GraphLimits`) before building a graph.
"""

from __future__ import annotations

from ililab.files import atomic_write, check_output_path
from ililab.formats import GRAPH_FORMATS, graph_format_for, read_graph, write_graph
from ililab.matrix import (
    DATA_SUFFIXES as DATA_SUFFIXES,  # public constant, importable from here as before
)
from ililab.matrix import (
    Matrix,
    Shards,
    is_shard_pattern,
    load_matrix,
    load_shards,
    validate_matrix,
    write_array,
)
from ililab.names import make_nodes, parse_modalities, read_names, write_names

__all__ = [
    "Matrix",
    "load_matrix",
    "Shards",
    "is_shard_pattern",
    "load_shards",
    "validate_matrix",
    "read_names",
    "parse_modalities",
    "make_nodes",
    "atomic_write",
    "check_output_path",
    "write_array",
    "write_names",
    "write_graph",
    "read_graph",
    "GRAPH_FORMATS",
    "graph_format_for",
]
