"""The examples run (in their quick modes) and print what they promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.slow
def test_av_pipeline_quick():
    r = subprocess.run([sys.executable, str(EXAMPLES / "av_pipeline.py"), "--quick", "--learner", "ges"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "metric only" in out and "metric + LIR" in out and "audio->visual" in out and "±" in out
    assert "cross-modal adjacency F1 vs truth" in out
    assert "empty-graph ablation identical to baseline: True" in out


def test_third_party_embedding_quick():
    r = subprocess.run([sys.executable, str(EXAMPLES / "third_party_embedding.py"), "--quick"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "LIR term" in r.stdout and "mAP" in r.stdout
