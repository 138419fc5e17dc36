"""The sizing LP solved by cutting planes over its capacities (twin.energy.benders) against hand
calculations and against the monolithic LP, the reference solve of the same problem."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.energy.benders import solve_by_capacity_cuts
from twin.energy.optimal import BatteryParams, LpProblem
from twin.energy.sizing import SizingCandidate, SizingData, SizingTargets, solve_sizing

ROOT = Path(__file__).resolve().parents[1]


def _kink_lp() -> LpProblem:
    """min x + 3 s  s.t.  s >= 5 - x,  x in [0, 10], s >= 0: φ(x) = x + 3 max(0, 5 - x), whose
    minimum is φ(5) = 5 (slope 1 - 3 = -2 below 5, +1 above)."""
    lp = LpProblem()
    x = lp.add_vars(1, 0.0, 10.0, 1.0)
    s = lp.add_vars(1, 0.0, math.inf, 3.0)
    lp.add_rows("ub", 1, [[0, 0]], [[x, s]], [[-1.0, -1.0]], -5.0)
    return lp


def test_cutting_planes_find_the_kink_of_a_piecewise_linear_cost():
    r = solve_by_capacity_cuts(_kink_lp(), [0], np.array([0.0]), np.array([10.0]))
    assert r is not None
    assert r.x[0] == pytest.approx(5.0, abs=1e-6)
    assert r.fun == pytest.approx(5.0, rel=1e-8)
    assert r.lower_bound <= r.fun + 1e-9
    assert r.lower_bound == pytest.approx(5.0, rel=1e-8)
    assert 2 <= r.iterations < 60


def test_an_infeasible_subproblem_gives_up_for_the_whole_lp():
    # s >= 2 and s <= x: sizes below 2 leave no feasible dispatch; the cuts walk down from
    # x = 10 towards the cheaper end and reach one (no feasibility cuts are made)
    lp = LpProblem()
    x = lp.add_vars(1, 0.0, 10.0, 1.0)
    s = lp.add_vars(1, 2.0, math.inf, 0.0)
    lp.add_rows("ub", 1, [[0, 0]], [[s, x]], [[1.0, -1.0]], 0.0)
    assert solve_by_capacity_cuts(lp, [x], np.array([0.0]), np.array([10.0])) is None
    # the same with the box above 2: every subproblem feasible, the optimum at x = 2
    r = solve_by_capacity_cuts(lp, [x], np.array([2.5]), np.array([10.0]))
    assert r is not None and r.x[x] == pytest.approx(2.5)


N = 24


def test_battery_power_needed_for_a_peak_above_the_import_limit_falls_back_and_is_exact():
    # 10 kWh an hour, one hour of 30 kWh, import limit 20 kW: the battery must give 10 kWh in
    # that hour, so its power is at least 10 kW, and power costs 1 CNY/kW/yr: P = 10 kW.
    # Smaller sizes have no feasible dispatch; the decomposition reaches one and falls back.
    load = np.full(N, 10.0)
    load[18] = 30.0
    bp = BatteryParams(100.0, 1.0, 0.95, 0.95, 0.0, 1.0, 50.0)
    data = SizingData(load, np.ones(N), np.full(N, 1.0), np.zeros(N), np.zeros(N), [bp],
                      import_limit_kw=20.0)
    cand = SizingCandidate("P", "battery_power", 0.0, 100.0, 1.0, 0.0, item=0)
    s = solve_sizing(data, [cand])
    assert s.sizes["P"] == pytest.approx(10.0, rel=1e-6)
    assert s.method == "monolithic"  # fell back: the answer comes from the whole LP
    # the cost: 23 h x 10 kWh + 20 kWh in the peak hour + 10 / 0.95^2 kWh to recharge the
    # 10 kWh delivered, at 1 CNY/kWh, 365 days; plus 10 kW x 1 CNY/kW/yr
    energy = 365 * (10 * 23 + 20 + 10 / 0.95 / 0.95)
    assert s.total == pytest.approx(energy + 10.0, rel=1e-6)


def test_a_battery_that_earns_nothing_is_kept_at_its_sunk_size_not_shrunk():
    # one flat price: the battery only loses energy, so any size up to the 50 kWh the plant
    # has costs the same (nothing); the decomposition keeps the plant's 50 kWh
    bp = BatteryParams(50.0, 50.0, 0.95, 0.95, 0.0, 1.0, 25.0)
    data = SizingData(np.full(N, 10.0), np.ones(N), np.full(N, 0.5), np.zeros(N), np.zeros(N),
                      [bp])
    cand = SizingCandidate("E", "battery_energy", 0.0, 1000.0, 100.0, 0.0, 1000.0, 50.0, item=0)
    s = solve_sizing(data, [cand], method="decomposed")
    assert s.method == "decomposed" and s.iterations >= 2
    assert s.sizes["E"] == pytest.approx(50.0, rel=1e-6)
    assert s.new_capacity["E"] == pytest.approx(0.0, abs=1e-6)
    assert s.total == pytest.approx(365 * 24 * 10 * 0.5, rel=1e-9)


def test_auto_solves_targets_whole_and_the_rest_decomposed():
    bp = BatteryParams(100.0, 1000.0, 0.95, 0.95, 0.0, 1.0, 50.0)
    price = np.where(np.arange(N) < 12, 0.3, 1.0)
    data = SizingData(np.full(N, 10.0), np.ones(N), price, np.zeros(N), np.zeros(N), [bp],
                      grid_ef=0.5)
    cand = [SizingCandidate("E", "battery_energy", 0.0, 1000.0, 100.0, 0.0, item=0)]
    assert solve_sizing(data, cand).method == "decomposed"
    capped = solve_sizing(data, cand, targets=SizingTargets(max_scope12_t_per_year=1000.0))
    assert capped.method == "monolithic"
    with pytest.raises(ValueError, match="method='simplex': expected one of auto"):
        solve_sizing(data, cand, method="simplex")


# --- the decomposed solve against the monolithic one --------------------------------------


def _check_same_optimum(data: SizingData, cands: list[SizingCandidate], **kw) -> None:
    """Same least cost within the gap, and the decomposed sizes, fixed in the monolithic LP,
    cost that optimum too (they are optimal even where the optimum is not unique)."""
    mono = solve_sizing(data, cands, method="monolithic", **kw)
    deco = solve_sizing(data, cands, method="decomposed", **kw)
    assert deco.method == "decomposed"
    tol = 1e-6 * max(1.0, abs(mono.total))
    assert deco.total == pytest.approx(mono.total, abs=tol)
    assert deco.total >= mono.total - tol  # a feasible point never beats the optimum
    fixed = [dataclasses.replace(c, lo=deco.sizes[c.name], hi=deco.sizes[c.name])
             for c in cands]
    at = solve_sizing(data, fixed, method="monolithic", **kw)
    assert at.total == pytest.approx(mono.total, abs=tol)


@st.composite
def small_cases(draw):
    n = draw(st.sampled_from([24, 48]))
    hours = np.arange(n) % 24
    load = np.array(draw(st.lists(st.floats(0.0, 40.0), min_size=n, max_size=n)))
    profile = np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None)
    price = np.where((hours >= 8) & (hours < 22), draw(st.floats(0.6, 1.4)),
                     draw(st.floats(0.1, 0.6)))
    feed = draw(st.floats(0.0, 0.3))
    demand = draw(st.sampled_from([None, 20.0, 60.0]))
    existing = draw(st.sampled_from([0.0, 20.0]))
    costs = [draw(st.floats(20.0, 400.0)) for _ in range(3)]
    return n, load, profile, price, feed, demand, existing, costs


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_cases())
def test_decomposed_and_monolithic_agree_on_random_small_cases(case):
    n, load, profile, price, feed, demand, existing, (pv_c, e_c, p_c) = case
    bp = BatteryParams(1.0, 1.0, 0.95, 0.95, 0.1, 0.95, 0.5)
    data = SizingData(load, np.ones(n), price, np.zeros(n), np.zeros(n), [bp],
                      feed_in_price=feed, export_limit_kw=30.0, month=np.zeros(n, dtype=int),
                      demand_rate=None if demand is None else np.array([demand]))
    cands = [SizingCandidate("pv", "generation", 0.0, 80.0, pv_c, 0.0, profile=profile),
             SizingCandidate("e", "battery_energy", 0.0, 200.0, e_c, 0.0, existing=existing,
                             item=0),
             SizingCandidate("p", "battery_power", 0.0, 60.0, p_c, 0.0, item=0)]
    _check_same_optimum(data, cands)


@pytest.mark.parametrize("study", ["demo_sizing.yaml", "demo_heat_sizing.yaml"])
def test_decomposed_and_monolithic_agree_on_the_demo_sizing_studies(study):
    # the demo studies' own inputs (a week of the plant as it is), without their targets:
    # PV and battery on the gear-unit plant; heat pump, hot-water tank and battery on the
    # cell factory's heat bus
    from twin.config.sizing import load_sizing
    from twin.sizing_study import sizing_inputs

    inp = sizing_inputs(load_sizing(ROOT / "simulations" / study), 7.0)
    _check_same_optimum(inp.data, inp.candidates)
    mono = solve_sizing(inp.data, inp.candidates, method="monolithic")
    deco = solve_sizing(inp.data, inp.candidates, method="decomposed")
    for c in inp.candidates:  # the same sizes too, to 0.1 % of each candidate's range
        assert deco.sizes[c.name] == pytest.approx(mono.sizes[c.name], abs=1e-3 * c.hi)
