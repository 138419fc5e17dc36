"""KPIs of a run: production, stations, energy, supply and cost, plus plain-language warnings.

Station KPIs (per station, summed over its machines; *scheduled* time is the time in working
windows of the station's calendar (its own, else the plant's), the whole run for a 24/7 plant):

* utilization  = processing time / scheduled time;
* availability = run time / planned time, where planned = scheduled - planned maintenance and
  run time = planned - (breakdown + changeover time)  (OEE availability, Nakajima 1988);
* performance  = sum of the mean processing times of the lots processed / run time (the ideal cycle
  time of a lot is the mean of its processing-time distribution, so random spread averages out);
* quality      = good lots / lots processed there (1 without a ``quality`` block; a lot sent
  back for rework counts as not good) (:mod:`twin.production.quality_kpis`);
* oee          = availability x performance x quality;
* changeovers and periodic setups/cleaning (``cleaning``) are planned stops in the setup state:
  they lower availability, as breakdowns do, but are reported apart (``cleaning_h``);
* time_share   = fraction of the whole run in each power state;
* offered_load = (sum of the mean processing times of the lots processed + those of the lots still
  waiting at the end / batch size) / run time: the work that came to the station against the time
  it had for it; at or above 1 no queue is stable (Loynes 1962) and it grows for as long as the
  run lasts;
* mean_lots_waiting, mean_lots_in_station, mean_wait_s: time-average lots in the input buffer and
  in the station (waiting + at a machine) and the mean wait from arrival in the buffer to being
  taken by a machine (:mod:`twin.production.queues`); lots_in_station_at_end.

A conveyor station (:mod:`twin.production.conveyor`) is one machine (its states, availability,
performance with the pitch as ideal cycle time) metered as its places on the belt (energy sums
them); its utilization is the mean lots on the running belt per place over scheduled time, and
``conveyor`` adds ``capacity_lots``, ``mean_lots_on_belt`` (time average, stops included) and
``stopped_h`` (belt stopped, blocked at the exit).

A station with ``sequence`` (a caster: :mod:`twin.production.sequence`) adds ``sequence``:
``sequences``, ``breaks`` (unplanned), ``planned_restarts``, ``restarts``, ``restart_h``,
``units_lost``, ``mean_lots_per_sequence`` and ``restart_energy_kwh`` per carrier; the units lost
come off the good output (``units_completed``, plant and product, then fractional, with
``units_lost``), so every per-unit intensity carries them.

A station whose machines need shared resources adds ``waiting_for_resource_h`` (machine time
spent ready but waiting for an operator or tool). Each shared resource (``resources``: id ->
count, scheduled_h, busy_h, utilization) has utilization = busy unit time / (count x the working
time of its calendar); work started in a window and finished after it counts as busy.

Plant KPIs: ``mean_wip_lots`` is the time average of lots in the plant (released, not finished or
consumed by an assembly), ``mean_lead_time_h`` the mean time from release to finish of the finished
lots, ``due_dates`` their on-time share and tardiness (:func:`due_date_kpis`),
``peak_demand_kw`` the highest settlement-interval average of site electric power, and
``kwh_per_unit`` the site electricity per finished unit. Finished units are *good* units:
scrapped lots never finish, so their energy is carried by the good ones (the same holds for
``co2_kg_per_unit`` and the product footprints); ``lots_scrapped``, ``units_scrapped`` and per
product ``rolled_throughput_yield`` (the product of its stations' first-pass yields) appear when
a station checks quality. ``energy_by_group_kwh`` is the energy
per equipment group and carrier plus the energy plant's and the building HVAC's (see
:func:`supply_side_groups`): its electricity and natural gas add up to ``electricity_kwh`` and
``natural_gas_kwh``.

A plant without production (no products, lines or sources: a data centre, an office building, a
cold store) has ``production: false`` and none of :data:`PRODUCTION_KPIS`; its per-unit
intensities are null, as no unit is made. A data centre's functional unit is its IT energy:
``pue`` (site kWh per IT kWh) and ``data_centre.cue_kg_per_kwh_it`` (kgCO2 per IT kWh) are its
intensities per functional unit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from twin.carbon.evaluation import evaluate
from twin.carbon.footprint import materials_per_end_unit, product_footprints
from twin.config.plant import CARRIERS, NATURAL_GAS
from twin.equipment.states import DOWN, MAINTENANCE, N_CARRIERS, PROCESSING, SETUP, STATES
from twin.i18n import N_
from twin.planner_warnings import planner_warnings
from twin.production.lot_stats import ExactSum, LotStats
from twin.production.programme import programme_warnings
from twin.production.quality_kpis import station_feature_kpis
from twin.production.queues import queue_figures
from twin.sector import sector_comparison


def _rty(model: Any, k: int, pid: str) -> float | None:
    """Rolled throughput yield of product index ``k``: the product of the first-pass yields of
    the stations on its route that check quality (None while one has judged no first try)."""
    rty = 1.0
    route = next(p.route for p in model.plant.products if p.id == pid)
    for rt in model.stations:
        q = rt.quality
        if q is None or rt.id not in route:
            continue
        if not q.first_judged[k]:
            return None
        rty *= (q.first_good[k] / q.first_judged[k]) ** route.count(rt.id)
    return _num(rty)


def _units(x: float) -> float:
    """Units for JSON: an int when whole (always, unless a sequence restart lost part of a lot)."""
    return int(x) if float(x).is_integer() else _num(x)


def _sequence_kpis(model: Any, rt: Any) -> dict[str, Any]:
    """A sequence station's figures (:meth:`twin.production.sequence.SequenceFeed.report`) and
    its restart energy per carrier [kWh] (the meter row ``<station>:restart``)."""
    out = rt.sequence.report()
    row = next((k for k, e in enumerate(model.equipment)
                if e.kind == "sequence_restart" and e.station == rt.id), None)
    kwh = model.meter.equipment_kwh[row] if row is not None else np.zeros(N_CARRIERS)
    out["restart_energy_kwh"] = {CARRIERS[c]: _num(kwh[c]) for c in range(N_CARRIERS) if kwh[c]}
    return out


def _num(x: float, nd: int = 9) -> float:
    """Round for JSON: stable text, no float noise in the last digits."""
    return float(round(float(x), nd))


def station_kpis(model: Any) -> dict[str, Any]:
    """Every station's KPIs (see the module doc), by station id in the plant's order: each reads
    only its own station and meter rows, so a part of a plant run alone gives its stations'
    figures bit for bit (:mod:`twin.parallel`)."""
    flow, meter, horizon = model.flow, model.meter, model.horizon_s
    upl = flow.units_per_lot
    plant_scheduled = model.calendar.working_seconds(0.0, horizon)
    stations: dict[str, Any] = {}
    row = 0
    for rt in model.stations:
        n = len(rt.machines)
        st_s = meter.state_s[row : row + n]
        kwh = meter.equipment_kwh[row : row + n]
        row += n
        cal = rt.machines[0].calendar  # the station's own shift pattern, or the plant's
        scheduled = (plant_scheduled if cal is model.calendar
                     else cal.working_seconds(0.0, horizon))
        processing = st_s[:, PROCESSING].sum()
        utilization = processing / (n * scheduled) if scheduled > 0 else 0.0
        if rt.belt is not None:  # a conveyor: the first place is the machine, the rest meter
            n, st_s = 1, st_s[:1]  # the load (utilization: lots on the belt per place)
        stops = st_s[:, DOWN].sum() + st_s[:, SETUP].sum()
        planned = max(n * scheduled - st_s[:, MAINTENANCE].sum(), 1e-9)
        run_time = max(planned - stops, 0.0)
        ideal = sum(m.ideal_s for m in rt.machines)
        availability = run_time / planned
        performance = ideal / run_time if run_time > 0 else 0.0
        quality = 1.0
        extra: dict[str, Any] = {}
        if rt.quality is not None or rt.cleaners:
            extra = station_feature_kpis(rt, upl, flow.products)
            quality = extra.get("quality", 1.0)
        q = queue_figures(rt, horizon)
        backlog = (sum(rt.ideal_s[lot[0]] for lot in rt.input.items) / rt.batch_size
                   if rt.input is not None else 0.0)
        stations[rt.id] = {
            "machines": n,
            "scheduled_h": _num(n * scheduled / 3600.0),
            "lots_processed": int(sum(m.busy_lots for m in rt.machines)),
            "units_completed": int(sum(m.busy_units for m in rt.machines)),
            "utilization": _num(utilization),
            "availability": _num(availability),
            "performance": _num(performance),
            "oee": _num(availability * performance * quality),
            **extra,
            "offered_load": _num((ideal + backlog) / run_time) if run_time > 0 else None,
            "mean_lots_waiting": _num(q["mean_lots_waiting"]),
            "mean_lots_in_station": _num(q["mean_lots_in_station"]),
            "mean_wait_s": _num(q["mean_wait_s"]) if q["mean_wait_s"] is not None else None,
            "lots_in_station_at_end": q["lots_in_station_at_end"],
            "energy_kwh": _num(kwh.sum()),
            "electricity_kwh": _num(kwh[:, 0].sum()),
            "time_share": {s: _num(st_s[:, k].sum() / (n * horizon)) for k, s in enumerate(STATES)
                           if st_s[:, k].any()},
        }
        if rt.needs is not None:  # shared resources (twin.production.resources)
            stations[rt.id]["waiting_for_resource_h"] = _num(rt.needs.wait_s / 3600.0)
        if rt.belt is not None:  # a conveyor station (twin.production.conveyor)
            stations[rt.id]["conveyor"] = {
                "capacity_lots": rt.belt.capacity,
                "mean_lots_on_belt": _num(rt.belt.mean_lots(horizon)),
                "stopped_h": _num(rt.belt.stopped_s / 3600.0),
            }
        if rt.sequence is not None:  # sequence feeding (twin.production.sequence)
            stations[rt.id]["sequence"] = _sequence_kpis(model, rt)
        if rt.switch_on is not None:  # the station's N-policy (twin.production.switch_on)
            stations[rt.id]["switch_on"] = rt.switch_on.report(horizon)
    return stations


def resource_kpis(model: Any) -> dict[str, Any]:
    """Each shared resource's count, scheduled and busy hours and utilization (module doc)."""
    resources: dict[str, Any] = {}
    for rid, pool in model.pools.items():
        scheduled = pool.calendar.working_seconds(0.0, model.horizon_s)
        busy = pool.busy_unit_s(model.horizon_s)
        resources[rid] = {
            "count": pool.count,
            "scheduled_h": _num(pool.count * scheduled / 3600.0),
            "busy_h": _num(busy / 3600.0),
            "utilization": _num(busy / (pool.count * scheduled) if scheduled > 0 else 0.0),
        }
    return resources


def lots_in_buffers(model: Any) -> int:
    """Lots waiting in the stations' input buffers now."""
    return int(sum(len(rt.input.items) for rt in model.stations if rt.input is not None))


def checks_quality(model: Any) -> bool:
    """Whether any station checks quality (then scrap figures are reported)."""
    return any(rt.quality is not None for rt in model.stations)


def plant_kpis(model: Any, intervals: pd.DataFrame, equipment: pd.DataFrame,
               lots: LotStats | None = None) -> dict[str, Any]:
    """All KPIs of a finished model, as written to ``kpis.json`` (see the module doc);
    ``lots``: the finished lots' figures (:func:`lot_stats`, worked out when not given)."""
    flow, meter, plant = model.flow, model.meter, model.plant
    horizon = model.horizon_s
    upl = flow.units_per_lot
    # good units: those of finished lots less any lost at sequence restarts (an int without)
    units_by_product = {p: flow.good_units(k) for k, p in enumerate(flow.products)}
    units = _units(sum(units_by_product.values()))
    totals = {CARRIERS[c]: float(meter.equipment_kwh[:, c].sum()) for c in range(N_CARRIERS)}
    elec = float(intervals["electricity_demand_kwh"].sum())  # incl. heat pumps, chillers
    co2 = {k: float(intervals[f"co2_{c}_kg"].sum()) for k, c in (
        ("scope1", "scope1"), ("location", "scope2_location"), ("market", "scope2_market"))}
    fuel = float(intervals["fuel_kwh"].sum())  # incl. boilers
    peak_kw = float(intervals["electricity_demand_kw"].max()) if len(intervals) else 0.0
    if lots is None:
        lots = lot_stats(model)
    fig = getattr(model, "part_figures", None)  # a split run: from the workers (twin.parallel)
    stations = fig.stations if fig is not None else station_kpis(model)

    by_group: dict[str, dict[str, float]] = {}
    for g in model.groups:
        mask = (equipment["group"] == g).to_numpy()
        by_group[g] = {CARRIERS[c]: _num(meter.equipment_kwh[mask, c].sum())
                       for c in range(N_CARRIERS) if meter.equipment_kwh[mask, c].any()}

    plant_gas = float(meter.equipment_kwh[:, NATURAL_GAS].sum())
    conv_el = (float(intervals["electricity_kwh:energy_plant"].sum())
               if "electricity_kwh:energy_plant" in intervals.columns else 0.0)
    by_group.update(supply_side_groups(conv_el, max(fuel - plant_gas, 0.0),
                                       _col_sum(intervals, "electricity_kwh:building_hvac")))
    dc_kpis = _data_centre_kpis(model, intervals, by_group, elec, co2)
    footprints = product_footprints(model, {
        "scope1_kg": co2["scope1"], "scope2_location_kg": co2["location"],
        "electricity_kwh": elec, "conversion_electricity_kwh": conv_el,
        "conversion_gas_kwh": max(fuel - plant_gas, 0.0),
        "gas_kg_per_kwh": (model.carbon_info or {}).get("natural_gas_kg_per_kwh", 0.0),
        "process_by_product_kg": (model.carbon_info or {}).get("process_by_product_kg"),
        "process_plant_kg": (model.carbon_info or {}).get("process_plant_kg", 0.0),
        "refrigerant_kg": _col_sum(intervals, "co2_scope1_refrigerant_kg"),
        "materials": materials_per_end_unit(plant),
        "purchased_heat_kg": _purchased_heat_kg(model, intervals),
    }, (plant.carbon.footprint_overhead if plant.carbon is not None else "processing_time"))
    products: dict[str, Any] = {}
    scrap = fig.scrap if fig is not None else checks_quality(model)
    parent = {c: p.id for p in plant.products for c in p.components}
    for k, p in enumerate(flow.products):
        lead_k = lots.lead[k]
        products[p] = {
            "units_completed": _units(units_by_product[p]),
            **({"units_lost": _num(flow.lost[k])} if any(flow.lost) else {}),
            "lots_completed": int(flow.completed[k]),
            "lots_released": int(flow.released[k]),
            "lots_consumed": int(flow.consumed[k]),
            **({"lots_scrapped": int(flow.scrapped[k]),
                "units_scrapped": int(flow.scrapped[k] * upl[k]),
                "rolled_throughput_yield": (fig.rty[p] if fig is not None
                                            else _rty(model, k, p))} if scrap else {}),
            "component_of": parent.get(p),
            "co2_kg_per_unit": _num(footprints["products"][p]["co2_kg_per_unit"])
            if p in footprints["products"]
            and footprints["products"][p]["co2_kg_per_unit"] is not None else None,
            "mean_lead_time_h": _num(lead_k.mean()) if lead_k.n else None,
        }

    resources = fig.resources if fig is not None else resource_kpis(model)

    in_buffers = fig.in_buffers if fig is not None else lots_in_buffers(model)
    kpis_warnings = _warnings(model, lots, stations)
    kpis = {
        "plant": plant.site.name,
        "start": model.clock.start.isoformat(),
        "simulated_days": _num(model.days),
        "seed": model.seed,
        "settlement_interval_min": plant.simulation.settlement_interval_min,
        "strategies": {st.name: _rounded(st.report(model)) for st in model.strategies},
        "units_completed": units,
        "lots_completed": int(sum(flow.completed)),
        "lots_released": int(sum(flow.released)),
        **({"lots_scrapped": int(sum(flow.scrapped)),
            "units_scrapped": int(sum(n * u for n, u in zip(flow.scrapped, upl, strict=True)))}
           if scrap else {}),
        **({"units_lost": _num(sum(flow.lost))} if any(flow.lost) else {}),
        "lots_in_system_at_end": int(flow.in_system),
        "lots_in_buffers_at_end": int(in_buffers),
        "electricity_kwh": _num(elec),
        "natural_gas_kwh": _num(fuel),
        "heat_kwh": _num(totals["heat"]),
        "cooling_kwh": _num(totals["cooling"]),
        **_supply_kpis(model, intervals),
        **_dispatch_kpis(model, intervals),
        "peak_demand_kw": _num(peak_kw),
        "co2_scope1_kg": _num(co2["scope1"]),
        "co2_scope2_location_kg": _num(co2["location"]),
        "co2_scope2_market_kg": _num(co2["market"]),
        "co2_scope1_process_kg": _num(_col_sum(intervals, "co2_scope1_process_kg")),
        "co2_scope1_refrigerant_kg": _num(_col_sum(intervals, "co2_scope1_refrigerant_kg")),
        "co2_scope3_materials_kg": _num(footprints["materials_kg"]),
        "scope3_materials": _rounded([{"product": p, **m} for p, f in
                                      footprints["products"].items() for m in f["materials"]]),
        "kwh_per_unit": _num(elec / units) if units else None,
        "co2_kg_per_unit": _num((co2["scope1"] + co2["location"]) / units) if units else None,
        "co2_kg_per_unit_market": _num((co2["scope1"] + co2["market"]) / units) if units
        else None,
        "carbon": model.carbon_info,
        "footprints": _rounded(footprints),
        "throughput_lots_per_h": _num(sum(flow.completed) / (horizon / 3600.0)),
        "mean_wip_lots": _num(flow.mean_wip(horizon)),
        "mean_lead_time_h": _num(lots.lead_all.mean()) if lots.lead_all.n else None,
        "products": products,
        "due_dates": due_date_kpis(lots, flow.products),
        "energy_by_group_kwh": by_group,
        **dc_kpis,
        "stations": stations,
        **({"resources": resources} if resources else {}),
        "warnings": kpis_warnings,
    }
    if flow.orders:  # kind: orders sources: delivery per order
        from twin.production.order_book import order_kpis

        kpis["orders"] = order_kpis(flow, horizon)
    if not plant.has_production:
        for key in PRODUCTION_KPIS:
            kpis.pop(key, None)
        kpis["production"] = False
    ev = plant.carbon.evaluation if plant.carbon is not None else None
    kpis["evaluation"] = _rounded(evaluate(
        kpis, ev.rules if ev is not None else "hunan_2030",
        baseline=ev.baseline if ev is not None else None,
        prices=ev.prices if ev is not None else None,
        offsets_retired=ev.offsets_retired if ev is not None else (),
        electricity_kgce_per_kwh=ev.electricity_kgce_per_kwh if ev is not None else None,
        energy_basis=ev.energy_basis if ev is not None else None))
    if plant.site.sector is not None:
        kpis["sector"] = _rounded(sector_comparison(
            kpis, plant.site.sector,
            {p.id: {p.functional_unit.name: p.functional_unit.per_unit}
             for p in plant.products if p.functional_unit is not None}))
    return kpis


PRODUCTION_KPIS: tuple[str, ...] = (
    "units_completed", "lots_completed", "lots_released", "lots_in_system_at_end",
    "lots_in_buffers_at_end", "throughput_lots_per_h", "mean_wip_lots", "mean_lead_time_h",
    "products", "due_dates")
"""KPIs of production, left out of ``kpis.json`` for a plant without production
(``Plant.has_production`` false; ``production: false`` says so). ``kwh_per_unit`` and
``co2_kg_per_unit*`` stay, null (no unit is made); ``stations`` stays, empty."""


def supply_side_groups(plant_electricity_kwh: float, plant_gas_kwh: float,
                       hvac_electricity_kwh: float) -> dict[str, dict[str, float]]:
    """The entries of ``energy_by_group_kwh`` for energy used outside the equipment groups:
    ``energy_plant`` (electricity of heat pumps, chillers and electric boilers; gas burnt in
    boilers and CHP) and ``building_hvac`` (electricity of the building's space heating and
    cooling), each only when non-zero [kWh]. With them the groups' electricity adds up to
    ``electricity_kwh`` and their natural gas to ``natural_gas_kwh``; a group's ``heat`` and
    ``cooling`` are what it used of the heat and cooling the energy plant made from that
    electricity and gas (not bought energy: never add them to it)."""
    out: dict[str, dict[str, float]] = {}
    plant = {k: _num(v) for k, v in (("electricity", plant_electricity_kwh),
                                      ("natural_gas", plant_gas_kwh)) if v > 0}
    if plant:
        out["energy_plant"] = plant
    if hvac_electricity_kwh > 0:
        out["building_hvac"] = {"electricity": _num(hvac_electricity_kwh)}
    return out


def _data_centre_kpis(model: Any, intervals: pd.DataFrame, by_group: dict[str, Any],
                      elec: float, co2: dict[str, float]) -> dict[str, Any]:
    """A data centre's KPIs (:mod:`twin.energy.data_centre`), and its groups' electricity added
    to ``by_group`` (in place).

    * ``pue`` = site electricity / IT electricity over the run (the ratio of the sums; The Green
      Grid WP49, GB 40879-2021);
    * ``data_centre``: IT energy; PUE; ERE = (site electricity - heat reused) / IT (The Green
      Grid WP29, 2010); CUE = (scope 1 + scope 2) CO2 / IT electricity [kgCO2/kWh], location-
      and market-based (The Green Grid WP32, 2010): the intensity per functional unit (the IT
      kWh); hours of full and partial free cooling; heat exported, its revenue
      (taken off ``cost_total``) and the CO2 it would displace at the MEE default heat factor
      (0.11 t/GJ): reported beside the inventory, never netted from scope 2."""
    dc = model.ems.supply.data_centre if model.ems is not None else None
    if dc is None:
        return {}
    from twin.carbon.accounting import scope2_heat_kg
    from twin.energy.data_centre import GROUPS

    for g in GROUPS:
        v = _col_sum(intervals, f"electricity_kwh:{g}")
        if v > 0:  # the column holds equipment of the group too, if any
            by_group.setdefault(g, {})["electricity"] = _num(v)
    it = _col_sum(intervals, "electricity_kwh:it")
    heat = _col_sum(intervals, "heat_exported_kwh")
    price = model.supply_info.heat_export_price_per_kwh if model.supply_info else 0.0
    hours = interval_hours(model)
    share = intervals["free_cooling_share"].to_numpy()
    return {
        "pue": _num(elec / it) if it > 0 else None,
        "data_centre": {
            "it_kwh": _num(it),
            "pue": _num(elec / it) if it > 0 else None,
            "ere": _num((elec - heat) / it) if it > 0 else None,
            "cue_kg_per_kwh_it": _num((co2["scope1"] + co2["location"]) / it) if it > 0
            else None,
            "cue_market_kg_per_kwh_it": _num((co2["scope1"] + co2["market"]) / it) if it > 0
            else None,
            "free_cooling_full_h": _num(float(hours[share >= 1.0].sum())),
            "free_cooling_partial_h": _num(float(hours[(share > 0) & (share < 1.0)].sum())),
            "heat_exported_kwh": _num(heat),
            "heat_export_revenue": _num(heat * price),
            "co2_displaced_by_heat_export_kg": _num(float(scope2_heat_kg(heat))) if heat else 0.0,
        },
    }


def _col_sum(frame: pd.DataFrame, col: str) -> float:
    return float(frame[col].sum()) if col in frame.columns else 0.0


def lot_stats(model: Any) -> LotStats:
    """The finished lots' figures (chunk by chunk, :mod:`twin.production.lot_stats`) and the
    lots still in the plant at the end of the run whose due date has passed, with their
    tardiness so far, ``(end - due) / 3600`` [h] (what it will at least be)."""
    flow, horizon_s = model.flow, model.horizon_s
    stats = LotStats(len(flow.products))
    for chunk in flow.completion_chunks():
        stats.add(chunk)
    o = flow.open_due_s()
    past = o["due_s"] < horizon_s
    stats.add_open_late(o["product"][past], (horizon_s - o["due_s"][past]) / 3600.0)
    return stats


def due_date_kpis(lots: LotStats, products: list[str]) -> dict[str, Any] | None:
    """Due-date performance of the lots that have a due date (``lots.parquet``).

    Judged are the finished lots with a due date and the lots still in the plant at the end of
    the run whose due date has passed (:meth:`LotStats.add_open_late`); lots still
    in the plant and not yet due are not judged (their outcome is unknown). So a run cannot look
    punctual by leaving late work unfinished.

    * on_time_share = lots finished by their due date / lots judged;
    * late_lots = finished late + still open past due (``open_late_lots``);
    * mean_tardiness_h = mean of max(completed - due, 0) over the lots judged (on-time lots count
      0; an open lot counts its tardiness at the end of the run, a lower bound, so the mean and
      ``max_tardiness_h`` are lower bounds when ``open_late_lots`` > 0);
    * the same per product (``products``).

    None when no lot is judged."""
    judged = [t for t in lots.tardy if t.sum.n]
    if not judged:
        return None

    def summary(n: int, late: int, open_late: int, mean: float, top: float) -> dict[str, Any]:
        return {"lots": n, "late_lots": late, "open_late_lots": open_late,
                "on_time_share": _num(1.0 - late / n),
                "mean_tardiness_h": _num(mean), "max_tardiness_h": _num(top)}

    total = ExactSum()
    for t in judged:
        total.total += t.sum.total
        total.n += t.sum.n
    out = summary(total.n, sum(t.late for t in judged), sum(t.open_late for t in judged),
                  total.mean(), max(t.max for t in judged))
    out["products"] = {p: summary(t.sum.n, t.late, t.open_late, t.sum.mean(), t.max)
                       for p, t in zip(products, lots.tardy, strict=True) if t.sum.n}
    return out


def _rounded(obj: Any) -> Any:
    """``obj`` with every float rounded by :func:`_num` (stable JSON)."""
    if isinstance(obj, float):
        return _num(obj)
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v) for v in obj]
    return obj


def _supply_kpis(model: Any, intervals: pd.DataFrame) -> dict[str, Any]:
    """Energy-supply KPIs: flows, onsite-generation ratios, peaks, costs.

    * self_consumption_ratio = onsite generation used on site / onsite generation;
    * self_sufficiency = (site electricity demand - grid import - unserved) / demand: the share of
      demand met on site, directly or through storage (battery losses and energy left in storage
      do not count; never above 1; "Autarkiegrad", e.g. Weniger et al., HTW Berlin 2014);
    * renewable_electricity_share = onsite renewable electricity used / electricity consumed
      (grid import + onsite generation used = demand + battery charge - discharge, so battery
      losses and energy left in storage count on both sides and the share never exceeds 1; the
      same as the evaluation's ``renewable_electricity_share_onsite``; grid electricity counts
      as not renewable until certificates and contracts are accounted);
    * demand_cost: per calendar month, the highest settlement-interval grid import [kW] times the
      demand rate, prorated by the share of the month simulated;
    * capacity_cost: contracted kVA x rate per month, prorated by the share of each month simulated;
    * purchased_heat_cost = heat bought [kWh] x its contract price; its CO2 (scope 2, at the
      purchased-heat factor) and its standard coal equivalent (GB/T 2589 heat coefficient,
      kgce/MJ) are reported beside it;
    * cost_total = energy + demand (or capacity) + gas + purchased heat cost - export revenue
      - revenue of heat a data centre exports (``data_centre.heat_export_revenue``).
    CHP electricity counts as onsite generation but not as renewable.
    """
    from twin.carbon.accounting import tce
    from twin.energy.tariff import demand_charge

    def total(col: str) -> float:
        return float(intervals[col].sum())

    demand, imp, exp = (total(c) for c in ("electricity_demand_kwh", "grid_import_kwh",
                                           "grid_export_kwh"))
    renewable = total("pv_kwh") + total("wind_kwh")
    gen = renewable + total("chp_kwh")
    used_onsite = gen - exp - total("curtailed_kwh")
    # export and curtailment are taken from renewable output first (conservative)
    renewable_used = max(renewable - exp - total("curtailed_kwh"), 0.0)
    info = model.supply_info
    hours = interval_hours(model)
    import_kw = intervals["grid_import_kwh"].to_numpy() / hours
    month = month_labels(intervals.index)
    months = pd.Series(import_kw, index=intervals.index).groupby(month).max()
    energy_cost = total("electricity_cost")
    demand_cost = export_revenue = gas_cost = capacity_cost = 0.0
    if info is not None:
        if info.capacity_charge_per_month:
            simulated_h = pd.Series(hours, index=intervals.index).groupby(
                month).sum().to_numpy()
            months_covered = float((simulated_h / _month_hours(intervals.index)).sum())
            capacity_cost = info.capacity_charge_per_month * months_covered
        if info.demand_charge_per_kw_month:
            demand_cost = float(demand_charge(import_kw, intervals.index,
                                              info.demand_charge_per_kw_month, prorate=True).sum())
        export_revenue = exp * info.feed_in_price_per_kwh
        gas_cost = total("fuel_kwh") * info.gas_price_per_kwh
    bought = total("purchased_heat_kwh") if "purchased_heat_kwh" in intervals.columns else 0.0
    heat_cost = bought * info.purchased_heat_price_per_kwh if info is not None else 0.0
    heat_sold = (_col_sum(intervals, "heat_exported_kwh") * info.heat_export_price_per_kwh
                 if info is not None else 0.0)

    pv_kwp = info.pv_kwp if info is not None else 0.0
    batteries = model.ems.supply.batteries if model.ems is not None else []
    return {
        "grid_import_kwh": _num(imp),
        "grid_export_kwh": _num(exp),
        "pv_kwh": _num(total("pv_kwh")),
        "wind_kwh": _num(total("wind_kwh")),
        "curtailed_kwh": _num(total("curtailed_kwh")),
        "unserved_kwh": _num(total("unserved_kwh")),
        "heat_unmet_kwh": _num(total("heat_unmet_kwh")),
        "battery_charge_kwh": _num(total("battery_charge_kwh")),
        "battery_discharge_kwh": _num(total("battery_discharge_kwh")),
        "battery_equivalent_cycles": _num(sum(b.equivalent_full_cycles for b in batteries)),
        "self_consumption_ratio": _num(used_onsite / gen) if gen > 0 else None,
        "self_sufficiency": (_num(max(demand - imp - total("unserved_kwh"), 0.0) / demand)
                             if demand > 0 else None),
        "renewable_electricity_share": (_num(renewable_used / (imp + used_onsite))
                                        if imp + used_onsite > 0 else 0.0),
        "chp_kwh": _num(total("chp_kwh")),
        "pv_full_load_hours": _num(total("pv_kwh") / pv_kwp) if pv_kwp > 0 else None,
        "peak_grid_import_kw": _num(import_kw.max()) if len(import_kw) else 0.0,
        "peak_grid_import_kw_by_month": {m: _num(v) for m, v in months.items()},
        "energy_cost": _num(energy_cost),
        "demand_cost": _num(demand_cost),
        "capacity_cost": _num(capacity_cost),
        "gas_cost": _num(gas_cost),
        "export_revenue": _num(export_revenue),
        "heat_export_revenue": _num(heat_sold),
        "purchased_heat_kwh": _num(bought),
        "purchased_heat_cost": _num(heat_cost),
        "co2_scope2_heat_kg": _num(_purchased_heat_kg(model, intervals)),
        "purchased_heat_tce": _num(tce({"heat": (bought, "kWh")})) if bought > 0 else 0.0,
        "cost_total": _num(energy_cost + demand_cost + capacity_cost + gas_cost + heat_cost
                           - export_revenue - heat_sold),
        "tariff": info.tariff_label if info is not None else None,
        "weather": info.weather_source if info is not None else None,
    }


def _dispatch_kpis(model: Any, intervals: pd.DataFrame) -> dict[str, Any]:
    """Perfect-foresight bound and regret of the battery dispatch (runs with batteries)."""
    if model.ems is None or not model.ems.supply.batteries:
        return {}
    from twin.energy.dispatch_lp import dispatch_kpis

    return {k: _num(v) if isinstance(v, float) else v
            for k, v in dispatch_kpis(model, intervals).items()}


def _purchased_heat_kg(model: Any, intervals: pd.DataFrame) -> float:
    """Scope 2 of purchased heat or steam over the run [kg CO2] (0 without it)."""
    from twin.carbon.accounting import scope2_heat_kg

    factor = ((model.carbon_info or {}).get("purchased_heat_factor") or {}).get("value")
    if factor is None or "purchased_heat_kwh" not in intervals.columns:
        return 0.0
    return float(scope2_heat_kg(float(intervals["purchased_heat_kwh"].sum()), factor))


def month_labels(index: pd.DatetimeIndex) -> np.ndarray:
    """Local calendar month 'YYYY-MM' of every timestamp (``index.strftime('%Y-%m')``, formatted
    once per month rather than once per timestamp)."""
    from twin.energy.tariff import month_key

    uniq, inverse = np.unique(month_key(index), return_inverse=True)
    labels = np.array([f"{c // 12:04d}-{c % 12 + 1:02d}" for c in uniq.tolist()], dtype=object)
    return labels[inverse]


def interval_hours(model: Any) -> np.ndarray:
    """Length of each settlement interval [h]; the last one ends at the horizon."""
    n, step = model.meter.n_intervals, model.meter.interval_s
    hours = np.full(n, step / 3600.0)
    hours[-1] = (model.horizon_s - (n - 1) * step) / 3600.0
    return hours


def _month_hours(index: pd.DatetimeIndex) -> np.ndarray:
    """Length [h] of each calendar month that ``index`` touches, in the order of its groups."""
    months = sorted(set(index.strftime("%Y-%m")))
    out = []
    for m in months:
        start = pd.Timestamp(f"{m}-01", tz=index.tz)
        out.append((start + pd.offsets.MonthBegin(1) - start).total_seconds() / 3600.0)
    return np.asarray(out)


def _warnings(model: Any, lots: LotStats, stations: dict[str, Any]) -> list[str]:
    """Plain-language warnings about a run an engineer should look at before trusting it."""
    out = []
    flow, horizon = model.flow, model.horizon_s
    t0 = pd.Timestamp(model.clock.t0)
    last = (None if lots.last_completed_s is None  # as lots.parquet has it (to the nanosecond)
            else t0 + pd.to_timedelta(lots.last_completed_s, unit="s"))
    last_s = (last - t0).total_seconds() if last is not None else 0.0
    # quiet working time (shifts, not nights or weekends) since the last finished lot
    cal = model.calendar
    quiet = cal.working_seconds(last_s, horizon)
    threshold = max(16 * 3600.0, 0.1 * cal.working_seconds(0.0, horizon))
    if flow.in_system > 0 and quiet > threshold:
        since = N_("the start") if last is None else last.strftime("%Y-%m-%d %H:%M")
        out.append(N_(
            "production stalled: no lot finished since {since} while {n} lots are in the plant; "
            "look for a deadlock (assembly components queued behind each other in finite "
            "buffers) or a station that never works").format(since=since, n=flow.in_system))
    if model.ems is not None:
        a = model.ems.arrays()
        for key, what in (("unserved", N_("electricity could not be supplied (import limit "
                                          "and batteries exhausted)")),
                          ("heat_unmet", N_("heat demand exceeded the heat plant")),
                          ("cooling_unmet", N_("cooling demand exceeded the chillers"))):
            if a[key].sum() > 1e-6:
                out.append(N_("{kwh} kWh of {what} in {n} intervals").format(
                    kwh=f"{a[key].sum():,.1f}", what=what, n=int((a[key] > 0).sum())))
        d = model.plant.energy.dispatch
        asked = [f for f in ("protect_peak", "shave_peak") if getattr(d, f)]
        if asked and model.ems.supply.batteries and model.ems.supply.peak_guard is None:
            out.append(N_("energy.dispatch.{fields} had no effect: the tariff has no demand "
                          "charge (grid.tariff.demand_charge_per_kw_month)").format(
                              fields=" and ".join(asked)))
    info = getattr(model, "supply_info", None)
    out.extend(getattr(info, "warnings", ()))
    out.extend(planner_warnings(model, stations))
    if model.plant.has_production:
        out.extend(programme_warnings(model.plant))
    for name, st in stations.items():
        blocked = st["time_share"].get("blocked", 0.0)
        if blocked > 0.5:
            out.append(N_("station '{name}' was blocked {share} of the time: a downstream "
                          "buffer is too small or a downstream station too slow").format(
                              name=name, share=f"{blocked:.0%}"))
    return out


