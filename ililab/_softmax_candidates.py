"""Candidates for the normalisation B and their search (private to :mod:`ililab.softmax`).

Candidates come from anchor sets of classes assumed mutually non-adjacent, are ranked by the
zeros they make in ``K + B Bᵀ`` and refined; the best few are scored by the observed-data BIC
of their GRaSP graph (:func:`_search_completion`), then rows of B are moved one at a time
while the BIC rises (:func:`_row_search`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ililab import _softmax_model as model  # tuning constants are read from there at call time
from ililab._softmax_model import (
    _Fit,
    _fit,
    _structural_em,
    complete_covariance,
    rival_gap,
)
from ililab.errors import DataError

# -- candidates for B ----------------------------------------------------------------------
#
# Candidates are (R, p, M) arrays: R candidate matrices B (a column per softmax block). For one
# block this is the vector b; for M blocks B is defined up to a rotation (only BBᵀ matters).


def _gram(bs: np.ndarray) -> np.ndarray:
    return np.einsum("rim,rjm->rij", bs, bs)


def _entry_variance(k: np.ndarray, bs: np.ndarray, n: int) -> np.ndarray:
    """Sampling variance of each entry of the precision ``K + BBᵀ`` (``Ω_ii Ω_jj / n``), per candidate."""
    d = np.diag(k)[None, :] + np.einsum("rim,rim->ri", bs, bs)
    return d[:, :, None] * d[:, None, :] / n


def _zero_counts(k: np.ndarray, bs: np.ndarray, n: int, threshold: float) -> np.ndarray:
    p = k.shape[0]
    batch = max(1, model.BATCH_ENTRIES // (p * p))  # (R, p, p) temporaries: batched to bound memory
    out = np.empty(bs.shape[0], dtype=np.int64)
    for start in range(0, bs.shape[0], batch):
        part = bs[start : start + batch]
        resid = k[None] + _gram(part)
        within = resid * resid < threshold**2 * _entry_variance(k, part, n)
        within[:, np.arange(p), np.arange(p)] = False
        out[start : start + batch] = within.sum(axis=(1, 2)) // 2
    return out


def _anchor_sets(p: int, size: int, rng: np.random.Generator, max_sets: int) -> np.ndarray:
    total = 1
    for t in range(size):
        total = total * (p - t) // (t + 1)
    if total <= max_sets:
        return np.array(list(combinations(range(p), size)), dtype=int).reshape(-1, size)
    draws = np.sort(np.argpartition(rng.random((2 * max_sets, p)), size, axis=1)[:, :size], axis=1)
    return np.unique(draws, axis=0)[:max_sets]


def _low_rank_with_free_diagonal(g: np.ndarray, m: int, iterations: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """Rank-``m`` factors ``F`` (R, s, m) with ``F Fᵀ`` matching ``g`` off the diagonal, and a validity mask."""
    s = g.shape[1]
    idx = np.arange(s)
    if m == 1:  # closed form for triples: f_0² = g_01 g_02 / g_12, f_1 = g_01 / f_0, f_2 = g_02 / f_0
        with np.errstate(divide="ignore", invalid="ignore"):
            square = g[:, 0, 1] * g[:, 0, 2] / g[:, 1, 2]
        ok = np.isfinite(square) & (square > 0)
        f0 = np.sqrt(np.where(ok, square, 1.0))
        f = np.stack([f0, g[:, 0, 1] / f0, g[:, 0, 2] / f0], axis=1)[:, :, None]
        return f, ok & np.all(np.isfinite(f[:, :, 0]), axis=1)
    work = g.copy()
    work[:, idx, idx] = np.max(np.abs(np.where(np.eye(s, dtype=bool), 0.0, g)), axis=2)
    for _ in range(iterations):
        vals, vecs = np.linalg.eigh(work)
        top = np.clip(vals[:, -m:], 0.0, None)
        low = np.einsum("rik,rk,rjk->rij", vecs[:, :, -m:], top, vecs[:, :, -m:])
        work[:, idx, idx] = low[:, idx, idx]
    vals, vecs = np.linalg.eigh(work)
    ok = np.all(vals[:, -m:] > 0, axis=1)
    f = vecs[:, :, -m:] * np.sqrt(np.clip(vals[:, None, -m:], 0.0, None))
    return f, ok


def _anchor_candidates(k: np.ndarray, m: int, rng: np.random.Generator, max_sets: int) -> np.ndarray:
    """Candidates for B from sets of ``2M + 1`` nodes, each assumed mutually non-adjacent.

    On such a set the off-diagonal of ``-K`` is ``BBᵀ``: a rank-``M`` matrix with free diagonal,
    which gives the set's rows of B. Every other node's row solves ``K_la = -B_l·B_a`` on each
    ``M``-subset of the anchors; the median over subsets tolerates anchors adjacent to ``l``
    (for one block: the median of three ratios ``-K_la / b_a``).
    """
    p = k.shape[0]
    size = 2 * m + 1
    if p < size:
        return np.zeros((0, p, m))
    sets = _anchor_sets(p, size, rng, max_sets)
    g = -k[sets[:, :, None], sets[:, None, :]]
    f, ok = _low_rank_with_free_diagonal(g, m)
    sets, f = sets[ok], f[ok]
    if not len(sets):
        return np.zeros((0, p, m))
    solutions = []
    for subset in combinations(range(size), m):
        a = f[:, list(subset), :]  # (R, m, m)
        rhs = -k[sets[:, list(subset)], :]  # (R, m, p)
        with np.errstate(all="ignore"):
            det = np.linalg.det(a)
            good = np.abs(det) > 1e-12
            sol = np.full((len(sets), m, p), np.nan)
            if good.any():
                sol[good] = np.linalg.solve(a[good], rhs[good])
        solutions.append(np.swapaxes(sol, 1, 2))  # (R, p, m)
    stacked = np.stack(solutions)
    bs = np.median(np.where(np.isfinite(stacked), stacked, 0.0), axis=0)  # a singular subset (rare) counts as 0
    rows = np.arange(len(sets))[:, None]
    bs[rows, sets, :] = f
    return bs[np.all(np.isfinite(bs), axis=(1, 2))]


def _refine(k: np.ndarray, bs: np.ndarray, n: int, iterations: int = 30) -> np.ndarray:
    """Robust per-node least squares over the entries of ``K + BBᵀ`` within noise of 0 (candidates in batches)."""
    batch = max(1, model.BATCH_ENTRIES // (k.shape[0] ** 2))
    if bs.shape[0] > batch:
        return np.concatenate([_refine(k, bs[s : s + batch], n, iterations) for s in range(0, bs.shape[0], batch)])
    p, m = k.shape[0], bs.shape[2]
    diag = np.arange(p)
    bs = bs.copy()
    eye = np.eye(m)
    for _ in range(iterations):
        var = _entry_variance(k, bs, n)
        resid = k[None] + _gram(bs)
        weight = np.where(resid * resid < model.REFINE_THRESHOLD**2 * var, 1.0 / var, 0.0)
        weight[:, diag, diag] = 0.0
        outer = (bs[:, :, :, None] * bs[:, :, None, :]).reshape(bs.shape[0], p, m * m)
        lhs = (weight @ outer).reshape(bs.shape[0], p, m, m)
        rhs = -((weight * k[None]) @ bs)
        scale = np.trace(lhs, axis1=2, axis2=3) / m
        valid = scale > 0  # a row with no entry within noise of 0 keeps its value
        lhs = lhs + (1e-8 * scale + ~valid)[..., None, None] * eye
        with np.errstate(all="ignore"):
            new = np.linalg.solve(lhs, rhs[..., None])[..., 0]
        new = np.where(valid[..., None] & np.isfinite(new), new, bs)
        new = 0.5 * (bs + new)
        if np.max(np.abs(new - bs)) < 1e-10:
            return new
        bs = new
    return bs


def _distinct(bs: np.ndarray, u: np.ndarray, limit: int, tol: float = 1e-3) -> list[np.ndarray]:
    """Up to ``limit`` candidates whose ``BBᵀ`` differ, each with ``UᵀB`` invertible."""
    kept: list[np.ndarray] = []
    grams: list[np.ndarray] = []
    for b in bs:
        if not np.all(np.isfinite(b)) or abs(np.linalg.det(u.T @ b)) < 1e-12:
            continue
        gram = b @ b.T
        scale = max(1.0, float(np.max(np.abs(gram))))
        if any(np.max(np.abs(gram - q)) < tol * scale for q in grams):
            continue
        kept.append(b)
        grams.append(gram)
        if len(kept) >= limit:
            break
    return kept


def _b_matrix(cov: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``B = ΩU(UᵀΩU)^(-1/2)`` of a completed covariance (p × M; for one block the sign makes its largest entry positive)."""
    omega = np.linalg.inv(cov)
    ou = omega @ u
    g = u.T @ ou
    vals, vecs = np.linalg.eigh((g + g.T) / 2)
    # UᵀΩU is positive definite for a valid completion; a near-singular one (saturated data)
    # can come out with a tiny negative eigenvalue: keep B finite, the check then rejects it
    vals = np.maximum(vals, 1e-300 + 1e-12 * max(float(vals[-1]), 0.0))
    b = ou @ (vecs / np.sqrt(vals)) @ vecs.T
    if b.shape[1] == 1 and b[np.argmax(np.abs(b[:, 0])), 0] < 0:
        b = -b
    return b


@dataclass
class _Search:
    fit: _Fit
    candidates: int
    em_steps: int
    coordinate_moves: bool
    bic_margin: float | None
    moral: np.ndarray | None = None  # the fast path's support of the precision, standing in for a moral graph
    rival_gap: float | None = None  # see _softmax_model.rival_gap; None without rivals or on the fast path


def _search_completion(k, s, u, n, penalty, seed, max_candidates) -> _Search:
    """Candidates, their observed-data BIC under GRaSP's DAG, structural EM (and coordinate moves for one block)."""
    p, m = u.shape
    max_candidates = max(1, min(max_candidates, max(6, model.CANDIDATE_BUDGET // p)))
    rng = np.random.default_rng(seed)
    raw = _anchor_candidates(k, m, rng, model.MAX_TRIPLES if m == 1 else model.MAX_TRIPLES // (2 * m))
    if raw.shape[0]:
        order = np.argsort(-_zero_counts(k, raw, n, model.ZERO_THRESHOLD), kind="stable")
        top = raw[order[: 3 * max_candidates]]
        candidates = _distinct(np.concatenate([_refine(k, top, n), top]), u, max_candidates)
    else:
        candidates = []
    if not candidates:  # nothing identifies B: every completion fits; take the symmetric one
        candidates = [u * np.sqrt(max(float(np.mean(np.diag(k))), 1e-12) / p)]
    if p > model.FAST_ABOVE:
        counts = _zero_counts(k, np.stack(candidates), n, model.ZERO_THRESHOLD)
        best_b = candidates[int(np.argmax(counts))]
        cov = complete_covariance(k, best_b)
        omega = k + best_b @ best_b.T
        d = np.diag(omega)
        support = omega * omega >= model.ZERO_THRESHOLD**2 * np.outer(d, d) / n
        np.fill_diagonal(support, False)
        return _Search(_Fit(float("nan"), cov, np.triu(support, 1), omega), len(candidates), 0, False, None, support)
    tried: list[tuple[float, np.ndarray]] = []  # every scored completion: the rivals of the selected one
    fits = sorted((_fit(complete_covariance(k, b), s, u, n, penalty, seed, tried) for b in candidates), key=lambda f: -f.bic)
    if not np.isfinite(fits[0].bic):
        raise DataError("every completion of the centred-logit covariance is numerically singular")
    margin = float(fits[0].bic - fits[1].bic) if len(fits) > 1 and np.isfinite(fits[1].bic) else None
    best, steps = _structural_em(fits[0], s, u, n, penalty, seed, model.EM_STEPS, tried)
    moved = False
    budget = model.COORDINATE_BUDGET // (p * p)
    if budget and p >= 2 * m + 1:
        best, moved = _row_search(k, s, u, n, best, penalty, seed, budget, tried=tried)
        if moved:
            best, more = _structural_em(best, s, u, n, penalty, seed, model.EM_STEPS, tried)
            steps += more
    return _Search(best, len(candidates), steps, moved, margin, rival_gap=rival_gap(best, tried, n, penalty))


def _row_candidates(k: np.ndarray, b: np.ndarray, node: int, n: int, u: np.ndarray, per_row: int):
    """Values for row ``B_node`` that solve ``K_la = -B_l·B_a`` exactly on ``M`` partners ``a``.

    Returns the ``per_row`` distinct values making the most entries of the row zero within
    noise (most first), and how many more zeros the best of them gives than the current row.
    """
    p, m = b.shape
    others = np.array([a for a in range(p) if a != node])
    if m > 1 and others.size > model.ROW_PARTNERS:  # partners with the largest rows solve best-conditioned systems
        norms = np.sum(b[others] ** 2, axis=1)
        others = np.sort(others[np.argsort(-norms, kind="stable")[:model.ROW_PARTNERS]])
    subsets = others[:, None] if m == 1 else np.array(list(combinations(others, m)), dtype=int)
    mats = b[subsets]  # (S, m, m)
    good = np.abs(np.linalg.det(mats)) > 1e-12
    values = np.linalg.solve(mats[good], -k[node, subsets[good]][..., None])[..., 0]
    values = np.vstack([b[node][None], values])
    d = np.diag(k) + np.sum(b * b, axis=1)
    var = (k[node, node] + np.sum(values * values, axis=1))[:, None] * d[None, :] / n
    resid = k[node][None, :] + values @ b.T
    resid[:, node] = np.inf
    zeros = (resid * resid < model.ZERO_THRESHOLD**2 * var).sum(axis=1)
    order = 1 + np.argsort(-zeros[1:], kind="stable")
    trial_bs = np.repeat(b[None], min(len(order), 8 * (per_row + 1)), axis=0)
    trial_bs[:, node, :] = values[order[: len(trial_bs)]]
    chosen = _distinct(trial_bs, u, per_row + 1)
    current = b @ b.T
    chosen = [c for c in chosen if np.max(np.abs(c @ c.T - current)) > 1e-6 * max(1.0, np.max(np.abs(current)))]
    return chosen[:per_row], int(zeros[order[0]] - zeros[0]) if len(order) else 0


def _row_search(
    k, s, u, n, best: _Fit, penalty, seed, budget: int, per_row: int | None = None,
    tried: list[tuple[float, np.ndarray]] | None = None,
) -> tuple[_Fit, bool]:
    """Move one row ``B_l`` at a time (for one block: one entry ``b_l``), keeping BIC gains.

    A wrong candidate is often right for most classes; the classes it gets wrong are repaired
    by the classes it gets right: a row's candidate values are those its non-adjacent partners
    imply. Rows are tried in order of how many more zeros their best value would give, within
    a budget of ``budget`` GRaSP fits.
    """
    p, m = u.shape
    per_row = model.ROW_CANDIDATES if per_row is None else per_row
    b = _b_matrix(best.cov, u)
    moved = False
    while budget > 0:
        plans = []
        for node in range(p):
            values, gain = _row_candidates(k, b, node, n, u, per_row)
            if values:
                plans.append((-gain, node, values))
        plans.sort(key=lambda t: (t[0], t[1]))
        improved = False
        for _, node, values in plans:  # one pass; a row moved earlier in the pass changes later rows' values little
            for value in values:
                if budget <= 0:
                    break
                budget -= 1
                trial_b = b.copy()
                trial_b[node] = value[node]
                try:
                    trial = _fit(complete_covariance(k, trial_b), s, u, n, penalty, seed, tried)
                except np.linalg.LinAlgError:  # this trial row makes K + BBᵀ singular: skip it, not the inversion
                    continue
                if trial.bic > best.bic + 1e-9 * abs(best.bic):
                    best, b, improved, moved = trial, trial_b, True, True
                    break
        if not improved:
            break
    return best, moved

