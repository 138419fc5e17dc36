"""The calibration's numerics against hand calculations: bounded least squares, parameters the
data cannot tell apart, standard errors with serially correlated residuals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.calibration.fit import diagnose, fit_linear


def test_exact_data_give_the_true_values():
    # two loads on one meter, on at different hours: readings = 40 kW x hours_a + 12 kW x hours_b
    hours_a = np.array([1, 1, 0, 0, 1, 0.5, 0, 1.0])
    hours_b = np.array([1, 0, 1, 1, 0, 1.0, 0.25, 1.0])
    a = np.column_stack([hours_a, hours_b])
    b = 40 * hours_a + 12 * hours_b
    fit = fit_linear(a, b, np.array([20.0, 20.0]), np.array([0.0, 0.0]),
                     np.array([100.0, 100.0]))
    assert fit.x == pytest.approx([40.0, 12.0], abs=1e-9)
    assert fit.rss == pytest.approx(0.0, abs=1e-12)
    assert fit.diagnosis.rank == 2
    assert fit.diagnosis.groups == []
    assert not fit.at_bound.any()


def test_a_bound_holds_and_is_reported():
    # y = 10 x exactly, but x may not exceed 6: the bounded optimum is 6 (convex, one variable)
    a = np.array([[1.0], [2.0], [3.0]])
    b = 10 * a[:, 0]
    fit = fit_linear(a, b, np.array([5.0]), np.array([0.0]), np.array([6.0]))
    assert fit.x[0] == pytest.approx(6.0)
    assert fit.at_bound[0]
    # residual by hand: (10-6) * [1, 2, 3] -> rss = 16 * 14 = 224
    assert fit.rss == pytest.approx(224.0)


def test_two_always_on_loads_on_one_meter_cannot_be_told_apart():
    # both loads on all the time: the meter sees only their sum (here 70 kW per hour)
    on = np.ones(24)
    a = np.column_stack([on, on])
    b = 70.0 * on
    x0 = np.array([30.0, 30.0])
    fit = fit_linear(a, b, x0, np.zeros(2), np.full(2, 100.0))
    d = fit.diagnosis
    assert d.groups == [[0, 1]]
    assert d.rank == 1
    assert np.isnan(d.std).all()
    # the sum is fitted, and among all splits the one closest to the start (30, 30) is taken:
    # (30 + 5, 30 + 5)
    assert fit.x.sum() == pytest.approx(70.0, rel=1e-6)
    assert fit.x == pytest.approx([35.0, 35.0], rel=1e-4)


def test_a_parameter_that_moves_no_meter_is_its_own_group():
    a = np.column_stack([np.arange(1.0, 7.0), np.zeros(6)])
    b = 3.0 * a[:, 0]
    fit = fit_linear(a, b, np.array([1.0, 5.0]), np.zeros(2), np.full(2, 10.0))
    assert fit.diagnosis.groups == [[1]]
    assert fit.x[0] == pytest.approx(3.0)
    assert fit.x[1] == pytest.approx(5.0, abs=1e-6)  # left at its start
    assert np.isnan(fit.diagnosis.std[1]) and np.isfinite(fit.diagnosis.std[0])


def test_standard_error_of_a_slope_by_hand():
    # y = b x + e through the origin: se(b) = sqrt(s^2 / sum x^2), s^2 = rss / (n - 1)
    x = np.array([1.0, 2.0, 3.0, 4.0])
    e = np.array([0.1, -0.2, 0.2, -0.1])  # alternating: lag-1 autocorrelation < 0 -> not used
    y = 2.0 * x + e
    fit = fit_linear(x[:, None], y, np.array([1.0]), np.array([-10.0]), np.array([10.0]))
    b = (x @ y) / (x @ x)
    r = y - b * x
    s2 = (r @ r) / (4 - 1)
    assert fit.x[0] == pytest.approx(b)
    assert fit.diagnosis.rho == 0.0
    assert fit.diagnosis.std[0] == pytest.approx(np.sqrt(s2 / (x @ x)))


def test_serial_correlation_widens_the_standard_error():
    # residuals with lag-1 autocorrelation rho: n' = n (1 - rho) / (1 + rho) (G14 Annex B)
    x = np.ones(6)
    r = np.array([1.0, 1.0, 1.0, -1.0, -1.0, -1.0])
    d = diagnose(x[:, None], r)
    rc = r - r.mean()
    rho = (rc[1:] @ rc[:-1]) / (rc @ rc)  # (1 + 1 - 1 + 1 + 1) / 6 = 0.5
    assert rho == pytest.approx(0.5)
    n_eff = 6 * (1 - 0.5) / (1 + 0.5)  # 2
    assert d.n_effective == pytest.approx(n_eff)
    assert d.std[0] == pytest.approx(np.sqrt((r @ r) / (n_eff - 1) / 6.0))


def test_condition_number_of_nearly_parallel_columns():
    a = np.column_stack([np.ones(4), np.array([1.0, 1.0, 1.0, 1.001])])
    d = diagnose(a, np.zeros(4))
    # columns scaled to unit length: singular values of [u, v] with cos(angle) = u.v
    u, v = a[:, 0] / np.linalg.norm(a[:, 0]), a[:, 1] / np.linalg.norm(a[:, 1])
    c = u @ v
    assert d.condition_number == pytest.approx(np.sqrt((1 + c) / (1 - c)), rel=1e-6)
    assert d.rank == 2


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.5, 50.0), min_size=1, max_size=4), st.integers(0, 10_000))
def test_noise_free_recovery_within_bounds(true, seed):
    rng = np.random.default_rng(seed)
    p = len(true)
    a = rng.uniform(0, 1, (40, p))
    x = np.array(true)
    fit = fit_linear(a, a @ x, np.full(p, 25.0), np.zeros(p), np.full(p, 60.0))
    assert fit.x == pytest.approx(x, rel=1e-6, abs=1e-6)
