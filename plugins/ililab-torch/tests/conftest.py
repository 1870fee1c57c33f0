"""Shared fixtures of the ililab-torch tests: one thread, tiny synthetic data, the core's CLI runner."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(1)


def _core_conftest():
    """The core suite's tests/conftest.py (this plugin lives in the ililab repository), for its CLI runner."""
    path = Path(__file__).resolve().parents[3] / "tests" / "conftest.py"
    name = "_ililab_core_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        sys.modules[name] = importlib.util.module_from_spec(spec)  # registered first: its dataclass needs it
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


run_cli = _core_conftest().run_cli  # `ililab ARGS` in-process through ililab.cli.main: .code, .out, .err


@pytest.fixture(scope="session")
def tiny_sim():
    from ililab_torch import simulate_av

    return simulate_av(n_classes=4, clips_per_class=24, dim_audio=12, dim_visual=16, n_cooccurrences=1, seed=3)


@pytest.fixture()
def features_file(tmp_path, tiny_sim):
    from ililab_torch import save_features

    path = tmp_path / "features.npz"
    save_features(tiny_sim.features, path)
    return path


@pytest.fixture()
def rng():
    return np.random.default_rng(0)
