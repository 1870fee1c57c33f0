"""Greedy Equivalence Search (Chickering 2002) over CPDAGs with the BIC score and background knowledge.

The algorithm
-------------
GES (D. M. Chickering, "Optimal Structure Identification With Greedy Search", JMLR 3, 2002)
moves between Markov equivalence classes, each represented by its CPDAG:

* forward phase — apply the best-scoring valid ``Insert(X, Y, T)`` until none improves the score.
  For non-adjacent ``X, Y``, ``T`` is a subset of the undirected neighbours of ``Y`` not adjacent
  to ``X``; with ``NA = NA_{Y,X}`` (undirected neighbours of ``Y`` adjacent to ``X``) the operator
  is valid when ``NA ∪ T`` is a clique and every semi-directed path from ``Y`` to ``X`` contains a
  node of ``NA ∪ T``. Its score change is ``s(Y, NA ∪ T ∪ Pa_Y ∪ {X}) - s(Y, NA ∪ T ∪ Pa_Y)``.
  Applying it adds ``X -> Y`` and orients ``T - Y`` as ``T -> Y``;
* backward phase — apply the best-scoring valid ``Delete(X, Y, H)`` until none improves.
  For adjacent ``X, Y`` (``X -> Y`` or ``X - Y``), ``H ⊆ NA``; the operator is valid when
  ``NA \\ H`` is a clique. Its score change is ``s(Y, (NA \\ H) ∪ Pa_Y \\ {X}) - s(Y, (NA \\ H) ∪ Pa_Y ∪ {X})``.
  Applying it removes the edge and orients ``Y - H`` as ``Y -> H`` and ``X - H`` as ``X -> H``.

After each operator the partially directed graph is extended to a DAG (Dor & Tarsi, 1992) and
the CPDAG is derived again (v-structures, then Meek's rules R1-R3, which are complete for a
pattern). Subsets ``T`` and ``NA \\ H`` are enumerated as cliques only (the clique condition is
monotone), candidates are ranked by score change and checked in that order, so the path
condition and the knowledge check run only on the few best. Ties go to the first candidate in
the order ``Y``, then ``X``, then subset enumeration: the search is deterministic.

Background knowledge
--------------------
The search moves only between equivalence classes that contain at least one DAG satisfying the
knowledge: no forbidden edge, every required edge present and directed as required (tiers are
forbidden edges from a later tier to an earlier one; a required ``a -> b`` also forbids
``b -> a``). It starts from the class of the DAG of required edges, never deletes a required
adjacency, never inserts an adjacency forbidden in both directions, and after each operator
checks the new class exactly: the CPDAG's undirected edges are oriented away from forbidden
orientations, a compelled edge in a forbidden orientation rejects the class, and the result
must still extend to a DAG with the class's v-structures (Dor & Tarsi). That DAG is the
*witness* returned by the search, a member of the final class that satisfies the knowledge;
the learner derives its output graph from it with the knowledge-aware Meek rules of
:mod:`ililab.cpdag`. A candidate rejected by the knowledge makes way for the next best one.

Where this deviates from the paper
----------------------------------
Only the two phases of the paper (no turning phase, no repetition). With ``max_parents`` an
``Insert`` that would give ``Y`` more than ``max_parents`` parents in the scored DAG is skipped
(the cap applies to the DAG behind the score change, like causal-learn's ``maxP``). With
background knowledge the search starts from the required edges instead of the empty graph and
is restricted to knowledge-consistent classes, so Chickering's large-sample optimality holds
only when the true class is itself consistent with the knowledge.

Graphs are held as bitsets (one Python ``int`` per node): directed parents ``pa``, children
``ch`` and undirected neighbours ``nb``. Local scores come from :func:`ililab.scores.kernels.local_score`
through a cache keyed by ``(node, parent bitset)``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from ililab.scores.kernels import local_score

__all__ = ["GESResult", "ges_search"]

log = logging.getLogger(__name__)


# -- bitset helpers -------------------------------------------------------------------------------


def _bits(mask: int):
    """Indices of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _masks_from_matrix(matrix: np.ndarray) -> list[int]:
    """Column bitsets: entry ``j`` has bit ``i`` set when ``matrix[i, j]``."""
    m = np.asarray(matrix, dtype=bool)
    return [sum(1 << int(i) for i in np.flatnonzero(m[:, j])) for j in range(m.shape[1])]


def _children(pa: list[int]) -> list[int]:
    ch = [0] * len(pa)
    for v, parents in enumerate(pa):
        for u in _bits(parents):
            ch[u] |= 1 << v
    return ch


def _is_clique(mask: int, adj: list[int]) -> bool:
    for v in _bits(mask):
        if mask & ~adj[v] & ~(1 << v):
            return False
    return True


def _cliques(pool: int, base: int, adj: list[int], max_size: int) -> list[int]:
    """Every ``T ⊆ pool`` with ``|T| <= max_size`` such that ``base ∪ T`` is a clique (``base`` is one)."""
    start = 0
    for v in _bits(pool):
        if not base & ~adj[v]:
            start |= 1 << v
    found = []
    stack = [(0, start, 0)]
    while stack:
        t, cand, size = stack.pop()
        found.append(t)
        if size >= max_size:
            continue
        for v in _bits(cand):
            higher = cand & ~((2 << v) - 1)
            stack.append((t | (1 << v), higher & adj[v], size + 1))
    return found


# -- PDAG <-> DAG ---------------------------------------------------------------------------------

# Pinned internals: the reference implementations of these steps are ililab.cpdag.dag_to_cpdag,
# apply_meek_rules and pdag_to_dag (one home per algorithm). GES runs them after every operator on
# bitsets; going through the matrix versions (and converting) made ges_search about 3.5x slower
# (benchmarks/ges_vs_causallearn.py --internals), so these copies stay, and
# tests/search/test_ges.py checks them against ililab.cpdag on random graphs.


def extend_to_dag(pa: list[int], nb: list[int]) -> list[int] | None:
    """A consistent DAG extension of a PDAG (Dor & Tarsi, 1992), or None when there is none.

    The DAG has the PDAG's skeleton, directed edges and v-structures. Returned as parent bitsets.

    Examples
    --------
    >>> extend_to_dag([0, 0, 0], [0b010, 0b101, 0b010])  # 0 - 1 - 2 as parent bitsets: 2 -> 1 -> 0
    [2, 4, 0]
    >>> extend_to_dag([0b100, 0b001, 0b010], [0, 0, 0]) is None  # a directed cycle
    True
    """
    p = len(pa)
    ch = _children(pa)
    adj = [pa[v] | ch[v] | nb[v] for v in range(p)]
    out = list(pa)
    remaining = (1 << p) - 1
    while remaining:
        for x in _bits(remaining):
            if ch[x] & remaining:
                continue  # not a sink among the remaining nodes
            around = adj[x] & remaining
            ok = True
            for y in _bits(nb[x] & remaining):
                if around & ~adj[y] & ~(1 << y):
                    ok = False
                    break
            if ok:
                out[x] |= nb[x] & remaining
                remaining &= ~(1 << x)
                break
        else:
            return None
    return out


def dag_to_cpdag_bits(dag_pa: list[int]) -> tuple[list[int], list[int]]:
    """The CPDAG of a DAG given as parent bitsets: ``(directed parents, undirected neighbours)``.

    Examples
    --------
    >>> dag_to_cpdag_bits([0, 0, 0b011])  # 0 -> 2 <- 1 stays directed
    ([0, 0, 3], [0, 0, 0])
    >>> dag_to_cpdag_bits([0, 0b001, 0b010])  # 0 -> 1 -> 2 becomes 0 - 1 - 2
    ([0, 0, 0], [2, 5, 2])
    """
    p = len(dag_pa)
    dag_ch = _children(dag_pa)
    adj = [dag_pa[v] | dag_ch[v] for v in range(p)]
    pa = [0] * p
    for c in range(p):
        parents = dag_pa[c]
        for a in _bits(parents):
            if parents & ~adj[a] & ~(1 << a):  # a -> c <- b with a, b not adjacent
                pa[c] |= 1 << a
    nb = [adj[v] & ~pa[v] for v in range(p)]
    for v in range(p):
        for u in _bits(pa[v]):
            nb[u] &= ~(1 << v)
    _meek(pa, nb, adj)
    return pa, nb


def _meek(pa: list[int], nb: list[int], adj: list[int]) -> None:
    """Orient undirected edges in place by Meek's rules R1-R3 until nothing changes."""
    p = len(pa)
    ch = _children(pa)
    changed = True
    while changed:
        changed = False
        for a in range(p):
            for b in _bits(nb[a]):
                not_adj_b = ~adj[b] & ~(1 << b)
                orient = bool(pa[a] & not_adj_b) or bool(ch[a] & pa[b])  # R1, R2
                if not orient:
                    mids = nb[a] & pa[b]  # R3: a - c -> b, a - d -> b, c, d not adjacent
                    for c in _bits(mids):
                        if mids & ~adj[c] & ~(1 << c):
                            orient = True
                            break
                if orient:
                    nb[a] &= ~(1 << b)
                    nb[b] &= ~(1 << a)
                    pa[b] |= 1 << a
                    ch[a] |= 1 << b
                    changed = True


def _reaches(start: int, target: int, ch: list[int], nb: list[int], blocked: int) -> bool:
    """Whether a semi-directed path leads from ``start`` to ``target`` avoiding ``blocked``."""
    seen = frontier = 1 << start
    goal = 1 << target
    while frontier:
        step = 0
        for v in _bits(frontier):
            step |= ch[v] | nb[v]
        step &= ~seen & ~blocked
        if step & goal:
            return True
        seen |= step
        frontier = step
    return False


# -- knowledge ------------------------------------------------------------------------------------


def _knowledge_witness(
    pa: list[int], nb: list[int], banned: list[int] | None
) -> list[int] | None:
    """A DAG of the class of CPDAG ``(pa, nb)`` with no banned parent, or None when there is none.

    ``banned[v]`` is the bitset of nodes that may not be parents of ``v`` (forbidden edges and the
    reverse of required ones). Without knowledge any consistent extension is a witness.
    """
    if banned is None:
        return extend_to_dag(pa, nb)
    p = len(pa)
    kpa = list(pa)
    knb = list(nb)
    for v in range(p):
        if pa[v] & banned[v]:
            return None  # a compelled edge in a forbidden orientation
    for a in range(p):
        for b in _bits(knb[a] & banned[a]):  # b -> a is banned: orient a -> b
            if banned[b] >> a & 1:
                return None  # the adjacency is forbidden both ways
            knb[a] &= ~(1 << b)
            knb[b] &= ~(1 << a)
            kpa[b] |= 1 << a
    dag = extend_to_dag(kpa, knb)
    if dag is None:
        return None
    if dag_to_cpdag_bits(dag) != (pa, nb):
        return None  # the orientations forced by the knowledge add a v-structure
    return dag


# -- the search -----------------------------------------------------------------------------------


@dataclass
class GESResult:
    """Outcome of :func:`ges_search`.

    Attributes
    ----------
    dag : ndarray of bool, shape (p, p)
        A DAG of the final equivalence class (``dag[i, j]`` for ``i -> j``) that satisfies the
        knowledge.
    directed, undirected : ndarray of bool, shape (p, p)
        The final CPDAG (without the orientations implied by the knowledge).
    score : float
        Total BIC of the final class.
    stats : dict
        ``inserts``, ``deletes``, ``knowledge_rejections`` (candidates whose class no DAG
        satisfying the knowledge belongs to), ``scores_computed``, ``rejected_parent_sets``.

    Examples
    --------
    >>> from ililab.simulate import simulate_linear_sem
    >>> from ililab.dataset import Dataset
    >>> data = Dataset.from_array(simulate_linear_sem(4, 2000, seed=0).data)
    >>> result = ges_search(data.covariance, data.n_samples, 4.0)
    >>> result.dag.shape, sorted(result.stats)[:2]
    ((4, 4), ['deletes', 'inserts'])
    """

    dag: np.ndarray
    directed: np.ndarray
    undirected: np.ndarray
    score: float
    stats: dict = field(default_factory=dict)


class _Scorer:
    """Local BIC scores memoised by ``(node, parent bitset)``."""

    def __init__(self, cov: np.ndarray, n: int, penalty: float) -> None:
        self.cov = np.ascontiguousarray(np.asarray(cov, dtype=np.float64))
        self.n = float(n)
        self.penalty = float(penalty)
        self.cache: dict[tuple[int, int], float] = {}
        self.rejected = 0

    def __call__(self, y: int, mask: int) -> float:
        key = (y, mask)
        value = self.cache.get(key)
        if value is None:
            idx = np.fromiter(_bits(mask), dtype=np.int32)
            value = float(local_score(self.cov, self.n, self.penalty, y, idx, len(idx)))
            if value == -math.inf:
                self.rejected += 1
            self.cache[key] = value
        return value


def _to_matrix(masks: list[int], p: int) -> np.ndarray:
    out = np.zeros((p, p), dtype=bool)
    for j, m in enumerate(masks):
        for i in _bits(m):
            out[i, j] = True
    return out


def ges_search(
    cov: np.ndarray,
    n_samples: int,
    penalty: float,
    *,
    forbidden: np.ndarray | None = None,
    required: np.ndarray | None = None,
    max_parents: int | None = None,
) -> GESResult:
    """Run GES on a covariance matrix with the BIC score.

    Parameters
    ----------
    cov : ndarray of shape (p, p)
        Sample covariance.
    n_samples : int
        Rows behind ``cov``.
    penalty : float
        BIC penalty discount ``c`` (``c = 2 * lambda``).
    forbidden, required : ndarray of bool, shape (p, p), optional
        ``forbidden[i, j]`` / ``required[i, j]`` for the edge ``i -> j`` (tiers already expanded
        into forbidden edges). Required edges must form a DAG.
    max_parents : int, optional
        Skip insertions that give a node more parents than this in the scored DAG.

    Returns
    -------
    GESResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=5000); b = a + rng.normal(size=5000); c = b + rng.normal(size=5000)
    >>> result = ges_search(np.cov([a, b, c]), 5000, 4.0)
    >>> result.undirected.astype(int)
    array([[0, 1, 0],
           [1, 0, 1],
           [0, 1, 0]])
    """
    p = cov.shape[0]
    score = _Scorer(cov, n_samples, penalty)
    f = np.zeros((p, p), dtype=bool) if forbidden is None else np.asarray(forbidden, dtype=bool)
    r = np.zeros((p, p), dtype=bool) if required is None else np.asarray(required, dtype=bool)
    has_knowledge = bool(f.any() or r.any())
    banned = _masks_from_matrix(f | r.T) if has_knowledge else None
    kept = _masks_from_matrix(r | r.T)  # required adjacencies, never deleted
    cap = p if max_parents is None else int(max_parents)

    start = _masks_from_matrix(r)
    pa, nb = dag_to_cpdag_bits(start)
    witness = _knowledge_witness(pa, nb, banned)
    if witness is None:  # the caller checks the knowledge; this is a safeguard
        raise ValueError("no DAG satisfies the required edges together with the forbidden ones")
    stats = {"inserts": 0, "deletes": 0, "knowledge_rejections": 0}

    def apply(new_pa: list[int], new_nb: list[int]) -> tuple[list[int], list[int], list[int]] | None:
        dag = extend_to_dag(new_pa, new_nb)
        if dag is None:  # cannot happen for a valid operator; be safe
            return None
        cpa, cnb = dag_to_cpdag_bits(dag)
        found = _knowledge_witness(cpa, cnb, banned) if has_knowledge else dag
        if found is None:
            stats["knowledge_rejections"] += 1
            return None
        return cpa, cnb, found

    # forward phase
    both_banned = [0] * p  # x with x -> y and y -> x banned: the adjacency is forbidden
    if has_knowledge:
        for y in range(p):
            both_banned[y] = sum(1 << x for x in _bits(banned[y]) if banned[x] >> y & 1)

    def inserts_into(y: int, adj: list[int]) -> list[tuple]:
        pay, nby = pa[y], nb[y]
        skip = adj[y] | (1 << y) | both_banned[y]
        found: list[tuple] = []
        for x in range(p):
            if skip >> x & 1:
                continue
            na = nby & adj[x]
            if not _is_clique(na, adj):
                continue
            base = pay | na
            room = cap - 1 - base.bit_count()
            if room < 0:
                continue
            for t in _cliques(nby & ~adj[x], na, adj, room):
                old = score(y, base | t)
                if old == -math.inf:
                    continue
                delta = score(y, base | t | (1 << x)) - old
                if delta > 0:
                    found.append((-delta, y, len(found), x, t, na))
        return found

    def deletes_at(y: int, adj: list[int]) -> list[tuple]:
        pay, nby = pa[y], nb[y]
        found: list[tuple] = []
        for x in _bits((pay | nby) & ~kept[y]):
            na = nby & adj[x]
            bit_x = 1 << x
            for c in _cliques(na, 0, adj, p):
                rest = (pay | c) & ~bit_x
                old = score(y, rest | bit_x)
                if old == -math.inf:
                    continue
                delta = score(y, rest) - old
                if delta > 0:
                    found.append((-delta, y, len(found), x, na & ~c, 0))
        return found

    # Candidates of node y depend only on pa[y], nb[y], adj[y], the adjacencies among nb[y] and
    # each x's adjacencies within nb[y]; an operator on the pair (a, b) changes adjacencies of a
    # and b only, so y's list is kept unless its own sets changed or nb[y] meets {a, b}.
    for phase in ("forward", "backward"):
        lists: list[list[tuple] | None] = [None] * p
        seen: list[tuple[int, int, int] | None] = [None] * p
        touched = 0
        while True:
            ch = _children(pa)
            adj = [pa[v] | ch[v] | nb[v] for v in range(p)]
            for y in range(p):
                key = (pa[y], nb[y], adj[y])
                if lists[y] is None or seen[y] != key or nb[y] & touched:
                    lists[y] = inserts_into(y, adj) if phase == "forward" else deletes_at(y, adj)
                    seen[y] = key
            candidates = sorted(c for found in lists for c in found)
            moved = False
            for _, y, _, x, sub, na in candidates:
                new_pa, new_nb = list(pa), list(nb)
                if phase == "forward":  # Insert(x, y, T = sub)
                    if _reaches(y, x, ch, nb, na | sub):
                        continue
                    new_pa[y] |= (1 << x) | sub
                    new_nb[y] &= ~sub
                    for v in _bits(sub):
                        new_nb[v] &= ~(1 << y)
                else:  # Delete(x, y, H = sub)
                    new_pa[y] &= ~(1 << x)
                    new_pa[x] &= ~(1 << y)
                    new_nb[y] &= ~(1 << x)
                    new_nb[x] &= ~(1 << y)
                    for v in _bits(sub):
                        new_nb[y] &= ~(1 << v)
                        new_nb[v] &= ~(1 << y)
                        new_pa[v] |= 1 << y
                        if new_nb[x] >> v & 1:
                            new_nb[x] &= ~(1 << v)
                            new_nb[v] &= ~(1 << x)
                            new_pa[v] |= 1 << x
                done = apply(new_pa, new_nb)
                if done is None:
                    continue
                pa, nb, witness = done
                stats["inserts" if phase == "forward" else "deletes"] += 1
                touched = (1 << x) | (1 << y)
                moved = True
                break
            if not moved:
                break

    stats["scores_computed"] = len(score.cache)
    stats["rejected_parent_sets"] = score.rejected
    if score.rejected:
        log.info("GES: %d near-singular parent sets rejected (score -inf)", score.rejected)
    directed = _to_matrix(pa, p)
    undirected = _to_matrix(nb, p)
    final = sum(score(v, witness[v]) for v in range(p))
    return GESResult(_to_matrix(witness, p), directed, undirected, float(final), stats)
