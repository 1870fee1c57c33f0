"""Cross-modal retrieval mAP (standard average precision).

Each query of one modality ranks every target clip of the other modality by cosine
similarity (highest first; ties keep target order); a target is relevant when it has
the query's annotated class (the query's own paired clip included). AP is the mean,
over the relevant targets, of the precision at their ranks; mAP is the mean AP over
queries. (The authors' released metric code has an indentation bug that inflates low
scores; this is the textbook definition.)
"""

from __future__ import annotations

import numpy as np

from ililab.errors import DataError

__all__ = ["average_precision", "query_average_precisions", "retrieval_map", "cross_modal_map"]


def average_precision(relevance_in_rank_order: np.ndarray) -> float:
    """AP of one ranked list given as 0/1 relevance in rank order (0.0 when nothing is relevant).

    >>> average_precision([1, 0, 1])  # precision 1/1 at rank 1 and 2/3 at rank 3
    0.8333333333333333
    """
    rel = np.asarray(relevance_in_rank_order, dtype=bool)
    hits = np.flatnonzero(rel)
    if hits.size == 0:
        return 0.0
    precision_at_hits = np.arange(1, hits.size + 1) / (hits + 1)
    return float(precision_at_hits.mean())


def retrieval_map(query: np.ndarray, target: np.ndarray, query_labels: np.ndarray, target_labels: np.ndarray) -> float:
    """mAP of ranking ``target`` rows for each ``query`` row by cosine similarity.

    >>> q = np.array([[1.0, 0.0], [0.0, 1.0]]); t = np.array([[0.9, 0.1], [0.1, 0.9]])
    >>> retrieval_map(q, t, np.array([0, 1]), np.array([0, 1]))
    1.0
    """
    query, target = np.asarray(query, dtype=np.float64), np.asarray(target, dtype=np.float64)
    query_labels, target_labels = np.asarray(query_labels), np.asarray(target_labels)
    if query.ndim != 2 or target.ndim != 2 or query.shape[1] != target.shape[1]:
        raise DataError(f"query and target embeddings must be 2-D with equal width, got {query.shape} and {target.shape}")
    if query_labels.shape != (query.shape[0],) or target_labels.shape != (target.shape[0],):
        raise DataError("one label per query and per target is needed")
    if query.shape[0] == 0:
        raise DataError("no queries: the evaluation split is empty")
    return float(np.mean(query_average_precisions(query, target, query_labels, target_labels)))


def query_average_precisions(
    query: np.ndarray, target: np.ndarray, query_labels: np.ndarray, target_labels: np.ndarray
) -> np.ndarray:
    """AP of each ``query`` row ranking the ``target`` rows by cosine similarity (no input checks)."""
    qn = query / np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-12)
    tn = target / np.maximum(np.linalg.norm(target, axis=1, keepdims=True), 1e-12)
    order = np.argsort(-(qn @ tn.T), axis=1, kind="stable")
    relevant = target_labels[order] == query_labels[:, None]
    return np.asarray([average_precision(r) for r in relevant])


def cross_modal_map(emb_a: np.ndarray, emb_v: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """``{"audio_to_visual", "visual_to_audio", "mean"}`` mAP of paired embeddings of the same clips.

    >>> z = np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1]])
    >>> cross_modal_map(z, z, np.array([0, 1, 0]))  # each class in its own direction: perfect retrieval
    {'audio_to_visual': 1.0, 'visual_to_audio': 1.0, 'mean': 1.0}
    """
    av = retrieval_map(emb_a, emb_v, labels, labels)
    va = retrieval_map(emb_v, emb_a, labels, labels)
    return {"audio_to_visual": av, "visual_to_audio": va, "mean": (av + va) / 2.0}
