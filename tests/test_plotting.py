"""``slopekit plot`` and `slopekit.plotting`: real images of the expected size, SVG by extension, clean errors."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from _cli_helpers import files_under, one_line_error, png_size

import slopekit
from slopekit import cli, plotting


def test_default_plot_is_the_lecture_four_side_by_side(tmp_path, capsys):
    path = tmp_path / "slopes.png"
    assert cli.main(["plot", "--out", str(path)]) == 0
    out = capsys.readouterr().out
    assert "(1440 x 420 pixels)" in out and "sigmoid, tanh, relu, leaky_relu" in out
    assert png_size(path) == (1440, 420)
    assert files_under(tmp_path) == ["slopes.png"]


def test_plot_chosen_activations_as_svg_with_the_triangle_label(tmp_path, capsys):
    path = tmp_path / "two.svg"
    assert cli.main(["plot", "tanh", "leaky_relu:slope=0.2", "--at", "-2", "--out", str(path)]) == 0
    capsys.readouterr()
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg") and root.get("width") == "518.4pt"  # 2 panels of 3.6 inches, 72 pt each
    text = path.read_text()
    # matplotlib keeps each label as a comment beside its glyphs
    assert "height / width = slope" in text
    slope = float(slopekit.tanh.derivative(-2.0))
    assert f"{slope:.3g} / 1 = {slope:.3g}" in text
    assert "0.2 / 1 = 0.2" in text and "LeakyReLU(slope=0.2, at_zero=0.2)" in text


def test_plot_writes_to_the_default_file_in_the_current_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["plot", "relu"]) == 0
    assert png_size(tmp_path / "slopes.png") == (360, 420)


@pytest.mark.parametrize("argv, fragment", [
    (["plot", "--out", "{tmp}/x.jpg"], "cannot write a '.jpg'; name a .png or .svg file"),
    (["plot", "--out", "{tmp}/missing/x.png"], "the folder {tmp}/missing does not exist"),
    (["plot", "--out", "{tmp}"], "is a folder; name a file"),
    (["plot", "sigmod", "--out", "{tmp}/x.png"], "unknown activation 'sigmod'"),
    (["plot", "relu:at_zero=7", "--out", "{tmp}/x.png"], "[0, 1]"),
    (["plot", "--at", "nan", "--out", "{tmp}/x.png"], "argument --at: expected a finite number, got 'nan'"),
    (["plot", "--at", "one"], "argument --at: expected a number, got 'one'"),
    (["plot", "--at", "1e300", "--out", "{tmp}/x.png"], "argument --at: expected a number within ±1e+06"),
])
def test_plot_mistakes(tmp_path, capsys, argv, fragment):
    assert cli.main([a.format(tmp=tmp_path) for a in argv]) == 2
    one_line_error(capsys.readouterr(), fragment.format(tmp=tmp_path))
    assert files_under(tmp_path) == []


def test_plot_without_matplotlib_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    assert cli.main(["plot", "--out", str(tmp_path / "x.png")]) == 2
    one_line_error(capsys.readouterr(), 'pip install "slopekit[cli]"')


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "loss.png"
    plotting.loss_curve([3.0, 2.0, 1.0], path)
    before = path.read_bytes()

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    from matplotlib.figure import Figure

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(OSError, match="disk full"):
        plotting.loss_curve([5.0, 4.0], path)
    assert path.read_bytes() == before and files_under(tmp_path) == ["loss.png"]


def test_decision_boundary_separates_xor(tmp_path):
    X, y = slopekit.datasets.xor()
    net = slopekit.Network([2, 4, 1], hidden="tanh").fit(X, y, epochs=300, learning_rate=0.5)
    assert plotting.decision_boundary(net, X, y, tmp_path / "b.png") == (740, 560)
    from matplotlib.image import imread

    pixels = imread(tmp_path / "b.png")[..., :3]
    assert png_size(tmp_path / "b.png") == (740, 560)
    # both class colours fill part of the plane: the background is not one colour
    reddish = (pixels[..., 0] > pixels[..., 2] + 0.05).mean()
    bluish = (pixels[..., 2] > pixels[..., 0] + 0.05).mean()
    assert reddish > 0.1 and bluish > 0.1
    with pytest.raises(ValueError, match="two input features"):
        plotting.decision_boundary(slopekit.Network([3, 1]), np.zeros((2, 3)), np.zeros(2), tmp_path / "c.png")


def test_remove_leftovers_deletes_only_killed_writers_temporary_files(tmp_path):
    from slopekit._atomic import remove_leftovers, replacing

    with replacing(tmp_path / "model.npz", "wb") as f:
        f.write(b"whole")
    (tmp_path / ".model.npz.0123456789ab.tmp").write_bytes(b"half")
    (tmp_path / ".hidden").write_text("keep")
    (tmp_path / "notes.tmp").write_text("keep")
    assert remove_leftovers(tmp_path) == [".model.npz.0123456789ab.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden", "model.npz", "notes.tmp"]


def test_plot_covers_the_whole_family(tmp_path, capsys):
    path = tmp_path / "all.svg"
    assert cli.main(["plot", *slopekit.names(), "gelu:approximate=tanh", "--at", "0.5", "--out", str(path)]) == 0
    capsys.readouterr()
    text = path.read_text()
    for name in ("gelu", "mish", "softmax of [z, 0.5, \u22121]", "log_softmax of [z, 0.5, \u22121]"):
        assert name in text
    # softmax's triangle: the Jacobian's diagonal s(1 - s) for the entry z = 0.5 of [0.5, 0.5, -1]
    s = float(slopekit.get("softmax")(np.array([0.5, 0.5, -1.0]))[0])
    assert f"{s * (1 - s):.3g} / 1 = {s * (1 - s):.3g}" in text


def test_the_window_moves_to_a_point_outside_the_default_span():
    assert plotting._window(1.0, (-4.0, 4.0)) == (-4.0, 4.0)
    assert plotting._window(-2.8, (-4.0, 4.0)) == (-4.0, 4.0)  # the tangent reaches -4 exactly
    assert plotting._window(100.0, (-4.0, 4.0)) == (96.0, 104.0)
    assert plotting._window(3.0, (-4.0, 4.0)) == (-1.0, 7.0)
    assert plotting._window(0.5, (0.0, 1.0)) == (-1.5, 2.5)  # at least the tangent's width


def test_plot_far_out_shows_the_point_and_its_tangent(tmp_path, capsys):
    path = tmp_path / "far.svg"
    assert cli.main(["plot", "sigmoid", "--at", "100", "--out", str(path)]) == 0
    capsys.readouterr()
    text = path.read_text()
    assert "<!-- 102 -->" in text and "<!-- 0 -->" not in text  # z ticks around 100, none at 0


# -- where the labels go, and what the pictures say ------------------------------------------------


def _inside(box, frame, slack=0.5):
    return (box.x0 >= frame.x0 - slack and box.x1 <= frame.x1 + slack and box.y0 >= frame.y0 - slack
            and box.y1 <= frame.y1 + slack)


def _curve_points(ax):
    """Display coordinates of every drawn line's points (the curves, the tangent, the triangle's sides),
    dense enough to see a text box that sits on one."""
    points = []
    for line in ax.get_lines():
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        if len(x) < 2 or line.get_linestyle() == "None" or line.get_transform() != ax.transData:
            continue  # a dot, or the faint axis line at z = 0 or g = 0 (drawn in axes coordinates)
        t = np.linspace(0, 1, 50)[:, None]
        dense = (np.column_stack([x[:-1], y[:-1]])[None] * (1 - t)[..., None] +
                 np.column_stack([x[1:], y[1:]])[None] * t[..., None]).reshape(-1, 2)
        points.append(ax.transData.transform(dense))
    return np.vstack(points)


@pytest.mark.parametrize("names", [["sigmoid", "tanh", "relu", "leaky_relu"], ["gelu", "silu", "softplus", "elu"],
                                   ["mish", "hard_tanh", "softsign", "selu"]])
@pytest.mark.parametrize("at", [-6.0, -2.0, -1.0, -0.3, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 100.0])
def test_triangle_labels_stay_inside_the_axes_and_off_the_curves(names, at):
    fig = plotting.slope_figure([slopekit.get(n) for n in names], at=at)
    renderer = fig.canvas.get_renderer()
    measured = [plotting._extent(t, renderer).bounds for ax in fig.axes for t in ax.texts]
    fig.canvas.draw()  # what is drawn is where the boxes were placed: the layout is frozen before placing
    assert np.allclose([plotting._extent(t, renderer).bounds for ax in fig.axes for t in ax.texts], measured)
    for ax in fig.axes:
        frame = ax.get_window_extent(renderer)
        points = _curve_points(ax)
        texts = [t for t in ax.texts]  # the slope box and the two annotations
        assert {t.get_text().split()[0] for t in texts} == {"height", "width"}
        boxes = [plotting._extent(t, renderer) for t in texts]
        for text, box in zip(texts, boxes):
            label = f"{ax.get_title()} at {at}: {text.get_text()!r}"
            assert _inside(box, frame), label
            x, y = points[:, 0], points[:, 1]
            on = (x > box.x0 + 1) & (x < box.x1 - 1) & (y > box.y0 + 1) & (y < box.y1 - 1)
            assert not on.any(), label
        for i in range(len(boxes)):
            for j in range(i):
                assert not boxes[i].overlaps(boxes[j]), (ax.get_title(), at)
    assert fig.axes[0].get_ylabel() == "g(z) and g\u2032(z)"
    label = fig.axes[0].yaxis.label.get_window_extent(renderer)
    assert label.x0 >= 0 and label.y0 >= 0 and label.y1 <= fig.bbox.height  # inside the picture


def test_loss_picture_has_both_losses_plain_ticks_and_the_files_name():
    history = list(np.linspace(0.6570, 0.6565, 300))  # flat: a linear axis, no offset, no powers of ten
    fig = plotting._loss_figure(history, [(10, 0.66), (300, 0.659)], "Loss: data.csv, [3, 4, 1]")
    ax = fig.axes[0]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all(float(label.replace("\u2212", "-")) for label in labels)
    assert ax.yaxis.get_offset_text().get_text() == "" and ax.get_yscale() == "linear"
    assert [line.get_label() for line in ax.get_lines()] == ["training", "held out"]
    assert list(ax.get_lines()[1].get_xdata()) == [10, 300]
    assert ax.get_title() == "Loss: data.csv, [3, 4, 1]"
    # spanning decades: a log axis labelled 1, 2, 5 times powers of ten, in plain numbers
    fig = plotting._loss_figure(list(np.geomspace(3.0, 0.004, 200)), [], "t")
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    shown = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert {"0.01", "0.1", "1"} <= set(shown) and not any("10^" in s or "\u00d7" in s for s in shown)


def test_the_boundary_colours_classes_and_marks_the_split(tmp_path):
    X, y = slopekit.datasets.spirals(n_samples=150)
    net = slopekit.Network([2, 16, 3], "tanh", "softmax").fit(X, y, epochs=200, learning_rate=0.05,
                                                                  optimizer="adam")
    names = ["north", "east", "west"]
    train, test = np.split(np.random.RandomState(0).permutation(150), [120])
    fig = plotting._boundary_figure(net, X[train] * 10, y[train], X[test] * 10, y[test], lambda G: G / 10, names,
                                    ["length (cm)", "width (cm)"], "t")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("length (cm)", "width (cm)")
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["north", "east", "west", "training", "held out"]
    handles = legend.legend_handles
    from matplotlib.colors import to_rgba

    class_colors = [to_rgba(h.get_color()) for h in handles[:3]]
    assert len(set(class_colors)) == 3
    assert to_rgba(handles[3].get_color()) == to_rgba(handles[4].get_color())  # the split is not a colour
    assert (handles[3].get_marker(), handles[4].get_marker()) == ("o", "^")
    # every dot and triangle has its class's colour, whatever the split
    from matplotlib.collections import PathCollection

    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 6  # three classes, two splits
    label_of = {tuple(p): int(c) for p, c in zip((X * 10).tolist(), y) if any(p)}  # every arm starts at 0
    for collection in scatters:
        colour = tuple(collection.get_facecolor()[0])
        truth = {label_of[tuple(p)] for p in np.asarray(collection.get_offsets()).tolist() if any(p)}
        assert truth == {class_colors.index(colour)}
    # the plane is coloured in the data's own units: the transform maps it back for the network
    assert ax.get_xlim()[1] > 5


@pytest.mark.parametrize("k", [3, 20, 200])
def test_the_boundary_legend_stays_off_the_plot_and_on_the_figure(k, tmp_path):
    # Warnings are errors here: matplotlib's "constrained_layout not applied" fails this test.
    rng = np.random.RandomState(0)
    X, y = rng.randn(300, 2), rng.randint(0, k, 300)
    net = slopekit.Network([2, 6, k], "tanh", "softmax", seed=0)
    names = [f"a class with a very long name, number {j}" if j % 2 else str(j) for j in range(k)]
    fig = plotting._boundary_figure(net, X, y, X[:30], y[:30], None, names, None, "t")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    ax = fig.axes[0]
    plot = ax.get_window_extent(renderer)
    assert plot.width > 300 and plot.height > 300  # the plot keeps most of the figure
    legend = ax.get_legend()
    outside = [legend.get_window_extent(renderer), *(a.get_window_extent(renderer) for a in fig.axes[1:])]
    for box in outside:
        assert not box.overlaps(plot)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1
    texts = [t.get_text() for t in legend.get_texts()]
    if k <= plotting.LEGEND_CLASSES:
        assert len(texts) == k + 2 and len(fig.axes) == 1
        assert all(len(t) <= plotting.NAME_LENGTH for t in texts) and texts[1].endswith("\u2026")
        assert len({h.get_color() for h in legend.legend_handles[:k]}) == k  # no colour twice
    else:  # a colour bar instead of one entry per class
        assert texts == ["training", "held out"] and len(fig.axes) == 2
        bar = fig.axes[1]
        assert f"{k} classes" in bar.get_ylabel()
        assert 5 <= len([t for t in bar.get_yticklabels() if t.get_text()]) <= 12
    plotting.decision_boundary(net, X, y, tmp_path / "b.png", X_test=X[:30], y_test=y[:30], class_names=names)
    assert png_size(tmp_path / "b.png") == (740, 560)


@pytest.mark.parametrize("k", [20, 214])
def test_the_confusion_matrix_names_every_class_or_a_few(k, tmp_path):
    names = [str(25 + j) for j in range(k)]
    fig = plotting._confusion_figure(np.eye(k, dtype=int) * 3, names, "t")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    ax = fig.axes[0]
    shown = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    if k <= plotting.TICK_CLASSES:
        assert shown == names and ax.get_xlabel() == "predicted class"
    else:
        assert 5 <= len(shown) <= 12 and shown[0] == "25" and set(shown) <= set(names)
        assert f"({k} classes, 1 in 22 named)" in ax.get_xlabel()
        boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
        assert all(not a.overlaps(b) for a, b in zip(boxes, boxes[1:]))  # readable: no label on another
    plotting.confusion_matrix(np.eye(k, dtype=int), names, tmp_path / "c.png")
