"""Simulate a plant's independent parts apart (in worker processes) and merge their meters.

:func:`twin.partition.find_parts` says which stations share nothing while the plant runs. Each
part is then a plant of its own (:func:`part_plant`: its lines, products, sources, resources and
base loads; no energy supply, which is balanced afterwards on the merged meters), simulated with
the same seed: its random streams are keyed by station and source names (:mod:`twin.streams`),
so it draws what it draws in the whole plant. Its meter is binned at the same fixed times
(:data:`twin.metering.FLUSH_S`) and each equipment group belongs to one part, so
:func:`merge_meters` puts every number in its place without adding anything: the merged energy
per interval, time per state and energy per equipment are the whole plant's, bit for bit
(``tests/test_parallel.py``).

What is not merged yet: the per-station KPIs, lots and strategy reports, which need the
stations' runtime state; :func:`simulate_parts` returns the merged meter and the parts' lot
counts (the parallel DES stage of issue 17, item 6).
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from twin.config.plant import Plant
from twin.equipment.states import N_CARRIERS
from twin.partition import Part, find_parts


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


@dataclass
class PartRun:
    """What a part's run hands back: its meter, by equipment and group name."""

    equipment: list[str]
    groups: list[str]
    interval_kwh: np.ndarray
    state_s: np.ndarray
    equipment_kwh: np.ndarray
    records: int
    lots_completed: int
    wall_s: float


def run_part(plant: Plant, days: float, start: dt.date, seed: int) -> PartRun:
    """Build and run one part (a plant from :func:`part_plant`); its meter."""
    from twin import engine

    model = engine.build(plant, days, start, seed)
    wall = engine.run(model, progress=False)
    m = model.meter
    return PartRun([e.name for e in model.equipment], list(model.groups), m.interval_kwh,
                   m.state_s, m.equipment_kwh, int(m.records), int(sum(model.flow.completed)),
                   wall)


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
