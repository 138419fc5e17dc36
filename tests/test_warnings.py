"""Plain-language warnings: a deadlock is reported, a plant that is merely off shift is not."""

from __future__ import annotations

from conftest import const, make_plant, station

import twin


def _assembly_plant(buffer: int | None, week: dict) -> twin.Plant:
    # Housings are released straight into the shared CNC, shafts first through a saw; with a
    # finite component buffer at assembly, housings queued ahead of shafts fill it and the line
    # locks up (the demo plant did this once). With an unbounded buffer it flows.
    assembly = station("assembly", const(300))
    if buffer is not None:
        assembly["buffer_capacity"] = buffer
    stations = [station("saw", const(200)), station("cnc", const(100), buffer_capacity=4),
                assembly]
    products = [
        {"id": "housing", "route": ["cnc"]},
        {"id": "shaft", "route": ["saw", "cnc"]},
        {"id": "unit", "components": {"housing": 1, "shaft": 1}, "route": ["assembly"]},
    ]
    sources = [{"id": "plan", "kind": "plan", "quantities": {"unit": 60}}]
    calendar = {"shifts": {"day": {"start": "08:00", "end": "16:00"}}, "week": week}
    return make_plant(stations, products=products, sources=sources, calendar=calendar)


WEEKDAYS = {d: ["day"] for d in ("mon", "tue", "wed", "thu", "fri")}


def test_a_deadlock_is_reported():
    res = twin.simulate(_assembly_plant(2, WEEKDAYS), days=14, start="2026-01-05")
    assert any(w.startswith("production stalled") for w in res.kpis["warnings"])
    ok = twin.simulate(_assembly_plant(None, WEEKDAYS), days=14, start="2026-01-05")
    assert not any(w.startswith("production stalled") for w in ok.kpis["warnings"])
    assert ok.kpis["units_completed"] > 0


def test_nights_and_weekends_are_not_a_stall():
    # Only a Sunday shift: after it, two days without shifts are no stall.
    res = twin.simulate(_assembly_plant(None, {"sun": ["day"]}), days=3, start="2026-01-04")
    assert not any(w.startswith("production stalled") for w in res.kpis["warnings"])


def test_a_peak_guard_without_a_demand_charge_is_reported():
    """protect_peak / shave_peak act only with a demand charge: asked for under a tariff
    without one, the run says so (and the battery runs as without them)."""
    energy = {"batteries": [{"id": "b", "energy_kwh": 50, "power_kw": 20}],
              "grid": {"tariff": {"preset": "jiangsu_2025", "customer_class": "two_part",
                                  "flat_price_per_kwh": 0.5}},
              "dispatch": {"policy": "tou_arbitrage"}}
    plant = make_plant([station("s", const(60))], energy=energy)
    quiet = twin.simulate(plant, days=1)
    assert not any("had no effect" in w for w in quiet.kpis["warnings"])
    energy["dispatch"]["shave_peak"] = True
    guarded = twin.simulate(make_plant([station("s", const(60))], energy=energy), days=1)
    assert any("energy.dispatch.shave_peak had no effect" in w
               for w in guarded.kpis["warnings"])
    assert guarded.kpis["cost_total"] == quiet.kpis["cost_total"]
    energy["grid"]["tariff"]["demand_charge_per_kw_month"] = 40
    charged = twin.simulate(make_plant([station("s", const(60))], energy=energy), days=1)
    assert not any("had no effect" in w for w in charged.kpis["warnings"])
