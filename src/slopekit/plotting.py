r"""Pictures: the lecture's slope triangle, a loss curve, a decision boundary.

Matplotlib is imported inside the functions, never at ``import slopekit``, and
only its object-oriented API is used (`matplotlib.figure.Figure`, no pyplot):
nothing needs a display and no global figure state is kept. Every function
writes one file, PNG or SVG by its extension, atomically: the picture is
drawn into a temporary file beside ``path`` and renamed over it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._atomic import replacing

__all__ = ["FORMATS", "decision_boundary", "loss_curve", "slope_triangles"]

#: The file extensions the functions write.
FORMATS = (".png", ".svg")

#: Dots per inch of every PNG: a figure of w x h inches is (100 w) x (100 h) pixels.
DPI = 100

_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def check_path(path: str | os.PathLike) -> str:
    """``path`` as a string if it ends in one of `FORMATS`; ValueError otherwise."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise ValueError(f"{path}: cannot write a {ext or 'file without extension'!r}; "
                         f"name a {' or '.join(FORMATS)} file")
    return path


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _save(fig: Any, path: str) -> None:
    """Write ``fig`` to ``path`` through a temporary file, then `os.replace`."""
    ext = os.path.splitext(path)[1].lower()
    with replacing(path, "wb") as f:
        fig.savefig(f, format=ext[1:], dpi=DPI, metadata={"Software": None} if ext == ".png" else None)


def _title(g: Any) -> str:
    from .activations import get

    try:
        plain = g == get(g.name)
    except (TypeError, ValueError):
        plain = False
    return g.name if plain else repr(g)


def _value_and_slope(g: Any, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """g(z) and g'(z) as float arrays; for softmax-like g, the entry z of rows [z, 0.5, -1] and the
    Jacobian's diagonal there."""
    if g.elementwise:
        return np.asarray(g(z), dtype=float), np.asarray(g.derivative(z), dtype=float)
    from .numerical import first_entries, rows_with

    rows = rows_with(g, z)
    return first_entries(g, g(rows)).astype(float), first_entries(g, g.derivative(rows)).astype(float)


def _slope_panel(ax: Any, g: Any, at: float, span: tuple[float, float]) -> None:
    z = np.linspace(span[0], span[1], 801)
    a, slope_curve = _value_and_slope(g, z)
    a0, slope = (float(v[0]) for v in _value_and_slope(g, np.array([at])))
    width = 1.0
    height = slope * width
    ax.axhline(0, color="0.8", lw=0.8, zorder=0)
    ax.axvline(0, color="0.8", lw=0.8, zorder=0)
    ax.plot(z, a, color=_COLORS[1], lw=2.2, label="g(z)")
    ax.plot(z, slope_curve, color=_COLORS[3], lw=1.6, ls="--", label="g\u2032(z)")
    zt = np.array([at - 1.2 * width, at + 1.6 * width])
    ax.plot(zt, a0 + slope * (zt - at), color="0.25", lw=1.2, label=f"tangent at z = {at:g}")
    corners = np.array([[at, a0], [at + width, a0], [at + width, a0 + height]])
    ax.fill(corners[:, 0], corners[:, 1], color=_COLORS[2], alpha=0.25, lw=0)
    ax.plot([at, at + width, at + width], [a0, a0, a0 + height], color=_COLORS[2], lw=1.8)
    ax.plot([at], [a0], "o", color="0.1", ms=5, zorder=5)
    ax.plot([at], [slope], "o", color=_COLORS[3], ms=5, zorder=5)
    below = height >= 0
    label = {"textcoords": "offset points", "fontsize": 8, "color": "0.1",
             "bbox": {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}}
    ax.annotate(f"width {width:g}", (at + width / 2, a0), xytext=(0, -10 if below else 10),
                ha="center", va="center", **label)
    ax.annotate(f"height {height:.3g}", (at + width, a0 + height / 2), xytext=(3, 0), ha="left", va="center",
                **label)
    box = f"height / width = slope\n{height:.3g} / {width:g} = {slope:.3g}\ng\u2032({at:g}) = {slope:.3g}"
    ax.text(0.03, 0.97, box,
            transform=ax.transAxes, ha="left", va="top", fontsize=9,
            bbox={"boxstyle": "round,pad=0.35", "fc": "white", "ec": _COLORS[2], "alpha": 0.9})
    ax.set_title(_title(g) if g.elementwise else f"{_title(g)} of [z, 0.5, −1]", fontsize=11)
    ax.set_xlabel("z")
    ax.set_xlim(*span)
    lo = min(a.min(), slope_curve.min(), a0 - 0.1)
    hi = max(a.max(), slope_curve.max(), a0 + height)
    pad = 0.08 * (hi - lo) or 0.5
    ax.set_ylim(lo - pad, hi + 0.45 * (hi - lo) + pad)  # room for the box at the top
    ax.grid(alpha=0.25)


def _window(at: float, span: tuple[float, float]) -> tuple[float, float]:
    """``span``, or a window of its width centred on ``at`` when the tangent and triangle at ``at`` fall outside.

    The tangent is drawn from ``at - 1.2`` to ``at + 1.6``: ``slopekit plot
    sigmoid --at 100`` shows the point, its tangent and its (flat) triangle
    rather than an empty stretch of the curve.
    """
    lo, hi = span
    if lo <= at - 1.2 and at + 1.6 <= hi:
        return lo, hi
    half = max((hi - lo) / 2, 2.0)
    return at - half, at + half


def slope_triangles(activations: Sequence[Any], path: str | os.PathLike, *, at: float = 1.0,
                    span: tuple[float, float] = (-4.0, 4.0)) -> tuple[int, int]:
    r"""The lecture's picture: per activation :math:`g(z)`, :math:`g'(z)` and the slope triangle at ``at``.

    Parameters
    ----------
    activations : sequence of Activation
        One panel each, side by side.
    path : str or path-like
        A ``.png`` or ``.svg`` file.
    at : float, default 1.0
        The point :math:`z` where the tangent touches :math:`g`.
    span : (float, float), default (-4, 4)
        The range of :math:`z` plotted; where the triangle at ``at`` would not
        fit in it, a window of the same width centred on ``at`` instead
        (`_window`).

    Returns
    -------
    (int, int)
        The picture's width and height in pixels (for PNG).

    Notes
    -----
    The triangle has its corner at :math:`(z, g(z))`, a horizontal side of
    width :math:`w = 1` and a vertical side of height
    :math:`h = g'(z)\, w` up to the tangent, so that
    :math:`h / w = g'(z)`: the slope is height over width.
    """
    path = check_path(path)
    if not activations:
        raise ValueError("slope_triangles: need at least one activation")
    n = len(activations)
    fig = _figure(3.6 * n, 4.2)
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, g in zip(axes, activations):
        _slope_panel(ax, g, float(at), _window(float(at), span))
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=9,
               frameon=False)
    fig.suptitle("The slope g\u2032(z) is the height over the width of a small triangle on the tangent"
                 if n > 2 else "slope g\u2032(z) = height / width", fontsize=12)
    _save(fig, path)
    return round(3.6 * n * DPI), round(4.2 * DPI)


def loss_curve(history: Sequence[float], path: str | os.PathLike, *, title: str = "Training loss") -> tuple[int, int]:
    """The loss per epoch, on a logarithmic axis when every loss is positive; returns (width, height) in pixels."""
    path = check_path(path)
    loss = np.asarray(history, dtype=float)
    fig = _figure(6.4, 4.2)
    ax = fig.add_subplot()
    ax.plot(np.arange(1, loss.size + 1), loss, color=_COLORS[1], lw=1.6)
    if loss.size and loss.min() > 0:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    _save(fig, path)
    return round(6.4 * DPI), round(4.2 * DPI)


def decision_boundary(net: Any, X: np.ndarray, y: np.ndarray, path: str | os.PathLike, *,
                      X_test: np.ndarray | None = None, y_test: np.ndarray | None = None,
                      title: str = "Decision boundary") -> tuple[int, int]:
    """The classes a two-feature classifier predicts over the plane, with the data on top.

    Parameters
    ----------
    net : Network
        A classifier (``output`` ``"sigmoid"`` or ``"softmax"``) with two inputs.
    X, y : ndarray
        Training points ``(n_samples, 2)`` and their labels, drawn as dots.
    path : str or path-like
        A ``.png`` or ``.svg`` file.
    X_test, y_test : ndarray, optional
        Held-out points, drawn as triangles.

    Returns
    -------
    (int, int)
        Width and height in pixels.
    """
    path = check_path(path)
    if X.shape[1] != 2 or net.output == "identity":
        raise ValueError("decision_boundary: needs a classifier with exactly two input features")
    points = X if X_test is None else np.vstack([X, X_test])
    lo, hi = points.min(axis=0), points.max(axis=0)
    margin = 0.08 * (hi - lo) + 1e-9
    g0 = np.linspace(lo[0] - margin[0], hi[0] + margin[0], 300)
    g1 = np.linspace(lo[1] - margin[1], hi[1] + margin[1], 300)
    G0, G1 = np.meshgrid(g0, g1)
    classes = net.predict(np.column_stack([G0.ravel(), G1.ravel()])).reshape(G0.shape)
    k = max(int(net.layer_sizes[-1]), 2)
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(_COLORS[:k])
    fig = _figure(6.0, 5.6)
    ax = fig.add_subplot()
    ax.contourf(G0, G1, classes, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.22)
    if k == 2 or len(np.unique(classes)) > 1:
        ax.contour(G0, G1, classes, levels=np.arange(k) + 0.5, colors="0.2", linewidths=1.0)
    ax.scatter(X[:, 0], X[:, 1], c=np.asarray(y), cmap=cmap, vmin=-0.5, vmax=k - 0.5, s=16,
               edgecolors="white", linewidths=0.4, label="training")
    if X_test is not None and len(X_test):
        ax.scatter(X_test[:, 0], X_test[:, 1], c=np.asarray(y_test), cmap=cmap, vmin=-0.5, vmax=k - 0.5, s=34,
                   marker="^", edgecolors="black", linewidths=0.6, label="held out")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    ax.set_xlabel("x\u2081")
    ax.set_ylabel("x\u2082")
    ax.set_title(title, fontsize=10)
    _save(fig, path)
    return round(6.0 * DPI), round(5.6 * DPI)
