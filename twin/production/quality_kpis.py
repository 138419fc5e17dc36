"""Station KPIs of periodic cleaning, yield and rework (added to ``kpis.json`` only for stations
that have them, so other plants' outputs stay as they were)."""

from __future__ import annotations

from typing import Any

from twin.production.station import StationRuntime


def station_feature_kpis(rt: StationRuntime, units_per_lot: list[int], products: list[str]
                         ) -> dict[str, Any]:
    """Cleaning counts and hours, and quality figures of station ``rt``.

    * ``cleaning``: per task, times done (started) and hours; ``cleaning_h`` their sum;
    * ``quality`` = good / judged lots (OEE quality factor, Nakajima 1988), ``first_pass_yield``
      = good at first try / judged at first try (a first try: a lot never reworked before);
      ``lots_scrapped``, ``units_scrapped``, ``lots_reworked``, and the same per product.
    """
    out: dict[str, Any] = {}
    if rt.cleaners:
        tasks: dict[str, dict[str, float]] = {}
        for k, task in enumerate(rt.cleaning or []):
            tasks[task.id] = {
                "count": sum(c.count[k] for c in rt.cleaners),
                "hours": round(sum(c.seconds[k] for c in rt.cleaners) / 3600.0, 9),
            }
        out["cleaning"] = tasks
        out["cleaning_h"] = round(sum(t["hours"] for t in tasks.values()), 9)
    q = rt.quality
    if q is not None:
        judged, first = sum(q.judged), sum(q.first_judged)
        out["quality"] = round(sum(q.good) / judged, 9) if judged else 1.0
        out["first_pass_yield"] = round(sum(q.first_good) / first, 9) if first else None
        out["lots_reworked"] = sum(q.reworked)
        out["lots_scrapped"] = sum(q.scrapped)
        out["units_scrapped"] = sum(n * u for n, u in zip(q.scrapped, units_per_lot,
                                                          strict=True))
        out["by_product"] = {
            p: {"lots_judged": q.judged[k], "lots_good": q.good[k],
                "lots_reworked": q.reworked[k], "lots_scrapped": q.scrapped[k],
                "units_scrapped": q.scrapped[k] * units_per_lot[k],
                "first_pass_yield": round(q.first_good[k] / q.first_judged[k], 9)
                if q.first_judged[k] else None}
            for k, p in enumerate(products) if q.judged[k]}
    return out
