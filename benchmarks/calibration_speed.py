"""How fast ``twin calibrate`` fits the demo plant, and how close it comes to the truth.

Case: ``simulations/demo_calibration.yaml`` as shipped: 182 days of 15-min meters (five meters,
synthetic: a perturbed copy of the demo plant, another seed, 2 % noise and faults, made by
``simulations/meters/make_demo_meter.py``), 3 replications, 7 parameters (6 power figures, fitted
exactly from the time per state, and the welding robots' mean process time, searched with the
simulation in the loop), 28 held-out days. Also the same with the 6 power figures only, and
``--no-fit``; the 7-parameter fit also with 2 worker processes (``--jobs 2``, the CLI's default
on 2 cores). Target (issue 11): the 7-parameter fit under 60 s on 2 cores (judged on the
one-process figure); power parameters about one simulation per replication.

Medians of ``--reps`` fits in this process (imports and the first build warmed up by a
one-day run first). Usage: python benchmarks/calibration_speed.py [--reps N]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAL = ROOT / "simulations" / "demo_calibration.yaml"


def _truth() -> dict[str, float]:
    spec = importlib.util.spec_from_file_location(
        "make_demo_meter", ROOT / "simulations" / "meters" / "make_demo_meter.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod.TRUE


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    import twin
    from twin.calibration.run import calibrate
    from twin.config.calibration import load_calibration

    cal = load_calibration(CAL)
    twin.simulate(cal.plant, days=1)  # warm up imports and caches
    power_only = dataclasses.replace(
        cal, parameters=[p for p in cal.parameters if p.kind == "linear"])
    cases = [("no fit (compare only)", cal, False, 1), ("6 power parameters", power_only, True, 1),
             ("7 parameters, 2 worker processes", cal, True, 2),
             ("7 parameters (6 power + weld time)", cal, True, 1)]
    truth = _truth()
    print(f"python {platform.python_version()}, {platform.machine()}, twin {twin.__version__}")
    print(f"{'case':<38}{'median [s]':>11}{'runs':>6}{'s/run':>7}")
    last = None
    for name, c, fit, jobs in cases:
        walls = []
        for _ in range(args.reps):
            t = time.perf_counter()
            last = calibrate(c, fit=fit, jobs=jobs)
            walls.append(time.perf_counter() - t)
        med = statistics.median(walls)
        print(f"{name:<38}{med:>11.1f}{last.runs:>6}{med / last.runs:>7.2f}")
    target = 60.0
    print(f"7-parameter fit in one process: {med:.1f} s (target < {target:.0f} s): "
          f"{'PASS' if med < target else 'FAIL'}")
    print(f"\n{'parameter':<72}{'plant':>7}{'fitted':>9}{'+-':>7}{'true':>7}")
    for p in last.parameters:
        std = "" if p["std"] is None else f"{p['std']:.2f}"
        print(f"{p['path']:<72}{p['before']:>7g}{p['after']:>9.2f}{std:>7}"
              f"{truth.get(p['path'], float('nan')):>7g}")
    print("\nG14 (CV(RMSE) / NMBE hourly, %): before -> after (held-out)")
    for meter in last.metrics["before"]:
        b, a, h = (last.metrics[s][meter] for s in ("before", "after", "holdout"))
        print(f"  {meter:<14} {b['cv_rmse_hourly_pct']:5.1f} / {b['nmbe_hourly_pct']:5.1f} -> "
              f"{a['cv_rmse_hourly_pct']:5.1f} / {a['nmbe_hourly_pct']:5.1f}  "
              f"({h['cv_rmse_hourly_pct']:5.1f} / {h['nmbe_hourly_pct']:5.1f})")


if __name__ == "__main__":
    main()
