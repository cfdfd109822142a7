"""Helpers shared by the command-line tests: PNG sizes, the installed script, one-line errors."""

import shutil
import struct
import sys
from pathlib import Path

import pytest


def png_size(path):
    """(width, height) from the PNG header, after checking it is a PNG that matplotlib can decode."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    from matplotlib.image import imread

    pixels = imread(path)
    assert pixels.shape[:2] == (height, width)
    assert pixels.std() > 0.01, f"{path} is blank"
    return width, height


def script():
    """The installed ``slopekit`` console script (next to the interpreter), or skip."""
    beside = Path(sys.executable).with_name("slopekit")
    found = str(beside) if beside.exists() else shutil.which("slopekit")
    if found is None:
        pytest.skip("the slopekit console script is not installed")
    return found


def one_line_error(captured, *fragments):
    """Assert ``captured`` (capsys) is exactly one stderr line holding every fragment, no traceback."""
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def files_under(path):
    """Every file and folder under ``path``, relative, sorted."""
    path = Path(path)
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))
