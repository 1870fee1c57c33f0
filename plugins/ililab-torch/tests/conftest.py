"""Shared fixtures of the ililab-torch tests: one thread, tiny synthetic data, the CLI runner of ililab.testing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ililab.testing import cli_runner

torch.set_num_threads(1)


@pytest.fixture()
def run_cli(capsys):
    """`ililab ARGS...` in-process through ililab.cli.main: .code, .out, .err."""
    return cli_runner(capsys)


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
