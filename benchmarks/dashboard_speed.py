"""How long writing the run dashboard takes: ``write_dashboard(run_dir)`` on three run folders.

The folders are a year of the demo plant with its energy supply (the perfect-foresight LP bound
switched off: it changes the KPIs, not the page's work), the same year without the ``energy:``
block, and four weeks of the battery-cell plant. They are simulated into a temporary folder
first, unless given with ``--runs``.

Two figures per folder:

- warm: the median of ``--reps`` calls of ``write_dashboard`` in this process, after one call
  that is not counted (imports and caches warm), by wall clock and by the process's CPU time
  (``time.process_time``);
- fresh process: a new interpreter doing ``import twin.dashboard; write_dashboard(D)``, spawn to
  exit, by wall clock and by the child's CPU time (user + system, from ``os.wait4``); median of
  ``--fresh`` processes.

On a machine shared with other work wall times inflate; the CPU times are the more reliable
figure. Prints a Markdown table.

Usage: python benchmarks/dashboard_speed.py [--reps N] [--fresh N] [--runs DIR DIR DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import twin
from twin.dashboard import write_dashboard

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("demo, 365 days, with energy", "demo, 365 days, no energy block",
         "battery cell, 28 days")
FRESH = "import sys, twin.dashboard; twin.dashboard.write_dashboard(sys.argv[1])"


def simulate_runs(out: Path) -> list[Path]:
    """Simulate the three benchmark runs into ``out`` and return their run folders."""
    demo = twin.load_plant(ROOT / "plant_configs" / "demo_plant.yaml")
    assert demo.energy is not None
    no_bound = demo.energy.model_copy(
        update={"dispatch": demo.energy.dispatch.model_copy(update={"bound": False})})
    cell = twin.load_plant(ROOT / "plant_configs" / "battery_cell_plant.yaml")
    plants = ((demo.model_copy(update={"energy": no_bound}), 365.0),
              (demo.model_copy(update={"energy": None}), 365.0), (cell, 28.0))
    folders = []
    for i, (plant, days) in enumerate(plants):
        result = twin.simulate(plant, days=days, progress=None)
        folders.append(result.save(out / f"run{i}", overwrite=True))
    return folders


def warm(run_dir: Path, reps: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``reps`` calls of ``write_dashboard`` after a first one."""
    write_dashboard(run_dir)
    walls, cpus = [], []
    for _ in range(reps):
        w0, c0 = time.perf_counter(), time.process_time()
        write_dashboard(run_dir)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def fresh(run_dir: Path, reps: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of a new interpreter importing the dashboard and writing it."""
    walls, cpus = [], []
    for _ in range(reps):
        w0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", FRESH, str(run_dir)])
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - w0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"dashboard_speed: child failed on {run_dir} ({proc.returncode})")
        cpus.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5, help="warm calls per folder (default 5)")
    ap.add_argument("--fresh", type=int, default=3, help="fresh processes per folder (default 3)")
    ap.add_argument("--runs", type=Path, nargs=3, metavar="DIR",
                    help="existing run folders in the order of the table (skip simulating)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dashboard_speed_") as tmp:
        folders = args.runs or simulate_runs(Path(tmp))
        rows = [(name, warm(d, args.reps), fresh(d, args.fresh))
                for name, d in zip(NAMES, folders, strict=True)]
    print(f"write_dashboard, {dt.date.today()}: warm = median of {args.reps} calls in one"
          f" process; fresh = median of {args.fresh} new processes, imports included\n")
    print("| run folder | warm wall [s] | warm CPU [s] | fresh wall [s] | fresh CPU [s] |")
    print("|---|---:|---:|---:|---:|")
    for name, (ww, wc), (fw, fc) in rows:
        print(f"| {name} | {ww:.3f} | {wc:.3f} | {fw:.3f} | {fc:.3f} |")


if __name__ == "__main__":
    main()
