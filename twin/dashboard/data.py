"""Read a run folder into what the dashboard draws.

Only the files of the run folder are read (see :mod:`twin.results` for their contents and units);
the live simulation is never touched, so a dashboard can be rebuilt from a copied folder.
``hourly.parquet``, ``kpis.json`` and ``manifest.json`` are required; a missing
``equipment.csv``, ``lots.parquet`` or ``intervals.parquet`` only leaves its part of the page out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from twin.dashboard import theme

REQUIRED = ("hourly.parquet", "kpis.json", "manifest.json")


@dataclass
class RunData:
    """The parts of a run folder the dashboard uses."""

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

    def line_of_station(self) -> dict[str, str]:
        """Station id -> line id, from the resolved config in the manifest."""
        out: dict[str, str] = {}
        for line in self.manifest.get("config", {}).get("lines", []) or []:
            for st in line.get("stations", []) or []:
                out[str(st.get("id"))] = str(line.get("id"))
        return out


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

    hourly = pd.read_parquet(d / "hourly.parquet")
    kpis = json.loads((d / "kpis.json").read_text(encoding="utf-8"))
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    equipment = None
    if (d / "equipment.csv").is_file():
        # keep_default_na=False: ids such as 'NA' or 'null' are valid names, not missing values;
        # base loads have an empty station
        equipment = pd.read_csv(d / "equipment.csv", index_col=0, keep_default_na=False)
        equipment.index = equipment.index.astype(str)
        for col in ("kind", "group", "station"):
            if col in equipment.columns:
                equipment[col] = equipment[col].astype(str)
    lots = pd.read_parquet(d / "lots.parquet") if (d / "lots.parquet").is_file() else None

    peak = None
    if (d / "intervals.parquet").is_file():
        iv = pd.read_parquet(d / "intervals.parquet", columns=["electricity_demand_kw"])
        if len(iv):
            kw = iv["electricity_demand_kw"]
            t = kw.idxmax()
            peak = (pd.Timestamp(t), float(kw.loc[t]))

    data = RunData(d, hourly, kpis, manifest, equipment, lots, peak)
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
