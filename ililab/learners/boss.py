"""The ``boss`` learner: native BOSS (Numba) over the covariance, sharing GRaSP's score and kernels."""

from __future__ import annotations

from typing import Any

from ililab.dataset import Dataset
from ililab.graph import DependencyGraph
from ililab.knowledge import Knowledge
from ililab.learners._scorebased import OrderSearchParams, setup_search
from ililab.learners.base import Learner, LearnerTags

__all__ = ["BossLearner"]


class BossLearner(Learner):
    """Best Order Score Search (Andrews et al., NeurIPS 2023) with the BIC score.

    See :mod:`ililab.search.boss` for the algorithm and where it deviates from the paper
    (no BES step after the order search). Background knowledge is honoured natively:
    forbidden edges never enter, required edges always do, tiers constrain every order.

    Examples
    --------
    >>> from ililab.dataset import Dataset
    >>> from ililab.simulate import simulate_linear_sem
    >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
    >>> graph = BossLearner().fit(data, params={"seed": 0})
    >>> graph.meta["learner"], len(graph.nodes), "passes" in graph.meta["search"]
    ('boss', 5, True)
    """

    name = "boss"
    description = "BOSS (native, Numba): best-order search with grow-shrink trees and BIC; returns a CPDAG"
    tags = LearnerTags(output="cpdag", supports_knowledge=True, deterministic=True, needs_rows=False)

    class Params(OrderSearchParams):
        """BOSS has no parameters beyond the shared ones (see ``OrderSearchParams``).

        Examples
        --------
        >>> BossLearner.Params(penalty=2).penalty
        2.0
        """

    def fit(self, data: Dataset, knowledge: Knowledge | None = None, params: Any = None) -> DependencyGraph:
        """Run BOSS on ``data.covariance`` and ``data.n_samples``; see the class docstring.

        Examples
        --------
        >>> from ililab.dataset import Dataset
        >>> from ililab.simulate import simulate_linear_sem
        >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
        >>> BossLearner().fit(data).is_acyclic()
        True
        """
        from ililab.search.boss import boss_search

        setup = setup_search(self, data, knowledge, params)
        result = boss_search(setup.score, **setup.search_kwargs())
        return setup.graph(data, self.name, result, ("passes", "moves", "cache_clears"))
