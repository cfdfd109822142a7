"""Network: construction, layout, parameters, the forward pass, predictions, and every bad input."""

import numpy as np
import pytest

import slopekit
from slopekit import Network

OUTPUTS = {"sigmoid": 1, "softmax": 3, "identity": 2}


def data(output, n=12, n_features=3, seed=0):
    """Random inputs and labels or targets fitting a network with the given output."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, n_features)
    y = {"sigmoid": rng.randint(0, 2, n), "softmax": rng.randint(0, 3, n), "identity": rng.randn(n, 2)}[output]
    return X, y


def make(output="sigmoid", hidden="tanh", sizes=(3, 5, 4), **kwargs):
    return Network([*sizes, OUTPUTS[output]], hidden, output, **kwargs)


def state(net):
    """Everything a failed call must leave as it was."""
    return {k: v.tobytes() for k, v in net.parameters().items()}, list(net.history)


def reference_forward(net, X):
    """The forward pass written out from the lecture's formulas."""
    p = net.parameters()
    A = np.asarray(X, dtype=float)
    L = len(net.layer_sizes) - 1
    for l in range(1, L + 1):
        Z = A @ p[f"W{l}"].T + p[f"b{l}"]
        A = net.hidden[l - 1](Z) if l < L else Z
    return Z


# -- construction --------------------------------------------------------------------------


def test_layout_follows_the_lecture_and_torch_linear():
    net = Network([3, 5, 4, 2], hidden="relu", output="softmax")
    shapes = {k: v.shape for k, v in net.parameters().items()}
    assert shapes == {"W1": (5, 3), "b1": (5,), "W2": (4, 5), "b2": (4,), "W3": (2, 4), "b3": (2,)}
    assert net.layer_sizes == (3, 5, 4, 2)
    assert net.hidden == (slopekit.relu, slopekit.relu)
    assert net.output == "softmax" and net.dtype == np.float64 and net.seed == 0 and net.init is None


def test_hidden_accepts_a_name_an_object_or_one_per_layer():
    leaky = slopekit.get("leaky_relu", slope=0.001)
    assert Network([2, 3, 3, 1], hidden=leaky).hidden == (leaky, leaky)
    assert Network([2, 3, 3, 1], hidden=["tanh", leaky]).hidden == (slopekit.tanh, leaky)
    assert Network([2, 3, 1], hidden="ReLU").hidden == (slopekit.relu,)
    assert Network([2, 1], hidden="tanh").hidden == ()


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_a_softmax_hidden_layer_must_normalise_across_units(name):
    """Along axis 0 it would mix the samples of a batch: a prediction would depend on its neighbours."""
    for axis in (0, -2):
        with pytest.raises(ValueError, match="across the samples of a batch"):
            Network([2, 3, 1], slopekit.get(name, axis=axis))
        with pytest.raises(ValueError, match="across the samples of a batch"):
            Network([2, 3, 3, 1], ["tanh", slopekit.get(name, axis=axis)])
    for axis in (-1, 1):
        net = Network([2, 3, 1], slopekit.get(name, axis=axis), seed=0)
        X = np.random.default_rng(0).standard_normal((5, 2))
        np.testing.assert_allclose(net.predict_proba(X)[:2], net.predict_proba(X[:2]), rtol=1e-12)


def test_seed_makes_the_initial_weights_reproducible():
    a, b, c = Network([4, 8, 1], seed=3), Network([4, 8, 1], seed=3), Network([4, 8, 1], seed=4)
    assert all(np.array_equal(a.parameters()[k], b.parameters()[k]) for k in a.parameters())
    assert not np.array_equal(a.parameters()["W1"], c.parameters()["W1"])
    assert 0 <= Network([2, 1], seed=None).seed < 2**32


def test_small_init_is_the_courses_randn_times_0_01():
    net = Network([2, 4, 1], "tanh", "sigmoid", init="small", seed=2)
    rng = np.random.RandomState(2)  # the course's initialize_parameters: np.random.seed(2)
    W1, W2 = rng.randn(4, 2) * 0.01, rng.randn(1, 4) * 0.01
    p = net.parameters()
    np.testing.assert_array_equal(p["W1"], W1)
    np.testing.assert_array_equal(p["W2"], W2)
    assert not p["b1"].any() and not p["b2"].any()


@pytest.mark.parametrize("hidden, init, expected_var", [
    ("relu", None, 2 / 400),  # He
    ("leaky_relu", None, 2 / (1.0001 * 400)),  # He with the leaky slope's gain
    ("tanh", None, 2 / (400 + 300)),  # Glorot
    ("sigmoid", "he", 2 / 400),
    ("relu", "glorot", 2 / (400 + 300)),
])
def test_default_init_per_activation(hidden, init, expected_var):
    W1 = Network([400, 300, 1], hidden, init=init).parameters()["W1"]
    assert W1.var() == pytest.approx(expected_var, rel=0.02)
    assert abs(W1.mean()) < 0.01 * W1.std()


def test_repr():
    assert repr(Network([2, 4, 1], "tanh")) == (
        "Network([2, 4, 1], hidden='tanh', output='sigmoid', seed=0, dtype='float64', init=None)")
    net = Network([2, 3, 3, 3], ["relu", slopekit.get("leaky_relu", slope=0.2)], "softmax",
                  dtype=np.float32, init="small", seed=7)
    assert repr(net) == ("Network([2, 3, 3, 3], hidden=['relu', LeakyReLU(slope=0.2, at_zero=0.2)], "
                         "output='softmax', seed=7, dtype='float32', init='small')")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"layer_sizes": [2]}, ValueError, "at least 2"),
    ({"layer_sizes": []}, ValueError, "at least 2"),
    ({"layer_sizes": [2, 0, 1]}, ValueError, r"layer_sizes\[1\]"),
    ({"layer_sizes": [2, -3, 1]}, ValueError, r"layer_sizes\[1\]"),
    ({"layer_sizes": [2, 2.5, 1]}, ValueError, r"layer_sizes\[1\]"),
    ({"layer_sizes": [2, 4.0, 1]}, ValueError, r"layer_sizes\[1\]"),
    ({"layer_sizes": [2, True, 1]}, ValueError, r"layer_sizes\[1\]"),
    ({"layer_sizes": [2, "4", 1]}, ValueError, r"layer_sizes\[1\]"),
    ({"layer_sizes": 3}, TypeError, "sequence"),
    ({"layer_sizes": "241"}, TypeError, "sequence"),
    ({"hidden": "nonesuch"}, ValueError, "unknown activation"),
    ({"hidden": ["tanh"]}, ValueError, "1 activations for 2 hidden"),
    ({"hidden": 3}, TypeError, "hidden"),
    ({"output": "softplus"}, ValueError, "unknown output"),
    ({"output": None}, TypeError, "output"),
    ({"layer_sizes": [2, 3, 2], "output": "sigmoid"}, ValueError, "1 output unit, got 2"),
    ({"layer_sizes": [2, 3, 1], "output": "softmax"}, ValueError, "at least 2 output units"),
    ({"dtype": np.int64}, ValueError, "float16, bfloat16, float32 or float64"),
    ({"dtype": np.complex128}, ValueError, "float16, bfloat16, float32 or float64"),
    ({"dtype": "bfloat16"}, ValueError, "bfloat16 does not exist in NumPy"),
    ({"dtype": "nonsense"}, TypeError, "dtype"),
    ({"seed": -1}, ValueError, "seed"),
    ({"seed": 1.5}, TypeError, "seed"),
    ({"init": "zeros"}, ValueError, "unknown init"),
    ({"init": 0.01}, TypeError, "init"),
])
def test_bad_construction(kwargs, error, match):
    args = {"layer_sizes": [2, 3, 3, 1], "hidden": "relu", "output": "sigmoid", **kwargs}
    with pytest.raises(error, match=match):
        Network(args.pop("layer_sizes"), args.pop("hidden"), args.pop("output"), **args)


def test_layer_sizes_from_numpy():
    assert Network(np.array([2, 3, 1])).layer_sizes == (2, 3, 1)


# -- parameters ----------------------------------------------------------------------------


def test_parameters_are_copies():
    net = make()
    p = net.parameters()
    p["W1"][...] = 0
    assert net.parameters()["W1"].any()


def test_set_parameters_round_trip_and_copies():
    net, other = make(seed=1), make(seed=2)
    p = other.parameters()
    assert net.set_parameters(p) is net
    p["W1"][...] = 0  # the network holds its own copy
    for k, v in other.parameters().items():
        np.testing.assert_array_equal(net.parameters()[k], v)


def test_set_parameters_converts_lists_and_integers_to_the_network_dtype():
    net = Network([2, 1], dtype=np.float32)
    net.set_parameters({"W1": [[1, 2]], "b1": np.array([0.5])})
    assert all(v.dtype == np.float32 for v in net.parameters().values())
    np.testing.assert_array_equal(net.parameters()["W1"], [[1.0, 2.0]])


def bad_parameter_sets():
    good = make().parameters()
    yield "missing", {k: v for k, v in good.items() if k != "b2"}, r"missing \['b2'\]"
    yield "extra", {**good, "W9": good["W1"]}, r"unexpected \['W9'\]"
    yield "shape", {**good, "W2": good["W2"].T}, r"W2 has shape \(5, 4\), expected \(4, 5\)"
    yield "vector", {**good, "b1": good["b1"][:, None]}, r"b1 has shape"
    yield "nan", {**good, "b2": np.array([np.nan, 0, 0, 0])}, "b2 contains NaN"
    yield "inf", {**good, "W1": np.full((5, 3), np.inf)}, "W1 contains NaN or infinity"
    yield "complex", {**good, "W1": good["W1"] + 0j}, "W1 must hold real numbers"
    yield "object", {**good, "W1": good["W1"].astype(object)}, "W1 must hold real numbers"
    yield "text", {**good, "b1": "0"}, "b1 must hold real numbers"


BAD_PARAMETERS = list(bad_parameter_sets())


@pytest.mark.parametrize("case, mapping, match", BAD_PARAMETERS, ids=[case[0] for case in BAD_PARAMETERS])
def test_set_parameters_rejects_and_changes_nothing(case, mapping, match):
    net = make()
    before = state(net)
    with pytest.raises(ValueError, match=match):
        net.set_parameters(mapping)
    assert state(net) == before


def test_set_parameters_overflowing_float32():
    net = Network([2, 1], dtype=np.float32)
    with pytest.raises(ValueError, match="W1 contains NaN or infinity.*float32"):
        net.set_parameters({"W1": [[1e300, 0.0]], "b1": [0.0]})


def test_set_parameters_needs_a_mapping():
    with pytest.raises(TypeError, match="mapping"):
        make().set_parameters([("W1", 1)])


# -- forward pass and predictions ----------------------------------------------------------


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_forward_matches_the_formulas(output, hidden):
    net = make(output, hidden, seed=3)
    X, _ = data(output)
    Z = reference_forward(net, X)
    if output == "sigmoid":
        p = 1 / (1 + np.exp(-Z[:, 0]))
        np.testing.assert_allclose(net.predict_proba(X), np.column_stack([1 - p, p]), rtol=1e-13)
        np.testing.assert_array_equal(net.predict(X), (p > 0.5).astype(int))
    elif output == "softmax":
        e = np.exp(Z - Z.max(axis=1, keepdims=True))
        np.testing.assert_allclose(net.predict_proba(X), e / e.sum(axis=1, keepdims=True), rtol=1e-13)
        np.testing.assert_array_equal(net.predict(X), Z.argmax(axis=1))
    else:
        np.testing.assert_allclose(net.predict(X), Z, rtol=1e-13)


@pytest.mark.parametrize("output", OUTPUTS)
def test_loss_matches_the_textbook_formula(output):
    net = make(output, seed=4)
    X, y = data(output)
    Z = reference_forward(net, X)
    if output == "sigmoid":
        a = 1 / (1 + np.exp(-Z[:, 0]))
        expected = -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))
    elif output == "softmax":
        log_a = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
        expected = -np.mean(log_a[np.arange(len(y)), y])
    else:
        expected = np.mean((Z - y) ** 2) / 2
    assert net.loss(X, y) == pytest.approx(expected, rel=1e-13)
    W2 = sum((w ** 2).sum() for k, w in net.parameters().items() if k.startswith("W"))
    assert net.loss(X, y, l2=0.3) == pytest.approx(expected + 0.3 / (2 * len(X)) * W2, rel=1e-13)


def test_loss_is_finite_where_a_rounds_to_0_or_1():
    net = Network([1, 1], output="sigmoid")
    net.set_parameters({"W1": [[1.0]], "b1": [0.0]})
    X = np.array([[800.0], [-800.0], [40.0]])
    assert net.loss(X, [0, 1, 1]) == pytest.approx((800 + 800 + np.log1p(np.exp(-40))) / 3, rel=1e-15)
    net = Network([1, 2], hidden=(), output="softmax")
    net.set_parameters({"W1": [[1.0], [-1.0]], "b1": [0.0, 0.0]})
    assert net.loss([[1000.0]], [1]) == pytest.approx(2000.0)
    np.testing.assert_array_equal(net.predict_proba([[1000.0]]), [[1.0, 0.0]])


def test_sigmoid_probabilities_keep_precision_in_both_tails():
    net = Network([1, 1])
    net.set_parameters({"W1": [[1.0]], "b1": [0.0]})
    proba = net.predict_proba([[-50.0], [50.0]])
    assert proba[0, 1] == pytest.approx(np.exp(-50), rel=1e-14)
    assert proba[1, 0] == pytest.approx(np.exp(-50), rel=1e-14)  # 1 - a, not rounded to 0


def test_predict_shapes_and_dtypes():
    X = np.random.RandomState(0).randn(6, 3)
    assert make("sigmoid").predict(X).shape == (6,) and make("sigmoid").predict(X).dtype == np.int64
    assert make("softmax").predict(X).shape == (6,) and make("softmax").predict_proba(X).shape == (6, 3)
    assert make("identity").predict(X).shape == (6, 2)
    assert Network([3, 4, 1], output="identity").predict(X).shape == (6,)
    np.testing.assert_allclose(make("softmax").predict_proba(X).sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(make("sigmoid").predict_proba(X).sum(axis=1), 1.0, rtol=1e-15)


def test_predict_proba_of_a_regression_is_refused():
    with pytest.raises(TypeError, match="identity"):
        make("identity").predict_proba(np.zeros((2, 3)))


def test_score_is_accuracy_or_r2():
    X, y = data("softmax", n=50)
    net = make("softmax")
    assert net.score(X, y) == np.mean(net.predict(X) == y)
    net = Network([3, 1], output="identity")
    net.set_parameters({"W1": [[1.0, 2.0, 0.0]], "b1": [0.5]})
    X = np.random.RandomState(1).randn(30, 3)
    y = X @ [1.0, 2.0, 0.0] + 0.5
    assert net.score(X, y) == 1.0
    noisy = y + np.random.RandomState(2).randn(30)
    residual, total = ((noisy - y) ** 2).sum(), ((noisy - noisy.mean()) ** 2).sum()
    assert net.score(X, noisy) == pytest.approx(1 - residual / total)


def test_sigmoid_accepts_labels_as_column_bool_or_float():
    net = make("sigmoid")
    X, y = data("sigmoid")
    expected = net.loss(X, y)
    assert net.loss(X, y[:, None]) == expected
    assert net.loss(X, y.astype(bool)) == expected
    assert net.loss(X, y.astype(np.float32)) == expected
    assert net.loss(X.tolist(), y.tolist()) == expected


# -- bad data: a clear error, and nothing changes --------------------------------------------


def bad_data_cases():
    X, y = data("sigmoid")
    yield "features", "sigmoid", X[:, :2], y, ValueError, "X has 2 features, but the network expects 3"
    yield "X 1-D", "sigmoid", X[0], y[:1], ValueError, "X must be 2-D"
    yield "X 3-D", "sigmoid", X[None], y, ValueError, "X must be 2-D"
    yield "empty", "sigmoid", X[:0], y[:0], ValueError, "empty"
    yield "y length", "sigmoid", X, y[:-1], ValueError, "one row per sample of X \\(12\\), got 11"
    yield "y scalar", "sigmoid", X, 1, ValueError, "got a scalar"
    yield "X nan", "sigmoid", np.where(X > 1, np.nan, X), y, ValueError, "X contains NaN"
    yield "X inf", "sigmoid", np.where(X > 1, -np.inf, X), y, ValueError, "X contains NaN or infinity"
    yield "X text", "sigmoid", X.astype(str), y, TypeError, "X must hold real numbers"
    yield "X complex", "sigmoid", X + 1j, y, TypeError, "X must hold real numbers"
    yield "y nan", "sigmoid", X, np.where(y > 0, np.nan, 0.0), ValueError, "y contains NaN"
    yield "y text", "sigmoid", X, y.astype(str), TypeError, "y must hold real numbers"
    yield "label 2", "sigmoid", X, np.where(y > 0, 2, 0), ValueError, "must be 0 or 1.*got 2"
    yield "label -1", "sigmoid", X, y - 1, ValueError, "must be 0 or 1.*got -1"
    yield "label 0.5", "sigmoid", X, y * 0.5, ValueError, "must be 0 or 1.*got 0.5"
    yield "y 2 cols", "sigmoid", X, np.column_stack([y, y]), ValueError, "shape \\(12,\\) or \\(12, 1\\)"
    Xs, ys = data("softmax")
    yield "class 3", "softmax", Xs, np.where(ys > 1, 3, ys), ValueError, r"integers in \[0, 2\].*got 3"
    yield "class -1", "softmax", Xs, ys - 1, ValueError, r"integers in \[0, 2\].*got -1"
    yield "class 1.5", "softmax", Xs, ys + 0.5, ValueError, r"integers in \[0, 2\]"
    yield "one-hot", "softmax", Xs, np.eye(3)[ys], ValueError, "not one-hot"
    yield "class inf", "softmax", Xs, np.where(ys > 1, np.inf, ys), ValueError, "y contains NaN or infinity"
    Xi, yi = data("identity")
    yield "targets", "identity", Xi, yi[:, 0], ValueError, r"shape \(12, 2\)"
    yield "targets nan", "identity", Xi, np.where(yi == yi[3, 1], np.nan, yi), ValueError, "y contains NaN"


BAD_DATA = list(bad_data_cases())


@pytest.mark.parametrize("case, output, X, y, error, match", BAD_DATA, ids=[c[0] for c in BAD_DATA])
@pytest.mark.parametrize("call", ["fit", "loss", "gradients", "score"])
def test_bad_data_raises_and_changes_nothing(case, output, X, y, error, match, call):
    net = make(output)
    net.history = [1.0, 0.5]
    before = state(net)
    kwargs = {"epochs": 3, "learning_rate": 0.1} if call == "fit" else {}
    with pytest.raises(error, match=match):
        getattr(net, call)(X, y, **kwargs)
    assert state(net) == before


@pytest.mark.parametrize("X, match", [
    (np.zeros((4, 2)), "X has 2 features"),
    (np.zeros(3), "X must be 2-D"),
    (np.zeros((0, 3)), "empty"),
    (np.full((2, 3), np.nan), "NaN"),
])
@pytest.mark.parametrize("call", ["predict", "predict_proba"])
def test_bad_X_for_predictions(X, match, call):
    with pytest.raises(ValueError, match=match):
        getattr(make("softmax"), call)(X)


def test_float32_overflow_of_X_is_reported():
    net = Network([2, 1], dtype=np.float32)
    with pytest.raises(ValueError, match="X contains NaN or infinity.*float32"):
        net.predict([[1e300, 0.0]])


def test_callers_arrays_are_never_written():
    for output in OUTPUTS:
        X, y = data(output)
        X.flags.writeable = False
        y.flags.writeable = False
        X_before, y_before = X.copy(), y.copy()
        net = make(output)
        net.fit(X, y, epochs=3, learning_rate=0.1)
        net.fit(X, y, epochs=2, learning_rate=0.1, batch_size=5, optimizer="adam", l2=0.1)
        net.gradients(X, y)
        net.loss(X, y)
        net.predict(X)
        net.score(X, y)
        slopekit.gradient_check(net, X, y)
        np.testing.assert_array_equal(X, X_before)
        np.testing.assert_array_equal(y, y_before)


def test_parameters_given_to_set_parameters_are_not_aliased():
    net = make()
    p = net.parameters()
    for v in p.values():
        v.flags.writeable = False
    net.set_parameters(p)
    net.fit(*data("sigmoid"), epochs=2, learning_rate=0.1)  # would raise if it wrote into p


def test_samples_as_columns_get_a_hint_to_transpose():
    X, y = slopekit.datasets.planar_flower()
    with pytest.raises(ValueError, match=r"expects 2 .*pass X\.T"):
        slopekit.Network([2, 4, 1]).fit(X.T, y, epochs=1, learning_rate=0.1)
