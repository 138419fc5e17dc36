"""The production features of issue 14 together: the per-station queue figures and
``steps.parquet`` (written for plain stations) must also hold on conveyor stations and on stations
that scrap and rework lots, whose lots leave a station another way."""

from __future__ import annotations

import pytest
from conftest import const, expo, make_plant, queue_kpis_from_rows, seconds_of, station

import twin

HOUR, DAY = 3600.0, 86400.0


def _oven(pitch: float, transit: float) -> dict:
    return station("oven", conveyor={"pitch_s": pitch, "transit_s": transit})


def test_a_conveyor_that_keeps_up_has_no_wait_and_holds_its_belt_by_hand():
    """Lots every 120 s onto a belt of pitch 100 s, transit 350 s (test_conveyor's first case):
    no lot waits, so the lots in the station are the lots on the belt, 251310 lot s over the
    day (717 finished x 350 s + 240 s + 120 s of the two still riding)."""
    res = twin.simulate(make_plant([_oven(100, 350)], interarrival=const(120),
                                   simulation={"steps": True}), days=1, seed=1)
    oven = res.kpis["stations"]["oven"]
    assert oven["mean_wait_s"] == 0 and oven["mean_lots_waiting"] == 0
    assert oven["mean_lots_in_station"] == pytest.approx(251310 / DAY, rel=1e-9)
    assert oven["lots_in_station_at_end"] == 2
    rows = res.steps[res.steps["left"].notna()]
    on_belt = seconds_of(res, rows["finish"]) - seconds_of(res, rows["start"])
    assert len(rows) == 717 and on_belt == pytest.approx(350.0)
    queue_kpis_from_rows(res, DAY)


def test_a_conveyor_fed_faster_than_its_pitch_queues_by_hand():
    """Lots every 60 s, pitch 100 s, one hour: lot k (k = 1, 2, ...) arrives at 60k and enters
    the belt at 60 + 100 (k - 1), after a wait of 40 (k - 1) s. Lots taken before 3600 s:
    60 + 100 (k - 1) < 3600 -> k <= 36, mean wait 40 x 35 / 2 = 700 s."""
    res = twin.simulate(make_plant([_oven(100, 250)], interarrival=const(60),
                                   simulation={"steps": True}), days=1 / 24, seed=1)
    oven = res.kpis["stations"]["oven"]
    assert oven["mean_wait_s"] == pytest.approx(700.0)
    # released: arrivals at 60k < 3600 -> 59 lots; taken 36, so 23 still wait at the end
    assert res.kpis["lots_released"] == 59
    assert oven["lots_in_station_at_end"] == 59 - res.kpis["lots_completed"]
    queue_kpis_from_rows(res, HOUR)


def test_scrapped_and_reworked_lots_leave_their_station_in_the_queue_figures_and_steps():
    """A line whose test station reworks lots back to the mill and scraps those that fail
    twice: every lot that came to a station has a row there per visit, a scrapped lot's last row
    is at the station that scrapped it, rows per station = lots processed + lots still there,
    and the queue KPIs rebuilt from the rows equal kpis.json."""
    stations = [station("mill", expo(40)),
                station("test", expo(30), quality={"yield_fraction": 0.7, "rework_to": "mill",
                                                   "max_rework": 1}),
                station("pack", expo(20), quality={"yield_fraction": 0.9})]
    res = twin.simulate(make_plant(stations, interarrival=expo(100),
                                   simulation={"steps": True}), days=3, seed=4)
    k, steps = res.kpis, res.steps
    assert k["lots_scrapped"] > 0
    for sid, st in k["stations"].items():
        rows = steps[steps["station"] == sid]
        assert len(rows) == st["lots_processed"] + st["lots_in_station_at_end"], sid
    # the steps of a lot follow its route, with a second mill/test visit after a rework
    scrapped = 0
    for _, rows in steps.groupby("lot", sort=False):
        rows = rows.sort_values(["arrival", "step"])  # in the order of the visits
        visits = rows["station"].astype(str).tolist()
        assert visits[0] == "mill"
        assert visits in (["mill"], ["mill", "test"], ["mill", "test", "pack"],
                          ["mill", "test", "mill"], ["mill", "test", "mill", "test"],
                          ["mill", "test", "mill", "test", "pack"]), visits
        if visits[-1] == "test" and visits.count("test") == 2 and rows["left"].notna().all():
            scrapped += 1  # failed the test twice: scrapped there
    # scrapped at the test station: lots with two test visits and no pack row
    assert scrapped == k["stations"]["test"]["lots_scrapped"]
    assert (k["lots_released"] == k["lots_completed"] + k["lots_scrapped"]
            + k["lots_in_system_at_end"])
    queue_kpis_from_rows(res, 3 * DAY)


def _everything(seed_days: float = 4) -> twin.Plant:
    """One line with every production feature of issue 14 at once: a shared operator and a
    from-to changeover matrix with cleaning at the mill, a switch-on threshold with cooling and
    smart standby at the oven, rework and scrap at the test, a conveyor dryer, and steps."""
    oven_type = {"id": "oven", "power_kw": {"electricity": {
        "off": 0, "standby": 1, "warm_up": 8, "idle": 5, "processing": 10}},
        "saving_modes": {"off": {"warm_up_s": 600, "min_stay_s": 0,
                                 "cooling": {"time_constant_h": 1.0}}}}
    machine = {"id": "machine", "power_kw": {"electricity": {"idle": 2, "processing": 10}}}
    stations = [
        station("mill", expo(50), needs={"op": 1}, setup_time=const(30),
                setup_matrix={"a": {"b": const(90)}, "b": {"a": const(45)}},
                cleaning=[{"id": "chips", "every_lots": 5, "duration": const(60)}]),
        station("oven", expo(40), equipment="oven", switch_on={"lots": 3, "max_wait_h": 1}),
        station("test", expo(30), quality={"yield_fraction": 0.8, "rework_to": "mill",
                                           "max_rework": 1}),
        station("dryer", conveyor={"pitch_s": 20, "transit_s": 300}),
        station("pack", expo(20), buffer_capacity=4),
    ]
    route = [s["id"] for s in stations]
    return make_plant(
        stations, equipment_types=[machine, oven_type],
        products=[{"id": "a", "route": route}, {"id": "b", "route": route}],
        sources=[{"id": "in", "kind": "arrivals", "interarrival": expo(150),
                  "product_mix": {"a": 0.6, "b": 0.4}}],
        resources=[{"id": "op", "count": 1}],
        strategies=[{"type": "smart_standby", "stations": {"oven": {"timeout_s": 120}}}],
        simulation={"steps": True, "days": seed_days, "start": "2026-03-02"})


def test_every_production_feature_at_once_keeps_the_books():
    """No lot lost or duplicated, every step row where the queue KPIs say, the same outputs
    for the same seed, and energy equal to the sum of the stations' and base loads'."""
    plant = _everything()
    res = twin.simulate(plant, seed=3)
    k = res.kpis
    assert k["lots_scrapped"] > 0 and k["stations"]["mill"]["cleaning_h"] > 0
    assert k["stations"]["oven"]["switch_on"]["switch_ons"] > 0
    assert k["resources"]["op"]["busy_h"] > 0
    assert (k["lots_released"] == k["lots_completed"] + k["lots_scrapped"]
            + k["lots_in_system_at_end"])
    for sid, st in k["stations"].items():
        rows = res.steps[res.steps["station"] == sid]
        assert len(rows) == st["lots_processed"] + st["lots_in_station_at_end"], sid
    queue_kpis_from_rows(res, 4 * DAY)
    assert sum(st["energy_kwh"] for st in k["stations"].values()) == pytest.approx(
        k["electricity_kwh"], rel=1e-9)
    again = twin.simulate(_everything(), seed=3)
    assert again.kpis == k
