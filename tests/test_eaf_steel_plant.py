"""The reference EAF steel shop (plant_configs/eaf_steel_plant.yaml) against hand calculations.

The furnace's melt energy per heat is worked out by hand from its power per state and the
tap-to-tap split (power-on at the arc power, power-off for tapping and charging, waiting idle),
and TOU shifting of heats is checked against the Jiangsu tariff's periods: no heat is melted
(no power-on) in a peak or critical-peak interval, none is late, and the energy per tonne does
not change (the same heats, melted at other hours).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import twin
from twin.cli import main
from twin.config.loader import plant_from_data, read_yaml

ROOT = Path(__file__).resolve().parents[1]
EAF_PLANT = ROOT / "plant_configs" / "eaf_steel_plant.yaml"

POWER_ON_MIN, POWER_OFF_MIN, HEAT_T = 38.0, 14.0, 100.0
ARC_KW, SETUP_KW, IDLE_KW, BURNER_KW = 60_000.0, 1_500.0, 800.0, 7_900.0


def _deterministic(**changes: object) -> twin.Plant:
    """The plant with constant power-on and power-off times (the file's means)."""
    data, _ = read_yaml(EAF_PLANT)
    eaf = data["lines"][0]["stations"][0]
    eaf["process_time"] = {"dist": "constant", "value": POWER_ON_MIN, "unit": "min"}
    eaf["cleaning"][0]["duration"] = {"dist": "constant", "value": POWER_OFF_MIN, "unit": "min"}
    data.update(changes)
    return plant_from_data(data, str(EAF_PLANT))


def test_file_powers_are_the_header_calibration() -> None:
    # the hand calculation below uses the file's numbers: keep them in step
    plant = twin.load_plant(EAF_PLANT)
    eaf = {e.id: e for e in plant.equipment_types}["arc_furnace"]
    assert eaf.power_kw["electricity"]["processing"] == ARC_KW
    assert eaf.power_kw["electricity"]["setup"] == SETUP_KW
    assert eaf.power_kw["electricity"]["idle"] == IDLE_KW
    assert eaf.power_kw["natural_gas"]["processing"] == BURNER_KW
    fu = plant.products[0].functional_unit
    assert fu is not None and (fu.name, fu.per_unit) == ("t", HEAT_T)


def test_melt_energy_per_heat_by_hand() -> None:
    # one day: scrap buckets at 01:30, 03:00, ... 22:30 (every 90 min, the first after one
    # interval) = 15 heats, each 38 min power-on + 14 min power-off, the last done by 23:22
    r = twin.simulate(_deterministic(), days=1)
    iv = r.intervals
    heats = 15
    idle_min = 24 * 60 - heats * (POWER_ON_MIN + POWER_OFF_MIN)  # 660 min waiting
    by_hand = (heats * ARC_KW * POWER_ON_MIN / 60 + heats * SETUP_KW * POWER_OFF_MIN / 60
               + IDLE_KW * idle_min / 60)
    assert by_hand == pytest.approx(584_050.0)  # 570,000 + 5,250 + 8,800 kWh
    assert iv["electricity_kwh:eaf"].sum() == pytest.approx(by_hand, rel=1e-6)
    # burners only during power-on: 15 x 7,900 kW x 38/60 h = 75,050 kWh of gas
    assert iv["natural_gas_kwh:eaf"].sum() == pytest.approx(heats * BURNER_KW * POWER_ON_MIN / 60,
                                                            rel=1e-6)
    # per tonne of liquid steel at the steady 90-min cycle (38 min waiting per heat):
    # (38,000 + 350 + 507) kWh / 100 t = 388.6 kWh/t, inside the published 300-550 kWh/t
    per_t = (ARC_KW * POWER_ON_MIN + SETUP_KW * POWER_OFF_MIN + IDLE_KW * 38) / 60 / HEAT_T
    assert per_t == pytest.approx(388.57, abs=0.01)
    assert 300 <= per_t <= 550


def test_tou_shifting_melts_no_heat_in_peak_hours() -> None:
    base = twin.simulate(_deterministic(), days=3)
    # fit_in_period: a heat starts only when its 38 min power-on ends before the peak
    # (sequences: ignore; the caster's sequence then breaks once a day, test below)
    held = twin.simulate(_deterministic(
        strategies=[{"type": "tou_shifting", "fit_in_period": True, "sequences": "ignore"}]),
        days=3)
    iv = held.intervals
    peak = iv["tou_period"].isin(["peak", "critical"])
    assert peak.sum() == 3 * 8 * 4  # 14:00-22:00 in January, 15-min intervals
    # the burners fire only in power-on: no gas at the furnace in any peak interval, and no
    # interval there draws more than the power-off level (1,500 kW for 15 min), i.e. no arc
    assert iv.loc[peak, "natural_gas_kwh:eaf"].sum() == 0
    assert iv.loc[peak, "electricity_kwh:eaf"].max() <= SETUP_KW * 0.25 + 1e-6
    # the baseline melts around the clock: a third of its heats fall in the 8 peak hours
    b = base.intervals
    assert b.loc[b["tou_period"].isin(["peak", "critical"]), "natural_gas_kwh:eaf"].sum() > 0
    # no heat late (due 24 h after its bucket), every bucket of the first two days cast
    assert held.kpis["due_dates"]["late_lots"] == 0
    assert held.kpis["products"]["heat"]["units_completed"] >= 2 * 16 - 1
    # the heats cost less: about the same energy per heat bought at flat and valley prices
    per_heat = [r.kpis["energy_cost"] / r.kpis["products"]["heat"]["units_completed"]
                for r in (base, held)]
    assert per_heat[1] < 0.9 * per_heat[0]


def test_study_validates() -> None:
    assert main(["validate", str(ROOT / "simulations" / "eaf_steel_study.yaml")]) == 0


def test_peak_holds_break_the_caster_sequence_unless_the_strategy_keeps_it() -> None:
    """The caster waits at most 60 min after a heat (plant header). Holding the furnace through
    the 8-h peak (sequences: ignore) lets the caster run dry once a day: 3 days, 3 peaks, 3
    breaks (each 3 t lost, 3,000 kWh of preheating gas), and the baseline none. Keeping the
    sequence, the strategy holds a heat only while it can still reach the caster in time: no
    break, and the furnace melts in the peak (the hold is worth less than the sequence)."""
    base, ignore, keep = (twin.simulate(_deterministic(strategies=s), days=3) for s in (
        [], [{"type": "tou_shifting", "fit_in_period": True, "sequences": "ignore"}],
        [{"type": "tou_shifting", "fit_in_period": True}]))
    seq = {name: r.kpis["stations"]["caster"]["sequence"]
           for name, r in (("base", base), ("ignore", ignore), ("keep", keep))}
    assert seq["base"]["breaks"] == 0 and seq["keep"]["breaks"] == 0
    assert seq["ignore"]["breaks"] == 3
    lost = 0.03 * seq["ignore"]["restarts"]
    assert seq["ignore"]["units_lost"] == pytest.approx(lost)
    # 3,000 kWh a restart (the last may still be under way when the run ends)
    gas = seq["ignore"]["restart_energy_kwh"]["natural_gas"]
    assert 3000.0 * (seq["ignore"]["restarts"] - 1) <= gas <= 3000.0 * seq["ignore"]["restarts"]
    assert gas % 3000.0 == pytest.approx(0.0) or seq["ignore"]["restart_h"] < seq[
        "ignore"]["restarts"]
    done = ignore.kpis["lots_completed"]
    assert ignore.kpis["units_completed"] == pytest.approx(done - lost)
    iv = keep.intervals
    peak = iv["tou_period"].isin(["peak", "critical"])
    assert iv.loc[peak, "natural_gas_kwh:eaf"].sum() > 0
    assert keep.kpis["strategies"]["tou_shifting"]["released_by"]["sequence"] > 0
