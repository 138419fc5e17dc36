"""Power states of equipment (after OPC UA ECM / PROFIenergy) and the state -> power table."""

from __future__ import annotations

import numpy as np

from twin.config.plant import CARRIERS, BaseLoad, EquipmentType
from twin.energy.conversion import compressor_power_kw

STATES: tuple[str, ...] = (
    "off", "standby", "warm_up", "idle", "starved", "processing", "setup", "blocked", "down",
    "maintenance",
)
"""State names; a state's code is its index here."""
(OFF, STANDBY, WARM_UP, IDLE, STARVED, PROCESSING, SETUP, BLOCKED, DOWN, MAINTENANCE) = range(
    len(STATES)
)
N_STATES = len(STATES)
N_CARRIERS = len(CARRIERS)

DEFAULT_FROM: dict[str, str] = {
    "standby": "off",
    "warm_up": "idle",
    "starved": "idle",
    "processing": "idle",
    "setup": "idle",
    "blocked": "idle",
    "down": "off",
    "maintenance": "down",
}
"""A state not given takes the power of this one (off and idle default to 0 kW)."""


def power_table(spec: EquipmentType) -> np.ndarray:
    """Power [kW] per state and carrier, shape ``(N_STATES, N_CARRIERS)``, defaults filled in."""
    table = np.zeros((N_STATES, N_CARRIERS))
    for c, carrier in enumerate(CARRIERS):
        given = spec.power_kw.get(carrier, {})  # type: ignore[call-overload]
        for s, state in enumerate(STATES):
            name = state
            while name not in given and name in DEFAULT_FROM:
                name = DEFAULT_FROM[name]
            table[s, c] = given.get(name, 0.0)
    return table


def base_load_table(spec: BaseLoad) -> np.ndarray:
    """Power table of a base load: state ``idle`` is 'on', state ``off`` is 'off'. A
    compressed-air system draws the load/unload compressor's average electric power; an
    air-handling unit its fan power (its heating and cooling are added per interval,
    :func:`twin.engine.meter_air_handling`)."""
    table = np.zeros((N_STATES, N_CARRIERS))
    ahu = spec.air_handling
    if ahu is not None:  # the fans; heating and cooling follow the weather (energy.air_handling)
        table[IDLE, 0], table[OFF, 0] = ahu.fan_kw, ahu.setback_fan_kw
        return table
    air = spec.compressed_air
    if air is not None:
        for state, demand in ((IDLE, air.demand_m3_min), (OFF, air.off_demand_m3_min)):
            table[state, 0] = compressor_power_kw(demand, air.capacity_m3_min, air.p_load_kw,
                                                  air.p_unload_kw, air.leak_fraction)
        return table
    for c, carrier in enumerate(CARRIERS):
        table[IDLE, c] = spec.power_kw.get(carrier, 0.0)  # type: ignore[union-attr]
        table[OFF, c] = spec.off_power_kw.get(carrier, 0.0)  # type: ignore[call-overload]
    return table
