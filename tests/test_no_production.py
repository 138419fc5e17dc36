"""Plants without production (no products, equipment types, lines or sources): an office or
utility building, a data centre. Checked against hand totals of their base loads, against the
data centre run with its former placeholder line, and against config hashes pinned before the
feature existed.

The hand case (``office``): lights 40 kW always on (group facility), HVAC 60 kW in the shifts
and 5 kW outside them (group hvac), shifts Monday to Friday 08:00-18:00. A week from Monday
2026-01-05 (no holiday given): lights 40 x 168 = 6,720 kWh; HVAC 5 x 10 h x 60 + (168 - 50) h
x 5 = 3,000 + 590 = 3,590 kWh; site 10,310 kWh, all from the grid (no energy block).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import twin
from twin.cli import main
from twin.config.calibration import plant_at
from twin.config.errors import ConfigError
from twin.config.loader import read_yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "plant_configs"

OFFICE: dict = {
    "site": {"name": "Office building", "latitude": 31.2, "longitude": 121.5},
    "simulation": {"start": "2026-01-05", "days": 7, "seed": 3},
    "calendar": {"shifts": {"day": {"start": "08:00", "end": "18:00"}},
                 "week": {d: ["day"] for d in ("mon", "tue", "wed", "thu", "fri")}},
    "base_loads": [
        {"id": "lights", "group": "facility", "power_kw": {"electricity": 40}},
        {"id": "hvac", "group": "hvac", "power_kw": {"electricity": 60},
         "off_power_kw": {"electricity": 5}, "schedule": "shifts"},
    ],
}
LIGHTS_KWH, HVAC_KWH = 40.0 * 168, 5 * 10 * 60.0 + (168 - 50) * 5.0
SITE_KWH = LIGHTS_KWH + HVAC_KWH  # 10,310 kWh


def write(tmp_path: Path, data: dict, name: str = "plant.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --- a base-loads-only plant runs and balances -------------------------------------------------

def test_a_base_loads_only_plant_balances_to_the_hand_total(tmp_path):
    plant = twin.load_plant(write(tmp_path, OFFICE))
    assert not plant.has_production
    r = twin.simulate(plant, progress=False)
    k = r.kpis
    assert k["electricity_kwh"] == pytest.approx(SITE_KWH, rel=1e-12)
    assert k["energy_by_group_kwh"] == {"facility": {"electricity": pytest.approx(LIGHTS_KWH)},
                                        "hvac": {"electricity": pytest.approx(HVAC_KWH)}}
    h = r.hourly
    assert h["electricity_demand_kwh"].sum() == pytest.approx(SITE_KWH, rel=1e-12)
    np.testing.assert_allclose(h["grid_import_kwh"], h["electricity_demand_kwh"], rtol=1e-12)
    # the HVAC hour by hand: Monday 08:00-09:00 60 kWh, Monday 18:00-19:00 5 kWh
    assert h["electricity_kwh:hvac"].iloc[8] == pytest.approx(60.0)
    assert h["electricity_kwh:hvac"].iloc[18] == pytest.approx(5.0)
    assert (h["units_completed"] == 0).all()  # the column is there, zeros (results contract)
    # the production KPIs are left out, not reported as zero lots
    assert k["production"] is False and k["stations"] == {}
    for key in ("units_completed", "lots_completed", "mean_lead_time_h", "mean_wip_lots",
                "throughput_lots_per_h", "products", "due_dates"):
        assert key not in k, key
    assert k["kwh_per_unit"] is None and k["co2_kg_per_unit"] is None


def test_run_folder_kpis_dashboard_and_report_have_no_production_sections(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(write(tmp_path, OFFICE)), "--out", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "production       none (base loads and profiles only)" in summary
    assert "units completed" not in summary and "busiest stations" not in summary
    k = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assert k["production"] is False and "units_completed" not in k
    assert k["electricity_kwh"] == pytest.approx(SITE_KWH, rel=1e-9)
    page = (out / "dashboard.html").read_text(encoding="utf-8")
    for gone in ('id="lead-time"', 'id="station-table-section"', 'id="states"',
                 "Units completed", "No lot was finished", "Mean lead time",
                 "Electricity per unit", "production rises with the shifts"):
        assert gone not in page, gone
    assert 'id="hourly"' in page and "the plant has no production" in page
    assert main(["report", str(out)]) == 0
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "per unit of end product" not in report
    assert "Product carbon footprints" not in report
    # the sections after the footprints move up: no gap in the numbers
    numbers = [int(n) for n in re.findall(r"^## (\d+)\. ", report, re.M)]
    assert numbers == list(range(1, len(numbers) + 1))
    assert "## 4. Reductions by measure" in report
    assert "nan" not in report.lower().replace("finance", "").replace("hunan", "")
    # the product-footprint indicator says why it is not judged
    ev = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    fp = [i for i in ev["indicators"] if i["metric"] == "footprint_reduction_min"]
    assert fp and fp[0]["status"] == "not_judged"
    assert fp[0]["reason"].startswith("the plant makes no products")


# --- what is refused --------------------------------------------------------------------------

@pytest.mark.parametrize("given, missing", [
    (("products",), "equipment_types, lines and sources are missing"),
    (("products", "equipment_types"), "lines and sources are missing"),
    (("products", "equipment_types", "lines"), "sources is missing"),
    (("lines", "sources"), "products and equipment_types are missing"),
])
def test_a_partial_production_set_is_a_one_line_error(tmp_path, capsys, given, missing):
    full = {"products": [{"id": "p", "route": ["s"]}],
            "equipment_types": [{"id": "m", "power_kw": {"electricity": {"idle": 1,
                                                                         "processing": 2}}}],
            "lines": [{"id": "l", "stations": [{"id": "s", "equipment": "m",
                                                "process_time": {"dist": "constant",
                                                                 "value": 60}}]}],
            "sources": [{"id": "a", "kind": "arrivals", "product_mix": {"p": 1},
                         "interarrival": {"dist": "constant", "value": 600}}]}
    path = write(tmp_path, {**OFFICE, **{k: full[k] for k in given}})
    with pytest.raises(ConfigError) as exc:
        twin.load_plant(path)
    assert len(exc.value.issues) == 1
    assert missing in exc.value.issues[0].message
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and missing in err  # the header line and the one problem


def test_a_strategy_that_acts_on_production_is_refused(tmp_path):
    data = {**OFFICE, "strategies": [{"type": "tou_shifting"}]}
    with pytest.raises(ConfigError) as exc:
        twin.load_plant(write(tmp_path, data))
    (issue,) = exc.value.issues
    assert issue.path == "strategies[0].type"
    assert "acts on production and the plant has none" in issue.message


# --- the data centre without its placeholder ------------------------------------------------

PLACEHOLDER = {  # the placeholder line the data centre carried before (zero power)
    "products": [{"id": "service_hour", "units_per_lot": 1, "route": ["service"]}],
    "equipment_types": [{"id": "service_clock",
                         "power_kw": {"electricity": {"off": 0, "idle": 0, "processing": 0}}}],
    "lines": [{"id": "data_hall", "stations": [
        {"id": "service", "equipment": "service_clock", "machines": 24,
         "process_time": {"dist": "constant", "value": 1, "unit": "h"}}]}],
    "sources": [{"id": "hours", "kind": "plan", "period": "day",
                 "quantities": {"service_hour": 24}}],
}


def test_the_data_centre_hourly_energy_equals_the_run_with_its_placeholder_line():
    path = CONFIGS / "data_centre.yaml"
    data, _ = read_yaml(path)
    assert not any(k in data for k in PLACEHOLDER)  # the placeholder is gone from the file
    now = twin.simulate(twin.load_plant(path), days=7, progress=False).hourly
    before_plant = plant_at({**copy.deepcopy(data), **PLACEHOLDER}, path, {})
    assert before_plant.has_production
    before = twin.simulate(before_plant, days=7, progress=False).hourly
    # identical numbers in every column but the placeholder's own group (zero power) and its
    # lots (one 'service hour' a day per machine)
    assert (before["electricity_kwh:data_hall"] == 0).all()
    assert set(before.columns) - set(now.columns) == {"electricity_kwh:data_hall"}
    assert set(now.columns) <= set(before.columns)
    cols = [c for c in now.columns if c != "units_completed"]
    pd.testing.assert_frame_equal(now[cols], before[cols], check_exact=True)
    assert now["electricity_demand_kwh"].sum() > 0


# --- config hashes of plants with production are unchanged ----------------------------------

# sha256 of the canonical JSON dump (as the run manifest's config_sha256 and the study's run
# cache compute it), taken from main at f63c0f3, before plants without production existed
PINNED_SHA256 = {
    "demo_plant.yaml": "b8b7ced6bcd8ce35bd728b9683b56e4a94a4b99b2dda9c42ac27eb354f819ab7",
    "benchmark_line.yaml": "a09fff8312b29419a559afadcf62e89c740b18e64b8181f9aeb26092f034ad32",
    "battery_cell_plant.yaml":
        "31f4a0294525074f73f4548eb8beba8ed9e142c5f447ae11885f0e601e071792",
}


@pytest.mark.parametrize("name", sorted(PINNED_SHA256))
def test_plants_with_production_dump_and_hash_as_before(name):
    plant = twin.load_plant(CONFIGS / name)
    canonical = json.dumps(plant.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(canonical.encode()).hexdigest() == PINNED_SHA256[name]


# --- a study and a calibration --------------------------------------------------------------

def test_a_study_on_a_plant_without_production(tmp_path):
    write(tmp_path, OFFICE)
    study = {"name": "office", "plant": "plant.yaml", "days": 7, "replications": 2,
             "base": "base", "scenarios": {
                 "base": {},
                 "led": {"overrides": {"base_loads[id=lights].power_kw.electricity": 25}}}}
    out = tmp_path / "study"
    assert main(["compare", str(write(tmp_path, study, "study.yaml")),
                 "--out", str(out)]) == 0
    cmp = pd.read_csv(out / "comparison.csv")
    assert not cmp["kpi"].isin(["units_completed", "kwh_per_unit", "mean_lead_time_h"]).any()
    assert not cmp["mean"].isna().any()
    row = cmp[(cmp["scenario"] == "led") & (cmp["kpi"] == "electricity_kwh")].iloc[0]
    # LED lights: 15 kW less for 168 h, in every replication (nothing random)
    assert row["diff_mean"] == pytest.approx(-15.0 * 168, rel=1e-9)
    base = cmp[(cmp["scenario"] == "base") & (cmp["kpi"] == "electricity_kwh")].iloc[0]
    assert base["mean"] == pytest.approx(SITE_KWH, rel=1e-9)
    page = (out / "dashboard.html").read_text(encoding="utf-8")
    assert "Units completed" not in page


def test_a_calibration_on_a_plant_without_production(tmp_path):
    # meters made by the same building with other powers (lights 25 kW, HVAC 80 / 8 kW) and
    # 1 % noise; the fit must find them
    true = {"base_loads[id=lights].power_kw.electricity": 25.0,
            "base_loads[id=hvac].power_kw.electricity": 80.0}
    plant_file = write(tmp_path, {**OFFICE, "simulation": {**OFFICE["simulation"], "days": 14}})
    data, _ = read_yaml(plant_file)
    iv = twin.simulate(plant_at(data, plant_file, true), progress=False).intervals
    rng = np.random.default_rng(11)
    df = pd.DataFrame({"facility": iv["electricity_kwh:facility"],
                       "hvac": iv["electricity_kwh:hvac"],
                       "site": iv["electricity_demand_kwh"]}, index=iv.index)
    df *= 1 + 0.01 * rng.standard_normal(df.shape)
    df.index = df.index.map(lambda t: t.isoformat())
    df.index.name = "time"
    df.to_csv(tmp_path / "meters.csv")
    cal = {"plant": "plant.yaml", "meter": {
        "file": "meters.csv", "timestamp": "time", "label": "start", "unit": "kWh",
        "columns": {"facility": {"group": "facility"}, "hvac": {"group": "hvac"},
                    "site": {"site": "consumption"}}},
           "period": {"start": "2026-01-05", "days": 14}, "holdout_days": 7,
           "replications": 1,
           "parameters": [{"path": p, "min": 5, "max": 150} for p in true]}
    out = tmp_path / "cal"
    assert main(["calibrate", str(write(tmp_path, cal, "cal.yaml")), "--out", str(out)]) == 0
    summary = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    got = {p["path"]: p["after"] for p in summary["parameters"]}
    for path, value in true.items():
        assert got[path] == pytest.approx(value, rel=0.01), path
    assert summary["metrics"]["holdout"]["site"]["pass_hourly"] is True


def test_a_per_unit_sector_range_says_the_plant_has_no_production():
    # a beverage-sector building without production: the kWh/hl range cannot apply, and the
    # comparison says why instead of "no finished units"
    from twin.sector import sector_comparison

    out = sector_comparison({"production": False, "electricity_kwh": SITE_KWH},
                            "light_industry", {})
    (row,) = out["comparisons"]
    assert row["value"] is None and row["verdict"] == "not_comparable"
    assert row["reason"] == "the plant has no production (per-unit ranges do not apply)"
    with_production = sector_comparison({"electricity_kwh": SITE_KWH, "products": {}},
                                        "light_industry", {})
    assert with_production["comparisons"][0]["reason"] == "no finished units in the run"


def test_a_plant_without_production_does_not_split_and_says_why(tmp_path):
    from twin.partition import find_parts

    parts = find_parts(twin.load_plant(write(tmp_path, OFFICE)))
    assert not parts.splits and len(parts.parts) == 1
    assert parts.reason == "the plant has no production (no stations to split)"
    assert parts.parts[0].base_loads == ["lights", "hvac"]


def test_the_json_schema_accepts_no_production_and_refuses_a_partial_set():
    jsonschema = pytest.importorskip("jsonschema")
    from twin.config.plant import Plant

    schema = Plant.model_json_schema()
    data = json.loads(json.dumps(OFFICE))
    jsonschema.validate(data, schema)  # no production: valid
    partial = {**data, "products": [{"id": "p", "route": ["s"]}]}
    with pytest.raises(jsonschema.ValidationError, match="'equipment_types' is a dependency"):
        jsonschema.validate(partial, schema)
