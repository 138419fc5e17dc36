"""Bad plant files get one clear line per problem: file, line, field path, what is expected, value.

Each test writes a small plant with one kind of mistake and checks the message a factory engineer
would read, both as a :class:`ConfigIssue` and as the printed line ``file:line: path: message
(got value)``; the last tests check that the ``twin`` command prints it without a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from twin.cli import main
from twin.config import ConfigError, ConfigIssue, load_plant
from twin.config.loader import parse_yaml

TWIN = Path(sys.executable).with_name("twin")

GOOD = """\
site:
  name: Test plant
  latitude: 31.2
  longitude: 121.5
simulation:
  start: 2026-01-05
  days: 2
calendar:
  shifts:
    early: {start: '06:00', end: '14:00'}
    late: {start: '14:00', end: '22:00'}
  week:
    mon: [early, late]
    tue: [early]
products:
  - id: part
    route: [cut, weld]
equipment_types:
  - id: saw
    power_kw:
      electricity: {off: 0, idle: 2, processing: 10}
    saving_modes:
      off: {warm_up_s: 600, min_stay_s: 1800}
    off_shift_mode: off
  - id: welder
    power_kw:
      electricity: {idle: 1, processing: 20}
lines:
  - id: body
    stations:
      - id: cut
        equipment: saw
        process_time: {dist: exponential, mean: 50}
      - id: weld
        equipment: welder
        buffer_capacity: 5
        process_time: {dist: constant, value: 40}
sources:
  - id: orders
    kind: arrivals
    interarrival: {dist: exponential, mean: 60}
    product_mix: {part: 1}
"""


def edit(old: str, new: str, text: str = GOOD) -> str:
    """``text`` with the first ``old`` replaced (the mistake under test)."""
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based number of the ``nth`` line of ``text`` that contains ``needle``."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(found) >= nth, f"{needle!r} not {nth} times in text"
    return found[nth - 1]


def problems(tmp_path: Path, text: str, name: str = "plant.yaml") -> tuple[ConfigError, Path]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_plant(path)
    err = info.value
    # one line per problem after the header, each naming the file
    printed = str(err).splitlines()
    n = len(err.issues)
    assert printed[0] == f"{path}: {n} problem{'s' if n > 1 else ''} found"
    assert len(printed) == 1 + len(err.issues)
    assert all(ln.startswith(f"  {path}") for ln in printed[1:])
    return err, path


def only(err: ConfigError) -> ConfigIssue:
    assert len(err.issues) == 1, str(err)
    return err.issues[0]


def test_good_plant_loads(tmp_path: Path) -> None:
    path = tmp_path / "plant.yaml"
    path.write_text(GOOD)
    plant = load_plant(path)
    assert [s.id for _, _, s in plant.stations()] == ["cut", "weld"]


# ---------------------------------------------------------------------------------------------
# the classes of mistake named in the issue


def test_unknown_key(tmp_path: Path) -> None:
    text = edit("        buffer_capacity: 5\n", "        buffer_capacity: 5\n        colour: red\n")
    err, path = problems(tmp_path, text)
    issue = only(err)
    assert issue.path == "lines[0].stations[1].colour"
    assert issue.line == line_of(text, "colour:")
    assert issue.message.startswith("unknown key 'colour'; expected one of: id, equipment, ")
    assert "buffer_capacity" in issue.message
    assert str(err).splitlines()[1] == f"  {path}:{issue.line}: {issue.path}: {issue.message}"


def test_typo_key_gets_did_you_mean(tmp_path: Path) -> None:
    text = edit("buffer_capacity: 5", "bufer_capacity: 5")
    err, path = problems(tmp_path, text)
    line = line_of(text, "bufer_capacity")
    assert str(err).splitlines()[1] == (
        f"  {path}:{line}: lines[0].stations[1].bufer_capacity: unknown key 'bufer_capacity'; "
        f"did you mean 'buffer_capacity'?"
    )


def test_typo_top_level_section(tmp_path: Path) -> None:
    text = edit("products:\n", "product:\n")
    err, _ = problems(tmp_path, text)
    by_path = {i.path: i for i in err.issues}
    assert "did you mean 'products'?" in by_path["product"].message
    assert by_path["product"].line == line_of(text, "product:")
    # production is optional (a plant may leave out products, equipment_types, lines and
    # sources together): the typo is the one problem, not a missing 'products'
    assert list(by_path) == ["product"]


def test_wrong_type(tmp_path: Path) -> None:
    text = edit("buffer_capacity: 5", "buffer_capacity: five")
    err, path = problems(tmp_path, text)
    line = line_of(text, "buffer_capacity")
    assert str(err).splitlines()[1] == (
        f"  {path}:{line}: lines[0].stations[1].buffer_capacity: expected a whole number "
        f"(got 'five')"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("buffer_capacity: 5", "buffer_capacity: 5.5", "expected a whole number (got 5.5)"),
        ("latitude: 31.2", "latitude: north", "expected a number (got 'north')"),
        ("latitude: 31.2", "latitude: 310", "expected a number <= 90 (got 310)"),
        ("name: Test plant", "name: [a, b]", "expected text (got ['a', 'b'])"),
        ("equipment: saw", "equipment:", "no value given; expected text"),
        ("route: [cut, weld]", "route: cut", "expected a list: [a, b] or one '- item' per line "
                                             "(got 'cut')"),
        ("days: 2", "days: 0", "expected a number > 0 (got 0)"),
    ],
)
def test_wrong_type_or_range_names_expectation_and_value(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    text = edit(old, new)
    err, _ = problems(tmp_path, text)
    issue = only(err)
    assert str(err).splitlines()[1].endswith(f"{issue.path}: {expected}")
    assert issue.line == line_of(text, new.split(":")[0] + ":")


def test_wrong_type_inside_distribution_path_has_no_union_tag(tmp_path: Path) -> None:
    text = edit("{dist: constant, value: 40}", "{dist: exponential, mean: fast}")
    err, path = problems(tmp_path, text)
    issue = only(err)
    assert issue.path == "lines[0].stations[1].process_time.mean"
    assert "exponential" not in issue.path
    assert str(err).splitlines()[1] == (
        f"  {path}:{issue.line}: lines[0].stations[1].process_time.mean: expected a number "
        f"(got 'fast')"
    )
    assert issue.line == line_of(text, "mean: fast")


def test_distribution_rule_broken_path_has_no_union_tag(tmp_path: Path) -> None:
    text = edit("{dist: constant, value: 40}", "{dist: uniform, min: 50, max: 40}")
    err, _ = problems(tmp_path, text)
    issue = only(err)
    assert issue.path == "lines[0].stations[1].process_time"
    assert issue.message == "expected min < max (got min=50, max=40)"


def test_unknown_key_inside_distribution_lists_its_parameters(tmp_path: Path) -> None:
    text = edit("{dist: constant, value: 40}", "{dist: constant, mean: 40}")
    err, _ = problems(tmp_path, text)
    by_path = {i.path: i.message for i in err.issues}
    assert by_path == {
        "lines[0].stations[1].process_time.mean": "unknown key 'mean'; expected one of: dist, "
                                                  "value, unit",
        "lines[0].stations[1].process_time.value": "required field is missing; expected the "
                                                   "value [unit]",
    }


@pytest.mark.parametrize(
    ("old", "new", "path", "expected"),
    [
        ("{dist: constant, value: 40}", "{dist: constant, value: -40}",
         "lines[0].stations[1].process_time.value", "expected a number >= 0 (got -40)"),
        ("{dist: exponential, mean: 50}", "{dist: exponential, mean: -50, unit: min}",
         "lines[0].stations[0].process_time.mean", "expected a number > 0 (got -50)"),
        ("warm_up_s: 600", "warm_up_s: -600",
         "equipment_types[0].saving_modes.off.warm_up_s", "expected a number >= 0 (got -600)"),
        ("{dist: exponential, mean: 60}", "{dist: exponential, mean: .inf}",
         "sources[0].interarrival.mean", "expected a finite number (got inf)"),
    ],
)
def test_negative_time(tmp_path: Path, old: str, new: str, path: str, expected: str) -> None:
    text = edit(old, new)
    err, file = problems(tmp_path, text)
    issue = only(err)
    assert issue.path == path
    assert issue.line == line_of(text, new)
    assert str(err).splitlines()[1] == f"  {file}:{issue.line}: {path}: {expected}"


def test_missing_reference_to_a_station(tmp_path: Path) -> None:
    text = edit("route: [cut, weld]", "route: [cut, paint]")
    err, path = problems(tmp_path, text)
    issue = only(err)
    assert (issue.path, issue.value, issue.line) == ("products[0].route[1]", "paint",
                                                     line_of(text, "route:"))
    assert str(err).splitlines()[1] == (
        f"  {path}:{issue.line}: products[0].route[1]: unknown station; expected one of 'cut', "
        f"'weld' (got 'paint')"
    )


def test_misspelt_station_reference_gets_did_you_mean(tmp_path: Path) -> None:
    err, _ = problems(tmp_path, edit("route: [cut, weld]", "route: [cut, wled]"))
    assert only(err).message == "unknown station; did you mean 'weld'?"


def test_shift_that_ends_before_it_starts(tmp_path: Path) -> None:
    text = edit("late: {start: '14:00', end: '22:00'}", "late: {start: '22:00', end: '06:00'}")
    err, path = problems(tmp_path, text)
    issue = only(err)
    assert issue.path == "calendar.shifts.late"
    assert issue.line == line_of(text, "late: {")
    assert str(err).splitlines()[1] == (
        f"  {path}:{issue.line}: calendar.shifts.late: shift ends at 06:00, before it starts at "
        f"22:00; expected an end after the start; for a shift that ends the next day write the "
        f"end after 24:00, e.g. end: '30:00'"
    )


def test_night_shift_written_past_midnight_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "plant.yaml"
    path.write_text(edit("late: {start: '14:00', end: '22:00'}",
                         "late: {start: '22:00', end: '30:00'}\n    small: {start: '23:30', "
                         "end: '23:45'}"))
    shifts = load_plant(path).calendar.shifts  # type: ignore[union-attr]
    assert (shifts["late"].start_min, shifts["late"].end_min) == (22 * 60, 30 * 60)
    assert shifts["small"].start_min == 23 * 60 + 30


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("early: {start: '6am', end: '14:00'}",
         "calendar.shifts.early.start: expected a time of day as 'HH:MM', e.g. '06:00' "
         "(got '6am')"),
        ("early: {start: 0600, end: '14:00'}",
         "calendar.shifts.early.start: expected a time of day as 'HH:MM', e.g. '06:00' "
         "(got 600)"),
        ("early: {start: '06:00', end: '06:00'}",
         "calendar.shifts.early: shift ends at 06:00, the time it starts; expected an end after "
         "the start; for a shift that ends the next day write the end after 24:00, e.g. end: "
         "'30:00'"),
    ],
)
def test_bad_shift_times(tmp_path: Path, new: str, expected: str) -> None:
    text = edit("early: {start: '06:00', end: '14:00'}", new)
    err, _ = problems(tmp_path, text)
    assert str(err).splitlines()[1].endswith(f":{line_of(text, 'early: {')}: {expected}")


@pytest.mark.parametrize("text", ["", "\n\n", "# a plant, some day\n\n  # nothing yet\n", "---\n",
                                  "~\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    err, path = problems(tmp_path, text)
    assert str(err).splitlines()[1] == (
        f"  {path}: file is empty; expected a plant description with site:, products:, "
        f"equipment_types:, lines: and sources:"
    )


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("site: {name: x\nproducts: [\n", 2, "not valid YAML: while parsing a flow mapping "
                                             "(started on line 1), expected ',' or '}'"),
        ("site:\n  name: x\n\tlatitude: 3\n", 3, "indent with spaces, not tabs"),
        ("site:\n  name: a: b\n", 2, "not valid YAML: mapping values are not allowed here"),
        ('site: "open\n', 2, "not valid YAML: while scanning a quoted scalar"),
        ("site: {}\n---\nsite: {}\n", 2, "expected a single document in the stream"),
    ],
)
def test_not_yaml(tmp_path: Path, text: str, line: int, expected: str) -> None:
    err, path = problems(tmp_path, text)
    issue = only(err)
    assert issue.line == line
    assert issue.path == ""
    assert str(err).splitlines()[1].startswith(f"  {path}:{line}: not valid YAML: ")
    assert expected in issue.message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "plant.yaml"
    path.write_bytes(GOOD.replace("Test plant", "测试").encode("gbk"))
    with pytest.raises(ConfigError) as info:
        load_plant(path)
    assert str(info.value).splitlines()[1] == (
        f"  {path}:2: not UTF-8 text (byte 0xb2); expected a YAML file saved as UTF-8"
    )


def test_utf8_with_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "plant.yaml"
    path.write_bytes(GOOD.replace("Test plant", "测试工厂").encode("utf-8-sig"))
    assert load_plant(path).site.name == "测试工厂"


# ---------------------------------------------------------------------------------------------
# further mistakes


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = edit("  latitude: 31.2\n", "  latitude: 31.2\n  latitude: 32.0\n")
    err, path = problems(tmp_path, text)
    issue = only(err)
    assert (issue.path, issue.line) == ("site.latitude", 4)
    assert str(err).splitlines()[1] == (
        f"  {path}:4: site.latitude: duplicate key, first given on line 3; expected each key once "
        f"(the later value would silently replace the first)"
    )


def test_merge_keys_are_not_duplicates_and_keep_lines(tmp_path: Path) -> None:
    text = edit(
        "      - id: cut\n        equipment: saw\n",
        "      - &std\n        id: cut\n        equipment: saw\n",
    )
    text = edit("      - id: weld\n        equipment: welder\n",
                "      - <<: *std\n        id: weld\n        equipment: wilder\n", text)
    err, _ = problems(tmp_path, text)
    issue = only(err)
    assert (issue.path, issue.line) == ("lines[0].stations[1].equipment",
                                        line_of(text, "wilder"))
    assert issue.message == "unknown equipment type; did you mean 'welder'?"


def test_duplicate_station_id(tmp_path: Path) -> None:
    text = edit("      - id: weld\n", "      - id: cut\n")
    err, path = problems(tmp_path, text)
    # the second station is gone, so the route's 'weld' is now unknown as well
    dup, ref = sorted(err.issues, key=lambda i: i.path)
    assert (dup.path, dup.value, dup.line) == ("lines[0].stations[1].id", "cut",
                                               line_of(text, "- id: cut", nth=2))
    assert (
        f"  {path}:{dup.line}: lines[0].stations[1].id: duplicate station id, already used by "
        f"lines[0].stations[0]; expected a unique id (got 'cut')"
    ) in str(err).splitlines()
    assert (ref.path, ref.value) == ("products[0].route[1]", "weld")


def test_unknown_equipment_type(tmp_path: Path) -> None:
    text = edit("equipment: welder", "equipment: robot")
    err, path = problems(tmp_path, text)
    assert str(err).splitlines()[1] == (
        f"  {path}:{line_of(text, 'robot')}: lines[0].stations[1].equipment: unknown equipment "
        f"type; expected one of 'saw', 'welder' (got 'robot')"
    )


def test_unknown_product_in_source(tmp_path: Path) -> None:
    text = edit("product_mix: {part: 1}", "product_mix: {prat: 1}")
    err, path = problems(tmp_path, text)
    assert str(err).splitlines()[1] == (
        f"  {path}:{line_of(text, 'prat')}: sources[0].product_mix.prat: unknown product; "
        f"did you mean 'part'? (got 'prat')"
    )


def test_unknown_product_in_plan_source(tmp_path: Path) -> None:
    text = edit(
        "    kind: arrivals\n    interarrival: {dist: exponential, mean: 60}\n"
        "    product_mix: {part: 1}\n",
        "    kind: plan\n    quantities:\n      part: 100\n      bolt: 5\n",
    )
    err, _ = problems(tmp_path, text)
    issue = only(err)
    assert (issue.path, issue.line) == ("sources[0].quantities.bolt", line_of(text, "bolt"))
    assert issue.message == "unknown product; expected one of 'part'"


def test_unknown_shift_in_week(tmp_path: Path) -> None:
    text = edit("tue: [early]", "tue: [early, night]")
    err, path = problems(tmp_path, text)
    assert str(err).splitlines()[1] == (
        f"  {path}:{line_of(text, 'night')}: calendar.week.tue[1]: unknown shift; expected one "
        f"of 'early', 'late' (got 'night')"
    )


def test_unknown_weekday_is_a_key_error_without_pydantic_markers(tmp_path: Path) -> None:
    text = edit("tue: [early]", "tuesday: [early]")
    err, _ = problems(tmp_path, text)
    issue = only(err)
    assert (issue.path, issue.line) == ("calendar.week.tuesday", line_of(text, "tuesday"))
    assert issue.message == "unknown key 'tuesday'; did you mean 'tue'?"
    assert "[key]" not in str(err)


def test_unknown_power_state(tmp_path: Path) -> None:
    text = edit("{idle: 1, processing: 20}", "{idle: 1, procesing: 20}")
    err, _ = problems(tmp_path, text)
    issue = only(err)
    assert issue.path == "equipment_types[1].power_kw.electricity.procesing"
    assert issue.message == "unknown key 'procesing'; did you mean 'processing'?"


def test_literal_mismatch_names_the_choices(tmp_path: Path) -> None:
    text = edit("buffer_capacity: 5", "buffer_capacity: 5\n        off_shift: stop")
    err, _ = problems(tmp_path, text)
    issue = only(err)
    assert (issue.path, issue.value) == ("lines[0].stations[1].off_shift", "stop")
    assert issue.message == "expected 'finish' or 'interrupt'"


def test_literal_of_numbers_is_shown_without_quotes(tmp_path: Path) -> None:
    err, _ = problems(tmp_path, edit("days: 2", "days: 2\n  settlement_interval_min: 7"))
    assert str(err).endswith(
        "simulation.settlement_interval_min: expected one of 5, 10, 15, 20, 30, 60 (got 7)")


def test_unit_word_gets_did_you_mean(tmp_path: Path) -> None:
    err, _ = problems(tmp_path, edit("mean: 60}", "mean: 1, unit: minutes}"))
    issue = only(err)
    assert (issue.path, issue.value) == ("sources[0].interarrival.unit", "minutes")
    assert issue.message == "expected one of 's', 'min', 'h'; did you mean 'min'?"


def test_invalid_distribution_tag_lists_allowed_tags(tmp_path: Path) -> None:
    text = edit("{dist: constant, value: 40}", "{dist: gaussian, mean: 40, std: 4}")
    err, path = problems(tmp_path, text)
    issue = only(err)
    assert (issue.path, issue.value) == ("lines[0].stations[1].process_time.dist", "gaussian")
    assert str(err).splitlines()[1] == (
        f"  {path}:{line_of(text, 'gaussian')}: lines[0].stations[1].process_time.dist: unknown "
        f"dist; expected one of 'constant', 'exponential', 'normal', 'lognormal', 'triangular', "
        f"'uniform', 'weibull', 'empirical'; did you mean 'normal'? (got 'gaussian')"
    )


def test_missing_distribution_tag_lists_allowed_tags(tmp_path: Path) -> None:
    text = edit("{dist: constant, value: 40}", "{value: 40}")
    err, _ = problems(tmp_path, text)
    issue = only(err)
    assert issue.path == "lines[0].stations[1].process_time"
    assert issue.message.startswith("'dist:' is missing; expected dist: one of 'constant', "
                                    "'exponential', ")
    assert "e.g. {dist: exponential, mean: 60, unit: s}" in issue.message


def test_distribution_given_as_a_number(tmp_path: Path) -> None:
    err, _ = problems(tmp_path, edit("{dist: constant, value: 40}", "40"))
    issue = only(err)
    assert (issue.path, issue.value) == ("lines[0].stations[1].process_time", 40)
    assert issue.message.startswith("expected a mapping with dist: one of 'constant', ")


def test_invalid_source_kind(tmp_path: Path) -> None:
    text = edit("kind: arrivals", "kind: arrival")
    err, _ = problems(tmp_path, text)
    issue = only(err)
    assert (issue.path, issue.line) == ("sources[0].kind", line_of(text, "kind: arrival"))
    assert issue.message == ("unknown kind; expected one of 'plan', 'arrivals', 'orders', "
                             "'plan_file'; did you mean 'arrivals'?")


def test_missing_required_field(tmp_path: Path) -> None:
    text = edit("        equipment: welder\n", "")
    err, path = problems(tmp_path, text)
    issue = only(err)
    assert issue.path == "lines[0].stations[1].equipment"
    assert issue.line == line_of(text, "      - id: weld")  # the station it belongs to
    assert str(err).splitlines()[1] == (
        f"  {path}:{issue.line}: lines[0].stations[1].equipment: required field is missing; "
        f"expected equipment type id (power per state)"
    )


def test_list_item_that_is_not_a_mapping(tmp_path: Path) -> None:
    text = edit("      - id: weld\n        equipment: welder\n        buffer_capacity: 5\n"
                "        process_time: {dist: constant, value: 40}\n", "      - weld\n")
    err, _ = problems(tmp_path, text)
    by_path = {i.path: i for i in err.issues}
    issue = by_path["lines[0].stations[1]"]
    assert issue.message == "expected a mapping of key: value pairs with at least: id, equipment"
    assert issue.value == "weld"


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("start: 2026-13-01", "expected a date as YYYY-MM-DD (month value is outside expected "
                              "range of 1-12) (got '2026-13-01')"),
        ("start: 2026-02-30", "expected a date as YYYY-MM-DD (day value is outside expected "
                              "range) (got '2026-02-30')"),
        ("start: next monday", "expected a date as YYYY-MM-DD (got 'next monday')"),
        ("start: 20260105", "expected a date as YYYY-MM-DD (got 20260105)"),
        ("start: 2026-01-05 06:00:00", "expected a date as YYYY-MM-DD (got 2026-01-05 06:00:00)"),
        ("start: 2300-01-01", "expected a start day between 1900-01-01 and 2200-12-31 "
                              "(got 2300-01-01)"),
    ],
)
def test_bad_date(tmp_path: Path, new: str, expected: str) -> None:
    text = edit("start: 2026-01-05", new)
    err, path = problems(tmp_path, text)
    assert str(err).splitlines()[1] == f"  {path}:6: simulation.start: {expected}"


def test_bad_id(tmp_path: Path) -> None:
    err, _ = problems(tmp_path, edit("- id: part", "- id: 'part:A'"))
    issue = only(err)
    assert (issue.path, issue.value) == ("products[0].id", "part:A")
    assert issue.message == ("expected an id without ':' and without leading, trailing or double "
                             "blanks")


def test_unknown_time_zone(tmp_path: Path) -> None:
    err, _ = problems(tmp_path, edit("name: Test plant", "name: Test plant\n  timezone: Beijing"))
    assert str(err).endswith("site.timezone: unknown time zone; expected an IANA name such as "
                             "'Asia/Shanghai' (got 'Beijing')")


def test_top_level_list_instead_of_mapping(tmp_path: Path) -> None:
    err, path = problems(tmp_path, "- site: {name: x}\n- products: []\n")
    assert str(err).splitlines()[1] == (
        f"  {path}:1: expected a mapping of sections (site:, products:, equipment_types:, lines:, "
        f"sources:) at the top level, not a list"
    )  # never the value: the file may not be a plant file at all (issue 12, item 9)


def test_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "no_such_plant.yaml"
    with pytest.raises(ConfigError) as info:
        load_plant(path)
    assert str(info.value) == f"{path}: 1 problem found\n  {path}: file not found"


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder; expected a YAML file"):
        load_plant(tmp_path)


def test_every_problem_is_reported_at_its_line(tmp_path: Path) -> None:
    text = edit("latitude: 31.2", "latitude: 95")
    text = edit("tue: [early]", "tue: [erly]", text)
    text = edit("buffer_capacity: 5", "buffer_capacity: 0", text)
    text = edit("product_mix: {part: 1}", "product_mix: {part: 1}\n    activ: shifts", text)
    err, _ = problems(tmp_path, text)
    # field errors are found first; reference checks run on a plant whose fields are valid
    got = [(i.path, i.line) for i in err.issues]
    assert got == [
        ("site.latitude", line_of(text, "latitude: 95")),
        ("lines[0].stations[1].buffer_capacity", line_of(text, "buffer_capacity: 0")),
        ("sources[0].activ", line_of(text, "activ: shifts")),
    ]
    text = edit("latitude: 95", "latitude: 31.2", text)
    text = edit("buffer_capacity: 0", "buffer_capacity: 1", text)
    text = edit("activ: shifts", "active: shifts", text)
    err, _ = problems(tmp_path, text)
    assert [(i.path, i.line) for i in err.issues] == [("calendar.week.tue[0]",
                                                        line_of(text, "erly"))]


# ---------------------------------------------------------------------------------------------
# YAML 1.1 traps: the loader reads YAML 1.2 core-schema scalars


def test_yaml11_traps_are_avoided(tmp_path: Path) -> None:
    text = edit("early: {start: '06:00', end: '14:00'}", "early: {start: 06:00, end: 14:00}")
    text = edit("name: Test plant", "name: no", text)
    path = tmp_path / "plant.yaml"
    path.write_text(text)
    plant = load_plant(path)
    saw = plant.equipment_types[0]
    assert saw.off_shift_mode == "off"
    assert list(saw.saving_modes) == ["off"]
    assert "off" in saw.power_kw["electricity"]
    assert plant.calendar is not None and plant.calendar.shifts["early"].start == "06:00"
    assert plant.calendar.shifts["early"].end == "14:00"
    assert plant.site.name == "no"


def test_yaml12_scalars() -> None:
    data, _ = parse_yaml("a: off\nb: 06:00\nc: yes\nd: On\ne: 0o17\nf: 0x1f\ng: 1e3\nh: 010\n"
                         "i: true\nj: ~\nk: 2026-01-05\nl: 1_000\n")
    assert data["a"] == "off" and data["b"] == "06:00" and data["c"] == "yes" and data["d"] == "On"
    assert (data["e"], data["f"], data["g"], data["h"]) == (15, 31, 1000.0, 10)
    assert data["i"] is True and data["j"] is None
    assert str(data["k"]) == "2026-01-05"
    assert data["l"] == "1_000"


def test_numeric_ids_are_taken_as_text(tmp_path: Path) -> None:
    text = edit("route: [cut, weld]", "route: [10, 20]")
    text = edit("- id: cut", "- id: 10", text)
    text = edit("      - id: weld\n", "      - id: 20\n", text)
    path = tmp_path / "plant.yaml"
    path.write_text(text)
    plant = load_plant(path)
    assert plant.products[0].route == ["10", "20"]
    assert [s.id for _, _, s in plant.stations()] == ["10", "20"]


# ---------------------------------------------------------------------------------------------
# the command prints the problems without a traceback and exits with 2


def test_cli_validate_prints_problems_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plant.yaml"
    text = edit("buffer_capacity: 5", "buffer_capacity: -5")
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    assert err.splitlines() == [
        f"{path}: 1 problem found",
        f"  {path}:{line_of(text, 'buffer_capacity')}: lines[0].stations[1].buffer_capacity: "
        f"expected a whole number >= 1 (got -5)",
    ]


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize(
    "text",
    [
        "",
        "site: [1,\n",
        "- a\n- b\n",
        edit("route: [cut, weld]", "route: [cut, paint]"),
        edit("early: {start: '06:00', end: '14:00'}", "early: {start: '14:00', end: '06:00'}"),
    ],
    ids=["empty", "not-yaml", "list", "reference", "shift"],
)
def test_cli_exit_code_2_for_each_class_of_mistake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, text: str
) -> None:
    path = tmp_path / "plant.yaml"
    path.write_text(text)
    args = [command, str(path)] + (["--out", str(tmp_path / "run")] if command == "run" else [])
    assert main(args) == 2
    _, err = capsys.readouterr()
    assert err.startswith(f"{path}: 1 problem found\n  {path}")
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not TWIN.exists(), reason="the twin console script is not installed")
def test_cli_subprocess_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "plant.yaml"
    path.write_text(edit("{dist: constant, value: 40}", "{dist: exponential, mean: fast}"))
    proc = subprocess.run([str(TWIN), "validate", str(path)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{path}:" in proc.stderr
    assert "lines[0].stations[1].process_time.mean: expected a number (got 'fast')" in proc.stderr
    proc = subprocess.run([str(TWIN), "validate", str(tmp_path / "missing.yaml")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("missing.yaml: file not found")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("block, path, words", [
    ("carbon: {grid_region: jiangshu}\n", "carbon.grid_region", "did you mean 'jiangsu'"),
    ("carbon: {grid_region: jiangsu, grid_year: 2030}\n", "carbon.grid_year", "[2021, 2022]"),
])
def test_unknown_grid_region_or_year_is_caught_when_loading(
        tmp_path: Path, block: str, path: str, words: str) -> None:
    """Not a traceback at the end of the run: the field, its line and what the tables hold."""
    text = GOOD + block
    err, _ = problems(tmp_path, text)
    issue = only(err)
    assert issue.path == path and words in issue.message
    assert issue.line == line_of(text, "carbon:")


def test_grid_region_in_chinese_is_accepted(tmp_path: Path) -> None:
    f = tmp_path / "plant.yaml"
    f.write_text(GOOD + "carbon: {grid_region: 江苏}\n", encoding="utf-8")
    assert load_plant(f).carbon.grid_region == "江苏"
