"""``twin report`` end to end through the CLI, and the evaluation table of the dashboard.

Two one-day runs of the same small plant differ only in 0.05 MWh of GECs retired, so every
reduction measure but the certificates is zero and the certificates save, by hand,
50 kWh x 0.6096 kg/kWh (national residual factor 2023) = 30.48 kg a day = 11.1252 t a year.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest
import yaml
from conftest import MACHINE, SITE, const, station

from twin.carbon.evaluation import evaluate

TWIN = Path(sys.executable).with_name("twin")
EVIL = "<script>alert(3)</script>"
pytestmark = pytest.mark.skipif(not TWIN.exists(), reason="no twin console script installed")

PLANT = {
    "site": SITE,
    "products": [{"id": "part", "route": ["s"]}],
    "equipment_types": [MACHINE],
    "lines": [{"id": "line", "stations": [station("s", const(600))]}],
    "sources": [{"id": "arr", "kind": "arrivals", "interarrival": const(1200),
                 "product_mix": {"part": 1}}],
    "carbon": {
        "materials": {"part": [{"name": EVIL, "quantity_per_unit": 2.0,
                                "kg_co2e_per_unit": 1.5, "source": "test factor"}]},
    },
}


def run(*args: str | Path):
    import subprocess

    return subprocess.run([str(TWIN), *map(str, args)], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("report")
    base = copy.deepcopy(PLANT)
    now = copy.deepcopy(PLANT)
    now["carbon"]["green_certificates_mwh"] = 0.05
    now["carbon"]["evaluation"] = {
        "rules": [{"metric": "renewable_electricity_share_with_certificates", "op": ">=",
                   "threshold": 0.1, "label": EVIL},
                  {"metric": "co2_t_per_tce_market", "op": "<=", "threshold": 5.0}],
        "energy_basis": "calorific", "prices": {"gec": 10.0}}
    out = []
    for name, data in (("base", base), ("now", now)):
        cfg = root / f"{name}.yaml"
        cfg.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        proc = run("run", cfg, "--days", "1", "--out", root / name)
        assert proc.returncode == 0, proc.stderr
        out.append(root / name)
    return out[0], out[1]


def test_report_end_to_end_with_baseline(runs: tuple[Path, Path]) -> None:
    base, now = runs
    proc = run("report", now, "--baseline", base, "--rules", "hunan_2027")
    assert proc.returncode == 0, proc.stderr
    for name in ("report.md", "report.html", "evaluation.json"):
        assert f"twin: report {now / name}" in proc.stdout
    assert not list(now.glob(".*.tmp"))  # written atomically, nothing left behind
    ev = json.loads((now / "evaluation.json").read_text(encoding="utf-8"))
    kpis = json.loads((now / "kpis.json").read_text(encoding="utf-8"))
    assert ev["rules"]["name"] == "hunan_2027"  # --rules beats the plant file
    red = ev["baseline"]["reductions_by_measure"]
    assert red["green_instruments"] == pytest.approx(50 * 0.6096 * 365 / 1000, rel=1e-6)
    for measure in ("electricity_use", "onsite_renewables", "grid_factor", "fuel", "process",
                    "refrigerant"):
        assert red[measure] == pytest.approx(0, abs=1e-6), measure
    assert red["total"] == pytest.approx(red["gross_baseline_per_year"] - red["gross_per_year"])
    # the prices of the plant file are used, GEC 10 CNY/MWh
    route = ev["offsets"]["to_net_zero"]["certificates_then_credits"]
    assert ev["offsets"]["prices"]["gec"]["status"] == "user"
    assert route["gec_cost"] == pytest.approx(route["gec_mwh"] * 10.0, rel=1e-7)
    # the same numbers as the pure evaluation of the run's KPIs
    base_kpis = json.loads((base / "kpis.json").read_text(encoding="utf-8"))
    again = evaluate(kpis, "hunan_2027", baseline_kpis=base_kpis, prices={"gec": 10.0})
    assert ev["metrics"]["co2_t_per_tce_market"]["value"] == pytest.approx(
        again["metrics"]["co2_t_per_tce_market"]["value"], rel=1e-9)
    # cost by cause: the parts add up to the change of total cost of the two runs' KPIs
    cbc = ev["baseline"]["cost_by_cause"]["causes"]
    parts = [cbc[c] for c in ("energy", "timing", "tariff", "demand", "capacity", "export",
                              "gas", "purchased_heat")]
    assert sum(parts) == pytest.approx(cbc["total"], abs=1e-9)
    assert cbc["total"] == pytest.approx(kpis["cost_total"] - base_kpis["cost_total"],
                                         abs=1e-6)
    md = (now / "report.md").read_text(encoding="utf-8")
    # the carbon waterfall ends at this run's net emissions, annualised, then net zero
    net_year = ev["offsets"]["net_t"] * ev["offsets"]["per_year_factor"]
    assert f"| This run, net after offsets |  | {net_year:,.2f} |" in md
    assert "| Net zero |  | 0.00 |" in md
    assert "Cost waterfall" in md and "| This run, total energy cost |" in md
    for heading in ("## 1. Inventory by scope and source", "## 2. Method and factors",
                    "## 5. Reductions by measure", "## 6. Offsets and net",
                    "## 7. Zero-carbon evaluation"):
        assert heading in md
    assert "Scope 3 | Materials of part" in md and "| FAIL |" in md
    # certificates do not change a footprint (location-based): reduction 0, margin -6 %
    fp = {i["id"]: i for i in ev["indicators"]}["footprint_reduction"]
    assert fp["status"] == "fail" and fp["margin"] == pytest.approx(-0.06, abs=1e-9)
    page = (now / "report.html").read_text(encoding="utf-8")
    assert EVIL not in page and "&lt;script&gt;alert(3)&lt;/script&gt;" in page
    # same inputs, same bytes
    first = (now / "evaluation.json").read_bytes()
    assert run("report", now, "--baseline", base, "--rules", "hunan_2027").returncode == 0
    assert (now / "evaluation.json").read_bytes() == first


def test_report_uses_the_plant_files_rules_by_default(runs: tuple[Path, Path]) -> None:
    _, now = runs
    assert run("report", now).returncode == 0
    ev = json.loads((now / "evaluation.json").read_text(encoding="utf-8"))
    assert ev["rules"]["name"] == "user"
    assert ev["indicators"][0]["label"] == EVIL
    assert ev["baseline"] is None
    kpis = json.loads((now / "kpis.json").read_text(encoding="utf-8"))
    assert kpis["evaluation"]["indicators"] == ev["indicators"]


def test_report_errors_are_one_line_and_exit_2(runs: tuple[Path, Path], tmp_path: Path) -> None:
    _, now = runs
    (tmp_path / "notes.txt").write_text("not a run")
    for args, what in (((tmp_path,), f"{tmp_path}: not a run folder (no kpis.json)"),
                       ((tmp_path / "missing",), "not a folder"),
                       ((now, "--baseline", tmp_path), "not a baseline run folder"),
                       ((now, "--rules", "hunan_2040"), "unknown rule set 'hunan_2040'")):
        proc = run("report", *args)
        assert proc.returncode == 2, proc.stderr
        assert what in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "report.md").exists()


def test_dashboard_shows_the_evaluation_table_escaped(runs: tuple[Path, Path]) -> None:
    from twin.dashboard import EVALUATION_TABLE_ID

    _, now = runs
    page = (now / "dashboard.html").read_text(encoding="utf-8")
    assert f'id="{EVALUATION_TABLE_ID}"' in page
    table = page[page.index(f'id="{EVALUATION_TABLE_ID}"'):]
    table = table[:table.index("</table>")]
    assert EVIL not in page and "&lt;script&gt;alert(3)&lt;/script&gt;" in table
    assert table.count("<tr>") == 3  # header + two indicators
    assert 'class="result ok">PASS' in table or 'class="result bad">FAIL' in table
