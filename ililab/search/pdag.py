"""PDAG helpers: DAG -> CPDAG in Numba (Chickering), a DAG extension of a CPDAG (Dor & Tarsi),
and causal-learn's encoding.

Used to score graphs returned as CPDAGs (every DAG of a Markov equivalence class has the
same BIC), e.g. causal-learn's GRaSP result in tests and benchmarks.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["pdag_to_dag", "from_causallearn", "dag_to_cpdag_fast"]


def pdag_to_dag(directed: np.ndarray, undirected: np.ndarray) -> np.ndarray:
    """A DAG with the same skeleton and v-structures as the PDAG, keeping its directed edges.

    Parameters
    ----------
    directed : bool (p, p)
        ``[i, j]`` for ``i -> j``.
    undirected : bool (p, p)
        Symmetric; ``[i, j]`` for ``i - j``.

    Raises
    ------
    ValueError
        If the PDAG has no consistent extension.
    """
    d = np.asarray(directed, dtype=bool).copy()
    u = np.asarray(undirected, dtype=bool).copy()
    u = u | u.T
    dag = d.copy()
    alive = np.ones(d.shape[0], dtype=bool)
    while alive.any():
        chosen = -1
        for x in np.flatnonzero(alive):
            if (d[x] & alive).any():  # x must be a sink among the remaining nodes
                continue
            nbrs = np.flatnonzero(u[x] & alive)
            adjacent = (d | d.T | u)[x] & alive
            ok = True
            for y in nbrs:
                others = adjacent.copy()
                others[y] = False
                others[x] = False
                adj_y = (d | d.T | u)[y]
                if np.any(others & ~adj_y):
                    ok = False
                    break
            if ok:
                chosen = x
                break
        if chosen < 0:
            raise ValueError("the PDAG has no consistent DAG extension")
        x = chosen
        for y in np.flatnonzero(u[x] & alive):
            dag[y, x] = True
        alive[x] = False
        u[x, :] = u[:, x] = False
        d[:, x] = False
    return dag


def from_causallearn(graph: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(directed, undirected) from causal-learn's ``GeneralGraph.graph`` encoding.

    ``graph[j, i] == 1 and graph[i, j] == -1`` is ``i -> j``; ``-1`` both ways is ``i - j``.
    """
    g = np.asarray(graph)
    directed = (g.T == 1) & (g == -1)
    undirected = (g == -1) & (g.T == -1)
    return directed, undirected


@njit(cache=True, _nrt=False)
def _cpdag_kernel(dag, label, order, stack, indeg):
    """Chickering's (1995) edge labelling into ``label`` (zeros on entry): 1 = compelled,
    2 = reversible, for each DAG edge. ``order``, ``stack`` and ``indeg`` are int64 scratch of
    length ``p``. Returns False if ``dag`` has a cycle."""
    p = dag.shape[0]
    # a topological order
    for j in range(p):
        indeg[j] = 0
    for i in range(p):
        for j in range(p):
            if dag[i, j]:
                indeg[j] += 1
    top = 0
    for v in range(p):
        if indeg[v] == 0:
            stack[top] = v
            top += 1
    n = 0
    while top > 0:
        top -= 1
        v = stack[top]
        order[n] = v
        n += 1
        for j in range(p):
            if dag[v, j]:
                indeg[j] -= 1
                if indeg[j] == 0:
                    stack[top] = j
                    top += 1
    if n < p:  # a cycle: no topological order
        return False
    for t in range(p):
        y = order[t]
        # the incoming edges of y, highest parent (in topological order) first
        while True:
            x = -1
            for s in range(t - 1, -1, -1):
                c = order[s]
                if dag[c, y] and label[c, y] == 0:
                    x = c
                    break
            if x < 0:
                break
            done = False
            for w in range(p):
                if dag[w, x] and label[w, x] == 1:
                    if not dag[w, y]:
                        for z in range(p):
                            if dag[z, y]:
                                label[z, y] = 1
                        done = True
                        break
                    label[w, y] = 1
            if done:
                continue
            compelled = False
            for z in range(p):
                if z != x and dag[z, y] and not dag[z, x] and not dag[x, z]:
                    compelled = True
                    break
            value = 1 if compelled else 2
            for z in range(p):
                if dag[z, y] and label[z, y] == 0:
                    label[z, y] = value
    return True


def dag_to_cpdag_fast(dag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The CPDAG of a DAG (no background knowledge), by Chickering's edge labelling in Numba.

    Same result as :func:`ililab.cpdag.dag_to_cpdag` without ``forbidden``; returns
    ``(directed, undirected)`` boolean matrices.
    """
    d = np.ascontiguousarray(np.asarray(dag) != 0)
    np.fill_diagonal(d, False)
    p = d.shape[0]
    label = np.zeros((p, p), dtype=np.int8)
    scratch = np.empty((3, max(p, 1)), dtype=np.int64)
    if not _cpdag_kernel(d, label, scratch[0], scratch[1], scratch[2]):
        raise ValueError("the graph has a cycle")
    directed = label == 1
    reversible = label == 2
    return directed, reversible | reversible.T
