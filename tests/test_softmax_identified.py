"""The 'identified' claim of the softmax inversion: the model-fit and partial-correlation checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ililab
from ililab import _softmax_model
from ililab import softmax as sm
from ililab.io import make_nodes
from ililab.metrics import adjacency_scores
from ililab.simulate import simulate_soft_labels
from ililab.stats import covariance
from ililab.transforms import IlilabWarning, transform_dataset


@pytest.fixture(scope="module")
def one_block():
    return simulate_soft_labels(10, 5000, modalities=("audio",), seed=1)


@pytest.fixture(scope="module")
def chained_1x8():
    # configuration 93 of `benchmarks/softmax_sweep.py --seed 11`: claimed identified with F1 0.70
    # (split-half 0.31, relative se 0.04, overidentification 2.1: every other check passed)
    return simulate_soft_labels(
        8, 8000, ("audio",), 2.0, 568088, 6.0, dtype="float32", imbalance=100.0, chain=1.0,
        weight_range=(0.5, 1.5), standardize=True,
    )


def _centred(sim):
    c = sim.logits.shape[1]
    h = np.eye(c) - 1.0 / c
    return h @ covariance(sim.logits.astype(np.float64)) @ h


def test_misfit_of_the_true_graph_is_about_its_degrees_of_freedom(one_block):
    c = 10
    u = np.ones((c, 1))
    s = _centred(one_block)
    dag = one_block.true_graph.adjacency() != 0
    truth = _softmax_model._dag_precision(covariance(one_block.logits), dag)
    deviance, df = sm.model_misfit(truth, s, u, 5000, int(dag.sum()))
    assert df == 9 * 10 // 2 - (int(dag.sum()) + 10)
    assert 0.3 < deviance / df < 2.0  # about chi-squared with df degrees of freedom
    # the empty graph (independent logits) leaves every dependence unexplained
    empty = _softmax_model._dag_precision(covariance(one_block.logits), np.zeros_like(dag))
    deviance, df = sm.model_misfit(empty, s, u, 5000, 0)
    assert deviance / df > 50 * sm.MISFIT_LIMIT


def test_a_right_claim_passes_both_checks(one_block):
    ds = transform_dataset(one_block.probabilities, make_nodes(10, one_block.names), "softmax")
    info = ds.info["softmax"]
    assert info["identified"] is True
    assert 0.3 < info["misfit"] < sm.MISFIT_LIMIT
    assert 0 < info["pcorr_shift"] < sm.PCORR_SHIFT_LIMIT


def test_a_graph_that_does_not_explain_the_data_is_not_claimed_but_kept(chained_1x8):
    nodes = make_nodes(8, chained_1x8.names)
    with pytest.warns(IlilabWarning, match="measured better than plain transforms"):
        ds = transform_dataset(chained_1x8.probabilities, nodes, "auto")
    info = ds.info["softmax"]
    assert info["misfit"] > 3 * sm.MISFIT_LIMIT and info["misfit_edges"] > 1
    assert info["identified"] is False and "does not explain" in info["reason"]
    assert ds.info["transform"] == "softmax" and info["kept_unidentified"]  # the label changed, not the graph


def test_without_the_misfit_check_the_chained_block_was_a_wrong_claim(chained_1x8, monkeypatch):
    monkeypatch.setattr(_softmax_model, "MISFIT_LIMIT", float("inf"))
    monkeypatch.setattr(_softmax_model, "RIVAL_LIMIT", -np.inf)  # a rival 0.33 edges below refuses it too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = ililab.infer_graph(chained_1x8.probabilities, names=chained_1x8.names, seed=0)
    assert graph.meta["data"]["softmax"]["identified"] is True
    assert adjacency_scores(graph, chained_1x8.true_graph).f1 < 0.9


def test_a_misfit_worth_less_than_one_edge_is_not_held_against_the_claim(one_block, monkeypatch):
    # a diffuse misfit (rounding, many weak edges below the penalty) is not a wrong graph: the
    # unexplained deviance must also exceed one edge's BIC penalty
    nodes = make_nodes(10, one_block.names)
    monkeypatch.setattr(_softmax_model, "MISFIT_LIMIT", 0.0)
    ds = transform_dataset(one_block.probabilities, nodes, "softmax")
    assert ds.info["softmax"]["misfit_edges"] < 1 and ds.info["softmax"]["identified"] is True


def test_a_normalisation_that_decides_the_edges_is_not_claimed_but_kept(one_block, monkeypatch):
    nodes = make_nodes(10, one_block.names)
    monkeypatch.setattr(_softmax_model, "PCORR_SHIFT_LIMIT", 0.01)  # every normalisation "too uncertain"
    with pytest.warns(IlilabWarning, match="measured better than plain transforms"):
        ds = transform_dataset(one_block.probabilities, nodes, "auto")
    info = ds.info["softmax"]
    assert info["identified"] is False and "partial correlation" in info["reason"]
    assert ds.info["transform"] == "softmax" and info["kept_unidentified"]


def test_partial_correlation_shift_scales_with_the_step_and_with_root_n():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 6))
    omega = a @ a.T + 6 * np.eye(6)
    b = rng.standard_normal((6, 1))
    k = omega - b @ b.T
    step = rng.standard_normal((6, 1))
    assert _softmax_model._partial_correlation_shift(k, b, 0 * step, 100) == 0.0
    small = _softmax_model._partial_correlation_shift(k, b, 1e-4 * step, 100)
    assert _softmax_model._partial_correlation_shift(k, b, 2e-4 * step, 100) == pytest.approx(2 * small, rel=1e-3)
    assert _softmax_model._partial_correlation_shift(k, b, 1e-4 * step, 400) == pytest.approx(2 * small)


def test_a_non_finite_partial_correlation_shift_is_nan_not_zero():
    # a weakest direction with a zero singular value gives a step of ~1e300: the moved precision
    # overflows; Python's max(0.0, nan) used to keep 0.0, a shift that passes the check
    k = np.array([[2.0, 0.5, 0.0], [0.5, 2.0, 0.5], [0.0, 0.5, 2.0]])
    b = np.ones((3, 1))
    with np.errstate(all="ignore"):
        shift = _softmax_model._partial_correlation_shift(k, b, np.full((3, 1), 1e300), 1000)
    assert np.isnan(shift)
    assert np.isfinite(_softmax_model._partial_correlation_shift(k, b, np.full((3, 1), 0.01), 1000))


def test_a_non_finite_misfit_of_a_non_positive_eigenvalue():
    u = _softmax_model.block_indicators(3, [np.arange(3)])
    h = np.eye(3) - 1 / 3
    s = h @ np.diag([1.0, -2.0, 3.0]) @ h  # not a covariance: a negative eigenvalue
    with np.errstate(all="ignore"):
        deviance, _ = sm.model_misfit(np.diag([1.0, 0.5, 1 / 3]), s, u, 100, 0)
    assert not np.isfinite(deviance)


@pytest.mark.parametrize("check", ["misfit", "pcorr_shift"])
def test_a_non_finite_check_refuses_the_claim_and_stores_null(one_block, monkeypatch, check):
    if check == "misfit":
        monkeypatch.setattr(sm, "model_misfit", lambda *args: (float("nan"), 5))
    else:
        monkeypatch.setattr(_softmax_model, "_partial_correlation_shift", lambda *args: float("nan"))
    with pytest.warns(IlilabWarning, match="not identified"):
        ds = transform_dataset(one_block.probabilities, make_nodes(10, one_block.names), "softmax")
    info = ds.info["softmax"]
    assert info["identified"] is False and "not finite" in info["reason"]
    assert info[check] is None  # JSON null, not NaN
    if check == "misfit":
        assert info["misfit_edges"] is None


@pytest.fixture(scope="module")
def chained_1x8_n1000():
    # configuration 105 of `benchmarks/softmax_sweep.py --seed 19`: claimed identified with F1 0.71
    # (misfit 1.0, every other check passed); a rival normalisation scored 0.06 edges below it
    return simulate_soft_labels(
        8, 1000, ("audio",), 1.0, 739191, 1.0, chain=1.0, weight_range=(0.5, 1.5), standardize=False
    )


def test_a_rival_normalisation_within_one_edge_refuses_the_claim_but_keeps_the_inversion(chained_1x8_n1000):
    sim = chained_1x8_n1000
    with pytest.warns(IlilabWarning, match="measured better than plain transforms"):
        graph = ililab.infer_graph(sim.probabilities, names=sim.names, seed=0)
    info = graph.meta["data"]["softmax"]
    assert info["identified"] is False and "cannot choose between them" in info["reason"]
    assert 0 <= info["rival_gap"] < sm.RIVAL_LIMIT
    assert graph.meta["transform"] == "softmax" and info["kept_unidentified"]


def test_without_the_rival_check_the_chained_block_was_a_wrong_claim(chained_1x8_n1000, monkeypatch):
    sim = chained_1x8_n1000
    monkeypatch.setattr(_softmax_model, "RIVAL_LIMIT", -np.inf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = ililab.infer_graph(sim.probabilities, names=sim.names, seed=0)
    assert graph.meta["data"]["softmax"]["identified"] is True
    assert adjacency_scores(graph, sim.true_graph).f1 < 0.9


def test_a_right_claim_has_no_close_rival(one_block):
    ds = transform_dataset(one_block.probabilities, make_nodes(10, one_block.names), "softmax")
    gap = ds.info["softmax"].get("rival_gap")
    assert ds.info["softmax"]["identified"] is True and (gap is None or gap >= sm.RIVAL_LIMIT)


def test_rival_gap_counts_only_completions_with_a_different_graph():
    chain = np.eye(4, k=1, dtype=bool)
    best = _softmax_model._Fit(-50.0, np.eye(4), chain, np.eye(4))
    one_edge = 2.0 * np.log(100)  # c/2 log n with c = 4
    near_same = chain.copy()  # the same adjacencies: not a rival however close
    other = np.eye(4, k=2, dtype=bool)
    tried = [(-50.0, near_same), (-50.0 - 3 * one_edge, other), (-50.0 - 2 * one_edge, other.T)]
    assert _softmax_model.rival_gap(best, tried, 100, 4.0) == pytest.approx(2.0)
    assert _softmax_model.rival_gap(best, [(-50.0, near_same)], 100, 4.0) is None
    assert _softmax_model.rival_gap(best, [(-np.inf, other)], 100, 4.0) is None  # a singular completion


def test_too_few_rows_to_split_refuse_the_claim_but_keep_the_inversion():
    # 1 x 30 at n = 110 < 4 x 30: every graph-side check passes, the halves cannot be checked
    sim = simulate_soft_labels(30, 110, modalities=("audio",), seed=2)
    with pytest.warns(IlilabWarning, match="measured better than plain transforms"):
        ds = transform_dataset(sim.probabilities, make_nodes(30, sim.names), "auto")
    info = ds.info["softmax"]
    assert info["identified"] is False and "too few to check the normalisation on two halves" in info["reason"]
    assert "relative_se" in info and "split_half" not in info
    assert ds.info["transform"] == "softmax" and info["kept_unidentified"]


def test_four_rows_per_class_are_enough_to_check_the_halves():
    sim = simulate_soft_labels(30, 4 * 30, modalities=("audio",), seed=2)
    ds = transform_dataset(sim.probabilities, make_nodes(30, sim.names), "softmax")
    assert ds.info["softmax"]["identified"] is True and "split_half" in ds.info["softmax"]


def test_every_scored_completion_is_a_possible_rival(one_block, monkeypatch):
    # candidates, EM steps and row moves: each fit with a finite BIC must reach rival_gap
    from ililab import _softmax_candidates

    finite, seen = [], []
    real_fit, real_gap = _softmax_model._fit, _softmax_candidates.rival_gap

    def counting_fit(*args, **kwargs):
        fit = real_fit(*args, **kwargs)
        finite.append(np.isfinite(fit.bic))
        return fit

    def capturing_gap(best, tried, n, penalty):
        seen.append(len(tried))
        return real_gap(best, tried, n, penalty)

    monkeypatch.setattr(_softmax_model, "_fit", counting_fit)  # what _structural_em calls
    monkeypatch.setattr(_softmax_candidates, "_fit", counting_fit)  # candidates and row moves
    monkeypatch.setattr(_softmax_candidates, "rival_gap", capturing_gap)
    w, _ = sm.centred_logits(one_block.probabilities)
    result = sm.invert_softmax(np.cov(w, rowvar=False), 5000, [np.arange(10)])
    assert result.info["em_steps"] >= 1 or sum(finite) > result.info["candidates"]  # EM trials were fitted
    assert seen == [sum(finite)]


@pytest.mark.parametrize("fast", [False, True])
def test_a_penalty_that_is_not_positive_is_refused(fast, monkeypatch):
    # the fast path (above FAST_ABOVE columns) fits no BIC score that would refuse it later
    if fast:
        monkeypatch.setattr(_softmax_model, "FAST_ABOVE", 2)
    sim = simulate_soft_labels(6, 500, modalities=("audio",), seed=0)
    w, _ = sm.centred_logits(sim.probabilities)
    with pytest.raises(ValueError, match="penalty must be positive"):
        sm.invert_softmax(np.cov(w, rowvar=False), 500, [np.arange(6)], penalty=0.0)


def test_a_rival_scoring_above_the_selected_completion_is_said_so(one_block, monkeypatch):
    # an EM step gaining less than EM_TOLERANCE is recorded but not taken: its gap is negative
    import dataclasses

    real = sm._search_completion
    monkeypatch.setattr(sm, "_search_completion", lambda *a: dataclasses.replace(real(*a), rival_gap=-0.25))
    w, _ = sm.centred_logits(one_block.probabilities)
    result = sm.invert_softmax(np.cov(w, rowvar=False), 5000, [np.arange(10)])
    assert result.identified is False and result.info["rival_gap"] == -0.25
    assert "0.25 edges' BIC penalty above the selected one" in result.info["reason"]


def test_a_dense_selected_graph_refuses_the_claim_but_keeps_the_inversion(one_block, monkeypatch):
    # DENSE_LIMIT edges per class: the 1 x 10 block's graph has 7-8 edges, so a limit of 0.5 makes it
    # "dense"; the same inversion is still used by auto (a relabel only, like the other graph checks)
    claimed = transform_dataset(one_block.probabilities, make_nodes(10, one_block.names), "auto")
    assert claimed.info["softmax"]["identified"] is True
    edges = claimed.info["softmax"]["edges"]
    assert 0.5 * 10 < edges <= sm.DENSE_LIMIT * 10
    monkeypatch.setattr(_softmax_model, "DENSE_LIMIT", 0.5)
    with pytest.warns(IlilabWarning, match="measured better than plain transforms"):
        refused = transform_dataset(one_block.probabilities, make_nodes(10, one_block.names), "auto")
    info = refused.info["softmax"]
    assert info["identified"] is False and f"({edges / 10:.2f} edges per column, limit 0.5)" in info["reason"]
    assert info["kept_unidentified"] and np.array_equal(refused.covariance, claimed.covariance)


def test_the_density_check_is_not_applied_to_the_fast_paths_precision_support(one_block, monkeypatch):
    # above FAST_ABOVE columns no DAG is fitted: `edges` counts a thresholded precision's support,
    # whose noise entries grow with p (2 x 527 had ~7 per column), so it cannot refuse the claim there
    monkeypatch.setattr(_softmax_model, "FAST_ABOVE", 5)
    monkeypatch.setattr(_softmax_model, "DENSE_LIMIT", 0.5)
    ds = transform_dataset(one_block.probabilities, make_nodes(10, one_block.names), "softmax")
    info = ds.info["softmax"]
    assert info["edges"] > 0.5 * 10 and info["identified"] is True
