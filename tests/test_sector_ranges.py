"""Sector ranges (twin/sector.py, twin/data/sector_ranges.csv): the data file's rules, each
metric worked out by hand from a KPI dict, the verdict's bounds, and the plant-file fields."""

from __future__ import annotations

import copy

import pytest
from conftest import const, make_plant, station

from twin.config.errors import ConfigError
from twin.config.loader import plant_from_data
from twin.sector import (
    METRICS,
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
        parse_ranges([row(), row(**{"unit": "t", **changes})], "f.csv")  # row 3: not a duplicate
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


# --------------------------------------------------------------------------------------------
# Mutation round on twin/sector.py (tests/MUTATION.md): every field, bound and default pinned
# --------------------------------------------------------------------------------------------

def test_a_parsed_row_keeps_every_field():
    full = row(sector="automotive", metric="group_share_of_final_energy", unit="",
               group=" paint_shop ", low="0", high="0", source=" Stellantis 2024 ",
               status="S2", year="2024", note=" a note ")
    assert parse_ranges([full]) == (SectorRange(
        "automotive", "group_share_of_final_energy", "", "paint_shop", 0.0, 0.0,
        "Stellantis 2024", "S2", 2024, "a note"),)  # 0 is a bound, low == high allowed


def test_messages_name_the_default_file_the_columns_and_the_choices():
    with pytest.raises(SectorRangeError) as err:
        parse_ranges([{k: v for k, v in ROW.items() if k not in ("note", "year")}])
    assert str(err.value) == "sector_ranges.csv: missing column(s) year, note"
    with pytest.raises(SectorRangeError) as err:
        parse_ranges([row(sector="x")])
    assert str(err.value) == ("sector_ranges.csv row 2 sector: 'x'; expected one of "
                              + ", ".join(SECTORS))
    with pytest.raises(SectorRangeError) as err:
        parse_ranges([row(metric="x")])
    assert str(err.value).endswith("expected one of " + ", ".join(METRICS))
    with pytest.raises(SectorRangeError) as err:
        parse_ranges([row(), row()])
    assert str(err.value) == ("sector_ranges.csv row 3: a second range for automotive "
                              "final_energy_kwh_per_unit vehicle (first in row 2); give one "
                              "range per metric and name every source in it")
    with pytest.raises(SectorRangeError, match="pue it"):
        parse_ranges([row(metric="pue", unit="", group="it")] * 2)


KPIS_MIN = {"products": {"car": {"units_completed": 1, "component_of": None}}}


def test_missing_kpis_count_zero_and_small_amounts_still_count():
    only_gas = {**KPIS_MIN, "natural_gas_kwh": 7.0}
    assert metric_value(only_gas, rng("final_energy_kwh_per_unit", "vehicle"), FU) == (7.0, "")
    assert metric_value(KPIS_MIN, rng("electricity_kwh_per_unit", "vehicle"), FU) == (0.0, "")
    only_s2 = {**KPIS_MIN, "co2_scope2_location_kg": 3.0}
    assert metric_value(only_s2, rng("co2_kg_per_unit", "vehicle"), FU) == (3.0, "")
    # a group using heat counts its heat; below 1 kWh is still an amount
    heat = {**KPIS_MIN, "electricity_kwh": 0.5,
            "energy_by_group_kwh": {"oven": {"heat": 0.25}, "it": {"electricity": 0.5}}}
    assert metric_value(heat, rng("group_final_energy_kwh_per_unit", "vehicle", "oven"),
                        FU) == (0.25, "")
    assert metric_value(heat, rng("group_share_of_final_energy", group="oven"), FU) == (0.5, "")
    assert metric_value(heat, rng("pue", group="it"), FU) == (1.0, "")
    assert metric_value(heat, rng("group_electricity_kwh_per_unit", "vehicle", "it"),
                        FU) == (0.5, "")
    assert metric_value({**heat, "electricity_kwh": None},
                        rng("pue", group="it"), FU) == (0.0, "")


def test_nothing_to_divide_by_says_why():
    empty = {**KPIS_MIN, "energy_by_group_kwh": {"oven": {}, "it": {"cooling": 5.0}}}
    assert metric_value(empty, rng("group_share_of_final_energy", group="oven"), FU) \
        == (None, "no energy used")
    assert metric_value(empty, rng("pue", group="it"), FU) \
        == (None, "no electricity in group 'it'")


def test_functional_units_add_up_over_finished_products_only():
    from twin.sector import _functional_units

    kpis = {"products": {
        "car": {"units_completed": 3, "component_of": None},
        "van": {"units_completed": 1, "component_of": None},
        "body": {"units_completed": 5, "component_of": "car"},  # made and consumed
        "spare": {"component_of": None}}}                     # no count: none finished
    fu = {"car": {"vehicle": 1.0}, "van": {"vehicle": 2.0}}
    assert _functional_units(kpis, fu, "vehicle") == (5.0, "")


def test_comparison_reads_the_shipped_file_and_reports_every_field():
    out = sector_comparison(KPIS, "automotive", FU)  # ranges from twin/data/sector_ranges.csv
    assert {c["metric"] for c in out["comparisons"]} == {
        r.metric for r in sector_ranges() if r.sector == "automotive"}
    ranges = parse_ranges([row(sector="steel", unit="t"),
                           row(metric="co2_kg_per_unit", low="", high="30", note="n")])
    (c,) = sector_comparison(KPIS, "automotive", FU, ranges)["comparisons"]
    assert c == {"metric": "co2_kg_per_unit", "unit": "vehicle", "group": None,
                 "value": pytest.approx(31.55), "low": None, "high": 30.0, "verdict": "above",
                 "reason": None, "source": "a report", "status": "S", "year": 2024,
                 "note": "n"}
    share = parse_ranges([row(metric="group_share_of_final_energy", unit="",
                              group="paint_shop")])
    (c,) = sector_comparison({**KPIS, "products": {}}, "automotive", FU, share)["comparisons"]
    assert (c["unit"], c["group"], c["note"]) == (None, "paint_shop", None)
    (c,) = sector_comparison({**KPIS, "products": {}}, "automotive", FU, ranges[1:])[
        "comparisons"]
    assert (c["verdict"], c["reason"]) == ("not_comparable", "no finished units in the run")


def test_a_plant_without_production_has_no_per_unit_value_and_says_why():
    # the same KPIs, marked as a plant without production: every per-unit metric is None with
    # the reason, whatever units the KPIs carry
    kpis = {**copy.deepcopy(KPIS), "production": False}
    for metric in ("final_energy_kwh_per_unit", "electricity_kwh_per_unit", "co2_kg_per_unit"):
        assert metric_value(kpis, rng(metric, "vehicle"), FU) == (
            None, "the plant has no production (per-unit ranges do not apply)"), metric
    kpis["production"] = True  # marked as producing: the values come back
    assert metric_value(kpis, rng("electricity_kwh_per_unit", "vehicle"), FU) == (50.0, "")
