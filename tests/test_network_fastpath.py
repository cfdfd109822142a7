"""The fast paths of training: the layers' kernels, the folded learning rate, flat parameters, per-batch gathers.

Each fast path is checked against a plain reference written from public calls
only (the activations' ``__call__`` and ``backward``, ``net.parameters``,
``net.gradients``, ``set_parameters``, textbook update formulas): bit for bit
where the fast path promises the same operations, and to a tight tolerance
where it rounds differently on purpose (the learning rate folded into
:math:`dZ_L`). The NumPy engine (`slopekit._engine_numpy.NumpyLayers`) is used
directly where a property belongs to it. No timings here.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pytest

import slopekit
from slopekit import Network, losses, optimizers
from slopekit._engine_numpy import NumpyLayers
from slopekit._flat import shapes_of, views
from slopekit.activations import Activation
from slopekit.activations._base import BLOCKED_FROM, LIGHT_BLOCKED_BYTES

HIDDEN = slopekit.names()
DTYPES = [np.float32, np.float64]
OUTPUTS = {"sigmoid": 1, "softmax": 3, "identity": 2}
#: The activations whose one-pass kernels run in blocks from LIGHT_BLOCKED_BYTES (with more than one thread).
LIGHT = ["relu", "leaky_relu", "sigmoid", "tanh"]


def data(n=23, n_in=3, output="softmax", seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, n_in).astype(dtype)
    k = OUTPUTS[output]
    y = {"sigmoid": rng.randint(0, 2, n), "softmax": rng.randint(0, k, n),
         "identity": rng.randn(n, k)}[output]
    return X, y


def twin(net):
    other = Network(net.layer_sizes, list(net.hidden), net.output, seed=net.seed, dtype=net.dtype, init=net.init)
    return other.set_parameters(net.parameters())


def encoded(net, y, n):
    """``y`` as the target matrix ``Y``, by the output's public `~slopekit.losses.OutputLoss.targets`."""
    return losses.for_output(net.output).targets(y, n, net.layer_sizes[-1], net.dtype, "test")


def public_gradients(net, X, y, factor=1.0):
    r"""The lecture's backpropagation through public calls only.

    ``Z = A W^T + b``, ``A = g(Z)`` by ``g.__call__``; :math:`dZ_L = (A_L - Y) / n`
    (:math:`/ (nk)` for ``"identity"``) from the output activation's
    ``__call__``; ``dW = dZ^T A``, ``db = 1^T dZ``, ``dA = dZ W`` and ``dZ`` by
    ``g.backward`` (from ``a`` where the activation allows, else from ``z``).
    """
    p = net.parameters()
    X = np.asarray(X, net.dtype)
    n, L, k = X.shape[0], len(net.layer_sizes) - 1, net.layer_sizes[-1]
    Y = encoded(net, y, n)
    Z, A = [None], [X]
    for l in range(1, L + 1):
        z = np.matmul(A[-1], p[f"W{l}"].T)
        np.add(z, p[f"b{l}"], out=z)
        Z.append(z)
        if l < L:
            A.append(net.hidden[l - 1](z))
    a_out = Z[L] if net.output == "identity" else losses.for_output(net.output).activation(Z[L])
    scale = 1.0 / (n * k) if net.output == "identity" else 1.0 / n
    dZ = np.subtract(a_out, Y)
    np.multiply(dZ, scale * factor, out=dZ)
    grads = {}
    for l in range(L, 0, -1):
        grads[f"W{l}"] = np.matmul(dZ.T, A[l - 1])
        grads[f"b{l}"] = np.matmul(np.ones(n, net.dtype), dZ)
        if l == 1:
            break
        dA = np.matmul(dZ, p[f"W{l}"])
        g = net.hidden[l - 2]
        dZ = g.backward(dA, a=A[l - 1]) if g.has_derivative_from_output else g.backward(dA, z=Z[l - 1])
    return {name: grads[name] for name in p}


def engine(net, rows, batch=False):
    """The NumPy engine's layers for ``net`` (its interface: the sizes, activations, output loss, dtype, rows)."""
    return NumpyLayers(net.layer_sizes, net.hidden, losses.for_output(net.output), net.dtype, rows, batch)


def weights_and_biases(net):
    p = net.parameters()
    L = len(net.layer_sizes) - 1
    return [p[f"W{l}"] for l in range(1, L + 1)], [p[f"b{l}"] for l in range(1, L + 1)]


# -- the layers' kernels give the public calls' bits --------------------------------------------------


@pytest.fixture
def two_threads():
    """Two threads, so that large arrays run in blocks (the kernels' results do not depend on it)."""
    before = slopekit.get_num_threads()
    slopekit.set_num_threads(2)
    yield
    slopekit.set_num_threads(before)


def kernel_sizes(name):
    """Rows of 8 units: small, just below and just above BLOCKED_FROM, and above the light kernels' threshold."""
    rows = [16, BLOCKED_FROM // 8 - 1, BLOCKED_FROM // 8 + 1]
    if name in LIGHT:
        rows.append(LIGHT_BLOCKED_BYTES // np.dtype(np.float32).itemsize // 8 + 3)
    return rows


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", HIDDEN)
def test_layer_kernels_give_the_public_calls_bits(name, dtype, two_threads):
    g = slopekit.get(name)
    rng = np.random.RandomState(0)
    for rows in kernel_sizes(name):
        z = (rng.randn(rows, 8) * 3).astype(dtype)
        z[::7, 3] = 0  # the kinks' conventions
        da = rng.randn(rows, 8).astype(dtype)
        forward, backward = g.layer_kernels(dtype, z.size)
        a = np.empty_like(z)
        with np.errstate(all="ignore"):
            forward(z, a)
            want_a = g(z)
            np.testing.assert_array_equal(a, want_a, err_msg=f"forward, {rows} rows")
            dz = np.empty_like(z)
            backward(da, z, a, dz)
            want = g.backward(da, a=a) if g.has_derivative_from_output else g.backward(da, z=z)
        np.testing.assert_array_equal(dz, want, err_msg=f"backward, {rows} rows")
        assert a.dtype == dz.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_gradients_equal_public_calls_bit_for_bit(hidden, dtype):
    X, y = data(dtype=dtype)
    net = Network([3, 5, 4, 3], [hidden, "tanh"], "softmax", seed=3, dtype=dtype)
    with np.errstate(all="ignore"):
        got, want = net.gradients(X, y), public_gradients(net, X, y)
    assert list(got) == list(want)
    for k in want:
        assert got[k].dtype == dtype
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)


@pytest.mark.parametrize("output", sorted(OUTPUTS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_gradients_of_every_output_equal_public_calls_bit_for_bit(output, dtype):
    X, y = data(output=output, dtype=dtype)
    net = Network([3, 4, 4, OUTPUTS[output]], ["sigmoid", "relu"], output, seed=2, dtype=dtype)
    got, want = net.gradients(X, y), public_gradients(net, X, y)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)


@pytest.mark.parametrize("hidden", ["relu", slopekit.get("relu", at_zero=1), slopekit.get("leaky_relu", slope=0.0),
                                    "gelu", "silu", "tanh"], ids=repr)
def test_forward_equals_public_calls_bit_for_bit(hidden):
    X, _ = data(n=17)
    net = Network([3, 6, 2], hidden, "identity", seed=1)
    (W1, W2), (b1, b2) = weights_and_biases(net)
    g = net.hidden[0]
    np.testing.assert_array_equal(net.predict(X), g(X @ W1.T + b1) @ W2.T + b2)


@pytest.mark.parametrize("output", sorted(OUTPUTS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_the_engine_s_factor_scales_every_gradient(output, dtype):
    X, y = data(output=output, dtype=dtype)
    net = Network([3, 4, 4, OUTPUTS[output]], ["tanh", "relu"], output, seed=2, dtype=dtype)
    layers = engine(net, len(X))
    Y = encoded(net, y, len(X))
    W, b = weights_and_biases(net)
    loss = layers.forward_loss(X, Y, W, b)
    assert loss == net.loss(X, y)
    plain = [g.copy() for g in layers.backward(X, Y, W)]
    folded = [g.copy() for g in layers.backward(X, Y, W, 0.37)]
    rtol, atol = (1e-5, 1e-7) if dtype == np.float32 else (1e-13, 1e-16)
    for p, f in zip(plain, folded):
        np.testing.assert_allclose(f, 0.37 * p, rtol=rtol, atol=atol)
    want = public_gradients(net, X, y)  # factor 1 is exactly the unfolded gradient, the public calls' bits
    for name, p in zip(want, plain):
        np.testing.assert_array_equal(p, want[name], err_msg=name)
    # dZ_L itself: (A_L - Y) times the loss's scale times the factor, one rounding each
    scale = 1.0 / (len(X) * OUTPUTS[output]) if output == "identity" else 1.0 / len(X)
    for factor in (1.0, 0.5, 0.37):
        dZ = layers.output_delta(Y, factor)
        np.testing.assert_array_equal(dZ, (layers.A[-1] - Y) * (scale * factor))


@pytest.mark.parametrize("output", losses.outputs())
def test_delta_is_exact(output):
    loss = losses.for_output(output)
    rng = np.random.RandomState(0)
    a, Y = rng.rand(7, 2), rng.rand(7, 2)
    out = np.empty_like(a)
    assert loss.delta(a, Y, out=out) is out
    scale = 1.0 / 14 if output == "identity" else 1.0 / 7
    assert loss.scale(7, 2) == scale
    np.testing.assert_array_equal(out, (a - Y) * scale)


# -- subclasses that override the public methods, or the kernels -----------------------------------------


@dataclass(frozen=True)
class CountingTanh(slopekit.Tanh):
    calls: list = field(default_factory=list, compare=False)

    def __call__(self, z, *, out=None):
        self.calls.append("call")
        return super().__call__(z, out=out)

    def backward(self, da, *, z=None, a=None, out=None):
        self.calls.append("backward")
        return super().backward(da, z=z, a=a, out=out)


@dataclass(frozen=True)
class TwiceTanh(slopekit.Tanh):
    """Overrides only the kernels: every path must run them too."""

    def _value_np(self, z, out):
        np.tanh(z, out=out)
        np.multiply(out, 2.0, out=out)

    def _from_output_np(self, a, out):
        np.multiply(a, 0.5, out=out)
        np.multiply(out, out, out=out)
        np.subtract(1.0, out, out=out)
        np.multiply(out, 2.0, out=out)


@pytest.mark.parametrize("rows", [4, BLOCKED_FROM])
def test_overridden_public_methods_are_called_through_the_layer_kernels(rows):
    g = CountingTanh()
    forward, backward = g.layer_kernels(np.float64, rows * 2)
    z, a, dz = np.linspace(-2, 2, rows * 2).reshape(rows, 2), np.empty((rows, 2)), np.empty((rows, 2))
    forward(z, a)
    backward(np.ones_like(z), z, a, dz)
    assert g.calls == ["call", "backward"]
    np.testing.assert_array_equal(a, np.tanh(z))
    np.testing.assert_array_equal(dz, slopekit.tanh.backward(np.ones_like(z), a=a))


def test_overridden_public_methods_are_called_in_training():
    g = CountingTanh()
    X, y = data(output="sigmoid")
    net = Network([3, 4, 1], g, seed=0)
    ref = Network([3, 4, 1], "tanh", seed=0)
    net.fit(X, y, epochs=3, learning_rate=0.1)
    ref.fit(X, y, epochs=3, learning_rate=0.1)
    # the loss before training and after each of the 3 steps; one backward per step
    assert g.calls.count("call") == 4 and g.calls.count("backward") == 3
    for k, p in net.parameters().items():
        np.testing.assert_array_equal(p, ref.parameters()[k], err_msg=k)


def test_overridden_kernels_are_used_by_every_path():
    g = TwiceTanh()
    z = np.linspace(-2, 2, 12).reshape(6, 2)
    for n_elements in (z.size, BLOCKED_FROM + 1):
        forward, backward = g.layer_kernels(np.float64, n_elements)
        a, dz = np.empty_like(z), np.empty_like(z)
        forward(z, a)
        np.testing.assert_array_equal(a, 2 * np.tanh(z))
        backward(np.ones_like(z), z, a, dz)
        np.testing.assert_allclose(dz, 2 * (1 - np.tanh(z) ** 2), rtol=1e-15)
    X, y = data(output="identity")
    net = Network([3, 4, 2], g, "identity", seed=0)
    got, want = net.gradients(X, y), public_gradients(net, X, y)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    (W1, W2), (b1, b2) = weights_and_biases(net)
    np.testing.assert_array_equal(net.predict(X), 2 * np.tanh(X @ W1.T + b1) @ W2.T + b2)


def through_public_methods(g):
    """A copy of ``g`` whose class overrides ``__call__`` and ``backward`` (by calling its own): the public path."""
    base = type(g)

    class Public(base):
        def __call__(self, z, *, out=None):
            return super().__call__(z, out=out)

        def backward(self, da, *, z=None, a=None, out=None):
            return super().backward(da, z=z, a=a, out=out)

    return Public(**{name: getattr(g, name) for name in g.__dataclass_fields__})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_size", [None, 5])
@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "leaky_relu", "gelu", "softmax",
                                    slopekit.get("relu", at_zero=1.0)], ids=repr)
def test_fit_with_the_chosen_kernels_equals_fit_through_the_public_methods(hidden, batch_size, dtype):
    X, y = data(output="softmax", dtype=dtype)
    g = slopekit.get(hidden)
    nets = []
    for act in (g, through_public_methods(g)):
        net = Network([3, 6, 5, 3], act, "softmax", seed=1, dtype=dtype)
        net.fit(X, y, epochs=4, learning_rate=0.3, batch_size=batch_size)
        nets.append(net)
    assert type(nets[1].hidden[0]) is not type(g)
    assert nets[0].history == nets[1].history
    for k, v in nets[0].parameters().items():
        np.testing.assert_array_equal(v, nets[1].parameters()[k], err_msg=k)


# -- fit: the folded learning rate, flat parameters, per-batch gathers -----------------------------------


def reference_fit(net, X, y, *, epochs, learning_rate, batch_size=None, l2=0.0, rule="gd", beta=0.9):
    """Training from `net.gradients`, with the documented shuffle and the textbook updates."""
    ref = twin(net)
    n = len(X)
    rng = np.random.RandomState(net.seed)
    v = {k: 0.0 for k in ref.parameters()}
    for _ in range(epochs):
        order = rng.permutation(n) if batch_size else np.arange(n)
        step = batch_size or n
        for start in range(0, n, step):
            idx = order[start:start + step]
            grads = ref.gradients(X[idx], y[idx])
            p = ref.parameters()
            for k in p:
                g = grads[k] + (l2 / n * p[k] if k[0] == "W" else 0.0)  # the L2 term of all n samples
                if rule == "gd":
                    p[k] = p[k] - learning_rate * g
                else:
                    v[k] = beta * v[k] + (1 - beta) * g
                    p[k] = p[k] - learning_rate * v[k]
            ref.set_parameters(p)
    return ref


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_size", [None, 1, 5, 8, 22, 23])  # 23 samples: last batches of 3, 7, 1; full
@pytest.mark.parametrize("rule", ["gd", "momentum"])
def test_fit_with_the_folded_learning_rate_follows_the_reference(dtype, batch_size, rule):
    X, y = data(dtype=dtype)
    net = Network([3, 5, 3], "tanh", "softmax", seed=4, dtype=dtype)
    ref = reference_fit(net, X, y, epochs=3, learning_rate=0.2, batch_size=batch_size, l2=0.05, rule=rule)
    net.fit(X, y, epochs=3, learning_rate=0.2, batch_size=batch_size, l2=0.05, optimizer=rule)
    rtol, atol = (2e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-14)
    for k, p in net.parameters().items():
        assert p.dtype == dtype
        np.testing.assert_allclose(p, ref.parameters()[k], rtol=rtol, atol=atol, err_msg=k)


@pytest.mark.parametrize("hidden", HIDDEN)
def test_fit_with_every_hidden_activation_follows_the_reference(hidden):
    X, y = data(output="sigmoid", n=19)
    net = Network([3, 4, 1], hidden, "sigmoid", seed=5)
    with np.errstate(all="ignore"):
        ref = reference_fit(net, X, y, epochs=2, learning_rate=0.3, batch_size=7)
        net.fit(X, y, epochs=2, learning_rate=0.3, batch_size=7)
    for k, p in net.parameters().items():
        np.testing.assert_allclose(p, ref.parameters()[k], rtol=1e-12, atol=1e-15, err_msg=k)


@pytest.mark.parametrize("batch_size", [None, 6])
def test_adam_is_unchanged_bit_for_bit(batch_size):
    """Adam folds nothing: fit equals the stepper's own `step` on `net.gradients`, bit for bit."""
    X, y = data()
    net = Network([3, 5, 3], "relu", "softmax", seed=6)
    ref = twin(net)
    net.fit(X, y, epochs=2, learning_rate=0.01, batch_size=batch_size, optimizer="adam")
    p = ref.parameters()
    stepper = optimizers.Adam().start(list(p.values()))  # updates the arrays of p in place
    rng = np.random.RandomState(ref.seed)
    for _ in range(2):
        order = rng.permutation(len(X)) if batch_size else np.arange(len(X))
        for start in range(0, len(X), batch_size or len(X)):
            idx = order[start:start + (batch_size or len(X))]
            grads = ref.gradients(X[idx], y[idx])
            stepper.step([grads[k] for k in p], 0.01)
            ref.set_parameters(p)
    assert stepper.t == 2 * (1 if batch_size is None else 4)
    for k, v in net.parameters().items():
        np.testing.assert_array_equal(v, p[k], err_msg=k)


def test_parameters_are_copies_and_set_parameters_after_fit_is_kept():
    X, y = data()
    net = Network([3, 5, 3], "relu", "softmax", seed=0)
    before = net.parameters()
    net.fit(X, y, epochs=1, learning_rate=0.1)
    copies = net.parameters()
    copies["W1"][...] = 0
    assert not np.array_equal(net.parameters()["W1"], copies["W1"])
    # fit once more, then put the first parameters back: the next fit starts from them, as a fresh network's
    net.fit(X, y, epochs=1, learning_rate=0.1)
    net.set_parameters(before)
    for k, p in net.parameters().items():
        np.testing.assert_array_equal(p, before[k])
    net.fit(X, y, epochs=2, learning_rate=0.1, optimizer="momentum")
    fresh = Network([3, 5, 3], "relu", "softmax", seed=0).fit(X, y, epochs=2, learning_rate=0.1, optimizer="momentum")
    for k, p in net.parameters().items():
        np.testing.assert_array_equal(p, fresh.parameters()[k], err_msg=k)
    # two fits of one epoch are one fit of two (plain gradient descent keeps no state)
    again = Network([3, 5, 3], "relu", "softmax", seed=0)
    again.fit(X, y, epochs=1, learning_rate=0.1)
    again.fit(X, y, epochs=1, learning_rate=0.1)
    once = Network([3, 5, 3], "relu", "softmax", seed=0).fit(X, y, epochs=2, learning_rate=0.1)
    for k, p in again.parameters().items():
        np.testing.assert_array_equal(p, once.parameters()[k], err_msg=k)


def test_parameters_after_fit_save_and_load(tmp_path):
    X, y = data()
    net = Network([3, 5, 3], "relu", "softmax", seed=0)
    net.fit(X, y, epochs=2, learning_rate=0.1, batch_size=4)
    net.save(tmp_path / "net.npz")
    loaded = Network.load(tmp_path / "net.npz")
    for k, p in net.parameters().items():
        np.testing.assert_array_equal(p, loaded.parameters()[k])


@pytest.mark.parametrize("batch_size", [None, 5])
def test_divergence_restores_the_parameters_exactly(batch_size):
    X, y = data(output="identity")
    y = y * 1e3
    net = Network([3, 8, 2], "relu", "identity", seed=0)
    net.fit(X, y, epochs=2, learning_rate=1e-6)
    start = twin(net)
    with pytest.raises(FloatingPointError):
        net.fit(X, y, epochs=500, learning_rate=50.0, batch_size=batch_size)
    good_epochs = len(net.history)  # the epochs whose loss was finite: the parameters are as after them
    assert all(np.isfinite(p).all() for p in net.parameters().values())
    replay = twin(start)
    if good_epochs:
        replay.fit(X, y, epochs=good_epochs, learning_rate=50.0, batch_size=batch_size)
    for k, p in net.parameters().items():  # mini-batches: as at the start of the failing epoch, the same thing
        np.testing.assert_array_equal(p, replay.parameters()[k], err_msg=k)


def test_mini_batches_gather_the_documented_shuffle():
    """Gathering each batch on its own uses the same rows, in the same order, as shuffling all rows first."""
    X, y = data(n=29)
    seen = []

    @dataclass(frozen=True)
    class Recorder(Activation):
        """The identity, recording the ``z`` each forward call of a layer gets."""

        name = "recorder"

        def _value_np(self, z, out):
            np.copyto(out, z)

        def _derivative_np(self, z, out):
            out[...] = 1.0

        def _from_output_np(self, a, out):
            out[...] = 1.0

        def layer_kernels(self, dtype, n_elements, xp=None):
            forward, backward = super().layer_kernels(dtype, n_elements, xp)

            def spy(z, a):
                seen.append(z.copy())
                forward(z, a)

            return spy, backward

    spy = Network([3, 3, 3], Recorder(), "softmax", seed=9)
    spy.set_parameters({"W1": np.eye(3), "b1": np.zeros(3), "W2": np.zeros((3, 3)), "b2": np.zeros(3)})
    spy.fit(X, y, epochs=2, learning_rate=1e-300, batch_size=8)  # W1 = I and b1 = 0 to the last bit: z is the batch
    rng = np.random.RandomState(9)
    expected = []
    for _ in range(2):
        order = rng.permutation(29)
        expected += [X[order[s:s + 8]] for s in range(0, 29, 8)]
    assert len(seen) == len(expected) == 8
    for got, want in zip(seen, expected):
        np.testing.assert_array_equal(got, want)


# -- the engine's buffers ------------------------------------------------------------------------------------


def test_the_engine_s_gradients_tile_one_flat_array():
    net = Network([3, 5, 4, 2], ["relu", "softmax"], "identity")
    layers = engine(net, 7, batch=True)
    grads = layers.gradients()
    assert [g.shape for g in grads] == shapes_of(net.layer_sizes) == [p.shape for p in net.parameters().values()]
    assert layers.G.size == sum(g.size for g in grads)
    layers.G[...] = np.arange(layers.G.size)
    np.testing.assert_array_equal(np.concatenate([g.ravel() for g in grads]), np.arange(layers.G.size))
    X, y = data(n=7, n_in=3, output="identity")
    Y = encoded(net, y, 7)
    W, b = weights_and_biases(net)
    layers.forward_loss(X, Y, W, b)
    assert all(g is h for g, h in zip(layers.backward(X, Y, W), grads))  # written in place, every step
    want = public_gradients(net, X, y)
    np.testing.assert_array_equal(layers.G, np.concatenate([want[k].ravel() for k in want]))
    # the last, smaller batch: views of the first rows, the same kernels and gradient array
    last = layers.first(3)
    assert last.rows == 3 and last.G is layers.G and last.forward_of is layers.forward_of
    assert last.X.shape == (3, 3) and np.shares_memory(last.X, layers.X)
    last.forward_loss(X[:3], Y[:3], W, b)
    last.backward(X[:3], Y[:3], W)
    want = public_gradients(net, X[:3], y[:3])
    np.testing.assert_array_equal(layers.G, np.concatenate([want[k].ravel() for k in want]))


def test_views_tile_the_flat_array():
    flat = np.arange(20.0)
    shapes = [(2, 3), (3,), (4, 2), (3,)]
    parts = views(flat, shapes)
    assert [p.shape for p in parts] == shapes
    assert all(p.flags.c_contiguous and np.shares_memory(p, flat) for p in parts)
    np.testing.assert_array_equal(np.concatenate([p.ravel() for p in parts]), flat)
    parts[2][...] = -1  # consecutive, in order: each view is its own slice
    np.testing.assert_array_equal(flat[9:17], -1)
    assert flat[8] == 8 and flat[17] == 17
    assert views(flat, []) == []
    assert shapes_of([3, 5, 1]) == [(5, 3), (5,), (1, 5), (1,)]


# -- the steppers' folded and flat steps ---------------------------------------------------------------------


def flat_params(shapes, seed, dtype=np.float64):
    rng = np.random.RandomState(seed)
    flat = rng.randn(sum(math.prod(s) for s in shapes)).astype(dtype)
    return views(flat, shapes), flat


SHAPES = [(4, 3), (4,), (2, 4), (2,)]
RULES = [optimizers.GradientDescent(), optimizers.Momentum(beta=0.8), optimizers.Adam()]


@pytest.mark.parametrize("rule", RULES, ids=repr)
@pytest.mark.parametrize("dtype", DTYPES)
def test_flat_steps_equal_per_array_steps_bit_for_bit(rule, dtype):
    p1, P1 = flat_params(SHAPES, 0, dtype)
    p2, P2 = flat_params(SHAPES, 0, dtype)
    s1, s2 = rule.start(p1), rule.start(p2)
    rng = np.random.RandomState(1)
    for _ in range(4):
        G = rng.randn(P1.size).astype(dtype)
        G1, G2 = G.copy(), G.copy()
        s1.step_folded(views(G1, SHAPES), 0.1)  # per array
        s2.step_folded(views(G2, SHAPES), 0.1, flat=(P2, G2))  # one call per operation
        np.testing.assert_array_equal(P1, P2)
    assert s1.t == s2.t == 4


@pytest.mark.parametrize("rule", RULES, ids=repr)
def test_folded_steps_equal_plain_steps(rule):
    p1, P1 = flat_params(SHAPES, 0)
    p2, P2 = flat_params(SHAPES, 0)
    s1, s2 = rule.start(p1), rule.start(p2)
    rng = np.random.RandomState(2)
    for _ in range(5):
        grads = [rng.randn(*s) for s in SHAPES]
        s1.step([g.copy() for g in grads], 0.3)
        s2.step_folded([g * s2.fold(0.3) for g in grads], 0.3)
    np.testing.assert_allclose(P2, P1, rtol=1e-13, atol=1e-15)
    if isinstance(rule, optimizers.Adam):
        assert s2.fold(0.3) == 1.0
        np.testing.assert_array_equal(P2, P1)  # Adam folds nothing


@pytest.mark.parametrize("rule, beta", [("gd", 0.0), ("momentum", 0.9), ("momentum", 0.5)])
def test_steps_are_the_textbook_updates(rule, beta):
    """W - alpha dW; v = beta v + (1 - beta) dW, W - alpha v: the steppers' plain steps, written out."""
    p, P = flat_params(SHAPES, 3)
    want = [x.copy() for x in p]
    stepper = (optimizers.GradientDescent() if rule == "gd" else optimizers.Momentum(beta=beta)).start(p)
    rng = np.random.RandomState(4)
    v = [0.0] * len(SHAPES)
    for _ in range(3):
        grads = [rng.randn(*s) for s in SHAPES]
        for i, g in enumerate(grads):
            if rule == "gd":
                want[i] = want[i] - 0.2 * g
            else:
                v[i] = beta * v[i] + (1 - beta) * g
                want[i] = want[i] - 0.2 * v[i]
        stepper.step([g.copy() for g in grads], 0.2)
    for got, w in zip(p, want):
        np.testing.assert_allclose(got, w, rtol=1e-14, atol=1e-15)


def test_a_custom_stepper_gets_unfolded_gradients():
    calls = []

    class Halving(optimizers.Stepper):
        def step(self, grads, learning_rate):
            calls.append([g.copy() for g in grads])
            for p, g in zip(self.params, grads):
                p -= learning_rate * g

    class HalvingRule(optimizers.Optimizer):
        name = "halving"

        def start(self, params):
            return Halving(params)

    X, y = data()
    net = Network([3, 4, 3], "tanh", "softmax", seed=0)
    want = net.gradients(X, y)
    start = net.parameters()
    net.fit(X, y, epochs=1, learning_rate=0.5, optimizer=HalvingRule())
    assert len(calls) == 1
    for got, k in zip(calls[0], want):
        np.testing.assert_array_equal(got, want[k])
    for k, p in net.parameters().items():  # and its updates are the network's
        np.testing.assert_array_equal(p, start[k] - 0.5 * want[k])


def test_a_duck_typed_stepper_still_works():
    """A stepper that is not a Stepper subclass (only params, t and step) gets plain gradients through step."""

    class Plain:
        def __init__(self, params):
            self.params, self.t = list(params), 0

        def step(self, grads, learning_rate):
            self.t += 1
            for p, g in zip(self.params, grads):
                p -= learning_rate * g

    class PlainRule(optimizers.Optimizer):
        name = "plain"

        def start(self, params):
            return Plain(params)

    X, y = data()
    net = Network([3, 4, 3], "tanh", "softmax", seed=0)
    ref = twin(net).fit(X, y, epochs=3, learning_rate=0.5, optimizer="gd")
    net.fit(X, y, epochs=3, learning_rate=0.5, optimizer=PlainRule())
    for k, p in net.parameters().items():
        np.testing.assert_allclose(p, ref.parameters()[k], rtol=1e-13, atol=1e-15, err_msg=k)


def test_stepper_state_keeps_one_array_per_parameter():
    """`v` and `s` are lists of per-parameter arrays: what checkpoints save."""
    params, _ = flat_params(SHAPES, 0)
    adam = optimizers.Adam().start(params)
    adam.step([np.ones(s) for s in SHAPES], 0.1)
    state = adam.state()
    assert set(state) == {"t", "v", "s"} and state["t"] == 1
    assert [v.shape for v in state["v"]] == [s.shape for s in state["s"]] == SHAPES
    np.testing.assert_array_equal(np.concatenate([v.ravel() for v in state["v"]]), 1.0 - 0.9)  # (1 - beta1) * dW
    mixed = [np.zeros(3, np.float32), np.zeros(2, np.float64)]
    momentum = optimizers.Momentum().start(mixed)  # no common dtype: separate arrays, each its own dtype
    momentum.step_folded([np.ones(3, np.float32), np.ones(2)], 0.1, flat=None)
    assert momentum.t == 1 and [v.dtype for v in momentum.state()["v"]] == [np.float32, np.float64]
    np.testing.assert_allclose(mixed[1], -0.1)


@pytest.mark.parametrize("rule", RULES, ids=repr)
def test_stepper_state_round_trip_continues_exactly(rule):
    p1, P1 = flat_params(SHAPES, 0)
    s1 = rule.start(p1)
    rng = np.random.RandomState(3)
    grads = [[rng.randn(*s) for s in SHAPES] for _ in range(6)]
    for g in grads[:3]:
        s1.step([x.copy() for x in g], 0.1)
    state = s1.state()
    assert state["t"] == 3 and set(state) == {"t", *rule.state_names}
    p2, P2 = flat_params(SHAPES, 9)
    np.copyto(P2, P1)
    s2 = rule.start(p2)
    s2.load_state(state)
    for g in grads[3:]:
        s1.step([x.copy() for x in g], 0.1)
        s2.step([x.copy() for x in g], 0.1)
    np.testing.assert_array_equal(P2, P1)
    assert s2.t == 6
    for name in rule.state_names:  # a copy: the steps since did not change it
        assert all(not np.shares_memory(x, y) for x, y in zip(state[name], s1.state()[name]))
        assert any(not np.array_equal(x, y) for x, y in zip(state[name], s1.state()[name]))


def test_load_state_checks_names_and_shapes():
    adam = optimizers.Adam().start([np.zeros((2, 3)), np.zeros(2)])
    good = adam.state()
    adam.load_state({"t": 0})  # before the first step the moments may be left out
    with pytest.raises(ValueError, match="names"):
        adam.load_state({"t": 2, "v": good["v"]})
    with pytest.raises(ValueError, match="names"):
        adam.load_state({**good, "w": []})
    with pytest.raises(ValueError, match="shapes"):
        adam.load_state({**good, "v": [np.zeros(3), np.zeros(2)]})
    with pytest.raises(ValueError, match="shapes"):
        adam.load_state({**good, "s": good["s"][:1]})
    gd = optimizers.GradientDescent().start([np.zeros(2)])
    gd.load_state({"t": 5})
    assert gd.t == 5 and gd.state() == {"t": 5}
