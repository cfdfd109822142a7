"""Network edge cases found by trying it as a new user: to() arguments, float16 Adam, empty shards, copies."""

import copy
import pickle

import numpy as np
import pytest

from slopekit import Network, datasets, optimizers


def flower(n=60):
    X, y = datasets.planar_flower()
    return X[:n], y[:n]


@pytest.mark.parametrize("like, error, match", [
    (None, TypeError, "like must be an array or an array namespace"),
    (42, TypeError, "like must be an array or an array namespace"),
    ("nonesuch", TypeError, "unknown library 'nonesuch'"),
])
def test_to_refuses_what_is_not_a_library(like, error, match):
    net = Network([2, 3, 1])
    before = net.parameters()
    with pytest.raises(error, match=match):
        net.to(like)
    assert all(np.array_equal(before[k], v) for k, v in net.parameters().items())


def test_to_takes_a_library_by_name():
    torch = pytest.importorskip("torch")
    net = Network([2, 3, 1]).to("torch")
    assert all(isinstance(p, torch.Tensor) for p in net.parameters().values())
    assert isinstance(net.to("numpy").parameters()["W1"], np.ndarray)


def test_numpy_has_only_the_cpu():
    with pytest.raises(ValueError, match="NumPy arrays live on the CPU"):
        Network([2, 3, 1]).to(np, device="cuda")


def test_devices_that_cannot_hold_the_parameters_are_refused_and_nothing_changes():
    torch = pytest.importorskip("torch")
    net = Network([2, 3, 1])
    with pytest.raises(ValueError, match="'meta' device holds no data"):
        net.to(torch, device="meta")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="cannot move the parameters to torch on device 'cuda'"):
            net.to(torch, device="cuda")
    assert isinstance(net.parameters()["W1"], np.ndarray)
    X, y = flower()
    assert net.fit(X, y, epochs=1, learning_rate=0.1).score(X, y) >= 0


def test_jax_without_x64_is_refused_for_float64_not_truncated():
    jax = pytest.importorskip("jax")
    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(ValueError, match="jax_enable_x64"):
            Network([2, 3, 1], dtype="float64").to("jax")
        assert Network([2, 3, 1]).to("jax", dtype="float32").dtype == jax.numpy.float32
    finally:
        jax.config.update("jax_enable_x64", before)


@pytest.mark.parametrize("call", ["fit", "partial_fit"])
def test_adam_whose_eps_rounds_to_zero_in_float16_is_refused_before_anything_changes(call):
    X, y = flower()
    net = Network([2, 8, 1], "tanh", dtype="float16")
    before = net.parameters()
    kwargs = {"epochs": 2} if call == "fit" else {}
    with pytest.raises(ValueError, match="eps=1e-08 rounds to 0 in float16"):
        getattr(net, call)(X, y, learning_rate=0.01, optimizer="adam", **kwargs)
    assert all(np.array_equal(before[k], v) for k, v in net.parameters().items()) and net.history == []
    follow = Network([2, 8, 1], "tanh")  # dtype=None follows float16 data: refused the same way
    with pytest.raises(ValueError, match="rounds to 0 in float16"):
        getattr(follow, call)(X.astype(np.float16), y, learning_rate=0.01, optimizer="adam", **kwargs)
    assert follow.dtype == np.float64
    net.fit(X, y, epochs=20, learning_rate=0.01, optimizer=optimizers.Adam(eps=1e-4))
    assert np.isfinite(net.history).all() and net.history[-1] < net.history[0]


def test_an_empty_shard_adds_nothing_to_the_sums():
    X, y = flower(30)
    net = Network([2, 5, 3], "tanh", "softmax", seed=1)
    y = y + (X[:, 0] > 1)
    whole, grads = net.loss_and_gradients(X, y, reduction="sum")
    empty, zero = net.loss_and_gradients(X[:0], y[:0], reduction="sum")
    assert empty == 0.0
    for k, g in grads.items():
        assert zero[k].shape == g.shape and not np.signbit(zero[k]).any() and not zero[k].any()
    with pytest.raises(ValueError, match=r"an empty shard must have shape \(0, 2\)"):
        net.loss_and_gradients(np.zeros((0, 3)), [], reduction="sum")
    with pytest.raises(ValueError, match="L2 penalty"):
        net.loss_and_gradients(X[:0], y[:0], reduction="sum", l2=0.1)
    with pytest.raises(ValueError, match="empty"):  # a mean over no samples is not a number
        net.loss_and_gradients(X[:0], y[:0])


def libraries():
    yield "numpy", lambda a: a
    try:
        import torch
    except ImportError:
        return
    yield "torch", torch.tensor


@pytest.mark.parametrize("name, convert", list(libraries()), ids=[n for n, _ in libraries()])
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copies_continue_training_exactly(name, convert, how):
    X, y = flower()
    net = Network([2, 4, 1], "tanh", seed=3)
    for _ in range(2):
        net.partial_fit(convert(X), convert(y), learning_rate=0.1, optimizer="adam", batch_size=16)
    other = copy.deepcopy(net) if how == "deepcopy" else pickle.loads(pickle.dumps(net))
    assert repr(other) == repr(net) and other.history == net.history
    for n in (net, other):
        n.partial_fit(convert(X), convert(y), learning_rate=0.1, optimizer="adam", batch_size=16)
    assert other.optimizer_state()["t"] == net.optimizer_state()["t"]
    for k, p in net.parameters().items():
        q = other.parameters()[k]
        assert type(q) is type(p)
        np.testing.assert_array_equal(np.asarray(q), np.asarray(p))
