"""What management reads ties to the run's balance: every total on a page is the total it says.

The truth is the run folder read here with pandas and json (``hourly.parquet``, ``kpis.json``),
never the dashboard's loader, on a small plant with an energy plant (a chiller and a gas boiler),
building HVAC, PV and a battery over a month boundary: the "where the energy goes" chart and
``energy_by_group_kwh`` must hold the chiller's and the HVAC's electricity, the load-duration
curve must be the run's hours sorted, the monthly table must add up to the run's totals, and the
"Battery saves" card must say by which rules its optimum plays. Average days and the study's
overlays are checked on hourly tables built by hand.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import const, make_plant, station

import twin
from twin.dashboard import figures, load
from twin.dashboard.page import MONTHLY_TABLE_ID, kpi_cards, render
from twin.dashboard.profiles import average_day, load_duration

F32 = {"rtol": 1e-6, "atol": 1e-3}  # figures send float32 arrays
WEATHER = {"synthetic": {"annual_clearness": 0.45,
                         "monthly_temp_c": [4, 6, 10, 16, 21, 25, 29, 28, 24, 18, 12, 6],
                         "daily_temp_swing_c": 7}}


def _plant() -> twin.Plant:
    return make_plant(
        [station("press", const(600)), station("oven", const(900), equipment="oven")],
        equipment_types=[
            {"id": "machine", "power_kw": {"electricity": {"idle": 2, "processing": 10}}},
            {"id": "oven", "power_kw": {"electricity": {"idle": 3, "processing": 8},
                                        "cooling": {"idle": 5, "processing": 20},
                                        "heat": {"idle": 4, "processing": 30}}}],
        interarrival=const(1200),
        base_loads=[{"id": "lights", "group": "facility", "power_kw": {"electricity": 5}}],
        energy={
            "weather": WEATHER,
            "pv": [{"id": "roof", "dc_kwp": 40, "tilt_deg": 20, "azimuth_deg": 180}],
            "batteries": [{"id": "bess", "energy_kwh": 60, "power_kw": 30}],
            "chillers": [{"id": "ch", "capacity_kw": 100, "cop_rated": 3.5}],
            "boilers": [{"id": "b", "fuel": "natural_gas", "capacity_kw": 100,
                         "efficiency": 0.9}],
            "building_hvac": {"ua_kw_per_k": 2.0, "t_base_heat_c": 18, "t_base_cool_c": 24,
                              "heating_cop": 3, "cooling_cop": 3.5},
            "grid": {"import_limit_kw": 300, "gas_price_per_kwh": 0.35,
                     "tariff": {"preset": "jiangsu_2025", "customer_class": "two_part",
                                "flat_price_per_kwh": 0.45,
                                "demand_charge_per_kw_month": 40}},
            "dispatch": {"policy": "tou_arbitrage", "grid_charge_kw": 20, "bound": True}},
        # Monday 29 June to Sunday 5 July 2026: two months, weekdays and a weekend
        simulation={"start": "2026-06-29T00:00:00", "days": 7},
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return twin.simulate(_plant()).save(tmp_path_factory.mktemp("mgmt") / "run")


@pytest.fixture(scope="module")
def hourly(run: Path) -> pd.DataFrame:
    return pd.read_parquet(run / "hourly.parquet")


@pytest.fixture(scope="module")
def kpis(run: Path) -> dict:
    return json.loads((run / "kpis.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def data(run: Path):
    return load(run)


@pytest.fixture(scope="module")
def page(data) -> str:
    return render(data)


def test_the_plant_has_supply_side_electricity(hourly: pd.DataFrame) -> None:
    # the premise: a chiller's and the building HVAC's electricity are a real share of the site
    site = hourly["electricity_demand_kwh"].sum()
    side = hourly["electricity_kwh:energy_plant"].sum() + hourly[
        "electricity_kwh:building_hvac"].sum()
    assert side > 0.1 * site


def test_energy_by_group_adds_up_to_the_sites_electricity_and_gas(hourly, kpis) -> None:
    groups = kpis["energy_by_group_kwh"]
    el = sum(g.get("electricity", 0.0) for g in groups.values())
    gas = sum(g.get("natural_gas", 0.0) for g in groups.values())
    assert el == pytest.approx(hourly["electricity_demand_kwh"].sum(), rel=1e-9)
    assert el == pytest.approx(kpis["electricity_kwh"], rel=1e-9)
    assert gas == pytest.approx(hourly["fuel_kwh"].sum(), rel=1e-9)
    assert gas == pytest.approx(kpis["natural_gas_kwh"], rel=1e-9)
    assert groups["energy_plant"]["electricity"] == pytest.approx(
        hourly["electricity_kwh:energy_plant"].sum(), rel=1e-9)
    assert groups["building_hvac"]["electricity"] == pytest.approx(
        hourly["electricity_kwh:building_hvac"].sum(), rel=1e-9)
    # the machines burn no gas here: all of it goes to the boiler
    assert groups["energy_plant"]["natural_gas"] == pytest.approx(hourly["fuel_kwh"].sum())


def test_where_the_energy_goes_holds_every_kwh_bought_and_no_heat_or_cooling(
        data, hourly: pd.DataFrame) -> None:
    (t,) = figures.energy_treemap(data)["data"]
    value = dict(zip(t["ids"], t["values"], strict=True))
    label = dict(zip(t["ids"], t["labels"], strict=True))
    children: dict[str, list[str]] = {}
    for node, parent in zip(t["ids"], t["parents"], strict=True):
        children.setdefault(parent, []).append(node)
    roots = {label[r].split(" · ")[0]: r for r in children[""]}
    assert set(roots) == {"Electricity", "Natural gas"}  # heat and cooling are not bought
    assert value[roots["Electricity"]] == pytest.approx(hourly["electricity_demand_kwh"].sum())
    assert value[roots["Natural gas"]] == pytest.approx(hourly["fuel_kwh"].sum())
    groups = {label[g].split(" · ")[0]: value[g] for g in children[roots["Electricity"]]}
    chiller = next(v for k, v in groups.items() if k.startswith("energy plant"))
    hvac = next(v for k, v in groups.items() if k.startswith("building HVAC"))
    assert chiller == pytest.approx(hourly["electricity_kwh:energy_plant"].sum())
    assert hvac == pytest.approx(hourly["electricity_kwh:building_hvac"].sum())
    assert groups["line"] == pytest.approx(hourly["electricity_kwh:line"].sum())
    for parent, kids in children.items():  # branchvalues 'total': a box holds its children
        if parent:
            assert value[parent] + 1e-9 >= sum(value[k] for k in kids), parent


def test_battery_card_says_the_optimums_rules(data, kpis) -> None:
    cards = kpi_cards(data)
    m = re.search(r'Battery saves</div><div class="value">([\d,]+)<span class="unit">CNY'
                  r'</span></div><div class="sub">([^<]*)</div>', cards)
    assert m is not None
    saved = kpis["dispatch_no_battery_cost"] - kpis["dispatch_cost"]
    assert float(m.group(1).replace(",", "")) == pytest.approx(saved, abs=0.5)
    sub = html.unescape(m.group(2))
    best = kpis["dispatch_no_battery_cost"] - kpis["dispatch_optimum_cost"]
    assert f"of {best:,.0f} a perfect-foresight optimum" in sub
    assert "charge from the grid up to the 300 kW import limit" in sub
    assert "grid charging up to 20 kW" in sub and "no export" in sub


def _card(cards: str, label: str) -> float:
    m = re.search(re.escape(label) + r'</div><div class="value">([-\d,.]+)<', cards)
    assert m is not None, label
    return float(m.group(1).replace(",", ""))


def test_cards_are_the_runs_balance(data, hourly: pd.DataFrame, kpis) -> None:
    cards = kpi_cards(data)
    assert _card(cards, "Electricity") == pytest.approx(hourly["electricity_demand_kwh"].sum(),
                                                        abs=0.5)
    assert _card(cards, "Natural gas") == pytest.approx(hourly["fuel_kwh"].sum(), abs=0.5)
    assert _card(cards, "PV generation") == pytest.approx(hourly["pv_kwh"].sum(), abs=0.5)
    co2 = (hourly["co2_scope1_kg"].sum() + hourly["co2_scope2_location_kg"].sum()) / 1000
    assert _card(cards, "CO₂ scope 1 + 2") == pytest.approx(co2, abs=0.05)
    peak = (pd.read_parquet(data.run_dir / "intervals.parquet")["grid_import_kwh"]
            * 4).max()  # 15-min intervals
    assert _card(cards, "Peak grid import") == pytest.approx(peak, abs=0.05)
    assert _card(cards, "Cost total") == pytest.approx(kpis["cost_total"], abs=0.5)


def test_load_duration_curve_is_the_hours_sorted(data, hourly: pd.DataFrame, page: str) -> None:
    fig = figures.load_duration_curve(data)
    shown = {t["name"]: np.asarray(t["y"], dtype=float) for t in fig["data"]}
    for col, name in (("electricity_demand_kwh", "Site demand"),
                      ("grid_import_kwh", "Grid import")):
        y = shown[name]
        assert len(y) == len(hourly) == 7 * 24
        assert (np.diff(y) <= 0).all()                       # from the highest to the lowest
        np.testing.assert_allclose(y, sorted(hourly[col], reverse=True), **F32)
        assert y.sum() == pytest.approx(hourly[col].sum(), rel=1e-5)  # area = energy
    assert 'id="fig-load-duration"' in page


def test_monthly_table_adds_up_to_the_runs_totals(data, hourly, kpis, page: str) -> None:
    from twin.dashboard.profiles import monthly_table

    table = monthly_table(data)
    assert list(table.index) == ["2026-06", "2026-07"]
    june = hourly.index.month == 6
    assert table.loc["2026-06", "electricity_kwh"] == pytest.approx(
        hourly.loc[june, "electricity_demand_kwh"].sum())
    for key, total in (("electricity_kwh", kpis["electricity_kwh"]),
                       ("grid_import_kwh", kpis["grid_import_kwh"]),
                       ("natural_gas_kwh", kpis["natural_gas_kwh"]),
                       ("cost_energy", kpis["energy_cost"]),
                       ("cost_demand", kpis["demand_cost"]),
                       ("cost_gas", kpis["gas_cost"]),
                       ("cost_total", kpis["cost_total"]),
                       ("co2_scope1_t", kpis["co2_scope1_kg"] / 1000),
                       ("co2_scope2_location_t", kpis["co2_scope2_location_kg"] / 1000),
                       ("co2_scope2_market_t", kpis["co2_scope2_market_kg"] / 1000)):
        assert table[key].sum() == pytest.approx(total, rel=1e-9, abs=1e-6), key
    by_month = kpis["peak_grid_import_kw_by_month"]
    assert table["peak_grid_import_kw"].to_dict() == pytest.approx(by_month)
    # the page's Total row prints the run's totals
    m = re.search(f'id="{MONTHLY_TABLE_ID}".*?<tr><th>Total</th>(.*?)</tr>', page, re.S)
    assert m is not None
    cells = re.findall(r"<th>([^<]*)</th>", m.group(1))
    assert cells[0] == f"{kpis['electricity_kwh']:,.0f}"
    assert cells[list(table.columns).index("cost_total")] == f"{kpis['cost_total']:,.0f}"


def test_report_has_the_monthly_table(run: Path, kpis) -> None:
    from twin.report import write_report

    md = write_report(run)[0].read_text(encoding="utf-8")
    assert re.search(r"^## \d+\. Month by month$", md, re.M)
    # sections are numbered 1, 2, ... with no gap or repeat (the sector comparison and the
    # monthly table were both "8." before)
    numbers = [int(n) for n in re.findall(r"^## (\d+)\. ", md, re.M)]
    assert numbers == list(range(1, len(numbers) + 1))
    total = next(line for line in md.splitlines() if line.startswith("| Total |"))
    assert f"| {kpis['electricity_kwh']:,.0f} |" in total
    assert f"| {kpis['cost_total']:,.0f} |" in total


def _hours(start: str, days: int, tz: str = "Asia/Shanghai") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=24 * days, freq="h", tz=tz)


def test_average_day_by_hand() -> None:
    # Fri 27 Feb to Tue 3 Mar 2026: winter weekday (Fri), winter weekend (Sat, Sun 1 Mar is
    # spring), ... value = hour of day + 100 x day of month
    idx = _hours("2026-02-27", 5)
    v = idx.hour + 100 * idx.day
    avg = average_day(pd.DataFrame({"x": v.astype(float)}, index=idx), ["x"])["x"]
    assert avg[("winter", "weekday", 5)] == 2705          # Fri 27 Feb only
    assert avg[("winter", "weekend", 5)] == 2805          # Sat 28 Feb only
    assert avg[("spring", "weekend", 5)] == 105           # Sun 1 Mar
    assert avg[("spring", "weekday", 5)] == (205 + 305) / 2   # Mon 2, Tue 3 Mar
    assert list(dict.fromkeys(avg.index.get_level_values("season"))) == ["winter", "spring"]
    # the mean of the average days, weighted by the days in each, is the mean of the hours
    days = {("winter", "weekday"): 1, ("winter", "weekend"): 1, ("spring", "weekend"): 1,
            ("spring", "weekday"): 2}
    weighted = sum(avg[k].sum() * n for k, n in days.items()) / (24 * 5)
    assert weighted == pytest.approx(v.to_numpy().mean())


def test_load_duration_by_hand() -> None:
    assert load_duration([3.0, np.nan, 5.0, 1.0, 5.0]).tolist() == [5.0, 5.0, 3.0, 1.0]


def _study(tmp_path: Path):
    from twin.dashboard.study import StudyData

    idx = _hours("2026-01-02", 4)                        # Fri to Mon, all winter
    base = pd.DataFrame({"electricity_demand_kwh": 10.0 + idx.hour,
                         "grid_import_kwh": 8.0 + idx.hour}, index=idx)
    shifted = base.copy()
    shifted["grid_import_kwh"] = np.where(idx.hour < 6, 20.0, 5.0)
    comparison = pd.DataFrame({"scenario": ["base", "shift"], "kpi": ["cost_total"] * 2,
                               "mean": [2.0, 1.0]})
    manifest = {"scenarios": ["base", "shift"], "base": "base", "currency": "CNY"}
    return StudyData(tmp_path, manifest, comparison, pd.DataFrame(), pd.DataFrame(),
                     {"base": base, "shift": shifted})


def test_study_load_duration_overlay_is_each_scenarios_hours_sorted(tmp_path: Path) -> None:
    from twin.dashboard.study import load_duration_overlay

    data = _study(tmp_path)
    fig = load_duration_overlay(data)
    shown = {t["name"]: np.asarray(t["y"], dtype=float) for t in fig["data"]}
    for s in ("base", "shift"):
        for col, what in (("grid_import_kwh", "grid import"),
                          ("electricity_demand_kwh", "site demand")):
            np.testing.assert_allclose(shown[f"{s}: {what}"],
                                       sorted(data.hourly[s][col], reverse=True))
    # 'shift' imports 20 kWh in 6 hours of each of 4 days and 5 kWh in the others
    assert shown["shift: grid import"].tolist() == [20.0] * 24 + [5.0] * 72


def test_study_average_day_overlay_by_hand(tmp_path: Path) -> None:
    from twin.dashboard.study import average_day_overlay

    fig = average_day_overlay(_study(tmp_path))
    panels = {(t["name"], t["xaxis"]): t for t in fig["data"]}
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert titles == ["Winter, weekdays", "Winter, weekends"]
    weekday = panels[("shift: grid import", "x")]
    assert list(weekday["x"]) == list(range(24))
    assert list(weekday["y"]) == [20.0] * 6 + [5.0] * 18
    weekend = panels[("base: site demand", "x2")]
    assert list(weekend["y"]) == [10.0 + h for h in range(24)]


def _cost_parts(cards: str) -> tuple[float, float]:
    m = re.search(r'Cost total</div><div class="value">([\d,]+)<span class="unit">CNY</span>'
                  r'</div><div class="sub">([^<]*)</div>', cards)
    assert m is not None
    sub = html.unescape(m.group(2))
    total = 0.0
    for sign, amount in re.findall(r"(^|\+|−) ?[a-z]+ ([\d,]+)", sub):
        total += (-1 if sign == "−" else 1) * float(amount.replace(",", ""))
    return float(m.group(1).replace(",", "")), total


def test_cost_card_parts_add_up_to_the_card(data, kpis) -> None:
    shown, parts = _cost_parts(kpi_cards(data))
    assert shown == pytest.approx(kpis["cost_total"], abs=0.5)
    assert parts == pytest.approx(shown, abs=2.0)         # each part rounded to 1 CNY
    # a plant that pays a capacity charge, buys heat and exports: every part is on the card
    import copy

    other = copy.copy(data)
    other.kpis = dict(kpis, capacity_cost=1000.0, purchased_heat_cost=500.0,
                      export_revenue=300.0)
    other.kpis["cost_total"] = kpis["cost_total"] + 1000.0 + 500.0 - 300.0
    shown, parts = _cost_parts(kpi_cards(other))
    assert shown == pytest.approx(other.kpis["cost_total"], abs=0.5)
    assert parts == pytest.approx(shown, abs=3.0)
