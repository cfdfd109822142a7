"""`Network.save` and `Network.load`: one ``.npz`` of plain arrays plus JSON metadata, never a pickle.

The file is a NumPy ``.npz`` archive holding

* ``metadata``: UTF-8 JSON text stored as a 1-D ``uint8`` array, with the keys
  of `_FIELDS` (format name and version, architecture, dtype, seed, init,
  training history);
* ``W1, b1, W2, b2, ...``: the parameters, in the network's dtype.

It is written to a temporary file in the target's directory, flushed to disk
and renamed over the target (`os.replace`, atomic on POSIX and Windows), so a
reader sees the old file or the new one, never half of one. Reading uses
``allow_pickle=False`` and validates everything before building the network.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
import zipfile
import zlib
from typing import Any

import numpy as np

from . import _backends, _flat
from ._atomic import replacing
from .activations import get

FORMAT = "slopekit.Network"
VERSION = 1
_META = "metadata"
_FIELDS = ("format", "version", "layer_sizes", "hidden", "output", "dtype", "seed", "init", "history", "info")
_OPTIONAL = ("info",)  # files written before it was added have no "info"
_READ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError, RuntimeError)


# -- writing ----------------------------------------------------------------------------------


def _activation_spec(g: Any) -> dict[str, Any]:
    """``{"name": ..., "params": {...}}`` from which `slopekit.get` rebuilds ``g`` exactly."""
    params = {f.name: getattr(g, f.name) for f in dataclasses.fields(g)} if dataclasses.is_dataclass(g) else None
    try:
        rebuilt = get(g.name, **params) if params is not None else None
    except (TypeError, ValueError):
        rebuilt = None
    if rebuilt is None or type(rebuilt) is not type(g) or rebuilt != g:
        raise ValueError(f"save: cannot save the activation {g!r}: it is not one slopekit.get can rebuild "
                         "from its name and parameters")
    return {"name": g.name, "params": params}


def _info(info: Any) -> dict[str, Any]:
    """``net.info`` checked to be JSON: a dict with string keys, finite numbers only."""
    if not isinstance(info, dict):
        raise ValueError(f"save: info must be a dict, got {type(info).__name__}")
    try:
        json.dumps(info, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"save: info must hold JSON data only (str keys; str, finite numbers, bool, None, "
                         f"lists and dicts): {exc}") from None
    return info


def _host_dtype_name(dtype: Any) -> str:
    """The name of the NumPy dtype a network's parameters are saved in (bfloat16: float32, exactly)."""
    name = _backends.dtype_name(dtype)
    return "float32" if name == "bfloat16" else name


def _metadata(net: Any) -> bytes:
    history = net.history
    if not isinstance(history, list) or not all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) for v in history
    ):
        raise ValueError("save: history must be a list of finite numbers (the loss of each epoch)")
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "layer_sizes": list(net.layer_sizes),
        "hidden": [_activation_spec(g) for g in net.hidden],
        "output": net.output,
        "dtype": _host_dtype_name(net.dtype),
        "seed": net.seed,
        "init": net.init,
        "history": [float(v) for v in history],
        "info": _info(net.info),
    }
    return json.dumps(meta, allow_nan=False, separators=(",", ":")).encode("utf-8")


def save(net: Any, path: str | os.PathLike) -> None:
    """Write ``net`` to ``path`` atomically (see the module's docstring)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: cannot write {path!r}: the folder {directory!r} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: cannot write {path!r}: it is a folder; give a file name such as model.npz")
    arrays = {_META: np.frombuffer(_metadata(net), dtype=np.uint8)}
    host = {name: _backends.to_numpy(p, _backends.library_of(p, "save", name)) for name, p in net.parameters().items()}
    arrays.update(host)
    with replacing(path, "wb") as f:
        np.savez(f, **arrays)


# -- reading ----------------------------------------------------------------------------------


class _Corrupt(ValueError):
    pass


def _reject_constant(name: str) -> None:
    raise _Corrupt(f"the metadata holds {name}, which is not a number")


def _read_array(archive: Any, name: str) -> np.ndarray:
    try:
        arr = archive[name]
    except _READ_ERRORS as exc:  # object arrays (allow_pickle=False), CRC errors, truncation
        raise _Corrupt(f"array {name!r} cannot be read: {exc}") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.hasobject:
        raise _Corrupt(f"array {name!r} is not a plain numeric array")
    return arr


def _read_metadata(arr: np.ndarray) -> dict[str, Any]:
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise _Corrupt(f"{_META!r} must be a 1-D uint8 array of UTF-8 JSON, got {arr.dtype} of shape {arr.shape}")
    try:
        meta = json.loads(arr.tobytes().decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _Corrupt(f"{_META!r} is not UTF-8 JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise _Corrupt(f"{_META!r} must be a JSON object, got {type(meta).__name__}")
    if meta.get("format") != FORMAT:
        raise _Corrupt(f"not a saved slopekit network (format {meta.get('format')!r}, expected {FORMAT!r})")
    if meta.get("version") != VERSION:
        raise _Corrupt(f"format version {meta.get('version')!r}; this slopekit reads version {VERSION}")
    missing = [k for k in _FIELDS if k not in meta and k not in _OPTIONAL]
    unexpected = sorted(k for k in meta if k not in _FIELDS)
    if missing or unexpected:
        raise _Corrupt(f"metadata fields: missing {missing}, unexpected {unexpected}")
    return meta


def _hidden_from(specs: Any) -> list[Any]:
    if not isinstance(specs, list):
        raise _Corrupt("'hidden' must be a list of activations")
    result = []
    for spec in specs:
        if not (isinstance(spec, dict) and set(spec) == {"name", "params"} and isinstance(spec["name"], str)
                and isinstance(spec["params"], dict)):
            raise _Corrupt(f"each hidden activation must be {{'name': str, 'params': {{...}}}}, got {spec!r}")
        try:
            result.append(get(spec["name"], **spec["params"]))
        except (TypeError, ValueError) as exc:
            raise _Corrupt(f"unknown or invalid activation {spec!r}: {exc}") from None
    return result


def _history_from(history: Any) -> list[float]:
    if not isinstance(history, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in history
    ):
        raise _Corrupt("'history' must be a list of finite numbers")
    return [float(v) for v in history]


def _build(cls: type, archive: Any) -> Any:
    names = list(archive.files)
    if _META not in names:
        raise _Corrupt(f"no {_META!r} array: not a saved slopekit network")
    meta = _read_metadata(_read_array(archive, _META))
    if meta["dtype"] not in ("float16", "float32", "float64"):
        raise _Corrupt(f"dtype must be 'float16', 'float32' or 'float64', got {meta['dtype']!r}")
    if not isinstance(meta["layer_sizes"], list) or (meta["init"] is not None and not isinstance(meta["init"], str)):
        raise _Corrupt("'layer_sizes' must be a list and 'init' a string or null")
    if not isinstance(meta["seed"], int) or isinstance(meta["seed"], bool):
        raise _Corrupt(f"'seed' must be an integer, got {meta['seed']!r}")
    sizes = meta["layer_sizes"]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes) or len(sizes) < 2:
        raise _Corrupt(f"invalid architecture: layer_sizes must be at least 2 positive integers, got {sizes!r}")
    expected = [f"{p}{l}" for l in range(1, len(sizes)) for p in "Wb"]
    missing = [k for k in expected if k not in names]
    unexpected = sorted(k for k in names if k not in expected and k != _META)
    if missing or unexpected:
        raise _Corrupt(f"arrays: missing {missing}, unexpected {unexpected} (expected {expected})")
    itemsize = np.dtype(meta["dtype"]).itemsize
    params = {}
    for name, shape in zip(expected, _flat.shapes_of(sizes)):  # checked before the network allocates any
        arr = _read_array(archive, name)
        if arr.dtype.kind != "f" or arr.dtype.itemsize != itemsize:
            raise _Corrupt(f"array {name!r} has dtype {arr.dtype}, expected {meta['dtype']}")
        if arr.shape != shape:
            raise _Corrupt(f"array {name!r} has shape {arr.shape}, expected {shape}")
        if not np.isfinite(arr).all():
            raise _Corrupt(f"array {name!r} contains NaN or infinity")
        params[name] = arr
    hidden = _hidden_from(meta["hidden"])
    try:
        net = cls(sizes, hidden, meta["output"], dtype=meta["dtype"], seed=meta["seed"], init=meta["init"])
    except (TypeError, ValueError) as exc:
        raise _Corrupt(f"invalid architecture: {exc}") from None
    history = _history_from(meta["history"])
    net.set_parameters(params)  # copies into the network's dtype (native byte order, C order)
    net.history = history
    info = meta.get("info", {})
    if not isinstance(info, dict):
        raise _Corrupt(f"'info' must be a JSON object, got {type(info).__name__}")
    net.info = info
    return net


def load(cls: type, path: str | os.PathLike) -> Any:
    """Read a network written by `save` (see the module's docstring)."""
    where = os.fspath(path)
    with open(where, "rb") as f:
        try:
            archive = np.load(f, allow_pickle=False)
        except _READ_ERRORS as exc:
            # NumPy's own message for a non-.npz file suggests allow_pickle: never the advice here.
            detail = "not a .npz archive" if "pickle" in str(exc) else str(exc)
            raise ValueError(f"load: {where!r} is not a saved slopekit network ({detail})") from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"load: {where!r} holds a single array, not a saved slopekit network (.npz)")
        with archive:
            try:
                return _build(cls, archive)
            except _Corrupt as exc:
                raise ValueError(f"load: {where!r}: {exc}") from None
