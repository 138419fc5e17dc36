"""Power programmes at run time: the phases of a processing step, metered without events.

A station whose equipment type or products have a programme (:mod:`twin.config.programme`) gets a
:class:`StationProgrammes`; its machines' processing state then draws nothing from their power
table, and every product processed there runs a programme (a product without one runs a single
phase at the type's processing power, which meters the same energy as the plain state).

When a stretch of processing starts, the production process
(:func:`twin.production.station.operate`) calls :meth:`StationProgrammes.run` with where the step
is in its programme and how long the stretch lasts. It knows both (the stretch ends at the step's
end, or at a failure or a shift end drawn before it starts), so every phase of the stretch is
written to the meter at once as a piece of constant power (:meth:`twin.metering.Meter.add_piece`),
and no SimPy event marks a phase boundary. The meter integrates the pieces exactly, split at
settlement intervals.

Interruptions: a failure or an ``off_shift: interrupt`` shift end pauses the programme with the
step; the machine draws its *down* (or break) power meanwhile, and the programme resumes where it
was, counted in processing time (a dyeing machine that was heating goes on heating for the rest
of its heating phase). Energy per step is therefore the programme's whatever the interruptions.

With strategies, the running site power (:class:`twin.metering.SiteLoad`) is kept too: each phase
boundary inside a stretch is then one timeout whose callback updates it (only in plants with both
programmes and strategies).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twin.config.programme import Phase, average_kw, cumulative_shares
from twin.metering import Meter, SiteLoad


class StationProgrammes:
    """The programme of each product at one station, registered in the meter.

    Parameters
    ----------
    programmes : list of (list of Phase or None)
        Per product index: its phases (None: the product does not visit, or runs the plain
        processing power as one phase).
    processing_kw : sequence of float
        The equipment type's processing power per carrier [kW] (a carrier a phase leaves out
        draws this, and so does a product without a programme).
    carriers : sequence of str
        Carrier names in meter order.
    meter : Meter
    env : simpy.Environment
    site : SiteLoad or None
        The running site power, kept when the plant has strategies.
    """

    __slots__ = ("_env", "_meter", "_site", "_table")

    def __init__(self, programmes: Sequence[list[Phase] | None], processing_kw: Sequence[float],
                 carriers: Sequence[str], meter: Meter, env: Any, site: SiteLoad | None = None):
        self._meter = meter
        self._env = env
        self._site = site
        plain = ([1.0], [meter.phase_row(processing_kw)], [tuple(map(float, processing_kw))])
        self._table: list[tuple[list[float], list[int], list[tuple[float, ...]]]] = []
        for phases in programmes:
            if phases is None:
                self._table.append(plain)
                continue
            kws = [tuple(float(ph.power_kw.get(c, processing_kw[k]))  # type: ignore[call-overload]
                         for k, c in enumerate(carriers)) for ph in phases]
            self._table.append((cumulative_shares(phases), [meter.phase_row(kw) for kw in kws],
                                kws))

    def run(self, eq: int, product: int, now: float, offset_s: float, length_s: float,
            total_s: float) -> None:
        """Meter the phases of one stretch of processing of equipment ``eq``.

        The step of ``product`` lasts ``total_s`` of processing [s]; the stretch starts at
        ``now`` [s], ``offset_s`` into the step, and lasts ``length_s`` [s]."""
        if length_s <= 0:
            return
        ends, rows, kws = self._table[product]
        add = self._meter.add_piece
        stop = offset_s + length_s
        a = offset_s
        t_end = now + length_s
        site = self._site
        pieces: list[tuple[float, float, int]] = []
        for k, cum in enumerate(ends):
            b = total_s * cum
            if b <= a and k < len(ends) - 1:
                continue
            last = b >= stop or k == len(ends) - 1
            t0 = now + (a - offset_s)
            t1 = t_end if last else now + (b - offset_s)
            if t1 > t0:
                add(t0, t1, eq, rows[k])
                if site is not None:
                    pieces.append((t0, t1, k))
            if last:
                break
            a = b
        if site is not None and pieces:
            self._site_changes(now, pieces, kws)

    def _site_changes(self, now: float, pieces: list[tuple[float, float, int]],
                      kws: list[tuple[float, ...]]) -> None:
        """Update the running site power at each piece's start and at the stretch's end."""
        env, site = self._env, self._site
        zero = (0.0,) * len(kws[0])
        prev = zero
        changes = [(t0, kws[k]) for t0, _, k in pieces] + [(pieces[-1][1], zero)]
        for t, kw in changes:
            if t <= now:
                site.change(now, prev, kw)  # type: ignore[union-attr]
            else:
                ev = env.timeout(t - now)
                ev.callbacks.append(
                    lambda _e, a=prev, b=kw: site.change(env.now, a, b))  # type: ignore[union-attr]
            prev = kw


def station_programmes(station: Any, etype: Any, product_ids: Sequence[str]
                       ) -> list[list[Phase] | None] | None:
    """Per product index, the phases ``station`` runs for it (its ``programme_by_product``, else
    the equipment type's ``programme``; None for a product without either); None when the
    station has no programme at all (the plain processing state, nothing to pay per lot)."""
    if not station.programme_by_product and etype.programme is None:
        return None
    return [station.programme_by_product.get(pid, etype.programme) for pid in product_ids]


AVERAGE_TOLERANCE = 0.01
"""How far a type's processing power may lie from its programme's average before a warning [-]."""


def programme_warnings(plant: Any) -> list[str]:
    """Warnings for programmes whose average power differs from the equipment type's
    ``processing`` power by more than :data:`AVERAGE_TOLERANCE` (and 0.1 kW): the meter follows
    the phases, but what estimates a step's power before it runs (peak shaving, PV following,
    smart standby, the flexibility record) and calibration's state-time fit read ``processing``,
    so it should be the programme's average (:func:`twin.config.programme.average_kw`)."""
    from twin.config.plant import CARRIERS
    from twin.equipment.states import PROCESSING, power_table
    from twin.i18n import N_

    types = {t.id: t for t in plant.equipment_types or ()}
    seen: set[tuple[str, int]] = set()
    out: list[str] = []
    for _, _, st in plant.stations():
        et = types[st.equipment]
        processing = [float(x) for x in power_table(et)[PROCESSING]]
        for phases in (et.programme, *st.programme_by_product.values()):
            if phases is None or (et.id, id(phases)) in seen:
                continue
            seen.add((et.id, id(phases)))
            avg = average_kw(phases, processing, CARRIERS)
            for c, (a, p) in enumerate(zip(avg, processing, strict=True)):
                if abs(a - p) > max(AVERAGE_TOLERANCE * max(a, p), 0.1):
                    out.append(N_(
                        "equipment type '{type}' (station '{station}'): its programme averages "
                        "{avg} kW of {carrier}, its processing power is {kw} kW; strategies' "
                        "start estimates and calibration read the processing power: write the "
                        "programme's average there").format(
                            type=et.id, station=st.id, avg=f"{a:,.1f}", carrier=CARRIERS[c],
                            kw=f"{p:,.1f}"))
    return out

