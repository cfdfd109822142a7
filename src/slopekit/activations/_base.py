"""The interface every activation shares: value, slope, slope from the cached output, backward.

A subclass supplies a handful of small kernels, in two flavours:

* ``_value_np(z, out)``, ``_derivative_np(z, out)``, ``_from_output_np(a, out)``,
  ``_second_np(z, out)``: the NumPy fast path. Each writes its result into
  ``out``, a float32 or float64 array that never overlaps the input (the base
  class copies the input when a caller's ``out=`` aliases it), using in-place
  ufuncs and as few passes as it can.
* ``_value_xp(xp, z)``, ``_derivative_xp(xp, z)``, ``_from_output_xp(xp, a)``,
  ``_second_xp(xp, z)``: the same math written once against the Python array
  API standard, for PyTorch, CuPy, JAX, Dask or array-api-strict arrays.

The base class does everything else: input checks, dtypes, scalars, ``out=``,
and the chain rule in `Activation.backward`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .. import _arrays


class Activation:
    """An activation function :math:`a = g(z)` with its slopes.

    Every activation is an immutable, hashable value object: two activations
    with the same parameters compare equal, and its ``repr`` shows them.

    Attributes
    ----------
    name : str
        The registry name, as accepted by `slopekit.get`.
    kinks : tuple of float
        The points where :math:`g` is not differentiable; the slope there is a
        convention stated by the activation's parameters.
    """

    name: ClassVar[str]
    kinks: ClassVar[tuple[float, ...]] = ()

    # -- what a subclass may override -------------------------------------------------

    @property
    def has_derivative_from_output(self) -> bool:
        """Whether the cached output ``a`` alone determines :math:`g'(z)`.

        When False, `derivative_from_output` raises and `backward` needs ``z``.
        """
        return True

    def _no_shortcut_reason(self) -> str:  # pragma: no cover - overridden where needed
        return "its output does not determine its slope"

    # -- the public interface -----------------------------------------------------------

    def __call__(self, z: Any, *, out: Any = None) -> Any:
        """Evaluate the activation, :math:`a = g(z)`.

        Parameters
        ----------
        z : array_like
            Pre-activation: a NumPy array, a Python or NumPy scalar, a list, or
            an array of any library that follows the Python array API standard.
            float16/float32/float64 keep their dtype; integers and bools
            compute in float64.
        out : array, optional
            A buffer of the result's shape and dtype to write into. It may be
            ``z`` itself.

        Returns
        -------
        a : array or scalar
            Same shape as ``z`` (a scalar for scalar input), same library and
            device.
        """
        return self._apply("_value", z, out, "z", "")

    def derivative(self, z: Any, *, out: Any = None) -> Any:
        """The slope :math:`g'(z)` computed from the pre-activation ``z``.

        Accurate to a few units in the last place over the whole range of the
        dtype. Parameters and return as for `__call__`.
        """
        return self._apply("_derivative", z, out, "z", ".derivative")

    def derivative_from_output(self, a: Any, *, out: Any = None) -> Any:
        """The slope :math:`g'(z)` computed from the cached output :math:`a = g(z)`.

        This is the lecture's shortcut: the forward pass already computed
        ``a``, so the slope costs one or two more operations. ``a`` must be an
        output of this activation; nothing checks that, for speed.

        Raises
        ------
        ValueError
            If this activation's output cannot determine its slope (see
            `has_derivative_from_output`).
        """
        if not self.has_derivative_from_output:
            raise ValueError(
                f"{self!r}.derivative_from_output: {self._no_shortcut_reason()}; "
                "use derivative(z) or backward(da, z=z) instead"
            )
        return self._apply("_from_output", a, out, "a", ".derivative_from_output")

    def second_derivative(self, z: Any, *, out: Any = None) -> Any:
        """The second derivative :math:`g''(z)` (0 at the kinks of piecewise-linear functions)."""
        return self._apply("_second", z, out, "z", ".second_derivative")

    def backward(self, da: Any, *, z: Any = None, a: Any = None, out: Any = None) -> Any:
        """Backpropagate through the activation: :math:`dz = da \\cdot g'(z)`.

        Parameters
        ----------
        da : array_like
            Gradient of the loss with respect to the output ``a``.
        z : array_like, optional
            The pre-activation; used when ``a`` is not given, or when this
            activation has no slope-from-output shortcut.
        a : array_like, optional
            The cached output :math:`g(z)` of the forward pass (the lecture's
            way); preferred when given.
        out : array, optional
            A buffer for ``dz``; it may alias ``da``, ``z`` or ``a``.

        Returns
        -------
        dz : array or scalar
            Same shape as ``da``; the dtype is the promotion of ``da`` and the
            cached array's dtype.

        Raises
        ------
        TypeError
            If neither ``z`` nor ``a`` is given, or they come from different
            array libraries than ``da``.
        ValueError
            If the shapes differ, or only ``a`` is given and it cannot
            determine the slope.
        """
        who = f"{self.name}.backward"
        if a is not None and self.has_derivative_from_output:
            cached, argname, kernel = a, "a", "_from_output"
        elif z is not None:
            cached, argname, kernel = z, "z", "_derivative"
        elif a is not None:
            raise ValueError(
                f"{self!r}.backward: {self._no_shortcut_reason()}; pass z= (the pre-activation)"
            )
        else:
            raise TypeError(f"{who}: pass the cached output a= (the lecture's way) or the pre-activation z=")
        d_in = _arrays.prepare(da, who, "da")
        c_in = _arrays.prepare(cached, who, argname)
        if d_in.xp is not c_in.xp:
            raise TypeError(f"{who}: da and {argname} must come from the same array library")
        d, c = d_in.array, c_in.array
        if d.shape != c.shape:
            raise ValueError(f"{who}: da has shape {tuple(d.shape)} but {argname} has shape {tuple(c.shape)}")
        if d_in.xp is not None:
            xp = d_in.xp
            dtype = xp.result_type(d.dtype, c.dtype)
            slope = self._run_xp(kernel, xp, xp.astype(c, dtype))
            return _arrays.xp_store(xp.astype(d, dtype) * slope, out, who)
        dtype = np.result_type(d.dtype, c.dtype)
        d, c = d.astype(dtype, copy=False), c.astype(dtype, copy=False)
        result = _arrays.numpy_out(out, d.shape, dtype, who)
        self._backward_np(kernel, d, c, result)
        if out is None and d_in.scalar and c_in.scalar:
            return result[()]
        return result

    # -- machinery ----------------------------------------------------------------------

    def _apply(self, kernel: str, x: Any, out: Any, argname: str, method: str) -> Any:
        who = f"{self.name}{method}"
        inp = _arrays.prepare(x, who, argname)
        if inp.xp is not None:
            return _arrays.xp_store(self._run_xp(kernel, inp.xp, inp.array), out, who)
        arr = inp.array
        result = _arrays.numpy_out(out, arr.shape, arr.dtype, who)
        self._run_np(kernel, arr, result)
        if out is None and inp.scalar:
            return result[()]
        return result

    def _run_np(self, kernel: str, x: np.ndarray, result: np.ndarray) -> None:
        """Run a NumPy kernel from ``x`` into ``result`` (same shape and dtype)."""
        work = _arrays.compute_dtype(x.dtype)
        if work != x.dtype:  # float16: compute in float32, round once
            x32 = x.astype(work)
            target = np.empty(x.shape, work)
            getattr(self, kernel + "_np")(x32, target)
            with np.errstate(over="ignore"):  # a result beyond float16's range rounds to inf
                np.copyto(result, target, casting="same_kind")
            return
        if np.may_share_memory(x, result):
            x = x.copy()
        getattr(self, kernel + "_np")(x, result)

    def _backward_np(self, kernel: str, d: np.ndarray, c: np.ndarray, result: np.ndarray) -> None:
        """The NumPy chain rule: ``result = d * slope(c)``, with ``kernel`` ``"_from_output"`` or ``"_derivative"``.

        ``d``, ``c`` and ``result`` have one shape and one dtype; ``result`` may
        alias either input. `Network` calls this directly on its buffers.
        """
        slope = np.empty(d.shape, d.dtype) if np.may_share_memory(d, result) else result
        self._run_np(kernel, c, slope)
        np.multiply(slope, d, out=result)

    def _run_xp(self, kernel: str, xp: Any, x: Any) -> Any:
        """Run a generic kernel; narrow floats compute in float32."""
        work = _arrays.xp_compute_dtype(xp, x.dtype)
        if work == x.dtype:
            return getattr(self, kernel + "_xp")(xp, x)
        return xp.astype(getattr(self, kernel + "_xp")(xp, xp.astype(x, work)), x.dtype)
