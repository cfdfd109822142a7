"""One implementation for every array library: the generic path on array-api-strict and PyTorch."""

import numpy as np
import pytest

import slopekit
from conftest import ACTIVATIONS

GRID = [-np.inf, -800.0, -40.0, -10.0, -1.5, -1e-30, 0.0, 1e-30, 0.75, 3.0, 20.0, 800.0, np.inf, np.nan]


def _namespaces():
    params = []
    try:
        import array_api_strict as xs
    except ImportError:  # pragma: no cover - depends on the environment
        xs = None
    params.append(pytest.param("strict", marks=pytest.mark.skipif(xs is None, reason="array-api-strict not installed")))
    try:
        import torch
    except ImportError:  # pragma: no cover
        torch = None
    params.append(pytest.param("torch", marks=pytest.mark.skipif(torch is None, reason="torch not installed")))
    try:
        import dask.array as dask_array
    except ImportError:  # pragma: no cover
        dask_array = None
    params.append(pytest.param("dask", marks=pytest.mark.skipif(dask_array is None, reason="dask not installed")))
    cuda = torch is not None and torch.cuda.is_available()
    params.append(pytest.param("torch-cuda", marks=pytest.mark.skipif(not cuda, reason="no CUDA device")))
    return params


class Lib:
    """Wraps an array library: make an array from NumPy, bring one back."""

    def __init__(self, kind):
        self.kind = kind
        if kind == "strict":
            import array_api_strict as xs

            self.xp, self.float_dtypes = xs, {"float32": xs.float32, "float64": xs.float64}
        elif kind == "dask":
            import dask.array

            self.xp, self.float_dtypes = dask.array, {"float32": np.float32, "float64": np.float64}
        else:
            import torch

            self.xp = torch
            self.device = "cuda" if kind == "torch-cuda" else "cpu"
            self.float_dtypes = {"float32": torch.float32, "float64": torch.float64}

    def asarray(self, values, dtype="float64"):
        if self.kind == "dask":
            return self.xp.from_array(np.asarray(values, dtype=dtype), chunks=5)
        if self.kind == "strict":
            return self.xp.asarray(np.asarray(values, dtype=dtype))
        return self.xp.asarray(np.asarray(values, dtype=dtype), device=self.device)

    def to_numpy(self, x):
        if self.kind == "dask":
            return x.compute()
        if self.kind == "strict":
            return np.asarray(x)
        return x.detach().cpu().numpy()

    def is_native(self, x):
        if self.kind == "dask":
            return isinstance(x, self.xp.Array)
        if self.kind == "strict":
            return type(x).__module__.startswith("array_api_strict")
        return isinstance(x, self.xp.Tensor) and x.device.type == self.device.split(":")[0]


@pytest.fixture(params=_namespaces())
def lib(request):
    return Lib(request.param)


def call(g, method, x, **kw):
    return getattr(g, method)(x, **kw)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_generic_path_matches_numpy_fast_path(lib, g, method, dtype):
    z = np.array(GRID, dtype=dtype)
    x_np = g(z) if method == "derivative_from_output" else z
    expected = call(g, method, x_np)
    result = call(g, method, lib.asarray(x_np, dtype))
    assert lib.is_native(result)
    assert result.dtype == lib.float_dtypes[dtype]
    got = lib.to_numpy(result)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    # GELU's NumPy kernels compute float32 in float64; its generic ones in float32 (absolute
    # agreement where its slopes cancel near their zeros)
    atol = 16 * np.finfo(dtype).eps if isinstance(g, slopekit.GELU) else 0
    np.testing.assert_allclose(got, expected, rtol=8 * np.finfo(dtype).eps, atol=atol)


def test_generic_backward(lib, g):
    z = np.linspace(-4, 4, 9)
    da = np.linspace(1, 2, 9)
    dz = g.backward(lib.asarray(da), z=lib.asarray(z))
    assert lib.is_native(dz)
    np.testing.assert_allclose(lib.to_numpy(dz), g.backward(da, z=z), rtol=1e-15)
    if g.has_derivative_from_output:
        dz = g.backward(lib.asarray(da), a=lib.asarray(g(z)))
        np.testing.assert_allclose(lib.to_numpy(dz), g.backward(da, a=g(z)), rtol=1e-15)


def test_integers_compute_in_float64(lib):
    z = lib.asarray([-1, 0, 2], dtype="int64")
    result = slopekit.sigmoid(z)
    assert result.dtype == lib.float_dtypes["float64"] and lib.is_native(result)


def test_out_buffer_on_a_mutable_library(lib):
    z = lib.asarray([-1.0, 0.0, 2.0])
    out = lib.asarray([0.0, 0.0, 0.0])
    assert slopekit.tanh.derivative(z, out=out) is out
    np.testing.assert_allclose(lib.to_numpy(out), slopekit.tanh.derivative(np.array([-1.0, 0.0, 2.0])))
    with pytest.raises(ValueError, match="shape"):
        slopekit.tanh(z, out=lib.asarray([0.0]))


def test_inputs_are_not_modified(lib):
    z = lib.asarray([-1.0, 0.0, 2.0])
    before = lib.to_numpy(z).copy()
    for g in ACTIVATIONS:
        g(z), g.derivative(z), g.second_derivative(z)
    np.testing.assert_array_equal(lib.to_numpy(z), before)


def test_mixing_libraries_is_refused(lib):
    with pytest.raises(TypeError, match="same array library"):
        slopekit.sigmoid.backward(np.ones(3), z=lib.asarray([0.0, 1.0, 2.0]))


def test_complex_is_refused(lib):
    if lib.kind in ("strict", "dask"):
        z = lib.xp.asarray(np.array([1 + 1j]))
    else:
        z = lib.xp.tensor([1 + 1j], device=lib.device)
    with pytest.raises(TypeError, match="sigmoid.*complex"):
        slopekit.sigmoid(z)


def test_torch_half_precision_stays_half():
    torch = pytest.importorskip("torch")
    for dtype in (torch.float16, torch.bfloat16):
        z = torch.linspace(-5, 5, 11, dtype=dtype)
        for g in ACTIVATIONS:
            assert g(z).dtype == dtype and g.derivative(z).dtype == dtype
        expected = slopekit.sigmoid.derivative(z.double().numpy())
        np.testing.assert_allclose(slopekit.sigmoid.derivative(z).double().numpy(), expected, rtol=1e-2)


def test_jax_if_installed():
    jnp = pytest.importorskip("jax.numpy")
    z = jnp.linspace(-3.0, 3.0, 7)
    np.testing.assert_allclose(np.asarray(slopekit.tanh.derivative(z)),
                               slopekit.tanh.derivative(np.asarray(z)), rtol=1e-6)
    with pytest.raises(TypeError, match="out="):
        slopekit.tanh(z, out=jnp.zeros(7))
