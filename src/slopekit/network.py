r"""A fully connected network trained by backpropagation and gradient descent (lecture L8).

The backward pass is built on the activation objects: each hidden layer's
:math:`dZ` is ``g.backward(dA, a=A)``, the lecture's slope from the cached
output (:math:`a(1 - a)` for the sigmoid, :math:`1 - a^2` for tanh), wherever
the activation has that shortcut, and ``g.backward(dA, z=Z)`` otherwise
(through `slopekit.Activation.layer_kernels`, which gives those calls' bits).
Batches of samples are the rows of a matrix, as in scikit-learn; the lecture's
single-sample :math:`z, a, da, dz` become the matrices :math:`Z, A, dA, dZ`.

This module checks what callers pass and keeps the parameters; the algorithm
is `slopekit._backprop`, run by an engine for the arrays' library
(`slopekit._engine_numpy`, `slopekit._engine_xp`), and the training loop is
`slopekit._training`. See ``docs/architecture.md``.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import _backends, _engine_numpy, _engine_xp, _flat, _parameter_set, _params, _training, losses, optimizers
from .activations import Activation, LeakyReLU, ReLU, get

__all__ = ["Network"]

_INITS = ("glorot", "he", "small")


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
    dtype : dtype or None, default None
        The dtype of every parameter and of every array of training: data is
        converted once, and float32 stays float32 end to end. float16,
        bfloat16 (in libraries that have it), float32 and float64, of NumPy
        or any library, or by name. None follows the training data: `fit`
        and `partial_fit` take ``X``'s floating dtype (float64 for integer
        data, and before any training).
    init : {None, "he", "glorot", "small"}, default None
        The initial weights :math:`W_l \sim \mathcal N(0, \sigma^2)`: ``"he"``
        :math:`\sigma^2 = 2 / ((1 + s^2) n_{l-1})` (:math:`s` a Leaky ReLU's
        slope, else 0), ``"glorot"`` :math:`\sigma^2 = 2 / (n_{l-1} + n_l)`,
        ``"small"`` the course's ``randn * 0.01``. None uses He for layers of the
        ReLU family and Glorot for the others. Biases start at 0.

    Attributes
    ----------
    history : list of float
        The training loss of each epoch of the last `fit` (see there), and one
        more per `partial_fit` since.
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

    The parameters live in one array library on one device: NumPy at first,
    and the library of the data of the last `fit` or `partial_fit` after it
    (or of `to`). The other methods take arrays of that library and answer
    in it.

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
                 seed: int | None = 0, dtype: Any = None, init: str | None = None):
        self._configure(layer_sizes, hidden, output, dtype, seed, init)
        rng = np.random.RandomState(self._seed)
        acts = (*self._hidden, None)
        dtype = _parameter_set.host_dtype(self._p.dtype_name)
        params = []
        for fan_in, fan_out, g in zip(self._sizes[:-1], self._sizes[1:], acts):
            std = _init_std(self._init, g, fan_in, fan_out)
            params += [(rng.randn(fan_out, fan_in) * std).astype(dtype), np.zeros(fan_out, dtype)]
        self._p = _parameter_set.ParameterSet(params, self._p.dtype_name)
        if self._p.dtype_name == "bfloat16":  # NumPy has none: the network starts out in a library that has it
            raise ValueError("dtype bfloat16 does not exist in NumPy, where a network starts; create it with "
                             "float32 and move it with net.to(tensor, dtype=...) or fit it on bfloat16 tensors")

    def _configure(self, layer_sizes, hidden, output, dtype, seed, init) -> None:
        """Check the architecture and set everything but the parameters."""
        sizes = _layer_sizes(layer_sizes)
        acts = _hidden_activations(hidden, len(sizes) - 2)
        output_loss = losses.for_output(output)
        output_loss.check_n_outputs(sizes[-1])
        self._sizes, self._hidden, self._output_loss = sizes, acts, output_loss
        self._follow_dtype = dtype is None  # None: the dtype follows the training data's
        self._seed, self._init = _seed(seed), _init(init)
        # the parameters, their library (None: NumPy), device and dtype; no arrays until __init__ draws them
        self._p = _parameter_set.ParameterSet([], "float64" if dtype is None else _dtype_name(dtype))
        self._training: Any = None  # what partial_fit continues: a _training.Training and its settings
        self.history: list[float] = []
        self.info: dict[str, Any] = {}

    # -- copying and pickling ---------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """For `copy.deepcopy` and `pickle`: the parameters and optimizer state as NumPy arrays, and where they live.

        (Model files never hold a pickle: `save` writes plain arrays and JSON.)
        """
        state = self.__dict__.copy()
        p = self._p
        library = _backends.library_name(p.xp)
        state["_p"] = {"arrays": [_backends.to_numpy(a, p.xp).copy() for a in p.arrays], "library": library,
                       "device": p.device if library in ("torch", "cupy") else None, "dtype": p.dtype_name}
        if self._training is not None:
            training, rule, continues = self._training
            state["_training"] = {"optimizer": rule, "state": training.optimizer_state(), "continues": continues,
                                  "shuffle": (training.shuffle, training.shuffle_seed)}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        params, kept = state.pop("_p"), state.pop("_training")
        self.__dict__.update(state)
        host_dtype = _parameter_set.host_dtype(params["dtype"])
        self._p = _parameter_set.ParameterSet([np.asarray(a, host_dtype) for a in params["arrays"]], params["dtype"])
        if params["library"] != "numpy":
            self._p.move(_backends.namespace(params["library"]), params["device"], params["dtype"])
        self._training = None
        if kept is not None:
            training = self._new_training(kept["optimizer"])
            training.load_optimizer_state(kept["state"])
            training.shuffle, training.shuffle_seed = kept["shuffle"]
            self._training = (training, kept["optimizer"], kept["continues"])

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
        return self._output_loss.output

    @property
    def dtype(self) -> Any:
        """The dtype of the parameters and of training, in the parameters' library (a ``numpy.dtype`` for NumPy)."""
        return _backends.dtype_of(self._p.dtype_name, self._p.xp)

    @property
    def seed(self) -> int:
        """The seed of the initial weights and of the mini-batch shuffles."""
        return self._seed

    @property
    def init(self) -> str | None:
        """The initialisation asked for (None: a default per activation)."""
        return self._init

    @property
    def device(self) -> Any:
        """The device of the parameters (None for NumPy)."""
        return self._p.device

    @property
    def array_namespace(self) -> Any:
        """The array-API namespace of the parameters' library (``numpy`` itself for NumPy)."""
        return np if self._p.xp is None else self._p.xp

    def __repr__(self) -> str:
        def spec(g: Activation) -> str:
            try:
                plain = g == get(g.name)
            except (TypeError, ValueError):  # an activation the registry does not know
                plain = False
            return repr(g.name) if plain else repr(g)

        specs = [spec(g) for g in self._hidden]
        hidden = specs[0] if len(set(specs)) == 1 else "[" + ", ".join(specs) + "]"
        dtype = self._p.dtype_name
        where = "" if self._p.xp is None else f", library={_backends.library_name(self._p.xp)!r}, device={self._p.device!r}"
        return (f"Network({list(self._sizes)}, hidden={hidden}, output={self.output!r}, seed={self._seed}, "
                f"dtype={dtype!r}, init={self._init!r}{where})")

    def _names(self) -> list[str]:
        return [f"{p}{l}" for l in range(1, len(self._sizes)) for p in "Wb"]

    # -- parameters ---------------------------------------------------------------------------

    def parameters(self) -> dict[str, Any]:
        """Copies of the parameters: ``{"W1": W1, "b1": b1, "W2": ..., ...}``.

        :math:`W_l` has shape :math:`(n_l, n_{l-1})`, :math:`b_l` shape
        :math:`(n_l,)`, in the network's dtype, arrays of the parameters'
        library on their device. Changing them does not change the network;
        `set_parameters` does.

        Examples
        --------
        >>> import slopekit
        >>> net = slopekit.Network([2, 3, 1], init="small", seed=2)
        >>> p = net.parameters()
        >>> p["W2"] *= 0  # a copy: the network keeps its weights
        >>> bool(net.parameters()["W2"].any())
        True
        """
        if self._p.xp is None:
            return {name: p.copy() for name, p in zip(self._names(), self._p.arrays)}
        return {name: _backends.copy(p, self._p.xp) for name, p in zip(self._names(), self._p.arrays)}

    def set_parameters(self, parameters: Mapping[str, Any]) -> Network:
        """Replace every parameter.

        Parameters
        ----------
        parameters : mapping
            Exactly the names of `parameters` (``"W1"``, ``"b1"``, ...), each an
            array_like of real numbers of the right shape, of any array
            library. Values are copied and converted to the network's dtype,
            library and device.

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
        host_dtype = _parameter_set.host_dtype(self._p.dtype_name)
        arrays = []
        for name, shape in zip(expected, _flat.shapes_of(self._sizes)):
            value = parameters[name]
            try:
                value = _backends.to_numpy(value, _backends.library_of(value, who, name))
                value = np.asarray(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{who}: {name} is not an array: {exc}") from None
            if value.dtype.kind not in "iuf":
                raise ValueError(f"{who}: {name} must hold real numbers, got dtype {value.dtype}")
            if value.shape != shape:
                raise ValueError(f"{who}: {name} has shape {value.shape}, expected {shape}")
            with np.errstate(over="ignore"):
                value = np.array(value, dtype=host_dtype, order="C", copy=True)
            if not np.isfinite(value).all():
                raise ValueError(f"{who}: {name} contains NaN or infinity (in {self._p.dtype_name})")
            arrays.append(value)
        self._p.assign(arrays)
        if self._training is not None:
            self._training[0].save()  # what a divergence would put back
        return self

    # -- libraries and devices ------------------------------------------------------------------

    def to(self, like: Any, device: Any = None, *, dtype: Any = None) -> Network:
        """Move the parameters (and any optimizer state `partial_fit` keeps) to another library or device.

        Parameters
        ----------
        like : array, array namespace, or str
            An array of the library to move to (its device is the default
            ``device``), a namespace (``numpy``, ``torch``, ``cupy``,
            ``jax.numpy``, ``array_api_strict``, or one from
            ``array_api_compat``), or a library's name (``"torch"``).
        device : optional
            The device, in the library's terms (``"cuda"``, ``torch.device("cuda:1")``).
        dtype : optional
            A floating dtype to convert to as well (any library's, or its name).

        Returns
        -------
        self

        Raises
        ------
        TypeError
            If ``like`` is not an array, a namespace or a known library's name.
        ValueError
            For a library that is not installed, a device it cannot reach
            (``"cuda"`` without CUDA), the ``"meta"`` device, or a device for
            NumPy other than the CPU. The network is unchanged then.

        Examples
        --------
        >>> import numpy as np, slopekit
        >>> net = slopekit.Network([2, 3, 1])
        >>> net.to(np) is net
        True
        """
        xp = _backends.namespace(like)
        if device is None and xp is not None and not _backends.is_namespace(like) and not isinstance(like, str):
            device = _backends.device_of(like, xp)
        if xp is None and device not in (None, "cpu"):
            raise ValueError(f"to: NumPy arrays live on the CPU; got device={device!r}")
        name = self._p.dtype_name if dtype is None else _dtype_name(dtype)
        if _backends.device_kind(device) == "meta":
            raise ValueError("to: the 'meta' device holds no data; a network's parameters need a device with memory")
        try:
            self._move(xp, device, name)
        except (AssertionError, RuntimeError, NotImplementedError, TypeError) as exc:
            raise ValueError(f"to: cannot move the parameters to {_backends.library_name(xp)} on device "
                             f"{device!r}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        if dtype is not None:
            self._follow_dtype = False
        return self

    def _move(self, xp: Any, device: Any, dtype_name: str) -> None:
        """Put the parameters (and the kept optimizer state) in ``xp`` on ``device`` in ``dtype_name``."""
        if device is None and xp is not None and _backends.same_library(xp, self._p.xp):
            device = self._p.device  # a namespace alone keeps the device the parameters are on
        if self._p.at(xp, device, dtype_name):
            return
        if xp is None and dtype_name == "bfloat16":
            raise ValueError("NumPy has no bfloat16: pass dtype=numpy.float32 (or another) to move there")
        kept = self._training
        state = kept[0].optimizer_state() if kept is not None else None
        self._p.move(xp, device, dtype_name)
        self._training = None
        if kept is not None:
            training = self._new_training(kept[0].rule)
            training.load_optimizer_state(state)
            training.shuffle, training.shuffle_seed = kept[0].shuffle, kept[0].shuffle_seed
            self._training = (training, *kept[1:])

    # -- data -----------------------------------------------------------------------------------

    def _library(self, X: Any, who: str, *, follow: bool) -> None:
        """Check that ``X`` is of the parameters' library, or (``follow``: training) move the parameters to it."""
        if follow:
            self._move(*self._target_of(X, who))
            return
        xp = _backends.library_of(X, who, "X")
        device = _backends.device_of(X, xp)
        if not _backends.same_library(xp, self._p.xp):
            raise TypeError(f"{who}: X is a {_backends.library_name(xp)} array but the network's parameters are "
                            f"{_backends.library_name(self._p.xp)} arrays; move the network with net.to(X) (or "
                            f"pass {_backends.library_name(self._p.xp)} arrays)")
        if xp is not None and device != self._p.device:
            raise TypeError(f"{who}: X is on device {device!r} but the network's parameters are on "
                            f"{self._p.device!r}; move the network with net.to(X)")

    def _features(self, X: Any, who: str) -> Any:
        """``X`` as a 2-D array of the network's dtype and library; the caller's array is never written to."""
        if self._p.xp is not None:
            return self._features_xp(X, who)
        try:
            arr = np.asarray(X)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{who}: X is not an array: {exc}") from None
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{who}: X must hold real numbers, got dtype {arr.dtype}")
        self._check_shape(arr.shape, who)
        with np.errstate(over="ignore"):
            arr = arr.astype(self.dtype, copy=False)
        if not np.isfinite(arr).all():
            raise ValueError(f"{who}: X contains NaN or infinity (in {self._p.dtype_name})")
        return arr

    def _features_xp(self, X: Any, who: str) -> Any:
        xp = self._p.xp
        X = _backends.detach(X, xp)
        if not (xp.isdtype(X.dtype, "real floating") or xp.isdtype(X.dtype, ("integral", "bool"))):
            raise TypeError(f"{who}: X must hold real numbers, got dtype {X.dtype}")
        self._check_shape(tuple(X.shape), who)
        X = xp.astype(X, self.dtype)
        if not bool(xp.all(xp.isfinite(X))):
            raise ValueError(f"{who}: X contains NaN or infinity (in {self._p.dtype_name})")
        return X

    def _check_shape(self, shape: tuple[int, ...], who: str) -> None:
        n0 = self._sizes[0]
        if len(shape) != 2:
            raise ValueError(f"{who}: X must be 2-D, shape (n_samples, {n0}), got shape {shape}; use "
                             "X.reshape(1, -1) for a single sample or X.reshape(-1, 1) for a single feature")
        if shape[0] == 0:
            raise ValueError(f"{who}: X is empty (0 samples); expected at least 1")
        if shape[1] != n0:
            hint = "; if your samples are columns, as in the course's notation, pass X.T" if shape[0] == n0 else ""
            raise ValueError(f"{who}: X has {shape[1]} features, but the network expects {n0} "
                             f"(layer_sizes[0]){hint}")

    def _targets(self, y: Any, n: int, who: str) -> Any:
        """The labels or targets ``y`` checked and encoded as ``Y``, ``(n, n_outputs)``, in the network's library."""
        y_xp = _backends.library_of(y, who, "y")  # refuses a Dask array before NumPy computes it
        if self._p.xp is None:
            return self._output_loss.targets(y, n, self._sizes[-1], self.dtype, who)
        if y_xp is not None and not _backends.same_library(y_xp, self._p.xp):
            raise TypeError(f"{who}: y is a {_backends.library_name(y_xp)} array but X is a "
                            f"{_backends.library_name(self._p.xp)} array; pass both from one library")
        y_host = _backends.to_numpy(y, y_xp)
        Y = self._output_loss.targets(y_host, n, self._sizes[-1], _parameter_set.host_dtype(self._p.dtype_name), who)
        return _backends.from_numpy(Y, self._p.xp, self._p.device, self.dtype)

    def _data(self, X: Any, y: Any, who: str, *, follow: bool = False) -> tuple[Any, Any]:
        self._library(X, who, follow=follow)
        X = self._features(X, who)
        return X, self._targets(y, X.shape[0], who)

    def _layers(self, rows: int) -> Any:
        """The engine's `~slopekit._backprop.Layers` for one pass over ``rows`` samples."""
        if self._p.xp is None:
            return _engine_numpy.NumpyLayers(self._sizes, self._hidden, self._output_loss, self.dtype, rows)
        return _engine_xp.XpLayers(self._p.xp, self._sizes, self._hidden, self._output_loss, self.dtype, rows)

    # -- the loss and its gradient ---------------------------------------------------------------

    def loss(self, X: Any, y: Any, *, l2: float = 0.0, sample_weight: Any = None) -> float:
        r"""The mean loss on ``(X, y)``, computed stably from the output's pre-activation.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            NumPy or any array-API library's (that of the parameters); or a
            Dask array, computed chunk by chunk on the current Dask scheduler
            (``y`` too: see `fit`).
        y : array_like
            Labels 0/1 of shape ``(n_samples,)`` or ``(n_samples, 1)`` for
            ``"sigmoid"``; integer labels of shape ``(n_samples,)`` for
            ``"softmax"``; targets of shape ``(n_samples,)`` or
            ``(n_samples, n_outputs)`` for ``"identity"``.
        l2 : float, default 0
            Adds :math:`\frac{\lambda}{2n} \sum_l \lVert W_l \rVert_F^2` (biases
            are not penalised), :math:`n` the number of samples (with
            ``sample_weight``, the sum of the weights).
        sample_weight : array_like of shape (n_samples,), optional
            Non-negative finite weights, not all 0, of any array library;
            the loss becomes their weighted mean (see Notes). Integer weights
            count a sample that many times. Never modified.

        Returns
        -------
        float

        Raises
        ------
        ValueError
            For ``sample_weight`` of another length than ``X``, not 1-D, with
            a negative, NaN or infinite weight, or all 0.
        TypeError
            For ``sample_weight`` that does not hold real numbers.

        Notes
        -----
        Binary cross-entropy is :math:`\operatorname{softplus}((1 - 2y) z)`
        and categorical cross-entropy :math:`\log\sum_k e^{z_k} - z_y` by
        log-sum-exp (`slopekit.losses`): never :math:`\log 0`.

        With sample weights :math:`w_i` and :math:`\ell_i` the loss of sample
        :math:`i` (for ``"identity"``, its mean over the outputs), as
        scikit-learn's ``MLPClassifier`` and ``MLPRegressor``:

        .. math::

            \mathcal L = \frac{\sum_i w_i \ell_i}{\sum_i w_i}
              + \frac{\lambda}{2 \sum_i w_i} \sum_l \lVert W_l \rVert_F^2.

        Examples
        --------
        >>> import numpy as np, slopekit
        >>> net = slopekit.Network([2, 1], output="sigmoid")
        >>> net.set_parameters({"W1": [[1000.0, 0.0]], "b1": [0.0]})
        Network([2, 1], hidden=[], output='sigmoid', seed=0, dtype='float64', init=None)
        >>> net.loss([[1.0, 0.0]], [0])  # a = 1 for label 0: large, but finite
        1000.0
        >>> net.loss([[1.0, 0.0], [-1.0, 0.0]], [0, 0], sample_weight=[1, 3])  # (1 * 1000 + 3 * 0) / 4
        250.0
        """
        return self.loss_and_gradients(X, y, l2=l2, sample_weight=sample_weight, _who="loss", _gradients=False)[0]

    def gradients(self, X: Any, y: Any, *, l2: float = 0.0, sample_weight: Any = None) -> dict[str, Any]:
        r"""The exact gradient of `loss` by vectorised backpropagation.

        Parameters
        ----------
        X, y, l2, sample_weight
            As for `loss`.

        Returns
        -------
        dict
            ``{"W1": dW1, "b1": db1, ...}``, new arrays shaped like the
            parameters, in the network's dtype and library. With ``l2``,
            :math:`dW_l` gains :math:`\frac{\lambda}{n} W_l`.

        Notes
        -----
        Sample weights enter backpropagation at the output only,
        :math:`dZ_L = w \odot (A_L - Y) / \sum_i w_i` (each row times its
        sample's weight), and with ``l2`` :math:`dW_l` gains
        :math:`\frac{\lambda}{\sum_i w_i} W_l`: scikit-learn's ``_backprop``.

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
        >>> w = np.arange(10) % 3  # weights 0, 1, 2: as if each sample were there that many times
        >>> slopekit.gradient_check(net, X, y, sample_weight=w) < 1e-7
        True
        >>> again = np.repeat(np.arange(10), w)
        >>> bool(np.allclose(net.gradients(X, y, sample_weight=w)["W1"], net.gradients(X[again], y[again])["W1"]))
        True
        """
        return self.loss_and_gradients(X, y, l2=l2, sample_weight=sample_weight, _who="gradients")[1]

    def loss_and_gradients(self, X: Any, y: Any, *, l2: float = 0.0, reduction: str = "mean",
                           sample_weight: Any = None, _who: str = "loss_and_gradients",
                           _gradients: bool = True) -> tuple[float, dict[str, Any]]:
        r"""The loss and its gradient from one forward pass: ``(loss, gradients)``.

        Parameters
        ----------
        X, y, l2, sample_weight
            As for `loss`.
        reduction : {"mean", "sum"}, default "mean"
            ``"mean"``: exactly ``(loss(X, y, l2=l2), gradients(X, y, l2=l2))``.
            ``"sum"``: the sums over the samples of the data term, :math:`n`
            times the mean, so that shards of a data set can be added up
            (divide the totals by the total number of samples); an empty
            shard, ``X`` of shape ``(0, n_features)``, gives 0 and zero
            gradients. With ``sample_weight``, the weighted sums
            :math:`\sum_i w_i \ell_i` and their gradients (divide the totals
            by the total weight); a shard's weights may all be 0.

        Returns
        -------
        loss : float
        gradients : dict
            As `gradients` returns.

        Raises
        ------
        ValueError
            For ``reduction="sum"`` with ``l2`` other than 0: the penalty
            belongs to the whole data set, not to one shard (add
            :math:`\frac{\lambda}{n} W_l` to the summed :math:`dW_l` once).

        Examples
        --------
        >>> import numpy as np, slopekit
        >>> net = slopekit.Network([2, 3, 1], hidden="tanh")
        >>> X, y = np.random.RandomState(0).randn(8, 2), np.arange(8) % 2
        >>> loss, grads = net.loss_and_gradients(X, y)
        >>> loss == net.loss(X, y)
        True
        >>> total, sums = net.loss_and_gradients(X, y, reduction="sum")
        >>> bool(np.allclose(sums["W1"], 8 * grads["W1"])) and abs(total - 8 * loss) < 1e-12
        True
        """
        who = _who
        if reduction not in ("mean", "sum"):
            raise ValueError(f"{who}: reduction must be 'mean' or 'sum', got {reduction!r}")
        if _backends.is_dask(X) or _backends.is_dask(y) or _backends.is_dask(sample_weight):
            return self._loss_and_gradients_dask(X, y, l2, reduction, who, _gradients, sample_weight)
        if reduction == "sum" and _rows(X) == 0:  # an empty shard adds nothing to the sums
            self._library(X, who, follow=False)
            shape = tuple(np.shape(X) if not hasattr(X, "shape") else X.shape)
            if len(shape) != 2 or shape[1] != self._sizes[0]:
                raise ValueError(f"{who}: X has shape {shape}; an empty shard must have shape (0, {self._sizes[0]})")
            if sample_weight is not None:
                _sample_weight(sample_weight, 0, who, zero_sum=True)
            if _non_negative_real(who, "l2", l2):
                raise ValueError(f"{who}: reduction='sum' adds up shards of a data set, and the L2 penalty belongs "
                                 "to the whole data set: pass l2=0 and add l2 / n_total * W_l to each summed dW_l")
            zeros = [np.zeros_like(p) if self._p.xp is None else self._p.xp.zeros_like(p) for p in self._p.arrays]
            return 0.0, dict(zip(self._names(), zeros))
        X, Y = self._data(X, y, who)
        l2 = _non_negative_real(who, "l2", l2)
        if reduction == "sum" and l2:
            raise ValueError(f"{who}: reduction='sum' adds up shards of a data set, and the L2 penalty belongs to "
                             "the whole data set: pass l2=0 and add l2 / n_total * W_l to each summed dW_l once")
        n = X.shape[0]
        weights = self._weights(sample_weight, n, who, zero_sum=reduction == "sum")
        total = n if weights is None else weights[1]  # what the mean divides by: n, or the sum of the weights
        if weights is not None and total == 0:  # a shard whose weights are all 0 (reduction="sum")
            weights = (weights[0], 1.0)
        layers = self._layers(n)
        W, b = (self._p.weights, self._p.biases)
        loss = float(layers.forward_loss(X, Y, W, b, weights))
        if not _gradients:
            return loss + self._p.penalty(l2, total), {}
        grads = layers.backward(X, Y, W, float(total) if reduction == "sum" else 1.0, weights)
        if self._p.xp is None:
            grads = [g.copy() for g in grads]
        if l2:
            grads[0::2] = [dW + W_l * (l2 / total) for dW, W_l in zip(grads[0::2], W)]
        if reduction == "sum":
            return loss * total, dict(zip(self._names(), grads))
        return loss + self._p.penalty(l2, total), dict(zip(self._names(), grads))

    def _weights(self, sample_weight: Any, n: int, who: str, *, zero_sum: bool = False) -> tuple[Any, float] | None:
        """``(w, sum of w)``: checked sample weights as a column ``(n, 1)`` of the parameters' library and dtype."""
        if sample_weight is None:
            return None
        w = _sample_weight(sample_weight, n, who, zero_sum=zero_sum)
        total = math.fsum(w.tolist())
        column = w.reshape(n, 1).astype(_parameter_set.host_dtype(self._p.dtype_name))
        if self._p.xp is not None:
            column = _backends.from_numpy(column, self._p.xp, self._p.device, self.dtype)
        return column, total

    def _loss_and_gradients_dask(self, X: Any, y: Any, l2: Any, reduction: str, who: str, gradients: bool,
                                 sample_weight: Any = None) -> tuple[float, dict[str, Any]]:
        """`loss_and_gradients` of Dask arrays: one pass on the workers, sums added up in float64."""
        from . import _dask

        l2 = _non_negative_real(who, "l2", l2)
        if reduction == "sum" and l2:
            raise ValueError(f"{who}: reduction='sum' adds up shards of a data set, and the L2 penalty belongs to "
                             "the whole data set: pass l2=0 and add l2 / n_total * W_l to each summed dW_l once")
        chunks = _dask.Chunks(X, y, self._sizes[0], who, spec=_dask.architecture(self, self._p.dtype_name),
                              sample_weight=sample_weight)
        host = [_backends.to_numpy(p, self._p.xp) for p in self._p.arrays]
        P = np.concatenate([p.reshape(-1) for p in host]) if host else np.empty(0)
        n = chunks.total() if reduction == "mean" else chunks.n  # the sum of the weights, if any
        loss_sum, G = chunks.totals()(P, gradients)
        if reduction == "sum":
            loss = loss_sum
        else:
            loss = loss_sum / n + self._p.penalty(l2, n)
        if not gradients:
            return loss, {}
        dtype = _parameter_set.host_dtype(self._p.dtype_name)
        grads = [g.astype(dtype) for g in _flat.views(G if reduction == "sum" else G / n, [p.shape for p in host])]
        if l2:
            grads[0::2] = [dW + W_l * dtype.type(l2 / n) for dW, W_l in zip(grads[0::2], host[0::2])]
        if self._p.xp is not None:
            grads = [_backends.from_numpy(g, self._p.xp, self._p.device, self.dtype) for g in grads]
        return loss, dict(zip(self._names(), grads))

    # -- training -------------------------------------------------------------------------------

    def _training_arguments(self, who: str, learning_rate: Any, batch_size: Any, optimizer: Any, l2: Any,
                            rng: Any) -> tuple[Any, int | None, optimizers.Optimizer, float]:
        rule = optimizers.get(optimizer)
        if isinstance(rule, optimizers.LBFGS):
            if learning_rate is not None:
                learning_rate = _positive_real(who, "learning_rate", learning_rate)
            if who == "partial_fit":
                raise ValueError("partial_fit: optimizer='lbfgs' runs whole through fit (full batch, SciPy's line "
                                 "search); partial_fit takes a step rule: 'gd', 'momentum' or 'adam'")
            if batch_size is not None:
                raise ValueError(f"{who}: optimizer='lbfgs' is full-batch; leave batch_size=None (or use 'adam' "
                                 "for mini-batches)")
        elif learning_rate is None:
            raise TypeError(f"{who}: learning_rate is required for optimizer {rule.name!r} (only 'lbfgs' does "
                            "without one)")
        else:
            learning_rate = _positive_real(who, "learning_rate", learning_rate)
        if batch_size is not None:
            batch_size = _positive_int(who, "batch_size", batch_size)
        l2 = _non_negative_real(who, "l2", l2)
        if rng is not None and not isinstance(rng, (np.random.RandomState, np.random.Generator)):
            if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, numbers.Integral):
                raise TypeError(f"{who}: rng must be a numpy.random.RandomState, a numpy.random.Generator or an "
                                f"integer seed, got {type(rng).__name__}")
            _seed(rng)
        return learning_rate, batch_size, rule, l2

    def _new_training(self, rule: optimizers.Optimizer) -> Any:
        architecture = (self._sizes, self._hidden, self._output_loss)
        kind = _training.NumpyTraining if self._p.xp is None else _training.XpTraining
        return kind(self._p, architecture, rule, self._seed)

    def fit(self, X: Any, y: Any, *, epochs: int, learning_rate: float | None = None, batch_size: int | None = None,
            optimizer: str | optimizers.Optimizer = "gd", l2: float = 0.0,
            callback: Callable[[int, float], Any] | None = None, verbose: int = 0,
            rng: np.random.RandomState | np.random.Generator | int | None = None,
            sample_weight: Any = None) -> Network:
        r"""Train by gradient descent on the loss of `loss`; returns ``self``.

        Parameters
        ----------
        X, y
            Training data, as for `loss`: NumPy arrays or arrays of any
            array-API library (PyTorch, CuPy, JAX, ...). Training runs in that
            library, on that device: the parameters move there first (see
            `to`). Converted once to the network's dtype (with ``dtype=None``,
            the network takes ``X``'s floating dtype). Or Dask arrays (or
            DataFrames) of NumPy chunks, both of them: then training runs
            chunk by chunk on the current Dask scheduler (see Notes).
        epochs : int
            Passes over the data; positive. For ``"lbfgs"``, the most
            iterations.
        learning_rate : float
            The step size :math:`\alpha`; positive. Required, except for
            ``"lbfgs"``, which finds its own steps.
        batch_size : int, optional
            None (or at least ``n_samples``): full-batch gradient descent, one
            step per epoch, as in the lecture. Otherwise each epoch shuffles the
            samples (one permutation drawn from ``rng``) and steps once per
            mini-batch; the last batch may be smaller. On Dask arrays the
            shuffle stays within chunks (see Notes).
        optimizer : {"gd", "momentum", "adam", "lbfgs"} or Optimizer, default "gd"
            The update rule (`slopekit.optimizers`); an object such as
            ``optimizers.Adam(beta1=0.8)`` sets hyperparameters. Its state
            starts from zero on every call. ``"lbfgs"`` is full-batch L-BFGS
            through SciPy (`slopekit.optimizers.LBFGS`), as scikit-learn's
            ``MLPClassifier(solver="lbfgs")``; `history` gets one loss per
            iteration. It needs NumPy or Dask arrays.
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
        rng : numpy.random.RandomState, numpy.random.Generator or int, optional
            Where the mini-batch shuffles come from: each epoch draws one
            permutation, at its start, from NumPy (whatever the arrays'
            library, so that every library takes the same batches). The
            default is a ``RandomState`` seeded by `seed`, afresh for each
            call, so that `fit` is deterministic; an integer seeds one the
            same way. Pass one generator to several calls (or save its state
            in a ``callback``) to continue one sequence of shuffles across
            them. Full-batch training does not use it.
        sample_weight : array_like of shape (n_samples,), optional
            Non-negative weights, not all 0 (see `loss`): training minimises
            the weighted mean loss, and the L2 term's :math:`n` becomes the
            sum of the weights. Each mini-batch's gradient is the weighted
            mean over its samples (a batch whose weights are all 0 gives a
            zero gradient), as in scikit-learn's ``MLPClassifier``. With
            ``optimizer="lbfgs"`` the objective is the weighted mean. With
            Dask arrays, a Dask array (or an array) split into ``X``'s
            chunks: their sum is computed first, and each chunk's weights
            are checked with the chunk.

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

        On NumPy arrays, training allocates its buffers once (activations,
        their slopes, the gradients, the optimizer's state) and every step
        writes into them; the parameters move into one flat array on the
        first call, so an update is one operation over all of them. Plain
        gradient descent and momentum fold their constant factor
        (:math:`\alpha`, :math:`1 - \beta`) into :math:`dZ_L` instead of
        scaling every :math:`dW_l`: the same arithmetic up to rounding in the
        last bits. On other libraries every step is functional, on the arrays'
        device, and no autograd graph is built.

        **On Dask arrays** neither ``X`` nor ``y`` is ever computed whole in
        the caller; the work runs on the current ``distributed.Client``
        when there is one, else on Dask's default scheduler, and the
        parameters (NumPy) travel to the workers once per pass. ``y`` is
        split into ``X``'s chunks of rows (chunks of unknown size are counted
        first). Each chunk is checked on its worker with the messages of the
        in-memory checks, when it is first used; a bad chunk raises there and
        leaves the network as it was before the call.

        - Full batch (``batch_size=None``, and ``"lbfgs"``): each epoch is one
          pass that sums every chunk's ``loss_and_gradients(...,
          reduction="sum")`` in float64 by a tree of fixed shape, then one step
          in the caller with the optimizer's own code. An epoch's loss comes
          from the next pass, and one loss-only pass ends the call. The
          parameters equal the in-memory `fit`'s up to rounding (1e-10
          relative in float64, whatever the chunks).
        - Mini-batches: each epoch draws an order of the chunks from ``rng``,
          then, chunk after chunk, computes the chunk (the next one is
          computed meanwhile), shuffles its rows, and steps once per
          mini-batch of its rows; the parameters and the optimizer state go on
          from chunk to chunk. This differs from the global shuffle in
          memory (a batch never mixes two chunks). Without L2 (whose
          :math:`n` is all the samples), and with chunks of at least
          ``batch_size`` rows, it equals bit for bit `partial_fit` on each
          chunk in that order, sharing one ``rng``.

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
        epochs = _positive_int(who, "epochs", epochs)
        learning_rate, batch_size, rule, l2 = self._training_arguments(who, learning_rate, batch_size, optimizer,
                                                                       l2, rng)
        if callback is not None and not callable(callback):
            raise TypeError(f"{who}: callback must be callable, got {type(callback).__name__}")
        if isinstance(verbose, (bool, np.bool_)):
            verbose = int(verbose)
        if not isinstance(verbose, numbers.Integral) or verbose < 0:
            raise ValueError(f"{who}: verbose must be an integer >= 0 (print every that many epochs), "
                             f"got {verbose!r}")
        settings = dict(epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, l2=l2, rng=rng,
                        callback=callback, verbose=int(verbose), who=who)
        on_dask = _backends.is_dask(X) or _backends.is_dask(y)
        run = self._run_for(X, y, sample_weight, rule, settings)
        # Everything is checked (on Dask: but for the chunks' values): from here on the network changes.
        training = self._new_training(rule)
        kept = (self._training, self._p.copies(), self.history) if on_dask else None
        self._training = (training, rule, False)  # optimizer_state() sees it; partial_fit does not continue it
        previous, self.history = self.history, []
        settings["history"] = self.history
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                run(training)
        except _training.Diverged:
            if not self.history:
                self.history = previous if training.stepper is None else []
            raise
        except (ValueError, TypeError):  # a chunk of Dask data was bad: the network is put back as it was
            if kept is None:
                raise
            self._training, self.history = kept[0], kept[2]
            self._p.assign([_backends.to_numpy(p, self._p.xp) for p in kept[1]])
            raise
        return self

    def partial_fit(self, X: Any, y: Any, *, learning_rate: float | None = None,
                    optimizer: str | optimizers.Optimizer = "gd",
                    batch_size: int | None = None, l2: float = 0.0,
                    rng: np.random.RandomState | np.random.Generator | int | None = None,
                    sample_weight: Any = None) -> Network:
        r"""One epoch of training that continues the optimizer state of the previous `partial_fit`; returns ``self``.

        Parameters
        ----------
        X, y, learning_rate, optimizer, batch_size, l2, sample_weight
            As for `fit`.
        rng : numpy.random.RandomState, numpy.random.Generator or int, optional
            As for `fit`. A seed (or None, the network's `seed`) names a
            generator the network keeps, so that calls with the same seed
            continue one sequence of shuffles.

        Returns
        -------
        self

        Notes
        -----
        The optimizer's state (step count, velocities, moments) carries over
        from one call to the next; it restarts when the optimizer or its
        hyperparameters change, after `fit`, and after `set_optimizer_state`
        gives another. ``k`` calls with one ``rng`` end with the parameters,
        bit for bit, of ``fit(..., epochs=k)`` with that ``rng`` (for a seed,
        the same seed). `history` grows by one loss per call.

        Examples
        --------
        >>> import numpy as np, slopekit
        >>> from slopekit import datasets
        >>> X, y = datasets.xor()
        >>> a = slopekit.Network([2, 4, 1], "tanh").fit(X, y, epochs=3, learning_rate=0.5, optimizer="adam")
        >>> b = slopekit.Network([2, 4, 1], "tanh")
        >>> for _ in range(3):
        ...     _ = b.partial_fit(X, y, learning_rate=0.5, optimizer="adam")
        >>> all(np.array_equal(a.parameters()[k], b.parameters()[k]) for k in a.parameters())
        True
        >>> len(b.history)
        3
        """
        who = "partial_fit"
        learning_rate, batch_size, rule, l2 = self._training_arguments(who, learning_rate, batch_size, optimizer,
                                                                       l2, rng)
        settings = dict(epochs=1, learning_rate=learning_rate, batch_size=batch_size, l2=l2, rng=rng,
                        history=self.history, who=who)
        on_dask = _backends.is_dask(X) or _backends.is_dask(y)
        run = self._run_for(X, y, sample_weight, rule, settings)
        kept = (self._training, self._p.copies(), len(self.history), self.optimizer_state()) if on_dask else None
        if self._training is None or not self._training[2] or self._training[1] != rule:
            self._training = (self._new_training(rule), rule, True)
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                run(self._training[0])
        except (ValueError, TypeError):  # a chunk of Dask data was bad: the network is put back as it was
            if kept is None:
                raise
            self._p.assign([_backends.to_numpy(p, self._p.xp) for p in kept[1]])
            del self.history[kept[2]:]
            self._training = kept[0]
            if kept[3] is not None:
                self._training[0].load_optimizer_state({k: v for k, v in kept[3].items() if k != "optimizer"})
            raise
        return self

    def _run_for(self, X: Any, y: Any, sample_weight: Any, rule: optimizers.Optimizer,
                 settings: dict[str, Any]) -> Callable[[Any], Any]:
        """What trains a `_training.Training` on ``(X, y)`` with ``settings`` (fit's arguments).

        The data are checked first (on Dask: what can be without computing
        them) and the parameters moved to their library, device and dtype.
        """
        who = settings["who"]
        if _backends.is_dask(X) or _backends.is_dask(y):
            return self._dask_run(self._dask_training_data(X, y, rule, who, sample_weight), rule, settings)
        _check_rule_for_dtype(who, rule, self._target_of(X, who)[2])
        if sample_weight is not None:
            _sample_weight(sample_weight, _rows(X), who)  # checked before the parameters move
        X, Y = self._training_data(X, y, who)
        return self._in_memory_run(X, Y, rule, settings, self._weights(sample_weight, X.shape[0], who))

    def _in_memory_run(self, X: Any, Y: Any, rule: optimizers.Optimizer, settings: dict[str, Any],
                       weights: tuple[Any, float] | None = None) -> Callable[[Any], Any]:
        """What trains a `_training.Training` on checked arrays in memory, with ``settings`` (fit's arguments).

        ``weights`` are the checked sample weights of `_weights`, or None.
        """
        if isinstance(rule, optimizers.LBFGS):
            from . import _lbfgs

            if self._p.xp is not None:
                raise TypeError(f"{settings['who']}: optimizer='lbfgs' runs on NumPy arrays (or Dask arrays of "
                                f"them), not {_backends.library_name(self._p.xp)}; pass NumPy arrays or use 'adam'")
            n = X.shape[0] if weights is None else weights[1]  # the mean's denominator: the sum of the weights
            return lambda training: _lbfgs.run(training, training.sums_of(X, Y, weights), n, rule,
                                               **_without(settings, "learning_rate", "batch_size", "rng"))
        return lambda training: training.epochs(X, Y, **settings, weights=weights)

    def _dask_training_data(self, X: Any, y: Any, rule: optimizers.Optimizer, who: str,
                            sample_weight: Any = None) -> Any:
        """Dask arrays ``X``, ``y`` checked (what can be without computing them), the parameters moved to NumPy.

        With ``sample_weight``, their sum is computed (and checked) first.
        """
        from . import _dask

        chunks = _dask.Chunks(X, y, self._sizes[0], who, sample_weight=sample_weight)
        chunks.total()
        kind = chunks.X.dtype
        follow = kind.kind == "f" and kind.name in _backends.FLOAT_NAMES and self._follow_dtype
        dtype_name = kind.name if follow else self._p.dtype_name
        chunks.spec = _dask.architecture(self, dtype_name)  # refuses bfloat16
        _check_rule_for_dtype(who, rule, dtype_name)
        self._move(None, None, dtype_name)  # Dask's chunks are NumPy arrays
        return chunks

    def _dask_run(self, chunks: Any, rule: optimizers.Optimizer, settings: dict[str, Any]) -> Callable[[Any], Any]:
        """What trains a `_training.NumpyTraining` on `_dask.Chunks`: full batch, L-BFGS or chunk by chunk."""
        total = chunks.totals()
        if isinstance(rule, optimizers.LBFGS):
            from . import _lbfgs

            return lambda training: _lbfgs.run(training, total, chunks.total(), rule, **_without(settings,
                                               "learning_rate", "batch_size", "rng"))
        if settings["batch_size"] is None or settings["batch_size"] >= chunks.n:
            return lambda training: training.epochs_from_sums(total, chunks.total(), **_without(settings,
                                                                                                "batch_size", "rng"))
        return lambda training: training.epochs_by_chunk(chunks, **settings)

    def _training_data(self, X: Any, y: Any, who: str) -> tuple[Any, Any]:
        """``(X, Y)`` checked, the parameters moved to ``X``'s library, device and (``dtype=None``) dtype.

        Bad data raises before the parameters move.
        """
        if self._target_of(X, who) != (self._p.xp, self._p.device, self._p.dtype_name):
            self._check_data(X, y, who)
        return self._data(X, y, who, follow=True)

    def _target_of(self, X: Any, who: str) -> tuple[Any, Any, str]:
        """Where training on ``X`` puts the parameters: ``(namespace, device, dtype name)``."""
        xp = _backends.library_of(X, who, "X")
        dtype = (_data_dtype(X, xp) or self._p.dtype_name) if self._follow_dtype else self._p.dtype_name
        if _backends.same_library(xp, self._p.xp):
            xp = self._p.xp
        return xp, _backends.device_of(X, xp), dtype

    def _check_data(self, X: Any, y: Any, who: str) -> None:
        """Check training data in the library it comes in, before the network moves to it."""
        xp = _backends.library_of(X, who, "X")
        if xp is None:  # checked as NumPy data in the dtype training will use (dtype=None: the data's)
            probe = object.__new__(type(self))
            probe.__dict__.update(self.__dict__)
            probe._p = _parameter_set.ParameterSet(self._p.arrays, self._target_of(X, who)[2])
            probe._data(X, y, who)
            return
        self._check_shape(tuple(getattr(X, "shape", ())), who)
        if not (xp.isdtype(X.dtype, "real floating") or xp.isdtype(X.dtype, ("integral", "bool"))):
            raise TypeError(f"{who}: X must hold real numbers, got dtype {X.dtype}")
        if not bool(xp.all(xp.isfinite(_backends.detach(X, xp)))):
            raise ValueError(f"{who}: X contains NaN or infinity")
        y_xp = _backends.library_of(y, who, "y")
        y_host = _backends.to_numpy(_backends.detach(y, y_xp), y_xp)
        self._output_loss.targets(y_host, X.shape[0], self._sizes[-1], np.float64, who)

    def optimizer_state(self) -> dict[str, Any] | None:
        """The optimizer state of the last training (`fit` or `partial_fit`), or None before any.

        During `fit`, a ``callback`` sees the state after each epoch (what
        ``slopekit train`` checkpoints). The next `partial_fit` continues the
        state of a `partial_fit` or of `set_optimizer_state`, not of a `fit`.

        Returns
        -------
        dict or None
            ``{"optimizer": Optimizer, "t": steps, ...}`` with one list of
            NumPy arrays per moment (momentum's ``"v"``, Adam's ``"v"`` and
            ``"s"``), copies. `set_optimizer_state` puts it back, so training
            can stop and continue exactly (``slopekit train --resume``).

        Examples
        --------
        >>> import slopekit
        >>> from slopekit import datasets
        >>> X, y = datasets.xor()
        >>> net = slopekit.Network([2, 3, 1]).partial_fit(X, y, learning_rate=0.1, optimizer="momentum")
        >>> state = net.optimizer_state()
        >>> state["optimizer"], state["t"], [v.shape for v in state["v"]]
        (Momentum(beta=0.9), 1, [(3, 2), (3,), (1, 3), (1,)])
        """
        if self._training is None:
            return None
        training, rule, _ = self._training
        return {"optimizer": rule, **training.optimizer_state()}

    def set_optimizer_state(self, state: Mapping[str, Any]) -> Network:
        """Make the next `partial_fit` continue a saved `optimizer_state`; returns ``self``.

        Raises
        ------
        ValueError
            For a state that does not fit the optimizer or the parameters.
        TypeError
            If ``state`` is not a mapping with an ``"optimizer"``.
        """
        if not isinstance(state, Mapping) or "optimizer" not in state:
            raise TypeError("set_optimizer_state: expected a mapping from optimizer_state(), with 'optimizer'")
        rule = optimizers.get(state["optimizer"])
        training = self._new_training(rule)
        training.load_optimizer_state({k: v for k, v in state.items() if k != "optimizer"})
        self._training = (training, rule, True)
        return self

    # -- using the network ------------------------------------------------------------------------

    def _output_z(self, X: Any, who: str) -> Any:
        """:math:`Z_L` for the rows of ``X``, computed in chunks of rows so that memory stays bounded."""
        self._library(X, who, follow=False)
        return self._forward_in_chunks(self._features(X, who))

    def _forward_in_chunks(self, X: Any) -> Any:
        """:math:`Z_L` for checked features ``X``, at most `_CHUNK_ELEMENTS` per layer array at a time."""
        n = X.shape[0]
        W, b = (self._p.weights, self._p.biases)
        rows = min(n, max(1024, _CHUNK_ELEMENTS // max(self._sizes[1:])))
        if rows == n:
            return self._layers(n).forward(X, W, b)
        layers = self._layers(rows)
        if self._p.xp is None:
            Z = np.empty((n, self._sizes[-1]), self.dtype)
            for start in range(0, n, rows):
                part = X[start:start + rows]
                pass_ = layers if part.shape[0] == rows else layers.first(part.shape[0])
                Z[start:start + rows] = pass_.forward(part, W, b)
            return Z
        return self._p.xp.concat([layers.forward(X[start:min(start + rows, n), :], W, b)  # the array API's slices:
                                for start in range(0, n, rows)], axis=0)  # every axis, and in bounds

    def decision_function(self, X: Any) -> Any:
        r"""The output layer's pre-activation :math:`Z_L = A_{L-1} W_L^\top + b_L`, shape ``(n_samples, n_L)``.

        What the output activation turns into predictions: the log-odds of
        class 1 for ``"sigmoid"`` (one column), the unnormalised
        log-probabilities for ``"softmax"``, the predictions themselves for
        ``"identity"``. In the network's dtype and library.

        Raises
        ------
        TypeError
            If ``X`` is of another library (or device) than the parameters.

        Examples
        --------
        >>> import slopekit
        >>> net = slopekit.Network([1, 1]).set_parameters({"W1": [[2.0]], "b1": [-1.0]})
        >>> net.decision_function([[0.0], [1.0]])
        array([[-1.],
               [ 1.]])
        """
        return self._output_z(X, "decision_function")

    def predict(self, X: Any) -> Any:
        """Predictions for the rows of ``X``.

        Returns
        -------
        array
            In ``X``'s library and on its device (for a Dask array: a lazy
            Dask array, one task per chunk): class labels (int64,
            shape ``(n_samples,)``) for ``"sigmoid"`` (1 where :math:`a > 1/2`,
            that is :math:`z > 0`) and ``"softmax"`` (the most probable class);
            the outputs themselves for ``"identity"``, shape ``(n_samples,)``
            for one output and ``(n_samples, n_outputs)`` otherwise.

        Raises
        ------
        TypeError
            If ``X`` is of another library (or device) than the parameters.
        """
        if _backends.is_dask(X):
            from . import _dask

            return _dask.predict(self, self._p.dtype_name, X, "predict", "predict")
        Z = self._output_z(X, "predict")
        return self._output_loss.predict(Z) if self._p.xp is None else self._output_loss.predict_xp(self._p.xp, Z)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, shape ``(n_samples, n_classes)``, rows summing to 1.

        For ``"sigmoid"`` the columns are :math:`(1 - a, a)`, as in scikit-learn.
        A Dask array gives a lazy Dask array, one task per chunk.

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
        if _backends.is_dask(X):
            from . import _dask

            return _dask.predict(self, self._p.dtype_name, X, "predict_proba", "predict_proba")
        Z = self._output_z(X, "predict_proba")
        return self._output_loss.proba(Z) if self._p.xp is None else self._output_loss.proba_xp(self._p.xp, Z)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy for classification; the coefficient of determination :math:`R^2` for ``"identity"``.

        :math:`R^2 = 1 - \\sum (y - a)^2 / \\sum (y - \\bar y)^2`, averaged over
        the outputs, as scikit-learn's ``r2_score``. On Dask arrays it is
        computed on the workers: counts, and for :math:`R^2` each chunk's
        mean and squared deviations merged pairwise (Chan et al.), so that a
        large offset in ``y`` does not cancel.

        Examples
        --------
        >>> import slopekit
        >>> net = slopekit.Network([1, 1], output="identity").set_parameters({"W1": [[2.0]], "b1": [1.0]})
        >>> net.score([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])  # y = 2x + 1 exactly
        1.0
        """
        if _backends.is_dask(X) or _backends.is_dask(y):
            from . import _dask

            return _dask.score(self, self._p.dtype_name, X, y, "score")
        self._library(X, "score", follow=False)
        Xc = self._features(X, "score")
        Y = _backends.to_numpy(self._targets(y, Xc.shape[0], "score"), self._p.xp)
        Z = _backends.to_numpy(self._forward_in_chunks(Xc), self._p.xp)
        if self.output == "identity":
            Y64, Z64 = Y.astype(np.float64), Z.astype(np.float64)
            residual = ((Y64 - Z64) ** 2).sum(axis=0)
            total = ((Y64 - Y64.mean(axis=0)) ** 2).sum(axis=0)
            safe = np.where(total > 0, total, 1.0)
            r2 = np.where(total > 0, 1.0 - residual / safe, np.where(residual == 0, 1.0, 0.0))
            return float(r2.mean())
        truth = Y[:, 0] if Y.shape[1] == 1 else np.argmax(Y, axis=1)
        return float(np.mean(self._output_loss.predict(Z) == truth))

    # -- saving -------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the network to one ``.npz`` file at ``path`` (exactly that name).

        The file holds the parameters as NumPy arrays (from any library and
        device; bfloat16 as float32, exactly) and the architecture, seed,
        `history` and `info` as JSON text in a ``uint8`` array: nothing is
        pickled. The write is atomic: a temporary file in the same directory,
        renamed over ``path`` once complete, so a crash never leaves half a
        model.

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
        """Read a network written by `save`; its parameters are NumPy arrays.

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


#: The most elements of the widest layer's array that `Network.predict` and its kin allocate at once.
_CHUNK_ELEMENTS = 1 << 22


def _dtype_name(dtype: Any) -> str:
    """The name of a floating dtype a network may have (NumPy's, another library's, or a name)."""
    if isinstance(dtype, str):
        name = dtype.strip().lower()
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = _backends.dtype_name(dtype)
    if name not in _backends.FLOAT_NAMES:
        try:
            np.dtype(name)
        except TypeError:
            raise TypeError(f"dtype must be a floating dtype (float16, bfloat16, float32, float64), "
                            f"got {dtype!r}") from None
        raise ValueError(f"dtype must be float16, bfloat16, float32 or float64, got {name}")
    return name


def _check_rule_for_dtype(who: str, rule: optimizers.Optimizer, dtype_name: str) -> None:
    """Refuse an Adam whose ``eps`` rounds to 0 in the training dtype (float16): its step would divide 0 by 0."""
    eps = getattr(rule, "eps", None)
    if isinstance(rule, optimizers.Adam) and eps is not None:
        with np.errstate(under="ignore"):
            rounded = float(np.asarray(eps, _parameter_set.host_dtype(dtype_name)))
        if rounded == 0.0:
            raise ValueError(f"{who}: Adam's eps={eps:g} rounds to 0 in {dtype_name}, so its steps would divide 0 "
                             f"by 0 where a gradient vanishes; pass optimizer=optimizers.Adam(eps=1e-4) (or larger), "
                             f"or train in float32")


def _sample_weight(sample_weight: Any, n: int | None, who: str, *, zero_sum: bool = False) -> np.ndarray:
    """Checked sample weights: a new float64 NumPy array of shape ``(n,)``, non-negative and finite.

    ``zero_sum`` allows weights that are all 0 (a shard of a data set); otherwise their sum must be positive.
    """
    xp = _backends.library_of(sample_weight, who, "sample_weight")
    try:
        w = np.asarray(_backends.to_numpy(_backends.detach(sample_weight, xp), xp))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{who}: sample_weight is not an array: {exc}") from None
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{who}: sample_weight must hold real numbers, got dtype {w.dtype}")
    if w.ndim != 1:
        raise ValueError(f"{who}: sample_weight must be 1-D, one weight per sample, got shape {w.shape}")
    if n is not None and w.shape[0] != n:
        raise ValueError(f"{who}: sample_weight has {w.shape[0]} weights but X has {n} samples")
    w = w.astype(np.float64)  # a copy: the caller's array is never written to
    if not np.isfinite(w).all():
        raise ValueError(f"{who}: sample_weight contains NaN or infinity")
    if (w < 0).any():
        raise ValueError(f"{who}: sample_weight must be >= 0, got {w[w < 0][0]:g}")
    if not zero_sum and not w.sum() > 0:
        raise ValueError(f"{who}: sample_weight is all 0: nothing to average over")
    return w


def _rows(X: Any) -> int | None:
    """The number of rows of an array-like, or None if it has no shape."""
    shape = getattr(X, "shape", None)
    if shape is None:
        try:
            shape = np.shape(X)
        except (TypeError, ValueError):
            return None
    return int(shape[0]) if len(shape) else None


def _data_dtype(X: Any, xp: Any) -> str | None:
    """The floating dtype's name of data ``X``, None for integers or bools (the network keeps its own)."""
    if xp is None:
        dtype = getattr(X, "dtype", None)
        if dtype is None:
            try:
                dtype = np.asarray(X).dtype
            except (TypeError, ValueError):
                return None
        return dtype.name if dtype.kind == "f" and dtype.name in _backends.FLOAT_NAMES else None
    if xp.isdtype(X.dtype, "real floating"):
        name = _backends.dtype_name(X.dtype)
        return name if name in _backends.FLOAT_NAMES else None
    return None


def training_data(net: Network, X: Any, y: Any, sample_weight: Any, who: str) -> tuple[Any, Any, Any]:
    """``(X, Y, w)`` checked and encoded as `slopekit._training` takes them, by ``net``'s in-memory checks.

    For `slopekit._dask`, whose workers check each chunk of rows with it: the
    rows in the network's dtype, the encoded targets, and the sample weights
    as a column (None without).
    """
    X, Y = net._data(X, y, who)
    return X, Y, None if sample_weight is None else net._weights(sample_weight, X.shape[0], who, zero_sum=True)[0]


def _without(settings: dict[str, Any], *names: str) -> dict[str, Any]:
    """``settings`` less ``names``."""
    return {k: v for k, v in settings.items() if k not in names}
