"""Heat and cooling buses in the dispatch and sizing LPs: the one copy of their rules.

A bus (heat, or cooling) has a demand per interval ``Q_t`` [kWh thermal] that its units and
stores must meet. Units are those of the simulation (:class:`twin.energy.ems.ThermalUnit`, built
by :func:`twin.energy.supply.build_supply`): heat pumps and chillers with their COP per interval
(from the outdoor temperature or the COP table, as the run computes it), boilers with their
efficiency, CHP with its thermal efficiency and electricity per unit of heat, heat bought across
the fence. Stores are :class:`twin.energy.optimal.BatteryParams` (a thermal store is a battery
with efficiencies 1 and its standing loss as self-discharge) and obey the same storage rules
(:func:`twin.energy.optimal.add_store_rows`).

Decision variables, per interval ``t`` (length ``dt_t`` [h]), unit ``u`` and store ``s``:

* ``q_ut`` in ``[0, cap_u dt_t]``: heat (or cooling) delivered [kWh]; with the capacity a column
  ``X_u`` (sizing): ``q_ut - dt_t X_u <= 0``;
* ``ch_st, dis_st``, ``E_st``: as for batteries, in kW and kWh thermal.

Constraints::

    Σ_u q_ut + Σ_s dt_t (dis_st - ch_st) = Q_t                           (heat balance)

Heat-led, as the simulation runs it: no heat is dumped, so a CHP makes electricity only as its
heat is used. What each unit draws enters elsewhere:

* electricity ``q_ut / COP_ut`` (heat pumps, chillers, electric boilers) is a use in the
  electricity balance, ``+ q_ut η_el/η_th`` a CHP's output (``balance_terms`` of
  :func:`twin.energy.optimal.add_dispatch`);
* gas ``q_ut / η_u`` [kWh LHV] costs ``gas_price`` and emits ``gas_ef`` (scope 1);
* heat bought ``q_ut`` costs ``heat_price``.

The simulation supplies heat in merit order and charges the stores only from the first unit's
spare capacity in the charging periods (:meth:`twin.energy.ems.EMS._thermal`); the LP chooses
freely, so its optimum is a bound on what the simulated rule achieves on the same demand.

References
----------
.. [1] PyPSA, heat buses with heat pumps (``Link`` with time-varying ``efficiency`` = COP), gas
   boilers, CHP and hot-water stores (``Store`` with ``standing_loss``), "Sector coupling"
   examples, https://docs.pypsa.org
.. [2] REopt.jl, ``src/constraints/thermal_tech_constraints.jl`` and
   ``storage_constraints.jl`` (heating and cooling loads met by sized boilers, heat pumps,
   chillers and thermal storage).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from twin.config.plant import ELECTRICITY, HEAT
from twin.energy.ems import ThermalUnit
from twin.energy.optimal import (
    BatteryParams,
    LpProblem,
    StoreColumns,
    add_store_rows,
    add_store_vars,
)


@dataclass(frozen=True)
class ThermalBus:
    """One heat or cooling bus as the LP sees it."""

    name: str
    """'heat' or 'cooling' (for messages and outputs)."""
    demand_kwh: np.ndarray
    """Thermal demand per interval [kWh]."""
    units: Sequence[ThermalUnit] = ()
    stores: Sequence[BatteryParams] = ()
    """Stores on the bus: efficiencies, level limits, initial content, standing loss as
    ``self_discharge_per_h`` [1/h]."""

    def window(self, k0: int, k1: int) -> ThermalBus:
        """The bus over intervals ``k0..k1-1`` (per-interval efficiencies sliced)."""
        units = [u if not isinstance(u.efficiency, np.ndarray) else
                 ThermalUnit(u.name, u.capacity_kw, u.carrier, u.efficiency[k0:k1],
                             u.power_per_heat) for u in self.units]
        return ThermalBus(self.name, np.asarray(self.demand_kwh)[k0:k1], units, self.stores)


def store_params(store, soc_min_frac: float | None = None) -> BatteryParams:
    """The LP view of a :class:`twin.energy.storage.ThermalStorage` at the start of a run:
    its capacity, power, level limits, initial content and standing loss (its
    ``loss_capacity_frac_per_h`` is not linear in the content and is left out)."""
    lo = store.soc_min_frac if soc_min_frac is None else soc_min_frac
    return BatteryParams(store.energy_kwh, store.power_kw, store.charge_efficiency,
                         store.discharge_efficiency, lo, store.soc_max_frac,
                         store.initial_soc_frac * store.energy_kwh, store.loss_per_h)


@dataclass
class ThermalColumns:
    """Where :func:`add_thermal_bus` put its variables, and the terms other rows need."""

    q: list[int]
    """First column of each unit's delivered heat (or cooling) [kWh per interval]."""
    ch: list[int]
    dis: list[int]
    e: list[int]
    balance_row: int
    electricity: list[tuple[int, np.ndarray]] = field(default_factory=list)
    """``(first column, coefficient per interval)`` for the electricity balance: ``-1/COP``
    for electric units, ``+η_el/η_th`` for CHP."""
    gas: list[tuple[int, np.ndarray]] = field(default_factory=list)
    """``(first column, 1/η per interval)``: gas burnt per kWh delivered [kWh LHV]."""
    bought: list[int] = field(default_factory=list)
    """First columns of units that deliver heat bought across the fence."""


def _per_interval(value, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (n,)).astype(float)


def add_thermal_bus(lp: LpProblem, bus: ThermalBus, dt: np.ndarray, *, cyclic: bool,
                    scale: float = 1.0, gas_price: float = 0.0, heat_price: float = 0.0,
                    unit_cols: Mapping[int, int] | None = None,
                    store_cols: Sequence[StoreColumns] | None = None) -> ThermalColumns:
    """Add one bus (module doc) to ``lp``: the ONE copy of the heat (cooling) balance and of the
    units' limits and draws, shared by the fixed-size dispatch LP
    (:func:`twin.energy.optimal.optimal_dispatch`) and capacity sizing
    (:mod:`twin.energy.sizing`).

    ``unit_cols`` maps a unit's index to the column of its capacity [kW] when the LP decides it;
    ``store_cols`` gives the stores with their capacity columns (default: ``bus.stores`` at
    their sizes). The objective gets ``scale x`` (gas price x gas + heat price x heat bought);
    the electricity balance terms are returned, not added (they go to
    :func:`twin.energy.optimal.add_dispatch`).
    """
    n = dt.size
    rows_t = np.arange(n)
    need = np.asarray(bus.demand_kwh, dtype=float)
    if need.shape != (n,):
        raise ValueError(f"{bus.name} demand: expected {n} values (one per interval), got shape "
                         f"{need.shape}")
    if not np.isfinite(need).all() or (need < 0).any():
        k = int(np.flatnonzero(~(np.isfinite(need) & (need >= 0)))[0])
        raise ValueError(f"{bus.name} demand[{k}] = {float(need[k])!r}: expected a finite value "
                         f">= 0 [kWh]")
    unit_cols = unit_cols or {}
    stores = list(store_cols) if store_cols is not None else [StoreColumns(bp)
                                                              for bp in bus.stores]
    out = ThermalColumns([], [], [], [], 0)
    for j, u in enumerate(bus.units):
        eff = _per_interval(u.efficiency, n)
        if (eff <= 0).any() or not np.isfinite(eff).all():
            raise ValueError(f"{bus.name} unit {u.name}: efficiency (COP) must be finite and > 0 "
                             f"in every interval")
        sized = j in unit_cols
        # sized: bounded by the candidate's upper bound too (a bound helps presolve; the
        # row below ties it to the capacity chosen)
        ub = (lp.vectors_ub(unit_cols[j]) if sized else u.capacity_kw) * dt
        if u.carrier == ELECTRICITY:
            cost = 0.0
            out.electricity.append((-1, -1.0 / eff))
        elif u.carrier == HEAT:
            cost = scale * heat_price / eff
        else:  # natural gas: boilers and CHP
            cost = scale * gas_price / eff
        i = lp.add_vars(n, 0.0, ub, cost)
        out.q.append(i)
        if u.carrier == ELECTRICITY:
            out.electricity[-1] = (i, out.electricity[-1][1])
        elif u.carrier == HEAT:
            out.bought.append(i)
        else:
            out.gas.append((i, 1.0 / eff))
            if u.power_per_heat > 0:
                out.electricity.append((i, np.full(n, u.power_per_heat)))
        if sized:  # q_t - dt_t X <= 0
            lp.add_rows("ub", n, [rows_t, rows_t], [i + rows_t, np.full(n, unit_cols[j])],
                        [np.ones(n), -dt], 0.0)
    for st in stores:
        ch, dis, e = add_store_vars(lp, st, n)
        out.ch.append(ch)
        out.dis.append(dis)
        out.e.append(e)
    r, c, v = [], [], []
    for i in out.q:
        r.append(rows_t)
        c.append(i + rows_t)
        v.append(np.ones(n))
    for ch, dis in zip(out.ch, out.dis, strict=True):
        r += [rows_t, rows_t]
        c += [dis + rows_t, ch + rows_t]
        v += [dt, -dt]
    if not r:
        if (need > 0).any():
            raise ValueError(f"{bus.name} demand of {need.sum():g} kWh but no unit or store "
                             f"on the {bus.name} bus")
        out.balance_row = -1
        return out
    out.balance_row = lp.add_rows("eq", n, r, c, v, need, name=f"{bus.name}_balance")
    for b, st in enumerate(stores):
        add_store_rows(lp, st, out.ch[b], out.dis[b], out.e[b], dt, cyclic)
    return out


__all__ = ["ThermalBus", "ThermalColumns", "add_thermal_bus", "store_params"]
