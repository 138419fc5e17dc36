"""Product carbon footprints: allocation by hand, and the sum over units adds up to the plant."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import const, make_plant, station

import twin

NATIONAL_2023 = 0.5306  # kgCO2/kWh, location-based (no province given)


def _identity(k: dict) -> None:
    f = k["footprints"]
    total = k["co2_scope1_kg"] + k["co2_scope2_location_kg"]
    summed = sum(v["co2_kg"] for v in f["products"].values()) + f["unallocated_kg"]
    assert summed == pytest.approx(total, rel=1e-9, abs=1e-6)
    for p, v in f["products"].items():
        units = k["products"][p]["units_completed"]
        if units:
            assert v["co2_kg_per_unit"] * units == pytest.approx(v["co2_kg"], rel=1e-8)


def test_one_product_one_station_by_hand():
    # A lot every 1,200 s from t = 1,200 s (71 lots in a day), processed in 600 s at 10 kW,
    # idle at 2 kW, 24/7: processing 71 x 600 = 42,600 s -> 118.333 kWh, idle 43,800 s ->
    # 24.333 kWh; all of it on the one product.
    plant = make_plant([station("s", const(600))], interarrival=const(1200))
    k = twin.simulate(plant, days=1).kpis
    f = k["footprints"]["products"]["part"]
    processing, idle = 42_600 * 10 / 3600, 43_800 * 2 / 3600
    assert f["direct_kg"]["electricity"] == pytest.approx(processing * NATIONAL_2023, rel=1e-9)
    assert f["station_overhead_kg"] == pytest.approx(idle * NATIONAL_2023, rel=1e-9)
    assert f["co2_kg"] == pytest.approx((processing + idle) * NATIONAL_2023, rel=1e-9)
    assert k["units_completed"] == 71
    assert k["products"]["part"]["co2_kg_per_unit"] == pytest.approx(
        (processing + idle) * NATIONAL_2023 / 71, rel=1e-8)
    _identity(k)


def test_shared_station_splits_by_processing_time():
    # 10 lots of A (600 s) and 10 of B (300 s) a day on one station: A takes 2/3 of the
    # processing energy and, by the rule, 2/3 of the idle energy too.
    products = [{"id": "a", "route": ["s"]}, {"id": "b", "route": ["s"]}]
    s = station("s", None, process_time_by_product={"a": const(600), "b": const(300)})
    sources = [{"id": "plan", "kind": "plan", "quantities": {"a": 10, "b": 10},
                "sequence": "mixed"}]
    k = twin.simulate(make_plant([s], products=products, sources=sources), days=1).kpis
    a, b = (k["footprints"]["products"][p] for p in ("a", "b"))
    assert a["direct_kg"]["electricity"] == pytest.approx(
        2 * b["direct_kg"]["electricity"], rel=1e-9)
    assert a["station_overhead_kg"] == pytest.approx(2 * b["station_overhead_kg"], rel=1e-9)
    # 9,000 s processing at 10 kW = 25 kWh; 77,400 s idle at 2 kW = 43 kWh
    assert a["direct_kg"]["electricity"] + b["direct_kg"]["electricity"] == pytest.approx(
        25 * NATIONAL_2023, rel=1e-9)
    _identity(k)


def test_rule_none_keeps_overhead_unallocated():
    plant = make_plant([station("s", const(600))], interarrival=const(1200),
                       base_loads=[{"id": "light", "group": "facility",
                                    "power_kw": {"electricity": 5}}],
                       carbon={"footprint_overhead": "none"})
    k = twin.simulate(plant, days=1).kpis
    f = k["footprints"]
    # direct: 118.333 kWh of processing; unallocated: idle 24.333 kWh + lighting 5 kW x 24 h
    assert f["products"]["part"]["co2_kg"] == pytest.approx(42_600 * 10 / 3600 * NATIONAL_2023,
                                                            rel=1e-9)
    assert f["unallocated_kg"] == pytest.approx((43_800 * 2 / 3600 + 120) * NATIONAL_2023,
                                                rel=1e-9)
    _identity(k)


def test_components_roll_into_the_assembled_product_and_the_demo_adds_up():
    demo = Path(__file__).resolve().parent.parent / "plant_configs" / "demo_plant.yaml"
    k = twin.simulate(twin.load_plant(demo), days=14).kpis
    f = k["footprints"]["products"]
    assert set(f) == {"gear_unit", "bracket"}  # housing and shaft are components
    assert {"saw", "cnc", "washer", "assembly", "eol_test"} <= set(f["gear_unit"]["by_station_kg"])
    assert f["gear_unit"]["heat_and_cooling_kg"] > 0  # the washer's hot water from the boiler
    assert k["products"]["housing"]["co2_kg_per_unit"] is None
    _identity(k)
