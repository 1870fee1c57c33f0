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


# -- guards: nothing read unpickles; no archive is read whole -------------------------------------


class _Payload:
    """Unpickling this creates ``marker``: a test sees whether a loader ran a pickle."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _evil(tmp_path):
    marker = tmp_path / "pwned"
    return np.array([[_Payload(marker), 1.0], [2.0, 3.0]], dtype=object), marker


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed], ids=["stored", "compressed"])
def test_pickled_npz_member_is_refused_and_never_run(tmp_path, save):
    array, marker = _evil(tmp_path)
    save(tmp_path / "evil.npz", x=array)
    with pytest.raises(DataError, match="Python objects"):
        load_matrix(tmp_path / "evil.npz")
    assert not marker.exists()


def test_pickled_npy_is_refused_before_numpy_reads_it(tmp_path, monkeypatch):
    array, marker = _evil(tmp_path)
    np.save(tmp_path / "evil.npy", array, allow_pickle=True)
    calls = []
    monkeypatch.setattr(np, "load", lambda *args, **kwargs: calls.append(args))
    with pytest.raises(DataError, match="Python objects"):
        load_matrix(tmp_path / "evil.npy")
    assert calls == [] and not marker.exists()


def test_pickled_npy_is_refused_without_memory_mapping_too(tmp_path, monkeypatch):
    """allow_pickle=False holds on its own: with the header check off and np.load not
    memory-mapping (memory maps refuse objects anyway), the pickle is still not run."""
    import ililab._arrayfile as io  # the file readers behind ililab.io.load_matrix

    array, marker = _evil(tmp_path)
    np.save(tmp_path / "evil.npy", array, allow_pickle=True)
    original = np.load
    monkeypatch.setattr(io, "_npy_header", lambda stream, where: None)
    monkeypatch.setattr(np, "load", lambda path, mmap_mode=None, **kwargs: original(path, **kwargs))
    with pytest.raises(DataError):
        load_matrix(tmp_path / "evil.npy")
    assert not marker.exists()


def test_npz_members_are_memory_mapped_not_loaded(tmp_path):
    x = np.random.default_rng(0).normal(size=(50, 4))
    np.savez(tmp_path / "s.npz", x=x)
    np.savez_compressed(tmp_path / "c.npz", x=x)
    stored, compressed = load_matrix(tmp_path / "s.npz").values, load_matrix(tmp_path / "c.npz").values
    assert isinstance(stored, np.memmap) and str(stored.filename) == str((tmp_path / "s.npz").resolve())
    assert isinstance(compressed, np.memmap)
    assert np.array_equal(stored, x) and np.array_equal(compressed, x)
    spool = compressed.filename
    del compressed
    import gc

    gc.collect()
    assert not os.path.exists(spool)  # the decompressed copy goes with the array


def test_compressed_npz_is_decompressed_in_bounded_memory(tmp_path, monkeypatch):
    import tracemalloc

    import ililab._arrayfile as io  # the file readers behind ililab.io.load_matrix

    x = np.random.default_rng(1).normal(size=(200_000, 10))  # 16 MB
    np.savez_compressed(tmp_path / "c.npz", x=x)
    monkeypatch.setattr(io, "_NPZ_BLOCK", 1 << 20)
    tracemalloc.start()
    try:
        values = io._load_npz(tmp_path / "c.npz", None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, peak  # a few 1 MiB blocks (measured: 4 MiB whatever the size), not the 16 MB member
    assert np.array_equal(values[-5:], x[-5:])


def test_zip_bomb_npz_is_refused_before_decompressing(tmp_path, monkeypatch):
    import ililab._arrayfile as io  # the file readers behind ililab.io.load_matrix

    np.savez_compressed(tmp_path / "bomb.npz", x=np.zeros((2**17, 8)))  # 8 MiB of zeros, ~8 KB
    monkeypatch.setattr(io, "_BOMB_BYTES", 2**20)
    monkeypatch.setattr(io, "_spool", lambda *args: pytest.fail("decompressed a zip bomb"))
    with pytest.raises(DataError, match="zip bomb"):
        load_matrix(tmp_path / "bomb.npz")


def test_compressed_npz_larger_than_half_the_free_disk_is_refused(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    np.savez_compressed(tmp_path / "c.npz", x=np.random.default_rng(2).normal(size=(1000, 4)))  # 32,000 bytes
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 60_000, 60_000))
    with pytest.raises(DataError, match="more than half the free space"):
        load_matrix(tmp_path / "c.npz")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 70_000, 70_000))
    assert load_matrix(tmp_path / "c.npz").shape == (1000, 4)


def _npz_with_header(path, shape, payload: bytes):
    import zipfile

    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    with zipfile.ZipFile(path, "w") as archive, archive.open("x.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, header)
        member.write(payload)


def test_npz_header_that_lies_about_its_shape(tmp_path):
    _npz_with_header(tmp_path / "lie.npz", (10**6, 10**3), bytes(160))
    with pytest.raises(DataError, match=r"header says shape \(1000000, 1000\)"):
        load_matrix(tmp_path / "lie.npz")


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_text_file_with_a_numpy_suffix(tmp_path, suffix):
    path = tmp_path / f"table{suffix}"
    path.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(DataError) as caught:
        load_matrix(path)
    message = str(caught.value)
    assert "is not a" in message and ".csv" in message
    assert "pickle" not in message.lower()  # neither "a pickled array" nor numpy's allow_pickle hint


def test_binary_junk_with_a_numpy_suffix(tmp_path):
    for suffix in (".npy", ".npz"):
        path = tmp_path / f"junk{suffix}"
        path.write_bytes(bytes(range(256)))
        with pytest.raises(DataError, match="is not a") as caught:
            load_matrix(path)
        assert "pickle" not in str(caught.value).lower()


def test_unwritable_output_even_as_root(tmp_path):
    """A path under a regular file cannot be written by anyone, root included."""
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="is not a directory"):
        atomic_write(blocker / "out.json", "{}")
    assert blocker.read_text() == "x" and sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_npz_members_give_the_same_graph_as_npy(tmp_path, sem_small):
    import ililab

    np.save(tmp_path / "x.npy", sem_small.data)
    np.savez(tmp_path / "s.npz", x=sem_small.data)
    np.savez_compressed(tmp_path / "c.npz", x=sem_small.data)
    graphs = [ililab.infer_graph(str(tmp_path / name), learner="ges").to_json() for name in ("x.npy", "s.npz", "c.npz")]
    assert graphs[0] == graphs[1] == graphs[2]


def test_npy_header_that_lies_about_its_shape(tmp_path):
    path = tmp_path / "lie.npy"
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**3)})
        handle.write(bytes(160))
    with pytest.raises(DataError, match="not a valid .npy file"):
        load_matrix(path)
