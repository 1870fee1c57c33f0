"""What every engine's tasks share: the data they read (shard sources) and BLAS pinned to one thread.

Part of :mod:`ililab.engines` (re-exported there).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ililab.engines._task import _BLAS_VARIABLES
from ililab.stats import file_backing

__all__ = ["ShardSource", "as_source", "open_source", "pin_blas", "blas_threads"]

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
    >>> from ililab.engines import LocalEngine
    >>> LocalEngine(1).map(blas_threads, [0, 1])  # every task runs with BLAS on one thread
    [1, 1]
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return int(os.environ.get("OPENBLAS_NUM_THREADS", "0") or 0)
    return max((int(pool["num_threads"]) for pool in threadpool_info()), default=1)
