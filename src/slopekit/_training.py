"""The training loop of `slopekit.Network`: epochs, mini-batches, steps, history, divergence.

One `Training` holds what lasts from one epoch to the next: the optimizer's
running state (its stepper), the engine's buffers, the copy of the
parameters kept against divergence, and the generator of the mini-batch
shuffles. `Network.fit` makes a new one for each call; `Network.partial_fit`
keeps one across calls, so that ``k`` calls of one epoch are ``fit`` with
``epochs=k``, bit for bit.

The loop is written once; `NumpyTraining` and `XpTraining` differ only in how
a step updates the parameters: in place on one flat array with the
optimizer's factor folded into :math:`dZ_L` (NumPy), or functionally on the
arrays' device (every other array-API library).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import optimizers
from ._flat import views
from ._engine_numpy import NumpyLayers
from ._engine_xp import XpLayers
from ._parameter_set import ParameterSet


class Diverged(FloatingPointError):
    """The loss became NaN or infinite; the parameters were put back (see `Training.epochs`)."""


class Training:
    """The running state of training one network with one optimizer.

    Parameters
    ----------
    params : slopekit._parameter_set.ParameterSet
        The network's parameters: what the optimizer updates.
    architecture : tuple
        ``(layer_sizes, hidden activations, output loss)``, from which the
        engine's passes are built.
    rule : Optimizer
        The update rule; its stepper starts on the first step.
    seed : int
        The network's seed: the mini-batch shuffles' when the caller gives none.
    """

    def __init__(self, params: ParameterSet, architecture: tuple, rule: optimizers.Optimizer, seed: int):
        self.params, self.architecture, self.rule, self.seed = params, architecture, rule, seed
        self.stepper: Any = None
        self.shuffle: Any = None  # the generator of the shuffles when the caller passes none (or a seed)
        self.shuffle_seed: Any = None
        self._layers: dict[tuple[int, bool], Any] = {}

    # -- what an engine provides ----------------------------------------------------------------

    def layers(self, rows: int, batch: bool) -> Any:
        """The engine's `slopekit._backprop.Layers` for batches of ``rows`` (kept for later calls)."""
        raise NotImplementedError

    def gather(self, X: Any, Y: Any, idx: np.ndarray, layers: Any) -> tuple[Any, Any]:
        """The rows ``idx`` of ``X`` and ``Y``, as one mini-batch."""
        raise NotImplementedError

    def gather_weights(self, w: Any, idx: np.ndarray, layers: Any) -> tuple[Any, Any, Any]:
        """The rows ``idx`` of the weight column ``w``: ``(w_b, their sum, the sum to divide by)``.

        The last is the sum, or 1 where it is 0: a batch whose samples all
        weigh 0 has a loss and gradient of 0 rather than 0 / 0.
        """
        raise NotImplementedError

    def save(self) -> None:
        """Keep a copy of the parameters, to put back if the loss diverges."""
        raise NotImplementedError

    def restore(self) -> None:
        """Put back the parameters of the last `save`."""
        raise NotImplementedError

    def step(self, X: Any, Y: Any, layers: Any, learning_rate: float, l2: float, n_total: float,
             weights: tuple[Any, Any] | None = None) -> None:
        """Backpropagate the last forward pass on ``(X, Y)`` and take one optimizer step.

        ``n_total`` is the L2 term's :math:`n` (the whole data set's number
        of samples, or sum of sample weights); ``weights`` those of the pass.
        """
        raise NotImplementedError

    def optimizer_state(self) -> dict[str, Any]:
        """The stepper's state (NumPy arrays), or ``{"t": 0}`` before the first step."""
        return {"t": 0} if self.stepper is None else self.stepper.state()

    def load_optimizer_state(self, state: dict[str, Any]) -> None:
        """Start the stepper from a saved `optimizer_state`.

        A state before any step (``{"t": 0}`` alone) leaves the stepper unstarted:
        that is the same, and it is what a rule that is not a step rule
        (L-BFGS) has.
        """
        if dict(state) == {"t": 0} and self.stepper is None:
            return
        self.start_stepper()
        self.stepper.load_state(state)

    def start_stepper(self) -> None:
        raise NotImplementedError

    # -- the loop --------------------------------------------------------------------------------

    def loss(self, X: Any, Y: Any, layers: Any, l2: float, n_total: float,
             weights: tuple[Any, Any] | None = None) -> Any:
        """The forward pass and the loss (with the L2 term) of the current parameters on ``(X, Y)``."""
        p = self.params
        loss = layers.forward_loss(X, Y, p.weights, p.biases, weights)
        return loss + p.penalty(l2, n_total) if l2 else loss

    def generator(self, rng: Any) -> Any:
        """The generator of this call's shuffles: the caller's, or one seeded (by ``rng`` or the network's seed).

        A seed (or None) gives the same generator as the previous call with
        that seed, continued, so that one-epoch calls shuffle as one call of
        several epochs does.
        """
        if isinstance(rng, (np.random.RandomState, np.random.Generator)):
            return rng
        seed = self.seed if rng is None else rng
        if self.shuffle is None or self.shuffle_seed != seed:
            self.shuffle, self.shuffle_seed = np.random.RandomState(seed), seed
        return self.shuffle

    def epochs(self, X: Any, Y: Any, *, epochs: int, learning_rate: float, batch_size: int | None, l2: float,
               rng: Any, history: list[float], callback: Callable | None = None, verbose: int = 0,
               who: str = "fit", weights: tuple[Any, float] | None = None) -> list[float]:
        """Train for ``epochs`` epochs; returns their losses.

        The losses are also appended to ``history`` as they come. With full
        batches an epoch's loss is that of the parameters after its step; with
        mini-batches the mean of the batch losses met during the epoch, each
        measured before its step. Both include the L2 term.

        ``weights``, when given, is ``(w, total)``: the sample weights as a
        column ``(n, 1)`` of the data's library and dtype, and their sum (a
        positive float). The loss is then their weighted mean, each
        mini-batch's gradient the weighted mean over the batch (as
        scikit-learn's ``MLPClassifier``), an epoch's loss the batch losses'
        mean weighted by the batches' weight sums, and the L2 term's
        :math:`n` is ``total``.

        Raises
        ------
        Diverged
            If a loss is NaN or infinite: the parameters are put back as they
            were after the last finite epoch (as at the start of the failing
            epoch, for mini-batches).
        """
        n = X.shape[0]
        n_total = n if weights is None else weights[1]  # what the mean loss and the L2 term divide by
        rows = n if batch_size is None else min(batch_size, n)
        losses: list[float] = []
        if rows == n:
            layers = self.layers(n, False)
            loss = float(self.loss(X, Y, layers, l2, n_total, weights))
            if not math.isfinite(loss):
                raise self._diverged(who, 0, epochs, loss, learning_rate, losses)
            for epoch in range(1, epochs + 1):
                self.save()
                self.step(X, Y, layers, learning_rate, l2, n_total, weights)
                loss = float(self.loss(X, Y, layers, l2, n_total, weights))
                if self._end_epoch(epoch, loss, losses, history, callback, verbose, who, epochs, learning_rate):
                    break
            return losses
        shuffle = self.generator(rng)
        full = self.layers(rows, True)
        if weights is not None and hasattr(full, "weight_buffer"):
            full.weight_buffer()  # before `first`, whose views share it
        last = full.first(n % rows) if n % rows else full
        for epoch in range(1, epochs + 1):
            self.save()
            order = shuffle.permutation(n)
            total = self._batches(X, Y, None if weights is None else weights[0], order, (rows, full, last),
                                  learning_rate, l2, n_total, (who, epoch, epochs, losses))
            if self._end_epoch(epoch, float(total) / n_total, losses, history, callback, verbose, who, epochs,
                               learning_rate):
                break
        return losses

    def epochs_by_chunk(self, chunks: Any, *, epochs: int, learning_rate: float, batch_size: int, l2: float,
                        rng: Any, history: list[float], callback: Callable | None = None, verbose: int = 0,
                        who: str = "fit") -> list[float]:
        """Mini-batch epochs over data that comes in chunks of rows, one chunk in memory at a time.

        Each epoch draws the order of the chunks (one permutation), then, chunk
        after chunk, a permutation of the chunk's rows, and steps once per
        mini-batch of ``batch_size`` of them (the last of each chunk may be
        smaller). Both come from the generator of ``rng`` (as `epochs`). The
        parameters and the optimizer state go on from chunk to chunk; the L2
        term is that of all ``chunks.n`` samples. This is not `epochs`'s
        global shuffle: a batch never mixes two chunks.

        ``chunks`` gives ``total()`` (the number of samples, or the sum of
        their weights: what the mean loss and the L2 term divide by),
        ``sizes`` (the rows of each chunk) and ``fetch(order)``, the checked
        ``(X, Y, w)`` of the chunks in that order (``w`` None, or the weight
        column as `epochs` takes it). Each batch's gradient is its weighted
        mean, as in `epochs`. History, divergence and callbacks are as there.
        """
        n = chunks.total()  # the number of samples, or the sum of their weights
        shuffle = self.generator(rng)
        losses: list[float] = []
        layers_of: dict[int, Any] = {}
        for epoch in range(1, epochs + 1):
            self.save()
            order = shuffle.permutation(len(chunks.sizes))
            total: Any = 0.0
            for X, Y, w in chunks.fetch(order):
                n_c = X.shape[0]
                rows = min(batch_size, n_c)
                if rows not in layers_of:
                    layers_of[rows] = self.layers(rows, True)
                    if w is not None and hasattr(layers_of[rows], "weight_buffer"):
                        layers_of[rows].weight_buffer()  # before `first`, whose views share it
                full = layers_of[rows]
                last = full.first(n_c % rows) if n_c % rows else full
                perm = shuffle.permutation(n_c)
                total = total + self._batches(X, Y, w, perm, (rows, full, last), learning_rate, l2, n,
                                              (who, epoch, epochs, losses))
            if self._end_epoch(epoch, float(total) / n, losses, history, callback, verbose, who, epochs,
                               learning_rate):
                break
        return losses

    def _batches(self, X: Any, Y: Any, w: Any, order: np.ndarray, passes: tuple[int, Any, Any], learning_rate: float,
                 l2: float, n_total: float, where: tuple) -> Any:
        """One step per mini-batch of the rows ``order`` of ``(X, Y)``; returns the sum of their (weighted) losses.

        ``passes`` is ``(rows, full, last)``: the batch size and the engine's
        passes for a full batch and for the last, smaller one; ``w`` the
        weight column or None; ``where`` is ``(who, epoch, epochs, losses)``,
        for `Diverged`. Each loss is measured before its step.
        """
        rows, full, last = passes
        total: Any = 0.0
        for start in range(0, order.shape[0], rows):
            idx = order[start:start + rows]
            layers = full if idx.shape[0] == rows else last
            Xb, Yb = self.gather(X, Y, idx, layers)
            if w is None:
                batch, weight = None, Xb.shape[0]
            else:
                wb, weight, divisor = self.gather_weights(w, idx, layers)
                batch = (wb, divisor)
            loss = self.loss(Xb, Yb, layers, l2, n_total, batch)
            if isinstance(loss, float) and not math.isfinite(loss):  # on a device: checked per epoch
                who, epoch, epochs, losses = where
                raise self._diverged(who, epoch, epochs, loss, learning_rate, losses)
            total = total + loss * weight
            self.step(Xb, Yb, layers, learning_rate, l2, n_total, batch)
        return total

    def _end_epoch(self, epoch: int, loss: float, losses: list[float], history: list[float],
                   callback: Callable | None, verbose: int, who: str, epochs: int, learning_rate: float) -> bool:
        """Record an epoch's loss (or raise `Diverged`), print, call back; True if the callback asks to stop."""
        if not math.isfinite(loss):
            raise self._diverged(who, epoch, epochs, loss, learning_rate, losses)
        losses.append(loss)
        history.append(loss)
        if verbose and (epoch % verbose == 0 or epoch == epochs):
            print(f"epoch {epoch:>{len(str(epochs))}}/{epochs}: loss {loss:.6f}")
        return callback is not None and bool(callback(epoch, loss))

    def _diverged(self, who: str, epoch: int, epochs: int, loss: float, learning_rate: float,
                  losses: list[float]) -> Diverged:
        if epoch == 0:
            return Diverged(f"{who}: the loss is {loss} before the first epoch: the parameters or the data are too "
                            f"large for {self.params.dtype_name}; nothing was changed")
        self.restore()
        done = len(losses)
        kept = ("as before " + who) if not done else f"as after epoch {done}"
        return Diverged(f"{who}: the loss became {loss} at epoch {epoch} of {epochs}: gradient descent diverged. "
                        f"Try a smaller learning_rate than {learning_rate:g}; the parameters are left {kept}.")


class NumpyTraining(Training):
    """Training on NumPy arrays: flat parameters, preallocated buffers, the optimizer's factor folded in.

    The parameters live in one flat array ``P`` and each buffer set's
    gradients in another, tiled the same way, so the copy kept against
    divergence and a gradient-descent update are one call each. A stepper
    that offers `~slopekit.optimizers.Stepper.step_folded` gets its
    `~slopekit.optimizers.Stepper.fold` factor (the learning rate, for plain
    gradient descent) folded into :math:`dZ_L`, whence it reaches every
    gradient through the products.
    """

    def __init__(self, params: ParameterSet, architecture: tuple, rule: optimizers.Optimizer, seed: int):
        super().__init__(params, architecture, rule, seed)
        self.P = params.flat()
        self.saved = np.empty_like(self.P)
        self.l2_work: list[np.ndarray] | None = None

    def layers(self, rows, batch):
        key = (rows, batch)
        if key not in self._layers:
            self._layers[key] = NumpyLayers(*self.architecture, self.params.dtype, rows, batch)
        return self._layers[key]

    def gather(self, X, Y, idx, layers):
        Xb, Yb = layers.X, layers.Y
        np.take(X, idx, axis=0, out=Xb, mode="clip")  # "clip": no buffering; indices are valid
        np.take(Y, idx, axis=0, out=Yb, mode="clip")
        return Xb, Yb

    def gather_weights(self, w, idx, layers):
        wb = np.take(w, idx, axis=0, out=layers.w, mode="clip")
        weight = float(np.add.reduce(wb, axis=None))
        return wb, weight, weight if weight > 0 else 1.0

    def save(self):
        np.copyto(self.saved, self.P)

    def restore(self):
        np.copyto(self.P, self.saved)

    def start_stepper(self):
        if self.stepper is None:
            self.stepper = self.rule.start(self.params.arrays)

    def step(self, X, Y, layers, learning_rate, l2, n_total, weights=None):
        self.start_stepper()
        stepper = self.stepper
        folded = hasattr(stepper, "step_folded")  # a duck-typed stepper (params, t, step) gets plain gradients
        gradient_factor = float(stepper.fold(learning_rate)) if folded else 1.0
        W = self.params.weights
        grads = layers.backward(X, Y, W, gradient_factor, weights)
        if l2:
            if self.l2_work is None:
                self.l2_work = [np.empty_like(W_l) for W_l in W]
            layers.add_l2(W, gradient_factor * l2 / n_total, self.l2_work)
        if folded:
            stepper.step_folded(grads, learning_rate, (self.P, layers.G))
        else:
            stepper.step(grads, learning_rate)


    def sums_of(self, X: np.ndarray, Y: np.ndarray, weights: tuple[np.ndarray, float] | None = None
                ) -> Callable[[np.ndarray, bool], tuple[float, Any]]:
        """The full-batch `epochs_from_sums` and L-BFGS take this: the summed loss and gradients on ``(X, Y)``.

        Returns a function of the flat parameters ``P`` (this training's own,
        updated in place) and of whether the gradients are wanted, giving
        ``(sum of the samples' losses, flat float64 sum of their gradients or None)``.
        With ``weights`` (as for `epochs`), the weighted sums: divide by the
        sum of the weights.
        """
        n = X.shape[0] if weights is None else weights[1]
        layers = self.layers(X.shape[0], False)

        def total(P: np.ndarray, gradients: bool) -> tuple[float, Any]:
            p = self.params
            loss = float(layers.forward_loss(X, Y, p.weights, p.biases, weights)) * n
            if not gradients:
                return loss, None
            layers.backward(X, Y, p.weights, float(n), weights)
            return loss, layers.G.astype(np.float64)

        return total

    def epochs_from_sums(self, total: Callable[[np.ndarray, bool], tuple[float, Any]], n: int, *, epochs: int,
                         learning_rate: float, l2: float, history: list[float], callback: Callable | None = None,
                         verbose: int = 0, who: str = "fit") -> list[float]:
        """Full-batch epochs from summed losses and gradients (of shards of the data, added up by ``total``).

        ``total(P, gradients)`` returns the sum over the ``n`` samples of the
        loss and (if asked) of the gradients, flat, in float64: one pass over
        the data gives both. Each epoch divides by ``n``, adds the L2 term
        once, and takes one step with the optimizer's plain `step` (its
        state is the same as in `epochs`). An epoch's loss, that of the
        parameters after its step, comes from the next epoch's pass, and one
        loss-only pass gives the last. History, divergence and callbacks are
        as in `epochs`; the result agrees with `epochs` up to rounding.
        """
        losses: list[float] = []
        p = self.params
        self.start_stepper()
        shapes = [a.shape for a in p.arrays]
        loss_sum, G = total(self.P, True)
        loss = loss_sum / n + p.penalty(l2, n)
        if not math.isfinite(loss):
            raise self._diverged(who, 0, epochs, loss, learning_rate, losses)
        for epoch in range(1, epochs + 1):
            self.save()
            flat = (G / n).astype(self.P.dtype)
            grads = views(flat, shapes)
            if l2:
                for dW, W_l in zip(grads[0::2], p.weights):
                    dW += W_l * (l2 / n)
            self.stepper.step(grads, learning_rate)
            loss_sum, G = total(self.P, epoch < epochs)
            loss = loss_sum / n + p.penalty(l2, n)
            if self._end_epoch(epoch, loss, losses, history, callback, verbose, who, epochs, learning_rate):
                break
        return losses


class XpTraining(Training):
    """Training on arrays of another array-API library: functional steps, on the arrays' device."""

    def __init__(self, params: ParameterSet, architecture: tuple, rule: optimizers.Optimizer, seed: int):
        super().__init__(params, architecture, rule, seed)
        self.saved: list[Any] = list(params.arrays)

    def layers(self, rows, batch):
        key = (rows, batch)
        if key not in self._layers:
            self._layers[key] = XpLayers(self.params.xp, *self.architecture, self.params.dtype, rows)
        return self._layers[key]

    def gather(self, X, Y, idx, layers):
        xp = self.params.xp
        where = self.params.index(idx)
        return xp.take(X, where, axis=0), xp.take(Y, where, axis=0)

    def gather_weights(self, w, idx, layers):
        xp = self.params.xp
        wb = xp.take(w, self.params.index(idx), axis=0)
        weight = xp.sum(wb)  # a 0-d array: no trip to the host per batch
        return wb, weight, weight + xp.astype(weight == 0, weight.dtype)  # 0 -> 1: see Training.gather_weights

    def save(self):
        self.saved = list(self.params.arrays)  # steps make new arrays: the old ones are the copy

    def restore(self):
        self.params.arrays = list(self.saved)

    def start_stepper(self):
        if self.stepper is None:
            self.stepper = self.rule.start_xp(self.params.xp, self.params.arrays)

    def step(self, X, Y, layers, learning_rate, l2, n_total, weights=None):
        self.start_stepper()
        p = self.params
        W = p.weights
        grads = layers.backward(X, Y, W, 1.0, weights)
        if l2:
            for i, W_l in enumerate(W):
                grads[2 * i] = grads[2 * i] + W_l * (l2 / n_total)
        p.arrays = self.stepper.step(p.arrays, grads, learning_rate)
