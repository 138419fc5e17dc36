"""Make ``demo_meter_15min.csv``: SYNTHETIC meter data for ``simulations/demo_calibration.yaml``.

Not measured data. The readings are a simulation of a *perturbed copy* of the demo plant (the
"true" plant below, which the calibration does not know), with another seed than the
calibration's, multiplicative noise on every reading, and the faults real EMS exports have:
gaps, a spike, a stuck (flat-lined) meter, a duplicated row, a negative reading. Re-run with
``.venv/bin/python simulations/meters/make_demo_meter.py`` (deterministic: same bytes).

The true values (what a calibration should recover, within its noise):

=================================================================  =======  =====
field                                                              demo     true
=================================================================  =======  =====
base_loads[id=lighting].power_kw.electricity                       40       48
base_loads[id=hvac_base].power_kw.electricity                      30       26
base_loads[id=compressed_air_leaks].power_kw.electricity           12       16
equipment_types[id=machining_centre].power_kw.electricity.idle     6.5      8.0
equipment_types[id=machining_centre].power_kw.electricity.process  16       18.5
equipment_types[id=press].power_kw.electricity.processing          55       50
lines[id=body_shop].stations[id=weld].process_time.mean [min]      40       43
base_loads[id=office_it].power_kw.electricity (not fitted)         8        9.5
=================================================================  =======  =====

The last row is a model-form error the calibration cannot fit (it is not among its
parameters): the facility meter keeps a small bias after calibration, as real plants do.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

import twin
from twin.config.calibration import plant_at
from twin.config.loader import read_yaml

HERE = Path(__file__).resolve().parent
PLANT = HERE.parent.parent / "plant_configs" / "demo_plant.yaml"
OUT = HERE / "demo_meter_15min.csv"
START = dt.date(2026, 3, 2)
DAYS = 182
SEED = 1234  # the calibration runs with the plant's seed 7, 8, 9: other random draws
NOISE = 0.02  # standard deviation of the multiplicative noise per 15-min reading

TRUE = {
    "base_loads[id=lighting].power_kw.electricity": 48.0,
    "base_loads[id=hvac_base].power_kw.electricity": 26.0,
    "base_loads[id=compressed_air_leaks].power_kw.electricity": 16.0,
    "equipment_types[id=machining_centre].power_kw.electricity.idle": 8.0,
    "equipment_types[id=machining_centre].power_kw.electricity.processing": 18.5,
    "equipment_types[id=press].power_kw.electricity.processing": 50.0,
    "lines[id=body_shop].stations[id=weld].process_time.mean": 43.0,
    "base_loads[id=office_it].power_kw.electricity": 9.5,
}


def main() -> None:
    data, _ = read_yaml(PLANT)
    data["energy"]["dispatch"]["bound"] = False
    plant = plant_at(data, PLANT, TRUE)
    res = twin.simulate(plant, days=DAYS, start=START, seed=SEED)
    iv = res.intervals
    meters = pd.DataFrame({
        "facility_kwh": iv["electricity_kwh:facility"],
        "machining_kwh": iv["electricity_kwh:machining"],
        "body_shop_kwh": iv["electricity_kwh:body_shop"],
        "site_kwh": iv["electricity_demand_kwh"],
        "gas_kwh": iv["fuel_kwh"],
    }, index=iv.index)
    rng = np.random.default_rng(20261206)
    meters *= 1.0 + NOISE * rng.standard_normal(meters.shape)
    meters = meters.round(3)
    n = len(meters)
    # faults, each at a fixed place
    meters.iloc[2000:2024, meters.columns.get_loc("machining_kwh")] = np.nan  # 6 h gap
    meters.iloc[9000:9096, meters.columns.get_loc("site_kwh")] = np.nan  # a day missing
    k = meters.columns.get_loc("body_shop_kwh")
    meters.iloc[5000, k] = meters.iloc[5000, k] * 12 + 50  # a spike
    k = meters.columns.get_loc("facility_kwh")
    meters.iloc[7000:7032, k] = meters.iloc[7000, k]  # stuck for 8 h
    meters.iloc[12000, meters.columns.get_loc("gas_kwh")] = -35.0  # a negative reading
    out = meters.copy()
    out.index = out.index.map(lambda t: t.isoformat())
    out.index.name = "timestamp"
    out = pd.concat([out.iloc[:3000], out.iloc[[2999]], out.iloc[3000:]])  # a duplicated row
    out = out.drop(out.index[14000:14004])  # one hour of rows lost in the export
    assert len(out) == n - 3
    text = out.to_csv(na_rep="", lineterminator="\n")
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(out)} rows)")


if __name__ == "__main__":
    main()
