"""Sample weights in the training core: a weighted mean loss, as scikit-learn's MLP has it.

References that cannot share the code's bug: finite differences of the loss
(`slopekit.gradient_check`), the same samples repeated (integer weights),
scikit-learn's own ``_backprop`` on the same parameters, and the PyTorch
engine against the NumPy one.
"""

import numpy as np
import pytest

import slopekit

CASES = [("sigmoid", 1), ("softmax", 3), ("identity", 2)]


def data(output, k, n=30, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    y = {"sigmoid": rng.randint(0, 2, n), "softmax": rng.randint(0, 3, n), "identity": rng.randn(n, k)}[output]
    return X, y, rng


def close(a, b):
    return max(float(np.abs(np.asarray(a[k]) - np.asarray(b[k])).max()) for k in a)


@pytest.mark.parametrize("output, k", CASES)
def test_the_weighted_gradient_is_the_slope_of_the_weighted_loss(output, k):
    X, y, rng = data(output, k)
    net = slopekit.Network([3, 5, k], "tanh", output, seed=1)
    w = rng.uniform(0.0, 3.0, X.shape[0])
    assert slopekit.gradient_check(net, X, y, sample_weight=w) < 1e-7
    assert slopekit.gradient_check(net, X, y, sample_weight=w, l2=0.5) < 1e-7
    # and the weights matter: the unweighted gradient is another one
    assert close(net.gradients(X, y, sample_weight=w), net.gradients(X, y)) > 1e-3


@pytest.mark.parametrize("output, k", CASES)
def test_integer_weights_are_repeated_rows(output, k):
    X, y, rng = data(output, k)
    w = rng.randint(0, 4, X.shape[0])
    again = np.repeat(np.arange(X.shape[0]), w)
    net = slopekit.Network([3, 5, k], "tanh", output, seed=1)
    loss, grads = net.loss_and_gradients(X, y, sample_weight=w, l2=0.3)
    loss_r, grads_r = net.loss_and_gradients(X[again], y[again], l2=0.3)
    assert abs(loss - loss_r) < 1e-12 and close(grads, grads_r) < 1e-12
    for optimizer in ("gd", "adam"):
        a = slopekit.Network([3, 5, k], "tanh", output, seed=1).fit(X, y, epochs=20, learning_rate=0.1, l2=0.2,
                                                                   optimizer=optimizer, sample_weight=w)
        b = slopekit.Network([3, 5, k], "tanh", output, seed=1).fit(X[again], y[again], epochs=20, learning_rate=0.1,
                                                                   l2=0.2, optimizer=optimizer)
        assert close(a.parameters(), b.parameters()) < 1e-12
        assert np.allclose(a.history, b.history, rtol=0, atol=1e-12)


def test_unit_weights_change_nothing():
    X, y, _ = data("softmax", 3)
    a = slopekit.Network([3, 5, 3], "relu", "softmax").fit(X, y, epochs=5, learning_rate=0.1, batch_size=8,
                                                          optimizer="adam", sample_weight=np.ones(30))
    b = slopekit.Network([3, 5, 3], "relu", "softmax").fit(X, y, epochs=5, learning_rate=0.1, batch_size=8,
                                                          optimizer="adam")
    assert close(a.parameters(), b.parameters()) < 1e-14
    assert np.allclose(a.history, b.history, rtol=1e-14)


@pytest.mark.parametrize("output, k", CASES[:2])
def test_the_weighted_loss_and_gradient_are_scikit_learns(output, k):
    from sklearn.neural_network import MLPClassifier

    X, y, rng = data(output, k)
    w = rng.uniform(0.0, 2.0, X.shape[0])
    net = slopekit.Network([3, 5, k], "tanh", output, seed=3)
    mlp = MLPClassifier(hidden_layer_sizes=(5,), activation="tanh", alpha=0.7, max_iter=1)
    mlp.partial_fit(X, y, classes=np.unique(y))  # sets up the layers; the parameters are replaced below
    p = net.parameters()
    mlp.coefs_ = [p["W1"].T.copy(), p["W2"].T.copy()]
    mlp.intercepts_ = [p["b1"].copy(), p["b2"].copy()]
    Y = np.eye(k)[y] if k > 1 else y.reshape(-1, 1).astype(float)
    activations = [X, None, None]
    coef_grads = [np.empty_like(c) for c in mlp.coefs_]
    intercept_grads = [np.empty_like(b) for b in mlp.intercepts_]
    loss, coef_grads, intercept_grads = mlp._backprop(X, Y, w, activations, [None, None], coef_grads,
                                                      intercept_grads)
    ours, grads = net.loss_and_gradients(X, y, l2=0.7, sample_weight=w)
    assert abs(ours - loss) < 1e-12
    assert np.allclose(grads["W1"], coef_grads[0].T, rtol=1e-12, atol=1e-14)
    assert np.allclose(grads["b2"], intercept_grads[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("output, k", CASES)
def test_weights_on_torch_are_weights_on_numpy(output, k):
    torch = pytest.importorskip("torch")
    X, y, rng = data(output, k)
    w = rng.uniform(0.0, 2.0, X.shape[0])
    w[:8] = 0.0  # a whole mini-batch may weigh nothing: its gradient is 0, not 0 / 0
    settings = dict(epochs=4, learning_rate=0.05, batch_size=8, optimizer="adam", l2=0.1, rng=5)
    a = slopekit.Network([3, 5, k], "tanh", output, seed=1).fit(X, y, sample_weight=w, **settings)
    b = slopekit.Network([3, 5, k], "tanh", output, seed=1).fit(torch.tensor(X), torch.tensor(y),
                                                               sample_weight=torch.tensor(w), **settings)
    assert close(a.parameters(), {key: v.numpy() for key, v in b.parameters().items()}) < 1e-12
    assert np.allclose(a.history, b.history, rtol=1e-12)
    grads = b.gradients(torch.tensor(X), torch.tensor(y), sample_weight=torch.tensor(w))
    assert close(a.gradients(X, y, sample_weight=w), {key: v.numpy() for key, v in grads.items()}) < 1e-12


class InOrder(np.random.RandomState):
    """A generator whose shuffles keep the order, so that the mini-batches are known."""

    def permutation(self, n):
        return np.arange(n)


def test_a_batch_of_zero_weights_takes_no_step():
    X, y, _ = data("sigmoid", 1, n=16)
    w = np.r_[np.zeros(8), np.ones(8)]
    net = slopekit.Network([3, 4, 1], "tanh").fit(X, y, epochs=1, learning_rate=0.1, batch_size=8, sample_weight=w,
                                                 rng=InOrder(0))
    # the first batch weighs 0: no step (not 0 / 0); the second is one full-batch step on its rows
    again = slopekit.Network([3, 4, 1], "tanh").fit(X[8:], y[8:], epochs=1, learning_rate=0.1)
    assert close(net.parameters(), again.parameters()) < 1e-15
    assert close(net.parameters(), slopekit.Network([3, 4, 1], "tanh").parameters()) > 1e-3
    # the epoch's loss: the batch losses weighted by the batches' weights (here the second batch's alone)
    assert abs(net.history[0] - slopekit.Network([3, 4, 1], "tanh").loss(X[8:], y[8:])) < 1e-15


def test_weighted_sums_of_shards_add_up():
    X, y, rng = data("softmax", 3)
    w = rng.uniform(0.0, 2.0, 30)
    net = slopekit.Network([3, 5, 3], "tanh", "softmax")
    total, sums = net.loss_and_gradients(X, y, sample_weight=w, reduction="sum")
    parts = [net.loss_and_gradients(X[s], y[s], sample_weight=w[s], reduction="sum")
             for s in (slice(0, 10), slice(10, 30), slice(30, 30))]
    assert abs(total - sum(p[0] for p in parts)) < 1e-12
    assert np.allclose(sums["W1"], sum(p[1]["W1"] for p in parts), rtol=1e-13)
    assert abs(total / w.sum() - net.loss(X, y, sample_weight=w)) < 1e-14
    zero, grads = net.loss_and_gradients(X[:4], y[:4], sample_weight=np.zeros(4), reduction="sum")
    assert zero == 0 and not any(g.any() for g in grads.values())


def test_partial_fit_takes_weights_and_fit_equals_its_calls():
    X, y, rng = data("sigmoid", 1)
    w = rng.uniform(0.5, 2.0, 30)
    a = slopekit.Network([3, 4, 1], "tanh").fit(X, y, epochs=3, learning_rate=0.1, batch_size=8, optimizer="adam",
                                               sample_weight=w)
    b = slopekit.Network([3, 4, 1], "tanh")
    for _ in range(3):
        b.partial_fit(X, y, learning_rate=0.1, batch_size=8, optimizer="adam", sample_weight=w)
    assert close(a.parameters(), b.parameters()) == 0.0


@pytest.mark.parametrize("weights, error, match", [
    (np.ones(29), ValueError, "29 weights but X has 30"),
    (np.ones((30, 1)), ValueError, "1-D"),
    (np.r_[-1.0, np.ones(29)], ValueError, ">= 0"),
    (np.r_[np.nan, np.ones(29)], ValueError, "NaN"),
    (np.r_[np.inf, np.ones(29)], ValueError, "NaN or infinity"),
    (np.zeros(30), ValueError, "all 0"),
    (np.array(["a"] * 30), TypeError, "real numbers"),
    (3.0, ValueError, "1-D"),
])
def test_bad_weights_are_refused_before_anything_changes(weights, error, match):
    X, y, _ = data("sigmoid", 1)
    net = slopekit.Network([3, 4, 1], "tanh")
    before = net.parameters()
    for call in (lambda: net.fit(X, y, epochs=1, learning_rate=0.1, sample_weight=weights),
                 lambda: net.partial_fit(X, y, learning_rate=0.1, sample_weight=weights),
                 lambda: net.loss(X, y, sample_weight=weights),
                 lambda: net.gradients(X, y, sample_weight=weights)):
        with pytest.raises(error, match=match):
            call()
    assert close(before, net.parameters()) == 0 and net.history == []


def test_the_callers_weights_are_not_written_to():
    X, y, _ = data("sigmoid", 1)
    w = np.linspace(0.1, 2.0, 30)
    w.setflags(write=False)
    slopekit.Network([3, 4, 1]).fit(X, y, epochs=2, learning_rate=0.1, batch_size=8, sample_weight=w)
    assert np.array_equal(w, np.linspace(0.1, 2.0, 30))


@pytest.mark.parametrize("output, k", CASES)
def test_lbfgs_takes_weights_as_repeated_rows(output, k):
    pytest.importorskip("scipy")
    X, y, rng = data(output, k)
    w = rng.randint(0, 4, X.shape[0])
    again = np.repeat(np.arange(X.shape[0]), w)
    a = slopekit.Network([3, 5, k], "tanh", output, seed=1).fit(X, y, epochs=15, optimizer="lbfgs", l2=0.1,
                                                               sample_weight=w)
    b = slopekit.Network([3, 5, k], "tanh", output, seed=1).fit(X[again], y[again], epochs=15, optimizer="lbfgs",
                                                               l2=0.1)
    assert close(a.parameters(), b.parameters()) < 1e-8
    assert np.allclose(a.history, b.history, rtol=1e-10)


def test_weights_with_dask_arrays_are_refused():
    da = pytest.importorskip("dask.array")
    X, y, _ = data("sigmoid", 1)
    net = slopekit.Network([3, 4, 1])
    with pytest.raises(ValueError, match="sample_weight is not supported with Dask"):
        net.fit(da.from_array(X, chunks=10), da.from_array(y, chunks=10), epochs=1, learning_rate=0.1,
                sample_weight=np.ones(30))
    with pytest.raises(ValueError, match="sample_weight is not supported with Dask"):
        net.loss(da.from_array(X, chunks=10), da.from_array(y, chunks=10), sample_weight=np.ones(30))
