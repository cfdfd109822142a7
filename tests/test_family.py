"""The activation family beyond the lecture's four: accuracy against mpmath (in ULPs), agreement with
PyTorch autograd away from the kinks, the kink conventions pinned against torch, limits at infinity,
and the slope from the output.

ULPs are measured as in test_accuracy: |computed - exact| / spacing of the dtype at the correctly
rounded exact value. Points within 0.05 of a zero of the measured function (silu's minimum near
-1.278 and the zero of its g'' near 2.4) are measured in absolute terms instead: there every
formula has an absolute error of a few eps, and no ULP bound can hold.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import slopekit

mpmath = pytest.importorskip("mpmath")
mp = mpmath.mp

# -- mpmath references ---------------------------------------------------------------------------


def _sig(x):
    return 1 / (1 + mp.exp(-x))


def _softplus(x):
    return mp.log1p(mp.exp(x)) if x < 0 else x + mp.log1p(mp.exp(-x))


def _sqp(z):
    s = mp.sqrt(z * z + 4)
    return (z + s) / 2 if z >= 0 else 2 / (s - z)


def _gelu(z):
    if abs(z) > 1e4:  # Phi is 0 or 1 to far more digits than any dtype holds
        return (mp.mpf(0), mp.mpf(0), mp.mpf(0)) if z < 0 else (z, mp.mpf(1), mp.mpf(0))
    return z * mp.ncdf(z), mp.ncdf(z) + z * mp.npdf(z), mp.npdf(z) * (2 - z * z)


GELU_K, GELU_C = mp.sqrt(2 / mp.pi), mp.mpf("0.044715")


def _gelu_tanh(z):
    if abs(z) > 1e4:  # sigma(2u) is 0 or 1 to far more digits than any dtype holds
        return (mp.mpf(0), mp.mpf(0), mp.mpf(0)) if z < 0 else (z, mp.mpf(1), mp.mpf(0))
    u = GELU_K * (z + GELU_C * z ** 3)
    s, du, ddu = _sig(2 * u), GELU_K * (1 + 3 * GELU_C * z * z), 6 * GELU_K * GELU_C * z
    e = mp.exp(-2 * abs(u))
    q = e / (1 + e) ** 2  # s (1 - s) without cancellation
    return z * s, s + 2 * z * du * q, q * (4 * du + z * (2 * ddu - 4 * du * du * mp.tanh(u)))


def _mish(z):
    # 1 - t^2 = 4 (1 + e^z)^2 / (e^2z + 2e^z + 2)^2 without cancellation at large z
    e = mp.exp(z)
    n2 = e * e + 2 * e + 2
    t, one_t2, s = e * (e + 2) / n2, 4 * (1 + e) ** 2 / n2 ** 2, _sig(z)
    dt = one_t2 * s
    return z * t, t + z * dt, dt * (2 + z * ((1 - s) - 2 * t * s))


SELU_A, SELU_L = mp.mpf("1.6732632423543772848170429916717"), mp.mpf("1.0507009873554804934193349852946")

REFERENCE = {  # name: (value, derivative, second derivative), each z -> mpf, smooth side only
    # PyTorch's threshold: linear above z = 20
    "softplus": (lambda z: z if z > 20 else _softplus(z), lambda z: 1 if z > 20 else _sig(z),
                 lambda z: 0 if z > 20 else _sig(z) * _sig(-z)),
    "log_sigmoid": (lambda z: -_softplus(-z), lambda z: _sig(-z), lambda z: -_sig(z) * _sig(-z)),
    "elu": (lambda z: z if z > 0 else mp.expm1(z), lambda z: 1 if z > 0 else mp.exp(z),
            lambda z: 0 if z > 0 else mp.exp(z)),
    "selu": (lambda z: SELU_L * (z if z > 0 else SELU_A * mp.expm1(z)),
             lambda z: SELU_L * (1 if z > 0 else SELU_A * mp.exp(z)),
             lambda z: 0 if z > 0 else SELU_L * SELU_A * mp.exp(z)),
    "celu": (lambda z: z if z > 0 else mp.expm1(z), lambda z: 1 if z > 0 else mp.exp(z),
             lambda z: 0 if z > 0 else mp.exp(z)),
    "silu": (lambda z: z * _sig(z), lambda z: _sig(z) * (1 + z * _sig(-z)),
             lambda z: _sig(z) * _sig(-z) * (2 - z * mp.tanh(z / 2))),
    "softsign": (lambda z: z / (1 + abs(z)), lambda z: 1 / (1 + abs(z)) ** 2,
                 lambda z: -2 * mp.sign(z) / (1 + abs(z)) ** 3),
    "squareplus": (lambda z: _sqp(z), lambda z: _sqp(z) / mp.sqrt(z * z + 4),
                   lambda z: 2 / mp.sqrt(z * z + 4) ** 3),
    "gelu": tuple((lambda k: lambda z: _gelu(z)[k])(k) for k in range(3)),
    "gelu_tanh": tuple((lambda k: lambda z: _gelu_tanh(z)[k])(k) for k in range(3)),
    "mish": tuple((lambda k: lambda z: _mish(z)[k])(k) for k in range(3)),
}
ACTIVATION = {"gelu_tanh": slopekit.get("gelu", approximate="tanh")}
# zeros of g' and of g'' (measured in absolute terms within 0.05 of them)
ROOTS = {"silu": ([-1.2784645], [-2.3993572, 2.3993572]), "gelu": ([-0.7517916], [-1.4142136, 1.4142136]),
         "gelu_tanh": ([-0.7522486], [-1.4131, 1.4131]), "mish": ([-1.1924], [-2.4710, 1.2126])}

# Largest error in ULPs over GRID (measured; the bound leaves ~1 ULP for other SIMD paths of exp).
BOUNDS = {
    np.float32: {"value": 4.0, "derivative": 5.0, "second_derivative": 7.0},
    np.float64: {"value": 4.0, "derivative": 5.0, "second_derivative": 7.0},
}
# silu's slopes cancel in 1 + z sigma(-z) and 2 - z tanh(z/2) over a wide band around their zeros
# (|z| < 4 for the slopes: measured there in absolute terms, <= 16 eps); gelu's and mish's within 0.5
# of the zeros of g' and g'' (ROOTS). Their values multiply two or three rounded factors: <= 5 ULP;
# the second derivatives of mish and of GELU's tanh form add terms of both signs: <= 12 and 14 ULP.
OVERRIDE = {("silu", "derivative"): 8.0, ("silu", "second_derivative"): 8.0, ("mish", "derivative"): 8.0,
            ("gelu", "value"): 5.0, ("gelu_tanh", "value"): 5.0, ("gelu", "derivative"): 6.0,
            ("gelu_tanh", "derivative"): 6.0, ("gelu_tanh", "second_derivative"): 14.0,
            ("mish", "second_derivative"): 12.0}
# The tanh form of GELU is measured in ULPs only where |u| < 4 (|z| < 2.5): further out the rounding
# of u = sqrt(2/pi) (z + 0.044715 z^3) is amplified |2u| times by exp(-2|u|), as in every
# implementation of the formula (PyTorch's, JAX's); there it is checked to a relative 16|u| eps.
GELU_TANH_FROM = 2.5


def grid(dtype):
    info = np.finfo(dtype)
    mags = np.concatenate([np.geomspace(float(info.tiny), 1e-3, 30), np.linspace(1e-3, 12, 700),
                           np.geomspace(12, 800, 150), [1e4, 1e30, float(info.max)]])
    z = np.concatenate([mags, -mags, [0.0]]).astype(dtype)
    return np.unique(z[np.isfinite(z)])


def ulp_error(got, exact, dtype):
    info = np.finfo(dtype)
    ref = float(exact)
    rounded = np.array(ref, dtype=dtype) if abs(ref) <= float(info.max) else np.array(np.inf, dtype)
    if not np.isfinite(rounded):
        return 0.0 if got == rounded else np.inf
    r = np.abs(rounded)
    spacing = float(r - np.nextafter(r, dtype(0))) if rounded != 0 else float(info.smallest_subnormal)
    spacing = max(spacing, float(info.smallest_subnormal))
    return float(abs(mp.mpf(float(got)) - exact) / spacing)


KINDS = {"value": "__call__", "derivative": "derivative", "second_derivative": "second_derivative"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("name", list(REFERENCE))
def test_ulps_against_mpmath(name, kind, dtype):
    mp.dps = 50
    g = ACTIVATION.get(name) or slopekit.get(name)
    z = grid(dtype)
    got = getattr(g, KINDS[kind])(z)
    fn = REFERENCE[name][list(KINDS).index(kind)]
    roots = [] if kind == "value" else ROOTS.get(name, ([], []))[kind == "second_derivative"]
    eps = float(np.finfo(dtype).eps)
    worst = 0.0
    for zi, gi in zip(z.tolist(), got.tolist()):
        if zi == 0 and name in ("elu", "selu", "celu", "softsign") and kind != "value":
            continue  # the kink convention, pinned below
        with mp.workdps(50 + int(min(abs(zi), 800.0)) // 2):  # mish's 1 - t^2 and e^z carry far into the tail
            exact = mp.mpf(fn(mp.mpf(zi)))
        band = 0.5 if name in ("gelu", "gelu_tanh", "mish") else 0.05
        if any(abs(zi - r) < band for r in roots) or (name == "silu" and kind != "value" and abs(zi) < 4):
            assert abs(gi - float(exact)) <= 16 * eps, (zi, gi, exact)
            continue
        if name == "gelu_tanh" and abs(zi) > GELU_TANH_FROM:
            u = abs(GELU_K * (mp.mpf(zi) + GELU_C * mp.mpf(zi) ** 3))
            tiny = float(np.finfo(dtype).smallest_subnormal)
            assert abs(gi - exact) <= max(16 * u, 8) * eps * abs(exact) + 2 * tiny, (name, kind, zi, gi, exact)
            continue
        err = ulp_error(gi, exact, dtype)
        worst = max(worst, err)
        assert err <= OVERRIDE.get((name, kind), BOUNDS[dtype][kind]), (name, kind, zi, gi, float(exact), err)
    print(f"{name} {kind} {np.dtype(dtype).name}: {worst:.2f} ulp")


# -- PyTorch ---------------------------------------------------------------------------------------

torch_cases = {
    "identity": lambda t: t * 1,
    "softplus": lambda t: __import__("torch").nn.functional.softplus(t),
    "log_sigmoid": lambda t: __import__("torch").nn.functional.logsigmoid(t),
    "elu": lambda t: __import__("torch").nn.functional.elu(t),
    "selu": lambda t: __import__("torch").nn.functional.selu(t),
    "celu": lambda t: __import__("torch").nn.functional.celu(t),
    "silu": lambda t: __import__("torch").nn.functional.silu(t),
    "softsign": lambda t: __import__("torch").nn.functional.softsign(t),
    "squareplus": lambda t: (t + (t * t + 4).sqrt()) / 2,
    "hard_sigmoid": lambda t: __import__("torch").nn.functional.hardsigmoid(t),
    "hard_tanh": lambda t: __import__("torch").nn.functional.hardtanh(t),
    "relu6": lambda t: __import__("torch").nn.functional.relu6(t),
    "gelu": lambda t: __import__("torch").nn.functional.gelu(t),
    "gelu_tanh": lambda t: __import__("torch").nn.functional.gelu(t, approximate="tanh"),
    "mish": lambda t: __import__("torch").nn.functional.mish(t),
}


def _torch_slopes(name, points, second=True):
    torch = pytest.importorskip("torch")
    z = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    y = torch_cases[name](z)
    (d,) = torch.autograd.grad(y.sum(), z, create_graph=True)
    s = None
    if second and d.requires_grad:
        (s,) = torch.autograd.grad(d.sum(), z)
    elif second:
        s = torch.zeros_like(z)
    return y.detach().numpy(), d.detach().numpy(), None if s is None else s.numpy()


@pytest.mark.parametrize("name", list(torch_cases))
def test_agrees_with_torch_autograd_away_from_kinks(name):
    g = ACTIVATION.get(name) or slopekit.get(name)
    z = np.linspace(-9.7, 9.7, 389)
    z = z[[all(abs(zi - k) > 1e-3 for k in g.kinks) for zi in z]]
    second = name != "hard_sigmoid"  # torch has no double backward for hardsigmoid
    value, slope, curve = _torch_slopes(name, z.tolist(), second)
    # torch's tanh-form GELU computes 1 + tanh(u), which cancels to 0 (1e-16 absolute) in the left tail
    atol = 2e-14 if name == "gelu_tanh" else 1e-15
    np.testing.assert_allclose(g(z), value, rtol=1e-14, atol=atol)
    rtol = 1e-7 if name == "hard_sigmoid" else 1e-13  # torch's hardsigmoid backward rounds 1/6 to float32
    np.testing.assert_allclose(g.derivative(z), slope, rtol=rtol, atol=atol)
    if second:
        np.testing.assert_allclose(g.second_derivative(z), curve, rtol=1e-12, atol=max(atol, 1e-14))


@pytest.mark.parametrize("name, kinks", [
    ("elu", [0.0, -0.0]), ("selu", [0.0]), ("celu", [0.0]), ("softsign", [0.0]),
    ("hard_tanh", [-1.0, 1.0]), ("relu6", [0.0, 6.0]), ("hard_sigmoid", [-3.0, 3.0]),
])
def test_kink_conventions_match_torch_autograd(name, kinks):
    g = slopekit.get(name)
    value, slope, curve = _torch_slopes(name, kinks, second=name != "hard_sigmoid")
    np.testing.assert_array_equal(g(np.array(kinks)), value)
    np.testing.assert_allclose(g.derivative(np.array(kinks)), slope, rtol=1e-15)
    if curve is not None:
        np.testing.assert_array_equal(g.second_derivative(np.array(kinks)), curve)


def test_kink_conventions_pinned():
    assert slopekit.get("elu").derivative(0.0) == 1.0
    assert slopekit.get("elu", alpha=0.5).derivative(0.0) == 0.5  # left-hand slope alpha, as torch
    assert slopekit.get("elu", alpha=0.5, at_zero=1).derivative(0.0) == 1.0
    assert slopekit.get("selu").derivative(0.0) == pytest.approx(1.0507009873554805 * 1.6732632423543772)
    assert slopekit.get("celu", alpha=3.0).derivative(0.0) == 1.0
    assert list(slopekit.get("hard_tanh", min_val=-2, max_val=0.5).derivative([-2.0, 0.0, 0.5])) == [0, 1, 0]
    assert list(slopekit.get("relu6").derivative([0.0, 6.0])) == [0.0, 0.0]
    assert list(slopekit.get("hard_sigmoid").derivative([-3.0, 3.0])) == [0.0, 0.0]
    for name in ("elu", "selu", "celu", "softsign"):
        assert slopekit.get(name).second_derivative(0.0) == 0.0


def test_elu_at_zero_with_alpha_two_matches_torch():
    torch = pytest.importorskip("torch")
    z = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
    (d,) = torch.autograd.grad(torch.nn.functional.elu(z, alpha=2.0).sum(), z)
    assert slopekit.get("elu", alpha=2.0).derivative(0.0) == float(d[0]) == 2.0


def test_softplus_threshold_is_pytorch_semantics():
    torch = pytest.importorskip("torch")
    z = np.array([-30.0, 4.9, 5.0, 5.0000001, 19.0, 20.0, 20.5])
    for beta, threshold in ((1.0, 20.0), (2.0, 10.0), (4.0, 20.0)):
        g = slopekit.get("softplus", beta=beta, threshold=threshold)
        t = torch.tensor(z, requires_grad=True)
        y = torch.nn.functional.softplus(t, beta=beta, threshold=threshold)
        (d,) = torch.autograd.grad(y.sum(), t)
        np.testing.assert_allclose(g(z), y.detach().numpy(), rtol=1e-15)
        np.testing.assert_allclose(g.derivative(z), d.numpy(), rtol=1e-15)
        assert g.kinks == (threshold / beta,)
    g = slopekit.get("softplus")
    assert g(25.0) == 25.0 and g.derivative(25.0) == 1.0 and g.second_derivative(25.0) == 0.0


# -- limits, NaN, warnings, from-output --------------------------------------------------------------

LIMITS = {  # name: ((g, g', g'') at -inf, (g, g', g'') at +inf)
    "identity": ((-np.inf, 1, 0), (np.inf, 1, 0)),
    "softplus": ((0, 0, 0), (np.inf, 1, 0)),
    "log_sigmoid": ((-np.inf, 1, 0), (0, 0, 0)),
    "elu": ((-1, 0, 0), (np.inf, 1, 0)),
    "selu": ((-1.0507009873554805 * 1.6732632423543772, 0, 0), (np.inf, 1.0507009873554805, 0)),
    "celu": ((-1, 0, 0), (np.inf, 1, 0)),
    "silu": ((0, 0, 0), (np.inf, 1, 0)),
    "softsign": ((-1, 0, 0), (1, 0, 0)),
    "squareplus": ((0, 0, 0), (np.inf, 1, 0)),
    "hard_sigmoid": ((0, 0, 0), (1, 0, 0)),
    "hard_tanh": ((-1, 0, 0), (1, 0, 0)),
    "relu6": ((0, 0, 0), (6, 0, 0)),
    "gelu": ((0, 0, 0), (np.inf, 1, 0)),
    "mish": ((0, 0, 0), (np.inf, 1, 0)),
}


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name", list(LIMITS))
def test_limits_at_infinity(name, dtype):
    g = slopekit.get(name)
    z = np.array([-np.inf, np.inf], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = [g(z), g.derivative(z), g.second_derivative(z)]
        if g.has_derivative_from_output:
            np.testing.assert_allclose(g.derivative_from_output(g(z)), got[1], rtol=1e-3, atol=2e-3)
    for k in range(3):
        expected = np.array([LIMITS[name][0][k], LIMITS[name][1][k]], dtype=np.float64).astype(dtype)
        np.testing.assert_array_equal(got[k], expected, err_msg=f"{name} {k}")


FROM_OUTPUT = {  # absolute error of the slope from the output, in eps (a inherits its rounding)
    "identity": 0, "softplus": 2, "log_sigmoid": 2, "elu": 4, "selu": 4, "celu": 4,
    "softsign": 4, "hard_tanh": 0, "relu6": 0, "squareplus": 4,
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(LIMITS))
def test_from_output_agrees_with_from_input(name, dtype):
    g = slopekit.get(name)
    assert g.has_derivative_from_output == (name in FROM_OUTPUT)
    z = np.concatenate([np.linspace(-40, 40, 4001), [0.0, -1e-30, 1e-30, 1e4, -1e4]]).astype(dtype)
    if name not in FROM_OUTPUT:
        with pytest.raises(ValueError, match="derivative"):
            g.derivative_from_output(g(z))
        return
    error = np.abs(g.derivative_from_output(g(z)).astype(float) - g.derivative(z))
    if name == "softplus":  # just below the threshold, a is above it: the documented e^-20 ambiguity
        assert error.max() <= max(1.01 * np.exp(-20.0), np.finfo(dtype).eps)
        error = error[np.abs(z - 20) > 1e-6]
    assert error.max() <= FROM_OUTPUT[name] * np.finfo(dtype).eps


def test_swish_is_silu():
    assert slopekit.get("swish") is not None and slopekit.get("swish") == slopekit.get("silu")
    assert slopekit.get("Swish").name == "silu"
    assert "swish" not in slopekit.names() and "silu" in slopekit.names()


@pytest.mark.parametrize("name, params, match", [
    ("softplus", {"beta": 0.0}, "positive"), ("elu", {"alpha": -1.0}, "positive"),
    ("elu", {"at_zero": 2.0}, "subgradient"), ("celu", {"alpha": 0}, "positive"),
    ("squareplus", {"b": -4}, "positive"), ("hard_tanh", {"min_val": 1.0, "max_val": 1.0}, "min_val < max_val"),
])
def test_invalid_parameters(name, params, match):
    with pytest.raises(ValueError, match=match):
        slopekit.get(name, **params)
