"""The examples run (in their quick modes, in-process) and print what they promise."""

from __future__ import annotations

import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_av_pipeline_quick(capsys):
    assert load("av_pipeline").main(["--quick", "--learner", "ges"]) == 0
    out = capsys.readouterr().out
    assert "metric only" in out and "metric + LIR" in out and "audio->visual" in out and "±" in out
    assert "cross-modal adjacency F1 vs truth" in out
    assert "empty-graph ablation identical to baseline: True" in out
    assert "metric + LIR - metric only (mean mAP), paired:" in out and "positive on" in out
    assert "planted cross-modal edges recovered" in out and "s CPU" in out
    assert "lambda auto chose:" in out and "(auto)" in out  # the example runs with the library defaults


def test_third_party_embedding_quick(capsys):
    assert load("third_party_embedding").main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "the regularizer uses" in out and "LIR term" in out and "test mAP" in out
