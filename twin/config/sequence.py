"""Config of sequence casting: a continuous station that must be fed within a window.

A continuous caster casts a *sequence* of heats without a break: the next heat's ladle must open
before the tundish runs dry, and the tundish lasts a limited number of heats. Continuous furnaces
and float lines are fed the same way. On such a station ``sequence`` says how long it can wait
for its next lot after finishing one (``max_wait_min``), how many lots a sequence may hold at most
(``lots_per_sequence``) and what a restart costs (``restart``: setup time, energy per carrier,
yield loss). Runtime: :mod:`twin.production.sequence`.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from twin.config.base import _Model


class SequenceRestart(_Model):
    """What starting a new sequence costs (after a break or a planned end): a setup (new
    tundish, preheating, strand start) in the station's *setup* state, energy drawn during it
    on top of the setup power (tundish preheating gas), and product lost (the end of the old
    sequence and the start of the new one: tundish skull, ladle remainder, head and tail crops)."""

    setup_min: float = Field(
        0.0, ge=0, le=24 * 60, description="Time from the lot's arrival to the start of casting "
        "of a new sequence [min] (setup state: counted as changeover in OEE).")
    energy_kwh: dict[str, float] = Field(
        default_factory=dict, description="Energy per restart by carrier, drawn evenly over "
        "setup_min on top of the setup power [kWh], e.g. {natural_gas: 4000} for tundish "
        "preheating.")
    yield_loss_units: float = Field(
        0.0, ge=0, description="Units of the product lost per restart (end of the old sequence "
        "plus start of the new one); fractions allowed (0.03 = 3 t of a 100 t heat) [units].")

    @model_validator(mode="after")
    def _energy(self) -> SequenceRestart:
        from twin.config.plant import CARRIERS

        for carrier, kwh in self.energy_kwh.items():
            if carrier not in CARRIERS:
                raise ValueError(f"energy_kwh.{carrier}: unknown carrier; expected one of "
                                 f"{', '.join(CARRIERS)}")
            if not kwh >= 0 or kwh == float("inf"):
                raise ValueError(f"energy_kwh.{carrier} is {kwh}; expected a finite energy >= 0 "
                                 "[kWh]")
        if any(v > 0 for v in self.energy_kwh.values()) and self.setup_min <= 0:
            raise ValueError("energy_kwh is drawn during the restart setup; expected setup_min "
                             "> 0 with it")
        return self


class Sequence(_Model):
    """Sequence feeding of a continuous station (caster, continuous furnace, float line): a
    lot that arrives more than ``max_wait_min`` after the previous one finished breaks the
    sequence (unplanned), and a sequence that has reached ``lots_per_sequence`` lots ends
    (planned, e.g. tundish life); either way the next lot starts a new sequence after the
    ``restart``."""

    max_wait_min: float = Field(
        gt=0, description="Longest time from the end of one lot to the start of the next that "
        "the sequence survives (tundish level and casting-speed reserve) [min].")
    lots_per_sequence: int | None = Field(
        None, ge=1, description="Most lots in one sequence (tundish life) [lots]; omitted: no "
        "limit.")
    restart: SequenceRestart = Field(
        default_factory=SequenceRestart, description="What a new sequence costs.")
