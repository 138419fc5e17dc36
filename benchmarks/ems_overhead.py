"""How much the energy-management system (EMS) and energy accounting add to a year's run of the
demo plant: the same plant with and without its ``energy:`` block, alternated, medians.

Usage: python benchmarks/ems_overhead.py [--reps N] [--days D]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from pathlib import Path

import twin
from twin import engine, results

ROOT = Path(__file__).resolve().parent.parent


def once(plant: twin.Plant, days: float) -> tuple[float, float, float]:
    """(build, run, collect) wall seconds of one simulation."""
    t0 = time.perf_counter()
    model = engine.build(plant, days, plant.simulation.start, plant.simulation.seed)
    t1 = time.perf_counter()
    engine.run(model, progress=False)
    t2 = time.perf_counter()
    results.collect(model, t2 - t1, engine.events_processed(model.env))
    return t1 - t0, t2 - t1, time.perf_counter() - t2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--days", type=float, default=365)
    args = ap.parse_args()
    with_energy = twin.load_plant(ROOT / "plant_configs" / "demo_plant.yaml")
    without = with_energy.model_copy(update={"energy": None})
    once(with_energy, 2)  # warm imports (pvlib) outside the timings
    rows: dict[str, list[tuple[float, float, float]]] = {"without": [], "with": []}
    for _ in range(args.reps):
        rows["without"].append(once(without, args.days))
        rows["with"].append(once(with_energy, args.days))
    med = {k: [statistics.median(r[i] for r in v) for i in range(3)] for k, v in rows.items()}
    print(f"demo_plant.yaml, {args.days:g} days, {args.reps} alternated repetitions, "
          f"{dt.date.today()}")
    print("| | build [s] | run [s] | collect [s] | total [s] |")
    print("|---|---:|---:|---:|---:|")
    for k in ("without", "with"):
        b, r, c = med[k]
        print(f"| {k} energy block | {b:.3f} | {r:.3f} | {c:.3f} | {b + r + c:.3f} |")
    tw, tn = sum(med["with"]), sum(med["without"])
    print(f"\nEMS and accounting add {tw - tn:.3f} s = {100 * (tw / tn - 1):.0f} % of the total "
          f"(run alone: {100 * (med['with'][1] / med['without'][1] - 1):.0f} %); target 10 %")


if __name__ == "__main__":
    main()
