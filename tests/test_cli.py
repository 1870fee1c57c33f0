"""The CLI end to end: outputs, exit codes (2 usage, 1 data), one-line errors, no partial files."""

import json

import numpy as np
import pytest

from ililab.graph import DependencyGraph


def _save(tmp_path, array, name="x.npy"):
    path = tmp_path / name
    np.save(path, array)
    return path


def test_version(run_cli):
    from ililab import __version__

    result = run_cli("--version")
    assert result.code == 0 and __version__ in result.out


def test_infer_graph_to_stdout(run_cli, data_npy):
    result = run_cli("infer-graph", data_npy, "-l", "ges")
    assert result.code == 0, result.err
    graph = DependencyGraph.from_json(result.out)
    assert graph.names == [f"x{i}" for i in range(6)]
    assert graph.meta["learner"] == "ges" and graph.meta["n_samples"] == 3000
    assert "ges: 6 nodes" in result.err


def test_infer_graph_quiet(run_cli, data_npy):
    result = run_cli("--quiet", "infer-graph", data_npy, "-l", "ges")
    assert result.code == 0 and result.err == ""


@pytest.mark.parametrize("learner", ["pc", "cl-ges", "cl-grasp"])
def test_each_causallearn_learner_writes_valid_json(run_cli, tmp_path, soft_files, learner):
    out = tmp_path / "g.json"
    result = run_cli(
        "infer-graph", soft_files["logits"], "--names", soft_files["names"], "-l", learner, "--seed", "1", "-o", out
    )
    assert result.code == 0, result.err
    graph = DependencyGraph.from_json(out.read_text())
    assert graph.modalities == ["audio", "visual"]
    assert graph.meta["learner"] == learner
    assert result.out == ""


def test_npz_and_csv_inputs(run_cli, tmp_path, sem_small):
    npz = tmp_path / "d.npz"
    np.savez(npz, soft=sem_small.data, other=np.eye(2))
    assert run_cli("infer-graph", npz, "--key", "soft", "-l", "ges").code == 0
    csv = tmp_path / "d.csv"
    header = ",".join(f'"class {i}, a (audio)"' for i in range(6))
    np.savetxt(csv, sem_small.data, delimiter=",", header=header, comments="")
    result = run_cli("infer-graph", csv, "-l", "ges")
    assert result.code == 0, result.err
    assert DependencyGraph.from_json(result.out).names[0] == "class 0, a (audio)"


def test_overwrite_is_atomic_and_complete(run_cli, tmp_path, data_npy):
    out = tmp_path / "g.json"
    out.write_text("previous content")
    assert run_cli("infer-graph", data_npy, "-l", "ges", "-o", out).code == 0
    DependencyGraph.from_json(out.read_text())
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _assert_error(result, code, *fragments):
    assert result.code == code, (result.code, result.err)
    assert "Traceback" not in result.err
    lines = [line for line in result.err.strip().splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1, result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_missing_file(run_cli, tmp_path):
    _assert_error(run_cli("infer-graph", tmp_path / "none.npy"), 1, "no such file")


def test_unsupported_extension(run_cli, tmp_path):
    path = tmp_path / "x.parquet"
    path.write_text("x")
    _assert_error(run_cli("infer-graph", path), 2, "unsupported data file")


def test_pickled_array(run_cli, tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.array([object(), 1], dtype=object), allow_pickle=True)
    _assert_error(run_cli("infer-graph", path), 1, "pickled")


@pytest.mark.parametrize(
    "array, fragment",
    [
        (np.arange(4.0), "got 1-D"),
        (np.zeros((3, 3, 3)), "got 3-D"),
        (np.array([["a", "b"], ["c", "d"]]), "numeric dtype"),
        (np.ones((1, 4)), "at least 2 rows"),
        (np.ones((5, 1)), "at least 2 columns"),
    ],
)
def test_bad_shapes_and_dtypes(run_cli, tmp_path, array, fragment):
    _assert_error(run_cli("infer-graph", _save(tmp_path, array), "-l", "ges"), 1, fragment)


def test_nan_and_inf(run_cli, tmp_path, sem_small):
    x = sem_small.data.copy()
    x[10, 4] = np.nan
    _assert_error(run_cli("infer-graph", _save(tmp_path, x)), 1, "NaN at row 10, column 4")
    x[10, 4] = -np.inf
    _assert_error(run_cli("infer-graph", _save(tmp_path, x)), 1, "inf at row 10, column 4")


def test_constant_column_is_named(run_cli, tmp_path, sem_small):
    x = sem_small.data.copy()
    x[:, 2] = 7.0
    _assert_error(run_cli("infer-graph", _save(tmp_path, x), "-l", "ges"), 1, "constant column 'x2'")


def test_identical_columns(run_cli, tmp_path, sem_small):
    x = sem_small.data.copy()
    x[:, 4] = x[:, 1]
    _assert_error(run_cli("infer-graph", _save(tmp_path, x), "-l", "ges"), 1, "'x1' and 'x4' are perfectly correlated")


@pytest.mark.parametrize("transform", ["auto", "logit", "none"])
def test_fewer_rows_than_columns_says_so(run_cli, tmp_path, soft_files, transform):
    few = _save(tmp_path, np.load(soft_files["probabilities"])[:5], "few.npy")
    _assert_error(
        run_cli("infer-graph", few, "--names", soft_files["names"], "--transform", transform), 1, "5 rows for 10 columns"
    )


def test_names_file_problems(run_cli, tmp_path, data_npy):
    names = tmp_path / "names.txt"
    names.write_text("a\nb\nc\n")
    _assert_error(run_cli("infer-graph", data_npy, "--names", names, "-l", "ges"), 1, "3 names given for 6 columns")
    names.write_text("a\nb\nc\nd\ne\na\n")
    _assert_error(run_cli("infer-graph", data_npy, "--names", names, "-l", "ges"), 1, "duplicate name 'a'")


def test_malformed_modalities(run_cli, data_npy):
    _assert_error(run_cli("infer-graph", data_npy, "--modalities", "audio:0-3", "-l", "ges"), 2, "malformed --modalities")


def test_unknown_learner_lists_known(run_cli, data_npy):
    _assert_error(run_cli("infer-graph", data_npy, "-l", "magic"), 2, "unknown learner 'magic'", "ges")


def test_unknown_and_ill_typed_parameter(run_cli, data_npy):
    _assert_error(run_cli("infer-graph", data_npy, "-l", "pc", "-p", "alpah=0.1"), 2, "unknown parameter 'alpah'", "alpha")
    _assert_error(run_cli("infer-graph", data_npy, "-l", "pc", "-p", "alpha=much"), 2, "parameter 'alpha'")
    _assert_error(run_cli("infer-graph", data_npy, "-l", "ges", "--penalty", "-1"), 2, "parameter 'penalty'")
    _assert_error(run_cli("infer-graph", data_npy, "-l", "ges", "--penalty", "3", "--lambda", "2"), 2, "disagree")


def test_usage_error_from_click(run_cli, data_npy):
    result = run_cli("infer-graph", data_npy, "--seed", "abc")
    assert result.code == 2 and "Traceback" not in result.err


def test_unwritable_output(run_cli, tmp_path, data_npy):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _assert_error(run_cli("infer-graph", data_npy, "-l", "ges", "-o", blocker / "g.json"), 1, "cannot write")


def test_simplex_with_transform_none(run_cli, soft_files):
    result = run_cli("infer-graph", soft_files["probabilities"], "--names", soft_files["names"], "-t", "none", "-l", "ges")
    _assert_error(result, 1, "singular", "sum to 1", "--transform auto")


def test_no_partial_output_on_error(run_cli, tmp_path, sem_small):
    x = sem_small.data.copy()
    x[:, 0] = 1.0
    out = tmp_path / "g.json"
    assert run_cli("infer-graph", _save(tmp_path, x), "-l", "ges", "-o", out).code == 1
    assert not out.exists()


def test_debug_shows_traceback(run_cli, tmp_path):
    with pytest.raises(Exception, match="no such file"):
        run_cli("--debug", "infer-graph", tmp_path / "none.npy")


def test_learners_command(run_cli):
    result = run_cli("learners")
    assert result.code == 0
    for name in ("grasp", "pc", "ges", "cl-grasp"):
        assert f"\n{name}" in "\n" + result.out
    rows = json.loads(run_cli("learners", "--json").out)
    pc = next(r for r in rows if r["name"] == "pc")
    assert {"name": "alpha", "type": "float", "default": 0.05} == {k: pc["params"][0][k] for k in ("name", "type", "default")}


def test_simulate_and_show(run_cli, tmp_path):
    out = tmp_path / "sim"
    result = run_cli("simulate", "soft-labels", "-c", "4", "-n", "500", "-o", out)
    assert result.code == 0, result.err
    probs = np.load(out / "soft_labels.npy")
    assert probs.shape == (500, 8)
    np.testing.assert_allclose(probs[:, :4].sum(axis=1), 1.0)
    assert (out / "names.txt").read_text().splitlines()[0] == "Church bell (audio)"
    shown = run_cli("show", out / "true_graph.json")
    assert shown.code == 0 and "-->" in shown.out
    result = run_cli("simulate", "sem", "-p", "5", "-n", "100", "-o", tmp_path / "sem")
    assert result.code == 0 and np.load(tmp_path / "sem" / "data.npy").shape == (100, 5)


@pytest.mark.parametrize("kind", ["soft-labels", "sem"])
def test_simulate_quiet_writes_files_and_says_nothing(run_cli, tmp_path, kind):
    result = run_cli("--quiet", "simulate", kind, "-n", "100", "-o", tmp_path / "sim")
    assert result.code == 0 and result.out == "" and result.err == ""
    assert (tmp_path / "sim" / "true_graph.json").exists()


@pytest.mark.parametrize(("flags", "shown"), [((), True), (("--quiet",), False)])
def test_first_run_compile_notice_is_shown_unless_quiet(data_npy, flags, shown):
    """In a fresh process whose kernels look uncached, the notice reaches stderr (not --quiet)."""
    import subprocess
    import sys

    code = (
        "import sys; import ililab.search._growshrink as g; g.in_disk_cache = lambda kernel: False; "
        "from ililab.cli import main; main(sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *flags, "infer-graph", str(data_npy), "-l", "grasp", "-o", str(data_npy) + ".json"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    notice = "ililab: compiling the GRaSP kernels (first run only, cached afterwards)"
    assert (notice in done.stderr) is shown, done.stderr


def test_infer_graph_checks_the_request_once(run_cli, data_npy, monkeypatch):
    """The command checks the request with the API's check_request, once; run_request does not check again."""
    import ililab.api
    from ililab.learners.ges import GESLearner

    calls = {"check_request": 0, "validate_params": 0}
    real_check, real_validate = ililab.api.check_request, GESLearner.validate_params.__func__

    def counting_check(*args, **kwargs):
        calls["check_request"] += 1
        return real_check(*args, **kwargs)

    def counting_validate(cls, params):
        if not isinstance(params, cls.Params):  # a validated Params passes through without a check
            calls["validate_params"] += 1
        return real_validate(cls, params)

    monkeypatch.setattr(ililab.api, "check_request", counting_check)
    monkeypatch.setattr(GESLearner, "validate_params", classmethod(counting_validate))
    result = run_cli("infer-graph", data_npy, "-l", "ges", "--seed", "1")
    assert result.code == 0, result.err
    assert calls == {"check_request": 1, "validate_params": 1}


def test_unknown_learner_is_reported_before_bad_parameters(run_cli, data_npy):
    """The learner is looked up (once) before -p KEY=VALUE is read: the first mistake is the one reported."""
    _assert_error(run_cli("infer-graph", data_npy, "-l", "magic", "-p", "bad"), 2, "unknown learner 'magic'")
    _assert_error(run_cli("infer-graph", data_npy, "-l", "magic", "--penalty", "3", "-p", "penalty=2"), 2, "unknown learner")
