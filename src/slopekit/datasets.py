"""Small two-dimensional toy problems to train a `slopekit.Network` on; nothing is downloaded.

Each function returns ``(X, y)``: ``X`` a float64 array of shape
``(n_samples, 2)``, ``y`` integer class labels (int64) of shape ``(n_samples,)``.
Points are drawn with NumPy's legacy ``RandomState``, whose stream NumPy promises
never to change (NEP 19): a seed gives the same data on every NumPy version, and
`planar_flower` with its default seed is the course's flower point for point.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _params

__all__ = ["circles", "moons", "planar_flower", "spirals", "xor"]


def _rng(who: str, seed: object) -> np.random.RandomState:
    if seed is None:
        return np.random.RandomState()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{who}: seed must be an integer or None, got {type(seed).__name__} {seed!r}")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"{who}: seed must lie in [0, 2**32 - 1], got {seed!r}")
    return np.random.RandomState(int(seed))


def _count(who: str, n_samples: object, minimum: int) -> int:
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(f"{who}: n_samples must be an integer, got {type(n_samples).__name__} {n_samples!r}")
    if int(n_samples) < minimum:
        raise ValueError(f"{who}: n_samples must be at least {minimum} (one point per class), got {n_samples!r}")
    return int(n_samples)


def _noise(who: str, noise: object) -> float:
    value = _params.real(who, "noise", noise)
    if value < 0:
        raise ValueError(f"{who}: noise must be >= 0, got {value!r}")
    return value


def _split(n_samples: int, n_classes: int) -> list[int]:
    """Class sizes as equal as possible, the larger ones first."""
    base, extra = divmod(n_samples, n_classes)
    return [base + (j < extra) for j in range(n_classes)]


def _labels(sizes: list[int]) -> np.ndarray:
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def planar_flower(n_samples: int = 400, noise: float = 0.2, seed: int | None = 1) -> tuple[np.ndarray, np.ndarray]:
    r"""The course's two-class "flower": eight petals, alternately red (0) and blue (1).

    Parameters
    ----------
    n_samples : int, default 400
        Number of points, split evenly between the two classes (class 0 gets
        the odd one).
    noise : float, default 0.2
        Standard deviation of the Gaussian noise added to the angle and to the
        radius.
    seed : int or None, default 1
        Seed of the ``RandomState`` drawing the noise. The defaults reproduce
        the course's ``load_planar_dataset()`` exactly (as rows instead of
        columns).

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64
        Class 0 first, then class 1.

    Notes
    -----
    For class :math:`j \in \{0, 1\}` with :math:`N_j` points,

    .. math::

        \theta = \operatorname{linspace}(3.12\,j,\ 3.12\,(j+1),\ N_j) + \text{noise}\cdot\varepsilon_1,
        \qquad r = 4 \sin(4\theta) + \text{noise}\cdot\varepsilon_2,
        \qquad x = (r \sin\theta,\ r \cos\theta),

    with :math:`\varepsilon_1, \varepsilon_2` standard normal. No straight line
    separates the classes: the course's logistic regression gets 47% of them
    right, a network with one hidden layer of four tanh units about 90%.

    Examples
    --------
    >>> from slopekit import datasets
    >>> X, y = datasets.planar_flower()
    >>> X.shape, y.shape, X.dtype, y.dtype
    ((400, 2), (400,), dtype('float64'), dtype('int64'))
    >>> int(y.sum())
    200
    """
    who = "planar_flower"
    n_samples, noise, rng = _count(who, n_samples, 2), _noise(who, noise), _rng(who, seed)
    sizes = _split(n_samples, 2)
    X = np.empty((n_samples, 2))
    start = 0
    for j, size in enumerate(sizes):
        theta = np.linspace(3.12 * j, 3.12 * (j + 1), size) + rng.randn(size) * noise
        r = 4 * np.sin(4 * theta) + rng.randn(size) * noise
        X[start:start + size, 0] = r * np.sin(theta)
        X[start:start + size, 1] = r * np.cos(theta)
        start += size
    return X, _labels(sizes)


def moons(n_samples: int = 200, noise: float = 0.1, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Two interleaving half circles (scikit-learn's ``make_moons``), class 0 on top.

    Parameters
    ----------
    n_samples : int, default 200
        Number of points, split evenly between the two moons.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise added to each coordinate.
    seed : int or None, default 0
        Seed of the ``RandomState`` drawing the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64

    Notes
    -----
    With :math:`t` evenly spaced in :math:`[0, \pi]`: class 0 is
    :math:`(\cos t, \sin t)`, class 1 is :math:`(1 - \cos t,\ 1/2 - \sin t)`.

    Examples
    --------
    >>> from slopekit import datasets
    >>> X, y = datasets.moons(6, noise=0.0)
    >>> print(X.round(2))
    [[ 1.   0. ]
     [ 0.   1. ]
     [-1.   0. ]
     [ 0.   0.5]
     [ 1.  -0.5]
     [ 2.   0.5]]
    >>> y
    array([0, 0, 0, 1, 1, 1])
    """
    who = "moons"
    n_samples, noise, rng = _count(who, n_samples, 2), _noise(who, noise), _rng(who, seed)
    sizes = _split(n_samples, 2)
    outer = np.linspace(0, np.pi, sizes[0])
    inner = np.linspace(0, np.pi, sizes[1])
    X = np.concatenate([
        np.column_stack([np.cos(outer), np.sin(outer)]),
        np.column_stack([1 - np.cos(inner), 0.5 - np.sin(inner)]),
    ])
    X += rng.randn(n_samples, 2) * noise
    return X, _labels(sizes)


def circles(n_samples: int = 200, noise: float = 0.05, factor: float = 0.5,
            seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""A small circle (class 1) inside a large one (class 0), as scikit-learn's ``make_circles``.

    Parameters
    ----------
    n_samples : int, default 200
        Number of points, split evenly between the two circles.
    noise : float, default 0.05
        Standard deviation of the Gaussian noise added to each coordinate.
    factor : float, default 0.5
        Radius of the inner circle; the outer one has radius 1. Must lie in
        :math:`[0, 1)`.
    seed : int or None, default 0
        Seed of the ``RandomState`` drawing the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64

    Notes
    -----
    With :math:`t` evenly spaced over :math:`[0, 2\pi)`: class 0 is
    :math:`(\cos t, \sin t)` and class 1 is :math:`\text{factor}\cdot(\cos t, \sin t)`.

    Examples
    --------
    >>> from slopekit import datasets
    >>> X, y = datasets.circles(noise=0.0)
    >>> radius = (X ** 2).sum(axis=1) ** 0.5
    >>> bool(abs(radius[y == 0] - 1).max() < 1e-12), bool(abs(radius[y == 1] - 0.5).max() < 1e-12)
    (True, True)
    """
    who = "circles"
    n_samples, noise, rng = _count(who, n_samples, 2), _noise(who, noise), _rng(who, seed)
    factor = _params.real(who, "factor", factor)
    if not 0 <= factor < 1:
        raise ValueError(f"{who}: factor must lie in [0, 1) (the inner circle's radius), got {factor!r}")
    sizes = _split(n_samples, 2)
    parts = []
    for radius, size in zip((1.0, factor), sizes):
        t = np.linspace(0, 2 * np.pi, size, endpoint=False)
        parts.append(radius * np.column_stack([np.cos(t), np.sin(t)]))
    X = np.concatenate(parts)
    X += rng.randn(n_samples, 2) * noise
    return X, _labels(sizes)


def spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2,
            seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Interleaved spiral arms, one per class (the CS231n spiral): a problem for ``output="softmax"``.

    Parameters
    ----------
    n_samples : int, default 300
        Number of points, split evenly between the arms.
    n_classes : int, default 3
        Number of arms (classes), at least 2.
    noise : float, default 0.2
        Standard deviation of the Gaussian noise added to the angle.
    seed : int or None, default 0
        Seed of the ``RandomState`` drawing the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64
        Labels ``0 .. n_classes - 1``.

    Notes
    -----
    For class :math:`j` with :math:`N_j` points, :math:`r` runs evenly over
    :math:`[0, 1]` and :math:`\theta = \operatorname{linspace}(4j, 4(j+1), N_j) +
    \text{noise}\cdot\varepsilon`; the point is :math:`(r\sin\theta,\ r\cos\theta)`.

    Examples
    --------
    >>> from slopekit import datasets
    >>> X, y = datasets.spirals(n_classes=4)
    >>> X.shape, sorted(set(y.tolist()))
    ((300, 2), [0, 1, 2, 3])
    """
    who = "spirals"
    if isinstance(n_classes, (bool, np.bool_)) or not isinstance(n_classes, numbers.Integral):
        raise TypeError(f"{who}: n_classes must be an integer, got {type(n_classes).__name__} {n_classes!r}")
    if n_classes < 2:
        raise ValueError(f"{who}: n_classes must be at least 2, got {n_classes!r}")
    n_classes = int(n_classes)
    n_samples, noise, rng = _count(who, n_samples, n_classes), _noise(who, noise), _rng(who, seed)
    sizes = _split(n_samples, n_classes)
    X = np.empty((n_samples, 2))
    start = 0
    for j, size in enumerate(sizes):
        r = np.linspace(0.0, 1.0, size)
        theta = np.linspace(4.0 * j, 4.0 * (j + 1), size) + rng.randn(size) * noise
        X[start:start + size, 0] = r * np.sin(theta)
        X[start:start + size, 1] = r * np.cos(theta)
        start += size
    return X, _labels(sizes)


def xor(n_samples: int = 200, noise: float = 0.3, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Four Gaussian blobs at the corners :math:`(\pm 1, \pm 1)`; class 1 where the signs differ.

    The smallest problem no linear model can solve: the label is
    :math:`[x_1 > 0] \oplus [x_2 > 0]` of the blob's centre.

    Parameters
    ----------
    n_samples : int, default 200
        Number of points, split evenly between the four blobs.
    noise : float, default 0.3
        Standard deviation of each blob.
    seed : int or None, default 0
        Seed of the ``RandomState`` drawing the points.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64
        Blobs at :math:`(1, 1)` and :math:`(-1, -1)` are class 0, the others class 1.

    Examples
    --------
    >>> from slopekit import datasets
    >>> X, y = datasets.xor(4, noise=0.0)
    >>> X
    array([[ 1.,  1.],
           [ 1., -1.],
           [-1., -1.],
           [-1.,  1.]])
    >>> y
    array([0, 1, 0, 1])
    """
    who = "xor"
    n_samples, noise, rng = _count(who, n_samples, 2), _noise(who, noise), _rng(who, seed)
    corners = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0], [-1.0, 1.0]])  # classes 0, 1, 0, 1
    per_blob = _split(n_samples, 4)
    X = np.repeat(corners, per_blob, axis=0) + rng.randn(n_samples, 2) * noise
    y = np.repeat(np.array([0, 1, 0, 1], dtype=np.int64), per_blob)
    return X, y
