"""Properties that must hold on every input (hypothesis)."""

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import slopekit
from conftest import ACTIVATIONS, reference_slope

SMOOTH = [slopekit.sigmoid, slopekit.tanh]
PIECEWISE = [g for g in ACTIVATIONS if isinstance(g, (slopekit.ReLU, slopekit.LeakyReLU))]
FLOATS = st.floats(allow_nan=False, allow_infinity=True, width=64)


def arrays(elements=FLOATS, dtype=np.float64):
    return hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=2, max_side=6), elements=elements)


@given(z=arrays(st.floats(-40, 40)), data=st.data())
def test_slope_from_output_agrees_with_slope_from_input(z, data):
    # The lecture's a(1 - a) and 1 - a^2 inherit the rounding of a: accurate in absolute
    # terms (a few eps), not relative ones once a is near 1 (docs/precision.md).
    g, bound = data.draw(st.sampled_from([(slopekit.sigmoid, 1.5), (slopekit.tanh, 3)]), label="g")
    error = np.abs(g.derivative_from_output(g(z)) - g.derivative(z))
    assert np.all(error <= bound * np.finfo(float).eps)


@given(z=arrays(), data=st.data())
def test_piecewise_slopes_match_the_definition_from_input_and_output(z, data):
    g = data.draw(st.sampled_from(PIECEWISE), label="g")
    np.testing.assert_array_equal(g.derivative(z), reference_slope(g, z))
    if g.has_derivative_from_output:
        a = g(z)
        got, want = g.derivative_from_output(a), reference_slope(g, z)
        # The documented corner (test_accuracy's xfail): a subnormal z < 0 whose slope * z underflows
        # to a = -0.0 looks like z = -0.0 to the output, which gives the at_zero convention there.
        lost = (a == 0) & (z != 0)
        np.testing.assert_array_equal(got[~lost], want[~lost])
        if np.any(lost):
            np.testing.assert_array_equal(got[lost], g.at_zero)


@given(z=arrays(), data=st.data())
def test_piecewise_values_match_the_definition(z, data):
    g = data.draw(st.sampled_from(PIECEWISE), label="g")
    slope = g.slope if isinstance(g, slopekit.LeakyReLU) else 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        below = np.where(np.isinf(z) & (slope == 0), 0.0, slope * z)
    np.testing.assert_array_equal(g(z), np.where(z < 0, below, z))


@given(z=arrays(st.floats(-50, 50)), data=st.data())
def test_backward_is_the_chain_rule(z, data):
    g = data.draw(st.sampled_from(ACTIVATIONS), label="g")
    da = data.draw(hnp.arrays(np.float64, z.shape, elements=st.floats(-1e3, 1e3)), label="da")
    np.testing.assert_array_equal(g.backward(da, z=z), da * g.derivative(z))
    if g.has_derivative_from_output:
        a = g(z)
        np.testing.assert_array_equal(g.backward(da, a=a), da * g.derivative_from_output(a))


@given(z=st.floats(-20, 20), data=st.data())
def test_numerical_slope_agrees_away_from_kinks(z, data):
    g = data.draw(st.sampled_from(ACTIVATIONS), label="g")
    h = np.cbrt(np.finfo(float).eps) * max(1.0, abs(z))
    assume(all(abs(z - k) > 2 * h for k in g.kinks))
    numeric = slopekit.numerical_derivative(g, z)
    assert abs(numeric - g.derivative(z)) <= 1e-8 * max(1.0, abs(g.derivative(z)))


@given(z=st.floats(-20, 20), data=st.data())
def test_numerical_slope_of_the_slope_is_the_second_derivative(z, data):
    g = data.draw(st.sampled_from(ACTIVATIONS), label="g")
    h = np.cbrt(np.finfo(float).eps) * max(1.0, abs(z))
    assume(all(abs(z - k) > 2 * h for k in g.kinks))
    numeric = slopekit.numerical_derivative(g.derivative, z)
    assert abs(numeric - g.second_derivative(z)) <= 1e-8 * max(1.0, abs(g.second_derivative(z)))


@given(z=arrays(st.floats(-100, 100)))
def test_sigmoid_symmetry_and_slope_identity(z):
    s = slopekit.sigmoid
    np.testing.assert_allclose(s(z) + s(-z), 1.0, rtol=0, atol=2 * np.finfo(float).eps)
    np.testing.assert_array_equal(s.derivative(z), s.derivative(-z))
    np.testing.assert_allclose(s.derivative(z), s(z) * s(-z), rtol=4e-16 * 4, atol=0)


@given(z=arrays(st.floats(-100, 100)))
def test_tanh_is_odd_and_its_slope_even(z):
    t = slopekit.tanh
    np.testing.assert_array_equal(t(-z), -t(z))
    np.testing.assert_array_equal(t.derivative(-z), t.derivative(z))
    np.testing.assert_allclose(t.derivative(z), 4 * slopekit.sigmoid.derivative(2 * z), rtol=2e-15, atol=0)
