"""Studies that scale out: the executors (this process, process pool, Dask), the run cache that
makes a study resumable, ``runs.parquet``, no orphaned workers after SIGTERM, and the study page
for hundreds of scenarios.

Truths checked: a Dask cluster of two worker processes gives byte-identical outputs to one
process; a resumed study reuses exactly the runs that completed (counted) and gives the same
outputs as an uninterrupted one; a changed scenario reruns only its own runs; the standby
difference of the 2x2 study is the hand-computed 88 h x (standby kW difference); a worker that
cannot see the data file still uses it (the hourly-factor plant's 304 kg by hand); the Pareto
front of a hand-made cloud; and no worker process outlives a terminated ``twin compare``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_own_factors import PLANT as FACTOR_PLANT
from test_own_factors import _write as write_factors
from test_study import PLANT, write_study

from twin.config.study import load_study
from twin.study import run_study

STUDY_2X2 = """\
    plant: plant.yaml
    base: base
    replications: 2
    seed: 11
    days: 7
    scenarios:
      base: {}
      high_standby:
        overrides:
          equipment_types[id=press].power_kw.electricity.standby: %s
    """
PATH = "equipment_types[id=press].power_kw.electricity.standby"
OFF_SHIFT_H = 7 * 24 - 5 * 16  # hours the press spends in standby (test_study's plant)


def _study(tmp_path: Path, standby: float = 2.0) -> Path:
    return write_study(tmp_path, STUDY_2X2 % standby)


def _same_outputs(a: Path, b: Path) -> None:
    for name in ("comparison.csv", "economics.csv", "comparison.md"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    pd.testing.assert_frame_equal(pd.read_parquet(a / "runs.parquet"),
                                  pd.read_parquet(b / "runs.parquet"))


# ---------------------------------------------------------------------------------------------
# runs.parquet, resume, changed scenarios


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("ref")
    f = _study(d)
    return f, run_study(load_study(f), d / "out", jobs=1, progress=None, dashboard=False)


def test_runs_parquet_of_a_2x2_study_by_hand(reference):
    _, out = reference
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs.columns[:5]) == ["scenario", "replication", "seed", "run_key", PATH]
    assert runs[["scenario", "replication", "seed"]].values.tolist() == [
        ["base", 0, 11], ["base", 1, 12], ["high_standby", 0, 11], ["high_standby", 1, 12]]
    # the base's value is read from its resolved plant (the plant file says 0.5 kW)
    assert runs[PATH].tolist() == [0.5, 0.5, 2.0, 2.0]
    # paired by seed: 88 h in standby at 1.5 kW more = 132 kWh more, in every replication
    e = runs.set_index(["scenario", "replication"])["electricity_kwh"]
    for k in (0, 1):
        assert e[("high_standby", k)] - e[("base", k)] == pytest.approx(OFF_SHIFT_H * 1.5,
                                                                        abs=1e-6)
    assert e[("base", 0)] != e[("base", 1)]  # the oven's random process times differ by seed
    # every scalar KPI is a column; the rows match each run folder's kpis.json
    kpis = json.loads((out / "base" / "rep1" / "kpis.json").read_text())
    assert runs.loc[1, "lots_completed"] == kpis["lots_completed"]
    assert runs["run_key"].nunique() == 4
    assert not (out.parent / ".out.runs").exists()  # the default cache went with success


def test_interrupted_study_resumes_with_exactly_the_completed_runs(tmp_path, reference):
    _, ref = reference
    f = _study(tmp_path)
    events = []

    def stop_after_three(ev):
        events.append(ev)
        if len(events) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_study(load_study(f), tmp_path / "out", jobs=1, progress=stop_after_three,
                  dashboard=False)
    assert not (tmp_path / "out").exists()
    cache = tmp_path / ".out.runs"
    assert len([p for p in cache.iterdir() if not p.name.startswith(".")]) == 3
    events.clear()
    logs: list[str] = []
    out = run_study(load_study(f), tmp_path / "out", jobs=1, progress=events.append,
                    dashboard=False, log=logs.append)
    assert len(events) == 1 and events[0].done == 4 and events[0].reused == 3
    assert "4 runs: 3 reused" in logs[0]
    assert json.loads((out / "study.json").read_text())["runs_reused"] == 3
    _same_outputs(ref, out)
    assert (out / "high_standby/rep1/hourly.parquet").read_bytes() == \
        (ref / "high_standby/rep1/hourly.parquet").read_bytes()


def test_changed_scenario_reruns_only_itself(tmp_path):
    f = _study(tmp_path, 2.0)
    run_study(load_study(f), tmp_path / "out", jobs=1, progress=None, dashboard=False)
    f = _study(tmp_path, 3.0)
    events = []
    out = run_study(load_study(f), tmp_path / "out", jobs=1, progress=events.append,
                    dashboard=False, resume=True)
    assert sorted((e.scenario, e.rep) for e in events) == [("high_standby", 0),
                                                          ("high_standby", 1)]
    assert json.loads((out / "study.json").read_text())["runs_reused"] == 2
    e = pd.read_parquet(out / "runs.parquet").set_index(["scenario", "replication"])
    assert e.loc[("high_standby", 0), "electricity_kwh"] - e.loc[("base", 0), "electricity_kwh"] \
        == pytest.approx(OFF_SHIFT_H * 2.5, abs=1e-6)
    # without --resume an existing study folder is still refused
    from twin.study import StudyOutputError

    with pytest.raises(StudyOutputError, match="folder exists"):
        run_study(load_study(f), tmp_path / "out", jobs=1, progress=None)


# ---------------------------------------------------------------------------------------------
# workers get the plant and the bytes of its files, not paths


def test_worker_uses_shipped_file_bytes_when_the_path_is_gone(tmp_path):
    import twin
    from twin.study import _Task
    from twin.study_runs import RunJob, data_files, execute

    write_factors(tmp_path)
    (tmp_path / "plant.yaml").write_text(FACTOR_PLANT)
    plant = twin.load_plant(tmp_path / "plant.yaml")
    [path] = data_files(plant)
    data = Path(path).read_bytes()
    Path(path).unlink()  # the worker's machine does not have it
    task = _Task("s", 0, plant, 2.0, plant.simulation.start, 0, "")
    res = execute(RunJob(task, "k", None, ((path, data),)))
    # a flat 10 kW load: (16 h x 0.3 + 32 h x 0.8) x 10 kWh = 304 kg (test_own_factors)
    assert json.loads(res.kpis_json)["co2_scope2_location_kg"] == pytest.approx(304.0)
    manifest = json.loads(dict(res.folder_files)["manifest.json"])
    assert manifest["config"]["carbon"]["hourly_factor_file"] == path  # as the study named it


def test_dask_cluster_of_two_workers_matches_one_process(tmp_path):
    distributed = pytest.importorskip("distributed")
    write_factors(tmp_path, hours=7 * 24)
    f = write_study(tmp_path, STUDY_2X2.replace("days: 7", "days: 2") % 2.0,
                    plant=PLANT + "carbon: {hourly_factor_file: grid/intensity.csv}\n")
    one = run_study(load_study(f), tmp_path / "one", jobs=1, progress=None, dashboard=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster:
        addr = cluster.scheduler_address
        assert addr.startswith("tcp://")
        sent_back = run_study(load_study(f), tmp_path / "dask", scheduler=addr, progress=None,
                              dashboard=False)
        shared = tmp_path / "shared-runs"
        on_shared = run_study(load_study(f), tmp_path / "dask2", scheduler=addr, progress=None,
                              dashboard=False, runs_dir=shared)
    for out in (sent_back, on_shared):
        _same_outputs(one, out)
        assert (out / "high_standby/rep1/hourly.parquet").read_bytes() == \
            (one / "high_standby/rep1/hourly.parquet").read_bytes()
        assert json.loads((out / "study.json").read_text())["executor"].startswith(
            "Dask cluster tcp://")
    assert len([p for p in shared.iterdir() if p.is_dir()]) == 4  # the user's cache stays


# ---------------------------------------------------------------------------------------------
# executors


def _fail_on_two(x: int) -> int:
    if x == 2:
        raise ValueError("two")
    return x * x


def test_a_failing_task_does_not_stop_the_others():
    from twin.executors import InProcess, ProcessPool

    for ex in (InProcess(), ProcessPool(2)):
        with ex:
            got = {o.task: (o.value, str(o.error) if o.error else None)
                   for o in ex.map_unordered(_fail_on_two, range(7))}
        assert got == {0: (0, None), 1: (1, None), 2: (None, "two"), 3: (9, None),
                       4: (16, None), 5: (25, None), 6: (36, None)}


def test_bad_scheduler_address_is_one_line():
    from twin.executors import ExecutorError, make_executor

    with pytest.raises(ExecutorError, match=r"^--scheduler 10\.0\.0\.5: expected 'local' or"):
        make_executor(scheduler="10.0.0.5")


# ---------------------------------------------------------------------------------------------
# SIGTERM leaves no orphans


def _worker_like(psutil, proc) -> bool:
    """A live child that is not multiprocessing's resource tracker (a child that has just
    exited, a zombie, is none: its command line cannot be read)."""
    try:
        return "resource_tracker" not in " ".join(proc.cmdline())
    except psutil.Error:
        return False


@pytest.mark.parametrize("how", [["--jobs", "2"], ["--scheduler", "local", "--jobs", "2"]],
                         ids=["pool", "dask-local"])
def test_sigterm_stops_the_workers_it_started(tmp_path, how):
    psutil = pytest.importorskip("psutil")
    f = _study(tmp_path)
    cmd = [sys.executable, "-c", "import sys; from twin.cli import main; sys.exit(main())",
           "compare", str(f), "--out", str(tmp_path / "out"), "--days", "3650",
           *how]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        parent = psutil.Process(proc.pid)
        kids: list = []
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and proc.poll() is None:
            kids = [k for k in parent.children(recursive=True) if _worker_like(psutil, k)]
            if len(kids) >= 2:
                break
            time.sleep(0.2)
        assert len(kids) >= 2, "the workers did not start"
        time.sleep(1.5)  # runs under way
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)  # at once, not after the runs (~20 s each) have finished
        _, alive = psutil.wait_procs(kids, timeout=5)
        alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        assert alive == [], [p.cmdline() for p in alive]
        assert proc.returncode != 0
        assert not (tmp_path / "out").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------------------------
# the page of a 500-scenario study


def test_pareto_front_by_hand():
    from twin.dashboard.study_large import pareto_front

    pts = {"a": (1.0, 9.0), "b": (2.0, 5.0), "c": (3.0, 6.0), "d": (4.0, 1.0),
           "e": (2.0, 7.0), "f": (5.0, 1.0), "g": (float("nan"), 0.0)}
    # c is beaten by b (cheaper and less CO2), e by b (same cost, more CO2), f by d
    assert pareto_front(pts) == ["a", "b", "d"]


def _synthetic_study(folder: Path, n_pv: int = 25, n_batt: int = 20) -> list[str]:
    """A study folder of n_pv x n_batt scenarios without run folders: cost = 100 + 10 i,
    CO2 = 1000 - 20 i + 5 j for PV step i and battery step j, 3 replications. Cost does not
    depend on the battery, which only adds CO2: the front is j = 0, every i."""
    from twin.study import COMPARISON_COLUMNS

    folder.mkdir()
    names, params, rows = [], {}, []
    for i in range(n_pv):
        for j in range(n_batt):
            s = f"pv{i:02d}_bat{j:02d}"
            names.append(s)
            params[s] = {"energy.pv[0].dc_kwp": 100.0 * i, "energy.batteries[0].energy_kwh":
                         50.0 * j}
            for kpi, unit, m in (("cost_total", "CNY", 100.0 + 10 * i),
                                 ("co2_total_location_kg", "kgCO2", 1000.0 - 20 * i + 5 * j),
                                 ("electricity_kwh", "kWh", 5000.0 + i),
                                 ("peak_demand_kw", "kW", 300.0 - j)):
                rows.append({"scenario": s, "kpi": kpi, "unit": unit, "n": 3, "mean": m,
                             "ci_low": m - 1, "ci_high": m + 1, "diff_mean": 0.0,
                             "diff_ci_low": -1.0, "diff_ci_high": 1.0, "diff_pct": 0.0})
    pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS)).to_csv(folder / "comparison.csv",
                                                                index=False)
    manifest = {"name": "sweep", "base": names[0], "scenarios": names, "days": 7,
                "start": "2025-01-06", "replications": 3, "seeds": [1, 2, 3],
                "co2_basis": "location", "currency": "CNY", "parameters": params,
                "twin_version": "test", "plant_file": "plant.yaml"}
    (folder / "study.json").write_text(json.dumps(manifest))
    return names


def test_dashboard_of_500_scenarios_is_small_and_marks_the_front(tmp_path):
    from twin.dashboard.study import write_study_dashboard

    names = _synthetic_study(tmp_path / "study")
    page = write_study_dashboard(tmp_path / "study")
    html = page.read_text()
    assert page.stat().st_size < 10 * 1024 * 1024
    assert 'id="fig-study-pareto"' in html and 'id="fig-study-response-1"' in html
    assert html.count("<tr>") == len(names) + 1  # the sortable table: one row per scenario
    assert html.count("<td data-v=\"1\">✓</td>") == 25  # battery step 0 at every PV step
    assert 'id="fig-study-kpis"' not in html  # 500 bars per panel would be unreadable


CHROMIUM_OK = all(__import__("shutil").which(x) for x in ("chromium", "chromedriver"))


@pytest.mark.skipif(not CHROMIUM_OK, reason="needs Debian's chromium and chromium-driver")
def test_dashboard_of_500_scenarios_renders_and_sorts(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from twin.dashboard.study import write_study_dashboard

    _synthetic_study(tmp_path / "study")
    page = write_study_dashboard(tmp_path / "study")
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,2400"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(__import__("shutil").which("chromedriver")),
                           options=options)
    try:
        drv.get(page.as_uri())
        ids = ("fig-study-pareto", "fig-study-response-0", "fig-study-response-1")
        WebDriverWait(drv, 60).until(lambda d: all(
            d.find_elements(By.CSS_SELECTOR, f"#{i} svg.main-svg") for i in ids))
        errors = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        first = "#study-sortable tbody tr:first-child td:first-child"
        assert drv.find_element(By.CSS_SELECTOR, first).text.startswith("pv00_bat00")
        co2_head = drv.find_elements(By.CSS_SELECTOR, "#study-sortable th")[4]
        co2_head.click()  # ascending CO2: PV step 24, battery step 0 is the lowest (520 kg)
        assert drv.find_element(By.CSS_SELECTOR, first).text == "pv24_bat00"
    finally:
        drv.quit()


def test_response_values_come_from_the_resolved_plants(reference):
    from twin.study_runs import parameter_values

    f, _ = reference
    vals = parameter_values(load_study(f))
    assert vals == {"base": {PATH: 0.5}, "high_standby": {PATH: 2.0}}
    assert np.isfinite(list(vals["base"].values())).all()


def test_cli_bad_scheduler_is_a_usage_error(tmp_path, capsys):
    from twin.cli import main

    f = _study(tmp_path)
    rc = main(["compare", str(f), "--out", str(tmp_path / "out"), "--scheduler", "nowhere"])
    err = capsys.readouterr().err
    assert rc != 0 and "--scheduler nowhere: expected 'local' or" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()
