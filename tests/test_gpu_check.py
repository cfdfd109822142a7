"""scripts/gpu_check.py runs its checks on CPU tensors here, so that it cannot rot while no GPU is at hand."""

import importlib.util
import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "gpu_check.py"


def load():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checks_agree_on_cpu_tensors(capsys):
    assert load().main(["--cpu"]) == 0
    out = capsys.readouterr().out
    gaps = [float(x) for x in re.findall(r"gap (?:to NumPy )?([0-9.]+e[+-]\d+)", out)]
    assert len(gaps) == 3 and max(gaps) < 1e-10, out


def test_without_cuda_it_says_so_and_exits_0(capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert load().main([]) == 0
    assert "no CUDA device" in capsys.readouterr().out
