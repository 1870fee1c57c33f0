"""``ililab plot`` reports what it drew; ``simulate sem`` takes --variables (``-p`` is a learner parameter elsewhere)."""

from __future__ import annotations

import numpy as np

from ililab.graph import DependencyGraph, Edge


def _graph_file(tmp_path):
    names = [f"c{i} (audio)" for i in range(4)] + [f"c{i} (visual)" for i in range(4)]
    edges = [Edge(names[i], names[i + 4], weight=0.1 * (i + 1)) for i in range(4)] + [Edge(names[0], names[1], weight=0.05)]
    path = tmp_path / "g.json"
    DependencyGraph(names, edges, {"learner": "grasp"}).save(path)
    return path


def test_plot_reports_the_number_of_edges_drawn(run_cli, tmp_path):
    path = _graph_file(tmp_path)
    result = run_cli("plot", path, "-o", tmp_path / "all.svg")
    assert result.code == 0 and result.err.strip() == f"8 nodes, 5 edges -> {tmp_path / 'all.svg'}"
    result = run_cli("plot", path, "-o", tmp_path / "strong.svg", "--min-weight", "0.25")
    assert result.code == 0, result.err
    assert result.err.strip() == f"8 nodes, 2 of 5 edges drawn -> {tmp_path / 'strong.svg'}"
    assert run_cli("-q", "plot", path, "-o", tmp_path / "q.svg", "--top-k", "1").err == ""


def test_simulate_sem_takes_variables(run_cli, tmp_path):
    result = run_cli("simulate", "sem", "--variables", "5", "-n", "100", "-o", tmp_path / "a")
    assert result.code == 0, result.err
    assert np.load(tmp_path / "a" / "data.npy").shape == (100, 5)
    assert "deprecated" not in result.err
    assert "-p" not in run_cli("simulate", "sem", "--help").out  # the old spelling is not advertised


def test_simulate_sem_old_p_still_works_with_a_warning(run_cli, tmp_path):
    result = run_cli("simulate", "sem", "-p", "5", "-n", "100", "-o", tmp_path / "b")
    assert result.code == 0, result.err
    assert np.load(tmp_path / "b" / "data.npy").shape == (100, 5)
    assert result.err.splitlines()[0] == (
        "warning: 'simulate sem -p N' is deprecated (-p is a learner parameter elsewhere); use --variables N"
    )
    np.testing.assert_array_equal(np.load(tmp_path / "b" / "data.npy"), np.load(_sem(run_cli, tmp_path) / "data.npy"))


def _sem(run_cli, tmp_path):
    out = tmp_path / "c"
    assert run_cli("-q", "simulate", "sem", "--variables", "5", "-n", "100", "-o", out).code == 0
    return out


def test_simulate_sem_refuses_both_spellings(run_cli, tmp_path):
    result = run_cli("simulate", "sem", "-p", "5", "--variables", "6", "-n", "100", "-o", tmp_path / "d")
    assert result.code == 2
    assert result.err.strip() == "error: give the number of variables once, as --variables N (-p is its deprecated spelling)"
    assert not (tmp_path / "d").exists()
