"""How fast the perfect-foresight dispatch LP (twin.energy.optimal) solves a year.

Cases (one site, one battery; inputs ILLUSTRATIVE, chosen like the PyPSA case of
``research/energy_anchors.md`` section 5.1 so the times compare):

1. one year hourly (8,760 steps): a two-shift factory load, 1 MWdc rooftop PV (pvlib PVWatts on the
   twin's synthetic Shanghai weather), a 500 kW / 1 MWh battery, the Jiangsu 2025 two-part TOU
   import tariff and a feed-in price; objective: energy cost - export revenue;
2. the same year at 15-min settlement (35,040 steps) with a monthly demand charge;
3. (``--rolling``) a year's simulation of ``plant_configs/demo_plant.yaml`` with the
   ``rolling_lp`` policy (24 h horizon, re-solved every 4 h: 2,190 solves), against the same run
   with its own ``tou_arbitrage`` policy.

Build (arrays -> sparse matrices) and solve (HiGHS via ``scipy.optimize.linprog``) are timed
separately; medians of ``--reps`` solves. Usage: python benchmarks/lp_dispatch.py [--reps N]
[--rolling]
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy

from twin.energy import pv, tariff
from twin.energy.optimal import BatteryParams, optimal_dispatch
from twin.energy.synthetic_weather import synthetic_weather

ROOT = Path(__file__).resolve().parent.parent
TZ, LAT, LON = "Asia/Shanghai", 31.23, 121.47
MONTHLY_TEMP_C = [4.8, 6.6, 10.4, 15.9, 21.0, 24.9, 29.0, 28.7, 25.0, 19.8, 13.8, 7.4]
"""ILLUSTRATIVE monthly means for Shanghai [degC], only to drive the PV temperature model."""


def case(step_min: int) -> dict:
    """Inputs of one year at ``step_min`` resolution (ILLUSTRATIVE factory, not a default)."""
    index = pd.date_range("2026-01-01", periods=365 * 24 * 60 // step_min,
                          freq=f"{step_min}min", tz=TZ)
    hours = pd.date_range("2026-01-01", periods=8760, freq="h", tz=TZ)
    weather = synthetic_weather(LAT, LON, TZ, hours, annual_clearness=0.5,
                                monthly_temp_c=MONTHLY_TEMP_C, daily_temp_swing_c=7, seed=1)
    pv_kw = pv.pv_ac_kw(weather, LAT, LON, tilt_deg=20, azimuth_deg=180, dc_kwp=1000).to_numpy()
    per_hour = 60 // step_min
    dt_h = step_min / 60.0
    pv_kwh = np.repeat(pv_kw, per_hour) * dt_h
    local = index.tz_localize(None)
    h = local.hour.to_numpy()
    workday = local.day_of_week.to_numpy() < 5
    shifts = workday & (h >= 6) & (h < 22)  # two shifts on workdays
    load_kwh = np.where(shifts, 900.0, 250.0) * dt_h
    tou = tariff.load_preset("jiangsu_2025", "two_part")
    price = np.asarray(tariff.energy_price(index, tou, 0.45, 0.2, check_validity=False))
    peaks = tariff.monthly_peak_demand(np.zeros(len(index)), index)
    month = np.repeat(np.arange(len(peaks)), peaks["intervals"].to_numpy())
    return {"load": load_kwh, "gen": pv_kwh, "dt": dt_h, "price": price, "month": month}


BATTERY = BatteryParams(energy_kwh=1000, power_kw=500, charge_efficiency=0.95,
                        discharge_efficiency=0.95, soc_min_frac=0.1, soc_max_frac=0.95,
                        initial_soc_kwh=500)
FEED_IN = 0.1  # ILLUSTRATIVE [CNY/kWh], below every import price of the tariff
DEMAND_RATE = 40.0  # ILLUSTRATIVE [CNY/(kW month)], as in plant_configs/demo_plant.yaml


def solve(c: dict, demand: bool):
    return optimal_dispatch(
        c["load"], c["gen"], c["dt"], [BATTERY], price=c["price"], feed_in_price=FEED_IN,
        export_limit_kw=1000, month=c["month"] if demand else None,
        demand_rate=np.full(c["month"].max() + 1, DEMAND_RATE) if demand else None)


def timed(c: dict, demand: bool, reps: int) -> dict:
    runs = []
    for _ in range(reps):
        t = time.perf_counter()
        r = solve(c, demand)
        runs.append((r.build_s, r.solve_s, time.perf_counter() - t, r))
    last = runs[-1][3]
    return {"steps": len(c["load"]), "build": statistics.median(x[0] for x in runs),
            "solve": statistics.median(x[1] for x in runs),
            "total": statistics.median(x[2] for x in runs),
            "all": [round(x[2], 2) for x in runs], "cost": last.cost,
            "demand": last.parts.demand_cost, "iterations": last.iterations,
            "variables": 6 * len(c["load"]) + (12 if demand else 0),
            "simultaneous": last.simultaneous_intervals}


def rolling_year() -> None:
    import twin
    from twin import engine, results

    plant = twin.load_plant(ROOT / "plant_configs" / "demo_plant.yaml")
    print("\n| demo_plant.yaml, 365 d | policy run [s] | collect + bound [s] | LP solves | "
          "dispatch cost [CNY] | regret [CNY] |")
    print("|---|---:|---:|---:|---:|---:|")
    for policy in ("tou_arbitrage", "rolling_lp"):
        d = plant.energy.dispatch.model_copy(update={"policy": policy})
        p = plant.model_copy(update={"energy": plant.energy.model_copy(update={"dispatch": d})})
        t0 = time.perf_counter()
        m = engine.build(p, 365, p.simulation.start, p.simulation.seed)
        engine.run(m, progress=False)
        t1 = time.perf_counter()
        k = results.collect(m, t1 - t0, 0).kpis
        t2 = time.perf_counter()
        print(f"| {policy} | {t1 - t0:.2f} | {t2 - t1:.2f} | {k.get('dispatch_lp_solves', 0)} | "
              f"{k['dispatch_cost']:,.0f} | {k['dispatch_regret']:,.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rolling", action="store_true", help="also time a year with rolling_lp")
    args = ap.parse_args()
    print(f"dispatch LP, {dt.date.today()}, Python {platform.python_version()}, scipy "
          f"{scipy.__version__} (HiGHS), {args.reps} solves each, medians")
    print("\n| case | steps | variables | build [s] | solve [s] | total [s] | every total [s] | "
          "objective [CNY] | of which demand | simplex iterations |")
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for label, step, demand in (("year hourly, TOU + feed-in", 60, False),
                                ("year 15-min, TOU + feed-in + demand charge", 15, True)):
        r = timed(case(step), demand, args.reps)
        print(f"| {label} | {r['steps']:,} | {r['variables']:,} | {r['build']:.3f} | "
              f"{r['solve']:.3f} | {r['total']:.3f} | {r['all']} | {r['cost']:,.0f} | "
              f"{r['demand']:,.0f} | {r['iterations']:,} |")
        if r["simultaneous"]:
            print(f"  (warning: {r['simultaneous']} intervals import and export at once)")
    print("\nTarget: the hourly year in under 2 s (PyPSA: about 2 s on such a case).")
    if args.rolling:
        rolling_year()


if __name__ == "__main__":
    main()
