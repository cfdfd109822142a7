"""The Gaussian error linear unit, exact (through the normal distribution) and tanh-approximated."""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import _normal, _torch
from ._generic import Generic

#: The tanh form's constants, u = sqrt(2/pi) (z + 0.044715 z^3) (Hendrycks and Gimpel; PyTorch, JAX).
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_CUBIC = 0.044715
#: Beyond |z| = _CLIP every slope of either form has reached its limit (0 or 1) in every dtype, and
#: z * Phi(z) has underflowed to 0 below -_CLIP: clipping there avoids inf * 0 = NaN at +-inf.
_CLIP = 1e5
_APPROXIMATIONS = ("none", "tanh")
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class GELU(Generic):
    r"""The Gaussian error linear unit :math:`g(z) = z\,\Phi(z)`, :math:`\Phi` the standard normal distribution.

    Parameters
    ----------
    approximate : {"none", "tanh"}, default "none"
        ``"none"``: the exact function, through :math:`\Phi`. ``"tanh"``: the
        approximation :math:`\frac z2\bigl(1 + \tanh u\bigr)` with
        :math:`u = \sqrt{2/\pi}\,(z + 0.044715 z^3)`. The two differ by up to
        about :math:`4.7\cdot10^{-4}`. Libraries disagree on the default:
        PyTorch's ``gelu`` is exact unless asked, JAX's ``jax.nn.gelu``
        approximates unless asked; slopekit is exact unless asked (see
        ``docs/conventions.md``).

    Notes
    -----
    Exact form, with :math:`\varphi` the standard normal density:

    .. math::

        g'(z) = \Phi(z) + z\,\varphi(z),
        \qquad g''(z) = \varphi(z)\,(2 - z^2).

    :math:`\Phi` comes from the Mills ratio :math:`M` (``_normal.py``), as
    :math:`\varphi(z) M(-z)` for :math:`z < 0`, so the value stays accurate
    to a few ulps in the far left tail instead of cancelling in
    :math:`1 + \operatorname{erf}`; below 0 the slope is
    :math:`\varphi(z)\,(M(|z|) - |z|)`. float16 and float32 compute in
    float64 on NumPy.

    Tanh form: :math:`g(z) = z\,s` with :math:`s = \sigma(2u)`, which is
    :math:`\frac12(1 + \tanh u)` without its cancellation for :math:`u < 0`;
    :math:`g'(z) = s + 2 z u' q` and
    :math:`g''(z) = q\,\bigl(4u' + z(2u'' - 4u'^2 \tanh u)\bigr)`, with
    :math:`q = s(1 - s)`, :math:`u' = \sqrt{2/\pi}(1 + 3\cdot0.044715 z^2)`,
    :math:`u'' = 6\sqrt{2/\pi}\cdot0.044715 z`.

    :math:`g` has a minimum (near :math:`z = -0.7518` exact), so the output
    does not determine the slope: `derivative_from_output` raises. Near the
    zeros of :math:`g'` and :math:`g''` (:math:`z = \pm\sqrt2` exact) the
    slopes are accurate in absolute terms (a few eps), not relative ones.
    In the tanh form's far left tail the rounding of :math:`u` is amplified
    :math:`|2u|` times by the exponential (as in every implementation of the
    formula); float32 input on NumPy avoids it by computing in float64.
    gelu(-inf) = 0 and every slope at :math:`\pm\infty` is its limit.

    Examples
    --------
    >>> import slopekit
    >>> g = slopekit.get("gelu")
    >>> print(f"{float(g(1.0)):.6f} {float(g.derivative(0.0))}")
    0.841345 0.5
    >>> t = slopekit.get("gelu", approximate="tanh")
    >>> print(f"{float(t(1.0)):.6f}")
    0.841192
    """

    approximate: str = "none"
    name = "gelu"
    _np_float64 = True  # both forms; float32 input rounds once at the end
    _np_errstate = {"over": "ignore", "under": "ignore"}

    def __post_init__(self):
        if not isinstance(self.approximate, str) or self.approximate not in _APPROXIMATIONS:
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {self.approximate!r}")

    _no_shortcut = "gelu is not monotonic (minimum near z = -0.75), so a negative output comes from two inputs"

    # PyTorch kernels (``_torch.py``): Phi from torch.special.erfc (``_normal``'s PyTorch part) in
    # one pass over the tensor instead of the Mills ratio's polynomials; the tanh form runs its
    # generic formula. Steps: the arguments of erfc (and exp), erfc on the whole tensor, the rest.
    @property
    def _value_torch(self):
        if self.approximate == "tanh":
            return None
        return (_erfc_argument_torch, _ERFC_IN_PLACE, self._value_from_erfc_torch, _torch.Whole(self._fix_far_value))

    @property
    def _derivative_torch(self):
        if self.approximate == "tanh":
            return None
        return (_erfc_and_exp_arguments_torch, _ERFC_AND_EXP_IN_PLACE, self._derivative_from_erfc_torch,
                _torch.Whole(self._fix_far_derivative))

    def _value_from_erfc_torch(self, torch, z, out, scratch):
        t = torch.abs(z, out=scratch.get("t", z))
        q = out.mul_(_tail_factor_torch(torch, t, scratch))  # 2 Q, Q = Phi(-|z|) <= 1/2
        left = torch.mul(z, q, out=scratch.get("left", z)).mul_(0.5)  # z Phi(z) for z < 0
        torch.sub(z, left, out=out)  # z (1 - Q) = z Phi(z) for z >= 0
        torch.maximum(left, out, out=out)  # the right one of the two for either sign of z
        _find_far_torch(torch, t, scratch)

    def _derivative_from_erfc_torch(self, torch, z, out, scratch):
        t = torch.abs(z, out=scratch.get("t", z))
        q = out.mul_(_tail_factor_torch(torch, t, scratch)).mul_(0.5)  # Q
        rest = scratch.get("rest", z)
        high, low = scratch.get("high", z), scratch.get("low", z)  # t's halves, from _tail_factor_torch
        _normal.half_square_torch(torch, high, low, scratch.get("exponent", z), rest)
        w = scratch.whole("density").mul_(rest.neg_().add_(1.0))  # e^{-t^2/2} = e^{-exponent} (1 - rest)
        w.mul_(t).mul_(_INV_SQRT_2PI)  # |z| phi(z)
        left = torch.sub(q, w, out=scratch.get("left", z))  # Phi(z) + z phi(z) for z < 0
        q.neg_().add_(1.0).add_(w)  # (1 - Q) + z phi(z) for z >= 0
        torch.where(torch.lt(z, 0, out=scratch.get("negative", z, torch.bool)), left, out, out=out)
        _find_far_torch(torch, t, scratch)

    def _fix_far_value(self, torch, z, out, shared):
        _fix_far_torch(torch, z, out, shared, self._far_value_torch)

    def _fix_far_derivative(self, torch, z, out, shared):
        _fix_far_torch(torch, z, out, shared, self._far_derivative_torch)

    def _far_value_torch(self, torch, z):
        """The value where ``|z| > TORCH_FAR`` or NaN: float32 through float64, float64 generically."""
        if z.dtype == torch.float64:
            return self._value_xp(_torch.compat_namespace(), z)
        wide = z.double()
        t = wide.abs().clamp_(max=_CLIP)
        q = torch.special.erfc(t * _SQRT_HALF).mul_(0.5)  # argument error 2^-53 t^2: fine here
        return torch.where(wide < 0, q.mul_(-t), (1 - q).mul_(wide)).float()

    def _far_derivative_torch(self, torch, z):
        """The slope where ``|z| > TORCH_FAR`` or NaN, as `_far_value_torch`."""
        if z.dtype == torch.float64:
            return self._derivative_xp(_torch.compat_namespace(), z)
        wide = z.double()
        t = wide.abs().clamp_(max=_CLIP)
        q = torch.special.erfc(t * _SQRT_HALF).mul_(0.5)
        w = torch.exp(t * t * -0.5).mul_(_INV_SQRT_2PI * t)  # t^2 exact in float64
        return torch.where(wide < 0, q - w, (1 - q).add_(w)).float()

    def _value_xp(self, xp, z):
        if self.approximate == "tanh":
            zc = xp.clip(z, -_CLIP, _CLIP)
            return xp.maximum(z, xp.full_like(z, -_CLIP)) * _tanh_form_terms(xp, zc)[0]
        zc = xp.clip(z, -_CLIP, _CLIP)  # Phi(z) is 0 or 1 beyond it
        p, f = _normal.pdf(xp, zc)
        m = _normal.mills(xp, xp.abs(zc))
        left = zc * (p * m) * f  # z Phi(z), Phi(z) = phi(z) M(-z)
        right = z * (1 - (p * m) * f)
        return xp.where(z < 0, left, right)

    def _derivative_xp(self, xp, z):
        zc = xp.clip(z, -_CLIP, _CLIP)
        if self.approximate == "tanh":
            s, q, du, _ = _tanh_form_terms(xp, zc)
            return s + zc * (2 * du) * q
        p, f = _normal.pdf(xp, zc)
        t = xp.abs(zc)
        m = _normal.mills(xp, t)
        left = p * (m - t) * f  # Phi(z) + z phi(z) = phi(z) (M(|z|) - |z|)
        right = 1 + p * (t - m) * f  # 1 - phi(z) M(z) + z phi(z)
        right = xp.where(z == 0, xp.full_like(z, 0.5), right)  # 1 - phi(0) M(0) is 1 ulp below 1/2
        return xp.where(z < 0, left, right)

    def _second_xp(self, xp, z):
        zc = xp.clip(z, -_CLIP, _CLIP)
        if self.approximate == "tanh":
            s, q, du, u = _tanh_form_terms(xp, zc)
            ddu = (6 * _SQRT_2_OVER_PI * _CUBIC) * zc
            return q * (4 * du + zc * (2 * ddu - 4 * (du * du) * xp.tanh(u)))
        p, f = _normal.pdf(xp, zc)
        return p * (2 - zc * zc) * f


def _erfc_argument_torch(torch, z, out, scratch):
    """The first step: erfc's argument fl(|z|/sqrt2) into ``out``."""
    _normal.erfc_argument_torch(torch, torch.abs(z, out=scratch.get("t", z)), out)


def _erfc_and_exp_arguments_torch(torch, z, out, scratch):
    """The first step of the slope: erfc's argument into ``out``, exp's (-fl(z^2/2)) into the shared "density"."""
    t = torch.abs(z, out=scratch.get("t", z))
    _normal.erfc_argument_torch(torch, t, out)
    high, low = _normal.split_torch(torch, t, scratch)
    exponent = scratch.whole("density")
    _normal.half_square_torch(torch, high, low, exponent, scratch.get("rest", z))
    exponent.neg_()


_ERFC_IN_PLACE = _torch.Whole(lambda torch, z, out, shared: torch.special.erfc(out, out=out))


def _erfc_and_exp(torch, z, out, shared):
    torch.special.erfc(out, out=out)
    shared.get("density").exp_()


_ERFC_AND_EXP_IN_PLACE = _torch.Whole(_erfc_and_exp)


def _tail_factor_torch(torch, t, scratch):
    """1 - d L(x) for this block, x and its rounding error d recomputed as the first step made x
    (t's halves are left in the scratch "high" and "low")."""
    x, minus_d = scratch.get("x", t), scratch.get("minus_d", t)
    _normal.erfc_argument_torch(torch, t, x)
    high, low = _normal.split_torch(torch, t, scratch)
    _normal.erfc_argument_error_torch(torch, t, x, high, low, minus_d)
    factor = scratch.get("factor", t)
    _normal.tail_factor_torch(torch, x, minus_d, factor)
    return factor


def _find_far_torch(torch, t, scratch):
    """Hand the block's elements beyond `_normal.TORCH_FAR` (and NaN) to the final step."""
    limit = _normal.TORCH_FAR[t.element_size()]
    if not _torch.within(torch, t, high=limit):
        scratch.defer(torch.nonzero(torch.logical_not(t <= limit)).squeeze(1))


def _fix_far_torch(torch, z, out, shared, far):
    """The final step: the elements the blocks found beyond `_normal.TORCH_FAR`, from ``far``, at once."""
    if shared.deferred:
        index = torch.cat(shared.deferred)
        out.index_copy_(0, index, far(torch, z.index_select(0, index)))


def _tanh_form_terms(xp, z):
    """For the tanh form at (clipped) ``z``: s = sigmoid(2u), q = s(1 - s), u', u."""
    u = (z + (_CUBIC * z) * (z * z)) * _SQRT_2_OVER_PI
    e = xp.exp(-2 * xp.abs(u))  # no overflow
    s = xp.where(u >= 0, xp.ones_like(e), e) / (1 + e)
    q = e / ((1 + e) * (1 + e))
    du = (1 + (3 * _CUBIC) * (z * z)) * _SQRT_2_OVER_PI
    return s, q, du, u
