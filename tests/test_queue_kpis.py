"""Per-station queue figures and steps.parquet against queueing theory and the lots' own times.

(a) Three stations in series with Poisson arrivals (mean 60 s), exponential service (means 36, 42
    and 48 s) and unbounded buffers form a Jackson tandem (Jackson 1957; Burke 1956: the
    departures of an M/M/1 queue are Poisson again), so station i is an M/M/1 queue with
    rho_i = lambda E[S_i] = 0.6, 0.7, 0.8 and (Kleinrock 1975, sec. 3.2)
    L_i = rho_i / (1 - rho_i), L_q,i = rho_i^2 / (1 - rho_i), W_i = L_i / lambda,
    W_q,i = L_q,i / lambda (Little). The standard error comes from independent replications.
(b) steps.parquet must agree with the flow: one row per route step of every finished lot, in
    time order, each step arriving where the previous one left, and its waits and stays must
    give the KPIs exactly (the KPIs are kept as sums over the same lots, not from this table).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import const, expo, make_plant, queue_kpis_from_rows, station

import twin

LAMBDA = 1 / 60.0
MEANS = {"s1": 36.0, "s2": 42.0, "s3": 48.0}
REPS, DAYS = 10, 20
Z = 5.0  # standard errors allowed (t with 9 dof: two-sided p ~ 7e-4)


def _tandem(**simulation) -> twin.Plant:
    return make_plant([station(s, expo(m), group=s) for s, m in MEANS.items()],
                      interarrival=expo(60), **({"simulation": simulation} if simulation else {}))


@pytest.mark.slow
def test_jackson_tandem_per_station_queue_figures():
    runs = [twin.simulate(_tandem(), days=DAYS, start="2026-01-01", seed=100 + r).kpis
            for r in range(REPS)]
    for sid, mean in MEANS.items():
        rho = LAMBDA * mean
        theory = {"mean_lots_in_station": rho / (1 - rho),
                  "mean_lots_waiting": rho**2 / (1 - rho),
                  "mean_wait_s": rho**2 / (1 - rho) / LAMBDA}
        for key, value in theory.items():
            x = np.array([k["stations"][sid][key] for k in runs])
            se = x.std(ddof=1) / np.sqrt(REPS)
            assert se < 0.05 * value, f"{sid} {key}: SE {se:.3g} too large to test anything"
            assert abs(x.mean() - value) < Z * se, (
                f"{sid} {key}: {x.mean():.4g} vs theory {value:.4g} "
                f"({(x.mean() - value) / se:+.1f} SE)")
        # W by Little from the station's own L and the run's throughput: 1 / (mu - lambda)
        w = np.array([k["stations"][sid]["mean_lots_in_station"]
                      / (k["stations"][sid]["lots_processed"] / (DAYS * 86400.0))
                      for k in runs])
        w_theory = 1.0 / (1.0 / mean - LAMBDA)
        assert abs(w.mean() - w_theory) < Z * w.std(ddof=1) / np.sqrt(REPS), (sid, w.mean())
    for k in runs:
        # the stations together hold every lot in the plant: the plant's WIP is their sum
        total = sum(k["stations"][s]["mean_lots_in_station"] for s in MEANS)
        assert total == pytest.approx(k["mean_wip_lots"], rel=1e-8)


def _seconds(result: twin.Result, col: pd.Series) -> np.ndarray:
    return (col - result.hourly.index[0]).dt.total_seconds().to_numpy()


def _check_steps(result: twin.Result, routes: dict[str, list[str]], horizon_s: float) -> None:
    steps, lots, k = result.steps, result.lots, result.kpis
    assert steps is not None
    done = steps[steps["left"].notna()]
    # every finished lot: one row per route step, in order, each arriving where the last left
    for lot in lots.itertuples():
        rows = steps[steps["lot"] == lot.lot]
        route = routes[lot.product]
        assert rows["station"].astype(str).tolist() == route
        assert rows["step"].tolist() == list(range(len(route)))
        assert rows["arrival"].iloc[0] == lot.released
        assert rows["left"].iloc[-1] == lot.completed
        assert (rows["arrival"].iloc[1:].to_numpy() == rows["left"].iloc[:-1].to_numpy()).all()
    assert (done["start"] >= done["arrival"]).all()
    assert (done["finish"] >= done["start"]).all()
    assert (done["left"] >= done["finish"]).all()
    # no lot is lost: rows of lots that left a station, lots still at one and finished lots
    # account for every lot released
    open_now = steps[steps["left"].isna()]
    assert open_now["lot"].is_unique
    assert len(open_now) == k["lots_in_system_at_end"]
    assert steps["lot"].nunique() == k["lots_released"]
    # the KPIs from the rows: waits of the lots taken; areas with the open lots cut at the end
    queue_kpis_from_rows(result, horizon_s)


def test_steps_agree_with_the_flow_and_the_kpis(tmp_path):
    plant = _tandem(steps=True)
    result = twin.simulate(plant, days=3, start="2026-01-01", seed=5)
    _check_steps(result, {"part": list(MEANS)}, 3 * 86400.0)
    # written and read back
    back = twin.Result.load(result.save(tmp_path / "run"))
    pd.testing.assert_frame_equal(back.steps, result.steps)


def test_steps_with_blocking_batches_and_two_machines(tmp_path):
    """Finite buffers (blocking after service), a two-machine station and a batch oven: the rows
    still follow every lot, and a blocked lot leaves after it finished."""
    stations = [station("cut", expo(40)),
                station("mill", expo(100), machines=2, buffer_capacity=2),
                station("oven", const(150), batch_size=3, buffer_capacity=3),
                station("pack", expo(45), buffer_capacity=1)]
    plant = make_plant(stations, interarrival=expo(60), simulation={"steps": True})
    result = twin.simulate(plant, days=2, start="2026-01-01", seed=9)
    _check_steps(result, {"part": ["cut", "mill", "oven", "pack"]}, 2 * 86400.0)
    s = result.steps
    assert (s["left"] > s["finish"]).any()  # blocking happened
    assert set(s.loc[s["station"] == "mill", "machine"].dropna().astype(str)) == {"mill#1",
                                                                                 "mill#2"}
    oven = s[(s["station"] == "oven") & s["finish"].notna()]
    assert oven.groupby("finish").size().max() == 3  # lots processed together finish together


def test_steps_are_off_by_default(tmp_path):
    result = twin.simulate(_tandem(), days=0.5, start="2026-01-01", seed=5)
    assert result.steps is None
    out = result.save(tmp_path / "run")
    assert not (out / "steps.parquet").exists()
    # the queue figures are there all the same
    assert result.kpis["stations"]["s1"]["mean_wait_s"] > 0


def test_a_deterministic_station_waits_by_hand():
    """Lots every 60 s, a first station of 30 s and a second of 90 s with room for all: the
    second never keeps up; lot n (n = 0, 1, ...) arrives there at 60 (n + 1) + 30 and starts when
    lot n - 1 is done, at 90 (n + 1), i.e. waits 30 n s. Over a run of N lots taken there, the mean
    wait is 30 (N - 1) / 2."""
    plant = make_plant([station("a", const(30)), station("b", const(90))],
                       interarrival=const(60))
    result = twin.simulate(plant, days=0.25, start="2026-01-01")  # 6 h
    b = result.kpis["stations"]["b"]
    # b takes lot n at 90 (n + 1); the run ends at 21600 s = 90 * 240, before the event then
    n_taken = 239
    assert b["mean_wait_s"] == pytest.approx(30 * (n_taken - 1) / 2, rel=1e-12)


def test_twin_run_steps_flag_writes_steps_parquet(tmp_path, capsys):
    """``twin run --steps`` turns steps.parquet on for a plant file without it; a lot that left
    station k entered station k + 1 at that moment, lot by lot."""
    from pathlib import Path

    from twin.cli import main

    bench = Path(__file__).resolve().parents[1] / "plant_configs" / "benchmark_line.yaml"
    out = tmp_path / "run"
    assert main(["run", str(bench), "--days", "0.2", "--out", str(out), "--steps"]) == 0
    steps = pd.read_parquet(out / "steps.parquet")
    lots = pd.read_parquet(out / "lots.parquet")
    assert set(lots["lot"]) <= set(steps["lot"])
    done = steps[steps["lot"].isin(lots["lot"])]
    assert len(done) == 10 * len(lots)  # ten stations each
    plain = tmp_path / "plain"
    assert main(["run", str(bench), "--days", "0.2", "--out", str(plain)]) == 0
    assert not (plain / "steps.parquet").exists()
    # same seed, same flow: the steps option changes no figure
    a = json.loads((out / "kpis.json").read_text())
    b = json.loads((plain / "kpis.json").read_text())
    assert a == b


def test_buffer_puts_and_gets_as_fast_as_a_store():
    """SimPy binds put and get to each plain Store (``BoundClass.bind_early``) but not to a
    subclass's; the Buffer must do it itself, and still stamp what it takes in."""
    import simpy

    from twin.production.station import Buffer

    env = simpy.Environment()
    plain, buf = simpy.Store(env), Buffer(env, capacity=1)
    assert {"put", "get"} <= set(vars(plain)) and {"put", "get"} <= set(vars(buf))
    first, second = [0] * 9, [0] * 9
    buf.put(first)
    waiting = buf.put(second)  # full: waits for room
    assert not waiting.triggered

    def taker():
        yield env.timeout(7.5)
        yield buf.get()

    env.process(taker())
    env.run()
    assert first[6] == 0.0 and second[6] == 7.5  # stamped when it got in, not when it was put
