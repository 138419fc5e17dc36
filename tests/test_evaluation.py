"""Zero-carbon evaluation on constructed KPIs, checked against hand calculations.

Constructed KPIs isolate the evaluation from the simulation: every number below is worked out by
hand from the indicator definitions in ``twin/carbon/evaluation.py`` and the GB/T 2589
coefficients of ``twin/data/carbon/tce_coefficients.csv`` (electricity 0.1229 kgce/kWh, natural
gas 1.3300 kgce/m3 with NCV 38,931 kJ/m3).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.carbon.evaluation import (
    METRICS,
    energy_tce,
    evaluate,
    judge,
    load_prices,
    load_rules,
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
