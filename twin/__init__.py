"""Factory twin: a plant in YAML -> discrete-event simulation -> exact hourly energy, cost, CO2.

>>> import twin
>>> plant = twin.load_plant("plant_configs/demo_plant.yaml")   # doctest: +SKIP
>>> result = twin.simulate(plant, days=7, seed=1)               # doctest: +SKIP
>>> result.hourly["electricity_demand_kwh"].sum()               # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("factory-twin")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

from twin.config import ConfigError, Plant, load_plant
from twin.results import Result

__all__ = ["ConfigError", "Plant", "Result", "__version__", "load_plant", "simulate"]


def simulate(
    plant: Plant,
    days: float | None = None,
    start: dt.date | str | None = None,
    seed: int | None = None,
    progress: bool | None = False,
    jobs: int = 1,
) -> Result:
    """Simulate ``plant`` and return its :class:`Result`.

    Parameters
    ----------
    plant : Plant
        From :func:`load_plant`.
    days : float, optional
        Simulated period [d]; default ``plant.simulation.days``.
    start : date or 'YYYY-MM-DD', optional
        First simulated day (from local midnight); default ``plant.simulation.start``.
    seed : int, optional
        Seed of all random streams; default ``plant.simulation.seed``.
    progress : bool or None
        Progress bar on stderr: True always, False never, None when stderr is a terminal and the
        run takes more than a few seconds.
    jobs : int
        Worker processes: above 1, a plant whose lines split into independent parts
        (:func:`twin.partition.find_parts`, ``simulation.partition: auto``) runs its parts in
        parallel and gives the same results as one process (:mod:`twin.parallel`).
    """
    from twin import engine, results

    days = plant.simulation.days if days is None else float(days)
    if days <= 0:
        raise ValueError(f"days must be > 0, got {days}")
    if start is None:
        start = plant.simulation.start
    elif isinstance(start, str):
        start = dt.date.fromisoformat(start)
    seed = plant.simulation.seed if seed is None else int(seed)
    if jobs > 1:
        from twin.parallel import simulate_split, split_plan

        partition, _ = split_plan(plant, jobs)
        if partition is not None:
            return simulate_split(plant, partition, days, start, seed, jobs, progress)
    model = engine.build(plant, days, start, seed)
    wall = engine.run(model, progress)
    return results.collect(model, wall, engine.events_processed(model.env))
