"""Hostile and careless plant files are refused by ``twin validate`` with one line each, in
bounded time and memory, and never with a traceback (issue 12, items 1, 2, 5, 7, 8, 9)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from conftest import arrivals, const, make_plant

from twin.carbon.inventory import grid_factors
from twin.carbon.provinces import province_key, province_keys
from twin.cli import main
from twin.config import ConfigError, load_plant
from twin.config.loader import MAX_FILE_BYTES, parse_yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "plant_configs" / "demo_plant.yaml"


def validate(path: Path | str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["validate", str(path)])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.err


def demo_with(tmp_path: Path, old: str, new: str) -> Path:
    text = DEMO.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "plant.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def plant_errors(**fields: Any) -> str:
    fields.setdefault("stations", [{"id": "s1", "equipment": "machine",
                                    "process_time": const(60)}])
    with pytest.raises(ConfigError) as err:
        make_plant(**fields)
    return str(err.value)


# ---------------------------------------------------------------------------------------------
# 1. zero-time progress


@pytest.mark.parametrize("dist", [
    const(0),
    {"dist": "empirical", "values": [0]},
    {"dist": "empirical", "values": [0, 0, 0], "unit": "h"},
    {"dist": "empirical", "values": [0, 30], "weights": [1, 0]},  # all weight on 0
])
def test_interarrival_that_never_advances_is_refused(dist: dict) -> None:
    msg = plant_errors(sources=[arrivals(dist)])
    assert "sources[0].interarrival" in msg
    assert "every draw of this distribution is 0" in msg


def test_interarrival_with_zero_minimum_but_positive_mean_is_fine() -> None:
    # uniform 0..10 s draws 0 with probability 0: time advances on average by 5 s
    make_plant([{"id": "s1", "equipment": "machine", "process_time": const(60)}],
               sources=[arrivals({"dist": "uniform", "min": 0, "max": 10})])


def test_zero_time_to_failure_is_refused() -> None:
    msg = plant_errors(stations=[{"id": "s1", "equipment": "machine", "process_time": const(60),
                                  "failures": {"time_to_failure": const(0),
                                               "time_to_repair": const(0)}}])
    assert "failures.time_to_failure" in msg or "failures" in msg
    assert "every draw of this distribution is 0" in msg


# ---------------------------------------------------------------------------------------------
# 2. alias bomb, deep nesting


def _bomb(levels: int, width: int = 9) -> str:
    rows = [f"l0: &l0 [{', '.join(['x'] * width)}]"]
    for k in range(1, levels):
        rows.append(f"l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * width)}]")
    return "\n".join(rows) + "\n"


def test_alias_bomb_is_refused_quickly(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb(8))  # 9^8 = 43 million values from 350 bytes
    assert path.stat().st_size < 500
    t0 = time.perf_counter()
    code, err = validate(path, capsys)
    assert time.perf_counter() - t0 < 5
    assert code == 2
    assert "expands to more than 200,000 values" in err


def test_aliases_in_normal_use_still_work() -> None:
    data, _ = parse_yaml("a: &a {x: 1}\nb: *a\nc: [*a, *a]\n")
    assert data["c"] == [{"x": 1}, {"x": 1}]


def test_deep_nesting_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 5000 + "]" * 5000 + "\n")
    code, err = validate(path, capsys)
    assert code == 2 and "nested too deeply" in err


# ---------------------------------------------------------------------------------------------
# 7. bad bytes, non-regular and huge files


@pytest.mark.parametrize("text,code_point,line", [
    ("site: {name: \"a\fb\"}\n", "U+000C", 1),      # a form feed in a string
    ("# comment \x00 here\nsite: 1\n", "U+0000", 1),  # a NUL in a comment
    ("a: 1\nb: x\x1by\n", "U+001B", 2),                # an escape character
])
def test_control_characters_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         text: str, code_point: str, line: int) -> None:
    path = tmp_path / "ctl.yaml"
    path.write_bytes(text.encode())
    code, err = validate(path, capsys)
    assert code == 2
    assert f"{path}:{line}: control character {code_point}" in err
    assert len(err.strip().splitlines()) == 2  # head line + one problem


def test_device_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = validate("/dev/zero", capsys)
    assert code == 2 and "not a regular file" in err


def test_huge_file_is_refused_without_reading_it(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:  # sparse: no disk used
        f.truncate(MAX_FILE_BYTES + 1)
    code, err = validate(path, capsys)
    assert code == 2 and f"at most {MAX_FILE_BYTES:,} bytes" in err


# ---------------------------------------------------------------------------------------------
# 9. errors never echo another file's contents


SECRET = "SECRET_TOKEN=hunter2"


def test_plant_path_to_a_non_yaml_file_does_not_echo_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{SECRET}\nmore\n")
    code, err = validate(secret, capsys)
    assert code == 2 and SECRET not in err and "hunter2" not in err
    study = tmp_path / "study.yaml"
    study.write_text(f"plant: {secret}\nbase: base\nscenarios: {{base: {{}}}}\n")
    code, err = validate(study, capsys)
    assert code == 2 and "hunter2" not in err


def test_environ_is_not_echoed(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN_TEST_SECRET", "hunter2")
    study = tmp_path / "study.yaml"
    study.write_text("plant: /proc/self/environ\nbase: base\nscenarios: {base: {}}\n")
    code, err = validate(study, capsys)
    assert code == 2 and "hunter2" not in err and "TWIN_TEST_SECRET" not in err


@pytest.mark.parametrize("field", ["weather", "hourly"])
def test_data_file_errors_do_not_echo_the_file(tmp_path: Path, field: str) -> None:
    from twin.carbon.factors import read_hourly_factor_csv
    from twin.energy.weather import read_weather

    secret = tmp_path / "secret.csv"
    secret.write_text(f"{SECRET},other\n1,2\n")
    import pandas as pd

    with pytest.raises(ValueError) as err:
        if field == "weather":
            read_weather(secret, kind="csv")
        else:
            read_hourly_factor_csv(secret, pd.date_range("2026-01-01", periods=3, freq="h",
                                                         tz="Asia/Shanghai"))
    assert "hunter2" not in str(err.value) and "SECRET_TOKEN" not in str(err.value)
    assert "secret.csv" in str(err.value)


# ---------------------------------------------------------------------------------------------
# 5. provinces


@pytest.mark.parametrize("name,key", [
    ("Jiangsu", "jiangsu"), ("江苏", "jiangsu"), ("江苏省", "jiangsu"), ("广东省", "guangdong"),
    ("内蒙古自治区", "inner_mongolia"), ("Inner Mongolia", "inner_mongolia"),
    ("新疆维吾尔自治区", "xinjiang"), ("北京市", "beijing"), ("广西壮族自治区", "guangxi"),
    ("宁夏回族自治区", "ningxia"), ("西藏自治区", "tibet"), ("香港特别行政区", "hong_kong"),
    ("Jiangsu Province", "jiangsu"), ("Beijing Municipality", "beijing"),
    ("Inner Mongolia Autonomous Region", "inner_mongolia"), ("  guangdong  ", "guangdong"),
])
def test_province_names(name: str, key: str) -> None:
    assert province_key(name) == key


def test_all_provincial_divisions_of_gbt_2260() -> None:
    # GB/T 2260: 23 provinces (incl. Taiwan), 5 autonomous regions, 4 municipalities, 2 SARs
    assert len(province_keys()) == 34


def test_every_province_of_the_factor_table_is_known() -> None:
    from twin.carbon.factors import default_factors

    table = default_factors()
    provincial = table.grid_rows.loc[table.grid_rows["level"] == "provincial"]
    for region, zh in zip(provincial["region"], provincial["region_zh"], strict=True):
        assert province_key(region) == region
        assert province_key(zh) == region


@pytest.mark.parametrize("name", ["Jiangsuu", "江苏x", "Atlantis"])
def test_unknown_province_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      name: str) -> None:
    code, err = validate(demo_with(tmp_path, "province: Jiangsu", f"province: {name}"), capsys)
    assert code == 2 and "site.province: unknown province" in err
    if name == "Jiangsuu":
        assert "did you mean 'jiangsu'" in err


def test_chinese_province_name_uses_the_province_factor(tmp_path: Path) -> None:
    plant = load_plant(demo_with(tmp_path, "province: Jiangsu", "province: 江苏"))
    english = load_plant(DEMO)
    assert grid_factors(plant)["location"]["region"] == "jiangsu"
    assert grid_factors(plant)["location"]["value"] == grid_factors(english)["location"]["value"]


# ---------------------------------------------------------------------------------------------
# 8. booleans are not numbers, huge finite parameters


@pytest.mark.parametrize("old,new", [
    ("seed: 7", "seed: true"),
    ("gear_unit: 300", "gear_unit: true"),
])
def test_true_is_not_a_number(tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str,
                              new: str) -> None:
    code, err = validate(demo_with(tmp_path, old, new), capsys)
    assert code == 2 and "not true/false" in err


@pytest.mark.parametrize("dist,what", [
    ({"dist": "lognormal", "mean": 60, "cv": 1e200}, "interarrival.cv: expected a number of "
                                                      "magnitude at most 1e+12"),
    ({"dist": "lognormal", "mean": 60, "cv": 1e6}, "coefficient of variation <= 100"),
    ({"dist": "normal", "mean": 60, "std": 1e9}, "coefficient of variation <= 100"),
    ({"dist": "weibull", "shape": 0.001, "scale": 60}, "the mean of this distribution is inf"),
    ({"dist": "constant", "value": 1e10}, "the mean of this distribution is 1e+10 s"),
    ({"dist": "constant", "value": 1e7, "unit": "h"}, "the mean of this distribution is 3.6e+10"),
])
def test_huge_finite_parameters_are_refused(dist: dict, what: str) -> None:
    assert what in plant_errors(sources=[arrivals(dist)])


def test_huge_plan_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = validate(demo_with(tmp_path, "gear_unit: 300", "gear_unit: 1e12"), capsys)
    assert code == 2 and "lots per day; expected at most 100,000 lots" in err


def test_plant_from_data_refuses_bool_in_a_list() -> None:
    msg = plant_errors(sources=[arrivals({"dist": "empirical", "values": [10, True]})])
    assert "not true/false" in msg


@pytest.mark.parametrize("old,new,msg", [
    ("gear_unit: 300", "gear_unit: 1.0e13", "quantities: expected numbers of magnitude at most"),
    ("seed: 7", "seed: 100000000000000000000", "simulation.seed: expected a number of "
                                                "magnitude"),
])
def test_numbers_beyond_any_plant_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               old: str, new: str, msg: str) -> None:
    code, err = validate(demo_with(tmp_path, old, new), capsys)
    assert code == 2 and msg in err


def test_durations_beyond_32_years_are_refused() -> None:
    msg = plant_errors(products=[{"id": "part", "route": ["s1"], "due_h": 1e7}])
    assert "products[0].due_h: expected at most 277778 (about 32 years)" in msg
    make_plant([{"id": "s1", "equipment": "machine", "process_time": const(60)}],
               products=[{"id": "part", "route": ["s1"], "due_h": 24 * 365 * 30}])


@pytest.mark.parametrize("text", [
    "site: &a\n  name: x\n  self: *a\n",
    "strategies:\n  - &s {type: smart_standby, x: *s}\n",
    "plant: p.yaml\nbase: b\nscenarios:\n  b: {}\n  o:\n"
    "    overrides: &o {'simulation.seed': *o}\n",
])
def test_recursive_alias_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     text: str) -> None:
    path = tmp_path / "rec.yaml"
    path.write_text(text)
    code, err = validate(path, capsys)
    assert code == 2 and "an alias (*name) inside the value its anchor (&name) marks" in err
