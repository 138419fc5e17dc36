"""Scope 1/2/3 accounting and standard coal equivalent against hand calculations."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.carbon import accounting as ac
from twin.carbon import factors as fx

TZ = "Asia/Shanghai"
F = fx.default_factors()
IDX = pd.date_range("2023-01-01", "2024-01-01", freq="h", tz=TZ, inclusive="left")  # 8760 h

# The hand-calculated plant, data year 2023 in Jiangsu:
#   grid import 100 kWh every hour Jan-Jun (181 d = 4344 h -> 434,400 kWh)
#               150 kWh every hour Jul-Dec (184 d = 4416 h -> 662,400 kWh); total 1,096,800 kWh
#   natural gas 100,000 m3 over the year (evenly)
#   green-power contracts: Jan 50 MWh, Feb 80 MWh, Jul 30 MWh; GECs 500 MWh
IMPORT = np.where(IDX.month <= 6, 100.0, 150.0)
GAS_M3 = 100_000.0
JIANGSU_2022 = 0.5978  # kgCO2/kWh, location-based (latest provincial data year)
RESIDUAL_2022 = 0.5856  # kgCO2/kWh, national excluding market-traded non-fossil electricity
CONTRACTS = {1: 50.0, 2: 80.0, 7: 30.0}


def test_the_plant_index_is_what_the_hand_calculation_assumes():
    assert IDX.size == 8760
    assert IMPORT.sum() == 1_096_800.0
    assert IMPORT[IDX.month == 1].sum() == 74_400.0  # 744 h x 100
    assert IMPORT[IDX.month == 2].sum() == 67_200.0  # 672 h x 100
    assert IMPORT[IDX.month == 7].sum() == 111_600.0  # 744 h x 150


# ---------------------------------------------------------------- the plant by hand


def test_plant_location_and_market_totals_by_hand():
    # scope 1: 100,000 m3 x 38.931 MJ/m3 = 3,893.1 GJ; x 15.3 kgC/GJ x 0.99 x 44/12
    #          = 3,893.1 x 55.539 = 216,218.8809 kg
    gas_kwh = ac.fuel_kwh_from_units("natural_gas", np.full(IDX.size, GAS_M3 / IDX.size))
    assert gas_kwh.sum() == pytest.approx(3893.1 / 0.0036, rel=1e-12)
    s1 = ac.scope1_kg({"natural_gas": gas_kwh})
    assert s1.sum() == pytest.approx(216_218.8809, abs=1e-3)

    # location: 1,096,800 kWh x 0.5978 = 655,667.04 kg
    ef = F.grid_factor("jiangsu", 2022)
    loc = ac.scope2_location_kg(IMPORT, ef)
    assert loc.sum() == pytest.approx(655_667.04, abs=1e-6)

    # market: contracts month by month
    #   Jan 50 of 74.4 MWh -> 50 used; Feb 80 of 67.2 -> 67.2 used, 12.8 unused;
    #   Jul 30 of 111.6 -> 30 used. Used 147.2 MWh; left 1,096.8 - 147.2 = 949.6 MWh
    #   GECs 500 MWh over the year -> 500 used; left 449.6 MWh
    #   449,600 kWh x 0.5856 = 263,285.76 kg
    res = F.grid_factor("national", 2022, "residual")
    mkt = ac.scope2_market_kg(IMPORT, IDX, res, contracts_mwh_by_month=CONTRACTS, gec_mwh=500)
    assert mkt.total_kg == pytest.approx(263_285.76, abs=1e-6)
    inst = mkt.instruments
    assert inst.loc["contract_monthly"].tolist() == pytest.approx([160.0, 147.2, 12.8])
    assert inst.loc["gec"].tolist() == pytest.approx([500.0, 500.0, 0.0])
    by_month = mkt.contracts_by_month
    assert by_month.loc["2023-02"].tolist() == pytest.approx([80.0, 67.2, 12.8])
    assert by_month.loc["2023-01", "used_mwh"] == pytest.approx(50.0)
    assert by_month.loc["2023-07", "used_mwh"] == pytest.approx(30.0)
    assert mkt.coverage_kwh["residual_kwh"].sum() == pytest.approx(449_600.0)

    # totals, scope 1 + 2
    assert s1.sum() + loc.sum() == pytest.approx(871_885.9209, abs=1e-3)
    assert s1.sum() + mkt.total_kg == pytest.approx(479_504.6409, abs=1e-3)


def test_certificates_beyond_consumption_are_not_credited():
    # GECs 2,000 MWh against 1,096.8 MWh of import: 1,096.8 used, 903.2 unused, market 0
    mkt = ac.scope2_market_kg(IMPORT, IDX, RESIDUAL_2022, gec_mwh=2000)
    assert mkt.total_kg == 0.0
    assert mkt.instruments.loc["gec"].tolist() == pytest.approx([2000.0, 1096.8, 903.2])
    assert (mkt.kg >= 0).all()
    # after the contracts (147.2 MWh used) only 949.6 MWh are left for GECs
    both = ac.scope2_market_kg(IMPORT, IDX, RESIDUAL_2022, CONTRACTS, gec_mwh=1000)
    assert both.total_kg == 0.0
    assert both.instruments.loc["gec"].tolist() == pytest.approx([1000.0, 949.6, 50.4])
    # doubling the surplus changes nothing
    more = ac.scope2_market_kg(IMPORT, IDX, RESIDUAL_2022, CONTRACTS, gec_mwh=5000)
    assert more.total_kg == 0.0
    np.testing.assert_allclose(more.coverage_kwh["gec_kwh"], both.coverage_kwh["gec_kwh"])


def test_hourly_contract_surplus_is_not_carried_to_other_hours():
    idx = pd.date_range("2023-05-01", periods=4, freq="h", tz=TZ)
    imports = np.array([10.0, 10.0, 10.0, 10.0])
    profile = np.array([15.0, 0.0, 5.0, 10.0])
    # hour by hour: covered 10, 0, 5, 10 = 25 kWh of the 30 contracted; 5 kWh of hour 0 unused
    # then 4 kWh of GECs (0.004 MWh) against the 15 kWh left: 11 kWh x 0.6 = 6.6 kg
    r = ac.scope2_market_kg(imports, idx, 0.6, contract_profile_kwh=profile, gec_mwh=0.004)
    np.testing.assert_allclose(r.coverage_kwh["contract_profile_kwh"], [10, 0, 5, 10])
    assert r.instruments.loc["contract_profile"].tolist() == pytest.approx([0.030, 0.025, 0.005])
    assert r.total_kg == pytest.approx(6.6)
    # without GECs: hour 1 is fully at the residual factor, 10 + 5 = 15 kWh x 0.6 = 9 kg
    r0 = ac.scope2_market_kg(imports, idx, 0.6, contract_profile_kwh=profile)
    np.testing.assert_allclose(r0.kg, [0.0, 6.0, 3.0, 0.0])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), gec=st.floats(0, 200), jan=st.floats(0, 80),
       feb=st.floats(0, 80))
def test_each_mwh_of_instrument_is_used_once(seed, gec, jan, feb):
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2023-01-01", "2023-03-01", freq="h", tz=TZ, inclusive="left")
    imports = rng.uniform(0, 100, idx.size) * (rng.uniform(size=idx.size) > 0.2)
    profile = rng.uniform(0, 60, idx.size) * (rng.uniform(size=idx.size) > 0.5)
    r = ac.scope2_market_kg(imports, idx, 0.5, {"2023-01": jan, "2023-02": feb}, profile, gec)
    cov = r.coverage_kwh
    covered = cov[["contract_profile_kwh", "contract_monthly_kwh", "gec_kwh"]].sum(axis=1)
    assert (covered <= imports * (1 + 1e-12) + 1e-9).all()  # never beyond the import
    np.testing.assert_allclose(covered + cov["residual_kwh"], imports, rtol=1e-12, atol=1e-9)
    inst = r.instruments
    assert (inst["used_mwh"] <= inst["available_mwh"] * (1 + 1e-12) + 1e-12).all()
    np.testing.assert_allclose(inst["used_mwh"] + inst["unused_mwh"], inst["available_mwh"],
                               atol=1e-9)
    # used instruments + residual = consumption; residual priced at 0.5
    used_kwh = inst.loc[["contract_profile", "contract_monthly", "gec"], "used_mwh"].sum() * 1000
    assert used_kwh + cov["residual_kwh"].sum() == pytest.approx(imports.sum(), rel=1e-9)
    assert r.total_kg == pytest.approx(0.5 * (imports.sum() - used_kwh), rel=1e-9, abs=1e-6)
    # each month's contract covers at most that month's import
    jan_import = imports[idx.month == 1].sum()
    assert cov["contract_monthly_kwh"][idx.month == 1].sum() <= jan_import + 1e-9


def test_contract_month_keys():
    a = ac.scope2_market_kg(IMPORT, IDX, RESIDUAL_2022, {1: 50.0})
    b = ac.scope2_market_kg(IMPORT, IDX, RESIDUAL_2022, {"2023-01": 50.0})
    c = ac.scope2_market_kg(IMPORT, IDX, RESIDUAL_2022, pd.Series({pd.Period("2023-01"): 50.0}))
    assert a.total_kg == b.total_kg == c.total_kg == pytest.approx(
        (1_096_800 - 50_000) * RESIDUAL_2022)
    with pytest.raises(ValueError, match=r"outside the period: \['2024-01'\]"):
        ac.scope2_market_kg(IMPORT, IDX, RESIDUAL_2022, {"2024-01": 5.0})
    two_years = pd.date_range("2023-12-31", periods=48, freq="h", tz=TZ)
    with pytest.raises(ValueError, match="ambiguous"):
        ac.scope2_market_kg(np.ones(48), two_years, 0.5, {1: 1.0})
    with pytest.raises(ValueError, match="given twice"):
        ac.scope2_market_kg(IMPORT, IDX, RESIDUAL_2022, {1: 1.0, "2023-01": 1.0})


# ---------------------------------------------------------------- exports and onsite


def test_exports_never_reduce_scope_2():
    net = IMPORT.copy()
    net[:10] = -20.0  # a net flow with export hours
    with pytest.raises(ValueError, match="exported electricity never reduces scope 2"):
        ac.scope2_location_kg(net, 0.5)
    with pytest.raises(ValueError, match="exported electricity never reduces scope 2"):
        ac.scope2_market_kg(net, IDX, 0.5)
    # with gross imports (0 in export hours) the export simply does not appear
    gross = np.maximum(net, 0.0)
    assert ac.scope2_location_kg(gross, 0.5).sum() == pytest.approx(0.5 * (1_096_800 - 1000))


def test_onsite_renewables_count_unless_their_attributes_were_sold():
    idx = pd.date_range("2023-05-01", periods=4, freq="h", tz=TZ)
    imports = np.array([10.0, 10.0, 0.0, 0.0])
    onsite = np.array([5.0, 5.0, 20.0, 0.0])
    kept = ac.scope2_market_kg(imports, idx, 0.6, onsite_renewable_kwh=onsite)
    assert kept.total_kg == pytest.approx(20 * 0.6)  # imports only
    assert kept.instruments.loc["onsite"].tolist() == pytest.approx([0.030, 0.030, 0.0])
    sold = ac.scope2_market_kg(imports, idx, 0.6, onsite_renewable_kwh=onsite,
                               onsite_attributes_retained=False)
    assert sold.total_kg == pytest.approx((20 + 30) * 0.6)  # null power at the residual factor
    assert sold.instruments.loc["onsite"].tolist() == pytest.approx([0.030, 0.0, 0.030])
    assert ac.scope2_location_kg(imports, 0.6).sum() == pytest.approx(12.0)


# ---------------------------------------------------------------- hourly matching


def test_hourly_matched_cfe_share_by_hand():
    load = [10.0, 10.0, 10.0, 10.0]
    cfe = [0.0, 20.0, 5.0, 10.0]  # 35 kWh in total: 87.5 % on an annual basis
    # hour by hour: min = 0 + 10 + 5 + 10 = 25 -> 25 / 40
    assert ac.hourly_matched_cfe_share(load, cfe) == pytest.approx(0.625)
    assert ac.hourly_matched_cfe_share(load, [20.0] * 4) == 1.0
    with pytest.raises(ValueError, match="undefined"):
        ac.hourly_matched_cfe_share([0.0, 0.0], [1.0, 1.0])


def test_hourly_profile_location_total_for_a_flat_load():
    # a per-hour factor whose mean is the annual factor gives the annual total for a flat load
    ef = fx.hourly_grid_factor(JIANGSU_2022, np.full(IDX.size, 100.0), [0.7] * 12 + [1.3] * 12,
                               index=IDX)
    total = ac.scope2_location_kg(np.full(IDX.size, 100.0), ef).sum()
    assert total == pytest.approx(876_000 * JIANGSU_2022, rel=1e-12)  # 523,672.8 kg


# ---------------------------------------------------------------- scope 1 details


def test_scope1_diesel_by_hand_and_types():
    # 10,000 kg diesel: 42.652 GJ/t x 10 t = 426.52 GJ x 20.2 kgC/GJ x 0.98 x 44/12 = 30,959.09 kg
    kwh = ac.fuel_kwh_from_units("diesel", 10_000.0)
    assert isinstance(kwh, float)
    assert ac.scope1_kg({"diesel": kwh}) == pytest.approx(426.52 * 20.2 * 0.98 * 44 / 12)
    s = pd.Series([1000.0, 0.0], index=IDX[:2])
    out = ac.scope1_kg({"natural_gas": s, "lpg": s})
    assert isinstance(out, pd.Series)
    parts = ac.scope1_by_fuel_kg({"natural_gas": s, "lpg": s})
    assert parts["lpg"].iloc[0] == pytest.approx(1000 * 17.2 * 0.98 * 44 / 12 * 0.0036)
    with pytest.raises(ValueError, match=r"fuel_kwh\['lpg'\] must be finite and >= 0"):
        ac.scope1_kg({"lpg": [-1.0]})


def test_refrigerant_leakage_and_process_by_hand():
    chiller = ac.Refrigerant("R-134a", charge_kg=100.0, annual_leak_rate=0.05, report="AR5",
                             name="chiller")
    split = ac.Refrigerant({"R-32": 0.5, "R-125": 0.5}, 20.0, 0.10, "AR4", "split AC (R-410A)")
    table = ac.refrigerant_leakage_kg([chiller, split])
    # 100 kg x 5 % x 1300 = 6,500; 20 kg x 10 % x (0.5 x 675 + 0.5 x 3500 = 2087.5) = 4,175
    assert table["kg_co2e_per_year"].tolist() == pytest.approx([6500.0, 4175.0])
    year = ac.process_and_refrigerant_kg([chiller, split], process_kg=1000.0, index=IDX)
    assert year["refrigerant_kg_co2e"].sum() == pytest.approx(10_675.0)
    assert year["process_kg_co2"].sum() == pytest.approx(1000.0)
    assert year["total_kg_co2e"].sum() == pytest.approx(11_675.0)
    jan = ac.process_and_refrigerant_kg([chiller], index=IDX[IDX.month == 1])
    assert jan["refrigerant_kg_co2e"].sum() == pytest.approx(6500.0 * 744 / 8760)
    quarter = pd.date_range("2023-01-01", periods=8, freq="15min", tz=TZ)  # 2 h
    q = ac.process_and_refrigerant_kg([chiller], index=quarter)
    assert q["refrigerant_kg_co2e"].sum() == pytest.approx(6500.0 * 2 / 8760)
    hourly = ac.process_and_refrigerant_kg(process_kg=[1.0, 2.0, 3.0])
    assert hourly["total_kg_co2e"].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="annual_leak_rate must be in"):
        ac.refrigerant_leakage_kg([ac.Refrigerant("R-32", 1.0, 5.0, "AR5")])


# ---------------------------------------------------------------- heat, scope 3


def test_purchased_heat_by_hand():
    # 1,000 GJ = 277,777.8 kWh x 0.0036 x 0.11 t/GJ x 1000 = 110,000 kg
    assert ac.scope2_heat_kg(1000 / 0.0036) == pytest.approx(110_000.0)
    assert ac.scope2_heat_kg(1000 / 0.0036, 0.0) == 0.0


def test_scope3_materials_use_the_users_factors():
    t = ac.scope3_materials_kg({"steel": {"quantity": 10.0, "unit": "t",
                                          "kg_co2e_per_unit": 2000.0, "source": "test value"}})
    assert t.loc["steel", "kg_co2e"] == 20_000.0
    with pytest.raises(ValueError, match=r"lacks \['kg_co2e_per_unit'\]"):
        ac.scope3_materials_kg({"steel": {"quantity": 1.0, "unit": "t"}})


# ---------------------------------------------------------------- tce


def test_tce_of_a_known_mix_by_hand():
    # GB/T 2589 coefficients:
    #   electricity 1,096,800 kWh x 0.1229 kgce/kWh = 134,796.72 kgce
    #   natural gas   100,000 m3  x 1.3300 kgce/m3  = 133,000.00 kgce
    #   diesel         10 t       x 1.4571 kgce/kg  =  14,571.00 kgce
    #   heat          500 GJ      x 0.03412 kgce/MJ =  17,060.00 kgce
    #   total 299,427.72 kgce = 299.42772 tce
    mix = {"electricity": IMPORT, "natural_gas": GAS_M3, "diesel": (10.0, "t"),
           "heat": (500.0, "GJ")}
    by = ac.tce_by_carrier(mix)
    assert by["electricity"] == pytest.approx(134.79672)
    assert by["natural_gas"] == pytest.approx(133.0)
    assert by["diesel"] == pytest.approx(14.571)
    assert by["heat"] == pytest.approx(17.06)
    assert ac.tce(mix) == pytest.approx(299.42772, rel=1e-12)
    # the same gas given as energy by LHV (100,000 m3 x 38.931 MJ/m3 / 3.6)
    gas_kwh = GAS_M3 * 38.931 / 3.6
    assert ac.tce({"natural_gas": (gas_kwh, "kWh_LHV")}) == pytest.approx(133.0, rel=1e-12)
    assert ac.tce({"electricity": (1096.8, "MWh")}) == pytest.approx(134.79672)
    with pytest.raises(ValueError, match="cannot convert 'L' to 'kg'"):
        ac.tce({"diesel": (100.0, "L")})


def test_intensity_t_per_tce_by_hand():
    # the plant, location-based: 871,885.9209 kg CO2 over 134.79672 + 133 = 267.79672 tce
    energy = ac.tce({"electricity": IMPORT, "natural_gas": GAS_M3})
    assert energy == pytest.approx(267.79672)
    assert ac.intensity_t_per_tce(871_885.9209, energy) == pytest.approx(871.8859209 / 267.79672)
    with pytest.raises(ValueError, match="energy_tce must be > 0"):
        ac.intensity_t_per_tce(1.0, 0.0)


# ---------------------------------------------------------------- found by mutation testing
# (tests/MUTATION.md, accounting): each case fails for a planted one-line bug the tests above
# let pass. Market-based scope 2 follows the GHG Protocol Scope 2 Guidance (2015): contractual
# instruments cover imports first, each MWh once; the rest is at the residual mix.

def exactly(text: str) -> str:
    """A ``match`` pattern for exactly ``text``."""
    return "^" + re.escape(text) + "$"


# Two hours in each of January, February and March 2025
SIX = pd.DatetimeIndex(["2025-01-10 10:00", "2025-01-10 11:00", "2025-02-10 10:00",
                        "2025-02-10 11:00", "2025-03-10 10:00", "2025-03-10 11:00"]).tz_localize(TZ)
SIX_IMPORT = [100.0, 300.0, 0.0, 0.0, 0.2, 0.6]
COVERAGE = ["grid_import_kwh", "contract_profile_kwh", "contract_monthly_kwh", "gec_kwh",
            "residual_kwh", "onsite_kwh", "onsite_unclaimed_kwh"]
BY_MONTH = ["available_mwh", "used_mwh", "unused_mwh"]


def test_market_based_months_without_import_and_below_one_kwh_by_hand():
    # hourly profile [50, 0, 10, 0, 0, 0] kWh: covers 50 kWh in January's first hour; its 10 kWh
    # in February meet no import (unused). Monthly contracts: January 100 kWh against the 350 kWh
    # left, spread 50:300 -> 100/7 and 600/7, leaving 250/7 and 1500/7; February 50 kWh against
    # nothing (all unused); March 0.4 kWh against the 0.8 kWh left, half of each hour -> 0.1 and
    # 0.3 left. Onsite 5 kWh in February whose certificates were sold: null power. At a residual
    # factor of 0.6 kgCO2/kWh: [150/7, 900/7, 3, 0, 0.06, 0.18], 153.24 kg in all.
    r = ac.scope2_market_kg(SIX_IMPORT, SIX, 0.6, {"2025-01": 0.1, "2025-02": 0.05,
                                                   "2025-03": 0.0004},
                            contract_profile_kwh=[50.0, 0.0, 10.0, 0.0, 0.0, 0.0],
                            onsite_renewable_kwh=[0.0, 0.0, 5.0, 0.0, 0.0, 0.0],
                            onsite_attributes_retained=False)
    assert r.kg.tolist() == pytest.approx([150 / 7, 900 / 7, 3.0, 0.0, 0.06, 0.18], rel=1e-12)
    assert r.total_kg == pytest.approx(153.24, rel=1e-12)
    assert r.kg.name == "co2_scope2_market_kg" and r.kg.index.equals(SIX)
    assert list(r.coverage_kwh.columns) == COVERAGE and r.coverage_kwh.index.equals(SIX)
    assert r.coverage_kwh["contract_monthly_kwh"].tolist() == pytest.approx(
        [100 / 7, 600 / 7, 0.0, 0.0, 0.1, 0.3], rel=1e-12)
    assert list(r.contracts_by_month.columns) == BY_MONTH
    assert list(r.contracts_by_month.index) == ["2025-01", "2025-02", "2025-03"]
    assert r.contracts_by_month.to_numpy().ravel().tolist() == pytest.approx(
        [0.1, 0.1, 0.0, 0.05, 0.0, 0.05, 0.0004, 0.0004, 0.0], rel=1e-12, abs=1e-15)
    # instruments [MWh]: profile 0.06 available, 0.05 used; monthly 0.1504 and 0.1004; no GEC;
    # onsite 0.005 whose attributes were sold: none used
    assert list(r.instruments.index) == ["contract_profile", "contract_monthly", "gec", "onsite"]
    assert r.instruments.to_numpy().ravel().tolist() == pytest.approx(
        [0.06, 0.05, 0.01, 0.1504, 0.1004, 0.05, 0.0, 0.0, 0.0, 0.005, 0.0, 0.005],
        rel=1e-12, abs=1e-15)
    # without contracts the monthly table is empty but has its columns
    none = ac.scope2_market_kg(SIX_IMPORT, SIX, 0.6)
    assert none.contracts_by_month.empty and list(none.contracts_by_month.columns) == BY_MONTH
    assert none.total_kg == pytest.approx(0.6 * 400.8, rel=1e-12)


def test_certificates_for_less_than_one_kwh_left():
    # 0.8 kWh imported, GECs for 0.4 kWh (0.0004 MWh) spread 0.2:0.6 -> 0.1 and 0.3 covered
    idx = pd.date_range("2025-05-01", periods=2, freq="h", tz=TZ)
    r = ac.scope2_market_kg([0.2, 0.6], idx, 0.6, gec_mwh=0.0004)
    assert r.coverage_kwh["gec_kwh"].tolist() == pytest.approx([0.1, 0.3], rel=1e-12)
    assert r.kg.tolist() == pytest.approx([0.06, 0.18], rel=1e-12)


def test_contract_months_by_every_kind_of_key():
    # January's 0.1 MWh given as 'YYYY-MM', (year, month), a date and a Timestamp: the same
    jan = ac.scope2_market_kg(SIX_IMPORT, SIX, 0.6, {"2025-01": 0.1})
    for key in ((2025, 1), dt.date(2025, 1, 31), pd.Timestamp("2025-01-01"),
                pd.Period("2025-01", freq="M"), "Jan 2025", "2025/01"):
        r = ac.scope2_market_kg(SIX_IMPORT, SIX, 0.6, {key: 0.1})
        assert list(r.contracts_by_month.index) == ["2025-01"], key
        assert r.kg.tolist() == pytest.approx(jan.kg.tolist(), rel=1e-15), key
    # (400.8 - 100) kWh at 0.6
    assert jan.total_kg == pytest.approx(0.6 * 300.8, rel=1e-12)
    # December is a month: 1 kWh of 2 covered in a December-only period
    dec = pd.date_range("2025-12-01", periods=2, freq="h", tz=TZ)
    assert ac.scope2_market_kg([1.0, 1.0], dec, 0.6, {12: 0.001}).total_kg == pytest.approx(0.6)
    for key, message in ((13, "contract month 13 must be 1..12 or 'YYYY-MM'"),
                         (True, "bad contract month True"),
                         ("soon", "contract month 'soon': use 1..12, 'YYYY-MM', a Period or "
                                 "(year, month)"),
                         # a month without its year: pandas would read January of year 1
                         ("Jan", "contract month 'Jan': use 1..12, 'YYYY-MM', a Period or "
                                 "(year, month)"),
                         ("12", "contract month '12': use 1..12, 'YYYY-MM', a Period or "
                                "(year, month)")):
        with pytest.raises(ValueError, match=exactly(message)):
            ac.scope2_market_kg([1.0, 1.0], dec, 0.6, {key: 0.001})
    with pytest.raises(ValueError, match=exactly(
            "contract months outside the period: ['2025-05']; the period covers 2025-01 to "
            "2025-03")):
        ac.scope2_market_kg(SIX_IMPORT, SIX, 0.6, {"2025-05": 0.1})


def test_market_based_inputs_are_named_in_errors():
    with pytest.raises(ValueError, match=exactly("index has 5 entries, grid_import_kwh 6")):
        ac.scope2_market_kg(SIX_IMPORT, SIX[:5], 0.6)
    with pytest.raises(ValueError, match=exactly("contract_profile_kwh has 2 values, the period "
                                                 "6")):
        ac.scope2_market_kg(SIX_IMPORT, SIX, 0.6, contract_profile_kwh=[1.0, 2.0])
    bad = [-1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    for kwargs, name in (({"residual_ef": -0.1}, "residual_ef"),
                         ({"contract_profile_kwh": bad}, "contract_profile_kwh"),
                         ({"onsite_renewable_kwh": bad}, "onsite_renewable_kwh"),
                         ({"gec_mwh": -1.0}, "gec_mwh"),
                         ({"contracts_mwh_by_month": {"2025-01": -1.0}},
                          "contracts_mwh_by_month['2025-01']")):
        args = {"residual_ef": 0.6, **kwargs}
        with pytest.raises(ValueError, match="^" + re.escape(f"{name} must be finite and >= 0")):
            ac.scope2_market_kg(SIX_IMPORT, SIX, **args)


def test_refrigerant_leakage_at_the_limits_of_the_leak_rate_by_hand():
    # charge x annual leak rate x GWP-100 (gwp.csv: HFC-134a AR6 1530; R-410A = 50 % HFC-32
    # (771) + 50 % HFC-125 (3740) = 2255.5 in AR6)
    whole = ac.Refrigerant("HFC-134a", 200.0, 1.0, "AR6", "lost charge")  # all of it in a year
    none = ac.Refrigerant("HFC-134a", 200.0, 0.0, "AR6", "tight")
    blend = ac.Refrigerant({"HFC-32": 0.5, "HFC-125": 0.5}, 10.0, 0.1, "AR6", "split AC")
    table = ac.refrigerant_leakage_kg([whole, none, blend])
    assert table["kg_co2e_per_year"].tolist() == pytest.approx([306_000.0, 0.0, 2255.5],
                                                                rel=1e-12)
    assert table["gas"].tolist() == ["HFC-134a", "HFC-134a", "HFC-32:0.5+HFC-125:0.5"]
    assert table["gwp"].tolist() == [1530.0, 1530.0, 2255.5]
    for rate in (1.5, -0.1):
        with pytest.raises(ValueError, match=exactly(f"annual_leak_rate must be in [0, 1], got "
                                                     f"{rate!r}")):
            ac.refrigerant_leakage_kg([ac.Refrigerant("HFC-134a", 1.0, rate, "AR6")])
    with pytest.raises(ValueError, match="^" + re.escape("charge_kg must be finite and >= 0")):
        ac.refrigerant_leakage_kg([ac.Refrigerant("HFC-134a", -1.0, 0.1, "AR6")])


def test_refrigerant_leakage_uses_the_factor_table_given():
    # a user GWP of 1000 for HFC-134a: 100 kg x 5 % x 1000 = 5000 kg CO2e a year; over 876 h of
    # 8760, a tenth: 500
    own = F.with_gwp("HFC-134a", "AR6", 1000.0)
    chiller = ac.Refrigerant("HFC-134a", 100.0, 0.05, "AR6")
    assert ac.refrigerant_leakage_kg([chiller], own)["kg_co2e_per_year"].tolist() == [5000.0]
    part = ac.process_and_refrigerant_kg([chiller], n_intervals=876, factors=own)
    assert part["refrigerant_kg_co2e"].sum() == pytest.approx(500.0, rel=1e-12)


def test_process_and_refrigerant_durations_by_hand():
    chiller = ac.Refrigerant("HFC-134a", 100.0, 0.05, "AR5")  # 6500 kg CO2e a year (AR5 1300)
    # one 15-minute timestamp with its interval given; two 15-minute timestamps
    one = pd.DatetimeIndex([pd.Timestamp("2025-01-01 00:00", tz=TZ)])
    r1 = ac.process_and_refrigerant_kg([chiller], index=one, interval_h=0.25)
    assert r1["refrigerant_kg_co2e"].tolist() == pytest.approx([6500 * 0.25 / 8760], rel=1e-15,
                                                                abs=0)
    two = pd.date_range("2025-01-01", periods=2, freq="15min", tz=TZ)
    r2 = ac.process_and_refrigerant_kg([chiller], process_kg=2.0, index=two)
    assert r2["refrigerant_kg_co2e"].tolist() == pytest.approx([6500 * 0.25 / 8760] * 2,
                                                                rel=1e-15, abs=0)
    assert r2["process_kg_co2"].tolist() == [1.0, 1.0] and r2.index.equals(two)
    assert list(r2.columns) == ["process_kg_co2", "refrigerant_kg_co2e", "total_kg_co2e"]
    # no index: 4 intervals of 1 h by default, no process emissions unless given
    r4 = ac.process_and_refrigerant_kg([chiller], n_intervals=4)
    assert r4["refrigerant_kg_co2e"].tolist() == pytest.approx([6500 / 8760] * 4, rel=1e-15,
                                                                abs=0)
    assert r4["process_kg_co2"].tolist() == [0.0] * 4
    # a total of 4 kg over four half hours: 1 kg each; 2 kg over two quarter hours: 1 kg each
    half = ac.process_and_refrigerant_kg(process_kg=4.0, n_intervals=4, interval_h=0.5)
    assert half["process_kg_co2"].tolist() == [1.0] * 4
    quarter = ac.process_and_refrigerant_kg(process_kg=2.0, n_intervals=2, interval_h=0.25)
    assert quarter["process_kg_co2"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match=exactly("give index or n_intervals (or process_kg per "
                                                 "interval)")):
        ac.process_and_refrigerant_kg(process_kg=5.0)
    with pytest.raises(ValueError, match=exactly("process_kg has 3 values, the period 4")):
        ac.process_and_refrigerant_kg(process_kg=[1.0, 2.0, 3.0], n_intervals=4)
    with pytest.raises(ValueError, match=exactly("index must be evenly spaced")):
        ac.process_and_refrigerant_kg(index=pd.DatetimeIndex(
            ["2025-01-01 00:00", "2025-01-01 01:00", "2025-01-01 03:00"]).tz_localize(TZ))
    with pytest.raises(ValueError, match="^" + re.escape("process_kg must be finite and >= 0")):
        ac.process_and_refrigerant_kg(process_kg=-1.0, n_intervals=1)
    # durations must be > 0: a zero interval would spread a total over nothing
    for bad in (0.0, -0.25, math.inf, math.nan):
        with pytest.raises(ValueError, match=exactly(
                f"interval_h={bad!r}: expected a duration > 0 [h]")):
            ac.process_and_refrigerant_kg(process_kg=1.0, n_intervals=2, interval_h=bad)
    one = pd.DatetimeIndex(["2025-01-01 00:00"]).tz_localize(TZ)  # one start: interval_h counts
    with pytest.raises(ValueError, match=exactly("interval_h=0: expected a duration > 0 [h]")):
        ac.process_and_refrigerant_kg(process_kg=1.0, index=one, interval_h=0)
    assert ac.process_and_refrigerant_kg(process_kg=1.0, index=one, interval_h=0.5)[
        "process_kg_co2"].tolist() == [1.0]
    two = pd.DatetimeIndex(["2025-01-01 00:00", "2025-01-01 00:30"]).tz_localize(TZ)
    assert ac.process_and_refrigerant_kg(process_kg=1.0, index=two, interval_h=0)[
        "process_kg_co2"].tolist() == [0.5, 0.5]  # two starts: the index gives the duration
    for index, message in ((two[::-1], "index must be increasing"),
                           (two[[0, 0]], "index must be increasing"),
                           (two[:0], "index has no intervals")):
        with pytest.raises(ValueError, match=exactly(message)):
            ac.process_and_refrigerant_kg(process_kg=1.0, index=index)
    for n in (0, -1):
        with pytest.raises(ValueError, match=exactly(f"n_intervals={n}: expected at least 1")):
            ac.process_and_refrigerant_kg(process_kg=1.0, n_intervals=n)
    for bad in (0.0, -8760.0, math.inf):
        with pytest.raises(ValueError, match=exactly(
                f"hours_per_year={bad!r}: expected hours > 0")):
            ac.process_and_refrigerant_kg([chiller], n_intervals=1, hours_per_year=bad)
    # 6500 kg CO2e a year over one hour counted as the whole "year": all of it in the hour
    assert ac.process_and_refrigerant_kg([chiller], n_intervals=1, hours_per_year=1.0)[
        "refrigerant_kg_co2e"].tolist() == [6500.0]


def test_a_bad_value_is_shown_as_a_plain_number():
    """The message shows the value as written (-0.1), not numpy's repr (np.float64(-0.1))."""
    for value in (np.array([0.0, -0.1]), pd.Series([0.0, -0.1]), [0.0, -0.1]):
        with pytest.raises(ValueError, match=exactly(
                "ef_kg_per_kwh must be finite and >= 0; got -0.1 at position 1")):
            ac.scope2_location_kg([1.0, 1.0], value)
    with pytest.raises(ValueError, match=exactly(
            "ef_kg_per_kwh must be finite and >= 0; got nan at position 0")):
        ac.scope2_location_kg([1.0], [math.nan])


def test_every_function_uses_the_factor_table_given():
    # natural gas with 36 MJ/m3 (10 kWh/m3), 20 tC/TJ fully oxidised: 20 x 44/12 = 73.33
    # tCO2/TJ = 0.264 kgCO2/kWh; heat 0.1 tCO2/GJ = 0.36 kgCO2/kWh; electricity 0.3 kgce/kWh
    own = (F.with_fuel("natural_gas", ncv=36.0, ncv_unit="MJ/m3", carbon_content=20.0,
                       oxidation_rate=1.0)
           .with_heat_factor(0.1).with_tce_coefficient("electricity", 0.3, "kgce/kWh"))
    assert ac.fuel_kwh_from_units("natural_gas", 10.0, own) == pytest.approx(100.0, rel=1e-12)
    assert ac.scope1_kg({"natural_gas": 1000.0}, own) == pytest.approx(264.0, rel=1e-12)
    assert ac.scope1_by_fuel_kg({"natural_gas": 1000.0}, own)["natural_gas"] == pytest.approx(
        264.0, rel=1e-12)
    assert ac.scope2_heat_kg(1000.0, factors=own) == pytest.approx(360.0, rel=1e-12)
    assert ac.tce({"electricity": 1000.0}, own) == pytest.approx(0.3, rel=1e-12)
    assert ac.tce_by_carrier({"electricity": 1000.0}, own) == pytest.approx(
        {"electricity": 0.3}, rel=1e-12)


def test_shares_and_intensities_of_small_amounts():
    # 0.5 kWh consumed, 0.25 of it matched in its hour; 0.1 t over 0.5 tce
    assert ac.hourly_matched_cfe_share([0.25, 0.25], [0.5, 0.0]) == pytest.approx(0.5)
    assert ac.intensity_t_per_tce(100.0, 0.5) == pytest.approx(0.2, rel=1e-12)


def test_scope3_materials_table_by_hand():
    # 2 t of steel at 1850 kgCO2e/t (the user's supplier EPD) and 3 kg of glue at 2.5
    t = ac.scope3_materials_kg({
        "steel": {"quantity": 2.0, "unit": "t", "kg_co2e_per_unit": 1850.0,
                  "source": "supplier EPD"},
        "glue": {"quantity": 3, "unit": "kg", "kg_co2e_per_unit": 2.5}})
    assert list(t.columns) == ["quantity", "unit", "kg_co2e_per_unit", "kg_co2e", "source"]
    assert list(t.index) == ["steel", "glue"]
    assert t.loc["steel"].tolist() == [2.0, "t", 1850.0, 3700.0, "supplier EPD"]
    assert t.loc["glue"].tolist() == [3.0, "kg", 2.5, 7.5, ""]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: ac.scope2_location_kg([-1.0], 0.5), "grid_import_kwh must be finite and >= 0"),
    (lambda: ac.scope2_location_kg([1.0], -0.5), "ef_kg_per_kwh must be finite and >= 0"),
    (lambda: ac.scope2_heat_kg([-1.0]), "heat_purchased_kwh must be finite and >= 0"),
    (lambda: ac.scope2_heat_kg([1.0], -0.1), "t_co2_per_gj must be finite and >= 0"),
    (lambda: ac.fuel_kwh_from_units("natural_gas", -1.0),
     "amount of natural_gas must be finite and >= 0"),
    (lambda: ac.hourly_matched_cfe_share([-1.0], [1.0]), "consumption_kwh must be finite"),
    (lambda: ac.hourly_matched_cfe_share([1.0], [-1.0]), "carbon_free_supply_kwh must be finite"),
    (lambda: ac.hourly_matched_cfe_share([1.0, 1.0], [1.0]),
     "consumption has 2 values, carbon-free supply 1"),
    (lambda: ac.hourly_matched_cfe_share([0.0], [1.0]),
     "consumption is zero over the period: the share is undefined"),
    (lambda: ac.intensity_t_per_tce(-1.0, 1.0), "co2_kg must be finite and >= 0"),
    (lambda: ac.scope3_materials_kg({"steel": {"quantity": -1.0, "unit": "t",
                                               "kg_co2e_per_unit": 1.0}}),
     "steel.quantity must be finite and >= 0"),
    (lambda: ac.scope3_materials_kg({"steel": {"quantity": 1.0, "unit": "t",
                                               "kg_co2e_per_unit": -1.0}}),
     "steel.kg_co2e_per_unit must be finite and >= 0"),
    (lambda: ac.tce({"electricity": [-1.0]}), "energy['electricity'] must be finite and >= 0"),
    (lambda: ac.tce({"electricity": ([-1.0], "MWh")}),
     "energy['electricity'] must be finite and >= 0"),
])
def test_accounting_inputs_are_named_in_errors(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value).startswith(message)


@pytest.mark.parametrize(("carrier", "unit", "message"), [
    ("electricity", "t", "'electricity': cannot convert 't' to 'kWh'; use one of ['GWh', 'MWh', "
                         "'kWh']"),
    ("natural_gas", "kWh", "'natural_gas': cannot convert 'kWh' to 'm3'; use one of ['10^4 Nm3', "
                           "'10^4 m3', 'Nm3', 'm3'] or 'kWh_LHV'"),
    ("diesel", "m3", "'diesel': cannot convert 'm3' to 'kg'; use one of ['kg', 't'] or "
                     "'kWh_LHV'"),
])
def test_a_unit_that_cannot_be_converted_lists_the_ones_that_can(carrier, unit, message):
    with pytest.raises(ValueError, match=exactly(message)):
        ac.tce({carrier: (5.0, unit)})


def test_unverified_fuel_parameters_need_consent():
    # a table whose fuel rows are all [U]: refused by default, priced when allowed; natural gas
    # 15.3 tC/TJ x 0.99 x 44/12 x 0.0036 GJ/kWh = 0.1999404 kgCO2/kWh
    unverified = replace(F, fuel_rows=F.fuel_rows.assign(status="U"))
    for f in (ac.scope1_kg, ac.scope1_by_fuel_kg):
        with pytest.raises(ValueError, match="is unverified"):
            f({"natural_gas": 1000.0}, unverified)
    assert ac.scope1_kg({"natural_gas": 1000.0}, unverified,
                        allow_unverified=True) == pytest.approx(199.9404, rel=1e-12)
    assert ac.scope1_by_fuel_kg({"natural_gas": 1000.0}, unverified, allow_unverified=True)[
        "natural_gas"] == pytest.approx(199.9404, rel=1e-12)
