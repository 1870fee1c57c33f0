import numpy as np

from ililab.cpdag import is_dag
from ililab.simulate import class_names, simulate_linear_sem, simulate_soft_labels


def test_sem_is_seeded():
    a, b, c = (simulate_linear_sem(8, 200, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(a.data, c.data)
    assert a.true_graph == b.true_graph


def test_sem_truth_matches_weights():
    sim = simulate_linear_sem(10, 50, expected_degree=3, seed=4)
    assert is_dag(sim.weights)
    assert len(sim.true_graph.edges) == int((sim.weights != 0).sum())
    # the empirical regression of a child on its parents recovers the weights at large n
    big = simulate_linear_sem(10, 100000, expected_degree=3, seed=4)
    child = int(np.argmax((big.weights != 0).sum(axis=0)))
    parents = np.flatnonzero(big.weights[:, child])
    coef, *_ = np.linalg.lstsq(big.data[:, parents], big.data[:, child], rcond=None)
    np.testing.assert_allclose(coef, big.weights[parents, child], atol=0.03)


def test_soft_labels_structure():
    sim = simulate_soft_labels(6, 400, modalities=("audio", "visual", "text"), seed=1, dtype=np.float32)
    assert sim.probabilities.shape == (400, 18) and sim.probabilities.dtype == np.float32
    for block in range(3):
        np.testing.assert_allclose(sim.probabilities[:, block * 6 : (block + 1) * 6].sum(axis=1), 1, atol=1e-5)
    assert sim.names[6] == f"{class_names(6)[0]} (visual)"
    assert is_dag(sim.weights)
    # every class's first-modality node is linked to its twins unless a cycle forced a drop
    aligned = sum(sim.weights[c, 6 + c] != 0 for c in range(6))
    assert aligned >= 4


def test_soft_label_options_make_real_classifier_outputs():
    rounded = simulate_soft_labels(10, 500, ("audio",), seed=0, decimals=3, dtype=np.float32)
    assert rounded.probabilities.dtype == np.float32
    np.testing.assert_allclose(rounded.probabilities, np.round(rounded.probabilities.astype(np.float64), 3), atol=1e-7)
    tags = simulate_soft_labels(5, 500, ("audio",), seed=0, output="sigmoid")
    np.testing.assert_allclose(tags.probabilities, 1 / (1 + np.exp(-tags.logits)))
    assert np.abs(tags.probabilities.sum(axis=1) - 1).max() > 0.1
    skewed = simulate_soft_labels(5, 4000, ("audio",), seed=0, imbalance=100.0)
    share = skewed.probabilities.mean(axis=0)
    assert share[0] > 10 * share[-1]
    chained = simulate_soft_labels(6, 100, ("audio",), seed=0, chain=2.0)
    assert all(chained.weights[c - 1, c] == 2.0 for c in range(1, 6))
    saturated = simulate_soft_labels(8, 2000, ("audio",), seed=0, logit_scale=8, chain=1.0, standardize=False, dtype="float16")
    assert (saturated.probabilities == 0).mean() > 0.3  # float16 underflows most of a confident network's outputs


def test_cli_soft_label_options(run_cli, tmp_path):
    result = run_cli(
        "simulate", "soft-labels", "-c", "4", "-n", "300", "--dtype", "float16", "--decimals", "3", "--kind", "sigmoid",
        "--imbalance", "10", "--chain", "1", "--raw-logits", "-o", str(tmp_path / "d"),
    )
    assert result.code == 0, result.err
    p = np.load(tmp_path / "d" / "soft_labels.npy")
    assert p.dtype == np.float16 and p.shape == (300, 8)
    assert run_cli("simulate", "soft-labels", "--float32", "--dtype", "float16", "-o", str(tmp_path / "e")).code == 2
