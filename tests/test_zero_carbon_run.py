"""Process emissions, refrigerant leakage, materials and the evaluation through whole runs, by hand.

Independent truth: the GB/T 2589 / GB/T 32150 table values (written here as literals, not read
from the package), the IPCC AR5 GWP of HFC-134a (1300) and AR4 GWPs of HFC-32 and HFC-125 (675,
3500), and the bill of materials worked out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import const, make_plant, station
from hypothesis import given, settings
from hypothesis import strategies as st

import twin
from twin.config import ConfigError

NATIONAL_2023 = 0.5306  # kgCO2/kWh, location-based (no province given)
GAS_KG_PER_M3 = 0.038931 * 15.3 * 0.99 * 44 / 12  # GB/T 32150: NCV GJ/m3 x tC/TJ x OF x 44/12
GAS_KWH_PER_M3 = 38_931 / 3600  # NCV 38,931 kJ/m3
OVEN = {"id": "oven", "power_kw": {"electricity": {"idle": 10, "processing": 10},
                                   "natural_gas": {"idle": 50, "processing": 50}}}


def oven_plant(**carbon):
    """One gas-fired oven 24/7 at a constant 10 kW electricity and 50 kW gas (LHV)."""
    return make_plant([station("s", const(600), equipment="oven")], interarrival=const(1200),
                      equipment_types=[OVEN], **({"carbon": carbon} if carbon else {}))


def test_tce_intensity_of_a_known_mix_through_a_run():
    # one day: 240 kWh electricity, 1,200 kWh gas = 110.965 m3. hunan_2030 (the default)
    # uses the equal-value basis: grid factors of 2023, so the coal consumption of thermal
    # power supply of the latest year shipped before it, 2020: 305.5 gce/kWh (NDRC)
    k = twin.simulate(oven_plant(), days=1).kpis
    m3 = 1200 / GAS_KWH_PER_M3
    tce = 240 * 0.3055 / 1000 + m3 * 1.33 / 1000
    tce_calorific = 240 * 0.1229 / 1000 + m3 * 1.33 / 1000
    co2_t = (240 * NATIONAL_2023 + m3 * GAS_KG_PER_M3) / 1000
    ev = k["evaluation"]
    assert ev["energy_basis"]["basis"] == "equal_value"
    assert ev["energy_basis"]["year"] == 2020
    assert "2023" in ev["energy_basis"]["note"]  # says the 2023 value is not shipped
    assert ev["energy_tce"]["total"] == pytest.approx(tce, rel=1e-8)
    other = ev["energy_basis"]["other"]
    assert other["basis"] == "calorific"
    assert other["energy_tce"]["total"] == pytest.approx(tce_calorific, rel=1e-8)
    assert other["metrics"]["co2_t_per_tce_location"] == pytest.approx(co2_t / tce_calorific,
                                                                       rel=1e-8)
    assert ev["metrics"]["co2_t_per_tce_location"]["value"] == pytest.approx(co2_t / tce,
                                                                            rel=1e-8)
    # no instruments: market-based = national residual factor 2023 (0.6096) on the import
    mkt = (240 * 0.6096 + m3 * GAS_KG_PER_M3) / 1000 / tce
    assert ev["metrics"]["co2_t_per_tce_market"]["value"] == pytest.approx(mkt, rel=1e-8)
    assert ev["rules"]["name"] == "hunan_2030"
    assert {i["id"]: i["status"] for i in ev["indicators"]} == {
        "co2_per_tce": "fail", "renewable_share": "fail", "footprint_reduction": "not_judged"}


def test_refrigerant_leakage_and_process_emissions_in_scope1_by_hand():
    plant = oven_plant(
        refrigerants=[
            {"name": "chiller", "gas": "R-134a", "charge_kg": 120, "annual_leak_rate": 0.1,
             "report": "AR5"},
            {"name": "split units", "gas": {"HFC-32": 0.5, "HFC-125": 0.5}, "charge_kg": 20,
             "annual_leak_rate": 0.05, "report": "AR4"}],
        process_emissions=[
            {"name": "carbonate", "t_co2e_per_unit": 0.002, "product": "part", "source": "test"},
            {"name": "lab gases", "t_co2e_per_year": 36.5, "source": "test"}])
    r = twin.simulate(plant, days=1)
    k, h = r.kpis, r.hourly
    # 120 x 0.1 x 1300 + 20 x 0.05 x 2087.5 = 15,600 + 2,087.5 kg/a, for 24 h of 8,760
    refr = (120 * 0.1 * 1300 + 20 * 0.05 * (675 + 3500) / 2) * 24 / 8760
    assert k["co2_scope1_refrigerant_kg"] == pytest.approx(refr, rel=1e-9)
    assert h["co2_scope1_refrigerant_kg"].to_numpy() == pytest.approx(np.full(24, refr / 24))
    # 71 units x 2 kg + 36.5 t/a x 1 day = 142 + 100 kg; the per-unit part follows completions
    units = k["units_completed"]
    assert units == 71
    assert k["co2_scope1_process_kg"] == pytest.approx(2 * units + 100, rel=1e-9)
    assert h["co2_scope1_process_kg"].to_numpy() == pytest.approx(
        2 * h["units_completed"].to_numpy() + 100 / 24)
    gas = 1200 / GAS_KWH_PER_M3 * GAS_KG_PER_M3
    assert k["co2_scope1_kg"] == pytest.approx(gas + refr + 2 * units + 100, rel=1e-9)
    assert h["co2_scope1_kg"].sum() == pytest.approx(k["co2_scope1_kg"], rel=1e-12)
    # in the footprint (one product: all of it) and in the report lines
    f = k["footprints"]["products"]["part"]
    assert f["process_kg"] == pytest.approx(2 * units + 100, rel=1e-9)
    assert f["refrigerant_kg"] == pytest.approx(refr, rel=1e-9)
    assert f["co2_kg"] == pytest.approx(k["co2_scope1_kg"] + k["co2_scope2_location_kg"])
    lines = k["carbon"]["refrigerants"]
    assert [x["gwp"] for x in lines] == [1300, 2087.5]


def kit_plant(**carbon):
    """Two components assembled into kits: a kit lot (4 units) holds 2 lots of a (1 unit each)
    and 1 lot of b (2 units), so one kit unit holds 0.5 a and 0.5 b."""
    return make_plant(
        lines=[{"id": "line", "stations": [
            station("cut", const(300)), station("mold", const(400)),
            station("asm", const(500)), station("pack", const(200))]}],
        products=[{"id": "a", "route": ["cut"]}, {"id": "b", "route": ["mold"], "units_per_lot": 2},
                  {"id": "kit", "route": ["asm", "pack"], "units_per_lot": 4,
                   "components": {"a": 2, "b": 1}},
                  {"id": "solo", "route": ["cut", "pack"]}],
        sources=[{"id": "plan", "kind": "plan", "quantities": {"kit": 40, "solo": 10}}],
        base_loads=[{"id": "hvac", "group": "facility", "power_kw": {"electricity": 3}}],
        **({"carbon": carbon} if carbon else {}))


MATERIALS = {
    "a": [{"name": "steel", "quantity_per_unit": 3.0, "kg_co2e_per_unit": 2.0,
           "source": "test factor"}],
    "b": [{"name": "<script>resin</script>", "quantity_per_unit": 0.5, "unit": "kg",
           "kg_co2e_per_unit": 4.0, "source": "test factor"}],
    "kit": [{"name": "box", "quantity_per_unit": 1, "unit": "pcs", "kg_co2e_per_unit": 0.25,
             "source": "test factor"}],
}


@pytest.mark.parametrize("rule", ["processing_time", "none"])
def test_materials_roll_up_and_footprints_add_up_to_scopes_1_2_3(rule):
    k = twin.simulate(kit_plant(materials=MATERIALS, footprint_overhead=rule,
                                refrigerants=[{"name": "ac", "gas": "HFC-134a", "charge_kg": 10,
                                               "annual_leak_rate": 0.2, "report": "AR5"}],
                                process_emissions=[{"name": "glue", "t_co2e_per_year": 10,
                                                    "source": "test"}]), days=1).kpis
    f = k["footprints"]
    kit, solo = f["products"]["kit"], f["products"]["solo"]
    # per kit unit: 0.5 a x 3 kg x 2 + 0.5 b x 0.5 kg x 4 + 1 box x 0.25 = 3 + 1 + 0.25
    assert kit["materials_kg_per_unit"] == pytest.approx(4.25)
    assert solo["materials_kg_per_unit"] is None and solo["materials_kg"] == 0
    units = k["products"]["kit"]["units_completed"]
    assert units == 40
    assert kit["materials_kg"] == pytest.approx(4.25 * units)
    assert k["co2_scope3_materials_kg"] == pytest.approx(4.25 * units)
    lines = {(x["product"], x["name"]): x for x in k["scope3_materials"]}
    assert lines[("kit", "steel")]["via"] == "a"
    assert lines[("kit", "steel")]["quantity_per_unit"] == pytest.approx(1.5)  # 0.5 a x 3 kg
    assert lines[("kit", "steel")]["kg_co2e"] == pytest.approx(3.0 * units)
    assert sum(x["kg_co2e"] for x in lines.values()) == pytest.approx(4.25 * units)
    assert kit["cradle_to_gate_kg_per_unit"] == pytest.approx(kit["co2_kg_per_unit"] + 4.25)
    # scope 3 never enters scope 1 or 2
    s12 = k["co2_scope1_kg"] + k["co2_scope2_location_kg"]
    assert sum(p["co2_kg"] for p in f["products"].values()) + f["unallocated_kg"] \
        == pytest.approx(s12, rel=1e-9)
    assert sum(p["cradle_to_gate_kg"] for p in f["products"].values()) + f["unallocated_kg"] \
        == pytest.approx(s12 + k["co2_scope3_materials_kg"], rel=1e-9)
    if rule == "none":  # refrigerant and plant-wide process stay unallocated
        assert kit["refrigerant_kg"] == 0 and kit["process_kg"] == 0
    else:
        assert kit["refrigerant_kg"] > 0 and kit["process_kg"] > 0
    assert k["evaluation"]["metrics"]["scope3_materials_t"]["value"] == pytest.approx(
        4.25 * units / 1000)


def test_retired_offsets_never_reduce_footprints_or_gross():
    base = twin.simulate(kit_plant(), days=1).kpis
    off = twin.simulate(kit_plant(evaluation={"offsets_retired": [
        {"kind": "ccer", "t_co2e": 0.05, "note": "test"}]}), days=1).kpis
    assert off["footprints"] == base["footprints"]
    assert off["co2_scope2_market_kg"] == base["co2_scope2_market_kg"]
    o = off["evaluation"]["offsets"]
    assert o["gross_t"] == base["evaluation"]["offsets"]["gross_t"]
    assert o["net_t"] == pytest.approx(o["gross_t"]["total_market"] - 0.05)


def test_carbon_block_errors_name_the_field_and_the_value():
    cases = [
        ({"materials": {"nope": MATERIALS["a"]}}, "carbon.materials.nope", "unknown product"),
        ({"process_emissions": [{"name": "x", "t_co2e_per_unit": 1, "source": "s"}]},
         "carbon.process_emissions[0]", "needs 'product'"),
        ({"process_emissions": [{"name": "x", "t_co2e_per_unit": 1, "t_co2e_per_year": 1,
                                 "product": "kit", "source": "s"}]},
         "carbon.process_emissions[0]", "exactly one"),
        ({"refrigerants": [{"name": "c", "gas": "R-9999", "charge_kg": 1,
                            "annual_leak_rate": 0.1, "report": "AR5"}]},
         "carbon.refrigerants[0].gas", "no GWP"),
        ({"refrigerants": [{"name": "c", "gas": "R-134a", "charge_kg": 1,
                            "annual_leak_rate": 1.5, "report": "AR5"}]},
         "carbon.refrigerants[0].annual_leak_rate", "1.5"),
        ({"evaluation": {"rules": "hunan_2040"}}, "carbon.evaluation.rules", "hunan_2035"),
        ({"evaluation": {"rules": [{"metric": "co2_per_banana", "op": "<=", "threshold": 1}]}},
         "carbon.evaluation.rules[0].metric", "co2_per_banana"),
        ({"evaluation": {"baseline": {"label": "b", "footprint_kg_per_unit": {"kits": 3}}}},
         "carbon.evaluation.baseline.footprint_kg_per_unit.kits", "did you mean 'kit'"),
    ]
    for carbon, path, what in cases:
        with pytest.raises(ConfigError) as err:
            kit_plant(**carbon)
        assert path in str(err.value) and what in str(err.value), str(err.value)


@settings(max_examples=8, deadline=None)
@given(q=st.floats(0.01, 50), f=st.floats(0, 20), per_unit=st.floats(0, 0.01),
       per_year=st.floats(0, 100), charge=st.floats(0.1, 500), rate=st.floats(0, 1),
       rule=st.sampled_from(["processing_time", "none"]))
def test_property_footprints_add_up_with_every_part(q, f, per_unit, per_year, charge, rate,
                                                    rule):
    """sum(cradle-to-gate x units) + unallocated = scope 1 + scope 2 + scope 3 materials, and
    the scope 1 + 2 part alone adds up to scope 1 + 2, for any materials, process lines and
    refrigerant charges."""
    k = twin.simulate(kit_plant(
        materials={"b": [{"name": "m", "quantity_per_unit": q, "kg_co2e_per_unit": f,
                          "source": "test"}]},
        process_emissions=[{"name": "p", "t_co2e_per_unit": per_unit, "product": "a",
                            "source": "test"},
                           {"name": "y", "t_co2e_per_year": per_year, "product": "solo",
                            "source": "test"}],
        refrigerants=[{"name": "r", "gas": "HFC-32", "charge_kg": charge,
                       "annual_leak_rate": rate, "report": "AR6"}],
        footprint_overhead=rule), days=1).kpis
    fp = k["footprints"]
    s12 = k["co2_scope1_kg"] + k["co2_scope2_location_kg"]
    assert sum(p["co2_kg"] for p in fp["products"].values()) + fp["unallocated_kg"] \
        == pytest.approx(s12, rel=1e-8, abs=1e-6)
    assert sum(p["cradle_to_gate_kg"] for p in fp["products"].values()) + fp["unallocated_kg"] \
        == pytest.approx(s12 + k["co2_scope3_materials_kg"], rel=1e-8, abs=1e-6)
    # b is half a unit per kit unit (1 lot of 2 units per kit lot of 4)
    assert k["co2_scope3_materials_kg"] == pytest.approx(0.5 * q * f * 40, rel=1e-8, abs=1e-9)
    # both process lines are tagged to a product, so every rule puts them there: per unit of
    # a (half an a per kit unit) x 40 kits; the per-year line x 1 day on solo
    assert fp["products"]["kit"]["process_kg"] == pytest.approx(
        0.5 * per_unit * 1000 * 40, rel=1e-8, abs=1e-9)
    assert fp["products"]["solo"]["process_kg"] == pytest.approx(per_year * 1000 / 365,
                                                                 rel=1e-8, abs=1e-9)
