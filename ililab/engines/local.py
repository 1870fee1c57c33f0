"""The local engine: tasks in this process or in a pool of worker processes stopped at once on Ctrl-C.

Part of :mod:`ililab.engines` (re-exported there).
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
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
