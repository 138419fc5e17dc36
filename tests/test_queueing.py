"""Queueing theory as the independent truth for the material flow.

(a) One station with Poisson arrivals (mean 60 s), exponential service (mean 48 s), an unbounded
    buffer and no calendar is an M/M/1 queue (Kleinrock, *Queueing Systems* vol. 1, 1975, sec. 3.2):
    utilization rho = lambda / mu = 0.8, throughput = lambda = 1/60 per s, mean number in system
    L = rho / (1 - rho) = 4, mean time in system W = 1 / (mu - lambda) = 240 s.
(b) Three such stations in series with unbounded buffers form a Jackson network (Jackson 1957;
    Burke's theorem: the departures of an M/M/1 queue are again Poisson with rate lambda), so every
    station is an M/M/1 queue with the same lambda: rho_i = 0.8 each, L = sum rho_i / (1 - rho_i) =
    12, W = L / lambda = 720 s.

Tolerances come from the run itself: the run is cut into 20 batches of 10 days (much longer than
the relaxation time of the queue, about 1 / (mu (1 - sqrt(rho))^2) = 1.2 h), the standard error of
each estimate is the standard deviation of its batch means / sqrt(20) (Law, *Simulation Modeling
and Analysis*, 5th ed., sec. 9.5.3), and an estimate must lie within 5 standard errors of the
theory. For L the asymptotic variance of the time average of an M/M/1 queue,
2 rho (1 + rho) / (mu (1 - rho)^4) (Whitt 1989), gives an SE of 0.07 for 200 days, 1.8 % of L; the
tests also require the batch SE to be that small, so they cannot pass by being imprecise.

The batch estimates are computed from the outputs, not from the KPIs: utilization from the hourly
energy of each station (idle 2 kW, processing 10 kW, so busy seconds = (E * 3600 - 2 * 3600) / 8),
throughput from the hourly completions, L and W from the release and completion times of the lots.
Lots still in the plant at the end (a handful) are missing from the lot table; they change L by
far less than its SE.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import expo, make_plant, station

import twin

LAMBDA = 1 / 60.0  # arrival rate [1/s]
MU = 1 / 48.0  # service rate [1/s]
RHO = LAMBDA / MU
DAYS = 200
BATCHES = 20
Z = 5.0  # standard errors allowed (t with 19 dof: two-sided p ~ 1e-4)
IDLE_KW, PROC_KW = 2.0, 10.0


def _lots_seconds(result: twin.Result) -> tuple[np.ndarray, np.ndarray]:
    t0 = result.hourly.index[0]
    lots = result.lots
    rel = (lots["released"] - t0).dt.total_seconds().to_numpy()
    done = (lots["completed"] - t0).dt.total_seconds().to_numpy()
    return rel, done


def _batch_means(result: twin.Result, groups: list[str]) -> dict[str, np.ndarray]:
    """Per-batch utilization of each group (one station each), throughput [1/s], L and W [s]."""
    horizon = DAYS * 86400.0
    edges = np.linspace(0.0, horizon, BATCHES + 1)
    hours_per_batch = DAYS * 24 // BATCHES
    out: dict[str, np.ndarray] = {}
    for g in groups:
        e = result.hourly[f"electricity_kwh:{g}"].to_numpy()
        busy_s = (e * 3600.0 - IDLE_KW * 3600.0) / (PROC_KW - IDLE_KW)
        out[f"util:{g}"] = busy_s.reshape(BATCHES, hours_per_batch).sum(axis=1) / (
            hours_per_batch * 3600.0)
    units = result.hourly["units_completed"].to_numpy()
    out["throughput"] = units.reshape(BATCHES, hours_per_batch).sum(axis=1) / (
        hours_per_batch * 3600.0)
    rel, done = _lots_seconds(result)
    L, W = [], []
    for a, b in itertools.pairwise(edges):
        overlap = np.clip(np.minimum(done, b) - np.maximum(rel, a), 0.0, None)
        L.append(overlap.sum() / (b - a))
        sel = (done >= a) & (done < b)
        W.append((done[sel] - rel[sel]).mean())
    out["L"] = np.array(L)
    out["W"] = np.array(W)
    return out


def _check(name: str, batches: np.ndarray, theory: float, max_rel_se: float) -> None:
    mean = batches.mean()
    se = batches.std(ddof=1) / np.sqrt(batches.size)
    assert se < max_rel_se * theory, f"{name}: batch SE {se:.4g} too large to test anything"
    assert abs(mean - theory) < Z * se, (
        f"{name}: {mean:.5g} vs theory {theory:.5g}, SE {se:.3g} ({(mean - theory) / se:+.1f} SE)")


def _check_littles_law(result: twin.Result) -> None:
    """L = lambda W on the run's own sample path: the time-average lots in the plant times the run
    length is the sum of the time each lot spent in it. The completed lots account for
    throughput * W * T; the lots left at the end add a little, never subtract."""
    k = result.kpis
    lam = k["lots_completed"] / (DAYS * 86400.0)
    w = k["mean_lead_time_h"] * 3600.0
    assert k["mean_wip_lots"] >= lam * w * (1 - 1e-9)
    assert k["mean_wip_lots"] == pytest.approx(lam * w, rel=1e-3)
    # and the KPI agrees with the lot table's own area
    rel, done = _lots_seconds(result)
    assert (done - rel).sum() / (DAYS * 86400.0) == pytest.approx(lam * w, rel=1e-7)  # KPIs: 9 dp


@pytest.mark.slow
def test_mm1_station_matches_queueing_theory():
    plant = make_plant([station("s", expo(48))], interarrival=expo(60))
    result = twin.simulate(plant, days=DAYS, start="2026-01-01", seed=11)
    b = _batch_means(result, ["line"])

    _check("utilization (from energy)", b["util:line"], RHO, 0.01)
    _check("throughput", b["throughput"], LAMBDA, 0.01)
    _check("L", b["L"], RHO / (1 - RHO), 0.04)  # expected SE 1.8 % (Whitt), batch SE +-16 %
    _check("W", b["W"], 1 / (MU - LAMBDA), 0.04)

    k = result.kpis
    se_l = b["L"].std(ddof=1) / np.sqrt(BATCHES)
    assert abs(k["mean_wip_lots"] - RHO / (1 - RHO)) < Z * se_l
    assert abs(k["stations"]["s"]["utilization"] - RHO) < Z * b["util:line"].std(ddof=1) / np.sqrt(
        BATCHES)
    # the utilization KPI is the processing time: the energy-derived batches must agree exactly
    assert k["stations"]["s"]["utilization"] == pytest.approx(b["util:line"].mean(), rel=1e-9)
    _check_littles_law(result)


@pytest.mark.slow
def test_tandem_line_is_a_jackson_network():
    stations = [station(f"s{k}", expo(48), group=f"g{k}") for k in (1, 2, 3)]
    plant = make_plant(stations, interarrival=expo(60))
    result = twin.simulate(plant, days=DAYS, start="2026-01-01", seed=12)
    groups = ["g1", "g2", "g3"]
    b = _batch_means(result, groups)

    for g in groups:
        _check(f"utilization {g}", b[f"util:{g}"], RHO, 0.01)
    _check("throughput", b["throughput"], LAMBDA, 0.01)
    _check("L", b["L"], 3 * RHO / (1 - RHO), 0.03)
    _check("W", b["W"], 3 / (MU - LAMBDA), 0.03)
    for sid in ("s1", "s2", "s3"):
        # nothing is ever blocked with unbounded buffers
        assert result.equipment.loc[sid, "blocked_h"] == 0.0
    _check_littles_law(result)


def test_batch_means_helper_on_a_known_sample_path():
    """The batch estimators themselves, on a hand-made result: one lot in the plant all the time
    (L = 1), every lot 1 h (W = 3600 s), one completion per hour, stations half busy."""
    hours = DAYS * 24
    index = pd.date_range("2026-01-01", periods=hours, freq="h", tz="Asia/Shanghai")
    half = (IDLE_KW + PROC_KW) / 2  # kWh in an hour half spent processing
    hourly = pd.DataFrame({"electricity_kwh:line": np.full(hours, half),
                           "units_completed": np.ones(hours)}, index=index)
    t0 = index[0]
    lots = pd.DataFrame({
        "released": t0 + pd.to_timedelta(np.arange(hours) * 3600.0, unit="s"),
        "completed": t0 + pd.to_timedelta((np.arange(hours) + 1) * 3600.0, unit="s"),
    })
    fake = twin.Result(hourly, hourly, {}, pd.DataFrame(), lots, {})
    b = _batch_means(fake, ["line"])
    np.testing.assert_allclose(b["util:line"], 0.5)
    np.testing.assert_allclose(b["throughput"], 1 / 3600.0)
    np.testing.assert_allclose(b["L"], 1.0)
    np.testing.assert_allclose(b["W"], 3600.0)
