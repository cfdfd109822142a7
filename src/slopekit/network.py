r"""A fully connected network trained by backpropagation and gradient descent (lecture L8).

The backward pass is built on the activation objects: each hidden layer's
:math:`dZ` is ``g.backward(dA, a=A)``, the lecture's slope from the cached
output (:math:`a(1 - a)` for the sigmoid, :math:`1 - a^2` for tanh), wherever
the activation has that shortcut, and ``g.backward(dA, z=Z)`` otherwise. (On
its own preallocated buffers the network runs the kernels behind ``g(z)`` and
``g.backward`` directly, skipping the argument checks of a public call, with
the same results; an activation that overrides those methods is called
through them.)
Batches of samples are the rows of a matrix, as in scikit-learn; the lecture's
single-sample :math:`z, a, da, dz` become the matrices :math:`Z, A, dA, dZ`.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import _params, losses, optimizers
from .activations import Activation, LeakyReLU, ReLU, get

__all__ = ["Network"]

_INITS = ("glorot", "he", "small")
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# -- checking what callers pass -----------------------------------------------------------


def _layer_sizes(layer_sizes: Any) -> tuple[int, ...]:
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, (Sequence, np.ndarray)):
        raise TypeError("layer_sizes must be a sequence of positive integers such as [2, 4, 1], "
                        f"got {type(layer_sizes).__name__} {layer_sizes!r}")
    sizes = list(np.asarray(layer_sizes).tolist() if isinstance(layer_sizes, np.ndarray) else layer_sizes)
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes needs at least 2 entries (inputs, ..., outputs), got {sizes!r}")
    for i, n in enumerate(sizes):
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"layer_sizes[{i}] must be a positive integer, got {n!r} in {sizes!r}")
    return tuple(int(n) for n in sizes)


def _hidden_activations(hidden: Any, count: int) -> tuple[Activation, ...]:
    if isinstance(hidden, (str, Activation)):
        return _along_units((get(hidden),) * count)
    if isinstance(hidden, Sequence):
        if len(hidden) != count:
            raise ValueError(f"hidden: got {len(hidden)} activations for {count} hidden layer(s); pass one "
                             "activation for all of them or exactly one per hidden layer")
        return _along_units(tuple(get(g) for g in hidden))
    raise TypeError("hidden must be an activation name, an Activation, or a sequence of them (one per hidden "
                    f"layer), got {type(hidden).__name__} {hidden!r}")


def _along_units(acts: tuple[Activation, ...]) -> tuple[Activation, ...]:
    """Refuse a softmax-like hidden activation taken along the samples (axis 0 of ``(n, n_l)``)."""
    for g in acts:
        axis = getattr(g, "axis", -1)
        if not g.elementwise and axis not in (-1, 1):
            raise ValueError(f"hidden: {g!r} would normalise each unit across the samples of a batch (a layer's "
                             "array is (n_samples, n_units)), so a prediction would depend on the other samples; "
                             "use axis=-1")
    return acts


def _dtype(dtype: Any) -> np.dtype:
    try:
        result = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be numpy.float32 or numpy.float64, got {dtype!r}") from None
    if result not in _DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {result}")
    return result


def _seed(seed: Any) -> int:
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an integer or None, got {type(seed).__name__} {seed!r}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must lie in [0, 2**32 - 1], got {seed!r}")
    return int(seed)


def _init(init: Any) -> str | None:
    if init is None:
        return None
    if not isinstance(init, str):
        raise TypeError(f"init must be None or one of {', '.join(map(repr, _INITS))}, got {type(init).__name__}")
    key = init.strip().lower()
    if key not in _INITS:
        raise ValueError(f"unknown init {init!r}; expected None (a default per activation) or one of "
                         f"{', '.join(map(repr, _INITS))}")
    return key


def _positive_int(who: str, name: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{who}: {name} must be a positive integer, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{who}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _positive_real(who: str, name: str, value: Any) -> float:
    result = _params.real(who, name, value)
    if result <= 0:
        raise ValueError(f"{who}: {name} must be positive, got {result!r}")
    return result


def _non_negative_real(who: str, name: str, value: Any) -> float:
    result = _params.real(who, name, value)
    if result < 0:
        raise ValueError(f"{who}: {name} must be >= 0, got {result!r}")
    return result


def _init_std(init: str | None, g: Activation | None, fan_in: int, fan_out: int) -> float:
    """The standard deviation of a layer's initial weights; ``g`` is None for the output layer."""
    if init == "small":
        return 0.01
    if init is None:
        init = "he" if isinstance(g, (ReLU, LeakyReLU)) else "glorot"
    if init == "he":
        slope = g.slope if isinstance(g, LeakyReLU) else 0.0
        return math.sqrt(2.0 / ((1.0 + slope * slope) * fan_in))
    return math.sqrt(2.0 / (fan_in + fan_out))


def _lean(g: Activation) -> tuple[bool, bool]:
    """How the network calls a hidden activation: ``(direct, from_output)``.

    ``direct``: the activation keeps the public `Activation.__call__` and
    `Activation.backward`, so the network may call the kernels behind them
    (``_run_np``, ``_backward_np``) on its own buffers and skip the checks
    every public call makes, with the same results. A subclass that
    overrides either public method gets called through it instead.
    ``from_output``: the backward pass takes the slope from the cached output.
    """
    cls = type(g)
    direct = cls.__call__ is Activation.__call__ and cls.backward is Activation.backward
    return direct, bool(g.has_derivative_from_output)


def _bare(g: Activation, lean: tuple[bool, bool], kernel: str, size: int, dtype: np.dtype) -> Callable | None:
    """The NumPy kernel ``g.<kernel>_np`` itself, when the network may call it straight on its buffers.

    That is when `_lean` allows direct calls, the activation keeps the base
    class's `~Activation._run_np` and `~Activation._backward_np` (which would
    run the same kernel, after checks that the network's buffers always pass:
    one memory order, float32 or float64, no overlap), and arrays of ``size``
    elements run in one piece rather than in blocks. It saves a few
    microseconds of Python per call, which a mini-batch step makes four of
    in a two-hidden-layer network. None otherwise.
    """
    cls = type(g)
    if not lean[0] or cls._run_np is not Activation._run_np or cls._backward_np is not Activation._backward_np:
        return None
    if size >= g._blocked_from(kernel, dtype):
        return None
    return getattr(g, kernel + "_np")


class _Buffers:
    """The arrays of one forward and backward pass over ``rows`` samples, allocated once.

    Lists are indexed by the layer ``l`` as in the lecture (index 0 unused):
    ``Z[l]``, ``A[l]`` of shape ``(rows, n_l)``; ``dA[l]`` for the hidden
    layers; ``dZ[l]``; ``scratch`` for the output loss; ``ones``, a row of
    ones that sums over the samples by a matrix product. With ``batch``,
    ``X`` and ``Y`` hold one mini-batch's shuffled inputs and targets (else None).
    """

    __slots__ = ("rows", "Z", "A", "dA", "dZ", "scratch", "ones", "X", "Y", "value_np", "slope_np")

    def __init__(self, sizes: tuple[int, ...], rows: int, dtype: np.dtype, head: losses.OutputLoss,
                 batch: bool = False, hidden: Sequence[Activation] = (),
                 lean: Sequence[tuple[bool, bool]] = ()):
        self.rows = rows
        # value_np[l], slope_np[l]: hidden layer l's bare NumPy kernels (`_bare`), or None.
        self.value_np = [None] + [_bare(g, f, "_value", rows * n, dtype)
                                  for g, f, n in zip(hidden, lean, sizes[1:-1])]
        self.slope_np = [None] + [_bare(g, f, "_from_output" if f[1] else "_derivative", rows * n, dtype)
                                  for g, f, n in zip(hidden, lean, sizes[1:-1])]
        self.ones = np.ones(rows, dtype)
        self.X = np.empty((rows, sizes[0]), dtype) if batch else None
        self.Y = np.empty((rows, sizes[-1]), dtype) if batch else None
        self.Z = [None] + [np.empty((rows, n), dtype) for n in sizes[1:]]
        self.A = [None] + [np.empty((rows, n), dtype) for n in sizes[1:-1]]
        self.A.append(self.Z[-1] if head.output == "identity" else np.empty((rows, sizes[-1]), dtype))
        self.dA = [None] + [np.empty((rows, n), dtype) for n in sizes[1:-1]] + [None]
        self.dZ = [None] + [np.empty((rows, n), dtype) for n in sizes[1:]]
        self.scratch = head.scratch(rows, sizes[-1], dtype)

    def first(self, rows: int) -> _Buffers:
        """Views of the first ``rows`` rows (for a last, smaller mini-batch)."""
        view = object.__new__(_Buffers)
        view.rows = rows
        view.value_np, view.slope_np = self.value_np, self.slope_np  # fewer rows: still below the block size
        for name in ("Z", "A", "dA", "dZ"):
            setattr(view, name, [None if x is None else x[:rows] for x in getattr(self, name)])
        view.scratch = tuple(x[:rows] for x in self.scratch)
        view.ones = self.ones[:rows]
        view.X = None if self.X is None else self.X[:rows]
        view.Y = None if self.Y is None else self.Y[:rows]
        return view


# -- the network ----------------------------------------------------------------------------


class Network:
    r"""A fully connected neural network trained by backpropagation and gradient descent.

    Parameters
    ----------
    layer_sizes : sequence of int
        :math:`[n_0, n_1, \dots, n_L]`: the number of input features, of units
        in each hidden layer, and of outputs. ``[2, 4, 1]`` is the course's
        network with one hidden layer of four units; ``[2, 1]`` is logistic
        regression.
    hidden : str, Activation, or sequence of them, default "relu"
        The hidden layers' activation: a name of `slopekit.names`, an object
        such as ``slopekit.get("leaky_relu", slope=0.001)``, or one per hidden
        layer.
    output : {"sigmoid", "softmax", "identity"}, default "sigmoid"
        The output activation, which fixes the loss (`slopekit.losses`):
        ``"sigmoid"`` (one unit) with binary cross-entropy on labels 0/1;
        ``"softmax"`` (one unit per class) with categorical cross-entropy on
        integer labels; ``"identity"`` with half the mean squared error, the
        mean over samples and outputs of :math:`(a - y)^2 / 2`.
    seed : int or None, default 0
        Seeds NumPy's ``RandomState`` for the initial weights and the
        mini-batch shuffles; None picks one at random (kept in `seed`).
        ``RandomState``'s stream never changes between NumPy versions (NEP 19).
    dtype : numpy.float32 or numpy.float64, default numpy.float64
        The dtype of every parameter and of every array of training: data is
        converted once, and float32 stays float32 end to end.
    init : {None, "he", "glorot", "small"}, default None
        The initial weights :math:`W_l \sim \mathcal N(0, \sigma^2)`: ``"he"``
        :math:`\sigma^2 = 2 / ((1 + s^2) n_{l-1})` (:math:`s` a Leaky ReLU's
        slope, else 0), ``"glorot"`` :math:`\sigma^2 = 2 / (n_{l-1} + n_l)`,
        ``"small"`` the course's ``randn * 0.01``. None uses He for layers of the
        ReLU family and Glorot for the others. Biases start at 0.

    Attributes
    ----------
    history : list of float
        The training loss of each epoch of the last `fit` (see there).
    info : dict
        Free JSON data saved and loaded with the network (`save`): what the
        caller needs to use it again, such as column names, classes or
        scaling statistics (``slopekit train`` keeps these there). Empty at
        first.

    Notes
    -----
    ``X`` has shape ``(n_samples, n_features)``, :math:`W_l` shape
    :math:`(n_l, n_{l-1})` (the lecture's, and ``torch.nn.Linear``'s) and
    :math:`b_l` shape :math:`(n_l,)`. With :math:`A_0 = X` the forward pass is

    .. math::

        Z_l = A_{l-1} W_l^\top + b_l, \qquad A_l = g_l(Z_l), \qquad l = 1, \dots, L,

    and for the loss :math:`\mathcal L`, the mean over the :math:`n` samples,
    backpropagation runs

    .. math::

        dZ_L = \tfrac1n (A_L - Y), \quad dW_l = dZ_l^\top A_{l-1}, \quad
        db_l = \textstyle\sum_i (dZ_l)_{i\cdot}, \quad
        dA_{l-1} = dZ_l W_l, \quad dZ_{l-1} = dA_{l-1} \odot g_{l-1}'(Z_{l-1}),

    where :math:`g'` comes from the cached :math:`A_{l-1}` when the activation
    allows. (For ``"identity"`` with :math:`k` outputs the mean also runs over
    the outputs, so :math:`dZ_L = (A_L - Y) / (nk)`.)

    Examples
    --------
    >>> import slopekit
    >>> from slopekit import datasets
    >>> X, y = datasets.xor()
    >>> net = slopekit.Network([2, 4, 1], hidden="tanh", output="sigmoid")
    >>> net.fit(X, y, epochs=300, learning_rate=0.5).score(X, y)
    1.0
    >>> {name: p.shape for name, p in net.parameters().items()}
    {'W1': (4, 2), 'b1': (4,), 'W2': (1, 4), 'b2': (1,)}
    >>> net.predict([[1.0, -1.0], [1.0, 1.0]])
    array([1, 0])
    """

    def __init__(self, layer_sizes: Sequence[int], hidden: Any = "relu", output: str = "sigmoid", *,
                 seed: int | None = 0, dtype: Any = np.float64, init: str | None = None):
        self._configure(layer_sizes, hidden, output, dtype, seed, init)
        rng = np.random.RandomState(self._seed)
        acts = (*self._hidden, None)
        for fan_in, fan_out, g in zip(self._sizes[:-1], self._sizes[1:], acts):
            std = _init_std(self._init, g, fan_in, fan_out)
            self._W.append((rng.randn(fan_out, fan_in) * std).astype(self._dtype))
            self._b.append(np.zeros(fan_out, self._dtype))

    def _configure(self, layer_sizes, hidden, output, dtype, seed, init) -> None:
        """Check the architecture and set everything but the parameters."""
        sizes = _layer_sizes(layer_sizes)
        acts = _hidden_activations(hidden, len(sizes) - 2)
        head = losses.for_output(output)
        head.check_n_outputs(sizes[-1])
        self._sizes, self._hidden, self._head = sizes, acts, head
        self._lean = tuple(_lean(g) for g in acts)
        self._dtype, self._seed, self._init = _dtype(dtype), _seed(seed), _init(init)
        self._W: list[np.ndarray] = []
        self._b: list[np.ndarray] = []
        self.history: list[float] = []
        self.info: dict[str, Any] = {}

    # -- what the network is ------------------------------------------------------------------

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """:math:`(n_0, \\dots, n_L)`: inputs, hidden units per layer, outputs."""
        return self._sizes

    @property
    def hidden(self) -> tuple[Activation, ...]:
        """The activation of each hidden layer."""
        return self._hidden

    @property
    def output(self) -> str:
        """The output activation: ``"sigmoid"``, ``"softmax"`` or ``"identity"``."""
        return self._head.output

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the parameters and of training."""
        return self._dtype

    @property
    def seed(self) -> int:
        """The seed of the initial weights and of the mini-batch shuffles."""
        return self._seed

    @property
    def init(self) -> str | None:
        """The initialisation asked for (None: a default per activation)."""
        return self._init

    def __repr__(self) -> str:
        def spec(g: Activation) -> str:
            try:
                plain = g == get(g.name)
            except (TypeError, ValueError):  # an activation the registry does not know
                plain = False
            return repr(g.name) if plain else repr(g)

        specs = [spec(g) for g in self._hidden]
        hidden = specs[0] if len(set(specs)) == 1 else "[" + ", ".join(specs) + "]"
        return (f"Network({list(self._sizes)}, hidden={hidden}, output={self.output!r}, seed={self._seed}, "
                f"dtype={self._dtype.name!r}, init={self._init!r})")

    def _names(self) -> list[str]:
        return [f"{p}{l}" for l in range(1, len(self._sizes)) for p in "Wb"]

    def _shapes(self) -> list[tuple[int, ...]]:
        shapes: list[tuple[int, ...]] = []
        for n_prev, n in zip(self._sizes[:-1], self._sizes[1:]):
            shapes += [(n, n_prev), (n,)]
        return shapes

    def _param_list(self) -> list[np.ndarray]:
        """The live parameter arrays ``[W1, b1, W2, b2, ...]``, in the order of `_names`."""
        return [p for pair in zip(self._W, self._b) for p in pair]

    def _flat_parameters(self) -> tuple[list[np.ndarray], np.ndarray]:
        """The live parameters as views of one flat array ``P``, moving them there if they are not yet.

        Training keeps them so: a gradient-descent update, and the copy kept
        against divergence, are then one call over all parameters.
        """
        params = self._param_list()
        flat = optimizers._flat_of(params)
        if flat is None:
            flat = np.empty(sum(p.size for p in params), self._dtype)
            views = optimizers._views(flat, [p.shape for p in params])
            for view, p in zip(views, params):
                np.copyto(view, p)
            self._W, self._b = views[0::2], views[1::2]
            params = views
        return params, flat

    def _copy(self, dtype: Any = None) -> Network:
        """An independent copy, optionally converted to another dtype."""
        new = object.__new__(type(self))
        new._configure(self._sizes, self._hidden, self.output, self._dtype if dtype is None else dtype,
                       self._seed, self._init)
        new._W = [W.astype(new._dtype) for W in self._W]
        new._b = [b.astype(new._dtype) for b in self._b]
        new.history = list(self.history)
        new.info = json.loads(json.dumps(self.info))
        return new

    # -- parameters ---------------------------------------------------------------------------

    def parameters(self) -> dict[str, np.ndarray]:
        """Copies of the parameters: ``{"W1": W1, "b1": b1, "W2": ..., ...}``.

        :math:`W_l` has shape :math:`(n_l, n_{l-1})`, :math:`b_l` shape
        :math:`(n_l,)`, in the network's dtype. Changing them does not change
        the network; `set_parameters` does.

        Examples
        --------
        >>> import slopekit
        >>> net = slopekit.Network([2, 3, 1], init="small", seed=2)
        >>> p = net.parameters()
        >>> p["W2"] *= 0  # a copy: the network keeps its weights
        >>> bool(net.parameters()["W2"].any())
        True
        """
        return {name: p.copy() for name, p in zip(self._names(), self._param_list())}

    def set_parameters(self, parameters: Mapping[str, Any]) -> Network:
        """Replace every parameter.

        Parameters
        ----------
        parameters : mapping
            Exactly the names of `parameters` (``"W1"``, ``"b1"``, ...), each an
            array_like of real numbers of the right shape. Values are copied
            and converted to the network's dtype.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Naming the missing or unexpected names, or the parameter with the
            wrong shape, a dtype that is not real numbers, or NaN or infinity.
            Nothing is changed then.
        TypeError
            If ``parameters`` is not a mapping.

        Examples
        --------
        >>> import slopekit
        >>> net = slopekit.Network([2, 1])
        >>> net.set_parameters({"W1": [[1.0, -1.0]], "b1": [0.5]}).predict([[2.0, 1.0], [0.0, 3.0]])
        array([1, 0])
        >>> net.set_parameters({"W1": [[1.0, -1.0, 0.0]], "b1": [0.5]})
        Traceback (most recent call last):
        ...
        ValueError: set_parameters: W1 has shape (1, 3), expected (1, 2)
        """
        who = "set_parameters"
        if not isinstance(parameters, Mapping):
            raise TypeError(f"{who}: expected a mapping of names to arrays, got {type(parameters).__name__}")
        expected = self._names()
        missing = [k for k in expected if k not in parameters]
        unexpected = [k for k in parameters if k not in expected]
        if missing or unexpected:
            raise ValueError(f"{who}: expected exactly {expected}; missing {missing}, unexpected {unexpected}")
        arrays = []
        for name, shape in zip(expected, self._shapes()):
            try:
                value = np.asarray(parameters[name])
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{who}: {name} is not an array: {exc}") from None
            if value.dtype.kind not in "iuf":
                raise ValueError(f"{who}: {name} must hold real numbers, got dtype {value.dtype}")
            if value.shape != shape:
                raise ValueError(f"{who}: {name} has shape {value.shape}, expected {shape}")
            with np.errstate(over="ignore"):
                value = np.array(value, dtype=self._dtype, order="C", copy=True)
            if not np.isfinite(value).all():
                raise ValueError(f"{who}: {name} contains NaN or infinity (in {self._dtype.name})")
            arrays.append(value)
        self._W, self._b = arrays[0::2], arrays[1::2]
        return self

    # -- data -----------------------------------------------------------------------------------

    def _features(self, X: Any, who: str) -> np.ndarray:
        """``X`` as a 2-D array of the network's dtype; the caller's array is never written to."""
        try:
            arr = np.asarray(X)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{who}: X is not an array: {exc}") from None
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{who}: X must hold real numbers, got dtype {arr.dtype}")
        n0 = self._sizes[0]
        if arr.ndim != 2:
            raise ValueError(f"{who}: X must be 2-D, shape (n_samples, {n0}), got shape {arr.shape}; use "
                             "X.reshape(1, -1) for a single sample or X.reshape(-1, 1) for a single feature")
        if arr.shape[0] == 0:
            raise ValueError(f"{who}: X is empty (0 samples); expected at least 1")
        if arr.shape[1] != n0:
            hint = ("; if your samples are columns, as in the course's notation, pass X.T"
                    if arr.shape[0] == n0 else "")
            raise ValueError(f"{who}: X has {arr.shape[1]} features, but the network expects {n0} "
                             f"(layer_sizes[0]){hint}")
        with np.errstate(over="ignore"):
            arr = arr.astype(self._dtype, copy=False)
        if not np.isfinite(arr).all():
            raise ValueError(f"{who}: X contains NaN or infinity (in {self._dtype.name})")
        return arr

    def _buffers(self, rows: int, batch: bool = False) -> _Buffers:
        return _Buffers(self._sizes, rows, self._dtype, self._head, batch, self._hidden, self._lean)

    def _data(self, X: Any, y: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
        X = self._features(X, who)
        return X, self._head.targets(y, X.shape[0], self._sizes[-1], self._dtype, who)

    # -- forward and backward -----------------------------------------------------------------

    def _forward(self, X: np.ndarray, buf: _Buffers) -> np.ndarray:
        """Fill ``buf.Z`` and the hidden ``buf.A``; return the output layer's :math:`Z_L`."""
        A, Zs, As, last = X, buf.Z, buf.A, len(self._W)
        for l, (W, b) in enumerate(zip(self._W, self._b), start=1):
            Z = np.matmul(A, W.T, out=Zs[l])
            np.add(Z, b, out=Z)  # Z_l = A_{l-1} W_l^T + b_l
            if l < last:  # A_l = g_l(Z_l)
                g = self._hidden[l - 1]
                bare = buf.value_np[l]
                if bare is not None:  # the kernel behind g(Z, out=A), called straight: same result
                    A = As[l]
                    bare(Z, A)
                elif self._lean[l - 1][0]:  # g(Z, out=A) without a public call's checks: same result
                    A = As[l]
                    g._run_np("_value", Z, A)
                else:
                    A = g(Z, out=As[l])
        return Z

    def _forward_loss(self, X: np.ndarray, Y: np.ndarray, buf: _Buffers) -> float:
        """The forward pass through the output activation; returns the mean loss."""
        Z = self._forward(X, buf)
        return self._head.forward(Z, Y, buf.A[-1], buf.scratch)

    def _backward(self, X: np.ndarray, Y: np.ndarray, buf: _Buffers,
                  dW: list[np.ndarray], db: list[np.ndarray], factor: float = 1.0) -> None:
        """Backpropagation: write :math:`dW_l, db_l` of the mean loss into ``dW[l-1], db[l-1]``.

        With ``factor``, the gradients come out multiplied by it: it is folded
        into :math:`dZ_L`, the smallest array, and every later product is
        linear in it (`fit` folds an optimizer's learning rate this way).
        """
        L = len(self._W)
        # dZ_L = (A_L - Y) / n. This is the whole slope of the loss at the output's
        # pre-activation only because output and loss are a matched pair (sigmoid with
        # binary cross-entropy, softmax with categorical cross-entropy, identity with squared
        # error): there dL/dA_L * g'(Z_L) cancels to A_L - Y. Any other pair needs the full
        # product dA_L * g'(Z_L). See losses.OutputLoss.delta.
        As, dZs, ones = buf.A, buf.dZ, buf.ones
        dZ = self._head.delta(As[L], Y, out=dZs[L], factor=factor)
        for l in range(L, 0, -1):
            A_prev = As[l - 1] if l > 1 else X
            np.matmul(dZ.T, A_prev, out=dW[l - 1])  # dW_l = dZ_l^T A_{l-1}
            np.matmul(ones, dZ, out=db[l - 1])  # db_l = sum of dZ_l over the samples (one BLAS call)
            if l == 1:
                break
            dA = np.matmul(dZ, self._W[l - 1], out=buf.dA[l - 1])  # dA_{l-1} = dZ_l W_l
            g = self._hidden[l - 2]
            direct, from_output = self._lean[l - 2]
            bare = buf.slope_np[l - 1]
            if bare is not None:  # what _backward_np does below its block size: slope, then times dA
                dZ = dZs[l - 1]
                bare(As[l - 1] if from_output else buf.Z[l - 1], dZ)
                np.multiply(dZ, dA, out=dZ)
            elif direct:  # g.backward(dA, a= or z=, out=dZ) without a public call's checks: same result
                dZ = dZs[l - 1]
                if from_output:
                    g._backward_np("_from_output", dA, As[l - 1], dZ)
                else:
                    g._backward_np("_derivative", dA, buf.Z[l - 1], dZ)
            elif from_output:  # the lecture's way: g'(z) from the cached a
                dZ = g.backward(dA, a=As[l - 1], out=dZs[l - 1])
            else:  # e.g. ReLU(at_zero=1): a = 0 cannot tell z < 0 from z = 0
                dZ = g.backward(dA, z=buf.Z[l - 1], out=dZs[l - 1])

    def _penalty(self, l2: float, n: int) -> float:
        r""":math:`\frac{\lambda}{2n} \sum_l \lVert W_l \rVert^2`, the L2 term of the loss."""
        if not l2:
            return 0.0
        return l2 / (2.0 * n) * math.fsum(float(np.vdot(W, W)) for W in self._W)

    def _add_l2(self, dW: list[np.ndarray], factor: float, work: list[np.ndarray]) -> None:
        """``dW_l += factor * W_l``, the slope of the L2 term, without temporaries."""
        for g, W, w in zip(dW, self._W, work):
            np.multiply(W, factor, out=w)
            np.add(g, w, out=g)

    # -- the loss and its gradient ---------------------------------------------------------------

    def loss(self, X: Any, y: Any, *, l2: float = 0.0) -> float:
        r"""The mean loss on ``(X, y)``, computed stably from the output's pre-activation.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
        y : array_like
            Labels 0/1 of shape ``(n_samples,)`` or ``(n_samples, 1)`` for
            ``"sigmoid"``; integer labels of shape ``(n_samples,)`` for
            ``"softmax"``; targets of shape ``(n_samples,)`` or
            ``(n_samples, n_outputs)`` for ``"identity"``.
        l2 : float, default 0
            Adds :math:`\frac{\lambda}{2n} \sum_l \lVert W_l \rVert_F^2` (biases
            are not penalised), :math:`n` the number of samples.

        Returns
        -------
        float

        Notes
        -----
        Binary cross-entropy is :math:`\operatorname{softplus}((1 - 2y) z)`
        and categorical cross-entropy :math:`\log\sum_k e^{z_k} - z_y` by
        log-sum-exp (`slopekit.losses`): never :math:`\log 0`.

        Examples
        --------
        >>> import numpy as np, slopekit
        >>> net = slopekit.Network([2, 1], output="sigmoid")
        >>> net.set_parameters({"W1": [[1000.0, 0.0]], "b1": [0.0]})
        Network([2, 1], hidden=[], output='sigmoid', seed=0, dtype='float64', init=None)
        >>> net.loss([[1.0, 0.0]], [0])  # a = 1 for label 0: large, but finite
        1000.0
        """
        X, Y = self._data(X, y, "loss")
        l2 = _non_negative_real("loss", "l2", l2)
        buf = self._buffers(X.shape[0])
        return self._forward_loss(X, Y, buf) + self._penalty(l2, X.shape[0])

    def gradients(self, X: Any, y: Any, *, l2: float = 0.0) -> dict[str, np.ndarray]:
        r"""The exact gradient of `loss` by vectorised backpropagation.

        Parameters
        ----------
        X, y, l2
            As for `loss`.

        Returns
        -------
        dict
            ``{"W1": dW1, "b1": db1, ...}``, new arrays shaped like the
            parameters, in the network's dtype. With ``l2``,
            :math:`dW_l` gains :math:`\frac{\lambda}{n} W_l`.

        Examples
        --------
        >>> import numpy as np, slopekit
        >>> net = slopekit.Network([3, 5, 2], hidden="tanh", output="softmax")
        >>> X, y = np.random.RandomState(0).randn(10, 3), np.arange(10) % 2
        >>> grads = net.gradients(X, y)
        >>> list(grads), grads["W1"].shape
        (['W1', 'b1', 'W2', 'b2'], (5, 3))
        >>> slopekit.gradient_check(net, X, y) < 1e-7
        True
        """
        X, Y = self._data(X, y, "gradients")
        l2 = _non_negative_real("gradients", "l2", l2)
        n = X.shape[0]
        buf = self._buffers(n)
        self._forward_loss(X, Y, buf)
        dW = [np.empty_like(W) for W in self._W]
        db = [np.empty_like(b) for b in self._b]
        self._backward(X, Y, buf, dW, db)
        if l2:
            self._add_l2(dW, l2 / n, [np.empty_like(W) for W in self._W])
        return dict(zip(self._names(), (g for pair in zip(dW, db) for g in pair)))

    # -- training -------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any, *, epochs: int, learning_rate: float, batch_size: int | None = None,
            optimizer: str | optimizers.Optimizer = "gd", l2: float = 0.0,
            callback: Callable[[int, float], Any] | None = None, verbose: int = 0,
            rng: np.random.RandomState | np.random.Generator | None = None) -> Network:
        r"""Train by gradient descent on the loss of `loss`; returns ``self``.

        Parameters
        ----------
        X, y
            Training data, as for `loss`; converted once to the network's dtype.
        epochs : int
            Passes over the data; positive.
        learning_rate : float
            The step size :math:`\alpha`; positive.
        batch_size : int, optional
            None (or at least ``n_samples``): full-batch gradient descent, one
            step per epoch, as in the lecture. Otherwise each epoch shuffles the
            samples (one permutation drawn from ``rng``) and steps once per
            mini-batch; the last batch may be smaller.
        optimizer : {"gd", "momentum", "adam"} or Optimizer, default "gd"
            The update rule (`slopekit.optimizers`); an object such as
            ``optimizers.Adam(beta1=0.8)`` sets hyperparameters. Its state
            starts from zero on every call.
        l2 : float, default 0
            L2 regularisation :math:`\lambda`: the loss gains
            :math:`\frac{\lambda}{2n} \sum_l \lVert W_l \rVert^2` with :math:`n`
            the number of training samples, whatever the batch size.
        callback : callable, optional
            Called as ``callback(epoch, loss)`` after each epoch (1-based); a
            true return value stops training after that epoch.
        verbose : int, default 0
            Print the loss every ``verbose`` epochs and after the last; 0 is
            silent.
        rng : numpy.random.RandomState or numpy.random.Generator, optional
            Where the mini-batch shuffles come from: each epoch draws one
            permutation, at its start. The default is a ``RandomState`` seeded
            by `seed`, afresh for each call, so that `fit` is deterministic;
            pass one generator to several calls (or save its state in a
            ``callback``) to continue one sequence of shuffles across them.
            Full-batch training does not use it.

        Returns
        -------
        self

        Raises
        ------
        ValueError, TypeError
            For bad data or arguments (see `loss`), before anything changes.
        FloatingPointError
            If the loss becomes NaN or infinite. The message names the epoch
            and suggests a smaller learning rate; the parameters are left as
            they were after the last epoch whose loss was finite (for
            mini-batches: as at the start of the failing epoch), and `history`
            holds the finite losses.

        Notes
        -----
        ``history`` is reset on each call and gets one loss per epoch. With
        full batches it is the loss of the parameters after the epoch's step;
        with mini-batches, the mean of the batch losses met during the epoch,
        each measured before its step (scikit-learn's ``loss_curve_``). Both
        include the L2 term.

        Training allocates its buffers once (activations, their slopes, the
        gradients, the optimizer's state) and every step writes into them; the
        network's own loop makes no temporaries (an activation's kernel may use
        a scratch array of its own). The parameters move into one flat array
        on the first call, so an update is one operation over all of them.
        Plain gradient descent and momentum fold their constant factor
        (:math:`\alpha`, :math:`1 - \beta`) into :math:`dZ_L` instead of
        scaling every :math:`dW_l`: the same arithmetic up to rounding in the
        last bits.

        Examples
        --------
        >>> import slopekit
        >>> from slopekit import datasets
        >>> X, y = datasets.spirals()
        >>> net = slopekit.Network([2, 32, 3], "relu", "softmax")
        >>> _ = net.fit(X, y, epochs=300, learning_rate=0.01, batch_size=32, optimizer="adam")
        >>> len(net.history), net.history[-1] < net.history[0] / 4, net.score(X, y) > 0.95
        (300, True, True)
        """
        who = "fit"
        X, Y = self._data(X, y, who)
        epochs = _positive_int(who, "epochs", epochs)
        learning_rate = _positive_real(who, "learning_rate", learning_rate)
        if batch_size is not None:
            batch_size = _positive_int(who, "batch_size", batch_size)
        rule = optimizers.get(optimizer)
        l2 = _non_negative_real(who, "l2", l2)
        if callback is not None and not callable(callback):
            raise TypeError(f"{who}: callback must be callable, got {type(callback).__name__}")
        if rng is not None and not isinstance(rng, (np.random.RandomState, np.random.Generator)):
            raise TypeError(f"{who}: rng must be a numpy.random.RandomState or numpy.random.Generator, "
                            f"got {type(rng).__name__}")
        if isinstance(verbose, (bool, np.bool_)):
            verbose = int(verbose)
        if not isinstance(verbose, numbers.Integral) or verbose < 0:
            raise ValueError(f"{who}: verbose must be an integer >= 0 (print every that many epochs), "
                             f"got {verbose!r}")
        n = X.shape[0]
        rows = n if batch_size is None else min(batch_size, n)

        # Everything is checked: from here on the network changes.
        run = _Run(self, epochs, learning_rate, rule, l2, callback, int(verbose), rng)
        buf = self._buffers(rows, batch=rows < n)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            if rows == n:
                run.full_batch(X, Y, buf)
            else:
                run.mini_batches(X, Y, buf)
        return self

    # -- using the network ------------------------------------------------------------------------

    def _output_z(self, X: Any, who: str) -> np.ndarray:
        X = self._features(X, who)
        return self._forward(X, self._buffers(X.shape[0]))

    def predict(self, X: Any) -> np.ndarray:
        """Predictions for the rows of ``X``.

        Returns
        -------
        ndarray
            Class labels (int64, shape ``(n_samples,)``) for ``"sigmoid"``
            (1 where :math:`a > 1/2`, that is :math:`z > 0`) and ``"softmax"``
            (the most probable class); the outputs themselves for
            ``"identity"``, shape ``(n_samples,)`` for one output and
            ``(n_samples, n_outputs)`` otherwise.
        """
        return self._head.predict(self._output_z(X, "predict"))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``, rows summing to 1.

        For ``"sigmoid"`` the columns are :math:`(1 - a, a)`, as in scikit-learn.

        Raises
        ------
        TypeError
            For ``output="identity"``, a regression.

        Examples
        --------
        >>> import slopekit
        >>> net = slopekit.Network([1, 1]).set_parameters({"W1": [[2.0]], "b1": [0.0]})
        >>> net.predict_proba([[0.0], [1.0]]).round(3)  # columns: 1 - a, a
        array([[0.5  , 0.5  ],
               [0.119, 0.881]])
        """
        if self.output == "identity":
            raise TypeError("predict_proba: output='identity' is a regression and has no class probabilities; "
                            "use predict")
        return self._head.proba(self._output_z(X, "predict_proba"))

    def score(self, X: Any, y: Any) -> float:
        """Accuracy for classification; the coefficient of determination :math:`R^2` for ``"identity"``.

        :math:`R^2 = 1 - \\sum (y - a)^2 / \\sum (y - \\bar y)^2`, averaged over
        the outputs, as scikit-learn's ``r2_score``.

        Examples
        --------
        >>> import slopekit
        >>> net = slopekit.Network([1, 1], output="identity").set_parameters({"W1": [[2.0]], "b1": [1.0]})
        >>> net.score([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])  # y = 2x + 1 exactly
        1.0
        """
        X, Y = self._data(X, y, "score")
        Z = self._forward(X, self._buffers(X.shape[0]))
        if self.output == "identity":
            Y64, Z64 = Y.astype(np.float64), Z.astype(np.float64)
            residual = ((Y64 - Z64) ** 2).sum(axis=0)
            total = ((Y64 - Y64.mean(axis=0)) ** 2).sum(axis=0)
            safe = np.where(total > 0, total, 1.0)
            r2 = np.where(total > 0, 1.0 - residual / safe, np.where(residual == 0, 1.0, 0.0))
            return float(r2.mean())
        truth = Y[:, 0] if Y.shape[1] == 1 else np.argmax(Y, axis=1)
        return float(np.mean(self._head.predict(Z) == truth))

    # -- saving -------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the network to one ``.npz`` file at ``path`` (exactly that name).

        The file holds the parameters as arrays and the architecture, seed and
        `history` and `info` as JSON text in a ``uint8`` array: nothing is pickled. The
        write is atomic: a temporary file in the same directory, renamed over
        ``path`` once complete, so a crash never leaves half a model.

        Raises
        ------
        ValueError
            If a hidden activation is not one `slopekit.get` can rebuild, or
            `history` holds something other than finite numbers.
        OSError
            If the file cannot be written; ``path`` is then untouched.

        Examples
        --------
        >>> import os, tempfile, numpy as np, slopekit
        >>> net = slopekit.Network([2, 3, 1], hidden="leaky_relu")
        >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
        >>> net.save(path)
        >>> again = slopekit.Network.load(path)
        >>> again
        Network([2, 3, 1], hidden='leaky_relu', output='sigmoid', seed=0, dtype='float64', init=None)
        >>> all(np.array_equal(p, q) for p, q in zip(net.parameters().values(), again.parameters().values()))
        True
        """
        from . import _serialize

        _serialize.save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Network:
        """Read a network written by `save`.

        Nothing in the file is executed: arrays are read with
        ``allow_pickle=False`` and the metadata is JSON.

        Raises
        ------
        ValueError
            For a file that is not a saved network, is corrupt or truncated,
            holds object arrays, misses arrays or has extra ones, has arrays of
            the wrong shape or dtype or with NaN, or names an unknown
            activation.
        OSError
            If the file cannot be read (FileNotFoundError if it does not exist).
        """
        from . import _serialize

        return _serialize.load(cls, path)


class _Run:
    """One call of `Network.fit`: the training loops and their bookkeeping.

    The parameters live in one flat array ``P`` (`Network._flat_parameters`)
    and their gradients in another, ``G``, tiled the same way, so the copy
    kept against divergence and a gradient-descent update are one call each.
    The optimizer's `~slopekit.optimizers.Stepper.fold` factor (the learning
    rate for plain gradient descent) is folded into the output layer's
    :math:`dZ_L` and reaches every gradient through the products.
    """

    def __init__(self, net: Network, epochs: int, learning_rate: float, rule: optimizers.Optimizer,
                 l2: float, callback: Callable | None, verbose: int,
                 rng: np.random.RandomState | np.random.Generator | None = None):
        params, self.P = net._flat_parameters()
        stepper = rule.start(params)
        self.net, self.epochs, self.learning_rate = net, epochs, learning_rate
        self.stepper, self.l2 = stepper, l2
        self.callback, self.verbose = callback, verbose
        # A stepper that is not a Stepper subclass (duck-typed: params, t, step) gets unfolded gradients.
        self.fold = float(stepper.fold(learning_rate)) if hasattr(stepper, "step_folded") else 1.0
        self.G = np.empty_like(self.P)
        self.grads = optimizers._views(self.G, [p.shape for p in params])  # [dW1, db1, dW2, ...]
        self.dW, self.db = self.grads[0::2], self.grads[1::2]  # the same arrays, by kind
        bound = getattr(stepper, "params", None)
        same = bound is not None and len(bound) == len(params) and all(a is b for a, b in zip(bound, params))
        self.flat = (self.P, self.G) if same else None
        self.saved = self.P.copy()  # the parameters after the last good epoch
        self.l2_work = [np.empty_like(W) for W in net._W] if l2 else None
        self.previous_history, net.history = net.history, []
        self.rng = np.random.RandomState(net.seed) if rng is None else rng  # the mini-batch shuffles

    def _step(self, X: np.ndarray, Y: np.ndarray, buf: _Buffers, n_total: int) -> None:
        """Backpropagate the last forward pass on (X, Y) and take one optimizer step."""
        self.net._backward(X, Y, buf, self.dW, self.db, self.fold)
        if self.l2:
            self.net._add_l2(self.dW, self.fold * self.l2 / n_total, self.l2_work)
        if self.fold == 1.0 and not hasattr(self.stepper, "step_folded"):
            self.stepper.step(self.grads, self.learning_rate)
        else:
            self.stepper.step_folded(self.grads, self.learning_rate, self.flat)

    def _save(self) -> None:
        np.copyto(self.saved, self.P)

    def _diverged(self, epoch: int, loss: float) -> FloatingPointError:
        np.copyto(self.P, self.saved)
        if epoch == 0:
            self.net.history = self.previous_history
            return FloatingPointError(f"fit: the loss is {loss} before the first epoch: the parameters or the data "
                                      f"are too large for {self.net.dtype.name}; nothing was changed")
        kept = "as before fit" if not self.net.history else f"as after epoch {len(self.net.history)}"
        return FloatingPointError(
            f"fit: the loss became {loss} at epoch {epoch} of {self.epochs}: gradient descent diverged. "
            f"Try a smaller learning_rate than {self.learning_rate:g}; the parameters are left {kept}."
        )

    def _report(self, epoch: int, loss: float) -> bool:
        """Record the epoch's loss; True if the callback asks to stop."""
        self.net.history.append(loss)
        if self.verbose and (epoch % self.verbose == 0 or epoch == self.epochs):
            print(f"epoch {epoch:>{len(str(self.epochs))}}/{self.epochs}: loss {loss:.6f}")
        return self.callback is not None and bool(self.callback(epoch, loss))

    def full_batch(self, X: np.ndarray, Y: np.ndarray, buf: _Buffers) -> None:
        """One step per epoch on all of (X, Y); epoch e's loss is that of the parameters after its step."""
        net, n = self.net, X.shape[0]
        loss = net._forward_loss(X, Y, buf) + net._penalty(self.l2, n)
        if not math.isfinite(loss):
            raise self._diverged(0, loss)
        for epoch in range(1, self.epochs + 1):
            self._save()
            self._step(X, Y, buf, n)
            loss = net._forward_loss(X, Y, buf) + net._penalty(self.l2, n)
            if not math.isfinite(loss):
                raise self._diverged(epoch, loss)
            if self._report(epoch, loss):
                return

    def mini_batches(self, X: np.ndarray, Y: np.ndarray, buf: _Buffers) -> None:
        """One step per mini-batch of a fresh shuffle each epoch.

        Each batch's rows are gathered into ``buf.X``, ``buf.Y`` just before
        use, so they are still in the cache for the first product.
        """
        net, n, rows, l2 = self.net, X.shape[0], buf.rows, self.l2
        rng = self.rng
        last = buf.first(n % rows) if n % rows else buf
        take = np.take
        for epoch in range(1, self.epochs + 1):
            self._save()
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, rows):
                idx = order[start:start + rows]
                b = buf if idx.shape[0] == rows else last
                Xb, Yb = b.X, b.Y
                take(X, idx, axis=0, out=Xb, mode="clip")  # "clip": no buffering; indices are valid
                take(Y, idx, axis=0, out=Yb, mode="clip")
                loss = net._forward_loss(Xb, Yb, b) + (net._penalty(l2, n) if l2 else 0.0)
                if not math.isfinite(loss):
                    raise self._diverged(epoch, loss)
                total += loss * Xb.shape[0]
                self._step(Xb, Yb, b, n)
            if self._report(epoch, total / n):
                return
