"""Shared operators and tools (plant ``resources``, station ``needs``), checked against hand
calculations and queueing theory.

Two machines that each need the only operator to process are one server for their combined
load: with Poisson arrivals and exponential processing that is the M/M/1 queue, whose mean number
in system is rho / (1 - rho) and mean time in system 1 / (mu - lambda) (Kleinrock 1975, vol. 1,
sec. 3.2), whatever the order in which the operator serves the two machines (the number in a
work-conserving single-server queue with identical exponential services does not depend on it).
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import MACHINE, arrivals, const, expo, make_plant, station

import twin
from twin.config.errors import ConfigError

DAY = 86400.0


def two_machines(process_a: dict, process_b: dict, sources: list[dict], **fields) -> twin.Plant:
    """Stations A and B, product a visits A and b visits B; both need the one operator."""
    needs = {"needs": {"op": 1}, **fields}
    return make_plant(
        lines=[{"id": "line", "stations": [station("A", process_a, **needs),
                                            station("B", process_b, **needs)]}],
        products=[{"id": "a", "route": ["A"]}, {"id": "b", "route": ["B"]}],
        sources=sources, resources=[{"id": "op", "count": 1}])


def test_two_machines_one_operator_serve_one_lot_at_a_time_by_hand():
    """Two lots for A and two for B at t = 0, 100 s each, one operator, first come first served.

    A asks first (its lot is released first) and works 0-100; B has asked at 0 and works
    100-200; A asked again at 100: 200-300; B asked at 200: 300-400. Finished at 100, 200, 300,
    400 s. A waited 100-200 (100 s), B 0-100 and 200-300 (200 s). The operator was busy 400 s
    of the day."""
    plant = two_machines(const(100), const(100),
                         [{"id": "plan", "kind": "plan", "quantities": {"a": 2, "b": 2}}])
    res = twin.simulate(plant, days=1, seed=1)
    assert sorted(res.lots["lead_time_h"].to_numpy() * 3600) == pytest.approx([100, 200, 300, 400])
    st = res.kpis["stations"]
    assert st["A"]["waiting_for_resource_h"] == pytest.approx(100 / 3600)
    assert st["B"]["waiting_for_resource_h"] == pytest.approx(200 / 3600)
    op = res.kpis["resources"]["op"]
    assert op["busy_h"] == pytest.approx(400 / 3600)
    assert op["utilization"] == pytest.approx(400 / DAY)
    assert op["scheduled_h"] == pytest.approx(24)
    # waiting is idle (2 kW), as is starving: the machines' energy is unchanged by the wait
    eq = res.equipment
    assert eq.loc["A", "processing_h"] == pytest.approx(200 / 3600)
    assert eq.loc["A", "electricity_kwh"] == pytest.approx((200 * 10 + (DAY - 200) * 2) / 3600)


def test_two_machines_sharing_one_operator_are_an_mm1_queue():
    """Poisson arrivals, mean 100 s, half for A and half for B; exponential processing, mean 60 s
    on both; one operator. Combined: lambda = 1/100, mu = 1/60, rho = 0.6; M/M/1:
    L = rho / (1 - rho) = 1.5 lots, W = 1 / (mu - lambda) = 150 s, operator utilization 0.6.
    (Without the operator it would be two M/M/1 queues at rho = 0.3: L = 0.857, W = 85.7 s.)
    100 days, ~86,000 lots: the standard error of L is about 1.5 %."""
    plant = two_machines(expo(60), expo(60), [arrivals(expo(100), {"a": 1, "b": 1})])
    k = twin.simulate(plant, days=100, seed=1).kpis
    assert k["mean_wip_lots"] == pytest.approx(1.5, rel=0.05)
    assert k["mean_lead_time_h"] * 3600 == pytest.approx(150, rel=0.05)
    assert k["resources"]["op"]["utilization"] == pytest.approx(0.6, rel=0.03)


def test_no_work_starts_outside_the_resources_shifts():
    """A station working around the clock, its operator only Mon-Fri 08:00-16:00: lots (every
    ~15 min) start only within those windows, those arriving at night wait for the morning.
    Processing is 600 s, so a lot's start is its finish less 600 s. Two weeks from Monday
    2026-01-05: 10 working days of 8 h; the operator is busy 600 s per lot."""
    plant = make_plant(
        [station("cell", const(600), needs={"op": 1})], interarrival=expo(900),
        resources=[{"id": "op", "calendar": {
            "shifts": {"day": {"start": "08:00", "end": "16:00"}},
            "week": {d: ["day"] for d in ("mon", "tue", "wed", "thu", "fri")}}}])
    res = twin.simulate(plant, days=14, start="2026-01-05", seed=2)
    start = res.lots["completed"] - pd.Timedelta(seconds=600)
    local = start.dt.tz_convert("Asia/Shanghai")
    minutes = local.dt.hour * 60 + local.dt.minute + local.dt.second / 60
    assert ((minutes >= 8 * 60) & (minutes < 16 * 60)).all()
    assert (local.dt.day_of_week < 5).all()
    k = res.kpis
    lots = k["stations"]["cell"]["lots_processed"]
    assert lots > 100
    op = k["resources"]["op"]
    assert op["scheduled_h"] == pytest.approx(80)
    assert op["busy_h"] == pytest.approx(lots * 600 / 3600)
    assert op["utilization"] == pytest.approx(lots * 600 / (80 * 3600))
    assert k["stations"]["cell"]["waiting_for_resource_h"] > 14  # every night and the weekend


@pytest.mark.parametrize(("needs_for", "busy_s"), [
    (["setup"], 3 * 50), (["process"], 4 * 100), (["setup", "process"], 3 * 50 + 4 * 100)])
def test_what_the_resource_is_held_for(needs_for, busy_s):
    """One station, products a, b released mixed (a, b, a, b) at t = 0; changeover 50 s when the
    product changes, processing 100 s. Changeovers before lots 2, 3, 4: the lots finish at 100,
    250, 400, 550 s (nothing waits: the crew is free). The crew is busy 3 x 50 = 150 s when
    held for changeovers only, 4 x 100 = 400 s for processing only, 550 s for both."""
    plant = make_plant(
        [station("press", const(100), setup_time=const(50), needs={"crew": 1},
                 needs_for=needs_for)],
        products=[{"id": "a", "route": ["press"]}, {"id": "b", "route": ["press"]}],
        sources=[{"id": "plan", "kind": "plan", "quantities": {"a": 2, "b": 2},
                  "sequence": "mixed"}],
        resources=[{"id": "crew", "count": 1}])
    res = twin.simulate(plant, days=1, seed=1)
    assert sorted(res.lots["lead_time_h"].to_numpy() * 3600) == pytest.approx([100, 250, 400, 550])
    assert res.kpis["resources"]["crew"]["busy_h"] == pytest.approx(busy_s / 3600)
    assert res.kpis["stations"]["press"]["waiting_for_resource_h"] == 0


def test_two_operators_serve_two_machines_at_once():
    """The same four lots as the hand case above with two operators: no waiting, A and B both
    finish at 100 and 200 s; the operators are busy 400 unit-seconds, utilization 400 / (2 x
    86400)."""
    plant = two_machines(const(100), const(100),
                         [{"id": "plan", "kind": "plan", "quantities": {"a": 2, "b": 2}}])
    plant = plant.model_copy(update={"resources": [plant.resources[0].model_copy(
        update={"count": 2})]})
    res = twin.simulate(plant, days=1, seed=1)
    assert sorted(res.lots["lead_time_h"].to_numpy() * 3600) == pytest.approx([100, 100, 200, 200])
    assert res.kpis["resources"]["op"]["utilization"] == pytest.approx(400 / (2 * DAY))
    assert res.kpis["stations"]["B"]["waiting_for_resource_h"] == 0


@pytest.mark.parametrize(("needs", "resources", "match"), [
    ({"crew": 1}, [{"id": "op"}], r"stations\[0\]\.needs\.crew.*unknown resource"),
    ({"op": 3}, [{"id": "op", "count": 2}], r"needs\.op.*more units than resource 'op' has"),
    ({"op": 1}, [{"id": "op"}, {"id": "op"}], r"resources\[1\]\.id.*duplicate resource"),
])
def test_bad_needs_are_clear_errors(needs, resources, match):
    with pytest.raises(ConfigError, match=match):
        make_plant([station("cell", const(10), needs=needs)], resources=resources)


def test_a_machine_waiting_for_its_operator_takes_its_break_at_its_shift_end():
    """A cell on two shifts (06:00-22:00, Mon-Fri) whose operator works the early shift only
    (06:00-14:00); off outside its shifts. Lots arrive every 16 h from Monday 2026-01-05 00:00:
    Monday 16:00 and Tuesday 08:00 within the two days. The first waits for the operator, idle,
    16:00-22:00 (6 h), then the cell goes off for the night and gets the operator at Tuesday
    06:00 (done 06:10); the second is done 08:00-08:10 at once. Off: Monday 00:00-06:00,
    22:00-06:00, Tuesday 22:00-24:00 = 16 h; waiting for the operator 6 h."""
    etype = {**MACHINE, "saving_modes": {"off": {}}, "off_shift_mode": "off"}
    week = ("mon", "tue", "wed", "thu", "fri")
    plant = make_plant(
        [station("cell", const(600), needs={"op": 1})], equipment_types=[etype],
        interarrival=const(16 * 3600),
        calendar={"shifts": {"early": {"start": "06:00", "end": "14:00"},
                             "late": {"start": "14:00", "end": "22:00"}},
                  "week": {d: ["early", "late"] for d in week}},
        resources=[{"id": "op", "calendar": {"week": {d: ["early"] for d in week}}}])
    res = twin.simulate(plant, days=2, start="2026-01-05", seed=1)
    assert res.lots["lead_time_h"].to_numpy() == pytest.approx([14 + 1 / 6, 1 / 6])
    eq = res.equipment.loc["cell"]
    assert eq["off_h"] == pytest.approx(16)
    assert eq["processing_h"] == pytest.approx(2 / 6)
    assert res.kpis["stations"]["cell"]["waiting_for_resource_h"] == pytest.approx(6)
