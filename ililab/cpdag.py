"""The graph algorithms on matrices, one home each: DAG -> CPDAG, Meek's rules, Dor-Tarsi, decoding.

* :func:`is_dag` -- acyclicity (Kahn);
* :func:`dag_to_cpdag` -- the CPDAG (Markov equivalence class) of a DAG, optionally oriented
  further by forbidden orientations;
* :func:`apply_meek_rules` -- Meek's rules R1-R4 to a fixed point;
* :func:`pdag_to_dag` -- a consistent DAG extension of a PDAG (Dor & Tarsi, 1992);
* :func:`from_causallearn` -- causal-learn's endpoint matrix as (directed, undirected).

Graphs here are boolean numpy matrices: ``directed[i, j]`` means ``i -> j``
and ``undirected`` is symmetric. The GES search (:mod:`ililab.search.ges`) keeps bitset
versions of the CPDAG, Meek and Dor-Tarsi steps for its inner loop; tests check them
against these on random graphs.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dag_to_cpdag", "apply_meek_rules", "is_dag", "pdag_to_dag", "from_causallearn"]


def is_dag(adjacency: np.ndarray) -> bool:
    """Whether the directed adjacency matrix has no cycle (Kahn's algorithm).

    Examples
    --------
    >>> import numpy as np
    >>> is_dag(np.array([[0, 1], [0, 0]])), is_dag(np.array([[0, 1], [1, 0]]))
    (True, False)
    """
    a = np.asarray(adjacency, dtype=bool).copy()
    indegree = a.sum(axis=0)
    queue = list(np.flatnonzero(indegree == 0))
    seen = 0
    while queue:
        node = queue.pop()
        seen += 1
        for child in np.flatnonzero(a[node]):
            indegree[child] -= 1
            if indegree[child] == 0:
                queue.append(child)
        a[node] = False
    return seen == a.shape[0]


def dag_to_cpdag(
    dag: np.ndarray, forbidden: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The CPDAG of ``dag``: compelled edges directed, reversible edges undirected.

    Parameters
    ----------
    dag : ndarray of shape (p, p)
        Directed adjacency, nonzero ``dag[i, j]`` for ``i -> j``; must be acyclic.
    forbidden : ndarray of shape (p, p), optional
        Background knowledge: an edge whose one orientation is forbidden is
        oriented the other way before Meek's rules run (then the result is the
        maximally oriented graph consistent with the knowledge).

    Returns
    -------
    directed, undirected : ndarray of bool
        ``directed[i, j]`` for a compelled ``i -> j``; ``undirected`` symmetric.

    Examples
    --------
    >>> import numpy as np
    >>> collider = np.array([[0, 0, 1], [0, 0, 1], [0, 0, 0]])  # 0 -> 2 <- 1: compelled
    >>> directed, undirected = dag_to_cpdag(collider)
    >>> directed.astype(int).tolist(), bool(undirected.any())
    ([[0, 0, 1], [0, 0, 1], [0, 0, 0]], False)
    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])  # 0 -> 1 -> 2: reversible
    >>> directed, undirected = dag_to_cpdag(chain)
    >>> bool(directed.any()), undirected.astype(int).tolist()
    (False, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    """
    d = np.asarray(dag) != 0
    np.fill_diagonal(d, False)
    skeleton = d | d.T
    compelled = np.zeros_like(d)
    p = d.shape[0]
    for child in range(p):
        parents = np.flatnonzero(d[:, child])
        if len(parents) < 2:
            continue
        sub = skeleton[np.ix_(parents, parents)]
        # a parent is compelled if some other parent is not adjacent to it (a v-structure)
        in_vstructure = (~sub & ~np.eye(len(parents), dtype=bool)).any(axis=1)
        compelled[parents[in_vstructure], child] = True
    if forbidden is not None:
        f = np.asarray(forbidden, dtype=bool)
        compelled |= d & f.T  # j -> i forbidden, so the edge i -> j is known
    undirected = skeleton & ~(compelled | compelled.T)
    return apply_meek_rules(compelled, undirected)


def apply_meek_rules(
    directed: np.ndarray, undirected: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Orient undirected edges by Meek's rules R1-R4 until nothing changes.

    Examples
    --------
    >>> import numpy as np
    >>> directed = np.zeros((3, 3), dtype=bool); directed[0, 1] = True        # 0 -> 1
    >>> undirected = np.zeros((3, 3), dtype=bool); undirected[1, 2] = undirected[2, 1] = True  # 1 - 2
    >>> d, u = apply_meek_rules(directed, undirected)  # R1: 0 and 2 not adjacent, so 1 -> 2
    >>> d.astype(int).tolist(), bool(u.any())
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], False)
    """
    d = np.asarray(directed, dtype=bool).copy()
    u = np.asarray(undirected, dtype=bool).copy()
    adjacent = d | d.T | u  # orienting an edge keeps the skeleton: computed once
    changed = True
    while changed:
        changed = False
        for a, b in zip(*np.nonzero(np.triu(u))):
            for x, y in ((a, b), (b, a)):
                if _meek_orients(x, y, d, u, adjacent):
                    d[x, y] = True
                    u[x, y] = u[y, x] = False
                    changed = True
                    break
    return d, u


def _meek_orients(a: int, b: int, d: np.ndarray, u: np.ndarray, adjacent: np.ndarray) -> bool:
    """Whether one of Meek's rules orients the undirected edge ``a - b`` as ``a -> b``."""
    not_adj_b = ~adjacent[:, b]
    not_adj_b[b] = False
    # R1: c -> a, c not adjacent to b
    if np.any(d[:, a] & not_adj_b):
        return True
    # R2: a -> c -> b
    if np.any(d[a, :] & d[:, b]):
        return True
    # R3: a - c -> b and a - e -> b with c, e not adjacent
    mids = np.flatnonzero(u[a, :] & d[:, b])
    if len(mids) >= 2:
        sub = adjacent[np.ix_(mids, mids)]
        if np.any(~sub & ~np.eye(len(mids), dtype=bool)):
            return True
    # R4: a - e, e -> b ... c -> e with a adjacent to c, c not adjacent to b
    for e in np.flatnonzero(u[a, :] & d[:, b]):
        if np.any(d[:, e] & adjacent[a, :] & not_adj_b):
            return True
    return False


def pdag_to_dag(directed: np.ndarray, undirected: np.ndarray) -> np.ndarray:
    """A DAG with the same skeleton and v-structures as the PDAG, keeping its directed edges.

    Parameters
    ----------
    directed : bool (p, p)
        ``[i, j]`` for ``i -> j``.
    undirected : bool (p, p)
        Symmetric; ``[i, j]`` for ``i - j``.

    Returns
    -------
    ndarray of bool (p, p)
        The DAG, ``[i, j]`` for ``i -> j``.

    Raises
    ------
    ValueError
        If the PDAG has no consistent extension.

    Examples
    --------
    >>> directed = np.zeros((3, 3), dtype=bool); directed[0, 1] = True       # 0 -> 1
    >>> undirected = np.zeros((3, 3), dtype=bool); undirected[1, 2] = undirected[2, 1] = True  # 1 - 2
    >>> pdag_to_dag(directed, undirected).astype(int).tolist()
    [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
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
    """(directed, undirected) from causal-learn's ``GeneralGraph.graph`` endpoint matrix.

    causal-learn marks ``i -> j`` by ``graph[i, j] == -1`` and ``graph[j, i] == 1``, and
    ``i - j`` by ``-1`` both ways. Any other pair of endpoint marks (``<->`` from PC's
    conflicts, PAG circles) is kept as an undirected edge: the pair is adjacent, its
    orientation unknown.

    Examples
    --------
    >>> g = np.array([[0, -1, 0], [1, 0, -1], [0, -1, 0]])  # 0 -> 1 - 2
    >>> directed, undirected = from_causallearn(g)
    >>> directed.astype(int).tolist(), undirected.astype(int).tolist()
    ([[0, 1, 0], [0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 1], [0, 1, 0]])
    """
    g = np.asarray(graph)
    directed = (g == -1) & (g.T == 1)
    adjacent = (g != 0) | (g.T != 0)
    np.fill_diagonal(adjacent, False)
    undirected = adjacent & ~directed & ~directed.T
    return directed, undirected
