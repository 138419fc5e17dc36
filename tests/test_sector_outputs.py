"""The sector comparison in the outputs (issue 18 item 1): the dashboard, the carbon report and
the terminal summary show the sector and each range with the run's value, verdict and source,
in English and Chinese; a plant without ``site.sector`` shows nothing new.

A one-day run of a small plant: a ``paint_shop`` line (10 kW processing, 2 kW idle) and an
``assembly`` line make cars of one vehicle each, so the paint shop's kWh per vehicle and its
share of the site's energy are worked out by hand from the run's own energy by group and units.
"""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path

import pytest
from conftest import MACHINE, SITE, const, station

import twin
from twin import i18n
from twin.config import plant_from_data
from twin.dashboard import build_html
from twin.report import write_report

PLANT = {
    "site": {**SITE, "sector": "automotive"},
    "products": [{"id": "car", "route": ["paint", "final"],
                  "functional_unit": {"name": "vehicle", "per_unit": 1}}],
    "equipment_types": [MACHINE],
    "lines": [{"id": "paint_shop", "stations": [station("paint", const(1200))]},
              {"id": "assembly", "stations": [station("final", const(600))]}],
    "sources": [{"id": "arr", "kind": "arrivals", "interarrival": const(1800),
                 "product_mix": {"car": 1}}],
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _save(data: dict, root: Path, name: str) -> Path:
    result = twin.simulate(plant_from_data(data), days=1, progress=False)
    return result.save(root / name)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sector")
    bare = copy.deepcopy(PLANT)
    del bare["site"]["sector"]
    other = copy.deepcopy(PLANT)
    other["site"]["sector"] = "other"     # a sector with no published range
    return {"auto": _save(PLANT, root, "auto"), "bare": _save(bare, root, "bare"),
            "other": _save(other, root, "other")}


def _kpis(run: Path) -> dict:
    return json.loads((run / "kpis.json").read_text("utf-8"))


def _rows(page: str) -> list[list[str]]:
    table = re.search(r'<table class="stations" id="sector-table">(.*?)</table>', page, re.S)
    assert table, "no sector table"
    return [[html.unescape(re.sub(r"<.*?>", " ", c)).strip() for c in
             re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)[1:]]


def _num(text: str) -> float:
    return float(re.search(r"[\d,]+(\.\d+)?", text).group(0).replace(",", ""))


def test_sector_values_by_hand(runs: dict[str, Path]) -> None:
    k = _kpis(runs["auto"])
    cars = k["products"]["car"]["units_completed"]
    assert cars >= 40                              # a car every 30 min for a day, less the last
    paint = k["energy_by_group_kwh"]["paint_shop"]["electricity"]
    # paint station: 1200 s processing at 10 kW per car, idle 2 kW the rest of the day
    assert paint == pytest.approx(cars * 1200 / 3600 * 10 + (24 - cars * 1200 / 3600) * 2,
                                  rel=0.03)
    rows = {r["metric"]: r for r in k["sector"]["comparisons"]}
    assert rows["group_final_energy_kwh_per_unit"]["value"] == pytest.approx(paint / cars,
                                                                              rel=1e-6)
    assert rows["group_share_of_final_energy"]["value"] == pytest.approx(
        paint / k["electricity_kwh"], rel=1e-6)


def test_dashboard_shows_the_kpis_values_ranges_and_verdicts(runs: dict[str, Path]) -> None:
    k = _kpis(runs["auto"])
    page = build_html(runs["auto"], lang="en")
    assert '<section id="sector">' in page and "Sector: automotive" in page
    rows = _rows(page)
    comps = k["sector"]["comparisons"]
    assert len(rows) == len(comps) == 2
    for row, c in zip(rows, comps, strict=True):
        shown = _num(row[1])
        if c["metric"] == "group_share_of_final_energy":
            assert row[1].endswith("%")
            assert shown == pytest.approx(c["value"] * 100, abs=0.05)
            assert row[2] == "≤ 70.0\u00a0%"
        else:
            assert "kWh/vehicle" in row[1]
            assert shown == pytest.approx(c["value"], rel=1e-3)
            assert row[2] == "245.0 – 642.0\u00a0kWh/vehicle"
        value = c["value"]
        low, high = c["low"], c["high"]
        expected = "below" if low is not None and value < low else \
            "above" if high is not None and value > high else "within"
        assert row[3] == expected == c["verdict"]
        assert "Stellantis" in row[5] or "Automotive Manufacturing Solutions" in row[5]
    # the range bar's mark sits at value / scale, the band from low to high on the same scale
    bar = re.findall(r'class="band" style="left:([\d.]+)%;width:([\d.]+)%"', page)[0]
    c = comps[0]
    top = 1.25 * max(c["value"], c["low"], c["high"])
    assert float(bar[0]) == pytest.approx(c["low"] / top * 100, abs=0.06)
    assert float(bar[1]) == pytest.approx((c["high"] - c["low"]) / top * 100, abs=0.11)


def test_chinese_dashboard_labels_the_sector_in_chinese_with_the_same_numbers(
        runs: dict[str, Path]) -> None:
    i18n.MISSING.clear()
    zh = build_html(runs["auto"], lang="zh")
    assert not i18n.MISSING, sorted(i18n.MISSING)
    assert "行业：汽车" in zh and "公开范围" in zh
    en_rows, zh_rows = _rows(build_html(runs["auto"], lang="en")), _rows(zh)
    for e, z in zip(en_rows, zh_rows, strict=True):
        assert e[1] == z[1] and e[2] == z[2]          # the same numbers and units
        assert CJK.search(z[0]) and CJK.search(z[3])  # metric and verdict in Chinese


def test_report_has_the_sector_table_in_both_languages(runs: dict[str, Path]) -> None:
    k = _kpis(runs["auto"])
    write_report(runs["auto"], lang="en")
    md = (runs["auto"] / "report.md").read_text("utf-8")
    assert "## 8. Sector comparison" in md and "Sector: automotive." in md
    assert "## 9. Month by month" in md  # numbered after the sector section, not "8." again
    part = md.split("## 8. Sector comparison")[1]
    for c in k["sector"]["comparisons"]:
        line = next(ln for ln in part.splitlines()
                    if ln.startswith("| ") and (c["group"] or "") in ln
                    and ln.startswith("| Share") == (c["metric"] == "group_share_of_final_energy"))
        cells = [x.strip() for x in line.strip("|").split("|")]
        scale = 100 if c["metric"] == "group_share_of_final_energy" else 1
        assert _num(cells[1]) == pytest.approx(c["value"] * scale, rel=1e-3)
        assert cells[3] == c["verdict"]
    assert 'id="sector-table"' not in (runs["auto"] / "report.html").read_text("utf-8")
    assert "8. Sector comparison" in (runs["auto"] / "report.html").read_text("utf-8")
    i18n.MISSING.clear()
    write_report(runs["auto"], lang="zh")
    assert not i18n.MISSING, sorted(i18n.MISSING)
    zh = (runs["auto"] / "report.md").read_text("utf-8")
    assert "## 8. 行业对比" in zh and "行业：汽车。" in zh


def test_summary_has_one_sector_line(runs: dict[str, Path]) -> None:
    from twin.results import Result

    k = _kpis(runs["auto"])
    text = Result.load(runs["auto"]).summary()
    lines = [ln for ln in text.splitlines() if ln.startswith("  sector ")]
    assert len(lines) == 1
    share = next(c for c in k["sector"]["comparisons"]
                 if c["metric"] == "group_share_of_final_energy")
    assert "automotive: " in lines[0] and f"{share['value'] * 100:.1f}\u00a0%" in lines[0]
    with i18n.use("zh"):
        zh = Result.load(runs["auto"]).summary()
    assert "  行业 " in zh and "汽车：" not in zh and "汽车: " in zh


def test_no_sector_shows_nothing_new(runs: dict[str, Path]) -> None:
    from twin.results import Result

    run = runs["bare"]
    assert "sector" not in _kpis(run)
    page = re.sub(r"<script.*?</script>", "", build_html(run, lang="en"), flags=re.S)
    assert 'id="sector"' not in page and "Sector:" not in page
    write_report(run, lang="en")
    assert "Sector comparison" not in (run / "report.md").read_text("utf-8")
    assert not any(ln.startswith("  sector ") for ln in Result.load(run).summary().splitlines())


def test_sector_without_ranges_says_so(runs: dict[str, Path]) -> None:
    from twin.results import Result

    run = runs["other"]
    assert _kpis(run)["sector"] == {"sector": "other", "comparisons": []}
    page = build_html(run, lang="en")
    assert "Sector: other" in page and 'id="sector-table"' not in page
    assert "No published range for this sector" in page
    assert "other: no published range" in Result.load(run).summary()
