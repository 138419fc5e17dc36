"""Meter files in (twin.measured): every value and count below is worked out by hand.

Small meter files are written to ``tmp_path``; each test states the readings, what a careful
engineer would make of them, and checks the clean energy frame and the data-quality account.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from twin.config.errors import ConfigError
from twin.measured import (
    MeasuredData,
    MeterDataError,
    MeterSpec,
    check_targets,
    load_meters,
    meter_spec,
)

SH = "Asia/Shanghai"
BERLIN = "Europe/Berlin"


def write(tmp_path: Path, text: str, name: str = "meter.csv") -> str:
    (tmp_path / name).write_text(text.strip() + "\n", encoding="utf-8")
    return name


def spec(file: str, columns: dict | None = None, **kw) -> MeterSpec:
    return MeterSpec.model_validate(
        {"file": file, "columns": columns or {"m": {"group": "press"}}, **kw})


def rows(start: str, n: int, step_min: int, values, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """CSV text: header ``timestamp,m`` and ``n`` readings every ``step_min`` from ``start``."""
    t = pd.date_range(start, periods=n, freq=f"{step_min}min")
    vals = list(values) if not np.isscalar(values) else [values] * n
    body = "\n".join(f"{ts.strftime(fmt)},{v}" for ts, v in zip(t, vals, strict=True))
    return "timestamp,m\n" + body


def load(tmp_path: Path, s: MeterSpec, tz: str = SH, interval_s: float = 900,
         start=None, end=None) -> MeasuredData:
    return load_meters(s, tmp_path, tz, interval_s, start, end)


def col(data: MeasuredData, name: str = "m") -> list[float | None]:
    """The meter's energy as a list, ``None`` for NaN (so lists compare exactly)."""
    return [None if np.isnan(x) else round(float(x), 9) for x in data.energy[name]]


def counts(data: MeasuredData, name: str = "m") -> dict[str, int]:
    """The non-zero counts of one meter."""
    return {k: v for k, v in data.quality[name].items() if v}


# ---------------------------------------------------------------------------------------------
# units and steps


def test_kw_readings_become_energy_per_interval(tmp_path):
    # 4 readings of 40 kW, 15 min each: 40 kW x 0.25 h = 10 kWh per reading, 40 kWh in the hour
    f = write(tmp_path, rows("2026-03-02 00:00", 4, 15, 40))
    data = load(tmp_path, spec(f, unit="kW"))
    assert col(data) == [10.0] * 4
    assert data.step_s == 900
    assert data.hourly()["m"].tolist() == [40.0]
    assert counts(data) == {}
    assert data.energy.index[0] == pd.Timestamp("2026-03-02 00:00", tz=SH)


def test_one_minute_readings_are_summed_to_the_settlement_interval(tmp_path):
    # 30 one-minute readings 1, 2, ..., 30 kWh: 1+...+15 = 120, 16+...+30 = 345
    f = write(tmp_path, rows("2026-03-02 08:00", 30, 1, range(1, 31)))
    data = load(tmp_path, spec(f, quality={"spike_z": None, "flatline_h": None}))
    assert data.step_s == 900
    assert col(data) == [120.0, 345.0]
    assert list(data.energy.index.strftime("%H:%M")) == ["08:00", "08:15"]


def test_a_meter_coarser_than_the_settlement_interval_keeps_its_own_step(tmp_path):
    f = write(tmp_path, rows("2026-03-02 00:00", 3, 60, [5, 6, 7]))
    data = load(tmp_path, spec(f))
    assert data.step_s == 3600
    assert col(data) == [5.0, 6.0, 7.0]


def test_multiplier_scales_every_reading(tmp_path):
    # a CT ratio of 40: 0.25 kWh on the secondary side is 10 kWh
    f = write(tmp_path, rows("2026-03-02 00:00", 4, 15, 0.25))
    data = load(tmp_path, spec(f, columns={"m": {"group": "press", "multiplier": 40}}))
    assert col(data) == [10.0] * 4


def test_register_differences_rollover_and_reset(tmp_path):
    # register at 15-min instants; its maximum is inferred as 100000 (next power of ten above
    # 99999.9). 00:00 -> 00:15: 1.0; -> 00:30: 0.9; 99999.9 -> 0.3: rollover, 0.4;
    # -> 01:00: 1.0; 1.3 -> 0.1: a reset (not near the maximum): unknown, left out;
    # 0.1 -> 0.6: 0.5
    f = write(tmp_path, rows("2026-03-02 00:00", 7, 15,
                             [99998.0, 99999.0, 99999.9, 0.3, 1.3, 0.1, 0.6]))
    data = load(tmp_path, spec(f, unit="kWh register"))
    assert col(data) == [1.0, 0.9, 0.4, 1.0, None, 0.5]
    assert counts(data) == {"register_reset": 1}
    left = data.excluded.iloc[0]
    assert (left.reason, left.timestamp, left.value) == (
        "register_reset", pd.Timestamp("2026-03-02 01:00", tz=SH), 0.1)


def test_register_maximum_given(tmp_path):
    # a 6-digit register with one decimal (max 99999.9 + 0.1): 99999.5 -> 0.5 is 1.0 kWh
    f = write(tmp_path, rows("2026-03-02 00:00", 3, 15, [99999.0, 99999.5, 0.5]))
    data = load(tmp_path, spec(f, unit="kWh_register", register_max=100000.0))
    assert col(data) == [0.5, 1.0]


def test_unit_per_column_overrides_the_files(tmp_path):
    f = write(tmp_path, "timestamp,a,b\n2026-03-02 00:00,40,10\n2026-03-02 00:15,40,10\n")
    s = spec(f, columns={"a": {"group": "press", "unit": "kW"}, "b": {"group": "oven"}})
    data = load(tmp_path, s)
    assert col(data, "a") == [10.0, 10.0] and col(data, "b") == [10.0, 10.0]


# ---------------------------------------------------------------------------------------------
# time: zones, offsets, labels, daylight saving


def test_naive_local_time_in_shanghai(tmp_path):
    f = write(tmp_path, rows("2026-03-02 00:00", 2, 15, [1, 2]))
    data = load(tmp_path, spec(f))
    assert data.energy.index[0] == pd.Timestamp("2026-03-01 16:00", tz="UTC")
    assert str(data.energy.index.tz) == SH


def test_utc_and_offset_timestamps_are_converted_to_the_site_zone(tmp_path):
    local = write(tmp_path, rows("2026-03-02 00:00", 3, 15, [1, 2, 3]), "local.csv")
    utc = write(tmp_path, rows("2026-03-01 16:00", 3, 15, [1, 2, 3]), "utc.csv")
    offset = write(tmp_path, "timestamp,m\n2026-03-02T00:00:00+08:00,1\n"
                   "2026-03-01T16:15:00Z,2\n2026-03-01T17:30:00+01:00,3\n", "offset.csv")
    a = load(tmp_path, spec(local))
    b = load(tmp_path, spec(utc, timezone="UTC"))
    c = load(tmp_path, spec(offset))
    pd.testing.assert_frame_equal(a.energy, b.energy)
    pd.testing.assert_frame_equal(a.energy, c.energy)
    assert col(a) == [1.0, 2.0, 3.0]


def test_end_labelled_reading_covers_the_interval_before(tmp_path):
    # an end-labelled 15-min reading at 00:15 covers 00:00-00:15
    start = write(tmp_path, rows("2026-03-02 00:00", 3, 15, [1, 2, 3]), "start.csv")
    end = write(tmp_path, rows("2026-03-02 00:15", 3, 15, [1, 2, 3]), "end.csv")
    a = load(tmp_path, spec(start, label="start"))
    b = load(tmp_path, spec(end, label="end"))
    pd.testing.assert_frame_equal(a.energy, b.energy)
    assert a.energy.index[0] == pd.Timestamp("2026-03-02 00:00", tz=SH)


def _fall_back_rows() -> str:
    # Berlin, 2026-10-25: clocks go from 03:00 CEST back to 02:00 CET. Naive local readings
    # 01:00 ... 01:45, 02:00 ... 02:45 (summer), 02:00 ... 02:45 (winter), 03:00 ... 03:45.
    walls = [f"01:{m:02d}" for m in (0, 15, 30, 45)] + [f"02:{m:02d}" for m in (0, 15, 30, 45)] \
        * 2 + [f"03:{m:02d}" for m in (0, 15, 30, 45)]
    return "timestamp,m\n" + "\n".join(f"2026-10-25 {w},{i + 1}" for i, w in enumerate(walls))


def test_fall_back_hour_is_resolved_by_row_order(tmp_path):
    f = write(tmp_path, _fall_back_rows())
    data = load(tmp_path, spec(f), tz=BERLIN)
    assert col(data) == [float(i) for i in range(1, 17)]
    utc = data.energy.index.tz_convert("UTC")
    # 16 readings, 15 min apart in absolute time: 23:00 UTC (01:00 CEST) ... 02:45 UTC
    assert utc[0] == pd.Timestamp("2026-10-24 23:00", tz="UTC")
    assert (np.diff(utc.asi8) == 900 * 10**9).all()
    assert data.energy.index[4].utcoffset() == dt.timedelta(hours=2)
    assert data.energy.index[8].utcoffset() == dt.timedelta(hours=1)
    hourly = data.hourly()["m"].tolist()
    assert hourly == [1 + 2 + 3 + 4, 5 + 6 + 7 + 8, 9 + 10 + 11 + 12, 13 + 14 + 15 + 16]
    assert counts(data) == {}


def test_fall_back_hour_seen_once_cannot_be_placed(tmp_path):
    # only one pass of 02:00-02:45: summer or winter time cannot be told -> 4 dst_ambiguous;
    # the 8 quarter hours of the two 02:00 hours then have no reading (missing)
    walls = [f"01:{m:02d}" for m in (0, 15, 30, 45)] + [f"02:{m:02d}" for m in (0, 15, 30, 45)] \
        + [f"03:{m:02d}" for m in (0, 15, 30, 45)]
    f = write(tmp_path, "timestamp,m\n" + "\n".join(f"2026-10-25 {w},1" for w in walls))
    data = load(tmp_path, spec(f, quality={"flatline_h": None}), tz=BERLIN)
    assert counts(data) == {"dst_ambiguous": 4, "missing": 8}
    assert len(data.energy) == 16 and data.energy["m"].sum() == 8


def test_spring_forward_times_that_do_not_exist_are_counted(tmp_path):
    # Berlin, 2026-03-29: 02:00 CET -> 03:00 CEST; a meter writing 02:00 ... 02:45 names times
    # that do not exist. The rest is contiguous: 01:45 CET + 15 min = 03:00 CEST.
    walls = [f"{h:02d}:{m:02d}" for h in (1, 2, 3) for m in (0, 15, 30, 45)]
    f = write(tmp_path, "timestamp,m\n" + "\n".join(
        f"2026-03-29 {w},{i + 1}" for i, w in enumerate(walls)))
    data = load(tmp_path, spec(f), tz=BERLIN)
    assert counts(data) == {"dst_nonexistent": 4}
    assert col(data) == [1.0, 2.0, 3.0, 4.0, 9.0, 10.0, 11.0, 12.0]
    assert data.hourly()["m"].tolist() == [10.0, 42.0]


def test_timestamps_a_few_seconds_late_are_snapped_and_far_ones_left_out(tmp_path):
    f = write(tmp_path, "timestamp,m\n2026-03-02 00:00:20,1\n2026-03-02 00:15:05,2\n"
              "2026-03-02 00:37:00,9\n2026-03-02 00:45:00,4\n")
    data = load(tmp_path, spec(f))
    assert col(data) == [1.0, 2.0, None, 4.0]
    assert counts(data) == {"off_grid": 1, "missing": 1}


# ---------------------------------------------------------------------------------------------
# formats: long vs wide, CSV vs Parquet vs XLSX


def test_long_and_wide_files_give_the_same_frame(tmp_path):
    wide = write(tmp_path, "timestamp,a,b\n2026-03-02 00:00,1,10\n2026-03-02 00:15,2,20\n",
                 "wide.csv")
    long = write(tmp_path, "time,meter,reading\n2026-03-02 00:00,a,1\n2026-03-02 00:00,b,10\n"
                 "2026-03-02 00:15,b,20\n2026-03-02 00:15,a,2\n2026-03-02 00:15,other,99\n",
                 "long.csv")
    cols = {"a": {"group": "press"}, "b": {"site": "consumption"}}
    a = load(tmp_path, spec(wide, cols))
    b = load(tmp_path, spec(long, cols, format="long", timestamp="time", meter_id="meter",
                            value="reading"))
    pd.testing.assert_frame_equal(a.energy, b.energy)
    assert col(a, "b") == [10.0, 20.0]


def test_csv_parquet_and_xlsx_give_the_same_frame(tmp_path):
    import openpyxl

    t = pd.date_range("2026-03-02 00:00", periods=4, freq="15min")
    vals = [1.5, 2.5, 3.5, 4.5]
    write(tmp_path, "timestamp;m\n" + "\n".join(
        f"{x:%Y-%m-%d %H:%M};{str(v).replace('.', ',')}" for x, v in zip(t, vals, strict=True)),
        "m.csv")
    pd.DataFrame({"timestamp": t, "m": vals}).to_parquet(tmp_path / "m.parquet")
    book = openpyxl.Workbook()
    book.active.title = "notes"
    ws = book.create_sheet("data")
    ws.append(["timestamp", "m"])
    for x, v in zip(t, vals, strict=True):
        ws.append([x.to_pydatetime(), v])  # Excel datetimes
    book.save(tmp_path / "m.xlsx")
    a = load(tmp_path, spec("m.csv", separator=";", decimal=","))
    b = load(tmp_path, spec("m.parquet"))
    c = load(tmp_path, spec("m.xlsx", sheet="data"))
    d = load(tmp_path, spec("m.xlsx", sheet="1"))
    for other in (b, c, d):
        pd.testing.assert_frame_equal(a.energy, other.energy)
    assert col(a) == vals


def test_parquet_with_tz_aware_timestamps(tmp_path):
    t = pd.date_range("2026-03-01 16:00", periods=2, freq="15min", tz="UTC")
    pd.DataFrame({"timestamp": t, "m": [1.0, 2.0]}).to_parquet(tmp_path / "m.parquet")
    data = load(tmp_path, spec("m.parquet"))
    assert data.energy.index[0] == pd.Timestamp("2026-03-02 00:00", tz=SH)


# ---------------------------------------------------------------------------------------------
# the data-quality pass: each class of bad data, its count and what survives


def test_missing_readings_are_counted_per_interval(tmp_path):
    f = write(tmp_path, "timestamp,m\n2026-03-02 00:00,1\n2026-03-02 00:15,2\n"
              "2026-03-02 01:00,5\n2026-03-02 01:15,6\n")
    data = load(tmp_path, spec(f))
    assert col(data) == [1.0, 2.0, None, None, 5.0, 6.0]
    assert counts(data) == {"missing": 2}


def test_missing_over_a_requested_period_includes_its_edges(tmp_path):
    f = write(tmp_path, rows("2026-03-02 01:00", 4, 15, [1, 2, 3, 4]))
    data = load(tmp_path, spec(f), start=pd.Timestamp("2026-03-02 00:00"),
                end=pd.Timestamp("2026-03-02 03:00"))
    assert len(data.energy) == 12
    assert counts(data) == {"missing": 8}
    assert data.span == (pd.Timestamp("2026-03-02 01:00", tz=SH),
                         pd.Timestamp("2026-03-02 02:00", tz=SH))


def test_duplicates_identical_keep_one_conflicting_leave_both_out(tmp_path):
    f = write(tmp_path, "timestamp,m\n2026-03-02 00:00,1\n2026-03-02 00:00,1\n"
              "2026-03-02 00:15,2\n2026-03-02 00:15,7\n2026-03-02 00:30,3\n")
    data = load(tmp_path, spec(f))
    assert col(data) == [1.0, None, 3.0]
    assert counts(data) == {"duplicate": 3}
    assert sorted(data.excluded["value"]) == [1.0, 2.0, 7.0]


def test_rows_out_of_order_are_sorted_and_counted(tmp_path):
    f = write(tmp_path, "timestamp,m\n2026-03-02 00:15,2\n2026-03-02 00:00,1\n"
              "2026-03-02 00:30,3\n2026-03-02 00:45,4\n")
    data = load(tmp_path, spec(f))
    assert col(data) == [1.0, 2.0, 3.0, 4.0]
    assert counts(data) == {"out_of_order": 1}
    assert data.excluded.empty  # sorted and kept, not left out


def test_negative_readings_are_left_out(tmp_path):
    f = write(tmp_path, rows("2026-03-02 00:00", 3, 15, [1, -2, 3]))
    data = load(tmp_path, spec(f))
    assert col(data) == [1.0, None, 3.0]
    assert counts(data) == {"negative": 1}


def _shift_profile(days: int = 3, seed: int = 1) -> np.ndarray:
    """15-min kWh of a two-shift plant: 5 kWh base overnight, 60 kWh in production 06-22 h, a
    warm-up quarter of 80 kWh at 06:00, 2 % noise."""
    rng = np.random.default_rng(seed)
    q = np.arange(96 * days) % 96
    e = np.where((q >= 24) & (q < 88), 60.0, 5.0)
    e[q == 24] = 80.0
    return np.round(e * (1 + 0.02 * rng.standard_normal(len(e))), 3)


def test_a_spike_is_left_out_but_production_starts_and_stops_are_not(tmp_path):
    e = _shift_profile()
    clean = write(tmp_path, rows("2026-03-02 00:00", len(e), 15, e), "clean.csv")
    data = load(tmp_path, spec(clean))
    assert counts(data) == {}
    e[100] = 6000.0  # a glitch 100 times the production level
    e[10] = 50.0  # 10 x the overnight base
    bad = write(tmp_path, rows("2026-03-02 00:00", len(e), 15, e), "bad.csv")
    data = load(tmp_path, spec(bad))
    assert counts(data) == {"spike": 2}
    assert np.isnan(data.energy["m"].iloc[[10, 100]]).all()
    assert sorted(data.excluded["value"]) == [50.0, 6000.0]


def test_spike_thresholds_are_configurable(tmp_path):
    e = _shift_profile()
    e[100] *= 1.3  # 30 % above production with 2 % noise (sigma 1.2 kWh): z ~ 15
    e[150] *= 0.5  # half of production: a dip is never a spike by default
    f = write(tmp_path, rows("2026-03-02 00:00", len(e), 15, e))
    assert counts(load(tmp_path, spec(f))) == {}
    assert counts(load(tmp_path, spec(f, quality={"spike_min_pct": 20}))) == {"spike": 2}
    assert counts(load(tmp_path, spec(f, quality={"spike_min_pct": 20, "spike_z": 1000}))) == {}
    assert counts(load(tmp_path, spec(f, quality={"spike_min_pct": 20, "spike_z": None}))) == {}


def test_flatline_of_four_hours_is_left_out_zeros_are_not(tmp_path):
    # 16 identical non-zero quarter hours (4 h) are a stuck meter; 15 are not; 20 zeros are a
    # shutdown
    vals = [1.0, 2.0] + [7.7] * 16 + [3.0] + [8.8] * 15 + [4.0] + [0] * 20 + [5.0]
    f = write(tmp_path, rows("2026-03-02 00:00", len(vals), 15, vals))
    data = load(tmp_path, spec(f, quality={"spike_z": None}))
    assert counts(data) == {"flatline": 16}
    assert col(data)[2:18] == [None] * 16
    assert col(data)[19:34] == [8.8] * 15
    data = load(tmp_path, spec(f, quality={"spike_z": None, "flatline_h": 3.75}))
    assert counts(data) == {"flatline": 31}


def test_readings_outside_the_period_are_counted(tmp_path):
    f = write(tmp_path, rows("2026-03-02 00:00", 8, 15, range(1, 9)))
    data = load(tmp_path, spec(f), start=pd.Timestamp("2026-03-02 00:30"),
                end=pd.Timestamp("2026-03-02 01:30", tz=SH))
    assert col(data) == [3.0, 4.0, 5.0, 6.0]
    assert counts(data) == {"outside_period": 4}


def test_unparseable_values_and_timestamps_are_counted(tmp_path):
    f = write(tmp_path, "timestamp,a,b\n2026-03-02 00:00,1,1\n2026-03-02 00:15,n/a,2\n"
              "yesterday,3,3\n2026-03-02 00:45,4,\n2026-03-02 01:00,5,5\n")
    data = load(tmp_path, spec(f, {"a": {"group": "press"}, "b": {"group": "oven"}}))
    assert col(data, "a") == [1.0, None, None, 4.0, 5.0]
    assert col(data, "b") == [1.0, 2.0, None, None, 5.0]
    # a: 'n/a' and the row without a time; b: the row without a time, and 00:30 and 00:45
    # have no reading (the empty cell is no reading, not an unreadable one)
    assert counts(data, "a") == {"unparseable": 2, "missing": 1}
    assert counts(data, "b") == {"unparseable": 1, "missing": 2}
    bad = data.excluded[data.excluded.meter == "a"]
    assert sorted(bad["row"]) == ["line 3", "line 4"]


def test_an_interval_partly_covered_is_left_out_not_scaled_up(tmp_path):
    # 1-min readings of 1 kWh from 08:00 to 08:29, with 08:20 missing: 08:15-08:30 has 14 of
    # 15 readings -> left out (14 incomplete_interval, 1 missing), 08:00-08:15 = 15 kWh
    t = [x for x in pd.date_range("2026-03-02 08:00", periods=30, freq="1min")
         if x.minute != 20]
    f = write(tmp_path, "timestamp,m\n" + "\n".join(
        f"{x:%Y-%m-%d %H:%M},{1 + (x.minute % 2) / 10}" for x in t))
    data = load(tmp_path, spec(f, quality={"flatline_h": None}))
    assert col(data) == [round(8 * 1.0 + 7 * 1.1, 9), None]
    assert counts(data) == {"incomplete_interval": 14, "missing": 1}


def test_every_meter_has_a_quality_entry(tmp_path):
    f = write(tmp_path, "timestamp,a,b\n2026-03-02 00:00,1,1\n2026-03-02 00:15,2,2\n")
    data = load(tmp_path, spec(f, {"a": {"group": "press"}, "b": {"group": "oven"}}))
    assert set(data.quality) == {"a", "b"}
    assert all(v == 0 for q in data.quality.values() for v in q.values())
    assert data.targets["a"].group == ["press"] and data.targets["a"].carrier == "electricity"


def test_hourly_needs_every_quarter_hour(tmp_path):
    f = write(tmp_path, rows("2026-03-02 00:00", 7, 15, [1, 2, 3, 4, 5, 6, 7]))
    data = load(tmp_path, spec(f))
    hourly = data.hourly()["m"]
    assert hourly.iloc[0] == 10.0 and np.isnan(hourly.iloc[1])


# ---------------------------------------------------------------------------------------------
# errors: one line, file and column/row and value, never the file's contents


def _error(tmp_path: Path, s: MeterSpec, **kw) -> str:
    with pytest.raises(MeterDataError) as exc:
        load(tmp_path, s, **kw)
    msg = str(exc.value)
    assert "\n" not in msg and "Traceback" not in msg
    assert msg.startswith(s.file + ":")
    return msg


def test_error_missing_file(tmp_path):
    assert "file not found" in _error(tmp_path, spec("nope.csv"))


def test_error_unknown_column_with_did_you_mean(tmp_path):
    f = write(tmp_path, "timestamp,facility_kwh\n2026-03-02 00:00,SECRET-1\n")
    msg = _error(tmp_path, spec(f, {"facility_kWh": {"group": "press"}}))
    assert "column 'facility_kWh'" in msg and "did you mean 'facility_kwh'?" in msg
    assert "SECRET" not in msg


def test_error_missing_timestamp_column(tmp_path):
    f = write(tmp_path, "time,m\n2026-03-02 00:00,1\n")
    assert "column 'timestamp': no such column; did you mean 'time'?" in _error(tmp_path, spec(f))


def test_error_meter_id_absent_from_long_file(tmp_path):
    f = write(tmp_path, "timestamp,meter,kwh\n2026-03-02 00:00,press_1,1\n"
              "2026-03-02 00:15,press_1,1\n")
    s = spec(f, {"press_2": {"group": "press"}}, format="long", meter_id="meter", value="kwh")
    msg = _error(tmp_path, s)
    assert "column 'meter': meter id 'press_2' does not occur; did you mean 'press_1'?" in msg


def test_error_no_timestamp_readable_names_row_and_only_that_value(tmp_path):
    f = write(tmp_path, "timestamp,m\n25.10.2026 SECRET-A,1\n26.10.2026 SECRET-B,2\n")
    msg = _error(tmp_path, spec(f))
    assert "column 'timestamp', line 2" in msg and "SECRET-A" in msg
    assert "SECRET-B" not in msg and "timestamp_format" in msg


def test_timestamp_format_reads_european_dates(tmp_path):
    f = write(tmp_path, "timestamp,m\n02.03.2026 00:00,1\n02.03.2026 00:15,2\n")
    data = load(tmp_path, spec(f, timestamp_format="%d.%m.%Y %H:%M"))
    assert data.energy.index[1] == pd.Timestamp("2026-03-02 00:15", tz=SH)


def test_error_column_without_numbers(tmp_path):
    f = write(tmp_path, "timestamp,m\n2026-03-02 00:00,on\n2026-03-02 00:15,off\n")
    msg = _error(tmp_path, spec(f))
    assert "column 'm', line 2: no number could be read" in msg and "'on'" in msg
    assert "off" not in msg.split("(got")[1]


def test_error_ragged_csv_names_the_line(tmp_path):
    f = write(tmp_path, "timestamp,m\n2026-03-02 00:00,1\n2026-03-02 00:15,2,SECRET\n")
    msg = _error(tmp_path, spec(f))
    assert "line 3: 3 fields; expected 2" in msg and "SECRET" not in msg


@pytest.mark.parametrize("name,content,expected", [
    ("m.parquet", b"SECRET not parquet", "cannot be read as Parquet"),
    ("m.xlsx", b"SECRET not a workbook", "cannot be read as XLSX"),
    ("m.json", b"{}", "unknown file type"),
])
def test_error_unreadable_files(tmp_path, name, content, expected):
    (tmp_path / name).write_bytes(content)
    msg = _error(tmp_path, spec(name))
    assert expected in msg and "SECRET" not in msg


def test_error_not_a_regular_file_and_too_large(tmp_path):
    from twin.measured.reading import read_table

    (tmp_path / "dir.csv").mkdir()
    assert "not a regular file" in _error(tmp_path, spec("dir.csv"))
    f = write(tmp_path, rows("2026-03-02 00:00", 4, 15, 1))
    with pytest.raises(MeterDataError, match="expected at most"):
        read_table(tmp_path / f, f, ["timestamp", "m"], max_bytes=10)


def test_error_reading_step_not_dividing_an_hour(tmp_path):
    f = write(tmp_path, rows("2026-03-02 00:00", 5, 7, 1))
    msg = _error(tmp_path, spec(f))
    assert "column 'm': reading step" in msg and "(got '420 s')" in msg


def test_error_unknown_time_zone(tmp_path):
    f = write(tmp_path, rows("2026-03-02 00:00", 2, 15, 1))
    assert "unknown time zone" in _error(tmp_path, spec(f, timezone="Europe/Berlín"))


# ---------------------------------------------------------------------------------------------
# the meter block and its targets


def test_meter_block_accepts_the_issue_spelling_and_rejects_typos():
    s = MeterSpec.model_validate({"file": "a.csv", "unit": "kWh register",
                                  "columns": {"a": {"group": ["press", "oven"]}}})
    assert s.unit == "kWh_register" and s.target("a").group == ["press", "oven"]
    with pytest.raises(ValidationError):
        MeterSpec.model_validate({"file": "a.csv", "columns": {"a": {"group": "x"}}, "lable": 1})
    with pytest.raises(ValidationError):
        MeterSpec.model_validate({"file": "a.csv", "columns": {"a": {"group": "x", "site": "pv"}}})
    with pytest.raises(ValidationError):
        MeterSpec.model_validate({"file": "a.csv", "format": "long",
                                  "columns": {"a": {"group": "x"}}})


def test_bad_unit_is_one_config_line_with_value_and_hint():
    data = {"file": "a.csv", "unit": "kWhh", "columns": {"a": {"group": "x"}}}
    with pytest.raises(ConfigError) as exc:
        meter_spec(data, "calibration.yaml")
    lines = str(exc.value).splitlines()
    assert len(lines) == 2
    assert lines[1].strip() == ("calibration.yaml: meter.unit: expected one of 'kWh', 'kW', "
                                "'kWh_register'; did you mean 'kWh'? (got 'kWhh')")


def test_check_targets_unknown_group_and_carrier_with_did_you_mean():
    s = MeterSpec.model_validate({"file": "a.csv", "columns": {
        "a": {"group": ["machining", "presss"]},
        "b": {"site": "consumption", "carrier": "natural gas"},
        "c": {"site": "pv", "carrier": "heat"},
        "d": {"group": "machining"}}})
    issues = check_targets(s, ["machining", "press"], ["electricity", "natural_gas", "heat"])
    got = [(i.path, i.message, i.value) for i in issues]
    assert got == [
        ("meter.columns.a.group[1]", "unknown equipment group; did you mean 'press'?", "presss"),
        ("meter.columns.b.carrier", "unknown carrier; did you mean 'natural_gas'?",
         "natural gas"),
        ("meter.columns.c.carrier", "a 'pv' meter measures electricity; expected carrier "
         "'electricity' (or no carrier)", "heat"),
    ]


def test_modified_z_score_by_hand():
    from twin.measured.quality import spikes

    t = np.arange(9, dtype=np.int64) * 900
    # median 11; |deviations| 1 1 0 2 39 1 3 0 2 -> MAD 1; z = 39 / 1.4826 = 26.305
    _, z = spikes(t, np.array([10, 12, 11, 9, 50, 10, 8, 11, 13.0]), 900, 3.5, 9)
    assert z[4] == pytest.approx(39 / 1.4826, rel=1e-12)
    # MAD 0 (six of nine equal): scale 1.2533 x mean |deviation| = 1.2533 x 42/9; z = 6.840
    _, z = spikes(t, np.array([10, 10, 11, 10, 50, 10, 9, 10, 10.0]), 900, 3.5, 9)
    assert z[4] == pytest.approx(40 / (1.2533 * 42 / 9), rel=1e-12)


def test_fall_back_in_a_long_file_is_resolved_per_meter(tmp_path):
    # two meters' rows interleaved; each meter's own rows go back once at the repeated hour
    walls = ["01:30", "01:45", "02:00", "02:15", "02:30", "02:45", "02:00", "02:15", "02:30",
             "02:45", "03:00"]
    lines = [f"2026-10-25 {w},{m},{i + (100 if m == 'b' else 0)}"
             for i, w in enumerate(walls) for m in ("a", "b")]
    f = write(tmp_path, "timestamp,meter,kwh\n" + "\n".join(lines))
    s = spec(f, {"a": {"group": "press"}, "b": {"group": "oven"}}, format="long",
             meter_id="meter", value="kwh")
    data = load(tmp_path, s, tz=BERLIN)
    assert col(data, "a") == [float(i) for i in range(11)]
    assert col(data, "b") == [float(100 + i) for i in range(11)]
    assert counts(data, "a") == {} and counts(data, "b") == {}


def test_ten_minute_readings_with_quarter_hour_settlement_give_half_hours(tmp_path):
    # 10-min readings do not fit 15-min intervals: the common step is 30 min (3 readings each)
    f = write(tmp_path, rows("2026-03-02 00:00", 6, 10, [1, 2, 3, 4, 5, 6]))
    data = load(tmp_path, spec(f))
    assert data.step_s == 1800
    assert col(data) == [6.0, 15.0]


def test_end_labelled_five_minute_kw(tmp_path):
    # 5-min average power labelled by interval end: 00:05 ... 00:15 cover 00:00-00:15;
    # 12 kW x 5/60 h = 1 kWh each, 3 kWh in the quarter hour
    f = write(tmp_path, rows("2026-03-02 00:05", 3, 5, 12))
    data = load(tmp_path, spec(f, unit="kW", label="end"))
    assert col(data) == [3.0]
    assert data.energy.index[0] == pd.Timestamp("2026-03-02 00:00", tz=SH)


def test_gb18030_csv_with_chinese_headers(tmp_path):
    text = "时间,总表\n2026-03-02 00:00,1.5\n2026-03-02 00:15,2.5\n"
    (tmp_path / "ems.csv").write_bytes(text.encode("gb18030"))
    data = load(tmp_path, spec("ems.csv", {"总表": {"site": "consumption"}}, timestamp="时间"))
    assert col(data, "总表") == [1.5, 2.5]


def test_error_unknown_sheet(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Data"
    book.active.append(["timestamp", "m"])
    book.save(tmp_path / "m.xlsx")
    msg = _error(tmp_path, spec("m.xlsx", sheet="data"))
    assert "sheet 'data': no such sheet; expected one of 'Data'" in msg


def test_quality_block_typo_is_a_config_line():
    with pytest.raises(ConfigError) as exc:
        meter_spec({"file": "a.csv", "columns": {"a": {"group": "x"}},
                    "quality": {"spike": 5}}, "calibration.yaml")
    assert "meter.quality.spike: unknown key 'spike'; did you mean" in str(exc.value)
