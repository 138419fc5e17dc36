"""The plant's own factors in place of the packaged ones. A user-supplied hourly grid intensity
(``carbon.hourly_factor_file``): used as given for the location-based scope 2 (no rescaling to the
annual factor), read relative to the plant file, seen by strategies as their signal, and clear
errors for a file that is missing or too short. An own natural-gas factor
(``carbon.natural_gas_kg_per_kwh``) replaces GB/T 32150's in scope 1 and is named in the report."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import twin
from twin import engine
from twin.config.errors import ConfigError, SupplyError
from twin.signals import grid_intensity

PLANT = textwrap.dedent("""
    site: {name: s, timezone: Asia/Shanghai, latitude: 31, longitude: 121}
    simulation: {days: 2, start: 2025-01-06}
    products: [{id: p, route: [a]}]
    equipment_types: [{id: t, power_kw: {electricity: {idle: 10, processing: 10}}}]
    lines: [{id: l, stations: [{id: a, equipment: t,
             process_time: {dist: constant, value: 600}}]}]
    sources: [{id: src, kind: arrivals, product_mix: {p: 1},
               interarrival: {dist: constant, value: 3600}}]
    carbon: {hourly_factor_file: grid/intensity.csv}
""")


def _write(tmp_path, hours: int = 48, start: str = "2025-01-06 00:00") -> np.ndarray:
    """Hourly intensities: 0.3 at night (0-8 h), 0.8 by day."""
    (tmp_path / "grid").mkdir(exist_ok=True)
    idx = [f"{np.datetime64(start.replace(' ', 'T')) + np.timedelta64(h, 'h')}"
           for h in range(hours)]
    ef = np.array([0.3 if h % 24 < 8 else 0.8 for h in range(hours)])
    rows = "\n".join(f"{t.replace('T', ' ')},{v}" for t, v in zip(idx, ef, strict=True))
    (tmp_path / "grid" / "intensity.csv").write_text(
        "# hourly grid intensity, local time\ntimestamp,kg_co2_per_kwh\n" + rows + "\n")
    return ef


def test_hourly_file_is_used_as_given(tmp_path):
    ef = _write(tmp_path)
    (tmp_path / "plant.yaml").write_text(PLANT)
    res = twin.simulate(twin.load_plant(tmp_path / "plant.yaml"))  # path relative to the file
    hourly = res.hourly
    # a flat 10 kW load: 10 kWh every hour, each at its own hour's intensity
    np.testing.assert_allclose(hourly["grid_ef_kg_per_kwh"].to_numpy(), ef)
    np.testing.assert_allclose(hourly["co2_scope2_location_kg"].to_numpy(), 10 * ef)
    assert res.kpis["co2_scope2_location_kg"] == pytest.approx(10 * ef.sum(), rel=1e-9)
    # (16 x 0.3 + 32 x 0.8) x 10 = 304 kg: not the annual Jiangsu/national factor x 480 kWh
    assert res.kpis["co2_scope2_location_kg"] == pytest.approx(304.0, rel=1e-9)


def test_strategies_read_the_same_series(tmp_path):
    ef = _write(tmp_path)
    (tmp_path / "plant.yaml").write_text(PLANT)
    plant = twin.load_plant(tmp_path / "plant.yaml")
    model = engine.build(plant, 2, plant.simulation.start, 0)
    got = grid_intensity(plant, model.clock, 192, 900.0)
    np.testing.assert_allclose(got, np.repeat(ef, 4))


def test_file_that_does_not_cover_the_run_fails_before_the_run(tmp_path):
    _write(tmp_path, hours=24)
    (tmp_path / "plant.yaml").write_text(PLANT)
    plant = twin.load_plant(tmp_path / "plant.yaml")
    with pytest.raises(SupplyError, match=r"^carbon\.hourly_factor_file: "):
        twin.simulate(plant)


def test_missing_file_and_conflicting_options(tmp_path):
    (tmp_path / "plant.yaml").write_text(PLANT)
    with pytest.raises(SupplyError, match=r"^carbon\.hourly_factor_file: "):
        twin.simulate(twin.load_plant(tmp_path / "plant.yaml"))
    shape = ",".join(["1"] * 24)
    (tmp_path / "p2.yaml").write_text(PLANT.replace(
        "carbon: {hourly_factor_file: grid/intensity.csv}",
        f"carbon: {{hourly_factor_file: x.csv, hourly_shape: [{shape}]}}"))
    with pytest.raises(ConfigError, match="hourly_factor_file alone"):
        twin.load_plant(tmp_path / "p2.yaml")


def test_own_natural_gas_factor_replaces_the_packaged_one(tmp_path):
    """scope 1 = gas kWh x the plant's factor; the report names it as the user's."""
    text = PLANT.replace(
        "equipment_types: [{id: t, power_kw: {electricity: {idle: 10, processing: 10}}}]",
        "equipment_types: [{id: t, power_kw: {electricity: {idle: 10, processing: 10},"
        " natural_gas: {idle: 50, processing: 50}}}]").replace(
        "carbon: {hourly_factor_file: grid/intensity.csv}",
        "carbon: {natural_gas_kg_per_kwh: 0.21}")
    (tmp_path / "plant.yaml").write_text(text)
    res = twin.simulate(twin.load_plant(tmp_path / "plant.yaml"))
    assert res.kpis["co2_scope1_kg"] == pytest.approx(50 * 48 * 0.21, rel=1e-9)
    assert res.kpis["carbon"]["natural_gas_kg_per_kwh"] == 0.21
    from twin.report import write_report

    res.save(tmp_path / "run")
    write_report(tmp_path / "run")
    md = (tmp_path / "run" / "report.md").read_text()
    assert "0.2100 kgCO₂/kWh LHV" in md and "carbon.natural_gas_kg_per_kwh" in md
