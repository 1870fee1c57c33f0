"""First-run compilation: the grow-shrink step is built by a helper process on a cold cache."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from ililab.scores import BICScore
from ililab.search import _compile, _growshrink
from ililab.search.grasp import grasp_search
from ililab.simulate import simulate_linear_sem
from ililab.stats import covariance


class _FakeHelper:
    def __init__(self, returncode: int):
        self.returncode = returncode
        self.waited = False

    def wait(self, timeout=None):
        self.waited = True
        return self.returncode


@pytest.fixture()
def score():
    sim = simulate_linear_sem(8, 2000, seed=1)
    return BICScore(covariance(sim.data), 2000)


@pytest.mark.parametrize("returncode", [0, 1])
def test_cold_cache_starts_one_helper_and_same_result(score, monkeypatch, returncode):
    expected = grasp_search(score, restarts=2, seed=3)
    started = []

    def fake_start():
        started.append(True)
        return _FakeHelper(returncode)

    monkeypatch.setattr(_growshrink, "trace_cfunc_ready", lambda: False)
    monkeypatch.setattr(_compile, "_start_helper", fake_start)
    monkeypatch.setenv(_compile.COMPILE_JOBS_ENV, "2")
    got = grasp_search(score, restarts=2, seed=3)  # a failed helper: everything compiled here
    assert started == [True]
    assert np.array_equal(got.dag, expected.dag) and got.restart_scores == expected.restart_scores


@pytest.mark.parametrize("setting", ["1", "no"])
def test_one_job_or_bad_setting_starts_no_helper(score, monkeypatch, setting):
    monkeypatch.setattr(_growshrink, "trace_cfunc_ready", lambda: False)
    monkeypatch.setattr(_compile, "_start_helper", lambda: pytest.fail("no helper expected"))
    monkeypatch.setenv(_compile.COMPILE_JOBS_ENV, setting)
    assert grasp_search(score, restarts=1).dag.shape == (8, 8)


def test_warm_cache_starts_no_helper(score, monkeypatch):
    _growshrink.trace_address()
    assert _growshrink.trace_cfunc_ready()
    monkeypatch.setattr(_compile, "_start_helper", lambda: pytest.fail("no helper expected"))
    monkeypatch.setenv(_compile.COMPILE_JOBS_ENV, "2")
    assert grasp_search(score, restarts=1).dag.shape == (8, 8)


@pytest.mark.slow
def test_helper_process_fills_the_cache_this_process_loads(tmp_path):
    """The helper's code, run with an empty cache, leaves the step for the next process to load."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    check = "from ililab.search import _growshrink as g; print(g.trace_cfunc_ready())"
    before = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, check=True)
    assert before.stdout.split() == ["False"]
    helper = [sys.executable, "-c", _compile._HELPER_CODE, "/nonexistent", _growshrink.__file__]
    subprocess.run(helper, env=env, check=True)
    load = (
        "from ililab.search import _growshrink as g; print(g.trace_cfunc_ready()); "
        "g.trace_address(); print(g._trace_cfunc()._cache_hits)"
    )
    after = subprocess.run([sys.executable, "-c", load], env=env, capture_output=True, text=True, check=True)
    assert after.stdout.split() == ["True", "1"]  # loaded from the helper's cache, not compiled
    other = subprocess.run([*helper[:-1], "/elsewhere/_growshrink.py"], env=env)
    assert other.returncode == 3  # not this ililab: the helper refuses to compile


def test_c_call_refuses_arguments_of_another_type():
    from numba import njit, types
    from numba.core.errors import TypingError

    from ililab.search._ccall import address, c_caller

    call = c_caller(types.int64(types.CPointer(types.int64), types.int64))

    @njit
    def wrong(addr, a):
        return call(addr, (address(a), np.int64(a.shape[0])))

    with pytest.raises(TypingError, match="do not match"):
        wrong(0, np.zeros(3, dtype=np.int32))  # an int32 array where the callee reads int64
    with pytest.raises(TypeError, match="cross the C boundary"):
        c_caller(types.int64(types.float64[:]))


def test_a_trace_that_did_not_fit_is_an_error_not_a_result():
    with pytest.raises(RuntimeError, match="did not fit"):
        _growshrink.check_no_fallback(1)
    assert _growshrink.check_no_fallback(0) == 0
