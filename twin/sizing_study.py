"""``twin size``: choose capacities for a study's plant (:mod:`twin.energy.sizing`), write the
sized plant, its economics against the plant as it is, a sensitivity table, and check the
sizes by simulation.

Steps (:func:`run_sizing`):

1. run the plant as it is once (the study's period, seed and start; battery dispatch
   ``self_consumption``, so the demand is the plant's, not a dispatch's) and take its interval
   electricity demand, PV / wind / CHP generation, prices, demand charge, grid intensity and
   scope 1 emissions; each PV array or wind turbine that is a candidate gets its per-kW profile
   from a supply build with that unit alone;
2. solve the sizing LP, and the same LP with every candidate fixed at the plant's value (the
   plant as it is, same cyclic storage rule): their operating costs give the annual saving;
3. economics of the upgrade (new capacity) with :mod:`twin.economics`: NPV, IRR, payback, with
   each candidate replaced at the end of its life within the analysis (the longest life) and a
   linear salvage value;
4. sensitivity: capex, and energy prices with the demand charge, moved by +- ``sensitivity_pct``;
5. cost-against-size curves: each candidate fixed at :data:`CURVE_FRACTIONS` of its optimum,
   the others re-optimised (:func:`cost_curves`, one LP per point);
6. verification: the plant as it is and the sized plant through the simulation (the study's
   replications with common random numbers, the dispatch policy ``verify.policy``), with the
   LP's predicted annual cost against the simulated one and its confidence interval;
7. the sizing page ``dashboard.html`` (:mod:`twin.dashboard.sizing`) from the folder's files.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.config.sizing import ResolvedCandidate, SizingStudy
from twin.energy.sizing import (
    THERMAL_KINDS,
    SizingCandidate,
    SizingData,
    SizingInfeasibleError,
    SizingSolution,
    SizingTargets,
    annualised_cost_per_unit,
    solve_sizing,
)

SIZING_FILES = ("sizing.json", "sized_plant.yaml", "sensitivity.csv", "economics.csv",
                "cost_curves.csv", "dashboard.html")

CURVE_FRACTIONS = (0.0, 0.5, 0.75, 1.0, 1.25, 1.5)
"""Where the cost-against-size curves fix each candidate, as fractions of its optimum (of a
quarter of its upper bound when the optimum is below 1 % of that bound), within its bounds."""


class SizingError(ValueError):
    """The plant cannot be sized as asked (no energy system, a target out of reach...)."""


@dataclasses.dataclass
class SizingInputs:
    """The sizing LP's data from one run of the plant as it is."""

    data: SizingData
    candidates: list[SizingCandidate]
    days: float
    seed: int
    run_wall_s: float
    flex_blocks: int = 0
    """Deferrable work recorded (``sizing.flexible_production``): ``data`` then has it as
    shiftable load, and :meth:`rigid` is the same data with the load as recorded."""

    def rigid(self) -> SizingData:
        """The data with the flexible work where the run put it (not shiftable)."""
        f = self.data.flexible
        if f is None:
            return self.data
        return dataclasses.replace(self.data, load_kwh=self.data.load_kwh + f.recorded_kwh,
                                   flexible=None)


def sizing_inputs(study: SizingStudy, days: float | None = None) -> SizingInputs:
    """Run the plant as it is once and turn the run into the sizing LP's data (module doc)."""
    from twin import engine, results
    from twin.energy.dispatch_lp import (
        demand_rates,
        grid_intensity,
        initial_params,
        interval_hours,
    )
    from twin.energy.supply import build_supply

    rs = study.resolved
    plant = rs.plants[rs.study.base]
    if plant.energy is None:
        raise SizingError(f"{rs.plant_path}: the plant has no energy: section; nothing to size")
    days = rs.days() if days is None else float(days)
    seed = rs.seed()
    d = plant.energy.dispatch.model_copy(update={"policy": "self_consumption", "bound": False})
    first = plant.model_copy(update={"energy": plant.energy.model_copy(update={"dispatch": d})})
    t0 = time.perf_counter()
    model = engine.build(first, days, rs.start(), seed)
    blocks = None
    if study.sizing.flexible_production:
        from twin.production.flex_record import record_flexible_work

        blocks = record_flexible_work(model)
    wall = engine.run(model, progress=False)
    result = results.collect(model, wall, engine.events_processed(model.env))
    run_s = time.perf_counter() - t0
    a = model.ems.arrays()
    sup = model.ems.supply
    n = sup.n_intervals
    dt = interval_hours(n, sup.interval_s, model.horizon_s)
    month, rate = demand_rates(model)
    ef = grid_intensity(model)
    kp = result.kpis
    imp_total = float(kp.get("grid_import_kwh") or 0.0)
    ef_market = (float(kp.get("co2_scope2_market_kg") or 0.0) / imp_total if imp_total > 0
                 else None)
    renewable = np.asarray(a["pv"], float) + np.asarray(a["wind"], float)
    generation = renewable + np.asarray(a["chp_electricity"], float)
    load = np.asarray(a["demand"], float).copy()
    scope1 = float(kp.get("co2_scope1_kg") or 0.0)
    info = model.supply_info
    gas_price = info.gas_price_per_kwh if info else 0.0
    gas_ef = float((model.carbon_info or {}).get("natural_gas_kg_per_kwh", 0.0))
    thermal: list = []
    other_fuel = 0.0
    if any(rc.kind in THERMAL_KINDS for rc in study.candidates):
        # the LP dispatches heat and cooling itself: the run's thermal units' electricity,
        # CHP output and gas come out of the fixed quantities (the demand for heat and cooling
        # stays: it is the plant's, whatever supplies it)
        from twin.energy.thermal_lp import ThermalBus, store_params

        thermal = [ThermalBus("heat", np.asarray(a["heat_demand"], float).copy(),
                              list(sup.heat_units), [store_params(t) for t in sup.thermal]),
                   ThermalBus("cooling", np.asarray(a["cooling_demand"], float).copy(),
                              list(sup.cool_units), [store_params(t) for t in sup.cold])]
        load = np.maximum(load - np.asarray(a["conversion_electricity"], float), 0.0)
        generation = generation - np.asarray(a["chp_electricity"], float)
        scope1 -= gas_ef * float(np.sum(a["conversion_gas"]))
        other_fuel = gas_price * float(np.sum(a["plant_gas"]))
    cands: list[SizingCandidate] = []
    for rc in study.candidates:
        profile = None
        if rc.kind == "generation":
            profile = _unit_profile(plant, rc, model, build_supply)
            now = rc.current or 0.0
            renewable = renewable - now * profile
            generation = generation - now * profile
        ann, om = annualised_cost_per_unit(rc.spec.capex_per_unit, study.discount_rate,
                                           rc.spec.lifetime_years, rc.spec.om_pct_of_capex,
                                           rc.spec.om_per_unit_year)
        bus, item = None, rc.item if rc.kind.startswith("battery") else None
        if rc.kind in THERMAL_KINDS:
            bus, item = thermal_position(plant, rc)
        cands.append(SizingCandidate(
            name=rc.spec.path, kind=rc.kind, lo=rc.spec.min, hi=rc.spec.max,
            annuity_per_unit=ann, om_per_unit=om, capex_per_unit=rc.spec.capex_per_unit,
            existing=rc.existing, item=item, profile=profile, bus=bus))
    data = SizingData(
        load_kwh=load, dt_h=dt,
        price=np.asarray(sup.price, float).copy(),
        generation_kwh=np.maximum(generation, 0.0), renewable_kwh=np.maximum(renewable, 0.0),
        batteries=[initial_params(b, sup.reserve_frac) for b in sup.batteries],
        feed_in_price=model.supply_info.feed_in_price_per_kwh if model.supply_info else 0.0,
        grid_ef=np.asarray(ef, float), grid_ef_market=ef_market,
        scope1_kg=scope1,
        import_limit_kw=sup.import_limit_kw, export_limit_kw=sup.export_limit_kw,
        month=month if rate is not None else None, demand_rate=rate, thermal=thermal,
        gas_price_per_kwh=gas_price, gas_ef=gas_ef,
        heat_price_per_kwh=info.purchased_heat_price_per_kwh if info else 0.0,
        other_fuel_cost=other_fuel)
    if blocks is not None:
        if not blocks:
            raise SizingError(f"{rs.path}: sizing.flexible_production: the run recorded no "
                              f"deferrable work; expected stations flagged 'deferrable: true' "
                              f"whose processing uses more electricity than idling")
        from twin.energy.flex_lp import flex_envelope

        env = flex_envelope(blocks, dt)
        data.load_kwh = np.maximum(data.load_kwh - env.recorded_kwh, 0.0)
        data.flexible = env
    return SizingInputs(data, cands, days, seed, run_s, len(blocks or ()))


def thermal_position(plant: Any, rc: ResolvedCandidate) -> tuple[str, int]:
    """The bus of a thermal candidate and its index there: a unit's place in the merit order
    :func:`twin.energy.supply.build_supply` gives the bus (CHP, heat pumps, purchased heat if
    before the boilers, boilers; chillers), a store's place in its list."""
    from twin.config.sizing import THERMAL_BUS

    e = plant.energy
    field, i = rc.field[1], int(rc.item)
    if field in ("thermal_storage", "cold_storage", "chillers"):
        return THERMAL_BUS[field], i
    before = e.purchased_heat is not None and e.purchased_heat.merit_order == "before_boilers"
    offset = {"chp": 0, "heat_pumps": len(e.chp),
              "boilers": len(e.chp) + len(e.heat_pumps) + int(before)}[field]
    return "heat", offset + i


def _unit_profile(plant: Any, rc: ResolvedCandidate, model: Any, build_supply: Callable
                  ) -> np.ndarray:
    """Generation of one PV array or wind turbine per kW of its capacity [kWh/kW per
    interval], from a supply build of the plant with that unit alone (at its own size, or 1 kW
    if it has none)."""
    field = rc.field[1]  # 'pv' or 'wind'
    units = getattr(plant.energy, field)
    size = rc.current if rc.current and rc.current > 0 else 1.0
    one = units[rc.item].model_copy(update={rc.field[-1]: size})
    energy = plant.energy.model_copy(update={"pv": [one] if field == "pv" else [],
                                             "wind": [one] if field == "wind" else []})
    sup, _, _ = build_supply(plant.model_copy(update={"energy": energy}), model.clock,
                             model.horizon_s, model.ems.supply.interval_s)
    gen = np.asarray(sup.pv_kwh if field == "pv" else sup.wind_kwh, dtype=float)
    return gen / size


def _targets(study: SizingStudy) -> SizingTargets:
    t, p = study.sizing.targets, study.sizing.purchases
    return SizingTargets(t.min_renewable_share, t.max_scope12_t_per_year, t.co2_basis,
                         p.green_certificate_price_per_kwh, p.offset_price_per_t)


def as_is(candidates: list[SizingCandidate], study: SizingStudy) -> list[SizingCandidate]:
    """The candidates fixed at the plant's values, at no cost (the plant as it is)."""
    out = []
    for c, rc in zip(candidates, study.candidates, strict=True):
        v = rc.current if rc.current is not None else c.hi
        if c.kind == "import_limit" and rc.current is None:
            v = c.hi  # no limit in the plant: the largest the study allows
        out.append(dataclasses.replace(c, lo=v, hi=v, annuity_per_unit=0.0, om_per_unit=0.0,
                                       existing=v))
    return out


def sensitivity(inputs: SizingInputs, targets: SizingTargets, cyclic: bool, pct: float
                ) -> pd.DataFrame:
    """Sizes and annual cost with capex, and with energy prices (import price, feed-in price
    and demand charge together, and gas and heat bought when the LP dispatches the heat
    plant), moved by -pct and +pct [%]."""
    rows = []
    f = pct / 100.0
    cases = [("base", 1.0, 1.0), (f"capex -{pct:g}%", 1 - f, 1.0),
             (f"capex +{pct:g}%", 1 + f, 1.0), (f"prices -{pct:g}%", 1.0, 1 - f),
             (f"prices +{pct:g}%", 1.0, 1 + f)]
    for label, kc, kp in cases:
        cands = [dataclasses.replace(c, annuity_per_unit=c.annuity_per_unit * kc,
                                     om_per_unit=c.om_per_unit * kc,
                                     capex_per_unit=c.capex_per_unit * kc)
                 for c in inputs.candidates]
        d = dataclasses.replace(
            inputs.data, price=np.asarray(inputs.data.price) * kp,
            feed_in_price=np.asarray(inputs.data.feed_in_price) * kp,
            gas_price_per_kwh=inputs.data.gas_price_per_kwh * kp,
            heat_price_per_kwh=inputs.data.heat_price_per_kwh * kp,
            other_fuel_cost=inputs.data.other_fuel_cost * kp,
            demand_rate=(None if inputs.data.demand_rate is None
                         else np.asarray(inputs.data.demand_rate) * kp))
        try:
            s = solve_sizing(d, cands, targets=targets, cyclic_storage=cyclic)
        except ValueError as exc:
            rows.append({"case": label, "note": str(exc)})
            continue
        rows.append({"case": label, **s.sizes, "annualised_cost_total": s.total})
    return pd.DataFrame(rows).set_index("case")


def cost_curves(inputs: SizingInputs, solution: SizingSolution, targets: SizingTargets,
                cyclic: bool, fractions: tuple[float, ...] = CURVE_FRACTIONS) -> pd.DataFrame:
    """Total annualised cost against the size of each candidate around the optimum.

    For each candidate, its size is fixed at each of ``fractions`` x its optimum (clipped to its
    bounds, duplicates dropped; a quarter of its upper bound stands for an optimum under 1 % of
    it) and the other candidates are re-optimised: one LP per point, the point at the optimum
    itself taken from ``solution`` (always one of the points). Rows: ``candidate``,
    ``fraction``, ``size``, ``total``,
    ``capex_annuity``, ``om``, ``operation`` [currency/yr], ``optimum`` (the point is the
    optimum) and ``note`` (why a point has no cost: no sizes meet the targets with it fixed).
    By optimality no point is below the optimum's total."""
    rows: list[dict[str, Any]] = []
    cands = inputs.candidates
    for j, c in enumerate(cands if fractions else ()):
        opt = solution.sizes[c.name]
        ref = opt if opt >= 0.01 * c.hi else 0.25 * c.hi
        values = {round(min(max(f * ref, c.lo), c.hi), 9) for f in fractions}
        values.discard(round(opt, 9))
        for v in sorted([*values, opt]):
            at_opt = v == opt
            row: dict[str, Any] = {"candidate": c.name, "fraction": v / ref if ref else 0.0,
                                   "size": v, "optimum": at_opt, "note": ""}
            s: SizingSolution | None = solution
            if not at_opt:
                fixed = [dataclasses.replace(d, lo=v, hi=v) if i == j else d
                         for i, d in enumerate(cands)]
                try:
                    s = solve_sizing(inputs.data, fixed, targets=targets, cyclic_storage=cyclic)
                except SizingInfeasibleError as exc:
                    s = None
                    row["note"] = str(exc)
            if s is not None:
                row.update(total=s.total, capex_annuity=s.capex_annuity, om=s.om,
                           operation=s.operation)
            else:
                row.update(total=math.nan, capex_annuity=math.nan, om=math.nan,
                           operation=math.nan)
            rows.append(row)
    cols = ["candidate", "fraction", "size", "total", "capex_annuity", "om", "operation",
            "optimum", "note"]
    return pd.DataFrame(rows, columns=cols)


def flexibility_worth(inputs: SizingInputs, solution: SizingSolution, targets: SizingTargets,
                      cyclic: bool) -> dict[str, Any]:
    """The sizes and annual cost without flexible production (its work where the run put it),
    and what the flexibility is worth: annual cost without - with [currency/yr]."""
    f = inputs.data.flexible
    scale = solution.year_scale
    out: dict[str, Any] = {
        "blocks": inputs.flex_blocks, "energy_kwh_per_year": scale * f.total_kwh,
        "sizes": solution.sizes, "annualised_cost_total": solution.total,
        "note": "the deferrable stations' work (processing power above idle) may move within "
                "its release and latest finish (due date) in the LP, preemptibly, summed over "
                "all blocks (twin.energy.flex_lp); the check by simulation runs the plant's own "
                "strategies, not the LP's schedule"}
    try:
        rigid = solve_sizing(inputs.rigid(), inputs.candidates, targets=targets,
                             cyclic_storage=cyclic)
    except SizingInfeasibleError as exc:
        out.update(sizes_without=None, annualised_cost_without=None, value_per_year=None,
                   note_without=str(exc))
        return out
    out.update(sizes_without=rigid.sizes, annualised_cost_without=rigid.total,
               value_per_year=rigid.total - solution.total)
    return out


def battery_fade(solution: SizingSolution, without: SizingSolution | None,
                 study: SizingStudy) -> dict[str, Any] | None:
    """Capacity fade of the sized batteries and the part of the saving it erodes.

    Fade per year of battery ``b`` = calendar fade + cycle fade x equivalent full cycles a year
    (the LP's discharge / the sized capacity), the plant file's figures
    (``calendar_fade_pct_per_year``, ``cycle_fade_pct_per_efc``), capped at 100 %. The saving
    the batteries bring is the operating cost with every battery candidate held at the plant's
    value (``without``) minus that of the optimum; it is taken to shrink in proportion to the
    capacity left (a linear approximation: the LP is not re-solved per year)."""
    plant = study.resolved.plants[study.resolved.study.base]
    if without is None or plant.energy is None:
        return None
    rates = []
    for b, spec in enumerate(plant.energy.batteries):
        sized = [rc for rc in study.candidates if rc.kind == "battery_energy" and rc.item == b]
        cap = solution.sizes[sized[0].spec.path] if sized else spec.energy_kwh
        if cap <= 1e-9:
            continue
        efc = solution.battery_discharge_kwh[b] / cap
        rate = min(1.0, spec.calendar_fade_pct_per_year / 100.0
                   + spec.cycle_fade_pct_per_efc / 100.0 * efc)
        rates.append({"battery": spec.id, "cycles_per_year": efc, "fade_per_year": rate})
    if not rates:
        return None
    return {"batteries": rates, "battery_saving": without.operation - solution.operation,
            "fade_per_year": max(r["fade_per_year"] for r in rates)}


def economics_table(solution: SizingSolution, base: SizingSolution,
                    candidates: list[SizingCandidate], study: SizingStudy,
                    fade: dict[str, Any] | None = None
                    ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Yearly cash flows of the upgrade (new capacity) against the plant as it is, and NPV, IRR
    and payback (:mod:`twin.economics`).

    Year 0: - capex of the new capacity. Years 1..N (N = the longest candidate life): operating
    saving (as-is operation - sized operation, both from the LP) - O&M of the new capacity; a
    candidate is replaced at its own cost at the end of every life that ends before N; at N
    the remaining life of each is credited at linear salvage value. Constant prices."""
    from twin import economics

    rate = study.discount_rate
    years = max(rc.spec.lifetime_years for rc in study.candidates)
    saving = base.operation - solution.operation
    flows = np.zeros(years + 1)
    repl = np.zeros(years + 1)
    salvage = 0.0
    capex = 0.0
    for c, rc in zip(candidates, study.candidates, strict=True):
        cost = c.capex_per_unit * solution.new_capacity[c.name]
        capex += cost
        life = rc.spec.lifetime_years
        for y in range(life, years, life):
            repl[y] += cost
        last = (years // life) * life if years % life else years - life
        salvage += cost * (life - (years - last)) / life
    # battery fade: the batteries' part of the saving shrinks with the capacity left, measured
    # at mid-year since the last replacement of the battery energy candidate (else the start)
    lost = np.zeros(years + 1)
    if fade is not None and fade["fade_per_year"] > 0 and fade["battery_saving"] > 0:
        lives = [rc.spec.lifetime_years for rc in study.candidates
                 if rc.kind == "battery_energy"] or [years]
        age = (np.arange(1, years + 1) - 0.5) % lives[0]
        lost[1:] = fade["battery_saving"] * np.minimum(fade["fade_per_year"] * age, 1.0)
    flows[0] = -capex
    flows[1:] = saving - solution.om - lost[1:]
    flows -= repl
    flows[-1] += salvage
    table = pd.DataFrame({"year": np.arange(years + 1), "capex": -np.r_[capex, np.zeros(years)],
                          "operating_saving": np.r_[0.0, np.full(years, saving)],
                          "battery_fade": -lost,
                          "om": -np.r_[0.0, np.full(years, solution.om)],
                          "replacements": -repl,
                          "salvage": np.r_[np.zeros(years), salvage],
                          "net": flows})
    irr = economics.irr(flows) if capex > 0 else None
    summary = {
        "capex": capex, "annual_operating_saving": saving, "annual_om": solution.om,
        "analysis_years": years, "discount_rate": rate, "npv": economics.npv(rate, flows),
        "irr": irr, "simple_payback_years": economics.simple_payback_years(
            capex, saving - solution.om) if capex > 0 else None,
        "discounted_payback_years": economics.discounted_payback_years(flows, rate)
        if capex > 0 else None,
        "replacements": "each candidate replaced at its own capex at the end of its life",
        "battery_fade": fade if fade is not None else
        "no fade: the plant file gives no calendar_fade_pct_per_year or cycle_fade_pct_per_efc",
    }
    return table, summary


def sized_plant_yaml(study: SizingStudy, sizes: dict[str, float], out: Path) -> str:
    """The plant file's data with the sizes written in (a battery or unit sized to zero is
    removed), relative file paths made relative to ``out``, with a header."""
    import yaml

    from twin.config.loader import rebase_file_paths
    from twin.config.study import apply_override

    data = copy.deepcopy(study.plant_data)
    drop: dict[str, set[int]] = {}
    for rc in study.candidates:
        v = float(sizes[rc.spec.path])
        if v <= 1e-6 and rc.kind != "import_limit":
            drop.setdefault(rc.field[1], set()).add(int(rc.item))
            continue
        apply_override(data, rc.spec.path, round(v, 3))
    for key, items in drop.items():
        data["energy"][key] = [u for i, u in enumerate(data["energy"][key]) if i not in items]
    rebase_file_paths(data, study.resolved.plant_path.parent, out)
    head = [f"# Sized by twin size from {study.resolved.path.name} "
            f"(plant {study.resolved.plant_path.name}); sizes:"]
    head += [f"#   {rc.spec.path}: {rc.current if rc.current is not None else 'none'} -> "
             f"{sizes[rc.spec.path]:.6g}" for rc in study.candidates]
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(head) + "\n" + body


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def verify(study: SizingStudy, sized_yaml: Path, inputs: SizingInputs, solution: SizingSolution,
           out: Path, *, days: float | None, replications: int | None,
           jobs: int | None = None) -> dict[str, Any]:
    """Run the plant as it is and the sized plant through the simulation with common random
    numbers (:func:`twin.study.run_study`, folder ``out``) and compare the LP's predicted annual
    cost with the simulated one (annual capex and O&M from the LP, operation simulated)."""
    from twin.config.loader import _resolve_paths, plant_from_data, read_yaml
    from twin.config.study import ResolvedStudy, Scenario
    from twin.study import annualise, mean_ci, run_study

    rs = study.resolved
    pol = study.sizing.verify.policy
    data, lines = read_yaml(sized_yaml)
    sized = _resolve_paths(plant_from_data(data, str(sized_yaml), lines), sized_yaml.parent)
    base = rs.plants[rs.study.base]

    def with_policy(p: Any) -> Any:
        if pol is None or p.energy is None:
            return p
        d = p.energy.dispatch.model_copy(update={"policy": pol})
        return p.model_copy(update={"energy": p.energy.model_copy(update={"dispatch": d})})

    plants = {"as_is": with_policy(base), "sized": with_policy(sized)}
    named = pol or (base.energy.dispatch.policy if base.energy is not None else None)
    if (study.sizing.verify.perfect_foresight and named != "perfect_foresight"
            and sized.energy is not None and sized.energy.batteries):
        d = sized.energy.dispatch.model_copy(update={"policy": "perfect_foresight"})
        plants["sized_perfect_foresight"] = sized.model_copy(
            update={"energy": sized.energy.model_copy(update={"dispatch": d})})
    st = rs.study.model_copy(update={"scenarios": {k: Scenario() for k in plants},
                                     "base": "as_is", "sizing": None})
    reps = replications or study.sizing.verify.replications or rs.study.replications
    days = inputs.days if days is None else days
    path = run_study(ResolvedStudy(st, rs.path, rs.plant_path, plants, rs.base_plant), out,
                     jobs=jobs, days=days, replications=reps, progress=None, dashboard=False)
    sim = {}
    fuel = bool(inputs.data.thermal)  # the LP's operation then includes gas and heat bought
    for scen in plants:
        ops = []
        for k in range(reps):
            kp = json.loads((path / scen / f"rep{k}" / "kpis.json").read_text())
            op = kp["energy_cost"] + kp["demand_cost"] - kp["export_revenue"]
            if fuel:
                op += (kp.get("gas_cost") or 0.0) + (kp.get("purchased_heat_cost") or 0.0)
            ops.append(annualise(op, days))
        sim[scen] = ops
    fixed = solution.capex_annuity + solution.om + solution.certificates_cost \
        + solution.offsets_cost
    ci = mean_ci(np.asarray(sim["sized"]) + fixed)
    ci_op = mean_ci(sim["sized"])
    lp_op = solution.energy_cost + solution.demand_cost - solution.export_revenue \
        + solution.fuel_cost
    gap = gap_causes(sim, lp_op, inputs, solution, study)
    pf = sim.get("sized_perfect_foresight")
    pf_ci = mean_ci(pf) if pf is not None else None
    return {
        "policy": pol or base.energy.dispatch.policy, "replications": reps, "days": days,
        "lp_annual_cost": solution.total,
        "lp_operation": solution.energy_cost + solution.demand_cost - solution.export_revenue
        + solution.fuel_cost,
        "simulated_annual_cost": {"mean": ci.mean, "low": ci.low, "high": ci.high},
        "simulated_operation": {"mean": ci_op.mean, "low": ci_op.low, "high": ci_op.high},
        "simulated_operation_as_is": float(np.mean(sim["as_is"])),
        "gap": ci.mean - solution.total,
        "gap_causes": gap,
        "simulated_operation_perfect_foresight": (
            None if pf_ci is None else {"mean": pf_ci.mean, "low": pf_ci.low,
                                        "high": pf_ci.high}),
        "note": "simulated cost = LP capex annuity + O&M + purchases + simulated energy and "
                "demand cost - export revenue" + (" + gas and heat bought" if fuel else "")
                + " (annualised x 365 / days). The LP has perfect foresight, cyclic storage "
                "and no fade" + (" and dispatches the heat plant freely (the simulation "
                                 "runs it heat-led in merit order)" if fuel else "")
                + ": the gap is what the dispatch policy, forecasts and the demand's "
                "randomness across replications cost.",
        "folder": "verification",
    }


def gap_causes(sim: dict[str, list[float]], lp_operation: float, inputs: SizingInputs,
               solution: SizingSolution, study: SizingStudy) -> dict[str, float | None]:
    """The gap between the simulated and the LP's annual operating cost of the sized plant,
    split into causes that add up to it [currency/yr]:

    * ``dispatch_policy``: the named policy against the perfect-foresight dispatch of the same
      replications (common random numbers: paired means); None without that run;
    * ``demand_across_replications``: the mean over the replications against replication 0,
      whose demand is the one the LP sized for (same seed);
    * ``flexibility_not_taken``: with ``flexible_production``, what the LP saved by shifting the
      work, which the simulation (the plant's own strategies) does not do: the LP at the sized
      capacities with the work where the run put it, minus the LP with it shiftable;
    * ``lp_model``: the rest, replication 0 (perfect foresight where run) against the LP: the
      LP's cyclic storage against the run's initial content, no fade, the reserve, the heat
      plant dispatched freely against heat-led merit order, the EMS's peak guard."""
    ref = sim.get("sized_perfect_foresight") or sim["sized"]
    total = float(np.mean(sim["sized"])) - lp_operation
    policy = (float(np.mean(sim["sized"])) - float(np.mean(ref))
              if "sized_perfect_foresight" in sim else None)
    demand = float(np.mean(ref)) - float(ref[0])
    flex = None
    if inputs.data.flexible is not None:
        fixed = [dataclasses.replace(c, lo=solution.sizes[c.name], hi=solution.sizes[c.name])
                 for c in inputs.candidates]
        try:
            rigid = solve_sizing(inputs.rigid(), fixed, targets=_targets(study),
                                 cyclic_storage=study.sizing.cyclic_storage)
            flex = (rigid.energy_cost + rigid.demand_cost - rigid.export_revenue
                    + rigid.fuel_cost) - lp_operation
        except SizingInfeasibleError:
            flex = None
    rest = total - (policy or 0.0) - demand - (flex or 0.0)
    return {"total": total, "dispatch_policy": policy, "demand_across_replications": demand,
            "flexibility_not_taken": flex, "lp_model": rest}


def run_sizing(study: SizingStudy, out: str | os.PathLike[str], *, overwrite: bool = False,
               days: float | None = None, replications: int | None = None,
               verify_runs: bool | None = None, jobs: int | None = None,
               log: Callable[[str], None] = lambda _m: None) -> tuple[Path, dict[str, Any]]:
    """Size the study's candidates and write the folder ``out`` (module doc); return its path
    and the content of ``sizing.json``.

    Raises
    ------
    SizingError, twin.energy.sizing.SizingInfeasibleError
        With a one-line message (infeasible targets name the target, the best reachable value
        and the candidates at their upper bound).
    """
    from twin.atomic import check_out, staged_folder

    out = Path(out)
    check_out(out, overwrite, "sizing.json", "sizing", "twin size", SizingError)
    t0 = time.perf_counter()
    log("running the plant as it is for its demand ...")
    inputs = sizing_inputs(study, days)
    log(f"  {inputs.days:g} days, {inputs.data.load_kwh.size} intervals "
        f"({inputs.run_wall_s:.1f} s); solving the sizing LP ...")
    targets = _targets(study)
    cyclic = study.sizing.cyclic_storage
    sol = solve_sizing(inputs.data, inputs.candidates, targets=targets, cyclic_storage=cyclic)
    base_c = as_is(inputs.candidates, study)
    # the plant as it is meets the targets by purchases where it can: the upgrade is then
    # judged against the cheapest way to comply without investing
    try:
        base = solve_sizing(inputs.data, base_c, targets=targets, cyclic_storage=cyclic)
        base_note = "as is, meeting the targets by purchases" if study.sizing.targets != \
            type(study.sizing.targets)() else "as is"
    except SizingInfeasibleError:
        base = solve_sizing(inputs.data, base_c, targets=None, cyclic_storage=cyclic)
        base_note = ("as is, without the targets (it cannot meet them by purchases): the "
                     "economics include what meeting them costs")
    how = (f"decomposed, {sol.iterations} dispatch solves" if sol.method == "decomposed"
           else "whole")
    log(f"  solved in {sol.solve_s:.2f} s ({how}); sensitivity "
        f"(+-{study.sizing.sensitivity_pct:g} %) ...")
    sens = sensitivity(inputs, targets, cyclic, study.sizing.sensitivity_pct)
    log("  cost-against-size curves (one LP per point) ...")
    t_curves = time.perf_counter()
    curves = cost_curves(inputs, sol, targets, cyclic,
                         tuple(p / 100.0 for p in study.sizing.curve_points_pct))
    curves_s = time.perf_counter() - t_curves
    held = [dataclasses.replace(c, lo=b.lo, hi=b.hi, annuity_per_unit=0.0, om_per_unit=0.0)
            if c.kind.startswith("battery") else dataclasses.replace(c, lo=sol.sizes[c.name],
                                                                       hi=sol.sizes[c.name])
            for c, b in zip(inputs.candidates, base_c, strict=True)]
    without = None
    if any(c.kind.startswith("battery") for c in inputs.candidates):
        try:
            without = solve_sizing(inputs.data, held, targets=targets, cyclic_storage=cyclic)
        except SizingInfeasibleError:
            without = None
    fade = battery_fade(sol, without, study)
    flexibility = None
    if inputs.data.flexible is not None:
        log("  the same without flexible production ...")
        flexibility = flexibility_worth(inputs, sol, targets, cyclic)
    econ_table, econ = economics_table(sol, base, inputs.candidates, study, fade)
    doc: dict[str, Any] = {
        "study": str(study.resolved.path), "plant": str(study.resolved.plant_path),
        "days": inputs.days, "seed": inputs.seed, "intervals": int(inputs.data.load_kwh.size),
        "year_scale": sol.year_scale, "discount_rate": study.discount_rate,
        "currency": study.resolved.study.currency,
        "cyclic_storage": cyclic,
        "sizes": sol.sizes, "new_capacity": sol.new_capacity,
        "as_is": {rc.spec.path: rc.current for rc in study.candidates},
        "annualised_cost": sol.annualised_cost(),
        "annualised_cost_as_is": base.annualised_cost(),
        "as_is_basis": base_note,
        "capex": sol.capex,
        "renewable_electricity_share": sol.renewable_share,
        "thermal": ({"gas_kwh_per_year": sol.gas_kwh,
                     "electricity_kwh_per_year": sol.thermal_electricity_kwh,
                     "delivered_kwh_per_year": sol.thermal_kwh,
                     "as_is": {"gas_kwh_per_year": base.gas_kwh,
                               "electricity_kwh_per_year": base.thermal_electricity_kwh,
                               "delivered_kwh_per_year": base.thermal_kwh}}
                    if inputs.data.thermal else None),
        "scope12_t_per_year": sol.scope12_t,
        "certificates_kwh_per_year": sol.certificates_kwh,
        "offsets_t_per_year": sol.offsets_t,
        "targets": sol.targets,
        "economics": econ,
        "flexibility": flexibility,
        "solve_s": sol.solve_s, "build_s": sol.build_s,
        "cost_curves": {"points": len(curves),
                        "solves": int((~curves["optimum"]).sum()), "wall_s": curves_s},
    }
    with staged_folder(out) as tmp:
        (tmp / "sized_plant.yaml").write_text(sized_plant_yaml(study, sol.sizes, out),
                                              encoding="utf-8")
        from twin.atomic import csv_safe

        csv_safe(sens).to_csv(tmp / "sensitivity.csv")
        csv_safe(econ_table).to_csv(tmp / "economics.csv", index=False)
        csv_safe(curves).to_csv(tmp / "cost_curves.csv", index=False)
        run_check = study.sizing.verify.enabled if verify_runs is None else verify_runs
        if run_check:
            log("checking the sizes by simulation (as is and sized, common random numbers) ...")
            doc["verification"] = verify(study, tmp / "sized_plant.yaml", inputs, sol,
                                         tmp / "verification", days=days,
                                         replications=replications, jobs=jobs)
        else:
            doc["verification"] = None
        doc["wall_s"] = time.perf_counter() - t0
        (tmp / "sizing.json").write_text(json.dumps(_jsonable(doc), indent=2) + "\n",
                                         encoding="utf-8")
        from twin.dashboard.sizing import write_sizing_dashboard

        write_sizing_dashboard(tmp)
    return out, doc


def summary(doc: dict[str, Any], currency: str = "CNY") -> str:
    """The sizes, the cost and the targets as plain text."""
    lines = [f"{'capacity':<44}{'as is':>12}{'sized':>12}"]
    for path, v in doc["sizes"].items():
        now = doc["as_is"].get(path)
        lines.append(f"{path:<44}{'-' if now is None else f'{now:,.0f}':>12}{v:>12,.1f}")
    c, b = doc["annualised_cost"], doc["annualised_cost_as_is"]
    lines.append(f"annualised cost [{currency}/yr]: {c['total']:,.0f} (capex annuity "
                 f"{c['capex_annuity']:,.0f}, O&M {c['om']:,.0f}, operation "
                 f"{c['operation']:,.0f}" + (f", of it fuel {c['fuel_cost']:,.0f}"
                                            if c.get("fuel_cost") else "")
                 + f"); as is {b['total']:,.0f}")
    for name, t in doc["targets"].items():
        lines.append(f"target {name} = {t['limit']:g}: {t['value']:.4g}, shadow price "
                     f"{t['shadow_price']:.4g} {t['shadow_price_unit']}")
    e = doc["economics"]
    irr = "n/a" if e["irr"] is None else f"{100 * e['irr']:.1f} %"
    lines.append(f"upgrade: capex {e['capex']:,.0f}, NPV {e['npv']:,.0f}, IRR {irr}")
    fl = doc.get("flexibility")
    if fl and fl.get("sizes_without") is not None:
        moved = ", ".join(f"{p} {v:,.1f}" for p, v in fl["sizes_without"].items())
        lines.append(f"without flexible production ({fl['blocks']} blocks): {moved}; "
                     f"flexibility worth {fl['value_per_year']:,.0f} {currency}/yr")
    v = doc.get("verification")
    if v:
        s = v["simulated_annual_cost"]
        lines.append(f"check by simulation ({v['policy']}, {v['replications']} reps): LP "
                     f"{v['lp_annual_cost']:,.0f} vs simulated {s['mean']:,.0f} "
                     f"[{s['low']:,.0f}, {s['high']:,.0f}] {currency}/yr")
        g = v.get("gap_causes") or {}
        parts = [f"{k.replace('_', ' ')} {g[k]:,.0f}" for k in
                 ("dispatch_policy", "demand_across_replications", "flexibility_not_taken",
                  "lp_model") if g.get(k) is not None]
        if parts:
            lines.append("  gap by cause [" + currency + "/yr]: " + ", ".join(parts))
    return "\n".join(lines)
