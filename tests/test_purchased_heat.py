"""Purchased heat or steam (district heating, a neighbour's steam) by hand.

A kiln that draws a constant 100 kW of heat (and no electricity) for one day, idle all the time
(lots arrive once a year), so every number below is arithmetic:

* heat: 100 kW x 24 h = 2,400 kWh = 8.64 GJ, 25 kWh per 15-min interval, 100 kWh per hour;
* cost at 60 CNY/GJ: 8.64 x 60 = 518.40 CNY (the same as 0.216 CNY/kWh x 2,400);
* CO2 at the MEE default 0.11 tCO2/GJ: 8.64 x 0.11 = 0.9504 t = 950.4 kg, scope 2, in the
  location- and the market-based totals alike; at a user factor of 0.2 tCO2/GJ: 1,728 kg;
* standard coal (GB/T 2589 heat, 0.03412 kgce/MJ): 8,640 MJ x 0.03412 = 294.7968 kgce.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import const, make_plant, station

import twin
from twin.config.errors import ConfigError

YEARLY = const(365, unit="h")


def _plant(energy: dict, heat_kw: float = 100.0, **sections) -> twin.Plant:
    kiln = {"id": "kiln", "power_kw": {"heat": {"idle": heat_kw}}}
    return make_plant([station("s", const(60), equipment="kiln")], equipment_types=[kiln],
                      interarrival=YEARLY, energy=energy, **sections)


def test_heat_bought_only_by_hand():
    plant = _plant({"purchased_heat": {"price_per_gj": 60}})
    res = twin.simulate(plant, days=1)
    iv, k = res.intervals, res.kpis
    np.testing.assert_allclose(iv["purchased_heat_kwh"], 25.0, rtol=1e-12)
    np.testing.assert_allclose(res.hourly["purchased_heat_kwh"], 100.0, rtol=1e-12)
    assert k["purchased_heat_kwh"] == pytest.approx(2400.0, rel=1e-12)
    assert k["purchased_heat_cost"] == pytest.approx(518.40, rel=1e-12)
    assert k["cost_total"] == pytest.approx(518.40, rel=1e-12)  # no electricity, no gas
    assert k["heat_unmet_kwh"] == 0.0 and k["natural_gas_kwh"] == 0.0
    # scope 2 is the heat alone (nothing imported from the grid), both methods
    assert k["grid_import_kwh"] == 0.0
    assert k["co2_scope2_heat_kg"] == pytest.approx(950.4, rel=1e-9)
    assert k["co2_scope2_location_kg"] == pytest.approx(950.4, rel=1e-9)
    assert k["co2_scope2_market_kg"] == pytest.approx(950.4, rel=1e-9)
    np.testing.assert_allclose(iv["co2_scope2_location_kg"], 950.4 / 96, rtol=1e-12)
    assert k["co2_scope1_kg"] == 0.0
    assert k["purchased_heat_tce"] == pytest.approx(0.2947968, rel=1e-9)
    assert k["carbon"]["purchased_heat_factor"]["value"] == 0.11


def test_price_per_kwh_and_a_user_factor():
    plant = _plant({"purchased_heat": {"price_per_kwh": 0.216}},
                   carbon={"purchased_heat_factor_t_per_gj": 0.2})
    k = twin.simulate(plant, days=1).kpis
    assert k["purchased_heat_cost"] == pytest.approx(518.40, rel=1e-12)
    assert k["co2_scope2_location_kg"] == pytest.approx(1728.0, rel=1e-9)
    assert k["co2_scope2_market_kg"] == pytest.approx(1728.0, rel=1e-9)
    assert k["carbon"]["purchased_heat_factor"]["status"] == "user"


@pytest.mark.parametrize("merit, bought_kw, boiler_kw", [
    ("before_boilers", 60.0, 40.0),  # contract limit 60 kW first, the boiler tops up
    ("after_boilers", 50.0, 50.0),  # the 50 kW boiler first, heat bought for the rest
])
def test_merit_order_with_a_boiler(merit, bought_kw, boiler_kw):
    energy = {"purchased_heat": {"price_per_gj": 60, "capacity_kw": 60, "merit_order": merit},
              "boilers": [{"id": "b", "capacity_kw": 50, "efficiency": 0.9}],
              "grid": {"gas_price_per_kwh": 0.3}}
    res = twin.simulate(_plant(energy), days=1)
    iv, k = res.intervals, res.kpis
    np.testing.assert_allclose(iv["purchased_heat_kwh"], bought_kw / 4, rtol=1e-12)
    np.testing.assert_allclose(iv["fuel_kwh"], boiler_kw / 0.9 / 4, rtol=1e-12)
    assert k["heat_unmet_kwh"] == 0.0
    cost = 24 * bought_kw * 0.0036 * 60 + 24 * boiler_kw / 0.9 * 0.3
    assert k["cost_total"] == pytest.approx(cost, rel=1e-12)


def test_capacity_limit_leaves_heat_unmet():
    res = twin.simulate(_plant({"purchased_heat": {"price_per_gj": 60, "capacity_kw": 70}}),
                        days=1)
    np.testing.assert_allclose(res.intervals["purchased_heat_kwh"], 17.5, rtol=1e-12)
    np.testing.assert_allclose(res.intervals["heat_unmet_kwh"], 7.5, rtol=1e-12)
    assert any("heat demand exceeded" in w for w in res.kpis["warnings"])


def test_a_hot_water_tank_charged_from_purchased_heat():
    # Purchased heat is the only unit, so its spare capacity charges the empty tank (40 kW, so
    # 10 kWh per interval) in the valley hours, and the tank covers the kiln outside them;
    # a loss-free tank: heat bought = heat used + the tank's last level.
    energy = {"purchased_heat": {"price_per_gj": 60, "capacity_kw": 150},
              "thermal_storage": [{"id": "tank", "energy_kwh": 200, "power_kw": 40,
                                   "initial_soc_pct": 0}],
              "grid": {"tariff": {"preset": "jiangsu_2025", "customer_class": "two_part",
                                  "flat_price_per_kwh": 0.5}}}
    res = twin.simulate(_plant(energy), days=1, start="2026-03-02")
    iv = res.intervals
    valley = (iv["tou_period"] == "valley").to_numpy()
    bought = iv["purchased_heat_kwh"].to_numpy()
    assert valley.any() and bought.max() == pytest.approx(35.0, rel=1e-12)
    assert (bought[~valley] < 25.0).any()  # the tank serves the kiln after the valley
    assert bought.sum() == pytest.approx(2400.0 + iv["thermal_storage_kwh"].iloc[-1], rel=1e-12)
    assert res.kpis["heat_unmet_kwh"] == 0.0


PLANT = textwrap.dedent("""
    site: {name: s, timezone: UTC, latitude: 0, longitude: 0}
    simulation: {days: 1, start: 2025-01-06}
    products: [{id: p, route: [a]}]
    equipment_types: [{id: t, power_kw: {heat: {idle: 10}}}]
    lines: [{id: l, stations: [{id: a, equipment: t,
             process_time: {dist: constant, value: 600}}]}]
    sources: [{id: src, kind: arrivals, product_mix: {p: 1},
               interarrival: {dist: constant, value: 1200}}]
""")


@pytest.mark.parametrize("block, path, words", [
    ("{capacity_kw: 100}", "energy.purchased_heat", "price_per_gj"),
    ("{price_per_gj: 60, price_per_kwh: 0.2}", "energy.purchased_heat", "once"),
    ("{price_per_gj: -1}", "energy.purchased_heat.price_per_gj", "0"),
    ("{price_per_gj: 60, merit_order: first}", "energy.purchased_heat.merit_order",
     "before_boilers"),
])
def test_bad_purchased_heat_is_named(tmp_path, block, path, words):
    f = tmp_path / "plant.yaml"
    f.write_text(PLANT + f"energy: {{purchased_heat: {block}}}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        twin.load_plant(f)
    msg = str(err.value)
    assert str(f) in msg and path in msg and words in msg, msg


def test_purchased_heat_is_a_heat_supply(tmp_path):
    f = tmp_path / "plant.yaml"
    f.write_text(PLANT + "energy: {purchased_heat: {price_per_gj: 60}}\n", encoding="utf-8")
    twin.load_plant(f)  # no "equipment draws heat but no heat supply" error
    f.write_text(PLANT + "energy: {grid: {gas_price_per_kwh: 0.3}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"energy\.purchased_heat"):
        twin.load_plant(f)


def test_run_folder_and_dashboard_months_add_up(tmp_path):
    """The dashboard's monthly costs include the purchased heat and add up to cost_total."""
    from twin.dashboard.data import load

    energy = {"purchased_heat": {"price_per_gj": 60},
              "grid": {"tariff": {"preset": "jiangsu_2025", "customer_class": "two_part",
                                  "flat_price_per_kwh": 0.5}}}
    kiln = {"id": "kiln", "power_kw": {"heat": {"idle": 100}, "electricity": {"idle": 10}}}
    plant = make_plant([station("s", const(60), equipment="kiln")], equipment_types=[kiln],
                       interarrival=YEARLY, energy=energy)
    res = twin.simulate(plant, days=2)
    res.save(tmp_path / "run")
    costs = load(tmp_path / "run").monthly_costs()
    assert costs["heat"].sum() == pytest.approx(2 * 518.40, rel=1e-9)
    assert costs["total"].sum() == pytest.approx(res.kpis["cost_total"], rel=1e-9)
    assert "heat" in res.summary()


def test_footprint_puts_purchased_heat_on_the_heat_users():
    """A kiln that draws 10 kW electricity and 100 kW heat in every state makes the only product:
    the CO2 of the purchased heat (950.4 kg a day) goes to it as heat-and-cooling emissions, and
    the electricity is charged at the grid factor alone (not inflated by the heat's CO2)."""
    kiln = {"id": "kiln", "power_kw": {"electricity": {"idle": 10, "processing": 10},
                                       "heat": {"idle": 100, "processing": 100}}}
    plant = make_plant([station("s", const(60), equipment="kiln")], equipment_types=[kiln],
                       interarrival=const(120), energy={"purchased_heat": {"price_per_gj": 60}},
                       carbon={"grid_factor_kg_per_kwh": 0.5})
    k = twin.simulate(plant, days=1).kpis
    fp = k["footprints"]["products"]["part"]
    assert fp["heat_and_cooling_kg"] == pytest.approx(950.4, rel=1e-6)
    assert fp["co2_kg"] == pytest.approx(950.4 + 240 * 0.5, rel=1e-6)
    assert k["co2_scope2_location_kg"] == pytest.approx(950.4 + 240 * 0.5, rel=1e-9)
