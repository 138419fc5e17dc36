"""Dated work from files: an MES order book (``kind: orders``) and a day-by-day plan file
(``kind: plan_file``).

Every expected number below is worked out by hand from the files written in the test: a single
station with a constant process time of 1 h and 10 kW while processing (0 kW otherwise) turns
release times into completion times and energy that can be counted on the fingers.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import twin
from twin.cli import main
from twin.config import load_plant
from twin.measured.errors import MeterDataError

MACHINE = {"id": "machine", "power_kw": {"electricity": {"idle": 0, "processing": 10}}}


def plant_file(tmp_path: Path, sources: list[dict], *, products: list[dict] | None = None,
               calendar: dict | None = None, start: str = "2026-01-01", days: float = 1,
               timezone: str = "Asia/Shanghai", stations: list[dict] | None = None) -> Path:
    """A plant file in ``tmp_path``: one station ``st`` (1 h a lot, 10 kW processing)."""
    data: dict[str, Any] = {
        "site": {"name": "orders test", "timezone": timezone, "latitude": 31.2,
                 "longitude": 121.5},
        "simulation": {"start": start, "days": days, "seed": 1},
        "products": products or [{"id": "part", "units_per_lot": 10, "route": ["st"]}],
        "equipment_types": [MACHINE],
        "lines": [{"id": "line", "stations": stations or [
            {"id": "st", "equipment": "machine",
             "process_time": {"dist": "constant", "value": 1, "unit": "h"}}]}],
        "sources": sources,
    }
    if calendar is not None:
        data["calendar"] = calendar
    path = tmp_path / "plant.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


ORDERS = """order_id,product,quantity,release,due,priority
D-1,part,10,2025-12-31 20:00,2026-01-01 00:30,
A-1,part,25,2026-01-01 02:00,2026-01-01 05:30,2
B-1,part,10,2026-01-01 02:00,2026-01-01 05:30,1
C-1,part,5,2026-01-01T10:00:00+00:00,2026-01-01 20:00,
E-1,part,10,2026-01-02 00:00,2026-01-02 08:00,
"""


def local(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="Asia/Shanghai")


def test_order_book_released_exactly_at_its_times(tmp_path: Path) -> None:
    """By hand (one station, 1 h a lot, FIFO, 24/7 from 2026-01-01 00:00 +08:00, 1 day):

    * D-1 was released before the run: it enters at the start, 00:00, done 01:00, due 00:30:
      0.5 h late;
    * B-1 (priority 1) and A-1 (priority 2) are released at 02:00, B first: B 03:00; A's
      ceil(25 / 10) = 3 lots 04:00, 05:00, 06:00, due 05:30: the last 0.5 h late;
    * C-1 is released at 10:00 UTC = 18:00 local (the offset is kept), done 19:00, due 20:00;
    * E-1 is released at the end of the run: not released.
    Lots 1 + 1 + 3 + 1 = 6 = 60 units; 6 h processing at 10 kW = 60 kWh. Due dates: 6 lots
    judged, 2 late, mean tardiness (0.5 + 0.5) / 6 h, max 0.5 h."""
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    path = plant_file(tmp_path, [{"id": "mes", "kind": "orders", "file": "orders.csv"}])
    r = twin.simulate(load_plant(path))
    lots = r.lots.sort_values("completed").reset_index(drop=True)
    assert list(lots["order"].astype(str)) == ["D-1", "B-1", "A-1", "A-1", "A-1", "C-1"]
    assert list(lots["released"]) == [local("2026-01-01 00:00")] + [local("2026-01-01 02:00")] * 4 \
        + [local("2026-01-01 18:00")]
    assert list(lots["completed"]) == [local(f"2026-01-01 {h}") for h in
                                       ("01:00", "03:00", "04:00", "05:00", "06:00", "19:00")]
    assert list(lots["due"]) == [local("2026-01-01 00:30")] + [local("2026-01-01 05:30")] * 4 \
        + [local("2026-01-01 20:00")]
    assert list(lots["tardiness_h"]) == pytest.approx([0.5, 0, 0, 0, 0.5, 0])
    assert r.kpis["units_completed"] == 60
    assert r.kpis["electricity_kwh"] == pytest.approx(60.0)
    due = r.kpis["due_dates"]
    assert due["lots"] == 6 and due["late_lots"] == 2
    assert due["on_time_share"] == pytest.approx(4 / 6)
    assert due["mean_tardiness_h"] == pytest.approx(1.0 / 6)
    assert due["max_tardiness_h"] == pytest.approx(0.5)
    # per order: D-1 and A-1 late (last lot after the due time), B-1 and C-1 on time
    assert r.kpis["orders"] == {"orders": 4, "complete": 4, "on_time": 2, "late_orders": 2,
                                "open_late_orders": 0, "on_time_share": 0.5,
                                "late": ["D-1", "A-1"]}


def test_orders_unfinished_at_the_end(tmp_path: Path) -> None:
    """F: 3 lots released 22:00, due 23:30; 1 h each, the third cannot finish by the end
    (24:00): open and past due, late. G: 1 lot released 23:30, due tomorrow: queued behind F,
    open, not yet due: not judged. H: 1 lot 01:00-02:00, due 03:00: on time. So 1 of 2 judged
    orders on time."""
    (tmp_path / "o.csv").write_text(
        "order_id,product,quantity,release,due\n"
        "F,part,30,2026-01-01 22:00,2026-01-01 23:30\n"
        "G,part,10,2026-01-01 23:30,2026-01-02 12:00\n"
        "H,part,10,2026-01-01 01:00,2026-01-01 03:00\n")
    path = plant_file(tmp_path, [{"id": "mes", "kind": "orders", "file": "o.csv"}])
    r = twin.simulate(load_plant(path))
    assert r.kpis["orders"] == {"orders": 3, "complete": 1, "on_time": 1, "late_orders": 1,
                                "open_late_orders": 1, "on_time_share": 0.5, "late": ["F"]}


def test_order_id_is_written_to_lots_parquet(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    path = plant_file(tmp_path, [{"id": "mes", "kind": "orders", "file": "orders.csv"}])
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out)]) == 0
    lots = pd.read_parquet(out / "lots.parquet")
    assert sorted(lots["order"].astype(str)) == ["A-1", "A-1", "A-1", "B-1", "C-1", "D-1"]
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["due_dates"]["late_lots"] == 2


def test_lots_without_an_order_have_no_order_id(tmp_path: Path) -> None:
    path = plant_file(tmp_path, [{"id": "plan", "kind": "plan", "quantities": {"part": 20}}])
    r = twin.simulate(load_plant(path))
    assert len(r.lots) == 2 and r.lots["order"].isna().all()


def test_parquet_and_xlsx_order_books_give_the_csv_result(tmp_path: Path) -> None:
    """The same orders as Parquet (text times) and XLSX (date-time cells, other headers)."""
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    csv = twin.simulate(load_plant(plant_file(
        tmp_path, [{"id": "mes", "kind": "orders", "file": "orders.csv"}]))).lots
    frame = pd.read_csv(tmp_path / "orders.csv", dtype=str, keep_default_na=False)
    frame.to_parquet(tmp_path / "orders.parquet")
    pq = twin.simulate(load_plant(plant_file(
        tmp_path, [{"id": "mes", "kind": "orders", "file": "orders.parquet"}]))).lots
    xl = frame.rename(columns={"order_id": "订单号", "quantity": "数量"})
    xl = xl[xl["订单号"] != "C-1"]  # a naive date-time cell is local time: leave out the UTC one
    xl["release"] = pd.to_datetime(xl["release"])
    xl["due"] = pd.to_datetime(xl["due"])
    xl["数量"] = xl["数量"].astype(int)
    xl.to_excel(tmp_path / "orders.xlsx", index=False, sheet_name="MES")
    xlsx = twin.simulate(load_plant(plant_file(tmp_path, [{
        "id": "mes", "kind": "orders", "file": "orders.xlsx", "sheet": "MES",
        "columns": {"order_id": "订单号", "quantity": "数量"}}]))).lots
    for other in (pq, xlsx):
        for col in ("order", "released", "completed", "due"):
            assert list(other[col].astype(str)) == list(csv[col].astype(str))[:len(other)]
    assert len(pq) == 6 and len(xlsx) == 5


def test_order_for_an_assembly_carries_its_id_through_the_components(tmp_path: Path) -> None:
    """An order of 2 kits (1 body + 2 screws each): its 2 bodies and 4 screws are released with
    the order's due time; the 2 assembled kits carry the order id and that due time."""
    products = [
        {"id": "body", "route": ["st"]},
        {"id": "screw", "route": ["st"]},
        {"id": "kit", "components": {"body": 1, "screw": 2}, "route": ["asm"]},
    ]
    stations = [
        {"id": "st", "equipment": "machine",
         "process_time": {"dist": "constant", "value": 1, "unit": "min"}},
        {"id": "asm", "equipment": "machine",
         "process_time": {"dist": "constant", "value": 1, "unit": "min"}},
    ]
    (tmp_path / "o.csv").write_text("order_id,product,quantity,release,due\n"
                                    "K-7,kit,2,2026-01-01 08:00,2026-01-01 12:00\n")
    path = plant_file(tmp_path, [{"id": "mes", "kind": "orders", "file": "o.csv"}],
                      products=products, stations=stations)
    r = twin.simulate(load_plant(path))
    assert list(r.lots["product"].astype(str)) == ["kit", "kit"]
    assert list(r.lots["order"].astype(str)) == ["K-7", "K-7"]
    assert (r.lots["due"] == local("2026-01-01 12:00")).all()
    assert r.kpis["stations"]["st"]["units_completed"] == 6


def test_plan_file_releases_each_day_at_its_first_shift(tmp_path: Path) -> None:
    """Shifts 08:00-16:00 Mon-Fri, 10 units a lot, run Mon 2 Mar 2026 for 8 days, due 4 h.

    date        units  cumulative lots  new lots  released
    2026-03-01   99    (before the run: nothing)
    2026-03-02   15    1.5 -> 2          2        Mon 2 Mar 08:00
    2026-03-03    5    2.0 -> 2          0
    2026-03-04    1    2.1 -> 3          1        Wed 4 Mar 08:00
    2026-03-07   10    3.1 -> 4          1        Sat -> Mon 9 Mar 08:00
    2026-03-12   50    (after the run: nothing)
    """
    (tmp_path / "plan.csv").write_text(
        "date,product,quantity\n2026-03-04,part,1\n2026-03-01,part,99\n2026-03-02,part,15\n"
        "2026-03-03,part,5\n2026-03-07,part,10\n2026-03-12,part,50\n")
    cal = {"shifts": {"day": {"start": "08:00", "end": "16:00"}},
           "week": {d: ["day"] for d in ("mon", "tue", "wed", "thu", "fri")}}
    path = plant_file(tmp_path, [{"id": "p", "kind": "plan_file", "file": "plan.csv",
                                  "due_h": 4}], calendar=cal, start="2026-03-02", days=8)
    r = twin.simulate(load_plant(path))
    lots = r.lots.sort_values("completed")
    assert list(lots["released"]) == [local("2026-03-02 08:00")] * 2 + [
        local("2026-03-04 08:00"), local("2026-03-09 08:00")]
    assert list(lots["completed"]) == [local("2026-03-02 09:00"), local("2026-03-02 10:00"),
                                       local("2026-03-04 09:00"), local("2026-03-09 09:00")]
    assert list(lots["due"]) == [local("2026-03-02 12:00")] * 2 + [
        local("2026-03-04 12:00"), local("2026-03-09 12:00")]
    assert r.kpis["units_completed"] == 40


def test_plan_file_without_calendar_releases_at_local_midnight(tmp_path: Path) -> None:
    (tmp_path / "plan.csv").write_text("day,item,units\n2026-01-02,part,20\n2026-01-01,part,10\n")
    path = plant_file(tmp_path, [{"id": "p", "kind": "plan_file", "file": "plan.csv",
                                  "columns": {"date": "day", "product": "item",
                                              "quantity": "units"}}], days=2)
    r = twin.simulate(load_plant(path))
    assert list(r.lots["released"].sort_values()) == [
        local("2026-01-01 00:00"), local("2026-01-02 00:00"), local("2026-01-02 00:00")]


def test_naive_times_in_the_sources_own_zone(tmp_path: Path) -> None:
    """``timezone: UTC``: a naive 00:00 is 08:00 in Shanghai."""
    (tmp_path / "o.csv").write_text("order_id,product,quantity,release,due\n"
                                    "U,part,10,2026-01-01 00:00,2026-01-01 06:00\n")
    path = plant_file(tmp_path, [{"id": "mes", "kind": "orders", "file": "o.csv",
                                  "timezone": "UTC"}])
    r = twin.simulate(load_plant(path))
    assert list(r.lots["released"]) == [local("2026-01-01 08:00")]
    assert list(r.lots["due"]) == [local("2026-01-01 14:00")]


# ---------------------------------------------------------------------------------------------
# bad files: one line naming the file, the line, the column and the value; exit status 2

HEAD = "order_id,product,quantity,release,due,priority\n"
GOOD = "A,part,10,2026-01-01 02:00,2026-01-01 05:00,1\n"

BAD_ORDERS = [
    (GOOD + "A,part,10,2026-01-01 03:00,2026-01-01 05:00,1\n",
     ["line 3", "column 'order_id'", "duplicate order id, already on line 2", "'A'"]),
    (GOOD + "B,prat,10,2026-01-01 03:00,2026-01-01 05:00,1\n",
     ["line 3", "column 'product'", "unknown product; did you mean 'part'?", "'prat'"]),
    (GOOD + "B,part,10,2026-01-01 03:00,2026-01-01 02:00,1\n",
     ["line 3", "column 'due'", "not after the release time 2026-01-01 03:00",
      "'2026-01-01 02:00'"]),
    (GOOD + "B,part,10,tomorrow,2026-01-01 05:00,1\n",
     ["line 3", "column 'release'", "cannot be read as a time", "'tomorrow'"]),
    (GOOD + "B,part,10,2026-01-01 03:00,2026-13-01 05:00,1\n",
     ["line 3", "column 'due'", "cannot be read as a time", "'2026-13-01 05:00'"]),
    (GOOD + "B,part,0,2026-01-01 03:00,2026-01-01 05:00,1\n",
     ["line 3", "column 'quantity'", "expected a positive number of units", "'0'"]),
    (GOOD + "B,part,ten,2026-01-01 03:00,2026-01-01 05:00,1\n",
     ["line 3", "column 'quantity'", "expected a positive number of units", "'ten'"]),
    (GOOD + "B,part,10,2026-01-01 03:00,2026-01-01 05:00,1.5\n",
     ["line 3", "column 'priority'", "expected a whole number", "'1.5'"]),
    (GOOD + ",part,10,2026-01-01 03:00,2026-01-01 05:00,1\n",
     ["line 3", "column 'order_id'", "empty order id"]),
    (GOOD + "B,part,1e7,2026-01-01 03:00,2026-01-01 05:00,1\n",
     ["line 3", "column 'quantity'", "expected at most 100,000 lots per order"]),
    ("", ["no orders"]),
]


@pytest.mark.parametrize(("rows", "expect"), BAD_ORDERS)
def test_bad_order_book_is_one_line_with_file_and_row(tmp_path: Path, rows: str,
                                                      expect: list[str], capsys) -> None:
    (tmp_path / "orders.csv").write_text(HEAD + rows, encoding="utf-8")
    path = plant_file(tmp_path, [{"id": "mes", "kind": "orders", "file": "orders.csv"}])
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{tmp_path / 'orders.csv'}: " in err
    for part in expect:
        assert part in err
    assert main(["run", str(path), "--out", str(tmp_path / "run")]) == 2  # before any output
    assert not (tmp_path / "run").exists()


def test_missing_column_and_missing_file(tmp_path: Path, capsys) -> None:
    (tmp_path / "orders.csv").write_text("order_id,product,qty,release,due\n" + GOOD[:-3] + "\n")
    path = plant_file(tmp_path, [{"id": "mes", "kind": "orders", "file": "orders.csv"}])
    assert main(["validate", str(path)]) == 2
    assert "column 'quantity': no such column" in capsys.readouterr().err
    path = plant_file(tmp_path, [{"id": "mes", "kind": "orders", "file": "none.csv"}])
    assert main(["validate", str(path)]) == 2
    assert f"{tmp_path / 'none.csv'}: file not found" in capsys.readouterr().err
    path = plant_file(tmp_path, [{"id": "mes", "kind": "orders", "file": "."}])
    assert main(["validate", str(path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_named_priority_column_must_exist(tmp_path: Path) -> None:
    (tmp_path / "o.csv").write_text("order_id,product,quantity,release,due\n" + GOOD[:-3] + "\n")
    ok = plant_file(tmp_path, [{"id": "mes", "kind": "orders", "file": "o.csv"}])
    assert len(twin.simulate(load_plant(ok)).lots) == 1  # no priority column: none needed
    named = plant_file(tmp_path, [{"id": "mes", "kind": "orders", "file": "o.csv",
                                   "columns": {"priority": "prio"}}])
    with pytest.raises(MeterDataError, match="column 'prio': no such column"):
        twin.simulate(load_plant(named))


def test_times_that_do_not_exist_or_occur_twice_are_refused(tmp_path: Path) -> None:
    """America/Denver: 2026-03-08 02:30 does not exist; 2026-11-01 01:30 occurs twice."""
    for when, what in (("2026-03-08 02:30", "does not exist in America/Denver"),
                       ("2026-11-01 01:30", "occurs twice in America/Denver")):
        (tmp_path / "o.csv").write_text(
            "order_id,product,quantity,release,due\n"
            f"A,part,10,2026-03-01 00:00,2026-12-01 00:00\nB,part,10,{when},2026-12-01 00:00\n")
        path = plant_file(tmp_path, [{"id": "mes", "kind": "orders", "file": "o.csv"}],
                          timezone="America/Denver")
        with pytest.raises(MeterDataError, match=f"line 3: column 'release': {what}"):
            twin.simulate(load_plant(path))
    (tmp_path / "o.csv").write_text("order_id,product,quantity,release,due\n"
                                    "B,part,10,2026-11-01T01:30-06:00,2026-12-01 00:00\n")
    r = twin.simulate(load_plant(path), start="2026-11-01")  # with its offset it is clear
    assert list(r.lots["released"]) == [pd.Timestamp("2026-11-01 01:30-06:00")]


def test_order_ids_unique_across_order_books(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(HEAD + GOOD)
    (tmp_path / "b.csv").write_text(HEAD + GOOD)
    path = plant_file(tmp_path, [{"id": "a", "kind": "orders", "file": "a.csv"},
                                 {"id": "b", "kind": "orders", "file": "b.csv"}])
    with pytest.raises(MeterDataError, match=r"b\.csv: column 'order_id': order id also in "
                                             r".*a\.csv.*\(got 'A'\)"):
        twin.simulate(load_plant(path))


@pytest.mark.parametrize(("rows", "expect"), [
    ("2026-01-01,part,5\n2026-01-01,part,6\n",
     ["line 3", "column 'product'", "2026-01-01 and this product are already on line 2"]),
    ("2026-02-30,part,5\n", ["line 2", "column 'date'", "expected a date as YYYY-MM-DD",
                             "'2026-02-30'"]),
    ("2026-01-01 08:00,part,5\n", ["line 2", "column 'date'", "expected a date"]),
    ("2026-01-01,part,-1\n", ["line 2", "column 'quantity'", "expected a number of units >= 0"]),
    ("2026-01-01,gear,1\n", ["line 2", "column 'product'", "unknown product", "'gear'"]),
    ("", ["no rows"]),
])
def test_bad_plan_file(tmp_path: Path, rows: str, expect: list[str], capsys) -> None:
    (tmp_path / "plan.csv").write_text("date,product,quantity\n" + rows)
    path = plant_file(tmp_path, [{"id": "p", "kind": "plan_file", "file": "plan.csv"}])
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{tmp_path / 'plan.csv'}: " in err
    for part in expect:
        assert part in err


def test_source_fields_are_checked_with_the_plant_file(tmp_path: Path, capsys) -> None:
    path = plant_file(tmp_path, [{"id": "mes", "kind": "orders", "file": "o.csv",
                                  "timezone": "Mars/Olympus", "colums": {}}])
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "sources[0].timezone: unknown time zone" in err
    assert "sources[0].colums" in err and "columns" in err


def test_schema_knows_the_file_sources(capsys) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    defs = schema["$defs"]
    assert set(defs["OrdersSource"]["properties"]) >= {"file", "columns", "timezone", "sheet"}
    assert defs["PlanFileSource"]["properties"]["kind"]["const"] == "plan_file"


def test_shipped_example_runs_by_its_numbers(tmp_path: Path) -> None:
    """plant_configs/order_book_plant.yaml: every order and plan unit of the two weeks is made;
    the units are the order quantities rounded up to whole lots (brackets 50 a lot: 1,350 for
    1,320 ordered; panels 20 a lot: 460; spare parts 10 a lot, rounding carried: 310)."""
    root = Path(__file__).resolve().parents[1]
    plant = load_plant(root / "plant_configs" / "order_book_plant.yaml")
    r = twin.simulate(plant)
    by = r.lots.groupby("product", observed=True).size()
    assert by["bracket"] * 50 == 1350 and by["panel"] * 20 == 460 and by["spare_part"] * 10 == 310
    orders = pd.read_csv(root / "plant_configs" / "order_book" / "orders.csv")
    assert set(r.lots["order"].dropna().astype(str)) == set(orders["order_id"])
    assert math.isclose(r.kpis["simulated_days"], 14)
    assert dt.date(2026, 3, 2) == r.lots["released"].min().date()
