"""benchmarks/softmax_sweep.py: a configuration's alarm that lands late does not end the sweep."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_a_late_configuration_alarm_does_not_end_the_sweep(monkeypatch, capsys):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        with mock.patch.dict(os.environ):  # the script pins BLAS through the environment on import
            import softmax_sweep as sweep
    finally:
        sys.path.pop(0)
    real = sweep.signal.setitimer
    late = []

    def setitimer(which, seconds, *rest):
        real(which, seconds, *rest)
        if seconds == 0 and not late:  # the first disarm: as if the alarm had landed just before it
            late.append(True)
            raise sweep._ConfigOver

    monkeypatch.setattr(sweep.signal, "setitimer", setitimer)
    monkeypatch.setattr(sweep, "run_one", lambda cfg: ("ok", "done", None))
    monkeypatch.setattr(sys, "argv", ["softmax_sweep.py", "--configs", "3", "--config-seconds", "60"])
    handlers = {sig: sweep.signal.getsignal(sig) for sig in (sweep.signal.SIGALRM, sweep.signal.SIGTERM)}
    try:
        with pytest.raises(SystemExit) as stop:
            sweep.main()
    finally:  # main() installs its own SIGALRM/SIGTERM handlers: give pytest its own back
        for sig, handler in handlers.items():
            sweep.signal.signal(sig, handler)
    assert stop.value.code == 0 and late
    out = capsys.readouterr().out
    assert "3 configurations" in out and "(all drawn)" in out and "3 graphs" in out
