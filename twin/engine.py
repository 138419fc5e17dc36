"""Build the SimPy model of a plant, run it, and hand the meter and counters to the results.

``simulate(plant, days=..., start=..., seed=...)`` is the whole pipeline: config in, simulation in
the middle, :class:`~twin.results.Result` out.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from twin.calendar import (
    ShiftCalendar,
    SiteClock,
    maintenance_windows,
    release_times,
    working_windows,
)
from twin.config.plant import ArrivalSource, PlanSource, Plant
from twin.energy.ems import EMS
from twin.equipment.machine import Load, Machine
from twin.equipment.states import IDLE, OFF, base_load_table, power_table
from twin.metering import Meter, SiteLoad
from twin.production import sources
from twin.production.flow import Flow
from twin.production.station import StationRuntime, operate
from twin.streams import Streams


@dataclass
class Equipment:
    """One metered piece of equipment (a machine of a station, or a base load)."""

    name: str
    kind: str  # "machine" or "base_load"
    group: str
    station: str | None = None


@dataclass
class Model:
    """The built simulation: everything the run and the results need."""

    plant: Plant
    env: simpy.Environment
    clock: SiteClock
    horizon_s: float
    seed: int
    calendar: ShiftCalendar
    meter: Meter
    flow: Flow
    equipment: list[Equipment]
    groups: list[str]
    stations: list[StationRuntime]
    streams: Streams
    base_loads: list[Load] = field(default_factory=list)
    ems: EMS | None = None
    supply_info: Any = None
    """:class:`twin.energy.supply.SupplyInfo` when the plant has an energy supply."""


def build(plant: Plant, days: float, start: dt.date, seed: int) -> Model:
    """Build the SimPy model of ``plant`` for ``days`` from local midnight of ``start``.

    Raises :class:`~twin.config.errors.SupplyError` when the energy block cannot be built for
    this period (e.g. a tariff preset not valid then)."""
    env = simpy.Environment()
    horizon = float(days) * 86400.0
    clock = SiteClock(plant.site.timezone, start)
    calendar = ShiftCalendar.from_windows(working_windows(plant.calendar, clock, horizon), horizon)
    streams = Streams(seed)
    interval_s = plant.simulation.settlement_interval_min * 60.0

    products = [p.id for p in plant.products]
    pidx = {p: k for k, p in enumerate(products)}
    upl = [p.units_per_lot for p in plant.products]
    types = {t.id: t for t in plant.equipment_types}

    # --- equipment and groups --------------------------------------------------------------------
    equipment: list[Equipment] = []
    tables: list[np.ndarray] = []
    for i, _, s in plant.stations():
        group = s.group or plant.lines[i].id
        for k in range(s.machines):
            name = s.id if s.machines == 1 else f"{s.id}#{k + 1}"
            equipment.append(Equipment(name, "machine", group, s.id))
            tables.append(power_table(types[s.equipment]))
    for b in plant.base_loads:
        equipment.append(Equipment(b.id, "base_load", b.group))
        tables.append(base_load_table(b))
    groups = sorted({e.group for e in equipment})
    gidx = {g: k for k, g in enumerate(groups)}
    meter = Meter(np.array(tables), np.array([gidx[e.group] for e in equipment]), len(groups),
                  interval_s, horizon)
    flow = Flow(env, products, upl, horizon)
    site = SiteLoad() if plant.energy is not None else None

    # --- buffers and routing ---------------------------------------------------------------------
    stores: dict[str, simpy.Store | None] = {}
    parent_of: dict[str, str] = {c: p.id for p in plant.products for c in p.components}
    assembly_station = {p.route[0]: p for p in plant.products if p.components}
    component_store: dict[str, simpy.Store] = {}
    for _, _, s in plant.stations():
        cap = s.buffer_capacity if s.buffer_capacity is not None else math.inf
        if s.id in assembly_station:
            stores[s.id] = None
            for c in assembly_station[s.id].components:
                component_store[c] = simpy.Store(env, capacity=cap)
        else:
            stores[s.id] = simpy.Store(env, capacity=cap)
    targets: list[list[simpy.Store | None]] = []
    for p in plant.products:
        row: list[simpy.Store | None] = []
        for k, sid in enumerate(p.route):
            row.append(stores[sid] if not (k == 0 and p.components) else None)
        row.append(component_store[p.id] if p.id in parent_of else None)
        targets.append(row)
    components = [[(pidx[c], q) for c, q in p.components.items()] for p in plant.products]

    # --- stations and their machines -------------------------------------------------------------
    runtimes: list[StationRuntime] = []
    machines: list[Machine] = []
    eq = 0
    for _, _, s in plant.stations():
        process: list[Callable[[], float] | None] = [None] * len(products)
        ideal = [0.0] * len(products)
        for p in plant.products:
            if s.id in p.route:
                dist = s.process_time_by_product.get(p.id, s.process_time)
                assert dist is not None  # checked when loading
                process[pidx[p.id]] = streams.sampler(f"station:{s.id}:process:{p.id}", dist)
                ideal[pidx[p.id]] = dist.mean_s()
        rt = StationRuntime(
            id=s.id, input=stores[s.id], process=process, ideal_s=ideal,
            setup=streams.sampler(f"station:{s.id}:setup", s.setup_time) if s.setup_time else None,
            batch_size=s.batch_size, interrupt=s.off_shift == "interrupt",
        )
        if s.id in assembly_station:
            made = assembly_station[s.id]
            rt.components = [(component_store[c], q) for c, q in made.components.items()]
            rt.assembles = pidx[made.id]
        windows = maintenance_windows(s.maintenance, clock, horizon)
        for k in range(s.machines):
            m = Machine(env, meter, eq, equipment[eq].name, types[s.equipment], calendar, windows,
                        site)
            m.set_state(IDLE)
            rt.machines.append(m)
            machines.append(m)
            f = s.failures
            tag = f"station:{s.id}:machine:{k + 1}"
            ttf = streams.sampler(f"{tag}:ttf", f.time_to_failure) if f else None
            ttr = streams.sampler(f"{tag}:ttr", f.time_to_repair) if f else None
            env.process(operate(m, rt, flow, targets, ttf, ttr))
            eq += 1
        if windows:
            env.process(_wake_at([w[0] for w in windows], rt.machines, env))
        runtimes.append(rt)

    # --- base loads ------------------------------------------------------------------------------
    shift_loads: list[Load] = []
    base_loads = []
    for b in plant.base_loads:
        load = Load(env, meter, eq, b.id, site)
        base_loads.append(load)
        if b.schedule == "always" or calendar.always:
            load.set_state(IDLE)
        else:
            load.set_state(IDLE if calendar.working(0.0) else OFF)
            shift_loads.append(load)
        eq += 1
    if not calendar.always:
        env.process(_shift_changes(env, calendar, machines, shift_loads))

    # --- energy supply and its management -------------------------------------------------------
    ems = info = None
    if site is not None:
        from twin.energy.supply import build_supply  # pvlib: imported only when needed

        supply, policy, info = build_supply(plant, clock, horizon, interval_s)
        ems = EMS(env, site, supply, policy, horizon)
        env.process(ems.run())

    # --- sources ---------------------------------------------------------------------------------
    for src in plant.sources:
        if isinstance(src, ArrivalSource):
            mix = list(src.product_mix.items())
            env.process(sources.arrivals(
                env, flow, targets, components,
                streams.sampler(f"source:{src.id}:interarrival", src.interarrival),
                streams.choice(f"source:{src.id}:mix", [w for _, w in mix]),
                [pidx[p] for p, _ in mix],
                calendar if src.active == "shifts" else None,
            ))
        elif isinstance(src, PlanSource):
            times = release_times(plant.calendar, clock, horizon, src.period)
            env.process(sources.plan(
                env, flow, targets, components, times,
                [(pidx[p], q) for p, q in src.quantities.items()], upl, src.sequence == "mixed",
            ))
    return Model(plant, env, clock, horizon, seed, calendar, meter, flow, equipment, groups,
                 runtimes, streams, base_loads, ems, info)


def _wake_at(times: list[float], machines: list[Machine], env: simpy.Environment) -> Generator:
    """Wake passive machines when planned maintenance falls due."""
    for t in times:
        yield env.timeout(t - env.now)
        for m in machines:
            m.wake()


def _shift_changes(env: simpy.Environment, calendar: ShiftCalendar, machines: list[Machine],
                   shift_loads: list[Load]) -> Generator:
    """Switch shift-scheduled base loads, and wake passive machines at every shift end."""
    for start, end in zip(calendar.starts, calendar.ends, strict=True):
        if start > env.now:
            yield env.timeout(start - env.now)
            for load in shift_loads:
                load.set_state(IDLE)
        if end == math.inf:
            return
        yield env.timeout(end - env.now)
        for load in shift_loads:
            load.set_state(OFF)
        for m in machines:
            m.wake()


def run(model: Model, progress: bool | None = None) -> float:
    """Run the model to its horizon; return wall seconds. Shows a progress bar on a terminal
    when ``progress`` is None and the run takes more than a few seconds."""
    env, horizon = model.env, model.horizon_s
    show = sys.stderr.isatty() if progress is None else progress
    t0 = time.perf_counter()
    steps = 50
    for k in range(1, steps + 1):
        env.run(until=horizon * k / steps)
        wall = time.perf_counter() - t0
        if show and (wall > 3.0 or progress):
            bar = "#" * (k * 30 // steps)
            sys.stderr.write(f"\r  simulating [{bar:<30}] {k * 100 // steps:3d}%  {wall:5.1f} s")
            sys.stderr.flush()
    if model.ems is not None:
        model.ems.close(horizon)  # the last interval ends at the horizon
    wall = time.perf_counter() - t0
    if show and (wall > 3.0 or progress):
        sys.stderr.write("\n")
    model.meter.close()
    return wall


def events_processed(env: simpy.Environment) -> int:
    """Events SimPy has processed so far (scheduled minus still queued)."""
    scheduled = next(env._eid)  # SimPy's event counter; reading it advances it by one
    return int(scheduled - len(env._queue))
