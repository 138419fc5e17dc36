"""Sector ranges (twin/sector.py, twin/data/sector_ranges.csv): the data file's rules, each
metric worked out by hand from a KPI dict, the verdict's bounds, and the plant-file fields."""

from __future__ import annotations

import copy

import pytest
from conftest import const, make_plant, station

from twin.config.errors import ConfigError
from twin.config.loader import plant_from_data
from twin.sector import (
    SECTORS,
    SectorRange,
    SectorRangeError,
    metric_value,
    parse_ranges,
    sector_comparison,
    sector_ranges,
    verdict,
)

ROW = {"sector": "automotive", "metric": "final_energy_kwh_per_unit", "unit": "vehicle",
       "group": "", "low": "600", "high": "1200", "source": "a report", "status": "S",
       "year": "2024", "note": ""}


def row(**changes: str) -> dict[str, str]:
    return {**ROW, **changes}


def rng(metric: str, unit: str = "", group: str = "", low: float | None = None,
        high: float | None = None) -> SectorRange:
    return SectorRange("automotive", metric, unit, group, low, high, "src", "S", 2024, "")


# a run: 1,000 kWh electricity, 500 kWh gas, 100 kWh purchased heat; 20 vehicles finished
# (and 40 bodies consumed as components, which must not count)
KPIS = {
    "electricity_kwh": 1000.0, "natural_gas_kwh": 500.0, "purchased_heat_kwh": 100.0,
    "co2_scope1_kg": 101.0, "co2_scope2_location_kg": 530.0,
    "products": {"car": {"units_completed": 20, "component_of": None},
                 "body": {"units_completed": 0, "component_of": "car"}},
    "energy_by_group_kwh": {"paint_shop": {"electricity": 300.0, "natural_gas": 450.0},
                            "it": {"electricity": 800.0, "cooling": 900.0}},
}
FU = {"car": {"vehicle": 1.0}}


def test_shipped_ranges_parse_and_name_a_source_each():
    ranges = sector_ranges()
    assert ranges, "the data file holds no range"
    for r in ranges:
        assert r.sector in SECTORS and r.source and r.status in {"S", "S2", "D"}


@pytest.mark.parametrize(("changes", "message"), [
    ({"sector": "cars"}, "sector: 'cars'; expected one of automotive"),
    ({"metric": "kwh"}, "metric: 'kwh'"),
    ({"unit": ""}, "unit: ''; a per-unit metric names its functional unit"),
    ({"group": "paint"}, "takes no group"),
    ({"low": "x"}, "low: 'x' is not a number"),
    ({"high": "-1"}, "high: '-1'; expected a finite number >= 0"),
    ({"low": "", "high": ""}, "low and high both empty"),
    ({"low": "9", "high": "3"}, "low 9 > high 3"),
    ({"status": "G"}, "status: 'G'; expected one of S, S2, D"),
    ({"source": " "}, "source: empty"),
    ({"year": "recent"}, "year: 'recent' is not a year"),
])
def test_a_bad_row_is_refused_naming_the_row_and_field(changes, message):
    with pytest.raises(SectorRangeError, match=r"f\.csv row 3") as err:
        parse_ranges([row(), row(unit="t", **changes)] if "unit" not in changes
                     else [row(), row(**changes)], "f.csv")
    assert message in str(err.value)


def test_a_group_metric_needs_its_group_and_a_second_range_is_refused():
    with pytest.raises(SectorRangeError, match="needs group"):
        parse_ranges([row(metric="pue", unit="", group="")])
    with pytest.raises(SectorRangeError, match=r"row 3: a second range .*\(first in row 2\)"):
        parse_ranges([row(), row()])


def test_each_metric_by_hand():
    # final energy 1000 + 500 + 100 = 1600 kWh over 20 vehicles = 80 kWh per vehicle
    assert metric_value(KPIS, rng("final_energy_kwh_per_unit", "vehicle"), FU) == (80.0, "")
    assert metric_value(KPIS, rng("electricity_kwh_per_unit", "vehicle"), FU) == (50.0, "")
    # (101 + 530) / 20 = 31.55 kg per vehicle
    assert metric_value(KPIS, rng("co2_kg_per_unit", "vehicle"), FU)[0] == pytest.approx(31.55)
    # paint shop 300 + 450 = 750 kWh: 37.5 kWh per vehicle, 750 / 1600 of the site
    assert metric_value(KPIS, rng("group_final_energy_kwh_per_unit", "vehicle",
                                  "paint_shop"), FU) == (37.5, "")
    # the paint shop's electricity alone: 300 kWh / 20 vehicles = 15 kWh per vehicle
    assert metric_value(KPIS, rng("group_electricity_kwh_per_unit", "vehicle",
                                  "paint_shop"), FU) == (15.0, "")
    assert metric_value(KPIS, rng("group_share_of_final_energy", group="paint_shop"),
                        FU)[0] == pytest.approx(750 / 1600)
    # PUE: site electricity 1000 / IT electricity 800 (its cooling is not electricity)
    assert metric_value(KPIS, rng("pue", group="it"), FU) == (1.25, "")
    # a functional unit per unit scales the count: 20 modules of 550 W = 11,000 W
    per_w = metric_value(KPIS, rng("electricity_kwh_per_unit", "W"), {"car": {"W": 550.0}})
    assert per_w[0] == pytest.approx(1000 / 11000)


def test_not_comparable_says_why():
    value, why = metric_value(KPIS, rng("final_energy_kwh_per_unit", "t"), FU)
    assert value is None and "product 'car' has no functional unit 't'" in why
    value, why = metric_value(KPIS, rng("pue", group="racks"), FU)
    assert value is None and "no reporting group 'racks'" in why
    idle = {**KPIS, "products": {"car": {"units_completed": 0, "component_of": None}}}
    assert metric_value(idle, rng("final_energy_kwh_per_unit", "vehicle"), FU)[1] \
        == "no finished units in the run"


@pytest.mark.parametrize(("value", "low", "high", "expected"), [
    (5.0, 5.0, 9.0, "within"), (9.0, 5.0, 9.0, "within"), (4.999, 5.0, 9.0, "below"),
    (9.001, 5.0, 9.0, "above"), (100.0, None, 9.0, "above"), (0.0, None, 9.0, "within"),
    (1.0, 2.0, None, "below"), (None, 1.0, 2.0, "not_comparable"),
])
def test_verdict_bounds_are_inclusive(value, low, high, expected):
    assert verdict(value, low, high) == expected


def test_comparison_lists_only_the_sectors_rows():
    ranges = parse_ranges([row(), row(sector="steel", unit="t")])
    out = sector_comparison(KPIS, "automotive", FU, ranges)
    assert out["sector"] == "automotive" and len(out["comparisons"]) == 1
    c = out["comparisons"][0]
    assert (c["value"], c["low"], c["high"], c["verdict"]) == (80.0, 600.0, 1200.0, "below")
    assert sector_comparison(KPIS, "textiles", FU, ranges)["comparisons"] == []


def test_plant_fields_validate_and_leave_old_dumps_unchanged():
    base = make_plant([station("press", const(60))]).model_dump(mode="json")
    assert "sector" not in base["site"]
    assert all("functional_unit" not in p for p in base["products"])
    base["site"]["sector"] = "automotive"
    base["products"][0]["functional_unit"] = {"name": "vehicle", "per_unit": 1}
    plant = plant_from_data(copy.deepcopy(base))
    assert plant.site.sector == "automotive"
    assert plant.products[0].functional_unit.per_unit == 1
    base["site"]["sector"] = "cars"
    with pytest.raises(ConfigError, match=r"site\.sector"):
        plant_from_data(base)


def test_every_metric_has_a_label_and_unit_on_the_pages():
    from twin.sector import METRICS
    from twin.sector_text import _SHARES, _UNITS, METRIC_LABELS

    assert set(METRIC_LABELS) == set(METRICS)
    per_unit = {m for m in METRICS if m.endswith("_per_unit")}
    assert set(_UNITS) == per_unit and set(METRICS) >= _SHARES
