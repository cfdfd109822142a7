r"""A network's predictions, loss and score over row blocks, so that memory stays bounded on large tables.

`Network.predict` and friends allocate every layer's activations for every
row at once: on 2,000,000 rows that is more than the training itself needs.
The command line evaluates through these functions instead, `ROWS` rows at a
time; each returns what the network's own method returns on all rows (the
loss as the row-weighted mean of the blocks' mean losses).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["ROWS", "confusion", "loss", "predict", "predict_proba", "score"]

#: Rows per block.
ROWS = 65_536


def _blocks(n: int, rows: int) -> Iterator[slice]:
    for start in range(0, n, rows):
        yield slice(start, min(start + rows, n))


def _joined(method: Callable[[np.ndarray], np.ndarray], X: np.ndarray, rows: int) -> np.ndarray:
    if X.shape[0] <= rows:
        return method(X)
    parts = [method(X[s]) for s in _blocks(X.shape[0], rows)]
    return np.concatenate(parts)


def predict(net: Any, X: np.ndarray, rows: int = ROWS) -> np.ndarray:
    """``net.predict(X)``, block by block."""
    return _joined(net.predict, X, rows)


def predict_proba(net: Any, X: np.ndarray, rows: int = ROWS) -> np.ndarray:
    """``net.predict_proba(X)``, block by block."""
    return _joined(net.predict_proba, X, rows)


def loss(net: Any, X: np.ndarray, y: np.ndarray, rows: int = ROWS) -> float:
    """``net.loss(X, y)``: the mean over blocks of their mean losses, weighted by their rows."""
    total = 0.0
    for s in _blocks(X.shape[0], rows):
        total += net.loss(X[s], y[s]) * (s.stop - s.start)
    return total / X.shape[0]


def score(net: Any, X: np.ndarray, y: np.ndarray, rows: int = ROWS) -> float:
    r"""``net.score(X, y)``: accuracy for a classifier; :math:`R^2` for ``output="identity"``.

    :math:`R^2 = 1 - \sum (y - \hat y)^2 / \sum (y - \bar y)^2` in float64
    (1 for a constant ``y`` predicted exactly, else 0 when
    :math:`\sum (y - \bar y)^2 = 0`), as `Network.score`.
    """
    predictions = predict(net, X, rows)
    if net.output != "identity":
        return float(np.mean(predictions == np.asarray(y).reshape(predictions.shape)))
    y64 = np.asarray(y, dtype=np.float64).reshape(predictions.shape)
    residual = float(((y64 - predictions.astype(np.float64)) ** 2).sum())
    total = float(((y64 - y64.mean()) ** 2).sum())
    if total > 0:
        return 1.0 - residual / total
    return 1.0 if residual == 0 else 0.0


def confusion(truth: np.ndarray, predictions: np.ndarray, k: int) -> np.ndarray:
    """The ``(k, k)`` int64 counts: row = true class, column = predicted class (scikit-learn's layout)."""
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (np.asarray(truth, dtype=np.int64), np.asarray(predictions, dtype=np.int64)), 1)
    return counts
