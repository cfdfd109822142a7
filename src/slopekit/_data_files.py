"""Training data for the command line: a built-in dataset by name, or a CSV, ``.npy`` or ``.npz`` file.

Every problem with a file is a `DataError` whose message names the file and
says what would be right; the command line prints it as one line.
"""

from __future__ import annotations

import csv
import math
import os
import zipfile
from typing import Any

import numpy as np

__all__ = ["DATASETS", "DataError", "Table", "dataset", "infer_output", "prediction_table", "read_features",
           "read_labelled"]

#: The names ``--dataset`` accepts, and the `slopekit.datasets` function of each.
DATASETS = {
    "flower": "planar_flower",
    "moons": "moons",
    "circles": "circles",
    "spirals": "spirals",
    "xor": "xor",
}

_FORMATS = (".csv", ".npy", ".npz")


class DataError(ValueError):
    """A data file that cannot be used, or a column that does not exist."""


class Table:
    """Numeric columns with names: ``values`` of shape ``(n_rows, n_columns)``, float64."""

    def __init__(self, columns: list[str], values: np.ndarray):
        self.columns, self.values = columns, values

    def column(self, name: str, path: str) -> int:
        """The index of the column called ``name``."""
        if name in self.columns:
            return self.columns.index(name)
        shown = ", ".join(self.columns[:12]) + (", ..." if len(self.columns) > 12 else "")
        raise DataError(f"{path}: unknown target column {name!r}; the columns are: {shown}")


def dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The built-in dataset ``name`` (a key of `DATASETS`) with its default size and seed.

    Examples
    --------
    >>> from slopekit._data_files import dataset
    >>> X, y = dataset("flower")
    >>> X.shape, sorted(set(y.tolist()))
    ((400, 2), [0, 1])
    """
    from . import datasets

    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    return getattr(datasets, DATASETS[name])()


def _number(cell: str, column: str, line: int, path: str) -> float:
    text = cell.strip()
    if not text:
        raise DataError(f"{path}: missing value in column {column!r} on line {line}; fill it in or drop the row")
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{path}: column {column!r} is not numeric: line {line} has {text!r}; "
                        "every column must hold numbers (encode categories as integers)") from None
    if math.isnan(value):
        raise DataError(f"{path}: missing value ({text!r}) in column {column!r} on line {line}; "
                        "fill it in or drop the row")
    if math.isinf(value):
        raise DataError(f"{path}: infinite value in column {column!r} on line {line}; values must be finite")
    return value


def _read_csv(path: str) -> Table:
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise DataError(f"{path}: the file is empty; expected a header row of column names, then rows of numbers")
    header = [cell.strip() for cell in rows[0]]
    try:
        [float(cell) for cell in header]
    except ValueError:
        pass
    else:
        raise DataError(f"{path}: the first row must be a header of column names, got the numbers {rows[0]!r}")
    if len(set(header)) != len(header) or not all(header):
        raise DataError(f"{path}: the header needs distinct, non-empty column names, got {header!r}")
    if len(rows) < 2:
        raise DataError(f"{path}: no data rows below the header")
    values = np.empty((len(rows) - 1, len(header)))
    for i, row in enumerate(rows[1:]):
        line = i + 2
        if len(row) != len(header):
            raise DataError(f"{path}: line {line} has {len(row)} cells but the header has {len(header)}")
        values[i] = [_number(cell, column, line, path) for cell, column in zip(row, header)]
    return Table(header, values)


def _matrix(array: np.ndarray, what: str) -> np.ndarray:
    if array.dtype.kind not in "biuf":
        raise DataError(f"{what}: expected a numeric array, got dtype {array.dtype}")
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0:
        raise DataError(f"{what}: expected a 2-D array (n_samples, n_columns), got shape {array.shape}")
    if not np.isfinite(array).all():
        row = int(np.argwhere(~np.isfinite(array))[0][0])
        raise DataError(f"{what}: missing or infinite value in row {row}; values must be finite")
    return array


def _read_npz(path: str) -> Table | tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as f, np.load(f, allow_pickle=False) as archive:
        keys = list(archive.keys())
        if "X" in keys and "y" in keys:
            X, y = _matrix(archive["X"], f"{path}[X]"), _matrix(archive["y"], f"{path}[y]")
            if y.shape[1] != 1 or y.shape[0] != X.shape[0]:
                raise DataError(f"{path}: y must have one value per row of X ({X.shape[0]}), got shape "
                                f"{archive['y'].shape}")
            return X, y[:, 0]
        if len(keys) != 1:
            raise DataError(f"{path}: expected arrays 'X' and 'y', or a single array, got {keys}")
        values = _matrix(archive[keys[0]], path)
    return Table([str(j) for j in range(values.shape[1])], values)


def _read(path: str) -> Table | tuple[np.ndarray, np.ndarray]:
    ext = os.path.splitext(path)[1].lower()
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory; expected a {', '.join(_FORMATS)} file")
    if ext not in _FORMATS:
        raise DataError(f"{path}: unsupported file type {ext or '(none)'!r}; expected {', '.join(_FORMATS)}")
    try:
        if ext == ".csv":
            return _read_csv(path)
        if ext == ".npz":
            return _read_npz(path)
        with open(path, "rb") as f:
            values = _matrix(np.load(f, allow_pickle=False), path)
        return Table([str(j) for j in range(values.shape[1])], values)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a {ext} file") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file; expected CSV with a header row") from None
    except DataError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: cannot read it as {ext}: {reason}") from None


def read_labelled(path: str, target: str | None) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """Features and target from a file: ``(X, y, feature_names, target_name)``.

    Parameters
    ----------
    path : str
        A CSV file with a header row, a ``.npy`` 2-D array, or a ``.npz``
        holding ``X`` and ``y`` (or one 2-D array).
    target : str or None
        The target column: a header name for CSV, an index for arrays; None
        takes the last column. Ignored (must be None) for ``.npz`` with ``X``
        and ``y``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), float64
    feature_names : list of str
    target_name : str
    """
    data = _read(path)
    if isinstance(data, tuple):
        if target not in (None, "y"):
            raise DataError(f"{path}: holds arrays X and y, so --target must be omitted, got {target!r}")
        X, y = data
        return X, y, [str(j) for j in range(X.shape[1])], "y"
    if len(data.columns) < 2:
        raise DataError(f"{path}: needs at least two columns (features and a target), got {len(data.columns)}")
    j = len(data.columns) - 1 if target is None else data.column(target, path)
    features = [c for i, c in enumerate(data.columns) if i != j]
    return np.delete(data.values, j, axis=1), data.values[:, j].copy(), features, data.columns[j]


def read_features(path: str, n_features: int, target: str | None = None) -> tuple[np.ndarray, list[str]]:
    """The ``n_features`` feature columns of a file, to predict on.

    A ``target`` column, if named, is dropped; a file with exactly
    ``n_features`` columns is used as it is.
    """
    data = _read(path)
    if isinstance(data, tuple):
        X = data[0]
        names = [str(j) for j in range(X.shape[1])]
    else:
        X, names = data.values, list(data.columns)
        if target is not None:
            j = data.column(target, path)
            X, names = np.delete(X, j, axis=1), names[:j] + names[j + 1:]
    if X.shape[1] != n_features:
        hint = (" (name the target column to leave out with --target)" if X.shape[1] == n_features + 1 else "")
        raise DataError(f"{path}: has {X.shape[1]} feature columns but the model takes {n_features}{hint}")
    return X, names


def prediction_table(net: Any, X: np.ndarray, names: list[str]) -> str:
    """CSV text: a header, then per row of ``X`` its features, the prediction and each class's probability.

    Numbers are written with `repr`, the shortest text that reads back as
    the same float.

    Examples
    --------
    >>> import slopekit
    >>> from slopekit._data_files import prediction_table
    >>> net = slopekit.Network([1, 1]).set_parameters({"W1": [[2.0]], "b1": [0.0]})
    >>> print(prediction_table(net, np.array([[0.0], [1.0]]), ["u"]), end="")
    u,prediction,probability_0,probability_1
    0.0,0,0.5,0.5
    1.0,1,0.11920292202211755,0.8807970779778824
    """
    predictions = net.predict(X)
    if net.output == "identity":
        columns = predictions.reshape(len(X), -1)
        header = ["prediction"] if columns.shape[1] == 1 else [f"prediction_{j}" for j in range(columns.shape[1])]
        cells = [[repr(float(v)) for v in row] for row in columns]
    else:
        proba = net.predict_proba(X)
        header = ["prediction"] + [f"probability_{j}" for j in range(proba.shape[1])]
        cells = [[str(int(c)), *(repr(float(p)) for p in row)] for c, row in zip(predictions, proba)]
    lines = [",".join([*names, *header])]
    lines += [",".join([*(repr(float(x)) for x in features), *row]) for features, row in zip(X, cells)]
    return "\n".join(lines) + "\n"


def infer_output(y: np.ndarray) -> str:
    """The output activation a target calls for: labels 0/1 sigmoid, labels 0..k-1 softmax, else identity.

    Examples
    --------
    >>> import numpy as np
    >>> from slopekit._data_files import infer_output
    >>> infer_output(np.array([0., 1., 1.])), infer_output(np.array([0., 2., 1.])), infer_output(np.array([0.5, 2.]))
    ('sigmoid', 'softmax', 'identity')
    """
    y = np.asarray(y, dtype=np.float64)
    if y.size and np.array_equal(y, np.round(y)) and y.min() >= 0:
        k = int(y.max()) + 1
        if k <= 2:
            return "sigmoid"
        if len(np.unique(y)) == k:
            return "softmax"
    return "identity"


def labels(y: np.ndarray, output: str) -> Any:
    """``y`` as int64 class labels for a classifier, or float64 for ``"identity"``."""
    return np.asarray(y, dtype=np.float64) if output == "identity" else np.asarray(y).astype(np.int64)
