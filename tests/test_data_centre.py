"""A data centre (twin.energy.data_centre) worked out by hand: UPS losses, free cooling, IT power,
the hourly PUE of a constant case in a cold, a mild and a hot hour, waste-heat recovery, and the
energy balance (IT + losses + cooling + heat recovery + other loads = site electricity).

The hand case: IT peak 1,000 kW, idle share 0.4, utilisation 0.5 all day -> IT 700 kW. UPS
rated 1,000 kW with 1 % no-load, 2 % proportional, 1 % square-law: 10 + 14 + 4.9 = 28.9 kW;
distribution 1 % proportional, 1 % square-law: 7 + 4.9 = 11.9 kW; losses 40.8 kW. CRAH fans and
pumps 5 % of 740.8 = 37.04 kW; heat to remove Q = 777.84 kW. Chilled water 15 degC supply, 6 K
range, economiser approach 5 K: full free cooling at or below 10 degC, none at or above 16 degC.
Chiller: grade 0.4, evaporator 15 - 2 = 13 degC = 286.15 K, condenser outdoor + 12 K.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import const, make_plant, station

import twin
from twin.config.errors import ConfigError
from twin.energy.data_centre import free_cooling_fraction, it_power_kw, loss_kw, pue
from twin.energy.ems import EMS, POLICIES, Supply

TZ = "Asia/Shanghai"
CONFIGS = Path(__file__).resolve().parents[1] / "plant_configs"

IT, LOSSES, FANS, Q = 700.0, 40.8, 37.04, 777.84


# --- the physics functions by hand ---------------------------------------------------------------

def test_ups_loss_at_three_loads_by_hand():
    # rated 1000 kW, 1.5 % no-load, 2 % proportional, 1 % square-law
    assert loss_kw(0.0, 1000, 0.015, 0.02, 0.01) == pytest.approx(15.0)       # no-load only
    assert loss_kw(500.0, 1000, 0.015, 0.02, 0.01) == pytest.approx(27.5)     # 15 + 10 + 2.5
    assert loss_kw(1000.0, 1000, 0.015, 0.02, 0.01) == pytest.approx(45.0)    # 15 + 20 + 10
    # efficiency at half load: 500 / 527.5 = 94.79 %
    assert 500 / (500 + loss_kw(500.0, 1000, 0.015, 0.02, 0.01)) == pytest.approx(0.947867, 1e-6)
    np.testing.assert_allclose(loss_kw(np.array([0.0, 500.0, 1000.0]), 1000, 0.015, 0.02, 0.01),
                               [15.0, 27.5, 45.0])


def test_free_cooling_fraction_below_in_and_above_the_band():
    # supply 15, range 6, approach 5: full at <= 10 degC, none at >= 16 degC, linear between
    assert free_cooling_fraction(-20.0, 15, 6, 5) == 1.0
    assert free_cooling_fraction(10.0, 15, 6, 5) == 1.0
    assert free_cooling_fraction(13.0, 15, 6, 5) == pytest.approx(0.5)
    assert free_cooling_fraction(14.5, 15, 6, 5) == pytest.approx(0.25)
    assert free_cooling_fraction(16.0, 15, 6, 5) == 0.0
    assert free_cooling_fraction(30.0, 15, 6, 5) == 0.0
    # a 3 K warmer chilled water moves the band up by 3 K
    assert free_cooling_fraction(16.0, 18, 6, 5) == pytest.approx(0.5)


def test_it_power_and_pue_by_hand():
    assert it_power_kw(0.5, 1000, 0.4) == pytest.approx(700.0)
    assert it_power_kw(0.0, 1000, 0.4) == pytest.approx(400.0)
    assert it_power_kw(1.0, 1000, 0.4) == pytest.approx(1000.0)
    assert pue(1250.0, 1000.0) == pytest.approx(1.25)
    assert np.isnan(pue(10.0, 0.0))
    with pytest.raises(ValueError, match="utilisation"):
        it_power_kw(1.2, 1000, 0.4)


# --- runs of a constant case ---------------------------------------------------------------------

def weather_csv(path: Path, temp_c: float, days: int = 2) -> Path:
    hours = pd.date_range("2026-01-05", periods=24 * days, freq="h")
    pd.DataFrame({"timestamp": hours.strftime("%Y-%m-%d %H:%M"), "ghi": 0.0, "dni": 0.0,
                  "dhi": 0.0, "temp_air": temp_c, "wind_speed": 1.0}).to_csv(path, index=False)
    return path


def dc_block(**over) -> dict:
    block = {
        "it": {"peak_kw": 1000, "idle_fraction": 0.4, "utilisation_by_hour": [0.5] * 24},
        "ups": {"no_load_loss_pct": 1.0, "proportional_loss_pct": 2.0, "square_loss_pct": 1.0},
        "distribution": {"proportional_loss_pct": 1.0, "square_loss_pct": 1.0},
        "cooling": {"chilled_water_supply_c": 15, "chilled_water_delta_t_k": 6,
                    "quality_grade": 0.4, "condenser_approach_k": 12,
                    "evaporator_approach_k": 2, "economiser_approach_k": 5,
                    "economiser_kw_per_kw": 0.03, "fans_pumps_kw_per_kw": 0.05},
    }
    block.update(over)
    return block


def dc_plant(tmp_path: Path, temp_c: float, base_kw: float = 0.0, **over) -> twin.Plant:
    idle = {"id": "idle_machine", "power_kw": {"electricity": {"idle": 0, "processing": 0}}}
    base = ([{"id": "lights", "group": "facility", "power_kw": {"electricity": base_kw}}]
            if base_kw else [])
    return make_plant([station("s", const(60), equipment="idle_machine")],
                      equipment_types=[idle], interarrival=const(365, unit="h"),
                      base_loads=base, simulation={"start": "2026-01-05", "days": 2, "seed": 1},
                      energy={"weather": {"file": str(weather_csv(tmp_path / "w.csv", temp_c))},
                              "data_centre": dc_block(**over)})


@pytest.mark.parametrize("temp_c, chiller_kw, econ_kw", [
    (0.0, 0.0, 0.03 * Q),                            # full free cooling: dry-cooler fans only
    # 13 degC: half free; COP = 0.4 x 286.15 / (25 - 13) = 114.46 / 12
    (13.0, 0.5 * Q * 12 / 114.46, 0.03 * 0.5 * Q),
    # 30 degC: no free cooling; COP = 0.4 x 286.15 / (42 - 13) = 114.46 / 29 = 3.9469
    (30.0, Q * 29 / 114.46, 0.0),
])
def test_hourly_pue_of_a_constant_case_by_hand(tmp_path, temp_c, chiller_kw, econ_kw):
    r = twin.simulate(dc_plant(tmp_path, temp_c), progress=False)
    h = r.hourly
    site_kw = IT + LOSSES + FANS + chiller_kw + econ_kw
    np.testing.assert_allclose(h["electricity_kwh:it"], IT, rtol=1e-12)
    np.testing.assert_allclose(h["electricity_kwh:power_losses"], LOSSES, rtol=1e-12)
    np.testing.assert_allclose(h["electricity_kwh:cooling"], FANS + chiller_kw + econ_kw,
                               rtol=1e-12)
    np.testing.assert_allclose(h["pue"], site_kw / IT, rtol=1e-12)
    assert r.kpis["pue"] == pytest.approx(site_kw / IT, rel=1e-9)
    dc = r.kpis["data_centre"]
    assert dc["it_kwh"] == pytest.approx(IT * 48, rel=1e-9)
    full = 48.0 if temp_c <= 10 else 0.0
    partial = 48.0 if 10 < temp_c < 16 else 0.0
    assert (dc["free_cooling_full_h"], dc["free_cooling_partial_h"]) == (full, partial)


def test_energy_balance_groups_add_up_to_site_electricity(tmp_path):
    # IT + losses + cooling + heat recovery + the other loads (30 kW lights) = site electricity,
    # per interval, with heat recovery running
    hr = {"capacity_kw": 200, "supply_temp_c": 65, "quality_grade": 0.5}
    r = twin.simulate(dc_plant(tmp_path, 13.0, base_kw=30, heat_recovery=hr), progress=False)
    iv = r.intervals
    groups = [c for c in iv.columns if c.startswith("electricity_kwh:")]
    assert {"electricity_kwh:it", "electricity_kwh:power_losses", "electricity_kwh:cooling",
            "electricity_kwh:heat_recovery", "electricity_kwh:facility"} <= set(groups)
    np.testing.assert_allclose(iv[groups].sum(axis=1), iv["electricity_demand_kwh"], rtol=1e-12)
    np.testing.assert_allclose(iv["grid_import_kwh"], iv["electricity_demand_kwh"], rtol=1e-12)
    k = r.kpis
    total = sum(g.get("electricity", 0.0) for g in k["energy_by_group_kwh"].values())
    assert total == pytest.approx(k["electricity_kwh"], rel=1e-9)


def test_waste_heat_recovery_by_hand(tmp_path):
    # heat pump: source = return water 15 + 6 = 21 degC, sink 65 degC, grade 0.5:
    # COP = 0.5 x 338.15 / 44 = 169.075 / 44 = 3.8426; 200 kW of heat takes 200 / COP =
    # 52.048 kW of electricity and 200 - 52.048 = 147.952 kW from the chilled water.
    # At 0 degC (full free cooling) the economiser fans see Q - 147.952.
    hr = {"capacity_kw": 200, "supply_temp_c": 65, "quality_grade": 0.5, "price_per_gj": 30}
    r = twin.simulate(dc_plant(tmp_path, 0.0, heat_recovery=hr), progress=False)
    hp_kw = 200 * 44 / 169.075
    h = r.hourly
    np.testing.assert_allclose(h["electricity_kwh:heat_recovery"], hp_kw, rtol=1e-12)
    np.testing.assert_allclose(h["electricity_kwh:cooling"],
                               FANS + 0.03 * (Q - (200 - hp_kw)), rtol=1e-12)
    np.testing.assert_allclose(h["heat_exported_kwh"], 200.0, rtol=1e-12)
    k = r.kpis
    # 200 kW x 48 h = 9,600 kWh = 34.56 GJ, at 30 CNY/GJ = 1,036.8 CNY, off the cost
    assert k["data_centre"]["heat_exported_kwh"] == pytest.approx(9600.0)
    assert k["data_centre"]["heat_export_revenue"] == pytest.approx(1036.8)
    assert k["heat_export_revenue"] == pytest.approx(1036.8)
    assert k["cost_total"] == pytest.approx(k["energy_cost"] + k["demand_cost"] - 1036.8)
    assert k["data_centre"]["ere"] == pytest.approx(
        (k["electricity_kwh"] - 9600.0) / (IT * 48), rel=1e-9)
    # counted in carbon as it is: the heat pump's electricity is in scope 2 in full; the heat
    # is not netted, its displaced CO2 is reported beside (0.11 t/GJ: 34.56 x 110 = 3,801.6 kg)
    assert k["data_centre"]["co2_displaced_by_heat_export_kg"] == pytest.approx(3801.6)
    assert k["co2_scope2_location_kg"] == pytest.approx(
        float(r.intervals["co2_scope2_location_kg"].sum()))


def test_heat_recovery_only_in_its_months(tmp_path):
    hr = {"capacity_kw": 200, "supply_temp_c": 65, "quality_grade": 0.5, "months": [2, 3]}
    r = twin.simulate(dc_plant(tmp_path, 0.0, heat_recovery=hr), progress=False)  # January
    assert r.kpis["data_centre"]["heat_exported_kwh"] == 0.0
    assert float(r.hourly["electricity_kwh:heat_recovery"].sum()) == 0.0


def test_ups_eco_mode_and_no_free_cooling_change_what_they_should(tmp_path):
    base = twin.simulate(dc_plant(tmp_path, 0.0), progress=False).kpis
    eco = twin.simulate(dc_plant(tmp_path, 0.0, ups={
        "no_load_loss_pct": 0.3, "proportional_loss_pct": 0.5, "square_loss_pct": 0.3}),
        progress=False).kpis
    # eco: UPS 3 + 3.5 + 1.47 = 7.97 kW instead of 28.9: 20.93 kW less, and 5 % + 3 % of it
    # less in fans and dry coolers (full free cooling): 20.93 x 1.05 x 1.03 = 22.6358 kW
    saved = (base["electricity_kwh"] - eco["electricity_kwh"]) / 48
    assert saved == pytest.approx(20.93 * 1.05 * 1.03, rel=1e-9)
    cool = dc_block()["cooling"] | {"free_cooling": False}
    no_fc = twin.simulate(dc_plant(tmp_path, 0.0, cooling=cool), progress=False).kpis
    assert no_fc["pue"] > base["pue"]


# --- the EMS adds the data centre in both of its paths -------------------------------------------

def test_both_ems_paths_add_the_data_centre_to_demand():
    def supply() -> Supply:
        return Supply(interval_s=900, n_intervals=4, pv_kwh=np.zeros(4), wind_kwh=np.zeros(4),
                      period=["flat"] * 4, price=np.zeros(4),
                      data_centre_kwh=np.array([1.0, 2.0, 3.0, 4.0]))
    settled = EMS(None, None, supply(), POLICIES["self_consumption"](), 3600.0)
    settled.settle(np.column_stack([np.full(4, 10.0), np.zeros(4), np.zeros(4), np.zeros(4)]))
    looped = EMS(None, None, supply(), POLICIES["self_consumption"](), 3600.0)
    rows = [looped._balance(k, 0.25, 10.0, 0.0, 0.0, 0.0) for k in range(4)]
    looped._rows = rows
    for ems in (settled, looped):
        a = ems.arrays()
        np.testing.assert_array_equal(a["demand"], [11.0, 12.0, 13.0, 14.0])
        np.testing.assert_array_equal(a["data_centre"], [1.0, 2.0, 3.0, 4.0])
        np.testing.assert_array_equal(a["grid_import"], [11.0, 12.0, 13.0, 14.0])


# --- config errors --------------------------------------------------------------------------------

def test_a_data_centre_needs_weather_and_24_hours_of_utilisation(tmp_path):
    idle = {"id": "idle_machine", "power_kw": {"electricity": {"idle": 0, "processing": 0}}}
    with pytest.raises(ConfigError, match="data centre"):
        make_plant([station("s", const(60), equipment="idle_machine")], equipment_types=[idle],
                   energy={"data_centre": dc_block()})
    bad = dc_block()
    bad["it"] = bad["it"] | {"utilisation_by_hour": [0.5] * 23}
    with pytest.raises(ConfigError, match="utilisation_by_hour"):
        dc_plant(tmp_path, 0.0, it=bad["it"])


# --- the reference plant ------------------------------------------------------------------------

def test_reference_data_centre_first_week_free_cooled_and_pue_by_its_groups():
    plant = twin.load_plant(CONFIGS / "data_centre.yaml")
    r = twin.simulate(plant, days=7, progress=False)
    k = r.kpis
    # January in Hohhot (-10 degC mean, 12 K swing): the economiser covers every hour
    assert k["data_centre"]["free_cooling_full_h"] == pytest.approx(168.0)
    groups = k["energy_by_group_kwh"]
    it = groups["it"]["electricity"]
    site = sum(g.get("electricity", 0.0) for g in groups.values())
    assert site == pytest.approx(k["electricity_kwh"], rel=1e-9)
    assert k["pue"] == pytest.approx(site / it, rel=1e-9)
    assert 1.1 < k["pue"] < 1.25  # winter, below the hub-node target of 1.25


def test_the_data_centre_study_validates_and_its_pathway_stacks_the_measures():
    from twin.config.study import load_study

    study = load_study(CONFIGS.parent / "simulations" / "data_centre_study.yaml")
    assert study.names[0] == "baseline" and len(study.names) == 8
    base = study.plants["baseline"].energy.data_centre
    path = study.plants["pathway"].energy
    assert base.heat_recovery is None and base.cooling.chilled_water_supply_c == 15
    assert path.data_centre.heat_recovery.capacity_kw == 1000
    assert path.data_centre.cooling.chilled_water_supply_c == 20
    assert path.data_centre.ups.no_load_loss_pct == 0.3
    assert [a.dc_kwp for a in path.pv] == [4000]
    assert [b.energy_kwh for b in path.batteries] == [4000]
    assert study.plants["free_cooling_off"].energy.data_centre.cooling.free_cooling is False


# --- mutation round (tests/MUTATION.md): argument checks, scalar returns, the heat pump's cap ----

def _dc(**changes):
    from twin.config.energy import DataCentre

    cfg = {"it": {"peak_kw": 1000, "idle_fraction": 0.5, "utilisation_by_hour": [0.5] * 24,
                  "weekend_utilisation_by_hour": [0.0] * 24},
           "ups": {"no_load_loss_pct": 0.0, "proportional_loss_pct": 0.0, "square_loss_pct": 0.0},
           "distribution": {"proportional_loss_pct": 0.0, "square_loss_pct": 0.0},
           "cooling": {"chilled_water_supply_c": 15, "chilled_water_delta_t_k": 6,
                       "quality_grade": 0.5, "condenser_approach_k": 10,
                       "evaporator_approach_k": 2, "free_cooling": False,
                       "fans_pumps_kw_per_kw": 0.0}}
    for key, value in changes.items():
        cfg[key] = {**cfg.get(key, {}), **value}
    return DataCentre.model_validate(cfg)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: it_power_kw(0.5, 0.0, 0.5), "peak_kw=0.0: expected a value > 0"),
    (lambda: it_power_kw(0.5, 100.0, 1.01), "idle_fraction=1.01: expected a value in [0, 1]"),
    (lambda: it_power_kw(0.5, 100.0, -0.01), "idle_fraction=-0.01: expected a value in [0, 1]"),
    (lambda: it_power_kw(1.2, 100.0, 0.5), "utilisation: expected values in [0, 1]"),
    (lambda: loss_kw(10.0, 0.0, 0.0, 0.0, 0.0), "rated_kw=0.0: expected a value > 0"),
    (lambda: loss_kw(10.0, 100.0, 1.5, 0.0, 0.0), "no_load_frac=1.5: expected a value in"),
    (lambda: loss_kw(10.0, 100.0, 0.0, -0.1, 0.0), "proportional_frac=-0.1: expected a value"),
    (lambda: loss_kw(10.0, 100.0, 0.0, 0.0, 1.5), "square_frac=1.5: expected a value in"),
    (lambda: loss_kw(10.0, 100.0, 1.0, 0.0, 0.0), "no_load_frac=1.0: expected a value in [0, 1)"),
    (lambda: loss_kw(-1.0, 100.0, 0.0, 0.0, 0.0), "load_kw: expected values >= 0"),
    (lambda: free_cooling_fraction(10.0, 15.0, 0.0, 1.0), "delta_t_k=0.0: expected a value > 0"),
    (lambda: free_cooling_fraction(10.0, 15.0, 6.0, -1.0), "approach_k=-1.0: expected a value"),
])
def test_physics_arguments_out_of_range_are_refused_by_name(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value).startswith(message)


def test_edge_arguments_are_accepted_and_scalars_come_back_as_floats():
    # bounds included, small positive values allowed
    assert it_power_kw(1.0, 0.5, 0.0) == 0.5 and it_power_kw(0.0, 0.5, 1.0) == 0.5
    assert it_power_kw([0.0, 1.0], 0.5, 1.0).tolist() == [0.5, 0.5]
    assert loss_kw(0.25, 0.5, 0.0, 0.5, 0.5) == pytest.approx(0.5 * (0.5 * 0.5 + 0.5 * 0.25))
    assert free_cooling_fraction(4.0, 10.0, 0.5, 0.0) == 1.0
    for value in (it_power_kw(0.5, 10.0, 0.5), loss_kw(1.0, 10.0, 0.0, 0.1, 0.0),
                  free_cooling_fraction(30.0, 15.0, 6.0, 2.0), pue(2.0, 1.0)):
        assert type(value) is float
    # PUE where the IT energy is below 1 kWh is still a ratio; none where it is 0
    assert pue(0.75, 0.5) == 1.5 and np.isnan(pue(1.0, 0.0))
    assert pue(np.array([3.0, 1.0]), np.array([2.0, 0.0]))[0] == 1.5


def test_weekend_profile_and_ups_rating_are_used():
    from twin.energy.data_centre import data_centre_loads, utilisation_profile

    dc = _dc(ups={"rated_kw": 2000, "no_load_loss_pct": 1.0})
    u = utilisation_profile(dc, np.array([3, 3]), np.array([False, True]))
    assert u.tolist() == [0.5, 0.0]        # weekday 0.5, weekend 0.0
    loads = data_centre_loads(dc, u, np.array([30.0, 30.0]), np.array([7, 7]))
    # IT 1000 x (0.5 + 0.5 x 0.5) = 750 and 500; UPS no-load 1 % of the 2000 kW rating = 20
    np.testing.assert_allclose(loads.power_kw["it"], [750.0, 500.0])
    np.testing.assert_allclose(loads.power_kw["power_losses"], [20.0, 20.0])
    np.testing.assert_allclose(loads.cooling_load_kw, [770.0, 520.0])   # IT + losses, no fans
    # without the outdoor temperature the chillers' COP is unknown: refused, not made up
    with pytest.raises(ValueError) as err:
        data_centre_loads(dc, u, None, np.array([7, 7]))
    assert str(err.value) == ("data_centre_loads: the outdoor temperature per interval is "
                              "needed (chillers and free cooling follow it)")


def test_heat_recovery_is_capped_by_the_heat_in_the_return_water():
    from twin.energy.conversion import cop_carnot
    from twin.energy.data_centre import data_centre_loads

    dc = _dc(heat_recovery={"capacity_kw": 5000, "supply_temp_c": 60, "quality_grade": 0.5})
    cop = cop_carnot(60.0, 15.0 + 6.0, 0.5)
    loads = data_centre_loads(dc, np.array([0.5]), np.array([30.0]), np.array([1]))
    # the evaporator can take at most the 750 kW to remove: heat out = 750 / (1 - 1/COP)
    assert loads.heat_exported_kw[0] == pytest.approx(750.0 / (1.0 - 1.0 / cop))
    assert loads.power_kw["heat_recovery"][0] == pytest.approx(750.0 / (1.0 - 1.0 / cop) / cop)
    assert loads.power_kw["cooling"][0] == pytest.approx(0.0, abs=1e-9)  # nothing left to chill
    assert loads.free_cooling.dtype == float
