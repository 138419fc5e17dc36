"""Config of saving-mode policies: a station's switch-on threshold (N-policy) and warm-up that
depends on how long a machine was in a saving mode (cooling)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from twin.config.base import _Model


class SwitchOn(_Model):
    """Switch-on threshold (the N-policy of queueing theory): a machine of the station that is
    off (in a saving mode) switches on, i.e. warms up and starts, only when ``lots`` lots wait at
    the station (in its input and in hand), or when the oldest has waited ``max_wait_h``; it then
    serves until no lot waits (exhaustive service) and switches off again at once (``mode``).
    Yadin & Naor 1963; Heyman 1968."""

    lots: int = Field(ge=1, le=100_000, description="Lots waiting at the station that switch an "
                      "off machine on [-] (N; 1: switch on at the first lot).")
    max_wait_h: float | None = Field(
        None, gt=0, description="Longest wait of the oldest lot [h]: the machine warms up so as "
        "to be ready then, however few lots wait; omitted: no limit.")
    mode: Literal["auto", "off", "standby", "idle"] = Field(
        "auto", description="Where a machine goes as soon as no lot waits: 'off' or 'standby' "
        "(a saving mode of its equipment type), 'idle' (stays ready, but waits for the threshold "
        "before it starts), 'auto' (off if the type has it, else standby, else idle). With "
        "smart_standby on the station, smart standby decides when and to which mode the machine "
        "switches, and the threshold when it switches back on ('idle' then also holds lots that "
        "find the machine ready).")


class OffTimePoint(_Model):
    """One point of a warm-up table: the warm-up needed after this time in the saving mode."""

    off_h: float = Field(ge=0, description="Time in the saving mode [h].")
    warm_up_s: float = Field(ge=0, description="Warm-up time after it [s].")


class Cooling(_Model):
    """How the warm-up after a saving mode depends on the time spent in it: a first-order
    thermal model or a table. Omitted: the mode's fixed ``warm_up_s``."""

    time_constant_h: float | None = Field(
        None, gt=0, description="First-order cooling to ambient with this time constant tau [h]: "
        "after t in the mode the temperature to recover is the share 1 - exp(-t/tau) of the "
        "full (cold-start) rise, and the warm-up takes that share of the mode's warm_up_s, at "
        "the warm_up power.")
    table: list[OffTimePoint] | None = Field(
        None, min_length=1, description="Warm-up time against time in the mode, interpolated "
        "linearly (held constant beyond the last point, and from 0 s at 0 h before the first); "
        "off_h strictly increasing, warm_up_s not decreasing.")

    @model_validator(mode="after")
    def _one_model(self) -> Cooling:
        if (self.time_constant_h is None) == (self.table is None):
            raise ValueError("expected exactly one of 'time_constant_h' (first-order cooling) or "
                             "'table' (warm-up time against time off)")
        pts = self.table or []
        for k in range(1, len(pts)):
            if pts[k].off_h <= pts[k - 1].off_h:
                raise ValueError(f"table[{k}].off_h is {pts[k].off_h}; expected more than the "
                                 f"point before ({pts[k - 1].off_h}): off_h strictly increasing")
            if pts[k].warm_up_s < pts[k - 1].warm_up_s:
                raise ValueError(f"table[{k}].warm_up_s is {pts[k].warm_up_s}; expected at "
                                 f"least the point before ({pts[k - 1].warm_up_s}): a longer "
                                 "time off never needs a shorter warm-up")
        return self
