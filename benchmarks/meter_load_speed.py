"""Time to read and clean a year of meter data (``twin.measured.load_meters``).

Writes synthetic meter files to a temporary folder: a year of 15-min readings of 20 meters
(wide CSV and Parquet), and a year of 1-min readings of 3 meters (wide CSV, and long CSV), then
times ``load_meters`` (median of 3). Run: ``python benchmarks/meter_load_speed.py``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from twin.measured import MeterSpec, load_meters


def _frame(step_min: int, n_meters: int) -> pd.DataFrame:
    t = pd.date_range("2026-01-01", "2027-01-01", freq=f"{step_min}min", inclusive="left")
    rng = np.random.default_rng(1)
    hour = t.hour.to_numpy()
    level = np.where((hour >= 6) & (hour < 22), 60.0, 5.0) * step_min / 15
    data = {f"m{k}": np.round(level * (1 + 0.02 * rng.standard_normal(len(t))), 3)
            for k in range(n_meters)}
    return pd.DataFrame({"timestamp": t.strftime("%Y-%m-%d %H:%M"), **data})


def _time(spec: MeterSpec, folder: Path) -> float:
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        load_meters(spec, folder, "Asia/Shanghai", 900)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        for step, n in ((15, 20), (1, 3)):
            df = _frame(step, n)
            cols = {c: {"group": "g"} for c in df.columns[1:]}
            df.to_csv(folder / "wide.csv", index=False)
            size = (folder / "wide.csv").stat().st_size / 1e6
            s = MeterSpec.model_validate({"file": "wide.csv", "columns": cols})
            print(f"{len(df)} rows x {n} meters, {step}-min, wide CSV ({size:.0f} MB): "
                  f"{_time(s, folder):.2f} s")
            if step == 15:
                pq = df.assign(timestamp=pd.to_datetime(df["timestamp"]))
                pq.to_parquet(folder / "wide.parquet")
                s = MeterSpec.model_validate({"file": "wide.parquet", "columns": cols})
                print(f"  same as Parquet: {_time(s, folder):.2f} s")
            else:
                long = df.melt(id_vars="timestamp", var_name="meter", value_name="kwh")
                long.to_csv(folder / "long.csv", index=False)
                s = MeterSpec.model_validate({"file": "long.csv", "columns": cols,
                                              "format": "long", "meter_id": "meter",
                                              "value": "kwh"})
                print(f"  same as long CSV ({len(long)} rows): {_time(s, folder):.2f} s")


if __name__ == "__main__":
    main()
