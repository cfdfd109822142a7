"""A network's loss over row blocks, so that memory stays bounded on large tables; confusion counts.

`Network.loss` allocates every layer's activations for every row at once: on
2,000,000 rows that is more than the training itself needs. The command line
takes the loss through `loss` instead, `ROWS` rows at a time: the row-weighted
mean of the blocks' mean losses. (`Network.predict`, `predict_proba` and
`score` work in row blocks themselves.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from . import _backends

__all__ = ["ROWS", "confusion", "loss"]

#: Rows per block.
ROWS = 65_536


def _blocks(n: int, rows: int) -> Iterator[slice]:
    for start in range(0, n, rows):
        yield slice(start, min(start + rows, n))


def loss(net: Any, X: np.ndarray, y: np.ndarray, rows: int = ROWS) -> float:
    """``net.loss(X, y)``: the mean over blocks of their mean losses, weighted by their rows.

    Dask arrays go to ``net.loss`` whole: it computes chunk by chunk on the
    workers.
    """
    if _backends.is_dask(X):
        return float(net.loss(X, y))
    total = 0.0
    for s in _blocks(X.shape[0], rows):
        total += net.loss(X[s], y[s]) * (s.stop - s.start)
    return total / X.shape[0]


def confusion(truth: np.ndarray, predictions: np.ndarray, k: int) -> np.ndarray:
    """The ``(k, k)`` int64 counts: row = true class, column = predicted class (scikit-learn's layout).

    For Dask arrays, counted on the workers (only the counts come back).
    """
    if _backends.is_dask(truth) or _backends.is_dask(predictions):
        import dask.array as da

        cells = da.asarray(truth).astype(np.int64) * k + da.asarray(predictions).astype(np.int64)
        return da.bincount(cells, minlength=k * k).compute().reshape(k, k).astype(np.int64)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (np.asarray(truth, dtype=np.int64), np.asarray(predictions, dtype=np.int64)), 1)
    return counts
