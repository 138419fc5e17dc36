"""What the digitalization strategies do to the demo plant over a year: smart standby (defaults)
and predictive maintenance, against the plant as configured, on paired seeds (common random
numbers); the mean of each paired difference with its 95 % confidence interval (Student t), and
the wall time of each run.

The predictive-maintenance parameters below are ILLUSTRATIVE (no published detection rate, lead
time or planned repair time applies to the demo plant's machines); replace them with your own.

Usage: python benchmarks/digital_strategies.py [--reps N] [--days D]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
from scipy import stats

import twin
from twin.config.plant import StrategyConfig

ROOT = Path(__file__).resolve().parent.parent
PDM = {"type": "predictive_maintenance", "detection_rate": 0.7, "lead_time_h": 4,
       "repair_factor": 0.6}
SCENARIOS = {"smart_standby": [{"type": "smart_standby"}], "predictive_maintenance": [PDM]}


def measures(res: twin.Result) -> dict[str, float]:
    """The KPIs compared, from one run."""
    k = res.kpis
    machines = res.equipment[res.equipment["kind"] == "machine"]
    cols = [c for c in machines.columns if c.endswith("_kwh")]
    out = {
        "machine final energy [MWh]": float(machines[cols].to_numpy().sum()) / 1000,
        "site electricity [MWh]": k["electricity_kwh"] / 1000,
        "natural gas [MWh]": k["natural_gas_kwh"] / 1000,
        "total cost [kCNY]": k["cost_total"] / 1000,
        "CO2 scope 1+2 location [t]": (k["co2_scope1_kg"] + k["co2_scope2_location_kg"]) / 1000,
        "units completed": k["units_completed"],
        "mean lead time [h]": k["mean_lead_time_h"],
        "cnc availability (KPI)": k["stations"]["cnc"]["availability"],
    }
    pdm = k["strategies"].get("predictive_maintenance")
    if pdm:
        out["cnc availability (planned repairs as downtime)"] = pdm["stations"]["cnc"][
            "availability_all_stops"]
    else:  # without planned repairs both definitions agree
        out["cnc availability (planned repairs as downtime)"] = out["cnc availability (KPI)"]
    return out


def ci(x: np.ndarray) -> str:
    if x.size < 2:
        return f"{x.mean():+.4g}"
    half = stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return f"{x.mean():+.4g} ± {half:.2g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--days", type=float, default=365)
    args = ap.parse_args()
    plant = twin.load_plant(ROOT / "plant_configs" / "demo_plant.yaml")
    rows: dict[str, dict[str, list[float]]] = {}
    walls: dict[str, list[float]] = {}
    for seed in range(args.reps):
        for name, strategies in {"baseline": [], **SCENARIOS}.items():
            p = plant.model_copy(update={"strategies": [StrategyConfig(**s) for s in strategies]})
            t0 = time.perf_counter()
            res = twin.simulate(p, days=args.days, seed=seed)
            walls.setdefault(name, []).append(time.perf_counter() - t0)
            for key, v in measures(res).items():
                rows.setdefault(name, {}).setdefault(key, []).append(v)
    print(f"demo plant, {args.days:g} days, {args.reps} paired seeds; "
          "baseline mean, and each strategy's paired difference (mean ± 95 % CI half-width)\n")
    keys = list(rows["baseline"])
    head = ["KPI", "baseline", *SCENARIOS]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for key in keys:
        base = np.array(rows["baseline"][key])
        cells = [key, f"{base.mean():.5g}"]
        for name in SCENARIOS:
            cells.append(ci(np.array(rows[name][key]) - base))
        print("| " + " | ".join(cells) + " |")
    print("\nwall time per run [s]: " + ", ".join(
        f"{n} {np.median(w):.1f}" for n, w in walls.items()))


if __name__ == "__main__":
    main()
