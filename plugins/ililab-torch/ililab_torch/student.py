"""The LIR student: audio and visual projection networks into a common embedding space.

Loss: ``L = L_triplet + lam * L_LIR`` (see :mod:`ililab_torch.losses` and
:mod:`ililab_torch.adapters`). By default ``lam="auto"`` and ``pairs="auto"``: both are chosen by
a validation split of the training clips, and LIR is switched off when no candidate
beats ``lam = 0`` there (:mod:`ililab_torch.auto`); ``lam=1.0, pairs="edges"`` are the paper's settings.
LIR is switched on from epoch ``lir_start`` (the
authors switched it on at epoch E_teach after dumping soft labels; with a separate
teacher the default is from the first epoch). With ``lam = 0`` or a graph whose edges
are all filtered away, training is *exactly* the metric-only baseline for the same seed:
the regularizer consumes no randomness.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ililab.errors import DataError, UsageError
from ililab.graph import DependencyGraph
from ililab.io import atomic_write
from ililab_torch._common import Progress, check_positive, log, mlp, resolve_device
from ililab_torch._training import clip_tensors, fit, forward_clips
from ililab_torch.adapters import EdgeFilter, GraphRegularizer
from ililab_torch.auto import AutoPlan, LirChoice, choose, validation_folds
from ililab_torch.data import AVFeatures
from ililab_torch.losses import cross_modal_triplet_loss
from ililab_torch.retrieval import cross_modal_map

__all__ = ["StudentConfig", "AVStudent", "train_student", "choose_lir", "embed", "evaluate", "save_student", "load_student"]

CHECKPOINT_FORMAT = "ililab-torch.student/v1"


@dataclass
class StudentConfig:
    """Hyper-parameters of the student and of its LIR term.

    ``lam`` is a number >= 0 or ``"auto"`` (default: chosen by validation on the training clips,
    LIR off when nothing beats 0 there). ``edges`` says which graph edges LIR
    uses (:class:`~ililab_torch.adapters.EdgeFilter`, the one place those settings live); its
    ``pairs`` is ``"edges"`` (the paper's definition), ``"classes"`` or ``"auto"`` (default here:
    chosen together with ``lam``; with a numeric ``lam`` it means ``"edges"``).

    Examples
    --------
    >>> StudentConfig().lam, StudentConfig().pairs
    ('auto', 'auto')
    >>> paper = StudentConfig(lam=1.0, edges=EdgeFilter(top_k=3, pairs="edges")).validate()
    >>> paper.pairs, paper.edges.top_k
    ('edges', 3)
    """

    embed_dim: int = 64
    hidden: int = 256
    dropout: float = 0.1
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    margin: float = 0.2
    lam: float | str = "auto"
    lir_start: int = 1
    tau: float = 0.1
    edges: EdgeFilter = field(default_factory=lambda: EdgeFilter(pairs="auto"))
    seed: int = 0

    @property
    def pairs(self) -> str:
        """The pair use, ``edges.pairs``."""
        return self.edges.pairs

    def validate(self) -> StudentConfig:
        for name in ("embed_dim", "hidden", "epochs", "batch_size", "lr"):
            check_positive(getattr(self, name), name)
        for name in ("weight_decay", "margin"):
            check_positive(getattr(self, name), name, allow_zero=True)
        if isinstance(self.lam, str):
            if self.lam != "auto":
                raise UsageError(f"lam must be a number >= 0 or 'auto', got {self.lam!r}")
        else:
            check_positive(self.lam, "lam", allow_zero=True)
        if not isinstance(self.edges, EdgeFilter):
            raise UsageError(f"edges must be an EdgeFilter, got {type(self.edges).__name__}")
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"dropout must lie in [0, 1), got {self.dropout}")
        if not 0.0 <= self.tau < 1.0:
            raise UsageError(f"tau must lie in [0, 1), got {self.tau}")
        if self.batch_size < 2:
            raise UsageError("batch size must be at least 2 (LIR and the triplet loss need pairs)")
        return self

    def edge_filter(self, pairs: str | None = None) -> EdgeFilter:
        """The edge filter of these settings (``pairs`` overrides its pair use; ``"auto"`` reads as ``"edges"``)."""
        use = pairs or self.pairs
        return replace(self.edges, pairs="edges" if use == "auto" else use)

    def with_pairs(self, pairs: str) -> StudentConfig:
        """A copy with the pair use ``pairs``."""
        return replace(self, edges=replace(self.edges, pairs=pairs))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> StudentConfig:
        """From ``asdict(config)`` (as checkpoints store it): ``edges`` may be a dict of EdgeFilter fields.

        >>> from dataclasses import asdict
        >>> StudentConfig.from_dict(asdict(StudentConfig(lam=2.0))) == StudentConfig(lam=2.0)
        True
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise UsageError(f"unknown student parameter(s): {', '.join(unknown)}")
        values = dict(values)
        if isinstance(values.get("edges"), dict):
            edge_fields = {f.name for f in fields(EdgeFilter)}
            bad = sorted(set(values["edges"]) - edge_fields)
            if bad:
                raise UsageError(f"unknown edge filter parameter(s): {', '.join(bad)}")
            values["edges"] = EdgeFilter(**values["edges"])
        return cls(**values)


class AVStudent(nn.Module):
    """Audio and visual MLP projections to unit-norm ``embed_dim`` embeddings.

    >>> za, zv = AVStudent(4, 6, embed_dim=3, hidden=8)(torch.ones(2, 4), torch.ones(2, 6))
    >>> tuple(za.shape), round(float(za.detach().norm(dim=1)[0]), 4)
    ((2, 3), 1.0)
    """

    def __init__(self, dim_audio: int, dim_visual: int, embed_dim: int = 64, hidden: int = 256, dropout: float = 0.1):
        super().__init__()
        self.dims = {"dim_audio": dim_audio, "dim_visual": dim_visual, "embed_dim": embed_dim, "hidden": hidden,
                     "dropout": dropout}
        self.audio = mlp([dim_audio, hidden, embed_dim], dropout)
        self.visual = mlp([dim_visual, hidden, embed_dim], dropout)

    def forward(self, audio: torch.Tensor, visual: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        za = nn.functional.normalize(self.audio(audio), dim=1)
        zv = nn.functional.normalize(self.visual(visual), dim=1)
        return za, zv


def _check_soft(soft: np.ndarray, rows: int, n_classes: int) -> np.ndarray:
    soft = np.asarray(soft, dtype=np.float32)
    if soft.ndim != 2 or soft.shape != (rows, 2 * n_classes):
        raise DataError(
            f"soft labels must be {rows} x {2 * n_classes} (train clips x [audio | visual] classes), got {soft.shape}"
        )
    if not np.isfinite(soft).all():
        raise DataError("soft labels hold NaN or inf")
    if soft.min() < -1e-4 or soft.max() > 1 + 1e-4:
        raise DataError(
            "soft labels must be probabilities in [0, 1]; these look like logits: pass the probabilities "
            "file (the teacher's -o output), not *_logits.npy"
        )
    return soft


class _Setup:
    """What the student's training and the auto choice share: the clips as tensors, the LIR terms (built once
    per pair use) and the batch steps."""

    def __init__(self, data: AVFeatures, rows: np.ndarray, soft_labels: np.ndarray | None,
                 graph: DependencyGraph | None, config: StudentConfig, dev: torch.device) -> None:
        self.data, self.rows, self.graph, self.config, self.dev = data, rows, graph, config, dev
        self.soft = self.soft_t = None
        if graph is not None and config.lam != 0:
            if soft_labels is None:
                raise UsageError("LIR needs the teacher's soft labels of the training clips")
            self.soft = _check_soft(soft_labels, rows.size, data.n_classes)
            self.soft_t = torch.as_tensor(self.soft, device=dev)
        self.a, self.v, self.y = clip_tensors(data, rows, dev)
        self.regularizers: dict[str, GraphRegularizer | None] = {}

    def regularizer_for(self, pairs: str) -> GraphRegularizer | None:
        """The LIR term of this pair use (None when no edge survives the filters), built once."""
        if pairs not in self.regularizers:
            graph = self.graph
            reg = GraphRegularizer(graph, self.data.soft_label_names(), tau=self.config.tau, reference=self.soft,
                                   edge_filter=self.config.edge_filter(pairs)).to(self.dev)
            log.info("LIR (pairs %s): %d of %d graph edges kept", pairs, len(reg.weights.edges), len(graph.edges))
            self.regularizers[pairs] = None if reg.is_empty else reg
        return self.regularizers[pairs]

    def make_step(self, lam: float, pairs: str, subset: torch.Tensor | None = None):
        """The batch step for ``lam``/``pairs`` over ``rows`` (or its positions ``subset``); None: no edges."""
        regularizer = self.regularizer_for(pairs) if lam > 0 and self.soft_t is not None else None
        if lam > 0 and regularizer is None:
            return None
        where = (lambda idx: idx) if subset is None else (lambda idx: subset[idx])
        a, v, y, soft_t, config, c = self.a, self.v, self.y, self.soft_t, self.config, self.data.n_classes

        def step(model: nn.Module, epoch: int, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
            idx = where(idx)
            za, zv = model(a[idx], v[idx])
            metric = cross_modal_triplet_loss(za, zv, y[idx], config.margin)
            if regularizer is None or epoch < config.lir_start:
                return metric, {"metric_loss": metric.item() * len(idx), "lir": 0.0}
            s = soft_t[idx]
            lir = regularizer(za, zv, s[:, :c], s[:, c:], y[idx])
            return metric + lam * lir, {"metric_loss": metric.item() * len(idx), "lir": lir.item() * len(idx)}

        return step

    def build(self) -> AVStudent:
        config = self.config
        return AVStudent(self.data.dims["audio"], self.data.dims["visual"], config.embed_dim, config.hidden,
                         config.dropout)

    def choose(self, plan: AutoPlan, progress: Progress | None) -> LirChoice:
        """The ``lam="auto"`` choice on validation splits of ``rows`` (:mod:`ililab_torch.auto`)."""
        data, rows, dev = self.data, self.rows, self.dev
        labels = np.asarray(data.label[rows])
        folds = []
        for fit_pos, val_pos in validation_folds(labels, plan.val_fraction, plan.folds, self.config.seed):
            if val_pos.size < 2:
                where = f"each of {plan.folds} folds" if plan.folds > 1 else "a validation split"
                raise DataError(f"lambda auto needs {where} to hold at least 2 train clips; {rows.size} train "
                                "clips are too few: give a number with --lam")
            fit_t = torch.as_tensor(fit_pos, device=dev)
            val_t = torch.as_tensor(val_pos, device=dev)
            folds.append(((lambda lam, pairs, fit_t=fit_t: self.make_step(lam, pairs, fit_t)), fit_pos.size,
                          (self.a[val_t], self.v[val_t], labels[val_pos])))
        return choose(self.build, folds, self.config, plan.candidates(self.config.pairs), plan, dev, progress,
                      n_train=rows.size)


def _rows(data: AVFeatures, rows: np.ndarray | None, config: StudentConfig) -> np.ndarray:
    if rows is None:
        rows, _ = data.split_indices(seed=config.seed)
    return np.asarray(rows)


def choose_lir(
    data: AVFeatures,
    rows: np.ndarray | None,
    soft_labels: np.ndarray,
    graph: DependencyGraph,
    config: StudentConfig | None = None,
    device: str | torch.device | None = None,
    auto_plan: AutoPlan | None = None,
) -> LirChoice:
    """Only the choice ``train_student`` makes with ``lam="auto"``: λ and the pair use (λ 0: LIR off),
    with the validation curve it chose from. ``config.lam`` is ignored; ``config.pairs`` ("auto" or one
    pair use) says which pair uses are tried.

    Examples
    --------
    >>> from ililab_torch import simulate_av
    >>> sim = simulate_av(n_classes=4, clips_per_class=12, dim_audio=8, dim_visual=8, seed=0)
    >>> train, _ = sim.features.split_indices()
    >>> soft = np.full((train.size, 8), 0.25, dtype=np.float32)
    >>> choice = choose_lir(sim.features, train, soft, sim.true_graph, StudentConfig(epochs=4, hidden=8, embed_dim=4))
    >>> sorted({point["pairs"] for point in choice.curve})
    ['classes', 'edges']
    """
    config = replace(config or StudentConfig(), lam="auto").validate()
    dev = resolve_device(device)
    setup = _Setup(data, _rows(data, rows, config), soft_labels, graph, config, dev)
    return setup.choose(auto_plan or AutoPlan(), None)


def train_student(
    data: AVFeatures,
    rows: np.ndarray | None = None,
    soft_labels: np.ndarray | None = None,
    graph: DependencyGraph | None = None,
    config: StudentConfig | None = None,
    device: str | torch.device | None = None,
    progress: Progress | None = None,
    auto_plan: AutoPlan | None = None,
) -> AVStudent:
    """Train a student on the clips ``rows`` (default: the train split).

    Parameters
    ----------
    data : AVFeatures
    rows : array of int, optional
        Clip indices to train on.
    soft_labels : ndarray (len(rows) x 2C), optional
        The teacher's probabilities for those clips, columns ``data.soft_label_names()``.
        Needed when ``graph`` is given and ``config.lam`` is not 0.
    graph : DependencyGraph, optional
        The ILI graph; None trains the metric-only baseline.
    config : StudentConfig, optional
        With ``lam="auto"`` (the default) and a graph, ``lam`` and ``pairs`` are first chosen by
        validation on ``rows`` (:mod:`ililab_torch.auto`, :func:`choose_lir`); the student is then
        trained on all ``rows`` exactly as with those settings given explicitly.
    auto_plan : AutoPlan, optional
        Sizes of that choice (validation share, candidates, minimum gain).

    Returns
    -------
    AVStudent
        In eval mode; ``model.config`` holds the settings used (``lam`` and ``pairs`` resolved) and
        ``model.lir_choice`` the auto choice with its validation curve (None without one).

    Examples
    --------
    >>> from ililab_torch import simulate_av
    >>> sim = simulate_av(n_classes=4, clips_per_class=12, dim_audio=8, dim_visual=8, seed=0)
    >>> model = train_student(sim.features, config=StudentConfig(epochs=1, hidden=8, embed_dim=4))
    >>> model.lir_choice is None  # no graph: the metric-only student
    True
    """
    config = (config or StudentConfig()).validate()
    dev = resolve_device(device)
    setup = _Setup(data, _rows(data, rows, config), soft_labels, graph, config, dev)
    choice: LirChoice | None = None
    if graph is not None and config.lam == "auto":
        choice = setup.choose(auto_plan or AutoPlan(), progress)
        log.info("%s", choice.summary())
        config = replace(config.with_pairs(choice.pairs), lam=choice.lam)
    elif config.pairs == "auto" or config.lam == "auto":
        # Nothing to choose from (no graph) or a fixed λ: "auto" pairs read as the paper's "edges".
        config = replace(config.with_pairs("edges"), lam=0.0 if config.lam == "auto" else config.lam)
    setup.config = config
    lam = float(config.lam)  # type: ignore[arg-type]
    step = setup.make_step(lam, config.pairs) if lam > 0 else None
    model = fit(setup.build, step or setup.make_step(0.0, config.pairs), setup.rows.size, config, dev, "student",
                progress)
    model.config = asdict(config)  # type: ignore[assignment]
    model.lir_choice = None if choice is None else choice.as_dict()  # type: ignore[assignment]
    reg = setup.regularizers.get(config.pairs) if lam > 0 else None
    model.lir_edges = 0 if reg is None else len(reg.weights.edges)  # type: ignore[assignment]
    return model  # type: ignore[return-value]


@torch.no_grad()
def embed(model: AVStudent, data: AVFeatures, rows: np.ndarray | None = None,
          device: str | torch.device | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Unit-norm audio and visual embeddings of the clips ``rows`` (default: all).

    >>> from ililab_torch import simulate_av
    >>> sim = simulate_av(n_classes=3, clips_per_class=10, dim_audio=4, dim_visual=4, seed=0)
    >>> za, zv = embed(AVStudent(4, 4, embed_dim=2, hidden=8), sim.features)
    >>> za.shape, zv.shape
    ((30, 2), (30, 2))
    """
    rows = np.arange(data.n_clips) if rows is None else np.asarray(rows)
    za, zv = forward_clips(model, model.dims, data, rows, device,
                           "the checkpoint expects {audio}-d / {visual}-d; use features of the kind the student was trained on")
    return za.cpu().numpy(), zv.cpu().numpy()


def evaluate(model: AVStudent, data: AVFeatures, rows: np.ndarray | None = None,
             device: str | torch.device | None = None) -> dict[str, float]:
    """mAP audio->visual, visual->audio and their mean on the clips ``rows`` (default: the test split).

    >>> from ililab_torch import simulate_av
    >>> sim = simulate_av(n_classes=3, clips_per_class=10, dim_audio=4, dim_visual=4, seed=0)
    >>> model = train_student(sim.features, config=StudentConfig(epochs=1, hidden=8, embed_dim=2))
    >>> sorted(evaluate(model, sim.features))
    ['audio_to_visual', 'mean', 'visual_to_audio']
    """
    if rows is None:
        _, rows = data.split_indices(seed=getattr(model, "config", {}).get("seed", 0))
    rows = np.asarray(rows)
    if rows.size < 2:
        raise DataError(f"{data.source}: the evaluation split has {rows.size} clips; need at least 2")
    za, zv = embed(model, data, rows, device)
    return cross_modal_map(za, zv, np.asarray(data.label[rows]))


def save_student(model: AVStudent, path: str | Path, meta: dict[str, Any] | None = None) -> Path:
    """Write ``{"format", "config" (JSON text), "state_dict"}`` with ``torch.save``, atomically.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     model, config = load_student(save_student(AVStudent(4, 6, embed_dim=2, hidden=8), Path(tmp) / "s.pt"))
    >>> config["format"], model.dims["dim_visual"]
    ('ililab-torch.student/v1', 6)
    """
    config = {"format": CHECKPOINT_FORMAT, "dims": model.dims, "student": getattr(model, "config", {}),
              "lir_choice": getattr(model, "lir_choice", None), "meta": meta or {}}
    # allow_nan=False: the config is strict JSON (an inf or NaN would be written as the non-JSON Infinity/NaN)
    try:
        text = json.dumps(config, sort_keys=True, allow_nan=False)
    except ValueError:
        raise DataError("the checkpoint's settings or meta hold an infinite or NaN number, which strict JSON "
                        "cannot store; give finite values") from None
    payload = {"format": CHECKPOINT_FORMAT, "config": text,
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}

    def write(tmp: Path) -> None:
        torch.save(payload, tmp)

    return atomic_write(path, write)


def load_student(path: str | Path, device: str | torch.device | None = None) -> tuple[AVStudent, dict[str, Any]]:
    """Load a student checkpoint with ``torch.load(weights_only=True)``; return the model and its config.

    >>> load_student("no/such.pt")
    Traceback (most recent call last):
    ...
    ililab.errors.DataError: no such checkpoint: 'no/such.pt'
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such checkpoint: {str(path)!r}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise DataError(f"{str(path)!r} is not a loadable student checkpoint: {str(error).splitlines()[0]}") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise DataError(f"{str(path)!r} is not an {CHECKPOINT_FORMAT} checkpoint")
    try:
        config = json.loads(payload["config"])
        dims = config["dims"]
        model = AVStudent(int(dims["dim_audio"]), int(dims["dim_visual"]), int(dims["embed_dim"]), int(dims["hidden"]),
                          float(dims["dropout"]))
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise DataError(f"{str(path)!r}: malformed checkpoint ({type(error).__name__}: {str(error).splitlines()[0]})") from None
    student = dict(config.get("student") or {})
    if "edges" not in student:  # written before the edge settings were nested: fold the flat keys in
        flat = {f.name: student.pop(f.name) for f in fields(EdgeFilter) if f.name in student}
        if flat:
            student["edges"] = flat
    config["student"] = student
    model.config = student  # type: ignore[assignment]
    model.lir_choice = config.get("lir_choice")  # type: ignore[assignment]
    return model.to(resolve_device(device)).eval(), config
