"""`slopekit.Network` on Dask arrays: training, losses and predictions chunk by chunk, never whole in the caller.

Dask splits a large array into chunks of rows; this module sends the work to
the chunks and only small things back: the network's parameters travel to
the workers once per pass (a flat array and the architecture, never the
`Network` object), and what comes back is a sum of losses and one flat array
of gradients per pass, or one chunk of rows at a time for mini-batches.
Everything runs on the current Dask scheduler: the `distributed.Client`
made last, when there is one, else Dask's default (threads).

- Full batch (`Chunks.totals`): each chunk's ``loss_and_gradients(...,
  reduction="sum")`` on the worker that holds it, added up in float64 by a
  tree of additions with a fixed shape (so the result does not depend on
  which worker finishes first). `slopekit._training.NumpyTraining` divides by
  :math:`n` and steps in the caller, and L-BFGS (`slopekit._lbfgs`) uses the
  same sums.
- Mini-batches (`Chunks.fetch`): chunk after chunk in the order the
  training draws; the next chunk is computed while the current one trains.
- Predictions (`predict`): lazy, one task per chunk (``map_blocks``).

On a worker each chunk is checked by the same `Network` methods as in
memory, so bad data raises the same errors, and slopekit's own thread pool
stays off (`slopekit._threads.on_calling_thread`): one thread per Dask worker
thread. This module imports Dask; ``import slopekit`` does not import it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from . import _backends, _flat, _threads

#: How many partial results one addition task of the tree takes.
_FAN_IN = 8

_local = threading.local()  # a worker thread's networks, by architecture (parameters are set per task)


def _modules() -> tuple[Any, Any]:
    import dask
    import dask.array as da

    return dask, da


# -- the data ------------------------------------------------------------------------------------


def _as_array(x: Any, who: str, argname: str) -> Any:
    """A Dask array from a Dask array, DataFrame or Series (a DataFrame's row counts are computed)."""
    _, da = _modules()
    if not isinstance(x, da.Array):
        if hasattr(x, "to_dask_array"):  # a Dask DataFrame or Series
            x = x.to_dask_array(lengths=True)
        else:
            other = "y" if argname == "X" else "X"
            raise TypeError(f"{who}: {other} is a Dask array but {argname} is a {type(x).__name__}; pass both as "
                            "Dask arrays (or both in memory)")
    return x


def _known_rows(arrays: list[Any]) -> list[Any]:
    """The arrays, with the rows of Dask chunks of unknown size counted: all in one computation.

    One pass over those arrays on the workers; only the counts come back.
    The caller's arrays are not changed (copies get the counts). One
    computation for all, not ``compute_chunk_sizes`` on each: two that share
    tasks (``X[keep]``, ``y[keep]``) make distributed warn of different
    ``run_spec`` for one key.
    """
    dask, da = _modules()
    unknown = [i for i, a in enumerate(arrays) if isinstance(a, da.Array) and any(math.isnan(c) for c in a.chunks[0])]
    if not unknown:
        return arrays
    firsts = [arrays[i].to_delayed()[(slice(None),) + (0,) * (arrays[i].ndim - 1)] for i in unknown]
    counts = dask.compute([[dask.delayed(len, pure=True)(block) for block in blocks] for blocks in firsts])[0]
    result = list(arrays)
    for i, rows in zip(unknown, counts):
        a = arrays[i]
        result[i] = da.Array(a.dask, a.name, (tuple(int(r) for r in rows),) + a.chunks[1:], meta=a)
    return result


class Chunks:
    """``X`` and ``y`` as Dask arrays split into the same chunks of rows.

    Parameters
    ----------
    X : dask array, DataFrame
        Shape ``(n_samples, n_features)``; the chunks of rows are kept, the
        columns are put in one chunk.
    y : dask array or Series, or array_like
        Labels or targets with ``n_samples`` rows; rechunked to ``X``'s rows.
        (Anything else is turned into a Dask array in those chunks.)
    n_features : int
        What the network expects.
    who : str
        The calling method, for messages.
    spec : tuple, optional
        The `architecture` of the networks that check and compute on the
        workers (`totals`, `fetch`); needed before either is used.
    sample_weight : dask array or array_like, optional
        One weight per sample, split into ``X``'s chunks; each chunk's are
        checked with it, and their sum (`total`) is what a mean divides by.
    """

    def __init__(self, X: Any, y: Any, n_features: int, who: str,
                 spec: tuple | None = None, sample_weight: Any = None):
        dask, da = _modules()
        self.spec, self.who = spec, who
        X = features(X, n_features, who)
        y = _as_array(y, who, "y") if _backends.is_dask(y) else np.asarray(y)
        w = None if sample_weight is None else _as_array(sample_weight, who, "sample_weight") \
            if _backends.is_dask(sample_weight) else np.asarray(sample_weight)
        X, y, w = _known_rows([X, y, w])
        n = int(X.shape[0])
        if y.ndim not in (1, 2) or y.shape[0] != n:
            raise ValueError(f"{who}: y has shape {tuple(y.shape)}, but X has {n} samples; y needs one label or "
                             f"target row per sample")
        y_chunks = (X.chunks[0],) + tuple((int(s),) for s in y.shape[1:])
        y = y.rechunk(y_chunks) if isinstance(y, da.Array) else da.from_array(y, chunks=y_chunks)
        self.X, self.y, self.n = X, y, n
        keep = [i for i, rows in enumerate(X.chunks[0]) if rows]  # empty chunks add nothing
        self.sizes = [int(X.chunks[0][i]) for i in keep]
        x_blocks = X.to_delayed().reshape(-1)
        y_blocks = y.to_delayed().reshape(-1)
        self._x = [x_blocks[i] for i in keep]
        self._y = [y_blocks[i] for i in keep]
        self.w: Any = None
        self._w: list[Any] = [None] * len(keep)
        if w is not None:
            if w.ndim != 1 or w.shape[0] != n:
                raise ValueError(f"{who}: sample_weight has shape {tuple(w.shape)}, but X has {n} samples; it "
                                 "needs one weight per sample")
            if w.dtype.kind not in "biuf":
                raise TypeError(f"{who}: sample_weight must hold real numbers, got dtype {w.dtype}")
            w = w.rechunk((X.chunks[0],)) if isinstance(w, da.Array) else da.from_array(w, chunks=(X.chunks[0],))
            w_blocks = w.to_delayed().reshape(-1)
            self.w, self._w = w, [w_blocks[i] for i in keep]
        self._weight_total: float | None = None

    def total(self) -> float:
        """What a mean divides by: the number of samples, or the sum of the sample weights (one pass, once)."""
        if self.w is None:
            return float(self.n)
        if self._weight_total is None:
            dask, _ = _modules()
            (total,) = dask.compute(self.w.astype(np.float64).sum())
            if not math.isfinite(total):
                raise ValueError(f"{self.who}: sample_weight contains NaN or infinity")
            if not total > 0:  # negative weights are named by the check of their chunk
                raise ValueError(f"{self.who}: sample_weight is all 0: nothing to average over")
            self._weight_total = float(total)
        return self._weight_total

    def totals(self) -> Callable[[np.ndarray, bool], tuple[float, Any]]:
        """The summed loss and gradients of all chunks, for `slopekit._training.NumpyTraining.epochs_from_sums`.

        The returned function takes the flat parameters and whether gradients
        are wanted, and returns ``(sum of losses, flat float64 sum of
        gradients or None)``, computed by networks of ``spec`` on the workers.
        """
        dask, _ = _modules()
        spec, who = self.spec, self.who

        def total(P: np.ndarray, gradients: bool) -> tuple[float, Any]:
            params = dask.delayed(np.array(P, copy=True), pure=True)  # sent to each worker once
            parts = [dask.delayed(_chunk_sums, pure=True)(spec, params, x, y, w, gradients, who)
                     for x, y, w in zip(self._x, self._y, self._w)]
            (result,) = dask.compute(_tree(parts))
            return result

        return total

    def fetch(self, order: Sequence[int]) -> Iterator[tuple[Any, ...]]:
        """The chunks in ``order``, each checked on its worker and computed while the previous one trains.

        Each comes as training takes it, ``(X, Y, w)``: the rows in the
        network's dtype, the encoded targets, and the weights as a column
        (None without sample weights), checked on the worker by the
        in-memory checks (`slopekit.network.training_data`).
        """
        dask, _ = _modules()

        def compute(i: int) -> tuple[Any, ...]:
            (chunk,) = dask.compute(dask.delayed(_checked_chunk, pure=True)(self.spec, self._x[i], self._y[i],
                                                                             self._w[i], self.who))
            return chunk

        with ThreadPoolExecutor(1) as ahead:
            pending = ahead.submit(compute, order[0]) if len(order) else None
            for k in range(len(order)):
                chunk = pending.result()
                pending = ahead.submit(compute, order[k + 1]) if k + 1 < len(order) else None
                yield chunk


def features(X: Any, n_features: int, who: str) -> Any:
    """``X`` as a Dask array of real numbers with ``n_features`` columns in one chunk (checked lazily per chunk)."""
    X = _as_array(X, who, "X")
    if X.ndim != 2:
        raise ValueError(f"{who}: X must be 2-D, shape (n_samples, {n_features}), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{who}: X is empty (0 samples); expected at least 1")
    if X.shape[1] != n_features:
        raise ValueError(f"{who}: X has {X.shape[1]} features, but the network expects {n_features} "
                         "(layer_sizes[0])")
    from dask.array.utils import meta_from_array

    meta = meta_from_array(X)
    if not isinstance(meta, np.ndarray):
        raise TypeError(f"{who}: X is a Dask array of {type(meta).__module__} chunks; the network trains "
                        "on Dask arrays of NumPy chunks")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{who}: X must hold real numbers, got dtype {X.dtype}")
    return X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X


def _tree(parts: list[Any]) -> Any:
    """Add up delayed ``(loss, gradients)`` pairs by a tree of fixed shape, `_FAN_IN` at a time."""
    dask, _ = _modules()
    while len(parts) > 1:
        parts = [dask.delayed(_add, pure=True)(*parts[i:i + _FAN_IN]) for i in range(0, len(parts), _FAN_IN)]
    return parts[0]


def _add(*parts: tuple[float, Any]) -> tuple[float, Any]:
    loss = math.fsum(part[0] for part in parts)
    if parts[0][1] is None:
        return loss, None
    G = np.array(parts[0][1], dtype=np.float64, copy=True)
    for part in parts[1:]:
        G += part[1]
    return loss, G


# -- on the workers ---------------------------------------------------------------------------------


def architecture(net: Any, dtype_name: str) -> tuple:
    """What a worker needs to rebuild ``net`` (its parameters travel separately): small and picklable."""
    if dtype_name == "bfloat16":
        raise TypeError("a network on Dask arrays computes with NumPy, which has no bfloat16; move it with "
                        "net.to(numpy, dtype='float32') first")
    return (net.layer_sizes, tuple(net.hidden), net.output, dtype_name)


def _network(spec: tuple, P: np.ndarray | None) -> Any:
    """A network of this worker thread with the architecture ``spec`` and the flat parameters ``P`` (if given)."""
    from .network import Network

    nets = getattr(_local, "nets", None)
    if nets is None:
        nets = _local.nets = {}
    key = repr(spec)
    net = nets.get(key)
    sizes, hidden, output, dtype_name = spec
    if net is None:
        net = nets[key] = Network(sizes, hidden=list(hidden), output=output, dtype=dtype_name)
    if P is not None:  # None: for checks only
        names = [f"{p}{l}" for l in range(1, len(sizes)) for p in "Wb"]
        net.set_parameters(dict(zip(names, _flat.views(P, _flat.shapes_of(sizes)))))
    return net


def _chunk_sums(spec: tuple, P: np.ndarray, X: np.ndarray, y: np.ndarray, w: Any, gradients: bool,
                who: str) -> tuple[float, Any]:
    """On a worker: ``(sum of the (weighted) losses, flat float64 sum of the gradients or None)`` of one chunk."""
    net = _network(spec, P)
    with _threads.on_calling_thread(), np.errstate(over="ignore", invalid="ignore", divide="ignore",
                                                   under="ignore"):
        # the network's own checks, with the caller's name in their messages
        loss, grads = net.loss_and_gradients(X, y, reduction="sum", sample_weight=w, _who=who,
                                             _gradients=gradients)
        if not gradients:  # then the loss is the chunk's mean: times its count, or its weight
            return loss * (X.shape[0] if w is None else math.fsum(np.asarray(w, np.float64).tolist())), None
    return loss, np.concatenate([np.asarray(g, dtype=np.float64).reshape(-1) for g in grads.values()])


def _checked_chunk(spec: tuple, X: np.ndarray, y: np.ndarray, w: Any, who: str) -> tuple[Any, Any, Any]:
    """On a worker: one chunk checked and encoded for training, ``(X, Y, w)`` (see `Chunks.fetch`)."""
    from .network import training_data

    with _threads.on_calling_thread():
        return training_data(_network(spec, None), X, y, w, who)


def _predict_chunk(X: np.ndarray, spec: tuple, P: np.ndarray, method: str) -> np.ndarray:
    net = _network(spec, P)
    with _threads.on_calling_thread():
        return getattr(net, method)(X)


def _score_chunk(X: np.ndarray, y: np.ndarray, spec: tuple, P: np.ndarray) -> tuple:
    """On a worker: what `score` adds up over the chunks.

    Classification: ``(number right, rows)``. Regression, per output: the
    rows, the mean and the sum of squared deviations of ``y`` (merged as Chan
    et al.), and the sum of squared residuals.
    """
    net = _network(spec, P)
    with _threads.on_calling_thread():
        if net.output != "identity":
            return (net.score(X, y) * X.shape[0], X.shape[0])
        net.loss(X, y)  # checks y as in memory
        Z = np.asarray(net.predict(X), np.float64).reshape(X.shape[0], -1)
    Y = np.asarray(y, np.float64).reshape(X.shape[0], -1)
    mean = Y.mean(axis=0)
    return (X.shape[0], mean, ((Y - mean) ** 2).sum(axis=0), ((Y - Z) ** 2).sum(axis=0))


# -- in the caller ---------------------------------------------------------------------------------


def _flat_parameters(net: Any) -> np.ndarray:
    """The network's parameters as one flat NumPy array in its dtype (copies, from any library)."""
    arrays = [np.asarray(_backends.to_numpy(p, _backends.library_of(p, "", ""))) for p in net.parameters().values()]
    return np.concatenate([a.reshape(-1) for a in arrays])


def predict(net: Any, dtype_name: str, X: Any, method: str, who: str) -> Any:
    """``net.predict`` or ``net.predict_proba`` of a Dask array, lazily: a Dask array, one task per chunk."""
    dask, _ = _modules()
    X = features(X, net.layer_sizes[0], who)
    spec = architecture(net, dtype_name)
    params = dask.delayed(_flat_parameters(net), pure=True)
    n_out = net.layer_sizes[-1]
    if method == "predict_proba":
        k = 2 if net.output == "sigmoid" else n_out
        return X.map_blocks(_predict_chunk, spec, params, method, dtype=np.dtype(spec[3]),
                            chunks=(X.chunks[0], (k,)), meta=np.empty((0, k), spec[3]))
    if net.output == "identity" and n_out > 1:
        return X.map_blocks(_predict_chunk, spec, params, method, dtype=np.dtype(spec[3]),
                            chunks=(X.chunks[0], (n_out,)), meta=np.empty((0, n_out), spec[3]))
    dtype = np.dtype(spec[3]) if net.output == "identity" else np.dtype(np.int64)
    return X.map_blocks(_predict_chunk, spec, params, method, dtype=dtype, drop_axis=1,
                        meta=np.empty((0,), dtype))


def score(net: Any, dtype_name: str, X: Any, y: Any, who: str) -> float:
    """``net.score`` on Dask arrays, computed on the workers: accuracy, or :math:`R^2` averaged over the outputs."""
    dask, _ = _modules()
    spec = architecture(net, dtype_name)
    chunks = Chunks(X, y, net.layer_sizes[0], who, spec=spec)
    params = dask.delayed(_flat_parameters(net), pure=True)
    parts = [dask.delayed(_score_chunk, pure=True)(x, y_c, spec, params) for x, y_c in zip(chunks._x, chunks._y)]
    (parts,) = dask.compute(parts)
    if net.output != "identity":
        return math.fsum(p[0] for p in parts) / chunks.n
    n, mean, m2, residual = parts[0][0], parts[0][1], parts[0][2], parts[0][3].copy()
    for n_b, mean_b, m2_b, residual_b in parts[1:]:
        delta = mean_b - mean
        total = n + n_b
        mean = mean + delta * (n_b / total)
        m2 = m2 + m2_b + delta ** 2 * (n * n_b / total)
        n = total
        residual += residual_b
    safe = np.where(m2 > 0, m2, 1.0)
    r2 = np.where(m2 > 0, 1.0 - residual / safe, np.where(residual == 0, 1.0, 0.0))
    return float(r2.mean())
