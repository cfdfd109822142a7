"""The network's parts on their own: slopekit.losses and slopekit.optimizers."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from slopekit import losses, optimizers

logits = hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 5)),
                    elements=st.floats(-1e4, 1e4, allow_nan=False))


@given(logits)
def test_softmax_rows_are_probabilities_without_overflow(z):
    a = losses.softmax(z)
    assert np.isfinite(a).all() and (a >= 0).all()
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(a[np.arange(len(z)), z.argmax(axis=1)], a.max(axis=1))  # monotone


@given(logits, st.data())
def test_cross_entropies_are_finite_and_non_negative(z, data):
    labels = data.draw(hnp.arrays(np.int64, z.shape[0], elements=st.integers(0, z.shape[1] - 1)))
    ce = losses.categorical_cross_entropy(z, labels)
    bce = losses.binary_cross_entropy(z[:, 0], labels % 2)
    assert np.isfinite(ce) and ce >= 0
    assert np.isfinite(bce) and bce >= 0


@pytest.mark.parametrize("z, y, expected", [
    ([0.0], [1], np.log(2)),
    ([800.0], [1], 0.0),
    ([800.0], [0], 800.0),
    ([-800.0], [1], 800.0),
    ([40.0], [1], np.exp(-40.0)),  # softplus(-40) = log1p(e^-40), not 0 from 1 - a rounding
])
def test_binary_cross_entropy_values(z, y, expected):
    assert losses.binary_cross_entropy(z, y) == pytest.approx(expected, rel=1e-15, abs=0)


def test_categorical_cross_entropy_against_the_definition():
    rng = np.random.RandomState(0)
    z, y = rng.randn(8, 4), rng.randint(0, 4, 8)
    a = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert losses.categorical_cross_entropy(z, y) == pytest.approx(-np.log(a[np.arange(8), y]).mean(), rel=1e-14)


def test_half_squared_error_averages_over_samples_and_outputs():
    z, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 0.0], [0.0, 0.0]])
    assert losses.half_squared_error(z, y) == (1 + 4 + 9 + 16) / 2 / 4


@pytest.mark.parametrize("output", losses.outputs())
def test_delta_is_the_slope_of_the_mean_loss(output):
    """dz = (a - Y) / count, checked against central differences of the loss itself."""
    head = losses.for_output(output)
    rng = np.random.RandomState(1)
    k = 1 if output == "sigmoid" else 3
    z = rng.randn(5, k)
    y = {"sigmoid": rng.randint(0, 2, 5), "softmax": rng.randint(0, 3, 5), "identity": rng.randn(5, 3)}[output]
    Y = head.targets(y, 5, k, np.dtype(np.float64), "test")
    a = np.empty_like(z)
    head.forward(z, Y, a, head.scratch(5, k, np.float64))
    dz = head.delta(a, Y, np.empty_like(z))
    numeric = np.empty_like(z)
    for i in np.ndindex(z.shape):
        plus, minus = z.copy(), z.copy()
        plus[i] += 1e-6
        minus[i] -= 1e-6
        f = lambda zz: head.forward(zz, Y, np.empty_like(zz), head.scratch(5, k, np.float64))  # noqa: E731
        numeric[i] = (f(plus) - f(minus)) / 2e-6
    np.testing.assert_allclose(dz, numeric, rtol=1e-7, atol=1e-10)


def test_for_output_names_and_errors():
    assert losses.outputs() == ("identity", "sigmoid", "softmax")
    assert isinstance(losses.for_output(" Softmax "), losses.CategoricalCrossEntropy)
    with pytest.raises(ValueError, match="unknown output 'tanh'"):
        losses.for_output("tanh")
    with pytest.raises(TypeError, match="output"):
        losses.for_output(1)
    with pytest.raises(ValueError, match="at least 2"):
        losses.categorical_cross_entropy([0.0, 1.0], [0, 1])


# -- optimizers ----------------------------------------------------------------------------


def test_optimizer_registry():
    assert optimizers.names() == ("adam", "gd", "lbfgs", "momentum", "sgd")
    assert optimizers.get("SGD") == optimizers.GradientDescent()
    adam = optimizers.Adam(beta1=0.5)
    assert optimizers.get(adam) is adam
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        optimizers.get("rmsprop")
    with pytest.raises(TypeError, match="unknown hyperparameter 'beta'"):
        optimizers.get("adam", beta=0.5)
    with pytest.raises(TypeError, match="cannot be applied"):
        optimizers.get(adam, beta1=0.1)
    with pytest.raises(TypeError, match="optimizer must be"):
        optimizers.get(None)


@pytest.mark.parametrize("make, match", [
    (lambda: optimizers.Momentum(beta=1.0), "beta must lie in"),
    (lambda: optimizers.Momentum(beta=-0.1), "beta must lie in"),
    (lambda: optimizers.Adam(beta2=1.5), "beta2 must lie in"),
    (lambda: optimizers.Adam(eps=0.0), "eps must be positive"),
    (lambda: optimizers.Adam(beta1=float("nan")), "finite"),
])
def test_bad_hyperparameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_momentum_with_beta_zero_is_gradient_descent():
    a, b = np.array([1.0, -2.0]), np.array([1.0, -2.0])
    gd, momentum = optimizers.GradientDescent().start([a]), optimizers.Momentum(beta=0.0).start([b])
    for g in ([0.5, 0.25], [-1.0, 3.0]):
        gd.step([np.array(g)], 0.1)
        momentum.step([np.array(g)], 0.1)
    np.testing.assert_array_equal(a, b)
    assert gd.t == momentum.t == 2


def test_steps_keep_the_dtype_and_update_in_place():
    for rule in ("gd", "momentum", "adam"):
        W = np.ones((2, 3), np.float32)
        stepper = optimizers.get(rule).start([W])
        stepper.step([np.full((2, 3), 0.5, np.float32)], 0.1)
        assert W.dtype == np.float32 and (W < 1).all() and stepper.params[0] is W
