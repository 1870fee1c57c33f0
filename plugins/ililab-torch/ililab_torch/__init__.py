"""ililab-torch: the PyTorch side of ililab.

* :class:`PairWeights` / :class:`GraphRegularizer` — graph + soft labels -> LIR term, for any embedding model;
* :func:`teacher_soft_labels` — the AV-SAL teacher and its soft labels (probabilities and logits);
* :func:`train_student` / :func:`evaluate` — the LIR student and cross-modal retrieval mAP (:func:`choose_lir`:
  only its ``lam="auto"`` choice);
* :func:`load_features` / :func:`simulate_av` — feature datasets and the synthetic benchmark.

Importing this package is cheap; its names import torch when first used.
"""

from __future__ import annotations

__version__ = "0.1.0"

# Lazy (PEP 562): `ililab --help` loads this package's CLI module without importing torch.
_EXPORTS = {
    "ililab_torch.adapters": ["EdgeFilter", "GraphRegularizer", "PairWeights", "kept_edges"],
    "ililab_torch.data": ["AVFeatures", "load_features", "save_features", "stratified_split"],
    "ililab_torch.losses": ["cross_modal_triplet_loss"],
    "ililab_torch.retrieval": ["average_precision", "cross_modal_map", "retrieval_map"],
    "ililab_torch.student": ["AVStudent", "StudentConfig", "choose_lir", "embed", "evaluate", "load_student",
                             "save_student", "train_student"],
    "ililab_torch.synthetic": ["Cooccurrence", "SimulatedAV", "simulate_av", "truth_graph"],
    "ililab_torch.teacher": ["AVSALTeacher", "SoftLabels", "TeacherConfig", "alignment_loss", "teacher_soft_labels",
                             "train_teacher"],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "__version__",
    "EdgeFilter", "GraphRegularizer", "PairWeights", "kept_edges",
    "AVFeatures", "load_features", "save_features", "stratified_split",
    "cross_modal_triplet_loss",
    "average_precision", "cross_modal_map", "retrieval_map",
    "AVStudent", "StudentConfig", "choose_lir", "embed", "evaluate", "load_student", "save_student", "train_student",
    "Cooccurrence", "SimulatedAV", "simulate_av", "truth_graph",
    "AVSALTeacher", "SoftLabels", "TeacherConfig", "alignment_loss", "teacher_soft_labels", "train_teacher",
]


def __getattr__(name: str):
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'ililab_torch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
