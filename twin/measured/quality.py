"""The data-quality tests, as functions over arrays of one meter's readings in time order.

Each returns a boolean mask (or indices) of readings to leave out; the caller records why.
"""

from __future__ import annotations

import math

import numpy as np

REASONS: tuple[str, ...] = (
    "missing", "duplicate", "out_of_order", "negative", "spike", "flatline", "outside_period",
    "unparseable", "off_grid", "dst_nonexistent", "dst_ambiguous", "register_reset",
    "incomplete_interval",
)
"""Every reason a reading (or, for ``missing``, an interval) is counted. ``out_of_order``
readings are sorted and kept; all others are left out."""

MAD_TO_SIGMA = 1.4826
"""1 / Phi^-1(3/4): MAD x 1.4826 estimates sigma of normal data (Iglewicz & Hoaglin 1993)."""
MEANAD_TO_SIGMA = 1.2533
"""sqrt(pi/2): mean absolute deviation x 1.2533 estimates sigma of normal data; used where MAD
is 0."""


def out_of_order(t: np.ndarray) -> int:
    """Rows earlier than a row above them in the file: ``t[i] < max(t[:i])``."""
    if len(t) < 2:
        return 0
    return int(np.count_nonzero(t[1:] < np.maximum.accumulate(t)[:-1]))


def duplicates(t: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted ``t``: (left out as duplicate, kept) masks. Equal values at one time keep the
    first; conflicting values leave every reading at that time out."""
    n = len(t)
    drop = np.zeros(n, dtype=bool)
    if n < 2:
        return drop, ~drop
    same_t = np.r_[False, t[1:] == t[:-1]]
    if not same_t.any():
        return drop, ~drop
    start = np.flatnonzero(~same_t)
    group = np.cumsum(~same_t) - 1
    vmin = np.minimum.reduceat(v, start)
    vmax = np.maximum.reduceat(v, start)
    size = np.diff(np.r_[start, n])
    conflict = (vmin != vmax)[group] & (size > 1)[group]
    drop = conflict | (same_t & ~conflict)
    return drop, ~drop


def register_max_for(values: np.ndarray) -> float:
    """The next power of ten above the largest reading (99 999.9 -> 100 000)."""
    top = float(np.nanmax(values)) if len(values) else 0.0
    if top <= 0:
        return 1.0
    return float(10 ** (math.floor(math.log10(top)) + 1))


def register_differences(t: np.ndarray, r: np.ndarray, step: int, register_max: float
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Energy per reading step from a cumulative register.

    ``t`` sorted unique instants, ``r`` register readings. Returns (slot start of each
    difference, energy, is_reset). A difference is taken only between readings one ``step``
    apart. A drop is a rollover when the register was within the top 10 % of ``register_max``
    and the wrapped difference ``r[i] - r[i-1] + register_max`` is within 10 % of it (added back);
    any other drop is a reset (the difference is unknown).
    """
    if len(t) < 2:
        empty = np.zeros(0)
        return empty.astype(np.int64), empty, empty.astype(bool)
    adjacent = (t[1:] - t[:-1]) == step
    prev, cur = r[:-1][adjacent], r[1:][adjacent]
    slot = t[:-1][adjacent]
    d = cur - prev
    wrapped = d + register_max
    rollover = (d < 0) & (prev >= 0.9 * register_max) & (wrapped >= 0) & \
        (wrapped <= 0.1 * register_max)
    e = np.where(rollover, wrapped, d)
    reset = (d < 0) & ~rollover
    return slot, e, reset


def flatline(t: np.ndarray, e: np.ndarray, step: int, min_len: int) -> np.ndarray:
    """Readings in runs of one repeated non-zero value over >= ``min_len`` consecutive steps."""
    n = len(t)
    out = np.zeros(n, dtype=bool)
    if n < min_len or min_len < 2:
        return out
    cont = np.r_[False, (e[1:] == e[:-1]) & ((t[1:] - t[:-1]) == step) & (e[1:] != 0)]
    start = np.flatnonzero(~cont)
    length = np.diff(np.r_[start, n])
    return np.repeat(length >= min_len, length)


def spikes(t: np.ndarray, e: np.ndarray, step: int, z_max: float, window: int,
           min_pct: float = 0.0, chunk: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """Hampel identifier on a regular grid: (spike mask, modified z-score) per reading.

    z = |x - m| / (1.4826 MAD) with m and MAD the median and median absolute deviation of the
    readings in the centred ``window`` (gaps skipped; at least 3 readings needed); Iglewicz &
    Hoaglin (1993), *How to Detect and Handle Outliers*. Where MAD is 0, the scale is 1.2533 x
    the mean absolute deviation (for normal data that is sigma x sqrt(2/pi)). A median filter
    keeps steps and ramps, so production starts and stops score 0. A spike needs z > ``z_max``
    and |x - m| > ``min_pct`` % of |m|: where the load is steady (MAD near 0) a machine stopping
    for part of an interval would otherwise score a huge z.
    """
    n = len(t)
    z = np.zeros(n)
    if n < 3:
        return z > 0, z
    half = window // 2
    pos = (t - t[0]) // step
    grid = np.full(int(pos[-1]) + 1 + 2 * half, np.nan)
    grid[pos + half] = e
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        centre = pos[a:b] + half
        idx = centre[:, None] + np.arange(-half, half + 1)[None, :]
        win = grid[idx]
        count = np.count_nonzero(~np.isnan(win), axis=1)
        med = _nanmedian_rows(win, count)
        dev = np.abs(win - med[:, None])
        mad = _nanmedian_rows(dev, count)
        with np.errstate(invalid="ignore"):
            meanad = np.nansum(dev, axis=1) / np.maximum(count, 1)
        scale = np.where(mad > 0, MAD_TO_SIGMA * mad, MEANAD_TO_SIGMA * meanad)
        x = e[a:b]
        with np.errstate(divide="ignore", invalid="ignore"):
            zz = np.where(scale > 0, np.abs(x - med) / scale, 0.0)
        zz = np.where(np.abs(x - med) > min_pct / 100 * np.abs(med), zz, 0.0)
        z[a:b] = np.where(count >= 3, zz, 0.0)
    return z > z_max, z


def _nanmedian_rows(a: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Median of each row ignoring NaN (``count`` valid values per row; NaN where 0).

    ``np.nanmedian`` goes through masked arrays and is ~10x slower on many short rows."""
    srt = np.sort(a, axis=1)  # NaN sort last
    lo = np.clip((count - 1) // 2, 0, a.shape[1] - 1)
    hi = np.clip(count // 2, 0, a.shape[1] - 1)
    rows = np.arange(len(a))
    med = 0.5 * (srt[rows, lo] + srt[rows, hi])
    return np.where(count > 0, med, np.nan)
