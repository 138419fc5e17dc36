"""``twin export DIR --xlsx``: the workbook says what the run folder says.

Truth: the run folder read with pandas and json (``hourly.parquet``, ``kpis.json``,
``comparison.csv``), the workbook read back with openpyxl and, where LibreOffice is installed
(``make test`` installs it as root), converted to CSV by a headless LibreOffice.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import const, make_plant, station

import twin
from twin.cli import main

openpyxl = pytest.importorskip("openpyxl")


def _plant() -> twin.Plant:
    return make_plant(
        [station("=cmd|' /C calc'!A0", const(600))],           # a name that looks like a formula
        interarrival=const(900),
        base_loads=[{"id": "lights", "group": "facility", "power_kw": {"electricity": 5}}],
        energy={"grid": {"gas_price_per_kwh": 0.35,
                         "tariff": {"preset": "jiangsu_2025", "customer_class": "two_part",
                                    "flat_price_per_kwh": 0.45,
                                    "demand_charge_per_kw_month": 40}}},
        simulation={"start": "2026-01-30T00:00:00", "days": 3},       # January and February
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = twin.simulate(_plant()).save(tmp_path_factory.mktemp("export") / "run")
    assert main(["export", str(out), "--xlsx"]) == 0
    return out


@pytest.fixture(scope="module")
def book(run: Path):
    return openpyxl.load_workbook(run / "results.xlsx", read_only=True)


def _table(ws) -> tuple[list[str], list[tuple]]:
    rows = list(ws.iter_rows(values_only=True))
    return list(rows[0]), rows[1:]


def test_sheets_and_units_in_headers(book) -> None:
    assert book.sheetnames == ["KPIs", "hourly", "monthly", "equipment", "stations",
                               "evaluation"]
    head, _ = _table(book["hourly"])
    assert head[0] == "Local time (Asia/Shanghai), start of hour"
    assert "grid_import_kwh [kWh]" in head and "co2_scope1_kg [kg CO₂]" in head
    assert "price_per_kwh [CNY/kWh]" in head
    head, _ = _table(book["monthly"])
    assert "Cost total [CNY]" in head and "CO₂ scope 1 + 2, location-based [t]" in head


def test_hourly_sheet_sums_to_the_parquet(book, run: Path) -> None:
    hourly = pd.read_parquet(run / "hourly.parquet")
    head, rows = _table(book["hourly"])
    assert len(rows) == len(hourly) == 72
    for col in ("electricity_demand_kwh", "grid_import_kwh", "co2_scope2_location_kg",
                "electricity_cost"):
        i = next(k for k, h in enumerate(head) if h.startswith(col + " ["))
        assert sum(r[i] for r in rows) == pytest.approx(hourly[col].sum(), rel=1e-12)
    # local wall-clock times, first and last hour
    assert rows[0][0] == pd.Timestamp("2026-01-30 00:00").to_pydatetime()
    assert rows[-1][0] == pd.Timestamp("2026-02-01 23:00").to_pydatetime()


def test_kpis_and_monthly_sheets_are_the_runs_totals(book, run: Path) -> None:
    kpis = json.loads((run / "kpis.json").read_text(encoding="utf-8"))
    _, rows = _table(book["KPIs"])
    sheet = {r[0]: (r[1], r[2]) for r in rows}
    assert sheet["electricity_kwh"] == (kpis["electricity_kwh"], "kWh")
    assert sheet["cost_total"] == (kpis["cost_total"], "CNY")
    assert sheet["co2_scope1_kg"] == (kpis["co2_scope1_kg"], "kg CO₂")
    head, rows = _table(book["monthly"])
    months = [r for r in rows if r[0] != "Total (peak: highest month)"]
    assert [r[0] for r in months] == ["2026-01", "2026-02"]
    for label, total in (("Electricity [kWh]", kpis["electricity_kwh"]),
                         ("Cost total [CNY]", kpis["cost_total"]),
                         ("CO₂ scope 2, location-based [t]",
                          kpis["co2_scope2_location_kg"] / 1000)):
        i = head.index(label)
        assert sum(r[i] for r in months) == pytest.approx(total, rel=1e-9)


def test_formula_like_names_stay_text(run: Path) -> None:
    cell = openpyxl.load_workbook(run / "results.xlsx")["stations"]["A2"]
    assert cell.value == "=cmd|' /C calc'!A0" and cell.data_type == "s"


def test_evaluation_sheet_lists_every_indicator(book, run: Path) -> None:
    kpis = json.loads((run / "kpis.json").read_text(encoding="utf-8"))
    _, rows = _table(book["evaluation"])
    labels = [r[0] for r in rows if r and r[0] and not str(r[0]).startswith("Rule set")]
    assert labels == [i["label"] for i in kpis["evaluation"]["indicators"]]


def test_written_atomically_and_replaced(run: Path) -> None:
    before = (run / "results.xlsx").stat().st_mtime_ns
    assert main(["export", str(run), "--xlsx"]) == 0
    assert (run / "results.xlsx").stat().st_mtime_ns >= before
    assert not [p for p in run.iterdir() if p.name.startswith(".results.xlsx")]


def test_bad_folder_and_missing_format(tmp_path: Path, capsys) -> None:
    assert main(["export", str(tmp_path), "--xlsx"]) == 2
    err = capsys.readouterr().err
    assert "neither a run folder" in err and str(tmp_path) in err and "Traceback" not in err
    assert main(["export", str(tmp_path / "nope"), "--xlsx"]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["export", str(tmp_path)]) == 2
    assert "--xlsx" in capsys.readouterr().err


def test_study_workbook(tmp_path: Path) -> None:
    from twin.config.study import load_study
    from twin.study import run_study

    plant = tmp_path / "plant.yaml"
    data = {"site": {"name": "p", "timezone": "Asia/Shanghai", "latitude": 31.2,
                     "longitude": 121.5},
            "products": [{"id": "part", "route": ["s"]}],
            "equipment_types": [{"id": "m", "power_kw": {"electricity": {"idle": 2,
                                                                          "processing": 10}}}],
            "lines": [{"id": "line", "stations": [{"id": "s", "equipment": "m",
                                                   "process_time": const(600)}]}],
            "sources": [{"id": "a", "kind": "arrivals", "interarrival": const(900),
                         "product_mix": {"part": 1}}],
            "simulation": {"start": "2026-03-02T00:00:00", "days": 1}}
    plant.write_text(yaml.safe_dump(data), encoding="utf-8")
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({
        "name": "s", "plant": "plant.yaml", "days": 1, "replications": 2, "base": "base",
        "scenarios": {"base": {}, "faster": {"overrides": {
            "lines[id=line].stations[id=s].process_time.value": 300}}}}), encoding="utf-8")
    out = run_study(load_study(study), tmp_path / "out", jobs=1, progress=None,
                    dashboard=False)
    assert main(["export", str(out), "--xlsx"]) == 0
    book = openpyxl.load_workbook(out / "results.xlsx", read_only=True)
    assert book.sheetnames[:2] == ["scenarios", "comparison"]
    comp = pd.read_csv(out / "comparison.csv")
    head, rows = _table(book["comparison"])
    assert len(rows) == len(comp)
    i, k = head.index("mean [in unit]"), head.index("kpi")
    sheet = {(r[head.index("scenario")], r[k]): r[i] for r in rows}
    for _, r in comp.iterrows():
        assert sheet[(r["scenario"], r["kpi"])] == pytest.approx(r["mean"], nan_ok=True)
    units = {r[k]: r[head.index("unit")] for r in rows}
    assert units["electricity_kwh"] == "kWh"
    assert units["renewable_electricity_share"] == "fraction"
    assert head.count("unit") == 1 and "diff_pct [fraction of the base mean]" in head


@pytest.mark.skipif(shutil.which("soffice") is None,
                    reason="LibreOffice (soffice) is not installed: 'make office' installs it "
                           "as root")
def test_libreoffice_reads_the_workbook(run: Path, tmp_path: Path) -> None:
    # sheet -1: every sheet to its own CSV (LibreOffice >= 7.2); 76 = UTF-8
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,"
                    "false,false,false,-1", "--outdir", str(tmp_path), str(run / "results.xlsx")],
                   check=True, capture_output=True, timeout=180)
    hourly = pd.read_parquet(run / "hourly.parquet")
    sheet = pd.read_csv(tmp_path / "results-hourly.csv")
    assert len(sheet) == len(hourly)
    np.testing.assert_allclose(sheet["grid_import_kwh [kWh]"].sum(),
                               hourly["grid_import_kwh"].sum(), rtol=1e-9)
    kpis = pd.read_csv(tmp_path / "results-KPIs.csv")
    assert "electricity_kwh" in set(kpis["KPI"])
