"""Softmax and log_softmax: values and the Jacobian's diagonal against mpmath (in ULPs), the
vector-Jacobian product against an explicit Jacobian and finite differences, limits, axes and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import slopekit
from conftest import ALONG_AXIS

mpmath = pytest.importorskip("mpmath")
mp = mpmath.mp


def _mp_rows(z):
    """softmax, log_softmax, diag of d softmax, its second diag, for each row of ``z`` (last axis)."""
    out = []
    with mp.workdps(60):
        for row in np.asarray(z, dtype=np.float64):
            x = [mp.mpf(float(v)) for v in row]
            m = max(x)
            e = [mp.exp(v - m) for v in x]
            others = mp.fsum(ei for v, ei in zip(x, e) if v != m) + (x.count(m) - 1)  # total - 1, exactly
            total = 1 + others
            s = [ei / total for ei in e]
            log_s = [v - m - mp.log1p(others) for v in x]
            rest = [(others + 1 - ei) / total if v != m else others / total for v, ei in zip(x, e)]
            out.append((s, log_s, rest))
    return out


def _ulps(got, exact, dtype):
    info = np.finfo(dtype)
    r = abs(np.array(float(exact), dtype=dtype))
    spacing = float(np.spacing(r)) if r != 0 else float(info.smallest_subnormal)
    return float(abs(mp.mpf(float(got)) - exact) / spacing)


def _rows(dtype, n=300, seed=0):
    rng = np.random.RandomState(seed)
    scale = rng.choice([0.1, 1.0, 10.0, 80.0 if dtype == np.float32 else 600.0], size=(n, 1))
    return (rng.randn(n, 5) * scale).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_and_diagonal_slopes_within_a_few_ulps(dtype):
    z = _rows(dtype)
    soft, logsoft = slopekit.get("softmax"), slopekit.get("log_softmax")
    values = {"s": soft(z), "log_s": logsoft(z), "ds": soft.derivative(z), "dlog": logsoft.derivative(z),
              "from_a": logsoft.derivative_from_output(logsoft(z)), "d2log": logsoft.second_derivative(z)}
    worst = dict.fromkeys(values, 0.0)
    for i, (s, log_s, rest) in enumerate(_mp_rows(z)):
        for j in range(z.shape[1]):
            exact = {"s": s[j], "log_s": log_s[j], "ds": s[j] * rest[j], "dlog": rest[j], "from_a": rest[j],
                     "d2log": -s[j] * rest[j]}
            for key, got in values.items():
                worst[key] = max(worst[key], _ulps(got[i, j], exact[key], dtype))
    # log_softmax near 0 (a dominant entry) and s(1 - s) multiply a few rounded factors
    bounds = {"s": 4, "log_s": 4, "ds": 6, "dlog": 4, "from_a": 4, "d2log": 6}
    for key in values:
        assert worst[key] <= bounds[key], (key, worst[key])


@pytest.mark.parametrize("g", ALONG_AXIS, ids=repr)
def test_backward_is_the_vector_jacobian_product(g):
    rng = np.random.RandomState(1)
    shape = (4, 6) if g.axis == -1 else (6, 4)  # 6 entries along the axis
    z, da = rng.randn(*shape) * 3, rng.randn(*shape)
    a = g(z)
    # the explicit Jacobian along the axis, by central differences of g itself
    h = 1e-6
    moved_z, moved_da = np.moveaxis(z, g.axis, -1), np.moveaxis(da, g.axis, -1)
    expected = np.empty_like(moved_z)
    for r in range(moved_z.shape[0]):
        jac = np.empty((6, 6))
        for j in range(6):
            up, down = moved_z.copy(), moved_z.copy()
            up[r, j] += h
            down[r, j] -= h
            diff = np.moveaxis(g(np.moveaxis(up, -1, g.axis)) - g(np.moveaxis(down, -1, g.axis)), g.axis, -1)
            jac[:, j] = diff[r] / (2 * h)
        expected[r] = moved_da[r] @ jac
        np.testing.assert_allclose(np.moveaxis(g.derivative(z), g.axis, -1)[r], np.diag(jac), atol=1e-8)
    expected = np.moveaxis(expected, -1, g.axis)
    np.testing.assert_allclose(g.backward(da, a=a), expected, atol=1e-8)
    np.testing.assert_allclose(g.backward(da, z=z), expected, atol=1e-8)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_backward_matches_torch_autograd(name):
    torch = pytest.importorskip("torch")
    rng = np.random.RandomState(2)
    z, da = rng.randn(7, 9) * 4, rng.randn(7, 9)
    for axis in (-1, 0):
        g = slopekit.get(name, axis=axis)
        t = torch.tensor(z, requires_grad=True)
        y = getattr(torch, name)(t, dim=axis)
        (dz,) = torch.autograd.grad(y, t, torch.tensor(da))
        np.testing.assert_allclose(g(z), y.detach().numpy(), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(g.backward(da, a=g(z)), dz.numpy(), rtol=1e-12, atol=1e-15)


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)),
                  elements=st.floats(-700, 700, allow_nan=False)))
def test_properties(z):
    soft, logsoft = slopekit.get("softmax"), slopekit.get("log_softmax")
    s = soft(z)
    np.testing.assert_allclose(s.sum(axis=-1), 1.0, rtol=1e-14)
    assert np.all(s >= 0) and np.all(np.isfinite(logsoft(z)))
    # exp amplifies the rounding of its argument |argument| times: here up to the spread of a row
    rtol = 4 * np.finfo(np.float64).eps * (1 + float(np.ptp(z)))
    np.testing.assert_allclose(np.exp(logsoft(z)), s, rtol=rtol, atol=1e-300)
    np.testing.assert_allclose(soft(z + 3.0), s, rtol=2 * rtol, atol=1e-300)  # shift invariance
    # from the output agrees with from the input; the VJP of a constant da is 0 for softmax
    np.testing.assert_allclose(soft.derivative_from_output(s), soft.derivative(z), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(soft.backward(np.ones_like(z), a=s), 0.0, atol=1e-15)


def test_limits_and_nan():
    z = np.array([[np.inf, 1.0, np.inf], [-np.inf, 0.0, 1.0], [np.nan, 1.0, 2.0], [-np.inf, -np.inf, -np.inf],
                  [1000.0, 0.0, -1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s, log_s = slopekit.get("softmax")(z), slopekit.get("log_softmax")(z)
        slopes = slopekit.get("softmax").derivative(z)
    np.testing.assert_array_equal(s[0], [0.5, 0, 0.5])  # +inf entries share the mass
    assert s[1, 0] == 0 and log_s[1, 0] == -np.inf and np.isfinite(log_s[1, 1:]).all()
    assert np.isnan(s[2]).all() and np.isnan(s[3]).all() and np.isnan(log_s[3]).all()
    np.testing.assert_array_equal(s[4], [1, 0, 0])
    np.testing.assert_array_equal(log_s[4], [0, -1000, -2000])
    np.testing.assert_array_equal(slopes[4], [0, 0, 0])
    assert np.isnan(slopes[2]).all()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtype_and_out(dtype):
    g = slopekit.get("softmax")
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=dtype)
    assert g(z).dtype == dtype and g.derivative(z).dtype == dtype
    out = z.copy()
    result = g(out, out=out)
    assert result is out
    np.testing.assert_allclose(out.astype(float), slopekit.get("softmax")(z.astype(float)), rtol=1e-3)
    da = np.ones_like(z)
    np.testing.assert_allclose(g.backward(da, a=g(z), out=da).astype(float), 0.0, atol=1e-3)


def test_errors():
    g = slopekit.get("softmax")
    with pytest.raises(ValueError, match="at least one dimension"):
        g(1.0)
    with pytest.raises(ValueError, match="out of range"):
        slopekit.get("softmax", axis=2)([1.0, 2.0])
    with pytest.raises(TypeError, match="integer"):
        slopekit.get("log_softmax", axis=0.5)
    assert slopekit.activations.parse("softmax:axis=0") == slopekit.get("softmax", axis=0)
    assert not g.elementwise and slopekit.relu.elementwise


def test_a_network_with_a_softmax_hidden_layer_passes_the_gradient_check():
    from slopekit.datasets import xor

    X, y = xor(n_samples=16, seed=0)
    for hidden in ("softmax", "log_softmax"):
        net = slopekit.Network([2, 4, 1], hidden=hidden, seed=3)
        assert slopekit.gradient_check(net, X, y) < 1e-7


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 30.0, 1e4, 1e30])
def test_the_numpy_kernel_gives_the_generic_formulas_bits(dtype, axis, scale):
    """`Softmax._value_np` (few temporaries, what a network's output layer calls) against the array-API formula."""
    from slopekit.activations.softmax import Softmax

    rng = np.random.RandomState(int(np.log10(scale) * 10) + 100)
    with np.errstate(over="ignore"):
        z = (rng.randn(40, 7) * scale).astype(dtype)
    z[1, 0] = -np.inf  # an entry of -inf in a row with a finite maximum
    z[2, :] = z[2, 0]  # ties at the maximum
    z[3, 1], z[3, 2] = -np.finfo(dtype).max, np.finfo(dtype).max  # z - m overflows
    z[4, 3] = np.inf  # a row with an infinite maximum: the generic formula there
    z[5, 0] = np.nan
    g = Softmax(axis=axis)
    fast = np.empty_like(z)
    g._value_np(z, fast)
    with np.errstate(all="ignore"):
        reference = g._softmax(np, z)[0]
    np.testing.assert_array_equal(fast, reference)
    np.testing.assert_array_equal(g(z), reference)
