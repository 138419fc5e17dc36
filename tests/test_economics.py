"""Economics against hand calculations: NPV, IRR, payback, cash flows, abatement cost, MACC."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.economics import (
    MACC_COLUMNS,
    Upgrade,
    capital_recovery_factor,
    cash_flow_table,
    cash_flows,
    discount_factors,
    discounted_payback_years,
    evaluate,
    irr,
    irr_roots,
    levelised_abatement_cost,
    macc,
    macc_figure,
    npv,
    salvage_value,
    simple_payback_years,
)


def two_year(name: str = "measure", saving: float = 300.0, co2: float = 10.0,
             **extra) -> Upgrade:
    """The two-year case of the hand calculations: capex 1000, life 2 years, r = 10 %."""
    kw = {"name": name, "capex": 1000.0, "lifetime_years": 2, "annual_cost_saving": saving,
          "annual_co2_saving_t": co2, "discount_rate": 0.10}
    kw.update(extra)
    return Upgrade(**kw)


# ---------------------------------------------------------------------------------------------
# NPV


def test_npv_by_hand_at_8_percent():
    # -1000 + 300/1.08 + 400/1.08^2 + 500/1.08^3
    #   = -1000 + 277.777778 + 342.935528 + 396.916121 = 17.629426
    flows = [-1000.0, 300.0, 400.0, 500.0]
    assert npv(0.08, flows) == pytest.approx(17.629426408576, abs=1e-9)
    # year 0 is not discounted (numpy-financial / REopt timing, not Excel's NPV)
    assert npv(0.08, [-1000.0]) == -1000.0
    # at 0 % the NPV is the plain sum
    assert npv(0.0, flows) == pytest.approx(200.0, abs=1e-12)


def test_npv_rejects_rate_at_or_below_minus_one():
    with pytest.raises(ValueError, match="rate"):
        npv(-1.0, [-1.0, 2.0])
    with pytest.raises(ValueError, match="rate"):
        npv(-1.5, [-1.0, 2.0])
    with pytest.raises(ValueError, match="flows"):
        npv(0.05, [])
    with pytest.raises(ValueError, match="flows"):
        npv(0.05, [-1.0, float("nan")])


def test_capital_recovery_factor_by_hand():
    # CRF(10 %, 2) = 0.1 * 1.1^2 / (1.1^2 - 1) = 0.121 / 0.21 = 0.5761905
    assert capital_recovery_factor(0.10, 2) == pytest.approx(0.121 / 0.21, rel=1e-14)
    assert capital_recovery_factor(0.0, 4) == 0.25
    with pytest.raises(ValueError, match="years"):
        capital_recovery_factor(0.1, 0)


# ---------------------------------------------------------------------------------------------
# IRR


def test_irr_one_period_is_exact():
    # -100 + 110/(1+r) = 0  ->  r = 10 %
    r = irr([-100.0, 110.0])
    assert r == pytest.approx(0.10, abs=1e-12)
    # -100 + 121/(1+r)^2 = 0  ->  (1+r)^2 = 1.21  ->  r = 10 %
    assert irr([-100.0, 0.0, 121.0]) == pytest.approx(0.10, abs=1e-12)


def test_irr_five_year_annuity():
    # -1000 then 5 x 300. Present value of the inflows, 300 (1 - (1+r)^-5) / r:
    # at 15 % 1005.65 > 1000, at 16 % 982.29 < 1000, so 15 % < IRR < 16 %.
    flows = [-1000.0] + [300.0] * 5

    def annuity(r):
        return 300.0 * (1 - (1 + r) ** -5) / r

    assert annuity(0.15) == pytest.approx(1005.6465, abs=1e-3)
    assert annuity(0.16) == pytest.approx(982.2883, abs=1e-3)
    r = irr(flows)
    assert 0.15 < r < 0.16
    assert abs(npv(r, flows)) < 1e-9
    # 60 bisection steps in exact rational arithmetic (fractions.Fraction) give 0.15238237116631
    assert r == pytest.approx(0.15238237116631, abs=1e-13)


def test_irr_negative_rate_closed_form():
    # -1000 + 300 x + 300 x^2 = 0 with x = 1/(1+r):
    # x = (-300 + sqrt(300^2 + 4*300*1000)) / 600 = (-300 + sqrt(1,290,000)) / 600 = 1.3929694
    # r = 1/x - 1 = -0.2821092 (the measure loses money: it returns less than it costs)
    x = (-300.0 + math.sqrt(1_290_000.0)) / 600.0
    assert irr([-1000.0, 300.0, 300.0]) == pytest.approx(1.0 / x - 1.0, abs=1e-12)


def test_irr_matches_numpy_documented_examples():
    # numpy.irr (NumPy <= 1.19) docstring examples, given to 5 decimals
    cases = {(-100, 39, 59, 55, 20): 0.28095, (-100, 0, 0, 74): -0.0955,
             (-100, 100, 0, -7): -0.0833, (-100, 100, 0, 7): 0.06206,
             (-5, 10.5, 1, -8, 1): 0.0886}
    for flows, expected in cases.items():
        assert round(irr(flows), 5) == expected


def test_irr_several_roots_and_none():
    # -100 + 230 x - 132 x^2 = 0  ->  x = (230 +- 10) / 264  ->  r = 10 % and r = 20 %
    assert irr_roots([-100.0, 230.0, -132.0]) == pytest.approx([0.10, 0.20], abs=1e-12)
    assert irr([-100.0, 230.0, -132.0]) == pytest.approx(0.10, abs=1e-12)  # closest to zero
    # no sign change, nothing to solve
    assert irr([100.0, 50.0]) is None
    assert irr([-100.0, -50.0]) is None
    assert irr([0.0, 0.0, 0.0]) is None
    assert irr([-5.0]) is None
    # leading and trailing zeros change nothing
    assert irr([0.0, -100.0, 110.0, 0.0]) == pytest.approx(0.10, abs=1e-12)



def test_irr_roots_close_together_and_near_minus_one():
    """Found by mutation testing (tests/MUTATION.md, economics): a coarser scan, a scan whose
    density ignores ``points_per_decade`` or an upper root bound from the first flow alone
    found the same roots for every case above."""
    # -100 + 222 x - 123.2 x^2 with x = 1/(1+r): times -(1+r)^2/100 it is
    # y^2 - 2.22 y + 1.232 = (y - 1.10)(y - 1.12), y = 1 + r: IRRs 10 % and 12 %, whose x differ
    # by a factor 1.12/1.10 = 1.018, more than one step of the default scan (10^(1/200) = 1.0116)
    assert irr_roots([-100.0, 222.0, -123.2]) == pytest.approx([0.10, 0.12], abs=1e-12)
    # (y - 1.1)(y - 1.1001) = y^2 - 2.2001 y + 1.21011: IRRs 10 % and 10.01 %, a factor 1.00009
    # apart, found with a scan of 10^5 points per decade (a factor 1.000023 per step)
    flows = [-100_000.0, 220_010.0, -121_011.0]
    assert irr_roots(flows, points_per_decade=100_000) == pytest.approx([0.10, 0.1001], abs=1e-9)
    # 10 - 20.5 x + x^2 = (x - 0.5)(x - 20): r = 1/0.5 - 1 = 100 % and r = 1/20 - 1 = -95 %;
    # by hand at 1 + r = 0.05: 10 - 20.5/0.05 + 1/0.0025 = 10 - 410 + 400 = 0. Cauchy's bound
    # 1 + max(10, 20.5)/1 = 21.5 holds x = 20; 1 + 10/1 would not
    assert irr_roots([10.0, -20.5, 1.0]) == pytest.approx([-0.95, 1.0], abs=1e-12)


def test_an_irr_on_a_scan_point_is_found():
    """A root that falls exactly on a point of the scan is not inside any sign change (the NPV
    is 0.0 there, not of either sign): it must still be found. -1 + 1 x = 0 at x = 1, IRR 0 %;
    with 192 points per decade the scan of [0.5 / 1.01, 2 x 1.01] has 119 points, symmetric in
    log around 1: its middle point is x = 1.0 exactly (checked below)."""
    from twin.economics import _poly_sign_function

    lo, hi = 0.5 / 1.01, 2.0 * 1.01
    x = np.geomspace(lo, hi, math.ceil(math.log10(hi / lo) * 192) + 1)
    assert x.size == 119 and x[59] == 1.0 and _poly_sign_function(np.array([-1.0, 1.0]))(
        x)[59] == 0.0
    for flows in ([-1.0, 1.0], [-2.0, 2.0], [-1.0, 0.0, 1.0]):
        assert irr_roots(flows, points_per_decade=192).tolist() == [0.0], flows


def test_irr_roots_near_the_root_bounds_and_with_zero_years_at_the_end():
    """-1 + 1000 x = 0: x = 0.001, IRR 999 (99,900 %), within 0.1 % of Cauchy's lower bound
    1 / (1 + 1000) (the scan's 1 % margin below it is needed); trailing zero years add nothing
    (no root at infinity, no division by a zero coefficient: no warning)."""
    import warnings

    assert irr_roots([-1.0, 1000.0]).tolist() == pytest.approx([999.0], rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for flows in ([-100.0, 110.0, 0.0], [0.0, -100.0, 110.0, 0.0, 0.0]):
            assert irr_roots(flows).tolist() == pytest.approx([0.1], rel=1e-12), flows


def test_irr_roots_scan_density_is_checked():
    # one point per decade is coarse but allowed (the scan has at least 64 points)
    assert irr_roots([-100.0, 110.0], points_per_decade=1) == pytest.approx([0.10], abs=1e-12)
    for bad in (0, -5, 2.5, "200"):
        with pytest.raises(ValueError, match=r"^points_per_decade: expected an integer >= 1, "
                                             rf"got {bad!r}$"):
            irr_roots([-100.0, 110.0], points_per_decade=bad)

# Flows in cents up to 1e6: every ratio of flows is bounded, so every root is representable.
cents = st.integers(-10**8, 10**8).map(lambda i: i / 100)


@settings(max_examples=300, deadline=None)
@given(st.lists(cents, min_size=2, max_size=12))
def test_npv_at_irr_is_zero(flows):
    rates = irr_roots(flows)
    for r in rates:
        assert r > -1
        if 1.0 + r < 1e-3:
            continue  # r itself cannot be stored closer to -1 than ~1e-16: precision is lost
        scale = float(np.sum(np.abs(flows) * (1.0 + r) ** -np.arange(len(flows))))
        assert abs(npv(r, flows)) <= 1e-9 * scale
    r = irr(flows)
    assert (r is None) == (rates.size == 0)


@settings(max_examples=200, deadline=None)
@given(st.floats(1.0, 1e6), st.lists(st.integers(0, 10**8).map(lambda i: i / 100),
                                     min_size=1, max_size=30))
def test_conventional_investment_has_one_irr_and_npv_falls_with_rate(capex, inflows):
    if not any(inflows):
        inflows = [*inflows[:-1], 1.0]
    flows = [-capex, *inflows]
    rates = irr_roots(flows)
    assert rates.size == 1  # Descartes: one sign change, one root
    grid = [-0.5, -0.2, 0.0, 0.03, 0.08, 0.15, 0.3, 1.0, 3.0]
    values = np.array([npv(r, flows) for r in grid])
    assert np.all(np.diff(values) <= 0)
    # NPV > 0 below the IRR and < 0 above it
    for r, v in zip(grid, values, strict=True):
        if r < rates[0] - 1e-6:
            assert v > 0
        elif r > rates[0] + 1e-6:
            assert v < 0


# ---------------------------------------------------------------------------------------------
# payback


def test_simple_payback_by_hand():
    assert simple_payback_years(1000.0, 250.0) == 4.0  # 1000 / 250
    assert simple_payback_years(1000.0, 300.0) == pytest.approx(10 / 3)  # may exceed a lifetime
    assert simple_payback_years(1000.0, 0.0) is None  # never
    assert simple_payback_years(1000.0, -50.0) is None  # never
    assert simple_payback_years(0.0, -50.0) == 0.0  # nothing to pay back
    with pytest.raises(ValueError, match="capex"):
        simple_payback_years(-1.0, 100.0)


def test_discounted_payback_by_hand():
    # -1000 then 5 x 300 at 8 %. Discounted flows 277.778, 257.202, 238.150, 220.509, 204.175;
    # cumulative -722.222, -465.021, -226.871, -6.362, +197.813: crosses zero in year 5,
    # payback = 4 + 6.362 / 204.175 = 4.0312 years
    flows = [-1000.0] + [300.0] * 5
    d = [300.0 / 1.08**t for t in range(1, 6)]
    cum4 = -1000.0 + sum(d[:4])
    assert cum4 == pytest.approx(-6.361948, abs=1e-6)
    expected = 4 + (-cum4) / d[4]
    assert expected == pytest.approx(4.03116, abs=1e-5)
    assert discounted_payback_years(flows, 0.08) == pytest.approx(expected, abs=1e-12)
    # at 0 %: cumulative -700, -400, -100, +200 -> 3 + 100/300, the simple payback 1000/300
    assert discounted_payback_years(flows, 0.0) == pytest.approx(10 / 3, abs=1e-12)
    # an exact crossing at a year end: -100, 50, 50 at 0 % -> 2 years
    assert discounted_payback_years([-100.0, 50.0, 50.0], 0.0) == 2.0


def test_discounted_payback_never_and_immediately():
    # 5 x 100 at 8 % is worth 399.27 < 1000: never pays back
    assert discounted_payback_years([-1000.0] + [100.0] * 5, 0.08) is None
    assert discounted_payback_years([0.0, 10.0], 0.08) == 0.0
    # first crossing is reported even if a later cost takes the cumulative value below zero
    assert discounted_payback_years([-100.0, 150.0, -200.0], 0.0) == pytest.approx(100 / 150)


# ---------------------------------------------------------------------------------------------
# cash flows: escalation, O&M, replacement, salvage


def test_cash_flows_escalation_om_replacement_salvage_by_hand():
    up = Upgrade(name="chiller", capex=1000.0, lifetime_years=3, analysis_years=5,
                 replacement_cost=600.0, annual_cost_saving=500.0, price_escalation_rate=0.10,
                 fixed_om_per_year=50.0, variable_om_per_kwh=0.01, annual_energy_kwh=1000.0,
                 annual_co2_saving_t=2.0, discount_rate=0.08)
    # savings 500 * 1.1^t (escalation from year 1): 550, 605, 665.5, 732.05, 805.255
    # O&M 50 + 0.01 * 1000 = 60 per year, not escalated
    # replaced at the end of year 3 (life 3 < 5 years) for 600
    # salvage: the unit installed in year 3 is 2 years old at the end of year 5, 1 of 3 years
    #          left -> 600 * 1/3 = 200
    expected = [-1000.0, 550 - 60, 605 - 60, 665.5 - 60 - 600, 732.05 - 60, 805.255 - 60 + 200]
    assert cash_flows(up) == pytest.approx(expected, abs=1e-9)
    assert up.replacement_schedule() == (3,)
    assert salvage_value(up) == pytest.approx(200.0, abs=1e-12)
    table = cash_flow_table(up)
    assert list(table.index) == [0, 1, 2, 3, 4, 5]
    assert table["replacement"].tolist() == [0, 0, 0, -600, 0, 0]
    # discount factors 1/1.08^t: 1, 1/1.08, 1/1.1664, 1/1.259712, 1/1.36048896, 1/1.4693280768
    assert table["discount_factor"].tolist() == pytest.approx(
        [1.0, 1 / 1.08, 1 / 1.1664, 1 / 1.259712, 1 / 1.36048896, 1 / 1.4693280768], rel=1e-14)
    # discounted: -1000, 490/1.08 = 453.703704, 545/1.1664 = 467.249657,
    #   5.5/1.259712 = 4.366077, 672.05/1.36048896 = 493.976813, 945.255/1.4693280768 = 643.324670
    discounted = [-1000.0, 453.703704, 467.249657, 4.366077, 493.976813, 643.324670]
    assert table["discounted_net"].tolist() == pytest.approx(discounted, abs=1e-6)
    # cumulative: -1000, -546.296296, -79.046639, -74.680562, 419.296251, 1062.620921
    assert table["cumulative_discounted_net"].tolist() == pytest.approx(
        [-1000.0, -546.296296, -79.046639, -74.680562, 419.296251, 1062.620921], abs=1e-6)
    # the study's NPV (the table) and npv() of its flows: both the sum by hand
    assert npv(0.08, expected) == pytest.approx(1062.620921, abs=1e-6)
    assert evaluate(up)["npv"] == pytest.approx(1062.620921, abs=1e-6)
    # discounted payback: crosses zero in year 4, -74.680562 + 493.976813 x f = 0
    assert discounted_payback_years(cash_flows(up), 0.08) == pytest.approx(
        3 + 74.680562 / 493.976813, abs=1e-8)


def test_discount_factors_by_hand():
    # end-of-year flows: year 0 undiscounted, year t by 1.05^t
    assert discount_factors(0.05, 4).tolist() == pytest.approx(
        [1.0, 1 / 1.05, 1 / 1.1025, 1 / 1.157625], rel=1e-15)
    assert discount_factors(0.0, 3).tolist() == [1.0, 1.0, 1.0]
    # the capital recovery factor at 5 % over 3 years: 1 / (1/1.05 + 1/1.1025 + 1/1.157625)
    #   = 1 / 2.723248 = 0.367209
    assert capital_recovery_factor(0.05, 3) == pytest.approx(0.05 * 1.157625 / 0.157625,
                                                             rel=1e-13)


def test_om_escalation_and_co2_change():
    up = two_year(fixed_om_per_year=100.0, om_escalation_rate=0.05, co2_saving_change_rate=-0.1)
    table = cash_flow_table(up)
    # O&M 100 * 1.05^t: 105, 110.25; CO2 10 * 0.9^t: 9, 8.1
    assert table["om_cost"].tolist() == pytest.approx([0, -105.0, -110.25], abs=1e-12)
    assert table["co2_saving_t"].tolist() == pytest.approx([0, 9.0, 8.1], abs=1e-12)


def test_escalated_savings_match_the_reopt_present_worth_factor():
    # REopt annuity(N, e, r) = sum_{n=1..N} ((1+e)/(1+r))^n = x (1 - x^N) / (1 - x)
    up = Upgrade(name="vfd", capex=0.0, lifetime_years=10, annual_cost_saving=1.0,
                 annual_co2_saving_t=1.0, discount_rate=0.08, price_escalation_rate=0.03)
    x = 1.03 / 1.08
    assert npv(0.08, cash_flows(up)) == pytest.approx(x * (1 - x**10) / (1 - x), rel=1e-13)


def test_salvage_linear_depreciation():
    # HOMER's example: 10,000 with a 25-year life, 20-year analysis -> 5/25 * 10,000 = 2,000
    up = Upgrade(name="turbine", capex=10_000.0, lifetime_years=25, analysis_years=20,
                 annual_cost_saving=0.0, annual_co2_saving_t=0.0, discount_rate=0.05)
    assert salvage_value(up) == pytest.approx(2000.0, abs=1e-9)
    assert cash_flows(up)[-1] == pytest.approx(2000.0, abs=1e-9)
    # analysis = lifetime: nothing left
    assert salvage_value(two_year()) == 0.0
    # explicit replacement in year 8 of a 10-year unit, 15-year analysis: the new unit is 7 years
    # old at the end, 3 of 10 years left -> 400 * 3/10 = 120
    up = Upgrade(name="inverter", capex=1000.0, lifetime_years=10, analysis_years=15,
                 replacement_years=[8], replacement_cost=400.0, annual_cost_saving=200.0,
                 annual_co2_saving_t=1.0, discount_rate=0.05)
    assert up.replacement_years == (8,)
    assert salvage_value(up) == pytest.approx(120.0, abs=1e-12)
    # an explicit salvage value (here a disposal cost) replaces the depreciation rule
    up = two_year(salvage_value=-50.0)
    assert cash_flows(up).tolist() == pytest.approx([-1000.0, 300.0, 250.0], abs=1e-12)


# ---------------------------------------------------------------------------------------------
# abatement cost


def test_levelised_abatement_cost_two_years_by_hand():
    # capex 1000, saving 300/yr, 10 tCO2/yr, 2 years, r = 10 %, no salvage:
    # PV costs 1000; PV savings 300/1.1 + 300/1.21 = 520.661; PV tonnes 10/1.1 + 10/1.21 = 17.355
    # LAC = (1000 - 520.661) / 17.355 = 27.619 per tCO2
    # check: CRF(10 %, 2) = 0.576190 -> capex 576.190/yr - 300 = 276.190/yr over 10 t = 27.619
    up = two_year()
    pv_savings = 300 / 1.1 + 300 / 1.21
    pv_tonnes = 10 / 1.1 + 10 / 1.21
    expected = (1000 - pv_savings) / pv_tonnes
    assert expected == pytest.approx(580 / 21, abs=1e-12)
    assert levelised_abatement_cost(up) == pytest.approx(expected, abs=1e-12)
    # undiscounted tonnes: 479.339 / 20 = 23.967
    assert levelised_abatement_cost(up, discount_tonnes=False) == pytest.approx(
        (1000 - pv_savings) / 20, abs=1e-12)


def test_levelised_abatement_cost_negative_when_the_upgrade_pays():
    # saving 700/yr: 576.190 - 700 = -123.810/yr over 10 t = -12.381 per tCO2
    up = two_year(saving=700.0)
    assert levelised_abatement_cost(up) == pytest.approx(-260 / 21, abs=1e-12)
    assert npv(up.discount_rate, cash_flows(up)) > 0


def test_levelised_abatement_cost_is_minus_npv_over_discounted_tonnes():
    up = Upgrade(name="pv", capex=5000.0, lifetime_years=8, analysis_years=12,
                 annual_cost_saving=900.0, annual_co2_saving_t=4.0, discount_rate=0.07,
                 fixed_om_per_year=40.0, price_escalation_rate=0.02, replacement_cost=3000.0)
    t = np.arange(1, 13)
    pv_tonnes = float(np.sum(4.0 / 1.07**t))
    value = npv(0.07, cash_flows(up))
    assert levelised_abatement_cost(up) == pytest.approx(-value / pv_tonnes, rel=1e-12)
    # constant tonnes: LAC * Q = annualised net cost = -NPV * CRF
    assert levelised_abatement_cost(up) * 4.0 == pytest.approx(
        -value * capital_recovery_factor(0.07, 12), rel=1e-12)


def test_no_abatement_cost_without_co2_saving():
    assert levelised_abatement_cost(two_year(co2=0.0)) is None
    assert levelised_abatement_cost(two_year(co2=-3.0)) is None


# ---------------------------------------------------------------------------------------------
# evaluate


def test_evaluate_two_year_case():
    result = evaluate(two_year())
    json.dumps(result, allow_nan=False)  # JSON-serialisable, no NaN
    assert result["npv"] == pytest.approx(-1000 + 300 / 1.1 + 300 / 1.21, abs=1e-9)
    assert result["irr"] == pytest.approx(-0.2821091654, abs=1e-9)
    assert result["irr_count"] == 1
    assert result["simple_payback_years"] == pytest.approx(10 / 3)  # beyond the 2-year life
    assert result["discounted_payback_years"] is None
    assert result["levelised_abatement_cost_per_t"] == pytest.approx(580 / 21, abs=1e-12)
    assert result["annualised_net_cost"] == pytest.approx(5800 / 21, abs=1e-9)
    assert result["lifetime_co2_saving_t"] == 20.0
    assert result["pv_costs"] - result["pv_savings"] == pytest.approx(-result["npv"], abs=1e-9)
    assert result["salvage_value"] == 0.0
    assert all(isinstance(v, (str, int, float)) or v is None for v in result.values())


def test_evaluate_no_irr_no_payback_no_abatement():
    result = evaluate(two_year(saving=-10.0, co2=0.0))
    json.dumps(result, allow_nan=False)
    assert result["irr"] is None and result["irr_count"] == 0
    assert result["simple_payback_years"] is None
    assert result["discounted_payback_years"] is None
    assert result["levelised_abatement_cost_per_t"] is None


# ---------------------------------------------------------------------------------------------
# MACC


def test_macc_order_widths_and_cumulative_sums():
    # two-year cases (capex 1000, r = 10 %, annualised capex 576.190/yr):
    #   LED        saves 700/yr, 10 t/yr -> (576.190 - 700)/10 = -12.381 per t
    #   PV         saves 300/yr, 20 t/yr -> (576.190 - 300)/20 =  13.810 per t
    #   heat pump  saves   0/yr,  5 t/yr -> 576.190/5           = 115.238 per t
    #   idle       avoids no CO2 -> left out
    upgrades = [two_year("heat pump", saving=0.0, co2=5.0), two_year("idle", co2=0.0),
                two_year("PV", saving=300.0, co2=20.0), two_year("LED", saving=700.0, co2=10.0)]
    df = macc(upgrades)
    assert list(df.columns) == list(MACC_COLUMNS)
    assert df["name"].tolist() == ["LED", "PV", "heat pump"]
    crf = 0.121 / 0.21
    assert df["abatement_cost_per_t"].tolist() == pytest.approx(
        [(1000 * crf - 700) / 10, (1000 * crf - 300) / 20, 1000 * crf / 5], abs=1e-9)
    assert df["annual_abatement_t"].tolist() == [10.0, 20.0, 5.0]
    assert df["abatement_start_t"].tolist() == [0.0, 10.0, 30.0]
    assert df["cumulative_abatement_t"].tolist() == [10.0, 30.0, 35.0]
    # bar area = cost per t * t/yr = annualised net cost
    assert df["annual_net_cost"].tolist() == pytest.approx(
        [1000 * crf - 700, 1000 * crf - 300, 1000 * crf], abs=1e-9)
    assert df.attrs["units"]["abatement_cost_per_t"] == "currency/tCO2"


def test_macc_ties_empty_and_duplicates():
    df = macc([two_year("b"), two_year("a")])  # same cost: ordered by name
    assert df["name"].tolist() == ["a", "b"]
    empty = macc([])
    assert list(empty.columns) == list(MACC_COLUMNS) and len(empty) == 0
    with pytest.raises(ValueError, match="name"):
        macc([two_year("a"), two_year("a")])


def test_macc_figure_bars_and_escaped_labels():
    df = macc([two_year("<b>LED</b>", saving=700.0), two_year("PV & roof", co2=20.0)])
    fig = macc_figure(df, currency="<CNY>")
    (bar,) = fig.data
    assert list(bar.width) == [10.0, 20.0]
    assert list(bar.x) == [5.0, 20.0]  # bar centres: 0 + 10/2, 10 + 20/2
    assert list(bar.y) == pytest.approx(df["abatement_cost_per_t"].tolist())
    assert list(bar.text) == ["&lt;b&gt;LED&lt;/b&gt;", "PV &amp; roof"]
    assert "&lt;CNY&gt;" in fig.layout.yaxis.title.text
    assert "<b>LED" not in json.dumps(fig.to_plotly_json(), default=str)
    macc_figure(macc([]))  # an empty study draws an empty chart


# ---------------------------------------------------------------------------------------------
# invalid inputs


@pytest.mark.parametrize(("field", "value"), [
    ("lifetime_years", -5), ("lifetime_years", 0), ("lifetime_years", 2.5),
    ("discount_rate", -1.0), ("discount_rate", -2.0), ("discount_rate", float("nan")),
    ("capex", -1.0), ("annual_cost_saving", float("inf")), ("analysis_years", 0),
    ("price_escalation_rate", -1.0), ("om_escalation_rate", -1.2),
    ("co2_saving_change_rate", -1.0), ("replacement_cost", -10.0), ("name", ""),
    ("replacement_years", [2]),  # must lie inside 1..N-1 = 1..1
    ("replacement_years", "3"),
])
def test_invalid_inputs_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        two_year(**{field: value})


def test_equipment_may_not_outlive_its_lifetime():
    with pytest.raises(ValueError, match="replacement_years"):
        two_year(analysis_years=3, replacement_years=())  # 3 years on a 2-year life
    with pytest.raises(ValueError, match="replacement_years"):
        Upgrade(name="x", capex=1.0, lifetime_years=10, analysis_years=25, replacement_years=(12,),
                annual_cost_saving=1.0, annual_co2_saving_t=1.0, discount_rate=0.05)
    # automatic replacements every lifetime: years 2 and 4 of a 5-year analysis
    assert two_year(analysis_years=5).replacement_schedule() == (2, 4)


# ---------------------------------------------------------------------------------------------
# cases found by mutation testing (tests/MUTATION.md): each fails for a planted one-line bug


def test_salvage_of_the_original_unit_uses_capex_not_the_replacement_cost():
    # life 10 years, analysis 5: never replaced, so the replacement cost (400) plays no part;
    # the unit bought for 1000 has 5 of 10 years left: salvage 1000 x 5/10 = 500
    up = Upgrade(name="vsd", capex=1000.0, lifetime_years=10, analysis_years=5,
                 replacement_cost=400.0, annual_cost_saving=0.0, annual_co2_saving_t=0.0,
                 discount_rate=0.05)
    assert up.replacement_schedule() == ()
    assert salvage_value(up) == pytest.approx(500.0, abs=1e-12)


def test_capital_recovery_factor_at_100_percent():
    # r = 1: 1 / (1/2 + 1/4) = 4/3 over two years (not the 1/N of r = 0)
    assert capital_recovery_factor(1.0, 2) == pytest.approx(4 / 3, rel=1e-15)


def test_paybacks_with_small_savings_and_a_zero_start():
    # a saving below 1 per year still pays back: 1 / 0.5 = 2 years
    assert simple_payback_years(1.0, 0.5) == pytest.approx(2.0, rel=1e-15)
    # nothing to repay: 0 years, for a lone zero flow and for a small positive start
    assert discounted_payback_years([0.0], 0.08) == 0.0
    assert discounted_payback_years([0.0, 0.0], 0.08) == 0.0
    assert discounted_payback_years([0.5, 10.0], 0.08) == 0.0


def test_abatement_cost_of_less_than_a_tonne():
    # 0.5 t/yr over two years at 10 %: PV tonnes 0.5/1.1 + 0.5/1.21 = 0.867769; net cost
    # 1000 - 300/1.1 - 300/1.21 = 479.338843 -> 552.380952 per t (= 580/21 x 20)
    up = two_year(co2=0.5)
    assert levelised_abatement_cost(up) == pytest.approx(580 / 21 * 20, rel=1e-12)
    df = macc([up])
    assert df["name"].tolist() == ["measure"] and df["annual_abatement_t"].tolist() == [0.5]


def test_macc_reports_npv_and_capex():
    # two-year case: NPV -1000 + 300/1.1 + 300/1.21 = -479.338843, capex 1000
    df = macc([two_year()])
    assert df["npv"].tolist() == pytest.approx([-1000 + 300 / 1.1 + 300 / 1.21], abs=1e-9)
    assert df["capex"].tolist() == [1000.0]


def test_evaluate_keys_and_table_index():
    assert set(evaluate(two_year())) == {
        "name", "capex", "analysis_years", "discount_rate", "annual_cost_saving",
        "annual_om_cost", "annual_net_saving", "annual_co2_saving_t", "npv", "irr",
        "irr_count", "simple_payback_years", "discounted_payback_years",
        "levelised_abatement_cost_per_t", "annualised_net_cost", "pv_costs", "pv_savings",
        "pv_co2_t", "lifetime_co2_saving_t", "salvage_value"}
    assert evaluate(two_year())["pv_co2_t"] == pytest.approx(10 / 1.1 + 10 / 1.21, rel=1e-14)
    assert cash_flow_table(two_year()).index.name == "year"


def test_upgrade_fields_are_converted_and_bounds_are_inclusive():
    up = Upgrade(name="x", capex=1000, lifetime_years=1.0, annual_cost_saving=1,
                 annual_co2_saving_t=1, discount_rate=0, replacement_cost=0, salvage_value=7)
    assert type(up.capex) is float and type(up.lifetime_years) is int
    assert type(up.replacement_cost) is float and type(up.salvage_value) is float
    # a replacement cost of 0 or below 1 is allowed; a one-year life is allowed
    assert Upgrade(name="x", capex=1.0, lifetime_years=1, annual_cost_saving=0.0,
                   annual_co2_saving_t=0.0, discount_rate=0.0,
                   replacement_cost=0.5).replacement_cost == 0.5
    with pytest.raises(ValueError, match=r"^replacement_years: expected a sequence"):
        two_year(replacement_years=5)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: npv(-2.0, [1.0]), r"^rate: "),
    (lambda: capital_recovery_factor(-2.0, 2), r"^rate: "),
    (lambda: capital_recovery_factor(0.1, 0), r"^years: "),
    (lambda: discounted_payback_years([1.0], -2.0), r"^rate: "),
    (lambda: simple_payback_years(float("nan"), 1.0), r"^capex: "),
    (lambda: simple_payback_years("x", 1.0), r"^capex: expected a number"),
    (lambda: simple_payback_years(1.0, float("inf")), r"^annual_net_saving: "),
    (lambda: npv(0.1, [1.0, float("nan")]), r"^flows: every cash flow must be finite$"),
    (lambda: two_year(capex=float("nan")), r"^capex: "),
    (lambda: two_year(lifetime_years=0), r"^lifetime_years: "),
    (lambda: two_year(analysis_years=0.5), r"^analysis_years: "),
    (lambda: two_year(replacement_cost=float("nan")), r"^replacement_cost: "),
    (lambda: two_year(salvage_value=float("nan")), r"^salvage_value: "),
    (lambda: two_year(replacement_years=[0]), r"^replacement_years: "),
    (lambda: two_year(analysis_years=4, replacement_years=[2, 2]), r"^replacement_years: years"),
    (lambda: two_year(analysis_years=4, replacement_years=[4]),
     r"^replacement_years: must lie in 1\.\.3 "),
    (lambda: macc([object()]), r"^upgrades: expected Upgrade objects, got object$"),
])
def test_errors_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_macc_figure_hover_numbers_and_colours():
    # LED saves money (cost < 0: green), PV costs (red); hover: name, t/yr, cumulative t/yr
    df = macc([two_year('LED "A"', saving=700.0), two_year("PV", co2=20.0)])
    (bar,) = macc_figure(df)["data"]
    assert [list(row) for row in bar.customdata] == [["LED &quot;A&quot;", 10.0, 10.0],
                                                      ["PV", 20.0, 30.0]]
    assert list(bar.marker.color) == ["#2e9e4f", "#d64541"]
    assert "CNY/tCO2" in bar.hovertemplate and "tCO2/yr" in bar.hovertemplate


def test_evaluate_reports_the_irr_nearest_zero_of_two():
    # saving 21500/9 per year falling 90 % a year, O&M 710/9: flows -100, 2150/9 - 710/9 = 160,
    # 215/9 - 710/9 = -55. -100 + 160 x - 55 x^2 = 0 with x = 1/(1+r): 1+r = 0.5 or 1.1, so
    # IRRs -50 % and +10 %; the one nearest 0 is reported
    up = Upgrade(name="two roots", capex=100.0, lifetime_years=2, annual_cost_saving=21500 / 9,
                 price_escalation_rate=-0.9, fixed_om_per_year=710 / 9, annual_co2_saving_t=1.0,
                 discount_rate=0.05)
    assert cash_flows(up) == pytest.approx([-100.0, 160.0, -55.0], abs=1e-9)
    result = evaluate(up)
    assert result["irr_count"] == 2
    assert result["irr"] == pytest.approx(0.1, abs=1e-9)
