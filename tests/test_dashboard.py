"""The run dashboard: one self-contained, escaped, deterministic HTML file from a run folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import twin
from twin.config import plant_from_data, read_yaml
from twin.dashboard import FIGURE_IDS, write_dashboard

DEMO = Path(__file__).resolve().parents[1] / "plant_configs" / "demo_plant.yaml"

EVIL_PLANT = "<script>alert(1)</script>"
EVIL_STATION = "<i>saw</i>"                      # ids allow markup: no blanks, no colon
EVIL_GROUP = "<b>utilities</b>"
EVIL_PRODUCT = "<img src=x onerror=alert(2)>"


def _demo_data(**site: str) -> dict:
    data, _ = read_yaml(DEMO)
    data["site"].update(site)
    return data


def _evil_plant() -> twin.Plant:
    """The demo plant with markup in the plant, station, group and product names."""
    data = _demo_data(name=EVIL_PLANT)
    data["lines"][0]["stations"][0]["id"] = EVIL_STATION
    for p in data["products"]:
        p["route"] = [EVIL_STATION if s == "saw" else s for s in p["route"]]
        if p["id"] == "bracket":
            p["id"] = EVIL_PRODUCT
    q = data["sources"][0]["quantities"]
    q[EVIL_PRODUCT] = q.pop("bracket")
    for b in data["base_loads"]:
        if b["group"] == "utilities":
            b["group"] = EVIL_GROUP
    return plant_from_data(data)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = twin.simulate(_evil_plant(), days=3)
    return result.save(tmp_path_factory.mktemp("dash") / "run")


@pytest.fixture(scope="module")
def page(run_dir: Path) -> str:
    path = write_dashboard(run_dir)
    assert path == run_dir / "dashboard.html"
    return path.read_text(encoding="utf-8")


def test_file_written_atomically(run_dir: Path, page: str) -> None:
    assert (run_dir / "dashboard.html").is_file()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]  # no temp file left


def test_plotly_embedded_once_and_offline(page: str) -> None:
    assert page.count("* plotly.js v") == 1
    assert page.count("Plotly.newPlot(") == len(FIGURE_IDS)
    assert not re.search(r"<script[^>]*\bsrc=", page, re.I)   # nothing loaded from outside
    assert not re.search(r"<link\b|@import", page, re.I)


def test_every_figure_and_table_present(page: str) -> None:
    for div_id in FIGURE_IDS:
        assert f'id="{div_id}"' in page, div_id
    assert 'id="kpi-cards"' in page and 'id="station-table"' in page
    assert "Natural gas" in page   # the demo plant burns gas: its panel, card and column


def test_user_names_escaped(page: str) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page          # header and title
    assert "&lt;i&gt;saw&lt;/i&gt;" in page                           # station table
    for raw in (EVIL_PLANT, "<script>alert", EVIL_STATION, EVIL_GROUP, "<img src=x"):
        assert raw.lower() not in page.lower(), raw
    # every script element is ours: plotly.js plus one per figure
    assert len(re.findall(r"<script\b", page, re.I)) == 1 + len(FIGURE_IDS)


def test_size_bound(page: str) -> None:
    from plotly.offline import get_plotlyjs

    own = len(page.encode()) - len(get_plotlyjs().encode())
    assert own < 200_000, own          # 3 days; a 365-day run adds about 0.4 MB
    assert len(page.encode()) < 10_000_000


def test_deterministic(run_dir: Path, page: str) -> None:
    assert write_dashboard(run_dir).read_text(encoding="utf-8") == page


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a twin run folder"):
        write_dashboard(tmp_path)


def test_daylight_saving_change_and_no_finished_lots(tmp_path: Path) -> None:
    # Berlin moves clocks forward on 2026-03-29: local hours are not evenly spaced, so the hourly
    # traces carry explicit times. Six hours from midnight finish no lot: the page says so.
    plant = plant_from_data(_demo_data(timezone="Europe/Berlin"))
    out = twin.simulate(plant, days=3, start="2026-03-28").save(tmp_path / "dst")
    page = write_dashboard(out).read_text(encoding="utf-8")
    assert "2026-03-29 03:00" in page and "2026-03-29 02:00" not in page
    quiet = twin.simulate(plant, days=0.25).save(tmp_path / "quiet")
    page = write_dashboard(quiet).read_text(encoding="utf-8")
    assert "No lot was finished in this run." in page
    assert 'id="fig-lead-time"' not in page
