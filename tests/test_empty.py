"""Empty arrays, and arrays empty along softmax's axis: every activation, every method, every library.

PyTorch's and JAX's own softmax return an empty array of the input's shape for
an axis of length 0 (JAX pins it in ``testSoftmaxEmptyArray``); slopekit does
the same for every method, and every elementwise activation maps an empty array
to an empty array of its shape and dtype, in the caller's library.
"""

import contextlib

import numpy as np
import pytest

import slopekit

#: Every registered activation with its default parameters, and softmax along the first axis.
EVERY = [slopekit.get(name) for name in slopekit.names()] + [
    slopekit.get("softmax", axis=0), slopekit.get("log_softmax", axis=0)]
#: Empty shapes: empty along the last axis, along the first, along both, along a middle one.
SHAPES = [(0,), (3, 0), (0, 10), (0, 0), (2, 0, 3)]
METHODS = ["__call__", "derivative", "second_derivative", "derivative_from_output", "backward z=", "backward a="]


def _libraries():
    params = [pytest.param("numpy")]
    for name, module in (("strict", "array_api_strict"), ("torch", "torch"), ("jax", "jax.numpy")):
        try:
            __import__(module)
            missing = False
        except ImportError:  # pragma: no cover - depends on the environment
            missing = True
        params.append(pytest.param(name, marks=pytest.mark.skipif(missing, reason=f"{module} not installed")))
    return params


class Library:
    """Empty arrays of one library, and the checks that a result is one of its own."""

    def __init__(self, kind):
        self.kind = kind
        if kind == "numpy":
            self.xp = np
        elif kind == "strict":
            import array_api_strict

            self.xp = array_api_strict
        elif kind == "torch":
            import torch

            self.xp = torch
        else:
            import jax.numpy

            self.xp = jax.numpy

    def dtypes_enabled(self):
        """A context in which float64 arrays can be made (JAX makes float32 ones unless told)."""
        if self.kind == "jax":
            import jax

            enable = getattr(jax, "enable_x64", None)  # jax >= 0.8; older: jax.experimental.enable_x64
            if enable is None:
                from jax.experimental import enable_x64 as enable
            return enable(True)
        return contextlib.nullcontext()

    def zeros(self, shape, dtype):
        return self.xp.zeros(shape, dtype=getattr(self.xp, dtype))

    def same_library(self, result, x):
        if self.kind == "torch":
            return isinstance(result, self.xp.Tensor) and result.device == x.device
        return type(result) is type(x)


@pytest.fixture(params=_libraries())
def lib(request):
    return Library(request.param)


def run(g, method, x):
    if method == "backward z=":
        return g.backward(x, z=x)
    if method == "backward a=":
        return g.backward(x, a=x)
    return getattr(g, method)(x)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("g", EVERY, ids=repr)
def test_every_method_maps_an_empty_array_to_an_empty_array(lib, g, shape, dtype):
    with lib.dtypes_enabled():
        _check_every_method(lib, g, shape, dtype)


def _check_every_method(lib, g, shape, dtype):
    x = lib.zeros(shape, dtype)
    for method in METHODS:
        if method in ("derivative_from_output", "backward a=") and not g.has_derivative_from_output:
            continue
        result = run(g, method, x)
        assert tuple(result.shape) == shape, (method, result.shape)
        assert result.dtype == x.dtype, (method, result.dtype)
        assert lib.same_library(result, x), (method, type(result))


@pytest.mark.parametrize("shape, axis", [((0,), 0), ((3, 0), -1), ((0, 10), 0), ((4, 0, 2), 1)])
def test_softmax_along_an_empty_axis_is_what_pytorch_gives(shape, axis):
    torch = pytest.importorskip("torch")
    z = torch.zeros(shape, dtype=torch.float64)
    expected = {"softmax": torch.softmax(z, axis), "log_softmax": torch.log_softmax(z, axis)}
    for name, want in expected.items():
        got = slopekit.get(name, axis=axis)(z)
        assert got.shape == want.shape and got.dtype == want.dtype
        got_np = slopekit.get(name, axis=axis)(np.zeros(shape))
        assert got_np.shape == tuple(want.shape) and got_np.dtype == np.float64


def test_empty_out_buffer_is_filled_and_returned():
    z = np.zeros((3, 0), np.float32)
    out = np.empty((3, 0), np.float32)
    for g in EVERY:
        assert g(z, out=out) is out
        assert g.backward(z, z=z, out=out) is out


def test_the_network_layer_kernels_accept_an_empty_batch():
    for g in EVERY:
        forward, backward = g.layer_kernels(np.float64, 0)
        z, a, dz = np.empty((0, 4)), np.empty((0, 4)), np.empty((0, 4))
        forward(z, a)
        backward(np.empty((0, 4)), z, a, dz)
