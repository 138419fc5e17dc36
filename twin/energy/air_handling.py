"""Air-handling units that condition outdoor (make-up) air: the heating and cooling of the air
follow the weather, interval by interval (issue 18: the paint shop's booth air supply).

Pure functions over scalars or numpy arrays, units in every name. The orchestration
(:func:`air_handling_kwh`) turns a base load's ``air_handling`` block, the outdoor temperature per
settlement interval and the time the unit is on in each interval into energy per carrier,
computed once before the run (the load follows the weather and the shift calendar, not
production events, so it costs nothing per event). The fans are not here: they are the base
load's power table (on / setback), metered like any base load.

Chain of one interval (temperatures in degC, powers in kW)::

    T_rec  = T_out + eps x (T_exhaust - T_out)             heat recovery          [1]
    T_heat = max(T_out, T_rec)       recovery bypassed when it would cool the air
    T_cool = min(T_out, T_rec)       recovery bypassed when it would warm the air
    Q_heat = rho cp V / 3600 x max(T_supply,heat - T_heat, 0)                      [2]
    Q_cool = rho cp V / 3600 x max(T_cool - T_supply,cool, 0)   sensible only      [2]
    V      = on share x V_on + (1 - on share) x V_setback   (Q is linear in V)

Latent (dehumidification) cooling is not modelled: the twin's weather (files and synthetic)
carries no humidity, so the cooling is the sensible part alone and understates a humid summer.

References
----------
.. [1] ASHRAE Handbook - HVAC Systems and Equipment (2020), ch. 26 "Air-to-air energy recovery
   equipment": sensible effectiveness eps = (T_supply,out - T_out) / (T_exhaust,in - T_out);
   the supply leaving the exchanger is T_out + eps (T_exhaust - T_out). Exchangers are bypassed
   or slowed by their controls when recovery would work against the set point.
.. [2] ASHRAE Handbook - Fundamentals (2017), ch. 1 "Psychrometrics" (standard air: dry air at
   20 degC and 101.325 kPa, density 1.204 kg/m3) and ch. 18 (sensible heat of an air stream,
   Q = rho cp V dT, cp of dry air 1.006 kJ/(kg K)). Volume flows are taken at standard
   conditions.
"""

from __future__ import annotations

import numpy as np

from twin.config.plant import CARRIERS, AirHandling

RHO_AIR_KG_M3 = 1.204
"""Density of standard air, dry, 20 degC, 101.325 kPa [kg/m3] (ASHRAE Fundamentals 2017, ch. 1)."""
CP_AIR_KJ_KG_K = 1.006
"""Specific heat of dry air at constant pressure [kJ/(kg K)] (ASHRAE Fundamentals 2017, ch. 1)."""


def recovered_temp_c(t_out_c, effectiveness: float, t_exhaust_c: float):
    """Temperature of the outdoor air after a sensible heat-recovery exchanger [degC].

    ``T_out + eps x (T_exhaust - T_out)`` (ASHRAE HVAC Systems and Equipment 2020, ch. 26).

    Parameters
    ----------
    t_out_c : float or ndarray
        Outdoor dry-bulb temperature [degC].
    effectiveness : float
        Sensible effectiveness, 0 (no recovery) to below 1 [-].
    t_exhaust_c : float
        Temperature of the exhaust air entering the exchanger [degC].
    """
    t = np.asarray(t_out_c, dtype=float)
    return t + effectiveness * (t_exhaust_c - t)


def sensible_kw(airflow_m3_h, delta_t_k):
    """Sensible heat to change an air stream's temperature by ``delta_t_k`` [kW].

    ``Q = rho x cp x V / 3600 x dT`` with standard air (rho 1.204 kg/m3, cp 1.006 kJ/(kg K);
    ASHRAE Fundamentals 2017, ch. 1 and 18); e.g. 10,000 m3/h warmed by 10 K takes 33.6 kW.

    Parameters
    ----------
    airflow_m3_h : float or ndarray
        Volume flow at standard conditions [m3/h].
    delta_t_k : float or ndarray
        Temperature change [K].
    """
    return RHO_AIR_KG_M3 * CP_AIR_KJ_KG_K * np.asarray(airflow_m3_h, dtype=float) / 3600.0 \
        * np.asarray(delta_t_k, dtype=float)


def conditioning_kw(t_out_c, airflow_m3_h, supply_heating_c: float,
                    supply_cooling_c: float | None = None, effectiveness: float = 0.0,
                    t_exhaust_c: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Heating and (sensible) cooling of an outdoor-air stream to its supply set points [kW].

    Heating brings the air to ``supply_heating_c`` when it is colder, cooling to
    ``supply_cooling_c`` when it is warmer (between the two: neither). The heat-recovery
    exchanger preheats or precools the outdoor air by ``effectiveness`` of its difference to the
    exhaust, and is bypassed when it would work against the set point (module doc, [1], [2]).

    Parameters
    ----------
    t_out_c : float or ndarray
        Outdoor dry-bulb temperature [degC].
    airflow_m3_h : float or ndarray
        Outdoor-air flow at standard conditions [m3/h].
    supply_heating_c : float
        Supply air set point for heating [degC].
    supply_cooling_c : float, optional
        Supply air set point for cooling [degC]; None: the unit does not cool.
    effectiveness : float, default 0
        Sensible effectiveness of the heat recovery [-].
    t_exhaust_c : float, optional
        Exhaust air temperature entering the recovery [degC] (default: ``supply_heating_c``).

    Returns
    -------
    (heating_kw, cooling_kw) : ndarrays
        Heat added and (sensible) heat removed [kW], both >= 0.
    """
    t_out = np.asarray(t_out_c, dtype=float)
    t_exh = supply_heating_c if t_exhaust_c is None else t_exhaust_c
    t_rec = recovered_temp_c(t_out, effectiveness, t_exh)
    heating = sensible_kw(airflow_m3_h, np.maximum(supply_heating_c - np.maximum(t_out, t_rec),
                                                   0.0))
    if supply_cooling_c is None:
        return heating, np.zeros_like(heating)
    cooling = sensible_kw(airflow_m3_h, np.maximum(np.minimum(t_out, t_rec) - supply_cooling_c,
                                                   0.0))
    return heating, cooling


def air_handling_kwh(spec: AirHandling, t_out_c: np.ndarray, on_s: np.ndarray,
                     interval_h: np.ndarray) -> np.ndarray:
    """Energy an air-handling unit draws for heating and cooling its air, per interval and
    carrier [kWh] (the fans are the base load's power table, not included).

    Heat from the heating carrier: natural gas (direct-fired burner, heat / efficiency on LHV),
    electricity (heat / efficiency or COP) or ``heat`` from the plant's heat bus (heat as it is);
    cooling as electricity (cooling / COP) or ``cooling`` from the plant's chillers.

    Parameters
    ----------
    spec : AirHandling
        The base load's ``air_handling`` block.
    t_out_c : ndarray, shape (n,)
        Outdoor temperature of each interval [degC].
    on_s : ndarray, shape (n,)
        Time the unit is on (full outdoor-air flow) in each interval [s]; the rest of the
        interval it runs at its setback flow.
    interval_h : ndarray, shape (n,)
        Length of each interval [h] (the last may be shorter).

    Returns
    -------
    ndarray, shape (n, len(CARRIERS))
        Energy per interval and carrier [kWh], columns in :data:`twin.config.plant.CARRIERS`
        order.
    """
    on_h = np.asarray(on_s, dtype=float) / 3600.0
    off_h = np.maximum(np.asarray(interval_h, dtype=float) - on_h, 0.0)
    args = dict(supply_heating_c=spec.supply_heating_c, supply_cooling_c=spec.supply_cooling_c,
                effectiveness=spec.heat_recovery_effectiveness, t_exhaust_c=spec.exhaust_c)
    heat_on, cool_on = conditioning_kw(t_out_c, spec.airflow_m3_h, **args)
    heat_off, cool_off = conditioning_kw(t_out_c, spec.setback_airflow_m3_h, **args)
    heat_kwh = heat_on * on_h + heat_off * off_h
    cool_kwh = cool_on * on_h + cool_off * off_h
    out = np.zeros((heat_kwh.size, len(CARRIERS)))
    h = CARRIERS.index(spec.heating)
    out[:, h] += heat_kwh / spec.heating_efficiency
    if spec.supply_cooling_c is not None:
        c = CARRIERS.index(spec.cooling)
        out[:, c] += cool_kwh / (spec.cooling_cop if spec.cooling == "electricity" else 1.0)
    return out
