"""The plant's sector and its published intensity ranges (issue 18).

A plant file may name its sector (``site.sector``: one of :data:`SECTORS`, the industries of the
2026 national zero-carbon factory guideline). A run of such a plant compares its intensities with
the sector's published ranges in ``twin/data/sector_ranges.csv`` (one row per range, each with its
source, status and year) and writes the comparison to ``kpis.json`` under ``sector``.

Metrics (``metric`` column; per-unit metrics are per *functional unit*: a product's
``functional_unit`` says what one unit of it is, e.g. ``{name: W, per_unit: 550}`` for a 550 W
module; the row's ``unit`` names the functional unit it is quoted in):

``final_energy_kwh_per_unit``
    Site final energy [kWh] per functional unit: electricity consumed (grid and onsite) + fuels
    (lower heating value, boilers included) + purchased heat.
``electricity_kwh_per_unit``
    Site electricity consumption [kWh] per functional unit.
``co2_kg_per_unit``
    Scope 1 + scope 2 (location-based) [kg CO2] per functional unit.
``group_final_energy_kwh_per_unit``
    Final energy of the reporting group named in the ``group`` column (e.g. ``paint_shop``) per
    functional unit; the group's electricity, fuel and purchased heat at its equipment.
``group_electricity_kwh_per_unit``
    Electricity of the reporting group named in ``group`` per functional unit [kWh] (e.g. an
    electric arc furnace's kWh per tonne of liquid steel, quoted without its burners' fuel).
``group_share_of_final_energy``
    That group's energy at its equipment (electricity, fuel, heat delivered) over the site's final
    energy [-] (heat delivered by the site's own boilers is counted at the group, their fuel in
    the site total: a share, not an exact split, where a group uses heat).
``pue``
    Power usage effectiveness: site electricity / electricity of the reporting group named in
    ``group`` (the IT load) [-] (GB 40879-2021, The Green Grid).

A range may be open on one side (empty ``low`` or ``high``). The verdict is ``within``, ``below``,
``above`` or ``not_comparable`` (with the reason: no finished unit carries the row's functional
unit, the plant has no such group...). Nothing here needs the simulation: the comparison is a pure
function of the run's KPIs and the plant.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

SECTORS: tuple[str, ...] = (
    "automotive", "lithium_battery", "photovoltaic", "electronics", "light_industry",
    "machinery", "computing", "steel", "nonferrous", "petrochemical", "building_materials",
    "textiles", "other",
)
"""The sectors of the national zero-carbon factory guideline (seven for 2027, five for 2030),
and ``other``."""

METRICS: tuple[str, ...] = (
    "final_energy_kwh_per_unit", "electricity_kwh_per_unit", "co2_kg_per_unit",
    "group_final_energy_kwh_per_unit", "group_share_of_final_energy", "pue",
    "group_electricity_kwh_per_unit",
)
"""The metrics a sector range may be quoted in (see the module doc)."""

_PER_UNIT = {"final_energy_kwh_per_unit", "electricity_kwh_per_unit", "co2_kg_per_unit",
             "group_final_energy_kwh_per_unit", "group_electricity_kwh_per_unit"}
_GROUPED = {"group_final_energy_kwh_per_unit", "group_share_of_final_energy", "pue",
            "group_electricity_kwh_per_unit"}
_COLUMNS = ("sector", "metric", "unit", "group", "low", "high", "source", "status", "year",
            "note")
_STATUS = {"S", "S2", "D"}  # sourced, secondary source, derived from sourced values


class SectorRangeError(ValueError):
    """A malformed row of the sector-range data file."""


@dataclass(frozen=True)
class SectorRange:
    """One published range of one sector's intensity."""

    sector: str
    metric: str
    unit: str
    group: str
    low: float | None
    high: float | None
    source: str
    status: str
    year: int
    note: str


def _bound(text: str, where: str) -> float | None:
    if not text.strip():
        return None
    try:
        v = float(text)
    except ValueError:
        raise SectorRangeError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(v) or v < 0:
        raise SectorRangeError(f"{where}: {text!r}; expected a finite number >= 0")
    return v


def parse_ranges(rows: Sequence[Mapping[str, str]], name: str = "sector_ranges.csv"
                 ) -> tuple[SectorRange, ...]:
    """Check and convert the rows of a sector-range table; raise :class:`SectorRangeError`
    naming the file, the row and the field on any bad value."""
    out: list[SectorRange] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for i, row in enumerate(rows, start=2):  # row 1 is the header
        where = f"{name} row {i}"
        missing = [c for c in _COLUMNS if c not in row]
        if missing:
            raise SectorRangeError(f"{name}: missing column(s) {', '.join(missing)}")
        sector, metric = row["sector"].strip(), row["metric"].strip()
        unit, group = row["unit"].strip(), row["group"].strip()
        if sector not in SECTORS:
            raise SectorRangeError(f"{where} sector: {sector!r}; expected one of "
                                   f"{', '.join(SECTORS)}")
        if metric not in METRICS:
            raise SectorRangeError(f"{where} metric: {metric!r}; expected one of "
                                   f"{', '.join(METRICS)}")
        if (metric in _PER_UNIT) != bool(unit):
            raise SectorRangeError(f"{where} unit: {unit!r}; a per-unit metric names its "
                                   "functional unit, other metrics leave it empty")
        if (metric in _GROUPED) != bool(group):
            raise SectorRangeError(f"{where} group: {group!r}; {metric} "
                                   f"{'needs' if metric in _GROUPED else 'takes no'} group")
        low, high = _bound(row["low"], f"{where} low"), _bound(row["high"], f"{where} high")
        if low is None and high is None:
            raise SectorRangeError(f"{where}: low and high both empty; give at least one")
        if low is not None and high is not None and low > high:
            raise SectorRangeError(f"{where}: low {low:g} > high {high:g}")
        status = row["status"].strip()
        if status not in _STATUS:
            raise SectorRangeError(f"{where} status: {status!r}; expected one of S, S2, D")
        if not row["source"].strip():
            raise SectorRangeError(f"{where} source: empty; every range names its source")
        try:
            year = int(row["year"])
        except ValueError:
            raise SectorRangeError(f"{where} year: {row['year']!r} is not a year") from None
        key = (sector, metric, unit, group)
        if key in seen:
            raise SectorRangeError(f"{where}: a second range for {sector} {metric} "
                                   f"{unit or group} (first in row {seen[key]}); give one range "
                                   "per metric and name every source in it")
        seen[key] = i
        out.append(SectorRange(sector, metric, unit, group, low, high, row["source"].strip(),
                               status, year, row["note"].strip()))
    return tuple(out)


@cache
def sector_ranges() -> tuple[SectorRange, ...]:
    """The ranges shipped in ``twin/data/sector_ranges.csv`` (lines starting with '#' are
    comments)."""
    text = (resources.files("twin") / "data" / "sector_ranges.csv").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return parse_ranges(list(csv.DictReader(lines)))


def _group_final_kwh(kpis: Mapping[str, Any], group: str) -> float | None:
    carriers = (kpis.get("energy_by_group_kwh") or {}).get(group)
    if carriers is None:
        return None
    # cooling is delivered by chillers whose electricity is already in the group's use
    return float(sum(v for c, v in carriers.items() if c in ("electricity", "natural_gas",
                                                              "heat")))


def _functional_units(kpis: Mapping[str, Any], units_by_fu: Mapping[str, Mapping[str, float]],
                      unit: str) -> tuple[float | None, str]:
    """Functional units of name ``unit`` made in the run, or None with the reason."""
    if kpis.get("production") is False:
        return None, "the plant has no production (per-unit ranges do not apply)"
    finished = {p: v for p, v in (kpis.get("products") or {}).items()
                if v.get("component_of") is None and v.get("units_completed", 0) > 0}
    if not finished:
        return None, "no finished units in the run"
    total = 0.0
    for p, v in finished.items():
        fu = units_by_fu.get(p)
        if fu is None or unit not in fu:
            return None, (f"product {p!r} has no functional unit {unit!r} "
                          f"(products[id={p}].functional_unit)")
        total += v["units_completed"] * fu[unit]
    return total, ""


def _amount(kpis: Mapping[str, Any], *keys: str) -> float:
    """The sum of the KPIs ``keys`` (a missing or null KPI counts 0)."""
    return sum(float(kpis.get(k) or 0.0) for k in keys)


def _group_electricity(kpis: Mapping[str, Any], group: str) -> float:
    """Electricity of reporting group ``group`` at its equipment [kWh] (0 when it has none)."""
    carriers = (kpis.get("energy_by_group_kwh") or {}).get(group) or {}
    return float(carriers.get("electricity") or 0.0)


def metric_value(kpis: Mapping[str, Any], rng: SectorRange,
                 units_by_fu: Mapping[str, Mapping[str, float]]) -> tuple[float | None, str]:
    """The run's value of ``rng``'s metric, or None with the reason it cannot be compared.

    ``units_by_fu`` maps product id -> {functional unit name: functional units per unit}.
    """
    group_kwh = 0.0
    if rng.group:
        found = _group_final_kwh(kpis, rng.group)
        if found is None:
            return None, f"the plant has no reporting group {rng.group!r}"
        group_kwh = found
    final = _amount(kpis, "electricity_kwh", "natural_gas_kwh", "purchased_heat_kwh")
    if rng.metric == "group_share_of_final_energy":
        return (group_kwh / final, "") if final > 0 else (None, "no energy used")
    if rng.metric == "pue":
        it = _group_electricity(kpis, rng.group)
        if it <= 0:
            return None, f"no electricity in group {rng.group!r}"
        return _amount(kpis, "electricity_kwh") / it, ""
    n, why = _functional_units(kpis, units_by_fu, rng.unit)
    if n is None:
        return None, why
    if rng.metric == "final_energy_kwh_per_unit":
        amount = final
    elif rng.metric == "electricity_kwh_per_unit":
        amount = _amount(kpis, "electricity_kwh")
    elif rng.metric == "co2_kg_per_unit":
        amount = _amount(kpis, "co2_scope1_kg", "co2_scope2_location_kg")
    elif rng.metric == "group_final_energy_kwh_per_unit":
        amount = group_kwh
    else:  # group_electricity_kwh_per_unit (parse_ranges admits METRICS only)
        amount = _group_electricity(kpis, rng.group)
    return amount / n, ""


def verdict(value: float | None, low: float | None, high: float | None) -> str:
    """``within``, ``below``, ``above`` the range [low, high] (bounds included), or
    ``not_comparable`` when there is no value."""
    if value is None:
        return "not_comparable"
    if low is not None and value < low:
        return "below"
    if high is not None and value > high:
        return "above"
    return "within"


def sector_comparison(kpis: Mapping[str, Any], sector: str,
                      units_by_fu: Mapping[str, Mapping[str, float]],
                      ranges: Sequence[SectorRange] | None = None) -> dict[str, Any]:
    """Compare a run's intensities with its sector's published ranges.

    Returns ``{"sector": ..., "comparisons": [{metric, unit, group, value, low, high, verdict,
    reason, source, status, year, note}, ...]}``; ``comparisons`` is empty when the data file has
    no range for the sector.
    """
    rows = []
    for rng in (sector_ranges() if ranges is None else ranges):
        if rng.sector != sector:
            continue
        value, reason = metric_value(kpis, rng, units_by_fu)
        rows.append({
            "metric": rng.metric, "unit": rng.unit or None, "group": rng.group or None,
            "value": value, "low": rng.low, "high": rng.high,
            "verdict": verdict(value, rng.low, rng.high), "reason": reason or None,
            "source": rng.source, "status": rng.status, "year": rng.year,
            "note": rng.note or None,
        })
    return {"sector": sector, "comparisons": rows}
