"""Energy supply: weather, PV, wind, storage, conversion, tariffs and the per-interval balance.

Physics and accounting are pure functions over arrays (units and references in each docstring);
the engine wires them into the simulation.
"""
