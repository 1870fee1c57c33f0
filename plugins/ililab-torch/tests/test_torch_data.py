"""Feature files, the synthetic benchmark and its truth graph."""

from __future__ import annotations

import numpy as np
import pytest
from ililab_torch import AVFeatures, load_features, save_features, simulate_av, stratified_split
from ililab_torch.synthetic import recovery

from ililab.errors import DataError, UsageError


def test_round_trip_keeps_arrays_names_and_split(tmp_path, tiny_sim):
    path = save_features(tiny_sim.features, tmp_path / "f.npz")
    back = load_features(path)
    assert np.array_equal(back.audio, tiny_sim.features.audio)
    assert np.array_equal(back.label, tiny_sim.features.label)
    assert back.class_names == tiny_sim.features.class_names
    assert np.array_equal(back.split, tiny_sim.features.split)
    assert back.soft_label_names()[0].endswith(" (audio)") and back.soft_label_names()[-1].endswith(" (visual)")


def test_minimal_file_without_split_or_names(tmp_path, rng):
    np.savez(tmp_path / "m.npz", audio=rng.normal(size=(20, 3)), visual=rng.normal(size=(20, 5)),
             label=np.arange(20) % 4)
    data = load_features(tmp_path / "m.npz")
    assert data.class_names == ["class 0", "class 1", "class 2", "class 3"]
    train, test = data.split_indices(0.25, seed=1)
    assert len(set(train) & set(test)) == 0 and len(train) + len(test) == 20
    assert sorted(set(data.label[test])) == [0, 1, 2, 3]  # stratified


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"label": np.array([0, 1, 5, 1])}, "label 5 is out of range for 2 classes"),
        ({"label": np.array([0, 1, -1, 1])}, "label -1 is out of range"),
        ({"visual": np.ones((3, 2))}, "row counts differ"),
        ({"audio": np.full((4, 2), np.nan)}, "NaN or inf"),
        ({"split": np.array(["train", "test", "dev", "train"])}, "unknown split value"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, arrays, message):
    base = {"audio": np.ones((4, 2)), "visual": np.ones((4, 3)), "label": np.array([0, 1, 0, 1]),
            "class_names": np.array(["Train", "Motorcycle"])}
    base.update(arrays)
    np.savez(tmp_path / "bad.npz", **base)
    with pytest.raises(DataError, match=message):
        load_features(tmp_path / "bad.npz")


def test_missing_array_and_pickle_are_refused(tmp_path):
    np.savez(tmp_path / "a.npz", audio=np.ones((4, 2)), label=np.zeros(4))
    with pytest.raises(DataError, match="lacks array"):
        load_features(tmp_path / "a.npz")
    np.savez(tmp_path / "p.npz", audio=np.ones((4, 2)), visual=np.ones((4, 2)),
             label=np.array([{"x": 1}] * 4, dtype=object))
    with pytest.raises(DataError, match="Python objects"):
        load_features(tmp_path / "p.npz")
    with pytest.raises(UsageError):
        load_features(tmp_path / "x.npy")


def test_stratified_split_is_seeded():
    labels = np.repeat(np.arange(3), 10)
    a = stratified_split(labels, 0.2, 5)
    b = stratified_split(labels, 0.2, 5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert len(a[1]) == 6


def test_simulation_plants_events_at_the_rate_and_is_seeded():
    sim = simulate_av(n_classes=6, clips_per_class=400, dim_audio=8, dim_visual=8, rate=0.25, seed=1)
    again = simulate_av(n_classes=6, clips_per_class=400, dim_audio=8, dim_visual=8, rate=0.25, seed=1)
    assert np.array_equal(sim.features.audio, again.features.audio)
    assert len(sim.cooccurrences) == 3
    names = sim.features.class_names
    for co in sim.cooccurrences:
        rows = sim.features.label == names.index(co.source)
        for m in ("audio", "visual"):
            share = sim.carries[m][rows].mean()
            if m in co.modalities:
                assert 0.18 < share < 0.32
            else:
                assert share == 0.0
        # the label stays the source class: the event is unannotated
        assert not sim.carries["audio"][sim.features.label == names.index(co.partner)].any()


def test_truth_graph_holds_planted_and_same_class_edges(tiny_sim):
    g = tiny_sim.true_graph
    co = tiny_sim.cooccurrences[0]
    m = co.modalities[0]
    other = "visual" if m == "audio" else "audio"
    assert g.has_edge(f"{co.source} ({other})", f"{co.partner} ({m})")
    assert g.has_edge(f"{co.partner} ({other})", f"{co.source} ({m})")
    assert g.has_edge(f"{co.source} ({m})", f"{co.partner} ({m})")  # the m-branch confuses the two classes
    assert all(g.has_edge(f"{c} (audio)", f"{c} (visual)") for c in tiny_sim.features.class_names)
    perfect = recovery(g, g, tiny_sim.cooccurrences)
    assert perfect["cross_modal"]["f1"] == 1.0 and perfect["class_pairs"]["f1"] == 1.0
    assert perfect["planted"]["f1"] == 1.0
    empty = recovery(g.with_edges([]), g, tiny_sim.cooccurrences)
    assert empty["planted_cross_modal"]["recall"] == 0.0 and empty["planted"]["recall"] == 0.0


def test_recovery_counts_the_within_modality_confusion_edge(tiny_sim):
    """A graph holding only the within-modality edges of the planted events scores on `planted` (precision 1)
    and on the class pairs, but not on the cross-modal measure."""
    g = tiny_sim.true_graph
    within = g.with_edges([e for e in g.edges if g.node(e.source).modality == g.node(e.target).modality])
    assert within.edges
    scores = recovery(within, g, tiny_sim.cooccurrences)
    assert scores["planted"]["precision"] == 1.0 and scores["planted"]["recall"] == pytest.approx(1 / 3)
    assert scores["class_pairs"]["f1"] == 1.0 and scores["planted_cross_modal"]["found"] == 0


def test_saved_benchmark_files(tmp_path, tiny_sim):
    paths = tiny_sim.save(tmp_path / "sim")
    assert all(p.is_file() for p in paths.values())
    from ililab import load_graph

    assert load_graph(paths["true_graph"]) == tiny_sim.true_graph


def test_features_validate_in_code():
    with pytest.raises(DataError, match="out of range"):
        AVFeatures(np.ones((3, 2)), np.ones((3, 2)), np.array([0, 1, 2]), ["a", "b"])
