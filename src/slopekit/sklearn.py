r"""scikit-learn estimators around `slopekit.Network`: `NetworkClassifier` and `NetworkRegressor`.

They keep scikit-learn's contract (``get_params``/``set_params``, ``clone``,
``fit``/``predict``/``score``, ``classes_``, ``n_features_in_``,
``feature_names_in_``, ``__sklearn_tags__``), so a network works in a
``Pipeline``, ``GridSearchCV`` and ``cross_val_score``, and
``sklearn.utils.estimator_checks`` passes on them. The parameters follow
``MLPClassifier`` and ``MLPRegressor`` where the two libraries mean the same
thing, and slopekit's names where they do not (``epochs`` for ``max_iter``,
``learning_rate`` for ``learning_rate_init``, ``l2`` for ``alpha``,
``optimizer`` for ``solver``).

This is the only module of slopekit that imports scikit-learn (the extra
``pip install "slopekit[sklearn]"``); ``import slopekit`` does not.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sklearn.model_selection import train_test_split
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from slopekit.sklearn import NetworkClassifier
>>> X, y = load_iris(return_X_y=True)
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
>>> model = make_pipeline(StandardScaler(), NetworkClassifier(epochs=300, learning_rate=0.01, random_state=0))
>>> model.fit(X_train, y_train).score(X_test, y_test) > 0.9
True
"""

from __future__ import annotations

import contextlib
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from . import optimizers
from .activations import Activation, get, parse
from .network import Network


def _stochastic(estimator: Any) -> bool:
    """`partial_fit` exists only for step rules, as in scikit-learn's MLP (L-BFGS runs whole)."""
    if isinstance(estimator.optimizer, str) and estimator.optimizer.strip().lower() == "lbfgs" or \
            isinstance(estimator.optimizer, optimizers.LBFGS):
        raise AttributeError(f"partial_fit is only available for step rules ('gd', 'momentum', 'adam'); "
                             f"{estimator.optimizer!r} runs whole through fit")
    return True

__all__ = ["NetworkClassifier", "NetworkRegressor"]

_DTYPES = {"float32": np.float32, "float64": np.float64}
#: The initial weights: Glorot's variance 2 / (n_in + n_out), MLPClassifier's (there uniform, here normal).
_INIT = "glorot"
#: Batches whose largest matrix product has at most this many multiply-adds train with one BLAS thread: at
#: these sizes a second thread cannot pay for its hand-off, and on a busy machine it waits for a core.
_ONE_THREAD_WORK = 1 << 23


class _NetworkEstimator(BaseEstimator):
    """What the classifier and the regressor share: the parameters, their checks, and the training loop."""

    #: The output activation of the network; the classifier picks it per number of classes.
    _output: str = "identity"

    def __init__(self, hidden_layer_sizes: Sequence[int] = (100,), activation: Any = "relu", optimizer: Any = "adam",
                 learning_rate: float = 0.001, epochs: int = 200, batch_size: int | str = "auto", l2: float = 0.0001,
                 early_stopping: bool = False, validation_fraction: float = 0.1, n_iter_no_change: int = 10,
                 tol: float = 1e-4, warm_start: bool = False, random_state: Any = None, dtype: Any = "float64",
                 verbose: bool = False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.l2 = l2
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose

    # -- checking the parameters (in fit: the constructor only stores them) ------------------------

    def _settings(self) -> dict[str, Any]:
        """The parameters checked and normalised; raises ValueError or TypeError naming the bad one."""
        name = type(self).__name__
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, (bool, np.bool_)):
            sizes = (sizes,)
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)):
            raise TypeError(f"{name}: hidden_layer_sizes must be a sequence of positive integers such as (100,), "
                            f"got {sizes!r}")
        sizes = tuple(np.asarray(sizes).tolist() if isinstance(sizes, np.ndarray) else sizes)
        for n in sizes:
            if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
                raise ValueError(f"{name}: hidden_layer_sizes must hold positive integers, got {self.hidden_layer_sizes!r}")
        if isinstance(self.activation, Activation):
            activation = self.activation
        elif isinstance(self.activation, str):
            activation = parse(self.activation)  # "tanh", "leaky_relu:slope=0.001"
        else:
            raise TypeError(f"{name}: activation must be a name such as 'tanh' or 'leaky_relu:slope=0.001', or an "
                            f"Activation, got {type(self.activation).__name__}")
        if self.optimizer == "lbfgs":  # full-batch L-BFGS, which Network.fit runs itself
            optimizer: Any = "lbfgs"
        else:
            optimizer = optimizers.get(self.optimizer)
        for key in ("epochs", "n_iter_no_change"):
            value = getattr(self, key)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name}: {key} must be a positive integer, got {value!r}")
        batch_size = self.batch_size
        if isinstance(batch_size, str):
            valid = batch_size == "auto"
        else:
            valid = (isinstance(batch_size, numbers.Integral) and not isinstance(batch_size, (bool, np.bool_))
                     and batch_size >= 1)
        if not valid:
            raise ValueError(f"{name}: batch_size must be 'auto' or a positive integer, got {batch_size!r}")
        reals = {}
        for key, low, high in (("learning_rate", 0.0, None), ("l2", None, None), ("tol", None, None),
                               ("validation_fraction", 0.0, 1.0)):
            value = getattr(self, key)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
                raise ValueError(f"{name}: {key} must be a finite real number, got {value!r}")
            if (low is None and value < 0) or (low is not None and value <= low) or (high is not None
                                                                                     and value >= high):
                bounds = f"in ({low:g}, {high:g})" if high is not None else ("> 0" if low is not None else ">= 0")
                raise ValueError(f"{name}: {key} must be {bounds}, got {value!r}")
            reals[key] = float(value)
        try:
            dtype = np.dtype(self.dtype).name
        except TypeError:
            dtype = None
        if dtype not in _DTYPES:
            raise ValueError(f"{name}: dtype must be 'float32' or 'float64', got {self.dtype!r}")
        return {"hidden_layer_sizes": sizes, "activation": activation, "optimizer": optimizer,
                "epochs": int(self.epochs), "n_iter_no_change": int(self.n_iter_no_change),
                "batch_size": batch_size, "dtype": _DTYPES[dtype], **reals}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags

    # -- training ----------------------------------------------------------------------------------

    def _seed(self) -> int:
        """The seed of a new network: ``random_state`` itself when it is an integer, else one drawn from it."""
        if isinstance(self.random_state, numbers.Integral) and not isinstance(self.random_state, (bool, np.bool_)):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _encode(self, y: np.ndarray) -> np.ndarray:
        """The targets as `slopekit.Network` takes them."""
        return y

    def _score_encoded(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None) -> float:
        """The validation score (accuracy or R^2) of ``network_`` on encoded targets."""
        raise NotImplementedError

    def _train(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None, settings: dict[str, Any],
               *, incremental: bool) -> None:
        """Train ``network_`` on encoded targets: `fit` (up to ``epochs`` epochs) or one epoch (`partial_fit`)."""
        n = X.shape[0]
        X_val = y_val = w_val = None
        if settings["optimizer"] == "lbfgs":
            self._train_lbfgs(X, y, sample_weight, settings)
            return
        if settings["early_stopping"] and not incremental:
            stratify = y if self._output != "identity" and _can_stratify(y, settings["validation_fraction"]) else None
            parts = train_test_split(X, y, *(() if sample_weight is None else (sample_weight,)),
                                     test_size=settings["validation_fraction"], stratify=stratify,
                                     random_state=self.network_.seed)
            X, X_val, y, y_val = parts[:4]
            sample_weight, w_val = (parts[4], parts[5]) if sample_weight is not None else (None, None)
            if X_val.shape[0] < 2:
                raise ValueError(f"{type(self).__name__}: the validation set is too small, {X_val.shape[0]} sample; "
                                 "increase validation_fraction or pass more samples")
            n = X.shape[0]
        if settings["batch_size"] == "auto":
            batch_size = min(200, n)
        else:
            batch_size = min(int(settings["batch_size"]), n)
        sizes = self.network_.layer_sizes
        work = batch_size * max(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        with (threadpool_limits(limits=1, user_api="blas") if work <= _ONE_THREAD_WORK else contextlib.nullcontext()):
            self._train_batches(X, y, sample_weight, settings, incremental, batch_size, X_val, y_val, w_val)

    def _train_batches(self, X, y, sample_weight, settings, incremental, batch_size, X_val, y_val, w_val) -> None:
        """`slopekit.Network.fit` with a callback that records each epoch and stops as ``MLPClassifier`` does."""
        n = X.shape[0]
        common = dict(learning_rate=settings["learning_rate"], optimizer=settings["optimizer"], l2=settings["l2"],
                      batch_size=None if batch_size >= n else batch_size, sample_weight=sample_weight)
        if incremental:
            self.network_.partial_fit(X, y, **common)
            self._after_epoch(self.network_.history[-1], None, settings)
            self.n_iter_ += 1
            return
        stopped = []

        def callback(epoch: int, loss: float) -> bool:
            score = self._score_encoded(X_val, y_val, w_val) if X_val is not None else None
            if self._after_epoch(loss, score, settings):
                stopped.append(epoch)
                return True
            return False

        start = len(self.loss_curve_)
        self.n_iter_ = 0  # as MLPClassifier: the epochs of this fit (loss_curve_ goes on with warm_start)
        self.network_.fit(X, y, epochs=settings["epochs"], callback=callback, **common)
        self.n_iter_ = len(self.network_.history)
        if X_val is not None and self._best_parameters is not None:
            self.network_.set_parameters(self._best_parameters)  # the epoch of the best validation score
        if not stopped and len(self.loss_curve_) - start == settings["epochs"]:
            warnings.warn(f"{type(self).__name__}: stopped after epochs={settings['epochs']} before the "
                          f"{'validation score' if X_val is not None else 'training loss'} stopped improving by "
                          f"tol={settings['tol']:g}; increase epochs", ConvergenceWarning, stacklevel=5)

    def _train_lbfgs(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None,
                     settings: dict[str, Any]) -> None:
        """Full-batch L-BFGS in `slopekit.Network.fit`, ``epochs`` its iteration limit (no early stopping)."""
        self.network_.fit(X, y, epochs=settings["epochs"], learning_rate=settings["learning_rate"], optimizer="lbfgs",
                          l2=settings["l2"], sample_weight=sample_weight)
        for loss in self.network_.history:
            self.loss_curve_.append(loss)
            self.best_loss_ = min(self.best_loss_, loss) if self.best_loss_ is not None else None
        self.loss_ = self.loss_curve_[-1]
        self.n_iter_ = len(self.network_.history)
        if len(self.network_.history) >= settings["epochs"]:
            warnings.warn(f"{type(self).__name__}: L-BFGS stopped at its limit of epochs={settings['epochs']} "
                          "iterations before converging; increase epochs", ConvergenceWarning, stacklevel=5)

    def _after_epoch(self, loss: float, score: float | None, settings: dict[str, Any]) -> bool:
        """Record an epoch as ``MLPClassifier`` does; True when training should stop."""
        self.loss_curve_.append(loss)
        self.loss_ = loss
        tol = settings["tol"]
        if self.verbose:
            print(f"Iteration {len(self.loss_curve_)}, loss = {loss:.8f}")
        if score is not None:
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            self._no_improvement_count = (self._no_improvement_count + 1
                                          if score < self.best_validation_score_ + tol else 0)
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_parameters = self.network_.parameters()
        else:
            self._no_improvement_count = self._no_improvement_count + 1 if loss > self.best_loss_ - tol else 0
            self.best_loss_ = min(self.best_loss_, loss)
        return self._no_improvement_count > settings["n_iter_no_change"]

    def _start(self, n_features: int, n_outputs: int, settings: dict[str, Any]) -> None:
        """A new ``network_`` and fresh training records."""
        self.network_ = Network([n_features, *settings["hidden_layer_sizes"], n_outputs],
                                hidden=settings["activation"], output=self._output, seed=self._seed(),
                                dtype=settings["dtype"], init=_INIT)
        self.n_iter_ = 0
        self.loss_curve_: list[float] = []
        self.n_outputs_ = n_outputs
        self.best_loss_ = np.inf
        self._no_improvement_count = 0
        self._restart_validation(settings)

    def _restart_validation(self, settings: dict[str, Any]) -> None:
        early = settings["early_stopping"]
        self.validation_scores_ = [] if early else None
        self.best_validation_score_ = -np.inf if early else None
        self._best_parameters = None
        if early:
            self.best_loss_ = None
        elif self.best_loss_ is None:
            self.best_loss_ = np.inf

    def _fit(self, X: Any, y: Any, sample_weight: Any, *, incremental: bool, classes: Any = None) -> Any:
        settings = {**self._settings(), "early_stopping": bool(self.early_stopping)}
        fitted = hasattr(self, "network_")
        if incremental and settings["early_stopping"]:
            raise ValueError(f"{type(self).__name__}: partial_fit does not support early_stopping=True")
        if incremental and settings["optimizer"] == "lbfgs":
            raise ValueError(f"{type(self).__name__}: partial_fit needs a stochastic optimizer, not 'lbfgs'")
        first = not fitted or not (self.warm_start or incremental)
        X, y = self._validate(X, y, settings["dtype"], reset=first, incremental=incremental, classes=classes)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        Y = self._encode(y)
        self._check_weights(Y, sample_weight, incremental)
        n_outputs = self._n_network_outputs(Y)
        if first:
            self._start(X.shape[1], n_outputs, settings)
        elif not incremental:
            self._restart_validation(settings)  # warm start: the parameters carry over, a new optimizer starts
        self._train(X, Y, sample_weight, settings, incremental=incremental)
        return self

    def _check_weights(self, Y: np.ndarray, sample_weight: np.ndarray | None, incremental: bool) -> None:
        """Refuse what the targets and weights cannot train (the classifier: a single weighted class)."""

    def _n_network_outputs(self, Y: np.ndarray) -> int:
        return 1 if Y.ndim == 1 else Y.shape[1]

    def _validate(self, X, y, dtype, *, reset, incremental, classes):
        raise NotImplementedError

    def _decision(self, X: Any) -> np.ndarray:
        """The network's :math:`Z_L` on ``X``, checked against what `fit` saw, computed in float64.

        A float32 network's parameters convert to float64 exactly, so this is
        its function evaluated without float32 rounding: the same on any
        subset of rows, as scikit-learn's checks ask of predictions.
        """
        check_is_fitted(self, "network_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        net = self.network_
        if net.dtype != np.float64:
            net = Network(net.layer_sizes, list(net.hidden), net.output, seed=net.seed, dtype=np.float64,
                          init=net.init).set_parameters(net.parameters())
        return net.decision_function(X)


def _can_stratify(y: np.ndarray, fraction: float) -> bool:
    """Whether a stratified split of encoded labels ``y`` can put every class on both sides."""
    counts = np.bincount(y)
    n_test = int(np.ceil(fraction * y.shape[0]))
    return bool(counts.min() >= 2 and counts.size <= n_test <= y.shape[0] - counts.size)


class NetworkClassifier(ClassifierMixin, _NetworkEstimator):
    r"""A `slopekit.Network` classifier with scikit-learn's interface.

    Two classes train a sigmoid output unit with binary cross-entropy, more a
    softmax output with categorical cross-entropy; the labels may be anything
    scikit-learn accepts (strings, integers of any values, booleans, pandas
    categoricals), and `predict` gives them back.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default (100,)
        Units per hidden layer.
    activation : str or Activation, default "relu"
        Every hidden layer's activation: a name or spec as
        `slopekit.activations.parse` reads it (``"tanh"``,
        ``"leaky_relu:slope=0.001"``), or an object such as
        ``slopekit.get("elu", alpha=0.5)``.
    optimizer : {"adam", "gd", "momentum", "lbfgs"} or Optimizer, default "adam"
        The update rule (`slopekit.optimizers`); ``"lbfgs"`` is full-batch
        L-BFGS, passed on to `slopekit.Network.fit`.
    learning_rate : float, default 0.001
        The step size :math:`\alpha` (``MLPClassifier``'s ``learning_rate_init``).
    epochs : int, default 200
        The most passes over the data (``max_iter``).
    batch_size : int or "auto", default "auto"
        Samples per mini-batch; ``"auto"`` is ``min(200, n_samples)``.
        Each batch's gradient is its (weighted) mean.
    l2 : float, default 0.0001
        The L2 penalty :math:`\lambda` of `slopekit.Network.fit`: the loss
        gains :math:`\frac{\lambda}{2 \sum_i w_i} \sum_l \lVert W_l \rVert^2`
        over the whole training set, whatever the batch size (``MLPClassifier``'s
        ``alpha`` divides by each batch's size instead).
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training data (stratified)
        and stop when its accuracy has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; the parameters of the best epoch are kept.
    validation_fraction : float, default 0.1
        In (0, 1): the held-out share for ``early_stopping``.
    n_iter_no_change : int, default 10
        Epochs without an improvement of ``tol`` before training stops.
    tol : float, default 1e-4
        The improvement of the training loss (or validation score) that counts.
    warm_start : bool, default False
        Start `fit` from the parameters of the previous `fit` (with a new
        optimizer state, as ``MLPClassifier``).
    random_state : int, RandomState or None, default None
        An integer is the network's ``seed`` (initial weights, shuffles and
        the validation split); a ``RandomState`` or None draws one per `fit`.
    dtype : {"float64", "float32"}, default "float64"
        The dtype of the parameters and of training. Predicted probabilities
        and decision values come back as float64.
    verbose : bool, default False
        Print the loss (and validation score) of every epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    network_ : slopekit.Network
        The trained network (``network_.save(path)`` writes it without a pickle).
    n_features_in_ : int
        The number of features seen in `fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        The column names of ``X`` in `fit`, when it had string column names.
    n_outputs_ : int
        Output units of the network (1 for two classes, else one per class).
    n_iter_ : int
        Epochs trained.
    loss_ : float
        The training loss of the last epoch.
    loss_curve_ : list of float
        The training loss of each epoch (the mean of its mini-batch losses).
    best_loss_ : float or None
        The lowest training loss; None with ``early_stopping``.
    validation_scores_ : list of float or None
        The held-out accuracy of each epoch with ``early_stopping``, else None.
    best_validation_score_ : float or None
        Their best, or None.

    Notes
    -----
    With ``sample_weight`` training minimises the weighted mean loss (see
    `slopekit.Network.loss`), :math:`dZ_L = w \odot (A_L - Y) / \sum_i w_i`
    for each batch, as ``MLPClassifier`` does.

    Examples
    --------
    >>> import numpy as np
    >>> from slopekit.sklearn import NetworkClassifier
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 10)
    >>> y = np.array(["no", "yes", "yes", "no"] * 10)  # XOR, with strings
    >>> clf = NetworkClassifier(hidden_layer_sizes=(8,), activation="tanh", learning_rate=0.05, epochs=300,
    ...                         random_state=0).fit(X, y)
    >>> clf.classes_
    array(['no', 'yes'], dtype='<U3')
    >>> clf.predict([[0.0, 1.0], [1.0, 1.0]])
    array(['yes', 'no'], dtype='<U3')
    >>> clf.predict_proba([[0.0, 1.0]]).shape
    (1, 2)
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = False
        return tags

    def _validate(self, X, y, dtype, *, reset, incremental, classes):
        X, y = validate_data(self, X, y, dtype=dtype, reset=reset)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"{type(self).__name__}: y must be class labels of one output, got {kind} targets")
        if incremental:
            if classes is not None:
                classes = np.unique(np.asarray(classes))
                if reset or not hasattr(self, "classes_"):
                    self.classes_ = classes
                elif not np.array_equal(classes, self.classes_):
                    raise ValueError(f"{type(self).__name__}: partial_fit got classes={classes!r}, but the first call "
                                     f"set {self.classes_!r}")
            elif not hasattr(self, "classes_") or reset:
                raise ValueError(f"{type(self).__name__}: classes must be passed on the first call to partial_fit")
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if unseen.size:
                raise ValueError(f"{type(self).__name__}: y has labels {unseen.tolist()!r} that are not in classes "
                                 f"{self.classes_.tolist()!r}")
        else:
            classes = np.unique(y)
            if not reset and not np.array_equal(classes, self.classes_):
                raise ValueError(f"{type(self).__name__}: warm_start needs the classes of the previous fit, "
                                 f"{self.classes_.tolist()!r}; y has {classes.tolist()!r}")
            self.classes_ = classes
        if self.classes_.shape[0] < 2:
            raise ValueError(f"{type(self).__name__}: needs samples of at least 2 classes; y has only one class, "
                             f"{self.classes_[0]!r}")
        return X, y

    @property
    def _output(self) -> str:  # type: ignore[override]
        return "sigmoid" if self.classes_.shape[0] == 2 else "softmax"

    def _encode(self, y):
        return np.searchsorted(self.classes_, y)

    def _n_network_outputs(self, Y):
        return 1 if self.classes_.shape[0] == 2 else self.classes_.shape[0]

    def _check_weights(self, Y, sample_weight, incremental):
        if sample_weight is None or incremental:
            return
        weighted = np.unique(Y[sample_weight > 0])
        if weighted.size < 2:
            raise ValueError(f"{type(self).__name__}: needs samples of at least 2 classes with sample_weight > 0; "
                             f"only one class, {self.classes_[weighted[0]]!r}, has any")

    def _score_encoded(self, X, y, sample_weight):
        return float(accuracy_score(y, self.network_.predict(X), sample_weight=sample_weight))

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NetworkClassifier:
        """Train a network on ``(X, y)``; returns ``self``.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Real numbers (NumPy, lists, pandas).
        y : array_like of shape (n_samples,)
            Class labels of any kind scikit-learn accepts.
        sample_weight : array_like of shape (n_samples,), optional
            Non-negative weights: the loss is their weighted mean.

        Returns
        -------
        self

        Warns
        -----
        ConvergenceWarning
            When ``epochs`` ran out before the loss stopped improving by ``tol``.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None) -> NetworkClassifier:
        """One epoch on ``(X, y)``, continuing the optimizer state of the previous `partial_fit`; returns ``self``.

        Parameters
        ----------
        X, y, sample_weight
            As for `fit`.
        classes : array_like, optional
            Every class label; required on the first call, as in scikit-learn.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def decision_function(self, X: Any) -> np.ndarray:
        """The output layer's pre-activation: shape ``(n_samples,)`` for two classes (the log-odds of
        ``classes_[1]``), ``(n_samples, n_classes)`` otherwise; float64."""
        Z = self._decision(X)
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``, columns in `classes_` order; float64."""
        Z = self._decision(X)
        if Z.shape[1] == 1:  # (1 - a, a) as (sigma(-z), sigma(z)): no cancellation
            return get("sigmoid")(np.concatenate([-Z, Z], axis=1))
        return get("softmax")(Z)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The logarithm of `predict_proba` (as scikit-learn's: ``-inf`` where a probability is 0 in float64).

        ``log_sigmoid``/``log_softmax`` of `decision_function` would stay
        finite where :math:`e^{z}` underflows, but scikit-learn's contract is
        ``predict_log_proba == log(predict_proba)``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row, as one of `classes_`."""
        Z = self._decision(X)
        index = (Z[:, 0] > 0).astype(np.intp) if Z.shape[1] == 1 else np.argmax(Z, axis=1)
        return self.classes_[index]


class NetworkRegressor(RegressorMixin, _NetworkEstimator):
    r"""A `slopekit.Network` regressor with scikit-learn's interface: identity output, half squared error.

    Parameters
    ----------
    hidden_layer_sizes, activation, optimizer, learning_rate, epochs, batch_size, l2, early_stopping, \
validation_fraction, n_iter_no_change, tol, warm_start, random_state, dtype, verbose
        As for `NetworkClassifier`; early stopping scores the held-out part
        by :math:`R^2` (not stratified).

    Attributes
    ----------
    network_, n_features_in_, feature_names_in_, n_iter_, loss_, loss_curve_, best_loss_, \
validation_scores_, best_validation_score_
        As for `NetworkClassifier`.
    n_outputs_ : int
        The number of targets (columns of ``y``).

    Notes
    -----
    The loss is scikit-learn's ``squared_error``,
    :math:`\frac{1}{2 n k} \sum_{i, j} (a_{ij} - y_{ij})^2` for :math:`k`
    targets; with ``sample_weight`` the weighted mean over the samples.

    Examples
    --------
    >>> import numpy as np
    >>> from slopekit.sklearn import NetworkRegressor
    >>> X = np.linspace(-1.0, 1.0, 50).reshape(-1, 1)
    >>> reg = NetworkRegressor(hidden_layer_sizes=(16,), activation="tanh", learning_rate=0.01, epochs=500,
    ...                        random_state=0).fit(X, X[:, 0] ** 2)
    >>> reg.score(X, X[:, 0] ** 2) > 0.95
    True
    >>> reg.predict(X[:2]).shape, reg.n_outputs_
    ((2,), 1)
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def _validate(self, X, y, dtype, *, reset, incremental, classes):
        X, y = validate_data(self, X, y, dtype=dtype, reset=reset, multi_output=True, y_numeric=True)
        if not reset and (1 if y.ndim == 1 else y.shape[1]) != self.network_.layer_sizes[-1]:
            raise ValueError(f"{type(self).__name__}: y has {1 if y.ndim == 1 else y.shape[1]} targets, but the "
                             f"network was fitted on {self.network_.layer_sizes[-1]}")
        return X, y

    def _score_encoded(self, X, y, sample_weight):
        return float(r2_score(y, self.network_.predict(X), sample_weight=sample_weight))

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NetworkRegressor:
        """Train a network on ``(X, y)``; returns ``self``.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
        y : array_like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array_like of shape (n_samples,), optional
            Non-negative weights: the loss is their weighted mean.

        Returns
        -------
        self

        Warns
        -----
        ConvergenceWarning
            When ``epochs`` ran out before the loss stopped improving by ``tol``.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> NetworkRegressor:
        """One epoch on ``(X, y)``, continuing the optimizer state of the previous `partial_fit`; returns ``self``."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predictions, float64: shape ``(n_samples,)`` for one target, ``(n_samples, n_targets)`` otherwise."""
        Z = self._decision(X)
        return Z[:, 0] if Z.shape[1] == 1 else Z
