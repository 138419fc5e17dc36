"""How the spike test's threshold trades false alarms against missed glitches, on simulated meters.

The simulated plants' 15-min energy per equipment group, site demand, grid import, PV and fuel
stand in for clean meters (no glitches: every flag is a false alarm). They are taken as they are
(piecewise-constant power, no meter noise) and with 1 % Gaussian meter noise. Then glitches are
put in at 300 random readings per series (x3, x5, x10 the reading, or 10 x the series' median where
the reading is zero) and the share found is counted. Run: ``python benchmarks/meter_quality.py``.
"""

from __future__ import annotations

import numpy as np

import twin
from twin.measured.quality import flatline, spikes

PLANTS = ("demo_plant", "battery_cell_plant", "benchmark_line")
DAYS = 91
THRESHOLDS = (3.5, 5.0, 10.0)
FACTORS = (3, 5, 10)
MIN_PCT = (0.0, 50.0, 100.0)
WINDOW = 9
STEP = 900


def series() -> dict[str, np.ndarray]:
    out = {}
    for name in PLANTS:
        res = twin.simulate(twin.load_plant(f"plant_configs/{name}.yaml"), days=DAYS, seed=1)
        iv = res.intervals
        cols = [c for c in iv.columns if ":" in c] + ["electricity_demand_kwh",
                                                       "grid_import_kwh", "pv_kwh", "fuel_kwh"]
        for c in cols:
            v = iv[c].to_numpy(dtype=float)
            if c in iv and np.nansum(np.abs(v)) > 0 and (v >= 0).all():
                out[f"{name}/{c}"] = v
    return out


def main() -> None:
    data = series()
    n_read = sum(len(v) for v in data.values())
    print(f"{len(data)} series, {n_read} readings of 15 min ({DAYS} days x 3 plants)")
    for noise in (0.0, 0.01):
        rng = np.random.default_rng(11)
        noisy = {k: v * (1 + noise * rng.standard_normal(len(v))) if noise else v
                 for k, v in data.items()}
        flat = sum(int(flatline(np.arange(len(x), dtype=np.int64) * STEP, x, STEP, 16).sum())
                   for x in noisy.values())
        print(f"\nmeter noise {noise:.0%}: flatline (>= 4 h) flags {flat} readings "
              f"({flat / n_read:.2%})")
        for pct in MIN_PCT:
            false = dict.fromkeys(THRESHOLDS, 0)
            found = {(f, z): 0 for f in FACTORS for z in THRESHOLDS}
            planted = dict.fromkeys(FACTORS, 0)
            rng = np.random.default_rng(12)
            for x in noisy.values():
                t = np.arange(len(x), dtype=np.int64) * STEP
                _, z = spikes(t, x, STEP, 1e9, WINDOW, pct)
                for th in THRESHOLDS:
                    false[th] += int(np.count_nonzero(z > th))
                med = float(np.median(x[x > 0])) if (x > 0).any() else 1.0
                for f in FACTORS:
                    pos = rng.choice(np.arange(WINDOW, len(x) - WINDOW), 300, replace=False)
                    y = x.copy()
                    y[pos] = np.where(x[pos] > 0, x[pos] * f, 10 * med)
                    _, zy = spikes(t, y, STEP, 1e9, WINDOW, pct)
                    planted[f] += len(pos)
                    for th in THRESHOLDS:
                        found[(f, th)] += int(np.count_nonzero(zy[pos] > th))
            print(f"  spike_min_pct {pct:g}: threshold | false alarms (share) | found x3 | x5 "
                  "| x10")
            for th in THRESHOLDS:
                print(f"  {th:9.1f} | {false[th]:6d} ({false[th] / n_read:.3%})"
                      + "".join(f" | {found[(f, th)] / planted[f]:.1%}" for f in FACTORS))


if __name__ == "__main__":
    main()
