"""The meter: power-state change points in, exact energy per settlement interval out.

During the run every state change is one O(1) record (time, equipment code) written into
preallocated numpy arrays. When the arrays fill up, and at the end of the run, the records are
binned: each equipment's power is piecewise constant between its records, so the energy of every
interval is the exact integral, segments split at interval boundaries. Nothing is sampled.
Binning in chunks keeps memory bounded for any run length: the meter holds one chunk of records
(in a run: one simulated day of them, :data:`FLUSH_S`) plus the interval table (intervals x
groups x carriers), the time per state and the energy per equipment.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Sequence

import numpy as np

from twin.equipment.states import N_CARRIERS, N_STATES, PROCESSING

CHUNK = 1 << 17
"""Records held before they are binned (8 + 8 bytes each; binning a chunk needs about ten
temporary arrays of its length, so the chunk bounds the meter's peak memory)."""

FLUSH_S = 86400.0
"""In a model (:func:`twin.engine.build`) the records are binned at every multiple of this
simulated time [s] (the record arrays grow as needed in between: memory bounded by a day's
records), not when the arrays are full: where a segment is split then depends on the time
alone, not on how many other machines recorded changes, so a plant's independent parts metered
apart give the same bits as the whole plant (:mod:`twin.partition`)."""


def bin_segments(
    start_s: np.ndarray, end_s: np.ndarray, column: np.ndarray, n_bins: int, n_cols: int,
    bin_s: float, rate: np.ndarray | None = None, bins: tuple[int, int] | None = None,
) -> np.ndarray:
    """Integral of piecewise-constant segments over time bins, per column.

    Segment ``i`` contributes ``rate[i]`` per second over ``[start_s[i], end_s[i])``; the result is
    the sum, per bin and column, of ``rate`` times the overlap. With ``rate=None`` it is the overlap
    in seconds. With ``rate`` = power [kW] / 3600 it is energy [kWh].

    Parameters
    ----------
    start_s, end_s : ndarray
        Segment start and end [s], ``0 <= start_s <= end_s <= n_bins * bin_s``; a time beyond
        the last bin by float rounding counts in the last bin.
    column : ndarray of int
        Column of each segment (e.g. an equipment or group index).
    n_bins, n_cols : int
        Shape of the result.
    bin_s : float
        Bin width [s]; bin ``k`` is ``[k * bin_s, (k + 1) * bin_s)``.
    rate : ndarray, optional
        Value per second of each segment (default 1).
    bins : (int, int), optional
        Return only bins ``bins[0]`` to ``bins[1] - 1``, which must hold every segment (a chunk
        of records: the work and memory then follow the chunk, not the run length); the values
        are those of the full result, bit for bit.

    Returns
    -------
    ndarray, shape (n_bins, n_cols), or (bins[1] - bins[0], n_cols)
        Every segment's integral split exactly across the bins it spans.
    """
    keep = end_s > start_s
    s, e, col = start_s[keep], end_s[keep], column[keep]
    r = np.ones(s.size) if rate is None else np.asarray(rate, dtype=float)[keep]
    # A time a rounding error past the last boundary (a horizon of 11/288 d is 3300.0000000000005 s
    # but 11 bins of 300 s) counts in the last bin, so that every segment's integral is kept.
    first = np.minimum(np.floor(s / bin_s).astype(np.int64), n_bins - 1)
    last = np.minimum(np.ceil(e / bin_s).astype(np.int64) - 1, n_bins - 1)
    last = np.maximum(last, first)
    b0, b1 = (0, n_bins) if bins is None else bins
    out = np.zeros((b1 - b0) * n_cols)
    one = first == last
    idx = (first[one] - b0) * n_cols + col[one]
    out += np.bincount(idx, weights=((e - s) * r)[one], minlength=out.size)
    many = ~one
    if many.any():
        f, la, s2, e2, c2, r2 = first[many], last[many], s[many], e[many], col[many], r[many]
        out += np.bincount((f - b0) * n_cols + c2, weights=((f + 1) * bin_s - s2) * r2,
                           minlength=out.size)
        out += np.bincount((la - b0) * n_cols + c2, weights=(e2 - la * bin_s) * r2,
                           minlength=out.size)
        n_mid = la - f - 1
        total = int(n_mid.sum())
        if total > 0:
            offs = np.arange(total) - np.repeat(np.cumsum(n_mid) - n_mid, n_mid)
            mid = np.repeat(f + 1 - b0, n_mid) + offs
            out += np.bincount(mid * n_cols + np.repeat(c2, n_mid),
                               weights=np.repeat(r2, n_mid) * bin_s, minlength=out.size)
    return out.reshape(b1 - b0, n_cols)


class Meter:
    """Records power-state changes and bins them into exact energy.

    Parameters
    ----------
    power : ndarray, shape (n_equipment, N_STATES, N_CARRIERS)
        Power [kW] of each equipment in each state per carrier.
    group : ndarray of int, shape (n_equipment,)
        Reporting group of each equipment.
    n_groups : int
    interval_s : float
        Settlement interval [s]; must divide 3600.
    horizon_s : float
        Length of the run [s].
    """

    def __init__(self, power: np.ndarray, group: np.ndarray, n_groups: int, interval_s: float,
                 horizon_s: float, chunk: int = CHUNK):
        self.power = np.asarray(power, dtype=float)
        self.n_eq = self.power.shape[0]
        self.group = np.asarray(group, dtype=np.int64)
        self.n_groups = n_groups
        self.interval_s = float(interval_s)
        self.horizon_s = float(horizon_s)
        self.n_intervals = max(1, math.ceil(horizon_s / interval_s - 1e-9))
        self._t = np.empty(chunk)
        self._code = np.empty(chunk, dtype=np.int64)
        self._n = 0
        self._cap = chunk
        self._t0 = 0.0
        self._carry = np.full(self.n_eq, -1, dtype=np.int64)
        self.records = 0
        self.interval_kwh = np.zeros((self.n_intervals, n_groups * N_CARRIERS))
        """Energy per interval [kWh], columns ``group * N_CARRIERS + carrier``."""
        self.state_s = np.zeros((self.n_eq, N_STATES))
        """Time per equipment and state [s]."""
        self.equipment_kwh = np.zeros((self.n_eq, N_CARRIERS))
        """Energy per equipment and carrier [kWh]."""
        self.closed = False
        self.grow = False
        """When the record arrays are full: False, bin them (at the time of the next record);
        True, double them and wait for :meth:`flush_at`."""
        self.state_interval_s: np.ndarray | None = None
        """Time per interval, equipment and state [s], shape ``(n_intervals, n_eq * N_STATES)``
        (column ``equipment * N_STATES + state``); kept only after :meth:`keep_state_time`."""
        self._carrier: np.ndarray | None = None
        self.trace_window: tuple[float, float] | None = None
        """Keep every change point within this window [s] (for a state timeline of one day)."""
        self.trace: list[tuple[float, int, int]] = []
        """(time [s], equipment, state) of the change points within ``trace_window``."""
        self.metered_power = self.power
        """Power per equipment, state and carrier that the meter integrates [kW]: ``power``
        (the tables as written, which strategies and estimates read), but 0 in the processing
        state of equipment whose processing runs a programme (:meth:`meter_by_phases`)."""
        self._phase_kw: list[tuple[float, ...]] = []
        self._pieces = (array("d"), array("d"), array("q"), array("q"))
        """Programme pieces not binned yet: start, end [s], equipment, phase row."""
        self._trace_columns: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def meter_by_phases(self, eq: int) -> None:
        """Equipment ``eq`` runs power programmes: its processing state draws nothing from its
        table, its phases' pieces carry the power (:meth:`add_piece`). Call before the run."""
        if self.metered_power is self.power:
            self.metered_power = self.power.copy()
        self.metered_power[eq, PROCESSING] = 0.0

    def uses_carrier(self, c: int) -> bool:
        """Whether any equipment may draw carrier ``c``: in some state, or in a programme's
        phase."""
        return bool(self.power[:, :, c].any()) or any(kw[c] > 0 for kw in self._phase_kw)

    def phase_row(self, kw: Sequence[float]) -> int:
        """Register a programme phase's power per carrier [kW]; return its row for
        :meth:`add_piece`."""
        self._phase_kw.append(tuple(float(x) for x in kw))
        return len(self._phase_kw) - 1

    def add_piece(self, t0: float, t1: float, eq: int, row: int) -> None:
        """Equipment ``eq`` draws the power of phase ``row`` over ``[t0, t1)`` [s], on top of its
        state's power (0 while processing: :meth:`meter_by_phases`). ``t0`` must not be
        before the last flush; the piece may run past the next one. O(1)."""
        ps, pe, peq, prow = self._pieces
        ps.append(t0)
        pe.append(t1)
        peq.append(eq)
        prow.append(row)

    def _take_pieces(self, t_end: float) -> tuple[np.ndarray, ...] | None:
        """The pieces' parts before ``t_end`` (start, end, equipment, power per carrier); their
        parts after it are kept for the next flush. None when there are none."""
        ps, pe, peq, prow = self._pieces
        if not ps:
            return None
        s = np.frombuffer(ps, dtype=np.float64).copy()
        e = np.frombuffer(pe, dtype=np.float64).copy()
        q = np.frombuffer(peq, dtype=np.int64).copy()
        r = np.frombuffer(prow, dtype=np.int64).copy()
        rest = e > t_end
        self._pieces = (array("d", np.maximum(s[rest], t_end).tolist()),
                        array("d", e[rest].tolist()), array("q", q[rest].tolist()),
                        array("q", r[rest].tolist()))
        now = s < t_end
        kw = np.asarray(self._phase_kw, dtype=float).reshape(-1, N_CARRIERS)
        return s[now], np.minimum(e[now], t_end), q[now], kw[r[now]]

    def trace_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The kept change points as arrays: time [s], equipment, state (in the order kept);
        or those given by :meth:`set_trace_columns`."""
        if self._trace_columns is not None:
            return self._trace_columns
        if not self.trace:
            return np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        t, eq, st = (np.asarray(col) for col in zip(*self.trace, strict=True))
        return t, eq, st

    def set_trace_columns(self, t: np.ndarray, eq: np.ndarray, st: np.ndarray) -> None:
        """Give the kept change points as arrays (a split run's, merged from its parts)."""
        self._trace_columns = (np.asarray(t, dtype=float), np.asarray(eq, dtype=np.int64),
                               np.asarray(st, dtype=np.int64))

    def keep_state_time(self) -> None:
        """Also keep the time each equipment spends in each state per interval
        (:attr:`state_interval_s`), for calibration: with it, the energy of any power table is
        ``state_interval_s @ power`` without running again. Call before the run; costs one more
        binning per chunk and ``n_intervals * n_eq * N_STATES`` floats."""
        if self.state_interval_s is None:
            self.state_interval_s = np.zeros((self.n_intervals, self.n_eq * N_STATES))

    def snapshot(self, t: float, states: list[int]) -> None:
        """Add every equipment's state at ``t`` to the trace (its start)."""
        self.trace.extend((t, e, s) for e, s in enumerate(states) if s >= 0)

    def record(self, t: float, code: int) -> None:
        """Equipment ``code // N_STATES`` enters state ``code % N_STATES`` at time ``t`` [s].

        Times must not decrease between calls. O(1): one write into preallocated arrays."""
        n = self._n
        if n == self._cap:
            if self.grow:
                self._grow()
            else:
                self._flush(t)
                n = 0
        self._t[n] = t
        self._code[n] = code
        self._n = n + 1

    def _grow(self) -> None:
        """Double the record arrays (their records kept)."""
        self._cap *= 2
        self._t = np.concatenate([self._t, np.empty_like(self._t)])
        self._code = np.concatenate([self._code, np.empty_like(self._code)])

    def flush_at(self, t: float) -> None:
        """Bin every record so far, and every equipment's state, up to ``t`` [s] (no record may
        be later; a record at ``t`` itself is fine). A process of the model calls it at fixed
        times (:data:`FLUSH_S`, :func:`twin.engine._bin_daily`), with :attr:`grow` set,
        so that the segments are split at the same times in any run that meters the same
        equipment: then a part of a plant metered on its own gives, for its equipment and
        groups, the same bits as the whole plant metered at once (:mod:`twin.partition`)."""
        self._flush(t)

    def _flush(self, t_end: float) -> None:
        n = self._n
        t = self._t[:n]
        code = self._code[:n]
        if self.trace_window is not None:
            lo, hi = self.trace_window
            sel = np.flatnonzero((t >= lo) & (t < hi))
            if sel.size:
                c = code[sel]
                self.trace.extend(zip(t[sel].tolist(), (c // N_STATES).tolist(),
                                      (c % N_STATES).tolist(), strict=True))
        carried = np.flatnonzero(self._carry >= 0)
        eq = np.concatenate([carried, code // N_STATES])
        st = np.concatenate([self._carry[carried], code % N_STATES])
        ts = np.concatenate([np.full(carried.size, self._t0), t])
        order = np.argsort(eq, kind="stable")  # per equipment, still in time order
        eq, st, ts = eq[order], st[order], ts[order]
        te = np.empty_like(ts)
        te[:-1] = ts[1:]
        last = np.ones(eq.size, dtype=bool)
        last[:-1] = eq[1:] != eq[:-1]
        te[last] = t_end
        self._carry[eq[last]] = st[last]
        dur = te - ts
        self.state_s += np.bincount(eq * N_STATES + st, weights=dur,
                                    minlength=self.n_eq * N_STATES).reshape(self.n_eq, N_STATES)
        # the bins this chunk touches (from the last flush to t_end): work and temporaries
        # follow the chunk, not the run length
        n_int, step = self.n_intervals, self.interval_s
        b0 = min(math.floor(self._t0 / step), n_int - 1)
        b1 = max(min(math.floor(t_end / step) + 1, n_int), b0 + 1)
        if self.state_interval_s is not None:
            self.state_interval_s[b0:b1] += bin_segments(
                ts, te, eq * N_STATES + st, n_int, self.n_eq * N_STATES, step, bins=(b0, b1))
        p = self.metered_power[eq, st]  # (segments, carriers) [kW]
        pieces = self._take_pieces(t_end)
        if pieces is not None:  # programme phases: more segments with their own power
            ts = np.concatenate([ts, pieces[0]])
            te = np.concatenate([te, pieces[1]])
            eq = np.concatenate([eq, pieces[2]])
            p = np.concatenate([p, pieces[3]])
            dur = te - ts
        for c in range(N_CARRIERS):
            pc = p[:, c]
            use = pc > 0
            if not use.any():
                continue
            self.equipment_kwh[:, c] += np.bincount(eq[use], weights=pc[use] * dur[use] / 3600.0,
                                                    minlength=self.n_eq)
            cols = self.group[eq[use]] * N_CARRIERS + c
            self.interval_kwh[b0:b1] += bin_segments(ts[use], te[use], cols, n_int,
                                                     self.n_groups * N_CARRIERS, step,
                                                     rate=pc[use] / 3600.0, bins=(b0, b1))
        self.records += n
        self._n = 0
        self._t0 = t_end

    def close(self, t_end: float | None = None) -> None:
        """Bin what is left up to ``t_end`` (default: the horizon). Call once, after the run."""
        if not self.closed:
            self._flush(self.horizon_s if t_end is None else t_end)
            self.closed = True

    def carrier_kwh(self) -> np.ndarray:
        """Energy per interval and carrier, all groups summed [kWh], shape (intervals,
        carriers); once the meter is closed, worked out once (the EMS and the results both
        read it). Do not modify it."""
        if self.closed and self._carrier is not None:
            return self._carrier
        totals = self.interval_kwh.reshape(self.n_intervals, self.n_groups, N_CARRIERS).sum(
            axis=1)
        if self.closed:
            self._carrier = totals
        return totals



class SiteLoad:
    """Running site power per carrier and its integral, for an energy-management system that
    must know the exact energy of each settlement interval while the run goes on.

    :meth:`change` is called at every state change of every load (O(carriers)); :meth:`energy_kwh`
    returns the energy used since the start [kWh] per carrier, exactly (power is piecewise
    constant), so the energy of an interval is the difference of two calls.
    """

    __slots__ = ("_kws", "_t", "kw", "on_change")

    def __init__(self) -> None:
        self.kw = [0.0] * N_CARRIERS
        """Site power now, per carrier [kW]."""
        self._kws = [0.0] * N_CARRIERS  # integral of kw over time [kW*s]
        self._t = 0.0
        self.on_change: Callable[[float], None] | None = None
        """Called with the new site electric power [kW] after each change (strategies that wait
        for the site power to fall); None: nobody listens."""

    def change(self, now: float, old_kw: tuple, new_kw: tuple) -> None:
        """A load switches at ``now`` [s] from ``old_kw`` to ``new_kw`` (per carrier) [kW]."""
        kw = self.kw
        dt = now - self._t
        if dt:
            kws = self._kws
            for c in range(N_CARRIERS):
                kws[c] += kw[c] * dt
            self._t = now
        for c in range(N_CARRIERS):
            kw[c] += new_kw[c] - old_kw[c]
        if self.on_change is not None:
            self.on_change(kw[0])

    def energy_kwh(self, now: float) -> list[float]:
        """Energy used from time 0 to ``now`` [kWh] per carrier."""
        dt = now - self._t
        return [(self._kws[c] + self.kw[c] * dt) / 3600.0 for c in range(N_CARRIERS)]
