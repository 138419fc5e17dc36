"""Hourly weather for the energy models: file readers, typical-year alignment, synthetic weather.

Every function returns a DataFrame with the columns of :data:`WEATHER_COLUMNS` on a tz-aware
index. **Timestamp convention: a label is the start of the interval it describes** (the value
at 10:00 is the average over 10:00-11:00). pvlib's own readers disagree on this (``read_tmy3``
labels the end of the hour, ``read_epw`` the start), so :func:`read_weather` normalises both.
Physics that needs the sun's position for an interval average evaluates it at the middle of the
interval (:func:`interval_midpoints`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pvlib

from twin.safety import MAX_DATA_FILE_BYTES, file_problem

WEATHER_COLUMNS: tuple[str, ...] = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
"""Columns of every weather frame: irradiance [W/m2], air temperature [degC], wind speed [m/s]."""

WeatherKind = Literal["epw", "tmy3", "csv"]

REFERENCE_YEAR = 2001
"""Year written into typical-year files whose months come from different years (not a leap year)."""

_LIMITS: dict[str, tuple[float, float]] = {
    "ghi": (0.0, 1500.0),
    "dni": (0.0, 1500.0),
    "dhi": (0.0, 1000.0),
    "temp_air": (-90.0, 60.0),
    "wind_speed": (0.0, 75.0),
}
_NEGATIVE_IRRADIANCE_FLOOR = -10.0  # [W/m2] sensor night offsets down to this are set to 0



# ---------------------------------------------------------------------------------------------
# Readers


def read_weather(
    path: str | Path, kind: WeatherKind | None = None, tz: str | None = None
) -> pd.DataFrame:
    """Read an hourly weather file into the twin's weather frame.

    Parameters
    ----------
    path : str or Path
        An EnergyPlus weather file (EPW), an NREL TMY3 file, or a plain CSV with the columns
        ``timestamp, ghi, dni, dhi, temp_air, wind_speed`` (irradiance [W/m2], air temperature
        [degC], wind speed [m/s] at the height of the station, usually 10 m).
    kind : {'epw', 'tmy3', 'csv'}, optional
        File format. Inferred when None: an ``.epw`` extension or a first line starting with
        ``LOCATION,`` is EPW; a second line starting with ``Date (MM/DD/YYYY)`` is TMY3; a header
        containing ``timestamp`` is the plain CSV.
    tz : str, optional
        IANA time zone (e.g. ``'Asia/Shanghai'``). For EPW and TMY3 (whose clocks are local
        standard time with a fixed UTC offset) the index is converted to this zone. For a CSV,
        naive timestamps are localised in it and timestamps with UTC offsets are converted to it.

    Returns
    -------
    weather : DataFrame
        Columns ``ghi, dni, dhi`` [W/m2], ``temp_air`` [degC], ``wind_speed`` [m/s] (float), on
        an hourly tz-aware DatetimeIndex named ``time`` whose **labels are the start of each
        hour**; values are averages over the hour as the file gives them. ``attrs`` holds
        ``source`` (the path), ``kind``, ``typical_year`` (True when the file's months came from
        different years; they are then all written as :data:`REFERENCE_YEAR`) and, for EPW and
        TMY3, ``latitude`` [deg], ``longitude`` [deg] and ``altitude_m`` [m] of the station.

    Raises
    ------
    ValueError
        Naming the file: unknown format, missing columns, unparsable or ambiguous timestamps,
        steps other than one hour, missing values, or values outside physical limits (EPW
        missing-value codes such as 9999 land here).

    Notes
    -----
    TMY3 rows are labelled by the end of the hour ("1:00" holds midnight to 1 am) [1]_; they are
    moved back by one hour. EPW hour 1 is also midnight to 1 am; pvlib already labels it 0:00 [2]_.
    The plain CSV must label the start of each hour. Irradiance down to -10 W/m2 (sensor night
    offsets) is set to 0; anything more negative is an error.

    References
    ----------
    .. [1] S. Wilcox and W. Marion, "Users Manual for TMY3 Data Sets", NREL/TP-581-43156, 2008,
       :doi:`10.2172/928611`.
    .. [2] pvlib.iotools.read_epw, pvlib-python 0.16.
    """
    path = Path(path)
    problem = file_problem(path, "a weather file (EPW, TMY3 or CSV)", MAX_DATA_FILE_BYTES)
    if problem is not None:
        raise ValueError(f"weather file {path}: {problem}")
    kind = kind or _infer_kind(path)
    if kind == "epw":
        frame, meta = _read_epw(path)
    elif kind == "tmy3":
        frame, meta = _read_tmy3(path)
    elif kind == "csv":
        frame, meta = _read_plain_csv(path, tz), {}
    else:
        raise ValueError(f"weather file {path}: unknown kind {kind!r} (use 'epw', 'tmy3', 'csv')")
    if kind != "csv" and tz is not None:
        frame.index = frame.index.tz_convert(tz)
    frame = _check_weather(frame, path)
    frame.index.name = "time"
    frame.attrs = {"source": str(path), "kind": kind, "typical_year": False, **meta}
    return frame


def _infer_kind(path: Path) -> WeatherKind:
    if path.suffix.lower() == ".epw":
        return "epw"
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        first, second = fh.readline(), fh.readline()
    if first.upper().startswith("LOCATION,"):
        return "epw"
    if second.startswith("Date (MM/DD/YYYY)"):
        return "tmy3"
    if "timestamp" in [c.strip().lower() for c in first.split(",")]:
        return "csv"
    raise ValueError(
        f"weather file {path}: cannot tell the format (not EPW, not TMY3, no 'timestamp' column "
        "in the header); pass kind='epw', 'tmy3' or 'csv'"
    )


def _typical_year(frame: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Write one year into a file whose months come from different years (fixed UTC offset).

    A final row at January 1, 00:00 (TMY3's "December 31, 24:00") goes to the following year.
    """
    idx = frame.index
    contiguous = len(idx) < 2 or bool(((idx[1:] - idx[:-1]) == pd.Timedelta(hours=1)).all())
    if contiguous or idx.year.nunique() < 2:
        return frame, False
    leap = bool(((idx.month == 2) & (idx.day == 29)).any())
    year = np.full(len(idx), 2000 if leap else REFERENCE_YEAR)
    last_is_new_year = (idx[-1].month, idx[-1].day, idx[-1].hour) == (1, 1, 0)
    if last_is_new_year and idx[-2].month == 12:
        year[-1] += 1
    parts = pd.DataFrame(
        {"year": year, "month": idx.month, "day": idx.day, "hour": idx.hour, "minute": idx.minute}
    )
    frame = frame.copy()
    frame.index = pd.DatetimeIndex(pd.to_datetime(parts)).tz_localize(idx.tz)
    return frame, True


def _read_epw(path: Path) -> tuple[pd.DataFrame, dict]:
    try:
        data, meta = pvlib.iotools.read_epw(path)
    except Exception as exc:  # pvlib raises assorted errors on malformed files
        raise ValueError(f"weather file {path}: not a readable EPW file "
                         f"({type(exc).__name__})") from None
    frame, typical = _typical_year(data[list(WEATHER_COLUMNS)].astype(float))
    return frame, {**_site(meta), "typical_year": typical}


def _read_tmy3(path: Path) -> tuple[pd.DataFrame, dict]:
    try:
        data, meta = pvlib.iotools.read_tmy3(path, map_variables=True)
    except Exception as exc:
        raise ValueError(f"weather file {path}: not a readable TMY3 file "
                         f"({type(exc).__name__})") from None
    missing = [c for c in WEATHER_COLUMNS if c not in data.columns]
    if missing:
        raise ValueError(f"weather file {path}: TMY3 columns missing after mapping: {missing}")
    frame, typical = _typical_year(data[list(WEATHER_COLUMNS)].astype(float))
    frame.index = frame.index - pd.Timedelta(hours=1)  # end-of-hour labels -> start of hour
    return frame, {**_site(meta), "typical_year": typical}


def _site(meta: dict) -> dict:
    return {
        "latitude": float(meta["latitude"]),
        "longitude": float(meta["longitude"]),
        "altitude_m": float(meta["altitude"]),
    }


_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


def _read_plain_csv(path: Path, tz: str | None) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path)
    except Exception as exc:
        raise ValueError(f"weather file {path}: not a readable CSV file "
                         f"({type(exc).__name__})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    needed = ("timestamp", *WEATHER_COLUMNS)
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise ValueError(
            f"weather file {path}: missing column(s) {', '.join(missing)} "
            f"(expected {', '.join(needed)}; the header has {len(raw.columns)} columns)"
        )
    index = _parse_timestamps(raw["timestamp"].astype(str).str.strip(), path, tz)
    values = {}
    for col in WEATHER_COLUMNS:
        num = pd.to_numeric(raw[col], errors="coerce")
        bad = num.isna() & raw[col].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"weather file {path}: column {col} row {row + 2} is not a number: "
                f"{raw[col].iloc[row]!r}"
            )
        values[col] = num.to_numpy(dtype=float)
    return pd.DataFrame(values, index=index)


def _parse_timestamps(text: pd.Series, path: Path, tz: str | None) -> pd.DatetimeIndex:
    has_offset = text.str.contains(_OFFSET)
    try:
        if has_offset.all():
            if tz is None:
                parsed = pd.to_datetime(text, format="ISO8601")
            else:
                parsed = pd.to_datetime(text, format="ISO8601", utc=True).dt.tz_convert(tz)
        elif not has_offset.any():
            if tz is None:
                raise ValueError(
                    "timestamps have no UTC offset; pass tz= (an IANA zone such as "
                    "'Asia/Shanghai') or write offsets like 2023-01-01T00:00+08:00"
                )
            parsed = pd.to_datetime(text, format="ISO8601").dt.tz_localize(
                tz, ambiguous="raise", nonexistent="raise"
            )
        else:
            row = int(np.flatnonzero(~has_offset.to_numpy())[0])
            raise ValueError(
                f"some timestamps have a UTC offset and some not (row {row + 2}: {text.iloc[row]})"
            )
    except ValueError as exc:
        msg = str(exc)
        if "Mixed timezones" in msg:
            msg = (
                "timestamps carry different UTC offsets (daylight saving time?); pass tz= with "
                "the IANA zone to convert them"
            )
        elif "ambiguous" in msg.lower() or "nonexistent" in msg.lower() or "does not exist" in msg:
            msg = (
                f"{msg}: naive local times are ambiguous around daylight-saving changes; write "
                "timestamps with UTC offsets"
            )
        raise ValueError(f"weather file {path}: {msg}") from exc
    return pd.DatetimeIndex(parsed)


def _check_weather(frame: pd.DataFrame, path: Path | str) -> pd.DataFrame:
    """Hourly, increasing, complete and physically plausible; small negative irradiance -> 0."""
    idx = frame.index
    if len(idx) == 0:
        raise ValueError(f"weather file {path}: no data rows")
    if len(idx) > 1:
        bad = np.flatnonzero((idx[1:] - idx[:-1]) != pd.Timedelta(hours=1))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"weather file {path}: timestamps must be hourly and increasing; "
                f"{idx[i]} is followed by {idx[i + 1]}"
            )
    frame = frame.copy()
    for col in WEATHER_COLUMNS:
        values = frame[col].to_numpy(dtype=float)
        nan = np.flatnonzero(np.isnan(values))
        if nan.size:
            raise ValueError(f"weather file {path}: column {col} is missing at {idx[nan[0]]}")
        low, high = _LIMITS[col]
        if col in ("ghi", "dni", "dhi"):
            values = np.where((values < 0) & (values >= _NEGATIVE_IRRADIANCE_FLOOR), 0.0, values)
        out = np.flatnonzero((values < low) | (values > high))
        if out.size:
            i = int(out[0])
            raise ValueError(
                f"weather file {path}: column {col} = {values[i]:g} at {idx[i]} is outside "
                f"[{low:g}, {high:g}] (a missing-value code?)"
            )
        frame[col] = values
    return frame


# ---------------------------------------------------------------------------------------------
# Time helpers


def interval_midpoints(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Middle of each interval of a regular index whose labels are interval starts.

    Parameters
    ----------
    index : DatetimeIndex
        Regular (constant step) timestamps, each the start of an interval. A single timestamp
        is taken as the start of one hour.

    Returns
    -------
    midpoints : DatetimeIndex
        ``index + step / 2`` in the same time zone.

    Raises
    ------
    ValueError
        If the steps are not all equal (in absolute time) or not positive.
    """
    return index + time_step(index) / 2


def time_step(index: pd.DatetimeIndex) -> pd.Timedelta:
    """The constant step of a regular, increasing index (one hour for a single timestamp);
    raises ValueError for an irregular one."""
    if len(index) < 2:
        return pd.Timedelta(hours=1)
    steps = index[1:] - index[:-1]
    step = steps[0]
    if step <= pd.Timedelta(0) or not (steps == step).all():
        raise ValueError(
            "the time index must be regular and increasing (one constant step); "
            f"found steps from {steps.min()} to {steps.max()}"
        )
    return step


def local_standard_time(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Naive local standard time (wall clock without daylight saving) of tz-aware timestamps.

    Parameters
    ----------
    index : DatetimeIndex
        tz-aware timestamps.

    Returns
    -------
    standard : DatetimeIndex
        Naive timestamps: UTC plus the zone's standard offset, taken per year as the smaller of
        the offsets in force in mid-January and mid-July (daylight saving adds to it).

    Raises
    ------
    ValueError
        If ``index`` is naive.
    """
    if index.tz is None:
        raise ValueError("the time index must be tz-aware (localise it in the site's zone)")
    utc = index.tz_convert("UTC").tz_localize(None)
    years = np.unique(index.year)
    probes = pd.DatetimeIndex(
        [f"{y}-{m}-15 12:00" for y in years for m in ("01", "07")]
    ).tz_localize(index.tz)
    offsets = (probes.tz_localize(None) - probes.tz_convert("UTC").tz_localize(None)).to_numpy()
    standard = offsets.reshape(-1, 2).min(axis=1)
    per_year = dict(zip(years.tolist(), standard, strict=True))
    shift = np.array([per_year[y] for y in index.year.tolist()], dtype="timedelta64[ns]")
    return pd.DatetimeIndex(utc + pd.to_timedelta(shift))


# ---------------------------------------------------------------------------------------------
# Typical year -> simulated period


def align_to_period(weather: pd.DataFrame, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Map one year of weather onto the simulated timestamps by month, day and hour.

    Parameters
    ----------
    weather : DataFrame
        One year of hourly weather (a typical year, whose months may come from different years,
        or one actual year), tz-aware index labelling the start of each hour, for example from
        :func:`read_weather`. At most one row per month-day-hour.
    index : DatetimeIndex
        The simulated timestamps: tz-aware, any start, any length (several years, starting
        mid-year), hourly or finer.

    Returns
    -------
    aligned : DataFrame
        ``weather``'s columns on ``index``. Each timestamp takes the row of the hour that
        contains it; finer steps repeat the hourly value (a step function).

    Raises
    ------
    ValueError
        If ``index`` or ``weather.index`` is naive, if ``weather`` holds more than one row for a
        month-day-hour (several years: select the matching rows yourself), if weather rows are
        not on the hour, or if a simulated hour has no weather row.

    Notes
    -----
    Both sides are compared in **local standard time** (:func:`local_standard_time`). TMY3 and
    EPW clocks are local standard time, so for a file from the site's own zone this is the same
    as converting the simulated instants to the file's offset: in a zone with daylight saving
    the summer weather stays with the sun, not with the clock. A run first converts the file to
    the site's zone (:func:`twin.energy.weather_site.read_site_weather`), so a file from another
    zone is matched by absolute time; left in its own zone, its hours would keep their local
    solar meaning instead. February 29 takes February 28 when the weather has no February 29.
    """
    if weather.index.tz is None:
        raise ValueError("weather index must be tz-aware")
    weather_std = local_standard_time(weather.index)
    wkey = _mdh_key(weather_std)
    if (weather_std.minute != 0).any():
        raise ValueError("weather rows must be on the hour (hourly weather expected)")
    dup = pd.Index(wkey).duplicated()
    if dup.any():
        first = weather.index[np.flatnonzero(dup)[0]]
        raise ValueError(
            "weather holds more than one row for the same month-day-hour (e.g. at "
            f"{first}); align_to_period expects one year. For multi-year actual weather, "
            "select the simulated rows with weather.reindex(index)"
        )
    target = local_standard_time(index).floor("h")
    key = _mdh_key(target)
    if not (wkey // 100 == 229).any():
        leap = key // 100 == 229
        key = np.where(leap, key - 100, key)  # 0229hh -> 0228hh
    pos = pd.Index(wkey).get_indexer(key)
    if (pos < 0).any():
        i = int(np.flatnonzero(pos < 0)[0])
        raise ValueError(f"weather has no row for {index[i]} (local standard time {target[i]})")
    out = pd.DataFrame(weather.to_numpy()[pos], index=index, columns=weather.columns)
    out = out.astype(weather.dtypes.to_dict())
    out.attrs = {**weather.attrs, "aligned_from": "month-day-hour, local standard time"}
    return out


def _mdh_key(naive: pd.DatetimeIndex) -> np.ndarray:
    return (naive.month * 100 + naive.day).to_numpy() * 100 + naive.hour.to_numpy()
