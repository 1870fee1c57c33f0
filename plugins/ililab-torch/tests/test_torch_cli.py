"""The plugin's CLI commands through the real `ililab` entry point (entry-point group ililab.commands)."""

from __future__ import annotations

import json

import numpy as np
import pytest

FAST = ["--epochs", "2", "--hidden", "16", "--threads", "1"]


@pytest.fixture()
def run(run_cli):
    """Run `ililab ARGS...` in-process (the real entry point: plugin commands come from entry points); unless
    ``ok=False``, assert that it succeeded."""

    def invoke(*args, ok=True):
        result = run_cli(*args)
        if ok:
            assert result.code == 0, result.err
        return result

    return invoke


def test_teacher_graph_student_evaluate(run, tmp_path, features_file):
    soft = tmp_path / "soft_labels.npy"
    r = run("teacher", "train", features_file, "-o", soft, *FAST, "--folds", "2", "--seed", "1")
    assert "teacher fold 1/2 epoch 1/2" in r.err and r.out == ""
    probs = np.load(soft, allow_pickle=False)
    names = (tmp_path / "soft_labels_names.txt").read_text().splitlines()
    assert probs.shape[1] == len(names) == 8 and names[0].endswith("(audio)")
    assert (tmp_path / "soft_labels_logits.npy").is_file()
    run("infer-graph", tmp_path / "soft_labels_logits.npy", "--names", tmp_path / "soft_labels_names.txt",
        "--learner", "ges", "-o", tmp_path / "graph.json")
    r = run("student", "train", features_file, "--graph", tmp_path / "graph.json", "--soft-labels", soft,
            "-o", tmp_path / "student.pt", *FAST, "--embed-dim", "8", "--lam", "2", "--seed", "1", "--pairs", "classes")
    assert "student epoch 2/2" in r.err and "LIR, lambda 2, pairs classes" in r.err
    r = run("student", "evaluate", features_file, "--checkpoint", tmp_path / "student.pt", "--json")
    result = json.loads(r.out)
    assert set(result) >= {"audio_to_visual", "visual_to_audio", "mean"} and 0 < result["mean"] <= 1
    r = run("student", "evaluate", features_file, "-c", tmp_path / "student.pt")
    assert r.out.splitlines()[0].startswith("mAP audio->visual ")


def test_baseline_student_and_simulate(run, tmp_path):
    r = run("simulate-av", "-o", tmp_path / "sim", "--classes", "4", "--clips-per-class", "10", "--dim-audio", "6",
            "--dim-visual", "6", "--seed", "2")
    assert "planted co-occurrences" in r.err
    assert (tmp_path / "sim" / "true_graph.json").is_file()
    r = run("student", "train", tmp_path / "sim" / "features.npz", "-o", tmp_path / "s.pt", *FAST, "--embed-dim", "4")
    assert "metric only" in r.err


def test_simulate_skewed_regime(run, tmp_path):
    r = run("simulate-av", "-o", tmp_path / "sk", "--regime", "skewed", "--clips-per-class", "12", "--dim-audio", "4",
            "--dim-visual", "4", "--seed", "3")
    assert "28 classes (regime skewed), 7 planted co-occurrences" in r.err
    assert "+" not in r.err.split("co-occurrences")[1].split("features:")[0]  # every event in one modality only
    labels = np.load(tmp_path / "sk" / "features.npz", allow_pickle=False)["label"]
    sizes = np.bincount(labels, minlength=28)
    assert sizes.max() == 12 and sizes.min() == 2  # 12 / 6 = 2: the 6:1 imbalance
    params = json.loads((tmp_path / "sk" / "cooccurrences.json").read_text())["params"]
    assert params["noise"] == 3.5 and params["event_modalities"] == "one"
    r = run("simulate-av", "-o", tmp_path / "sk2", "--regime", "skewed", "--classes", "6", "--clips-per-class", "8",
            "--dim-audio", "4", "--dim-visual", "4")
    assert "6 classes (regime skewed)" in r.err  # explicit options override the preset


def test_bad_inputs_give_one_line_errors(run, tmp_path, features_file, tiny_sim):
    names = tiny_sim.features.soft_label_names()
    soft = np.full((tiny_sim.features.split_indices()[0].size, len(names)), 0.25)
    np.save(tmp_path / "soft.npy", soft)
    (tmp_path / "soft_names.txt").write_text("\n".join(names) + "\n")
    other = tiny_sim.true_graph.to_dict()
    for node in other["nodes"]:
        node["name"] = node["name"].replace("(audio)", "(sound)")
        node["modality"] = "sound" if node["modality"] == "audio" else node["modality"]
    for edge in other["edges"]:
        edge["source"] = edge["source"].replace("(audio)", "(sound)")
        edge["target"] = edge["target"].replace("(audio)", "(sound)")
    (tmp_path / "wrong.json").write_text(json.dumps(other))
    r = run("student", "train", features_file, "--graph", tmp_path / "wrong.json", "--soft-labels", tmp_path / "soft.npy",
            "-o", tmp_path / "x.pt", *FAST, ok=False)
    assert r.code == 1 and "do not match" in r.err and "Traceback" not in r.err
    assert not (tmp_path / "x.pt").exists()
    r = run("student", "train", features_file, "--graph", tmp_path / "wrong.json", "-o", tmp_path / "x.pt", ok=False)
    assert r.code == 2 and "--soft-labels" in r.err
    np.savez(tmp_path / "bad.npz", audio=np.ones((4, 2)), visual=np.ones((4, 2)), label=np.array([0, 1, 2, 9]),
             class_names=np.array(["a", "b", "c"]))
    r = run("teacher", "train", tmp_path / "bad.npz", "-o", tmp_path / "s.npy", ok=False)
    assert r.code == 1 and "label 9 is out of range for 3 classes" in r.err
    # a checkpoint evaluated on features of another width
    run("student", "train", features_file, "-o", tmp_path / "s.pt", *FAST, "--embed-dim", "4")
    np.savez(tmp_path / "narrow.npz", audio=np.ones((6, 3)), visual=np.ones((6, 16)), label=np.arange(6) % 2)
    r = run("student", "evaluate", tmp_path / "narrow.npz", "-c", tmp_path / "s.pt", ok=False)
    assert r.code == 1 and "checkpoint expects 12-d" in r.err


def test_commands_are_listed(run):
    r = run("--help")
    for name in ("teacher", "student", "simulate-av"):
        assert name in r.out
