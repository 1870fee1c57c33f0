"""Where independent jobs run: in this process / a local process pool, or on a Dask cluster.

An engine maps a pure, module-level function ``fn(shared, task)`` over a list
of tasks and returns the results **in task order**, whatever order they finish
in; ``shared`` (the data every task reads) is sent to each worker once. Inside
every task BLAS is pinned to one thread, so a task computes the same bits on
every engine and any number of workers: a bootstrap or a set of restarts gives
identical results locally and on Dask.

``LocalEngine(jobs=1)`` runs tasks in this process; ``jobs > 1`` uses a
``ProcessPoolExecutor`` (``forkserver`` where available, else ``spawn``) whose
workers are ended at once on Ctrl-C or an error, so nothing is left running (the pool
holds Ctrl-C while its own bookkeeping runs and acts on it between steps, so an interrupt
never leaves a lock of ``concurrent.futures`` held and the exit waiting on it).
``DaskEngine(scheduler=None)`` starts a ``distributed.LocalCluster``;
``DaskEngine("tcp://host:8786")`` connects to a running scheduler after checking,
within ``timeout`` seconds (``--scheduler-timeout``), that one answers there. Dask is an
optional extra (``pip install 'ililab[dask]'``), imported only here and only
when a Dask engine is made.

Engines also compute the moments of sharded data: locally by one streaming pass,
on Dask with ``dask.array`` over the shards (one block per chunk of rows, merged
as a tree), with the shards read by the workers (paths must be readable there).

The engines live in submodules, all re-exported here: :mod:`ililab.engines.sources` (shard
sources, BLAS pinning), :mod:`ililab.engines.local` (:class:`LocalEngine`) and
:mod:`ililab.engines.dask_engine` (:class:`DaskEngine`); this module holds the
:class:`Engine` protocol and :func:`make_engine`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from ililab.engines.dask_engine import CONNECT_TIMEOUT as CONNECT_TIMEOUT  # public constant, importable from here as before
from ililab.engines.dask_engine import DaskEngine
from ililab.engines.local import LocalEngine
from ililab.engines.sources import ShardSource, as_source, blas_threads, open_source, pin_blas
from ililab.errors import EngineError, UsageError
from ililab.stats import ChunkTransform, Moments

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
