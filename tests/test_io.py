import os
import stat

import numpy as np
import pytest

from ililab.errors import DataError, OutputError, UsageError
from ililab.graph import DependencyGraph, Edge
from ililab.io import (
    atomic_write,
    load_matrix,
    make_nodes,
    parse_modalities,
    read_graph,
    read_names,
    write_graph,
)


def test_npy_is_memory_mapped(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.arange(12.0).reshape(6, 2))
    m = load_matrix(path)
    assert isinstance(m.values, np.memmap)
    assert m.shape == (6, 2) and m.names is None


def test_npz_key(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, a=np.ones((3, 2)) * np.arange(3)[:, None] + np.arange(2), b=np.eye(3))
    with pytest.raises(UsageError, match="holds 2 arrays"):
        load_matrix(path)
    assert load_matrix(path, key="b").shape == (3, 3)
    with pytest.raises(UsageError, match="no array 'c'"):
        load_matrix(path, key="c")


def test_csv_header_gives_names(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('"Male speech, man speaking (audio)",Bark (visual)\n1,2\n3,5\n4,4\n')
    m = load_matrix(path)
    assert m.names == ["Male speech, man speaking (audio)", "Bark (visual)"]
    assert m.values.tolist() == [[1, 2], [3, 5], [4, 4]]


def test_csv_bad_cell(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n3,oops\n")
    with pytest.raises(DataError, match="line 3, 'b': 'oops' is not a number"):
        load_matrix(path)


@pytest.mark.parametrize(
    "array, message",
    [
        (np.arange(5.0), "2-D"),
        (np.zeros((2, 2, 2)), "3-D"),
        (np.array([["a", "b"], ["c", "d"]]), "numeric dtype"),
        (np.ones((1, 3)), "at least 2 rows"),
        (np.ones((3, 1)), "at least 2 columns"),
    ],
)
def test_bad_arrays(tmp_path, array, message):
    path = tmp_path / "x.npy"
    np.save(path, array)
    with pytest.raises(DataError, match=message):
        load_matrix(path)


def test_nan_location(tmp_path):
    x = np.ones((5, 3))
    x[3, 2] = np.nan
    path = tmp_path / "x.npy"
    np.save(path, x)
    with pytest.raises(DataError, match="NaN at row 3, column 2"):
        load_matrix(path)
    x[3, 2] = np.inf
    np.save(path, x)
    with pytest.raises(DataError, match="inf at row 3, column 2"):
        load_matrix(path)


def test_pickled_object_array_is_refused(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="pickled"):
        load_matrix(path)


def test_missing_and_unsupported(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_matrix(tmp_path / "nope.npy")
    with pytest.raises(UsageError, match="unsupported"):
        load_matrix(tmp_path / "x.parquet")


def test_corrupt_npy(tmp_path):
    path = tmp_path / "x.npy"
    path.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataError, match="not a valid .npy"):
        load_matrix(path)


def test_read_names(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("a (audio)\nb (audio)\n\n")
    assert read_names(path) == ["a (audio)", "b (audio)"]
    path.write_text("a\na\n")
    with pytest.raises(DataError, match="duplicate name 'a'"):
        read_names(path)


def test_parse_modalities():
    assert parse_modalities("audio=0:2,visual=2:4", 5) == ["audio", "audio", "visual", "visual", None]
    for bad, message in [("audio", "malformed"), ("audio=0:9", "beyond"), ("a=0:2,b=1:3", "overlap"), ("a=0:1,a=1:2", "twice")]:
        with pytest.raises(UsageError, match=message):
            parse_modalities(bad, 4)


def test_make_nodes():
    nodes = make_nodes(2, ["Dog (audio)", "Dog (visual)"])
    assert [(n.label, n.modality) for n in nodes] == [("Dog", "audio"), ("Dog", "visual")]
    nodes = make_nodes(2, None, "audio=0:1,visual=1:2")
    assert [n.modality for n in nodes] == ["audio", "visual"]
    with pytest.raises(DataError, match="3 names given for 2 columns"):
        make_nodes(2, ["a", "b", "c"])
    # a class name with parentheses but no modality suffix on every name is not a modality
    assert make_nodes(2, ["Frying (food)", "Dog"])[0].modality is None


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")

    def failing(tmp):
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, failing)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_atomic_write_errors(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        atomic_write(tmp_path / "missing" / "x.json", "x")
    with pytest.raises(OutputError, match="directory"):
        atomic_write(tmp_path, "x")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_unwritable_directory(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(stat.S_IRUSR | stat.S_IXUSR)
    with pytest.raises(OutputError):
        atomic_write(d / "x.json", "x")


def test_graph_file_round_trip(tmp_path):
    g = DependencyGraph(["a (audio)", "b (visual)"], [Edge("a (audio)", "b (visual)", weight=0.5)], {"learner": "x"})
    path = write_graph(g, tmp_path / "g.json")
    assert read_graph(path) == g
    with pytest.raises(UsageError, match="cannot tell the graph format"):
        write_graph(g, tmp_path / "g.unknown")


def test_read_graph_errors(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_graph(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DataError):
        read_graph(bad)
    bad.write_text('{"format": "ililab.graph/v1", "nodes": [], "edges": [{"source": "a", "target": "b"}]}')
    with pytest.raises(DataError, match="bad.json"):
        read_graph(bad)
