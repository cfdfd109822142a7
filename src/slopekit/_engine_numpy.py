"""The NumPy engine of `slopekit._backprop.Layers`: every array preallocated, every operation into it.

A pass over ``rows`` samples allocates its arrays once (`NumpyLayers`), and
each operation writes into them with ``out=``: the network's own loop makes
no temporaries (an activation's kernel may use a scratch array of its own).
The activations' calls come from `slopekit.Activation.layer_kernels`, which
picks the fastest call that gives the public call's bits; this module never
names a kernel. The gradients are views of one flat array, so that an
optimizer can update every parameter in one operation (`slopekit.optimizers`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from . import losses
from ._flat import shapes_of, views
from ._backprop import Layers
from .activations import Activation


class NumpyLayers(Layers):
    """The arrays of one forward and backward pass over ``rows`` samples, and the operations on them.

    ``Z[l]``, ``A[l]`` have shape ``(rows, n_l)``; ``dA[l]``, ``dZ[l]`` too;
    ``ones`` is a row of ones that sums ``dZ`` over the samples by a matrix
    product; ``G`` is the flat gradient array and ``dW``, ``db`` its views.
    With ``batch``, ``X`` and ``Y`` hold one mini-batch's gathered inputs and
    targets (else None). `first` gives views of the first rows, for a last,
    smaller mini-batch.
    """

    def __init__(self, sizes: Sequence[int], hidden: Sequence[Activation], output_loss: losses.OutputLoss,
                 dtype: np.dtype, rows: int, batch: bool = False):
        self.L = len(sizes) - 1
        self.rows, self.matched_loss = rows, output_loss
        self.forward_of = [None] + [g.layer_kernels(dtype, rows * n)[0] for g, n in zip(hidden, sizes[1:-1])]
        self.backward_of = [None] + [g.layer_kernels(dtype, rows * n)[1] for g, n in zip(hidden, sizes[1:-1])]
        self.output_forward = output_loss.activation.layer_kernels(dtype, rows * sizes[-1])[0]
        self.ones = np.ones(rows, dtype)
        self.X = np.empty((rows, sizes[0]), dtype) if batch else None
        self.Y = np.empty((rows, sizes[-1]), dtype) if batch else None
        self.w: np.ndarray | None = None  # a mini-batch's sample weights, (rows, 1), allocated on first use
        # Matrix products write into Z, dA and G: zeros, not garbage, because some BLAS kernels scale the old
        # contents by beta = 0, and 0 * NaN garbage would raise NumPy's "invalid value" warning.
        self.Z = [None] + [np.zeros((rows, n), dtype) for n in sizes[1:]]
        self.A = [None] + [np.empty((rows, n), dtype) for n in sizes[1:-1]]
        self.A.append(self.Z[-1] if output_loss.output == "identity" else np.empty((rows, sizes[-1]), dtype))
        self.dA = [None] + [np.zeros((rows, n), dtype) for n in sizes[1:-1]] + [None]
        self.dZ = [None] + [np.empty((rows, n), dtype) for n in sizes[1:]]
        self.scratch = output_loss.scratch(rows, sizes[-1], dtype)
        self.G = np.zeros(sum(math.prod(s) for s in shapes_of(sizes)), dtype)
        self.grads = views(self.G, shapes_of(sizes))
        self.dW, self.db = self.grads[0::2], self.grads[1::2]

    def first(self, rows: int) -> NumpyLayers:
        """Views of the first ``rows`` rows, sharing the kernels (fewer rows: still below any block size)."""
        view = object.__new__(NumpyLayers)
        view.__dict__.update(self.__dict__)
        view.rows = rows
        for name in ("Z", "A", "dA", "dZ"):
            setattr(view, name, [None if x is None else x[:rows] for x in getattr(self, name)])
        view.scratch = tuple(x[:rows] for x in self.scratch)
        view.ones = self.ones[:rows]
        view.X = None if self.X is None else self.X[:rows]
        view.Y = None if self.Y is None else self.Y[:rows]
        view.w = None if self.w is None else self.w[:rows]
        return view

    def weight_buffer(self) -> np.ndarray:
        """The column of a mini-batch's sample weights, shared with the views of `first`."""
        if self.w is None:
            self.w = np.empty((self.rows, 1), self.ones.dtype)
        return self.w

    # -- the operations ---------------------------------------------------------------------------

    def linear(self, l, A_prev, W, b):
        Z = np.matmul(A_prev, W.T, out=self.Z[l])
        return np.add(Z, b, out=Z)

    def activate(self, l, Z):
        A = self.A[l]
        self.forward_of[l](Z, A)
        return A

    def output_loss(self, Z, Y, weights=None):
        return self.matched_loss.forward(Z, Y, self.A[-1], self.scratch, self.output_forward, weights)

    def output_delta(self, Y, factor, weights=None):
        # dZ_L = (A_L - Y) / n, or w (A_L - Y) / sum(w). This is the whole slope of the loss at the
        # output's pre-activation only because output and loss are a matched pair
        # (losses.OutputLoss.scale); the factor is folded into the same multiplication.
        A_L, dZ = self.A[-1], self.dZ[-1]
        np.subtract(A_L, Y, out=dZ)
        if weights is None:
            np.multiply(dZ, self.matched_loss.scale(*A_L.shape) * factor, out=dZ)
            return dZ
        w, total = weights
        np.multiply(dZ, w, out=dZ)
        np.multiply(dZ, self.matched_loss.scale(total, A_L.shape[1]) * factor, out=dZ)
        return dZ

    def weight_gradients(self, l, dZ, A_prev):
        np.matmul(dZ.T, A_prev, out=self.dW[l - 1])  # dW_l = dZ_l^T A_{l-1}
        np.matmul(self.ones, dZ, out=self.db[l - 1])  # db_l = sum of dZ_l over the samples (one BLAS call)

    def back_linear(self, l, dZ, W):
        return np.matmul(dZ, W, out=self.dA[l - 1])

    def activation_backward(self, l, dA):
        dZ = self.dZ[l]
        self.backward_of[l](dA, self.Z[l], self.A[l], dZ)
        return dZ

    def gradients(self):
        return self.grads

    # -- helpers of training ------------------------------------------------------------------

    def add_l2(self, W: list[np.ndarray], coefficient: float, work: list[np.ndarray]) -> None:
        """``dW_l += coefficient * W_l``, the slope of the L2 term, without temporaries."""
        for dW, W_l, w in zip(self.dW, W, work):
            np.multiply(W_l, coefficient, out=w)
            np.add(dW, w, out=dW)


def sum_of_squares(W: Sequence[np.ndarray]) -> float:
    r""":math:`\sum_l \lVert W_l \rVert_F^2`, each term in the arrays' dtype, added exactly."""
    return math.fsum(float(np.vdot(W_l, W_l)) for W_l in W)
