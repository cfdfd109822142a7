r"""The standard normal density, distribution and Mills ratio, for GELU's exact form.

The Python array API has no ``erf``, and NumPy has none either, so slopekit
evaluates :math:`\Phi(z)` through the Mills ratio
:math:`M(t) = (1 - \Phi(t)) / \varphi(t) = \sqrt{\pi/2}\,\operatorname{erfcx}(t/\sqrt2)`,
a smooth, slowly varying function of :math:`t \ge 0`:

.. math::

    \Phi(z) = \begin{cases} \varphi(z)\,M(-z) & z < 0 \\ 1 - \varphi(z)\,M(z) & z \ge 0 \end{cases}

so the lower tail keeps its relative accuracy down to underflow, with no
cancellation. :math:`M` is a polynomial in :math:`u = (t - lo)/(hi - lo)` on
:math:`[0, 8]` (coefficients fitted with mpmath by ``scripts/fit_mills.py``,
which also measures the float64 evaluation: at most 2.2 eps) and its
continued fraction :math:`1/(t + 1/(t + 2/(t + 3/(t + \dots))))` above 8.

:math:`\varphi(z) = e^{-z^2/2}/\sqrt{2\pi}` splits :math:`z = z_h + z_l`
with :math:`z_h^2` exact, so the exponential's argument carries no rounding
error even where it is large (:math:`z^2/2 \approx 700`).
"""

from __future__ import annotations

import math

import numpy as np

_MILLS_POLYNOMIALS = (  # (lo, hi, coefficients, highest power first): scripts/fit_mills.py
    (0.0, 1.0, (  # max error 2.19 eps
        1.7824210898311748e-08,
        -2.198953209700727e-07,
        1.4212625154061626e-06,
        -6.673101533635822e-06,
        2.6446371972042043e-05,
        -9.561529490649908e-05,
        0.0003260404813259144,
        -0.0010580488104638347,
        0.0032637882956420648,
        -0.009523797092471458,
        0.02611070898855109,
        -0.06666666639385023,
        0.1566642671421305,
        -0.3333333333322244,
        0.6266570686577211,
        -0.9999999999999997,
        1.2533141373155003,
    )),
    (1.0, 2.0, (  # max error 1.00 eps
        -2.3470458044710493e-09,
        2.8822148958864913e-08,
        -1.9002481167740326e-07,
        9.381014236857592e-07,
        -4.021267650117193e-06,
        1.6033420372111565e-05,
        -6.0933854104312375e-05,
        0.0002216971293096108,
        -0.0007703043634217785,
        0.002543951207562246,
        -0.007936099073042002,
        0.023199809334698767,
        -0.06288030505376996,
        0.15567954241878768,
        -0.3443204575812014,
        0.6556795424187984,
    )),
    (2.0, 4.0, (  # max error 1.06 eps
        3.542010639636919e-08,
        -4.2681169942946277e-07,
        2.5546429946039243e-06,
        -1.0361582611404334e-05,
        3.295735181252962e-05,
        -9.021287180947954e-05,
        0.000225937327198526,
        -0.0005362747768761012,
        0.0012251731692474342,
        -0.002705458792445785,
        0.005770515684934665,
        -0.01185842142549946,
        0.023399590764423245,
        -0.044151850798297705,
        0.07925123958051387,
        -0.13444105328923983,
        0.21369229288053615,
        -0.314523082847782,
        0.4213692292880545,
    )),
    (4.0, 8.0, (  # max error 1.93 eps
        -4.208417257402699e-07,
        5.323660655664842e-06,
        -3.248913124312833e-05,
        0.00012854740453394344,
        -0.0003753552898636693,
        0.0008769233899801583,
        -0.0017423852667834865,
        0.0030949608471620236,
        -0.005111705411235995,
        0.008065846053494669,
        -0.01234538751720255,
        0.018446556515371547,
        -0.02695090647739869,
        0.03848435568736412,
        -0.053645114385910034,
        0.0728874266887663,
        -0.09635717970953774,
        0.12368996600658942,
        -0.1538015847398627,
        0.18472407624424675,
        -0.21356187338302923,
        0.23665238291356067,
    )),
)

#: Depth of the continued fraction used above the last polynomial (t >= 8): relative error < 1e-17.
_CF_DEPTH = 20
_CF_FROM = _MILLS_POLYNOMIALS[-1][1]
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
#: Per dtype: 1/spacing of the grid z_h lies on; the |z| beyond which the density is 0 anyway; the
#: |z| beyond which it is scaled by 2**(2k) (see `pdf`); k. z_h has at most 6 + 20 (float64) or
#: 4 + 8 (float32) significant bits, so z_h**2 is exact.
_SPLIT = {np.dtype(np.float64): (2.0 ** 20, 64.0, 36.0, 32), np.dtype(np.float32): (2.0 ** 8, 16.0, 12.0, 16)}


def _horner(xp, coefficients, u):
    result = u * coefficients[0] + coefficients[1]
    for c in coefficients[2:]:
        result = result * u + c
    return result


def _continued_fraction(xp, t):
    r = xp.zeros_like(t)
    for k in range(_CF_DEPTH, 0, -1):
        r = k / (t + r)
    return 1 / (t + r)


def mills(xp, t):
    r"""The Mills ratio :math:`M(t)` for :math:`t \ge 0` (0 at inf, NaN for NaN)."""
    if xp is np:  # evaluate each piece only where it applies
        out = np.empty_like(t)
        rest = np.ones(t.shape, bool)
        for lo, hi, coefficients in _MILLS_POLYNOMIALS:
            where = t < hi
            where &= rest
            rest &= ~where
            out[where] = _horner(np, coefficients, (t[where] - lo) * (1.0 / (hi - lo)))
        out[rest] = _continued_fraction(np, t[rest])  # t >= 8, inf and NaN
        return out
    out = _continued_fraction(xp, xp.maximum(t, xp.full_like(t, _CF_FROM)))
    for lo, hi, coefficients in reversed(_MILLS_POLYNOMIALS):
        u = xp.clip(t, lo, hi)
        out = xp.where(t < hi, _horner(xp, coefficients, (u - lo) * (1.0 / (hi - lo))), out)
    return out


def pdf(xp, z):
    r""":math:`\varphi(z) = e^{-z^2/2}/\sqrt{2\pi}`, float32 or float64, without the rounding of :math:`z^2`.

    Returns ``(p, f)``: the density is ``p * f``. Where it would be subnormal
    (:math:`|z| > 36` in float64, :math:`> 12` in float32), ``p`` is scaled up
    by :math:`2^{2k}` and ``f`` is :math:`2^{-2k}`, so that products with ``p``
    keep every bit and round once when the caller finally multiplies by ``f``
    (1 elsewhere).
    """
    key = np.dtype(z.dtype) if xp is np else _dtype_key(xp, z)
    scale, limit, tail, k = _SPLIT[key]
    zc = xp.minimum(xp.abs(z), xp.full_like(z, limit))
    zh = xp.round(zc * scale) / scale
    far = zc > tail
    # exp(-zh^2/4)^2 2^(2k): zh^2/4 is exact, each factor is normal, the square rounds once
    half = xp.exp(zh * zh * -0.25) * xp.where(far, xp.full_like(z, 2.0 ** k), xp.ones_like(z))
    p = half * half * xp.exp((zc - zh) * (zc + zh) * -0.5) * _INV_SQRT_2PI
    return p, xp.where(far, xp.full_like(z, 2.0 ** (-2 * k)), xp.ones_like(z))


def _dtype_key(xp, z):
    return np.dtype(np.float64) if z.dtype == xp.float64 else np.dtype(np.float32)


# -- PyTorch: the upper tail and the density from torch.special.erfc and exp, in place -----------
#
# Q(t) = Phi(-t) = erfc(t/sqrt2)/2 costs one call of PyTorch's erfc, accurate to about an ulp,
# but t/sqrt2 rounds, and erfc amplifies a relative error in its argument about t^2 times (50
# ulps at t = 10 in float32). So x = fl(t/sqrt2) and its rounding error d = t/sqrt2 - x are
# kept (Dekker's exact product, in the dtype itself), and erfc(x + d) is erfc(x) (1 - d L(x))
# to first order, L = -(log erfc)' ~ 2x + 1/(x + sqrt(pi)/2) (exact at 0 and as x grows,
# within 4% between, where d L is a fraction of an ulp anyway). The density e^{-t^2/2} has the
# same problem in t^2, solved the same way: t^2/2 = H + R exactly, e^{-t^2/2} = e^{-H} (1 - R).
# Both hold while the results are normal numbers: up to `TORCH_FAR` (by element size). erfc
# and exp run once on the whole tensor (`_torch.Whole`); the steps before and after them run
# on blocks.

#: By element size: the largest t for which Q(t) and phi(t) are normal numbers with a margin
#: (Q(t) turns subnormal near t = 13.0 in float32 and 37.5 in float64).
TORCH_FAR = {4: 12.5, 8: 37.0}
_SQRT_HALF = 0.7071067811865476  # fl64(1/sqrt 2)
#: By element size: 1/sqrt2 rounded to the dtype; its high half (12 significant bits in
#: float32, 26 in float64) and the rest of 1/sqrt2 beyond it; and Veltkamp's constant 2^s + 1,
#: which splits a number of the dtype into two halves whose products with the high half are exact.
_SQRT_HALF_PARTS = {
    4: (0.7071067690849304, 0.70703125, 7.553118484793231e-05, 4097.0),
    8: (0.7071067811865476, 0.7071067839860916, -2.799544089368687e-09, 134217729.0),
}
_HALF_SQRT_PI = 0.886226925452758  # sqrt(pi)/2, where -(log erfc)' = 2x + 1/(x + sqrt(pi)/2) is exact at 0


def split_torch(torch, x, scratch):
    """Veltkamp: ``(high, low)`` with ``x = high + low`` exactly, each half the dtype's significand."""
    high, low = scratch.get("high", x), scratch.get("low", x)
    torch.mul(x, _SQRT_HALF_PARTS[x.element_size()][3], out=high)
    torch.sub(high, x, out=low)
    high.sub_(low)  # s - (s - x)
    torch.sub(x, high, out=low)
    return high, low


def erfc_argument_torch(torch, t, x):
    """erfc's argument x = fl(t/sqrt2) into ``x``."""
    torch.mul(t, _SQRT_HALF_PARTS[t.element_size()][0], out=x)


def erfc_argument_error_torch(torch, t, x, high, low, minus_d):
    """``-d``, d = t/sqrt2 - x the rounding error of `erfc_argument_torch`, from t's halves (Dekker)."""
    _, high_c, rest_c, _ = _SQRT_HALF_PARTS[t.element_size()]
    torch.mul(high, -high_c, out=minus_d).add_(x)  # x - high high_c, exact
    minus_d.add_(low, alpha=-high_c).add_(t, alpha=-rest_c)  # the small terms, rounded


def tail_factor_torch(torch, x, minus_d, factor):
    r"""Write :math:`1 - d L(x)` into ``factor``: then Q(t) = erfc(x) times it, halved."""
    torch.add(x, _HALF_SQRT_PI, out=factor).reciprocal_().add_(x, alpha=2.0)  # ~ L(x)
    factor.mul_(minus_d).add_(1.0)


def half_square_torch(torch, high, low, exponent, rest):
    """t^2/2 = exponent + rest exactly (to the rounding of ``rest``), from t's halves; uses up ``high``."""
    torch.mul(high, low, out=rest).add_(torch.mul(low, low, out=exponent), alpha=0.5)  # small
    high.mul_(high).mul_(0.5)  # exact
    torch.add(high, rest, out=exponent)
    rest.add_(high.sub_(exponent))  # (high^2/2 - exponent) is exact
