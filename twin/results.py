"""Results of a run: the hourly table, settlement intervals, KPIs, and the run folder.

The run folder (see DESIGN.md, "Results contract"):

* ``hourly.parquet``   one row per hour, tz-aware local index, energy in kWh per hour;
* ``intervals.parquet`` the same energy per settlement interval (default 15 min);
* ``kpis.json``        flat KPIs plus ``stations``, ``products`` and ``energy_by_group_kwh``;
* ``equipment.csv``    hours in each power state and energy per carrier, per piece of equipment;
* ``lots.parquet``     every finished lot: product, release and completion time, lead time, due
                       date and tardiness, time held by scheduling strategies;
* ``trace.parquet``    every power state of every equipment over one day (``trace_day``);
* ``steps.parquet``    with ``simulation.steps`` only: one row per lot and route step, with the
                       lot's arrival, start, end of processing and leaving at that station
                       (:mod:`twin.production.steps`);
* ``manifest.json``    resolved config and its hash, seed, versions, wall time, events.

Same config and seed give byte-identical ``hourly.parquet``, ``intervals.parquet`` and
``kpis.json``. The folder is written to a temporary sibling and renamed into place at the end.
KPI definitions are in :mod:`twin.kpis`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.atomic import check_target, csv_safe, staged_folder
from twin.carbon.inventory import inventory
from twin.config.plant import CARRIERS, COOLING, HEAT, NATURAL_GAS
from twin.equipment.states import (
    N_CARRIERS,
    STATES,
)
from twin.i18n import current, display_width, tr
from twin.kpis import interval_hours, plant_kpis
from twin.production import lot_spill
from twin.production.lot_spill import SpilledLots
from twin.sector_text import summary_line as sector_line

FILES = ("hourly.parquet", "intervals.parquet", "kpis.json", "equipment.csv", "lots.parquet",
         "trace.parquet", "steps.parquet", "manifest.json")


@dataclass
class Result:
    """What a run produced. ``save`` writes the run folder; ``load`` reads one back."""

    hourly: pd.DataFrame
    """Energy and production per local hour [kWh, units]."""
    intervals: pd.DataFrame
    """Energy per settlement interval [kWh] and average site electric power [kW]."""
    kpis: dict[str, Any]
    equipment: pd.DataFrame
    """Per equipment: hours in each state and energy per carrier [kWh]."""
    lots: pd.DataFrame
    """Finished lots: product, released, completed, lead_time_h. After a run that finished more
    than :data:`~twin.production.lot_spill.LOT_CHUNK` lots, a
    :class:`~twin.production.lot_spill.SpilledLots` that keeps them on disk until read (it
    behaves as the DataFrame, read in full on first use)."""
    manifest: dict[str, Any]
    trace: pd.DataFrame | None = None
    """Power-state timeline of every equipment over one day (``trace_day``): equipment, state,
    start, end (local time)."""
    steps: pd.DataFrame | None = None
    """With ``simulation.steps``: one row per lot and route step (``steps.parquet``)."""

    def save(self, out_dir: str | os.PathLike, overwrite: bool = False,
             finish: Callable[[Path], object] | None = None) -> Path:
        """Write the run folder atomically; refuse to replace an existing folder unless
        ``overwrite``, and even then only a run folder (one with ``manifest.json``) or an empty
        folder, so that a mistaken path never deletes other files. Returns the folder path.

        ``finish(folder)`` is called on the complete folder before it is swapped in (e.g. to
        write ``dashboard.html``): the old folder is replaced only when everything is written.
        A write error (full disk) raises :class:`twin.atomic.OutputError` and leaves ``out_dir``
        as it was."""
        out = Path(out_dir)
        if out.exists() or out.is_symlink():
            if not overwrite:
                raise FileExistsError(f"{out} exists; choose another folder or overwrite it")
            is_run = out.is_dir() and ((out / "manifest.json").is_file() or not any(out.iterdir()))
            if not is_run:
                raise FileExistsError(f"{out} is not a run folder (no manifest.json); "
                                      f"not replacing it")
        check_target(out)
        with staged_folder(out) as tmp:
            self.hourly.to_parquet(tmp / "hourly.parquet")
            self.intervals.to_parquet(tmp / "intervals.parquet")
            self.lots.to_parquet(tmp / "lots.parquet", index=False,
                                 row_group_size=lot_spill.ROW_GROUP)
            csv_safe(self.equipment).to_csv(tmp / "equipment.csv", float_format="%.6g")
            if self.trace is not None:
                self.trace.to_parquet(tmp / "trace.parquet", index=False)
            if self.steps is not None:
                self.steps.to_parquet(tmp / "steps.parquet", index=False)
            _write_json(tmp / "kpis.json", self.kpis)
            _write_json(tmp / "manifest.json", self.manifest)
            if finish is not None:
                finish(tmp)
        return out

    @classmethod
    def load(cls, run_dir: str | os.PathLike) -> Result:
        """Read a run folder written by :meth:`save`."""
        d = Path(run_dir)
        return cls(
            hourly=pd.read_parquet(d / "hourly.parquet"),
            intervals=pd.read_parquet(d / "intervals.parquet"),
            kpis=json.loads((d / "kpis.json").read_text()),
            equipment=pd.read_csv(d / "equipment.csv", index_col=0, keep_default_na=False),
            lots=pd.read_parquet(d / "lots.parquet"),
            manifest=json.loads((d / "manifest.json").read_text()),
            trace=pd.read_parquet(d / "trace.parquet") if (d / "trace.parquet").is_file()
            else None,
            steps=pd.read_parquet(d / "steps.parquet") if (d / "steps.parquet").is_file()
            else None,
        )

    def summary(self) -> str:
        """A few lines for the terminal, in the language of :func:`twin.i18n.use` (English
        unless inside it)."""
        k = self.kpis
        lines = [
            _row(tr("simulated"), tr("{d} days from {start}", d=f"{k['simulated_days']:g}",
                                     start=k['start'])),
            _row(tr("units completed"), f"{k['units_completed']:,}  "
                 + "  ".join(f"{p}: {v['units_completed']:,}" for p, v in k["products"].items()
                             if v["component_of"] is None))
            if "units_completed" in k else
            _row(tr("production"), tr("none (base loads and profiles only)")),
            _row(tr("electricity"), tr("{kwh} kWh   peak {kw} kW ({m}-min average)",
                                       kwh=f"{k['electricity_kwh']:,.0f}",
                                       kw=f"{k['peak_demand_kw']:,.1f}",
                                       m=k['settlement_interval_min'])),
        ]
        if k["natural_gas_kwh"]:
            lines.append(_row(tr("natural gas"),
                              tr("{x} kWh (LHV)", x=f"{k['natural_gas_kwh']:,.0f}")))
        if k.get("tariff") or k.get("pv_kwh"):
            ss = k["self_sufficiency"]
            lines.append(_row(tr("onsite supply"), tr(
                "PV {pv} kWh, curtailed {cur} kWh, self-sufficiency {ss}; grid import {imp} kWh,"
                " peak {peak} kW", pv=f"{k['pv_kwh']:,.0f}", cur=f"{k['curtailed_kwh']:,.0f}",
                ss='n/a' if ss is None else f'{ss:.1%}', imp=f"{k['grid_import_kwh']:,.0f}",
                peak=f"{k['peak_grid_import_kw']:,.1f}")))
            lines.append(_row(tr("cost"), tr(
                "{total} total = energy {energy} + demand {demand} + gas {gas}{heat} - export"
                " {export}  ({tariff})", total=f"{k['cost_total']:,.0f}",
                energy=f"{k['energy_cost']:,.0f}", demand=f"{k['demand_cost']:,.0f}",
                gas=f"{k['gas_cost']:,.0f}",
                heat=tr(" + heat {x}", x=f"{k['purchased_heat_cost']:,.0f}")
                if k["purchased_heat_kwh"] else "", export=f"{k['export_revenue']:,.0f}",
                tariff=k['tariff'] or tr('no tariff'))))
        if k.get("dispatch_regret") is not None:
            unit = "kg CO2" if k["dispatch_objective"] == "emissions" else "CNY"
            bare = k["dispatch_no_battery_cost"]
            lines.append("  " + tr(
                "battery dispatch saves {saved} of a possible {best} CNY; regret {regret} {unit}"
                " ({objective}, against the perfect-foresight optimum)",
                saved=f"{bare - k['dispatch_cost']:,.0f}",
                best=f"{bare - k['dispatch_optimum_cost']:,.0f}",
                regret=f"{k['dispatch_regret']:,.0f}", unit=unit,
                objective=k['dispatch_objective']))
        gf = (k.get("carbon") or {}).get("grid_factor") or {}
        lines.append(_row("CO2", tr(
            "scope 1 {s1} t, scope 2 {s2} t location-based ({region} {year}, {f} kg/kWh), {mkt} t"
            " market-based", s1=f"{k['co2_scope1_kg'] / 1000:,.1f}",
            s2=f"{k['co2_scope2_location_kg'] / 1000:,.1f}", region=gf.get('region', '?'),
            year=gf.get('year', ''), f=f"{gf.get('value', 0):.4f}",
            mkt=f"{k['co2_scope2_market_kg'] / 1000:,.1f}")
            + (tr(" (both with purchased heat {x} t)", x=f"{k['co2_scope2_heat_kg'] / 1000:,.1f}")
               if k.get("co2_scope2_heat_kg") else "")))
        if k["kwh_per_unit"] is not None:
            lines.append(_row(tr("energy per unit"), tr(
                "{kwh} kWh electricity, {co2} kg CO2 (scope 1 + 2 location-based)",
                kwh=f"{k['kwh_per_unit']:.3f}", co2=f"{k['co2_kg_per_unit']:.3f}")))
        dc = k.get("data_centre")
        if dc and dc.get("pue") is not None:
            lines.append(_row(tr("data centre"), tr(
                "PUE {pue}, CUE {cue} kg CO2 per IT kWh (location-based), IT {it} kWh",
                pue=f"{dc['pue']:.3f}", cue=f"{dc['cue_kg_per_kwh_it']:.3f}",
                it=f"{dc['it_kwh']:,.0f}")))
        per_unit = [f"{p} {v['co2_kg_per_unit']:.3f} kg"
                    for p, v in (k.get("products") or {}).items()
                    if v.get("co2_kg_per_unit") is not None]
        if per_unit:
            lines.append(_row(tr("footprint/unit"), ", ".join(per_unit) + tr(
                "  (scope 1 + 2 part, overhead by {rule})", rule=k['footprints']['rule'])))
        if k.get("sector"):
            lines.append(_row(tr("sector"), sector_line(k["sector"])))
        ev = k.get("evaluation")
        if ev:
            counts = {s: sum(i["status"] == s for i in ev["indicators"])
                      for s in ("pass", "fail", "not_judged")}
            lines.append(_row(tr("zero-carbon"), tr(
                "{rules}: {verdict} ({p} pass, {f} fail, {n} not judged); twin report RUN_DIR"
                " for the report", rules=ev['rules']['name'], verdict=_verdict(ev['verdict']),
                p=counts['pass'], f=counts['fail'], n=counts['not_judged'])))
            eb = ev.get("energy_basis") or {}
            other = eb.get("other") or {}
            mkt = (ev.get("metrics") or {}).get("co2_t_per_tce_market", {}).get("value")
            mkt_other = (other.get("metrics") or {}).get("co2_t_per_tce_market")
            if eb and other and mkt is not None and mkt_other is not None:
                lines.append(_row(tr("CO2 per tce"), tr(
                    "{a} t/tce on the {basis} basis ({x} kgce/kWh), {b} on the {other} basis"
                    " ({y})", a=f"{mkt:.3f}", basis=_basis(eb['basis']),
                    x=f"{eb['electricity_kgce_per_kwh']:.4f}", b=f"{mkt_other:.3f}",
                    other=_basis(other['basis']), y=f"{other['electricity_kgce_per_kwh']:.4f}")))
        if k.get("mean_lead_time_h") is not None:
            lines.append(_row(tr("lead time"), tr(
                "{h} h mean, WIP {wip} lots mean", h=f"{k['mean_lead_time_h']:.2f}",
                wip=f"{k['mean_wip_lots']:.1f}")))
        due = k.get("due_dates")
        if due:
            still = (tr(" ({x} late lots still unfinished)", x=due['open_late_lots'])
                     if due.get("open_late_lots") else "")
            lines.append(_row(tr("due dates"), tr(
                "{share} of {lots} lots on time{still}, tardiness {mean} h mean, {max} h max",
                share=f"{due['on_time_share']:.1%}", lots=due['lots'], still=still,
                mean=f"{due['mean_tardiness_h']:.2f}", max=f"{due['max_tardiness_h']:.2f}")))
        orders = k.get("orders")
        if orders and orders["on_time_share"] is not None:
            lines.append(_row(tr("orders"), tr(
                "{ok} of {n} on time ({share} of those complete or past due), {late} late",
                ok=orders['on_time'], n=orders['orders'],
                share=f"{orders['on_time_share']:.1%}", late=orders['late_orders'])))
        for name, rep in (k.get("strategies") or {}).items():
            if "starts_deferred" in rep:
                lines.append(f"  {name:<16} " + tr(
                    "{n} starts deferred ({lots} lots, {h} machine-h held), {forced} forced by"
                    " due dates or full buffers", n=rep['starts_deferred'],
                    lots=rep['lots_held'], h=f"{rep['hours_held']:.1f}",
                    forced=sum(rep['forced_starts'].values())))
        for name, st in k["stations"].items():
            q = st.get("sequence")
            if q:  # sequence casting (twin.production.sequence)
                lines.append(_row(tr("sequences"), tr(
                    "{name}: {n} sequences, {breaks} breaks, {planned} planned restarts, {lost}"
                    " units lost", name=name, n=q["sequences"], breaks=q["breaks"],
                    planned=q["planned_restarts"], lost=f"{q['units_lost']:,.2f}")))
        worst = sorted(k["stations"].items(), key=lambda kv: -kv[1]["utilization"])[:3]
        if worst:
            lines.append(_row(tr("busiest stations"), ", ".join(
                f"{n} {v['utilization']:.0%} (OEE {v['oee']:.0%})" for n, v in worst)))
        queued = [(n, v) for n, v in worst if v.get("mean_wait_s") is not None]
        if queued:
            lines.append(_row(tr("their queues"), ", ".join(
                tr("{n} {x} lots waiting, wait {w}", n=n, x=f"{v['mean_lots_waiting']:,.1f}",
                   w=_duration(v['mean_wait_s'])) for n, v in queued) + tr(" (means)")))
        if k.get("warnings"):
            lines.append(_row(tr("warnings"), tr(
                "{n}: look at them before trusting these figures (kpis.json 'warnings')",
                n=len(k['warnings']))))
        return "\n".join(lines)


def _row(label: str, text: str) -> str:
    """One summary line: two spaces, ``label`` padded to 17 columns (a Chinese character takes
    two), ``text``."""
    return "  " + label + " " * max(1, 17 - display_width(label)) + text


def _verdict(v: str) -> str:
    up = v.upper()
    return {"PASS": tr("PASS"), "FAIL": tr("FAIL"), "INCOMPLETE": tr("INCOMPLETE")}.get(up, up)


def _basis(code: str) -> str:
    """An energy basis code as the summary names it ('equal_value'; 等价值 in Chinese)."""
    return {"calorific": tr("calorific"), "equal_value": tr("equal-value")}.get(code, code) \
        if current() != "en" else code


def _duration(seconds: float) -> str:
    """``seconds`` in s, min or h, whichever reads best."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, allow_nan=False, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def collect(model: Any, wall_s: float, events: int) -> Result:
    """Turn a finished :class:`~twin.engine.Model` into a :class:`Result`."""
    meter, flow, clock = model.meter, model.flow, model.clock
    interval_s = meter.interval_s
    per_hour = round(3600.0 / interval_s)
    n_int = meter.n_intervals
    n_hours = -(-n_int // per_hour)

    cols, how = _interval_columns(model)
    intervals = pd.DataFrame(cols, index=clock.index(n_int, interval_s))
    intervals.index.name = "time"
    intervals.insert(1, "electricity_demand_kw",
                     intervals["electricity_demand_kwh"] / interval_hours(model))
    hourly = pd.DataFrame({name: _to_hours(v, per_hour, n_hours, how.get(name, "sum"))
                           for name, v in cols.items() if how.get(name) != "label"},
                          index=clock.index(n_hours, 3600))
    hourly.index.name = "time"
    if "electricity_kwh:it" in hourly.columns:  # PUE per hour: site / IT electricity
        from twin.energy.data_centre import pue

        hourly["pue"] = pue(hourly["electricity_demand_kwh"].to_numpy(),
                            hourly["electricity_kwh:it"].to_numpy())
    hourly["units_completed"] = np.asarray(flow.units_by_hour[:n_hours], dtype=np.int64)

    equipment = _equipment_table(model)
    lots = _lots_table(model)
    kpis = plant_kpis(model, intervals, equipment)
    manifest = _manifest(model, wall_s, events)
    return Result(hourly, intervals, kpis, equipment, lots, manifest, _trace_table(model),
                  _steps_table(model))


def _steps_table(model: Any) -> pd.DataFrame | None:
    """``steps.parquet``: the rows the machines recorded (``simulation.steps``) and the lots still
    at a station at the end, by lot and step; times are local timestamps, as in ``lots.parquet``
    (NaT: not yet)."""
    log = model.stations[0].steps if model.stations else None
    if log is None:
        return None
    a = log.arrays(model.stations, [p.route for p in model.plant.products])
    order = np.lexsort((a["step"], a["lot"]))
    t0 = pd.Timestamp(model.clock.t0)
    names = [e.name for e in model.equipment if e.kind == "machine"]  # machines come first
    out = {
        "lot": a["lot"][order],
        "product": pd.Categorical.from_codes(a["product"][order],
                                             categories=model.flow.products),
        "step": a["step"][order],
        "station": pd.Categorical.from_codes(a["station"][order],
                                             categories=[rt.id for rt in model.stations]),
        "machine": pd.Categorical.from_codes(a["machine"][order], categories=names),  # -1: none
    }
    for col in ("arrival", "start", "finish", "left"):
        out[col] = t0 + pd.to_timedelta(a[col][order], unit="s")
    return pd.DataFrame(out)


def _trace_table(model: Any) -> pd.DataFrame | None:
    """The kept change points as segments: one row per equipment and stay in a state."""
    meter = model.meter
    if meter.trace_window is None:
        return None
    t, eq, st = meter.trace_columns()
    if not t.size:
        return None
    order = np.lexsort((t, eq))  # by equipment, then time (stable: snapshot before changes)
    t, eq, st = t[order], eq[order], st[order]
    end = np.empty_like(t)
    end[:-1] = t[1:]
    last = np.ones(len(t), dtype=bool)
    last[:-1] = eq[1:] != eq[:-1]
    end[last] = meter.trace_window[1]
    keep = end > t
    t0 = pd.Timestamp(model.clock.t0)
    names = np.array([e.name for e in model.equipment], dtype=object)
    state = np.array(STATES, dtype=object)[st[keep]]
    base = np.array([e.kind == "base_load" for e in model.equipment])[eq[keep]]
    state[base & (state == "idle")] = "on"  # a base load's only states are on and off
    return pd.DataFrame({
        "equipment": names[eq[keep]],
        "group": np.array([e.group for e in model.equipment], dtype=object)[eq[keep]],
        "state": state,
        "start": t0 + pd.to_timedelta(t[keep], unit="s"),
        "end": t0 + pd.to_timedelta(end[keep], unit="s"),
    })


def _to_hours(values: np.ndarray, per_hour: int, n_hours: int, how: str) -> np.ndarray:
    """Aggregate per-interval values to hours: 'sum' (energy), 'last' (a level at the end of the
    hour) or 'mean' (a price); a partial last hour uses the intervals it has."""
    n = len(values)
    padded = np.zeros(n_hours * per_hour)
    padded[:n] = values
    blocks = padded.reshape(n_hours, per_hour)
    if how == "sum":
        return blocks.sum(axis=1)
    counts = np.full(n_hours, per_hour)
    counts[-1] = n - (n_hours - 1) * per_hour
    if how == "last":
        return blocks[np.arange(n_hours), counts - 1]
    return blocks.sum(axis=1) / counts


def _interval_columns(model: Any) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Results-contract columns per settlement interval, and how each aggregates to hours."""
    meter, groups = model.meter, model.groups
    n = meter.n_intervals
    v = meter.interval_kwh.reshape(n, len(groups), N_CARRIERS)
    total = meter.carrier_kwh()
    gas, heat, cool = total[:, NATURAL_GAS], total[:, HEAT], total[:, COOLING]
    zeros = np.zeros(n)
    ems = model.ems
    if ems is None:  # no supply modelled: the grid covers all electricity, nothing is priced
        a = {"demand": total[:, 0], "grid_import": total[:, 0], "conversion_gas": zeros,
             "conversion_electricity": zeros}
        price = zeros
    else:
        if meter.closed:
            ems.settle_from_meter(meter)  # a model run step by step rather than by engine.run
        a = ems.arrays()
        price = np.asarray(ems.supply.price, dtype=float)

    def get(name: str) -> np.ndarray:
        return a.get(name, zeros)

    how: dict[str, str] = {}
    cols: dict[str, np.ndarray] = {
        "electricity_demand_kwh": get("demand"),
        "pv_kwh": get("pv"),
        "wind_kwh": get("wind"),
        "chp_kwh": get("chp_electricity"),
        "battery_charge_kwh": get("charge"),
        "battery_discharge_kwh": get("discharge"),
        "battery_soc_kwh": get("soc"),
        "grid_import_kwh": get("grid_import"),
        "grid_export_kwh": get("grid_export"),
        "curtailed_kwh": get("curtailed"),
        "unserved_kwh": get("unserved"),
        "fuel_kwh": gas + get("conversion_gas"),
        "heat_demand_kwh": heat,
        "heat_unmet_kwh": get("heat_unmet"),
        "cooling_demand_kwh": cool,
        "cooling_unmet_kwh": get("cooling_unmet"),
        "thermal_storage_kwh": get("thermal_soc"),
        "cold_storage_kwh": get("cold_soc"),
        "purchased_heat_kwh": get("purchased_heat"),
        "electricity_cost": get("grid_import") * price,
        "price_per_kwh": price,
    }
    onsite = np.maximum(cols["pv_kwh"] + cols["wind_kwh"] - cols["curtailed_kwh"]
                        - cols["grid_export_kwh"], 0.0)
    # CHP electricity used on site (export and curtailment come from renewables first)
    chp_used = np.maximum(cols["pv_kwh"] + cols["wind_kwh"] + cols["chp_kwh"]
                          - cols["curtailed_kwh"] - cols["grid_export_kwh"], 0.0) - onsite
    bought = (cols["purchased_heat_kwh"] if ems is not None
              and model.plant.energy.purchased_heat is not None else None)
    inv = inventory(model.plant, model.clock.index(n, meter.interval_s), cols["grid_import_kwh"],
                    cols["fuel_kwh"], onsite, hours=interval_hours(model),
                    end_units_by_interval=_units_by_interval(model), purchased_heat_kwh=bought,
                    onsite_other_used_kwh=chp_used if cols["chp_kwh"].any() else None)
    model.carbon_info = inv.info
    cols["co2_scope1_kg"] = inv.scope1_kg
    if inv.process_kg is not None:  # only plants with process emissions or refrigerants
        cols["co2_scope1_process_kg"] = inv.process_kg
        cols["co2_scope1_refrigerant_kg"] = inv.refrigerant_kg
    cols["co2_scope2_location_kg"] = inv.scope2_location_kg
    cols["co2_scope2_market_kg"] = inv.scope2_market_kg
    if inv.scope2_heat_kg is not None:  # only plants that buy heat: the part of both scope 2s
        cols["co2_scope2_heat_kg"] = inv.scope2_heat_kg
    cols["grid_ef_kg_per_kwh"] = inv.grid_ef_kg_per_kwh
    used = [c for c in range(N_CARRIERS)  # weather-following loads have no power-table entry
            if c == 0 or meter.uses_carrier(c) or v[:, :, c].any()]
    for c in used:
        for g, group in enumerate(groups):
            cols[f"{CARRIERS[c]}_kwh:{group}"] = v[:, g, c]
    if get("conversion_electricity").any():
        cols["electricity_kwh:energy_plant"] = get("conversion_electricity")
    if get("building_hvac").any():
        cols["electricity_kwh:building_hvac"] = get("building_hvac")
    dc = ems.supply.data_centre if ems is not None else None
    if dc is not None:  # a data centre (twin.energy.data_centre): its groups and heat
        hours = interval_hours(model)
        for g, kw in dc.power_kw.items():
            name = f"electricity_kwh:{g}"
            cols[name] = (cols[name] + kw * hours) if name in cols else kw * hours
        cols["heat_exported_kwh"] = dc.heat_exported_kw * hours
        cols["free_cooling_share"] = dc.free_cooling
        how["free_cooling_share"] = "mean"
    if ems is not None and ems.supply.period and model.plant.energy.grid.tariff is not None:
        cols["tou_period"] = np.asarray(ems.supply.period, dtype=object)
    how.update({"battery_soc_kwh": "last", "thermal_storage_kwh": "last",
                "cold_storage_kwh": "last", "price_per_kwh": "mean", "grid_ef_kg_per_kwh": "mean",
                "tou_period": "label"})
    return cols, how


def _units_by_interval(model: Any) -> dict[str, np.ndarray]:
    """Units of each product completed per settlement interval (end products only complete)."""
    n, step = model.meter.n_intervals, model.meter.interval_s
    flow = model.flow
    counts = np.zeros((len(flow.products), n), dtype=np.int64)
    for c in flow.completion_chunks():  # lots per interval, chunk by chunk (exact: integers)
        k = np.minimum((c["completed_s"] // step).astype(np.int64), n - 1)
        for j in np.unique(c["product"]).tolist():
            counts[j] += np.bincount(k[c["product"] == j], minlength=n)[:n]
    upl = np.asarray(flow.units_per_lot, dtype=float)
    return {p: counts[j] * upl[j] for j, p in enumerate(flow.products)}


def _equipment_table(model: Any) -> pd.DataFrame:
    meter = model.meter
    data: dict[str, Any] = {
        "kind": [e.kind for e in model.equipment],
        "group": [e.group for e in model.equipment],
        "station": [e.station or "" for e in model.equipment],
    }
    for s, name in enumerate(STATES):
        data[f"{name}_h"] = meter.state_s[:, s] / 3600.0
    for c, carrier in enumerate(CARRIERS):
        data[f"{carrier}_kwh"] = meter.equipment_kwh[:, c]
    df = pd.DataFrame(data, index=pd.Index([e.name for e in model.equipment], name="equipment"))
    return df


def _lots_table(model: Any) -> pd.DataFrame | SpilledLots:
    """Finished lots (:func:`_lots_frame`): a DataFrame, or for a run whose lots went to disk
    (:mod:`twin.production.lot_spill`) a :class:`SpilledLots` that reads them chunk by chunk."""
    flow = model.flow
    t0 = pd.Timestamp(model.clock.t0)
    products, orders = flow.products, flow.orders

    def frame(c: dict[str, np.ndarray]) -> pd.DataFrame:
        return _lots_frame(c, t0, products, orders)

    if flow.spill is None:
        return frame(flow.completions())
    return SpilledLots(flow.completion_chunks, frame, flow.lots_done, keep=flow.spill)


def _lots_frame(c: dict[str, np.ndarray], t0: pd.Timestamp, products: list[str],
                orders: list[str]) -> pd.DataFrame:
    """Finished lots; ``due`` is NaT and ``tardiness_h`` NaN for a lot without a due date;
    ``tardiness_h`` = max(completed - due, 0); ``held_h`` is the time strategies held its start;
    ``order`` the id of the order it was made for (``kind: orders`` sources; else missing);
    ``lot`` its number in the order the lots entered the plant (as in ``steps.parquet``)."""
    due_s = np.where(np.isfinite(c["due_s"]), c["due_s"], np.nan)
    return pd.DataFrame({
        "lot": c["lot"],
        "product": pd.Categorical.from_codes(c["product"], categories=products),
        "released": t0 + pd.to_timedelta(c["released_s"], unit="s"),
        "completed": t0 + pd.to_timedelta(c["completed_s"], unit="s"),
        "lead_time_h": (c["completed_s"] - c["released_s"]) / 3600.0,
        "due": t0 + pd.to_timedelta(due_s, unit="s"),
        "tardiness_h": np.maximum(c["completed_s"] - due_s, 0.0) / 3600.0,
        "held_h": c["held_s"] / 3600.0,
        "order": pd.Categorical.from_codes(c["order"], categories=orders),
    })


def _manifest(model: Any, wall_s: float, events: int) -> dict[str, Any]:
    import numpy
    import simpy

    from twin import __version__
    from twin.workdays import package_version

    config = model.plant.model_dump(mode="json")
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return {
        "config": config,
        "config_sha256": hashlib.sha256(canonical.encode()).hexdigest(),
        "seed": model.seed,
        "start": model.clock.start.isoformat(),
        "days": model.days,
        "strategies": ([s.name for s in model.strategies]
                       + ([f"dispatch:{model.ems.policy.name}"] if model.ems is not None else [])),
        "twin_version": __version__,
        "versions": {"python": platform.python_version(), "simpy": simpy.__version__,
                     "numpy": numpy.__version__, "pandas": pd.__version__,
                     "chinesecalendar": package_version()},
        "wall_clock_s": round(wall_s, 3),
        "events_processed": events,
        "state_changes": int(model.meter.records),
        "random_streams": sorted(set(model.streams.names)),
    }
