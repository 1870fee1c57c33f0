"""The ``ges`` learner: native Greedy Equivalence Search with the BIC score, honouring background knowledge.

See :mod:`ililab.search.ges` for the algorithm, how knowledge enters each operator, and where it
deviates from Chickering (2002). causal-learn's GES stays available as the reference ``cl-ges``.
"""

from __future__ import annotations

from typing import Any, Literal

import pydantic

from ililab.dataset import Dataset
from ililab.graph import DependencyGraph
from ililab.knowledge import Knowledge
from ililab.learners._scorebased import setup_search
from ililab.learners.base import Learner, LearnerTags, PenaltyParams

__all__ = ["GESLearner"]


class GESLearner(Learner):
    """GES (Chickering, JMLR 2002): forward insertions, then backward deletions, over CPDAGs.

    Parameters (``Params``)
    -----------------------
    penalty / lambda
        BIC penalty discount ``c`` (default 4); ``lambda`` is causal-learn's ``lambda_value``,
        ``c = 2 * lambda``.
    max_parents
        Skip insertions that would give a node more parents than this (causal-learn's ``maxP``).
    graph
        ``"cpdag"`` (default) or ``"dag"`` (one DAG of the class found, satisfying the knowledge).
    seed
        Unused: GES is deterministic (kept so ``--seed`` works with every learner).

    Background knowledge is honoured inside the search: it starts from the required edges, never
    deletes a required adjacency, and every operator whose resulting equivalence class has no DAG
    satisfying the knowledge (forbidden edges, tiers, required orientations) is skipped for the
    next best one. The output CPDAG is then oriented by the knowledge before Meek's rules.

    Examples
    --------
    >>> from ililab.dataset import Dataset
    >>> from ililab.simulate import simulate_linear_sem
    >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
    >>> graph = GESLearner().fit(data, params={"seed": 0})
    >>> graph.meta["learner"], len(graph.nodes), "inserts" in graph.meta["search"]
    ('ges', 5, True)
    """

    name = "ges"
    description = "GES (native): greedy equivalence search over CPDAGs with BIC; honours knowledge; returns a CPDAG"
    tags = LearnerTags(output="cpdag", supports_knowledge=True, deterministic=True, needs_rows=False)

    class Params(PenaltyParams):
        """The parameters (see the learner's docstring).

        Examples
        --------
        >>> GESLearner.Params(penalty=2).penalty
        2.0
        """

        max_parents: int | None = pydantic.Field(None, ge=1, description="cap on parents per node")
        graph: Literal["cpdag", "dag"] = pydantic.Field("cpdag", description="return the CPDAG or a DAG of it")
        seed: int = pydantic.Field(0, ge=0, description="unused (GES is deterministic); kept for a uniform interface")

    def fit(self, data: Dataset, knowledge: Knowledge | None = None, params: Any = None) -> DependencyGraph:
        """Run GES on ``data.covariance`` and ``data.n_samples``; see the class docstring.

        Examples
        --------
        >>> from ililab.dataset import Dataset
        >>> from ililab.simulate import simulate_linear_sem
        >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
        >>> GESLearner().fit(data).is_acyclic()
        True
        """
        from ililab.search.ges import ges_search

        setup = setup_search(self, data, knowledge, params)
        result = ges_search(
            data.covariance,
            data.n_samples,
            setup.penalty,
            forbidden=setup.matrices.forbidden,
            required=setup.matrices.required,
            max_parents=setup.params.max_parents,
        )
        return setup.graph(data, self.name, result, ("inserts", "deletes", "knowledge_rejections"))
