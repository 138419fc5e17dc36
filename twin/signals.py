"""Signals that production strategies read while the plant runs.

One object per model (``model.signals``), the only place strategies look for the plant's energy
situation, so that the energy-management system may change how it works without breaking them:

* known ahead for the whole run (arrays per settlement interval, and lookups by sim time):
  energy price, TOU period, grid carbon intensity, onsite renewable generation (PV + wind);
* live: the site's electric power now (every metered load, exact at the current event), and the
  batteries' state of charge at the end of the last closed interval.

Times are simulation seconds from the local midnight of the first day. Without an ``energy:``
block the price is 0, the period 'flat' and the onsite generation 0.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from twin.config.plant import ELECTRICITY

if TYPE_CHECKING:
    from twin.energy.ems import EMS
    from twin.metering import SiteLoad


class Signals:
    """Price, period, grid intensity and onsite generation per interval; live site power and
    state of charge.

    Parameters
    ----------
    interval_s : float
        Settlement interval [s].
    n_intervals : int
        Intervals in the run.
    price : ndarray
        Energy price per interval [CNY/kWh].
    period : list of str
        TOU period per interval.
    grid_ef : ndarray
        Grid carbon intensity per interval [kgCO2/kWh] (the configured hourly shape scaled so its
        plain mean is the annual factor; flat at the annual factor without a shape).
    onsite_kwh : ndarray
        Onsite PV and wind generation per interval [kWh].
    site : SiteLoad or None
        Running site power (live).
    ems : EMS or None
        The energy-management system (state of charge).
    """

    def __init__(self, interval_s: float, n_intervals: int, price: np.ndarray,
                 period: list[str], grid_ef: np.ndarray, onsite_kwh: np.ndarray,
                 site: SiteLoad | None = None, ems: EMS | None = None):
        self.interval_s = float(interval_s)
        self.n_intervals = int(n_intervals)
        self.price_per_interval = np.asarray(price, dtype=float)
        self.period_per_interval = list(period)
        self.grid_ef_per_interval = np.asarray(grid_ef, dtype=float)
        self.onsite_kwh_per_interval = np.asarray(onsite_kwh, dtype=float)
        self._price = self.price_per_interval.tolist()  # plain floats: fast lookups
        self._ef = self.grid_ef_per_interval.tolist()
        self._onsite_kw = (self.onsite_kwh_per_interval * 3600.0 / self.interval_s).tolist()
        self._site = site
        self._ems = ems

    def interval(self, t: float) -> int:
        """Index of the settlement interval that contains sim time ``t`` [s] (clipped to the
        run)."""
        return min(max(int(t // self.interval_s), 0), self.n_intervals - 1)

    def price(self, t: float) -> float:
        """Energy price at ``t`` [CNY/kWh]."""
        return self._price[self.interval(t)]

    def period(self, t: float) -> str:
        """TOU period at ``t`` ('critical', 'peak', 'flat', 'valley', 'deep_valley')."""
        return self.period_per_interval[self.interval(t)]

    def grid_ef(self, t: float) -> float:
        """Grid carbon intensity at ``t`` [kgCO2/kWh]."""
        return self._ef[self.interval(t)]

    def onsite_kw(self, t: float) -> float:
        """Average onsite PV + wind generation over the interval containing ``t`` [kW]."""
        return self._onsite_kw[self.interval(t)]

    def site_kw(self) -> float:
        """Site electric power now, all metered equipment [kW] (heat pumps and chillers of the
        energy plant are not included: they are settled per interval)."""
        if self._site is None:
            raise RuntimeError("site power is not tracked in this model")
        return self._site.kw[ELECTRICITY]

    def soc_frac(self) -> float:
        """Stored energy / usable capacity of all batteries at the end of the last closed
        interval [-]; 0 without batteries. Only for strategies that declare
        ``reads_storage = True`` (then the EMS closes every interval during the run)."""
        if self._ems is None:
            return 0.0
        if not self._ems.live:
            raise RuntimeError("the state of charge is read during the run, but no strategy of "
                               "this plant declares reads_storage = True, so the EMS settles "
                               "after the run; set reads_storage = True on the strategy class")
        return self._ems.soc_frac

    def next_change(self, t: float, accept: set[str] | frozenset[str]) -> float:
        """Earliest time >= ``t`` [s] at which the TOU period is one of ``accept``; ``inf`` when
        it never is again in the run."""
        k = self.interval(t)
        if self.period_per_interval[k] in accept:
            return t
        for j in range(k + 1, self.n_intervals):
            if self.period_per_interval[j] in accept:
                return j * self.interval_s
        return math.inf


def grid_intensity(plant, clock, n_intervals: int, interval_s: float) -> np.ndarray:
    """Grid carbon intensity per settlement interval [kgCO2/kWh].

    The location-based factor that the carbon accounting uses
    (:func:`twin.carbon.inventory.grid_factors`: the plant's ``carbon:`` block, else the site's
    province or the national factor), shaped by ``carbon.hourly_shape`` when given
    (:func:`twin.carbon.factors.hourly_grid_factor` with equal weights, so its plain mean is the
    annual factor), else flat; or the user's hourly series (``carbon.hourly_factor_file``) as
    given (:func:`twin.carbon.inventory.location_factor`). One definition for the signals
    strategies read and for the dispatch policies (:attr:`twin.energy.ems.IntervalState.grid_ef`).
    Raises :class:`~twin.config.errors.SupplyError` when the ``carbon:`` block names a region or
    year the factor tables do not have, or an hourly file that does not cover the run."""
    from twin.carbon.inventory import location_factor
    from twin.config.errors import SupplyError

    try:
        return location_factor(plant, clock.index(n_intervals, interval_s))
    except ValueError as exc:  # an unknown region or year, a file that does not cover the run
        msg = str(exc)
        raise SupplyError(msg if msg.startswith("carbon.") else f"carbon: {msg}") from None


def build_signals(plant, clock, horizon_s: float, interval_s: float, site: SiteLoad | None,
                  ems: EMS | None) -> Signals:
    """The signals of a built model (see :class:`Signals`)."""
    n = max(math.ceil(horizon_s / interval_s - 1e-9), 1)
    if ems is not None:
        sup = ems.supply
        price, period = sup.price, sup.period
        onsite = np.asarray(sup.pv_kwh, dtype=float) + np.asarray(sup.wind_kwh, dtype=float)
        ef = sup.grid_ef if sup.grid_ef is not None else grid_intensity(plant, clock, n,
                                                                        interval_s)
    else:
        price, period, onsite = np.zeros(n), ["flat"] * n, np.zeros(n)
        ef = grid_intensity(plant, clock, n, interval_s)
    return Signals(interval_s, n, price, period, ef, onsite, site, ems)
