"""ReLU and Leaky ReLU, and the choice of slope at their kink (lecture L6, L7)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _params
from . import _torch
from ._base import Activation


def _step_np(x, at_zero_is_one: bool, out):
    """Write the unit step of ``x`` into ``out``: 0 below 0, 1 above, NaN for NaN.

    At exactly 0 it is 1 when ``at_zero_is_one`` else 0. One comparison pass,
    then one reduction to look for NaN (``minimum`` propagates it), and a patch
    only when there is one: no ``np.where`` and no in-place ``np.sign`` (both
    several times slower) on the hot path.
    """
    (np.greater_equal if at_zero_is_one else np.greater)(x, 0, out=out)
    if x.size and np.isnan(np.minimum.reduce(x, axis=None)):
        np.copyto(out, x, where=np.isnan(x))


def _lerp_np(h, slope):
    """Map a step ``h`` in {0, 1, NaN} to {slope, 1, NaN} in place, exactly."""
    one, s = h.dtype.type(1), h.dtype.type(slope)
    rest = one - s
    if rest + s == one:  # true for 0 <= slope <= 1: h (1 - slope) + slope is exact
        np.multiply(h, rest, out=h)
        np.add(h, s, out=h)
    else:  # h + (slope - h slope): 0 + slope or 1 + 0, exact for any slope
        t = np.multiply(h, s, out=np.empty_like(h))
        np.subtract(s, t, out=t)
        np.add(h, t, out=h)


def _relu_np(z, out):
    """``max(z, 0)`` into ``out`` (same shape and memory order): NaN stays NaN.

    NumPy's ``maximum`` has no SIMD loop for a scalar operand, so the arrays
    are compared, in chunks, against a cached array of zeros that stays in the
    cache: the same bits, several times faster in cache. Beyond the cache
    (`_SCALAR_FROM_BYTES`) the loop is bound by memory and the scalar form, one
    stream fewer, is faster (docs/performance.md, "The block settings").
    """
    if z.nbytes > _SCALAR_FROM_BYTES:
        np.maximum(z, 0, out=out)
        return
    zf, of = _flat(z), _flat(out)
    zeros = _zeros(z.dtype)
    n, c = zf.size, zeros.size
    for i in range(0, n, c):
        j = min(i + c, n)
        np.maximum(zf[i:j], zeros[:j - i], out=of[i:j])


#: Elements per chunk of `_relu_np` (512 KiB of float32 zeros, 1 MiB of float64: within L2).
_CHUNK = 1 << 17
#: From this many bytes on, `_relu_np` uses the scalar 0 (see its docstring).
_SCALAR_FROM_BYTES = 16 << 20
_ZEROS: dict[np.dtype, np.ndarray] = {}


def _zeros(dtype) -> np.ndarray:
    """A read-only array of `_CHUNK` zeros of ``dtype``, made once per dtype."""
    zeros = _ZEROS.get(dtype)
    if zeros is None:
        zeros = np.zeros(_CHUNK, dtype)
        zeros.flags.writeable = False
        zeros = _ZEROS.setdefault(dtype, zeros)
    return zeros


def _flat(x):
    """A 1-d view of a C- or Fortran-contiguous array, in memory order."""
    return x.reshape(-1) if x.flags.c_contiguous else x.T.reshape(-1)


def _zero_np(z, out):
    """0 everywhere, NaN where ``z`` is NaN (the second derivative of a piecewise-linear g)."""
    np.sign(z, out=out)
    np.subtract(out, out, out=out)


def _step_torch(torch, x, at_zero_is_one: bool, out):
    """`_step_np` on PyTorch: one comparison pass, a NaN patch only where a reduction finds one."""
    (torch.ge if at_zero_is_one else torch.gt)(x, 0, out=out)
    if x.shape[0] and bool(torch.isnan(torch.amin(x))):  # amin propagates NaN
        torch.where(torch.isnan(x), x, out, out=out)


def _lerp_torch(torch, h, slope):
    """`_lerp_np` on PyTorch: {0, 1, NaN} to {slope, 1, NaN} in place, with the same roundings."""
    real = np.float32 if h.dtype == torch.float32 else np.float64
    one, s = real(1), real(slope)
    rest = one - s
    if rest + s == one:
        h.mul_(float(rest)).add_(float(s))
    else:
        t = torch.mul(h, float(s))
        t.neg_().add_(float(s))  # -t + s is s - t exactly
        h.add_(t)


def _zero_torch(torch, z, out):
    """`_zero_np` on PyTorch: 0 everywhere, NaN where ``z`` is NaN (PyTorch's sign(NaN) is 0, its clamp keeps NaN)."""
    torch.clamp(z, min=0.0, max=0.0, out=out)


def _step_xp(xp, x, at_zero):
    one, zero = xp.ones_like(x), xp.zeros_like(x)
    step = xp.where(x > 0, one, xp.where(x < 0, zero, at_zero * one))
    return xp.where(xp.isnan(x), x, step)


@dataclass(frozen=True)
class ReLU(Activation):
    r"""The rectified linear unit :math:`g(z) = \max(0, z)`.

    Parameters
    ----------
    at_zero : float, default 0
        The slope used at exactly :math:`z = 0`, where ReLU has no derivative.
        Any value in :math:`[0, 1]` is a subgradient; the lecture (L6) says 0
        or 1 both work, since :math:`z` is almost never exactly 0. The default
        0 matches PyTorch, JAX, TensorFlow and scikit-learn.

    Notes
    -----
    .. math::

        g'(z) = \begin{cases} 0 & z < 0 \\ \text{at\_zero} & z = 0 \\ 1 & z > 0 \end{cases}
        \qquad g''(z) = 0.

    From the output, :math:`a > 0 \iff z > 0`, but :math:`a = 0` comes from
    both :math:`z < 0` and :math:`z = 0`; the output determines the slope only
    when ``at_zero == 0`` (`has_derivative_from_output`). The second
    derivative is taken as 0 at the kink too.

    Examples
    --------
    >>> import slopekit
    >>> slopekit.relu.derivative([-1.0, 0.0, 1.0])
    array([0., 0., 1.])
    >>> slopekit.get("relu", at_zero=1).derivative([-1.0, 0.0, 1.0])
    array([0., 1., 1.])
    """

    at_zero: float = 0.0
    name = "relu"
    _light_kernels = frozenset({"_value", "_derivative", "_from_output", "_second"})
    kinks = (0.0,)

    def __post_init__(self):
        value = _params.real("relu", "at_zero", self.at_zero)
        _params.between("relu", "at_zero", value, 0.0, 1.0, "a subgradient of ReLU at 0")
        object.__setattr__(self, "at_zero", value)

    @property
    def has_derivative_from_output(self) -> bool:
        return self.at_zero == 0.0

    def _no_shortcut_reason(self):
        return "a = 0 comes from both z < 0 (slope 0) and z = 0 (slope at_zero), so a cannot determine the slope"

    def _value_np(self, z, out):
        _relu_np(z, out)

    def _derivative_np(self, z, out):
        if self.at_zero in (0.0, 1.0):
            _step_np(z, self.at_zero == 1.0, out)
        else:
            zero = np.equal(z, 0)
            _step_np(z, False, out)
            np.copyto(out, self.at_zero, where=zero)

    def _from_output_np(self, a, out):
        _step_np(a, False, out)  # a > 0 exactly where z > 0; a = 0 gives at_zero = 0

    def _second_np(self, z, out):
        _zero_np(z, out)

    def _value_torch(self, torch, z, out, scratch):
        torch.clamp(z, min=0.0, out=out)  # NaN stays NaN

    def _derivative_torch(self, torch, z, out, scratch):
        _step_torch(torch, z, self.at_zero == 1.0, out)
        if self.at_zero not in (0.0, 1.0):
            out.masked_fill_(z == 0, self.at_zero)

    def _from_output_torch(self, torch, a, out, scratch):
        _step_torch(torch, a, False, out)

    def _second_torch(self, torch, z, out, scratch):
        _zero_torch(torch, z, out)

    def _value_xp(self, xp, z):
        return xp.where(z < 0, xp.zeros_like(z), z)

    def _derivative_xp(self, xp, z):
        return _step_xp(xp, z, self.at_zero)

    def _from_output_xp(self, xp, a):
        return _step_xp(xp, a, 0.0)

    def _second_xp(self, xp, z):
        return xp.where(xp.isnan(z), z, xp.zeros_like(z))


@dataclass(frozen=True)
class LeakyReLU(Activation):
    r"""The leaky rectified linear unit: :math:`g(z) = z` for :math:`z \ge 0`, ``slope``·z below.

    Parameters
    ----------
    slope : float, default 0.01
        The slope for :math:`z < 0`. The lecture (L7) writes
        :math:`\max(0.01 z, z)`; its transcript says 0.001, reachable as
        ``slopekit.get("leaky_relu", slope=0.001)``. PyTorch and JAX default to
        0.01, Keras to 0.2 (function) or 0.3 (layer).
    at_zero : float, optional
        The slope used at exactly :math:`z = 0`, anywhere between ``slope``
        and 1. Default: ``slope``, the left-hand slope, as PyTorch does; JAX
        uses 1 there (``jax.grad(jax.nn.leaky_relu)(0.0)``), and Keras follows
        the rule of its backend.

    Notes
    -----
    .. math::

        g'(z) = \begin{cases} \text{slope} & z < 0 \\ \text{at\_zero} & z = 0 \\ 1 & z > 0 \end{cases}
        \qquad g''(z) = 0.

    With ``slope > 0``, :math:`a` has the sign of :math:`z`, so the output
    determines the slope. With ``slope <= 0`` the sign of :math:`z` is lost
    (``slope = 0`` is ReLU; a negative slope folds both sides onto :math:`a \ge 0`)
    and `derivative_from_output` raises instead of guessing. One corner
    remains when ``at_zero != slope``: for a subnormal :math:`z < 0` so small
    that ``slope * z`` underflows to :math:`-0`, the output equals that of
    :math:`z = -0`, and the slope from the output is ``at_zero`` where
    `derivative` gives ``slope`` (pinned by an expected-failure test).

    Examples
    --------
    >>> import slopekit
    >>> slopekit.leaky_relu.derivative([-1.0, 0.0, 1.0])
    array([0.01, 0.01, 1.  ])
    >>> slopekit.get("leaky_relu", slope=0.001, at_zero=1).derivative([-1.0, 0.0, 1.0])
    array([0.001, 1.   , 1.   ])
    """

    slope: float = 0.01
    at_zero: float | None = None
    name = "leaky_relu"
    _light_kernels = frozenset({"_value", "_derivative", "_from_output", "_second"})
    kinks = (0.0,)

    def __post_init__(self):
        slope = _params.real("leaky_relu", "slope", self.slope)
        at_zero = slope if self.at_zero is None else _params.real("leaky_relu", "at_zero", self.at_zero)
        _params.between("leaky_relu", "at_zero", at_zero, slope, 1.0, "a subgradient of Leaky ReLU at 0")
        object.__setattr__(self, "slope", slope)
        object.__setattr__(self, "at_zero", at_zero)

    @property
    def has_derivative_from_output(self) -> bool:
        return self.slope > 0.0

    def _no_shortcut_reason(self):
        return f"with slope={self.slope!r} <= 0 the output loses the sign of z, so it cannot determine the slope"

    def _value_np(self, z, out):
        if self.slope == 0.0:  # ReLU; 0 * -inf would be NaN
            _relu_np(z, out)
            return
        with np.errstate(over="ignore"):  # |slope| > 1: slope * z may round to inf, correctly
            np.multiply(z, self.slope, out=out)
        # slope <= 1: max(z, slope z) picks z above 0 and slope z below; slope > 1: min.
        (np.maximum if self.slope <= 1.0 else np.minimum)(out, z, out=out)

    def _derivative_np(self, z, out):
        s, c = self.slope, self.at_zero
        zero = np.equal(z, 0) if c not in (s, 1.0) else None
        _step_np(z, c == 1.0 and s != 1.0, out)  # h in {0, 1, NaN}
        _lerp_np(out, s)
        if zero is not None:
            np.copyto(out, c, where=zero)

    def _from_output_np(self, a, out):
        self._derivative_np(a, out)  # slope > 0: a has the sign of z, and a = 0 iff z = 0

    def _second_np(self, z, out):
        _zero_np(z, out)

    def _value_torch(self, torch, z, out, scratch):
        if self.slope == 0.0:
            torch.clamp(z, min=0.0, out=out)
            return
        torch.mul(z, self.slope, out=out)
        (torch.maximum if self.slope <= 1.0 else torch.minimum)(out, z, out=out)  # as _value_np

    def _derivative_torch(self, torch, z, out, scratch):
        s, c = self.slope, self.at_zero
        zero = z == 0 if c not in (s, 1.0) else None
        _step_torch(torch, z, c == 1.0 and s != 1.0, out)
        _lerp_torch(torch, out, s)
        if zero is not None:
            out.masked_fill_(zero, c)

    def _from_output_torch(self, torch, a, out, scratch):
        self._derivative_torch(torch, a, out, scratch)

    @property
    def _from_output_backward_torch(self):
        """PyTorch's own leaky_relu_backward (da where a > 0, slope da elsewhere: the same products)
        where its slope at 0 is this one's; NaN in ``a`` patched to NaN, as the step gives."""
        if self.at_zero != self.slope:
            return None
        return _torch.Whole(self._aten_backward_torch)

    def _aten_backward_torch(self, torch, da, a, out, shared):
        torch.ops.aten.leaky_relu_backward.grad_input(da, a, self.slope, False, grad_input=out)
        if a.shape[0] and bool(torch.isnan(torch.amin(a))):
            torch.where(torch.isnan(a), a, out, out=out)

    def _second_torch(self, torch, z, out, scratch):
        _zero_torch(torch, z, out)

    def _value_xp(self, xp, z):
        below = xp.zeros_like(z) if self.slope == 0.0 else z * self.slope
        return xp.where(z < 0, below, z)

    def _derivative_xp(self, xp, z):
        one = xp.ones_like(z)
        slope = xp.where(z > 0, one, xp.where(z < 0, self.slope * one, self.at_zero * one))
        return xp.where(xp.isnan(z), z, slope)

    def _from_output_xp(self, xp, a):
        return self._derivative_xp(xp, a)

    def _second_xp(self, xp, z):
        return xp.where(xp.isnan(z), z, xp.zeros_like(z))
