"""Factor tables: integrity of the data files, lookups, refusal of unverified numbers, overrides,
and the hourly grid-intensity shape against hand calculations."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from twin.carbon import factors as fx

TZ = "Asia/Shanghai"
F = fx.default_factors()


def read_rows(name: str) -> list[dict[str, str]]:
    with open(fx.DATA_DIR / fx.FILES[name], encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------- data-file integrity


@pytest.mark.parametrize("name", sorted(fx.FILES))
def test_every_row_has_value_unit_year_source_status(name):
    rows = read_rows(name)
    assert rows
    for i, row in enumerate(rows, start=2):
        where = f"{fx.FILES[name]} line {i}"
        assert row["status"] in {"S", "S2", "U", "def"}, where
        if row["status"] != "U":
            assert row["value"].strip(), where
            assert float(row["value"]) >= 0, where
        assert row["unit"].strip(), where
        assert 1990 < int(row["year"]) < 2030, where
        assert row["document"].strip(), where
        if row["status"] != "def":
            assert row["source_url"].strip() or row["seen_in"].strip(), where


@pytest.mark.parametrize("name", sorted(fx.FILES))
def test_no_duplicate_keys(name):
    keys = [tuple(r[k] for k in fx._KEYS[name]) for r in read_rows(name)]
    assert len(keys) == len(set(keys))


def test_grid_table_coverage():
    g = F.grid_rows
    prov = g[g["level"] == "provincial"]
    assert prov["region"].nunique() == 30
    assert sorted(prov["year"].unique()) == [2021, 2022]  # 2023 provincial numbers not found
    assert (prov.groupby("region").size() == 2).all()
    reg = g[g["level"] == "regional"]
    assert sorted(reg["region"].unique()) == sorted(
        ["north", "northeast", "east", "central", "northwest", "south", "southwest"])
    assert (reg.groupby("region").size() == 3).all()
    for kind in ("location", "residual", "fossil"):
        assert F.grid_years("national", kind) == [2021, 2022, 2023]


def test_published_fuel_factor_equals_ncv_x_carbon_x_oxidation():
    # The source table also prints EF = NCV x C x OF x 44/12; ours is computed from the three
    # parameters and must agree with the printed value to its 5 significant digits.
    rows = F.fuel_rows
    published = rows[rows["parameter"] == "ef_published"].set_index("fuel")["value"]
    assert len(published) == 10
    for fuel, ef in published.items():
        assert F.fuel_factor(fuel).kg_co2_per_unit == pytest.approx(ef, rel=1e-4), fuel


def test_packaged_tables_load_and_statuses_are_known():
    for df in (F.grid_rows, F.fuel_rows, F.tce_rows, F.heat_rows, F.gwp_rows):
        assert set(df["status"]) <= {"S", "S2", "U", "def"}


# ---------------------------------------------------------------- grid lookups


def test_grid_values_from_the_research_note():
    # Each value as published, kgCO2/kWh (documents as cited in twin/data/carbon/grid_factors.csv,
    # which gives no page numbers):
    # 2021 (national, south, guangdong): 生态环境部 国家统计局公告2024年第12号
    #   (2021年电力二氧化碳排放因子);
    # 2022 (national, residual, jiangsu, zhejiang): MEE/NBS announcement of the 2022 electricity
    #   CO2 emission factors (document number not seen);
    # 2023 (national, residual, fossil, east): MEE/NBS announcement of the 2023 factors (ditto).
    assert F.grid_factor("national", 2021) == 0.5568
    assert F.grid_factor("national", 2022) == 0.5366
    assert F.grid_factor("national", 2023) == 0.5306
    assert F.grid_factor("national", 2022, "residual") == 0.5856
    assert F.grid_factor("national", 2023, "residual") == 0.6096
    assert F.grid_factor("national", 2023, "fossil") == 0.8273
    assert F.grid_factor("east", 2023) == 0.5500
    assert F.grid_factor("south", 2021) == 0.4326
    assert F.grid_factor("jiangsu", 2022) == 0.5978
    assert F.grid_factor("guangdong", 2021) == 0.4715
    assert fx.grid_factor("zhejiang", 2022) == 0.5153  # module-level, packaged table


@pytest.mark.parametrize("name", ["jiangsu", "Jiangsu", "江苏", "江苏省", " JIANGSU "])
def test_region_names(name):
    assert F.grid_factor(name, 2022) == 0.5978


def test_region_aliases():
    assert F.grid_factor("内蒙古自治区", 2022) == F.grid_factor("Inner Mongolia", 2022) == 0.6849
    assert F.grid_factor("广西壮族自治区", 2022) == 0.4044
    assert F.grid_factor("华东电网", 2022) == F.grid_factor("east_china", 2022) == 0.5617
    assert F.grid_factor("全国", 2022) == F.grid_factor("China", 2022) == 0.5366


def test_unknown_region_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown grid region 'atlantis'.*jiangsu.*zhejiang"):
        F.grid_factor("atlantis", 2022)


def test_missing_year_lists_the_available_years():
    with pytest.raises(ValueError, match=r"'jiangsu' in data year 2023; years available: "
                                         r"\[2021, 2022\]"):
        F.grid_factor("jiangsu", 2023)
    with pytest.raises(ValueError, match=r"years available: \[2021, 2022, 2023\]"):
        F.grid_factor("national", 2024, "residual")


def test_residual_exists_only_nationally_and_kind_is_checked():
    with pytest.raises(ValueError, match="national grid only: use region='national'"):
        F.grid_factor("jiangsu", 2022, "residual")
    with pytest.raises(ValueError, match="unknown grid factor kind 'marginal'"):
        F.grid_factor("national", 2022, "marginal")


def test_provenance_is_returned():
    info = F.grid_factor_info("national", 2022, "residual")
    assert (info.value, info.unit, info.year, info.status) == (0.5856, "kgCO2/kWh", 2022, "S")
    assert "daydaynews" in info.source


# ---------------------------------------------------------------- unverified factors


def test_unverified_factor_is_refused_unless_passed_explicitly():
    with pytest.raises(ValueError, match=r"unverified \(status U\).*allow_unverified=True"):
        F.grid_factor("national", 2021, "ets")
    assert F.grid_factor("national", 2021, "ets", allow_unverified=True) == 0.5810
    # passing the number explicitly records it as the user's
    mine = F.with_grid_factor("national", 2021, 0.5810, kind="ets", document="my check")
    info = mine.grid_factor_info("national", 2021, "ets")
    assert (info.value, info.status, info.document) == (0.5810, "user", "my check")
    assert F.grid_factor_info("national", 2021, "ets", allow_unverified=True).status == "U"
    assert F.grid_factor("national", 2022, "ets") == 0.5703  # a verified one is served


def test_unverified_fuel_and_gwp_rows_are_refused(tmp_path):
    shutil.copytree(fx.DATA_DIR, tmp_path / "f")
    with open(tmp_path / "f" / "fuel_parameters.csv", "a", encoding="utf-8") as fh:
        fh.write("lng,液化天然气,ncv,41.868,GJ/t,2020,some app,,here,U,\n"
                 "lng,液化天然气,carbon_content,15.3,tC/TJ,2020,some app,,here,S2,\n"
                 "lng,液化天然气,oxidation_rate,0.99,1,2020,some app,,here,S2,\n")
    with open(tmp_path / "f" / "gwp.csv", "a", encoding="utf-8") as fh:
        fh.write("HFC-1234yf,AR6,100,0.501,kgCO2e/kg,2021,x,,here,U,\n")
    t = fx.load_factors(tmp_path / "f")
    with pytest.raises(ValueError, match=r"the ncv of fuel 'lng'.*unverified"):
        t.fuel_factor("lng")
    assert t.fuel_factor("lng", allow_unverified=True).status == "U"
    assert t.with_fuel("lng", ncv=41.868, ncv_unit="GJ/t").fuel_factor("lng").status == "user"
    with pytest.raises(ValueError, match="unverified"):
        t.gwp("HFC-1234yf", "AR6")


# ---------------------------------------------------------------- malformed files


@pytest.mark.parametrize("line, message", [
    ("national,national,全国,location,2024,0.5,kgCO2/kWh,,doc,,seen,X,", "status 'X'"),
    ("national,national,全国,location,2024,,kgCO2/kWh,,doc,,seen,S,", "empty value"),
    ("national,national,全国,location,2024,0.5,gCO2/kWh,,doc,,seen,S,", "unit 'gCO2/kWh'"),
    ("national,national,全国,location,2024,0.5,kgCO2/kWh,,,,seen,S,", "empty document"),
    ("national,national,全国,location,2024,0.5,kgCO2/kWh,,doc,,,S,", "give source_url"),
    ("national,national,全国,location,2022,0.5,kgCO2/kWh,,doc,,seen,S,", "duplicate rows"),
])
def test_malformed_rows_name_file_and_line(tmp_path, line, message):
    shutil.copytree(fx.DATA_DIR, tmp_path / "f")
    path = tmp_path / "f" / "grid_factors.csv"
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    with pytest.raises(ValueError, match=message) as err:
        fx.load_factors(tmp_path / "f")
    assert "grid_factors.csv" in str(err.value)
    if "duplicate" not in message:
        assert f"line {n_lines + 1}" in str(err.value)


def test_missing_file_is_named(tmp_path):
    shutil.copytree(fx.DATA_DIR, tmp_path / "f")
    (tmp_path / "f" / "gwp.csv").unlink()
    with pytest.raises(ValueError, match="factor table 'gwp' not found"):
        fx.load_factors(tmp_path / "f")


# ---------------------------------------------------------------- fuels, heat, tce, GWP


def test_natural_gas_by_hand():
    # NCV 38,931 kJ/m3, carbon content 15.3 tC/TJ, oxidation 99 %: 各种能源折标准煤及碳排放参考系数
    # (values consistent with GB/T 32150-2015 and GB/T 2589), as cited in
    # twin/data/carbon/fuel_parameters.csv
    ng = F.fuel_factor("natural_gas")
    assert ng.natural_unit == "m3"
    assert ng.ncv_mj_per_unit == pytest.approx(38.931)  # 38,931 kJ/m3
    # 15.3 tC/TJ x 0.99 x 44/12 = 55.539 kgCO2/GJ; x 0.0036 GJ/kWh; x 0.038931 GJ/m3
    assert ng.kg_co2_per_gj == pytest.approx(55.539, rel=1e-12)
    assert ng.kg_co2_per_kwh == pytest.approx(55.539 * 0.0036, rel=1e-12)
    assert ng.kg_co2_per_unit == pytest.approx(55.539 * 0.038931, rel=1e-12)  # 2.16219
    assert F.fuel_factor("天然气") == ng


@pytest.mark.parametrize("fuel, ncv_gj_per_t, c, of", [
    ("diesel", 42.652, 20.2, 0.98), ("lpg", 50.179, 17.2, 0.98), ("raw_coal", 20.908, 26.37, 0.94),
    ("fuel_oil", 41.816, 21.1, 0.98)])
def test_liquid_and_solid_fuels_by_hand(fuel, ncv_gj_per_t, c, of):
    f = fx.fuel_factor(fuel)
    assert f.natural_unit == "kg"
    assert f.kg_co2_per_unit == pytest.approx(ncv_gj_per_t / 1000 * c * of * 44 / 12, rel=1e-12)
    assert f.kwh_per_unit == pytest.approx(ncv_gj_per_t / 3.6, rel=1e-12)


def test_unknown_fuel_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown fuel 'hydrogen'.*diesel.*natural_gas"):
        F.fuel_factor("hydrogen")


def test_heat_factor():
    assert F.heat_factor() == 0.11
    assert fx.heat_factor("waste_heat_recovered") == 0.0
    with pytest.raises(ValueError, match="unknown heat factor kind 'steam'"):
        F.heat_factor("steam")


def test_tce_coefficients():
    expected = {"electricity": (0.1229, "kWh"), "natural_gas": (1.3300, "m3"),
                "diesel": (1.4571, "kg"), "lpg": (1.7143, "kg"), "raw_coal": (0.7143, "kg"),
                "fuel_oil": (1.4286, "kg"), "heat": (0.03412, "MJ")}
    for carrier, (value, per) in expected.items():
        c = fx.tce_coefficient(carrier)
        assert (c.kgce_per_unit, c.per_unit) == (value, per), carrier
    assert F.tce_coefficient("电力").unit == "kgce/kWh"
    with pytest.raises(ValueError, match="no standard-coal coefficient for 'water'"):
        F.tce_coefficient("water")


def test_gwp_by_report():
    assert [F.gwp("HFC-134a", r) for r in ("AR4", "AR5", "AR6")] == [1430, 1300, 1530]
    assert F.gwp("R-134a", "AR5") == F.gwp("r134a", "AR5") == 1300
    assert F.gwp("R-32", "AR6") == 771
    assert F.gwp("CH4", "AR5") == 28 and F.gwp("N2O", "AR5") == 265  # research note §4.3
    assert F.gwp("CH4-fossil", "AR6") == 29.8
    assert fx.gwp("SF6", "AR4") == 22800
    with pytest.raises(ValueError, match=r"no AR5 GWP for 'CH4-fossil'; reports available: "
                                         r"\['AR6'\]"):
        F.gwp("CH4-fossil", "AR5")
    with pytest.raises(ValueError, match="unknown assessment report 'AR3'"):
        F.gwp("CH4", "AR3")
    with pytest.raises(ValueError, match=r"no GWP for 'R-410A'.*blend"):
        F.gwp("R-410A", "AR5")


def test_blend_gwp_by_hand():
    r410a = {"R-32": 0.5, "R-125": 0.5}
    assert fx.blend_gwp(r410a, "AR4") == pytest.approx(0.5 * 675 + 0.5 * 3500)  # 2087.5
    assert fx.blend_gwp(r410a, "AR6") == pytest.approx(0.5 * 771 + 0.5 * 3740)  # 2255.5
    with pytest.raises(ValueError, match=r"sum to 0\.9"):
        F.blend_gwp({"R-32": 0.5, "R-125": 0.4}, "AR5")


# ---------------------------------------------------------------- overrides


def test_overrides_return_a_new_table_and_leave_the_packaged_one():
    mine = (F.with_fuel("natural_gas", ncv=36.0, ncv_unit="MJ/m3")
            .with_tce_coefficient("electricity", 0.3, "kgce/kWh")
            .with_heat_factor(0.09)
            .with_gwp("HFC-134a", "AR5", 1000)
            .with_grid_factor("jiangsu", 2024, 0.55))
    assert mine.fuel_factor("natural_gas").kg_co2_per_unit == pytest.approx(55.539 * 0.036)
    assert mine.fuel_factor("natural_gas").status == "user"
    assert mine.tce_coefficient("electricity").kgce_per_unit == 0.3
    assert mine.heat_factor() == 0.09
    assert mine.gwp("R-134a", "AR5") == 1000
    assert mine.grid_factor("江苏", 2024) == 0.55
    assert mine.grid_years("jiangsu") == [2021, 2022, 2024]
    # the packaged table is untouched
    assert F.fuel_factor("natural_gas").ncv_mj_per_unit == pytest.approx(38.931)
    assert F.tce_coefficient("electricity").kgce_per_unit == 0.1229
    assert F.heat_factor() == 0.11 and F.gwp("HFC-134a", "AR5") == 1300
    assert F.grid_years("jiangsu") == [2021, 2022]


def test_new_fuel_needs_all_parameters():
    partial = F.with_fuel("lng", ncv=41.868, ncv_unit="GJ/t")
    with pytest.raises(ValueError, match=r"lacks \['carbon_content', 'oxidation_rate'\]"):
        partial.fuel_factor("lng")
    lng = partial.with_fuel("lng", carbon_content=15.3, oxidation_rate=0.99).fuel_factor("lng")
    assert lng.kg_co2_per_unit == pytest.approx(41.868 / 1000 * 15.3 * 0.99 * 44 / 12)


def test_new_region_can_be_added():
    t = F.with_grid_factor("xizang", 2022, 0.1, region_zh="西藏")
    assert t.grid_factor("西藏", 2022) == 0.1


def test_bad_override_values():
    with pytest.raises(ValueError, match="must be finite and >= 0"):
        F.with_grid_factor("jiangsu", 2024, -0.1)
    with pytest.raises(ValueError, match="give ncv and ncv_unit together"):
        F.with_fuel("natural_gas", ncv=36.0)


# ---------------------------------------------------------------- hourly grid factor


def year_index(year: int = 2023, freq: str = "h") -> pd.DatetimeIndex:
    return pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq=freq, tz=TZ,
                         inclusive="left")


def test_profile_with_the_annual_mean_reproduces_the_annual_total_for_a_flat_load():
    idx = year_index()  # 8760 h
    load = np.full(idx.size, 100.0)  # flat 100 kWh every hour: 876,000 kWh
    # a profile whose mean is the annual factor 0.5: 0.4 at 00-11 h, 0.6 at 12-23 h
    profile = np.where(idx.hour < 12, 0.4, 0.6)
    assert profile.mean() == pytest.approx(0.5)
    assert np.sum(load * profile) == pytest.approx(0.5 * 876_000)  # 438,000 kg
    # the same through hourly_grid_factor with a daily shape of mean 1 and Jiangsu 2022
    shape = [0.8] * 12 + [1.2] * 12
    ef = fx.hourly_grid_factor(0.5978, pd.Series(load, index=idx), shape)
    assert ef.iloc[0] == pytest.approx(0.5978 * 0.8) and ef.iloc[12] == pytest.approx(0.5978 * 1.2)
    assert float((load * ef).sum()) == pytest.approx(0.5978 * 876_000, rel=1e-12)  # 523,672.8


def test_uneven_load_by_hand():
    # one day: 100 kWh/h at 00-11 h, 300 kWh/h at 12-23 h; shape 1 then 2.
    # sum L = 4800, sum L*s = 1200 + 7200 = 8400, k = 4/7: EF = 0.5*4/7 then 0.5*8/7
    idx = pd.date_range("2023-06-01", periods=24, freq="h", tz=TZ)
    load = np.where(idx.hour < 12, 100.0, 300.0)
    ef = fx.hourly_grid_factor(0.5, load, [1.0] * 12 + [2.0] * 12, index=idx)
    assert ef.iloc[0] == pytest.approx(0.5 * 4 / 7) and ef.iloc[23] == pytest.approx(0.5 * 8 / 7)
    assert float((load * ef).sum() / load.sum()) == pytest.approx(0.5, rel=1e-12)


def test_shape_uses_local_hour_of_day_with_a_15_min_index():
    idx = pd.date_range("2023-06-01 22:00", periods=16, freq="15min", tz=TZ)  # 22:00-01:45
    shape = np.arange(24, dtype=float) + 1.0
    ef = fx.hourly_grid_factor(1.0, np.zeros(16), shape, index=idx)  # no load: plain mean = 1
    s = shape[idx.hour]
    np.testing.assert_allclose(ef.to_numpy(), s / s.mean())


def test_full_length_shape_and_errors():
    load = np.array([1.0, 0.0, 3.0])
    ef = fx.hourly_grid_factor(0.6, load, [2.0, 5.0, 1.0])
    assert np.dot(load, ef) / load.sum() == pytest.approx(0.6)
    with pytest.raises(ValueError, match=r"give 24 .* or 3"):
        fx.hourly_grid_factor(0.6, load, [1.0, 1.0])
    with pytest.raises(ValueError, match="shape must be finite and >= 0"):
        fx.hourly_grid_factor(0.6, load, [1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="zero in every interval that has load"):
        fx.hourly_grid_factor(0.6, load, [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="not net flows"):
        fx.hourly_grid_factor(0.6, [-1.0, 2.0, 1.0], [1.0, 1.0, 1.0])


@settings(max_examples=60, deadline=None)
@given(annual=st.floats(0.05, 1.2),
       load=st.lists(st.floats(0.0, 1e4), min_size=24, max_size=24 * 9),
       shape=st.lists(st.floats(0.01, 5.0), min_size=24, max_size=24),
       start_hour=st.integers(0, 23))
def test_load_weighted_mean_equals_the_annual_factor(annual, load, shape, start_hour):
    load = np.array(load)
    assume(load.sum() > 1e-6)
    idx = pd.date_range("2024-03-01", periods=load.size, freq="h", tz=TZ) + pd.Timedelta(
        hours=start_hour)
    ef = fx.hourly_grid_factor(annual, pd.Series(load, index=idx), shape)
    assert (ef >= 0).all()
    assert float((load * ef).sum() / load.sum()) == pytest.approx(annual, rel=1e-9)


# ---------------------------------------------------------------- hourly CSV


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_read_hourly_csv_with_timestamps_on_a_15_min_index(tmp_path):
    lines = ["# my grid intensity", "timestamp,kg_co2_per_kwh"]
    lines += [f"2023-01-01 {h:02d}:00,{0.5 + h / 100}" for h in range(24)]
    p = write(tmp_path / "ef.csv", "\n".join(lines) + "\n")
    idx = pd.date_range("2023-01-01", periods=96, freq="15min", tz=TZ)
    s = fx.read_hourly_factor_csv(p, idx)
    assert s.name == "grid_ef_kg_per_kwh"
    np.testing.assert_allclose(s.to_numpy(), 0.5 + idx.hour / 100)
    with pytest.raises(ValueError, match=r"96 intervals uncovered"):
        fx.read_hourly_factor_csv(p, idx + pd.Timedelta(days=1))


def test_read_hourly_csv_errors(tmp_path):
    idx = pd.date_range("2023-01-01", periods=3, freq="h", tz=TZ)
    gap = write(tmp_path / "gap.csv", "timestamp,kg_co2_per_kwh\n2023-01-01 00:00,0.5\n"
                                      "2023-01-01 02:00,0.5\n2023-01-01 03:00,0.5\n")
    with pytest.raises(ValueError, match="gap after line 2"):
        fx.read_hourly_factor_csv(gap, idx)
    neg = write(tmp_path / "neg.csv", "timestamp,kg_co2_per_kwh\n2023-01-01 00:00,0.5\n"
                                      "2023-01-01 01:00,-0.1\n")
    with pytest.raises(ValueError, match=r"neg\.csv line 3"):
        fx.read_hourly_factor_csv(neg, idx)
    nocol = write(tmp_path / "nocol.csv", "timestamp,ef\n2023-01-01 00:00,0.5\n")
    with pytest.raises(ValueError, match="no value column"):
        fx.read_hourly_factor_csv(nocol, idx)


def test_read_hourly_csv_typical_year(tmp_path):
    rows = "\n".join(f"{h},{h / 10000}" for h in range(8760))
    p = write(tmp_path / "typ.csv", "hour_of_year,grid_ef_kg_per_kwh\n" + rows + "\n")
    idx = pd.date_range("2023-03-01", periods=24, freq="h", tz=TZ)
    s = fx.read_hourly_factor_csv(p, idx)
    np.testing.assert_allclose(s.to_numpy(), (59 * 24 + np.arange(24)) / 10000)  # 1 Mar = day 60
    leap = pd.date_range("2024-12-31", periods=24, freq="h", tz=TZ)  # hours 8760..8783
    with pytest.raises(ValueError, match="no value for 24 intervals"):
        fx.read_hourly_factor_csv(p, leap)
