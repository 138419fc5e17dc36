"""The run dashboard: one self-contained, escaped, deterministic HTML file from a run folder."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import twin
from twin.config import plant_from_data, read_yaml
from twin.dashboard import (
    FIGURE_IDS,
    FOOTPRINT_FIGURE_IDS,
    SUPPLY_FIGURE_IDS,
    build_html,
    load,
    write_dashboard,
)
from twin.dashboard.data import price_bands
from twin.dashboard.figures import (
    ELECTRICITY,
    GROUP,
    NATURAL_GAS,
    emissions_by_scope,
    energy_flows,
    energy_sankey,
    supply_flows,
    supply_week,
)

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


# the demo plant has PV, a battery and a tariff, and finishes products (a footprint figure)
ALL_IDS = (*FIGURE_IDS, *SUPPLY_FIGURE_IDS, *FOOTPRINT_FIGURE_IDS)


def test_plotly_embedded_once_and_offline(page: str) -> None:
    assert page.count("* plotly.js v") == 1
    assert page.count("Plotly.newPlot(") == len(ALL_IDS)
    assert not re.search(r"<script[^>]*\bsrc=", page, re.I)   # nothing loaded from outside
    assert not re.search(r"<link\b|@import", page, re.I)


def test_every_figure_and_table_present(page: str) -> None:
    for div_id in ALL_IDS:
        assert f'id="{div_id}"' in page, div_id
    assert 'id="kpi-cards"' in page and 'id="station-table"' in page
    assert "Natural gas" in page   # the demo plant burns gas: its panel, card and column


def test_user_names_escaped(page: str) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page          # header and title
    assert "&lt;i&gt;saw&lt;/i&gt;" in page                           # station table
    for raw in (EVIL_PLANT, "<script>alert", EVIL_STATION, EVIL_GROUP, "<img src=x"):
        assert raw.lower() not in page.lower(), raw
    # every script element is ours: plotly.js plus one per figure
    assert len(re.findall(r"<script\b", page, re.I)) == 1 + len(ALL_IDS)


def test_size_bound(page: str) -> None:
    from plotly.offline import get_plotlyjs

    own = len(page.encode()) - len(get_plotlyjs().encode())
    assert own < 250_000, own          # 3 days; a 365-day run: see test_year_run
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


# ---------------------------------------------------------------------------- energy supply

def _no_energy() -> twin.Plant:
    data = _demo_data()
    data.pop("energy", None)
    return plant_from_data(data)


@pytest.fixture(scope="module")
def plain_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = twin.simulate(_no_energy(), days=3).save(tmp_path_factory.mktemp("plain") / "run")
    return write_dashboard(out).read_text(encoding="utf-8")


def test_supply_cards_and_sections(page: str) -> None:
    for label in ("Cost total", "Self-sufficiency", "PV generation", "Peak grid import",
                  "Battery discharge"):
        assert f'<div class="label">{label}</div>' in page, label
    assert "full-load hours" in page and "demand " in page and "gas " in page
    assert "tariff jiangsu_2025[two_part]" in page                  # header
    assert "Background: price" in page                              # price shading legend


def test_run_without_supply_keeps_the_old_page(plain_page: str) -> None:
    assert plain_page.count("Plotly.newPlot(") == len(FIGURE_IDS) + len(FOOTPRINT_FIGURE_IDS)
    for div_id in FIGURE_IDS:
        assert f'id="{div_id}"' in plain_page, div_id
    for div_id in SUPPLY_FIGURE_IDS:
        assert f'id="{div_id}"' not in plain_page, div_id
    for label in ("Cost total", "Self-sufficiency", "PV generation", "Peak grid import"):
        assert f'<div class="label">{label}</div>' not in plain_page, label
    assert "tariff " not in plain_page


def test_supply_strings_escaped(run_dir: Path, tmp_path: Path) -> None:
    # tariff, weather and currency come from the run folder: a hand-edited or future kpis.json
    # must not inject markup either
    d = tmp_path / "edited"
    shutil.copytree(run_dir, d)
    kpis = json.loads((d / "kpis.json").read_text(encoding="utf-8"))
    kpis.update(tariff="<b>t</b>", weather="<img src=w onerror=alert(3)>",
                currency="<i>¥</i>")
    kpis["carbon"]["grid_factor"].update(region="<u>r</u>", status="<s>x</s>",
                                         source="<img src=s onerror=alert(4)>")
    (d / "kpis.json").write_text(json.dumps(kpis), encoding="utf-8")
    page = build_html(d)
    for raw in ("<b>t</b>", "<img src=w", "<i>¥</i>", "<u>r</u>", "<s>x</s>", "<img src=s"):
        assert raw not in page, raw
    assert "&lt;b&gt;t&lt;/b&gt;" in page and "&lt;i&gt;¥&lt;/i&gt;" in page
    assert "&lt;u&gt;r&lt;/u&gt;" in page and "&lt;img src=s" in page
    assert len(re.findall(r"<script\b", page, re.I)) == 1 + len(ALL_IDS)


def test_supply_flows_balance(run_dir: Path) -> None:
    data = load(run_dir)
    f = supply_flows(data)
    above = sum(v for k, v in f.items() if k != "demand" and (v >= 0).all())
    below = sum(v for k, v in f.items() if k != "demand" and (v <= 0).all() and v.any())
    # above zero is the demand plus battery charging (what went into the battery came from
    # the sources above); curtailment is PV that was not used, outside the balance
    charge = data.col("battery_charge_kwh") + data.col("grid_export_kwh")
    np.testing.assert_allclose(above, data.col("electricity_demand_kwh") + charge, atol=1e-6)
    np.testing.assert_allclose(
        below, -(charge + data.col("curtailed_kwh")), atol=1e-6)


def test_emissions_section(page: str, plain_page: str, run_dir: Path) -> None:
    k = load(run_dir).kpis
    gf = k["carbon"]["grid_factor"]
    for p in (page, plain_page):        # every run is accounted: both pages have the figures
        assert 'id="fig-emissions"' in p and 'id="fig-emissions-heatmap"' in p
        assert "Emissions by scope and source" in p and "kg CO₂/kWh" in p
    assert f"grid-average factor {gf['value']:.4g} kg CO₂/kWh ({gf['region']}, {gf['year']};" \
        f" status {gf['status']}" in page
    fig = emissions_by_scope(load(run_dir))
    s1, loc, mkt = (t["y"] for t in fig["data"][:3])
    assert s1[0] == s1[1] == pytest.approx(k["co2_scope1_kg"] / 1000, rel=1e-6)
    assert loc[0] == pytest.approx(k["co2_scope2_location_kg"] / 1000, rel=1e-6)
    assert mkt[1] == pytest.approx(k["co2_scope2_market_kg"] / 1000, rel=1e-6)
    assert fig["layout"]["yaxis"]["title"]["text"].startswith("t CO₂")


def _balance(links: list[tuple[str, str, float]], node: str) -> tuple[float, float]:
    return (sum(v for _, b, v in links if b == node), sum(v for a, _, v in links if a == node))


def test_sankey_flows_balance(run_dir: Path) -> None:
    data = load(run_dir)
    links = energy_flows(data)
    assert all(v > 0 for _, _, v in links)
    k = data.kpis
    inflow, outflow = _balance(links, ELECTRICITY)
    assert outflow == pytest.approx(inflow, rel=1e-6)
    assert inflow == pytest.approx(k["grid_import_kwh"] + k["pv_kwh"] + k["wind_kwh"]
                                   + k["chp_kwh"] + k["battery_discharge_kwh"]
                                   + k["unserved_kwh"], rel=1e-6)
    # the groups' electricity is the site demand; gas in = natural_gas_kwh (incl. the boiler)
    groups = sum(v for a, b, v in links if a == ELECTRICITY and b.startswith(GROUP))
    assert groups == pytest.approx(k["electricity_kwh"], rel=1e-6)
    gas_in, gas_out = _balance(links, NATURAL_GAS)
    assert gas_in == pytest.approx(k["natural_gas_kwh"], rel=1e-6)
    assert gas_out == pytest.approx(gas_in, rel=1e-6)
    heat_in, heat_out = _balance(links, "Heat")
    assert heat_in == pytest.approx(heat_out, rel=1e-6) and heat_in == pytest.approx(
        k["heat_kwh"], rel=1e-6)
    # every node of the Sankey is a link end; group names are escaped
    fig = energy_sankey(data)
    labels = fig["data"][0]["node"]["label"]
    assert "&lt;b&gt;utilities&lt;/b&gt;" in labels and EVIL_GROUP not in labels
    assert {"Grid import", "PV", "Battery discharge", "Battery charging", "Heat"} <= set(labels)


def test_sankey_without_supply(tmp_path: Path) -> None:
    out = twin.simulate(_no_energy(), days=2).save(tmp_path / "plain")
    links = energy_flows(load(out))
    inflow, outflow = _balance(links, ELECTRICITY)
    assert [a for a, b, _ in links if b == ELECTRICITY] == ["Grid import"]
    assert outflow == pytest.approx(inflow, rel=1e-6)


def test_price_bands_from_prices_and_periods(run_dir: Path, tmp_path: Path) -> None:
    data = load(run_dir)
    bands = price_bands(data)
    assert bands is not None and len(bands.edges) == len(bands.levels) + 1
    # the run folder names the TOU period of each interval
    assert bands.labels == ["Valley 0.3575 CNY/kWh", "Flat 0.65 CNY/kWh", "Peak 1.01 CNY/kWh"]
    iv = data.intervals
    assert iv is not None
    edges = pd.DatetimeIndex(bands.edges)
    assert edges.is_monotonic_increasing and edges[0] == iv.index[0].tz_localize(None)
    # each band's level is the price level of the intervals in it
    start = pd.DatetimeIndex(iv.index.tz_localize(None))
    k = np.searchsorted(edges, start, side="right") - 1
    levels = np.searchsorted([0.3575, 0.65, 1.01], iv["price_per_kwh"].round(6))
    assert (bands.levels[k] == levels).all()
    # without the tou_period column the price levels alone give the same bands
    d = tmp_path / "prices"
    shutil.copytree(run_dir, d)
    full = pd.read_parquet(d / "intervals.parquet").drop(columns="tou_period")
    full.to_parquet(d / "intervals.parquet")
    by_price = price_bands(load(d))
    assert by_price is not None
    assert by_price.labels == ["0.3575 CNY/kWh", "0.65 CNY/kWh", "1.01 CNY/kWh"]
    assert (by_price.levels == bands.levels).all() and by_price.edges == bands.edges
    # many price levels (a flat price that changes from day to day): rank within the day
    day = (full.index.normalize() - full.index[0].normalize()).days.to_numpy()
    full["price_per_kwh"] *= 1.0 + 0.05 * day
    full.to_parquet(d / "intervals.parquet")
    ranked = price_bands(load(d))
    assert ranked is not None and ranked.labels[0] == "lowest price of the day"
    assert (ranked.levels == bands.levels).all()


@pytest.fixture(scope="module")
def year_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    plant = plant_from_data(_demo_data())
    return twin.simulate(plant, days=365).save(tmp_path_factory.mktemp("year") / "run")


def test_year_run(year_dir: Path) -> None:
    from plotly.offline import get_plotlyjs

    page = write_dashboard(year_dir).read_text(encoding="utf-8")
    size = len(page.encode())
    own = size - len(get_plotlyjs().encode())
    assert size < 10_000_000 and own < 1_500_000, (size, own)
    for div_id in ALL_IDS:
        assert f'id="{div_id}"' in page, div_id
    data = load(year_dir)
    # the monthly cost bars add up to the KPIs
    costs = data.monthly_costs()
    assert costs is not None and len(costs) == 13          # 2 Mar 2026 to 1 Mar 2027
    k = data.kpis
    for col, key in (("energy", "energy_cost"), ("demand", "demand_cost"), ("gas", "gas_cost"),
                     ("capacity", "capacity_cost"), ("total", "cost_total")):
        assert costs[col].sum() == pytest.approx(k[key], rel=1e-9, abs=1e-9), col
    # the week slider starts at the first full week (the run starts on a Monday)
    fig = supply_week(data)
    slider = fig["layout"]["sliders"][0]
    assert len(slider["steps"]) == 53 and slider["active"] == 0
    assert fig["layout"]["xaxis"]["range"] == ["2026-03-02 00:00", "2026-03-09 00:00"]


def test_week_slider_starts_at_first_full_week(tmp_path: Path) -> None:
    plant = plant_from_data(_demo_data())
    out = twin.simulate(plant, days=12, start="2026-03-04").save(tmp_path / "wed")  # Wednesday
    fig = supply_week(load(out))
    slider = fig["layout"]["sliders"][0]
    assert len(slider["steps"]) == 2 and slider["active"] == 1
    assert fig["layout"]["xaxis"]["range"] == ["2026-03-09 00:00", "2026-03-16 00:00"]


def test_product_footprints_figure(run_dir: Path, page: str) -> None:
    # The demo finishes products: one horizontal stacked bar per product, whose parts add up to
    # the KPI's kg CO2 per unit.
    from twin.dashboard.figures import product_footprints

    assert 'id="fig-footprint"' in page
    data = load(run_dir)
    fig = product_footprints(data)
    prods = {p: v for p, v in data.kpis["footprints"]["products"].items()
             if v["co2_kg_per_unit"] is not None}
    names = [str(y) for y in fig["data"][0]["y"]]
    for i, p in enumerate(prods):
        stacked = sum(float(trace["x"][i]) for trace in fig["data"])
        assert stacked == pytest.approx(prods[p]["co2_kg_per_unit"], rel=1e-5)
        assert names[i] == html.escape(p)
