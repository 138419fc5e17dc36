"""Meter timestamps to absolute time: ISO text with or without offset, Excel and Parquet datetimes,
naive local time with its daylight-saving transitions.

Naive local times in the fall-back hour occur twice. They are resolved by row order, as pandas'
``ambiguous='infer'`` does for a sorted series: within the repeated hour of one night (per meter,
in file order) the clock goes back exactly once; readings before that step are summer time,
readings from it on standard time. When the step cannot be found (one pass of the hour only, or
more than one step back) those readings are left out as ``dst_ambiguous``. Naive times that do not
exist (the spring-forward hour) are left out as ``dst_nonexistent``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

UNPARSEABLE = "unparseable"
DST_NONEXISTENT = "dst_nonexistent"
DST_AMBIGUOUS = "dst_ambiguous"

_OFFSET = r"(?:[Zz]|[+-]\d{2}:?\d{2}|[+-]\d{2})$"
NAT = np.iinfo(np.int64).min


def parse_timestamps(raw: pd.Series, zone: str, fmt: str | None = None,
                     groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Absolute times [ns since the epoch, UTC] of ``raw`` and, per row, why not ('' if fine).

    ``zone`` is the zone of naive timestamps; ``groups`` (one key per row, e.g. the meter id of a
    long file) separates the rows whose file order resolves the fall-back hour.
    """
    n = len(raw)
    out = np.full(n, NAT, dtype=np.int64)
    why = np.full(n, "", dtype=object)
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        idx = pd.DatetimeIndex(raw).tz_convert("UTC")
        out[:] = _ns(idx)
        why[idx.isna()] = UNPARSEABLE
        return out, why
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        return _naive(pd.DatetimeIndex(raw), zone, groups, out, why)

    values = raw.astype(object).to_numpy()
    is_dt = np.array([isinstance(v, (dt.datetime, pd.Timestamp)) for v in values], dtype=bool)
    is_aware_dt = np.array([isinstance(v, (dt.datetime, pd.Timestamp)) and v.tzinfo is not None
                            for v in values], dtype=bool)
    text = pd.Series([v.strip() if isinstance(v, str) else "" for v in values], dtype=object)
    has_text = (text != "").to_numpy()
    aware = has_text & text.str.contains(_OFFSET, regex=True).to_numpy()
    naive_text = has_text & ~aware
    why[~(is_dt | has_text)] = UNPARSEABLE

    if aware.any():
        parsed = pd.to_datetime(text[aware], utc=True, format=fmt or "ISO8601", errors="coerce")
        out[aware] = _ns(pd.DatetimeIndex(parsed))
    if is_aware_dt.any():
        parsed = pd.to_datetime(pd.Series(values[is_aware_dt]), utc=True, errors="coerce")
        out[is_aware_dt] = _ns(pd.DatetimeIndex(parsed))
    naive_mask = naive_text | (is_dt & ~is_aware_dt)
    if naive_mask.any():
        naive = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        if naive_text.any():
            parsed = pd.to_datetime(text[naive_text], format=fmt or "ISO8601", errors="coerce")
            naive[naive_text] = pd.DatetimeIndex(parsed).tz_localize(None).to_numpy("M8[ns]")
        plain = is_dt & ~is_aware_dt
        if plain.any():
            naive[plain] = pd.DatetimeIndex(list(values[plain])).to_numpy("M8[ns]")
        sub_out = np.full(int(naive_mask.sum()), NAT, dtype=np.int64)
        sub_why = np.full(int(naive_mask.sum()), "", dtype=object)
        sub_groups = groups[naive_mask] if groups is not None else None
        sub_out, sub_why = _naive(pd.DatetimeIndex(naive[naive_mask]), zone, sub_groups,
                                  sub_out, sub_why)
        out[naive_mask] = sub_out
        why[naive_mask] = sub_why
    why[(why == "") & (out == NAT)] = UNPARSEABLE
    return out, why


def _ns(idx: pd.DatetimeIndex) -> np.ndarray:
    """ns since the epoch (NaT as ``NAT``) of a UTC or naive index."""
    return idx.as_unit("ns").asi8.copy()


def _naive(naive: pd.DatetimeIndex, zone: str, groups: np.ndarray | None, out: np.ndarray,
           why: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Localize naive wall times in ``zone`` (see the module docstring for the DST rules)."""
    naive = naive.as_unit("ns")
    ok = ~naive.isna()
    why[~ok] = UNPARSEABLE
    n = len(naive)
    summer = naive.tz_localize(zone, ambiguous=np.ones(n, dtype=bool), nonexistent="NaT")
    winter = naive.tz_localize(zone, ambiguous=np.zeros(n, dtype=bool), nonexistent="NaT")
    s_ns, w_ns = _ns(summer), _ns(winter)
    nonexistent = ok & (s_ns == NAT)
    why[nonexistent] = DST_NONEXISTENT
    out[ok & ~nonexistent] = s_ns[ok & ~nonexistent]
    ambiguous = ok & ~nonexistent & (s_ns != w_ns)
    if ambiguous.any():
        wall = naive.asi8
        keys = groups if groups is not None else np.zeros(n, dtype=object)
        day = wall // (86400 * 10**9)
        pos = np.flatnonzero(ambiguous)
        runs: dict[tuple[object, int], list[int]] = {}
        for p in pos:
            runs.setdefault((keys[p], int(day[p])), []).append(int(p))
        for rows in runs.values():
            w = wall[rows]
            back = np.flatnonzero(w[1:] < w[:-1]) + 1
            if len(back) == 0:
                back = np.flatnonzero(w[1:] == w[:-1])[:1] + 1  # hourly readings: 02:00 twice
            if len(back) != 1:
                why[rows] = DST_AMBIGUOUS
                out[rows] = NAT
                continue
            later = np.array(rows[int(back[0]):])
            out[later] = w_ns[later]
    return out, why
