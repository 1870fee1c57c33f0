"""The stopping rule, the jittered starts and the edge stability of ililab.search._restarts."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest

from ililab.progress import search_notes
from ililab.scores.bic import BICScore
from ililab.search._restarts import (
    check_restarts,
    converged_restarts,
    default_margin,
    finish_search,
    fixed_restarts,
    jittered_order,
    not_converged_note,
)
from ililab.search.boss import boss_search
from ililab.search.grasp import GraspResult, grasp_search
from ililab.simulate import simulate_linear_sem


class ScriptedRunner:
    """A stand-in search: run ``k`` returns ``script[k]`` = (score, edges of its DAG)."""

    lazy_dag = False

    def __init__(self, p: int, script: list[tuple[float, list[tuple[int, int]]]]):
        self.p, self.script, self.calls, self.starts = p, script, 0, []

    def run(self, start, stream):
        self.starts.append(np.array(start))
        self.current = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        return float(self.current[0])

    def order(self):
        return self.starts[-1].copy()

    def last(self):
        par = np.zeros((self.p, self.p), dtype=np.int32)
        npar = np.zeros(self.p, dtype=np.int64)
        for i, j in self.current[1]:
            par[j, npar[j]] = i
            npar[j] += 1
        return par, npar, float(self.current[0])


NO_PREC = np.zeros((4, 4), dtype=np.uint8)
A = [(0, 1), (1, 2)]
B = [(0, 1), (2, 3)]


def _run(script, **settings):
    runner = ScriptedRunner(4, script)
    settings = {"tol": 1e-6, "margin": 1.0, "hits": 3, "patience": 8, "ils": 4, **settings}
    return runner, converged_restarts(runner, NO_PREC, 0, **settings)


def test_stops_when_three_chains_reach_the_best():
    # chain 1: one run, then 4 jittered runs that do not improve; chains 2 and 3 hit the best at once
    runner, out = _run([(10.0, A)] * 20)
    assert out.convergence["stopped_by"] == "hits"
    assert out.convergence["restarts"] == runner.calls == 5 + 1 + 1
    assert out.convergence["chains"] == 3 and out.convergence["chains_at_best"] == 3
    assert out.convergence["best_hits"] == 7 and out.convergence["score_spread"] == 0.0


def test_a_better_chain_resets_the_count():
    # chain 1 ends at 10 (5 runs); chain 2 climbs to 12 by iterated local search and keeps going
    script = [(10.0, A)] * 5 + [(8.0, B), (12.0, B)] + [(12.0, B)] * 20
    runner, out = _run(script)
    assert out.best_restart == 6 and out.exact == 12.0
    # chain 2: 2 runs + 4 failed jitters; chains 3 and 4 hit 12 at their first run
    assert out.convergence["restarts"] == 5 + 6 + 1 + 1 and out.convergence["chains"] == 4
    assert out.convergence["stopped_by"] == "hits"


def test_patience_stops_chains_that_never_reach_the_best():
    script = [(10.0, A)] * 5 + [(5.0, B)] * 100
    runner, out = _run(script, patience=2)
    assert out.convergence["stopped_by"] == "patience"
    assert out.convergence["chains"] == 3 and out.convergence["restarts"] == 15
    assert out.convergence["chains_at_best"] == 1 and out.best_restart == 0


def test_max_restarts_caps_the_searches():
    runner, out = _run([(10.0, A)] * 5 + [(5.0, B)] * 100, patience=50, max_restarts=9)
    assert out.convergence["stopped_by"] == "max_restarts" and runner.calls == 9


def test_chains_far_apart_stop_as_rugged():
    # three chains (5 runs each: one start, 4 failed jitters) ending at 100, then 20 and 30 margins below it:
    # not converging, and more chains would cost searches without settling the graph
    script = [(100.0, A)] * 5 + [(80.0, B)] * 5 + [(70.0, B)] * 5 + [(60.0, B)] * 100
    runner, out = _run(script, patience=50)
    assert out.convergence["stopped_by"] == "rugged" and runner.calls == 15
    assert out.convergence["chains"] == 3 and out.convergence["closest_chain_gap"] == 20.0
    assert out.best_restart == 0 and out.exact == 100.0
    # rugged=0: never; the chains then run on to patience
    runner, off = _run(script, patience=5, rugged=0.0)
    assert off.convergence["stopped_by"] == "patience" and runner.calls == 30
    assert "closest_chain_gap" not in off.convergence
    runner, off = _run(script, patience=5, margin=0.0)  # rule 4 counts in margins: none, no rule 4
    assert off.convergence["stopped_by"] == "patience" and runner.calls == 30
    # a chain within rugged (default 5) margins of the best: the landscape may still settle
    near = [(100.0, A)] * 5 + [(80.0, B)] * 5 + [(96.0, B)] * 5 + [(60.0, B)] * 100
    runner, out = _run(near, patience=5)
    assert out.convergence["stopped_by"] == "patience" and runner.calls == 30
    runner, out = _run(near, patience=5, rugged=3.0)
    assert out.convergence["stopped_by"] == "rugged" and runner.calls == 15
    # the rule waits for `hits` chains
    runner, out = _run(script, patience=50, hits=4)
    assert out.convergence["stopped_by"] == "rugged" and runner.calls == 20


def test_progress_reports_every_search():
    done: list[int] = []
    runner = ScriptedRunner(4, [(10.0, A)] * 20)
    out = converged_restarts(runner, NO_PREC, 0, tol=1e-6, margin=1.0, ils=4, progress=done.append)
    assert done == list(range(1, out.convergence["restarts"] + 1))
    done.clear()
    fixed_restarts(ScriptedRunner(4, [(1.0, A)] * 3), NO_PREC, 0, 3, done.append)
    assert done == [1, 2, 3]


@pytest.mark.parametrize("stop", ["max_restarts", "rugged", "hits"])
def test_a_search_that_did_not_converge_says_so(stop, caplog):
    script = {
        "max_restarts": ([(10.0, A)] * 5 + [(5.0, B)] * 100, {"patience": 50, "max_restarts": 9}),
        "rugged": ([(100.0, A)] * 5 + [(80.0, B)] * 5 + [(70.0, B)] * 100, {"patience": 50}),
        "hits": ([(10.0, A)] * 20, {}),
    }[stop]
    _, out = _run(script[0], **script[1])
    assert out.convergence["stopped_by"] == stop
    stats = {"rejected_parent_sets": 0, "cache_clears": 0}
    dag = np.zeros((4, 4), dtype=bool)
    log = logging.getLogger("ililab.search.grasp")
    with caplog.at_level("WARNING", logger="ililab.search.grasp"):
        result = finish_search(GraspResult, dag, out, stats, log)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    if stop == "hits":
        assert warned == [] and not_converged_note(out.convergence) is None
    else:
        assert len(warned) == 1 and "without converging" in warned[0] and "stability" in warned[0]
        assert warned[0].startswith("GRaSP stopped")  # named after the result type
        assert ("20.0 edge penalties" in warned[0]) == (stop == "rugged")
    # the result carries the outcome, typed as the search's own result
    assert type(result) is GraspResult and result.convergence["stopped_by"] == stop
    assert result.best_restart == out.best_restart and result.score == out.exact
    assert result.restart_scores == out.restart_scores
    # within search_notes(False) (a bootstrap replicate) the search stays quiet
    caplog.clear()
    with caplog.at_level("WARNING", logger="ililab.search.grasp"), search_notes(False):
        finish_search(GraspResult, dag, out, stats, log)
    assert [r for r in caplog.records if r.levelname == "WARNING"] == []


def test_rugged_waits_while_the_latest_chain_improves():
    # chains ending 80, 70, 100 (margin 1): the third chain raised the best score, so the search is
    # still improving; rule 4 acts only once a later chain (60) ended far below the best
    script = [(80.0, B)] * 5 + [(70.0, B)] * 5 + [(100.0, A)] * 5 + [(60.0, B)] * 100
    runner, out = _run(script, patience=50)
    assert out.convergence["stopped_by"] == "rugged" and out.convergence["chains"] == 4
    assert runner.calls == 20 and out.best_restart == 10


def test_jittered_starts_follow_the_best_order():
    runner, out = _run([(10.0, A)] * 20, strength=0.0)
    first = runner.starts[0]
    for start in runner.starts[1:5]:  # strength 0: the chain's best order itself
        assert np.array_equal(start, first)
    assert not np.array_equal(runner.starts[5], first) or not np.array_equal(runner.starts[6], first)


def test_stability_counts_only_near_optimal_restarts():
    # best 10 with A; 9.5 with B is within the margin 1; 5 with B is not
    script = [(10.0, A), (9.5, B), (9.5, B), (5.0, B), (10.0, A)] + [(10.0, A)] * 10
    runner, out = _run(script, margin=1.0)
    near = [s for s in out.restart_scores if s >= 9.0]
    n_a = sum(1 for k, s in enumerate(out.restart_scores) if s == 10.0)
    assert out.convergence["near_optimal"] == len(near)
    assert out.stability[0, 1] == out.stability[1, 0] == 1.0  # in A and B
    assert out.stability[1, 2] == pytest.approx(n_a / len(near))
    assert out.stability[2, 3] == pytest.approx(2 / len(near))
    assert out.stability[0, 3] == 0.0
    _, tight = _run(script, margin=0.0)
    assert tight.stability[2, 3] == 0.0 and tight.stability[1, 2] == 1.0


def test_fixed_restarts_take_the_first_best():
    runner = ScriptedRunner(4, [(1.0, A), (3.0, B), (3.0, A), (2.0, A)])
    out = fixed_restarts(runner, NO_PREC, 0, 4)
    assert out.best_restart == 1 and out.restart_scores == [1.0, 3.0, 3.0, 2.0] and out.stability is None
    assert out.convergence["stopped_by"] == "fixed" and out.convergence["best_hits"] == 2


def test_jittered_order_keeps_the_order_constraints():
    rng = np.array([123], dtype=np.uint64)
    base = np.arange(8)[::-1].copy()
    prec = np.zeros((8, 8), dtype=np.uint8)
    prec[0, 7] = prec[3, 5] = 1  # 0 before 7, 3 before 5: the base order breaks both
    for _ in range(20):
        order = jittered_order(rng, base, prec, 0.5)
        pos = np.argsort(order)
        assert sorted(order) == list(range(8)) and pos[0] < pos[7] and pos[3] < pos[5]
    assert np.array_equal(jittered_order(rng, base, np.zeros_like(prec), 0.0), base)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="restarts"):
        check_restarts(0, None)
    for bad in ({"hits": 0}, {"margin": -1.0}, {"nope": 1}, {"patience": 1.5}, {"rugged": -1.0}, {"rugged": np.inf}):
        with pytest.raises(ValueError):
            check_restarts(None, bad)
    check_restarts(None, {"hits": 2, "margin": None})


@pytest.fixture(scope="module")
def dense_score():
    sim = simulate_linear_sem(12, 600, expected_degree=6.0, seed=4, weight_range=(0.1, 1.0))
    return BICScore(np.cov(sim.data, rowvar=False), 600, 4.0)


@pytest.mark.parametrize("search", [grasp_search, boss_search])
def test_real_searches_converge_deterministically(search, dense_score):
    a = search(dense_score, seed=3)
    b = search(dense_score, seed=3)
    assert np.array_equal(a.dag, b.dag) and a.restart_scores == b.restart_scores
    assert np.array_equal(a.stability, b.stability)
    assert a.score == pytest.approx(max(a.restart_scores), abs=1e-6)
    conv = a.convergence
    assert conv["restarts"] == len(a.restart_scores) and conv["margin"] == default_margin(dense_score)
    assert conv["stopped_by"] in ("hits", "patience", "max_restarts", "rugged")
    skeleton = a.dag | a.dag.T
    assert (a.stability[skeleton] > 0).all() and np.allclose(a.stability, a.stability.T)
    assert ((a.stability >= 0) & (a.stability <= 1)).all()
    # the fixed path is still there: restarts=K, the best of K random starts
    fixed = search(dense_score, seed=3, restarts=2)
    assert len(fixed.restart_scores) == 2 and fixed.stability is None
    assert fixed.restart_scores == search(dense_score, seed=3, restarts=3).restart_scores[:2]


def test_the_searches_bar_shows_for_the_learner_run_only(monkeypatch, capsys):
    import ililab
    import ililab.progress

    monkeypatch.setenv("ILILAB_PROGRESS", "1")
    monkeypatch.setattr(ililab.progress, "DEFAULT_DELAY", 0.0)
    sim = simulate_linear_sem(8, 500, seed=0)
    graph = ililab.infer_graph(sim.data, names=sim.names, seed=0)
    err = capsys.readouterr().err
    searches = graph.meta["search"]["restarts"]
    assert "GRaSP searches (until converged): " in err and "1/400" in err  # out of at most max_restarts
    assert re.search(rf"100% \|#+\| {searches}/{searches} elapsed \S+ eta 0:00\x1b\[K\n$", err)  # ends full
    ililab.infer_graph(sim.data, names=sim.names, learner="boss", seed=0, restarts=2)
    assert "BOSS searches: 100% " in capsys.readouterr().err
    ililab.infer_graph(sim.data, names=sim.names, seed=0, progress=False)  # --quiet
    assert "searches" not in capsys.readouterr().err
    grasp_search(BICScore(np.cov(sim.data, rowvar=False), 500), seed=0)  # outside a learner run (e.g. the
    assert "searches" not in capsys.readouterr().err  # softmax inversion's searches): no bar


def test_rugged_is_a_learner_parameter():
    import ililab
    from ililab.errors import IlilabError

    sim = simulate_linear_sem(6, 500, seed=0)
    graph = ililab.infer_graph(sim.data, names=sim.names, seed=0, rugged=0)
    assert graph.meta["params"]["rugged"] == 0.0
    with pytest.raises(IlilabError, match="rugged"):
        ililab.infer_graph(sim.data, names=sim.names, learner="boss", rugged=-1)
