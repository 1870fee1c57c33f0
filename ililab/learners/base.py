"""The learner contract.

A learner is a class with a ``name``, a one-line ``description``, a pydantic
``Params`` model and a ``fit`` method::

    class MyLearner(Learner):
        name = "my-learner"
        description = "One line that says what it does."
        tags = LearnerTags(output="cpdag", supports_knowledge=True)

        class Params(LearnerParams):
            alpha: float = 0.05

        def fit(self, data, knowledge=None, params=None) -> DependencyGraph:
            params = self.validate_params(params)
            ...

Built-in learners register themselves with :func:`ililab.learners.register`;
third-party learners are found through the entry-point group ``ililab.learners``
(the entry point names the class).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, get_args, get_origin

import pydantic

from ililab.dataset import Dataset
from ililab.errors import ParameterError
from ililab.graph import DependencyGraph
from ililab.knowledge import Knowledge

__all__ = ["Learner", "LearnerParams", "LearnerTags", "PenaltyParams", "penalty_from"]


class LearnerParams(pydantic.BaseModel):
    """Base of every learner's ``Params``: unknown parameters are errors.

    Examples
    --------
    >>> class Params(LearnerParams):
    ...     alpha: float = 0.05
    >>> Params(alpha=0.1).alpha
    0.1
    >>> Params(beta=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Params
    ...
    """

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class PenaltyParams(LearnerParams):
    """Base of score-based learners' ``Params``: the BIC penalty, with causal-learn's ``lambda`` as alias.

    ililab's penalty discount ``c`` is ``2 * lambda`` (see :mod:`ililab.scores.bic`); giving
    both is allowed only when they agree.

    Examples
    --------
    >>> PenaltyParams().penalty
    4.0
    >>> penalty_from(PenaltyParams(**{"lambda": 1.5}))
    3.0
    """

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    penalty: float = pydantic.Field(4.0, gt=0, description="BIC penalty discount c (c = 2 * lambda)")
    lambda_: float | None = pydantic.Field(
        None, gt=0, alias="lambda", description="causal-learn's lambda_value; sets penalty = 2 * lambda"
    )

    @pydantic.model_validator(mode="after")
    def _consistent(self):
        if self.lambda_ is not None and "penalty" in self.model_fields_set:
            if abs(self.penalty - 2 * self.lambda_) > 1e-12:
                raise ValueError(f"penalty {self.penalty} and lambda {self.lambda_} disagree (penalty = 2 * lambda)")
        return self


def penalty_from(params: PenaltyParams) -> float:
    """The penalty discount ``c`` that ``params`` ask for: ``2 * lambda`` when ``lambda`` is set.

    Examples
    --------
    >>> penalty_from(PenaltyParams(penalty=6))
    6.0
    """
    return params.lambda_ * 2 if params.lambda_ is not None else params.penalty


@dataclass(frozen=True)
class LearnerTags:
    """Capabilities a caller can check before running a learner.

    Attributes
    ----------
    output : {"dag", "cpdag", "pag"}
        What the learner's graph promises by default.
    supports_knowledge : bool
        Whether required / forbidden edges and tiers are honoured.
    deterministic : bool
        Whether the same seed gives the same graph.
    needs_rows : bool
        Whether the learner needs rows (not only covariance and n).

    Examples
    --------
    >>> from ililab.learners import get
    >>> get("pc").tags.needs_rows, get("ges").tags.supports_knowledge
    (True, True)
    """

    output: Literal["dag", "cpdag", "pag"] = "cpdag"
    supports_knowledge: bool = True
    deterministic: bool = True
    needs_rows: bool = False


class Learner:
    """Base class of learners; see the module docstring for the contract.

    Examples
    --------
    >>> from ililab.graph import DependencyGraph
    >>> class NoEdges(Learner):
    ...     name = "no-edges"
    ...     description = "A graph without edges."
    ...     def fit(self, data, knowledge=None, params=None):
    ...         self.validate_params(params)
    ...         return DependencyGraph(data.nodes, [], {"learner": self.name})
    >>> from ililab.dataset import Dataset
    >>> import numpy as np
    >>> NoEdges().fit(Dataset.from_array(np.eye(3)))
    DependencyGraph(3 nodes, 0 edges: 0 directed, 0 undirected)
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    tags: ClassVar[LearnerTags] = LearnerTags()
    Params: ClassVar[type[LearnerParams]] = LearnerParams

    @classmethod
    def validate_params(cls, params: LearnerParams | Mapping[str, Any] | None) -> LearnerParams:
        """Turn a mapping of parameters into a validated ``Params`` instance.

        Raises
        ------
        ParameterError
            On an unknown parameter or a value of the wrong type or range.

        Examples
        --------
        >>> from ililab.learners import get
        >>> get("ges").validate_params({"lambda": 1.5}).lambda_
        1.5
        >>> get("ges").validate_params({"alpha": 1})
        Traceback (most recent call last):
        ...
        ililab.errors.ParameterError: learner 'ges': unknown parameter 'alpha' (known: penalty, lambda, max_parents, graph, seed)
        """
        if isinstance(params, cls.Params):
            return params
        values = dict(params or {})
        try:
            return cls.Params(**values)
        except pydantic.ValidationError as error:
            problems = []
            for item in error.errors():
                key = ".".join(str(p) for p in item["loc"])
                if not key:  # a check across parameters (e.g. penalty and lambda): its message says which
                    problems.append(str(item["msg"]).removeprefix("Value error, "))
                elif item["type"] == "extra_forbidden":
                    known = ", ".join(f.alias or k for k, f in cls.Params.model_fields.items()) or "none"
                    problems.append(f"unknown parameter {key!r} (known: {known})")
                else:
                    problems.append(f"parameter {key!r}: {item['msg']} (got {item.get('input')!r})")
            raise ParameterError(f"learner {cls.name!r}: " + "; ".join(problems)) from None

    @classmethod
    def param_table(cls) -> list[tuple[str, str, Any, str]]:
        """(name, type, default, description) of each parameter, for ``ililab learners``.

        Examples
        --------
        >>> from ililab.learners import get
        >>> get("ges").param_table()[0]
        ('penalty', 'float', 4.0, 'BIC penalty discount c (c = 2 * lambda)')
        """
        rows = []
        for key, info in cls.Params.model_fields.items():
            if get_origin(info.annotation) is Literal:  # show the choices, e.g. "cpdag|dag"
                annotation = "|".join(str(choice) for choice in get_args(info.annotation))
            else:
                annotation = getattr(info.annotation, "__name__", None) or str(info.annotation)
            annotation = annotation.replace("typing.", "")
            shown = info.alias or key
            rows.append((shown, annotation, info.get_default(call_default_factory=True), info.description or ""))
        return rows

    def fit(
        self,
        data: Dataset,
        knowledge: Knowledge | None = None,
        params: LearnerParams | Mapping[str, Any] | None = None,
    ) -> DependencyGraph:
        """Learn a graph from ``data``; must be overridden.

        Examples
        --------
        >>> import numpy as np
        >>> from ililab.dataset import Dataset
        >>> Learner().fit(Dataset.from_array(np.eye(2)))
        Traceback (most recent call last):
        ...
        NotImplementedError
        """
        raise NotImplementedError
