"""The AV-SAL teacher: audio and visual classifiers with semantic alignment, and its soft labels.

Model: two MLP branches (audio, visual) map clip features to ``C`` class logits each.

Loss (our choice; the paper gives no formula)::

    L = CE(logits_a, y) + CE(logits_v, y) + align_weight * JS(softmax(logits_a / T), softmax(logits_v / T))

``JS`` is the Jensen-Shannon divergence, symmetric and bounded, so neither
modality is the "target" of the other. The alignment term makes each modality's
distribution carry what the other sees: a visual "train" clip whose audio holds a
motorcycle keeps some motorcycle probability instead of being pushed to one-hot.

Soft labels are ``softmax(logits / T)`` per modality block: ``C`` audio columns then
``C`` visual columns, named ``"Class (audio)"`` / ``"Class (visual)"``. The pre-softmax
logits are returned and saved too: graph inference on logits avoids the distortion the
row normalisation of probabilities causes (see ``docs/soft-labels.md``).

Soft labels for the clips the teacher was trained on are overconfident; with
``folds > 1`` each training clip is scored by a teacher that did not see it
(out-of-fold predictions, K teachers), which keeps the co-occurrence signal.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ililab.errors import DataError, UsageError
from ililab.io import write_array, write_names
from ililab_torch._common import Progress, check_positive, mlp, resolve_device
from ililab_torch._training import clip_tensors, fit, forward_clips
from ililab_torch.data import AVFeatures

__all__ = ["TeacherConfig", "AVSALTeacher", "SoftLabels", "alignment_loss", "train_teacher", "teacher_soft_labels"]


@dataclass
class TeacherConfig:
    """Hyper-parameters of the AV-SAL teacher (defaults used by the CLI and the example).

    >>> TeacherConfig(epochs=5).validate().folds  # out-of-fold soft labels by default
    3
    """

    hidden: int = 256
    dropout: float = 0.2
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    align_weight: float = 1.0
    temperature: float = 1.0
    folds: int = 3
    seed: int = 0

    def validate(self) -> TeacherConfig:
        check_positive(self.hidden, "hidden")
        check_positive(self.epochs, "epochs")
        check_positive(self.batch_size, "batch size")
        check_positive(self.lr, "learning rate")
        check_positive(self.temperature, "temperature")
        check_positive(self.weight_decay, "weight decay", allow_zero=True)
        check_positive(self.align_weight, "alignment weight", allow_zero=True)
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"dropout must lie in [0, 1), got {self.dropout}")
        if self.folds < 0 or self.folds == 1:
            raise UsageError(f"folds must be 0 (no cross-fitting) or at least 2, got {self.folds}")
        return self


class AVSALTeacher(nn.Module):
    """Audio and visual branches predicting ``n_classes`` logits each.

    >>> la, lv = AVSALTeacher(4, 6, n_classes=3, hidden=8)(torch.zeros(2, 4), torch.zeros(2, 6))
    >>> tuple(la.shape), tuple(lv.shape)
    ((2, 3), (2, 3))
    """

    def __init__(self, dim_audio: int, dim_visual: int, n_classes: int, hidden: int = 256, dropout: float = 0.2) -> None:
        super().__init__()
        self.config = {"dim_audio": dim_audio, "dim_visual": dim_visual, "n_classes": n_classes, "hidden": hidden,
                       "dropout": dropout}
        self.audio = mlp([dim_audio, hidden, n_classes], dropout)
        self.visual = mlp([dim_visual, hidden, n_classes], dropout)

    def forward(self, audio: torch.Tensor, visual: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.audio(audio), self.visual(visual)


def alignment_loss(logits_a: torch.Tensor, logits_v: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Mean Jensen-Shannon divergence between the two modalities' class distributions.

    >>> float(alignment_loss(torch.zeros(1, 3), torch.zeros(1, 3)))  # equal distributions
    0.0
    >>> round(float(alignment_loss(torch.tensor([[50.0, 0.0]]), torch.tensor([[0.0, 50.0]]))), 4)  # disjoint: log 2
    0.6931
    """
    log_pa = F.log_softmax(logits_a / temperature, dim=1)
    log_pv = F.log_softmax(logits_v / temperature, dim=1)
    log_m = torch.logsumexp(torch.stack([log_pa, log_pv]), dim=0) - np.log(2.0)
    kl_a = (log_pa.exp() * (log_pa - log_m)).sum(dim=1)
    kl_v = (log_pv.exp() * (log_pv - log_m)).sum(dim=1)
    return 0.5 * (kl_a + kl_v).mean()


@dataclass
class SoftLabels:
    """Soft labels of a set of clips: ``probabilities`` and ``logits`` (n x 2C) with column ``names``.

    >>> s = SoftLabels(np.full((2, 4), 0.5), np.zeros((2, 4)), ["A (audio)", "B (audio)", "A (visual)", "B (visual)"],
    ...                np.array([0, 1]))
    >>> s.probabilities.shape, s.names[2]
    ((2, 4), 'A (visual)')
    """

    probabilities: np.ndarray
    logits: np.ndarray
    names: list[str]
    rows: np.ndarray
    meta: dict = field(default_factory=dict)

    def save(self, path: str | Path) -> dict[str, Path]:
        """Write ``PATH`` (probabilities), ``STEM_logits.npy``, ``STEM_names.txt`` and ``STEM_meta.json``."""
        path = Path(path)
        if path.suffix.lower() != ".npy":
            raise UsageError(f"soft labels are written as .npy; got {str(path)!r}")
        stem = path.with_suffix("")
        paths = {
            "probabilities": path,
            "logits": Path(f"{stem}_logits.npy"),
            "names": Path(f"{stem}_names.txt"),
            "meta": Path(f"{stem}_meta.json"),
        }
        write_array(self.probabilities, paths["probabilities"])
        write_array(self.logits, paths["logits"])
        write_names(self.names, paths["names"])
        from ililab.io import atomic_write

        atomic_write(paths["meta"], json.dumps({**self.meta, "rows": self.rows.tolist()}, indent=1) + "\n")
        return paths


def train_teacher(
    data: AVFeatures,
    rows: np.ndarray | None = None,
    config: TeacherConfig | None = None,
    device: str | torch.device | None = None,
    progress: Progress | None = None,
) -> AVSALTeacher:
    """Train an AV-SAL teacher on the clips ``rows`` of ``data`` (default: all).

    ``progress`` is called once per epoch with a dict (epoch, loss, accuracy per modality).

    Examples
    --------
    >>> from ililab_torch import simulate_av
    >>> sim = simulate_av(n_classes=3, clips_per_class=10, dim_audio=4, dim_visual=4, seed=0)
    >>> teacher = train_teacher(sim.features, config=TeacherConfig(epochs=1, hidden=8))
    >>> teacher.config["n_classes"], teacher.training
    (3, False)
    """
    config = (config or TeacherConfig()).validate()
    dev = resolve_device(device)
    rows = np.arange(data.n_clips) if rows is None else np.asarray(rows)
    a, v, y = clip_tensors(data, rows, dev)

    def step(model: nn.Module, epoch: int, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        la, lv = model(a[idx], v[idx])
        loss = F.cross_entropy(la, y[idx]) + F.cross_entropy(lv, y[idx])
        if config.align_weight > 0:
            loss = loss + config.align_weight * alignment_loss(la, lv, config.temperature)
        return loss, {"loss": loss.item() * len(idx), "acc_audio": int((la.argmax(1) == y[idx]).sum()),
                      "acc_visual": int((lv.argmax(1) == y[idx]).sum())}

    def build() -> AVSALTeacher:
        return AVSALTeacher(data.dims["audio"], data.dims["visual"], data.n_classes, config.hidden, config.dropout)

    return fit(build, step, len(rows), config, dev, "teacher", progress)  # type: ignore[return-value]


@torch.no_grad()
def predict_logits(
    model: AVSALTeacher, data: AVFeatures, rows: np.ndarray, device: str | torch.device | None = None
) -> np.ndarray:
    """``[audio logits | visual logits]`` (n x 2C) for the clips ``rows``."""
    la, lv = forward_clips(model, model.config, data, rows, device, "the teacher was trained on {audio}-d / {visual}-d")
    return torch.cat([la, lv], dim=1).cpu().numpy().astype(np.float64)


def _softmax_blocks(logits: np.ndarray, n_classes: int, temperature: float) -> np.ndarray:
    out = np.empty_like(logits)
    for b in range(logits.shape[1] // n_classes):
        block = logits[:, b * n_classes : (b + 1) * n_classes] / temperature
        e = np.exp(block - block.max(axis=1, keepdims=True))
        out[:, b * n_classes : (b + 1) * n_classes] = e / e.sum(axis=1, keepdims=True)
    return out


def teacher_soft_labels(
    data: AVFeatures,
    rows: np.ndarray | None = None,
    config: TeacherConfig | None = None,
    device: str | torch.device | None = None,
    progress: Progress | None = None,
) -> SoftLabels:
    """Train the teacher on ``rows`` (default: the train split) and return their soft labels.

    With ``config.folds = K >= 2`` the rows are split into K seeded folds and each
    fold is scored by a teacher trained on the other K - 1 (out-of-fold soft labels);
    with ``folds = 0`` one teacher is trained on all rows and scores them.

    Examples
    --------
    >>> from ililab_torch import simulate_av
    >>> sim = simulate_av(n_classes=3, clips_per_class=10, dim_audio=4, dim_visual=4, seed=0)
    >>> soft = teacher_soft_labels(sim.features, config=TeacherConfig(epochs=1, hidden=8, folds=2))
    >>> soft.probabilities.shape == soft.logits.shape == (soft.rows.size, 6), soft.names[3]
    (True, 'Church bell (visual)')
    """
    config = (config or TeacherConfig()).validate()
    if rows is None:
        rows, _ = data.split_indices(seed=config.seed)
    rows = np.asarray(rows)
    logits = np.zeros((rows.size, 2 * data.n_classes))
    if config.folds >= 2:
        if rows.size < 2 * config.folds:
            raise DataError(f"{rows.size} clips are too few for {config.folds} folds; use --folds 0")
        rng = np.random.default_rng(config.seed)
        fold_of = np.empty(rows.size, dtype=int)
        fold_of[rng.permutation(rows.size)] = np.arange(rows.size) % config.folds
        for k in range(config.folds):
            inner = TeacherConfig(**{**asdict(config), "seed": config.seed + 1000 * (k + 1)})
            wrapped = None if progress is None else (lambda r, k=k: progress({**r, "fold": k + 1, "folds": config.folds}))
            model = train_teacher(data, rows[fold_of != k], inner, device, wrapped)
            logits[fold_of == k] = predict_logits(model, data, rows[fold_of == k], device)
    else:
        model = train_teacher(data, rows, config, device, progress)
        logits = predict_logits(model, data, rows, device)
    probabilities = _softmax_blocks(logits, data.n_classes, config.temperature)
    meta = {"teacher": "av-sal", "config": asdict(config), "source": data.source, "n_classes": data.n_classes}
    return SoftLabels(probabilities, logits, data.soft_label_names(), rows, meta)
