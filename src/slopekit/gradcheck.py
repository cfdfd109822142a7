r"""The course's gradient check: backpropagation against the slope of the loss measured numerically."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _params

__all__ = ["gradient_check"]


def gradient_check(net: Any, X: Any, y: Any, eps: float = 1e-7, *, l2: float = 0.0,
                   sample_weight: Any = None) -> float:
    r"""The relative difference between the backpropagated and the numerical gradient of ``net.loss``.

    Parameters
    ----------
    net : Network
        The network to check; it is not changed.
    X, y
        Data, as for `Network.loss`.
    eps : float, default 1e-7
        Half-width of the central difference; positive.
    l2 : float, default 0
        Check the gradient of the L2-regularised loss instead.
    sample_weight : array_like of shape (n_samples,), optional
        Check the gradient of the weighted mean loss (see `Network.loss`).

    Returns
    -------
    float
        .. math::

            \frac{\lVert g_{\text{num}} - g_{\text{bp}} \rVert_2}
                 {\lVert g_{\text{num}} \rVert_2 + \lVert g_{\text{bp}} \rVert_2}

        over every parameter at once (0 if both are 0). The course's rule of
        thumb: below :math:`10^{-7}` is right, around :math:`10^{-5}` suspicious,
        above :math:`10^{-3}` a bug.

    Notes
    -----
    Each component of :math:`g_{\text{num}}` is the lecture's height over
    width of a small triangle on the loss,

    .. math::

        \frac{J(\theta_i + \epsilon) - J(\theta_i - \epsilon)}{(\theta_i + \epsilon) - (\theta_i - \epsilon)},

    with the width measured after rounding, so it is the width evaluated. The
    check runs on a float64 copy of the network (float32 parameters convert
    exactly): at ``eps=1e-7`` a float32 difference would measure rounding,
    not slope. Take data away from the kinks of ReLU-like activations: a
    triangle straddling one measures neither side's slope. Check at a generic
    point, not at a minimum: where the gradient is 0 the ratio compares
    rounding noise with nothing and comes out near 1.

    Examples
    --------
    >>> import numpy as np, slopekit
    >>> net = slopekit.Network([2, 3, 1], hidden="tanh")
    >>> X, y = np.random.RandomState(0).randn(8, 2), np.arange(8) % 2
    >>> slopekit.gradient_check(net, X, y) < 1e-7
    True
    >>> slopekit.gradient_check(net, X, y, l2=0.1, sample_weight=np.linspace(0.0, 2.0, 8)) < 1e-7
    True
    """
    from . import _backends
    from .network import Network

    if not isinstance(net, Network):
        raise TypeError(f"gradient_check: net must be a slopekit.Network, got {type(net).__name__}")
    eps = _params.real("gradient_check", "eps", eps)
    if eps <= 0:
        raise ValueError(f"gradient_check: eps must be positive, got {eps!r}")
    X = _backends.to_numpy(X, _backends.library_of(X, "gradient_check", "X"))
    y = _backends.to_numpy(y, _backends.library_of(y, "gradient_check", "y"))
    if sample_weight is not None:
        sample_weight = _backends.to_numpy(sample_weight, _backends.library_of(sample_weight, "gradient_check",
                                                                               "sample_weight"))
    weighted = {"l2": l2, "sample_weight": sample_weight}
    params = {k: _backends.to_numpy(p, _backends.library_of(p, "gradient_check", k)).astype(np.float64)
              for k, p in net.parameters().items()}
    work = Network(net.layer_sizes, list(net.hidden), net.output, seed=net.seed, dtype=np.float64, init=net.init)
    work.set_parameters(params)
    try:
        analytic = np.concatenate([g.ravel() for g in work.gradients(X, y, **weighted).values()])
    except (TypeError, ValueError) as exc:
        raise type(exc)(str(exc).replace("gradients:", "gradient_check:", 1)) from None

    numeric = np.empty_like(analytic)
    i = 0
    for theta in params.values():
        flat = theta.reshape(-1)  # a view: perturbing it perturbs params
        for j in range(flat.size):
            original = flat[j]
            flat[j] = original + eps
            plus, loss_plus = flat[j], work.set_parameters(params).loss(X, y, **weighted)
            flat[j] = original - eps
            minus, loss_minus = flat[j], work.set_parameters(params).loss(X, y, **weighted)
            flat[j] = original
            numeric[i] = (loss_plus - loss_minus) / (plus - minus)
            i += 1
    scale = float(np.linalg.norm(numeric)) + float(np.linalg.norm(analytic))
    return 0.0 if scale == 0 else float(np.linalg.norm(numeric - analytic)) / scale
