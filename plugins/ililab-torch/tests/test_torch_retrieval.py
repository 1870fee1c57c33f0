"""Standard AP / mAP against hand-computed rankings."""

from __future__ import annotations

import numpy as np
import pytest
from ililab_torch import average_precision, cross_modal_map, retrieval_map

from ililab.errors import DataError


def test_average_precision_by_hand():
    # relevant at ranks 1, 3, 6: (1/1 + 2/3 + 3/6) / 3
    assert average_precision([1, 0, 1, 0, 0, 1]) == pytest.approx((1 + 2 / 3 + 0.5) / 3)
    assert average_precision([0, 0, 0]) == 0.0
    assert average_precision([0, 1]) == pytest.approx(0.5)


def test_retrieval_map_by_hand():
    # 1-D embeddings on the unit circle: ranking by cosine similarity
    angle = np.array([0.0, 0.1, 1.0, 3.0])
    target = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    t_labels = np.array([0, 1, 0, 1])
    query = np.array([[1.0, 0.0]])  # angle 0: ranks targets 0, 1, 2, 3
    assert retrieval_map(query, target, np.array([0]), t_labels) == pytest.approx((1 + 2 / 3) / 2)
    assert retrieval_map(query, target, np.array([1]), t_labels) == pytest.approx((1 / 2 + 2 / 4) / 2)
    both = retrieval_map(np.vstack([query, query]), target, np.array([0, 1]), t_labels)
    assert both == pytest.approx(((1 + 2 / 3) / 2 + 0.5) / 2)


def test_random_embeddings_score_near_chance():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 30)
    result = cross_modal_map(rng.normal(size=(300, 64)), rng.normal(size=(300, 64)), labels)
    assert 0.08 < result["mean"] < 0.12  # chance is about 0.1 (the authors' bugged metric reads higher)
    assert result["mean"] == pytest.approx((result["audio_to_visual"] + result["visual_to_audio"]) / 2)


def test_perfect_embeddings_score_one():
    labels = np.array([0, 0, 1, 1])
    emb = np.eye(2)[labels]
    assert cross_modal_map(emb, emb, labels)["mean"] == 1.0


def test_shape_errors():
    with pytest.raises(DataError):
        retrieval_map(np.ones((2, 3)), np.ones((2, 4)), np.zeros(2), np.zeros(2))
