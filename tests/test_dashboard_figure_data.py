"""The dashboard's figures show the run: each figure's data tied to the run folder.

The truth is the run folder itself, read here with pandas and json (``lots.parquet``,
``hourly.parquet``, ``kpis.json``), never the dashboard's own loader: a histogram that puts every
lot under every product, a stack that shows one group's energy under another, or a bar in kg
labelled t fails here, while it would still be valid Plotly (which ``test_dashboard_plot.py``
checks).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import twin
from twin.dashboard import figures, load

DEMO = Path(__file__).resolve().parents[1] / "plant_configs" / "demo_plant.yaml"
F32 = {"rtol": 1e-6, "atol": 1e-3}  # figures send float32 arrays


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = twin.simulate(twin.load_plant(DEMO), days=3)
    return result.save(tmp_path_factory.mktemp("figdata") / "run")


@pytest.fixture(scope="module")
def data(run: Path):
    return load(run)


@pytest.fixture(scope="module")
def hourly(run: Path) -> pd.DataFrame:
    return pd.read_parquet(run / "hourly.parquet")


@pytest.fixture(scope="module")
def kpis(run: Path) -> dict:
    return json.loads((run / "kpis.json").read_text(encoding="utf-8"))


def test_lead_time_histogram_counts_each_products_lots(run: Path, data) -> None:
    lots = pd.read_parquet(run / "lots.parquet")
    done = lots[lots["completed"].notna()]
    expected = done.groupby(done["product"].astype(str)).size()
    expected = expected[expected > 0].to_dict()
    assert len(expected) >= 2  # the demo finishes lots of two products in three days
    fig = figures.lead_times(data)
    shown = {t["name"]: int(np.sum(t["y"])) for t in fig["data"]}
    assert shown == expected
    assert sum(shown.values()) == len(done)


def test_hourly_stack_is_each_groups_hourly_energy(data, hourly: pd.DataFrame) -> None:
    fig = figures.hourly_demand(data)
    stacked: dict[str, np.ndarray] = {}
    for t in fig["data"]:
        carrier = t["stackgroup"]
        column = f"{carrier}_kwh:{t['name']}"
        np.testing.assert_allclose(t["y"], hourly[column].to_numpy(), **F32, err_msg=column)
        stacked[carrier] = stacked.get(carrier, 0.0) + np.asarray(t["y"], dtype=float)
    # the stack's top is the hour's total of the carrier over all groups
    for carrier, top in stacked.items():
        columns = [c for c in hourly.columns if c.startswith(f"{carrier}_kwh:")]
        np.testing.assert_allclose(top, hourly[columns].sum(axis=1).to_numpy(), **F32)
    # and for electricity that is the site demand (the demo has no electric energy plant)
    np.testing.assert_allclose(stacked["electricity"], hourly["electricity_demand_kwh"], **F32)


def test_energy_treemap_totals_are_the_hourly_totals(data, hourly: pd.DataFrame) -> None:
    (t,) = figures.energy_treemap(data)["data"]
    assert t["branchvalues"] == "total"
    value = dict(zip(t["ids"], t["values"], strict=True))
    children: dict[str, list[str]] = {}
    for node, parent in zip(t["ids"], t["parents"], strict=True):
        children.setdefault(parent, []).append(node)
    labels = dict(zip(t["ids"], t["labels"], strict=True))
    # each carrier's box is the site's total of it: electricity demand, gas burnt (the boiler's
    # included); heat is made from them and has no box of its own
    carriers = {"Electricity": ("electricity", "electricity_demand_kwh"),
                "Natural gas": ("natural_gas", "fuel_kwh")}
    seen = set()
    for root in children[""]:
        carrier, total_col = next(v for label, v in carriers.items()
                                  if labels[root].startswith(label))
        seen.add(carrier)
        assert value[root] == pytest.approx(hourly[total_col].sum(), rel=1e-6, abs=1e-2)
        assert value[root] == pytest.approx(sum(value[g] for g in children[root]), rel=1e-9)
        for g in children[root]:
            group = labels[g].split("<")[0].split(" · ")[0].strip()  # "group · 4,776 kWh"
            if group.startswith("energy plant"):   # the demo's boiler: gas not burnt by groups
                direct = hourly[[c for c in hourly.columns
                                 if c.startswith("natural_gas_kwh:")]].sum().sum()
                assert value[g] == pytest.approx(hourly["fuel_kwh"].sum() - direct, rel=1e-6)
                continue
            assert value[g] == pytest.approx(hourly[f"{carrier}_kwh:{group}"].sum(), rel=1e-6,
                                             abs=1e-2), (carrier, group)
            assert value[g] == pytest.approx(sum(value[e] for e in children[g]), abs=1e-2)
    assert seen == {"electricity", "natural_gas"}


def test_emission_bars_are_the_run_kpis_in_tonnes(data, kpis: dict) -> None:
    fig = figures.emissions_by_scope(data)
    bars = {t["name"]: list(t["y"]) for t in fig["data"] if t["type"] == "bar"}
    scope1 = kpis["co2_scope1_kg"] / 1000
    location, market = kpis["co2_scope2_location_kg"] / 1000, kpis["co2_scope2_market_kg"] / 1000
    assert bars["Scope 1: natural gas burnt on site"] == pytest.approx([scope1, scope1], rel=1e-6)
    loc = bars["Scope 2: grid electricity, location-based"]
    mkt = bars["Scope 2: grid electricity, market-based"]
    assert loc[0] == pytest.approx(location, rel=1e-9) and loc[1] is None
    assert mkt[0] is None and mkt[1] == pytest.approx(market, rel=1e-9)
    (totals,) = [t for t in fig["data"] if t["type"] == "scatter"]
    assert list(totals["y"]) == pytest.approx([scope1 + location, scope1 + market], rel=1e-6)


def test_storage_level_is_the_hourly_state_of_charge(data, hourly: pd.DataFrame) -> None:
    battery = next(t for t in figures.storage_levels(data)["data"] if t.get("name") == "Battery")
    np.testing.assert_allclose(battery["y"], hourly["battery_soc_kwh"].to_numpy(), **F32)
