"""The slopekit command, through main(argv) and once as a real installed console script."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import slopekit
from slopekit import cli


def table_rows(out):
    """The lecture table's rows, {(activation, z): [g, g' from z, g' from a]}."""
    rows = {}
    for line in out.splitlines():
        name, cells = line[:38].strip(), line[38:].split()
        if len(cells) == 4 and name.endswith(")"):
            rows[name, cells[0]] = cells[1:]
    return rows


def test_check_prints_the_lecture_table_and_passes(capsys):
    assert cli.main(["check"]) == 0
    out = capsys.readouterr().out
    rows = table_rows(out)
    for g in ("Sigmoid()", "Tanh()", "ReLU(at_zero=0.0)", "LeakyReLU(slope=0.01, at_zero=0.01)"):
        for z in ("-10", "0", "10"):
            assert (g, z) in rows
    assert rows["Sigmoid()", "0"] == ["0.500000", "0.250000", "0.250000"]
    assert rows["Tanh()", "0"] == ["0.000000", "1.000000", "1.000000"]
    assert rows["LeakyReLU(slope=0.01, at_zero=0.01)", "-10"] == ["-0.100000", "0.010000", "0.010000"]
    assert float(rows["Sigmoid()", "10"][1]) == pytest.approx(float(slopekit.sigmoid.derivative(10.0)), rel=1e-4)
    assert "all slopes agree" in out
    # the lecture's order comes first
    assert out.index("Sigmoid()") < out.index("Tanh()") < out.index("ReLU(") < out.index("LeakyReLU(")


def test_check_with_chosen_activations_and_no_shortcut(capsys):
    assert cli.main(["check", "-a", "relu:at_zero=1", "--activation", "leaky_relu:slope=0.001"]) == 0
    out = capsys.readouterr().out
    assert table_rows(out)["ReLU(at_zero=1.0)", "0"] == ["0.000000", "1.000000", "-"]
    assert "LeakyReLU(slope=0.001, at_zero=0.001)" in out
    assert "Sigmoid()" not in out


def test_check_fails_with_status_1_when_a_slope_is_wrong(capsys, monkeypatch):
    def wrong(self, z, out):
        out[...] = 0.3

    monkeypatch.setattr(slopekit.Sigmoid, "_derivative_np", wrong)
    assert cli.main(["check", "-a", "sigmoid"]) == 1
    assert "FAIL" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["check", "-a", "sigmod"], "unknown activation 'sigmod' (did you mean 'sigmoid'?)"),
    (["check", "-a", "relu:at_zero=x"], "at_zero must be a real number, got str 'x'"),
    (["check", "-a", "relu:slope=0.1"], "unknown parameter 'slope'; allowed: at_zero"),
    (["check", "-a", "relu:at_zero"], "malformed parameter"),
    (["check", "-a", "relu:at_zero=5"], "[0, 1]"),
    (["check", "--nope"], "unrecognized arguments: --nope"),
    (["bogus"], "invalid choice: 'bogus'"),
])
def test_user_mistakes_get_one_line_and_status_2(capsys, argv, message):
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert message in captured.err and "Traceback" not in captured.err


def test_no_command_prints_help_and_status_2(capsys):
    assert cli.main([]) == 2
    assert "check" in capsys.readouterr().out


def test_help_exits_0(capsys):
    assert cli.main(["--help"]) == 0
    assert "usage: slopekit" in capsys.readouterr().out


def _run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_installed_console_script_and_module_run():
    beside = Path(sys.executable).with_name("slopekit")
    script = str(beside) if beside.exists() else shutil.which("slopekit")
    if script is None:
        pytest.skip("the slopekit console script is not on PATH (package not installed)")
    for cmd in ([script, "check", "-a", "tanh"], [sys.executable, "-m", "slopekit", "check", "-a", "tanh"]):
        result = _run(*cmd)
        assert result.returncode == 0, result.stderr
        assert "Tanh()" in result.stdout and "all slopes agree" in result.stdout
    bad = _run(script, "check", "-a", "nope")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_check_includes_a_network_gradient_check(capsys):
    assert cli.main(["check", "-a", "relu", "-a", "tanh"]) == 0
    out = capsys.readouterr().out
    assert "gradient" in out and "network" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("ReLU(", "Tanh()"))]
    gaps = [float(row[-2]) for row in rows if row[-1] == "ok" and len(row) >= 8]
    assert len(gaps) == 2 and all(0 < gap < cli.NETWORK_TOLERANCE for gap in gaps)
    assert "every network passes its gradient check" in out


def test_check_fails_when_backpropagation_is_wrong(capsys, monkeypatch):
    # the slopes themselves are right; only the network's gradient is broken
    from slopekit.network import Network

    real = Network.gradients

    def wrong(self, X, y, **kwargs):
        return {name: g * 1.01 for name, g in real(self, X, y, **kwargs).items()}

    monkeypatch.setattr(Network, "gradients", wrong)
    assert cli.main(["check", "-a", "tanh"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_help_lists_every_command(capsys):
    assert cli.main([]) == 2
    out = capsys.readouterr().out
    for command in ("train", "predict", "plot", "check"):
        assert command in out


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"slopekit {slopekit.__version__}"


def test_the_dash_for_a_missing_shortcut_is_explained(capsys):
    assert cli.main(["check", "-a", "relu:at_zero=1"]) == 0
    assert "-: the output a cannot determine the slope" in capsys.readouterr().out
    assert cli.main(["check", "-a", "relu"]) == 0
    assert "cannot determine" not in capsys.readouterr().out


def test_a_warning_on_the_command_line_is_one_line():
    """An invalid SLOPEKIT_NUM_THREADS is ignored with a warning: one stderr line, not Python's two."""
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}, "SLOPEKIT_NUM_THREADS": "two"}
    result = subprocess.run([sys.executable, "-m", "slopekit", "check", "-a", "relu"], capture_output=True,
                            text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("slopekit: warning: SLOPEKIT_NUM_THREADS='two' is not a positive integer")
    assert result.stderr.count("\n") == 1
