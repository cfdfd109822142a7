r"""The lecture's algorithm, written once: the forward pass, the loss, backpropagation.

With :math:`A_0 = X`, for the layers :math:`l = 1, \dots, L`,

.. math::

    Z_l = A_{l-1} W_l^\top + b_l, \qquad A_l = g_l(Z_l),

and backwards from the matched output loss (`slopekit.losses`),

.. math::

    dZ_L = \tfrac1n (A_L - Y), \quad dW_l = dZ_l^\top A_{l-1}, \quad
    db_l = \textstyle\sum_i (dZ_l)_{i\cdot}, \quad
    dA_{l-1} = dZ_l W_l, \quad dZ_{l-1} = dA_{l-1} \odot g_{l-1}'(Z_{l-1}),

and with sample weights :math:`w_i \ge 0` (a weighted mean loss) only the first
step changes: :math:`dZ_L = w \odot (A_L - Y) / \sum_i w_i`, each row scaled
by its sample's weight.

`Layers` runs these steps; an engine beneath it (`slopekit._engine_numpy`,
`slopekit._engine_xp`) supplies each array operation for its library: NumPy
on preallocated buffers, any other array-API library functionally on the
arrays' device. The lists ``Z`` and ``A`` are indexed by the layer ``l`` as in
the lecture (index 0 unused for ``Z``; ``A[0]`` is the input of the last pass).
"""

from __future__ import annotations

from typing import Any


class Layers:
    """One network's forward and backward pass over batches of ``rows`` samples (at most).

    Subclasses (engines) implement the array operations named below; this
    class only sequences them. ``W`` and ``b`` are passed to each pass, so an
    engine whose arrays are immutable (JAX) and one that updates in place
    (NumPy) share the algorithm.
    """

    #: L, the number of layers with parameters.
    L: int
    Z: list[Any]
    A: list[Any]

    # -- the engine's operations ----------------------------------------------------------------

    def linear(self, l: int, A_prev: Any, W: Any, b: Any) -> Any:
        """:math:`Z_l = A_{l-1} W_l^\\top + b_l`, kept as ``Z[l]``."""
        raise NotImplementedError

    def activate(self, l: int, Z: Any) -> Any:
        """:math:`A_l = g_l(Z_l)` for a hidden layer, kept as ``A[l]``."""
        raise NotImplementedError

    def output_loss(self, Z: Any, Y: Any, weights: tuple[Any, Any] | None = None) -> Any:
        """:math:`A_L = g_L(Z_L)`, kept as ``A[L]``, and the mean loss (a float, or a 0-d array on a device).

        ``weights`` is None or ``(w, total)``: a column ``(rows, 1)`` of
        sample weights and the positive number the weighted sum is divided
        by (their sum); the loss is then the weighted mean.
        """
        raise NotImplementedError

    def output_delta(self, Y: Any, factor: float, weights: tuple[Any, Any] | None = None) -> Any:
        """:math:`dZ_L = (A_L - Y) \\cdot s`, ``s`` the loss's mean factor times ``factor``.

        With ``weights = (w, total)``: :math:`dZ_L = w \\odot (A_L - Y) \\cdot s`,
        the mean factor taken over ``total`` instead of the number of rows.
        """
        raise NotImplementedError

    def weight_gradients(self, l: int, dZ: Any, A_prev: Any) -> None:
        """:math:`dW_l = dZ_l^\\top A_{l-1}` and :math:`db_l = \\sum_i dZ_l`, kept as the layer's gradients."""
        raise NotImplementedError

    def back_linear(self, l: int, dZ: Any, W: Any) -> Any:
        """:math:`dA_{l-1} = dZ_l W_l`."""
        raise NotImplementedError

    def activation_backward(self, l: int, dA: Any) -> Any:
        """:math:`dZ_l = dA_l \\odot g_l'(Z_l)`, the slope from the cached ``A[l]`` where it can be."""
        raise NotImplementedError

    def gradients(self) -> list[Any]:
        """The gradients of the last `backward`, ``[dW1, db1, dW2, db2, ...]``."""
        raise NotImplementedError

    # -- the algorithm ------------------------------------------------------------------------------

    def forward(self, X: Any, W: list[Any], b: list[Any]) -> Any:
        """The forward pass; returns :math:`Z_L`, the output layer's pre-activation."""
        A = X
        L = self.L
        for l in range(1, L + 1):
            Z = self.linear(l, A, W[l - 1], b[l - 1])
            if l == L:
                return Z
            A = self.activate(l, Z)
        raise AssertionError("unreachable: a network has at least one layer")

    def forward_loss(self, X: Any, Y: Any, W: list[Any], b: list[Any], weights: tuple[Any, Any] | None = None
                     ) -> Any:
        """The forward pass through the output activation; returns the mean loss (weighted: see `output_loss`)."""
        return self.output_loss(self.forward(X, W, b), Y, weights)

    def backward(self, X: Any, Y: Any, W: list[Any], factor: float = 1.0,
                 weights: tuple[Any, Any] | None = None) -> list[Any]:
        """Backpropagation of the last `forward_loss` on ``(X, Y)``; returns `gradients`.

        ``factor`` multiplies every gradient: it scales :math:`dZ_L`, and each
        later product is linear in it (an engine may fold an optimizer's
        learning rate in this way; see `slopekit.optimizers.Stepper.fold`).
        ``weights`` are the sample weights of `output_loss`; they enter
        :math:`dZ_L` only, and reach every gradient through the products.
        """
        L = self.L
        # dZ_L = (A_L - Y) / n, or w (A_L - Y) / sum(w): the matched pair's whole slope
        dZ = self.output_delta(Y, factor, weights)
        for l in range(L, 0, -1):
            self.weight_gradients(l, dZ, X if l == 1 else self.A[l - 1])
            if l == 1:
                break
            dA = self.back_linear(l, dZ, W[l - 1])
            dZ = self.activation_backward(l - 1, dA)
        return self.gradients()
