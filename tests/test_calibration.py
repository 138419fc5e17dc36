"""``twin calibrate`` end to end: meters made by another plant (other power figures, another
seed, noise), the fit recovering that plant's values, what the meters cannot tell apart, the
folder it writes, and the errors it gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import twin
from twin.cli import main
from twin.config import load_plant
from twin.config.calibration import plant_at
from twin.config.loader import read_yaml

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "plant_configs" / "demo_plant.yaml"
START, DAYS = "2026-03-02", 21
LIGHT = "base_loads[id=lighting].power_kw.electricity"
HVAC = "base_loads[id=hvac_base].power_kw.electricity"
IT = "base_loads[id=office_it].power_kw.electricity"
LEAKS = "base_loads[id=compressed_air_leaks].power_kw.electricity"
MC_IDLE = "equipment_types[id=machining_centre].power_kw.electricity.idle"
PRESS = "equipment_types[id=press].power_kw.electricity.processing"
WELD = "lines[id=body_shop].stations[id=weld].process_time.mean"
TRUE = {LIGHT: 50.0, HVAC: 24.0, LEAKS: 15.0, MC_IDLE: 8.5, PRESS: 48.0, WELD: 44.0}


def _meters(tmp_path: Path, true: dict, noise: float = 0.02, seed: int = 4321) -> Path:
    """15-min meter file of the demo plant with ``true`` values, another seed and noise."""
    data, _ = read_yaml(DEMO)
    data["energy"]["dispatch"]["bound"] = False
    res = twin.simulate(plant_at(data, DEMO, true), days=DAYS, start=START, seed=seed)
    iv = res.intervals
    df = pd.DataFrame({"facility": iv["electricity_kwh:facility"],
                       "machining": iv["electricity_kwh:machining"],
                       "body": iv["electricity_kwh:body_shop"],
                       "utilities": iv["electricity_kwh:utilities"],
                       "site": iv["electricity_demand_kwh"]}, index=iv.index)
    rng = np.random.default_rng(seed)
    df *= 1 + noise * rng.standard_normal(df.shape)
    df.iloc[300:320, 1] = np.nan  # a gap of 5 h in the machining meter
    df.index = df.index.map(lambda t: t.isoformat())
    df.index.name = "time"
    path = tmp_path / "meters.csv"
    df.to_csv(path)
    return path


def _cal_file(tmp_path: Path, params: list[dict], columns: dict | None = None, **extra) -> Path:
    cal = {"plant": str(DEMO), "meter": {
        "file": "meters.csv", "timestamp": "time", "label": "start", "unit": "kWh",
        "columns": columns or {"facility": {"group": "facility"},
                               "machining": {"group": "machining"},
                               "body": {"group": "body_shop"},
                               "site": {"site": "consumption"}}},
           "period": {"start": START, "days": DAYS}, "replications": 2,
           "parameters": params, **extra}
    path = tmp_path / "cal.yaml"
    path.write_text(yaml.safe_dump(cal, sort_keys=False), encoding="utf-8")
    return path


def _bounds(path: str, lo: float, hi: float) -> dict:
    return {"path": path, "min": lo, "max": hi}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> tuple[Path, dict]:
    """Five power figures and the weld time fitted to meters of the 'true' plant."""
    tmp = tmp_path_factory.mktemp("cal")
    _meters(tmp, TRUE)
    cal = _cal_file(tmp, [_bounds(LIGHT, 10, 100), _bounds(HVAC, 5, 80),
                          _bounds(LEAKS, 2, 40), _bounds(MC_IDLE, 1, 16),
                          _bounds(PRESS, 30, 90), _bounds(WELD, 30, 55)],
                    holdout_days=7, max_runs=40)
    out = tmp / "out"
    assert main(["calibrate", str(cal), "--out", str(out)]) == 0
    return out, json.loads((out / "calibration.json").read_text())


def test_the_fit_recovers_the_plant_that_made_the_meters(fitted):
    _, summary = fitted
    got = {p["path"]: p for p in summary["parameters"]}
    # stated tolerance: within 4 % of the true value, and within 4 standard errors where these
    # are not tiny (the meters are one realisation of another seed's randomness, plus 2 % noise)
    for path, true in TRUE.items():
        p = got[path]
        assert p["identifiable"] and not p["at_bound"], path
        assert p["after"] == pytest.approx(true, rel=0.04), path
        assert p["std"] is not None and p["std"] > 0, path
        assert abs(p["after"] - true) <= max(4 * p["std"], 0.015 * true), path
    assert got[WELD]["kind"] == "timeline"
    assert got[LIGHT]["kind"] == "linear"


def test_metrics_before_after_and_held_out(fitted):
    out, summary = fitted
    m = summary["metrics"]
    assert set(m) == {"before", "after", "holdout"}
    assert set(m["after"]) == {"facility", "machining", "body", "site"} | {"site"}
    for meter in ("facility", "machining", "body", "site"):
        # the fit brings every meter's bias down and stays within Guideline 14 hourly limits
        assert abs(m["after"][meter]["nmbe_hourly_pct"]) < abs(
            m["before"][meter]["nmbe_hourly_pct"]) or abs(
            m["after"][meter]["nmbe_hourly_pct"]) < 1.0
        assert m["after"][meter]["pass_hourly"] is True
        assert m["holdout"][meter]["pass_hourly"] is True
    # the held-out week: 7 x 24 hours, none of the gap (it lies in the fitted days)
    assert m["holdout"]["facility"]["n_hourly"] == 7 * 24
    # fitted days: 14 x 24 hours; the machining meter's 5-hour gap is left out
    assert m["after"]["facility"]["n_hourly"] == 14 * 24
    assert m["after"]["machining"]["n_hourly"] == 14 * 24 - 5
    assert summary["data_quality"]["machining"]["missing"] == 20
    cmp = pd.read_parquet(out / "comparison.parquet")
    assert len(cmp) == DAYS * 24 and cmp["holdout"].sum() == 7 * 24
    assert {"measured:site", "before:site", "after:site"} <= set(cmp.columns)


def test_the_calibrated_plant_runs_with_the_fitted_values(fitted, tmp_path):
    out, summary = fitted
    plant = load_plant(out / "calibrated_plant.yaml")
    assert plant.base_loads[0].power_kw["electricity"] == pytest.approx(
        summary["parameters"][0]["after"])
    assert main(["run", str(out / "calibrated_plant.yaml"), "--days", "1",
                 "--out", str(tmp_path / "run")]) == 0
    assert (out / "dashboard.html").stat().st_size > 10_000


def test_two_always_on_loads_on_one_meter_are_reported_not_guessed(tmp_path):
    _meters(tmp_path, {HVAC: 35.0, IT: 12.0})  # both always on, both on the facility meter
    cal = _cal_file(tmp_path, [_bounds(HVAC, 5, 80), _bounds(IT, 1, 40), _bounds(LIGHT, 10, 90)],
                    columns={"facility": {"group": "facility"}}, replications=1)
    out = tmp_path / "out"
    assert main(["calibrate", str(cal), "--out", str(out)]) == 0
    s = json.loads((out / "calibration.json").read_text())
    ident = s["identifiability"]
    assert ident["unidentifiable"] == [[HVAC, IT]]
    assert ident["rank"] == 2
    assert "fix all but one" in ident["message"].lower()
    got = {p["path"]: p for p in s["parameters"]}
    assert not got[HVAC]["identifiable"] and not got[IT]["identifiable"]
    assert got[HVAC]["std"] is None and got[IT]["std"] is None
    assert got[LIGHT]["identifiable"]
    # the meters fix the sum (35 + 12 = 47 kW, within the noise); the split is the one closest
    # to the plant file's 30 + 8: each moves by half the difference
    total = got[HVAC]["after"] + got[IT]["after"]
    assert total == pytest.approx(47.0, rel=0.01)
    assert got[HVAC]["after"] - 30.0 == pytest.approx(got[IT]["after"] - 8.0, abs=0.05)


def test_no_fit_compares_only(tmp_path, capsys):
    _meters(tmp_path, {})
    cal = _cal_file(tmp_path, [_bounds(LIGHT, 10, 100)], replications=1)
    out = tmp_path / "out"
    assert main(["calibrate", str(cal), "--out", str(out), "--no-fit"]) == 0
    s = json.loads((out / "calibration.json").read_text())
    assert s["fit"] is False and set(s["metrics"]) == {"before"}
    assert not (out / "calibrated_plant.yaml").exists()
    assert "before" in capsys.readouterr().out


@pytest.mark.parametrize(("params", "columns", "message"), [
    ([_bounds("base_loads[id=lightning].power_kw.electricity", 1, 9)], None,
     "did you mean 'lighting'"),
    ([_bounds(WELD.removesuffix(".mean"), 1, 9)], None, "names a distribution"),
    ([_bounds(LIGHT, 50, 90)], None, "outside [min 50, max 90]"),
    ([_bounds(LIGHT, 90, 50)], None, "min must be below max"),
    ([_bounds(LIGHT, 10, 90)], {"facility": {"group": "facilty"}}, "did you mean 'facility'"),
    ([_bounds(LIGHT, 10, 90)], {"nowhere": {"group": "facility"}}, "nowhere"),
    ([_bounds("lines[id=machining].stations[id=cnc].machines", 1, 4)], None, "whole numbers"),
])
def test_bad_calibration_files_are_one_line_errors(tmp_path, capsys, params, columns, message):
    (tmp_path / "meters.csv").write_text(
        "time,facility,machining,body,site\n2026-03-02T00:00:00+08:00,1,1,1,1\n")
    cal = _cal_file(tmp_path, params, columns=columns)
    for cmd in (["validate", str(cal)], ["calibrate", str(cal), "--out", str(tmp_path / "o")]):
        assert main(cmd) == 2
        err = capsys.readouterr().err
        assert message in err, err
        assert "Traceback" not in err
        assert "cal.yaml" in err or "meters.csv" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("extra", "message"), [
    ({"holdout_days": DAYS}, "leaves no day to fit"),
    ({"period": {"start": "2027-01-04", "days": 7}}, "no whole hour of valid readings"),
])
def test_periods_that_cannot_be_compared_stop_before_simulating(tmp_path, capsys, extra,
                                                               message):
    (tmp_path / "meters.csv").write_text(
        "time,facility,machining,body,site\n2026-03-02T00:00:00+08:00,1,1,1,1\n"
        "2026-03-02T00:15:00+08:00,1,1,1,1\n2026-03-02T00:30:00+08:00,1,1,1,1\n"
        "2026-03-02T00:45:00+08:00,1,1,1,1\n")
    cal = _cal_file(tmp_path, [_bounds(LIGHT, 10, 90)], **extra)
    assert main(["calibrate", str(cal), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert "simulating" not in err


def test_parallel_replications_give_the_same_fit(tmp_path):
    _meters(tmp_path, {LIGHT: 47.0, MC_IDLE: 7.5})
    cal = _cal_file(tmp_path, [_bounds(LIGHT, 10, 90), _bounds(MC_IDLE, 1, 16)],
                    period={"start": START, "days": 7})
    got = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        assert main(["calibrate", str(cal), "--out", str(out), "--jobs", jobs]) == 0
        s = json.loads((out / "calibration.json").read_text())
        got.append((s["parameters"], s["metrics"], s["runs"]))
    assert got[0] == got[1]


def test_without_a_site_meter_the_site_is_the_sum_of_group_meters_covering_every_group(
        tmp_path):
    _meters(tmp_path, {})
    cal = _cal_file(tmp_path, [], columns={
        "facility": {"group": "facility"}, "machining": {"group": "machining"},
        "body": {"group": "body_shop"}, "utilities": {"group": "utilities"}},
        period={"start": START, "days": 7}, replications=1)
    out = tmp_path / "out"
    assert main(["calibrate", str(cal), "--out", str(out), "--no-fit"]) == 0
    s = json.loads((out / "calibration.json").read_text())
    assert s["site_meter"] == "sum of facility, machining, body, utilities"
    # hours where all four meters read: 7 x 24 less the machining meter's 5-hour gap
    assert s["metrics"]["before"]["site"]["n_hourly"] == 7 * 24 - 5
    cmp = pd.read_parquet(out / "comparison.parquet")
    parts = cmp[[f"measured:{m}" for m in ("facility", "machining", "body", "utilities")]]
    assert cmp["measured:site"].to_numpy() == pytest.approx(
        parts.sum(axis=1, skipna=False).to_numpy(), nan_ok=True)
    sim = cmp[[f"before:{m}" for m in ("facility", "machining", "body", "utilities")]]
    assert cmp["before:site"].to_numpy() == pytest.approx(sim.sum(axis=1).to_numpy())
    # a set of meters that leaves a group out is no site
    cal = _cal_file(tmp_path, [], columns={"facility": {"group": "facility"}},
                    period={"start": START, "days": 7}, replications=1)
    assert main(["calibrate", str(cal), "--out", str(tmp_path / "o2"), "--no-fit"]) == 0
    s = json.loads((tmp_path / "o2" / "calibration.json").read_text())
    assert s["site_meter"] is None and "site" not in s["metrics"]["before"]


def test_a_period_across_the_autumn_clock_change_compares_every_local_hour(tmp_path):
    """A plant in Europe/Berlin, 24-26 Oct 2026 (the clocks go back on the 25th): 3 local days
    are 73 hours; meters written in naive local time (the repeated hour twice, in order) are
    matched hour by hour, so the plant compared with meters made by itself fits exactly."""
    data, _ = read_yaml(DEMO)
    data["site"]["timezone"] = "Europe/Berlin"
    data.pop("energy")  # the demo's tariff is Chinese; the meters need no supply here
    plant_file = tmp_path / "berlin.yaml"
    plant_file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                          encoding="utf-8")
    res = twin.simulate(load_plant(plant_file), days=3, start="2026-10-24")
    iv = res.intervals
    local = iv.index.tz_localize(None)  # naive local wall time: 02:00-02:45 appear twice
    pd.DataFrame({"time": local.map(lambda t: t.isoformat()),
                  "site": iv["electricity_demand_kwh"].to_numpy()}).to_csv(
        tmp_path / "meters.csv", index=False)
    cal = {"plant": str(plant_file), "meter": {
        "file": "meters.csv", "timestamp": "time", "label": "start", "unit": "kWh",
        "columns": {"site": {"site": "consumption"}},
        "quality": {"flatline_h": None}},  # a simulation's night load is exactly constant
           "period": {"start": "2026-10-24", "days": 3}, "replications": 1}
    path = tmp_path / "cal.yaml"
    path.write_text(yaml.safe_dump(cal), encoding="utf-8")
    assert main(["calibrate", str(path), "--out", str(tmp_path / "out"), "--no-fit"]) == 0
    s = json.loads((tmp_path / "out" / "calibration.json").read_text())
    m = s["metrics"]["before"]["site"]
    assert m["n_hourly"] == 73
    assert m["cv_rmse_hourly_pct"] == pytest.approx(0.0, abs=1e-9)
    cmp = pd.read_parquet(tmp_path / "out" / "comparison.parquet")
    assert len(cmp) == 73 and cmp.index.is_unique
