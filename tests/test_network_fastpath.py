"""The fast paths of training: direct kernel calls, the folded learning rate, flat parameters, per-batch gathers.

Each fast path is checked against a plain reference written from public calls
only: bit for bit where the fast path promises the same operations, and to a
tight tolerance where it rounds differently on purpose (the learning rate
folded into dZ_L). No timings here.
"""

from dataclasses import dataclass, field

import numpy as np
import pytest

import slopekit
from slopekit import Network, losses, network, optimizers
from slopekit.activations import Activation

HIDDEN = slopekit.names()
DTYPES = [np.float32, np.float64]
OUTPUTS = {"sigmoid": 1, "softmax": 3, "identity": 2}


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


def public_gradients(net, X, y, factor=1.0):
    """Backpropagation through the activations' public __call__ and backward only (the code before the fast path)."""
    X, Y = net._data(X, y, "test")
    n, L = X.shape[0], len(net._W)
    Z, A = [None], [X]
    for l in range(1, L + 1):
        z = np.matmul(A[-1], net._W[l - 1].T)
        np.add(z, net._b[l - 1], out=z)
        Z.append(z)
        if l < L:
            A.append(net.hidden[l - 1](z, out=np.empty_like(z)))
    a_out = np.empty_like(Z[L])
    net._head.forward(Z[L], Y, a_out, net._head.scratch(n, Z[L].shape[1], net.dtype))
    dZ = np.subtract(a_out, Y)
    np.multiply(dZ, net._head.scale(*a_out.shape) * factor, out=dZ)
    grads = {}
    for l in range(L, 0, -1):
        grads[f"W{l}"] = np.matmul(dZ.T, A[l - 1])
        grads[f"b{l}"] = np.matmul(np.ones(n, net.dtype), dZ)
        if l == 1:
            break
        dA = np.matmul(dZ, net._W[l - 1])
        g = net.hidden[l - 2]
        if g.has_derivative_from_output:
            dZ = g.backward(dA, a=A[l - 1], out=np.empty_like(dA))
        else:
            dZ = g.backward(dA, z=Z[l - 1], out=np.empty_like(dA))
    return {k: grads[k] for k in net._names()}


# -- the direct kernel calls give the public calls' bits --------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_backward_equals_public_calls_bit_for_bit(hidden, dtype):
    X, y = data(dtype=dtype)
    net = Network([3, 5, 4, 3], [hidden, "tanh"], "softmax", seed=3, dtype=dtype)
    with np.errstate(all="ignore"):
        got, want = net.gradients(X, y), public_gradients(net, X, y)
    for k in want:
        assert got[k].dtype == dtype
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)


@pytest.mark.parametrize("hidden", ["relu", slopekit.get("relu", at_zero=1), slopekit.get("leaky_relu", slope=0.0),
                                    "gelu", "silu", "tanh"])
def test_forward_equals_public_calls_bit_for_bit(hidden):
    X, _ = data(n=17)
    net = Network([3, 6, 2], hidden, "identity", seed=1)
    buf = net._buffers(17)
    z_out = net._forward(X, buf)
    g = net.hidden[0]
    z1 = X @ net._W[0].T + net._b[0]
    np.testing.assert_array_equal(buf.A[1], g(z1))
    np.testing.assert_array_equal(z_out, buf.A[1] @ net._W[1].T + net._b[1])


@pytest.mark.parametrize("output", sorted(OUTPUTS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_folded_factor_scales_every_gradient(output, dtype):
    X, y = data(output=output, dtype=dtype)
    net = Network([3, 4, 4, OUTPUTS[output]], ["tanh", "relu"], output, seed=2, dtype=dtype)
    buf = net._buffers(len(X))
    Xc, Y = net._data(X, y, "test")
    plain = [np.empty_like(p) for p in net._param_list()]
    folded = [np.empty_like(p) for p in net._param_list()]
    net._forward_loss(Xc, Y, buf)
    net._backward(Xc, Y, buf, plain[0::2], plain[1::2])
    net._backward(Xc, Y, buf, folded[0::2], folded[1::2], factor=0.37)
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    for p, f in zip(plain, folded):
        np.testing.assert_allclose(f, 0.37 * p, rtol=rtol, atol=1e-7 if dtype == np.float32 else 1e-16)
    # and factor 1 is exactly the unfolded gradient, the public calls' bits
    want = public_gradients(net, X, y)
    for name, p in zip(net._names(), plain):
        np.testing.assert_array_equal(p, want[name], err_msg=name)


@pytest.mark.parametrize("output", losses.outputs())
def test_delta_with_factor_one_is_exact(output):
    head = losses.for_output(output)
    rng = np.random.RandomState(0)
    a, Y = rng.rand(7, 2), rng.rand(7, 2)
    out = np.empty_like(a)
    head.delta(a, Y, out=out)
    np.testing.assert_array_equal(out, (a - Y) * head.scale(7, 2))
    head.delta(a, Y, out=out, factor=0.5)
    np.testing.assert_array_equal(out, (a - Y) * (head.scale(7, 2) * 0.5))


# -- subclasses that override the public methods are still called through them -------------------


@dataclass(frozen=True)
class CountingTanh(slopekit.Tanh):
    calls: list = field(default_factory=list, compare=False)

    def __call__(self, z, *, out=None):
        self.calls.append("call")
        return super().__call__(z, out=out)


@dataclass(frozen=True)
class TwiceTanh(slopekit.Tanh):
    """Overrides only a kernel: the direct path must run it too."""

    def _value_np(self, z, out):
        np.tanh(z, out=out)
        np.multiply(out, 2.0, out=out)

    def _from_output_np(self, a, out):
        np.multiply(a, 0.5, out=out)
        np.multiply(out, out, out=out)
        np.subtract(1.0, out, out=out)
        np.multiply(out, 2.0, out=out)


def test_overridden_public_methods_are_respected():
    g = CountingTanh()
    assert network._lean(g) == (False, True)
    assert network._lean(slopekit.tanh) == (True, True)
    assert network._lean(slopekit.get("relu", at_zero=1)) == (True, False)
    X, y = data(output="sigmoid")
    Network([3, 4, 1], g, seed=0).fit(X, y, epochs=3, learning_rate=0.1)
    assert g.calls.count("call") == 4  # the loss before training and after each of the 3 steps


def test_overridden_kernels_are_used_by_the_direct_path():
    g = TwiceTanh()
    assert network._lean(g)[0]
    X, y = data(output="identity")
    net = Network([3, 4, 2], g, "identity", seed=0)
    got, want = net.gradients(X, y), public_gradients(net, X, y)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])
    np.testing.assert_array_equal(net.predict(X), 2 * np.tanh(X @ net._W[0].T + net._b[0]) @ net._W[1].T + net._b[1])


# -- fit: the folded learning rate, flat parameters, per-batch gathers ------------------------------


def reference_fit(net, X, y, *, epochs, learning_rate, batch_size=None, l2=0.0, rule="gd", beta=0.9):
    """Training from `public_gradients`, with the documented shuffle and the textbook updates."""
    ref = twin(net)
    n = len(X)
    rng = np.random.RandomState(net.seed)
    v = {k: 0.0 for k in ref._names()}
    for _ in range(epochs):
        order = rng.permutation(n) if batch_size else np.arange(n)
        step = batch_size or n
        for start in range(0, n, step):
            idx = order[start:start + step]
            grads = public_gradients(ref, X[idx], y[idx])
            p = ref.parameters()
            for k in p:
                g = grads[k] + (l2 / n * p[k] if k[0] == "W" else 0.0)
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
    """Adam folds nothing: fit equals the stepper's own `step` on the unscaled gradients, bit for bit."""
    X, y = data()
    net = Network([3, 5, 3], "relu", "softmax", seed=6)
    ref = twin(net)
    net.fit(X, y, epochs=2, learning_rate=0.01, batch_size=batch_size, optimizer="adam")
    params = ref._param_list()
    stepper = optimizers.Adam().start(params)
    rng = np.random.RandomState(ref.seed)
    for _ in range(2):
        order = rng.permutation(len(X)) if batch_size else np.arange(len(X))
        for start in range(0, len(X), batch_size or len(X)):
            idx = order[start:start + (batch_size or len(X))]
            grads = ref.gradients(X[idx], y[idx])
            stepper.step([grads[k] for k in ref._names()], 0.01)
    for k, p in net.parameters().items():
        np.testing.assert_array_equal(p, ref.parameters()[k], err_msg=k)


def test_parameters_live_in_one_flat_array_after_fit():
    X, y = data()
    net = Network([3, 5, 3], "relu", "softmax", seed=0)
    before = net.parameters()
    assert optimizers._flat_of(net._param_list()) is None  # separate arrays until the first fit
    net.fit(X, y, epochs=1, learning_rate=0.1)
    flat = optimizers._flat_of(net._param_list())
    assert flat is not None and flat.size == sum(p.size for p in before.values())
    ids = [id(p) for p in net._param_list()]
    net.fit(X, y, epochs=1, learning_rate=0.1)  # the second fit keeps them where they are
    assert [id(p) for p in net._param_list()] == ids
    copies = net.parameters()
    copies["W1"][...] = 0
    assert not np.array_equal(net.parameters()["W1"], copies["W1"])
    net.set_parameters(before)  # set_parameters copies into separate arrays again; fit moves them back
    assert optimizers._flat_of(net._param_list()) is None
    net.fit(X, y, epochs=1, learning_rate=0.1)
    assert optimizers._flat_of(net._param_list()) is not None


def test_flat_parameters_keep_the_values_and_save_and_load(tmp_path):
    X, y = data()
    net = Network([3, 5, 3], "relu", "softmax", seed=0)
    params, flat = net._flat_parameters()
    assert [p.shape for p in params] == net._shapes()
    again = Network([3, 5, 3], "relu", "softmax", seed=0)
    for k, p in net.parameters().items():
        np.testing.assert_array_equal(p, again.parameters()[k])
    net.fit(X, y, epochs=2, learning_rate=0.1, batch_size=4)
    net.save(tmp_path / "net.npz")
    loaded = Network.load(tmp_path / "net.npz")
    for k, p in net.parameters().items():
        np.testing.assert_array_equal(p, loaded.parameters()[k])


@pytest.mark.parametrize("batch_size", [None, 5])
def test_divergence_restores_the_flat_parameters_exactly(batch_size):
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
        name = "recorder"

        def _value_np(self, z, out):
            np.copyto(out, z)

        def _derivative_np(self, z, out):
            out[...] = 1.0

        def _from_output_np(self, a, out):
            out[...] = 1.0

    spy = Network([3, 3, 3], Recorder(), "softmax", seed=9)
    spy.set_parameters({"W1": np.eye(3), "b1": np.zeros(3), "W2": np.zeros((3, 3)), "b2": np.zeros(3)})
    original = spy._forward

    def forward(Xb, buf):
        seen.append(Xb.copy())
        return original(Xb, buf)

    spy._forward = forward
    spy.fit(X, y, epochs=2, learning_rate=0.0001, batch_size=8)
    rng = np.random.RandomState(9)
    expected = []
    for _ in range(2):
        order = rng.permutation(29)
        expected += [X[order[s:s + 8]] for s in range(0, 29, 8)]
    assert len(seen) == len(expected) == 8
    for got, want in zip(seen, expected):
        np.testing.assert_array_equal(got, want)


def test_fit_does_not_allocate_per_step_buffers_for_the_steppers():
    X, y = data()
    net = Network([3, 5, 3], "relu", "softmax", seed=0)
    run = network._Run(net, 1, 0.1, optimizers.get("momentum"), 0.0, None, 0)
    assert run.flat is not None and run.flat[0] is optimizers._flat_of(net._param_list())
    assert optimizers._flat_of(run.grads) is run.G
    assert optimizers._flat_of(run.stepper.v) is run.stepper._v


# -- the steppers' folded and flat steps -----------------------------------------------------------


def flat_params(shapes, seed, dtype=np.float64):
    rng = np.random.RandomState(seed)
    flat = rng.randn(sum(int(np.prod(s)) for s in shapes)).astype(dtype)
    return optimizers._views(flat, shapes), flat


SHAPES = [(4, 3), (4,), (2, 4), (2,)]


@pytest.mark.parametrize("rule", [optimizers.GradientDescent(), optimizers.Momentum(beta=0.8), optimizers.Adam()])
@pytest.mark.parametrize("dtype", DTYPES)
def test_flat_steps_equal_per_array_steps_bit_for_bit(rule, dtype):
    p1, P1 = flat_params(SHAPES, 0, dtype)
    p2, P2 = flat_params(SHAPES, 0, dtype)
    s1, s2 = rule.start(p1), rule.start(p2)
    rng = np.random.RandomState(1)
    for _ in range(4):
        G = rng.randn(P1.size).astype(dtype)
        g1, g2 = optimizers._views(G.copy(), SHAPES), optimizers._views(G.copy(), SHAPES)
        s1.step_folded(g1, 0.1)  # per array
        s2.step_folded(g2, 0.1, flat=(P2, optimizers._flat_of(g2)))  # one call per operation
        np.testing.assert_array_equal(P1, P2)
    assert s1.t == s2.t == 4


@pytest.mark.parametrize("rule", [optimizers.GradientDescent(), optimizers.Momentum(beta=0.8), optimizers.Adam()])
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
        np.testing.assert_array_equal(P2, P1)  # Adam folds nothing


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
    net.fit(X, y, epochs=1, learning_rate=0.5, optimizer=HalvingRule())
    assert len(calls) == 1
    for got, k in zip(calls[0], net._names()):
        np.testing.assert_array_equal(got, want[k])


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
    """`v` and `s` stay lists of per-parameter arrays (views of one flat array): what checkpoints save."""
    params, _ = flat_params(SHAPES, 0)
    adam = optimizers.Adam().start(params)
    assert [v.shape for v in adam.v] == [v.shape for v in adam.s] == SHAPES
    assert optimizers._flat_of(adam.v) is adam._v and optimizers._flat_of(adam.s) is adam._s
    mixed = [np.zeros(3, np.float32), np.zeros(2, np.float64)]
    momentum = optimizers.Momentum().start(mixed)  # no common dtype: separate arrays
    assert momentum._v is None and [v.dtype for v in momentum.v] == [np.float32, np.float64]
    momentum.step_folded([np.ones(3, np.float32), np.ones(2)], 0.1, flat=None)
    assert momentum.t == 1


def test_flat_of():
    flat = np.arange(10.0)
    views = optimizers._views(flat, [(2, 2), (3,), (3, 1)])
    assert optimizers._flat_of(views) is flat
    assert optimizers._flat_of(views[:2]) is None  # does not cover the whole array
    assert optimizers._flat_of([views[1], views[0], views[2]]) is None  # out of order
    assert optimizers._flat_of([]) is None
    assert optimizers._flat_of([np.zeros(3)]) is None  # owns its memory: no base to update in one call
    assert optimizers._flat_of([flat[::2]]) is None
    two = np.zeros((2, 5))
    assert optimizers._flat_of([two[0], two[1]]) is None  # a 2-D base
    other = np.arange(10.0)
    assert optimizers._flat_of([views[0], other[4:7], views[2]]) is None


@pytest.mark.parametrize("rule", [optimizers.GradientDescent(), optimizers.Momentum(beta=0.8), optimizers.Adam()])
def test_stepper_state_round_trip_continues_exactly(rule):
    p1, P1 = flat_params(SHAPES, 0)
    s1 = rule.start(p1)
    rng = np.random.RandomState(3)
    grads = [[rng.randn(*s) for s in SHAPES] for _ in range(6)]
    for g in grads[:3]:
        s1.step([x.copy() for x in g], 0.1)
    state = s1.state()
    assert state["t"] == 3 and set(state) == {"t", *type(s1)._state_names}
    p2, P2 = flat_params(SHAPES, 9)
    np.copyto(P2, P1)
    s2 = rule.start(p2)
    s2.load_state(state)
    for name in type(s1)._state_names:  # a copy: later steps do not change it
        assert all(x is not y for x, y in zip(state[name], getattr(s1, name)))
    for g in grads[3:]:
        s1.step([x.copy() for x in g], 0.1)
        s2.step_folded([x * s2.fold(0.1) for x in g], 0.1, flat=(P2, np.concatenate([x.ravel() for x in g]) * s2.fold(0.1)))
    np.testing.assert_allclose(P2, P1, rtol=1e-13, atol=1e-15)
    assert s2.t == 6


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


# -- bare kernels: the activation's NumPy kernels called straight on the network's buffers -----


def test_bare_kernels_are_chosen_only_where_they_equal_the_checked_path():
    f32 = np.dtype(np.float32)
    relu, tanh = slopekit.relu, slopekit.tanh
    assert network._bare(relu, network._lean(relu), "_value", 100, f32) == relu._value_np
    assert network._bare(tanh, network._lean(tanh), "_from_output", 100, f32) == tanh._from_output_np
    # not for arrays that run in blocks, public methods overridden, or _run_np/_backward_np overridden
    big = relu._blocked_from("_value", f32)
    assert network._bare(relu, network._lean(relu), "_value", big, f32) is None
    assert network._bare(relu, network._lean(relu), "_value", big - 1, f32) is not None
    assert network._bare(CountingTanh(), network._lean(CountingTanh()), "_value", 100, f32) is None
    softmax = slopekit.get("softmax")
    assert network._bare(softmax, network._lean(softmax), "_value", 100, f32) is None
    buf = Network([3, 5, 4, 2], ["relu", "softmax"], "identity")._buffers(7)
    assert buf.value_np[1] is not None and buf.value_np[2] is None and len(buf.value_np) == 3
    assert buf.first(3).slope_np is buf.slope_np


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_size", [None, 5])
@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "leaky_relu", "gelu", "softmax",
                                    slopekit.get("relu", at_zero=1.0)], ids=repr)
def test_fit_with_bare_kernels_equals_fit_without_them(hidden, batch_size, dtype, monkeypatch):
    X, y = data(output="softmax", dtype=dtype)
    nets = []
    for bare in (True, False):
        with monkeypatch.context() as m:
            if not bare:
                m.setattr(network, "_bare", lambda *args: None)
            net = Network([3, 6, 5, 3], hidden, "softmax", seed=1, dtype=dtype)
            net.fit(X, y, epochs=4, learning_rate=0.3, batch_size=batch_size)
            nets.append(net)
    assert nets[0].history == nets[1].history
    for k, v in nets[0].parameters().items():
        np.testing.assert_array_equal(v, nets[1].parameters()[k], err_msg=k)
