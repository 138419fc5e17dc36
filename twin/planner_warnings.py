"""Warnings a production planner needs before trusting a run: overloaded stations, shares above
100 %, work left unfinished.

Each warning names the station (or the plant), gives the numbers and says what to do. They go into
``kpis.json`` (``warnings``), the command line summary, the dashboard and the report.

* **Overloaded station**: the offered load (``stations.<id>.offered_load``: the mean processing
  time of every lot that came to the station, processed or still waiting at the end, per batch,
  against its run time) is at least :data:`OVERLOAD` and the lots at the station grew from
  halfway through the run to its end. At an offered load of 1 or more no queue is stable (Loynes
  1962): it grows for as long as the run lasts, and so do lead times. The backlog counts in the
  offered load, so a short run shows it as clearly as a long one; the growth test keeps a station
  that only ends the run with a random long queue (offered load just under 1) quiet.
* **Utilization or OEE above 100 %**: a share of scheduled time cannot exceed 1; when it does the
  scheduled time is not the time the station works (lots finished after the shift end) or the
  lots ran faster than their mean processing time (OEE performance above 1, reported only beyond
  :data:`CHANCE_SE` standard errors of chance).
* **Work left in the plant**: lots still in the plant at the end as a share of those that entered
  (released or assembled) above :data:`OPEN_SHARE`. For a stable line that share is about the mean
  lead time over the run length (Little's law: L = lambda W, so L / (lambda T) = W / T); per-unit
  energy, carbon and lead times count only the finished lots, and the energy already spent on the
  open ones is charged to them, so at 5 % per-unit figures can be a few per cent off.
"""

from __future__ import annotations

from typing import Any

from twin.i18n import N_

OVERLOAD = 1.0
"""Offered load (work arrived / run time) at or above which a growing queue is reported."""
OVER_ONE = 1.0 + 1e-6
"""A utilization or OEE above this is reported (the KPIs are rounded to 9 digits)."""
CHANCE_SE = 3.0
"""OEE above 100 % by less than this many standard errors of a mean processing time (coefficient
of variation 1, as exponential times: SE = 1 / sqrt(lots processed)) is chance, not reported: its
performance compares the drawn processing times with their mean, and a station busy all the time
that happened to draw short ones shows an OEE just over 100 %."""
OPEN_SHARE = 0.05
"""Share of the lots entered still in the plant at the end above which the run is reported."""


def planner_warnings(model: Any, stations: dict[str, Any]) -> list[str]:
    """Warnings about stations and unfinished work (see the module doc), in station order."""
    out: list[str] = []
    mid = model.mid_in_station
    for k, (name, st) in enumerate(stations.items()):
        rho = st.get("offered_load")
        end = st["lots_in_station_at_end"]
        grew = mid is None or end > mid[k]
        if rho is not None and rho >= OVERLOAD and grew:
            trend = (N_("lots at the station grew from {mid} halfway through the run to {end} at "
                        "the end").format(mid=f"{mid[k]:,}", end=f"{end:,}") if mid is not None
                     else N_("{end} lots were at the station at the end").format(end=f"{end:,}"))
            out.append(N_(
                "station '{name}' is overloaded: offered load {rho} of its capacity (the work "
                "that came to it against its run time, {machines} machine(s)); {trend}, and its "
                "queue and lead times grow for as long as the plant runs: add a machine, shorten "
                "its processing or changeovers, or release at most {most} of the current work to "
                "it").format(name=name, rho=f"{rho:.0%}", machines=st["machines"], trend=trend,
                             most=f"{1 / rho:.0%}"))
        util, oee = st["utilization"], st["oee"]
        if util > OVER_ONE:
            out.append(N_(
                "station '{name}': utilization {util} (OEE {oee}) is above 100 % of its "
                "scheduled time ({hours} h): lots started before a shift end finished after it; "
                "give the station the shifts it really works (its own calendar) or off_shift: "
                "interrupt, so that shares of time mean what they say").format(
                    name=name, util=f"{util:.1%}", oee=f"{oee:.1%}",
                    hours=f"{st['scheduled_h']:,.1f}"))
        elif oee > OVER_ONE + CHANCE_SE / max(st["lots_processed"], 1) ** 0.5:
            out.append(N_(
                "station '{name}': OEE {oee} is above 100 % (performance {perf}): its lots were "
                "processed faster than the mean of their processing-time distributions, the "
                "ideal cycle time; check process_time against the machine's real cycle "
                "time").format(name=name, oee=f"{oee:.1%}", perf=f"{st['performance']:.1%}"))
    flow = model.flow
    entered = sum(flow.released) + sum(flow.assembled)
    if entered and flow.in_system / entered > OPEN_SHARE:
        share = flow.in_system / entered
        out.append(N_(
            "{share} of the lots that entered the plant ({open} of {entered}) are still in it at "
            "the end (above {limit}): per-unit energy, carbon and lead times count only the "
            "finished lots; run longer (lead time / run length is about that share in a stable "
            "line) or relieve an overloaded station").format(
                share=f"{share:.1%}", open=f"{flow.in_system:,}", entered=f"{entered:,}",
                limit=f"{OPEN_SHARE:.0%}"))
    return out
