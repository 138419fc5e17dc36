"""Per-station queue figures: time-average lots waiting and in the station, mean wait.

Kept at O(1) per lot without any time-weighted area on the hot path: each lot carries the time it
entered its current station's input buffer (``lot[6]``) and the time a machine took it from there
(``lot[8]``); when it leaves the machine (handed on or finished) the machine adds its wait
(taken - arrived) and its stay (left - arrived) to two sums; the lots that left are the lots
processed less those still in hand. The area under the
curve of lots waiting over the run is then, exactly (e.g. Stidham 1974, the sample-path form of
Little's law),

    area_waiting = sum over lots taken of (taken - arrived)
                   + sum over lots still waiting of (T - arrived),

and the same for lots in the station (waiting, or at a machine: held, changing over, processing,
down, blocked) with (left - arrived) and (T - arrived) for the lots still there at the end ``T``.
So ``mean_lots_waiting = area_waiting / T`` and ``mean_lots_in_station = area_in_station / T``
(the time averages, L_q and L), and ``mean_wait_s`` is the mean of (taken - arrived) over the lots
taken (W_q; W_q = L_q / lambda by Little's law up to the lots still waiting at the end).

A lot's wait ends when a machine takes it from the buffer; time held by a scheduling strategy or
spent changing over is time at the machine. At an assembly station a kit (the lot it makes)
arrives when its last component arrives; components still waiting for their partners at the end
are not counted there.
"""

from __future__ import annotations

from typing import Any


def in_station(rt: Any) -> int:
    """Lots at station ``rt`` now: waiting in its input buffer or at one of its machines."""
    waiting = len(rt.input.items) if rt.input is not None else 0
    return waiting + sum(len(m.hand) for m in rt.machines)


def queue_figures(rt: Any, t_end: float) -> dict[str, float | int | None]:
    """Queue figures of station ``rt`` (a :class:`~twin.production.station.StationRuntime`) over
    ``[0, t_end]``: ``mean_lots_waiting`` and ``mean_lots_in_station`` [lots],
    ``mean_wait_s`` [s] (None when no lot was taken), ``lots_waiting_at_end`` and
    ``lots_in_station_at_end`` [lots]."""
    waiting = list(rt.input.items) if rt.input is not None else []
    hand = [lot for m in rt.machines for lot in m.hand]
    # lots that left = lots processed less those processed and still in hand (a tuple)
    left = sum(m.busy_lots - (len(m.hand) if isinstance(m.hand, tuple) else 0)
               for m in rt.machines)
    waited = sum(m.waited_s for m in rt.machines) + sum(lot[8] - lot[6] for lot in hand)
    censored = sum(t_end - lot[6] for lot in waiting)
    stayed = (sum(m.stayed_s for m in rt.machines) + sum(t_end - lot[6] for lot in hand)
              + censored)
    taken = left + len(hand)
    t = t_end if t_end > 0 else 1.0
    return {
        "mean_lots_waiting": (waited + censored) / t,
        "mean_lots_in_station": stayed / t,
        "mean_wait_s": waited / taken if taken else None,
        "lots_waiting_at_end": len(waiting),
        "lots_in_station_at_end": len(waiting) + len(hand),
    }
