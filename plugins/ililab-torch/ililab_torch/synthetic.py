"""A seeded synthetic audio-visual benchmark with latent, unannotated co-occurring events.

Each clip has one annotated class ``y``. Its feature vector in each modality is the
class prototype plus a low-rank clip-level nuisance and isotropic noise. A few
*planted co-occurrences* ``(c -> c', modalities, rate)`` add a second event: a clip
annotated ``c`` (say "Train") also carries the signal of ``c'`` ("Motorcycle")
with probability ``rate``, in the audio, the visual or both modalities. Where it is
present the co-occurring event partly masks the annotated one (like a loud motorcycle
over a train): the modality's signal becomes ``(1 - mask) * proto[c] + mask * proto[c']``.
The label stays ``c``: the event is unannotated.

A teacher trained on these clips puts probability on ``c'`` in the affected modality ``m``
of those clips, while their other modality shows ``c``: the soft labels carry the
cross-modal dependency ``c (other) - c' (m)``. Since the ``m``-branch cannot tell such a
clip from a real ``c'`` clip, ``c'`` clips get ``c``-probability in ``m`` too:
``c' (other) - c (m)``; and for the same reason the ``m``-branch confuses the two classes,
``c (m) - c' (m)`` (on the teacher's logits this within-modality edge is the one a learner
finds most often). The truth graph saved beside the features lists these three edges of each
co-occurrence plus the trivial same-class edges ``c (audio) - c (visual)``; :func:`recovery`
scores a learned graph against it.

Two regimes (:data:`REGIMES`, ``ililab simulate-av --regime``) differ in kind, not only in size:

* ``"balanced"`` (the defaults): 10 classes, 120 clips each, each co-occurrence drawn in the audio,
  the visual or both modalities;
* ``"skewed"``: 2 x 28 classes with a 6:1 class imbalance (class sizes fall geometrically from
  ``clips_per_class``), 7 co-occurring events each visible in **one modality only**, and noisier
  features (a weaker teacher).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ililab.errors import UsageError
from ililab.graph import DependencyGraph, Edge, Node
from ililab.io import atomic_write, write_names
from ililab.simulate import class_names as default_class_names
from ililab_torch.data import MODALITIES, AVFeatures, save_features, stratified_split

__all__ = ["Cooccurrence", "SimulatedAV", "simulate_av", "truth_graph", "recovery", "REGIMES", "class_sizes"]

#: Keyword presets of :func:`simulate_av` (explicit arguments override them).
REGIMES: dict[str, dict] = {
    "balanced": {},
    "skewed": {"n_classes": 28, "clips_per_class": 60, "imbalance": 6.0, "n_cooccurrences": 7,
               "event_modalities": "one", "noise": 3.5},
}

_OTHER = {"audio": "visual", "visual": "audio"}


@dataclass(frozen=True)
class Cooccurrence:
    """Clips annotated ``source`` also carry ``partner``'s signal in ``modalities`` with probability ``rate``.

    >>> Cooccurrence("Train", "Motorcycle", ("audio",), 0.5).as_dict()["modalities"]
    ['audio']
    """

    source: str
    partner: str
    modalities: tuple[str, ...]
    rate: float

    def as_dict(self) -> dict:
        return {"source": self.source, "partner": self.partner, "modalities": list(self.modalities), "rate": self.rate}


@dataclass(frozen=True)
class SimulatedAV:
    """Features, planted co-occurrences, the per-clip event indicators and the truth graph.

    >>> sim = simulate_av(n_classes=4, clips_per_class=10, dim_audio=4, dim_visual=4, seed=0)
    >>> len(sim.cooccurrences), sim.carries["audio"].shape, len(sim.true_graph.names)
    (2, (40,), 8)
    """

    features: AVFeatures
    cooccurrences: list[Cooccurrence]
    carries: dict[str, np.ndarray]
    true_graph: DependencyGraph
    params: dict

    def save(self, directory: str | Path) -> dict[str, Path]:
        """Write ``features.npz``, ``true_graph.json``, ``cooccurrences.json`` and ``names.txt``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = {
            "features": directory / "features.npz",
            "true_graph": directory / "true_graph.json",
            "cooccurrences": directory / "cooccurrences.json",
            "names": directory / "names.txt",
        }
        save_features(self.features, paths["features"])
        self.true_graph.save(paths["true_graph"])
        document = {"params": self.params, "cooccurrences": [c.as_dict() for c in self.cooccurrences]}
        atomic_write(paths["cooccurrences"], json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        write_names(self.features.soft_label_names(), paths["names"])
        return paths


def truth_graph(class_names: list[str], cooccurrences: list[Cooccurrence], same_class: bool = True) -> DependencyGraph:
    """The dependency graph the planted co-occurrences imply (undirected edges).

    For each planted ``c -> c'`` present in modality ``m``: the cross-modal ``c (other) - c' (m)``
    and ``c' (other) - c (m)``, and the within-modality ``c (m) - c' (m)`` (the ``m``-branch of a
    teacher cannot tell a ``c`` clip carrying the event from a ``c'`` clip); with ``same_class``,
    ``c (audio) - c (visual)`` for every class.

    Examples
    --------
    >>> g = truth_graph(["Train", "Car"], [Cooccurrence("Train", "Car", ("audio",), 0.5)], same_class=False)
    >>> sorted(f"{e.source} - {e.target}" for e in g.edges)
    ['Car (audio) - Train (visual)', 'Train (audio) - Car (audio)', 'Train (audio) - Car (visual)']
    """
    nodes = [Node(f"{c} ({m})", c, m) for m in MODALITIES for c in class_names]
    edges: dict[frozenset, Edge] = {}
    if same_class:
        for c in class_names:
            edges[frozenset((f"{c} (audio)", f"{c} (visual)"))] = Edge(f"{c} (audio)", f"{c} (visual)", "undirected")
    for co in cooccurrences:
        for m in co.modalities:
            pairs = [(f"{first} ({_OTHER[m]})", f"{second} ({m})")
                     for first, second in ((co.source, co.partner), (co.partner, co.source))]
            pairs.append((f"{co.source} ({m})", f"{co.partner} ({m})"))
            for a, b in pairs:
                edges.setdefault(frozenset((a, b)), Edge(a, b, "undirected"))
    meta = {"truth": "planted co-occurrences (cross-modal and within the event's modality)"
            + (" + same-class edges" if same_class else "")}
    return DependencyGraph(nodes, list(edges.values()), meta)


def _unit_rows(rng: np.random.Generator, rows: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((rows, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def class_sizes(n_classes: int, clips_per_class: int, imbalance: float, rng: np.random.Generator | None) -> np.ndarray:
    """Clips per class: ``clips_per_class`` for all (``imbalance`` 1), else falling geometrically from
    ``clips_per_class`` to ``clips_per_class / imbalance`` (at least 2), in a seeded class order.

    >>> class_sizes(4, 60, 8.0, None).tolist()
    [60, 30, 15, 8]
    """
    if imbalance < 1:
        raise UsageError(f"imbalance must be at least 1 (largest / smallest class), got {imbalance}")
    if imbalance == 1:
        return np.full(n_classes, clips_per_class)
    steps = np.arange(n_classes) / max(n_classes - 1, 1)
    sizes = np.maximum(np.round(clips_per_class * imbalance ** (-steps)).astype(int), 2)
    return sizes if rng is None else sizes[rng.permutation(n_classes)]


def simulate_av(
    n_classes: int = 10,
    clips_per_class: int = 120,
    dim_audio: int = 128,
    dim_visual: int = 256,
    n_cooccurrences: int | None = None,
    rate: float = 0.5,
    mask: float = 1.0,
    noise: float = 3.0,
    nuisance: float = 0.5,
    nuisance_rank: int = 8,
    signal: float = 1.0,
    test_fraction: float = 0.3,
    seed: int = 0,
    imbalance: float = 1.0,
    event_modalities: str = "any",
) -> SimulatedAV:
    """Generate the benchmark.

    Parameters
    ----------
    n_classes : int
        ``C`` annotated classes (AVE-style names).
    clips_per_class : int
        Clips per class (of the largest class when ``imbalance`` > 1).
    dim_audio, dim_visual : int
        Feature widths (VGGish audio is 128-d; real visual features are 1024/2048-d).
    n_cooccurrences : int, optional
        Planted ``c -> c'`` pairs, over disjoint classes (default ``C // 2``).
    rate : float
        Probability that a clip of ``c`` carries ``c'``.
    mask : float
        Share of the modality's signal the co-occurring event takes, in [0, 1]. At the
        default 1 the affected modality looks like ``c'`` (a loud motorcycle drowning the
        train) while the other modality still shows ``c``.
    noise : float
        Standard deviation of the isotropic noise per feature.
    nuisance, nuisance_rank : float, int
        Scale (relative to a prototype) and rank of the clip-level nuisance shared by all classes.
    signal : float
        Per-feature scale of the class prototypes (random directions of norm ``signal * sqrt(dim)``).
    test_fraction : float
        Stratified test share, stored as the file's ``split``.
    seed : int
        Seed of every random choice.
    imbalance : float
        Largest over smallest class size (1: balanced); see :func:`class_sizes`.
    event_modalities : {"any", "one"}
        Where a co-occurring event shows: ``"any"`` draws audio, visual or both per pair;
        ``"one"`` draws audio or visual (never both).

    Examples
    --------
    >>> sim = simulate_av(**{**REGIMES["skewed"], "clips_per_class": 12}, dim_audio=4, dim_visual=4, seed=1)
    >>> sim.features.n_classes, all(len(c.modalities) == 1 for c in sim.cooccurrences)
    (28, True)
    """
    if n_classes < 2:
        raise UsageError(f"need at least 2 classes, got {n_classes}")
    if clips_per_class < 2:
        raise UsageError(f"need at least 2 clips per class, got {clips_per_class}")
    if not 0.0 <= rate <= 1.0 or not 0.0 <= mask <= 1.0:
        raise UsageError("rate and mask must lie in [0, 1]")
    if dim_audio < 1 or dim_visual < 1:
        raise UsageError("feature widths must be positive")
    k = n_classes // 2 if n_cooccurrences is None else n_cooccurrences
    if not 0 <= k <= n_classes // 2:
        raise UsageError(f"n_cooccurrences must lie in [0, {n_classes // 2}] (pairs of disjoint classes), got {k}")
    if event_modalities not in ("any", "one"):
        raise UsageError(f"event_modalities must be 'any' or 'one', got {event_modalities!r}")
    rng = np.random.default_rng(seed)
    names = default_class_names(n_classes)
    order = rng.permutation(n_classes)
    kinds = [("audio",), ("visual",), ("audio", "visual")][: 2 if event_modalities == "one" else 3]
    plan = []
    for p in range(k):
        c, partner = int(order[2 * p]), int(order[2 * p + 1])
        mods = kinds[int(rng.integers(len(kinds)))]
        plan.append((c, partner, mods))
    dims = {"audio": dim_audio, "visual": dim_visual}
    # A balanced draw consumes no randomness here, so the balanced regime's streams are unchanged.
    sizes = class_sizes(n_classes, clips_per_class, imbalance, rng if imbalance != 1 else None)
    labels = np.repeat(np.arange(n_classes), sizes)
    n = labels.size
    # Which clips carry their partner event (the same draw decides both modalities of a "both" pair).
    carries_event = np.zeros(n, dtype=bool)
    partner_of = np.full(n, -1)
    for c, partner, _ in plan:
        rows = np.flatnonzero(labels == c)
        hit = rows[rng.random(rows.size) < rate]
        carries_event[hit] = True
        partner_of[hit] = partner
    features: dict[str, np.ndarray] = {}
    carries: dict[str, np.ndarray] = {}
    for m in MODALITIES:
        d = dims[m]
        protos = _unit_rows(rng, n_classes, d) * signal * np.sqrt(d)
        basis = _unit_rows(rng, nuisance_rank, d) * signal * np.sqrt(d)
        in_mod = np.zeros(n, dtype=bool)
        for c, _partner, mods in plan:
            if m in mods:
                in_mod |= carries_event & (labels == c)
        mix = protos[labels].copy()
        rows = np.flatnonzero(in_mod)
        mix[rows] = (1.0 - mask) * protos[labels[rows]] + mask * protos[partner_of[rows]]
        clip_nuisance = rng.standard_normal((n, nuisance_rank)) @ basis * (nuisance / np.sqrt(nuisance_rank))
        x = mix + clip_nuisance + rng.standard_normal((n, d)) * noise
        features[m] = x.astype(np.float32)
        carries[m] = in_mod
    train, test = stratified_split(labels, test_fraction, seed)
    split = np.zeros(n, dtype=np.int8)
    split[test] = 1
    cooccurrences = [Cooccurrence(names[c], names[partner], mods, rate) for c, partner, mods in plan]
    params = {
        "n_classes": n_classes, "clips_per_class": clips_per_class, "dim_audio": dim_audio, "dim_visual": dim_visual,
        "n_cooccurrences": k, "rate": rate, "mask": mask, "noise": noise, "nuisance": nuisance,
        "nuisance_rank": nuisance_rank, "signal": signal, "test_fraction": test_fraction, "seed": seed,
        "imbalance": imbalance, "event_modalities": event_modalities,
    }
    data = AVFeatures(features["audio"], features["visual"], labels, names, split, f"simulate_av(seed={seed})")
    graph = truth_graph(names, cooccurrences).with_meta(simulation="simulate_av", params=params)
    return SimulatedAV(data, cooccurrences, carries, graph, params)


def _f1(found: set, truth: set) -> dict[str, float]:
    tp = len(found & truth)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "found": len(found), "truth": len(truth)}


def recovery(graph: DependencyGraph, truth: DependencyGraph, cooccurrences: list[Cooccurrence] | None = None) -> dict:
    """How well ``graph`` recovers the planted structure.

    Returns
    -------
    dict
        ``cross_modal``: adjacency precision / recall / F1 of the cross-modal edges of
        ``graph`` against those of ``truth`` (same-class edges included);
        ``planted_cross_modal``: the same without the same-class edges (the non-trivial part);
        ``planted``: adjacency scores of all edges between different classes (cross-modal and
        within one modality) against the planted ones;
        ``class_pairs`` (with ``cooccurrences``): F1 over unordered class pairs ``{c, c'}``
        (``c != c'``) joined by any edge of ``graph``, against the planted pairs.
    """
    if set(graph.names) != set(truth.names):
        from ililab.errors import DataError

        raise DataError("the graph and the truth have different nodes")

    def label(name: str) -> str:
        node = graph.node(name) if name in graph.names else truth.node(name)
        return node.label if node.label is not None else name

    def cross(g: DependencyGraph, same: bool) -> set:
        return {frozenset((e.source, e.target)) for e in g.cross_modal_edges()
                if same or label(e.source) != label(e.target)}

    def between_classes(g: DependencyGraph) -> set:
        return {frozenset((e.source, e.target)) for e in g.edges if label(e.source) != label(e.target)}

    out = {
        "cross_modal": _f1(cross(graph, True), cross(truth, True)),
        "planted_cross_modal": _f1(cross(graph, False), cross(truth, False)),
        "planted": _f1(between_classes(graph), between_classes(truth)),
    }
    if cooccurrences is not None:
        found = {frozenset((label(e.source), label(e.target))) for e in graph.edges if label(e.source) != label(e.target)}
        planted = {frozenset((c.source, c.partner)) for c in cooccurrences}
        out["class_pairs"] = _f1(found, planted)
    return out
