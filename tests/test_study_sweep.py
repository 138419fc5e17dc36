"""Study sweeps (grid, Latin hypercube, Sobol', explicit sets) and uncertainty drawn per
replication (weather, prices, grid factor year) with common random numbers across scenarios."""

from __future__ import annotations

import json
import math
import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.cli import main
from twin.config.errors import ConfigError
from twin.config.study import SCENARIO_PATTERN, load_study
from twin.config.uncertainty import Uncertainty, draw
from twin.study import run_study

# A press and a random oven (exponential process times: replications differ) in Jiangsu with
# 20 kWp of PV on synthetic weather, a battery and the Jiangsu 2025 TOU preset (valid from
# 2025-06-01; two-part class: peak ratio 1.8, valley 0.35, 苏发改价格发〔2025〕426号).
PLANT = textwrap.dedent("""\
    site: {name: sweep test, timezone: Asia/Shanghai, latitude: 31.3, longitude: 120.6,
           province: Jiangsu}
    simulation: {days: 2, start: 2025-06-02, seed: 3}
    calendar:
      shifts:
        day: {start: "06:00", end: "22:00"}
      week: {mon: [day], tue: [day], wed: [day], thu: [day], fri: [day]}
    products: [{id: p, route: [a, b]}]
    equipment_types:
      - id: press
        power_kw: {electricity: {idle: 1, processing: 5}}
      - id: oven
        power_kw: {electricity: {idle: 2, processing: 8}}
    lines:
      - id: l
        stations:
          - {id: a, equipment: press, process_time: {dist: constant, value: 600}}
          - {id: b, equipment: oven, process_time: {dist: exponential, mean: 500}}
    sources:
      - {id: src, kind: arrivals, product_mix: {p: 1}, active: shifts,
         interarrival: {dist: exponential, mean: 900}}
    energy:
      weather:
        synthetic: {annual_clearness: 0.45, daily_temp_swing_c: 7,
                    monthly_temp_c: [4, 6, 10, 16, 21, 25, 29, 28, 24, 18, 12, 6]}
      pv: [{id: roof, dc_kwp: 20, tilt_deg: 20}]
      batteries: [{id: bess, energy_kwh: 20, power_kw: 10}]
      grid:
        tariff: {preset: jiangsu_2025, customer_class: two_part, flat_price_per_kwh: 0.5}
    """)

PV = "energy.pv[id=roof].dc_kwp"
BESS = "energy.batteries[id=bess].energy_kwh"


def write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "plant.yaml").write_text(PLANT)
    f = tmp_path / "study.yaml"
    f.write_text(textwrap.dedent(body))
    return f


def error(tmp_path: Path, body: str) -> str:
    with pytest.raises(ConfigError) as err:
        load_study(write(tmp_path, body))
    return str(err.value)


HEAD = """\
    plant: plant.yaml
    base: base
    replications: 2
    scenarios:
      base: {}
"""

# ---------------------------------------------------------------------------------------------
# grid, list, names


def test_grid_is_the_cartesian_product_with_values_by_hand(tmp_path):
    r = load_study(write(tmp_path, HEAD + f"""\
    sweep:
      parameters:
        pv: {{path: "{PV}", values: [10, 30]}}
        bess: {{path: "{BESS}", start: 500, stop: 2000, step: 500}}
    """))
    # 2 x 4 = 8, the last parameter fastest; 500, 1000, 1500, 2000 (stop reached exactly)
    assert r.names == ["base"] + [f"pv={p}_bess={b}" for p in (10, 30)
                                  for b in (500, 1000, 1500, 2000)]
    plant = r.plants["pv=30_bess=1500"]
    assert plant.energy.pv[0].dc_kwp == 30
    assert plant.energy.batteries[0].energy_kwh == 1500
    assert r.plants["base"].energy.pv[0].dc_kwp == 20  # the plant as written
    assert r.runs() == 9 * 2


def test_start_stop_step_stops_before_an_unreached_stop_and_rounds_float_steps(tmp_path):
    r = load_study(write(tmp_path, HEAD + f"""\
    sweep:
      parameters:
        soc: {{path: "energy.batteries[id=bess].soc_min_pct", start: 0.1, stop: 0.3, step: 0.1}}
        pv: {{path: "{PV}", start: 0, stop: 10, step: 4}}
    """.replace("start: 0, stop: 10", "start: 2, stop: 10")))
    # 0.1, 0.2, 0.3 (0.1 + 2 x 0.1 = 0.30000000000000004 in floats; 0.3 is included) x 2, 6, 10
    got = [(p.energy.batteries[0].soc_min_pct, p.energy.pv[0].dc_kwp)
           for s, p in r.plants.items() if s != "base"]
    assert got == [(a, b) for a in (0.1, 0.2, 0.3) for b in (2, 6, 10)]
    assert "soc=0.1_pv=2" in r.names and "soc=0.3_pv=10" in r.names


def test_labelled_values_name_the_scenarios(tmp_path):
    r = load_study(write(tmp_path, HEAD + """\
    sweep:
      parameters:
        tariff:
          path: energy.grid.tariff.flat_price_per_kwh
          values: {cheap: 0.4, dear: 0.8}
    """))
    assert r.names == ["base", "tariff=cheap", "tariff=dear"]
    assert r.plants["tariff=dear"].energy.grid.tariff.flat_price_per_kwh == 0.8


def test_list_method_and_on_scenario_keep_its_overrides(tmp_path):
    r = load_study(write(tmp_path, """\
    plant: plant.yaml
    base: base
    scenarios:
      base: {}
      shave: {overrides: {energy.dispatch.shave_peak: true}}
    sweep:
      on: shave
      method: list
      parameters:
        pv: {path: "energy.pv[id=roof].dc_kwp"}
        bess: {path: "energy.batteries[id=bess].energy_kwh"}
      sets:
        - {pv: 25, bess: 40}
        - {pv: 50, bess: 10}
    """))
    assert r.names == ["base", "shave", "pv=25_bess=40", "pv=50_bess=10"]
    p = r.plants["pv=50_bess=10"]
    assert (p.energy.pv[0].dc_kwp, p.energy.batteries[0].energy_kwh) == (50, 10)
    assert p.energy.dispatch.shave_peak is True  # from 'on: shave'


def test_names_are_unique_stable_and_file_name_safe(tmp_path):
    body = HEAD + f"""\
    sweep:
      prefix: "s_"
      parameters:
        pv: {{path: "{PV}", values: [1.00001, 1.00002, 2.5, 1e-5]}}
    """
    a = load_study(write(tmp_path, body)).names
    b = load_study(write(tmp_path, body)).names
    assert a == b
    # 4 significant digits would make 1.00001 and 1.00002 both 'pv=1'; more digits part them
    assert a[1:] == ["s_pv=1.00001", "s_pv=1.00002", "s_pv=2.5", "s_pv=1e-05"]
    assert all(re.match(SCENARIO_PATTERN, n) for n in a)


def test_a_generated_name_that_clashes_with_a_scenario_is_an_error(tmp_path):
    msg = error(tmp_path, """\
    plant: plant.yaml
    base: pv=10
    scenarios:
      pv=10: {}
    sweep:
      parameters:
        pv: {path: "energy.pv[id=roof].dc_kwp", values: [10, 20]}
    """)
    assert "sweep" in msg and "'pv=10'" in msg and "prefix" in msg


def test_the_base_may_be_a_generated_scenario(tmp_path):
    r = load_study(write(tmp_path, f"""\
    plant: plant.yaml
    base: pv=20
    sweep:
      parameters:
        pv: {{path: "{PV}", values: [20, 40]}}
    """))
    assert r.names == ["pv=20", "pv=40"] and r.study.base == "pv=20"


# ---------------------------------------------------------------------------------------------
# Latin hypercube and Sobol'


def test_lhs_points_are_within_bounds_and_hit_each_stratum_once(tmp_path):
    n = 10
    r = load_study(write(tmp_path, HEAD + f"""\
    sweep:
      method: lhs
      count: {n}
      seed: 4
      parameters:
        pv: {{path: "{PV}", low: 10, high: 50}}
        soc: {{path: "energy.batteries[id=bess].soc_min_pct", low: 0, high: 20}}
    """))
    plants = [p for s, p in r.plants.items() if s != "base"]
    assert len(plants) == n
    pv = np.array([p.energy.pv[0].dc_kwp for p in plants])
    soc = np.array([p.energy.batteries[0].soc_min_pct for p in plants])
    for x, lo, hi in ((pv, 10, 50), (soc, 0, 20)):
        assert ((x >= lo) & (x <= hi)).all()
        strata = np.floor((x - lo) / (hi - lo) * n).astype(int)
        assert sorted(strata) == list(range(n))  # one point in each of the n equal strata


def test_integer_fields_are_rounded_and_stay_in_bounds(tmp_path):
    r = load_study(write(tmp_path, HEAD + """\
    sweep:
      method: lhs
      count: 6
      parameters:
        ovens: {path: "lines[0].stations[1].machines", low: 1, high: 4}
    """))
    machines = [p.lines[0].stations[1].machines for s, p in r.plants.items() if s != "base"]
    # 6 strata of [1, 4] rounded: whole numbers 1..4, points that rounding makes equal once
    assert sorted(machines) == [1, 2, 3, 4]
    assert sorted(r.names[1:]) == ["ovens=1", "ovens=2", "ovens=3", "ovens=4"]


def test_sobol_is_within_bounds_seeded_and_the_seed_matters(tmp_path):
    body = HEAD + f"""\
    sweep:
      method: sobol
      count: 8
      seed: SEED
      parameters:
        pv: {{path: "{PV}", low: 10, high: 50}}
    """

    def names(seed: int) -> list[str]:
        return load_study(write(tmp_path, body.replace("SEED", str(seed)))).names[1:]

    a, b, c = names(1), names(1), names(2)
    assert a == b and a != c and len(set(a)) == 8
    vals = [float(s.split("=")[1]) for s in a]
    assert all(10 <= v <= 50 for v in vals)
    # 8 = 2^3 scrambled Sobol' points: one in each eighth of the range (a (0, 3, 1)-net)
    assert sorted(int((v - 10) / 40 * 8) for v in vals) == list(range(8))


# ---------------------------------------------------------------------------------------------
# errors


def test_a_path_that_does_not_resolve_names_the_sweep_entry(tmp_path):
    msg = error(tmp_path, HEAD + """\
    sweep:
      parameters:
        pv: {path: "energy.pv[id=rooftop].dc_kwp", values: [1, 2]}
    """)
    assert "study.yaml:8: sweep.parameters.pv.path" in msg
    assert "no item with id 'rooftop'" in msg and "did you mean 'roof'" in msg


def test_a_value_out_of_the_fields_range_names_the_entry_and_the_value(tmp_path):
    msg = error(tmp_path, HEAD + f"""\
    sweep:
      parameters:
        pv: {{path: "{PV}", values: [10, -5]}}
        bess: {{path: "{BESS}", values: [10, 20, 30]}}
    """)
    assert "sweep.parameters.pv: value -5" in msg
    assert "energy.pv[0].dc_kwp" in msg and "> 0" in msg
    assert msg.count("value -5") == 1  # once, not once per scenario holding it


@pytest.mark.parametrize(("sweep", "expected"), [
    ("method: lhs\n  parameters: {pv: {path: x, values: [1]}}", "method lhs needs low and high"),
    ("method: lhs\n  parameters: {pv: {path: x, low: 1, high: 2}}", "needs count"),
    ("parameters: {pv: {path: x, low: 1, high: 2}}", "needs values"),
    ("parameters: {pv: {path: x, start: 1, stop: 2}}", "start, stop and step together"),
    ("parameters: {pv: {path: x, low: 3, high: 2}}", "low 3 must be below high 2"),
    ("method: list\n  parameters: {pv: {path: x}}\n  sets: [{pv: 1, bess: 2}]",
     "sets[0] has unknown bess"),
    ("on: nope\n  parameters: {pv: {path: x, values: [1]}}", "sweep.on: no scenario"),
    ("parameters: {2pv: {path: x, values: [1]}}", "parameter name '2pv'"),
])
def test_bad_sweeps_are_clear_one_line_errors(tmp_path, sweep, expected):
    msg = error(tmp_path, HEAD + textwrap.indent("sweep:\n  " + sweep + "\n", "    "))
    assert expected in msg and "sweep" in msg and "Traceback" not in msg


def test_too_many_scenarios_is_refused_before_any_plant_is_built(tmp_path):
    values = list(range(1, 102))
    msg = error(tmp_path, HEAD + f"""\
    sweep:
      parameters:
        pv: {{path: "{PV}", values: {values}}}
        bess: {{path: "{BESS}", values: {values}}}
    """)
    assert "10,201 scenarios" in msg and "at most 10,000" in msg


# ---------------------------------------------------------------------------------------------
# economics of swept upgrades


def test_sweep_upgrade_capex_grows_with_the_values_above_the_on_scenario(tmp_path):
    r = load_study(write(tmp_path, HEAD + f"""\
    discount_rate: 0.08
    sweep:
      parameters:
        pv: {{path: "{PV}", values: [20, 30]}}
        bess: {{path: "{BESS}", values: [20, 50]}}
      upgrade:
        capex: 1000
        capex_per_unit: {{pv: 3000, bess: 1200}}
        lifetime_years: 20
    """))
    up = {s: (sc.upgrade.capex if sc.upgrade else None) for s, sc in r.study.scenarios.items()}
    # plant: 20 kWp, 20 kWh. pv=30_bess=50: 1000 + 3000 x 10 + 1200 x 30 = 67,000
    assert up == {"base": None, "pv=20_bess=20": None,  # the plant itself: no upgrade
                  "pv=20_bess=50": 1000 + 1200 * 30, "pv=30_bess=20": 1000 + 3000 * 10,
                  "pv=30_bess=50": 67000}
    assert r.study.scenarios["pv=30_bess=50"].upgrade.lifetime_years == 20


# ---------------------------------------------------------------------------------------------
# uncertainty


def test_balanced_draws_use_every_option_equally_often_and_do_not_depend_on_n():
    unc = Uncertainty.model_validate({"sampling": "balanced", "grid_years": [2021, 2022, 2023],
                                      "weather": {"synthetic_seeds": [1, 2]}})
    picks = [draw(unc, 5, k) for k in range(6)]
    assert sorted(p["grid_factor"] for p in picks) == [0, 0, 1, 1, 2, 2]
    assert sorted(p["weather"] for p in picks) == [0, 0, 0, 1, 1, 1]
    # each block of 3 replications is a permutation of the 3 years
    assert sorted(p["grid_factor"] for p in picks[:3]) == [0, 1, 2]
    assert [draw(unc, 5, k) for k in range(6)] == picks  # the same seed, the same draws


def test_random_draws_cover_the_options_uniformly():
    unc = Uncertainty.model_validate({"prices": [{"name": n} for n in "abcd"]})
    counts = np.bincount([draw(unc, 11, k)["prices"] for k in range(4000)], minlength=4)
    # 4000 draws of 4 equally likely options: each 1000 +- 3 sd (sd = sqrt(4000 x .25 x .75))
    assert (abs(counts - 1000) < 3 * math.sqrt(4000 * 0.25 * 0.75)).all()


UNC_STUDY = f"""\
    plant: plant.yaml
    base: bess=20
    days: 1
    seed: 9
    replications: 2
    sweep:
      parameters:
        bess: {{path: "{BESS}", values: [20, 60]}}
    uncertainty:
      sampling: balanced
      weather: {{synthetic_seeds: [11, 12]}}
      prices:
        - {{name: today}}
        - {{name: dear, flat_price: 1.25, ratios: {{peak: 1.1}}}}
      grid_years: [2021, 2022]
"""


def test_price_multipliers_by_hand(tmp_path):
    r = load_study(write(tmp_path, UNC_STUDY))
    k = next(k for k in range(2) if r.choice(k)["prices"] == 1)
    tariff = r.plant_for("bess=60", k).energy.grid.tariff
    assert tariff.flat_price_per_kwh == pytest.approx(0.5 * 1.25)
    assert tariff.ratios == {"peak": pytest.approx(1.8 * 1.1)}  # Jiangsu two-part peak 1.8
    other = r.plant_for("bess=60", 1 - k).energy.grid.tariff
    assert other.flat_price_per_kwh == 0.5 and other.ratios is None


@pytest.fixture(scope="module")
def unc_study(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("unc")
    f = write(tmp, UNC_STUDY)
    out = run_study(load_study(f), tmp / "out", jobs=1, progress=None, dashboard=False)
    return f, out


def _hourly(out: Path, scen: str, k: int) -> pd.DataFrame:
    return pd.read_parquet(out / scen / f"rep{k}" / "hourly.parquet")


def test_crn_scenarios_see_the_same_weather_prices_and_factors_per_replication(unc_study):
    _, out = unc_study
    cols = ["pv_kwh", "price_per_kwh", "grid_ef_kg_per_kwh"]
    a0, b0 = _hourly(out, "bess=20", 0), _hourly(out, "bess=60", 0)
    a1, b1 = _hourly(out, "bess=20", 1), _hourly(out, "bess=60", 1)
    pd.testing.assert_frame_equal(a0[cols], b0[cols])
    pd.testing.assert_frame_equal(a1[cols], b1[cols])
    # balanced with 2 options and 2 replications: the two replications differ in every source
    assert a0["pv_kwh"].sum() > 0
    for c in cols:
        assert not np.allclose(a0[c].to_numpy(), a1[c].to_numpy()), c
    # and the battery size does change the grid import
    assert not np.allclose(a0["grid_import_kwh"], b0["grid_import_kwh"])


def test_manifest_and_comparison_say_what_the_intervals_cover(unc_study):
    _, out = unc_study
    m = json.loads((out / "study.json").read_text())
    assert m["variation"] == ["process", "weather", "prices", "grid factor"]
    draws = m["uncertainty"]
    assert [d["rep"] for d in draws] == [0, 1]
    assert {d["weather"] for d in draws} == {"seed11", "seed12"}
    assert {d["grid_factor"] for d in draws} == {"2021", "2022"}
    comp = pd.read_csv(out / "comparison.csv")
    assert set(comp["variation"]) == {"process+weather+prices+grid factor"}
    md = (out / "comparison.md").read_text()
    assert "sources of variation: process, weather, prices, grid factor" in md


def test_without_uncertainty_runs_are_those_of_the_plant_alone(tmp_path):
    """No uncertainty block: plant_for is the scenario's plant, and a run equals a plain
    simulation of that plant with the replication's seed (nothing else draws numbers)."""
    import twin

    f = write(tmp_path, HEAD.replace("replications: 2", "replications: 1\n    days: 1"))
    r = load_study(f)
    assert r.plant_for("base", 0) is r.plants["base"]
    out = run_study(r, tmp_path / "out", jobs=1, progress=None, dashboard=False)
    plain = twin.simulate(r.plants["base"], days=1, seed=r.seed(), progress=False)
    plain.save(tmp_path / "plain")
    for name in ("hourly.parquet", "intervals.parquet"):
        assert (out / "base" / "rep0" / name).read_bytes() == \
            (tmp_path / "plain" / name).read_bytes()
    assert set(pd.read_csv(out / "comparison.csv")["variation"]) == {"process"}


def test_uncertainty_option_that_breaks_the_plant_names_the_entry(tmp_path):
    msg = error(tmp_path, HEAD + """\
    uncertainty:
      grid_years: [2021, 2019]
    """)
    assert "uncertainty.grid_years[1] (2019)" in msg and "carbon.grid_year" in msg
    msg = error(tmp_path, HEAD + """\
    uncertainty:
      weather: {files: [missing.epw]}
    """)
    assert "uncertainty.weather.files[0]" in msg and "not found" in msg
    msg = error(tmp_path, HEAD + """\
    uncertainty:
      prices: [{name: a, ratios: {flat: 2}}]
    """)
    assert "flat_price" in msg


# ---------------------------------------------------------------------------------------------
# command line


def test_cli_validate_counts_scenarios_and_runs(tmp_path, capsys):
    f = write(tmp_path, UNC_STUDY.replace("replications: 2", "replications: 3"))
    assert main(["validate", str(f)]) == 0
    out = capsys.readouterr().out
    assert "OK (study on plant.yaml: 2 scenarios (2 from the sweep), base 'bess=20', " \
           "3 replications; 6 runs; uncertainty weather 2 options, prices 2 options, " \
           "grid factor 2 options (balanced))" in out


def test_cli_compare_refuses_more_runs_than_max_runs_without_yes(tmp_path, capsys):
    f = write(tmp_path, UNC_STUDY + "    max_runs: 3\n")
    assert main(["compare", str(f), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "4 runs, more than max_runs (3)" in err and "--yes" in err
    assert not (tmp_path / "o").exists()


def test_cli_compare_with_a_sweep_end_to_end(tmp_path, capsys):
    f = write(tmp_path, UNC_STUDY + "    max_runs: 3\n")
    assert main(["compare", str(f), "--out", str(tmp_path / "o"), "--jobs", "1",
                 "--yes"]) == 0
    out = capsys.readouterr().out
    assert "bess=60 (diff)" in out
    comp = pd.read_csv(tmp_path / "o" / "comparison.csv")
    assert list(dict.fromkeys(comp["scenario"])) == ["bess=20", "bess=60"]
    assert (tmp_path / "o" / "bess=60" / "rep1" / "hourly.parquet").is_file()


def test_weather_and_price_files_relative_to_the_study_file(tmp_path):
    """Two weather files (sun 800 or 400 W/m2 from 10 to 14 h) and two price files (0.3 and
    0.9 CNY/kWh every hour), balanced: each replication runs with one of each, and the prices
    of its hourly table are the file's, by hand."""
    (tmp_path / "plant").mkdir()
    (tmp_path / "plant" / "plant.yaml").write_text(PLANT)
    data = tmp_path / "data"
    data.mkdir()
    hours = pd.date_range("2025-06-02", periods=48, freq="h")
    sun = np.isin(hours.hour, [10, 11, 12, 13])
    for name, ghi in (("bright", 800.0), ("dull", 400.0)):
        pd.DataFrame({"timestamp": hours.strftime("%Y-%m-%d %H:%M"),
                      "ghi": np.where(sun, ghi, 0.0), "dni": np.where(sun, ghi, 0.0),
                      "dhi": np.where(sun, 100.0, 0.0), "temp_air": 20.0, "wind_speed": 1.0}
                     ).to_csv(data / f"{name}.csv", index=False)
    for name, price in (("low", 0.3), ("high", 0.9)):
        pd.DataFrame({"timestamp": hours.strftime("%Y-%m-%d %H:%M"), "price_per_kwh": price}
                     ).to_csv(data / f"{name}_prices.csv", index=False)
    f = tmp_path / "study.yaml"
    f.write_text(textwrap.dedent(f"""\
        plant: plant/plant.yaml
        base: pv=20
        days: 1
        replications: 2
        sweep:
          parameters:
            pv: {{path: "{PV}", values: [20, 40]}}
        uncertainty:
          sampling: balanced
          weather: {{files: [data/bright.csv, data/dull.csv]}}
          prices:
            - {{name: low, price_file: data/low_prices.csv}}
            - {{name: high, price_file: data/high_prices.csv}}
        """))
    r = load_study(f)
    out = run_study(r, tmp_path / "out", jobs=1, progress=None, dashboard=False)
    drawn = json.loads((out / "study.json").read_text())["uncertainty"]
    for k in range(2):
        price = {"low": 0.3, "high": 0.9}[drawn[k]["prices"]]
        a, b = _hourly(out, "pv=20", k), _hourly(out, "pv=40", k)
        assert np.allclose(a["price_per_kwh"], price) and np.allclose(b["price_per_kwh"], price)
        pd.testing.assert_series_equal(a["pv_kwh"] * 2, b["pv_kwh"], check_names=False,
                                       rtol=1e-9)  # 40 kWp makes twice what 20 kWp makes
    pv = {drawn[k]["weather"]: _hourly(out, "pv=20", k)["pv_kwh"].sum() for k in range(2)}
    assert set(pv) == {"bright.csv", "dull.csv"}
    assert pv["bright.csv"] > 1.5 * pv["dull.csv"] > 0


def test_a_tiny_step_is_refused_by_count_before_any_value_is_made(tmp_path):
    msg = error(tmp_path, HEAD + f"""\
    sweep:
      parameters:
        pv: {{path: "{PV}", start: 1, stop: 1e12, step: 1e-300}}
    """)
    assert "at most 10,000" in msg
    msg = error(tmp_path, HEAD + f"""\
    sweep:
      parameters:
        pv: {{path: "{PV}", start: 1, stop: .inf, step: 1}}
    """)
    assert "sweep.parameters.pv" in msg and "finite" in msg


def test_uncertainty_draws_leave_the_des_streams_alone_and_set_the_grid_year(tmp_path):
    """Grid factor years change no flow of material or energy: with them drawn per replication,
    every replication's production and grid import equal those of the study without the block
    (its draws come from streams no DES element uses), and scope 2 location-based is the grid
    import times the year's published Jiangsu factor (MEE/NBS: 0.6451 kgCO2/kWh for 2021,
    0.5978 for 2022)."""
    body = HEAD.replace("replications: 2", "replications: 2\n    days: 1")
    plain = run_study(load_study(write(tmp_path, body)), tmp_path / "plain", jobs=1,
                      progress=None, dashboard=False)
    f = write(tmp_path, body + "    uncertainty: {sampling: balanced, grid_years: [2021, 2022]}\n")
    unc = run_study(load_study(f), tmp_path / "unc", jobs=1, progress=None, dashboard=False)
    drawn = json.loads((unc / "study.json").read_text())["uncertainty"]
    factor = {"2021": 0.6451, "2022": 0.5978}
    assert {d["grid_factor"] for d in drawn} == {"2021", "2022"}
    for k in range(2):
        a = json.loads((plain / "base" / f"rep{k}" / "kpis.json").read_text())
        b = json.loads((unc / "base" / f"rep{k}" / "kpis.json").read_text())
        for kpi in ("units_completed", "electricity_kwh", "grid_import_kwh", "cost_total"):
            assert a[kpi] == b[kpi], kpi
        assert b["co2_scope2_location_kg"] == pytest.approx(
            b["grid_import_kwh"] * factor[drawn[k]["grid_factor"]], rel=1e-9)


def test_study_dashboard_says_what_the_intervals_cover(unc_study):
    from twin.dashboard.study import write_study_dashboard

    _, out = unc_study
    page = write_study_dashboard(out).read_text()
    assert "<span>intervals cover: process, weather, prices, grid factor</span>" in page
    page = write_study_dashboard(out, lang="zh").read_text()
    assert "<span>区间涵盖：过程随机性, 气象, 电价, 电网排放因子</span>" in page


def test_without_a_sweep_upgrade_generated_scenarios_keep_the_on_scenarios(tmp_path):
    r = load_study(write(tmp_path, f"""\
    plant: plant.yaml
    base: base
    discount_rate: 0.08
    scenarios:
      base: {{}}
      shave:
        overrides: {{energy.dispatch.shave_peak: true}}
        upgrade: {{capex: 5000, lifetime_years: 10}}
    sweep:
      on: shave
      parameters:
        bess: {{path: "{BESS}", values: [20, 40]}}
    """))
    assert [r.study.scenarios[s].upgrade.capex for s in ("bess=20", "bess=40")] == [5000, 5000]


def test_runs_table_names_each_replications_draw(unc_study):
    _, out = unc_study
    runs = pd.read_parquet(out / "runs.parquet")
    draws = {d["rep"]: d for d in json.loads((out / "study.json").read_text())["uncertainty"]}
    for col, source in (("uncertainty.weather", "weather"), ("uncertainty.prices", "prices"),
                        ("uncertainty.grid_factor", "grid_factor")):
        assert col in runs.columns
        for _, row in runs.iterrows():  # the manifest's draw of its replication, every scenario
            assert row[col] == draws[row["replication"]][source], (col, row["scenario"])
    assert runs.groupby("replication")["uncertainty.weather"].nunique().eq(1).all()
