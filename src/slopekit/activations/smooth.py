"""Smooth activations beyond the lecture's four: identity, softplus, log-sigmoid, the ELU family,
SiLU (swish), softsign and squareplus.

Each formula is written once against the Python array API (``_*_xp``). The
NumPy kernels of the simple ones (identity) use in-place ufuncs; the others run
the same generic formula on NumPy (``np.where`` based: every branch is computed
on clipped arguments, so no branch can warn) and copy it into ``out``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _params
from . import _torch
from ._base import Activation
from ._generic import Generic as _Generic
from .relu import _zero_np

# exp(-800) is 0 in every supported dtype, and |z| e^{-|z|} has underflowed to 0 well before
# |z| = 800 (float64: |z| > 752): clipping z to [-_CLIP, _CLIP] where a product z * exp(-|z|) or
# z * tanh(z) appears avoids inf * 0 = NaN at +-inf without changing any result.
_CLIP = 800.0


def _positive(who: str, name: str, value: object) -> float:
    result = _params.real(who, name, value)
    if not result > 0.0:
        raise ValueError(f"{who}: {name} must be positive, got {result!r}")
    return result


def _full(xp, x, value):
    return xp.full_like(x, value)


def _nan_patch(xp, x, result):
    return xp.where(xp.isnan(x), x, result)


def _clip(xp, x, low, high):
    x = xp.where(x < low, _full(xp, x, low), x)
    return xp.where(x > high, _full(xp, x, high), x)


def _sigmoid(xp, x):
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, xp.ones_like(e), e) / (1 + e)


def _sigmoid_slope(xp, x):
    e = xp.exp(-xp.abs(x))
    return e / ((1 + e) * (1 + e))


#: Per dtype: (threshold, k). Below the threshold e^z is close to subnormal; there e^z is formed
#: as (e^(z/2) 2^(k/2))^2 2^-k, whose parts are normal, so the products with it round once, at the
#: end, instead of losing the low bits of a subnormal e^z first.
_TAIL = {np.dtype(np.float64): (-700.0, 64), np.dtype(np.float32): (-80.0, 32)}


def _patch_torch(torch, where, z, out, formula):
    """``out`` = the generic ``formula`` at the (few) elements ``where`` is True (a PyTorch block)."""
    index = torch.nonzero(where).squeeze(1)
    out.index_copy_(0, index, formula(_torch.compat_namespace(), z.index_select(0, index)))


def _exp_tail_threshold(itemsize: int) -> float:
    """`_TAIL`'s threshold for float32 (``itemsize`` 4) or float64 (8)."""
    return _TAIL[np.dtype(np.float32 if itemsize == 4 else np.float64)][0]


def _exp_tail(xp, x, c, normal, scale=1.0):
    r"""``scale (c + x) e^x`` where ``x`` is below the tail threshold (see `_TAIL`), ``normal`` elsewhere.

    silu and mish equal :math:`z e^z` to the last bit once :math:`e^z \ll` eps,
    their slopes :math:`(1 + z) e^z` and :math:`(2 + z) e^z`, and silu's
    :math:`g''` for large :math:`z` is :math:`(2 - z) e^{-z}` (``x = -z``), mish's
    :math:`4(2 - 2z) e^{-2z}` (``x = -2z``, ``scale = 4``).
    """
    key = np.dtype(np.float64) if x.dtype == xp.float64 else np.dtype(np.float32)
    threshold, k = _TAIL[key]
    xt = xp.clip(x, -_CLIP, threshold)
    h = xp.exp(xt * 0.5) * 2.0 ** (k // 2)
    return xp.where(x < threshold, ((xt + c) * scale * (h * h)) * 2.0 ** -k, normal)


def _softplus(xp, x):
    """log(1 + e^x) without overflow or cancellation; 0 at -inf, inf at inf, NaN for NaN."""
    return xp.maximum(x, xp.zeros_like(x)) + xp.log1p(xp.exp(-xp.abs(x)))


@dataclass(frozen=True)
class Identity(Activation):
    r"""The identity :math:`g(z) = z` (a linear layer), with :math:`g' = 1` and :math:`g'' = 0`.

    Examples
    --------
    >>> import slopekit
    >>> g = slopekit.get("identity")
    >>> g([-2.0, 3.0]), g.derivative([-2.0, 3.0])
    (array([-2.,  3.]), array([1., 1.]))
    """

    name = "identity"

    def _value_np(self, z, out):
        np.copyto(out, z)

    def _derivative_np(self, z, out):
        _zero_np(z, out)
        np.add(out, 1.0, out=out)  # 1, NaN for NaN

    def _from_output_np(self, a, out):
        self._derivative_np(a, out)

    def _second_np(self, z, out):
        _zero_np(z, out)

    def _value_xp(self, xp, z):
        return z + xp.zeros_like(z)

    def _derivative_xp(self, xp, z):
        return _nan_patch(xp, z, xp.ones_like(z))

    def _from_output_xp(self, xp, a):
        return self._derivative_xp(xp, a)

    def _second_xp(self, xp, z):
        return _nan_patch(xp, z, xp.zeros_like(z))


@dataclass(frozen=True)
class Softplus(_Generic):
    r"""Softplus :math:`g(z) = \frac{1}{\beta}\log(1 + e^{\beta z})`, linear above a threshold.

    Parameters
    ----------
    beta : float, default 1
        Positive sharpness :math:`\beta`.
    threshold : float, default 20
        PyTorch's semantics: where :math:`\beta z > \text{threshold}`,
        :math:`g(z) = z`, :math:`g'(z) = 1` and :math:`g''(z) = 0` exactly. At
        the default that drops :math:`\log(1 + e^{-20})/\beta \approx 2\cdot 10^{-9}/\beta`,
        a small jump at :math:`z = \text{threshold}/\beta`, listed in `kinks`.

    Notes
    -----
    .. math::

        g'(z) = \sigma(\beta z) = 1 - e^{-\beta a},
        \qquad g''(z) = \beta\,\sigma(\beta z)\,\sigma(-\beta z).

    The value is :math:`(\max(x, 0) + \operatorname{log1p}(e^{-|x|}))/\beta`
    with :math:`x = \beta z`: no overflow, no cancellation, softplus(-inf) = 0,
    softplus(inf) = inf. `derivative_from_output` is
    :math:`-\operatorname{expm1}(-\beta a)`, accurate where the slope is tiny,
    and 1 where :math:`\beta a > \text{threshold}`; within :math:`e^{-\text{threshold}}`
    above the threshold the output cannot tell the two sides of the jump apart,
    and the two slopes differ by at most :math:`e^{-\text{threshold}}`.

    Examples
    --------
    >>> import slopekit
    >>> g = slopekit.get("softplus")
    >>> print(f"{float(g(0.0)):.6f} {float(g.derivative(0.0))}")
    0.693147 0.5
    """

    beta: float = 1.0
    threshold: float = 20.0
    name = "softplus"
    _np_errstate = {"over": "ignore"}  # beta z overflows only where the result is z or 0

    def __post_init__(self):
        object.__setattr__(self, "beta", _positive("softplus", "beta", self.beta))
        object.__setattr__(self, "threshold", _params.real("softplus", "threshold", self.threshold))

    @property
    def kinks(self):
        return (self.threshold / self.beta,)

    def _beta_z(self, z):
        return z if self.beta == 1.0 else z * self.beta

    def _value_xp(self, xp, z):
        x = self._beta_z(z)
        soft = _softplus(xp, x)
        if self.beta != 1.0:
            soft = soft / self.beta
        return xp.where(x > self.threshold, z, soft)

    def _derivative_xp(self, xp, z):
        x = self._beta_z(z)
        return xp.where(x > self.threshold, xp.ones_like(x), _sigmoid(xp, x))

    def _from_output_xp(self, xp, a):
        x = self._beta_z(a)
        return xp.where(x > self.threshold, xp.ones_like(x), -xp.expm1(-x))

    def _second_xp(self, xp, z):
        x = self._beta_z(z)
        return xp.where(x > self.threshold, xp.zeros_like(x), self.beta * _sigmoid_slope(xp, x))


@dataclass(frozen=True)
class LogSigmoid(_Generic):
    r"""The log-sigmoid :math:`g(z) = \log \sigma(z) = -\operatorname{softplus}(-z)`.

    Notes
    -----
    .. math::

        g'(z) = \sigma(-z) = 1 - e^{a} = -\operatorname{expm1}(a),
        \qquad g''(z) = -\sigma(z)\,\sigma(-z).

    The value is :math:`\min(z, 0) - \operatorname{log1p}(e^{-|z|})`: no
    overflow and no :math:`\log 0`; log_sigmoid(-inf) = -inf with slope 1,
    log_sigmoid(inf) = 0 with slope 0. The output determines the slope.

    Examples
    --------
    >>> import slopekit
    >>> g = slopekit.get("log_sigmoid")
    >>> float(g(-1000.0)), float(g.derivative(0.0))
    (-1000.0, 0.5)
    """

    name = "log_sigmoid"

    def _value_xp(self, xp, z):
        return xp.minimum(z, xp.zeros_like(z)) - xp.log1p(xp.exp(-xp.abs(z)))

    def _derivative_xp(self, xp, z):
        return _sigmoid(xp, -z)

    def _from_output_xp(self, xp, a):
        return -xp.expm1(a)

    def _second_xp(self, xp, z):
        return -_sigmoid_slope(xp, z)


class _ELUFamily(_Generic):
    """:math:`g(z) = s z` for :math:`z > 0`, :math:`s\\alpha\\,\\operatorname{expm1}(z/c)` below."""

    def _constants(self):  # (s, alpha, c, slope at 0)
        raise NotImplementedError  # pragma: no cover

    kinks = (0.0,)
    _np_errstate = {"over": "ignore"}  # s z beyond the dtype's max rounds to inf, correctly

    def _value_xp(self, xp, z):
        s, alpha, c, _ = self._constants()
        neg = xp.minimum(z, xp.zeros_like(z))
        left = xp.expm1(neg / c if c != 1.0 else neg) * (s * alpha)
        return xp.where(z > 0, z * s if s != 1.0 else z, left)

    def _derivative_xp(self, xp, z):
        s, alpha, c, at0 = self._constants()
        neg = xp.minimum(z, xp.zeros_like(z))
        left = xp.exp(neg / c if c != 1.0 else neg) * (s * alpha / c)
        slope = xp.where(z > 0, _full(xp, z, s), xp.where(z < 0, left, _full(xp, z, at0)))
        return _nan_patch(xp, z, slope)

    def _from_output_xp(self, xp, a):
        s, alpha, c, at0 = self._constants()
        left = (a + s * alpha) / c if c != 1.0 else a + s * alpha
        slope = xp.where(a > 0, _full(xp, a, s), xp.where(a < 0, left, _full(xp, a, at0)))
        return _nan_patch(xp, a, slope)

    def _second_xp(self, xp, z):
        s, alpha, c, _ = self._constants()
        neg = xp.minimum(z, xp.zeros_like(z))
        left = xp.exp(neg / c if c != 1.0 else neg) * (s * alpha / (c * c))
        return _nan_patch(xp, z, xp.where(z < 0, left, xp.zeros_like(z)))


@dataclass(frozen=True)
class ELU(_ELUFamily):
    r"""The exponential linear unit: :math:`g(z) = z` for :math:`z > 0`, :math:`\alpha(e^z - 1)` below.

    Parameters
    ----------
    alpha : float, default 1
        Positive; :math:`g \to -\alpha` as :math:`z \to -\infty`.
    at_zero : float, optional
        The slope at exactly :math:`z = 0`, between ``alpha`` and 1. Default
        ``alpha``, the left-hand slope, as PyTorch autograd gives
        (``elu_backward`` takes the :math:`z \le 0` branch at 0).

    Notes
    -----
    .. math::

        g'(z) = \begin{cases} \alpha e^z = a + \alpha & z < 0 \\ \text{at\_zero} & z = 0 \\ 1 & z > 0 \end{cases}
        \qquad g''(z) = \begin{cases} \alpha e^z & z < 0 \\ 0 & z \ge 0 \end{cases}

    :math:`g''(0) = 0`, as PyTorch's double backward gives. With
    :math:`\alpha = 1` the slope is continuous but :math:`g''` still jumps at
    0, so 0 is listed in `kinks` for every ``alpha``. :math:`a` has the sign of
    :math:`z`, so the output determines the slope; :math:`a + \alpha` is
    accurate in absolute terms (a few eps), not relative ones where
    :math:`a \approx -\alpha`.

    Examples
    --------
    >>> import slopekit
    >>> slopekit.get("elu").derivative([-1.0, 0.0, 1.0])
    array([0.36787944, 1.        , 1.        ])
    >>> float(slopekit.get("elu", alpha=0.5).derivative(0.0))
    0.5
    """

    alpha: float = 1.0
    at_zero: float | None = None
    name = "elu"

    def __post_init__(self):
        alpha = _positive("elu", "alpha", self.alpha)
        at_zero = alpha if self.at_zero is None else _params.real("elu", "at_zero", self.at_zero)
        _params.between("elu", "at_zero", at_zero, alpha, 1.0, "a subgradient of ELU at 0")
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "at_zero", at_zero)

    def _constants(self):
        return 1.0, self.alpha, 1.0, self.at_zero


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@dataclass(frozen=True)
class SELU(_ELUFamily):
    r"""The scaled ELU :math:`g(z) = \lambda\,\operatorname{elu}_\alpha(z)`, with the constants of Klambauer et al.

    :math:`\alpha \approx 1.6733`, :math:`\lambda \approx 1.0507` (PyTorch's
    and JAX's values).

    Notes
    -----
    :math:`g'(z) = \lambda` for :math:`z > 0` and
    :math:`\lambda\alpha e^z = a + \lambda\alpha` for :math:`z < 0`. At
    :math:`z = 0` the slope is :math:`\lambda\alpha \approx 1.7581`, the
    left-hand one, as PyTorch autograd gives; :math:`g''(0) = 0`. The output
    determines the slope.

    Examples
    --------
    >>> import slopekit
    >>> print(f"{float(slopekit.get('selu').derivative(0.0)):.4f}")
    1.7581
    """

    name = "selu"

    def _constants(self):
        return _SELU_SCALE, _SELU_ALPHA, 1.0, _SELU_SCALE * _SELU_ALPHA


@dataclass(frozen=True)
class CELU(_ELUFamily):
    r"""The continuously differentiable ELU: :math:`g(z) = \max(0, z) + \min(0, \alpha(e^{z/\alpha} - 1))`.

    Parameters
    ----------
    alpha : float, default 1
        Positive.

    Notes
    -----
    :math:`g'(z) = e^{z/\alpha} = 1 + a/\alpha` for :math:`z < 0` and 1 above:
    the slope is continuous, 1 at 0 from both sides (as PyTorch gives).
    :math:`g''(z) = e^{z/\alpha}/\alpha` below 0 and 0 from 0 on (PyTorch's
    double backward gives 0 at 0 too); that jump is why 0 is in `kinks`.

    Examples
    --------
    >>> import slopekit
    >>> slopekit.get("celu", alpha=2.0).derivative([-2.0, 0.0])
    array([0.36787944, 1.        ])
    """

    alpha: float = 1.0
    name = "celu"

    def __post_init__(self):
        object.__setattr__(self, "alpha", _positive("celu", "alpha", self.alpha))

    def _constants(self):
        return 1.0, self.alpha, self.alpha, 1.0


@dataclass(frozen=True)
class SiLU(_Generic):
    r"""The sigmoid linear unit (swish) :math:`g(z) = z\,\sigma(z)`.

    ``slopekit.get("swish")`` returns this activation; `names` lists it once,
    as ``"silu"``.

    Notes
    -----
    .. math::

        g'(z) = \sigma(z)\,(1 + z\,\sigma(-z)),
        \qquad g''(z) = \sigma(z)\sigma(-z)\,(2 - z \tanh(z/2)).

    silu(-inf) = 0 and every slope at :math:`\pm\infty` is its limit (0, or 1
    for :math:`g'(+\infty)`), not the NaN of :math:`\infty \cdot 0`. The output
    does not determine the slope: :math:`g` has a minimum near
    :math:`z = -1.278`, so each negative output comes from two inputs.
    Near that minimum (where :math:`g' = 0`) and near the zero of
    :math:`g''` the slopes are accurate in absolute terms only.

    Examples
    --------
    >>> import slopekit
    >>> g = slopekit.get("silu")
    >>> float(g(0.0)), float(g.derivative(0.0)), float(g.second_derivative(0.0))
    (0.0, 0.5, 0.5)
    """

    name = "silu"

    _no_shortcut = "silu is not monotonic (minimum near z = -1.278), so a negative output comes from two inputs"

    # PyTorch kernels (``_torch.py``): z sigma(z) from PyTorch's sigmoid, which is accurate while
    # sigma(z) is a normal number; elements in the far tail (and inf for the slope, where z sigma(-z)
    # is inf * 0) take the generic formula.
    @property
    def _value_torch(self):
        return _torch.Whole(self._value_whole_torch)  # two passes, no temporaries: no blocks

    def _value_whole_torch(self, torch, z, out, shared):
        torch.sigmoid(z, out=out).mul_(z)
        low = _exp_tail_threshold(z.element_size())
        if not _torch.within(torch, z, low=low):
            _patch_torch(torch, z < low, z, out, self._value_xp)

    def _derivative_torch(self, torch, z, out, scratch):
        torch.sigmoid(z, out=out)
        rest = torch.neg(z, out=scratch.get("rest", z)).sigmoid_()
        out.mul_(rest.mul_(z).add_(1.0))  # sigma(z) (1 + z sigma(-z))
        low = _exp_tail_threshold(z.element_size())
        if not _torch.within(torch, z, low, _CLIP):
            _patch_torch(torch, (z < low).logical_or_(z > _CLIP), z, out, self._derivative_xp)

    def _value_xp(self, xp, z):
        zc = xp.where(z < -_CLIP, _full(xp, z, -_CLIP), z)
        return _exp_tail(xp, z, 0.0, zc * _sigmoid(xp, zc))

    def _derivative_xp(self, xp, z):
        zc = _clip(xp, z, -_CLIP, _CLIP)
        return _exp_tail(xp, z, 1.0, _sigmoid(xp, zc) * (1 + zc * _sigmoid(xp, -zc)))

    def _second_xp(self, xp, z):
        zc = _clip(xp, z, -_CLIP, _CLIP)
        middle = _sigmoid_slope(xp, zc) * (2 - zc * xp.tanh(zc * 0.5))
        return _exp_tail(xp, z, 2.0, _exp_tail(xp, -z, 2.0, middle))  # (2 + z) e^z, (2 - z) e^-z


@dataclass(frozen=True)
class Mish(_Generic):
    r"""Mish :math:`g(z) = z \tanh(\operatorname{softplus}(z))` (Misra, 2019).

    Notes
    -----
    With :math:`t = \tanh(\operatorname{softplus}(z))` and
    :math:`t' = (1 - t^2)\,\sigma(z)`:

    .. math::

        g'(z) = t + z t',
        \qquad g''(z) = t' \bigl(2 + z\,(1 - \sigma(z) - 2 t \sigma(z))\bigr).

    :math:`t = n / (n + 2)` with :math:`n = e^{2z} + 2e^z`, and
    :math:`1 - t^2 = 4(1 + e^z)^2 / (n + 2)^2`, evaluated with
    :math:`e = e^{-|z|}` on each side: no overflow, no cancellation in
    :math:`1 - t^2`. mish(-inf) = 0 and every slope at :math:`\pm\infty` is its
    limit. Like silu, mish has a minimum (near :math:`z = -1.1924`), so the
    output does not determine the slope; near the zeros of :math:`g'` and
    :math:`g''` the slopes are accurate in absolute terms only.

    Examples
    --------
    >>> import slopekit
    >>> g = slopekit.get("mish")
    >>> print(f"{float(g(1.0)):.6f} {float(g.derivative(0.0)):.6f}")
    0.865098 0.600000
    """

    name = "mish"

    _no_shortcut = "mish is not monotonic (minimum near z = -1.19), so a negative output comes from two inputs"

    @staticmethod
    def _tanh_softplus_terms(xp, z):
        """t, t' = (1 - t^2) sigma(z) and sigma(z) at (clipped) z, each without cancellation."""
        e = xp.exp(-xp.abs(z))
        pos = z > 0
        # z > 0: t = (1 + 2e) / D, D = 1 + 2e + 2e^2; z <= 0: t = e(e + 2) / (e^2 + 2e + 2)
        den = xp.where(pos, 1 + 2 * e + 2 * (e * e), e * e + 2 * e + 2)
        t = xp.where(pos, 1 + 2 * e, e * (e + 2)) / den
        one_e = 1 + e
        sig = xp.where(pos, xp.ones_like(e), e) / one_e
        # t' = 4 (1 + e) e^2 / D^2 (z > 0) or 4 (1 + e) e / (e^2 + 2e + 2)^2 (z <= 0)
        dt = (4 * one_e) * xp.where(pos, e * e, e) / (den * den)
        return t, dt, sig

    def _value_xp(self, xp, z):
        zc = _clip(xp, z, -_CLIP, _CLIP)
        t, _, _ = self._tanh_softplus_terms(xp, zc)
        return _exp_tail(xp, z, 0.0, xp.where(z > _CLIP, z, zc * t))

    def _derivative_xp(self, xp, z):
        zc = _clip(xp, z, -_CLIP, _CLIP)
        t, dt, _ = self._tanh_softplus_terms(xp, zc)
        return _exp_tail(xp, z, 1.0, t + zc * dt)

    def _second_xp(self, xp, z):
        zc = _clip(xp, z, -_CLIP, _CLIP)
        t, dt, sig = self._tanh_softplus_terms(xp, zc)
        middle = dt * (2 + zc * ((1 - sig) - 2 * t * sig))
        return _exp_tail(xp, z, 2.0, _exp_tail(xp, -2 * zc, 2.0, middle, 4.0))  # (2 + z) e^z, 8 (1 - z) e^-2z


@dataclass(frozen=True)
class Softsign(_Generic):
    r"""Softsign :math:`g(z) = z / (1 + |z|)`.

    Notes
    -----
    .. math::

        g'(z) = \frac{1}{(1 + |z|)^2} = (1 - |a|)^2,
        \qquad g''(z) = \frac{-2\operatorname{sign}(z)}{(1 + |z|)^3}.

    :math:`g''` jumps from 2 to -2 at 0 (listed in `kinks`); it is 0 there, as
    PyTorch autograd gives. softsign(±inf) = ±1 with slopes 0.
    :math:`1 - |a|` is exact, so the slope from the output has only the
    rounding of :math:`a`.

    Examples
    --------
    >>> import slopekit
    >>> g = slopekit.get("softsign")
    >>> g([-1.0, 3.0]), g.derivative([-1.0, 3.0])
    (array([-0.5 ,  0.75]), array([0.25  , 0.0625]))
    """

    name = "softsign"
    kinks = (0.0,)

    def _value_np(self, z, out):
        info = np.finfo(z.dtype)
        zc = np.clip(z, -info.max, info.max)  # inf -> max: max / (1 + max) rounds to 1
        np.abs(zc, out=out)
        np.add(out, 1.0, out=out)
        np.divide(zc, out, out=out)

    def _value_xp(self, xp, z):
        big = float(xp.finfo(z.dtype).max)
        zc = _clip(xp, z, -big, big)
        return zc / (1 + xp.abs(zc))

    def _derivative_xp(self, xp, z):
        r = 1 / (1 + xp.abs(z))
        return r * r

    def _from_output_xp(self, xp, a):
        r = 1 - xp.abs(a)
        return r * r

    def _second_xp(self, xp, z):
        r = 1 / (1 + xp.abs(z))
        return (-2 * xp.sign(z)) * (r * r * r)


@dataclass(frozen=True)
class Squareplus(_Generic):
    r"""Squareplus :math:`g(z) = (z + \sqrt{z^2 + b})/2` (Barron, 2021).

    Parameters
    ----------
    b : float, default 4
        Positive; larger ``b`` rounds the corner more.

    Notes
    -----
    With :math:`s = \sqrt{z^2 + b}` (computed as ``hypot(z, sqrt(b))``):

    .. math::

        g'(z) = \frac{a}{s} = \frac12\Bigl(1 + \frac{z}{s}\Bigr),
        \qquad g''(z) = \frac{b}{2 s^3}.

    For :math:`z < 0` the value is :math:`(b/4) / ((s - z)/2)`, free of the
    cancellation of :math:`z + s`; squareplus(-inf) = 0, squareplus(inf) = inf.
    :math:`g` is increasing, so the output determines the slope:
    :math:`s = (4a^2 + b)/(4a)` gives

    .. math::

        g'(z) = \frac{4a^2}{4a^2 + b} = \frac{1}{1 + b/(4a^2)},

    the first form for :math:`a < 1`, the second above (no overflow).

    Examples
    --------
    >>> import slopekit
    >>> g = slopekit.get("squareplus")
    >>> float(g(0.0)), float(g.derivative(0.0)), float(g.second_derivative(0.0))
    (1.0, 0.5, 0.25)
    """

    b: float = 4.0
    name = "squareplus"
    _np_errstate = {"divide": "ignore", "over": "ignore", "invalid": "ignore"}  # discarded where-branches

    def __post_init__(self):
        object.__setattr__(self, "b", _positive("squareplus", "b", self.b))

    def _from_output_xp(self, xp, a):
        small = xp.minimum(a, xp.ones_like(a))  # each branch sees only its side: no 0/0, no overflow
        large = xp.maximum(a, xp.ones_like(a))
        q = (2 * small) * (2 * small)
        r = (self.b / (2 * large)) / (2 * large)
        return xp.where(a < 1, q / (q + self.b), 1 / (1 + r))

    def _root(self, xp, z):
        return xp.hypot(z, _full(xp, z, math.sqrt(self.b)))

    def _value_xp(self, xp, z):
        zero = xp.zeros_like(z)
        zn, zp = xp.minimum(z, zero), xp.maximum(z, zero)  # each branch sees only its side: no 0/0
        neg = (self.b * 0.25) / (self._root(xp, zn) * 0.5 - zn * 0.5)
        return xp.where(z < 0, neg, zp * 0.5 + self._root(xp, zp) * 0.5)

    def _derivative_xp(self, xp, z):
        big = 1e18 * max(1.0, math.sqrt(self.b))  # beyond it the slope is 1 to the last bit
        zc = xp.where(z > big, _full(xp, z, min(big, float(xp.finfo(z.dtype).max))), z)
        return self._value_xp(xp, zc) / self._root(xp, zc)

    def _second_xp(self, xp, z):
        s = self._root(xp, z)
        return (self.b * 0.5) / s / s / s
