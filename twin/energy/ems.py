"""The energy-management system (EMS): balances every settlement interval of a run.

For each settlement interval the EMS

1. closes the interval: the exact energy the plant used per carrier;
2. supplies heat and cooling: heat storage, CHP, heat pumps, purchased heat and boilers; cold
   storage and chillers; their electricity and gas join the plant's own use;
3. balances electricity: onsite PV and wind, the batteries as the dispatch policy decides, then the
   grid within its hard import and export limits; what is left is curtailed (surplus) or unserved
   (deficit beyond the import limit and the batteries);
4. publishes signals that production strategies may read: state of charge, site demand, price and
   TOU period of the coming interval (the grid carbon intensity goes to the dispatch policy).

Two ways to run, same balance:

* **in the loop** (``EMS.live``, when a strategy reads the state of charge while the plant runs:
  :attr:`twin.strategies.Strategy.reads_storage`): a SimPy process closes each interval at its
  end, from the running site meter (:class:`~twin.metering.SiteLoad`), :meth:`EMS.close`;
* **after the run** (no strategy reads the EMS state during the run, so the batteries never act
  back on production): :meth:`EMS.settle` closes all intervals from the meter's exact
  per-interval energy. What carries no state from one interval to the next is vectorised; only
  storage and the dispatch policy are stepped interval by interval, in the same order, so the
  result is bit for bit that of the per-interval balance on the same energies. The two energy
  sources (the running site meter and the meter's bins) are exact integrals of the same
  piecewise-constant power summed in different orders: the two paths agree to rounding (4.5e-11
  relative at worst over 60 days of the demo plant, battery state carried along).

Per interval the work is O(storage units + conversion units), never O(equipment).

Balance per interval (kWh), which holds exactly by construction::

    pv + wind + chp - curtailed + discharge + import + unserved = demand + charge + export

where ``demand`` is all site electricity use (production, base loads, heat pumps, chillers,
electric boilers, building HVAC). Heat is supplied heat-led in the order CHP, heat pumps, boilers
(purchased heat before or after the boilers, as configured);
surplus onsite electricity beyond the export limit is curtailed (PV, wind, or CHP output).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import simpy

from twin.config.plant import ELECTRICITY, HEAT
from twin.energy.storage import Battery, ThermalStorage
from twin.metering import SiteLoad


@dataclass(slots=True)
class IntervalState:
    """What a dispatch policy sees when it decides the batteries for one interval."""

    k: int = 0
    """Interval index."""
    dt_h: float = 0.25
    """Interval length [h]."""
    load_kw: float = 0.0
    """Average site electric demand over the interval [kW]."""
    renewable_kw: float = 0.0
    """Average onsite generation: PV + wind (+ CHP electricity) [kW]."""
    period: str = "flat"
    """TOU period of the interval."""
    price: float = 0.0
    """Energy price of the interval [CNY/kWh]."""
    grid_ef: float = 0.0
    """Grid carbon intensity of the interval [kgCO2/kWh] (location-based; hourly shape if
    configured), for policies that weigh emissions."""
    charge_kw: float = 0.0
    """Most the batteries can take now [kW]."""
    discharge_kw: float = 0.0
    """Most the batteries can give now without going below the reserve [kW]."""
    soc_frac: float = 0.0
    """Stored energy / usable capacity of all batteries [-]."""
    month_peak_kw: float = 0.0
    """Highest grid import of this calendar month so far, before this interval [kW] (the peak a
    demand charge would bill if the month ended now)."""
    last_month_peak_kw: float = 0.0
    """Highest grid import of the previous calendar month of the run [kW] (0 in the first)."""


POLICIES: dict[str, Callable[..., DispatchPolicy]] = {}


def register_policy(name: str) -> Callable[[type], type]:
    """Class decorator: make a dispatch policy selectable by ``name`` in plant files."""

    def add(cls: type) -> type:
        POLICIES[name] = cls
        cls.name = name  # type: ignore[attr-defined]
        return cls

    return add


class DispatchPolicy:
    """Decides the battery power of one interval. Subclass, implement :meth:`battery_kw`, and
    register with :func:`register_policy` to select it from a plant file."""

    name = "base"
    reads_month_peak = False
    """Whether the policy reads ``IntervalState.month_peak_kw`` / ``last_month_peak_kw``; the EMS
    counts the month's grid-import peak only then (set it, e.g. in :meth:`bind`)."""

    def battery_kw(self, s: IntervalState) -> float:
        """Battery power for the interval [kW]: positive discharges, negative charges. The EMS
        clips it to ``s.charge_kw`` / ``s.discharge_kw`` and the grid limits."""
        raise NotImplementedError

    def bind(self, model: object) -> None:
        """Called once when the model is built, before the run (``model`` is the
        :class:`twin.engine.Model`, with its EMS, supply, clock and random streams): a policy
        that plans ahead reads what it needs here. The default does nothing."""

    def requests_kw(self, load_kw: np.ndarray, renewable_kw: np.ndarray,
                    periods: Sequence[str]) -> np.ndarray | None:
        """The policy's ask for many intervals at once, or ``None`` (the default): ask
        :meth:`battery_kw` interval by interval.

        A policy whose decision depends on nothing but the interval's load, onsite generation
        and TOU period, clipped to the batteries' limits, may return its unclipped ask per
        interval [kW] (positive discharges): ``battery_kw(s)`` must equal
        ``min(max(r, -s.charge_kw), s.discharge_kw)`` for every state ``s``. The EMS, after the
        run, then steps a single battery without calling the policy per interval: the same
        bits, and settling a year of the demo plant takes 25 ms instead of 53 ms.
        """
        return None


@register_policy("self_consumption")
class SelfConsumption(DispatchPolicy):
    """Surplus onsite generation charges the batteries; the batteries cover deficits."""

    def __init__(self, **_: object):
        pass

    def battery_kw(self, s: IntervalState) -> float:
        net = s.load_kw - s.renewable_kw
        return min(net, s.discharge_kw) if net > 0 else -min(-net, s.charge_kw)

    def requests_kw(self, load_kw: np.ndarray, renewable_kw: np.ndarray,
                    periods: Sequence[str]) -> np.ndarray:
        """The net load, every interval (see :meth:`DispatchPolicy.requests_kw`)."""
        return load_kw - renewable_kw


@register_policy("tou_arbitrage")
class TouArbitrage(DispatchPolicy):
    """Charge in cheap periods (from surplus generation and up to ``grid_charge_kw`` from the
    grid), cover the plant's load in expensive periods, and in other periods store surplus
    generation only. Surplus generation is stored in every period (rather than exported or
    curtailed while the batteries have room). The battery never discharges into export. With a
    demand charge, ``energy.dispatch.protect_peak`` / ``shave_peak`` make the EMS guard the
    month's import peak (:attr:`Supply.peak_guard`)."""

    def __init__(self, charge_periods: Sequence[str] = ("valley", "deep_valley"),
                 discharge_periods: Sequence[str] = ("critical", "peak"),
                 grid_charge_kw: float | None = None, **_: object):
        self.charge_periods = frozenset(charge_periods)
        self.discharge_periods = frozenset(discharge_periods)
        self.grid_charge_kw = math.inf if grid_charge_kw is None else float(grid_charge_kw)

    def battery_kw(self, s: IntervalState) -> float:
        net = s.load_kw - s.renewable_kw
        if s.period in self.discharge_periods:  # cover the load; store a surplus, never spill it
            return min(net, s.discharge_kw) if net > 0 else -min(-net, s.charge_kw)
        if s.period in self.charge_periods:
            return -min(s.charge_kw, max(-net, 0.0) + self.grid_charge_kw)
        return -min(-net, s.charge_kw) if net < 0 else 0.0

    def requests_kw(self, load_kw: np.ndarray, renewable_kw: np.ndarray,
                    periods: Sequence[str]) -> np.ndarray:
        """:meth:`battery_kw` before the clip to the batteries' limits, every interval (see
        :meth:`DispatchPolicy.requests_kw`): the net load in discharge periods, the surplus plus
        ``grid_charge_kw`` as charge in charge periods, the surplus as charge otherwise."""
        net = load_kw - renewable_kw
        code = {p: 2 if p in self.discharge_periods else 1 if p in self.charge_periods else 0
                for p in set(periods)}
        kind = np.fromiter(map(code.__getitem__, periods), dtype=np.int8, count=len(periods))
        return np.where(kind == 2, net, np.where(
            kind == 1, -(np.maximum(-net, 0.0) + self.grid_charge_kw),
            np.where(net < 0, net, 0.0)))


@dataclass
class ThermalUnit:
    """A source on the heat or the cooling bus: heat pump, boiler or CHP (heat), chiller (cold)."""

    name: str
    capacity_kw: float
    """Thermal output limit [kW]."""
    carrier: int
    """Carrier it draws: ELECTRICITY, NATURAL_GAS, or HEAT for heat bought across the fence
    (district heating, steam: efficiency 1, metered as heat delivered)."""
    efficiency: np.ndarray | float
    """Thermal out / energy in, per interval or constant (COP for heat pumps and chillers) [-]."""
    power_per_heat: float = 0.0
    """Electricity produced per unit of heat (CHP: electric / thermal efficiency) [-]."""


@dataclass
class Supply:
    """Everything the EMS needs that does not change during the run (arrays per interval)."""

    interval_s: float
    n_intervals: int
    pv_kwh: np.ndarray
    wind_kwh: np.ndarray
    period: list[str]
    price: np.ndarray
    batteries: list[Battery] = field(default_factory=list)
    reserve_frac: float = 0.0
    thermal: list[ThermalStorage] = field(default_factory=list)
    """Heat storage (hot water) on the heat bus."""
    cold: list[ThermalStorage] = field(default_factory=list)
    """Cold storage (ice, chilled water) on the cooling bus, in kWh of cooling."""
    heat_units: list[ThermalUnit] = field(default_factory=list)
    """Heat sources in merit order."""
    cool_units: list[ThermalUnit] = field(default_factory=list)
    """Chillers in merit order."""
    hvac_kwh: np.ndarray | None = None
    """Electricity of building heating and cooling per interval [kWh] (degree-hour model)."""
    data_centre_kwh: np.ndarray | None = None
    """Electricity of a data centre per interval [kWh] (IT, losses, cooling, heat recovery;
    :mod:`twin.energy.data_centre`), known before the run."""
    data_centre: object | None = None
    """The data centre's loads by group (:class:`twin.energy.data_centre.DataCentreLoads`)."""
    outdoor_temp_c: np.ndarray | None = None
    """Outdoor temperature per interval [degC] when the plant has weather."""
    scheduled_kwh: np.ndarray | None = None
    """Energy per interval and carrier of loads computed before the run and added to the meter
    (air-handling units' heating and cooling, :func:`twin.engine.meter_air_handling`) [kWh];
    the in-loop balance adds it to the running site meter, which does not see it."""
    import_limit_kw: float = math.inf
    export_limit_kw: float = 0.0
    storage_charge_periods: frozenset[str] = frozenset(("valley", "deep_valley"))
    """TOU periods in which heat and cold stores are charged from spare unit capacity."""
    grid_ef: np.ndarray | None = None
    """Grid carbon intensity per interval [kgCO2/kWh] (:func:`twin.signals.grid_intensity`);
    None: not known (dispatch policies then see 0)."""
    month: list[int] | None = None
    """Calendar month of every interval (:func:`twin.energy.tariff.month_key`), for the month's
    grid-import peak the dispatch policies see; None: one month."""
    peak_guard: str | None = None
    """How the EMS guards the month's grid-import peak whatever the policy asks (only with a
    demand charge): ``'protect'`` (``energy.dispatch.protect_peak``: charging never raises the
    import above the peak), ``'shave'`` (``shave_peak``: that, and the batteries discharge, down
    to the reserve, to hold the import at the peak) or None. The peak is the month's highest
    import so far, or the previous month's if higher (:meth:`EMS._guard`)."""


RECORDS = ("demand", "pv", "wind", "curtailed", "charge", "discharge", "soc", "grid_import",
           "grid_export", "unserved", "heat_demand", "heat_unmet", "cooling_demand",
           "cooling_unmet", "conversion_electricity", "conversion_gas", "plant_gas",
           "thermal_charge", "thermal_discharge", "thermal_soc", "chp_electricity",
           "building_hvac", "cold_charge", "cold_discharge", "cold_soc", "purchased_heat",
           "data_centre")
"""Quantities recorded per interval [kWh] (``soc`` and ``thermal_soc`` at its end)."""


class EMS:
    """Balances the site every settlement interval, in the loop or after the run (see module
    doc). ``env`` and ``site`` are needed only in the loop; without ``site`` the EMS settles
    after the run."""

    def __init__(self, env: simpy.Environment | None, site: SiteLoad | None, supply: Supply,
                 policy: DispatchPolicy, horizon_s: float, live: bool | None = None):
        self.env = env
        self.site = site
        self.supply = supply
        self.policy = policy
        self.horizon_s = horizon_s
        self._rows: list[tuple[float, ...]] = []  # one tuple of RECORDS per closed interval
        self._period = list(supply.period)
        self._last = [0.0] * 4
        self._table: np.ndarray | None = None
        self._settled: tuple[int, dict[str, np.ndarray]] | None = None
        self.live = (site is not None) if live is None else bool(live and site is not None)
        """True when the EMS closes every interval during the run (a strategy reads the state of
        charge); else it settles all intervals after the run from the meter (:meth:`settle`)."""
        self._k = 0
        self._state = IntervalState()
        self._month: int | None = None  # calendar month of the last interval balanced
        # signals for production strategies
        self.soc_frac = sum(b.soc_kwh for b in supply.batteries) / max(
            sum(b.capacity_kwh for b in supply.batteries), 1e-12) if supply.batteries else 0.0
        """State of charge of all batteries [-], at the end of the last interval."""
        self.site_kw = 0.0
        """Average site electric demand over the last interval [kW]."""
        self.price = float(supply.price[0]) if len(supply.price) else 0.0
        """Energy price of the interval now running [CNY/kWh]."""
        self.period = supply.period[0] if supply.period else "flat"
        """TOU period of the interval now running."""

    # The supply's arrays as lists of plain floats, for fast indexing interval by interval; made
    # on first use only (a run settled after it by the fast loop never needs them: 175,000 float
    # objects for a year at 15 min, made before the plant's own objects, slowed its run ~2 %).
    @cached_property
    def _pv(self) -> list[float]:
        return np.asarray(self.supply.pv_kwh, dtype=float).tolist()

    @cached_property
    def _wind(self) -> list[float]:
        return np.asarray(self.supply.wind_kwh, dtype=float).tolist()

    @cached_property
    def _price(self) -> list[float]:
        return np.asarray(self.supply.price, dtype=float).tolist()

    @cached_property
    def _ef(self) -> list[float]:
        sup = self.supply
        return (np.asarray(sup.grid_ef, dtype=float).tolist() if sup.grid_ef is not None
                else [0.0] * sup.n_intervals)

    @cached_property
    def _hvac(self) -> list[float] | None:
        sup = self.supply
        return (np.asarray(sup.hvac_kwh, dtype=float).tolist() if sup.hvac_kwh is not None
                else None)

    @cached_property
    def _dc(self) -> list[float] | None:
        sup = self.supply
        return (np.asarray(sup.data_centre_kwh, dtype=float).tolist()
                if sup.data_centre_kwh is not None else None)

    def run(self) -> Generator:
        """The SimPy process: one balance at the end of every interval."""
        step = self.supply.interval_s
        n = self.supply.n_intervals
        timeout = self.env.timeout
        while self._k < n - 1:
            yield timeout((self._k + 1) * step - self.env.now)
            self.close(self.env.now)

    def close(self, now: float) -> None:
        """Close interval ``k`` at time ``now`` (the interval end, or the horizon for the last),
        from the running site meter (the in-loop path, used when something reads the EMS state
        during the run)."""
        k = self._k
        dt_h = (now - k * self.supply.interval_s) / 3600.0
        if dt_h <= 0:
            return
        e = self.site.energy_kwh(now)
        last = self._last
        self._last = e
        use = [e[c] - last[c] for c in range(4)]
        extra = self.supply.scheduled_kwh
        if extra is not None:
            use = [use[c] + float(extra[k, c]) for c in range(4)]
        self._rows.append(self._balance(k, dt_h, *use))
        self._table = None

    def _balance(self, k: int, dt_h: float, el_use: float, gas_use: float, heat_use: float,
                 cool_use: float) -> tuple[float, ...]:
        """Balance interval ``k`` of ``dt_h`` hours given the plant's own use per carrier [kWh];
        step the storage, publish the signals and return the row of :data:`RECORDS`. The
        reference path: :meth:`settle` reproduces it bit for bit, vectorised where it can."""
        sup, s = self.supply, self._state
        # --- heat and cooling ------------------------------------------------------------------
        period = self._period[k]
        el = gas = heat_unmet = tes_in = tes_out = cool_unmet = chp = bought = 0.0
        if heat_use > 0 or sup.thermal:
            el, gas, heat_unmet, tes_in, tes_out, chp, bought = self._thermal(
                k, heat_use, dt_h, period, sup.thermal, sup.heat_units)
        cs_in = cs_out = 0.0
        if cool_use > 0 or sup.cold:
            cool_el, _, cool_unmet, cs_in, cs_out, _, _ = self._thermal(
                k, cool_use, dt_h, period, sup.cold, sup.cool_units)
            el += cool_el
        hvac = self._hvac[k] if self._hvac is not None else 0.0
        dc = self._dc[k] if self._dc is not None else 0.0
        demand = el_use + el + (hvac + dc)
        # --- electricity -----------------------------------------------------------------------
        pv, wind = self._pv[k], self._wind[k]
        onsite = pv + wind + chp
        charge = discharge = 0.0
        if sup.batteries:
            s.k, s.dt_h, s.period, s.price = k, dt_h, period, self._price[k]
            s.grid_ef = self._ef[k]
            s.load_kw, s.renewable_kw = demand / dt_h, onsite / dt_h
            if self.tracks_month_peak:
                self._month_of(s, k)
            charge, discharge = self._batteries(s, dt_h)
        net = demand + charge - onsite - discharge  # what the grid must give (+) or take (-)
        grid_import = grid_export = curtailed = unserved = 0.0
        if net > 0:
            grid_import = min(net, sup.import_limit_kw * dt_h)
            unserved = net - grid_import
            if grid_import > s.month_peak_kw * dt_h and self.tracks_month_peak:
                s.month_peak_kw = grid_import / dt_h
        elif net < 0:
            grid_export = min(-net, sup.export_limit_kw * dt_h)
            curtailed = -net - grid_export
        soc = 0.0
        for b in sup.batteries:
            soc += b.soc_kwh
        tes = cold = 0.0
        for t in sup.thermal:
            tes += t.soc_kwh
        for t in sup.cold:
            cold += t.soc_kwh
        # --- signals for the next interval -----------------------------------------------------
        if sup.batteries:
            cap = sum(b.capacity_kwh for b in sup.batteries)
            self.soc_frac = soc / cap if cap > 0 else 0.0
        self.site_kw = demand / dt_h
        self._k = k + 1
        if k + 1 < sup.n_intervals:
            self.price = self._price[k + 1]
            self.period = self._period[k + 1]
        return (demand, pv, wind, curtailed, charge, discharge, soc, grid_import, grid_export,
                unserved, heat_use, heat_unmet, cool_use, cool_unmet, el, gas, gas_use, tes_in,
                tes_out, tes, chp, hvac, cs_in, cs_out, cold, bought, dc)

    @property
    def tracks_month_peak(self) -> bool:
        """Whether the month's grid-import peak is counted: the policy reads it, or the EMS
        guards it (:attr:`Supply.peak_guard`)."""
        return self.policy.reads_month_peak or self.supply.peak_guard is not None

    def _month_of(self, s: IntervalState, k: int) -> None:
        """At a new calendar month, roll the month's grid-import peak over (what the policy sees
        in ``s.month_peak_kw`` and ``s.last_month_peak_kw``)."""
        months = self.supply.month
        m = months[k] if months is not None else 0
        if m != self._month:
            if self._month is not None:
                s.last_month_peak_kw = s.month_peak_kw
            s.month_peak_kw = 0.0
            self._month = m

    # ------------------------------------------------------------------------------------------
    def _batteries(self, s: IntervalState, dt_h: float) -> tuple[float, float]:
        """Ask the policy, respect the import limit, step every battery once; (charge,
        discharge) [kWh, AC side]."""
        bats = self.supply.batteries
        if len(bats) == 1:  # the same steps without the lists (a third of the time)
            return self._one_battery(s, dt_h, bats[0])
        return self._many_batteries(s, dt_h)

    def _many_batteries(self, s: IntervalState, dt_h: float) -> tuple[float, float]:
        """:meth:`_batteries` for any number of batteries."""
        sup = self.supply
        bats = sup.batteries
        # per battery: what it can take, give, and give without going below the reserve; the
        # reserve applies to the content after this step's standing loss, as the battery's own
        # lower limit does
        limits = [b.limits_kw(dt_h, sup.reserve_frac) for b in bats]
        charge_cap = [x[0] for x in limits]
        full_cap = [x[1] for x in limits]
        reserve_cap = [x[2] for x in limits]
        s.charge_kw, s.discharge_kw = sum(charge_cap), sum(reserve_cap)
        s.soc_frac = self.soc_frac
        p = self.policy.battery_kw(s)
        p = min(p, s.discharge_kw) if p > 0 else max(p, -s.charge_kw)
        if sup.peak_guard is not None:
            p = guard_peak(p, s.load_kw - s.renewable_kw,
                           max(s.month_peak_kw, s.last_month_peak_kw), sup.peak_guard,
                           s.discharge_kw)
        if p > 0:  # never discharge into curtailment (see _one_battery)
            p = min(p, max(s.load_kw - s.renewable_kw + sup.export_limit_kw, 0.0))
        over = s.load_kw - s.renewable_kw - p - sup.import_limit_kw
        caps = reserve_cap
        if over > 0:  # the grid cannot give that much: charge less, then discharge, below reserve
            p = min(p + over, sum(full_cap))
            caps = full_cap if p > s.discharge_kw else reserve_cap
        charge = discharge = 0.0
        left = abs(p)
        for b, c_cap, d_cap in zip(bats, charge_cap, caps, strict=True):  # in the order given
            if p > 0 and left > 0:
                got = b.discharge(min(left, d_cap), dt_h)
                discharge += got * dt_h
                left -= got
            elif p < 0 and left > 0:
                got = b.charge(min(left, c_cap), dt_h)
                charge += got * dt_h
                left -= got
            else:
                b.standby(dt_h)
        return charge, discharge

    def _one_battery(self, s: IntervalState, dt_h: float, b: Battery) -> tuple[float, float]:
        """:meth:`_batteries` for a single battery, bit for bit (``sum`` of one value is
        ``0 + value``)."""
        sup = self.supply
        c_cap, full, reserve_cap = b.limits_kw(dt_h, sup.reserve_frac)
        s.charge_kw = c_cap = 0 + c_cap
        s.discharge_kw = reserve_cap = 0 + reserve_cap
        s.soc_frac = self.soc_frac
        p = self.policy.battery_kw(s)
        if p > 0:  # min(p, discharge) and max(p, -charge) as in _many_batteries
            if reserve_cap < p:
                p = reserve_cap
        elif -c_cap > p:
            p = -c_cap
        if sup.peak_guard is not None:
            p = guard_peak(p, s.load_kw - s.renewable_kw,
                           max(s.month_peak_kw, s.last_month_peak_kw), sup.peak_guard,
                           reserve_cap)
        if p > 0:
            # never discharge into curtailment: at most the site's net load plus the export
            # room (a plan made on forecasts, as rolling_lp's, may ask for more than the
            # actual net load; the rule-based policies never do)
            room = s.load_kw - s.renewable_kw + sup.export_limit_kw
            if room < p:
                p = room if room > 0 else 0.0
        over = s.load_kw - s.renewable_kw - p - sup.import_limit_kw
        d_cap = reserve_cap
        if over > 0:
            p = min(p + over, 0 + full)
            d_cap = full if p > reserve_cap else reserve_cap
        if p > 0:
            return 0.0, 0.0 + b.discharge(min(p, d_cap), dt_h) * dt_h
        if p < 0:
            return 0.0 + b.charge(min(-p, c_cap), dt_h) * dt_h, 0.0
        b.standby(dt_h)
        return 0.0, 0.0

    def _thermal(self, k: int, need: float, dt_h: float, period: str,
                 stores: list[ThermalStorage], units: list[ThermalUnit]
                 ) -> tuple[float, float, float, float, float, float]:
        """Supply ``need`` [kWh] on a heat or cooling bus: the stores first outside their
        charging periods, then the units in merit order; in charging periods the first unit's
        spare capacity charges the stores, and the stores cover what the units cannot. Every
        store is stepped exactly once. Returns (electricity used, gas used, unmet, stored,
        taken from storage, CHP electricity produced, heat bought) [kWh]."""
        el = gas = stored = taken = chp = bought = 0.0
        charging = period in self.supply.storage_charge_periods
        stepped = [False] * len(stores)
        if not charging and need > 0:
            for i, t in enumerate(stores):
                # what the stores before gave can pass the need by an ulp: then ask for nothing
                want = need / dt_h if need > 0 else 0.0
                got = t.discharge(min(want, t.headroom_discharge_kw(dt_h)), dt_h) * dt_h
                stepped[i] = True
                taken += got
                need -= got
        spare_kw = 0.0
        for j, u in enumerate(units):
            eff = u.efficiency[k] if isinstance(u.efficiency, np.ndarray) else u.efficiency
            out = min(need, u.capacity_kw * dt_h) if need > 0 else 0.0
            need -= out
            if j == 0:
                spare_kw = u.capacity_kw - out / dt_h
            chp += out * u.power_per_heat
            if u.carrier == ELECTRICITY:
                el += out / eff
            elif u.carrier == HEAT:
                bought += out / eff
            else:
                gas += out / eff
        for i, t in enumerate(stores):
            if stepped[i]:
                continue
            if need > 0:  # only in a charging period with every unit at capacity
                got = t.discharge(min(need / dt_h, t.headroom_discharge_kw(dt_h)), dt_h) * dt_h
                taken += got
                need -= got
            elif charging and units and spare_kw > 0:
                u = units[0]
                p = t.charge(min(spare_kw, t.headroom_charge_kw(dt_h)), dt_h)
                spare_kw -= p
                stored += p * dt_h
                chp += p * dt_h * u.power_per_heat
                eff = u.efficiency[k] if isinstance(u.efficiency, np.ndarray) else u.efficiency
                if u.carrier == ELECTRICITY:
                    el += p * dt_h / eff
                elif u.carrier == HEAT:
                    bought += p * dt_h / eff
                else:
                    gas += p * dt_h / eff
            else:
                t.standby(dt_h)
        return el, gas, max(need, 0.0), stored, taken, chp, bought

    # --- after the run ---------------------------------------------------------------------------
    def settle(self, energy_kwh: np.ndarray) -> None:
        """Close every interval not closed yet, after the simulation, from the plant's exact
        energy per interval and carrier [kWh].

        ``energy_kwh`` has one row per interval and the columns electricity, natural gas, heat,
        cooling (more are ignored): the meter's bins summed over groups
        (:meth:`settle_from_meter`). The result is bit for bit what :meth:`_balance` gives
        interval by interval on the same energies: what carries no state from one interval to
        the next (heat and cooling units without stores, the electricity balance without
        batteries, the grid split) is computed for all intervals at once with the same
        floating-point operations in the same order; only storage and the dispatch policy are
        stepped in a loop, once per interval, in the same order as during a run.
        """
        sup = self.supply
        k0, n, step = self._k, sup.n_intervals, sup.interval_s
        ks = np.arange(k0, n)
        dts = ((ks + 1) * step - ks * step) / 3600.0
        if ks.size:
            dts[-1] = (self.horizon_s - (n - 1) * step) / 3600.0
            if not dts[-1] > 0:  # the run ends on a boundary by rounding: nothing to close
                ks, dts = ks[:-1], dts[:-1]
        m = ks.size
        if m == 0:
            return
        e = np.asarray(energy_kwh, dtype=float)[k0:k0 + m]
        el_use, gas_use, heat_use, cool_use = (e[:, c].copy() for c in range(4))
        zeros = np.zeros(m)
        # per bus: electricity, gas, unmet, stored, taken from store, CHP electricity, heat
        # bought [kWh]
        heat = _units_vectorised(heat_use, dts, sup.heat_units, ks, zeros)
        cool = _units_vectorised(cool_use, dts, sup.cool_units, ks, zeros)
        hvac = (np.asarray(sup.hvac_kwh, dtype=float)[ks] if sup.hvac_kwh is not None
                else zeros)
        dc = (np.asarray(sup.data_centre_kwh, dtype=float)[ks]
              if sup.data_centre_kwh is not None else zeros)
        loads = hvac + dc  # loads known before the run, added as _balance does
        pv = np.asarray(sup.pv_kwh, dtype=float)[ks]
        wind = np.asarray(sup.wind_kwh, dtype=float)[ks]
        charge = discharge = soc = tes = cold = zeros
        if sup.thermal or sup.cold:
            heat, cool, charge, discharge, soc, tes, cold = self._settle_storage(
                ks, dts, el_use, heat_use, cool_use, heat, cool, loads, pv, wind)
        elif sup.batteries:  # the buses are settled already: only the batteries step
            charge, discharge, soc = self._settle_batteries(
                ks, dts, el_use + (heat[0] + cool[0]) + loads, pv + wind + heat[5])
        el = heat[0] + cool[0]
        demand = el_use + el + loads
        onsite = pv + wind + heat[5]
        net = demand + charge - onsite - discharge
        pos, neg = net > 0, net < 0
        grid_import = np.where(pos, np.minimum(net, sup.import_limit_kw * dts), 0.0)
        unserved = np.where(pos, net - grid_import, 0.0)
        grid_export = np.where(neg, np.minimum(-net, sup.export_limit_kw * dts), 0.0)
        curtailed = np.where(neg, -net - grid_export, 0.0)
        cols = {"demand": demand, "pv": pv, "wind": wind, "curtailed": curtailed,
                "charge": charge, "discharge": discharge, "soc": soc,
                "grid_import": grid_import, "grid_export": grid_export, "unserved": unserved,
                "heat_demand": heat_use, "heat_unmet": heat[2], "cooling_demand": cool_use,
                "cooling_unmet": cool[2], "conversion_electricity": el,
                "conversion_gas": heat[1], "plant_gas": gas_use, "thermal_charge": heat[3],
                "thermal_discharge": heat[4], "thermal_soc": tes, "chp_electricity": heat[5],
                "building_hvac": hvac, "cold_charge": cool[3], "cold_discharge": cool[4],
                "cold_soc": cold, "purchased_heat": heat[6], "data_centre": dc}
        self._settled = (k0, cols)
        self._table = None
        # the signals as the last interval leaves them
        if sup.batteries:
            cap = sum(b.capacity_kwh for b in sup.batteries)
            self.soc_frac = float(soc[-1]) / cap if cap > 0 else 0.0
        self.site_kw = float(demand[-1] / dts[-1])
        last = int(ks[-1])
        self._k = last + 1
        j = min(last, n - 2)  # the last close that moved price and period to the next interval
        if j >= k0:
            self.price = float(sup.price[j + 1])
            self.period = self._period[j + 1]

    def _settle_batteries(self, ks: np.ndarray, dts: np.ndarray, demand: np.ndarray,
                          onsite: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The loop of :meth:`settle` when only batteries carry state: the site demand and
        onsite generation per interval are known [kWh] (computed as :meth:`_balance` does), so
        each step is the policy and the battery step of :meth:`_batteries`. Returns (charge,
        discharge, stored energy at the end) per interval [kWh]."""
        s, bats = self._state, self.supply.batteries
        one = bats[0] if len(bats) == 1 else None
        load, renewable = demand / dts, onsite / dts
        track = self.tracks_month_peak
        if one is not None and not self.policy.reads_month_peak:
            asks = self.policy.requests_kw(load, renewable, self._period[ks[0]:ks[-1] + 1])
            if asks is not None:  # (settle publishes the state of charge)
                return self._follow_asks(one, np.asarray(asks, dtype=float), ks, dts, demand,
                                         onsite)
        one_battery, batteries = self._one_battery, self._batteries
        limit = self.supply.import_limit_kw
        prices, periods, efs = self._price, self._period, self._ef
        month_of = self._month_of
        ch: list[float] = []
        dis: list[float] = []
        soc: list[float] = []
        for k, dt_h, use, gen, load_kw, renewable_kw in zip(
                ks.tolist(), dts.tolist(), demand.tolist(), onsite.tolist(),
                load.tolist(), renewable.tolist(), strict=True):
            s.k, s.dt_h, s.period, s.price, s.grid_ef = k, dt_h, periods[k], prices[k], efs[k]
            s.load_kw, s.renewable_kw = load_kw, renewable_kw
            if track:
                month_of(s, k)
            if one is not None:
                c, d = one_battery(s, dt_h, one)
                q, cap = 0.0 + one.soc_kwh, 0.0 + one.capacity_kwh
            else:
                c, d = batteries(s, dt_h)
                q = cap = 0.0
                for b in bats:
                    q += b.soc_kwh
                    cap += b.capacity_kwh
            net = use + c - gen - d  # the month's import peak, counted as _balance does
            if track and net > 0:
                imp = min(net, limit * dt_h)
                if imp > s.month_peak_kw * dt_h:
                    s.month_peak_kw = imp / dt_h
            ch.append(c)
            dis.append(d)
            soc.append(q)
            self.soc_frac = q / cap if cap > 0 else 0.0
        return (np.array(ch, dtype=float), np.array(dis, dtype=float),
                np.array(soc, dtype=float))

    def _follow_asks(self, b: Battery, asks: np.ndarray, ks: np.ndarray, dts: np.ndarray,
                     use: np.ndarray, gen: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The loop of :meth:`_settle_batteries` for one battery whose policy's asks are known
        beforehand (:meth:`DispatchPolicy.requests_kw`): per interval the month's peak
        (:meth:`_month_of`), the limits (:meth:`Battery.limits_kw`), the clip, the peak guard
        (:func:`guard_peak`) and the grid rules of :meth:`_one_battery`, the step
        (:meth:`Battery.charge`, :meth:`Battery.discharge`, :meth:`Battery.standby` with its
        ``_close``) and the month's import peak, written out in one loop with the state in
        local variables: the same floating-point operations in the same order, so the same bits
        (``tests/test_ems_settle.py`` compares it with the per-interval loop on random
        batteries with standing loss and both kinds of fade, guards and month ends, and on
        random plants), in less than half the time. Keep it in step with those methods.
        ``use`` and ``gen`` are the site's demand and onsite generation per interval [kWh].
        Returns (charge, discharge, stored energy at the end) per interval [kWh]; the battery
        and the month's peak are left as the per-interval steps would leave them."""
        sup, st = self.supply, self._state
        reserve_frac, limit, export_limit = (sup.reserve_frac, sup.import_limit_kw,
                                             sup.export_limit_kw)
        guard = sup.peak_guard
        shave = guard == "shave"
        track = self.tracks_month_peak
        months = sup.month if sup.month is not None else [0] * sup.n_intervals
        month, peak, last_peak = self._month, st.month_peak_kw, st.last_month_peak_kw
        held = max(peak, last_peak)  # the peak the guard holds, kept up to date below
        p_max, eta_c, eta_d = b.power_kw, b.charge_efficiency, b.discharge_efficiency
        lo_frac, hi_frac, gamma, sigma = b.soc_min_frac, b.soc_max_frac, b._gamma, b._sigma
        fading, e_nom = b._fading, b.energy_kwh
        f_kwh, f_h = b._fade_per_kwh, b._fade_per_h
        soc, cap = b.soc_kwh, b.capacity_kwh
        thr, charged, discharged = b.throughput_kwh, b.charged_kwh, b.discharged_kwh
        standing, fade_loss, age = b.standing_loss_kwh, b.fade_loss_kwh, b.age_h
        step_dt, keep = b._dt, b._keep
        load_kw, renewable_kw = use / dts, gen / dts
        n = asks.size
        ch, dis, level = [0.0] * n, [0.0] * n, [0.0] * n
        # the intervals where the battery stands by: nothing asked and the grid can carry the
        # net load (the clip leaves a zero ask at zero; then only the import limit could make
        # the battery discharge, or the guard when it shaves: checked in the loop); the same
        # operations as in the loop below (an ask of -inf, grid charging without a limit, with
        # no import limit gives NaN there: not idle)
        with np.errstate(invalid="ignore"):
            over = load_kw - renewable_kw - asks - limit
        idle = ((asks == 0.0) & ~(over > 0)).tolist()
        for i, (k, r, u, g, load, ren, dt_h, still) in enumerate(zip(
                ks.tolist(), asks.tolist(), use.tolist(), gen.tolist(), load_kw.tolist(),
                renewable_kw.tolist(), dts.tolist(), idle, strict=True)):
            if track and months[k] != month:  # _month_of
                if month is not None:
                    last_peak = peak
                peak = 0.0
                month = months[k]
                held = max(peak, last_peak)
            if dt_h != step_dt:  # Battery._decayed: a new step length
                if not dt_h > 0.0:
                    raise ValueError(f"dt_h={dt_h!r}: expected a step length > 0 [h]")
                step_dt, keep = dt_h, (1.0 - sigma) ** dt_h
            # Battery.limits_kw
            d = soc * keep - gamma * cap * dt_h
            e_lo = lo_frac * cap
            if d < e_lo:
                d = e_lo
            if still and shave:  # unless the guard would shave: as in guard_peak
                still = not (load - ren - r - held > 0 and held > 0)
            if still:  # stands by (below)
                p = 0.0
            else:
                room = (hi_frac * cap - d) / (eta_c * dt_h)
                c_cap = 0.0 if room < 0.0 else (room if room < p_max else p_max)
                room = (d - lo_frac * cap) * (eta_d / dt_h)
                full = 0.0 if room < 0.0 else (room if room < p_max else p_max)
                above = (d - reserve_frac * cap) * eta_d / dt_h
                r_cap = (above if above < full else full) if above > 0 else 0.0
                c_cap, r_cap = 0 + c_cap, 0 + r_cap
                # _one_battery: the policy's clip, the peak guard, no discharge into
                # curtailment, the import limit
                p = r
                if p > 0:
                    if r_cap < p:
                        p = r_cap
                elif -c_cap > p:
                    p = -c_cap
                if guard is not None:  # guard_peak
                    over = load - ren - p - held
                    if over > 0:
                        top = r_cap if shave and held > 0 else 0.0
                        if p < top:
                            p = min(p + over, top)
                if p > 0:
                    room = load - ren + export_limit
                    if room < p:
                        p = room if room > 0 else 0.0
                over = load - ren - p - limit
                d_cap = r_cap
                if over > 0:
                    p = min(p + over, 0 + full)
                    d_cap = full if p > r_cap else r_cap
            # Battery.discharge / charge / standby
            c_kwh = d_kwh = 0.0
            if p > 0:
                pk = min(p, d_cap)
                lim = p_max if pk > p_max else pk
                room = (d - e_lo) * eta_d / dt_h
                if lim >= room:
                    pk, e = room, e_lo
                else:
                    pk = lim
                    e = d - pk * dt_h / eta_d
                    if e < e_lo:
                        e = e_lo
                standing += soc - d
                thr += pk * dt_h / eta_d
                discharged += pk * dt_h
                dis[i] = d_kwh = 0.0 + pk * dt_h
            elif p < 0:
                pk = min(-p, c_cap)
                e_hi = hi_frac * cap
                lim = p_max if pk > p_max else pk
                room = (e_hi - d) / (eta_c * dt_h)
                if lim >= room:
                    pk, e = (room, e_hi) if room > 0.0 else (0.0, d)
                else:
                    pk = lim
                    e = d + eta_c * pk * dt_h
                    if e > e_hi:
                        e = e_hi
                standing += soc - d
                thr += eta_c * pk * dt_h
                charged += pk * dt_h
                ch[i] = c_kwh = 0.0 + pk * dt_h
            else:
                standing += soc - d
                e = d
            # Battery._close
            age += dt_h
            if fading:
                cap = e_nom * (1.0 - f_kwh * thr - f_h * age)
                if cap < 0.0:
                    cap = 0.0
                e_hi = hi_frac * cap
                if e > e_hi:
                    fade_loss += e - e_hi
                    e = e_hi
            soc = e
            level[i] = 0.0 + soc
            if track:  # the month's import peak, counted as _settle_batteries does
                net = u + c_kwh - g - d_kwh
                if net > 0:
                    imp = limit * dt_h  # min(net, limit * dt_h)
                    if not imp < net:
                        imp = net
                    if imp > peak * dt_h:
                        peak = imp / dt_h
                        held = max(peak, last_peak)
        b.soc_kwh, b.capacity_kwh = soc, cap
        b.throughput_kwh, b.charged_kwh, b.discharged_kwh = thr, charged, discharged
        b.standing_loss_kwh, b.fade_loss_kwh, b.age_h = standing, fade_loss, age
        b._dt, b._keep = step_dt, keep
        self._month, st.month_peak_kw, st.last_month_peak_kw = month, peak, last_peak
        return (np.array(ch, dtype=float), np.array(dis, dtype=float),
                np.array(level, dtype=float))

    def _settle_storage(self, ks: np.ndarray, dts: np.ndarray, el_use: np.ndarray,
                        heat_use: np.ndarray, cool_use: np.ndarray, heat: list[np.ndarray],
                        cool: list[np.ndarray], hvac: np.ndarray, pv: np.ndarray,
                        wind: np.ndarray) -> tuple:
        """The loop of :meth:`settle` when there is storage: per interval, a bus with stores as
        :meth:`_thermal` does (the vectorised result of a bus without stores is kept), then the
        batteries as :meth:`_batteries` does."""
        sup, s = self.supply, self._state
        m = ks.size
        heat_loop, cool_loop = bool(sup.thermal), bool(sup.cold)
        bats, thermal, colds = sup.batteries, sup.thermal, sup.cold
        prices, periods, efs = self._price, self._period, self._ef
        h_el, h_gas, h_un, h_in, h_out, h_chp, h_buy = (a.tolist() for a in heat)
        c_el, c_un, c_in, c_out = (cool[j].tolist() for j in (0, 2, 3, 4))
        hv, elu, pvl, wl = hvac.tolist(), el_use.tolist(), pv.tolist(), wind.tolist()
        hu, cu = heat_use.tolist(), cool_use.tolist()
        ch, dis, soc, tes, cold = [0.0] * m, [0.0] * m, [0.0] * m, [0.0] * m, [0.0] * m
        one = bats[0] if len(bats) == 1 else None
        one_battery, batteries = self._one_battery, self._batteries
        limit, track = sup.import_limit_kw, self.tracks_month_peak
        for i, (k, dt_h) in enumerate(zip(ks.tolist(), dts.tolist(), strict=True)):
            period = periods[k]
            if heat_loop:
                (h_el[i], h_gas[i], h_un[i], h_in[i], h_out[i], h_chp[i], h_buy[i]) = self._thermal(
                    k, hu[i], dt_h, period, thermal, sup.heat_units)
                q = 0.0
                for t in thermal:
                    q += t.soc_kwh
                tes[i] = q
            if cool_loop:
                c_el[i], _, c_un[i], c_in[i], c_out[i], _, _ = self._thermal(
                    k, cu[i], dt_h, period, colds, sup.cool_units)
                q = 0.0
                for t in colds:
                    q += t.soc_kwh
                cold[i] = q
            if bats:
                onsite = pvl[i] + wl[i] + h_chp[i]
                demand = elu[i] + (h_el[i] + c_el[i]) + hv[i]
                s.k, s.dt_h, s.period, s.price = k, dt_h, period, prices[k]
                s.grid_ef = efs[k]
                s.load_kw, s.renewable_kw = demand / dt_h, onsite / dt_h
                if track:
                    self._month_of(s, k)
                if one is not None:  # the same as _batteries, one call less
                    ch[i], dis[i] = one_battery(s, dt_h, one)
                    q, cap = 0.0 + one.soc_kwh, 0.0 + one.capacity_kwh
                else:
                    ch[i], dis[i] = batteries(s, dt_h)
                    q = cap = 0.0
                    for b in bats:
                        q += b.soc_kwh
                        cap += b.capacity_kwh
                net = demand + ch[i] - onsite - dis[i]  # the month's import peak, as _balance
                if track and net > 0:
                    imp = min(net, limit * dt_h)
                    if imp > s.month_peak_kw * dt_h:
                        s.month_peak_kw = imp / dt_h
                soc[i] = q
                self.soc_frac = q / cap if cap > 0 else 0.0
        heat = [np.array(a, dtype=float)
                for a in (h_el, h_gas, h_un, h_in, h_out, h_chp, h_buy)]
        cool = [np.array(c_el, dtype=float), cool[1], np.array(c_un, dtype=float),
                np.array(c_in, dtype=float), np.array(c_out, dtype=float), cool[5], cool[6]]
        charge, discharge = np.array(ch, dtype=float), np.array(dis, dtype=float)
        soc, tes, cold = (np.array(a, dtype=float) for a in (soc, tes, cold))
        return heat, cool, charge, discharge, soc, tes, cold

    def settle_from_meter(self, meter) -> None:
        """:meth:`settle` from a closed :class:`~twin.metering.Meter` (its bins summed over
        groups per carrier)."""
        if self._k >= self.supply.n_intervals:
            return
        self.settle(meter.carrier_kwh())

    def arrays(self) -> dict[str, np.ndarray]:
        """Recorded quantities per interval [kWh], padded with zeros to all intervals."""
        n = self.supply.n_intervals
        if not self._rows and self._settled is not None and self._settled[0] == 0 and len(
                self._settled[1]["demand"]) == n:  # settled whole after the run: no copies
            cols = self._settled[1]
            for a in cols.values():  # some columns share one array of zeros: read only
                a.flags.writeable = False
            return dict(cols)
        if self._table is None:
            table = np.zeros((n, len(RECORDS)))
            if self._rows:
                table[: len(self._rows)] = np.asarray(self._rows, dtype=float)
            if self._settled is not None:
                k0, cols = self._settled
                for j, name in enumerate(RECORDS):
                    table[k0:k0 + len(cols[name]), j] = cols[name]
            self._table = table
        return {name: self._table[:, j] for j, name in enumerate(RECORDS)}


def _units_vectorised(need: np.ndarray, dts: np.ndarray, units: list[ThermalUnit],
                      ks: np.ndarray, zeros: np.ndarray) -> list[np.ndarray]:
    """Heat or cooling units in merit order, no stores, for the intervals ``ks`` at once:
    [electricity used, gas used, unmet, stored (0), taken from stores (0), CHP electricity,
    heat bought] [kWh], element by element the same operations as :meth:`EMS._thermal` (also where
    ``need <= 0``: nothing runs, everything is 0)."""
    need = np.array(need, dtype=float)
    el = np.zeros(need.size)
    gas = np.zeros(need.size)
    bought = np.zeros(need.size)
    chp = np.zeros(need.size)
    for u in units:
        eff = u.efficiency[ks] if isinstance(u.efficiency, np.ndarray) else u.efficiency
        out = np.where(need > 0, np.minimum(need, u.capacity_kw * dts), 0.0)
        need = need - out
        chp = chp + out * u.power_per_heat
        if u.carrier == ELECTRICITY:
            el = el + out / eff
        elif u.carrier == HEAT:
            bought = bought + out / eff
        else:
            gas = gas + out / eff
    return [el, gas, np.maximum(need, 0.0), zeros, zeros, chp, bought]


def guard_peak(p_kw: float, net_kw: float, peak_kw: float, guard: str,
               reserve_cap_kw: float) -> float:
    """The battery power [kW, + discharges] after the EMS's peak guard (:attr:`Supply.peak_guard`).

    ``p_kw`` is the policy's ask clipped to the batteries' limits, ``net_kw`` the site's net
    load (demand - onsite generation), ``peak_kw`` the peak to guard (the month's highest
    import so far, or the previous month's if higher) and ``reserve_cap_kw`` the most the
    batteries may give without going below the reserve. When the import ``net - p`` would
    exceed the peak by ``over``: ``'protect'`` charges less, by up to ``over`` (never turning a
    charge into a discharge); ``'shave'`` also discharges, up to ``reserve_cap_kw``, so that the
    import stays at the peak (not while no peak is known yet, ``peak_kw`` 0). Otherwise ``p_kw``
    is returned as it is."""
    over = net_kw - p_kw - peak_kw
    if over > 0:
        top = reserve_cap_kw if guard == "shave" and peak_kw > 0 else 0.0
        if p_kw < top:
            return min(p_kw + over, top)
    return p_kw
