"""Scope 1, 2 and 3 emissions and standard coal equivalent, per interval and in total.

Pure functions over arrays (numpy arrays or pandas Series; a Series in gives a Series out).
Energy is per interval [kWh] (the run's hourly table, or any regular interval); emissions are in
kg CO2, or kg CO2e where non-CO2 gases enter (refrigerants, scope 3 factors).

Conventions
-----------
- **Scope 2 takes grid imports only.** Exported electricity never reduces scope 2 (GHG Protocol
  Scope 2 Guidance: scope 2 is electricity *consumed*; sales are not netted). Pass the gross
  import of each interval, never a net flow: negative values raise ``ValueError``.
- Location-based: import x grid factor (annual, or hourly from
  :func:`twin.carbon.factors.hourly_grid_factor`).
- Market-based: contractual instruments first, the rest at the residual factor (national average
  excluding market-traded non-fossil electricity); see :func:`scope2_market_kg` for the rule.
- Onsite renewable electricity consumed on site is not a grid import: it is zero in both methods
  (unless its certificates were sold, see :func:`scope2_market_kg`).
- Scope 1: fuel energy by LHV x (carbon content x oxidation x 44/12) per GB/T 32150; process
  emissions as given; refrigerant leakage = charge x annual leak rate x GWP (named report).

References
----------
.. [1] GHG Protocol Scope 2 Guidance (2015): dual reporting, Scope 2 Quality Criteria (unique
   claims; null power takes the residual mix).
.. [2] GHG Protocol Scope 2 revision, public consultation Oct-Dec 2025: hourly matching.
.. [3] GB/T 32150-2015; GB/T 2589-2020. See ``twin/data/carbon/README.md``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.carbon.factors import FactorTable, default_factors
from twin.energy.tariff import month_key

GJ_PER_KWH = 0.0036
"""Energy conversion [GJ/kWh] (exact)."""

KG_PER_T = 1000.0

# quantity unit -> (coefficient per-unit, multiplier)
_QUANTITY_UNITS: dict[tuple[str, str], float] = {
    ("kWh", "kWh"): 1.0, ("MWh", "kWh"): 1e3, ("GWh", "kWh"): 1e6,
    ("MJ", "MJ"): 1.0, ("GJ", "MJ"): 1e3, ("kWh", "MJ"): 3.6,
    ("GJ", "GJ"): 1.0, ("MJ", "GJ"): 1e-3, ("kWh", "GJ"): GJ_PER_KWH,
    ("kg", "kg"): 1.0, ("t", "kg"): 1e3, ("t", "t"): 1.0, ("kg", "t"): 1e-3,
    ("m3", "m3"): 1.0, ("Nm3", "m3"): 1.0, ("10^4 m3", "m3"): 1e4, ("10^4 Nm3", "m3"): 1e4,
}


def _table(factors: FactorTable | None) -> FactorTable:
    return default_factors() if factors is None else factors


def _optional_series(x, name: str, n: int) -> np.ndarray:
    """``x`` as a checked (finite, >= 0) array of ``n`` values per interval; zeros if None."""
    if x is None:
        return np.zeros(n)
    arr = np.asarray(_nonneg(x, name), float).ravel()
    if arr.size != n:
        raise ValueError(f"{name} has {arr.size} values, the period {n}")
    return arr


def _nonneg(x, name: str):
    """``x`` as float (scalar, ndarray or Series), checked finite and >= 0."""
    if isinstance(x, pd.Series):
        arr = x.to_numpy(dtype=float)
        out = x.astype(float)
    elif np.ndim(x) == 0:
        arr = np.asarray(float(x))
        out = float(x)
    else:
        arr = np.asarray(x, dtype=float)
        out = arr
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(f"{name} must be finite and >= 0; got {float(arr.ravel()[pos])!r} at "
                         f"position {pos}")
    return out


def _imports(x, name: str = "grid_import_kwh"):
    try:
        return _nonneg(x, name)
    except ValueError as err:
        raise ValueError(f"{err}. Pass gross grid imports per interval: exported electricity "
                         "never reduces scope 2") from None


# --------------------------------------------------------------------------------------------
# Scope 1
# --------------------------------------------------------------------------------------------

def fuel_kwh_from_units(fuel: str, amount, factors: FactorTable | None = None):
    """Fuel energy by LHV [kWh] from an amount in natural units.

    Parameters
    ----------
    fuel : str
        Fuel key, e.g. ``natural_gas``.
    amount : float, array-like or Series
        Amount [m3 for gaseous fuels, kg otherwise; see ``FuelFactor.natural_unit``].
    factors : FactorTable, optional
        Default: the packaged tables.

    Returns
    -------
    float, ndarray or Series
        amount x NCV [kWh].
    """
    f = _table(factors).fuel_factor(fuel)
    return _nonneg(amount, f"amount of {fuel}") * f.kwh_per_unit


def scope1_by_fuel_kg(fuel_kwh_by_fuel: Mapping[str, object],
                      factors: FactorTable | None = None, *, allow_unverified: bool = False
                      ) -> dict[str, object]:
    """Combustion CO2 per fuel [kg CO2 per interval].

    Parameters
    ----------
    fuel_kwh_by_fuel : mapping of str to float, array-like or Series
        Fuel key -> fuel energy by LHV per interval [kWh] (boilers, CHP, furnaces, vehicles).
    factors : FactorTable, optional
    allow_unverified : bool, default False
        Accept fuel parameters with status ``U``.

    Returns
    -------
    dict of str to float, ndarray or Series
        fuel -> kWh x ``FuelFactor.kg_co2_per_kwh``.
    """
    table = _table(factors)
    out = {}
    for fuel, kwh in fuel_kwh_by_fuel.items():
        ef = table.fuel_factor(fuel, allow_unverified=allow_unverified).kg_co2_per_kwh
        out[fuel] = _nonneg(kwh, f"fuel_kwh[{fuel!r}]") * ef
    return out


def scope1_kg(fuel_kwh_by_fuel: Mapping[str, object], factors: FactorTable | None = None, *,
              allow_unverified: bool = False):
    r"""Scope 1 combustion CO2 [kg CO2 per interval], summed over fuels.

    Parameters
    ----------
    fuel_kwh_by_fuel : mapping of str to float, array-like or Series
        Fuel key -> fuel energy by LHV per interval [kWh].
    factors : FactorTable, optional
        Default: the packaged tables.
    allow_unverified : bool, default False

    Returns
    -------
    float, ndarray or Series

    Notes
    -----
    Per GB/T 32150, :math:`E = AD \cdot NCV \cdot C \cdot OF \cdot 44/12`; with the fuel energy
    :math:`Q = AD \cdot NCV` [GJ] this is :math:`Q \cdot C\,[kgC/GJ] \cdot OF \cdot 44/12`. For
    natural gas (15.3 tC/TJ, OF 0.99): 55.539 kgCO2/GJ = 0.19994 kgCO2/kWh.
    """
    parts = scope1_by_fuel_kg(fuel_kwh_by_fuel, factors, allow_unverified=allow_unverified)
    total = 0.0
    for v in parts.values():
        total = total + v
    return total


@dataclass(frozen=True)
class Refrigerant:
    """A refrigerant charge that leaks.

    Attributes
    ----------
    gas : str or mapping of str to float
        Gas name (``HFC-134a``, ``R-32``...) or a blend as mass fractions, e.g. R-410A
        ``{"HFC-32": 0.5, "HFC-125": 0.5}``.
    charge_kg : float
        Charge of the equipment [kg].
    annual_leak_rate : float
        Fraction of the charge lost per year [-], e.g. 0.05.
    report : str
        IPCC assessment report of the GWP: ``AR4``, ``AR5`` or ``AR6``.
    name : str
        Label of the equipment, for the breakdown.
    """

    gas: str | Mapping[str, float]
    charge_kg: float
    annual_leak_rate: float
    report: str
    name: str = ""


def refrigerant_leakage_kg(refrigerants: Iterable[Refrigerant],
                           factors: FactorTable | None = None) -> pd.DataFrame:
    """Annual refrigerant leakage per charge [kg CO2e per year].

    Returns
    -------
    DataFrame
        One row per refrigerant: ``name``, ``gas``, ``report``, ``gwp`` [kgCO2e/kg],
        ``charge_kg``, ``annual_leak_rate``, ``leak_kg_per_year`` = charge x rate,
        ``kg_co2e_per_year`` = leak x GWP.
    """
    table = _table(factors)
    rows = []
    for r in refrigerants:
        _nonneg(r.charge_kg, "charge_kg")
        if not 0 <= float(r.annual_leak_rate) <= 1:
            raise ValueError(f"annual_leak_rate must be in [0, 1], got {r.annual_leak_rate!r}")
        if isinstance(r.gas, Mapping):
            g = table.blend_gwp(r.gas, r.report)
            gas = "+".join(f"{k}:{v:g}" for k, v in r.gas.items())
        else:
            g = table.gwp(r.gas, r.report)
            gas = str(r.gas)
        leak = float(r.charge_kg) * float(r.annual_leak_rate)
        rows.append({"name": r.name, "gas": gas, "report": r.report, "gwp": g,
                     "charge_kg": float(r.charge_kg), "annual_leak_rate": float(r.annual_leak_rate),
                     "leak_kg_per_year": leak, "kg_co2e_per_year": leak * g})
    cols = ["name", "gas", "report", "gwp", "charge_kg", "annual_leak_rate", "leak_kg_per_year",
            "kg_co2e_per_year"]
    return pd.DataFrame(rows, columns=cols)


def _durations_h(index: pd.DatetimeIndex | None, n: int | None, interval_h: float) -> np.ndarray:
    """Duration of every interval [h], from an evenly spaced ``index`` or ``n`` intervals of
    ``interval_h``; at least one interval, every duration > 0."""
    if (index is None or len(index) <= 1) and not (0 < float(interval_h) < math.inf):
        raise ValueError(f"interval_h={interval_h!r}: expected a duration > 0 [h]")
    if index is not None:
        if len(index) > 1:
            d = np.diff(index.as_unit("ns").asi8) / 3.6e12
            if not d[0] > 0:
                raise ValueError("index must be increasing")
            if not np.allclose(d, d[0]):
                raise ValueError("index must be evenly spaced")
            return np.full(len(index), d[0])
        if len(index) == 0:
            raise ValueError("index has no intervals")
        return np.full(1, float(interval_h))
    if n is None:
        raise ValueError("give index or n_intervals (or process_kg per interval)")
    if not int(n) >= 1:
        raise ValueError(f"n_intervals={n!r}: expected at least 1")
    return np.full(int(n), float(interval_h))


def process_and_refrigerant_kg(refrigerants: Iterable[Refrigerant] = (), *, process_kg=0.0,
                               index: pd.DatetimeIndex | None = None,
                               n_intervals: int | None = None, interval_h: float = 1.0,
                               factors: FactorTable | None = None,
                               hours_per_year: float = 8760.0) -> pd.DataFrame:
    """Scope 1 process emissions and refrigerant leakage per interval.

    Parameters
    ----------
    refrigerants : iterable of Refrigerant
        Charges that leak; each gives charge x annual leak rate x GWP [kg CO2e/year], spread
        evenly over time: per interval ``x duration_h / hours_per_year``.
    process_kg : float or array-like
        Process CO2 (e.g. carbonate decomposition) [kg]: a scalar is the total of the period,
        spread in proportion to interval duration; an array gives each interval's value.
    index : DatetimeIndex, optional
        Interval starts (evenly spaced); sets the number and duration of intervals.
    n_intervals : int, optional
        Number of intervals when there is no index (default: length of ``process_kg``).
    interval_h : float, default 1.0
        Interval duration [h] when there is no index.
    factors : FactorTable, optional
    hours_per_year : float, default 8760
        Hours over which the annual leak rate applies.

    Returns
    -------
    DataFrame
        ``process_kg_co2``, ``refrigerant_kg_co2e`` and ``total_kg_co2e`` per interval, on
        ``index`` (or a RangeIndex).
    """
    if not 0 < float(hours_per_year) < math.inf:
        raise ValueError(f"hours_per_year={hours_per_year!r}: expected hours > 0")
    proc = _nonneg(process_kg, "process_kg")
    if np.ndim(proc) > 0 and n_intervals is None and index is None:
        n_intervals = len(proc)
    dur = _durations_h(index, n_intervals, interval_h)
    if np.ndim(proc) == 0:
        proc_arr = float(proc) * dur / dur.sum()  # (every duration > 0: _durations_h)
    else:
        proc_arr = np.asarray(proc, dtype=float)
        if proc_arr.size != dur.size:
            raise ValueError(f"process_kg has {proc_arr.size} values, the period {dur.size}")
    annual = float(refrigerant_leakage_kg(refrigerants, factors)["kg_co2e_per_year"].sum())
    refr = annual * dur / float(hours_per_year)
    idx = index if index is not None else pd.RangeIndex(dur.size)
    return pd.DataFrame({"process_kg_co2": proc_arr, "refrigerant_kg_co2e": refr,
                         "total_kg_co2e": proc_arr + refr}, index=idx)


# --------------------------------------------------------------------------------------------
# Scope 2
# --------------------------------------------------------------------------------------------

def scope2_location_kg(grid_import_kwh, ef_kg_per_kwh):
    """Location-based scope 2 [kg CO2 per interval] = grid import x grid factor.

    Parameters
    ----------
    grid_import_kwh : float, array-like or Series
        Gross grid import per interval [kWh], >= 0. Exports are not an input: they never reduce
        scope 2.
    ef_kg_per_kwh : float, array-like or Series
        Grid factor [kgCO2/kWh]: the annual official factor, or one value per interval.

    Returns
    -------
    float, ndarray or Series
    """
    return _imports(grid_import_kwh) * _nonneg(ef_kg_per_kwh, "ef_kg_per_kwh")


def scope2_heat_kg(heat_purchased_kwh, t_co2_per_gj: float | None = None, *,
                   factors: FactorTable | None = None):
    """Scope 2 of purchased heat or steam [kg CO2 per interval].

    Parameters
    ----------
    heat_purchased_kwh : float, array-like or Series
        Purchased heat per interval [kWh] (1 kWh = 0.0036 GJ).
    t_co2_per_gj : float, optional
        Factor [tCO2/GJ]; default ``heat_factor()`` (0.11, the MEE default).

    Returns
    -------
    float, ndarray or Series
        kWh x 0.0036 GJ/kWh x factor x 1000 kg/t (0.396 kg/kWh at 0.11 t/GJ).
    """
    f = _table(factors).heat_factor() if t_co2_per_gj is None else float(t_co2_per_gj)
    _nonneg(f, "t_co2_per_gj")
    return _nonneg(heat_purchased_kwh, "heat_purchased_kwh") * (GJ_PER_KWH * f * KG_PER_T)


@dataclass(frozen=True)
class MarketBasedResult:
    """Market-based scope 2 with the instruments used.

    Attributes
    ----------
    kg : Series
        Market-based scope 2 per interval [kg CO2].
    coverage_kwh : DataFrame
        Per interval [kWh]: ``grid_import_kwh`` and how it was covered, ``contract_profile_kwh``,
        ``contract_monthly_kwh``, ``gec_kwh``, ``residual_kwh`` (at the residual factor); plus
        ``onsite_kwh`` (self-consumed onsite renewables) and ``onsite_unclaimed_kwh`` (the part
        whose attributes were sold, at the residual factor).
    instruments : DataFrame
        Rows ``contract_profile``, ``contract_monthly``, ``gec``, ``onsite``; columns
        ``available_mwh``, ``used_mwh``, ``unused_mwh``.
    contracts_by_month : DataFrame
        Monthly contracts by month (``YYYY-MM``): ``available_mwh``, ``used_mwh``,
        ``unused_mwh``.
    """

    kg: pd.Series
    coverage_kwh: pd.DataFrame
    instruments: pd.DataFrame
    contracts_by_month: pd.DataFrame

    @property
    def total_kg(self) -> float:
        """Market-based scope 2 of the period [kg CO2]."""
        return float(self.kg.sum())


def _month_code(key, years: list[int]) -> int:
    if isinstance(key, bool):
        raise ValueError(f"bad contract month {key!r}")
    if isinstance(key, (int, np.integer)):
        if not 1 <= int(key) <= 12:
            raise ValueError(f"contract month {key!r} must be 1..12 or 'YYYY-MM'")
        if len(years) != 1:
            raise ValueError(f"integer contract month {key!r} is ambiguous: the period spans "
                             f"years {years}; use 'YYYY-MM' keys")
        return years[0] * 12 + int(key) - 1
    if isinstance(key, tuple) and len(key) == 2:
        return int(key[0]) * 12 + int(key[1]) - 1
    if isinstance(key, (pd.Period, pd.Timestamp, dt.date)):
        return int(key.year) * 12 + int(key.month) - 1
    try:  # a text month must name its year ('Jan' would be read as January of year 1)
        if not re.search(r"\d{4}", str(key)):
            raise ValueError
        p = pd.Period(str(key), freq="M")
    except (ValueError, TypeError):
        raise ValueError(f"contract month {key!r}: use 1..12, 'YYYY-MM', a Period or "
                         "(year, month)") from None
    return int(p.year) * 12 + int(p.month) - 1


def _label(code: int) -> str:
    return f"{code // 12:04d}-{code % 12 + 1:02d}"


def scope2_market_kg(grid_import_kwh, index: pd.DatetimeIndex, residual_ef,
                     contracts_mwh_by_month: Mapping | pd.Series | None = None,
                     contract_profile_kwh=None, gec_mwh: float = 0.0,
                     onsite_renewable_kwh=None, *,
                     onsite_attributes_retained: bool = True) -> MarketBasedResult:
    """Market-based scope 2 with green-power contracts, GECs and onsite renewables.

    Parameters
    ----------
    grid_import_kwh : array-like or Series
        Gross grid import per interval [kWh], >= 0 (exports never reduce scope 2).
    index : DatetimeIndex
        Interval starts, local time (months are taken from it).
    residual_ef : float or array-like
        Factor for uncovered imports [kgCO2/kWh]: the national average excluding market-traded
        non-fossil electricity (``grid_factor("national", year, "residual")``).
    contracts_mwh_by_month : mapping or Series, optional
        Green-power trading (绿电交易, certificates bundled) delivered per month [MWh]. Keys:
        1..12 (single-year periods), ``'YYYY-MM'``, ``pd.Period`` or ``(year, month)``. Months
        outside the period raise.
    contract_profile_kwh : array-like, optional
        Contracted green power per interval [kWh] (an hourly delivery profile).
    gec_mwh : float, default 0
        Unbundled green electricity certificates retired for the period (1 GEC = 1 MWh).
    onsite_renewable_kwh : array-like, optional
        Onsite renewable electricity consumed on site per interval [kWh]. It is not a grid
        import and adds nothing unless its attributes were sold.
    onsite_attributes_retained : bool, default True
        False if the certificates of the onsite generation were sold: that electricity is then
        null power and is counted at the residual factor (Scope 2 Quality Criteria: claims are
        unique).

    Returns
    -------
    MarketBasedResult

    Notes
    -----
    Allocation, in this order; each MWh of an instrument covers at most one MWh of import, and no
    interval is covered beyond its import:

    1. hourly contract profile, interval by interval: ``min(import_h, profile_h)``; a surplus in
       one interval is not carried to another;
    2. monthly contracts, month by month, against the import left in that month; the covered
       energy is spread over the month's intervals in proportion to the import left;
    3. GECs over the whole period, against the import left, spread in the same way.

    What is left is at the residual factor. Instruments beyond consumption are reported as
    ``unused_mwh`` and credited nothing. The spreading in steps 2-3 affects only the hourly
    profile of emissions (and the total if ``residual_ef`` varies by interval).
    """
    imp = np.asarray(_imports(grid_import_kwh), dtype=float).ravel()
    n = imp.size
    if len(index) != n:
        raise ValueError(f"index has {len(index)} entries, grid_import_kwh {n}")
    res_ef = np.broadcast_to(np.asarray(_nonneg(residual_ef, "residual_ef"), float), (n,))

    # 1. hourly profile
    prof = _optional_series(contract_profile_kwh, "contract_profile_kwh", n)
    c_prof = np.minimum(imp, prof)
    left = imp - c_prof

    # 2. monthly contracts
    codes = month_key(index)
    months, inverse = np.unique(codes, return_inverse=True)
    c_month = np.zeros(n)
    by_month = pd.DataFrame(columns=["available_mwh", "used_mwh", "unused_mwh"], dtype=float)
    if contracts_mwh_by_month is not None:
        years = sorted({int(m) // 12 for m in months})
        avail: dict[int, float] = {}
        for key, mwh in contracts_mwh_by_month.items():
            code = _month_code(key, years)
            if code in avail:
                raise ValueError(f"contract month {key!r} given twice")
            avail[code] = float(_nonneg(mwh, f"contracts_mwh_by_month[{key!r}]")) * 1000.0
        outside = sorted(set(avail) - set(months.tolist()))
        if outside:
            raise ValueError(f"contract months outside the period: {[_label(c) for c in outside]}"
                             f"; the period covers {_label(months[0])} to {_label(months[-1])}")
        left_m = np.bincount(inverse, weights=left, minlength=months.size)
        avail_m = np.array([avail.get(int(m), 0.0) for m in months])
        used_m = np.minimum(avail_m, left_m)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(left_m > 0, used_m / left_m, 0.0)
        c_month = left * frac[inverse]
        left = left - c_month
        rows = {_label(int(m)): (a / 1000, u / 1000, (a - u) / 1000)
                for m, a, u in zip(months, avail_m, used_m, strict=True) if int(m) in avail}
        by_month = pd.DataFrame.from_dict(rows, orient="index",
                                          columns=["available_mwh", "used_mwh", "unused_mwh"])

    # 3. GECs over the period
    gec_kwh = float(_nonneg(gec_mwh, "gec_mwh")) * 1000.0
    left_total = float(left.sum())
    gec_used = min(gec_kwh, left_total)
    c_gec = left * (gec_used / left_total) if left_total > 0 else np.zeros(n)
    left = np.maximum(left - c_gec, 0.0)

    # onsite renewables (not imports)
    onsite = _optional_series(onsite_renewable_kwh, "onsite_renewable_kwh", n)
    unclaimed = np.zeros(n) if onsite_attributes_retained else onsite

    kg = (left + unclaimed) * res_ef
    coverage = pd.DataFrame({"grid_import_kwh": imp, "contract_profile_kwh": c_prof,
                             "contract_monthly_kwh": c_month, "gec_kwh": c_gec,
                             "residual_kwh": left, "onsite_kwh": onsite,
                             "onsite_unclaimed_kwh": unclaimed}, index=index)
    avail_month_total = float(by_month["available_mwh"].sum()) * 1000.0
    onsite_used = float(onsite.sum()) if onsite_attributes_retained else 0.0
    inst = pd.DataFrame(
        {"available_mwh": [prof.sum(), avail_month_total, gec_kwh, onsite.sum()],
         "used_mwh": [c_prof.sum(), c_month.sum(), gec_used, onsite_used]},
        index=["contract_profile", "contract_monthly", "gec", "onsite"]) / 1000.0
    inst["unused_mwh"] = (inst["available_mwh"] - inst["used_mwh"]).clip(lower=0.0)
    return MarketBasedResult(kg=pd.Series(kg, index=index, name="co2_scope2_market_kg"),
                             coverage_kwh=coverage, instruments=inst,
                             contracts_by_month=by_month)


def hourly_matched_cfe_share(consumption_kwh, carbon_free_supply_kwh) -> float:
    r"""24/7 carbon-free energy score: the share of consumption matched hour by hour.

    Parameters
    ----------
    consumption_kwh : array-like or Series
        Electricity consumption per interval [kWh], >= 0.
    carbon_free_supply_kwh : array-like or Series
        Carbon-free supply attributable to the plant in the same interval [kWh], >= 0: onsite
        renewables consumed, hourly contract deliveries, hourly certificates.

    Returns
    -------
    float
        :math:`\sum_h \min(L_h, CFE_h) / \sum_h L_h` in [0, 1]. A surplus in one hour does not
        cover a deficit in another (unlike annual matching), as the GHG Protocol Scope 2
        revision proposes.
    """
    load = np.asarray(_nonneg(consumption_kwh, "consumption_kwh"), float).ravel()
    cfe = np.asarray(_nonneg(carbon_free_supply_kwh, "carbon_free_supply_kwh"), float).ravel()
    if load.size != cfe.size:
        raise ValueError(f"consumption has {load.size} values, carbon-free supply {cfe.size}")
    total = load.sum()
    if total <= 0:
        raise ValueError("consumption is zero over the period: the share is undefined")
    return float(np.minimum(load, cfe).sum() / total)


# --------------------------------------------------------------------------------------------
# Scope 3 (optional, never part of the zero-carbon balance)
# --------------------------------------------------------------------------------------------

def scope3_materials_kg(materials: Mapping[str, Mapping[str, object]]) -> pd.DataFrame:
    """Optional scope 3 lines: purchased materials x the user's factors [kg CO2e].

    Parameters
    ----------
    materials : mapping of str to mapping
        Material -> ``{"quantity": float, "unit": str, "kg_co2e_per_unit": float,
        "source": str (optional)}``. No material factors are shipped: give them with their
        source.

    Returns
    -------
    DataFrame
        One row per material: ``quantity``, ``unit``, ``kg_co2e_per_unit``, ``kg_co2e``,
        ``source``.
    """
    rows = {}
    for name, m in materials.items():
        missing = [k for k in ("quantity", "unit", "kg_co2e_per_unit") if k not in m]
        if missing:
            raise ValueError(f"material {name!r} lacks {missing}")
        q = float(_nonneg(m["quantity"], f"{name}.quantity"))
        f = float(_nonneg(m["kg_co2e_per_unit"], f"{name}.kg_co2e_per_unit"))
        rows[name] = {"quantity": q, "unit": str(m["unit"]), "kg_co2e_per_unit": f,
                      "kg_co2e": q * f, "source": str(m.get("source", ""))}
    return pd.DataFrame.from_dict(
        rows, orient="index",
        columns=["quantity", "unit", "kg_co2e_per_unit", "kg_co2e", "source"])


# --------------------------------------------------------------------------------------------
# Standard coal equivalent and intensity
# --------------------------------------------------------------------------------------------

def tce_by_carrier(energy_by_carrier: Mapping[str, object],
                   factors: FactorTable | None = None) -> dict[str, float]:
    """Energy use in tonnes of standard coal equivalent [tce], per carrier (GB/T 2589).

    Parameters
    ----------
    energy_by_carrier : mapping
        Carrier -> quantity, summed over the period. A bare number, array or Series is in the
        coefficient's own unit (``tce_coefficient(carrier).per_unit``: kWh for electricity, MJ
        for heat, m3 for natural gas, kg for liquid and solid fuels). A tuple
        ``(quantity, unit)`` converts first: ``MWh``, ``GJ``, ``t``, ``10^4 m3``, ... or
        ``kWh_LHV`` for a fuel given as energy by LHV (converted with the fuel's NCV).
    factors : FactorTable, optional

    Returns
    -------
    dict of str to float
        carrier -> quantity x coefficient [kgce] / 1000.
    """
    table = _table(factors)
    out = {}
    for carrier, spec in energy_by_carrier.items():
        coef = table.tce_coefficient(carrier)
        if isinstance(spec, tuple):
            qty, unit = spec
            total = float(np.sum(_nonneg(qty, f"energy[{carrier!r}]")))
            if unit == "kWh_LHV":
                fuel = table.fuel_factor(carrier)
                if fuel.natural_unit != coef.per_unit:
                    raise ValueError(f"{carrier!r}: NCV is per {fuel.natural_unit}, the tce "
                                     f"coefficient per {coef.per_unit}")
                total = total / fuel.kwh_per_unit
            elif (unit, coef.per_unit) in _QUANTITY_UNITS:
                total *= _QUANTITY_UNITS[(unit, coef.per_unit)]
            else:
                ok = sorted({u for (u, to) in _QUANTITY_UNITS if to == coef.per_unit})
                raise ValueError(f"{carrier!r}: cannot convert {unit!r} to {coef.per_unit!r}; "
                                 f"use one of {ok}" + (" or 'kWh_LHV'" if coef.per_unit in
                                                        ("kg", "m3") else ""))
        else:
            total = float(np.sum(_nonneg(spec, f"energy[{carrier!r}]")))
        out[coef.carrier] = total * coef.kgce_per_unit / KG_PER_T
    return out


def tce(energy_by_carrier: Mapping[str, object], factors: FactorTable | None = None) -> float:
    """Total energy use [tce]; see :func:`tce_by_carrier` for the inputs."""
    return float(sum(tce_by_carrier(energy_by_carrier, factors).values()))


def intensity_t_per_tce(co2_kg, energy_tce: float) -> float:
    """CO2 per unit of energy consumed [tCO2/tce] (单位能耗碳排放, the core indicator of the
    zero-carbon park notice and of Hunan's zero-carbon factory scheme).

    Parameters
    ----------
    co2_kg : float, array-like or Series
        Emissions of the period [kg CO2] (summed if an array).
    energy_tce : float
        Energy use of the same period and boundary [tce], > 0.
    """
    e = float(energy_tce)
    if not np.isfinite(e) or e <= 0:
        raise ValueError(f"energy_tce must be > 0, got {energy_tce!r}")
    return float(np.sum(_nonneg(co2_kg, "co2_kg"))) / KG_PER_T / e
