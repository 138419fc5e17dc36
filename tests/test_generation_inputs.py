"""The plant's own generation inputs (issue 13, items 4-6): output profile files, weather files in
another zone than the site, PV ageing year by year and --days as local calendar days.

Truth is computed by hand in each test (energies of constant blocks, great-circle distances of
points whose distance is a fraction of the Earth's circumference, the calendar), or is the same
data written in two clocks that must give the same PV.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import const, make_plant, station

import twin
from twin import engine
from twin.config.errors import ConfigError, SupplyError
from twin.config.profiles import GenerationProfile, parse_zone
from twin.energy.profiles import energy_in_periods, read_profile
from twin.energy.synthetic_weather import synthetic_weather
from twin.energy.weather_site import EARTH_RADIUS_KM, great_circle_km
from twin.preflight import check_run_inputs

SHANGHAI = "Asia/Shanghai"


def _plant(energy: dict, **sections) -> twin.Plant:
    return make_plant([station("m", const(60))], energy=energy, **sections)


def _supply(plant: twin.Plant, days: float, start: str):
    model = engine.build(plant, days, dt.date.fromisoformat(start), 1)
    return model, model.ems.supply


# --- 4. generation profiles ----------------------------------------------------------------------


def _block_profile(path: Path, start: str, periods: int, freq: str, value_of) -> Path:
    t = pd.date_range(start, periods=periods, freq=freq)
    pd.DataFrame({"timestamp": t.strftime("%Y-%m-%d %H:%M"),
                  "value": [value_of(x) for x in t]}).to_csv(path, index=False)
    return path


def test_hourly_per_kwp_profile_scaled_to_the_array_by_hand(tmp_path):
    """0.5 kW/kWp from 08:00 to 16:00 (8 h) each day, 0 otherwise, on a 120 kWp array:
    60 kW in those hours -> 60 kWh per hour, 480 kWh per day, 960 kWh in 2 days."""
    f = _block_profile(tmp_path / "pv.csv", "2026-06-01", 72, "h",
                       lambda t: 0.5 if 8 <= t.hour < 16 else 0.0)
    plant = _plant({"pv": [{"id": "roof", "dc_kwp": 120,
                            "profile": {"file": str(f), "unit": "kw_per_kw"}}]})
    r = twin.simulate(plant, days=2, start="2026-06-01", seed=1)
    pv = r.hourly["pv_kwh"]
    assert pv.sum() == pytest.approx(960.0, rel=1e-12)
    want = [60.0 if 8 <= h < 16 else 0.0 for h in pv.index.hour]
    np.testing.assert_allclose(pv.to_numpy(), want, rtol=1e-12, atol=1e-12)
    assert r.kpis["pv_kwh"] == pytest.approx(960.0, rel=1e-12)


def test_15_min_absolute_kwh_profile_with_its_capacity_by_hand(tmp_path):
    """A 15-min export of a 200 kWp plant: 10 kWh per quarter hour from 10:00 to 12:00 (40 kW).
    Scaled to a 50 kWp array: x 50/200 -> 10 kW, i.e. 10 kWh in each of hours 10 and 11, 20 kWh
    a day; on 15-min settlement intervals 2.5 kWh each."""
    f = _block_profile(tmp_path / "meter.csv", "2026-06-01", 96 * 2, "15min",
                       lambda t: 10.0 if 10 <= t.hour < 12 else 0.0)
    plant = _plant({"pv": [{"id": "roof", "dc_kwp": 50, "profile": {
        "file": str(f), "unit": "kwh", "capacity_kw": 200}}]})
    _, supply = _supply(plant, 1, "2026-06-01")
    q = np.asarray(supply.pv_kwh)
    assert len(q) == 96
    np.testing.assert_allclose(q[40:48], 2.5, rtol=1e-12)
    assert q.sum() == pytest.approx(20.0, rel=1e-12)


def test_energy_in_periods_integrates_the_steps_exactly():
    """kW 0, 4, 8, 12 in four 15-min steps from 00:00 UTC. The period 00:10-00:40 holds 5 min at
    0 kW + 15 min at 4 kW (1 kWh) + 10 min at 8 kW (4/3 kWh); 00:40-01:00 holds 5 min at 8 kW
    (2/3 kWh) + 15 min at 12 kW (3 kWh)."""
    kw = pd.Series([0.0, 4.0, 8.0, 12.0],
                   index=pd.date_range("2026-01-01", periods=4, freq="15min", tz="UTC"))
    kw.attrs["step"] = pd.Timedelta(minutes=15)
    b = pd.DatetimeIndex(["2026-01-01 00:10", "2026-01-01 00:40", "2026-01-01 01:00"],
                         tz="UTC")
    np.testing.assert_allclose(energy_in_periods(kw, b), [1 + 4 / 3, 2 / 3 + 3], rtol=1e-12)


def test_typical_year_profile_repeats_by_month_day_and_hour(tmp_path):
    """A PVsyst-like year 1990 in Beijing standard time (China kept daylight saving time in
    1986-91, so the file's zone is the fixed +08:00) whose value is the hour of the day / 100 per
    kWp on 1 June and 0.01 elsewhere: a run on 1 June 2026 with 10 kWp gets h x 0.1 kWh at hour
    h."""
    f = _block_profile(tmp_path / "pvsyst.csv", "1990-01-01", 8760, "h",
                       lambda t: t.hour / 100 if (t.month, t.day) == (6, 1) else 0.01)
    plant = _plant({"pv": [{"id": "a", "dc_kwp": 10, "profile": {
        "file": str(f), "unit": "kwh_per_kw", "repeat_yearly": True,
        "timezone": "+08:00"}}]},
        simulation={"settlement_interval_min": 60})
    _, supply = _supply(plant, 2, "2026-06-01")
    got = np.asarray(supply.pv_kwh)
    np.testing.assert_allclose(got[:24], np.arange(24) * 0.1, rtol=1e-12)
    np.testing.assert_allclose(got[24:], 0.1, rtol=1e-12)
    # without repeat_yearly the file does not cover 2026: a precise error
    plain = _plant({"pv": [{"id": "a", "dc_kwp": 10, "profile": {
        "file": str(f), "unit": "kwh_per_kw", "timezone": "+08:00"}}]})
    with pytest.raises(SupplyError, match=r"energy\.pv\[0\]\.profile\.file: pvsyst\.csv: covers "
                                          r"1990-01-01 00:00 .* repeat_yearly"):
        check_run_inputs(plant.model_copy(update={"energy": plain.energy}), 2,
                         dt.date(2026, 6, 1))


def test_wind_profile_scaled_to_count_times_rated_power(tmp_path):
    """A 2 MW farm's output, constant 500 kW (1/4 load); 3 turbines of 250 kW simulated
    (750 kW): 500 x 750 / 2000 = 187.5 kW, 4,500 kWh a day."""
    f = _block_profile(tmp_path / "scada.csv", "2026-03-01", 48, "h", lambda t: 500.0)
    plant = _plant({"wind": [{"id": "wt", "count": 3, "rated_kw": 250, "profile": {
        "file": str(f), "unit": "kw", "capacity_kw": 2000}}]})
    _, supply = _supply(plant, 1, "2026-03-01")
    assert np.sum(supply.wind_kwh) == pytest.approx(4500.0, rel=1e-12)


@pytest.mark.parametrize(("profile", "match"), [
    ({"unit": "kw"}, r"unit 'kw' is absolute: give capacity_kw"),
    ({"unit": "kw_per_kw", "capacity_kw": 5}, r"already per kW of capacity"),
    ({"unit": "kwp"}, r"unit"),
    ({"unit": "kw_per_kw", "timezone": "Mars/Olympus"}, r"unknown time zone 'Mars/Olympus'"),
])
def test_profile_config_errors_name_the_field(tmp_path, profile, match):
    data = {"pv": [{"id": "a", "dc_kwp": 10, "profile": {"file": "x.csv", **profile}}]}
    with pytest.raises(ConfigError, match=r"energy\.pv\[0\]\.profile") as err:
        _plant(data)
    assert err.match(match)


def test_pv_with_profile_refuses_weather_model_fields():
    with pytest.raises(ConfigError, match=r"tilt_deg belong\(s\) to the weather model"):
        _plant({"pv": [{"id": "a", "dc_kwp": 10, "tilt_deg": 20,
                        "profile": {"file": "x.csv", "unit": "kw_per_kw"}}]})
    with pytest.raises(ConfigError, match=r"years_in_service belong\(s\) to the weather"):
        _plant({"pv": [{"id": "a", "dc_kwp": 10, "years_in_service": 2,
                        "profile": {"file": "x.csv", "unit": "kw_per_kw"}}]})
    with pytest.raises(ConfigError, match=r"tilt_deg is required"):
        _plant({"weather": {"synthetic": {"annual_clearness": 0.5, "monthly_temp_c": [10] * 12,
                                          "daily_temp_swing_c": 8}},
                "pv": [{"id": "a", "dc_kwp": 10}]})


@pytest.mark.parametrize(("rows", "match"), [
    (["2026-06-01 00:00,1", "2026-06-01 01:00,-3"], r"line 3: column value: value is negative"),
    (["2026-06-01 00:00,1", "2026-06-01 01:00,abc"], r"line 3: column value: value is not a "
                                                     r"number"),
    (["2026-06-01 00:00,1", "2026-06-01 00:00,1"], r"line 3: .*timestamp occurs twice"),
    (["2026-06-01 00:00,1", "2026-06-01 01:00,1", "2026-06-01 03:00,1"],
     r"line 4: .*steps must be regular"),
    (["2026-06-01 00:00,1", "2026-06-01 02:00,1"],
     r"column timestamp: step is 0 days 02:00:00; expected hourly"),
    (["2026-06-01 00:00,1", "June first,1"], r"line 3: column timestamp: timestamp is "
                                             r"unparsable"),
])
def test_profile_file_errors_name_file_line_and_column(tmp_path, rows, match):
    f = tmp_path / "p.csv"
    f.write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    spec = GenerationProfile(file=str(f), unit="kw_per_kw")
    with pytest.raises(ValueError, match=r"^p\.csv: " + match):
        read_profile(f, spec, SHANGHAI)


def test_profile_path_relative_to_plant_file_and_validate_reports_a_missing_file(tmp_path):
    _block_profile(tmp_path / "pv.csv", "2026-06-01", 24, "h", lambda t: 0.1)
    configs = Path(__file__).parent.parent / "plant_configs"
    text = (configs / "own_generation_plant.yaml").read_text()
    weather = str(configs / "own_generation" / "weather_utc_2025.csv")
    text = text.replace("own_generation/pv_meter_2025.csv", "pv.csv")
    (tmp_path / "plant.yaml").write_text(
        text.replace("own_generation/weather_utc_2025.csv", weather))
    plant = twin.load_plant(tmp_path / "plant.yaml")
    assert plant.energy.pv[0].profile.file == str(tmp_path / "pv.csv")
    (tmp_path / "pv.csv").unlink()
    with pytest.raises(SupplyError, match=r"energy\.pv\[0\]\.profile\.file: pv\.csv: file not "
                                          r"found"):
        check_run_inputs(plant, 1, dt.date(2026, 6, 1))


# --- 5. weather files from another zone ----------------------------------------------------------


@pytest.fixture(scope="module")
def june_weather() -> pd.DataFrame:
    index = pd.date_range("2026-06-01", periods=72, freq="h", tz=SHANGHAI)
    return synthetic_weather(31.23, 121.47, SHANGHAI, index, annual_clearness=0.55,
                             monthly_temp_c=[20.0] * 12, daily_temp_swing_c=8, seed=3)


def _weather_csv(path: Path, frame: pd.DataFrame, stamps: pd.Index) -> Path:
    out = frame.copy()
    out.insert(0, "timestamp", stamps)
    out.to_csv(path, index=False)
    return path


def _pv_of(weather: dict) -> np.ndarray:
    plant = _plant({"weather": weather, "pv": [{"id": "a", "dc_kwp": 100, "tilt_deg": 25}]})
    return np.asarray(_supply(plant, 2, "2026-06-01")[1].pv_kwh)


def test_foreign_zone_weather_file_gives_the_same_pv_as_the_site_zone_file(tmp_path,
                                                                          june_weather):
    """The same hours written in Beijing time, as naive UTC with ``timezone: UTC``, with +00:00
    offsets and as naive US Mountain Standard Time (UTC-7, fixed): identical PV. Naive UTC
    without the key (read as Beijing time) is 8 h off and loses most of it: the test can fail."""
    w = june_weather
    local = _weather_csv(tmp_path / "local.csv", w, w.index.strftime("%Y-%m-%d %H:%M"))
    utc = w.index.tz_convert("UTC")
    naive_utc = _weather_csv(tmp_path / "utc.csv", w, utc.strftime("%Y-%m-%d %H:%M"))
    offsets = _weather_csv(tmp_path / "off.csv", w, utc.strftime("%Y-%m-%dT%H:%M+00:00"))
    mst = _weather_csv(tmp_path / "mst.csv", w,
                       w.index.tz_convert("Etc/GMT+7").strftime("%Y-%m-%d %H:%M"))
    want = _pv_of({"file": str(local)})
    assert want.sum() > 500  # two June days on 100 kWp
    np.testing.assert_array_equal(_pv_of({"file": str(naive_utc), "timezone": "UTC"}), want)
    np.testing.assert_array_equal(_pv_of({"file": str(offsets)}), want)
    np.testing.assert_array_equal(_pv_of({"file": str(mst), "timezone": "UTC-7"}), want)
    wrong = _pv_of({"file": str(naive_utc)})
    assert wrong.sum() < 0.6 * want.sum()


def test_parse_zone_fixed_offsets_and_names():
    assert parse_zone("+08:00").utcoffset(None) == dt.timedelta(hours=8)
    assert parse_zone("UTC-7").utcoffset(None) == dt.timedelta(hours=-7)
    assert parse_zone("-0530").utcoffset(None) == -dt.timedelta(hours=5, minutes=30)
    assert str(parse_zone("Europe/Berlin")) == "Europe/Berlin"
    with pytest.raises(ValueError, match="offset out of range"):
        parse_zone("+15:00")


def test_great_circle_distances_by_hand():
    """A quarter meridian is pi R / 2; one degree of latitude pi R / 180 = 111.195 km; a quarter
    of the equator likewise."""
    assert great_circle_km(0, 0, 90, 0) == pytest.approx(math.pi * EARTH_RADIUS_KM / 2)
    assert great_circle_km(30, 120, 31, 120) == pytest.approx(111.1951, abs=1e-3)
    assert great_circle_km(0, 0, 0, 90) == pytest.approx(math.pi * EARTH_RADIUS_KM / 2)
    assert great_circle_km(31.23, 121.47, 31.23, 121.47) == 0.0


def _epw(path: Path, lat: float, lon: float, tz_h: float, frame: pd.DataFrame,
         header_tz_h: float | None = None) -> Path:
    """A minimal EPW of ``frame`` (hourly, one year), stamped in UTC``tz_h`` (fixed); the header
    says ``header_tz_h`` (default ``tz_h``)."""
    local = frame.index.tz_convert(dt.timezone(dt.timedelta(hours=tz_h)))
    header_tz_h = tz_h if header_tz_h is None else header_tz_h
    end = local + pd.Timedelta(hours=1)  # EPW hour h = the hour ending at h (1-24)
    hour = np.where(end.hour == 0, 24, end.hour)
    day = np.where(end.hour == 0, (end - pd.Timedelta(hours=1)).day, end.day)
    month = np.where(end.hour == 0, (end - pd.Timedelta(hours=1)).month, end.month)
    rows = []
    for k in range(len(frame)):
        f = ["0"] * 35
        f[0], f[1], f[2], f[3], f[4] = str(local[k].year), str(month[k]), str(day[k]), \
            str(hour[k]), "60"
        f[5] = "?9?9?9?9E0?9?9?9?9?9?9?9?9?9?9?9?9?9?9?9*9*9?9?9?9"
        f[6] = f"{frame['temp_air'].iloc[k]:.3f}"
        f[13], f[14], f[15] = (f"{frame[c].iloc[k]:.6f}" for c in ("ghi", "dni", "dhi"))
        f[21] = f"{frame['wind_speed'].iloc[k]:.3f}"
        rows.append(",".join(f))
    header = [f"LOCATION,Somewhere,,,TEST,0,{lat},{lon},{header_tz_h},10.0", "DESIGN CONDITIONS,0",
              "TYPICAL/EXTREME PERIODS,0", "GROUND TEMPERATURES,0",
              "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0", "COMMENTS 1,", "COMMENTS 2,",
              "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31"]
    path.write_text("\n".join(header + rows) + "\n")
    return path


@pytest.fixture(scope="module")
def year_weather() -> pd.DataFrame:
    index = pd.date_range("2026-01-01", periods=8760, freq="h", tz=SHANGHAI)
    return synthetic_weather(31.23, 121.47, SHANGHAI, index, annual_clearness=0.55,
                             monthly_temp_c=[5, 7, 11, 16, 21, 25, 29, 29, 25, 19, 13, 7],
                             daily_temp_swing_c=8, seed=5)


def test_epw_stamped_in_utc_at_the_site_equals_beijing_time_and_no_warning(tmp_path,
                                                                          year_weather):
    beijing = _epw(tmp_path / "bj.epw", 31.23, 121.47, 8.0, year_weather)
    utc = _epw(tmp_path / "utc.epw", 31.23, 121.47, 0.0, year_weather)
    a = _pv_of({"file": str(beijing)})
    np.testing.assert_allclose(_pv_of({"file": str(utc)}), a, rtol=1e-12, atol=1e-12)
    plant = _plant({"weather": {"file": str(utc)},
                    "pv": [{"id": "a", "dc_kwp": 100, "tilt_deg": 25}]})
    r = twin.simulate(plant, days=1, start="2026-06-01", seed=1)
    assert not [w for w in r.kpis["warnings"] if "weather file" in w]


def test_far_station_in_another_zone_is_reported_with_its_distance(tmp_path, year_weather):
    """The station of the file is at 40.0 N 121.47 E, 8.77 deg of latitude north of the site:
    8.77 x 111.195 = 975 km. Stamped at UTC-7 it is also on another clock."""
    far = _epw(tmp_path / "far.epw", 40.0, 121.47, -7.0, year_weather)
    plant = _plant({"weather": {"file": str(far)},
                    "pv": [{"id": "a", "dc_kwp": 100, "tilt_deg": 25}]})
    r = twin.simulate(plant, days=1, start="2026-06-01", seed=1)
    [warning] = [w for w in r.kpis["warnings"] if "weather file" in w]
    assert "far.epw" in warning and "975 km from the site" in warning
    assert "UTC-7 h and the site's UTC+8 h" in warning


def test_stand_in_climate_on_the_site_clock_with_the_timezone_key(tmp_path, year_weather):
    """A file whose wall clock is Beijing time but whose header says UTC-7 (a far-away station
    used as a stand-in climate, hours meant as local solar hours): read by its header it is 15 h
    off the site's sun; with ``timezone: Asia/Shanghai`` it gives the PV of the Beijing file."""
    beijing = _epw(tmp_path / "bj.epw", 31.23, 121.47, 8.0, year_weather)
    stand_in = _epw(tmp_path / "denver.epw", 39.74, -104.99, 8.0, year_weather, header_tz_h=-7)
    want = _pv_of({"file": str(beijing)})
    np.testing.assert_allclose(_pv_of({"file": str(stand_in), "timezone": SHANGHAI}), want,
                               rtol=1e-12, atol=1e-12)
    assert _pv_of({"file": str(stand_in)}).sum() < 0.3 * want.sum()


# --- 6. multi-year runs -------------------------------------------------------------------------


def test_pv_degrades_year_by_year_in_a_two_year_run(tmp_path, year_weather):
    """One typical year repeated: the second year's PV is 0.5 % lower at the default
    0.5 %/yr (DC output x 0.995; the AC ratio differs from it only by the inverter's part-load
    curve, under 0.02 %). An array 3 years in service: years 3 and 4, ratio 0.98 / 0.985."""
    f = _epw(tmp_path / "site.epw", 31.23, 121.47, 8.0, year_weather)
    for age, ratio in ((0, 0.995), (3, 0.98 / 0.985)):
        plant = _plant({"weather": {"file": str(f)}, "pv": [{
            "id": "a", "dc_kwp": 100, "tilt_deg": 25, "years_in_service": age}]},
            simulation={"settlement_interval_min": 60})
        model, supply = _supply(plant, 730, "2026-01-01")
        pv = pd.Series(np.asarray(supply.pv_kwh), index=model.clock.index(730 * 24, 3600))
        year = pv.groupby(pv.index.year).sum()
        assert list(year.index) == [2026, 2027]
        assert year[2027] / year[2026] == pytest.approx(ratio, abs=2e-4)


def test_years_since_counts_whole_years_from_the_start():
    from twin.energy.pv import years_since

    t0 = pd.Timestamp("2026-03-15 00:00", tz=SHANGHAI)
    idx = pd.DatetimeIndex(["2026-03-15 00:00", "2027-03-14 23:00", "2027-03-15 00:00",
                            "2028-03-15 00:00"]).tz_localize(SHANGHAI)
    np.testing.assert_array_equal(years_since(idx, t0), [0, 0, 1, 2])


def test_days_are_local_calendar_days_across_a_dst_change_and_bill_whole_months():
    """Denver, from Sun 1 Nov 2026 (clocks go back at 02:00 that day) for 30 days: 30 local days
    of 24 h and one of 25 h = 721 h, ending at local midnight of 1 Dec. A constant 12 kW (idle
    machine, 10 kW base load) sets a demand of 12 kW in November only: 12 x 20 = 240 CNY at
    20 CNY/(kW month) for the whole month, nothing for December."""
    site = {"name": "Denver", "timezone": "America/Denver", "latitude": 39.74,
            "longitude": -104.99}
    plant = make_plant([station("m", const(60))], site=site,
                       sources=[{"id": "none", "kind": "plan", "quantities": {"part": 0}}],
                       base_loads=[{"id": "hvac", "group": "facility",
                                    "power_kw": {"electricity": 10}}],
                       energy={"grid": {"tariff": {
                           "preset": "jiangsu_2025", "customer_class": "two_part",
                           "flat_price_per_kwh": 0.6,
                           "apply_outside_validity": True, "demand_charge_per_kw_month": 20}}})
    r = twin.simulate(plant, days=30, start="2026-11-01", seed=1)
    h = r.hourly
    assert len(h) == 721
    assert h.index[-1] == pd.Timestamp("2026-11-30 23:00", tz="America/Denver")
    assert r.kpis["simulated_days"] == 30
    assert h["electricity_demand_kwh"].sum() == pytest.approx(12 * 721, rel=1e-12)
    assert r.kpis["demand_cost"] == pytest.approx(240.0, rel=1e-12)


def test_validate_prints_the_far_station_warning(tmp_path, year_weather, capsys):
    from twin.cli import main

    # the site of the example is at 31.30 N 120.62 E: 9 deg of latitude = 9 x 111.195 = 1,001 km
    far = _epw(tmp_path / "far.epw", 40.30, 120.62, 8.0, year_weather)
    configs = Path(__file__).parent.parent / "plant_configs"
    text = (configs / "own_generation_plant.yaml").read_text()
    text = text.replace("own_generation/pv_meter_2025.csv",
                        str(configs / "own_generation" / "pv_meter_2025.csv"))
    text = text.replace("own_generation/weather_utc_2025.csv", str(far))
    text = text.replace("    timezone: UTC\n", "")
    (tmp_path / "plant.yaml").write_text(text)
    assert main(["validate", str(tmp_path / "plant.yaml")]) == 0
    err = capsys.readouterr().err
    assert "warning: weather file far.epw: its station (40.30, 120.62) is 1,001 km" in err
    assert "clock" not in err  # same zone: no clock remark


def test_profile_that_is_a_folder_or_lacks_its_column_is_refused(tmp_path):
    spec = GenerationProfile(file="x", unit="kw_per_kw")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ValueError, match=r"^dir\.csv: is a folder; expected a generation profile"):
        read_profile(tmp_path / "dir.csv", spec, SHANGHAI)
    f = tmp_path / "cols.csv"
    f.write_text("time,kw\n2026-06-01 00:00,1\n")
    with pytest.raises(ValueError, match=r"^cols\.csv: .*timestamp"):
        read_profile(f, spec, SHANGHAI)
