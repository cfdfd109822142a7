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
    assert plotting.decision_boundary(net, X, y, tmp_path / "b.png") == (600, 560)
    from matplotlib.image import imread

    pixels = imread(tmp_path / "b.png")[..., :3]
    assert png_size(tmp_path / "b.png") == (600, 560)
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
