"""What holding flexible starts costs: the benchmark line (10 stations, 83 % utilised, buffers of
5) with its last five stations deferrable and every order due 2 h after release, under a Jiangsu
TOU tariff, run without a strategy, with peak_shaving at 85 kW and with tou_shifting; CPU time of
the run, events, deferrals, and what the strategy did to the line.

This is a stress case: the line is too busy to shift work, so nearly every start is held or forced
(the reports say so); the CPU time per deferral is the figure of interest.

Usage: python benchmarks/strategies_overhead.py [--days D] [--reps N]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from pathlib import Path

import yaml

from twin import engine, results
from twin.config import plant_from_data

ROOT = Path(__file__).resolve().parent.parent
TARIFF = {"preset": "jiangsu_2025", "customer_class": "two_part", "flat_price_per_kwh": 0.5}
CASES = {"baseline": [], "peak_shaving_85kw": [{"type": "peak_shaving", "limit_kw": 85}],
         "tou_shifting": [{"type": "tou_shifting"}]}


def plant(strategies: list[dict]) -> object:
    """The benchmark line with deferrable stations s06-s10, due dates and a tariff."""
    data = yaml.safe_load((ROOT / "plant_configs" / "benchmark_line.yaml").read_text())
    data = copy.deepcopy(data)
    data["products"][0]["due_h"] = 2
    for s in data["lines"][0]["stations"][5:]:
        s["deferrable"] = True
    data["energy"] = {"grid": {"tariff": TARIFF}}
    data["strategies"] = strategies
    return plant_from_data(data, name="benchmark_line (strategies)")


def once(p: object, days: float) -> tuple[float, int, dict]:
    """(run CPU seconds, events, kpis) of one run."""
    model = engine.build(p, days, p.simulation.start, 1)  # type: ignore[attr-defined]
    t0 = time.process_time()
    engine.run(model, progress=False)
    cpu = time.process_time() - t0
    events = engine.events_processed(model.env)
    return cpu, events, results.collect(model, cpu, events).kpis


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=30)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    plants = {name: plant(s) for name, s in CASES.items()}
    cpu: dict[str, list[float]] = {name: [] for name in CASES}
    info: dict[str, tuple[int, dict]] = {}
    for _ in range(args.reps):
        for name, p in plants.items():
            c, events, kpis = once(p, args.days)
            cpu[name].append(c)
            info[name] = (events, kpis)
    base = statistics.median(cpu["baseline"])
    print(f"{args.days:g} days, median of {args.reps} runs (CPU time of the run)")
    print(f"{'case':<20}{'cpu s':>8}{'x base':>8}{'events':>10}{'lots':>8}{'peak kW':>9}"
          f"{'on time':>9}{'deferred':>10}{'us/defer':>10}")
    for name in CASES:
        med = statistics.median(cpu[name])
        events, k = info[name]
        rep = next(iter(k["strategies"].values()), {})
        n = rep.get("starts_deferred", 0)
        per = f"{(med - base) / n * 1e6:.0f}" if n else "-"
        print(f"{name:<20}{med:>8.2f}{med / base:>8.2f}{events:>10}{k['lots_completed']:>8}"
              f"{k['peak_demand_kw']:>9.1f}{k['due_dates']['on_time_share']:>9.3f}{n:>10}{per:>10}")
        if rep:
            print(f"{'':<20}forced starts {rep['forced_starts']}, hours held "
                  f"{rep['hours_held']:.1f}")


if __name__ == "__main__":
    main()
