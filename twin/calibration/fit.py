"""Fitting parameters to meters: bounded linear least squares, identifiability, uncertainty.

Pure numerics over arrays: a design matrix ``A`` (rows: weighted meter hours, columns:
parameters) and the weighted measurements ``b``; nothing here knows about plants.

- :func:`fit_linear` solves ``min ||A x - b||`` within bounds (``scipy.optimize.lsq_linear``).
  Parameters the rows cannot tell apart (a null space of ``A``: two always-on loads on one meter)
  are not given arbitrary values: a tiny pull towards their starting values picks, among the
  equally good fits, the one closest to the plant file, and they are reported as not
  identifiable.
- :func:`diagnose` gives the rank, the condition number (columns scaled to unit length), the
  groups of parameters in the null space, the parameters' standard errors and correlations.
  Standard errors use ``s^2 (A'A)^-1`` with ``s^2 = RSS / (n' - p)`` and the effective number of
  observations ``n' = n (1 - rho) / (1 + rho)`` for residuals with lag-1 autocorrelation
  ``rho`` (ASHRAE Guideline 14-2014, Annex B, eq. B-14, the correction for serially correlated
  hourly data); a mean over each meter's own run of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import lsq_linear

RANK_RTOL = 1e-6
"""A singular value below this fraction of the largest (columns scaled to unit length) counts
as zero: the data cannot tell that combination of parameters (condition number above 1e6)."""

NULL_SHARE = 0.1
"""A parameter belongs to an unidentifiable group when its share of a null-space vector
(absolute component, the vector of unit length) is at least this."""


@dataclass
class Diagnosis:
    """What the data say about the parameters."""

    rank: int
    condition_number: float
    """Ratio of the largest to the smallest singular value of the column-scaled matrix
    (``inf`` when a column is zero or the matrix rank-deficient)."""
    groups: list[list[int]]
    """Sets of parameter indexes the data cannot tell apart (each from a null-space vector;
    a parameter that moves no meter is a group of its own)."""
    std: np.ndarray
    """Standard error of each parameter (NaN when not identifiable)."""
    correlations: np.ndarray
    """Correlation matrix of the estimates (NaN rows for unidentifiable parameters)."""
    rho: float = 0.0
    """Lag-1 autocorrelation of the residuals used for ``n'``."""
    n_effective: float = 0.0
    std_replications: np.ndarray | None = None
    """Spread of the estimates over the replications (set by the caller that has them)."""

    @property
    def unidentifiable(self) -> set[int]:
        return {i for g in self.groups for i in g}


@dataclass
class LinearFit:
    """Result of :func:`fit_linear`."""

    x: np.ndarray
    at_bound: np.ndarray
    diagnosis: Diagnosis
    rss: float
    residual: np.ndarray = field(repr=False)


def _lag1(r: np.ndarray, segments: list[slice] | None) -> float:
    """Mean lag-1 autocorrelation of ``r`` over its segments (0 when undefined), clipped to
    [0, 0.99]: negative correlation is not used to shrink the errors."""
    rhos, weights = [], []
    for s in segments or [slice(0, r.size)]:
        x = r[s] - r[s].mean() if r[s].size else r[s]
        if x.size < 3:
            continue
        den = float(x @ x)
        if den <= 0:
            continue
        rhos.append(float(x[1:] @ x[:-1]) / den)
        weights.append(x.size)
    if not rhos:
        return 0.0
    return float(np.clip(np.average(rhos, weights=weights), 0.0, 0.99))


def diagnose(a: np.ndarray, residual: np.ndarray, segments: list[slice] | None = None
             ) -> Diagnosis:
    """Rank, condition, unidentifiable groups, standard errors and correlations for design
    matrix ``a`` (n x p) and the fit's residuals (length n)."""
    n, p = a.shape
    std = np.full(p, np.nan)
    corr = np.full((p, p), np.nan)
    if p == 0:
        return Diagnosis(0, 1.0, [], std, corr)
    norms = np.linalg.norm(a, axis=0)
    zero = norms <= 1e-12 * max(float(norms.max()), 1e-300)
    groups: list[list[int]] = [[int(i)] for i in np.flatnonzero(zero)]
    live = np.flatnonzero(~zero)
    rank = 0
    cond = np.inf
    if live.size:
        scaled = a[:, live] / norms[live]
        _, sv, vt = np.linalg.svd(scaled, full_matrices=False)
        tol = RANK_RTOL * sv[0]
        rank = int((sv > tol).sum())
        cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else np.inf
        if zero.any():
            cond = np.inf
        null = vt[rank:]
        merged: list[set[int]] = []
        for v in null:
            members = {int(live[i]) for i in np.flatnonzero(np.abs(v) >= NULL_SHARE)}
            for g in [g for g in merged if g & members]:
                members |= g
                merged.remove(g)
            merged.append(members)
        groups += [sorted(g) for g in merged]
    bad = {i for g in groups for i in g}
    good = np.array([i for i in range(p) if i not in bad], dtype=int)
    rho = _lag1(residual, segments)
    n_eff = n * (1 - rho) / (1 + rho)
    if good.size and n_eff > good.size:
        s2 = float(residual @ residual) / (n_eff - good.size)
        ag = a[:, good]
        try:
            cov = s2 * np.linalg.inv(ag.T @ ag)
        except np.linalg.LinAlgError:
            cov = None
        if cov is not None:
            sd = np.sqrt(np.clip(np.diag(cov), 0, None))
            std[good] = sd
            with np.errstate(invalid="ignore", divide="ignore"):
                c = cov / np.outer(sd, sd)
            corr[np.ix_(good, good)] = c
    return Diagnosis(rank, cond, groups, std, corr, rho, n_eff)


def fit_linear(a: np.ndarray, b: np.ndarray, x0: np.ndarray, lower: np.ndarray,
               upper: np.ndarray, segments: list[slice] | None = None) -> LinearFit:
    """Bounded least squares ``min ||a x - b||`` s.t. ``lower <= x <= upper``.

    Parameters the data cannot tell apart (see :func:`diagnose`) get, among the equally good
    solutions, the one closest to ``x0`` (a pull of 1e-8 of the data's weight towards it, on
    those parameters only); their standard errors are NaN.

    Returns
    -------
    LinearFit
        ``x`` the estimates, ``at_bound`` which ended on a bound, the diagnosis, the residual
        sum of squares.
    """
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    p = a.shape[1]
    x0 = np.asarray(x0, float)
    if p == 0:
        r = b.copy()
        return LinearFit(x0.copy(), np.zeros(0, bool), diagnose(a, r, segments),
                         float(r @ r), r)
    first = diagnose(a, b - a @ x0, segments)
    norms = np.linalg.norm(a, axis=0)
    scale = np.where(norms > 0, norms, 1.0)  # solve in scaled variables z = x * scale
    rows, rhs = [a / scale], [b]
    weak = sorted(first.unidentifiable)
    if weak:
        lam = 1e-4  # on unit-norm columns: negligible against identifiable directions
        pull = np.zeros((len(weak), p))
        for k, i in enumerate(weak):
            pull[k, i] = lam
        rows.append(pull)
        rhs.append(pull @ (x0 * scale))
    aa = np.vstack(rows)
    bb = np.concatenate(rhs)
    lo, hi = lower * scale, upper * scale
    start = np.clip(x0 * scale, lo, hi)
    sol = lsq_linear(aa, bb, bounds=(lo, hi), method="bvls" if p <= 50 else "trf",
                     tol=1e-12, lsmr_tol="auto", max_iter=None)
    z = sol.x if sol.status >= 0 else start
    x = np.clip(z / scale, lower, upper)
    r = b - a @ x
    diag = diagnose(a, r, segments)
    span = upper - lower
    at_bound = (np.abs(x - lower) <= 1e-6 * span) | (np.abs(upper - x) <= 1e-6 * span)
    return LinearFit(x, at_bound, diag, float(r @ r), r)
