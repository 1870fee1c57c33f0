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
