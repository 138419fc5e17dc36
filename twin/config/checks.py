"""Whole-plant checks that single fields cannot make: unique ids and references that resolve.

Each check returns :class:`ConfigIssue` objects with the field path of the reference, so that the
loader can point at the line in the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from twin.carbon.provinces import grid_region_of, province_key
from twin.config.distributions import Constant
from twin.config.errors import ConfigIssue
from twin.config.own_tariff import own_tariff_issues
from twin.config.plant import ArrivalSource, EquipmentType, PlanSource, Plant, Product, Station
from twin.config.programme import programme_seconds

MAX_LOTS_PER_RELEASE = 100_000
"""Most lots one plan release may hold (every lot is simulated: far beyond any real shop)."""


def _hint(name: str, known: Iterable[str], what: str) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    shown = ", ".join(f"'{k}'" for k in known[:12]) + (", ..." if len(known) > 12 else "")
    return f"expected one of {shown}" if known else f"no {what} is defined"


def _names(ids: Iterable[str]) -> str:
    return ", ".join(f"'{i}'" for i in ids)


def _unique(items: list[tuple[str, str]], what: str) -> list[ConfigIssue]:
    seen: dict[str, str] = {}
    issues = []
    for path, ident in items:
        if ident in seen:
            issues.append(
                ConfigIssue(f"{path}.id", f"duplicate {what} id, already used by {seen[ident]}; "
                            f"expected a unique id", ident, True)
            )
        else:
            seen[ident] = path
    return issues


def _ref(path: str, name: str, known: dict, what: str) -> list[ConfigIssue]:
    if name in known:
        return []
    return [ConfigIssue(path, f"unknown {what}; {_hint(name, known, what)}", name, True)]


def _conveyor_issues(path: str, s: Station, visitors: list) -> list[ConfigIssue]:
    """What a conveyor station cannot combine with (its belt replaces these)."""
    issues = []
    for name, value, bad, expected in (
        ("machines", s.machines, s.machines != 1, "1 (model parallel belts as stations)"),
        ("process_time", "given", s.process_time is not None,
         "no process_time: conveyor.transit_s is the time on the belt"),
        ("process_time_by_product", "given", bool(s.process_time_by_product),
         "none: conveyor.transit_s is the time on the belt"),
        ("setup_time", "given", s.setup_time is not None, "none on a conveyor station"),
        ("batch_size", s.batch_size, s.batch_size != 1, "1: a conveyor takes one lot per pitch"),
        ("failures", "given", s.failures is not None, "none on a conveyor station"),
        ("off_shift", s.off_shift, s.off_shift != "finish",
         "'finish': the belt empties before a break"),
        ("deferrable", s.deferrable, s.deferrable,
         "false: scheduling strategies do not hold a conveyor"),
        ("switch_on", "given", s.switch_on is not None,
         "none: a conveyor has no start gate (smart standby still sleeps it while empty)"),
        ("setup_matrix", "given", bool(s.setup_matrix), "none on a conveyor station"),
        ("cleaning", "given", bool(s.cleaning), "none on a conveyor station"),
        ("quality", "given", s.quality is not None,
         "none: check the yield at the next station, e.g. an inspection after the oven"),
        ("sequence", "given", s.sequence is not None, "none on a conveyor station"),
    ):
        if bad:
            issues.append(ConfigIssue(f"{path}.{name}", f"not allowed with 'conveyor'; expected "
                                      f"{expected}", value, True))
    if any(p.components and p.route[0] == s.id for p in visitors):
        issues.append(ConfigIssue(f"{path}.conveyor", "an assembly station cannot be a conveyor",
                                  s.id, True))
    return issues


def _needs_issues(path: str, s: Station, resources: dict) -> list[ConfigIssue]:
    """A station's shared-resource needs: known resources, no more units than there are."""
    issues = []
    for rid, n in s.needs.items():
        if rid not in resources:
            issues += _ref(f"{path}.needs.{rid}", rid, resources, "resource")
        elif n > resources[rid].count:
            issues.append(ConfigIssue(f"{path}.needs.{rid}", f"more units than resource '{rid}' "
                                      f"has; expected at most {resources[rid].count}", n, True))
    if s.needs and s.off_shift == "interrupt":
        issues.append(ConfigIssue(f"{path}.off_shift", "a station with 'needs' finishes the lot "
                                  "in hand at a shift end; expected 'finish'", s.off_shift, True))
    if s.needs and s.conveyor is not None:
        issues.append(ConfigIssue(f"{path}.needs", "a conveyor station does not take shared "
                                  "resources; expected no 'needs'", "given", True))
    return issues


def _station_feature_refs(path: str, s: Station, visitors: list[Product],
                          products: dict[str, Product]) -> list[ConfigIssue]:
    """Product ids of a station's setup matrix and yields, and its rework step."""
    issues: list[ConfigIssue] = []
    visiting = [p.id for p in visitors]

    def visitor(where: str, pid: str) -> list[ConfigIssue]:
        if pid not in products:
            return _ref(where, pid, products, "product")
        if pid not in visiting:
            return [ConfigIssue(where, f"product '{pid}' does not visit station '{s.id}'; "
                                f"expected one of {_names(visiting)}", pid, True)]
        return []

    for a, row in s.setup_matrix.items():
        issues += visitor(f"{path}.setup_matrix.{a}", a)
        for b in row:
            issues += visitor(f"{path}.setup_matrix.{a}.{b}", b)
            if b == a:
                issues.append(ConfigIssue(f"{path}.setup_matrix.{a}.{b}", "a product does not "
                                          "change over to itself; expected another product",
                                          b, True))
    q = s.quality
    if q is None:
        return issues
    for pid in q.yield_by_product:
        issues += visitor(f"{path}.quality.yield_by_product.{pid}", pid)
    if q.rework_to is not None:
        for p in visitors:
            at = [k for k, sid in enumerate(p.route) if sid == s.id]
            ok = [k for k, sid in enumerate(p.route[: at[-1] + 1]) if sid == q.rework_to]
            if not ok or at[0] < ok[0]:
                issues.append(ConfigIssue(
                    f"{path}.quality.rework_to", f"station '{q.rework_to}' is not on the route "
                    f"of product '{p.id}' at or before '{s.id}'; expected one of "
                    f"{_names(dict.fromkeys(p.route[: at[0] + 1]))}", q.rework_to, True))
            elif p.components and ok[0] == 0:
                issues.append(ConfigIssue(
                    f"{path}.quality.rework_to", f"'{q.rework_to}' assembles product "
                    f"'{p.id}'; an assembled lot cannot go back to its assembly; expected a "
                    "later step", q.rework_to, True))
    return issues


def _programme_issues(path: str, s: Station, visitors: list[Product],
                      products: dict[str, Product], types: list[EquipmentType]
                      ) -> list[ConfigIssue]:
    """Power programmes of a station: for visiting products, on a station with a processing
    time; phases by fixed duration_s must last exactly the (constant) processing time."""
    issues: list[ConfigIssue] = []
    visiting = [p.id for p in visitors]
    k_type = next((k for k, t in enumerate(types) if t.id == s.equipment), None)
    own = types[k_type].programme if k_type is not None else None
    for pid in s.programme_by_product:
        where = f"{path}.programme_by_product.{pid}"
        if pid not in products:
            issues += _ref(where, pid, products, "product")
        elif pid not in visiting:
            issues.append(ConfigIssue(where, f"product '{pid}' does not visit station "
                                      f"'{s.id}'; expected one of {_names(visiting)}", pid, True))
    if s.conveyor is not None:
        if s.programme_by_product or own is not None:
            where = (f"{path}.programme_by_product" if s.programme_by_product
                     else f"equipment_types[{k_type}].programme")
            issues.append(ConfigIssue(where, f"conveyor station '{s.id}' has no processing "
                                      "time for a programme to cover; expected none (the belt's "
                                      "lot_power_kw gives its load)", "given", True))
        return issues
    for p in visitors:
        phases = s.programme_by_product.get(p.id, own)
        if phases is None:
            continue
        total = programme_seconds(phases)
        if total is None:
            continue  # shares cover any processing time
        where = (f"{path}.programme_by_product.{p.id}" if p.id in s.programme_by_product
                 else f"equipment_types[{k_type}].programme")
        dist = s.process_time_by_product.get(p.id, s.process_time)
        if not isinstance(dist, Constant):
            issues.append(ConfigIssue(
                where, f"phases by duration_s last {total:g} s but station '{s.id}' processes "
                f"product '{p.id}' for a random time; expected phases by share (of the "
                "processing time), or a constant process_time"))
        elif abs(dist.mean_s() - total) > 1e-9 * max(total, 1.0):
            issues.append(ConfigIssue(
                where, f"phases by duration_s last {total:g} s but station '{s.id}' processes "
                f"product '{p.id}' for {dist.mean_s():g} s; expected phases that cover the "
                "processing time exactly"))
    return issues


def check_references(plant: Plant) -> list[ConfigIssue]:
    """All cross-reference problems of a validated plant, in file order."""
    issues: list[ConfigIssue] = []
    stations = {s.id: (f"lines[{i}].stations[{j}]", s) for i, j, s in plant.stations()}
    products = {p.id: p for p in plant.products}
    types = {t.id: t for t in plant.equipment_types}

    issues += _unique([(f"products[{k}]", p.id) for k, p in enumerate(plant.products)], "product")
    issues += _unique(
        [(f"equipment_types[{k}]", t.id) for k, t in enumerate(plant.equipment_types)],
        "equipment type",
    )
    issues += _unique([(f"lines[{k}]", ln.id) for k, ln in enumerate(plant.lines)], "line")
    issues += _unique(
        [(f"lines[{i}].stations[{j}]", s.id) for i, j, s in plant.stations()], "station"
    )
    issues += _unique([(f"sources[{k}]", s.id) for k, s in enumerate(plant.sources)], "source")
    issues += _unique(
        [(f"base_loads[{k}]", b.id) for k, b in enumerate(plant.base_loads)], "base load"
    )
    issues += _unique([(f"resources[{k}]", r.id) for k, r in enumerate(plant.resources)],
                      "resource")
    resources = {r.id: r for r in plant.resources}

    if plant.calendar is not None:
        for day, names in (plant.calendar.week or {}).items():
            for k, name in enumerate(names):
                issues += _ref(f"calendar.week.{day}[{k}]", name, plant.calendar.shifts, "shift")
    issues += _station_calendar_refs(plant)

    parents: dict[str, list[str]] = {}
    for k, p in enumerate(plant.products):
        for r, sid in enumerate(p.route):
            issues += _ref(f"products[{k}].route[{r}]", sid, stations, "station")
        for c in p.components:
            issues += _ref(f"products[{k}].components.{c}", c, products, "product")
            if c == p.id:
                issues.append(ConfigIssue(f"products[{k}].components.{c}",
                                          "a product cannot be its own component", c, True))
            parents.setdefault(c, []).append(p.id)
    for k, p in enumerate(plant.products):
        if len(parents.get(p.id, [])) > 1:
            issues.append(ConfigIssue(
                f"products[{k}].id",
                f"a component may feed one product only, but is used by {_names(parents[p.id])}",
                p.id, True))
    issues += _component_cycles(plant, parents)

    for i, j, s in plant.stations():
        path = f"lines[{i}].stations[{j}]"
        issues += _ref(f"{path}.equipment", s.equipment, types, "equipment type")
        visitors = [p for p in plant.products if s.id in p.route]
        for pid in s.process_time_by_product:
            if pid not in products:
                issues += _ref(f"{path}.process_time_by_product.{pid}", pid, products, "product")
            elif pid not in [p.id for p in visitors]:
                issues.append(ConfigIssue(f"{path}.process_time_by_product.{pid}",
                                          f"product '{pid}' does not visit station '{s.id}'",
                                          pid, True))
        issues += _needs_issues(path, s, resources)
        if s.conveyor is not None:
            issues += _conveyor_issues(path, s, visitors)
        elif s.process_time is None:
            for p in visitors:
                if p.id not in s.process_time_by_product:
                    issues.append(ConfigIssue(
                        f"{path}.process_time",
                        f"no processing time for product '{p.id}', which visits this station; "
                        f"give process_time or process_time_by_product.{p.id}"))
        issues += _station_feature_refs(path, s, visitors, products)
        issues += _programme_issues(path, s, visitors, products, plant.equipment_types)
        assembled = [p for p in visitors if p.components and p.route[0] == s.id]
        if assembled:
            others = [p.id for p in visitors if p not in assembled]
            if len(assembled) > 1 or others:
                issues.append(ConfigIssue(
                    f"{path}.id",
                    f"an assembly station serves one assembled product only; '{s.id}' serves "
                    f"{_names(p.id for p in visitors)}", s.id, True))
            if s.batch_size > 1:
                issues.append(ConfigIssue(
                    f"{path}.batch_size",
                    "an assembly station processes one lot at a time; expected 1",
                    s.batch_size, True))
        if s.switch_on is not None:
            issues += _switch_on(path, s, types.get(s.equipment), bool(assembled))
        if s.sequence is not None and s.machines != 1:
            issues.append(ConfigIssue(
                f"{path}.machines", "a station with 'sequence' casts one sequence at a time; "
                "expected 1 (model parallel casters as stations)", s.machines, True))

    for k, src in enumerate(plant.sources):
        if not isinstance(src, (PlanSource, ArrivalSource)):
            continue  # file-based sources: their rows are checked when the file is read
        names = src.quantities if isinstance(src, PlanSource) else src.product_mix
        field = "quantities" if isinstance(src, PlanSource) else "product_mix"
        for pid in names:
            issues += _ref(f"sources[{k}].{field}.{pid}", pid, products, "product")
            if isinstance(src, PlanSource) and pid in products:
                lots = src.quantities[pid] / products[pid].units_per_lot
                if lots > MAX_LOTS_PER_RELEASE:
                    issues.append(ConfigIssue(
                        f"sources[{k}].quantities.{pid}",
                        f"{lots:.3g} lots per {src.period}; expected at most "
                        f"{MAX_LOTS_PER_RELEASE:,} lots (raise units_per_lot for bigger plans)",
                        src.quantities[pid], True))
        if isinstance(src, ArrivalSource) and src.active == "shifts" and plant.calendar is None:
            issues.append(ConfigIssue(f"sources[{k}].active",
                                      "'shifts' needs a calendar; the plant has none (24/7)",
                                      src.active, True))
    for k, b in enumerate(plant.base_loads):
        air = b.compressed_air
        if air is not None:
            need = max(air.demand_m3_min, air.off_demand_m3_min) / (1 - air.leak_fraction)
            if need > air.capacity_m3_min:
                issues.append(ConfigIssue(
                    f"base_loads[{k}].compressed_air.capacity_m3_min",
                    f"compressor too small: demand plus leaks needs {need:.3g} m3/min of delivery;"
                    f" expected a capacity of at least that", air.capacity_m3_min, True))
        if b.air_handling is not None and (plant.energy is None or plant.energy.weather is None):
            issues.append(ConfigIssue(f"base_loads[{k}].air_handling",
                                      "needs weather for its outdoor temperature; give "
                                      "energy.weather (a file or 'synthetic')"))
        if b.schedule == "shifts" and plant.calendar is None:
            issues.append(ConfigIssue(f"base_loads[{k}].schedule",
                                      "'shifts' needs a calendar; the plant has none (24/7)",
                                      b.schedule, True))
    issues += _site_province(plant)
    issues += _energy_references(plant)
    issues += _grid_factor_references(plant)
    issues += _strategies(plant)
    issues += _carbon_references(plant)
    return issues


def _switch_on(path: str, s: Station, spec: EquipmentType | None,
               assembly: bool) -> list[ConfigIssue]:
    """A switch-on threshold on an assembly station, or with a saving mode the type lacks."""
    cfg = s.switch_on
    assert cfg is not None
    if assembly:
        return [ConfigIssue(f"{path}.switch_on", "a switch-on threshold counts the lots in one "
                            "input buffer; an assembly station has one per component: expected "
                            "no switch_on here")]
    if spec is not None and cfg.mode in ("off", "standby") and cfg.mode not in spec.saving_modes:
        have = ", ".join(spec.saving_modes) or "none"
        return [ConfigIssue(f"{path}.switch_on.mode", f"equipment type '{spec.id}' has no saving "
                            f"mode '{cfg.mode}' (it has: {have}); expected one of its saving "
                            "modes, 'idle' or 'auto'", cfg.mode, True)]
    return []


def _carbon_references(plant: Plant) -> list[ConfigIssue]:
    """Products, gases, rule sets and metrics named in the ``carbon:`` block exist."""
    spec = plant.carbon
    if spec is None:
        return []
    from twin.carbon.evaluation import METRICS, rule_set_names
    from twin.carbon.factors import default_factors

    issues: list[ConfigIssue] = []
    products = {p.id: p for p in plant.products}
    for name in spec.materials:
        issues += _ref(f"carbon.materials.{name}", name, products, "product")
    for k, pe in enumerate(spec.process_emissions):
        if pe.product is not None:
            issues += _ref(f"carbon.process_emissions[{k}].product", pe.product, products,
                           "product")
    table = default_factors()
    for k, r in enumerate(spec.refrigerants):
        try:
            if isinstance(r.gas, str):
                table.gwp(r.gas, r.report)
            else:
                table.blend_gwp(r.gas, r.report)
        except ValueError as exc:
            msg = str(exc)
            if msg.startswith("no GWP for"):  # unknown gas: say what a plant file accepts
                msg = (f"no GWP for this gas in twin/data/carbon/gwp.csv; expected one of "
                       f"{', '.join(table.gases(r.report))} (R-numbers such as R-134a are "
                       "accepted), or a blend as mass fractions, e.g. {HFC-32: 0.5, HFC-125: "
                       "0.5} for R-410A")
            issues.append(ConfigIssue(f"carbon.refrigerants[{k}].gas", msg, r.gas, True))
    ev = spec.evaluation
    if ev is not None:
        if isinstance(ev.rules, str):
            if ev.rules not in rule_set_names():
                issues.append(ConfigIssue(
                    "carbon.evaluation.rules", f"unknown rule set; expected one of "
                    f"{_names(rule_set_names())} or a list of indicators", ev.rules, True))
        else:
            for k, ind in enumerate(ev.rules):
                issues += _ref(f"carbon.evaluation.rules[{k}].metric", ind.metric, METRICS,
                               "metric")
            from twin.carbon.evaluation import TCE_METRICS

            tce = sorted({ind.metric for ind in ev.rules} & TCE_METRICS)
            if tce and ev.energy_basis is None:
                issues.append(ConfigIssue(
                    "carbon.evaluation.energy_basis", f"your indicators use tce "
                    f"({', '.join(tce)}); say which tce basis of electricity they mean: "
                    "'calorific' (0.1229 kgce/kWh) or 'equal_value' (coal consumption of "
                    "thermal power supply)"))
        if ev.baseline is not None:
            for name in ev.baseline.footprint_kg_per_unit:
                issues += _ref(f"carbon.evaluation.baseline.footprint_kg_per_unit.{name}", name,
                               products, "product")
            for name in ev.baseline.metrics:
                issues += _ref(f"carbon.evaluation.baseline.metrics.{name}", name, METRICS,
                               "metric")
    return issues


def _strategies(plant: Plant) -> list[ConfigIssue]:
    """Each strategy's name is registered and its parameters fit its ``Params`` model."""
    from pydantic import ValidationError

    from twin.strategies import get_strategy, known_strategies

    issues: list[ConfigIssue] = []
    for k, spec in enumerate(plant.strategies):
        try:
            cls = get_strategy(spec.type)
        except KeyError:
            issues += _ref(f"strategies[{k}].type", spec.type,
                           dict.fromkeys(known_strategies()), "strategy")
            continue
        if cls.needs_production and not plant.has_production:
            issues.append(ConfigIssue(
                f"strategies[{k}].type",
                f"strategy '{spec.type}' acts on production and the plant has none; expected "
                f"products, equipment_types, lines and sources in the plant file, or no such "
                f"strategy", spec.type, True))
            continue
        try:
            params = cls.Params.model_validate(spec.params)
        except ValidationError as exc:
            for e in exc.errors():
                loc = ".".join(str(x) for x in e["loc"])
                path = f"strategies[{k}].{loc}" if loc else f"strategies[{k}]"
                msg = e["msg"] if e["type"] != "extra_forbidden" else (
                    f"unknown parameter of strategy '{spec.type}'; expected one of "
                    + ", ".join(f"'{f}'" for f in cls.Params.model_fields))
                issues.append(ConfigIssue(path, msg, e.get("input"), "input" in e))
            continue
        for i in cls.check(plant, params):
            path = f"strategies[{k}].{i.path}" if i.path else f"strategies[{k}]"
            issues.append(ConfigIssue(path, i.message, i.value, i.has_value))
    return issues


def _energy_references(plant: Plant) -> list[ConfigIssue]:
    energy = plant.energy
    if energy is None:
        return []
    issues: list[ConfigIssue] = []
    ids = [(f"energy.{kind}[{k}]", u.id) for kind in ("pv", "wind", "batteries",
                                                     "thermal_storage", "boilers", "heat_pumps",
                                                     "chillers")
           for k, u in enumerate(getattr(energy, kind))]
    issues += _unique(ids, "energy unit")
    tariff = energy.grid.tariff
    if tariff is not None:
        from twin.energy.tariff import list_presets

        if tariff.preset is not None:
            issues += _ref("energy.grid.tariff.preset", tariff.preset,
                           dict.fromkeys(list_presets()), "tariff preset")
        issues += own_tariff_issues(plant)
        if isinstance(tariff.flat_price_per_kwh, list) and len(tariff.flat_price_per_kwh) != 12:
            issues.append(ConfigIssue("energy.grid.tariff.flat_price_per_kwh",
                                      "expected one price, or 12 monthly prices (Jan..Dec)",
                                      tariff.flat_price_per_kwh, True))
    needs_heat = any(t.power_kw.get("heat") for t in plant.equipment_types)
    if needs_heat and not (energy.boilers or energy.heat_pumps
                       or energy.purchased_heat is not None):
        issues.append(ConfigIssue("energy", "equipment draws heat but no heat supply is given; "
                                  "add energy.boilers, energy.heat_pumps or "
                                  "energy.purchased_heat"))
    needs_cooling = any(t.power_kw.get("cooling") for t in plant.equipment_types)
    if needs_cooling and not energy.chillers:
        issues.append(ConfigIssue("energy", "equipment draws cooling but no chiller is given; "
                                  "add energy.chillers"))
    return issues


def _site_province(plant: Plant) -> list[ConfigIssue]:
    """``site.province`` names a provincial-level division (it picks the grid factor: an unknown
    name must not silently fall back to the national factor)."""
    province = plant.site.province
    if province is None or not province.strip():
        return []
    try:
        province_key(province)
    except ValueError as exc:
        return [ConfigIssue("site.province", str(exc), province, True)]
    return []


def _grid_factor_references(plant: Plant) -> list[ConfigIssue]:
    """``carbon.grid_region`` and ``carbon.grid_year`` name a factor the packaged tables hold
    (unless the plant gives its own factor)."""
    spec = plant.carbon
    if spec is not None and spec.hourly_factor_file is not None:
        return []  # read (and checked against the run's period) when the run is built
    if spec is None or spec.grid_factor_kg_per_kwh is not None:
        return []
    if spec.grid_region is None and spec.grid_year is None:
        return []
    from twin.carbon.factors import default_factors

    table = default_factors()
    region = spec.grid_region
    if region is not None:
        try:
            table.grid_years(region)
        except ValueError:
            return [ConfigIssue("carbon.grid_region", "unknown grid region; "
                                + _hint(str(region).lower(), table.grid_regions("location"),
                                        "grid region")
                                + " (or Chinese names such as 江苏 / 华东电网; or give "
                                "grid_factor_kg_per_kwh)", region, True)]
    else:
        try:
            region = grid_region_of(plant.site.province, table.grid_regions("location"))
        except ValueError:
            return []  # reported by _site_province
    years = table.grid_years(region)
    if spec.grid_year is not None and spec.grid_year not in years:
        return [ConfigIssue("carbon.grid_year", f"no location-based grid factor for '{region}' "
                            f"in that year; expected one of {years} (or give "
                            "grid_factor_kg_per_kwh)", spec.grid_year, True)]
    return []


def _component_cycles(plant: Plant, parents: dict[str, list[str]]) -> list[ConfigIssue]:
    children = {p.id: list(p.components) for p in plant.products}
    issues = []
    for k, p in enumerate(plant.products):
        stack, seen = list(children.get(p.id, [])), set()
        while stack:
            c = stack.pop()
            if c == p.id:
                issues.append(ConfigIssue(
                    f"products[{k}].components",
                    f"product '{p.id}' contains itself through its components"))
                break
            if c in seen:
                continue
            seen.add(c)
            stack.extend(children.get(c, []))
    return issues


def _station_calendar_refs(plant: Plant) -> list[ConfigIssue]:
    """A plant calendar with shifts has a week; a station calendar's week names its own shifts
    or the plant's."""
    from twin.config.plant import Calendar

    issues: list[ConfigIssue] = []
    if plant.calendar is not None and plant.calendar.shifts and plant.calendar.week is None:
        issues.append(ConfigIssue("calendar.week", "shifts are named but no week says on which "
                                  "days they run; expected week: {mon: [shift, ...], ...}, or no "
                                  "shifts (worked around the clock but on holidays)"))
    plant_shifts = plant.calendar.shifts if plant.calendar is not None else {}
    owners = [(f"lines[{i}].stations[{j}]", s) for i, j, s in plant.stations()]
    owners += [(f"resources[{k}]", r) for k, r in enumerate(plant.resources)]
    for path, s in owners:
        if not isinstance(s.calendar, Calendar):
            continue
        known = {**plant_shifts, **s.calendar.shifts}
        for day, names in (s.calendar.week or {}).items():
            for k, name in enumerate(names):
                issues += _ref(f"{path}.calendar.week.{day}[{k}]", name, known, "shift")
    return issues
