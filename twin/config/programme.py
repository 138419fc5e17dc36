"""Power programmes: a machine's processing power as a sequence of phases.

A jet dyeing machine follows its temperature programme (fill, heat to 130 C at full steam, hold at
a trickle, cool, rinse); an electric-arc furnace melts in stages at different transformer taps
(bore-down, main melting, flat bath). Such a step has no single processing power. A *programme*
gives it as phases, each lasting a ``share`` of the step's processing time (the usual way: the
time of a step is random, the recipe's proportions are not) or a fixed ``duration_s`` (then the
step's processing time must be constant and equal to their sum), and each drawing its own power
per carrier (a carrier a phase does not name draws the equipment type's processing power).

The programme belongs to the recipe: a station's ``programme_by_product`` (the product's step on
that machine) wins over its equipment type's ``programme`` (the machine's default). Energy of a
step = sum over phases of power x phase duration, exactly; the meter splits each phase across the
settlement intervals it spans (:mod:`twin.production.programme`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from twin.config.base import Carrier, Id, _Model

SHARE_TOLERANCE = 1e-6
"""How far the shares of a programme may sum from 1 (rounding of written decimals) [-]."""


class Phase(_Model):
    """One phase of a power programme: how long it lasts and what it draws."""

    id: Id = Field(description="Name of the phase, e.g. 'heat_up', 'bore_down'.")
    share: float | None = Field(
        None, gt=0, le=1, description="Share of the step's processing time the phase lasts [-] "
        "(the shares of a programme sum to 1).")
    duration_s: float | None = Field(
        None, gt=0, description="Fixed duration of the phase [s] (then the step's processing "
        "time must be constant and equal to the sum of the durations).")
    power_kw: dict[Carrier, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="Power during the phase per carrier [kW]; a carrier "
        "left out draws the equipment type's processing power.")

    @model_validator(mode="after")
    def _one_length(self) -> Phase:
        if (self.share is None) == (self.duration_s is None):
            raise ValueError(f"phase '{self.id}' needs exactly one of share or duration_s")
        return self


def _covers(phases: list[Phase]) -> list[Phase]:
    """Phases all by share summing to 1, or all by duration_s (checked against the step's
    processing time by :func:`twin.config.checks.check_references`)."""
    by_share = [p.share is not None for p in phases]
    if any(by_share) and not all(by_share):
        raise ValueError("mixes share and duration_s phases; expected every phase with a share "
                         "(of a random processing time) or every phase with a duration_s")
    if all(by_share):
        total = math.fsum(p.share for p in phases)  # type: ignore[misc]
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(f"the phases' shares sum to {total:.6g}; expected 1 (the phases "
                             "must cover the processing time)")
    ids = [p.id for p in phases]
    dup = next((i for i in ids if ids.count(i) > 1), None)
    if dup is not None:
        raise ValueError(f"phase id '{dup}' is used twice; expected unique phase ids")
    return phases


Programme = Annotated[list[Phase], Field(min_length=1), AfterValidator(_covers)]
"""A power programme: phases in the order they run, covering the whole processing time."""


def programme_seconds(phases: list[Phase]) -> float | None:
    """Total of the phases' fixed durations [s]; None for a programme by shares."""
    if phases[0].share is not None:
        return None
    return math.fsum(p.duration_s for p in phases)  # type: ignore[misc]


def cumulative_shares(phases: list[Phase]) -> list[float]:
    """End of each phase as a share of the step's processing time [-], the last exactly 1."""
    if phases[0].share is not None:
        parts = [float(p.share) for p in phases]  # type: ignore[arg-type]
    else:
        parts = [float(p.duration_s) for p in phases]  # type: ignore[arg-type]
    total = math.fsum(parts)
    ends, run = [], 0.0
    for x in parts:
        run += x
        ends.append(run / total)
    ends[-1] = 1.0
    return ends


def average_kw(phases: list[Phase], processing_kw: Sequence[float],
               carriers: Sequence[str]) -> list[float]:
    """Time-weighted average power of a programme per carrier [kW], in the order of
    ``carriers``: sum of phase power x phase length over the processing time (a carrier a phase
    does not name draws ``processing_kw``, the equipment type's processing power). This is the
    single processing power that meters the same energy per step."""
    ends = cumulative_shares(phases)
    weights = [e - s for s, e in zip([0.0, *ends[:-1]], ends, strict=True)]
    return [math.fsum(w * p.power_kw.get(c, processing_kw[k])  # type: ignore[call-overload]
                      for w, p in zip(weights, phases, strict=True))
            for k, c in enumerate(carriers)]

