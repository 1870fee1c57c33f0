"""PairWeights and GraphRegularizer on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ililab_torch import EdgeFilter, GraphRegularizer, PairWeights, kept_edges

from ililab import DependencyGraph, Edge
from ililab.errors import DataError, UsageError

NAMES = ["A (audio)", "B (audio)", "A (visual)", "B (visual)"]


def graph(*edges: Edge) -> DependencyGraph:
    return DependencyGraph(NAMES, list(edges))


def test_hand_computed_cross_modal_weights():
    g = graph(Edge("A (visual)", "B (audio)"))
    pw = PairWeights(g, tau=0.0)
    soft = [[0.2, 0.8, 1.0, 0.0],   # clip 0: label A, visual A, audio mostly B
            [0.9, 0.1, 0.0, 1.0],   # clip 1: label B
            [0.5, 0.5, 0.6, 0.4]]   # clip 2: label A
    w = pw(soft, [0, 1, 0])
    assert list(w) == [("visual", "audio")]
    # W[n, m] = s_n[A (visual)] * s_m[B (audio)], zero on the diagonal and for same-label pairs
    expected = np.array([[0.0, 1.0 * 0.1, 0.0],
                         [0.0, 0.0, 0.0 * 0.5],
                         [0.0, 0.6 * 0.1, 0.0]])
    assert np.allclose(w[("visual", "audio")].numpy(), expected)


def test_tau_zeroes_small_probabilities():
    g = graph(Edge("A (visual)", "B (audio)"))
    soft = [[0.2, 0.8, 1.0, 0.0], [0.95, 0.05, 0.0, 1.0]]
    assert float(PairWeights(g, tau=0.0)(soft, [0, 1])[("visual", "audio")][0, 1]) == pytest.approx(0.05)
    assert float(PairWeights(g, tau=0.1)(soft, [0, 1])[("visual", "audio")][0, 1]) == 0.0


def test_without_labels_only_the_diagonal_is_masked():
    g = graph(Edge("A (audio)", "A (visual)"))
    pw = PairWeights(g, tau=0.0, same_class="keep")
    w = pw([[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 0.0]])[("audio", "visual")]
    assert w.tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_same_class_edges_dropped_by_default_and_kept_on_request():
    g = graph(Edge("A (audio)", "A (visual)"), Edge("A (visual)", "B (audio)"))
    assert [e.target for e, _ in kept_edges(g)] == ["B (audio)"]
    assert len(kept_edges(g, EdgeFilter(same_class="keep"))) == 2


def test_weight_sign_threshold_and_confidence_filters():
    g = graph(Edge("A (audio)", "B (visual)", weight=-0.5, confidence=0.9),
              Edge("B (audio)", "A (visual)", weight=0.05, confidence=0.4),
              Edge("A (visual)", "B (visual)", weight=0.7, confidence=0.8))
    assert {(e.source, e.target) for e, _ in kept_edges(g)} == {("B (audio)", "A (visual)"), ("A (visual)", "B (visual)")}
    assert len(kept_edges(g, EdgeFilter(sign="any"))) == 3
    assert [e.weight for e, _ in kept_edges(g, EdgeFilter(min_weight=0.1))] == [0.7]
    assert [e.confidence for e, _ in kept_edges(g, EdgeFilter(min_confidence=0.5))] == [0.8]
    assert [a for _, a in kept_edges(g, EdgeFilter(edge_weight="weight"))] == [0.05, 0.7]
    assert [a for _, a in kept_edges(g, EdgeFilter(edge_weight="confidence"))] == [0.4, 0.8]
    with pytest.raises(UsageError, match="confidences"):
        kept_edges(graph(Edge("A (audio)", "B (visual)")), EdgeFilter(min_confidence=0.5))


def test_top_k_keeps_each_nodes_strongest_edges():
    names = [f"C{i} (audio)" for i in range(4)] + [f"C{i} (visual)" for i in range(4)]
    hub = "C0 (visual)"
    edges = [Edge(f"C{i} (audio)", hub, weight=w) for i, w in ((1, 0.9), (2, 0.5), (3, 0.2))]
    g = DependencyGraph(names, edges)
    # top-1: the hub keeps 0.9, but each audio node's only edge is its own top-1: all stay (union rule)
    assert len(kept_edges(g, EdgeFilter(top_k=1))) == 3
    g2 = g.with_edges(edges + [Edge("C3 (audio)", "C3 (visual)", weight=0.95), Edge("C2 (audio)", "C1 (visual)", weight=0.8)])
    kept = {(e.source, e.target) for e, _ in kept_edges(g2, EdgeFilter(top_k=1, same_class="keep"))}
    assert ("C3 (audio)", hub) not in kept  # neither end ranks it first
    assert ("C1 (audio)", hub) in kept


def test_class_pairs_put_each_linked_class_pair_across_modalities():
    names = [f"{c} (audio)" for c in "ABC"] + [f"{c} (visual)" for c in "ABC"]
    g = DependencyGraph(names, [Edge("A (visual)", "B (visual)", weight=0.5),   # within-modality: the class pair {A, B}
                                Edge("B (audio)", "A (visual)", weight=0.8),    # the same pair again, cross-modal
                                Edge("C (audio)", "C (visual)", weight=0.9)])   # same class: no class pair
    # same_class="keep": the C - C edge reaches the class-pair step, which must skip it itself
    kept = kept_edges(g, EdgeFilter(pairs="classes", same_class="keep", edge_weight="weight", top_k=None))
    assert {frozenset((e.source, e.target)): a for e, a in kept} == {
        frozenset(("A (audio)", "B (visual)")): 0.8, frozenset(("B (audio)", "A (visual)")): 0.8}
    assert all(e.kind == "undirected" for e, _ in kept)
    # the pull then acts on cross-modal pairs only: clip 0 (label A) audio towards clip 1 (label B) visual
    pw = PairWeights(g, tau=0.0, pairs="classes", top_k=None)
    soft = [[1.0, 0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 1.0, 0.0]]
    w = pw(soft, [0, 1])
    assert set(w) == {("audio", "visual")}
    assert w[("audio", "visual")].tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert kept_edges(g.with_edges([Edge("C (audio)", "C (visual)")]), EdgeFilter(pairs="classes")) == []
    with pytest.raises(UsageError, match="pairs"):
        EdgeFilter(pairs="nodes")


def test_missing_weights_use_reference_correlation(rng):
    x = rng.normal(size=(200, 4))
    x[:, 3] = -x[:, 0] + 0.1 * rng.normal(size=200)   # A (audio) vs B (visual): negative
    x[:, 2] = x[:, 1] + 0.1 * rng.normal(size=200)    # B (audio) vs A (visual): positive
    g = graph(Edge("A (audio)", "B (visual)"), Edge("B (audio)", "A (visual)"))
    assert len(kept_edges(g)) == 2  # no strengths known: nothing to judge
    kept = kept_edges(g, reference=x)
    assert [(e.source, e.target) for e, _ in kept] == [("B (audio)", "A (visual)")]


def test_names_that_do_not_match_the_graph_are_an_error():
    g = graph(Edge("A (visual)", "B (audio)"))
    with pytest.raises(DataError, match="not in the graph: 'Train \\(audio\\)'"):
        PairWeights(g, ["Train (audio)", "B (audio)", "A (visual)", "B (visual)"])
    pw = PairWeights(g)
    with pytest.raises(DataError, match="batch x 4"):
        pw(np.ones((2, 3)))


def test_regularizer_value_matches_the_formula():
    g = graph(Edge("A (visual)", "B (audio)"))
    reg = GraphRegularizer(g, tau=0.0)
    soft = torch.tensor([[0.2, 0.8, 1.0, 0.0], [0.9, 0.1, 0.0, 1.0], [0.5, 0.5, 0.6, 0.4]])
    labels = torch.tensor([0, 1, 0])
    za, zv = torch.randn(3, 5), torch.randn(3, 5)
    value = reg(za, zv, soft[:, :2], soft[:, 2:], labels)
    w = PairWeights(g, tau=0.0)(soft, labels)[("visual", "audio")]
    d = torch.cdist(zv, za) ** 2
    pairs = 4  # ordered pairs of different clips with different labels: (0,1),(1,0),(1,2),(2,1)
    assert float(value) == pytest.approx(float((w * d).sum()) / pairs, rel=1e-5)


def test_gradient_pulls_linked_pairs_together():
    g = graph(Edge("A (visual)", "B (audio)"))
    reg = GraphRegularizer(g, tau=0.0)
    soft = torch.tensor([[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]])  # clip 0 visual A, clip 1 audio B
    labels = torch.tensor([0, 1])
    za = torch.tensor([[0.0, 0.0], [1.0, 0.0]], requires_grad=True)
    zv = torch.tensor([[0.0, 1.0], [5.0, 5.0]], requires_grad=True)
    loss = reg(za, zv, soft[:, :2], soft[:, 2:], labels)
    loss.backward()
    # a gradient step moves zv[0] towards za[1] and za[1] towards zv[0]
    before = torch.dist(zv[0], za[1])
    after = torch.dist(zv[0] - 0.1 * zv.grad[0], za[1] - 0.1 * za.grad[1])
    assert after < before
    assert torch.all(zv.grad[1] == 0) and torch.all(za.grad[0] == 0)  # unlinked embeddings untouched
    # the same clips annotated as one class: no pull at all
    assert float(reg(za, zv, soft[:, :2], soft[:, 2:], torch.tensor([0, 0]))) == 0.0


def test_empty_graph_gives_exact_zero():
    reg = GraphRegularizer(graph(), tau=0.0)
    assert reg.is_empty
    za = torch.randn(4, 3, requires_grad=True)
    value = reg(za, torch.randn(4, 3), torch.rand(4, 2), torch.rand(4, 2), torch.arange(4))
    assert float(value) == 0.0


def test_module_moves_with_to():
    reg = GraphRegularizer(graph(Edge("A (visual)", "B (audio)")), tau=0.0)
    assert [b.dtype for b in reg.to(torch.float64).buffers()] == [torch.float64]
