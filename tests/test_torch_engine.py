"""The PyTorch engine (``activations/_torch.py``): accuracy against mpmath, agreement with NumPy
slopekit and PyTorch's own backward kernels, blocks, layouts, and where it must step aside.

The engine's own kernels use PyTorch's functions (``torch.sigmoid``, ``torch.tanh``,
``torch.special.erfc``) instead of the generic formulas, so they are checked here
against mpmath in ULPs on dense grids that reach each dtype's tails, the way
``test_accuracy.py`` checks the NumPy kernels. Where a slope crosses zero (gelu
near z = -0.75, silu near -1.28) it is accurate in absolute terms only, as
the docstrings say; there an error of 2 eps counts as met.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import slopekit
from _reference import round_to, ulp
from slopekit.activations import _torch as engine

torch = pytest.importorskip("torch")
mpmath = pytest.importorskip("mpmath")


def _mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


#: mpmath references for the kernels the engine has of its own.
REFERENCE = {
    ("sigmoid", "__call__"): _mp_sigmoid,
    ("sigmoid", "derivative"): lambda x: _mp_sigmoid(x) * _mp_sigmoid(-x),
    ("sigmoid", "second_derivative"): lambda x: -_mp_sigmoid(x) * _mp_sigmoid(-x) * mpmath.tanh(x / 2),
    ("tanh", "__call__"): mpmath.tanh,
    ("tanh", "derivative"): lambda x: 1 / mpmath.cosh(x) ** 2,
    ("tanh", "second_derivative"): lambda x: -2 * mpmath.tanh(x) / mpmath.cosh(x) ** 2,
    ("silu", "__call__"): lambda x: x * _mp_sigmoid(x),
    ("silu", "derivative"): lambda x: _mp_sigmoid(x) * (1 + x * _mp_sigmoid(-x)),
    ("gelu", "__call__"): lambda x: x * mpmath.ncdf(x),
    ("gelu", "derivative"): lambda x: mpmath.ncdf(x) + x * mpmath.npdf(x),
}
#: The largest error allowed, in ULPs, on `grid` (measured with PyTorch 2.13 on x86-64 AVX-512, float32
#: / float64, in the comments; the bounds leave room for other SIMD paths). Second derivatives of
#: sigmoid and tanh are their generic formulas run by the engine.
BOUNDS = {
    ("sigmoid", "__call__"): 2.5,  # 1.84 / 1.83 (PyTorch's own sigmoid)
    ("sigmoid", "derivative"): 3.5,  # 2.55 / 2.81
    ("sigmoid", "second_derivative"): 4.0,  # 3.16 / 3.24
    ("tanh", "__call__"): 1.5,  # 0.50 / 0.69 (PyTorch's own tanh)
    ("tanh", "derivative"): 3.5,  # 2.91 / 2.76
    ("tanh", "second_derivative"): 4.0,  # 2.74 / 3.15
    ("silu", "__call__"): 3.0,  # 1.89 / 2.11
    ("silu", "derivative"): 3.5,  # 2.66 / 2.66, away from where it crosses zero
    ("gelu", "__call__"): 3.5,  # 1.88 / 2.91 (float64 beyond |z| = 37: the generic formula)
    ("gelu", "derivative"): 2.5,  # 1.15 / 1.43, away from where it crosses zero
}
#: Slopes that cross zero: within 2 eps in absolute terms where |slope| < 0.25.
ABSOLUTE_NEAR_ZERO = {("silu", "derivative"), ("gelu", "derivative")}
#: Half-widths of the grids: past where every result has underflowed or saturated.
SPAN = {"sigmoid": (110, 750), "tanh": (60, 380), "silu": (110, 750), "gelu": (15, 39)}


@functools.lru_cache(maxsize=None)
def grid(name: str, dtype) -> np.ndarray:
    """Seeded points: the whole span, [-10, 10], the standard normal, both tails, magnitudes log-uniformly."""
    rng = np.random.default_rng(11)
    span = SPAN[name][dtype is np.float64]
    n = 300
    z = np.concatenate([
        rng.uniform(-span, span, n), rng.uniform(-10, 10, n), rng.standard_normal(n),
        -np.exp(rng.uniform(-30, math.log(span), n)), np.exp(rng.uniform(-30, math.log(span), n)),
        rng.uniform(-span, -0.8 * span, n // 2),  # the far left tail: subnormal results and the fix-ups
        [0.0, -0.0, 1e-30, -1e-30]])
    return np.unique(z.astype(dtype))


def ulp_errors(name, method, z, got, dtype):
    """Errors in ULPs of ``got`` against mpmath (0 where an absolute error near a zero is allowed)."""
    eps = float(np.finfo(dtype).eps)
    errors = []
    with mpmath.workdps(40):
        for zi, gi in zip(z.tolist(), got.tolist()):
            exact = REFERENCE[name, method](mpmath.mpf(zi))
            rounded = round_to(exact, dtype)
            error = abs(mpmath.mpf(gi) - exact)
            if (name, method) in ABSOLUTE_NEAR_ZERO and abs(exact) < 0.25 and error <= 2 * eps:
                errors.append(0.0)
            else:
                errors.append(float(error / ulp(rounded, dtype)))
    return np.array(errors)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name, method", sorted(REFERENCE))
def test_the_engine_is_accurate_to_a_few_ulps(name, method, dtype):
    g = slopekit.get(name)
    z = grid(name, dtype)
    got = getattr(g, method)(torch.from_numpy(z))
    assert got.dtype == torch.from_numpy(z).dtype
    errors = ulp_errors(name, method, z, got.numpy(), dtype)
    worst = int(np.argmax(errors))
    assert errors[worst] <= BOUNDS[name, method], f"{errors[worst]:.2f} ulp at z = {z[worst]!r}"


def test_gelu_tails_where_erfc_alone_would_lose_digits():
    """erfc(|z|/sqrt 2) amplifies the rounding of its argument z^2 times; the kernel corrects it."""
    g = slopekit.get("gelu")
    for dtype, points in ((np.float32, [-10.0, -11.5, -12.4, -12.6, -13.0, -13.1]),
                          (np.float64, [-10.0, -20.0, -30.0, -36.9, -37.1, -37.5])):
        z = np.array(points, dtype)
        t = torch.from_numpy(z)
        naive = (t * torch.special.erfc(-t * (1 / math.sqrt(2))) / 2).numpy()
        ours = g(t).numpy()
        err_ours = ulp_errors("gelu", "__call__", z, ours, dtype)
        err_naive = ulp_errors("gelu", "__call__", z, naive, dtype)
        assert err_ours.max() <= 2.0, err_ours
        assert err_naive.max() > 8.0, err_naive  # the reason for the correction, pinned


# -- agreement with NumPy slopekit and with PyTorch's own kernels ----------------------------------

OWN_KERNELS = ["sigmoid", "tanh", "relu", "leaky_relu", "silu", "gelu"]


def _data(n=20_011, dtype=np.float64, seed=3):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n) * 5
    z[::97] = 0.0
    z[1::101] = -0.0
    return z.astype(dtype), rng.standard_normal(n).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", OWN_KERNELS + ["elu", "mish", "softplus"])
def test_the_engine_agrees_with_numpy_slopekit(name, dtype):
    g = slopekit.get(name)
    z, da = _data(dtype=dtype)
    eps = np.finfo(dtype).eps
    # where a slope crosses zero (silu, mish, gelu) the two agree in absolute terms; gelu's NumPy
    # kernels compute float32 in float64, its PyTorch kernels in float32
    atol = {"gelu": 16 * eps, "silu": 4 * eps, "mish": 4 * eps}.get(name, 0)
    for method in ("__call__", "derivative", "second_derivative"):
        got = getattr(g, method)(torch.from_numpy(z)).numpy()
        np.testing.assert_allclose(got, getattr(g, method)(z), rtol=8 * eps, atol=0 if method == "__call__" else atol,
                                   err_msg=method)
    got = g.backward(torch.from_numpy(da), z=torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(got, g.backward(da, z=z), rtol=8 * eps, atol=atol * np.abs(da).max())
    if g.has_derivative_from_output:
        a = g(z)
        got = g.backward(torch.from_numpy(da), a=torch.from_numpy(a)).numpy()
        if name in ("tanh", "relu", "leaky_relu"):  # 1 - a^2, the steps: the same operations, bit for bit
            np.testing.assert_array_equal(got, g.backward(da, a=a))
        else:
            np.testing.assert_allclose(got, g.backward(da, a=a), rtol=8 * eps)


def _aten_backward(name, da, z, a):
    aten = torch.ops.aten
    return {
        "sigmoid": lambda: aten.sigmoid_backward(da, a),
        "tanh": lambda: aten.tanh_backward(da, a),
        "relu": lambda: aten.threshold_backward(da, a, 0),
        "leaky_relu": lambda: aten.leaky_relu_backward(da, z, 0.01, False),
        "gelu": lambda: aten.gelu_backward(da, z),
        "silu": lambda: aten.silu_backward(da, z),
    }[name]()


@pytest.mark.parametrize("name", OWN_KERNELS)
def test_backward_matches_the_kernels_pytorch_autograd_runs(name):
    g = slopekit.get(name)
    z, da = (torch.from_numpy(x) for x in _data(dtype=np.float64))
    a = g(z)
    ours = g.backward(da, a=a) if g.has_derivative_from_output else g.backward(da, z=z)
    theirs = _aten_backward(name, da, z, a)
    # PyTorch's slopes from the output cancel (a (1 - a), 1 - a^2): a few eps in absolute terms
    torch.testing.assert_close(ours, theirs, rtol=1e-13, atol=8 * np.finfo(np.float64).eps * float(da.abs().max()))


def test_softmax_agrees_with_numpy_and_with_pytorch():
    rng = np.random.default_rng(5)
    z = rng.standard_normal((3001, 37)) * 20
    z[7, 3] = -np.inf  # a row with -inf: its exp is 0, the two-sum's error term too
    da = rng.standard_normal(z.shape)
    for g, theirs in ((slopekit.get("softmax"), torch.softmax), (slopekit.get("log_softmax"), torch.log_softmax)):
        t = torch.from_numpy(z)
        a = g(t)
        np.testing.assert_allclose(a.numpy(), g(z), rtol=8 * np.finfo(float).eps, atol=0)
        # PyTorch's own exp(z - m) carries the rounding of z - m: close in absolute terms only
        torch.testing.assert_close(a, theirs(t, -1), rtol=1e-12, atol=1e-13)
        for kw in ({"a": a}, {"z": t}):
            dz = g.backward(torch.from_numpy(da), **kw)
            want = g.backward(da, **{k: v.numpy() for k, v in kw.items()})
            np.testing.assert_allclose(dz.numpy(), want, rtol=1e-12, atol=1e-15)
        backward_data = torch.ops.aten._softmax_backward_data if g.name == "softmax" else \
            torch.ops.aten._log_softmax_backward_data
        torch.testing.assert_close(g.backward(torch.from_numpy(da), a=a),
                                   backward_data(torch.from_numpy(da), a, -1, a.dtype), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
def test_softmax_is_accurate_to_a_few_ulps(dtype):
    from test_softmax import _mp_rows, _rows, _ulps

    z = _rows(dtype, n=200)
    got = slopekit.get("softmax")(torch.from_numpy(z)).numpy()
    worst = max(_ulps(got[i, j], s[j], dtype) for i, (s, _, _) in enumerate(_mp_rows(z)) for j in range(z.shape[1]))
    assert worst <= 4.5  # measured 3.80 (float32) and 3.49 (float64) ulp; torch.softmax: 63 and 481


def test_softmax_rows_with_inf_and_nan_take_the_generic_formula():
    z = torch.tensor([[0.0, np.inf, np.inf], [1.0, 2.0, np.nan], [-np.inf, -np.inf, -np.inf], [0.0, 1.0, 2.0]],
                     dtype=torch.float64)
    g = slopekit.get("softmax")
    np.testing.assert_allclose(g(z).numpy(), g(z.numpy()), rtol=4e-16, atol=0)
    assert np.isnan(g(z).numpy()[1:3]).all() and list(g(z).numpy()[0]) == [0.0, 0.5, 0.5]


# -- blocks, layouts, inputs left alone ------------------------------------------------------------

EVERY = [slopekit.get(name) for name in slopekit.names()] + [
    slopekit.get("gelu", approximate="tanh"), slopekit.get("leaky_relu", slope=0.2, at_zero=0.6),
    slopekit.get("relu", at_zero=0.5), slopekit.get("softmax", axis=0), slopekit.get("log_softmax", axis=0)]


def _calls(g, z, da):
    """Every method's result on ``z`` (and ``da``), as NumPy arrays."""
    results = [g(z), g.derivative(z), g.second_derivative(z), g.backward(da, z=z)]
    if g.has_derivative_from_output:
        a = g(z)
        results += [g.derivative_from_output(a), g.backward(da, a=a)]
    return [r.numpy() for r in results]


def _special_data(shape, dtype=torch.float64):
    rng = np.random.default_rng(7)
    z = rng.standard_normal(shape) * 6
    flat = z.reshape(-1)
    flat[::53] = 0.0
    flat[5::211] = np.nan
    flat[9::307] = np.inf
    flat[13::401] = -np.inf
    flat[17::103] = -40.0  # far tails: the fix-ups of gelu, silu and sigmoid
    flat[19::109] = -800.0
    return torch.from_numpy(z).to(dtype), torch.from_numpy(rng.standard_normal(shape)).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("g", EVERY, ids=repr)
def test_results_do_not_depend_on_the_block_size(g, dtype, monkeypatch):
    z, da = _special_data((401, 25), dtype)
    whole = _calls(g, z, da)
    monkeypatch.setattr(engine, "BLOCK", 128)  # many blocks; rows of 25 for softmax: 5 rows a block
    blocked = _calls(g, z, da)
    for one, many in zip(whole, blocked):
        np.testing.assert_array_equal(one, many)


@pytest.mark.parametrize("g", EVERY, ids=repr)
def test_layouts_give_the_same_bits_and_inputs_are_left_alone(g):
    z, da = _special_data((60, 40))
    before_z, before_da = z.clone(), da.clone()
    expected = _calls(g, z, da)
    for view in (lambda x: x.T.contiguous().T, lambda x: x[::-1].contiguous()[::-1] if False else x.flip(0).flip(0)):
        got = _calls(g, view(z), view(da))
        for e, r in zip(expected, got):
            np.testing.assert_array_equal(e, r)
    strided = _calls(g, z[:, ::2], da[:, ::2])
    contiguous = _calls(g, z[:, ::2].contiguous(), da[:, ::2].contiguous())
    for e, r in zip(contiguous, strided):
        np.testing.assert_array_equal(e, r)
    assert torch.equal(z.nan_to_num(), before_z.nan_to_num()) and torch.equal(da, before_da)


# -- where the engine steps aside -------------------------------------------------------------------

def test_autograd_through_an_activation_still_works():
    z = torch.linspace(-4, 4, 41, dtype=torch.float64, requires_grad=True)
    for name in ("sigmoid", "gelu", "silu", "tanh"):
        g = slopekit.get(name)
        a = g(z)
        assert a.grad_fn is not None  # recorded: the generic formula, not in-place work on our buffers
        (slope,) = torch.autograd.grad(a.sum(), z)
        np.testing.assert_allclose(slope.numpy(), g.derivative(z.detach().numpy()), rtol=1e-12, atol=1e-15)
    with torch.no_grad():
        assert slopekit.sigmoid(z).grad_fn is None


def test_torch_func_transforms_still_work():
    z = torch.linspace(-3, 3, 13, dtype=torch.float64)
    g = slopekit.get("gelu")
    slope = torch.func.vmap(torch.func.grad(lambda t: g(t)))(z)
    np.testing.assert_allclose(slope.numpy(), g.derivative(z.numpy()), rtol=1e-12, atol=1e-15)


def test_inference_mode_and_narrow_floats():
    with torch.inference_mode():
        z = torch.linspace(-5, 5, 11)
        np.testing.assert_array_equal(slopekit.sigmoid(z).numpy(), slopekit.sigmoid(z.clone()).numpy())
    for dtype in (torch.float16, torch.bfloat16):
        z = torch.linspace(-5, 5, 11, dtype=dtype)
        for name in OWN_KERNELS:
            g = slopekit.get(name)
            assert g(z).dtype == dtype and g.derivative(z).dtype == dtype
            np.testing.assert_array_equal(g(z).float().numpy(), g(z.float()).to(dtype).float().numpy())


def test_the_engine_is_used_where_it_applies(monkeypatch):
    calls = []
    run = engine.run
    monkeypatch.setattr(engine, "run", lambda kernel, x: calls.append(x.shape) or run(kernel, x))
    gelu = slopekit.get("gelu")
    gelu(torch.zeros(3))
    assert calls == [torch.Size([3])]
    gelu(torch.zeros(3, requires_grad=True))
    assert len(calls) == 1  # autograd: the generic formula


def test_concurrent_calls_from_several_threads_give_the_bits_of_one(monkeypatch):
    """Each thread keeps its own block temporaries; a call's whole-size ones (gelu's density) are
    its own: calls from several threads at once give the bits of calls one at a time."""
    import concurrent.futures

    monkeypatch.setattr(engine, "BLOCK", 256)
    z, da = (torch.from_numpy(x) for x in _data(n=50_003, dtype=np.float32))
    calls = [lambda: slopekit.get("gelu").backward(da, z=z), lambda: slopekit.get("gelu")(z),
             lambda: slopekit.get("softmax")(z[:50_000].reshape(-1, 50)),
             lambda: slopekit.tanh.derivative(z), lambda: slopekit.get("silu").backward(da, z=z)]
    alone = [call().numpy() for call in calls]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda call: call().numpy(), calls * 3))
    for i, result in enumerate(together):
        np.testing.assert_array_equal(result, alone[i % len(calls)])
    np.testing.assert_allclose(alone[0], slopekit.get("gelu").backward(da.numpy(), z=z.numpy()),
                               rtol=8 * np.finfo(np.float32).eps, atol=16 * np.finfo(np.float32).eps * 5)
