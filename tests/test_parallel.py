"""Independent parts simulated apart (twin.parallel): their merged meter is the whole plant's,
bit for bit, and they finish the same lots at the same times."""

from __future__ import annotations

import numpy as np
import pytest
from test_partition import three_lines

from twin import engine
from twin.parallel import part_plant, simulate_parts
from twin.partition import find_parts


@pytest.fixture(scope="module")
def plant_and_whole():
    """Three independent lines with failures, predictive maintenance and an energy supply,
    run as one plant for 2 days (days cross the meter's daily binning)."""
    plant = three_lines()
    model = engine.build(plant, 2, plant.simulation.start, 5)
    engine.run(model, progress=False)
    return plant, model


@pytest.mark.parametrize("jobs", [1, 2])
def test_merged_meter_is_the_whole_plants_bit_for_bit(plant_and_whole, jobs):
    plant, whole = plant_and_whole
    merged, runs = simulate_parts(plant, days=2, seed=5, jobs=jobs)
    assert len(runs) == 3
    m = whole.meter
    assert np.array_equal(merged.interval_kwh, m.interval_kwh)
    assert np.array_equal(merged.state_s, m.state_s)
    assert np.array_equal(merged.equipment_kwh, m.equipment_kwh)
    assert merged.records == m.records
    assert sum(r.lots_completed for r in runs) == sum(whole.flow.completed)
    # the failures and the condition monitor did act (else the check would be weak)
    from twin.equipment.states import DOWN
    assert (m.state_s[:, DOWN] > 0).sum() >= 3


def test_each_part_finishes_the_same_lots_at_the_same_times(plant_and_whole):
    """Split-invariant random streams: a part run alone releases and finishes exactly the lots
    it does in the whole plant (release and completion times bit for bit)."""
    plant, whole = plant_and_whole
    c = whole.flow.completions()
    names = np.array(whole.flow.products)
    got = []
    for part in find_parts(plant).parts:
        model = engine.build(part_plant(plant, part), 2, plant.simulation.start, 5)
        engine.run(model, progress=False)
        pc = model.flow.completions()
        got += list(zip(np.array(model.flow.products)[pc["product"]].tolist(),
                        pc["released_s"].tolist(), pc["completed_s"].tolist(), strict=True))
    want = list(zip(names[c["product"]].tolist(), c["released_s"].tolist(),
                    c["completed_s"].tolist(), strict=True))
    assert len(want) > 1000 and sorted(got) == sorted(want)


def test_a_coupled_plant_is_not_run_in_parts():
    plant = three_lines(strategies=[{"type": "peak_shaving", "limit_kw": 40,
                                     "stations": ["s2b"]}])
    with pytest.raises(ValueError, match="does not split: strategy 'peak_shaving'"):
        simulate_parts(plant, days=1, jobs=1)
