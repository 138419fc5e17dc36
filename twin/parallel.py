"""Simulate a plant's independent parts apart (in worker processes) and assemble one run.

:func:`twin.partition.find_parts` says which stations share nothing while the plant runs. Each
part is then a plant of its own (:func:`part_plant`: its lines, products, sources, resources and
base loads; no energy supply, which is balanced afterwards on the merged meters), simulated with
the same seed: its random streams are keyed by station and source names (:mod:`twin.streams`),
so it draws what it draws in the whole plant. Its meter is binned at the same fixed times
(:data:`twin.metering.FLUSH_S`) and each equipment group belongs to one part, so
:func:`merge_meters` puts every number in its place without adding anything: the merged energy
per interval, time per state and energy per equipment are the whole plant's, bit for bit.

:func:`simulate_split` makes the whole run's :class:`~twin.results.Result` of the parts:

* in each worker (:func:`run_part`): the part's DES, its meter, its stations' KPIs
  (:func:`twin.kpis.station_kpis`, which read only their own station), its shared resources'
  KPIs, its per-station strategies' reports, its lots and lot counters;
* in the parent (:func:`assemble`): the merged meter; the lots of all parts in the order they
  finished (ties: by part, then by the order within the part), renumbered in the order they
  entered the plant (ties: by part); the counters summed per product (each product is made in
  one part); the site's energy balance, EMS, tariff, carbon accounting and KPIs worked out
  once, on the merged meters, by :func:`twin.results.collect`, as for a run in one process.

What is not split-invariant in every last bit, and how it is kept equal: the mean WIP is the sum
of the parts' time integrals of lots in the plant (a float sum in another order than one
process's; equal after the 9-digit rounding of ``kpis.json`` unless a sum falls on a rounding
boundary); lots finishing (or entering) at the same instant in two parts are ordered by part,
where one process orders them by its event queue. ``tests/test_split_run.py`` checks the files
of a split run against those of one process.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from array import array
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from twin.config.plant import Plant
from twin.equipment.states import N_CARRIERS
from twin.partition import Part, Partition, find_parts
from twin.production.flow import Flow


def part_plant(plant: Plant, part: Part) -> Plant:
    """The plant made of ``part`` alone: its stations (lines keep their ids and order), products,
    sources, shared resources and base loads; no energy supply and no carbon block (the
    accounting runs once, on the merged meters). Not validated again: strategy parameters may
    name stations of other parts, which a per-station strategy simply does not find."""
    keep = set(part.stations)
    lines = [ln.model_copy(update={"stations": [s for s in ln.stations if s.id in keep]})
             for ln in plant.lines if ln.id in part.lines]
    return plant.model_copy(update={
        "lines": lines,
        "products": [p for p in plant.products if p.id in part.products],
        "sources": [s for s in plant.sources if s.id in part.sources],
        "resources": [r for r in plant.resources if r.id in part.resources],
        "base_loads": [b for b in plant.base_loads if b.id in part.base_loads],
        "energy": None,
        "carbon": None,
    })


class NumberedFlow(Flow):
    """A part's :class:`~twin.production.flow.Flow` that also notes when each lot got its number
    (entered the plant or was assembled) [s], so that the parent can number the lots of all
    parts in the order they entered the whole plant. Used in split runs only: the run in one
    process keeps the plain Flow, at no cost per lot."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.born = array("d")

    def enter(self, lot: list) -> None:
        super().enter(lot)
        self.born.append(self.env.now)

    def assemble(self, product: int, parts: list[list]) -> list:
        lot = super().assemble(product, parts)
        self.born.append(self.env.now)
        return lot


@dataclass
class PartRun:
    """What a part's run hands back (product indices are the part's own; machine rows in the
    part's equipment order)."""

    equipment: list[str]
    groups: list[str]
    interval_kwh: np.ndarray
    state_s: np.ndarray
    equipment_kwh: np.ndarray
    records: int
    lots_completed: int
    wall_s: float
    products: list[str] = field(default_factory=list)
    stations: dict[str, Any] = field(default_factory=dict)
    """Station KPIs (:func:`twin.kpis.station_kpis`)."""
    rty: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    in_buffers: int = 0
    scrap: bool = False
    strategies: dict[str, Any] = field(default_factory=dict)
    """Each strategy's report on this part (raw, not rounded)."""
    mid_in_station: list[int] | None = None
    machines: list[tuple[str, list[float], list[float], float]] = field(default_factory=list)
    """Per machine row: station id, processing and changeover time per product [s], cleaning
    time [s] (what the product footprints allocate by)."""
    counters: dict[str, list[int]] = field(default_factory=dict)
    """released, assembled, completed, consumed, scrapped: lots per product."""
    in_system: int = 0
    wip_area: float = 0.0
    """Integral of lots in the part over the run [lot s]."""
    units_by_hour: list[int] = field(default_factory=list)
    lots: dict[str, np.ndarray] = field(default_factory=dict)
    """Finished lots, columns of :data:`twin.production.lot_spill.COLUMNS` (``lot``: the part's
    own numbers)."""
    born: np.ndarray | None = None
    """When each of the part's lot numbers was given [s]."""
    open_due: dict[str, np.ndarray] = field(default_factory=dict)
    trace: tuple[np.ndarray, ...] = ()
    """Change points kept for the trace day: time [s], the part's equipment row, state."""
    events: int = 0
    streams: list[str] = field(default_factory=list)
    pid: int = 0
    """The worker process that ran the part, and its peak resident memory then [MB]."""
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0
    """CPU time the worker spent on the part, build to figures [s]."""


def run_part(plant: Plant, days: float, start: dt.date, seed: int, full: bool = False
             ) -> PartRun:
    """Build and run one part (a plant from :func:`part_plant`); its meter, and with ``full``
    everything :func:`assemble` needs (station KPIs, lots, counters)."""
    from twin import engine, kpis

    cpu = time.process_time()
    model = engine.build(plant, days, start, seed, flow_type=NumberedFlow if full else Flow)
    wall = engine.run(model, progress=False)
    m = model.meter
    run = PartRun([e.name for e in model.equipment], list(model.groups), m.interval_kwh,
                  m.state_s, m.equipment_kwh, int(m.records), int(sum(model.flow.completed)),
                  wall)
    if not full:
        return run
    flow, horizon = model.flow, model.horizon_s
    run.products = list(flow.products)
    run.stations = kpis.station_kpis(model)
    run.scrap = kpis.checks_quality(model)
    run.rty = {p: kpis._rty(model, k, p) for k, p in enumerate(flow.products)}
    run.resources = kpis.resource_kpis(model)
    run.in_buffers = kpis.lots_in_buffers(model)
    run.strategies = {st.name: st.report(model) for st in model.strategies}
    run.mid_in_station = model.mid_in_station
    run.machines = [(rt.id, list(mc.processing_s), list(mc.setup_s), float(mc.cleaning_s))
                    for rt in model.stations for mc in rt.machines]
    run.counters = {k: list(getattr(flow, k)) for k in
                    ("released", "assembled", "completed", "consumed", "scrapped", "lost")}
    run.in_system = int(flow.in_system)
    run.wip_area = flow.mean_wip(horizon) * horizon
    run.units_by_hour = list(flow.units_by_hour)
    run.lots = flow.completions()
    run.born = np.frombuffer(flow.born, dtype=np.float64).copy()
    run.open_due = flow.open_due_s()
    run.trace = m.trace_columns()
    run.events = engine.events_processed(model.env)
    run.streams = sorted(set(model.streams.names))
    run.pid, run.peak_rss_mb = os.getpid(), peak_rss_mb()
    run.cpu_s = time.process_time() - cpu
    return run


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far [MB] (``getrusage``; 0 where unknown)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return 0.0
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / (1024.0 * 1024.0) if sys.platform == "darwin" else kb / 1024.0


@dataclass
class MergedMeter:
    """The whole plant's meter arrays, merged from its parts (shapes as :class:`Meter`'s)."""

    interval_kwh: np.ndarray
    state_s: np.ndarray
    equipment_kwh: np.ndarray
    records: int


def merge_meters(plant: Plant, runs: list[PartRun]) -> MergedMeter:
    """Put each part's meter rows and group columns where the whole plant has them. Each piece
    of equipment and each group is in exactly one part, so nothing is summed: the result does
    not depend on the order the parts finished in."""
    from twin.engine import equipment_tables

    equipment, _ = equipment_tables(plant)
    row = {e.name: k for k, e in enumerate(equipment)}
    groups = sorted({e.group for e in equipment})
    col = {g: k for k, g in enumerate(groups)}
    first = runs[0]
    n_int = first.interval_kwh.shape[0]
    interval = np.zeros((n_int, len(groups) * N_CARRIERS))
    state = np.zeros((len(equipment), first.state_s.shape[1]))
    kwh = np.zeros((len(equipment), N_CARRIERS))
    seen: set[str] = set()
    for run in runs:
        rows = [row[name] for name in run.equipment]
        state[rows] = run.state_s
        kwh[rows] = run.equipment_kwh
        for k, g in enumerate(run.groups):
            if g in seen:
                raise ValueError(f"group '{g}' is metered by two parts")
            seen.add(g)
            full = col[g] * N_CARRIERS
            interval[:, full : full + N_CARRIERS] = run.interval_kwh[
                :, k * N_CARRIERS : (k + 1) * N_CARRIERS]
    return MergedMeter(interval, state, kwh, sum(r.records for r in runs))


def _run_part_args(args: tuple[Plant, float, dt.date, int]) -> PartRun:
    """Worker entry (workers receive the resolved plant, pickled, not file paths)."""
    return run_part(*args)


def simulate_parts(plant: Plant, days: float | None = None, start: dt.date | None = None,
                   seed: int | None = None, jobs: int = 2) -> tuple[MergedMeter, list[PartRun]]:
    """Simulate ``plant``'s independent parts on ``jobs`` worker processes (in this process with
    ``jobs=1``) and merge their meters; raise ValueError, with the reason, when the plant does
    not split."""
    partition = find_parts(plant)
    if not partition.splits:
        raise ValueError(f"the plant does not split: {partition.reason}")
    days = float(plant.simulation.days if days is None else days)
    start = plant.simulation.start if start is None else start
    seed = int(plant.simulation.seed if seed is None else seed)
    plants = [part_plant(plant, p) for p in partition.parts]
    if jobs <= 1:
        runs = [run_part(p, days, start, seed) for p in plants]
    else:
        args = [(p, days, start, seed) for p in plants]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            runs = list(pool.map(_run_part_args, args, chunksize=max(1, len(args) // (4 * jobs))))
    return merge_meters(plant, runs), runs


def split_plan(plant: Plant, jobs: int) -> tuple[Partition | None, str]:
    """Whether a run on ``jobs`` processes splits ``plant`` into parts: the partition (None: the
    run stays in one process) and one line for the terminal saying how, or why not."""
    if jobs <= 1:
        return None, "one process (--jobs 1)"
    if plant.simulation.partition == "off":
        return None, "one process: simulation.partition is 'off'"
    if plant.simulation.steps:
        return None, "one process: steps.parquet (simulation.steps) is written by one process"
    if plant.energy is not None:
        import twin.energy.dispatch_lp  # noqa: F401  (registers the LP policies)
        from twin.energy.ems import POLICIES, DispatchPolicy

        name = plant.energy.dispatch.policy
        if getattr(POLICIES.get(name), "bind", None) is not DispatchPolicy.bind:
            return None, (f"one process: the dispatch policy '{name}' plans on the whole "
                          f"plant's demand before the run")
    partition = find_parts(plant)
    if not partition.splits:
        return None, f"one process: {partition.describe()}"
    workers = min(jobs, len(partition.parts))
    return partition, f"{partition.describe()}; simulated on {workers} worker processes"


def _run_part_task(task: tuple[int, Plant, float, dt.date, int]) -> tuple[int, PartRun]:
    """Worker entry: part ``task[0]`` (workers receive the resolved plant, pickled)."""
    k, plant, days, start, seed = task
    return k, run_part(plant, days, start, seed, full=True)


def simulate_split(plant: Plant, partition: Partition, days: float, start: dt.date, seed: int,
                   jobs: int, progress: bool | None = False) -> Any:
    """Run ``partition``'s parts on ``jobs`` worker processes (in this process with ``jobs=1``)
    and assemble the whole run's :class:`~twin.results.Result` (:func:`assemble`). Ctrl-C or
    SIGTERM stops the workers (:class:`twin.executors.ProcessPool`). ``progress``: the parts
    done on stderr (None: when stderr is a terminal and the run takes more than a few seconds,
    as :func:`twin.engine.run`)."""
    from twin.executors import InProcess, ProcessPool

    show = sys.stderr.isatty() if progress is None else progress
    t0 = time.perf_counter()
    # biggest parts first (by stations), so that a big part does not start last and leave the
    # other workers idle; the results go back to their places in part order
    sizes = [len(p.stations) for p in partition.parts]
    tasks = [(k, part_plant(plant, partition.parts[k]), float(days), start, int(seed))
             for k in sorted(range(len(sizes)), key=lambda k: (-sizes[k], k))]
    runs: list[PartRun | None] = [None] * len(tasks)
    workers = min(jobs, len(tasks))
    with (ProcessPool(workers, warm_up=_warm_up) if workers > 1 else InProcess()) as ex:
        for outcome in ex.map_unordered(_run_part_task, tasks):
            if outcome.error is not None:
                raise outcome.error
            k, run = outcome.value
            runs[k] = run
            wall = time.perf_counter() - t0
            if show and (wall > 3.0 or progress):
                done = sum(r is not None for r in runs)
                sys.stderr.write(f"\r  simulating parts [{done}/{len(runs)}] {wall:6.1f} s")
                sys.stderr.flush()
    if show and (time.perf_counter() - t0 > 3.0 or progress):
        sys.stderr.write("\n")
    return assemble(plant, [r for r in runs if r is not None], days, start, seed,
                    time.perf_counter() - t0, workers)


def _warm_up() -> None:
    """Import the simulation modules once, before the workers fork."""
    import twin.engine
    import twin.kpis  # noqa: F401


@dataclass
class _Machine:
    """What the product footprints read of a machine (:func:`twin.carbon.footprint`)."""

    processing_s: list[float]
    setup_s: list[float]
    cleaning_s: float


@dataclass
class _Station:
    id: str
    machines: list[_Machine]
    steps: None = None
    quality: None = None


class _Report:
    """A strategy of a split run: its report merged from the parts' (:func:`_merge_reports`)."""

    def __init__(self, name: str, report: dict[str, Any]):
        self.name = name
        self._report = report

    def report(self, model: Any) -> dict[str, Any]:
        return self._report


@dataclass
class PartFigures:
    """A split run's figures worked out in the workers (read by :func:`twin.kpis.plant_kpis`)."""

    stations: dict[str, Any]
    rty: dict[str, Any]
    resources: dict[str, Any]
    in_buffers: int
    scrap: bool


class MergedFlow:
    """The lots and lot counters of all parts, as :class:`~twin.production.flow.Flow` gives them
    to the results (products in the plant's order; lots numbered in the whole plant)."""

    def __init__(self, products: list[str], units_per_lot: list[int], lots: dict[str, np.ndarray],
                 counters: dict[str, list[int]], in_system: int, wip_area: float,
                 units_by_hour: list[int], open_due: dict[str, np.ndarray]):
        from twin.production.lot_spill import LOT_CHUNK

        self.products = products
        self.units_per_lot = units_per_lot
        self._lots = lots
        for name, values in counters.items():
            setattr(self, name, values)
        self.in_system = in_system
        self._area = wip_area
        self.units_by_hour = units_by_hour
        self._open_due = open_due
        self.orders: list[str] = []
        self.lot_chunk = LOT_CHUNK
        # as a run in one process: a table of more than one chunk is written chunk by chunk
        self.spill = self if self.lots_done > LOT_CHUNK else None

    @property
    def lots_done(self) -> int:
        return int(self._lots["lot"].size)

    def mean_wip(self, t_end: float) -> float:
        return self._area / t_end if t_end > 0 else 0.0

    def open_due_s(self) -> dict[str, np.ndarray]:
        return self._open_due

    def completions(self) -> dict[str, np.ndarray]:
        return self._lots

    good_units = Flow.good_units  # the same rule on the summed counters (units lost included)

    def completion_chunks(self) -> Any:
        n, step = self.lots_done, self.lot_chunk
        if n <= step:
            yield self._lots
            return
        for k in range(0, n, step):
            yield {name: v[k : k + step] for name, v in self._lots.items()}


def _merge_reports(plant: Plant, runs: list[PartRun]) -> list[_Report]:
    """Each per-station strategy's report: its stations' rows in the plant's station order and
    its totals summed over them in that order, as the strategy sums them in one process."""
    order = [s.id for _, _, s in plant.stations()]
    out = []
    for name in runs[0].strategies:
        reports = [r.strategies[name] for r in runs]
        rows = {sid: row for rep in reports for sid, row in rep.get("stations", {}).items()}
        total: dict[str, Any] = {}
        for key, value in reports[0].get("total", {}).items():
            acc = 0.0
            for sid in order:
                if sid in rows and key in rows[sid]:
                    acc += rows[sid][key]
            total[key] = int(acc) if isinstance(value, int) else acc
        out.append(_Report(name, {"total": total,
                                  "stations": {s: rows[s] for s in order if s in rows}}))
    return out


def _merge_lots(runs: list[PartRun], pmap: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The finished lots of all parts in the order they finished (ties: part, then the part's
    own order), renumbered in the order the lots entered the plant (ties: part, then number).
    The parts' arrays are joined part by part, so a stable sort by time alone breaks the ties
    by part and then by the part's own order."""
    born = np.concatenate([r.born for r in runs])
    rank = np.empty(born.size, dtype=np.int64)
    rank[np.argsort(born, kind="stable")] = np.arange(born.size, dtype=np.int64)
    del born
    first = np.cumsum([0] + [r.born.size for r in runs])
    for r in runs:
        r.born = None
    order = np.argsort(np.concatenate([r.lots["completed_s"] for r in runs]), kind="stable")
    cols: dict[str, np.ndarray] = {}
    for name in list(runs[0].lots):  # column by column, each part's arrays let go once used
        if name == "product":
            v = np.concatenate([pmap[k][r.lots["product"]] for k, r in enumerate(runs)])
            v = v.astype(np.int32)
        elif name == "lot":
            v = rank[np.concatenate([r.lots["lot"] + first[k] for k, r in enumerate(runs)])]
        else:
            v = np.concatenate([r.lots[name] for r in runs])
        for r in runs:
            del r.lots[name]
        cols[name] = v[order]
    return cols


def assemble(plant: Plant, runs: list[PartRun], days: float, start: dt.date, seed: int,
             wall_s: float, workers: int) -> Any:
    """The whole plant's :class:`~twin.results.Result` of its parts' runs (in part order)."""
    import simpy

    from twin import engine, results
    from twin.calendar import ShiftCalendar, SiteClock, working_windows
    from twin.metering import Meter
    from twin.streams import Streams

    t_assemble = time.perf_counter()
    days = float(days)
    clock = SiteClock(plant.site.timezone, start)
    horizon = clock.horizon_s(days)
    calendar = ShiftCalendar.from_windows(working_windows(plant.calendar, clock, horizon), horizon)
    interval_s = plant.simulation.settlement_interval_min * 60.0
    equipment, tables = engine.equipment_tables(plant)
    groups = sorted({e.group for e in equipment})
    gidx = {g: k for k, g in enumerate(groups)}
    meter = Meter(np.array(tables), np.array([gidx[e.group] for e in equipment]), len(groups),
                  interval_s, horizon, chunk=1)
    merged = merge_meters(plant, runs)
    meter.interval_kwh, meter.state_s = merged.interval_kwh, merged.state_s
    meter.equipment_kwh, meter.records = merged.equipment_kwh, merged.records
    meter.closed = True
    trace_day = engine._trace_day(plant, clock, calendar, days)
    t0 = clock.seconds(trace_day, 0)
    if 0 <= t0 < horizon:
        meter.trace_window = (t0, min(clock.seconds(trace_day + dt.timedelta(days=1), 0),
                                      horizon))
        row = {e.name: k for k, e in enumerate(equipment)}
        to = [np.array([row[name] for name in r.equipment], dtype=np.int64) for r in runs]
        meter.set_trace_columns(np.concatenate([r.trace[0] for r in runs]),
                                np.concatenate([to[k][r.trace[1]] for k, r in enumerate(runs)]),
                                np.concatenate([r.trace[2] for r in runs]))

    products = [p.id for p in plant.products]
    pidx = {p: k for k, p in enumerate(products)}
    pmap = [np.array([pidx[p] for p in r.products], dtype=np.int64) for r in runs]
    counters: dict[str, list[int]] = {}
    for name in ("released", "assembled", "completed", "consumed", "scrapped", "lost"):
        total = [0] * len(products)
        for k, r in enumerate(runs):
            for j, v in enumerate(r.counters[name]):
                total[int(pmap[k][j])] += v
        counters[name] = total
    units_by_hour = np.sum([np.asarray(r.units_by_hour, dtype=np.int64) for r in runs],
                           axis=0).tolist()
    area = 0.0
    for r in runs:  # in part order (a float sum: see the module doc)
        area += r.wip_area
    open_due = {"product": np.concatenate([pmap[k][r.open_due["product"]]
                                           for k, r in enumerate(runs)]).astype(np.int32),
                "due_s": np.concatenate([r.open_due["due_s"] for r in runs])}
    flow = MergedFlow(products, [p.units_per_lot for p in plant.products],
                      _merge_lots(runs, pmap), counters, sum(r.in_system for r in runs), area,
                      units_by_hour, open_due)

    by_station = {sid: (r, k) for k, r in enumerate(runs) for sid in r.stations}
    order = [s.id for _, _, s in plant.stations()]
    machines: dict[str, list[_Machine]] = {sid: [] for sid in order}
    for k, r in enumerate(runs):
        for sid, proc, setup, clean in r.machines:
            p_full, s_full = [0.0] * len(products), [0.0] * len(products)
            for j, g in enumerate(pmap[k].tolist()):
                p_full[g], s_full[g] = proc[j], setup[j]
            machines[sid].append(_Machine(p_full, s_full, clean))
    mid = None
    if all(r.mid_in_station is not None for r in runs):
        pos = {sid: (k, j) for k, r in enumerate(runs) for j, sid in enumerate(r.stations)}
        mid = [runs[pos[sid][0]].mid_in_station[pos[sid][1]] for sid in order]  # type: ignore
    figures = PartFigures(
        stations={sid: by_station[sid][0].stations[sid] for sid in order},
        rty={p: v for r in runs for p, v in r.rty.items()},
        resources={rid.id: res for rid in plant.resources for r in runs
                   for rr, res in r.resources.items() if rr == rid.id},
        in_buffers=sum(r.in_buffers for r in runs), scrap=any(r.scrap for r in runs))

    streams = Streams(seed)
    streams.names = sorted({n for r in runs for n in r.streams})
    ems = info = None
    if plant.energy is not None:
        from twin.energy.ems import EMS
        from twin.energy.supply import build_supply

        supply, policy, info = build_supply(plant, clock, horizon, interval_s)
        ems = EMS(None, None, supply, policy, horizon, live=False)
    model = engine.Model(plant, simpy.Environment(), clock, horizon, seed, calendar, meter, flow,
                         equipment, groups, [_Station(sid, machines[sid]) for sid in order],
                         streams, [], ems, {}, info, trace_day)
    model.days = days
    model.mid_in_station = mid
    model.part_figures = figures
    model.strategies = _merge_reports(plant, runs)
    if ems is not None:
        ems.policy.bind(model)
        ems.settle_from_meter(meter)
    t_collect = time.perf_counter()
    result = results.collect(model, wall_s, sum(r.events for r in runs))
    peaks: dict[int, float] = {}
    for r in runs:
        peaks[r.pid] = max(peaks.get(r.pid, 0.0), r.peak_rss_mb)
    result.manifest["parts"] = {
        "parts": len(runs), "workers": workers,
        "part_wall_clock_s": round(sum(r.wall_s for r in runs), 3),
        "part_cpu_s": round(sum(r.cpu_s for r in runs), 3),
        "assemble_s": round(time.perf_counter() - t_assemble, 3),
        "collect_s": round(time.perf_counter() - t_collect, 3),
        "worker_peak_rss_mb": round(sum(peaks.values()), 1) if workers > 1 else None,
    }
    return result
