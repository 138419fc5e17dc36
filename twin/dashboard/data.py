"""Read a run folder into what the dashboard draws.

Only the files of the run folder are read (see :mod:`twin.results` for their contents and units);
the live simulation is never touched, so a dashboard can be rebuilt from a copied folder.
``hourly.parquet``, ``kpis.json`` and ``manifest.json`` are required; a missing
``equipment.csv``, ``lots.parquet`` or ``intervals.parquet`` only leaves its part of the page out.

Runs with an energy supply (PV, wind, batteries or a tariff) get the supply part of the page; its
derived tables (monthly costs, price bands) are computed here from the run-folder columns, with
prices and rates taken from the resolved config in the manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from twin.dashboard import theme
from twin.energy.tariff import month_key
from twin.i18n import N_, tr

REQUIRED = ("hourly.parquet", "kpis.json", "manifest.json")

INTERVAL_COLUMNS = ("electricity_demand_kw", "grid_import_kwh", "grid_export_kwh",
                    "electricity_cost", "fuel_kwh", "price_per_kwh", "tou_period",
                    "purchased_heat_kwh")
"""Columns of ``intervals.parquet`` the page reads (those present)."""

SUPPLY_KPIS = ("pv_kwh", "wind_kwh", "chp_kwh", "battery_charge_kwh", "battery_discharge_kwh")

PERIOD_ORDER = ("deep_valley", "valley", "flat", "peak", "critical")
"""TOU period labels, cheapest first (as in :data:`twin.energy.tariff.PERIODS`, reversed)."""
PERIOD_LABELS = {"deep_valley": N_("Deep valley"), "valley": N_("Valley"), "flat": N_("Flat"),
                 "peak": N_("Peak"), "critical": N_("Critical peak")}
MAX_PRICE_LEVELS = 5


@dataclass(frozen=True, eq=False)
class MonthGroups:
    """The rows of a time table grouped by local calendar month (see :func:`month_groups`)."""

    keys: list[str]
    """The months ('YYYY-MM'), ascending."""
    codes: np.ndarray
    """Month of each row as year x 12 + month - 1."""
    order: np.ndarray | None
    """Row positions in month order (stable); None if the rows already are."""
    starts: np.ndarray
    """Position in month order of the first row of each month."""
    counts: np.ndarray
    """Rows per month."""

    def _by_month(self, values: np.ndarray) -> np.ndarray:
        return values if self.order is None else values[self.order]

    def max(self, values: np.ndarray) -> np.ndarray:
        """Largest of ``values`` (one per row) in each month, NaN ignored."""
        return np.fmax.reduceat(self._by_month(values), self.starts)

    def argmax(self, values: np.ndarray) -> np.ndarray:
        """Row position of the first largest of ``values`` in each month, NaN ignored (every
        month needs a number)."""
        ordered = self._by_month(values)
        is_max = ordered == np.repeat(self.max(values), self.counts)
        first = np.minimum.reduceat(np.where(is_max, np.arange(len(ordered)), len(ordered)),
                                    self.starts)
        return first if self.order is None else self.order[first]

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (one per row) in each month, by pandas' compensated summation (the
        monthly costs must add up to the run's KPIs to the last digit that can)."""
        return pd.Series(values).groupby(self.codes, sort=True).sum().to_numpy()


def month_groups(index: pd.DatetimeIndex) -> MonthGroups:
    """Group the rows of a time index by the calendar month of its (local) times."""
    codes = month_key(index)
    order = None
    if len(codes) > 1 and (np.diff(codes) < 0).any():
        order = np.argsort(codes, kind="stable")
    ordered = codes if order is None else codes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(codes) \
        else np.zeros(0, dtype=np.intp)
    keys = [f"{c // 12:04d}-{c % 12 + 1:02d}" for c in ordered[starts].tolist()]
    counts = np.diff(np.r_[starts, len(codes)])
    return MonthGroups(keys, codes, order, starts, counts)


@dataclass
class RunData:
    """The parts of a run folder the dashboard uses.

    The tables derived from the run (month groups, monthly peaks and costs) are worked out on
    first use and kept: change the tables of a RunData and they are stale; :func:`load` the run
    folder again instead.
    """

    run_dir: Path
    hourly: pd.DataFrame
    """One row per local hour (tz-aware index), energy in kWh per hour."""
    kpis: dict[str, Any]
    manifest: dict[str, Any]
    equipment: pd.DataFrame | None
    """Per equipment: kind, group, station, hours per state, kWh per carrier; None if missing."""
    lots: pd.DataFrame | None
    """Finished lots: product, released, completed, lead_time_h [h]; None if missing."""
    peak: tuple[pd.Timestamp, float] | None = None
    """Start of the settlement interval with the highest average site power, and that power [kW]."""
    intervals: pd.DataFrame | None = None
    """The :data:`INTERVAL_COLUMNS` of ``intervals.parquet`` that exist; None if missing."""
    trace: pd.DataFrame | None = None
    """One day's power-state timeline (equipment, group, state, start, end); None if missing."""
    groups: list[str] = field(default_factory=list)
    """Equipment groups in stacking order: base-load-only groups first, then the lines."""
    group_colors: dict[str, str] = field(default_factory=dict)
    product_colors: dict[str, str] = field(default_factory=dict)

    @property
    def plant_name(self) -> str:
        """Plant name as written in the plant file (not escaped)."""
        name = self.kpis.get("plant") or self.manifest.get("config", {}).get("site", {}).get("name")
        return str(name or "Plant")

    @property
    def timezone(self) -> str:
        """IANA time zone of the local times on the page."""
        tz = getattr(self.hourly.index, "tz", None)
        if tz is not None:
            return str(tz)
        return str(self.manifest.get("config", {}).get("site", {}).get("timezone", ""))

    @property
    def wall_index(self) -> pd.DatetimeIndex:
        """Hourly index as naive local wall-clock time (what plotly should print)."""
        idx = pd.DatetimeIndex(self.hourly.index)
        return idx.tz_localize(None) if idx.tz is not None else idx

    def carrier_columns(self, carrier: str) -> dict[str, str]:
        """``{group: column}`` of the ``<carrier>_kwh:<group>`` columns, in stacking order."""
        prefix = f"{carrier}_kwh:"
        present = {c[len(prefix):]: c for c in self.hourly.columns if c.startswith(prefix)}
        return {g: present[g] for g in self.groups if g in present}

    def carriers(self) -> list[str]:
        """Carriers with per-group hourly columns, electricity first, then in column order."""
        found: list[str] = []
        for col in self.hourly.columns:
            if "_kwh:" in col:
                carrier = col.split("_kwh:", 1)[0]
                if carrier not in found:
                    found.append(carrier)
        return sorted(found, key=lambda c: (c != "electricity", found.index(c)))

    # ---------------------------------------------------------------- energy supply

    @property
    def energy_config(self) -> dict[str, Any]:
        """The resolved ``energy`` block of the plant file ({} if the plant has none)."""
        return (self.manifest.get("config") or {}).get("energy") or {}

    @property
    def has_supply(self) -> bool:
        """True if the run has on-site generation, a battery or a tariff (then the page shows the
        supply figures and cards)."""
        k = self.kpis
        return any(_num(k.get(key)) for key in SUPPLY_KPIS) or bool(k.get("tariff"))

    @property
    def currency(self) -> str:
        """Currency of costs (not escaped): ``kpis.currency`` if written, else CNY (the unit of
        every price in :mod:`twin.energy.tariff`)."""
        grid = self.energy_config.get("grid") or {}
        return str(self.kpis.get("currency") or grid.get("currency") or "CNY")

    def col(self, name: str) -> np.ndarray:
        """Hourly column ``name`` as floats, zeros if the run folder has no such column."""
        if name in self.hourly.columns:
            return self.hourly[name].to_numpy(dtype=float)
        return np.zeros(len(self.hourly))

    def battery_nominal_kwh(self) -> float | None:
        """Sum of the nominal energy of the batteries in the config [kWh], None if not given."""
        total = sum(_num(b.get("energy_kwh")) for b in self.energy_config.get("batteries") or [])
        return total or None

    def battery_window_kwh(self) -> tuple[float, float] | None:
        """Lowest and highest allowed charge of all batteries together [kWh], from soc_min_pct and
        soc_max_pct (0 and 100 % when not given); None without batteries in the config."""
        bats = self.energy_config.get("batteries") or []
        if not bats:
            return None
        lo = sum(_num(b.get("energy_kwh")) * _num(b.get("soc_min_pct")) / 100.0 for b in bats)
        hi = sum(_num(b.get("energy_kwh"))
                 * (100.0 if b.get("soc_max_pct") is None else _num(b["soc_max_pct"])) / 100.0
                 for b in bats)
        return lo, hi

    def demand_rate(self) -> float | None:
        """Demand charge [currency per kW and month] from the config; else implied by the KPIs
        (demand cost / sum of prorated monthly peaks); None without a demand charge."""
        tariff = (self.energy_config.get("grid") or {}).get("tariff") or {}
        rate = tariff.get("demand_charge_per_kw_month")
        if rate:
            return float(rate)
        cost = _num(self.kpis.get("demand_cost"))
        peaks = self.monthly_peaks()
        if cost and peaks is not None:
            base = float((peaks["peak_kw"].clip(lower=0) * peaks["coverage"]).sum())
            if base > 0:
                return cost / base
        return None

    def capacity_per_month(self) -> float:
        """Capacity charge of a full month [currency]: contracted kVA x rate from the config,
        else implied by ``kpis.capacity_cost`` (0 without a capacity charge)."""
        tariff = (self.energy_config.get("grid") or {}).get("tariff") or {}
        rate, kva = tariff.get("capacity_charge_per_kva_month"), tariff.get("contracted_kva")
        if rate and kva:
            return float(rate) * float(kva)
        cost = _num(self.kpis.get("capacity_cost"))
        peaks = self.monthly_peaks()
        if cost and peaks is not None and peaks["coverage"].sum() > 0:
            return cost / float(peaks["coverage"].sum())
        return 0.0

    def _price(self, key: str, kpi_cost: str, column: str) -> float:
        """A price per kWh from the config's grid block, else KPI cost / total of the column."""
        grid = self.energy_config.get("grid") or {}
        if grid.get(key) is not None:
            return float(grid[key])
        cost = _num(self.kpis.get(kpi_cost))
        total = float(self.col(column).sum())
        return cost / total if cost and total > 0 else 0.0

    def _month_source(self) -> pd.DataFrame:
        """Intervals if present, else the hourly table (both carry the energy columns)."""
        src = self.intervals if self.intervals is not None and len(self.intervals) else None
        return src if src is not None else self.hourly

    @cached_property
    def months(self) -> MonthGroups:
        """The rows of the month source (intervals, else hourly) by local calendar month,
        worked out once per run folder (the supply figures and cards read them many times)."""
        return month_groups(pd.DatetimeIndex(self._month_source().index))

    def monthly_peaks(self) -> pd.DataFrame | None:
        """Per local calendar month ('YYYY-MM'): peak grid import [kW] (from
        ``kpis.peak_grid_import_kw_by_month``, else from the intervals), when it happened (None
        if unknown), peak site demand [kW], and coverage (share of the month simulated)."""
        peaks = self._monthly_peaks
        return None if peaks is None else peaks.copy()

    @cached_property
    def _monthly_peaks(self) -> pd.DataFrame | None:
        """:meth:`monthly_peaks`, worked out once (the page reads it nine times)."""
        src = self._month_source()
        if not len(src):
            return None
        idx = pd.DatetimeIndex(src.index)
        months = self.months
        step_h = _step_hours(idx)
        imp_kw = None
        if "grid_import_kwh" in src.columns:
            imp_kw = src["grid_import_kwh"].to_numpy(dtype=float) / step_h
        if "electricity_demand_kw" in src.columns:
            dem_kw = src["electricity_demand_kw"].to_numpy(dtype=float)
        else:
            dem_kw = src["electricity_demand_kwh"].to_numpy(dtype=float) / step_h
        demand_peaks = months.max(dem_kw)
        if imp_kw is not None:
            import_peaks, import_rows = months.max(imp_kw), months.argmax(imp_kw)
        by_kpi = self.kpis.get("peak_grid_import_kw_by_month") or {}
        rows = []
        for i, key in enumerate(months.keys):
            peak = by_kpi.get(key)
            when = None
            if imp_kw is not None:
                if peak is None:
                    peak = float(import_peaks[i])
                when = idx[import_rows[i]]
            rows.append({
                "month": key, "peak_kw": _num(peak), "peak_start": when,
                "demand_peak_kw": float(demand_peaks[i]),
                "coverage": min(1.0, float(months.counts[i]) * step_h
                                / _month_hours(key, idx.tz)),
            })
        for key in by_kpi:                      # months only the KPIs know (should not happen)
            if key not in months.keys:
                rows.append({"month": key, "peak_kw": _num(by_kpi[key]), "peak_start": None,
                             "demand_peak_kw": float("nan"), "coverage": 1.0})
        return pd.DataFrame(rows).set_index("month").sort_index()

    def monthly_costs(self) -> pd.DataFrame | None:
        """Cost per local calendar month [currency]: ``energy`` (sum of the interval electricity
        cost), ``demand`` (monthly peak import x demand rate x share of the month simulated),
        ``capacity`` (contracted kVA x rate x share of the month simulated), ``gas`` (fuel kWh x
        gas price), ``heat`` (purchased heat kWh x its price) and ``export`` (revenue, positive),
        plus ``total`` (energy + demand + capacity + gas + heat - export). The months add up to
        ``kpis.cost_total``."""
        costs = self._monthly_costs
        return None if costs is None else costs.copy()

    @cached_property
    def _monthly_costs(self) -> pd.DataFrame | None:
        """:meth:`monthly_costs`, worked out once."""
        src = self._month_source()
        peaks = self.monthly_peaks()
        if not len(src) or peaks is None:
            return None
        months = self.months

        def per_month(column: str) -> pd.Series:
            if column not in src.columns:
                return pd.Series(0.0, index=peaks.index)
            sums = pd.Series(months.sum(src[column].to_numpy(dtype=float)), index=months.keys)
            return sums.reindex(peaks.index, fill_value=0.0)

        rate = self.demand_rate() or 0.0
        out = pd.DataFrame({
            "energy": per_month("electricity_cost"),
            "demand": peaks["peak_kw"].clip(lower=0) * rate * peaks["coverage"],
            "capacity": self.capacity_per_month() * peaks["coverage"],
            "gas": per_month("fuel_kwh") * self._price("gas_price_per_kwh", "gas_cost",
                                                       "fuel_kwh"),
            "heat": per_month("purchased_heat_kwh") * self._price(
                "purchased_heat_price_per_kwh", "purchased_heat_cost", "purchased_heat_kwh"),
            "export": per_month("grid_export_kwh") * self._price(
                "feed_in_price_per_kwh", "export_revenue", "grid_export_kwh"),
        })
        out["total"] = (out["energy"] + out["demand"] + out["capacity"] + out["gas"]
                        + out["heat"] - out["export"])
        return out

    def line_of_station(self) -> dict[str, str]:
        """Station id -> line id, from the resolved config in the manifest."""
        out: dict[str, str] = {}
        for line in self.manifest.get("config", {}).get("lines", []) or []:
            for st in line.get("stations", []) or []:
                out[str(st.get("id"))] = str(line.get("id"))
        return out


def has_production(kpis: dict[str, Any]) -> bool:
    """Whether the run's plant makes products (``kpis.json`` of a plant without production has
    ``production: false``; older run folders always had production)."""
    return kpis.get("production", True) is not False


class RunFolderError(FileNotFoundError):
    """A run folder whose files are missing, empty, truncated or not what ``twin run`` writes;
    the message names the file. (A FileNotFoundError, so callers that handle a missing run
    folder handle a damaged one the same way.)"""


def load(run_dir: str | Path) -> RunData:
    """Read the run folder ``run_dir``.

    Raises
    ------
    FileNotFoundError
        If the folder or one of its required files is missing.
    """
    d = Path(run_dir)
    if not d.is_dir():
        raise FileNotFoundError(f"{d}: no such run folder")
    missing = [f for f in REQUIRED if not (d / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{d}: not a twin run folder, missing {', '.join(missing)}")

    try:
        return _load(d)
    except RunFolderError:
        raise
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError, pa.ArrowException
            ) as exc:
        raise RunFolderError(f"{d}: damaged run folder ({type(exc).__name__}); rerun "
                             "'twin run'") from None


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise RunFolderError(f"{path}: empty or truncated JSON; rerun 'twin run'") from None
    if not isinstance(data, dict):
        raise RunFolderError(f"{path}: expected a JSON object; rerun 'twin run'")
    return data


def _read_parquet(path: Path, **kw: Any) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, **kw)
    except (OSError, ValueError, pa.ArrowException):
        raise RunFolderError(f"{path}: empty or truncated Parquet file; rerun 'twin run'"
                             ) from None


def _load(d: Path) -> RunData:
    hourly = _read_parquet(d / "hourly.parquet")
    kpis = _read_json(d / "kpis.json")
    manifest = _read_json(d / "manifest.json")
    for key in ("units_completed", "electricity_kwh", "co2_scope1_kg"):
        if key not in kpis and not (key == "units_completed" and not has_production(kpis)):
            raise RunFolderError(f"{d / 'kpis.json'}: no '{key}'; not written by this twin? "
                                 "rerun 'twin run'")
    equipment = None
    if (d / "equipment.csv").is_file():
        # keep_default_na=False: ids such as 'NA' or 'null' are valid names, not missing values;
        # base loads have an empty station
        equipment = pd.read_csv(d / "equipment.csv", index_col=0, keep_default_na=False)
        equipment.index = equipment.index.astype(str)
        for col in ("kind", "group", "station"):
            if col in equipment.columns:
                equipment[col] = equipment[col].astype(str)
    lots = _read_parquet(d / "lots.parquet") if (d / "lots.parquet").is_file() else None

    peak = None
    intervals = None
    if (d / "intervals.parquet").is_file():
        try:
            names = set(pq.read_schema(d / "intervals.parquet").names)
        except (OSError, ValueError, pa.ArrowException):
            raise RunFolderError(f"{d / 'intervals.parquet'}: empty or truncated Parquet file; "
                                 "rerun 'twin run'") from None
        intervals = _read_parquet(d / "intervals.parquet",
                                  columns=[c for c in INTERVAL_COLUMNS if c in names])
        if len(intervals) and "electricity_demand_kw" in intervals.columns:
            kw = intervals["electricity_demand_kw"]
            t = kw.idxmax()
            peak = (pd.Timestamp(t), float(kw.loc[t]))

    trace = _read_parquet(d / "trace.parquet") if (d / "trace.parquet").is_file() else None
    data = RunData(d, hourly, kpis, manifest, equipment, lots, peak, intervals, trace=trace)
    data.groups = _group_order(data)
    data.group_colors = _group_colors(data)
    products = [str(p) for p in kpis.get("products", {})]
    if lots is not None and "product" in lots.columns:
        for p in lots["product"].astype(str).unique():
            if p not in products:
                products.append(p)
    data.product_colors = {p: theme.PRODUCT_PALETTE[i % len(theme.PRODUCT_PALETTE)]
                           for i, p in enumerate(products)}
    return data


def _group_order(data: RunData) -> list[str]:
    """Base-load-only groups (bottom of the stack), then groups with machines, lines in config
    order; groups only seen in hourly columns last."""
    seen: list[str] = []
    for col in data.hourly.columns:
        if "_kwh:" in col:
            g = col.split("_kwh:", 1)[1]
            if g not in seen:
                seen.append(g)
    eq = data.equipment
    machine_groups: list[str] = []
    if eq is not None and "group" in eq.columns and "kind" in eq.columns:
        machine_groups = list(dict.fromkeys(eq.loc[eq["kind"] != "base_load", "group"]))
        base_only = [g for g in dict.fromkeys(eq["group"]) if g not in machine_groups]
    else:
        base_only = []
    lines = list(dict.fromkeys(data.line_of_station().values()))
    machine_groups.sort(key=lambda g: (lines.index(g) if g in lines else len(lines), g))
    order = [g for g in base_only + machine_groups if g in seen]
    return order + [g for g in seen if g not in order]


def _group_colors(data: RunData) -> dict[str, str]:
    eq = data.equipment
    base: set[str] = set()
    if eq is not None and "group" in eq.columns and "kind" in eq.columns:
        base = set(eq.loc[eq["kind"] == "base_load", "group"]) - set(
            eq.loc[eq["kind"] != "base_load", "group"])
    colors: dict[str, str] = {}
    n_base = n_line = 0
    for g in data.groups:
        if g in base:
            colors[g] = theme.BASE_PALETTE[n_base % len(theme.BASE_PALETTE)]
            n_base += 1
        else:
            colors[g] = theme.LINE_PALETTE[n_line % len(theme.LINE_PALETTE)]
            n_line += 1
    return colors


def _num(x: object) -> float:
    """A KPI or config number as float; None, missing and non-numbers as 0."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return v if np.isfinite(v) else 0.0


def _step_hours(index: pd.DatetimeIndex) -> float:
    """Length of one row of a regular time index [h] (1 h for fewer than two rows)."""
    if len(index) < 2:
        return 1.0
    ns_per_unit = pd.Timedelta(1, unit=index.unit).value
    return float(np.median(np.diff(index.asi8))) * ns_per_unit / pd.Timedelta(hours=1).value


def _month_hours(key: str, tz: object) -> float:
    """Hours in the local calendar month 'YYYY-MM' (DST changes included)."""
    start = pd.Timestamp(f"{key}-01")
    end = start + pd.offsets.MonthBegin(1)
    if tz is not None:
        start, end = start.tz_localize(tz), end.tz_localize(tz)
    return (end - start) / pd.Timedelta(hours=1)


@dataclass
class PriceBands:
    """Runs of equal price level for the background of the supply chart."""

    edges: list[str]
    """Local wall-clock band boundaries ('YYYY-MM-DD HH:MM'), one more than ``levels``."""
    levels: np.ndarray
    """Level of each band, 0 = cheapest."""
    labels: list[str]
    """Legend text per level (not escaped)."""
    how: str
    """One sentence saying how the levels were found (not escaped)."""


def price_bands(data: RunData) -> PriceBands | None:
    """Price levels per settlement interval, as bands of equal level.

    Uses the ``tou_period`` column if the run folder has one; else the distinct values of
    ``price_per_kwh`` when there are at most :data:`MAX_PRICE_LEVELS` of them; else the rank of
    the price within its local day (cheapest of the day = 0). None if the price never changes.
    """
    src = data.intervals if data.intervals is not None and "price_per_kwh" in data.intervals \
        else data.hourly
    if "price_per_kwh" not in src.columns or len(src) == 0:
        return None
    price = src["price_per_kwh"].to_numpy(dtype=float)
    idx = pd.DatetimeIndex(src.index)
    wall = idx.tz_localize(None) if idx.tz is not None else idx
    cur = data.currency
    levels: np.ndarray
    if "tou_period" in src.columns:
        codes, uniques = pd.factorize(src["tou_period"].astype(str).to_numpy())
        found = [str(p) for p in uniques]
        names = [p for p in PERIOD_ORDER if p in found]
        names += sorted(set(found) - set(names),
                        key=lambda p: float(np.mean(price[codes == found.index(p)])))
        if len(names) < 2:
            return None
        levels = np.array([names.index(p) for p in found])[codes]
        labels = []
        for i, p in enumerate(names):
            sel = price[levels == i]
            lo, hi = float(sel.min()), float(sel.max())
            rng = f"{lo:.4g}" if abs(hi - lo) < 5e-5 else f"{lo:.4g}–{hi:.4g}"
            name = tr(PERIOD_LABELS[p]) if p in PERIOD_LABELS \
                else p.replace("_", " ").capitalize()
            labels.append(f"{name} {rng} {cur}/kWh")
        how = N_("TOU period of each interval")
    else:
        rounded = np.round(price, 6)
        distinct = np.unique(rounded)
        if len(distinct) < 2:
            return None
        if len(distinct) <= MAX_PRICE_LEVELS:
            levels = np.searchsorted(distinct, rounded)
            labels = [f"{p:.4g} {cur}/kWh" for p in distinct]
            how = N_("price of each interval")
        else:
            day = pd.Series(rounded).groupby(wall.normalize().asi8)
            rank = day.rank(method="dense").to_numpy() - 1
            levels = np.minimum(rank, MAX_PRICE_LEVELS - 1).astype(int)
            ordinal = (N_("lowest price of the day"), N_("2nd lowest price of the day"),
                       N_("3rd lowest price of the day"), N_("4th lowest price of the day"),
                       N_("5th lowest price of the day"))
            labels = [tr(ordinal[i]) for i in range(int(levels.max()) + 1)]
            if len(labels) == MAX_PRICE_LEVELS:
                labels[-1] = tr("5th lowest or higher price of the day")
            how = N_("rank of each interval's price within its day")
    levels = np.asarray(levels, dtype=int)
    starts = np.flatnonzero(np.r_[True, levels[1:] != levels[:-1]])
    end = wall[-1] + pd.Timedelta(hours=_step_hours(idx))
    times = np.r_[wall.to_numpy()[starts], end.to_datetime64()]
    # wall-clock times repeat when clocks go back: keep boundaries strictly increasing
    keep = np.r_[True, times[1:] > np.maximum.accumulate(times)[:-1]]
    kept = levels[starts][keep[:-1]]
    if not keep[-1]:                    # the final boundary was dropped: close the last band
        kept = kept[:-1]
    edges = [t.replace("T", " ") for t in np.datetime_as_string(times[keep], unit="m").tolist()]
    return PriceBands(edges, kept, labels, how)
