"""The Dask engine: tasks and the moments of sharded data on a Dask cluster (local or remote).

Dask is an optional extra, imported only when a :class:`DaskEngine` is made. Part of
:mod:`ililab.engines` (re-exported there).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from ililab.engines._task import _call
from ililab.engines.sources import as_source
from ililab.errors import EngineError, UsageError
from ililab.stats import DEFAULT_CHUNK_ROWS, ChunkTransform, Moments, merge_moments, streaming_moments

__all__ = ["DaskEngine", "CONNECT_TIMEOUT"]

# Seconds to wait for a scheduler before saying it is unreachable (--scheduler-timeout).
CONNECT_TIMEOUT = 10.0


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
    >>> from ililab.engines import LocalEngine
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
