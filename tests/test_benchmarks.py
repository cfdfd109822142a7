"""The benchmark scripts run and print their tables (tiny sizes: this checks that they work, not speed).

No timing is asserted: the scripts measure, the docs report. These runs only
guard against the scripts rotting as the package changes under them.
"""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run(script, *args):
    result = subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True, text=True,
                            timeout=300, cwd=BENCHMARKS.parent)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.mark.parametrize("script, args, expected", [
    ("activations.py", ["--sizes", "1000", "--repeat", "2"], ["sigmoid", "leaky_relu", "backward", "float64"]),
    ("mlp.py", ["--samples", "300", "--repeat", "1", "--no-sklearn"], ["matmuls", "slopekit", "goal: at most 1.25×"]),
    ("course.py", ["--iterations", "20", "--repeat", "1"], ["slopekit", "numpy (course)", "goal:"]),
    ("handoff.py", ["--repeat", "3"], ["round trip to a pool thread", "exp 1e6 float64"]),
    ("torch_activations.py", ["--sizes", "1000", "--repeat", "2", "--dtypes", "float32,float64"],
     ["torch", "goal"]),
    ("engine_ab.py", ["--other", str(BENCHMARKS.parent), "--rounds", "1", "--samples", "300"],
     ["course (us/epoch)", "MLP epoch (ms)", "ratio"]),
    ("sklearn_compare.py", ["--repeat", "1", "--epochs", "3", "--tables", "iris,diabetes"],
     ["iris", "diabetes", "accuracy", "R^2", "ratio"]),
    ("dask.py", ["--rows", "2000", "--chunk", "500", "--epochs", "1", "--repeat", "1", "--workers", "1"],
     ["in memory", "dask, 1 worker", "goal: a step at most 1.5x"]),
])
def test_a_benchmark_script_runs_and_prints_its_table(script, args, expected):
    out = run(script, *args)
    for text in expected:
        assert text in out, f"{script}: {text!r} not in its output:\n{out}"


def test_the_torch_benchmark_measures_every_activation_and_call():
    pytest.importorskip("torch")
    out = run("torch_activations.py", "--sizes", "1000", "--repeat", "2")
    for text in ("sigmoid(z)", "gelu.backward(da, z=z)", "silu.backward(da, z=z)", "softmax.backward(da, a=a)",
                 "leaky_relu.backward(da, a=a)", "goals met:"):
        assert text in out, text
    assert "warning:" not in out, out  # slopekit and PyTorch agree on every row


def test_goals_prints_the_whole_goal_table():
    out = run("goals.py", "--quick")
    assert "| what | goal | measured | met |" in out and "goals met:" in out
    for row in ("sigmoid(z, out=) float32 1e6", "one epoch 784-256-128-10", "the course's 2-4-1 network",
                "import slopekit"):
        assert row in out, row
