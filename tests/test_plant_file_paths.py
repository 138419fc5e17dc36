"""Plant files written next to results (calibrated_plant.yaml, sized_plant.yaml) name the same
data files as the plant they come from: every relative path is rebased to the new folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from twin.config.loader import PLANT_FILE_FIELDS, load_plant, read_yaml, rebase_file_paths

PLANTS = Path(__file__).resolve().parent.parent / "plant_configs"


def test_every_relative_data_file_is_rebased_by_hand(tmp_path):
    src, dst = tmp_path / "a" / "plants", tmp_path / "out" / "run"
    data = {
        "energy": {"weather": {"file": "w.csv"},
                   "grid": {"tariff": {"price_file": {"file": "prices/p.csv"}}},
                   "pv": [{"id": "roof", "profile": {"file": "pv.csv"}}, {"id": "plain"}],
                   "wind": [{"id": "t", "profile": {"file": "/abs/wind.csv"}}]},
        "carbon": {"hourly_factor_file": "ef.csv"},
        "sources": [{"id": "mes", "kind": "orders", "file": "orders/o.csv"},
                    {"id": "rand", "kind": "arrivals"}],
    }
    rebase_file_paths(data, src, dst)
    up = os.path.join("..", "..", "a", "plants")
    assert data["energy"]["weather"]["file"] == os.path.join(up, "w.csv")
    assert data["energy"]["grid"]["tariff"]["price_file"]["file"] == os.path.join(
        up, "prices", "p.csv")
    assert data["energy"]["pv"] == [{"id": "roof", "profile": {"file": os.path.join(up, "pv.csv")}},
                                    {"id": "plain"}]
    assert data["energy"]["wind"][0]["profile"]["file"] == "/abs/wind.csv"  # absolute: kept
    assert data["carbon"]["hourly_factor_file"] == os.path.join(up, "ef.csv")
    assert data["sources"] == [{"id": "mes", "kind": "orders",
                                "file": os.path.join(up, "orders", "o.csv")},
                               {"id": "rand", "kind": "arrivals"}]
    assert len(PLANT_FILE_FIELDS) == 6


def _normalised(value):
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    if isinstance(value, str) and os.path.isabs(value):
        return os.path.normpath(value)
    return value


@pytest.mark.parametrize("name", sorted(p.name for p in PLANTS.glob("*.yaml")))
def test_a_rebased_shipped_plant_loads_the_same_files_from_elsewhere(tmp_path, name):
    """Every shipped plant, written into another folder with its paths rebased, loads to the same
    plant (file paths compared once made absolute): no data file it names is missed."""
    data, _ = read_yaml(PLANTS / name)  # (YAML 1.1 would read the state 'off' as false)
    where = tmp_path / "deep" / "er"
    where.mkdir(parents=True)
    rebase_file_paths(data, PLANTS, where)
    (where / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = _normalised(load_plant(PLANTS / name).model_dump(mode="json"))
    after = _normalised(load_plant(where / name).model_dump(mode="json"))
    assert after == before
