"""Emissions of a run, end to end, by hand: scope 1 from gas, scope 2 location- and market-based
from grid imports with the packaged factors, certificates used once, an hourly shape that keeps
the annual total."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import const, make_plant, station

import twin

YEARLY = const(365, unit="h")  # one lot a year: the machine is starved (idle power) all run
# Natural gas per GB/T 32150 (the packaged table): 15.3 tC/TJ x 0.99 x 44/12 = 55.539 kg/GJ
# = 0.199940 kgCO2 per kWh (LHV, 1 kWh = 0.0036 GJ).
GAS_KG_PER_KWH = 15.3 * 0.99 * 44 / 12 * 0.0036
JIANGSU_2022 = 0.5978  # location-based, kgCO2/kWh (zero_carbon_domain.md §3.3)
RESIDUAL_2022 = 0.5856  # national, excluding market-traded non-fossil electricity (§3.1)


def _plant(**sections) -> twin.Plant:
    kiln = {"id": "kiln", "power_kw": {"electricity": {"idle": 10},
                                       "natural_gas": {"idle": 50}}}
    site = {"name": "carbon test", "timezone": "Asia/Shanghai", "latitude": 32.0,
            "longitude": 118.8, "province": "Jiangsu"}
    return make_plant([station("s", const(60), equipment="kiln")], equipment_types=[kiln],
                      interarrival=YEARLY, site=site, **sections)


def test_location_and_market_based_by_hand():
    # One day: 240 kWh from the grid, 1,200 kWh of gas; 0.1 MWh of green certificates.
    # scope 1 = 1,200 x 0.199940 = 239.93 kg; location = 240 x 0.5978 = 143.472 kg;
    # market = (240 - 100) x 0.5856 = 81.984 kg.
    res = twin.simulate(_plant(carbon={"green_certificates_mwh": 0.1}), days=1)
    k = res.kpis
    assert k["co2_scope1_kg"] == pytest.approx(1200 * GAS_KG_PER_KWH, rel=1e-9)
    assert k["co2_scope2_location_kg"] == pytest.approx(240 * JIANGSU_2022, rel=1e-9)
    assert k["co2_scope2_market_kg"] == pytest.approx(140 * RESIDUAL_2022, rel=1e-9)
    assert k["carbon"]["grid_factor"]["region"] == "jiangsu"
    assert k["carbon"]["grid_factor"]["year"] == 2022
    gec = k["carbon"]["instruments"]["gec"]
    assert gec["used_mwh"] == pytest.approx(0.1) and gec["unused_mwh"] == pytest.approx(0.0)
    np.testing.assert_allclose(res.hourly["grid_ef_kg_per_kwh"], JIANGSU_2022)
    np.testing.assert_allclose(res.hourly["co2_scope2_location_kg"], 10 * JIANGSU_2022)


def test_certificates_beyond_consumption_are_not_credited():
    # 1 MWh of certificates against 240 kWh of imports: 0.24 MWh used, 0.76 MWh unused, and the
    # market-based total is zero, never negative.
    k = twin.simulate(_plant(carbon={"green_certificates_mwh": 1.0}), days=1).kpis
    gec = k["carbon"]["instruments"]["gec"]
    assert gec["used_mwh"] == pytest.approx(0.24) and gec["unused_mwh"] == pytest.approx(0.76)
    assert k["co2_scope2_market_kg"] == 0.0
    assert k["co2_scope2_location_kg"] == pytest.approx(240 * JIANGSU_2022, rel=1e-9)


def test_hourly_shape_keeps_the_annual_total_of_a_flat_load():
    # A midday dip of 40 %: the hourly factor varies, but for this flat load the day's
    # location-based total is the official annual factor times the energy.
    shape = [1.0] * 24
    for h in range(9, 16):
        shape[h] = 0.6
    res = twin.simulate(_plant(carbon={"hourly_shape": shape}), days=3)
    ef = res.hourly["grid_ef_kg_per_kwh"].to_numpy()
    assert ef.max() / ef.min() == pytest.approx(1 / 0.6)
    assert res.kpis["co2_scope2_location_kg"] == pytest.approx(720 * JIANGSU_2022, rel=1e-9)


def test_own_factor_and_national_default():
    own = twin.simulate(_plant(carbon={"grid_factor_kg_per_kwh": 0.5}), days=1).kpis
    assert own["co2_scope2_location_kg"] == pytest.approx(120.0, rel=1e-12)
    plant = make_plant([station("s", const(60))], interarrival=YEARLY)  # no province given
    k = twin.simulate(plant, days=1).kpis
    assert k["carbon"]["grid_factor"]["region"] == "national"
    assert k["carbon"]["grid_factor"]["year"] == 2023
    assert k["co2_scope2_location_kg"] == pytest.approx(48 * 0.5306, rel=1e-9)  # 2 kW idle
