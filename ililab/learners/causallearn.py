"""Adapters over causal-learn: ``pc``, ``cl-ges`` and ``cl-grasp`` (references for ``ges`` and ``grasp``).

causal-learn is imported only when one of these learners runs. Its GRaSP
draws from Python's global ``random`` module; the adapter seeds it from the
learner's ``seed`` and restores the global state afterwards, so results are
reproducible and the caller's random state is left alone. causal-learn's
progress output is kept off stdout.
"""

from __future__ import annotations

import contextlib
import io
import random
from typing import Any

import numpy as np
import pydantic

from ililab.cpdag import from_causallearn
from ililab.dataset import Dataset
from ililab.errors import ParameterError
from ililab.graph import DependencyGraph, Edge
from ililab.knowledge import Knowledge
from ililab.learners.base import Learner, LearnerParams, LearnerTags, PenaltyParams, penalty_from

__all__ = ["PCLearner", "CLGESLearner", "CLGraspLearner", "graph_from_causallearn"]


def graph_from_causallearn(matrix: np.ndarray, data: Dataset, meta: dict[str, Any]) -> DependencyGraph:
    """Map causal-learn's endpoint matrix to a :class:`DependencyGraph` (decoded by :func:`ililab.cpdag.from_causallearn`).

    ``i -> j`` becomes a directed edge; ``i - j`` and any other endpoint pair (PAG marks,
    ``<->``) an undirected one.

    Examples
    --------
    >>> from ililab.dataset import Dataset
    >>> data = Dataset.from_array(np.random.default_rng(0).normal(size=(50, 3)), ["a", "b", "c"])
    >>> g = np.array([[0, -1, 0], [1, 0, -1], [0, -1, 0]])  # a -> b - c
    >>> [(e.source, e.target, e.kind) for e in graph_from_causallearn(g, data, {}).edges]
    [('a', 'b', 'directed'), ('b', 'c', 'undirected')]
    """
    names = data.names
    directed, undirected = from_causallearn(matrix)
    edges = [Edge(names[i], names[j], "directed") for i, j in zip(*np.nonzero(directed))]
    edges += [Edge(names[i], names[j], "undirected") for i, j in zip(*np.nonzero(np.triu(undirected)))]
    return DependencyGraph(data.nodes, edges, meta)


@contextlib.contextmanager
def _seeded_and_quiet(seed: int):
    """Seed Python's and numpy's global generators, silence stdout; restore both after."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def _background_knowledge(data: Dataset, knowledge: Knowledge | None):
    if knowledge is None or knowledge.is_empty:
        return None
    from causallearn.graph.GraphNode import GraphNode
    from causallearn.utils.PCUtils.BackgroundKnowledge import BackgroundKnowledge

    nodes = [GraphNode(f"X{i + 1}") for i in range(data.n_variables)]
    bk = BackgroundKnowledge()
    forbidden = knowledge.forbidden_matrix(data.names)
    required = knowledge.required_matrix(data.names)
    for i, j in zip(*np.nonzero(forbidden)):
        bk.add_forbidden_by_node(nodes[i], nodes[j])
    for i, j in zip(*np.nonzero(required)):
        bk.add_required_by_node(nodes[i], nodes[j])
    return bk, nodes


def _add_required(graph: DependencyGraph, knowledge: Knowledge | None) -> DependencyGraph:
    """Add required edges that causal-learn's PC dropped (it uses them only to orient).

    A required edge is knowledge, not a hypothesis to test: it is put in the
    graph as directed, replacing an edge of another orientation between the pair.
    """
    if knowledge is None or not knowledge.required:
        return graph
    edges = {frozenset((e.source, e.target)): e for e in graph.edges}
    for source, target in sorted(knowledge.required):
        edges[frozenset((source, target))] = Edge(source, target, "directed")
    return graph.with_edges(edges.values())


class PCLearner(Learner):
    """causal-learn's PC with the Fisher-z test.

    Examples
    --------
    >>> from ililab.dataset import Dataset
    >>> from ililab.simulate import simulate_linear_sem
    >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
    >>> graph = PCLearner().fit(data, params={"alpha": 0.01})
    >>> graph.meta["learner"], len(graph.nodes)
    ('pc', 5)
    """

    name = "pc"
    description = "PC (causal-learn): constraint-based, Fisher-z tests; returns a CPDAG"
    tags = LearnerTags(output="cpdag", supports_knowledge=True, needs_rows=True)

    class Params(LearnerParams):
        """The parameters (see the learner's docstring).

        Examples
        --------
        >>> sorted(PCLearner.Params.model_fields)[:2]
        ['alpha', 'seed']
        """

        alpha: float = pydantic.Field(0.05, gt=0, lt=1, description="significance level of the Fisher-z tests")
        stable: bool = pydantic.Field(True, description="order-independent (stable) adjacency search")
        seed: int = pydantic.Field(0, ge=0, description="seed (PC is deterministic; kept for a uniform interface)")

    def fit(self, data: Dataset, knowledge: Knowledge | None = None, params: Any = None) -> DependencyGraph:
        """See the class docstring.

        Examples
        --------
        >>> from ililab.dataset import Dataset
        >>> from ililab.simulate import simulate_linear_sem
        >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
        >>> PCLearner().fit(data).names == data.names
        True
        """

        params = self.validate_params(params)
        from causallearn.search.ConstraintBased.PC import pc

        bk = _background_knowledge(data, knowledge)
        with _seeded_and_quiet(params.seed):
            result = pc(
                data.surrogate_data(),
                alpha=params.alpha,
                stable=params.stable,
                background_knowledge=None if bk is None else bk[0],
                show_progress=False,
                node_names=None if bk is None else [n.get_name() for n in bk[1]],
            )
        meta = {"learner": self.name, "params": params.model_dump()}
        graph = graph_from_causallearn(result.G.graph, data, meta)
        return _add_required(graph, knowledge)


class CLGESLearner(Learner):
    """causal-learn's GES with the linear-Gaussian BIC score, kept as the reference the native ``ges`` is checked against.

    Examples
    --------
    >>> from ililab.dataset import Dataset
    >>> from ililab.simulate import simulate_linear_sem
    >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
    >>> graph = CLGESLearner().fit(data, params={"penalty": 4})
    >>> graph.meta["learner"], len(graph.nodes)
    ('cl-ges', 5)
    """

    name = "cl-ges"
    description = "GES as implemented by causal-learn (reference; no background knowledge); returns a CPDAG"
    tags = LearnerTags(output="cpdag", supports_knowledge=False)

    class Params(PenaltyParams):
        """The parameters (see the learner's docstring).

        Examples
        --------
        >>> sorted(CLGESLearner.Params.model_fields)[:2]
        ['lambda_', 'max_parents']
        """

        max_parents: int | None = pydantic.Field(None, ge=1, description="cap on parents per node")
        seed: int = pydantic.Field(0, ge=0, description="seed (GES is deterministic; kept for a uniform interface)")

    def fit(self, data: Dataset, knowledge: Knowledge | None = None, params: Any = None) -> DependencyGraph:
        """See the class docstring.

        Examples
        --------
        >>> from ililab.dataset import Dataset
        >>> from ililab.simulate import simulate_linear_sem
        >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
        >>> CLGESLearner().fit(data).names == data.names
        True
        """

        params = self.validate_params(params)
        if knowledge is not None and not knowledge.is_empty:
            raise ParameterError("learner 'cl-ges' does not support background knowledge; use ges, grasp, boss or pc")
        from causallearn.search.ScoreBased.GES import ges

        penalty = penalty_from(params)
        with _seeded_and_quiet(params.seed):
            record = ges(
                None,
                score_func="local_score_BIC_from_cov",
                maxP=params.max_parents,
                cov=data.covariance,
                n=data.n_samples,
                lambda_value=penalty / 2,
            )
        meta = {
            "learner": self.name,
            "params": {**params.model_dump(by_alias=True), "penalty": penalty, "lambda": penalty / 2},
        }
        return graph_from_causallearn(record["G"].graph, data, meta)


class CLGraspLearner(Learner):
    """causal-learn's own GRaSP, kept as the reference the native ``grasp`` is checked against.

    Examples
    --------
    >>> from ililab.dataset import Dataset
    >>> from ililab.simulate import simulate_linear_sem
    >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
    >>> graph = CLGraspLearner().fit(data, params={"seed": 1})
    >>> graph.meta["learner"], len(graph.nodes)
    ('cl-grasp', 5)
    """

    name = "cl-grasp"
    description = "GRaSP as implemented by causal-learn (reference; slow, one random start)"
    tags = LearnerTags(output="cpdag", supports_knowledge=False, needs_rows=True)

    class Params(PenaltyParams):
        """The parameters (see the learner's docstring).

        Examples
        --------
        >>> sorted(CLGraspLearner.Params.model_fields)[:2]
        ['depth', 'lambda_']
        """

        depth: int = pydantic.Field(3, ge=1, description="depth of the depth-first search over tucks")
        seed: int = pydantic.Field(0, ge=0, description="seed of the random initial order")

    def fit(self, data: Dataset, knowledge: Knowledge | None = None, params: Any = None) -> DependencyGraph:
        """See the class docstring.

        Examples
        --------
        >>> from ililab.dataset import Dataset
        >>> from ililab.simulate import simulate_linear_sem
        >>> data = Dataset.from_array(simulate_linear_sem(5, 2000, expected_degree=2, seed=0).data)
        >>> CLGraspLearner().fit(data).names == data.names
        True
        """

        params = self.validate_params(params)
        if knowledge is not None and not knowledge.is_empty:
            raise ParameterError("learner 'cl-grasp' does not support background knowledge; use grasp")
        from causallearn.search.PermutationBased.GRaSP import grasp

        penalty = penalty_from(params)
        with _seeded_and_quiet(params.seed):
            result = grasp(
                data.surrogate_data(),
                score_func="local_score_BIC_from_cov",
                depth=params.depth,
                parameters={"lambda_value": penalty / 2},
                verbose=False,
            )
        meta = {
            "learner": self.name,
            "params": {**params.model_dump(by_alias=True), "penalty": penalty, "lambda": penalty / 2},
        }
        return graph_from_causallearn(result.graph, data, meta)


