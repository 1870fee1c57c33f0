"""The report page as text: self-contained, deterministic, escaped; the diff; the CLI (no browser needed)."""

from __future__ import annotations

import json
import re

import pytest

from ililab.errors import DataError, OutputError, UsageError
from ililab.graph import DependencyGraph, Edge
from ililab.report import build_report, check_report_path, write_report
from ililab.report._layout import column_layout, force_layout

from ._graphs import frequency_graph, random_graph


def _payload(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="ililab-data">(.*?)</script>', page, re.S)
    assert match is not None
    return json.loads(match.group(1))


def test_page_is_self_contained_and_deterministic():
    graph = random_graph(28, 85)
    page = build_report(graph, seed=3)
    assert page == build_report(graph, seed=3)
    assert page != build_report(graph, seed=4)  # the seed reaches the force layout
    assert "://" not in page  # no URL of any kind: nothing can be fetched
    assert not re.search(r"<(script|link|img|iframe)[^>]*\b(src|href)=", page)
    assert "default-src 'none'" in page  # and the browser is told to fetch nothing
    data = _payload(page)
    assert len(data["nodes"]) == 56 and len(data["edges"]) == 85
    assert data["meta"]["warnings"] == ["a warning the page must show"]


def test_data_cannot_break_out_of_the_page():
    evil = "x</script><script>alert(1)</script> & <b>"
    graph = DependencyGraph([f"{evil} (audio)", "y (visual)"], [Edge(f"{evil} (audio)", "y (visual)")], {"note": evil})
    page = build_report(graph, title=evil)
    assert page.count("</script>") == 2  # the data block's and the code's, nothing from the data
    assert "<title>x&lt;/script&gt;" in page
    assert _payload(page)["nodes"][0][0] == f"{evil} (audio)"  # the JSON still decodes to the name


def test_extra_edge_fields_are_carried():
    data = _payload(build_report(frequency_graph()))
    assert data["extraFields"] == ["frequency", "orientations"]
    assert data["edges"][0][5] == {"frequency": 0.75, "orientations": {"forward": 0.6, "reverse": 0.15}}
    assert data["edges"][1][5] is None


def test_columns_put_twins_on_one_row_and_force_layout_is_seeded():
    graph = random_graph(5, 8)
    positions, side, columns, gap = column_layout(graph)
    xy = list(zip(positions[::2], positions[1::2]))
    assert xy[0][1] == xy[5][1] and xy[0][0] != xy[5][0]  # class 0 audio faces class 0 visual
    assert [c["name"] for c in columns] == ["audio", "visual"] and side[:5] == [1] * 5 and side[5:] == [-1] * 5
    assert force_layout(graph, seed=1) == force_layout(graph, seed=1) != force_layout(graph, seed=2)


def test_force_layout_above_the_dense_limit_uses_networkx(monkeypatch):
    graph = random_graph(15, 20)
    dense = force_layout(graph, seed=1)
    monkeypatch.setattr("ililab.report._layout.DENSE_LIMIT", 10)
    sparse = force_layout(graph, seed=1)
    assert len(sparse) == 60 and sparse != dense and sparse == force_layout(graph, seed=1)
    half = 1.2 * 20 * 30 ** 0.5
    assert max(map(abs, sparse)) == pytest.approx(half, abs=0.1)  # both are scaled to the same box


def test_diff_classes_every_changed_pair():
    names = ["a (audio)", "b (audio)", "c (visual)", "d (visual)"]
    a = DependencyGraph(names, [Edge("a (audio)", "c (visual)"), Edge("b (audio)", "d (visual)"),
                                Edge("a (audio)", "b (audio)"), Edge("c (visual)", "d (visual)")])
    b = DependencyGraph(names, [Edge("d (visual)", "b (audio)"), Edge("a (audio)", "b (audio)", "undirected"),
                                Edge("c (visual)", "d (visual)"), Edge("a (audio)", "d (visual)")])
    diff = _payload(build_report(a, compare_to=b, names=("one.json", "two.json")))["diff"]
    status = {(names[s], names[t]): st for s, t, _, _, _, st in diff["edges"]}
    assert status == {
        ("a (audio)", "b (audio)"): "reoriented",
        ("a (audio)", "c (visual)"): "removed",
        ("a (audio)", "d (visual)"): "added",
        ("d (visual)", "b (audio)"): "reversed",  # drawn as in B
        ("c (visual)", "d (visual)"): "same",
    }
    assert (diff["a"], diff["b"], diff["shd"]) == ("one.json", "two.json", 4)
    with pytest.raises(DataError, match="cannot compare"):
        build_report(a, compare_to=DependencyGraph(["a (audio)", "z (visual)"]))


def test_report_path_is_checked(tmp_path):
    assert check_report_path(tmp_path / "r.HTM").suffix == ".HTM"
    with pytest.raises(UsageError, match=r"must end in \.html"):
        check_report_path(tmp_path / "r.png")
    with pytest.raises(OutputError, match="does not exist"):
        check_report_path(tmp_path / "missing" / "r.html")
    (tmp_path / "d.html").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        check_report_path(tmp_path / "d.html")


def test_report_command(run_cli, tmp_path):
    graph, other = random_graph(6, 12, seed=1), random_graph(6, 12, seed=2)
    graph.save(tmp_path / "a.json")
    other.save(tmp_path / "b.json")
    result = run_cli("report", tmp_path / "a.json", "--compare", tmp_path / "b.json", "-o", tmp_path / "r.html")
    assert result.code == 0, result.err
    assert "difference with" in result.err
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    data = _payload(page)
    assert data["diff"]["a"] == "a.json" and data["defaultMode"] == "diff"
    assert page == build_report(graph, compare_to=other, names=("a.json", "b.json"))
    assert run_cli("report", tmp_path / "a.json", "-o", tmp_path / "r.png").code == 2
    assert run_cli("report", tmp_path / "a.json", "-o", tmp_path / "no" / "r.html").code == 1
    assert run_cli("report", tmp_path / "missing.json", "-o", tmp_path / "x.html").code == 1
    assert not (tmp_path / "x.html").exists()


def test_infer_graph_writes_a_report_and_checks_its_path_first(run_cli, tmp_path, soft_files):
    out, report = tmp_path / "g.json", tmp_path / "g.html"
    args = ["infer-graph", soft_files["probabilities"], "--names", soft_files["names"], "-o", out]
    bad = run_cli(*args, "--report", tmp_path / "g.txt")
    assert bad.code == 2 and "must end in .html" in bad.err
    assert not out.exists()  # refused before any work
    result = run_cli(*args, "--report", report)
    assert result.code == 0, result.err
    assert f"report -> {report}" in result.err
    graph = DependencyGraph.from_json(out.read_text(encoding="utf-8"))
    assert report.read_text(encoding="utf-8") == build_report(graph)


def test_write_report_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "r.html"
    path.write_text("old")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("ililab.report.build_report", broken)
    with pytest.raises(RuntimeError):
        write_report(random_graph(3, 2), path)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
