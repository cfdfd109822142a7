"""The lecture's own numbers (LESSON.md, L2-L7), as named tests."""

import math

import numpy as np
import pytest

import slopekit


def test_L2_sigmoid_slope_is_g_times_one_minus_g():
    z = np.linspace(-6, 6, 101)
    a = slopekit.sigmoid(z)
    np.testing.assert_allclose(slopekit.sigmoid.derivative(z), a * (1 - a), rtol=1e-12, atol=0)


def test_L3_sigmoid_checks_at_minus_10_0_10():
    s = slopekit.sigmoid
    assert s(10.0) == pytest.approx(1, abs=5e-5)
    assert s(-10.0) == pytest.approx(0, abs=5e-5)
    assert s(0.0) == 0.5
    assert s.derivative(0.0) == 0.25
    assert s.derivative_from_output(s(0.0)) == 0.25
    for z in (-10.0, 10.0):
        # "approximately 0": 1 * (1 - 1); the exact value is e^-10 / (1 + e^-10)^2
        exact = math.exp(-10) / (1 + math.exp(-10)) ** 2
        assert s.derivative(z) == pytest.approx(exact, rel=1e-15)
        assert s.derivative_from_output(s(z)) == pytest.approx(exact, rel=1e-10)
        assert s.derivative(z) < 1e-4


def test_L4_slope_from_cached_output_is_a_times_one_minus_a():
    a = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    np.testing.assert_array_equal(slopekit.sigmoid.derivative_from_output(a), a * (1 - a))


def test_L5_tanh_checks():
    t = slopekit.tanh
    assert t(0.0) == 0.0
    assert t.derivative(0.0) == 1.0
    assert t.derivative_from_output(t(0.0)) == 1.0
    a = np.array([-0.9, -0.5, 0.0, 0.5, 0.9])
    np.testing.assert_array_equal(t.derivative_from_output(a), 1 - a**2)
    for z in (-10.0, 10.0):
        exact = 1 / math.cosh(z) ** 2
        assert t.derivative(z) == pytest.approx(exact, rel=1e-15)
        assert t.derivative_from_output(t(z)) == pytest.approx(exact, rel=1e-6)
        assert t.derivative(z) < 1e-7


@pytest.mark.parametrize("at_zero, expected", [(0, [0, 0, 1]), (1, [0, 1, 1])])
def test_L6_relu_at_minus_1_0_1(at_zero, expected):
    g = slopekit.get("relu", at_zero=at_zero)
    z = np.array([-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(g(z), [0, 0, 1])
    np.testing.assert_array_equal(g.derivative(z), expected)


def test_L6_relu_default_at_zero_is_0_like_pytorch_jax_tensorflow_sklearn():
    assert slopekit.relu.at_zero == 0.0
    assert slopekit.relu.derivative(0.0) == 0.0


@pytest.mark.parametrize("at_zero, expected", [(None, [0.01, 0.01, 1]), (1, [0.01, 1, 1])])
def test_L7_leaky_relu_at_minus_1_0_1(at_zero, expected):
    params = {} if at_zero is None else {"at_zero": at_zero}
    g = slopekit.get("leaky_relu", **params)
    z = np.array([-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(g(z), [-0.01, 0, 1])
    np.testing.assert_array_equal(g.derivative(z), expected)


def test_L7_transcript_slope_0_001_is_reachable():
    g = slopekit.get("leaky_relu", slope=0.001)
    np.testing.assert_array_equal(g.derivative([-1.0, 0.0, 1.0]), [0.001, 0.001, 1])
    np.testing.assert_array_equal(g([-1.0, 2.0]), [-0.001, 2.0])
