"""Photovoltaic AC output from hourly weather: the PVWatts v5 chain, built from pvlib functions.

One function, :func:`pv_ac_kw`, runs sun position, transposition to the plane of array, the
angle-of-incidence loss, cell temperature, PVWatts DC power, PVWatts system losses and the
PVWatts inverter. It equals pvlib's ``ModelChain.with_pvwatts`` run on weather whose index is
moved to the middle of each interval (the test suite checks this hour by hour).

**Timestamp convention.** Weather rows are labelled by the start of the interval they average
(see :mod:`twin.energy.weather`). The sun's position is taken at the middle of each interval,
as SAM/PVWatts do for hourly data; unlike SAM, the sunrise and sunset hours are not given
special treatment. The returned power is the average over the same interval, on the same index.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pvlib

from twin.energy.weather import WEATHER_COLUMNS, interval_midpoints

PVWATTS_LOSSES_PCT: float = float(pvlib.pvsystem.pvwatts_losses())
"""PVWatts v5 default system losses, 14.0757 % (shown as 14.08 %): soiling 2, shading 3, snow 0,
mismatch 2, wiring 2, connections 0.5, light-induced degradation 1.5, nameplate 1, age 0,
availability 3 (%), combined as :math:`100 [1 - \\prod_i (1 - L_i/100)]` (Dobos 2014)."""

TEMPERATURE_MODELS: dict[str, tuple[str, Mapping[str, float]]] = {
    f"{model}_{mount}": (model, params)
    for model in ("sapm", "pvsyst")
    for mount, params in pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS[model].items()
}
"""Named cell-temperature models: ``sapm_<mount>`` (King et al. 2004) and ``pvsyst_<mount>``
with pvlib's parameter sets, e.g. ``sapm_open_rack_glass_polymer`` (a = -3.56, b = -0.075,
dT = 3) or ``pvsyst_freestanding`` (U_c = 29 W/m2K)."""

TRANSPOSITION_MODELS = ("perez", "haydavies", "isotropic")


def pv_ac_kw(
    weather: pd.DataFrame,
    latitude: float,
    longitude: float,
    *,
    tilt_deg: float,
    azimuth_deg: float,
    dc_kwp: float,
    altitude_m: float = 0.0,
    dc_ac_ratio: float = 1.2,
    losses_pct: float = PVWATTS_LOSSES_PCT,
    gamma_pdc_per_c: float = -0.0037,
    degradation_pct_per_year: float = 0.5,
    years_in_service: float | np.ndarray = 0.0,
    temperature_model: str = "sapm_open_rack_glass_polymer",
    transposition_model: str = "perez",
    iam_model: str | None = "physical",
    albedo: float = 0.2,
    eta_inv_nom: float = 0.96,
    solar_position: pd.DataFrame | None = None,
) -> pd.Series:
    """AC power of a fixed-tilt PV system, averaged over each weather interval.

    Parameters
    ----------
    weather : DataFrame
        Columns ``ghi, dni, dhi`` [W/m2], ``temp_air`` [degC], ``wind_speed`` [m/s] on a regular
        tz-aware index whose labels are the **start** of each interval (hourly or finer).
    latitude : float
        Site latitude, north positive [deg].
    longitude : float
        Site longitude, east positive [deg].
    tilt_deg : float
        Module tilt from horizontal [deg], 0-90.
    azimuth_deg : float
        Direction the modules face, clockwise from north [deg]: 180 faces south.
    dc_kwp : float
        DC nameplate at standard test conditions [kWp].
    altitude_m : float, default 0
        Site altitude [m]; sets the pressure for refraction and absolute air mass.
    dc_ac_ratio : float, default 1.2
        DC nameplate over inverter AC rating [-]; the AC limit is ``dc_kwp / dc_ac_ratio``.
        1.2 is a common inverter loading ratio (NREL ssc's PVWatts v5 module defaults to 1.1).
    losses_pct : float, default 14.0757
        System losses applied to DC power [%] (:data:`PVWATTS_LOSSES_PCT`, Dobos 2014).
    gamma_pdc_per_c : float, default -0.0037
        Temperature coefficient of DC power [1/degC]: the PVWatts v7/v8 "standard" module
        (NREL ssc ``cmod_pvwattsv7``; PVWatts v5 used -0.0047). pvlib gives a typical range of
        -0.002 to -0.005.
    degradation_pct_per_year : float, default 0.5
        Linear loss of DC output per year in service [%/yr]. 0.5 %/yr is a common planning value
        (an assumption here, not a sourced default); set it for your modules.
    years_in_service : float or ndarray, default 0
        Age of the array [yr]: one value, or one per weather row (a multi-year run ages the
        array year by year, :func:`years_since`).
    temperature_model : str, default 'sapm_open_rack_glass_polymer'
        A key of :data:`TEMPERATURE_MODELS`. (PVWatts itself uses the Fuentes model with an
        INOCT of 45 degC for open racks; pvlib's ``ModelChain.with_pvwatts`` uses SAPM.)
    transposition_model : {'perez', 'haydavies', 'isotropic'}, default 'perez'
        Sky-diffuse transposition model. PVWatts uses Perez (1990 coefficients).
    iam_model : {'physical', None}, default 'physical'
        Angle-of-incidence loss on beam irradiance: the physical (Fresnel and absorption) model
        for a glass cover with pvlib's defaults n = 1.526, K = 4 /m, L = 2 mm, as in PVWatts;
        None for no loss.
    albedo : float, default 0.2
        Ground reflectance [-].
    eta_inv_nom : float, default 0.96
        Nominal inverter efficiency [-] (PVWatts default).
    solar_position : DataFrame, optional
        The sun at the interval midpoints from :func:`solar_position` for this site and
        ``altitude_m`` (at any air temperature), to share one SPA evaluation between several
        arrays and the synthetic weather. The refraction is redone for ``temp_air``
        (:func:`refracted`), so the result is bit for bit the same as without it.

    Returns
    -------
    ac_kw : Series
        AC power [kW], average over each interval, on ``weather.index``, named ``pv_ac_kw``.
        Zero at night. Multiply by the interval length in hours for energy [kWh].

    Raises
    ------
    ValueError
        For missing or NaN weather columns, an irregular or naive index, or parameters out of
        range, or an unknown model name.

    Notes
    -----
    With :math:`G_{poa}` the plane-of-array irradiance (beam, sky diffuse, ground reflected)
    and :math:`\\mathrm{IAM}` the incidence-angle modifier on the beam part,

    .. math::

        G_{eff} &= G_{beam}\\,\\mathrm{IAM}(\\theta) + G_{diffuse} \\\\
        P_{dc} &= \\frac{G_{eff}}{1000}\\, P_{dc0}\\, (1 - d\\,y)\\,
                  [1 + \\gamma (T_{cell} - 25)]\\, (1 - L/100) \\\\
        P_{ac} &= \\min\\left(\\eta\\, P_{dc},\\ P_{ac0}\\right),\\quad
                  \\eta = \\frac{\\eta_{nom}}{0.9637}\\left(-0.0162\\,\\zeta
                  - \\frac{0.0059}{\\zeta} + 0.9858\\right),\\quad
                  \\zeta = \\frac{P_{dc}\\,\\eta_{nom}}{P_{ac0}}

    with :math:`d` the degradation rate, :math:`y` the years in service (the derate is applied
    to DC power, before the inverter, so clipping still limits the output), :math:`L` the system
    losses, :math:`P_{ac0} = P_{dc0} / r_{dc/ac}` [1]_. Cell temperature uses the plane-of-array
    irradiance before the incidence loss, as pvlib's ModelChain does [2]_. Air mass is
    Kasten-Young 1989 on the apparent zenith; extraterrestrial irradiance is Spencer's formula.

    References
    ----------
    .. [1] A. P. Dobos, "PVWatts Version 5 Manual", NREL/TP-6A20-62641, 2014,
       :doi:`10.2172/1158421`.
    .. [2] D. L. King, W. E. Boyson and J. A. Kratochvil, "Photovoltaic Array Performance
       Model", SAND2004-3535, Sandia National Laboratories, 2004, :doi:`10.2172/919131`.
    .. [3] R. Perez et al., "Modeling daylight availability and irradiance components from
       direct and global irradiance", Solar Energy 44(5), 271-289, 1990,
       :doi:`10.1016/0038-092X(90)90055-H`.
    .. [4] J. E. Hay and J. A. Davies, "Calculations of the solar radiation incident on an
       inclined surface", Proc. First Canadian Solar Radiation Data Workshop, 59, 1980.
    .. [5] W. De Soto, S. A. Klein and W. A. Beckman, "Improvement and validation of a model for
       photovoltaic array performance", Solar Energy 80(1), 78-88, 2006,
       :doi:`10.1016/j.solener.2005.06.010`.
    .. [6] P. Gilman, "SAM Photovoltaic Model Technical Reference", NREL/TP-6A20-64102, 2015
       (sun position at the middle of the hour for hourly data).
    """
    _check_parameters(tilt_deg, azimuth_deg, dc_kwp, dc_ac_ratio, losses_pct,
                      float(np.min(years_in_service)), albedo)
    if np.ndim(years_in_service) and np.shape(years_in_service) != (len(weather),):
        raise ValueError(f"years_in_service has {np.size(years_in_service)} values for "
                         f"{len(weather)} weather rows; expected one value or one per row")
    temp_model, temp_params = _temperature_model(temperature_model)
    if transposition_model not in TRANSPOSITION_MODELS:
        raise ValueError(
            f"transposition_model {transposition_model!r} is not one of {TRANSPOSITION_MODELS}"
        )
    if iam_model not in ("physical", None):
        raise ValueError(f"iam_model must be 'physical' or None, got {iam_model!r}")
    cols = _weather_arrays(weather)

    mid = interval_midpoints(weather.index)
    if solar_position is None:
        solpos = solar_position_at(mid, latitude, longitude, altitude_m, cols["temp_air"])
    else:
        if not solar_position.index.equals(mid):
            raise ValueError("solar_position must be given at the midpoints of the weather "
                             "intervals")
        solpos = refracted(solar_position, altitude_m, cols["temp_air"])
    app_zenith = solpos["apparent_zenith"].to_numpy()
    sun_azimuth = solpos["azimuth"].to_numpy()
    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg, azimuth_deg, app_zenith, sun_azimuth,
        cols["dni"], cols["ghi"], cols["dhi"],
        dni_extra=pvlib.irradiance.get_extra_radiation(mid).to_numpy(),
        airmass=pvlib.atmosphere.get_relative_airmass(app_zenith, "kastenyoung1989"),
        albedo=albedo, model=transposition_model,
    )
    poa_direct = np.asarray(poa["poa_direct"], dtype=float)
    poa_diffuse = np.asarray(poa["poa_diffuse"], dtype=float)
    poa_global = np.asarray(poa["poa_global"], dtype=float)
    if iam_model == "physical":
        aoi = pvlib.irradiance.aoi(tilt_deg, azimuth_deg, app_zenith, sun_azimuth)
        poa_direct = poa_direct * pvlib.iam.physical(aoi)
    effective = poa_direct + poa_diffuse

    if temp_model == "sapm":
        t_cell = pvlib.temperature.sapm_cell(
            poa_global, cols["temp_air"], cols["wind_speed"], **temp_params
        )
    else:
        t_cell = pvlib.temperature.pvsyst_cell(
            poa_global, cols["temp_air"], cols["wind_speed"], **temp_params
        )
    derate = np.maximum(0.0, 1.0 - degradation_pct_per_year / 100.0
                        * np.asarray(years_in_service, dtype=float))
    # P_dc is proportional to P_dc0, so the derate may be applied per row after pvwatts_dc
    dc_kw = pvlib.pvsystem.pvwatts_dc(effective, t_cell, dc_kwp, gamma_pdc_per_c)
    dc_kw = np.asarray(dc_kw, dtype=float) * derate * (1.0 - losses_pct / 100.0)
    ac_limit_kw = dc_kwp / dc_ac_ratio
    ac_kw = pvlib.inverter.pvwatts(dc_kw, ac_limit_kw / eta_inv_nom, eta_inv_nom=eta_inv_nom)
    ac_kw = np.nan_to_num(np.asarray(ac_kw, dtype=float), nan=0.0)
    return pd.Series(ac_kw, index=weather.index, name="pv_ac_kw")


def years_since(index: pd.DatetimeIndex, start: object) -> np.ndarray:
    """Whole years from ``start`` to each timestamp of ``index`` [yr]: 0 in the first year of a
    run, 1 from its first anniversary (same local date and time) on, and so on.

    Degradation is thus stepped per operating year, as SAM's annual degradation is applied
    (year n of the analysis period at ``(n - 1) x rate``; Gilman 2015, NREL/TP-6A20-64102):
    a two-year run at the default 0.5 %/yr makes the second year's DC output 0.5 % of
    nameplate lower than the first's (same weather, before clipping).
    """
    t0 = pd.Timestamp(start)
    local = index.tz_convert(t0.tz) if t0.tz is not None else index
    years = local.year.to_numpy() - t0.year
    before = ((local.month.to_numpy() * 100 + local.day.to_numpy()) * 1e6
              + local.hour.to_numpy() * 1e4 + local.minute.to_numpy() * 1e2
              + local.second.to_numpy()) < (
        (t0.month * 100 + t0.day) * 1e6 + t0.hour * 1e4 + t0.minute * 1e2 + t0.second)
    return np.maximum(years - before.astype(int), 0).astype(float)


def solar_position_at(times: pd.DatetimeIndex, latitude: float, longitude: float,
                      altitude_m: float = 0.0, temperature_c: float | np.ndarray = 12.0
                      ) -> pd.DataFrame:
    """Sun position by NREL's SPA (Reda and Andreas 2004; pvlib ``nrel_numpy``) at ``times``.

    Station pressure is pvlib's standard atmosphere at ``altitude_m`` [m]; ``temperature_c``
    [°C] (scalar or one per time) only enters the refraction correction. Columns as pvlib's
    ``get_solarposition``: ``zenith``/``elevation`` (true, topocentric), ``apparent_zenith``/
    ``apparent_elevation`` (refracted), ``azimuth`` [degrees], ``equation_of_time`` [min].
    """
    return pvlib.solarposition.get_solarposition(
        times, latitude, longitude, altitude=altitude_m,
        pressure=pvlib.atmosphere.alt2pres(altitude_m), temperature=temperature_c,
    )


SPA_ATMOS_REFRACT_DEG = 0.5667
"""Apparent sun elevation at sunrise and sunset used by the SPA refraction correction [deg]
(pvlib's and NREL SPA's default)."""


def refracted(solpos: pd.DataFrame, altitude_m: float,
              temperature_c: float | np.ndarray) -> pd.DataFrame:
    """The same sun seen through air at another temperature.

    The SPA's true topocentric elevation ``e0`` does not depend on pressure or temperature;
    only the refraction does, ``Δe = (P/1010)(283/(273 + T)) · 1.02 / (60 tan(e0 + 10.3 /
    (e0 + 5.11)))`` [deg] above ``e0 >= -(0.26667 + 0.5667)``, 0 below (Reda and Andreas 2004,
    eq. 42). This applies pvlib's own refraction function to ``solpos['elevation']``, so the
    result equals a fresh :func:`solar_position_at` with ``temperature_c`` bit for bit, for the
    cost of a few array operations instead of a second SPA run.

    Parameters
    ----------
    solpos : DataFrame
        From :func:`solar_position_at` for the same site and ``altitude_m``.
    altitude_m : float
        Altitude [m] (station pressure as in :func:`solar_position_at`).
    temperature_c : float or ndarray
        Air temperature [°C], scalar or one per row.
    """
    pressure_mbar = pvlib.atmosphere.alt2pres(altitude_m) / 100
    e0 = solpos["elevation"].to_numpy()
    temp = np.broadcast_to(np.asarray(temperature_c, dtype=float), e0.shape)
    delta_e = pvlib.spa.atmospheric_refraction_correction(pressure_mbar, temp, e0,
                                                          SPA_ATMOS_REFRACT_DEG)
    e = pvlib.spa.topocentric_elevation_angle(e0, delta_e)
    out = solpos.copy()
    out["apparent_elevation"] = e
    out["apparent_zenith"] = pvlib.spa.topocentric_zenith_angle(e)
    return out


def _check_parameters(
    tilt: float, azimuth: float, dc_kwp: float, ratio: float, losses: float, years: float,
    albedo: float,
) -> None:
    checks = [
        (0.0 <= tilt <= 90.0, f"tilt_deg must be in [0, 90], got {tilt}"),
        (0.0 <= azimuth <= 360.0, f"azimuth_deg must be in [0, 360], got {azimuth}"),
        (dc_kwp > 0, f"dc_kwp must be > 0, got {dc_kwp}"),
        (ratio > 0, f"dc_ac_ratio must be > 0, got {ratio}"),
        (0.0 <= losses < 100.0, f"losses_pct must be in [0, 100), got {losses}"),
        (years >= 0, f"years_in_service must be >= 0, got {years}"),
        (0.0 <= albedo <= 1.0, f"albedo must be in [0, 1], got {albedo}"),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(message)


def _temperature_model(name: str) -> tuple[str, Mapping[str, float]]:
    try:
        return TEMPERATURE_MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown temperature_model {name!r}; choose one of {sorted(TEMPERATURE_MODELS)}"
        ) from None


def _weather_arrays(weather: pd.DataFrame) -> dict[str, np.ndarray]:
    if not isinstance(weather.index, pd.DatetimeIndex) or weather.index.tz is None:
        raise ValueError("weather needs a tz-aware DatetimeIndex (labels = interval starts)")
    missing = [c for c in WEATHER_COLUMNS if c not in weather.columns]
    if missing:
        raise ValueError(f"weather is missing column(s) {missing}; it has {list(weather.columns)}")
    out = {}
    for col in WEATHER_COLUMNS:
        values = weather[col].to_numpy(dtype=float)
        nan = np.flatnonzero(np.isnan(values))
        if nan.size:
            raise ValueError(f"weather column {col} is NaN at {weather.index[nan[0]]}")
        out[col] = values
    return out
