"""The ``boss`` learner: native BOSS (Numba) over the covariance, sharing GRaSP's score and kernels."""

from __future__ import annotations

from typing import Any

from ililab.dataset import Dataset
from ililab.graph import DependencyGraph
from ililab.knowledge import Knowledge
from ililab.learners._scorebased import OrderSearchParams, graph_from_dag, knowledge_matrices
from ililab.learners.base import Learner, LearnerTags
from ililab.learners.causallearn import _penalty_from

__all__ = ["BossLearner"]


class BossLearner(Learner):
    """Best Order Score Search (Andrews et al., NeurIPS 2023) with the BIC score.

    See :mod:`ililab.search.boss` for the algorithm and where it deviates from the paper
    (no BES step after the order search). Background knowledge is honoured natively:
    forbidden edges never enter, required edges always do, tiers constrain every order.
    """

    name = "boss"
    description = "BOSS (native, Numba): best-order search with grow-shrink trees and BIC; returns a CPDAG"
    tags = LearnerTags(output="cpdag", supports_knowledge=True, deterministic=True, needs_rows=False)

    class Params(OrderSearchParams):
        """BOSS has no parameters beyond the shared ones (see ``OrderSearchParams``)."""

    def fit(self, data: Dataset, knowledge: Knowledge | None = None, params: Any = None) -> DependencyGraph:
        """Run BOSS on ``data.covariance`` and ``data.n_samples``; see the class docstring."""
        params = self.validate_params(params)
        from ililab.scores.bic import BICScore
        from ililab.search.boss import boss_search

        penalty = _penalty_from(params)
        matrices = knowledge_matrices(knowledge, data.names)
        score = BICScore(data.covariance, data.n_samples, penalty)
        result = boss_search(
            score,
            restarts=params.restarts,
            seed=params.seed,
            forbidden=matrices.forbidden,
            required=matrices.required,
            precedence=matrices.precedence,
            max_parents=params.max_parents,
            cache_size=params.cache_size,
        )
        meta = {
            "learner": self.name,
            "params": {**params.model_dump(by_alias=True), "penalty": penalty, "lambda": penalty / 2},
            "score": result.score,
            "restart_scores": result.restart_scores,
            "search": {k: v for k, v in result.stats.items() if k in ("passes", "moves", "cache_clears")},
        }
        return graph_from_dag(data, result.dag, score, matrices, params.graph, meta)
