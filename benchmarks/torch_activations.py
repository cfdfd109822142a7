"""Time slopekit's activations on PyTorch tensors against PyTorch's own functions and backward kernels.

For sigmoid, tanh, relu, leaky_relu, gelu, silu and softmax, on a tensor of
random normal data times 5 (seeded; softmax on rows of `UNITS` entries), it
times two calls, each of which returns a new tensor on both sides:

* value: ``g(z)`` against ``torch.sigmoid``, ``torch.tanh``, ``torch.relu``,
  ``F.leaky_relu``, ``F.gelu``, ``F.silu`` and ``torch.softmax``;
* backward: ``g.backward(da, a=a)`` from the cached output (sigmoid, tanh,
  relu, leaky_relu, softmax) or ``g.backward(da, z=z)`` (gelu and silu, whose
  output does not determine the slope) against the kernels PyTorch's autograd
  runs: ``aten.sigmoid_backward``, ``aten.tanh_backward``,
  ``aten.threshold_backward``, ``aten.leaky_relu_backward``,
  ``aten.gelu_backward``, ``aten.silu_backward`` and
  ``aten._softmax_backward_data``.

The goal (issue 11) is slopekit's time at most `GOAL` times PyTorch's for each
row. The contenders take turns and each figure is the best of several rounds
(`activations.best_times`). PyTorch runs on its own threads
(``torch.get_num_threads()``); slopekit's PyTorch path runs PyTorch's kernels,
so on the same threads. Nothing is asserted about the timings; a warning
follows the table where slopekit's result and PyTorch's differ by more than
float32 rounding allows (PyTorch's gelu cancels in its left tail, so the
comparison there is in absolute terms).

Run from the repository root::

    python benchmarks/torch_activations.py              # float32, 1e7 elements (the goal's size), ~1 minute
    python benchmarks/torch_activations.py --quick      # float32, 1e6 elements, fewer rounds
    python benchmarks/torch_activations.py --sizes 1e5,1e7 --dtypes float32,float64 --repeat 10
    python benchmarks/torch_activations.py --device cuda

`goal_rows` returns the rows in the form ``benchmarks/goals.py`` prints.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import activations as _shared  # noqa: E402 - the timing and machine helpers of benchmarks/activations.py

import slopekit  # noqa: E402

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu", "softmax")
PASSES = ("value", "backward")
#: Issue 11: the most slopekit's time may be, as a multiple of PyTorch's, for every row.
GOAL = 2.0
LEAKY_SLOPE = 0.01
#: Softmax runs on rows of this many entries (the units of a layer), along the last axis.
UNITS = 100
SEED = 20240611
SCALE = 5.0
#: Activations whose backward takes the pre-activation z (their output does not determine the slope).
FROM_Z = ("gelu", "silu")


@dataclass
class Case:
    """The tensors of one (dtype, size): z, da and every activation's cached output a."""

    z: Any
    da: Any
    a: dict[str, Any]
    softmax_z: Any
    softmax_da: Any


def make_case(torch: Any, size: int, dtype: str, device: str) -> Case:
    """Seeded tensors of ``size`` elements (softmax: ``size // UNITS`` rows of `UNITS`)."""
    rng = np.random.default_rng(SEED)
    z = torch.from_numpy(rng.standard_normal(size) * SCALE).to(device=device, dtype=getattr(torch, dtype))
    da = torch.from_numpy(rng.standard_normal(size)).to(device=device, dtype=z.dtype)
    rows = max(1, size // UNITS)
    softmax_z, softmax_da = z[:rows * UNITS].reshape(rows, UNITS), da[:rows * UNITS].reshape(rows, UNITS)
    a = {name: slopekit.get(name)(softmax_z if name == "softmax" else z) for name in ACTIVATIONS}
    return Case(z=z, da=da, a=a, softmax_z=softmax_z, softmax_da=softmax_da)


def slopekit_call(name: str, pass_: str, case: Case) -> Callable[[], Any]:
    g = slopekit.get(name)
    z, da = (case.softmax_z, case.softmax_da) if name == "softmax" else (case.z, case.da)
    if pass_ == "value":
        return lambda: g(z)
    if name in FROM_Z:
        return lambda: g.backward(da, z=z)
    a = case.a[name]
    return lambda: g.backward(da, a=a)


def torch_call(torch: Any, name: str, pass_: str, case: Case) -> Callable[[], Any]:
    F, aten = torch.nn.functional, torch.ops.aten
    z, da, a = case.z, case.da, case.a[name]
    if pass_ == "value":
        return {
            "sigmoid": lambda: torch.sigmoid(z),
            "tanh": lambda: torch.tanh(z),
            "relu": lambda: torch.relu(z),
            "leaky_relu": lambda: F.leaky_relu(z, LEAKY_SLOPE),
            "gelu": lambda: F.gelu(z),
            "silu": lambda: F.silu(z),
            "softmax": lambda: torch.softmax(case.softmax_z, -1),
        }[name]
    return {
        "sigmoid": lambda: aten.sigmoid_backward(da, a),
        "tanh": lambda: aten.tanh_backward(da, a),
        "relu": lambda: aten.threshold_backward(da, a, 0),
        "leaky_relu": lambda: aten.leaky_relu_backward(da, z, LEAKY_SLOPE, False),
        "gelu": lambda: aten.gelu_backward(da, z),
        "silu": lambda: aten.silu_backward(da, z),
        "softmax": lambda: aten._softmax_backward_data(case.softmax_da, a, -1, a.dtype),
    }[name]


def disagreement(name: str, pass_: str, got: Any, want: Any) -> str | None:
    """A warning if PyTorch's result ``want`` and slopekit's ``got`` differ beyond rounding; else None."""
    tol = 1e-12 if str(want.dtype) == "torch.float64" else 1e-5
    got, want = got.detach().cpu().double().numpy(), want.detach().cpu().double().numpy()
    tol = 2e-5 if name == "gelu" else tol  # PyTorch's own gelu cancels in its left tail (1 + erf)
    if np.allclose(got, want, rtol=tol, atol=tol, equal_nan=True):
        return None
    return f"{name} {pass_}: slopekit and PyTorch differ by up to {float(np.nanmax(np.abs(got - want))):.3g}"


@dataclass
class Row:
    name: str
    pass_: str
    dtype: str
    size: int
    slopekit_s: float
    torch_s: float

    @property
    def ratio(self) -> float:
        return self.slopekit_s / self.torch_s

    @property
    def met(self) -> bool:
        return self.ratio <= GOAL

    @property
    def call(self) -> str:
        if self.pass_ == "value":
            return f"{self.name}(z)"
        return f"{self.name}.backward(da, {'z=z' if self.name in FROM_Z else 'a=a'})"


def run(torch: Any, sizes: Sequence[int], dtypes: Sequence[str], device: str,
        plan: _shared.Plan) -> tuple[list[Row], list[str]]:
    """Measure every activation and pass on each size and dtype; one case's tensors live at a time."""
    rows: list[Row] = []
    warnings: list[str] = []
    for size in sizes:
        for dtype in dtypes:
            case = make_case(torch, size, dtype, device)
            for name in ACTIVATIONS:
                for pass_ in PASSES:
                    mine, theirs = slopekit_call(name, pass_, case), torch_call(torch, name, pass_, case)
                    if msg := disagreement(name, pass_, mine(), theirs()):
                        warnings.append(f"{dtype} n={size}: {msg}")
                    mine_s, theirs_s = _shared.best_times([mine, theirs], plan)
                    rows.append(Row(name, pass_, dtype, size, mine_s, theirs_s))
            del case
    return rows, warnings


HEADER = ("activation", "call", "dtype", "size", "slopekit ms", "torch ms", "sk/torch", "goal", "met")
WIDTHS = (10, 28, 7, 5, 11, 9, 8, 5, 4)


def _line(cells: Sequence[str]) -> str:
    left = 4  # text columns left-aligned, numbers right-aligned
    return "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, WIDTHS)))


def table_lines(rows: Sequence[Row]) -> list[str]:
    head = _line(HEADER)
    lines = ["times: best of N interleaved rounds, in milliseconds; both sides return a new tensor;",
             f"goal: slopekit at most {GOAL:g}x PyTorch's time (issue 11)", head, "-" * len(head)]
    for r in rows:
        lines.append(_line((r.name, r.call, r.dtype, _shared._size_text(r.size), f"{r.slopekit_s * 1e3:.3f}",
                            f"{r.torch_s * 1e3:.3f}", f"{r.ratio:.2f}", f"{GOAL:g}", "yes" if r.met else "NO")))
    return lines


def goal_rows(quick: bool) -> list[dict[str, Any]]:
    """The goal rows (float32; 1e7 elements, or 1e6 with ``quick``) as dicts for ``benchmarks/goals.py``."""
    torch, why = _shared.load_torch(False)
    if torch is None:
        return [{"what": "slopekit on PyTorch tensors", "goal": f"at most {GOAL:g}× PyTorch",
                 "measured": f"PyTorch {why}, skipped", "met": None}]
    plan = _shared.make_plan(argparse.Namespace(quick=quick, repeat=None))
    rows, _ = run(torch, [1_000_000 if quick else 10_000_000], ["float32"], "cpu", plan)
    return [{"what": f"{r.call} torch {r.dtype} {_shared._size_text(r.size)}", "goal": f"at most {GOAL:g}× PyTorch",
             "measured": f"{r.ratio:.3f}× ({r.slopekit_s * 1e3:.3f} vs {r.torch_s * 1e3:.3f} ms)", "met": r.met}
            for r in rows]


def _dtypes(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names or any(n not in ("float32", "float64") for n in names):
        raise argparse.ArgumentTypeError(f"dtypes must be float32 and/or float64, got {text!r}")
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_shared._sizes, default=None, help="comma-separated element counts "
                        "(default 1e7; 1e6 with --quick)")
    parser.add_argument("--dtypes", type=_dtypes, default=["float32"], help="float32,float64 (default float32)")
    parser.add_argument("--repeat", type=_shared._positive, default=None, help="fixed rounds (default: adaptive)")
    parser.add_argument("--quick", action="store_true", help="1e6 elements and fewer rounds")
    parser.add_argument("--device", default="cpu", help="the tensors' device (default cpu)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    torch, why = _shared.load_torch(False)
    for line in _shared.machine_lines(torch, why):
        print(line)
    print()
    if torch is None:
        print(f"PyTorch {why}: nothing to measure (goal: slopekit at most {GOAL:g}x PyTorch's time)")
        return 0
    sizes = args.sizes or ([1_000_000] if args.quick else [10_000_000])
    started = time.perf_counter()
    rows, warnings = run(torch, sizes, args.dtypes, args.device, _shared.make_plan(args))
    for line in table_lines(rows):
        print(line)
    print(f"\ngoals met: {sum(r.met for r in rows)} of {len(rows)}")
    for msg in warnings:
        print(f"warning: {msg}")
    print(f"\n(total {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
