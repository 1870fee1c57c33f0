"""Undo the softmax normalisation: the logit covariance from probabilities.

Why
---
Softmax probabilities ``p = softmax(z)`` of a block of ``C`` classes carry the logits ``z``
only up to a shift per row: the centred log-ratio ``w = CLR(p) = H log p`` (``H = I - 11ᵀ/C``)
equals ``H z`` exactly. A column-wise transform of ``p`` keeps the shift, which acts as a
hidden common cause of every class, and the learned graph is 2-9 times too dense.

The identity used here
----------------------
With ``M`` softmax blocks, let ``U`` (``p × M``) hold the block indicators and ``P`` the
projection that centres each block. The observable covariance ``S_w = P Σ P`` has rank
``p - M``; its pseudo-inverse is exactly ::

    K = Ω - Ω U (Uᵀ Ω U)⁻¹ Uᵀ Ω          (Ω = Σ⁻¹, the precision of the logits)

and for one block ``K = Ω - b bᵀ`` with ``b = Ω1 / sqrt(1ᵀΩ1)``. Conversely, *every*
full-rank ``Σ`` with ``P Σ P = S_w`` is ``(K + B Bᵀ)⁻¹`` for some ``p × M`` matrix ``B``
(``Bᵀ U`` invertible): all of them fit the data equally well. What singles out the truth
is sparsity: Ω is sparse for a sparse class graph, and a wrong ``B`` makes it dense.

For one block each zero ``Ω_ij = 0`` gives ``K_ij = -b_i b_j``, so three mutually
non-adjacent classes (in the moral graph) give ``b_i² = -K_ij K_ik / K_jk``: ``b`` is
identified when the non-adjacency graph of the moral graph is connected and not bipartite,
and not at all when the moral graph is dense.

The estimator
-------------
Per block (on that block's own CLR covariance):

1. candidates for ``b`` from node triples (each assumed mutually non-adjacent), extended to
   the other classes by the median of three ratio estimates, ranked by the number of entries
   of ``K + b bᵀ`` that are zero within sampling noise, then refined by a robust per-node
   least-squares fit over those entries;
2. each distinct candidate is scored by the *observed-data* BIC — the Gaussian likelihood of
   the centred logits ``H z`` (not of the completed logits, which would favour large ``b``)
   under the DAG that GRaSP (:func:`ililab.search.grasp.grasp_search`, one restart) finds on
   the completed covariance, minus ``c/2 · (edges + p) · log n``; counting zeros alone picks a
   wrong ``b`` when a class has many parents, because a collider's moral clique is dense while
   its DAG is not;
3. structural EM from the best candidate: the E-step completes the covariance under the
   current DAG model, GRaSP re-learns the DAG on it, and a step is kept while the observed
   BIC rises.

With several blocks the per-block results are joined into one completion (each block's shift
regressed on its own centred logits, the residual shifts independent) and structural EM on
the joint graph then estimates how the shifts of different blocks relate.

Identification check: on the selected graph, the classes of each block that are not adjacent
in its moral graph must form a connected, non-bipartite graph, and the weakest direction of
``b`` must be well determined (its standard error below ``IDENTIFICATION_LIMIT`` times
``‖b‖``). Otherwise :attr:`SoftmaxInversion.identified` is False and the caller warns
(``transform="auto"`` falls back to a plain transform).

Probabilities of 0 (underflow) are clipped to the smallest normal number of their dtype
before taking logarithms (``np.finfo(dtype).tiny``: 1.2e-38 for float32, 2.2e-308 for
float64) and counted, so the caller can warn.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from ililab.errors import DataError
from ililab.scores.bic import DEFAULT_PENALTY

__all__ = [
    "SoftmaxInversion",
    "IDENTIFICATION_LIMIT",
    "probability_floor",
    "centred_logits",
    "block_indicators",
    "centred_precision",
    "observed_loglik",
    "complete_covariance",
    "invert_softmax",
    "impute_logits",
]

log = logging.getLogger(__name__)

#: b counts as identified when its weakest direction's standard error is below this fraction of ‖b‖.
IDENTIFICATION_LIMIT = 0.25
#: An entry of K + b bᵀ counts as zero when it is within this many standard errors of 0.
ZERO_THRESHOLD = 2.0
#: Refinement fits b over the entries within this many standard errors of 0.
REFINE_THRESHOLD = 2.5
#: At most this many node triples are tried per block (a seeded random subset beyond).
MAX_TRIPLES = 2000
#: At most this many distinct candidates per block are scored with GRaSP (fewer for many
#: classes, where counting zeros alone is already reliable: ``CANDIDATE_BUDGET // C``, at least 6).
MAX_CANDIDATES = 24
CANDIDATE_BUDGET = 240
#: At most this many structural-EM steps.
EM_STEPS = 8
#: Coordinate sweeps over b run while ``sweeps · C² < COORDINATE_BUDGET`` (GRaSP fits: C² per sweep).
COORDINATE_BUDGET = 400


# -- the observable ------------------------------------------------------------------------


def probability_floor(dtype: np.dtype | type) -> float:
    """The floor probabilities are clipped to before ``log``: the smallest normal number of ``dtype``."""
    dt = np.dtype(dtype)
    return float(np.finfo(dt if dt.kind == "f" else np.float64).tiny)


def centred_logits(probabilities: np.ndarray, floor: float | None = None) -> tuple[np.ndarray, int]:
    """``CLR(p) = log p - mean(log p)`` of one softmax block, row by row.

    Parameters
    ----------
    probabilities : ndarray of shape (n, C)
        One block of probabilities (rows need not sum to 1 exactly: CLR ignores row scale).
    floor : float, optional
        Values below it are clipped to it; default :func:`probability_floor` of the input dtype.

    Returns
    -------
    (ndarray of shape (n, C), int)
        The centred logits (float64) and how many values were clipped.
    """
    if floor is None:
        floor = probability_floor(probabilities.dtype)
    block = np.asarray(probabilities, dtype=np.float64)
    low = block < floor
    clipped = int(low.sum())
    logs = np.log(np.where(low, floor, block))
    return logs - logs.mean(axis=1, keepdims=True), clipped


def block_indicators(p: int, blocks: Sequence[np.ndarray]) -> np.ndarray:
    """``U`` of shape (p, M): column ``m`` is 1 on the columns of block ``m``."""
    u = np.zeros((p, len(blocks)))
    for m, cols in enumerate(blocks):
        u[np.asarray(cols, dtype=int), m] = 1.0
    return u


def _orthonormal(u: np.ndarray) -> np.ndarray:
    return u / np.sqrt(u.sum(axis=0))  # disjoint 0/1 columns


def centred_precision(cov_w: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pseudo-inverse ``K`` of the centred-logit covariance, and that covariance projected.

    ``cov_w`` is first projected onto the centred subspace (removing rounding and float32
    noise along the block indicators); ``K = (S + QQᵀ)⁻¹ - QQᵀ`` with ``Q`` the normalised
    indicators, which is exact because ``S Q = 0``.

    Raises
    ------
    DataError
        If the centred covariance has rank below ``p - M`` (a class constant within its block).
    """
    q = _orthonormal(u)
    proj = np.eye(cov_w.shape[0]) - q @ q.T
    s = proj @ np.asarray(cov_w, dtype=np.float64) @ proj
    s = (s + s.T) / 2
    full = s + q @ q.T
    eig = np.linalg.eigvalsh(full)
    if eig[0] <= 1e-12 * max(eig[-1], 1e-300):
        raise DataError(
            "the centred log-probabilities have a singular covariance (a class is a constant or "
            "an exact log-linear function of the others); drop that class or use --transform logit"
        )
    k = np.linalg.inv(full) - q @ q.T
    return (k + k.T) / 2, s


def complete_covariance(k: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(K + B Bᵀ)⁻¹``: the logit covariance that ``B`` (a vector for one block) completes ``K`` to."""
    b2 = b[:, None] if b.ndim == 1 else b
    omega = k + b2 @ b2.T
    cov = np.linalg.inv(omega)
    return (cov + cov.T) / 2


def observed_loglik(omega: np.ndarray, cov_w: np.ndarray, u: np.ndarray, n: int) -> float:
    """Log-likelihood of the centred logits (covariance ``cov_w``) under logit precision ``omega``.

    The centred logits are Gaussian on the centred subspace with precision
    ``K(Ω) = Ω - ΩU(UᵀΩU)⁻¹UᵀΩ``; up to a constant the log-likelihood is
    ``n/2 · (log det Ω - log det(UᵀΩU) - tr(K(Ω) S_w))``. Every ``Ω`` consistent with
    ``cov_w`` (e.g. ``K + bbᵀ`` for any ``b``) gives the same value: the data alone cannot
    tell completions apart; the sparsity of the model does.
    """
    ou = omega @ u
    a = np.linalg.inv(u.T @ ou)
    k = omega - ou @ a @ ou.T
    logdet_omega = np.linalg.slogdet(omega)[1]
    logdet_a = np.linalg.slogdet(a)[1]
    return float(n / 2 * (logdet_omega + logdet_a - np.sum(k * cov_w)))


def _e_step(omega: np.ndarray, cov_w: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Expected logit covariance given the centred logits, under the model with precision ``omega``."""
    a = np.linalg.inv(u.T @ omega @ u)
    t = np.eye(omega.shape[0]) - u @ a @ u.T @ omega
    cov = t @ cov_w @ t.T + u @ a @ u.T
    return (cov + cov.T) / 2


# -- DAG model -----------------------------------------------------------------------------


def _search_dag(cov: np.ndarray, n: int, penalty: float, seed: int) -> np.ndarray:
    from ililab.scores.bic import BICScore
    from ililab.search.grasp import grasp_search

    return grasp_search(BICScore(cov, n, penalty), restarts=1, seed=seed).dag


def _dag_precision(cov: np.ndarray, dag: np.ndarray) -> np.ndarray:
    """Precision of the linear-Gaussian DAG model fitted to ``cov`` by regressions."""
    p = cov.shape[0]
    w = np.zeros((p, p))
    d = np.empty(p)
    for j in range(p):
        pa = np.flatnonzero(dag[:, j])
        if pa.size:
            beta = np.linalg.solve(cov[np.ix_(pa, pa)], cov[pa, j])
            w[pa, j] = beta
            d[j] = cov[j, j] - cov[pa, j] @ beta
        else:
            d[j] = cov[j, j]
    d = np.maximum(d, 1e-12 * np.diag(cov))
    iw = np.eye(p) - w
    return (iw / d) @ iw.T


@dataclass
class _Fit:
    bic: float
    cov: np.ndarray
    dag: np.ndarray
    omega: np.ndarray


def _fit(cov: np.ndarray, cov_w: np.ndarray, u: np.ndarray, n: int, penalty: float, seed: int) -> _Fit:
    dag = _search_dag(cov, n, penalty, seed)
    omega = _dag_precision(cov, dag)
    bic = observed_loglik(omega, cov_w, u, n) - penalty / 2 * (int(dag.sum()) + dag.shape[0]) * np.log(n)
    return _Fit(bic, cov, dag, omega)


def _structural_em(best: _Fit, cov_w, u, n, penalty, seed, steps) -> tuple[_Fit, int]:
    done = 0
    for _ in range(steps):
        trial = _fit(_e_step(best.omega, cov_w, u), cov_w, u, n, penalty, seed)
        if trial.bic <= best.bic + 1e-9 * abs(best.bic):
            break
        best, done = trial, done + 1
    return best, done


# -- candidates for b (one block) ----------------------------------------------------------


def _zero_counts(k: np.ndarray, bs: np.ndarray, n: int, threshold: float) -> np.ndarray:
    d = np.diag(k)[None, :] + bs * bs
    resid = np.abs(k[None] + bs[:, :, None] * bs[:, None, :])
    within = resid * resid * n < threshold**2 * d[:, :, None] * d[:, None, :]
    c = k.shape[0]
    within[:, np.arange(c), np.arange(c)] = False
    return within.sum(axis=(1, 2)) // 2


def _triple_candidates(k: np.ndarray, rng: np.random.Generator, max_triples: int) -> np.ndarray:
    c = k.shape[0]
    total = c * (c - 1) * (c - 2) // 6
    if total <= max_triples:
        triples = np.array(list(combinations(range(c), 3)), dtype=int)
    else:
        draws = np.sort(np.argpartition(rng.random((2 * max_triples, c)), 3, axis=1)[:, :3], axis=1)
        triples = np.unique(draws, axis=0)[:max_triples]
    i, j, m = triples.T
    with np.errstate(divide="ignore", invalid="ignore"):
        square = -k[i, j] * k[i, m] / k[j, m]
    ok = np.isfinite(square) & (square > 0)
    i, j, m = i[ok], j[ok], m[ok]
    if i.size == 0:
        return np.zeros((0, c))
    bi = np.sqrt(square[ok])
    bj = -k[i, j] / bi
    bm = -k[i, m] / bi
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.stack([-k[i] / bi[:, None], -k[j] / bj[:, None], -k[m] / bm[:, None]])
    bs = np.median(ratios, axis=0)
    rows = np.arange(i.size)
    bs[rows, i], bs[rows, j], bs[rows, m] = bi, bj, bm
    return bs[np.all(np.isfinite(bs), axis=1)]


def _refine(k: np.ndarray, bs: np.ndarray, n: int, iterations: int = 30) -> np.ndarray:
    """Robust per-node least squares over the entries of ``K + bbᵀ`` within noise of 0 (all candidates at once)."""
    c = k.shape[0]
    diag = np.arange(c)
    bs = bs.copy()
    for _ in range(iterations):
        d = np.diag(k)[None, :] + bs * bs
        var = d[:, :, None] * d[:, None, :] / n
        resid = k[None] + bs[:, :, None] * bs[:, None, :]
        weight = np.where(resid * resid < REFINE_THRESHOLD**2 * var, 1.0 / var, 0.0)
        weight[:, diag, diag] = 0.0
        num = -np.einsum("rij,ij,rj->ri", weight, k, bs)
        den = np.einsum("rij,rj->ri", weight, bs * bs)
        new = np.where(den > 0, num / np.where(den > 0, den, 1.0), bs)
        new = 0.5 * (bs + new)
        if np.max(np.abs(new - bs)) < 1e-10:
            bs = new
            break
        bs = new
    return bs


def _canonical(b: np.ndarray) -> np.ndarray:
    return b if b[np.argmax(np.abs(b))] >= 0 else -b


def _distinct(bs: np.ndarray, limit: int, tol: float = 1e-3) -> list[np.ndarray]:
    kept: list[np.ndarray] = []
    for b in bs:
        b = _canonical(b)
        if not np.all(np.isfinite(b)) or not abs(b.sum()) > 1e-12:
            continue
        if any(np.max(np.abs(b - q)) < tol * max(1.0, np.max(np.abs(q))) for q in kept):
            continue
        kept.append(b)
        if len(kept) >= limit:
            break
    return kept


@dataclass
class _BlockResult:
    b: np.ndarray
    fit: _Fit
    candidates: int
    em_steps: int
    bic_margin: float | None


def _invert_block(cov_w: np.ndarray, n: int, penalty: float, seed: int, max_candidates: int) -> _BlockResult:
    c = cov_w.shape[0]
    u = np.ones((c, 1))
    k, s = centred_precision(cov_w, u)
    max_candidates = max(1, min(max_candidates, max(6, CANDIDATE_BUDGET // c)))
    rng = np.random.default_rng(seed)
    raw = _triple_candidates(k, rng, MAX_TRIPLES) if c >= 3 else np.zeros((0, c))
    if raw.shape[0]:
        order = np.argsort(-_zero_counts(k, raw, n, ZERO_THRESHOLD), kind="stable")
        top = raw[order[: 3 * max_candidates]]
        candidates = _distinct(np.vstack([_refine(k, top, n), top]), max_candidates)
    else:
        candidates = []
    if not candidates:  # nothing identifies b: any completion fits; take the symmetric one
        candidates = [np.full(c, np.sqrt(max(np.mean(np.diag(k)), 1e-12) / c))]
    fits = sorted(
        (_fit(complete_covariance(k, b), s, u, n, penalty, seed) for b in candidates), key=lambda f: -f.bic
    )
    margin = fits[0].bic - fits[1].bic if len(fits) > 1 else None
    best, steps = _structural_em(fits[0], s, u, n, penalty, seed, EM_STEPS)
    budget = max(0, COORDINATE_BUDGET // (c * c) - 1)
    if budget and c >= 3:
        best, moved = _coordinate_search(k, s, u, n, best, penalty, seed, budget)
        if moved:
            best, more = _structural_em(best, s, u, n, penalty, seed, EM_STEPS)
            steps += more
    return _BlockResult(_b_vector(best.cov, u), best, len(candidates), steps, margin)


def _coordinate_search(k, s, u, n, best: _Fit, penalty, seed, sweeps) -> tuple[_Fit, bool]:
    """Move one entry of b at a time to a value a non-adjacent partner implies (``-K_la / b_a``), keeping BIC gains.

    A wrong candidate is often right for most classes; the classes it gets wrong are
    repaired by the classes it gets right.
    """
    c = k.shape[0]
    b = _b_vector(best.cov, u)
    moved = False
    for _ in range(sweeps):
        improved = False
        for node in range(c):
            others = np.arange(c) != node
            with np.errstate(divide="ignore", invalid="ignore"):
                values = -k[node, others] / b[others]
            values = np.unique(np.round(values[np.isfinite(values)], 4))
            for value in values:
                trial_b = b.copy()
                trial_b[node] = value
                if not abs(trial_b.sum()) > 1e-12:
                    continue
                trial = _fit(complete_covariance(k, trial_b), s, u, n, penalty, seed)
                if trial.bic > best.bic + 1e-9 * abs(best.bic):
                    best, b, improved, moved = trial, trial_b, True, True
        if not improved:
            break
    return best, moved


def _b_vector(cov: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``B = ΩU(UᵀΩU)^(-1/2)`` of a completed covariance (a vector for one block)."""
    omega = np.linalg.inv(cov)
    ou = omega @ u
    g = u.T @ ou
    vals, vecs = np.linalg.eigh((g + g.T) / 2)
    b = ou @ (vecs / np.sqrt(vals)) @ vecs.T
    return _canonical(b[:, 0]) if b.shape[1] == 1 else b


# -- identification ------------------------------------------------------------------------


def _moral(dag: np.ndarray) -> np.ndarray:
    a = dag.astype(bool)
    moral = a | a.T
    for j in range(a.shape[0]):
        pa = np.flatnonzero(a[:, j])
        moral[np.ix_(pa, pa)] = True
    np.fill_diagonal(moral, False)
    return moral


def _connected_non_bipartite(adjacent: np.ndarray) -> tuple[bool, bool]:
    """(connected, has an odd cycle) of the graph with adjacency ``adjacent``."""
    c = adjacent.shape[0]
    colour = -np.ones(c, dtype=int)
    colour[0] = 0
    stack, odd = [0], False
    while stack:
        v = stack.pop()
        for w in np.flatnonzero(adjacent[v]):
            if colour[w] < 0:
                colour[w] = 1 - colour[v]
                stack.append(w)
            elif colour[w] == colour[v]:
                odd = True
    return bool((colour >= 0).all()), odd


def _identification(k: np.ndarray, b: np.ndarray, dag: np.ndarray, n: int) -> dict[str, Any]:
    """Whether ``b`` is pinned down by the zeros of the selected graph's precision, and how well."""
    c = k.shape[0]
    nonadjacent = ~_moral(dag)
    np.fill_diagonal(nonadjacent, False)
    report: dict[str, Any] = {"zero_pairs": int(nonadjacent.sum() // 2), "pairs": c * (c - 1) // 2}
    if c < 3:
        report.update(identified=False, reason="fewer than 3 classes")
        return report
    connected, odd = _connected_non_bipartite(nonadjacent)
    report.update(connected=connected, odd_cycle=odd)
    if not (connected and odd):
        report.update(
            identified=False,
            reason="the classes not adjacent in the graph do not link all classes through an odd cycle "
            "(the moral graph is too dense)",
        )
        return report
    i, j = np.nonzero(np.triu(nonadjacent, 1))
    d = np.diag(k) + b * b
    se = np.sqrt(d[i] * d[j] / n)
    jac = np.zeros((i.size, c))
    rows = np.arange(i.size)
    jac[rows, i] = b[j] / se
    jac[rows, j] = b[i] / se
    smallest = np.linalg.svd(jac, compute_uv=False)[-1]
    relative = float(1.0 / max(smallest, 1e-300) / np.linalg.norm(b))
    report["relative_se"] = relative
    report["identified"] = bool(relative < IDENTIFICATION_LIMIT)
    if not report["identified"]:
        report["reason"] = f"b is weakly determined (standard error {relative:.2f} of its norm)"
    return report


# -- the whole inversion -------------------------------------------------------------------


@dataclass(frozen=True)
class SoftmaxInversion:
    """The estimated logit covariance and how it was found.

    Attributes
    ----------
    covariance : ndarray of shape (p, p)
        Full-rank estimate of the covariance of the logits (every column, in input order);
        ``P · covariance · P`` equals the centred-logit covariance it came from.
    identified : bool
        Whether every block's normalisation vector passed the identification check.
    info : dict
        Diagnostics (JSON-serialisable): per block the candidates scored, the BIC margin of
        the best over the runner-up, EM steps, the identification report; the joint EM steps.
    """

    covariance: np.ndarray
    identified: bool
    info: dict[str, Any] = field(default_factory=dict)

    def transfer(self, cov_w: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(T, A)`` with ``covariance = T S_w Tᵀ + U A Uᵀ``: imputed logits are ``T w`` plus a shift of covariance ``A``."""
        omega = np.linalg.inv(self.covariance)
        a = np.linalg.inv(u.T @ omega @ u)
        t = np.eye(omega.shape[0]) - u @ a @ u.T @ omega
        return t, (a + a.T) / 2


def _join_blocks(cov_w: np.ndarray, u: np.ndarray, blocks: Sequence[np.ndarray], block_covs: Sequence[np.ndarray]):
    """A joint completion from per-block ones: each block's shift = regression on its own centred logits + independent noise."""
    p = cov_w.shape[0]
    t = np.eye(p)
    var = np.empty(len(blocks))
    for m, (cols, cov_m) in enumerate(zip(blocks, block_covs)):
        c = len(cols)
        h = np.eye(c) - 1.0 / c
        s_mm = h @ cov_m @ h
        cross = h @ cov_m @ np.ones(c) / c  # Cov(w_m, shift_m)
        coef = np.linalg.pinv(s_mm) @ cross
        var[m] = max(float(np.ones(c) @ cov_m @ np.ones(c) / c**2 - cross @ coef), 1e-12)
        t[np.ix_(cols, cols)] += np.outer(np.ones(c), coef)
    cov = t @ cov_w @ t.T + u @ np.diag(var) @ u.T
    return (cov + cov.T) / 2


def invert_softmax(
    cov_w: np.ndarray,
    n: int,
    blocks: Sequence[np.ndarray],
    *,
    penalty: float = DEFAULT_PENALTY,
    seed: int = 0,
    max_candidates: int = MAX_CANDIDATES,
) -> SoftmaxInversion:
    """Estimate the logit covariance from the covariance of centred logits (CLR of probabilities).

    Parameters
    ----------
    cov_w : ndarray of shape (p, p)
        Covariance of the data with each softmax block replaced by its centred log-ratio
        (:func:`centred_logits`); other columns as they are.
    n : int
        Number of rows behind ``cov_w``.
    blocks : sequence of int arrays
        Column indices of each softmax block (at least 2 columns each, disjoint).
    penalty : float
        BIC penalty discount ``c`` used to score candidate graphs (ililab's default 4).
    seed : int
        Seed of the triple subset and of GRaSP's starting orders.
    max_candidates : int
        Distinct candidate vectors scored with GRaSP per block.

    Returns
    -------
    SoftmaxInversion

    Examples
    --------
    >>> from ililab.simulate import simulate_soft_labels
    >>> sim = simulate_soft_labels(8, 4000, modalities=("audio",), seed=1)
    >>> w, _ = centred_logits(sim.probabilities)
    >>> result = invert_softmax(np.cov(w, rowvar=False), 4000, [np.arange(8)])
    >>> result.covariance.shape, result.identified
    ((8, 8), True)
    """
    cov_w = np.asarray(cov_w, dtype=np.float64)
    p = cov_w.shape[0]
    blocks = [np.asarray(b, dtype=int) for b in blocks]
    if not blocks or any(b.size < 2 for b in blocks):
        raise ValueError("every softmax block needs at least 2 columns")
    u = block_indicators(p, blocks)
    if (u.sum(axis=1) > 1).any():
        raise ValueError("softmax blocks overlap")
    _, s = centred_precision(cov_w, u)
    results = []
    for cols in blocks:
        results.append(_invert_block(s[np.ix_(cols, cols)], n, penalty, seed, max_candidates))
    info: dict[str, Any] = {"penalty": penalty, "seed": seed, "blocks": []}
    identified = True
    for cols, res in zip(blocks, results):
        k_m, _ = centred_precision(s[np.ix_(cols, cols)], np.ones((len(cols), 1)))
        report = _identification(k_m, res.b, res.fit.dag, n)
        identified = identified and report["identified"]
        info["blocks"].append(
            {
                "classes": len(cols),
                "candidates": res.candidates,
                "bic_margin": None if res.bic_margin is None else round(float(res.bic_margin), 3),
                "em_steps": res.em_steps,
                "edges": int(res.fit.dag.sum()),
                **{k: (round(v, 6) if isinstance(v, float) else v) for k, v in report.items()},
            }
        )
    if len(blocks) == 1 and blocks[0].size == p:
        cov = results[0].fit.cov
    else:
        joint = _join_blocks(s, u, blocks, [r.fit.cov for r in results])
        start = _fit(joint, s, u, n, penalty, seed)
        best, steps = _structural_em(start, s, u, n, penalty, seed, EM_STEPS)
        info["joint_em_steps"] = steps
        cov = best.cov
    info["identified"] = identified
    return SoftmaxInversion(cov, identified, info)


def impute_logits(w: np.ndarray, result: SoftmaxInversion, cov_w: np.ndarray, blocks: Sequence[np.ndarray]) -> np.ndarray:
    """Rows of logits consistent with the data whose sample covariance is ``result.covariance`` exactly.

    Each row is ``T w`` (the expected logits given the row's centred logits under the fitted
    model) plus a per-block shift orthogonal, within the sample, to every centred-logit column,
    with covariance ``A`` — so the centred part of each row is the data itself. Used by
    learners and resampling code that need rows rather than a covariance.
    """
    n, p = w.shape
    u = block_indicators(p, blocks)
    _, s = centred_precision(cov_w, u)
    t, a = result.transfer(s, u)
    centred = w - w.mean(axis=0)
    base = np.cos(np.outer(np.arange(n) + 0.5, np.arange(1, u.shape[1] + 1)) * np.pi / n)
    q, _ = np.linalg.qr(np.hstack([centred, base]))
    free = q[:, -u.shape[1]:]
    free -= free.mean(axis=0)
    free, _ = np.linalg.qr(free)
    shift = free * np.sqrt(n - 1) @ np.linalg.cholesky(a).T
    return centred @ t.T + shift @ u.T
