"""Covariance: in memory, streamed in chunks over memory maps and shards, weighted by bootstrap counts."""

import tracemalloc
import warnings

import numpy as np
import pytest

from ililab import stats, transforms
from ililab.errors import DataError, SingularCovarianceError
from ililab.graph import Node
from ililab.stats import (
    WEIGHT_BLOCK_ROWS,
    BootstrapCounts,
    check_covariance,
    chunk_moments,
    covariance,
    merge_moments,
    streaming_covariance,
    streaming_moments,
)


def _relative(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(7)
    mixing = rng.normal(size=(12, 12))
    return rng.normal(size=(5003, 12)) @ mixing + 10.0


def test_covariance_matches_numpy(rows):
    assert _relative(covariance(rows), np.cov(rows, rowvar=False)) < 1e-12
    with pytest.raises(DataError):
        covariance(rows[:1])


@pytest.mark.parametrize("chunk_rows", [1, 7, 64, 1000, 5003, 10**6])
def test_streaming_matches_numpy_cov(rows, chunk_rows):
    cov, n = streaming_covariance(rows, chunk_rows=chunk_rows)
    assert n == rows.shape[0]
    assert _relative(cov, np.cov(rows, rowvar=False)) < 1e-10


def test_streaming_is_stable_with_a_large_mean():
    # Raw sums of squares lose every digit here; centred moments with a shift do not.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20000, 3)) * 1e-3 + 1e8
    exact = x.astype(np.longdouble)
    centred = exact - exact.mean(axis=0)
    reference = np.asarray(centred.T @ centred / (len(x) - 1), dtype=np.float64)
    cov, _ = streaming_covariance(x, chunk_rows=333)
    assert _relative(cov, reference) < 1e-10
    naive = (x.T @ x - len(x) * np.outer(x.mean(0), x.mean(0))) / (len(x) - 1)
    assert _relative(naive, reference) > 1e-3  # the naive formula really fails on this data


def test_shards_equal_the_whole(rows, tmp_path):
    parts = np.array_split(rows, 4)
    paths = []
    for i, part in enumerate(parts):
        np.save(tmp_path / f"s{i}.npy", part)
        paths.append(tmp_path / f"s{i}.npy")
    maps = [np.load(p, mmap_mode="r") for p in paths]
    cov, n = streaming_covariance(maps, chunk_rows=500)
    assert n == rows.shape[0]
    assert _relative(cov, np.cov(rows, rowvar=False)) < 1e-10


def test_merge_is_the_moments_of_the_union(rows):
    a, b = chunk_moments(rows[:100]), chunk_moments(rows[100:])
    merged = merge_moments(a, b)
    assert merged.n == rows.shape[0]
    assert _relative(merged.covariance(), np.cov(rows, rowvar=False)) < 1e-12
    assert np.allclose(merged.mean, rows.mean(axis=0))
    empty = chunk_moments(rows[:0])
    assert merge_moments(empty, a) is a and merge_moments(a, empty) is a


def test_nan_in_a_later_chunk_names_the_global_row(rows):
    x = rows.copy()
    x[4321, 5] = np.nan
    with pytest.raises(DataError, match="NaN at row 4321, column 5"):
        streaming_moments(x, chunk_rows=1000)
    with pytest.raises(DataError, match="at least 2 rows"):
        streaming_moments(rows[:1])


def test_float32_and_big_endian_files_are_read_as_float64(rows, tmp_path):
    for dtype in ("<f4", ">f8", "<i4"):
        path = tmp_path / f"x{dtype.replace('<', 'l').replace('>', 'b')}.npy"
        np.save(path, (rows * 10).astype(dtype))
        expected = np.cov(np.load(path).astype(np.float64), rowvar=False)
        cov, _ = streaming_covariance(np.load(path, mmap_mode="r"), chunk_rows=999)
        assert _relative(cov, expected) < 1e-10


def test_memory_mapped_pass_stays_near_the_chunk_size(tmp_path):
    rows, p, chunk_rows = 200_000, 20, 2048
    path = tmp_path / "big.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(rows, p))
    rng = np.random.default_rng(0)
    for start in range(0, rows, 50_000):
        out[start : start + 50_000] = rng.normal(size=(50_000, p))
    out.flush()
    del out
    data = np.load(path, mmap_mode="r")
    chunk_bytes = chunk_rows * p * 8
    file_bytes = rows * p * 8
    assert file_bytes > 90 * chunk_bytes
    tracemalloc.start()
    try:
        moments = streaming_moments(data, chunk_rows=chunk_rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert moments.n == rows
    assert peak < 6 * chunk_bytes, (peak, chunk_bytes)  # a chunk, its shifted and centred copies
    # and the result is right
    sample = np.asarray(data[:]).copy()
    assert _relative(moments.covariance(), np.cov(sample, rowvar=False)) < 1e-10


def test_bootstrap_counts_are_an_exact_resample_independent_of_chunking():
    n = 3 * WEIGHT_BLOCK_ROWS + 17
    counts = BootstrapCounts(n, seed=5, replicate=2)
    full = counts(0, n)
    assert full.sum() == n and full.min() >= 0 and full.shape == (n,)
    for start, stop in [(0, 1), (100, WEIGHT_BLOCK_ROWS + 5), (n - 3, n), (7, 7)]:
        assert np.array_equal(counts(start, stop), full[start:stop])
    again = BootstrapCounts(n, seed=5, replicate=2)(0, n)
    assert np.array_equal(full, again)
    other = BootstrapCounts(n, seed=5, replicate=3)(0, n)
    assert not np.array_equal(full, other)
    # about a fraction 1 - 1/e of the rows appear at least once
    assert abs((full > 0).mean() - (1 - np.exp(-1))) < 0.02
    with pytest.raises(ValueError):
        counts(0, n + 1)


def test_weighted_moments_equal_the_materialised_resample(rows):
    counts = BootstrapCounts(rows.shape[0], seed=1, replicate=0)
    resample = np.repeat(rows, counts(0, rows.shape[0]), axis=0)
    for chunk_rows in (100, 4096):
        moments = streaming_moments(rows, chunk_rows=chunk_rows, weights=counts)
        assert moments.n == rows.shape[0]
        assert _relative(moments.covariance(), np.cov(resample, rowvar=False)) < 1e-10


def test_check_covariance_names_the_columns_at_fault():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3))
    names = ["a", "b", "c"]
    assert check_covariance(np.cov(x, rowvar=False), names) < 10
    constant = np.column_stack([x, np.ones(500)])
    with pytest.raises(SingularCovarianceError, match="constant column 'd'"):
        check_covariance(np.cov(constant, rowvar=False), [*names, "d"])
    dependent = np.column_stack([x, x[:, 0] + x[:, 1]])
    with pytest.raises(SingularCovarianceError, match="linearly dependent"):
        check_covariance(np.cov(dependent, rowvar=False), [*names, "d"])


@pytest.mark.parametrize("transform", ["none", "logit", "clr", "alr"])
def test_transform_streamed_equals_in_memory(soft_small, tmp_path, monkeypatch, transform):
    path = tmp_path / "p.npy"
    np.save(path, soft_small.probabilities)
    nodes = [Node.from_name(n) for n in soft_small.names]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        in_memory = transforms.transform_dataset(soft_small.probabilities, nodes, transform)
        monkeypatch.setattr(stats, "IN_MEMORY_BYTES", 0)
        streamed = transforms.transform_dataset(np.load(path, mmap_mode="r"), nodes, transform, chunk_rows=257)
    assert streamed.data is None and in_memory.data is not None
    assert streamed.info["streamed"] is True
    assert streamed.n_samples == in_memory.n_samples
    assert streamed.names == in_memory.names
    assert _relative(streamed.covariance, in_memory.covariance) < 1e-10
    assert streamed.info.get("clipped_values") == in_memory.info.get("clipped_values")


# -- censored values (fill_censored) ---------------------------------------------------------


@pytest.fixture(scope="module")
def underflowed_log_softmax():
    """Log-softmax of strongly correlated Gaussian logits, censored below -8 (57% of entries, most rows 2+)."""
    from scipy.special import logsumexp

    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 6)) * 1.5
    z = rng.multivariate_normal(np.zeros(6), (a @ a.T + np.eye(6)) * 9, size=4000)
    x = z - logsumexp(z, axis=1, keepdims=True)
    cut = x < -8.0
    h = np.eye(6) - 1.0 / 6  # centring: the centred logits H z are what the data determine
    return np.where(cut, -8.0, x), cut, h @ np.cov(z, rowvar=False) @ h, h


def _centred_error(fit, truth, h):
    return float(np.linalg.norm(h @ fit.covariance @ h - truth) / np.linalg.norm(truth))


def test_censored_log_softmax_is_estimated_against_the_uncensored_classes(underflowed_log_softmax, monkeypatch):
    from ililab import censored

    y, cut, truth, h = underflowed_log_softmax
    assert 0.5 < cut.mean() < 0.6
    shifted = censored.fill_censored(y, cut, -8.0, shift_blocks=[np.arange(6)])
    assert shifted.censored == int(cut.sum()) and (shifted.rows[cut] < -8.0).all()
    assert _centred_error(shifted, truth, h) < 0.15
    # a Gaussian on log p itself (logsumexp taken for Gaussian) is far off
    assert _centred_error(censored.fill_censored(y, cut, -8.0), truth, h) > 0.4
    # ... and so is each censored entry on its own given the row's current values, where rows have several
    monkeypatch.setattr(censored, "JOINT_WORK", 0.0)
    assert _centred_error(censored.fill_censored(y, cut, -8.0, shift_blocks=[np.arange(6)]), truth, h) > 0.25


def test_a_non_finite_joint_e_step_falls_back_to_one_entry_at_a_time(underflowed_log_softmax, monkeypatch):
    """Degenerate rows make the joint E-step non-finite: the EM must go on with the simpler one."""
    from ililab import censored

    y, cut, truth, h = underflowed_log_softmax
    blocks = [np.arange(6)]
    monkeypatch.setattr(censored, "JOINT_WORK", 0.0)
    alone = censored.fill_censored(y, cut, -8.0, shift_blocks=blocks)
    monkeypatch.setattr(censored, "JOINT_WORK", 5e7)

    def broken(part, *args):
        return np.full_like(part, np.nan), np.zeros((part.shape[1], part.shape[1]))

    monkeypatch.setattr(censored, "_joint_e_step", broken)
    fallen_back = censored.fill_censored(y, cut, -8.0, shift_blocks=blocks)
    # the failed sweep is not taken for convergence: the entries move off their bound, and the fit
    # is the one-at-a-time EM's (one sweep fewer within its cap)
    assert fallen_back.sweeps > 1 and (fallen_back.rows[cut] < -8.0).all()
    assert abs(_centred_error(fallen_back, truth, h) - _centred_error(alone, truth, h)) < 0.05


def test_truncated_moments_stay_finite_in_the_far_tail():
    from ililab.censored import _truncated_moments

    # N(0, 1) below -40: mean about -40 - 1/40, variance about 1/40²
    m, s, bound = np.zeros(3), np.array([1.0, 0.0, 1e-200]), np.array([-40.0, -1.0, -1.0])
    mean, var = _truncated_moments(m, s, bound, -1.0)
    assert mean[0] == pytest.approx(-40.025, abs=1e-3) and var[0] == pytest.approx(1 / 1600, rel=0.05)
    # no spread left (or 1e200 standard deviations beyond the bound): the entry sits at its bound
    assert mean[1] == -1.0 and var[1] == 0.0
    assert mean[2] == pytest.approx(-1.0) and 0.0 <= var[2] <= 1e-400 + s[2] ** 2


@pytest.fixture(scope="module")
def censored_both_sides():
    """Correlated Gaussian columns cut below -1 and above 1.2: rows with 0 to 5 censored entries, both sides."""
    rng = np.random.default_rng(3)
    a = rng.normal(size=(5, 5))
    x = rng.multivariate_normal(np.zeros(5), a @ a.T / 5 + np.eye(5), size=3000)
    below, above = x < -1.0, x > 1.2
    return np.clip(x, -1.0, 1.2), below, above


@pytest.mark.parametrize("joint_row_limit", [0, 2, 64], ids=["one at a time", "mixed", "joint"])
def test_censored_moments_updated_in_place_equal_those_of_the_filled_rows(censored_both_sides, monkeypatch, joint_row_limit):
    # The EM updates its moments by the sparse change of the censored entries only: the covariance
    # returned must be that of the rows returned plus the variance the censored entries keep,
    # which is on the diagonal for entries taken one at a time and only couples columns censored
    # together in a row taken jointly.
    from ililab import censored

    y, below, above = censored_both_sides
    monkeypatch.setattr(censored, "JOINT_ROW_LIMIT", joint_row_limit)
    fit = censored.fill_censored(y, below, -1.0, above, 1.2)
    assert fit.sweeps >= 3 and (fit.rows[below] < -1.0).all() and (fit.rows[above] > 1.2).all()
    kept = fit.covariance - covariance(fit.rows)
    counts = (below | above).sum(axis=1)
    joint = (counts <= joint_row_limit) & (counts > 0)
    marks = (below | above)[joint].astype(float)
    together = (marks.T @ marks) > 0
    apart = ~together & ~np.eye(5, dtype=bool)
    assert np.abs(kept[apart]).max(initial=0.0) < 1e-12
    assert np.diag(kept).min() > 0 and np.linalg.eigvalsh(kept).min() > -1e-12
    assert (apart | np.eye(5, dtype=bool)).all() == (joint_row_limit == 0)
    if joint_row_limit:
        assert np.abs(kept[together & ~np.eye(5, dtype=bool)]).max() > 1e-4


def test_sampled_products_are_entries_of_the_full_product():
    from ililab._censored_kernel import sampled_products

    rng = np.random.default_rng(1)
    y, mean = rng.normal(size=(7, 4)), rng.normal(size=4)
    a = rng.normal(size=(4, 4))
    omega = a @ a.T
    rows, cols = np.array([0, 0, 3, 6, 6]), np.array([1, 3, 0, 2, 3])
    assert np.allclose(sampled_products(y, mean, omega, rows, cols), ((y - mean) @ omega)[rows, cols], rtol=0, atol=1e-12)


@pytest.mark.parametrize("joint_row_limit", [0, 2, 64], ids=["one at a time", "mixed", "joint"])
def test_censored_products_entry_by_entry_equal_the_dense_ones(censored_both_sides, monkeypatch, joint_row_limit):
    # two ways to the same products (a compiled loop over the entries, BLAS over their rows): each
    # guards the other's bookkeeping of the moments, which the filled rows alone would not show
    from ililab import censored

    y, below, above = censored_both_sides
    monkeypatch.setattr(censored, "JOINT_ROW_LIMIT", joint_row_limit)
    fits = []
    for share in (1.0, 0.0):  # every entry on its own, then dense products
        monkeypatch.setattr(censored, "DENSE_SHARE", share)
        fits.append(censored.fill_censored(y, below, -1.0, above, 1.2))
    assert fits[0].sweeps == fits[1].sweeps >= 3
    assert np.allclose(fits[0].rows, fits[1].rows, rtol=0, atol=1e-10)
    assert np.allclose(fits[0].covariance, fits[1].covariance, rtol=0, atol=1e-10)
