"""Battery dispatch by linear programming inside a run: the perfect-foresight bound, and two
policies the EMS can run (``perfect_foresight`` and ``rolling_lp``).

* :func:`dispatch_kpis` (called when a run's KPIs are collected): solves the LP of
  :mod:`twin.energy.optimal` over the whole run with the run's true demand and generation, and
  reports the optimum and the run's **regret** = the run's dispatch objective - the optimum
  (CNY for cost, kg for emissions). Every dispatch the EMS can carry out is feasible for the LP
  (see the approximations in :mod:`twin.energy.optimal`), so the regret is >= 0.
* :class:`PerfectForesight` (policy ``perfect_foresight``): replays the LP's optimum. The site's
  demand comes from a first run of the same plant, seed and period with the ``self_consumption``
  policy; it is the demand of the real run whenever the plant's demand does not depend on the
  dispatch (no strategy reads the battery's state of charge). ``dispatch_demand_mismatch_kwh``
  in the KPIs says whether it did.
* :class:`RollingHorizonLp` (policy ``rolling_lp``): every ``resolve_every_h`` it solves the LP
  over the next ``horizon_h`` on forecasts (see :class:`twin.config.energy.RollingLp`) with the
  month's peak so far carried into the demand-charge term, and the EMS applies the planned battery
  power (clipped to what the batteries and the grid allow) until the next solve. Under a demand
  charge a *peak guard* raises the battery power when the actual import would exceed the peak
  the plan allowed for the month (the forecast was too low): it charges less or discharges more
  rather than set a new monthly peak.

Cost terms are those of the twin's KPIs: energy cost of import at the interval's price, demand
charge on the highest settlement-interval import of each calendar month (prorated by the share of
the month simulated, as ``kpis.demand_cost``), minus export revenue at the feed-in price. Gas and
capacity charges do not depend on the battery and are left out.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from twin.energy.ems import DispatchPolicy, register_policy
from twin.energy.optimal import (
    BatteryParams,
    InfeasibleDispatchError,
    dispatch_cost,
    optimal_dispatch,
)


def interval_hours(n: int, interval_s: float, horizon_s: float) -> np.ndarray:
    """Length of each settlement interval [h]; the last one ends at the horizon."""
    hours = np.full(n, interval_s / 3600.0)
    hours[-1] = (horizon_s - (n - 1) * interval_s) / 3600.0
    return hours


def demand_rates(model: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Month group of each interval, and the demand charge of each group [CNY/kW] prorated by the
    share of the month the run covers (as :func:`twin.energy.tariff.demand_charge` with
    ``prorate=True``); ``None`` without a demand charge."""
    from twin.energy.tariff import month_key, monthly_peak_demand

    sup = model.ems.supply
    n = sup.n_intervals
    index = model.clock.index(n, sup.interval_s)
    month = np.unique(month_key(index), return_inverse=True)[1].astype(np.int64)
    rate = model.supply_info.demand_charge_per_kw_month if model.supply_info else 0.0
    if not rate:
        return month, None
    coverage = monthly_peak_demand(np.zeros(n), index)["coverage"].to_numpy()
    return month, rate * coverage


def grid_intensity(model: Any) -> np.ndarray:
    """Location-based grid carbon intensity per interval [kgCO2/kWh], as the carbon accounting
    and the strategies' signals use it."""
    if model.signals is not None:
        return model.signals.grid_ef_per_interval
    from twin.signals import build_signals

    sup = model.ems.supply
    return build_signals(model.plant, model.clock, model.horizon_s, sup.interval_s, None,
                         model.ems).grid_ef_per_interval


def initial_params(battery: Any, soc_min_frac: float | None = None,
                   floor_hold: bool = False) -> BatteryParams:
    """The LP view of a :class:`~twin.energy.storage.Battery` as it was at the start of the run
    (nominal capacity, initial content); ``soc_min_frac`` raises the lower limit (a reserve);
    ``floor_hold`` as in :class:`~twin.energy.optimal.BatteryParams`."""
    lo = battery.soc_min_frac
    e0 = battery.initial_soc_frac * battery.energy_kwh
    if soc_min_frac is not None:
        lo = min(max(lo, soc_min_frac), battery.initial_soc_frac)
    return BatteryParams(battery.energy_kwh, battery.power_kw, battery.charge_efficiency,
                         battery.discharge_efficiency, lo, battery.soc_max_frac, e0,
                         battery.self_discharge_per_h, floor_hold=floor_hold)


def true_demand(model: Any) -> tuple[np.ndarray, np.ndarray]:
    """Site electric demand and CHP electricity per interval [kWh] of ``model``'s plant, seed and
    period, from a first run with the ``self_consumption`` policy (the same demand as the real
    run when the demand does not depend on the dispatch)."""
    from twin import engine

    plant = model.plant
    d = plant.energy.dispatch.model_copy(update={"policy": "self_consumption", "bound": False})
    first = plant.model_copy(update={"energy": plant.energy.model_copy(update={"dispatch": d})})
    m = engine.build(first, model.days, model.clock.start, model.seed)
    engine.run(m, progress=False)
    a = m.ems.arrays()
    return a["demand"].copy(), a["chp_electricity"].copy()


class _LpPolicy(DispatchPolicy):
    """Shared set-up of the LP policies: the arrays of the run and the objective."""

    def __init__(self, dispatch: Any = None, **_: object):
        from twin.config.energy import Dispatch

        self.spec = dispatch if dispatch is not None else Dispatch()
        self.solves = 0
        self.solve_s = 0.0
        self.fallbacks = 0
        self.mismatch_kwh = 0.0

    def bind(self, model: Any) -> None:
        sup = model.ems.supply
        self.n = sup.n_intervals
        self.dt = interval_hours(self.n, sup.interval_s, model.horizon_s)
        self.gen = np.asarray(sup.pv_kwh, dtype=float) + np.asarray(sup.wind_kwh, dtype=float)
        self.price = np.asarray(sup.price, dtype=float)
        self.feed_in = model.supply_info.feed_in_price_per_kwh if model.supply_info else 0.0
        self.month, self.rate = demand_rates(model)
        self.ef = grid_intensity(model)
        self.batteries = sup.batteries
        self.reserve = sup.reserve_frac
        self.import_limit = sup.import_limit_kw
        self.export_limit = sup.export_limit_kw

    def _solve(self, k0: int, k1: int, load: np.ndarray, gen: np.ndarray,
               batteries: list[BatteryParams], peak_floor: np.ndarray | None = None):
        t = time.perf_counter()
        try:
            return optimal_dispatch(
                load, gen, self.dt[k0:k1], batteries, price=self.price[k0:k1],
                feed_in_price=self.feed_in, grid_ef=self.ef[k0:k1],
                import_limit_kw=self.import_limit, export_limit_kw=self.export_limit,
                month=self.month[k0:k1] if self.rate is not None else None,
                demand_rate=self.rate, peak_floor_kw=peak_floor, objective=self.spec.objective,
                carbon_price_per_kg=self.spec.carbon_price_per_kg)
        finally:
            self.solves += 1
            self.solve_s += time.perf_counter() - t

    def report(self) -> dict[str, Any]:
        """What the policy did, for the KPIs."""
        return {"dispatch_lp_solves": self.solves, "dispatch_lp_fallbacks": self.fallbacks,
                "dispatch_demand_mismatch_kwh": self.mismatch_kwh}


@register_policy("perfect_foresight")
class PerfectForesight(_LpPolicy):
    """Replay the perfect-foresight optimum of the whole run (see the module doc)."""

    def bind(self, model: Any) -> None:
        super().bind(model)
        self.demand, chp = true_demand(model)
        bats = [initial_params(b, self.reserve) for b in self.batteries]
        try:
            self.plan = self._solve(0, self.n, self.demand, self.gen + chp, bats).battery_kw
        except InfeasibleDispatchError:
            self.plan = None  # the EMS falls back to self-consumption (counted)

    def battery_kw(self, s) -> float:
        self.mismatch_kwh = max(self.mismatch_kwh, abs(s.load_kw * s.dt_h - self.demand[s.k]))
        if self.plan is None:
            self.fallbacks += 1
            net = s.load_kw - s.renewable_kw
            return min(net, s.discharge_kw) if net > 0 else -min(-net, s.charge_kw)
        return float(self.plan[s.k])


@register_policy("rolling_lp")
class RollingHorizonLp(_LpPolicy):
    """Re-optimise the next ``horizon_h`` on forecasts every ``resolve_every_h`` (module doc)."""

    reads_month_peak = True

    def bind(self, model: Any) -> None:
        super().bind(model)
        r = self.spec.rolling
        step = model.ems.supply.interval_s
        self.horizon = max(1, round(r.horizon_h * 3600.0 / step))
        self.every = max(1, round(r.resolve_every_h * 3600.0 / step))
        self.lag = None
        if r.load_forecast == "persistence_day":
            self.lag = round(86400.0 / step)
        elif r.load_forecast == "persistence_week":
            self.lag = round(7 * 86400.0 / step)
        self.truth = self.truth_chp = None
        if r.load_forecast == "truth":
            self.truth, self.truth_chp = true_demand(model)
        self.load_sd = r.load_error_pct / 100.0
        self.gen_sd = r.generation_error_pct / 100.0
        self.rng_load = model.streams.generator("dispatch:rolling_lp:load")
        self.rng_gen = model.streams.generator("dispatch:rolling_lp:generation")
        self.seen_load = np.zeros(self.n)
        self.seen_chp = np.zeros(self.n)
        self.peak = np.zeros(int(self.month.max()) + 1 if self.n else 1)
        self.plan = np.zeros(0)
        self.start = 0
        self.target = np.full(self.peak.size if self.rate is None else self.rate.size, np.inf)
        """Highest import per month the last plan allows [kW] (its demand-charge peak)."""

    def _persist(self, seen: np.ndarray, k: int, current: float, count: int) -> np.ndarray:
        """Persistence forecast of intervals k+1..k+count from what was seen up to k."""
        t = np.arange(k + 1, k + 1 + count)
        src = t - self.lag * np.ceil((t - k) / self.lag).astype(np.int64)
        out = np.where(src >= 0, seen[np.maximum(src, 0)], current)
        return out * self.dt[t] / self.dt[np.maximum(src, 0)]

    def battery_kw(self, s) -> float:
        k = s.k
        m = self.month[k]
        if s.month_peak_kw > self.peak[m]:  # the month's import peak so far (the EMS counts it)
            self.peak[m] = s.month_peak_kw
        load_now = s.load_kw * s.dt_h
        chp_now = max(s.renewable_kw * s.dt_h - self.gen[k], 0.0)
        self.seen_load[k], self.seen_chp[k] = load_now, chp_now
        if self.truth is not None:
            self.mismatch_kwh = max(self.mismatch_kwh, abs(load_now - self.truth[k]))
        if k - self.start >= min(self.every, len(self.plan)):
            self._plan(k, load_now, chp_now)
        p = float(self.plan[k - self.start])
        if self.rate is not None:  # peak guard: keep the import within the planned peak
            cap = max(self.target[self.month[k]], self.peak[self.month[k]])
            over = s.load_kw - s.renewable_kw - p - cap
            if over > 0:
                p += over  # charge less or discharge more; the EMS clips to the battery
        return p

    def _plan(self, k: int, load_now: float, chp_now: float) -> None:
        k1 = min(k + self.horizon, self.n)
        ahead = k1 - k - 1
        z_load = self.rng_load.standard_normal(self.horizon)[:ahead]  # a fixed count per solve
        z_gen = self.rng_gen.standard_normal(self.horizon)[:ahead]
        if self.truth is not None:
            load_f = self.truth[k + 1:k1].copy()
            chp_f = self.truth_chp[k + 1:k1].copy()
        else:
            load_f = self._persist(self.seen_load, k, load_now, ahead)
            chp_f = self._persist(self.seen_chp, k, chp_now, ahead)
        load = np.concatenate([[load_now], np.maximum(load_f * (1 + self.load_sd * z_load), 0)])
        gen_f = np.maximum(self.gen[k + 1:k1] * (1 + self.gen_sd * z_gen), 0.0)
        gen = np.concatenate([[self.gen[k] + chp_now], gen_f + chp_f])
        bats = [BatteryParams.from_battery(b, self.reserve) for b in self.batteries]
        floor = self.peak.copy() if self.rate is not None else None
        if floor is not None and floor.size < self.rate.size:
            floor = np.concatenate([floor, np.zeros(self.rate.size - floor.size)])
        self.start = k
        try:
            best = self._solve(k, k1, load, gen, bats, floor)
            self.plan = best.battery_kw
            if floor is not None:
                self.target = best.parts.peak_kw
        except InfeasibleDispatchError:  # a forecast the grid cannot meet: self-consumption
            self.fallbacks += 1
            net = load - gen
            self.plan = np.clip(net / self.dt[k:k1], -sum(b.power_kw for b in self.batteries),
                                sum(b.power_kw for b in self.batteries))


def dispatch_kpis(model: Any, intervals: Any) -> dict[str, Any]:
    """The perfect-foresight bound of a finished run with batteries, and the run's regret.

    Keys: ``dispatch_objective`` ('cost', 'emissions' or 'weighted'), ``dispatch_cost`` (the
    run's energy + demand cost - export revenue [CNY]), ``dispatch_co2_kg`` (its location-based
    grid emissions), ``dispatch_no_battery_cost`` and ``dispatch_no_battery_co2_kg`` (the same
    demand and generation without batteries: what the batteries save is the difference),
    ``dispatch_optimum_cost``, ``dispatch_optimum_co2_kg`` (of the LP optimum),
    ``dispatch_regret`` (run - optimum in the objective's unit: CNY, kg, or CNY for weighted),
    and, for the LP policies, what they did (solves, fallbacks, demand mismatch). The optimum is
    None when the run left demand unserved or the LP has no solution (``dispatch_bound_note``).
    """
    ems = model.ems
    if ems is None or not ems.supply.batteries:
        return {}
    spec = model.plant.energy.dispatch
    out: dict[str, Any] = {"dispatch_objective": spec.objective}
    if isinstance(ems.policy, _LpPolicy):
        out.update(ems.policy.report())
    if not spec.bound:
        return out
    sup = ems.supply
    n = sup.n_intervals
    dt = interval_hours(n, sup.interval_s, model.horizon_s)
    month, rate = demand_rates(model)
    feed_in = model.supply_info.feed_in_price_per_kwh
    price = np.asarray(sup.price, dtype=float)
    ef = intervals["grid_ef_kg_per_kwh"].to_numpy(dtype=float)
    run = dispatch_cost(intervals["grid_import_kwh"].to_numpy(), intervals["grid_export_kwh"]
                        .to_numpy(), dt, price, feed_in, ef, month, rate)
    out["dispatch_cost"] = run.cost
    out["dispatch_co2_kg"] = run.co2_kg
    # the same demand and generation without the batteries: the grid takes what is left,
    # surplus is exported within the limit and the rest curtailed (as the EMS does)
    net = (intervals["electricity_demand_kwh"] - intervals["pv_kwh"] - intervals["wind_kwh"]
           - intervals["chp_kwh"]).to_numpy(dtype=float)
    bare = dispatch_cost(np.minimum(np.maximum(net, 0.0), sup.import_limit_kw * dt),
                         np.minimum(np.maximum(-net, 0.0), sup.export_limit_kw * dt), dt, price,
                         feed_in, ef, month, rate)
    out["dispatch_no_battery_cost"] = bare.cost
    out["dispatch_no_battery_co2_kg"] = bare.co2_kg
    cp = spec.carbon_price_per_kg
    if float(intervals["unserved_kwh"].sum()) > 1e-9:
        out.update(dispatch_optimum_cost=None, dispatch_optimum_co2_kg=None,
                   dispatch_regret=None,
                   dispatch_bound_note="the run left demand unserved: no bound computed")
        return out
    load = intervals["electricity_demand_kwh"].to_numpy(dtype=float)
    gen = (intervals["pv_kwh"] + intervals["wind_kwh"] + intervals["chp_kwh"]).to_numpy(float)
    bats = [initial_params(b, floor_hold=True) for b in sup.batteries]
    try:
        best = optimal_dispatch(load, gen, dt, bats, price=price, feed_in_price=feed_in,
                                grid_ef=ef, import_limit_kw=sup.import_limit_kw,
                                export_limit_kw=sup.export_limit_kw,
                                month=month if rate is not None else None, demand_rate=rate,
                                objective=spec.objective, carbon_price_per_kg=cp)
    except InfeasibleDispatchError as exc:
        out.update(dispatch_optimum_cost=None, dispatch_optimum_co2_kg=None, dispatch_regret=None,
                   dispatch_bound_note=str(exc))
        return out
    out["dispatch_optimum_cost"] = best.cost
    out["dispatch_optimum_co2_kg"] = best.parts.co2_kg
    out["dispatch_regret"] = run.objective(spec.objective, cp) - best.objective_value
    if best.simultaneous_intervals:
        out["dispatch_bound_note"] = (
            f"the optimum imports and exports (or charges and discharges) in the same interval "
            f"in {best.simultaneous_intervals} intervals (feed-in above the import price): a "
            f"bound no meter can reach")
    return out

