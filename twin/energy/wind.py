"""Wind turbine output from wind speed: height correction, air density, power curve.

Pure functions over scalars, numpy arrays or pandas Series (a Series in gives a Series out).
A wind speed series from :mod:`twin.energy.weather` is an hourly average at the station height
(10 m for TMY3/EPW); applying a power curve to hourly means ignores the variability within the
hour, as most yield tools that work hourly do.

Bundled power curves (``twin/data/wind_turbines.csv``, read with :func:`turbine_power_curve`)
come from NREL's turbine-models archive (BSD-3-Clause, Copyright (c) 2020 Alliance for
Sustainable Energy, LLC); each row names its source file and commit. Any other turbine: pass the
manufacturer's curve to :func:`power_curve_kw`.
"""

from __future__ import annotations

from importlib import resources
from typing import NamedTuple, TypeAlias

import numpy as np
import pandas as pd

Numeric: TypeAlias = "float | np.ndarray | pd.Series"

STANDARD_AIR_DENSITY = 1.225
"""Density of dry air at sea level, 15 degC, 101325 Pa [kg/m3]; the density of published power
curves and the reference density of IEC 61400-12-1."""

R_DRY_AIR = 287.058
"""Specific gas constant of dry air [J/(kg K)]."""


def hub_wind_speed(
    v_ref: Numeric,
    z_ref_m: float,
    hub_height_m: float,
    roughness_length_m: float = 0.1,
    obstacle_height_m: float = 0.0,
) -> Numeric:
    """Wind speed at hub height from a measurement at another height (logarithmic profile).

    Parameters
    ----------
    v_ref : float, ndarray or Series
        Wind speed at ``z_ref_m`` [m/s].
    z_ref_m : float
        Height of the measurement above ground [m] (10 m for TMY3 and EPW files).
    hub_height_m : float
        Hub height [m].
    roughness_length_m : float, default 0.1
        Surface roughness length z0 [m]. Roughly 0.0002 open water, 0.03 open flat farmland,
        0.1 farmland with some hedges, 0.4-0.5 villages and industrial estates, 1 or more for
        city centres and forest. Factory surroundings are usually 0.3-0.5. The profile is one
        curve from the measurement to the hub, so z0 should describe the terrain they share;
        TMY3 and EPW stations are mostly airports (open terrain, about 0.03), and a larger z0
        extrapolates a 10 m reading to a *higher* hub speed.
    obstacle_height_m : float, default 0
        Height of surrounding obstacles [m]; the profile is displaced by d = 0.7 times it.

    Returns
    -------
    v_hub : float, ndarray or Series
        Wind speed at hub height [m/s], same type as ``v_ref``.

    Raises
    ------
    ValueError
        If a height is not above d + z0, or z0 is not positive.

    Notes
    -----
    .. math:: v_{hub} = v_{ref}\\,\\frac{\\ln((h_{hub} - d)/z_0)}{\\ln((z_{ref} - d)/z_0)},
              \\qquad d = 0.7\\,h_{obstacle}

    the neutral-stability logarithmic profile, as in windpowerlib's ``logarithmic_profile``
    [1]_ [2]_. It ignores atmospheric stability: at night, over a stable boundary layer, the
    real shear is usually larger.

    References
    ----------
    .. [1] R. Gasch and J. Twele, "Windkraftanlagen", 6th ed., Vieweg + Teubner, 2010, p. 129.
    .. [2] E. Hau, "Windkraftanlagen", 4th ed., Springer, 2008, p. 515.
    """
    d = 0.7 * obstacle_height_m
    if roughness_length_m <= 0:
        raise ValueError(f"roughness_length_m must be > 0, got {roughness_length_m}")
    for name, h in (("z_ref_m", z_ref_m), ("hub_height_m", hub_height_m)):
        if h - d <= roughness_length_m:
            raise ValueError(
                f"{name} = {h} m must exceed the displacement height {d:g} m plus the "
                f"roughness length {roughness_length_m:g} m"
            )
    factor = np.log((hub_height_m - d) / roughness_length_m) / np.log(
        (z_ref_m - d) / roughness_length_m
    )
    return v_ref * factor


def air_density(temp_air_c: Numeric, pressure_pa: Numeric = 101325.0) -> Numeric:
    """Density of dry air from the ideal gas law.

    Parameters
    ----------
    temp_air_c : float, ndarray or Series
        Air temperature at hub height [degC].
    pressure_pa : float, ndarray or Series, default 101325
        Air pressure at hub height [Pa]; for a site at altitude h use
        ``pvlib.atmosphere.alt2pres(h)`` (standard atmosphere).

    Returns
    -------
    rho : float, ndarray or Series
        Air density [kg/m3].

    Notes
    -----
    .. math:: \\rho = \\frac{p}{R_d\\,(T + 273.15)}, \\qquad R_d = 287.058\\ \\mathrm{J/(kg\\,K)}

    Humidity lowers the density by under 1 % at ordinary temperatures and is ignored.
    """
    return pressure_pa / (R_DRY_AIR * (temp_air_c + 273.15))


def density_normalized_speed(
    v: Numeric,
    air_density_kgm3: Numeric,
    reference_density_kgm3: float = STANDARD_AIR_DENSITY,
) -> Numeric:
    """Wind speed that gives the same power at the power curve's reference density.

    Parameters
    ----------
    v : float, ndarray or Series
        Wind speed at hub height [m/s].
    air_density_kgm3 : float, ndarray or Series
        Air density at hub height [kg/m3] (:func:`air_density`).
    reference_density_kgm3 : float, default 1.225
        Density at which the power curve was stated [kg/m3].

    Returns
    -------
    v_n : float, ndarray or Series
        Normalised wind speed [m/s], to be fed to :func:`power_curve_kw`.

    Notes
    -----
    .. math:: v_n = v\\,\\left(\\frac{\\rho}{\\rho_0}\\right)^{1/3}

    the normalisation IEC 61400-12-1 prescribes for pitch-regulated turbines with active power
    control [1]_: the kinetic power of the wind, :math:`\\tfrac12 \\rho A v^3`, is the same at
    :math:`(\\rho, v)` and :math:`(\\rho_0, v_n)`. It is a good approximation below rated power;
    at and above rated power the pitch control holds the output regardless of density. For
    stall-regulated turbines the standard normalises the power instead. At 1,000 m altitude
    (rho about 1.11 kg/m3) it lowers the speed by about 3 % and the partial-load output by 9 %.

    References
    ----------
    .. [1] IEC 61400-12-1:2017, "Wind energy generation systems - Part 12-1: Power performance
       measurements of electricity producing wind turbines".
    """
    return v * (air_density_kgm3 / reference_density_kgm3) ** (1.0 / 3.0)


def power_curve_kw(
    v: Numeric,
    curve_speeds_mps: np.ndarray | list[float],
    curve_power_kw: np.ndarray | list[float],
    cut_out_mps: float | None = None,
) -> Numeric:
    """Turbine output from a tabulated power curve.

    Parameters
    ----------
    v : float, ndarray or Series
        Wind speed at hub height [m/s] (density-normalised if wanted).
    curve_speeds_mps : array-like
        Wind speeds of the curve, strictly increasing [m/s].
    curve_power_kw : array-like
        Electrical output at those speeds [kW], >= 0.
    cut_out_mps : float, optional
        Cut-out speed [m/s]. If given and above the last curve speed, the last curve value is
        held up to it; above it the output is 0. If None, the curve ends at its last speed.

    Returns
    -------
    p_kw : float, ndarray or Series
        Output [kW], same type as ``v``: 0 below the first curve speed and above the cut-out
        (or above the last curve speed when no cut-out is given); NaN where ``v`` is NaN.

    Raises
    ------
    ValueError
        If the curve is empty, unsorted, of unequal lengths or has negative power.

    Notes
    -----
    Linear interpolation between curve points (``numpy.interp``). Below the first point the
    output is 0 (a curve starting at its cut-in speed with a positive value therefore jumps at
    cut-in). The cut-out is a hard step at the given speed; hysteresis (restart only after the
    wind has dropped a few m/s) is not modelled, which overstates output in hours near
    cut-out.
    """
    speeds = np.asarray(curve_speeds_mps, dtype=float)
    power = np.asarray(curve_power_kw, dtype=float)
    if speeds.ndim != 1 or speeds.size < 2 or speeds.shape != power.shape:
        raise ValueError(
            "power curve needs two equal-length 1-D arrays of at least two points, got "
            f"{speeds.shape} speeds and {power.shape} powers"
        )
    if not (np.diff(speeds) > 0).all():
        raise ValueError("power curve speeds must be strictly increasing")
    if (power < 0).any() or not np.isfinite(power).all():
        raise ValueError("power curve values must be finite and >= 0")
    hold = cut_out_mps is not None and cut_out_mps > speeds[-1]
    values = np.asarray(v, dtype=float)
    p = np.interp(values, speeds, power, left=0.0, right=power[-1] if hold else 0.0)
    if cut_out_mps is not None:
        p = np.where(values > cut_out_mps, 0.0, p)
    p = np.where(np.isnan(values), np.nan, p)
    if isinstance(v, pd.Series):
        return pd.Series(p, index=v.index, name=v.name)
    if np.ndim(v) == 0:
        return float(p)
    return p


class TurbineCurve(NamedTuple):
    """A bundled power curve with the data that came with it."""

    name: str
    speeds_mps: np.ndarray  #: curve wind speeds [m/s]
    power_kw: np.ndarray  #: output at those speeds [kW]
    rated_power_kw: float  #: rated power as documented by the source [kW]
    rotor_diameter_m: float  #: [m]
    hub_height_m: float  #: documented hub height [m]
    cut_out_mps: float  #: documented cut-out speed [m/s]
    source: str  #: repository, commit, file, licence and report


def _turbine_table() -> pd.DataFrame:
    text = resources.files("twin").joinpath("data", "wind_turbines.csv")
    with text.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


def turbine_names() -> list[str]:
    """Names of the bundled power curves (``twin/data/wind_turbines.csv``)."""
    return sorted(_turbine_table()["turbine"].unique().tolist())


def turbine_power_curve(name: str) -> TurbineCurve:
    """A bundled power curve by name.

    Parameters
    ----------
    name : str
        One of :func:`turbine_names`: ``NREL_2019COE_DW100_100kW`` (NREL's 100 kW distributed
        wind reference turbine, 27.6 m rotor, 40 m hub, from the 2019 Cost of Wind Energy
        Review) or ``NREL_2017COE_MarketAverage_2.3MW`` (the 2017 US market-average land-based
        turbine, 113 m rotor, 86 m hub; its curve tops out at 2,320 kW against a documented
        rating of 2,300 kW).

    Returns
    -------
    curve : TurbineCurve
        Speeds [m/s] and power [kW] as tabulated by the source at standard air density (trailing
        zero rows above cut-out left out), with rated power, rotor diameter, hub height and
        cut-out speed from the source's documentation page.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the bundled ones).

    References
    ----------
    .. [1] NREL turbine-models power curve archive, https://github.com/NREL/turbine-models,
       BSD-3-Clause.
    .. [2] T. Stehly, P. Beiter and P. Duffy, "2019 Cost of Wind Energy Review",
       NREL/TP-5000-78471, 2020.
    .. [3] T. Stehly, P. Beiter, D. Heimiller and G. Scott, "2017 Cost of Wind Energy Review",
       NREL/TP-6A20-72167, 2018.
    """
    table = _turbine_table()
    rows = table[table["turbine"] == name].sort_values("wind_speed_mps")
    if rows.empty:
        raise ValueError(
            f"no bundled power curve {name!r}; bundled: {', '.join(turbine_names())} "
            "(or pass your own curve to power_curve_kw)"
        )
    first = rows.iloc[0]
    return TurbineCurve(
        name=name,
        speeds_mps=rows["wind_speed_mps"].to_numpy(dtype=float),
        power_kw=rows["power_kw"].to_numpy(dtype=float),
        rated_power_kw=float(first["rated_power_kw"]),
        rotor_diameter_m=float(first["rotor_diameter_m"]),
        hub_height_m=float(first["hub_height_m"]),
        cut_out_mps=float(first["cut_out_mps"]),
        source=str(first["source"]),
    )
