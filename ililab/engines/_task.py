"""Running one task with BLAS on one thread: private to :mod:`ililab.engines`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def _call(fn: Callable[[Any, Any], Any], shared: Any, task: Any) -> Any:
    """Run one task with BLAS on one thread (so the same task gives the same bits anywhere)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return fn(shared, task)
    with threadpool_limits(1):
        return fn(shared, task)
