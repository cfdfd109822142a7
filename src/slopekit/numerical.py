"""The lecture's slope as "height over width of a small triangle", and a check of every activation against it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from . import _arrays


def _default_step(xp: Any, z: Any) -> Any:
    """``cbrt(eps) * max(1, |z|)``: balances truncation (h^2) against rounding (eps / h)."""
    eps = float(xp.finfo(z.dtype).eps) if xp is not None else float(np.finfo(z.dtype).eps)
    if xp is None:
        return np.cbrt(eps) * np.maximum(np.abs(z), 1.0).astype(z.dtype)
    return eps ** (1.0 / 3.0) * xp.maximum(xp.abs(z), xp.ones_like(z))


def numerical_derivative(f: Callable[[Any], Any], z: Any, h: Any = None) -> Any:
    r"""The slope of ``f`` at ``z`` as height over width of a small triangle.

    The central difference

    .. math::

        g'(z) \approx \frac{f(z + h) - f(z - h)}{(z + h) - (z - h)}

    whose width is measured after rounding ``z ± h``, so the triangle's width is
    exactly the one evaluated. Its error is :math:`O(h^2)` from the curve plus
    :math:`O(\epsilon / h)` from rounding; the default
    :math:`h = \epsilon^{1/3} \max(1, |z|)` balances the two for the dtype of
    ``z`` (about :math:`6 \cdot 10^{-6}` in float64, :math:`5 \cdot 10^{-3}` in float32).

    Parameters
    ----------
    f : callable
        Maps an array to an array of the same shape, elementwise (an
        activation, or any function of one array).
    z : array_like
        Where to take the slope; any shape. Integers and bools compute in
        float64.
    h : float or array_like, optional
        Half-width of the triangle; positive and finite. Default as above.

    Returns
    -------
    slope : array or scalar
        Same shape and dtype as ``z``.

    Examples
    --------
    >>> import slopekit
    >>> slope = slopekit.numerical_derivative(slopekit.sigmoid, 0.0)
    >>> print(f"{float(slope):.10f}")
    0.2500000000
    """
    if not callable(f):
        raise TypeError(f"numerical_derivative: f must be callable, got {type(f).__name__}")
    inp = _arrays.prepare(z, "numerical_derivative", "z")
    xp, z = inp.xp, inp.array
    if h is None:
        h = _default_step(xp, z)
    else:
        if xp is None:
            h = _arrays.prepare(h, "numerical_derivative", "h").array.astype(z.dtype)
            valid = bool(np.all((h > 0) & np.isfinite(h)))
        else:
            h = xp.asarray(h, dtype=z.dtype)
            valid = bool(xp.all((h > 0) & xp.isfinite(h)))
        if not valid:
            raise ValueError("numerical_derivative: h must be positive and finite")
    z_plus, z_minus = z + h, z - h
    rise = f(z_plus) - f(z_minus)
    slope = rise / (z_plus - z_minus)
    if xp is None:
        slope = np.asarray(slope)
        if slope.shape != z.shape:
            raise ValueError(f"numerical_derivative: f returned shape {slope.shape} for input shape {z.shape}")
        slope = slope.astype(z.dtype, copy=False)
        return slope[()] if inp.scalar else slope
    return slope


@dataclass(frozen=True)
class SlopeCheck:
    """The outcome of `check_slopes` for one activation.

    Attributes
    ----------
    activation : Activation
        What was checked.
    dtype : str
        The dtype of the grid.
    worst_gap : float
        The largest :math:`|g'_{analytic} - g'_{numerical}| / \\max(1, |g'_{analytic}|)`
        over the grid, for both `derivative` and (where it exists)
        `derivative_from_output`.
    worst_z : float
        Where the worst gap occurred.
    tolerance : float
        The bound the gap must stay under, :math:`10\\,\\epsilon^{2/3}`.
    """

    activation: Any
    dtype: str
    worst_gap: float
    worst_z: float
    tolerance: float

    @property
    def passed(self) -> bool:
        """Whether the worst gap is within the tolerance."""
        return self.worst_gap <= self.tolerance


def kink_free_grid(activation: Any, dtype: Any = np.float64, low: float = -10.0, high: float = 10.0,
                   n: int = 2001) -> np.ndarray:
    """Evenly spaced points in ``[low, high]``, minus those whose triangle would straddle a kink."""
    z = np.linspace(low, high, n).astype(dtype)
    h = _default_step(None, z)
    keep = np.ones(z.shape, dtype=bool)
    for kink in activation.kinks:
        keep &= np.abs(z - kink) > 2 * h
    return z[keep]


def check_slopes(activations: Iterable[Any] | None = None, *, dtype: Any = np.float64,
                 low: float = -10.0, high: float = 10.0, n: int = 2001) -> list[SlopeCheck]:
    """Compare every activation's analytic slope with the numerical one.

    Parameters
    ----------
    activations : iterable of Activation or str, optional
        What to check; default every registered activation with default
        parameters.
    dtype : float32 or float64
        The dtype of the grid.
    low, high, n : float, float, int
        The grid: ``n`` evenly spaced points in ``[low, high]``, minus the
        points whose triangle would straddle a kink.

    Returns
    -------
    list of SlopeCheck

    Examples
    --------
    >>> import slopekit
    >>> [(c.activation.name, c.passed) for c in slopekit.check_slopes(["relu", "tanh"])]
    [('relu', True), ('tanh', True)]
    """
    from .activations import get, names

    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"check_slopes: dtype must be float32 or float64, got {dtype}")
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"check_slopes: need finite low < high, got low={low!r}, high={high!r}")
    tolerance = 10 * float(np.finfo(dtype).eps) ** (2.0 / 3.0)
    chosen = names() if activations is None else activations
    results = []
    for item in chosen:
        g = get(item)
        z = kink_free_grid(g, dtype, low, high, n)
        numeric, slopes = _slopes(g, z) if g.elementwise else _diagonal_slopes(g, z)
        gap = np.zeros(z.shape)
        for slope in slopes:
            err = np.abs(slope.astype(np.float64) - numeric) / np.maximum(1.0, np.abs(slope))
            gap = np.maximum(gap, err)
        worst = int(np.argmax(gap)) if gap.size else 0
        results.append(SlopeCheck(g, dtype.name, float(gap[worst]) if gap.size else 0.0,
                                  float(z[worst]) if z.size else math.nan, tolerance))
    return results


def _slopes(g: Any, z: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The numerical slope of an elementwise ``g`` on ``z``, and its analytic slopes (from z, from a)."""
    slopes = [g.derivative(z)]
    if g.has_derivative_from_output:
        slopes.append(g.derivative_from_output(g(z)))
    return numerical_derivative(g, z), slopes


#: The other entries of each row when checking softmax-like activations: z_i varies along the grid.
_COMPANIONS = (0.5, -1.0)


def rows_with(g: Any, z: np.ndarray) -> np.ndarray:
    """Rows ``[z_i, 0.5, -1.0]`` laid along ``g.axis``, for evaluating softmax-like ``g`` at each ``z_i``."""
    rows = np.stack([z] + [np.full_like(z, c) for c in _COMPANIONS], axis=-1)
    if g.axis not in (-1, 0, 1) or (g.axis == 0 and rows.ndim < 1):
        raise ValueError(f"{g!r} needs axis 0, 1 or -1 here")
    return np.moveaxis(rows, -1, g.axis if rows.ndim > 1 else -1)


def first_entries(g: Any, values: np.ndarray) -> np.ndarray:
    """The entries of ``values`` (shaped like `rows_with`) that belong to ``z_i``."""
    return np.moveaxis(values, g.axis if values.ndim > 1 else -1, -1)[..., 0]


def _diagonal_slopes(g: Any, z: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The same for an activation along an axis: the Jacobian's diagonal entry for ``z_i`` in rows
    ``[z_i, 0.5, -1.0]``, numerically by moving that entry alone."""
    rows = rows_with(g, z)
    step = np.zeros(rows.shape, z.dtype)
    np.moveaxis(step, g.axis, -1)[..., 0] = _default_step(None, z)
    up, down = rows + step, rows - step
    numeric = first_entries(g, g(up) - g(down)) / first_entries(g, up - down)
    slopes = [g.derivative(rows)]
    if g.has_derivative_from_output:
        slopes.append(g.derivative_from_output(g(rows)))
    return numeric, [first_entries(g, s) for s in slopes]
