"""Network.fit: the steps it takes, its history, optimizers, L2, callbacks, divergence, dtypes, bad arguments."""

from dataclasses import dataclass, field

import numpy as np
import pytest

import slopekit
from slopekit import Network, datasets, optimizers


def flower_like(n=40, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 2)
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def twin(net):
    """An independent network with the same architecture and parameters."""
    other = Network(net.layer_sizes, list(net.hidden), net.output, seed=net.seed, dtype=net.dtype, init=net.init)
    return other.set_parameters(net.parameters())


def assert_same_parameters(a, b, rtol=0.0):
    pa, pb = a.parameters(), b.parameters()
    assert pa.keys() == pb.keys()
    for k in pa:
        np.testing.assert_allclose(pa[k], pb[k], rtol=rtol, atol=0, err_msg=k)


def reference_fit(net, X, y, *, epochs, learning_rate, batch_size=None, l2=0.0, rule="gd", beta=0.9,
                  beta1=0.9, beta2=0.999, eps=1e-8, rng=None):
    """Training written out step by step from `gradients`, with its own optimizer formulas.

    Mini-batches follow the documented recipe: ``rng`` (by default a RandomState seeded by the
    network's seed), one permutation per epoch, consecutive batches. The L2 slope is
    lambda / n_total * W.
    """
    ref = twin(net)
    n = len(X)
    rng = np.random.RandomState(net.seed) if rng is None else rng
    names = list(ref.parameters())
    v = {k: 0.0 for k in names}
    s = {k: 0.0 for k in names}
    t = 0
    for _ in range(epochs):
        order = rng.permutation(n) if batch_size else np.arange(n)
        step = batch_size or n
        for start in range(0, n, step):
            idx = order[start:start + step]
            grads = ref.gradients(X[idx], y[idx], l2=l2 * len(idx) / n)
            p = ref.parameters()
            t += 1
            for k in names:
                if rule == "gd":
                    p[k] = p[k] - learning_rate * grads[k]
                elif rule == "momentum":
                    v[k] = beta * v[k] + (1 - beta) * grads[k]
                    p[k] = p[k] - learning_rate * v[k]
                else:
                    v[k] = beta1 * v[k] + (1 - beta1) * grads[k]
                    s[k] = beta2 * s[k] + (1 - beta2) * grads[k] ** 2
                    v_hat, s_hat = v[k] / (1 - beta1 ** t), s[k] / (1 - beta2 ** t)
                    p[k] = p[k] - learning_rate * v_hat / (np.sqrt(s_hat) + eps)
            ref.set_parameters(p)
    return ref


# -- the steps ---------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["sigmoid", "softmax", "identity"])
def test_full_batch_steps_are_gradient_descent(output):
    X, labels = flower_like()
    y = {"sigmoid": labels, "softmax": labels + (X[:, 0] > 1), "identity": X[:, :1] * 2 - 1}[output]
    k = {"sigmoid": 1, "softmax": 3, "identity": 1}[output]
    net = Network([2, 5, k], "tanh", output, seed=1)
    ref = reference_fit(net, X, y, epochs=7, learning_rate=0.3)
    net.fit(X, y, epochs=7, learning_rate=0.3)
    assert_same_parameters(net, ref, rtol=1e-12)


def test_history_is_the_loss_after_each_full_batch_epoch():
    X, y = flower_like()
    net = Network([2, 4, 1], "tanh", seed=2)
    start = twin(net)
    net.fit(X, y, epochs=6, learning_rate=0.5)
    assert len(net.history) == 6
    assert net.history[-1] == pytest.approx(net.loss(X, y), rel=1e-14)
    one = twin(start).fit(X, y, epochs=1, learning_rate=0.5)
    assert net.history[0] == pytest.approx(one.loss(X, y), rel=1e-14)
    assert all(isinstance(v, float) for v in net.history)


def test_a_batch_as_large_as_the_data_is_full_batch():
    X, y = flower_like()
    net = Network([2, 4, 1], "relu", seed=3)
    a = twin(net).fit(X, y, epochs=5, learning_rate=0.2)
    b = twin(net).fit(X, y, epochs=5, learning_rate=0.2, batch_size=len(X))
    c = twin(net).fit(X, y, epochs=5, learning_rate=0.2, batch_size=10 * len(X))
    assert_same_parameters(a, b)
    assert_same_parameters(a, c)
    assert a.history == b.history == c.history


@pytest.mark.parametrize("batch_size", [1, 7, 10])
def test_mini_batches_follow_the_seeded_shuffle(batch_size):
    X, y = flower_like(n=30)
    net = Network([2, 4, 1], "tanh", seed=4)
    ref = reference_fit(net, X, y, epochs=3, learning_rate=0.1, batch_size=batch_size)
    net.fit(X, y, epochs=3, learning_rate=0.1, batch_size=batch_size)
    assert_same_parameters(net, ref, rtol=1e-12)
    assert len(net.history) == 3


@pytest.mark.parametrize("make", [lambda: np.random.RandomState(11), lambda: np.random.default_rng(11)],
                         ids=["RandomState", "Generator"])
def test_mini_batches_draw_their_shuffles_from_rng(make):
    X, y = flower_like(n=30)
    net = Network([2, 4, 1], "tanh", seed=4)
    ref = reference_fit(net, X, y, epochs=3, learning_rate=0.1, batch_size=7, rng=make())
    rng = make()
    net.fit(X, y, epochs=3, learning_rate=0.1, batch_size=7, rng=rng)
    assert_same_parameters(net, ref, rtol=1e-12)
    # one permutation per epoch was drawn from it, nothing else
    drawn = make()
    for _ in range(3):
        drawn.permutation(30)
    assert rng.permutation(100).tolist() == drawn.permutation(100).tolist()


def test_one_rng_continues_its_shuffles_across_fit_calls():
    X, y = flower_like(n=30)
    start = Network([2, 4, 1], "tanh", seed=4)
    whole, split = twin(start), twin(start)
    whole.fit(X, y, epochs=3, learning_rate=0.1, batch_size=7, rng=np.random.RandomState(5))
    rng = np.random.RandomState(5)
    split.fit(X, y, epochs=1, learning_rate=0.1, batch_size=7, rng=rng)
    split.fit(X, y, epochs=2, learning_rate=0.1, batch_size=7, rng=rng)  # plain gradient descent: no state
    assert_same_parameters(whole, split)
    again = twin(start).fit(X, y, epochs=3, learning_rate=0.1, batch_size=7)  # the default: seeded by seed
    assert_same_parameters(again, twin(start).fit(X, y, epochs=3, learning_rate=0.1, batch_size=7,
                                                  rng=np.random.RandomState(start.seed)))


def test_full_batch_training_leaves_rng_alone_and_rng_is_checked():
    X, y = flower_like(n=30)
    rng = np.random.RandomState(5)
    Network([2, 4, 1], "tanh", seed=4).fit(X, y, epochs=2, learning_rate=0.1, rng=rng)
    assert rng.randint(10**9) == np.random.RandomState(5).randint(10**9)
    for bad in (3.0, "seed", np.random.SeedSequence(1), True):
        with pytest.raises(TypeError, match="rng must be a numpy.random.RandomState, a numpy.random.Generator or an "
                                           "integer seed"):
            Network([2, 4, 1], "tanh").fit(X, y, epochs=1, learning_rate=0.1, batch_size=7, rng=bad)
    with pytest.raises(ValueError, match="seed must lie in"):
        Network([2, 4, 1], "tanh").fit(X, y, epochs=1, learning_rate=0.1, batch_size=7, rng=-1)


def test_an_integer_rng_seeds_the_shuffles_like_a_random_state():
    X, y = flower_like(n=30)
    a = Network([2, 4, 1], "tanh", seed=4).fit(X, y, epochs=3, learning_rate=0.1, batch_size=7, rng=9)
    b = Network([2, 4, 1], "tanh", seed=4).fit(X, y, epochs=3, learning_rate=0.1, batch_size=7,
                                               rng=np.random.RandomState(9))
    c = Network([2, 4, 1], "tanh", seed=4).fit(X, y, epochs=3, learning_rate=0.1, batch_size=7)
    assert_same_parameters(a, b)
    assert not np.array_equal(a.parameters()["W1"], c.parameters()["W1"])


def test_mini_batch_history_is_the_mean_of_the_batch_losses():
    X, y = flower_like(n=20)
    net = Network([2, 3, 1], "tanh", seed=5)
    start = twin(net)
    losses = []
    # batch losses by hand: the loss of each batch before its step
    ref = twin(start)
    rng = np.random.RandomState(start.seed)
    order = rng.permutation(20)
    for idx in (order[:8], order[8:16], order[16:]):
        losses.append(ref.loss(X[idx], y[idx]) * len(idx))
        ref.set_parameters({k: v - 0.2 * ref.gradients(X[idx], y[idx])[k] for k, v in ref.parameters().items()})
    net.fit(X, y, epochs=1, learning_rate=0.2, batch_size=8)
    assert net.history[0] == pytest.approx(sum(losses) / 20, rel=1e-13)


def test_fit_is_deterministic_and_seeded():
    X, y = flower_like()
    a = Network([2, 6, 1], seed=7).fit(X, y, epochs=4, learning_rate=0.1, batch_size=8)
    b = Network([2, 6, 1], seed=7).fit(X, y, epochs=4, learning_rate=0.1, batch_size=8)
    assert_same_parameters(a, b)
    shuffled = twin(Network([2, 6, 1], seed=7))
    other_seed = Network(shuffled.layer_sizes, seed=8).set_parameters(shuffled.parameters())
    other_seed.fit(X, y, epochs=4, learning_rate=0.1, batch_size=8)  # same start, other shuffles
    assert not np.array_equal(a.parameters()["W1"], other_seed.parameters()["W1"])


def test_fit_continues_from_the_current_parameters():
    X, y = flower_like()
    net = Network([2, 4, 1], "tanh", seed=1)
    once = twin(net).fit(X, y, epochs=10, learning_rate=0.4)
    net.fit(X, y, epochs=4, learning_rate=0.4).fit(X, y, epochs=6, learning_rate=0.4)
    assert_same_parameters(net, once, rtol=1e-13)
    assert len(net.history) == 6  # history is per call


@pytest.mark.parametrize("rule, kwargs", [("momentum", {}), ("momentum", {"beta": 0.5}), ("adam", {}),
                                          ("adam", {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6})])
@pytest.mark.parametrize("batch_size", [None, 9])
def test_optimizers_match_their_formulas(rule, kwargs, batch_size):
    X, y = flower_like(n=30)
    net = Network([2, 5, 1], "tanh", seed=6)
    ref = reference_fit(net, X, y, epochs=4, learning_rate=0.05, batch_size=batch_size, rule=rule, **kwargs)
    optimizer = optimizers.get(rule, **kwargs) if kwargs else rule
    net.fit(X, y, epochs=4, learning_rate=0.05, batch_size=batch_size, optimizer=optimizer)
    assert_same_parameters(net, ref, rtol=1e-11)


@pytest.mark.parametrize("batch_size", [None, 8])
@pytest.mark.parametrize("rule", ["gd", "adam"])
def test_l2_is_part_of_the_objective(batch_size, rule):
    X, y = flower_like(n=30)
    net = Network([2, 5, 1], "tanh", seed=6)
    ref = reference_fit(net, X, y, epochs=3, learning_rate=0.1, batch_size=batch_size, l2=0.7, rule=rule)
    plain = twin(net).fit(X, y, epochs=3, learning_rate=0.1, batch_size=batch_size, optimizer=rule)
    net.fit(X, y, epochs=3, learning_rate=0.1, batch_size=batch_size, l2=0.7, optimizer=rule)
    assert_same_parameters(net, ref, rtol=1e-11)
    norm = lambda n: sum(float((v ** 2).sum()) for k, v in n.parameters().items() if k[0] == "W")  # noqa: E731
    assert norm(net) < norm(plain)
    if batch_size is None:
        assert net.history[-1] == pytest.approx(net.loss(X, y, l2=0.7), rel=1e-14)


def test_large_l2_shrinks_the_weights_towards_zero():
    X, y = flower_like()
    net = Network([2, 8, 1], "relu").fit(X, y, epochs=300, learning_rate=0.1, l2=500.0)
    assert max(np.abs(v).max() for k, v in net.parameters().items() if k[0] == "W") < 0.05


# -- the backward pass uses the activation objects --------------------------------------------


@dataclass(frozen=True)
class SpyTanh(slopekit.Tanh):
    """tanh that records what the network passes it."""

    calls: list = field(default_factory=list, compare=False)

    def __call__(self, z, *, out=None):
        self.calls.append(("forward", z.dtype, out.dtype))
        return super().__call__(z, out=out)

    def backward(self, da, *, z=None, a=None, out=None):
        cached = "a" if a is not None else "z"
        self.calls.append(("backward", cached, da.dtype, out.dtype))
        return super().backward(da, z=z, a=a, out=out)


@dataclass(frozen=True)
class SpyReLU(slopekit.ReLU):
    """ReLU with slope 1 at 0 (no slope-from-output shortcut), recording the backward calls."""

    at_zero: float = 1.0
    calls: list = field(default_factory=list, compare=False)

    def backward(self, da, *, z=None, a=None, out=None):
        self.calls.append(("backward", "a" if a is not None else "z"))
        return super().backward(da, z=z, a=a, out=out)


def test_backward_uses_the_cached_output_where_the_activation_allows():
    tanh, relu = SpyTanh(), SpyReLU()
    assert tanh.has_derivative_from_output and not relu.has_derivative_from_output
    net = Network([2, 3, 3, 1], [relu, tanh], seed=1)
    net.fit(*flower_like(), epochs=2, learning_rate=0.1)
    assert {c[1] for c in tanh.calls if c[0] == "backward"} == {"a"}
    assert {c[1] for c in relu.calls} == {"z"}
    assert len(relu.calls) == 2


@pytest.mark.parametrize("batch_size", [None, 16])
@pytest.mark.parametrize("rule", ["gd", "momentum", "adam"])
def test_float32_end_to_end(batch_size, rule):
    spy = SpyTanh()
    X, y = datasets.xor()
    net = Network([2, 8, 1], spy, dtype=np.float32, seed=3)
    net.fit(X, y, epochs=200, learning_rate=0.05 if rule == "adam" else 0.5, batch_size=batch_size,
            optimizer=rule, l2=0.01)
    assert spy.calls and all(dt == np.float32 for call in spy.calls for dt in call[1:] if isinstance(dt, np.dtype))
    assert all(v.dtype == np.float32 for v in net.parameters().values())
    assert all(v.dtype == np.float32 for v in net.gradients(X, y).values())
    assert net.predict_proba(X).dtype == np.float32
    assert net.score(X, y) >= 0.98


def test_float32_gradients_agree_with_float64():
    X, y = flower_like()
    net = Network([2, 6, 1], "tanh", seed=2)
    net32 = Network([2, 6, 1], "tanh", seed=2, dtype=np.float32)
    g64, g32 = net.gradients(X, y), net32.gradients(X, y)
    for k in g64:
        np.testing.assert_allclose(g32[k], g64[k], rtol=2e-4, atol=1e-6)


# -- callback, verbose, divergence -------------------------------------------------------------


def test_callback_sees_each_epoch_and_can_stop():
    X, y = flower_like()
    seen = []
    net = Network([2, 3, 1]).fit(X, y, epochs=5, learning_rate=0.1, callback=lambda e, loss: seen.append((e, loss)))
    assert seen == list(enumerate(net.history, start=1))
    net = Network([2, 3, 1]).fit(X, y, epochs=50, learning_rate=0.1, batch_size=8, callback=lambda e, loss: e == 3)
    assert len(net.history) == 3


def test_an_exception_in_the_callback_propagates():
    with pytest.raises(KeyboardInterrupt):
        Network([2, 3, 1]).fit(*flower_like(), epochs=5, learning_rate=0.1,
                               callback=lambda e, loss: (_ for _ in ()).throw(KeyboardInterrupt))


def test_verbose_prints_every_so_many_epochs_and_the_last(capsys):
    Network([2, 3, 1]).fit(*flower_like(), epochs=5, learning_rate=0.1, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 2/5", "epoch 4/5", "epoch 5/5"]
    Network([2, 3, 1]).fit(*flower_like(), epochs=5, learning_rate=0.1)
    assert capsys.readouterr().out == ""


def regression_that_diverges():
    rng = np.random.RandomState(0)
    X = rng.randn(50, 3) * 10
    return X, X @ [3.0, -2.0, 1.0] * 100


@pytest.mark.parametrize("batch_size", [None, 10])
def test_divergence_stops_with_a_clear_error_and_keeps_the_last_good_epoch(batch_size):
    X, y = regression_that_diverges()
    net = Network([3, 8, 1], "relu", "identity", seed=0)
    start = twin(net)
    with pytest.raises(FloatingPointError, match=r"at epoch \d+ of 1000.*smaller learning_rate than 0.5"):
        net.fit(X, y, epochs=1000, learning_rate=0.5, batch_size=batch_size)
    good = len(net.history)
    assert all(np.isfinite(net.history))
    assert all(np.isfinite(v).all() for v in net.parameters().values())
    replay = twin(start)
    if good:
        replay.fit(X, y, epochs=good, learning_rate=0.5, batch_size=batch_size)
    assert_same_parameters(net, replay)
    if batch_size is None:  # after the last good epoch, whose loss is the last in history
        assert good == 0 or net.loss(X, y) == pytest.approx(net.history[-1], rel=1e-14)


def test_divergence_in_the_first_epoch_leaves_the_network_as_it_was():
    X, y = regression_that_diverges()
    net = Network([3, 8, 1], "relu", "identity", seed=0)
    net.history = [1.0]
    before = net.parameters()
    with pytest.raises(FloatingPointError, match="at epoch 1 of 5.*as before fit"):
        net.fit(X, y, epochs=5, learning_rate=1e200)
    assert_same_parameters(net, Network([3, 8, 1], "relu", "identity", seed=0))
    assert net.history == [] and before.keys() == net.parameters().keys()


def test_parameters_too_large_for_the_data_are_reported_before_training():
    net = Network([1, 1], output="identity")
    net.set_parameters({"W1": [[1e308]], "b1": [0.0]})
    net.history = [2.0, 1.0]
    with pytest.raises(FloatingPointError, match="before the first epoch.*too large for float64"):
        net.fit([[1e10]], [0.0], epochs=3, learning_rate=0.1)
    np.testing.assert_array_equal(net.parameters()["W1"], [[1e308]])
    assert net.history == [2.0, 1.0]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"epochs": 0}, ValueError, "epochs must be a positive integer"),
    ({"epochs": -3}, ValueError, "epochs"),
    ({"epochs": 2.5}, TypeError, "epochs"),
    ({"epochs": None}, TypeError, "epochs"),
    ({"learning_rate": 0.0}, ValueError, "learning_rate must be positive"),
    ({"learning_rate": -0.1}, ValueError, "learning_rate must be positive"),
    ({"learning_rate": float("nan")}, ValueError, "learning_rate must be finite"),
    ({"learning_rate": float("inf")}, ValueError, "learning_rate must be finite"),
    ({"learning_rate": "fast"}, TypeError, "learning_rate"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": 4.0}, TypeError, "batch_size"),
    ({"optimizer": "rmsprop"}, ValueError, "unknown optimizer"),
    ({"optimizer": 3}, TypeError, "optimizer"),
    ({"l2": -1.0}, ValueError, "l2 must be >= 0"),
    ({"callback": "print"}, TypeError, "callback"),
    ({"verbose": -1}, ValueError, "verbose"),
])
def test_bad_fit_arguments_raise_and_change_nothing(kwargs, error, match):
    X, y = flower_like()
    net = Network([2, 3, 1])
    net.history = [0.5]
    before = {k: v.tobytes() for k, v in net.parameters().items()}
    with pytest.raises(error, match=match):
        net.fit(X, y, **{"epochs": 3, "learning_rate": 0.1, **kwargs})
    assert {k: v.tobytes() for k, v in net.parameters().items()} == before
    assert net.history == [0.5]


def test_fit_needs_epochs_and_learning_rate_by_keyword():
    X, y = flower_like()
    with pytest.raises(TypeError):
        Network([2, 3, 1]).fit(X, y, 10, 0.1)
    with pytest.raises(TypeError):
        Network([2, 3, 1]).fit(X, y, epochs=10)


# -- it learns ------------------------------------------------------------------------------------


def test_softmax_learns_a_multi_class_problem():
    X, y = datasets.spirals(300, n_classes=3)
    net = Network([2, 64, 3], "relu", "softmax", seed=0)
    net.fit(X, y, epochs=200, learning_rate=0.01, batch_size=32, optimizer="adam")
    assert net.score(X, y) >= 0.95
    assert net.history[-1] < 0.25 * net.history[0]
    np.testing.assert_allclose(net.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)


def test_identity_learns_a_regression():
    x = np.linspace(-1, 1, 200)[:, None]
    y = np.sin(3 * x[:, 0])
    net = Network([1, 32, 1], "tanh", "identity", seed=0)
    net.fit(x, y, epochs=2000, learning_rate=0.01, optimizer="adam")
    assert net.score(x, y) > 0.99
    assert net.loss(x, y) < 1e-3


def test_identity_learns_several_outputs():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 3)
    Y = np.column_stack([X @ [1.0, -2.0, 0.5] + 1, np.tanh(X[:, 0]) * 3])
    net = Network([3, 16, 2], "tanh", "identity", seed=0)
    net.fit(X, Y, epochs=300, learning_rate=0.02, batch_size=20, optimizer="adam")
    assert net.score(X, Y) > 0.98
    assert net.predict(X).shape == (200, 2)


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_every_activation_learns_xor(hidden):
    X, y = datasets.xor()
    net = Network([2, 8, 1], hidden, seed=1)
    net.fit(X, y, epochs=400, learning_rate=0.5 if hidden != "sigmoid" else 2.0)
    assert net.score(X, y) >= 0.97
