"""The :class:`Dataset` handed to learners: data (optional), covariance, n, nodes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ililab.errors import DataError
from ililab.graph import Node

__all__ = ["Dataset", "RowPlan"]


@runtime_checkable
class RowPlan(Protocol):
    """A row-wise transform a resampling pass can re-apply (a plain or a softmax transform's plan).

    Typed here without importing the soft-label layer: ``TransformPlan`` and ``CentredLogPlan``
    (higher up) satisfy it.

    Examples
    --------
    >>> import numpy as np
    >>> class Identity:
    ...     def __call__(self, chunk):
    ...         return chunk
    ...     def regularise(self, cov, n):
    ...         return cov
    >>> isinstance(Identity(), RowPlan)
    True
    """

    def __call__(self, chunk: np.ndarray) -> np.ndarray: ...

    def regularise(self, cov: np.ndarray, n: int) -> np.ndarray:
        """The covariance-level part of the transform, applied to the covariance of ``n`` transformed rows.

        Examples
        --------
        >>> from ililab.transform_plan import TransformPlan
        >>> TransformPlan("log").regularise(np.eye(2), 10).tolist()  # plain transforms but clr: none
        [[1.0, 0.0], [0.0, 1.0]]
        """
        ...


@dataclass(frozen=True, eq=False)
class Dataset:
    """What a learner sees: the nodes, the sufficient statistics and, when available, the data.

    Score-based learners need only ``covariance`` and ``n_samples``; learners
    that need rows (e.g. causal-learn's PC) use ``data`` when it is present and
    otherwise :meth:`surrogate_data`, rows whose sample covariance equals
    ``covariance`` exactly.

    Parameters
    ----------
    nodes : sequence of Node
        One node per column.
    covariance : ndarray of shape (p, p)
        Sample covariance of the (transformed) data.
    n_samples : int
        Number of rows the covariance was computed from.
    data : ndarray of shape (n, p), optional
        The (transformed) rows, when they are in memory.
    info : dict
        Provenance gathered on the way (transform, diagnostics); copied into graph ``meta``.
    output_nodes : sequence of Node, optional
        The nodes of the graph to return when they differ from ``nodes`` (a
        transform that leaves a column without coordinates keeps its node).
    plan : RowPlan, optional
        The row-wise transform that made ``covariance`` from the input rows (set by
        :func:`ililab.transforms.transform_dataset`): what a resampling pass over ``source``
        re-applies to each chunk, then ``plan.regularise`` to each replicate's covariance.
    source : tuple of ndarray, optional
        The input arrays (shards, memory maps) behind a streamed dataset (``data`` is None);
        None when the rows are in ``data``.

    Examples
    --------
    >>> from ililab.simulate import simulate_linear_sem
    >>> sim = simulate_linear_sem(4, 500, seed=0)
    >>> ds = Dataset.from_array(sim.data, sim.names)
    >>> ds.n_samples, ds.n_variables, ds.covariance.shape
    (500, 4, (4, 4))
    >>> Dataset(ds.nodes, ds.covariance, n_samples=500).data is None  # statistics only, no rows
    True
    """

    nodes: tuple[Node, ...]
    covariance: np.ndarray
    n_samples: int
    data: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)
    output_nodes: tuple[Node, ...] | None = None
    plan: RowPlan | None = None
    source: tuple[np.ndarray, ...] | None = None

    def __post_init__(self) -> None:
        cov = np.asarray(self.covariance, dtype=np.float64)
        p = len(self.nodes)
        if cov.shape != (p, p):
            raise DataError(f"covariance has shape {cov.shape}, expected ({p}, {p}) for {p} nodes")
        if not np.all(np.isfinite(cov)):
            finite = np.isfinite(cov)
            rows = np.flatnonzero(~np.diag(finite)) if not np.diag(finite).all() else np.flatnonzero(~finite.all(axis=1))
            shown = ", ".join(repr(self.nodes[i].name if isinstance(self.nodes[i], Node) else str(self.nodes[i]))
                              for i in rows[:5]) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
            raise DataError(
                f"the covariance of column {shown} is not finite: values too large to square in float64 "
                "(beyond about 1e150) or NaN/inf after the transform; rescale or drop it"
            )
        if self.n_samples < 2:
            raise DataError(f"need at least 2 samples, got {self.n_samples}")
        object.__setattr__(self, "covariance", cov)
        object.__setattr__(self, "nodes", tuple(self.nodes))

    @classmethod
    def from_array(
        cls,
        data: np.ndarray,
        nodes: Sequence[Node | str] | None = None,
        info: dict[str, Any] | None = None,
    ) -> Dataset:
        """Build from an in-memory (n, p) array (already validated and transformed).

        Parameters
        ----------
        data : ndarray of shape (n, p)
            The rows; kept as ``data``, and their covariance (``ddof=1``) computed.
        nodes : sequence of Node or str, optional
            One per column (names are parsed with :meth:`Node.from_name`); ``x0``, ``x1`` ... by default.
        info : dict, optional
            Provenance, copied into ``info``.

        Examples
        --------
        >>> x = np.array([[0.0, 1.0], [1.0, 3.0], [2.0, 5.0], [3.0, 7.5]])
        >>> ds = Dataset.from_array(x, ["Bark (audio)", "Bark (visual)"])
        >>> ds.names, [n.modality for n in ds.nodes]
        (['Bark (audio)', 'Bark (visual)'], ['audio', 'visual'])
        >>> round(float(ds.covariance[0, 0]), 4)  # ddof=1
        1.6667
        """
        from ililab.stats import covariance

        x = np.asarray(data, dtype=np.float64)
        if nodes is None:
            nodes = [f"x{i}" for i in range(x.shape[1])]
        node_tuple = tuple(n if isinstance(n, Node) else Node.from_name(n) for n in nodes)
        return cls(node_tuple, covariance(x), x.shape[0], x, dict(info or {}))

    @property
    def graph_nodes(self) -> tuple[Node, ...]:
        """Nodes of the graph a learner's result is reported on.

        Examples
        --------
        >>> ds = Dataset.from_array(np.eye(3)[[0, 1, 2, 0]], ["a", "b", "c"])
        >>> [n.name for n in ds.graph_nodes]  # no output_nodes given: the nodes themselves
        ['a', 'b', 'c']
        """
        return self.output_nodes if self.output_nodes is not None else self.nodes

    @property
    def names(self) -> list[str]:
        """Column names.

        Examples
        --------
        >>> Dataset.from_array(np.eye(3)[[0, 1, 2, 0]]).names
        ['x0', 'x1', 'x2']
        """
        return [n.name for n in self.nodes]

    @property
    def n_variables(self) -> int:
        """Number of columns p.

        Examples
        --------
        >>> Dataset.from_array(np.eye(3)[[0, 1, 2, 0]]).n_variables
        3
        """
        return len(self.nodes)

    def correlation(self) -> np.ndarray:
        """Correlation matrix derived from the covariance.

        Examples
        --------
        >>> ds = Dataset([Node("a"), Node("b")], np.array([[4.0, 1.0], [1.0, 1.0]]), n_samples=10)
        >>> ds.correlation()
        array([[1. , 0.5],
               [0.5, 1. ]])
        """
        d = np.sqrt(np.diag(self.covariance))
        return self.covariance / np.outer(d, d)

    def surrogate_data(self) -> np.ndarray:
        """The data if present, else ``n`` rows whose sample covariance is ``covariance``.

        The rows are a deterministic function of the covariance (no randomness),
        so learners that need rows give the same answer on the covariance path.

        Raises
        ------
        DataError
            Without data when ``n_samples <= p`` (no full-rank rows exist).

        Examples
        --------
        >>> cov = np.array([[2.0, 0.6], [0.6, 1.0]])
        >>> rows = Dataset([Node("a"), Node("b")], cov, n_samples=50).surrogate_data()
        >>> rows.shape, bool(np.allclose(np.cov(rows, rowvar=False), cov))
        ((50, 2), True)
        """
        if self.data is not None:
            return self.data
        n, p = self.n_samples, self.n_variables
        if n <= p:
            raise DataError(f"cannot build {n} rows with a full-rank {p}x{p} covariance; need n > p")
        # Orthonormal, column-centred basis from a fixed matrix: Z^T Z = (n-1) I, mean 0.
        base = np.cos(np.outer(np.arange(n) + 0.5, np.arange(1, p + 1)) * np.pi / n)
        base -= base.mean(axis=0)
        q, _ = np.linalg.qr(base)
        z = q * np.sqrt(n - 1)
        return z @ np.linalg.cholesky(self.covariance).T
