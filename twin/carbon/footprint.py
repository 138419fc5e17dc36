"""Product carbon footprints of a run (cradle-to-gate, energy part; ISO 14067 / GB/T 24067-2024).

The plant's scope 1 + scope 2 (location-based) emissions are allocated to products:

1. **Direct station energy.** Each machine's processing energy (time in *processing* x its power,
   per carrier, exact from the meter) goes to the products it processed in proportion to their
   processing time there; its changeover energy in proportion to the changeover time into each
   product (the part of the setup state's energy spent on periodic setups and cleaning, in
   proportion to processing time). Scrapped lots finish nothing: the energy spent on them is
   carried by the good units, so every footprint per unit is per *good* unit.
2. **Station overhead.** The machine's energy in every other state (idle, starved, blocked,
   standby, warm-up, down, maintenance, off) goes to the products in proportion to their
   processing time at that machine (rule ``processing_time``), or stays unallocated (``none``).
3. **Heat and cooling.** Energy-plant emissions (boilers, heat pumps, CHP fuel, chillers,
   purchased heat or steam) go to the machines' heat and cooling use, then to products as in 1
   and 2.
4. **Plant overhead.** Everything else (base loads, building HVAC, battery losses, ...) goes to
   products in proportion to their allocated emissions so far (``processing_time``), or stays
   unallocated (``none``).
5. **Components.** A component's emissions go to the product it is assembled into.
6. **Process emissions and refrigerants (scope 1).** Process emissions given per unit of a
   product, or per year for a product, go to that product's end product (``process_kg``);
   per-year lines without a product and refrigerant leakage (``refrigerant_kg``) are plant
   overhead, shared like step 4 (or unallocated under ``none``).
7. **Materials (scope 3, optional).** Each end product carries its purchased materials per unit
   (its components' materials rolled up by the bill of materials) x units completed
   (``materials_kg``). They are kept apart from the scope 1 + 2 part: ``co2_kg`` and
   ``co2_kg_per_unit`` stay scope 1 + 2, ``cradle_to_gate_kg_per_unit`` adds the materials.
   Materials of lots still in process at the end are not counted.

Emission intensities: electricity at the plant's average, scope 2 location-based (less that of
purchased heat) / site electricity use (onsite renewables thus lower it); natural gas at its
GB/T 32150 factor; purchased heat at its own factor, charged to the heat users. The footprint of a
product is its allocated emissions divided by the units completed, so that
``sum(footprint x units) + unallocated = scope 1 + scope 2`` exactly, and
``sum(cradle_to_gate x units) + unallocated = scope 1 + scope 2 + scope 3 materials``; emissions
of lots still in process at the end are carried by the units completed. Offsets never reduce a
footprint.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.config.plant import COOLING, ELECTRICITY, HEAT, NATURAL_GAS
from twin.equipment.states import PROCESSING, SETUP


def _shares(weights: np.ndarray) -> np.ndarray:
    total = weights.sum()
    return weights / total if total > 0 else np.zeros_like(weights)


def product_footprints(model: Any, totals: dict[str, float], rule: str = "processing_time"
                       ) -> dict[str, Any]:
    """Allocate the run's scope 1 + 2 (location-based) emissions to products (see module doc).

    Parameters
    ----------
    model : twin.engine.Model
        A finished run.
    totals : dict
        Run totals: ``scope1_kg``, ``scope2_location_kg``, ``electricity_kwh`` (site use),
        ``conversion_electricity_kwh``, ``conversion_gas_kwh`` (energy plant), ``gas_kg_per_kwh``;
        optional ``purchased_heat_kg`` (the part of scope 2 from purchased heat, default 0),
        ``process_by_product_kg`` (end product -> kg), ``process_plant_kg``,
        ``refrigerant_kg`` (all included in ``scope1_kg``) and ``materials`` (end product ->
        list of ``{name, unit, quantity_per_unit, kg_co2e_per_unit, source}`` per end-product
        unit, see :func:`materials_per_end_unit`).
    rule : {'processing_time', 'none'}
        How station and plant overhead are allocated.

    Returns
    -------
    dict
        ``products``: per end product ``co2_kg``, ``co2_kg_per_unit`` (None without completed
        units) and its parts ``direct_kg`` (processing and changeovers, by ``carrier`` and by
        ``station``), ``station_overhead_kg``, ``heat_and_cooling_kg``, ``plant_overhead_kg``;
        ``unallocated_kg``, ``total_kg``, ``rule``.
    """
    if rule not in ("processing_time", "none"):
        raise ValueError(f"rule {rule!r}: expected 'processing_time' or 'none'")
    meter, flow = model.meter, model.flow
    products = flow.products
    n_p = len(products)
    total_kg = totals["scope1_kg"] + totals["scope2_location_kg"]
    elec = totals["electricity_kwh"]
    heat_kg = totals.get("purchased_heat_kg", 0.0)
    i_el = (totals["scope2_location_kg"] - heat_kg) / elec if elec > 0 else 0.0
    i_gas = totals["gas_kg_per_kwh"]
    plant_kg = (totals["conversion_electricity_kwh"] * i_el + totals["conversion_gas_kwh"] * i_gas
                + heat_kg)
    thermal_use = meter.equipment_kwh[:, HEAT].sum() + meter.equipment_kwh[:, COOLING].sum()
    machines = [m for rt in model.stations for m in rt.machines]
    stations = [rt.id for rt in model.stations for _ in rt.machines]
    n_m = len(machines)
    kwh = meter.equipment_kwh[:n_m]
    proc = meter.state_s[:n_m, PROCESSING, None] * meter.power[:n_m, PROCESSING] / 3600.0
    setup = meter.state_s[:n_m, SETUP, None] * meter.power[:n_m, SETUP] / 3600.0
    other = kwh - proc - setup
    spread = rule == "processing_time"

    by_carrier = np.zeros((n_p, 2))  # direct kg: electricity, natural gas
    by_station: list[dict[str, float]] = [{} for _ in range(n_p)]
    station_overhead = np.zeros(n_p)
    heat_cool = np.zeros(n_p)
    unallocated = 0.0
    for i, m in enumerate(machines):
        w_proc = _shares(np.asarray(m.processing_s, dtype=float))
        w_setup = _shares(np.asarray(m.setup_s, dtype=float))
        if not w_setup.any():
            w_setup = w_proc
        if m.cleaning_s > 0:  # periodic cleaning (setup state too) goes with processing time
            share = m.cleaning_s / (m.cleaning_s + float(np.sum(m.setup_s)))
            w_setup = (1.0 - share) * w_setup + share * w_proc
        here = np.zeros(n_p)
        for j, (c, intensity) in enumerate(((ELECTRICITY, i_el), (NATURAL_GAS, i_gas))):
            d = (proc[i, c] * w_proc + setup[i, c] * w_setup) * intensity
            by_carrier[:, j] += d
            here += d
            o = other[i, c] * intensity
            if spread and w_proc.any():
                station_overhead += o * w_proc
                here += o * w_proc
            else:
                unallocated += o
        use = kwh[i, HEAT] + kwh[i, COOLING]
        if use > 0 and thermal_use > 0:
            part = plant_kg * use / thermal_use
            if spread and w_proc.any():
                heat_cool += part * w_proc
            else:
                unallocated += part
        for k in np.flatnonzero(here):
            by_station[k][stations[i]] = by_station[k].get(stations[i], 0.0) + float(here[k])
    allocated = by_carrier.sum(axis=1) + station_overhead + heat_cool
    idx = {p: k for k, p in enumerate(products)}
    process = np.zeros(n_p)
    for p, kg in (totals.get("process_by_product_kg") or {}).items():
        process[idx[p]] += kg
    shared_process = float(totals.get("process_plant_kg") or 0.0)
    refrigerant_total = float(totals.get("refrigerant_kg") or 0.0)
    # base loads, building HVAC, storage, ...
    rest = (total_kg - allocated.sum() - unallocated - process.sum() - shared_process
            - refrigerant_total)
    refrigerant = np.zeros(n_p)
    if spread and allocated.sum() > 0:
        plant_overhead = rest * allocated / allocated.sum()
        process += shared_process * allocated / allocated.sum()
        refrigerant = refrigerant_total * allocated / allocated.sum()
    else:
        plant_overhead = np.zeros(n_p)
        unallocated += rest + shared_process + refrigerant_total
    parts = [by_carrier[:, 0], by_carrier[:, 1], station_overhead, heat_cool, plant_overhead,
             process, refrigerant]

    # components roll up into the product they are assembled into (any depth)
    parent = {idx[c]: idx[p.id] for p in model.plant.products for c in p.components}
    for k in sorted(parent, key=lambda c: _depth(c, parent), reverse=True):
        q = parent[k]
        for arr in parts:
            arr[q] += arr[k]
            arr[k] = 0.0
        for s, v in by_station[k].items():
            by_station[q][s] = by_station[q].get(s, 0.0) + v
        by_station[k] = {}

    out: dict[str, Any] = {}
    materials = totals.get("materials") or {}
    materials_total = 0.0
    for k, p in enumerate(products):
        if k in parent:
            continue
        kg = float(sum(arr[k] for arr in parts))
        units = flow.good_units(k)  # units lost at sequence restarts are not good
        lines = [{**m, "kg_co2e": m["quantity_per_unit"] * m["kg_co2e_per_unit"] * units}
                 for m in materials.get(p, [])]
        mat_unit = float(sum(m["quantity_per_unit"] * m["kg_co2e_per_unit"]
                             for m in materials.get(p, [])))
        mat = mat_unit * units
        materials_total += mat
        out[p] = {
            "co2_kg": kg,
            "co2_kg_per_unit": kg / units if units else None,
            "direct_kg": {"electricity": float(parts[0][k]), "natural_gas": float(parts[1][k])},
            "station_overhead_kg": float(parts[2][k]),
            "heat_and_cooling_kg": float(parts[3][k]),
            "plant_overhead_kg": float(parts[4][k]),
            "process_kg": float(parts[5][k]),
            "refrigerant_kg": float(parts[6][k]),
            "by_station_kg": {s: v for s, v in sorted(by_station[k].items())},
            "materials_kg": mat,
            "materials_kg_per_unit": mat_unit if materials.get(p) else None,
            "materials": lines,
            "cradle_to_gate_kg": kg + mat,
            "cradle_to_gate_kg_per_unit": (kg / units + mat_unit) if units else None,
        }
    return {"products": out, "unallocated_kg": float(unallocated), "total_kg": float(total_kg),
            "materials_kg": materials_total, "rule": rule}


def materials_per_end_unit(plant: Any) -> dict[str, list[dict[str, Any]]]:
    """The ``carbon.materials`` of a plant per unit of each end product: a component's
    materials are multiplied by its units per end-product unit (bill of materials, see
    :func:`twin.carbon.inventory.per_end_unit`) and listed with ``via`` = the component."""
    from twin.carbon.inventory import per_end_unit

    spec = plant.carbon
    if spec is None or not spec.materials:
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    for prod, items in spec.materials.items():
        for end, ratios in per_end_unit(plant, {prod: 1.0}).items():
            for m in items:
                out.setdefault(end, []).append({
                    "name": m.name, "via": prod, "unit": m.unit,
                    "quantity_per_unit": m.quantity_per_unit * ratios[prod],
                    "kg_co2e_per_unit": m.kg_co2e_per_unit, "source": m.source})
    return out


def _depth(k: int, parent: dict[int, int]) -> int:
    d = 0
    while k in parent:
        k = parent[k]
        d += 1
    return d
