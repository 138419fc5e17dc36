"""Sequence casting: a continuous station (caster) that must be fed within a window, by hand.

A lot that starts more than ``max_wait_min`` after the previous one finished breaks the sequence;
a sequence that has reached ``lots_per_sequence`` lots ends as planned; either way the next lot
starts a new sequence after the restart (setup state, restart energy on the ``<station>:restart``
meter row, yield loss off the good output). Every figure below is worked out in the docstrings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import const, expo, make_plant, station

import twin
from twin.config import ConfigError

MONDAY = "2026-01-05"  # January: Jiangsu two-part TOU peak 14-22
CASTER = {"id": "machine", "power_kw": {"electricity": {"idle": 100, "setup": 300,
                                                       "processing": 1000}}}
SEQ = {"max_wait_min": 20, "restart": {"setup_min": 15, "energy_kwh": {"natural_gas": 2000},
                                       "yield_loss_units": 0.25}}


def orders(tmp_path: Path, times: list[str]) -> list[dict[str, Any]]:
    """An order book releasing one lot of ``part`` at each local time of Monday."""
    rows = "".join(f"O{k},part,1,{MONDAY} {t},{MONDAY} 23:59\n" for k, t in enumerate(times))
    path = tmp_path / "orders.csv"
    path.write_text("order_id,product,quantity,release,due\n" + rows, encoding="utf-8")
    return [{"id": "mes", "kind": "orders", "file": str(path)}]


def cast_plant(tmp_path: Path, times: list[str], seq: dict | None = SEQ, **fields: Any
               ) -> twin.Plant:
    """One caster, 30 min a lot, lots released at ``times`` (00:00-based, Monday)."""
    st = station("cast", const(30, "min"), **fields)
    if seq is not None:
        st["sequence"] = seq
    return make_plant([st], equipment_types=[CASTER], sources=orders(tmp_path, times),
                      simulation={"start": MONDAY, "days": 1, "steps": True})


def test_one_break_restart_energy_setup_and_yield_loss_by_hand(tmp_path: Path) -> None:
    """Lots at 00:00, 00:40, 01:20, 02:30; each casts 30 min. Gaps from the end of one lot to
    the next: 10, 10, 40 min; the window is 20 min: exactly one break, at the fourth lot.

    Its restart: 15 min in setup (300 kW) with 2000 kWh of gas drawn evenly (8000 kW), then
    casting 02:45-03:15. Electricity: 4 x 0.5 h x 1000 + 0.25 h x 300 + (24 - 2 - 0.25) h x 100
    = 2000 + 75 + 2175 = 4250 kWh; gas 2000 kWh. Good output 4 - 0.25 = 3.75 units:
    4250 / 3.75 = 1133.33 kWh per unit. OEE availability (24 - 0.25) / 24."""
    r = twin.simulate(cast_plant(tmp_path, ["00:00", "00:40", "01:20", "02:30"]))
    k = r.kpis
    seq = k["stations"]["cast"]["sequence"]
    assert seq == {"sequences": 2, "breaks": 1, "planned_restarts": 0, "restarts": 1,
                   "restart_h": 0.25, "units_lost": 0.25, "mean_lots_per_sequence": 2.0,
                   "restart_energy_kwh": {"natural_gas": pytest.approx(2000.0)}}
    assert k["electricity_kwh"] == pytest.approx(4250.0)
    assert k["natural_gas_kwh"] == pytest.approx(2000.0)
    assert k["units_completed"] == pytest.approx(3.75)
    assert k["units_lost"] == pytest.approx(0.25)
    assert k["products"]["part"]["units_completed"] == pytest.approx(3.75)
    assert k["kwh_per_unit"] == pytest.approx(4250.0 / 3.75)
    assert k["stations"]["cast"]["availability"] == pytest.approx(23.75 / 24)
    assert r.equipment.loc["cast", "setup_h"] == pytest.approx(0.25)
    assert r.equipment.loc["cast:restart", "natural_gas_kwh"] == pytest.approx(2000.0)
    done = (r.lots["completed"] - pd.Timestamp(MONDAY, tz="Asia/Shanghai")) / pd.Timedelta("1min")
    assert sorted(done.tolist()) == pytest.approx([30, 70, 110, 195])
    gas = r.hourly["fuel_kwh"]  # the preheating gas falls in 02:00-03:00
    assert gas.iloc[2] == pytest.approx(2000.0) and gas.sum() == pytest.approx(2000.0)


def test_a_window_just_wide_enough_keeps_the_sequence(tmp_path: Path) -> None:
    """The same lots with a 40 min window: the 40 min gap is within it (not more): no break,
    one sequence of 4 lots, no setup, no gas, 4 good units."""
    seq = {**SEQ, "max_wait_min": 40}
    k = twin.simulate(cast_plant(tmp_path, ["00:00", "00:40", "01:20", "02:30"], seq)).kpis
    assert k["stations"]["cast"]["sequence"]["breaks"] == 0
    assert k["stations"]["cast"]["sequence"]["sequences"] == 1
    assert k["natural_gas_kwh"] == 0 and k["units_completed"] == 4
    assert "units_lost" not in k


def test_maximum_sequence_length_forces_planned_restarts_at_the_right_lots(tmp_path: Path
                                                                          ) -> None:
    """Lots every 40 min from 00:00 to 07:20 (12 lots), 30 min each, 3 lots per sequence, window
    20 min. Lots 1-3 cast 00:00-01:50 (gaps 10 min). Lot 4 (02:00) opens sequence 2 after a
    planned restart: 02:15-02:45; lot 5 (02:40) waits, casts 02:45-03:15; lot 6 03:20-03:50;
    lot 7 (04:00): planned restart, 04:15-04:45; lot 8 04:45-05:15; lot 9 05:20-05:50; lot 10
    (06:00): restart, 06:15-06:45; lot 11 06:45-07:15; lot 12 07:20-07:50. Three planned
    restarts, no break, four sequences."""
    times = [f"{(40 * k) // 60:02d}:{(40 * k) % 60:02d}" for k in range(12)]
    seq = {**SEQ, "lots_per_sequence": 3}
    r = twin.simulate(cast_plant(tmp_path, times, seq))
    s = r.kpis["stations"]["cast"]["sequence"]
    assert (s["planned_restarts"], s["breaks"], s["sequences"]) == (3, 0, 4)
    assert s["units_lost"] == pytest.approx(0.75)
    assert s["restart_energy_kwh"]["natural_gas"] == pytest.approx(6000.0)
    done = (r.lots["completed"] - pd.Timestamp(MONDAY, tz="Asia/Shanghai")) / pd.Timedelta("1min")
    hhmm = [60 * h + m for h, m in ((0, 30), (1, 10), (1, 50), (2, 45), (3, 15), (3, 50),
                                     (4, 45), (5, 15), (5, 50), (6, 45), (7, 15), (7, 50))]
    assert sorted(done.tolist()) == pytest.approx(hhmm)


def test_a_plant_without_sequence_runs_as_with_an_endless_window() -> None:
    """A random two-station line: without 'sequence', and with a window far beyond the run and
    no length limit (so never a restart), the same seed gives the same hourly table, lots and
    KPIs (but for the sequence figures themselves)."""
    def plant(seq: dict | None) -> twin.Plant:
        cast = station("cast", expo(50))
        if seq is not None:
            cast["sequence"] = seq
        return make_plant([station("melt", expo(40)), cast], interarrival=expo(60),
                          simulation={"start": MONDAY, "days": 2})

    a = twin.simulate(plant(None), seed=7)
    b = twin.simulate(plant({"max_wait_min": 1e6, "restart": {"setup_min": 30,
                                                              "yield_loss_units": 1}}), seed=7)
    pd.testing.assert_frame_equal(a.hourly, b.hourly)
    pd.testing.assert_frame_equal(a.lots, b.lots)
    seq = b.kpis["stations"]["cast"].pop("sequence")
    assert seq["restarts"] == 0 and seq["sequences"] == 1
    assert seq["mean_lots_per_sequence"] == b.kpis["stations"]["cast"]["lots_processed"] + (
        1 if b.kpis["stations"]["cast"]["lots_in_station_at_end"] else 0)
    ka, kb = dict(a.kpis), dict(b.kpis)
    assert ka == kb


def tou_plant(tmp_path: Path, sequences: str) -> twin.Plant:
    """A melt furnace (deferrable, 30 min) feeding a caster (30 min, window 20 min) under
    tou_shifting (default periods: no start in the 14-22 peak)."""
    sources = orders(tmp_path, ["13:40", "14:15"])
    return make_plant(
        [station("melt", const(30, "min"), deferrable=True),
         station("cast", const(30, "min"), sequence=SEQ)],
        equipment_types=[CASTER], sources=sources,
        simulation={"start": MONDAY, "days": 1},
        energy={"grid": {"tariff": {"preset": "jiangsu_2025", "customer_class": "two_part",
                                    "flat_price_per_kwh": 0.5}}},
        strategies=[{"type": "tou_shifting", "sequences": sequences,
                     "sequence_margin_min": 0}])


def test_tou_hold_stops_where_it_would_break_the_sequence(tmp_path: Path) -> None:
    """Heat A is released 13:40 (flat): melt 13:40-14:10, cast 14:10-14:40. Heat B is
    released 14:15, in the peak. Keeping the sequence, the caster runs dry at 14:40 and the
    window ends at 15:00; B needs 30 min of melting first, so it may be held until 14:30
    (released then, by 'sequence'): melt 14:30-15:00, cast 15:00-15:30 (gap 20 min: kept).
    Ignoring the sequence, B waits for the flat period at 22:00: melt 22:00-22:30, then a
    break: restart 22:30-22:45, cast 22:45-23:15."""
    t0 = pd.Timestamp(MONDAY, tz="Asia/Shanghai")
    keep = twin.simulate(tou_plant(tmp_path, "keep"))
    s = keep.kpis["stations"]["cast"]["sequence"]
    assert (s["breaks"], s["sequences"]) == (0, 1)
    rep = keep.kpis["strategies"]["tou_shifting"]
    assert rep["released_by"]["sequence"] == 1
    assert rep["hours_held"] == pytest.approx(0.25)
    done = sorted(((keep.lots["completed"] - t0) / pd.Timedelta("1min")).tolist())
    assert done == pytest.approx([14 * 60 + 40, 15 * 60 + 30])

    ignore = twin.simulate(tou_plant(tmp_path, "ignore"))
    s = ignore.kpis["stations"]["cast"]["sequence"]
    assert (s["breaks"], s["sequences"]) == (1, 2)
    assert "sequence" not in ignore.kpis["strategies"]["tou_shifting"]["released_by"]
    done = sorted(((ignore.lots["completed"] - t0) / pd.Timedelta("1min")).tolist())
    assert done == pytest.approx([14 * 60 + 40, 23 * 60 + 15])


@pytest.mark.parametrize(("seq", "where", "what"), [
    ({"max_wait_min": 0}, "sequence.max_wait_min", "expected a number > 0 (got 0)"),
    ({"max_wait_min": 10, "lots_per_sequence": 0}, "sequence.lots_per_sequence", "1"),
    ({"max_wait_min": 10, "restart": {"energy_kwh": {"natural_gas": 100}}},
     "sequence.restart", "setup_min"),
    ({"max_wait_min": 10, "restart": {"setup_min": 5, "energy_kwh": {"steam": 100}}},
     "sequence.restart", "steam"),
    ({"max_wait_min": 10, "restart": {"yield_loss_units": -1}},
     "sequence.restart.yield_loss_units", "expected a number >= 0 (got -1)"),
    ({"max_wait_min": 10, "tundish": 3}, "sequence.tundish", "unknown key 'tundish'"),
])
def test_bad_sequence_input_is_a_one_line_error(seq: dict, where: str, what: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_plant([station("cast", const(30, "min"), sequence=seq)])
    msg = str(err.value)
    assert where in msg and what in msg, msg
    assert "Traceback" not in msg and len(msg.splitlines()) == 2  # header + one problem


def test_a_sequence_station_with_two_machines_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        make_plant([station("cast", const(30, "min"), machines=2,
                            sequence={"max_wait_min": 10})])
    assert "lines[0].stations[0].machines" in str(err.value)
    assert "expected 1" in str(err.value)


def test_restart_power_is_the_energy_over_the_setup() -> None:
    """2000 kWh over 15 min is 8000 kW; no energy, no meter row."""
    from twin.config.sequence import Sequence
    from twin.engine import restart_power_kw

    p = restart_power_kw(Sequence.model_validate(SEQ))
    assert p.tolist() == [0.0, 8000.0, 0.0, 0.0]
    assert not restart_power_kw(Sequence.model_validate({"max_wait_min": 5})).any()


def test_same_seed_same_outputs_with_breaks(tmp_path: Path) -> None:
    """Random cast times around a tight window: two runs of one seed write the same kpis.json
    and hourly table, byte for byte; the breaks are there to compare."""
    def run(out: Path) -> tuple[bytes, bytes]:
        plant = make_plant([station("melt", expo(40, "min")),
                            station("cast", expo(30, "min"), sequence={
                                "max_wait_min": 10, "lots_per_sequence": 5, "restart": {
                                    "setup_min": 20, "energy_kwh": {"natural_gas": 500},
                                    "yield_loss_units": 0.1}})],
                           interarrival=expo(45, "min"), simulation={"start": MONDAY, "days": 3})
        r = twin.simulate(plant, seed=11)
        assert r.kpis["stations"]["cast"]["sequence"]["breaks"] > 0
        r.save(out)
        return (out / "kpis.json").read_bytes(), (out / "hourly.parquet").read_bytes()

    assert run(tmp_path / "a") == run(tmp_path / "b")


def test_dashboard_shows_the_sequence_table(tmp_path: Path) -> None:
    """The run page lists each sequence station's counts (and a plant without none)."""
    from twin.dashboard.data import load as load_run
    from twin.dashboard.page import SEQUENCE_TABLE_ID, station_table

    r = twin.simulate(cast_plant(tmp_path, ["00:00", "00:40", "01:20", "02:30"]))
    r.save(tmp_path / "run")
    html = station_table(load_run(tmp_path / "run"))
    assert SEQUENCE_TABLE_ID in html
    row = html.split(f'id="{SEQUENCE_TABLE_ID}"')[1].split("<tbody>")[1].split("</tr>")[0]
    cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
    assert cells[:4] == ["cast", "2", "1", "0"]
    plain = twin.simulate(cast_plant(tmp_path, ["00:00"], seq=None))
    plain.save(tmp_path / "plain")
    assert SEQUENCE_TABLE_ID not in station_table(load_run(tmp_path / "plain"))
