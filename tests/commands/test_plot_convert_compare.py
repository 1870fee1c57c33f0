"""`ililab plot`, `ililab convert`, `ililab compare` and `ililab infer-graph --plot` through the real CLI."""

from __future__ import annotations

import json

import pytest

from ililab import compare
from ililab.graph import DependencyGraph, Edge, Node
from ililab.io import read_graph

NAMES = ["Frying (food) (audio)", "Rodents/rats (audio)", "Frying (food) (visual)", "Rodents/rats (visual)"]


@pytest.fixture
def graph_file(tmp_path):
    edges = [
        Edge(NAMES[0], NAMES[2], weight=0.8, confidence=0.9),
        Edge(NAMES[1], NAMES[3], "undirected", weight=-0.4, confidence=0.6),
        Edge(NAMES[0], NAMES[1], weight=0.2, confidence=0.3),
    ]
    graph = DependencyGraph(NAMES, edges, {"learner": "grasp", "params": {"penalty": 4.0, "seed": 0}})
    return graph.save(tmp_path / "g.json")


# -- plot ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_plot_writes_each_format(run_cli, graph_file, tmp_path, suffix, magic):
    out = tmp_path / f"g{suffix}"
    result = run_cli("plot", graph_file, "-o", out, "--dpi", "50")
    assert result.code == 0, result.err
    assert out.read_bytes().startswith(magic)
    assert "4 nodes, 3 edges" in result.err and result.out == ""


def test_plot_layouts_and_filters(run_cli, graph_file, tmp_path):
    for layout in ("modality", "spring", "circular", "hierarchical", "heatmap"):
        out = tmp_path / f"{layout}.svg"
        assert run_cli("plot", graph_file, "-o", out, "--layout", layout, "--top-k", "1", "--min-confidence", "0.5").code == 0
        assert "showing 2 of 3 edges" in out.read_text(encoding="utf-8")


def test_plot_reads_other_formats(run_cli, graph_file, tmp_path):
    assert run_cli("convert", graph_file, tmp_path / "g.graphml").code == 0
    assert run_cli("plot", tmp_path / "g.graphml", "-o", tmp_path / "g.png", "--dpi", "40").code == 0
    assert (tmp_path / "g.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "args,code,message",
    [
        (["-o", "g.jpeg"], 2, ".png, .svg or .pdf"),
        (["-o", "g.png", "--layout", "radial"], 2, "radial"),
        (["-o", "g.png", "--top-k", "0"], 2, "top-k"),
        (["-o", "g.png", "--min-confidence", "2"], 2, "min-confidence"),
    ],
)
def test_plot_usage_errors(run_cli, graph_file, tmp_path, args, code, message):
    args = [str(tmp_path / a) if a.startswith("g.") else a for a in args]
    result = run_cli("plot", graph_file, *args)
    assert result.code == code
    assert message in result.err and "Traceback" not in result.err
    assert not (tmp_path / "g.png").exists()


def test_plot_of_unweighted_graph_refuses_top_k(run_cli, tmp_path):
    path = DependencyGraph(["a", "b"], [Edge("a", "b")]).save(tmp_path / "bare.json")
    result = run_cli("plot", path, "-o", tmp_path / "g.png", "--top-k", "2")
    assert result.code == 2 and "neither" in result.err


def test_plot_of_broken_file_is_one_line_error(run_cli, tmp_path):
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><graph><node id='a'/><edge source='a' target='zzz'/></graph></graphml>", encoding="utf-8")
    result = run_cli("plot", bad, "-o", tmp_path / "g.png")
    assert result.code == 1 and result.err.count("\n") == 1 and "zzz" in result.err


# -- convert ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".gml", ".graphml", ".dot", ".gv", ".json"])
def test_convert_round_trips_full_formats(run_cli, graph_file, tmp_path, suffix):
    middle = tmp_path / f"mid{suffix}"
    assert run_cli("convert", graph_file, middle).code == 0
    assert run_cli("convert", middle, tmp_path / "back.json").code == 0
    assert read_graph(tmp_path / "back.json") == read_graph(graph_file)


def test_convert_to_csv_formats_reports_losses(run_cli, graph_file, tmp_path):
    result = run_cli("convert", graph_file, tmp_path / "edges.csv")
    assert result.code == 0 and "does not keep: meta" in result.err
    back = read_graph(tmp_path / "edges.csv")
    assert back.node("Frying (food) (visual)") == Node("Frying (food) (visual)", "Frying (food)", "visual")
    assert back.edge(NAMES[1], NAMES[3]).kind == "undirected"
    result = run_cli("convert", graph_file, tmp_path / "matrix.csv", "--to", "adjacency-csv")
    assert result.code == 0 and "edge confidences" in result.err
    matrix = read_graph(tmp_path / "matrix.csv")  # the .csv reader recognises a matrix
    assert matrix.names == NAMES
    assert matrix.edge(NAMES[0], NAMES[2]).weight == 0.8 and matrix.edge(NAMES[0], NAMES[2]).confidence is None


def test_convert_errors(run_cli, graph_file, tmp_path):
    result = run_cli("convert", graph_file, tmp_path / "g.xyz")
    assert result.code == 2 and ("--format" in result.err or "extension" in result.err)
    result = run_cli("convert", graph_file, tmp_path / "g.out", "--to", "yaml")
    assert result.code == 2 and "unknown graph format" in result.err
    result = run_cli("convert", tmp_path / "missing.json", tmp_path / "g.gml")
    assert result.code == 1 and "no such file" in result.err
    assert not (tmp_path / "g.gml").exists()


# -- compare ------------------------------------------------------------------------------


def known_pair(tmp_path):
    """Truth a->b->c->d; estimate: a->b shared, c->b reversed, c-d undirected, a->d extra."""
    names = ["a", "b", "c", "d"]
    truth = DependencyGraph(names, [Edge("a", "b"), Edge("b", "c"), Edge("c", "d")])
    estimate = DependencyGraph(names, [Edge("a", "b"), Edge("c", "b"), Edge("c", "d", "undirected"), Edge("a", "d")])
    return estimate, truth, estimate.save(tmp_path / "est.json"), truth.save(tmp_path / "truth.json")


def test_compare_known_pair_values(tmp_path):
    estimate, truth, _, _ = known_pair(tmp_path)
    result = compare(estimate, truth, cpdag=False)  # as given (the default would reduce the DAG truth)
    assert result.shd == 3
    assert (result.adjacency.precision, result.adjacency.recall) == (0.75, 1.0)
    assert result.adjacency.f1 == pytest.approx(6 / 7)
    assert result.arrowhead.f1 == pytest.approx(1 / 3)
    assert result.only_in_first == [("a", "d", "directed")] and result.only_in_second == []
    assert result.reversed == [("c", "b")]
    assert result.kind_differs == [("c", "d", "undirected")]
    identical = compare(truth, truth)
    assert identical.shd == 0 and identical.adjacency.f1 == 1.0 and identical.arrowhead.f1 == 1.0


def test_compare_table(run_cli, tmp_path):
    _, _, est, truth = known_pair(tmp_path)
    result = run_cli("compare", est, truth, "--no-cpdag")
    assert result.code == 0, result.err
    out = result.out
    assert "SHD (A vs B)  3" in out
    assert "adjacency        0.750   1.000  0.857      3      4      3" in out
    assert "arrowhead        0.333   0.333  0.333      1      3      3" in out
    assert "only in A (1):\n  a --> d" in out
    assert "only in B (0):\n  (none)" in out
    assert "reversed (as in A) (1):\n  c --> b" in out
    assert "(as in A) (1):\n  c --- d" in out


def test_compare_json_and_plot(run_cli, tmp_path):
    _, _, est, truth = known_pair(tmp_path)
    result = run_cli("compare", est, truth, "--no-cpdag", "--json", "--plot", tmp_path / "diff.svg")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["shd"] == 3 and document["adjacency"]["f1"] == pytest.approx(6 / 7)
    assert document["reversed"] == [["c", "b"]] and document["only_in_first"] == [["a", "d", "directed"]]
    svg = (tmp_path / "diff.svg").read_text(encoding="utf-8")
    assert "only in est: 1" in svg and "only in truth" not in svg and "in both: 1" in svg


def test_compare_cpdag_makes_equivalent_dags_equal(run_cli, tmp_path):
    names = ["a", "b", "c"]
    first = DependencyGraph(names, [Edge("a", "b"), Edge("b", "c")]).save(tmp_path / "1.json")
    second = DependencyGraph(names, [Edge("b", "a"), Edge("c", "b")]).save(tmp_path / "2.json")
    assert "SHD (A vs B)  2" in run_cli("compare", first, second).out
    assert "SHD (A vs B)  0" in run_cli("compare", first, second, "--cpdag").out


def test_compare_dag_against_cpdag_compares_equivalence_classes_by_default(run_cli, tmp_path):
    names = ["a", "b", "c"]
    dag = DependencyGraph(names, [Edge("a", "b"), Edge("b", "c")]).save(tmp_path / "dag.json")
    cpdag = DependencyGraph(names, [Edge("a", "b", "undirected"), Edge("b", "c", "undirected")]).save(tmp_path / "cpdag.json")
    result = run_cli("compare", cpdag, dag)
    assert result.code == 0 and "SHD (A vs B)  0" in result.out and "--no-cpdag" in result.err
    assert "SHD (A vs B)  2" in run_cli("compare", cpdag, dag, "--no-cpdag").out
    assert json.loads(run_cli("compare", dag, cpdag, "--json").out)["cpdag"] is True
    both_dags = run_cli("compare", dag, dag)
    assert "SHD (A vs B)  0" in both_dags.out and both_dags.err == ""


def test_compare_different_nodes_is_a_data_error(run_cli, tmp_path, graph_file):
    _, _, est, _ = known_pair(tmp_path)
    result = run_cli("compare", est, graph_file)
    assert result.code == 1 and "different nodes" in result.err and result.err.count("\n") == 1


# -- infer-graph --plot / --format ------------------------------------------------------------


def test_infer_graph_plot_and_format(run_cli, soft_files, tmp_path):
    picture = tmp_path / "g.png"
    result = run_cli(
        "infer-graph", soft_files["logits"], "--names", soft_files["names"], "-l", "boss",
        "-o", tmp_path / "g.graphml", "--plot", picture,
    )
    assert result.code == 0, result.err
    assert picture.read_bytes().startswith(b"\x89PNG")
    graph = read_graph(tmp_path / "g.graphml")
    assert graph.modalities == ["audio", "visual"] and graph.meta["learner"] == "boss"
    result = run_cli("infer-graph", soft_files["logits"], "-l", "boss", "--plot", tmp_path / "g.bmp")
    assert result.code == 2 and ".png, .svg or .pdf" in result.err
