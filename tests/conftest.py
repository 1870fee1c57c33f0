"""Shared fixtures: small seeded data sets and a CLI runner that goes through `ililab.cli.main`."""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from ililab.simulate import simulate_linear_sem, simulate_soft_labels
from ililab.testing import cli_runner

# Property tests draw the same examples on every run (CI and `make test`): a failure is
# reproducible from the commit alone. HYPOTHESIS_PROFILE=explore draws new ones locally.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", max_examples=500, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def run_cli(capsys):
    """Run ``ililab ARGS`` in-process; returns exit code, stdout and stderr."""
    return cli_runner(capsys)


@pytest.fixture(scope="session")
def sem_small():
    return simulate_linear_sem(6, 3000, expected_degree=2.0, seed=3)


@pytest.fixture(scope="session")
def soft_small():
    return simulate_soft_labels(5, 3000, seed=2)


@pytest.fixture
def soft_files(tmp_path: Path, soft_small):
    paths = soft_small.save(tmp_path / "soft")
    return paths


@pytest.fixture
def data_npy(tmp_path: Path, sem_small) -> Path:
    path = tmp_path / "data.npy"
    np.save(path, sem_small.data)
    return path
