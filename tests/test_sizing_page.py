"""The sizing page (twin.dashboard.sizing) and the cost-against-size curves
(twin.sizing_study.cost_curves): each figure's data against sizing.json and the CSVs of a real
`twin size` folder, and the curves against optimality (no point below the optimum)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.dashboard.sizing import (
    CASHFLOW_FIGURE_ID,
    COST_FIGURE_ID,
    CURVES_FIGURE_ID,
    VERIFICATION_FIGURE_ID,
    SizingFolderError,
    cashflow_chart,
    cost_breakdown,
    curves_chart,
    load_sizing_folder,
    render_sizing,
    unit_of,
    verification_chart,
)

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "plant_configs" / "demo_plant.yaml"
EVIL = "<script>alert(1)</script>"
STUDY = f"""\
plant: {DEMO}
days: 2
replications: 2
sizing:
  discount_rate: 0.06
  targets: {{max_scope12_t_per_year: 500}}
  purchases: {{offset_price_per_t: 80}}
  candidates:
    - {{path: "energy.pv[id=rooftop].dc_kwp", max: 3000, capex_per_unit: 4000,
       lifetime_years: 25, om_pct_of_capex: 1}}
    - {{path: "energy.batteries[id=bess].energy_kwh", max: 8000, capex_per_unit: 1200,
       lifetime_years: 12, om_pct_of_capex: 1}}
    - {{path: "energy.batteries[id=bess].power_kw", max: 4000, capex_per_unit: 400,
       lifetime_years: 12}}
"""


def make_sizing_folder(d: Path) -> Path:
    """A `twin size` folder of the demo plant over two days, checked by simulation."""
    from twin.cli import main

    d.mkdir(parents=True, exist_ok=True)
    study = d / "sizing.yaml"
    study.write_text(STUDY, encoding="utf-8")
    out = d / "out"
    assert main(["size", str(study), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sizing_folder(tmp_path_factory.mktemp("sizing-page"))


@pytest.fixture(scope="module")
def doc(folder: Path) -> dict:
    return json.loads((folder / "sizing.json").read_text())


@pytest.fixture(scope="module")
def curves(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "cost_curves.csv")


def test_twin_size_writes_the_page_with_every_figure(folder: Path, doc: dict):
    html = (folder / "dashboard.html").read_text()
    for div in (COST_FIGURE_ID, CASHFLOW_FIGURE_ID, CURVES_FIGURE_ID, VERIFICATION_FIGURE_ID):
        assert f'id="{div}"' in html
    for table in ("sizing-sizes", "sizing-targets", "sizing-economics", "sizing-sensitivity"):
        assert f'id="{table}"' in html
    assert doc["cost_curves"]["points"] == 18  # 3 candidates x 6 fractions, none clipped


def test_cost_breakdown_parts_add_up_to_each_total(folder: Path, doc: dict):
    fig = cost_breakdown(load_sizing_folder(folder))
    bars = [t for t in fig["data"] if t["type"] == "bar"]
    total = next(t for t in fig["data"] if t["name"] == "total")
    assert list(total["x"]) == ["as is", "sized"]
    for k, key in enumerate(("annualised_cost_as_is", "annualised_cost")):
        c = doc[key]
        stacked = sum(t["y"][k] for t in bars)
        # the parts by hand: capex annuity + O&M + energy + demand - export + purchases
        by_hand = (c["capex_annuity"] + c["om"] + c["energy_cost"] + c["demand_cost"]
                   - c["export_revenue"] + c["certificates_cost"] + c["offsets_cost"])
        assert stacked == pytest.approx(by_hand, rel=1e-9)
        assert stacked == pytest.approx(c["total"], rel=1e-9)
        assert total["y"][k] == pytest.approx(c["total"], rel=1e-12)
    export = next((t for t in bars if t["name"] == "export revenue"), None)
    if export is not None:
        assert all(v <= 0 for v in export["y"])


def test_the_curve_minimum_is_at_the_optimum(doc: dict, curves: pd.DataFrame):
    best = doc["annualised_cost"]["total"]
    assert set(curves["candidate"]) == set(doc["sizes"])
    for name, g in curves.groupby("candidate"):
        opt = g[g["optimum"]]
        assert len(opt) == 1
        assert float(opt["size"].iloc[0]) == pytest.approx(doc["sizes"][name], rel=1e-9)
        assert float(opt["total"].iloc[0]) == pytest.approx(best, rel=1e-9)
        finite = g["total"].dropna()
        assert len(finite) >= 4
        # optimality: fixing one size anywhere and re-optimising the rest cannot do better
        assert finite.min() >= best * (1 - 1e-6)
        assert float(g.loc[finite.idxmin(), "size"]) == pytest.approx(doc["sizes"][name],
                                                                      rel=1e-6, abs=1e-3)
        # every point's parts add up to its total
        ok = g.dropna(subset=["total"])
        assert np.allclose(ok["capex_annuity"] + ok["om"] + ok["operation"], ok["total"],
                           rtol=1e-9)


def test_curves_chart_plots_the_csv(folder: Path, curves: pd.DataFrame):
    fig = curves_chart(load_sizing_folder(folder))
    lines = [t for t in fig["data"] if t["mode"] == "lines+markers"]
    stars = [t for t in fig["data"] if t["name"] == "optimum"]
    assert len(lines) == len(stars) == curves["candidate"].nunique()
    for line, star in zip(lines, stars, strict=True):
        g = curves[curves["candidate"] == line["name"]].dropna(subset=["total"])
        g = g.sort_values("size")
        np.testing.assert_allclose(line["x"], g["size"].to_numpy())
        np.testing.assert_allclose(line["y"], g["total"].to_numpy())
        assert star["y"][0] == pytest.approx(float(g["total"].min()), rel=1e-6)


def test_cash_flows_add_up_to_the_net_and_discount_to_the_npv(folder: Path, doc: dict):
    econ = pd.read_csv(folder / "economics.csv")
    fig = cashflow_chart(load_sizing_folder(folder))
    bars = [t for t in fig["data"] if t["type"] == "bar"]
    stacked = np.sum([np.asarray(t["y"]) for t in bars], axis=0)
    np.testing.assert_allclose(stacked, econ["net"].to_numpy(), rtol=1e-9, atol=1e-6)
    cum = next(t for t in fig["data"] if t["name"].startswith("cumulative"))
    r = doc["economics"]["discount_rate"]
    npv = sum(v / (1 + r) ** y for y, v in zip(econ["year"], econ["net"], strict=True))
    assert cum["y"][-1] == pytest.approx(npv, rel=1e-9)
    assert cum["y"][-1] == pytest.approx(doc["economics"]["npv"], rel=1e-6)


def test_verification_chart_shows_the_lp_and_the_interval(folder: Path, doc: dict):
    v = doc["verification"]
    fig = verification_chart(load_sizing_folder(folder))
    lp, sim = fig["data"]
    assert lp["y"][0] == pytest.approx(v["lp_annual_cost"])
    s = v["simulated_annual_cost"]
    assert sim["y"][0] == pytest.approx(s["mean"])
    assert sim["y"][0] + sim["error_y"]["array"][0] == pytest.approx(s["high"])
    assert sim["y"][0] - sim["error_y"]["arrayminus"][0] == pytest.approx(s["low"])


def test_the_page_shows_the_sizes_and_escapes_user_text(folder: Path, doc: dict,
                                                        tmp_path: Path):
    import shutil

    d = tmp_path / "copy"
    shutil.copytree(folder, d, ignore=shutil.ignore_patterns("verification"))
    sj = json.loads((d / "sizing.json").read_text())
    evil = "<img src=x onerror=alert(1)>"
    sj["study"] = f"/x/{evil}.yaml"
    sj["plant"] = f"/x/{evil}.yaml"
    (d / "sizing.json").write_text(json.dumps(sj))
    html = render_sizing(load_sizing_folder(d))
    assert evil not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    for path, v in doc["sizes"].items():
        assert f"{v:,.1f}" in html and path.replace('"', "&quot;") in html


def test_unit_from_the_field_name():
    assert unit_of("energy.pv[id=rooftop].dc_kwp") == "kWp"
    assert unit_of("energy.batteries[id=b].energy_kwh") == "kWh"
    assert unit_of("energy.batteries[id=b].power_kw") == "kW"
    assert unit_of("energy.grid.import_limit_kva") == "kVA"


def test_a_folder_without_sizing_json_is_a_one_line_error(tmp_path: Path):
    with pytest.raises(SizingFolderError, match=r"no sizing\.json"):
        load_sizing_folder(tmp_path)
    (tmp_path / "sizing.json").write_text("{")
    with pytest.raises(SizingFolderError, match="not valid JSON"):
        load_sizing_folder(tmp_path)
    (tmp_path / "sizing.json").write_text('{"sizes": {}}')
    with pytest.raises(SizingFolderError, match="annualised_cost"):
        load_sizing_folder(tmp_path)


def test_no_point_is_infeasible_without_targets_and_nan_marks_one_that_is():
    # a 1-interval case: PV fixed at 0 cannot meet a 50 % renewable share (no certificates)
    from twin.energy.sizing import SizingCandidate, SizingData, SizingTargets, solve_sizing
    from twin.sizing_study import SizingInputs, cost_curves

    load = np.array([10.0, 10.0])
    data = SizingData(load, np.ones(2), np.array([1.0, 1.0]), np.zeros(2), np.zeros(2), [])
    pv = SizingCandidate("pv", "generation", 0.0, 100.0, 0.05, 0.0, 1.0,
                         profile=np.array([1.0, 0.0]))
    tg = SizingTargets(min_renewable_share=0.5)
    sol = solve_sizing(data, [pv], targets=tg)
    # by hand: share 0.5 of 20 kWh needs 10 kWh of PV in the first hour, 10 kW
    assert sol.sizes["pv"] == pytest.approx(10.0, rel=1e-6)
    c = cost_curves(SizingInputs(data, [pv], 2 / 24, 0, 0.0), sol, tg, True)
    assert list(c["size"]) == pytest.approx([0.0, 5.0, 7.5, 10.0, 12.5, 15.0])
    infeasible = c[c["size"] < 10.0 - 1e-9]
    assert infeasible["total"].isna().all()
    assert all("min_renewable_share" in n for n in infeasible["note"])
    feasible = c[c["size"] >= 10.0 - 1e-9]
    assert not math.isnan(feasible["total"].min())
    assert feasible["total"].idxmin() == c.index[c["optimum"]][0]
    # other points asked for (sizing.curve_points_pct / 100), and none at all
    c = cost_curves(SizingInputs(data, [pv], 2 / 24, 0, 0.0), sol, tg, True, (1.0, 2.0))
    assert list(c["size"]) == pytest.approx([10.0, 20.0])
    none = cost_curves(SizingInputs(data, [pv], 2 / 24, 0, 0.0), sol, tg, True, ())
    assert none.empty and "total" in none.columns


def test_twin_dashboard_rewrites_the_sizing_page(folder: Path, tmp_path: Path):
    import shutil

    from twin.cli import main

    d = tmp_path / "copy"
    shutil.copytree(folder, d, ignore=shutil.ignore_patterns("verification"))
    (d / "dashboard.html").unlink()
    assert main(["dashboard", str(d)]) == 0
    assert f'id="{CURVES_FIGURE_ID}"' in (d / "dashboard.html").read_text()
