"""The inversion's model (private to :mod:`ililab.softmax`): the observable, the DAG model, identification.

The constants tune the whole inversion (:mod:`ililab.softmax` re-exports them); the functions
here are what the candidate search (:mod:`ililab._softmax_candidates`) and
:func:`ililab.softmax.invert_softmax` share. See :mod:`ililab.softmax` for the method.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ililab.errors import DataError
from ililab.metrics import adjacency_array_scores

#: b counts as identified when its weakest direction's standard error is below this fraction of ‖b‖.
IDENTIFICATION_LIMIT = 0.25
#: ... and when the selected graph has at least this many non-adjacent class pairs per unknown of B.
#: Choosing B can always zero about one entry per unknown, and more by chance: on dense planted
#: graphs (C = 10, 40 of 45 pairs adjacent) the selected graph shows 1.2-1.5 zero pairs per
#: unknown, on sparse ones (expected degree 2) 2.1-3.8 (measured; see docs/soft-labels.md).
OVERIDENTIFICATION = 2.0
#: ... and when the selected graph's model explains the centred logits: refused when its deviance
#: against the unrestricted centred covariance (:func:`model_misfit`, about chi-squared with df
#: degrees of freedom when graph and B are right) is above this many times df AND its excess over df
#: is worth more than one edge's BIC penalty (c log n: a smaller excess is diffuse, e.g. rounding
#: noise at n = 20,000, and no single missing edge could account for it). On the development sweep
#: draws (benchmarks/identification_dev.py, seeds 7 and 11: 59 claims) the right claims (F1 >= 0.9)
#: had at most 1.95 but for one (1 x 8 float16, n = 20,000: 2.64, excess 0.66 edges); the 3 wrong ones
#: 2.03, 2.94 and 9.97 with excess 19, 1.6 and 2.7 edges.
MISFIT_LIMIT = 2.0
#: ... and when one standard error of b (along its weakest direction) moves no partial correlation of
#: K + b bᵀ by more than this many of its sampling standard errors (``1/√n``; ``pcorr_shift`` in meta).
#: Same development claims: at most 2.34 when right; 7.5 in the wrong 2 x 20 degree-4 claim (F1 0.83).
PCORR_SHIFT_LIMIT = 4.0
#: ... and when no other completion the search scored (a candidate, an EM step, a row move) whose
#: graph differs from the selected one (skeleton agreement F1 below ``RIVAL_AGREEMENT``) comes within
#: this many edges' BIC penalty (``c/2 · log n`` each) of the selected completion's BIC (``rival_gap``
#: in meta): BIC cannot choose between two normalisations that close, so neither graph is pinned
#: down. Development sweep draws (seeds 3, 7, 11, 17 and 19; benchmarks/identification_dev.py): the
#: wrong claims of small chained blocks had rivals 0.06 (1 x 8, seed 19 #105, which no other check
#: refused), 0.18 and 0.33 edges below (1 x 10 and 1 x 8, also refused by the misfit); of the right
#: claims two had a rival within 1 (0.66 and 0.97, both 1 x 6 blocks), the next five 1.02-1.15.
RIVAL_LIMIT = 1.0
RIVAL_AGREEMENT = 0.9
#: ... and when the selected class graph has at most this many edges per column (mean degree 6): on
#: denser graphs a wrong normalisation can fit a wrong graph with every statistic above comfortable.
#: Only where a DAG is fitted (up to FAST_ABOVE columns). Sweep draws (benchmarks/softmax_sweep.py):
#: the right claims of the development seeds 3, 7, 11, 17 and 19 had at most 2.58 edges per column;
#: above 3 were 2 x 20 degree 4 (3.23, F1 0.83) and 1 x 16 degree 4 (3.06, F1 0.915), both refused by
#: the misfit too, and the one wrong claim of the fresh seeds 23, 29 and 31 (now development draws):
#: 2 x 50 float16, degree 4, chain 1, n = 2,000 (4.6, F1 0.88, seed 29 #109), which every other check
#: passed.
DENSE_LIMIT = 3.0
#: An entry of K + b bᵀ counts as zero when it is within this many standard errors of 0.
ZERO_THRESHOLD = 2.0
#: Refinement fits b over the entries within this many standard errors of 0.
REFINE_THRESHOLD = 2.5
#: At most this many node triples are tried (a seeded random subset beyond); with M blocks,
#: this many divided by 2M anchor sets of 2M + 1 nodes.
MAX_TRIPLES = 2000
#: At most this many distinct candidates per block are scored with GRaSP (fewer for many
#: classes, where counting zeros alone is already reliable: ``CANDIDATE_BUDGET // C``, at least 6).
MAX_CANDIDATES = 24
CANDIDATE_BUDGET = 240
#: At most this many structural-EM steps; EM stops when a step gains less BIC than EM_TOLERANCE.
EM_STEPS = 8
EM_TOLERANCE = 0.5
#: Row moves of B (see ``_row_search``) may cost up to ``COORDINATE_BUDGET / p²`` GRaSP fits
#: (400 at p = 10, 100 at p = 20, 12 at p = 56; a pass stops early without a gain), trying ``ROW_CANDIDATES`` values per row.
COORDINATE_BUDGET = 40000
#: With several blocks a row's candidate values come from M-subsets of at most this many partners.
ROW_PARTNERS = 16
ROW_CANDIDATES = 3
#: Candidate arrays of shape (R, p, p) are processed in batches of about this many entries (8 bytes each).
BATCH_ENTRIES = 2**23
#: Above this many columns (e.g. 2 x 527 AudioSet classes) candidates are ranked by their zeros alone,
#: without a structure search each: one search at that size costs as much as the learner's own run.
FAST_ABOVE = 200


# -- the observable ------------------------------------------------------------------------


def probability_floor(dtype: np.dtype | type) -> float:
    """The floor probabilities are clipped to before ``log``: the smallest normal number of ``dtype``.

    Examples
    --------
    >>> probability_floor(np.float32)  # float32's smallest normal number
    1.1754943508222875e-38
    """
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

    Examples
    --------
    >>> w, clipped = centred_logits(np.array([[0.2, 0.3, 0.5]]))
    >>> w.round(3).tolist(), clipped  # log p minus the row mean: the logits up to their shift
    ([[-0.441, -0.035, 0.476]], 0)
    """
    if floor is None:
        floor = probability_floor(probabilities.dtype)
    block = np.asarray(probabilities, dtype=np.float64)
    low = block < floor
    clipped = int(low.sum())
    logs = np.log(np.where(low, floor, block))
    return logs - logs.mean(axis=1, keepdims=True), clipped


def block_indicators(p: int, blocks: Sequence[np.ndarray]) -> np.ndarray:
    """``U`` of shape (p, M): column ``m`` is 1 on the columns of block ``m``.

    Examples
    --------
    >>> block_indicators(4, [np.array([0, 1]), np.array([2, 3])]).tolist()
    [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]
    """
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

    Examples
    --------
    >>> h = np.eye(3) - 1 / 3  # the centring of one block of 3 classes
    >>> k, s = centred_precision(h @ np.diag([1.0, 2.0, 3.0]) @ h, block_indicators(3, [np.arange(3)]))
    >>> bool(np.allclose(k @ s @ k, k)), bool(np.allclose(k.sum(axis=1), 0))  # a pseudo-inverse, null on 1
    (True, True)
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
    """``(K + B Bᵀ)⁻¹``: the logit covariance that ``B`` (a vector for one block) completes ``K`` to.

    Examples
    --------
    >>> sigma = np.diag([1.0, 2.0, 3.0])
    >>> u = block_indicators(3, [np.arange(3)])
    >>> omega = np.linalg.inv(sigma)
    >>> b = omega @ u[:, 0] / np.sqrt(u[:, 0] @ omega @ u[:, 0])  # the true normalisation vector
    >>> h = np.eye(3) - 1 / 3
    >>> k, _ = centred_precision(h @ sigma @ h, u)
    >>> complete_covariance(k, b).round(6).tolist()  # the logit covariance again
    [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0]]
    """
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

    Examples
    --------
    >>> u = block_indicators(3, [np.arange(3)])
    >>> h = np.eye(3) - 1 / 3
    >>> s = h @ np.diag([1.0, 2.0, 3.0]) @ h
    >>> a = observed_loglik(np.diag([1.0, 0.5, 1 / 3]), s, u, 100)
    >>> b = observed_loglik(np.linalg.inv(np.diag([1.0, 2.0, 3.0]) + 0.5), s, u, 100)  # another shift
    >>> bool(np.isclose(a, b))  # the data cannot tell the two apart
    True
    """
    ou = omega @ u
    a = np.linalg.inv(u.T @ ou)
    k = omega - ou @ a @ ou.T
    logdet_omega = np.linalg.slogdet(omega)[1]
    logdet_a = np.linalg.slogdet(a)[1]
    return float(n / 2 * (logdet_omega + logdet_a - np.sum(k * cov_w)))


def model_misfit(omega: np.ndarray, cov_w: np.ndarray, u: np.ndarray, n: int, edges: int) -> tuple[float, int]:
    """Deviance of a DAG model of the logits against the unrestricted Gaussian of the centred logits, and its degrees of freedom.

    ``2 (ℓ_sat - ℓ(Ω))`` on the centred subspace: ``ℓ(Ω)`` is :func:`observed_loglik`, ``ℓ_sat``
    its maximum over all centred covariances (at ``cov_w`` itself). The model has ``edges + p``
    parameters, the centred covariance ``(p - M)(p - M + 1) / 2`` free entries; with an
    identified normalisation the deviance is about chi-squared with the difference as degrees of
    freedom, so a deviance of many times that says the model leaves structure of the data unexplained.

    Parameters
    ----------
    omega : ndarray of shape (p, p)
        Precision of the DAG model of the logits.
    cov_w : ndarray of shape (p, p)
        Sample covariance of the centred logits (its ``M`` block directions are null).
    u : ndarray of shape (p, M)
        Block indicators (:func:`block_indicators`).
    n : int
        Rows of the data.
    edges : int
        Edges of the DAG model (its parameters are these and ``p`` variances).

    Returns
    -------
    deviance : float
        ``2 (ℓ_sat - ℓ(Ω))``; not finite when ``cov_w`` has a non-positive eigenvalue beyond the
        block directions (the caller then refuses the 'identified' claim).
    df : int
        Degrees of freedom, ``(p - M)(p - M + 1) / 2 - (edges + p)`` (may be 0 or less: no test).

    Examples
    --------
    >>> u = block_indicators(3, [np.arange(3)])
    >>> h = np.eye(3) - 1 / 3
    >>> s = h @ np.diag([1.0, 2.0, 3.0]) @ h
    >>> deviance, df = model_misfit(np.diag([1.0, 0.5, 1 / 3]), s, u, 100, 0)
    >>> round(deviance, 9) + 0.0, df  # the empty graph generated s exactly; 3 free entries, 3 parameters
    (0.0, 0)
    """
    p, m = u.shape
    vals = np.linalg.eigvalsh((cov_w + cov_w.T) / 2)[m:]  # the M zero eigenvalues are the block indicators'
    # observed_loglik's constant: log pdet K(Ω) = log det Ω - log det UᵀΩU + log det UᵀU
    saturated = n / 2 * (-np.sum(np.log(vals)) - (p - m) - np.linalg.slogdet(u.T @ u)[1])
    deviance = 2.0 * (saturated - observed_loglik(omega, cov_w, u, n))
    return float(deviance), (p - m) * (p - m + 1) // 2 - (edges + p)


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


#: A completion whose smallest eigenvalue is below this times its largest is numerically singular
#: (or indefinite): its Gaussian likelihood is not defined, so it is never scored as a candidate.
DEFINITE_TOLERANCE = 1e-10


def _definite(cov: np.ndarray) -> bool:
    """Whether ``cov`` is numerically positive definite (finite, eigenvalues above ``DEFINITE_TOLERANCE`` x the largest)."""
    if not np.all(np.isfinite(cov)):
        return False
    try:
        vals = np.linalg.eigvalsh((cov + cov.T) / 2)
    except np.linalg.LinAlgError:
        return False
    return bool(vals[0] > DEFINITE_TOLERANCE * max(vals[-1], 0.0))


def _fit(
    cov: np.ndarray, cov_w: np.ndarray, u: np.ndarray, n: int, penalty: float, seed: int,
    tried: list[tuple[float, np.ndarray]] | None = None,
) -> _Fit:
    """The observed-data BIC of completion ``cov`` under the DAG GRaSP finds on it.

    Each scored completion's ``(bic, dag)`` is appended to ``tried`` (when given): the rivals of
    the selected one (:func:`rival_gap`).
    """
    p = cov.shape[0]
    if not _definite(cov):  # a singular completion has no likelihood: it never wins a comparison
        # and its omega is never read; no pinv: it raises on NaN and never returns on inf
        return _Fit(-np.inf, cov, np.zeros((p, p), dtype=bool), np.full((p, p), np.nan))
    dag = _search_dag(cov, n, penalty, seed)
    omega = _dag_precision(cov, dag)
    sign_omega = np.linalg.slogdet(omega)[0]
    sign_a = np.linalg.slogdet(u.T @ omega @ u)[0]
    if sign_omega <= 0 or sign_a <= 0:  # the fitted precision is not definite either: no likelihood
        return _Fit(-np.inf, cov, dag, omega)
    bic = observed_loglik(omega, cov_w, u, n) - penalty / 2 * (int(dag.sum()) + dag.shape[0]) * np.log(n)
    if tried is not None:
        tried.append((float(bic), dag))
    return _Fit(bic, cov, dag, omega)


def misfit_fails(misfit: float, misfit_edges: float) -> bool:
    """Whether a claim with this misfit (deviance per degree of freedom, excess in edges) is refused: ``MISFIT_LIMIT``."""
    return misfit > MISFIT_LIMIT and misfit_edges > 1


def pcorr_shift_fails(shift: float) -> bool:
    """Whether a claim with this partial-correlation shift is refused (NaN is): ``PCORR_SHIFT_LIMIT``."""
    return not shift <= PCORR_SHIFT_LIMIT


def rival_fails(gap: float) -> bool:
    """Whether a claim whose best rival trails it by ``gap`` edges' penalty is refused: ``RIVAL_LIMIT``."""
    return gap < RIVAL_LIMIT


def density_fails(edges: int, columns: int) -> bool:
    """Whether a claim whose fitted DAG has ``edges`` over ``columns`` is refused: ``DENSE_LIMIT``.

    Only for a fitted DAG: above ``FAST_ABOVE`` columns the edges are a thresholded precision's support.
    """
    return edges > DENSE_LIMIT * columns


def rival_gap(best: _Fit, tried: Sequence[tuple[float, np.ndarray]], n: int, penalty: float) -> float | None:
    """By how many edges' BIC penalty the best rival of the selected completion trails it.

    A rival is a scored completion whose DAG's skeleton agrees with the selected one's by an F1
    below ``RIVAL_AGREEMENT``; one edge's penalty is ``penalty / 2 · log n``. None without rivals.
    Negative when a rival scored above the selected completion (an EM step gaining less than
    ``EM_TOLERANCE`` is recorded, not taken): ``RIVAL_LIMIT = -inf`` turns the check off.

    Examples
    --------
    >>> import numpy as np
    >>> chain = np.eye(3, k=1, dtype=bool)  # 0 -> 1 -> 2
    >>> best = _Fit(0.0, np.eye(3), chain, np.eye(3))
    >>> empty = np.zeros((3, 3), dtype=bool)  # shares no adjacency with the chain: a rival
    >>> rival_gap(best, [(0.0, chain), (-np.log(100), empty)], 100, 4.0)  # half of c/2 log n = 2 log 100
    0.5
    """
    unit = penalty / 2 * np.log(n)
    gaps = [
        (best.bic - bic) / unit for bic, dag in tried
        if np.isfinite(bic) and adjacency_array_scores(dag, best.dag).f1 < RIVAL_AGREEMENT
    ]
    return float(min(gaps)) if gaps else None


def _structural_em(
    best: _Fit, cov_w, u, n, penalty, seed, steps, tried: list[tuple[float, np.ndarray]] | None = None,
) -> tuple[_Fit, int]:
    done = 0
    for _ in range(steps):
        trial = _fit(_e_step(best.omega, cov_w, u), cov_w, u, n, penalty, seed, tried)
        if trial.bic <= best.bic + EM_TOLERANCE:
            break
        best, done = trial, done + 1
    return best, done


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


def _jacobian_gram(b: np.ndarray, i: np.ndarray, j: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``JᵀJ`` of the weighted Jacobian of ``B -> {B_i·B_j}`` over the pairs ``(i, j)``, without forming ``J``.

    ``J`` has one row per pair (half a million at 2 x 527 classes) and ``p·M`` columns, but only
    ``2M`` non-zeros per row; its Gram matrix is ``p·M`` square: the diagonal blocks are
    ``Σ_j w_ij b_j b_jᵀ``, the off-diagonal ones ``w_ij b_j b_iᵀ``.
    """
    p, m = b.shape
    w = np.zeros((p, p))
    w[i, j] = weight
    w = w + w.T
    gram = np.einsum("ij,ia,jb->iajb", w, b, b).transpose(0, 3, 2, 1)  # block (i, j) = w_ij b_j b_iᵀ
    diag = np.einsum("ij,ja,jb->iab", w, b, b)
    idx = np.arange(p)
    gram[idx, :, idx, :] = diag
    return gram.reshape(p * m, p * m)


def _identification(k: np.ndarray, b: np.ndarray, moral: np.ndarray, blocks: Sequence[np.ndarray], n: int) -> dict[str, Any]:
    """Whether B is pinned down by the zeros of the selected graph's precision, and how well.

    Combinatorial part (per block): the block's classes that are not adjacent in the moral
    graph must form a connected graph with an odd cycle (else, for one block, b can be scaled
    up on one side and down on the other without changing any zero). Statistical part: the
    Jacobian of ``B -> {B_i·B_j : i, j not adjacent}``, each row divided by the entry's standard
    error, must have full rank up to the rotations of B; its weakest direction's standard error
    relative to ``‖B‖`` is ``relative_se``, and one standard error along that direction must not
    move a partial correlation of ``K + BBᵀ`` by more than ``PCORR_SHIFT_LIMIT`` of its own
    sampling standard errors (``pcorr_shift``, :func:`_partial_correlation_shift`).
    """
    p, m = b.shape
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(k))):
        return {"identified": False, "reason": "the completed covariance is numerically singular (saturated or chained logits)"}
    nonadjacent = ~moral
    np.fill_diagonal(nonadjacent, False)
    report: dict[str, Any] = {"zero_pairs": int(nonadjacent.sum() // 2), "pairs": p * (p - 1) // 2}
    for cols in blocks:
        if len(cols) < 3:
            report.update(identified=False, reason="a softmax block has fewer than 3 classes")
            return report
        connected, odd = _connected_non_bipartite(nonadjacent[np.ix_(cols, cols)])
        if not (connected and odd):
            report.update(
                identified=False,
                reason="the classes not adjacent in the graph do not link every class of a block through "
                "an odd cycle (the moral graph is too dense)",
            )
            return report
    i, j = np.nonzero(np.triu(nonadjacent, 1))
    d = np.diag(k) + np.sum(b * b, axis=1)
    se = np.sqrt(d[i] * d[j] / n)
    free = p * m - m * (m - 1) // 2  # rotations of B leave BBᵀ unchanged
    gram = _jacobian_gram(b, i, j, 1.0 / (se * se))
    if not np.all(np.isfinite(gram)):
        report.update(identified=False, reason="the normalisation's standard error is not finite (saturated or chained logits)")
        return report
    vals, vecs = np.linalg.eigh(gram)
    sv = np.sqrt(np.clip(vals[::-1], 0.0, None))
    if i.size < free:
        report.update(identified=False, reason="too few classes are non-adjacent to determine the normalisation")
        return report
    report["overidentification"] = round(report["zero_pairs"] / free, 3)
    if report["zero_pairs"] < OVERIDENTIFICATION * free:
        report.update(
            identified=False,
            reason=f"only {report['zero_pairs']} class pairs are non-adjacent for {free} unknowns of the "
            f"normalisation (need {OVERIDENTIFICATION:g}x as many: the class graph is too dense or too small)",
        )
        return report
    relative = float(1.0 / max(sv[free - 1], 1e-300) / np.linalg.norm(b))
    report["relative_se"] = relative
    report["identified"] = bool(relative < IDENTIFICATION_LIMIT)
    if not report["identified"]:
        report["reason"] = f"the normalisation is weakly determined (standard error {relative:.2f} of its norm)"
        return report
    # the weakest direction is the (M(M-1)/2 + 1)-th smallest eigenvalue's (the first are rotations)
    rot = m * (m - 1) // 2
    shift = _partial_correlation_shift(k, b, vecs[:, rot].reshape(p, m) / max(sv[free - 1], 1e-300), n)
    if not np.isfinite(shift):  # a moved precision with no finite partial correlations: no evidence for the claim
        report.update(
            pcorr_shift=None,
            identified=False,
            reason="the partial-correlation shift of the normalisation is not finite (saturated or chained logits)",
        )
        return report
    report["pcorr_shift"] = shift
    if pcorr_shift_fails(shift):
        report.update(
            identified=False,
            reason=f"the normalisation's uncertainty outweighs the sampling noise of the graph (a change of one "
            f"standard error moves a partial correlation by {shift:.1f} of its standard errors, limit {PCORR_SHIFT_LIMIT:g})",
        )
    return report


def _partial_correlation_shift(k: np.ndarray, b: np.ndarray, step: np.ndarray, n: int) -> float:
    """How far ``B ± 2·step`` moves the partial correlations of ``K + BBᵀ``, per ``step``, in units of ``1/√n``.

    ``step`` is one standard error of ``B`` along its weakest direction. ``1/√n`` is about the
    sampling standard error of a partial correlation: the graph is read from these, so a ratio
    well above 1 means the normalisation, not the data, decides edges. Two standard errors each
    way (halved) rather than a derivative: chained logits make the map far from linear there.
    NaN when a moved matrix has no finite partial correlations (the caller then refuses the claim).
    """

    def pcorr(omega: np.ndarray) -> np.ndarray:
        d = np.sqrt(np.clip(np.diag(omega), 1e-300, None))
        return omega / np.outer(d, d)

    base = pcorr(k + b @ b.T)
    worst = 0.0
    for sign in (1.0, -1.0):
        moved = b + sign * 2.0 * step
        delta = float(np.max(np.abs(pcorr(k + moved @ moved.T) - base)))
        if not np.isfinite(delta):  # Python's max() would drop a NaN
            return float("nan")
        worst = max(worst, delta)
    return float(worst * np.sqrt(n) / 2.0)


