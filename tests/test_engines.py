"""Engines: the local process pool and a real distributed.LocalCluster on loopback (2 worker processes)."""

import multiprocessing
import os
import signal
import threading
import time

import numpy as np
import pytest

import ililab
from ililab.api import prepare_dataset
from ililab.bootstrap import run_bootstrap
from ililab.engines import DaskEngine, EngineError, LocalEngine, blas_threads, make_engine
from ililab.errors import DataError, UsageError
from ililab.simulate import simulate_linear_sem


def _relative(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.fixture(scope="module")
def weak():
    return simulate_linear_sem(7, 300, expected_degree=2.0, seed=11)


@pytest.fixture(scope="module")
def shards(tmp_path_factory, weak):
    directory = tmp_path_factory.mktemp("shards")
    big = simulate_linear_sem(6, 4000, seed=5).data + 3.0
    for i, part in enumerate(np.array_split(big, 4)):
        np.save(directory / f"part-{i}.npy", part)
    return directory, big


# -- local ------------------------------------------------------------------------------------


def test_local_map_keeps_task_order_and_reports_progress():
    done = []
    assert LocalEngine(1).map(max, [5, 1, 7, 2], shared=3, on_result=done.append) == [5, 3, 7, 3]
    assert done == [1, 2, 3, 4]
    assert LocalEngine(1).map(max, [], shared=0) == []


@pytest.mark.slow
def test_local_pool_runs_in_order_with_blas_pinned():
    engine = LocalEngine(2)
    assert engine.map(max, list(range(8)), shared=4) == [4, 4, 4, 4, 4, 5, 6, 7]
    assert engine.map(blas_threads, [0, 1, 2]) == [1, 1, 1]


def test_make_engine_rejects_bad_requests():
    with pytest.raises(UsageError, match="unknown engine"):
        make_engine("spark")
    with pytest.raises(UsageError, match="--engine dask"):
        make_engine("local", scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(UsageError, match="--jobs"):
        make_engine("local", jobs=0)
    assert isinstance(make_engine("local", jobs=3), LocalEngine)


def test_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(EngineError, match="cannot reach a Dask scheduler at 'tcp://127.0.0.1:1'") as info:
        DaskEngine("tcp://127.0.0.1:1")
    assert info.value.exit_code == 1
    with pytest.raises(UsageError, match="bad --scheduler"):
        DaskEngine("tcp://127.0.0.1:notaport")


def test_cli_unreachable_scheduler_exits_1(run_cli, data_npy, tmp_path):
    out = tmp_path / "g.json"
    result = run_cli("infer-graph", data_npy, "-l", "grasp", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1", "-o", out)
    assert result.code == 1
    assert result.err.count("\n") == 1 and "cannot reach a Dask scheduler" in result.err
    assert not out.exists()


class _Server:
    """A loopback TCP server in a thread: an HTTP server (silent until it gets a request) or one
    that replies at once with ``greeting`` and closes."""

    def __init__(self, greeting: bytes | None = None) -> None:
        import http.server
        import socketserver

        if greeting is None:
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        else:

            class Greeter(socketserver.BaseRequestHandler):
                def handle(self):
                    self.request.sendall(greeting)

            self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Greeter)
        self.server.daemon_threads = True
        self.address = f"tcp://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("server", "fragment"),
    [
        (lambda: _Server(), "no Dask handshake within 1 s (--scheduler-timeout)"),
        (
            lambda: _Server(b"HTTP/1.0 400 Bad Request\r\n\r\n"),
            "the server there does not speak Dask's protocol (it sent 'HTTP/1.0')",
        ),
        (lambda: _Server(b""), "the server there closed the connection without a Dask handshake"),
    ],
)
def test_cli_something_else_than_a_scheduler_is_a_one_line_error(run_cli, data_npy, tmp_path, server, fragment):
    import time

    out = tmp_path / "g.json"
    with server() as listening:
        started = time.monotonic()
        result = run_cli(
            "infer-graph", data_npy, "--engine", "dask", "--scheduler", listening.address,
            "--scheduler-timeout", "1", "-o", out,
        )
        elapsed = time.monotonic() - started
    assert result.code == 1, result.err
    assert result.err == f"error: cannot reach a Dask scheduler at {listening.address!r}: {fragment}; " \
        "check the address (tcp://HOST:PORT) and that `dask scheduler` runs there\n"
    assert elapsed < 5 and not out.exists()


def test_cli_nobody_listening_is_refused_at_once(run_cli, data_npy, tmp_path):
    out = tmp_path / "g.json"
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = run_cli("infer-graph", data_npy, "--engine", "dask", "--scheduler", address, "-o", out)
    assert result.code == 1
    assert result.err.startswith(f"error: cannot reach a Dask scheduler at {address!r}: Connection refused;")
    assert result.err.count("\n") == 1 and not out.exists()


def test_scheduler_timeout_is_checked(run_cli, data_npy):
    result = run_cli("infer-graph", data_npy, "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1", "--scheduler-timeout", "0")
    assert result.code == 2 and "--scheduler-timeout must be a positive number of seconds" in result.err
    result = run_cli("infer-graph", data_npy, "--scheduler-timeout", "3")
    assert result.code == 2 and "--scheduler-timeout needs --engine dask" in result.err


@pytest.mark.slow
def test_dask_run_prints_no_cluster_logs(data_npy, tmp_path):
    """distributed logs INFO about workers and cancelled keys: none of it reaches the user."""
    import subprocess
    import sys

    out = tmp_path / "g.json"
    command = [sys.executable, "-m", "ililab.cli", "infer-graph", str(data_npy), "-l", "ges", "-b", "4",
               "--engine", "dask", "-j", "1", "-o", str(out)]
    env = {**os.environ, "ILILAB_PROGRESS": "0"}
    quiet = subprocess.run([*command[:3], "-q", *command[3:]], capture_output=True, text=True, env=env, timeout=300)
    assert quiet.returncode == 0 and quiet.stderr == "" and out.exists()
    out.unlink()
    default = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert default.returncode == 0 and out.exists()
    assert default.stderr.splitlines() == [line for line in default.stderr.splitlines() if line.startswith("ges: 6 nodes")]
    assert len(default.stderr.splitlines()) == 1, default.stderr


# -- bad shard inputs (local path) -------------------------------------------------------------


def test_shard_with_another_column_count(run_cli, tmp_path, weak):
    np.save(tmp_path / "a.npy", weak.data[:100])
    np.save(tmp_path / "b.npy", weak.data[100:, :5])
    result = run_cli("infer-graph", str(tmp_path / "*.npy"), "-l", "grasp")
    assert result.code == 1 and "has 5 columns" in result.err and "b.npy" in result.err


def test_missing_shard_and_empty_glob(run_cli, tmp_path, weak):
    np.save(tmp_path / "a.npy", weak.data[:100])
    with pytest.raises(DataError, match="a shard is missing"):
        prepare_dataset([str(tmp_path / "a.npy"), str(tmp_path / "gone.npy")])
    result = run_cli("infer-graph", str(tmp_path / "nothing-*.npy"), "-l", "grasp")
    assert result.code == 1 and "no file matches" in result.err


def test_nan_and_wrong_kind_of_shard(run_cli, tmp_path, weak):
    bad = weak.data[100:].copy()
    bad[7, 2] = np.inf
    np.save(tmp_path / "a.npy", weak.data[:100])
    np.save(tmp_path / "b.npy", bad)
    result = run_cli("infer-graph", str(tmp_path / "*.npy"), "-l", "grasp")
    assert result.code == 1 and "inf at row 7, column 2" in result.err and "b.npy" in result.err
    np.savetxt(tmp_path / "c.csv", weak.data[:10], delimiter=",")
    with pytest.raises(UsageError, match="not a .npy"):
        prepare_dataset([str(tmp_path / "a.npy"), str(tmp_path / "c.csv")])


def test_local_shards_equal_in_memory(shards):
    directory, big = shards
    dataset = prepare_dataset(str(directory / "*.npy"), chunk_rows=300)
    assert dataset.n_samples == big.shape[0]
    assert _relative(dataset.covariance, np.cov(big, rowvar=False)) < 1e-10


# -- a real LocalCluster -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    import logging

    local = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(local, set_as_default=False)
    try:
        client.wait_for_workers(2, timeout=120)
        yield local, client
    finally:
        client.close()
        local.close()


@pytest.mark.slow
def test_dask_covariance_over_four_shards_equals_in_memory(cluster, shards):
    _, client = cluster
    directory, big = shards
    engine = DaskEngine(client=client)
    arrays = [np.load(p, mmap_mode="r") for p in sorted(directory.glob("*.npy"))]
    moments = engine.moments(arrays, chunk_rows=700)
    assert moments.n == big.shape[0]
    assert _relative(moments.covariance(), np.cov(big, rowvar=False)) < 1e-10
    dataset = prepare_dataset(str(directory / "*.npy"), engine=engine, chunk_rows=700)
    assert _relative(dataset.covariance, np.cov(big, rowvar=False)) < 1e-10
    assert engine.map(blas_threads, [0, 1, 2, 3]) == [1, 1, 1, 1]  # BLAS pinned inside workers


@pytest.mark.slow
def test_dask_bootstrap_equals_local(cluster, weak):
    _, client = cluster
    local = ililab.infer_graph(weak.data, learner="grasp", seed=6, bootstrap=8)
    remote = ililab.infer_graph(weak.data, learner="grasp", seed=6, bootstrap=8, engine=DaskEngine(client=client))
    assert [(e.source, e.target, e.confidence) for e in remote.edges] == [
        (e.source, e.target, e.confidence) for e in local.edges
    ]
    assert remote.meta["bootstrap"] == local.meta["bootstrap"]


@pytest.mark.slow
def test_dask_cli_with_shards_and_scheduler_address(cluster, shards, run_cli, tmp_path):
    local_cluster, _ = cluster
    directory, _ = shards
    common = ["infer-graph", str(directory / "*.npy"), "-l", "grasp", "--bootstrap", "4", "--seed", "2", "--chunk-rows", "500"]
    out_local, out_dask = tmp_path / "local.json", tmp_path / "dask.json"
    assert run_cli(*common, "-o", out_local).code == 0
    result = run_cli(*common, "--engine", "dask", "--scheduler", local_cluster.scheduler_address, "-o", out_dask)
    assert result.code == 0, result.err
    a, b = ililab.load_graph(out_local), ililab.load_graph(out_dask)
    assert [(e.source, e.target, e.confidence) for e in a.edges] == [(e.source, e.target, e.confidence) for e in b.edges]


@pytest.mark.slow
def test_worker_killed_mid_bootstrap_still_completes_with_the_same_result(cluster, weak):
    _, client = cluster
    dataset = prepare_dataset(weak.data)
    expected = run_bootstrap(dataset, learner="grasp", replicates=20, seed=3)
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    killed = threading.Event()

    def kill_after_first(done: int) -> None:
        if done == 1 and not killed.is_set():  # 19 replicates still queued or running
            killed.set()
            os.kill(victim, signal.SIGKILL)

    result = run_bootstrap(
        dataset, learner="grasp", replicates=20, seed=3, engine=DaskEngine(client=client), on_result=kill_after_first
    )
    assert killed.is_set()
    assert np.array_equal(result.forward, expected.forward)
    assert np.array_equal(result.backward, expected.backward)
    assert np.array_equal(result.undirected, expected.undirected)
    client.wait_for_workers(2, timeout=120)  # the nanny restarts the killed worker
    assert victim not in client.run(os.getpid).values()


def test_core_ililab_does_not_import_dask():
    import subprocess
    import sys

    code = (
        "import sys, ililab, ililab.api, ililab.engines, ililab.bootstrap;"
        "ililab.infer_graph; assert not any(m == 'dask' or m.startswith(('dask.', 'distributed')) for m in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def _slow_square(shared, task):
    time.sleep(shared)
    return task * task


@pytest.fixture
def python_sigint():
    """Python's own Ctrl-C handler, whatever the test run inherited (in the background of a
    non-interactive shell SIGINT starts ignored, and the pool then rightly leaves it ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.slow
@pytest.mark.usefixtures("python_sigint")
def test_ctrl_c_inside_the_pools_bookkeeping_is_raised_after_it(monkeypatch):
    # A KeyboardInterrupt raised inside concurrent.futures' own code (here: submit) could leave one
    # of its locks held, and the exit then hung joining the pool's manager thread. The pool must
    # hold the signal and raise it between its own steps, with every worker ended.
    from concurrent.futures import ProcessPoolExecutor

    calls = {"entered": 0, "left": 0}
    submit = ProcessPoolExecutor.submit

    def interrupted_submit(self, *args, **kwargs):
        calls["entered"] += 1
        if calls["entered"] == 3:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # the default handler would raise KeyboardInterrupt here
        future = submit(self, *args, **kwargs)
        calls["left"] += 1
        return future

    monkeypatch.setattr(ProcessPoolExecutor, "submit", interrupted_submit)
    before = set(multiprocessing.active_children())  # e.g. a dask cluster of another test
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        LocalEngine(2).map(_slow_square, list(range(40)), shared=0.5)
    assert calls == {"entered": 3, "left": 3}  # no submit cut short, none after Ctrl-C
    assert time.monotonic() - started < 20
    assert set(multiprocessing.active_children()) <= before  # workers ended, not left to finish
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _sigint_at(n):
    return lambda done: os.kill(os.getpid(), signal.SIGINT) if done == n else None


@pytest.mark.slow
@pytest.mark.usefixtures("python_sigint")
def test_ctrl_c_during_the_last_result_still_interrupts():
    with pytest.raises(KeyboardInterrupt):
        LocalEngine(2).map(_slow_square, [1, 2, 3], shared=0.0, on_result=_sigint_at(3))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.slow
def test_pool_leaves_a_callers_sigint_handler_alone_and_runs_off_the_main_thread():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # the caller ignores SIGINT: the pool must not turn it into KeyboardInterrupt
        assert LocalEngine(2).map(_slow_square, [1, 2, 3], shared=0.0, on_result=_sigint_at(1)) == [1, 4, 9]
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    except KeyboardInterrupt:
        pytest.fail("an ignored SIGINT interrupted the pool")
    finally:
        signal.signal(signal.SIGINT, previous)
    out = []  # signal handlers can be set only on the main thread
    thread = threading.Thread(target=lambda: out.append(LocalEngine(2).map(_slow_square, [4, 5], shared=0.0)))
    thread.start()
    thread.join(60)
    assert out == [[16, 25]]


def _fail_first(shared, task):
    if task == 0:
        raise ValueError("task 0 fails")
    time.sleep(shared)
    return task


@pytest.mark.slow
def test_a_stopped_pool_has_closed_its_wake_up_pipe_before_map_returns():
    # At interpreter exit concurrent.futures writes to each pool's wake-up pipe without a lock;
    # a manager thread still closing that pipe then made Ctrl-C print "Bad file descriptor".
    from concurrent.futures import process

    with pytest.raises(ValueError, match="task 0 fails"):
        LocalEngine(2).map(_fail_first, list(range(6)), shared=5.0)
    managers = [t for t in threading.enumerate() if isinstance(t, process._ExecutorManagerThread)]
    assert not managers
    assert all(wakeup._closed for wakeup in list(process._threads_wakeups.values()))
