r"""Softmax and log-softmax along an axis: not elementwise, so `backward` is a vector-Jacobian product.

For :math:`s = \operatorname{softmax}(z)` along an axis, the Jacobian is
:math:`\partial s_i / \partial z_j = s_i(\delta_{ij} - s_j)`. `backward` never
builds it: the vector-Jacobian product is

.. math::

    dz = s \odot \bigl(da - \textstyle\sum_j da_j\, s_j\bigr),
    \qquad\text{and for } a = \log s:\quad dz = da - s \textstyle\sum_j da_j .

`derivative` returns the Jacobian's diagonal :math:`\partial a_i / \partial z_i`
(softmax: :math:`s_i(1 - s_i)`, the sigmoid's formula; log-softmax:
:math:`1 - s_i`) and `second_derivative` the diagonal of the second
derivatives; ``da * derivative(z)`` is *not* the chain rule here.

Both compute :math:`e_j = e^{z_j - m}` with :math:`m = \max_j z_j`, and
:math:`r = \sum_{z_j < m} e_j + (k - 1)` for the :math:`k` maximal entries, so
the sum is :math:`1 + r` and :math:`\log(1 + r)` is ``log1p(r)``: no overflow,
no :math:`\log 0`, and :math:`1 - s_i = r / (1 + r)` at the maximum without
cancellation. Entries equal to :math:`+\infty` share the whole mass (the
limit); a row of all :math:`-\infty` has no limit and gives NaN, as does a
row with a NaN.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _arrays, _params
from . import _torch
from ._generic import Generic


def _axis(who: str, x: Any, axis: int) -> int:
    if x.ndim == 0:
        raise ValueError(f"{who}: needs an array with at least one dimension (softmax is taken along axis {axis})")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{who}: axis {axis} is out of range for an array of {x.ndim} dimensions")
    return axis % x.ndim


def _exp_terms(xp, z, axis):
    """Along ``axis``: e = exp(z - m), r = sum(e) - 1 without cancellation, top = (z == m), and z - m."""
    if z.shape[axis] == 0:  # no maximum to take, and every result is empty (as torch.softmax and jax.nn.softmax give)
        r = xp.sum(z, axis=axis, keepdims=True)  # zeros of the reduced shape, dtype and device
        return z, r, z != z, z
    m = xp.max(z, axis=axis, keepdims=True)
    top = z == m
    finite_m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    shifted = xp.where(m == xp.inf, xp.where(top, xp.zeros_like(z), xp.full_like(z, -xp.inf)), z - finite_m)
    # z - m rounds (by up to half an ulp of |z - m|, which exp would amplify |z - m| times): keep
    # its rounding error (Knuth's two-sum) and correct exp to first order
    bb = shifted - z
    low = (z - (shifted - bb)) + (-finite_m - bb)
    low = xp.where(xp.isfinite(shifted) & xp.isfinite(low), low, xp.zeros_like(z))
    e = xp.exp(shifted)
    e = e + e * low
    k = xp.sum(xp.astype(top, z.dtype), axis=axis, keepdims=True)
    r = xp.sum(xp.where(top, xp.zeros_like(e), e), axis=axis, keepdims=True) + (k - 1)
    # a NaN anywhere in a row, or a row of -inf only (no limit), makes the row NaN
    r = xp.where(xp.isnan(m) | (m == -xp.inf), xp.full_like(r, xp.nan), r)
    return e, r, top, shifted + low


class _AlongAxis(Generic):
    """Shared machinery: an ``axis`` parameter, NumPy kernels that run the generic formulas."""

    elementwise = False
    _blockwise = False
    _np_errstate = {"invalid": "ignore", "divide": "ignore", "over": "ignore"}  # NaN/inf rows by design
    axis: int

    def __post_init__(self):
        object.__setattr__(self, "axis", _params.integer(self.name, "axis", self.axis))

    def _softmax(self, xp, z):
        """s and 1 - s, each accurate."""
        axis = _axis(self.name, z, self.axis)
        e, r, top, _ = _exp_terms(xp, z, axis)
        total = 1 + r
        s = e / total
        rest = xp.where(top, xp.broadcast_to(r, z.shape), (1 + (r - e)))  # sum over the other entries
        return s, rest / total

    def _backward_np(self, kernel, d, c, result):
        work = _arrays.compute_dtype(d.dtype)
        with np.errstate(**self._np_errstate):
            dz = self._backward_xp(kernel, np, d.astype(work, copy=False), c.astype(work, copy=False))
            np.copyto(result, dz, casting="same_kind")

    def _backward_xp(self, kernel, xp, d, c):
        work = _arrays.xp_compute_dtype(xp, d.dtype) if xp is not np else d.dtype
        if work != d.dtype:
            return xp.astype(self._backward_xp(kernel, xp, xp.astype(d, work), xp.astype(c, work)), d.dtype)
        axis = _axis(f"{self.name}.backward", c, self.axis)
        if xp is not np and _torch.namespace_is_torch(xp) and _torch.usable(d, c):
            a = c if kernel == "_from_output" else self._run_torch("_value", xp, c)
            return _torch.vjp_rows(_torch.Whole(self._vjp_torch), d, a, axis)
        return self._vjp(xp, d, c if kernel == "_from_output" else self._value_xp(xp, c), axis)

    # -- the PyTorch engine: blocks of whole rows along the axis (``_torch.run_rows``) -------------

    def _run_torch(self, kernel, xp, x):
        return _torch.run_rows(self._rows_kernel_torch(kernel, xp), x, _axis(self.name, x, self.axis))

    def _rows_kernel_torch(self, kernel, xp):
        """The kernel on a block of rows (the axis last): the activation's own, else its generic formula."""
        own = getattr(self, kernel + "_rows_torch", None)
        if own is not None:
            return own
        return _torch.generic_kernel(getattr(dataclasses.replace(self, axis=-1), kernel + "_xp"), xp)



@dataclass(frozen=True)
class Softmax(_AlongAxis):
    r"""Softmax :math:`a_i = e^{z_i} / \sum_j e^{z_j}` along ``axis``.

    Parameters
    ----------
    axis : int, default -1
        The axis the probabilities sum to 1 along (the units of a layer whose
        rows are samples).

    Notes
    -----
    Not elementwise (`elementwise` is False): `backward` is the
    vector-Jacobian product :math:`a \odot (da - \sum_j da_j a_j)`, from the
    cached output as the lecture would have it, or from ``z``. `derivative`
    and `derivative_from_output` give the Jacobian's diagonal
    :math:`a_i (1 - a_i)`; `second_derivative` gives
    :math:`\partial^2 a_i / \partial z_i^2 = a_i(1 - a_i)(1 - 2a_i)`.

    Examples
    --------
    >>> import numpy as np, slopekit
    >>> g = slopekit.get("softmax")
    >>> a = g(np.log([[1.0, 3.0]]))
    >>> a
    array([[0.25, 0.75]])
    >>> g.backward(np.array([[1.0, 0.0]]), a=a)  # a (da - sum(da a))
    array([[ 0.1875, -0.1875]])
    """

    axis: int = -1
    name = "softmax"

    def _value_xp(self, xp, z):
        return self._softmax(xp, z)[0]

    def _value_np(self, z, out):
        """`_value_xp`'s formula on NumPy, into ``out`` with few temporaries, for rows whose maximum is finite.

        The same operations in the same order as `_exp_terms` and `_softmax`
        (so the same bits), without the selections that only rows with an
        infinite or NaN maximum need; other input takes the generic formula.
        A network's softmax output layer calls this once per batch.
        """
        axis = _axis(self.name, z, self.axis)
        if z.shape[axis] == 0 or z.dtype not in (np.float32, np.float64):
            super()._value_np(z, out)
            return
        with np.errstate(invalid="ignore", over="ignore", under="ignore"):
            m = np.maximum.reduce(z, axis=axis, keepdims=True)  # np.max without its Python wrapper
            if not np.isfinite(m).all():
                super()._value_np(z, out)
                return
            shifted = np.subtract(z, m)
            bb = np.subtract(shifted, z)
            low = np.subtract(shifted, bb)
            np.subtract(z, low, out=low)
            np.subtract(np.negative(m), bb, out=bb)
            np.add(low, bb, out=low)  # low = (z - (shifted - bb)) + (-m - bb): the rounding error of z - m
            if not np.isfinite(low).all():  # where z - m is infinite, so is or NaN is low: one check for both
                finite = np.isfinite(shifted)
                finite &= np.isfinite(low)
                np.copyto(low, 0, where=~finite)
            e = np.exp(shifted, out=out)
            np.multiply(e, low, out=low)
            np.add(e, low, out=e)  # e + e * low
            top = z == m
            k = np.add.reduce(top, axis=axis, keepdims=True, dtype=z.dtype)
            np.copyto(low, e)
            np.copyto(low, 0, where=top)
            r = np.add.reduce(low, axis=axis, keepdims=True)
            r += k - 1
            r += 1
            np.divide(e, r, out=out)

    def _derivative_xp(self, xp, z):
        s, rest = self._softmax(xp, z)
        return s * rest

    def _from_output_xp(self, xp, a):
        return a * (1 - a)

    def _second_xp(self, xp, z):
        s, rest = self._softmax(xp, z)
        return s * rest * (rest - s)

    @staticmethod
    def _vjp(xp, da, a, axis):
        return a * (da - xp.sum(da * a, axis=axis, keepdims=True))

    @staticmethod
    def _vjp_torch(torch, da, a, out, shared):
        """`_vjp` on rows (the axis last): a (da - sum(da a)), PyTorch's own kernel for it."""
        torch.ops.aten._softmax_backward_data.out(da, a, 1, a.dtype, grad_input=out)

    # Steps of the value on blocks of rows: z - m, exp on the whole tensor, then the rest.
    _value_rows_torch = (
        lambda torch, z, out, scratch: torch.sub(z, _finite_row_max_torch(torch, z), out=out),
        _torch.Whole(lambda torch, z, out, shared: out.exp_()),
        lambda torch, z, out, scratch: _softmax_from_exp_torch(torch, z, out, scratch),
    )


def _finite_row_max_torch(torch, z):
    """Each row's maximum; 0 for a row whose maximum is not finite (`_softmax_from_exp_torch` redoes it)."""
    m = torch.amax(z, dim=1, keepdim=True)
    return m.nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)


def _softmax_from_exp_torch(torch, z, e, scratch):
    """From e = exp(z - m) in place: e (1 + low) / sum, ``low`` the rounding error of z - m (Knuth's
    two-sum, as in `_exp_terms`); rows with inf or NaN take the generic formula."""
    m = torch.amax(z, dim=1, keepdim=True)
    special = torch.logical_not(torch.isfinite(m.squeeze(1)))  # a row of -inf, +inf in a row, or NaN
    m.nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)  # as _finite_row_max_torch
    shifted, back, low = scratch.get("shifted", z), scratch.get("back", z), scratch.get("low", z)
    torch.sub(z, m, out=shifted)
    torch.sub(shifted, z, out=back)
    torch.sub(z, torch.sub(shifted, back, out=low), out=low)
    low.add_(back.add_(m).neg_()).nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)  # 0 where z = -inf
    e.add_(low.mul_(e))  # e (1 + low)
    e.div_(e.sum(dim=1, keepdim=True))
    if bool(special.any()):
        index = torch.nonzero(special).squeeze(1)
        e.index_copy_(0, index, Softmax(axis=-1)._value_xp(_torch.compat_namespace(), z.index_select(0, index)))


@dataclass(frozen=True)
class LogSoftmax(_AlongAxis):
    r"""Log-softmax :math:`a_i = z_i - \log \sum_j e^{z_j}` along ``axis``.

    Parameters
    ----------
    axis : int, default -1

    Notes
    -----
    Computed as :math:`(z_i - m) - \operatorname{log1p}(r)` (see the module):
    never :math:`\log 0`, exact where one entry dominates. Not elementwise:
    `backward` is :math:`da - e^{a} \sum_j da_j`; `derivative` is the
    Jacobian's diagonal :math:`1 - s_i = -\operatorname{expm1}(a_i)` (also
    from the output), `second_derivative` is :math:`-s_i(1 - s_i)`.

    Examples
    --------
    >>> import numpy as np, slopekit
    >>> g = slopekit.get("log_softmax")
    >>> a = g(np.array([0.0, 1000.0]))
    >>> a
    array([-1000.,     0.])
    >>> g.backward(np.array([1.0, 0.0]), a=a)
    array([ 1., -1.])
    """

    axis: int = -1
    name = "log_softmax"

    def _value_xp(self, xp, z):
        axis = _axis(self.name, z, self.axis)
        _, r, _, shifted = _exp_terms(xp, z, axis)
        return shifted - xp.log1p(r)

    def _derivative_xp(self, xp, z):
        return self._softmax(xp, z)[1]

    def _from_output_xp(self, xp, a):
        return -xp.expm1(a)

    def _second_xp(self, xp, z):
        s, rest = self._softmax(xp, z)
        return -(s * rest)

    @staticmethod
    def _vjp(xp, da, a, axis):
        return da - xp.exp(a) * xp.sum(da, axis=axis, keepdims=True)

    @staticmethod
    def _vjp_torch(torch, da, a, out, shared):
        """`_vjp` on rows (the axis last): da - exp(a) sum(da), PyTorch's own kernel for it."""
        torch.ops.aten._log_softmax_backward_data.out(da, a, 1, a.dtype, out=out)
