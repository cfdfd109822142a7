"""The sigmoid (logistic) function and its slopes (lecture L2-L4)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._base import Activation


def _minus_abs(z, out):
    """Write -|z| into ``out`` and return it."""
    np.abs(z, out=out)
    return np.negative(out, out=out)


@dataclass(frozen=True)
class Sigmoid(Activation):
    r"""The sigmoid :math:`g(z) = 1 / (1 + e^{-z})`.

    Notes
    -----
    .. math::

        g'(z) = g(z)\,(1 - g(z)) = a\,(1 - a),
        \qquad g''(z) = g'(z)\,(1 - 2 g(z)) = -g'(z) \tanh(z/2).

    `derivative` evaluates :math:`g'(z) = \sigma(z)\sigma(-z) = e/(1+e)^2` with
    :math:`e = e^{-|z|}`: no cancellation and no overflow, so the slope stays
    accurate to the last bits where :math:`a` has rounded to 1 and the
    lecture's :math:`a(1-a)` (PyTorch's and JAX's way) returns exactly 0 — from
    about :math:`z = 17` in float32 and :math:`z = 37` in float64.
    `derivative_from_output` keeps the lecture's :math:`a(1-a)`; see
    ``docs/precision.md`` for where it loses precision.

    The value is :math:`1/(1+e)` for :math:`z \ge 0` and :math:`e/(1+e)` for
    :math:`z < 0`, accurate over the whole range; sigmoid(-inf) = 0,
    sigmoid(inf) = 1, and both slopes there are 0.

    Examples
    --------
    The lecture's checks (L3):

    >>> import slopekit
    >>> float(slopekit.sigmoid(0.0)), float(slopekit.sigmoid.derivative(0.0))
    (0.5, 0.25)
    >>> a = slopekit.sigmoid(10.0)
    >>> print(f"{float(slopekit.sigmoid.derivative_from_output(a)):.3e}")
    4.540e-05
    """

    name = "sigmoid"
    _light_kernels = frozenset({"_from_output"})  # a (1 - a)

    # NumPy kernels: ``out`` never overlaps the input (see _base). -|z| is written as
    # abs then negative: two SIMD passes cost less than NumPy's scalar copysign loop.
    def _value_np(self, z, out):
        nonneg = np.greater_equal(z, 0)
        e = _minus_abs(z, out)
        np.exp(e, out=e)  # e = exp(-|z|) in [0, 1]: no overflow
        den = np.add(e, 1.0, out=np.empty_like(e))
        np.maximum(e, nonneg, out=e)  # numerator: 1 where z >= 0, else e
        np.divide(e, den, out=e)

    def _derivative_np(self, z, out):
        e = _minus_abs(z, out)
        np.exp(e, out=e)
        den = np.add(e, 1.0, out=np.empty_like(e))
        np.multiply(den, den, out=den)
        np.divide(e, den, out=e)  # e / (1 + e)^2 = sigma(z) sigma(-z)

    def _from_output_np(self, a, out):
        np.subtract(1.0, a, out=out)
        np.multiply(out, a, out=out)  # a (1 - a), the lecture's formula

    def _second_np(self, z, out):
        t = np.multiply(z, -0.5, out=np.empty_like(z))
        np.tanh(t, out=t)  # 1 - 2 sigma(z) = -tanh(z/2), without cancellation near 0
        self._derivative_np(z, out)
        np.multiply(out, t, out=out)

    # Generic kernels: the same math on the Python array API.
    def _value_xp(self, xp, z):
        e = xp.exp(-xp.abs(z))
        return xp.where(z >= 0, xp.ones_like(e), e) / (1 + e)

    def _derivative_xp(self, xp, z):
        e = xp.exp(-xp.abs(z))
        return e / ((1 + e) * (1 + e))

    def _from_output_xp(self, xp, a):
        return a * (1 - a)

    def _second_xp(self, xp, z):
        return self._derivative_xp(xp, z) * xp.tanh(z * -0.5)
