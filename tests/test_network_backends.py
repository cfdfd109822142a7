"""Network on other array libraries (issue 11): PyTorch, array-api-strict, JAX where installed, CUDA where present.

Each library's run is checked against references that cannot share its bugs:
the NumPy engine's run on the same data (a different engine: preallocated
buffers, the learning rate folded into dZ_L), PyTorch autograd, and a second,
independent spelling of the same computation through public calls (fit
against partial_fit, one whole set against its shards). No timings here.
"""

import math

import numpy as np
import pytest

import slopekit
from slopekit import Network, datasets, network, optimizers

torch = pytest.importorskip("torch")
F = torch.nn.functional

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


# -- the libraries --------------------------------------------------------------------------------


class Lib:
    """One array library (on one device) as the tests use it: from NumPy, to NumPy, and what its arrays are."""

    def __init__(self, name, device=None):
        self.name, self.device = name, device
        if name == "torch":
            self.xp, self.dtypes = torch, ("float16", "bfloat16", "float32", "float64")
        elif name == "array_api_strict":
            self.xp = pytest.importorskip("array_api_strict")
            self.dtypes = ("float32", "float64")
        elif name == "jax":
            self.xp = pytest.importorskip("jax").numpy
            self.dtypes = ("float16", "bfloat16", "float32", "float64")
        else:
            raise AssertionError(name)

    def __repr__(self):
        return self.name if self.device is None else f"{self.name}:{self.device}"

    def asarray(self, x, dtype=None):
        x = np.asarray(x)
        if self.name == "torch":
            t = torch.from_numpy(np.ascontiguousarray(x))
            return t.to(device=self.device or "cpu", dtype=None if dtype is None else getattr(torch, dtype))
        arr = self.xp.asarray(x)
        return arr if dtype is None else self.xp.astype(arr, getattr(self.xp, dtype))

    def numpy(self, x):
        if self.name == "torch":
            x = x.detach()
            return (x.float() if x.dtype == torch.bfloat16 else x).cpu().numpy()
        return np.asarray(x)

    def is_mine(self, x):
        """Whether ``x`` is an array of this library on this library's device."""
        if self.name == "torch":
            return isinstance(x, torch.Tensor) and x.device.type == (self.device or "cpu")
        if self.name == "jax":
            import jax

            return isinstance(x, jax.Array)
        return type(x) is type(self.xp.asarray(0.0))

    def dtype_name(self, x):
        return dtype_name(x.dtype)


def dtype_name(dtype):
    """``"float32"`` for NumPy's, PyTorch's, JAX's or array-api-strict's float32 (a dtype or a scalar type)."""
    return str(dtype).rsplit(".", 1)[-1].strip("'>")


@pytest.fixture
def jax_x64():
    """JAX with float64 enabled for the test, as it was afterwards."""
    jax = pytest.importorskip("jax")
    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


LIB_NAMES = ["torch", "array_api_strict", "jax"]


@pytest.fixture(params=LIB_NAMES)
def lib(request):
    if request.param == "jax":
        request.getfixturevalue("jax_x64")
    return Lib(request.param)


DEVICES = ["cpu", pytest.param("cuda", marks=CUDA)]


def core_only_on_jax(lib, core):
    """Skip a JAX case that is not ``core``: JAX compiles each operation for each new shape, which is slow."""
    if lib.name == "jax" and not core:
        pytest.skip("JAX runs the core cases only, to keep this file fast")


def flower(n=None):
    X, y = datasets.planar_flower()
    return (X, y) if n is None else (X[:n], y[:n])


def assert_same_parameters(net, want, *, rtol, atol=0.0, lib=None):
    """``net``'s parameters (of any library) against the dict ``want`` of NumPy arrays."""
    got = net.parameters()
    assert list(got) == list(want)
    for k, p in got.items():
        host = lib.numpy(p) if lib is not None else np.asarray(p)
        if rtol == 0 and atol == 0:
            np.testing.assert_array_equal(host, want[k], err_msg=k)
        else:
            np.testing.assert_allclose(host, want[k], rtol=rtol, atol=atol, err_msg=k)


# -- the same training as NumPy ------------------------------------------------------------------------

#: (name, layer sizes, hidden, output, fit arguments): 100 epochs of full-batch gradient descent, 5 of
#: mini-batch Adam (batch 32), and momentum, as issue 11 asks.
RUNS = [
    ("gd-100", [2, 4, 1], "tanh", "sigmoid", dict(epochs=100, learning_rate=1.0)),
    ("adam-32", [2, 4, 1], "tanh", "sigmoid", dict(epochs=5, learning_rate=0.01, batch_size=32, optimizer="adam")),
    ("momentum-32", [2, 4, 1], "tanh", "sigmoid",
     dict(epochs=5, learning_rate=0.2, batch_size=32, optimizer="momentum")),
    ("momentum-full", [2, 6, 2], "relu", "softmax", dict(epochs=20, learning_rate=0.5, optimizer="momentum", l2=0.1)),
    ("adam-identity", [2, 5, 1], "sigmoid", "identity",
     dict(epochs=3, learning_rate=0.01, batch_size=50, optimizer="adam", l2=0.05)),
]


def run_targets(output, y):
    return y.astype(np.float64) * 2.0 - 1.0 if output == "identity" else y


def numpy_run(sizes, hidden, output, kwargs, dtype=np.float64):
    X, y = flower()
    net = Network(sizes, hidden, output, seed=3)
    net.fit(X.astype(dtype), run_targets(output, y), **kwargs)
    return net


@pytest.mark.parametrize("name, sizes, hidden, output, kwargs", RUNS, ids=[r[0] for r in RUNS])
def test_float64_training_equals_numpy(lib, name, sizes, hidden, output, kwargs):
    core_only_on_jax(lib, name in ("gd-100", "adam-32"))
    X, y = flower()
    want = numpy_run(sizes, hidden, output, kwargs)
    net = Network(sizes, hidden, output, seed=3)
    net.fit(lib.asarray(X), lib.asarray(run_targets(output, y)), **kwargs)
    assert lib.is_mine(net.parameters()["W1"]) and lib.dtype_name(net.parameters()["W1"]) == "float64"
    assert_same_parameters(net, want.parameters(), rtol=1e-10, atol=1e-13, lib=lib)
    np.testing.assert_allclose(net.history, want.history, rtol=1e-10)
    assert len(net.history) == kwargs["epochs"]


@pytest.mark.parametrize("name, sizes, hidden, output, kwargs", RUNS[:3], ids=[r[0] for r in RUNS[:3]])
def test_float32_training_equals_numpy_float32(lib, name, sizes, hidden, output, kwargs):
    core_only_on_jax(lib, False)
    X, y = flower()
    want = numpy_run(sizes, hidden, output, kwargs, dtype=np.float32)
    assert want.dtype == np.float32
    net = Network(sizes, hidden, output, seed=3)
    net.fit(lib.asarray(X, "float32"), lib.asarray(y), **kwargs)
    assert lib.dtype_name(net.parameters()["W1"]) == "float32"
    assert_same_parameters(net, want.parameters(), rtol=1e-4, atol=1e-6, lib=lib)
    # and float32 is a real float32 run, not float64 rounded at the end
    wide = numpy_run(sizes, hidden, output, kwargs)
    assert any(not np.array_equal(lib.numpy(p), wide.parameters()[k].astype(np.float32))
               for k, p in net.parameters().items())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name, sizes, hidden, output, kwargs", RUNS[:3], ids=[r[0] for r in RUNS[:3]])
def test_torch_training_on_each_device_equals_numpy(device, name, sizes, hidden, output, kwargs):
    if device == "cpu" and name != "adam-32":
        pytest.skip("the CPU runs are test_float64_training_equals_numpy's")
    lib = Lib("torch", device)
    X, y = flower()
    want = numpy_run(sizes, hidden, output, kwargs)
    net = Network(sizes, hidden, output, seed=3).fit(lib.asarray(X), lib.asarray(y), **kwargs)
    assert net.device.type == device
    for p in net.parameters().values():
        assert p.device.type == device
    assert_same_parameters(net, want.parameters(), rtol=1e-10, atol=1e-13, lib=lib)
    assert lib.is_mine(net.predict(lib.asarray(X)))


@pytest.mark.parametrize("hidden", slopekit.names())
def test_every_hidden_activation_trains_on_torch_as_on_numpy(hidden):
    X, y = flower(120)
    kwargs = dict(epochs=2, learning_rate=0.05, batch_size=40, optimizer="momentum")
    with np.errstate(all="ignore"):
        want = Network([2, 6, 5, 1], [hidden, "tanh"], seed=1).fit(X, y, **kwargs)
    net = Network([2, 6, 5, 1], [hidden, "tanh"], seed=1).fit(torch.from_numpy(X), torch.from_numpy(y), **kwargs)
    assert_same_parameters(net, want.parameters(), rtol=1e-9, atol=1e-13, lib=Lib("torch"))


# -- what the methods take and give ------------------------------------------------------------------


@pytest.mark.parametrize("output", ["sigmoid", "softmax", "identity"])
def test_every_method_answers_in_the_data_library(lib, output):
    core_only_on_jax(lib, output == "sigmoid")
    X, y = flower(60)
    sizes = [2, 5, 2 if output == "softmax" else 1]
    y = run_targets(output, y)
    net = Network(sizes, "tanh", output, seed=0)
    ref = Network(sizes, "tanh", output, seed=0)
    Xl, yl = lib.asarray(X), lib.asarray(y)
    assert net.fit(Xl, yl, epochs=2, learning_rate=0.1) is net
    ref.fit(X, y, epochs=2, learning_rate=0.1)
    assert net.partial_fit(Xl, yl, learning_rate=0.1) is net
    ref.partial_fit(X, y, learning_rate=0.1)
    assert net.array_namespace is not np and net.device is not None
    params = net.parameters()
    assert all(lib.is_mine(p) for p in params.values())
    assert_same_parameters(net, ref.parameters(), rtol=1e-12, atol=1e-15, lib=lib)

    pred = net.predict(Xl)
    assert lib.is_mine(pred)
    if output == "identity":
        assert lib.dtype_name(pred) == "float64"
        np.testing.assert_allclose(lib.numpy(pred), ref.predict(X), rtol=1e-12)
    else:
        assert lib.dtype_name(pred) == "int64"
        np.testing.assert_array_equal(lib.numpy(pred), ref.predict(X))
        proba = net.predict_proba(Xl)
        assert lib.is_mine(proba) and lib.dtype_name(proba) == "float64"
        np.testing.assert_allclose(lib.numpy(proba), ref.predict_proba(X), rtol=1e-12)

    score, loss = net.score(Xl, yl), net.loss(Xl, yl, l2=0.3)
    assert type(score) is float and type(loss) is float
    assert score == pytest.approx(ref.score(X, y), rel=1e-12)
    assert loss == pytest.approx(ref.loss(X, y, l2=0.3), rel=1e-12)

    grads = net.gradients(Xl, yl, l2=0.3)
    value, both = net.loss_and_gradients(Xl, yl, l2=0.3)
    assert type(value) is float and value == loss
    want = ref.gradients(X, y, l2=0.3)
    for k in want:
        assert lib.is_mine(grads[k]) and lib.is_mine(both[k])
        np.testing.assert_allclose(lib.numpy(grads[k]), want[k], rtol=1e-10, atol=1e-15, err_msg=k)
        np.testing.assert_array_equal(lib.numpy(both[k]), lib.numpy(grads[k]), err_msg=k)


def test_results_stay_on_the_device_of_the_data():
    """predict and its kin answer on the parameters' device: a CPU run answers on the CPU, a CUDA run on CUDA."""
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    X, y = flower(50)
    for device in devices:
        lib = Lib("torch", device)
        net = Network([2, 3, 1], "tanh").fit(lib.asarray(X), lib.asarray(y), epochs=1, learning_rate=0.1)
        for result in (net.predict(lib.asarray(X)), net.predict_proba(lib.asarray(X)),
                       *net.gradients(lib.asarray(X), lib.asarray(y)).values()):
            assert result.device.type == device


# -- moving between libraries ---------------------------------------------------------------------------


def test_first_fit_on_another_library_moves_the_parameters_and_the_optimizer_state(lib):
    core_only_on_jax(lib, False)
    X, y = flower(100)
    kwargs = dict(learning_rate=0.05, optimizer="adam", batch_size=30)
    net, ref = Network([2, 4, 1], "tanh"), Network([2, 4, 1], "tanh")
    net.partial_fit(X, y, **kwargs)
    ref.partial_fit(X, y, **kwargs)
    state = net.optimizer_state()
    assert state["t"] == 4 and all(isinstance(v, np.ndarray) for v in state["v"])
    net.partial_fit(lib.asarray(X), lib.asarray(y), **kwargs)  # moves there, and continues Adam's moments
    ref.partial_fit(X, y, **kwargs)
    assert all(lib.is_mine(p) for p in net.parameters().values())
    assert_same_parameters(net, ref.parameters(), rtol=1e-12, atol=1e-15, lib=lib)
    assert net.optimizer_state()["t"] == ref.optimizer_state()["t"] == 8
    for name in ("v", "s"):
        for got, want in zip(net.optimizer_state()[name], ref.optimizer_state()[name]):
            assert isinstance(got, np.ndarray)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-18)
    assert net.history == pytest.approx(ref.history, rel=1e-12)
    # and back to NumPy with the state again
    net.partial_fit(X, y, **kwargs)
    ref.partial_fit(X, y, **kwargs)
    assert all(isinstance(p, np.ndarray) for p in net.parameters().values())
    assert_same_parameters(net, ref.parameters(), rtol=1e-12, atol=1e-15)


def to_targets(lib):
    """What `Network.to` accepts for ``lib``: an array of it and its namespace (or module)."""
    targets = [lib.asarray(np.zeros(2)), lib.xp]
    if lib.name == "torch":
        import array_api_compat.torch

        targets.append(array_api_compat.torch)
    return targets


def test_to_moves_to_an_array_or_a_namespace_and_back_exactly(lib):
    X, y = flower(40)
    for like in to_targets(lib):
        net = Network([2, 4, 3], "relu", "softmax", seed=7)
        start = net.parameters()
        assert net.to(like) is net
        assert all(lib.is_mine(p) for p in net.parameters().values())
        assert_same_parameters(net, start, rtol=0, lib=lib)
        # the methods run there at once: the device is the library's own, not None
        assert lib.is_mine(net.predict(lib.asarray(X)))
        assert net.device is not None
        assert net.to(like) is net  # already there: nothing changes
        assert_same_parameters(net, start, rtol=0, lib=lib)
        assert net.to(np) is net and net.device is None
        assert all(isinstance(p, np.ndarray) for p in net.parameters().values())
        assert_same_parameters(net, start, rtol=0)
        assert isinstance(net.predict(X), np.ndarray)
    net = Network([2, 4, 3], "relu", "softmax", seed=7).to(lib.asarray(X)).to(np.zeros(1))
    assert all(isinstance(p, np.ndarray) for p in net.parameters().values())


@pytest.mark.parametrize("device", DEVICES)
def test_to_a_torch_device(device):
    X, _ = flower(30)
    for spelling in (device, torch.device(device)):
        net = Network([2, 3, 1], seed=2).to(torch, device=spelling)
        assert net.device.type == device and all(p.device.type == device for p in net.parameters().values())
        assert net.predict(torch.from_numpy(X).to(device)).device.type == device
        assert_same_parameters(net, Network([2, 3, 1], seed=2).parameters(), rtol=0, lib=Lib("torch", device))


def test_to_with_a_dtype():
    net = Network([2, 3, 1], seed=2).to(torch, dtype=torch.float32)
    assert net.dtype == torch.float32 and net.parameters()["W1"].dtype == torch.float32
    np.testing.assert_array_equal(net.parameters()["W1"].numpy(),
                                  Network([2, 3, 1], seed=2).parameters()["W1"].astype(np.float32))
    net.to(torch, dtype="bfloat16")
    assert net.parameters()["W1"].dtype == torch.bfloat16
    with pytest.raises(ValueError, match="bfloat16"):
        net.to(np)
    net.to(np, dtype="float64")
    assert net.dtype == np.float64


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score", "loss", "gradients", "loss_and_gradients"])
def test_another_library_s_arrays_are_refused_naming_both_and_net_to(lib, method):
    X, y = flower(20)
    mine = Network([2, 3, 1]).fit(lib.asarray(X), lib.asarray(y), epochs=1, learning_rate=0.1)
    numpy_net = Network([2, 3, 1])
    for net, data, theirs, ours in [(mine, X, "numpy", lib.name), (numpy_net, lib.asarray(X), lib.name, "numpy")]:
        owner = lib if net is mine else None
        before = {k: owner.numpy(v) if owner else v for k, v in net.parameters().items()}
        args = (data,) if method.startswith("predict") else (data, y)
        with pytest.raises(TypeError) as info:
            getattr(net, method)(*args)
        message = str(info.value)
        assert theirs in message and ours in message and "net.to(" in message, message
        assert_same_parameters(net, before, rtol=0, lib=owner)  # nothing moved


# -- seeds, shuffles, dtypes ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_same_seed_gives_the_same_initial_parameters_in_every_library(lib, dtype):
    core_only_on_jax(lib, dtype == "float64")
    for seed, init in [(0, None), (12345, "he"), (2**32 - 1, "small")]:
        want = Network([3, 7, 5, 2], ["relu", "tanh"], "softmax", seed=seed, dtype=dtype, init=init).parameters()
        moved = Network([3, 7, 5, 2], ["relu", "tanh"], "softmax", seed=seed, dtype=dtype, init=init)
        moved.to(lib.xp)
        assert_same_parameters(moved, want, rtol=0, lib=lib)
        if init is not None or lib.name == "jax":  # (JAX: its training is checked elsewhere; compiling is slow)
            continue
        # the first fit moves them as they are: one step of learning rate 1e-300 changes no bit of W
        X = np.random.RandomState(seed % 1000).randn(4, 3).astype(dtype)
        fitted = Network([3, 7, 5, 2], ["relu", "tanh"], "softmax", seed=seed, dtype=dtype, init=init)
        fitted.fit(lib.asarray(X), lib.asarray(np.array([0, 1, 0, 1])), epochs=1, learning_rate=1e-300)
        got = fitted.parameters()
        assert lib.dtype_name(got["W1"]) == dtype
        for k in want:
            if k[0] == "W":
                np.testing.assert_array_equal(lib.numpy(got[k]), want[k], err_msg=k)
            else:  # b starts at 0 and moves by 1e-300 * db at most
                assert np.all(np.abs(lib.numpy(got[k]).astype(np.float64)) < 1e-290), k


@pytest.fixture
def recorder():
    """An identity activation that records the ``z`` of each forward call, through `layer_kernels` (any engine)."""
    seen = []
    Identity = type(slopekit.get("identity"))

    class Recorder(Identity):
        def layer_kernels(self, dtype, n_elements, xp=None):
            forward, backward = super().layer_kernels(dtype, n_elements, xp)
            if xp is None:
                def spy(z, a):
                    seen.append(np.array(z, copy=True))
                    forward(z, a)
            else:
                def spy(z):
                    seen.append(Lib("torch").numpy(z) if isinstance(z, torch.Tensor) else np.asarray(z))
                    return forward(z)
            return spy, backward

    return Recorder(), seen


def shuffled_batches(X, seed, epochs, batch_size):
    rng = np.random.RandomState(seed)
    batches = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        batches += [X[order[s:s + batch_size]] for s in range(0, len(X), batch_size)]
    return batches


def test_torch_takes_the_same_mini_batches_as_numpy(lib, recorder):
    core_only_on_jax(lib, False)
    g, seen = recorder
    X, y = flower(70)
    eye = {"W1": np.eye(2), "b1": np.zeros(2), "W2": np.zeros((1, 2)), "b2": np.zeros(1)}
    runs = {}
    for name, (Xs, ys) in {"numpy": (X, y), lib.name: (lib.asarray(X), lib.asarray(y))}.items():
        seen.clear()
        net = Network([2, 2, 1], g, seed=11).set_parameters(eye)
        # W1 = I and b1 = 0 to the last bit: layer 1's z is the batch
        net.fit(Xs, ys, epochs=2, learning_rate=1e-300, batch_size=16)
        runs[name] = list(seen)
    want = shuffled_batches(X, 11, 2, 16)
    assert len(want) == 10
    for name, batches in runs.items():
        assert len(batches) == len(want), name
        for got, batch in zip(batches, want):
            np.testing.assert_array_equal(got, batch, err_msg=name)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_each_floating_dtype_of_the_library(lib, dtype):
    if dtype not in lib.dtypes:
        pytest.skip(f"{lib.name} has no {dtype}")
    core_only_on_jax(lib, dtype == "bfloat16")
    X, y = flower(200)
    net = Network([2, 4, 1], "tanh", seed=0)  # dtype=None: follows the data
    Xl = lib.asarray(X, dtype)
    net.fit(Xl, lib.asarray(y), epochs=10, learning_rate=0.5, batch_size=100)
    assert dtype_name(net.dtype) == dtype and "dtype=" + repr(dtype) in repr(net)
    for p in net.parameters().values():
        assert lib.is_mine(p) and lib.dtype_name(p) == dtype
    proba = net.predict_proba(Xl)
    assert lib.dtype_name(proba) == dtype and lib.dtype_name(net.predict(Xl)) == "int64"
    assert all(math.isfinite(v) for v in net.history) and net.history[-1] < net.history[0]
    wide = Network([2, 4, 1], "tanh", seed=0).fit(X, y, epochs=10, learning_rate=0.5, batch_size=100)
    tol = {"float16": 0.05, "bfloat16": 0.2, "float32": 1e-4, "float64": 1e-10}[dtype]
    assert_same_parameters(net, wide.parameters(), rtol=tol, atol=tol, lib=lib)


def test_numpy_float16_and_bfloat16():
    X, y = flower(100)
    net = Network([2, 3, 1], "tanh").fit(X.astype(np.float16), y, epochs=3, learning_rate=0.5)
    assert net.dtype == np.float16 and net.parameters()["W1"].dtype == np.float16
    with pytest.raises(ValueError, match="bfloat16"):
        Network([2, 3, 1], dtype="bfloat16")
    # a network that follows the data's dtype goes from bfloat16 tensors to NumPy float64 data
    net = Network([2, 3, 1]).fit(torch.from_numpy(X).bfloat16(), torch.from_numpy(y), epochs=1, learning_rate=0.1)
    assert net.parameters()["W1"].dtype == torch.bfloat16
    net.fit(X, y, epochs=1, learning_rate=0.1)
    assert net.dtype == np.float64
    # one fixed at bfloat16 cannot move to NumPy, and stays as it was
    net = Network([2, 3, 1]).to(torch, dtype="bfloat16")
    before = net.parameters()
    with pytest.raises(ValueError, match="bfloat16"):
        net.fit(X, y, epochs=1, learning_rate=0.1)
    after = net.parameters()
    assert after["W1"].dtype == torch.bfloat16 and all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("where", ["numpy", "torch"])
def test_dtype_none_follows_the_data(where):
    X, y = flower(50)
    wrap = (lambda a: a) if where == "numpy" else (lambda a: torch.from_numpy(np.ascontiguousarray(a)))
    name = lambda net: dtype_name(net.dtype)  # noqa: E731
    net = Network([2, 3, 1], "tanh")
    assert net.dtype == np.float64  # before any training
    net.fit(wrap(X.astype(np.float32)), wrap(y), epochs=1, learning_rate=0.1)
    assert name(net) == "float32"
    net.fit(wrap(X), wrap(y), epochs=1, learning_rate=0.1)
    assert name(net) == "float64"
    net.fit(wrap(X.astype(np.float32)), wrap(y), epochs=1, learning_rate=0.1)
    net.fit(wrap((X * 10).astype(np.int64)), wrap(y), epochs=1, learning_rate=0.01)
    assert name(net) == "float32"  # integers carry no floating dtype: the network keeps its own
    fresh = Network([2, 3, 1], "tanh").fit(wrap((X * 10).astype(np.int64)), wrap(y), epochs=1, learning_rate=0.01)
    assert name(fresh) == "float64"
    fixed = Network([2, 3, 1], "tanh", dtype="float32").fit(wrap(X), wrap(y), epochs=1, learning_rate=0.1)
    assert name(fixed) == "float32"  # an explicit dtype does not follow
    assert str(fixed.parameters()["W1"].dtype).endswith("float32")


def test_a_tensor_that_requires_grad_is_accepted_and_no_graph_is_built():
    X, y = flower(60)
    Xg = torch.from_numpy(X).clone().requires_grad_(True)
    yt = torch.from_numpy(y)
    yg = torch.from_numpy(y.astype(np.float64)).requires_grad_(True)
    net, ref = Network([2, 4, 1], "tanh"), Network([2, 4, 1], "tanh")
    net.fit(Xg, yg, epochs=2, learning_rate=0.1, batch_size=25, optimizer="adam")
    ref.fit(X, y, epochs=2, learning_rate=0.1, batch_size=25, optimizer="adam")
    net.partial_fit(Xg, yt, learning_rate=0.1)
    ref.partial_fit(X, y, learning_rate=0.1)
    assert_same_parameters(net, ref.parameters(), rtol=1e-12, atol=1e-15, lib=Lib("torch"))
    results = [net.predict(Xg), net.predict_proba(Xg), *net.parameters().values(),
               *net.gradients(Xg, yg).values(), *net.loss_and_gradients(Xg, yt, reduction="sum")[1].values()]
    for r in results:
        assert not r.requires_grad and r.grad_fn is None
    assert type(net.score(Xg, yg)) is float and type(net.loss(Xg, yg)) is float
    assert Xg.grad is None and yg.grad is None and Xg.requires_grad
    assert torch.is_grad_enabled()


def test_dask_arrays_mixed_with_others_are_refused_and_nothing_is_computed():
    da = pytest.importorskip("dask.array")
    X, y = flower(40)
    computed = []

    def block(x):
        computed.append(x.shape)
        return x

    Xd = da.from_array(X, chunks=(10, 2)).map_blocks(block, dtype=X.dtype, meta=np.empty((0, 0)))
    yd = da.from_array(y, chunks=10).map_blocks(block, dtype=y.dtype, meta=np.empty(0, y.dtype))
    computed.clear()
    net = Network([2, 3, 1])
    before = net.parameters()
    calls = [("fit", (X, yd), dict(epochs=1, learning_rate=0.1)), ("partial_fit", (X, yd), dict(learning_rate=0.1)),
             ("score", (X, yd), {}), ("loss", (X, yd), {}), ("loss_and_gradients", (X, yd), {})]
    for method, args, kwargs in calls:
        with pytest.raises(TypeError, match=r"y is a Dask array but X is a ndarray; pass both as Dask arrays"):
            getattr(net, method)(*args, **kwargs)
    tnet = Network([2, 3, 1]).to(torch)
    with pytest.raises(TypeError, match=r"y is a Dask array but X is a Tensor"):
        tnet.fit(torch.from_numpy(X), yd, epochs=1, learning_rate=0.1)
    lazy = net.predict(Xd), net.predict_proba(Xd)
    assert computed == []
    assert_same_parameters(net, before, rtol=0)
    assert net.history == [] and net.optimizer_state() is None
    np.testing.assert_array_equal(lazy[0].compute(), net.predict(X))


@pytest.mark.parametrize("batch_size", [None, 5])
def test_divergence_on_torch_restores_the_parameters(batch_size):
    rng = np.random.RandomState(0)
    X, y = torch.from_numpy(rng.randn(23, 3)), torch.from_numpy(rng.randn(23, 2) * 1e3)
    net = Network([3, 8, 2], "relu", "identity", seed=0)
    with pytest.raises(FloatingPointError, match="diverged"):
        net.fit(X, y, epochs=500, learning_rate=50.0, batch_size=batch_size)
    good = len(net.history)
    assert all(bool(torch.isfinite(p).all()) for p in net.parameters().values())
    replay = Network([3, 8, 2], "relu", "identity", seed=0)
    if good:
        replay.fit(X, y, epochs=good, learning_rate=50.0, batch_size=batch_size)
    else:
        replay.to(X)
    for k, p in net.parameters().items():  # as after the last finite epoch (mini-batches: its start)
        assert torch.equal(p, replay.parameters()[k]), k


# -- partial_fit -------------------------------------------------------------------------------------------

PARTIAL = [("gd", None), ("gd", 32), ("momentum", None), ("momentum", 32), ("adam", None), ("adam", 32)]


def rng_for(kind):
    """A fresh rng of each kind: None (the network's seed), an integer seed, or one RandomState passed each call."""
    return {"none": None, "seed": 99, "state": np.random.RandomState(99)}[kind]


@pytest.mark.parametrize("rng_kind", ["none", "seed", "state"])
@pytest.mark.parametrize("optimizer, batch_size", PARTIAL)
def test_k_partial_fits_equal_fit_with_k_epochs_bit_for_bit(optimizer, batch_size, rng_kind):
    if batch_size is None and rng_kind != "none":
        pytest.skip("full batches draw no shuffles")
    X, y = flower(150)
    kwargs = dict(learning_rate=0.05, optimizer=optimizer, batch_size=batch_size, l2=0.01)
    whole = Network([2, 5, 1], "tanh", seed=4).fit(X, y, epochs=4, rng=rng_for(rng_kind), **kwargs)
    net = Network([2, 5, 1], "tanh", seed=4)
    rng = rng_for(rng_kind)
    for k in range(1, 5):
        assert net.partial_fit(X, y, rng=rng, **kwargs) is net
        assert len(net.history) == k
        assert net.optimizer_state()["t"] == k * (1 if batch_size is None else 5)
    assert_same_parameters(net, whole.parameters(), rtol=0)
    assert net.history == whole.history
    if rng_kind == "seed":  # an integer seeds a RandomState, not the network's seed
        seeded = Network([2, 5, 1], "tanh", seed=4).fit(X, y, epochs=4, rng=np.random.RandomState(99), **kwargs)
        assert_same_parameters(net, seeded.parameters(), rtol=0)
        unseeded = Network([2, 5, 1], "tanh", seed=4).fit(X, y, epochs=4, **kwargs)
        assert any(not np.array_equal(p, unseeded.parameters()[k]) for k, p in net.parameters().items())


@pytest.mark.parametrize("rng_kind", ["none", "seed", "state"])
@pytest.mark.parametrize("optimizer, batch_size", [("momentum", None), ("adam", 32), ("gd", 32)])
def test_k_partial_fits_on_torch_equal_fit_with_k_epochs(optimizer, batch_size, rng_kind):
    if batch_size is None and rng_kind != "none":
        pytest.skip("full batches draw no shuffles")
    X, y = flower(150)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    kwargs = dict(learning_rate=0.05, optimizer=optimizer, batch_size=batch_size)
    whole = Network([2, 5, 1], "tanh", seed=4).fit(Xt, yt, epochs=3, rng=rng_for(rng_kind), **kwargs)
    numpy_whole = Network([2, 5, 1], "tanh", seed=4).fit(X, y, epochs=3, rng=rng_for(rng_kind), **kwargs)
    net = Network([2, 5, 1], "tanh", seed=4)
    rng = rng_for(rng_kind)
    for _ in range(3):
        net.partial_fit(Xt, yt, rng=rng, **kwargs)
    want = {k: v.numpy() for k, v in whole.parameters().items()}
    assert_same_parameters(net, want, rtol=1e-12, atol=1e-15, lib=Lib("torch"))
    assert_same_parameters(net, numpy_whole.parameters(), rtol=1e-10, atol=1e-13, lib=Lib("torch"))
    assert net.history == pytest.approx(whole.history, rel=1e-12)


def test_history_grows_per_partial_fit_and_fit_restarts_it():
    X, y = flower(80)
    net = Network([2, 3, 1], "tanh")
    net.partial_fit(X, y, learning_rate=0.1)
    net.partial_fit(X, y, learning_rate=0.1)
    first = list(net.history)
    assert len(first) == 2
    net.fit(X, y, epochs=3, learning_rate=0.1)
    assert len(net.history) == 3
    net.partial_fit(X, y, learning_rate=0.1)
    assert len(net.history) == 4 and net.history[-1] == pytest.approx(net.loss(X, y), rel=1e-12)


def continue_fresh(net, X, y, **kwargs):
    """A twin with ``net``'s parameters and no optimizer state, after one partial_fit."""
    twin = Network(net.layer_sizes, list(net.hidden), net.output, seed=net.seed).set_parameters(net.parameters())
    return twin.partial_fit(X, y, **kwargs)


@pytest.mark.parametrize("change", ["optimizer", "hyperparameter", "fit"])
def test_the_optimizer_state_restarts_when_the_optimizer_changes_or_after_fit(change):
    X, y = flower(90)
    net = Network([2, 4, 1], "tanh", seed=1)
    for _ in range(3):
        net.partial_fit(X, y, learning_rate=0.05, optimizer="adam")
    state = net.optimizer_state()  # Adam's, after 3 steps
    assert state["t"] == 3
    after = {"fit": dict(learning_rate=0.05, optimizer="adam"),
             "optimizer": dict(learning_rate=0.05, optimizer="momentum"),
             "hyperparameter": dict(learning_rate=0.05, optimizer=optimizers.Adam(beta1=0.8))}[change]
    if change == "fit":
        net.fit(X, y, epochs=2, learning_rate=0.05, optimizer="adam")
    start = net.parameters()
    want = continue_fresh(net, X, y, **after)
    net.partial_fit(X, y, **after)
    assert net.optimizer_state()["t"] == 1 and net.optimizer_state()["optimizer"] == optimizers.get(after["optimizer"])
    assert_same_parameters(net, want.parameters(), rtol=0)
    if change != "optimizer":  # continuing the old moments instead would have given other parameters
        continued = Network([2, 4, 1], "tanh", seed=1).set_parameters(start)
        continued.set_optimizer_state({**state, "optimizer": optimizers.get(after["optimizer"])})
        continued.partial_fit(X, y, **after)
        assert continued.optimizer_state()["t"] == 4
        assert any(not np.array_equal(continued.parameters()[k], want.parameters()[k]) for k in start)


def test_the_same_optimizer_by_another_spelling_continues():
    X, y = flower(90)
    a, b = Network([2, 4, 1], "tanh", seed=1), Network([2, 4, 1], "tanh", seed=1)
    for opt in ("adam", optimizers.Adam(), "adam"):
        a.partial_fit(X, y, learning_rate=0.05, optimizer=opt)
        b.partial_fit(X, y, learning_rate=0.05, optimizer="adam")
    assert a.optimizer_state()["t"] == 3
    assert_same_parameters(a, b.parameters(), rtol=0)


@pytest.mark.parametrize("where", ["numpy", "torch"])
@pytest.mark.parametrize("optimizer, batch_size", [("momentum", None), ("adam", None), ("adam", 25), ("gd", 25)])
def test_optimizer_state_round_trip_continues_exactly(optimizer, batch_size, where):
    X, y = flower(100)
    if where == "torch":
        X, y = torch.from_numpy(X), torch.from_numpy(y)
    kwargs = dict(learning_rate=0.05, optimizer=optimizer, batch_size=batch_size)
    rng = np.random.RandomState(5)
    four = Network([2, 4, 1], "tanh", seed=2)
    for _ in range(4):
        four.partial_fit(X, y, rng=rng, **kwargs)
    rng = np.random.RandomState(5)
    two = Network([2, 4, 1], "tanh", seed=2)
    for _ in range(2):
        two.partial_fit(X, y, rng=rng, **kwargs)
    state = two.optimizer_state()
    assert state["t"] == 2 * (1 if batch_size is None else 4)
    assert all(isinstance(v, np.ndarray) for name in optimizers.get(optimizer).state_names for v in state[name])
    fresh = Network([2, 4, 1], "tanh", seed=77).set_parameters(two.parameters())
    if where == "torch":
        fresh.to(X)
    assert fresh.set_optimizer_state(state) is fresh
    for _ in range(2):
        fresh.partial_fit(X, y, rng=rng, **kwargs)
    lib = Lib("torch") if where == "torch" else None
    want = {k: lib.numpy(v) if lib else v for k, v in four.parameters().items()}
    assert_same_parameters(fresh, want, rtol=0, lib=lib)
    assert fresh.optimizer_state()["t"] == four.optimizer_state()["t"]
    # the saved state is a copy: the run that produced it goes on without changing it
    saved = {name: [v.copy() for v in state[name]] for name in optimizers.get(optimizer).state_names}
    two.partial_fit(X, y, rng=np.random.RandomState(0), **kwargs)
    assert state["t"] == 2 * (1 if batch_size is None else 4)
    for name, arrays in saved.items():
        for got, want in zip(state[name], arrays):
            np.testing.assert_array_equal(got, want)


# -- loss_and_gradients --------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["numpy", "torch", "array_api_strict"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax", "identity"])
def test_loss_and_gradients_mean_and_sum(where, output):
    X, y = flower(90)
    y = run_targets(output, y)
    lib = None if where == "numpy" else Lib(where)
    wrap = (lambda a: a) if lib is None else lib.asarray
    host = (lambda a: a) if lib is None else lib.numpy
    net = Network([2, 5, 2 if output == "softmax" else 1], "tanh", output, seed=3)
    if lib is not None:
        net.to(lib.xp)
    Xw, yw = wrap(X), wrap(y)
    for l2 in (0.0, 0.4):
        loss, grads = net.loss_and_gradients(Xw, yw, l2=l2)
        assert loss == net.loss(Xw, yw, l2=l2)
        plain = net.gradients(Xw, yw, l2=l2)
        for k in plain:
            np.testing.assert_array_equal(host(grads[k]), host(plain[k]), err_msg=k)
    loss, grads = net.loss_and_gradients(Xw, yw)
    total, sums = net.loss_and_gradients(Xw, yw, reduction="sum")
    assert type(total) is float and total == pytest.approx(90 * loss, rel=1e-12)
    first, first_sums = net.loss_and_gradients(wrap(X[:37]), wrap(y[:37]), reduction="sum")
    rest, rest_sums = net.loss_and_gradients(wrap(X[37:]), wrap(y[37:]), reduction="sum")
    assert first + rest == pytest.approx(total, rel=1e-12)
    for k in grads:
        np.testing.assert_allclose(host(sums[k]), 90 * host(grads[k]), rtol=1e-12, atol=1e-14, err_msg=k)
        np.testing.assert_allclose(host(first_sums[k]) + host(rest_sums[k]), host(sums[k]), rtol=1e-12, atol=1e-13,
                                   err_msg=k)
    with pytest.raises(ValueError, match="l2"):
        net.loss_and_gradients(Xw, yw, l2=0.1, reduction="sum")
    for bad in ("max", "none", "Mean", None):
        with pytest.raises(ValueError, match="reduction"):
            net.loss_and_gradients(Xw, yw, reduction=bad)


# -- against torch autograd ------------------------------------------------------------------------------

TORCH_HIDDEN = {
    "sigmoid": lambda g: torch.sigmoid,
    "tanh": lambda g: torch.tanh,
    "relu": lambda g: torch.relu,
    "leaky_relu": lambda g: (lambda t: F.leaky_relu(t, g.slope)),
    "gelu": lambda g: F.gelu,
    "softplus": lambda g: F.softplus,
    "silu": lambda g: F.silu,
    "elu": lambda g: F.elu,
}


def torch_loss(net, X, y, l2=0.0):
    """The network's loss from PyTorch's own functions on the network's tensors; returns (loss, {name: leaf})."""
    params = {k: v.detach().clone().requires_grad_(True) for k, v in net.parameters().items()}
    A = X
    L = len(net.layer_sizes) - 1
    for l in range(1, L + 1):
        Z = A @ params[f"W{l}"].T + params[f"b{l}"]
        if l < L:
            g = net.hidden[l - 1]
            A = TORCH_HIDDEN[g.name](g)(Z)
    if net.output == "sigmoid":
        loss = F.binary_cross_entropy_with_logits(Z[:, 0], y.to(Z.dtype))
    elif net.output == "softmax":
        loss = F.cross_entropy(Z, y)
    else:
        loss = F.mse_loss(Z, y.to(Z.dtype).reshape(Z.shape)) / 2
    if l2:
        loss = loss + l2 / (2 * len(X)) * sum((params[k] ** 2).sum() for k in params if k[0] == "W")
    return loss, params


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("output", ["sigmoid", "softmax", "identity"])
@pytest.mark.parametrize("hidden", sorted(TORCH_HIDDEN))
def test_torch_gradients_equal_autograd(hidden, output, device):
    l2 = 0.3 if hidden in ("tanh", "relu") else 0.0
    rng = np.random.RandomState(0)
    n = 40
    X = torch.from_numpy(rng.randn(n, 3)).to(device)
    y = torch.from_numpy({"sigmoid": rng.randint(0, 2, n), "softmax": rng.randint(0, 3, n),
                          "identity": rng.randn(n, 2)}[output]).to(device)
    k = {"sigmoid": 1, "softmax": 3, "identity": 2}[output]
    net = Network([3, 6, 4, k], [hidden, "tanh"], output, seed=1).to(torch, device=device)
    loss, params = torch_loss(net, X, y, l2)
    loss.backward()
    assert net.loss(X, y, l2=l2) == pytest.approx(loss.item(), rel=1e-12)
    grads = net.gradients(X, y, l2=l2)
    for name, p in params.items():
        assert grads[name].device.type == device
        np.testing.assert_allclose(grads[name].cpu().numpy(), p.grad.cpu().numpy(), rtol=1e-9, atol=1e-14,
                                   err_msg=name)


# -- saving, chunks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32", "bfloat16"])
def test_save_from_torch_writes_numpy_and_load_gives_a_numpy_network(tmp_path, dtype):
    X, y = flower(60)
    net = Network([2, 4, 3], "relu", "softmax", seed=5)
    net.fit(torch.from_numpy(X).to(getattr(torch, dtype)), torch.from_numpy(y), epochs=3, learning_rate=0.1)
    net.info["note"] = "from torch"
    path = tmp_path / "net.npz"
    net.save(path)
    host = "float32" if dtype == "bfloat16" else dtype
    with np.load(path, allow_pickle=False) as f:
        for name, p in net.parameters().items():
            assert f[name].dtype == np.dtype(host)
            np.testing.assert_array_equal(f[name], Lib("torch").numpy(p))  # bfloat16 as float32: exactly
    loaded = Network.load(path)
    assert loaded.array_namespace is np and loaded.device is None and loaded.dtype == np.dtype(host)
    assert loaded.history == net.history and loaded.info == {"note": "from torch"}
    assert_same_parameters(loaded, {k: Lib("torch").numpy(v) for k, v in net.parameters().items()}, rtol=0)
    if dtype != "bfloat16":
        Xh = X.astype(host)
        np.testing.assert_array_equal(loaded.predict(Xh), net.predict(torch.from_numpy(Xh)).numpy())


@pytest.mark.parametrize("where", ["numpy", "torch", "array_api_strict"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax", "identity"])
def test_predict_and_score_in_chunks_equal_one_pass(where, output, monkeypatch, recorder):
    g, seen = recorder
    rng = np.random.RandomState(0)
    n = 2600  # a chunk is at least 1024 rows: 1024, 1024, 552
    X = rng.randn(n, 3)
    y = {"sigmoid": rng.randint(0, 2, n), "softmax": rng.randint(0, 3, n), "identity": rng.randn(n, 2)}[output]
    k = {"sigmoid": 1, "softmax": 3, "identity": 2}[output]
    lib = None if where == "numpy" else Lib(where)
    wrap = (lambda a: a) if lib is None else lib.asarray
    host = (lambda a: a) if lib is None else lib.numpy
    net = Network([3, 7, k], g, output, seed=2)
    net.set_parameters({"W1": rng.randn(7, 3), "b1": rng.randn(7), "W2": rng.randn(k, 7), "b2": rng.randn(k)})
    if lib is not None:
        net.to(lib.xp)
    Xw, yw = wrap(X), wrap(y)
    methods = {"predict": lambda: host(net.predict(Xw)), "score": lambda: net.score(Xw, yw)}
    if output != "identity":
        methods["predict_proba"] = lambda: host(net.predict_proba(Xw))
    seen.clear()
    whole = {name: f() for name, f in methods.items()}
    assert len(seen) == len(methods) and all(z.shape[0] == n for z in seen)
    monkeypatch.setattr(network, "_CHUNK_ELEMENTS", 1)
    seen.clear()
    chunked = {name: f() for name, f in methods.items()}
    assert [z.shape[0] for z in seen] == [1024, 1024, 552] * len(methods)  # it did run in chunks
    for name in methods:
        if name == "score":
            assert chunked[name] == pytest.approx(whole[name], rel=1e-12)
        else:
            assert chunked[name].shape == whole[name].shape
            np.testing.assert_allclose(chunked[name], whole[name], rtol=1e-12, atol=1e-15, err_msg=name)
    if output != "identity":
        np.testing.assert_array_equal(chunked["predict"], whole["predict"])
    if lib is not None:  # and the chunks of another library give NumPy's answers
        ref = Network([3, 7, k], g, output, seed=2)
        ref.set_parameters({key: host(v) for key, v in net.parameters().items()})
        np.testing.assert_allclose(chunked["predict"], ref.predict(X), rtol=1e-12, atol=1e-15)
        assert chunked["score"] == pytest.approx(ref.score(X, y), rel=1e-12)
