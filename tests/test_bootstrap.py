"""Bootstrap edge confidence: seeds, determinism, the streamed path, aggregation, CLI and API."""

import json
import warnings

import numpy as np
import pytest

import ililab
from ililab import stats
from ililab.api import prepare_dataset
from ililab.bootstrap import BootstrapResult, annotate, replicate_seed, run_bootstrap
from ililab.dataset import Dataset
from ililab.engines import LocalEngine
from ililab.errors import UsageError
from ililab.graph import DependencyGraph, Edge
from ililab.simulate import simulate_linear_sem


@pytest.fixture(scope="module")
def weak():
    # Few rows and weak edges: replicates disagree, so confidences are informative.
    return simulate_linear_sem(7, 300, expected_degree=2.0, seed=11)


def _confidences(graph):
    return {(e.source, e.target): e.confidence for e in graph.edges}


def test_replicate_seed_comes_from_seedsequence_spawn():
    children = np.random.SeedSequence(42).spawn(5)
    assert [replicate_seed(42, b) for b in range(5)] == [int(c.generate_state(1, np.uint32)[0]) for c in children]
    assert len({replicate_seed(0, b) for b in range(50)}) == 50


def test_same_seed_same_confidences_other_seed_other_counts(weak):
    dataset = prepare_dataset(weak.data)
    a = run_bootstrap(dataset, learner="grasp", replicates=12, seed=1)
    b = run_bootstrap(dataset, learner="grasp", replicates=12, seed=1)
    c = run_bootstrap(dataset, learner="grasp", replicates=12, seed=2)
    assert np.array_equal(a.adjacency, b.adjacency) and np.array_equal(a.forward, b.forward)
    assert not np.array_equal(a.adjacency, c.adjacency)
    # counts are whole replicates, orientation counts add up to adjacency
    assert a.adjacency.max() <= 12 and np.array_equal(a.forward + a.backward + a.undirected, a.adjacency)
    assert np.all(np.tril(a.adjacency) == 0)
    assert 0 < (a.adjacency == 12).sum() < (a.adjacency > 0).sum()  # some stable, some unstable pairs


def _spy_fits(monkeypatch, name, call_through):
    """Record the dataset each fit of learner ``name`` gets (in call order)."""
    from ililab.learners import get

    cls = get(name)
    original, seen = cls.fit, []

    def fit(self, data, knowledge=None, params=None):
        seen.append((data, dict(params or {})))
        if call_through:
            return original(self, data, knowledge, params)
        return DependencyGraph(list(data.names), [])

    monkeypatch.setattr(cls, "fit", fit)
    return seen


def _is_resample(rows, data):
    """``rows`` are len(data) draws of rows of ``data`` (with replacement), not ``data`` itself."""
    index = {row.tobytes(): i for i, row in enumerate(data)}
    drawn = [index.get(row.tobytes()) for row in rows]
    return rows.shape == data.shape and None not in drawn and len(set(drawn)) < len(data)


def test_confidence_is_the_frequency_among_replicate_graphs(weak, monkeypatch):
    """Refit GRaSP by hand on each replicate's covariance (its seed from SeedSequence) and count."""
    from ililab.learners import get

    dataset = prepare_dataset(weak.data)
    seen = _spy_fits(monkeypatch, "grasp", call_through=True)
    result = run_bootstrap(dataset, learner="grasp", replicates=6, seed=9)
    monkeypatch.undo()
    assert len(seen) == 6
    counts = np.zeros((7, 7))
    for b, (replicate, params) in enumerate(seen):
        assert params["seed"] == replicate_seed(9, b)
        assert not np.allclose(replicate.covariance, dataset.covariance)  # a resample, not the data
        graph = get("grasp")().fit(Dataset(replicate.nodes, replicate.covariance, replicate.n_samples), None, params)
        for e in graph.edges:
            i, j = sorted((graph.index(e.source), graph.index(e.target)))
            counts[i, j] += 1
    assert np.array_equal(counts, result.adjacency)
    assert 0 < ((counts > 0) & (counts < 6)).sum()  # replicates disagree somewhere


def test_infer_graph_annotates_the_full_data_graph(weak):
    plain = ililab.infer_graph(weak.data, learner="grasp", seed=3)
    boot = ililab.infer_graph(weak.data, learner="grasp", seed=3, bootstrap=10)
    assert [(e.source, e.target, e.kind) for e in boot.edges] == [(e.source, e.target, e.kind) for e in plain.edges]
    assert all(e.confidence is not None and 0 <= e.confidence <= 1 for e in boot.edges)
    assert all(abs(e.confidence * 10 - round(e.confidence * 10)) < 1e-12 for e in boot.edges)
    summary = boot.meta["bootstrap"]
    assert summary["replicates"] == 10 and summary["seed"] == 3
    pairs = {(p["source"], p["target"]): p for p in summary["pairs"]}
    for e in boot.edges:
        key = (e.source, e.target) if (e.source, e.target) in pairs else (e.target, e.source)
        assert pairs[key]["adjacency"] == e.confidence
        assert abs(pairs[key]["forward"] + pairs[key]["backward"] + pairs[key]["undirected"] - e.confidence) < 1e-12
    threshold = 0.75
    kept = ililab.infer_graph(weak.data, learner="grasp", seed=3, bootstrap=10, min_confidence=threshold)
    assert {(e.source, e.target) for e in kept.edges} == {
        (e.source, e.target) for e in boot.edges if e.confidence >= threshold
    }
    assert kept.meta["bootstrap"]["edges_dropped"] == len(boot.edges) - len(kept.edges)
    DependencyGraph.from_json(kept.to_json())  # still valid ililab.graph/v1


def test_streamed_memmap_gives_the_same_confidences_as_in_memory(tmp_path, monkeypatch):
    from ililab.simulate import simulate_soft_labels

    soft = simulate_soft_labels(3, 1500, seed=4)
    path = tmp_path / "p.npy"
    np.save(path, soft.probabilities)
    kwargs = dict(names=soft.names, learner="grasp", seed=0, bootstrap=4, transform="clr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        in_memory = ililab.infer_graph(soft.probabilities, **kwargs)
        monkeypatch.setattr(stats, "IN_MEMORY_BYTES", 0)
        streamed = ililab.infer_graph(str(path), chunk_rows=500, **kwargs)
    assert streamed.meta["data"]["streamed"] is True
    assert _confidences(streamed) == _confidences(in_memory)
    assert streamed.meta["bootstrap"]["pairs"] == in_memory.meta["bootstrap"]["pairs"]


@pytest.mark.parametrize("name", ["grasp", "boss", "ges", "pc", "cl-grasp", "cl-ges"])
def test_every_learner_gets_the_resample(weak, monkeypatch, name):
    """Each replicate hands the learner a resample: its covariance for every learner, and for
    row-based ones (PC, cl-grasp) rows that are draws of the original rows with that covariance."""
    from ililab.learners import get

    dataset = prepare_dataset(weak.data)
    rows_seen = _spy_fits(monkeypatch, "pc", call_through=False)
    run_bootstrap(dataset, learner="pc", replicates=3, seed=5)
    seen = _spy_fits(monkeypatch, name, call_through=False) if name != "pc" else rows_seen
    if name != "pc":
        run_bootstrap(dataset, learner=name, replicates=3, seed=5)
    assert len(seen) == 3
    covariances = []
    for (replicate, _), (with_rows, _) in zip(seen, rows_seen):
        assert _is_resample(with_rows.data, weak.data)
        resampled = np.cov(with_rows.data, rowvar=False)
        assert np.allclose(replicate.covariance, resampled)  # the same draw for every learner
        if get(name).tags.needs_rows:
            assert replicate.data is not None and _is_resample(replicate.data, weak.data)
        covariances.append(replicate.covariance)
    assert not np.allclose(covariances[0], covariances[1]) and not np.allclose(covariances[1], covariances[2])


@pytest.mark.slow
def test_pc_replicate_graphs_differ(weak):
    result = run_bootstrap(prepare_dataset(weak.data), learner="pc", replicates=4, seed=0)
    assert result.adjacency.sum() > 0
    assert ((result.adjacency > 0) & (result.adjacency < 4)).any()  # not 4 copies of one graph


def test_bad_requests_are_usage_errors(weak):
    dataset = prepare_dataset(weak.data)
    with pytest.raises(UsageError, match="at least 1"):
        run_bootstrap(dataset, learner="grasp", replicates=0)
    with pytest.raises(UsageError, match="needs --bootstrap"):
        ililab.infer_graph(weak.data, learner="grasp", min_confidence=0.5)
    covariance_only = Dataset(dataset.nodes, dataset.covariance, dataset.n_samples)
    with pytest.raises(UsageError, match="holds only a covariance"):
        run_bootstrap(covariance_only, learner="grasp", replicates=2)
    graph = ililab.infer_graph(weak.data, learner="grasp")
    result = run_bootstrap(dataset, learner="grasp", replicates=2)
    with pytest.raises(UsageError, match=r"\[0, 1\]"):
        annotate(graph, result, min_confidence=1.5)


def test_annotate_by_hand():
    names = ("a", "b", "c")
    z = np.zeros((3, 3), dtype=int)
    forward, backward, undirected = z.copy(), z.copy(), z.copy()
    forward[0, 1], backward[0, 1], undirected[1, 2] = 3, 1, 2
    result = BootstrapResult(names, 4, 0, forward, backward, undirected)
    graph = DependencyGraph(list(names), [Edge("b", "a"), Edge("b", "c", "undirected")])
    out = annotate(graph, result)
    assert _confidences(out) == {("b", "a"): 1.0, ("b", "c"): 0.5}
    assert out.meta["bootstrap"]["pairs"][0] == {
        "source": "a", "target": "b", "adjacency": 1.0, "forward": 0.75, "backward": 0.25, "undirected": 0.0
    }
    assert [(e.source, e.target) for e in annotate(graph, result, 0.6).edges] == [("b", "a")]


def test_cli_bootstrap_writes_confidences(run_cli, tmp_path, data_npy):
    out = tmp_path / "g.json"
    result = run_cli("infer-graph", data_npy, "-l", "grasp", "--bootstrap", "4", "--min-confidence", "0.5", "-o", out)
    assert result.code == 0, result.err
    document = json.loads(out.read_text())
    assert document["meta"]["bootstrap"]["replicates"] == 4
    assert all(e["confidence"] >= 0.5 for e in document["edges"])


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["--min-confidence", "0.5"], 2, "needs --bootstrap"),
        (["--bootstrap", "-2"], 2, "--bootstrap"),
        (["--bootstrap", "2", "--min-confidence", "2"], 2, "[0, 1]"),
        (["--jobs", "0"], 2, "--jobs"),
        (["--chunk-rows", "0"], 2, "--chunk-rows"),
        (["--engine", "spark"], 2, "spark"),
        (["--scheduler", "tcp://127.0.0.1:1"], 2, "--engine dask"),
    ],
)
def test_cli_bad_bootstrap_options(run_cli, data_npy, args, code, fragment):
    result = run_cli("infer-graph", data_npy, "-l", "grasp", *args)
    assert result.code == code, result.err
    assert fragment in result.err and "Traceback" not in result.err


def test_ctrl_c_during_bootstrap_leaves_no_file(run_cli, tmp_path, data_npy, monkeypatch):
    from ililab.learners.grasp import GraspLearner

    calls = []
    original = GraspLearner.fit

    def interrupted(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 2:  # the full-data fit and one replicate succeed, then Ctrl-C
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(GraspLearner, "fit", interrupted)
    out = tmp_path / "g.json"
    result = run_cli("infer-graph", data_npy, "-l", "grasp", "--bootstrap", "5", "-o", out)
    assert result.code == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.npy"]


@pytest.mark.slow
def test_local_process_pool_equals_in_process(weak):
    dataset = prepare_dataset(weak.data)
    one = run_bootstrap(dataset, learner="grasp", replicates=6, seed=4, engine=LocalEngine(1))
    two = run_bootstrap(dataset, learner="grasp", replicates=6, seed=4, engine=LocalEngine(2))
    assert np.array_equal(one.forward, two.forward)
    assert np.array_equal(one.backward, two.backward)
    assert np.array_equal(one.undirected, two.undirected)


def test_replicates_that_did_not_converge_are_counted_and_warned_once(caplog):
    # max_restarts=2 stops every search before it converges: the full-data search warns (once),
    # the 4 replicates stay quiet and the bootstrap warns once with their count
    sim = simulate_linear_sem(6, 300, seed=1)
    with caplog.at_level("WARNING"):
        graph = ililab.infer_graph(sim.data, sim.names, transform="none", max_restarts=2, bootstrap=4, seed=0)
    notes = [r for r in caplog.records if "without converging" in r.getMessage()]
    assert [r.name for r in notes] == ["ililab.search.grasp", "ililab.bootstrap"]
    assert notes[0].getMessage().startswith("GRaSP stopped at max_restarts = 2")
    assert "in 4 of 4 bootstrap replicates" in notes[1].getMessage()
    assert graph.meta["bootstrap"]["not_converged"] == 4
    # converged replicates: no count, no warning
    caplog.clear()
    with caplog.at_level("WARNING"):
        graph = ililab.infer_graph(sim.data, sim.names, transform="none", bootstrap=2, seed=0)
    assert "not_converged" not in graph.meta["bootstrap"]
    assert not [r for r in caplog.records if "without converging" in r.getMessage()]
