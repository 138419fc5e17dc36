"""The ``twin`` command end to end, as a user runs it: validate, schema, run and its run folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from twin.cli import main
from twin.config import read_yaml

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "plant_configs" / "benchmark_line.yaml"
TWIN = Path(sys.executable).with_name("twin")

HOURLY_COLUMNS = [
    "electricity_demand_kwh", "pv_kwh", "wind_kwh", "battery_charge_kwh", "battery_discharge_kwh",
    "battery_soc_kwh", "grid_import_kwh", "grid_export_kwh", "curtailed_kwh", "fuel_kwh",
    "heat_demand_kwh", "electricity_cost", "co2_scope1_kg", "co2_scope2_location_kg",
    "co2_scope2_market_kg", "grid_ef_kg_per_kwh", "price_per_kwh", "units_completed",
]
KPI_KEYS = [
    "units_completed", "electricity_kwh", "grid_import_kwh", "grid_export_kwh", "pv_kwh",
    "peak_demand_kw", "cost_total", "co2_scope1_kg", "co2_scope2_location_kg",
    "co2_scope2_market_kg", "renewable_electricity_share", "kwh_per_unit", "co2_kg_per_unit",
    "simulated_days", "stations",
]
STATION_KPIS = ["utilization", "availability", "units_completed", "energy_kwh"]

pytestmark = pytest.mark.skipif(not TWIN.exists(), reason="no twin console script installed")


def twin(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TWIN), *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One day of the benchmark line, written once for the tests that read a run folder."""
    out = tmp_path_factory.mktemp("cli") / "bench"
    proc = twin("run", BENCH, "--days", "1", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"run folder {out}" in proc.stdout
    return out


# ---------------------------------------------------------------------------------------------
# validate


def test_validate_good_file() -> None:
    proc = twin("validate", BENCH)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (f"{BENCH}: OK (1 products, 1 lines, 10 stations, 1 sources, "
                                   f"0 base loads)")
    assert proc.stderr == ""


def test_validate_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BENCH.read_text().replace("buffer_capacity: 5, process_time",
                                             "buffer_capacity: -5, process_time", 1))
    proc = twin("validate", bad)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    line = next(n for n, s in enumerate(bad.read_text().splitlines(), 1) if "-5" in s)
    assert proc.stderr.splitlines() == [
        f"{bad}: 1 problem found",
        f"  {bad}:{line}: lines[0].stations[0].buffer_capacity: expected a whole number >= 1 "
        f"(got -5)",
    ]


def test_validate_missing_file(tmp_path: Path) -> None:
    proc = twin("validate", tmp_path / "nope.yaml")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == f"  {tmp_path / 'nope.yaml'}: file not found"
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------------------------
# schema


@pytest.fixture(scope="module")
def schema() -> dict:
    proc = twin("schema")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_schema_is_json_with_the_plant_sections(schema: dict) -> None:
    assert schema["type"] == "object"
    assert {"site", "products", "lines", "equipment_types", "sources"} <= set(schema["properties"])
    assert set(schema["required"]) == {"site"}  # production is optional, all four together:
    assert schema["dependentRequired"]["products"] == ["equipment_types", "lines", "sources"]
    assert schema["dependentRequired"]["sources"] == ["products", "equipment_types", "lines"]
    assert schema["additionalProperties"] is False
    assert schema["$schema"].startswith("https://json-schema.org/")


def test_schema_accepts_the_benchmark_line(schema: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    data, _ = read_yaml(BENCH)
    data = json.loads(json.dumps(data, default=str))  # dates as 'YYYY-MM-DD', as in the file
    jsonschema.validate(data, schema)
    data["lines"][0]["stations"][0]["bufer"] = 5
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


# ---------------------------------------------------------------------------------------------
# run: the run folder and the results contract


def test_run_writes_the_run_folder(run_dir: Path) -> None:
    for name in ("hourly.parquet", "kpis.json", "manifest.json"):
        assert (run_dir / name).is_file(), name


def test_hourly_table(run_dir: Path) -> None:
    hourly = pd.read_parquet(run_dir / "hourly.parquet")
    missing = [c for c in HOURLY_COLUMNS if c not in hourly.columns]
    assert not missing
    groups = [c for c in hourly.columns if c.startswith("electricity_kwh:")]
    assert groups == ["electricity_kwh:line"]
    # tz-aware local time, one row per hour
    idx = hourly.index
    assert isinstance(idx, pd.DatetimeIndex)
    assert str(idx.tz) == "Asia/Shanghai"
    assert len(idx) == 24
    assert idx[0] == pd.Timestamp("2026-01-01 00:00", tz="Asia/Shanghai")
    assert (idx[1:] - idx[:-1] == pd.Timedelta(hours=1)).all()
    assert hourly[HOURLY_COLUMNS].notna().all().all()
    # no PV, wind, battery or fuel in the benchmark line: those columns are zeros
    for col in ("pv_kwh", "wind_kwh", "battery_charge_kwh", "battery_soc_kwh", "fuel_kwh",
                "grid_export_kwh", "curtailed_kwh"):
        assert (hourly[col] == 0).all(), col
    assert (hourly["electricity_demand_kwh"] > 0).all()


def test_kpis(run_dir: Path) -> None:
    kpis = json.loads((run_dir / "kpis.json").read_text())
    assert [k for k in KPI_KEYS if k not in kpis] == []
    assert kpis["simulated_days"] == 1
    assert sorted(kpis["stations"]) == [f"s{i:02d}" for i in range(1, 11)]
    for name, st in kpis["stations"].items():
        assert [k for k in STATION_KPIS if k not in st] == [], name
        assert 0 <= st["utilization"] <= 1 and 0 <= st["availability"] <= 1
    hourly = pd.read_parquet(run_dir / "hourly.parquet")
    assert hourly["units_completed"].sum() == kpis["units_completed"] > 0
    assert hourly["electricity_demand_kwh"].sum() == pytest.approx(kpis["electricity_kwh"],
                                                                   rel=1e-9)
    assert hourly["electricity_kwh:line"].sum() == pytest.approx(kpis["electricity_kwh"], rel=1e-9)


def test_manifest(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["seed"] == 1
    assert manifest["days"] == 1
    assert manifest["config"]["site"]["name"] == "Benchmark line"
    assert len(manifest["config_sha256"]) == 64
    assert manifest["events_processed"] > 0


def test_run_refuses_existing_out_and_keeps_it(run_dir: Path) -> None:
    before = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    proc = twin("run", BENCH, "--days", "1", "--out", run_dir)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (f"twin: --out {run_dir}: folder exists; choose another or add "
                                   f"--overwrite")
    after = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    assert after == before
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".")]  # no leftovers


def test_run_overwrite_replaces_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert twin("run", BENCH, "--days", "1", "--out", out).returncode == 0
    (out / "note.txt").write_text("from the first run")
    proc = twin("run", BENCH, "--days", "0.5", "--start", "2026-03-01", "--seed", "7",
                "--out", out, "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert not (out / "note.txt").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["seed"], manifest["start"], manifest["days"]) == (7, "2026-03-01", 0.5)
    hourly = pd.read_parquet(out / "hourly.parquet")
    assert len(hourly) == 12
    assert hourly.index[0] == pd.Timestamp("2026-03-01 00:00", tz="Asia/Shanghai")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary folders left


def test_two_days_have_48_hours(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", str(BENCH), "--days", "2", "--out", str(out)]) == 0
    hourly = pd.read_parquet(out / "hourly.parquet")
    assert len(hourly) == 48
    assert hourly.index[-1] == pd.Timestamp("2026-01-02 23:00", tz="Asia/Shanghai")


def test_overwrite_never_deletes_a_folder_twin_did_not_write(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    keep = tmp_path / "my_documents"
    keep.mkdir()
    (keep / "thesis.docx").write_text("precious")
    assert main(["run", str(BENCH), "--days", "1", "--out", str(keep), "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"twin: --out {keep}: not a twin run folder (no manifest.json); "
                           f"--overwrite only replaces run folders, choose another --out")
    assert (keep / "thesis.docx").read_text() == "precious"


def test_out_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "out.txt"
    f.write_text("x")
    assert main(["run", str(BENCH), "--days", "1", "--out", str(f), "--overwrite"]) == 2
    assert "is a file; expected a folder for the run" in capsys.readouterr().err
    assert f.read_text() == "x"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "argument --days: expected a number of days > 0 and <= 3660, got '0'"),
        (["--days", "-1"], "argument --days: expected a number of days > 0 and <= 3660, got '-1'"),
        (["--days", "one"], "argument --days: expected a number of days, got 'one'"),
        (["--days", "inf"], "argument --days: expected a number of days > 0 and <= 3660, got "
                            "'inf'"),
        (["--days", "nan"], "argument --days: expected a number of days > 0 and <= 3660, got "
                            "'nan'"),
        (["--start", "2026-13-01"], "argument --start: expected a date as YYYY-MM-DD, got "
                                    "'2026-13-01'"),
        (["--start", "tomorrow"], "argument --start: expected a date as YYYY-MM-DD, got "
                                  "'tomorrow'"),
        (["--start", "2300-01-01"], "argument --start: expected a start day between 1900-01-01 "
                                    "and 2200-12-31, got '2300-01-01'"),
        (["--seed", "-3"], "argument --seed: expected a seed >= 0, got '-3'"),
        (["--seed", "1.5"], "argument --seed: expected a whole number, got '1.5'"),
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              args: list[str], message: str) -> None:
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as info:
        main(["run", str(BENCH), *args, "--out", str(out)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.strip().endswith(f"twin run: error: {message}")
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_arguments_exit_2_in_a_real_process(tmp_path: Path) -> None:
    proc = twin("run", BENCH, "--days", "-1", "--out", tmp_path / "run")
    assert proc.returncode == 2
    assert "twin run: error: argument --days: expected a number of days > 0" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = twin("run", BENCH, "--start", "2026-02-30", "--out", tmp_path / "run")
    assert proc.returncode == 2
    assert "argument --start: expected a date as YYYY-MM-DD, got '2026-02-30'" in proc.stderr
    assert not (tmp_path / "run").exists()
