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
in its moral graph must form a connected, non-bipartite graph; there must be at least
``OVERIDENTIFICATION`` times as many non-adjacent pairs as unknowns in B (a wrong B can always
create about one zero per unknown); and the weakest direction of B must be well determined
(its standard error below ``IDENTIFICATION_LIMIT`` times ``‖B‖``). Otherwise
:attr:`SoftmaxInversion.identified` is False and the caller warns (``transform="auto"`` falls
back to a plain transform). Two checks of the graph read from ``B`` follow: one standard error
of ``B`` along that weakest direction may move no partial correlation of ``K + BBᵀ`` by more
than ``PCORR_SHIFT_LIMIT`` times ``1/√n`` (else the normalisation, not the data, decides
edges), and the selected DAG model must explain the centred logits: its deviance
(:func:`model_misfit`) at most ``MISFIT_LIMIT`` times its degrees of freedom, or its excess over
them worth less than one edge's BIC penalty ``c log n`` (a wrong ``B`` can make many zeros and
still leave structure of the data unexplained). Last, no other completion the search scored whose
graph differs (adjacencies agreeing below ``RIVAL_AGREEMENT`` F1) may come within ``RIVAL_LIMIT``
edges' BIC penalty of the selected one (``rival_gap``): two normalisations that close are a coin
toss for BIC, so the graph is not pinned down (small blocks of chained logits). And the selected
DAG may have at most ``DENSE_LIMIT`` edges per column: on denser class graphs a wrong
normalisation was seen fitting a wrong graph with every statistic comfortable.

Two data-side checks follow in :func:`ililab.softmax_transform.softmax_dataset`: the even and odd
halves of the rows must find the same normalisation (``softmax_transform.SPLIT_HALF_LIMIT``; with
fewer than ``softmax_transform.SPLIT_HALF_ROWS`` rows per column in memory there are too few to
split and the claim is refused), and at
most ``softmax_transform.CENSORED_LIMIT`` of
the probabilities may be censored. An inversion that passed the graph-side checks but fails
only these (or the standard error, the partial-correlation shift, the misfit, a rival or the density) is still used by
``auto``, reported not identified: it measured better than every plain transform there.

Probabilities stored as 0 (underflow, rounding) are censored values: the caller estimates
their log by Gaussian EM (:func:`ililab.censored.fill_censored`) below the bound of the file
(half the rounding step, or the dtype's smallest subnormal); :func:`centred_logits` alone
clips them to ``floor``. Above ``FAST_ABOVE`` columns candidates are ranked by their zeros
alone, without a structure search each.

The tuning constants (names in ``TUNING``) can be read and set here (``softmax.EM_STEPS = 1``,
``unittest.mock.patch("ililab.softmax.EM_STEPS", 1)``, ``del softmax.EM_STEPS`` restores the
default). A setting applies to the current process only: worker processes of ``--jobs`` (for
example bootstrap replicates, which re-run the inversion) use the defaults.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ililab import _softmax_model
from ililab._softmax_candidates import _b_matrix, _search_completion
from ililab._softmax_model import (  # the tuning constants: the mirror below, shadowed by properties
    BATCH_ENTRIES,
    CANDIDATE_BUDGET,
    COORDINATE_BUDGET,
    DEFINITE_TOLERANCE,
    DENSE_LIMIT,
    EM_STEPS,
    EM_TOLERANCE,
    FAST_ABOVE,
    IDENTIFICATION_LIMIT,
    MAX_CANDIDATES,
    MAX_TRIPLES,
    MISFIT_LIMIT,
    OVERIDENTIFICATION,
    PCORR_SHIFT_LIMIT,
    REFINE_THRESHOLD,
    RIVAL_AGREEMENT,
    RIVAL_LIMIT,
    ROW_CANDIDATES,
    ROW_PARTNERS,
    ZERO_THRESHOLD,
    _identification,
    _moral,
    block_indicators,
    centred_logits,
    centred_precision,
    complete_covariance,
    model_misfit,
    observed_loglik,
    probability_floor,
)
from ililab.errors import DataError
from ililab.scores.bic import DEFAULT_PENALTY

__all__ = [
    "SoftmaxInversion",
    "TUNING",
    "IDENTIFICATION_LIMIT",
    "OVERIDENTIFICATION",
    "MISFIT_LIMIT",
    "PCORR_SHIFT_LIMIT",
    "RIVAL_LIMIT",
    "RIVAL_AGREEMENT",
    "DENSE_LIMIT",
    "ZERO_THRESHOLD",
    "REFINE_THRESHOLD",
    "MAX_TRIPLES",
    "MAX_CANDIDATES",
    "CANDIDATE_BUDGET",
    "EM_STEPS",
    "EM_TOLERANCE",
    "COORDINATE_BUDGET",
    "ROW_PARTNERS",
    "ROW_CANDIDATES",
    "BATCH_ENTRIES",
    "FAST_ABOVE",
    "DEFINITE_TOLERANCE",
    "probability_floor",
    "centred_logits",
    "block_indicators",
    "centred_precision",
    "observed_loglik",
    "model_misfit",
    "complete_covariance",
    "invert_softmax",
    "impute_logits",
    "split_half_discrepancy",
]


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

    Examples
    --------
    >>> from ililab.simulate import simulate_soft_labels
    >>> sim = simulate_soft_labels(6, 2000, modalities=("audio",), seed=1)
    >>> w, _ = centred_logits(sim.probabilities)
    >>> result = invert_softmax(np.cov(w, rowvar=False), 2000, [np.arange(6)])
    >>> result.covariance.shape, result.info["blocks"], result.info["edges"]
    ((6, 6), [6], 6)
    """

    covariance: np.ndarray
    identified: bool
    info: dict[str, Any] = field(default_factory=dict)

    def transfer(self, cov_w: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(T, A)`` with ``covariance = T S_w Tᵀ + U A Uᵀ``: imputed logits are ``T w`` plus a shift of covariance ``A``.

        Examples
        --------
        >>> from ililab.simulate import simulate_soft_labels
        >>> sim = simulate_soft_labels(6, 2000, modalities=("audio",), seed=1)
        >>> w, _ = centred_logits(sim.probabilities)
        >>> cov_w, u = np.cov(w, rowvar=False), block_indicators(6, [np.arange(6)])
        >>> result = invert_softmax(cov_w, 2000, [np.arange(6)])
        >>> t, a = result.transfer(cov_w, u)
        >>> bool(np.allclose(t @ cov_w @ t.T + u @ a @ u.T, result.covariance))
        True
        """
        omega = np.linalg.inv(self.covariance)
        a = np.linalg.inv(u.T @ omega @ u)
        t = np.eye(omega.shape[0]) - u @ a @ u.T @ omega
        return t, (a + a.T) / 2


def invert_softmax(
    cov_w: np.ndarray,
    n: int,
    blocks: Sequence[np.ndarray],
    *,
    penalty: float = DEFAULT_PENALTY,
    seed: int = 0,
    max_candidates: int | None = None,
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
        Distinct candidates for B scored with GRaSP (fewer for many classes, see ``CANDIDATE_BUDGET``);
        default ``MAX_CANDIDATES``.

    Returns
    -------
    SoftmaxInversion

    Examples
    --------
    >>> from ililab.simulate import simulate_soft_labels
    >>> sim = simulate_soft_labels(10, 5000, modalities=("audio",), seed=1)
    >>> w, _ = centred_logits(sim.probabilities)
    >>> result = invert_softmax(np.cov(w, rowvar=False), 5000, [np.arange(10)])
    >>> result.covariance.shape, result.identified
    ((10, 10), True)
    """
    cov_w = np.asarray(cov_w, dtype=np.float64)
    p = cov_w.shape[0]
    if not penalty > 0:  # BIC penalties (misfit_edges, rival_gap) are counted in units of it
        raise ValueError(f"penalty must be positive, got {penalty}")
    blocks = [np.asarray(b, dtype=int) for b in blocks]
    if not blocks or any(b.size < 2 for b in blocks):
        raise ValueError("every softmax block needs at least 2 columns")
    u = block_indicators(p, blocks)
    if (u.sum(axis=1) > 1).any():
        raise ValueError("softmax blocks overlap")
    k, s = centred_precision(cov_w, u)
    if max_candidates is None:
        max_candidates = _softmax_model.MAX_CANDIDATES
    found = _search_completion(k, s, u, n, penalty, seed, max_candidates)
    moral = found.moral if found.moral is not None else _moral(found.fit.dag)
    report = _identification(k, _b_matrix(found.fit.cov, u), moral, blocks, n)
    if found.moral is None and np.isfinite(found.fit.bic):  # the fast path fits no DAG model
        deviance, df = model_misfit(found.fit.omega, s, u, n, int(found.fit.dag.sum()))
        if df > 0 and not np.isfinite(deviance):  # e.g. a non-positive eigenvalue of the centred covariance
            report.update(misfit=None, misfit_edges=None)  # JSON null, not NaN
            if report["identified"]:
                report.update(
                    identified=False,
                    reason="the misfit of the selected class graph is not finite (a singular centred covariance "
                    "or model): nothing shows that the normalisation fits the right graph",
                )
        elif df > 0:
            report["misfit"] = float(deviance / df)
            # the unexplained deviance beyond its expectation, in edges' worth of BIC penalty
            report["misfit_edges"] = float((deviance - df) / (penalty * np.log(n)))
            if report["identified"] and _softmax_model.misfit_fails(report["misfit"], report["misfit_edges"]):
                report.update(
                    identified=False,
                    reason=f"the selected class graph does not explain the centred log-probabilities (deviance "
                    f"{report['misfit']:.1f} times its degrees of freedom, limit {_softmax_model.MISFIT_LIMIT:g}; "
                    f"{report['misfit_edges']:.1f} edges' worth of penalty): the normalisation fits a wrong graph",
                )
    if found.rival_gap is not None:
        report["rival_gap"] = found.rival_gap
        if report["identified"] and _softmax_model.rival_fails(found.rival_gap):
            where = (f"within {found.rival_gap:.2f} edges' BIC penalty of" if found.rival_gap >= 0
                     else f"{-found.rival_gap:.2f} edges' BIC penalty above")  # an EM step too small to take
            report.update(
                identified=False,
                reason=f"a normalisation with a different class graph (adjacencies agreeing below "
                f"{_softmax_model.RIVAL_AGREEMENT:g} F1) scores {where} the selected one (limit "
                f"{_softmax_model.RIVAL_LIMIT:g}): the data cannot choose between them",
            )
    edges = int(found.fit.dag.sum())
    # only where a DAG was fitted: above FAST_ABOVE columns `dag` is the support of a thresholded
    # precision, whose count of noise entries grows with p
    if report["identified"] and found.moral is None and _softmax_model.density_fails(edges, p):
        report.update(
            identified=False,
            reason=f"the selected class graph is dense ({edges / p:.2f} edges per column, limit "
            f"{_softmax_model.DENSE_LIMIT:g}): on graphs that dense a wrong normalisation can fit a wrong graph "
            "with every other check passed",
        )
    info: dict[str, Any] = {
        "blocks": [len(cols) for cols in blocks],
        "candidates": found.candidates,
        "bic_margin": None if found.bic_margin is None else round(found.bic_margin, 3),
        "em_steps": found.em_steps,
        "coordinate_moves": found.coordinate_moves,
        "edges": edges,
        "penalty": penalty,
        "seed": seed,
        **{key: (round(v, 6) if isinstance(v, float) else v) for key, v in report.items()},
    }
    return SoftmaxInversion(found.fit.cov, bool(report["identified"]), info)


def impute_logits(w: np.ndarray, result: SoftmaxInversion, cov_w: np.ndarray, blocks: Sequence[np.ndarray]) -> np.ndarray:
    """Rows of logits consistent with the data whose sample covariance is ``result.covariance`` exactly.

    Each row is ``T w`` (the expected logits given the row's centred logits under the fitted
    model) plus a per-block shift orthogonal, within the sample, to every centred-logit column,
    with covariance ``A`` — so the centred part of each row is the data itself. Used by
    learners and resampling code that need rows rather than a covariance.

    Examples
    --------
    >>> from ililab.simulate import simulate_soft_labels
    >>> sim = simulate_soft_labels(6, 2000, modalities=("audio",), seed=1)
    >>> w, _ = centred_logits(sim.probabilities)
    >>> cov_w = np.cov(w, rowvar=False)
    >>> result = invert_softmax(cov_w, 2000, [np.arange(6)])
    >>> z = impute_logits(w, result, cov_w, [np.arange(6)])
    >>> z.shape, bool(np.allclose(np.cov(z, rowvar=False), result.covariance))
    ((2000, 6), True)
    """
    n, p = w.shape
    u = block_indicators(p, blocks)
    _, s = centred_precision(cov_w, u)
    t, a = result.transfer(s, u)
    centred = w - w.mean(axis=0)
    base = np.cos(np.outer(np.arange(n) + 0.5, np.arange(1, u.shape[1] + 1)) * np.pi / n)
    base -= base.mean(axis=0)
    # remove from `base` its projection on the centred-logit columns (rank p - M, known null space U)
    gram_pinv, _ = centred_precision(centred.T @ centred, u)
    free = base - centred @ (gram_pinv @ (centred.T @ base))
    free, _ = np.linalg.qr(free)
    # a symmetric square root of A: it can be numerically indefinite (chained, near-singular logits)
    vals, vecs = np.linalg.eigh((a + a.T) / 2)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    shift = free * np.sqrt(n - 1) @ root.T
    return centred @ t.T + shift @ u.T



def split_half_discrepancy(
    w: np.ndarray, blocks: Sequence[np.ndarray], covariance: np.ndarray, *, penalty: float = DEFAULT_PENALTY, seed: int = 0
) -> float:
    """How far the normalisation found on each half of the rows (even, odd) is from the one found on all.

    Returns the larger of the two ``‖BBᵀ_half - BBᵀ‖_F / ‖BBᵀ‖_F``. A normalisation the data pin
    down is found again on half of them, up to sampling noise (about ``relative_se · √2``); one
    chosen among near-ties (chained or saturated logits) moves to another candidate.

    Examples
    --------
    >>> from ililab.simulate import simulate_soft_labels
    >>> sim = simulate_soft_labels(10, 5000, modalities=("audio",), seed=1)
    >>> w, _ = centred_logits(sim.probabilities)
    >>> full = invert_softmax(np.cov(w, rowvar=False), 5000, [np.arange(10)])
    >>> bool(split_half_discrepancy(w, [np.arange(10)], full.covariance) < 0.2)
    True
    """
    p = w.shape[1]
    u = block_indicators(p, blocks)
    b = _b_matrix(covariance, u)
    full = b @ b.T
    worst = 0.0
    for half in (w[0::2], w[1::2]):
        try:
            result = invert_softmax(np.cov(half, rowvar=False), half.shape[0], blocks, penalty=penalty, seed=seed)
        except (DataError, np.linalg.LinAlgError):
            return float("inf")
        bh = _b_matrix(result.covariance, u)
        worst = max(worst, float(np.linalg.norm(bh @ bh.T - full) / max(np.linalg.norm(full), 1e-300)))
    return worst


# -- tuning constants ----------------------------------------------------------------------
#
# They live in ililab._softmax_model, where the inversion reads them at call time. This module
# names them (``softmax.FAST_ABOVE``) without copying: reading one reads it there, and setting one
# (``softmax.FAST_ABOVE = 100``) sets it there, so each has one place to be set. Settings hold in
# the current process only: the --jobs worker processes (forkserver/spawn) import the defaults.

TUNING = (
    "IDENTIFICATION_LIMIT",
    "OVERIDENTIFICATION",
    "MISFIT_LIMIT",
    "PCORR_SHIFT_LIMIT",
    "RIVAL_LIMIT",
    "RIVAL_AGREEMENT",
    "DENSE_LIMIT",
    "ZERO_THRESHOLD",
    "REFINE_THRESHOLD",
    "MAX_TRIPLES",
    "MAX_CANDIDATES",
    "CANDIDATE_BUDGET",
    "EM_STEPS",
    "EM_TOLERANCE",
    "COORDINATE_BUDGET",
    "ROW_PARTNERS",
    "ROW_CANDIDATES",
    "BATCH_ENTRIES",
    "FAST_ABOVE",
    "DEFINITE_TOLERANCE",
)


_DEFAULTS = {name: getattr(_softmax_model, name) for name in TUNING}


def _forwarded(name: str) -> property:
    def get(module):
        value = getattr(_softmax_model, name)
        module.__dict__[name] = value  # the mirror unittest.mock reads (and restores) as the original
        return value

    def set_(module, value):
        setattr(_softmax_model, name, value)
        module.__dict__[name] = value

    def delete(module):  # ``del softmax.EM_STEPS``: back to the shipped default
        set_(module, _DEFAULTS[name])

    return property(get, set_, delete)


# A property per constant on the module's class: reads and writes (pytest's monkeypatch,
# unittest.mock.patch) go to _softmax_model. The module's own __dict__ keeps a mirror (the import
# above) so that dir(), vars() and mock.patch (which restores the __dict__ value it found) see them.
sys.modules[__name__].__class__ = type(
    "_ForwardingModule", (types.ModuleType,), {name: _forwarded(name) for name in TUNING}
)
