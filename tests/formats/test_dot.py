"""DOT: Graphviz and pydot read our files; hand-written DOT is read."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ililab.formats import read_dot, write_dot

from ._graphs import tricky_graph


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_pydot_parses_our_dot():
    pydot = pytest.importorskip("pydot")
    graphs_ = pydot.graph_from_dot_data(write_dot(tricky_graph()))
    assert graphs_ is not None and len(graphs_[0].get_edges()) == len(tricky_graph().edges)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_renders_our_dot(tmp_path):
    path = tmp_path / "g.dot"
    path.write_text(write_dot(tricky_graph()), encoding="utf-8")
    done = subprocess.run(["dot", "-Tsvg", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "<svg" in done.stdout and "Frying (food)" in done.stdout


def test_hand_written_dot_is_read():
    text = """
    /* a comment */
      # preprocessor line
    strict digraph G {
      node [modality="audio"];
      a -> b -> c [edge_weight=0.5];
      subgraph cluster_x { node [modality="visual"]; "d e":port:n; }
      a -> {d e} [dir=none];
      "x" + "y" [class_label=X];
      f -- g; // undirected
    }
    """
    g = read_dot(text)
    assert g.node("a").modality == "audio"
    assert g.node("d e").modality == "visual"
    assert g.node("xy").label == "X"
    assert g.edge("a", "b").weight == 0.5 and g.edge("b", "c").directed
    assert g.edge("a", "d").kind == "undirected" and g.edge("a", "e").kind == "undirected"
    assert g.node("d").modality == "audio"  # declared outside the cluster
    assert g.edge("f", "g").kind == "undirected"

