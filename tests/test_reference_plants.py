"""Reference plants against the published numbers they are calibrated on.

``plant_configs/battery_cell_plant.yaml`` is a ~2 GWh/yr LFP cell factory calibrated on
zero_carbon_domain.md section 6.1: factory energy 20.3-37.5 kWh per kWh of cell (Degen et al.,
Nature Energy 2023), a measured 41.48 (Degen & Schuette 2022) and a Chinese plant at 47 (Dai et
al. 2019); dry rooms plus electrode drying 40-55 % of it, formation/aging 10-20 %, thermal
(steam/gas) 40-80 % where not electrified. One 8-day run (lots counted ten times during it, the
energy balanced per interval) is measured over days 4-8, after the ~3-day pipeline has filled:
steady state, so cells out = cells planned (flow balance) and the stations' utilisations equal
arrival rate x service time / machines (queueing theory), the figures the powers were derived at.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_integration import run_checked

import twin
from twin.cli import main

ROOT = Path(__file__).resolve().parents[1]
CELL_PLANT = ROOT / "plant_configs" / "battery_cell_plant.yaml"
CELL_STUDY = ROOT / "simulations" / "battery_formation_study.yaml"

KWH_PER_CELL = 280 * 3.2 / 1000  # 280 Ah x 3.2 V nominal [kWh]
CELLS_PER_LOT = 100
LOTS_PER_DAY = 60  # the daily plan: 6,000 cells
BOILER_EFFICIENCY = 0.92
DAYS, WARM_UP_DAYS = 8, 4

DRYING_GROUPS = ("electrode_drying", "dry_room")
FORMATION_GROUPS = ("formation_aging",)


@pytest.fixture(scope="module")
def cell_plant() -> twin.Plant:
    return twin.load_plant(CELL_PLANT)


@pytest.fixture(scope="module")
def cell_run(cell_plant: twin.Plant) -> twin.Result:
    return run_checked(cell_plant, DAYS, cell_plant.simulation.seed, checks=10)


def steady_window(result: twin.Result) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Intervals and finished cell lots of days WARM_UP_DAYS..DAYS."""
    iv = result.intervals
    a = iv.index[0] + pd.Timedelta(days=WARM_UP_DAYS)
    b = iv.index[0] + pd.Timedelta(days=DAYS)
    lots = result.lots
    done = lots[(lots["product"] == "cell") & (lots["completed"] >= a) & (lots["completed"] < b)]
    return iv[(iv.index >= a) & (iv.index < b)], done


def group_energy(iv: pd.DataFrame, groups: tuple[str, ...]) -> float:
    """Electricity plus boiler fuel (LHV) of the heat of ``groups`` [kWh]."""
    total = 0.0
    for g in groups:
        total += iv.get(f"electricity_kwh:{g}", pd.Series(0.0)).sum()
        total += iv.get(f"heat_kwh:{g}", pd.Series(0.0)).sum() / BOILER_EFFICIENCY
    return float(total)


def test_cell_plant_matches_published_energy_intensity_and_split(cell_run: twin.Result) -> None:
    iv, done = steady_window(cell_run)
    kwh_cells = len(done) * CELLS_PER_LOT * KWH_PER_CELL
    electricity = iv["electricity_demand_kwh"].sum()
    fuel = iv["fuel_kwh"].sum()
    total = electricity + fuel
    intensity = total / kwh_cells
    # Degen et al. 20.3-37.5, Dai et al. 47: the factory range the brief sets is 20-50
    assert 20.0 <= intensity <= 50.0, intensity
    # the calibration target of the file's header (36), to a few per cent
    assert intensity == pytest.approx(36.0, rel=0.05)
    assert 0.40 <= fuel / total <= 0.80  # thermal share where not electrified
    assert 0.40 <= group_energy(iv, DRYING_GROUPS) / total <= 0.55
    assert 0.10 <= group_energy(iv, FORMATION_GROUPS) / total <= 0.20
    # every kWh of heat came from the one gas boiler: fuel = heat / efficiency, per interval
    heat = iv["heat_demand_kwh"].to_numpy()
    assert (abs(iv["fuel_kwh"].to_numpy() - heat / BOILER_EFFICIENCY) < 1e-6 * (1 + heat)).all()


def _but_open_work(warnings: list[str]) -> list[str]:
    """The warnings less the one about lots still in the plant at the end: an 8-day run of a
    plant whose lots take about three days (48 h aging alone) rightly reports a tenth of its
    lots unfinished, which is why these tests measure in a steady window."""
    return [w for w in warnings if "still in it at the end" not in w]


def test_cell_plant_flow_is_steady_and_on_time(cell_run: twin.Result) -> None:
    k = cell_run.kpis
    assert _but_open_work(k["warnings"]) == []
    assert k["unserved_kwh"] == 0 and k["heat_unmet_kwh"] == 0
    # the plan releases one cathode and one anode lot per cell lot, 60 a day
    products = k["products"]
    assert products["cathode"]["lots_released"] == LOTS_PER_DAY * DAYS
    assert products["anode"]["lots_released"] == LOTS_PER_DAY * DAYS
    # components consumed = cell lots made; cell lots made = finished + still in the plant
    made = products["cathode"]["lots_consumed"]
    assert products["anode"]["lots_consumed"] == made
    assert made >= products["cell"]["lots_completed"]
    # steady state: cells out of grading = cells planned (flow balance), +-1 lot a day
    _, done = steady_window(cell_run)
    assert abs(len(done) - LOTS_PER_DAY * (DAYS - WARM_UP_DAYS)) <= DAYS - WARM_UP_DAYS
    assert k["due_dates"]["late_lots"] == 0


@pytest.mark.parametrize(("station", "lots_per_h", "service_h", "machines"), [
    ("mixing", 5.0, 10 / 60, 1),          # cathode and anode lots
    ("coating_cathode", 2.5, 20 / 60, 1),
    ("calendering", 5.0, 10 / 60, 1),
    ("winding", 2.5, 80 / 60, 4),
    ("filling", 2.5, 20 / 60, 1),
])
def test_cell_plant_utilisation_is_offered_load(cell_run: twin.Result, station: str,
                                               lots_per_h: float, service_h: float,
                                               machines: int) -> None:
    """u = lambda E[S] / c, the utilisation each station's average power was derived at."""
    u = cell_run.kpis["stations"][station]["utilization"]
    assert u == pytest.approx(lots_per_h * service_h / machines, abs=0.02)


def test_cell_plant_and_study_validate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(CELL_PLANT)]) == 0
    assert main(["validate", str(CELL_STUDY)]) == 0
    out = capsys.readouterr().out
    assert "battery_cell_plant.yaml: OK" in out
    assert "5 scenarios, base 'baseline'" in out


def test_tou_shifting_moves_formation_out_of_the_peak(cell_plant: twin.Plant) -> None:
    """Formation is the plant's deferrable work: held starts cut formation energy in peak hours,
    without a late tray (96 h due dates)."""
    cfg = cell_plant.model_dump(mode="json", exclude_none=True)

    def peak_share(strategies: list[dict]) -> tuple[float, twin.Result]:
        cfg["strategies"] = strategies
        r = twin.simulate(twin.Plant.model_validate(cfg), days=6)
        iv = r.intervals
        form = iv["electricity_kwh:formation_aging"]
        peak = iv["tou_period"].astype(str).isin(["peak", "critical"])
        return float(form[peak].sum() / form.sum()), r

    base, _ = peak_share([])
    shifted, r = peak_share([{"type": "tou_shifting", "slack_margin_h": 2}])
    assert shifted < base - 0.03, (base, shifted)
    assert r.kpis["due_dates"]["late_lots"] == 0
    assert r.kpis["strategies"]["tou_shifting"]["lots_held"] > 0


@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**31 - 1))
def test_cell_plant_calibration_holds_for_any_seed(cell_plant: twin.Plant, seed: int) -> None:
    """Breakdowns and process-time draws change with the seed; the calibration must not: the
    intensity stays inside the published range and every planned tray is accounted for."""
    r = twin.simulate(cell_plant, days=DAYS, seed=seed)
    iv, done = steady_window(r)
    total = iv["electricity_demand_kwh"].sum() + iv["fuel_kwh"].sum()
    intensity = total / (len(done) * CELLS_PER_LOT * KWH_PER_CELL)
    event(f"kWh/kWh_cell {intensity:.0f}")
    assert 20.0 <= intensity <= 50.0
    assert 0.10 <= group_energy(iv, FORMATION_GROUPS) / total <= 0.20
    products = r.kpis["products"]
    assert products["cathode"]["lots_released"] == LOTS_PER_DAY * DAYS
    assert _but_open_work(r.kpis["warnings"]) == []
