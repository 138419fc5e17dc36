"""Lots are never lost or duplicated, and every machine is in exactly one state at every moment.

The census is taken from the model's own places, independently of its counters: the lots sitting in
every buffer (``simpy.Store.items``) are counted one by one, and what is neither buffered nor
finished must be held by a machine, which the machine's power state bounds: a machine that is
processing, changing over, down or blocked holds at least one lot; a starved machine holds none
(except the parts an assembly station has already gathered); no machine holds more than its batch.
The census runs at many times during a run, not only at the end.

    released + assembled == completed + consumed + scrapped + in the system      (per product)
    in the system == in buffers + held by machines

Plans release exact quantities, so their counts are also checked against hand arithmetic. Random
small lines (hypothesis) check the census and that every machine's time in its states adds up to
the run length.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from conftest import arrivals, const, day_shift_calendar, expo, make_plant, station
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twin
from twin import engine
from twin.equipment.states import BLOCKED, DOWN, PROCESSING, SETUP, STARVED
from twin.results import collect

HOLDING = {PROCESSING, SETUP, BLOCKED, DOWN}


def census(model: engine.Model) -> dict[str, int]:
    """Count the lots where they are and check the conservation laws; return the counts."""
    flow = model.flow
    products = model.plant.products
    n = len(products)
    buffered = [0] * n
    seen: set[int] = set()

    def count(store, allowed: set[str], step_of) -> None:
        assert len(store.items) <= store.capacity
        for lot in store.items:
            assert id(lot) not in seen, "a lot is in two places"
            seen.add(id(lot))
            p = lot[0]
            assert products[p].id in allowed, "a lot in a buffer it has no business in"
            assert step_of(p, lot[1]), "a lot in the buffer of the wrong route step"
            assert lot[2] <= model.env.now
            buffered[p] += 1

    stations = {s.id: s for _, _, s in model.plant.stations()}
    held_min = held_max = 0
    for rt in model.stations:
        if rt.input is not None:
            visitors = {p.id for p in products if rt.id in p.route}
            count(rt.input, visitors, lambda p, k, sid=rt.id: products[p].route[k:k + 1] == [sid])
        parts = 0
        if rt.components is not None:
            # one store per component of the assembled product, in the order of its components;
            # a finished component lot has passed its whole route
            parent = products[rt.assembles]
            for (store, qty), cid in zip(rt.components, parent.components, strict=True):
                count(store, {cid}, lambda p, k: k == len(products[p].route))
                parts += qty
        batch = stations[rt.id].batch_size
        for m in rt.machines:
            if m.state in HOLDING and not (m.state == SETUP and rt.cleaning):
                held_min += 1  # (a periodic cleaning, in the setup state, holds no lot)
            if rt.components is not None:
                held_max += parts  # the parts gathered so far, or the assembled lot
            elif m.state != STARVED:
                held_max += batch

    in_system = [flow.released[k] + flow.assembled[k] - flow.completed[k] - flow.consumed[k]
                 - flow.scrapped[k] for k in range(n)]
    for k in range(n):
        assert in_system[k] >= buffered[k] >= 0, products[k].id
    assert sum(in_system) == flow.in_system
    held = flow.in_system - sum(buffered)
    assert held_min <= held <= held_max, (held_min, held, held_max)
    assert sum(flow.completed) == len(flow.done_at)
    return {"in_system": flow.in_system, "buffered": sum(buffered), "held": held}


def run_with_census(plant, days: float, seed: int = 1, checks: int = 40):
    """Build and run the model in ``checks`` steps, taking the census after each; then collect."""
    model = engine.build(plant, days, dt.date(2026, 1, 1), seed)
    horizon = model.horizon_s
    for k in range(1, checks + 1):
        model.env.run(until=horizon * k / checks)
        census(model)
    model.meter.close()
    return model, collect(model, 0.0, 0)


def check_states_fill_the_run(result: twin.Result, days: float) -> None:
    state_cols = [c for c in result.equipment.columns if c.endswith("_h")]
    hours = result.equipment[state_cols].sum(axis=1).to_numpy()
    np.testing.assert_allclose(hours, days * 24, rtol=1e-9)
    assert (result.equipment[state_cols].to_numpy() >= 0).all()


def check_energy_books(result: twin.Result) -> None:
    hourly = result.hourly["electricity_demand_kwh"].to_numpy()
    total = result.equipment["electricity_kwh"].sum()
    assert hourly.sum() == pytest.approx(total, rel=1e-9, abs=1e-9)
    per_hour = round(len(result.intervals) / len(result.hourly))
    q = result.intervals["electricity_demand_kwh"].to_numpy()
    pad = np.zeros(len(hourly) * per_hour)
    pad[: q.size] = q
    np.testing.assert_allclose(pad.reshape(-1, per_hour).sum(axis=1), hourly, rtol=1e-9,
                               atol=1e-9)
    assert result.hourly["units_completed"].sum() == result.kpis["units_completed"]


# --- assembly and plans -------------------------------------------------------------------------

def assembly_plant(source: dict, calendar: dict | None = None):
    extra = {"calendar": calendar} if calendar else {}
    return make_plant(
        lines=[{"id": "line", "stations": [
            station("cut", expo(300)),
            station("mold", expo(400), machines=2),
            station("asm", expo(500), buffer_capacity=3),
            station("pack", const(200), batch_size=2),
        ]}],
        products=[
            {"id": "a", "route": ["cut"]},
            {"id": "b", "route": ["mold"]},
            {"id": "kit", "route": ["asm", "pack"], "units_per_lot": 4,
             "components": {"a": 2, "b": 1}},
        ],
        sources=[source],
        **extra,
    )


def test_assembly_plan_releases_exact_quantities_and_conserves_lots():
    """A plan for 10 kits a day, 4 units per lot: 2.5 lots a day rounded up with the rounding
    carried over, so after 1, 2, 3 days ceil(2.5), ceil(5), ceil(7.5) = 3, 5, 8 lots. Each kit
    lot releases 2 lots of a and 1 of b: 16 a and 8 b in 3 days. The work (at most 8 * 500 s at
    the assembly) is done long before the end, so everything is assembled and finished."""
    plant = assembly_plant({"id": "plan", "kind": "plan", "quantities": {"kit": 10}})
    model, r = run_with_census(plant, days=3)
    flow = model.flow  # products: a, b, kit
    assert flow.released == [16, 8, 0]
    assert flow.consumed == [16, 8, 0]
    assert flow.assembled == [0, 0, 8]
    assert flow.completed == [0, 0, 8]
    assert flow.in_system == 0
    assert r.kpis["units_completed"] == 32
    # releases at 00:00 of each day: 3, 2, 3 kits
    released_day = (r.lots["released"] - r.hourly.index[0]).dt.total_seconds() // 86400
    assert np.bincount(released_day.astype(int)).tolist() == [3, 2, 3]
    check_states_fill_the_run(r, 3)
    check_energy_books(r)


def test_weekly_mixed_plan_with_a_calendar():
    """A weekly plan on a Mon-Fri day shift, 14 days from Thu 2026-01-01: releases at the first
    shift of each ISO week's first working day: Thu 1 Jan (week 1), Mon 5 Jan, Mon 12 Jan.
    7 kits a week = 1.75 lots -> cumulative ceil(1.75), ceil(3.5), ceil(5.25) = 2, 4, 6 lots."""
    plant = assembly_plant({"id": "plan", "kind": "plan", "period": "week",
                            "quantities": {"kit": 7, "a": 3}, "sequence": "mixed"},
                           calendar=day_shift_calendar(("08:00", "17:00")))
    model, r = run_with_census(plant, days=14, checks=60)
    flow = model.flow
    assert flow.assembled[2] == 6
    assert flow.released == [2 * 6 + 3 * 3, 6, 0]  # a: 2 per kit + 3 a week of its own
    check_states_fill_the_run(r, 14)
    check_energy_books(r)


def test_assembly_with_random_arrivals_conserves_lots():
    plant = assembly_plant(arrivals(expo(900), {"kit": 1, "a": 0.5}))
    model, r = run_with_census(plant, days=5, checks=100)
    c = census(model)
    assert model.flow.assembled[2] > 100
    assert c["in_system"] == r.kpis["lots_in_system_at_end"]
    check_states_fill_the_run(r, 5)
    check_energy_books(r)


def test_census_sees_blocked_and_batched_lots():
    """A congested line with tiny buffers and batches: lots pile up and machines block, and the
    census still balances at every step."""
    plant = make_plant(
        [station("s1", expo(50), machines=2),
         station("s2", expo(110), buffer_capacity=1, batch_size=2),
         station("s3", expo(70), buffer_capacity=1)],
        interarrival=expo(40))
    model, r = run_with_census(plant, days=1, checks=200)
    assert r.equipment.loc["s1#1", "blocked_h"] > 0
    assert census(model)["buffered"] > 0
    check_states_fill_the_run(r, 1)


# --- random lines -------------------------------------------------------------------------------

def dists(draw, mean: float) -> dict:
    kind = draw(st.sampled_from(["constant", "exponential", "uniform", "triangular", "lognormal",
                                 "weibull", "empirical"]))
    if kind == "constant":
        return const(mean)
    if kind == "exponential":
        return expo(mean)
    if kind == "uniform":
        return {"dist": "uniform", "min": 0.5 * mean, "max": 1.5 * mean}
    if kind == "triangular":
        return {"dist": "triangular", "min": 0.5 * mean, "mode": mean, "max": 1.5 * mean}
    if kind == "lognormal":
        return {"dist": "lognormal", "mean": mean, "cv": 0.5}
    if kind == "weibull":
        return {"dist": "weibull", "shape": 1.5, "scale": mean / math.gamma(1 + 1 / 1.5)}
    return {"dist": "empirical", "values": [0.5 * mean, mean, 2 * mean], "weights": [1, 2, 1]}


@st.composite
def random_lines(draw):
    n = draw(st.integers(1, 4))
    two_products = draw(st.booleans())
    calendar = draw(st.booleans())
    stations = []
    for k in range(n):
        s = station(f"s{k}", dists(draw, draw(st.sampled_from([20.0, 45.0, 80.0]))),
                    machines=draw(st.integers(1, 2)),
                    batch_size=draw(st.sampled_from([1, 1, 2])))
        cap = draw(st.sampled_from([None, 1, 2, 5]))
        if cap is not None:
            s["buffer_capacity"] = cap
        if draw(st.booleans()):
            s["failures"] = {"time_to_failure": dists(draw, 1800.0),
                             "time_to_repair": dists(draw, 300.0)}
        if two_products and draw(st.booleans()):
            s["setup_time"] = dists(draw, 60.0)
        if calendar:
            s["off_shift"] = draw(st.sampled_from(["finish", "interrupt"]))
        if draw(st.booleans()):
            s["maintenance"] = [{"weekday": "thu", "start": "10:30", "duration_h": 1.5}]
        stations.append(s)
    ids = [s["id"] for s in stations]
    products = [{"id": "p", "route": ids}]
    mix = {"p": 1.0}
    if two_products:
        keep = [sid for sid in ids if draw(st.booleans())] or ids[-1:]
        products.append({"id": "q", "route": keep, "units_per_lot": 3})
        mix["q"] = 1.0
    machine = {"id": "machine",
               "power_kw": {"electricity": {"idle": 2, "processing": 10, "standby": 0.5,
                                            "down": 0.2, "setup": 4}},
               "saving_modes": {"standby": {"warm_up_s": 600, "min_stay_s": 1800},
                                "off": {"warm_up_s": 3600, "min_stay_s": 7200}},
               "off_shift_mode": draw(st.sampled_from(["idle", "standby", "off"]))}
    extra = {}
    if calendar:
        extra["calendar"] = day_shift_calendar(("06:00", "14:00"), ("14:30", "22:00"))
    source = arrivals(dists(draw, draw(st.sampled_from([30.0, 60.0, 120.0]))), mix,
                      active=draw(st.sampled_from(["always", "shifts"])) if calendar else "always")
    plant = make_plant(stations, products=products, sources=[source],
                       equipment_types=[machine], **extra)
    days = draw(st.sampled_from([0.5, 1.0, 1.75, 3.5]))
    return plant, days, draw(st.integers(0, 2**16))


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(random_lines())
def test_random_lines_conserve_lots_and_time(case):
    plant, days, seed = case
    model, r = run_with_census(plant, days=days, seed=seed, checks=25)
    check_states_fill_the_run(r, days)
    check_energy_books(r)
    flow = model.flow
    assert len(r.lots) == sum(flow.completed)
    assert (r.lots["lead_time_h"] >= 0).all()
    if plant.calendar is None:  # (with shifts, a lot finished after the shift counts too)
        for sid, s in r.kpis["stations"].items():
            assert 0.0 <= s["utilization"] <= 1.0 + 1e-9, sid
            assert 0.0 <= s["availability"] <= 1.0 + 1e-9, sid


@st.composite
def random_assemblies(draw):
    """One or two component products, each on its own short line, assembled into a kit that may
    visit one more station; released by random arrivals or by a daily plan."""
    n_comp = draw(st.integers(1, 2))
    stations, products, components = [], [], {}
    for c in range(n_comp):
        route = []
        for k in range(draw(st.integers(1, 2))):
            sid = f"c{c}s{k}"
            s = station(sid, dists(draw, draw(st.sampled_from([30.0, 60.0]))),
                        machines=draw(st.integers(1, 2)), batch_size=draw(st.sampled_from([1, 2])))
            cap = draw(st.sampled_from([None, 1, 3]))
            if cap is not None:
                s["buffer_capacity"] = cap
            stations.append(s)
            route.append(sid)
        products.append({"id": f"c{c}", "route": route})
        components[f"c{c}"] = draw(st.integers(1, 2))
    asm = station("asm", dists(draw, 60.0), machines=draw(st.integers(1, 2)))
    cap = draw(st.sampled_from([None, 2, 4]))
    if cap is not None:
        asm["buffer_capacity"] = cap
    stations.append(asm)
    route = ["asm"]
    if draw(st.booleans()):
        batch = draw(st.sampled_from([1, 3]))
        stations.append(station("pack", dists(draw, 40.0), batch_size=batch))
        route.append("pack")
    products.append({"id": "kit", "route": route, "components": components,
                     "units_per_lot": draw(st.integers(1, 5))})
    if draw(st.booleans()):
        source = arrivals(dists(draw, draw(st.sampled_from([90.0, 200.0]))), {"kit": 1})
    else:
        source = {"id": "plan", "kind": "plan", "quantities": {"kit": draw(st.integers(1, 400))},
                  "sequence": draw(st.sampled_from(["batched", "mixed"]))}
    plant = make_plant(stations, products=products, sources=[source])
    return plant, draw(st.sampled_from([0.5, 1.5])), draw(st.integers(0, 2**16))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(random_assemblies())
def test_random_assemblies_conserve_lots_and_time(case):
    plant, days, seed = case
    model, r = run_with_census(plant, days=days, seed=seed, checks=25)
    check_states_fill_the_run(r, days)
    check_energy_books(r)
    flow = model.flow
    kit = len(flow.products) - 1
    qty = list(plant.products[kit].components.values())
    # every kit consumed exactly its components
    for c, q in enumerate(qty):
        assert flow.consumed[c] == q * flow.assembled[kit]
    assert flow.completed[kit] <= flow.assembled[kit]


def test_parallel_batch_machines_share_a_buffer():
    """Regression: two batch machines at one station. When one of them topped up its batch while
    the other was waiting for work, it asked SimPy for a lot promised to the other machine and
    the run crashed ("Value of StoreGet is not yet available")."""
    plant = make_plant(
        [station("s0", const(20), machines=2,
                 failures={"time_to_failure": const(1800), "time_to_repair": const(300)}),
         station("s1", const(20), machines=2, batch_size=2, buffer_capacity=1)],
        interarrival=const(30))
    _, r = run_with_census(plant, days=0.5, checks=100)
    # lots arrive every 30 s: 1439 in 12 h (the 1440th would arrive at the end); the line keeps up
    assert r.kpis["lots_released"] == 1439
    assert r.kpis["lots_completed"] >= 1439 - 4
    check_states_fill_the_run(r, 0.5)


def test_reentrant_route_and_stepping_do_not_matter():
    """A product that visits s1 twice (s1, s2, s1): the census finds its lots in s1's buffer at
    step 0 and step 2. Running in 150 steps with a census after each gives the same hourly table
    as one plain run."""
    plant = make_plant([station("s1", expo(15)), station("s2", expo(20))],
                       products=[{"id": "part", "route": ["s1", "s2", "s1"]}],
                       interarrival=expo(60))
    model, r = run_with_census(plant, days=2, seed=4, checks=150)
    assert model.flow.completed[0] > 2000
    plain = twin.simulate(plant, days=2, start="2026-01-01", seed=4)
    np.testing.assert_array_equal(r.hourly.to_numpy(), plain.hourly.to_numpy())
    assert r.kpis["stations"] == plain.kpis["stations"]


def test_lots_still_open_past_their_due_date_count_as_late():
    """One machine, 1 h a lot, a lot every 30 min due 2 h after release, 9.75 h: lots j = 1..19
    are released at 0.5 j h; lot j finishes at j + 0.5 h, so lots 1-9 finish (tardiness
    max(0.5 j - 1.5, 0): 0, 0, 0, 0.5, ..., 3.0 h) and lots 10-19 are still in the plant at the
    end. Of those, the six due at 7.0-9.5 h are already late (2.75, 2.25, ..., 0.25 h so far)
    and the four due after the end are not judged. So 15 lots judged, 12 late (6 of them open),
    on time 3/15 = 0.2, mean tardiness (10.5 + 9.0) / 15 = 1.3 h (a lower bound), max 3.0 h."""
    plant = make_plant([station("s", const(1, "h"))], interarrival=const(30, "min"),
                       products=[{"id": "part", "route": ["s"], "due_h": 2}])
    r = twin.simulate(plant, days=9.75 / 24)
    assert r.kpis["lots_in_system_at_end"] == 10
    due = r.kpis["due_dates"]
    expected = {"lots": 15, "late_lots": 12, "open_late_lots": 6, "on_time_share": 0.2,
                "mean_tardiness_h": 1.3, "max_tardiness_h": 3.0}
    assert {k: due[k] for k in expected} == pytest.approx(expected, rel=1e-12)
    part = due["products"]["part"]
    assert {k: part[k] for k in expected} == pytest.approx(expected, rel=1e-12)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(random_assemblies(), st.sampled_from([0.5, 4.0, 24.0]))
def test_every_lot_with_a_due_date_is_finished_consumed_or_open(case, due_h):
    """With a due date on every order, the lots kept open for the due-date KPIs are exactly the
    lots in the plant at the end (through assembly, batches and blocking), and the lots judged
    are the finished ones plus the open ones past due."""
    plant, days, seed = case
    data = plant.model_dump(mode="json", exclude_none=True)
    for s in data["sources"]:
        s["due_h"] = due_h
    plant = twin.Plant.model_validate(data)
    model = engine.build(plant, days, plant.simulation.start, seed)
    engine.run(model, progress=False)
    r = twin.results.collect(model, 0.0, 0)
    flow = model.flow
    open_ = flow.open_due_s()
    assert open_["due_s"].size == flow.in_system
    past = int((open_["due_s"] < model.horizon_s).sum())
    due = r.kpis["due_dates"]
    if due is None:
        assert sum(flow.completed) == 0 and past == 0
    else:
        assert due["lots"] == sum(flow.completed) + past
        assert due["open_late_lots"] == past
