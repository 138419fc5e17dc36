"""Zero-carbon evaluation on constructed KPIs, checked against hand calculations.

Constructed KPIs isolate the evaluation from the simulation: every number below is worked out by
hand from the indicator definitions in ``twin/carbon/evaluation.py`` and the GB/T 2589
coefficients of ``twin/data/carbon/tce_coefficients.csv`` (electricity 0.1229 kgce/kWh, natural
gas 1.3300 kgce/m3 with NCV 38,931 kJ/m3).
"""

from __future__ import annotations

import csv
import math

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.carbon import factors as fx
from twin.carbon.evaluation import (
    JUDGE_TOL,
    METRICS,
    PRICES_FILE,
    RULES_FILE,
    energy_tce,
    evaluate,
    footprint_changes,
    footprints_per_unit,
    judge,
    load_prices,
    load_rules,
    metrics,
    offsets,
    reductions_by_measure,
    rule_set_names,
)

PRICES = {"cea": 60.0, "ccer": 70.0, "gec": 5.0}
GAS_KWH_PER_M3 = 38_931 / 3600  # NCV 38,931 kJ/m3


def kpis(*, import_kwh=1_000_000.0, gas_kwh=0.0, pv_kwh=0.0, export_kwh=0.0, s1_kg=0.0,
         s2_loc_kg=None, s2_mkt_kg=None, gec_mwh=0.0, contracts_mwh=0.0, days=365.0,
         footprints=None, units=1000, process_kg=0.0, refrigerant_kg=0.0):
    """KPIs as a run writes them, with only the fields the evaluation reads."""
    s2_loc_kg = import_kwh * 0.5 if s2_loc_kg is None else s2_loc_kg
    s2_mkt_kg = s2_loc_kg if s2_mkt_kg is None else s2_mkt_kg
    onsite = max(pv_kwh - export_kwh, 0.0) / 1000
    return {
        "plant": "constructed", "start": "2026-01-01", "simulated_days": days, "seed": 1,
        "grid_import_kwh": import_kwh, "grid_export_kwh": export_kwh, "pv_kwh": pv_kwh,
        "wind_kwh": 0.0, "curtailed_kwh": 0.0, "natural_gas_kwh": gas_kwh,
        "co2_scope1_kg": s1_kg, "co2_scope2_location_kg": s2_loc_kg,
        "co2_scope2_market_kg": s2_mkt_kg, "co2_scope1_process_kg": process_kg,
        "co2_scope1_refrigerant_kg": refrigerant_kg, "co2_scope3_materials_kg": 0.0,
        "units_completed": units,
        "products": {"p": {"units_completed": units, "component_of": None}},
        "carbon": {"instruments": {
            "contract_profile": {"available_mwh": 0.0, "used_mwh": 0.0, "unused_mwh": 0.0},
            "contract_monthly": {"available_mwh": contracts_mwh, "used_mwh": contracts_mwh,
                                 "unused_mwh": 0.0},
            "gec": {"available_mwh": gec_mwh, "used_mwh": gec_mwh, "unused_mwh": 0.0},
            "onsite": {"available_mwh": onsite, "used_mwh": onsite, "unused_mwh": 0.0}},
            "hourly_matched_cfe_share": None},
        "footprints": {"products": footprints or {}},
    }


def by_id(ev):
    return {i["id"]: i for i in ev["indicators"]}


def test_tce_of_a_known_mix_by_hand():
    # 1,000 MWh electricity and 10,000 m3 of gas (108,142 kWh LHV):
    # 1,000,000 x 0.1229 / 1000 = 122.9 tce; 10,000 x 1.33 / 1000 = 13.3 tce
    k = kpis(import_kwh=900_000, pv_kwh=100_000, gas_kwh=10_000 * GAS_KWH_PER_M3)
    e = energy_tce(k)
    assert e["electricity"] == pytest.approx(122.9, rel=1e-12)
    assert e["natural_gas"] == pytest.approx(13.3, rel=1e-12)
    assert e["total"] == pytest.approx(136.2, rel=1e-12)
    # the user's basis replaces the electricity coefficient only
    assert energy_tce(k, electricity_kgce_per_kwh=0.3)["total"] == pytest.approx(300 + 13.3)


def test_hunan_levels_pass_and_fail_with_margins():
    # 1,000 MWh imported, market-based 100 t (GECs cover 600 MWh of it), no fuel:
    # 100 / 122.9 = 0.81367 tCO2/tce on the calorific basis (chosen here in place of the rule
    # set's equal-value basis); renewable share with certificates 600 / 1000 = 0.6
    k = kpis(s2_loc_kg=500_000, s2_mkt_kg=100_000, gec_mwh=600)
    x = 100 / 122.9
    ev27, ev30, ev35 = (evaluate(k, f"hunan_{y}", prices=PRICES, energy_basis="calorific")
                        for y in (2027, 2030, 2035))
    for ev, limit, share, ok in ((ev27, 1.25, 0.35, "pass"), (ev30, 0.87, 0.55, "pass"),
                                 (ev35, 0.37, 0.80, "fail")):
        i = by_id(ev)
        assert i["co2_per_tce"]["value"] == pytest.approx(x, rel=1e-12)
        assert i["co2_per_tce"]["margin"] == pytest.approx(limit - x, rel=1e-12)
        assert i["co2_per_tce"]["status"] == ok
        assert i["renewable_share"]["value"] == pytest.approx(0.6, rel=1e-12)
        assert i["renewable_share"]["margin"] == pytest.approx(0.6 - share, abs=1e-12)
        assert i["renewable_share"]["status"] == ok
        # no baseline: the footprint indicator is not judged, says why, and the verdict is not
        # a pass
        assert i["footprint_reduction"]["status"] == "not_judged"
        assert "baseline" in i["footprint_reduction"]["reason"]
    assert ev30["verdict"] == "incomplete" and ev35["verdict"] == "fail"
    # without certificates the renewable share is 0: both shares are shown
    m = ev30["metrics"]
    assert m["renewable_electricity_share_without_certificates"]["value"] == 0
    assert m["renewable_electricity_share_with_certificates"]["value"] == pytest.approx(0.6)


def test_footprint_reduction_against_the_base_year():
    fp = {"a": {"cradle_to_gate_kg_per_unit": 9.3}, "b": {"cradle_to_gate_kg_per_unit": 4.7}}
    base = {"label": "base year 2024", "footprint_kg_per_unit": {"a": 10.0, "b": 5.0}}
    i = by_id(evaluate(kpis(footprints=fp), "hunan_2030", baseline=base))["footprint_reduction"]
    # a: 7 %, b: 6 %: the smallest, 6 %, is judged: pass with margin 0
    assert i["value"] == pytest.approx(0.06, rel=1e-9)
    assert i["status"] == "pass" and i["margin"] == pytest.approx(0.0, abs=1e-12)
    fp["b"]["cradle_to_gate_kg_per_unit"] = 4.75  # 5 % < 6 %
    i = by_id(evaluate(kpis(footprints=fp), "hunan_2030", baseline=base))["footprint_reduction"]
    assert i["status"] == "fail" and i["margin"] == pytest.approx(-0.01, abs=1e-12)


def test_offsets_needed_and_their_cost_by_hand():
    # scope 1 10 t; 100 MWh imported at residual 0.5 t/MWh = 50 t market-based; 30 days
    k = kpis(import_kwh=100_000, s1_kg=10_000, s2_loc_kg=55_000, s2_mkt_kg=50_000, days=30)
    prices = load_prices(PRICES)
    o = offsets(k, prices)
    assert o["gross_t"]["total_market"] == pytest.approx(60)
    assert o["net_t"] == pytest.approx(60) and o["retired_t"]["total"] == 0
    a = o["to_net_zero"]["certificates_then_credits"]
    assert a["gec_mwh"] == pytest.approx(100) and a["gec_cost"] == pytest.approx(500)
    assert a["credits_t"] == pytest.approx(10) and a["credits_cost"] == pytest.approx(700)
    assert a["total_cost"] == pytest.approx(1200)
    b = o["to_net_zero"]["credits_only"]
    assert b["credits_t"] == pytest.approx(60) and b["credits_cost"] == pytest.approx(4200)
    assert o["to_net_zero_per_year"]["credits_only"]["credits_t"] == pytest.approx(60 * 365 / 30)
    assert o["cea_value_of_gross"] == pytest.approx(3600)
    assert o["classification"]["result"] == "not net zero"

    # 20 t of CCER retired: 10 t cover scope 1, the other 10 t replace 20 MWh of GECs
    o = offsets(k, prices, [{"kind": "ccer", "t_co2e": 20}])
    assert o["gross_t"]["total_market"] == pytest.approx(60)  # gross never changes
    assert o["net_t"] == pytest.approx(40)
    a = o["to_net_zero"]["certificates_then_credits"]
    assert a["gec_mwh"] == pytest.approx(80) and a["credits_t"] == 0
    assert o["to_net_zero"]["credits_only"]["credits_t"] == pytest.approx(40)

    # the whole residual offset: type I with credits, type II with removals only
    full = offsets(k, prices, [{"kind": "ccer", "t_co2e": 60}])
    assert full["net_t"] == pytest.approx(0) and full["classification"]["result"] == "type I"
    removed = offsets(k, prices, [{"kind": "removal", "t_co2e": 60}])
    assert removed["classification"]["result"] == "type II"
    ev = evaluate(k, "t_ceca_g_0171_2022", offsets_retired=[{"kind": "removal", "t_co2e": 60}])
    assert ev["verdict"] == "pass" and ev["indicators"][0]["value"] == pytest.approx(0)


def test_certificates_cover_only_what_was_imported():
    # contracts 30 MWh + GECs 70 MWh used against 100 MWh: nothing left for GECs to buy
    k = kpis(import_kwh=100_000, s2_mkt_kg=0.0, contracts_mwh=30, gec_mwh=70)
    o = offsets(k, load_prices(PRICES))
    assert o["uncovered_grid_mwh"] == pytest.approx(0)
    assert o["to_net_zero"]["certificates_then_credits"]["gec_mwh"] == pytest.approx(0)
    m = evaluate(k)["metrics"]
    assert m["renewable_electricity_share_without_certificates"]["value"] == pytest.approx(0.3)
    assert m["renewable_electricity_share_with_certificates"]["value"] == pytest.approx(1.0)


def test_reductions_by_measure_add_up_and_match_hand_values():
    # baseline: 1,000 MWh from the grid at 0.6 t/MWh, 100 t of gas, 365 days
    base = kpis(import_kwh=1_000_000, s1_kg=100_000, s2_loc_kg=600_000, s2_mkt_kg=600_000)
    # now: 100 MWh saved, 200 MWh from PV, grid factor 0.55, 100 MWh GECs, gas 80 t
    now = kpis(import_kwh=700_000, pv_kwh=200_000, s1_kg=80_000, s2_loc_kg=385_000,
               s2_mkt_kg=330_000, gec_mwh=100)
    r = reductions_by_measure(now, base)
    assert r["electricity_use"] == pytest.approx(100 * 0.6)
    assert r["onsite_renewables"] == pytest.approx(200 * 0.6)
    assert r["grid_factor"] == pytest.approx(700 * 0.05)
    assert r["green_instruments"] == pytest.approx(55)
    assert r["fuel"] == pytest.approx(20)
    assert r["total"] == pytest.approx(700 - 410)  # = gross baseline - gross now
    assert r["total"] == pytest.approx(r["gross_baseline_per_year"] - r["gross_per_year"])


@settings(max_examples=60, deadline=None)
@given(imp=st.floats(0, 1e7), pv=st.floats(0, 1e6), s1=st.floats(0, 1e6), f=st.floats(0, 1.2),
       cover=st.floats(0, 1), days=st.floats(0.5, 400), imp_b=st.floats(0, 1e7),
       f_b=st.floats(0, 1.2), s1_b=st.floats(0, 1e6))
def test_property_reductions_sum_to_the_change_in_gross(imp, pv, s1, f, cover, days, imp_b, f_b,
                                                        s1_b):
    now = kpis(import_kwh=imp, pv_kwh=pv, s1_kg=s1, s2_loc_kg=imp * f,
               s2_mkt_kg=imp * f * (1 - cover), days=days)
    base = kpis(import_kwh=imp_b, s1_kg=s1_b, s2_loc_kg=imp_b * f_b, s2_mkt_kg=imp_b * f_b,
                days=365)
    r = reductions_by_measure(now, base)
    parts = sum(v for k, v in r.items() if k not in ("total", "gross_baseline_per_year",
                                                     "gross_per_year"))
    change = r["gross_baseline_per_year"] - r["gross_per_year"]
    assert parts == pytest.approx(change, rel=1e-9, abs=1e-6)


@settings(max_examples=80, deadline=None)
@given(value=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False)),
       threshold=st.floats(-1e6, 1e6), op=st.sampled_from(["<=", ">="]))
def test_property_judge_never_passes_what_it_cannot_judge(value, threshold, op):
    status, margin = judge(value, op, threshold)
    if value is None or math.isnan(value):
        assert status == "not_judged" and margin is None
    else:
        tol = 1e-9 * max(1.0, abs(threshold))
        met = value <= threshold + tol if op == "<=" else value >= threshold - tol
        assert status == ("pass" if met else "fail")
        assert margin == pytest.approx(threshold - value if op == "<=" else value - threshold)


def test_user_rules_and_clear_errors():
    ev = evaluate(kpis(s2_mkt_kg=200_000),
                  [{"metric": "gross_t_market_per_year", "op": "<=", "threshold": 150,
                    "label": "<b>cap</b>"},
                   {"metric": "kgce_per_unit", "op": "<=", "threshold": 100}],
                  energy_basis="calorific")
    assert ev["rules"]["name"] == "user"
    cap, per_unit = ev["indicators"]
    assert cap["status"] == "fail" and cap["margin"] == pytest.approx(-50)
    assert per_unit["value"] == pytest.approx(122.9 * 1000 / 1000)  # 122.9 kgce per unit
    with pytest.raises(ValueError, match="unknown metric 'co2_per_banana'"):
        load_rules([{"metric": "co2_per_banana", "op": "<=", "threshold": 1}])
    with pytest.raises(ValueError, match=r"unknown rule set 'hunan_2040'.*hunan_2035"):
        load_rules("hunan_2040")
    with pytest.raises(ValueError, match="unknown price 'eua'"):
        load_prices({"eua": 80})
    # a run with no finished units cannot be judged per unit
    ev = evaluate(kpis(units=0), [{"metric": "kgce_per_unit", "op": "<=", "threshold": 1}],
                  energy_basis="equal_value")
    assert ev["indicators"][0]["status"] == "not_judged" and ev["verdict"] == "incomplete"


def test_packaged_rule_sets_and_prices_are_sourced():
    for name in rule_set_names():
        r = load_rules(name)
        assert r["document"] and r["indicators"]
        assert all(i["metric"] in METRICS and i["basis"] for i in r["indicators"])
        assert r["energy_basis"] in ("calorific", "equal_value")
        # a threshold is either from a seen source or says it is ours
        assert r["status"] in ("S", "S2") or (
            r["status"] == "G" and all(i["basis"].startswith("ours") for i in r["indicators"]))
    assert [load_rules(f"hunan_{y}")["indicators"][0]["threshold"] for y in (2027, 2030, 2035)] \
        == [1.25, 0.87, 0.37]
    assert [load_rules(f"hunan_{y}")["indicators"][1]["threshold"] for y in (2027, 2030, 2035)] \
        == [0.35, 0.55, 0.80]
    p = load_prices()
    assert (p["cea"]["value"], p["ccer"]["value"], p["gec"]["value"]) == (62.94, 67.6, 5.22)
    assert all(v["source"] and v["status"] in ("S", "G") for v in p.values())


def test_changes_against_a_baseline_run_and_base_year_values():
    base = kpis(import_kwh=1_000_000, s1_kg=100_000, s2_loc_kg=600_000, s2_mkt_kg=600_000)
    now = kpis(import_kwh=700_000, pv_kwh=200_000, s1_kg=80_000, s2_loc_kg=385_000,
               s2_mkt_kg=330_000, gec_mwh=100, days=73)  # a fifth of a year
    ev = evaluate(now, [{"metric": "gross_change_market", "op": "<=", "threshold": -0.1}],
                  baseline_kpis=base)
    # now 410 t in 73 days = 2,050 t/a against 700 t/a: +192.9 %, a fail
    i = ev["indicators"][0]
    assert i["value"] == pytest.approx(2050 / 700 - 1)
    assert i["status"] == "fail"
    ch = ev["baseline"]["changes"]["co2_t_per_tce_market"]
    tce_now = 900 * 0.1229  # 700 MWh imported + 200 MWh PV
    assert ch["value"] == pytest.approx(410 / tce_now) and ch["baseline"] == pytest.approx(
        700 / 122.9)
    # base-year values from the plant file: only the metrics given are compared
    ev = evaluate(now, baseline={"label": "2024", "metrics": {"co2_t_per_tce_market": 4.0}},
                  energy_basis="calorific")
    assert set(ev["baseline"]["changes"]) == {"co2_t_per_tce_market"}
    assert ev["baseline"]["changes"]["co2_t_per_tce_market"]["change_pct"] == pytest.approx(
        (410 / tce_now - 4.0) / 4.0)
    assert ev["baseline"]["reductions_by_measure"] is None  # needs a baseline run


# ---------------------------------------------------------------- found by mutation testing
# (tests/MUTATION.md, evaluation): each case fails for a planted one-line bug the tests above
# let pass.

def full_kpis() -> dict:
    """A run's KPIs with every carrier: 100 MWh imported, PV 30 + wind 10 + CHP 20 MWh made,
    5 MWh exported and 2 MWh curtailed, 10,000 m3 of gas, 1 MWh of purchased heat, 73 days."""
    k = kpis(import_kwh=100_000.0, gas_kwh=10_000 * GAS_KWH_PER_M3, pv_kwh=30_000.0,
             export_kwh=5_000.0, s1_kg=10_000.0, s2_loc_kg=50_000.0, s2_mkt_kg=30_000.0,
             days=73.0, units=150)
    k.update({"wind_kwh": 10_000.0, "chp_kwh": 20_000.0, "curtailed_kwh": 2_000.0,
              "purchased_heat_kwh": 1_000.0, "co2_scope3_materials_kg": 2_000.0,
              "products": {"p": {"units_completed": 100, "component_of": None},
                           "c": {"units_completed": 50, "component_of": "p"}}})
    k["carbon"] = {"instruments": {
        "contract_profile": {"available_mwh": 10.0, "used_mwh": 10.0, "unused_mwh": 0.0},
        "contract_monthly": {"available_mwh": 5.0, "used_mwh": 5.0, "unused_mwh": 0.0},
        "gec": {"available_mwh": 20.0, "used_mwh": 20.0, "unused_mwh": 0.0},
        "onsite": {"available_mwh": 33.0, "used_mwh": 30.0, "unused_mwh": 3.0}},
        "hourly_matched_cfe_share": 0.4}
    return k


def test_metrics_of_a_run_with_every_carrier_by_hand():
    # renewables used on site: 30 + 10 - 5 - 2 = 33 MWh; CHP used: 30 + 10 + 20 - 5 - 2 - 33
    # = 20 MWh. tce: electricity (100 + 33) MWh x 0.1229 = 16.3457; gas 13.3; heat 1,000 kWh x
    # 3.6 MJ/kWh x 0.03412 kgce/MJ = 0.122832; total 29.768532. Scope 1 10 t: location 60 t,
    # market 40 t; 73 days = a fifth of 365. End products: 100 (the 50 components are inside).
    # Onsite claimed min(33, 30) = 30 MWh; contracts 10 + 5; GECs 20: 45 and 65 MWh of the
    # 100 + 33 + 20 = 153 MWh consumed; electricity 0.1229 tce/MWh of what was bought or made.
    m = metrics(full_kpis(), offsets_retired_t=4.0)
    e = 16.3457 + 13.3 + 0.122832
    expected = {
        "gross_t_location": 60.0, "gross_t_market": 40.0, "gross_t_location_per_year": 300.0,
        "gross_t_market_per_year": 200.0, "net_t_market": 36.0, "net_t_market_per_year": 180.0,
        "scope3_materials_t": 2.0, "energy_tce": e, "energy_tce_per_year": 5 * e,
        "co2_t_per_tce_location": 60 / e, "co2_t_per_tce_market": 40 / e,
        "co2_kg_per_unit_location": 600.0, "co2_kg_per_unit_market": 400.0,
        "kgce_per_unit": e * 10.0,
        "renewable_electricity_share_onsite": 33 / 153,
        "renewable_electricity_share_without_certificates": 45 / 153,
        "renewable_electricity_share_with_certificates": 65 / 153,
        "renewable_energy_share_without_certificates": 45 * 0.1229 / e,
        "renewable_energy_share_with_certificates": 65 * 0.1229 / e,
        "hourly_matched_cfe_share": 0.4}
    assert m.keys() == expected.keys()
    for key, value in expected.items():
        assert m[key] == pytest.approx(value, rel=1e-12), key
    assert metrics(full_kpis())["net_t_market"] == pytest.approx(40.0, rel=1e-12)  # no offsets
    # without the carbon section every onsite MWh counts as claimed: 33 + 0 of 153
    bare = {k: v for k, v in full_kpis().items() if k != "carbon"}
    assert metrics(bare)["renewable_electricity_share_without_certificates"] == pytest.approx(
        33 / 153, rel=1e-12)
    assert metrics(bare)["hourly_matched_cfe_share"] is None


def test_metrics_with_the_factor_table_and_electricity_basis_given():
    # electricity at 0.3 kgce/kWh: 133 MWh -> 39.9 tce, by the table or by the argument
    own = fx.default_factors().with_tce_coefficient("electricity", 0.3, "kgce/kWh")
    e = 39.9 + 13.3 + 0.122832
    assert metrics(full_kpis(), factors=own)["energy_tce"] == pytest.approx(e, rel=1e-12)
    assert metrics(full_kpis(), electricity_kgce_per_kwh=0.3)["energy_tce"] == pytest.approx(
        e, rel=1e-12)


def test_metrics_per_unit_and_per_year_at_small_numbers():
    # one unit; half a day (a year is 730 of them); 0.5 MWh bought, all of it by contract
    k = kpis(import_kwh=500.0, s2_loc_kg=250.0, s2_mkt_kg=0.0, contracts_mwh=0.5, days=0.5,
             units=1)
    m = metrics(k)
    assert m["co2_kg_per_unit_location"] == pytest.approx(250.0, rel=1e-12)
    assert m["gross_t_location_per_year"] == pytest.approx(0.25 * 730, rel=1e-12)
    assert m["renewable_energy_share_without_certificates"] == pytest.approx(1.0, rel=1e-12)
    # no days simulated: nothing per year; no units: nothing per unit
    k0 = kpis(days=0.0, units=0)
    m0 = metrics(k0)
    assert math.isnan(m0["gross_t_location_per_year"]) and m0["co2_kg_per_unit_location"] is None
    # units from 'units_completed' when the run has no product breakdown
    flat = {k: v for k, v in kpis(units=150).items() if k != "products"}
    assert metrics(flat)["co2_kg_per_unit_location"] == pytest.approx(500_000 / 150, rel=1e-12)
    del flat["units_completed"]
    assert metrics(flat)["co2_kg_per_unit_location"] is None


def test_footprints_per_unit_takes_cradle_to_gate_then_energy_only():
    k = kpis(footprints={"p": {"co2_kg_per_unit": 12.5},
                         "q": {"cradle_to_gate_kg_per_unit": 3.0, "co2_kg_per_unit": 1.0},
                         "r": {}})
    assert footprints_per_unit(k) == {"p": 12.5, "q": 3.0}


def test_offsets_with_purchased_heat_and_sold_onsite_attributes_by_hand():
    # scope 1 10 t; market-based 52 t of which 2 t purchased heat; 100 MWh imported, 20 MWh by
    # contract; onsite 10 MWh made, attributes of 4 sold: 80 + 4 = 84 MWh uncovered carry the
    # 50 t of electricity; credits for 10 + 2 = 12 t. GEC 5, CCER 70, CEA 60 CNY; 73 days
    k = kpis(import_kwh=100_000.0, s1_kg=10_000.0, s2_loc_kg=60_000.0, s2_mkt_kg=52_000.0,
             contracts_mwh=20.0, days=73.0)
    k["co2_scope2_heat_kg"] = 2_000.0
    k["carbon"]["instruments"]["onsite"] = {"available_mwh": 10.0, "used_mwh": 6.0,
                                            "unused_mwh": 4.0}
    prices = load_prices(PRICES)
    o = offsets(k, prices)
    assert o["gross_t"] == pytest.approx({"scope1": 10.0, "scope2_market": 52.0,
                                          "total_market": 62.0, "scope2_location": 60.0})
    assert o["uncovered_grid_mwh"] == pytest.approx(84.0)
    a = o["to_net_zero"]["certificates_then_credits"]
    assert a == pytest.approx({"gec_mwh": 84.0, "gec_cost": 420.0, "credits_t": 12.0,
                               "credits_cost": 840.0, "total_cost": 1260.0})
    assert o["to_net_zero_per_year"]["certificates_then_credits"] == pytest.approx(
        {"gec_mwh": 420.0, "gec_cost": 2100.0, "credits_t": 60.0, "credits_cost": 4200.0,
         "total_cost": 6300.0})
    assert o["cea_value_of_gross"] == pytest.approx(62 * 60)
    # 22 t of CCER: 12 cover scope 1 and heat, 10 t replace 10 / (50/84) = 16.8 MWh of GECs
    o = offsets(k, prices, [{"kind": "ccer", "t_co2e": 22.0}])
    assert o["to_net_zero"]["certificates_then_credits"]["gec_mwh"] == pytest.approx(67.2)
    assert o["to_net_zero"]["certificates_then_credits"]["credits_t"] == 0.0
    # market-based scope 2 all purchased heat: the 84 uncovered MWh still need their GECs
    k["co2_scope2_market_kg"] = 2_000.0
    assert offsets(k, prices)["to_net_zero"]["certificates_then_credits"]["gec_mwh"] == (
        pytest.approx(84.0))


def test_offsets_of_less_than_a_tonne_and_the_classification():
    # 0.8 MWh uncovered carrying 0.4 t (0.5 t/MWh); 0.2 t of CCER retired replaces 0.4 MWh
    prices = load_prices(PRICES)
    k = kpis(import_kwh=800.0, s2_loc_kg=400.0, s2_mkt_kg=400.0)
    o = offsets(k, prices, [{"kind": "ccer", "t_co2e": 0.2}])
    assert o["to_net_zero"]["certificates_then_credits"]["gec_mwh"] == pytest.approx(0.4)
    assert o["to_net_zero"]["credits_only"]["credits_t"] == pytest.approx(0.2)
    assert o["classification"]["result"] == "not net zero"
    assert o["classification"]["reason"] == "0.200 tCO2e remain after retired offsets"
    # 0.4 t offset in full: by credits; by credits and removals; by removals; nothing to offset
    cases = [([{"kind": "ccer", "t_co2e": 0.4}], "type I",
              "residual emissions offset with credits"),
             ([{"kind": "ccer", "t_co2e": 0.3}, {"kind": "removal", "t_co2e": 0.1}], "type I",
              "residual emissions offset with credits (and removals)"),
             ([{"kind": "removal", "t_co2e": 0.4}], "type II",
              "residual emissions removed by removal projects")]
    for retired, result, reason in cases:
        c = offsets(k, prices, retired)["classification"]
        assert (c["result"], c["reason"]) == (result, reason), retired
    zero = offsets(kpis(import_kwh=0.0), prices)["classification"]
    assert (zero["result"], zero["reason"]) == ("net zero without offsets",
                                                "no residual emissions")


def two_runs() -> tuple[dict, dict]:
    """A baseline run of 73 days (a year is 5 of them) and a run of 146 days (2.5), with heat,
    process and refrigerant emissions, onsite PV and CHP in the second."""
    base = kpis(import_kwh=200_000.0, s1_kg=30_000.0, s2_loc_kg=122_000.0, s2_mkt_kg=122_000.0,
                days=73.0, process_kg=4_000.0, refrigerant_kg=1_000.0)
    base["co2_scope2_heat_kg"] = 2_000.0
    now = kpis(import_kwh=280_000.0, pv_kwh=40_000.0, s1_kg=40_000.0, s2_loc_kg=141_000.0,
               s2_mkt_kg=121_000.0, days=146.0, process_kg=2_000.0, refrigerant_kg=400.0)
    now.update({"co2_scope2_heat_kg": 1_000.0, "chp_kwh": 20_000.0})
    return now, base


def test_reductions_by_measure_of_runs_of_different_lengths_by_hand():
    # per year: baseline I = 1000 MWh, heat H = 10 t, L = M = 610 - 10 = 600 t (f = 0.6),
    # scope 1 150 t (process 20, refrigerant 5, fuel 125), gross 150 + 600 + 10 = 760 t.
    # Now: I = 700, R = 100, C = 50 MWh (E = 850), H = 2.5, L = 352.5 - 2.5 = 350 (f = 0.5),
    # M = 302.5 - 2.5 = 300, scope 1 100 (process 5, refrigerant 1, fuel 94), gross 402.5.
    now, base = two_runs()
    r = reductions_by_measure(now, base)
    expected = {"electricity_use": (1000 - 850) * 0.6, "onsite_renewables": 100 * 0.6,
                "onsite_chp": 50 * 0.6, "grid_factor": 700 * (0.6 - 0.5),
                "green_instruments": (350 - 300) - (600 - 600), "purchased_heat": 10 - 2.5,
                "fuel": 125 - 94, "process": 20 - 5, "refrigerant": 5 - 1, "total": 357.5,
                "gross_baseline_per_year": 760.0, "gross_per_year": 402.5}
    assert r.keys() == expected.keys()
    for key, value in expected.items():
        assert r[key] == pytest.approx(value, rel=1e-12), key
    # a run of no days has no annual figures
    assert math.isnan(reductions_by_measure({**now, "simulated_days": 0.0}, base)["total"])


def test_evaluate_passes_prices_factors_offsets_and_the_baseline_on():
    now, base = two_runs()
    own = fx.default_factors().with_tce_coefficient("electricity", 0.3, "kgce/kWh")
    rules = [{"metric": "gross_change_market", "op": "<=", "threshold": -0.2}]
    ev = evaluate(now, rules, baseline_kpis=base, factors=own,
                  prices={"cea": 60.0, "ccer": 70.0, "gec": 10.0},
                  offsets_retired=[{"kind": "ccer", "t_co2e": 10.0}])
    # electricity at 0.3 kgce/kWh of the table given: (280 + 40) MWh -> 96 tce now,
    # 200 MWh -> 60 tce in the baseline
    assert ev["metrics"]["energy_tce"]["value"] == pytest.approx(96.0, rel=1e-12)
    assert ev["energy_tce"]["total"] == pytest.approx(96.0, rel=1e-12)
    assert ev["energy_tce"]["electricity_kgce_per_kwh"] == 0.3
    changes = ev["baseline"]["changes"]
    assert changes["energy_tce"] == pytest.approx({"baseline": 60.0, "value": 96.0,
                                                   "change": 36.0, "change_pct": 0.6})
    # net market-based: baseline 30 + 122 = 152 t with no offsets; now 40 + 121 - 10 = 151 t
    assert changes["net_t_market"] == pytest.approx({"baseline": 152.0, "value": 151.0,
                                                     "change": -1.0, "change_pct": -1 / 152})
    # gross per year 760 -> 402.5 t: -47.0 %; the cap of -20 % holds with a margin of
    # 0.2704 = 1.352 x its threshold
    x = (402.5 - 760) / 760
    (ind,) = ev["indicators"]
    assert ind["value"] == pytest.approx(x, rel=1e-12) and ind["status"] == "pass"
    assert ind["margin_rel"] == pytest.approx((-0.2 - x) / 0.2, rel=1e-12)
    # GECs at 10 CNY/MWh for the uncovered 280 MWh
    route = ev["offsets"]["to_net_zero"]["certificates_then_credits"]
    assert route["gec_cost"] == pytest.approx(10.0 * route["gec_mwh"]) and route["gec_mwh"] > 0
    assert ev["baseline"]["reductions_by_measure"]["total"] == pytest.approx(357.5)
    # the electricity basis given as a number
    user = evaluate(now, rules, baseline_kpis=base, electricity_kgce_per_kwh=0.3)
    assert user["energy_tce"]["basis"] == ("calorific equivalent (当量值, GB/T 2589) "
                                           "(user coefficient)")
    assert user["energy_tce"]["electricity_kgce_per_kwh"] == 0.3
    assert user["baseline"]["changes"]["energy_tce"]["baseline"] == pytest.approx(60.0)
    # no baseline given: no baseline block
    plain = evaluate(now, rules)
    assert plain["baseline"] is None
    assert plain["energy_tce"]["basis"] == "calorific equivalent (当量值, GB/T 2589)"


def test_rule_sets_carry_their_document_fields_and_user_rules_their_defaults():
    raw = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    for name in rule_set_names():
        r = load_rules(name)
        assert r["name"] == name
        for field in ("title", "document", "source_url", "seen_in", "status", "year", "note"):
            assert r[field] == raw[name].get(field), (name, field)
    user = load_rules([{"metric": "kgce_per_unit", "op": "<=", "threshold": 100,
                        "source": "plant file, section 3"},
                       {"id": "cap", "metric": "gross_t_market", "op": ">=", "threshold": 1,
                        "label": "cap", "basis": "own"}], energy_basis="calorific")
    assert {k: v for k, v in user.items() if k != "indicators"} == {
        "name": "user", "title": "User-defined indicators (plant file)",
        "document": "plant file", "source_url": None, "seen_in": None, "status": "user",
        "year": None, "note": None, "energy_basis": "calorific", "energy_basis_source": "user"}
    assert user["indicators"] == [
        {"id": "kgce_per_unit", "label": METRICS["kgce_per_unit"][0], "metric": "kgce_per_unit",
         "op": "<=", "threshold": 100.0, "unit": METRICS["kgce_per_unit"][1],
         "basis": "plant file, section 3"},
        {"id": "cap", "label": "cap", "metric": "gross_t_market", "op": ">=", "threshold": 1.0,
         "unit": METRICS["gross_t_market"][1], "basis": "own"}]
    with pytest.raises(ValueError, match=r"^indicator 0: op '<'; expected '<=' or '>='$"):
        load_rules([{"metric": "kgce_per_unit", "op": "<", "threshold": 1}])
    with pytest.raises(ValueError, match=r"^indicator 0: threshold must be finite, got inf$"):
        load_rules([{"metric": "kgce_per_unit", "op": "<=", "threshold": float("inf")}])


def test_price_overrides_from_zero_and_their_limits():
    # prices.csv: GEC 5.22 CNY/MWh (October 2025); a user price replaces the value and its source
    assert load_prices()["gec"]["value"] == 5.22 and load_prices()["gec"]["unit"] == "CNY/MWh"
    assert load_prices()["gec"]["date"] == "2025-10"
    for value in (0.0, 0.5):
        p = load_prices({"gec": value})["gec"]
        assert p == {"value": value, "unit": "CNY/MWh", "date": None, "status": "user",
                     "source": "plant file or caller"}
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match=r"^price 'gec' must be finite and >= 0, got "):
            load_prices({"gec": bad})


def test_evaluate_reports_its_period_baseline_label_and_reasons():
    now, base = two_runs()
    rules = [{"metric": "gross_change_market", "op": "<=", "threshold": -0.2},
             {"metric": "footprint_reduction_min", "op": ">=", "threshold": 0.1},
             {"metric": "kgce_per_unit", "op": "<=", "threshold": 100}]
    user = evaluate(now, rules, baseline_kpis=base, electricity_kgce_per_kwh=0.3,
                    energy_basis="calorific")
    assert user["metrics"]["energy_tce"]["value"] == pytest.approx(96.0, rel=1e-12)
    # 146 days: a factor 2.5 to a year, and the note on short periods
    assert user["period"] == {
        "days": 146.0, "start": "2026-01-01", "annualisation_factor": 2.5,
        "note": "146 simulated days from 2026-01-01: ratios are over this period; amounts are "
                "also annualised (x 365 / days); a period shorter than a year leaves out seasons "
                "(PV, heating) and may not represent the annual indicators"}
    year = evaluate(kpis(days=365.0), rules, energy_basis="calorific")
    assert year["period"]["note"] == ("365 simulated days from 2026-01-01: ratios are over this "
                                      "period; amounts are also annualised (x 365 / days)")
    # a judged indicator has no reason; each kind of 'not judged' has its own
    judged, no_fp, per_unit = user["indicators"]
    assert judged["status"] == "pass" and judged["reason"] is None
    assert no_fp["reason"] == "no product has both a baseline footprint and finished units"
    assert per_unit["status"] == "pass" and per_unit["reason"] is None
    bare = evaluate(kpis(units=0), rules, energy_basis="calorific")
    assert [i["reason"] for i in bare["indicators"]] == [
        "no baseline: give carbon.evaluation.baseline in the plant file or twin report "
        "--baseline RUN_DIR",
        "no baseline: give carbon.evaluation.baseline in the plant file or twin report "
        "--baseline RUN_DIR",
        "the run does not give this value (no energy use or no finished units)"]
    # base-year values from the plant file: its label, or 'baseline'; a base value of a metric
    # the run cannot give (no units) is left out of the changes
    given = evaluate(kpis(units=0), rules, baseline={
        "label": "2020 base year",
        "metrics": {"gross_t_market_per_year": 1000.0, "co2_kg_per_unit_location": 500.0}},
        energy_basis="calorific")
    block = given["baseline"]
    assert block["label"] == "2020 base year" and block["footprints"] == {}
    assert block["changes"]["gross_t_market_per_year"] == pytest.approx(
        {"baseline": 1000.0, "value": 500.0, "change": -500.0, "change_pct": -0.5})
    assert "co2_kg_per_unit_location" not in block["changes"]
    assert evaluate(kpis(), rules, baseline={"metrics": {}},
                    energy_basis="calorific")["baseline"]["label"] == "baseline"


def test_footprint_changes_of_products_in_one_run_only():
    # p: 10 -> 8 kg per unit, 20 % less; q only now, r only in the baseline: no reduction
    assert footprint_changes({"p": 8.0, "q": 5.0}, {"p": 10.0, "r": 4.0}) == {
        "p": {"baseline": 10.0, "value": 8.0, "reduction": pytest.approx(0.2)},
        "q": {"baseline": None, "value": 5.0, "reduction": None},
        "r": {"baseline": 4.0, "value": None, "reduction": None}}


def test_reductions_the_other_way_round_and_without_grid_in_the_baseline():
    # the two runs swapped: every measure changes sign (baseline f = 0.5 now)
    now, base = two_runs()
    r = reductions_by_measure(base, now)
    expected = {"electricity_use": (850 - 1000) * 0.5, "onsite_renewables": -100 * 0.5,
                "onsite_chp": -50 * 0.5, "grid_factor": 1000 * (0.5 - 0.6),
                "green_instruments": (600 - 600) - (350 - 300), "purchased_heat": 2.5 - 10,
                "fuel": 94 - 125, "process": 5 - 20, "refrigerant": 1 - 5, "total": -357.5}
    for key, value in expected.items():
        assert r[key] == pytest.approx(value, rel=1e-12), key
    # a baseline without grid import has no grid factor (0): only the factor of the import now
    # counts, 700 MWh x (0 - 0.5) per year
    solar = kpis(import_kwh=0.0, pv_kwh=100_000.0, s2_loc_kg=0.0, s2_mkt_kg=0.0)
    r = reductions_by_measure(now, solar)
    assert r["electricity_use"] == 0.0 and r["onsite_renewables"] == 0.0
    assert r["grid_factor"] == pytest.approx(-350.0, rel=1e-12)


def test_offsets_output_fields_and_short_periods():
    prices = load_prices(PRICES)
    k = kpis(import_kwh=100_000.0, s2_loc_kg=50_000.0, days=0.5)
    retired = [{"kind": "ccer", "t_co2e": 1.0}, {"kind": "removal", "t_co2e": 2.0}]
    o = offsets(k, prices, retired)
    assert set(o) == {"gross_t", "retired_t", "retired", "net_t", "per_year_factor",
                      "to_net_zero", "to_net_zero_per_year", "uncovered_grid_mwh",
                      "cea_value_of_gross", "prices", "classification"}
    assert o["retired_t"] == {"credits": 1.0, "removals": 2.0, "total": 3.0}
    assert o["retired"] == retired and o["prices"] == prices
    assert o["per_year_factor"] == 730.0  # half a day
    assert o["classification"] == {"scheme": "T/CECA-G 0171-2022 style",
                                   "result": "not net zero",
                                   "reason": "47.000 tCO2e remain after retired offsets",
                                   "stars": "not assessed: the star thresholds were not found (U)"}
    assert math.isnan(offsets(kpis(days=0.0), prices)["per_year_factor"])
    # onsite power whose attributes were all sold (4 MWh made, none used by the claim)
    sold = kpis(import_kwh=100_000.0)
    sold["carbon"]["instruments"]["onsite"] = {"available_mwh": 4.0, "used_mwh": 0.0}
    assert offsets(sold, prices)["uncovered_grid_mwh"] == pytest.approx(104.0)


def test_metrics_without_electricity_bought_or_made():
    # gas only: 10,000 m3 = 13.3 tce, no electricity: its renewable energy shares are 0
    m = metrics(kpis(import_kwh=0.0, gas_kwh=10_000 * GAS_KWH_PER_M3, s2_loc_kg=0.0))
    assert m["energy_tce"] == pytest.approx(13.3, rel=1e-12)
    assert m["renewable_energy_share_without_certificates"] == 0.0
    assert m["renewable_electricity_share_onsite"] is None


def test_price_sources_and_the_unknown_rule_set_message():
    with open(PRICES_FILE, encoding="utf-8", newline="") as f:
        gec = next(r for r in csv.DictReader(f) if r["instrument"] == "gec")
    assert load_prices()["gec"]["source"] == "; ".join(
        x for x in (gec["document"], gec["source_url"], gec["seen_in"]) if x)
    with pytest.raises(ValueError, match=r"^unknown rule set 'hunan_2040'; expected one of "
                                         r"\[.*\] or a list of indicators$"):
        load_rules("hunan_2040")


def test_judge_tolerance_scales_with_the_threshold():
    # a shortfall of exactly JUDGE_TOL x max(1, |threshold|) still passes; beyond it fails
    assert judge(JUDGE_TOL, "<=", 0.0)[0] == "pass"
    assert judge(100 + 50 * JUDGE_TOL, "<=", 100.0)[0] == "pass"  # tolerance 100 x JUDGE_TOL
    assert judge(0.5 + 1.5 * JUDGE_TOL, "<=", 0.5)[0] == "fail"  # tolerance 1 x JUDGE_TOL
    assert energy_tce(full_kpis())["heat"] == pytest.approx(0.122832, rel=1e-12)


def test_evaluate_labels_its_baseline_run_and_lists_its_fields():
    now, base = two_runs()
    rules = [{"metric": "gross_change_market", "op": "<=", "threshold": -0.2}]
    ev = evaluate(now, rules, baseline_kpis=base, electricity_kgce_per_kwh=0.3)
    assert ev["baseline"]["label"] == "baseline run (constructed, 2026-01-01, 73 days)"
    named = evaluate(now, rules, baseline_kpis={**base, "baseline_label": "before the PV"})
    assert named["baseline"]["label"] == "before the PV"
    anon = {key: v for key, v in base.items() if key not in ("plant", "start")}
    assert evaluate(now, rules, baseline_kpis=anon)["baseline"]["label"] == (
        "baseline run (?, ?, 73 days)")
    assert "indicators" not in ev["rules"] and ev["rules"]["name"] == "user"
    assert ev["metrics"]["energy_tce"] == {"value": pytest.approx(96.0, rel=1e-12),
                                           "label": METRICS["energy_tce"][0],
                                           "unit": METRICS["energy_tce"][1]}
    assert ev["energy_tce"]["total"] == pytest.approx(96.0, rel=1e-12)  # (280 + 40) x 0.3
    # a run without a start date; footprints now but none in the baseline: nothing to compare
    k = {key: v for key, v in kpis(footprints={"p": {"co2_kg_per_unit": 3.0}}).items()
         if key != "start"}
    ev = evaluate(k, rules, baseline={"metrics": {}})
    assert ev["period"]["note"].startswith("365 simulated days from ?: ")
    assert ev["baseline"]["footprints"] == {}


# ------------------------------------------------------------------------------------------
# The energy basis of the evaluation: year, the other basis, who chose it (mutation round of
# 2026-12-07 on the changed source)
# ------------------------------------------------------------------------------------------

EQUAL_VALUE = {2005: 0.370, 2010: 0.333, 2020: 0.3055}  # power_supply_coal.csv, kgce/kWh
CALORIFIC = 0.1229  # GB/T 2589-2020, tce_coefficients.csv


def test_the_energy_basis_follows_the_grid_factor_year_and_says_who_chose_it():
    # 1,000 MWh from the grid, market-based scope 2 at 0.5 t/MWh = 500 t. The run's grid factor
    # is of 2012: the equal-value coefficient is the latest shipped year before it, 2010 (333
    # gce/kWh): 333 tce; on the other (calorific) basis 122.9 tce.
    k = kpis()
    k["carbon"]["grid_factor"] = {"year": 2012}
    ev = evaluate(k, "hunan_2030")  # the rule set's basis: equal value, with its reason
    eb = ev["energy_basis"]
    why = load_rules("hunan_2030")["energy_basis_source"]
    assert why.startswith("G: the scheme text seen does not name the basis")
    assert (eb["basis"], eb["year"], eb["electricity_kgce_per_kwh"], eb["chosen_by"]) == (
        "equal_value", 2010, pytest.approx(EQUAL_VALUE[2010]), why)
    assert ev["energy_tce"]["total"] == pytest.approx(333.0, rel=1e-12)
    assert ev["energy_tce"]["basis"].endswith(", 2010")
    assert eb["other"]["electricity_kgce_per_kwh"] == pytest.approx(CALORIFIC)
    assert eb["other"]["energy_tce"]["total"] == pytest.approx(122.9, rel=1e-12)
    assert eb["other"]["metrics"]["co2_t_per_tce_market"] == pytest.approx(500 / 122.9)
    rows = by_id(ev)
    tce_rows = [r for r in rows.values() if r["metric"] in ("co2_t_per_tce_market",)]
    assert tce_rows and all(r["value"] == pytest.approx(500 / 333.0) and r["value_other_basis"]
                            == pytest.approx(500 / 122.9) for r in tce_rows)
    # the year as text, a year that is not one, and no year: the text is read, else the latest
    for year, expected in (("2012", 2010), ("n/a", 2020), (None, 2020)):
        k["carbon"]["grid_factor"] = {"year": year}
        assert evaluate(k, "hunan_2030")["energy_basis"]["year"] == expected, year
    del k["carbon"]["grid_factor"]
    assert evaluate(k, "hunan_2030")["energy_basis"]["electricity_kgce_per_kwh"] == pytest.approx(
        EQUAL_VALUE[2020])
    # the user's basis: calorific, and the other basis (equal value) still of the run's year
    k["carbon"]["grid_factor"] = {"year": 2012}
    user = evaluate(k, "hunan_2030", energy_basis="calorific")["energy_basis"]
    assert (user["basis"], user["chosen_by"]) == ("calorific", "user")
    assert (user["other"]["year"], user["other"]["electricity_kgce_per_kwh"]) == (
        2010, pytest.approx(EQUAL_VALUE[2010]))
    assert user["other"]["energy_tce"]["total"] == pytest.approx(333.0, rel=1e-12)
    # a factor table with its own calorific coefficient: the other basis of an equal-value rule
    # set reads it too (0.3 kgce/kWh: 300 tce)
    own = fx.default_factors().with_tce_coefficient("electricity", 0.3, "kgce/kWh")
    other = evaluate(k, "hunan_2030", factors=own)["energy_basis"]["other"]
    assert other["electricity_kgce_per_kwh"] == 0.3
    assert other["energy_tce"]["total"] == pytest.approx(300.0, rel=1e-12)
    assert evaluate(k, "hunan_2030", energy_basis="equal_value")["energy_basis"][
        "chosen_by"] == why  # the rule set's own basis named again: still the rule set's
    # user indicators: with a basis, the user's; without a tce metric, the calorific default
    tce = [{"metric": "co2_t_per_tce_market", "op": "<=", "threshold": 1.25}]
    plain = [{"metric": "gross_t_market_per_year", "op": "<=", "threshold": 1000.0}]
    assert evaluate(k, tce, energy_basis="equal_value")["energy_basis"]["chosen_by"] == "user"
    default = evaluate(k, plain)
    assert (default["energy_basis"]["basis"], default["energy_basis"]["chosen_by"]) == (
        "calorific", "default (no indicator uses tce)")
    assert default["indicators"][0]["value_other_basis"] is None  # not a tce metric


def test_a_plant_without_products_is_not_judged_per_unit_and_says_why():
    k = kpis(units=0)
    k["production"] = False
    rules = [{"metric": "kgce_per_unit", "op": "<=", "threshold": 10.0},
             {"metric": "co2_t_per_tce_market", "op": "<=", "threshold": 9.0}]
    rows = evaluate(k, rules, energy_basis="calorific")["indicators"]
    assert rows[0]["status"] == "not_judged"
    assert rows[0]["reason"] == "the plant makes no products (no production in the plant file)"
    assert rows[1]["status"] == "pass" and rows[1]["reason"] is None
    k["production"] = True  # a plant with production that finished nothing: another reason
    assert evaluate(k, rules, energy_basis="calorific")["indicators"][0]["reason"] == (
        "the run does not give this value (no energy use or no finished units)")


def test_relative_changes_against_the_baseline_by_hand():
    from twin.carbon.evaluation import _changes

    values = {"gross_t_market_per_year": 80.0, "kgce_per_unit": 9.0,
              "co2_t_per_tce_market": 1.5, "renewable_energy_share_with_certificates": 0.40}
    base = {"gross_t_market_per_year": 100.0, "kgce_per_unit": 10.0,
            "co2_t_per_tce_market": 2.0, "renewable_energy_share_with_certificates": 0.25}
    assert _changes(values, base) == pytest.approx({
        "gross_change_market": -0.2, "kgce_per_unit_change": -0.1,
        "co2_t_per_tce_market_change": -0.25, "renewable_energy_share_change": 0.15})
    # a base of 0, a missing side or a value that is not finite: no change
    for v_over, b_over in (({}, {"kgce_per_unit": 0.0}), ({"kgce_per_unit": None}, {}),
                           ({}, {"kgce_per_unit": None}), ({"kgce_per_unit": math.inf}, {})):
        got = _changes({**values, **v_over}, {**base, **b_over})
        assert got["kgce_per_unit_change"] is None, (v_over, b_over)
        assert got["gross_change_market"] == pytest.approx(-0.2)
    assert _changes({}, base)["renewable_energy_share_change"] is None


def test_end_product_units_are_whole_unless_a_lot_lost_part():
    from twin.carbon.evaluation import end_product_units

    k = kpis(units=3)
    assert end_product_units(k) == 3 and isinstance(end_product_units(k), int)
    k["products"] = {"p": {"units_completed": 2.5, "component_of": None},
                     "part": {"units_completed": 7, "component_of": "p"}}
    assert end_product_units(k) == 2.5 and isinstance(end_product_units(k), float)


def test_the_table_given_gives_the_gas_coefficient_on_both_bases():
    # 100 MWh of gas and no electricity: the table's gas coefficient doubled doubles the tce on
    # both bases and in the baseline run's values
    base_k, now_k = kpis(import_kwh=0.0, gas_kwh=100_000.0), kpis(import_kwh=0.0,
                                                                   gas_kwh=100_000.0)
    default = fx.default_factors()
    gas = default.tce_coefficient("natural_gas")
    own = default.with_tce_coefficient("natural_gas", 2 * gas.kgce_per_unit, f"kgce/{gas.per_unit}")
    rules = [{"metric": "energy_tce", "op": "<=", "threshold": 1e9}]
    a = evaluate(now_k, rules, energy_basis="calorific", baseline_kpis=base_k)
    b = evaluate(now_k, rules, energy_basis="calorific", baseline_kpis=base_k, factors=own)
    assert a["energy_tce"]["total"] > 0
    assert b["energy_tce"]["total"] == pytest.approx(2 * a["energy_tce"]["total"], rel=1e-12)
    assert b["metrics"]["energy_tce"]["value"] == pytest.approx(
        2 * a["metrics"]["energy_tce"]["value"], rel=1e-12)
    assert b["energy_basis"]["other"]["energy_tce"]["total"] == pytest.approx(
        2 * a["energy_basis"]["other"]["energy_tce"]["total"], rel=1e-12)
    assert b["energy_basis"]["other"]["metrics"]["energy_tce"] == pytest.approx(
        2 * a["energy_basis"]["other"]["metrics"]["energy_tce"], rel=1e-12)
    assert b["baseline"]["changes"]["energy_tce"]["baseline"] == pytest.approx(
        2 * a["baseline"]["changes"]["energy_tce"]["baseline"], rel=1e-12)
    # the same gas now and in the baseline, on the same table: no change on either basis
    assert b["energy_basis"]["other"]["metrics"]["kgce_per_unit_change"] == 0.0
    assert b["metrics"]["kgce_per_unit_change"]["value"] == 0.0


def test_changes_on_the_other_basis_by_hand():
    # Baseline: 1,000 MWh of electricity. Now: 800 MWh and 100 MWh of gas; 1,000 units both.
    # Gas in tce: 100,000 kWh / NCV [kWh/m3] x 1.33 kgce/m3 (the packaged tables). On the
    # equal-value basis (hunan, 2020: 0.3055 kgce/kWh) and on the calorific one (0.1229) the
    # change of kgce per unit is (E_now - E_base) / E_base with E = electricity x coefficient
    # + gas tce: different on the two bases, each worked out here.
    table = fx.default_factors()
    gas_tce = (100_000.0 / table.fuel_factor("natural_gas").kwh_per_unit
               * table.tce_coefficient("natural_gas").kgce_per_unit / 1000.0)
    base_k = kpis(import_kwh=1_000_000.0, units=1000)
    now_k = kpis(import_kwh=800_000.0, gas_kwh=100_000.0, units=1000)
    ev = evaluate(now_k, "hunan_2030", baseline_kpis=base_k)
    cal = evaluate(now_k, "hunan_2030", baseline_kpis=base_k, energy_basis="calorific")
    for coef, got in ((EQUAL_VALUE[2020], ev["metrics"]["kgce_per_unit_change"]["value"]),
                      (CALORIFIC, ev["energy_basis"]["other"]["metrics"]
                       ["kgce_per_unit_change"]),
                      (CALORIFIC, cal["metrics"]["kgce_per_unit_change"]["value"]),
                      (EQUAL_VALUE[2020], cal["energy_basis"]["other"]["metrics"]
                       ["kgce_per_unit_change"])):
        e_base, e_now = 1000.0 * coef, 800.0 * coef + gas_tce
        assert got == pytest.approx((e_now - e_base) / e_base, rel=1e-12), coef
