r"""Output layers paired with their matched losses: the end of the forward pass, the start of the backward.

A `slopekit.Network` ends in one of three pairs, named by the output activation:

==============  ===========================  ==================================================
``output``      loss                         per sample, from the pre-activation :math:`z`
==============  ===========================  ==================================================
``"sigmoid"``   binary cross-entropy         :math:`\operatorname{softplus}(z) - y z`, labels 0/1
``"softmax"``   categorical cross-entropy    :math:`\log \sum_k e^{z_k} - z_y`, integer labels
``"identity"``  half squared error           :math:`\tfrac12 (z - y)^2`, per output
==============  ===========================  ==================================================

The loss of a batch is the mean over its samples (and, for ``"identity"``, over
its outputs too: scikit-learn's convention); with sample weights
:math:`w_i \ge 0` it is the weighted mean :math:`\sum_i w_i \ell_i / \sum_i w_i`
(scikit-learn's ``MLPClassifier`` and ``MLPRegressor``), and the slope at the
output is :math:`w_i (a_i - y_i) / \sum_j w_j`. Each is computed from :math:`z`
by softplus or log-sum-exp, never as :math:`\log a`, so it never takes
:math:`\log 0`: a confidently wrong prediction costs a large finite loss, not
``inf``.

Each pair is matched: the output activation is the loss's canonical link, and
the slope of the loss with respect to :math:`z` collapses to :math:`a - y`
(see `OutputLoss.delta`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from . import _lookup
from .activations import Activation, Identity, Sigmoid, Softmax

__all__ = [
    "BinaryCrossEntropy",
    "CategoricalCrossEntropy",
    "HalfSquaredError",
    "OutputLoss",
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "for_output",
    "half_squared_error",
    "outputs",
    "softmax",
]

_sum, _max = np.add.reduce, np.maximum.reduce  # what np.sum and np.max call for arrays


class OutputLoss:
    """An output activation with its matched loss.

    Subclasses work on 2-D arrays of shape ``(n_samples, n_outputs)`` in the
    network's dtype, writing into buffers the caller preallocates; they are
    the network's building blocks and check nothing about those arrays.

    Attributes
    ----------
    output : str
        The output activation's name, as `slopekit.Network` accepts it.
    loss_name : str
        The loss's name.
    """

    output: ClassVar[str]
    loss_name: ClassVar[str]
    #: The output activation itself, whose kernels compute :math:`a = g(z)`.
    activation: ClassVar[Activation]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def check_n_outputs(self, n_outputs: int) -> None:
        """Raise ValueError if the output layer cannot have ``n_outputs`` units."""

    def targets(self, y: Any, n_samples: int, n_outputs: int, dtype: np.dtype, who: str) -> np.ndarray:
        """Check labels ``y`` and encode them as the target matrix ``Y`` of shape ``(n_samples, n_outputs)``.

        ``Y`` is always a new array in ``dtype``; ``y`` is never modified.

        Raises
        ------
        ValueError
            For the wrong length or shape, NaN or infinity, or labels this
            output cannot take.
        TypeError
            For labels that are not real numbers.
        """
        raise NotImplementedError

    def scratch(self, n_samples: int, n_outputs: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
        """Work buffers for `forward` on ``n_samples`` rows."""
        return (np.empty((n_samples, n_outputs), dtype),)

    def activate(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The output activation :math:`a = g(z)`, written into ``out``."""
        return self.activation(z, out=out)

    def forward(self, z: np.ndarray, Y: np.ndarray, a: np.ndarray, scratch: tuple[np.ndarray, ...],
                activate: Any = None, weights: tuple[np.ndarray, float] | None = None) -> float:
        """Write :math:`a = g(z)` into ``a`` and return the mean loss, computed stably from ``z``.

        ``activate(z, a)``, when given, is the output activation's forward
        from `slopekit.Activation.layer_kernels` (what a network passes);
        otherwise `activate` is called. ``weights``, when given, is
        ``(w, total)``: the samples' weights as a column ``(n_samples, 1)``
        in ``z``'s dtype and a positive number to divide by (their sum); the
        loss is then the weighted mean :math:`\\sum_i w_i \\ell_i / \\text{total}`.
        """
        (activate or self.activate)(z, a)
        if weights is None:
            return self._loss(z, Y, scratch)
        return self._weighted_loss(z, Y, scratch, *weights)

    def _loss(self, z: np.ndarray, Y: np.ndarray, scratch: tuple[np.ndarray, ...]) -> float:
        raise NotImplementedError

    def _weighted_loss(self, z: np.ndarray, Y: np.ndarray, scratch: tuple[np.ndarray, ...], w: np.ndarray,
                       total: float) -> float:
        raise NotImplementedError

    def forward_xp(self, xp: Any, z: Any, Y: Any, activate: Any, weights: tuple[Any, Any] | None = None
                   ) -> tuple[Any, Any]:
        """`forward` for arrays of the namespace ``xp``: ``(a, mean loss as a 0-d array)``, nothing in place.

        ``weights`` as for `forward`; ``total`` may be a 0-d array.
        """
        raise NotImplementedError

    def predict_xp(self, xp: Any, z: Any) -> Any:
        """`predict` for arrays of the namespace ``xp``."""
        raise NotImplementedError

    def proba_xp(self, xp: Any, z: Any) -> Any:
        """`proba` for arrays of the namespace ``xp``."""
        return self.proba(z)

    def scale(self, n_samples: Any, n_outputs: int) -> Any:
        """The loss's mean is its sum times this factor.

        ``n_samples`` is the number of samples, or with sample weights their
        sum (a float, or a 0-d array of an array library).
        """
        return 1.0 / n_samples

    def delta(self, a: np.ndarray, Y: np.ndarray, out: np.ndarray) -> np.ndarray:
        r"""The slope of the mean loss with respect to :math:`z`: :math:`dz = (a - Y) \cdot` `scale`.

        Why :math:`a - Y`: by the chain rule :math:`dz = da \cdot g'(z)`, and
        for each matched pair the two factors cancel to :math:`a - y`.
        Binary cross-entropy has :math:`da = (a - y) / (a(1 - a))` and the
        sigmoid :math:`g'(z) = a(1 - a)`; the softmax's Jacobian times
        :math:`da = -y / a` is :math:`a - y` because the labels sum to 1; the
        identity has :math:`g' = 1` and squared error :math:`da = a - y`.
        With any other output activation (tanh before cross-entropy, say) the
        cancellation fails and :math:`dz` needs the full product. Skipping the
        division by :math:`a(1 - a)` also means a saturated output, where that
        product has underflowed to 0, still gets its exact slope.
        """
        np.subtract(a, Y, out=out)
        np.multiply(out, self.scale(*a.shape), out=out)
        return out

    def predict(self, z: np.ndarray) -> np.ndarray:
        """Predictions from the output layer's pre-activation ``z``."""
        raise NotImplementedError

    def proba(self, z: np.ndarray) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``, from ``z``."""
        raise TypeError(f"output={self.output!r} is a regression output and has no class probabilities; "
                        "use predict")


def _labels_array(y: Any, who: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{who}: y must hold real numbers (labels or targets), got dtype {arr.dtype}")
    return arr.astype(np.int8) if arr.dtype.kind == "b" else arr


def _check_length(arr: np.ndarray, n_samples: int, who: str) -> None:
    n_y = arr.shape[0] if arr.ndim else 0
    if arr.ndim == 0 or n_y != n_samples:
        got = "a scalar" if arr.ndim == 0 else f"{n_y} rows (shape {arr.shape})"
        raise ValueError(f"{who}: y must have one row per sample of X ({n_samples}), got {got}")


def _check_finite(arr: np.ndarray, who: str) -> None:
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{who}: y contains NaN or infinity")


def _bad_values(arr: np.ndarray, bad: np.ndarray) -> str:
    values = np.unique(arr[bad])
    shown = ", ".join(f"{v:g}" for v in values[:5].tolist())
    return shown + (", ..." if values.size > 5 else "")


class BinaryCrossEntropy(OutputLoss):
    r"""``output="sigmoid"``: one unit, :math:`a = \sigma(z)`, binary cross-entropy on labels 0/1.

    Notes
    -----
    .. math::

        \ell(z, y) = -y \log a - (1 - y) \log(1 - a)
                   = \operatorname{softplus}\bigl((1 - 2y)\,z\bigr),
        \qquad \operatorname{softplus}(t) = \max(t, 0) + \log\bigl(1 + e^{-|t|}\bigr),

    exact for :math:`y \in \{0, 1\}` and free of overflow and of :math:`\log 0`.
    """

    output = "sigmoid"
    loss_name = "binary_cross_entropy"
    activation = Sigmoid()

    def check_n_outputs(self, n_outputs: int) -> None:
        if n_outputs != 1:
            raise ValueError(f"output='sigmoid' (binary cross-entropy) needs 1 output unit, got {n_outputs}; "
                             f"use output='softmax' for {n_outputs} classes")

    def targets(self, y, n_samples, n_outputs, dtype, who):
        arr = _labels_array(y, who)
        _check_length(arr, n_samples, who)
        if arr.shape not in ((n_samples,), (n_samples, 1)):
            raise ValueError(f"{who}: y must be 0/1 labels of shape ({n_samples},) or ({n_samples}, 1) "
                             f"for output='sigmoid', got shape {arr.shape}")
        _check_finite(arr, who)
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            raise ValueError(f"{who}: labels must be 0 or 1 for output='sigmoid', got {_bad_values(arr, bad)}")
        return arr.reshape(n_samples, 1).astype(dtype)

    def scratch(self, n_samples, n_outputs, dtype):
        return (np.empty((n_samples, 1), dtype), np.empty((n_samples, 1), dtype))

    def _per_sample(self, z, Y, scratch):
        """Each sample's loss, a column written into the first scratch array."""
        t, u = scratch
        np.multiply(Y, -2.0, out=t)
        np.add(t, 1.0, out=t)
        np.multiply(t, z, out=t)  # t = (1 - 2y) z: -z for y = 1, z for y = 0
        np.copysign(t, -1.0, out=u)
        np.exp(u, out=u)
        np.log1p(u, out=u)  # log(1 + e^{-|t|}), in (0, log 2]
        np.maximum(t, 0.0, out=t)
        return np.add(t, u, out=t)  # softplus(t)

    def _loss(self, z, Y, scratch):
        return float(_sum(self._per_sample(z, Y, scratch), axis=None)) / z.shape[0]

    def _weighted_loss(self, z, Y, scratch, w, total):
        return float(np.vdot(self._per_sample(z, Y, scratch), w)) / total

    def forward_xp(self, xp, z, Y, activate, weights=None):
        t = (1.0 - 2.0 * Y) * z  # -z for y = 1, z for y = 0
        softplus = xp.maximum(t, xp.zeros_like(t)) + xp.log1p(xp.exp(-xp.abs(t)))
        if weights is None:
            return activate(z), xp.sum(softplus) / z.shape[0]
        w, total = weights
        return activate(z), xp.sum(softplus * w) / total

    def predict(self, z):
        return (z[:, 0] > 0).astype(np.int64)  # a > 1/2 exactly when z > 0

    def predict_xp(self, xp, z):
        return xp.astype(z[:, 0] > 0, xp.int64)

    def proba(self, z):
        both = np.concatenate([-z, z], axis=1)
        return self.activation(both, out=both)  # 1 - a computed as sigma(-z): no cancellation

    def proba_xp(self, xp, z):
        return self.activation(xp.concat([-z, z], axis=1))


class CategoricalCrossEntropy(OutputLoss):
    r"""``output="softmax"``: :math:`a_k = e^{z_k} / \sum_j e^{z_j}`, cross-entropy on integer labels.

    Notes
    -----
    With :math:`t = z - \max_k z_k` (so :math:`t \le 0` and no exponential overflows),

    .. math::

        a_k = \frac{e^{t_k}}{\sum_j e^{t_j}}, \qquad
        \ell(z, y) = -\log a_y = \log \sum_j e^{t_j} - t_y,

    a sum of two non-negative terms: no cancellation and no :math:`\log 0`.
    """

    output = "softmax"
    loss_name = "categorical_cross_entropy"
    activation = Softmax(axis=-1)

    def check_n_outputs(self, n_outputs: int) -> None:
        if n_outputs < 2:
            raise ValueError(f"output='softmax' needs at least 2 output units (one per class), got {n_outputs}; "
                             "use output='sigmoid' for a single probability")

    def targets(self, y, n_samples, n_outputs, dtype, who):
        arr = _labels_array(y, who)
        _check_length(arr, n_samples, who)
        if arr.ndim != 1:
            raise ValueError(f"{who}: y must be integer class labels of shape ({n_samples},) for output='softmax', "
                             f"got shape {arr.shape} (pass labels, not one-hot rows)")
        _check_finite(arr, who)
        bad = (arr < 0) | (arr >= n_outputs) | (arr != np.floor(arr))
        if bad.any():
            raise ValueError(f"{who}: labels must be integers in [0, {n_outputs - 1}] for output='softmax' with "
                             f"{n_outputs} units, got {_bad_values(arr, bad)}")
        Y = np.zeros((n_samples, n_outputs), dtype)
        Y[np.arange(n_samples), arr.astype(np.intp)] = 1
        return Y

    def scratch(self, n_samples, n_outputs, dtype):
        return (np.empty((n_samples, n_outputs), dtype), np.empty((n_samples, n_outputs), dtype),
                np.empty((n_samples, 1), dtype), np.empty((n_samples, 1), dtype))

    def _loss(self, z, Y, scratch):
        t, e, row_max, row_sum = scratch
        _max(z, axis=1, keepdims=True, out=row_max)  # np.max and np.sum, without their Python wrappers
        np.subtract(z, row_max, out=t)  # t = z - max z <= 0
        np.exp(t, out=e)
        _sum(e, axis=1, keepdims=True, out=row_sum)  # >= 1
        np.log(row_sum, out=row_sum)
        return (float(_sum(row_sum, axis=None)) - float(np.vdot(t, Y))) / z.shape[0]

    def _weighted_loss(self, z, Y, scratch, w, total):
        t, e, row_max, row_sum = scratch
        _max(z, axis=1, keepdims=True, out=row_max)
        np.subtract(z, row_max, out=t)
        np.exp(t, out=e)
        _sum(e, axis=1, keepdims=True, out=row_sum)
        np.log(row_sum, out=row_sum)  # log sum_k e^{t_k}, one per sample
        np.multiply(Y, w, out=e)  # each sample's one-hot row times its weight
        return (float(np.vdot(row_sum, w)) - float(np.vdot(t, e))) / total

    def forward_xp(self, xp, z, Y, activate, weights=None):
        t = z - xp.max(z, axis=1, keepdims=True)
        log_sum = xp.log(xp.sum(xp.exp(t), axis=1))
        if weights is None:
            return activate(z), (xp.sum(log_sum) - xp.sum(t * Y)) / z.shape[0]
        w, total = weights
        return activate(z), (xp.sum(log_sum * w[:, 0]) - xp.sum(t * (Y * w))) / total

    def predict(self, z):
        return np.argmax(z, axis=1).astype(np.int64)

    def predict_xp(self, xp, z):
        return xp.astype(xp.argmax(z, axis=1), xp.int64)

    def proba(self, z):
        return self.activation(z)

    def proba_xp(self, xp, z):
        return self.activation(z)


class HalfSquaredError(OutputLoss):
    r"""``output="identity"``: :math:`a = z`, half the squared error averaged over samples and outputs.

    Notes
    -----
    .. math::

        L = \frac{1}{n k} \sum_{i=1}^{n} \sum_{j=1}^{k} \tfrac12 (a_{ij} - y_{ij})^2,
        \qquad dz = \frac{a - Y}{n k},

    scikit-learn's ``squared_error`` loss for ``n`` samples of ``k`` outputs.
    With sample weights, :math:`n` becomes :math:`\sum_i w_i` and each
    sample's terms are multiplied by :math:`w_i`.
    """

    output = "identity"
    loss_name = "half_squared_error"
    activation = Identity()

    def check_n_outputs(self, n_outputs: int) -> None:
        pass

    def targets(self, y, n_samples, n_outputs, dtype, who):
        arr = _labels_array(y, who)
        _check_length(arr, n_samples, who)
        shapes = ((n_samples,), (n_samples, 1)) if n_outputs == 1 else ((n_samples, n_outputs),)
        if arr.shape not in shapes:
            expected = " or ".join(str(s) for s in shapes)
            raise ValueError(f"{who}: y must have shape {expected} for output='identity' with {n_outputs} "
                             f"output(s), got shape {arr.shape}")
        _check_finite(arr, who)
        with np.errstate(over="ignore"):
            Y = arr.reshape(n_samples, n_outputs).astype(dtype)
        if not np.isfinite(Y).all():
            raise ValueError(f"{who}: y has values beyond the range of {np.dtype(dtype).name}")
        return Y

    def scale(self, n_samples, n_outputs):
        return 1.0 / (n_samples * n_outputs)

    def activate(self, z, out):
        if out is not z:
            np.copyto(out, z)
        return out

    def forward(self, z, Y, a, scratch, activate=None, weights=None):
        self.activate(z, a)  # a network's a is its z: nothing to do then
        return self._loss(z, Y, scratch) if weights is None else self._weighted_loss(z, Y, scratch, *weights)

    def _loss(self, z, Y, scratch):
        (diff,) = scratch
        np.subtract(z, Y, out=diff)
        return 0.5 * float(np.vdot(diff, diff)) * self.scale(*z.shape)

    def _weighted_loss(self, z, Y, scratch, w, total):
        (diff,) = scratch
        np.subtract(z, Y, out=diff)
        np.multiply(diff, diff, out=diff)
        return 0.5 * float(_sum(np.matmul(w.T, diff), axis=None)) * self.scale(total, z.shape[1])

    def forward_xp(self, xp, z, Y, activate, weights=None):
        diff = z - Y
        if weights is None:
            return z, 0.5 * xp.sum(diff * diff) * self.scale(*z.shape)
        w, total = weights
        return z, 0.5 * xp.sum(diff * diff * w) * self.scale(total, z.shape[1])

    def predict(self, z):
        return z[:, 0].copy() if z.shape[1] == 1 else z.copy()

    def predict_xp(self, xp, z):
        return z[:, 0] if z.shape[1] == 1 else z


_OUTPUTS: dict[str, OutputLoss] = {
    cls.output: cls() for cls in (BinaryCrossEntropy, CategoricalCrossEntropy, HalfSquaredError)
}


def outputs() -> tuple[str, ...]:
    """The output activations a `slopekit.Network` accepts, sorted.

    Examples
    --------
    >>> from slopekit import losses
    >>> losses.outputs()
    ('identity', 'sigmoid', 'softmax')
    """
    return tuple(sorted(_OUTPUTS))


def for_output(output: str) -> OutputLoss:
    """The matched loss of an output activation.

    Raises
    ------
    ValueError
        For a name other than those of `outputs`.
    TypeError
        For something other than a string.

    Examples
    --------
    >>> from slopekit import losses
    >>> losses.for_output("softmax")
    CategoricalCrossEntropy()
    """
    if not isinstance(output, str):
        raise TypeError(f"output must be one of {', '.join(map(repr, outputs()))}, got {type(output).__name__} "
                        f"{output!r}")
    return _lookup.find("output", output, _OUTPUTS)[1]


def _as_2d(z: Any, who: str) -> np.ndarray:
    arr = np.asarray(z)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{who}: z must hold real numbers, got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{who}: z must be 1-D or 2-D (n_samples, n_outputs), got shape {arr.shape}")
    return arr


def _mean_loss(kind: str, z: Any, y: Any, who: str) -> float:
    loss = _OUTPUTS[kind]
    z = _as_2d(z, who)
    if kind == "softmax" and z.shape[1] < 2:
        raise ValueError(f"{who}: z must have one column per class (at least 2), got shape {z.shape}")
    Y = loss.targets(y, z.shape[0], z.shape[1], z.dtype, who)
    return loss.forward(z, Y, np.empty_like(z), loss.scratch(*z.shape, z.dtype))


def softmax(z: Any, *, out: np.ndarray | None = None) -> np.ndarray:
    r"""The softmax of each row, :math:`a_k = e^{z_k - \max z} / \sum_j e^{z_j - \max z}`.

    Parameters
    ----------
    z : array_like of shape (n_samples, n_classes)
        Pre-activations; float32 stays float32, other input computes in float64.
    out : ndarray, optional
        A buffer of the same shape and dtype; it may be ``z``.

    Examples
    --------
    >>> from slopekit import losses
    >>> losses.softmax([[0.0, 0.0], [1000.0, 0.0]])
    array([[0.5, 0.5],
           [1. , 0. ]])
    """
    z = _as_2d(z, "softmax") if not isinstance(z, np.ndarray) or z.ndim != 2 else z
    return CategoricalCrossEntropy.activation(z, out=out)


def binary_cross_entropy(z: Any, y: Any) -> float:
    r"""Mean binary cross-entropy of labels ``y`` (0/1) given pre-activations ``z``, :math:`a = \sigma(z)`.

    Examples
    --------
    >>> from slopekit import losses
    >>> round(losses.binary_cross_entropy([0.0, 0.0], [0, 1]), 6)  # log 2
    0.693147
    >>> losses.binary_cross_entropy([-800.0], [1])  # -log sigma(-800) = 800, not inf
    800.0
    """
    return _mean_loss("sigmoid", z, y, "binary_cross_entropy")


def categorical_cross_entropy(z: Any, y: Any) -> float:
    r"""Mean categorical cross-entropy of integer labels ``y`` given pre-activations ``z`` (one column per class).

    Examples
    --------
    >>> from slopekit import losses
    >>> round(losses.categorical_cross_entropy([[0.0, 0.0, 0.0]], [2]), 6)  # log 3
    1.098612
    >>> losses.categorical_cross_entropy([[1000.0, 0.0]], [1])  # not inf
    1000.0
    """
    return _mean_loss("softmax", z, y, "categorical_cross_entropy")


def half_squared_error(z: Any, y: Any) -> float:
    r"""Mean over samples and outputs of :math:`\tfrac12 (z - y)^2`.

    Examples
    --------
    >>> from slopekit import losses
    >>> losses.half_squared_error([1.0, 3.0], [0.0, 1.0])  # (1/2 + 4/2) / 2
    1.25
    """
    return _mean_loss("identity", z, y, "half_squared_error")
