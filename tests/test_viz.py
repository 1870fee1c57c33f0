"""ililab.viz: every layout writes valid pictures; labels are readable; filters and diffs are right."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from ililab.errors import UsageError
from ililab.graph import DependencyGraph, Edge, Node
from ililab.simulate import class_names
from ililab.viz import LAYOUTS, filter_edges, graph_title, node_order, plot_comparison, plot_graph, plot_heatmap, save_figure

SVG = "{http://www.w3.org/2000/svg}"


def class_graph(n_nodes: int, seed: int = 0, modalities: tuple[str, ...] = ("audio", "visual")) -> DependencyGraph:
    """A seeded graph over AVE-style class names: twins, cross-modal and within-modality edges."""
    rng = np.random.default_rng(seed)
    per = n_nodes // len(modalities)
    names = [f"{c} ({m})" for m in modalities for c in class_names(per)]
    edges, seen = [], set()
    for i in range(per):  # every class linked to its twin
        edges.append(Edge(names[i], names[per + i], "undirected" if i % 4 == 0 else "directed", float(rng.normal()), 1.0))
        seen.add((i, per + i))
    for _ in range(int(1.2 * n_nodes)):
        i, j = (int(v) for v in rng.choice(len(names), 2, replace=False))
        if (min(i, j), max(i, j)) in seen:
            continue
        seen.add((min(i, j), max(i, j)))
        kind = "undirected" if rng.random() < 0.15 else "directed"
        edges.append(Edge(names[i], names[j], kind, float(rng.normal()), float(rng.uniform(0.2, 1.0))))
    meta = {"learner": "grasp", "params": {"penalty": 4.0, "depth": 3, "seed": 0}, "n_samples": 5000, "transform": "logit"}
    return DependencyGraph(names, edges, meta)


def node_label_texts(svg_path) -> dict[str, str]:
    """gid -> text of every node label in an SVG written by ililab.viz."""
    root = ET.parse(svg_path).getroot()
    out = {}
    for group in root.iter(f"{SVG}g"):
        gid = group.get("id", "")
        if gid.startswith("node-label-"):
            out[gid] = "\n".join("".join(t.itertext()) for t in group.iter(f"{SVG}text"))
    return out


def check_png(path) -> None:
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        width, height = image.size
        assert width > 50 and height > 50
        pixels = np.asarray(image.convert("L"), dtype=float)
    dark = (pixels < 200).mean()
    assert 0.002 < dark < 0.6, f"blank or black picture ({dark:.4f} dark pixels)"


def check_pdf(path) -> None:
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(data) > 2000


def check_svg(path, graph: DependencyGraph, layout: str) -> None:
    labels = node_label_texts(path)
    assert len(labels) == len(graph.nodes)  # one text label per node
    order = node_order(graph) if layout == "heatmap" else graph.names
    short = layout in ("modality", "heatmap")
    for i, name in enumerate(order):
        node = graph.node(name)
        expected = node.label if short and node.label is not None else name
        assert labels[f"node-label-{i}"].replace("\n", " ") == expected


SIZES = [2, 20, 56]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("n_nodes", SIZES)
def test_every_layout_writes_png_svg_pdf(tmp_path, layout, n_nodes):
    graph = class_graph(n_nodes)
    fig = plot_graph(graph, tmp_path / "g.svg", layout=layout)
    check_svg(tmp_path / "g.svg", graph, layout)
    save_figure(fig, tmp_path / "g.png", dpi=40)
    check_png(tmp_path / "g.png")
    save_figure(fig, tmp_path / "g.pdf")
    check_pdf(tmp_path / "g.pdf")


@pytest.mark.slow
@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_draws_200_nodes(tmp_path, layout):
    graph = class_graph(200)
    plot_graph(graph, tmp_path / "g.svg", layout=layout)
    check_svg(tmp_path / "g.svg", graph, layout)
    plot_graph(graph, tmp_path / "g.png", layout=layout, dpi=30)
    check_png(tmp_path / "g.png")


def test_graph_without_modalities_uses_spring(tmp_path):
    graph = DependencyGraph(["x0", "x1", "x2"], [Edge("x0", "x1", weight=0.5), Edge("x1", "x2", "undirected")])
    plot_graph(graph, tmp_path / "g.svg")
    assert sorted(node_label_texts(tmp_path / "g.svg").values()) == ["x0", "x1", "x2"]


def _rendered(fig):
    """What the renderer drew, in display pixels: label polygons, marker centres and radius, edge polylines.

    Label polygons are the text's own box (from the renderer) rotated about its anchor,
    so rotated labels are not mistaken for their axis-aligned bounding boxes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    labels, fonts = {}, []
    for t in fig.findobj(Text):
        if not (t.get_gid() or "").startswith("node-label-"):
            continue
        anchor = np.asarray(t.get_transform().transform(t.get_position()))
        angle = t.get_rotation()
        t.set_rotation(0)
        box = t.get_window_extent(renderer)
        t.set_rotation(angle)
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        corners = np.array([[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]]) - anchor
        labels[t.get_gid()] = corners @ np.array([[c, s], [-s, c]]) + anchor
        fonts.append(t.get_fontsize())
    markers = [c for c in fig.findobj(PathCollection) if len(c.get_offsets()) == len(labels)]
    assert markers, "no marker collection found"
    scatter = markers[0]
    centres = np.asarray(scatter.get_offset_transform().transform(np.asarray(scatter.get_offsets())))
    radius = np.sqrt(scatter.get_sizes()[0]) / 2 * fig.dpi / 72
    edges = []
    for collection in fig.findobj(LineCollection):
        if collection.get_transform() is not None and collection.axes is not None and collection.get_gid() != "grid":
            edges += [np.asarray(collection.get_transform().transform(np.asarray(seg))) for seg in collection.get_segments()]
    return labels, centres, radius, edges, fonts


def _polygon_distance(polygon, points):
    """Distance from each point to a convex polygon (0 inside)."""
    inside = np.ones(len(points), dtype=bool)
    best = np.full(len(points), np.inf)
    for a, b in zip(polygon, np.roll(polygon, -1, axis=0)):
        ab = b - a
        cross = ab[0] * (points[:, 1] - a[1]) - ab[1] * (points[:, 0] - a[0])
        inside &= cross >= 0
        t = np.clip(((points - a) @ ab) / (ab @ ab), 0, 1)
        best = np.minimum(best, np.hypot(*(points - (a + t[:, None] * ab)).T))
    return np.where(inside, 0.0, best)


def _polygons_overlap(p, q, tolerance=0.5):
    """Separating-axis test for two convex polygons (pixels); touching within ``tolerance`` is no overlap."""
    for polygon in (p, q):
        for a, b in zip(polygon, np.roll(polygon, -1, axis=0)):
            axis = np.array([b[1] - a[1], a[0] - b[0]])
            axis /= np.hypot(*axis) or 1.0
            pa, qa = p @ axis, q @ axis
            if pa.max() <= qa.min() + tolerance or qa.max() <= pa.min() + tolerance:
                return False
    return True


def _inside(polygons, points, shrink=2.0):
    """(polygon, point) -> whether the point lies inside the convex, counter-clockwise polygon shrunk by ``shrink`` px."""
    a = polygons  # (P, 4, 2)
    b = np.roll(polygons, -1, axis=1)
    edge = b - a
    length = np.hypot(edge[..., 0], edge[..., 1])[..., None] + 1e-9
    # signed distance of every point from every polygon side, positive inside
    cross = (edge[..., None, 0] * (points[None, None, :, 1] - a[..., None, 1])
             - edge[..., None, 1] * (points[None, None, :, 0] - a[..., None, 0])) / length
    return cross.min(axis=1) > shrink


def _resample(line, count=80):
    """``count`` points spread evenly along a polyline."""
    steps = np.hypot(*np.diff(line, axis=0).T)
    where = np.concatenate([[0.0], np.cumsum(steps)])
    at = np.linspace(0.0, where[-1], count)
    return np.stack([np.interp(at, where, line[:, 0]), np.interp(at, where, line[:, 1])], axis=1)


def readability(fig):
    """Counts of what makes a drawing hard to read, measured on the rendered figure."""
    labels, centres, radius, edges, fonts = _rendered(fig)
    gids = sorted(labels, key=lambda g: int(g.rsplit("-", 1)[1]))
    polygons = [labels[g] for g in gids]
    def counter_clockwise(p):
        (x0, y0), (x1, y1), (x2, y2) = p[0], p[1], p[2]
        return p if (x1 - x0) * (y2 - y1) - (y1 - y0) * (x2 - x1) > 0 else p[::-1]

    stack = np.array([counter_clockwise(p) for p in polygons])
    distance = np.stack([_polygon_distance(poly, centres) for poly in polygons])  # label x marker
    own = distance[np.arange(len(polygons)), np.arange(len(polygons))]
    others = distance + np.diag(np.full(len(polygons), np.inf))
    covers = int((others < radius * 0.95).sum())
    misplaced = int((others.min(axis=1) < own - 0.5).sum())  # a label must be nearer its own marker than any other
    low, high = stack.min(axis=1), stack.max(axis=1)
    overlaps = 0
    for i in range(len(polygons)):
        for j in range(i):
            if (low[i] < high[j]).all() and (low[j] < high[i]).all() and _polygons_overlap(polygons[i], polygons[j]):
                overlaps += 1
    through_markers = through_labels = 0
    for line in edges:
        if len(line) < 2 or not np.hypot(*np.diff(line, axis=0).T).sum():
            continue
        samples = _resample(line)
        ends = np.hypot(*(centres[:, None, :] - np.array([line[0], line[-1]])[None]).transpose(2, 0, 1)).min(axis=1)
        own_end = ends < radius + 25 * fig.dpi / 72
        nearest = np.hypot(*(centres[:, None, :] - samples[None]).transpose(2, 0, 1)).min(axis=1)
        through_markers += int(((nearest < radius * 0.9) & ~own_end).sum())
        through_labels += int(_inside(stack, samples).any(axis=1).sum())
    width, height = fig.get_size_inches()
    area = sum(0.5 * abs(float(np.dot(poly[:, 0], np.roll(poly[:, 1], -1)) - np.dot(poly[:, 1], np.roll(poly[:, 0], -1))))
               for poly in polygons)  # shoelace formula
    return {
        "ink": area / (width * height * fig.dpi**2),  # share of the picture the labels take: low = empty space
        "covers": covers, "overlaps": overlaps, "misplaced": misplaced, "through_markers": through_markers,
        "through_labels": through_labels, "font": min(fonts), "inches": max(width, height),
    }


def _label_and_marker_boxes(fig):
    """Pixel boxes of node labels and marker centres / radius of the drawing."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PathCollection
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    labels = {}
    for t in fig.findobj(Text):
        if not (t.get_gid() or "").startswith("node-label-"):
            continue
        anchor = t.get_transform().transform(t.get_position())
        angle = t.get_rotation()
        t.set_rotation(0)
        box = t.get_window_extent(renderer)
        t.set_rotation(angle)
        labels[t.get_gid()] = (box, anchor, math.radians(angle))
    markers = [c for c in fig.findobj(PathCollection) if len(c.get_offsets()) == len(labels)]
    assert markers, "no marker collection found"
    scatter = markers[0]
    centres = np.asarray(scatter.get_offset_transform().transform(np.asarray(scatter.get_offsets())))
    radius = np.sqrt(scatter.get_sizes()[0]) / 2 * fig.dpi / 72
    return labels, centres, radius


NODE_LINK = ["modality", "spring", "circular", "hierarchical"]


@pytest.mark.parametrize("layout", NODE_LINK)
@pytest.mark.parametrize("n_nodes", [20, 56])
def test_labels_are_clear_of_markers_labels_and_edges(layout, n_nodes):
    # class_graph has undirected edges, twins and (imported-graph style) directed cycles
    r = readability(plot_graph(class_graph(n_nodes, seed=1), layout=layout))
    assert r["covers"] == 0, f"{layout}: a label covers a node marker"
    assert r["overlaps"] == 0, f"{layout}: two labels overlap"
    assert r["misplaced"] == 0, f"{layout}: a label sits nearer another node than its own"
    assert r["through_markers"] == 0, f"{layout}: an edge runs through a node it does not join"
    if layout != "spring":
        assert r["through_labels"] == 0, f"{layout}: an edge runs through a label"


@pytest.fixture(scope="module")
def graph_2x50():
    from ililab.simulate import simulate_soft_labels

    return simulate_soft_labels(50, 200, ("audio", "visual"), 2.0, 0).true_graph


@pytest.mark.parametrize("layout", NODE_LINK)
def test_every_layout_is_readable_at_2x50_classes(layout, graph_2x50):
    r = readability(plot_graph(graph_2x50, layout=layout, dpi=72))
    assert r["font"] >= 7.0, f"{layout}: labels of {r['font']:.1f} pt"
    assert (r["covers"], r["overlaps"], r["misplaced"], r["through_markers"]) == (0, 0, 0, 0), r
    if layout != "spring":
        assert r["through_labels"] == 0, r
    assert r["inches"] <= 18.0, f"{layout}: {r['inches']:.1f} inches across"
    # labels take a fair share of the picture (the spring layout used to leave 98% of it empty)
    assert r["ink"] >= 0.04, f"{layout}: labels cover only {r['ink']:.1%} of the picture"


def test_modality_layout_twins_face_each_other_and_labels_do_not_collide():
    graph = class_graph(56, seed=2)
    fig = plot_graph(graph, layout="modality")
    labels, centres, _ = _label_and_marker_boxes(fig)
    by_name = dict(zip(graph.names, centres))
    for node in graph.nodes:
        if node.modality == "audio":
            twin = by_name[f"{node.label} (visual)"]
            assert abs(by_name[node.name][1] - twin[1]) < 1e-6  # same row
            assert by_name[node.name][0] < twin[0]  # audio left, visual right
    boxes = [box for box, _, _ in labels.values()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap_x = min(a.x1, b.x1) - max(a.x0, b.x0)
            overlap_y = min(a.y1, b.y1) - max(a.y0, b.y0)
            assert overlap_x <= 0 or overlap_y <= 0.5, "two labels overlap"


def test_fonts_shrink_with_the_node_count():
    from matplotlib.text import Text

    def label_size(n):
        fig = plot_graph(class_graph(n), layout="modality")
        return next(t.get_fontsize() for t in fig.findobj(Text) if (t.get_gid() or "") == "node-label-0")

    assert label_size(8) > label_size(56) >= 5


def test_title_names_learner_and_parameters():
    title = graph_title(class_graph(20))
    assert "grasp" in title and "penalty=4" in title and "depth=3" in title and "20 nodes" in title


def test_math_characters_are_drawn_literally(tmp_path):
    graph = DependencyGraph(["Cash $register$ (audio)", "x_1^2 (visual)"], [Edge("Cash $register$ (audio)", "x_1^2 (visual)")])
    plot_graph(graph, tmp_path / "g.svg", layout="spring")
    assert set(node_label_texts(tmp_path / "g.svg").values()) == {"Cash $register$ (audio)", "x_1^2 (visual)"}


def test_svg_output_is_reproducible(tmp_path):
    graph = class_graph(20)
    plot_graph(graph, tmp_path / "a.svg")
    plot_graph(graph, tmp_path / "b.svg")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_spring_picture_does_not_depend_on_the_hash_seed(tmp_path):
    """Same graph, same seed, same bytes in interpreters with different string hashing."""
    code = (
        "import sys\n"
        "from ililab.graph import DependencyGraph, Edge\n"
        "from ililab.viz import plot_graph\n"
        "names = [f'X{i}' for i in range(12)]\n"
        "edges = [Edge(names[i], names[(5 * i + 3) % 12]) for i in range(12) if i != (5 * i + 3) % 12]\n"
        "plot_graph(DependencyGraph(names, edges), sys.argv[1], layout='spring')\n"
    )
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"spring{hash_seed}.svg"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", code, str(out)], check=True, env=env)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_bad_output_and_layout_are_usage_errors(tmp_path):
    graph = class_graph(20)
    with pytest.raises(UsageError, match=".png, .svg or .pdf"):
        plot_graph(graph, tmp_path / "g.jpeg")
    with pytest.raises(UsageError, match="unknown layout"):
        plot_graph(graph, layout="radial")
    with pytest.raises(UsageError, match="no nodes"):
        plot_graph(DependencyGraph([], []))
    assert not list(tmp_path.iterdir())


# -- filters ------------------------------------------------------------------------------


def star() -> DependencyGraph:
    edges = [
        Edge("hub", "a", weight=0.9, confidence=0.2),
        Edge("hub", "b", weight=-0.5, confidence=0.9),
        Edge("hub", "c", weight=0.1, confidence=1.0),
        Edge("a", "b", weight=0.05, confidence=0.5),
    ]
    return DependencyGraph(["hub", "a", "b", "c"], edges)


def pairs(graph: DependencyGraph) -> set[tuple[str, str]]:
    return {(e.source, e.target) for e in graph.edges}


def test_filters():
    g = star()
    assert pairs(filter_edges(g, min_weight=0.4)) == {("hub", "a"), ("hub", "b")}
    assert pairs(filter_edges(g, min_confidence=0.9)) == {("hub", "b"), ("hub", "c")}
    # top-1: hub keeps hub->a; a keeps hub->a; b keeps hub->b; c keeps its only edge
    assert pairs(filter_edges(g, top_k=1)) == {("hub", "a"), ("hub", "b"), ("hub", "c")}
    assert filter_edges(g) == g


def test_filters_refuse_missing_attributes():
    bare = DependencyGraph(["a", "b"], [Edge("a", "b")])
    for options in ({"min_confidence": 0.5}, {"min_weight": 0.1}, {"top_k": 2}):
        with pytest.raises(UsageError):
            filter_edges(bare, **options)
    with pytest.raises(UsageError):
        filter_edges(star(), top_k=0)


def test_filtered_plot_says_so_in_its_title():
    from matplotlib.text import Text

    fig = plot_graph(star(), top_k=1, layout="spring")
    texts = " ".join(t.get_text() for t in fig.findobj(Text))
    assert "showing 3 of 4 edges (top 1 per node)" in texts


# -- heatmap and comparison -----------------------------------------------------------------


def test_heatmap_cells_follow_edges():
    graph = DependencyGraph(
        ["a (audio)", "b (audio)", "a (visual)"],
        [Edge("a (audio)", "a (visual)", weight=0.7), Edge("b (audio)", "a (visual)", "undirected", weight=-0.3)],
    )
    fig = plot_heatmap(graph)
    image = fig.axes[0].get_images()[0]
    values = np.ma.filled(image.get_array(), np.nan)
    assert values[0, 2] == pytest.approx(0.7) and np.isnan(values[2, 0])  # directed: one cell
    assert values[1, 2] == pytest.approx(-0.3) and values[2, 1] == pytest.approx(-0.3)  # undirected: both
    assert np.isnan(values[0, 1])


def test_comparison_plot_counts_categories(tmp_path):
    from matplotlib.text import Text

    names = ["a", "b", "c", "d"]
    truth = DependencyGraph(names, [Edge("a", "b"), Edge("b", "c"), Edge("c", "d")])
    estimate = DependencyGraph(names, [Edge("a", "b"), Edge("c", "b"), Edge("c", "d", "undirected"), Edge("a", "d")])
    fig = plot_comparison(estimate, truth, tmp_path / "diff.png", names=("est", "truth"), layout="circular", cpdag=False)
    check_png(tmp_path / "diff.png")
    texts = " ".join(t.get_text() for t in fig.findobj(Text))
    for expected in ("in both: 1", "only in est: 1", "reversed (est's direction shown): 1",
                     "directed in one, undirected in the other: 1", "SHD 3"):
        assert expected in texts
    with pytest.raises(UsageError, match="different nodes"):
        plot_comparison(estimate, DependencyGraph(["a", "b"], []))


def test_comparison_plot_reduces_like_compare():
    from matplotlib.text import Text

    from ililab.metrics import compare

    names = ["a", "b", "c"]
    dag = DependencyGraph(names, [Edge("a", "b"), Edge("b", "c")])
    cpdag = DependencyGraph(names, [Edge("a", "b", "undirected"), Edge("b", "c", "undirected")])

    def title(fig):
        return " ".join(t.get_text() for t in fig.findobj(Text))

    assert "SHD 0" in title(plot_comparison(cpdag, dag, layout="circular"))  # like ililab.compare's default
    assert "SHD 2" in title(plot_comparison(cpdag, dag, layout="circular", comparison=compare(cpdag, dag, cpdag=False)))
    assert "SHD 2" in title(plot_comparison(cpdag, dag, layout="circular", cpdag=False))


def test_graph_plot_method_and_lazy_matplotlib(tmp_path):
    graph = class_graph(20)
    fig = graph.plot(tmp_path / "g.png", layout="circular", dpi=40)
    check_png(tmp_path / "g.png")
    assert fig.axes
    code = "import sys, ililab, ililab.graph, ililab.io; assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_nodes_without_modality_get_their_own_column(tmp_path):
    graph = DependencyGraph(
        [Node("a (audio)", "a", "audio"), Node("a (visual)", "a", "visual"), Node("loner")],
        [Edge("a (audio)", "loner"), Edge("a (visual)", "a (audio)")],
    )
    plot_graph(graph, tmp_path / "g.svg")
    svg = (tmp_path / "g.svg").read_text(encoding="utf-8")
    assert "(no modality)" in svg
    assert set(node_label_texts(tmp_path / "g.svg").values()) == {"a", "loner"} | {"a"}
