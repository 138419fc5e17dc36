"""Carbon-aware scheduling: start flexible work in the hours of low grid carbon intensity.

A lot at a deferrable station starts when the grid intensity now (``signals.grid_ef``, the hourly
shape of the location-based factor) is within the lowest ``quantile`` of the intensities over its
*window*: from now to its latest start for its due date (see :mod:`twin.strategies._gating`), at
most ``window_h`` ahead. Otherwise it waits for the first interval in the window whose intensity
is at or below that quantile, and looks again there (the window has shrunk meanwhile). With the
due date near, the window is short and the lot starts at the best of what is left; at its latest
start it starts whatever the intensity.

The quantile of a window of w intervals costs O(w) (numpy partition) per look.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import simpy
from pydantic import Field

from twin.config.errors import ConfigIssue
from twin.config.plant import ELECTRICITY
from twin.strategies import StrategyParams, register_strategy
from twin.strategies._gating import FlexibleParams, FlexibleStart, check_stations

if TYPE_CHECKING:
    from twin.config.plant import Plant
    from twin.engine import Model
    from twin.equipment.machine import Machine
    from twin.production.station import StationRuntime


class CarbonParams(FlexibleParams):
    quantile: float = Field(
        0.25, gt=0, le=1, description="Start when the grid intensity now is within this lowest "
        "share of the intensities over the window [-].")
    window_h: float = Field(
        24.0, gt=0, description="Longest look-ahead [h]; the due date shortens it.")


def low_threshold(ef: np.ndarray, quantile: float) -> float:
    """The ``quantile`` of the intensities ``ef`` [kgCO2/kWh] (lower interpolation: a value that
    occurs, so that some interval of the window meets it)."""
    return float(np.quantile(ef, quantile, method="lower"))


@register_strategy("carbon_aware")
class CarbonAware(FlexibleStart):
    """Start flexible work when grid intensity is in the low part of the window before its due
    date."""

    Params = CarbonParams
    params: CarbonParams

    @classmethod
    def check(cls, plant: Plant, params: StrategyParams) -> list[ConfigIssue]:
        assert isinstance(params, CarbonParams)
        issues = check_stations(params, plant, cls.name)
        if plant.carbon is None or (plant.carbon.hourly_shape is None
                                    and plant.carbon.hourly_factor_file is None):
            issues.append(ConfigIssue(
                "", "carbon_aware needs an hourly grid-intensity profile (a flat factor gives no "
                "hour to prefer); expected carbon.hourly_shape with 24 values or "
                "carbon.hourly_factor_file"))
        return issues

    def prepare(self, model: Model) -> None:
        sig = model.signals
        self.sig = sig
        self.ef = sig.grid_ef_per_interval
        self.window_s = self.params.window_h * 3600.0

    def decide(self, now: float, m: Machine, rt: StationRuntime, lots: list[list],
               latest: float) -> float | simpy.Event:
        sig = self.sig
        k = sig.interval(now)
        end = min(latest, now + self.window_s, sig.n_intervals * sig.interval_s)
        k_end = max(sig.interval(end - 1e-6), k)
        window = self.ef[k : k_end + 1]
        low = low_threshold(window, self.params.quantile)
        if window[0] <= low + 1e-12:
            return now
        ahead = np.flatnonzero(window <= low + 1e-12)
        return (k + int(ahead[0])) * sig.interval_s if ahead.size else math.inf

    def report(self, model: Model) -> dict:
        """Holds (see the base) and the grid emissions at the intensity profile the strategy
        saw (``co2_at_signal_intensity_kg``, see :func:`grid_co2_at_signal`)."""
        out = super().report(model)
        out.update({"quantile": self.params.quantile, "window_h": self.params.window_h,
                    "co2_at_signal_intensity_kg": grid_co2_at_signal(model)})
        return out


def grid_co2_at_signal(model: Model) -> float:
    """Grid electricity of the run weighted by the published hourly intensity [kgCO2]:
    sum_k import_k [kWh] x EF_k [kgCO2/kWh], with EF the configured hourly shape scaled so that its
    *plain* mean is the annual factor (:mod:`twin.signals`).

    The location-based scope 2 in ``kpis.json`` scales the shape by the run's own import instead
    (its import-weighted mean is the annual factor, :func:`twin.carbon.factors.hourly_grid_factor`),
    so it equals annual factor x import whatever the timing, and cannot show a shift in time; this
    figure, on a profile fixed before the run, can."""
    ems = model.ems
    if ems is not None:
        imp = np.asarray(ems.arrays()["grid_import"], dtype=float)
    else:
        imp = model.meter.carrier_kwh()[:, ELECTRICITY]
    ef = model.signals.grid_ef_per_interval
    return float(np.dot(imp[: len(ef)], ef[: len(imp)]))
