import warnings

import numpy as np
import pytest

from ililab.errors import DataError, UsageError
from ililab.graph import Node
from ililab.io import make_nodes
from ililab.transforms import IlilabWarning, detect_simplex_blocks, transform_dataset


def _nodes(names):
    return make_nodes(len(names), names)


def test_detects_modality_blocks(soft_small):
    nodes = _nodes(soft_small.names)
    blocks = detect_simplex_blocks(soft_small.probabilities, nodes)
    assert [b.name for b in blocks] == ["audio", "visual"]
    assert [len(b.columns) for b in blocks] == [5, 5]


def test_detects_blocks_without_names(soft_small):
    nodes = [Node(f"x{i}") for i in range(10)]
    blocks = detect_simplex_blocks(soft_small.probabilities, nodes)
    assert [b.name for b in blocks] == ["columns 0-4", "columns 5-9"]


def test_non_simplex_passes_through(sem_small):
    nodes = [Node(f"x{i}") for i in range(6)]
    assert detect_simplex_blocks(sem_small.data, nodes) == []
    ds = transform_dataset(sem_small.data, nodes, "auto")
    assert ds.info["transform"] == "none"
    np.testing.assert_allclose(ds.covariance, np.cov(sem_small.data, rowvar=False))


def test_auto_gives_full_rank_and_keeps_every_node(soft_small):
    nodes = _nodes(soft_small.names)
    with pytest.warns(IlilabWarning, match="normalised probabilities"):
        ds = transform_dataset(soft_small.probabilities, nodes, "auto")
    assert ds.info["transform"] != "none"
    assert len(ds.graph_nodes) == 10
    assert np.linalg.matrix_rank(ds.covariance) == ds.covariance.shape[0]


def test_logit_values_and_censoring():
    p = np.array([[0.2, 0.8], [0.5, 0.5], [0.0, 1.0], [0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    nodes = [Node("a (m)", "a", "m"), Node("b (m)", "b", "m")]
    with pytest.warns(IlilabWarning, match="censored"):
        ds = transform_dataset(p, nodes, "logit")
    assert ds.data[0, 0] == pytest.approx(np.log(0.2 / 0.8))
    # a stored 0 (and 1) is censored: estimated beyond the smallest observed logit, counted in meta
    assert ds.info["censored_values"] == 2
    assert ds.data[2, 0] < np.log(0.2 / 0.8) and ds.data[2, 1] > np.log(0.8 / 0.2)
    assert np.isfinite(ds.data).all()


def test_clr_is_ridged_to_full_rank(soft_small):
    ds = transform_dataset(soft_small.probabilities, _nodes(soft_small.names), "clr")
    np.testing.assert_allclose(ds.data[:, :5].sum(axis=1), 0, atol=1e-9)
    assert np.linalg.matrix_rank(ds.covariance) == 10


def test_alr_keeps_reference_node_without_coordinate(soft_small):
    with pytest.warns(IlilabWarning, match="stay in the graph without edges"):
        ds = transform_dataset(soft_small.probabilities, _nodes(soft_small.names), "alr")
    assert len(ds.nodes) == 8 and len(ds.graph_nodes) == 10


def test_unknown_transform():
    with pytest.raises(UsageError, match="unknown transform"):
        transform_dataset(np.ones((3, 2)), [Node("a"), Node("b")], "magic")


@pytest.mark.parametrize("transform", ["none", "logit", "softmax", "auto"])
def test_no_more_rows_than_columns_is_refused_before_any_transform(transform):
    probabilities = np.full((5, 5), 0.2)
    with pytest.raises(DataError, match="5 rows for 5 columns"):
        transform_dataset(probabilities, make_nodes(5), transform)


# -- probabilities as real files hold them (issue 14) ---------------------------------------


@pytest.mark.parametrize(
    "options",
    [{"decimals": 4}, {"dtype": np.float16}, {"decimals": 3, "dtype": np.float32}],
    ids=["4 decimals", "float16", "3 decimals float32"],
)
def test_rounded_and_low_precision_probabilities_are_recognised_and_renormalised(options):
    from ililab.simulate import simulate_soft_labels

    sim = simulate_soft_labels(10, 3000, ("audio",), seed=2, **options)
    deviation = float(np.max(np.abs(sim.probabilities.astype(np.float64).sum(axis=1) - 1)))
    assert deviation > 1e-4  # beyond the strict tolerance: the old detection scored them raw
    nodes = make_nodes(10, sim.names)
    (block,) = detect_simplex_blocks(sim.probabilities, nodes)
    assert block.max_deviation == pytest.approx(deviation)
    with pytest.warns(IlilabWarning, match="sum to 1 only within"):
        ds = transform_dataset(sim.probabilities, nodes, "log")
    assert ds.info["row_sum_deviation"] == pytest.approx(deviation)
    # renormalised: exp of the log coordinates sums to 1 per row (up to the censored entries)
    sums = np.exp(ds.data).sum(axis=1)
    assert np.median(np.abs(sums - 1)) < 1e-9


def test_rounding_step_is_found_and_bounds_the_censored_values():
    from ililab.simulate import simulate_soft_labels
    from ililab.transforms import censoring_bounds, detect_probability_blocks

    sim = simulate_soft_labels(10, 2000, ("audio",), seed=1, decimals=4, logit_scale=3.0)
    (block,) = detect_probability_blocks(sim.probabilities, make_nodes(10, sim.names))
    assert block.step == pytest.approx(1e-4)
    assert censoring_bounds(np.float64, block.step) == pytest.approx((5e-5, 1 - 5e-5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = transform_dataset(sim.probabilities, make_nodes(10, sim.names), "log")
    zeros = sim.probabilities == 0
    assert ds.info["censored_values"] == int(zeros.sum()) > 0
    assert (ds.data[zeros] < np.log(5e-5) + 1e-9).mean() > 0.5  # mostly estimated below the bound


def test_probability_looking_data_scored_raw_are_warned_about(soft_small):
    with pytest.warns(IlilabWarning, match="look like probabilities"):
        transform_dataset(soft_small.probabilities, _nodes(soft_small.names), "none")


def test_sigmoid_outputs_get_a_per_column_logit_under_auto_and_logit():
    from ililab.simulate import simulate_soft_labels

    sim = simulate_soft_labels(8, 3000, ("audio", "visual"), seed=0, output="sigmoid", dtype=np.float32, logit_scale=3)
    nodes = make_nodes(16, sim.names)
    for transform in ("auto", "logit"):
        with pytest.warns(IlilabWarning, match="multi-label"):
            ds = transform_dataset(sim.probabilities, nodes, transform)
        assert ds.info["transform"] == "logit" and ds.info["sigmoid_blocks"] == ["audio", "visual"]
        inside = (sim.probabilities > 0) & (sim.probabilities < 1)
        np.testing.assert_allclose(ds.data[inside], sim.logits.astype(np.float64)[inside], atol=2e-3)


def test_hard_labels_are_not_probabilities():
    from ililab.transforms import detect_probability_blocks

    labels = np.eye(4)[np.arange(40) % 4]
    labels[:, 0] = np.arange(40) % 2  # not one-hot either: no simplex
    assert detect_probability_blocks(labels, make_nodes(4)) == []


def test_softmax_block_beside_a_sigmoid_block_works_block_by_block():
    from ililab.simulate import simulate_soft_labels
    from ililab.transforms import detect_probability_blocks

    soft = simulate_soft_labels(8, 3000, ("audio",), seed=3)
    tags = simulate_soft_labels(8, 3000, ("audio",), seed=4, output="sigmoid")
    values = np.hstack([soft.probabilities, tags.probabilities])
    kinds = [(b.name, b.kind) for b in detect_probability_blocks(values, make_nodes(16))]
    assert kinds == [("columns 0-7", "softmax"), ("columns 8-15", "sigmoid")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = transform_dataset(values, make_nodes(16), "log")
    np.testing.assert_allclose(ds.data[:, 8:], tags.logits, atol=1e-6)  # the sigmoid block got its logit
    np.testing.assert_allclose(ds.data[:, :8], np.log(soft.probabilities), atol=1e-9)


def test_auto_falling_back_to_log_fills_the_censored_values_once(monkeypatch):
    from ililab import transform_plan
    from ililab.simulate import simulate_soft_labels

    sim = simulate_soft_labels(3, 2000, ("audio", "visual"), seed=0, dtype=np.float32)
    p = sim.probabilities.copy()
    p[:20, 1] += p[:20, 0]  # rows still sum to 1
    p[:20, 0] = 0.0
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return fill(*args, **kwargs)

    fill = transform_plan.fill_censored
    monkeypatch.setattr(transform_plan, "fill_censored", counting)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = transform_dataset(p, make_nodes(6, sim.names), "auto")
    assert len([w for w in caught if "censored" in str(w.message)]) == 1  # said once, by the fallback
    # 2 x 3 classes: the softmax is not undone, `auto` falls back to log-probabilities with the same EM fill
    assert ds.info["transform"] == "log" and ds.info["censored_values"] == 20
    assert len(calls) == 1 and np.isfinite(ds.data).all() and (ds.data[:20, 0] < np.log(1.4e-45)).all()
    # the shared fill is a hand-over inside one call, not part of the dataset (bootstrap copies info)
    assert not [key for key in ds.info if key.startswith("_")]


def test_the_undone_softmax_keeps_no_private_hand_over_in_info():
    from ililab.simulate import simulate_soft_labels

    sim = simulate_soft_labels(12, 3000, ("audio",), seed=0, logit_scale=8, decimals=4)
    assert (sim.probabilities == 0).any()  # censored values: the EM fill ran
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = transform_dataset(sim.probabilities, make_nodes(12, sim.names), "auto")
    assert ds.info["transform"] == "softmax" and ds.info["censored_values"] > 0
    assert len([w for w in caught if "censored" in str(w.message)]) == 1
    assert not [key for key in ds.info if key.startswith("_")]


def test_the_dataset_carries_the_plan_and_source_bootstrap_reapplies(tmp_path, monkeypatch):
    from ililab import stats
    from ililab.bootstrap import _shared_for
    from ililab.io import make_nodes
    from ililab.simulate import simulate_soft_labels

    sim = simulate_soft_labels(3, 600, ("audio", "visual"), seed=0)
    nodes = make_nodes(6, sim.names)
    path = tmp_path / "p.npy"
    np.save(path, sim.probabilities)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        held = transform_dataset(sim.probabilities, nodes, "clr")
        monkeypatch.setattr(stats, "IN_MEMORY_BYTES", 0)
        streamed = transform_dataset(np.load(path, mmap_mode="r"), nodes, "clr")
    assert held.plan.name == "clr" and held.source is None and held.data is not None
    assert streamed.data is None and streamed.plan.name == "clr" and len(streamed.source) == 1
    shared = _shared_for(streamed, "grasp", {}, None, 0, None)
    assert shared.transform is streamed.plan and shared.regularise == streamed.plan.regularise
    assert not any(key.startswith("_plan") or key == "_source" for key in streamed.info)
