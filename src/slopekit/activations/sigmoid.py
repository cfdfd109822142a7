"""The sigmoid (logistic) function and its slopes (lecture L2-L4)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _torch
from ._base import Activation


def _minus_abs(z, out):
    """Write -|z| into ``out`` and return it."""
    np.abs(z, out=out)
    return np.negative(out, out=out)


def _e_over_one_plus_e(z, out, den):
    """Write e^z / (1 + e^z) into ``out`` (which may be ``z``), with ``den`` as scratch."""
    np.exp(z, out=out)
    np.add(out, 1.0, out=den)
    np.divide(out, den, out=out)


#: Where sigmoid's value path caps z: e^40 is finite in every dtype and sigmoid(40)
#: rounds to 1 in float64 (from z = 37) and so in float32 and float16.
_CAP = 40.0
#: By element size: below this z, e^-z overflows (or nearly) in PyTorch's sigmoid, which then
#: returns 0 where sigmoid(z) is a nonzero subnormal; there sigmoid(z) is e^z to the last bit.
_TORCH_EXP_TAIL = {4: -87.0, 8: -708.0}


def _sigmoid_torch(torch, z, out):
    """PyTorch's 1 / (1 + e^-z), accurate to about an ulp until e^-z overflows; below that,
    where sigmoid(z) is a subnormal number or 0, it is e^z to the last bit."""
    torch.sigmoid(z, out=out)
    tail = _TORCH_EXP_TAIL[z.element_size()]
    if not _torch.within(torch, z, low=tail):
        index = torch.nonzero(z < tail).squeeze(1)
        out.index_copy_(0, index, torch.exp(z.index_select(0, index)))


def _e_over_one_plus_e_squared_torch(torch, e, scratch):
    """e / (1 + e)^2 in place, as `Sigmoid._derivative_np` finishes."""
    den = torch.add(e, 1.0, out=scratch.get("den", e))
    e.div_(den.mul_(den))


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

    The value is :math:`E/(1+E)` with :math:`E = e^{\min(z, 40)}`: where
    :math:`E` is tiny the result is :math:`E` itself, where it is huge it rounds
    to 1, and it is accurate to a few units in the last place over the whole
    range. sigmoid(-inf) = 0, sigmoid(inf) = 1, and both slopes there are 0.

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
        # E / (1 + E) with E = e^z: three passes (exp, add, divide) and no select. It is
        # exact in the same cases as 1 / (1 + e^-z) and e^z / (1 + e^z) by sign, and as
        # accurate (tests/test_accuracy.py): where E is tiny the result is E itself, and
        # where E is huge 1 + E = E rounds the result to 1. Only E = inf breaks it (inf /
        # inf), and then exp has raised overflow (z > log(max float)) or the divide has
        # raised invalid (z = inf): that block is redone from min(z, _CAP), which cannot
        # overflow and gives the same bits wherever the fast path was finite.
        den = np.empty_like(out)
        try:
            with np.errstate(over="raise", invalid="raise", under="ignore", divide="ignore"):
                _e_over_one_plus_e(z, out, den)
        except FloatingPointError:
            np.minimum(z, _CAP, out=out)  # NaN stays NaN
            with np.errstate(under="ignore"):
                _e_over_one_plus_e(out, out, den)

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

    # PyTorch kernels (``_torch.py``): PyTorch's own sigmoid; exp on the whole tensor at once.
    _value_torch = _torch.Whole(lambda torch, z, out, shared: _sigmoid_torch(torch, z, out))
    _derivative_torch = (
        lambda torch, z, out, scratch: torch.abs(z, out=out).neg_(),
        _torch.Whole(lambda torch, z, out, shared: out.exp_()),
        lambda torch, z, out, scratch: _e_over_one_plus_e_squared_torch(torch, out, scratch),
    )

    def _from_output_torch(self, torch, a, out, scratch):
        torch.mul(a, -1.0, out=out).add_(1.0)  # -a + 1 is 1 - a exactly
        out.mul_(a)

    _from_output_backward_torch = _torch.Whole(  # da (1 - a) a, PyTorch's own kernel, in one pass
        lambda torch, da, a, out, shared: torch.ops.aten.sigmoid_backward.grad_input(da, a, grad_input=out))

    # Generic kernels: the same math on the Python array API.
    def _value_xp(self, xp, z):
        e = xp.exp(xp.clip(z, max=_CAP))  # the NumPy kernel's formula and bits
        return e / (1 + e)

    def _derivative_xp(self, xp, z):
        e = xp.exp(-xp.abs(z))
        return e / ((1 + e) * (1 + e))

    def _from_output_xp(self, xp, a):
        return a * (1 - a)

    def _second_xp(self, xp, z):
        return self._derivative_xp(xp, z) * xp.tanh(z * -0.5)
