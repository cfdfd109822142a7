"""Which array library an argument comes from, and moving arrays between libraries and devices.

A `slopekit.Network` keeps its parameters in one library on one device; this
module tells the network what a caller passed (`library_of`), turns a
library's floating dtypes into names and back (`dtype_name`, `dtype_of`),
and moves arrays: to NumPy (`to_numpy`) and from NumPy to another library
(`from_numpy`). NumPy itself is represented by ``None`` as the namespace, as
in `slopekit._arrays`; everything else by its ``array_api_compat`` namespace.
Nothing here imports a library the caller has not already imported.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np

#: The floating dtypes a network may have, by name, narrowest first.
FLOAT_NAMES = ("float16", "bfloat16", "float32", "float64")


def _compat():
    import array_api_compat

    return array_api_compat


def is_dask(x: Any) -> bool:
    """Whether ``x`` is a Dask array (checked without importing Dask)."""
    dask_array = sys.modules.get("dask.array")
    return dask_array is not None and isinstance(x, dask_array.Array)


def library_of(x: Any, who: str, argname: str) -> Any:
    """The namespace of an array argument: None for NumPy (and lists, scalars), else its array-API namespace.

    Raises
    ------
    TypeError
        For a Dask array (a network trains on arrays in memory; Dask would be
        computed whole) and for objects that are not arrays of any library.
    """
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int, float, bool)):
        return None
    if is_dask(x):
        raise TypeError(f"{who}: {argname} is a Dask array; a Network trains on arrays held in memory and would "
                        f"compute it whole. Call {argname}.compute() if it fits in memory")
    compat = _compat()
    try:
        xp = compat.array_namespace(x)
    except TypeError:
        return None  # something NumPy may still convert (a pandas DataFrame, a memoryview): checked there
    return None if compat.is_numpy_namespace(xp) else xp


def library_name(xp: Any) -> str:
    """A short name for messages: ``"numpy"``, ``"torch"``, ``"jax"``, ``"cupy"``, ``"array_api_strict"``."""
    if xp is None:
        return "numpy"
    name = getattr(xp, "__name__", type(xp).__name__)
    for known in ("torch", "cupy", "jax", "array_api_strict", "dask"):
        if known in name:
            return known
    return name


def same_library(a: Any, b: Any) -> bool:
    """Whether two namespaces (None for NumPy) are the same library."""
    return library_name(a) == library_name(b)


def device_of(x: Any, xp: Any) -> Any:
    """The device of an array (None for NumPy)."""
    return None if xp is None else _compat().device(x)


def device_kind(device: Any) -> str | None:
    """``"cuda"``, ``"cpu"``, ``"meta"``, ... for a device of any library (or its name); None for None."""
    if device is None:
        return None
    kind = getattr(device, "type", None)
    return str(kind if kind is not None else device).split(":")[0].lower()


def detach(x: Any, xp: Any) -> Any:
    """``x`` without an autograd graph (a PyTorch tensor that requires grad); other arrays as they are."""
    if xp is not None and getattr(x, "requires_grad", False):
        return x.detach()
    return x


def dtype_name(dtype: Any) -> str:
    """The name of a floating dtype of any library: ``"float32"`` for ``numpy.float32`` or ``torch.float32``."""
    text = str(dtype).rsplit(".", 1)[-1].strip("'>")
    if text.startswith("dtype("):  # numpy's repr: dtype('float32')
        text = text[7:-2]
    return text


def dtype_of(name: str, xp: Any) -> Any:
    """The dtype called ``name`` in the library ``xp`` (NumPy for None).

    Raises
    ------
    ValueError
        If the library has no such floating dtype (NumPy has no bfloat16).
    """
    if xp is None:
        if name == "bfloat16":
            raise ValueError("dtype bfloat16 does not exist in NumPy; use float16, float32 or float64, "
                             "or move the network to a library that has it (net.to(torch_tensor))")
        return np.dtype(name)
    dtype = getattr(xp, name, None)
    if dtype is None and library_name(xp) == "torch":
        import torch

        dtype = getattr(torch, name, None)
    if dtype is None:
        raise ValueError(f"dtype {name} does not exist in {library_name(xp)}")
    return dtype


def check_dtype_available(xp: Any, dtype: Any, name: str) -> None:
    """Raise ValueError if ``xp`` silently makes arrays of another dtype than ``dtype`` (JAX without x64)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # JAX warns, then truncates float64 to float32
        probe = xp.zeros(1, dtype=dtype)
    if dtype_name(probe.dtype) != name:
        hint = " (JAX: set jax.config.update('jax_enable_x64', True))" if library_name(xp) == "jax" else ""
        raise ValueError(f"{library_name(xp)} makes {dtype_name(probe.dtype)} arrays when asked for {name} "
                         f"here{hint}; pass dtype='float32' or enable {name}")


def to_numpy(x: Any, xp: Any) -> np.ndarray:
    """A NumPy copy (or view) of an array of any library, brought to the host.

    bfloat16, which NumPy lacks, comes back as float32 (exactly).
    """
    if xp is None:
        return np.asarray(x)
    name = library_name(xp)
    if name == "torch":
        import torch

        t = x.detach()
        if t.dtype == torch.bfloat16:
            t = t.float()
        return t.cpu().numpy()
    if name == "cupy":
        return x.get()
    try:
        return np.asarray(x)
    except (TypeError, ValueError, RuntimeError):
        return np.from_dlpack(x)


def from_numpy(x: np.ndarray, xp: Any, device: Any = None, dtype: Any = None) -> Any:
    """The NumPy array ``x`` as an array of ``xp`` on ``device``, optionally converted to ``dtype``."""
    if xp is None:
        return np.array(x, dtype=dtype, copy=True)
    name = library_name(xp)
    if name == "torch":
        import torch

        t = torch.from_numpy(np.ascontiguousarray(x))
        return t.to(device=device, dtype=dtype, copy=True)
    arr = xp.asarray(x, device=device) if device is not None else xp.asarray(x)
    return arr if dtype is None else xp.astype(arr, dtype)


def copy(x: Any, xp: Any) -> Any:
    """A copy of an array of the namespace ``xp``, on its device."""
    if xp is None:
        return np.array(x, copy=True)
    if library_name(xp) == "torch":
        return x.detach().clone()
    return xp.asarray(x, copy=True)


def is_namespace(like: Any) -> bool:
    """Whether ``like`` is an array namespace or module (``numpy``, ``torch``, ``jax.numpy``), not an array."""
    if like is np:
        return True
    # a module is one even with a shape function (jax.numpy); an array has no __name__
    return hasattr(like, "__name__") and hasattr(like, "asarray") and (
        isinstance(like, types.ModuleType) or not hasattr(like, "shape"))


#: The libraries `namespace` takes by name, with the module each name imports.
LIBRARY_MODULES = {"numpy": "numpy", "torch": "torch", "cupy": "cupy", "jax": "jax.numpy",
                   "array_api_strict": "array_api_strict"}


def namespace(like: Any) -> Any:
    """The namespace (None for NumPy) of ``like``: an array of some library, a namespace or module, or a name.

    Raises
    ------
    TypeError
        For anything else (None, a number, an unknown name).
    ValueError
        For the name of a library that is not installed.
    """
    if like is np:
        return None
    if isinstance(like, str):
        key = like.strip().lower().replace("-", "_")
        if key not in LIBRARY_MODULES:
            raise TypeError(f"to: unknown library {like!r}; name one of {', '.join(LIBRARY_MODULES)}, or pass "
                            "an array of the library or its namespace")
        import importlib

        try:
            like = importlib.import_module(LIBRARY_MODULES[key])
        except ImportError:
            raise ValueError(f"to: {like!r} is not installed here") from None
        if like is np:
            return None
    if like is None or isinstance(like, (bool, int, float, complex, list, tuple)):
        raise TypeError(f"to: like must be an array or an array namespace (numpy, torch, ...) or a library's "
                        f"name, got {type(like).__name__} {like!r}")
    compat = _compat()
    if is_namespace(like):
        name = like.__name__
        if name in ("jax.numpy",):  # before NumPy's check, which its name would pass
            return compat.array_namespace(like.zeros(1))
        if "numpy" in name and "compat" not in name and "strict" not in name:
            return None
        if name == "torch":
            import array_api_compat.torch as xp_torch

            return xp_torch
        if name == "cupy":
            import array_api_compat.cupy as xp_cupy

            return xp_cupy
        return like
    return library_of(like, "to", "like")
