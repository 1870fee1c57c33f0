"""What the teacher and the student share: the training loop (seeding, optimiser, seeded batches,
per-epoch records) and running a trained model on clips."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import torch
from torch import nn

from ililab.errors import DataError
from ililab_torch._common import Progress, batches, log, resolve_device, seed_everything
from ililab_torch.data import AVFeatures

__all__ = ["LoopConfig", "BatchStep", "fit", "run_epochs", "clip_tensors", "forward_clips"]


class LoopConfig(Protocol):
    """The hyper-parameters :func:`fit` reads (``TeacherConfig`` and ``StudentConfig`` have them)."""

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    seed: int


#: ``step(model, epoch, idx) -> (loss, sums)``: the loss of one batch and what it adds to the epoch's sums.
BatchStep = Callable[[nn.Module, int, torch.Tensor], tuple[torch.Tensor, dict[str, float]]]


def clip_tensors(data: AVFeatures, rows: np.ndarray, device: torch.device) -> tuple[torch.Tensor, ...]:
    """Audio (float32), visual (float32) and label (int64) tensors of the clips ``rows`` on ``device``."""
    a = torch.as_tensor(np.asarray(data.audio[rows], dtype=np.float32), device=device)
    v = torch.as_tensor(np.asarray(data.visual[rows], dtype=np.float32), device=device)
    y = torch.as_tensor(np.asarray(data.label[rows], dtype=np.int64), device=device)
    return a, v, y


def fit(
    build: Callable[[], nn.Module],
    step: BatchStep,
    n: int,
    config: LoopConfig,
    device: torch.device,
    stage: str,
    progress: Progress | None = None,
) -> nn.Module:
    """Seed everything, build the model on ``device`` and train it with AdamW for ``config.epochs`` epochs.

    Each epoch visits the ``n`` rows in seeded batches; ``step`` returns the batch loss and
    per-batch sums, which are added up and divided by ``n`` into the epoch's record
    ``{"stage", "epoch", "epochs", **sums}``, logged and passed to ``progress``.
    The model is returned in eval mode.
    """
    generator = seed_everything(config.seed)
    model = build().to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    run_epochs(model, optimizer, step, n, config.batch_size, generator, range(1, config.epochs + 1), config.epochs,
               device, stage, progress)
    model.eval()
    return model


def run_epochs(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    step: BatchStep,
    n: int,
    batch_size: int,
    generator: torch.Generator,
    epochs: range,
    total: int,
    device: torch.device,
    stage: str,
    progress: Progress | None = None,
) -> None:
    """The epochs ``epochs`` (numbered as in a run of ``total`` epochs) of :func:`fit`'s loop, from the
    model's, optimiser's and generator's current state (so a run can be continued, or branched)."""
    for epoch in epochs:
        model.train()
        sums: dict[str, float] = {}
        for idx in batches(n, batch_size, generator):
            idx = idx.to(device)
            loss, added = step(model, epoch, idx)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            for key, value in added.items():
                sums[key] = sums.get(key, 0) + value
        record = {"stage": stage, "epoch": epoch, "epochs": total, **{k: v / n for k, v in sums.items()}}
        log.debug("%s epoch %d: %s", stage, epoch, record)
        if progress is not None:
            progress(record)


@torch.no_grad()
def forward_clips(
    model: nn.Module,
    dims: dict[str, int],
    data: AVFeatures,
    rows: np.ndarray,
    device: str | torch.device | None,
    mismatch: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``model(audio, visual)`` of the clips ``rows``, in eval mode on ``device``.

    ``dims["dim_audio"]`` / ``dims["dim_visual"]`` are the feature widths the model was trained on;
    other widths in ``data`` raise a DataError saying ``... visual but {mismatch}``, where
    ``mismatch`` holds ``{audio}`` and ``{visual}`` for the expected widths.
    """
    dev = resolve_device(device)
    expected = (dims["dim_audio"], dims["dim_visual"])
    if (data.dims["audio"], data.dims["visual"]) != expected:
        raise DataError(
            f"{data.source}: features are {data.dims['audio']}-d audio / {data.dims['visual']}-d visual but "
            + mismatch.format(audio=expected[0], visual=expected[1])
        )
    model = model.to(dev).eval()
    a, v, _ = clip_tensors(data, rows, dev)
    return model(a, v)
