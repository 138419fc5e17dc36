"""Capacity sizing by linear programming: least-cost PV, wind, battery energy and power, grid
connection and heat plant (heat pumps, boilers, CHP, chillers, thermal stores) for a given
interval demand, with targets as constraints and their shadow prices.

One LP (HiGHS, sparse) holds the candidate capacities and the dispatch of every interval. It is
solved whole (:func:`scipy.optimize.linprog`) or, without targets, by Benders cuts over the
capacity columns (:mod:`twin.energy.benders`; ``solve_sizing(method=...)``). The dispatch
rules are those of the fixed-size dispatch LP, built by the same function
(:func:`twin.energy.optimal.add_dispatch`): the balance, storage, level, power, grid-limit and
demand-peak constraints exist once. What sizing adds:

* a capacity column ``X_c`` per candidate in ``[min, max]``, split ``X_c = K_c + N_c`` into the
  sunk capacity kept ``K_c`` in ``[0, existing]`` (free) and new capacity ``N_c >= 0``;
* PV and wind: ``gen_t += profile_c,t X_c`` with the per-kW generation of the run;
  batteries: ``E_t <= soc_max X_c``, ``ch_t, dis_t <= X_c``; the grid: ``imp_t <= dt_t X_c``;
  heat and cooling units and stores likewise on their bus (:mod:`twin.energy.thermal_lp`,
  the same block as the fixed-size dispatch LP): ``q_ut <= dt_t X_c``; their electricity
  enters the balance, their gas ``s gas_price Σ q/η`` the objective and ``gas_ef`` the CO2
  target; the deferrable production, when given, as shiftable load
  (:mod:`twin.energy.flex_lp`);
* targets (annual quantities; ``s = 8760 / run hours``)::

      s Σ_t (share (imp_t + gen_t - cur_t - exp_t) - (ren_t - cur_t - exp_t)) - GEC <= 0
      s Σ_t ef_t imp_t + scope1 - 1000 OFF [- ef_market GEC] <= cap_kg

  with green certificates ``GEC`` [kWh/yr] (``GEC <= s Σ imp``) and offsets ``OFF`` [t/yr]
  bought at their prices. The dual of each target row is its shadow price: what one more kWh
  of renewable electricity required, or one tonne less allowed, adds to the yearly cost.

Objective [currency/yr]::

    Σ_c (CRF(r, L_c) capex_c + om_c) N_c  +  s (energy cost - export revenue + demand charge)
      + price_GEC GEC + price_OFF OFF

``CRF(r, L) = r (1+r)^L / ((1+r)^L - 1)`` (:func:`twin.economics.capital_recovery_factor`): the
equivalent annual cost of a capacity replaced like for like every ``L`` years (HOMER's
annualised capital cost, REopt's levelised capital cost). The run's operating cost is scaled to a
year by ``s``; the demand charge of a part month is prorated as the twin's KPIs do, so the
scaled sum is the mean monthly charge x 12. A run shorter than a year thus stands for the year
by the season it covers: run a whole year for sizes that see every season.

References
----------
.. [1] T. Lambert, P. Gilman, P. Lilienthal, "Micropower system modeling with HOMER", in
   Integration of Alternative Sources of Energy, Wiley 2006, ch. 15 (annualised cost).
.. [2] REopt.jl, ``src/core/reopt.jl`` (capacity and dispatch in one model),
   ``src/core/financial.jl`` (levelisation), https://github.com/NREL/REopt.jl
.. [3] T. Brown, J. Hörsch, D. Schlachtberger, "PyPSA: Python for Power System Analysis",
   J. Open Res. Softw. 6 (2018) 4 (``p_nom_extendable``, ``cyclic_state_of_charge``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from twin.economics import capital_recovery_factor
from twin.energy.optimal import (
    BatteryParams,
    LpProblem,
    StoreColumns,
    _per_interval,
    add_dispatch,
    dispatch_cost,
    month_terms,
)

HOURS_PER_YEAR = 8760.0

SOLVER = "highs-ipm"
"""HiGHS's interior point (with crossover to a vertex, so duals are exact): on a year of hourly
PV and battery sizing it took about 0.6 of the CPU time of the dual simplex
(benchmarks/README.md). Where it fails numerically the LP is solved again by HiGHS's choice."""

SOLVER_THERMAL = "highs-ds"
"""HiGHS's dual simplex for problems with a heat or cooling bus: on four weeks of the cell
factory at 15 min (heat pump, hot-water store and battery candidates, a CO2 cap) it took 1.8 s
of CPU against 5.4 s by the interior point (simulations/demo_heat_sizing.yaml)."""

METHODS = ("auto", "decomposed", "monolithic")
"""How :func:`solve_sizing` solves the LP (its ``method`` argument)."""

KINDS = ("generation", "battery_energy", "battery_power", "import_limit", "thermal_unit",
         "thermal_store_energy", "thermal_store_power")
THERMAL_KINDS = ("thermal_unit", "thermal_store_energy", "thermal_store_power")
"""Candidates on a heat or cooling bus (:mod:`twin.energy.thermal_lp`): a unit's capacity
(heat pump, boiler, CHP, chiller) [kW thermal], a store's energy [kWh] or power [kW]."""


class SizingInfeasibleError(ValueError):
    """No sizes within the bounds meet the demand and the targets (the message names the target
    or limit, the best value reachable, and the candidates at their upper bound)."""


def annualised_cost_per_unit(capex_per_unit: float, discount_rate: float, lifetime_years: int,
                             om_pct_of_capex: float = 0.0, om_per_unit_year: float = 0.0
                             ) -> tuple[float, float]:
    """Capital annuity and fixed O&M of one unit of capacity per year [currency/unit/yr].

    ``annuity = capex x CRF(r, L)``; ``om = capex x om_pct / 100 + om_per_unit_year``.
    """
    crf = capital_recovery_factor(discount_rate, lifetime_years)
    return capex_per_unit * crf, capex_per_unit * om_pct_of_capex / 100.0 + om_per_unit_year


@dataclass(frozen=True)
class SizingCandidate:
    """One capacity the LP chooses, in the unit of its plant field (kW, kWp or kWh)."""

    name: str
    """Its label in the outputs (the study's override path)."""
    kind: str
    """One of :data:`KINDS`."""
    lo: float
    hi: float
    annuity_per_unit: float
    """Capital annuity of new capacity [currency/unit/yr]."""
    om_per_unit: float
    """Fixed O&M of new capacity [currency/unit/yr]."""
    capex_per_unit: float = 0.0
    existing: float = 0.0
    """Sunk capacity, free to keep [unit]."""
    item: int | None = None
    """Battery index for battery kinds; unit or store index on its bus for thermal kinds."""
    bus: str | None = None
    """Name of the thermal bus (``ThermalBus.name``) for thermal kinds."""
    profile: np.ndarray | None = field(default=None, repr=False)
    """Generation per interval per unit of capacity [kWh/kW] for the generation kind."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"candidate {self.name}: kind {self.kind!r}: expected one of "
                             f"{', '.join(KINDS)}")
        if not 0 <= self.lo <= self.hi or not math.isfinite(self.hi):
            raise ValueError(f"candidate {self.name}: bounds [{self.lo!r}, {self.hi!r}]: "
                             f"expected 0 <= min <= max < inf")
        if self.kind == "generation" and self.profile is None:
            raise ValueError(f"candidate {self.name}: a generation candidate needs its profile")
        if self.kind.startswith("battery") and self.item is None:
            raise ValueError(f"candidate {self.name}: a battery candidate needs its battery index")
        if self.kind in THERMAL_KINDS and (self.item is None or self.bus is None):
            raise ValueError(f"candidate {self.name}: a thermal candidate needs its bus and index")

    @property
    def annual_cost_per_unit(self) -> float:
        """Annuity + O&M of one unit of new capacity [currency/unit/yr]."""
        return self.annuity_per_unit + self.om_per_unit


@dataclass(frozen=True)
class SizingTargets:
    """Targets and the purchases that may meet them (``None`` = no target / not for sale)."""

    min_renewable_share: float | None = None
    max_scope12_t_per_year: float | None = None
    co2_basis: str = "location"
    certificate_price_per_kwh: float | None = None
    offset_price_per_t: float | None = None


@dataclass
class SizingData:
    """The run the sizes are chosen for: arrays per settlement interval.

    ``generation_kwh`` is the onsite generation that no candidate scales (of it,
    ``renewable_kwh`` is PV and wind: CHP electricity is not renewable)."""

    load_kwh: np.ndarray
    dt_h: np.ndarray
    price: np.ndarray
    generation_kwh: np.ndarray
    renewable_kwh: np.ndarray
    batteries: list[BatteryParams]
    feed_in_price: np.ndarray | float = 0.0
    grid_ef: np.ndarray | float = 0.0
    """Location-based grid intensity [kgCO2/kWh]."""
    grid_ef_market: np.ndarray | float | None = None
    """Market-based scope 2 factor of grid electricity [kgCO2/kWh]; default the location one."""
    scope1_kg: float = 0.0
    """Scope 1 emissions of the run, not changed by the candidates [kgCO2]."""
    import_limit_kw: float = math.inf
    export_limit_kw: float = 0.0
    month: np.ndarray | None = None
    demand_rate: np.ndarray | None = None
    thermal: list = field(default_factory=list)
    """Heat and cooling buses the LP dispatches (:class:`twin.energy.thermal_lp.ThermalBus`);
    their units' electricity must then be left out of ``load_kwh``, a CHP's out of
    ``generation_kwh``, their gas out of ``scope1_kg``. Empty: heat is outside the LP."""
    gas_price_per_kwh: float = 0.0
    """Gas for the thermal units [currency/kWh LHV]."""
    gas_ef: float = 0.0
    """Scope 1 factor of that gas [kgCO2/kWh LHV]."""
    heat_price_per_kwh: float = 0.0
    """Heat bought across the fence [currency/kWh]."""
    other_fuel_cost: float = 0.0
    """Fuel bills of the run that no candidate changes (the process's own gas) [currency over
    the run]: a constant in the operating cost, so that it compares with a run's gas bill."""
    flexible: Any = None
    """Deferrable production as shiftable load (:class:`twin.energy.flex_lp.FlexEnvelope`);
    its recorded energy must then be left out of ``load_kwh``. None: the load as recorded."""

    @property
    def hours(self) -> float:
        return float(np.sum(self.dt_h))


@dataclass
class SizingSolution:
    """The optimum of :func:`solve_sizing`. Costs per year [currency/yr]."""

    sizes: dict[str, float]
    new_capacity: dict[str, float]
    capex: float
    """Investment in new capacity [currency]."""
    capex_annuity: float
    om: float
    energy_cost: float
    demand_cost: float
    export_revenue: float
    certificates_kwh: float
    certificates_cost: float
    offsets_t: float
    offsets_cost: float
    renewable_share: float
    scope12_t: float
    """Scope 1 + 2 on the target's basis, before offsets [tCO2/yr]."""
    targets: dict[str, dict]
    year_scale: float
    grid_import_kwh: np.ndarray = field(repr=False)
    grid_export_kwh: np.ndarray = field(repr=False)
    battery_discharge_kwh: list[float] = field(default_factory=list)
    """Energy each battery delivers per year [kWh/yr] (its throughput, for cycles and fade)."""
    build_s: float = 0.0
    solve_s: float = 0.0
    fuel_cost: float = 0.0
    """Gas and heat bought, with the thermal buses in the LP [currency/yr]."""
    gas_kwh: float = 0.0
    """Gas the thermal units burn [kWh LHV/yr]."""
    thermal_kwh: dict[str, float] = field(default_factory=dict)
    """Heat (cooling) each unit delivers per year, by ``'bus/unit'`` [kWh/yr]."""
    thermal_electricity_kwh: float = 0.0
    """Electricity of the thermal units per year, CHP output subtracted [kWh/yr]."""
    method: str = "monolithic"
    """How the LP was solved: ``'decomposed'`` (cutting planes over the capacities,
    :mod:`twin.energy.benders`) or ``'monolithic'`` (one HiGHS solve of the whole LP)."""
    iterations: int = 0
    """Subproblems the decomposition solved (0 when monolithic)."""

    @property
    def operation(self) -> float:
        """Energy + demand - export + fuel + certificates + offsets [currency/yr]."""
        return (self.energy_cost + self.demand_cost - self.export_revenue + self.fuel_cost
                + self.certificates_cost + self.offsets_cost)

    @property
    def total(self) -> float:
        """capex annuity + O&M + operation [currency/yr]."""
        return self.capex_annuity + self.om + self.operation

    def annualised_cost(self) -> dict[str, float]:
        """``total``, ``capex_annuity``, ``om``, ``operation`` and its parts [currency/yr]."""
        return {"total": self.total, "capex_annuity": self.capex_annuity, "om": self.om,
                "operation": self.operation, "energy_cost": self.energy_cost,
                "demand_cost": self.demand_cost, "export_revenue": self.export_revenue,
                "fuel_cost": self.fuel_cost, "certificates_cost": self.certificates_cost,
                "offsets_cost": self.offsets_cost}


def solve_sizing(data: SizingData, candidates: Sequence[SizingCandidate], *,
                 targets: SizingTargets | None = None, cyclic_storage: bool = True,
                 method: str = "auto") -> SizingSolution:
    """Least-cost capacities and dispatch (module doc).

    ``method``: ``'monolithic'`` solves the whole LP at once (HiGHS's interior point, or its
    dual simplex with a thermal bus); ``'decomposed'`` by cutting planes over the capacity
    columns (:mod:`twin.energy.benders`: the fixed-size dispatch re-solved from its last basis,
    the cost within :data:`twin.energy.benders.REL_GAP` of the optimum), falling back to the
    monolithic solve where a subproblem is infeasible; ``'auto'`` (default) decomposes when
    there are no targets (their shadow prices and infeasibility reports come from the whole
    LP), else solves it whole. Both give the same least cost within the gap; where the optimum
    is flat (several sizes at one cost) they may pick different sizes among the optimal ones.

    Raises
    ------
    SizingInfeasibleError
        When no sizes within the bounds meet the demand within the grid limit and the targets:
        says which, the best value the bounds allow and the candidates at their upper bound.
    ValueError
        On inputs of the wrong shape or value, or two candidates for one capacity.
    """
    t0 = time.perf_counter()
    tg = targets or SizingTargets()
    load = np.asarray(data.load_kwh, dtype=float)
    n = load.size
    if load.ndim != 1 or n == 0:
        raise ValueError("load_kwh: expected a 1-d array of at least one interval")
    load = _per_interval(load, n, "load_kwh", nonneg=True)
    dt = _per_interval(data.dt_h, n, "dt_h")
    price = _per_interval(data.price, n, "price")
    feed = _per_interval(data.feed_in_price, n, "feed_in_price")
    gen = _per_interval(data.generation_kwh, n, "generation_kwh", nonneg=True)
    ren = _per_interval(data.renewable_kwh, n, "renewable_kwh", nonneg=True)
    ef = _per_interval(data.grid_ef, n, "grid_ef", nonneg=True)
    ef_m = ef if data.grid_ef_market is None else _per_interval(data.grid_ef_market, n,
                                                                  "grid_ef_market", nonneg=True)
    m, rate = month_terms(data.month, data.demand_rate, n)
    use_peak = data.demand_rate is not None and bool((rate > 0).any())
    scale = HOURS_PER_YEAR / float(dt.sum())
    cands = list(candidates)
    keys = [(c.kind, c.item) for c in cands if c.kind != "generation"]
    if len(set(keys)) != len(keys):
        raise ValueError("two candidates size the same capacity")
    for c in cands:
        if c.profile is not None:
            _per_interval(c.profile, n, f"profile of {c.name}", nonneg=True)

    lp = LpProblem()
    # capacity columns: X = K + N, K in [0, existing] free, N >= 0 at its annual cost
    x_col: list[int] = []
    n_col: list[int] = []
    for c in cands:
        x = lp.add_vars(1, c.lo, c.hi)
        k = lp.add_vars(1, 0.0, min(c.existing, c.hi))
        new = lp.add_vars(1, 0.0, max(c.hi - c.existing, 0.0), c.annual_cost_per_unit)
        lp.add_rows("eq", 1, [[0, 0, 0]], [[x, k, new]], [[1.0, -1.0, -1.0]], 0.0)
        x_col.append(x)
        n_col.append(new)
    stores = []
    for b, bp in enumerate(data.batteries):
        e = next((x_col[j] for j, c in enumerate(cands)
                  if c.kind == "battery_energy" and c.item == b), None)
        p = next((x_col[j] for j, c in enumerate(cands)
                  if c.kind == "battery_power" and c.item == b), None)
        stores.append(StoreColumns(bp, e, p))
    gen_cols = [(x_col[j], np.asarray(c.profile, dtype=float)) for j, c in enumerate(cands)
                if c.kind == "generation"]
    imp_col = next((x_col[j] for j, c in enumerate(cands) if c.kind == "import_limit"), None)
    buses = _add_buses(lp, data, cands, x_col, dt, cyclic_storage, scale)
    el_terms = [tm for _, tc in buses for tm in tc.electricity]
    flex_terms = []
    if data.flexible is not None:
        from twin.energy.flex_lp import add_flexible_load

        if data.flexible.due_kwh.shape != (n,):
            raise ValueError(f"flexible: expected an envelope of {n} intervals")
        flex_terms = [add_flexible_load(lp, data.flexible)]
    cols = add_dispatch(lp, load, gen, dt, stores, price=price, feed=feed,
                        import_limit_kw=data.import_limit_kw,
                        export_limit_kw=data.export_limit_kw, month=m, rate=rate,
                        use_peak=use_peak, cyclic=cyclic_storage, scale=scale,
                        generation_cols=gen_cols, import_col=imp_col,
                        balance_terms=el_terms + flex_terms)
    t = np.arange(n)
    i_gec = i_off = None
    if tg.certificate_price_per_kwh is not None:
        i_gec = lp.add_vars(1, 0.0, math.inf, tg.certificate_price_per_kwh)
        # GEC <= s Σ imp: certificates cover grid electricity only
        lp.add_rows("ub", 1, [np.zeros(n + 1, dtype=np.int64)],
                    [np.concatenate([cols.imp + t, [i_gec]])],
                    [np.concatenate([-scale * np.ones(n), [1.0]])], 0.0)
    if tg.offset_price_per_t is not None and tg.max_scope12_t_per_year is not None:
        i_off = lp.add_vars(1, 0.0, math.inf, tg.offset_price_per_t)
    slack: dict[str, int] = {}
    if tg.min_renewable_share is not None:
        sh = tg.min_renewable_share
        r_cols = [cols.imp + t, cols.cur + t, cols.exp + t]
        r_vals = [np.full(n, sh), np.full(n, 1.0 - sh), np.full(n, 1.0 - sh)]
        for col, prof in gen_cols:
            r_cols.append([col])
            r_vals.append([(sh - 1.0) * float(prof.sum())])
        for col, coef in el_terms:  # CHP electricity: consumed, not renewable
            if (coef > 0).any():
                r_cols.append(col + t)
                r_vals.append(sh * coef)
        if i_gec is not None:
            r_cols.append([i_gec])
            r_vals.append([-1.0 / scale])
        slack["min_renewable_share"] = lp.add_vars(1, 0.0, 0.0)
        r_cols.append([slack["min_renewable_share"]])
        r_vals.append([-1.0 / scale])
        cc = np.concatenate([np.atleast_1d(np.asarray(c_)) for c_ in r_cols])
        vv = scale * np.concatenate([np.atleast_1d(np.asarray(v_, dtype=float))
                                     for v_ in r_vals])
        rhs = scale * (float(ren.sum()) - sh * float(gen.sum()))
        lp.add_rows("ub", 1, [np.zeros(cc.size, dtype=np.int64)], [cc], [vv], rhs,
                    name="min_renewable_share")
    if tg.max_scope12_t_per_year is not None:
        f = ef_m if tg.co2_basis == "market" else ef
        r_cols = [cols.imp + t]
        r_vals = [scale * f]
        if i_gec is not None and tg.co2_basis == "market":
            r_cols.append([i_gec])
            r_vals.append([-_mean_factor(f, load)])
        if data.gas_ef > 0:  # scope 1 of the thermal units' gas
            for _, tc in buses:
                for col, per in tc.gas:
                    r_cols.append(col + t)
                    r_vals.append(scale * data.gas_ef * per)
        if i_off is not None:
            r_cols.append([i_off])
            r_vals.append([-1000.0])
        slack["max_scope12_t_per_year"] = lp.add_vars(1, 0.0, 0.0)
        r_cols.append([slack["max_scope12_t_per_year"]])
        r_vals.append([-1000.0])
        cc = np.concatenate([np.atleast_1d(np.asarray(c_)) for c_ in r_cols])
        vv = np.concatenate([np.atleast_1d(np.asarray(v_, dtype=float)) for v_ in r_vals])
        rhs = 1000.0 * tg.max_scope12_t_per_year - scale * data.scope1_kg
        lp.add_rows("ub", 1, [np.zeros(cc.size, dtype=np.int64)], [cc], [vv], rhs,
                    name="max_scope12_t_per_year")
    build_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    if method not in METHODS:
        raise ValueError(f"method={method!r}: expected one of {', '.join(METHODS)}")
    res: Any = None
    iterations = 0
    if method == "decomposed" or (method == "auto" and not slack):
        from twin.energy.benders import solve_by_capacity_cuts

        res = solve_by_capacity_cuts(lp, x_col, np.array([c.lo for c in cands]),
                                     np.array([c.hi for c in cands]),
                                     keep=np.array([c.existing for c in cands]))
        iterations = res.iterations if res is not None else 0
    how = "decomposed" if res is not None else "monolithic"
    if res is None:  # asked for, a subproblem infeasible, or the cuts did not close the gap
        res = lp.solve(method=SOLVER_THERMAL if buses else SOLVER)
        if res.status not in (0, 2):  # the interior point failed numerically: simplex
            res = lp.solve()
    solve_s = time.perf_counter() - t1
    if res.status == 2:
        raise SizingInfeasibleError(_explain_infeasible(lp, slack, cands, x_col, data, tg))
    if res.status != 0:
        raise RuntimeError(f"the sizing LP was not solved (status {res.status}): {res.message}")
    x = res.x
    imp = np.maximum(x[cols.imp:cols.imp + n], 0.0)
    exp = np.maximum(x[cols.exp:cols.exp + n], 0.0)
    cur = np.maximum(x[cols.cur:cols.cur + n], 0.0)
    sizes = {c.name: float(x[x_col[j]]) for j, c in enumerate(cands)}
    new = {c.name: float(x[n_col[j]]) for j, c in enumerate(cands)}
    parts = dispatch_cost(imp, exp, dt, price, feed, ef, m,
                          rate if data.demand_rate is not None else None)
    gen_all = gen + sum((prof * x[col] for col, prof in gen_cols), np.zeros(n))
    ren_all = ren + (gen_all - gen)
    th = _thermal_results(x, buses, n, scale, data)
    gen_all = gen_all + th["chp_kwh"]
    used = float((gen_all - cur - exp).sum())
    ren_used = float((ren_all - cur - exp).sum())
    gec = float(x[i_gec]) if i_gec is not None else 0.0
    off = float(x[i_off]) if i_off is not None else 0.0
    consumed = scale * (float(imp.sum()) + used)
    share = (scale * ren_used + gec) / consumed if consumed > 0 else 0.0
    f = ef_m if tg.co2_basis == "market" else ef
    scope12 = (scale * (float(np.dot(f, imp)) + data.scope1_kg) + data.gas_ef * th["gas_kwh"]
               - (gec * _mean_factor(f, load) if tg.co2_basis == "market" else 0.0)) / 1000.0
    marg = getattr(getattr(res, "ineqlin", None), "marginals", None)
    out_targets: dict[str, dict] = {}
    for name in ("min_renewable_share", "max_scope12_t_per_year"):
        if name not in lp.named_rows:
            continue
        _, row, _ = lp.named_rows[name]
        dual = -float(marg[row]) if marg is not None else float("nan")
        if name == "min_renewable_share":
            out_targets[name] = {
                "limit": tg.min_renewable_share, "value": share,
                "shadow_price": dual, "shadow_price_unit": "currency per kWh/yr of renewable "
                "electricity required",
                "binding": bool(share <= tg.min_renewable_share + 1e-6 and dual > 1e-9)}
        else:
            out_targets[name] = {
                "limit": tg.max_scope12_t_per_year, "value": scope12 - off,
                "basis": tg.co2_basis, "offsets_t": off,
                "shadow_price": 1000.0 * dual, "shadow_price_unit": "currency per tCO2/yr",
                "binding": bool(scope12 - off >= tg.max_scope12_t_per_year - 1e-6
                                and dual > 1e-12)}
    return SizingSolution(
        sizes=sizes, new_capacity=new,
        capex=sum(c.capex_per_unit * new[c.name] for c in cands),
        capex_annuity=sum(c.annuity_per_unit * new[c.name] for c in cands),
        om=sum(c.om_per_unit * new[c.name] for c in cands),
        energy_cost=scale * parts.energy_cost, demand_cost=scale * parts.demand_cost,
        export_revenue=scale * parts.export_revenue, certificates_kwh=gec,
        certificates_cost=gec * (tg.certificate_price_per_kwh or 0.0), offsets_t=off,
        offsets_cost=off * (tg.offset_price_per_t or 0.0), renewable_share=share,
        scope12_t=scope12, targets=out_targets, year_scale=scale, grid_import_kwh=imp,
        grid_export_kwh=exp, build_s=build_s, solve_s=solve_s, method=how,
        iterations=iterations,
        battery_discharge_kwh=[scale * float(np.dot(x[i:i + n], dt)) for i in cols.dis],
        fuel_cost=th["fuel_cost"], gas_kwh=th["gas_kwh"], thermal_kwh=th["units"],
        thermal_electricity_kwh=th["electricity_kwh"])


def _add_buses(lp: LpProblem, data: SizingData, cands: list[SizingCandidate],
               x_col: list[int], dt: np.ndarray, cyclic: bool, scale: float) -> list:
    """The thermal buses of ``data`` with their candidates' capacity columns."""
    if not data.thermal:
        for c in cands:
            if c.kind in THERMAL_KINDS:
                raise ValueError(f"candidate {c.name}: no thermal bus {c.bus!r} in the data")
        return []
    from twin.energy.thermal_lp import add_thermal_bus

    names = [b.name for b in data.thermal]
    for c in cands:
        if c.kind in THERMAL_KINDS and c.bus not in names:
            raise ValueError(f"candidate {c.name}: no thermal bus {c.bus!r}; expected one of "
                             f"{', '.join(names)}")
    out = []
    for bus in data.thermal:
        mine = [(j, c) for j, c in enumerate(cands) if c.bus == bus.name]
        units = {c.item: x_col[j] for j, c in mine if c.kind == "thermal_unit"}
        stores = []
        for s, bp in enumerate(bus.stores):
            e = next((x_col[j] for j, c in mine
                      if c.kind == "thermal_store_energy" and c.item == s), None)
            p = next((x_col[j] for j, c in mine
                      if c.kind == "thermal_store_power" and c.item == s), None)
            stores.append(StoreColumns(bp, e, p))
        out.append((bus, add_thermal_bus(
            lp, bus, dt, cyclic=cyclic, scale=scale, gas_price=data.gas_price_per_kwh,
            heat_price=data.heat_price_per_kwh, unit_cols=units, store_cols=stores)))
    return out


def _thermal_results(x: np.ndarray, buses: list, n: int, scale: float, data: SizingData
                     ) -> dict:
    """Yearly gas, fuel cost, unit outputs and electricity of the thermal buses, and the CHP
    electricity per interval [kWh]."""
    chp = np.zeros(n)
    gas = el = bought = 0.0
    units: dict[str, float] = {}
    for bus, tc in buses:
        for u, i in zip(bus.units, tc.q, strict=True):
            units[f"{bus.name}/{u.name}"] = scale * float(np.maximum(x[i:i + n], 0.0).sum())
        for col, coef in tc.electricity:
            v = coef * np.maximum(x[col:col + n], 0.0)
            el -= float(v.sum())
            if (coef > 0).any():
                chp += v
        for col, per in tc.gas:
            gas += float(np.dot(per, np.maximum(x[col:col + n], 0.0)))
        for i in tc.bought:
            bought += float(np.maximum(x[i:i + n], 0.0).sum())
    fuel = (data.gas_price_per_kwh * gas + data.heat_price_per_kwh * bought
            + (data.other_fuel_cost if buses else 0.0))
    return {"chp_kwh": chp, "gas_kwh": scale * gas, "fuel_cost": scale * fuel, "units": units,
            "electricity_kwh": scale * el}


def _mean_factor(f: np.ndarray, weights: np.ndarray) -> float:
    """Demand-weighted mean emission factor [kg/kWh]: what one certificate kWh avoids."""
    w = float(weights.sum())
    return float(np.dot(f, weights) / w) if w > 0 else float(np.mean(f))


def _explain_infeasible(lp: LpProblem, slack: dict[str, int], cands: list[SizingCandidate],
                        x_col: list[int], data: SizingData, tg: SizingTargets) -> str:
    """Why no sizes are feasible: re-solve with the targets' shortfall allowed and minimised."""
    at_max = ", ".join(f"{c.name} (max {c.hi:g})" for c in cands)
    what = "demand" if not data.thermal else "electricity, heat and cooling demand"
    if not slack:
        return (f"no sizes within the bounds meet the {what} within the grid import limit of "
                f"{data.import_limit_kw:g} kW" + (" and the thermal units' capacities"
                                                   if data.thermal else "")
                + f", even with every candidate at its upper bound: {at_max}")
    cost, _, ub = lp.vectors()
    ub = ub.copy()
    phase1 = 1e-9 * cost
    for col in slack.values():
        ub[col] = math.inf
        phase1[col] = 1.0
    saved = lp._ub
    lp._ub = ub
    try:
        res = lp.solve(phase1, method=SOLVER)
        if res.status not in (0, 2):
            res = lp.solve(phase1)
    finally:
        lp._ub = saved
    if res.status != 0:
        return (f"no sizes within the bounds meet the demand within the grid import limit of "
                f"{data.import_limit_kw:g} kW, even without the targets: {at_max}")
    x = res.x
    full = [f"{c.name} (max {c.hi:g})" for j, c in enumerate(cands)
            if x[x_col[j]] >= c.hi - 1e-6 * max(1.0, c.hi)]
    bound = ("at their upper bound: " + ", ".join(full)) if full else \
        "no candidate is at its upper bound (the grid limits or storage rules bind)"
    msgs = []
    if "min_renewable_share" in slack and x[slack["min_renewable_share"]] > 1e-6:
        short = float(x[slack["min_renewable_share"]])
        msgs.append(f"target min_renewable_share = {tg.min_renewable_share:g} cannot be met "
                    f"within the bounds (short by {short:,.0f} kWh/yr of renewable "
                    f"electricity)")
    if "max_scope12_t_per_year" in slack and x[slack["max_scope12_t_per_year"]] > 1e-6:
        over = float(x[slack["max_scope12_t_per_year"]])
        msgs.append(f"target max_scope12_t_per_year = {tg.max_scope12_t_per_year:g} tCO2/yr "
                    f"cannot be met within the bounds (at least {over:,.1f} t/yr over)")
    if not msgs:
        msgs.append("the targets cannot be met together within the bounds")
    return "; ".join(msgs) + "; " + bound


__all__ = ["HOURS_PER_YEAR", "THERMAL_KINDS", "SizingCandidate", "SizingData",
           "SizingInfeasibleError", "SizingSolution", "SizingTargets",
           "annualised_cost_per_unit", "solve_sizing"]
