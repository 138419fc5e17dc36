"""The sector comparison of a run (``kpis.json`` key ``sector``, :mod:`twin.sector`) as text.

One place for the words and number formats that the dashboard, the carbon report and the
terminal summary use for it: the sector's name, each metric's label and unit, the published
range ("245 – 642", "≤ 70.0 %"), the run's value and the verdict, in the language of
:func:`twin.i18n.use`. Shares are shown in per cent; other values with four significant digits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from twin.i18n import N_, tr

SECTOR_NAMES: dict[str, str] = {
    "automotive": N_("automotive"),
    "lithium_battery": N_("lithium batteries"),
    "photovoltaic": N_("photovoltaics"),
    "electronics": N_("electronics"),
    "light_industry": N_("light industry"),
    "machinery": N_("machinery"),
    "computing": N_("computing facilities"),
    "steel": N_("steel"),
    "nonferrous": N_("non-ferrous metals"),
    "petrochemical": N_("petrochemicals and chemicals"),
    "building_materials": N_("building materials"),
    "textiles": N_("textiles"),
    "other": N_("other"),
}
"""Sector code (:data:`twin.sector.SECTORS`) -> its name as the guideline lists it."""

METRIC_LABELS: dict[str, str] = {
    "final_energy_kwh_per_unit": N_("Final energy per {unit}"),
    "electricity_kwh_per_unit": N_("Electricity per {unit}"),
    "co2_kg_per_unit": N_("CO₂ scope 1 + 2 (location-based) per {unit}"),
    "group_final_energy_kwh_per_unit": N_("Final energy of group {group} per {unit}"),
    "group_electricity_kwh_per_unit": N_("Electricity of group {group} per {unit}"),
    "group_share_of_final_energy": N_("Share of group {group} in the site's final energy"),
    "pue": N_("PUE (site electricity / electricity of group {group})"),
}
"""Metric code -> label; ``{unit}`` is the functional unit, ``{group}`` the reporting group."""

_UNITS = {"final_energy_kwh_per_unit": "kWh/{unit}", "electricity_kwh_per_unit": "kWh/{unit}",
          "co2_kg_per_unit": "kg CO₂/{unit}", "group_final_energy_kwh_per_unit": "kWh/{unit}",
          "group_electricity_kwh_per_unit": "kWh/{unit}"}
_SHARES = {"group_share_of_final_energy"}

VERDICTS: dict[str, str] = {
    "within": N_("within"),
    "below": N_("below"),
    "above": N_("above"),
    "not_comparable": N_("not comparable"),
}
"""Verdict code -> shown text."""


def sector_name(code: object) -> str:
    """The sector's name in the current language (an unknown code as it is)."""
    key = SECTOR_NAMES.get(str(code))
    return tr(key) if key else str(code)


def metric_label(row: Mapping[str, Any]) -> str:
    """The label of one comparison row's metric (an unknown metric: its code)."""
    key = METRIC_LABELS.get(str(row.get("metric")))
    if key is None:
        return str(row.get("metric"))
    return tr(key, unit=row.get("unit") or "", group=row.get("group") or "")


def unit_text(row: Mapping[str, Any]) -> str:
    """The unit of the row's value ("kWh/vehicle", "%", "" for a ratio like PUE)."""
    metric = str(row.get("metric"))
    if metric in _SHARES:
        return "%"
    return _UNITS.get(metric, "").format(unit=row.get("unit") or "")


def number(row: Mapping[str, Any], x: object) -> str:
    """``x`` (a value or bound of the row's metric) as shown: a share in per cent with one
    decimal, anything else with four significant digits and thousands separators; "–" for
    none."""
    if x is None:
        return "–"
    v = float(x)  # type: ignore[arg-type]
    if not math.isfinite(v):
        return "–"
    if str(row.get("metric")) in _SHARES:
        return f"{v * 100:.1f}"
    if v == 0:
        return "0"
    nd = max(0, 3 - math.floor(math.log10(abs(v))))
    return f"{v:,.{nd}f}"


def value_text(row: Mapping[str, Any]) -> str:
    """The run's value with its unit ("312.4 kWh/vehicle", "55.0 %"), "–" when not
    comparable."""
    if row.get("value") is None:
        return "–"
    unit = unit_text(row)
    return f"{number(row, row['value'])}\u00a0{unit}" if unit else number(row, row["value"])


def range_text(row: Mapping[str, Any]) -> str:
    """The published range: "245 – 642 kWh/vehicle", "≤ 70.0 %", "≥ 1.2"."""
    low, high = row.get("low"), row.get("high")
    if low is not None and high is not None:
        text = f"{number(row, low)} – {number(row, high)}"
    elif high is not None:
        text = f"≤ {number(row, high)}"
    else:
        text = f"≥ {number(row, low)}"
    unit = unit_text(row)
    return f"{text}\u00a0{unit}" if unit else text


def verdict_text(row: Mapping[str, Any]) -> str:
    """The verdict in the current language."""
    key = VERDICTS.get(str(row.get("verdict")))
    return tr(key) if key else str(row.get("verdict"))


def source_text(row: Mapping[str, Any]) -> str:
    """"Stellantis ... (2024; status D)" : the row's source with its year and status."""
    return f"{row.get('source', '')} ({row.get('year', '?')}; {row.get('status', '?')})"


def summary_line(sector: Mapping[str, Any]) -> str:
    """The terminal's one line: the sector and each comparison's value, verdict and range."""
    rows = sector.get("comparisons") or []
    parts = [f"{metric_label(r)} {value_text(r)}: {verdict_text(r)} {range_text(r)}"
             for r in rows]
    if not parts:
        return tr("{sector}: no published range in twin/data/sector_ranges.csv",
                  sector=sector_name(sector.get("sector")))
    return f"{sector_name(sector.get('sector'))}: " + "; ".join(parts)
