"""Validation of activation parameters (slopes, values at kinks)."""

from __future__ import annotations

import math
import numbers

import numpy as np


def real(who: str, name: str, value: object) -> float:
    """Return ``value`` as a finite Python float, or raise a clear error.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (strings, ``None``, bools, complex).
    ValueError
        If ``value`` is NaN or infinite.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{who}: {name} must be a real number, got {type(value).__name__} {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{who}: {name} must be finite, got {result!r}")
    return result


def between(who: str, name: str, value: float, low: float, high: float, why: str) -> float:
    """Check ``low <= value <= high`` (in either order of the bounds)."""
    low, high = min(low, high), max(low, high)
    if not low <= value <= high:
        raise ValueError(f"{who}: {name} must lie in [{low:g}, {high:g}] ({why}), got {value!r}")
    return value


def integer(who: str, name: str, value: object) -> int:
    """Return ``value`` as a Python int (an integral float such as ``-1.0`` is accepted), or raise."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{who}: {name} must be an integer, got {type(value).__name__} {value!r}")
    if isinstance(value, (numbers.Integral, np.integer)):
        return int(value)
    if isinstance(value, (numbers.Real, np.floating)) and float(value).is_integer():
        return int(value)
    raise TypeError(f"{who}: {name} must be an integer, got {type(value).__name__} {value!r}")
