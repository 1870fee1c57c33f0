"""Seeded graphs for the report tests (built directly: no learner runs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from ililab.graph import DependencyGraph, Edge


def random_graph(classes: int, n_edges: int, seed: int = 0) -> DependencyGraph:
    """``classes`` classes x (audio, visual), ``n_edges`` random edges with weights and confidences."""
    rng = np.random.default_rng(seed)
    names = [f"class {i} ({m})" for m in ("audio", "visual") for i in range(classes)]
    p = len(names)
    edges: dict[tuple[int, int], Edge] = {}
    while len(edges) < n_edges:
        a, b = (int(v) for v in rng.integers(0, p, 2))
        if a == b or (min(a, b), max(a, b)) in edges:
            continue
        kind = "directed" if rng.random() < 0.85 else "undirected"
        weight = round(float(rng.normal(0, 0.4)), 4)
        confidence = round(float(rng.integers(1, 21)) / 20, 4)
        edges[(min(a, b), max(a, b))] = Edge(names[a], names[b], kind, weight, confidence)
    meta = {"learner": "grasp", "params": {"penalty": 4, "seed": 0}, "n_samples": 20000,
            "transform": "softmax", "warnings": ["a warning the page must show"]}
    return DependencyGraph(names, edges.values(), meta)


@dataclass(frozen=True)
class FrequencyEdge(Edge):
    """An edge with more optional fields, as a newer ``graph.py`` may carry."""

    frequency: float | None = None
    orientations: Mapping[str, float] | None = None


def frequency_graph() -> DependencyGraph:
    """Three nodes, two edges, one of them with restart frequencies."""
    names = ["Train (visual)", "Motorcycle (audio)", "Dog (audio)"]
    edges = [
        FrequencyEdge(names[0], names[1], "directed", 0.41, 0.93, frequency=0.75,
                      orientations=MappingProxyType({"forward": 0.6, "reverse": 0.15})),
        Edge(names[2], names[1], "undirected", -0.2, 0.5),
    ]
    return DependencyGraph(names, edges, {"learner": "grasp"})
