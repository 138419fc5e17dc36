"""`twin run --jobs N` on a plant of independent lines (twin.parallel.simulate_split): the parts
run in worker processes and the run folder is the one a single process writes, file for file;
a coupled plant stays in one process and the command says why."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import SITE, const, expo

from twin.cli import main

FAIL = {"time_to_failure": expo(3600), "time_to_repair": const(300)}
SAVER = {"id": "saver", "power_kw": {"electricity": {"standby": 1, "warm_up": 8, "idle": 5,
                                                     "processing": 10}},
         "saving_modes": {"standby": {"warm_up_s": 300, "min_stay_s": 600}}}
FILES = ("hourly.parquet", "intervals.parquet", "kpis.json", "lots.parquet", "equipment.csv",
         "trace.parquet")


def plant_data(**changes) -> dict:
    """Three independent lines: failures and predictive maintenance on line 1, machines with a
    standby mode (smart standby) on line 2, two machines and a crew on line 3, due dates on p2,
    a base load, PV + battery, and a two-part Jiangsu tariff with a demand charge."""
    data = {
        "site": {**SITE, "province": "Jiangsu"},
        "simulation": {"start": "2026-03-02", "days": 3, "seed": 5},
        "equipment_types": [
            {"id": "machine", "power_kw": {"electricity": {"idle": 2, "processing": 10,
                                                           "down": 1}}}, SAVER],
        "resources": [{"id": "crew", "count": 1}],
        "lines": [
            {"id": "L1", "stations": [
                {"id": "s1a", "equipment": "machine", "process_time": expo(40),
                 "failures": FAIL},
                {"id": "s1b", "equipment": "machine", "process_time": expo(40)}]},
            {"id": "L2", "stations": [
                {"id": "s2a", "equipment": "saver", "process_time": expo(40)},
                {"id": "s2b", "equipment": "saver", "process_time": expo(40)}]},
            {"id": "L3", "stations": [
                {"id": "s3a", "equipment": "machine", "process_time": expo(90), "machines": 2},
                {"id": "s3b", "equipment": "machine", "process_time": expo(40),
                 "needs": {"crew": 1}}]},
        ],
        "products": [{"id": "p1", "route": ["s1a", "s1b"]},
                     {"id": "p2", "route": ["s2a", "s2b"], "due_h": 0.03},
                     {"id": "p3", "route": ["s3a", "s3b"]}],
        "sources": [{"id": f"src{k}", "kind": "arrivals",
                     "interarrival": expo(600 if k == 2 else 60), "product_mix": {f"p{k}": 1}}
                    for k in (1, 2, 3)],
        "base_loads": [{"id": "hvac", "group": "facility", "power_kw": {"electricity": 15}}],
        "strategies": [{"type": "predictive_maintenance", "detection_rate": 0.8,
                        "lead_time_h": 2, "repair_factor": 0.5},
                       {"type": "smart_standby", "mode": "standby"}],
        "energy": {
            "weather": {"synthetic": {"annual_clearness": 0.5, "monthly_temp_c": [
                4, 6, 10, 16, 21, 25, 29, 28, 24, 18, 12, 6], "daily_temp_swing_c": 7}},
            "pv": [{"id": "pv", "dc_kwp": 40, "tilt_deg": 20, "azimuth_deg": 180}],
            "batteries": [{"id": "b", "energy_kwh": 60, "power_kw": 30, "soc_min_pct": 10,
                           "soc_max_pct": 95, "initial_soc_pct": 50}],
            "grid": {"tariff": {"preset": "jiangsu_2025", "customer_class": "two_part",
                                "flat_price_per_kwh": 0.45, "non_floating_adder_per_kwh": 0.2,
                                "demand_charge_per_kw_month": 40}},
        },
    }
    data.update(changes)
    return data


def write(tmp: Path, name: str, data: dict) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The plant run by `twin run` with --jobs 1 and --jobs 2 (and what each printed)."""
    tmp = tmp_path_factory.mktemp("split")
    config = write(tmp, "three_lines", plant_data())
    out = {}
    for jobs in (1, 2):
        folder = tmp / f"jobs{jobs}"
        assert main(["run", str(config), "--jobs", str(jobs), "--out", str(folder)]) == 0
        out[jobs] = folder
    return out


def test_split_run_writes_the_same_files_as_one_process(two_runs):
    one, split = two_runs[1], two_runs[2]
    manifest = json.loads((split / "manifest.json").read_text())
    assert manifest["parts"]["parts"] == 3 and manifest["parts"]["workers"] == 2
    assert "parts" not in json.loads((one / "manifest.json").read_text())
    for name in FILES:
        assert (one / name).read_bytes() == (split / name).read_bytes(), name
    assert (split / "dashboard.html").is_file()


def test_the_compared_run_exercises_every_merged_figure(two_runs):
    """The equality above is not vacuous: failures, standby switching, the crew, late lots, the
    battery and the tariff all acted, and every lot is accounted for (released = completed + in
    the plant, DESIGN.md) with unique numbers below the count of lots that entered."""
    k = json.loads((two_runs[2] / "kpis.json").read_text())
    pdm = k["strategies"]["predictive_maintenance"]["total"]
    standby = k["strategies"]["smart_standby"]["total"]
    assert pdm["breakdowns"] > 0 and standby["switches"] > 0
    assert list(k["strategies"]["smart_standby"]["stations"])[:2] == ["s1a", "s1b"]
    assert k["resources"]["crew"]["busy_h"] > 0
    assert k["due_dates"]["late_lots"] > 0
    assert k["battery_discharge_kwh"] > 0 and k["pv_kwh"] > 0 and k["demand_cost"] > 0
    assert list(k["stations"]) == ["s1a", "s1b", "s2a", "s2b", "s3a", "s3b"]
    assert k["lots_released"] == k["lots_completed"] + k["lots_in_system_at_end"]
    lots = pd.read_parquet(two_runs[2] / "lots.parquet")
    assert len(lots) == k["lots_completed"] > 1000
    assert lots["lot"].is_unique and lots["lot"].between(0, k["lots_released"] - 1).all()
    assert lots["completed"].is_monotonic_increasing
    assert set(lots["product"]) == {"p1", "p2", "p3"}
    # the hourly energy of the groups adds up to the site's electricity use (facility + lines)
    hourly = pd.read_parquet(two_runs[2] / "hourly.parquet")
    groups = [c for c in hourly.columns if c.startswith("electricity_kwh:")]
    assert np.allclose(hourly[groups].sum(axis=1), hourly["electricity_demand_kwh"],
                       rtol=1e-12)


def test_split_run_tells_how_the_plant_splits(tmp_path, capsys):
    config = write(tmp_path, "p", plant_data(simulation={"start": "2026-03-02", "days": 0.5}))
    assert main(["run", str(config), "--jobs", "2", "--out", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err
    assert "3 independent parts (2, 2, 2 stations)" in err
    assert "simulated on 2 worker processes" in err


@pytest.mark.parametrize(("change", "why"), [
    ({"strategies": [{"type": "peak_shaving", "limit_kw": 40, "stations": ["s2b"]}]},
     "one process: one part: strategy 'peak_shaving' reads site-wide state"),
    ({"simulation": {"start": "2026-03-02", "days": 0.5, "partition": "off"}},
     "one process: simulation.partition is 'off'"),
    ({"energy": {**plant_data()["energy"], "dispatch": {"policy": "perfect_foresight"}}},
     "one process: the dispatch policy 'perfect_foresight' plans on the whole plant's demand"),
])
def test_a_coupled_plant_runs_in_one_process_and_says_why(tmp_path, capsys, change, why):
    data = plant_data(**change)
    data["simulation"] = {**data["simulation"], "days": 0.5}
    config = write(tmp_path, "coupled", data)
    assert main(["run", str(config), "--jobs", "2", "--out", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err
    said = [ln for ln in err.splitlines() if "one process" in ln]
    assert len(said) == 1 and said[0].startswith(f"twin: {why}")
    assert "parts" not in json.loads((tmp_path / "r" / "manifest.json").read_text())


@pytest.mark.parametrize("bad", ["0", "-2", "two", "1.5"])
def test_a_bad_jobs_value_is_a_one_line_error(tmp_path, capsys, bad):
    config = write(tmp_path, "p", plant_data())
    with pytest.raises(SystemExit) as exc:
        main(["run", str(config), "--jobs", bad, "--out", str(tmp_path / "r")])
    assert exc.value.code == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if "error" in ln]
    assert len(err) == 1 and "--jobs" in err[0] and repr(bad) in err[0]
    assert not (tmp_path / "r").exists()


def test_lots_at_the_same_instant_in_two_parts_are_ordered_by_part(tmp_path):
    """Two lines released by daily plans at the same instant (06:00), constant processing 60 s
    and 90 s: the split run numbers the lots that entered together part by part (line A's five,
    then line B's), and at 180 s, when both lines finish a lot, lists line A's first (the rule
    of twin.parallel, worked out here by hand); every other file is one process's."""
    import twin
    from twin.config import plant_from_data

    data = {
        "site": SITE, "simulation": {"start": "2026-03-02", "days": 1, "seed": 3},
        "calendar": {"shifts": {"day": {"start": "06:00", "end": "18:00"}},
                     "week": {d: ["day"] for d in ("mon", "tue", "wed", "thu", "fri")}},
        "equipment_types": [{"id": "machine", "power_kw": {"electricity": {"idle": 2,
                                                                           "processing": 10}}}],
        "lines": [{"id": f"L{x}", "stations": [{"id": f"s{x}", "equipment": "machine",
                                                "process_time": const(t)}]}
                  for x, t in (("A", 60), ("B", 90))],
        "products": [{"id": f"p{x}", "route": [f"s{x}"]} for x in "AB"],
        "sources": [{"id": f"plan{x}", "kind": "plan", "period": "day",
                     "quantities": {f"p{x}": 5}} for x in "AB"],
    }
    plant = plant_from_data(data)
    one, split = twin.simulate(plant), twin.simulate(plant, jobs=2)
    assert split.manifest["parts"]["parts"] == 2
    lots = split.lots.sort_values("lot")
    assert lots["product"].astype(str).tolist() == ["pA"] * 5 + ["pB"] * 5
    assert lots["lot"].tolist() == list(range(10))
    t0 = lots["released"].iloc[0]
    assert (lots["released"] == t0).all() and t0.hour == 6
    rows = split.lots
    at_180 = rows[rows["completed"] == t0 + pd.Timedelta(seconds=180)]
    assert at_180["product"].astype(str).tolist() == ["pA", "pB"]
    assert at_180.index[0] + 1 == at_180.index[1]
    for name in ("hourly", "intervals", "equipment"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(split, name))
    assert json.dumps(one.kpis) == json.dumps(split.kpis)
    # one process holds the same lots: the same (product, release, completion) rows
    key = ["product", "released", "completed"]
    assert one.lots.sort_values(key)[key].reset_index(drop=True).equals(
        split.lots.sort_values(key)[key].reset_index(drop=True))


def test_sigterm_stops_the_part_workers(tmp_path):
    """`twin run --jobs 2` on a long run: SIGTERM ends the command at once, leaves no worker
    behind and no run folder."""
    import signal
    import subprocess
    import sys
    import time

    psutil = pytest.importorskip("psutil")
    data = plant_data(simulation={"start": "2026-03-02", "days": 3000, "seed": 5},
                      energy=None)
    config = write(tmp_path, "long", data)
    cmd = [sys.executable, "-c", "import sys; from twin.cli import main; sys.exit(main())",
           "run", str(config), "--jobs", "2", "--out", str(tmp_path / "out")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        parent = psutil.Process(proc.pid)
        kids: list = []
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and proc.poll() is None:
            kids = [k for k in parent.children(recursive=True)
                    if "resource_tracker" not in " ".join(k.cmdline())]
            if len(kids) >= 2:
                break
            time.sleep(0.2)
        assert len(kids) >= 2, "the workers did not start"
        time.sleep(1.0)  # parts under way (each takes far longer than this)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        _, alive = psutil.wait_procs(kids, timeout=5)
        alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        assert alive == [], [p.cmdline() for p in alive]
        assert proc.returncode == 130
        assert not (tmp_path / "out").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_split_run_of_many_lots_writes_them_as_one_process_does(tmp_path, monkeypatch):
    """Lots spilled every 500 and written in row groups of 400 (more than one chunk, as a big
    plant's): a split run's lots.parquet and kpis.json are one process's, byte for byte."""
    import twin
    from twin.config import plant_from_data
    from twin.production import lot_spill

    monkeypatch.setattr(lot_spill, "LOT_CHUNK", 500)
    monkeypatch.setattr(lot_spill, "ROW_GROUP", 400)
    data = plant_data(simulation={"start": "2026-03-02", "days": 1, "seed": 5}, energy=None)
    plant = plant_from_data(data)
    one, split = twin.simulate(plant), twin.simulate(plant, jobs=2)
    assert isinstance(one.lots, lot_spill.SpilledLots)
    assert isinstance(split.lots, lot_spill.SpilledLots)
    assert split.kpis["lots_completed"] > 3 * 500
    for result, name in ((one, "one"), (split, "split")):
        result.save(tmp_path / name)
    for name in ("lots.parquet", "kpis.json", "hourly.parquet"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "split" / name).read_bytes()


def test_split_run_with_power_programmes_writes_the_same_files(tmp_path):
    """Programme phases are metered in the part workers (a carrier drawn only in a phase, gas,
    included): the split run's files equal the one-process run's."""
    data = plant_data()
    data["simulation"]["days"] = 1
    data["equipment_types"][0]["programme"] = [
        {"id": "heat", "share": 0.4, "power_kw": {"electricity": 16, "natural_gas": 30}},
        {"id": "hold", "share": 0.6, "power_kw": {"electricity": 6}}]
    config = write(tmp_path, "programmes", data)
    runs = {}
    for jobs in (1, 2):
        runs[jobs] = tmp_path / f"jobs{jobs}"
        assert main(["run", str(config), "--jobs", str(jobs), "--out", str(runs[jobs])]) == 0
    assert json.loads((runs[2] / "manifest.json").read_text())["parts"]["parts"] == 3
    hourly = pd.read_parquet(runs[2] / "hourly.parquet")
    gas = [c for c in hourly.columns if c.startswith("natural_gas_kwh")]
    assert gas and hourly[gas].to_numpy().sum() > 0
    for name in FILES:
        assert (runs[1] / name).read_bytes() == (runs[2] / name).read_bytes(), name


def test_split_run_with_casting_sequences_writes_the_same_files(tmp_path):
    """Sequence stations on two lines break and restart in the part workers: the units lost at
    restarts are summed into the merged good units, and the files equal the one-process run's."""
    data = plant_data()
    data["simulation"]["days"] = 1
    seq = {"max_wait_min": 1.5, "lots_per_sequence": 6,
           "restart": {"setup_min": 5, "energy_kwh": {"natural_gas": 10}, "yield_loss_units": 0.5}}
    for line in (0, 1):
        data["lines"][line]["stations"][1]["sequence"] = seq
    config = write(tmp_path, "sequences", data)
    runs = {}
    for jobs in (1, 2):
        runs[jobs] = tmp_path / f"jobs{jobs}"
        assert main(["run", str(config), "--jobs", str(jobs), "--out", str(runs[jobs])]) == 0
    kpis = json.loads((runs[2] / "kpis.json").read_text())
    assert kpis["units_lost"] > 0 and kpis["stations"]["s1b"]["sequence"]["breaks"] > 0
    assert kpis["stations"]["s2b"]["sequence"]["restarts"] > 0
    for name in FILES:
        assert (runs[1] / name).read_bytes() == (runs[2] / name).read_bytes(), name
