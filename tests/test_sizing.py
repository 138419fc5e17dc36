"""Capacity sizing (twin.energy.sizing) against hand calculations and enumeration with the
fixed-size dispatch LP; the sizing: block of studies; `twin size` end to end."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.energy.optimal import BatteryParams, optimal_dispatch
from twin.energy.sizing import (
    SizingCandidate,
    SizingData,
    SizingInfeasibleError,
    SizingTargets,
    annualised_cost_per_unit,
    solve_sizing,
)

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "plant_configs" / "demo_plant.yaml"


def test_annuity_and_om_by_hand():
    # CRF(6 %, 12 yr) = 0.06 x 1.06^12 / (1.06^12 - 1); 1.06^12 = 2.0121964718
    crf = 0.06 * 2.0121964718 / 1.0121964718
    ann, om = annualised_cost_per_unit(1200.0, 0.06, 12, om_pct_of_capex=1.0,
                                       om_per_unit_year=5.0)
    assert ann == pytest.approx(1200.0 * crf, rel=1e-9)
    assert ann == pytest.approx(143.13, abs=0.01)
    assert om == pytest.approx(12.0 + 5.0)
    assert annualised_cost_per_unit(1000.0, 0.0, 10)[0] == pytest.approx(100.0)  # r = 0: 1/N


# --- a flat load, two prices, a battery: worth it iff spread x efficiency x cycles > annuity ---

N = 24
PRICE = np.where(np.arange(N) < 12, 0.3, 1.0)  # 12 valley hours, then 12 peak hours
ETA = 0.95


def _battery_case(capex: float) -> SizingCandidate:
    ann, om = annualised_cost_per_unit(capex, 0.0, 10)
    return SizingCandidate("E", "battery_energy", 0.0, 1000.0, ann, om, capex, 0.0, item=0)


def _flat_data() -> SizingData:
    bp = BatteryParams(100.0, 1000.0, ETA, ETA, 0.0, 1.0, 50.0)  # power ample, energy sized
    return SizingData(np.full(N, 10.0), np.ones(N), PRICE, np.zeros(N), np.zeros(N), [bp])


def test_battery_is_worth_it_exactly_when_the_spread_pays_the_annuity():
    # one cycle a day, 365 a year: a kWh of capacity delivers eta kWh at 1.0 and is refilled
    # with 1/eta kWh at 0.3; it serves at most the 120 kWh of the peak hours (120/eta stored)
    value_per_kwh_year = 365 * (ETA * 1.0 - 0.3 / ETA)  # 231.487 CNY/kWh/yr
    break_even_capex = 10 * value_per_kwh_year  # annuity capex/10 at r = 0
    assert break_even_capex == pytest.approx(2314.87, abs=0.01)
    base_cost = 365 * (120 * 0.3 + 120 * 1.0)  # no battery
    yes = solve_sizing(_flat_data(), [_battery_case(0.97 * break_even_capex)])
    no = solve_sizing(_flat_data(), [_battery_case(1.03 * break_even_capex)])
    assert yes.sizes["E"] == pytest.approx(120 / ETA, rel=1e-6)
    assert no.sizes["E"] == pytest.approx(0.0, abs=1e-6)
    assert no.total == pytest.approx(base_cost, rel=1e-9)
    capex = 0.97 * break_even_capex
    saving = (120 / ETA) * value_per_kwh_year
    assert yes.total == pytest.approx(base_cost - saving + capex / 10 * 120 / ETA, rel=1e-6)
    assert yes.capex == pytest.approx(capex * 120 / ETA, rel=1e-6)


def test_existing_capacity_is_sunk_and_only_new_capacity_costs():
    c = dataclasses.replace(_battery_case(1e6), existing=50.0)  # new capacity far too dear
    s = solve_sizing(_flat_data(), [c])
    assert s.sizes["E"] == pytest.approx(50.0, rel=1e-6)  # keeps what it has, adds nothing
    assert s.new_capacity["E"] == pytest.approx(0.0, abs=1e-6)
    assert s.capex_annuity == pytest.approx(0.0, abs=1e-6)


# --- enumeration: no fixed size on a grid around the optimum beats it ---------------------


def _fixed_cost(load, profile, price, pv_kw, e_kwh, pv_cost, e_cost, power_kw):
    """Annual cost of fixed sizes: annuities + 365 x the fixed-size dispatch LP's cost."""
    bats = [BatteryParams(e_kwh, power_kw, ETA, ETA, 0.0, 1.0, 0.5 * e_kwh)] if e_kwh > 1e-9 \
        else []
    r = optimal_dispatch(load, pv_kw * profile, 1.0, bats, price=price, cyclic_storage=True)
    return pv_cost * pv_kw + e_cost * e_kwh + 8760 / load.size * r.cost


@st.composite
def sizing_cases(draw):
    n = 24
    load = np.array(draw(st.lists(st.floats(0.0, 20.0), min_size=n, max_size=n)))
    hours = np.arange(n)
    profile = np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None)  # kWh per kWp and hour
    lo = draw(st.floats(0.2, 0.6))
    hi = draw(st.floats(0.6, 1.4))
    price = np.where((hours >= 8) & (hours < 22), hi, lo)
    pv_cost = draw(st.floats(50.0, 400.0))  # CNY/kW/yr
    e_cost = draw(st.floats(20.0, 300.0))  # CNY/kWh/yr
    return load, profile, price, pv_cost, e_cost


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizing_cases())
def test_no_fixed_size_on_a_grid_around_the_optimum_beats_it(case):
    load, profile, price, pv_cost, e_cost = case
    n = load.size
    power = 15.0
    cands = [SizingCandidate("pv", "generation", 0.0, 60.0, pv_cost, 0.0, profile=profile),
             SizingCandidate("e", "battery_energy", 0.0, 100.0, e_cost, 0.0, item=0)]
    data = SizingData(load, np.ones(n), price, np.zeros(n), np.zeros(n),
                      [BatteryParams(1.0, power, ETA, ETA, 0.0, 1.0, 0.5)])
    opt = solve_sizing(data, cands)
    pv, e = opt.sizes["pv"], opt.sizes["e"]
    # the optimum's sizes, evaluated by the fixed-size LP, cost what the sizing LP says
    at_opt = _fixed_cost(load, profile, price, pv, e, pv_cost, e_cost, power)
    assert at_opt == pytest.approx(opt.total, rel=1e-6, abs=1e-3)
    grid_pv = sorted({min(max(pv * f + d, 0.0), 60.0) for f in (0.5, 0.9, 1.0, 1.1, 1.5)
                      for d in (0.0, 2.0)} | {0.0})
    grid_e = sorted({min(max(e * f + d, 0.0), 100.0) for f in (0.5, 0.9, 1.0, 1.1, 1.5)
                     for d in (0.0, 2.0)} | {0.0})
    best = min(_fixed_cost(load, profile, price, a, b, pv_cost, e_cost, power)
               for a in grid_pv for b in grid_e)
    assert best >= opt.total - 1e-6 * max(1.0, abs(opt.total))


# --- targets: binding, shadow prices by hand, infeasibility --------------------------------

def _pv_case(share: float | None, pv_annual: float, pv_max: float = 100.0,
             certificate_price: float | None = None):
    """Flat 10 kW load for 24 h at 0.5 CNY/kWh; PV gives 1 kWh per kW in each of 12 daytime
    hours (no battery, no export): PV x <= 10 kW covers 12 x kWh of the 240 kWh a day."""
    n = 24
    profile = np.where((np.arange(n) >= 6) & (np.arange(n) < 18), 1.0, 0.0)
    data = SizingData(np.full(n, 10.0), np.ones(n), np.full(n, 0.5), np.zeros(n), np.zeros(n),
                      [])
    cand = SizingCandidate("energy.pv[0].dc_kwp", "generation", 0.0, pv_max, pv_annual, 0.0,
                           profile=profile)
    return solve_sizing(data, [cand], targets=SizingTargets(
        min_renewable_share=share, certificate_price_per_kwh=certificate_price))


def test_a_binding_share_target_is_met_with_equality_at_its_hand_shadow_price():
    # PV at 3,000 CNY/kW/yr saves 4,380 kWh/yr x 0.5 = 2,190: not worth it without the target
    assert _pv_case(None, 3000.0).sizes["energy.pv[0].dc_kwp"] == pytest.approx(0.0, abs=1e-6)
    s = _pv_case(0.3, 3000.0)
    # share 0.3 of 240 kWh/day = 72 kWh/day from 12 x kWh: x = 6 kW
    assert s.sizes["energy.pv[0].dc_kwp"] == pytest.approx(6.0, rel=1e-6)
    t = s.targets["min_renewable_share"]
    assert t["value"] == pytest.approx(0.3, abs=1e-9)
    assert t["binding"]
    # one more kWh/yr of renewable electricity: 1/4380 kW more PV at 3,000/yr, saving 0.5
    assert t["shadow_price"] == pytest.approx(3000.0 / 4380.0 - 0.5, rel=1e-6)
    assert t["shadow_price"] > 0


def test_certificates_cheaper_than_pv_set_the_shadow_price_of_the_share():
    s = _pv_case(0.3, 3000.0, certificate_price=0.05)  # 0.05 < 3000/4380 - 0.5 = 0.185
    assert s.sizes["energy.pv[0].dc_kwp"] == pytest.approx(0.0, abs=1e-6)
    assert s.certificates_kwh == pytest.approx(0.3 * 240 * 365, rel=1e-6)
    assert s.targets["min_renewable_share"]["shadow_price"] == pytest.approx(0.05, rel=1e-6)


def test_co2_cap_met_by_offsets_has_the_offset_price_as_shadow_price():
    n = 24
    data = SizingData(np.full(n, 10.0), np.ones(n), np.full(n, 0.5), np.zeros(n), np.zeros(n),
                      [], grid_ef=0.6, scope1_kg=1000.0 * 24 / 8760)  # 1 t/yr of scope 1
    cand = SizingCandidate("pv", "generation", 0.0, 5.0, 3000.0, 0.0,
                           profile=np.where((np.arange(n) >= 6) & (np.arange(n) < 18), 1.0, 0.0))
    # grid: 240 kWh/day x 365 x 0.6 kg = 52.56 t/yr, + 1 t scope 1; cap 40 t
    s = solve_sizing(data, [cand], targets=SizingTargets(max_scope12_t_per_year=40.0,
                                                         offset_price_per_t=80.0))
    t = s.targets["max_scope12_t_per_year"]
    assert s.offsets_t == pytest.approx(53.56 - 40.0, rel=1e-6)
    assert t["value"] == pytest.approx(40.0, rel=1e-9)
    assert t["shadow_price"] == pytest.approx(80.0, rel=1e-6)
    assert t["binding"]
    assert s.offsets_cost == pytest.approx(80.0 * 13.56, rel=1e-6)


def test_a_target_out_of_reach_is_reported_with_the_bound_that_binds():
    # PV covers at most the 12 daytime hours: a share above 0.5 cannot be had without storage
    with pytest.raises(SizingInfeasibleError) as exc:
        _pv_case(0.8, 100.0, pv_max=100.0)
    msg = str(exc.value)
    assert "min_renewable_share = 0.8 cannot be met" in msg
    # best reachable 0.5: short by 0.3 x 240 x 365 = 26,280 kWh/yr
    assert "26,280 kWh/yr" in msg
    # more PV would only be curtailed at night-time demand: no bound binds, storage is missing
    assert "no candidate is at its upper bound" in msg
    with pytest.raises(SizingInfeasibleError, match=r"at their upper bound: energy.pv\[0\]"):
        _pv_case(0.4, 100.0, pv_max=5.0)  # 5 kW give 0.25 at most


def test_cyclic_storage_keeps_the_initial_charge_in_the_dispatch_lp():
    b = BatteryParams(10.0, 10.0, 1.0, 1.0, 0.0, 1.0, 5.0)
    free = optimal_dispatch([0.0, 8.0], [0.0, 0.0], 1.0, [b], price=1.0)
    cyc = optimal_dispatch([0.0, 8.0], [0.0, 0.0], 1.0, [b], price=1.0, cyclic_storage=True)
    assert free.cost == pytest.approx(3.0)  # spends the 5 kWh it started with
    assert cyc.cost == pytest.approx(8.0)  # must end where it started: nothing to gain
    cheap = optimal_dispatch([0.0, 8.0], [0.0, 0.0], 1.0, [b], price=[0.5, 1.0],
                             cyclic_storage=True)
    assert cheap.cost == pytest.approx(0.5 * 8.0)  # charges 8 at 0.5, level back to its start


# --- the sizing: block and `twin size` ---------------------------------------------------

CANDIDATES = """\
  candidates:
    - {path: "energy.pv[id=rooftop].dc_kwp", max: 3000, capex_per_unit: 4000,
       lifetime_years: 25, om_pct_of_capex: 1}
    - {path: "energy.batteries[id=bess].energy_kwh", max: 8000, capex_per_unit: 1200,
       lifetime_years: 12, om_pct_of_capex: 1}
    - {path: "energy.batteries[id=bess].power_kw", max: 4000, capex_per_unit: 400,
       lifetime_years: 12}
"""


def _study(tmp_path: Path, body: str, head: str = "days: 2\nreplications: 2\n") -> Path:
    p = tmp_path / "sizing.yaml"
    p.write_text(f"plant: {DEMO}\n{head}sizing:\n{body}", encoding="utf-8")
    return p


def test_sizing_block_errors_name_the_field_and_line(tmp_path):
    from twin.config.errors import ConfigError
    from twin.config.sizing import load_sizing

    bad = CANDIDATES.replace("bess].power_kw", "bes].power_kw").replace(
        "bess].energy_kwh", "bess].soc_min_pct")
    with pytest.raises(ConfigError) as exc:
        load_sizing(_study(tmp_path, "  discount_rate: 0.06\n" + bad))
    msg = str(exc.value)
    assert ":9: sizing.candidates[1].path: this field cannot be sized" in msg
    assert "sizing.candidates[2].path: energy.batteries has no item with id 'bes'; did you " \
           "mean 'bess'?" in msg
    with pytest.raises(ConfigError, match=r"sizing\.discount_rate: no discount rate"):
        load_sizing(_study(tmp_path, CANDIDATES))
    with pytest.raises(ConfigError, match=r"sizing\.candidates\[0\]: min 5 is above max 1"):
        load_sizing(_study(tmp_path, "  discount_rate: 0.06\n  candidates:\n    - {path: "
                           "energy.grid.import_limit_kw, min: 5, max: 1, capex_per_unit: 1, "
                           "lifetime_years: 5}\n"))
    with pytest.raises(ConfigError, match=r"sizing\.candidates\[0\]\.capex"):
        load_sizing(_study(tmp_path, "  discount_rate: 0.06\n  candidates:\n    - {path: "
                           "energy.grid.import_limit_kw, max: 1, capex: 1, "
                           "lifetime_years: 5}\n"))


def test_a_sizing_study_needs_no_scenarios(tmp_path):
    from twin.config.sizing import load_sizing

    s = load_sizing(_study(tmp_path, "  discount_rate: 0.06\n" + CANDIDATES))
    assert s.resolved.names == ["as_is"]
    assert [c.current for c in s.candidates] == [600.0, 500.0, 250.0]
    assert s.candidates[0].field == ("energy", "pv", 0, "dc_kwp")


def test_twin_size_end_to_end(tmp_path):
    from twin.cli import main

    study = _study(tmp_path, "  discount_rate: 0.06\n  targets: {max_scope12_t_per_year: 500}\n"
                             "  purchases: {offset_price_per_t: 80}\n" + CANDIDATES)
    out = tmp_path / "out"
    assert main(["size", str(study), "--out", str(out)]) == 0
    doc = json.loads((out / "sizing.json").read_text())
    assert set(doc["sizes"]) == {"energy.pv[id=rooftop].dc_kwp",
                                 "energy.batteries[id=bess].energy_kwh",
                                 "energy.batteries[id=bess].power_kw"}
    c = doc["annualised_cost"]
    assert c["total"] == pytest.approx(c["capex_annuity"] + c["om"] + c["operation"], rel=1e-9)
    # the plant as it is is one of the feasible sizes (existing capacity costs nothing), so the
    # optimum without a binding target is no dearer (the target adds offsets to both sides)
    t = doc["targets"]["max_scope12_t_per_year"]
    assert t["value"] <= 500 + 1e-6
    for v, (lo, hi) in zip(doc["sizes"].values(), [(0, 3000), (0, 8000), (0, 4000)],
                           strict=True):
        assert lo - 1e-6 <= v <= hi + 1e-6
    ver = doc["verification"]
    s = ver["simulated_annual_cost"]
    assert s["low"] <= s["mean"] <= s["high"] and ver["replications"] == 2
    assert (out / "verification" / "sized" / "rep1" / "kpis.json").is_file()
    sens = (out / "sensitivity.csv").read_text().splitlines()
    assert len(sens) == 6 and sens[1].startswith("base")
    econ = (out / "economics.csv").read_text().splitlines()
    assert len(econ) == 1 + 25 + 1  # header, year 0..25 (the longest life)
    assert main(["validate", str(out / "sized_plant.yaml")]) == 0
    # an existing folder is refused without --overwrite, replaced with it
    assert main(["size", str(study), "--out", str(out), "--no-verify"]) == 2
    assert main(["size", str(study), "--out", str(out), "--no-verify", "--overwrite"]) == 0
    assert json.loads((out / "sizing.json").read_text())["verification"] is None


def test_twin_size_reports_an_unreachable_target_in_one_line(tmp_path, capsys):
    from twin.cli import main

    study = _study(tmp_path, "  discount_rate: 0.06\n  targets: {min_renewable_share: 0.99}\n"
                   + CANDIDATES.replace("max: 3000", "max: 700"), head="days: 1\n")
    assert main(["size", str(study), "--out", str(tmp_path / "o"), "--no-verify"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "infeasible: target min_renewable_share = 0.99 cannot be met" in err
    assert "energy.pv[id=rooftop].dc_kwp (max 700)" in err
    assert not (tmp_path / "o").exists()


def test_grid_connection_sized_with_a_battery_covering_the_spike_by_hand():
    # 10 kW for 22 h, 30 kW for 2 h; lossless battery 100 kWh / 50 kW, cyclic; energy free,
    # the connection costs 1 per kW and year: the spike above L (2 (30 - L) kWh) must be
    # recharged in the 22 h below it (22 (L - 10) kWh): L = 280 / 24 = 11.667 kW
    n = 24
    load = np.array([10.0] * 22 + [30.0] * 2)
    bp = BatteryParams(100.0, 50.0, 1.0, 1.0, 0.0, 1.0, 50.0)
    cand = SizingCandidate("energy.grid.import_limit_kw", "import_limit", 0.0, 100.0, 1.0, 0.0)
    s = solve_sizing(SizingData(load, np.ones(n), np.zeros(n), np.zeros(n), np.zeros(n), [bp]),
                     [cand])
    assert s.sizes["energy.grid.import_limit_kw"] == pytest.approx(280 / 24, rel=1e-6)
    bare = solve_sizing(SizingData(load, np.ones(n), np.zeros(n), np.zeros(n), np.zeros(n), []),
                        [cand])
    assert bare.sizes["energy.grid.import_limit_kw"] == pytest.approx(30.0, rel=1e-6)


def test_twin_validate_reads_a_sizing_study(tmp_path, capsys):
    from twin.cli import main

    study = _study(tmp_path, "  discount_rate: 0.06\n" + CANDIDATES)
    assert main(["validate", str(study)]) == 0
    assert "base 'as_is', 2 replications, sizing 3 capacities" in capsys.readouterr().out
    bad = _study(tmp_path, "  discount_rate: 0.06\n" + CANDIDATES.replace("dc_kwp", "dc_kw"))
    assert main(["validate", str(bad)]) == 2
    assert "sizing.candidates[0].path" in capsys.readouterr().err


def test_battery_fade_erodes_the_batteries_saving_in_the_cash_flows(tmp_path):
    import pandas as pd

    from twin.cli import main

    plant = DEMO.read_text(encoding="utf-8").replace(
        "initial_soc_pct: 50}", "initial_soc_pct: 50, calendar_fade_pct_per_year: 1, "
        "cycle_fade_pct_per_efc: 0.01}")
    assert "calendar_fade_pct_per_year: 1" in plant
    (tmp_path / "plant.yaml").write_text(plant, encoding="utf-8")
    study = tmp_path / "s.yaml"
    study.write_text(f"plant: plant.yaml\ndays: 2\nsizing:\n  discount_rate: 0.06\n{CANDIDATES}",
                     encoding="utf-8")
    out = tmp_path / "out"
    assert main(["size", str(study), "--out", str(out), "--no-verify"]) == 0
    fade = json.loads((out / "sizing.json").read_text())["economics"]["battery_fade"]
    b = fade["batteries"][0]
    # 1 %/yr calendar + 0.01 % per equivalent full cycle
    assert b["fade_per_year"] == pytest.approx(0.01 + 0.0001 * b["cycles_per_year"], rel=1e-12)
    cash = pd.read_csv(out / "economics.csv")
    f, s = fade["fade_per_year"], fade["battery_saving"]
    assert s > 0 and f > 0.01  # the added battery saves something, and it cycles
    for y in (1, 2, 12, 13, 25):  # mid-year age since the battery's install or replacement
        age = (y - 0.5) % 12
        assert -cash.loc[y, "battery_fade"] == pytest.approx(s * min(f * age, 1.0), rel=1e-9)
    assert cash["net"].sum() == pytest.approx(cash.drop(columns=["year", "net"]).sum().sum(),
                                              rel=1e-9)


def test_sizing_takes_the_base_scenarios_overrides_and_refuses_its_strategies(tmp_path):
    from twin.config.errors import ConfigError
    from twin.config.sizing import load_sizing

    head = "base: b\nscenarios:\n  b:\n    overrides: {\"energy.pv[id=rooftop].dc_kwp\": 900}\n"
    st_ = load_sizing(_study(tmp_path, "  discount_rate: 0.06\n" + CANDIDATES, head=head))
    pv = next(c for c in st_.candidates if c.kind == "generation")
    assert pv.current == 900.0  # the plant as it is includes the override (file: 600)
    assert st_.plant_data["energy"]["pv"][0]["dc_kwp"] == 900  # and so will sized_plant.yaml
    head = ("base: b\nscenarios:\n  b:\n    strategies:\n"
            "      - {type: tou_shifting, slack_margin_h: 2}\n")
    with pytest.raises(ConfigError, match=r"scenarios\.b: twin size sizes the plant as it is, "
                                          r"but the base scenario has strategies"):
        load_sizing(_study(tmp_path, "  discount_rate: 0.06\n" + CANDIDATES, head=head))
