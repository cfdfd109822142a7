"""A run's data read lazily with Dask (``slopekit train --workers N`` or ``--scheduler ADDRESS``).

The files of ``--data`` (`slopekit._data_parts`) become partitions of rows:
CSV through ``dask.dataframe.read_csv`` (blocks of `BLOCK_BYTES`), Parquet
through ``dask.dataframe.read_parquet``, a ``.npy`` file opened with
``numpy.load(mmap_mode="r")`` on the worker, `NPY_BLOCK_BYTES` of rows at a
time. Nothing is read whole in the caller; what comes back is small.

One pass over the partitions (`_summary`, added up by a tree of `_combine`
tasks on the workers) finds what the in-memory reader finds, with the same
messages: the first missing, infinite or too large value (a CSV's by its
line, through `slopekit._data_files`), the target's kind and distinct values
(from which `slopekit._targets.Target` decides the task and classes by the
same rule), and the training rows' count, mean, sum of squared deviations
(combined pairwise, Chan et al.), minimum and maximum per column, for the
scaling (`slopekit._scaling`) and a regression's standardised target.

The held-out split is per partition, so that it needs no pass to count rows
first: partition ``i`` holds a row out when a uniform draw of
``numpy.random.default_rng([seed, i])``, one per row in order, is below the
test fraction. The held-out share is then the fraction up to chance, and
the same files, seed and fraction give the same split, on any cluster.
Partitions depend on the files only (their sizes and `BLOCK_BYTES`), not on
the number of workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _data_files
from ._data_files import DataError
from ._data_parts import Parts

__all__ = ["BLOCK_BYTES", "LABEL_LIMIT", "NPY_BLOCK_BYTES", "SAMPLE_ROWS", "Split", "load"]

#: Bytes of a CSV file per partition (dask's ``blocksize``).
BLOCK_BYTES = 64 << 20

#: Bytes of a ``.npy`` array (as float64) per partition.
NPY_BLOCK_BYTES = 64 << 20

#: The most distinct target values kept while deciding the task: more are a regression (numbers), or
#: refused (text: a classifier on Dask takes at most this many classes).
LABEL_LIMIT = 1000

#: The most rows of each side brought into memory for the progress bar's score and the pictures.
SAMPLE_ROWS = 5000


# -- partitions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """One partition: the file it comes from and a delayed ``(X, y, missing)``.

    ``X`` is float64 ``(n, n_features)`` with NaN where a value is missing;
    ``y`` the target's values (int64, float64, bool or str); ``missing`` the
    first row whose target is missing (a Parquet null), or -1.
    """

    file: str
    rows: Any


def _partitions(found: Parts, features: list[str], target: str) -> list[_Part]:
    import dask

    if found.kind == ".npy":
        return _npy_partitions(found, features, target)
    read = dask.delayed(_from_frame, pure=True)
    parts = []
    for f in found.files:
        frame = _csv_frame(found, f, features, target) if found.kind == ".csv" else \
            _parquet_frame(f, features, target)
        parts += [_Part(f, read(block, features, target)) for block in frame.to_delayed()]
    return parts


def _csv_frame(found: Parts, path: str, features: list[str], target: str) -> Any:
    import dask.dataframe as dd

    types = {name: "float64" for name in features}
    types[target] = "str"
    missing = sorted(_data_files.MISSING | {m.upper() for m in _data_files.MISSING} |
                     {"", "NaN", "N/A", "NULL", "#N/A", "#NA", "-NaN", "#N/A N/A", "1.#IND", "1.#QNAN"})
    try:
        return dd.read_csv(path, sep=found.delimiter, names=found.columns, header=0, usecols=[*features, target],
                           dtype=types, keep_default_na=False, na_values={name: missing for name in features},
                           blocksize=BLOCK_BYTES, encoding="utf-8")
    except (ValueError, TypeError, UnicodeDecodeError) as exc:  # its first block is parsed here
        raise _ReadError(exc) from None


def _parquet_frame(path: str, features: list[str], target: str) -> Any:
    import dask.dataframe as dd

    _check_parquet_types(path, features, target)
    try:
        return dd.read_parquet(path, columns=[*features, target])
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others for a file that is not Parquet
        raise DataError(f"{path}: cannot read it as Parquet: {str(exc).splitlines()[0] if str(exc) else exc}") \
            from None


def _check_parquet_types(path: str, features: list[str], target: str) -> None:
    """The in-memory reader's refusals of a Parquet file's column types, from its schema."""
    pa, pq = _data_files.pyarrow_modules("parquet")
    schema = pq.read_schema(path)
    for name in features:
        kind = schema.field(name).type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
            raise DataError(f"{path}: column {name!r} is not numeric (it holds {kind}); every feature column "
                            "must hold numbers (encode categories as integers)")
    kind = schema.field(target).type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind)
            or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        raise DataError(f"{path}: target column {target!r} holds {kind}; expected numbers, text or true/false")


def _from_frame(frame: Any, features: list[str], target: str) -> tuple[np.ndarray, np.ndarray, int]:
    """A partition's features as float64 (NaN where missing) and its target's values."""
    import pandas as pd
    import pyarrow as pa

    X = frame[features].astype(np.float64).to_numpy(dtype=np.float64, na_value=np.nan)
    column = frame[target]
    nulls = np.flatnonzero(column.isna().to_numpy())
    missing = int(nulls[0]) if nulls.size else -1
    if missing >= 0:  # reported before the values are looked at
        return X, np.zeros(len(frame)), missing
    if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        y = column.to_numpy()
    else:  # text (a CSV's target is read as text): as the in-memory reader takes it
        y = _data_files.target_values(pa.array(column.astype(str).to_numpy(dtype=object), type=pa.string()))
    return X, y, -1


class _NpyRows:
    """Rows ``start:stop`` of a ``.npy`` file, read on the worker from a memory map (small to send)."""

    def __init__(self, path: str, start: int, stop: int, target: int):
        self.path, self.start, self.stop, self.target = path, start, stop, target

    def __call__(self) -> tuple[np.ndarray, np.ndarray, int]:
        array = np.load(self.path, mmap_mode="r", allow_pickle=False)
        block = np.asarray(array[self.start:self.stop], dtype=np.float64)
        if block.ndim == 1:
            block = block[:, None]
        y = block[:, self.target].copy()
        return np.delete(block, self.target, axis=1), y, -1


def _npy_partitions(found: Parts, features: list[str], target: str) -> list[_Part]:
    import dask

    from ._data_parts import npy_shape

    j = found.columns.index(target)
    parts = []
    for f in found.files:
        n, width = npy_shape(f)
        rows = max(1, NPY_BLOCK_BYTES // (8 * width))
        for start in range(0, n, rows):
            task = dask.delayed(_NpyRows(f, start, min(n, start + rows), j), pure=True)
            parts.append(_Part(f, task()))
    return parts


class _ReadError(Exception):
    """A partition could not be parsed (text where a number belongs, a line of the wrong width, ...)."""


# -- the pass over the data -----------------------------------------------------------------------


def _held_out(index: int, n: int, seed: int, fraction: float) -> np.ndarray:
    """Which of partition ``index``'s ``n`` rows are held out (a boolean mask)."""
    if fraction <= 0:
        return np.zeros(n, dtype=bool)
    return np.random.default_rng([seed, index]).random(n) < fraction


def _moments(X: np.ndarray) -> dict[str, Any]:
    n = X.shape[0]
    mean = X.mean(axis=0) if n else np.zeros(X.shape[1:])
    d = X - mean
    return {"count": n, "mean": mean, "m2": np.einsum("ij,ij->j", d, d) if X.ndim == 2 else d @ d}


def _summary(rows: tuple, index: int, seed: int, fraction: float, dtype: str) -> dict[str, Any]:
    """What one partition tells about the data: its size, its first problem, and its training rows'
    statistics (see the module's docstring)."""
    X, y, missing = rows
    n = X.shape[0]
    test = _held_out(index, n, seed, fraction)
    out: dict[str, Any] = {"parts": [(index, n, int(test.sum()))], "problem": None}
    bad = _data_files.bad_cell(X, dtype) if n else None
    if bad is not None:
        out["problem"] = (index, bad[0], bad[1])
        return out
    row = missing if missing >= 0 else _data_files.bad_target(y, dtype)
    if row is not None:
        out["problem"] = (index, int(row), -1)
        return out
    train = X[~test]
    out["X"] = {**_moments(train), "min": train.min(axis=0, initial=np.inf), "max": train.max(axis=0, initial=-np.inf)}
    labels = np.unique(y)
    kind = "f" if y.dtype.kind == "f" else "i" if y.dtype.kind in "iu" else y.dtype.kind
    out["labels"] = {kind: labels[:LABEL_LIMIT + 1]} if n else {}  # an empty part's dtype says nothing
    out["more"] = len(labels) > LABEL_LIMIT
    if kind in "if":
        out["y"] = _moments(y[~test].astype(np.float64))
    return out


def _merge_moments(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """Two sets of rows' count, mean and sum of squared deviations as one (Chan, Golub and LeVeque)."""
    if a is None or b is None:
        return a if b is None else b
    n = a["count"] + b["count"]
    if n == 0:
        return a
    delta = b["mean"] - a["mean"]
    out = {"count": n, "mean": a["mean"] + delta * (b["count"] / n),
           "m2": a["m2"] + b["m2"] + delta * delta * (a["count"] * b["count"] / n)}
    if "min" in a:
        out["min"], out["max"] = np.minimum(a["min"], b["min"]), np.maximum(a["max"], b["max"])
    return out


def _combine(*summaries: dict[str, Any]) -> dict[str, Any]:
    """Several partitions' summaries as one."""
    out: dict[str, Any] = {"parts": sorted(p for s in summaries for p in s["parts"]), "problem": None}
    problems = [s["problem"] for s in summaries if s["problem"] is not None]
    if problems:
        out["problem"] = min(problems)
        return out
    out["X"] = out["y"] = None
    labels: dict[str, list[np.ndarray]] = {}
    out["more"] = False
    for s in summaries:
        out["X"] = _merge_moments(out["X"], s["X"])
        out["y"] = _merge_moments(out["y"], s.get("y"))
        out["more"] |= s["more"]
        for kind, values in s["labels"].items():
            labels.setdefault(kind, []).append(values)
    out["labels"] = {}
    for kind, values in labels.items():
        merged = np.unique(np.concatenate(values))
        out["more"] |= len(merged) > LABEL_LIMIT
        out["labels"][kind] = merged[:LABEL_LIMIT + 1]
    return out


def _tree(nodes: list[Any], fan_in: int = 8) -> Any:
    import dask

    combine = dask.delayed(_combine, pure=True)
    while len(nodes) > 1:
        nodes = [combine(*nodes[i:i + fan_in]) for i in range(0, len(nodes), fan_in)]
    return nodes[0]


# -- the target -----------------------------------------------------------------------------------


def _label_kind(kinds: set[str]) -> str:
    """One kind for the target's values across partitions: numbers stay numbers, else text."""
    if len(kinds) == 1:
        return next(iter(kinds))
    return "f" if kinds <= {"i", "f"} else "U"


def _as_kind(y: np.ndarray, kind: str) -> np.ndarray:
    """``y`` as the target's one kind (``"i"``, ``"f"``, ``"b"`` or ``"U"``)."""
    if kind == "i":
        return y.astype(np.int64, copy=False)
    if kind == "f":
        return y.astype(np.float64, copy=False)
    if kind == "b" or y.dtype.kind == "U":
        return y
    return np.array([str(v).lower() if isinstance(v, (bool, np.bool_)) else str(v) for v in y.tolist()], dtype=str)


def _target(name: str, total: dict[str, Any], settings: Any, source: str) -> tuple[Any, str]:
    """The `Target` the summary's labels give (same rule as in memory), and the labels' kind."""
    from ._targets import Target, TargetError

    kind = _label_kind(set(total["labels"]))
    values = np.unique(np.concatenate([_as_kind(v, kind) for v in total["labels"].values()]))
    if total["more"] and (kind in "Ub" or settings.task == "classification"):
        raise DataError(f"{source}: target {name!r} has more than {LABEL_LIMIT} distinct values; on Dask a "
                        f"classifier takes at most {LABEL_LIMIT} classes")
    try:
        target = Target.infer(name, values, task=settings.task, output=settings.output)
    except TargetError as exc:
        raise DataError(f"{source}: {exc}") from None
    if total["more"] and target.task == "regression" and settings.task is None and kind == "i":
        target.reason = f"more than {LABEL_LIMIT} distinct whole numbers"
    if target.task == "regression" and settings.scale != "none":
        y = total["y"]
        std = math.sqrt(y["m2"] / y["count"]) if y["count"] else 0.0
        target.offset, target.scale = float(y["mean"]), std if std > 0 else 1.0
    return target, kind


# -- messages -------------------------------------------------------------------------------------


def _problem_message(found: Parts, parts: list[_Part], counts: list[tuple[int, int, int]], problem: tuple,
                     features: list[str], target: str, dtype: str) -> str:
    """The in-memory reader's message for the first bad value: partition ``index``, its row, its column."""
    index, local, j = problem
    f = parts[index].file
    row = local + sum(n for i, n, _ in counts if i < index and parts[i].file == f)  # the row within its file
    column = target if j < 0 else features[j]
    if found.kind == ".csv":
        return _data_files.cell_message(f, found.delimiter, found.columns, column, row, dtype)
    if found.kind == ".parquet":
        X, y, missing = parts[index].rows.compute()  # one partition
        if j < 0 and missing >= 0:
            return f"{f}: missing value in column {column!r} in row {row + 1}; fill it in or drop the row"
        cell = X[local, j] if j >= 0 else y[local]
        text = "" if j >= 0 and math.isnan(cell) else repr(float(cell)) if j >= 0 else str(cell)
        return _data_files.value_problem(text, column, f"in row {row + 1}", f, dtype) or f"{f}: bad value"
    X = np.load(f, mmap_mode="r", allow_pickle=False)
    k = found.columns.index(column)
    value = float(np.asarray(X[row]).reshape(-1)[k])
    if not (math.isnan(value) or math.isinf(value)):
        name = np.dtype(dtype).name
        hint = _data_files.TRAIN_DTYPE_HINT if name == "float32" else ""
        return (f"{f}: value {value:g} at row {row}, column {k} is too large for {name} "
                f"(at most {_data_files.value_limit(dtype):.4g}){hint}")
    what = "missing value (nan)" if math.isnan(value) else "infinite value"
    return f"{f}: {what} at row {row}, column {k}; values must be finite"


def _read_problem(found: Parts, features: list[str], dtype: str, exc: BaseException) -> str:
    """The message for a CSV that pandas could not parse: the in-memory reader's, from the first file that
    has a problem (each file scanned on the workers), else pandas' own first line."""
    import dask

    if found.kind == ".csv":
        scan = dask.delayed(_data_files.first_problem, pure=True)
        found_problems = dask.compute(*[scan(f, found.delimiter, found.columns, features, dtype)
                                        for f in found.files])
        for message in found_problems:
            if message:
                return message
    lines = [line for line in str(exc).splitlines() if line.strip()]
    reason = lines[-1].removeprefix("Original Message: ") if lines else type(exc).__name__
    return f"{found.path}: cannot read it: {reason}"


# -- the split arrays -----------------------------------------------------------------------------


def _side_features(rows: tuple, index: int, seed: int, fraction: float, test: bool, scaler: Any,
                   dtype: str) -> np.ndarray:
    X = rows[0]
    mask = _held_out(index, X.shape[0], seed, fraction)
    X = X[mask if test else ~mask]
    return scaler.transform(X, out=X).astype(dtype, copy=False)


def _side_target(rows: tuple, index: int, seed: int, fraction: float, test: bool, target: Any,
                 kind: str) -> np.ndarray:
    y = rows[1]
    mask = _held_out(index, y.shape[0], seed, fraction)
    return target.encode(_as_kind(y[mask if test else ~mask], kind))


@dataclass
class Split:
    """The training and held-out rows as Dask arrays, and what was decided from them."""

    X_train: Any
    y_train: Any
    X_test: Any
    y_test: Any
    features: list[str]
    target: Any
    scaler: Any


def load(settings: Any, found: Parts) -> Split:
    """Read ``found`` lazily, check it, decide the target and the scaling, and split it (see the module).

    Raises
    ------
    DataError
        With the in-memory reader's message for the same problem.
    """
    import dask
    import dask.array as da

    if found.kind == ".npz":
        raise DataError(f"{found.path}: a .npz archive is read whole into memory; leave out --workers and "
                        "--scheduler, or save its arrays as .npy (X with y as its last column)")
    j = _data_files.target_index(found.columns, settings.target, found.path)
    target_name = found.columns[j]
    features = [c for c in found.columns if c != target_name]
    dtype = settings.dtype
    try:
        parts = _partitions(found, features, target_name)
        summarise = dask.delayed(_summary, pure=True)
        total = dask.compute(_tree([summarise(p.rows, i, settings.seed, settings.test_fraction, dtype)
                                    for i, p in enumerate(parts)]))[0]
    except (_ReadError, ValueError, TypeError, UnicodeDecodeError) as exc:
        if isinstance(exc, DataError):
            raise
        cause = exc.args[0] if isinstance(exc, _ReadError) else exc
        raise DataError(_read_problem(found, features, dtype, cause)) from None
    counts = total["parts"]
    if total["problem"] is not None:
        raise DataError(_problem_message(found, parts, counts, total["problem"], features, target_name, dtype))
    n = sum(c[1] for c in counts)
    n_test = sum(c[2] for c in counts)
    if n == 0:
        raise DataError(f"{found.path}: no data rows")
    if n - n_test < 1 or (settings.test_fraction > 0 and n_test < 1):
        raise ValueError(f"--test-fraction {settings.test_fraction:g} of {n} rows leaves "
                         f"{n - n_test} for training and {n_test} held out; both need at least one")
    target, kind = _target(target_name, total, settings, found.path)
    scaler = _scaler(settings.scale, total["X"])
    sides = []
    for test in (False, True):
        features_of = dask.delayed(_side_features, pure=True)
        target_of = dask.delayed(_side_target, pure=True)
        X_blocks, y_blocks = [], []
        y_dtype = np.int64 if target.task == "classification" else np.float64
        for (i, rows, held_out), p in zip(counts, parts):
            m = held_out if test else rows - held_out
            if m == 0:
                continue
            args = (p.rows, i, settings.seed, settings.test_fraction, test)
            X_blocks.append(da.from_delayed(features_of(*args, scaler, dtype), (m, len(features)), dtype=dtype))
            y_blocks.append(da.from_delayed(target_of(*args, target, kind), (m,), dtype=y_dtype))
        if not X_blocks:  # no held-out rows (--test-fraction 0)
            X_blocks = [da.zeros((0, len(features)), dtype=dtype)]
            y_blocks = [da.zeros((0,), dtype=y_dtype)]
        sides.append((da.concatenate(X_blocks), da.concatenate(y_blocks)))
    (X_train, y_train), (X_test, y_test) = sides
    return Split(X_train, y_train, X_test, y_test, features, target, scaler)


def _scaler(kind: str, stats: dict[str, Any]) -> Any:
    """The `Scaler` of ``kind`` from the training rows' statistics (what `Scaler.fit` computes in memory)."""
    from ._scaling import Scaler

    if kind == "none":
        return Scaler("none")
    if kind == "standard":
        offset, width = stats["mean"], np.sqrt(stats["m2"] / stats["count"])
    else:
        offset, width = stats["min"], stats["max"] - stats["min"]
    width = np.where(width > 0, width, 1.0)
    return Scaler(kind, np.asarray(offset, dtype=np.float64).tolist(), width.tolist())


def keep(split: Split, budget: int) -> str:
    """Persist ``split``'s arrays in the workers' memory when they take at most ``budget`` bytes (else every
    pass reads the files again); returns a phrase for the user saying which."""
    import dask

    arrays = (split.X_train, split.y_train, split.X_test, split.y_test)
    size = sum(a.nbytes for a in arrays)
    if size > budget:
        return (f"read from the files on every pass ({_bytes(size)}, more than half of the workers' memory, "
                f"{_bytes(2 * budget)})")
    split.X_train, split.y_train, split.X_test, split.y_test = dask.persist(*arrays)
    return f"held in the workers' memory ({_bytes(size)} of {_bytes(2 * budget)})"


def _bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def sample(X: Any, y: Any, rows: int = SAMPLE_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """About ``rows`` evenly spaced rows of Dask arrays ``X`` and ``y``, in memory (every k-th row)."""
    import dask

    step = max(1, math.ceil(X.shape[0] / rows))
    return dask.compute(X[::step], y[::step])
