"""Scenario studies: study files and override paths, common random numbers, confidence
intervals, the economics of upgrades, and ``twin compare`` end to end."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from twin.cli import main
from twin.config.errors import ConfigError
from twin.config.study import apply_override, load_study, parse_override_path
from twin.strategies import STRATEGIES, Strategy, register_strategy
from twin.study import (
    Interval,
    annualise,
    economics,
    flat_kpis,
    mean_ci,
    paired_ci,
    run_study,
)

# A deterministic press (constant arrivals and process time, arrivals only in shifts) beside a
# random oven (exponential process time): replications differ, the press's standby time does
# not. Shifts 06-22 h Monday to Friday, one week from Monday: 7 x 24 - 5 x 16 = 88 h off shift,
# all of it in standby (no warm-up, no minimum stay; 16 h / 1750 s has no arrival at 22:00).
PLANT = textwrap.dedent("""\
    site: {name: standby test, timezone: UTC, latitude: 0, longitude: 0}
    simulation: {days: 7, start: 2025-01-06, seed: 3}
    calendar:
      shifts:
        day: {start: "06:00", end: "22:00"}
      week: {mon: [day], tue: [day], wed: [day], thu: [day], fri: [day]}
    products: [{id: p, route: [a, b]}]
    equipment_types:
      - id: press
        power_kw: {electricity: {idle: 1, processing: 5, standby: 0.5}}
        saving_modes: {standby: {warm_up_s: 0, min_stay_s: 0}}
        off_shift_mode: standby
        warm_up_before_shift: false
      - id: oven
        power_kw: {electricity: {idle: 2, processing: 8}}
    lines:
      - id: l
        stations:
          - {id: a, equipment: press, process_time: {dist: constant, value: 600}}
          - {id: b, equipment: oven, process_time: {dist: exponential, mean: 500}}
    sources:
      - {id: src, kind: arrivals, product_mix: {p: 1}, active: shifts,
         interarrival: {dist: constant, value: 1750}}
    """)

OFF_SHIFT_H = 7 * 24 - 5 * 16


def write_study(tmp_path: Path, body: str, plant: str = PLANT) -> Path:
    (tmp_path / "plant.yaml").write_text(plant)
    f = tmp_path / "study.yaml"
    f.write_text(textwrap.dedent(body))
    return f


def study_error(tmp_path: Path, body: str) -> str:
    f = write_study(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_study(f)
    return str(err.value)


# ---------------------------------------------------------------------------------------------
# override paths


def test_override_by_index_and_by_id_sets_the_field(tmp_path):
    f = write_study(tmp_path, """\
        plant: plant.yaml
        base: base
        scenarios:
          base: {}
          changed:
            overrides:
              lines[0].stations[1].process_time: {dist: constant, value: 42}
              equipment_types[id=press].power_kw.electricity.standby: 2
              equipment_types[id=oven].power_kw.electricity.off: 0.25
              simulation.days: 3
        """)
    r = load_study(f)
    base, changed = r.plants["base"], r.plants["changed"]
    assert changed.lines[0].stations[1].process_time.value == 42
    press = {t.id: t for t in changed.equipment_types}["press"]
    assert press.power_kw["electricity"]["standby"] == 2
    oven = {t.id: t for t in changed.equipment_types}["oven"]
    assert oven.power_kw["electricity"]["off"] == 0.25  # a key the plant file left out
    assert changed.simulation.days == 3
    # the base is the plant file untouched, and so is the plant the others were built from
    assert {t.id: t for t in base.equipment_types}["press"].power_kw["electricity"][
        "standby"] == 0.5
    assert base == r.base_plant


def test_override_path_parser():
    steps = parse_override_path("equipment_types[id=press 2].power_kw.electricity")
    assert [(s.key, s.by_id) for s in steps] == [
        ("equipment_types", False), ("press 2", True), ("power_kw", False),
        ("electricity", False)]
    assert [s.key for s in parse_override_path("lines[0].stations[12]")] == [
        "lines", 0, "stations", 12]
    for bad in ("", "a..b", "a.", "[0]", "a b.c]x", ".a"):
        with pytest.raises(ValueError):
            parse_override_path(bad)


def test_apply_override_reports_what_exists():
    data = {"lines": [{"id": "l", "stations": [{"id": "a"}]}], "site": {"name": "x"}}
    assert apply_override(data, "lines[id=l].stations[0].machines", 3) == (
        "lines", 0, "stations", 0, "machines")
    assert data["lines"][0]["stations"][0]["machines"] == 3
    with pytest.raises(ValueError, match=r"lines\[0\].stations has 1 item; index 4"):
        apply_override(data, "lines[0].stations[4].machines", 1)
    with pytest.raises(ValueError, match="no item with id 'lx'; did you mean 'l'"):
        apply_override(data, "lines[id=lx].id", "z")
    with pytest.raises(ValueError, match="has no field 'nmae'; did you mean 'name'"):
        apply_override(data, "site.nmae", "y")
    with pytest.raises(ValueError, match=r"energy\.pv is not in the plant file"):
        apply_override(data, "energy.pv[0].dc_kwp", 5)


def test_missing_override_path_names_file_line_scenario_and_path(tmp_path):
    msg = study_error(tmp_path, """\
        plant: plant.yaml
        base: base
        scenarios:
          base: {}
          bigger:
            overrides:
              equipment_types[id=pres].power_kw.electricity.standby: 2
        """)
    assert "study.yaml:7: scenarios.bigger.overrides['equipment_types[id=pres]" in msg
    assert "did you mean 'press'" in msg


def test_unknown_field_in_override_is_an_error_with_a_hint(tmp_path):
    msg = study_error(tmp_path, """\
        plant: plant.yaml
        base: base
        scenarios:
          base: {}
          x:
            overrides:
              lines[0].stations[0].proces_time: 5
        """)
    assert "scenarios.x.overrides['lines[0].stations[0].proces_time']" in msg
    assert "did you mean 'process_time'" in msg


def test_invalid_value_names_the_override_and_the_plant_fields_message(tmp_path):
    msg = study_error(tmp_path, """\
        plant: plant.yaml
        base: base
        scenarios:
          base: {}
          broken:
            overrides:
              equipment_types[id=press].power_kw.electricity.standby: -3
        """)
    lines = msg.splitlines()
    assert lines[0].startswith(str(tmp_path / "study.yaml"))
    standby = next(ln for ln in lines if "standby" in ln)
    assert "study.yaml:7: scenarios.broken.overrides['equipment_types[id=press]" in standby
    assert "plant field equipment_types[0].power_kw.electricity.standby" in standby
    assert "expected a number >= 0 (got -3)" in standby
    # a reference that no longer resolves (checked once every field is valid)
    msg = study_error(tmp_path, """\
        plant: plant.yaml
        base: base
        scenarios:
          base: {}
          broken:
            overrides:
              simulation.days: 2
              lines[0].stations[0].equipment: presss
        """)
    assert "study.yaml:8: scenarios.broken.overrides['lines[0].stations[0].equipment']: " \
        "plant field lines[0].stations[0].equipment: unknown equipment type; did you mean " \
        "'press'? (got 'presss')" in msg


def test_study_file_errors_have_lines_and_hints(tmp_path):
    msg = study_error(tmp_path, """\
        plant: plant.yaml
        base: baseline
        replication: 3
        scenarios:
          base: {}
        """)
    assert "study.yaml:3: replication: unknown key 'replication'; did you mean 'replications'?" \
        in msg
    msg = study_error(tmp_path, """\
        plant: plant.yaml
        base: baseline
        scenarios:
          base: {}
          bad/name: {}
        """)
    assert "study.yaml:2: base: no scenario of that name; did you mean 'base'?" in msg
    assert "scenarios.bad/name" in msg
    msg = study_error(tmp_path, """\
        plant: missing.yaml
        base: base
        scenarios: {base: {}}
        """)
    assert "study.yaml:1: plant: plant file not found" in msg


def test_upgrade_checked_before_any_run(tmp_path):
    msg = study_error(tmp_path, """\
        plant: plant.yaml
        base: base
        scenarios:
          base: {}
          up:
            upgrade: {capex: 1000, lifetime_years: 5, analysis_years: 12, replacement_years: [5],
                      annual_energy_kwh: pv_kw}
        """)
    assert "scenarios.up.upgrade.discount_rate: no discount rate" in msg
    msg = study_error(tmp_path, """\
        plant: plant.yaml
        base: base
        discount_rate: 0.05
        scenarios:
          base: {}
          up:
            upgrade: {capex: 1000, lifetime_years: 5, analysis_years: 12, replacement_years: [5],
                      annual_energy_kwh: pv_kw}
        """)
    assert "scenarios.up.upgrade.annual_energy_kwh: unknown KPI; did you mean 'pv_kwh'?" in msg
    assert "scenarios.up.upgrade.replacement_years:" in msg and "beyond lifetime_years" in msg


# ---------------------------------------------------------------------------------------------
# statistics


def test_mean_ci_by_hand_and_against_scipy():
    # x = 1..5: mean 3, s = sqrt(2.5), t(0.975, 4) = 2.7764451
    iv = mean_ci([1, 2, 3, 4, 5])
    assert iv.mean == 3 and iv.n == 5
    assert iv.half_width == pytest.approx(2.7764451 * math.sqrt(2.5) / math.sqrt(5), rel=1e-7)
    x = np.array([12.1, 9.7, 11.4, 10.2, 13.9, 8.8, 10.5])
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    iv = mean_ci(x)
    assert (iv.low, iv.high) == pytest.approx((lo, hi), rel=1e-12)
    iv90 = mean_ci(x, level=0.9)
    assert (iv90.low, iv90.high) == pytest.approx(
        stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=stats.sem(x)), rel=1e-12)


def test_one_replication_has_no_interval_and_constant_has_zero_width():
    one = mean_ci([4.2])
    assert one.mean == 4.2 and math.isnan(one.low) and math.isnan(one.high) and one.n == 1
    same = mean_ci([7.0, 7.0, 7.0])
    assert (same.low, same.mean, same.high) == (7.0, 7.0, 7.0)
    assert math.isnan(mean_ci([1.0, math.nan]).mean)


def test_paired_ci_is_the_t_interval_of_the_differences():
    base = np.array([100.0, 130.0, 90.0, 120.0])
    scen = base - np.array([5.0, 6.0, 4.0, 5.5])
    d = scen - base
    lo, hi = stats.t.interval(0.95, 3, loc=d.mean(), scale=stats.sem(d))
    iv = paired_ci(scen, base)
    assert iv.mean == pytest.approx(-5.125)
    assert (iv.low, iv.high) == pytest.approx((lo, hi))
    # the unpaired interval would be far wider: common random numbers pay off
    assert iv.half_width < 0.1 * mean_ci(scen).half_width
    with pytest.raises(ValueError, match="equal lengths"):
        paired_ci([1, 2], [1, 2, 3])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=30),
       st.floats(-1e3, 1e3, allow_nan=False))
def test_interval_invariants(xs, shift):
    iv = mean_ci(xs)
    assert iv.low <= iv.mean <= iv.high
    assert mean_ci(xs, level=0.8).half_width <= iv.half_width + 1e-9
    zero = paired_ci(xs, xs)
    assert (zero.mean, zero.low, zero.high) == (0.0, 0.0, 0.0)
    moved = paired_ci(np.asarray(xs) + shift, xs)
    assert moved.mean == pytest.approx(shift, abs=1e-6)
    assert moved.half_width <= 1e-6 * (1 + max(abs(x) for x in xs))


# ---------------------------------------------------------------------------------------------
# runs


STANDBY_STUDY = """\
    name: standby study
    plant: plant.yaml
    replications: 3
    seed: 11
    base: base
    scenarios:
      base: {}
      twin: {}
      high_standby:
        overrides:
          equipment_types[id=press].power_kw.electricity.standby: 2.0
    """


@pytest.fixture(scope="module")
def standby_study(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("standby")
    f = write_study(d, STANDBY_STUDY)
    out = run_study(load_study(f), d / "out", jobs=1, progress=None, dashboard=False)
    return f, out


def _kpis(out: Path, scen: str, k: int) -> dict:
    return json.loads((out / scen / f"rep{k}" / "kpis.json").read_text())


def test_crn_identical_scenarios_give_identical_runs(standby_study):
    _, out = standby_study
    for k in range(3):
        assert _kpis(out, "base", k) == _kpis(out, "twin", k)
        assert (out / "base" / f"rep{k}" / "hourly.parquet").read_bytes() == \
            (out / "twin" / f"rep{k}" / "hourly.parquet").read_bytes()
    # and the replications differ from each other (the oven is random)
    assert _kpis(out, "base", 0)["electricity_kwh"] != _kpis(out, "base", 1)["electricity_kwh"]
    seeds = [json.loads((out / "base" / f"rep{k}" / "manifest.json").read_text())["seed"]
             for k in range(3)]
    assert seeds == [11, 12, 13]
    cmp = pd.read_csv(out / "comparison.csv")
    twin_rows = cmp[cmp["scenario"] == "twin"]
    assert len(twin_rows) > 10
    assert (twin_rows[["diff_mean", "diff_ci_low", "diff_ci_high"]].to_numpy() == 0).all()


def test_standby_change_matches_hand_calculation(standby_study):
    _, out = standby_study
    # 88 h off shift in standby, 2.0 - 0.5 kW more: 132 kWh more in every replication
    expected = (2.0 - 0.5) * OFF_SHIFT_H
    for k in range(3):
        d = _kpis(out, "high_standby", k)["electricity_kwh"] - _kpis(out, "base", k)[
            "electricity_kwh"]
        assert d == pytest.approx(expected, abs=1e-6)
        eq = pd.read_csv(out / "base" / f"rep{k}" / "equipment.csv", index_col=0)
        assert eq.loc["a", "standby_h"] == pytest.approx(OFF_SHIFT_H)
    cmp = pd.read_csv(out / "comparison.csv").set_index(["scenario", "kpi"])
    row = cmp.loc[("high_standby", "electricity_kwh")]
    assert row["diff_mean"] == pytest.approx(expected, abs=1e-6)
    assert row["diff_ci_high"] - row["diff_ci_low"] == pytest.approx(0, abs=1e-6)
    # while the KPI itself varies between replications
    assert row["ci_high"] - row["ci_low"] > 1.0
    assert cmp.loc[("high_standby", "units_completed"), "diff_mean"] == 0


def test_study_folder_contents(standby_study):
    _, out = standby_study
    manifest = json.loads((out / "study.json").read_text())
    assert manifest["scenarios"] == ["base", "twin", "high_standby"]
    assert manifest["seeds"] == [11, 12, 13] and manifest["replications"] == 3
    assert manifest["config_sha256"]["base"] == manifest["config_sha256"]["twin"]
    assert manifest["config_sha256"]["base"] != manifest["config_sha256"]["high_standby"]
    md = (out / "comparison.md").read_text()
    assert "| Electricity use | kWh |" in md and "+132.0 ± 0" in md
    assert not any(p.name.endswith(".tmp") for p in out.parent.iterdir())


def test_parallel_jobs_give_byte_identical_comparison(tmp_path, standby_study):
    f, out1 = standby_study
    out2 = run_study(load_study(f), tmp_path / "par", jobs=2, progress=None, dashboard=False)
    for name in ("comparison.csv", "economics.csv", "macc.csv", "comparison.md"):
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes(), name
    assert (out1 / "high_standby/rep2/hourly.parquet").read_bytes() == \
        (out2 / "high_standby/rep2/hourly.parquet").read_bytes()


def test_one_replication_says_no_interval(tmp_path):
    f = write_study(tmp_path, STANDBY_STUDY)
    out = run_study(load_study(f), tmp_path / "one", jobs=1, replications=1, days=2,
                    progress=None, dashboard=False)
    cmp = pd.read_csv(out / "comparison.csv")
    assert (cmp["n"] == 1).all() and cmp["ci_low"].isna().all()
    assert "n=1, no interval" in (out / "comparison.md").read_text()


# ---------------------------------------------------------------------------------------------
# economics and the MACC


def test_economics_annualises_paired_savings_and_orders_the_macc(tmp_path):
    f = write_study(tmp_path, """\
        plant: plant.yaml
        base: base
        replications: 2
        discount_rate: 0.1
        scenarios:
          base: {}
          cheap:
            upgrade: {capex: 1000, lifetime_years: 10, annual_energy_kwh: electricity_kwh,
                      variable_om_per_kwh: 0.01}
          dear:
            upgrade: {capex: 50000, lifetime_years: 10, discount_rate: 0.05}
          dud:
            upgrade: {capex: 10, lifetime_years: 1}
        """)
    r = load_study(f)

    def run(cost: float, co2: float, elec: float) -> dict:
        k = flat_kpis({"cost_total": cost, "co2_scope1_kg": 0.0,
                       "co2_scope2_location_kg": co2, "co2_scope2_market_kg": co2,
                       "electricity_kwh": elec, "simulated_days": 7})
        return k

    kpis = {}
    for k, noise in enumerate((0.0, 10.0)):  # the same noise in every scenario (CRN)
        kpis[("base", k)] = run(500 + noise, 2000 + noise, 900 + noise)
        kpis[("cheap", k)] = run(480 + noise, 1900 + noise, 910 + noise)   # saves 20, 100 kg
        kpis[("dear", k)] = run(490 + noise, 1500 + noise, 900 + noise)    # saves 10, 500 kg
        kpis[("dud", k)] = run(500 + noise, 2000 + noise, 900 + noise)     # saves nothing
    econ = economics(r, kpis, 2)
    t = econ.table.set_index("scenario")
    year = 365 / 7
    assert annualise(7.0, 7) == 365.0
    assert t.loc["cheap", "annual_cost_saving"] == pytest.approx(20 * year)
    assert t.loc["cheap", "annual_co2_saving_t"] == pytest.approx(0.1 * year)
    assert t.loc["cheap", "annual_cost_saving_ci_low"] == pytest.approx(20 * year)  # no spread
    assert t.loc["cheap", "annual_energy_kwh"] == pytest.approx(10 * year)  # scen - base
    assert t.loc["cheap", "annual_om_cost"] == pytest.approx(0.01 * 10 * year)
    assert t.loc["dear", "discount_rate"] == 0.05 and t.loc["cheap", "discount_rate"] == 0.1
    # NPV by hand: -capex + net saving x annuity factor
    annuity = (1 - 1.1 ** -10) / 0.1
    assert t.loc["cheap", "npv"] == pytest.approx(-1000 + (20 - 0.1) * year * annuity)
    from twin.economics import macc

    curve = macc(econ.upgrades)
    assert list(curve["name"]) == ["cheap", "dear"]  # cheapest first; 'dud' avoids nothing
    assert (np.diff(curve["abatement_cost_per_t"]) >= 0).all()
    assert curve["cumulative_abatement_t"].iloc[-1] == pytest.approx(0.6 * year)
    assert curve["abatement_cost_per_t"].iloc[0] < 0 < curve["abatement_cost_per_t"].iloc[1]


# ---------------------------------------------------------------------------------------------
# strategies in studies


def test_scenario_strategies_are_added_to_the_plants(tmp_path, tick_strategy):
    plant = PLANT + "strategies: [{type: test_tick, every_s: 86400}]\n"
    f = write_study(tmp_path, """\
        plant: plant.yaml
        base: base
        replications: 1
        days: 2
        scenarios:
          base: {}
          more:
            strategies: [{type: test_tick, every_s: 7200}]
          none:
            overrides: {strategies: []}
        """, plant=plant)
    r = load_study(f)
    assert [s.params for s in r.plants["more"].strategies] == [{"every_s": 86400},
                                                                 {"every_s": 7200}]
    assert r.plants["none"].strategies == []
    out = run_study(r, tmp_path / "out", jobs=1, progress=None, dashboard=False)
    man = json.loads((out / "more/rep0/manifest.json").read_text())
    assert man["strategies"] == ["test_tick", "test_tick"]
    assert json.loads((out / "none/rep0/manifest.json").read_text())["strategies"] == []


def test_bad_scenario_strategy_names_its_place(tmp_path, tick_strategy):
    msg = study_error(tmp_path, """\
        plant: plant.yaml
        base: base
        scenarios:
          base: {}
          more:
            strategies: [{type: test_tick, every: 5}]
        """)
    assert "study.yaml:6: scenarios.more.strategies[0]: plant field strategies[0].every" in msg
    msg = study_error(tmp_path, """\
        plant: plant.yaml
        base: base
        scenarios:
          base: {}
          more:
            strategies: [{type: test_study_tik}]
        """)
    assert "scenarios.more.strategies[0]" in msg and "did you mean 'test_tick'" in msg


# ---------------------------------------------------------------------------------------------
# command line


def test_cli_compare_end_to_end(tmp_path, capsys):
    f = write_study(tmp_path, STANDBY_STUDY)
    out = tmp_path / "cli"
    rc = main(["compare", str(f), "--out", str(out), "--days", "2", "--replications", "2",
               "--jobs", "1"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "[6/6]" in captured.err  # a progress line per finished run
    assert "high_standby (diff)" in captured.out and "Electricity use" in captured.out
    for name in ("comparison.csv", "comparison.md", "economics.csv", "macc.csv", "study.json",
                 "dashboard.html"):
        assert (out / name).is_file(), name
    assert (out / "twin" / "rep1" / "kpis.json").is_file()
    assert json.loads((out / "study.json").read_text())["days"] == 2

    # the folder exists: refuse without --overwrite, replace with it
    assert main(["compare", str(f), "--out", str(out), "--days", "1", "--replications", "1",
                 "--jobs", "1"]) == 2
    assert "folder exists" in capsys.readouterr().err
    assert main(["compare", str(f), "--out", str(out), "--days", "1", "--replications", "1",
                 "--jobs", "1", "--overwrite"]) == 0
    assert json.loads((out / "study.json").read_text())["days"] == 1
    assert not (out / "twin" / "rep1").exists()

    # never clobber a folder that is not a study output
    other = tmp_path / "precious"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    assert main(["compare", str(f), "--out", str(other), "--overwrite", "--days", "1",
                 "--replications", "1", "--jobs", "1"]) == 2
    assert "not a study output folder" in capsys.readouterr().err
    assert (other / "notes.txt").read_text() == "keep me"


def test_cli_compare_bad_input_exits_2(tmp_path, capsys):
    f = write_study(tmp_path, """\
        plant: plant.yaml
        base: base
        scenarios:
          base: {}
          x:
            overrides:
              lines[3].id: q
        """)
    assert main(["compare", str(f), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "study.yaml:7: scenarios.x.overrides['lines[3].id']: lines has 1 item" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(f), "--jobs", "0"])
    assert exc.value.code == 2
    assert "expected jobs >= 1" in capsys.readouterr().err


def test_interval_dataclass_half_width():
    assert Interval(1.0, 0.5, 1.5, 3).half_width == 0.5


def test_study_dashboard_page_has_every_figure_and_escapes_names(standby_study):
    from twin.dashboard.study import (
        MACC_FIGURE_ID,
        STUDY_FIGURE_IDS,
        load_study_folder,
        render_study,
        write_study_dashboard,
    )

    _, out = standby_study
    page = write_study_dashboard(out)
    text = page.read_text()
    for div_id in STUDY_FIGURE_IDS:
        assert f'id="{div_id}"' in text
    assert MACC_FIGURE_ID not in text  # no upgrade in this study
    assert text.count("<script") == text.count("</script>")
    assert "https://" not in text.split("</script>")[-1]  # nothing fetched after plotly.js
    data = load_study_folder(out)
    data.manifest["name"] = "<script>alert(1)</script>"
    html = render_study(data)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    with pytest.raises(FileNotFoundError, match="not a study folder"):
        load_study_folder(out / "base")


def test_a_failed_run_leaves_no_folder(tmp_path):
    @register_strategy("test_study_boom")
    class Boom(Strategy):
        def install(self, model):
            raise RuntimeError("boom in install")

    try:
        f = write_study(tmp_path, """\
            plant: plant.yaml
            base: base
            replications: 2
            days: 1
            scenarios:
              base: {}
              boom: {strategies: [{type: test_study_boom}]}
            """)
        with pytest.raises(RuntimeError, match="boom in install"):
            run_study(load_study(f), tmp_path / "out", jobs=2, progress=None)
        assert not (tmp_path / "out").exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    finally:
        STRATEGIES.pop("test_study_boom", None)


def test_format_interval_rounds_to_the_interval():
    from twin.study import format_interval

    assert format_interval(43712.08, 43650.47, "kWh", 3) == "43,712 ± 62"
    assert format_interval(1.60102, 1.59858, "kWh/unit", 3) == "1.6010 ± 0.0024"
    assert format_interval(0.113, 0.1113, "-", 3, signed=True) == "+11.30 pp ± 0.17 pp"
    assert format_interval(132.0, 132.0 - 1e-12, "kWh", 3, signed=True) == "+132.0 ± 0"
    assert format_interval(5.0, math.nan, "kWh", 1) == "5.00"


def test_study_start_out_of_range_names_the_field(tmp_path):
    msg = study_error(tmp_path, """\
        plant: plant.yaml
        base: base
        start: 1800-01-01
        scenarios: {base: {}}
        """)
    assert "study.yaml:3: start: expected a start day between" in msg


def test_co2_basis_market_uses_market_based_scope2(tmp_path):
    body = """\
        plant: plant.yaml
        base: base
        replications: 2
        discount_rate: 0.1
        co2_basis: {basis}
        scenarios:
          base: {{}}
          up: {{upgrade: {{capex: 100, lifetime_years: 5}}}}
        """
    kpis = {}
    for k in range(2):
        for s, loc, mkt, fuel in (("base", 1000.0, 800.0, 50.0), ("up", 900.0, 780.0, 40.0)):
            kpis[(s, k)] = flat_kpis({"co2_scope1_kg": fuel, "co2_scope2_location_kg": loc,
                                      "co2_scope2_market_kg": mkt, "cost_total": 0.0,
                                      "simulated_days": 365})
    for basis, saved_kg in (("location", 110.0), ("market", 30.0)):
        d = tmp_path / basis
        d.mkdir()
        r = load_study(write_study(d, body.format(basis=basis)))
        t = economics(r, kpis, 2).table.set_index("scenario")
        assert t.loc["up", "annual_co2_saving_t"] == pytest.approx(saved_kg / 1000)


def test_validate_checks_study_files(tmp_path, capsys):
    f = write_study(tmp_path, STANDBY_STUDY)
    assert main(["validate", str(f)]) == 0
    assert "OK (study on plant.yaml: 3 scenarios, base 'base', 3 replications; 9 runs)" in \
        capsys.readouterr().out
    bad = write_study(tmp_path, STANDBY_STUDY.replace("standby: 2.0", "standby: high"))
    assert main(["validate", str(bad)]) == 2
    assert "scenarios.high_standby.overrides" in capsys.readouterr().err
