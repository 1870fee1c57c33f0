"""ililab: class dependency graphs from soft labels, and their use in embedding models.

The public API::

    import ililab
    graph = ililab.infer_graph("soft_labels.npy", learner="grasp", seed=0)
    graph.save("graph.json")
    same = ililab.load_graph("graph.json")
"""

from __future__ import annotations

from ililab._version import __version__
from ililab.errors import IlilabError
from ililab.graph import DependencyGraph, Edge, Node
from ililab.knowledge import Knowledge

__all__ = [
    "__version__",
    "DependencyGraph",
    "Edge",
    "Node",
    "Knowledge",
    "IlilabError",
    "infer_graph",
    "load_graph",
    "compare",
]


def __getattr__(name: str):
    # Lazy: importing ililab must stay cheap (no causal-learn, no Numba compilation).
    if name in ("infer_graph", "load_graph"):
        from ililab import api

        return getattr(api, name)
    if name == "compare":
        from ililab.metrics import compare

        return compare
    raise AttributeError(f"module 'ililab' has no attribute {name!r}")
