"""Heat plant in the dispatch and sizing LPs (twin.energy.thermal_lp) against hand calculations:
boiler or heat pump by the break-even of gas against electricity / COP and the annuity; a
thermal store charged in the valley by a heat pump; a CO2 cap that forces electrification, with
its shadow price by hand."""

from __future__ import annotations

import numpy as np
import pytest

from twin.config.plant import ELECTRICITY, NATURAL_GAS
from twin.energy.ems import ThermalUnit
from twin.energy.optimal import BatteryParams, optimal_dispatch
from twin.energy.sizing import (
    SizingCandidate,
    SizingData,
    SizingInfeasibleError,
    SizingTargets,
    annualised_cost_per_unit,
    solve_sizing,
)
from twin.energy.thermal_lp import ThermalBus

N = 24
HEAT = 100.0  # kWh of heat every hour
COP = 3.0
ETA_BOILER = 0.9
GAS_PRICE = 0.3  # CNY/kWh LHV


def _data(price, units, stores=(), **kw) -> SizingData:
    bus = ThermalBus("heat", np.full(N, HEAT), units, list(stores))
    return SizingData(np.zeros(N), np.ones(N), np.broadcast_to(price, (N,)).astype(float),
                      np.zeros(N), np.zeros(N), [], thermal=[bus], gas_price_per_kwh=GAS_PRICE,
                      **kw)


def _hp_candidate(capex: float, rate: float = 0.0, life: int = 10) -> SizingCandidate:
    ann, om = annualised_cost_per_unit(capex, rate, life)
    return SizingCandidate("hp", "thermal_unit", 0.0, 500.0, ann, om, capex, 0.0, item=0,
                           bus="heat")


BOILER = ThermalUnit("boiler", 200.0, NATURAL_GAS, ETA_BOILER)


def test_heat_pump_or_boiler_by_the_break_even_of_gas_against_electricity_over_cop():
    # a kW of heat pump running all year saves 8760 x (gas / eta - electricity / COP)
    p_el = 0.6
    saving_per_kw = 8760 * (GAS_PRICE / ETA_BOILER - p_el / COP)  # 8760 x 0.13333 = 1168
    assert saving_per_kw == pytest.approx(1168.0)
    # with 6 % over 15 years: CRF = 0.06 x 1.06^15 / (1.06^15 - 1), 1.06^15 = 2.3965582
    crf = 0.06 * 2.3965582 / 1.3965582
    break_even = saving_per_kw / crf  # capex per kW at which the annuity eats the saving
    assert break_even == pytest.approx(11343.9, abs=0.5)
    hp = ThermalUnit("hp", 1.0, ELECTRICITY, COP)
    no_hp = 8760 * HEAT * GAS_PRICE / ETA_BOILER  # boiler only: 292,000 CNY/yr
    yes = solve_sizing(_data(p_el, [hp, BOILER]), [_hp_candidate(0.97 * break_even, 0.06, 15)])
    no = solve_sizing(_data(p_el, [hp, BOILER]), [_hp_candidate(1.03 * break_even, 0.06, 15)])
    assert yes.sizes["hp"] == pytest.approx(HEAT, rel=1e-6)  # covers the whole demand
    assert no.sizes["hp"] == pytest.approx(0.0, abs=1e-6)
    assert no.total == pytest.approx(no_hp, rel=1e-9)
    assert no.gas_kwh == pytest.approx(8760 * HEAT / ETA_BOILER, rel=1e-9)
    assert yes.total == pytest.approx(no_hp - HEAT * (saving_per_kw - 0.97 * saving_per_kw),
                                      rel=1e-6)
    # the heat pump's electricity is grid import: 100 / 3 kWh an hour
    assert yes.energy_cost == pytest.approx(8760 * HEAT / COP * p_el, rel=1e-6)
    assert yes.thermal_electricity_kwh == pytest.approx(8760 * HEAT / COP, rel=1e-6)
    assert yes.gas_kwh == pytest.approx(0.0, abs=1e-3)


def test_cop_per_interval_decides_when_the_heat_pump_runs():
    # COP 4 in the first 12 hours, 1.5 in the last: at 0.6 CNY/kWh a kWh of heat costs 0.15 and
    # 0.40 by heat pump, 0.3333 by boiler -> the heat pump (existing 150 kW) runs only while
    # its COP is high
    cop = np.where(np.arange(N) < 12, 4.0, 1.5)
    hp = ThermalUnit("hp", 150.0, ELECTRICITY, cop)
    bus = ThermalBus("heat", np.full(N, HEAT), [hp, BOILER])
    r = optimal_dispatch(np.zeros(N), 0.0, 1.0, [], price=0.6, thermal=[bus],
                         gas_price=GAS_PRICE)
    assert r.thermal_kwh["heat/hp"][:12] == pytest.approx(np.full(12, HEAT))
    assert r.thermal_kwh["heat/hp"][12:] == pytest.approx(np.zeros(12), abs=1e-9)
    assert r.cost == pytest.approx(12 * HEAT / 4 * 0.6 + 12 * HEAT / ETA_BOILER * GAS_PRICE)


# --- a thermal store filled in the valley by the heat pump ------------------------------------

PRICE = np.where(np.arange(N) < 12, 0.3, 1.0)  # 12 valley hours, then 12 peak hours


def test_thermal_store_is_charged_in_the_valley_by_the_heat_pump():
    # heat pump 200 kW (existing), COP 3, no boiler: a kWh of store moved each day from peak to
    # valley saves (1.0 - 0.3) / 3 CNY; the peak needs 12 x 100 = 1200 kWh, which the heat pump
    # can just make in the valley beside the valley's own demand (12 x (200 - 100))
    hp = ThermalUnit("hp", 200.0, ELECTRICITY, COP)
    tes = BatteryParams(100.0, 1000.0, 1.0, 1.0, 0.0, 1.0, 50.0)
    value = 365 * (1.0 - 0.3) / COP  # 85.1667 CNY per kWh of store and year
    ann = lambda capex: annualised_cost_per_unit(capex, 0.0, 10)  # noqa: E731
    cand = [SizingCandidate("tes", "thermal_store_energy", 0.0, 5000.0, *ann(0.9 * 10 * value),
                            0.9 * 10 * value, 0.0, item=0, bus="heat")]
    yes = solve_sizing(_data(PRICE, [hp], [tes]), cand)
    assert yes.sizes["tes"] == pytest.approx(1200.0, rel=1e-6)
    no_store = 365 * 12 * HEAT / COP * (0.3 + 1.0)
    assert yes.total == pytest.approx(no_store - 1200 * value + 1200 * 0.9 * value, rel=1e-6)
    cand_dear = [SizingCandidate("tes", "thermal_store_energy", 0.0, 5000.0,
                                 *ann(1.1 * 10 * value), 0.0, 0.0, item=0, bus="heat")]
    assert solve_sizing(_data(PRICE, [hp], [tes]), cand_dear).sizes["tes"] == pytest.approx(
        0.0, abs=1e-6)
    # the fixed-size dispatch LP, same rules: with the 1200 kWh store the heat pump runs flat
    # out in the valley (200 kW -> 66.7 kWh of electricity an hour) and not at all in the peak
    bus = ThermalBus("heat", np.full(N, HEAT), [hp],
                     [BatteryParams(1200.0, 1000.0, 1.0, 1.0, 0.0, 1.0, 600.0)])
    r = optimal_dispatch(np.zeros(N), 0.0, 1.0, [], price=PRICE, thermal=[bus],
                         cyclic_storage=True)
    el = r.thermal_electricity_kwh
    assert el[:12] == pytest.approx(np.full(12, 200 / COP))
    assert el[12:] == pytest.approx(np.zeros(12), abs=1e-9)
    assert r.grid_import_kwh == pytest.approx(el)
    assert r.thermal_kwh["heat/store0/charge"].sum() == pytest.approx(1200.0)
    assert r.cost == pytest.approx(12 * 200 / COP * 0.3)


def test_standing_loss_of_the_store_is_made_up_by_the_heat_pump():
    # 1 %/h loss: the store content E must satisfy E_t = 0.99 E_t-1 - 100 in the peak; the
    # extra heat bought in the valley is what leaks. With the store sized freely (no capex) the
    # valley heat = 12 x 100 + what the peak needs at its start, E_11 = Σ_k 100 / 0.99^k
    # heat pump and store power ample, so the store can be filled in one hour
    hp = ThermalUnit("hp", 2000.0, ELECTRICITY, COP)
    tes = BatteryParams(100.0, 5000.0, 1.0, 1.0, 0.0, 1.0, 50.0, self_discharge_per_h=0.01)
    cand = [SizingCandidate("tes", "thermal_store_energy", 0.0, 5000.0, 0.0, 0.0, item=0,
                            bus="heat")]
    s = solve_sizing(_data(PRICE, [hp], [tes]), cand)
    e_start = sum(100.0 / 0.99 ** k for k in range(1, 13))  # level after the valley
    # the store is filled in the valley's last hour only (no loss for longer than needed)
    valley_heat = 12 * HEAT + e_start
    assert s.energy_cost == pytest.approx(365 * valley_heat / COP * 0.3, rel=1e-6)


# --- a CO2 cap that forces electrification -------------------------------------------------


def test_co2_cap_forces_the_heat_pump_with_its_shadow_price_by_hand():
    p_el, ef_grid, ef_gas = 0.9, 0.45, 0.2
    # per kW of heat pump running all year
    saving = 8760 * (GAS_PRICE / ETA_BOILER - p_el / COP)  # 292 CNY/yr
    cut_t = 8760 * (ef_gas / ETA_BOILER - ef_grid / COP) / 1000  # 0.632667 t/yr
    annuity = 500.0  # capex 5000, 10 years, r = 0
    assert saving == pytest.approx(292.0)
    assert cut_t == pytest.approx(0.632667, abs=1e-6)
    base_t = 8760 * HEAT * ef_gas / ETA_BOILER / 1000  # 194.667 t/yr, all gas
    hp = ThermalUnit("hp", 1.0, ELECTRICITY, COP)
    data = _data(p_el, [hp, BOILER], grid_ef=ef_grid, gas_ef=ef_gas)
    free = solve_sizing(data, [_hp_candidate(5000.0)])
    assert free.sizes["hp"] == pytest.approx(0.0, abs=1e-6)  # not worth it without the cap
    assert free.scope12_t == pytest.approx(base_t, rel=1e-9)
    cap = 150.0
    s = solve_sizing(data, [_hp_candidate(5000.0)],
                     targets=SizingTargets(max_scope12_t_per_year=cap))
    assert s.sizes["hp"] == pytest.approx((base_t - cap) / cut_t, rel=1e-6)  # 70.60 kW
    assert s.scope12_t == pytest.approx(cap, rel=1e-6)
    t = s.targets["max_scope12_t_per_year"]
    assert t["binding"]
    assert t["shadow_price"] == pytest.approx((annuity - saving) / cut_t, rel=1e-6)  # 328.8
    # a cap below what all-electric heat emits cannot be met: reported, not a crash
    floor_t = 8760 * HEAT * ef_grid / COP / 1000  # 131.4 t/yr
    with pytest.raises(SizingInfeasibleError, match="max_scope12_t_per_year"):
        solve_sizing(data, [_hp_candidate(5000.0)],
                     targets=SizingTargets(max_scope12_t_per_year=floor_t - 1))


def test_chp_electricity_offsets_import_and_its_gas_counts():
    # heat-led CHP, eta_el 0.35, eta_th 0.5: per kWh of heat 2 kWh of gas and 0.7 kWh of
    # electricity, which replaces import at 1.0 CNY/kWh while the site uses >= 70 kWh an hour
    chp = ThermalUnit("chp", 100.0, NATURAL_GAS, 0.5, power_per_heat=0.7)
    bus = ThermalBus("heat", np.full(N, HEAT), [chp, BOILER])
    r = optimal_dispatch(np.full(N, 80.0), 0.0, 1.0, [], price=1.0, thermal=[bus],
                         gas_price=GAS_PRICE, gas_ef=0.2)
    assert r.thermal_kwh["heat/chp"] == pytest.approx(np.full(N, HEAT))
    assert r.grid_import_kwh == pytest.approx(np.full(N, 80.0 - 70.0))
    assert r.gas_kwh == pytest.approx(np.full(N, 200.0))
    assert r.cost == pytest.approx(N * (10 * 1.0 + 200 * GAS_PRICE))
    assert r.parts.scope1_kg == pytest.approx(N * 200 * 0.2)


def test_electricity_only_problems_are_unchanged_by_the_thermal_block():
    # no thermal bus: the same columns and rows as before heat existed (the LP of the sizing
    # benchmark has 52,581 columns for 8760 h; here 24 h, counted by hand):
    # per interval imp, exp, cur, ch, dis, E = 6 columns, + 3 capacity columns (X, K, N)
    from twin.energy import optimal

    seen = {}
    orig = optimal.LpProblem.solve

    def spy(self, cost=None, method="highs"):
        seen["cols"] = self.n_var
        seen["rows"] = dict(self.n_rows)
        return orig(self, cost, method)

    bp = BatteryParams(100.0, 50.0, 0.95, 0.95, 0.0, 1.0, 50.0)
    data = SizingData(np.full(N, 10.0), np.ones(N), PRICE, np.zeros(N), np.zeros(N), [bp])
    cand = [SizingCandidate("e", "battery_energy", 0.0, 1000.0, 10.0, 0.0, item=0)]
    optimal.LpProblem.solve = spy
    try:
        solve_sizing(data, cand, method="monolithic")  # the spy sees the whole LP
    finally:
        optimal.LpProblem.solve = orig
    # rows: X = K + N (1), balance (24), storage (24) = 49 eq; level <= capacity (24) ub
    assert seen == {"cols": 6 * N + 3, "rows": {"eq": 1 + 2 * N, "ub": N}}


# --- twin size with a heat pump candidate on the demo plant --------------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
HEAT_STUDY = """\
plant: {plant}
days: 2
replications: 1
base: as_is
scenarios:
  as_is:
    overrides:
      energy.heat_pumps: [{{id: hp, capacity_kw: 1, cop: 3.0, source: constant}}]
sizing:
  discount_rate: 0.0
  curve_points_pct: []
  candidates:
    - {{path: "energy.heat_pumps[id=hp].capacity_kw", max: 300, capex_per_unit: {capex},
       lifetime_years: 10, existing: 0}}
"""


def _heat_study(tmp_path, capex: float):
    p = tmp_path / f"heat_{capex:g}.yaml"
    p.write_text(HEAT_STUDY.format(plant=ROOT / "plant_configs" / "demo_plant.yaml",
                                   capex=capex), encoding="utf-8")
    return p


def test_twin_size_sizes_a_heat_pump_for_the_runs_heat_demand(tmp_path):
    import datetime as dt
    import json

    import yaml

    from twin import engine
    from twin.cli import main
    from twin.config.loader import load_plant

    # the demo plant's heat demand (parts washer), from a plain run of the plant file: the
    # plant's start and the study's seed 0 default -> same demand as the sizing run
    out = tmp_path / "cheap"
    assert main(["size", str(_heat_study(tmp_path, 1.0)), "--out", str(out),
                 "--no-verify"]) == 0
    doc = json.loads((out / "sizing.json").read_text())
    plant = load_plant(ROOT / "plant_configs" / "demo_plant.yaml")
    m = engine.build(plant, 2, dt.date.fromisoformat(str(plant.simulation.start)),
                     doc["seed"])
    engine.run(m, progress=False)
    heat = m.ems.arrays()["heat_demand"]
    scale = 8760 / 48
    th = doc["thermal"]
    # no store: every kWh of heat demand is delivered by the heat pump or the boiler
    delivered = sum(th["delivered_kwh_per_year"].values())
    assert delivered == pytest.approx(scale * heat.sum(), rel=1e-6)
    # at 1 CNY/kW the heat pump (COP 3: a kWh of heat for price / 3 <= 1.14 / 3) beats the gas
    # boiler (0.35 / 0.92 = 0.380 CNY per kWh of heat) in every interval: it takes all the heat,
    # sized to the highest interval's heat demand, and uses a third of it in electricity
    hp = doc["sizes"]["energy.heat_pumps[id=hp].capacity_kw"]
    assert hp == pytest.approx(heat.max() / 0.25, rel=1e-6)  # kWh per 15 min -> kW
    assert th["delivered_kwh_per_year"]["heat/hp"] == pytest.approx(scale * heat.sum(), rel=1e-6)
    assert th["electricity_kwh_per_year"] == pytest.approx(scale * heat.sum() / 3, rel=1e-6)
    assert th["gas_kwh_per_year"] == pytest.approx(0.0, abs=1e-3)
    # as is (the token 1 kW heat pump) the boiler burns the rest at 0.92
    base = th["as_is"]
    assert base["gas_kwh_per_year"] == pytest.approx(
        base["delivered_kwh_per_year"]["heat/hot_water_boiler"] / 0.92, rel=1e-9)
    sized = yaml.safe_load((out / "sized_plant.yaml").read_text(encoding="utf-8"))
    assert sized["energy"]["heat_pumps"][0]["capacity_kw"] == pytest.approx(hp, abs=1e-3)
    assert main(["validate", str(out / "sized_plant.yaml")]) == 0
    page = (out / "dashboard.html").read_text(encoding="utf-8")
    assert 'id="sizing-thermal"' in page and "gas and heat bought" in page
    # priced far above its saving, no heat pump is built and the unit leaves the sized plant
    dear = tmp_path / "dear"
    assert main(["size", str(_heat_study(tmp_path, 1e6)), "--out", str(dear),
                 "--no-verify"]) == 0
    assert json.loads((dear / "sizing.json").read_text())["sizes"][
        "energy.heat_pumps[id=hp].capacity_kw"] == pytest.approx(0.0, abs=1e-6)
    sized = yaml.safe_load((dear / "sized_plant.yaml").read_text(encoding="utf-8"))
    assert sized["energy"].get("heat_pumps") == []


def test_heat_demand_beyond_every_unit_is_reported_as_infeasible():
    # 100 kWh an hour of heat; the boiler gives at most 60, the heat pump candidate at most 30
    hp = ThermalUnit("hp", 1.0, ELECTRICITY, COP)
    small = ThermalUnit("boiler", 60.0, NATURAL_GAS, ETA_BOILER)
    cand = [SizingCandidate("hp", "thermal_unit", 0.0, 30.0, 1.0, 0.0, item=0, bus="heat")]
    with pytest.raises(SizingInfeasibleError, match=r"electricity, heat and cooling demand .* "
                                                    r"thermal units' capacities.*hp \(max 30\)"):
        solve_sizing(_data(0.6, [hp, small]), cand)
    cand = [SizingCandidate("hp", "thermal_unit", 0.0, 40.0, 1.0, 0.0, item=0, bus="heat")]
    assert solve_sizing(_data(0.6, [hp, small]), cand).sizes["hp"] == pytest.approx(40.0)
