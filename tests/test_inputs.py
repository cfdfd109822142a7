"""What goes in and what comes out: dtypes, scalars, shapes, out=, aliasing, bad input, special values."""

import warnings

import numpy as np
import pytest

import slopekit
from conftest import FLOAT_DTYPES

def call(g, method, x, **kw):
    return getattr(g, method)(x, **kw)


SPECIAL = {
    np.float16: [0.0, -0.0, 1.0, -1.0, 6e-8, -6e-8, 10.0, -10.0, 1e4, -1e4, 65504.0, -65504.0, np.inf, -np.inf],
    np.float32: [0.0, 1.0, -1.0, 1e-45, -1e-45, 1e-38, 17.0, -17.0, 1e4, -1e4, 3.4e38, -3.4e38, np.inf, -np.inf],
    np.float64: [0.0, 1.0, -1.0, 5e-324, -5e-324, 2.2e-308, 37.0, -37.0, 1e4, -1e4, 1.79e308, -1.79e308,
                 np.inf, -np.inf],
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_dtype_is_kept_and_no_warning_for_any_special_value(g, method, dtype):
    z = np.array(SPECIAL[dtype], dtype=dtype)
    x = g(z) if method == "derivative_from_output" else z
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = call(g, method, x)
    assert result.dtype == dtype
    assert result.shape == z.shape
    assert not np.isnan(result).any(), f"{g!r}.{method} gave NaN for {z[np.isnan(result)]}"


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nan_in_gives_nan_out(g, method, dtype):
    z = np.array([np.nan, 1.0, -1.0, np.nan, 0.5], dtype=dtype)
    result = call(g, method, z)
    np.testing.assert_array_equal(np.isnan(result), np.isnan(z))
    assert np.isnan(g.backward(np.ones_like(z), z=z)[0])


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_limits_at_infinity(name):
    g = slopekit.get(name)
    low = 0.0 if name == "sigmoid" else -1.0
    np.testing.assert_array_equal(g(np.array([-np.inf, np.inf])), [low, 1.0])
    np.testing.assert_array_equal(g.derivative(np.array([-np.inf, np.inf])), [0.0, 0.0])
    np.testing.assert_array_equal(g.derivative_from_output(np.array([low, 1.0])), [0.0, 0.0])
    np.testing.assert_array_equal(g.second_derivative(np.array([-np.inf, np.inf])), [0.0, 0.0])


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint16, np.bool_])
def test_integer_and_bool_compute_in_float64(g, dtype):
    z = np.array([0, 1, 1], dtype=dtype)
    result = g(z)
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, g(z.astype(np.float64)))
    np.testing.assert_array_equal(g.derivative(z), g.derivative(z.astype(np.float64)))


def test_python_scalars_give_scalars(g, method):
    for x in (0.5, 2, True):
        result = call(g, method, x)
        assert np.ndim(result) == 0 and not isinstance(result, np.ndarray)
        assert isinstance(result, float)
    assert call(g, method, np.float32(0.5)).dtype == np.float32
    assert isinstance(call(g, method, np.float32(0.5)), np.float32)


def test_lists_and_tuples_are_accepted(g, method):
    expected = call(g, method, np.array([[0.5, -2.0], [3.0, 0.0]]))
    np.testing.assert_array_equal(call(g, method, [[0.5, -2.0], [3.0, 0.0]]), expected)
    np.testing.assert_array_equal(call(g, method, (0.5, -2.0)), expected[0])


@pytest.mark.parametrize("shape", [(), (0,), (3, 0), (1,), (7,), (2, 3, 4)])
def test_any_shape(g, method, shape):
    z = np.asarray(np.random.default_rng(0).normal(size=shape) * 4)
    x = g(z) if method == "derivative_from_output" else z
    result = call(g, method, x)
    assert isinstance(result, np.ndarray) and result.shape == shape
    flat = call(g, method, x.ravel()) if x.size else np.empty(0)
    np.testing.assert_array_equal(result.ravel(), flat)


def test_non_contiguous_input(g, method):
    base = np.random.default_rng(1).normal(size=(6, 8)) * 4
    for view in (base[::2, 1::3], base.T, base[:, ::-1]):
        assert not view.flags.c_contiguous
        x = g(view) if method == "derivative_from_output" else view
        np.testing.assert_array_equal(call(g, method, x), call(g, method, np.ascontiguousarray(x)))


def test_inputs_are_never_modified(g, method):
    z = np.random.default_rng(2).normal(size=50) * 5
    z[[0, 1, 2]] = [0.0, np.nan, np.inf]
    x = g(z) if method == "derivative_from_output" else z
    before = x.copy()
    call(g, method, x)
    np.testing.assert_array_equal(x, before)
    da = np.ones_like(z)
    g.backward(da, z=z)
    if g.has_derivative_from_output:
        g.backward(da, a=x if method == "derivative_from_output" else g(z))
    np.testing.assert_array_equal(da, 1.0)
    np.testing.assert_array_equal(z[3:], before[3:] if method != "derivative_from_output" else z[3:])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_out_buffer_is_written_and_returned(g, method, dtype):
    z = (np.random.default_rng(3).normal(size=(4, 5)) * 4).astype(dtype)
    x = g(z) if method == "derivative_from_output" else z
    expected = call(g, method, x)
    out = np.full_like(x, 7)
    result = call(g, method, x, out=out)
    assert result is out
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_out_may_alias_the_input(g, method, dtype):
    z = (np.random.default_rng(4).normal(size=33) * 4).astype(dtype)
    x = g(z) if method == "derivative_from_output" else z
    expected = call(g, method, x)
    inplace = x.copy()
    assert call(g, method, inplace, out=inplace) is inplace
    np.testing.assert_array_equal(inplace, expected)
    # overlapping but shifted views of one buffer
    buf = np.concatenate([x, x[:1]])
    call(g, method, buf[:-1], out=buf[1:])
    np.testing.assert_array_equal(buf[1:], expected)


def test_bad_out_buffers(g):
    z = np.zeros(3)
    with pytest.raises(ValueError, match="shape"):
        g(z, out=np.empty(4))
    with pytest.raises(TypeError, match="dtype"):
        g(z, out=np.empty(3, np.float32))
    with pytest.raises(TypeError, match="NumPy array"):
        g(z, out=[0.0, 0.0, 0.0])
    readonly = np.empty(3)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        g(z, out=readonly)


@pytest.mark.parametrize("bad, what", [
    (None, "None"), ("1.0", "str"), (1 + 2j, "complex"), (np.array([1j]), "complex128"),
    (np.array(["a"]), "<U1"), (np.array([None, 1.0]), "object"), (object(), "object"),
    ([[1.0], [1.0, 2.0]], "sequence"), (np.array(["2020-01-01"], dtype="datetime64[D]"), "datetime64"),
])
def test_bad_input_raises_type_error_naming_activation_and_dtype(g, method, bad, what):
    with pytest.raises(TypeError, match=what) as info:
        call(g, method, bad)
    assert g.name in str(info.value)


def test_backward_is_da_times_slope(g):
    rng = np.random.default_rng(5)
    z = rng.normal(size=(3, 4)) * 3
    da = rng.normal(size=(3, 4))
    np.testing.assert_array_equal(g.backward(da, z=z), da * g.derivative(z))
    if g.has_derivative_from_output:
        a = g(z)
        np.testing.assert_array_equal(g.backward(da, a=a), da * g.derivative_from_output(a))
        np.testing.assert_array_equal(g.backward(da, a=a, z=z), da * g.derivative_from_output(a))
    else:
        with pytest.raises(ValueError, match="z="):
            g.backward(da, a=g(z))
        np.testing.assert_array_equal(g.backward(da, a=g(z), z=z), da * g.derivative(z))


def test_backward_out_may_alias_da_or_cache(g):
    rng = np.random.default_rng(6)
    z = rng.normal(size=40) * 3
    da = rng.normal(size=40)
    expected = g.backward(da, z=z)
    d = da.copy()
    assert g.backward(d, z=z, out=d) is d
    np.testing.assert_array_equal(d, expected)
    zz = z.copy()
    g.backward(da, z=zz, out=zz)
    np.testing.assert_array_equal(zz, expected)


def test_backward_dtype_promotion_and_scalars(g):
    z32 = np.linspace(-3, 3, 7, dtype=np.float32)
    assert g.backward(np.ones(7, np.float32), z=z32).dtype == np.float32
    assert g.backward(np.ones(7), z=z32).dtype == np.float64
    result = g.backward(2.0, z=0.5)
    assert isinstance(result, float) and result == 2.0 * g.derivative(0.5)


def test_backward_errors(g):
    with pytest.raises(TypeError, match="a= .*z="):
        g.backward(np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        g.backward(np.ones(3), z=np.ones(4))
    with pytest.raises(TypeError, match="da"):
        g.backward("x", z=np.ones(1))


def test_from_output_refusal_is_a_property_of_the_parameters():
    assert slopekit.relu.has_derivative_from_output
    assert not slopekit.get("relu", at_zero=1).has_derivative_from_output
    assert slopekit.leaky_relu.has_derivative_from_output
    for slope in (0.0, -0.1):
        g = slopekit.get("leaky_relu", slope=slope)
        assert not g.has_derivative_from_output
        with pytest.raises(ValueError, match="sign of z"):
            g.derivative_from_output(np.ones(2))


def test_unsupported_float_widths_masked_arrays_and_huge_integers(g):
    if np.dtype(np.longdouble) != np.float64:
        with pytest.raises(TypeError, match=f"{g.name}: z has dtype .*use float16, float32 or float64"):
            g(np.ones(2, dtype=np.longdouble))
    with pytest.raises(TypeError, match="masked array"):
        g(np.ma.array([1.0, 2.0], mask=[0, 1]))
    with pytest.raises(ValueError, match=f"{g.name}: z = .* too large for float64"):
        g(10**400)
