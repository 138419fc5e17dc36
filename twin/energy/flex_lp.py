"""Flexible production as shiftable load in the dispatch and sizing LPs.

The deferrable work of a run (:mod:`twin.production.flex_record`) is a set of energy blocks
``b``: ``E_b`` [kWh] at up to ``P_b`` [kW], not before its release ``r_b``, done by its latest
finish ``f_b`` [h]. Per block and interval that would be a column per interval of its window; a
year of a cell factory's formation (thousands of blocks, windows of days) would be millions.
The LP takes instead their sum as one flexible load ``F_t`` [kWh] and its cumulative ``C_t``,
held between the sums of each block's own necessary bounds at the end ``e_t`` of interval ``t``::

    C_t = C_t-1 + F_t,  C_-1 = 0
    C_t >= Σ_b max(0, E_b - P_b max(0, f_b - e_t))                       (done in time)
    C_t <= Σ_b min(E_b, P_b max(0, min(e_t, f_b) - r_b))                 (not before release)
    0 <= F_t <= Σ_b P_b |[r_b, f_b] ∩ interval t|                         (power)

and ``F_t`` joins the load of the electricity balance. The run's own placement of the blocks
meets every bound, so the LP with flexibility never costs more than without it. The aggregate
(the cumulative-energy "envelope" of deferrable demand) is a relaxation of scheduling each
block on its own: exact for one block; for several it may move work where no single block's
schedule would (e.g. one block's power in another's window). Work is treated as preemptible (a
block may pause and resume), and moving a block leaves the machine idle at the old time (its
power is the processing power above idle).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from twin.energy.optimal import LpProblem


@dataclass(frozen=True)
class FlexEnvelope:
    """The bounds of the flexible load per interval (module doc)."""

    due_kwh: np.ndarray
    """Least cumulative flexible energy done by the end of each interval [kWh]."""
    released_kwh: np.ndarray
    """Most cumulative flexible energy that can be done by then [kWh]."""
    power_kwh: np.ndarray
    """Most flexible energy in each interval [kWh]."""
    recorded_kwh: np.ndarray
    """Where the run put it [kWh per interval] (to take out of the run's load)."""

    @property
    def total_kwh(self) -> float:
        return float(self.due_kwh[-1]) if self.due_kwh.size else 0.0


def flex_envelope(blocks: Sequence, dt: np.ndarray) -> FlexEnvelope:
    """Sum the blocks' bounds over the intervals of lengths ``dt`` [h] (the first starts at 0).

    ``blocks`` have ``release_h``, ``start_h``, ``duration_h``, ``latest_finish_h``,
    ``power_kw`` (:class:`twin.production.flex_record.FlexBlock`). Work past the last interval's
    end is clipped to the run (the LP sees what the run holds)."""
    dt = np.asarray(dt, dtype=float)
    n = dt.size
    ends = np.cumsum(dt)
    starts = ends - dt
    horizon = float(ends[-1])
    due = np.zeros(n)
    rel = np.zeros(n)
    power = np.zeros(n)
    rec = np.zeros(n)
    tail = np.zeros(n + 1)  # difference array: + E from the first interval ending at/after f
    for b in blocks:
        p = float(b.power_kw)
        a = float(b.start_h)
        z = min(a + float(b.duration_h), horizon)
        if p <= 0 or z <= a:
            continue
        e = p * (z - a)  # the energy of the block within the run [kWh]
        r = min(float(b.release_h), a)
        f = min(max(float(b.latest_finish_h), z), horizon)
        k0 = int(np.searchsorted(ends, r, side="right"))  # first interval ending after r
        k1 = int(np.searchsorted(ends, f, side="left"))  # first interval ending at/after f
        sl = slice(k0, k1 + 1)
        e_t = ends[sl]
        due[sl] += np.maximum(0.0, e - p * np.maximum(0.0, f - e_t))
        rel[sl] += np.minimum(e, p * np.maximum(0.0, np.minimum(e_t, f) - r))
        power[sl] += p * np.maximum(0.0, np.minimum(e_t, f) - np.maximum(starts[sl], r))
        tail[k1 + 1] += e
        ka = int(np.searchsorted(ends, a, side="right"))
        kz = int(np.searchsorted(ends, z, side="left"))
        rs = slice(ka, kz + 1)
        rec[rs] += p * np.maximum(0.0, np.minimum(ends[rs], z) - np.maximum(starts[rs], a))
    after = np.cumsum(tail)[:n]
    return FlexEnvelope(due + after, rel + after, power, rec)


def add_flexible_load(lp: LpProblem, env: FlexEnvelope) -> tuple[int, np.ndarray]:
    """Add ``F_t`` and ``C_t`` and their rows (module doc); return the balance term
    ``(first column of F, -1 per interval)`` for :func:`twin.energy.optimal.add_dispatch`."""
    n = env.due_kwh.size
    t = np.arange(n)
    tol = 1e-9 * max(1.0, env.total_kwh)  # the sums of the bounds may differ by rounding
    i_f = lp.add_vars(n, 0.0, env.power_kwh + tol)
    i_c = lp.add_vars(n, np.minimum(env.due_kwh, env.released_kwh),
                      np.maximum(env.released_kwh, env.due_kwh) + tol)
    # C_t - C_t-1 - F_t = 0
    lp.add_rows("eq", n, [t, t[1:], t], [i_c + t, i_c + t[:-1], i_f + t],
                [np.ones(n), -np.ones(n - 1), -np.ones(n)], 0.0, name="flexible_load")
    return i_f, -np.ones(n)


__all__ = ["FlexEnvelope", "add_flexible_load", "flex_envelope"]
