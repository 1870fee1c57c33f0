"""The stderr progress bar: only after a delay, only on a terminal unless forced, silenced by --quiet."""

import io

import pytest

from ililab import progress as progress_module
from ililab.progress import Progress, format_seconds


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_before_the_delay_then_percent_elapsed_and_eta():
    clock, out = FakeClock(), Terminal()
    bar = Progress(10, "bootstrap", stream=out, clock=clock, delay=1.0, min_interval=0.0)
    bar.update(3)
    assert out.getvalue() == "" and not bar.shown
    clock.now += 2.0
    bar.update(5)
    text = out.getvalue()
    assert text.startswith("\rbootstrap:  50% |") and "5/10" in text
    assert "elapsed 0:02" in text and "eta 0:02" in text
    bar.close()
    assert out.getvalue().endswith("\n")


def test_not_drawn_when_not_a_terminal_unless_forced(monkeypatch):
    monkeypatch.delenv("ILILAB_PROGRESS", raising=False)
    clock = FakeClock()
    plain = io.StringIO()
    bar = Progress(4, "x", stream=plain, clock=clock, delay=0.0)
    bar.update(2)
    assert plain.getvalue() == ""
    forced = io.StringIO()
    Progress(4, "x", stream=forced, clock=clock, delay=0.0, force=True).update(2)
    assert "50%" in forced.getvalue()
    monkeypatch.setenv("ILILAB_PROGRESS", "1")
    by_env = io.StringIO()
    Progress(4, "x", stream=by_env, clock=clock, delay=0.0).update(4)
    assert "100%" in by_env.getvalue()


def test_disabled_draws_nothing_even_when_forced():
    out = Terminal()
    with Progress(3, "x", stream=out, delay=0.0, force=True, enabled=False) as bar:
        bar.advance()
        bar.advance(2)
    assert out.getvalue() == "" and bar.done == 3


def test_redraws_are_rate_limited_but_the_end_is_always_drawn():
    clock, out = FakeClock(), Terminal()
    bar = Progress(100, "", stream=out, clock=clock, delay=0.0, min_interval=10.0)
    for i in range(1, 100):
        bar.update(i)
    assert out.getvalue().count("\r") == 1
    bar.update(100)
    assert out.getvalue().count("\r") == 2 and "100%" in out.getvalue()


def test_a_closed_stream_does_not_break_the_work():
    out = Terminal()
    bar = Progress(2, "x", stream=out, delay=0.0)
    out.close()
    bar.update(1)
    bar.close()


def test_default_delay_is_about_a_second():
    assert 0.5 <= progress_module.DEFAULT_DELAY <= 2.0


@pytest.mark.parametrize("seconds, text", [(0, "0:00"), (59.4, "0:59"), (61, "1:01"), (7322, "2:02:02")])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


def test_cli_bootstrap_bar_goes_to_stderr_never_stdout(run_cli, data_npy, monkeypatch):
    from ililab.graph import DependencyGraph

    monkeypatch.setenv("ILILAB_PROGRESS", "1")
    monkeypatch.setattr(progress_module, "DEFAULT_DELAY", 0.0)
    result = run_cli("infer-graph", data_npy, "-l", "grasp", "--bootstrap", "3")
    assert result.code == 0, result.err
    assert "bootstrap: 100%" in result.err and "\r" not in result.out and "elapsed" not in result.out
    DependencyGraph.from_json(result.out)  # stdout holds only the graph
    quiet = run_cli("--quiet", "infer-graph", data_npy, "-l", "grasp", "--bootstrap", "3")
    assert quiet.code == 0 and quiet.err == ""
