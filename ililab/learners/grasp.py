"""The ``grasp`` learner (the default): native GRaSP (Numba) over the covariance with the BIC score.

See :mod:`ililab.search.grasp` for the algorithm and ``docs/grasp.md`` for the parameters, their
mapping to the paper (GRaSP0/1/2) and to causal-learn (``depth``, ``lambda``).
"""

from __future__ import annotations

from typing import Any, Literal

import pydantic

from ililab.dataset import Dataset
from ililab.graph import DependencyGraph
from ililab.knowledge import Knowledge
from ililab.learners._scorebased import OrderSearchParams, setup_search
from ililab.learners.base import Learner, LearnerTags

__all__ = ["GraspLearner"]


class GraspLearner(Learner):
    """GRaSP (Lam, Andrews & Ramsey, UAI 2022) with the BIC score, compiled with Numba.

    Parameters (``Params``)
    -----------------------
    penalty / lambda
        BIC penalty discount ``c`` (default 4); ``lambda`` is causal-learn's ``lambda_value``,
        ``c = 2 * lambda`` (causal-learn's GRaSP default ``lambda = 2`` is ``c = 4``).
    depth
        Maximum length of a tuck sequence in the depth-first search (causal-learn's ``depth``).
    tucks
        ``"all"`` (GRaSP2, causal-learn's behaviour), ``"singular"`` (GRaSP1) or
        ``"covered"`` (GRaSP0).
    ordered
        Run GRaSP0, then GRaSP1, then GRaSP2 (up to ``tucks``), as Tetrad's ``ordered`` option.
    restarts, seed
        Unset (default): restart until converged (chains of iterated local search, stopping
        once ``hits`` chains reach the best score or ``patience`` chains do not improve it,
        at most ``max_restarts`` searches; not converged, with a warning, once ``hits`` chains
        ended, every chain but the best ended more than ``rugged`` × ``margin`` below the best and
        a chain ended after the best one) and give each edge its ``stability``, the share of
        near-optimal searches (within ``margin`` of the best BIC) linking the pair. An
        integer K: exactly K random starts, the best total BIC wins. Seeded streams per search.
    graph
        ``"cpdag"`` (default: reversible edges undirected) or ``"dag"`` (the DAG found).
    max_parents, cache_size
        Cap on parents per node; grow-shrink tree nodes kept in memory.

    Background knowledge is honoured natively: forbidden edges are never candidates, required
    edges are always parents, required edges and tiers constrain every order.

    Examples
    --------
    >>> from ililab.dataset import Dataset
    >>> from ililab.simulate import simulate_linear_sem
    >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
    >>> graph = GraspLearner().fit(data, params={"seed": 0})
    >>> graph.meta["learner"], len(graph.nodes), "tucks" in graph.meta["search"]
    ('grasp', 5, True)
    """

    name = "grasp"
    description = "GRaSP (native, Numba): permutation search by tucks with BIC; returns a CPDAG"
    tags = LearnerTags(output="cpdag", supports_knowledge=True, deterministic=True, needs_rows=False)

    class Params(OrderSearchParams):
        """The parameters (see the learner's docstring).

        Examples
        --------
        >>> GraspLearner.Params(penalty=2).penalty
        2.0
        """

        depth: int = pydantic.Field(3, ge=1, description="maximum number of tucks in one DFS sequence")
        tucks: Literal["all", "singular", "covered"] = pydantic.Field(
            "all", description="tucks allowed: all = GRaSP2, singular = GRaSP1, covered = GRaSP0"
        )
        ordered: bool = pydantic.Field(False, description="run GRaSP0, then GRaSP1, then GRaSP2 (up to `tucks`)")

    def fit(self, data: Dataset, knowledge: Knowledge | None = None, params: Any = None) -> DependencyGraph:
        """Run GRaSP on ``data.covariance`` and ``data.n_samples``; see the class docstring.

        Examples
        --------
        >>> from ililab.dataset import Dataset
        >>> from ililab.simulate import simulate_linear_sem
        >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
        >>> GraspLearner().fit(data).is_acyclic()
        True
        """
        from ililab.search.grasp import grasp_search

        setup = setup_search(self, data, knowledge, params)
        params = setup.params
        result = grasp_search(
            setup.score, depth=params.depth, tucks=params.tucks, ordered=params.ordered, **setup.search_kwargs()
        )
        return setup.graph(data, self.name, result, ("improvements", "tucks", "cache_clears", "rejected_parent_sets"))
