"""The lecture's small triangle: numerical_derivative and check_slopes."""

import math

import numpy as np
import pytest

import slopekit


def test_central_difference_of_known_functions():
    z = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(slopekit.numerical_derivative(np.sin, z), np.cos(z), rtol=0, atol=1e-10)
    np.testing.assert_allclose(slopekit.numerical_derivative(lambda x: x**3, z), 3 * z**2, rtol=1e-9, atol=1e-9)


def test_scalar_in_scalar_out_and_dtype_kept():
    slope = slopekit.numerical_derivative(np.exp, 1.0)
    assert isinstance(slope, float) and slope == pytest.approx(math.e, rel=1e-10)
    z32 = np.linspace(-2, 2, 9, dtype=np.float32)
    slope32 = slopekit.numerical_derivative(slopekit.tanh, z32)
    assert slope32.dtype == np.float32
    np.testing.assert_allclose(slope32, slopekit.tanh.derivative(z32.astype(float)), atol=1e-4)


def test_step_suits_the_dtype():
    # In float32 a float64-sized step (1e-6) would be swamped by rounding; the default is not.
    z = np.float32(0.3)
    good = slopekit.numerical_derivative(slopekit.sigmoid, z)
    bad = slopekit.numerical_derivative(slopekit.sigmoid, z, h=1e-6)
    truth = slopekit.sigmoid.derivative(0.3)
    assert abs(good - truth) < 1e-5 < abs(bad - truth)


def test_explicit_step_and_its_validation():
    assert slopekit.numerical_derivative(lambda x: x * x, 2.0, h=0.5) == 4.0
    for h in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="positive and finite"):
            slopekit.numerical_derivative(np.sin, 1.0, h=h)
    with pytest.raises(TypeError, match="callable"):
        slopekit.numerical_derivative(3, 1.0)
    with pytest.raises(ValueError, match="shape"):
        slopekit.numerical_derivative(lambda x: np.zeros(2), np.zeros(3))


def test_does_not_modify_its_input():
    z = np.linspace(-1, 1, 5)
    before = z.copy()
    slopekit.numerical_derivative(slopekit.relu, z)
    np.testing.assert_array_equal(z, before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_check_slopes_passes_for_every_activation(dtype):
    results = slopekit.check_slopes(dtype=dtype)
    assert [r.activation.name for r in results] == list(slopekit.names())
    for r in results:
        assert r.passed, r
        assert r.worst_gap <= r.tolerance and r.dtype == np.dtype(dtype).name


def test_check_slopes_catches_a_wrong_slope():
    class WrongSigmoid(slopekit.Sigmoid):
        def _derivative_np(self, z, out):
            super()._derivative_np(z, out)
            out *= 1.001  # a 0.1% error

        def _from_output_np(self, a, out):
            self._derivative_np(np.log(a / (1 - a)), out)

    (result,) = slopekit.check_slopes([WrongSigmoid()])
    assert not result.passed and result.worst_gap > 1e-4


def test_grid_avoids_the_kinks():
    z = slopekit.numerical.kink_free_grid(slopekit.relu)
    assert 0.0 not in z and z.min() == -10 and z.max() == 10
    (result,) = slopekit.check_slopes(["relu"])
    assert result.worst_gap == 0.0


def test_check_slopes_rejects_bad_arguments():
    with pytest.raises(ValueError, match="float32 or float64"):
        slopekit.check_slopes(dtype=np.float16)
    with pytest.raises(ValueError, match="low < high"):
        slopekit.check_slopes(low=1, high=0)
    with pytest.raises(ValueError, match="unknown activation"):
        slopekit.check_slopes(["nope"])
