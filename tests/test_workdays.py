"""China's working calendar: State Council holidays and make-up working days (调休), corrections by
hand, one calendar for production and the tariff, and stations with their own shift pattern.

The expected days are those of the State Council General Office's notice on the 2026 public
holidays (as tabulated in chinese_calendar 1.11): Spring Festival off Sun 15 Feb to Mon 23 Feb
2026, worked on Sat 14 Feb and Sat 28 Feb; Labour Day off 1-5 May, worked Sat 9 May; National
Day off 1-7 Oct, worked Sat 10 Oct. The energy is worked out by hand in each docstring.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import const, make_plant, station

import twin
from twin.config.errors import ConfigError, SupplyError
from twin.workdays import day_types

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "plant_configs" / "cn_calendar_plant.yaml"

# off 0 kW (a break is spent off: no warm-up, no minimum stay), idle 2 kW, processing 10 kW
PRESS = {"id": "press", "power_kw": {"electricity": {"idle": 2, "processing": 10}},
         "saving_modes": {"off": {"warm_up_s": 0, "min_stay_s": 0}}, "off_shift_mode": "off"}
WORK_DAY_KWH = (600 * 10 + (8 * 3600 - 600) * 2) / 3600  # one 600 s lot in an 8 h shift
PLAN = [{"id": "plan", "kind": "plan", "quantities": {"part": 1}}]


def press_plant(plant_calendar: dict, **station_fields) -> twin.Plant:
    press = station("press", const(600), equipment="press", group="press", **station_fields)
    return make_plant([press], equipment_types=[PRESS], sources=PLAN, calendar=plant_calendar)


DAY_SHIFT = {"shifts": {"day": {"start": "08:00", "end": "16:00"}},
             "week": {d: ["day"] for d in ("mon", "tue", "wed", "thu", "fri")}}


def daily_kwh(result: twin.Result, column: str = "electricity_kwh:press") -> list[float]:
    return result.hourly[column].groupby(result.hourly.index.date).sum().tolist()


def test_spring_festival_week_off_and_make_up_saturdays_worked():
    """Day shift 08:00-16:00 Mon-Fri, one 600 s lot released at the start of each working day;
    from Mon 9 Feb 2026 for 21 days (to Sun 1 Mar).

    Working days by hand: Mon 9 - Fri 13 Feb (5), Sat 14 Feb (make-up), Tue 24 - Fri 27 Feb (4),
    Sat 28 Feb (make-up) = 11 days; Mon 16 - Fri 20 and Mon 23 Feb are holidays.
    A working day: 600 s at 10 kW + 7 h 50 min idle at 2 kW = 17.3333 kWh; a day off: 0 kWh.
    Total 11 x 17.3333 = 190.6667 kWh; scheduled 88 h; 11 lots."""
    r = twin.simulate(press_plant({**DAY_SHIFT, "holidays": "CN"}), days=21,
                      start="2026-02-09", seed=1)
    worked = {dt.date(2026, 2, d) for d in (9, 10, 11, 12, 13, 14, 24, 25, 26, 27, 28)}
    days = [dt.date(2026, 2, 9) + dt.timedelta(days=k) for k in range(21)]
    want = [WORK_DAY_KWH if d in worked else 0.0 for d in days]
    np.testing.assert_allclose(daily_kwh(r), want, rtol=1e-12, atol=1e-12)
    assert r.kpis["electricity_kwh"] == pytest.approx(11 * WORK_DAY_KWH, rel=1e-9)
    assert r.kpis["lots_completed"] == 11
    assert r.kpis["stations"]["press"]["scheduled_h"] == pytest.approx(88.0)
    released = {str(t) for t in r.lots["released"]}
    assert {"2026-02-14 08:00:00+08:00", "2026-02-28 08:00:00+08:00"} <= released
    assert not any(t.startswith("2026-02-16") for t in released)


def test_the_same_weeks_without_the_country_calendar():
    """Without ``holidays: CN`` the same three weeks have 15 working days (Mon-Fri), no Saturday."""
    r = twin.simulate(press_plant(DAY_SHIFT), days=21, start="2026-02-09", seed=1)
    assert r.kpis["lots_completed"] == 15
    assert r.kpis["electricity_kwh"] == pytest.approx(15 * WORK_DAY_KWH, rel=1e-9)


def test_make_up_day_runs_the_shifts_of_workdays_like():
    """Mon runs two shifts (08-16, 16-20), Tue-Fri one; ``workdays_like: mon`` gives the make-up
    Saturday 14 Feb 2026 both: 12 h scheduled on Sat, 8 h on Fri 13. The single lot is done in
    the first shift; the Saturday: 600 s at 10 kW + (12 h - 600 s) at 2 kW = 25.3333 kWh."""
    cal = {"shifts": {"day": {"start": "08:00", "end": "16:00"},
                      "late": {"start": "16:00", "end": "20:00"}},
           "week": {"mon": ["day", "late"], **{d: ["day"] for d in ("tue", "wed", "thu", "fri")}},
           "holidays": ["CN"], "workdays_like": "mon"}
    r = twin.simulate(press_plant(cal), days=2, start="2026-02-13", seed=1)
    sat = (600 * 10 + (12 * 3600 - 600) * 2) / 3600
    np.testing.assert_allclose(daily_kwh(r), [WORK_DAY_KWH, sat], rtol=1e-12)
    assert r.kpis["stations"]["press"]["scheduled_h"] == pytest.approx(20.0)


def test_listed_dates_correct_the_country_calendar():
    """A CN holiday listed under workdays is worked; a CN make-up day listed under holidays is
    off; a plain date listed under holidays is added (hand-checked against the 2026 notice)."""
    cal = twin.config.plant.Calendar.model_validate({
        **DAY_SHIFT, "holidays": ["CN", dt.date(2026, 2, 14), dt.date(2026, 3, 2)],
        "workdays": [dt.date(2026, 2, 23)]})
    t = day_types(cal, dt.date(2026, 2, 1), dt.date(2026, 3, 31))
    assert dt.date(2026, 2, 23) not in t.holidays and dt.date(2026, 2, 23) in t.workdays
    assert dt.date(2026, 2, 14) in t.holidays and dt.date(2026, 2, 14) not in t.workdays
    assert dt.date(2026, 3, 2) in t.holidays
    assert sorted(t.holidays - {dt.date(2026, 2, 14), dt.date(2026, 3, 2)}) == [
        dt.date(2026, 2, d) for d in range(15, 23)]
    assert sorted(t.workdays) == [dt.date(2026, 2, 23), dt.date(2026, 2, 28)]


def test_holidays_without_a_week_mean_around_the_clock_but_holidays():
    """``calendar: {holidays: CN}`` alone: from Wed 30 Sep 2026 for 3 days the plant works 30 Sep
    around the clock (24 h) and is off on 1 and 2 Oct (National Day)."""
    r = twin.simulate(press_plant({"holidays": "CN"}), days=3, start="2026-09-30", seed=1)
    assert r.kpis["stations"]["press"]["scheduled_h"] == pytest.approx(24.0)
    day = (600 * 10 + (24 * 3600 - 600) * 2) / 3600
    np.testing.assert_allclose(daily_kwh(r), [day, 0.0, 0.0], rtol=1e-12, atol=1e-12)


def test_a_year_the_package_does_not_know_is_a_clear_error():
    """A run in a year after the package's last table: one-line SupplyError naming the year,
    the years known and what to do."""
    from chinese_calendar import constants

    last = max(constants.holidays).year
    plant = press_plant({**DAY_SHIFT, "holidays": "CN"})
    with pytest.raises(SupplyError) as err:
        twin.simulate(plant, days=3, start=f"{last + 1}-03-02", seed=1)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("calendar.holidays: CN:")
    assert f"{last + 1}" in msg and f"2004-{last}" in msg and "chinesecalendar" in msg
    # a run ending on the package's last day needs no look-up beyond it (a night shift's
    # padding day in the next year is taken as a plain weekday)
    twin.simulate(plant, days=1, start=f"{last}-12-31", seed=1)


def test_an_unknown_year_in_a_station_calendar_names_the_station():
    from chinese_calendar import constants

    last = max(constants.holidays).year
    plant = press_plant(DAY_SHIFT, calendar={"holidays": "CN"})
    with pytest.raises(SupplyError, match=r"^lines\[0\]\.stations\[0\]\.calendar\.holidays: CN: "):
        twin.simulate(plant, days=3, start=f"{last + 1}-03-02", seed=1)


def test_validate_reports_an_unknown_year_with_exit_2(tmp_path):
    from chinese_calendar import constants

    last = max(constants.holidays).year
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("start: 2026-02-02", f"start: {last + 1}-02-01")
    bad = tmp_path / "plant.yaml"
    bad.write_text(text, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "twin.cli", "validate", str(bad)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert f"calendar.holidays: CN: China's holiday calendar for {last + 1}" in out.stderr
    assert "Traceback" not in out.stderr


# --- one calendar for the tariff ----------------------------------------------------------------

def tariff_plant(calendar: dict, preset: str, customer_class: str | None = None, **tariff):
    tf = {"preset": preset, "flat_price_per_kwh": 0.5, **tariff}
    if customer_class:
        tf["customer_class"] = customer_class
    press = station("press", const(600), equipment="press", group="press")
    return make_plant([press], equipment_types=[PRESS], sources=PLAN, calendar=calendar,
                      energy={"grid": {"tariff": tf}})


def test_the_tariff_takes_the_calendars_holidays():
    """Zhejiang 2026 prices a holiday 09:00-15:00 as deep valley (0.2 x flat = 0.1 CNY/kWh at a
    flat 0.5). With ``calendar: {holidays: CN}`` and no holiday list in the tariff, 1 Oct 2026 at
    10:00 is deep valley; without the calendar the same hour is flat (0.5)."""
    with_cn = twin.simulate(tariff_plant({**DAY_SHIFT, "holidays": "CN"}, "zhejiang_2026"),
                            days=1, start="2026-10-01", seed=1)
    plain = twin.simulate(tariff_plant(DAY_SHIFT, "zhejiang_2026"), days=1, start="2026-10-01",
                          seed=1)
    at = "2026-10-01 10:00"
    assert with_cn.intervals.loc[at, "tou_period"] == "deep_valley"
    assert with_cn.intervals.loc[at, "price_per_kwh"] == pytest.approx(0.1)
    assert plain.intervals.loc[at, "tou_period"] == "flat"
    assert plain.intervals.loc[at, "price_per_kwh"] == pytest.approx(0.5)


def test_the_tariff_takes_the_calendars_make_up_days():
    """Shanghai two-part large industry: deep valley 22:00-06:00 on rest days in Feb-Jun; a make-up
    Saturday is a working day. With CN, Sat 9 May 2026 23:00 is valley (as on a weekday), Sun 10
    May 23:00 deep valley; the price of the Saturday hour equals the weekday's (Fri 8 May)."""
    plant = tariff_plant({**DAY_SHIFT, "holidays": "CN"}, "shanghai", "two_part_large_industry")
    r = twin.simulate(plant, days=3, start="2026-05-08", seed=1)
    iv = r.intervals
    assert iv.loc["2026-05-09 23:00", "tou_period"] == "valley"
    assert iv.loc["2026-05-10 23:00", "tou_period"] == "deep_valley"
    assert iv.loc["2026-05-09 23:00", "price_per_kwh"] == iv.loc["2026-05-08 23:00",
                                                                   "price_per_kwh"]
    # the make-up Saturday is also worked: 3 lots (Fri, Sat, and none on Sunday)
    assert r.kpis["lots_completed"] == 2


def test_a_tariffs_own_holiday_list_still_wins():
    """A tariff that lists its own holidays uses them (here none of National Day: 2 Oct only)."""
    plant = tariff_plant({**DAY_SHIFT, "holidays": "CN"}, "zhejiang_2026",
                         holidays=[dt.date(2026, 10, 2)])
    r = twin.simulate(plant, days=2, start="2026-10-01", seed=1)
    assert r.intervals.loc["2026-10-01 10:00", "tou_period"] == "flat"
    assert r.intervals.loc["2026-10-02 10:00", "tou_period"] == "deep_valley"


# --- stations with their own shift pattern -------------------------------------------------------

def test_a_247_furnace_in_a_two_shift_plant():
    """Plant: shifts 06-14 and 14-22 Mon-Fri. The furnace (``calendar: always``) never stops:
    from Mon 2 Mar 2026 for 7 days it is scheduled 168 h and idles at 2 kW whenever it has no lot;
    the press follows the plant (5 x 16 = 80 h). One 600 s lot per working day through press then
    furnace: the furnace's energy is 5 lots x 600 s x 10 kW + (168 h - 5 x 600 s) x 2 kW."""
    cal = {"shifts": {"early": {"start": "06:00", "end": "14:00"},
                      "late": {"start": "14:00", "end": "22:00"}},
           "week": {d: ["early", "late"] for d in ("mon", "tue", "wed", "thu", "fri")},
           "holidays": "CN"}
    plant = make_plant(
        [station("press", const(600), equipment="press", group="press"),
         station("furnace", const(600), equipment="press", group="furnace",
                 calendar="always")],
        equipment_types=[PRESS], sources=PLAN, calendar=cal)
    r = twin.simulate(plant, days=7, start="2026-03-02", seed=1)
    st = r.kpis["stations"]
    assert st["furnace"]["scheduled_h"] == pytest.approx(168.0)
    assert st["press"]["scheduled_h"] == pytest.approx(80.0)
    furnace = (5 * 600 * 10 + (168 * 3600 - 5 * 600) * 2) / 3600
    assert r.hourly["electricity_kwh:furnace"].sum() == pytest.approx(furnace, rel=1e-12)
    press = (5 * 600 * 10 + (80 * 3600 - 5 * 600) * 2) / 3600
    assert r.hourly["electricity_kwh:press"].sum() == pytest.approx(press, rel=1e-12)
    # the furnace is on through the weekend: Sat 03:00 is 2 kW idle
    assert r.hourly.loc["2026-03-07 03:00", "electricity_kwh:furnace"] == pytest.approx(2.0)


def test_a_station_week_uses_the_plant_shifts_and_holidays():
    """The press runs only the plant's early shift (its own week, the plant's named shifts and
    CN holidays): Mon 5 Oct to Sun 11 Oct 2026 has National Day off on 5-7 Oct, works Thu 8, Fri 9
    and the make-up Sat 10 Oct: 3 x 8 h = 24 h scheduled for the press, 3 x 16 h for the plant."""
    cal = {"shifts": {"early": {"start": "06:00", "end": "14:00"},
                      "late": {"start": "14:00", "end": "22:00"}},
           "week": {d: ["early", "late"] for d in ("mon", "tue", "wed", "thu", "fri")},
           "holidays": "CN"}
    own = {"week": {d: ["early"] for d in ("mon", "tue", "wed", "thu", "fri")}}
    plant = make_plant(
        [station("saw", const(600), equipment="press", group="saw"),
         station("press", const(600), equipment="press", group="press", calendar=own)],
        equipment_types=[PRESS], sources=PLAN, calendar=cal)
    r = twin.simulate(plant, days=7, start="2026-10-05", seed=1)
    st = r.kpis["stations"]
    assert st["press"]["scheduled_h"] == pytest.approx(24.0)
    assert st["saw"]["scheduled_h"] == pytest.approx(48.0)
    assert r.kpis["lots_completed"] == 3


def test_a_station_redefines_a_plant_shift_and_keeps_the_plant_week():
    """The press redefines the plant's ``day`` shift as 08:00-12:00 and writes nothing else: it
    keeps the plant's Mon-Fri week and CN days. Mon 9 to Sun 15 Feb 2026 has 5 weekdays and the
    make-up Sat 14 Feb: 6 x 4 h = 24 h scheduled; the same week for the plant's 8 h shift: 48 h."""
    plant = make_plant(
        [station("saw", const(600), equipment="press", group="saw"),
         station("press", const(600), equipment="press", group="press",
                 calendar={"shifts": {"day": {"start": "08:00", "end": "12:00"}}})],
        equipment_types=[PRESS], sources=PLAN, calendar={**DAY_SHIFT, "holidays": "CN"})
    r = twin.simulate(plant, days=7, start="2026-02-09", seed=1)
    assert r.kpis["stations"]["press"]["scheduled_h"] == pytest.approx(24.0)
    assert r.kpis["stations"]["saw"]["scheduled_h"] == pytest.approx(48.0)


# --- errors in the file -------------------------------------------------------------------------

@pytest.mark.parametrize("calendar, path, words", [
    ({**DAY_SHIFT, "holidays": "US"}, "calendar.holidays", "unknown country"),
    ({**DAY_SHIFT, "holidays": ["CN", 20260101]}, "calendar.holidays", "expected a date"),
    ({**DAY_SHIFT, "holidays": [dt.date(2026, 2, 14)], "workdays": [dt.date(2026, 2, 14)]},
     "calendar", "both in holidays and in workdays"),
    ({**DAY_SHIFT, "workdays_like": "monday"}, "calendar.workdays_like", "mon"),
])
def test_bad_calendar_fields_are_one_line_errors(calendar, path, words):
    with pytest.raises(ConfigError) as err:
        press_plant(calendar)
    issues = err.value.issues
    assert len(issues) == 1
    assert issues[0].path == path and words in issues[0].message


def test_plant_shifts_without_a_week():
    with pytest.raises(ConfigError) as err:
        press_plant({"shifts": DAY_SHIFT["shifts"], "holidays": "CN"})
    (issue,) = err.value.issues
    assert issue.path == "calendar.week" and "no week says on which days" in issue.message


def test_a_station_calendar_naming_an_unknown_shift():
    with pytest.raises(ConfigError) as err:
        press_plant(DAY_SHIFT, calendar={"week": {"mon": ["dya"]}})
    (issue,) = err.value.issues
    assert issue.path == "lines[0].stations[0].calendar.week.mon[0]"
    assert "did you mean 'day'" in issue.message


def test_the_example_validates_and_matches_the_schema():
    import json

    import jsonschema

    from twin.config.loader import read_yaml

    out = subprocess.run([sys.executable, "-m", "twin.cli", "validate", str(EXAMPLE)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    schema = json.loads(subprocess.run([sys.executable, "-m", "twin.cli", "schema"],
                                       capture_output=True, text=True, check=True).stdout)
    data, _ = read_yaml(EXAMPLE)
    jsonschema.validate(json.loads(json.dumps(data, default=str)), schema)  # dates as written
    for bad in ("US", ["CN", 12]):
        data["calendar"]["holidays"] = bad
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(json.loads(json.dumps(data, default=str)), schema)


def test_the_example_over_spring_festival_by_hand():
    """plant_configs/cn_calendar_plant.yaml, 35 days from Mon 2 Feb 2026: working days Feb 2-6,
    9-13, Sat 14 (make-up), 24-27, Sat 28 (make-up), Mar 2-6 = 21; 20 lots a working day = 420
    lots released. Scheduled: saw (plant, 2 x 8 h) 21 x 16 = 336 h, inspection (early shift)
    21 x 8 = 168 h, tempering furnace (always) 35 x 24 = 840 h."""
    r = twin.simulate(twin.load_plant(EXAMPLE), seed=3)
    assert r.kpis["lots_released"] == 420
    st = r.kpis["stations"]
    assert st["saw"]["scheduled_h"] == pytest.approx(336.0)
    assert st["inspection"]["scheduled_h"] == pytest.approx(168.0)
    assert st["tempering"]["scheduled_h"] == pytest.approx(840.0)
