"""Reference plants (issue 18): every plant file in ``plant_configs/`` that names its sector
(``site.sector``, other than ``other``) validates, runs a week, balances its electricity in every
interval, and lands inside each of its sector's published ranges it can be compared on
(``twin/data/sector_ranges.csv``), on at least one of them.

The plants are found, not listed: a new reference plant is checked by adding its file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

import twin
from twin.config.loader import load_plant

CONFIGS = Path(__file__).resolve().parents[1] / "plant_configs"


def _reference_plants() -> list[Path]:
    out = []
    for path in sorted(CONFIGS.glob("*.yaml")):
        site = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("site") or {}
        if site.get("sector") not in (None, "other"):
            out.append(path)
    return out


REFERENCE_PLANTS = _reference_plants()


def electricity_balances(iv) -> None:
    """Per interval [kWh]: pv + wind + chp - curtailed + discharge + import + unserved ==
    demand + charge + export."""
    supply = (iv["pv_kwh"] + iv["wind_kwh"] + iv["chp_kwh"] - iv["curtailed_kwh"]
              + iv["battery_discharge_kwh"] + iv["grid_import_kwh"] + iv["unserved_kwh"])
    use = iv["electricity_demand_kwh"] + iv["battery_charge_kwh"] + iv["grid_export_kwh"]
    np.testing.assert_allclose(supply, use, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("path", REFERENCE_PLANTS, ids=[p.stem for p in REFERENCE_PLANTS])
def test_reference_plant_runs_a_week_and_lands_in_its_sector_range(path):
    plant = load_plant(path)
    days = min(7.0, plant.simulation.days)
    result = twin.simulate(plant, days=days, progress=False)
    electricity_balances(result.intervals)
    sector = result.kpis["sector"]
    assert sector["sector"] == plant.site.sector
    rows = sector["comparisons"]
    compared = [r for r in rows if r["verdict"] != "not_comparable"]
    assert compared, f"{path.name}: no range of {plant.site.sector} it can be compared on: " \
        + "; ".join(str(r["reason"]) for r in rows)
    off = [f"{r['metric']} {r['value']:.4g} not in [{r['low']}, {r['high']}]"
           for r in compared if r["verdict"] != "within"]
    assert not off, f"{path.name}: " + "; ".join(off)
