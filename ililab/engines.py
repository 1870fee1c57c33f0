"""Where independent jobs run: in this process / a local process pool, or on a Dask cluster.

An engine maps a pure, module-level function ``fn(shared, task)`` over a list
of tasks and returns the results **in task order**, whatever order they finish
in; ``shared`` (the data every task reads) is sent to each worker once. Inside
every task BLAS is pinned to one thread, so a task computes the same bits on
every engine and any number of workers: a bootstrap or a set of restarts gives
identical results locally and on Dask.

``LocalEngine(jobs=1)`` runs tasks in this process; ``jobs > 1`` uses a
``ProcessPoolExecutor`` (``forkserver`` where available, else ``spawn``) whose
workers are ended at once on Ctrl-C or an error, so nothing is left running.
``DaskEngine(scheduler=None)`` starts a ``distributed.LocalCluster``;
``DaskEngine("tcp://host:8786")`` connects to a running scheduler after checking,
within ``timeout`` seconds (``--scheduler-timeout``), that one answers there. Dask is an
optional extra (``pip install 'ililab[dask]'``), imported only here and only
when a Dask engine is made.

Engines also compute the moments of sharded data: locally by one streaming pass,
on Dask with ``dask.array`` over the shards (one block per chunk of rows, merged
as a tree), with the shards read by the workers (paths must be readable there).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol

import numpy as np

from ililab.errors import EngineError, UsageError
from ililab.stats import DEFAULT_CHUNK_ROWS, ChunkTransform, Moments, file_backing, merge_moments, streaming_moments

__all__ = [
    "Engine",
    "EngineError",
    "LocalEngine",
    "DaskEngine",
    "make_engine",
    "ENGINES",
    "ShardSource",
    "as_source",
    "open_source",
    "pin_blas",
    "blas_threads",
]

ENGINES = ("local", "dask")
logger = logging.getLogger("ililab")
_BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")
# Seconds to wait for a scheduler before saying it is unreachable (--scheduler-timeout).
CONNECT_TIMEOUT = 10.0


# -- data every task reads ------------------------------------------------------------------

ShardSource = list  # list of str (a .npy path, opened memory-mapped) or ndarray (rows in memory)


def as_source(arrays: Sequence[np.ndarray]) -> ShardSource:
    """Replace whole-file memory maps by their paths, so no task ships a file's contents.

    Arrays in memory (and memory maps that are not a whole ``.npy`` file) pass
    through; :func:`open_source` opens the result again in a worker.

    Examples
    --------
    >>> import numpy as np
    >>> [a.shape for a in open_source(as_source([np.zeros((3, 2))]))]
    [(3, 2)]
    """
    out: ShardSource = []
    for array in arrays:
        backing = file_backing(array)
        out.append(backing[0] if backing is not None and _is_npy_of(backing[0], array) else array)
    return out


def _is_npy_of(path: str, array: np.ndarray) -> bool:
    """Whether ``np.load(path, mmap_mode="r")`` gives the same file region as ``array``."""
    try:
        again = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception:  # not a .npy file (a raw np.memmap): ship the array itself
        return False
    return (
        isinstance(again, np.memmap)
        and again.offset == array.offset
        and again.shape == array.shape
        and again.dtype == array.dtype
    )


def open_source(source: ShardSource) -> list[np.ndarray]:
    """The arrays of a source: paths are opened memory-mapped, arrays passed through.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = str(Path(tmp) / "part.npy")
    ...     np.save(path, np.ones((4, 2)))
    ...     arrays = open_source([path, np.zeros((3, 2))])
    ...     print([type(a).__name__ for a in arrays], [a.shape for a in arrays])
    ...     del arrays  # release the memory map before the folder goes
    ['memmap', 'ndarray'] [(4, 2), (3, 2)]
    """
    return [np.load(s, mmap_mode="r", allow_pickle=False) if isinstance(s, str) else s for s in source]


# -- BLAS pinning ---------------------------------------------------------------------------


def pin_blas() -> None:
    """Limit BLAS / OpenMP to one thread in this process (worker initialiser).

    Sets ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` and ``OMP_NUM_THREADS`` to 1 for
    libraries loaded later and limits the pools already loaded (through ``threadpoolctl``).

    Examples
    --------
    >>> pin_blas()
    >>> blas_threads(), os.environ["OPENBLAS_NUM_THREADS"]
    (1, '1')
    """
    for name in _BLAS_VARIABLES:
        os.environ[name] = "1"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return
    threadpool_limits(1)


def blas_threads(shared: Any = None, task: Any = None) -> int:
    """Largest thread count of the BLAS / OpenMP pools loaded here (a task: checks pinning on workers).

    Its ``(shared, task)`` signature lets an engine map it over its workers.

    Examples
    --------
    >>> LocalEngine(1).map(blas_threads, [0, 1])  # every task runs with BLAS on one thread
    [1, 1]
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return int(os.environ.get("OPENBLAS_NUM_THREADS", "0") or 0)
    return max((int(pool["num_threads"]) for pool in threadpool_info()), default=1)


def _call(fn: Callable[[Any, Any], Any], shared: Any, task: Any) -> Any:
    """Run one task with BLAS on one thread (so the same task gives the same bits anywhere)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return fn(shared, task)
    with threadpool_limits(1):
        return fn(shared, task)


# -- protocol -------------------------------------------------------------------------------


class Engine(Protocol):
    """What ililab asks of an engine.

    :class:`LocalEngine` and :class:`DaskEngine` implement it; :func:`make_engine` builds one by name.

    Attributes
    ----------
    name : str
        ``"local"`` or ``"dask"`` (the ``--engine`` value).

    Examples
    --------
    >>> def run(engine: Engine) -> list:
    ...     return engine.map(pow, [1, 2, 3], shared=10)  # fn(shared, task)
    >>> run(make_engine("local"))
    [10, 100, 1000]
    """

    name: str

    def map(
        self,
        fn: Callable[[Any, Any], Any],
        tasks: Sequence[Any],
        *,
        shared: Any = None,
        on_result: Callable[[int], None] | None = None,
    ) -> list[Any]:
        """``[fn(shared, t) for t in tasks]``, computed in parallel; ``on_result(done)`` after each.

        The results come in task order whatever order the tasks finish in. ``fn`` must be a
        module-level function (it is pickled to the workers).

        Parameters
        ----------
        fn : callable
            ``fn(shared, task)``, a module-level function.
        tasks : sequence
        shared : object, optional
            What every task reads, sent to each worker once.
        on_result : callable, optional
            Called with the number of finished tasks after each one.

        Returns
        -------
        list
            The results in task order.

        Examples
        --------
        >>> done = []
        >>> LocalEngine(1).map(pow, [1, 2, 3], shared=2, on_result=done.append)
        [2, 4, 8]
        >>> done
        [1, 2, 3]
        """
        ...

    def moments(
        self,
        arrays: Sequence[np.ndarray],
        *,
        chunk_rows: int | None = None,
        transform: ChunkTransform | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Moments:
        """Moments of the rows of ``arrays`` (shards, in order).

        Parameters
        ----------
        arrays : sequence of ndarray
            Row blocks of one matrix (shards), in order.
        chunk_rows : int, optional
            Rows per chunk (default: automatic).
        transform : callable, optional
            Applied to each chunk of rows before it is counted.
        progress : callable, optional
            Called with the number of rows done.

        Returns
        -------
        Moments

        Examples
        --------
        >>> shards = [np.array([[0.0, 1.0], [2.0, 3.0]]), np.array([[4.0, 5.0]])]
        >>> LocalEngine(1).moments(shards).covariance()
        array([[4., 4.],
               [4., 4.]])
        """
        ...

    def close(self) -> None:
        """Release workers and connections.

        Engines are also context managers that close on exit.

        Examples
        --------
        >>> with make_engine("local") as engine:
        ...     engine.map(pow, [0, 1], shared=3)
        [1, 3]
        >>> engine.close()  # closing twice is harmless
        """
        ...


# -- local ----------------------------------------------------------------------------------

_worker_shared: Any = None


def _init_local_worker(shared: Any) -> None:
    global _worker_shared
    # Ctrl-C in a terminal reaches the whole process group: the parent stops the pool,
    # so a worker ignores SIGINT instead of printing its own traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pin_blas()
    _worker_shared = shared


def _stop_pool(executor: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel queued tasks and end the workers, even mid-task (Ctrl-C, an error).

    ``shutdown(wait=False)`` alone leaves running tasks to finish, and the interpreter's exit
    then waits for them (minutes for a long replicate); the workers are ended here instead.
    """
    processes = list((getattr(executor, "_processes", None) or {}).values())  # private, but no public handle
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + 1.0
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)


def _local_task(fn: Callable[[Any, Any], Any], task: Any) -> Any:
    return _call(fn, _worker_shared, task)


# Imported once by the fork server, so each worker forks with them loaded (not re-imported).
_PRELOAD = ["numpy", "ililab.bootstrap", "ililab.learners"]


def _mp_context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


class LocalEngine:
    """Tasks in this process (``jobs=1``) or in a pool of ``jobs`` worker processes.

    Parameters
    ----------
    jobs : int
        Worker processes; 1 runs every task here, one after another.

    Raises
    ------
    UsageError
        ``jobs < 1``.

    Examples
    --------
    >>> engine = LocalEngine(jobs=1)
    >>> engine.name, engine.map(pow, [1, 2, 3], shared=2)
    ('local', [2, 4, 8])
    """

    name = "local"

    def __init__(self, jobs: int = 1) -> None:
        if jobs < 1:
            raise UsageError(f"--jobs must be at least 1, got {jobs}")
        self.jobs = int(jobs)

    def map(self, fn, tasks, *, shared=None, on_result=None):
        """:meth:`Engine.map`: here (``jobs=1``) or in a process pool that is stopped on any error.

        Raises
        ------
        EngineError
            A worker process died (killed, out of memory).

        Examples
        --------
        >>> LocalEngine(1).map(divmod, [3, 4, 5], shared=17)  # divmod(17, task)
        [(5, 2), (4, 1), (3, 2)]
        """
        tasks = list(tasks)
        if self.jobs == 1 or len(tasks) <= 1:
            results = []
            for i, task in enumerate(tasks):
                results.append(_call(fn, shared, task))
                if on_result is not None:
                    on_result(i + 1)
            return results
        results: list[Any] = [None] * len(tasks)
        executor = ProcessPoolExecutor(
            max_workers=min(self.jobs, len(tasks)),
            mp_context=_mp_context(),
            initializer=_init_local_worker,
            initargs=(shared,),
        )
        try:
            pending = {executor.submit(_local_task, fn, task): i for i, task in enumerate(tasks)}
            done_count = 0
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    i = pending.pop(future)
                    results[i] = future.result()
                    done_count += 1
                    if on_result is not None:
                        on_result(done_count)
        except BaseException as error:
            _stop_pool(executor)
            from concurrent.futures.process import BrokenProcessPool

            if isinstance(error, BrokenProcessPool):
                raise EngineError(f"a worker process died ({error}); rerun, or lower --jobs if memory ran out") from None
            raise
        executor.shutdown(wait=True)
        return results

    def moments(self, arrays, *, chunk_rows=None, transform=None, progress=None):
        """:meth:`Engine.moments` by one streaming pass here (:func:`ililab.stats.streaming_moments`).

        Examples
        --------
        >>> x = np.arange(12.0).reshape(6, 2)
        >>> m = LocalEngine(1).moments([x[:4], x[4:]], chunk_rows=2)
        >>> m.n, m.mean
        (6.0, array([5., 6.]))
        >>> bool(np.allclose(m.covariance(), np.cov(x, rowvar=False)))
        True
        """
        return streaming_moments(list(arrays), chunk_rows=chunk_rows, transform=transform, progress=progress)

    def close(self) -> None:
        """Nothing to release: a pool lives only for one :meth:`map`.

        Examples
        --------
        >>> LocalEngine(2).close()
        """

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- dask -----------------------------------------------------------------------------------


def _import_distributed():
    try:
        import dask  # noqa: F401
        import distributed
    except ImportError:
        raise UsageError("--engine dask needs Dask: pip install 'ililab[dask]'") from None
    return distributed


def _read_block(item: str | np.ndarray, start: int, stop: int) -> np.ndarray:
    array = np.load(item, mmap_mode="r", allow_pickle=False) if isinstance(item, str) else item
    return np.asarray(array[start:stop], dtype=np.float64)


def _moments_of(block: np.ndarray, transform: ChunkTransform | None) -> Moments:
    return streaming_moments(block, transform=transform, source="a block of rows")


def _block_moments(block: np.ndarray, transform: ChunkTransform | None) -> Moments:
    return _call(_moments_of, block, transform)


def _merge_pair(a: Moments, b: Moments) -> Moments:
    return merge_moments(a, b)


def _unreachable(address: str, why: str) -> EngineError:
    return EngineError(
        f"cannot reach a Dask scheduler at {address!r}: {why}; check the address (tcp://HOST:PORT) "
        "and that `dask scheduler` runs there"
    )


def _probe(address: str, timeout: float) -> None:
    """Check within ``timeout`` seconds that a Dask scheduler answers at a ``tcp://host:port`` address.

    A scheduler sends its handshake as soon as a connection opens: an 8-byte frame length, then
    the frame. Anything else (nothing, an HTTP reply, a closed connection) is not a scheduler,
    and distributed itself would hang on it or read its bytes as a frame length of exabytes.
    """
    import socket
    import struct
    from urllib.parse import urlsplit

    if "://" not in address:
        address = "tcp://" + address
    parts = urlsplit(address)
    if parts.scheme != "tcp":
        return  # other protocols (tls, inproc, ucx): let distributed connect and report
    try:
        host, port = parts.hostname, parts.port
    except ValueError as error:
        raise UsageError(f"bad --scheduler address {address!r}: {error}") from None
    if not host or port is None:
        raise UsageError(f"bad --scheduler address {address!r}: expected tcp://HOST:PORT")
    deadline = time.monotonic() + timeout
    header = b""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            while len(header) < 8:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = sock.recv(8 - len(header))
                if not chunk:
                    raise _unreachable(address, "the server there closed the connection without a Dask handshake")
                header += chunk
    except TimeoutError:
        what = "no Dask handshake" if header or _connected(host, port) else "no connection"
        raise _unreachable(address, f"{what} within {timeout:g} s (--scheduler-timeout)") from None
    except OSError as error:
        raise _unreachable(address, str(error.strerror or error)) from None
    (length,) = struct.unpack("Q", header)  # distributed's frame header, native byte order
    if not 0 < length < 1 << 24:
        shown = header.decode("ascii", "replace")
        raise _unreachable(address, f"the server there does not speak Dask's protocol (it sent {shown!r})")


def _connected(host: str, port: int) -> bool:
    """Whether a TCP connection opens at once (to tell "no handshake" from "no connection")."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class DaskEngine:
    """Tasks on a Dask cluster: a new ``distributed.LocalCluster`` or a running scheduler.

    Parameters
    ----------
    scheduler : str, optional
        Scheduler address such as ``tcp://10.0.0.5:8786``; without one a
        ``LocalCluster`` of ``jobs`` single-threaded worker processes starts on loopback.
    jobs : int, optional
        Workers of the local cluster (default 2).
    client : distributed.Client, optional
        An existing client to use (not closed by :meth:`close`).
    timeout : float, optional
        Seconds to wait for the scheduler to answer (default ``CONNECT_TIMEOUT``, 10).

    Raises
    ------
    EngineError
        Nothing that speaks Dask's protocol answers at ``scheduler`` within ``timeout`` seconds.
    UsageError
        Dask is not installed, a bad address, or a timeout that is not positive.

    Examples
    --------
    The one example for :meth:`map`, :meth:`moments` and :meth:`close` too (each would start its
    own Dask client); an in-process client keeps it fast:

    >>> import distributed
    >>> client = distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None)
    >>> engine = DaskEngine(client=client)
    >>> engine.name, engine.map(pow, [1, 2, 3], shared=2)
    ('dask', [2, 4, 8])
    >>> x = np.arange(12.0).reshape(6, 2)
    >>> m = engine.moments([x[:4], x[4:]], chunk_rows=2)  # one dask block per 2 rows
    >>> m.n, bool(np.allclose(m.covariance(), LocalEngine(1).moments([x]).covariance()))
    (6.0, True)
    >>> engine.close()  # a client passed in stays open: its owner closes it
    >>> client.close()
    """

    name = "dask"

    def __init__(
        self, scheduler: str | None = None, jobs: int | None = None, client: Any = None, timeout: float | None = None
    ) -> None:
        timeout = CONNECT_TIMEOUT if timeout is None else float(timeout)
        if not timeout > 0:
            raise UsageError(f"--scheduler-timeout must be a positive number of seconds, got {timeout:g}")
        distributed = _import_distributed()
        self._own_cluster = None
        self._own_client = client is None
        if client is not None:
            self.client = client
            return
        if scheduler:
            _probe(scheduler, timeout)
            try:
                self.client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise _unreachable(scheduler, f"{type(error).__name__}: {error}") from None
            except ValueError as error:
                raise UsageError(f"bad --scheduler address {scheduler!r}: {error}") from None
            return
        workers = jobs or 2
        self._own_cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        self.client = distributed.Client(self._own_cluster, set_as_default=False)

    def map(self, fn, tasks, *, shared=None, on_result=None):
        """:meth:`Engine.map` on the cluster: ``shared`` is scattered once, each task retried twice.

        Run in the class example.
        """
        from distributed import as_completed

        tasks = list(tasks)
        if not tasks:
            return []
        shared_future = self.client.scatter(shared, broadcast=True, hash=False) if shared is not None else None
        futures = self.client.map(
            _call, [fn] * len(tasks), [shared_future] * len(tasks), tasks, pure=False, retries=2
        )
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(tasks)
        try:
            for done_count, future in enumerate(as_completed(futures, loop=self.client.loop), start=1):
                results[index[future.key]] = future.result()
                if on_result is not None:
                    on_result(done_count)
        except BaseException as error:
            self.client.cancel(futures)
            if type(error).__name__ == "KilledWorker":
                raise EngineError(f"Dask workers kept dying on a task ({error}); check worker memory") from None
            raise
        finally:
            if shared_future is not None:
                self.client.cancel([shared_future])
        return results

    def moments(self, arrays, *, chunk_rows=None, transform=None, progress=None):
        """Moments with ``dask.array`` over the shards: one block per ``chunk_rows`` rows, merged as a tree.

        Run in the class example.
        """
        import dask
        import dask.array as da

        chunk_rows = chunk_rows or DEFAULT_CHUNK_ROWS
        source = as_source(arrays)
        blocks = []
        first = 0
        for item, array in zip(source, arrays):
            n, p = array.shape
            for start in range(0, n, chunk_rows):
                stop = min(start + chunk_rows, n)
                block = dask.delayed(_read_block, pure=True)(item, start, stop)
                blocks.append(da.from_delayed(block, shape=(stop - start, p), dtype=np.float64))
            first += n
        stacked = da.concatenate(blocks, axis=0)
        parts = [dask.delayed(_block_moments, pure=True)(piece, transform) for piece in stacked.to_delayed().ravel()]
        while len(parts) > 1:  # fixed pairing in shard order: the same tree on every cluster
            merged = [dask.delayed(_merge_pair, pure=True)(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
            if len(parts) % 2:
                merged.append(parts[-1])
            parts = merged
        future = self.client.compute(parts[0])
        result = future.result()
        if progress is not None:
            progress(first)
        return result

    def close(self) -> None:
        """Close the client and the local cluster this engine started (a client passed in stays open).

        Run in the class example.
        """
        if self._own_client:
            try:
                self.client.close()
            finally:
                if self._own_cluster is not None:
                    self._own_cluster.close()

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def make_engine(
    name: str = "local", *, jobs: int | None = None, scheduler: str | None = None, timeout: float | None = None
) -> LocalEngine | DaskEngine:
    """An engine by name (``--engine``, ``--jobs``, ``--scheduler``, ``--scheduler-timeout``).

    Parameters
    ----------
    name : {"local", "dask"}
    jobs : int, optional
        Worker processes (local: default 1; Dask's local cluster: default 2).
    scheduler : str, optional
        Address of a running Dask scheduler (``--engine dask`` only).
    timeout : float, optional
        Seconds to wait for that scheduler (``--engine dask`` only).

    Returns
    -------
    LocalEngine or DaskEngine

    Raises
    ------
    UsageError
        An unknown engine, ``--scheduler`` without ``--engine dask``, or Dask not installed.
    EngineError
        An unreachable scheduler.

    Examples
    --------
    >>> make_engine("local", jobs=2).jobs
    2
    >>> make_engine("local", scheduler="tcp://10.0.0.5:8786")
    Traceback (most recent call last):
    ...
    ililab.errors.UsageError: --scheduler needs --engine dask
    """
    if name not in ENGINES:
        raise UsageError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    if name == "local":
        if scheduler:
            raise UsageError("--scheduler needs --engine dask")
        if timeout is not None:
            raise UsageError("--scheduler-timeout needs --engine dask --scheduler ADDRESS")
        return LocalEngine(jobs or 1)
    return DaskEngine(scheduler, jobs, timeout=timeout)
