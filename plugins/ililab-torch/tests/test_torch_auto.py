"""lam="auto": the validation guard, the budget, the record in the checkpoint and the CLI summary."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from ililab_torch import EdgeFilter, StudentConfig, load_student, save_student, simulate_av, train_student
from ililab_torch.auto import BUDGET, AutoPlan, plan_budget, query_ap, validation_split

from ililab import DependencyGraph, Edge
from ililab.errors import UsageError

FAST = dict(epochs=6, hidden=16, embed_dim=8, batch_size=16)
ALL = EdgeFilter(top_k=None, pairs="auto")  # every edge, pair use chosen


@pytest.fixture(scope="module")
def wrong():
    """4 classes without any co-occurrence, soft labels that name each clip's own class in both modalities, and a
    graph linking every two *different* classes across modalities: every edge is wrong, so LIR can only hurt."""
    sim = simulate_av(n_classes=4, clips_per_class=30, dim_audio=12, dim_visual=12, n_cooccurrences=0, noise=1.0,
                      seed=5)
    data = sim.features
    train, _ = data.split_indices()
    c = data.n_classes
    own = np.eye(c)[data.label[train]] * 0.8 + 0.2 / c
    soft = np.hstack([own, own]).astype(np.float32)
    names = data.soft_label_names()
    edges = [Edge(names[i], names[c + j], "undirected", weight=0.5) for i in range(c) for j in range(c) if i != j]
    return data, train, soft, DependencyGraph(names, edges)


def test_only_wrong_edges_end_with_lir_off(wrong):
    data, train, soft, graph = wrong
    model = train_student(data, train, soft, graph, StudentConfig(**FAST, edges=ALL))
    choice = model.lir_choice
    assert choice["lam"] == 0.0 and choice["reason"].startswith("no lambda beats lambda 0")
    assert len(choice["curve"]) == 2 and all(point["bound"] <= 0 for point in choice["curve"])
    assert model.config["lam"] == 0.0
    # LIR off is the metric-only student itself, bit for bit
    base = train_student(data, train, None, None, StudentConfig(**FAST, edges=ALL, lam=0.0))
    assert all(torch.equal(p, q) for p, q in zip(model.state_dict().values(), base.state_dict().values()))


def test_guard_is_what_turns_lir_off(wrong):
    """Without the guard (any gain accepted) the same wrong graph would be used: the guard decides."""
    data, train, soft, graph = wrong
    loose = AutoPlan(min_gain=-1.0)
    model = train_student(data, train, soft, graph, StudentConfig(**FAST, edges=ALL), auto_plan=loose)
    assert model.lir_choice["lam"] > 0 and model.lir_edges > 0


def test_auto_equals_the_explicit_choice_and_is_saved(tiny_sim, tmp_path):
    data = tiny_sim.features
    train, _ = data.split_indices()
    soft = np.full((train.size, 2 * data.n_classes), 1.0 / data.n_classes, dtype=np.float32)
    plan = AutoPlan(min_gain=-1.0)  # take the best candidate whatever it is
    model = train_student(data, train, soft, tiny_sim.true_graph, StudentConfig(**FAST, edges=ALL, tau=0.0),
                          auto_plan=plan)
    choice = model.lir_choice
    assert choice["lam"] > 0 and choice["pairs"] in ("edges", "classes")
    best = max(choice["curve"], key=lambda point: point["bound"])  # the largest lower bound wins
    assert (best["lam"], best["pairs"]) == (choice["lam"], choice["pairs"])
    explicit = train_student(data, train, soft, tiny_sim.true_graph,
                             StudentConfig(**FAST, tau=0.0, lam=choice["lam"], edges=replace(ALL, pairs=choice["pairs"])))
    assert all(torch.equal(p, q) for p, q in zip(model.state_dict().values(), explicit.state_dict().values()))
    save_student(model, tmp_path / "s.pt")
    _, config = load_student(tmp_path / "s.pt")
    assert config["lir_choice"]["curve"] == choice["curve"] and config["student"]["lam"] == choice["lam"]
    assert config["lir_choice"]["requested"] == "auto"


@pytest.mark.parametrize("epochs", [1, 2, 5, 30, 80, 200])
@pytest.mark.parametrize("candidates", [1, 2, 3, 6])
@pytest.mark.parametrize("warm_share", [0.0, 0.25, 0.4])
@pytest.mark.parametrize("fit_share", [0.8, 1.0])
def test_choice_costs_at_most_one_training_run(epochs, candidates, warm_share, fit_share):
    warm, branch = plan_budget(epochs, candidates, fit_share=fit_share, warm_share=warm_share)
    assert branch >= 1 and (warm >= 1 if warm_share > 0 else warm == 0)
    floor = (1 + candidates + (warm_share > 0)) * fit_share  # one epoch per branch (and warm-up) at least
    if BUDGET * epochs >= floor:
        assert fit_share * (warm + (1 + candidates) * branch) <= BUDGET * epochs < epochs
    if BUDGET * epochs / fit_share >= round(epochs * warm_share) + 1 + candidates:  # room: the warm-up has its share
        assert warm == round(epochs * warm_share)


def test_query_ap_averages_to_the_retrieval_map(rng):
    from ililab_torch import cross_modal_map

    za, zv = rng.standard_normal((12, 4)), rng.standard_normal((12, 4))
    labels = np.arange(12) % 3
    assert query_ap(za, zv, labels).mean() == pytest.approx(cross_modal_map(za, zv, labels)["mean"])


def test_validation_split_is_stratified_and_seeded():
    labels = np.repeat(np.arange(3), [10, 5, 1])
    fit, val = validation_split(labels, 0.2, seed=0)
    assert np.array_equal(np.sort(np.concatenate([fit, val])), np.arange(labels.size))
    assert set(labels[val]) == {0, 1} and 2 in set(labels[fit])
    assert np.array_equal(val, validation_split(labels, 0.2, seed=0)[1])


def test_config_checks_lam_and_pairs():
    with pytest.raises(UsageError, match="'auto'"):
        StudentConfig(lam="best").validate()
    with pytest.raises(UsageError, match="pairs"):
        StudentConfig(edges=EdgeFilter(pairs="nodes")).validate()
    assert StudentConfig().lam == "auto" and StudentConfig().pairs == "auto"


def test_cli_defaults_to_auto_and_reports_lir_off(run_cli, tmp_path, wrong):
    from ililab_torch import save_features

    data, train, soft, graph = wrong
    save_features(data, tmp_path / "f.npz")
    np.save(tmp_path / "soft.npy", soft)
    (tmp_path / "soft_names.txt").write_text("\n".join(data.soft_label_names()) + "\n")
    graph.save(tmp_path / "g.json")
    r = run_cli("student", "train", tmp_path / "f.npz", "--graph", tmp_path / "g.json", "--soft-labels",
                tmp_path / "soft.npy", "-o", tmp_path / "s.pt", "--epochs", "6", "--hidden", "16", "--embed-dim", "8",
                "--batch-size", "16", "--top-k", "0", "--threads", "1")
    assert r.code == 0, r.err
    assert "lambda auto -> 0: LIR off (no lambda beats lambda 0" in r.err and "classes 2: " in r.err
    assert "metric only, LIR off" in r.err
    config = json.loads(torch.load(tmp_path / "s.pt", weights_only=True)["config"])
    assert config["lir_choice"]["lam"] == 0.0 and len(config["lir_choice"]["curve"]) == 2
    r = run_cli("student", "train", tmp_path / "f.npz", "-o", tmp_path / "x.pt", "--lambda", "lots")
    assert r.code == 2 and "neither a number nor 'auto'" in r.err


def test_class_standard_error_counts_classes_not_queries(rng):
    """AP changes that move with their class: the error over classes is the honest one, and it does not shrink when
    each class brings more queries (the per-query error does)."""
    from ililab_torch.auto import class_standard_error

    shift = rng.normal(0.0, 0.02, 6)  # one change per class
    for per_class in (4, 40):
        classes = np.repeat(np.arange(6), per_class)
        diff = shift[classes] + rng.normal(0.0, 1e-4, classes.size)
        per_query = diff.std(ddof=1) / np.sqrt(diff.size)
        clustered = class_standard_error(diff, classes)
        assert clustered == pytest.approx(shift.std(ddof=1) / np.sqrt(6), rel=0.05)
        assert clustered > 1.8 * per_query
    assert class_standard_error(np.array([0.1, 0.2]), np.array([3, 3])) == float("inf")


def test_a_checkpoint_with_the_flat_edge_settings_still_reads_as_nested(tmp_path):
    """Checkpoints written before ``StudentConfig.edges`` carry the 8 filter fields flat."""
    import json

    import torch
    from ililab_torch.student import CHECKPOINT_FORMAT, AVStudent

    model = AVStudent(4, 6, embed_dim=2, hidden=8)
    student = {"lam": 1.0, "seed": 0, "pairs": "classes", "top_k": 3, "cross_modal_only": True}
    config = {"format": CHECKPOINT_FORMAT, "dims": model.dims, "student": student, "lir_choice": None, "meta": {}}
    torch.save({"format": CHECKPOINT_FORMAT, "config": json.dumps(config), "state_dict": model.state_dict()},
               tmp_path / "old.pt")
    loaded, read = load_student(tmp_path / "old.pt")
    assert read["student"]["edges"] == {"pairs": "classes", "top_k": 3, "cross_modal_only": True}
    assert "pairs" not in read["student"] and loaded.config["lam"] == 1.0


def test_an_infinite_standard_error_is_stored_as_strict_json(tmp_path):
    """One validation class gives se = inf (nothing to tell an effect from noise): the checkpoint and the summary
    must stay strict JSON (no ``Infinity``), and the one-line summary must still print."""
    from ililab_torch.auto import LirChoice
    from ililab_torch.student import AVStudent

    def strict(text: str):
        return json.loads(text, parse_constant=lambda name: pytest.fail(f"non-JSON constant {name}"))

    point = {"lam": 2.0, "pairs": "edges", "val_map": 0.5, "gain": 0.01, "se": float("inf"), "se_query": 0.002,
             "bound": float("-inf")}
    choice = LirChoice(0.0, "edges", 0.49, [point], "no lambda beats lambda 0", 8, 2, 1, 1, 3.0)
    stored = choice.as_dict()
    assert stored["curve"][0]["se"] is None and stored["curve"][0]["bound"] is None
    assert stored["curve"][0]["gain"] == 0.01
    model = AVStudent(4, 6, embed_dim=2, hidden=8)
    model.lir_choice = stored
    save_student(model, tmp_path / "s.pt")
    config = strict(torch.load(tmp_path / "s.pt", weights_only=True)["config"])
    assert config["lir_choice"]["curve"][0]["se"] is None
    again = LirChoice(**{k: v for k, v in config["lir_choice"].items() if k != "requested"})  # as the CLI does
    assert "edges 2: +0.0100 ± inf" in again.summary()


def test_student_config_from_a_checkpoint(tmp_path, wrong):
    """``StudentConfig.from_dict(config["student"])`` rebuilds the settings a checkpoint was trained with (auto
    resolved), also from a checkpoint written before the edge settings were nested."""
    from ililab_torch.student import CHECKPOINT_FORMAT, AVStudent

    data, train, soft, graph = wrong
    config = StudentConfig(**FAST, lam=1.5, edges=EdgeFilter(top_k=2, pairs="classes"), seed=3)
    model = train_student(data, train, soft, graph, config)
    save_student(model, tmp_path / "s.pt")
    assert StudentConfig.from_dict(load_student(tmp_path / "s.pt")[1]["student"]) == config
    old = {"lam": 1.0, "seed": 0, "pairs": "classes", "top_k": 3, "cross_modal_only": True}
    net = AVStudent(4, 6, embed_dim=2, hidden=8)
    stored = {"format": CHECKPOINT_FORMAT, "dims": net.dims, "student": old, "lir_choice": None, "meta": {}}
    torch.save({"format": CHECKPOINT_FORMAT, "config": json.dumps(stored), "state_dict": net.state_dict()},
               tmp_path / "old.pt")
    rebuilt = StudentConfig.from_dict(load_student(tmp_path / "old.pt")[1]["student"])
    assert rebuilt.lam == 1.0 and rebuilt.edges == EdgeFilter(top_k=3, pairs="classes", cross_modal_only=True)
    with pytest.raises(UsageError, match="unknown student parameter"):
        StudentConfig.from_dict({"lam": 1.0, "lamda": 2.0})


def test_edge_filter_default_reads_like_the_students_auto_outside_the_choice(tiny_sim):
    """A bare EdgeFilter says "edges"; the student's "auto" means the same wherever nothing chooses."""
    from ililab_torch.adapters import kept_edges

    assert EdgeFilter().pairs == "edges" and StudentConfig().edges == EdgeFilter(pairs="auto")
    graph = tiny_sim.true_graph
    assert kept_edges(graph, EdgeFilter(pairs="auto")) == kept_edges(graph, EdgeFilter())


def test_validation_folds_hold_every_clip_out_once_stratified_and_seeded():
    from ililab_torch.auto import validation_folds

    labels = np.repeat(np.arange(3), [10, 7, 1])
    folds = validation_folds(labels, 0.2, 2, seed=4)
    held = np.concatenate([val for _, val in folds])
    assert np.array_equal(np.sort(held), np.arange(labels.size))  # every clip a validation clip exactly once
    for fit, val in folds:
        assert np.intersect1d(fit, val).size == 0 and fit.size + val.size == labels.size
        assert abs((labels[val] == 0).sum() - 5) == 0 and abs((labels[val] == 1).sum() - 3.5) == 0.5  # stratified
    again = validation_folds(labels, 0.2, 2, seed=4)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    assert not np.array_equal(folds[0][1], validation_folds(labels, 0.2, 2, seed=5)[0][1])
    assert validation_folds(labels, 0.2, 1, seed=4)[0][1].size == validation_split(labels, 0.2, 4)[1].size
    with pytest.raises(UsageError, match="folds"):
        validation_folds(labels, 0.2, 0, seed=4)


def test_two_folds_validate_on_every_train_clip(wrong):
    """Two folds: the validation queries are all the train clips, each in the fold where it was held out;
    the default is one 20 % split after a warm-up."""
    from ililab_torch import choose_lir

    data, train, soft, graph = wrong
    two = AutoPlan(folds=2, warm_share=0.0, budget=0.5)
    choice = choose_lir(data, train, soft, graph, StudentConfig(**FAST, edges=ALL), auto_plan=two)
    assert choice.folds == 2 and choice.val_clips == train.size and choice.fit_clips == train.size
    assert choice.warm_epochs == 0 and choice.branch_epochs >= 1
    assert "train clips in 2 folds" in choice.summary()
    default = choose_lir(data, train, soft, graph, StudentConfig(**FAST, edges=ALL))
    assert default.folds == 1 and default.val_clips < train.size / 2 and default.warm_epochs >= 1


def test_plan_budget_pins_the_default_sizes_and_takes_a_budget():
    # 80 epochs: the sizes of every held-out run (700-704, 900-904); short runs shorten the warm-up first
    assert plan_budget(80, 2, fit_share=0.8, warm_share=0.4) == (32, 7)
    assert plan_budget(6, 2, fit_share=0.8, warm_share=0.4) == (1, 1)
    assert plan_budget(80, 2, fit_share=1.0, warm_share=0.0, budget=0.5) == (0, 13)
    assert plan_budget(80, 2, fit_share=1.0, warm_share=0.0, budget=0.25) == (0, 6)
    with pytest.raises(TypeError):
        plan_budget(80, 2, 0.8, 0.4)  # the shares are keyword-only: their meaning changed once


@pytest.mark.parametrize("bad", [dict(folds=0), dict(folds=2.0), dict(warm_share=-0.1), dict(warm_share=1.0),
                                 dict(budget=-1.0), dict(budget=float("inf")), dict(val_fraction=1.0),
                                 dict(lambdas=()), dict(lambdas=(float("nan"),)), dict(z=float("nan"))])
def test_auto_plan_refuses_bad_settings(bad):
    with pytest.raises(UsageError):
        AutoPlan(**bad)


@pytest.mark.parametrize("bad", [dict(lr=float("inf")), dict(weight_decay=float("nan")), dict(margin=float("inf")),
                                 dict(tau=float("nan")), dict(lam=float("inf")), dict(lam=float("nan"))])
def test_non_finite_student_settings_are_refused_before_training(bad):
    with pytest.raises(UsageError):
        StudentConfig(**bad).validate()
    with pytest.raises(UsageError, match="min_weight"):
        EdgeFilter(min_weight=float("nan"))


def test_a_non_finite_meta_is_a_clear_error_and_writes_nothing(tmp_path):
    from ililab_torch import AVStudent

    from ililab.errors import DataError

    target = tmp_path / "s.pt"
    with pytest.raises(DataError, match="strict JSON"):
        save_student(AVStudent(4, 6, embed_dim=2, hidden=8), target, meta={"loss": float("nan")})
    assert list(tmp_path.iterdir()) == []
