"""Turning what callers pass into float arrays, and results back into what they passed.

Two paths share one contract:

* NumPy input (arrays, NumPy scalars, Python numbers, lists) goes through the
  NumPy fast path: kernels write into a preallocated ``out`` array.
* Any other array that follows the Python array API standard (PyTorch, CuPy,
  JAX, Dask, array-api-strict) goes through the generic path, with its own
  namespace obtained from ``array_api_compat``, imported only when needed.

Floating input keeps its dtype; integer and bool input computes in float64;
complex, string, object input and ``None`` raise ``TypeError``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The floating dtypes the NumPy path keeps as they are.
FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


@dataclass(frozen=True)
class Input:
    """An argument made ready for a kernel.

    Attributes
    ----------
    array : array
        The argument as a floating array (a NumPy ``ndarray`` when ``xp`` is None).
    xp : module or None
        The array API namespace of a non-NumPy argument; None on the NumPy path.
    scalar : bool
        True when the caller passed a scalar (Python or NumPy): the result is
        returned as a scalar too.
    """

    array: Any
    xp: Any
    scalar: bool


def _unsupported(who: str, argname: str, what: str) -> TypeError:
    return TypeError(
        f"{who}: {argname} must be a real floating, integer or bool array or number, "
        f"got {what}"
    )


def _numpy_float(arr: np.ndarray, who: str, argname: str) -> np.ndarray:
    dtype = arr.dtype
    if dtype in FLOAT_DTYPES:
        return arr
    if dtype.kind in "biu":
        return arr.astype(np.float64)
    if dtype.kind == "f":
        raise TypeError(f"{who}: {argname} has dtype {dtype}, which slopekit does not support; "
                        "use float16, float32 or float64")
    raise _unsupported(who, argname, f"dtype {dtype}")


def prepare(x: Any, who: str, argname: str) -> Input:
    """Convert a caller's argument into an `Input`.

    Parameters
    ----------
    x : array_like
        What the caller passed.
    who : str
        The function's name, used in error messages (``"sigmoid"``).
    argname : str
        The argument's name, used in error messages (``"z"``).

    Raises
    ------
    TypeError
        For ``None``, complex, string or object input, and for objects that are
        neither numbers, sequences nor arrays.
    """
    if type(x) is np.ndarray:  # the common case, first and cheapest
        return Input(_numpy_float(x, who, argname), None, False)
    if x is None:
        raise _unsupported(who, argname, "None")
    if isinstance(x, (bool, numbers.Real, np.generic)) and not isinstance(x, (str, bytes)):
        try:
            arr = np.asarray(x) if isinstance(x, np.generic) else np.asarray(float(x))
        except OverflowError:
            raise ValueError(f"{who}: {argname} = {x!r:.40} is too large for float64") from None
        return Input(_numpy_float(arr, who, argname), None, True)
    if isinstance(x, (complex, numbers.Complex)):
        raise _unsupported(who, argname, f"complex value {x!r}")
    if isinstance(x, (str, bytes)):
        raise _unsupported(who, argname, f"a {type(x).__name__}")
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(f"{who}: {argname} is a masked array, whose mask would be ignored; "
                        "pass x.filled(value) or x.compressed()")
    if isinstance(x, np.ndarray):  # other subclasses, such as np.matrix
        return Input(_numpy_float(np.asarray(x), who, argname), None, False)
    if isinstance(x, (list, tuple)):
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{who}: {argname} is a sequence that is not an array: {exc}") from None
        return Input(_numpy_float(arr, who, argname), None, False)
    return _prepare_array_api(x, who, argname)


def _prepare_array_api(x: Any, who: str, argname: str) -> Input:
    import array_api_compat

    try:
        xp = array_api_compat.array_namespace(x)
    except TypeError:
        raise _unsupported(who, argname, f"an object of type {type(x).__name__}") from None
    if array_api_compat.is_numpy_namespace(xp):
        return Input(_numpy_float(np.asarray(x), who, argname), None, False)
    dtype = x.dtype
    if xp.isdtype(dtype, "real floating"):
        return Input(x, xp, False)
    if xp.isdtype(dtype, ("integral", "bool")):
        device = array_api_compat.device(x)
        return Input(xp.astype(x, xp.float64, device=device), xp, False)
    raise _unsupported(who, argname, f"dtype {dtype}")


def numpy_out(out: Any, shape: tuple, dtype: np.dtype, who: str) -> np.ndarray:
    """Allocate the result array, or check the caller's ``out`` buffer."""
    if out is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{who}: out must be a NumPy array for NumPy input, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"{who}: out has shape {out.shape}, expected {shape}")
    if out.dtype != dtype:
        raise TypeError(f"{who}: out has dtype {out.dtype}, expected {dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{who}: out is read-only")
    return out


def xp_store(result: Any, out: Any, who: str) -> Any:
    """Write a generic-path result into the caller's ``out`` (if any) and return it."""
    if out is None:
        return result
    if getattr(out, "shape", None) != result.shape:
        raise ValueError(f"{who}: out has shape {getattr(out, 'shape', None)}, expected {result.shape}")
    if getattr(out, "dtype", None) != result.dtype:
        raise TypeError(f"{who}: out has dtype {getattr(out, 'dtype', None)}, expected {result.dtype}")
    try:
        out[...] = result
    except (TypeError, ValueError, NotImplementedError) as exc:
        raise TypeError(f"{who}: out= is not supported for arrays of type {type(out).__name__}: {exc}") from None
    return out


def compute_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype a NumPy kernel runs in: float16 runs in float32 and is rounded once at the end."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def xp_compute_dtype(xp: Any, dtype: Any) -> Any:
    """The dtype a generic kernel runs in: floats narrower than 32 bits run in float32."""
    return xp.float32 if xp.finfo(dtype).bits < 32 else dtype
