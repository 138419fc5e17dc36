"""Air-handling units on outdoor air (``base_loads[].air_handling``,
:mod:`twin.energy.air_handling`): heating and cooling of the outdoor air from the weather, after
heat recovery.

The truth here is independent of the code:

* the sensible heat by hand, ``Q = rho cp V dT`` with standard air (1.204 kg/m3, 1.006 kJ/(kg K);
  3.364511 kW per 10,000 m3/h and K, worked out below), and the US rule of thumb for standard
  air, ``Btu/h = 1.08 x cfm x dF`` (ASHRAE Fundamentals; 0.075 lb/ft3 x 0.24 Btu/(lb F) x 60);
* a synthetic year whose calendar-month means are the given ``monthly_temp_c`` (the generator's
  documented property) and whose every hour is below the supply set point: the year's heat is
  then the degree-hours of the monthly means, summed by hand;
* the energy balance checked from outside by ``tests/test_energy_balance.py``'s invariants.
"""

from __future__ import annotations

import calendar as cal
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import const, day_shift_calendar, make_plant, station
from test_ems_settle import soc_reader  # noqa: F401  (fixture: a strategy reading the SOC)
from test_energy_balance import check_invariants

import twin
from twin.config.errors import ConfigError
from twin.config.plant import AirHandling
from twin.energy.air_handling import air_handling_kwh, conditioning_kw

DEMO = Path(__file__).resolve().parents[1] / "plant_configs" / "demo_plant.yaml"
KW_PER_10K_M3H_K = 1.204 * 1.006 * 10_000 / 3600  # = 3.364511 kW per 10,000 m3/h and K
FT3_PER_M3 = 35.3147
W_PER_BTU_H = 0.293071


def test_sensible_heat_by_hand_with_heat_recovery() -> None:
    """10,000 m3/h at -5 degC to a 20 degC supply: 25 K = 84.11 kW without recovery; with 0.6
    effectiveness on a 20 degC exhaust the air leaves the exchanger at -5 + 0.6 x 25 = 10 degC,
    so the heater adds 10 K = 33.65 kW; at 12 degC without recovery 8 K = 26.92 kW."""
    assert pytest.approx(3.364511, rel=1e-6) == KW_PER_10K_M3H_K
    t_out = np.array([-5.0, -5.0, 12.0])
    eps = [0.0, 0.6, 0.0]
    got = [float(conditioning_kw(t, 10_000, 20.0, effectiveness=e)[0])
           for t, e in zip(t_out, eps, strict=True)]
    assert got == pytest.approx([84.1128, 33.6451, 26.9161], rel=1e-5)
    # the same as the Btu/h rule of thumb for standard air (1.08 x cfm x dF), to its rounding
    cfm = 10_000 * FT3_PER_M3 / 60
    assert got[1] == pytest.approx(1.08 * cfm * 18.0 * W_PER_BTU_H / 1000, rel=0.005)


def test_no_heating_at_or_above_the_supply_temperature() -> None:
    """Outdoor air at or above the supply set point needs no heat, and recovery that would warm
    the air past the set point is bypassed (no negative heat, no heat at all): 15 degC outdoors,
    0.6 effectiveness from a 30 degC exhaust would give 24 degC > 20."""
    heat, cool = conditioning_kw(np.array([20.0, 25.0, 38.0]), 10_000, 20.0)
    assert heat.tolist() == [0.0, 0.0, 0.0] and cool.tolist() == [0.0, 0.0, 0.0]
    heat, _ = conditioning_kw(15.0, 10_000, 20.0, effectiveness=0.6, t_exhaust_c=30.0)
    assert float(heat) == 0.0


def test_cooling_by_hand_with_a_cop() -> None:
    """10,000 m3/h at 32 degC cooled to 24 degC: 8 K = 26.92 kW of cooling, 6.73 kW of
    electricity at COP 4, 1.682 kWh in a 15-min interval; with 0.5 recovery from a 20 degC exhaust
    the air reaches the coil at 26 degC: 2 K = 6.73 kW of cooling. No heating in either."""
    spec = AirHandling(airflow_m3_h=10_000, supply_heating_c=20, supply_cooling_c=24,
                       fan_kw=5, cooling_cop=4.0)
    kwh = air_handling_kwh(spec, np.array([32.0]), np.array([900.0]), np.array([0.25]))
    assert kwh[0].tolist() == pytest.approx([8 * KW_PER_10K_M3H_K / 4 * 0.25, 0, 0, 0],
                                            rel=1e-12)
    assert kwh[0, 0] == pytest.approx(1.68226, rel=1e-5)
    heat, cool = conditioning_kw(32.0, 10_000, 20.0, 24.0, effectiveness=0.5)
    assert float(heat) == 0.0 and float(cool) == pytest.approx(6.72902, rel=1e-5)
    # between the set points: neither
    assert [float(x) for x in conditioning_kw(22.0, 10_000, 20.0, 24.0)] == [0.0, 0.0]


def _energy(monthly: list[float], swing: float = 0.0) -> dict:
    return {"weather": {"synthetic": {"annual_clearness": 0.5, "monthly_temp_c": monthly,
                                      "daily_temp_swing_c": swing}}}


def _ahu(**fields: object) -> dict:
    spec = {"airflow_m3_h": 10_000, "supply_heating_c": 20, "fan_kw": 10,
            "heating": "natural_gas", "heating_efficiency": 0.9}
    spec.update(fields)
    return spec


def test_setback_flow_and_fans_off_shift() -> None:
    """At a constant 0 degC (synthetic weather, monthly means 0, no daily swing), a unit on an
    08:00-16:00 shift: 10,000 m3/h in the shift, 2,000 m3/h outside it. Gas per hour by hand:
    20 K x 3.3645 kW / 0.9 = 74.77 kWh in a shift hour, a fifth of that outside; fans 10 kW on,
    1 kW off. Over a day: 8 x 74.77 + 16 x 14.95 kWh."""
    plant = make_plant(
        [station("m", const(60))],
        calendar=day_shift_calendar(("08:00", "16:00")),
        simulation={"start": "2026-03-02", "days": 1, "seed": 1},
        base_loads=[{"id": "ahu", "group": "hvac", "schedule": "shifts",
                     "air_handling": _ahu(setback_airflow_m3_h=2_000, setback_fan_kw=1)}],
        energy=_energy([0.0] * 12),
    )
    r = twin.simulate(plant, progress=False)
    gas = r.hourly["natural_gas_kwh:hvac"].to_numpy()
    on_h = 20 * KW_PER_10K_M3H_K / 0.9
    want = np.where((np.arange(24) >= 8) & (np.arange(24) < 16), on_h, on_h / 5)
    np.testing.assert_allclose(gas, want, rtol=1e-9)
    row = r.equipment.loc["ahu"]
    assert row["idle_h"] == pytest.approx(8) and row["off_h"] == pytest.approx(16)
    assert row["electricity_kwh"] == pytest.approx(10 * 8 + 1 * 16)
    assert row["natural_gas_kwh"] == pytest.approx(on_h * (8 + 16 / 5))
    assert r.kpis["energy_by_group_kwh"]["hvac"]["natural_gas"] == pytest.approx(
        on_h * (8 + 16 / 5))
    # scope 1: the unit's gas is the plant's only fuel
    assert r.kpis["natural_gas_kwh"] == pytest.approx(on_h * (8 + 16 / 5))
    assert r.kpis["co2_scope1_kg"] > 0


def test_energy_balance_closes_with_heat_from_the_bus_and_cooling_from_chillers() -> None:
    """One unit heated from the heat bus (gas boiler) and cooled by the plant's chiller, one
    electric: a fortnight of spring, 4-28 degC, needs both heating and cooling, and every
    invariant of the balance holds (electricity per interval, boiler and chiller physics, the
    meter's groups against the equipment table)."""
    plant = make_plant(
        [station("m", const(60))],
        simulation={"start": "2026-04-06", "days": 14, "seed": 2},
        base_loads=[
            {"id": "ahu_bus", "group": "hvac",
             "air_handling": _ahu(heating="heat", heating_efficiency=1, supply_cooling_c=22,
                                  cooling="cooling", heat_recovery_effectiveness=0.5)},
            {"id": "ahu_el", "group": "hvac2",
             "air_handling": _ahu(heating="electricity", heating_efficiency=3.0,
                                  supply_cooling_c=22, cooling_cop=3.5)},
        ],
        energy={**_energy([16.0] * 12, swing=24.0),
                "boilers": [{"id": "b", "fuel": "natural_gas", "capacity_kw": 500,
                             "efficiency": 0.9}],
                "chillers": [{"id": "c", "capacity_kw": 500, "cop_rated": 4.0}]},
    )
    r = twin.simulate(plant, progress=False)
    check_invariants(r, plant)
    iv = r.intervals
    assert iv["heat_demand_kwh"].sum() > 100 and iv["cooling_demand_kwh"].sum() > 10
    # the unit's heat and cooling reach the buses: demand == what the meter's group shows
    assert iv["heat_demand_kwh"].sum() == pytest.approx(r.hourly["heat_kwh:hvac"].sum(),
                                                        rel=1e-9)


def test_year_of_gas_equals_the_degree_hours_of_the_monthly_means(tmp_path: Path) -> None:
    """A synthetic year whose every hour is below the 20 degC supply (monthly means -4..12 degC,
    daily swing 4 K; the year's warmest hour is about 14.5 degC): the unit heats all year round,
    so its year of gas is, by hand, sum over months of hours x (20 - mean) x 3.3645 kW per
    10,000 m3/h and K / 0.9. 24/7, no setback."""
    monthly = [-4.0, -2.0, 3.0, 8.0, 11.0, 12.0, 12.0, 12.0, 10.0, 6.0, 1.0, -3.0]
    plant = make_plant(
        [station("m", const(3600))],
        simulation={"start": "2025-01-01", "days": 365, "seed": 1},
        base_loads=[{"id": "ahu", "group": "hvac", "air_handling": _ahu()}],
        energy=_energy(monthly, swing=4.0),
    )
    r = twin.simulate(plant, progress=False)
    hours = [cal.monthrange(2025, m)[1] * 24 for m in range(1, 13)]
    want = sum(h * (20 - t) for h, t in zip(hours, monthly, strict=True)) * KW_PER_10K_M3H_K / 0.9
    got = r.kpis["energy_by_group_kwh"]["hvac"]["natural_gas"]
    assert got == pytest.approx(want, rel=2e-4)


def _write(tmp_path: Path, base_load: dict, energy: dict | None) -> Path:
    data = {"site": {"name": "t", "timezone": "Asia/Shanghai", "latitude": 31.2,
                     "longitude": 121.5},
            "products": [{"id": "p", "route": ["m"]}],
            "equipment_types": [{"id": "machine", "power_kw": {"electricity": {"idle": 1}}}],
            "lines": [{"id": "l", "stations": [{"id": "m", "equipment": "machine",
                                                "process_time": {"dist": "constant",
                                                                 "value": 30}}]}],
            "sources": [{"id": "s", "kind": "arrivals",
                         "interarrival": {"dist": "constant", "value": 60},
                         "product_mix": {"p": 1}}],
            "base_loads": [base_load]}
    if energy is not None:
        data["energy"] = energy
    path = tmp_path / "plant.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(("spec", "energy", "field", "words"), [
    (_ahu(), None, "base_loads[0].air_handling", "needs weather"),
    (_ahu(airflow_m3_h=-5), _energy([5.0] * 12), "base_loads[0].air_handling.airflow_m3_h",
     "-5"),
    (_ahu(supply_cooling_c=18, cooling_cop=3), _energy([5.0] * 12),
     "base_loads[0].air_handling", "supply_cooling_c 18 is below supply_heating_c 20"),
    (_ahu(supply_cooling_c=26), _energy([5.0] * 12), "base_loads[0].air_handling",
     "needs cooling_cop"),
    (_ahu(heating="heat"), _energy([5.0] * 12), "base_loads[0].air_handling",
     "heating_efficiency 0.9 with heating 'heat'"),
    (_ahu(setback_airflow_m3_h=20_000), _energy([5.0] * 12), "base_loads[0].air_handling",
     "setback_airflow_m3_h 20000 is above airflow_m3_h 10000"),
])
def test_bad_input_is_a_one_line_error_naming_the_field(tmp_path: Path, spec: dict,
                                                        energy: dict | None, field: str,
                                                        words: str) -> None:
    path = _write(tmp_path, {"id": "ahu", "group": "hvac", "air_handling": spec}, energy)
    with pytest.raises(ConfigError) as err:
        twin.load_plant(path)
    assert len(err.value.issues) == 1, str(err.value)  # one problem: one line under the header
    text = str(err.value).splitlines()[1]
    assert "plant.yaml" in text and field in text and words in text, text


def test_off_power_with_air_handling_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, {"id": "ahu", "group": "hvac", "air_handling": _ahu(),
                             "off_power_kw": {"electricity": 3}}, _energy([5.0] * 12))
    with pytest.raises(ConfigError, match="leave out off_power_kw"):
        twin.load_plant(path)


def test_in_loop_balance_sees_the_unit_as_the_settled_one_does(
        soc_reader: list) -> None:  # noqa: F811  (the imported fixture)
    """The EMS balancing in the loop (a strategy reads the state of charge) reads the running
    site meter, which does not see the unit's heating and cooling (they are metered before the
    run): it adds them per interval, and so records what the EMS settled after the run records
    (the demo plant, its battery and supply, plus a gas-fired, electrically cooled unit)."""
    from twin import engine
    from twin.energy.ems import RECORDS

    config = twin.load_plant(DEMO).model_dump()
    config["base_loads"].append({"id": "ahu", "group": "hvac", "schedule": "shifts",
                                 "air_handling": _ahu(supply_cooling_c=22, cooling_cop=3.0,
                                                      setback_airflow_m3_h=3_000)})
    plant = twin.Plant.model_validate(config)
    days, start = 3.5, plant.simulation.start
    fast = engine.build(plant, days, start, 1)
    engine.run(fast, progress=False)
    config["strategies"] = [{"type": "test_soc_reader"}]
    live = engine.build(twin.Plant.model_validate(config), days, start, 1)
    assert live.ems.live and not fast.ems.live
    engine.run(live, progress=False)
    a, b = fast.ems.arrays(), live.ems.arrays()
    assert a["plant_gas"].sum() > 0
    for name in RECORDS:
        np.testing.assert_allclose(b[name], a[name], rtol=1e-9, atol=1e-9, err_msg=name)


def test_a_plant_with_air_handling_does_not_split_into_parts() -> None:
    """Two independent lines would split for parallel simulation, but the unit's energy is
    metered with the energy supply, which parts do not have: the plant stays whole, and says
    why."""
    from twin.partition import find_parts

    lines = [{"id": f"l{k}", "stations": [station(f"m{k}", const(60))]} for k in (1, 2)]
    products = [{"id": f"p{k}", "route": [f"m{k}"]} for k in (1, 2)]
    sources = [{"id": f"s{k}", "kind": "arrivals", "interarrival": const(60),
                "product_mix": {f"p{k}": 1}} for k in (1, 2)]
    plain = make_plant(lines=lines, products=products, sources=sources)
    assert find_parts(plain).splits
    with_ahu = make_plant(lines=lines, products=products, sources=sources,
                          base_loads=[{"id": "ahu", "group": "hvac", "air_handling": _ahu()}],
                          energy=_energy([5.0] * 12))
    part = find_parts(with_ahu)
    assert not part.splits and "'ahu' follows the weather" in part.reason
