"""ASHRAE Guideline 14 goodness of fit: hand-computed examples, the sign convention, missing
hours, partial months, the limits and the cases that cannot be judged."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.calibration.metrics import (
    LIMITS,
    cv_rmse,
    goodness_of_fit,
    hours_in_month,
    meets,
    monthly_totals,
    nmbe,
    r2,
)

TZ = "Asia/Shanghai"

# The 6-hour example, kWh per hour:
#   measured  y    = 10, 12,  8, 10, 14, 6     sum 60, n 6, mean 10
#   simulated yhat =  9, 12,  9, 11, 12, 6
#   y - yhat       =  1,  0, -1, -1,  2, 0     sum 1, sum of squares 1+0+1+1+4+0 = 7
#   CV(RMSE) = 100 * sqrt(7 / (6 - 1)) / 10 = 10 * sqrt(1.4) = 11.8321596 %
#   NMBE     = 100 * 1 / ((6 - 1) * 10)     = 2.0 %
#   SS_tot   = 0 + 4 + 4 + 0 + 16 + 16 = 40;  R2 = 1 - 7 / 40 = 0.825
SIX_Y = [10.0, 12.0, 8.0, 10.0, 14.0, 6.0]
SIX_YHAT = [9.0, 12.0, 9.0, 11.0, 12.0, 6.0]


def hourly(values, start="2026-04-01", tz=TZ) -> pd.Series:
    idx = pd.date_range(start, periods=len(values), freq="h", tz=tz, name="timestamp")
    return pd.Series(np.asarray(values, dtype=float), idx)


def two_months(measured_apr=10.0, sim_apr=11.0, measured_may=20.0, sim_may=18.0):
    idx = pd.date_range("2026-04-01", "2026-06-01", freq="h", tz=TZ, inclusive="left")
    april = idx.month == 4
    return (pd.Series(np.where(april, measured_apr, measured_may), idx),
            pd.Series(np.where(april, sim_apr, sim_may), idx))


def test_six_hours_by_hand():
    assert cv_rmse(SIX_Y, SIX_YHAT) == pytest.approx(11.832159566199232, rel=1e-12)
    assert cv_rmse(SIX_Y, SIX_YHAT) == pytest.approx(10 * math.sqrt(1.4), rel=1e-12)
    assert nmbe(SIX_Y, SIX_YHAT) == pytest.approx(2.0, rel=1e-12)
    assert r2(SIX_Y, SIX_YHAT) == pytest.approx(0.825, rel=1e-12)
    # p = 3 (three fitted parameters): n - p = 3
    #   CV = 100 * sqrt(7 / 3) / 10 = 15.2752523 %, NMBE = 100 * 1 / (3 * 10) = 3.3333 %
    assert cv_rmse(SIX_Y, SIX_YHAT, p=3) == pytest.approx(15.275252316519467, rel=1e-12)
    assert nmbe(SIX_Y, SIX_YHAT, p=3) == pytest.approx(10 / 3, rel=1e-12)
    # p = 0: the plain means over n: CV = 100 * sqrt(7 / 6) / 10 = 10.8012345 %
    assert cv_rmse(SIX_Y, SIX_YHAT, p=0) == pytest.approx(10.801234497346433, rel=1e-12)


def test_six_hours_through_goodness_of_fit():
    g = goodness_of_fit(hourly(SIX_Y), hourly(SIX_YHAT))
    assert g["cv_rmse_hourly_pct"] == pytest.approx(11.832159566199232, rel=1e-12)
    assert g["nmbe_hourly_pct"] == pytest.approx(2.0, rel=1e-12)
    assert g["r2_hourly"] == pytest.approx(0.825, rel=1e-12)
    assert g["n_hourly"] == 6
    assert g["mean_measured_kwh_per_h"] == pytest.approx(10.0)
    assert g["pass_hourly"] is True          # 11.8 <= 30 and |2.0| <= 10
    # 6 of April's 720 hours: no month is covered, so the monthly criteria are not judged
    assert g["n_monthly"] == 0
    assert math.isnan(g["cv_rmse_monthly_pct"]) and math.isnan(g["nmbe_monthly_pct"])
    assert g["pass_monthly"] is None
    assert list(g) == ["cv_rmse_hourly_pct", "nmbe_hourly_pct", "r2_hourly", "n_hourly",
                       "mean_measured_kwh_per_h", "pass_hourly", "cv_rmse_monthly_pct",
                       "nmbe_monthly_pct", "n_monthly", "pass_monthly"]


def test_sign_convention_positive_nmbe_is_under_prediction():
    measured = [10.0, 10.0, 10.0]
    low = [9.0, 9.0, 9.0]     # the model simulates 1 kWh/h too little
    #   NMBE = 100 * (1 + 1 + 1) / ((3 - 1) * 10) = +15 %
    assert nmbe(measured, low) == pytest.approx(15.0)
    high = [11.0, 11.0, 11.0]
    assert nmbe(measured, high) == pytest.approx(-15.0)
    # CV(RMSE) does not see the sign: 100 * sqrt(3 / 2) / 10 = 12.247 % both ways
    assert cv_rmse(measured, low) == pytest.approx(cv_rmse(measured, high))
    assert cv_rmse(measured, low) == pytest.approx(10 * math.sqrt(1.5))


def test_two_months_by_hand():
    # April 2026: 720 h, measured 10 kWh/h, simulated 11 -> sums 7,200 and 7,920 kWh
    # May 2026:   744 h, measured 20 kWh/h, simulated 18 -> sums 14,880 and 13,392 kWh
    # monthly y - yhat = -720, +1,488: sum 768, squares 518,400 + 2,214,144 = 2,732,544
    # mean monthly measured = (7,200 + 14,880) / 2 = 11,040; n - p = 2 - 1 = 1
    #   CV(RMSE) monthly = 100 * sqrt(2,732,544 / 1) / 11,040 = 100 * 1,653.0408 / 11,040
    #                    = 14.9732 %          (<= 15: meets)
    #   NMBE monthly     = 100 * 768 / (1 * 11,040) = 6.9565 %   (> 5: does not meet)
    # hourly: n = 1,464, mean = 22,080 / 1,464 = 15.0820 kWh/h
    #   y - yhat = -1 (720 h), +2 (744 h): sum 768, squares 720 + 4 * 744 = 3,696
    #   CV(RMSE) hourly = 100 * sqrt(3,696 / 1,463) / 15.0820 = 10.5387 %
    #   NMBE hourly     = 100 * 768 / (1,463 * 15.0820)        = 3.4806 %
    g = goodness_of_fit(*two_months())
    assert g["n_monthly"] == 2
    assert g["cv_rmse_monthly_pct"] == pytest.approx(100 * math.sqrt(2_732_544) / 11_040)
    assert g["cv_rmse_monthly_pct"] == pytest.approx(14.9732, abs=5e-5)
    assert g["nmbe_monthly_pct"] == pytest.approx(6.9565, abs=5e-5)
    assert g["pass_monthly"] is False
    assert g["n_hourly"] == 1464
    assert g["mean_measured_kwh_per_h"] == pytest.approx(22_080 / 1_464)
    assert g["cv_rmse_hourly_pct"] == pytest.approx(10.5387, abs=5e-5)
    assert g["nmbe_hourly_pct"] == pytest.approx(3.4806, abs=5e-5)
    assert g["pass_hourly"] is True


def test_missing_measurements_are_left_out_of_both_series():
    # the 6-hour example with two more hours that have no valid measurement and an absurd
    # simulated value there: the indices are those of the 6 hours alone
    y = hourly([math.nan, *SIX_Y[:3], math.nan, *SIX_Y[3:]])
    yhat = hourly([1e6, *SIX_YHAT[:3], -1e6, *SIX_YHAT[3:]])
    g = goodness_of_fit(y, yhat)
    assert g["n_hourly"] == 6
    assert g["cv_rmse_hourly_pct"] == pytest.approx(10 * math.sqrt(1.4))
    assert g["nmbe_hourly_pct"] == pytest.approx(2.0)
    assert g["r2_hourly"] == pytest.approx(0.825)


def test_a_simulated_gap_where_there_is_a_measurement_is_an_error():
    yhat = hourly(SIX_YHAT)
    yhat.iloc[2] = math.nan
    with pytest.raises(ValueError, match=r"simulated: nan at 2026-04-01 02:00:00\+08:00"):
        goodness_of_fit(hourly(SIX_Y), yhat)


def test_partial_months():
    # May with 74 of its 744 hours missing: 670 / 744 = 90.05 % covered -> judged, with the
    # sums over the 670 hours: measured 670 * 20 = 13,400, simulated 670 * 18 = 12,060
    #   monthly y - yhat = -720 (April), +1,340 (May): sum 620, squares 518,400 + 1,795,600
    #   mean = (7,200 + 13,400) / 2 = 10,300
    #   CV = 100 * sqrt(2,314,000) / 10,300 = 14.7686 %, NMBE = 100 * 620 / 10,300 = 6.0194 %
    y, yhat = two_months()
    may = y.index.month == 5
    y.iloc[np.flatnonzero(may)[:74]] = math.nan
    t = monthly_totals(y, yhat)
    assert t["month"].tolist() == ["2026-04", "2026-05"]
    assert t["hours"].tolist() == [720, 670]
    assert t["measured_kwh"].tolist() == [7200.0, 13400.0]
    assert t["simulated_kwh"].tolist() == [7920.0, 12060.0]
    assert t["coverage"].iloc[1] == pytest.approx(670 / 744)
    g = goodness_of_fit(y, yhat)
    assert g["n_monthly"] == 2
    assert g["cv_rmse_monthly_pct"] == pytest.approx(100 * math.sqrt(2_314_000) / 10_300)
    assert g["nmbe_monthly_pct"] == pytest.approx(100 * 620 / 10_300)
    # one hour more missing: 669 / 744 = 89.9 % -> May is left out of the monthly indices,
    # one month remains, n <= p: not judged (its hours still count hourly)
    y.iloc[np.flatnonzero(may)[74]] = math.nan
    assert not monthly_totals(y, yhat)["used"].iloc[1]
    g = goodness_of_fit(y, yhat)
    assert g["n_monthly"] == 1
    assert g["pass_monthly"] is None and math.isnan(g["cv_rmse_monthly_pct"])
    assert g["n_hourly"] == 720 + 669


def test_a_month_with_a_clock_change_is_whole_with_its_743_hours():
    assert hours_in_month(2026, 3, "Europe/Berlin") == 743.0    # clocks forward 29 March
    assert hours_in_month(2026, 10, "Europe/Berlin") == 745.0   # clocks back 25 October
    assert hours_in_month(2026, 12, TZ) == 744.0
    idx = pd.date_range("2026-03-01", "2026-04-01", freq="h", tz="Europe/Berlin",
                        inclusive="left")
    assert len(idx) == 743
    t = monthly_totals(pd.Series(1.0, idx), pd.Series(1.0, idx))
    assert t["coverage"].tolist() == [1.0]


def test_pass_and_fail_at_the_limits():
    assert LIMITS == {"cv_rmse_hourly_pct": 30.0, "nmbe_hourly_pct": 10.0,
                      "cv_rmse_monthly_pct": 15.0, "nmbe_monthly_pct": 5.0}
    assert meets(30.0, 10.0, "hourly") is True       # on the limit: meets
    assert meets(30.0, -10.0, "hourly") is True
    assert meets(30.001, 0.0, "hourly") is False
    assert meets(0.0, -10.001, "hourly") is False
    assert meets(15.0, 5.0, "monthly") is True
    assert meets(15.001, 0.0, "monthly") is False
    assert meets(20.0, 0.0, "monthly") is False      # meets hourly, not monthly
    assert meets(math.nan, 0.0, "hourly") is None
    with pytest.raises(ValueError, match="expected 'hourly' or 'monthly'"):
        meets(1.0, 1.0, "daily")
    # data exactly on the hourly CV limit: y - yhat = 3, -3, 0 on a mean of 10
    #   CV = 100 * sqrt((9 + 9 + 0) / (3 - 1)) / 10 = 100 * 3 / 10 = 30 %, NMBE = 0
    g = goodness_of_fit(hourly([10.0, 10.0, 10.0]), hourly([7.0, 13.0, 10.0]))
    assert g["cv_rmse_hourly_pct"] == 30.0 and g["nmbe_hourly_pct"] == 0.0
    assert g["pass_hourly"] is True
    g = goodness_of_fit(hourly([10.0, 10.0, 10.0]), hourly([6.9, 13.1, 10.0]))  # CV 31 %
    assert g["pass_hourly"] is False


@pytest.mark.parametrize("y, yhat, p", [
    ([0.0, 0.0, 0.0], [1.0, 2.0, 3.0], 1),     # mean of measured 0
    ([1.0, -1.0, 0.0], [1.0, 2.0, 3.0], 1),    # mean 0 again, from a meter that exports
    ([-5.0, -5.0], [-4.0, -4.0], 1),           # negative mean: normalising has no meaning
    ([10.0], [9.0], 1),                        # n = p
    ([10.0, 11.0], [9.0, 11.0], 3),            # n < p
    ([], [], 1),                               # nothing to compare
], ids=["zero-mean", "zero-mean-export", "negative-mean", "n=p", "n<p", "empty"])
def test_cases_that_cannot_be_judged(y, yhat, p):
    assert math.isnan(cv_rmse(y, yhat, p))
    assert math.isnan(nmbe(y, yhat, p))
    g = goodness_of_fit(hourly(y), hourly(yhat), p=p)
    assert g["pass_hourly"] is None and g["pass_monthly"] is None
    assert math.isnan(g["cv_rmse_hourly_pct"]) and math.isnan(g["nmbe_hourly_pct"])


def test_all_hours_missing_is_not_judged():
    g = goodness_of_fit(hourly([math.nan] * 4), hourly([1.0] * 4))
    assert g["n_hourly"] == 0 and g["pass_hourly"] is None
    assert math.isnan(g["mean_measured_kwh_per_h"]) and math.isnan(g["r2_hourly"])


def test_perfect_model():
    y, _ = two_months()
    g = goodness_of_fit(y, y.copy())
    assert g["cv_rmse_hourly_pct"] == 0.0 and g["nmbe_hourly_pct"] == 0.0
    assert g["r2_hourly"] == 1.0
    assert g["cv_rmse_monthly_pct"] == 0.0 and g["nmbe_monthly_pct"] == 0.0
    assert g["pass_hourly"] is True and g["pass_monthly"] is True


def test_r2_is_the_coefficient_of_determination_not_the_squared_correlation():
    # yhat = y + 5 correlates perfectly (r^2 = 1) but is biased:
    #   SS_res = 3 * 25 = 75, SS_tot = 1 + 0 + 1 = 2, R2 = 1 - 75 / 2 = -36.5
    assert r2([1.0, 2.0, 3.0], [6.0, 7.0, 8.0]) == pytest.approx(-36.5)
    assert math.isnan(r2([4.0, 4.0], [4.0, 5.0]))   # constant measurement: SS_tot = 0
    # constant but for float rounding of the mean (found by hypothesis): still undefined
    assert math.isnan(r2([683.0212510154363] * 3, [0.0] * 3))
    assert math.isnan(r2(1.5 * np.array([683.0212510154363] * 3), [0.0] * 3))
    assert math.isnan(r2([4.0], [4.0]))


def test_bad_input_names_what_is_wrong():
    naive = pd.Series([1.0, 2.0], pd.date_range("2026-04-01", periods=2, freq="h"))
    with pytest.raises(ValueError, match="measured: index has no time zone"):
        goodness_of_fit(naive, naive)
    with pytest.raises(ValueError, match="different timestamps"):
        goodness_of_fit(hourly([1.0, 2.0]), hourly([1.0, 2.0], start="2026-04-02"))
    quarter = pd.Series([1.0, 2.0], pd.date_range("2026-04-01", periods=2, freq="15min", tz=TZ))
    with pytest.raises(ValueError, match="not on the hour"):
        goodness_of_fit(quarter, quarter)
    with pytest.raises(ValueError, match="3 and 2 values"):
        cv_rmse([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="p: -1"):
        nmbe([1.0, 2.0], [1.0, 2.0], p=-1)
    with pytest.raises(TypeError, match="expected a pandas Series"):
        goodness_of_fit([1.0], [1.0])  # type: ignore[arg-type]


pairs = st.integers(min_value=3, max_value=40).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0.5, 1000.0), min_size=n, max_size=n),
    st.lists(st.floats(0.0, 1000.0), min_size=n, max_size=n)))


@settings(max_examples=200, deadline=None)
@given(pairs, st.floats(1e-3, 1e3), st.integers(0, 2))
def test_scaling_both_series_leaves_the_indices_unchanged(pair, k, p):
    y, yhat = (np.array(v) for v in pair)
    assert cv_rmse(k * y, k * yhat, p) == pytest.approx(cv_rmse(y, yhat, p), rel=1e-9)
    assert nmbe(k * y, k * yhat, p) == pytest.approx(nmbe(y, yhat, p), rel=1e-9, abs=1e-9)
    if math.isfinite(r2(y, yhat)):
        assert r2(k * y, k * yhat) == pytest.approx(r2(y, yhat), rel=1e-9, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(pairs, st.floats(-50.0, 50.0), st.integers(0, 2))
def test_bias_and_spread_are_consistent(pair, c, p):
    y, yhat = (np.array(v) for v in pair)
    n = y.size
    # shifting the model down by c kWh every interval raises the bias by exactly
    # 100 * n * c / ((n - p) * mean(y)): positive = under-prediction
    shift = 100.0 * n * c / ((n - p) * y.mean())
    assert nmbe(y, yhat - c, p) == pytest.approx(nmbe(y, yhat, p) + shift, rel=1e-9, abs=1e-7)
    # the RMS error is never below the mean error: CV^2 >= NMBE^2 (n - p) / n
    cv, nb = cv_rmse(y, yhat, p), nmbe(y, yhat, p)
    assert cv ** 2 >= nb ** 2 * (n - p) / n * (1 - 1e-12) - 1e-12
