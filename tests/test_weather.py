"""Weather readers, typical-year alignment and synthetic weather (twin.energy.weather).

Truth comes from outside the module: pvlib's bundled Greensboro TMY3 file read by pvlib itself,
an EPW file written here from the raw TMY3 rows (so both formats must give identical frames),
and clear sky computed independently with pvlib.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from twin.energy.synthetic_weather import synthetic_weather
from twin.energy.weather import (
    REFERENCE_YEAR,
    WEATHER_COLUMNS,
    align_to_period,
    interval_midpoints,
    local_standard_time,
    read_weather,
)

TMY3 = Path(pvlib.__path__[0]) / "data" / "723170TYA.CSV"  # Greensboro NC, UTC-5


@pytest.fixture(scope="module")
def tmy3() -> pd.DataFrame:
    return read_weather(TMY3)


@pytest.fixture(scope="module")
def pvlib_tmy3() -> tuple[pd.DataFrame, dict]:
    return pvlib.iotools.read_tmy3(TMY3, coerce_year=REFERENCE_YEAR, map_variables=True)


# --- readers ---------------------------------------------------------------------------------


def test_tmy3_columns_units_and_start_of_hour_labels(tmy3, pvlib_tmy3):
    data, meta = pvlib_tmy3
    assert list(tmy3.columns) == list(WEATHER_COLUMNS)
    assert len(tmy3) == 8760
    assert str(tmy3.index.tz) == "UTC-05:00"
    assert tmy3.index[0] == pd.Timestamp(f"{REFERENCE_YEAR}-01-01 00:00", tz="Etc/GMT+5")
    assert tmy3.index[-1] == pd.Timestamp(f"{REFERENCE_YEAR}-12-31 23:00", tz="Etc/GMT+5")
    # pvlib labels TMY3 rows by the end of the hour; ours are the start, one hour earlier.
    np.testing.assert_array_equal(tmy3.index, data.index - pd.Timedelta(hours=1))
    for col in WEATHER_COLUMNS:
        np.testing.assert_array_equal(tmy3[col].to_numpy(), data[col].to_numpy(dtype=float))
    # Units: annual GHI in kWh/m2 (research note: 1,566), air temperature in degC, wind in m/s.
    assert tmy3["ghi"].sum() / 1000 == pytest.approx(1566.2, abs=0.1)
    assert -20 < tmy3["temp_air"].min() < tmy3["temp_air"].max() < 40
    assert 2.5 < tmy3["wind_speed"].mean() < 3.5
    assert tmy3.attrs["typical_year"] is True
    assert tmy3.attrs["latitude"] == pytest.approx(meta["latitude"])
    assert tmy3.attrs["altitude_m"] == pytest.approx(273.0)
    # Morning irradiance belongs to the morning: nothing in the hour starting at midnight.
    assert (tmy3["ghi"][tmy3.index.hour == 0] == 0).all()


def _write_epw_from_tmy3(
    path: Path, temp_override: float | None = None, increasing_years: bool = False
) -> None:
    """An EPW holding the TMY3 rows: EPW hour h (1-24) = the hour ending at h, like TMY3."""
    with TMY3.open() as fh:
        fh.readline()
        raw = pd.read_csv(fh)
    date = pd.to_datetime(raw["Date (MM/DD/YYYY)"], format="%m/%d/%Y")
    hour = raw["Time (HH:MM)"].str[:2].astype(int)
    temp = raw["Dry-bulb (C)"].to_numpy(dtype=float).copy()
    if temp_override is not None:
        temp[100] = temp_override
    fields = np.zeros((len(raw), 35), dtype=object)
    fields[:] = 0
    fields[:, 0] = 1990 + date.dt.month if increasing_years else date.dt.year
    fields[:, 1] = date.dt.month
    fields[:, 2] = date.dt.day
    fields[:, 3] = hour
    fields[:, 4] = 60
    fields[:, 5] = "?9?9?9?9E0?9?9?9?9?9?9?9?9?9?9?9?9?9?9?9*9*9?9?9?9"
    fields[:, 6] = temp
    fields[:, 13] = raw["GHI (W/m^2)"]
    fields[:, 14] = raw["DNI (W/m^2)"]
    fields[:, 15] = raw["DHI (W/m^2)"]
    fields[:, 21] = raw["Wspd (m/s)"]
    header = [
        "LOCATION,Greensboro,NC,USA,TMY3,723170,36.10,-79.95,-5.0,273.0",
        "DESIGN CONDITIONS,0", "TYPICAL/EXTREME PERIODS,0", "GROUND TEMPERATURES,0",
        "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0", "COMMENTS 1,written by twin tests from pvlib's TMY3",
        "COMMENTS 2,", "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31",
    ]
    lines = [",".join(str(v) for v in row) for row in fields]
    path.write_text("\n".join(header + lines) + "\n")


@pytest.mark.parametrize("increasing_years", [False, True], ids=["mixed-years", "rising-years"])
def test_epw_reader_matches_tmy3_reader(tmp_path, tmy3, increasing_years):
    epw = tmp_path / "greensboro.epw"
    _write_epw_from_tmy3(epw, increasing_years=increasing_years)
    weather = read_weather(epw)
    assert weather.attrs["kind"] == "epw"
    assert weather.attrs["typical_year"] is True
    pd.testing.assert_frame_equal(weather, tmy3, check_freq=False)


def test_epw_missing_value_code_is_an_error_naming_file_and_column(tmp_path):
    epw = tmp_path / "bad.epw"
    _write_epw_from_tmy3(epw, temp_override=99.9)  # EPW's missing-value code for dry bulb
    with pytest.raises(ValueError, match=r"bad\.epw.*temp_air = 99\.9"):
        read_weather(epw)


def test_csv_round_trip_with_offsets_and_with_naive_plus_tz(tmp_path, tmy3):
    frame = tmy3.iloc[:500]
    with_offsets = tmp_path / "offsets.csv"
    frame.rename_axis("timestamp").reset_index().assign(
        timestamp=lambda d: d["timestamp"].map(lambda t: t.isoformat())
    ).to_csv(with_offsets, index=False)
    back = read_weather(with_offsets)
    assert back.attrs["kind"] == "csv"
    np.testing.assert_array_equal(back.index, frame.index)
    np.testing.assert_allclose(back.to_numpy(), frame.to_numpy())

    naive = tmp_path / "naive.csv"
    local = frame.tz_convert("Asia/Shanghai")
    local.rename_axis("timestamp").reset_index().assign(
        timestamp=lambda d: d["timestamp"].dt.strftime("%Y-%m-%d %H:%M")
    ).to_csv(naive, index=False)
    back = read_weather(naive, tz="Asia/Shanghai")
    assert str(back.index.tz) == "Asia/Shanghai"
    np.testing.assert_array_equal(back.index, local.index)
    np.testing.assert_allclose(back.to_numpy(), frame.to_numpy())


@pytest.mark.parametrize(
    ("content", "kwargs", "match"),
    [
        ("timestamp,ghi,dni,dhi,temp_air\n2023-01-01T00:00+08:00,0,0,0,1\n", {},
         r"w\.csv: missing column\(s\) wind_speed"),
        ("timestamp,ghi,dni,dhi,temp_air,wind_speed\n2023-01-01 00:00,0,0,0,1,2\n", {},
         r"w\.csv: timestamps have no UTC offset; pass tz="),
        ("timestamp,ghi,dni,dhi,temp_air,wind_speed\n2023-01-01T00:00+08:00,0,0,0,1,2\n"
         "2023-01-01T02:00+08:00,0,0,0,1,2\n", {}, r"w\.csv: timestamps must be hourly"),
        ("timestamp,ghi,dni,dhi,temp_air,wind_speed\n2023-01-01T00:00+08:00,0,x,0,1,2\n", {},
         r"w\.csv: column dni row 2 is not a number"),
        ("timestamp,ghi,dni,dhi,temp_air,wind_speed\n2023-03-26 02:00,0,0,0,1,2\n",
         {"tz": "Europe/Berlin"}, r"w\.csv: .*daylight-saving"),
        ("a,b\n1,2\n", {}, r"w\.csv: cannot tell the format"),
    ],
)
def test_csv_errors_name_the_file_and_the_problem(tmp_path, content, kwargs, match):
    path = tmp_path / "w.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=match):
        read_weather(path, **kwargs)


def test_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match=r"nope\.epw: file not found"):
        read_weather(tmp_path / "nope.epw")


# --- alignment -------------------------------------------------------------------------------


def _row(weather: pd.DataFrame, stamp: str) -> np.ndarray:
    return weather.loc[pd.Timestamp(stamp, tz=weather.index.tz)].to_numpy()


def test_align_leap_year_uses_feb_28_for_feb_29(tmy3):
    index = pd.date_range("2024-01-01", "2025-01-01", freq="h", tz="Etc/GMT+5", inclusive="left")
    aligned = align_to_period(tmy3, index)
    assert len(aligned) == 8784
    assert aligned.index.equals(index)
    feb29 = aligned[(aligned.index.month == 2) & (aligned.index.day == 29)]
    feb28 = tmy3[(tmy3.index.month == 2) & (tmy3.index.day == 28)]
    np.testing.assert_array_equal(feb29.to_numpy(), feb28.to_numpy())
    # Every other day is the same month-day-hour of the typical year.
    rest = aligned[~((aligned.index.month == 2) & (aligned.index.day == 29))]
    np.testing.assert_array_equal(rest.to_numpy(), tmy3.to_numpy())


def test_align_period_crossing_new_year_and_spanning_years(tmy3):
    index = pd.date_range("2023-12-31 20:00", periods=8, freq="h", tz="Etc/GMT+5")
    aligned = align_to_period(tmy3, index)
    expected = [f"{REFERENCE_YEAR}-12-31 {h:02d}:00" for h in range(20, 24)] + [
        f"{REFERENCE_YEAR}-01-01 {h:02d}:00" for h in range(4)
    ]
    for stamp, (_, row) in zip(expected, aligned.iterrows(), strict=True):
        np.testing.assert_array_equal(row.to_numpy(), _row(tmy3, stamp))
    # Two and a half years from mid-year: every year repeats the typical year.
    long = pd.date_range("2025-07-01", "2028-01-01", freq="h", tz="Etc/GMT+5", inclusive="left")
    out = align_to_period(tmy3, long)
    a = out.loc["2026-03-01":"2026-12-31"].to_numpy()
    b = out.loc["2027-03-01":"2027-12-31"].to_numpy()
    np.testing.assert_array_equal(a, b)


def test_align_in_a_daylight_saving_zone_keeps_weather_with_the_sun(tmy3):
    index = pd.date_range("2023-07-01 00:00", periods=48, freq="h", tz="America/New_York")
    aligned = align_to_period(tmy3, index)
    # 12:00 EDT is 11:00 EST, the file's clock.
    np.testing.assert_array_equal(
        aligned.loc["2023-07-01 12:00"].to_numpy(), _row(tmy3, f"{REFERENCE_YEAR}-07-01 11:00")
    )
    winter = align_to_period(tmy3, pd.DatetimeIndex(["2023-01-10 12:00"], tz="America/New_York"))
    np.testing.assert_array_equal(winter.iloc[0].to_numpy(), _row(tmy3, "2001-01-10 12:00"))


def test_align_proxy_file_from_another_zone_matches_local_standard_hours(tmy3):
    index = pd.date_range("2023-06-01", periods=24, freq="h", tz="Asia/Shanghai")
    aligned = align_to_period(tmy3, index)
    for hour in (0, 9, 12, 17):
        np.testing.assert_array_equal(
            aligned.iloc[hour].to_numpy(), _row(tmy3, f"{REFERENCE_YEAR}-06-01 {hour:02d}:00")
        )


def test_align_quarter_hours_repeat_the_hourly_value(tmy3):
    index = pd.date_range("2023-05-05 10:00", periods=8, freq="15min", tz="Etc/GMT+5")
    aligned = align_to_period(tmy3, index)
    ten, eleven = _row(tmy3, "2001-05-05 10:00"), _row(tmy3, "2001-05-05 11:00")
    np.testing.assert_array_equal(aligned.iloc[:4].to_numpy(), np.tile(ten, (4, 1)))
    np.testing.assert_array_equal(aligned.iloc[4:].to_numpy(), np.tile(eleven, (4, 1)))


def test_align_rejects_several_years_of_weather(tmy3):
    two = pd.concat([tmy3, tmy3.set_axis(tmy3.index + pd.DateOffset(years=1))])
    with pytest.raises(ValueError, match="more than one row for the same month-day-hour"):
        align_to_period(two, pd.date_range("2023-01-01", periods=3, freq="h", tz="UTC"))


def test_local_standard_time_and_midpoints():
    index = pd.DatetimeIndex(["2023-01-15 12:00", "2023-07-15 12:00"]).tz_localize("Europe/Berlin")
    std = local_standard_time(index)
    assert list(std) == [pd.Timestamp("2023-01-15 12:00"), pd.Timestamp("2023-07-15 11:00")]
    hourly = pd.date_range("2023-01-01", periods=3, freq="h", tz="UTC")
    assert interval_midpoints(hourly)[0] == pd.Timestamp("2023-01-01 00:30", tz="UTC")
    with pytest.raises(ValueError, match="regular"):
        interval_midpoints(hourly[[0, 2]].append(hourly[[1]]))


# --- synthetic weather -----------------------------------------------------------------------

SITE = {"latitude": 31.23, "longitude": 121.47, "tz": "Asia/Shanghai"}  # Shanghai
YEAR = pd.date_range("2025-01-01", "2026-01-01", freq="h", tz="Asia/Shanghai", inclusive="left")


@pytest.fixture(scope="module")
def clear_sky() -> pd.DataFrame:
    location = pvlib.location.Location(SITE["latitude"], SITE["longitude"], tz=SITE["tz"])
    mid = YEAR + pd.Timedelta(minutes=30)
    cs = location.get_clearsky(mid, model="ineichen")
    return cs.set_axis(YEAR)


@pytest.fixture(scope="module")
def synth() -> pd.DataFrame:
    return synthetic_weather(index=YEAR, seed=7, **SITE)


def test_synthetic_is_reproducible_per_seed_and_differs_between_seeds(synth):
    again = synthetic_weather(index=YEAR, seed=7, **SITE)
    pd.testing.assert_frame_equal(synth, again)
    other = synthetic_weather(index=YEAR, seed=8, **SITE)
    assert not np.allclose(other["ghi"], synth["ghi"])
    assert not np.allclose(other["wind_speed"], synth["wind_speed"])
    np.testing.assert_allclose(other["temp_air"], synth["temp_air"])  # deterministic part
    assert synth.attrs["synthetic"] is True


@pytest.mark.parametrize("target", [0.45, 0.77, 0.95])
def test_synthetic_hits_the_annual_clearness(clear_sky, target):
    weather = synthetic_weather(index=YEAR, seed=3, annual_clearness=target, **SITE)
    ratio = weather["ghi"].sum() / clear_sky["ghi"].sum()
    assert ratio == pytest.approx(target, abs=1e-6)


def test_synthetic_irradiance_is_bounded_by_clear_sky_and_zero_at_night(synth, clear_sky):
    assert (synth["ghi"] <= clear_sky["ghi"] * 1.0 + 1e-9).all()
    assert (synth["dni"] <= clear_sky["dni"] + 1e-9).all()
    assert (synth[["ghi", "dni", "dhi"]] >= 0).all().all()
    night = clear_sky["ghi"] == 0
    assert night.sum() > 3000
    assert (synth.loc[night, ["ghi", "dni", "dhi"]] == 0).all().all()
    # Closure GHI = DNI cos(zenith) + DHI at the middle of each hour.
    solpos = pvlib.solarposition.get_solarposition(
        YEAR + pd.Timedelta(minutes=30), SITE["latitude"], SITE["longitude"]
    )
    cosz = np.clip(np.cos(np.radians(solpos["zenith"].to_numpy())), 0, None)
    np.testing.assert_allclose(
        synth["dni"].to_numpy() * cosz + synth["dhi"].to_numpy(), synth["ghi"].to_numpy(),
        atol=1e-6,
    )


def test_synthetic_monthly_temperatures_match_inputs():
    monthly = [3.8, 5.6, 9.2, 14.8, 20.0, 24.1, 28.6, 28.3, 24.4, 19.1, 13.2, 6.8]
    weather = synthetic_weather(
        index=YEAR, monthly_temp_c=monthly, daily_temp_swing_c=8.0, seed=1, **SITE
    )
    means = weather["temp_air"].groupby(weather.index.month).mean().to_numpy()
    np.testing.assert_allclose(means, monthly, atol=0.01)
    july = weather.loc["2025-07"]
    hottest = july["temp_air"].groupby(july.index.hour).mean().idxmax()
    assert hottest in (14, 15)
    swing = july["temp_air"].resample("D").agg(lambda x: x.max() - x.min())
    assert swing.mean() == pytest.approx(8.0, abs=0.2)


def test_synthetic_wind_is_weibull_with_the_requested_mean(synth):
    wind = synth["wind_speed"]
    assert (wind > 0).all()
    assert wind.mean() == pytest.approx(3.05, rel=0.05)


def test_synthetic_partial_year_starting_mid_year_and_errors():
    index = pd.date_range("2025-06-15 06:00", periods=24 * 10, freq="h", tz="Asia/Shanghai")
    weather = synthetic_weather(index=index, seed=0, annual_clearness=0.6, **SITE)
    assert weather.index.equals(index)
    assert weather.attrs["clearness"] == pytest.approx(0.6, abs=1e-6)
    with pytest.raises(ValueError, match="annual_clearness"):
        synthetic_weather(index=index, annual_clearness=1.2, **SITE)
    with pytest.raises(ValueError, match="12 values"):
        synthetic_weather(index=index, monthly_temp_c=[10.0] * 11, **SITE)


@pytest.mark.parametrize("phi", [0.0, 0.3, 0.9, 0.999])
def test_ar1_recursion_equals_scipy_lfilter(phi):
    """The AR(1) noise of the synthetic weather (a loop written out, so that a run need not
    import scipy.signal) equals ``scipy.signal.lfilter`` on the same series bit for bit, and is
    stationary with unit variance (the sample variance of 20,000 steps within 5 %)."""
    from scipy.signal import lfilter

    from twin.energy.synthetic_weather import _ar1

    eps = np.random.default_rng(3).standard_normal(20_000)
    scale = np.sqrt(1.0 - phi**2)
    x = eps.copy()
    x[0] = eps[0] / scale
    z = _ar1(eps, phi)
    assert np.array_equal(z, lfilter([scale], [1.0, -phi], x))
    if phi < 0.99:  # a long memory needs far more steps for its variance
        assert abs(z.var() - 1.0) < 0.05
