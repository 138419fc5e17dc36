"""Periodic setups and cleaning, from-to setup matrices, yield, rework and scrap, against hand
arithmetic, geometric series and lot conservation.

Deterministic cases are worked out lot by lot in the docstrings; random yields are checked against
their expectation within four standard deviations of the binomial count (a false alarm about once
in 16,000 runs; the seeds are fixed, so a test either always passes or always fails).
"""

from __future__ import annotations

import math

import pytest
from conftest import const, make_plant, station
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_flow_invariants import check_states_fill_the_run, dists, run_with_census

import twin
from twin.config import ConfigError

MACHINE = {"id": "machine", "power_kw": {"electricity": {"idle": 2, "setup": 6, "processing": 10}}}


def plan(quantities: dict[str, int], sequence: str = "batched") -> list[dict]:
    """One release of these lots at 00:00 of the first day (no calendar: 24/7)."""
    return [{"id": "plan", "kind": "plan", "quantities": quantities, "sequence": sequence}]


def within(count: float, n: int, p: float, sds: float = 4.0) -> bool:
    """``count`` is within ``sds`` binomial standard deviations of ``n * p``."""
    return abs(count - n * p) <= sds * math.sqrt(n * p * (1 - p))


# --- periodic setups and cleaning ---------------------------------------------------------------

def test_cleaning_every_10_lots_share_counts_energy_and_oee_by_hand():
    """1300 lots of 60 s wait at 00:00; every 10 lots a 120 s stencil cleaning at 6 kW.

    A cycle is 10 x 60 + 120 = 720 s; a day holds 86400 / 720 = 120 cycles: 1200 lots, 120
    cleanings (the last ends at the horizon). Cleaning share of busy time = 120 / 720 = 1/6;
    setup time 14400 s = 4 h, processing 72000 s = 20 h. Energy (72000 x 10 + 14400 x 6) / 3600 =
    224 kWh. OEE: planned 24 h, stops 4 h: availability 20/24; performance = ideal 1200 x 60 s /
    run time 72000 s = 1; quality 1: OEE = 5/6.
    """
    plant = make_plant([station("print", const(60), cleaning=[
        {"id": "stencil", "every_lots": 10, "duration": const(120)}])],
        equipment_types=[MACHINE], sources=plan({"part": 1300}))
    r = twin.simulate(plant, days=1, start="2026-01-01", seed=1)
    s = r.kpis["stations"]["print"]
    eq = r.equipment.loc["print"]
    assert s["lots_processed"] == 1200
    assert s["cleaning"] == {"stencil": {"count": 120, "hours": pytest.approx(4.0)}}
    assert s["cleaning_h"] == pytest.approx(4.0)
    assert eq["setup_h"] / (eq["setup_h"] + eq["processing_h"]) == pytest.approx(120 / 720)
    assert eq["processing_h"] == pytest.approx(20.0)
    assert eq["electricity_kwh"] == pytest.approx(224.0)
    assert s["availability"] == pytest.approx(20 / 24)
    assert s["performance"] == pytest.approx(1.0)
    assert s["oee"] == pytest.approx(5 / 6)
    assert "quality" not in s  # no quality block: no quality figures


def test_two_tasks_by_lots_and_by_processing_hours():
    """Lots of 60 s; task a every 10 lots (120 s), task b every 0.5 h of processing = 30 lots
    (300 s). After lot 30 both are due: a then b. A 30-lot cycle: 1800 + 3 x 120 + 300 = 2460 s.
    86400 s = 35 cycles (86100 s) + 300 s = 5 more lots, the last ending at the horizon itself,
    where the run stops before counting it: 35 x 30 + 4 = 1054 lots counted (processing time
    1055 x 60 s), a done 105 times, b 35 times; setup time 105 x 120 + 35 x 300 = 23100 s."""
    plant = make_plant([station("fill", const(60), cleaning=[
        {"id": "a", "every_lots": 10, "duration": const(120)},
        {"id": "b", "every_processing_h": 0.5, "duration": const(300)}])],
        equipment_types=[MACHINE], sources=plan({"part": 2000}))
    r = twin.simulate(plant, days=1, start="2026-01-01", seed=1)
    s = r.kpis["stations"]["fill"]
    assert s["lots_processed"] == 1054
    assert r.equipment.loc["fill", "processing_h"] == pytest.approx(1055 * 60 / 3600)
    assert s["cleaning"]["a"]["count"] == 105
    assert s["cleaning"]["b"]["count"] == 35
    assert r.equipment.loc["fill", "setup_h"] == pytest.approx(23100 / 3600)


def test_cleaning_counts_each_lot_of_a_batch_and_each_machine_apart():
    """Two machines, batches of 4 lots of 90 s, cleaning every 8 lots (50 s): each machine runs
    batch, batch, clean = 230 s per 8 lots. 1 h = 15 cycles (3450 s) + one more batch (ends at
    3540 s; the next would end at 3630 s): per machine 15 x 8 + 4 = 124 lots, 15 cleanings;
    together 248 lots, 30 cleanings."""
    plant = make_plant([station("oven", const(90), machines=2, batch_size=4, cleaning=[
        {"id": "tube", "every_lots": 8, "duration": const(50)}])],
        equipment_types=[MACHINE], sources=plan({"part": 400}))
    r = twin.simulate(plant, days=1 / 24, start="2026-01-01", seed=1)
    s = r.kpis["stations"]["oven"]
    assert s["lots_processed"] == 248
    assert s["cleaning"]["tube"]["count"] == 30


# --- from-to setup matrix -----------------------------------------------------------------------

def matrix_plant(matrix: dict, setup_time: dict | None = None):
    extra = {"setup_time": setup_time} if setup_time else {}
    return make_plant(
        [station("s", process_time_by_product={"a": const(600), "b": const(600),
                                               "c": const(600)},
                 setup_matrix=matrix, **extra)],
        products=[{"id": p, "route": ["s"]} for p in "abc"],
        equipment_types=[MACHINE], sources=plan({"a": 3, "b": 3, "c": 3}, "mixed"))


@pytest.mark.parametrize(("matrix", "setup_time", "setup_s"), [
    # sequence a b c a b c a b c: changes a>b, b>c, c>a, a>b, b>c, c>a, a>b, b>c
    ({"a": {"b": const(100)}, "b": {"c": const(200)}, "c": {"a": const(300)}}, None,
     3 * 100 + 3 * 200 + 2 * 300),
    # c>a missing: falls back to setup_time (50 s)
    ({"a": {"b": const(100)}, "b": {"c": const(200)}}, const(50), 3 * 100 + 3 * 200 + 2 * 50),
    # c>a missing and no setup_time: no changeover
    ({"a": {"b": const(100)}, "b": {"c": const(200)}}, None, 3 * 100 + 3 * 200),
])
def test_setup_matrix_on_a_fixed_sequence(matrix, setup_time, setup_s):
    r = twin.simulate(matrix_plant(matrix, setup_time), days=1, start="2026-01-01", seed=1)
    assert r.equipment.loc["s", "setup_h"] == pytest.approx(setup_s / 3600)
    assert r.equipment.loc["s", "processing_h"] == pytest.approx(9 * 600 / 3600)


@pytest.mark.parametrize(("matrix", "quality", "where", "bad"), [
    ({"x": {"b": const(1)}}, None, "setup_matrix.x", "unknown product"),
    ({"a": {"z": const(1)}}, None, "setup_matrix.a.z", "unknown product"),
    ({"a": {"a": const(1)}}, None, "setup_matrix.a.a", "does not change over to itself"),
    ({}, {"yield_by_product": {"q": 0.9}}, "quality.yield_by_product.q", "does not visit"),
    ({}, {"rework_to": "t"}, "quality.rework_to", "not on the route"),
])
def test_bad_ids_are_clear_errors(matrix, quality, where, bad):
    products = [{"id": p, "route": ["s"]} for p in "abc"] + [{"id": "q", "route": ["t"]}]
    extra = {"quality": quality} if quality else {}
    with pytest.raises(ConfigError) as err:
        make_plant([station("s", const(10), setup_matrix=matrix, **extra),
                    station("t", const(10))], products=products,
                   sources=plan({"a": 1}))
    text = str(err.value)
    assert where in text and bad in text, text
    assert "Traceback" not in text


def test_not_visiting_product_and_cleaning_without_interval_are_clear_errors():
    products = [{"id": "a", "route": ["s"]}, {"id": "b", "route": ["t"]}]
    with pytest.raises(ConfigError, match=r"product 'b' does not visit station 's'"):
        make_plant([station("s", const(10), setup_matrix={"a": {"b": const(1)}}),
                    station("t", const(10))], products=products,
                   sources=plan({"a": 1}))
    with pytest.raises(ConfigError, match=r"every_lots, every_processing_h or both"):
        make_plant([station("s", const(10), cleaning=[{"id": "c", "duration": const(5)}])])


# --- yield, scrap, rework -----------------------------------------------------------------------

def scrap_line(q1: dict, q2: dict | None = None, n: int = 10000, units: int = 1):
    stations = [station("s1", const(1), quality=q1), station("s2", const(1))]
    if q2 is not None:
        stations[1]["quality"] = q2
    return make_plant(stations, products=[{"id": "part", "route": ["s1", "s2"],
                                           "units_per_lot": units}],
                      equipment_types=[MACHINE], sources=plan({"part": n * units}))


def test_good_output_is_released_times_the_yields():
    """10000 lots through s1 (yield 0.9) and s2 (yield 0.8), 1 s each: all done within the day.
    Good lots ~ 10000 x 0.9 x 0.8 = 7200; scrap at s1 ~ 1000, at s2 ~ 0.1 x ... the rest. Every
    lot is finished or scrapped: released = completed + scrapped exactly. OEE quality of s2 =
    its good lots / lots processed = lots completed / lots s2 processed (independent counters)."""
    r = twin.simulate(scrap_line({"yield_fraction": 0.9}, {"yield_fraction": 0.8}, units=5),
                      days=1, start="2026-01-01", seed=3)
    k = r.kpis
    done, scrapped = k["lots_completed"], k["lots_scrapped"]
    assert k["lots_released"] == 10000 == done + scrapped
    assert k["lots_in_system_at_end"] == 0
    assert within(done, 10000, 0.72)
    s1, s2 = k["stations"]["s1"], k["stations"]["s2"]
    assert within(s1["lots_scrapped"], 10000, 0.1)
    assert s1["lots_scrapped"] + s2["lots_scrapped"] == scrapped
    assert s2["lots_processed"] == 10000 - s1["lots_scrapped"]
    assert s2["quality"] == pytest.approx(done / s2["lots_processed"])
    assert s1["quality"] == pytest.approx(s2["lots_processed"] / 10000)
    assert s2["oee"] == pytest.approx(s2["availability"] * s2["performance"] * s2["quality"])
    assert s1["units_scrapped"] == 5 * s1["lots_scrapped"]
    assert k["units_completed"] == 5 * done
    # energy and carbon are per good unit
    assert k["kwh_per_unit"] == pytest.approx(k["electricity_kwh"] / (5 * done))
    part = k["products"]["part"]
    assert part["lots_scrapped"] == scrapped
    assert part["rolled_throughput_yield"] == pytest.approx(
        s1["first_pass_yield"] * s2["first_pass_yield"])
    assert part["rolled_throughput_yield"] == pytest.approx(done / 10000)


def test_rework_at_the_same_station_follows_the_geometric_series():
    """Yield 0.6, rework here, at most 2 passes: a lot is processed 1 + 0.4 + 0.16 = 1.56 times
    on average and scrapped with probability 0.4^3 = 0.064; first-pass yield 0.6."""
    n = 10000
    r = twin.simulate(scrap_line({"yield_fraction": 0.6, "rework_to": "s1", "max_rework": 2}),
                      days=1, start="2026-01-01", seed=5)
    k = r.kpis
    s1 = k["stations"]["s1"]
    assert k["lots_completed"] + k["lots_scrapped"] == n
    assert within(k["lots_scrapped"], n, 0.4**3)
    # processings: n first tries + Binomial reworks; mean n (1 + 0.4 + 0.16)
    second = s1["lots_processed"] - n
    assert abs(second - n * (0.4 + 0.16)) <= 4 * math.sqrt(n * (0.4 * 0.6 + 0.16 * 0.84 + 0.4))
    assert s1["lots_processed"] == n + s1["lots_reworked"]
    assert abs(s1["first_pass_yield"] - 0.6) <= 4 * math.sqrt(0.6 * 0.4 / n)
    assert s1["quality"] == pytest.approx(
        (s1["lots_processed"] - s1["lots_reworked"] - s1["lots_scrapped"])
        / s1["lots_processed"])


def test_rework_back_to_an_earlier_step_passes_both_stations_again():
    """s2 (yield 0.5) sends bad lots back to s1, once at most: s1 and s2 each process
    n (1 + 0.5) lots on average; scrap n x 0.25; good n x 0.75."""
    n = 8000
    plant = make_plant(
        [station("s1", const(1)),
         station("s2", const(1), quality={"yield_fraction": 0.5, "rework_to": "s1"})],
        equipment_types=[MACHINE], sources=plan({"part": n}))
    _model, r = run_with_census(plant, days=1, seed=11)  # census: conservation 40 times
    k = r.kpis
    s1, s2 = k["stations"]["s1"], k["stations"]["s2"]
    assert s1["lots_processed"] == s2["lots_processed"] == n + s2["lots_reworked"]
    assert within(s2["lots_reworked"], n, 0.5)
    assert within(k["lots_scrapped"], n, 0.25)
    assert k["lots_completed"] + k["lots_scrapped"] == n
    assert s2["by_product"]["part"]["lots_scrapped"] == s2["lots_scrapped"]


def test_yield_by_product_overrides_the_station_yield():
    """a: yield 1 (never scrapped), b: the station's 0.5."""
    plant = make_plant([station("s", const(1), quality={"yield_fraction": 0.5,
                                                        "yield_by_product": {"a": 1.0}})],
                       products=[{"id": "a", "route": ["s"]}, {"id": "b", "route": ["s"]}],
                       sources=plan({"a": 2000, "b": 2000}))
    k = twin.simulate(plant, days=1, start="2026-01-01", seed=2).kpis
    assert k["products"]["a"]["lots_scrapped"] == 0
    assert k["products"]["a"]["lots_completed"] == 2000
    assert within(k["products"]["b"]["lots_scrapped"], 2000, 0.5)


def test_footprints_are_per_good_unit_and_still_add_up():
    """Scope 1 + 2 = sum(footprint x good units) + unallocated, with scrap and cleaning."""
    plant = make_plant([station("s1", const(30), quality={"yield_fraction": 0.7}, cleaning=[
        {"id": "c", "every_lots": 5, "duration": const(60)}]), station("s2", const(20))],
        equipment_types=[MACHINE], sources=plan({"part": 1000}))
    k = twin.simulate(plant, days=1, start="2026-01-01", seed=4).kpis
    f = k["footprints"]
    units = k["units_completed"]
    assert k["lots_scrapped"] > 0
    total = k["co2_scope1_kg"] + k["co2_scope2_location_kg"]
    assert f["products"]["part"]["co2_kg"] + f["unallocated_kg"] == pytest.approx(total, rel=1e-6)
    assert f["products"]["part"]["co2_kg_per_unit"] == pytest.approx(
        f["products"]["part"]["co2_kg"] / units, rel=1e-6)


# --- conservation, property test ----------------------------------------------------------------

@st.composite
def scrap_lines(draw):
    n = draw(st.integers(1, 3))
    stations = []
    for k in range(n):
        s = station(f"s{k}", dists(draw, draw(st.sampled_from([20.0, 45.0]))),
                    machines=draw(st.integers(1, 2)), batch_size=draw(st.sampled_from([1, 2])))
        cap = draw(st.sampled_from([None, 2, 5]))
        if cap is not None:
            s["buffer_capacity"] = cap
        if draw(st.booleans()):
            q: dict = {"yield_fraction": draw(st.sampled_from([0.3, 0.8, 0.95, 1.0]))}
            if cap is None and draw(st.booleans()):  # (rework into a full own buffer could
                q["rework_to"] = f"s{draw(st.integers(0, k))}"  # block the machine for ever)
                q["max_rework"] = draw(st.integers(0, 3))
            s["quality"] = q
        if draw(st.booleans()):
            s["cleaning"] = [{"id": "c", "every_lots": draw(st.integers(1, 20)),
                              "duration": dists(draw, 30.0)}]
        if draw(st.booleans()):
            s["setup_matrix"] = {"a": {"b": dists(draw, 40.0)}}
        stations.append(s)
    route = [s["id"] for s in stations]
    products = [{"id": "a", "route": route}, {"id": "b", "route": route}]
    src = {"id": "arr", "kind": "arrivals", "interarrival": dists(draw, 40.0),
           "product_mix": {"a": 1, "b": 1}}
    plant = make_plant(stations, products=products, sources=[src])
    return plant, draw(st.integers(0, 2**16))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scrap_lines())
def test_random_lines_with_scrap_rework_and_cleaning_conserve_lots(case):
    """released = completed + scrapped + in the system (census of buffers and machines, taken
    40 times a run), and every machine's states fill the run."""
    plant, seed = case
    model, r = run_with_census(plant, days=0.5, seed=seed)
    flow = model.flow
    assert sum(flow.released) == sum(flow.completed) + sum(flow.scrapped) + flow.in_system
    judged_scrap = sum(sum(rt.quality.scrapped) for rt in model.stations
                       if rt.quality is not None)
    assert judged_scrap == sum(flow.scrapped)
    check_states_fill_the_run(r, 0.5)


def test_cleaning_energy_goes_with_processing_time_changeovers_with_the_product():
    """a a a, clean, change over to b, b b b, clean (600 s lots, 60 s cleaning every 3 lots,
    120 s changeover, setup 6 kW, processing 10 kW): setup energy (120 + 120) x 6 / 3600 =
    0.4 kWh, half of it cleaning (0.1 kWh each to a and b, equal processing time), half the
    changeover into b (0.2 kWh). Direct energy: a 5 + 0.1 = 5.1 kWh, b 5 + 0.3 = 5.3 kWh; the
    direct footprints (same electricity intensity) stand in that ratio."""
    plant = make_plant(
        [station("s", process_time_by_product={"a": const(600), "b": const(600)},
                 setup_time=const(120),
                 cleaning=[{"id": "c", "every_lots": 3, "duration": const(60)}])],
        products=[{"id": "a", "route": ["s"]}, {"id": "b", "route": ["s"]}],
        equipment_types=[MACHINE], sources=plan({"a": 3, "b": 3}))
    k = twin.simulate(plant, days=1, start="2026-01-01", seed=1).kpis
    assert k["stations"]["s"]["cleaning"]["c"] == {"count": 2, "hours": pytest.approx(120 / 3600)}
    direct = {p: k["footprints"]["products"][p]["direct_kg"]["electricity"] for p in "ab"}
    assert direct["a"] / direct["b"] == pytest.approx(5.1 / 5.3, rel=1e-9)


def test_rework_back_to_an_assembly_is_refused():
    products = [{"id": "c", "route": ["mk"]},
                {"id": "kit", "route": ["asm", "test"], "components": {"c": 1}}]
    with pytest.raises(ConfigError, match=r"quality.rework_to.*cannot go back to its assembly"):
        make_plant([station("mk", const(10)), station("asm", const(10)),
                    station("test", const(10), quality={"yield_fraction": 0.9,
                                                       "rework_to": "asm"})],
                   products=products, sources=plan({"kit": 1}))
