"""`twin init` (starter plant files per sector) and the generated plant-file reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import twin
from twin.cli import main
from twin.config import load_plant
from twin.config.plant import Plant
from twin.config.reference import plant_file_reference
from twin.config.templates import SECTORS, template_text

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "twin" / "data" / "templates"
REFERENCE = ROOT / "docs" / "plant_file_reference.md"

ISSUE_18_SECTORS = {  # issue 18 item 1, as written there
    "automotive", "lithium_battery", "photovoltaic", "electronics", "light_industry",
    "machinery", "computing", "steel", "nonferrous", "petrochemical", "building_materials",
    "textiles", "other",
}


def test_one_template_file_per_sector_of_issue_18() -> None:
    assert set(SECTORS) == ISSUE_18_SECTORS
    assert {p.stem for p in TEMPLATES.glob("*.yaml")} == ISSUE_18_SECTORS


@pytest.mark.parametrize("sector", SECTORS)
def test_init_writes_a_file_that_validates(sector: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plant.yaml"
    assert main(["init", "--sector", sector, str(path)]) == 0
    assert path.read_text(encoding="utf-8") == template_text(sector)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plant.yaml"]  # no temporary left
    capsys.readouterr()
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "OK" in out and "warning" not in err


@pytest.mark.parametrize("sector", SECTORS)
def test_template_marks_its_values(sector: str) -> None:
    text = template_text(sector)
    assert "Unless a comment says otherwise, every number in this file is ILLUSTRATIVE." in text
    # every SOURCED mark names what it comes from (a citation after the colon, not a bare mark)
    legend, *marks = re.findall(r"SOURCED(.*)", text)
    assert legend.strip() == "taken from a cited document or data set."
    assert marks, "each template cites at least its tariff preset"
    for rest in marks:
        assert rest.startswith(": ") and len(rest.strip(": ")) >= 8, rest
    # the plant's name says it is a starter, so a run of an unchanged template is recognisable
    assert "starter plant" in load_plant(TEMPLATES / f"{sector}.yaml").site.name


def test_init_refuses_to_overwrite_without_force(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plant.yaml"
    path.write_text("mine\n", encoding="utf-8")
    assert main(["init", "--sector", "steel", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "--force" in err
    assert path.read_text(encoding="utf-8") == "mine\n"
    assert main(["init", "--sector", "steel", str(path), "--force"]) == 0
    assert path.read_text(encoding="utf-8") == template_text("steel")


def test_init_bad_targets_are_one_line_errors(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--sector", "steel", str(tmp_path / "no" / "plant.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err
    assert main(["init", "--sector", "steel", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a folder" in err
    with pytest.raises(SystemExit) as exc:
        main(["init", "--sector", "shipbuilding", str(tmp_path / "p.yaml")])
    assert exc.value.code == 2
    assert not (tmp_path / "p.yaml").exists()


def test_computing_template_runs_a_week_at_pue_1_3() -> None:
    # By hand from the file: a plant without production whose IT load (group 'it') draws 850 kW
    # and overheads 200 + 45 + 10 = 255 kW = 0.3 x 850 (PUE 1.3). A week: (850 + 255) kW x 168 h
    # = 185,640 kWh; no units, no lots (the template has no placeholder production).
    res = twin.simulate(load_plant(TEMPLATES / "computing.yaml"), days=7)
    assert not load_plant(TEMPLATES / "computing.yaml").has_production
    assert res.kpis["production"] is False and "units_completed" not in res.kpis
    assert res.kpis["electricity_kwh"] == pytest.approx(1105 * 168, rel=1e-6)
    it_kwh = res.kpis["energy_by_group_kwh"]["it"]["electricity"]
    assert it_kwh == pytest.approx(850 * 168, rel=1e-9)
    assert res.kpis["electricity_kwh"] / it_kwh == pytest.approx(1.3, rel=1e-6)


def test_other_template_runs_its_plan_on_working_days() -> None:
    # 2026-01-05..11 is Monday to Sunday with no public holiday: five working days of the
    # 500-unit plan (50 lots of 10) = 2,500 units, all finished within their shifts.
    res = twin.simulate(load_plant(TEMPLATES / "other.yaml"), days=7)
    assert res.kpis["units_completed"] == 5 * 500
    assert res.kpis["warnings"] == []


def test_automotive_template_paint_shop_is_the_largest_user_as_its_header_says() -> None:
    res = twin.simulate(load_plant(TEMPLATES / "automotive.yaml"), days=7)
    groups = res.kpis["energy_by_group_kwh"]
    total = {g: sum(v.values()) for g, v in groups.items()}
    assert max(total, key=total.get) == "paint_shop"
    gas = {g: v.get("natural_gas", 0.0) for g, v in groups.items()}
    assert max(gas, key=gas.get) == "paint_shop"
    assert res.kpis["units_completed"] == 5 * 400  # five working days of the 400-vehicle plan


# ---------------------------------------------------------------------------------------------
# the plant-file reference


def test_committed_reference_is_the_generated_one() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == plant_file_reference(), (
        "docs/plant_file_reference.md is stale: run "
        "`twin schema --markdown --out docs/plant_file_reference.md`")


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {parts[k].strip(): parts[k + 1] for k in range(1, len(parts), 2)}


def test_reference_has_every_field_of_the_json_schema() -> None:
    # The JSON Schema (pydantic's own walk of the models) is the independent list of sections and
    # fields: each model with properties is a section of the page listing every property.
    schema = Plant.model_json_schema()
    sections = _sections(plant_file_reference())
    models = dict(schema.get("$defs", {}))
    models["Plant"] = schema
    n_fields = 0
    for name, model in models.items():
        props = model.get("properties")
        if not props:
            continue
        assert name in sections, f"no section for {name}"
        for field in props:
            assert f"| `{field}` |" in sections[name], f"{name}.{field} missing"
            n_fields += 1
    assert n_fields > 300  # the schema is large: the walk above did see it


def test_reference_has_every_strategy_parameter() -> None:
    from twin.strategies import get_strategy, known_strategies

    sections = _sections(plant_file_reference())
    assert len(known_strategies()) >= 6
    for name in known_strategies():
        section = sections[f"Strategy {name}"]
        for field in get_strategy(name).Params.model_json_schema().get("properties", {}):
            assert f"| `{field}` |" in section, f"strategy {name}: {field} missing"


def test_reference_links_lead_to_its_headings() -> None:
    text = plant_file_reference()
    # GitHub's heading anchors: lower case, punctuation other than - and _ dropped, blanks -
    anchors = {re.sub(r"[^a-z0-9 _-]", "", h.lower()).replace(" ", "-")
               for h in re.findall(r"^## (.+)$", text, flags=re.M)}
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links and links <= anchors


def test_reference_rows_say_type_unit_default_and_bounds() -> None:
    site = _sections(plant_file_reference())["Site"]
    row = next(r for r in site.splitlines() if r.startswith("| `latitude` |"))
    assert [c.strip() for c in row.strip("|").split("|")] == [
        "`latitude`", "number", "deg north", "**required**", ">= -90, <= 90",
        "Latitude [deg north]."]
    row = next(r for r in site.splitlines() if r.startswith("| `altitude_m` |"))
    assert "| m | 0 |" in row
    sections = _sections(plant_file_reference())
    cells = {name: [c.strip() for c in row.strip("|").split(" | ")]
             for name in ("TouRow", "Simulation", "Tariff")
             for row in sections[name].splitlines() if row.startswith("| `")
             for c0 in [row.split(" | ")[0]] if c0 in ("| `months`", "| `steps`",
                                                       "| `demand_charge_per_kw_month`")}
    assert cells["TouRow"][2] == ""            # '[6, 7, 8]' in its text is an example, not a unit
    assert cells["Simulation"][2] == ""        # true/false: no unit
    assert cells["Tariff"][2] == "CNY/(kW month)"


def test_schema_markdown_prints_and_writes_the_page(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--markdown"]) == 0
    assert capsys.readouterr().out == plant_file_reference()
    out = tmp_path / "ref.md"
    assert main(["schema", "--markdown", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == plant_file_reference()
