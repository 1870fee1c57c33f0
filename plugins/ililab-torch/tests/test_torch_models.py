"""Teacher soft labels, the student, checkpoints, the empty-graph ablation and a tiny end-to-end run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ililab_torch import (
    EdgeFilter,
    StudentConfig,
    TeacherConfig,
    alignment_loss,
    cross_modal_triplet_loss,
    evaluate,
    load_student,
    save_student,
    teacher_soft_labels,
    train_student,
)

from ililab import DependencyGraph, Edge
from ililab.errors import DataError, UsageError

FAST_T = dict(epochs=2, hidden=16)
FAST_S = dict(epochs=2, hidden=16, embed_dim=8, batch_size=16)


def test_soft_label_shapes_names_and_simplex(tiny_sim, tmp_path):
    data = tiny_sim.features
    train, _ = data.split_indices()
    soft = teacher_soft_labels(data, train, TeacherConfig(**FAST_T, folds=2))
    c = data.n_classes
    assert soft.probabilities.shape == soft.logits.shape == (train.size, 2 * c)
    assert soft.names == [f"{n} (audio)" for n in data.class_names] + [f"{n} (visual)" for n in data.class_names]
    assert np.allclose(soft.probabilities[:, :c].sum(1), 1) and np.allclose(soft.probabilities[:, c:].sum(1), 1)
    e = np.exp(soft.logits[:, :c] - soft.logits[:, :c].max(1, keepdims=True))
    assert np.allclose(e / e.sum(1, keepdims=True), soft.probabilities[:, :c])  # probabilities = softmax(logits)
    paths = soft.save(tmp_path / "soft_labels.npy")
    assert np.load(paths["logits"], allow_pickle=False).shape == soft.logits.shape
    assert paths["names"].read_text().splitlines() == soft.names


def test_teacher_is_seeded(tiny_sim):
    data = tiny_sim.features
    a = teacher_soft_labels(data, None, TeacherConfig(**FAST_T, folds=0, seed=4))
    b = teacher_soft_labels(data, None, TeacherConfig(**FAST_T, folds=0, seed=4))
    assert np.array_equal(a.logits, b.logits)


def test_alignment_loss_is_zero_only_when_modalities_agree():
    x = torch.randn(5, 4)
    assert float(alignment_loss(x, x)) == pytest.approx(0.0, abs=1e-6)
    assert float(alignment_loss(x, -x)) > 0.01


def test_triplet_loss_prefers_class_structure():
    labels = torch.tensor([0, 0, 1, 1])
    good = torch.tensor([[1.0, 0], [1, 0.1], [0, 1], [0.1, 1]])
    assert float(cross_modal_triplet_loss(good, good, labels)) == 0.0
    bad = good[[2, 3, 0, 1]]
    assert float(cross_modal_triplet_loss(good, bad, labels)) > 0.5


def test_bad_configs_are_usage_errors():
    with pytest.raises(UsageError):
        TeacherConfig(folds=1).validate()
    with pytest.raises(UsageError):
        StudentConfig(batch_size=1).validate()
    with pytest.raises(UsageError):
        StudentConfig(edges=EdgeFilter(same_class="maybe")).validate()


def test_empty_graph_equals_baseline_exactly(tiny_sim):
    data = tiny_sim.features
    train, test = data.split_indices()
    soft = np.full((train.size, 2 * data.n_classes), 1.0 / data.n_classes)
    names = data.soft_label_names()
    base = train_student(data, train, None, None, StudentConfig(**FAST_S, lam=0.0))
    empty = train_student(data, train, soft, DependencyGraph(names), StudentConfig(**FAST_S, lam=5.0))
    assert all(torch.equal(p, q) for p, q in zip(base.state_dict().values(), empty.state_dict().values()))
    assert evaluate(base, data, test) == evaluate(empty, data, test)
    # and a graph with a usable edge does change training
    c = data.class_names
    linked = DependencyGraph(names, [Edge(f"{c[0]} (visual)", f"{c[1]} (audio)")])
    moved = train_student(data, train, soft, linked, StudentConfig(**FAST_S, lam=5.0, tau=0.0))
    assert not all(torch.equal(p, q) for p, q in zip(base.state_dict().values(), moved.state_dict().values()))


def test_student_rejects_logits_and_mismatched_graph(tiny_sim):
    data = tiny_sim.features
    train, _ = data.split_indices()
    names = data.soft_label_names()
    graph = DependencyGraph(names, [Edge(names[0], names[-1])])
    with pytest.raises(DataError, match="look like logits"):
        train_student(data, train, np.full((train.size, len(names)), 3.0), graph, StudentConfig(**FAST_S))
    wrong = DependencyGraph([n.replace("(audio)", "(sound)") for n in names])
    with pytest.raises(DataError, match="do not match"):
        train_student(data, train, np.full((train.size, len(names)), 0.25), wrong, StudentConfig(**FAST_S))


def test_checkpoint_round_trip_and_dimension_check(tiny_sim, tmp_path):
    data = tiny_sim.features
    model = train_student(data, None, None, None, StudentConfig(**FAST_S))
    path = save_student(model, tmp_path / "s.pt", {"note": "x"})
    loaded, config = load_student(path)
    assert config["meta"] == {"note": "x"} and config["student"]["embed_dim"] == 8
    assert evaluate(loaded, data) == evaluate(model, data)
    other = tiny_sim.features.subset(np.arange(10))
    narrow = type(other)(other.audio[:, :5], other.visual, other.label, other.class_names)
    with pytest.raises(DataError, match="checkpoint expects 12-d"):
        evaluate(loaded, narrow, np.arange(10))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="not a loadable"):
        load_student(tmp_path / "junk.pt")


def test_tiny_end_to_end(tiny_sim):
    import ililab

    data = tiny_sim.features
    train, test = data.split_indices()
    soft = teacher_soft_labels(data, train, TeacherConfig(**FAST_T, folds=0))
    graph = ililab.infer_graph(soft.logits, names=soft.names, learner="ges", seed=0)
    assert graph.names == soft.names
    model = train_student(data, train, soft.probabilities, graph, StudentConfig(**FAST_S, lam=1.0))
    result = evaluate(model, data, test)
    assert set(result) == {"audio_to_visual", "visual_to_audio", "mean"}
    assert all(0.0 < v <= 1.0 for v in result.values())
