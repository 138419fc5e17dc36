"""How fast the sizing LP (twin.energy.sizing) solves a year at hourly resolution.

Case: the one-year hourly inputs of ``lp_dispatch.py`` (a two-shift factory load, rooftop PV on
the twin's synthetic Shanghai weather, the Jiangsu 2025 two-part TOU tariff, a feed-in price, a
monthly demand charge), with PV capacity, battery energy and battery power as candidates, cyclic
storage. Costs are ILLUSTRATIVE (the candidates of ``simulations/demo_sizing.yaml``).
Target: under 5 s (build + solve). Medians of ``--reps`` solves.

With ``--curves``, also times the cost-against-size curves of ``twin size``
(:func:`twin.sizing_study.cost_curves`: each candidate fixed at 0-150 % of its optimum, the others
re-optimised, one LP per point).

Usage: python benchmarks/sizing_speed.py [--reps N] [--method M] [--ab] [--curves]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lp_dispatch import DEMAND_RATE, FEED_IN, case

from twin.energy.optimal import BatteryParams
from twin.energy.sizing import (
    SizingCandidate,
    SizingData,
    annualised_cost_per_unit,
    solve_sizing,
)

TARGET_S = 5.0


def problem() -> tuple[SizingData, list[SizingCandidate]]:
    c = case(60)
    n = c["load"].size
    profile = c["gen"] / 1000.0  # lp_dispatch's PV is 1000 kWp: per kWp
    pv = annualised_cost_per_unit(4000, 0.06, 25, 1.0)
    e = annualised_cost_per_unit(1200, 0.06, 12, 1.0)
    p = annualised_cost_per_unit(400, 0.06, 12)
    cands = [SizingCandidate("pv", "generation", 0, 3000, *pv, 4000, profile=profile),
             SizingCandidate("battery_kwh", "battery_energy", 0, 8000, *e, 1200, item=0),
             SizingCandidate("battery_kw", "battery_power", 0, 4000, *p, 400, item=0)]
    bat = BatteryParams(1000, 500, 0.95, 0.95, 0.1, 0.95, 500)
    data = SizingData(c["load"], np.full(n, c["dt"]), c["price"], np.zeros(n), np.zeros(n),
                      [bat], feed_in_price=FEED_IN, export_limit_kw=1000, month=c["month"],
                      demand_rate=np.full(c["month"].max() + 1, DEMAND_RATE))
    return data, cands


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--method", choices=("auto", "decomposed", "monolithic"), default="auto",
                    help="how solve_sizing solves the LP (default: its own choice)")
    ap.add_argument("--ab", action="store_true",
                    help="alternate monolithic and decomposed solves, --reps of each, and quote "
                         "the ratio of their medians (for a shared machine)")
    ap.add_argument("--curves", action="store_true",
                    help="also time the cost-against-size curves around the optimum")
    args = ap.parse_args()
    data, cands = problem()
    methods = ("monolithic", "decomposed") if args.ab else (args.method,)
    walls: dict[str, list[float]] = {m: [] for m in methods}
    cpus: dict[str, list[float]] = {m: [] for m in methods}
    builds, solves, sols = [], [], {}
    for _ in range(args.reps):
        for m in methods:
            cpu0, t0 = time.process_time(), time.perf_counter()
            s = solve_sizing(data, cands, method=m)
            walls[m].append(time.perf_counter() - t0)
            cpus[m].append(time.process_time() - cpu0)
            builds.append(s.build_s)
            solves.append(s.solve_s)
            sols[m] = s
    print(f"python {platform.python_version()}, scipy {scipy.__version__}")
    for m in methods:
        s = sols[m]
        print(f"{m}: " + ", ".join(f"{k} {v:,.2f}" for k, v in s.sizes.items())
              + f"; annualised cost {s.total:,.2f} CNY/yr; solved {s.method}"
              + (f" in {s.iterations} subproblems" if s.iterations else ""))
    if args.ab:
        w = {m: statistics.median(walls[m]) for m in methods}
        c = {m: statistics.median(cpus[m]) for m in methods}
        print(f"A/B, {args.reps} alternating pairs: wall median monolithic "
              f"{w['monolithic']:.2f} s, decomposed {w['decomposed']:.2f} s "
              f"(ratio {w['decomposed'] / w['monolithic']:.2f}); "
              f"CPU median {c['monolithic']:.2f} s vs {c['decomposed']:.2f} s "
              f"(ratio {c['decomposed'] / c['monolithic']:.2f})")
        print("pairs (wall mono / deco, CPU mono / deco): " + "; ".join(
            f"{a:.2f}/{b:.2f}, {x:.2f}/{y:.2f}" for a, b, x, y in
            zip(walls["monolithic"], walls["decomposed"], cpus["monolithic"],
                cpus["decomposed"], strict=True)))
        return
    m = methods[0]
    wall = statistics.median(walls[m])
    print(f"8760 h, 3 candidates: build {statistics.median(builds):.2f} s, solve "
          f"{statistics.median(solves):.2f} s, total {wall:.2f} s (median of {args.reps}; "
          f"last run CPU share {cpus[m][-1] / walls[m][-1]:.2f}) -> "
          f"{'PASS' if wall < TARGET_S else 'MISS'} (target < {TARGET_S:g} s)")
    if args.curves:
        from twin.energy.sizing import SizingTargets
        from twin.sizing_study import SizingInputs, cost_curves

        cpu0, t0 = time.process_time(), time.perf_counter()
        curves = cost_curves(SizingInputs(data, cands, 365.0, 0, 0.0), s, SizingTargets(), True)
        wall_c, cpu_c = time.perf_counter() - t0, time.process_time() - cpu0
        n = int((~curves["optimum"]).sum())
        print(f"cost curves: {n} LPs, {wall_c:.1f} s wall, {cpu_c:.1f} s CPU "
              f"({cpu_c / max(n, 1):.2f} s CPU per LP); lowest total at the optimum: "
              f"{bool(curves['total'].min() >= s.total * (1 - 1e-6))}")


if __name__ == "__main__":
    main()
