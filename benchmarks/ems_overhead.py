"""How much the energy-management system (EMS) and energy accounting add to a year's run of the
demo plant: the same plant with and without its ``energy:`` block, alternated, medians.

Each phase (build, run, collect) is timed by wall clock and by the process's CPU time
(``time.process_time``); on a machine shared with other work the wall times inflate and the CPU
times are the more reliable figure (the CPU share, CPU / wall, says how busy the machine was).

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
PHASES = ("build", "run", "collect")


def once(plant: twin.Plant, days: float) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each phase of one simulation: build, run, collect."""
    w0, c0 = time.perf_counter(), time.process_time()
    model = engine.build(plant, days, plant.simulation.start, plant.simulation.seed)
    w1, c1 = time.perf_counter(), time.process_time()
    engine.run(model, progress=False)
    w2, c2 = time.perf_counter(), time.process_time()
    results.collect(model, w2 - w1, engine.events_processed(model.env))
    w3, c3 = time.perf_counter(), time.process_time()
    return [(w1 - w0, c1 - c0), (w2 - w1, c2 - c1), (w3 - w2, c3 - c2)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--days", type=float, default=365)
    args = ap.parse_args()
    demo = twin.load_plant(ROOT / "plant_configs" / "demo_plant.yaml")
    assert demo.energy is not None
    # the EMS and accounting as every run has them; the perfect-foresight LP bound (an opt-in
    # analysis, energy.dispatch.bound) is timed apart
    dispatch = demo.energy.dispatch.model_copy(update={"bound": False})
    with_energy = demo.model_copy(update={"energy": demo.energy.model_copy(
        update={"dispatch": dispatch})})
    with_bound = demo.model_copy(update={"energy": demo.energy.model_copy(update={
        "dispatch": dispatch.model_copy(update={"bound": True})})})
    without = demo.model_copy(update={"energy": None})
    once(with_energy, 2)  # warm imports (pvlib) and cached tables outside the timings
    once(without, 2)
    once(with_bound, 2)
    rows: dict[str, list[list[tuple[float, float]]]] = {"without": [], "with": [], "bound": []}
    for _ in range(args.reps):
        rows["without"].append(once(without, args.days))
        rows["with"].append(once(with_energy, args.days))
        rows["bound"].append(once(with_bound, args.days))
    print(f"demo_plant.yaml, {args.days:g} days, {args.reps} alternated repetitions, "
          f"{dt.date.today()}")
    total: dict[tuple[str, int], float] = {}
    for m, label in ((0, "wall"), (1, "CPU")):
        print(f"\n{label} time, medians:\n")
        print("| | build [s] | run [s] | collect [s] | total [s] |")
        print("|---|---:|---:|---:|---:|")
        for k, name in (("without", "without energy block"), ("with", "with energy block"),
                        ("bound", "with energy block + dispatch bound (LP)")):
            med = [statistics.median(r[i][m] for r in rows[k]) for i in range(3)]
            total[(k, m)] = statistics.median(sum(p[m] for p in r) for r in rows[k])
            print(f"| {name} | " + " | ".join(f"{x:.3f}" for x in med)
                  + f" | {total[(k, m)]:.3f} |")
    share = statistics.median(sum(p[1] for p in r) / sum(p[0] for p in r)
                              for k in rows for r in rows[k])
    print(f"\nCPU share (CPU / wall), median: {share:.2f}"
          + ("  (below 0.9: the machine was busy; trust the CPU figures)" if share < 0.9 else ""))
    for m, label in ((0, "wall"), (1, "CPU")):
        tw, tn = total[("with", m)], total[("without", m)]
        print(f"EMS and accounting add {tw - tn:.3f} s = {100 * (tw / tn - 1):.0f} % of the total "
              f"({label}); target 10 %; the perfect-foresight bound adds another "
              f"{total[('bound', m)] - tw:.3f} s")


if __name__ == "__main__":
    main()
