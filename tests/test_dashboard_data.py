"""The dashboard's pure data functions (run and study pages) against hand calculations on tiny
tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.dashboard.data import RunData, month_groups, price_bands
from twin.dashboard.study import StudyData

TZ = "Asia/Shanghai"


def _run(intervals: pd.DataFrame, kpis: dict | None = None) -> RunData:
    """A run of the given intervals, hourly table = intervals, with a demand charge of
    40 per kW and month, gas at 0.3 and feed-in at 0.1 per kWh."""
    grid = {"gas_price_per_kwh": 0.3, "feed_in_price_per_kwh": 0.1,
            "tariff": {"demand_charge_per_kw_month": 40.0}}
    return RunData(Path("."), intervals, kpis or {}, {"config": {"energy": {"grid": grid}}},
                   None, None, intervals=intervals)


@pytest.fixture
def across_month() -> pd.DataFrame:
    """Four hours around local midnight of 31 March 2026 (all of them 31 March in UTC)."""
    index = pd.date_range("2026-03-31 22:00", periods=4, freq="h", tz=TZ)
    return pd.DataFrame({
        "grid_import_kwh": [10.0, 30.0, 20.0, 20.0],
        "electricity_demand_kw": [15.0, 35.0, 40.0, 25.0],
        "electricity_cost": [1.0, 2.0, 3.0, 4.0],
        "fuel_kwh": [0.0, 10.0, 20.0, 0.0],
        "grid_export_kwh": [5.0, 0.0, 0.0, 1.0],
    }, index=index)


def test_month_groups_local_months_in_order() -> None:
    index = pd.DatetimeIndex(["2026-04-01 00:00", "2026-03-31 23:00", "2026-04-01 01:00",
                              "2026-05-02 00:00"]).tz_localize(TZ)
    m = month_groups(index)
    assert m.keys == ["2026-03", "2026-04", "2026-05"]
    assert m.counts.tolist() == [1, 2, 1]
    np.testing.assert_array_equal(m.max(np.array([5.0, 1.0, 5.0, np.nan])), [1.0, 5.0, np.nan])
    with_nan = np.array([5.0, 1.0, np.nan, 2.0])
    assert m.max(with_nan).tolist() == [1.0, 5.0, 2.0]
    assert m.argmax(with_nan).tolist() == [1, 0, 3]
    assert m.argmax(np.array([5.0, 1.0, 7.0, 2.0])).tolist() == [1, 2, 3]
    assert m.argmax(np.array([5.0, 1.0, 5.0, 2.0])).tolist() == [1, 0, 3]   # tie: first row
    assert m.sum(np.array([1.0, 2.0, 3.0, 4.0])).tolist() == [2.0, 4.0, 4.0]


def test_month_groups_empty() -> None:
    m = month_groups(pd.DatetimeIndex([], tz=TZ))
    assert m.keys == [] and m.counts.tolist() == []


def test_monthly_peaks_by_hand(across_month: pd.DataFrame) -> None:
    peaks = _run(across_month).monthly_peaks()
    assert peaks is not None
    assert peaks.index.tolist() == ["2026-03", "2026-04"]
    assert peaks["peak_kw"].tolist() == [30.0, 20.0]
    assert peaks["peak_start"].tolist() == [pd.Timestamp("2026-03-31 23:00", tz=TZ),
                                            pd.Timestamp("2026-04-01 00:00", tz=TZ)]
    assert peaks["demand_peak_kw"].tolist() == [35.0, 40.0]
    assert peaks["coverage"].tolist() == [2 / (31 * 24), 2 / (30 * 24)]


def test_monthly_peaks_from_kpis(across_month: pd.DataFrame) -> None:
    # the KPIs' monthly peaks win over the intervals; a month only they know is added
    kpis = {"peak_grid_import_kw_by_month": {"2026-04": 22.5, "2026-05": 7.0}}
    peaks = _run(across_month, kpis).monthly_peaks()
    assert peaks is not None
    assert peaks["peak_kw"].tolist() == [30.0, 22.5, 7.0]
    assert peaks["coverage"].tolist()[2] == 1.0 and pd.isna(peaks["peak_start"].iloc[2])


def test_monthly_costs_by_hand(across_month: pd.DataFrame) -> None:
    costs = _run(across_month).monthly_costs()
    assert costs is not None
    assert costs.index.tolist() == ["2026-03", "2026-04"]
    assert costs["energy"].tolist() == [3.0, 7.0]
    assert costs["demand"].tolist() == pytest.approx([30 * 40 * 2 / 744, 20 * 40 * 2 / 720])
    assert costs["capacity"].tolist() == [0.0, 0.0]
    assert costs["gas"].tolist() == pytest.approx([10 * 0.3, 20 * 0.3])
    assert costs["export"].tolist() == pytest.approx([5 * 0.1, 1 * 0.1])
    expected = costs["energy"] + costs["demand"] + costs["gas"] - costs["export"]
    assert costs["total"].tolist() == pytest.approx(expected.tolist())


def _tou_run(local_starts: list[str], freq: str, periods: list[str]) -> RunData:
    """A run of intervals in Berlin from the first local start, ``freq`` apart, in the given
    TOU periods (valley 0.3, peak 1.2 per kWh)."""
    first = pd.Timestamp(local_starts[0]).tz_localize("Europe/Berlin", ambiguous=True)
    index = pd.date_range(first, periods=len(periods), freq=freq)
    price = [0.3 if p == "valley" else 1.2 for p in periods]
    return _run(pd.DataFrame({"price_per_kwh": price, "tou_period": periods}, index=index))


def test_price_bands_when_clocks_go_back() -> None:
    # 25 October 2026 in Berlin: 00:00, 01:00, 02:00 summer time, 02:00 winter time, 03:00,
    # 04:00; the band starting at the second 02:00 is folded into the one before it
    data = _tou_run(["2026-10-25 00:00"], "h",
                    ["valley", "valley", "peak", "valley", "peak", "peak"])
    bands = price_bands(data)
    assert bands is not None
    assert bands.edges == ["2026-10-25 00:00", "2026-10-25 02:00", "2026-10-25 03:00",
                           "2026-10-25 05:00"]
    assert bands.levels.tolist() == [0, 1, 1]
    assert bands.labels == ["Valley 0.3 CNY/kWh", "Peak 1.2 CNY/kWh"]
    # quarter hours ending in the repeated hour: the run's end is no later than a boundary
    # already drawn, so the last band closes there
    data = _tou_run(["2026-10-25 02:00"], "15min",
                    ["valley", "valley", "peak", "peak", "valley"])
    bands = price_bands(data)
    assert bands is not None
    assert bands.edges == ["2026-10-25 02:00", "2026-10-25 02:30"]
    assert bands.levels.tolist() == [0]


def test_study_row_lookup() -> None:
    comparison = pd.DataFrame({"scenario": ["base", "pv", "pv", "base"],
                               "kpi": ["cost_total", "cost_total", "cost_total", "units"],
                               "mean": [1.0, 2.0, 3.0, 4.0]})
    study = StudyData(Path("."), {"scenarios": ["base", "pv"], "base": "base"}, comparison,
                      pd.DataFrame(), pd.DataFrame(), {})
    row = study.row("pv", "cost_total")
    assert row is not None and row["mean"] == 2.0 and row.name == 1       # the first of two
    assert study.row("base", "units")["mean"] == 4.0
    assert study.row("pv", "units") is None and study.row("other", "cost_total") is None
