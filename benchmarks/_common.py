"""What the benchmark scripts share: BLAS pinning, timed graph inference, plain-text tables.

A script imports this module and calls :func:`pin_blas` before it imports numpy::

    from _common import pin_blas, print_table, timed_infer_graph

    pin_blas()

    import numpy as np  # noqa: E402

(``python benchmarks/<script>.py`` puts ``benchmarks/`` on ``sys.path``.) Nothing here imports
numpy or ililab at module level, so that the pinning comes first.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterable
from typing import Any

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def pin_blas() -> None:
    """One BLAS thread (OpenBLAS, MKL, OpenMP, numexpr); must run before numpy is first imported."""
    for name in BLAS_THREAD_VARIABLES:
        os.environ[name] = "1"


def timed_infer_graph(values: Any, *, repeat: int = 1, **options: Any) -> tuple[Any, float]:
    """``ililab.infer_graph(values, **options)`` with warnings silenced: the graph and the wall time
    in seconds, the fastest of ``repeat`` runs (the machines are shared)."""
    import ililab

    elapsed = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = ililab.infer_graph(values, **options)
        elapsed = min(elapsed, time.perf_counter() - start)
    return graph, elapsed


def print_table(header: str, lines: Iterable[str]) -> None:
    """``header``, a rule of dashes as long as it, then ``lines``."""
    print(header)
    print("-" * len(header))
    for line in lines:
        print(line)
