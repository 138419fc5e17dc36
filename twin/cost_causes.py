"""Savings explained by cause: the difference in energy cost between two runs, split into parts
that add up to it exactly.

With, per settlement interval t, the grid import :math:`q_t` [kWh], its price :math:`p_t`
[currency/kWh] and energy cost :math:`c_t = q_t p_t`; :math:`Q = \\sum q_t`, :math:`E = \\sum c_t`;
the base's average price :math:`\\bar p_b = E_b / Q_b`; subscripts b (base) and s (scenario):

* ``energy``   = :math:`(Q_s - Q_b)\\,\\bar p_b`: the kWh saved or added, at the base's average
  price (fuller batches, efficiency, onsite supply: less bought);
* ``tariff``   = :math:`\\sum_t q_{s,t}(p_{s,t} - p_{b,t})`: other prices for the scenario's kWh
  (another tariff); 0 when both runs pay the same prices, or when the two runs' intervals do not
  line up (then it stays inside ``timing``);
* ``timing``   = :math:`(E_s - E_b) - \\text{energy} - \\text{tariff}`: the kWh bought at other
  hours (load shifting, storage), i.e. :math:`Q_s (\\bar p_s - \\bar p_b)` at equal prices;
* ``demand``, ``capacity``, ``gas``, ``purchased_heat``: the change of those cost lines;
* ``export``   = :math:`-(X_s - X_b)`: less export revenue is a cost;
* ``heat_export`` = the same for the revenue of heat a data centre sells
  (``heat_export_revenue``, :mod:`twin.energy.data_centre`).

Their sum is the change of ``cost_total`` (= energy + demand + capacity + gas + purchased heat
- export revenue - heat export revenue, :mod:`twin.kpis`), scenario minus base; a saving is
negative. This is an index decomposition with the base's average price as weight (a
Laspeyres-type volume effect, e.g. Ang, *Energy Policy* 32 (2004) 1131, which is why the price
effect takes the remainder and the parts add up without a residual).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from twin.i18n import N_

CAUSES: tuple[tuple[str, str], ...] = (
    ("energy", N_("Energy (kWh bought, at the base's average price)")),
    ("timing", N_("Timing (same kWh at other hours)")),
    ("tariff", N_("Tariff (other prices)")),
    ("demand", N_("Demand charge")),
    ("capacity", N_("Capacity charge")),
    ("export", N_("Export revenue")),
    ("gas", N_("Gas")),
    ("purchased_heat", N_("Purchased heat")),
    ("heat_export", N_("Heat export revenue")),
)
"""Cause -> label, in the order they are shown."""

OTHER_LINES: dict[str, str] = {"demand": "demand_cost", "capacity": "capacity_cost",
                               "gas": "gas_cost", "purchased_heat": "purchased_heat_cost"}
"""Cause -> the KPI of its cost line (``kpis.json``)."""


def _arr(x: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1 or not np.isfinite(a).all():
        raise ValueError(f"{name}: expected a one-dimensional series of finite numbers")
    return a


def cost_difference_by_cause(
    base_import_kwh: Sequence[float] | np.ndarray,
    base_energy_cost: Sequence[float] | np.ndarray,
    scen_import_kwh: Sequence[float] | np.ndarray,
    scen_energy_cost: Sequence[float] | np.ndarray,
    *,
    base_lines: Mapping[str, float] | None = None,
    scen_lines: Mapping[str, float] | None = None,
    base_price: Sequence[float] | np.ndarray | None = None,
    scen_price: Sequence[float] | np.ndarray | None = None,
) -> dict[str, float]:
    """Scenario minus base cost, by cause (see the module doc) [currency].

    Parameters
    ----------
    base_import_kwh, base_energy_cost : array_like
        Grid import [kWh] and its energy cost per settlement interval of the base run.
    scen_import_kwh, scen_energy_cost : array_like
        The same for the scenario (any length).
    base_lines, scen_lines : mapping, optional
        The other cost lines of each run as in ``kpis.json``: ``demand_cost``,
        ``capacity_cost``, ``gas_cost``, ``purchased_heat_cost``, ``export_revenue``,
        ``heat_export_revenue`` (missing = 0).
    base_price, scen_price : array_like, optional
        Energy price per interval [currency/kWh]; with both, of the scenario's length, the
        ``tariff`` part is split off from ``timing``.

    Returns
    -------
    dict
        One entry per cause of :data:`CAUSES` and ``total`` (their sum = the change of total
        cost), plus ``base_kwh``, ``scenario_kwh`` and ``base_average_price``.
    """
    qb, cb = _arr(base_import_kwh, "base grid import"), _arr(base_energy_cost, "base cost")
    qs, cs = _arr(scen_import_kwh, "scenario grid import"), _arr(scen_energy_cost,
                                                                  "scenario cost")
    if qb.shape != cb.shape or qs.shape != cs.shape:
        raise ValueError("grid import and energy cost must have one value per interval each")
    q_b, e_b, q_s, e_s = (math.fsum(a) for a in (qb, cb, qs, cs))
    p_b = e_b / q_b if q_b > 0 else None
    energy = (q_s - q_b) * p_b if p_b is not None else e_s - e_b
    tariff = 0.0
    if base_price is not None and scen_price is not None:
        pb, ps = _arr(base_price, "base price"), _arr(scen_price, "scenario price")
        if pb.shape == ps.shape == qs.shape:
            tariff = math.fsum(qs * (ps - pb))
    timing = (e_s - e_b) - energy - tariff
    bl, sl = dict(base_lines or {}), dict(scen_lines or {})

    def line(k: str, lines: Mapping[str, float]) -> float:
        v = lines.get(k)
        return float(v) if v is not None and math.isfinite(float(v)) else 0.0

    out = {"energy": energy, "timing": timing, "tariff": tariff}
    for cause, kpi in OTHER_LINES.items():
        out[cause] = line(kpi, sl) - line(kpi, bl)
    out["export"] = -(line("export_revenue", sl) - line("export_revenue", bl))
    out["heat_export"] = -(line("heat_export_revenue", sl) - line("heat_export_revenue", bl))
    out = {c: out[c] for c, _ in CAUSES}
    out["total"] = math.fsum(out.values())
    out["base_kwh"] = q_b
    out["scenario_kwh"] = q_s
    out["base_average_price"] = p_b if p_b is not None else math.nan
    return out


def runs_by_cause(base_intervals: pd.DataFrame, base_kpis: Mapping[str, object],
                  scen_intervals: pd.DataFrame, scen_kpis: Mapping[str, object]
                  ) -> dict[str, float]:
    """:func:`cost_difference_by_cause` of two run folders' ``intervals.parquet`` (pandas
    frames with ``grid_import_kwh``, ``electricity_cost`` and ``price_per_kwh``) and
    ``kpis.json``. The tariff part is split off only when the two runs cover the same
    intervals."""
    b, s = base_intervals, scen_intervals
    same = b.index.equals(s.index) and "price_per_kwh" in b and "price_per_kwh" in s
    lines = ("demand_cost", "capacity_cost", "gas_cost", "purchased_heat_cost", "export_revenue",
             "heat_export_revenue")
    return cost_difference_by_cause(
        b["grid_import_kwh"].to_numpy(), b["electricity_cost"].to_numpy(),
        s["grid_import_kwh"].to_numpy(), s["electricity_cost"].to_numpy(),
        base_lines={k: _float(base_kpis.get(k)) for k in lines},
        scen_lines={k: _float(scen_kpis.get(k)) for k in lines},
        base_price=b["price_per_kwh"].to_numpy() if same else None,
        scen_price=s["price_per_kwh"].to_numpy() if same else None)


def _float(x: object) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else 0.0
