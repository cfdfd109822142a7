"""Full-batch L-BFGS for `slopekit.Network.fit`, through SciPy's L-BFGS-B.

SciPy minimises a function of one flat float64 vector; here that vector is
the network's flat parameters ``P`` (`slopekit._training.NumpyTraining`), and
the function is the mean loss with its L2 term, and its gradient, from one
pass over the data: ``total(P, True)`` sums them over the samples, in memory
or over the chunks of a Dask array. SciPy is imported on the first call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import optimizers
from ._training import Diverged


def run(training: Any, total: Callable[[np.ndarray, bool], tuple[float, Any]], n: int, rule: optimizers.LBFGS, *,
        epochs: int, l2: float, history: list[float], callback: Callable | None = None, verbose: int = 0,
        who: str = "fit") -> list[float]:
    r"""Minimise the loss by L-BFGS for at most ``epochs`` iterations; the parameters end at SciPy's answer.

    The objective is :math:`\mathcal L(P) = \frac1n \sum_i \ell_i +
    \frac{\lambda}{2n} \sum_l \lVert W_l \rVert^2` and its gradient, in
    float64 for SciPy (the passes themselves run in the network's dtype).
    ``history`` gains the loss after each iteration and ``callback(iteration,
    loss)`` is called then (a true return value stops). A loss that is not
    finite at the start raises `slopekit._training.Diverged`; SciPy's line
    search steps back from non-finite losses itself.

    Returns
    -------
    list of float
        The losses of the iterations.
    """
    try:
        import scipy
        from scipy.optimize import minimize
    except ImportError:  # pragma: no cover - scipy comes with the lbfgs, sklearn, dask and test extras
        raise ImportError(f"{who}: optimizer='lbfgs' needs SciPy: pip install \"slopekit[lbfgs]\"") from None
    if tuple(int(part) for part in scipy.__version__.split(".")[:2]) < (1, 11):  # pragma: no cover
        raise ImportError(f"{who}: optimizer='lbfgs' needs SciPy 1.11 or later (its callbacks), found "
                          f"{scipy.__version__}: pip install \"slopekit[lbfgs]\"")
    p = training.params
    P = training.P
    penalty_mask = np.concatenate([np.full(a.size, float(i % 2 == 0)) for i, a in enumerate(p.arrays)])
    losses: list[float] = []

    def evaluate(x: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(over="ignore"):
            np.copyto(P, x, casting="unsafe")
        loss_sum, G = total(P, True)
        loss = loss_sum / n + p.penalty(l2, n)
        grad = G / n
        if l2:
            grad += (l2 / n) * penalty_mask * P.astype(np.float64)
        if not (math.isfinite(loss) and np.isfinite(grad).all()):
            return math.inf, np.zeros_like(grad)  # the line search backs off
        return loss, grad

    x0 = P.astype(np.float64)
    start = [evaluate(x0)]  # SciPy asks for x0 first: that pass over the data is not made twice
    if not math.isfinite(start[0][0]):
        np.copyto(P, x0, casting="unsafe")
        raise Diverged(f"{who}: the loss is {start[0][0]} before the first iteration: the parameters or the data "
                       f"are too large for {p.dtype_name}; nothing was changed")

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        if start and np.array_equal(x, x0):
            return start.pop()
        return evaluate(x)

    def after_iteration(intermediate_result: Any) -> None:
        iteration = len(losses) + 1
        loss = float(intermediate_result.fun)
        losses.append(loss)
        history.append(loss)
        if verbose and (iteration % verbose == 0 or iteration == epochs):
            print(f"iteration {iteration:>{len(str(epochs))}}/{epochs}: loss {loss:.6f}")
        if callback is not None and bool(callback(iteration, loss)):
            raise StopIteration

    result = minimize(objective, x0, jac=True, method="L-BFGS-B", callback=after_iteration,
                      options={"maxiter": epochs, "maxcor": rule.memory, "gtol": rule.gtol, "ftol": rule.ftol,
                               "maxfun": max(15000, 2 * epochs)})
    with np.errstate(over="ignore"):
        np.copyto(P, result.x, casting="unsafe")  # the last pass may have been a trial of the line search
    return losses
