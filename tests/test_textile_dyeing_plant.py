"""The reference knit dyeing mill (plant_configs/textile_dyeing_plant.yaml) against hand
calculations: the dyeing heat per batch derived in its header from the bath's sensible heat, and
one batch through the mill metered exactly (heat at the machines, stenter gas, boiler fuel =
heat / efficiency)."""

from __future__ import annotations

from pathlib import Path

import pytest

import twin
from twin.cli import main
from twin.config.loader import plant_from_data, read_yaml

ROOT = Path(__file__).resolve().parents[1]
PLANT = ROOT / "plant_configs" / "textile_dyeing_plant.yaml"

C_WATER = 4.19  # specific heat of water [kJ/(kg K)]
BATCH_KG = 500.0


def test_dyeing_heat_per_kg_from_the_bath_physics() -> None:
    # liquor ratio 1:8: heat the dye bath 25 -> 130 C, the reduction-clearing bath 25 -> 80 C,
    # ~0.3 kWh/kg of hot rinses, ~23 % losses [kWh per kg of fabric]
    baths = 8 * C_WATER * (130 - 25) / 3600 + 8 * C_WATER * (80 - 25) / 3600 + 0.3
    assert baths == pytest.approx(1.79, abs=0.005)
    per_kg = baths * 1.23
    assert per_kg == pytest.approx(2.2, abs=0.01)
    # the file's steam power is that heat over the 6 h cycle of one 500 kg batch
    plant = twin.load_plant(PLANT)
    jet = {e.id: e for e in plant.equipment_types}["jet_dyer"]
    assert jet.power_kw["heat"]["processing"] * 6 == pytest.approx(2.2 * BATCH_KG, rel=1e-3)


def test_one_batch_through_the_mill_by_hand() -> None:
    # one batch released at 25 h of a 2-day run (the first arrival comes after one interval),
    # constant times: pretreatment 20 min, dyeing 6 h, stenter 40 min
    data, _ = read_yaml(PLANT)
    data["sources"][0]["interarrival"] = {"dist": "constant", "value": 25, "unit": "h"}
    for st, (v, unit) in zip(data["lines"][0]["stations"],
                             [(20, "min"), (6, "h"), (40, "min")], strict=True):
        st["process_time"] = {"dist": "constant", "value": v, "unit": unit}
    plant = plant_from_data(data, str(PLANT))
    r = twin.simulate(plant, days=2)
    iv = r.intervals
    assert r.kpis["products"]["knit_batch"]["units_completed"] == 1
    hours = 48.0
    # heat: the scouring range idles hot (300 kW) but for its 20 min at 1,200 kW; the 18 jet
    # machines draw 183.3 kW only while the one batch dyes (6 h) = 1,099.8 kWh = 2.2 kWh/kg
    heat = 300 * (hours - 1 / 3) + 1200 / 3 + 183.3 * 6
    assert iv["heat_demand_kwh"].sum() == pytest.approx(heat, rel=1e-6)
    # stenter gas: two frames kept hot (500 kW), one runs the batch 40 min at 1,400 kW
    gas_stenter = 500 * (2 * hours - 2 / 3) + 1400 * 2 / 3
    assert iv["natural_gas_kwh:wet_processing"].sum() == pytest.approx(gas_stenter, rel=1e-6)
    # the gas boiler makes all the steam at 92 %: fuel = heat / 0.92
    assert iv["fuel_kwh"].sum() == pytest.approx(gas_stenter + heat / 0.92, rel=1e-6)


def test_study_validates() -> None:
    assert main(["validate", str(ROOT / "simulations" / "textile_dyeing_study.yaml")]) == 0
