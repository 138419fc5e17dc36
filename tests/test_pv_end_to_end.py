"""The twin's hourly PV, from a plant file with a weather file, equals pvlib's own ModelChain
(PVWatts models) run on the same TMY3 file that pvlib ships (Greensboro, NC).

The plant sits at the TMY3 station in its standard time (UTC-5, the file's own clock), is idle,
and has one 100 kWp array; a non-leap simulated year takes the typical year hour for hour.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
from conftest import const, make_plant, station
from pvlib.location import Location
from pvlib.modelchain import ModelChain
from pvlib.pvsystem import PVSystem
from pvlib.temperature import TEMPERATURE_MODEL_PARAMETERS

import twin

TMY3 = Path(pvlib.__path__[0]) / "data" / "723170TYA.CSV"


def test_twin_hourly_pv_equals_pvlib_modelchain():
    raw, meta = pvlib.iotools.read_tmy3(TMY3, coerce_year=2001, map_variables=True)
    site = {"name": "Greensboro", "timezone": "Etc/GMT+5", "latitude": meta["latitude"],
            "longitude": meta["longitude"], "altitude_m": meta["altitude"]}
    energy = {"weather": {"file": str(TMY3)},
              "pv": [{"id": "roof", "dc_kwp": 100, "tilt_deg": 30, "azimuth_deg": 180,
                      "dc_ac_ratio": 1.2, "gamma_pdc_per_c": -0.0037}]}
    plant = make_plant([station("s", const(60))], interarrival=const(365, "h"), site=site,
                       energy=energy)
    res = twin.simulate(plant, days=365, start="2026-01-01")
    ours = res.hourly["pv_kwh"].to_numpy()  # kWh in each hour = average kW

    # pvlib on its own: PVWatts DC, PVWatts losses with their defaults (14.08 %, the twin's
    # default too), PVWatts inverter with AC limit 100 / 1.2 kW at 96 % nominal efficiency,
    # Perez sky, physical IAM, SAPM open-rack cell temperature.
    system = PVSystem(
        surface_tilt=30, surface_azimuth=180, albedo=0.2,
        module_parameters={"pdc0": 100_000, "gamma_pdc": -0.0037},
        inverter_parameters={"pdc0": 100_000 / 1.2 / 0.96, "eta_inv_nom": 0.96},
        temperature_model_parameters=TEMPERATURE_MODEL_PARAMETERS["sapm"][
            "open_rack_glass_polymer"],
    )
    location = Location(meta["latitude"], meta["longitude"], tz=meta["TZ"],
                        altitude=meta["altitude"])
    chain = ModelChain.with_pvwatts(system, location, transposition_model="perez",
                                    aoi_model="physical", temperature_model="sapm")
    # The typical year's hours, in file order, are the simulated year's hours (both have 8,760);
    # the sun is computed for the simulated year, at the middle of each hour.
    weather = raw[["ghi", "dni", "dhi", "temp_air", "wind_speed"]].copy()
    weather.index = res.hourly.index.tz_convert("Etc/GMT+5") + pd.Timedelta(minutes=30)
    chain.run_model(weather)
    expected = chain.results.ac.to_numpy() / 1000.0

    assert len(ours) == len(expected) == 8760
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6)
    assert res.kpis["pv_full_load_hours"] == np.float64(ours.sum() / 100).round(9)
