"""slopekit.sklearn: scikit-learn's estimator checks, equivalence with Network, real data against MLPClassifier."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone, is_classifier, is_regressor  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import slopekit  # noqa: E402
from slopekit.sklearn import NetworkClassifier, NetworkRegressor  # noqa: E402



def _benchmark(name):
    """A script of benchmarks/ as a module (not on sys.path: benchmarks/dask.py would shadow Dask)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_benchmark_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sklearn_compare = _benchmark("sklearn_compare")


def quietly(fit, *args, **kwargs):
    """Call ``fit`` with ConvergenceWarning silenced (a test that is about something else)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit(*args, **kwargs)


def blobs(n=120, classes=3, seed=0):
    rng = np.random.RandomState(seed)
    centers = rng.randn(classes, 4) * 3
    y = np.arange(n) % classes
    return centers[y] + rng.randn(n, 4), y


# -- scikit-learn's own contract ------------------------------------------------------------------


# Every check of scikit-learn runs and passes, with the defaults. ConvergenceWarning is ignored here
# because the checks fit on tiny data for a few epochs, and several of them record warnings and count
# them; the warning itself is tested below. SCIPY_ARRAY_API lets check_array_api_input run (for
# NumPy input with array_api_dispatch on) instead of skipping.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks([NetworkClassifier(), NetworkRegressor(), NetworkClassifier(optimizer="lbfgs"),
                          NetworkRegressor(optimizer="lbfgs")])
def test_scikit_learn_estimator_checks(estimator, check, monkeypatch):
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


FLOAT32_ROUNDING = {
    "check_sample_weight_equivalence_on_dense_data":
        "float32 training adds the rows in another order when they repeat than when they are weighted; Adam's "
        "normalised steps amplify that rounding over 200 epochs (5e-9 after 20 epochs, 1e-4 after 200: "
        "test_float32_weights_are_repeated_rows), and the check asks 1e-7",
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks([NetworkClassifier(dtype="float32"), NetworkRegressor(dtype="float32")],
                         expected_failed_checks=lambda estimator: FLOAT32_ROUNDING)
def test_scikit_learn_estimator_checks_float32(estimator, check, monkeypatch):
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


@pytest.mark.parametrize("cls", [NetworkClassifier, NetworkRegressor])
def test_float32_weights_are_repeated_rows(cls):
    rng = np.random.RandomState(42)
    X, y = rng.rand(15, 30), rng.randint(0, 3, 15)
    w = rng.randint(1, 5, 15)
    again = np.repeat(np.arange(15), w)
    weighted = quietly(cls(dtype="float32", epochs=20, random_state=0).fit, X, y, sample_weight=w)
    repeated = quietly(cls(dtype="float32", epochs=20, random_state=0).fit, X[again], y[again])
    method = "predict_proba" if cls is NetworkClassifier else "predict"
    a, b = getattr(weighted, method)(X), getattr(repeated, method)(X)
    assert a.dtype == np.float64
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    assert weighted.network_.dtype == np.float32


def test_scikit_learn_knows_what_they_are():
    assert is_classifier(NetworkClassifier()) and is_regressor(NetworkRegressor())
    assert not is_classifier(NetworkRegressor())
    assert set(NetworkClassifier().get_params()) == set(NetworkRegressor().get_params()) == {
        "hidden_layer_sizes", "activation", "optimizer", "learning_rate", "epochs", "batch_size", "l2",
        "early_stopping", "validation_fraction", "n_iter_no_change", "tol", "warm_start", "random_state", "dtype",
        "verbose"}


def test_importing_slopekit_does_not_import_scikit_learn():
    code = "import sys, slopekit; slopekit.Network; slopekit.gradient_check; assert 'sklearn' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the same as Network ----------------------------------------------------------------------------


@pytest.mark.parametrize("classes", [2, 3])
def test_the_classifier_is_network_fit_bit_for_bit(classes):
    X, y = blobs(classes=classes)
    labels = np.array(["c", "a", "b"])[y]  # classes_ sorted: a, b, c -> 0, 1, 2
    clf = NetworkClassifier(hidden_layer_sizes=(7, 5), activation="tanh", optimizer="gd", learning_rate=0.1,
                            epochs=25, batch_size=1000, l2=0.01, n_iter_no_change=1000, random_state=3)
    with pytest.warns(ConvergenceWarning, match="epochs=25"):
        clf.fit(X, labels)
    encoded = np.searchsorted(np.unique(labels), labels)
    net = slopekit.Network([4, 7, 5, 1 if classes == 2 else classes], "tanh", "sigmoid" if classes == 2 else "softmax",
                           seed=3, init="glorot")
    net.fit(X, encoded, epochs=25, learning_rate=0.1, optimizer="gd", l2=0.01)
    for name, p in net.parameters().items():
        assert np.array_equal(p, clf.network_.parameters()[name]), name
    assert clf.loss_curve_ == net.history and clf.n_iter_ == 25
    assert np.array_equal(clf.predict(X), np.unique(labels)[np.asarray(net.predict(X))] if classes > 2
                          else np.unique(labels)[np.asarray(net.predict(X))])
    np.testing.assert_allclose(clf.predict_proba(X), net.predict_proba(X), rtol=1e-15, atol=1e-300)


def test_partial_fit_is_network_partial_fit_bit_for_bit():
    X, y = blobs()
    clf = NetworkClassifier(hidden_layer_sizes=(6,), batch_size=32, learning_rate=0.01, random_state=1)
    net = slopekit.Network([4, 6, 3], "relu", "softmax", seed=1, init="glorot")
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1, 2])
        net.partial_fit(X, y, learning_rate=0.01, optimizer="adam", batch_size=32, l2=0.0001)
    for name, p in net.parameters().items():
        assert np.array_equal(p, clf.network_.parameters()[name]), name
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3


def test_the_regressor_is_network_fit_bit_for_bit():
    X, _ = blobs()
    Y = np.c_[X[:, 0] - X[:, 1], X[:, 2] * 0.5]
    reg = NetworkRegressor(hidden_layer_sizes=(5,), optimizer="momentum", learning_rate=0.01, epochs=10,
                           batch_size=40, n_iter_no_change=100, random_state=2)
    quietly(reg.fit, X, Y)
    net = slopekit.Network([4, 5, 2], "relu", "identity", seed=2, init="glorot")
    net.fit(X, Y, epochs=10, learning_rate=0.01, optimizer="momentum", batch_size=40, l2=0.0001)
    assert all(np.array_equal(p, reg.network_.parameters()[k]) for k, p in net.parameters().items())
    assert reg.predict(X).shape == (120, 2) and reg.n_outputs_ == 2


# -- labels, attributes, behaviours -----------------------------------------------------------------


@pytest.mark.parametrize("labels", [
    np.array(["malignant", "benign"]), np.array([1, 2]), np.array([-1, 1]), np.array([True, False]),
    np.array(["setosa", "versicolor", "virginica"]), np.array([10, 20, 30]),
])
def test_any_labels_come_back_as_they_went_in(labels):
    X, y = blobs(classes=labels.shape[0])
    clf = NetworkClassifier(hidden_layer_sizes=(8,), learning_rate=0.05, epochs=60, random_state=0)
    quietly(clf.fit, X, labels[y])
    assert np.array_equal(clf.classes_, np.unique(labels))
    predicted = clf.predict(X)
    assert predicted.dtype == labels.dtype and np.mean(predicted == labels[y]) > 0.95
    proba = clf.predict_proba(X)
    assert proba.shape == (120, labels.shape[0]) and np.allclose(proba.sum(axis=1), 1)
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], predicted)  # columns in classes_ order
    decision = clf.decision_function(X)
    assert decision.shape == ((120,) if labels.shape[0] == 2 else (120, labels.shape[0]))
    assert clf.network_.output == ("sigmoid" if labels.shape[0] == 2 else "softmax")
    assert clf.n_outputs_ == (1 if labels.shape[0] == 2 else labels.shape[0])
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12)


def test_pandas_in_names_kept_and_checked():
    pd = pytest.importorskip("pandas")
    X, y = blobs()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    labels = pd.Series(pd.Categorical(np.array(["x", "y", "z"])[y]))
    clf = quietly(NetworkClassifier(hidden_layer_sizes=(8,), epochs=30, random_state=0).fit, frame, labels)
    assert list(clf.feature_names_in_) == ["a", "b", "c", "d"] and clf.n_features_in_ == 4
    assert set(clf.predict(frame)) <= {"x", "y", "z"}
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        clf.predict(X)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame[["b", "a", "c", "d"]])
    reg = quietly(NetworkRegressor(hidden_layer_sizes=(8,), epochs=5, random_state=0).fit, frame,
                  pd.Series(X[:, 0]))
    assert reg.predict(frame).shape == (120,)


def test_convergence_warning_and_its_absence():
    X, y = blobs()
    with pytest.warns(ConvergenceWarning, match="epochs=3"):
        clf = NetworkClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3 and clf.best_loss_ == min(clf.loss_curve_)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = NetworkClassifier(hidden_layer_sizes=(8,), epochs=500, tol=10.0, n_iter_no_change=2,
                                random_state=0).fit(X, y)
    assert clf.n_iter_ == 4  # the first epoch sets best_loss_; none improves on it by tol=10; after 3 more it stops
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None


def test_early_stopping_keeps_the_best_epoch():
    X, y = blobs(n=300)
    clf = NetworkClassifier(hidden_layer_sizes=(8,), learning_rate=0.05, epochs=200, early_stopping=True,
                            n_iter_no_change=5, random_state=0)
    quietly(clf.fit, X, y)
    assert clf.best_loss_ is None and len(clf.validation_scores_) == clf.n_iter_ < 200
    assert clf.best_validation_score_ == max(clf.validation_scores_) > 0.9
    with pytest.raises(ValueError, match="early_stopping"):
        clf.partial_fit(X, y)


def test_warm_start_continues_from_the_last_fit():
    X, y = blobs()
    settings = dict(hidden_layer_sizes=(8,), optimizer="gd", learning_rate=0.05, epochs=5, batch_size=500,
                    n_iter_no_change=100, random_state=0)
    warm = NetworkClassifier(warm_start=True, **settings)
    quietly(warm.fit, X, y)
    quietly(warm.fit, X, y)
    cold = quietly(NetworkClassifier(**{**settings, "epochs": 10}).fit, X, y)
    assert all(np.array_equal(p, warm.network_.parameters()[k]) for k, p in cold.network_.parameters().items())
    assert warm.n_iter_ == 5 and len(warm.loss_curve_) == 10
    restarted = NetworkClassifier(**settings)
    quietly(restarted.fit, X, y)
    quietly(restarted.fit, X, y)  # without warm_start: from the start again
    assert len(restarted.loss_curve_) == 5
    with pytest.raises(ValueError, match="classes"):
        quietly(warm.fit, X[y < 2], y[y < 2])


def test_partial_fit_needs_classes_first_and_refuses_new_labels():
    X, y = blobs()
    clf = NetworkClassifier(hidden_layer_sizes=(4,))
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y == 0], y[y == 0], classes=[0, 1, 2])  # one class in a call is fine
    assert list(clf.classes_) == [0, 1, 2]
    with pytest.raises(ValueError, match=r"\[7\]"):
        clf.partial_fit(X, np.where(y == 2, 7, y))


def test_sample_weight_integer_weights_are_repeated_rows():
    X, y = blobs(n=60)
    w = np.random.RandomState(0).randint(0, 4, 60)
    again = np.repeat(np.arange(60), w)
    settings = dict(hidden_layer_sizes=(8,), epochs=40, learning_rate=0.01, n_iter_no_change=100, random_state=0)
    a = quietly(NetworkClassifier(**settings).fit, X, y, sample_weight=w)
    b = quietly(NetworkClassifier(**settings).fit, X[again], y[again])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-9, atol=1e-12)
    c = quietly(NetworkClassifier(**settings).fit, X, y)
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X), rtol=1e-3)
    with pytest.raises(ValueError, match="Negative"):
        NetworkClassifier(**settings).fit(X, y, sample_weight=-w)


def test_pickle_and_network_save(tmp_path):
    X, y = blobs()
    clf = quietly(NetworkClassifier(hidden_layer_sizes=(8,), epochs=20, random_state=0).fit, X, y)
    again = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))
    clf.network_.save(tmp_path / "net.npz")
    loaded = slopekit.Network.load(tmp_path / "net.npz")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.network_.predict_proba(X))


def test_grid_search_pipeline_cross_validation_and_clone():
    X, y = blobs(n=150)
    pipe = make_pipeline(StandardScaler(), NetworkClassifier(epochs=30, learning_rate=0.05, random_state=0))
    grid = GridSearchCV(pipe, {"networkclassifier__hidden_layer_sizes": [(4,), (16,)],
                               "networkclassifier__activation": ["tanh", "leaky_relu:slope=0.1"]}, cv=3)
    quietly(grid.fit, X, y)
    best = grid.best_estimator_[-1]
    assert grid.best_score_ > 0.9 and len(grid.cv_results_["params"]) == 4
    assert best.network_.layer_sizes[1:-1] == best.hidden_layer_sizes
    assert len(quietly(cross_val_score, pipe, X, y, cv=3)) == 3
    copy = clone(grid.best_estimator_[-1])
    assert not hasattr(copy, "network_") and copy.get_params() == grid.best_estimator_[-1].get_params()


@pytest.mark.parametrize("params, error, match", [
    ({"hidden_layer_sizes": (10, 0)}, ValueError, "hidden_layer_sizes"),
    ({"hidden_layer_sizes": "10"}, TypeError, "hidden_layer_sizes"),
    ({"activation": "nope"}, ValueError, "unknown activation"),
    ({"activation": 3}, TypeError, "activation"),
    ({"optimizer": "nope"}, ValueError, "nope"),
    ({"learning_rate": 0.0}, ValueError, "learning_rate"),
    ({"epochs": 0}, ValueError, "epochs"),
    ({"batch_size": "big"}, ValueError, "batch_size"),
    ({"l2": -1.0}, ValueError, "l2"),
    ({"validation_fraction": 1.0}, ValueError, "validation_fraction"),
    ({"dtype": "float16"}, ValueError, "dtype"),
])
def test_bad_parameters_are_refused_in_fit_not_in_the_constructor(params, error, match):
    X, y = blobs()
    clf = NetworkClassifier(**params)  # stores them
    with pytest.raises(error, match=match):
        clf.fit(X, y)


def test_lbfgs_is_passed_on_to_network_fit(monkeypatch):
    X, y = blobs()
    seen = {}

    def fit(self, X, y, **kwargs):
        seen.update(kwargs)
        self.history = [1.0, 0.5]
        return self

    monkeypatch.setattr(slopekit.Network, "fit", fit)
    clf = NetworkClassifier(optimizer="lbfgs", epochs=50).fit(X, y)
    assert seen["optimizer"] == "lbfgs" and seen["epochs"] == 50
    assert clf.n_iter_ == 2 and clf.loss_curve_ == [1.0, 0.5]
    assert not hasattr(clf, "partial_fit")  # as MLPClassifier(solver="lbfgs"): only step rules have it
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'"):
        clf.partial_fit(X, y)


# -- real data, against MLPClassifier and MLPRegressor -------------------------------------------------


@pytest.mark.parametrize("table", sklearn_compare.TABLES)
def test_real_data_scores_at_least_scikit_learns_minus_one_point(table):
    (row,) = sklearn_compare.compare([table], repeat=1)
    assert row["slopekit"] >= row["sklearn"] - 0.01, row


def test_the_readme_example_runs_and_says_what_it_prints():
    pytest.importorskip("pandas")  # the example loads a DataFrame
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## In scikit-learn"):]
    code = section[section.index("```python") + len("```python"):section.index("```\n", section.index("```python"))]
    namespace = {}
    quietly(exec, compile(code, "README.md", "exec"), namespace)
    grid = namespace["grid"]
    score = float(re.search(r"grid\.score\(X_test, y_test\)\s+# ([0-9.]+)", code).group(1))
    assert round(grid.score(namespace["X_test"], namespace["y_test"]), 3) == score
    assert grid.best_params_ == {"networkclassifier__hidden_layer_sizes": (100,), "networkclassifier__l2": 0.0001}
    assert "hidden_layer_sizes (100,), l2 0.0001" in code
    assert isinstance(namespace["net"], slopekit.Network)


def test_lbfgs_trains_through_network_fit():
    pytest.importorskip("scipy")
    X, y = blobs()
    clf = NetworkClassifier(hidden_layer_sizes=(8,), optimizer="lbfgs", epochs=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converges well before 300 iterations: no ConvergenceWarning
        clf.fit(X, y, sample_weight=np.ones(120))
    assert clf.score(X, y) > 0.95 and 1 < clf.n_iter_ < 300 and clf.loss_curve_ == clf.network_.history
    with pytest.warns(ConvergenceWarning, match="epochs=2"):
        NetworkRegressor(optimizer="lbfgs", epochs=2, random_state=0).fit(X, X[:, 0])


# -- scikit-learn's array API dispatch: PyTorch (and array-api-strict) arrays train through Network's engine --


def _torch_devices():
    torch = pytest.importorskip("torch")
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    torch = pytest.importorskip("torch")
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    return request.param


def _array_api_combinations():
    from sklearn.utils._array_api import yield_namespace_device_dtype_combinations

    return list(yield_namespace_device_dtype_combinations())


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("namespace, device_name, dtype_name", _array_api_combinations())
@pytest.mark.parametrize("estimator", [NetworkClassifier(hidden_layer_sizes=(8,), epochs=30),
                                       NetworkRegressor(hidden_layer_sizes=(8,), epochs=30),
                                       NetworkClassifier(hidden_layer_sizes=(8,), epochs=30, early_stopping=True)],
                         ids=["classifier", "regressor", "early_stopping"])
def test_scikit_learns_array_api_check_with_values(estimator, namespace, device_name, dtype_name):
    # check_values: the attributes (classes_) and every method's output equal the NumPy path's, in the input's
    # namespace and on its device; with sample weights. Devices and libraries not present are skipped by
    # scikit-learn (SkipTest).
    from sklearn.utils.estimator_checks import check_array_api_input

    check_array_api_input(type(estimator).__name__, estimator, array_namespace=namespace, device_name=device_name,
                          dtype_name=dtype_name, check_values=True, check_sample_weight=True)


def test_the_array_api_tag_is_declared():
    from sklearn.utils import get_tags

    assert get_tags(NetworkClassifier()).array_api_support and get_tags(NetworkRegressor()).array_api_support


@pytest.mark.parametrize("early_stopping", [False, True])
def test_torch_in_a_pipeline_under_dispatch_is_the_numpy_path(device, early_stopping, monkeypatch):
    import torch
    from sklearn import config_context

    X, y = blobs(n=150)
    labels = np.array([-1.0, 2.0, 7.0])[y]  # float labels: encoded in the namespace, given back
    w = np.random.RandomState(1).uniform(0.5, 2.0, 150)
    X_t, y_t, w_t = (torch.asarray(a, device=device) for a in (X, labels, w))
    X_before = X_t.clone()
    seen = []
    fit = slopekit.Network.fit

    def spy(self, X, y, **kwargs):
        seen.append((type(X), type(y), type(kwargs.get("sample_weight"))))
        return fit(self, X, y, **kwargs)

    settings = dict(hidden_layer_sizes=(8, 6), learning_rate=0.01, epochs=40, batch_size=32,
                    early_stopping=early_stopping, n_iter_no_change=5, random_state=0)
    expected = quietly(make_pipeline(StandardScaler(), NetworkClassifier(**settings)).fit, X, labels,
                       networkclassifier__sample_weight=w)
    monkeypatch.setattr(slopekit.Network, "fit", spy)
    with config_context(array_api_dispatch=True):
        model = quietly(make_pipeline(StandardScaler(), NetworkClassifier(**settings)).fit, X_t, y_t,
                        networkclassifier__sample_weight=w_t)
        clf = model[-1]
        assert seen == [(torch.Tensor, torch.Tensor, torch.Tensor)]  # the network got the tensors, no NumPy copy
        net = clf.network_
        assert net.array_namespace.__name__.endswith("torch") and torch.device(net.device).type == device
        assert isinstance(clf.classes_, torch.Tensor) and clf.classes_.device.type == device
        assert clf.classes_.tolist() == [-1.0, 2.0, 7.0] and clf.classes_.dtype == torch.float64
        results = {name: getattr(model, name)(X_t) for name in
                   ("predict", "predict_proba", "predict_log_proba", "decision_function")}
        score = model.score(X_t, y_t)
    for name, got in results.items():
        assert isinstance(got, torch.Tensor) and got.device.type == device, name
        want = getattr(expected, name)(X)
        assert got.dtype == getattr(torch, want.dtype.name), name
        np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-10, atol=1e-10, err_msg=name)
    assert score == expected.score(X, labels) and isinstance(score, float)
    assert clf.n_iter_ == expected[-1].n_iter_
    np.testing.assert_allclose(clf.loss_curve_, expected[-1].loss_curve_, rtol=1e-10)
    assert all(isinstance(loss, float) for loss in clf.loss_curve_)
    assert clf.validation_scores_ == expected[-1].validation_scores_
    assert torch.equal(X_t, X_before)  # the caller's tensor is not written to


@pytest.mark.parametrize("dtype, trained", [("float64", "float64"), ("float32", "float32")])
def test_the_estimators_dtype_decides_under_dispatch(device, dtype, trained):
    import torch
    from sklearn import config_context

    X, _ = blobs()
    X_t = torch.asarray(X, dtype=torch.float32, device=device)  # float32 data
    with config_context(array_api_dispatch=True):
        reg = quietly(NetworkRegressor(hidden_layer_sizes=(4,), epochs=5, dtype=dtype, random_state=0).fit,
                      X_t, X_t[:, 0])
        assert reg.network_.dtype == getattr(torch, trained)
        assert all(p.dtype == getattr(torch, trained) for p in reg.network_.parameters().values())
        prediction = reg.predict(X_t)
    assert prediction.dtype == torch.float64 and prediction.device.type == device  # predictions in float64


def test_without_dispatch_torch_input_is_converted_to_numpy_as_before():
    torch = pytest.importorskip("torch")
    X, y = blobs()
    settings = dict(hidden_layer_sizes=(8,), epochs=10, random_state=0)
    a = quietly(NetworkClassifier(**settings).fit, X, y)
    b = quietly(NetworkClassifier(**settings).fit, torch.asarray(X), torch.asarray(y))
    assert isinstance(b.classes_, np.ndarray) and b.network_.array_namespace is np
    for name in ("predict", "predict_proba"):
        got = getattr(b, name)(torch.asarray(X))
        assert isinstance(got, np.ndarray)
        np.testing.assert_array_equal(got, getattr(a, name)(X))


def test_fitted_under_dispatch_predicts_elsewhere_only_without_it():
    torch = pytest.importorskip("torch")
    from sklearn import config_context

    X, y = blobs()
    with config_context(array_api_dispatch=True):
        clf = quietly(NetworkClassifier(hidden_layer_sizes=(8,), epochs=10, random_state=0).fit, torch.asarray(X),
                      torch.asarray(y))
        on_torch = clf.predict_proba(torch.asarray(X)).numpy()
        for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
            with pytest.raises(ValueError, match=rf"NetworkClassifier\.{method}\(\) must use the same namespace"):
                getattr(clf, method)(X)
    # without dispatch: NumPy in, NumPy out, the same function
    np.testing.assert_allclose(clf.predict_proba(X), on_torch, rtol=1e-12)
    assert isinstance(clf.predict(X), np.ndarray) and set(clf.predict(X)) <= {0, 1, 2}


def test_partial_fit_and_lbfgs_under_dispatch():
    torch = pytest.importorskip("torch")
    from sklearn import config_context

    X, y = blobs()
    X_t, y_t = torch.asarray(X), torch.asarray(y)
    with config_context(array_api_dispatch=True):
        clf = NetworkClassifier(hidden_layer_sizes=(6,), batch_size=32, learning_rate=0.01, random_state=1)
        with pytest.raises(ValueError, match="classes must be passed"):
            clf.partial_fit(X_t, y_t)
        for _ in range(2):
            clf.partial_fit(X_t, y_t, classes=[0, 1, 2])
        assert isinstance(clf.classes_, torch.Tensor) and clf.n_iter_ == 2
        with pytest.raises(ValueError, match=r"\[7\]"):
            clf.partial_fit(X_t, torch.where(y_t == 2, 7, y_t))
        lbfgs = NetworkRegressor(hidden_layer_sizes=(6,), optimizer="lbfgs", epochs=30, random_state=0)
        quietly(lbfgs.fit, X_t, X_t[:, 0])  # SciPy's L-BFGS runs on the host; the network goes back to X's device
        assert isinstance(lbfgs.predict(X_t), torch.Tensor) and lbfgs.network_.array_namespace is not np
    numpy_clf = NetworkClassifier(hidden_layer_sizes=(6,), batch_size=32, learning_rate=0.01, random_state=1)
    for _ in range(2):
        numpy_clf.partial_fit(X, y, classes=[0, 1, 2])
    with config_context(array_api_dispatch=True):
        np.testing.assert_allclose(clf.predict_proba(X_t).numpy(), numpy_clf.predict_proba(X), rtol=1e-10)
    reg = quietly(NetworkRegressor(hidden_layer_sizes=(6,), optimizer="lbfgs", epochs=30, random_state=0).fit, X,
                  X[:, 0])
    with config_context(array_api_dispatch=True):
        np.testing.assert_allclose(lbfgs.predict(X_t).numpy(), reg.predict(X), rtol=1e-10)


def test_y_and_sample_weight_follow_x_and_bad_input_is_refused():
    torch = pytest.importorskip("torch")
    from sklearn import config_context

    X, y = blobs()
    with config_context(array_api_dispatch=True):
        clf = quietly(NetworkClassifier(hidden_layer_sizes=(4,), epochs=3, random_state=0).fit, torch.asarray(X), y,
                      sample_weight=np.ones(120))  # NumPy y and weights follow X to torch
        assert isinstance(clf.classes_, torch.Tensor)
        with pytest.raises(ValueError, match="Negative"):
            clf.fit(torch.asarray(X), torch.asarray(y), sample_weight=-torch.ones(120, dtype=torch.float64))
        with pytest.raises(ValueError, match="continuous"):
            clf.fit(torch.asarray(X), torch.asarray(X[:, 0]))
        with pytest.raises(ValueError, match="features"):
            clf.predict(torch.asarray(X[:, :3]))
        with pytest.raises(TypeError, match="encode the labels"):
            clf.fit(torch.asarray(X), np.array(["a", "b", "c"])[y])


def test_the_readme_array_api_example_runs_and_says_what_it_prints():
    torch = pytest.importorskip("torch")
    import re
    from pathlib import Path

    from sklearn import config_context

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## In scikit-learn"):readme.index("## The lecture")]
    start = section.index("```python", section.index("array API dispatch")) + len("```python")
    code = section[start:section.index("```\n", start)]
    namespace = {}
    quietly(exec, compile(code, "README.md", "exec"), namespace)
    model, X, y = namespace["model"], namespace["X"], namespace["y"]
    assert isinstance(namespace["proba"], torch.Tensor) and namespace["proba"].dtype == torch.float64
    assert namespace["proba"].device == X.device and model[-1].classes_.device == X.device
    assert model[-1].classes_.tolist() == [0, 1] and "tensor([0, 1])" in code
    assert model[-1].network_.device == X.device
    score = float(re.search(r"model\.score\(X\[400:\], y\[400:\]\)\s+# ([0-9.]+)", code).group(1))
    with config_context(array_api_dispatch=True):
        assert round(model.score(X[400:], y[400:]), 3) == score


def test_under_dispatch_without_scikit_learns_move_to(monkeypatch):
    """scikit-learn before 1.8 has no ``move_to``: arrays then move through the host, with the same results."""
    torch = pytest.importorskip("torch")
    import sklearn.utils._array_api as array_api
    from sklearn import config_context

    X, y = blobs()
    settings = dict(hidden_layer_sizes=(8,), epochs=10, random_state=0)
    with config_context(array_api_dispatch=True):
        a = quietly(NetworkClassifier(**settings).fit, torch.asarray(X), y)
        expected = a.predict_proba(torch.asarray(X))
        monkeypatch.delattr(array_api, "move_to")
        b = quietly(NetworkClassifier(**settings).fit, torch.asarray(X), y)
        got = b.predict_proba(torch.asarray(X))
    assert isinstance(got, torch.Tensor) and torch.equal(got, expected)
    assert isinstance(b.classes_, torch.Tensor)
