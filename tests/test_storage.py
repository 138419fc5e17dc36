"""Battery and thermal storage: hand-computed sequences, invariants, fade, vectorised replay.

The hand-computed battery sequences run twice (the ``stepped`` fixture): through the
``Battery`` methods, which the EMS's per-interval path calls, and through the EMS's written-out
copy of the same step (``EMS._follow_asks``), so a bug in either copy fails them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.energy.storage import (
    Battery,
    ThermalStorage,
    ice_capacity_kwh,
    replay_storage_level,
    water_tank_capacity_kwh,
)


class FastCopy:
    """A battery stepped by the EMS's written-out copy of the battery step (``EMS._follow_asks``,
    one interval per call) instead of its own methods: ``charge``, ``discharge`` and
    ``standby`` as :class:`Battery` has them, so a hand-worked sequence checks both copies. The
    site's net load is the ask itself (no import limit, no reserve, no guard), so the EMS passes
    the ask on unchanged; the other attributes are the battery's."""

    def __init__(self, battery: Battery):
        self._b = battery

    def __getattr__(self, name: str):
        return getattr(self._b, name)

    def _step(self, ask_kw: float, dt_h: float) -> float:
        from twin.energy.ems import EMS, SelfConsumption, Supply

        supply = Supply(interval_s=dt_h * 3600.0, n_intervals=1, pv_kwh=np.zeros(1),
                        wind_kwh=np.zeros(1), period=["flat"], price=np.zeros(1),
                        batteries=[self._b])
        ems = EMS(None, None, supply, SelfConsumption(), horizon_s=dt_h * 3600.0)
        use, gen = max(ask_kw, 0.0) * dt_h, max(-ask_kw, 0.0) * dt_h
        ch, dis, _ = ems._follow_asks(self._b, np.array([ask_kw]), np.arange(1),
                                      np.array([dt_h]), np.array([use]), np.array([gen]))
        return float(dis[0] - ch[0]) / dt_h

    def charge(self, p_kw: float, dt_h: float) -> float:
        return -self._step(-p_kw, dt_h)

    def discharge(self, p_kw: float, dt_h: float) -> float:
        return self._step(p_kw, dt_h)

    def standby(self, dt_h: float) -> None:
        self._step(0.0, dt_h)


@pytest.fixture(params=["battery", "ems_fast_copy"])
def stepped(request):
    """Make a :class:`Battery` step by its own methods or by the EMS's fast copy."""
    return (lambda b: b) if request.param == "battery" else FastCopy


def test_battery_by_hand_one_hour_steps(stepped):
    # 100 kWh, 30 kW, η 0.95 / 0.95, SOC 10–90 kWh, start 50 kWh, 1 %/h self-discharge, dt = 1 h.
    b = stepped(Battery(energy_kwh=100, power_kw=30, charge_efficiency=0.95,
                        discharge_efficiency=0.95, soc_min_frac=0.1, soc_max_frac=0.9,
                        initial_soc_frac=0.5, self_discharge_per_h=0.01))
    # 1. charge 50 kW: power limit 30 kW. Decay 50 -> 49.5, then + 0.95 * 30 = 28.5 -> 78.0.
    assert b.charge(50, 1.0) == 30
    assert b.soc_kwh == pytest.approx(78.0, abs=1e-12)
    # 2. charge 30 kW: decay 78 * 0.99 = 77.22; room to 90 kWh is 12.78 kWh = 12.78 / 0.95 AC.
    assert b.charge(30, 1.0) == pytest.approx(12.78 / 0.95, abs=1e-12)  # 13.4526...
    assert b.soc_kwh == 90.0  # exactly at the upper limit
    # 3. standby: 90 * 0.99 = 89.1.
    b.standby(1.0)
    assert b.soc_kwh == pytest.approx(89.1, abs=1e-12)
    # 4. discharge 100 kW: power limit. 89.1 * 0.99 = 88.209; - 30 / 0.95 = 31.578947 -> 56.630053.
    assert b.discharge(100, 1.0) == 30
    e4 = 89.1 * 0.99 - 30 / 0.95
    assert b.soc_kwh == pytest.approx(e4, abs=1e-12)
    assert e4 == pytest.approx(56.630052631578947, abs=1e-12)
    # 5. discharge 30 kW: 56.630053 * 0.99 = 56.063752; - 31.578947 -> 24.484805.
    assert b.discharge(30, 1.0) == 30
    e5 = e4 * 0.99 - 30 / 0.95
    assert b.soc_kwh == pytest.approx(e5, abs=1e-12)
    # 6. discharge 30 kW: 24.484805 * 0.99 = 24.239957; only (24.239957 - 10) * 0.95 = 13.52796 kW
    #    can be delivered before the 10 kWh floor.
    p6 = b.discharge(30, 1.0)
    assert p6 == pytest.approx((e5 * 0.99 - 10) * 0.95, abs=1e-12)
    assert p6 == pytest.approx(13.527959, abs=1e-6)
    assert b.soc_kwh == 10.0  # exactly at the lower limit
    # 7. standby at the floor: self-discharge does not take it below 10 kWh.
    b.standby(1.0)
    assert b.soc_kwh == 10.0
    # 8. nothing left to deliver.
    assert b.discharge(5, 1.0) == 0.0
    # 9. charge 10 kW: 10 + 0.95 * 10 = 19.5.
    assert b.charge(10, 1.0) == 10
    assert b.soc_kwh == pytest.approx(19.5, abs=1e-12)

    # Bookkeeping: AC energy in and out, and the standing loss step by step.
    assert b.charged_kwh == pytest.approx(30 + 12.78 / 0.95 + 10, abs=1e-12)
    assert b.discharged_kwh == pytest.approx(30 + 30 + p6, abs=1e-12)
    losses = [50 * 0.01, 78 * 0.01, 90 * 0.01, 89.1 * 0.01, e4 * 0.01, e5 * 0.01, 0.0, 0.0, 0.0]
    assert b.standing_loss_kwh == pytest.approx(sum(losses), abs=1e-12)
    assert b.age_h == 9.0


def test_battery_by_hand_quarter_hour_steps(stepped):
    # Standing loss compounds per hour: over 15 min the content keeps 0.99 ** 0.25.
    k = 0.99 ** 0.25  # = 0.997490...
    b = stepped(Battery(energy_kwh=100, power_kw=50, soc_min_frac=0.1, soc_max_frac=0.9,
                        initial_soc_frac=0.8, self_discharge_per_h=0.01))
    # Headroom: (90 - 80k) / (0.95 * 0.25) = 42.5 kW < 50 kW.
    assert b.headroom_charge_kw(0.25) == pytest.approx((90 - 80 * k) / (0.95 * 0.25), abs=1e-12)
    assert b.charge(50, 0.25) == pytest.approx((90 - 80 * k) / 0.2375, abs=1e-12)
    assert b.soc_kwh == 90.0
    # Discharge 20 kW for 15 min: 90k - 20 * 0.25 / 0.95.
    assert b.headroom_discharge_kw(0.25) == 50.0
    assert b.discharge(20, 0.25) == 20
    assert b.soc_kwh == pytest.approx(90 * k - 5 / 0.95, abs=1e-12)


def test_dispatch_sign_convention():
    b = Battery(energy_kwh=10, power_kw=4, charge_efficiency=1, discharge_efficiency=1)
    assert b.dispatch(-3, 1.0) == -3  # charge
    assert b.soc_kwh == 8.0
    assert b.dispatch(6, 1.0) == 4  # discharge, power-limited
    assert b.dispatch(0, 1.0) == 0.0
    assert b.soc_kwh == 4.0 and b.age_h == 3.0


def test_headroom_matches_what_is_accepted():
    b = Battery(energy_kwh=50, power_kw=1000, soc_min_frac=0.2, initial_soc_frac=0.9,
                self_discharge_per_h=0.002)
    h = b.headroom_charge_kw(0.25)
    assert b.charge(1e9, 0.25) == h
    h = b.headroom_discharge_kw(0.25)
    assert b.discharge(1e9, 0.25) == h
    assert b.soc_kwh == 10.0  # SOC-limited both ways: full, then empty to the 20 % floor


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"energy_kwh": 0}, "energy_kwh"), ({"power_kw": -1}, "power_kw"),
    ({"charge_efficiency": 0}, "charge_efficiency"),
    ({"discharge_efficiency": 1.1}, "discharge_efficiency"),
    ({"soc_min_frac": 0.6, "soc_max_frac": 0.5}, "soc_max_frac"),
    ({"initial_soc_frac": 0.05, "soc_min_frac": 0.1}, "initial_soc_frac"),
    ({"self_discharge_per_h": 1.0}, "self_discharge_per_h"),
    ({"cycle_fade_per_efc": -1e-4}, "cycle_fade_per_efc"),
    ({"energy_kwh": float("nan")}, "energy_kwh"),
])
def test_invalid_parameters_raise(kwargs, name):
    args = {"energy_kwh": 100, "power_kw": 50, **kwargs}
    with pytest.raises(ValueError, match=name):
        Battery(**args)


def test_invalid_requests_raise():
    b = Battery(energy_kwh=100, power_kw=50)
    with pytest.raises(ValueError, match="p_kw"):
        b.charge(-1, 0.25)
    with pytest.raises(ValueError, match="p_kw"):
        b.discharge(float("nan"), 0.25)
    with pytest.raises(ValueError, match="dt_h"):
        b.standby(0)
    with pytest.raises(ValueError, match="dt_h"):
        b.charge(1, -0.25)


# ------------------------------------------------------------------ properties

_requests = st.lists(
    st.tuples(st.sampled_from(["charge", "discharge", "standby", "dispatch"]),
              st.floats(0, 500), st.sampled_from([0.25, 0.25, 0.25, 1.0, 1 / 60, 3.0])),
    min_size=1, max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(
    requests=_requests,
    energy=st.floats(1, 1000), power=st.floats(0, 400),
    eta_c=st.floats(0.5, 1.0), eta_d=st.floats(0.5, 1.0),
    lo=st.floats(0, 0.5), span=st.floats(0, 0.5), init=st.floats(0, 1),
    sigma=st.sampled_from([0.0, 1e-4, 0.01, 0.2]),
    cyc=st.sampled_from([0.0, 1e-3, 0.05]), cal=st.sampled_from([0.0, 0.02, 0.5]),
)
def test_battery_invariants(requests, energy, power, eta_c, eta_d, lo, span, init, sigma, cyc,
                            cal):
    hi = lo + span
    b = Battery(energy_kwh=energy, power_kw=power, charge_efficiency=eta_c,
                discharge_efficiency=eta_d, soc_min_frac=lo, soc_max_frac=hi,
                initial_soc_frac=lo + init * span, self_discharge_per_h=sigma,
                cycle_fade_per_efc=cyc, calendar_fade_per_year=cal)
    e0 = b.soc_kwh
    stored_in = taken_out = 0.0  # storage side, from the returned AC powers
    for action, p, dt in requests:
        before, standing_before = b.soc_kwh, b.standing_loss_kwh
        cap_before = b.capacity_kwh
        if action == "charge":
            got = b.charge(p, dt)
            assert 0.0 <= got <= min(p, power)
            stored_in += eta_c * got * dt
        elif action == "discharge":
            got = b.discharge(p, dt)
            assert 0.0 <= got <= min(p, power)
            taken_out += got * dt / eta_d
        elif action == "standby":
            b.standby(dt)
        else:
            signed = p - 250.0
            got = b.dispatch(signed, dt)
            assert abs(got) <= min(abs(signed), power) and got * signed >= 0.0
            if signed > 0:
                taken_out += got * dt / eta_d
            elif signed < 0:
                stored_in += eta_c * -got * dt
        # Never outside the limits of the current capacity, with no tolerance.
        assert lo * b.capacity_kwh <= b.soc_kwh <= hi * b.capacity_kwh
        assert 0.0 <= b.capacity_kwh <= cap_before
        # This step's standing loss is at most σ-compounding of the opening content.
        step_loss = b.standing_loss_kwh - standing_before
        assert -1e-12 <= step_loss <= before * (1.0 - (1.0 - sigma) ** dt) + 1e-9
    assert b.fade_loss_kwh >= 0.0
    if cyc == 0.0 and cal == 0.0:
        assert b.fade_loss_kwh == 0.0 and b.capacity_kwh == energy
    # Energy conservation, to 1e-9 (relative to the capacity).
    balance = e0 + stored_in - taken_out - b.standing_loss_kwh - b.fade_loss_kwh
    assert b.soc_kwh == pytest.approx(balance, abs=1e-9 * energy)
    assert b.throughput_kwh == pytest.approx(stored_in + taken_out, rel=1e-12, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(requests=_requests, loss=st.floats(0, 0.1), fixed=st.floats(0, 0.01),
       lo=st.floats(0, 0.5))
def test_thermal_storage_invariants(requests, loss, fixed, lo):
    t = ThermalStorage(energy_kwh=500, power_kw=200, soc_min_frac=lo, initial_soc_frac=0.5 + lo / 2,
                       loss_per_h=loss, loss_capacity_frac_per_h=fixed)
    e0, net = t.soc_kwh, 0.0
    for action, p, dt in requests:
        if action == "charge":
            net += t.charge(p, dt) * dt
        elif action == "discharge":
            net -= t.discharge(p, dt) * dt
        else:
            t.standby(dt)
        assert lo * 500 <= t.soc_kwh <= 500
    assert t.soc_kwh == pytest.approx(e0 + net - t.standing_loss_kwh, abs=1e-9 * 500)


# ------------------------------------------------------------------ fade


def test_cycle_fade_after_n_full_equivalent_cycles(stepped):
    # η = 1, so the storage-side throughput equals the AC energy. One pair of 40 kWh in and
    # 40 kWh out moves 80 kWh = 0.4 full equivalent cycles of a 100 kWh battery; 250 pairs are
    # 100 cycles. At 1e-3 per cycle the capacity is 100 * (1 - 100 * 1e-3) = 90 kWh.
    b = stepped(Battery(energy_kwh=100, power_kw=100, charge_efficiency=1,
                        discharge_efficiency=1, initial_soc_frac=0.3, cycle_fade_per_efc=1e-3))
    for _ in range(250):
        assert b.charge(40, 1.0) == 40
        assert b.discharge(40, 1.0) == 40
    assert b.equivalent_full_cycles == pytest.approx(100.0, rel=1e-12)
    assert b.capacity_kwh == pytest.approx(90.0, rel=1e-12)
    assert b.soc_kwh == pytest.approx(30.0, abs=1e-9)  # 30–70 kWh stayed inside 0–90 kWh
    assert b.fade_loss_kwh == 0.0


def test_cycle_fade_counts_storage_side_energy(stepped):
    # With η_c = 0.8, charging 50 kW for 1 h stores 40 kWh; 40 kWh out at η_d = 0.8 delivers 32 kW.
    # 80 kWh storage-side throughput = 0.4 cycles of 100 kWh -> capacity 100 * (1 - 0.4 * 0.01).
    b = stepped(Battery(energy_kwh=100, power_kw=100, charge_efficiency=0.8,
                        discharge_efficiency=0.8, initial_soc_frac=0.3, cycle_fade_per_efc=0.01))
    b.charge(50, 1.0)
    assert b.discharge(32, 1.0) == 32
    assert b.capacity_kwh == pytest.approx(99.6, rel=1e-12)


def test_calendar_fade_one_year_and_write_off():
    # A full battery on standby for one year (35 040 quarter hours) at 2 %/year: capacity
    # 100 -> 98 kWh; the content follows the shrinking upper limit, 2 kWh written off.
    b = Battery(energy_kwh=100, power_kw=10, initial_soc_frac=1.0, calendar_fade_per_year=0.02)
    for _ in range(35040):
        b.standby(0.25)
    assert b.age_h == pytest.approx(8760.0, rel=1e-12)
    assert b.capacity_kwh == pytest.approx(98.0, rel=1e-12)
    assert b.soc_kwh == b.capacity_kwh
    assert b.fade_loss_kwh == pytest.approx(2.0, rel=1e-9)
    assert b.soc_frac == 1.0


def test_reset_restores_initial_state():
    b = Battery(energy_kwh=100, power_kw=50, self_discharge_per_h=0.01, cycle_fade_per_efc=0.01)
    b.charge(50, 1.0)
    b.reset()
    assert (b.soc_kwh, b.capacity_kwh, b.throughput_kwh, b.age_h) == (50.0, 100.0, 0.0, 0.0)


# ------------------------------------------------------------------ thermal storage


def test_thermal_storage_losses_by_hand():
    # 200 kWh tank at 100 kWh, 2 %/h of content plus 0.1 %/h of capacity.
    t = ThermalStorage(energy_kwh=200, power_kw=50, loss_per_h=0.02,
                       loss_capacity_frac_per_h=0.001)
    t.standby(1.0)
    e1 = 100 * 0.98 - 0.001 * 200 * 1.0  # = 97.8
    assert t.soc_kwh == pytest.approx(97.8, abs=1e-12) and e1 == pytest.approx(97.8)
    assert t.charge(50, 0.5) == 50
    e2 = e1 * 0.98 ** 0.5 - 0.001 * 200 * 0.5 + 50 * 0.5  # efficiencies 1
    assert t.soc_kwh == pytest.approx(e2, abs=1e-12)
    assert t.standing_loss_kwh == pytest.approx(100 - e1 + e1 - (e2 - 25), abs=1e-12)
    # Empty: the capacity-proportional loss stops at the floor (0 here).
    t.discharge(1e6, 10.0)
    assert t.soc_kwh == 0.0
    t.standby(1.0)
    assert t.soc_kwh == 0.0


def test_water_tank_capacity_10_m3_40_k():
    # ρ = 998.21 kg/m³, c_p = 4.1818 kJ/(kg K) (water at 20 °C):
    # 998.21 * 4.1818 * 10 * 40 / 3600 = 463.81 kWh (≈ 465 kWh with the rounder 1000 and 4.187).
    e = water_tank_capacity_kwh(10, 40)
    assert e == pytest.approx(998.21 * 4.1818 * 10 * 40 / 3600, rel=1e-12)
    assert e == pytest.approx(463.81, abs=0.01)
    assert water_tank_capacity_kwh(10, 40, 1000, 4.187) == pytest.approx(465.22, abs=0.01)
    t = ThermalStorage.from_volume(10, 40, power_kw=100, loss_per_h=0.005)
    assert t.energy_kwh == e and t.loss_per_h == 0.005
    np.testing.assert_allclose(water_tank_capacity_kwh(np.array([10, 20]), 40), [e, 2 * e])


def test_ice_capacity():
    # 1 t of ice: 1000 kg * 334 kJ/kg / 3600 = 92.78 kWh.
    assert ice_capacity_kwh(1000) == pytest.approx(92.777778, abs=1e-6)


# ------------------------------------------------------------------ vectorised replay


def test_replay_matches_battery_when_no_limit_binds():
    rng = np.random.default_rng(7)
    n, dt = 100, 0.25
    pc = rng.uniform(0, 10, n) * (rng.random(n) < 0.5)
    pd = np.where(pc > 0, 0.0, rng.uniform(0, 10, n))
    b = Battery(energy_kwh=1000, power_kw=20, charge_efficiency=0.93, discharge_efficiency=0.96,
                self_discharge_per_h=0.003)
    level = []
    for c, d in zip(pc, pd, strict=True):
        assert b.dispatch(float(d - c), dt) == pytest.approx(d - c, abs=1e-12)
        level.append(b.soc_kwh)
    replay = replay_storage_level(500.0, pc, pd, dt, 0.93, 0.96, 0.003)
    np.testing.assert_allclose(replay, level, rtol=0, atol=1e-9)
    # One step by hand: 500 * 0.997^0.25 + 0.93 * pc0 * 0.25 - pd0 * 0.25 / 0.96.
    assert replay[0] == pytest.approx(
        500 * 0.997 ** 0.25 + 0.93 * pc[0] * 0.25 - pd[0] * 0.25 / 0.96, abs=1e-12)
    assert math.isclose(replay_storage_level(5.0, [0], [0], 1.0, 1, 1)[0], 5.0)


# ------------------------------------------------------------------ found by mutation testing
# (tests/MUTATION.md): each case below fails for a planted one-line bug that the tests above let
# pass.


@pytest.mark.parametrize("call", ["first", "again"])  # a new step length, then the cached one
def test_limits_by_hand(call):
    # 100 kWh, 40 kW, η 0.8 / 0.9, SOC 10-90 kWh, start 50 kWh, dt = 0.5 h, no losses:
    #   charge: (90 - 50) / (0.8 x 0.5) = 100 kW -> the 40 kW rating
    #   full discharge: (50 - 10) x 0.9 / 0.5 = 72 kW -> 40 kW
    #   above a 30 % reserve: (50 - 30) x 0.9 / 0.5 = 36 kW (below the rating)
    b = Battery(energy_kwh=100, power_kw=40, charge_efficiency=0.8, discharge_efficiency=0.9,
                soc_min_frac=0.1, soc_max_frac=0.9, initial_soc_frac=0.5)
    if call == "again":
        b.limits_kw(0.5, 0.3)
    assert b.limits_kw(0.5, 0.3) == pytest.approx((40.0, 40.0, 36.0), rel=1e-12)
    assert (b.headroom_charge_kw(0.5), b.headroom_discharge_kw(0.5)) == (40.0, 40.0)
    # a 60 % reserve is above the content: nothing may be discharged down to it
    assert b.limits_kw(0.5, 0.6)[2] == 0.0
    # a 200 kW rating leaves the room: 100 kW charge, 72 kW full, 36 kW to the reserve;
    # and a 20 % reserve gives (50 - 20) x 1.8 = 54 kW
    b = Battery(energy_kwh=100, power_kw=200, charge_efficiency=0.8, discharge_efficiency=0.9,
                soc_min_frac=0.1, soc_max_frac=0.9, initial_soc_frac=0.5)
    if call == "again":
        b.limits_kw(0.5, 0.3)
    assert b.limits_kw(0.5, 0.3) == pytest.approx((100.0, 72.0, 36.0), rel=1e-12)
    assert b.limits_kw(0.5, 0.2)[2] == pytest.approx(54.0, rel=1e-12)
    assert b.headroom_charge_kw(0.5) == pytest.approx(100.0, rel=1e-12)
    assert b.headroom_discharge_kw(0.5) == pytest.approx(72.0, rel=1e-12)


def test_small_limits_by_hand():
    # 10.2 kWh of 100 in [10, 90] kWh, efficiencies 1, dt = 1 h: 0.2 kW to the floor, 0.1 kW to
    # a 10.1 % reserve; 89.6 kWh: 0.4 kW to the top. Small limits stay small (not 0, not 1).
    low = Battery(energy_kwh=100, power_kw=50, charge_efficiency=1, discharge_efficiency=1,
                  soc_min_frac=0.1, soc_max_frac=0.9, initial_soc_frac=0.102)
    assert low.limits_kw(1.0, 0.101)[1:] == pytest.approx((0.2, 0.1), rel=1e-9)
    assert low.headroom_discharge_kw(1.0) == pytest.approx(0.2, rel=1e-9)
    high = Battery(energy_kwh=100, power_kw=50, charge_efficiency=1, discharge_efficiency=1,
                   soc_min_frac=0.1, soc_max_frac=0.9, initial_soc_frac=0.896)
    assert high.limits_kw(1.0, 0.0)[0] == pytest.approx(0.4, rel=1e-9)
    assert high.headroom_charge_kw(1.0) == pytest.approx(0.4, rel=1e-9)
    # at the floor, with self-discharge: nothing to give, the whole window to take
    floor = Battery(energy_kwh=100, power_kw=100, charge_efficiency=1, discharge_efficiency=1,
                    soc_min_frac=0.1, soc_max_frac=0.9, initial_soc_frac=0.1,
                    self_discharge_per_h=0.01)
    assert floor.limits_kw(1.0, 0.0) == (80.0, 0.0, 0.0)


def test_thermal_limits_with_capacity_losses_by_hand():
    # tank 100 kWh, 100 kW, η 1, start 50 kWh, fixed loss 1 % of capacity per hour, dt = 2 h:
    # content after the loss 50 - 0.01 x 100 x 2 = 48 kWh; charge (100 - 48) / 2 = 26 kW,
    # discharge 48 / 2 = 24 kW, above a 20 % reserve (48 - 20) / 2 = 14 kW
    t = ThermalStorage(energy_kwh=100, power_kw=100, charge_efficiency=1, discharge_efficiency=1,
                       initial_soc_frac=0.5, loss_capacity_frac_per_h=0.01)
    for _ in range(2):  # a new step length, then the cached one
        assert t.limits_kw(2.0, 0.2) == pytest.approx((26.0, 24.0, 14.0), rel=1e-12)


def test_bookkeeping_of_quarter_hour_steps():
    # 20 kW for 15 min is 5 kWh on the AC side, whichever way
    b = Battery(energy_kwh=100, power_kw=50, charge_efficiency=1, discharge_efficiency=1)
    b.charge(20, 0.25)
    b.discharge(20, 0.25)
    assert (b.charged_kwh, b.discharged_kwh) == (5.0, 5.0)


def test_calendar_fade_to_nothing():
    # 100 % per year: after half a year 50 kWh are left (0.5 kWh after 0.995 years); past a year
    # the capacity stays at 0 and all content is written off
    b = Battery(energy_kwh=1, power_kw=1, initial_soc_frac=1.0, calendar_fade_per_year=1.0)
    b.standby(0.995 * 8760)
    assert b.capacity_kwh == pytest.approx(0.005, rel=1e-9)
    b = Battery(energy_kwh=100, power_kw=1, initial_soc_frac=1.0, calendar_fade_per_year=1.0)
    b.standby(1.5 * 8760)
    assert b.capacity_kwh == 0.0 and b.soc_kwh == 0.0 and b.fade_loss_kwh == 100.0


def test_tank_from_volume_uses_the_specific_heat_given():
    # 10 m3 x 1000 kg/m3 x 2 kJ/(kg K) x 10 K / 3600 = 55.56 kWh
    t = ThermalStorage.from_volume(10, 10, 50, density_kg_per_m3=1000.0,
                                   specific_heat_kj_per_kgk=2.0)
    assert t.energy_kwh == pytest.approx(10 * 1000 * 2.0 * 10 / 3600, rel=1e-12)


@pytest.mark.parametrize(("cls", "kwargs", "message"), [
    (Battery, {"charge_efficiency": 1.5},
     r"^charge_efficiency=1\.5: expected a value in \(0\.0, 1\.0\]$"),
    (Battery, {"discharge_efficiency": 0.0}, r"^discharge_efficiency=0\.0: expected a value in \("),
    (Battery, {"soc_min_frac": 1.5}, r"^soc_min_frac=1\.5: expected a value in \[0\.0, 1\.0\]$"),
    (Battery, {"soc_max_frac": 1.5}, r"^soc_max_frac="),
    (Battery, {"initial_soc_frac": 1.5}, r"^initial_soc_frac="),
    (Battery, {"energy_kwh": 0}, r"^energy_kwh=0\.0: expected a value in \(0\.0, inf\]$"),
    (Battery, {"power_kw": -1}, r"^power_kw=-1\.0: expected a value in \[0\.0, inf\]$"),
    (Battery, {"self_discharge_per_h": 1.0},
     r"^self_discharge_per_h=1\.0: expected a value in \[0\.0, 1\.0\)$"),
    (Battery, {"cycle_fade_per_efc": 1.5}, r"^cycle_fade_per_efc="),
    (Battery, {"calendar_fade_per_year": 1.5}, r"^calendar_fade_per_year="),
    (ThermalStorage, {"loss_per_h": 1.0}, r"^loss_per_h=1\.0: expected a value in \[0\.0, 1\.0\)$"),
    (ThermalStorage, {"loss_per_h": 1.5}, r"^loss_per_h="),
    (ThermalStorage, {"loss_capacity_frac_per_h": 1.5}, r"^loss_capacity_frac_per_h="),
])
def test_bad_parameters_are_named_with_their_range(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**{"energy_kwh": 100, "power_kw": 50, **kwargs})
