"""The hyperbolic tangent and its slopes (lecture L5)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _torch
from ._base import Activation

# sech^2 z underflows to 0 in every dtype for |z| > 373.3; clipping |z| there keeps
# 2|z| finite (no overflow warning at the dtype's max) without changing a result.
_CLIP = 400.0
# Beyond |z| = 20, e = exp(-2|z|) < 4.3e-18 is below float64's eps, so 1 + e rounds to 1 and
# sech^2 z = (2 exp(-|z|))^2 to the last bit. The squared form rounds only once, at the end,
# where 4e would round e onto the subnormal grid first and underflow early (from |z| = 372.6
# instead of 373.3 in float64, 51.99 instead of 52.68 in float32).
_TAIL = 20.0


def _sech_squared_torch(torch, z, e, scratch):
    """4e / (1 + e)^2 in place, then (2 e^-|z|)^2 beyond _TAIL, as `Tanh._derivative_np` does."""
    den = torch.add(e, 1.0, out=scratch.get("den", e))
    e.mul_(4.0).div_(den.mul_(den))
    if not _torch.within(torch, z, -_TAIL, _TAIL):  # some |z| > _TAIL, or a NaN: a few elements
        index = torch.nonzero(torch.abs(z, out=scratch.get("t", z)) > _TAIL).squeeze(1)
        h = torch.exp(-torch.abs(z.index_select(0, index))).mul_(2.0)
        e.index_copy_(0, index, h.mul_(h))


@dataclass(frozen=True)
class Tanh(Activation):
    r"""The hyperbolic tangent :math:`g(z) = \tanh z = (e^z - e^{-z}) / (e^z + e^{-z})`.

    Notes
    -----
    .. math::

        g'(z) = 1 - \tanh^2 z = 1 - a^2 = \operatorname{sech}^2 z,
        \qquad g''(z) = -2 \tanh(z) \operatorname{sech}^2 z.

    `derivative` evaluates :math:`\operatorname{sech}^2 z = 4e/(1+e)^2` with
    :math:`e = e^{-2|z|}`: no cancellation and no overflow, so the slope stays
    accurate where :math:`a` has rounded to :math:`\pm 1` and the lecture's
    :math:`1 - a^2` (PyTorch's and JAX's way) returns exactly 0 — with
    NumPy's tanh from about :math:`|z| = 10` in float32 and :math:`|z| = 19`
    in float64 (``docs/precision.md``); PyTorch's and JAX's own tanh round to
    1 at other points (``docs/conventions.md``). Beyond :math:`|z| = 20` it uses
    :math:`(2e^{-|z|})^2`, which rounds once, so the slope stays nonzero as far
    as the true one (:math:`|z| \approx 52.68` in float32, 373.26 in float64).
    `derivative_from_output` keeps the lecture's :math:`1 - a^2`; see
    ``docs/precision.md``. tanh(±inf) = ±1 with slope 0.

    Examples
    --------
    The lecture's checks (L5):

    >>> import slopekit
    >>> float(slopekit.tanh(0.0)), float(slopekit.tanh.derivative(0.0))
    (0.0, 1.0)
    >>> print(f"{float(slopekit.tanh.derivative(10.0)):.3e}")
    8.245e-09
    """

    name = "tanh"
    _light_kernels = frozenset({"_from_output"})  # 1 - a^2

    def _value_np(self, z, out):
        np.tanh(z, out=out)

    def _derivative_np(self, z, out):
        e = np.abs(z, out=out)
        tail = e.size and np.fmax.reduce(e, axis=None) > _TAIL  # fmax skips NaN
        if tail:  # only then can |z| exceed _CLIP (NumPy's minimum with a scalar is a slow loop)
            np.minimum(e, _CLIP, out=e)
        np.multiply(e, -2.0, out=e)  # -2 min(|z|, _CLIP), exactly
        np.exp(e, out=e)  # e = exp(-2|z|) in [0, 1]
        den = np.add(e, 1.0, out=np.empty_like(e))
        np.multiply(den, den, out=den)
        np.multiply(e, 4.0, out=e)
        np.divide(e, den, out=e)  # 4e / (1 + e)^2 = sech^2 z
        if tail:
            big = np.abs(z) > _TAIL
            h = np.exp(-np.abs(z[big]))
            np.multiply(h, 2.0, out=h)
            out[big] = np.multiply(h, h, out=h)

    def _from_output_np(self, a, out):
        np.multiply(a, a, out=out)
        np.subtract(1.0, out, out=out)  # 1 - a^2, the lecture's formula

    def _second_np(self, z, out):
        t = np.tanh(z, out=np.empty_like(z))
        self._derivative_np(z, out)
        np.multiply(out, t, out=out)
        np.multiply(out, -2.0, out=out)

    # PyTorch kernels (``_torch.py``): the NumPy kernels' operations, exp and tanh on the whole tensor.
    _value_torch = _torch.Whole(lambda torch, z, out, shared: torch.tanh(z, out=out))
    _derivative_torch = (
        lambda torch, z, out, scratch: torch.abs(z, out=out).clamp_(max=_CLIP).mul_(-2.0),
        _torch.Whole(lambda torch, z, out, shared: out.exp_()),  # e = exp(-2|z|)
        lambda torch, z, out, scratch: _sech_squared_torch(torch, z, out, scratch),
    )

    def _from_output_torch(self, torch, a, out, scratch):
        torch.mul(a, a, out=out).neg_().add_(1.0)  # -a^2 + 1 is 1 - a^2 exactly

    def _value_xp(self, xp, z):
        return xp.tanh(z)

    def _derivative_xp(self, xp, z):
        import array_api_compat

        device = array_api_compat.device(z)
        t = xp.abs(z)
        e = xp.exp(-2 * xp.minimum(t, xp.asarray(_CLIP, dtype=z.dtype, device=device)))
        h = 2 * xp.exp(-t)
        return xp.where(t > _TAIL, h * h, 4 * e / ((1 + e) * (1 + e)))

    def _from_output_xp(self, xp, a):
        return 1 - a * a

    def _second_xp(self, xp, z):
        return -2 * xp.tanh(z) * self._derivative_xp(xp, z)
