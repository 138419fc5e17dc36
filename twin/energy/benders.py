"""Benders decomposition of a sizing LP over its few capacity columns.

The sizing LP (:mod:`twin.energy.sizing`) couples a handful of capacity columns ``x`` (PV kWp,
battery kWh and kW, ...) to every interval of the year. With ``x`` fixed what remains is the
fixed-size dispatch LP, which HiGHS's dual simplex solves many times faster, and re-solves in a
few hundred pivots from the previous basis when only the bounds of ``x`` change. Write the LP as
``min_x φ(x)`` over the box ``lo <= x <= hi``, where ``φ(x)`` is the optimum of the LP with the
capacity columns fixed at ``x`` (annuity of the new capacity included). ``φ`` is convex and
piecewise linear; at ``x_k`` the reduced costs ``g_k`` of the fixed capacity columns are a
subgradient (the LP's sensitivity to those bounds), so ``φ(x) >= φ(x_k) + g_k (x - x_k)``
everywhere. Kelley's cutting-plane method [1]_ (Benders' optimality cuts [2]_ with a single
subproblem):

1. solve the subproblem at ``x_k``: an upper bound ``φ(x_k)`` and a cut;
2. master LP ``min θ`` s.t. ``θ >= φ(x_j) + g_j (x - x_j)`` for every cut ``j``, ``x`` in its
   box: its optimum is a lower bound on the optimum and gives ``x_(k+1)``;
3. stop when the best upper bound and the lower bound agree to ``rel_gap`` (relative).

The answer is the best subproblem solution found: a feasible solution of the full LP whose cost
is within ``rel_gap`` of the optimum. Near the optimum ``φ`` is often flat (a kWh of battery
more or less changes the cost by cents), so the sizes agree with the monolithic LP's only as far
as the cost tells them apart.

Only optimality cuts are made: where a subproblem is infeasible (a size too small to meet the
demand within the grid limit) :func:`solve_by_capacity_cuts` returns ``None`` and the caller
solves the LP whole.

References
----------
.. [1] J. E. Kelley, "The cutting-plane method for solving convex programs", J. SIAM 8 (1960)
   703-712.
.. [2] J. F. Benders, "Partitioning procedures for solving mixed-variables programming
   problems", Numer. Math. 4 (1962) 238-252.
.. [3] W. Ben-Ameur, J. Neto, "Acceleration of cutting-plane and column generation algorithms:
   applications to network design", Networks 49 (2007) 3-17 (in-out stabilisation).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from twin.energy.optimal import LpProblem

REL_GAP = 1e-8
"""Relative gap between the best cost found and the master's lower bound at which the cuts
stop (1e-8 of a 3.5 M CNY/yr optimum: 0.035 CNY/yr). Tighter than the cost needs, so that the
sizes, which a flat optimum pins down only loosely, land close to the monolithic LP's: on the
benchmark year 1e-6 left the battery power 0.9 kW off (of 610 kW), 1e-8 to 0.01 kW, for two
subproblems more."""

MAX_ITERATIONS = 500
"""Subproblems at most before giving up (the caller then solves the LP whole)."""

IN_OUT = 0.3
"""In-out stabilisation [3]_: while the gap is above :data:`STABILISE_GAP` the next point is
``IN_OUT x_master + (1 - IN_OUT) x_best`` instead of the master's own optimum, which jumps from
corner to corner of the box early on. On the benchmark year (PV, battery kWh and kW) it cut the
subproblems' CPU time by about a third (benchmarks/README.md)."""

STABILISE_GAP = 1e-4
"""Relative gap below which the master's optimum is taken as it is (plain Kelley), so the
last cuts land where the lower bound is."""


@dataclass
class DecomposedSolution:
    """The best subproblem solution of :func:`solve_by_capacity_cuts`."""

    x: np.ndarray
    """Every column of the LP, capacity columns at their best sizes."""
    fun: float
    """Its objective value (an upper bound on the optimum)."""
    lower_bound: float
    """The master LP's last optimum (a lower bound on the optimum)."""
    iterations: int
    """Subproblems solved (= cuts made)."""
    status: int = 0
    """0 = optimal within the gap (the attribute :func:`scipy.optimize.linprog` results have)."""


_BANNER_SHOWN = False


def new_highs() -> highspy.Highs:
    """A silent :class:`highspy.Highs`. HiGHS prints its banner on stdout when the first
    instance of a process is made, before any option can be set: that one is made with the
    file descriptor 1 pointed at the null device."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)
        _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h


def highs_model(lp: LpProblem, cost: np.ndarray | None = None) -> highspy.Highs:
    """A silent :class:`highspy.Highs` holding ``lp`` (equality rows first, then ``<=`` rows)."""
    c, lb, ub = lp.vectors()
    a_eq, b_eq = lp.matrix("eq")
    a_ub, b_ub = lp.matrix("ub")
    inf = highspy.kHighsInf
    blocks, lo_r, hi_r = [], [], []
    if a_eq is not None:
        blocks.append(a_eq)
        lo_r.append(b_eq)
        hi_r.append(b_eq)
    if a_ub is not None:
        blocks.append(a_ub)
        lo_r.append(np.full(b_ub.size, -inf))
        hi_r.append(b_ub)
    model = highspy.HighsLp()
    model.num_col_ = lp.n_var
    model.col_cost_ = np.asarray(c if cost is None else cost, dtype=float)
    model.col_lower_ = np.where(np.isinf(lb), -inf, lb)
    model.col_upper_ = np.where(np.isinf(ub), inf, ub)
    if blocks:
        a = sp.vstack(blocks).tocsc()
        model.num_row_ = a.shape[0]
        model.row_lower_ = np.concatenate(lo_r)
        model.row_upper_ = np.concatenate(hi_r)
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.num_col_ = lp.n_var
        model.a_matrix_.num_row_ = a.shape[0]
        model.a_matrix_.start_ = a.indptr
        model.a_matrix_.index_ = a.indices
        model.a_matrix_.value_ = a.data
    h = new_highs()
    h.passModel(model)
    return h


def solve_by_capacity_cuts(lp: LpProblem, cap_cols: list[int], lo: np.ndarray, hi: np.ndarray,
                           *, keep: np.ndarray | None = None, rel_gap: float = REL_GAP,
                           max_iterations: int = MAX_ITERATIONS) -> DecomposedSolution | None:
    """Minimise ``lp`` by cutting planes over the columns ``cap_cols`` in ``[lo, hi]`` (module
    doc). Returns ``None`` when a subproblem is infeasible or not solved, or the cuts do not
    close the gap within ``max_iterations``: the caller then solves ``lp`` whole.

    ``keep``: sizes to raise the answer to where that costs nothing (within ``rel_gap``), one
    more subproblem: the sunk capacity of each candidate, so that where the optimum is flat
    below it the plant keeps what it has instead of shrinking it for no gain."""
    k = len(cap_cols)
    if k == 0:
        return None
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    cols = np.asarray(cap_cols, dtype=np.int32)
    sub = highs_model(lp)
    sub.setOptionValue("solver", "simplex")
    master = new_highs()
    inf = highspy.kHighsInf
    for j in range(k):
        master.addVar(float(lo[j]), float(hi[j]))
    master.addVar(-inf, inf)  # θ
    master.changeColCost(k, 1.0)
    idx = np.arange(k + 1, dtype=np.int32)
    x = hi.copy()  # first point: every capacity at its upper bound, the likeliest feasible
    best_f, best_x, lower = np.inf, None, -np.inf
    for it in range(1, max_iterations + 1):
        sub.changeColsBounds(k, cols, x, x)
        sub.run()
        if sub.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        f = sub.getInfo().objective_function_value
        sol = sub.getSolution()
        g = np.asarray(sol.col_dual)[cols]
        if f < best_f:
            best_f, best_x = f, np.asarray(sol.col_value).copy()
        # θ >= f + g (x - x_k)  <=>  g x - θ <= g x_k - f
        master.addRow(-inf, float(g @ x - f), k + 1, idx, np.append(g, -1.0))
        master.run()
        if master.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        lower = master.getInfo().objective_function_value
        if best_f - lower <= rel_gap * max(1.0, abs(best_f)):
            if keep is not None:
                up = np.clip(np.maximum(best_x[cols], keep), lo, hi)
                if (up > best_x[cols]).any():
                    sub.changeColsBounds(k, cols, up, up)
                    sub.run()
                    f_up = sub.getInfo().objective_function_value
                    if (sub.getModelStatus() == highspy.HighsModelStatus.kOptimal
                            and f_up - best_f <= rel_gap * max(1.0, abs(best_f))):
                        best_f = f_up
                        best_x = np.asarray(sub.getSolution().col_value).copy()
                    it += 1
            return DecomposedSolution(best_x, best_f, lower, it)
        xm = np.asarray(master.getSolution().col_value)[:k]
        if best_f - lower > STABILISE_GAP * max(1.0, abs(best_f)):
            xm = IN_OUT * xm + (1.0 - IN_OUT) * best_x[cols]
        x = np.clip(xm, lo, hi)
    return None


__all__ = ["IN_OUT", "MAX_ITERATIONS", "REL_GAP", "STABILISE_GAP", "DecomposedSolution",
           "highs_model", "new_highs", "solve_by_capacity_cuts"]
