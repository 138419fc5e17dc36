"""One SPA evaluation per build: the sun is computed once and shared by the synthetic weather and
every PV array; only the refraction is redone for each air temperature. Both must equal what
pvlib computes afresh, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.energy import pv
from twin.energy.synthetic_weather import synthetic_weather
from twin.energy.weather import interval_midpoints

HOURS = pd.date_range("2026-03-01", periods=24 * 20, freq="h", tz="Asia/Shanghai")


@pytest.mark.parametrize("altitude_m", [0.0, 1902.0])
def test_refraction_redone_equals_a_fresh_spa_run(altitude_m):
    mid = interval_midpoints(HOURS)
    temp = np.linspace(-15.0, 42.0, len(mid))
    fresh = pv.solar_position_at(mid, 25.0, 102.7, altitude_m, temp)
    shared = pv.refracted(pv.solar_position_at(mid, 25.0, 102.7, altitude_m), altitude_m, temp)
    for col in fresh.columns:
        assert np.array_equal(fresh[col].to_numpy(), shared[col].to_numpy()), col
    # and the refraction is real: at 12 degC it differs from -15 degC near the horizon
    base = pv.solar_position_at(mid, 25.0, 102.7, altitude_m)
    assert not np.array_equal(base["apparent_zenith"].to_numpy(),
                              fresh["apparent_zenith"].to_numpy())


def test_weather_and_pv_with_a_shared_sun_are_unchanged():
    mid = interval_midpoints(HOURS)
    sun = pv.solar_position_at(mid, 31.3, 120.6, 12.0)
    kw = {"annual_clearness": 0.5, "seed": 4, "altitude_m": 12.0}
    alone = synthetic_weather(31.3, 120.6, "Asia/Shanghai", HOURS, **kw)
    shared = synthetic_weather(31.3, 120.6, "Asia/Shanghai", HOURS, solar_position=sun, **kw)
    pd.testing.assert_frame_equal(alone, shared, check_exact=True)
    args = {"tilt_deg": 20, "azimuth_deg": 180, "dc_kwp": 600, "altitude_m": 12.0}
    a = pv.pv_ac_kw(alone, 31.3, 120.6, **args)
    b = pv.pv_ac_kw(alone, 31.3, 120.6, solar_position=sun, **args)
    assert a.sum() > 1000
    pd.testing.assert_series_equal(a, b, check_exact=True)
    with pytest.raises(ValueError, match="midpoints"):
        pv.pv_ac_kw(alone, 31.3, 120.6, solar_position=sun.iloc[1:], **args)
