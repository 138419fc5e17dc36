"""What a controller puts in a slide: load-duration curves, average days and the monthly table.

Pure functions of the run folder's tables (see :mod:`twin.results`):

* :func:`load_duration`: the hourly values sorted from highest to lowest, so that the x-th value
  is the level exceeded (or reached) in x hours of the run (the load-duration curve of power
  engineering, e.g. IEA/ETSAP "load duration curve"; with hourly energy in kWh per hour the
  value is the hour's average power in kW);
* :func:`average_day`: the mean of each hour of the day over the days of one season and day type
  (weekday Monday to Friday, weekend Saturday and Sunday, by the calendar, not by the plant's
  workdays), seasons meteorological (winter December to February, spring March to May, summer
  June to August, autumn September to November);
* :func:`monthly_table`: energy, cost and CO2 per local calendar month, whose months add up to the
  run's totals in ``kpis.json``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from twin.dashboard.data import RunData, month_groups
from twin.i18n import N_, tr

SEASONS = ("winter", "spring", "summer", "autumn")
"""Meteorological seasons, in the order shown."""
SEASON_OF_MONTH = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring",
                   5: "spring", 6: "summer", 7: "summer", 8: "summer", 9: "autumn",
                   10: "autumn", 11: "autumn"}
DAY_TYPES = ("weekday", "weekend")


def load_duration(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """The values sorted from highest to lowest (NaN dropped): a load-duration curve."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return -np.sort(-v, kind="stable")


def _wall(index: pd.Index) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(index)
    return idx.tz_localize(None) if idx.tz is not None else idx


def average_day(hourly: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Mean of ``columns`` per (season, day type, local hour of the day) over the rows of an
    hourly table with a local time index; index (season, day_type, hour), only the seasons and
    day types the run has. An hour repeated when clocks go back counts as two rows of that hour.
    """
    wall = _wall(hourly.index)
    keys = pd.DataFrame({
        "season": pd.Categorical([SEASON_OF_MONTH[m] for m in wall.month], categories=SEASONS,
                                 ordered=True),
        "day_type": pd.Categorical(np.where(wall.day_of_week >= 5, "weekend", "weekday"),
                                   categories=DAY_TYPES, ordered=True),
        "hour": wall.hour,
    })
    values = hourly[list(columns)].reset_index(drop=True).astype(float)
    return pd.concat([keys, values], axis=1).groupby(["season", "day_type", "hour"],
                                                     observed=True).mean()


MONTHLY_COLUMNS: dict[str, tuple[str, str]] = {
    "electricity_kwh": (N_("Electricity"), "kWh"),
    "grid_import_kwh": (N_("Grid import"), "kWh"),
    "grid_export_kwh": (N_("Grid export"), "kWh"),
    "natural_gas_kwh": (N_("Natural gas (LHV)"), "kWh"),
    "peak_grid_import_kw": (N_("Peak grid import"), "kW"),
    "cost_energy": (N_("Electricity energy cost"), "{cur}"),
    "cost_demand": (N_("Demand charge"), "{cur}"),
    "cost_capacity": (N_("Capacity charge"), "{cur}"),
    "cost_gas": (N_("Gas cost"), "{cur}"),
    "cost_heat": (N_("Purchased heat cost"), "{cur}"),
    "export_revenue": (N_("Export revenue"), "{cur}"),
    "cost_total": (N_("Cost total"), "{cur}"),
    "co2_scope1_t": (N_("CO₂ scope 1"), "t"),
    "co2_scope2_location_t": (N_("CO₂ scope 2, location-based"), "t"),
    "co2_scope2_market_t": (N_("CO₂ scope 2, market-based"), "t"),
    "co2_total_location_t": (N_("CO₂ scope 1 + 2, location-based"), "t"),
    "co2_total_market_t": (N_("CO₂ scope 1 + 2, market-based"), "t"),
}
"""Columns of :func:`monthly_table`: key -> (label, unit; ``{cur}`` = the run's currency)."""

_SUMS = {"electricity_kwh": "electricity_demand_kwh", "grid_import_kwh": "grid_import_kwh",
         "grid_export_kwh": "grid_export_kwh", "natural_gas_kwh": "fuel_kwh"}
_CO2 = {"co2_scope1_t": "co2_scope1_kg", "co2_scope2_location_t": "co2_scope2_location_kg",
        "co2_scope2_market_t": "co2_scope2_market_kg"}
_COSTS = {"cost_energy": "energy", "cost_demand": "demand", "cost_capacity": "capacity",
          "cost_gas": "gas", "cost_heat": "heat", "export_revenue": "export",
          "cost_total": "total"}


def monthly_table(data: RunData) -> pd.DataFrame:
    """Energy [kWh], peak grid import [kW], cost [currency] and CO2 [t] per local calendar month
    ('YYYY-MM' index), the columns of :data:`MONTHLY_COLUMNS` the run has: energy and CO2 are the
    sums of ``hourly.parquet``, costs those of :meth:`RunData.monthly_costs` (a run without a
    tariff or prices has none), peaks those of :meth:`RunData.monthly_peaks`. Summed over the
    months each column is the run's total (``kpis.json``), except the peak (its maximum)."""
    h = data.hourly
    months = month_groups(pd.DatetimeIndex(h.index))
    out = pd.DataFrame(index=pd.Index(months.keys, name="month"))
    for key, col in _SUMS.items():
        if col in h.columns and (key == "electricity_kwh" or h[col].any()):
            out[key] = months.sum(h[col].to_numpy(dtype=float))
    peaks = data.monthly_peaks() if "grid_import_kwh" in h.columns else None
    if peaks is not None and len(peaks):
        out["peak_grid_import_kw"] = peaks["peak_kw"].reindex(out.index)
    costs = data.monthly_costs()
    if costs is not None and costs.drop(columns="total").to_numpy().any():
        costs = costs.reindex(out.index, fill_value=0.0)
        for key, col in _COSTS.items():
            if key in ("cost_total", "cost_energy") or costs[col].any():
                out[key] = costs[col].to_numpy()
    co2 = {}
    for key, col in _CO2.items():
        co2[key] = (months.sum(h[col].to_numpy(dtype=float)) / 1000.0 if col in h.columns
                    else np.zeros(len(out)))
    if any(v.any() for v in co2.values()):
        for key, v in co2.items():
            out[key] = v
        out["co2_total_location_t"] = co2["co2_scope1_t"] + co2["co2_scope2_location_t"]
        out["co2_total_market_t"] = co2["co2_scope1_t"] + co2["co2_scope2_market_t"]
    return out


def monthly_totals(table: pd.DataFrame) -> pd.Series:
    """The 'Total' row of a :func:`monthly_table`: sums, and the highest peak."""
    tot = table.sum(numeric_only=True)
    if "peak_grid_import_kw" in table.columns:
        tot["peak_grid_import_kw"] = table["peak_grid_import_kw"].max()
    return tot


def monthly_headers(table: pd.DataFrame, currency: str) -> list[str]:
    """'Label [unit]' of each column of a :func:`monthly_table` (not escaped)."""
    out = []
    for key in table.columns:
        label, unit = MONTHLY_COLUMNS.get(key, (key, ""))
        label = tr(label)
        out.append(f"{label} [{unit.replace('{cur}', currency)}]" if unit else label)
    return out


def monthly_rows(table: pd.DataFrame) -> list[list[str]]:
    """The months and a 'Total' row of a :func:`monthly_table` as formatted text: energy and
    money to whole units, peaks to 0.1 kW, tonnes to 0.01 t (not escaped)."""
    def fmt(key: str, v: float) -> str:
        if not np.isfinite(v):
            return "–"
        nd = 2 if key.endswith("_t") else 1 if key.endswith("_kw") else 0
        return f"{v:,.{nd}f}"

    rows = [[str(m), *(fmt(k, float(v)) for k, v in r.items())] for m, r in table.iterrows()]
    tot = monthly_totals(table)
    rows.append([tr("Total"), *(fmt(k, float(tot[k])) for k in table.columns)])
    return rows
