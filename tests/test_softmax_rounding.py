"""'identified' and rounding: small stored probabilities, the rounding step, robustness of the inversion."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ililab import _softmax_candidates, _softmax_model
from ililab import softmax as sm
from ililab import softmax_transform as st
from ililab.io import make_nodes
from ililab.probability_blocks import _rounding_step, detect_probability_blocks, rounding_noise
from ililab.simulate import simulate_soft_labels
from ililab.transforms import transform_dataset


def _quiet_transform(p, nodes, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transform_dataset(p, nodes, name)


@pytest.mark.parametrize(
    ("classes", "n", "degree", "seed", "dtype", "decimals", "step"),
    [(20, 8000, 1.0, 609832, "float16", 3, 1e-3), (50, 2000, 2.0, 975279, "float32", 6, 1e-6)],
)
def test_rounding_noise_refuses_a_claim_the_sweep_found_wrong(classes, n, degree, seed, dtype, decimals, step, monkeypatch):
    # benchmarks/softmax_sweep.py --seed 7, configurations 290 and 559: rounded, 100x imbalance,
    # chained logits (w = 3). The rare classes of the first sit at 1-4 rounding steps; the logits of
    # the second share all but a sliver of their variance. Either way rounding noise swamps what
    # the graph is read from; both were claimed identified (F1 0.32 and 0.26).
    sim = simulate_soft_labels(
        classes, n, ("audio",), degree, seed, 1.0, dtype=dtype, decimals=decimals, imbalance=100.0,
        chain=3.0, weight_range=(0.5, 1.5), standardize=True,
    )
    nodes = make_nodes(classes, sim.names)
    # the misfit check (which comes first) may refuse it too: without it, this is the rounding check's
    monkeypatch.setattr(_softmax_model, "MISFIT_LIMIT", float("inf"))
    ds = _quiet_transform(sim.probabilities, nodes, "auto")
    info = ds.info["softmax"]
    assert info["identified"] is False and "rounding" in info["reason"]
    assert info["rounding_step"] == pytest.approx(step)
    assert info["rounding_noise"] > st.ROUNDING_NOISE_LIMIT


def test_clean_rounding_keeps_the_claim():
    sim = simulate_soft_labels(10, 5000, ("audio",), seed=1, decimals=4)
    ds = _quiet_transform(sim.probabilities, make_nodes(10, sim.names), "softmax")
    info = ds.info["softmax"]
    assert info["rounding_step"] == pytest.approx(1e-4)
    assert 0 < info["rounding_noise"] < 0.01 and info["identified"]


@pytest.mark.parametrize(
    ("dtype", "decimals", "step"),
    [("float16", 3, 1e-3), ("float32", 6, 1e-6), ("float64", 4, 1e-4), ("float16", None, 0.0), ("float32", None, 0.0)],
)
def test_rounding_step_is_found_where_the_dtype_can_tell(dtype, decimals, step):
    p = simulate_soft_labels(10, 2000, ("audio",), seed=0, dtype=dtype, decimals=decimals).probabilities
    assert _rounding_step(p, p.dtype) == pytest.approx(step)
    blocks = detect_probability_blocks(p, make_nodes(10))
    assert blocks[0].step == pytest.approx(step)


def test_rounding_noise_is_the_uniform_error_of_the_log():
    p = np.array([[0.0, 0.001, 0.999], [0.5, 0.002, 0.498]])
    noise = rounding_noise(p, np.array([0, 1, 2]), 1e-3, chunk_rows=1)
    # class 0: only 0.5 counts (the stored 0 is censored); class 1: (1/1)²/12 and (1/2)²/12
    assert noise[0] == pytest.approx((0.002**2) / 12)
    assert noise[1] == pytest.approx((1 + 0.25) / 24)
    # float16 without decimals: the dtype's own spacing (2**-12 at 0.25)
    half = np.array([[0.25, 0.75]], dtype=np.float16)
    assert rounding_noise(half, np.array([0, 1]), 0.0)[0] == pytest.approx((2.0**-12 / 0.25) ** 2 / 12)


def test_rounding_noise_share_is_against_the_innovation_variance():
    p = np.array([[0.001, 0.5, 0.499], [0.002, 0.3, 0.698]])
    noise = rounding_noise(p, np.arange(3), 1e-3)
    covariance = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 2.0]])
    share, where = st.rounding_noise_share(p, [np.arange(3)], [1e-3], covariance)
    # class 0's logit shares 81% of its variance with class 1: its innovation variance is 0.19
    assert where == 0 and share == pytest.approx(noise[0] / 0.19)
    assert st.rounding_noise_share(p, [np.arange(3)], [1e-3], np.zeros((3, 3)))[0] == np.inf


# -- robustness of the inversion -----------------------------------------------------------


def test_fit_never_scores_a_singular_completion():
    u = _softmax_model.block_indicators(3, [np.arange(3)])
    h = np.eye(3) - 1 / 3
    cov_w = h @ np.diag([1.0, 2.0, 3.0]) @ h
    indefinite = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.9], [0.0, 0.9, 1.0]])  # eigenvalue 1 - 0.9·√2 < 0
    fit = _softmax_model._fit(indefinite, cov_w, u, 100, 4.0, 0)
    assert fit.bic == -np.inf
    assert np.isfinite(_softmax_model._fit(np.diag([1.0, 2.0, 3.0]), cov_w, u, 100, 4.0, 0).bic)


def test_row_search_skips_a_trial_that_fails(monkeypatch):
    sim = simulate_soft_labels(8, 3000, ("audio",), seed=2)
    w, _ = sm.centred_logits(sim.probabilities)
    cov_w = np.cov(w, rowvar=False)
    u = sm.block_indicators(8, [np.arange(8)])
    k, s = sm.centred_precision(cov_w, u)
    result = sm.invert_softmax(cov_w, 3000, [np.arange(8)])
    best = _softmax_model._fit(result.covariance, s, u, 3000, 4.0, 0)

    def singular(*args):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(_softmax_candidates, "complete_covariance", singular)
    found, moved = _softmax_candidates._row_search(k, s, u, 3000, best, 4.0, 0, budget=20)
    assert found is best and moved is False


def test_tuning_constants_have_one_place_to_be_set(monkeypatch):
    sim = simulate_soft_labels(10, 3000, ("audio",), seed=1)
    w, _ = sm.centred_logits(sim.probabilities)
    cov_w = np.cov(w, rowvar=False)
    assert sm.invert_softmax(cov_w, 3000, [np.arange(10)]).info["bic_margin"] is not None
    monkeypatch.setattr(sm, "FAST_ABOVE", 5)  # set through ililab.softmax ...
    assert _softmax_model.FAST_ABOVE == 5 and sm.FAST_ABOVE == 5
    # ... and the inversion uses it: above FAST_ABOVE columns candidates are ranked by zeros alone
    assert sm.invert_softmax(cov_w, 3000, [np.arange(10)]).info["bic_margin"] is None
    monkeypatch.undo()
    assert _softmax_model.FAST_ABOVE == 200


def test_auto_fallback_reuses_the_censored_fill_without_putting_it_in_info(monkeypatch):
    from ililab import transform_plan

    sim = simulate_soft_labels(10, 3000, ("audio",), seed=1)
    p = sim.probabilities.copy()
    p[p < np.quantile(p, 0.02)] = 0.0  # censored values to fill
    calls = []
    real = transform_plan.fill_censored
    monkeypatch.setattr(transform_plan, "fill_censored", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(_softmax_model, "OVERIDENTIFICATION", 100.0)  # the graph check fails: auto falls back to log
    ds = _quiet_transform(p, make_nodes(10, sim.names), "auto")
    assert ds.info["transform"] == "log" and ds.info["censored_values"] > 0
    assert len(calls) == 1  # the softmax attempt's fill of the same rows, reused
    assert not any(key.startswith("_") for key in ds.info)


def test_probability_detection_reads_bounded_chunks(monkeypatch):
    from ililab import probability_blocks, stats

    seen = []
    real = probability_blocks.iter_chunks
    monkeypatch.setattr(probability_blocks, "iter_chunks", lambda arrays, rows=None: seen.append(rows) or real(arrays, rows))
    p = simulate_soft_labels(50, 200, ("audio", "visual"), seed=0).probabilities
    detect_probability_blocks(p, make_nodes(100))
    assert seen and all(rows <= stats.auto_chunk_rows(100) for rows in seen)


@pytest.mark.parametrize(("dtype", "margin"), [(np.float16, 9.0), (np.float32, 25.0)])
def test_tiny_probabilities_of_a_confident_teacher_are_not_read_as_rounding(dtype, margin):
    # One class far ahead: the rest sit at ~1e-4 (float16) or ~1e-11 (float32), non-zero values below
    # half of every step up to 1e-7, which refute rounding there instead of counting as multiples.
    rng = np.random.default_rng(0)
    logits = 0.05 * rng.normal(size=(2000, 10))
    logits[:, 0] += margin
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = (e / e.sum(axis=1, keepdims=True)).astype(dtype)
    assert (p > 0).all()
    assert _rounding_step(p, p.dtype) == 0.0
    assert detect_probability_blocks(p, make_nodes(10))[0].step == 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = transform_dataset(p, make_nodes(10), "auto")
    assert not ds.info.get("censored_values")
    assert not [w for w in caught if "censored" in str(w.message)]


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_completion_is_rejected_without_a_pseudo_inverse(bad, monkeypatch):
    # np.linalg.pinv raises on NaN and never returns on inf; the omega of a rejected fit is not read.
    def no_pinv(*args, **kwargs):
        raise AssertionError("pinv of a rejected completion")

    monkeypatch.setattr(np.linalg, "pinv", no_pinv)
    cov = np.eye(3)
    cov[0, 1] = cov[1, 0] = bad
    u = sm.block_indicators(3, [np.arange(3)])
    fit = _softmax_model._fit(cov, np.eye(3), u, 100, 1.0, 0)
    assert fit.bic == -np.inf and np.isnan(fit.omega).all()


def test_unrounded_float64_skips_the_rounding_noise_pass(monkeypatch):
    # float64 without a rounding step carries ~1e-33 rounding noise: no second read of the data
    def no_pass(*args, **kwargs):
        raise AssertionError("rounding noise pass on unrounded float64")

    monkeypatch.setattr(st, "rounding_noise_share", no_pass)
    sim = simulate_soft_labels(10, 3000, ("audio",), seed=1)
    ds = _quiet_transform(sim.probabilities, make_nodes(10, sim.names), "softmax")
    info = ds.info["softmax"]
    assert info["rounding_step"] == 0.0 and info["rounding_noise"] == 0.0
    # float32 keeps the pass (coarse spacing, subnormals)
    with pytest.raises(AssertionError, match="rounding noise pass"):
        _quiet_transform(sim.probabilities.astype(np.float32), make_nodes(10, sim.names), "softmax")
