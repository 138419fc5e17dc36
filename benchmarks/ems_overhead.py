"""How much the energy-management system (EMS) and energy accounting add to a year's run of the
demo plant: the same plant with and without its ``energy:`` block, alternated, medians.

Two measures:

* **core** (in one process, imports warm): each phase of :func:`twin.simulate` (build, run,
  collect) by wall clock and by the process's CPU time (``time.process_time``); on a machine
  shared with other work the wall times inflate and the CPU times are the more reliable figure
  (the CPU share, CPU / wall, says how busy the machine was). The carbon factor table's memory
  of lookups is emptied before every run, as in a fresh process.
* **as a user runs it** (``--cli``, on by default): what ``twin run`` does, in a fresh process
  per run: imports, load, simulate, save the run folder, write the dashboard.

Usage: python benchmarks/ems_overhead.py [--reps N] [--days D] [--no-cli]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import twin
from twin import engine, results
from twin.carbon.factors import default_factors

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("build", "run", "collect")


def once(plant: twin.Plant, days: float) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each phase of one simulation: build, run, collect."""
    default_factors()._memo.clear()  # as in a fresh process
    gc.collect()  # every run from a collected heap (the last run's garbage is not its cost)
    w0, c0 = time.perf_counter(), time.process_time()
    model = engine.build(plant, days, plant.simulation.start, plant.simulation.seed)
    w1, c1 = time.perf_counter(), time.process_time()
    engine.run(model, progress=False)
    w2, c2 = time.perf_counter(), time.process_time()
    results.collect(model, w2 - w1, engine.events_processed(model.env))
    w3, c3 = time.perf_counter(), time.process_time()
    return [(w1 - w0, c1 - c0), (w2 - w1, c2 - c1), (w3 - w2, c3 - c2)]


CLI_PHASES = ("import", "load", "simulate", "save", "dashboard")


# a fresh interpreter: time the imports `twin run` needs, then the rest in _child
CHILD = """import sys, time
t0 = time.perf_counter()
import twin, twin.dashboard
t1 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
import ems_overhead
ems_overhead._child(sys.argv[2], float(sys.argv[3]), sys.argv[4], t1 - t0)
"""


def _child(variant: str, days: float, out: str, import_s: float) -> None:
    """One ``twin run`` as the CLI does it, in a fresh process (:data:`CHILD`); prints the
    phases' wall times as JSON. ``variant``: ``with`` (the demo plant, the LP bound off) or
    ``without`` (no energy block)."""
    from twin.dashboard import write_dashboard

    t1 = time.perf_counter()
    plant = _variants(twin.load_plant(ROOT / "plant_configs" / "demo_plant.yaml"))[variant]
    t2 = time.perf_counter()
    result = twin.simulate(plant, days=days, progress=None)
    t3 = time.perf_counter()
    path = result.save(Path(out), overwrite=True)
    t4 = time.perf_counter()
    write_dashboard(path)
    t5 = time.perf_counter()
    print(json.dumps({"import": import_s, "load": t2 - t1, "simulate": t3 - t2,
                      "save": t4 - t3, "dashboard": t5 - t4}))


def _variants(demo: twin.Plant) -> dict[str, twin.Plant]:
    """The demo plant with its energy block (the LP bound off, as every run by default), with
    the peak guards (``protect_peak``, ``shave_peak``), with the bound, and without the energy
    block."""
    assert demo.energy is not None
    dispatch = demo.energy.dispatch.model_copy(update={"bound": False})

    def with_dispatch(**update: bool) -> twin.Plant:
        return demo.model_copy(update={"energy": demo.energy.model_copy(update={
            "dispatch": dispatch.model_copy(update=update)})})

    return {"with": with_dispatch(), "protect": with_dispatch(protect_peak=True),
            "shave": with_dispatch(shave_peak=True), "bound": with_dispatch(bound=True),
            "without": demo.model_copy(update={"energy": None})}


def cli(reps: int, days: float) -> None:
    """``twin run`` of the demo plant with and without its energy block, each in a fresh
    process, alternated; medians of every phase."""
    rows: dict[str, list[dict[str, float]]] = {"without": [], "with": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(reps):
            for variant in rows:
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, str(Path(__file__).parent), variant,
                     str(days), str(Path(tmp) / variant)],
                    check=True, capture_output=True, text=True)
                rows[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"\nAs a user runs it (`twin run`: a fresh process each, {reps} alternated "
          f"repetitions), wall time, medians:\n")
    print("| | " + " | ".join(f"{p} [s]" for p in CLI_PHASES) + " | total [s] |")
    print("|---|" + "---:|" * (len(CLI_PHASES) + 1))
    total = {}
    for k, name in (("without", "without energy block"), ("with", "with energy block")):
        med = [statistics.median(r[p] for r in rows[k]) for p in CLI_PHASES]
        total[k] = statistics.median(sum(r.values()) for r in rows[k])
        print(f"| {name} | " + " | ".join(f"{x:.3f}" for x in med) + f" | {total[k]:.3f} |")
    tw, tn = total["with"], total["without"]
    print(f"\nThe energy block adds {tw - tn:.3f} s = {100 * (tw / tn - 1):.0f} % to `twin run` "
          f"(weather, PV, EMS, accounting, their imports and dashboard sections)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--days", type=float, default=365)
    ap.add_argument("--no-cli", action="store_true", help="skip the fresh-process `twin run`")
    args = ap.parse_args()
    demo = twin.load_plant(ROOT / "plant_configs" / "demo_plant.yaml")
    # the EMS and accounting as every run has them; the perfect-foresight LP bound (an opt-in
    # analysis, energy.dispatch.bound) is timed apart
    plants = _variants(demo)
    with_energy, with_bound, without = plants["with"], plants["bound"], plants["without"]
    once(with_energy, 2)  # warm imports (pvlib) and cached tables outside the timings
    once(without, 2)
    rows: dict[str, list[list[tuple[float, float]]]] = {
        "without": [], "with": [], "protect": [], "shave": [], "bound": []}
    for _ in range(args.reps):
        for k in ("without", "with", "protect", "shave"):
            rows[k].append(once(plants[k], args.days))
    # the bound's runs apart, after the others: HiGHS leaves worker threads busy for a while
    # after a solve, which took CPU from the run that followed it when the three alternated
    once(with_bound, 2)
    for _ in range(args.reps):
        rows["bound"].append(once(with_bound, args.days))
    print(f"demo_plant.yaml, {args.days:g} days, {args.reps} alternated repetitions, "
          f"{dt.date.today()}")
    total: dict[tuple[str, int], float] = {}
    for m, label in ((0, "wall"), (1, "CPU")):
        print(f"\n{label} time, medians:\n")
        print("| | build [s] | run [s] | collect [s] | total [s] |")
        print("|---|---:|---:|---:|---:|")
        for k, name in (("without", "without energy block"), ("with", "with energy block"),
                        ("protect", "with energy block, protect_peak"),
                        ("shave", "with energy block, shave_peak"),
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
        # the phases' medians: build holds the weather and PV chain (pvlib's solar position,
        # clear sky, transposition), run the EMS (settled after the run), collect the accounting
        ph = {k: [statistics.median(r[i][m] for r in rows[k]) for i in range(3)]
              for k in ("with", "without", "protect", "shave")}
        ems = {k: (ph[k][1] + ph[k][2]) - (ph["without"][1] + ph["without"][2])
               for k in ("with", "protect", "shave")}
        sky = ph["with"][0] - ph["without"][0]
        print(f"{label}: EMS and accounting (run + collect) add {ems['with']:.3f} s = "
              f"{100 * ems['with'] / tn:.1f} % (target 10 %; with protect_peak "
              f"{100 * ems['protect'] / tn:.1f} %, with shave_peak "
              f"{100 * ems['shave'] / tn:.1f} %); weather and PV (build) add {sky:.3f} s = "
              f"{100 * sky / tn:.1f} %; the whole energy block {tw - tn:.3f} s = "
              f"{100 * (tw / tn - 1):.1f} %; the perfect-foresight bound another "
              f"{total[('bound', m)] - tw:.3f} s")
    if not args.no_cli:
        cli(args.reps, args.days)


if __name__ == "__main__":
    main()
