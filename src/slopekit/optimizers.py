r"""How a gradient becomes a step: plain gradient descent, momentum and Adam.

An optimizer is an immutable value holding its hyperparameters; `Optimizer.start`
gives a `Stepper` that owns the running state (velocities, moments, the step
count) for one set of parameter arrays and updates them in place. Every update
writes into preallocated arrays: no temporaries per step.

The formulas are the course's (Deep Learning Specialization, course 2):
momentum averages gradients as :math:`v \leftarrow \beta v + (1 - \beta)\,dW`
(PyTorch's ``SGD(momentum=β)`` omits the :math:`1 - \beta`, which only rescales
the learning rate), and Adam is Kingma and Ba's, identical to ``torch.optim.Adam``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from . import _flat, _lookup, _params

__all__ = ["Adam", "GradientDescent", "LBFGS", "Momentum", "Optimizer", "Stepper", "XpStepper", "get", "names"]


def _zeros_like_all(params: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Zero arrays shaped like ``params``; views of one flat array when the params share a dtype."""
    dtypes = {p.dtype for p in params}
    if len(dtypes) != 1:
        return [np.zeros_like(p) for p in params], None
    flat = np.zeros(sum(p.size for p in params), dtypes.pop())
    return _flat.views(flat, [p.shape for p in params]), flat


class Stepper:
    """The running state of an optimizer for one list of parameter arrays.

    Parameters
    ----------
    params : sequence of ndarray
        The arrays to update in place, in a fixed order.
    """

    def __init__(self, params: Sequence[np.ndarray]):
        self.params = list(params)
        self.t = 0  #: the number of steps taken

    def step(self, grads: Sequence[np.ndarray], learning_rate: float) -> None:
        """Update every parameter in place from its gradient.

        ``grads`` lines up with ``params``; its arrays are used as scratch space
        and hold garbage afterwards.
        """
        raise NotImplementedError

    #: The names of the stepper's running state: attributes holding one array per parameter.
    _state_names: tuple[str, ...] = ()

    def state(self) -> dict[str, Any]:
        """A copy of the running state: ``{"t": steps}`` and one list of arrays per moment.

        Momentum adds ``"v"``; Adam ``"v"`` and ``"s"``, each one array per
        parameter. Scratch space and the parameters themselves are not part of
        it. `load_state` puts it back, so training can stop and continue
        exactly (what ``slopekit train --resume`` checkpoints).

        Examples
        --------
        >>> import numpy as np
        >>> from slopekit import optimizers
        >>> stepper = optimizers.Momentum(beta=0.5).start([np.zeros(2)])
        >>> stepper.step([np.ones(2)], learning_rate=1.0)
        >>> stepper.state()
        {'t': 1, 'v': [array([0.5, 0.5])]}
        """
        state: dict[str, Any] = {"t": int(self.t)}
        for name in self._state_names:
            state[name] = [np.array(x, copy=True) for x in getattr(self, name)]
        return state

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore a `state` of a stepper of the same kind over parameters of the same shapes.

        A state with ``t == 0`` may leave out the moments (they are zero then).

        Raises
        ------
        ValueError
            For missing or unexpected names, or arrays of the wrong number or shape.
        """
        expected = {"t", *self._state_names}
        fresh = "t" in state and int(state["t"]) == 0  # before the first step the moments are zero: optional
        if not set(state) <= expected or "t" not in state or (not fresh and set(state) != expected):
            raise ValueError(f"load_state: expected the names {sorted(expected)}, got {sorted(state)}")
        arrays = {}
        for name in self._state_names:
            mine = getattr(self, name)
            saved = list(state[name]) if name in state else [np.zeros_like(x) for x in mine]
            if len(saved) != len(mine) or any(np.shape(x) != y.shape for x, y in zip(saved, mine)):
                raise ValueError(f"load_state: {name} must be {len(mine)} arrays of shapes "
                                 f"{[y.shape for y in mine]}, got {[np.shape(x) for x in saved]}")
            arrays[name] = saved
        self.t = int(state["t"])
        for name, saved in arrays.items():
            for x, value in zip(getattr(self, name), saved):
                np.copyto(x, value, casting="same_kind")

    def fold(self, learning_rate: float) -> float:
        r"""The factor a caller may fold into the gradients it passes to `step_folded`.

        Gradient descent's update is :math:`-\alpha\, dW`: a caller that
        computes :math:`dW` as a product can scale the smaller operand by
        :math:`\alpha` and save a pass over :math:`dW`. The default, 1, folds
        nothing.
        """
        return 1.0

    def step_folded(self, grads: Sequence[np.ndarray], learning_rate: float,
                    flat: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """`step` with ``grads`` already multiplied by ``fold(learning_rate)``.

        ``flat``, when given, is ``(P, G)``: 1-D arrays that ``params`` and
        ``grads`` tile in order (views made by ``slopekit._flat.views``), so
        the update can run as a few calls over all parameters at once. The
        default ignores it.
        """
        self.step(grads, learning_rate)


class Optimizer:
    """An update rule; `start` binds it to NumPy parameter arrays, `start_xp` to arrays of any library."""

    name: ClassVar[str]
    #: The names of the running state, one array per parameter each (momentum's ``v``, Adam's ``v``, ``s``).
    state_names: ClassVar[tuple[str, ...]] = ()

    def start(self, params: Sequence[np.ndarray]) -> Stepper:
        """A fresh `Stepper` (zero state) updating ``params`` in place."""
        raise NotImplementedError

    def start_xp(self, xp: Any, params: Sequence[Any]) -> XpStepper:
        """A fresh `XpStepper` (zero state) for arrays of the array-API namespace ``xp``.

        Raises
        ------
        TypeError
            For an optimizer with no array-API form (one defined outside
            slopekit that only implements `start`).
        """
        if type(self).update_xp is Optimizer.update_xp:
            raise TypeError(f"optimizer {self!r} has no array-API form (update_xp); train on NumPy arrays, or "
                            "use 'gd', 'momentum' or 'adam'")
        return XpStepper(self, xp, params)

    def update_xp(self, xp: Any, t: int, p: Any, dp: Any, state: dict[str, Any], learning_rate: float) -> Any:
        """One step for one parameter ``p`` of any library: returns the new ``p``; updates ``state`` (its moments).

        ``t`` is the step's number, from 1.
        """
        raise NotImplementedError


class XpStepper:
    """The running state of an optimizer over arrays of an array-API namespace, updated functionally.

    `step` returns new parameter arrays rather than writing into them, so it
    serves libraries whose arrays are immutable (JAX) as well as PyTorch and
    CuPy. `state` and `load_state` use NumPy arrays, as `Stepper`'s do.
    """

    def __init__(self, rule: Optimizer, xp: Any, params: Sequence[Any]):
        self.rule, self.xp, self.t = rule, xp, 0
        self.moments = {name: [xp.zeros_like(p) for p in params] for name in rule.state_names}

    def step(self, params: Sequence[Any], grads: Sequence[Any], learning_rate: float) -> list[Any]:
        """The parameters after one step from ``grads`` (new arrays)."""
        self.t += 1
        new = []
        for i, (p, dp) in enumerate(zip(params, grads)):
            state = {name: arrays[i] for name, arrays in self.moments.items()}
            new.append(self.rule.update_xp(self.xp, self.t, p, dp, state, learning_rate))
            for name, arrays in self.moments.items():
                arrays[i] = state[name]
        return new

    def state(self) -> dict[str, Any]:
        """As `Stepper.state`: ``{"t": steps}`` and one list of NumPy arrays per moment."""
        from ._backends import to_numpy

        state: dict[str, Any] = {"t": int(self.t)}
        for name, arrays in self.moments.items():
            state[name] = [np.array(to_numpy(x, self.xp), copy=True) for x in arrays]
        return state

    def load_state(self, state: Mapping[str, Any]) -> None:
        """As `Stepper.load_state`, from NumPy arrays (moved to the parameters' library and device)."""
        from ._backends import device_of, from_numpy

        names = tuple(self.moments)
        expected = {"t", *names}
        fresh = "t" in state and int(state["t"]) == 0
        if not set(state) <= expected or "t" not in state or (not fresh and set(state) != expected):
            raise ValueError(f"load_state: expected the names {sorted(expected)}, got {sorted(state)}")
        loaded = {}
        for name in names:
            mine = self.moments[name]
            saved = list(state[name]) if name in state else None
            if saved is None:
                loaded[name] = [self.xp.zeros_like(x) for x in mine]
                continue
            if len(saved) != len(mine) or any(np.shape(x) != tuple(y.shape) for x, y in zip(saved, mine)):
                raise ValueError(f"load_state: {name} must be {len(mine)} arrays of shapes "
                                 f"{[tuple(y.shape) for y in mine]}, got {[np.shape(x) for x in saved]}")
            loaded[name] = [from_numpy(np.asarray(x), self.xp, device_of(y, self.xp), y.dtype)
                            for x, y in zip(saved, mine)]
        self.t = int(state["t"])
        self.moments.update(loaded)


class _GradientDescentStepper(Stepper):
    def step(self, grads, learning_rate):
        self.t += 1
        for p, dp in zip(self.params, grads):
            np.multiply(dp, learning_rate, out=dp)
            np.subtract(p, dp, out=p)

    def fold(self, learning_rate):
        return learning_rate

    def step_folded(self, grads, learning_rate, flat=None):
        self.t += 1  # grads are alpha dW already: W = W - alpha dW is one subtraction
        if flat is not None:
            np.subtract(flat[0], flat[1], out=flat[0])
            return
        for p, dp in zip(self.params, grads):
            np.subtract(p, dp, out=p)


@dataclass(frozen=True)
class GradientDescent(Optimizer):
    r"""Plain gradient descent, the lecture's :math:`W \leftarrow W - \alpha\, dW`.

    With mini-batches this is stochastic gradient descent.

    Examples
    --------
    >>> import numpy as np
    >>> from slopekit import optimizers
    >>> W = np.array([1.0, 2.0])
    >>> optimizers.GradientDescent().start([W]).step([np.array([10.0, -10.0])], learning_rate=0.1)
    >>> W
    array([0., 3.])
    """

    name = "gd"

    def start(self, params):
        return _GradientDescentStepper(params)

    def update_xp(self, xp, t, p, dp, state, learning_rate):
        return p - learning_rate * dp


class _MomentumStepper(Stepper):
    _state_names = ("v",)

    def __init__(self, params, beta):
        super().__init__(params)
        self.beta = beta
        self.v, self._v = _zeros_like_all(self.params)  # v: one view per parameter of the flat _v

    def step(self, grads, learning_rate):
        self.t += 1
        beta = self.beta
        for p, dp, v in zip(self.params, grads, self.v):
            np.multiply(v, beta, out=v)
            np.multiply(dp, 1.0 - beta, out=dp)
            np.add(v, dp, out=v)  # v = beta v + (1 - beta) dW
            np.multiply(v, learning_rate, out=dp)
            np.subtract(p, dp, out=p)  # W = W - alpha v

    def fold(self, learning_rate):
        return 1.0 - self.beta

    def step_folded(self, grads, learning_rate, flat=None):
        self.t += 1  # grads are (1 - beta) dW already
        beta = self.beta
        if flat is not None and self._v is not None:
            triples = [(flat[0], flat[1], self._v)]
        else:
            triples = zip(self.params, grads, self.v)
        for p, dp, v in triples:
            np.multiply(v, beta, out=v)
            np.add(v, dp, out=v)  # v = beta v + (1 - beta) dW
            np.multiply(v, learning_rate, out=dp)
            np.subtract(p, dp, out=p)  # W = W - alpha v


@dataclass(frozen=True)
class Momentum(Optimizer):
    r"""Gradient descent with momentum: a step along the running average of the gradients.

    Parameters
    ----------
    beta : float, default 0.9
        How much of the previous velocity to keep, in :math:`[0, 1)`; 0 is
        plain gradient descent.

    Notes
    -----
    .. math::

        v \leftarrow \beta v + (1 - \beta)\, dW, \qquad W \leftarrow W - \alpha v,

    with :math:`v = 0` at the start (the course's convention).

    Examples
    --------
    >>> import numpy as np
    >>> from slopekit import optimizers
    >>> W = np.array([1.0])
    >>> stepper = optimizers.Momentum(beta=0.5).start([W])
    >>> stepper.step([np.array([1.0])], learning_rate=1.0)  # v = 0.5
    >>> stepper.step([np.array([1.0])], learning_rate=1.0)  # v = 0.75
    >>> W
    array([-0.25])
    """

    beta: float = 0.9
    name = "momentum"

    def __post_init__(self):
        beta = _params.real("momentum", "beta", self.beta)
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"momentum: beta must lie in [0, 1), got {beta!r}")
        object.__setattr__(self, "beta", beta)

    state_names = ("v",)

    def start(self, params):
        return _MomentumStepper(params, self.beta)

    def update_xp(self, xp, t, p, dp, state, learning_rate):
        v = state["v"] * self.beta + dp * (1.0 - self.beta)
        state["v"] = v
        return p - v * learning_rate


class _AdamStepper(Stepper):
    _state_names = ("v", "s")

    def __init__(self, params, beta1, beta2, eps):
        super().__init__(params)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.v, self._v = _zeros_like_all(self.params)  # views of flat arrays, as for momentum
        self.s, self._s = _zeros_like_all(self.params)
        self._work, self._w = _zeros_like_all(self.params)

    def step(self, grads, learning_rate):
        self._update(zip(self.params, grads, self.v, self.s, self._work), learning_rate)

    def step_folded(self, grads, learning_rate, flat=None):
        if flat is not None and self._v is not None:
            self._update([(flat[0], flat[1], self._v, self._s, self._w)], learning_rate)
        else:
            self.step(grads, learning_rate)

    def _update(self, arrays, learning_rate):
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        correction1 = 1.0 - b1 ** self.t
        root_correction2 = math.sqrt(1.0 - b2 ** self.t)
        step_size = learning_rate / correction1
        for p, dp, v, s, w in arrays:
            np.multiply(dp, dp, out=w)
            np.multiply(w, 1.0 - b2, out=w)
            np.multiply(s, b2, out=s)
            np.add(s, w, out=s)  # s = beta2 s + (1 - beta2) dW^2
            np.multiply(dp, 1.0 - b1, out=dp)
            np.multiply(v, b1, out=v)
            np.add(v, dp, out=v)  # v = beta1 v + (1 - beta1) dW
            np.sqrt(s, out=w)
            np.divide(w, root_correction2, out=w)
            np.add(w, self.eps, out=w)  # sqrt(s_hat) + eps
            np.divide(v, w, out=w)
            np.multiply(w, step_size, out=w)  # alpha v_hat / (sqrt(s_hat) + eps)
            np.subtract(p, w, out=p)


@dataclass(frozen=True)
class Adam(Optimizer):
    r"""Adam: momentum on the gradient, scaled by a running root-mean-square of it.

    Parameters
    ----------
    beta1 : float, default 0.9
        Decay of the first moment (the velocity), in :math:`[0, 1)`.
    beta2 : float, default 0.999
        Decay of the second moment, in :math:`[0, 1)`.
    eps : float, default 1e-8
        Added to the root of the second moment; positive.

    Notes
    -----
    At step :math:`t = 1, 2, \dots`

    .. math::

        v \leftarrow \beta_1 v + (1 - \beta_1)\, dW, \quad
        s \leftarrow \beta_2 s + (1 - \beta_2)\, dW^2, \quad
        W \leftarrow W - \alpha \frac{v / (1 - \beta_1^t)}{\sqrt{s / (1 - \beta_2^t)} + \epsilon}.

    Examples
    --------
    The first step moves every weight by about the learning rate, whatever
    the gradient's size:

    >>> import numpy as np
    >>> from slopekit import optimizers
    >>> W = np.array([0.0, 0.0])
    >>> optimizers.Adam().start([W]).step([np.array([1e-3, -50.0])], learning_rate=0.1)
    >>> W.round(4)
    array([-0.1,  0.1])
    """

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    name = "adam"

    def __post_init__(self):
        for field in ("beta1", "beta2"):
            value = _params.real("adam", field, getattr(self, field))
            if not 0.0 <= value < 1.0:
                raise ValueError(f"adam: {field} must lie in [0, 1), got {value!r}")
            object.__setattr__(self, field, value)
        eps = _params.real("adam", "eps", self.eps)
        if eps <= 0.0:
            raise ValueError(f"adam: eps must be positive, got {eps!r}")
        object.__setattr__(self, "eps", eps)

    state_names = ("v", "s")

    def start(self, params):
        return _AdamStepper(params, self.beta1, self.beta2, self.eps)

    def update_xp(self, xp, t, p, dp, state, learning_rate):
        b1, b2 = self.beta1, self.beta2
        s = state["s"] * b2 + (dp * dp) * (1.0 - b2)
        v = state["v"] * b1 + dp * (1.0 - b1)
        state["v"], state["s"] = v, s
        denominator = xp.sqrt(s) / math.sqrt(1.0 - b2 ** t) + self.eps
        return p - (v / denominator) * (learning_rate / (1.0 - b1 ** t))


@dataclass(frozen=True)
class LBFGS(Optimizer):
    r"""Full-batch L-BFGS, through ``scipy.optimize.minimize(method="L-BFGS-B")``.

    Not a step rule: `slopekit.Network.fit` hands the whole loss and its
    gradient (:math:`\mathcal L`, :math:`dW_l`, :math:`db_l` over all samples)
    to SciPy, which keeps the last ``memory`` steps and their gradient changes
    to approximate the inverse Hessian, and searches along each direction for
    a step that lowers the loss enough (no learning rate). This is what
    scikit-learn's ``MLPClassifier(solver="lbfgs")`` and Spark MLlib's
    multilayer perceptron do. ``epochs`` is the limit on iterations; SciPy
    may stop earlier when the projected gradient falls below ``gtol`` or the
    relative decrease of the loss below ``ftol``. SciPy is imported only
    when L-BFGS runs.

    Parameters
    ----------
    memory : int, default 10
        The number of corrections kept (SciPy's ``maxcor``).
    gtol, ftol : float
        SciPy's stopping tolerances (its defaults).

    Examples
    --------
    >>> from slopekit import optimizers
    >>> optimizers.get("lbfgs")
    LBFGS(memory=10, gtol=1e-05, ftol=2.220446049250313e-09)
    """

    name: ClassVar[str] = "lbfgs"
    memory: int = 10
    gtol: float = 1e-5
    ftol: float = 2.220446049250313e-09

    def __post_init__(self):
        if isinstance(self.memory, bool) or not isinstance(self.memory, numbers.Integral) or self.memory < 1:
            raise ValueError(f"lbfgs: memory must be a positive integer, got {self.memory!r}")
        for field in ("gtol", "ftol"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
                raise ValueError(f"lbfgs: {field} must be a real number >= 0, got {value!r}")

    def start(self, params):
        raise ValueError("lbfgs is not a step rule: it runs whole through Network.fit (full batch), not step by "
                         "step (partial_fit, mini-batches)")

    def start_xp(self, xp, params):
        return self.start(params)


_REGISTRY: dict[str, type[Optimizer]] = {"gd": GradientDescent, "sgd": GradientDescent,
                                         "momentum": Momentum, "adam": Adam, "lbfgs": LBFGS}


def names() -> tuple[str, ...]:
    """The names `get` accepts (``"sgd"`` is another name for ``"gd"``).

    Examples
    --------
    >>> from slopekit import optimizers
    >>> optimizers.names()
    ('adam', 'gd', 'lbfgs', 'momentum', 'sgd')
    """
    return tuple(sorted(_REGISTRY))


def get(optimizer: str | Optimizer, **params: Any) -> Optimizer:
    """An optimizer by name with hyperparameters, or an optimizer object as it is.

    Raises
    ------
    ValueError
        For an unknown name or an invalid hyperparameter value.
    TypeError
        For an unknown hyperparameter, or something that is neither a name
        nor an `Optimizer`.

    Examples
    --------
    >>> from slopekit import optimizers
    >>> optimizers.get("momentum", beta=0.8)
    Momentum(beta=0.8)
    >>> optimizers.get("adam")
    Adam(beta1=0.9, beta2=0.999, eps=1e-08)
    """
    if isinstance(optimizer, Optimizer):
        if params:
            raise TypeError(f"optimizer: hyperparameters {sorted(params)} cannot be applied to {optimizer!r}")
        return optimizer
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be one of {', '.join(map(repr, names()))} or an Optimizer, "
                        f"got {type(optimizer).__name__} {optimizer!r}")
    key, cls = _lookup.find("optimizer", optimizer, _REGISTRY)
    return _lookup.build(key, cls, params, "hyperparameter")
