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


@pytest.fixture()
def score():
    sim = simulate_linear_sem(8, 2000, seed=1)
    return BICScore(covariance(sim.data), 2000)


class _FakeHelper:
    def __init__(self, returncode: int):
        self.returncode = returncode
        self.waited = False

    def wait(self, timeout=None):
        self.waited = True
        return self.returncode


class _FakeKernel:
    """Stands for a search kernel that is neither compiled nor cached."""

    def __init__(self):
        self.signatures = []
        self.compiled = None

    def compile(self, sig):
        self.compiled = sig
        self.signatures.append(sig)


@pytest.fixture()
def cold(monkeypatch):
    """The grow-shrink step and the kernel look absent from the on-disk cache; helpers recorded."""
    started = []

    def fake_start():
        started.append(_FakeHelper(started_returncode[0]))
        return started[-1]

    started_returncode = [0]
    monkeypatch.setattr(_growshrink, "trace_cfunc_ready", lambda: False)
    monkeypatch.setattr(_growshrink, "in_disk_cache", lambda kernel: False)
    monkeypatch.setattr(_compile, "_start_helper", fake_start)
    return started, started_returncode


@pytest.mark.parametrize("returncode", [0, 1])
def test_cold_cache_compiles_the_kernel_while_a_helper_builds_the_step(cold, monkeypatch, returncode):
    started, code = cold
    code[0] = returncode  # 1: the helper failed, the step is built here
    monkeypatch.setenv(_compile.COMPILE_JOBS_ENV, "2")
    kernel = _FakeKernel()
    addr = _compile.trace_address_with(kernel, [0, np.zeros(3), 1.5])
    assert len(started) == 1 and started[0].waited
    assert [str(t) for t in kernel.compiled] == ["int64", "array(float64, 1d, C)", "float64"]
    assert addr == _growshrink.trace_address()


@pytest.mark.parametrize("setting", ["1", "no"])
def test_one_job_or_bad_setting_starts_no_helper(cold, monkeypatch, setting):
    started, _ = cold
    monkeypatch.setenv(_compile.COMPILE_JOBS_ENV, setting)
    kernel = _FakeKernel()
    assert _compile.trace_address_with(kernel, [0]) == _growshrink.trace_address()
    assert started == [] and kernel.compiled is not None


def test_a_cached_kernel_starts_no_helper(cold, monkeypatch):
    started, _ = cold
    monkeypatch.setattr(_growshrink, "in_disk_cache", lambda kernel: True)  # only the step is cold
    monkeypatch.setenv(_compile.COMPILE_JOBS_ENV, "2")
    _compile.trace_address_with(_FakeKernel(), [0])
    assert started == []


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
