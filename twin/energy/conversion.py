"""Energy conversion: heat pumps, boilers, chillers, CHP, air compressors, building HVAC load.

Pure functions with units in every name or docstring. Each accepts Python scalars (fast path:
plain float arithmetic, no numpy, well under a microsecond, for the per-interval EMS) or arrays
(numpy arrays, lists or pandas Series, vectorised, for whole weather years before or after a run).
A Series in gives a Series with the same index out; other arrays give ndarrays.

Energy and power are interchangeable in the ratio functions (kWh per interval in, kWh out; or kW
in, kW out). Fuel energy is on a lower-heating-value (LHV, net calorific value) basis throughout,
the basis of GB/T 2589 (standard coal) and of emission factors per unit of net calorific value.

References
----------
.. [1] oemof.thermal, ``compression_heatpumps_and_chillers.calc_cops`` and the documentation page
   "Compression heat pump and chiller" (Carnot × quality grade; typical grades 0.4 air source,
   0.55 ground source, 0.5 groundwater after VDE 2015; 0.4–0.6 for high-temperature heat pumps
   after Arpagaus 2019; icing below ``temp_threshold_icing`` = 2 °C),
   https://github.com/oemof/oemof-thermal.
.. [2] JGJ 134-2001 (design standard for residential buildings in the hot-summer/cold-winter zone)
   base temperatures 18 °C for heating and 26 °C for cooling degree days, as used by the China
   Meteorological Administration degree-day data set (Zhao et al., J. Global Change Data &
   Discovery 6(3), 2022, doi:10.3974/geodp.2022.03.17); GB 50176-2016 zones by HDD18 and CDD26.
.. [3] AHRI Standard 550/590: rating point of air-cooled chillers at 35 °C (95 °F) outdoor air.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

KELVIN = 273.15
"""0 °C in kelvin."""

_SCALARS = (int, float)


def _both_scalar(a, b) -> bool:
    return isinstance(a, _SCALARS) and isinstance(b, _SCALARS)


def _like(out, *inputs):
    """Return ``out`` as a Series if any input is one (with its index), else as it is."""
    for x in inputs:
        if type(x).__name__ == "Series" and hasattr(x, "index"):
            import pandas as pd

            return pd.Series(np.asarray(out, dtype=float), index=x.index)
    if isinstance(out, np.ndarray) and out.ndim == 0:
        return float(out)
    return out


def _arr(x):
    return np.asarray(x, dtype=float)


def _check_efficiency(name: str, value: float, high: float) -> None:
    if not 0.0 < value <= high:
        raise ValueError(f"{name}={value!r}: expected a value in (0, {high}]")


def _check_non_negative(name: str, value) -> None:
    if isinstance(value, _SCALARS):
        if not value >= 0.0:
            raise ValueError(f"{name}={value!r}: expected a value >= 0")
    elif not np.all(_arr(value) >= 0.0):
        raise ValueError(f"{name}: expected all values >= 0 (found a negative value or NaN)")


# ---------------------------------------------------------------- heat pumps and chillers


def cop_carnot(
    t_sink_c, t_source_c, quality_grade, cop_max=None, icing_threshold_c=2.0, icing_factor=1.0,
):
    r"""Heat-pump COP as a quality grade times the Carnot COP (oemof.thermal ``calc_cops``).

    Parameters
    ----------
    t_sink_c : float or array-like
        Temperature of the heat sink (supply temperature of the heated flow) [°C].
    t_source_c : float or array-like
        Temperature of the heat source (outdoor air, ground, waste heat) [°C].
    quality_grade : float
        η, ratio of the real to the Carnot COP [-], ``0 < η <= 1``. No default, as in
        oemof.thermal; typical 0.4 air source, 0.55 ground source, 0.5 groundwater [1].
    cop_max : float, optional
        Cap on the COP [-]. The Carnot COP diverges as the lift goes to zero, so a cap is
        advisable for real machines. With a cap, a lift ``<= 0`` returns ``cop_max``; without one
        it raises ``ValueError``.
    icing_threshold_c : float, default 2.0
        Source temperature below which the icing factor applies [°C] (oemof.thermal default).
    icing_factor : float, default 1.0
        COP multiplier for icing of an air-source evaporator, 1 = no icing penalty [-].

    Returns
    -------
    float or ndarray or Series
        COP = heat delivered / electricity used [-].

    Notes
    -----
    .. math:: COP = f_\mathrm{icing} \, \eta \, \frac{T_\mathrm{sink}}{T_\mathrm{sink} -
              T_\mathrm{source}}, \quad T \text{ in K}

    Example: sink 60 °C, source 10 °C, η = 0.4: 0.4 · 333.15 / 50 = 2.6652.
    """
    _check_efficiency("quality_grade", quality_grade, 1.0)
    if _both_scalar(t_sink_c, t_source_c):
        lift = t_sink_c - t_source_c
        if not lift > 0.0:
            if cop_max is None:
                raise ValueError(
                    f"t_sink_c={t_sink_c!r} <= t_source_c={t_source_c!r}: no lift, the Carnot "
                    "COP is undefined; pass cop_max to cap it")
            return float(cop_max)
        cop = quality_grade * (t_sink_c + KELVIN) / lift
        if t_source_c < icing_threshold_c:
            cop *= icing_factor
        if cop_max is not None and cop > cop_max:
            cop = float(cop_max)
        return cop
    ts, tl = np.broadcast_arrays(_arr(t_sink_c), _arr(t_source_c))
    lift = ts - tl
    no_lift = ~(lift > 0.0)
    if no_lift.any() and cop_max is None:
        raise ValueError("t_sink_c <= t_source_c somewhere: no lift, the Carnot COP is "
                         "undefined; pass cop_max to cap it")
    with np.errstate(divide="ignore", invalid="ignore"):
        cop = quality_grade * (ts + KELVIN) / lift
    cop = np.where(tl < icing_threshold_c, cop * icing_factor, cop)
    if cop_max is not None:
        cop = np.where(no_lift, cop_max, np.minimum(cop, cop_max))
    return _like(cop, t_sink_c, t_source_c)


def chiller_cop_carnot(t_cold_c, t_hot_c, quality_grade, cop_max=None):
    r"""Chiller COP as a quality grade times the Carnot COP of refrigeration.

    .. math:: COP = \eta \, \frac{T_\mathrm{cold}}{T_\mathrm{hot} - T_\mathrm{cold}},
              \quad T \text{ in K}

    Parameters
    ----------
    t_cold_c : float or array-like
        Chilled-side temperature (chilled water supply) [°C].
    t_hot_c : float or array-like
        Heat-rejection temperature (outdoor air, or condenser water) [°C].
    quality_grade : float
        η [-]; oemof.thermal's chiller example uses 0.3.
    cop_max : float, optional
        Cap; with it a lift ``<= 0`` returns ``cop_max``, without it raises ``ValueError``.

    Returns
    -------
    float or ndarray or Series
        COP = cooling delivered / electricity used [-].
    """
    _check_efficiency("quality_grade", quality_grade, 1.0)
    if _both_scalar(t_cold_c, t_hot_c):
        lift = t_hot_c - t_cold_c
        if not lift > 0.0:
            if cop_max is None:
                raise ValueError(
                    f"t_hot_c={t_hot_c!r} <= t_cold_c={t_cold_c!r}: no lift, the Carnot COP is "
                    "undefined; pass cop_max to cap it")
            return float(cop_max)
        cop = quality_grade * (t_cold_c + KELVIN) / lift
        return float(cop_max) if cop_max is not None and cop > cop_max else cop
    tc, th = np.broadcast_arrays(_arr(t_cold_c), _arr(t_hot_c))
    lift = th - tc
    no_lift = ~(lift > 0.0)
    if no_lift.any() and cop_max is None:
        raise ValueError("t_hot_c <= t_cold_c somewhere: no lift, the Carnot COP is undefined; "
                         "pass cop_max to cap it")
    with np.errstate(divide="ignore", invalid="ignore"):
        cop = quality_grade * (tc + KELVIN) / lift
    if cop_max is not None:
        cop = np.where(no_lift, cop_max, np.minimum(cop, cop_max))
    return _like(cop, t_cold_c, t_hot_c)


def cop_from_table(t_source_c, table_t_c, table_cop):
    """COP interpolated linearly in a table of temperatures, held constant beyond its ends.

    Use it for datasheet curves (heat pumps against source temperature, chillers against
    outdoor temperature), e.g. REopt's air-source heat-pump heating COP [1.5, 2.3, 3.3, 4.5] at
    [−5, 17, 47, 80] °F.

    Parameters
    ----------
    t_source_c : float or array-like
        Temperature at which to read the table [°C].
    table_t_c : sequence of float
        Table temperatures, strictly increasing [°C]. Pass a tuple in the per-interval path.
    table_cop : sequence of float
        COP at each table temperature [-], all > 0.

    Returns
    -------
    float or ndarray or Series
        Interpolated COP [-].
    """
    n = len(table_t_c)
    if n == 0 or n != len(table_cop):
        raise ValueError(f"table_t_c and table_cop must be non-empty and of equal length, got "
                         f"{n} and {len(table_cop)}")
    for i in range(n - 1):
        if not table_t_c[i] < table_t_c[i + 1]:
            raise ValueError(f"table_t_c must be strictly increasing, got {list(table_t_c)}")
    for c in table_cop:
        if not c > 0.0:
            raise ValueError(f"table_cop must be > 0, got {list(table_cop)}")
    if isinstance(t_source_c, _SCALARS):
        i = bisect_right(table_t_c, t_source_c)
        if i == 0:
            return float(table_cop[0])
        if i == n:
            return float(table_cop[-1])
        t0, t1 = table_t_c[i - 1], table_t_c[i]
        c0, c1 = table_cop[i - 1], table_cop[i]
        return c0 + (c1 - c0) * (t_source_c - t0) / (t1 - t0)
    out = np.interp(_arr(t_source_c), _arr(table_t_c), _arr(table_cop))
    return _like(out, t_source_c)


def chiller_cop(t_out_c, cop_rated, slope_per_k, t_rated_c=35.0, cop_min=1.0, cop_max=None):
    """Chiller COP as a linear function of outdoor (heat-rejection) temperature.

    ``COP = cop_rated · (1 + slope_per_k · (t_out_c − t_rated_c))``, clipped to
    ``[cop_min, cop_max]``.

    Why linear: a datasheet gives one rated COP (AHRI 550/590 rates air-cooled chillers at 35 °C
    outdoor air [3]) and the COP falls steadily as the condensing temperature rises; over the
    operating range (about 20 to 45 °C) a straight line through the rated point is as good as
    the data usually allow, has two transparent parameters, and is cheap. For a vendor curve use
    :func:`cop_from_table`; for a physics-based trend use :func:`chiller_cop_carnot`.
    The limits of a straight line are the clips: below some outdoor temperature head-pressure
    control stops the COP rising (``cop_max``), and far above the range a fit would go to zero.

    Parameters
    ----------
    t_out_c : float or array-like
        Outdoor dry-bulb temperature (for water-cooled machines: condenser water) [°C].
    cop_rated : float
        COP at ``t_rated_c`` [-].
    slope_per_k : float
        Relative change of COP per kelvin, a fraction of ``cop_rated`` [1/K], negative. For scale,
        REopt's air-source cooling curve (COP 4.0, 3.5, 2.9, 2.2 at 70, 82, 95, 110 °F) falls by
        about 0.081 per K around 2.9, i.e. −0.028/K.
    t_rated_c : float, default 35.0
        Temperature of the rating point [°C].
    cop_min : float, default 1.0
        Floor [-], a guard against extrapolation.
    cop_max : float, optional
        Cap [-].

    Returns
    -------
    float or ndarray or Series
        COP = cooling / electricity [-].
    """
    _check_efficiency("cop_rated", cop_rated, float("inf"))
    if isinstance(t_out_c, _SCALARS):
        cop = cop_rated * (1.0 + slope_per_k * (t_out_c - t_rated_c))
        if cop < cop_min:
            cop = cop_min
        if cop_max is not None and cop > cop_max:
            cop = cop_max
        return float(cop)
    cop = cop_rated * (1.0 + slope_per_k * (_arr(t_out_c) - t_rated_c))
    cop = np.clip(cop, cop_min, np.inf if cop_max is None else cop_max)
    return _like(cop, t_out_c)


def heat_pump_electricity_kwh(heat_kwh, cop):
    """Electricity a heat pump uses for ``heat_kwh`` of heat: ``heat / COP`` [kWh or kW]."""
    return _electricity_from_cop("heat_kwh", heat_kwh, cop)


def chiller_electricity_kwh(cooling_kwh, cop):
    """Electricity a chiller uses for ``cooling_kwh`` of cooling: ``cooling / COP`` [kWh or kW].

    Auxiliaries (condenser fans, pumps, cooling tower) are not included unless the COP is a
    system COP.
    """
    return _electricity_from_cop("cooling_kwh", cooling_kwh, cop)


def _electricity_from_cop(name, q, cop):
    if _both_scalar(q, cop):
        if not q >= 0.0:
            raise ValueError(f"{name}={q!r}: expected a value >= 0")
        if not cop > 0.0:
            raise ValueError(f"cop={cop!r}: expected a value > 0")
        return q / cop
    _check_non_negative(name, q)
    c = _arr(cop)
    if not np.all(c > 0.0):
        raise ValueError("cop: expected all values > 0")
    return _like(_arr(q) / c, q, cop)


# ---------------------------------------------------------------- boilers and CHP

_MAX_LHV_EFFICIENCY = 1.2
"""An LHV-based efficiency can exceed 1 by at most HHV/LHV − 1 (condensing: about 0.11 for
natural gas, 0.18 for hydrogen); anything above 1.2 is treated as a typo."""


def boiler_fuel_kwh(heat_kwh, efficiency):
    """Fuel a fired boiler burns for ``heat_kwh`` of useful heat: ``heat / η`` [kWh LHV].

    Parameters
    ----------
    heat_kwh : float or array-like
        Useful heat delivered [kWh] (or kW).
    efficiency : float
        Boiler efficiency on an LHV basis [-], ``0 < η <= 1.2`` (condensing boilers exceed 1).
        No default: take it from the datasheet (typically 0.85–0.95 non-condensing, up to about
        1.05 condensing at low return temperatures).

    Returns
    -------
    float or ndarray or Series
        Fuel energy [kWh, LHV]. Constant efficiency: part-load losses and start-ups are ignored.
    """
    _check_efficiency("efficiency", efficiency, _MAX_LHV_EFFICIENCY)
    _check_non_negative("heat_kwh", heat_kwh)
    if isinstance(heat_kwh, _SCALARS):
        return heat_kwh / efficiency
    return _like(_arr(heat_kwh) / efficiency, heat_kwh)


def electric_boiler_kwh(heat_kwh, efficiency):
    """Electricity an electric (resistance or electrode) boiler uses: ``heat / η`` [kWh].

    ``efficiency`` [-] in (0, 1]; no default (datasheets give about 0.95–0.99).
    """
    _check_efficiency("efficiency", efficiency, 1.0)
    _check_non_negative("heat_kwh", heat_kwh)
    if isinstance(heat_kwh, _SCALARS):
        return heat_kwh / efficiency
    return _like(_arr(heat_kwh) / efficiency, heat_kwh)


def _check_chp(electrical_efficiency, thermal_efficiency):
    _check_efficiency("electrical_efficiency", electrical_efficiency, 1.0)
    _check_efficiency("thermal_efficiency", thermal_efficiency, _MAX_LHV_EFFICIENCY)
    total = electrical_efficiency + thermal_efficiency
    if total > _MAX_LHV_EFFICIENCY:
        raise ValueError(f"electrical_efficiency + thermal_efficiency = {total!r}: expected "
                         f"<= {_MAX_LHV_EFFICIENCY} on an LHV basis")


def chp_from_fuel(fuel_kwh, electrical_efficiency, thermal_efficiency):
    """Electricity and heat a CHP unit makes from ``fuel_kwh`` [kWh LHV].

    Fixed-efficiency model, as PyPSA's two-output Link (``efficiency``, ``efficiency2``) or an
    oemof-solph Converter with two outputs: ``E_el = η_el·F``, ``Q = η_th·F``.

    Parameters
    ----------
    fuel_kwh : float or array-like
        Fuel input [kWh LHV] (or kW).
    electrical_efficiency, thermal_efficiency : float
        η_el and η_th on an LHV basis [-]; no defaults (gas-engine CHP: roughly 0.35–0.45 and
        0.40–0.50 from datasheets). ``η_el + η_th <= 1.2``.

    Returns
    -------
    (electricity_kwh, heat_kwh)
        Both in the unit of ``fuel_kwh``.

    Notes
    -----
    Part-load efficiency changes and the feasible region of extraction turbines (oemof's
    GenericCHP) are not modelled; cap the fuel at the unit's rating before calling.
    """
    _check_chp(electrical_efficiency, thermal_efficiency)
    _check_non_negative("fuel_kwh", fuel_kwh)
    if isinstance(fuel_kwh, _SCALARS):
        return electrical_efficiency * fuel_kwh, thermal_efficiency * fuel_kwh
    f = _arr(fuel_kwh)
    return (_like(electrical_efficiency * f, fuel_kwh), _like(thermal_efficiency * f, fuel_kwh))


def chp_heat_led(heat_kwh, electrical_efficiency, thermal_efficiency):
    """Heat-led CHP: fuel for a heat demand, and the electricity that comes with it.

    ``F = Q / η_th``, ``E_el = η_el · F``.

    Returns
    -------
    (fuel_kwh, electricity_kwh)
        Fuel [kWh LHV] and electricity [kWh], in the unit of ``heat_kwh``.
    """
    _check_chp(electrical_efficiency, thermal_efficiency)
    _check_non_negative("heat_kwh", heat_kwh)
    if isinstance(heat_kwh, _SCALARS):
        fuel = heat_kwh / thermal_efficiency
        return fuel, electrical_efficiency * fuel
    fuel = _arr(heat_kwh) / thermal_efficiency
    return _like(fuel, heat_kwh), _like(electrical_efficiency * fuel, heat_kwh)


def chp_electricity_led(electricity_kwh, electrical_efficiency, thermal_efficiency):
    """Electricity-led CHP: fuel for an electricity set point, and the heat that comes with it.

    ``F = E_el / η_el``, ``Q = η_th · F``.

    Returns
    -------
    (fuel_kwh, heat_kwh)
        Fuel [kWh LHV] and heat [kWh], in the unit of ``electricity_kwh``.
    """
    _check_chp(electrical_efficiency, thermal_efficiency)
    _check_non_negative("electricity_kwh", electricity_kwh)
    if isinstance(electricity_kwh, _SCALARS):
        fuel = electricity_kwh / electrical_efficiency
        return fuel, thermal_efficiency * fuel
    fuel = _arr(electricity_kwh) / electrical_efficiency
    return _like(fuel, electricity_kwh), _like(thermal_efficiency * fuel, electricity_kwh)


# ---------------------------------------------------------------- compressed air


def compressor_loaded_fraction(demand_m3_min, capacity_m3_min, leak_fraction=0.0):
    """Share of time a load/unload compressor must run loaded, not capped at 1 [-].

    ``f = demand / (1 − leak_fraction) / capacity``. A value above 1 means the compressor cannot
    meet the demand (the shortfall is ``(f − 1) · capacity`` of delivered air).

    Parameters
    ----------
    demand_m3_min : float or array-like
        Useful air demand of the consumers, free air delivery [m³/min].
    capacity_m3_min : float
        Free air delivery of the compressor when loaded [m³/min], > 0.
    leak_fraction : float, default 0
        Share of the delivered air lost to leaks [-], ``0 <= leak_fraction < 1``, so the
        compressor must deliver ``demand / (1 − leak_fraction)``.
    """
    if not capacity_m3_min > 0.0:
        raise ValueError(f"capacity_m3_min={capacity_m3_min!r}: expected a value > 0")
    if not 0.0 <= leak_fraction < 1.0:
        raise ValueError(f"leak_fraction={leak_fraction!r}: expected a value in [0, 1)")
    _check_non_negative("demand_m3_min", demand_m3_min)
    scale = 1.0 / ((1.0 - leak_fraction) * capacity_m3_min)
    if isinstance(demand_m3_min, _SCALARS):
        return demand_m3_min * scale
    return _like(_arr(demand_m3_min) * scale, demand_m3_min)


def compressor_power_kw(demand_m3_min, capacity_m3_min, p_load_kw, p_unload_kw,
                        leak_fraction=0.0):
    """Average electric power of a load/unload air compressor over an interval [kW].

    Model: the compressor cycles between loaded (full free air delivery at ``p_load_kw``) and
    unloaded (motor running, no air, ``p_unload_kw``). The receiver absorbs the cycling, so over
    the interval the loaded share of time is the delivered air over the capacity::

        Q_del = demand / (1 − leak_fraction)
        f     = min(1, Q_del / capacity)
        P     = f · p_load + (1 − f) · p_unload

    Limits of the model: it ignores blow-down and restart energy, minimum run and unload timers
    (the unload-to-stop timer: pass ``p_unload_kw = 0`` for a machine that stops when idle),
    the rise of power with discharge pressure, and the better part-load curves of
    variable-speed (power roughly proportional to flow) and modulating machines. It assumes the
    cycle is short against the interval (minutes against 15 min) and that the receiver is big
    enough. Demand above capacity is not met (``f`` is capped at 1); see
    :func:`compressor_loaded_fraction`. A leak share of delivered air scales with demand; for
    pressure-driven leaks that flow even at zero demand, add a constant leak flow to
    ``demand_m3_min`` and set ``leak_fraction = 0``.

    Parameters
    ----------
    demand_m3_min : float or array-like
        Useful air demand, free air delivery [m³/min].
    capacity_m3_min : float
        Free air delivery when loaded [m³/min].
    p_load_kw : float
        Electric input power when loaded [kW] (CAGI data sheet "total package input power").
    p_unload_kw : float
        Electric input power when unloaded [kW], ``0 <= p_unload_kw <= p_load_kw``.
    leak_fraction : float, default 0
        Share of delivered air lost to leaks [-].

    Returns
    -------
    float or ndarray or Series
        Average electric power over the interval [kW].
    """
    if not 0.0 <= p_unload_kw <= p_load_kw:
        raise ValueError(f"p_unload_kw={p_unload_kw!r}, p_load_kw={p_load_kw!r}: expected "
                         "0 <= p_unload_kw <= p_load_kw")
    f = compressor_loaded_fraction(demand_m3_min, capacity_m3_min, leak_fraction)
    if isinstance(f, _SCALARS):
        if f > 1.0:
            f = 1.0
        return p_unload_kw + f * (p_load_kw - p_unload_kw)
    f = np.minimum(_arr(f), 1.0)
    return _like(p_unload_kw + f * (p_load_kw - p_unload_kw), demand_m3_min)


# ---------------------------------------------------------------- building HVAC


def hvac_load_kw(t_out_c, ua_kw_per_k, t_base_heat_c=18.0, t_base_cool_c=26.0,
                 ua_cool_kw_per_k=None):
    r"""Space heating and cooling load from outdoor temperature (degree-hour method).

    .. math::
        \dot Q_\mathrm{heat} = UA \cdot \max(0, T_\mathrm{base,heat} - T_\mathrm{out}), \quad
        \dot Q_\mathrm{cool} = UA_\mathrm{cool} \cdot \max(0, T_\mathrm{out} - T_\mathrm{base,cool})

    Summed over the hours of a period, the heat is ``UA`` times the heating degree-hours (and
    likewise for cooling), hence the name.

    Parameters
    ----------
    t_out_c : float or array-like
        Outdoor dry-bulb temperature [°C], e.g. the interval or hourly mean.
    ua_kw_per_k : float
        Overall heat-loss coefficient of the building envelope plus ventilation,
        ``Σ U·A + ρ·c_p·V̇`` [kW/K].
    t_base_heat_c, t_base_cool_c : float, default 18 and 26
        Balance-point temperatures [°C]: below the first the building needs heat, above the
        second cooling. The defaults are China's degree-day bases HDD18 / CDD26 [2]. A balance
        point below the indoor set point accounts for internal and solar gains.
    ua_cool_kw_per_k : float, optional
        Coefficient for cooling [kW/K]; defaults to ``ua_kw_per_k``.

    Returns
    -------
    (heating_kw, cooling_kw)
        Thermal loads [kW]; convert to electricity with a COP or to fuel with a boiler.

    Notes
    -----
    A steady-state, single-zone estimate: no thermal mass (no lag or pre-heating), no latent
    (humidity) load, no solar gain beyond what the balance point absorbs, gains independent of
    production. Fine for utility-building overheads of a factory; process heat belongs to the
    equipment model.
    """
    if not ua_kw_per_k >= 0.0:
        raise ValueError(f"ua_kw_per_k={ua_kw_per_k!r}: expected a value >= 0")
    ua_c = ua_kw_per_k if ua_cool_kw_per_k is None else ua_cool_kw_per_k
    if not ua_c >= 0.0:
        raise ValueError(f"ua_cool_kw_per_k={ua_cool_kw_per_k!r}: expected a value >= 0")
    if not t_base_heat_c <= t_base_cool_c:
        raise ValueError(f"t_base_heat_c={t_base_heat_c!r} > t_base_cool_c={t_base_cool_c!r}: "
                         "the heating balance point must not exceed the cooling one")
    if isinstance(t_out_c, _SCALARS):
        dh = t_base_heat_c - t_out_c
        dc = t_out_c - t_base_cool_c
        return (ua_kw_per_k * dh if dh > 0.0 else 0.0), (ua_c * dc if dc > 0.0 else 0.0)
    t = _arr(t_out_c)
    heat = ua_kw_per_k * np.maximum(t_base_heat_c - t, 0.0)
    cool = ua_c * np.maximum(t - t_base_cool_c, 0.0)
    return _like(heat, t_out_c), _like(cool, t_out_c)
