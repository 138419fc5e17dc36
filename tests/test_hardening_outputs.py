"""Outputs are written whole or not at all, whatever happens while they are written: a full
disk, an interrupt, a kill, a symlink or an unwritable --out; CSV cells are never formulas
(issue 12, items 4, 6, 8, 10)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import const, make_plant

import twin
from twin.atomic import OutputError, check_target, clean_stale, csv_safe, staged_folder
from twin.cli import main
from twin.config import ConfigError, load_plant
from twin.safety import SimulationStalled, StallGuard

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "plant_configs" / "benchmark_line.yaml"


@pytest.fixture(scope="module")
def small_result() -> twin.Result:
    """Two hours of a one-station plant whose ids start with formula characters."""
    plant = make_plant([{"id": "=HYPERLINK(1)", "equipment": "+machine",
                         "process_time": const(60)},
                        {"id": "@s2", "equipment": "+machine", "process_time": const(30)}],
                       equipment_types=[{"id": "+machine", "power_kw": {
                           "electricity": {"idle": 2, "processing": 10}}}],
                       base_loads=[{"id": "-lights", "group": "=facility",
                                    "power_kw": {"electricity": 5}}])
    return twin.simulate(plant, days=2 / 24, seed=1)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ---------------------------------------------------------------------------------------------
# 10. CSV formula injection


def test_csv_safe_follows_owasp() -> None:
    df = pd.DataFrame({"id": ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "ok", "a=b", "-"],
                       "value": [-1.5, 2, 3, 4, 5, 6, 7, 8]})
    out = csv_safe(df)
    assert list(out["id"]) == ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "ok", "a=b", "-"]
    assert list(out["value"]) == [-1.5, 2, 3, 4, 5, 6, 7, 8]  # numbers stay numbers
    assert df["id"].iloc[0] == "=1+1"  # the caller's frame is not changed


def _cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        return [c for row in csv.reader(f) for c in row]


def test_equipment_csv_has_no_formula_cells(small_result: twin.Result, tmp_path: Path) -> None:
    out = small_result.save(tmp_path / "run")
    cells = _cells(out / "equipment.csv")
    assert "'=HYPERLINK(1)" in cells and "'-lights" in cells and "'=facility" in cells
    for c in cells:
        try:
            float(c)
            continue  # a number, negative ones included
        except ValueError:
            assert c == "-" or not c.startswith(("=", "+", "-", "@")), c


def test_every_csv_writer_goes_through_csv_safe() -> None:
    # one helper for every CSV the project writes: no other .to_csv( call in twin/
    offenders = []
    for path in (ROOT / "twin").rglob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ".to_csv(" in line and "csv_safe(" not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{n}")
    assert offenders == []


# ---------------------------------------------------------------------------------------------
# 6. write everything, then swap


def test_failure_while_finishing_leaves_the_old_folder(small_result: twin.Result,
                                                       tmp_path: Path) -> None:
    out = small_result.save(tmp_path / "run")
    before = sorted(p.name for p in out.iterdir())
    kpis = (out / "kpis.json").read_text()

    def full_disk(folder: Path) -> None:
        raise OSError(28, "No space left on device", str(folder / "dashboard.html"))

    with pytest.raises(OutputError) as err:
        small_result.save(out, overwrite=True, finish=full_disk)
    msg = str(err.value)
    assert msg.startswith(f"{out}: cannot write (No space left on device)")
    assert "was left as it was" in msg and ".tmp" not in msg  # names --out, not the temp folder
    assert sorted(p.name for p in out.iterdir()) == before
    assert (out / "kpis.json").read_text() == kpis
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temp folder left


def test_interrupt_while_writing_leaves_the_old_folder(small_result: twin.Result,
                                                       tmp_path: Path) -> None:
    out = small_result.save(tmp_path / "run")
    (out / "marker").write_text("old")

    def interrupted(folder: Path) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        small_result.save(out, overwrite=True, finish=interrupted)
    assert (out / "marker").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_interrupt_between_the_renames_puts_the_old_folder_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "f").write_text("old")
    real = Path.rename
    calls = []

    def rename(self: Path, target: Path) -> Path:
        calls.append(self.name)
        if len(calls) == 2:  # the new folder into place
            raise KeyboardInterrupt
        return real(self, target)

    with pytest.raises(KeyboardInterrupt), staged_folder(out) as tmp:
        (tmp / "f").write_text("new")
        monkeypatch.setattr(Path, "rename", rename)
    monkeypatch.undo()
    assert (out / "f").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_dashboard_is_in_the_folder_when_it_is_swapped_in(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    out = tmp_path / "run"
    assert main(["run", str(BENCH), "--days", "0.1", "--out", str(out)]) == 0
    assert (out / "dashboard.html").is_file()
    page = (out / "dashboard.html").read_text(encoding="utf-8")
    assert "Run folder run " in page and ".tmp" not in page.split("Run folder")[1][:80]


# ---------------------------------------------------------------------------------------------
# 8. stale temp folders, symlinks, unwritable --out


def test_stale_temp_folders_of_dead_writers_are_removed(small_result: twin.Result,
                                                         tmp_path: Path) -> None:
    dead = _dead_pid()
    stale = tmp_path / f".run.{dead}.abc123.tmp"
    stale_old = tmp_path / f".run.{dead}.old"
    live = tmp_path / f".run.{os.getppid()}.xyz.tmp"  # a writer that still runs
    other = tmp_path / f".other.{dead}.abc.tmp"       # another output's: not ours to clean
    for p in (stale, stale_old, live, other):
        p.mkdir()
        (p / "hourly.parquet").write_bytes(b"partial")
    small_result.save(tmp_path / "run")
    assert not stale.exists() and not stale_old.exists()
    assert live.exists() and other.exists()
    assert clean_stale(tmp_path / "other") == [other]


def test_symlink_out_is_refused_before_anything_is_written(small_result: twin.Result,
                                                           tmp_path: Path) -> None:
    real = small_result.save(tmp_path / "real")
    link = tmp_path / "link"
    link.symlink_to(real)
    mtime = (real / "kpis.json").stat().st_mtime_ns
    with pytest.raises(OutputError, match="is a symbolic link"):
        small_result.save(link, overwrite=True)
    assert link.is_symlink() and (real / "kpis.json").stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


def test_unwritable_out_fails_before_the_simulation(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    def never(*a: object, **k: object) -> None:
        raise AssertionError("simulated although --out cannot be written")

    monkeypatch.setattr(twin, "simulate", never)
    code = main(["run", str(BENCH), "--days", "0.1", "--out", "/proc/twin-test/run"])
    err = capsys.readouterr().err
    assert code == 2 and "/proc/twin-test/run: cannot write there" in err
    assert "Traceback" not in err and ".tmp" not in err
    with pytest.raises(OutputError):
        check_target(Path("/proc/twin-test/run"))


# ---------------------------------------------------------------------------------------------
# 8. damaged run folders


@pytest.mark.parametrize("name,content", [
    ("kpis.json", b""), ("kpis.json", b'{"units_completed": 3, "elec'), ("kpis.json", b"[1, 2]"),
    ("manifest.json", b""), ("hourly.parquet", b""), ("hourly.parquet", b"PAR1\x00\x00"),
    ("intervals.parquet", b"PAR1"), ("lots.parquet", b""),
])
def test_dashboard_on_a_damaged_run_folder_is_one_line(
        small_result: twin.Result, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        name: str, content: bytes) -> None:
    out = small_result.save(tmp_path / "run")
    (out / name).write_bytes(content)
    code = main(["dashboard", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert str(out) in err and "rerun 'twin run'" in err


# ---------------------------------------------------------------------------------------------
# 1. the run guard


def test_stall_guard_stops_a_zero_time_loop() -> None:
    import simpy

    env = simpy.Environment()

    def loop(env: simpy.Environment):  # type: ignore[no-untyped-def]
        yield env.timeout(7)
        while True:
            yield env.timeout(0)

    env.process(loop(env))
    with pytest.raises(SimulationStalled, match="clock stayed at 7 s"), \
            StallGuard(env, limit=50_000, period_s=0.05):
        env.run(until=100)
    assert env.now == 7


def test_stall_guard_leaves_a_normal_run_alone() -> None:
    import simpy

    env = simpy.Environment()
    ticks = []

    def tick(env: simpy.Environment):  # type: ignore[no-untyped-def]
        while True:
            ticks.append(env.now)
            yield env.timeout(1)

    env.process(tick(env))
    with StallGuard(env, limit=10, period_s=0.01):
        env.run(until=200_000)  # many events, but the clock moves on every one
    assert len(ticks) == 200_000 and np.all(np.diff(ticks) == 1)


# ---------------------------------------------------------------------------------------------
# 4. what validate now catches before the run


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("battery,msg", [
    ({"soc_min_pct": 20, "soc_max_pct": 90, "initial_soc_pct": 10}, "initial_soc_pct: 10 is "
                                                                     "outside"),
    ({"soc_min_pct": 80, "soc_max_pct": 30}, "soc_min_pct: 80 is above soc_max_pct 30"),
    ({"soc_min_pct": 60}, "initial_soc_pct: 50 is outside"),  # the default start, 50 %
])
def test_battery_soc_window(battery: dict, msg: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_plant([{"id": "s1", "equipment": "machine", "process_time": const(60)}],
                   energy={"batteries": [{"id": "b", "energy_kwh": 100, "power_kw": 50,
                                          **battery}]})
    field, what = msg.split(": ", 1)
    assert f"energy.batteries[0].{field}: {what}" in str(err.value)


@pytest.mark.parametrize("name", ["comparison.csv", "study.json", "Dashboard.html"])
def test_scenario_named_like_a_study_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          name: str) -> None:
    study = _write(tmp_path / "s.yaml", f"plant: {BENCH}\nbase: base\nscenarios:\n  base: {{}}\n"
                                        f"  {name}: {{}}\n")
    assert main(["validate", str(study)]) == 2
    err = capsys.readouterr().err
    assert f"scenarios.{name}" in err and "choose another name" in err


def test_hourly_factor_file_problem_is_found_by_validate(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    _write(tmp_path / "ef.csv", "hour_of_year,kg_co2_per_kwh\n0,0.5\n1,0.5\n")  # 2 hours only
    text = BENCH.read_text(encoding="utf-8") + "\ncarbon:\n  hourly_factor_file: ef.csv\n"
    plant = _write(tmp_path / "p.yaml", text)
    load_plant(plant)  # the file itself is a valid plant file
    assert main(["validate", str(plant)]) == 2
    err = capsys.readouterr().err
    assert "ef.csv" in err and "hourly_factor_file" in err and "Traceback" not in err


def test_weather_file_problem_is_found_by_validate(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "w.csv", "timestamp,ghi\n2026-01-01 00:00,0\n")
    text = BENCH.read_text(encoding="utf-8") + (
        "\nenergy:\n  weather: {file: w.csv}\n  pv: [{id: roof, dc_kwp: 100, tilt_deg: 20}]\n")
    plant = _write(tmp_path / "p.yaml", text)
    code = main(["validate", str(plant)])
    err = capsys.readouterr().err
    assert code == 2 and "w.csv" in err and "missing column" in err, err


def test_study_kpis_json_is_valid_json(small_result: twin.Result, tmp_path: Path) -> None:
    out = small_result.save(tmp_path / "run")
    assert json.loads((out / "kpis.json").read_text())["units_completed"] >= 0


def test_stall_guard_stops_vanishing_steps() -> None:
    import simpy

    env = simpy.Environment()

    def creep(env: simpy.Environment):  # type: ignore[no-untyped-def]
        while True:
            yield env.timeout(1e-300)  # positive, but the clock never gets anywhere

    env.process(creep(env))
    with pytest.raises(SimulationStalled), StallGuard(env, limit=50_000, period_s=0.05):
        env.run(until=100)
    assert env.now < 1e-200


@pytest.mark.parametrize("name,content", [("study.json", b""), ("study.json", b'{"scen'),
                                          ("study.json", b"{}"), ("comparison.csv", b"\xff\xfe")])
def test_dashboard_on_a_damaged_study_folder_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "study.json").write_text('{"scenarios": ["base"]}')
    (folder / "comparison.csv").write_text("scenario,kpi\nbase,x\n")
    (folder / name).write_bytes(content)
    code = main(["dashboard", str(folder)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "damaged study folder" in err


@pytest.mark.parametrize("field", ["weather", "hourly"])
@pytest.mark.parametrize("target", ["/dev/zero", "folder"])
def test_data_file_that_is_not_a_regular_file(tmp_path: Path, field: str, target: str) -> None:
    from twin.carbon.factors import read_hourly_factor_csv
    from twin.energy.weather import read_weather

    path = Path(target) if target.startswith("/") else tmp_path
    with pytest.raises(ValueError, match=r"not a regular file|is a folder"):
        if field == "weather":
            read_weather(path, kind="csv")
        else:
            read_hourly_factor_csv(path, pd.date_range("2026-01-01", periods=3, freq="h",
                                                       tz="Asia/Shanghai"))


@pytest.mark.parametrize("old,new,msg", [
    ("customer_class: two_part", "customer_class: three_part", "energy.grid.tariff"),
    ("      flat_price_per_kwh: 0.45", "      flat_price_per_kwh: 0.45\n      ratios: {peak: -1}",
     "energy.grid.tariff"),
])
def test_tariff_problem_is_found_by_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             old: str, new: str, msg: str) -> None:
    text = (ROOT / "plant_configs" / "demo_plant.yaml").read_text(encoding="utf-8")
    assert old in text
    plant = _write(tmp_path / "p.yaml", text.replace(old, new, 1))
    code = main(["validate", str(plant)])
    err = capsys.readouterr().err
    assert code == 2 and msg in err and "Traceback" not in err, err


def test_a_zero_time_loop_that_gets_past_validation_stops_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # the second line of defence: with the load-time check switched off, the run itself stops
    import functools

    import twin.config.plant as plant_module
    import twin.engine as engine

    monkeypatch.setattr(plant_module, "require_progress", lambda dist, field: None)
    monkeypatch.setattr(engine, "StallGuard",
                        functools.partial(StallGuard, limit=100_000, period_s=0.05))
    text = BENCH.read_text(encoding="utf-8").replace(
        "interarrival: {dist: exponential, mean: 60}", "interarrival: {dist: constant, value: 0}"
    ).replace("{id: s01, equipment: bench_machine, buffer_capacity: 5,",
              "{id: s01, equipment: bench_machine,")  # unbounded: the source never waits
    plant = tmp_path / "zero.yaml"
    plant.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    code = main(["run", str(plant), "--days", "1", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert time.perf_counter() - t0 < 60
    assert code == 2 and "the simulation clock stayed at 0 s" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()
