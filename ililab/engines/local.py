"""The local engine: tasks in this process or in a pool of worker processes stopped at once on Ctrl-C.

Part of :mod:`ililab.engines` (re-exported there).
"""

from __future__ import annotations

import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ililab.engines._task import _call
from ililab.engines.sources import pin_blas
from ililab.errors import EngineError, UsageError
from ililab.stats import streaming_moments

__all__ = ["LocalEngine"]

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
    # Private, but there is no public handle; taken before shutdown(), which drops both.
    processes = list((getattr(executor, "_processes", None) or {}).values())
    manager = getattr(executor, "_executor_manager_thread", None)
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
    # Let the pool's manager thread finish closing its wake-up pipe now: at interpreter exit
    # concurrent.futures (3.11) writes to that pipe unlocked, and a close racing with that write
    # printed "OSError: Bad file descriptor" after "aborted" (twice in CI).
    if manager is not None:
        manager.join(2.0)


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


class _HeldInterrupt:
    """Ctrl-C held back while the pool runs, and raised by :func:`_pool_map` at a safe point.

    Python raises ``KeyboardInterrupt`` between any two bytecodes of the main thread, also inside
    ``concurrent.futures``' own bookkeeping (``submit``, ``wait``): it can leave a lock there held
    (a ``Condition.__enter__`` that acquired but never returned), and the pool's manager thread,
    which the interpreter joins at exit, then blocks on it forever. So while the pool runs, SIGINT
    only marks the interrupt and wakes the loop waiting on ``wake``.
    """

    def __init__(self, wake: queue.SimpleQueue) -> None:
        self.wake = wake
        self.pending = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        self.pending = True
        self.wake.put(_INTERRUPT)  # SimpleQueue.put is safe in a signal handler

    def __enter__(self) -> _HeldInterrupt:
        # Only the main thread receives signals; a handler the caller set (or SIG_IGN) is left alone.
        if threading.current_thread() is threading.main_thread() and (
            signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        if self.pending and exc[0] is None:  # Ctrl-C while the finished pool shut down
            raise KeyboardInterrupt


_INTERRUPT = object()


def _pool_map(workers: int, fn: Callable[[Any, Any], Any], tasks: list, shared: Any, on_result: Any) -> list:
    """``tasks`` on ``workers`` processes, at most two per worker queued at a time; stopped at once on Ctrl-C."""
    results: list[Any] = [None] * len(tasks)
    done: queue.SimpleQueue = queue.SimpleQueue()  # (index, future) of each finished task, or _INTERRUPT
    with _HeldInterrupt(done) as interrupt:
        executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=_mp_context(), initializer=_init_local_worker, initargs=(shared,)
        )
        try:
            submitted = finished = 0
            while finished < len(tasks):
                # A short queue: each wait is O(1), and Ctrl-C has little to cancel.
                while submitted < len(tasks) and submitted - finished < 2 * workers and not interrupt.pending:
                    future = executor.submit(_local_task, fn, tasks[submitted])
                    future.add_done_callback(lambda f, i=submitted: done.put((i, f)))
                    submitted += 1
                item = done.get() if not interrupt.pending else _INTERRUPT
                if item is _INTERRUPT:
                    raise KeyboardInterrupt
                i, future = item
                results[i] = future.result()
                finished += 1
                if on_result is not None:
                    on_result(finished)
        except BaseException as error:
            _stop_pool(executor)
            from concurrent.futures.process import BrokenProcessPool

            if isinstance(error, BrokenProcessPool):
                raise EngineError(f"a worker process died ({error}); rerun, or lower --jobs if memory ran out") from None
            raise
        executor.shutdown(wait=True)
    return results


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
        return _pool_map(min(self.jobs, len(tasks)), fn, tasks, shared, on_result)

    def moments(self, arrays, *, chunk_rows=None, transform=None, progress=None):
        """:meth:`Engine.moments` by one streaming pass here (:func:`ililab.stats.streaming_moments`).

        Examples
        --------
        >>> import numpy as np
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
