r"""Economics of an upgrade: cash flows, NPV, IRR, payback, levelised abatement cost and the MACC.

An :class:`Upgrade` holds what an engineer knows about one measure (capital cost, life, O&M,
replacements) and what a simulated comparison says it buys (annual cost and CO2 savings, base
minus scenario). Everything else is pure functions over its yearly cash-flow array, in the manner
of pvlib: no state, no I/O, units in ``[ ]`` and formulas under Notes.

Conventions
-----------
- **End-of-year flows.** Year 0 is the investment (``-capex``); years 1..N carry the net saving
  of that year, replacements and, in year N, the residual (salvage) value. A flow in year t is
  discounted by :math:`(1+r)^{-t}`. This is the convention of numpy-financial's ``npv`` and of
  REopt's ``npv`` (first flow undiscounted) [2]_, and of Short, Packey & Holt [1]_. (Excel's
  ``NPV`` discounts the first value too; it is not used here.)
- **Real or nominal, but consistently.** The discount rate and the escalation rates must both be
  real (constant money, escalation above general inflation) or both nominal. With
  ``price_escalation_rate = 0`` and a real discount rate, prices are constant in real terms.
  Replacement costs and salvage values are not escalated (constant money, as in HOMER [3]_).
- **Escalation starts in year 1**, as in REopt's ``annuity`` ("assumes cost growth in first
  period") [2]_: the simulated saving ``S`` is at today's prices and year t saves
  :math:`S (1+e)^t`. The same holds for O&M (``om_escalation_rate``) and for the yearly change of
  the CO2 saving (``co2_saving_change_rate``, e.g. a grid that decarbonises). With all three at
  zero (the default) the convention does not matter.
- **Signs.** Savings are positive, costs negative in cash flows; an abatement cost is negative
  when the upgrade pays for itself.

References
----------
.. [1] W. Short, D. J. Packey and T. Holt, "A Manual for the Economic Evaluation of Energy
   Efficiency and Renewable Energy Technologies", NREL/TP-462-5173, National Renewable Energy
   Laboratory, Golden, CO, March 1995. (NPV, IRR, simple and discounted payback, levelised
   cost, residual value.)
.. [2] NREL REopt.jl, ``src/core/utils.jl``: ``npv(rate, cash_flows)`` and ``annuity(years,
   rate_escalation, rate_discount)``, a geometric sum of :math:`(1+e)^n/(1+r)^n` for
   n = 1..years. https://github.com/NREL/REopt.jl
.. [3] HOMER Energy, Knowledge Base, "Capital cost rebates and salvage value": salvage value
   with linear depreciation, based on the replacement cost (a 10,000 $ turbine with a 25-year
   life is worth 5/25 x 10,000 = 2,000 $ at the end of a 20-year project), and HOMER Pro
   "Replacement Cost" (all costs are real).
   https://homerenergy.com/docs/knowledgebase/article/capital-cost-rebates-and-salvage-value
.. [4] McKinsey & Company, "Pathways to a Low-Carbon Economy: Version 2 of the Global
   Greenhouse Gas Abatement Cost Curve", 2009. (Bar width = abatement potential, bar height =
   cost per tonne, bars sorted from cheapest to dearest.)
.. [5] F. Kesicki and P. Ekins, "Marginal abatement cost curves: a call for caution", Climate
   Policy 12(2), 219-236, 2012. https://doi.org/10.1080/14693062.2011.582347
.. [6] NumPy <= 1.19, ``numpy.irr`` (moved to numpy-financial by NEP 32): roots of the
   polynomial in :math:`1/(1+r)`; of several real roots it returns the one closest to zero.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

__all__ = [
    "Upgrade",
    "capital_recovery_factor",
    "cash_flow_table",
    "cash_flows",
    "discount_factors",
    "discounted_payback_years",
    "evaluate",
    "irr",
    "irr_roots",
    "levelised_abatement_cost",
    "macc",
    "macc_figure",
    "npv",
    "salvage_value",
    "simple_payback_years",
]

MACC_COLUMNS: tuple[str, ...] = (
    "name", "abatement_cost_per_t", "annual_abatement_t", "abatement_start_t",
    "cumulative_abatement_t", "annual_net_cost", "npv", "capex",
)
"""Columns of :func:`macc`, in order."""

MACC_UNITS: dict[str, str] = {
    "abatement_cost_per_t": "currency/tCO2", "annual_abatement_t": "tCO2/yr",
    "abatement_start_t": "tCO2/yr", "cumulative_abatement_t": "tCO2/yr",
    "annual_net_cost": "currency/yr", "npv": "currency", "capex": "currency",
}
"""Unit of each numeric column of :func:`macc` (also in ``DataFrame.attrs["units"]``)."""


# --------------------------------------------------------------------------------------------
# validation helpers


def _finite(name: str, value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(x):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return x


def _rate(name: str, value: Any) -> float:
    x = _finite(name, value)
    if x <= -1.0:
        raise ValueError(f"{name}: a rate per year must be greater than -1 (-100 %), got {value!r}")
    return x


def _whole_years(name: str, value: Any, minimum: int = 1) -> int:
    x = _finite(name, value)
    if x != int(x) or x < minimum:
        raise ValueError(f"{name}: expected a whole number of years >= {minimum}, got {value!r}")
    return int(x)


def _flows(flows: Any) -> np.ndarray:
    f = np.asarray(flows, dtype=float)
    if f.ndim != 1 or f.size == 0:
        raise ValueError(f"flows: expected a non-empty 1-D sequence, got shape {f.shape}")
    if not np.isfinite(f).all():
        raise ValueError("flows: every cash flow must be finite")
    return f


# --------------------------------------------------------------------------------------------
# the upgrade


@dataclass(frozen=True, kw_only=True)
class Upgrade:
    r"""One upgrade (measure) with its costs and the savings a simulated comparison found.

    Keyword-only; invalid values raise :class:`ValueError` naming the field.

    Parameters
    ----------
    name : str
        Label, unique within a study (it names the bar of the MACC).
    capex : float
        Initial investment, paid in year 0 [currency]. ``>= 0``.
    lifetime_years : int
        Service life of the equipment [yr]; a whole number ``>= 1``.
    annual_cost_saving : float
        Energy and demand cost saved per year at today's prices, base minus scenario of a
        simulated comparison [currency/yr]. Negative if the upgrade costs more to run.
    annual_co2_saving_t : float
        CO2 avoided per year, base minus scenario [tCO2/yr].
    discount_rate : float
        Discount rate [1/yr] as a fraction (0.08 = 8 %/yr), the owner's cost of capital or
        hurdle rate. ``> -1``. No default: there is no neutral value (REopt's US default, for
        comparison, is 0.0564 [2]_).
    fixed_om_per_year : float, default 0
        Fixed operation and maintenance cost [currency/yr] at today's prices. Negative for an
        upgrade that reduces maintenance.
    variable_om_per_kwh : float, default 0
        Variable O&M cost [currency/kWh] of ``annual_energy_kwh``.
    annual_energy_kwh : float, default 0
        Energy the upgrade produces or handles per year, the basis of variable O&M [kWh/yr]
        (e.g. PV generation or battery throughput).
    replacement_cost : float or None, default None
        Cost of one replacement [currency]; ``None`` means ``capex``. ``>= 0``.
    replacement_years : sequence of int or None, default None
        Years (1..N-1) at whose end the equipment is replaced, its life restarting. ``None``:
        every ``lifetime_years`` while inside the analysis (years L, 2L, ... < N). ``()``: never
        (then ``analysis_years`` may not exceed ``lifetime_years``). The equipment may never be
        older than its lifetime within the analysis period.
    salvage_value : float or None, default None
        Residual value credited at the end of year N [currency]. ``None``: linear depreciation,
        see :func:`salvage_value`. Give a number to override (negative for a disposal cost).
    price_escalation_rate : float, default 0
        Yearly change of energy prices, applied to ``annual_cost_saving`` [1/yr], ``> -1``.
    om_escalation_rate : float, default 0
        Yearly change of O&M costs [1/yr], ``> -1``.
    co2_saving_change_rate : float, default 0
        Yearly change of the CO2 saving [1/yr], ``> -1``; e.g. -0.03 for a grid whose emission
        factor falls 3 %/yr.
    analysis_years : int or None, default None
        Length N of the analysis [yr]; ``None`` means ``lifetime_years``.

    Notes
    -----
    Year t (1..N) of the analysis, with :math:`e`, :math:`e_{om}` and :math:`g` the three
    yearly rates (escalation starts in year 1, see the module notes):

    .. math::

        S_t = S (1+e)^t, \quad
        OM_t = (OM_{fix} + c_{var} E)(1+e_{om})^t, \quad
        Q_t = Q (1+g)^t
    """

    name: str
    capex: float
    lifetime_years: int
    annual_cost_saving: float
    annual_co2_saving_t: float
    discount_rate: float
    fixed_om_per_year: float = 0.0
    variable_om_per_kwh: float = 0.0
    annual_energy_kwh: float = 0.0
    replacement_cost: float | None = None
    replacement_years: tuple[int, ...] | None = None
    salvage_value: float | None = None
    price_escalation_rate: float = 0.0
    om_escalation_rate: float = 0.0
    co2_saving_change_rate: float = 0.0
    analysis_years: int | None = None

    def __post_init__(self) -> None:
        def put(attr: str, value: Any) -> None:
            object.__setattr__(self, attr, value)

        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"name: expected a non-empty string, got {self.name!r}")
        put("capex", _finite("capex", self.capex))
        if self.capex < 0:
            raise ValueError(f"capex: must be >= 0, got {self.capex!r}")
        put("lifetime_years", _whole_years("lifetime_years", self.lifetime_years))
        for attr in ("annual_cost_saving", "annual_co2_saving_t", "fixed_om_per_year",
                     "variable_om_per_kwh", "annual_energy_kwh"):
            put(attr, _finite(attr, getattr(self, attr)))
        for attr in ("discount_rate", "price_escalation_rate", "om_escalation_rate",
                     "co2_saving_change_rate"):
            put(attr, _rate(attr, getattr(self, attr)))
        n = (self.lifetime_years if self.analysis_years is None
             else _whole_years("analysis_years", self.analysis_years))
        put("analysis_years", n)
        if self.replacement_cost is not None:
            put("replacement_cost", _finite("replacement_cost", self.replacement_cost))
            if self.replacement_cost < 0:
                raise ValueError(f"replacement_cost: must be >= 0, got {self.replacement_cost!r}")
        if self.salvage_value is not None:
            put("salvage_value", _finite("salvage_value", self.salvage_value))
        if self.replacement_years is not None:
            if isinstance(self.replacement_years, (str, bytes)) or not isinstance(
                    self.replacement_years, Iterable):
                raise ValueError("replacement_years: expected a sequence of whole years, got "
                                 f"{self.replacement_years!r}")
            years = tuple(sorted(_whole_years("replacement_years", y)
                                 for y in self.replacement_years))
            if len(set(years)) != len(years):
                raise ValueError(f"replacement_years: years repeat: {years}")
            if years and years[-1] >= n:
                raise ValueError(f"replacement_years: must lie in 1..{n - 1} (analysis_years - 1),"
                                 f" got {years}")
            put("replacement_years", years)
        installs = (0, *self.replacement_schedule(), n)
        age = max(b - a for a, b in itertools.pairwise(installs))
        if age > self.lifetime_years:
            raise ValueError(
                f"replacement_years: with replacements at {self.replacement_schedule()} the "
                f"equipment would run {age} years, beyond lifetime_years = {self.lifetime_years} "
                f"(analysis_years = {n}); add a replacement or shorten analysis_years")

    def replacement_schedule(self) -> tuple[int, ...]:
        """Years (1..N-1) at whose end the equipment is replaced."""
        if self.replacement_years is not None:
            return tuple(self.replacement_years)
        n, life = int(self.analysis_years), self.lifetime_years
        return tuple(range(life, n, life))

    @property
    def replacement_cost_value(self) -> float:
        """Cost of one replacement [currency] (``capex`` unless given)."""
        return self.capex if self.replacement_cost is None else float(self.replacement_cost)

    @property
    def annual_om_cost(self) -> float:
        """O&M cost per year at today's prices, fixed plus variable [currency/yr]."""
        return self.fixed_om_per_year + self.variable_om_per_kwh * self.annual_energy_kwh

    @property
    def annual_net_saving(self) -> float:
        """Saving minus O&M per year at today's prices [currency/yr] (simple payback basis)."""
        return self.annual_cost_saving - self.annual_om_cost


# --------------------------------------------------------------------------------------------
# cash flows


def salvage_value(upgrade: Upgrade) -> float:
    r"""Residual value of the equipment at the end of the analysis [currency].

    Parameters
    ----------
    upgrade : Upgrade

    Returns
    -------
    float
        ``upgrade.salvage_value`` if given, else the linear-depreciation value [currency].

    Notes
    -----
    Linear depreciation to zero over the lifetime L, as in HOMER [3]_:

    .. math:: V = C_{last} \frac{L - (N - y_{last})}{L}

    with :math:`y_{last}` the year the unit in service at the end was installed (0 or the last
    replacement year) and :math:`C_{last}` what it cost (``capex`` or ``replacement_cost``).
    HOMER bases the salvage value on the replacement cost in every case; here the unit's own cost
    is used, which differs only when ``replacement_cost != capex`` and nothing was replaced.
    """
    if upgrade.salvage_value is not None:
        return float(upgrade.salvage_value)
    n, life = int(upgrade.analysis_years), upgrade.lifetime_years
    schedule = upgrade.replacement_schedule()
    last = schedule[-1] if schedule else 0
    cost = upgrade.replacement_cost_value if schedule else upgrade.capex
    remaining = life - (n - last)
    return cost * remaining / life


def cash_flow_table(upgrade: Upgrade) -> pd.DataFrame:
    r"""Year-by-year cash flows of an upgrade, by component.

    Parameters
    ----------
    upgrade : Upgrade

    Returns
    -------
    pandas.DataFrame
        Index ``year`` 0..N. Columns [currency] unless noted: ``capex`` (year 0, negative),
        ``cost_saving`` (escalated energy and demand saving), ``om_cost`` (negative),
        ``replacement`` (negative), ``salvage`` (year N), ``net`` (their sum, the flows of
        :func:`cash_flows`), ``discount_factor`` [-], ``discounted_net``,
        ``cumulative_discounted_net``, ``co2_saving_t`` [tCO2].

    Notes
    -----
    .. math::

        F_0 = -\mathrm{capex}, \qquad
        F_t = S_t - OM_t - R_t + V\,[t = N], \quad t = 1..N

    with :math:`S_t`, :math:`OM_t` as in :class:`Upgrade`, :math:`R_t` the replacement cost in a
    replacement year and :math:`V` the :func:`salvage_value`. Discount factor
    :math:`(1+r)^{-t}` (:func:`discount_factors`).
    """
    n = int(upgrade.analysis_years)
    t = np.arange(n + 1, dtype=float)
    operating = t >= 1
    capex = np.where(t == 0, -upgrade.capex, 0.0)
    saving = np.where(operating,
                      upgrade.annual_cost_saving * (1.0 + upgrade.price_escalation_rate) ** t, 0.0)
    om = np.where(operating, -upgrade.annual_om_cost * (1.0 + upgrade.om_escalation_rate) ** t,
                  0.0)
    replacement = np.zeros(n + 1)
    for year in upgrade.replacement_schedule():
        replacement[year] -= upgrade.replacement_cost_value
    salvage = np.zeros(n + 1)
    salvage[n] = salvage_value(upgrade)
    net = capex + saving + om + replacement + salvage
    factor = discount_factors(upgrade.discount_rate, n + 1)
    co2 = np.where(operating,
                   upgrade.annual_co2_saving_t * (1.0 + upgrade.co2_saving_change_rate) ** t, 0.0)
    table = pd.DataFrame({
        "capex": capex, "cost_saving": saving, "om_cost": om, "replacement": replacement,
        "salvage": salvage, "net": net, "discount_factor": factor, "discounted_net": net * factor,
        "cumulative_discounted_net": np.cumsum(net * factor), "co2_saving_t": co2,
    }, index=pd.RangeIndex(n + 1, name="year"))
    return table


def cash_flows(upgrade: Upgrade) -> np.ndarray:
    """Net cash flow of each year 0..N [currency]: ``cash_flow_table(upgrade)["net"]``.

    Year 0 is ``-capex``; years 1..N are the escalated saving minus O&M minus replacements, plus
    the salvage value in year N. See :func:`cash_flow_table` for the formula.
    """
    return cash_flow_table(upgrade)["net"].to_numpy()


# --------------------------------------------------------------------------------------------
# discounting, NPV, IRR


def discount_factors(rate: float, years: int) -> np.ndarray:
    r"""Discount factors of years 0, 1, ..., ``years - 1`` for end-of-year flows [-].

    Parameters
    ----------
    rate : float
        Discount rate [1/yr] as a fraction, ``> -1``.
    years : int
        How many factors (the flows of years 0..N need N + 1).

    Returns
    -------
    numpy.ndarray
        :math:`(1+r)^{-t}`, ``t = 0..years-1``: 1 for year 0 (undiscounted).

    Notes
    -----
    The one discounting rule of this module: :func:`npv`, :func:`cash_flow_table`,
    :func:`capital_recovery_factor` and :func:`discounted_payback_years` all take their factors
    from here (Short, Packey & Holt [1]_, end-of-year convention).
    """
    return (1.0 + rate) ** -np.arange(years, dtype=float)


def npv(rate: float, flows: Sequence[float] | np.ndarray) -> float:
    r"""Net present value of yearly cash flows, the first one at year 0 (undiscounted).

    Parameters
    ----------
    rate : float
        Discount rate [1/yr] as a fraction, ``> -1``.
    flows : array_like
        Cash flows of years 0, 1, ..., N [currency].

    Returns
    -------
    float
        NPV [currency].

    Notes
    -----
    .. math:: \mathrm{NPV}(r) = \sum_{t=0}^{N} F_t (1+r)^{-t}

    Short, Packey & Holt [1]_; REopt's ``npv`` [2]_ and numpy-financial's ``npv`` use the same
    timing (Excel's ``NPV`` would discount :math:`F_0` by one year).
    """
    r = _rate("rate", rate)
    f = _flows(flows)
    return float(np.sum(f * discount_factors(r, f.size)))


def capital_recovery_factor(rate: float, years: int) -> float:
    r"""Capital recovery factor: the level yearly payment that repays 1 over ``years``.

    Parameters
    ----------
    rate : float
        Discount rate [1/yr], ``> -1``.
    years : int
        Number of yearly payments [yr], ``>= 1``.

    Returns
    -------
    float
        CRF [1/yr].

    Notes
    -----
    .. math:: \mathrm{CRF}(r, N) = \frac{r (1+r)^N}{(1+r)^N - 1}, \qquad \mathrm{CRF}(0, N) = 1/N

    i.e. the inverse of :math:`\sum_{t=1}^{N} (1+r)^{-t}` [1]_.
    """
    r = _rate("rate", rate)
    n = _whole_years("years", years)
    if r == 0.0:
        return 1.0 / n
    return 1.0 / float(np.sum(discount_factors(r, n + 1)[1:]))


def _poly_sign_function(c: np.ndarray):
    """g(x) with the sign and the roots of Q(x) = sum_k c_k x^k on x > 0, free of overflow:
    Q(x) for x <= 1, and Q(x)/x^d (the reversed polynomial at 1/x) for x > 1."""
    forward = c[::-1]  # np.polyval wants the highest power first

    def g(x):
        if np.ndim(x) == 0:
            return float(np.polyval(forward, x) if x <= 1.0 else np.polyval(c, 1.0 / x))
        x = np.asarray(x, dtype=float)
        small = x <= 1.0
        out = np.empty_like(x)
        out[small] = np.polyval(forward, x[small])
        out[~small] = np.polyval(c, 1.0 / x[~small])
        return out

    return g


def irr_roots(flows: Sequence[float] | np.ndarray, *, points_per_decade: int = 200) -> np.ndarray:
    r"""All internal rates of return found by a bracketing search, in ascending order.

    Parameters
    ----------
    flows : array_like
        Cash flows of years 0..N [currency].
    points_per_decade : int, default 200
        Density of the sign-change scan (see Notes).

    Returns
    -------
    numpy.ndarray
        Rates :math:`r > -1` [1/yr] with :math:`\mathrm{NPV}(r) = 0`; empty if none was found.

    Notes
    -----
    With :math:`x = 1/(1+r)` the NPV is the polynomial :math:`P(x) = \sum_t F_t x^t` and the
    IRRs are its roots on :math:`x > 0` (the approach of NumPy's former ``irr`` [6]_). Leading
    and trailing zero flows are stripped (they only add roots at 0 or infinity). All roots lie in
    the annulus given by Cauchy's bound, :math:`1/(1 + \max_{k>0}|c_k/c_0|) \le |x| \le 1 +
    \max_{k<d}|c_k/c_d|`. That interval is scanned on a geometric grid for sign changes and each
    bracket is refined with Brent's method (:func:`scipy.optimize.brentq`) to machine precision.

    Caveats: Descartes' rule of signs bounds the number of IRRs by the number of sign changes of
    the flows, so a conventional investment (outflows, then inflows) has at most one. Flows with
    several sign changes may have several IRRs, or none. A double root (NPV touching zero without
    crossing) and two roots within one grid step (a ratio of :math:`10^{1/200}` in
    :math:`1+r` by default) are not found.
    """
    f = _flows(flows)
    if not (isinstance(points_per_decade, int) and points_per_decade >= 1):
        raise ValueError(f"points_per_decade: expected an integer >= 1, got {points_per_decade!r}")
    nonzero = np.flatnonzero(f)
    if nonzero.size < 2:
        return np.array([])
    c = f[nonzero[0]: nonzero[-1] + 1]
    if (c >= 0).all() or (c <= 0).all():
        return np.array([])  # no sign change: no positive root (Descartes)
    a = np.abs(c) / np.max(np.abs(c))
    with np.errstate(over="ignore"):
        hi = 1.0 + float(np.max(a[:-1] / a[-1]))
        lo = 1.0 / (1.0 + float(np.max(a[1:] / a[0])))
    lo, hi = max(lo / 1.01, 1e-300), min(hi * 1.01, 1e300)
    decades = math.log10(hi / lo)
    n = max(64, math.ceil(decades * points_per_decade) + 1)
    x = np.geomspace(lo, hi, n)
    g = _poly_sign_function(c)
    y = g(x)
    roots: list[float] = []
    for i in np.flatnonzero(y == 0.0):
        roots.append(float(x[i]))
    for i in np.flatnonzero(np.sign(y[:-1]) * np.sign(y[1:]) < 0):
        root = brentq(g, x[i], x[i + 1], xtol=1e-300, rtol=4 * np.finfo(float).eps,
                      maxiter=500)
        roots.append(float(root))
    # r = 1/x - 1, written so that 1 - x is exact near x = 1 (small rates keep full precision)
    return np.array(sorted((1.0 - xr) / xr for xr in set(roots)))


def irr(flows: Sequence[float] | np.ndarray) -> float | None:
    r"""Internal rate of return: the discount rate at which the NPV is zero.

    Parameters
    ----------
    flows : array_like
        Cash flows of years 0..N [currency].

    Returns
    -------
    float or None
        IRR [1/yr] as a fraction; ``None`` if the NPV never changes sign (e.g. all flows of one
        sign). If there are several IRRs, the one closest to zero, as NumPy's former ``irr``
        chose [6]_; :func:`irr_roots` lists them all.

    Notes
    -----
    Solves :math:`\sum_{t=0}^{N} F_t (1+r)^{-t} = 0` for :math:`r > -1` [1]_ by bracketing and
    Brent's method, see :func:`irr_roots` for the method and the multiple-root caveat. A
    conventional investment (a negative year 0, non-negative flows after, at least one positive)
    has exactly one IRR.
    """
    rates = irr_roots(flows)
    if rates.size == 0:
        return None
    return float(rates[np.argmin(np.abs(rates))])


# --------------------------------------------------------------------------------------------
# payback


def simple_payback_years(capex: float, annual_net_saving: float) -> float | None:
    r"""Simple payback period: years of undiscounted net savings that repay the investment.

    Parameters
    ----------
    capex : float
        Initial investment [currency], ``>= 0``.
    annual_net_saving : float
        Net saving per year (cost saving minus O&M) [currency/yr].

    Returns
    -------
    float or None
        Payback [yr]; 0 when ``capex`` is 0; ``None`` ("never") when the net saving is not
        positive and ``capex > 0``.

    Notes
    -----
    .. math:: T_{sp} = \frac{\mathrm{capex}}{S - OM}

    It ignores the time value of money, escalation, replacements and what happens after the
    payback [1]_; the result may exceed the lifetime. See :func:`discounted_payback_years`.
    """
    c = _finite("capex", capex)
    s = _finite("annual_net_saving", annual_net_saving)
    if c < 0:
        raise ValueError(f"capex: must be >= 0, got {capex!r}")
    if c == 0:
        return 0.0
    if s <= 0:
        return None
    return c / s


def discounted_payback_years(flows: Sequence[float] | np.ndarray, rate: float) -> float | None:
    r"""Discounted payback period: when the cumulative discounted cash flow first reaches zero.

    Parameters
    ----------
    flows : array_like
        Cash flows of years 0..N [currency].
    rate : float
        Discount rate [1/yr], ``> -1``. ``rate=0`` gives the undiscounted payback of the
        series (with escalation and replacements, unlike :func:`simple_payback_years`).

    Returns
    -------
    float or None
        Payback [yr], interpolated within the year; 0 if the cumulative value is never negative;
        ``None`` if it is still negative at the end of year N.

    Notes
    -----
    With :math:`D_k = \sum_{t=0}^{k} F_t (1+r)^{-t}` and k the first year with
    :math:`D_{k-1} < 0 \le D_k`:

    .. math:: T_{dp} = (k - 1) + \frac{-D_{k-1}}{D_k - D_{k-1}}

    Linear interpolation treats year k's discounted flow as arriving evenly through the year (the
    flows themselves are end-of-year); without it the payback would be the whole year k. The
    *first* crossing is reported: if a later replacement takes the cumulative value below zero
    again, the investment has paid back once but not for good, and the table of
    :func:`cash_flow_table` shows it.
    """
    r = _rate("rate", rate)
    f = _flows(flows)
    d = np.cumsum(f * discount_factors(r, f.size))
    if d[0] >= 0:
        return 0.0
    reached = np.flatnonzero(d >= 0)
    if reached.size == 0:
        return None
    k = int(reached[0])
    return (k - 1) + float(-d[k - 1] / (d[k] - d[k - 1]))


# --------------------------------------------------------------------------------------------
# abatement cost


def _present_values(upgrade: Upgrade) -> dict[str, float]:
    table = cash_flow_table(upgrade)
    df = table["discount_factor"]
    costs = -(table["capex"] + table["om_cost"] + table["replacement"] + table["salvage"])
    return {
        "pv_costs": float((costs * df).sum()),
        "pv_savings": float((table["cost_saving"] * df).sum()),
        "pv_co2_t": float((table["co2_saving_t"] * df).sum()),
        "co2_t": float(table["co2_saving_t"].sum()),
        "npv": npv(upgrade.discount_rate, table["net"].to_numpy()),
    }


def levelised_abatement_cost(upgrade: Upgrade, *, discount_tonnes: bool = True) -> float | None:
    r"""Levelised cost of abating one tonne of CO2 with an upgrade [currency/tCO2].

    Parameters
    ----------
    upgrade : Upgrade
    discount_tonnes : bool, default True
        Discount the tonnes at the discount rate like the money (the levelised-cost convention);
        ``False`` divides by the plain sum of tonnes over the analysis.

    Returns
    -------
    float or None
        Abatement cost [currency/tCO2], negative when the upgrade pays for itself (NPV > 0);
        ``None`` when the upgrade avoids no CO2 (tonnes <= 0), where a cost per tonne has no
        meaning.

    Notes
    -----
    .. math::

        \mathrm{LAC} = \frac{PV_{costs} - PV_{savings}}{\sum_{t=1}^{N} Q_t (1+r)^{-t}}
                     = \frac{-\mathrm{NPV}}{\sum_{t=1}^{N} Q_t (1+r)^{-t}}

    where :math:`PV_{costs}` holds capex, O&M and replacements less the discounted salvage
    value, and :math:`PV_{savings}` the discounted energy and demand cost savings. Discounting
    the tonnes is what a levelised cost does with the energy it divides by [1]_: it is the
    constant price per tonne whose discounted revenue would just cover the net cost. For a
    constant yearly saving Q it equals the annualised net cost over the yearly tonnes,
    :math:`-\mathrm{NPV} \cdot \mathrm{CRF}(r, N) / Q`, the form used for MACC bars (capital
    annualised) [4]_. The alternative, undiscounted tonnes (``discount_tonnes=False``), gives a
    smaller magnitude for the same NPV whenever r > 0; state which one a comparison uses.
    """
    pv = _present_values(upgrade)
    tonnes = pv["pv_co2_t"] if discount_tonnes else pv["co2_t"]
    if not tonnes > 0:
        return None
    return (pv["pv_costs"] - pv["pv_savings"]) / tonnes


# --------------------------------------------------------------------------------------------
# all metrics, the MACC


def _json_float(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def evaluate(upgrade: Upgrade) -> dict[str, Any]:
    r"""Every economic metric of an upgrade, JSON-serialisable (floats, ints, bools or None).

    Parameters
    ----------
    upgrade : Upgrade

    Returns
    -------
    dict
        ``name``; inputs echoed: ``capex`` [currency], ``analysis_years`` [yr],
        ``discount_rate`` [1/yr], ``annual_cost_saving``, ``annual_om_cost``,
        ``annual_net_saving`` [currency/yr], ``annual_co2_saving_t`` [tCO2/yr]; results:
        ``npv`` [currency], ``irr`` [1/yr] (None if none), ``irr_count`` (number of IRRs found;
        more than one means :func:`irr` picked the one closest to zero),
        ``simple_payback_years`` and ``discounted_payback_years`` [yr] (None = never),
        ``levelised_abatement_cost_per_t`` [currency/tCO2] (tonnes discounted; None if no CO2
        is avoided), ``annualised_net_cost`` [currency/yr] (:math:`-\mathrm{NPV}\cdot
        \mathrm{CRF}`), ``pv_costs``, ``pv_savings``, ``salvage_value`` [currency],
        ``pv_co2_t`` [tCO2, discounted], ``lifetime_co2_saving_t`` [tCO2, undiscounted sum].
    """
    flows = cash_flows(upgrade)
    pv = _present_values(upgrade)
    rates = irr_roots(flows)
    n = int(upgrade.analysis_years)
    result: dict[str, Any] = {
        "name": upgrade.name,
        "capex": upgrade.capex,
        "analysis_years": n,
        "discount_rate": upgrade.discount_rate,
        "annual_cost_saving": upgrade.annual_cost_saving,
        "annual_om_cost": upgrade.annual_om_cost,
        "annual_net_saving": upgrade.annual_net_saving,
        "annual_co2_saving_t": upgrade.annual_co2_saving_t,
        "npv": pv["npv"],
        "irr": None if rates.size == 0 else float(rates[np.argmin(np.abs(rates))]),
        "irr_count": int(rates.size),
        "simple_payback_years": simple_payback_years(upgrade.capex, upgrade.annual_net_saving),
        "discounted_payback_years": discounted_payback_years(flows, upgrade.discount_rate),
        "levelised_abatement_cost_per_t": levelised_abatement_cost(upgrade),
        "annualised_net_cost": -pv["npv"] * capital_recovery_factor(upgrade.discount_rate, n),
        "pv_costs": pv["pv_costs"],
        "pv_savings": pv["pv_savings"],
        "salvage_value": salvage_value(upgrade),
        "pv_co2_t": pv["pv_co2_t"],
        "lifetime_co2_saving_t": pv["co2_t"],
    }
    return {k: _json_float(v) if isinstance(v, float) else v for k, v in result.items()}


def macc(upgrades: Iterable[Upgrade]) -> pd.DataFrame:
    r"""Marginal abatement cost curve of the upgrades of a study, as a table.

    Parameters
    ----------
    upgrades : iterable of Upgrade
        Names must be unique.

    Returns
    -------
    pandas.DataFrame
        One row per upgrade that avoids CO2, sorted by ``abatement_cost_per_t`` (then name).
        Columns (:data:`MACC_COLUMNS`, units in ``df.attrs["units"]``): ``name``,
        ``abatement_cost_per_t`` [currency/tCO2] (bar height, :func:`levelised_abatement_cost`),
        ``annual_abatement_t`` [tCO2/yr] (bar width), ``abatement_start_t`` and
        ``cumulative_abatement_t`` [tCO2/yr] (left and right edge of the bar),
        ``annual_net_cost`` [currency/yr] (height x width, the bar's area), ``npv`` and
        ``capex`` [currency].

    Notes
    -----
    In the McKinsey curve [4]_ each bar is one measure: its width is the abatement it delivers in
    a year, its height the cost per tonne, bars run from cheapest (negative, paying measures) to
    dearest, and the right edge of a bar is the abatement available at or below its cost.
    Here the width is ``annual_co2_saving_t`` (the simulated first-year saving):

    .. math:: x_{right,i} = \sum_{j \le i} Q_j, \qquad x_{left,i} = x_{right,i} - Q_i

    Upgrades with ``annual_co2_saving_t <= 0`` have no cost per tonne and are left out (their
    metrics stay available from :func:`evaluate`). Caveat [5]_: each bar is evaluated alone
    against the base; measures that interact (a battery and a PV array sharing the same
    midday hours) do not add up, so the cumulative abatement of interacting measures is only
    exact when each scenario in the study already includes those before it.
    """
    rows = []
    seen: set[str] = set()
    for up in upgrades:
        if not isinstance(up, Upgrade):
            raise ValueError(f"upgrades: expected Upgrade objects, got {type(up).__name__}")
        if up.name in seen:
            raise ValueError(f"name: duplicate upgrade name {up.name!r} in the MACC")
        seen.add(up.name)
        cost = levelised_abatement_cost(up)
        if cost is None or up.annual_co2_saving_t <= 0:
            continue
        n = int(up.analysis_years)
        value = npv(up.discount_rate, cash_flows(up))
        rows.append({
            "name": up.name, "abatement_cost_per_t": cost,
            "annual_abatement_t": up.annual_co2_saving_t,
            "annual_net_cost": -value * capital_recovery_factor(up.discount_rate, n),
            "npv": value, "capex": up.capex,
        })
    df = pd.DataFrame(rows, columns=["name", "abatement_cost_per_t", "annual_abatement_t",
                                     "annual_net_cost", "npv", "capex"])
    df = df.sort_values(["abatement_cost_per_t", "name"], kind="mergesort").reset_index(drop=True)
    df["cumulative_abatement_t"] = df["annual_abatement_t"].cumsum().astype(float)
    df["abatement_start_t"] = df["cumulative_abatement_t"] - df["annual_abatement_t"]
    df = df[list(MACC_COLUMNS)]
    df.attrs["units"] = dict(MACC_UNITS)
    return df


def macc_figure(df: pd.DataFrame, *, currency: str = "CNY") -> Any:
    """Plotly figure of a MACC table from :func:`macc`: variable-width bars.

    Parameters
    ----------
    df : pandas.DataFrame
        The output of :func:`macc`.
    currency : str, default "CNY"
        Currency label of the y axis.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace: x = bar centre, width = ``annual_abatement_t`` [tCO2/yr], y =
        ``abatement_cost_per_t`` [currency/tCO2]; green below zero (the upgrade pays), red above.
        Names and the currency go through :func:`html.escape` before they become plotly text
        (plotly.js reads some HTML tags in text).
    """
    import plotly.graph_objects as go

    from twin.i18n import tr

    cur = html.escape(str(currency), quote=True)
    names = [html.escape(str(name), quote=True) for name in df["name"]]
    width = df["annual_abatement_t"].to_numpy(dtype=float)
    centre = df["abatement_start_t"].to_numpy(dtype=float) + width / 2
    cost = df["abatement_cost_per_t"].to_numpy(dtype=float)
    colors = ["#2e9e4f" if c < 0 else "#d64541" for c in cost]
    fig = go.Figure(go.Bar(
        x=centre, y=cost, width=width, text=names, textposition="auto",
        marker={"color": colors, "line": {"color": "white", "width": 1}},
        customdata=[[name, float(w), float(c)] for name, w, c in
                    zip(names, width, df["cumulative_abatement_t"], strict=True)],
        hovertemplate=(f"<b>%{{customdata[0]}}</b><br>%{{y:,.0f}} {cur}/tCO2<br>"
                       + tr("{x} tCO2/yr (cumulative {y})", x="%{customdata[1]:,.1f}",
                            y="%{customdata[2]:,.1f}") + "<extra></extra>"),
    ))
    fig.update_layout(
        title=tr("Marginal abatement cost curve"),
        xaxis={"title": {"text": tr("Cumulative abatement [tCO2/yr]")}, "rangemode": "tozero"},
        yaxis={"title": {"text": tr("Abatement cost [{cur}/tCO₂]", cur=cur)},
               "zeroline": True},
        bargap=0, showlegend=False, plot_bgcolor="white",
    )
    return fig
