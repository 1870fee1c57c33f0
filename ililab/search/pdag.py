"""PDAG helpers: a DAG extension of a CPDAG (Dor & Tarsi) and causal-learn's encoding.

Used to score graphs returned as CPDAGs (every DAG of a Markov equivalence class has the
same BIC), e.g. causal-learn's GRaSP result in tests and benchmarks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pdag_to_dag", "from_causallearn"]


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
