"""Energy basis of electricity in tce (calorific vs equal-value), checked by hand.

Independent truth: GB/T 2589's calorific equivalent 0.1229 kgce/kWh; the national average coal
consumption of thermal power supply, 305.5 gce/kWh in 2020 (NDRC and NEA coal power upgrade
plan, Nov 2021, as reported); the national 2023 grid factor 0.5306 kgCO2/kWh; and the issue's
arithmetic for the Hunan thresholds: grid power alone at about 0.30 kgce/kWh is
0.5306 / 0.300 = 1.77 tCO2/tce, and 1.77 x (1 - 0.35 / 0.55 / 0.80) = 1.15 / 0.80 / 0.35, just
under 1.25 / 0.87 / 0.37.
"""

from __future__ import annotations

import pytest
from conftest import const, make_plant, station

from twin.carbon.energy_basis import (
    co2_per_tce_of_grid_power,
    electricity_coefficient,
    load_power_supply_coal,
    supply_coal,
)
from twin.carbon.evaluation import evaluate, load_rules
from twin.config import ConfigError

NATIONAL_2023 = 0.5306


def kpis(*, import_mwh=1000.0, market_share_covered=0.0, units=1000, days=365.0,
         scope1_t=0.0):
    """Constructed KPIs: grid import only, GECs covering a share of it (market-based scope 2 of
    the rest at the location factor, to keep the hand arithmetic of the issue)."""
    loc_kg = import_mwh * 1000 * NATIONAL_2023
    gec = import_mwh * market_share_covered
    return {
        "plant": "constructed", "start": "2026-01-01", "simulated_days": days,
        "grid_import_kwh": import_mwh * 1000, "grid_export_kwh": 0.0, "pv_kwh": 0.0,
        "wind_kwh": 0.0, "curtailed_kwh": 0.0, "natural_gas_kwh": 0.0,
        "co2_scope1_kg": scope1_t * 1000, "co2_scope2_location_kg": loc_kg,
        "co2_scope2_market_kg": loc_kg * (1 - market_share_covered),
        "units_completed": units,
        "products": {"p": {"units_completed": units, "component_of": None}},
        "carbon": {"instruments": {"gec": {"available_mwh": gec, "used_mwh": gec}}},
    }


def by_id(ev):
    return {i["id"]: i for i in ev["indicators"]}


def test_the_issues_equal_value_arithmetic_by_hand():
    # grid power alone: 0.5306 kgCO2/kWh / 0.300 kgce/kWh = 1.7687 tCO2/tce
    assert co2_per_tce_of_grid_power(NATIONAL_2023, 0.300) == pytest.approx(1.768667, abs=1e-6)
    assert round(co2_per_tce_of_grid_power(NATIONAL_2023, 0.300), 2) == 1.77
    # and on the calorific basis 4.32 tCO2/tce: a factor of four above 1.25
    assert co2_per_tce_of_grid_power(NATIONAL_2023, 0.1229) == pytest.approx(4.317331, abs=1e-6)
    # the chain 1.77 x (1 - share) = 1.15 / 0.80 / 0.35 against 1.25 / 0.87 / 0.37
    for share, shown, limit in ((0.35, 1.15, 1.25), (0.55, 0.80, 0.87), (0.80, 0.35, 0.37)):
        assert round(1.77 * (1 - share), 2) == pytest.approx(shown)
        assert shown < limit
    # the same through the evaluation: 1,000 MWh, GECs cover the level's share, equal-value
    # basis at the issue's 0.300 kgce/kWh: 530.6 t x (1 - share) / 300 tce
    for year, share, limit in ((2027, 0.35, 1.25), (2030, 0.55, 0.87), (2035, 0.80, 0.37)):
        ev = evaluate(kpis(market_share_covered=share), f"hunan_{year}",
                      electricity_kgce_per_kwh=0.300)
        i = by_id(ev)["co2_per_tce"]
        assert i["value"] == pytest.approx(530.6 * (1 - share) / 300, rel=1e-12)
        assert i["status"] == "pass" and i["margin"] == pytest.approx(
            limit - 530.6 * (1 - share) / 300, rel=1e-9)
        assert by_id(ev)["renewable_share"]["value"] == pytest.approx(share, rel=1e-12)
        assert by_id(ev)["renewable_share"]["status"] == "pass"
        # the calorific value is shown beside it: 530.6 x (1 - share) / 122.9, a fail
        assert i["value_other_basis"] == pytest.approx(530.6 * (1 - share) / 122.9, rel=1e-12)
        assert ev["energy_basis"]["status"] == "user"


def test_shipped_coefficients_and_the_hunan_rule_sets_basis():
    # hunan_2030 says equal-value; the shipped value for 2020 is 305.5 gce/kWh
    r = load_rules("hunan_2030")
    assert r["energy_basis"] == "equal_value" and "1.77" in r["energy_basis_source"]
    ev = evaluate(kpis(), "hunan_2030")
    assert ev["energy_basis"]["electricity_kgce_per_kwh"] == pytest.approx(0.3055)
    assert ev["energy_basis"]["year"] == 2020
    assert ev["energy_tce"]["electricity"] == pytest.approx(1_000_000 * 0.3055 / 1000)
    assert by_id(ev)["co2_per_tce"]["value"] == pytest.approx(530.6 / 305.5, rel=1e-12)
    other = ev["energy_basis"]["other"]
    assert other["basis"] == "calorific"
    assert other["electricity_kgce_per_kwh"] == pytest.approx(0.1229)
    assert other["metrics"]["co2_t_per_tce_market"] == pytest.approx(530.6 / 122.9, rel=1e-12)
    assert other["energy_tce"]["total"] == pytest.approx(122.9, rel=1e-12)


def test_basis_switching():
    k = kpis(market_share_covered=0.5)  # 265.3 t market-based
    eq = evaluate(k, "hunan_2030")
    cal = evaluate(k, "hunan_2030", energy_basis="calorific")
    assert cal["rules"]["energy_basis"] == "calorific"
    assert cal["rules"]["energy_basis_source"] == "user"
    assert by_id(cal)["co2_per_tce"]["value"] == pytest.approx(265.3 / 122.9, rel=1e-12)
    assert by_id(eq)["co2_per_tce"]["value"] == pytest.approx(265.3 / 305.5, rel=1e-12)
    # switching swaps the value in force and the one beside it
    assert by_id(cal)["co2_per_tce"]["value_other_basis"] == pytest.approx(
        by_id(eq)["co2_per_tce"]["value"], rel=1e-12)
    assert by_id(eq)["co2_per_tce"]["value_other_basis"] == pytest.approx(
        by_id(cal)["co2_per_tce"]["value"], rel=1e-12)
    # 0.868 on the equal-value basis passes 0.87; 2.16 on the calorific basis fails
    assert by_id(eq)["co2_per_tce"]["status"] == "pass"
    assert by_id(cal)["co2_per_tce"]["status"] == "fail"
    # per unit: 1,000 units, 305.5 tce -> 305.5 kgce/unit; 122.9 on the calorific basis
    assert eq["metrics"]["kgce_per_unit"]["value"] == pytest.approx(305.5)
    assert cal["metrics"]["kgce_per_unit"]["value"] == pytest.approx(122.9)
    # a metric that does not depend on tce is the same on both bases and has nothing beside it
    assert (eq["metrics"]["gross_t_market"]["value"]
            == cal["metrics"]["gross_t_market"]["value"])
    assert "gross_t_market" not in eq["energy_basis"]["other"]["metrics"]


def test_a_rule_set_without_a_basis_is_refused(tmp_path):
    f = tmp_path / "rules.yaml"
    f.write_text("mine:\n  title: t\n  document: d\n  status: G\n  indicators:\n"
                 "    - {metric: co2_t_per_tce_market, op: '<=', threshold: 1, basis: ours}\n",
                 encoding="utf-8")
    with pytest.raises(ValueError, match=r"rules\.yaml: rule set 'mine': energy_basis None; "
                                         r"expected one of \['calorific', 'equal_value'\]"):
        load_rules("mine", path=f)
    g = tmp_path / "rules2.yaml"  # rule files are read once per path
    g.write_text(f.read_text(encoding="utf-8").replace("status: G", "status: G\n  "
                                                        "energy_basis: coal"), encoding="utf-8")
    with pytest.raises(ValueError, match="energy_basis 'coal'"):
        load_rules("mine", path=g)
    # user indicators that use tce must say their basis; others need not
    with pytest.raises(ValueError, match=r"indicators use tce .*co2_t_per_tce_market"):
        load_rules([{"metric": "co2_t_per_tce_market", "op": "<=", "threshold": 1}])
    assert load_rules([{"metric": "net_t_market", "op": "<=", "threshold": 0}])["indicators"]
    with pytest.raises(ValueError, match="energy basis 'bogus'"):
        evaluate(kpis(), "hunan_2030", energy_basis="bogus")


def test_plant_file_indicators_using_tce_need_a_basis():
    rules = [{"metric": "kgce_per_unit", "op": "<=", "threshold": 5}]
    plant = dict(lines=[{"id": "l", "stations": [station("s", const(60))]}])
    with pytest.raises(ConfigError) as err:
        make_plant(**plant, carbon={"evaluation": {"rules": rules}})
    assert "carbon.evaluation.energy_basis" in str(err.value)
    assert "kgce_per_unit" in str(err.value)
    make_plant(**plant, carbon={"evaluation": {"rules": rules, "energy_basis": "equal_value"}})


def test_power_supply_coal_table_is_sourced_and_checked(tmp_path):
    rows = load_power_supply_coal()
    assert [r.year for r in rows] == sorted(r.year for r in rows)
    assert all(r.publisher and r.document and r.source and r.status in ("S", "S2")
               for r in rows)
    assert {r.year: r.gce_per_kwh for r in rows}[2020] == 305.5
    # a year without a row takes the latest before it and says so
    assert supply_coal(2023).year == 2020
    c = electricity_coefficient("equal_value", 2023)
    assert c.kgce_per_kwh == pytest.approx(0.3055) and "2023" in c.note and "2020" in c.note
    with pytest.raises(ValueError, match="no coal consumption of thermal power supply for 1990"):
        supply_coal(1990)
    with pytest.raises(ValueError, match=r"energy basis 'heat'; expected one of"):
        electricity_coefficient("heat")
    bad = tmp_path / "coal.csv"
    head = "year,value,unit,publisher,document,source_url,seen_in,status,note\n"
    bad.write_text(head + "2020,3055,gce/kWh,p,d,u,s,S2,\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"coal\.csv, line 2, column value: 3055"):
        load_power_supply_coal(bad)
    bad.write_text(head + "2020,305.5,kgce/kWh,p,d,u,s,S2,\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2, column unit: 'kgce/kWh'"):
        load_power_supply_coal(bad)
    bad.write_text(head + "2020,305.5,gce/kWh,p,d,u,s,S2,\n2020,300,gce/kWh,p,d,u,s,S2,\n",
                   encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 3, column year: 2020 appears twice"):
        load_power_supply_coal(bad)


def test_national_guideline_rule_set_judges_trends_against_a_baseline():
    base = kpis(import_mwh=1000, units=1000)
    # 10 % less electricity per unit, GECs for 20 %: every trend improves
    now = kpis(import_mwh=900, units=1000, market_share_covered=0.2)
    ev = evaluate(now, "national_guideline_2026", baseline_kpis=base)
    i = by_id(ev)
    assert i["gross_co2_trend"]["value"] == pytest.approx(900 * 0.8 / 1000 - 1)  # -28 %
    assert i["efficiency_trend"]["value"] == pytest.approx(-0.1)
    assert i["renewable_share_trend"]["value"] == pytest.approx(0.2)
    # tCO2/tce market-based: 0.8 x the grid value on both sides -> -20 %
    assert i["co2_intensity_trend"]["value"] == pytest.approx(-0.2)
    assert all(i[k]["status"] == "pass" for k in ("gross_co2_trend", "efficiency_trend",
                                                  "renewable_share_trend",
                                                  "co2_intensity_trend"))
    # offsets last: nothing retired, so not net zero
    assert i["offsets_last"]["status"] == "fail" and ev["verdict"] == "fail"
    # without a baseline the trends cannot be judged, and say why
    j = by_id(evaluate(now, "national_guideline_2026"))
    assert j["gross_co2_trend"]["status"] == "not_judged"
    assert "baseline" in j["gross_co2_trend"]["reason"]


def test_dashboard_evaluation_table_shows_the_other_basis_beside_it():
    from twin.dashboard.page import evaluation_section

    html = evaluation_section(evaluate(kpis(), "hunan_2030"))
    assert "<th>On the calorific basis</th>" in html
    # 530.6 t over 305.5 tce in force, over 122.9 tce beside it
    assert f"{530.6 / 305.5:,.3f}\u00a0tCO2/tce" in html
    assert f"{530.6 / 122.9:,.3f}\u00a0tCO2/tce" in html
    assert "0.3055 kgce/kWh" in html and "0.1229 kgce/kWh" in html
