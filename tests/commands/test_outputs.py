"""Output paths: checked before any work, written atomically and through symbolic links."""

import os

import pytest

from ililab.graph import DependencyGraph


def _one_line_error(result, code, *fragments):
    assert result.code == code, (result.code, result.err)
    lines = [line for line in result.err.strip().splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("kind", [["soft-labels", "-c", "3", "-n", "50"], ["sem", "-p", "3", "-n", "50"]])
def test_simulate_into_an_impossible_directory_is_a_clean_error(run_cli, tmp_path, kind):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")  # a path under a regular file fails even for root
    before = _files(tmp_path)
    result = run_cli("simulate", *kind, "-o", blocker / "sim")
    _one_line_error(result, 1, f"cannot create the output directory {str(blocker / 'sim')!r}: Not a directory")
    assert _files(tmp_path) == before


def test_bad_plot_path_fails_before_the_graph_is_written(run_cli, tmp_path, data_npy):
    out = tmp_path / "g.json"
    out.write_text("earlier result")
    before = _files(tmp_path)
    result = run_cli("infer-graph", data_npy, "-l", "ges", "-o", out, "--plot", tmp_path / "nofolder" / "p.png")
    _one_line_error(result, 1, "cannot write --plot", "nofolder' does not exist")
    assert "ges:" not in result.err  # no work was done
    assert out.read_text() == "earlier result" and _files(tmp_path) == before


@pytest.mark.parametrize(
    "args",
    [
        ["infer-graph", "{data}", "-l", "ges", "-o", "{tmp}/nofolder/g.json", "--plot", "{tmp}/p.png"],
        ["infer-graph", "{data}", "-l", "ges", "-o", "{data}/g.json", "--plot", "{tmp}/p.png"],
        ["infer-graph", "{data}", "-l", "ges", "-o", "{tmp}/g.json", "--plot", "{tmp}/data.npy/p.png"],
        ["plot", "{graph}", "-o", "{tmp}/nofolder/p.png"],
        ["convert", "{graph}", "{tmp}/nofolder/g.gml"],
        ["compare", "{graph}", "{graph}", "--plot", "{tmp}/nofolder/p.png"],
    ],
)
def test_every_output_path_is_checked_before_any_work(run_cli, tmp_path, data_npy, args, monkeypatch):
    graph = tmp_path / "graph.json"
    assert run_cli("infer-graph", data_npy, "-l", "ges", "-o", graph).code == 0
    before = _files(tmp_path)

    def work(*args, **kwargs):
        raise AssertionError("the work started before the output paths were checked")

    import ililab.api
    import ililab.io

    monkeypatch.setattr(ililab.api, "prepare_dataset", work)  # the first step of infer-graph
    monkeypatch.setattr(ililab.io, "read_graph", work)  # ... of plot, convert, compare
    filled = [a.format(data=data_npy, tmp=tmp_path, graph=graph) for a in args]
    result = run_cli(*filled)
    _one_line_error(result, 1, "cannot write")
    assert _files(tmp_path) == before


def test_output_through_a_symlink_replaces_the_target_and_keeps_the_link(run_cli, tmp_path, data_npy):
    real = tmp_path / "results"
    real.mkdir()
    target = real / "graph.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    result = run_cli("infer-graph", data_npy, "-l", "ges", "-o", link)
    assert result.code == 0, result.err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert DependencyGraph.from_json(target.read_text()).meta["learner"] == "ges"
    assert _files(tmp_path) == ["data.npy", "link.json", "results", "results/graph.json"]  # no temporary file left
    dangling = tmp_path / "new.gml"
    dangling.symlink_to(real / "new.gml")
    assert run_cli("convert", link, dangling).code == 0
    assert dangling.is_symlink() and (real / "new.gml").read_text().startswith("graph")
