"""The generic engine of `slopekit._backprop.Layers`: any array-API library, on the arrays' device.

PyTorch (CPU and CUDA), CuPy, JAX and array-api-strict run the lecture's
algorithm through this engine. Every operation is functional (``xp.matmul``,
the activations' ``forward(z)`` and ``backward(da, z, a)`` from
`slopekit.Activation.layer_kernels`, the losses' ``xp`` forms), so arrays that
cannot be written in place (JAX) work as well as those that can. The arrays
stay on their device; the only values brought to the host are the loss of
each epoch and the mini-batch indices' way in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import losses
from ._backprop import Layers
from .activations import Activation


class XpLayers(Layers):
    """One forward and backward pass on arrays of the namespace ``xp``; ``Z[l]``, ``A[l]`` kept from the last pass."""

    def __init__(self, xp: Any, sizes: Sequence[int], hidden: Sequence[Activation], output_loss: losses.OutputLoss,
                 dtype: Any, rows: int):
        self.xp, self.matched_loss, self.L = xp, output_loss, len(sizes) - 1
        kernels = [g.layer_kernels(dtype, rows * n, xp=xp) for g, n in zip(hidden, sizes[1:-1])]
        self.forward_of = [None] + [k[0] for k in kernels]
        self.backward_of = [None] + [k[1] for k in kernels]
        self.output_forward = output_loss.activation.layer_kernels(dtype, rows * sizes[-1], xp=xp)[0]
        self.Z: list[Any] = [None] * (self.L + 1)
        self.A: list[Any] = [None] * (self.L + 1)
        self.grads: list[Any] = [None] * (2 * self.L)

    def first(self, rows: int) -> XpLayers:
        """The same engine: it keeps no arrays of a fixed number of rows."""
        return self

    def linear(self, l, A_prev, W, b):
        Z = self.xp.matmul(A_prev, self.xp.matrix_transpose(W)) + b
        self.Z[l] = Z
        return Z

    def activate(self, l, Z):
        A = self.forward_of[l](Z)
        self.A[l] = A
        return A

    def output_loss(self, Z, Y, weights=None):
        A, loss = self.matched_loss.forward_xp(self.xp, Z, Y, self.output_forward, weights)
        self.A[self.L] = A
        return loss

    def output_delta(self, Y, factor, weights=None):
        A_L = self.A[self.L]
        if weights is None:
            return (A_L - Y) * (self.matched_loss.scale(*A_L.shape) * factor)
        w, total = weights  # dZ_L = w (A_L - Y) / sum(w)
        return (A_L - Y) * w * (self.matched_loss.scale(total, A_L.shape[1]) * factor)

    def weight_gradients(self, l, dZ, A_prev):
        xp = self.xp
        self.grads[2 * l - 2] = xp.matmul(xp.matrix_transpose(dZ), A_prev)  # dW_l = dZ_l^T A_{l-1}
        self.grads[2 * l - 1] = xp.sum(dZ, axis=0)  # db_l

    def back_linear(self, l, dZ, W):
        return self.xp.matmul(dZ, W)

    def activation_backward(self, l, dA):
        return self.backward_of[l](dA, self.Z[l], self.A[l])

    def gradients(self):
        return list(self.grads)
