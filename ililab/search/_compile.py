"""First-run compilation of the search kernels, on two cores when there are two.

A search needs two compiled units that do not depend on each other: the grow-shrink step
(the C callback behind :func:`ililab.search._growshrink.trace_address`, with the BIC kernels)
and the search kernel itself (GRaSP's or BOSS's), which calls the step through its address.
On an empty Numba cache, compiling both takes most of the first run. :func:`trace_address_with`
compiles them at the same time: a helper process builds the grow-shrink step into Numba's
on-disk cache while this process compiles the search kernel; this process then loads the step
from the cache. With a warm cache, one CPU, ``ILILAB_COMPILE_JOBS=1`` or any failure of the
helper, everything is compiled here, one after the other, as before.

The helper only writes Numba's cache (the same files this process would write); it runs
``python -c`` with this interpreter and environment, and does nothing unless it imports this
very ``ililab``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numba

from ililab.search import _growshrink

__all__ = ["trace_address_with", "COMPILE_JOBS_ENV"]

log = logging.getLogger(__name__)

#: Environment variable: ``1`` compiles everything in this process.
COMPILE_JOBS_ENV = "ILILAB_COMPILE_JOBS"
_HELPER_TIMEOUT_S = 600
# The helper builds the step only if it imports this very ililab (sys.path is inherited through
# the environment; the package root is appended as a fallback, never put before the stdlib).
_HELPER_CODE = """
import sys
sys.path.append(sys.argv[1])
from ililab.search import _growshrink
if _growshrink.__file__ != sys.argv[2]:
    sys.exit(3)
_growshrink.trace_address()
"""


def _parallel_allowed() -> bool:
    setting = os.environ.get(COMPILE_JOBS_ENV, "").strip()
    if setting:
        try:
            return int(setting) > 1
        except ValueError:
            log.warning("%s=%r is not an integer; compiling in one process", COMPILE_JOBS_ENV, setting)
            return False
    return (os.cpu_count() or 1) > 1 and not numba.config.DISABLE_JIT


def _start_helper() -> subprocess.Popen | None:
    """Start the process that compiles the grow-shrink step; None if it cannot start."""
    module = str(_growshrink.__file__)
    root = str(Path(module).resolve().parents[2])  # the directory holding `ililab`
    try:
        return subprocess.Popen(
            [sys.executable, "-c", _HELPER_CODE, root, module],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError as exc:
        log.debug("could not start the compile helper (%s); compiling here", exc)
        return None


def trace_address_with(kernel, args: Sequence) -> int:
    """:func:`~ililab.search._growshrink.trace_address`, after compiling ``kernel`` for ``args``.

    ``args`` are the arguments ``kernel`` will be called with (the address argument may be any
    int). When neither the grow-shrink step nor ``kernel`` is in Numba's on-disk cache and two
    processes may run, the step is compiled by a helper process meanwhile.
    """
    helper = None
    kernel_cold = not kernel.signatures and not _growshrink.in_disk_cache(kernel)
    if kernel_cold and not _growshrink.trace_cfunc_ready() and _parallel_allowed():
        helper = _start_helper()
    if not kernel.signatures:  # compile (or load from the cache) before the first call
        kernel.compile(tuple(numba.typeof(a) for a in args))
    if helper is not None:
        try:
            helper.wait(timeout=_HELPER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            helper.kill()
            helper.wait()
        if helper.returncode != 0:
            log.debug("compile helper exited with %s; compiling here", helper.returncode)
    return _growshrink.trace_address()
