"""Synthetic weather: a seeded weather year for a site when no weather file is given.

SYNTHETIC, not measured: pvlib's Ineichen clear sky (with the Linke turbidity data pvlib ships)
times a seeded daily cloudiness calibrated to an annual clearness index, temperature from monthly
means plus a daily cycle, and wind from a Weibull distribution. Use a measured or typical
meteorological year file for any decision that depends on the PV yield.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pvlib
from scipy.special import ndtr

from twin.energy.weather import local_standard_time, time_step
from twin.streams import Streams

# Defaults of synthetic_weather: the climate of the TMY3 file pvlib ships (723170TYA.CSV,
# Greensboro NC, 36.1 N, 79.95 W), computed from that file with the timestamps moved to the start
# of each hour. Replace them with values for the site.
GREENSBORO_MONTHLY_TEMP_C: tuple[float, ...] = (
    0.3, 5.0, 11.4, 14.7, 19.0, 23.6, 25.4, 24.8, 20.1, 13.1, 10.8, 4.2,
)
GREENSBORO_DAILY_SWING_C = 10.7  # mean of (daily max - daily min) air temperature [degC]
GREENSBORO_CLEARNESS = 0.77  # sum(GHI) / sum(Ineichen clear-sky GHI at mid-hour) [-]
GREENSBORO_WIND_MEAN_MPS = 3.05  # annual mean 10 m wind speed [m/s]
_DAILY_INDEX_STD = 0.23  # std of the daily clear-sky index in the same file [-]
_DAILY_INDEX_LAG1 = 0.33  # lag-1 autocorrelation of the daily clear-sky index [-]
_WIND_LAG1 = 0.77  # lag-1 autocorrelation of hourly wind speed [-]
_DAILY_INDEX_MIN = 0.05  # floor of the daily clear-sky index (heavy overcast) [-]


# ---------------------------------------------------------------------------------------------
# Synthetic weather


def synthetic_weather(
    latitude: float,
    longitude: float,
    tz: str,
    index: pd.DatetimeIndex,
    *,
    annual_clearness: float = GREENSBORO_CLEARNESS,
    monthly_temp_c: tuple[float, ...] | list[float] | np.ndarray = GREENSBORO_MONTHLY_TEMP_C,
    daily_temp_swing_c: float = GREENSBORO_DAILY_SWING_C,
    wind_mean_mps: float = GREENSBORO_WIND_MEAN_MPS,
    wind_weibull_k: float = 2.0,
    altitude_m: float | None = None,
    seed: int = 0,
    solar_position: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """SYNTHETIC weather for a site when no weather file is given. Not measured data.

    Clear-sky irradiance times a random daily cloudiness, a smooth annual temperature cycle
    with a daily sine, and random wind. Use it to exercise a model, never to estimate the yield
    of a real plant: the shape of each day is a clear day scaled down, and the defaults describe
    Greensboro NC (the TMY3 file pvlib ships), not your site.

    Parameters
    ----------
    latitude : float
        Site latitude, north positive [deg].
    longitude : float
        Site longitude, east positive [deg].
    tz : str
        IANA time zone of the site; a naive ``index`` is localised in it, an aware one converted.
    index : DatetimeIndex
        Regular timestamps, each the start of an interval of one hour or less.
    annual_clearness : float, default 0.77
        Target ratio of total GHI to total clear-sky GHI over ``index`` [-], in (0.05, 1].
        The default is the Greensboro TMY3 value against Ineichen clear sky.
    monthly_temp_c : sequence of 12 float
        Monthly mean air temperatures, January first [degC]. Default: Greensboro TMY3.
    daily_temp_swing_c : float, default 10.7
        Difference between the daily maximum and minimum of air temperature [degC].
    wind_mean_mps : float, default 3.05
        Mean wind speed at 10 m [m/s]. Default: Greensboro TMY3.
    wind_weibull_k : float, default 2.0
        Weibull shape factor of the wind speed [-]; 2 is the Rayleigh distribution, the usual
        assumption without site data.
    altitude_m : float, optional
        Site altitude [m]; looked up from pvlib's bundled altitude map when None.
    seed : int, default 0
        Run seed. Cloudiness and wind draw from their own streams, spawned from ``seed`` by the
        stable names ``weather:synthetic:cloudiness`` and ``weather:synthetic:wind``
        (:class:`twin.streams.Streams`), so the same seed and index give identical weather.
    solar_position : DataFrame, optional
        The sun at the interval midpoints, as pvlib's ``Location.get_solarposition`` gives it
        for this site (default temperature 12 °C), e.g. from
        :func:`twin.energy.pv.solar_position_at`; saves a second SPA run when the caller needs
        the sun anyway.

    Returns
    -------
    weather : DataFrame
        Columns ``ghi, dni, dhi`` [W/m2], ``temp_air`` [degC], ``wind_speed`` [m/s] on ``index``
        (in zone ``tz``). ``attrs['synthetic']`` is True and ``attrs['clearness']`` holds the
        achieved ratio.

    Notes
    -----
    Sun position and clear sky are evaluated at the middle of each interval. Clear sky is
    Ineichen-Perez [1]_ with pvlib's monthly Linke turbidity climatology [2]_ (offline).

    Cloudiness: a daily clear-sky index

    .. math:: k_d = \\mathrm{clip}(\\mu + \\sigma z_d,\\ 0.05,\\ 1), \\quad
              z_d = \\phi z_{d-1} + \\sqrt{1-\\phi^2}\\,\\varepsilon_d

    with :math:`\\sigma = 0.23`, :math:`\\phi = 0.33` (both measured on the Greensboro TMY3 daily
    clear-sky index) and :math:`\\mu` found by bisection so that
    :math:`\\sum k_d\\,GHI_{cs} / \\sum GHI_{cs}` equals ``annual_clearness``. GHI is
    :math:`k_d\\,GHI_{cs}`, so it never exceeds clear sky. DNI and DHI come from the Erbs
    decomposition [3]_; DNI is capped at clear-sky DNI and DHI closes
    :math:`GHI = DNI\\cos\\theta_z + DHI`.

    Temperature: a periodic piecewise-linear curve through 12 mid-month nodes, solved so that
    each calendar month's mean equals ``monthly_temp_c`` exactly
    (:math:`(n_{m-1} + 6 n_m + n_{m+1})/8 = T_m`), plus
    :math:`\\tfrac{1}{2}\\Delta T \\cos(2\\pi (h - 15)/24)` in local standard hours :math:`h`
    (maximum at 15:00, zero mean over a day). Temperature does not respond to cloudiness.

    Wind: an hourly first-order autoregressive Gaussian process (lag-1 correlation 0.77,
    Greensboro TMY3) mapped through the normal and Weibull distribution functions, so each
    value is Weibull-distributed with mean ``wind_mean_mps``.

    References
    ----------
    .. [1] P. Ineichen and R. Perez, "A new airmass independent formulation for the Linke
       turbidity coefficient", Solar Energy 73(3), 151-157, 2002,
       :doi:`10.1016/S0038-092X(02)00045-2`.
    .. [2] J. Remund et al., "Worldwide Linke Turbidity Information", Proc. ISES Solar World
       Congress, Goteborg, 2003.
    .. [3] D. G. Erbs, S. A. Klein and J. A. Duffie, "Estimation of the diffuse radiation
       fraction for hourly, daily and monthly-average global radiation", Solar Energy 28(4),
       293-302, 1982, :doi:`10.1016/0038-092X(82)90302-4`.
    """
    if not 0.05 < annual_clearness <= 1.0:
        raise ValueError(f"annual_clearness must be in (0.05, 1], got {annual_clearness}")
    temps = np.asarray(monthly_temp_c, dtype=float)
    if temps.shape != (12,):
        raise ValueError(f"monthly_temp_c needs 12 values (January first), got {temps.size}")
    if daily_temp_swing_c < 0 or wind_mean_mps < 0 or wind_weibull_k <= 0:
        raise ValueError("daily_temp_swing_c and wind_mean_mps must be >= 0, wind_weibull_k > 0")
    index = pd.DatetimeIndex(index)
    index = index.tz_localize(tz) if index.tz is None else index.tz_convert(tz)
    step = time_step(index)
    if step > pd.Timedelta(hours=1):
        raise ValueError(f"synthetic_weather needs steps of one hour or less, got {step}")
    mid = index + step / 2
    streams = Streams(seed)

    location = pvlib.location.Location(latitude, longitude, tz=tz, altitude=altitude_m)
    if solar_position is None:
        solpos = location.get_solarposition(mid)
    elif not solar_position.index.equals(mid):
        raise ValueError("solar_position must be given at the midpoints of the index intervals")
    else:
        solpos = solar_position
    clear = location.get_clearsky(mid, model="ineichen", solar_position=solpos)
    ghi_cs = clear["ghi"].to_numpy()
    dni_cs = clear["dni"].to_numpy()
    std_mid = local_standard_time(mid)

    k_step, clearness = _daily_clearness(
        std_mid, ghi_cs, annual_clearness, streams.generator("weather:synthetic:cloudiness")
    )
    ghi = k_step * ghi_cs
    zenith = solpos["zenith"].to_numpy()
    split = pvlib.irradiance.erbs(ghi, zenith, mid)
    dni = np.minimum(np.asarray(split["dni"], dtype=float), dni_cs)
    cosz = np.cos(np.radians(zenith))
    dhi = np.where(ghi > 0, ghi - dni * np.clip(cosz, 0.0, None), 0.0)

    temp = _annual_temperature(std_mid, temps) + _daily_cycle(std_mid, daily_temp_swing_c)
    wind = _weibull_wind(
        len(index), step, wind_mean_mps, wind_weibull_k, streams.generator("weather:synthetic:wind")
    )
    out = pd.DataFrame(
        {"ghi": ghi, "dni": dni, "dhi": dhi, "temp_air": temp, "wind_speed": wind}, index=index
    )
    out.index.name = "time"
    out.attrs = {
        "source": "synthetic", "kind": "synthetic", "synthetic": True, "seed": int(seed),
        "clearness": clearness, "latitude": latitude, "longitude": longitude,
        "altitude_m": float(location.altitude), "typical_year": False,
    }
    return out


def _daily_clearness(
    std_mid: pd.DatetimeIndex, ghi_cs: np.ndarray, target: float, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """Per-step clear-sky index (constant within a local standard day) and achieved clearness."""
    day_codes, day_of_step = np.unique(std_mid.normalize().asi8, return_inverse=True)
    n_days = len(day_codes)
    z = _ar1(rng.standard_normal(n_days), _DAILY_INDEX_LAG1)
    energy = np.bincount(day_of_step, weights=ghi_cs, minlength=n_days)
    total = energy.sum()
    if total <= 0:
        return np.zeros_like(ghi_cs), float("nan")

    def clearness(mu: float) -> float:
        k = np.clip(mu + _DAILY_INDEX_STD * z, _DAILY_INDEX_MIN, 1.0)
        return float(k @ energy / total)

    low, high = -2.0, 3.0 + 10.0 * _DAILY_INDEX_STD * float(np.abs(z).max())
    for _ in range(100):
        mid = 0.5 * (low + high)
        if clearness(mid) < target:
            low = mid
        else:
            high = mid
    k_day = np.clip(high + _DAILY_INDEX_STD * z, _DAILY_INDEX_MIN, 1.0)
    return k_day[day_of_step], float(k_day @ energy / total)


def _month_position(std: pd.DatetimeIndex) -> np.ndarray:
    """Continuous month coordinate in [0, 12): month m spans [m-1, m), uniform within it."""
    day_frac = (std.day.to_numpy() - 1) + (
        std.hour.to_numpy() + std.minute.to_numpy() / 60 + std.second.to_numpy() / 3600
    ) / 24
    return (std.month.to_numpy() - 1) + day_frac / std.days_in_month.to_numpy()


def _annual_temperature(std: pd.DatetimeIndex, monthly: np.ndarray) -> np.ndarray:
    """Piecewise-linear periodic curve whose calendar-month means equal ``monthly``."""
    circ = np.zeros((12, 12))
    for m in range(12):
        circ[m, (m - 1) % 12] += 1 / 8
        circ[m, m] += 6 / 8
        circ[m, (m + 1) % 12] += 1 / 8
    nodes = np.linalg.solve(circ, monthly)
    x = np.arange(-1, 13) + 0.5
    y = np.concatenate(([nodes[-1]], nodes, [nodes[0]]))
    return np.interp(_month_position(std), x, y)


def _daily_cycle(std: pd.DatetimeIndex, swing_c: float) -> np.ndarray:
    hours = std.hour.to_numpy() + std.minute.to_numpy() / 60 + std.second.to_numpy() / 3600
    return 0.5 * swing_c * np.cos(2 * np.pi * (hours - 15.0) / 24.0)


def _weibull_wind(
    n: int, step: pd.Timedelta, mean: float, k: float, rng: np.random.Generator
) -> np.ndarray:
    phi = _WIND_LAG1 ** (step / pd.Timedelta(hours=1))
    z = _ar1(rng.standard_normal(n), phi)
    u = np.clip(ndtr(z), 1e-12, 1 - 1e-12)
    c = mean / math.gamma(1.0 + 1.0 / k)
    return c * (-np.log1p(-u)) ** (1.0 / k)


def _ar1(eps: np.ndarray, phi: float) -> np.ndarray:
    """Stationary unit-variance AR(1): z_0 = e_0, z_i = phi z_(i-1) + sqrt(1 - phi^2) e_i."""
    scale = math.sqrt(1.0 - phi**2)
    if eps.size == 0 or scale == 0.0:
        return np.full_like(eps, eps[0] if eps.size else 0.0)
    # the recursion written out (bit for bit scipy.signal.lfilter([scale], [1, -phi], x), with
    # x_0 = e_0 / scale; a plain loop over a year of hours takes about a millisecond, importing
    # scipy.signal for it about 0.2 s)
    z = np.empty_like(eps)
    prev = 0.0
    for i, e in enumerate(eps.tolist()):
        prev = scale * (e / scale if i == 0 else e) + phi * prev
        z[i] = prev
    return z
