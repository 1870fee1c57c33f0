"""Nothing the plugin reads runs code: pickled checkpoints and feature archives are refused
before their payload can execute (each test fails if its loader's guard is removed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ililab_torch.data import load_features
from ililab_torch.student import CHECKPOINT_FORMAT, load_student

from ililab.errors import DataError


class _Payload:
    """Unpickling this creates ``marker``: a test sees whether a loader ran a pickle."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _evil_checkpoint(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": CHECKPOINT_FORMAT, "config": "{}", "state_dict": {}, "x": _Payload(marker)}, path)
    return path, marker


def test_load_student_refuses_a_pickled_checkpoint(tmp_path):
    path, marker = _evil_checkpoint(tmp_path)
    with pytest.raises(DataError, match="not a loadable student checkpoint"):
        load_student(path)
    assert not marker.exists()


def test_student_evaluate_refuses_a_pickled_checkpoint(run_cli, tmp_path, features_file):
    path, marker = _evil_checkpoint(tmp_path)
    result = run_cli("student", "evaluate", features_file, "-c", path)
    assert result.code == 1 and "not a loadable student checkpoint" in result.err
    assert not marker.exists()


def test_load_features_refuses_a_pickled_archive(tmp_path):
    marker = tmp_path / "pwned"
    label = np.array([_Payload(marker), 1, 0, 1], dtype=object)
    np.savez(tmp_path / "evil.npz", audio=np.ones((4, 2)), visual=np.ones((4, 2)), label=label,
             class_names=np.array(["a", "b"]))
    with pytest.raises(DataError, match="Python objects"):
        load_features(tmp_path / "evil.npz")
    assert not marker.exists()
