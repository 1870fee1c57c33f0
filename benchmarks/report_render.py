"""Render time and size of ``ililab report`` pages in headless Chromium, and the docs' screenshot.

Two pages: the graph GRaSP infers from simulated 2 x 28-class soft labels (56 nodes, with
bootstrap confidences), and a seeded random graph of 2 x 527 classes with 3,000 edges (the
AudioSet scale of the issue; no learner run, only the page is measured). For each page it
prints the time Python takes to build it, its size, and over ``--repeat`` fresh page loads
(median): the time from navigation to the end of the first canvas draw (``renderMs``,
measured by the page), the wall time of ``page.goto`` until the page says it is ready, the
time of one full redraw, and of one filter change (table and highlight recomputed).

Usage::

    python benchmarks/report_render.py [--repeat 5] [--screenshot docs/report.png]

Needs Debian's ``chromium`` and the ``playwright`` Python package (the dev extra).
"""

from __future__ import annotations

from _common import pin_blas, print_table

pin_blas()

import argparse  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import ililab  # noqa: E402
from ililab.graph import DependencyGraph, Edge  # noqa: E402
from ililab.report import build_report  # noqa: E402
from ililab.simulate import simulate_soft_labels  # noqa: E402

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def inferred_graph(classes: int, bootstrap: int) -> DependencyGraph:
    data = simulate_soft_labels(classes, 20000, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ililab.infer_graph(data.probabilities, names=data.names, seed=0, bootstrap=bootstrap, progress=False)


def random_graph(classes: int, n_edges: int, seed: int = 1) -> DependencyGraph:
    rng = np.random.default_rng(seed)
    names = [f"class {i} ({m})" for m in ("audio", "visual") for i in range(classes)]
    edges: dict[tuple[int, int], Edge] = {}
    while len(edges) < n_edges:
        a, b = (int(v) for v in rng.integers(0, len(names), 2))
        if a != b and (min(a, b), max(a, b)) not in edges:
            kind = "directed" if rng.random() < 0.85 else "undirected"
            edges[(min(a, b), max(a, b))] = Edge(names[a], names[b], kind, float(rng.normal(0, 0.4)), float(rng.random()))
    return DependencyGraph(names, edges.values(), {"learner": "random"})


def measure(browser, path: Path, repeat: int) -> dict[str, float]:
    rows = []
    for _ in range(repeat):
        context = browser.new_context(viewport={"width": 1400, "height": 850})
        page = context.new_page()
        start = time.perf_counter()
        page.goto(path.resolve().as_uri())
        page.wait_for_function("window.ililabReport && window.ililabReport.ready")
        wall = time.perf_counter() - start
        render = page.evaluate("ililabReport.renderMs")
        redraw = page.evaluate("""() => new Promise((done) => {
            document.getElementById('zoom-in').click(); requestAnimationFrame(() => done(ililabReport.drawMs)); })""")
        filter_ms = page.evaluate("""() => { const box = document.getElementById('min-confidence'), t = performance.now();
            box.value = '0.5'; box.dispatchEvent(new Event('input')); return performance.now() - t; }""")
        rows.append((render, wall * 1000, redraw, filter_ms))
        context.close()
    return {key: statistics.median(r[i] for r in rows) for i, key in enumerate(("render", "wall", "redraw", "filter"))}


def screenshot(browser, path: Path, out: Path, select: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 760})
    page = context.new_page()
    page.goto(path.resolve().as_uri())
    page.wait_for_function("window.ililabReport && window.ililabReport.ready")
    where = page.evaluate("(name) => ililabReport.screenPosition(name)", select)
    page.mouse.click(where["x"], where["y"])
    page.wait_for_timeout(100)
    page.screenshot(path=str(out))
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--bootstrap", type=int, default=20, help="Bootstrap replicates of the 56-node graph.")
    parser.add_argument("--screenshot", type=Path, help="Write a PNG of the 56-node page with one class selected.")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    graphs = {"2 x 28 (GRaSP)": inferred_graph(28, args.bootstrap), "2 x 527 (random)": random_graph(527, 3000)}
    lines = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        pages = {}
        for name, graph in graphs.items():
            start = time.perf_counter()
            page = build_report(graph)
            build = time.perf_counter() - start
            path = Path(tmp) / f"{len(graph.nodes)}.html"
            path.write_text(page, encoding="utf-8")
            pages[name] = path
            m = measure(browser, path, args.repeat)
            lines.append(
                f"{name:<18}{len(graph.nodes):>6}{len(graph.edges):>7}{len(page.encode()) / 1024:>9.0f}{build:>9.2f}"
                f"{m['render']:>11.0f}{m['wall']:>9.0f}{m['redraw']:>9.1f}{m['filter']:>9.1f}"
            )
        if args.screenshot is not None:
            small = graphs["2 x 28 (GRaSP)"]
            busiest = max(small.names, key=lambda v: (sum(small.node(u).modality != small.node(v).modality
                                                           for u in small.neighbors(v)), -small.index(v)))
            screenshot(browser, pages["2 x 28 (GRaSP)"], args.screenshot, busiest)
        browser.close()
    print_table(f"{'graph':<18}{'nodes':>6}{'edges':>7}{'size KB':>9}{'build s':>9}{'render ms':>11}"
                f"{'wall ms':>9}{'draw ms':>9}{'filt ms':>9}", lines)
    print(f"(median of {args.repeat} fresh page loads; render = navigation start to the end of the first draw)")


if __name__ == "__main__":
    main()
