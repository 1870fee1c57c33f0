"""From a :class:`~ililab.DependencyGraph` to training signals: pair weights and the LIR term.

The Latent Interaction Regularizer (LIR) of Zeng et al. (2026), as implemented here::

    L_LIR = sum over kept edges (i, j) of  A_ij * mean over pairs (n, m) of  s_n[i] * s_m[j] * D(z_n^(mod i), z_m^(mod j))

* ``(i, j)`` are soft-label columns (graph nodes such as ``"Train (visual)"`` and
  ``"Motorcycle (audio)"``) joined by an edge that survives the filters below; edge
  directions are ignored (pulling is symmetric) and each edge counts once.
* ``(n, m)`` are *different* clips of the batch that are *not annotated as the same
  class* (``n != m`` and ``y_n != y_m``); the mean is over all such ordered pairs.
* ``s_n[i]`` is clip ``n``'s soft-label probability of column ``i``, set to 0 below the
  threshold ``tau``; ``z_n^(mod i)`` is clip ``n``'s embedding in the modality of column
  ``i`` (audio or visual), so a cross-modal edge pulls a visual embedding towards an
  audio one: exactly the distances cross-modal retrieval ranks by.
* ``D`` is the squared Euclidean distance (``2 - 2 cos`` for unit-norm embeddings).

Edge filters (ILI graphs are dense: without them the term pulls everything together):
``same_class`` (the trivial ``c (audio) - c (visual)`` edge is dropped by default: the
metric loss already aligns a clip's two modalities, and the annotation mask makes that
edge fire only on misclassified clips), ``sign`` (edges of negative strength mean
competition, not co-occurrence, and are dropped), ``min_weight``, ``min_confidence``,
and ``top_k`` (each node keeps its ``k`` strongest edges; an edge stays if either end
keeps it). An edge's *strength* is its ``weight`` when the learner gave one, else the
Pearson correlation of the two columns in ``reference`` data (e.g. the training soft
labels), else unknown (then ``sign``/``min_weight`` cannot judge it and keep it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
import torch
from torch import nn

from ililab.errors import DataError, UsageError
from ililab.graph import DependencyGraph, Edge, split_name

__all__ = ["EdgeFilter", "PairWeights", "GraphRegularizer", "kept_edges"]

SameClass = Literal["drop", "keep"]
EdgeWeight = Literal["binary", "weight", "confidence"]


@dataclass(frozen=True)
class EdgeFilter:
    """Which graph edges the regularizer uses, and with what weight ``A_ij``.

    Parameters
    ----------
    top_k : int or None
        Each node keeps its ``top_k`` strongest edges (by ``|strength|``, then
        confidence); an edge stays if either end keeps it. None keeps all.
    min_weight : float or None
        Drop edges whose ``|strength|`` is below this.
    min_confidence : float or None
        Drop edges whose bootstrap ``confidence`` is below this (the graph must carry confidences).
    same_class : {"drop", "keep"}
        What to do with edges joining one class's nodes in two modalities.
    sign : {"positive", "any"}
        ``"positive"`` drops edges whose strength is negative.
    cross_modal_only : bool
        Keep only edges whose ends have different modalities.
    edge_weight : {"binary", "weight", "confidence"}
        ``A_ij``: 1, ``|strength|`` or the confidence.
    pairs : {"edges", "classes", "auto"}
        ``"edges"`` (default here) uses the kept edges as they are. ``"auto"`` is the *student's*
        default (``StudentConfig().edges``): ``train_student`` with ``lam="auto"`` chooses between
        ``"edges"`` and ``"classes"``; everywhere else (a numeric λ, ``PairWeights`` and
        ``GraphRegularizer`` in your own model, where nothing chooses) it reads as ``"edges"`` —
        which is why a bare ``EdgeFilter()`` says ``"edges"``. ``"classes"`` reads each kept edge
        between two *different* classes ``c, c'`` (in any modalities, within-modality
        edges included) as "the classes ``c`` and ``c'`` are linked" and pulls that class
        pair across modalities: it becomes the edges ``c (a) - c' (b)`` and ``c' (a) - c (b)``
        for every two modalities ``a != b`` (``A`` = the largest ``A`` of the edges mapped
        to the pair). The graph tells *which* classes interact; the pull is put on the
        cross-modal distances retrieval ranks by.

    Examples
    --------
    >>> EdgeFilter().top_k, EdgeFilter().pairs, EdgeFilter(top_k=None, pairs="classes").pairs
    (3, 'edges', 'classes')
    """

    top_k: int | None = 3
    min_weight: float | None = None
    min_confidence: float | None = None
    same_class: SameClass = "drop"
    sign: Literal["positive", "any"] = "positive"
    cross_modal_only: bool = False
    edge_weight: EdgeWeight = "binary"
    pairs: Literal["edges", "classes", "auto"] = "edges"

    def __post_init__(self) -> None:
        if self.top_k is not None and self.top_k < 1:
            raise UsageError(f"top_k must be at least 1 (or None for no limit), got {self.top_k}")
        if self.same_class not in ("drop", "keep"):
            raise UsageError(f"same_class must be 'drop' or 'keep', got {self.same_class!r}")
        if self.sign not in ("positive", "any"):
            raise UsageError(f"sign must be 'positive' or 'any', got {self.sign!r}")
        if self.edge_weight not in ("binary", "weight", "confidence"):
            raise UsageError(f"edge_weight must be 'binary', 'weight' or 'confidence', got {self.edge_weight!r}")
        if self.pairs not in ("edges", "classes", "auto"):
            raise UsageError(f"pairs must be 'edges', 'classes' or 'auto', got {self.pairs!r}")
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            raise UsageError(f"min_confidence must lie in [0, 1], got {self.min_confidence}")
        if self.min_weight is not None and not 0.0 <= self.min_weight < float("inf"):
            raise UsageError(f"min_weight must be a finite number >= 0 (or None), got {self.min_weight}")


def _check_names(graph: DependencyGraph, names: Sequence[str]) -> None:
    names = list(names)
    if len(set(names)) != len(names):
        raise DataError("soft-label names are not unique")
    known = set(graph.names)
    missing = [n for n in names if n not in known]
    extra = [n for n in graph.names if n not in set(names)]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"soft-label column(s) not in the graph: {', '.join(repr(n) for n in missing[:3])}")
        if extra:
            parts.append(f"graph node(s) not among the soft-label names: {', '.join(repr(n) for n in extra[:3])}")
        raise DataError(
            "graph and soft labels do not match: " + "; ".join(parts)
            + " (infer the graph from these soft labels with their names file)"
        )


def _strength(edge: Edge, corr: np.ndarray | None, index: Mapping[str, int]) -> float | None:
    if edge.weight is not None:
        return float(edge.weight)
    if corr is not None:
        return float(corr[index[edge.source], index[edge.target]])
    return None


def _correlation(reference: np.ndarray | torch.Tensor, p: int) -> np.ndarray:
    x = reference.detach().cpu().numpy() if isinstance(reference, torch.Tensor) else np.asarray(reference)
    if x.ndim != 2 or x.shape[1] != p or x.shape[0] < 3:
        raise DataError(f"reference soft labels must be an (n >= 3) x {p} matrix, got shape {x.shape}")
    x = x.astype(np.float64)
    x = x - x.mean(axis=0)
    sd = np.sqrt((x**2).sum(axis=0))
    sd[sd == 0] = np.inf
    return (x.T @ x) / np.outer(sd, sd)


def kept_edges(
    graph: DependencyGraph,
    filt: EdgeFilter | None = None,
    reference: np.ndarray | torch.Tensor | None = None,
    names: Sequence[str] | None = None,
) -> list[tuple[Edge, float]]:
    """The edges ``filt`` keeps, each with its ``A_ij``, in graph order.

    ``reference`` (rows x columns in ``names`` order, default the graph's order) supplies
    edge strengths for edges without a ``weight``.

    Examples
    --------
    >>> from ililab import DependencyGraph, Edge
    >>> g = DependencyGraph(["A (audio)", "B (audio)", "A (visual)", "B (visual)"],
    ...                     [Edge("A (visual)", "B (audio)"), Edge("A (audio)", "A (visual)")])
    >>> [(f"{e.source} - {e.target}", a) for e, a in kept_edges(g)]  # the same-class edge is dropped
    [('A (visual) - B (audio)', 1.0)]
    >>> len(kept_edges(g, EdgeFilter(pairs="classes")))  # A - B pulled across modalities both ways
    2
    """
    filt = filt or EdgeFilter()
    names = list(graph.names if names is None else names)
    _check_names(graph, names)
    index = {n: i for i, n in enumerate(names)}
    corr = _correlation(reference, len(names)) if reference is not None else None
    candidates: list[tuple[Edge, float | None]] = []
    for e in graph.edges:
        (ls, ms), (lt, mt) = split_name_of(graph, e.source), split_name_of(graph, e.target)
        if filt.cross_modal_only and (ms is None or mt is None or ms == mt):
            continue
        if filt.same_class == "drop" and ls == lt and ms != mt:
            continue
        s = _strength(e, corr, index)
        if filt.sign == "positive" and s is not None and s < 0:
            continue
        if filt.min_weight is not None:
            if s is None:
                raise UsageError("min_weight needs edge strengths: the graph has no weights; pass reference soft labels")
            if abs(s) < filt.min_weight:
                continue
        if filt.min_confidence is not None:
            if e.confidence is None:
                raise UsageError(
                    "min_confidence needs edge confidences; the graph has none (estimate them by bootstrap)"
                )
            if e.confidence < filt.min_confidence:
                continue
        candidates.append((e, s))
    if filt.top_k is not None:
        def key(item: tuple[Edge, float | None]) -> tuple:
            e, s = item
            return (-(abs(s) if s is not None else 0.0), -(e.confidence or 0.0))

        keep: set[int] = set()
        for node in names:
            touching = [(k, item) for k, item in enumerate(candidates) if node in (item[0].source, item[0].target)]
            touching.sort(key=lambda pair: key(pair[1]))
            keep.update(k for k, _ in touching[: filt.top_k])
        candidates = [item for k, item in enumerate(candidates) if k in keep]
    out = []
    for e, s in candidates:
        if filt.edge_weight == "binary":
            a = 1.0
        elif filt.edge_weight == "weight":
            if s is None:
                raise UsageError("edge_weight='weight' needs edge weights or reference soft labels")
            a = abs(s)
        else:
            if e.confidence is None:
                raise UsageError("edge_weight='confidence' needs edge confidences; the graph has none")
            a = float(e.confidence)
        out.append((e, a))
    if filt.pairs == "classes":
        out = _class_pairs(graph, out)
    return out


def _class_pairs(graph: DependencyGraph, edges: list[tuple[Edge, float]]) -> list[tuple[Edge, float]]:
    """Kept edges between different classes -> both cross-modal edges of each class pair, for every two modalities."""
    located = _labels_and_modalities(graph, graph.names, "pairs='classes' needs 'Class (modality)' nodes")
    where = {lm: name for name, lm in zip(graph.names, located)}
    modalities = list(dict.fromkeys(m for _, m in located))
    strength: dict[frozenset, float] = {}  # class pair -> strongest kept edge, in first-seen order
    for e, a in edges:
        (ls, _), (lt, _) = split_name_of(graph, e.source), split_name_of(graph, e.target)
        if ls != lt:
            key = frozenset((ls, lt))
            strength[key] = max(strength.get(key, a), a)
    out: list[tuple[Edge, float]] = []
    for key, a in strength.items():
        first, second = sorted(key)
        for ma, mb in combinations(modalities, 2):
            for c, d in ((first, second), (second, first)):
                s, t = where.get((c, ma)), where.get((d, mb))
                if s is not None and t is not None:
                    out.append((Edge(s, t, "undirected"), a))
    return out


def _labels_and_modalities(graph: DependencyGraph, names: list[str], fix: str) -> list[tuple[str, str]]:
    """(class label, modality) of each name; a node without a modality is a DataError ending with ``fix``."""
    located = []
    for name in names:
        label, modality = split_name_of(graph, name)
        if modality is None:
            raise DataError(f"node {name!r} has no modality; {fix}")
        located.append((label, modality))
    return located


def split_name_of(graph: DependencyGraph, name: str) -> tuple[str, str | None]:
    """(class label, modality) of a node: from the node's fields, else parsed from its name."""
    node = graph.node(name)
    if node.modality is not None:
        return (node.label if node.label is not None else split_name(name)[0]), node.modality
    return split_name(name)


class PairWeights:
    """Turn a graph plus a batch's soft labels into clip-pair weights ``w_nm``.

    Parameters
    ----------
    graph : DependencyGraph
        The ILI graph over soft-label columns.
    names : sequence of str, optional
        The soft-label columns in the order the batches give them (default: the graph's
        node order); they must be exactly the graph's node names.
    tau : float
        Soft-label threshold: probabilities below ``tau`` count as 0.
    reference : array, optional
        Soft labels (rows x columns in ``names`` order) for edge strengths; see :func:`kept_edges`.
    **filters
        :class:`EdgeFilter` fields (``top_k``, ``min_weight``, ``min_confidence``,
        ``same_class``, ``sign``, ``cross_modal_only``, ``edge_weight``), or ``edge_filter=``.

    Calling it with soft labels ``S`` (batch x columns) and labels ``y`` gives, for each
    ordered pair of modalities ``(a, b)``, the matrix
    ``W_ab[n, m] = sum_(i in a, j in b) A_ij * S~[n, i] * S~[m, j]`` for ``n != m`` and
    ``y_n != y_m`` (0 elsewhere), with ``S~`` the thresholded soft labels.

    Examples
    --------
    >>> from ililab import DependencyGraph, Edge
    >>> g = DependencyGraph(["A (audio)", "B (audio)", "A (visual)", "B (visual)"],
    ...                     [Edge("A (visual)", "B (audio)")])
    >>> pw = PairWeights(g, tau=0.0)
    >>> w = pw([[0.2, 0.8, 1.0, 0.0], [0.9, 0.1, 0.0, 1.0]], [0, 1])
    >>> round(float(w[("visual", "audio")][0, 1]), 6)  # clip 0 shows A visually, clip 1 has B audio: 1.0 * 0.1
    0.1
    """

    def __init__(
        self,
        graph: DependencyGraph,
        names: Sequence[str] | None = None,
        *,
        tau: float = 0.1,
        reference: np.ndarray | torch.Tensor | None = None,
        edge_filter: EdgeFilter | None = None,
        **filters,
    ) -> None:
        if edge_filter is not None and filters:
            raise UsageError("give either edge_filter or filter keywords, not both")
        self.filter = edge_filter or EdgeFilter(**filters)
        if not 0.0 <= tau < 1.0:
            raise UsageError(f"tau must lie in [0, 1), got {tau}")
        self.tau = float(tau)
        self.graph = graph
        self.names = list(graph.names if names is None else names)
        self.edges = kept_edges(graph, self.filter, reference, self.names)
        mod_of = [m for _, m in _labels_and_modalities(graph, self.names, "name columns 'Class (modality)'")]
        self.modalities = list(dict.fromkeys(mod_of))
        self.columns = {m: [k for k, mm in enumerate(mod_of) if mm == m] for m in self.modalities}
        index = {n: k for k, n in enumerate(self.names)}
        p = len(self.names)
        full = np.zeros((p, p))
        for e, a in self.edges:
            full[index[e.source], index[e.target]] += a
        self.affinity = full
        self.blocks: dict[tuple[str, str], torch.Tensor] = {}
        for ma in self.modalities:
            for mb in self.modalities:
                block = full[np.ix_(self.columns[ma], self.columns[mb])]
                if block.any():
                    self.blocks[(ma, mb)] = torch.as_tensor(block, dtype=torch.float32)

    @property
    def is_empty(self) -> bool:
        """Whether no edge survived the filters (then the regularizer is exactly 0)."""
        return not self.edges

    def _soft(self, soft) -> torch.Tensor:
        s = torch.as_tensor(soft, dtype=torch.float32)
        if s.ndim != 2 or s.shape[1] != len(self.names):
            raise DataError(f"soft labels must be batch x {len(self.names)} (one column per graph node), got {tuple(s.shape)}")
        return torch.where(s >= self.tau, s, torch.zeros_like(s))

    @staticmethod
    def pair_mask(batch: int, labels=None, device=None) -> torch.Tensor:
        """1 for ordered pairs of different clips not annotated as the same class."""
        mask = 1.0 - torch.eye(batch, device=device)
        if labels is not None:
            y = torch.as_tensor(labels, device=device)
            if y.shape != (batch,):
                raise DataError(f"labels must be one per clip ({batch}), got shape {tuple(y.shape)}")
            mask = mask * (y[:, None] != y[None, :]).to(mask.dtype)
        return mask

    def __call__(self, soft, labels=None) -> dict[tuple[str, str], torch.Tensor]:
        """Pair weights per ordered modality pair (only pairs with at least one kept edge)."""
        s = self._soft(soft)
        mask = self.pair_mask(s.shape[0], labels, s.device)
        out = {}
        for (ma, mb), block in self.blocks.items():
            sa, sb = s[:, self.columns[ma]], s[:, self.columns[mb]]
            out[(ma, mb)] = (sa @ block.to(s.device) @ sb.T) * mask
        return out


class GraphRegularizer(nn.Module):
    """The LIR term as a ``torch.nn.Module`` for any pair of embedding models.

    ``loss = metric_loss + lam * regularizer(emb_a, emb_v, soft_a, soft_v, labels)``.

    Parameters
    ----------
    graph : DependencyGraph
        The ILI graph.
    names : sequence of str, optional
        Soft-label column order (default: the graph's). ``soft_a`` holds the audio
        columns and ``soft_v`` the visual ones, each in this order.
    tau, reference, **filters
        As for :class:`PairWeights`.

    Only embeddings, soft labels and the graph are needed; labels are optional (without
    them only ``n != m`` is required of a pair, so same-class pairs are pulled too).

    Examples
    --------
    >>> from ililab import DependencyGraph, Edge
    >>> g = DependencyGraph(["A (audio)", "B (audio)", "A (visual)", "B (visual)"],
    ...                     [Edge("A (visual)", "B (audio)")])
    >>> reg = GraphRegularizer(g, tau=0.0)
    >>> soft_a, soft_v = torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> za, zv = torch.eye(2), torch.eye(2)
    >>> float(reg(za, zv, soft_a, soft_v, torch.tensor([0, 1])))  # clip 0 (A visual) vs clip 1 (B audio): d = 2, 2 pairs
    1.0
    """

    def __init__(self, graph: DependencyGraph, names: Sequence[str] | None = None, *, tau: float = 0.1,
                 reference=None, **filters) -> None:
        super().__init__()
        self.weights = PairWeights(graph, names, tau=tau, reference=reference, **filters)
        self._block_keys = list(self.weights.blocks)
        for k, key in enumerate(self._block_keys):
            self.register_buffer(f"_affinity{k}", self.weights.blocks[key].clone(), persistent=False)

    @property
    def is_empty(self) -> bool:
        return self.weights.is_empty

    def forward_modalities(
        self, embeddings: Mapping[str, torch.Tensor], soft: Mapping[str, torch.Tensor], labels=None
    ) -> torch.Tensor:
        """LIR over any modalities: ``embeddings[m]`` (batch x dim) and ``soft[m]`` (batch x classes of m)."""
        pw = self.weights
        first = next(iter(embeddings.values()))
        batch = first.shape[0]
        total = first.new_zeros(())
        if pw.is_empty:
            return total
        mask = pw.pair_mask(batch, labels, first.device)
        pairs = mask.sum()
        if pairs == 0:
            return total
        for k, (ma, mb) in enumerate(self._block_keys):
            for m in (ma, mb):
                if m not in embeddings or m not in soft:
                    raise DataError(f"the graph links modality {m!r}; give its embeddings and soft labels")
            block = getattr(self, f"_affinity{k}")
            sa = soft[ma].to(first.dtype)
            sb = soft[mb].to(first.dtype)
            for m, s in ((ma, sa), (mb, sb)):
                if s.shape != (batch, len(pw.columns[m])):
                    raise DataError(f"soft labels of {m!r} must be {batch} x {len(pw.columns[m])}, got {tuple(s.shape)}")
            sa = torch.where(sa >= pw.tau, sa, torch.zeros_like(sa))
            sb = torch.where(sb >= pw.tau, sb, torch.zeros_like(sb))
            w = (sa @ block @ sb.T) * mask
            za, zb = embeddings[ma], embeddings[mb]
            d = (za * za).sum(1)[:, None] + (zb * zb).sum(1)[None, :] - 2.0 * za @ zb.T
            total = total + (w * d.clamp_min(0.0)).sum()
        return total / pairs

    def forward(self, emb_a: torch.Tensor, emb_v: torch.Tensor, soft_a: torch.Tensor, soft_v: torch.Tensor,
                labels=None) -> torch.Tensor:
        """LIR for the audio/visual case."""
        return self.forward_modalities({"audio": emb_a, "visual": emb_v}, {"audio": soft_a, "visual": soft_v}, labels)
