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
from twin.config.plant import CARRIERS, ArrivalSource, EquipmentType, PlanSource, Plant
from twin.config.plant import Conveyor as ConveyorSpec
from twin.config.sequence import Sequence as SequenceConfig
from twin.energy.ems import EMS
from twin.equipment.machine import Load, Machine
from twin.equipment.states import IDLE, N_CARRIERS, OFF, PROCESSING, base_load_table, power_table
from twin.metering import FLUSH_S, Meter, SiteLoad
from twin.production import lot_spill, sources
from twin.production.conveyor import BeltStats, convey, place_tables
from twin.production.features import station_features
from twin.production.flow import Flow
from twin.production.programme import StationProgrammes, station_programmes
from twin.production.queues import in_station
from twin.production.resources import Needs, Pool
from twin.production.station import Buffer, StationRuntime, operate
from twin.production.steps import StepLog
from twin.safety import StallGuard
from twin.streams import Streams
from twin.workdays import own_calendars, station_shift_calendar


@dataclass
class Equipment:
    """One metered piece of equipment (a machine of a station, or a base load)."""

    name: str
    kind: str  # "machine", "base_load" or "sequence_restart"
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
    pools: dict[str, Pool] = field(default_factory=dict)
    """Shared resources (operators, tools) by id (:mod:`twin.production.resources`)."""
    supply_info: Any = None
    """:class:`twin.energy.supply.SupplyInfo` when the plant has an energy supply."""
    trace_day: dt.date | None = None
    """Local day whose every state change the meter keeps."""
    carbon_info: dict | None = None
    """Factors and instruments used by the carbon accounting (set when results are collected)."""
    signals: Any = None
    """:class:`twin.signals.Signals` when the plant has strategies."""
    strategies: list = field(default_factory=list)
    """:class:`twin.strategies.Strategy` objects installed in this model."""
    days: float = 0.0
    """Simulated local calendar days (``horizon_s`` is their physical length)."""
    mid_in_station: list[int] | None = None
    """Lots at each station halfway through the run (set then by the simulation itself; the
    queue trend of the overload warning, :mod:`twin.planner_warnings`)."""
    part_figures: Any = None
    """A split run's station, resource and product figures, worked out in the parts' worker
    processes (:class:`twin.parallel.PartFigures`); None for a run in one process."""


def build(plant: Plant, days: float, start: dt.date, seed: int,
          flow_type: type[Flow] = Flow) -> Model:
    """Build the SimPy model of ``plant`` for ``days`` from local midnight of ``start``;
    ``flow_type`` keeps its lots (a part of a split run also notes when each lot got its
    number, :class:`twin.parallel.NumberedFlow`).

    Raises :class:`~twin.config.errors.SupplyError` when the energy block cannot be built for
    this period (e.g. a tariff preset not valid then)."""
    env = simpy.Environment()
    clock = SiteClock(plant.site.timezone, start)
    horizon = clock.horizon_s(float(days))  # local calendar days (DST days are 23 or 25 h)
    calendar = ShiftCalendar.from_windows(working_windows(plant.calendar, clock, horizon), horizon)
    streams = Streams(seed)
    interval_s = plant.simulation.settlement_interval_min * 60.0
    products = [p.id for p in plant.products]

    equipment, tables = equipment_tables(plant)
    groups = sorted({e.group for e in equipment})
    gidx = {g: k for k, g in enumerate(groups)}
    meter = Meter(np.array(tables), np.array([gidx[e.group] for e in equipment]), len(groups),
                  interval_s, horizon)
    meter.grow = True  # binned once a simulated day (split-invariant, twin.metering.FLUSH_S)
    env.process(_bin_daily(env, meter, horizon))
    flow = flow_type(env, products, [p.units_per_lot for p in plant.products], horizon,
                     lot_chunk=lot_spill.LOT_CHUNK)
    # the running site power is kept only for strategies, the only readers of live state; the EMS
    # runs in the loop only for strategies that read the state of charge, else it settles every
    # interval after the run from the meter (same balance, faster)
    site = SiteLoad() if plant.strategies else None
    net = _Network(plant, env)
    ctx = _Context(env, meter, calendar, clock, horizon, streams, site, flow, net)
    pools = _pools(plant, ctx)
    runtimes, machines = _stations(plant, ctx, equipment, pools)
    base_loads = _base_loads(plant, ctx, first_index=len(machines))
    restart_loads = _sequences(plant, ctx, runtimes, len(machines) + len(base_loads))
    if not calendar.always:
        shift_loads = [ld for ld, b in zip(base_loads, plant.base_loads, strict=True)
                       if b.schedule == "shifts"]
        env.process(_shift_changes(env, calendar, [m for m in machines if m.calendar is calendar],
                                   shift_loads))
    for own, ms in own_calendars(machines, calendar):  # stations with their own shift pattern
        env.process(_shift_changes(env, own, ms, []))

    trace_day = _trace_day(plant, clock, calendar, days)
    t0 = clock.seconds(trace_day, 0)
    t1 = min(clock.seconds(trace_day + dt.timedelta(days=1), 0), horizon)
    if 0 <= t0 < horizon:
        meter.trace_window = (t0, t1)
        env.process(_snapshot(env, meter, t0, [*machines, *base_loads, *restart_loads]))

    ems = info = None
    if plant.energy is None and plant.carbon is not None and plant.carbon.hourly_factor_file:
        from twin.signals import grid_intensity  # fail now, not after the run, on a bad file

        grid_intensity(plant, clock, max(math.ceil(horizon / interval_s - 1e-9), 1), interval_s)
    if plant.energy is not None:
        from twin.energy.supply import build_supply  # pvlib: imported only when needed

        supply, policy, info = build_supply(plant, clock, horizon, interval_s)
        from twin.strategies import get_strategy

        live = any(get_strategy(sc.type).reads_storage for sc in plant.strategies)
        meter_air_handling(plant, meter, calendar, supply, len(machines))
        ems = EMS(env, site, supply, policy, horizon, live=live)
        if ems.live:
            env.process(ems.run())
    _sources(plant, ctx)
    model = Model(plant, env, clock, horizon, seed, calendar, meter, flow, equipment, groups,
                  runtimes, streams, base_loads, ems, pools, info, trace_day)
    model.days = float(days)
    env.process(_halfway(model))
    if plant.strategies:  # what strategies read (the grid factor tables are loaded only then)
        from twin.signals import build_signals

        model.signals = build_signals(plant, clock, horizon, interval_s, site, ems)
    _install_strategies(model)
    if ems is not None:
        ems.policy.bind(model)  # a policy that plans ahead reads the built model
    return model


def _install_strategies(model: Model) -> None:
    """Instantiate the plant's strategies (validated when the file was loaded) and hook them in."""
    from twin.strategies import get_strategy

    for spec in model.plant.strategies:
        cls = get_strategy(spec.type)
        strategy = cls(cls.Params.model_validate(spec.params))
        strategy.install(model)
        model.strategies.append(strategy)


def _trace_day(plant: Plant, clock: SiteClock, calendar: ShiftCalendar, days: float) -> dt.date:
    """The day whose state changes are all kept: the configured one, else the day of the first
    working window that opens a week or more after the start (a typical day past the start-up),
    else the first day."""
    if plant.simulation.trace_day is not None:
        return plant.simulation.trace_day
    week = 7 * 86400.0
    start = calendar.next_start(week - 1e-9) if not calendar.always else week
    if start < days * 86400.0:
        return (clock.t0 + dt.timedelta(seconds=start)).astimezone(clock.zone).date()
    return clock.start


def _halfway(model: Model) -> Generator:
    """Halfway through the run, count the lots at each station (``model.mid_in_station``)."""
    yield model.env.timeout(model.horizon_s / 2)
    model.mid_in_station = [in_station(rt) for rt in model.stations]


def _bin_daily(env: simpy.Environment, meter: Meter, horizon: float) -> Generator:
    """Bin the meter's records at every multiple of :data:`~twin.metering.FLUSH_S` before the
    horizon (the last chunk is binned when the meter is closed). A state change at the same
    instant, before or after, gives the same segments."""
    k = 1
    while k * FLUSH_S < horizon:
        yield env.timeout(k * FLUSH_S - env.now)
        meter.flush_at(k * FLUSH_S)
        k += 1


def _snapshot(env: simpy.Environment, meter: Meter, t: float, loads: list[Load]) -> Generator:
    """At ``t``, put every load's state into the trace (where its timeline starts)."""
    yield env.timeout(t - env.now)
    meter.snapshot(env.now, [ld.state for ld in loads])


def equipment_tables(plant: Plant) -> tuple[list[Equipment], list[np.ndarray]]:
    """Every metered piece of equipment, machines first, and its power table."""
    types = {t.id: t for t in plant.equipment_types}
    equipment: list[Equipment] = []
    tables: list[np.ndarray] = []
    for i, _, s in plant.stations():
        group = s.group or plant.lines[i].id
        if s.conveyor is not None:  # one meter row per place on the belt (twin.production.conveyor)
            for k, table in enumerate(place_tables(s.conveyor, power_table(types[s.equipment]))):
                name = s.id if k == 0 else f"{s.id}@{k + 1}"
                equipment.append(Equipment(name, "machine", group, s.id))
                tables.append(table)
            continue
        for k in range(s.machines):
            name = s.id if s.machines == 1 else f"{s.id}#{k + 1}"
            equipment.append(Equipment(name, "machine", group, s.id))
            tables.append(power_table(types[s.equipment]))
    for b in plant.base_loads:
        equipment.append(Equipment(b.id, "base_load", b.group))
        tables.append(base_load_table(b))
    for i, _, s in plant.stations():  # restart energy of sequences (twin.production.sequence)
        if s.sequence is not None and restart_power_kw(s.sequence).any():
            equipment.append(Equipment(f"{s.id}:restart", "sequence_restart",
                                       s.group or plant.lines[i].id, s.id))
            table = np.zeros_like(tables[0])
            table[IDLE] = restart_power_kw(s.sequence)
            tables.append(table)
    return equipment, tables


def restart_power_kw(seq: SequenceConfig) -> np.ndarray:
    """Power per carrier of a sequence restart's energy drawn evenly over its setup [kW]."""
    out = np.zeros(len(CARRIERS))
    for carrier, kwh in seq.restart.energy_kwh.items():
        if kwh > 0:
            out[CARRIERS.index(carrier)] = kwh / (seq.restart.setup_min / 60.0)
    return out


class _Network:
    """Buffers and routing: ``targets[p][k]`` is the store a lot of product ``p`` enters at route
    step ``k`` (``None``: finished, or made at an assembly station)."""

    def __init__(self, plant: Plant, env: simpy.Environment):
        self.pidx = {p.id: k for k, p in enumerate(plant.products)}
        parent_of = {c: p.id for p in plant.products for c in p.components}
        self.assembly = {p.route[0]: p for p in plant.products if p.components}
        self.stores: dict[str, simpy.Store | None] = {}
        self.component_store: dict[str, simpy.Store] = {}
        for _, _, s in plant.stations():
            cap = s.buffer_capacity if s.buffer_capacity is not None else math.inf
            if s.id in self.assembly:
                self.stores[s.id] = None
                for c in self.assembly[s.id].components:
                    self.component_store[c] = Buffer(env, capacity=cap)
            else:
                self.stores[s.id] = Buffer(env, capacity=cap)
        self.targets: list[list[simpy.Store | None]] = []
        for p in plant.products:
            row = [self.stores[sid] if not (k == 0 and p.components) else None
                   for k, sid in enumerate(p.route)]
            row.append(self.component_store[p.id] if p.id in parent_of else None)
            self.targets.append(row)
        self.components = [[(self.pidx[c], q) for c, q in p.components.items()]
                           for p in plant.products]


@dataclass
class _Context:
    """What the builders below share."""

    env: simpy.Environment
    meter: Meter
    calendar: ShiftCalendar
    clock: SiteClock
    horizon: float
    streams: Streams
    site: SiteLoad | None
    flow: Flow
    net: _Network


def _pools(plant: Plant, ctx: _Context) -> dict[str, Pool]:
    """The plant's shared resources (operators, tools), by id, in file order."""
    pools: dict[str, Pool] = {}
    for r in plant.resources:
        cal = station_shift_calendar(plant, r, ctx.clock, ctx.horizon, ctx.calendar)
        pools[r.id] = Pool(ctx.env, r.id, r.count, cal)
    return pools


def _stations(plant: Plant, ctx: _Context, equipment: list[Equipment], pools: dict[str, Pool]
              ) -> tuple[list[StationRuntime], list[Machine]]:
    """Station runtimes and their machines, each machine's process started."""
    types = {t.id: t for t in plant.equipment_types}
    net, streams, env = ctx.net, ctx.streams, ctx.env
    runtimes: list[StationRuntime] = []
    machines: list[Machine] = []
    log = StepLog() if plant.simulation.steps else None
    for index, (_, _, s) in enumerate(plant.stations()):
        process: list[Callable[[], float] | None] = [None] * len(plant.products)
        ideal = [0.0] * len(plant.products)
        for p in plant.products:
            if s.id in p.route and s.conveyor is not None:
                ideal[net.pidx[p.id]] = s.conveyor.transit_s
            elif s.id in p.route:
                dist = s.process_time_by_product.get(p.id, s.process_time)
                assert dist is not None  # checked when loading
                process[net.pidx[p.id]] = streams.sampler(f"station:{s.id}:process:{p.id}", dist)
                ideal[net.pidx[p.id]] = dist.mean_s()
        rt = StationRuntime(
            id=s.id, input=net.stores[s.id], process=process, ideal_s=ideal,
            setup=streams.sampler(f"station:{s.id}:setup", s.setup_time) if s.setup_time else None,
            batch_size=s.batch_size, interrupt=s.off_shift == "interrupt", index=index,
            steps=log,
        )
        if s.needs:
            rt.needs = Needs([(pool, s.needs[rid]) for rid, pool in pools.items()
                              if rid in s.needs], "setup" in s.needs_for,
                             "process" in s.needs_for)
        if s.setup_matrix or s.cleaning or s.quality is not None:
            station_features(rt, s, plant, net.pidx, streams)
        if s.id in net.assembly:
            made = net.assembly[s.id]
            rt.components = [(net.component_store[c], q) for c, q in made.components.items()]
            rt.assembles = net.pidx[made.id]
        windows = maintenance_windows(s.maintenance, ctx.clock, ctx.horizon)
        cal = station_shift_calendar(plant, s, ctx.clock, ctx.horizon, ctx.calendar)
        if s.conveyor is not None:
            _conveyor(s.conveyor, rt, ctx, equipment, types[s.equipment], cal, windows, machines)
            runtimes.append(rt)
            continue
        phases = station_programmes(s, types[s.equipment], [p.id for p in plant.products])
        if phases is not None:  # power programmes: processing metered phase by phase
            rt.programmes = StationProgrammes(
                phases, power_table(types[s.equipment])[PROCESSING], CARRIERS, ctx.meter, env,
                ctx.site)
            for k in range(s.machines):
                ctx.meter.meter_by_phases(len(machines) + k)
        for k in range(s.machines):
            eq = len(machines)
            m = Machine(env, ctx.meter, eq, equipment[eq].name, types[s.equipment], cal,
                        windows, ctx.site)
            m.set_state(IDLE)
            rt.machines.append(m)
            machines.append(m)
            f = s.failures
            tag = f"station:{s.id}:machine:{k + 1}"
            ttf = streams.sampler(f"{tag}:ttf", f.time_to_failure) if f else None
            ttr = streams.sampler(f"{tag}:ttr", f.time_to_repair) if f else None
            env.process(operate(m, rt, ctx.flow, net.targets, ttf, ttr))
        if windows:
            env.process(_wake_at([w[0] for w in windows], rt.machines, env))
        if s.switch_on is not None:  # the N-policy: a gate and a saving-mode controller
            from twin.production.switch_on import install_switch_on

            install_switch_on(rt, s.switch_on, types[s.equipment], ctx.meter, env)
        runtimes.append(rt)
    return runtimes, machines


def _conveyor(spec: ConveyorSpec, rt: StationRuntime, ctx: _Context, equipment: list[Equipment],
              etype: EquipmentType, cal: ShiftCalendar, windows: list[tuple[float, float]],
              machines: list[Machine]) -> None:
    """A conveyor station's places (meter rows; the first is the machine) and its process."""
    for k in range(spec.capacity):
        eq = len(machines)
        m = Machine(ctx.env, ctx.meter, eq, equipment[eq].name, etype, cal,
                    windows if k == 0 else [], ctx.site)
        m.set_state(IDLE)
        rt.machines.append(m)
        machines.append(m)
    rt.belt = BeltStats(spec.capacity)
    ctx.env.process(convey(rt.machines, rt, spec, ctx.flow, ctx.net.targets, rt.belt))
    if windows:
        ctx.env.process(_wake_at([w[0] for w in windows], rt.machines[:1], ctx.env))


def _base_loads(plant: Plant, ctx: _Context, first_index: int) -> list[Load]:
    """Base loads, on (or off outside shifts) from time 0."""
    loads = []
    for k, b in enumerate(plant.base_loads):
        load = Load(ctx.env, ctx.meter, first_index + k, b.id, ctx.site)
        on = b.schedule == "always" or ctx.calendar.always or ctx.calendar.working(0.0)
        load.set_state(IDLE if on else OFF)
        loads.append(load)
    return loads


def meter_air_handling(plant: Plant, meter: Meter, calendar: ShiftCalendar, supply: Any,
                       first_index: int) -> None:
    """Put the heating and cooling of the plant's air-handling units into ``meter`` before the
    run: energy per interval and carrier from the outdoor temperature and the time each unit is
    on (its schedule: the shift calendar, or always;
    :func:`~twin.energy.air_handling.air_handling_kwh`), into its group's columns and its own
    row. Also kept on ``supply.scheduled_kwh`` (all units summed) for the EMS balancing in the
    loop. Nothing to do (and nothing computed) without air-handling units. ``first_index``: the
    meter row of the first base load."""
    units = [(k, b) for k, b in enumerate(plant.base_loads) if b.air_handling is not None]
    if not units:
        return
    from twin.config.errors import SupplyError
    from twin.energy.air_handling import air_handling_kwh

    temp = supply.outdoor_temp_c
    if temp is None:  # the plant checks catch this first (twin.config.checks)
        raise SupplyError("base_loads: air_handling needs energy.weather")
    n, step = meter.n_intervals, meter.interval_s
    hours = np.full(n, step / 3600.0)
    hours[-1] = (meter.horizon_s - (n - 1) * step) / 3600.0
    shift_on_s = calendar.working_seconds_by_interval(n, step, meter.horizon_s)
    total = np.zeros((n, N_CARRIERS))
    for k, b in units:
        on_s = shift_on_s if b.schedule == "shifts" else hours * 3600.0
        kwh = air_handling_kwh(b.air_handling, np.asarray(temp, dtype=float)[:n], on_s, hours)
        g = int(meter.group[first_index + k])
        meter.interval_kwh[:, g * N_CARRIERS:(g + 1) * N_CARRIERS] += kwh
        meter.equipment_kwh[first_index + k] += kwh.sum(axis=0)
        total += kwh
    supply.scheduled_kwh = total


def _sequences(plant: Plant, ctx: _Context, runtimes: list[StationRuntime], first_index: int
               ) -> list[Load]:
    """Sequence feeding of the stations that have it (:mod:`twin.production.sequence`), with the
    meter rows of their restart energy (after the base loads, in station order); returns those
    loads."""
    from twin.production.sequence import SequenceFeed

    loads: list[Load] = []
    for rt, (_, _, s) in zip(runtimes, plant.stations(), strict=True):
        seq = s.sequence
        if seq is None:
            continue
        load = None
        if restart_power_kw(seq).any():
            load = Load(ctx.env, ctx.meter, first_index + len(loads), f"{s.id}:restart", ctx.site)
            load.set_state(OFF)
            loads.append(load)
        rt.sequence = SequenceFeed(seq.max_wait_min * 60.0, seq.lots_per_sequence,
                                   seq.restart.setup_min * 60.0, seq.restart.yield_loss_units,
                                   load, ctx.flow)
    return loads


def _sources(plant: Plant, ctx: _Context) -> None:
    """Start the release processes."""
    env, net, streams = ctx.env, ctx.net, ctx.streams
    upl = [p.units_per_lot for p in plant.products]
    if not all(isinstance(src, (ArrivalSource, PlanSource)) for src in plant.sources):
        from twin.production.order_book import start_file_sources  # reads the files

        start_file_sources(plant, env, ctx.flow, net.targets, net.components, ctx.clock,
                           ctx.horizon)
    for src in plant.sources:
        if not isinstance(src, (ArrivalSource, PlanSource)):
            continue
        due_s = [(src.due_h if src.due_h is not None else p.due_h or math.inf) * 3600.0
                 for p in plant.products]  # per ordered product [s after release]
        if isinstance(src, ArrivalSource):
            mix = list(src.product_mix.items())
            env.process(sources.arrivals(
                env, ctx.flow, net.targets, net.components,
                streams.sampler(f"source:{src.id}:interarrival", src.interarrival),
                streams.choice(f"source:{src.id}:mix", [w for _, w in mix]),
                [net.pidx[p] for p, _ in mix],
                ctx.calendar if src.active == "shifts" else None, due_s,
            ))
        elif isinstance(src, PlanSource):
            times = release_times(plant.calendar, ctx.clock, ctx.horizon, src.period)
            env.process(sources.plan(
                env, ctx.flow, net.targets, net.components, times,
                [(net.pidx[p], q) for p, q in src.quantities.items()], upl,
                src.sequence == "mixed", due_s,
            ))


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
    with StallGuard(env):  # a process repeating in zero time stops the run, not the machine
        for k in range(1, steps + 1):
            env.run(until=horizon * k / steps)
            wall = time.perf_counter() - t0
            if show and (wall > 3.0 or progress):
                bar = "#" * (k * 30 // steps)
                sys.stderr.write(f"\r  simulating [{bar:<30}] {k * 100 // steps:3d}%  "
                                 f"{wall:5.1f} s")
                sys.stderr.flush()
    if model.ems is not None and model.ems.live:
        model.ems.close(horizon)  # the last interval ends at the horizon
    model.meter.close()
    if model.ems is not None:
        model.ems.settle_from_meter(model.meter)  # all intervals unless the EMS ran live
    wall = time.perf_counter() - t0
    if show and (wall > 3.0 or progress):
        sys.stderr.write("\n")
    return wall


def events_processed(env: simpy.Environment) -> int:
    """Events SimPy has processed so far (scheduled minus still queued)."""
    scheduled = next(env._eid)  # SimPy's event counter; reading it advances it by one
    return int(scheduled - len(env._queue))
