"""Savings by cause and waterfalls: hand cases and the property that the parts add up.

Independent truth: the cost of a run is sum(kWh x price) + demand + capacity + gas + purchased
heat - export revenue (the definition of ``cost_total``), worked out here from the series
themselves; the hand cases are the issue's: the same kWh moved from peak to valley is all
timing (price) effect, fuller batches (fewer kWh in the same hours) all energy effect.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.cost_causes import CAUSES, cost_difference_by_cause
from twin.waterfall import check, from_changes, from_levels

PARTS = [c for c, _ in CAUSES]


def test_same_kwh_moved_from_peak_to_valley_is_all_timing():
    # 10 kWh at the peak price 1.0 moved to the valley at 0.3: 10 - 3 = 7 saved, all timing
    p = [1.0, 0.3]
    out = cost_difference_by_cause([10, 0], [10.0, 0.0], [0, 10], [0.0, 3.0],
                                   base_price=p, scen_price=p)
    assert out["energy"] == 0.0
    assert out["tariff"] == 0.0
    assert out["timing"] == pytest.approx(-7.0, abs=1e-12)
    assert out["total"] == pytest.approx(-7.0, abs=1e-12)


def test_fewer_kwh_in_the_same_hours_is_all_energy():
    # fuller batches: 20 % fewer kWh in every hour at the same prices
    q = np.array([5.0, 12.0, 8.0, 0.0, 20.0])
    p = np.array([0.9, 1.2, 0.6, 0.3, 0.6])
    out = cost_difference_by_cause(q, q * p, 0.8 * q, 0.8 * q * p, base_price=p, scen_price=p)
    e_b = float((q * p).sum())  # 31.2
    assert out["energy"] == pytest.approx(-0.2 * e_b, rel=1e-12)
    assert out["timing"] == pytest.approx(0.0, abs=1e-12)
    assert out["base_average_price"] == pytest.approx(e_b / 45.0)


def test_other_prices_for_the_same_kwh_are_the_tariff_part():
    q = np.array([4.0, 6.0])
    p = np.array([1.0, 0.5])
    out = cost_difference_by_cause(q, q * p, q, q * p * 1.1, base_price=p, scen_price=p * 1.1)
    assert out["tariff"] == pytest.approx(0.7, rel=1e-12)  # 10 % of 7
    assert out["energy"] == 0.0 and out["timing"] == pytest.approx(0.0, abs=1e-12)
    # without the prices (or intervals that do not line up) it stays in timing
    out = cost_difference_by_cause(q, q * p, q, q * p * 1.1)
    assert out["tariff"] == 0.0 and out["timing"] == pytest.approx(0.7, rel=1e-12)


def test_the_other_cost_lines_by_hand():
    base = {"demand_cost": 100.0, "capacity_cost": 0.0, "gas_cost": 50.0,
            "purchased_heat_cost": 10.0, "export_revenue": 5.0}
    scen = {"demand_cost": 80.0, "capacity_cost": 0.0, "gas_cost": 20.0,
            "purchased_heat_cost": 10.0, "export_revenue": 8.0}
    out = cost_difference_by_cause([1.0], [1.0], [1.0], [1.0], base_lines=base,
                                   scen_lines=scen)
    assert (out["demand"], out["gas"], out["purchased_heat"], out["capacity"]) == (
        -20.0, -30.0, 0.0, 0.0)
    assert out["export"] == -3.0  # 3 more of export revenue is a saving
    # total = (1 + 80 + 20 + 10 - 8) - (1 + 100 + 50 + 10 - 5) = 103 - 156
    assert out["total"] == pytest.approx(-53.0)


def test_bad_series_are_refused():
    with pytest.raises(ValueError, match="scenario grid import: expected a one-dimensional "
                                         "series of finite numbers"):
        cost_difference_by_cause([1.0], [1.0], [math.nan], [1.0])
    with pytest.raises(ValueError, match="one value per interval"):
        cost_difference_by_cause([1.0, 2.0], [1.0], [1.0], [1.0])


series = st.lists(st.floats(0, 5000, allow_nan=False, allow_subnormal=False), min_size=1,
                  max_size=60)
lines = st.fixed_dictionaries({k: st.floats(0, 1e6, allow_nan=False) for k in (
    "demand_cost", "capacity_cost", "gas_cost", "purchased_heat_cost", "export_revenue")})


@settings(max_examples=200, deadline=None)
@given(qb=series, qs=series, seed=st.integers(0, 2**32 - 1), lb=lines, ls=lines,
       same_prices=st.booleans())
def test_property_parts_add_up_to_the_change_of_total_cost(qb, qs, seed, lb, ls, same_prices):
    rng = np.random.default_rng(seed)
    n = len(qs)
    qb = (qb * n)[:n] if len(qb) < n else qb[:n]  # the same intervals in both runs
    qb, qs = np.array(qb), np.array(qs)
    pb = rng.uniform(0.2, 1.5, n)
    ps = pb if same_prices else rng.uniform(0.2, 1.5, n)
    out = cost_difference_by_cause(qb, qb * pb, qs, qs * ps, base_lines=lb, scen_lines=ls,
                                   base_price=pb, scen_price=ps)

    def cost_total(q, p, li):
        return (math.fsum(q * p) + li["demand_cost"] + li["capacity_cost"] + li["gas_cost"]
                + li["purchased_heat_cost"] - li["export_revenue"])

    change = cost_total(qs, ps, ls) - cost_total(qb, pb, lb)
    scale = 1.0 + math.fsum(qs * ps) + math.fsum(qb * pb) + sum(lb.values()) + sum(ls.values())
    assert math.fsum(out[c] for c in PARTS) == pytest.approx(out["total"], abs=1e-12 * scale)
    assert out["total"] == pytest.approx(change, abs=1e-9 * scale)
    if same_prices:
        assert out["tariff"] == 0.0
    # the energy part is the kWh difference at the base's average price
    if qb.sum() > 0:
        assert out["energy"] == pytest.approx(
            (qs.sum() - qb.sum()) * math.fsum(qb * pb) / qb.sum(), abs=1e-9 * scale)


@settings(max_examples=200, deadline=None)
@given(levels=st.lists(st.floats(-1e7, 1e7, allow_nan=False), min_size=2, max_size=12),
       target=st.none() | st.floats(-1e7, 1e7, allow_nan=False))
def test_property_waterfall_bars_add_up_from_the_base_to_the_end(levels, target):
    steps = [(f"step {k}", v) for k, v in enumerate(levels[1:])]
    bars = from_levels(("base", levels[0]), steps, target=target)
    check(bars)  # every step starts exactly where the previous one ended
    start, end = bars[0]["end"], bars[len(steps) + 1]["end"]
    assert start == levels[0] and end == levels[-1]
    deltas = [b["delta"] for b in bars if b["kind"] == "step"]
    assert math.fsum(deltas) == pytest.approx(end - start, abs=1e-9 * (1 + max(map(abs,
                                                                                    levels))))
    if target is not None:
        gap, tgt = bars[-2], bars[-1]
        assert gap["start"] == end and gap["end"] == tgt["end"] == target
    # the same bars from signed changes: the levels are the running sums
    again = from_changes(("base", levels[0]), [(label, d) for (label, _), d in
                                               zip(steps, deltas, strict=True)])
    check(again)
    assert again[-1]["end"] == pytest.approx(levels[-1], abs=1e-9 * (1 + max(map(abs,
                                                                                  levels))))


def test_waterfall_refuses_a_broken_chain_and_bad_levels():
    bars = from_levels(("base", 100.0), [("a", 90.0), ("b", 70.0)])
    assert [b["delta"] for b in bars] == [100.0, -10.0, -20.0, 70.0]
    bars[2]["start"] = 91.0
    with pytest.raises(ValueError, match=r"'b' starts at 91\.0, not at 90\.0"):
        check(bars)
    with pytest.raises(ValueError, match="waterfall step 'a': nan is not a finite number"):
        from_levels(("base", 1.0), [("a", math.nan)])
