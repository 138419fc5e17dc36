"""A study's savings by cause and its waterfall, against the run folders' own balance.

The standby plant of ``test_study`` with a two-part Jiangsu tariff: raising the press's standby
power from 0.5 to 2.0 kW adds 1.5 kW x 8 off-shift hours a day = 36 kWh in three days (Monday to
Wednesday, shifts 06-22 h), all bought in off-shift hours. Independent truth: each run's
``cost_total`` and hourly series in its folder.
"""

from __future__ import annotations

import itertools
import json
import math
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from test_study import PLANT, study_error, write_study

from twin.config.study import load_study
from twin.study import run_study

TARIFF_PLANT = PLANT + textwrap.dedent("""\
    energy:
      grid:
        tariff: {preset: jiangsu_2025, customer_class: two_part, flat_price_per_kwh: 0.45,
                 non_floating_adder_per_kwh: 0.2, demand_charge_per_kw_month: 40,
                 apply_outside_validity: true}
    """)

STUDY = """\
    name: causes
    plant: plant.yaml
    replications: 2
    seed: 11
    days: 3
    base: base
    scenarios:
      base: {}
      high_standby:
        measure: efficiency
        overrides:
          equipment_types[id=press].power_kw.electricity.standby: 2.0
    waterfall: {steps: [high_standby], co2_target_t_per_year: 5}
    """


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("causes")
    f = write_study(d, STUDY, TARIFF_PLANT)
    return run_study(load_study(f), d / "out", jobs=1, progress=None)


def _kpis(out: Path, s: str, k: int) -> dict:
    return json.loads((out / s / f"rep{k}" / "kpis.json").read_text())


def test_causes_add_up_to_each_replications_cost_difference(study: Path):
    c = pd.read_csv(study / "savings_by_cause.csv")
    assert set(c["scenario"]) == {"high_standby"}
    means = c.set_index("cause")["mean"]
    parts = [x for x in means.index if x != "total"]
    assert math.fsum(means[parts]) == pytest.approx(means["total"], abs=1e-6)
    diffs = [_kpis(study, "high_standby", k)["cost_total"] - _kpis(study, "base", k)["cost_total"]
             for k in range(2)]
    assert means["total"] == pytest.approx(sum(diffs) / 2, abs=1e-6)
    # 36 kWh more, at the base's average price: the energy part, from the base's own series
    e_part = []
    for k in range(2):
        b = pd.read_parquet(study / "base" / f"rep{k}" / "intervals.parquet")
        s = pd.read_parquet(study / "high_standby" / f"rep{k}" / "intervals.parquet")
        extra = s["grid_import_kwh"].sum() - b["grid_import_kwh"].sum()
        assert extra == pytest.approx(36.0, abs=1e-6)
        e_part.append(extra * b["electricity_cost"].sum() / b["grid_import_kwh"].sum())
    assert means["energy"] == pytest.approx(sum(e_part) / 2, rel=1e-8)
    # the extra kWh are bought off shift, cheaper than the base's average: timing is a saving
    assert means["timing"] < 0
    assert means["tariff"] == 0 and means["demand"] == pytest.approx(0, abs=1e-9)
    assert c.set_index("cause").loc["total", "mean_per_year"] == pytest.approx(
        means["total"] * 365 / 3)


def test_waterfall_levels_are_the_runs_annualised_means(study: Path):
    w = pd.read_csv(study / "waterfall.csv")
    for chart, value in (("cost", lambda k: k["cost_total"]),
                         ("co2", lambda k: (k["co2_scope1_kg"] + k["co2_scope2_market_kg"])
                          / 1000)):
        bars = w[w["chart"] == chart].sort_values("order")
        assert list(bars["kind"]) == ["total", "step", "total"] + (
            ["gap", "target"] if chart == "co2" else [])  # no cost target in the file
        assert list(bars["label"])[:3] == ["Base (base)", "Efficiency", "Result (high_standby)"]
        for row, s in ((0, "base"), (2, "high_standby")):
            mean = sum(value(_kpis(study, s, k)) for k in range(2)) / 2 * 365 / 3
            assert bars["end"].iloc[row] == pytest.approx(mean, rel=1e-8)
        # the step runs from the base to the result; the gap from the result to the target
        assert bars["start"].iloc[1] == bars["end"].iloc[0]
        assert bars["end"].iloc[1] == bars["end"].iloc[2]
        assert bars["delta"].iloc[1] == pytest.approx(bars["end"].iloc[2] - bars["end"].iloc[0])
    co2 = w[w["chart"] == "co2"].sort_values("order")
    assert co2["end"].iloc[-1] == 5.0  # the target of the study file
    cost = w[w["chart"] == "cost"]
    assert cost["delta"].iloc[1] == pytest.approx(
        pd.read_csv(study / "savings_by_cause.csv").set_index("cause").loc[
            "total", "mean_per_year"], rel=1e-8)
    md = (study / "comparison.md").read_text()
    assert "## Cost difference against `base` by cause" in md
    assert "## Waterfall: from the base through each measure to the target" in md
    page = (study / "dashboard.html").read_text()
    for div in ("fig-study-causes", "fig-study-waterfall-co2", "fig-study-waterfall-cost"):
        assert f'id="{div}"' in page


def test_waterfall_steps_are_checked(tmp_path):
    head = """\
        plant: plant.yaml
        base: base
        scenarios:
          base: {}
          a: {measure: storage}
        """
    msg = study_error(tmp_path, head + "waterfall: {steps: [b]}\n")
    assert "waterfall.steps[0]" in msg and "no scenario of that name" in msg
    msg = study_error(tmp_path, head + "waterfall: {steps: [base, a]}\n")
    assert "waterfall.steps[0]" in msg and "the base is where the waterfall starts" in msg
    msg = study_error(tmp_path, head + "waterfall: {steps: [a, a]}\n")
    assert "waterfall.steps[1]" in msg and "one step only" in msg


def test_the_pathway_example_is_a_chain_of_every_measure():
    f = Path(__file__).resolve().parent.parent / "simulations" / "pathway_study.yaml"
    r = load_study(f)
    steps = r.study.waterfall.steps
    assert [r.study.scenarios[s].measure for s in steps] == [
        "efficiency", "storage", "onsite_renewables", "electrification", "green_power",
        "offsets"]
    # cumulative: every step keeps the overrides and strategies of the step before it
    for before, after in itertools.pairwise(steps):
        a, b = r.study.scenarios[before], r.study.scenarios[after]
        assert set(a.overrides) <= set(b.overrides), (before, after)
        assert [x.type for x in a.strategies] == [x.type for x in b.strategies]
