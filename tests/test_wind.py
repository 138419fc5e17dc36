"""Wind speed height correction, air density and power curves (twin.energy.wind).

Expected values are worked out by hand in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from twin.energy.wind import (
    STANDARD_AIR_DENSITY,
    air_density,
    density_normalized_speed,
    hub_wind_speed,
    power_curve_kw,
    turbine_names,
    turbine_power_curve,
)


def test_log_law_hand_values():
    # 5 m/s at 10 m, hub 80 m, z0 = 0.1 m: 5 ln(800) / ln(100) = 5 * 6.684612 / 4.605170
    assert hub_wind_speed(5.0, 10.0, 80.0, 0.1) == pytest.approx(7.2577250, abs=1e-6)
    # Obstacles of 10 m displace the profile by d = 7 m: 5 ln(730) / ln(30)
    assert hub_wind_speed(5.0, 10.0, 80.0, 0.1, obstacle_height_m=10.0) == pytest.approx(
        9.6922404, abs=1e-6
    )
    # Same height: unchanged; the default roughness is 0.1 m.
    assert hub_wind_speed(4.2, 10.0, 10.0) == pytest.approx(4.2)
    assert hub_wind_speed(5.0, 10.0, 80.0) == hub_wind_speed(5.0, 10.0, 80.0, 0.1)


def test_log_law_keeps_series_and_arrays():
    v = pd.Series([0.0, 2.0, 4.0], index=pd.date_range("2025-01-01", periods=3, freq="h"))
    out = hub_wind_speed(v, 10.0, 50.0, 0.3)
    assert isinstance(out, pd.Series)
    assert out.index.equals(v.index)
    factor = math.log(50 / 0.3) / math.log(10 / 0.3)
    np.testing.assert_allclose(out.to_numpy(), v.to_numpy() * factor)
    arr = hub_wind_speed(np.array([1.0, 3.0]), 10.0, 50.0, 0.3)
    np.testing.assert_allclose(arr, [factor, 3 * factor])


def test_log_law_rejects_heights_inside_the_roughness_layer():
    with pytest.raises(ValueError, match="z_ref_m"):
        hub_wind_speed(5.0, 0.05, 80.0, 0.1)
    with pytest.raises(ValueError, match="hub_height_m"):
        hub_wind_speed(5.0, 20.0, 10.0, 0.1, obstacle_height_m=14.2)
    with pytest.raises(ValueError, match="roughness_length_m"):
        hub_wind_speed(5.0, 10.0, 80.0, 0.0)


CURVE_V = [3.0, 4.0, 5.0, 12.0]
CURVE_P = [0.0, 10.0, 30.0, 100.0]


@pytest.mark.parametrize(
    ("v", "expected"),
    [
        (2.9, 0.0),  # below cut-in
        (3.0, 0.0),
        (3.5, 5.0),  # halfway between 0 and 10
        (4.5, 20.0),  # halfway between 10 and 30
        (8.5, 65.0),  # halfway between 30 and 100
        (12.0, 100.0),
        (12.5, 0.0),  # beyond the last curve point, no cut-out given
    ],
)
def test_power_curve_interpolates_between_hand_points(v, expected):
    assert power_curve_kw(v, CURVE_V, CURVE_P) == pytest.approx(expected)


def test_power_curve_cut_out_holds_rated_then_stops():
    v = np.array([12.0, 20.0, 25.0, 25.01, 30.0, np.nan])
    out = power_curve_kw(v, CURVE_V, CURVE_P, cut_out_mps=25.0)
    np.testing.assert_array_equal(out[:5], [100.0, 100.0, 100.0, 0.0, 0.0])
    assert np.isnan(out[5])
    # A cut-out inside the curve stops it early.
    assert power_curve_kw(8.0, CURVE_V, CURVE_P, cut_out_mps=7.0) == 0.0


def test_power_curve_series_in_series_out_and_bad_curves():
    v = pd.Series([3.5, 4.5], name="wind")
    out = power_curve_kw(v, CURVE_V, CURVE_P)
    assert isinstance(out, pd.Series)
    assert out.name == "wind"
    np.testing.assert_allclose(out.to_numpy(), [5.0, 20.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        power_curve_kw(5.0, [3, 5, 4], [0, 1, 2])
    with pytest.raises(ValueError, match=">= 0"):
        power_curve_kw(5.0, [3, 4, 5], [0, -1, 2])
    with pytest.raises(ValueError, match="equal-length"):
        power_curve_kw(5.0, [3, 4, 5], [0, 1])


def test_air_density_and_iec_normalisation():
    # ISO standard atmosphere at sea level: 101325 / (287.058 * 288.15) = 1.22498 kg/m3
    assert air_density(15.0) == pytest.approx(1.22498, abs=1e-5)
    assert air_density(np.array([0.0]), 90000.0)[0] == pytest.approx(90000 / (287.058 * 273.15))
    # Normalisation keeps the kinetic power: rho v^3 = rho0 vn^3.
    assert density_normalized_speed(8.0, STANDARD_AIR_DENSITY) == pytest.approx(8.0)
    rho = STANDARD_AIR_DENSITY * 0.9**3
    assert density_normalized_speed(10.0, rho) == pytest.approx(9.0)


def test_bundled_curves_read_with_their_source():
    assert turbine_names() == ["NREL_2017COE_MarketAverage_2.3MW", "NREL_2019COE_DW100_100kW"]
    dw100 = turbine_power_curve("NREL_2019COE_DW100_100kW")
    assert dw100.rated_power_kw == 100 and dw100.hub_height_m == 40 and dw100.cut_out_mps == 25
    assert "2019COE_DW100_100kW_27.6.csv" in dw100.source
    assert "BSD-3-Clause" in dw100.source
    # Source table: 8 m/s -> 73.139 kW, 9 m/s -> 90.828 kW, 25 m/s -> 41.333 kW.
    curve = (dw100.speeds_mps, dw100.power_kw, dw100.cut_out_mps)
    assert power_curve_kw(8.5, *curve) == pytest.approx((73.139 + 90.828) / 2)
    assert power_curve_kw(25.0, *curve) == pytest.approx(41.333)
    assert power_curve_kw(25.5, *curve) == 0.0
    assert power_curve_kw(1.5, *curve) == 0.0
    assert power_curve_kw(2.5, *curve) == pytest.approx(2.160 / 2)  # table: 2 -> 0, 3 -> 2.16
    market = turbine_power_curve("NREL_2017COE_MarketAverage_2.3MW")
    mcurve = (market.speeds_mps, market.power_kw, market.cut_out_mps)
    # Source table: 3.25 m/s -> 52.9054 kW, 3.5 m/s -> 74.3347 kW; rated 2,320 kW to 25 m/s.
    assert power_curve_kw(3.375, *mcurve) == pytest.approx((52.9054 + 74.3347) / 2)
    assert power_curve_kw(24.9, *mcurve) == pytest.approx(2320.0)
    assert power_curve_kw(25.1, *mcurve) == 0.0
    with pytest.raises(ValueError, match="no bundled power curve 'E-82'"):
        turbine_power_curve("E-82")
