"""Independent parts of a plant (twin.partition): which stations may be simulated apart, and
why a plant is not split."""

from __future__ import annotations

from conftest import SITE, const, expo, make_plant, station

from twin.partition import find_parts

PDM = {"type": "predictive_maintenance", "detection_rate": 0.8, "lead_time_h": 2,
       "repair_factor": 0.5}
FAIL = {"time_to_failure": expo(3600), "time_to_repair": const(300)}
ENERGY = {"weather": {"synthetic": {"annual_clearness": 0.5,
                                    "monthly_temp_c": [4, 6, 10, 16, 21, 25, 29, 28, 24, 18,
                                                       12, 6], "daily_temp_swing_c": 7}},
          "pv": [{"id": "pv", "dc_kwp": 40, "tilt_deg": 20, "azimuth_deg": 180}],
          "batteries": [{"id": "b", "energy_kwh": 60, "power_kw": 30, "soc_min_pct": 10,
                         "soc_max_pct": 95, "initial_soc_pct": 50}]}


def three_lines(**changes):
    """Lines L1-L3, two stations each (with failures), product pK on line K, one arrival source
    per product; ``changes`` override plant sections."""
    lines = [{"id": f"L{k}", "stations": [station(f"s{k}a", expo(40), failures=FAIL),
                                          station(f"s{k}b", expo(40))]} for k in (1, 2, 3)]
    sections = {
        "lines": lines,
        "products": [{"id": f"p{k}", "route": [f"s{k}a", f"s{k}b"]} for k in (1, 2, 3)],
        "sources": [{"id": f"src{k}", "kind": "arrivals", "interarrival": expo(60),
                     "product_mix": {f"p{k}": 1}} for k in (1, 2, 3)],
        "site": {**SITE, "province": "Jiangsu"},
        "base_loads": [{"id": "hvac", "group": "facility", "power_kw": {"electricity": 15}}],
        "strategies": [PDM],
        "energy": ENERGY,
    }
    sections.update(changes)
    return make_plant(**sections)


def test_three_independent_lines_split_into_three_parts():
    """Per-station strategy, failures and an energy supply do not couple the lines."""
    p = find_parts(three_lines())
    assert p.splits and p.reason is None
    assert [part.stations for part in p.parts] == [["s1a", "s1b"], ["s2a", "s2b"],
                                                   ["s3a", "s3b"]]
    assert [part.products for part in p.parts] == [["p1"], ["p2"], ["p3"]]
    assert [part.sources for part in p.parts] == [["src1"], ["src2"], ["src3"]]
    assert [part.groups for part in p.parts] == [["L1", "facility"], ["L2"], ["L3"]]
    assert p.parts[0].base_loads == ["hvac"] and "3 independent parts" in p.describe()


def test_a_site_wide_strategy_keeps_the_plant_whole_and_says_why():
    p = find_parts(three_lines(strategies=[PDM, {"type": "peak_shaving", "limit_kw": 40,
                                                          "stations": ["s2b"]}]))
    assert not p.splits and "peak_shaving" in p.reason
    assert p.parts[0].stations == ["s1a", "s1b", "s2a", "s2b", "s3a", "s3b"]


def test_a_shared_resource_couples_the_stations_that_need_it():
    plant = three_lines()
    data = plant.model_dump(mode="json", exclude_none=True)
    data["resources"] = [{"id": "crew", "count": 1}]
    data["lines"][0]["stations"][1]["needs"] = {"crew": 1}
    data["lines"][2]["stations"][0]["needs"] = {"crew": 1}
    p = find_parts(make_plant(**{k: v for k, v in data.items()}))
    assert [part.lines for part in p.parts] == [["L1", "L3"], ["L2"]]
    assert p.parts[0].resources == ["crew"] and p.parts[1].resources == []


def test_routes_sources_components_and_groups_couple_lines():
    # a product of line 2 finished on line 3
    routed = three_lines(products=[{"id": "p1", "route": ["s1a", "s1b"]},
                                   {"id": "p2", "route": ["s2a", "s3b"]},
                                   {"id": "p3", "route": ["s3a", "s3b"]}])
    assert [part.lines for part in find_parts(routed).parts] == [["L1"], ["L2", "L3"]]
    # one source releasing products of lines 1 and 3 (one random product mix)
    mixed = three_lines(sources=[
        {"id": "src13", "kind": "arrivals", "interarrival": expo(60),
         "product_mix": {"p1": 1, "p3": 1}},
        {"id": "src2", "kind": "arrivals", "interarrival": expo(60), "product_mix": {"p2": 1}}])
    assert [part.lines for part in find_parts(mixed).parts] == [["L1", "L3"], ["L2"]]
    # an assembly on line 1 consuming the product of line 2
    kit = three_lines(products=[{"id": "p1", "route": ["s1a", "s1b"], "components": {"p2": 1}},
                                {"id": "p2", "route": ["s2a", "s2b"]},
                                {"id": "p3", "route": ["s3a", "s3b"]}],
                      sources=[{"id": f"src{k}", "kind": "arrivals", "interarrival": expo(60),
                                "product_mix": {f"p{k}": 1}} for k in (2, 3)])
    assert [part.lines for part in find_parts(kit).parts] == [["L1", "L2"], ["L3"]]
    # stations of lines 2 and 3 reporting into one group
    data = three_lines().model_dump(mode="json", exclude_none=True)
    data["lines"][1]["stations"][0]["group"] = "paint"
    data["lines"][2]["stations"][1]["group"] = "paint"
    parts = find_parts(make_plant(**data)).parts
    assert [part.lines for part in parts] == [["L1"], ["L2", "L3"]]


def test_a_single_line_is_one_part():
    p = find_parts(make_plant([station("a", expo(30)), station("b", expo(30))]))
    assert not p.splits and p.describe().startswith("one part")
