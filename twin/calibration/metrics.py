"""Goodness of fit of a simulation against metered energy, after ASHRAE Guideline 14-2014.

ASHRAE Guideline 14-2014, "Measurement of Energy, Demand and Water Savings", judges a calibrated
simulation by two indices of its error against measured data (clause 5.2.11.3 "Modeling
uncertainty" and Annex B define them; clause 5.3.2.4 (f), the whole-building calibrated
simulation path, sets the limits):

    CV(RMSE) = 100 * sqrt( sum_i (y_i - yhat_i)^2 / (n - p) ) / ybar            [%]
    NMBE     = 100 * sum_i (y_i - yhat_i) / ( (n - p) * ybar )                    [%]

with y_i the measured and yhat_i the simulated value of interval i, ybar the mean of the measured
values, n the number of intervals compared and p the number of parameters of the model
(degrees of freedom n - p). "The computer model shall have an NMBE of 5 % and a CV(RMSE) of 15 %
relative to monthly calibration data. If hourly calibration data are used, these requirements
shall be 10 % and 30 %, respectively" (clause 5.3.2.4 (f)); the NMBE limit is on its magnitude.

Conventions followed here (each one a choice the guideline leaves to the user):

- Degrees of freedom: ``p = 1`` by default, i.e. ``n - 1`` as OpenStudio's utility-bill
  calibration report computes them; pass ``p`` = the number of parameters fitted to the same
  data for the stricter count. With ``n <= p`` the indices are not defined (NaN).
- Sign: residual = measured - simulated, so a positive NMBE means the model *under-predicts*
  (it simulates less energy than was metered), a negative one that it over-predicts.
- R^2 is the coefficient of determination about the measured mean, ``1 - SS_res / SS_tot``
  (it penalises bias and scale errors, unlike the squared correlation coefficient, and can be
  negative for a model worse than the measured mean); it is reported, not judged.
- A measured mean that is not positive (an empty comparison, a meter that only exports) leaves
  the indices undefined (NaN) and the model *not judged* (``pass_* = None``): normalising by it
  has no meaning. Nothing here raises on such data.
- Monthly values are sums over the hours of each local calendar month that have a valid
  measurement (the same hours in both series). A month enters the monthly indices only if at
  least :data:`MIN_MONTH_COVERAGE` (90 %) of its clock hours have data: the monthly criteria are
  meant for whole billing periods, and a month with a long gap (or a period that starts or ends
  mid-month by more than three days) would be judged on a sum that is not the month's. Its hours
  still count in the hourly indices; ``n_monthly`` says how many months were judged.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

LIMITS: dict[str, float] = {
    # ASHRAE Guideline 14-2014, clause 5.3.2.4 (f): a calibrated simulation's computer model
    # shall have |NMBE| <= 5 % and CV(RMSE) <= 15 % against monthly calibration data, and
    # |NMBE| <= 10 % and CV(RMSE) <= 30 % against hourly calibration data.
    "cv_rmse_hourly_pct": 30.0,
    "nmbe_hourly_pct": 10.0,
    "cv_rmse_monthly_pct": 15.0,
    "nmbe_monthly_pct": 5.0,
}
"""The Guideline 14 limits of a calibrated simulation [%] (the NMBE limits are on |NMBE|)."""

MIN_MONTH_COVERAGE = 0.9
"""Share of a calendar month's clock hours that must have a valid measurement for the month to
enter the monthly indices."""

KEYS = ("cv_rmse_hourly_pct", "nmbe_hourly_pct", "r2_hourly", "n_hourly",
        "mean_measured_kwh_per_h", "pass_hourly", "cv_rmse_monthly_pct", "nmbe_monthly_pct",
        "n_monthly", "pass_monthly")
"""The keys of :func:`goodness_of_fit`, in its order."""


def _pair(measured: Any, simulated: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(measured, dtype=float).ravel()
    yhat = np.asarray(simulated, dtype=float).ravel()
    if y.shape != yhat.shape:
        raise ValueError(f"measured and simulated: {y.size} and {yhat.size} values; expected "
                         "one simulated value per measured value")
    return y, yhat


def _scale(y: np.ndarray, p: int) -> float:
    """(n - p) * mean(y), or NaN when the indices are not defined (n <= p, mean <= 0)."""
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 0:
        raise ValueError(f"p: {p!r}; expected the number of model parameters, a whole number "
                         ">= 0")
    n = y.size
    if n <= p or n == 0:
        return math.nan
    ybar = float(np.mean(y))
    if not ybar > 0.0:  # also NaN
        return math.nan
    return (n - p) * ybar


def cv_rmse(measured: Any, simulated: Any, p: int = 1) -> float:
    """Coefficient of variation of the root-mean-square error [%] (ASHRAE Guideline 14-2014,
    clause 5.2.11.3 and Annex B).

    ``100 * sqrt(sum((y - yhat)^2) / (n - p)) / mean(y)`` over all ``n`` pairs given (mask
    missing measurements first: a NaN in gives NaN out). Units cancel: any energy per interval,
    the same in both. NaN if ``n <= p`` or ``mean(y) <= 0``.
    """
    y, yhat = _pair(measured, simulated)
    scale = _scale(y, p)
    if math.isnan(scale):
        return math.nan
    n = y.size
    ybar = scale / (n - p)
    return 100.0 * math.sqrt(float(np.sum((y - yhat) ** 2)) / (n - p)) / ybar


def nmbe(measured: Any, simulated: Any, p: int = 1) -> float:
    """Normalised mean bias error [%] (ASHRAE Guideline 14-2014, clause 5.2.11.3 and Annex B).

    ``100 * sum(y - yhat) / ((n - p) * mean(y))``: positive when the model under-predicts
    (simulates less than was measured), negative when it over-predicts. NaN if ``n <= p`` or
    ``mean(y) <= 0``; a NaN in gives NaN out.
    """
    y, yhat = _pair(measured, simulated)
    scale = _scale(y, p)
    if math.isnan(scale):
        return math.nan
    return 100.0 * float(np.sum(y - yhat)) / scale


def r2(measured: Any, simulated: Any) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` [-] of the simulated values as a
    prediction of the measured ones, ``SS_res = sum((y - yhat)^2)``, ``SS_tot = sum((y -
    mean(y))^2)``.

    1 for a perfect model, 0 for one no better than the measured mean, negative for a worse one
    (not the squared correlation coefficient, which forgives bias and scale). NaN with fewer
    than two values or when the measured values are all equal (to float rounding: a relative
    spread below 1e-10).
    """
    y, yhat = _pair(measured, simulated)
    if y.size < 2:
        return math.nan
    ss_tot = float(np.sum((y - np.mean(y)) ** 2))
    if not ss_tot > 1e-20 * float(np.sum(y ** 2)):  # constant to float rounding
        return math.nan
    return 1.0 - float(np.sum((y - yhat) ** 2)) / ss_tot


def meets(cv_rmse_pct: float, nmbe_pct: float, scale: str) -> bool | None:
    """Whether a CV(RMSE) and an NMBE [%] meet the Guideline 14 limits (:data:`LIMITS`) of
    ``scale`` ('hourly' or 'monthly'), limits included; None (not judged) if either is NaN."""
    if scale not in ("hourly", "monthly"):
        raise ValueError(f"scale: {scale!r}; expected 'hourly' or 'monthly'")
    if not (math.isfinite(cv_rmse_pct) and math.isfinite(nmbe_pct)):
        return None
    return bool(cv_rmse_pct <= LIMITS[f"cv_rmse_{scale}_pct"]
                and abs(nmbe_pct) <= LIMITS[f"nmbe_{scale}_pct"])


def _check_series(measured: pd.Series, simulated: pd.Series) -> pd.DatetimeIndex:
    for name, s in (("measured", measured), ("simulated", simulated)):
        if not isinstance(s, pd.Series):
            raise TypeError(f"{name}: a {type(s).__name__}; expected a pandas Series of kWh per "
                            "hour")
        if not isinstance(s.index, pd.DatetimeIndex):
            raise ValueError(f"{name}: index is a {type(s.index).__name__}; expected a tz-aware "
                             "DatetimeIndex of local hours")
        if s.index.tz is None:
            raise ValueError(f"{name}: index has no time zone; expected a tz-aware index of "
                             "local hours")
    idx = measured.index
    if not idx.equals(simulated.index):
        raise ValueError("measured and simulated: different timestamps; expected the same "
                         "hourly index in both")
    if not idx.is_unique:
        raise ValueError(f"measured: timestamp {idx[idx.duplicated()][0]} twice; expected one "
                         "value per hour")
    off = (idx.minute != 0) | (idx.second != 0) | (idx.microsecond != 0)
    if off.any():
        raise ValueError(f"measured: timestamp {idx[off][0]} is not on the hour; expected "
                         "hourly values (kWh per hour)")
    return idx


def hours_in_month(year: int, month: int, tz: Any) -> float:
    """Clock hours of a local calendar month [h]: 24 x days, one less or more in the month the
    clocks go forward or back."""
    start = pd.Timestamp(year=year, month=month, day=1, tz=tz)
    end = pd.Timestamp(year=year + month // 12, month=month % 12 + 1, day=1, tz=tz)
    return (end - start) / pd.Timedelta(hours=1)


def monthly_totals(measured: pd.Series, simulated: pd.Series) -> pd.DataFrame:
    """Per local calendar month: the sums [kWh] of measured and simulated energy over the hours
    with a valid measurement, those hours, the month's clock hours, the coverage (their ratio)
    and ``used`` (coverage >= :data:`MIN_MONTH_COVERAGE`). Index: the month's first day ('YYYY-MM'
    labels in ``month``)."""
    idx = _check_series(measured, simulated)
    y = measured.to_numpy(dtype=float)
    yhat = simulated.to_numpy(dtype=float)
    ok = np.isfinite(y)
    key = idx.year.to_numpy() * 12 + idx.month.to_numpy() - 1
    months = np.unique(key[ok])
    rows = []
    for k in months:
        sel = ok & (key == k)
        year, month = divmod(int(k), 12)
        clock = hours_in_month(year, month + 1, idx.tz)
        hours = int(sel.sum())
        rows.append({"month": f"{year:04d}-{month + 1:02d}",
                     "measured_kwh": float(y[sel].sum()), "simulated_kwh": float(yhat[sel].sum()),
                     "hours": hours, "clock_hours": clock, "coverage": hours / clock,
                     "used": hours / clock >= MIN_MONTH_COVERAGE})
    cols = ["month", "measured_kwh", "simulated_kwh", "hours", "clock_hours", "coverage", "used"]
    return pd.DataFrame(rows, columns=cols)


def goodness_of_fit(measured: pd.Series, simulated: pd.Series, p: int = 1) -> dict[str, Any]:
    """Guideline 14 indices of a simulated against a measured hourly energy series.

    Parameters
    ----------
    measured, simulated
        Energy per hour [kWh] on the same tz-aware index of local hours. A NaN measurement is an
        hour without valid data: it is left out of both series. A simulated NaN where there is a
        measurement is an error.
    p
        Number of model parameters: the indices divide by ``n - p`` (default 1, see the module).

    Returns
    -------
    dict
        ``cv_rmse_hourly_pct``, ``nmbe_hourly_pct`` [%] and ``r2_hourly`` [-] over the hours
        with data (``n_hourly``, their measured mean ``mean_measured_kwh_per_h`` [kWh/h]);
        ``cv_rmse_monthly_pct``, ``nmbe_monthly_pct`` [%] over the monthly sums of the months
        covered to at least 90 % (``n_monthly``); ``pass_hourly`` / ``pass_monthly``: whether
        the indices meet :data:`LIMITS`, None where they are not defined (not judged).
        Undefined indices are NaN.
    """
    idx = _check_series(measured, simulated)
    y = measured.to_numpy(dtype=float)
    yhat = simulated.to_numpy(dtype=float)
    ok = np.isfinite(y)
    bad = ok & ~np.isfinite(yhat)
    if bad.any():
        raise ValueError(f"simulated: {yhat[bad][0]} at {idx[bad][0]}, where a measurement "
                         "exists; expected a finite number of kWh for every measured hour")
    y, yhat = y[ok], yhat[ok]
    out: dict[str, Any] = {
        "cv_rmse_hourly_pct": cv_rmse(y, yhat, p),
        "nmbe_hourly_pct": nmbe(y, yhat, p),
        "r2_hourly": r2(y, yhat),
        "n_hourly": int(y.size),
        "mean_measured_kwh_per_h": float(np.mean(y)) if y.size else math.nan,
    }
    out["pass_hourly"] = meets(out["cv_rmse_hourly_pct"], out["nmbe_hourly_pct"], "hourly")
    months = monthly_totals(measured, simulated)
    used = months.loc[months["used"].to_numpy(dtype=bool)]
    m, mhat = used["measured_kwh"].to_numpy(), used["simulated_kwh"].to_numpy()
    out["cv_rmse_monthly_pct"] = cv_rmse(m, mhat, p)
    out["nmbe_monthly_pct"] = nmbe(m, mhat, p)
    out["n_monthly"] = len(used)
    out["pass_monthly"] = meets(out["cv_rmse_monthly_pct"], out["nmbe_monthly_pct"], "monthly")
    return {k: out[k] for k in KEYS}
