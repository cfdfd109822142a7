"""gradient_check: backpropagation agrees with the numerical slope of the loss for every activation and output."""

import numpy as np
import pytest

import slopekit
from slopekit import Network

OUTPUTS = {"sigmoid": 1, "softmax": 3, "identity": 2}


def data(output, n=9, n_features=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, n_features)
    y = {"sigmoid": rng.randint(0, 2, n), "softmax": np.arange(n) % 3, "identity": rng.randn(n, 2)}[output]
    return X, y


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", slopekit.names())
def test_backprop_matches_the_numerical_gradient(hidden, output):
    net = Network([3, 5, 4, OUTPUTS[output]], hidden, output, seed=1)
    X, y = data(output)
    assert slopekit.gradient_check(net, X, y) < 1e-7
    assert slopekit.gradient_check(net, X, y, l2=0.5) < 1e-7


@pytest.mark.parametrize("output", OUTPUTS)
def test_mixed_activations_and_kink_conventions(output):
    hidden = [slopekit.get("relu", at_zero=1), slopekit.get("leaky_relu", slope=0.001), "sigmoid"]
    net = Network([3, 6, 5, 4, OUTPUTS[output]], hidden, output, seed=2)
    assert slopekit.gradient_check(net, *data(output)) < 1e-7


def test_no_hidden_layer_is_logistic_regression():
    net = Network([3, 1], output="sigmoid", seed=3)
    assert slopekit.gradient_check(net, *data("sigmoid")) < 1e-7


def test_trained_network_and_saturated_units():
    X, y = data("sigmoid", n=30)
    net = Network([3, 6, 1], "tanh", seed=0).fit(X, y, epochs=300, learning_rate=1.0)
    assert slopekit.gradient_check(net, X, y) < 1e-7


def test_float32_network_is_checked_in_float64_and_left_alone():
    net = Network([3, 5, 3], "tanh", "softmax", dtype=np.float32, seed=4)
    before = {k: v.tobytes() for k, v in net.parameters().items()}
    assert slopekit.gradient_check(net, *data("softmax")) < 1e-7
    assert {k: v.tobytes() for k, v in net.parameters().items()} == before
    assert net.dtype == np.float32


def test_the_check_does_not_change_the_network():
    net = Network([3, 4, 1], "relu", seed=5)
    net.history = [0.3]
    before = {k: v.tobytes() for k, v in net.parameters().items()}
    slopekit.gradient_check(net, *data("sigmoid"))
    assert {k: v.tobytes() for k, v in net.parameters().items()} == before
    assert net.history == [0.3]


def test_a_wrong_gradient_is_caught():
    """Break the backward pass (forget the activation's slope) and the check must notice."""
    net = Network([3, 5, 1], "tanh", seed=6)
    X, y = data("sigmoid")
    good = slopekit.gradient_check(net, X, y)

    class NoSlope(type(net.hidden[0])):
        def backward(self, da, *, z=None, a=None, out=None):
            np.copyto(out, da)
            return out

    broken = Network([3, 5, 1], NoSlope(), seed=6)
    assert good < 1e-7
    assert slopekit.gradient_check(broken, X, y) > 1e-3


def test_at_a_minimum_the_ratio_measures_only_rounding():
    """Documented: where the gradient is exactly 0 the ratio is about 1, whatever the code."""
    net = Network([2, 1], output="identity")
    net.set_parameters({"W1": [[1.0, 0.0]], "b1": [0.0]})
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert not any(g.any() for g in net.gradients(X, X[:, 0]).values())
    assert slopekit.gradient_check(net, X, X[:, 0]) == pytest.approx(1.0)


@pytest.mark.parametrize("eps, error", [(0.0, ValueError), (-1e-7, ValueError), (float("nan"), ValueError),
                                        ("small", TypeError)])
def test_bad_eps(eps, error):
    with pytest.raises(error, match="eps"):
        slopekit.gradient_check(Network([3, 1]), *data("sigmoid"), eps=eps)


def test_bad_data_is_reported_as_for_the_network():
    X, y = data("sigmoid")
    with pytest.raises(ValueError, match="X has 2 features"):
        slopekit.gradient_check(Network([3, 1]), X[:, :2], y)
    with pytest.raises(ValueError, match="0 or 1"):
        slopekit.gradient_check(Network([3, 1]), X, y + 1)
