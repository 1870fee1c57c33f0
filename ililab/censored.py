"""Censored values: Gaussian EM for entries only known to lie beyond a bound.

A probability stored as 0 (underflow, rounding) has a log that is only known to lie below the
log of the smallest value the file can hold; :func:`fill_censored` replaces such entries by
their conditional expectations under a Gaussian fitted by EM to all the rows, and returns the
covariance with the conditional variance they keep. Softmax blocks of log-probabilities are
Gaussian only up to a per-row shift (``shift_blocks``). Used by
:func:`ililab.transform_plan.censored_coordinates`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ililab.stats import covariance

__all__ = ["CensoredFill", "fill_censored", "JOINT_ROW_LIMIT", "JOINT_WORK", "ONE_AT_A_TIME_SWEEPS", "DENSE_SHARE"]


@dataclass(frozen=True)
class CensoredFill:
    """Rows with censored entries replaced by their conditional expectations, and the covariance.

    Attributes
    ----------
    rows : ndarray of shape (n, p)
        The data, each censored entry replaced by its expectation given the row's observed
        entries and the bounds (a truncated normal mean).
    covariance : ndarray of shape (p, p)
        Covariance of ``rows`` plus the mean conditional covariance the censored entries keep
        (the E-step second moment): an estimate of the covariance of the uncensored values.
    censored : int
        How many entries were censored.
    sweeps : int
        EM sweeps run.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=2000)
    >>> below = y[:, 0] < -1.0
    >>> y[below, 0] = -1.0  # only known to lie below -1
    >>> fit = fill_censored(y, np.column_stack([below, np.zeros_like(below)]), -1.0)
    >>> isinstance(fit, CensoredFill), fit.censored == int(below.sum()), bool(fit.rows[below, 0].max() < -1.0)
    (True, True, True)
    """

    rows: np.ndarray
    covariance: np.ndarray
    censored: int
    sweeps: int


def fill_censored(
    y: np.ndarray,
    below: np.ndarray | None,
    low: np.ndarray | float,
    above: np.ndarray | None = None,
    high: np.ndarray | float = np.inf,
    sweeps: int = 30,
    tolerance: float = 1e-3,
    shift_blocks: Sequence[np.ndarray] = (),
) -> CensoredFill:
    """Gaussian EM for left/right-censored entries (e.g. log-probabilities that underflowed to 0).

    An entry marked in ``below`` is only known to be below ``low`` (per column or a scalar),
    one in ``above`` only above ``high``. Each sweep fits a Gaussian to the current rows plus
    the conditional covariance the censored entries keep (M-step), then replaces the censored
    entries of each row by their expectation given the row's observed entries, jointly: the
    conditional Gaussian truncated at every bound, its moments approximated by imposing the
    bounds one at a time (E-step). In rows with more than ``JOINT_ROW_LIMIT`` censored entries,
    and in all rows when the joint part would cost more than ``JOINT_WORK``, each censored entry
    is instead taken on its own, given the row's other entries at their current values, and only
    its variance kept. Sweeps stop when no
    entry moves by more than ``tolerance`` standard deviations or the covariance by more than
    ``tolerance / 2`` (relative).

    ``shift_blocks`` (column indices, disjoint) are blocks whose entries are known only up to
    one additive number per row and block: the log-probabilities of a softmax block,
    ``log p = z - logsumexp(z)``, are Gaussian logits ``z`` minus a shift that is not. The
    Gaussian is then fitted to the rows centred within each such block (where the logits are
    exactly Gaussian), and a censored entry is predicted by the precision of that fit (the
    pseudo-inverse of the centred covariance): in effect against the row's uncensored classes,
    ``log p_j - log p_r = z_j - z_r``, so the bound ``log p_j < low`` becomes one on a Gaussian
    coordinate, whatever the shift.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=20000)
    >>> cut = x < -1.0
    >>> fit = fill_censored(np.where(cut, -1.0, x), cut, -1.0)
    >>> bool(abs(fit.covariance[0, 1] - 0.8) < 0.05), fit.censored == int(cut.sum())
    (True, True)
    """
    y = np.array(y, dtype=np.float64, order="C")  # rows contiguous: the kernel and the sparse products read rows
    n, p = y.shape
    below = np.zeros_like(y, dtype=bool) if below is None else np.asarray(below, dtype=bool)
    above = np.zeros_like(y, dtype=bool) if above is None else np.asarray(above, dtype=bool)
    low_b = np.broadcast_to(np.asarray(low, dtype=np.float64), (p,))
    high_b = np.broadcast_to(np.asarray(high, dtype=np.float64), (p,))
    censored = below | above
    count = int(censored.sum())
    if count == 0 or n < 2:
        return CensoredFill(y, covariance(y) if n >= 2 else np.zeros((p, p)), 0, 0)
    # the censored entries, row-major (the order of boolean-mask assignment), each at its bound,
    # with the side it lies beyond (-1 below, +1 above)
    rows, cols = np.nonzero(censored)
    is_below = below[rows, cols]
    entry_bounds = np.where(is_below, low_b[cols], high_b[cols])
    entry_signs = np.where(is_below, -1.0, 1.0)
    y[rows, cols] = entry_bounds
    # q: orthonormal indicators of the shift blocks; the model lives on their complement
    q = np.zeros((p, len(shift_blocks)))
    for m, block in enumerate(shift_blocks):
        q[np.asarray(block, dtype=int), m] = 1.0 / np.sqrt(len(block))
    proj = np.eye(p) - q @ q.T if shift_blocks else None
    per_row = censored.sum(axis=1)
    # rows with few censored entries get the joint E-step (cost ~ k³ each), the others one at a time
    small = (per_row <= JOINT_ROW_LIMIT) & (per_row > 0)
    joint = float(np.sum(per_row[small].astype(np.float64) ** 3 + per_row[small] * p)) <= JOINT_WORK
    alone = ~small[rows]  # entries of rows too crowded for the joint E-step
    joint_rows = np.flatnonzero(small)
    joint_marks, joint_below = censored[joint_rows], below[joint_rows]
    joint_bounds, joint_signs = np.where(joint_below, low_b, high_b), np.where(joint_below, -1.0, 1.0)
    # Products over the censored entries: entry by entry when they are few per row (cost ~ entries
    # times p), or as dense products over the rows holding them (BLAS, ~ rows times p²) when they are
    # more than DENSE_SHARE of those rows' entries.
    hit = np.flatnonzero(per_row)
    dense = count > DENSE_SHARE * hit.size * p
    # for dense products: the rows holding each set of entries and each entry's place among them
    every_held = _rows_held(rows) if dense else None
    alone_held = _rows_held(rows[alone]) if dense and joint else None
    # The moments are kept about a fixed centre near the means (so the sums stay small) and
    # updated by the change of the censored entries only, instead of a full pass per sweep.
    centre = y.mean(axis=0)
    dev = y - centre
    gram = dev.T @ dev  # one operand transposed: a symmetric rank-k update
    total = dev.sum(axis=0)
    del dev
    extra = np.zeros((p, p))
    done = 0
    previous = None
    for sweep in range(1, sweeps + 1):
        done = sweep
        mean = centre + total / n
        full = (gram - np.outer(total, total) / n + extra) / (n - 1)
        cov = proj @ full @ proj if proj is not None else full
        if previous is not None and np.linalg.norm(cov - previous) < tolerance / 2 * np.linalg.norm(cov):
            done = sweep - 1
            break  # the fit no longer moves (EM converges linearly: the entries may still creep)
        previous = cov
        scale = np.mean(np.diag(cov)) or 1.0
        # with q: (S + c qqᵀ)⁻¹ - qqᵀ/c is the pseudo-inverse of S (S q = 0), whose null space is the
        # shifts; c on the scale of S keeps it accurate
        qq = q @ q.T * scale
        omega = np.linalg.inv(cov + qq + 1e-9 * scale * np.eye(p)) - qq / scale**2
        with np.errstate(all="ignore"):
            if joint:
                values = y[rows, cols]
                values[alone], new_extra = _one_at_a_time_e_step(
                    y, mean, omega, rows[alone], cols[alone], entry_bounds[alone], entry_signs[alone], alone_held
                )
                if joint_rows.size:
                    new, joint_extra = _joint_e_step(y[joint_rows], mean, omega, joint_marks, joint_bounds, joint_signs)
                    values[~alone] = new[joint_marks]
                    new_extra = new_extra + joint_extra
            else:
                values, new_extra = _one_at_a_time_e_step(
                    y, mean, omega, rows, cols, entry_bounds, entry_signs, every_held
                )
        if not (np.isfinite(values).all() and np.isfinite(new_extra).all()):
            if joint:  # numerically degenerate rows (e.g. whole columns censored): the simpler E-step
                joint = False
                previous = None  # the fit did not move: not convergence, the next sweep must run
                continue
            break  # keep the last finite sweep
        # Only the censored entries moved: a sparse change, costing its size times p (a full pass
        # costs rows times p²: most of the time at 2 x 527 classes).
        moved = values - y[rows, cols]
        change = float(np.max(np.abs(moved)))
        column_moves = np.bincount(cols, moved, minlength=p)
        if dense:
            delta = np.zeros((hit.size, p))
            delta[every_held[1], cols] = moved
            cross = delta.T @ y[hit] - np.outer(column_moves, centre)
            gram += cross + cross.T + delta.T @ delta
        else:
            delta = sparse.csr_matrix((moved, (rows, cols)), shape=y.shape)
            cross = np.asarray(delta.T @ y) - np.outer(column_moves, centre)
            gram += cross + cross.T + (delta.T @ delta).toarray()
        total += column_moves
        y[rows, cols] = values
        extra = new_extra
        if change < tolerance * np.sqrt(scale):
            break
        if (not joint or not joint_rows.size) and sweep >= ONE_AT_A_TIME_SWEEPS:
            break
    fitted = (gram - np.outer(total, total) / n + extra) / (n - 1)
    return CensoredFill(y, (fitted + fitted.T) / 2, count, done)


#: The E-step of :func:`fill_censored` takes the censored entries of a row jointly when there are at
#: most JOINT_ROW_LIMIT of them, else each on its own given the row's other entries; and all on their
#: own when the joint part would cost more than JOINT_WORK (the sum over its rows of k³ + k·p): about
#: 0.3 s of CPU per sweep per 1e8 (measured; the sweep of benchmarks/softmax_sweep.py found rows of
#: 50-100 censored entries costing a minute per configuration).
JOINT_ROW_LIMIT = 64
JOINT_WORK = 5e7
#: ... and then runs at most this many sweeps (it converges slowly, and each costs a pass over the rows).
ONE_AT_A_TIME_SWEEPS = 8
#: The products over the censored entries are dense (BLAS over the rows holding them) when more than
#: this share of those rows' entries is censored, else entry by entry. Measured (n = 5,000, p = 500,
#: Gaussian columns cut below a quantile, one BLAS thread): entry by entry 0.57, 1.19, 2.34 and 8.0 s
#: at 5, 10, 15 and 40 % censored, dense 0.92, 1.17, 1.67 and 2.47 s.
DENSE_SHARE = 0.1


def _truncated_moments(m, s, bound, sign):
    """Mean and variance of N(m, s²) truncated to the side ``sign`` of ``bound`` (-1: below)."""
    from scipy.special import erfcx

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a = sign * (m - bound) / s  # standardised distance into the allowed side
        # λ = φ(a) / Φ(a) = sqrt(2/π) / erfcx(-a/√2): no overflow or cancellation in the far tails
        lam = np.sqrt(2 / np.pi) / erfcx(-a / np.sqrt(2))
        mean = m + sign * s * lam
        var = s * s * np.clip(1.0 - lam * (lam + a), 0.0, 1.0)
    # a degenerate spread (s = 0): the entry sits at m, or at the bound if m is beyond it
    flat = ~np.isfinite(a)
    if flat.any():
        mean = np.where(flat, np.where(sign * (m - bound) >= 0, m, bound), mean)
        var = np.where(flat, 0.0, var)
    return mean, var


def _rows_held(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of sorted ``rows``, and each entry's place among them (no sort: one pass)."""
    starts = np.empty(rows.size, dtype=bool)
    starts[:1] = True
    np.not_equal(rows[1:], rows[:-1], out=starts[1:])
    return rows[starts], np.cumsum(starts) - 1


def _one_at_a_time_e_step(y, mean, omega, rows, cols, bounds, signs, held=None):
    """Each censored entry ``(rows[k], cols[k])`` given its row's other entries (current values).

    Returns the new values of those entries and the summed variances they keep (a diagonal matrix).
    ``held`` (:func:`_rows_held` of ``rows``): compute ``(y - mean) Ω`` densely on the rows holding
    the entries (many entries per row), else entry by entry.
    """
    p = y.shape[1]
    d = np.diag(omega)
    # conditional mean given the rest of the row: y_j - ((y - mean) Ω)_j / Ω_jj, at those entries only
    if held is not None:
        products = ((y[held[0]] - mean) @ omega)[held[1], cols]
    else:
        from ililab._censored_kernel import sampled_products  # numba, loaded only when values are censored

        products = sampled_products(y, mean, omega, rows, cols)
    cond = y[rows, cols] - products / d[cols]
    values, v = _truncated_moments(cond, 1.0 / np.sqrt(d[cols]), bounds, signs)
    return values, np.diag(np.bincount(cols, v, minlength=p))


def _joint_e_step(y, mean, omega, censored, bounds, signs):
    """The censored entries of each row jointly, given its observed entries.

    Their conditional law is a Gaussian (precision ``Ω_SS``) truncated at every bound; its mean
    and covariance are approximated by imposing the bounds one after the other, each time
    matching the first two moments of the truncated marginal and updating the others by
    regression (assumed-density filtering). Returns the rows with the censored entries at
    their conditional means and the summed conditional covariances.
    Rows are processed in batches of equal size (a geometric grid of sizes), padded with free dummy
    entries (independent, unbounded), so the loop over entries runs a few dozen times per sweep.
    """
    p = y.shape[1]
    new = y.copy()
    dev = y - mean
    dev[censored] = 0.0  # the regression on observed entries only
    extra = np.zeros(p * p)
    rows = np.flatnonzero(censored.any(axis=1))
    counts = censored[rows].sum(axis=1)
    # batch sizes: 1-4, then about 4 per doubling (5, 6, 8, 10, 12, 16, 20, 24, 32, ...)
    grid = np.unique(np.concatenate([[1, 2, 3], *(2**e * np.array([4, 5, 6]) // 4 for e in range(2, 40))]))
    sizes = grid[np.searchsorted(grid, counts)]
    pad = int(sizes.max())
    # dummies: columns p..p+pad-1 with unit precision, no coupling, no bound
    omega_pad = np.eye(p + pad)
    omega_pad[:p, :p] = omega
    mean_pad = np.concatenate([mean, np.zeros(pad)])
    for size in np.unique(sizes):
        chosen = sizes == size
        group, group_counts = rows[chosen], counts[chosen]
        batch = max(1, 2**22 // int(size * size + p))
        for start in range(0, group.size, batch):
            r, c = group[start : start + batch], group_counts[start : start + batch]
            at, cols = np.nonzero(censored[r])  # row-major: each row's censored columns in order
            within = np.arange(at.size) - np.repeat(np.cumsum(c) - c, c)
            s_idx = np.tile(p + np.arange(size), (r.size, 1))
            s_idx[at, within] = cols
            real = s_idx < p
            fill = np.zeros((r.size, pad))
            g = np.take_along_axis(np.hstack([dev[r] @ omega, fill]), s_idx, axis=1)
            v = np.linalg.inv(omega_pad[s_idx[:, :, None], s_idx[:, None, :]])
            m = mean_pad[s_idx] - np.einsum("rij,rj->ri", v, g)
            b = np.take_along_axis(np.hstack([bounds[r], fill + np.inf]), s_idx, axis=1)
            sg = np.take_along_axis(np.hstack([signs[r], fill - 1.0]), s_idx, axis=1)
            # an entry whose conditional variance has (numerically) vanished is not updated by regression
            tiny = 1e-12 * np.max(np.diagonal(v, axis1=1, axis2=2), axis=1)
            for t in range(int(size)):
                vt = v[:, t, t]
                live = vt > tiny
                vt = np.where(live, vt, 1.0)
                mu, var = _truncated_moments(m[:, t], np.sqrt(vt), b[:, t], sg[:, t])
                col = np.where(live[:, None], v[:, :, t], 0.0)
                m += col * ((mu - m[:, t]) / vt)[:, None]
                v -= col[:, :, None] * col[:, None, :] * ((vt - var) / (vt * vt))[:, None, None]
                m[~live, t] = np.where(sg[~live, t] * (m[~live, t] - b[~live, t]) >= 0, m[~live, t], b[~live, t])
            new[r[at], cols] = m[at, within]
            pairs = real[:, :, None] & real[:, None, :]
            flat = (s_idx[:, :, None] * p + s_idx[:, None, :])[pairs]
            extra += np.bincount(flat, v[pairs], minlength=p * p)
    extra = extra.reshape(p, p)
    return new, (extra + extra.T) / 2
