r"""Pictures: the lecture's slope triangle, a loss curve, a decision boundary, a confusion matrix.

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

__all__ = ["FORMATS", "confusion_matrix", "decision_boundary", "loss_curve", "slope_figure", "slope_triangles"]

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


def _slope_panel(ax: Any, g: Any, at: float, span: tuple[float, float]) -> list[np.ndarray]:
    """Draw g, g', the tangent and the triangle at ``at``; returns the drawn curves as (x, y) point arrays."""
    z = np.linspace(span[0], span[1], 801)
    a, slope_curve = _value_and_slope(g, z)
    a0, slope = (float(v[0]) for v in _value_and_slope(g, np.array([at])))
    width = 1.0
    height = slope * width
    ax.axhline(0, color="0.8", lw=0.8, zorder=0)
    ax.axvline(0, color="0.8", lw=0.8, zorder=0)
    ax.plot(z, a, color=_COLORS[1], lw=2.2, label="g(z)")
    ax.plot(z, slope_curve, color=_COLORS[3], lw=1.6, ls="--", label="g\u2032(z)")
    zt = np.linspace(at - 1.2 * width, at + 1.6 * width, 201)
    tangent = a0 + slope * (zt - at)
    ax.plot(zt, tangent, color="0.25", lw=1.2, label=f"tangent at z = {at:g}")
    corners = np.array([[at, a0], [at + width, a0], [at + width, a0 + height]])
    ax.fill(corners[:, 0], corners[:, 1], color=_COLORS[2], alpha=0.25, lw=0)
    ax.plot([at, at + width, at + width], [a0, a0, a0 + height], color=_COLORS[2], lw=1.8)
    ax.plot([at], [a0], "o", color="0.1", ms=5, zorder=5)
    ax.plot([at], [slope], "o", color=_COLORS[3], ms=5, zorder=5)
    ax.set_title(_title(g) if g.elementwise else f"{_title(g)} of [z, 0.5, −1]", fontsize=11)
    ax.set_xlabel("z")
    ax.set_xlim(*span)
    lo = min(a.min(), slope_curve.min(), tangent.min(), a0 - 0.1)
    hi = max(a.max(), slope_curve.max(), tangent.max(), a0 + height)
    pad = 0.08 * (hi - lo) or 0.5
    ax.set_ylim(lo - pad, hi + 0.45 * (hi - lo) + pad)  # room for the box at the top
    ax.grid(alpha=0.25)
    inside = (zt >= span[0]) & (zt <= span[1])
    t = np.linspace(0.0, 1.0, 41)[:, None]
    sides = np.vstack([corners[0] + t * (corners[1] - corners[0]), corners[1] + t * (corners[2] - corners[1])])
    return [np.column_stack([z, a]), np.column_stack([z, slope_curve]), np.column_stack([zt, tangent])[inside],
            sides]


#: The triangle's labels are searched for on rings around their anchor: radii in points, nearest
#: first, and on each ring the directions (degrees) nearest the label's preferred one first.
_RADII = tuple(range(9, 121, 4))
_ANGLES = tuple(range(0, 360, 15))
#: The slope box's corners of the axes, in order of preference.
_BOX_SPOTS = (((0.03, 0.97), "left", "top"), ((0.97, 0.97), "right", "top"), ((0.03, 0.03), "left", "bottom"),
              ((0.97, 0.03), "right", "bottom"))
#: Display pixels a label keeps from the axes' frame, the curves and the other labels.
_MARGIN = 2.0

_LABEL = {"fontsize": 8, "color": "0.1", "multialignment": "left",
          "bbox": {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}}
_BOX = {"fontsize": 9, "bbox": {"boxstyle": "round,pad=0.35", "fc": "white", "ec": _COLORS[2], "alpha": 0.9}}


def _label_triangle(ax: Any, renderer: Any, g_at: tuple[float, float, float], curves: list[np.ndarray]) -> list[Any]:
    """The slope box and the triangle's labels (width, height), each where it is clear of the curves.

    Everything is measured in display pixels after the layout is frozen: the
    curves (sampled every couple of pixels), the two dots, the axes' frame,
    and each label's box as matplotlib will draw it. Returns the three texts.
    """
    at, a0, slope = g_at
    width, height = 1.0, slope
    points = _dense_points(ax, curves, [(at, a0), (at, slope)])
    frame = ax.get_window_extent(renderer).padded(-_MARGIN)
    taken: list[Any] = []
    box = f"height / width = slope\n{height:.3g} / {width:g} = {slope:.3g}\ng\u2032({at:g}) = {slope:.3g}"
    texts = [_place_box(ax, renderer, box, points, frame, taken)]
    for words, anchor, prefer in ((("width", f"{width:g}"), (at + width / 2, a0), 270),
                                  (("height", f"{height:.3g}"), (at + width, a0 + height / 2), 0)):
        texts.append(_place_label(ax, renderer, words, anchor, prefer, points, frame, taken))
    return texts


def _dense_points(ax: Any, curves: list[np.ndarray], dots: list[tuple[float, float]]) -> np.ndarray:
    """The curves' polylines in display pixels, filled in to a point every pixel or two, and each dot's rim."""
    parts = []
    for curve in curves:
        xy = ax.transData.transform(curve)
        if len(xy) < 2:
            parts.append(xy)
            continue
        steps = np.maximum(1, np.ceil(np.hypot(*np.diff(xy, axis=0).T) / 1.5)).astype(int)
        start = np.repeat(xy[:-1], steps, axis=0)
        delta = np.repeat(np.diff(xy, axis=0) / steps[:, None], steps, axis=0)
        k = np.arange(steps.sum()) - np.repeat(np.cumsum(steps) - steps, steps)
        parts += [start + delta * k[:, None], xy[-1:]]
    rim = 5.0 * np.column_stack([np.cos(np.linspace(0, 2 * np.pi, 16)), np.sin(np.linspace(0, 2 * np.pi, 16))])
    parts += [ax.transData.transform([dot])[0] + rim for dot in dots]
    return np.vstack(parts)


def _clear(box: tuple[float, float, float, float], frame: Any, points: np.ndarray, taken: list[Any]) -> bool:
    """Whether the display box ``(x0, y0, x1, y1)`` is inside ``frame`` and off the points and taken boxes."""
    x0, y0, x1, y1 = box
    if x0 < frame.x0 or x1 > frame.x1 or y0 < frame.y0 or y1 > frame.y1:
        return False
    m = _MARGIN
    x, y = points[:, 0], points[:, 1]
    if ((x >= x0 - m) & (x <= x1 + m) & (y >= y0 - m) & (y <= y1 + m)).any():
        return False
    return not any(x0 < t.x1 + m and t.x0 - m < x1 and y0 < t.y1 + m and t.y0 - m < y1 for t in taken)


def _place_box(ax: Any, renderer: Any, text: str, points: np.ndarray, frame: Any, taken: list[Any]) -> Any:
    """The slope box in the first clear corner of the axes (`_BOX_SPOTS`; the first corner if none is clear)."""
    for xy, ha, va in _BOX_SPOTS:
        artist = ax.text(*xy, text, transform=ax.transAxes, ha=ha, va=va, **_BOX)
        box = _extent(artist, renderer)
        if _clear(box.extents, frame, points, taken):
            taken.append(box)
            return artist
        artist.remove()
    xy, ha, va = _BOX_SPOTS[0]
    artist = ax.text(*xy, text, transform=ax.transAxes, ha=ha, va=va, **_BOX)
    taken.append(_extent(artist, renderer))
    return artist


def _place_label(ax: Any, renderer: Any, words: tuple[str, str], anchor: tuple[float, float], prefer: float,
                 points: np.ndarray, frame: Any, taken: list[Any]) -> Any:
    """A triangle's label at the nearest clear spot around ``anchor`` (one line, or two if that is clear first).

    The candidates are the centres of rings around the anchor (`_RADII`,
    `_ANGLES`), their boxes computed from the label's measured size; the
    label is drawn once, where it fits. Where nothing fits, the nearest spot
    inside the axes.
    """
    sizes = {}
    for sep in (" ", "\n"):
        probe = ax.annotate(sep.join(words), anchor, xytext=(0, 0), textcoords="offset points", ha="center",
                            va="center", **_LABEL)
        box = _extent(probe, renderer)
        sizes[sep] = (box.width, box.height, box.x0 + box.width / 2, box.y0 + box.height / 2)
        probe.remove()
    px = renderer.points_to_pixels(1.0)
    order = sorted(_ANGLES, key=lambda a: (abs((a - prefer + 180) % 360 - 180), a))
    fallback = None
    for r in _RADII:
        for angle in order:
            dx, dy = r * np.cos(np.radians(angle)), r * np.sin(np.radians(angle))
            for sep, (w, h, cx, cy) in sizes.items():
                x, y = cx + dx * px, cy + dy * px
                box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
                if _clear(box, frame, points, taken):
                    return _put(ax, renderer, words, sep, anchor, (dx, dy), taken)
                if fallback is None and _clear(box, frame, np.empty((0, 2)), []):
                    fallback = (sep, (dx, dy))
    sep, offset = fallback or (" ", (0.0, -_RADII[0] if prefer == 270 else 0.0))
    return _put(ax, renderer, words, sep, anchor, offset, taken)


def _put(ax: Any, renderer: Any, words: tuple[str, str], sep: str, anchor: tuple[float, float],
         offset: tuple[float, float], taken: list[Any]) -> Any:
    artist = ax.annotate(sep.join(words), anchor, xytext=offset, textcoords="offset points", ha="center",
                         va="center", **_LABEL)
    taken.append(_extent(artist, renderer))
    return artist


def _extent(text: Any, renderer: Any) -> Any:
    """The display box a text covers, its rounded background included (as it will be drawn)."""
    box = text.get_window_extent(renderer)
    patch = text.get_bbox_patch()
    if patch is None:
        return box
    text.update_bbox_position_size(renderer)
    return box.union([box, patch.get_window_extent(renderer)])


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
    fig = slope_figure(activations, at=at, span=span)
    _save(fig, path)
    return round(3.6 * len(activations) * DPI), round(4.2 * DPI)


def slope_figure(activations: Sequence[Any], *, at: float = 1.0, span: tuple[float, float] = (-4.0, 4.0)) -> Any:
    """The `slope_triangles` picture as a laid-out matplotlib ``Figure`` (not saved).

    The layout is done and frozen before the triangle's labels are placed,
    so what ``text.get_window_extent()`` says is where each label is drawn.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not activations:
        raise ValueError("slope_triangles: need at least one activation")
    n = len(activations)
    fig = _figure(3.6 * n, 4.2)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n, squeeze=False)[0]
    drawn = []
    for ax, g in zip(axes, activations):
        window = _window(float(at), span)
        drawn.append((ax, g, _slope_panel(ax, g, float(at), window)))
    axes[0].set_ylabel("g(z) and g\u2032(z)")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=9,
               frameon=False)
    fig.suptitle("The slope g\u2032(z) is the height over the width of a small triangle on the tangent"
                 if n > 2 else "slope g\u2032(z) = height / width", fontsize=12)
    fig.draw_without_rendering()  # the constrained layout, once: then the axes stay where they are
    fig.set_layout_engine("none")
    renderer = fig.canvas.get_renderer()
    for ax, g, curves in drawn:
        a0, slope = (float(v[0]) for v in _value_and_slope(g, np.array([float(at)])))
        _label_triangle(ax, renderer, (float(at), a0, slope), curves)
    return fig


def loss_curve(history: Sequence[float], path: str | os.PathLike, *, held_out: Sequence[tuple[int, float]] = (),
               title: str = "Loss") -> tuple[int, int]:
    """The training loss per epoch and, if given, the held-out loss; returns (width, height) in pixels.

    Parameters
    ----------
    history : sequence of float
        The training loss of epochs 1, 2, ...
    path : str or path-like
        A ``.png`` or ``.svg`` file.
    held_out : sequence of (int, float)
        ``(epoch, loss)`` pairs of the held-out rows.
    title : str

    Notes
    -----
    The loss axis is logarithmic when every loss is positive and they span a
    factor of `LOG_SPAN` or more; its ticks are then 1, 2 and 5 times the
    powers of ten, written as plain numbers (0.2, not 2×10⁻¹). A flatter
    curve gets a linear axis, also in plain numbers, without an offset.
    """
    path = check_path(path)
    _save(_loss_figure(history, held_out, title), path)
    return round(6.4 * DPI), round(4.2 * DPI)


def _loss_figure(history: Sequence[float], held_out: Sequence[tuple[int, float]], title: str) -> Any:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, ScalarFormatter

    loss = np.asarray(history, dtype=float)
    pairs = np.asarray(held_out, dtype=float).reshape(-1, 2)
    fig = _figure(6.4, 4.2)
    ax = fig.add_subplot()
    ax.plot(np.arange(1, loss.size + 1), loss, color=_COLORS[1], lw=1.6, label="training")
    if len(pairs):
        ax.plot(pairs[:, 0], pairs[:, 1], color=_COLORS[0], lw=1.4, ls="--", label="held out",
                marker="o" if len(pairs) <= 40 else None, ms=3)
    every = np.concatenate([loss, pairs[:, 1]])
    every = every[np.isfinite(every)]
    if every.size and every.min() > 0 and every.max() >= LOG_SPAN * every.min():
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        plain = ScalarFormatter(useOffset=False)
        plain.set_scientific(False)
        ax.yaxis.set_major_formatter(plain)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper right", fontsize=9)
    return fig


#: `loss_curve` draws the loss on a log axis when its largest value is at least this many times its smallest.
LOG_SPAN = 10.0


#: Up to this many classes the decision boundary has a legend entry (and a distinct colour) per class; more
#: get a colour bar with a few classes named on it.
LEGEND_CLASSES = 20

#: Up to this many classes the confusion matrix names every class on its axes; more get a few names.
TICK_CLASSES = 30

#: Class names longer than this are cut, with an ellipsis, in legends and on axes.
NAME_LENGTH = 18


def _short(name: str, limit: int = NAME_LENGTH) -> str:
    """``name``, or its first ``limit - 1`` characters and an ellipsis."""
    return name if len(name) <= limit else name[:limit - 1] + "\u2026"


def _class_colors(k: int) -> list[Any]:
    """Distinct colours for up to `LEGEND_CLASSES` classes; beyond, a smooth colour map (read off a bar)."""
    if k <= len(_COLORS):
        return list(_COLORS[:k])
    from matplotlib import colormaps

    if k <= LEGEND_CLASSES:
        return [colormaps["tab20"](j) for j in range(k)]
    cmap = colormaps["turbo"]
    return [cmap(0.05 + 0.9 * j / (k - 1)) for j in range(k)]


def _few_classes(axis: Any, names: Sequence[str]) -> int:
    """Ticks on about ten of the classes ``0 .. k-1`` on ``axis``, labelled with their names; the step."""
    from matplotlib.ticker import FixedLocator, FuncFormatter

    k = len(names)
    step = max(1, int(np.ceil(k / 10)))
    axis.set_major_locator(FixedLocator(np.arange(0, k, step)))
    axis.set_major_formatter(FuncFormatter(lambda x, _: _short(names[int(round(x))], 12)
                                           if 0 <= round(x) < k else ""))
    return step


def decision_boundary(net: Any, X: np.ndarray, y: np.ndarray, path: str | os.PathLike, *,
                      X_test: np.ndarray | None = None, y_test: np.ndarray | None = None,
                      transform: Any = None, class_names: Sequence[str] | None = None,
                      feature_names: Sequence[str] | None = None, title: str = "Decision boundary") -> tuple[int, int]:
    """The classes a two-feature classifier predicts over the plane, with the data on top.

    Colour is the class, the marker the split: dots for training rows,
    triangles for held-out ones. The legend sits to the right of the plot,
    with names cut to `NAME_LENGTH` characters; with more than
    `LEGEND_CLASSES` classes a colour bar takes its place, naming about ten
    of them, and the markers' legend goes below.

    Parameters
    ----------
    net : Network
        A classifier (``output`` ``"sigmoid"`` or ``"softmax"``) with two inputs.
    X, y : ndarray
        Training points ``(n_samples, 2)`` in the units to draw, and their
        class indices.
    path : str or path-like
        A ``.png`` or ``.svg`` file.
    X_test, y_test : ndarray, optional
        Held-out points and class indices.
    transform : callable, optional
        Maps points of the plane to the network's inputs (the run's
        scaling), so that the picture is in the data's own units.
    class_names : sequence of str, optional
        The legend's name of each class (default ``"0"``, ``"1"``, ...).
    feature_names : sequence of str, optional
        The axes' labels (default x₁, x₂).
    title : str

    Returns
    -------
    (int, int)
        Width and height in pixels.
    """
    path = check_path(path)
    if X.shape[1] != 2 or net.output == "identity":
        raise ValueError("decision_boundary: needs a classifier with exactly two input features")
    fig = _boundary_figure(net, X, y, X_test, y_test, transform, class_names, feature_names, title)
    _save(fig, path)
    return round(BOUNDARY_SIZE[0] * DPI), round(BOUNDARY_SIZE[1] * DPI)


#: The decision boundary's size in inches: the plot and, at its right, the legend or colour bar.
BOUNDARY_SIZE = (7.4, 5.6)


def _boundary_figure(net: Any, X: np.ndarray, y: np.ndarray, X_test: np.ndarray | None, y_test: np.ndarray | None,
                     transform: Any, class_names: Sequence[str] | None, feature_names: Sequence[str] | None,
                     title: str) -> Any:
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D

    points = X if X_test is None else np.vstack([X, X_test])
    lo, hi = points.min(axis=0), points.max(axis=0)
    margin = 0.08 * (hi - lo) + 1e-9 * np.maximum(1.0, np.abs(points).max(axis=0))
    g0 = np.linspace(lo[0] - margin[0], hi[0] + margin[0], 300)
    g1 = np.linspace(lo[1] - margin[1], hi[1] + margin[1], 300)
    G0, G1 = np.meshgrid(g0, g1)
    grid = np.column_stack([G0.ravel(), G1.ravel()])
    if transform is not None:
        grid = transform(grid)
    with np.errstate(all="ignore"):
        classes = net.predict(grid).reshape(G0.shape)
    k = max(int(net.layer_sizes[-1]), 2)
    names = [str(n) for n in class_names] if class_names is not None else [str(j) for j in range(k)]
    colors = _class_colors(k)
    fig = _figure(*BOUNDARY_SIZE)
    ax = fig.add_subplot()
    ax.contourf(G0, G1, classes, levels=np.arange(k + 1) - 0.5, cmap=ListedColormap(colors), alpha=0.22)
    if k == 2 or len(np.unique(classes)) > 1:
        ax.contour(G0, G1, classes, levels=np.arange(k) + 0.5, colors="0.2", linewidths=1.0)
    splits = [(X, y, "o", 16, "white", 0.4)]
    if X_test is not None and len(X_test):
        splits.append((X_test, y_test, "^", 34, "black", 0.6))
    for rows, labels, marker, size, edge, lw in splits:
        labels = np.asarray(labels)
        for j in range(k):
            mine = labels == j
            if mine.any():
                ax.scatter(rows[mine, 0], rows[mine, 1], color=colors[j], marker=marker, s=size, edgecolors=edge,
                           linewidths=lw)
    handles = [Line2D([], [], ls="none", marker="o", ms=5, color="0.45", mec="white", label="training")]
    if len(splits) > 1:
        handles.append(Line2D([], [], ls="none", marker="^", ms=6, color="0.45", mec="black", label="held out"))
    if k <= LEGEND_CLASSES:
        handles = [Line2D([], [], ls="none", marker="s", ms=8, color=colors[j], label=_short(names[j]))
                   for j in range(k)] + handles
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=8,
                  frameon=False)
    else:  # a legend entry per class would not fit, nor could its colours be told apart: a colour bar
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import BoundaryNorm

        bar = fig.colorbar(ScalarMappable(BoundaryNorm(np.arange(k + 1) - 0.5, k), ListedColormap(colors)), ax=ax,
                           fraction=0.06, pad=0.02)
        _few_classes(bar.ax.yaxis, names)
        bar.ax.tick_params(labelsize=7)
        bar.set_label(f"{k} classes (a few named)", fontsize=8)
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=len(handles),
                  fontsize=8, frameon=False)
    ax.set_xlabel(feature_names[0] if feature_names else "x\u2081")
    ax.set_ylabel(feature_names[1] if feature_names else "x\u2082")
    ax.set_title(title, fontsize=10)
    return fig


def confusion_matrix(counts: np.ndarray, class_names: Sequence[str], path: str | os.PathLike, *,
                     title: str = "Confusion matrix") -> tuple[int, int]:
    """The counts of a classifier's predictions: row = true class, column = predicted class.

    Parameters
    ----------
    counts : ndarray of shape (k, k), int
        ``counts[i, j]``: rows of class ``i`` predicted as ``j``
        (scikit-learn's ``confusion_matrix`` layout).
    class_names : sequence of str
        The ``k`` classes, in order.
    path : str or path-like
        A ``.png`` or ``.svg`` file.
    title : str

    Returns
    -------
    (int, int)
        Width and height in pixels.
    """
    path = check_path(path)
    counts = np.asarray(counts)
    k = counts.shape[0]
    if counts.ndim != 2 or counts.shape != (k, k) or len(class_names) != k:
        raise ValueError(f"confusion_matrix: counts must be (k, k) with k class names, got {counts.shape} and "
                         f"{len(class_names)} names")
    side = _confusion_side(k)
    _save(_confusion_figure(counts, class_names, title), path)
    return round((side + 0.8) * DPI), round(side * DPI)


def _confusion_side(k: int) -> float:
    return min(4.6 + 0.32 * k, 12.0)


def _confusion_figure(counts: np.ndarray, class_names: Sequence[str], title: str) -> Any:
    k = counts.shape[0]
    side = _confusion_side(k)
    fig = _figure(side + 0.8, side)
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="Blues", vmin=0, vmax=max(int(counts.max()), 1))
    fig.colorbar(image, ax=ax, shrink=0.8, label="rows")
    if k <= 30:
        for (i, j), c in np.ndenumerate(counts):
            ax.text(j, i, str(c), ha="center", va="center", fontsize=9 if k <= 12 else 7,
                    color="white" if c > 0.6 * counts.max() else "0.1")
    names = [_short(str(n), 14) for n in class_names]
    if k <= TICK_CLASSES:
        ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 3 else 0, ha="right"
                      if max(map(len, names)) > 3 else "center", fontsize=8)
        ax.set_yticks(range(k), names, fontsize=8)
        note = ""
    else:  # a name per class would be unreadable: about ten of them
        step = _few_classes(ax.xaxis, names)
        _few_classes(ax.yaxis, names)
        ax.tick_params(labelsize=8)
        note = f" ({k} classes, 1 in {step} named)"
    ax.set_xlabel("predicted class" + note)
    ax.set_ylabel("true class" + note)
    ax.set_title(title, fontsize=10)
    return fig
