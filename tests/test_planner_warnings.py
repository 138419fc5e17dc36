"""Planner warnings: an overloaded station, utilization or OEE above 100 %, work left in the plant.

Each is checked end to end where a plant can put it on either side of its threshold by hand
(deterministic times), and on the thresholds themselves with the numbers set directly.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from conftest import const, day_shift_calendar, expo, make_plant, station

import twin
from twin.planner_warnings import CHANCE_SE, OPEN_SHARE, OVERLOAD, planner_warnings


def _overloaded(k: dict) -> list[str]:
    return [w for w in k["warnings"] if "is overloaded" in w]


@pytest.mark.parametrize("mean_s, warns", [(72.0, True), (42.0, False)])
def test_mm1_at_rho_1_2_warns_and_at_0_7_does_not(mean_s, warns):
    """The issue's case: an M/M/1 queue at rho = 1.2 over 30 days ends with thousands of lots in
    the system (growth (lambda - mu) T = 7,200 expected) and must say so; at rho = 0.7 nothing."""
    plant = make_plant([station("press", expo(mean_s))], interarrival=expo(60))
    k = twin.simulate(plant, days=30, start="2026-01-01", seed=3).kpis
    if warns:
        assert k["lots_in_system_at_end"] > 5000
        (w,) = _overloaded(k)
        assert "station 'press'" in w and "offered load 120%" in w
        assert "release at most 83%" in w  # 1 / 1.2
        assert any("still in it at the end" in x for x in k["warnings"])
        assert k["stations"]["press"]["offered_load"] == pytest.approx(1.2, abs=0.02)
    else:
        assert k["warnings"] == []
        assert k["stations"]["press"]["offered_load"] == pytest.approx(0.7, abs=0.02)


@pytest.mark.parametrize("process_s, warns", [(60.6, True), (59.4, False)])
def test_overload_threshold_by_hand(process_s, warns):
    """Lots every 60 s exactly: a 60.6 s station (rho = 1.01) falls behind by one lot every
    6,060 s, about 14 lots a day, and is reported; a 59.4 s one (rho = 0.99) never queues."""
    plant = make_plant([station("s", const(process_s))], interarrival=const(60))
    k = twin.simulate(plant, days=2, start="2026-01-01").kpis
    st = k["stations"]["s"]
    assert (st["offered_load"] >= OVERLOAD) is warns
    assert bool(_overloaded(k)) is warns
    if warns:
        assert st["lots_in_station_at_end"] == pytest.approx(2 * 86400 * (1 / 60 - 1 / 60.6),
                                                             abs=2)
        assert "offered load 101%" in _overloaded(k)[0]
    else:
        assert st["offered_load"] == pytest.approx(0.99, abs=1e-3)


@pytest.mark.parametrize("process_min, warns", [(50, True), (30, False)])
def test_utilization_above_100_pct(process_min, warns):
    """One hour's shift a day and lots always waiting: a 30-min lot twice fills the hour exactly
    (utilization 100 %, no warning); a 50-min lot started at 08:50 finishes at 09:40, so the
    station processes 100 min in a 60-min shift (167 %), which is reported."""
    plant = make_plant([station("oven", const(process_min, "min"))], interarrival=const(600),
                       calendar=day_shift_calendar(("08:00", "09:00")))
    k = twin.simulate(plant, days=7, start="2026-01-05").kpis  # Mon-Sun: 5 shifts
    st = k["stations"]["oven"]
    assert st["utilization"] == pytest.approx(100 / 60 if warns else 1.0, rel=1e-9)
    hit = [w for w in k["warnings"] if "above 100 %" in w]
    assert bool(hit) is warns
    if warns:
        assert "station 'oven': utilization 166.7%" in hit[0]


def _model(mid=None, in_system=0, released=100, assembled=0):
    flow = SimpleNamespace(in_system=in_system, released=[released], assembled=[assembled])
    return SimpleNamespace(mid_in_station=mid, flow=flow)


def _station(**kw):
    st = {"machines": 1, "scheduled_h": 24.0, "utilization": 0.9, "oee": 0.9,
          "performance": 0.9, "lots_processed": 100, "offered_load": 0.9,
          "lots_in_station_at_end": 0}
    st.update(kw)
    return st


def test_overload_needs_the_load_and_a_growing_queue():
    grow = _station(offered_load=OVERLOAD, lots_in_station_at_end=11)
    assert len(planner_warnings(_model(mid=[10]), {"s": grow})) == 1
    below = _station(offered_load=OVERLOAD - 1e-6, lots_in_station_at_end=11)
    assert planner_warnings(_model(mid=[10]), {"s": below}) == []
    flat = _station(offered_load=1.3, lots_in_station_at_end=10)  # did not grow
    assert planner_warnings(_model(mid=[10]), {"s": flat}) == []
    # a model run without the halfway count (step by step): the load alone decides
    assert len(planner_warnings(_model(mid=None), {"s": flat})) == 1


def test_oee_above_100_pct_beyond_chance():
    """OEE over 100 % by less than 3 standard errors of a mean of exponential times (1/sqrt(n))
    is chance; beyond it, it is reported."""
    n = 10_000
    edge = 1 + CHANCE_SE / n**0.5  # 1.03
    quiet = _station(oee=edge - 1e-4, performance=edge - 1e-4, lots_processed=n)
    assert planner_warnings(_model(), {"s": quiet}) == []
    loud = _station(oee=edge + 1e-4, performance=edge + 1e-4, lots_processed=n)
    (w,) = planner_warnings(_model(), {"s": loud})
    assert w.startswith("station 's': OEE 103.0% is above 100 %")
    # utilization above 100 % needs no margin (it is time, not a draw)
    (w,) = planner_warnings(_model(), {"s": _station(utilization=1.00001)})
    assert "utilization 100.0%" in w
    assert planner_warnings(_model(), {"s": _station(utilization=1.0)}) == []


def test_open_lots_share_threshold():
    at = round(OPEN_SHARE * 100)  # 5 of 100 entered: at the threshold, quiet
    assert planner_warnings(_model(in_system=at), {}) == []
    (w,) = planner_warnings(_model(in_system=at + 1), {})
    assert w.startswith("6.0% of the lots that entered the plant (6 of 100)")
    # assembled lots count as entered: 6 of 150 is 4 %
    assert planner_warnings(_model(in_system=6, assembled=50), {}) == []
