"""Tariff arithmetic against hand calculations, and the preset tables against their own rows."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import os
import re
import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.energy import tariff as tf

TZ = "Asia/Shanghai"
FLAT = 0.5  # flat base price [CNY/kWh], a test value (no price is shipped)
ADDER = 0.2  # non-floating adders [CNY/kWh], a test value


def hours(day: str, n: int = 24, freq: str = "h") -> pd.DatetimeIndex:
    return pd.date_range(day, periods=n, freq=freq, tz=TZ)


def preset_classes() -> list[tuple[str, str | None]]:
    out = []
    for name, row in tf.preset_table().iterrows():
        classes = row["customer_classes"]
        out += [(name, None)] if classes == "*" else [(name, c) for c in classes.split(";")]
    return out


ALL = preset_classes()


# ---------------------------------------------------------------- loading and errors


def test_presets_listed():
    assert set(tf.list_presets()) == {"jiangsu_2025", "zhejiang_2024", "zhejiang_2026",
                                      "guangdong_2021", "shandong_2025", "shanghai", "flat"}


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown tariff preset 'beijing'.*jiangsu_2025.*flat"):
        tf.load_preset("beijing")


def test_class_is_required_where_ratios_differ_by_class():
    with pytest.raises(ValueError, match=r"needs a customer_class.*two_part_industry_ge315kva"):
        tf.load_preset("jiangsu_2025")
    with pytest.raises(ValueError, match="no customer class 'big'"):
        tf.load_preset("shanghai", "big")
    with pytest.raises(ValueError, match="has no customer classes"):
        tf.load_preset("guangdong_2021", "two_part")


def test_index_must_be_tz_aware():
    with pytest.raises(ValueError, match="tz-aware"):
        tf.tou_periods(pd.date_range("2025-07-01", periods=3, freq="h"), tf.load_preset("flat"))


def test_flat_price_is_required_and_says_where_to_find_it():
    t = tf.load_preset("flat")
    with pytest.raises(ValueError, match="代理购电价格"):
        tf.energy_price(hours("2025-07-01"), t, None)
    with pytest.raises(ValueError, match="NaN"):
        tf.energy_price(hours("2025-07-01"), t, float("nan"))


def test_validity_dates_are_enforced_unless_waived():
    t = tf.load_preset("zhejiang_2026")
    idx = hours("2026-06-30")
    with pytest.raises(ValueError, match=r"applies from 2026-07-01.*check_validity=False"):
        tf.tou_periods(idx, t)
    assert len(tf.tou_periods(idx, t, check_validity=False)) == 24


# ---------------------------------------------------------------- TOU days by hand


def test_jiangsu_summer_day_two_part():
    """Jiangsu 2025, 15 July 2025, two-part user (no critical peak).

    Load: 50 kWh/h from 0-6, 200 kWh/h from 6-22, 80 kWh/h from 22-24.
    Periods (summer): valley 0-6, 11-13; flat 6-11, 13-14, 22-24; peak 14-22.
      valley: 6 x 50 + 2 x 200           =  700 kWh at 0.5 x 0.35 + 0.2 = 0.375 ->  262.5
      flat:   5 x 200 + 200 + 2 x 80     = 1360 kWh at 0.5 x 1    + 0.2 = 0.700 ->  952.0
      peak:   8 x 200                    = 1600 kWh at 0.5 x 1.8  + 0.2 = 1.100 -> 1760.0
      total                                                                       2974.5 CNY
    Periods and ratios: 苏发改价格发〔2025〕426号 (2025-04-30), as cited in
    twin/data/tariffs/periods.csv and ratios.csv (no page numbers given there).
    """
    t = tf.load_preset("jiangsu_2025", "two_part")
    idx = hours("2025-07-15")
    kwh = np.array([50.0] * 6 + [200.0] * 16 + [80.0] * 2)
    labels = tf.tou_periods(idx, t)
    assert list(labels) == (["valley"] * 6 + ["flat"] * 5 + ["valley"] * 2 + ["flat"]
                            + ["peak"] * 8 + ["flat"] * 2)
    price = tf.energy_price(idx, t, FLAT, ADDER)
    assert tf.energy_cost(kwh, price).sum() == pytest.approx(2974.5, abs=1e-9)


def test_jiangsu_summer_day_315kva_industry_has_critical_peak_at_15_min():
    """Same day and load, >=315 kVA industry, 15-min intervals (50 kWh each from 6-22).

    Critical (Jul-Aug) 14:00-15:00 and 19:30-21:30 = 3 h: 600 kWh at 0.5 x 2.16 + 0.2 = 1.28
    -> 768.0; the peak keeps 5 h: 1000 kWh at 1.1 -> 1100.0; valley and flat as before.
    Total 262.5 + 952.0 + 1100.0 + 768.0 = 3082.5 CNY.
    Periods and ratios: 苏发改价格发〔2025〕426号 (2025-04-30), as cited in
    twin/data/tariffs/periods.csv and ratios.csv (no page numbers given there).
    """
    t = tf.load_preset("jiangsu_2025", "two_part_industry_ge315kva")
    idx = hours("2025-07-15", 96, "15min")
    kw = np.array([50.0] * 24 + [200.0] * 64 + [80.0] * 8)
    kwh = kw * 0.25
    labels = pd.Series(tf.tou_periods(idx, t), index=idx.strftime("%H:%M"))
    assert labels["13:45"] == "flat"
    assert labels["14:00"] == labels["14:45"] == "critical"
    assert labels["15:00"] == labels["19:15"] == "peak"
    assert labels["19:30"] == labels["21:15"] == "critical"
    assert labels["21:30"] == labels["21:45"] == "peak"
    assert labels["22:00"] == "flat"
    cost = tf.energy_cost(kwh, tf.energy_price(idx, t, FLAT, ADDER)).sum()
    assert cost == pytest.approx(3082.5, abs=1e-9)


def test_jiangsu_spring_autumn_midday_valley():
    """Autumn (15 October 2025): valley 02-06 and 10-14, peak 15-22, flat 22-02 and the rest.
    Periods and ratios: 苏发改价格发〔2025〕426号 (2025-04-30), as cited in
    twin/data/tariffs/periods.csv and ratios.csv (no page numbers given there).
    """
    t = tf.load_preset("jiangsu_2025", "single_part_ge100kva")
    idx = hours("2025-10-15")
    expected = (["flat"] * 2 + ["valley"] * 4 + ["flat"] * 4 + ["valley"] * 4 + ["flat"]
                + ["peak"] * 7 + ["flat"] * 2)
    assert list(tf.tou_periods(idx, t)) == expected
    price = tf.energy_price(idx, t, FLAT, ADDER)
    assert price[12] == pytest.approx(0.5 * 0.35 + 0.2)  # 12:00 midday valley
    assert price[16] == pytest.approx(0.5 * 1.7 + 0.2)  # single-part >=100 kVA peak +70 %
    assert price[23] == pytest.approx(0.5 + 0.2)


def test_zhejiang_2026_critical_hours_and_holiday_deep_valley():
    # periods and ratios (critical 2.05, valley 0.4, holiday deep valley 0.2):
    # 浙发改价格〔2026〕112号 (2026-05-28), as cited in twin/data/tariffs/periods.csv, ratios.csv
    t = tf.load_preset("zhejiang_2026")
    july = hours("2026-07-15")
    labels = tf.tou_periods(july, t)
    assert [h for h in range(24) if labels[h] == "critical"] == [18, 19, 20, 21]
    assert list(labels[[16, 17, 22]]) == ["peak"] * 3
    price = tf.energy_price(july, t, FLAT)
    assert price[19] == pytest.approx(0.5 * 2.05)
    assert price[12] == pytest.approx(0.5 * 0.4)
    oct1 = hours("2026-10-01")
    labels = tf.tou_periods(oct1, t, holidays=[dt.date(2026, 10, 1)])
    assert [h for h in range(24) if labels[h] == "deep_valley"] == list(range(9, 15))
    assert "critical" not in labels  # October is a spring/autumn month
    assert tf.energy_price(oct1, t, FLAT, holidays=["2026-10-01"])[10] == pytest.approx(0.1)
    assert tf.tou_periods(oct1, t)[10] == "flat"  # the same day without the holiday


def test_guangdong_critical_only_in_july_to_september():
    # peak 1.7, critical = peak x 1.25: 粤发改价格〔2021〕331号, as cited in twin/data/tariffs/
    t = tf.load_preset("guangdong_2021")
    for day, crit in (("2025-08-05", [11, 15, 16]), ("2025-06-05", [])):
        labels = tf.tou_periods(hours(day), t)
        assert [h for h in range(24) if labels[h] == "critical"] == crit
    assert tf.energy_price(hours("2025-08-05"), t, FLAT)[11] == pytest.approx(0.5 * 1.7 * 1.25)


def test_shanghai_large_industry_deep_valley_on_rest_days():
    # rest-day deep valley: 沪发改价管〔2024〕28号; periods and seasonal ratios (peak 1.8 in Jan,
    # 1.6 in April): 沪发改价管〔2022〕50号; both as cited in twin/data/tariffs/
    big = tf.load_preset("shanghai", "two_part_large_industry")
    other = tf.load_preset("shanghai", "two_part_other")
    sat = pd.DatetimeIndex([pd.Timestamp("2025-04-12 23:00", tz=TZ)])  # a Saturday in April
    wed = pd.DatetimeIndex([pd.Timestamp("2025-04-09 23:00", tz=TZ)])
    assert tf.tou_periods(sat, big)[0] == "deep_valley"
    assert tf.tou_periods(sat, big, workdays=["2025-04-12"])[0] == "valley"
    assert tf.tou_periods(wed, big)[0] == "valley"
    assert tf.tou_periods(sat, other)[0] == "valley"
    aug_sat = pd.DatetimeIndex([pd.Timestamp("2025-08-02 23:00", tz=TZ)])  # not Feb-Jun/Sep-Nov
    assert tf.tou_periods(aug_sat, big)[0] == "valley"
    # seasonal ratios: peak +80 % in Jan, +60 % in April
    jan, apr = hours("2025-01-08"), hours("2025-04-09")
    assert tf.energy_price(jan, other, FLAT)[9] == pytest.approx(0.9)
    assert tf.energy_price(apr, other, FLAT)[9] == pytest.approx(0.8)


def test_unverified_ratios_refuse_to_price_until_given():
    t = tf.load_preset("zhejiang_2024")
    idx = hours("2025-07-15")
    assert tf.tou_periods(idx, t)[9] == "critical"  # periods are usable
    with pytest.raises(ValueError, match=r"unverified \[U\].*ratios="):
        tf.energy_price(idx, t, FLAT, ADDER)
    mine = {"critical": 2.0, "peak": 1.6, "valley": 0.4, "deep_valley": 0.2}  # the user's values
    t2 = tf.load_preset("zhejiang_2024", ratios=mine)
    price = tf.energy_price(idx, t2, FLAT, ADDER)
    assert price[9] == pytest.approx(0.5 * 2.0 + 0.2)
    assert price[0] == pytest.approx(0.5 * 0.4 + 0.2)
    partial = tf.load_preset("zhejiang_2024", ratios={"peak": 1.6})
    with pytest.raises(ValueError, match="'critical' is unverified"):
        tf.energy_price(idx, partial, FLAT)
    with pytest.raises(ValueError, match=r"flat.*must be 1"):
        tf.load_preset("zhejiang_2024", ratios={"flat": 1.1})


def test_monthly_flat_price():
    t = tf.load_preset("flat")
    idx = pd.DatetimeIndex([pd.Timestamp("2025-01-31 23:00", tz=TZ),
                            pd.Timestamp("2025-02-01 00:00", tz=TZ)])
    flat = tf.monthly_values(idx, {"2025-01": 0.40, "2025-02": 0.45})
    assert list(tf.energy_price(idx, t, flat, 0.1)) == pytest.approx([0.5, 0.55])
    assert list(tf.monthly_values(idx, np.arange(1, 13) / 10)) == pytest.approx([0.1, 0.2])
    with pytest.raises(ValueError, match="no value for 2025-02"):
        tf.monthly_values(idx, {1: 0.4})


# ---------------------------------------------------------------- demand and other charges


def test_demand_charge_from_a_known_15_min_peak():
    """March 2025 at 15 min: 300 kW throughout, 480 kW in the interval starting 12 March 14:15.

    Demand charge = 480 kW x 40 CNY/(kW·month) = 19,200 CNY (rate is a test value). Hourly
    averages would see only (3 x 300 + 480) / 4 = 345 kW in that hour: 13,800 CNY.
    """
    idx = pd.date_range("2025-03-01", "2025-04-01", freq="15min", tz=TZ, inclusive="left")
    kw = np.full(len(idx), 300.0)
    spike = idx.get_loc(pd.Timestamp("2025-03-12 14:15", tz=TZ))
    kw[spike] = 480.0
    charge = tf.demand_charge(kw, idx, 40.0)
    assert list(charge.index.astype(str)) == ["2025-03"]
    assert charge.sum() == pytest.approx(19_200.0)
    peaks = tf.monthly_peak_demand(kw, idx)
    assert peaks["peak_start"].iloc[0] == pd.Timestamp("2025-03-12 14:15", tz=TZ)
    assert peaks["coverage"].iloc[0] == pytest.approx(1.0)
    hourly_kw = kw.reshape(-1, 4).mean(axis=1)
    assert tf.demand_charge(hourly_kw, idx[::4], 40.0).sum() == pytest.approx(13_800.0)


def test_demand_charge_per_month_and_prorating():
    """16 Apr - 15 May 2025: 100 kW, with 250 kW once in April and 180 kW once in May."""
    idx = pd.date_range("2025-04-16", "2025-05-16", freq="15min", tz=TZ, inclusive="left")
    kw = np.full(len(idx), 100.0)
    kw[10] = 250.0
    kw[-10] = 180.0
    full = tf.demand_charge(kw, idx, 10.0)
    assert list(full) == pytest.approx([2500.0, 1800.0])
    part = tf.demand_charge(kw, idx, 10.0, prorate=True)
    assert list(part) == pytest.approx([2500.0 * 15 / 30, 1800.0 * 15 / 31])
    with pytest.raises(ValueError, match="required"):
        tf.demand_charge(kw, idx, None)


def test_reopt_blended_tariff_case():
    """REopt.jl no_techs.json: flat load 10,000 kWh/yr, 0.10 per kWh, 10 per kW-month.

    Published: energy 1000.0, demand 136.99 (10,000 / 8,760 = 1.14155 kW; 12 x 10 x 1.14155).
    """
    idx = pd.date_range("2017-01-01", periods=8760, freq="h", tz=TZ)  # 2017: not a leap year
    kwh = np.full(8760, 10_000 / 8760)
    price = tf.energy_price(idx, tf.load_preset("flat"), 0.10)
    assert tf.energy_cost(kwh, price).sum() == pytest.approx(1000.0, abs=1e-9)
    demand = tf.demand_charge(tf.average_kw(kwh, idx), idx, 10.0)
    assert len(demand) == 12
    assert round(demand.sum(), 2) == 136.99


def test_capacity_charge_and_export_revenue():
    assert tf.capacity_charge(630, 3, 20.0) == pytest.approx(37_800.0)
    assert tf.export_revenue([10.0, 0.0, 5.0], 0.39).sum() == pytest.approx(5.85)
    with pytest.raises(ValueError, match=">= 0"):
        tf.energy_cost([1.0, -2.0], 0.5)
    assert tf.gas_price_per_kwh(3.6, 36.0) == pytest.approx(0.36)


# ---------------------------------------------------------------- table checks


def write_tables(tmp_path, extra_periods: list[str] = (), drop_line: int | None = None):
    for f in ("presets.csv", "periods.csv", "ratios.csv"):
        shutil.copy(tf.DATA_DIR / f, tmp_path / f)
    lines = (tmp_path / "periods.csv").read_text(encoding="utf-8").splitlines()
    if drop_line is not None:
        del lines[drop_line - 1]
    lines += extra_periods
    (tmp_path / "periods.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_overlapping_base_rows_raise(tmp_path):
    row = "guangdong_2021,*,base,7,all,9,10.5,peak,x,2025,,,S2,test"
    folder = write_tables(tmp_path, [row])
    with pytest.raises(ValueError, match=r"lines \d+ and \d+ overlap in month 7 at 09:00"):
        tf.load_preset("guangdong_2021", data_dir=folder)


def test_overlapping_overlays_raise(tmp_path):
    row = "guangdong_2021,*,overlay,8,holiday,16,18,valley,x,2025,,,S2,test"
    folder = write_tables(tmp_path, [row])
    with pytest.raises(ValueError, match="overlap in month 8 at 16:00"):
        tf.load_preset("guangdong_2021", data_dir=folder)


def test_missing_month_coverage_raises(tmp_path):
    lines = (tf.DATA_DIR / "periods.csv").read_text(encoding="utf-8").splitlines()
    start = "shandong_2025,*,base,6,all,7,12"
    line = next(i for i, s in enumerate(lines, 1) if s.startswith(start))
    folder = write_tables(tmp_path, drop_line=line)
    with pytest.raises(ValueError, match="month 6 has no base period for 07:00-12:00"):
        tf.load_preset("shandong_2025", data_dir=folder)


def test_every_row_carries_document_date_and_status():
    for f in ("periods.csv", "ratios.csv"):
        with open(tf.DATA_DIR / f, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                assert row["status"] in tf.STATUSES
                if row["status"] != "def":
                    assert row["document"] and row["document_date"] and row["seen_in"], row


@pytest.mark.parametrize(("name", "cls"), ALL)
def test_every_hour_of_a_year_has_one_period(name, cls):
    t = tf.load_preset(name, cls)
    idx = pd.date_range("2025-01-01", periods=8760, freq="h", tz=TZ)
    holidays = pd.date_range("2025-10-01", "2025-10-07").date
    labels = tf.tou_periods(idx, t, holidays, check_validity=False)
    assert labels.shape == (8760,)
    assert set(labels) <= set(tf.PERIODS)
    for month in range(1, 13):
        for day_type in tf.DAY_TYPES:
            spans = t.schedule(month, day_type)
            assert spans[0][0] == 0 and spans[-1][1] == 24
            assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))


# ---------------------------------------------------------------- property: against the rows


def _months(text: str) -> set[int]:
    out: set[int] = set()
    for part in text.split(";"):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out


def _covers(row: dict, minute: int) -> bool:
    s, e = float(row["start_hour"]) * 60, float(row["end_hour"]) * 60
    return s <= minute < e if s < e else (minute >= s or minute < e)


with open(tf.DATA_DIR / "periods.csv", encoding="utf-8") as _fh:
    ROWS = list(csv.DictReader(_fh))


@settings(max_examples=400, deadline=None)
@given(which=st.sampled_from(ALL),
       day=st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31)),
       minute=st.integers(0, 1439), holiday=st.booleans(), workday=st.booleans())
def test_period_equals_the_single_matching_row(which, day, minute, holiday, workday):
    """Exactly one base row covers any minute; at most one overlay applies; it wins."""
    name, cls = which
    rows = [r for r in ROWS if r["preset"] == name and (
        r["customer_classes"] == "*" or cls in r["customer_classes"].split(";"))]
    rest = holiday or (day.weekday() >= 5 and not workday)
    applies = {"all": True, "holiday": holiday, "rest_day": rest}
    hits = [r for r in rows if day.month in _months(r["months"]) and _covers(r, minute)]
    base = [r for r in hits if r["layer"] == "base"]
    over = [r for r in hits if r["layer"] == "overlay" and applies[r["day_type"]]]
    assert len(base) == 1
    assert len(over) <= 1
    expected = (over or base)[0]["period"]
    ts = pd.Timestamp(dt.datetime.combine(day, dt.time(minute // 60, minute % 60)), tz=TZ)
    got = tf.tou_periods(pd.DatetimeIndex([ts]), tf.load_preset(name, cls),
                         holidays=[day] if holiday else [], workdays=[day] if workday else [],
                         check_validity=False)
    assert got[0] == expected


# ---------------------------------------------------------------- found by mutation testing
# (tests/MUTATION.md): each case fails for a planted one-line bug the tests above let pass.


def test_interval_hours_by_hand():
    two = pd.DatetimeIndex(["2026-01-05 00:00", "2026-01-05 00:15"]).tz_localize(TZ)
    assert tf.interval_hours(two) == 0.25  # two timestamps, no freq
    one = pd.date_range("2026-01-05", periods=1, freq="15min", tz=TZ)
    assert tf.interval_hours(one) == 0.25  # one timestamp with its freq
    assert tf.interval_hours(pd.date_range("2026-01-05", periods=5, freq="30min", tz=TZ)) == 0.5
    with pytest.raises(ValueError, match=r"^cannot infer the interval length from fewer than two "
                                         r"timestamps without a freq$"):
        tf.interval_hours(pd.DatetimeIndex(["2026-01-05"]).tz_localize(TZ))
    for bad in (["00:00", "00:15", "00:45"], ["00:00", "00:00"], ["00:15", "00:00"]):
        idx = pd.DatetimeIndex([f"2026-01-05 {t}" for t in bad]).tz_localize(TZ)
        with pytest.raises(ValueError, match=r"^the index must be regular and increasing \(one "
                                             r"settlement interval per row\)$"):
            tf.interval_hours(idx)


def test_average_kw_by_hand():
    idx = pd.date_range("2026-01-05", periods=3, freq="15min", tz=TZ)
    np.testing.assert_array_equal(tf.average_kw([1.0, 2.5, 0.0], idx), [4.0, 10.0, 0.0])


def test_gas_price_per_kwh_by_hand():
    # 3.6 CNY/m3 at 36 MJ/m3 = 10 kWh/m3 -> 0.36 CNY/kWh; a free gas costs 0; small LHVs work
    assert tf.gas_price_per_kwh(3.6, 36.0) == pytest.approx(0.36, rel=1e-15)
    assert tf.gas_price_per_kwh(0.0, 36.0) == 0.0
    assert tf.gas_price_per_kwh(0.5, 0.5) == pytest.approx(3.6, rel=1e-15)
    with pytest.raises(ValueError, match=r"^lhv_mj_per_m3 must be positive, got 0"):
        tf.gas_price_per_kwh(1.0, 0.0)
    with pytest.raises(ValueError, match=r"^price_per_m3 must be >= 0, got -1"):
        tf.gas_price_per_kwh(-1.0, 36.0)


def test_capacity_charge_by_hand_and_its_limits():
    # 0.5 kVA x 0.5 month x 20 CNY/(kVA month) = 5 CNY; nothing billed for 0 kVA or 0 months
    assert tf.capacity_charge(0.5, 0.5, 20.0) == pytest.approx(5.0, rel=1e-15)
    assert tf.capacity_charge(0.0, 1.0, 20.0) == 0.0 and tf.capacity_charge(100, 0.0, 20) == 0.0
    for kva, months in ((-1.0, 1.0), (1.0, -1.0)):
        with pytest.raises(ValueError, match=r"^kva and months must be >= 0"):
            tf.capacity_charge(kva, months, 20.0)
    with pytest.raises(ValueError, match=r"^rate_per_kva_month must be a finite number >= 0 "
                                         r"\[CNY/\(kVA·month\)\]"):
        tf.capacity_charge(1.0, 1.0, -1.0)
    with pytest.raises(ValueError, match=r"^rate_per_kw_month \[CNY/\(kW·month\)\] is required"):
        tf.demand_charge([1.0], pd.date_range("2026-01-05", periods=1, freq="15min", tz=TZ),
                         None)


def test_demand_charge_of_a_peak_below_one_kw():
    idx = pd.date_range("2026-01-05", periods=4, freq="15min", tz=TZ)
    # peak 0.5 kW x 40 CNY/(kW month) = 20 CNY (not the 1 kW floor of a planted bug)
    assert tf.demand_charge([0.2, 0.5, 0.1, 0.0], idx, 40.0).tolist() == [20.0]


def test_monthly_peaks_columns_and_months_with_daylight_saving():
    # Berlin, March 2026 has 743 hours (clocks go forward on the 29th): 4 quarter hours cover
    # 1/743 of it; the table's columns and index name are what the docstring promises
    idx = pd.date_range("2026-03-02", periods=4, freq="15min", tz="Europe/Berlin")
    peaks = tf.monthly_peak_demand([1.0, 3.0, 2.0, 0.0], idx)
    assert list(peaks.columns) == ["peak_kw", "peak_start", "intervals", "coverage"]
    assert peaks.index.name == "month"
    assert peaks["coverage"].tolist() == pytest.approx([1.0 / 743], rel=1e-12)
    assert peaks["intervals"].tolist() == [4] and peaks["peak_kw"].tolist() == [3.0]
    with pytest.raises(ValueError, match=r"^interval_kw contains NaN$"):
        tf.monthly_peak_demand([1.0, float("nan"), 2.0, 0.0], idx)


def test_holidays_given_as_aware_timestamps_and_bad_ones():
    t = tf.load_preset("zhejiang_2026")
    oct1 = hours("2026-10-01")
    aware = pd.Timestamp("2026-10-01 08:00", tz=TZ)  # the local date of the holiday
    assert tf.tou_periods(oct1, t, holidays=[aware])[10] == "deep_valley"
    with pytest.raises(ValueError, match=r"^holidays: 'soon' is not a date$"):
        tf.tou_periods(oct1, t, holidays=["soon"])


def test_monthly_values_errors():
    idx = hours("2026-01-05")
    with pytest.raises(ValueError, match=r"^monthly_values: give 12 values \(Jan\.\.Dec\) or a "
                                         r"mapping, got shape \(3,\)$"):
        tf.monthly_values(idx, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"^monthly_values: no value for 2026-01$"):
        tf.monthly_values(idx, {2: 1.0})
    assert tf.monthly_values(idx[:0], {1: 1.0}).size == 0


def test_energy_cost_and_export_revenue_refuse_nan_and_negative():
    for f in (tf.energy_cost, tf.export_revenue):
        with pytest.raises(ValueError, match=r"^kwh contains NaN$"):
            f([float("nan")], [1.0])
        with pytest.raises(ValueError, match=r"^kwh must be >= 0"):
            f([-1.0], [1.0])


def test_schedules_by_hand():
    # Jiangsu >= 315 kVA industry (苏发改价格发〔2025〕426号): July with its critical peaks at the
    # half hours; a February holiday with the deep valley 10-14; January's critical 18-20
    t = tf.load_preset("jiangsu_2025", "two_part_industry_ge315kva")
    assert t.schedule(7) == [(0, 6, "valley"), (6, 11, "flat"), (11, 13, "valley"),
                             (13, 14, "flat"), (14, 15, "critical"), (15, 19.5, "peak"),
                             (19.5, 21.5, "critical"), (21.5, 22, "peak"), (22, 24, "flat")]
    assert t.schedule(2, "holiday") == [(0, 6, "valley"), (6, 10, "flat"), (10, 14, "deep_valley"),
                                        (14, 22, "peak"), (22, 24, "flat")]
    assert t.schedule(1, "rest_day") == t.schedule(1) == [
        (0, 6, "valley"), (6, 11, "flat"), (11, 13, "valley"), (13, 14, "flat"), (14, 18, "peak"),
        (18, 20, "critical"), (20, 22, "peak"), (22, 24, "flat")]
    assert t.schedule(12, "holiday") == [
        (0, 6, "valley"), (6, 10, "flat"), (10, 14, "deep_valley"), (14, 18, "peak"),
        (18, 20, "critical"), (20, 22, "peak"), (22, 24, "flat")]
    with pytest.raises(ValueError, match=r"^month must be 1\.\.12, got 13$"):
        t.schedule(13)
    # Shanghai large industry (沪发改价管〔2024〕28号): April rest days and holidays have the
    # deep valley 22-06, workdays the valley
    big = tf.load_preset("shanghai", "two_part_large_industry")
    day = [(6, 8, "flat"), (8, 11, "peak"), (11, 18, "flat"), (18, 21, "peak"), (21, 22, "flat")]
    for kind in ("rest_day", "holiday"):
        assert big.schedule(4, kind) == [(0, 6, "deep_valley"), *day, (22, 24, "deep_valley")]
    assert big.schedule(4) == [(0, 6, "valley"), *day, (22, 24, "valley")]


def test_ratio_overrides_are_checked_and_the_table_is_read_only():
    for bad in ({"peak": 0.0}, {"peak": float("nan")}, {"flat": 2.0}):
        with pytest.raises(ValueError):
            tf.load_preset("zhejiang_2024", ratios=bad)
    t = tf.load_preset("zhejiang_2024", ratios={"peak": 1.6, "valley": 0.4})
    assert not t.ratios.flags.writeable


def test_seasonal_ratios_land_in_their_own_months():
    # Shanghai two-part (沪发改价管〔2022〕50号): peak +80 % in Jan, Jul-Sep and Dec, +60 % in
    # Feb-Jun and Oct-Nov; 09:00 is a peak hour in every month. Flat 0.5 CNY/kWh.
    other = tf.load_preset("shanghai", "two_part_other")
    for day, price in (("2025-06-11", 0.8), ("2025-07-09", 0.9), ("2025-09-10", 0.9),
                       ("2025-10-15", 0.8), ("2025-11-12", 0.8), ("2025-12-10", 0.9)):
        assert other.price(hours(day), 0.5)[9] == pytest.approx(price, rel=1e-12), day


def test_price_method_defaults_and_arguments():
    t = tf.load_preset("jiangsu_2025", "two_part")
    day = hours("2025-07-15")
    # no adder unless given; a negative adder (a subsidy) is allowed; a negative flat price not
    assert t.price(day, 0.5)[0] == pytest.approx(0.5 * 0.35, rel=1e-12)
    assert t.price(day, 0.5, -0.1)[0] == pytest.approx(0.5 * 0.35 - 0.1, rel=1e-12)
    with pytest.raises(ValueError, match=r"^flat_price_per_kwh must be >= 0"):
        t.price(day, -0.5)
    # dates before the notice applies are refused by default, by the method and the function
    may = hours("2025-05-15")
    with pytest.raises(ValueError, match="applies from 2025-06-01"):
        t.price(may, 0.5)
    with pytest.raises(ValueError, match="applies from 2025-06-01"):
        t.ratio(may)
    with pytest.raises(ValueError, match="applies from 2025-06-01"):
        tf.energy_price(may, t, 0.5)
    # a make-up workday reaches the price: Shanghai large industry, Saturday 2025-04-12 23:00
    big = tf.load_preset("shanghai", "two_part_large_industry")
    sat = pd.DatetimeIndex([pd.Timestamp("2025-04-12 23:00", tz=TZ)])
    assert big.price(sat, 0.5)[0] == pytest.approx(0.5 * 0.2, rel=1e-12)  # deep valley
    assert big.price(sat, 0.5, workdays=["2025-04-12"])[0] == pytest.approx(0.5 * 0.5)
    assert tf.energy_price(sat, big, 0.5, workdays=["2025-04-12"])[0] == pytest.approx(0.25)


def test_demand_charge_rates_and_series_name():
    idx = pd.date_range("2026-01-05", periods=2, freq="15min", tz=TZ)
    assert tf.demand_charge([10.0, 20.0], idx, 0.0).tolist() == [0.0]  # a zero rate is a rate
    charge = tf.demand_charge([10.0, 20.0], idx, 0.5)
    assert charge.tolist() == [10.0] and charge.name == "demand_charge"


@pytest.mark.parametrize(("start", "end", "minutes"), [
    ("22", "8", [(1320, 1440), (0, 480)]),    # wraps past midnight: two parts of the same day
    ("22", "0", [(1320, 1440)]),              # ends at midnight: no part after it
    ("23", "0.05", [(1380, 1440), (0, 3)]),   # a wrap ending 3 minutes after midnight
    ("23", "0.016666666666666666", [(1380, 1440), (0, 1)]),  # ... 1 minute (1/60 h) after
    ("8", "0", [(480, 1440)]),                # 08:00 to midnight written as 8-0
    ("8.5", "9.25", [(510, 555)]),            # 08:30-09:15
    ("0", "24", [(0, 1440)]),                 # the whole day
])
def test_preset_hour_spans_by_hand(start, end, minutes):
    """How a preset row's start_hour/end_hour become minutes of the day [min] (found by mutation
    testing: these rules had no test of their own)."""
    from twin.energy.tariff import _parse_span

    assert _parse_span(start, end, "row 3") == minutes


@pytest.mark.parametrize(("start", "end", "message"), [
    ("eight", "9", "must be numbers (19.5 = 19:30)"),
    ("8.51", "9", "must fall on whole minutes"),      # 510.6 min
    ("8", "9.001", "must fall on whole minutes"),
    ("8", "8", "start != end"),
    ("24", "8", "0 <= start_hour < 24"),
    ("-1", "8", "0 <= start_hour < 24"),
    ("8", "24.5", "end_hour <= 24"),
])
def test_preset_hour_spans_refused(start, end, message):
    from twin.energy.tariff import _parse_span

    with pytest.raises(ValueError) as err:
        _parse_span(start, end, "row 3")
    assert message in str(err.value) and str(err.value).startswith("row 3: ")


# ---------------------------------------------------------------- the survivors of the re-run
# (tests/MUTATION.md, tariff, 2026-12-06): validity dates at their edges, arguments passed on,
# messages, and the preset compiler's rules on tables written for the test.

TABLES = ("presets.csv", "periods.csv", "ratios.csv")
PERIOD_LIST = "('critical', 'peak', 'flat', 'valley', 'deep_valley')"


def exactly(text: str) -> str:
    """A ``match`` pattern for exactly ``text``."""
    return "^" + re.escape(text) + "$"


def custom_tables(folder, edit=None):
    """Copies of the packaged tables in ``folder``; ``edit`` maps a file name to a function that
    changes its rows (lists of cells, the header first, so row i is line i + 1)."""
    for f in TABLES:
        with open(tf.DATA_DIR / f, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        if edit and f in edit:
            rows = edit[f](rows)
        with open(folder / f, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
    return folder


def touch_later(path) -> None:
    """Move a file's modification time 10 s on (an edit within the clock's resolution)."""
    t = path.stat().st_mtime + 10.0
    os.utime(path, (t, t))


def test_validity_on_the_last_day_of_one_timestamp_and_the_whole_message():
    # 浙发改价格〔2024〕21号 applies to 2026-06-30 (presets.csv: no start date known)
    z = tf.load_preset("zhejiang_2024")
    assert z.periods(hours("2026-06-30"))[0] == "valley"  # its last day is in force; 00-08 valley
    one = pd.DatetimeIndex([pd.Timestamp("2026-07-01 00:00", tz=TZ)])
    end = ("tariff zhejiang_2024 (浙发改价格〔2024〕21号) applies from ? to 2026-06-30, but the "
           "index ends 2026-07-01, after 2026-06-30. Choose the preset in force, or pass "
           "check_validity=False to apply these rules to other dates (e.g. a typical-year study)")
    with pytest.raises(ValueError, match=exactly(end)):
        z.periods(one)  # a single timestamp is checked too, by default
    assert z.periods(one, check_validity=False)[0] == "valley"  # July: 00-08 valley (line 23)
    both = replace(z, valid_from=dt.date(2026, 1, 1))
    two = pd.DatetimeIndex([pd.Timestamp("2025-12-31 23:00", tz=TZ),
                            pd.Timestamp("2026-07-01 00:00", tz=TZ)])
    with pytest.raises(ValueError, match=exactly(
            "tariff zhejiang_2024 (浙发改价格〔2024〕21号) applies from 2026-01-01 to 2026-06-30, "
            "but the index starts 2025-12-31, before 2026-01-01 and ends 2026-07-01, after "
            "2026-06-30. Choose the preset in force, or pass check_validity=False to apply these "
            "rules to other dates (e.g. a typical-year study)")):
        both.periods(two)
    jiangsu = tf.load_preset("jiangsu_2025", "two_part")  # from 2025-06-01, open end
    with pytest.raises(ValueError, match=exactly(
            "tariff jiangsu_2025[two_part] (苏发改价格发〔2025〕426号) applies from 2025-06-01 to "
            "open, but the index starts 2025-05-15, before 2025-06-01. Choose the preset in force, "
            "or pass check_validity=False to apply these rules to other dates (e.g. a "
            "typical-year study)")):
        jiangsu.periods(hours("2025-05-15"))


def test_price_outside_the_validity_dates_when_waived_and_a_zero_flat_price():
    # Jiangsu two-part in May (spring rows, periods.csv lines 8-9): 00:00 flat (22-2, ratio 1),
    # 02:00 valley (2-6, ratio 0.35): at 0.5 CNY/kWh, 0.5 and 0.175
    t = tf.load_preset("jiangsu_2025", "two_part")
    may = hours("2025-05-15")
    assert t.price(may, 0.5, check_validity=False)[[0, 2]] == pytest.approx([0.5, 0.175])
    assert tf.energy_price(may, t, 0.5, check_validity=False)[[0, 2]] == pytest.approx(
        [0.5, 0.175])
    # a zero flat price is a price: only the adder is left, whatever the period
    assert t.price(hours("2025-07-15"), 0.0, 0.2).tolist() == [0.2] * 24


def test_price_arguments_are_named_in_errors():
    t = tf.load_preset("jiangsu_2025", "two_part")
    day = hours("2025-07-15")
    with pytest.raises(ValueError,
                       match=exactly("non_floating_adder_per_kwh contains NaN or inf.")):
        t.price(day, 0.5, float("nan"))
    with pytest.raises(ValueError, match=exactly(
            "non_floating_adder_per_kwh must be a scalar or one value per interval (24), got "
            "shape (3,)")):
        t.price(day, 0.5, [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match=exactly(
            "flat_price_per_kwh must be a scalar or one value per interval (24), got shape (2,)")):
        t.price(day, [0.5, 0.5])
    big = tf.load_preset("shanghai", "two_part_large_industry")  # has rest-day overlays
    with pytest.raises(ValueError, match=exactly("workdays: 'soon' is not a date")):
        big.periods(hours("2025-04-12"), workdays=["soon"])


def test_unverified_ratios_are_listed_by_period_and_month():
    # zhejiang_2024: ratios.csv lines 10-13 are [U]; critical hours exist only in the months of
    # periods.csv lines 23-30 (1;7-8;12), the holiday deep valley (line 31) in every month
    z = tf.load_preset("zhejiang_2024")
    doc = "浙发改价格〔2024〕21号"
    hint = ("give the ratios explicitly: load_preset('zhejiang_2024', ratios={'critical': ..., "
            "'peak': ..., 'valley': ..., 'deep_valley': ...})")
    reasons = [f"the ratio of 'critical' is unverified [U] ({doc}, ratios.csv line 10) in months "
               "1,7,8,12",
               f"the ratio of 'peak' is unverified [U] ({doc}, ratios.csv line 11) in all months",
               f"the ratio of 'valley' is unverified [U] ({doc}, ratios.csv line 12) in all months",
               f"the ratio of 'deep_valley' is unverified [U] ({doc}, ratios.csv line 13) in all "
               "months"]
    assert z.unusable == (*reasons, hint)
    with pytest.raises(ValueError, match=exactly("tariff zhejiang_2024 cannot price: "
                                                 + "; ".join([*reasons, hint]))):
        z.ratio(hours("2026-03-02"))


def test_a_class_preset_with_an_unverified_and_a_missing_ratio(tmp_path):
    # Jiangsu two-part with its peak ratio (ratios.csv line 3) made [U] and its valley row
    # (line 6) removed: both are named, the hint names the class; a ratio given for the valley
    # leaves the peak
    def edit(rows):
        rows[2][4], rows[2][10] = "", "U"
        return rows[:5] + rows[6:]

    folder = custom_tables(tmp_path, {"ratios.csv": edit})
    peak = ("the ratio of 'peak' is unverified [U] (苏发改价格发〔2025〕426号, ratios.csv line 3) "
            "in all months")
    hint = ("give the ratios explicitly: load_preset('jiangsu_2025', 'two_part', ratios="
            "{'critical': ..., 'peak': ..., 'valley': ..., 'deep_valley': ...})")
    t = tf.load_preset("jiangsu_2025", "two_part", data_dir=folder)
    assert t.unusable == (peak, "ratios.csv has no ratio for 'valley' in all months", hint)
    given = tf.load_preset("jiangsu_2025", "two_part", ratios={"valley": 0.35}, data_dir=folder)
    assert given.unusable == (peak, hint)


def test_messages_of_the_checks_of_index_lengths_rates_and_months():
    with pytest.raises(TypeError, match=exactly("index must be a pandas.DatetimeIndex, got list")):
        tf.tou_periods([1, 2], tf.load_preset("flat"))
    with pytest.raises(ValueError, match=exactly(
            "index must be tz-aware (the site's local time zone, e.g. "
            "index.tz_localize('Asia/Shanghai'))")):
        tf.tou_periods(pd.date_range("2025-07-01", periods=3, freq="h"), tf.load_preset("flat"))
    idx = hours("2026-01-05", 3)
    with pytest.raises(ValueError, match=exactly(
            "kwh has shape (1,); expected (3,), one value per interval of the index")):
        tf.average_kw([1.0], idx)
    with pytest.raises(ValueError, match=exactly(
            "interval_kw has shape (2,); expected (3,), one value per interval of the index")):
        tf.monthly_peak_demand([1.0, 2.0], idx)
    with pytest.raises(ValueError, match=exactly(
            "rate_per_kw_month [CNY/(kW·month)] is required: no default is shipped; take it from "
            "your province's T&D tariff table (输配电价表)")):
        tf.demand_charge([1.0, 2.0, 3.0], idx, None)
    with pytest.raises(ValueError, match=exactly("monthly_values: no value for 2026-01, 2026-02")):
        tf.monthly_values(hours("2026-01-31", 48), {3: 1.0})
    t = tf.load_preset("flat")
    with pytest.raises(ValueError, match=exactly(
            "day_type must be one of ('all', 'holiday', 'rest_day'), got 'weekend'")):
        t.schedule(1, "weekend")
    with pytest.raises(ValueError, match=exactly(
            f"ratios: unknown period 'shoulder'; expected one of {PERIOD_LIST}")):
        tf.load_preset("zhejiang_2024", ratios={"shoulder": 1.0})
    with pytest.raises(ValueError, match=exactly("ratios['peak'] must be a positive number, got "
                                                 "-1.0")):
        tf.load_preset("zhejiang_2024", ratios={"peak": -1})


def test_compiled_tables_are_read_only():
    # the compiled tariff is cached and shared by every caller: no caller may change it
    t = tf.load_preset("jiangsu_2025", "two_part_industry_ge315kva")
    assert not t.base.flags.writeable and not t.ratios.flags.writeable
    assert t.overlays and not any(table.flags.writeable for _, table in t.overlays)


def test_edited_tables_are_read_again(tmp_path):
    # Guangdong, 15 July 2025 10:00: peak (periods.csv line 49, 10-12) at 1.7 (ratios.csv
    # line 20); each edit of a table, seen by its modification time, changes the result
    folder = custom_tables(tmp_path)
    idx = hours("2025-07-15")

    def peak_price():
        return tf.load_preset("guangdong_2021", data_dir=folder).price(idx, 1.0)[10]

    assert peak_price() == pytest.approx(1.7, rel=1e-15)
    # one file at a time, the others untouched
    text = (folder / "ratios.csv").read_text(encoding="utf-8").splitlines()
    text[19] = text[19].replace(",1-12,peak,1.7,", ",1-12,peak,1.8,")
    (folder / "ratios.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    touch_later(folder / "ratios.csv")
    assert peak_price() == pytest.approx(1.8, rel=1e-15)
    text = (folder / "periods.csv").read_text(encoding="utf-8").splitlines()
    text[48] = text[48].replace(",10,12,peak,", ",10,12,flat,")
    (folder / "periods.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    touch_later(folder / "periods.csv")
    assert peak_price() == 1.0
    text = (folder / "presets.csv").read_text(encoding="utf-8").replace(
        ",2021-10-01,,*,", ",2025-08-01,,*,")
    (folder / "presets.csv").write_text(text, encoding="utf-8")
    touch_later(folder / "presets.csv")
    with pytest.raises(ValueError, match="applies from 2025-08-01"):
        peak_price()


def test_own_tables_list_their_presets_and_a_missing_file_is_named(tmp_path):
    folder = custom_tables(tmp_path, {"presets.csv": lambda rows: [
        r for r in rows if r[0] in ("preset", "guangdong_2021")]})
    assert tf.list_presets(folder) == ["guangdong_2021"]
    assert list(tf.preset_table(folder).index) == ["guangdong_2021"]
    (folder / "periods.csv").unlink()
    with pytest.raises(ValueError, match=exactly(
            f"tariff data file not found: {folder.resolve() / 'periods.csv'}")):
        tf.load_preset("guangdong_2021", data_dir=folder)


def test_an_empty_class_cell_means_every_class(tmp_path):
    # customer_classes '' reads as '*' in presets.csv and in a period row
    def presets(rows):
        return [[*r[:7], "", *r[8:]] if r[0] == "guangdong_2021" else r for r in rows]

    def periods(rows):
        return [[r[0], "", *r[2:]] if i == 46 else r for i, r in enumerate(rows)]

    folder = custom_tables(tmp_path, {"presets.csv": presets, "periods.csv": periods})
    t = tf.load_preset("guangdong_2021", data_dir=folder)
    # 07:00 valley (line 47, 0-8) at 0.38, 10:00 peak at 1.7 (ratios.csv lines 20, 22)
    assert t.price(hours("2025-07-15"), 1.0)[[7, 10]] == pytest.approx([0.38, 1.7], rel=1e-15)


GD = "guangdong_2021,*,{layer},{months},{day_type},{start},{end},{period},x,2025,,,{status},test"


@pytest.mark.parametrize(("fields", "message"), [
    ({"layer": "top"}, "layer must be 'base' or 'overlay', got 'top'"),
    ({"day_type": "weekend"}, "day_type must be one of ('all', 'holiday', 'rest_day'), got "
                              "'weekend'"),
    ({"layer": "base", "day_type": "holiday"},
     "base rows apply to all days (day_type 'all'); use an overlay row for holidays or rest days"),
    ({"period": "shoulder"}, f"period must be one of {PERIOD_LIST}, got 'shoulder'"),
    ({"months": "1-13"}, "months '1-13': month ranges must lie in 1..12 and increase (write "
                         "Dec-Feb as '12;1-2')"),
    ({"months": "jan"}, "months 'jan' must look like '1-2;6-8;12'"),
    ({"start": "x"}, "start_hour 'x' and end_hour '18' must be numbers (19.5 = 19:30)"),
    ({"status": "X"}, "status 'X' is not one of ('S', 'S2', 'U', 'def')"),
])
def test_malformed_period_rows_are_named_by_line(tmp_path, fields, message):
    row = {"layer": "overlay", "months": "8", "day_type": "holiday", "start": "16", "end": "18",
           "period": "valley", "status": "S2", **fields}
    folder = write_tables(tmp_path, [GD.format(**row)])
    line = len((folder / "periods.csv").read_text(encoding="utf-8").splitlines())
    with pytest.raises(ValueError, match=exactly(f"periods.csv line {line}: {message}")):
        tf.load_preset("guangdong_2021", data_dir=folder)


def test_empty_class_name_in_a_period_row(tmp_path):
    row = "guangdong_2021,a;;b,overlay,8,holiday,16,18,valley,x,2025,,,S2,test"
    folder = write_tables(tmp_path, [row])
    with pytest.raises(ValueError, match=exactly(
            "periods.csv line 111: empty name in customer_classes 'a;;b'")):
        tf.load_preset("guangdong_2021", data_dir=folder)


def test_overlap_names_both_lines_and_the_first_shared_minute(tmp_path):
    # a peak overlay 14-18 in August meets the critical overlay 15-17 of line 54 at 15:00
    folder = write_tables(tmp_path, [GD.format(layer="overlay", months="8", day_type="all",
                                               start="14", end="18", period="peak",
                                               status="S2")])
    with pytest.raises(ValueError, match=exactly(
            "tariff guangdong_2021: periods.csv lines 54 and 111 overlap in month 8 at 15:00 "
            "(overlay rows must not overlap; overlays override base rows, and no two overlays may "
            "cover the same minute)")):
        tf.load_preset("guangdong_2021", data_dir=folder)


def test_gaps_are_listed_in_order_with_the_class(tmp_path):
    # Jiangsu without its summer/winter flat rows 06-11 (line 3) and 13-14 (line 5)
    folder = custom_tables(tmp_path, {"periods.csv": lambda rows: [
        r for i, r in enumerate(rows) if i not in (2, 4)]})
    with pytest.raises(ValueError, match=exactly(
            "tariff jiangsu_2025[two_part]: month 1 has no base period for 06:00-11:00, "
            "13:00-14:00; the base rows of every month must cover 00:00-24:00")):
        tf.load_preset("jiangsu_2025", "two_part", data_dir=folder)


RT = "{preset},{classes},{months},{period},{ratio},test,x,2025,,,{status},test"


@pytest.mark.parametrize(("fields", "message"), [
    ({"period": "shoulder"}, f"period must be one of {PERIOD_LIST}, got 'shoulder'"),
    ({"ratio": "abc"}, "ratio_to_flat 'abc' is not a number (leave it empty only with status U)"),
    ({"ratio": "0"}, "ratio_to_flat must be positive, got '0'"),
    ({"ratio": "-0.5"}, "ratio_to_flat must be positive, got '-0.5'"),
    ({"period": "flat", "ratio": "1.2"}, "the flat ratio must be 1, got '1.2'"),
    ({"months": "0"}, "months '0': month ranges must lie in 1..12 and increase (write Dec-Feb as "
                      "'12;1-2')"),
])
def test_malformed_ratio_rows_are_named_by_line(tmp_path, fields, message):
    row = {"preset": "guangdong_2021", "classes": "*", "months": "7", "period": "critical",
           "ratio": "2", "status": "S2", **fields}
    folder = custom_tables(tmp_path, {"ratios.csv": lambda rows: [*rows,
                                                                  RT.format(**row).split(",")]})
    with pytest.raises(ValueError, match=exactly(f"ratios.csv line 40: {message}")):
        tf.load_preset("guangdong_2021", data_dir=folder)


def test_a_ratio_given_twice_names_both_lines(tmp_path):
    # Guangdong's peak is line 20 for every month; Jiangsu two-part's line 3
    extra = [RT.format(preset="guangdong_2021", classes="*", months="7", period="peak",
                       ratio="1.8", status="S2").split(","),
             RT.format(preset="jiangsu_2025", classes="two_part", months="3", period="peak",
                       ratio="1.9", status="S2").split(",")]
    folder = custom_tables(tmp_path, {"ratios.csv": lambda rows: [*rows, *extra]})
    with pytest.raises(ValueError, match=exactly(
            "tariff guangdong_2021: ratios.csv lines 20 and 40 both give 'peak' in month 7")):
        tf.load_preset("guangdong_2021", data_dir=folder)
    with pytest.raises(ValueError, match=exactly(
            "tariff jiangsu_2025[two_part]: ratios.csv lines 3 and 41 both give 'peak' in "
            "month 3")):
        tf.load_preset("jiangsu_2025", "two_part", data_dir=folder)


def test_a_bad_validity_date_is_named(tmp_path):
    folder = custom_tables(tmp_path, {"presets.csv": lambda rows: [
        [*r[:5], "2025-13-01", *r[6:]] if r[0] == "guangdong_2021" else r for r in rows]})
    with pytest.raises(ValueError, match=exactly(
            "presets.csv guangdong_2021 valid_from: '2025-13-01' is not a date (YYYY-MM-DD)")):
        tf.load_preset("guangdong_2021", data_dir=folder)


@pytest.mark.parametrize(("month", "line"), [(6, 32), (7, 29)])
def test_a_seasonal_ratio_given_twice_names_the_line_of_its_month(tmp_path, month, line):
    # Shanghai two-part: peak of months 1;7-9;12 on ratios.csv line 29, of 2-6;10-11 on line 32
    row = RT.format(preset="shanghai", classes="two_part_other", months=str(month),
                    period="peak", ratio="1.7", status="S2").split(",")
    folder = custom_tables(tmp_path, {"ratios.csv": lambda rows: [*rows, row]})
    with pytest.raises(ValueError, match=exactly(
            f"tariff shanghai[two_part_other]: ratios.csv lines {line} and 40 both give 'peak' "
            f"in month {month}")):
        tf.load_preset("shanghai", "two_part_other", data_dir=folder)
