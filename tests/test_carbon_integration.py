"""The carbon side end to end: ONE plant with everything at once, checked by hand.

The plant (two days from Saturday 2026-01-31 00:00 Asia/Shanghai, over a month boundary):

* kits assembled from components a (2 lots of 1 unit) and b (1 lot of 2 units) per kit lot of 4
  units, so one kit unit holds 0.5 a and 0.5 b;
* an oven at the assembly station draws a constant 80 kW of heat: a 50 kW gas boiler
  (efficiency 0.9) runs first, purchased heat (at most 50 kW) tops up, so 50 kW x 48 h = 2,400
  kWh heat from 2,666.67 kWh gas and 30 kW x 48 h = 1,440 kWh bought;
* a 60 kWp PV array (sunny 10:00-14:00 each day) and a 60 kWh battery (self-consumption);
* process emissions: 1 kg per kit unit, 0.5 kg per unit of component a (0.25 kg per kit unit),
  36.5 t/a for the plant and 7.3 t/a for kits (200 kg and 40 kg in two days);
* a chiller: 100 kg R-134a, 10 % a year, GWP 1,300 (AR5): 13,000 kg/a, 71.23 kg in 48 h;
* materials: 3 kg steel at 2 kgCO2e/kg per a, a box (0.25 kgCO2e) per kit: 3.25 kg per kit unit;
* 0.3 MWh of GECs retired; 0.5 t of CCER retired.

Independent truth (literals here, not read from the package): grid factor national 2023
0.5306 kgCO2/kWh, residual 0.6096; natural gas by GB/T 32150 (NCV 38,931 kJ/m3, 15.3 tC/TJ,
oxidation 99 %); purchased heat 0.11 tCO2/GJ (MEE default); GB/T 2589: electricity 0.1229
kgce/kWh, natural gas 1.33 kgce/m3, heat 0.03412 kgce/MJ. The EMS flows (grid import, PV,
battery) are taken from the run and checked by their energy balance; everything carbon is
recomputed from them here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import const, make_plant, station
from hypothesis import given, settings
from hypothesis import strategies as st

import twin
from twin.carbon.evaluation import reductions_by_measure

NATIONAL_2023 = 0.5306
RESIDUAL_2023 = 0.6096
GAS_KWH_PER_M3 = 38_931 / 3600
GAS_KG_PER_M3 = 0.038931 * 15.3 * 0.99 * 44 / 12
HEAT_KG_PER_KWH = 0.0036 * 0.11 * 1000  # kWh -> GJ x tCO2/GJ x kg/t = 0.396
KGCE = {"electricity": 0.1229, "gas_m3": 1.33, "heat_mj": 0.03412}
DAYS = 2
HOURS = 24 * DAYS
START = "2026-01-31"


def _weather(path) -> str:
    hours = pd.date_range(START, periods=HOURS, freq="h")
    sun = np.isin(hours.hour, [10, 11, 12, 13])
    pd.DataFrame({"timestamp": hours.strftime("%Y-%m-%d %H:%M"),
                  "ghi": np.where(sun, 800.0, 0.0), "dni": np.where(sun, 800.0, 0.0),
                  "dhi": np.where(sun, 100.0, 0.0), "temp_air": 10.0, "wind_speed": 1.0}
                 ).to_csv(path, index=False)
    return str(path)


def everything_plant(weather: str, purchased_heat: bool = True) -> twin.Plant:
    machine = {"id": "machine", "power_kw": {"electricity": {"idle": 2, "processing": 10}}}
    oven = {"id": "oven", "power_kw": {"electricity": {"idle": 5, "processing": 5},
                                       "heat": {"idle": 80, "processing": 80}}}
    energy = {
        "weather": {"file": weather},
        "pv": [{"id": "roof", "dc_kwp": 60, "tilt_deg": 30, "azimuth_deg": 180}],
        "batteries": [{"id": "bess", "energy_kwh": 60, "power_kw": 30, "initial_soc_pct": 10,
                       "soc_min_pct": 10}],
        "boilers": [{"id": "boiler", "capacity_kw": 50 if purchased_heat else 100,
                     "efficiency": 0.9}],
        "grid": {"gas_price_per_kwh": 0.3,
                 "tariff": {"preset": "jiangsu_2025", "customer_class": "two_part",
                            "flat_price_per_kwh": 0.5, "demand_charge_per_kw_month": 40}},
        "dispatch": {"policy": "self_consumption"},
    }
    if purchased_heat:
        energy["purchased_heat"] = {"price_per_gj": 60, "capacity_kw": 50,
                                    "merit_order": "after_boilers"}
    return make_plant(
        lines=[{"id": "line", "stations": [
            station("cut", const(300)), station("mold", const(400)),
            station("asm", const(500), equipment="oven"), station("pack", const(200))]}],
        products=[{"id": "a", "route": ["cut"]},
                  {"id": "b", "route": ["mold"], "units_per_lot": 2},
                  {"id": "kit", "route": ["asm", "pack"], "units_per_lot": 4,
                   "components": {"a": 2, "b": 1}}],
        sources=[{"id": "plan", "kind": "plan", "quantities": {"kit": 150}}],
        equipment_types=[machine, oven],
        base_loads=[{"id": "hvac", "group": "facility", "power_kw": {"electricity": 20}}],
        energy=energy,
        carbon={
            "green_certificates_mwh": 0.3,
            "process_emissions": [
                {"name": "welding gas", "t_co2e_per_unit": 0.001, "product": "kit",
                 "source": "test"},
                {"name": "degreasing", "t_co2e_per_unit": 0.0005, "product": "a",
                 "source": "test"},
                {"name": "lab gases", "t_co2e_per_year": 36.5, "source": "test"},
                {"name": "curing", "t_co2e_per_year": 7.3, "product": "kit", "source": "test"}],
            "refrigerants": [{"name": "chiller", "gas": "R-134a", "charge_kg": 100,
                              "annual_leak_rate": 0.1, "report": "AR5"}],
            "materials": {
                "a": [{"name": "steel", "quantity_per_unit": 3.0, "kg_co2e_per_unit": 2.0,
                       "source": "test"}],
                "kit": [{"name": "box", "quantity_per_unit": 1, "unit": "pcs",
                         "kg_co2e_per_unit": 0.25, "source": "test"}]},
            "evaluation": {"offsets_retired": [{"kind": "ccer", "t_co2e": 0.5}],
                           "energy_basis": "calorific"},
        })


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("everything")
    res = twin.simulate(everything_plant(_weather(d / "weather.csv")), days=DAYS, start=START)
    res.save(d / "run")
    return res, d / "run"


def hand(res) -> dict[str, float]:
    """Every carbon number of the run recomputed by hand from its energy flows."""
    iv, k = res.intervals, res.kpis
    units = k["products"]["kit"]["units_completed"]
    gas_kwh = 50 * HOURS / 0.9
    gas_m3 = gas_kwh / GAS_KWH_PER_M3
    heat_kwh = 30 * HOURS
    imp = float(iv["grid_import_kwh"].sum())
    onsite = float((iv["pv_kwh"] - iv["curtailed_kwh"] - iv["grid_export_kwh"]).sum())
    process = units * 1.0 + units * 0.5 * 0.5 + 36_500 * DAYS / 365 + 7_300 * DAYS / 365
    refrigerant = 100 * 0.1 * 1300 * HOURS / 8760
    fuel = gas_m3 * GAS_KG_PER_M3
    heat = heat_kwh * HEAT_KG_PER_KWH
    elec_tce = (imp + onsite) * KGCE["electricity"] / 1000
    gas_tce = gas_m3 * KGCE["gas_m3"] / 1000
    heat_tce = heat_kwh * 3.6 * KGCE["heat_mj"] / 1000
    return {
        "units": units, "gas_kwh": gas_kwh, "heat_kwh": heat_kwh, "import": imp,
        "onsite": onsite, "process": process, "refrigerant": refrigerant, "fuel": fuel,
        "heat": heat, "scope1": fuel + process + refrigerant,
        "elec_location": imp * NATIONAL_2023, "elec_market": (imp - 300.0) * RESIDUAL_2023,
        "location": imp * NATIONAL_2023 + heat, "market": (imp - 300.0) * RESIDUAL_2023 + heat,
        "materials": 3.25 * units, "elec_tce": elec_tce, "gas_tce": gas_tce,
        "heat_tce": heat_tce, "tce": elec_tce + gas_tce + heat_tce,
    }


def test_flows_balance_and_the_heat_plant_splits_as_configured(run):
    res, _ = run
    iv, k = res.intervals, res.kpis
    h = hand(res)
    # electricity balance per interval (no unserved, nothing from CHP)
    supply = (iv["pv_kwh"] - iv["curtailed_kwh"] + iv["battery_discharge_kwh"]
              + iv["grid_import_kwh"])
    use = iv["electricity_demand_kwh"] + iv["battery_charge_kwh"] + iv["grid_export_kwh"]
    np.testing.assert_allclose(supply, use, atol=1e-9)
    assert k["unserved_kwh"] == 0.0 and k["heat_unmet_kwh"] == 0.0
    assert k["pv_kwh"] > 100 and k["battery_discharge_kwh"] > 10  # both really take part
    assert k["natural_gas_kwh"] == pytest.approx(h["gas_kwh"], rel=1e-9)
    assert k["purchased_heat_kwh"] == pytest.approx(h["heat_kwh"], rel=1e-9)
    assert h["units"] > 0 and k["units_completed"] == h["units"]  # components are not counted


def test_scopes_by_hand(run):
    res, _ = run
    k, h = res.kpis, hand(res)
    assert k["co2_scope1_process_kg"] == pytest.approx(h["process"], rel=1e-9)
    assert k["co2_scope1_refrigerant_kg"] == pytest.approx(h["refrigerant"], rel=1e-9)
    assert k["co2_scope1_kg"] == pytest.approx(h["scope1"], rel=1e-9)
    assert k["co2_scope2_heat_kg"] == pytest.approx(h["heat"], rel=1e-9)  # 570.24 kg
    assert k["co2_scope2_location_kg"] == pytest.approx(h["location"], rel=1e-9)
    assert k["co2_scope2_market_kg"] == pytest.approx(h["market"], rel=1e-9)
    # the interval columns add up to the KPIs
    iv = res.intervals
    for col in ("co2_scope1_kg", "co2_scope2_location_kg", "co2_scope2_market_kg",
                "co2_scope2_heat_kg", "co2_scope1_process_kg", "co2_scope1_refrigerant_kg"):
        assert float(iv[col].sum()) == pytest.approx(k[col], rel=1e-9)
        assert float(res.hourly[col].sum()) == pytest.approx(k[col], rel=1e-9)
    np.testing.assert_allclose(iv["co2_scope2_heat_kg"], 30 / 4 * HEAT_KG_PER_KWH, rtol=1e-12)
    assert "both with purchased heat 0.6 t" in res.summary()
    # the supply KPI and the evaluation give one renewable share of the same electricity
    assert k["renewable_electricity_share"] == pytest.approx(
        h["onsite"] / (h["import"] + h["onsite"]), rel=1e-8)
    assert k["renewable_electricity_share"] == pytest.approx(
        k["evaluation"]["metrics"]["renewable_electricity_share_onsite"]["value"], rel=1e-8)
    inst = k["carbon"]["instruments"]
    assert inst["gec"]["used_mwh"] == pytest.approx(0.3)
    assert inst["onsite"]["used_mwh"] == pytest.approx(h["onsite"] / 1000, rel=1e-9)


def test_footprint_sum_identities(run):
    res, _ = run
    k, h = res.kpis, hand(res)
    fp = k["footprints"]
    kit = fp["products"]["kit"]
    assert set(fp["products"]) == {"kit"}  # components roll into the kit
    s12 = h["scope1"] + h["location"]
    assert kit["co2_kg"] + fp["unallocated_kg"] == pytest.approx(s12, rel=1e-9)
    assert kit["co2_kg_per_unit"] * h["units"] == pytest.approx(kit["co2_kg"], rel=1e-9)
    assert kit["materials_kg_per_unit"] == pytest.approx(3.25)
    assert k["co2_scope3_materials_kg"] == pytest.approx(h["materials"], rel=1e-9)
    assert (kit["cradle_to_gate_kg_per_unit"] * h["units"] + fp["unallocated_kg"]
            == pytest.approx(s12 + h["materials"], rel=1e-9))
    assert kit["process_kg"] == pytest.approx(h["process"], rel=1e-9)
    assert kit["refrigerant_kg"] == pytest.approx(h["refrigerant"], rel=1e-9)
    # the oven is the only heat user: boiler gas CO2 + purchased heat CO2 (no heat pumps)
    assert kit["heat_and_cooling_kg"] == pytest.approx(h["fuel"] + h["heat"], rel=1e-9)
    # offsets never reduce a footprint: the evaluation reads the cradle-to-gate value
    assert k["evaluation"]["offsets"]["retired_t"]["total"] == pytest.approx(0.5)
    assert kit["co2_kg"] == pytest.approx(s12 - fp["unallocated_kg"], rel=1e-9)


def test_evaluation_tce_shares_and_offsets_by_hand(run):
    res, _ = run
    k, h = res.kpis, hand(res)
    ev = k["evaluation"]
    e = ev["energy_tce"]
    assert e["electricity"] == pytest.approx(h["elec_tce"], rel=1e-8)
    assert e["natural_gas"] == pytest.approx(h["gas_tce"], rel=1e-8)
    assert e["heat"] == pytest.approx(h["heat_tce"], rel=1e-8)  # 0.17688 tce
    assert e["heat"] == pytest.approx(k["purchased_heat_tce"], rel=1e-8)
    assert e["total"] == pytest.approx(h["tce"], rel=1e-8)
    m = {n: v["value"] for n, v in ev["metrics"].items()}
    loc_t = (h["scope1"] + h["location"]) / 1000
    mkt_t = (h["scope1"] + h["market"]) / 1000
    assert m["co2_t_per_tce_location"] == pytest.approx(loc_t / h["tce"], rel=1e-8)
    assert m["co2_t_per_tce_market"] == pytest.approx(mkt_t / h["tce"], rel=1e-8)
    assert m["gross_t_market_per_year"] == pytest.approx(mkt_t * 365 / DAYS, rel=1e-8)
    assert m["net_t_market"] == pytest.approx(mkt_t - 0.5, rel=1e-8)
    assert m["scope3_materials_t"] == pytest.approx(h["materials"] / 1000, rel=1e-8)
    assert m["co2_kg_per_unit_market"] == pytest.approx(mkt_t * 1000 / h["units"], rel=1e-8)
    # renewable shares: electricity = import + onsite used; all energy = the tce total, which
    # holds the purchased heat (not renewable) in its denominator
    consumed = h["import"] + h["onsite"]
    assert m["renewable_electricity_share_without_certificates"] == pytest.approx(
        h["onsite"] / consumed, rel=1e-8)
    assert m["renewable_electricity_share_with_certificates"] == pytest.approx(
        (h["onsite"] + 300) / consumed, rel=1e-8)
    assert m["renewable_energy_share_without_certificates"] == pytest.approx(
        h["onsite"] * KGCE["electricity"] / 1000 / h["tce"], rel=1e-8)
    assert m["renewable_energy_share_with_certificates"] == pytest.approx(
        (h["onsite"] + 300) * KGCE["electricity"] / 1000 / h["tce"], rel=1e-8)
    off = ev["offsets"]
    assert off["gross_t"]["total_market"] == pytest.approx(mkt_t, rel=1e-8)
    assert off["net_t"] == pytest.approx(mkt_t - 0.5, rel=1e-8)
    a = off["to_net_zero"]["certificates_then_credits"]
    # GECs for the import the 0.3 MWh did not cover; credits for scope 1 + purchased heat
    # less the 0.5 t already retired
    assert a["gec_mwh"] == pytest.approx((h["import"] - 300) / 1000, rel=1e-8)
    assert a["credits_t"] == pytest.approx((h["scope1"] + h["heat"]) / 1000 - 0.5, rel=1e-8)
    assert off["to_net_zero"]["credits_only"]["credits_t"] == pytest.approx(mkt_t - 0.5,
                                                                            rel=1e-8)


def test_report_renders_every_part(run):
    from twin.report import write_report

    res, d = run
    h = hand(res)
    write_report(d)
    md = (d / "report.md").read_text(encoding="utf-8")
    rows = {line.split(" | ")[1]: line.split(" | ")[2] for line in md.splitlines()
            if line.startswith(("| Scope 1 |", "| Scope 2 |", "| Scope 3 |"))}

    def t(kg: float) -> str:
        return f"{kg / 1000:,.3f}"

    assert rows["Fuel combustion (natural gas, GB/T 32150)"] == t(h["fuel"])
    assert rows["Total"] == t(h["scope1"])
    # electricity rows hold electricity only; the heat has its row; totals hold both
    assert rows["Purchased electricity, location-based"] == t(h["elec_location"])
    assert rows["Purchased electricity, market-based"] == t(h["elec_market"])
    heat_row = next(v for r, v in rows.items() if r.startswith("Purchased heat"))
    assert heat_row == t(h["heat"])
    assert rows["Total, location-based"] == t(h["location"])
    assert rows["Total, market-based"] == t(h["market"])
    assert rows["Refrigerant leakage: chiller (R-134a, 100.0 kg x 10.0 %/a x GWP 1,300 AR5)"] \
        == t(h["refrigerant"])
    assert "Materials of kit: steel (via a; 1.500 kg/unit" in md
    assert "| Purchased heat and steam | 0.110 tCO₂/GJ |" in md
    assert f"purchased heat {h['heat_tce']:,.3f} tce" in md
    assert "Retired credits (tCO₂e) | 0.500" in md
    html = (d / "report.html").read_text(encoding="utf-8")
    assert "Purchased heat and steam" in html and "Zero-carbon evaluation" in html


def test_dashboard_months_and_emission_bars_add_up_to_the_kpis(run):
    from twin.dashboard import figures
    from twin.dashboard.data import load

    res, d = run
    k, h = res.kpis, hand(res)
    data = load(d)
    costs = data.monthly_costs()
    assert list(costs.index) == ["2026-01", "2026-02"]
    assert costs["total"].sum() == pytest.approx(k["cost_total"], rel=1e-9)
    assert costs["heat"].to_numpy() == pytest.approx([720 * 0.0036 * 60] * 2, rel=1e-9)
    assert costs["gas"].sum() == pytest.approx(h["gas_kwh"] * 0.3, rel=1e-9)
    assert costs["demand"].sum() == pytest.approx(k["demand_cost"], rel=1e-9)
    assert k["demand_cost"] > 0
    fig = figures.emissions_by_scope(data)
    bars = [t for t in fig.data if t.type == "bar"]
    totals = [sum(float(t.y[i]) for t in bars if t.y[i] is not None) for i in (0, 1)]
    assert totals[0] == pytest.approx((h["scope1"] + h["location"]) / 1000, rel=1e-6)
    assert totals[1] == pytest.approx((h["scope1"] + h["market"]) / 1000, rel=1e-6)
    by_name = {t.name: t for t in bars}
    assert float(by_name["Scope 2: purchased heat and steam"].y[0]) == pytest.approx(
        h["heat"] / 1000, rel=1e-6)
    assert float(by_name["Scope 2: grid electricity, location-based"].y[0]) == pytest.approx(
        h["elec_location"] / 1000, rel=1e-6)


def test_reductions_by_measure_put_a_switch_to_purchased_heat_on_heat(tmp_path):
    """Baseline: the same plant with a 100 kW boiler and no purchased heat. Buying 1,440 kWh
    of heat instead of 1,600 kWh of gas changes fuel and purchased heat only; the grid factor
    and the electricity measures see none of it, and the measures add up to the change."""
    from twin.report import write_report

    w = _weather(tmp_path / "weather.csv")
    res_now = twin.simulate(everything_plant(w), days=DAYS, start=START)
    res_base = twin.simulate(everything_plant(w, purchased_heat=False), days=DAYS, start=START)
    now, base = res_now.kpis, res_base.kpis
    r = reductions_by_measure(now, base)
    a = 365 / DAYS
    assert r["purchased_heat"] == pytest.approx(-1440 * HEAT_KG_PER_KWH / 1000 * a, rel=1e-9)
    fuel_saved = 30 * HOURS / 0.9 / GAS_KWH_PER_M3 * GAS_KG_PER_M3 / 1000 * a
    assert r["fuel"] == pytest.approx(fuel_saved, rel=1e-9)
    assert r["grid_factor"] == pytest.approx(0.0, abs=1e-9)  # same factor, same import
    assert r["electricity_use"] == pytest.approx(0.0, abs=1e-6)
    assert r["total"] == pytest.approx(r["gross_baseline_per_year"] - r["gross_per_year"],
                                       rel=1e-12)
    res_now.save(tmp_path / "now")
    res_base.save(tmp_path / "base")
    write_report(tmp_path / "now", tmp_path / "base")
    md = (tmp_path / "now" / "report.md").read_text(encoding="utf-8")
    assert f"| Purchased heat and steam | {r['purchased_heat']:,.2f} |" in md  # -104.07
    assert "| Grid factor change | 0.00 |" in md and "-0.00" not in md


def test_chp_electricity_counts_in_the_renewable_share_denominator(tmp_path):
    """A heat-led CHP (30 kW heat at 0.5, so 21 kW electricity) joins the plant. Its
    electricity is consumed on site, so it belongs in the electricity the renewable shares
    are taken of (it was left out: 28.0 % renewable instead of 11.4 %, 71 % with certificates
    instead of 29 %). Independent truth: the electricity balance, consumed = grid import +
    onsite generation used = demand + battery charge - discharge."""
    w = _weather(tmp_path / "weather.csv")
    data = everything_plant(w).model_dump()
    data["energy"]["chp"] = [{"id": "chp", "capacity_kw": 30, "electric_efficiency": 0.35,
                              "thermal_efficiency": 0.5}]
    from twin.config import plant_from_data

    now = twin.simulate(plant_from_data(data, name="<chp>"), days=DAYS, start=START).kpis
    assert now["chp_kwh"] == pytest.approx(21 * HOURS, rel=1e-9)
    consumed = (now["electricity_kwh"] + now["battery_charge_kwh"]
                - now["battery_discharge_kwh"])
    assert now["curtailed_kwh"] + now["grid_export_kwh"] < now["pv_kwh"]  # PV first
    pv_used = now["pv_kwh"] - now["curtailed_kwh"] - now["grid_export_kwh"]
    m = {n: v["value"] for n, v in now["evaluation"]["metrics"].items()}
    assert m["renewable_electricity_share_without_certificates"] == pytest.approx(
        pv_used / consumed, rel=1e-8)
    assert m["renewable_electricity_share_with_certificates"] == pytest.approx(
        (pv_used + 300) / consumed, rel=1e-8)
    assert now["carbon"]["hourly_matched_cfe_share"] == pytest.approx(pv_used / consumed,
                                                                      rel=1e-8)
    # tce: CHP electricity is not counted again (its gas is)
    assert now["evaluation"]["energy_tce"]["electricity"] == pytest.approx(
        (now["grid_import_kwh"] + pv_used) * KGCE["electricity"] / 1000, rel=1e-8)
    # reductions: the grid electricity the CHP displaces at the baseline factor
    base = twin.simulate(everything_plant(w), days=DAYS, start=START).kpis
    r = reductions_by_measure(now, base)
    assert r["onsite_chp"] == pytest.approx(21 * HOURS * NATIONAL_2023 / 1000 * 365 / DAYS,
                                            rel=1e-9)
    assert r["total"] == pytest.approx(r["gross_baseline_per_year"] - r["gross_per_year"],
                                       rel=1e-12)


def _kpis(imp, pv, chp, export, heat_kwh, f, cover, s1, days):
    """KPIs of a run as the evaluation reads them (export taken from PV first, then CHP)."""
    heat = heat_kwh * HEAT_KG_PER_KWH
    return {"simulated_days": days, "grid_import_kwh": imp, "pv_kwh": pv, "chp_kwh": chp,
            "grid_export_kwh": export, "curtailed_kwh": 0.0, "purchased_heat_kwh": heat_kwh,
            "co2_scope1_kg": s1, "co2_scope2_heat_kg": heat,
            "co2_scope2_location_kg": imp * f + heat,
            "co2_scope2_market_kg": imp * f * (1 - cover) + heat,
            "carbon": {"instruments": {"gec": {"used_mwh": imp * cover / 1000},
                                       "onsite": {"available_mwh": max(pv - export, 0) / 1000,
                                                  "used_mwh": max(pv - export, 0) / 1000}}}}


@settings(max_examples=80, deadline=None)
@given(imp=st.floats(0, 1e6), pv=st.floats(0, 1e6), chp=st.floats(0, 1e6),
       export_share=st.floats(0, 1), heat=st.floats(0, 1e6), f=st.floats(0, 1.2),
       cover=st.floats(0, 1), s1=st.floats(0, 1e6), days=st.floats(0.5, 400),
       imp_b=st.floats(0, 1e6), chp_b=st.floats(0, 1e6), heat_b=st.floats(0, 1e6),
       f_b=st.floats(0, 1.2))
def test_property_shares_stay_in_0_1_and_measures_add_up_with_heat_and_chp(
        imp, pv, chp, export_share, heat, f, cover, s1, days, imp_b, chp_b, heat_b, f_b):
    from twin.carbon.evaluation import metrics

    now = _kpis(imp, pv, chp, export_share * (pv + chp), heat, f, cover, s1, days)
    base = _kpis(imp_b, 0.0, chp_b, 0.0, heat_b, f_b, 0.0, s1, 365.0)
    m = metrics(now)
    for name in ("renewable_electricity_share_onsite",
                 "renewable_electricity_share_without_certificates",
                 "renewable_electricity_share_with_certificates",
                 "renewable_energy_share_with_certificates"):
        assert m[name] is None or -1e-12 <= m[name] <= 1 + 1e-9, (name, m[name])
    r = reductions_by_measure(now, base)
    parts = sum(v for k, v in r.items() if k not in ("total", "gross_baseline_per_year",
                                                     "gross_per_year"))
    change = r["gross_baseline_per_year"] - r["gross_per_year"]
    assert parts == pytest.approx(change, rel=1e-9, abs=1e-6)
    assert r["purchased_heat"] == pytest.approx(
        (heat_b * 365 / 365 - heat * 365 / days) * HEAT_KG_PER_KWH / 1000, rel=1e-9, abs=1e-9)


def test_renewable_share_of_an_island_with_a_battery_is_at_most_one(tmp_path):
    """Regression: 100 kWp of PV and a 400 kWh battery (starting at 60 %) carry a 2 kW load
    for two days without the grid; the PV stored in the battery at the end and its losses
    counted as renewable electricity used but not as electricity consumed, so the share read
    261 %. All electricity consumed is renewable here: exactly 1."""
    w = _weather(tmp_path / "weather.csv")
    plant = make_plant([station("s", const(60))], interarrival=const(365, unit="h"), energy={
        "weather": {"file": w},
        "pv": [{"id": "roof", "dc_kwp": 100, "tilt_deg": 30, "azimuth_deg": 180}],
        "batteries": [{"id": "b", "energy_kwh": 400, "power_kw": 100, "initial_soc_pct": 60,
                       "soc_min_pct": 5}],
        "grid": {"export_limit_kw": 0}, "dispatch": {"policy": "self_consumption"}})
    k = twin.simulate(plant, days=DAYS, start=START).kpis
    assert k["grid_import_kwh"] == 0.0 and k["battery_charge_kwh"] > k["electricity_kwh"]
    assert k["renewable_electricity_share"] == pytest.approx(1.0, rel=1e-12)
    assert k["evaluation"]["metrics"]["renewable_electricity_share_onsite"]["value"] == \
        pytest.approx(1.0, rel=1e-12)
