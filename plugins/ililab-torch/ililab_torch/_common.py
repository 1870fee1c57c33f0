"""Small pieces shared by the training code: seeding, devices, MLPs, progress."""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ililab.errors import UsageError

__all__ = ["seed_everything", "resolve_device", "mlp", "Progress", "batches", "log"]

log = logging.getLogger("ililab.torch")

Progress = Callable[[dict[str, Any]], None]


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch, numpy's legacy global state and ``random``; return a torch generator for batching."""
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``"cpu"`` (default), ``"cuda"``, ``"cuda:1"``, ``"mps"``; a clear error when unavailable."""
    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise UsageError(f"unknown device {device!r}: {error}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"device {device!r} requested but CUDA is not available; use --device cpu")
    if dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise UsageError(f"device {device!r} requested but MPS is not available; use --device cpu")
    return dev


def mlp(sizes: Sequence[int], dropout: float = 0.0) -> nn.Sequential:
    """Linear layers with ReLU (and dropout) between them; no activation after the last."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def batches(n: int, batch_size: int, generator: torch.Generator, shuffle: bool = True) -> list[torch.Tensor]:
    """Index batches of one epoch (seeded permutation); the last short batch is kept if it has 2+ rows."""
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    out = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if len(out) > 1 and out[-1].numel() < 2:
        out[-2] = torch.cat([out[-2], out[-1]])
        out.pop()
    return out


def check_positive(value: float, what: str, allow_zero: bool = False) -> None:
    # not finite: an inf or NaN setting would train and then fail to be stored as strict JSON
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise UsageError(f"{what} must be a finite {'non-negative' if allow_zero else 'positive'} number, got {value}")
