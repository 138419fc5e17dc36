"""Heat and utility supply by hand: heat-led CHP with a boiler behind it, compressed air from a
load/unload compressor, the capacity charge, building HVAC by degree-hours.

Each plant has no production work (lots arrive once a year), so the equipment sits starved all
the time and draws its idle power: loads are constant and every number below is arithmetic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import const, make_plant, station

import twin
from twin.energy.synthetic_weather import synthetic_weather

YEARLY = const(365, unit="h")  # one lot per year: the machine is starved (idle power) all run


def _idle_plant(power: dict, **sections) -> twin.Plant:
    kiln = {"id": "kiln", "power_kw": power}
    return make_plant([station("s", const(60), equipment="kiln")], equipment_types=[kiln],
                      interarrival=YEARLY, **sections)


def test_heat_led_chp_then_boiler_and_grid_by_hand():
    # The kiln draws 20 kW electricity and 100 kW heat, day and night.
    # CHP: heat up to 80 kW, eta_el 0.35, eta_th 0.50 -> fuel 80 / 0.5 = 160 kW,
    #      electricity 160 * 0.35 = 56 kW (heat-led, first in the merit order).
    # Boiler: the other 20 kW heat at eta 0.9 -> gas 22.222 kW.
    # Electricity: demand 20 kW < CHP 56 kW -> 36 kW surplus; export limit 10 kW ->
    #      export 10 kW, curtail 26 kW, import 0.
    # Per 15-min interval: CHP 14 kWh, gas (160 + 20/0.9) / 4 = 45.5556 kWh, export 2.5 kWh.
    energy = {
        "chp": [{"id": "chp", "capacity_kw": 80, "electric_efficiency": 0.35,
                 "thermal_efficiency": 0.5}],
        "boilers": [{"id": "boiler", "capacity_kw": 50, "efficiency": 0.9}],
        "grid": {"export_limit_kw": 10, "gas_price_per_kwh": 0.3},
    }
    plant = _idle_plant({"electricity": {"idle": 20}, "heat": {"idle": 100}}, energy=energy)
    iv = twin.simulate(plant, days=1).intervals
    np.testing.assert_allclose(iv["chp_kwh"], 14.0, rtol=1e-12)
    np.testing.assert_allclose(iv["fuel_kwh"], (160 + 20 / 0.9) / 4, rtol=1e-12)
    np.testing.assert_allclose(iv["electricity_demand_kwh"], 5.0, rtol=1e-12)
    np.testing.assert_allclose(iv["grid_export_kwh"], 2.5, rtol=1e-12)
    np.testing.assert_allclose(iv["curtailed_kwh"], 6.5, rtol=1e-12)
    np.testing.assert_allclose(iv["grid_import_kwh"], 0.0, atol=1e-12)
    assert (iv["heat_unmet_kwh"] == 0).all()
    k = twin.simulate(plant, days=1).kpis
    assert k["gas_cost"] == pytest.approx(24 * (160 + 20 / 0.9) * 0.3, rel=1e-9)
    assert k["renewable_electricity_share"] == 0.0  # CHP is onsite but not renewable


def test_heat_beyond_the_plant_is_unmet_and_warned():
    energy = {"boilers": [{"id": "boiler", "capacity_kw": 60, "efficiency": 1.0}]}
    plant = _idle_plant({"electricity": {"idle": 1}, "heat": {"idle": 100}}, energy=energy)
    res = twin.simulate(plant, days=1)
    np.testing.assert_allclose(res.intervals["heat_unmet_kwh"], 10.0, rtol=1e-12)  # 40 kW / 4
    assert any("heat demand exceeded" in w for w in res.kpis["warnings"])


def test_compressed_air_power_from_the_loaded_fraction():
    # Demand 6 m3/min plus leaks of 25 % of delivery: delivery 6 / 0.75 = 8 m3/min of 10 ->
    # loaded 80 % of the time: 0.8 * 75 + 0.2 * 25 = 65 kW. Off shift only leaks: 0.5 m3/min
    # -> 0.5 / 0.75 / 10 = 1/15 loaded: 75/15 + 25 * 14/15 = 28.333 kW.
    air = {"capacity_m3_min": 10, "p_load_kw": 75, "p_unload_kw": 25, "demand_m3_min": 6,
           "off_demand_m3_min": 0.5, "leak_fraction": 0.25}
    calendar = {"shifts": {"day": {"start": "08:00", "end": "16:00"}},
                "week": {d: ["day"] for d in ("mon", "tue", "wed", "thu", "fri")}}
    plant = _idle_plant({"electricity": {"idle": 0}},
                        base_loads=[{"id": "air", "group": "utilities", "compressed_air": air,
                                     "schedule": "shifts"}],
                        calendar=calendar)
    hourly = twin.simulate(plant, days=1, start="2026-01-05").hourly  # a Monday
    air_kwh = hourly["electricity_kwh:utilities"].to_numpy()
    np.testing.assert_allclose(air_kwh[8:16], 65.0, rtol=1e-12)
    np.testing.assert_allclose(np.r_[air_kwh[:8], air_kwh[16:]], 75 / 15 + 25 * 14 / 15,
                               rtol=1e-12)


def test_undersized_compressor_is_a_config_error():
    air = {"capacity_m3_min": 5, "p_load_kw": 40, "p_unload_kw": 10, "demand_m3_min": 6}
    with pytest.raises(twin.ConfigError, match="compressed_air"):
        _idle_plant({"electricity": {"idle": 0}},
                    base_loads=[{"id": "air", "group": "utilities", "compressed_air": air}])


def test_capacity_charge_for_a_whole_month():
    # 1,000 kVA x 20 CNY/(kVA month), January simulated in full: 20,000 CNY.
    energy = {"grid": {"tariff": {"preset": "flat", "flat_price_per_kwh": 0.5,
                                  "capacity_charge_per_kva_month": 20, "contracted_kva": 1000}}}
    plant = _idle_plant({"electricity": {"idle": 10}}, energy=energy)
    k = twin.simulate(plant, days=31, start="2026-01-01").kpis
    assert k["capacity_cost"] == pytest.approx(20_000.0, rel=1e-12)
    assert k["energy_cost"] == pytest.approx(10 * 24 * 31 * 0.5, rel=1e-9)
    assert k["cost_total"] == pytest.approx(20_000.0 + 3_720.0, rel=1e-9)


@pytest.mark.parametrize(("start", "expected"), [
    # 7 days of January's 31 at 20,000 CNY per month: 20,000 x 7/31 = 4,516.13 CNY
    ("2026-01-01", 20_000.0 * 7 / 31),
    # across a month boundary, 2026-01-28 to 02-04: 4 of January's 31 days and 3 of February's
    # 28: 20,000 x (4/31 + 3/28) = 2,580.65 + 2,142.86 = 4,723.50 CNY
    ("2026-01-28", 20_000.0 * (4 / 31 + 3 / 28)),
])
def test_capacity_charge_for_part_months(start, expected):
    energy = {"grid": {"tariff": {"preset": "flat", "flat_price_per_kwh": 0.5,
                                  "capacity_charge_per_kva_month": 20, "contracted_kva": 1000}}}
    plant = _idle_plant({"electricity": {"idle": 10}}, energy=energy)
    k = twin.simulate(plant, days=7, start=start).kpis
    assert k["capacity_cost"] == pytest.approx(expected, rel=1e-12)
    assert round(k["capacity_cost"], 2) == {"2026-01-01": 4516.13, "2026-01-28": 4723.50}[start]
    assert k["cost_total"] == pytest.approx(expected + 10 * 24 * 7 * 0.5, rel=1e-9)


def test_building_hvac_follows_degree_hours():
    # Heating below 18 degC and cooling above 26 degC, UA 5 kW/K, COPs 3 and 4: the electricity
    # of each hour is 5 * max(0, 18 - T) / 3 + 5 * max(0, T - 26) / 4 with T the hour's air
    # temperature of the (synthetic) weather.
    weather = {"synthetic": {"annual_clearness": 0.5, "daily_temp_swing_c": 10,
                             "monthly_temp_c": [2, 4, 9, 15, 20, 25, 30, 29, 24, 17, 10, 4]}}
    energy = {"weather": weather,
              "building_hvac": {"ua_kw_per_k": 5, "heating_cop": 3, "cooling_cop": 4}}
    plant = _idle_plant({"electricity": {"idle": 1}}, energy=energy)
    res = twin.simulate(plant, days=3, start="2026-07-20")
    temp = synthetic_weather(plant.site.latitude, plant.site.longitude, plant.site.timezone,
                             res.hourly.index, annual_clearness=0.5,
                             monthly_temp_c=weather["synthetic"]["monthly_temp_c"],
                             daily_temp_swing_c=10, seed=0)["temp_air"].to_numpy()
    expected = 5 * np.maximum(0, 18 - temp) / 3 + 5 * np.maximum(0, temp - 26) / 4
    assert expected.sum() > 10  # a July week in this climate needs cooling
    np.testing.assert_allclose(res.hourly["electricity_kwh:building_hvac"], expected, rtol=1e-9)
    np.testing.assert_allclose(res.hourly["electricity_demand_kwh"], 1 + expected, rtol=1e-9)


def test_cold_storage_then_chiller_then_unmet_by_hand():
    # 100 kW of cooling all day; a chiller of 80 kW at COP 4; an ice store of 100 kWh, 40 kW,
    # half full. No tariff: every interval is 'flat', never a charging period, so the store
    # discharges first: 40 kW = 10 kWh per 15 min, the chiller gives 60 kW = 15 kWh for
    # 3.75 kWh of electricity. The 50 kWh last 5 intervals; then the chiller runs at 80 kW
    # (20 kWh, 5 kWh electricity) and 5 kWh an interval are unmet.
    energy = {"chillers": [{"id": "ch", "capacity_kw": 80, "cop_rated": 4}],
              "cold_storage": [{"id": "ice", "energy_kwh": 100, "power_kw": 40}]}
    plant = _idle_plant({"electricity": {"idle": 0}, "cooling": {"idle": 100}}, energy=energy)
    iv = twin.simulate(plant, days=0.25).intervals
    el = iv["electricity_kwh:energy_plant"].to_numpy()
    np.testing.assert_allclose(el[:5], 3.75, rtol=1e-12)
    np.testing.assert_allclose(el[5:], 5.0, rtol=1e-12)
    np.testing.assert_allclose(iv["cold_storage_kwh"].to_numpy()[:5], [40, 30, 20, 10, 0],
                               atol=1e-9)
    np.testing.assert_allclose(iv["cooling_unmet_kwh"].to_numpy()[5:], 5.0, rtol=1e-12)
    assert (iv["cooling_unmet_kwh"].to_numpy()[:5] == 0).all()


def test_heat_pump_cop_from_a_datasheet_table():
    # Source at a constant 10 degC; the table gives COP 3 at 0 degC and 5 at 20 degC -> 4.
    # 40 kW of heat -> 10 kW of electricity on top of the machine's 2 kW.
    energy = {"heat_pumps": [{"id": "hp", "capacity_kw": 60, "source": "constant",
                              "source_temp_c": 10,
                              "cop_table": {"source_temp_c": [0, 20], "cop": [3, 5]}}]}
    plant = _idle_plant({"electricity": {"idle": 2}, "heat": {"idle": 40}}, energy=energy)
    hourly = twin.simulate(plant, days=1).hourly
    np.testing.assert_allclose(hourly["electricity_kwh:energy_plant"], 10.0, rtol=1e-12)
    np.testing.assert_allclose(hourly["electricity_demand_kwh"], 12.0, rtol=1e-12)


def test_tariff_not_in_force_is_a_clear_cli_error(tmp_path, capsys):
    from twin.cli import main

    text = (Path(__file__).resolve().parent.parent / "plant_configs" / "demo_plant.yaml"
            ).read_text(encoding="utf-8").replace("start: 2026-03-02", "start: 2025-01-06")
    plant_file = tmp_path / "early.yaml"
    plant_file.write_text(text, encoding="utf-8")
    code = main(["run", str(plant_file), "--days", "1", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert "energy.grid.tariff" in err and "applies from 2025-06-01" in err
    assert "apply_outside_validity" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()
    # the escape hatch named in the message works
    plant_file.write_text(text.replace("      preset: jiangsu_2025",
                                       "      preset: jiangsu_2025\n"
                                       "      apply_outside_validity: true"), encoding="utf-8")
    assert main(["run", str(plant_file), "--days", "1", "--out", str(tmp_path / "run")]) == 0


def test_pv_of_a_shorter_last_interval_is_scaled_to_its_length():
    # The run ends at 12:25: the last interval is 12:15-12:25 (10 min) in the same hour as the
    # full 12:00-12:15 interval, and PV power is constant within the hour -> ratio 10/15.
    weather = {"synthetic": {"annual_clearness": 0.6, "daily_temp_swing_c": 8,
                             "monthly_temp_c": [5, 7, 11, 16, 21, 25, 29, 28, 24, 18, 12, 7]}}
    energy = {"weather": weather, "pv": [{"id": "roof", "dc_kwp": 100, "tilt_deg": 20}]}
    plant = _idle_plant({"electricity": {"idle": 1}}, energy=energy)
    iv = twin.simulate(plant, days=(12 * 60 + 25) / 1440, start="2026-06-01").intervals
    full, last = iv["pv_kwh"].iloc[-2], iv["pv_kwh"].iloc[-1]
    assert full > 1.0
    assert last == pytest.approx(full * 10 / 15, rel=1e-12)


def test_a_run_shorter_than_one_settlement_interval(tmp_path):
    # 0.01 d = 14.4 min: one (partial) 15-min interval; the demand charge must still be priced.
    from twin.cli import main

    demo = Path(__file__).resolve().parent.parent / "plant_configs" / "demo_plant.yaml"
    assert main(["run", str(demo), "--days", "0.01", "--out", str(tmp_path / "run")]) == 0
    k = twin.Result.load(tmp_path / "run").kpis
    assert k["simulated_days"] == 0.01 and k["demand_cost"] >= 0
