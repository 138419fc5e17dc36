"""Own tariffs written in the plant file, checked against hand-computed prices and costs.

The plants have no production work (one lot a year), so the kiln draws its idle power, 20 kW,
day and night: a day is 480 kWh, an hour 20 kWh, a 15-min interval 5 kWh, and every cost below is
arithmetic on the table or price file of the test.
"""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import const, make_plant, station

import twin
from twin.cli import main
from twin.config import ConfigError, load_plant
from twin.config.errors import SupplyError
from twin.config.own_tariff import PeriodName, parse_hours, parse_months
from twin.energy.own_tariff import (
    PriceSeries,
    TouTableError,
    compile_table,
    interval_prices,
    own_tou_tariff,
    read_price_file,
)
from twin.energy.tariff import PERIODS

TWIN = Path(sys.executable).with_name("twin")
YEARLY = const(365, unit="h")
KILN = {"id": "kiln", "power_kw": {"electricity": {"idle": 20}}}
DAY = [{"hours": "00:00-08:00", "period": "valley"}, {"hours": "08:00-12:00", "period": "peak"},
       {"hours": "12:00-24:00", "period": "flat"}]


def kiln_plant(tariff: dict, **energy) -> twin.Plant:
    return make_plant([station("s", const(60), equipment="kiln")], equipment_types=[KILN],
                      interarrival=YEARLY, energy={"grid": {"tariff": tariff}, **energy})


def rows(*items: tuple) -> list:
    """(months, days, 'HH:MM-HH:MM', period) -> compile_table rows."""
    return [(parse_months(m), d, parse_hours(h), p) for m, d, h, p in items]


# ---------------------------------------------------------------------------------------------
# the table: day types, wrap past midnight, overlays, make-up workdays


# A two-season table as a user types it from a notice.
TABLE = rows(
    ("1-6;9-12", "workday", "00:00-08:00", "valley"),
    ("1-6;9-12", "workday", "08:00-12:00", "peak"),
    ("1-6;9-12", "workday", "12:00-22:00", "flat"),
    ("1-6;9-12", "workday", "22:00-24:00", "valley"),
    ("7-8", "workday", "22:00-08:00", "valley"), ("7-8", "workday", "08:00-14:00", "flat"),
    ("7-8", "workday", "14:00-22:00", "peak"),
    ("1-12", "rest_day", "00:00-08:00", "valley"), ("1-12", "rest_day", "08:00-24:00", "flat"),
)
OVERLAYS = rows(("7-8", "workday", "14:00-16:00", "critical"),
                ("1-12", "holiday", "10:00-14:00", "deep_valley"))


def period_at(tou, stamp: str, holidays=(), workdays=()) -> str:
    idx = pd.DatetimeIndex([pd.Timestamp(stamp)]).tz_localize("Asia/Shanghai")
    return str(tou.periods(idx, holidays, workdays=workdays, check_validity=False)[0])


def test_table_periods_by_month_day_type_and_time():
    tou = compile_table(TABLE, OVERLAYS)
    assert period_at(tou, "2026-03-02 09:00") == "peak"          # Monday, spring
    assert period_at(tou, "2026-03-02 22:30") == "valley"
    assert period_at(tou, "2026-03-07 09:00") == "flat"          # Saturday: no peak
    assert period_at(tou, "2026-07-06 03:00") == "valley"        # summer row 22-08 wraps
    assert period_at(tou, "2026-07-06 23:45") == "valley"
    assert period_at(tou, "2026-07-06 15:59") == "critical"      # overlay in the summer peak
    assert period_at(tou, "2026-07-06 16:00") == "peak"
    assert period_at(tou, "2026-07-11 15:00") == "flat"          # summer Saturday: no overlay
    # 1 May 2026 is a Friday declared a holiday: rest-day table plus the holiday deep valley
    assert period_at(tou, "2026-05-01 09:00", holidays=["2026-05-01"]) == "flat"
    assert period_at(tou, "2026-05-01 11:00", holidays=["2026-05-01"]) == "deep_valley"
    assert period_at(tou, "2026-05-01 11:00") == "peak"          # not declared: a workday
    # Saturday 9 May 2026 worked by decree (调休): the workday table
    assert period_at(tou, "2026-05-09 09:00", workdays=["2026-05-09"]) == "peak"
    assert period_at(tou, "2026-05-09 09:00") == "flat"
    assert tou.schedule(7, "all") == [(0.0, 8.0, "valley"), (8.0, 14.0, "flat"),
                                      (14.0, 16.0, "critical"), (16.0, 22.0, "peak"),
                                      (22.0, 24.0, "valley")]


def test_holiday_rows_replace_the_rest_day_table():
    table = rows(("1-12", "all", "00:00-24:00", "flat"), ("1-12", "holiday", "00:00-24:00",
                                                            "valley"))
    # 'all' rows apply to holidays too: a holiday row on the same minutes overlaps
    with pytest.raises(TouTableError) as info:
        compile_table(table)
    assert (info.value.field, info.value.row) == ("periods", 1)
    table = rows(("1-12", "workday", "00:00-24:00", "flat"),
                 ("1-12", "rest_day", "00:00-24:00", "peak"),
                 ("1-12", "holiday", "00:00-24:00", "valley"))
    tou = compile_table(table)
    assert period_at(tou, "2026-03-02 12:00") == "flat"
    assert period_at(tou, "2026-03-07 12:00") == "peak"
    assert period_at(tou, "2026-03-02 12:00", holidays=["2026-03-02"]) == "valley"
    assert period_at(tou, "2026-03-07 12:00", holidays=["2026-03-07"]) == "valley"


def test_prices_ratio_and_price_tables_by_hand():
    # ratios: flat 0.5 -> peak 0.5 x 1.7 + adder 0.2 = 1.05; valley 0.5 x 0.4 + 0.2 = 0.40
    tou = own_tou_tariff(TABLE, ratios={"peak": 1.7, "valley": 0.4, "critical": 2.0,
                                        "deep_valley": 0.2})
    idx = pd.DatetimeIndex(["2026-03-02 09:00", "2026-03-02 03:00", "2026-03-02 13:00"]
                           ).tz_localize("Asia/Shanghai")
    np.testing.assert_allclose(tou.price(idx, 0.5, 0.2, check_validity=False),
                               [1.05, 0.40, 0.70], rtol=1e-12)
    # monthly prices: peak in March is the third of twelve values
    tou = own_tou_tariff(TABLE, prices_per_kwh={"peak": [1.0 + m / 100 for m in range(12)],
                                                "flat": 0.6, "valley": 0.3})
    np.testing.assert_allclose(tou.price(idx, 1.0, 0.0, check_validity=False),
                               [1.02, 0.30, 0.60], rtol=1e-12)
    with pytest.raises(ValueError, match="no ratio for the period"):
        own_tou_tariff(TABLE, ratios={"peak": 1.7})


def test_period_literal_matches_the_tariff_periods():
    assert typing.get_args(PeriodName) == PERIODS


def test_hours_and_months_text():
    assert parse_hours("08:00-11:30") == [(480, 690)]
    assert parse_hours("22:00-06:00") == [(1320, 1440), (0, 360)]
    assert parse_hours("12:00-24:00") == [(720, 1440)]
    assert parse_months("6-8;12") == [6, 7, 8, 12]
    assert parse_months([1, 2]) == [1, 2]
    for bad in ("8-11h", "25:00-26:00", "08:00-08:00", "08:61-09:00", "8"):
        with pytest.raises(ValueError, match="HH:MM-HH:MM"):
            parse_hours(bad)
    for bad in ("12-2", "0", "1-13", "x"):
        with pytest.raises(ValueError, match="month"):
            parse_months(bad)


# ---------------------------------------------------------------------------------------------
# whole runs: energy and demand cost by hand


def test_own_table_cost_in_a_run_by_hand():
    # Monday 2 March 2026: 8 h valley, 4 h peak, 12 h flat at 20 kW, prices + 0.1 adder:
    # 20 x (8 x 0.4 + 4 x 1.1 + 12 x 0.7) = 320 CNY. Demand: 20 kW x 31 CNY/kW-month x 1/31 of
    # March covered = 20 CNY (prorated as every demand charge of a run).
    plant = kiln_plant({"periods": DAY, "prices_per_kwh": {"valley": 0.3, "peak": 1.0,
                                                           "flat": 0.6},
                        "non_floating_adder_per_kwh": 0.1, "demand_charge_per_kw_month": 31})
    res = twin.simulate(plant, days=1, start="2026-03-02")
    assert res.kpis["energy_cost"] == pytest.approx(320.0, rel=1e-12)
    assert res.kpis["demand_cost"] == pytest.approx(20.0, rel=1e-12)
    assert res.kpis["tariff"] == "own TOU table"
    iv = res.intervals
    assert list(iv["tou_period"].iloc[[0, 32, 48]]) == ["valley", "peak", "flat"]


def test_own_table_with_ratios_and_monthly_flat_price_by_hand():
    # 31 March to 1 April (Tue, Wed): flat 0.40 in March, 0.50 in April; peak 1.5, valley 0.5.
    # 31 Mar: 20 x (8 x 0.2 + 4 x 0.6 + 12 x 0.4) = 176; 1 Apr: 20 x (8 x 0.25 + 4 x 0.75
    # + 12 x 0.5) = 220.
    flat = [0.4] * 3 + [0.5] * 9
    plant = kiln_plant({"periods": DAY, "ratios": {"peak": 1.5, "valley": 0.5},
                        "flat_price_per_kwh": flat})
    res = twin.simulate(plant, days=2, start="2026-03-31")
    assert res.kpis["energy_cost"] == pytest.approx(176.0 + 220.0, rel=1e-12)


def write_prices(path: Path, stamps, prices, header=("timestamp", "price_per_kwh")) -> Path:
    pd.DataFrame({header[0]: stamps, header[1]: prices}).to_csv(path, index=False)
    return path


def hourly_file(tmp_path: Path, name="prices.csv", **kw) -> Path:
    # 2 March 2026 00:00 .. 3 March 00:00 local: price of hour h is 100 (h + 1) CNY/MWh
    stamps = pd.date_range("2026-03-02 00:00", periods=24, freq="h").strftime("%Y-%m-%d %H:%M")
    return write_prices(tmp_path / name, stamps, [100.0 * (h + 1) for h in range(24)], **kw)


def test_price_file_cost_in_a_run_by_hand(tmp_path: Path):
    # 20 kWh each hour at 0.1 (h + 1) CNY/kWh: 20 x 0.1 x (1 + ... + 24) = 600 CNY, plus the
    # adder 0.05 x 480 kWh = 24 CNY.
    hourly_file(tmp_path, header=("time", "cny_per_mwh"))
    plant = kiln_plant({"price_file": {"file": str(tmp_path / "prices.csv"),
                                       "timestamp_column": "time", "price_column": "cny_per_mwh",
                                       "unit": "per_mwh"},
                        "non_floating_adder_per_kwh": 0.05})
    res = twin.simulate(plant, days=1, start="2026-03-02")
    assert res.kpis["energy_cost"] == pytest.approx(624.0, rel=1e-12)
    # each 15-min interval carries its hour's price
    np.testing.assert_allclose(res.intervals["price_per_kwh"].to_numpy()[:8],
                               [0.15] * 4 + [0.25] * 4, rtol=1e-12)


def test_price_file_in_utc_prices_the_same_hours(tmp_path: Path):
    # the same prices with UTC offsets (00:00 +08:00 = 16:00Z the day before) cost the same
    stamps = pd.date_range("2026-03-01 16:00", periods=24, freq="h", tz="UTC")
    write_prices(tmp_path / "utc.csv", stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 [0.1 * (h + 1) for h in range(24)])
    res = twin.simulate(kiln_plant({"price_file": str(tmp_path / "utc.csv")}), days=1,
                        start="2026-03-02")
    assert res.kpis["energy_cost"] == pytest.approx(600.0, rel=1e-12)
    # naive times of another zone, said so by `timezone:` (UTC: 8 h behind the site)
    write_prices(tmp_path / "naive_utc.csv", stamps.strftime("%Y-%m-%d %H:%M"),
                 [0.1 * (h + 1) for h in range(24)])
    res = twin.simulate(kiln_plant({"price_file": {"file": str(tmp_path / "naive_utc.csv"),
                                                   "timezone": "UTC"}}),
                        days=1, start="2026-03-02")
    assert res.kpis["energy_cost"] == pytest.approx(600.0, rel=1e-12)


def test_interval_price_is_the_time_weighted_mean():
    zone = "Asia/Shanghai"
    start = pd.Timestamp("2026-03-02", tz=zone)
    # 5-min prices 1..6 -> the 15-min intervals carry (1+2+3)/3 = 2 and (4+5+6)/3 = 5
    ns = pd.DatetimeIndex(start + pd.to_timedelta(np.arange(6) * 5, unit="min")).as_unit("ns")
    series = PriceSeries(ns.asi8, np.arange(1.0, 7.0), int(ns.asi8[-1]) + 300 * 10**9, "f")
    idx = pd.date_range(start, periods=2, freq="15min")
    np.testing.assert_allclose(interval_prices(series, idx, 900), [2.0, 5.0], rtol=1e-12)
    # a 15-min interval straddling two 30-min prices 10 and 40 (starting 00:15): (10 + 40) / 2
    ns = pd.DatetimeIndex([start, start + pd.Timedelta("30min")]).as_unit("ns")
    series = PriceSeries(ns.asi8, np.array([10.0, 40.0]), int(ns.asi8[-1]) + 1800 * 10**9, "f")
    idx = pd.DatetimeIndex([start + pd.Timedelta("22.5min")])
    np.testing.assert_allclose(interval_prices(series, idx, 900), [25.0], rtol=1e-12)
    with pytest.raises(ValueError, match="the run needs"):
        interval_prices(series, pd.date_range(start, periods=5, freq="15min"), 900)


# ---------------------------------------------------------------------------------------------
# bad price files: one line naming the file and the line


@pytest.mark.parametrize("edit, expected", [
    (lambda f: f.replace("2026-03-02 03:00", "2026-03-02 3 o'clock"),
     "prices.csv: line 5: column 'timestamp' is not a time"),
    (lambda f: f.replace("2026-03-02 03:00,0.4", "2026-03-02 03:00,n/a"),
     "prices.csv: line 5: column 'price_per_kwh' is not a number"),
    (lambda f: f.replace("2026-03-02 03:00", "2026-03-02 02:00"),
     "prices.csv: line 5: a second price for the time of line 4"),
    (lambda f: f.replace("2026-03-02 03:00,0.4\n", ""),
     "prices.csv: line 5: 2 h after the previous price, the file's step is 1 h"),
    (lambda f: f.replace("timestamp,", "time,"),
     "prices.csv: column 'timestamp': no such column; did you mean 'time'?"),
])
def test_price_file_errors_name_the_line(tmp_path: Path, edit, expected):
    path = hourly_file(tmp_path)
    text = path.read_text().replace("2026-03-02 03:00,400.0", "2026-03-02 03:00,0.4")
    path.write_text(edit(text))
    with pytest.raises(ValueError) as info:
        read_price_file(path, "Asia/Shanghai")
    assert str(info.value).startswith(expected), str(info.value)
    assert "\n" not in str(info.value)


def test_price_file_not_covering_the_run_is_caught_by_validate(tmp_path: Path, capsys):
    hourly_file(tmp_path)
    plant = tmp_path / "plant.yaml"
    import yaml

    data = {"site": {"name": "p", "timezone": "Asia/Shanghai", "latitude": 31, "longitude": 121},
            "simulation": {"start": "2026-03-02", "days": 2},
            "products": [{"id": "part", "route": ["s"]}], "equipment_types": [KILN],
            "lines": [{"id": "l", "stations": [station("s", const(60), equipment="kiln")]}],
            "sources": [{"id": "a", "kind": "arrivals", "interarrival": YEARLY,
                         "product_mix": {"part": 1}}],
            "energy": {"grid": {"tariff": {"price_file": "prices.csv"}}}}
    plant.write_text(yaml.safe_dump(data))
    assert main(["validate", str(plant)]) == 2
    err = capsys.readouterr().err
    assert ("energy.grid.tariff.price_file: prices.csv: prices from 2026-03-02 00:00+0800 to "
            "2026-03-03 00:00+0800; the run needs 2026-03-02 00:00+0800 to 2026-03-04 00:00+0800"
            ) in err
    assert "Traceback" not in err
    data["simulation"]["days"] = 1  # relative to the plant file's folder
    plant.write_text(yaml.safe_dump(data))
    assert main(["validate", str(plant)]) == 0


def test_price_file_that_is_a_folder_or_device(tmp_path: Path):
    (tmp_path / "prices.csv").mkdir()
    with pytest.raises(ValueError, match=r"^prices.csv: is a folder; expected a price file"):
        read_price_file(tmp_path / "prices.csv", "Asia/Shanghai")
    with pytest.raises(ValueError, match="not a regular file"):
        read_price_file("/dev/zero", "Asia/Shanghai")
    plant = kiln_plant({"price_file": str(tmp_path / "prices.csv")})
    with pytest.raises(SupplyError, match=r"^energy.grid.tariff.price_file: prices.csv: is a"):
        twin.simulate(plant, days=1)


# ---------------------------------------------------------------------------------------------
# bad tariffs in the plant file: path, line, what is expected

PLANT = """\
site: {name: p, timezone: Asia/Shanghai, latitude: 31, longitude: 121}
simulation: {start: 2026-03-02, days: 1}
products: [{id: part, route: [s]}]
equipment_types: [{id: kiln, power_kw: {electricity: {idle: 20}}}]
lines: [{id: l, stations: [{id: s, equipment: kiln,
                            process_time: {dist: constant, value: 60}}]}]
sources: [{id: a, kind: arrivals, interarrival: {dist: constant, value: 365, unit: h},
           product_mix: {part: 1}}]
energy:
  grid:
    tariff:
      periods:
        - {hours: "00:00-08:00", period: valley}
        - {hours: "08:00-12:00", period: peak}
        - {hours: "12:00-24:00", period: flat}
      ratios: {peak: 1.7, valley: 0.4}
      flat_price_per_kwh: 0.5
"""


def problems(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "plant.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_plant(path)
    return info.value


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_good_own_tariff_plant_loads(tmp_path: Path):
    (tmp_path / "plant.yaml").write_text(PLANT)
    assert load_plant(tmp_path / "plant.yaml").energy.grid.tariff.periods[1].period == "peak"


@pytest.mark.parametrize("old, new, path, needle, message", [
    ('"08:00-12:00", period: peak', '"08:00-13:00", period: peak',
     "energy.grid.tariff.periods[2]", '"12:00-24:00"',
     "overlaps periods[1] in month 1 at 12:00 on workdays"),
    ('"12:00-24:00"', '"13:00-24:00"', "energy.grid.tariff.periods[0]", '"00:00-08:00"',
     "workdays of month 1 have no period for 12:00-13:00; expected the rows of every day type "
     "to cover 00:00-24:00"),
    ('"08:00-12:00"', '"8h-12h"', "energy.grid.tariff.periods[1].hours", '"8h-12h"',
     "expected 'HH:MM-HH:MM'"),
    ("period: peak}", "period: peek}", "energy.grid.tariff.periods[1].period", "peek",
     "expected one of"),
    ("{hours: \"08:00", "{months: 13-14, hours: \"08:00", "energy.grid.tariff.periods[1].months",
     "13-14", "expected a month 1-12"),
    ("ratios: {peak: 1.7, valley: 0.4}", "ratios: {peak: 1.7}", "energy.grid.tariff.ratios",
     "ratios:", "no ratio for the period(s) 'valley' that the table uses"),
    ("      flat_price_per_kwh: 0.5\n", "", "energy.grid.tariff", "tariff:",
     "flat_price_per_kwh is required with ratios"),
    ("      periods:\n", "      preset: flat\n      periods:\n", "energy.grid.tariff", "tariff:",
     "give exactly one source of energy prices: 'preset' (a packaged notice), 'periods' (your "
     "own TOU table) or 'price_file'; got preset and periods"),
    ("ratios: {peak: 1.7, valley: 0.4}", "ratios: {peak: 1.7, valley: 0.4}\n      "
     "prices_per_kwh: {peak: 1.1, flat: 0.6, valley: 0.3}", "energy.grid.tariff", "tariff:",
     "price your periods with prices_per_kwh or with ratios to a flat_price_per_kwh, not both"),
    ("ratios: {peak: 1.7, valley: 0.4}", "prices_per_kwh: {peak: 1.1, flat: 0.6, valley: [0.3]}",
     "energy.grid.tariff.prices_per_kwh.valley", "prices_per_kwh",
     "expected one price, or 12 monthly prices"),
])
def test_own_tariff_mistakes(tmp_path: Path, old, new, path, needle, message):
    assert old in PLANT
    text = PLANT.replace(old, new, 1)
    if "prices_per_kwh" in new and "ratios" not in new:
        text = text.replace("      flat_price_per_kwh: 0.5\n", "")
    err = problems(tmp_path, text)
    issue = next((i for i in err.issues if i.path == path), None)
    assert issue is not None, str(err)
    assert message in issue.message, issue.message
    assert issue.line == line_of(text, needle), str(err)


def test_price_file_with_tou_arbitrage_is_refused(tmp_path: Path):
    text = PLANT.split("      periods:")[0] + (
        "      price_file: prices.csv\n  dispatch: {policy: tou_arbitrage}\n")
    err = problems(tmp_path, text)
    (issue,) = err.issues
    assert issue.path == "energy.dispatch.policy"
    assert "a price_file has none" in issue.message
    assert issue.line == line_of(text, "policy: tou_arbitrage")


def test_schema_describes_the_own_tariff():
    out = subprocess.run([str(TWIN), "schema"], capture_output=True, text=True, check=True)
    assert '"TouRow"' in out.stdout and '"PriceFile"' in out.stdout
    assert "prices_per_kwh" in out.stdout and "per_mwh" in out.stdout


def test_worked_examples_validate():
    # the study's spot-market scenario reads the price file and checks it covers the 28 days
    root = Path(__file__).resolve().parent.parent
    assert main(["validate", str(root / "plant_configs" / "own_tariff_plant.yaml")]) == 0
    assert main(["validate", str(root / "simulations" / "own_tariff_study.yaml")]) == 0


def test_price_file_naive_times_through_a_fall_back_hour(tmp_path: Path):
    # Denver, 1 Nov 2026: 01:00-02:00 happens twice; a file of naive local hours lists 01:00
    # twice in row order, 25 rows for the day, and the prices are one hour apart throughout.
    wall = ["2026-11-01 00:00", "2026-11-01 01:00", "2026-11-01 01:00"] + [
        f"2026-11-01 {h:02d}:00" for h in range(2, 24)]
    path = write_prices(tmp_path / "denver.csv", wall, [float(k) for k in range(25)])
    series = read_price_file(path, "America/Denver")
    assert len(series.start_ns) == 25
    assert (np.diff(series.start_ns) == 3600 * 10**9).all()
    assert pd.Timestamp(series.end_ns, tz="UTC") == pd.Timestamp("2026-11-02 00:00",
                                                                  tz="America/Denver")
    # the second 01:00 (standard time) is the hour after the first
    idx = pd.DatetimeIndex([pd.Timestamp("2026-11-01 01:00").tz_localize(
        "America/Denver", ambiguous=False)])
    np.testing.assert_allclose(interval_prices(series, idx, 3600), [2.0])


def test_the_plant_calendar_prices_an_own_table_when_the_tariff_lists_no_days():
    """One calendar for production and the tariff: with no holidays in the tariff, the plant
    calendar's holiday (1 May 2026, a Friday) is priced as a rest day with the holiday overlay
    (09:00 flat, 11:00 deep valley); without it the Friday is a workday (09:00 peak, 11:00
    flat), as the example's table reads."""
    import datetime as dt

    from twin.config.loader import plant_from_data, read_yaml

    path = Path(__file__).resolve().parent.parent / "plant_configs" / "own_tariff_plant.yaml"
    data, _ = read_yaml(path)
    tf = data["energy"]["grid"]["tariff"]
    tf.pop("holidays", None)
    tf.pop("workdays", None)
    got = {}
    for hol in ([dt.date(2026, 5, 1)], []):
        data["calendar"]["holidays"] = hol
        res = twin.simulate(plant_from_data(data, str(path)), days=1, start="2026-05-01")
        iv = res.intervals
        got[bool(hol)] = [iv["tou_period"][iv.index.hour == h].unique().tolist() for h in (9, 11)]
    assert got == {True: [["flat"], ["deep_valley"]], False: [["peak"], ["flat"]]}
