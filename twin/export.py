"""``results.xlsx``: a run or study folder as an Excel workbook (``twin export DIR --xlsx``).

>>> from twin.export import write_xlsx
>>> write_xlsx("results/demo")                          # doctest: +SKIP
PosixPath('results/demo/results.xlsx')

A run folder gives the sheets ``KPIs`` (every number of ``kpis.json`` that is one number, with its
unit), ``hourly`` (``hourly.parquet`` with local times), ``monthly``
(:func:`twin.dashboard.profiles.monthly_table` with a total row), ``equipment``
(``equipment.csv``), ``stations`` (the station KPIs) and ``evaluation`` (the zero-carbon
evaluation's indicators). A study folder gives ``scenarios``, ``comparison``
(``comparison.csv``), ``economics`` (``economics.csv``) and ``macc`` (``macc.csv``). Every header
says its unit in brackets. Only the folder's files are read. The workbook is written to a
temporary file in the folder and renamed into place, so a reader never sees half a workbook and
a failed export leaves the old one.

Text cells are written as text: a name starting with ``=`` is not turned into a formula.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.atomic import write_file

FILENAME = "results.xlsx"


class ExportError(FileNotFoundError):
    """The folder is not a run or study folder (the message names the folder and what is
    missing)."""


# --------------------------------------------------------------------------------------- units

_SUFFIX_UNITS = (("_kg_per_kwh", "kg CO₂/kWh"), ("_per_kwh", "{cur}/kWh"), ("_kwh", "kWh"),
                 ("_kw", "kW"), ("_kg", "kg CO₂"), ("_t", "t CO₂"), ("_h", "h"),
                 ("_min", "min"), ("_cost", "{cur}"), ("_share", "fraction"),
                 ("_ratio", "fraction"), ("_days", "d"), ("_years", "yr"), ("_tce", "tce"),
                 ("_lots", "lots"), ("_per_h", "1/h"))
_UNITS = {"cost_total": "{cur}", "export_revenue": "{cur}", "units_completed": "units",
          "lots_completed": "lots", "lots_released": "lots", "self_sufficiency": "fraction",
          "kwh_per_unit": "kWh/unit", "co2_kg_per_unit": "kg CO₂/unit",
          "co2_kg_per_unit_market": "kg CO₂/unit", "throughput_lots_per_h": "lots/h",
          "battery_equivalent_cycles": "cycles", "pv_full_load_hours": "h",
          "dispatch_regret": "{cur}", "dispatch_cost": "{cur}",
          "dispatch_no_battery_cost": "{cur}", "dispatch_optimum_cost": "{cur}",
          "seed": "", "utilization": "fraction", "availability": "fraction",
          "performance": "fraction", "oee": "fraction", "machines": "",
          "lots_processed": "lots", "price_per_kwh": "{cur}/kWh",
          "electricity_cost": "{cur}", "tou_period": "", "capex": "{cur}", "npv": "{cur}",
          "irr": "fraction", "annual_cost_saving": "{cur}/yr", "annual_co2_saving_t": "t CO₂/yr",
          "levelised_abatement_cost_per_t": "{cur}/t CO₂", "simple_payback_years": "yr",
          "annual_energy_kwh": "kWh/yr", "discount_rate": "fraction/yr",
          "annual_om_cost": "{cur}/yr", "annual_net_saving": "{cur}/yr",
          "annualised_net_cost": "{cur}/yr", "abatement_cost_per_t": "{cur}/t CO₂",
          "annual_abatement_t": "t CO₂/yr", "irr_count": "",
          "diff_pct": "fraction of the base mean"}


def unit_of(name: str, currency: str) -> str:
    """The unit of a column or KPI of the run folder, from its name (see
    :mod:`twin.results`, :mod:`twin.kpis`); '' if it has none or is not known."""
    base = name.split(":", 1)[0]
    for interval in ("_ci_low", "_ci_high"):   # an interval's bound has its value's unit
        base = base.removesuffix(interval)
    unit = _UNITS.get(base)
    if unit is None:
        unit = next((u for suffix, u in _SUFFIX_UNITS if base.endswith(suffix)), "")
    return unit.replace("{cur}", currency)


def header(name: str, unit: str) -> str:
    """'name [unit]', or the name alone without a unit."""
    return f"{name} [{unit}]" if unit else name


# ------------------------------------------------------------------------------------- writing


def _cell_value(v: Any) -> Any:
    """A value openpyxl writes as it is: NaN and None as empty, numpy scalars as Python ones,
    timestamps as naive local datetimes, anything else not a number as text."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(float(v)) else None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.tz_localize(None).to_pydatetime() if v.tz else \
            v.to_pydatetime()
    if isinstance(v, (dt.datetime, dt.date)):
        return v
    return str(v)


def _rows(ws: Any, rows: Iterable[Sequence[Any]]) -> None:
    """Append ``rows`` to the write-only sheet ``ws``, text as text (never a formula)."""
    from openpyxl.cell import WriteOnlyCell

    for row in rows:
        out = []
        for v in row:
            v = _cell_value(v)
            if isinstance(v, str) and v.startswith("="):
                cell = WriteOnlyCell(ws, value=v)
                cell.data_type = "s"
                out.append(cell)
            else:
                out.append(v)
        ws.append(out)


def _frame_rows(df: pd.DataFrame) -> Iterable[list[Any]]:
    cols = [df[c].to_numpy() for c in df.columns]
    for i in range(len(df)):
        yield [c[i] for c in cols]


def _sheet(wb: Any, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    ws = wb.create_sheet(title)
    _rows(ws, [list(headers)])
    _rows(ws, rows)


def _save(wb: Any, path: Path) -> Path:
    return write_file(path, wb.save)


# ------------------------------------------------------------------------------------ run folder


def _flat_kpis(kpis: dict[str, Any]) -> list[tuple[str, Any]]:
    """The KPIs that are one number (or one text), in ``kpis.json`` order; months of
    ``peak_grid_import_kw_by_month`` as ``peak_grid_import_kw:YYYY-MM``."""
    out: list[tuple[str, Any]] = []
    for k, v in kpis.items():
        if isinstance(v, (int, float, str)) and not isinstance(v, bool):
            out.append((k, v))
        elif k == "peak_grid_import_kw_by_month" and isinstance(v, dict):
            out += [(f"{k.replace('_by_month', '')}:{m}", x) for m, x in v.items()]
    return out


def run_workbook(run_dir: str | os.PathLike[str]) -> Any:
    """The workbook of a run folder (an ``openpyxl.Workbook`` in write-only mode)."""
    from openpyxl import Workbook

    from twin.dashboard.data import load
    from twin.dashboard.profiles import MONTHLY_COLUMNS, monthly_table, monthly_totals

    data = load(run_dir)
    cur = data.currency
    k = data.kpis
    wb = Workbook(write_only=True)
    _sheet(wb, "KPIs", ["KPI", "Value", "Unit"],
           ([name, v, unit_of(name, cur) if not isinstance(v, str) else ""]
            for name, v in _flat_kpis(k)))

    h = data.hourly
    tz = data.timezone
    idx = pd.DatetimeIndex(h.index)
    wall = (idx.tz_localize(None) if idx.tz is not None else idx).to_pydatetime()
    heads = [f"Local time ({tz}), start of hour"] + [header(c, unit_of(c, cur))
                                                     for c in h.columns]
    cols = [h[c].to_numpy() for c in h.columns]
    _sheet(wb, "hourly", heads, ([wall[i], *(c[i] for c in cols)] for i in range(len(h))))

    table = monthly_table(data)
    heads = ["Month"] + [header(MONTHLY_COLUMNS[c][0], MONTHLY_COLUMNS[c][1].replace(
        "{cur}", cur)) for c in table.columns]
    tot = monthly_totals(table)
    rows = [[m, *r.tolist()] for m, r in table.iterrows()]
    rows.append(["Total (peak: highest month)", *(tot[c] for c in table.columns)])
    _sheet(wb, "monthly", heads, rows)

    if data.equipment is not None:
        eq = data.equipment
        _sheet(wb, "equipment", ["Equipment"] + [header(c, unit_of(c, cur)) for c in eq.columns],
               ([name, *row] for name, row in zip(eq.index, _frame_rows(eq), strict=True)))
    stations = k.get("stations") or {}
    if stations:
        keys = [key for key in next(iter(stations.values())) if key != "time_share"]
        _sheet(wb, "stations", ["Station"] + [header(key, unit_of(key, cur)) for key in keys],
               ([s, *(st.get(key) for key in keys)] for s, st in stations.items()))
    ev = k.get("evaluation") or {}
    if ev:
        rules = ev.get("rules") or {}
        heads = ["Indicator", "Value", "Unit", "Test", "Threshold", "Result",
                 "Margin (positive = headroom)", "Basis / reason"]
        rows = []
        for ind in ev.get("indicators") or []:
            unit = str(ind.get("unit", ""))
            rows.append([ind.get("label"), ind.get("value"), "fraction" if unit == "-" else unit,
                         ind.get("op"), ind.get("threshold"), ind.get("status"),
                         ind.get("margin"), ind.get("reason") or ind.get("basis") or ""])
        rows.append([])
        rows.append([f"Rule set: {rules.get('title', rules.get('name', '?'))}",
                     f"verdict: {ev.get('verdict', '?')}"])
        _sheet(wb, "evaluation", heads, rows)
    return wb


# ---------------------------------------------------------------------------------- study folder


def study_workbook(folder: str | os.PathLike[str]) -> Any:
    """The workbook of a study folder (an ``openpyxl.Workbook`` in write-only mode)."""
    from openpyxl import Workbook

    from twin.dashboard.study import _label_unit, load_study_folder

    data = load_study_folder(folder)
    cur = data.currency
    wb = Workbook(write_only=True)
    specs = (data.manifest.get("study") or {}).get("scenarios") or {}
    _sheet(wb, "scenarios", ["Scenario", "Base", "Description", "Capex [" + cur + "]"],
           ([s, s == data.base, str((specs.get(s) or {}).get("description") or "").strip(),
             ((specs.get(s) or {}).get("upgrade") or {}).get("capex")] for s in data.names))
    comp = data.comparison.copy()
    if len(comp):
        # one KPI per row, each in its own unit: the unit column says it, the headers point to it
        comp.insert(2, "label", [_label_unit(data, str(x))[0] for x in comp["kpi"]])
        comp["unit"] = ["fraction" if u == "-" else u
                        for u in (_label_unit(data, str(x))[1] for x in comp["kpi"])]
        plain = ("scenario", "kpi", "label", "unit", "n")
        heads = [c if c in plain
                 else header(c, unit_of(c, cur) if c == "diff_pct" else "in unit")
                 for c in comp.columns]
        _sheet(wb, "comparison", heads, _frame_rows(comp))
    for name, df in (("economics", data.economics), ("macc", data.macc)):
        if len(df):
            _sheet(wb, name, [header(c, unit_of(c, cur)) for c in df.columns], _frame_rows(df))
    return wb


def write_xlsx(folder: str | os.PathLike[str]) -> Path:
    """Write ``folder/results.xlsx`` from a run or study folder and return its path.

    Raises
    ------
    ExportError
        ``folder`` is neither a run folder nor a study folder.
    """
    from twin.study import MARKER

    d = Path(folder)
    if not d.is_dir():
        raise ExportError(f"{d}: no such folder; expected a run folder ('twin run') or a study "
                          "folder ('twin compare')")
    if (d / MARKER).is_file():
        wb = study_workbook(d)
    elif (d / "kpis.json").is_file():
        wb = run_workbook(d)
    else:
        raise ExportError(f"{d}: neither a run folder (no kpis.json) nor a study folder (no "
                          f"{MARKER}); expected the --out folder of 'twin run' or 'twin "
                          "compare'")
    return _save(wb, d / FILENAME)

