"""Optimal battery dispatch by linear programming (perfect foresight over given arrays).

Pure functions over arrays per settlement interval: given the site's electric demand, its onsite
generation, energy prices, the grid limits and the batteries, :func:`optimal_dispatch` finds the
battery charge and discharge of every interval that minimise

* ``"cost"``: energy cost of grid import - export revenue + monthly demand charges [CNY];
* ``"emissions"``: grid import x grid carbon intensity [kgCO2] (location-based scope 2);
* ``"weighted"``: cost + ``carbon_price_per_kg`` x emissions [CNY].

It is the same model the twin simulates (:mod:`twin.energy.storage`, :mod:`twin.energy.ems`), so
the optimum is a bound every dispatch policy on the same demand can be scored against. The
formulation follows PyPSA's ``StorageUnit`` and REopt's ``ElectricStorage`` (see references).

Decision variables, per interval ``t`` (length ``dt_t`` [h]) and battery ``b``:

* ``imp_t, exp_t, cur_t`` >= 0: grid import, grid export, curtailed onsite generation [kWh];
* ``ch_bt, dis_bt`` in ``[0, P_b]``: average AC charge and discharge power [kW];
* ``E_bt`` in ``[soc_min·C_b, soc_max·C_b]``: stored energy at the end of the interval [kWh];
* ``peak_m`` >= ``peak_floor_m``: highest average import of month group ``m`` [kW].

Constraints::

    imp_t - exp_t - cur_t + Σ_b dt_t (dis_bt - ch_bt) = load_t - gen_t          (balance)
    E_bt = (1 - σ_b)^dt_t E_b,t-1 + η_c,b dt_t ch_bt - dt_t dis_bt / η_d,b      (storage)
    imp_t / dt_t <= peak_m(t)                                                   (demand peak)
    imp_t <= P_import dt_t,  exp_t <= P_export dt_t,  cur_t <= gen_t            (limits)

``E_b,-1`` is the initial content, or with ``cyclic_storage=True`` the last level ``E_b,n-1``
(the store ends where it starts, the level chosen by the LP, as PyPSA's
``cyclic_state_of_charge``). These rules are written once, by :func:`add_dispatch` on an
:class:`LpProblem` (the storage rules by :func:`add_store_rows`, shared with thermal stores);
capacity sizing (:mod:`twin.energy.sizing`) calls the same function with capacities as
columns. Heat and cooling buses (:mod:`twin.energy.thermal_lp`) and deferrable production as
shiftable load (:mod:`twin.energy.flex_lp`) add their electricity to the balance through
``balance_terms``.

Objective (cost)::

    Σ_t price_t imp_t - feed_in_t exp_t  +  Σ_m rate_m peak_m

Capacity (transformer) charges are fixed and do not enter; gas for heat does not depend on the
battery and does not enter either, unless the LP dispatches the heat plant (``thermal``:
then ``gas_price`` x gas and ``heat_price`` x heat bought enter). With
``objective="emissions"`` the objective is ``Σ_t ef_t imp_t`` (+ ``gas_ef`` x gas of the heat
plant) plus a tie-break of 1e-6 x cost (the cheapest of the lowest-emission dispatches).

Approximations (all make the LP a *relaxation* of what the simulated EMS can do, so its optimum
stays a lower bound on every simulated dispatch):

* capacity fade is ignored (the LP sees the capacity the battery has at the start);
* a battery may charge and discharge in the same interval, and the grid may import and export in
  the same interval. With efficiencies below 1 and feed-in prices not above import prices neither
  is ever worth it, and the LP's dispatch is one the EMS can carry out; where the feed-in price
  exceeds the import price the LP may do both (``OptimalDispatch.simultaneous_intervals`` counts
  them) and its optimum is then a bound that no meter can reach;
* the EMS never lets self-discharge take a battery below its lower limit (the battery management
  system holds that reserve, see :mod:`twin.energy.storage`); the LP keeps ``E >= E_min`` by
  recharging, unless ``BatteryParams.floor_hold`` allows it the most the EMS can be spared
  (then it is a relaxation, as the bound on a run needs). This matters only for a battery at its
  floor with self-discharge > 0.

References
----------
.. [1] PyPSA, "Storage units", constraint ``StorageUnit-energy_balance``, https://docs.pypsa.org
.. [2] REopt.jl, ``ElectricStorage`` and the tariff's monthly demand charges
   (``dvPeakDemandMonth``), src/constraints/storage_constraints.jl,
   src/constraints/electric_utility_constraints.jl.
.. [3] HiGHS through ``scipy.optimize.linprog(method="highs")``: Q. Huangfu and J. A. J. Hall,
   "Parallelizing the dual revised simplex method", Math. Prog. Comp. 10 (2018) 119-142.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

OBJECTIVES = ("cost", "emissions", "weighted")
"""What :func:`optimal_dispatch` can minimise."""

EMISSIONS_TIE_BREAK = 1e-6
"""Weight of cost [kg/CNY] added to the emissions objective to pick the cheapest optimum."""


class InfeasibleDispatchError(ValueError):
    """No dispatch meets the demand within the grid import limit and the batteries' limits."""


@dataclass(frozen=True)
class BatteryParams:
    """One battery as the LP sees it (the parameters of :class:`twin.energy.storage.Battery`).

    Power is on the AC (bus) side; efficiencies are one-way; ``E`` is stored energy.
    """

    energy_kwh: float
    """Usable capacity ``C`` [kWh]; the level limits are fractions of it."""
    power_kw: float
    """Charge and discharge power limit, AC side [kW]."""
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    soc_min_frac: float = 0.0
    soc_max_frac: float = 1.0
    initial_soc_kwh: float | None = None
    """Stored energy at the start [kWh]; default half the capacity (REopt's default)."""
    self_discharge_per_h: float = 0.0
    """Standing loss as a share of the content per hour ``σ`` [1/h]."""
    final_soc_min_kwh: float | None = None
    """Least stored energy at the end of the last interval [kWh]; None = free."""
    floor_hold: bool = False
    """Relax the storage balance as the twin's battery management holds the lower limit against
    self-discharge: up to ``(1 - (1 - σ)^dt) · E_min`` per interval may be added for free (what
    the simulated battery is spared at most when it sits at its floor). Use it where the LP must
    be a bound on simulated dispatches; it has no effect without self-discharge or lower limit."""

    def __post_init__(self) -> None:
        def bad(name: str, value: float, expected: str) -> None:
            raise ValueError(f"battery {name}={value!r}: expected {expected}")

        if not self.energy_kwh > 0 or not math.isfinite(self.energy_kwh):
            bad("energy_kwh", self.energy_kwh, "a finite value > 0 [kWh]")
        if not self.power_kw >= 0 or not math.isfinite(self.power_kw):
            bad("power_kw", self.power_kw, "a finite value >= 0 [kW]")
        for name in ("charge_efficiency", "discharge_efficiency"):
            v = getattr(self, name)
            if not 0 < v <= 1:
                bad(name, v, "a value in (0, 1]")
        if not 0 <= self.soc_min_frac <= self.soc_max_frac <= 1:
            bad("soc_min_frac/soc_max_frac", (self.soc_min_frac, self.soc_max_frac),
                "0 <= soc_min_frac <= soc_max_frac <= 1")
        if not 0 <= self.self_discharge_per_h < 1:
            bad("self_discharge_per_h", self.self_discharge_per_h, "a value in [0, 1)")
        lo, hi = self.e_min, self.e_max
        if not lo - 1e-9 <= self.e_init <= hi + 1e-9:
            bad("initial_soc_kwh", self.initial_soc_kwh,
                f"a value within the level limits [{lo:g}, {hi:g}] kWh")
        if self.final_soc_min_kwh is not None and not self.final_soc_min_kwh <= hi:
            bad("final_soc_min_kwh", self.final_soc_min_kwh, f"at most the upper limit {hi:g} kWh")

    @property
    def e_min(self) -> float:
        """Lower level limit [kWh]."""
        return self.soc_min_frac * self.energy_kwh

    @property
    def e_max(self) -> float:
        """Upper level limit [kWh]."""
        return self.soc_max_frac * self.energy_kwh

    @property
    def e_init(self) -> float:
        """Stored energy at the start [kWh]."""
        return 0.5 * self.energy_kwh if self.initial_soc_kwh is None else self.initial_soc_kwh

    @classmethod
    def from_battery(cls, battery, soc_min_frac: float | None = None,
                     final_soc_min_kwh: float | None = None) -> BatteryParams:
        """The LP view of a :class:`twin.energy.storage.Battery` *now*: its present capacity and
        content; ``soc_min_frac`` raises the lower limit (an EMS reserve)."""
        lo = battery.soc_min_frac if soc_min_frac is None else max(soc_min_frac,
                                                                    battery.soc_min_frac)
        lo = min(lo, battery.soc_max_frac)
        cap = battery.capacity_kwh
        e0 = min(max(battery.soc_kwh, 0.0), battery.soc_max_frac * cap)
        # a reserve above the present content cannot hold at the start: it binds from there
        return cls(energy_kwh=cap, power_kw=battery.power_kw,
                   charge_efficiency=battery.charge_efficiency,
                   discharge_efficiency=battery.discharge_efficiency,
                   soc_min_frac=min(lo, e0 / cap) if cap > 0 else lo,
                   soc_max_frac=battery.soc_max_frac, initial_soc_kwh=e0,
                   self_discharge_per_h=battery.self_discharge_per_h,
                   final_soc_min_kwh=final_soc_min_kwh)


@dataclass
class CostParts:
    """Electricity cost of a dispatch, split as the twin's accounting splits it [CNY], and its
    grid emissions [kgCO2]."""

    energy_cost: float
    demand_cost: float
    export_revenue: float
    co2_kg: float
    peak_kw: np.ndarray = field(repr=False)
    """Highest average import per month group [kW]."""
    fuel_cost: float = 0.0
    """Gas and heat bought for the heat and cooling buses the LP dispatches [CNY] (0 when it
    dispatches none: then heat is outside the LP)."""
    scope1_kg: float = 0.0
    """Scope 1 of that gas [kgCO2]."""

    @property
    def cost(self) -> float:
        """energy + demand - export revenue + fuel [CNY]."""
        return self.energy_cost + self.demand_cost - self.export_revenue + self.fuel_cost

    def objective(self, objective: str, carbon_price_per_kg: float = 0.0) -> float:
        """The value of ``objective`` for these parts (CNY, or kg for emissions)."""
        if objective == "cost":
            return self.cost
        if objective == "emissions":
            return self.co2_kg + self.scope1_kg
        return self.cost + carbon_price_per_kg * (self.co2_kg + self.scope1_kg)


@dataclass
class OptimalDispatch:
    """Result of :func:`optimal_dispatch`. Energies per interval [kWh], AC side."""

    charge_kwh: np.ndarray
    """Energy into all batteries from the bus per interval [kWh]."""
    discharge_kwh: np.ndarray
    """Energy from all batteries to the bus per interval [kWh]."""
    battery_charge_kw: np.ndarray
    """Average charge power per battery and interval, shape (batteries, intervals) [kW]."""
    battery_discharge_kw: np.ndarray
    """Average discharge power per battery and interval [kW]."""
    soc_kwh: np.ndarray
    """Stored energy per battery at the end of each interval, shape (batteries, intervals)."""
    grid_import_kwh: np.ndarray
    grid_export_kwh: np.ndarray
    curtailed_kwh: np.ndarray
    parts: CostParts
    objective: str
    objective_value: float
    """The minimised value (CNY, or kg for emissions; without the emissions tie-break)."""
    simultaneous_intervals: int
    """Intervals in which the LP both imports and exports, or charges and discharges a battery
    (more than 1e-6 kWh each): a relaxation the EMS cannot carry out (see the module notes)."""
    build_s: float
    solve_s: float
    iterations: int
    thermal_kwh: dict[str, np.ndarray] = field(default_factory=dict)
    """Heat (cooling) each unit delivers per interval [kWh], by ``'bus/unit'``; and per store
    ``'bus/store<i>/charge'`` and ``.../discharge`` [kWh]. Empty without thermal buses."""
    thermal_electricity_kwh: np.ndarray | None = None
    """Electricity the thermal units use per interval, CHP output subtracted [kWh]."""
    gas_kwh: np.ndarray | None = None
    """Gas the thermal units burn per interval [kWh LHV]."""

    @property
    def battery_kw(self) -> np.ndarray:
        """Net battery power of all batteries per interval [kW]: positive discharges (the sign
        convention of :meth:`twin.energy.ems.DispatchPolicy.battery_kw`)."""
        return (self.battery_discharge_kw - self.battery_charge_kw).sum(axis=0)

    @property
    def cost(self) -> float:
        """energy + demand - export revenue of the optimal dispatch [CNY]."""
        return self.parts.cost


def _per_interval(value, n: int, name: str, *, nonneg: bool = False) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name}: expected a number or {n} values (one per interval), got shape "
                         f"{arr.shape}")
    if not np.isfinite(arr).all():
        k = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{name}[{k}] = {float(arr[k])!r}: expected a finite number")
    if nonneg and (arr < 0).any():
        k = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"{name}[{k}] = {float(arr[k])!r}: expected a value >= 0")
    return arr


def month_terms(month, demand_rate, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate the month group of each interval and the demand rate of each group."""
    if demand_rate is None:
        return np.zeros(n, dtype=np.int64), np.zeros(1)
    rate = np.atleast_1d(np.asarray(demand_rate, dtype=float))
    m = np.zeros(n, dtype=np.int64) if month is None else np.asarray(month)
    if m.shape != (n,) or not np.issubdtype(m.dtype, np.integer):
        raise ValueError(f"month: expected {n} integer group indices (one per interval)")
    if n and (m.min() < 0 or m.max() >= rate.size):
        raise ValueError(f"month: group indices must lie in [0, {rate.size - 1}] (one demand_rate "
                         f"per group), got {m.min()}..{m.max()}")
    if not np.isfinite(rate).all() or (rate < 0).any():
        raise ValueError(f"demand_rate: expected finite values >= 0 [CNY/kW], got {rate}")
    return m.astype(np.int64), rate


def dispatch_cost(grid_import_kwh, grid_export_kwh, dt_h, price, feed_in_price=0.0,
                  grid_ef=0.0, month=None, demand_rate=None) -> CostParts:
    """Electricity cost and emissions of a dispatch, as the twin accounts them.

    Parameters
    ----------
    grid_import_kwh, grid_export_kwh : array_like
        Grid import and export per interval [kWh].
    dt_h : float or array_like
        Interval lengths [h].
    price, feed_in_price : float or array_like
        Import energy price and feed-in price per interval [CNY/kWh].
    grid_ef : float or array_like
        Grid carbon intensity per interval [kgCO2/kWh].
    month : array_like of int, optional
        Month group of each interval (0, 1, ...); all one group when None.
    demand_rate : array_like, optional
        Demand charge per month group [CNY/kW], already prorated for part months as the twin's
        KPIs do (``rate x coverage``, :func:`twin.energy.tariff.demand_charge`).

    Returns
    -------
    CostParts
        ``energy = Σ price x import``, ``demand = Σ_m rate_m x max(0, max_t∈m import_t/dt_t)``,
        ``export = Σ feed_in x export``, ``co2 = Σ ef x import``.
    """
    imp = np.asarray(grid_import_kwh, dtype=float)
    n = imp.size
    exp = _per_interval(grid_export_kwh, n, "grid_export_kwh")
    dt = _per_interval(dt_h, n, "dt_h")
    m, rate = month_terms(month, demand_rate, n)
    peak = np.zeros(rate.size)
    np.maximum.at(peak, m, imp / dt)
    return CostParts(
        energy_cost=float(np.dot(_per_interval(price, n, "price"), imp)),
        demand_cost=float(np.dot(rate, peak)),
        export_revenue=float(np.dot(_per_interval(feed_in_price, n, "feed_in_price"), exp)),
        co2_kg=float(np.dot(_per_interval(grid_ef, n, "grid_ef"), imp)),
        peak_kw=peak,
    )


class LpProblem:
    """A linear programme being assembled: columns with bounds and costs, and sparse rows
    (``A_eq x = b_eq`` and ``A_ub x <= b_ub``), solved by HiGHS through
    :func:`scipy.optimize.linprog`. Named inequality row ranges keep their duals findable."""

    def __init__(self) -> None:
        self.n_var = 0
        self._lb: list[np.ndarray] = []
        self._ub: list[np.ndarray] = []
        self._cost: list[np.ndarray] = []
        self._parts: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {
            "eq": [], "ub": []}
        self._rhs: dict[str, list[np.ndarray]] = {"eq": [], "ub": []}
        self.n_rows = {"eq": 0, "ub": 0}
        self.named_rows: dict[str, tuple[str, int, int]] = {}
        """Name -> (kind, first row, row count) of row ranges added with a name."""

    def add_vars(self, count: int, lb=0.0, ub=math.inf, cost=0.0) -> int:
        """Add ``count`` columns with bounds and objective coefficients; return the first."""
        i = self.n_var
        self._lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (count,)).copy())
        self._ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (count,)).copy())
        self._cost.append(np.broadcast_to(np.asarray(cost, dtype=float), (count,)).copy())
        self.n_var += count
        return i

    def add_rows(self, kind: str, count: int, rows, cols, vals, rhs, name: str | None = None
                 ) -> int:
        """Add ``count`` rows of ``kind`` ('eq' or 'ub') given as triplets with row numbers
        local to the block (0..count-1); return the first row number."""
        r0 = self.n_rows[kind]
        rows = np.concatenate([np.atleast_1d(np.asarray(x, dtype=np.int64)) for x in rows])
        cols = np.concatenate([np.atleast_1d(np.asarray(x, dtype=np.int64)) for x in cols])
        vals = np.concatenate([np.atleast_1d(np.asarray(x, dtype=float)) for x in vals])
        self._parts[kind].append((rows + r0, cols, vals))
        self._rhs[kind].append(np.broadcast_to(np.asarray(rhs, dtype=float), (count,)).copy())
        self.n_rows[kind] += count
        if name is not None:
            self.named_rows[name] = (kind, r0, count)
        return r0

    def vectors_ub(self, col: int) -> float:
        """The upper bound of column ``col`` as added."""
        if isinstance(self._ub, np.ndarray):
            return float(self._ub[col])
        start = 0
        for block in self._ub:
            if col < start + block.size:
                return float(block[col - start])
            start += block.size
        raise IndexError(f"column {col} does not exist")

    def vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Objective, lower and upper bounds of all columns (views to change before solving)."""
        if not isinstance(self._cost, np.ndarray):
            self._cost = np.concatenate(self._cost) if self._cost else np.zeros(0)
            self._lb = np.concatenate(self._lb) if self._lb else np.zeros(0)
            self._ub = np.concatenate(self._ub) if self._ub else np.zeros(0)
        return self._cost, self._lb, self._ub

    def matrix(self, kind: str) -> tuple[sp.csr_array | None, np.ndarray | None]:
        """The sparse matrix and right-hand side of the rows of ``kind``."""
        if not self.n_rows[kind]:
            return None, None
        parts = self._parts[kind]
        a = sp.csr_array((np.concatenate([p[2] for p in parts]),
                          (np.concatenate([p[0] for p in parts]),
                           np.concatenate([p[1] for p in parts]))),
                         shape=(self.n_rows[kind], self.n_var))
        return a, np.concatenate(self._rhs[kind])

    def solve(self, cost: np.ndarray | None = None, method: str = "highs"):
        """Solve with HiGHS (``method`` of :func:`scipy.optimize.linprog`: 'highs' lets HiGHS
        choose, 'highs-ipm' is its interior point with crossover); ``cost`` replaces the
        objective. Returns linprog's result."""
        c, lb, ub = self.vectors()
        a_eq, b_eq = self.matrix("eq")
        a_ub, b_ub = self.matrix("ub")
        return linprog(c if cost is None else cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                       bounds=np.column_stack([lb, ub]), method=method)


@dataclass(frozen=True)
class StoreColumns:
    """A battery in the LP whose capacity may be decided by the LP itself (sizing).

    ``params`` gives efficiencies, level limits as fractions, self-discharge and the initial
    content as a fraction of ``params.energy_kwh``; ``energy_col`` / ``power_col`` name the
    LP columns of the usable capacity [kWh] and the power limit [kW] when they are decided by
    the LP (then ``params.energy_kwh`` / ``params.power_kw`` are ignored)."""

    params: BatteryParams
    energy_col: int | None = None
    power_col: int | None = None


@dataclass(frozen=True)
class DispatchColumns:
    """Where the dispatch variables of :func:`add_dispatch` sit in the LP (first columns)."""

    n: int
    imp: int
    exp: int
    cur: int
    ch: list[int]
    dis: list[int]
    e: list[int]
    """Stored energy per store; for a store whose capacity is a column, the energy above its
    lower limit ``E_t - soc_min C`` (so that limit is a bound)."""
    pk: int | None
    balance_row: int


def add_store_vars(lp: LpProblem, st: StoreColumns, n: int) -> tuple[int, int, int]:
    """Columns of one store over ``n`` intervals: charge and discharge power [kW] and the
    level at each interval's end [kWh] (above the floor when the capacity is a column); return
    their first indices. Shared by batteries and thermal stores."""
    bp = st.params
    p_ub = bp.power_kw if st.power_col is None else math.inf
    ch = lp.add_vars(n, 0.0, p_ub)
    dis = lp.add_vars(n, 0.0, p_ub)
    if st.energy_col is None:
        lo = np.full(n, bp.e_min)
        if bp.final_soc_min_kwh is not None:
            lo[-1] = max(bp.e_min, bp.final_soc_min_kwh)
        e = lp.add_vars(n, lo, bp.e_max)
    else:
        e = lp.add_vars(n, 0.0, math.inf)
    return ch, dis, e


def add_store_rows(lp: LpProblem, st: StoreColumns, i_ch: int, i_dis: int, i_e: int,
                   dt: np.ndarray, cyclic: bool) -> None:
    """The storage, level and power rules of one store (module doc): the ONE copy, for
    batteries on the electricity bus and thermal stores on the heat and cooling buses."""
    n = dt.size
    rows_t = np.arange(n)
    # storage: E_t - keep_t E_t-1 - eta_c dt ch_t + dt / eta_d dis_t = keep_0 E_init (t = 0)
    bp = st.params
    keep = (1.0 - bp.self_discharge_per_h) ** dt
    rr = [rows_t, rows_t[1:], rows_t, rows_t]
    cc = [i_e + rows_t, i_e + rows_t[:-1], i_ch + rows_t, i_dis + rows_t]
    vv = [np.ones(n), -keep[1:], -bp.charge_efficiency * dt, dt / bp.discharge_efficiency]
    rhs = np.zeros(n)
    if cyclic:  # the level before the first interval is the level after the last
        rr.append([0])
        cc.append([i_e + n - 1])
        vv.append([-keep[0]])
    elif st.energy_col is None:
        rhs[0] = keep[0] * bp.e_init
    if st.energy_col is not None:
        # sized: the column holds the level above the floor, E'_t = E_t - soc_min C >= 0,
        # so the lower limit is a bound, not a row; the floor's own standing loss
        # soc_min (1 - keep_t) C stays in the balance, and without cycling the start
        # content f C (f = initial fraction) enters row 0: E'_0 + (soc_min - keep_0 f) C
        m_c = bp.soc_min_frac * (1.0 - keep)
        if not cyclic:
            m_c[0] = bp.soc_min_frac - keep[0] * bp.e_init / bp.energy_kwh
        nz = np.flatnonzero(m_c)
        rr.append(nz)
        cc.append(np.full(nz.size, st.energy_col))
        vv.append(m_c[nz])
    if (st.energy_col is None and bp.floor_hold and bp.self_discharge_per_h > 0
            and bp.e_min > 0):
        spared = (1.0 - keep) * bp.e_min
        i_u = lp.add_vars(n, 0.0, spared)
        rr.append(rows_t)
        cc.append(i_u + rows_t)
        vv.append(-np.ones(n))
    lp.add_rows("eq", n, rr, cc, vv, rhs)
    if st.energy_col is not None:  # E'_t <= (soc_max - soc_min) C
        lp.add_rows("ub", n, [rows_t, rows_t], [i_e + rows_t, np.full(n, st.energy_col)],
                    [np.ones(n), np.full(n, bp.soc_min_frac - bp.soc_max_frac)], 0.0)
    if st.power_col is not None:  # ch_t <= P, dis_t <= P
        col = np.full(n, st.power_col)
        for i in (i_ch, i_dis):
            lp.add_rows("ub", n, [rows_t, rows_t], [i + rows_t, col],
                        [np.ones(n), -np.ones(n)], 0.0)


def add_dispatch(
    lp: LpProblem, load: np.ndarray, gen: np.ndarray, dt: np.ndarray,
    stores: Sequence[StoreColumns], *, price: np.ndarray, feed: np.ndarray,
    import_limit_kw: float, export_limit_kw: float, month: np.ndarray, rate: np.ndarray,
    use_peak: bool, floor: np.ndarray | None = None,
    generation_cols: Sequence[tuple[int, np.ndarray]] = (), import_col: int | None = None,
    cyclic: bool = False, scale: float = 1.0,
    balance_terms: Sequence[tuple[int, np.ndarray | float]] = (),
) -> DispatchColumns:
    """Add the dispatch variables and constraints of the module doc to ``lp``: the ONE copy of
    the balance, storage, level, power, grid-limit and demand-peak rules, shared by the
    fixed-size dispatch (:func:`optimal_dispatch`) and capacity sizing
    (:mod:`twin.energy.sizing`).

    ``generation_cols`` adds ``Σ_k profile_k,t x_k`` to the onsite generation (PV or wind
    scaled by a capacity column ``x_k`` [kW], profile per kW [kWh/kW per interval]);
    ``import_col`` makes the import limit a column [kW]; a store's ``energy_col`` /
    ``power_col`` make its capacity and power columns. ``cyclic``: every store ends where it
    starts, the start level being free (PyPSA's ``cyclic_state_of_charge``); else it starts at
    its initial content. The objective gets ``scale x`` (energy cost - export revenue + demand
    charge) — ``scale`` turns the run's cost into a yearly cost for sizing.
    ``balance_terms`` adds ``coef_t x_(col+t)`` to the balance of every interval ``t``: the
    electricity of thermal units (:func:`twin.energy.thermal_lp.add_thermal_bus`), a use with
    a negative coefficient, a CHP's output with a positive one.
    """
    n = load.size
    rows_t = np.arange(n)
    nb = len(stores)
    i_imp = lp.add_vars(n, 0.0, import_limit_kw * dt if import_col is None else math.inf,
                        scale * price)
    i_exp = lp.add_vars(n, 0.0, export_limit_kw * dt, -scale * feed)
    # curtailment within the generation; with sized generation that is a row per interval,
    # needed only where a negative price could make dumping imported energy pay (else a
    # bound at the largest generation suffices: any optimum curtails no more than it has)
    cur_rows = bool(generation_cols) and bool((price < 0).any())
    cur_ub = gen + sum((prof * lp.vectors_ub(col) for col, prof in generation_cols),
                       np.zeros(n)) if generation_cols and not cur_rows else gen
    i_cur = lp.add_vars(n, 0.0, cur_ub if not cur_rows else math.inf)
    i_ch, i_dis, i_e = [], [], []
    for st in stores:
        ch, dis, e = add_store_vars(lp, st, n)
        i_ch.append(ch)
        i_dis.append(dis)
        i_e.append(e)
    i_pk = None
    if use_peak:
        i_pk = lp.add_vars(rate.size, 0.0 if floor is None else floor, math.inf, scale * rate)

    # balance: imp - exp - cur + Σ dt (dis - ch) + Σ profile x = load - gen
    r = [rows_t, rows_t, rows_t]
    c = [i_imp + rows_t, i_exp + rows_t, i_cur + rows_t]
    v = [np.ones(n), -np.ones(n), -np.ones(n)]
    for b in range(nb):
        r += [rows_t, rows_t]
        c += [i_dis[b] + rows_t, i_ch[b] + rows_t]
        v += [dt, -dt]
    for col, prof in generation_cols:
        r.append(rows_t)
        c.append(np.full(n, col))
        v.append(prof)
    for col, coef in balance_terms:  # thermal units' electricity (- use, + CHP output)
        r.append(rows_t)
        c.append(col + rows_t)
        v.append(np.broadcast_to(np.asarray(coef, dtype=float), (n,)))
    bal = lp.add_rows("eq", n, r, c, v, load - gen, name="balance")
    if cur_rows:  # curtailment within the (sized) generation: cur - Σ profile x <= gen
        r, c, v = [rows_t], [i_cur + rows_t], [np.ones(n)]
        for col, prof in generation_cols:
            r.append(rows_t)
            c.append(np.full(n, col))
            v.append(-prof)
        lp.add_rows("ub", n, r, c, v, gen)
    if import_col is not None:  # imp_t - dt_t G <= 0
        lp.add_rows("ub", n, [rows_t, rows_t], [i_imp + rows_t, np.full(n, import_col)],
                    [np.ones(n), -dt], 0.0)

    for b, st in enumerate(stores):
        add_store_rows(lp, st, i_ch[b], i_dis[b], i_e[b], dt, cyclic)

    # demand peak: imp_t / dt_t - peak_m(t) <= 0 (only in month groups with a charge)
    if use_peak:
        sel = np.flatnonzero(rate[month] > 0)
        k = np.arange(sel.size)
        lp.add_rows("ub", sel.size, [k, k], [i_imp + sel, i_pk + month[sel]],
                    [1.0 / dt[sel], -np.ones(sel.size)], 0.0)
    return DispatchColumns(n, i_imp, i_exp, i_cur, i_ch, i_dis, i_e, i_pk, bal)


def optimal_dispatch(
    load_kwh, generation_kwh, dt_h, batteries: Sequence[BatteryParams], *,
    price=0.0, feed_in_price=0.0, grid_ef=0.0, import_limit_kw: float = math.inf,
    export_limit_kw: float = 0.0, month=None, demand_rate=None, peak_floor_kw=None,
    objective: str = "cost", carbon_price_per_kg: float = 0.0, cyclic_storage: bool = False,
    thermal: Sequence = (), gas_price: float = 0.0, gas_ef: float = 0.0,
    heat_price: float = 0.0, flexible=None,
) -> OptimalDispatch:
    """Battery dispatch that minimises cost, emissions or a weighted mix, with perfect foresight.

    Parameters
    ----------
    load_kwh : array_like
        Site electric demand per interval, storage charging excluded [kWh], >= 0.
    generation_kwh : array_like
        Onsite generation per interval (PV, wind, CHP electricity) [kWh], >= 0.
    dt_h : float or array_like
        Interval lengths [h] (0.25 for 15-min settlement; the last may be shorter).
    batteries : sequence of BatteryParams
        May be empty (then only export and curtailment are decided).
    price : float or array_like
        Import energy price per interval [CNY/kWh].
    feed_in_price : float or array_like
        Price paid for export per interval [CNY/kWh].
    grid_ef : float or array_like
        Grid carbon intensity per interval [kgCO2/kWh] (emissions and weighted objectives).
    import_limit_kw, export_limit_kw : float
        Hard grid limits [kW]; ``inf`` = none. The default export limit 0 forbids export, as the
        plant file's ``energy.grid.export_limit_kw`` does.
    month : array_like of int, optional
        Month group (0, 1, ...) of each interval for the demand charge.
    demand_rate : array_like, optional
        Demand charge per month group [CNY/kW] (prorated if the twin prorates). None: no charge.
    peak_floor_kw : array_like, optional
        Peak already set per month group before the first interval [kW] (a rolling horizon
        carries the month's peak so far): only import above it costs a demand charge.
    objective : {'cost', 'emissions', 'weighted'}
        What to minimise (see the module doc).
    carbon_price_per_kg : float
        Shadow price of emissions for ``'weighted'`` [CNY/kgCO2].
    cyclic_storage : bool
        Every battery ends where it starts, the start level chosen by the LP (``initial_soc_kwh``
        and ``final_soc_min_kwh`` are then ignored): the LP cannot spend the initial charge.
        Thermal stores likewise.
    thermal : sequence of twin.energy.thermal_lp.ThermalBus
        Heat and cooling buses dispatched with the batteries (:mod:`twin.energy.thermal_lp`):
        their units' electricity joins the balance, so ``load_kwh`` must then exclude it.
    gas_price, heat_price : float
        Price of gas [CNY/kWh LHV] and of heat bought [CNY/kWh] for the thermal buses.
    gas_ef : float
        Scope 1 factor of gas [kgCO2/kWh LHV] (emissions and weighted objectives).
    flexible : twin.energy.flex_lp.FlexEnvelope, optional
        Deferrable production as shiftable load (:mod:`twin.energy.flex_lp`); ``load_kwh``
        must then exclude its recorded energy.

    Returns
    -------
    OptimalDispatch

    Raises
    ------
    InfeasibleDispatchError
        When no dispatch covers the demand within the import limit (names the first interval
        that cannot be met and by how much).
    ValueError
        On inputs of the wrong shape, sign or value (names the argument and the interval).
    """
    t0 = time.perf_counter()
    load = np.asarray(load_kwh, dtype=float)
    if load.ndim != 1 or load.size == 0:
        raise ValueError(f"load_kwh: expected a 1-d array of at least one interval, got shape "
                         f"{load.shape}")
    n = load.size
    load = _per_interval(load, n, "load_kwh", nonneg=True)
    gen = _per_interval(generation_kwh, n, "generation_kwh", nonneg=True)
    dt = _per_interval(dt_h, n, "dt_h")
    if (dt <= 0).any():
        k = int(np.flatnonzero(dt <= 0)[0])
        raise ValueError(f"dt_h[{k}] = {float(dt[k])!r}: expected an interval length > 0 [h]")
    price = _per_interval(price, n, "price")
    feed = _per_interval(feed_in_price, n, "feed_in_price")
    ef = _per_interval(grid_ef, n, "grid_ef", nonneg=True)
    if objective not in OBJECTIVES:
        raise ValueError(f"objective={objective!r}: expected one of {', '.join(OBJECTIVES)}")
    if not carbon_price_per_kg >= 0:
        raise ValueError(f"carbon_price_per_kg={carbon_price_per_kg!r}: expected a value >= 0")
    if not import_limit_kw > 0 or not export_limit_kw >= 0:
        raise ValueError(f"grid limits: expected import_limit_kw > 0 and export_limit_kw >= 0, "
                         f"got {import_limit_kw!r} and {export_limit_kw!r}")
    m, rate = month_terms(month, demand_rate, n)
    use_peak = demand_rate is not None and objective != "emissions" and bool((rate > 0).any())
    n_m = rate.size
    floor = (np.zeros(n_m) if peak_floor_kw is None
             else np.maximum(np.atleast_1d(np.asarray(peak_floor_kw, dtype=float)), 0.0))
    if floor.shape != (n_m,):
        raise ValueError(f"peak_floor_kw: expected {n_m} values (one per month group)")
    bats = list(batteries)
    nb = len(bats)
    if not thermal and flexible is None:  # (a CHP may make electricity: no quick check)
        _check_feasible(load, gen, dt, bats, import_limit_kw)

    lp = LpProblem()
    buses = []
    if thermal:
        from twin.energy.thermal_lp import add_thermal_bus

        buses = [(bus, add_thermal_bus(lp, bus, dt, cyclic=cyclic_storage, gas_price=gas_price,
                                       heat_price=heat_price)) for bus in thermal]
    el_terms = [t for _, tc in buses for t in tc.electricity]
    if flexible is not None:
        from twin.energy.flex_lp import add_flexible_load

        el_terms.append(add_flexible_load(lp, flexible))
    cols = add_dispatch(lp, load, gen, dt, [StoreColumns(bp) for bp in bats], price=price,
                        feed=feed, import_limit_kw=import_limit_kw,
                        export_limit_kw=export_limit_kw, month=m, rate=rate, use_peak=use_peak,
                        floor=floor, cyclic=cyclic_storage, balance_terms=el_terms)
    cost, _, _ = lp.vectors()
    i_imp, i_exp, i_cur = cols.imp, cols.exp, cols.cur
    if objective == "cost":
        cvec = cost
    elif objective == "emissions":
        cvec = EMISSIONS_TIE_BREAK * cost
        cvec[i_imp:i_imp + n] += ef
    else:
        cvec = cost.copy()
        cvec[i_imp:i_imp + n] += carbon_price_per_kg * ef
    if objective != "cost" and gas_ef > 0:  # scope 1 of the thermal units' gas
        w = 1.0 if objective == "emissions" else carbon_price_per_kg
        for _, tc in buses:
            for col, per in tc.gas:
                cvec[col:col + n] += w * gas_ef * per
    build_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    res = lp.solve(cvec)
    solve_s = time.perf_counter() - t1
    if res.status == 2 and buses:
        raise InfeasibleDispatchError(
            f"no dispatch meets the electricity and the {', '.join(b.name for b, _ in buses)} "
            f"demand within the grid import limit of {import_limit_kw:g} kW and the thermal "
            f"units' capacities (HiGHS: {res.message})")
    if res.status == 2:
        short = np.maximum(load - gen - import_limit_kw * dt, 0.0)
        k = int(np.flatnonzero(short > 0)[0]) if (short > 0).any() else 0
        raise InfeasibleDispatchError(
            f"no battery dispatch covers the demand within the grid import limit of "
            f"{import_limit_kw:g} kW: the batteries would have to give {short.sum():g} kWh in all "
            f"(from interval {k} on) beyond what they can store and deliver within their limits "
            f"(HiGHS: {res.message})")
    if res.status != 0:
        raise RuntimeError(f"the dispatch LP was not solved (status {res.status}): {res.message}")
    x = res.x
    imp = np.maximum(x[i_imp:i_imp + n], 0.0)
    exp = np.maximum(x[i_exp:i_exp + n], 0.0)
    cur = np.maximum(x[i_cur:i_cur + n], 0.0)
    ch = np.maximum(np.array([x[i:i + n] for i in cols.ch]).reshape(nb, n), 0.0)
    dis = np.maximum(np.array([x[i:i + n] for i in cols.dis]).reshape(nb, n), 0.0)
    soc = np.array([x[i:i + n] for i in cols.e]).reshape(nb, n)
    parts = dispatch_cost(imp, exp, dt, price, feed, ef, m, rate if demand_rate is not None
                          else None)
    if use_peak:  # a floor the LP did not exceed still counts in the horizon's charge
        parts.demand_cost = float(np.dot(rate, np.maximum(parts.peak_kw, floor)))
        parts.peak_kw = np.maximum(parts.peak_kw, floor)
    th_kwh: dict[str, np.ndarray] = {}
    th_el = gas = None
    if buses:
        th_el, gas = np.zeros(n), np.zeros(n)
        for bus, tc in buses:
            for u, i in zip(bus.units, tc.q, strict=True):
                th_kwh[f"{bus.name}/{u.name}"] = np.maximum(x[i:i + n], 0.0)
            for s, (i_c, i_d) in enumerate(zip(tc.ch, tc.dis, strict=True)):
                th_kwh[f"{bus.name}/store{s}/charge"] = np.maximum(x[i_c:i_c + n], 0.0) * dt
                th_kwh[f"{bus.name}/store{s}/discharge"] = np.maximum(x[i_d:i_d + n], 0.0) * dt
            for col, coef in tc.electricity:
                th_el -= coef * x[col:col + n]
            for col, per in tc.gas:
                gas += per * np.maximum(x[col:col + n], 0.0)
        bought = sum((float(x[i:i + n].clip(0).sum()) for _, tc in buses for i in tc.bought),
                     0.0)
        parts.fuel_cost = gas_price * float(gas.sum()) + heat_price * bought
        parts.scope1_kg = gas_ef * float(gas.sum())
    tol = 1e-6
    both = ((imp > tol) & (exp > tol)) | ((ch * dt > tol) & (dis * dt > tol)).any(axis=0)
    return OptimalDispatch(
        charge_kwh=(ch * dt).sum(axis=0), discharge_kwh=(dis * dt).sum(axis=0),
        battery_charge_kw=ch, battery_discharge_kw=dis, soc_kwh=soc, grid_import_kwh=imp,
        grid_export_kwh=exp, curtailed_kwh=cur, parts=parts, objective=objective,
        objective_value=parts.objective(objective, carbon_price_per_kg),
        simultaneous_intervals=int(both.sum()), build_s=build_s, solve_s=solve_s,
        iterations=int(getattr(res, "nit", 0)), thermal_kwh=th_kwh,
        thermal_electricity_kwh=th_el, gas_kwh=gas,
    )


def _check_feasible(load: np.ndarray, gen: np.ndarray, dt: np.ndarray,
                    bats: list[BatteryParams], import_limit_kw: float) -> None:
    """Raise a clear error when the demand cannot be met even with every battery discharging at
    full power from its start content without losses elsewhere (a necessary condition)."""
    if not math.isfinite(import_limit_kw):
        return
    short = load - gen - import_limit_kw * dt  # kWh the batteries must give per interval
    power = sum(b.power_kw for b in bats)
    over = short - power * dt
    if (over > 1e-9).any():
        k = int(np.flatnonzero(over > 1e-9)[0])
        raise InfeasibleDispatchError(
            f"interval {k}: demand {load[k]:g} kWh exceeds onsite generation {gen[k]:g} kWh + "
            f"grid import limit {import_limit_kw:g} kW x {dt[k]:g} h + all batteries at full "
            f"power ({power:g} kW) by {over[k]:g} kWh")
