"""Build the optional run-time parts of a station from its config: the from-to setup matrix,
periodic setups and cleaning (:mod:`twin.production.cleaning`), yield and rework
(:mod:`twin.production.quality`). A station without them keeps ``None`` in their place, and its
machines run exactly as before."""

from __future__ import annotations

from twin.config.plant import Plant, Station
from twin.production.cleaning import CleaningTask
from twin.production.quality import QualityGate
from twin.production.station import StationRuntime
from twin.streams import Streams


def station_features(rt: StationRuntime, s: Station, plant: Plant, pidx: dict[str, int],
                     streams: Streams) -> None:
    """Set ``rt.setup_pairs``, ``rt.cleaning`` and ``rt.quality`` from station ``s``.

    Setup matrix: a pair given draws from its own stream ``station:<id>:setup:<from>:<to>``; a
    pair not given falls back to ``setup_time`` (stream ``station:<id>:setup``), or to no
    changeover at all when the station has no ``setup_time``."""
    n = len(plant.products)
    if s.setup_matrix:
        fallback = rt.setup
        pairs = [[fallback] * n for _ in range(n)]
        for a, row in s.setup_matrix.items():
            for b, dist in row.items():
                pairs[pidx[a]][pidx[b]] = streams.sampler(f"station:{s.id}:setup:{a}:{b}", dist)
        rt.setup_pairs = pairs
        if rt.setup is None:  # the changeover branch is taken; a missing pair draws nothing
            rt.setup = _never
    if s.cleaning:
        rt.cleaning = [
            CleaningTask(c.id, c.every_lots,
                         c.every_processing_h * 3600.0 if c.every_processing_h else None,
                         streams.sampler(f"station:{s.id}:cleaning:{c.id}", c.duration))
            for c in s.cleaning]
    q = s.quality
    if q is not None:
        yields = [q.yield_by_product.get(p.id, q.yield_fraction) for p in plant.products]
        rework = None
        if q.rework_to is not None:
            rework = [{k: max(j for j in range(k + 1) if p.route[j] == q.rework_to)
                       for k, sid in enumerate(p.route) if sid == s.id}
                      if s.id in p.route else {} for p in plant.products]
        rt.quality = QualityGate(yields, rework, q.max_rework,
                                 streams.generator(f"station:{s.id}:quality"))


def _never() -> float:  # pragma: no cover - never drawn (pairs are looked up instead)
    raise AssertionError("setup drawn without its pair")
