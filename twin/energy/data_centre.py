"""Data-centre physics: IT load from utilisation, UPS and distribution losses, cooling with free
cooling, waste-heat recovery, and PUE (issue 18, computing).

Pure functions over scalars or numpy arrays, units in every name. The orchestration
(:func:`data_centre_loads`) turns a plant's ``energy.data_centre`` block and the outdoor
temperature per settlement interval into electricity per reporting group, computed once before
the run (the load follows a utilisation profile, not production events, so it costs nothing per
event).

Chain of one interval (all powers in kW)::

    IT      = peak x (idle_fraction + (1 - idle_fraction) x u)             [1]
    UPS     = rated x (a0 + a1 x + a2 x^2),  x = IT / rated                [2]
    dist    = IT x (b1 + b2 IT / rated)                                    [2]
    fans    = fan_kw_per_kw x (IT + UPS + dist)        (CRAH fans, CHW pumps)
    Q       = IT + UPS + dist + fans                   heat to remove
    HP      : heat out H <= capacity, evaporator takes H (1 - 1/COP_hp) of Q   [3]
    Q_rest  = Q - H (1 - 1/COP_hp)
    f_free  = clip((T_return - approach - T_out) / dT, 0, 1)                [4]
    chiller = Q_rest (1 - f_free) / COP_ch(T_out, T_chw)                   [5]
    econ    = economiser_kw_per_kw x Q_rest f_free    (dry-cooler fans)
    site    = IT + UPS + dist + fans + chiller + econ + HP electricity
    PUE     = site / IT                                                    [6]

References
----------
.. [1] L. A. Barroso, U. Hölzle, "The Case for Energy-Proportional Computing", IEEE Computer
   40(12), 2007, doi:10.1109/MC.2007.443: server power is close to linear in utilisation and
   "even an energy-efficient server still consumes about half its full power when doing
   virtually no work".
.. [2] N. Rasmussen, "Electrical Efficiency Modeling for Data Centers", APC / Schneider Electric
   White Paper 113 (2006-2011): the losses of UPS, PDUs and wiring are a no-load (fixed) part, a
   part proportional to load and a square-law (I^2 R) part; the three-coefficient model here.
.. [3] Carnot x quality grade, :func:`twin.energy.conversion.cop_carnot` (oemof.thermal).
.. [4] Water-side economiser in series with the chillers (pre-cooling the chilled-water return):
   the economiser cools the return water from T_return toward T_out + approach; the share of the
   load it removes is the share of the chilled-water range it covers, whole when T_out +
   approach <= T_supply. ASHRAE 90.1 requires such economisers (section 6.5.1.2) for that reason.
.. [5] :func:`twin.energy.conversion.chiller_cop_carnot`: COP = grade x T_evap / (T_cond -
   T_evap); T_evap = chilled-water supply - evaporator approach, T_cond = outdoor + condenser
   approach, so a warmer chilled-water set point raises the COP and widens free cooling.
.. [6] The Green Grid, White Paper 49, "PUE: a comprehensive examination of the metric" (2012);
   GB 40879-2021 (数据中心能效限定值及能效等级): PUE = total facility energy / IT energy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from twin.energy import conversion

if TYPE_CHECKING:  # pragma: no cover
    from twin.config.energy import DataCentre

GROUPS: tuple[str, ...] = ("it", "power_losses", "cooling", "heat_recovery")
"""Reporting groups of a data centre's electricity: IT equipment, UPS and distribution losses,
cooling (CRAH fans and pumps, chillers, economiser fans), heat-recovery heat pump."""


def it_power_kw(utilisation, peak_kw: float, idle_fraction: float):
    """IT power at a utilisation [kW]: ``peak x (idle + (1 - idle) x u)`` [1].

    Parameters
    ----------
    utilisation : float or array-like
        Share of the servers' capacity in use, 0..1 [-].
    peak_kw : float
        IT power at full utilisation [kW] (> 0).
    idle_fraction : float
        Power at zero utilisation as a share of peak [-], 0..1 (about 0.5 for the servers of
        [1]; lower for newer, more energy-proportional ones).
    """
    if not peak_kw > 0:
        raise ValueError(f"peak_kw={peak_kw!r}: expected a value > 0")
    if not 0.0 <= idle_fraction <= 1.0:
        raise ValueError(f"idle_fraction={idle_fraction!r}: expected a value in [0, 1]")
    u = np.asarray(utilisation, dtype=float)
    if not np.all((u >= 0.0) & (u <= 1.0)):
        raise ValueError("utilisation: expected values in [0, 1]")
    out = peak_kw * (idle_fraction + (1.0 - idle_fraction) * u)
    return float(out) if out.ndim == 0 else out


def loss_kw(load_kw, rated_kw: float, no_load_frac: float, proportional_frac: float,
            square_frac: float):
    """Losses of a UPS (or a PDU, or wiring) at a load [kW], the three-part model of [2]::

        loss = rated x (no_load + proportional x L + square x L^2),   L = load / rated

    Parameters
    ----------
    load_kw : float or array-like
        Power delivered to the load [kW], >= 0.
    rated_kw : float
        Rated output [kW], > 0.
    no_load_frac : float
        Fixed loss as a share of rated power [-] (present at zero load).
    proportional_frac : float
        Loss proportional to load as a share of it [-].
    square_frac : float
        I^2 R loss at rated load as a share of rated power [-].

    Returns
    -------
    float or ndarray
        Loss [kW]; efficiency is ``load / (load + loss)``.

    Example: rated 1000 kW, 0.015 / 0.02 / 0.01, load 500 kW: 1000 x (0.015 + 0.01 + 0.0025)
    = 27.5 kW, efficiency 500 / 527.5 = 94.8 %.
    """
    if not rated_kw > 0:
        raise ValueError(f"rated_kw={rated_kw!r}: expected a value > 0")
    for name, v in (("no_load_frac", no_load_frac), ("proportional_frac", proportional_frac),
                    ("square_frac", square_frac)):
        if not 0.0 <= v < 1.0:
            raise ValueError(f"{name}={v!r}: expected a value in [0, 1)")
    x = np.asarray(load_kw, dtype=float) / rated_kw
    if not np.all(x >= 0.0):
        raise ValueError("load_kw: expected values >= 0")
    out = rated_kw * (no_load_frac + proportional_frac * x + square_frac * x * x)
    return float(out) if out.ndim == 0 else out


def free_cooling_fraction(t_out_c, t_supply_c: float, delta_t_k: float, approach_k: float):
    """Share of the cooling load a series water-side economiser removes [-] [4]::

        f = clip((t_supply + delta_t - approach - t_out) / delta_t, 0, 1)

    Full free cooling at or below ``t_supply - approach``; none at or above ``t_supply +
    delta_t - approach`` (the return water is no warmer than what the economiser can reach);
    linear in between (partial free cooling, the chillers take the rest).

    Parameters
    ----------
    t_out_c : float or array-like
        Outdoor dry-bulb temperature [°C] (dry coolers; for cooling towers pass the wet-bulb).
    t_supply_c : float
        Chilled-water supply set point [°C].
    delta_t_k : float
        Chilled-water range, return - supply [K], > 0.
    approach_k : float
        Economiser approach: coldest water it makes above the outdoor temperature [K], >= 0.
    """
    if not delta_t_k > 0:
        raise ValueError(f"delta_t_k={delta_t_k!r}: expected a value > 0")
    if not approach_k >= 0:
        raise ValueError(f"approach_k={approach_k!r}: expected a value >= 0")
    t = np.asarray(t_out_c, dtype=float)
    out = np.clip((t_supply_c + delta_t_k - approach_k - t) / delta_t_k, 0.0, 1.0)
    return float(out) if out.ndim == 0 else out


def pue(site_kwh, it_kwh):
    """Power usage effectiveness: site electricity / IT electricity [-] [6]; NaN where the IT
    energy is 0. Over a period, pass the sums (the ratio of sums, not the mean of ratios)."""
    s, i = np.asarray(site_kwh, dtype=float), np.asarray(it_kwh, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(i > 0, s / np.where(i > 0, i, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


@dataclass
class DataCentreLoads:
    """A data centre's electricity per reporting group and its heat, per interval [kW]."""

    power_kw: dict[str, np.ndarray]
    """Electric power per group of :data:`GROUPS` [kW]."""
    free_cooling: np.ndarray
    """Share of the chillers' load met by the economiser [-]."""
    heat_exported_kw: np.ndarray
    """Heat delivered by the heat-recovery heat pump [kW]."""
    cooling_load_kw: np.ndarray
    """Heat removed from the white space (IT, losses, fans) [kW]."""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def total_kw(self) -> np.ndarray:
        """Site electricity of the data centre [kW] (sum over groups, in :data:`GROUPS` order)."""
        out = np.zeros_like(self.power_kw["it"])
        for g in GROUPS:
            out = out + self.power_kw[g]
        return out


def utilisation_profile(dc: DataCentre, hour: np.ndarray, weekend: np.ndarray) -> np.ndarray:
    """Utilisation per interval from the hour of day and weekend flag [-]."""
    it = dc.it
    weekday = np.asarray(it.utilisation_by_hour, dtype=float)
    sat_sun = (np.asarray(it.weekend_utilisation_by_hour, dtype=float)
               if it.weekend_utilisation_by_hour is not None else weekday)
    return np.where(weekend, sat_sun[hour], weekday[hour])


def data_centre_loads(dc: DataCentre, utilisation: np.ndarray, t_out_c: np.ndarray | None,
                      month: np.ndarray) -> DataCentreLoads:
    """Electric power per group of a data centre per interval [kW], from its config, the
    utilisation and the outdoor temperature per interval (see the module doc for the chain)."""
    it = it_power_kw(utilisation, dc.it.peak_kw, dc.it.idle_fraction)
    u = dc.ups
    rated = u.rated_kw if u.rated_kw is not None else dc.it.peak_kw
    ups = loss_kw(it, rated, u.no_load_loss_pct / 100, u.proportional_loss_pct / 100,
                  u.square_loss_pct / 100)
    d = dc.distribution
    dist = loss_kw(it, rated, 0.0, d.proportional_loss_pct / 100, d.square_loss_pct / 100)
    losses = ups + dist
    c = dc.cooling
    fans = c.fans_pumps_kw_per_kw * (it + losses)
    q = it + losses + fans
    n = q.shape[0]
    if t_out_c is None:  # the plant file requires weather with a data centre
        raise ValueError("data_centre_loads: the outdoor temperature per interval is needed "
                         "(chillers and free cooling follow it)")
    t = np.asarray(t_out_c, dtype=float)
    hp_el = np.zeros(n)
    heat = np.zeros(n)
    hr = dc.heat_recovery
    if hr is not None:
        source = c.chilled_water_supply_c + c.chilled_water_delta_t_k
        cop_hp = conversion.cop_carnot(hr.supply_temp_c, source, hr.quality_grade)
        # the heat pump's evaporator takes heat from the return water: H (1 - 1/COP) <= Q
        h_max = q / (1.0 - 1.0 / cop_hp)
        on = np.isin(month, hr.months)
        heat = np.where(on, np.minimum(hr.capacity_kw, h_max), 0.0)
        hp_el = heat / cop_hp
        q_rest = q - heat * (1.0 - 1.0 / cop_hp)
    else:
        q_rest = q
    if c.free_cooling:
        f = free_cooling_fraction(t, c.chilled_water_supply_c, c.chilled_water_delta_t_k,
                                  c.economiser_approach_k)
    else:
        f = np.zeros(n)
    t_evap = c.chilled_water_supply_c - c.evaporator_approach_k
    cop = conversion.chiller_cop_carnot(t_evap, t + c.condenser_approach_k, c.quality_grade,
                                        cop_max=c.cop_max)
    chiller = q_rest * (1.0 - f) / np.asarray(cop, dtype=float)
    econ = c.economiser_kw_per_kw * q_rest * f
    return DataCentreLoads(
        power_kw={"it": it, "power_losses": losses, "cooling": fans + chiller + econ,
                  "heat_recovery": hp_el},
        free_cooling=np.asarray(f, dtype=float), heat_exported_kw=heat, cooling_load_kw=q)
