"""Ctrl-C during `infer-graph -j 2`: exit 130 at once, no output file, no process left behind.

A real ``ililab`` subprocess in its own session gets SIGINT while its worker pool runs a long
bootstrap; sent to the main process only (``kill -INT``) and to the whole process group (what
a terminal's Ctrl-C does). Every descendant seen while it ran (fork server, resource tracker,
workers) must be gone shortly after.
"""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import psutil  # a dependency of distributed, which the dev extra installs
import pytest

from ililab.simulate import simulate_linear_sem

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _sigint_default() -> None:
    # A run started in the background by a non-interactive shell inherits SIGINT ignored, and a
    # Python child would then ignore Ctrl-C too; the test is about Ctrl-C, so the child gets it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_ctrl_c_with_two_workers_exits_130_and_leaves_nothing(tmp_path):
    data = tmp_path / "x.npy"
    np.save(data, simulate_linear_sem(12, 4000, seed=1).data)
    out = tmp_path / "x.json"
    command = [sys.executable, "-m", "ililab.cli", "infer-graph", str(data), "-b", "100000", "-j", "2", "-o", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for attempt in range(3):
        stderr_path = tmp_path / f"err{attempt}.txt"
        with open(stderr_path, "wb") as stderr:
            child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=env, start_new_session=True,
                                     preexec_fn=_sigint_default)
        try:
            seen: dict[int, psutil.Process] = {}
            deadline = time.monotonic() + 120  # the first run may compile the kernels
            workers_busy_since = None
            while time.monotonic() < deadline and child.poll() is None:
                for process in _descendants(child.pid):
                    seen.setdefault(process.pid, process)
                # fork server + resource tracker + 2 workers, then let the workers get into their tasks
                if len(seen) >= 4 and workers_busy_since is None:
                    workers_busy_since = time.monotonic()
                if workers_busy_since is not None and time.monotonic() - workers_busy_since > 0.3 * (1 + attempt):
                    break
                time.sleep(0.05)
            assert child.poll() is None and len(seen) >= 4, (child.poll(), stderr_path.read_text())
            started = time.monotonic()
            if attempt % 2:
                os.killpg(child.pid, signal.SIGINT)  # a terminal's Ctrl-C: the whole group
            else:
                child.send_signal(signal.SIGINT)
            code = child.wait(timeout=30)
            elapsed = time.monotonic() - started
            err = stderr_path.read_text()
            assert code == 130, err
            print(f"attempt {attempt}: exit {code} {elapsed:.2f} s after SIGINT")
            assert elapsed < 2.0, (elapsed, err)
            assert "Traceback" not in err and err.strip().splitlines()[-1] in ("aborted", "interrupted"), err
            assert not out.exists() and not list(tmp_path.glob(".x.json*"))
            gone_by = time.monotonic() + 2.0
            while any(_alive(p) for p in seen.values()) and time.monotonic() < gone_by:
                time.sleep(0.05)
            left = [" ".join(p.cmdline())[:80] for p in seen.values() if _alive(p)]
            assert not left, left
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
