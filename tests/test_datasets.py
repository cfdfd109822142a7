"""The toy datasets: shapes, labels, determinism, the course's flower point for point, bad arguments."""

import numpy as np
import pytest

from slopekit import datasets

GENERATORS = [datasets.planar_flower, datasets.moons, datasets.circles, datasets.spirals, datasets.xor]


def course_load_planar_dataset():
    """The course's ``load_planar_dataset`` as published (columns are samples), for comparison."""
    rng = np.random.RandomState(1)  # the course calls np.random.seed(1)
    m, N, D, a = 400, 200, 2, 4
    X = np.zeros((m, D))
    Y = np.zeros((m, 1), dtype="uint8")
    for j in range(2):
        ix = range(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + rng.randn(N) * 0.2
        r = a * np.sin(4 * t) + rng.randn(N) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X.T, Y.T


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
def test_shapes_dtypes_and_labels(make):
    X, y = make()
    assert X.ndim == 2 and X.shape[1] == 2 and X.dtype == np.float64
    assert y.shape == (X.shape[0],) and y.dtype == np.int64
    assert np.isfinite(X).all()
    counts = np.bincount(y)
    assert counts.min() > 0 and counts.max() - counts.min() <= 1  # balanced classes, labels 0..k-1


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [3, 4, 7, 101])
def test_exact_sample_count(make, n):
    X, y = make(n)
    assert X.shape == (n, 2) and y.shape == (n,)


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
def test_seeded_and_deterministic(make):
    X1, y1 = make(seed=5)
    X2, y2 = make(seed=5)
    X3, _ = make(seed=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
def test_zero_noise_is_noise_free(make):
    X1, _ = make(noise=0.0, seed=1)
    X2, _ = make(noise=0.0, seed=2)
    np.testing.assert_array_equal(X1, X2)


def test_planar_flower_is_the_courses_dataset():
    X_course, Y_course = course_load_planar_dataset()
    X, y = datasets.planar_flower()
    np.testing.assert_array_equal(X, X_course.T)
    np.testing.assert_array_equal(y, Y_course.ravel())


def test_planar_flower_follows_its_formula_without_noise():
    X, y = datasets.planar_flower(8, noise=0.0)
    theta = np.concatenate([np.linspace(0, 3.12, 4), np.linspace(3.12, 6.24, 4)])
    r = 4 * np.sin(4 * theta)
    np.testing.assert_allclose(X, np.column_stack([r * np.sin(theta), r * np.cos(theta)]), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(y, [0, 0, 0, 0, 1, 1, 1, 1])


def test_circles_radii_and_moons_shape():
    X, y = datasets.circles(noise=0.0, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)
    X, y = datasets.moons(noise=0.0)
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0)


def test_xor_labels_are_the_xor_of_the_blob_signs():
    X, y = datasets.xor(400, noise=0.0)
    np.testing.assert_array_equal(y, (X[:, 0] > 0) ^ (X[:, 1] > 0))


def test_spirals_has_n_classes_arms():
    X, y = datasets.spirals(500, n_classes=5)
    assert sorted(set(y.tolist())) == [0, 1, 2, 3, 4]
    assert np.hypot(X[:, 0], X[:, 1]).max() <= 1.0 + 1e-12


def test_no_global_random_state_is_touched():
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    for make in GENERATORS:
        make()
    assert np.random.rand() == expected


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("kwargs, error", [
    ({"n_samples": 0}, ValueError),
    ({"n_samples": 1}, ValueError),
    ({"n_samples": -5}, ValueError),
    ({"n_samples": 10.0}, TypeError),
    ({"n_samples": True}, TypeError),
    ({"noise": -0.1}, ValueError),
    ({"noise": float("nan")}, ValueError),
    ({"noise": "a lot"}, TypeError),
    ({"seed": -1}, ValueError),
    ({"seed": 2**32}, ValueError),
    ({"seed": 1.5}, TypeError),
])
def test_bad_arguments(make, kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        make(**kwargs)


def test_bad_arguments_of_circles_and_spirals():
    with pytest.raises(ValueError, match="factor"):
        datasets.circles(factor=1.0)
    with pytest.raises(ValueError, match="n_classes"):
        datasets.spirals(n_classes=1)
    with pytest.raises(TypeError, match="n_classes"):
        datasets.spirals(n_classes=2.0)
    with pytest.raises(ValueError, match="n_samples"):
        datasets.spirals(n_samples=2, n_classes=3)
