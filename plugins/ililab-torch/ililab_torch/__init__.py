"""ililab-torch: the PyTorch side of ililab.

* :class:`PairWeights` / :class:`GraphRegularizer` — graph + soft labels -> LIR term, for any embedding model;
* :func:`teacher_soft_labels` — the AV-SAL teacher and its soft labels (probabilities and logits);
* :func:`train_student` / :func:`evaluate` — the LIR student and cross-modal retrieval mAP;
* :func:`load_features` / :func:`simulate_av` — feature datasets and the synthetic benchmark.

Importing this package imports torch.
"""

from __future__ import annotations

__version__ = "0.1.0"

from ililab_torch.adapters import EdgeFilter, GraphRegularizer, PairWeights, kept_edges
from ililab_torch.data import AVFeatures, load_features, save_features, stratified_split
from ililab_torch.losses import cross_modal_triplet_loss
from ililab_torch.retrieval import average_precision, cross_modal_map, retrieval_map
from ililab_torch.student import AVStudent, StudentConfig, embed, evaluate, load_student, save_student, train_student
from ililab_torch.synthetic import Cooccurrence, SimulatedAV, simulate_av, truth_graph
from ililab_torch.teacher import AVSALTeacher, SoftLabels, TeacherConfig, alignment_loss, teacher_soft_labels, train_teacher

__all__ = [
    "__version__",
    "EdgeFilter", "GraphRegularizer", "PairWeights", "kept_edges",
    "AVFeatures", "load_features", "save_features", "stratified_split",
    "cross_modal_triplet_loss",
    "average_precision", "cross_modal_map", "retrieval_map",
    "AVStudent", "StudentConfig", "embed", "evaluate", "load_student", "save_student", "train_student",
    "Cooccurrence", "SimulatedAV", "simulate_av", "truth_graph",
    "AVSALTeacher", "SoftLabels", "TeacherConfig", "alignment_loss", "teacher_soft_labels", "train_teacher",
]
