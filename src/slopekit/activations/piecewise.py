"""Piecewise-linear saturating activations: hard_tanh, relu6 and hard_sigmoid.

At every kink the slope is 0, the value PyTorch autograd gives (its backward
passes the gradient only strictly inside the linear piece); the second
derivative is 0 everywhere (NaN for NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _params
from ._base import Activation
from .relu import _zero_np


def _inside_np(x, low, high, slope, out):
    """``slope`` strictly inside (low, high), 0 outside and at the bounds, NaN for NaN."""
    np.greater(x, low, out=out)
    np.logical_and(out, np.less(x, high), out=out, casting="unsafe")
    if slope != 1.0:
        np.multiply(out, slope, out=out)
    if x.size and np.isnan(np.minimum.reduce(x, axis=None)):
        np.copyto(out, x, where=np.isnan(x))


def _inside_xp(xp, x, low, high, slope):
    inside = xp.logical_and(x > low, x < high)
    result = xp.where(inside, xp.full_like(x, slope), xp.zeros_like(x))
    return xp.where(xp.isnan(x), x, result)


def _clip_xp(xp, x, low, high):
    x = xp.where(x < low, xp.full_like(x, low), x)
    return xp.where(x > high, xp.full_like(x, high), x)


class _Clip(Activation):
    """g(z) = clip(z, low, high) with slope 1 strictly inside and 0 at and beyond the bounds."""

    def _bounds(self):
        raise NotImplementedError  # pragma: no cover

    @property
    def kinks(self):
        return self._bounds()

    def _value_np(self, z, out):
        low, high = self._bounds()
        np.clip(z, low, high, out=out)

    def _derivative_np(self, z, out):
        _inside_np(z, *self._bounds(), 1.0, out)

    def _from_output_np(self, a, out):
        # a strictly inside iff z strictly inside; a at a bound comes from z at or beyond it,
        # and the slope is 0 in both cases: the output determines the slope.
        _inside_np(a, *self._bounds(), 1.0, out)

    def _second_np(self, z, out):
        _zero_np(z, out)

    def _value_xp(self, xp, z):
        return _clip_xp(xp, z, *self._bounds())

    def _derivative_xp(self, xp, z):
        return _inside_xp(xp, z, *self._bounds(), 1.0)

    def _from_output_xp(self, xp, a):
        return _inside_xp(xp, a, *self._bounds(), 1.0)

    def _second_xp(self, xp, z):
        return xp.where(xp.isnan(z), z, xp.zeros_like(z))


@dataclass(frozen=True)
class HardTanh(_Clip):
    r"""Hard tanh :math:`g(z) = \min(\max(z, \text{min\_val}), \text{max\_val})`.

    Parameters
    ----------
    min_val, max_val : float, default -1, 1
        The saturation bounds, ``min_val < max_val``.

    Notes
    -----
    :math:`g'(z) = 1` strictly between the bounds, 0 outside them and at them
    (PyTorch autograd's value at the kinks), :math:`g'' = 0`. An output at a
    bound comes from :math:`z` at or beyond it, where the slope is 0 either
    way, so the output determines the slope.

    Examples
    --------
    >>> import slopekit
    >>> g = slopekit.get("hard_tanh")
    >>> g.derivative([-2.0, -1.0, 0.0, 1.0, 2.0])
    array([0., 0., 1., 0., 0.])
    """

    min_val: float = -1.0
    max_val: float = 1.0
    name = "hard_tanh"

    def __post_init__(self):
        low = _params.real("hard_tanh", "min_val", self.min_val)
        high = _params.real("hard_tanh", "max_val", self.max_val)
        if not low < high:
            raise ValueError(f"hard_tanh: need min_val < max_val, got {low!r} and {high!r}")
        object.__setattr__(self, "min_val", low)
        object.__setattr__(self, "max_val", high)

    def _bounds(self):
        return (self.min_val, self.max_val)


@dataclass(frozen=True)
class ReLU6(_Clip):
    r"""ReLU6 :math:`g(z) = \min(\max(z, 0), 6)`.

    Notes
    -----
    :math:`g'(z) = 1` for :math:`0 < z < 6`, else 0, including at the kinks 0
    and 6 (as PyTorch autograd gives); :math:`g'' = 0`. The output determines
    the slope (0 at either bound, whatever side).

    Examples
    --------
    >>> import slopekit
    >>> slopekit.get("relu6").derivative([0.0, 3.0, 6.0])
    array([0., 1., 0.])
    """

    name = "relu6"

    def _bounds(self):
        return (0.0, 6.0)


@dataclass(frozen=True)
class HardSigmoid(Activation):
    r"""Hard sigmoid :math:`g(z) = \operatorname{relu6}(z + 3)/6`, PyTorch's definition.

    Notes
    -----
    :math:`g(z) = z/6 + 1/2` for :math:`-3 < z < 3`, 0 below, 1 above;
    :math:`g'(z) = 1/6` strictly inside, 0 outside and at the kinks
    :math:`\pm 3` (as PyTorch autograd gives); :math:`g'' = 0`. (Keras' older
    hard sigmoid uses :math:`0.2 z + 0.5`.) `derivative_from_output` is not
    available: :math:`z/6 + 1/2` rounds to exactly 0 or 1 for some :math:`z`
    just inside :math:`(-3, 3)`, where the slope is 1/6, so an output of 0 or
    1 does not tell the slope.

    Examples
    --------
    >>> import slopekit
    >>> g = slopekit.get("hard_sigmoid")
    >>> g([-4.0, 0.0, 1.5]), g.derivative([-3.0, 0.0, 3.0])
    (array([0.  , 0.5 , 0.75]), array([0.        , 0.16666667, 0.        ]))
    """

    name = "hard_sigmoid"
    kinks = (-3.0, 3.0)

    _no_shortcut = "z/6 + 1/2 rounds to 0 or 1 just inside (-3, 3), so an output of 0 or 1 does not tell the slope"

    def _value_np(self, z, out):
        np.divide(z, 6.0, out=out)
        np.add(out, 0.5, out=out)
        np.clip(out, 0.0, 1.0, out=out)

    def _derivative_np(self, z, out):
        _inside_np(z, -3.0, 3.0, 1.0 / 6.0, out)

    def _second_np(self, z, out):
        _zero_np(z, out)

    def _value_xp(self, xp, z):
        return _clip_xp(xp, z / 6.0 + 0.5, 0.0, 1.0)

    def _derivative_xp(self, xp, z):
        return _inside_xp(xp, z, -3.0, 3.0, 1.0 / 6.0)

    def _second_xp(self, xp, z):
        return xp.where(xp.isnan(z), z, xp.zeros_like(z))
