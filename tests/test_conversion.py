"""Conversion functions against hand-computed values, for scalars, arrays and Series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.energy.conversion import (
    boiler_fuel_kwh,
    chiller_cop,
    chiller_cop_carnot,
    chiller_electricity_kwh,
    chp_electricity_led,
    chp_from_fuel,
    chp_heat_led,
    compressor_loaded_fraction,
    compressor_power_kw,
    cop_carnot,
    cop_from_table,
    electric_boiler_kwh,
    heat_pump_electricity_kwh,
    hvac_load_kw,
)

# ------------------------------------------------------------------ heat pumps


def test_cop_carnot_hand_value():
    # Sink 60 °C, source 10 °C, grade 0.4: 0.4 * 333.15 / 50 = 2.6652.
    assert cop_carnot(60.0, 10.0, 0.4) == pytest.approx(2.6652, abs=1e-12)
    assert isinstance(cop_carnot(60, 10, 0.4), float)


def test_cop_carnot_array_and_series():
    sink = np.array([60.0, 35.0])
    out = cop_carnot(sink, 10.0, 0.4)
    np.testing.assert_allclose(out, [2.6652, 0.4 * 308.15 / 25], rtol=1e-12)
    s = pd.Series([10.0, 20.0], index=pd.date_range("2026-01-01", periods=2, freq="h"))
    out = cop_carnot(60.0, s, 0.4)
    assert isinstance(out, pd.Series) and out.index.equals(s.index)
    np.testing.assert_allclose(out.to_numpy(), [2.6652, 0.4 * 333.15 / 40], rtol=1e-12)


def test_cop_carnot_no_lift_raises_or_caps():
    with pytest.raises(ValueError, match="no lift"):
        cop_carnot(20.0, 20.0, 0.4)
    with pytest.raises(ValueError, match="no lift"):
        cop_carnot(np.array([60.0, 5.0]), 10.0, 0.4)
    assert cop_carnot(20.0, 25.0, 0.4, cop_max=8.0) == 8.0
    # Small lift: 0.5 * 308.15 / 5 = 30.8 -> capped at 8.
    assert cop_carnot(35.0, 30.0, 0.5, cop_max=8.0) == 8.0
    np.testing.assert_allclose(cop_carnot(np.array([60.0, 5.0]), 10.0, 0.4, cop_max=8.0),
                               [2.6652, 8.0])
    with pytest.raises(ValueError, match="quality_grade"):
        cop_carnot(60.0, 10.0, 1.5)


def test_cop_carnot_icing():
    # Source 0 °C < 2 °C threshold: 0.8 * 0.4 * 308.15 / 35 = 2.817371...
    assert cop_carnot(35.0, 0.0, 0.4, icing_factor=0.8) == pytest.approx(0.8 * 0.4 * 308.15 / 35)
    assert cop_carnot(35.0, 2.0, 0.4, icing_factor=0.8) == pytest.approx(0.4 * 308.15 / 33)
    out = cop_carnot(35.0, np.array([0.0, 2.0]), 0.4, icing_factor=0.8)
    np.testing.assert_allclose(out, [0.8 * 0.4 * 308.15 / 35, 0.4 * 308.15 / 33])


def test_chiller_cop_carnot():
    # Chilled water 7 °C, outdoor 35 °C, grade 0.3: 0.3 * 280.15 / 28 = 3.0016.
    assert chiller_cop_carnot(7.0, 35.0, 0.3) == pytest.approx(3.001607142857, abs=1e-12)
    np.testing.assert_allclose(chiller_cop_carnot(7.0, np.array([35.0, 21.0]), 0.3),
                               [0.3 * 280.15 / 28, 0.3 * 280.15 / 14])
    with pytest.raises(ValueError, match="no lift"):
        chiller_cop_carnot(7.0, 5.0, 0.3)
    assert chiller_cop_carnot(7.0, 5.0, 0.3, cop_max=9.0) == 9.0


def test_cop_from_table():
    t, c = (-10.0, 0.0, 10.0), (2.0, 3.0, 4.0)
    assert cop_from_table(5.0, t, c) == pytest.approx(3.5)
    assert cop_from_table(-7.5, t, c) == pytest.approx(2.25)
    assert cop_from_table(0.0, t, c) == 3.0
    assert cop_from_table(-30.0, t, c) == 2.0  # held at the ends
    assert cop_from_table(30, t, c) == 4.0
    x = np.array([-30.0, -7.5, 5.0, 30.0])
    np.testing.assert_allclose(cop_from_table(x, t, c), [2.0, 2.25, 3.5, 4.0])
    np.testing.assert_allclose([cop_from_table(float(v), t, c) for v in x], np.interp(x, t, c))
    with pytest.raises(ValueError, match="increasing"):
        cop_from_table(1.0, (0.0, 0.0), (2.0, 3.0))
    with pytest.raises(ValueError, match="equal length"):
        cop_from_table(1.0, (0.0, 1.0), (2.0,))
    with pytest.raises(ValueError, match="> 0"):
        cop_from_table(1.0, (0.0, 1.0), (2.0, 0.0))


def test_chiller_cop_linear():
    # Rated 3.0 at 35 °C, -3 %/K: at 30 °C 3 * (1 + 0.15) = 3.45; at 40 °C 3 * 0.85 = 2.55.
    assert chiller_cop(30.0, 3.0, -0.03) == pytest.approx(3.45)
    assert chiller_cop(40.0, 3.0, -0.03) == pytest.approx(2.55)
    assert chiller_cop(35.0, 3.0, -0.03) == 3.0
    assert chiller_cop(80.0, 3.0, -0.03) == 1.0  # 3 * (1 - 1.35) < 0 -> floor
    assert chiller_cop(0.0, 3.0, -0.03, cop_max=5.0) == 5.0  # 3 * 2.05 = 6.15 -> cap
    np.testing.assert_allclose(chiller_cop(np.array([30.0, 40.0, 80.0]), 3.0, -0.03),
                               [3.45, 2.55, 1.0])


def test_electricity_from_cop():
    assert heat_pump_electricity_kwh(100.0, 2.5) == pytest.approx(40.0)
    assert chiller_electricity_kwh(300.0, 3.0) == pytest.approx(100.0)
    np.testing.assert_allclose(heat_pump_electricity_kwh(np.array([100.0, 50.0]), 2.5), [40, 20])
    np.testing.assert_allclose(chiller_electricity_kwh(30.0, np.array([3.0, 2.0])), [10, 15])
    with pytest.raises(ValueError, match="cop"):
        heat_pump_electricity_kwh(100.0, 0.0)
    with pytest.raises(ValueError, match="heat_kwh"):
        heat_pump_electricity_kwh(-1.0, 3.0)


# ------------------------------------------------------------------ boilers and CHP


def test_boilers():
    # 90 kWh of heat at 90 % (LHV) needs 100 kWh of fuel; 98 kWh from an electric boiler at 98 %.
    assert boiler_fuel_kwh(90.0, 0.9) == pytest.approx(100.0)
    assert boiler_fuel_kwh(105.0, 1.05) == pytest.approx(100.0)  # condensing, LHV basis
    assert electric_boiler_kwh(98.0, 0.98) == pytest.approx(100.0)
    np.testing.assert_allclose(boiler_fuel_kwh(np.array([0.0, 45.0]), 0.9), [0.0, 50.0])
    for bad in (0.0, 1.3):
        with pytest.raises(ValueError, match="efficiency"):
            boiler_fuel_kwh(1.0, bad)
    with pytest.raises(ValueError, match="efficiency"):
        electric_boiler_kwh(1.0, 1.01)
    with pytest.raises(ValueError, match="heat_kwh"):
        boiler_fuel_kwh(np.array([1.0, -1.0]), 0.9)


def test_chp():
    # η_el 0.40, η_th 0.45: 100 kWh fuel -> 40 kWh electricity + 45 kWh heat.
    el, th = chp_from_fuel(100.0, 0.40, 0.45)
    assert (el, th) == (pytest.approx(40.0), pytest.approx(45.0))
    fuel, el = chp_heat_led(45.0, 0.40, 0.45)  # 45 / 0.45 = 100; 0.40 * 100 = 40
    assert (fuel, el) == (pytest.approx(100.0), pytest.approx(40.0))
    fuel, th = chp_electricity_led(40.0, 0.40, 0.45)  # 40 / 0.40 = 100; 0.45 * 100 = 45
    assert (fuel, th) == (pytest.approx(100.0), pytest.approx(45.0))
    fuel, el = chp_heat_led(np.array([0.0, 90.0]), 0.40, 0.45)
    np.testing.assert_allclose(fuel, [0.0, 200.0])
    np.testing.assert_allclose(el, [0.0, 80.0])
    with pytest.raises(ValueError, match="electrical_efficiency \\+ thermal_efficiency"):
        chp_from_fuel(1.0, 0.5, 0.8)


# ------------------------------------------------------------------ compressed air


def test_compressor_load_unload_by_hand():
    # Demand 6 m³/min, 20 % of delivered air leaks: deliver 6 / 0.8 = 7.5 m³/min of 10 -> loaded
    # 75 % of the time. Power 0.75 * 75 + 0.25 * 25 = 62.5 kW.
    assert compressor_loaded_fraction(6.0, 10.0, 0.2) == pytest.approx(0.75)
    assert compressor_power_kw(6.0, 10.0, 75.0, 25.0, 0.2) == pytest.approx(62.5)
    # No demand: unloaded all the time.
    assert compressor_power_kw(0.0, 10.0, 75.0, 25.0) == 25.0
    # Demand beyond capacity: loaded fraction 1.5 reported, power capped at full load.
    assert compressor_loaded_fraction(12.0, 10.0) == pytest.approx(1.2)
    assert compressor_loaded_fraction(12.0, 10.0, 0.2) == pytest.approx(1.5)
    assert compressor_power_kw(12.0, 10.0, 75.0, 25.0, 0.2) == 75.0
    np.testing.assert_allclose(
        compressor_power_kw(np.array([0.0, 6.0, 12.0]), 10.0, 75.0, 25.0, 0.2), [25, 62.5, 75])
    with pytest.raises(ValueError, match="leak_fraction"):
        compressor_power_kw(1.0, 10.0, 75.0, 25.0, 1.0)
    with pytest.raises(ValueError, match="p_unload_kw"):
        compressor_power_kw(1.0, 10.0, 25.0, 75.0)


# ------------------------------------------------------------------ building HVAC


def test_hvac_load_by_hand():
    # UA 2 kW/K, bases 18 / 26 °C: 8 °C -> 2 * 10 = 20 kW heating; 30 °C -> 2 * 4 = 8 kW cooling.
    assert hvac_load_kw(8.0, 2.0) == (20.0, 0.0)
    assert hvac_load_kw(30.0, 2.0) == (0.0, 8.0)
    assert hvac_load_kw(20.0, 2.0) == (0.0, 0.0)
    assert hvac_load_kw(30.0, 2.0, ua_cool_kw_per_k=3.0) == (0.0, 12.0)
    with pytest.raises(ValueError, match="balance point"):
        hvac_load_kw(10.0, 2.0, t_base_heat_c=20.0, t_base_cool_c=18.0)


def test_hvac_load_series_sums_to_ua_times_degree_hours():
    t = pd.Series([-2.0, 8.0, 17.0, 22.0, 27.5, 33.0],
                  index=pd.date_range("2026-07-01", periods=6, freq="h"))
    heat, cool = hvac_load_kw(t, 1.5)
    assert isinstance(heat, pd.Series) and heat.index.equals(t.index)
    # Heating degree-hours (base 18): 20 + 10 + 1 = 31; cooling (base 26): 1.5 + 7 = 8.5.
    assert heat.sum() == pytest.approx(1.5 * 31)
    assert cool.sum() == pytest.approx(1.5 * 8.5)
