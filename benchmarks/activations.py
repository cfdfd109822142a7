"""Time slopekit's activations against the naive NumPy formulas and PyTorch (CPU).

For each of sigmoid, tanh, relu and leaky_relu, on arrays of random normal
data times 5 (seeded) in float32 and float64, it times two passes:

* forward: ``g(z, out=buf)`` against the textbook NumPy formula
  (``1/(1+np.exp(-z))``, ``np.tanh(z)``, ``np.maximum(z, 0)``,
  ``np.where(z > 0, z, 0.01*z)``) and against ``torch.sigmoid``,
  ``torch.tanh``, ``torch.relu`` and ``torch.nn.functional.leaky_relu``;
* backward from the cached output ``a = g(z)``: ``g.backward(da, a=a, out=buf)``
  against the lecture's NumPy formulas (``da*a*(1-a)``, ``da*(1-a*a)``,
  ``da*(a>0)``, ``da*np.where(a>0, 1, 0.01)``) and against PyTorch's own
  backward kernels (``aten.sigmoid_backward``, ``aten.tanh_backward``,
  ``aten.threshold_backward``, ``aten.leaky_relu_backward``).

The contenders take turns: each round times one call of each (after an
untimed call, so that PyTorch's idle OpenMP threads, which spin for a while
after its calls, have gone quiet before slopekit's threads run), and each
figure is the best over the rounds, so that load from elsewhere on the machine
hits all alike. The number of rounds adapts to the cost of a call (each case
gets a fixed time budget) unless ``--repeat`` fixes it. slopekit writes into a
preallocated buffer on `slopekit.get_num_threads` threads (large arrays run in
cache-sized blocks across them); the naive NumPy formulas allocate their
result (and temporaries) on one thread, as code written straight from the
formula does; PyTorch writes into a buffer where the call accepts ``out=``
(sigmoid, tanh forward) and allocates elsewhere, on all its threads.

The script prints the machine (CPUs, versions, thread counts), then one row
per case: the times in milliseconds, the ratios slopekit/numpy and
slopekit/torch (below 1: slopekit is faster), the issue's goal for the
slopekit/torch ratio (issue 6: relu and leaky_relu forward and every backward
no slower than PyTorch, sigmoid and tanh forward at most 1.5x its time) and
whether it is met. Nothing is asserted about the timings; a line of warnings
follows the table if an implementation's result disagrees with slopekit's
(that would make its timing meaningless). `goal_rows` returns the goal rows
for ``benchmarks/goals.py``.

Run from the repository root::

    python benchmarks/activations.py                 # 1e6 and 1e7 elements, ~2 minutes
    python benchmarks/activations.py --quick         # 1e6 only, < 30 s
    python benchmarks/activations.py --sizes 1e5,1e6 --dtypes float32 --repeat 20
    python benchmarks/activations.py --no-torch      # as if PyTorch were not installed
    python benchmarks/activations.py --threads 1     # slopekit on one thread

Setting the environment variable ``SLOPEKIT_BENCH_NO_TORCH=1`` does the same as
``--no-torch``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import slopekit

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
PASSES = ("forward", "backward")
LEAKY_SLOPE = 0.01
SEED = 20240601
SCALE = 5.0

#: Seconds each case (all its contenders together) may spend, by default and with --quick.
BUDGET_S = 2.0
QUICK_BUDGET_S = 0.3
MIN_REPEAT, MAX_REPEAT = 5, 200
QUICK_MIN_REPEAT, QUICK_MAX_REPEAT = 3, 30

#: Issue 6: the most slopekit's time may be, as a multiple of PyTorch's.
GOALS = {
    ("sigmoid", "forward"): 1.5,
    ("tanh", "forward"): 1.5,
    ("relu", "forward"): 1.0,
    ("leaky_relu", "forward"): 1.0,
    ("sigmoid", "backward"): 1.0,
    ("tanh", "backward"): 1.0,
    ("relu", "backward"): 1.0,
    ("leaky_relu", "backward"): 1.0,
}


# -- the implementations ------------------------------------------------------------------


@dataclass
class Case:
    """The arrays of one (dtype, size): inputs, cached output and buffers, per library."""

    z: np.ndarray
    da: np.ndarray
    a: dict[str, np.ndarray]
    buf: np.ndarray
    torch: Any = None  # a dict of tensors sharing memory with the arrays, or None


def _slopekit_fn(name: str, pass_: str, case: Case) -> Callable[[], Any]:
    g = getattr(slopekit, name)
    z, da, a, buf = case.z, case.da, case.a[name], case.buf
    if pass_ == "forward":
        return lambda: g(z, out=buf)
    return lambda: g.backward(da, a=a, out=buf)


def _naive_forward(name: str, z: np.ndarray) -> Callable[[], Any]:
    if name == "sigmoid":

        def sigmoid() -> np.ndarray:
            with np.errstate(over="ignore"):
                return 1 / (1 + np.exp(-z))

        return sigmoid
    if name == "tanh":
        return lambda: np.tanh(z)
    if name == "relu":
        return lambda: np.maximum(z, 0)
    return lambda: np.where(z > 0, z, LEAKY_SLOPE * z)


def _naive_backward(name: str, da: np.ndarray, a: np.ndarray) -> Callable[[], Any]:
    if name == "sigmoid":
        return lambda: da * a * (1 - a)
    if name == "tanh":
        return lambda: da * (1 - a * a)
    if name == "relu":
        return lambda: da * (a > 0)
    return lambda: da * np.where(a > 0, 1, LEAKY_SLOPE)


def _naive_fn(name: str, pass_: str, case: Case) -> Callable[[], Any]:
    if pass_ == "forward":
        return _naive_forward(name, case.z)
    return _naive_backward(name, case.da, case.a[name])


def _torch_forward(torch: Any, name: str, t: dict[str, Any]) -> Callable[[], Any]:
    z, buf = t["z"], t["buf"]
    if name == "sigmoid":
        return lambda: torch.sigmoid(z, out=buf)
    if name == "tanh":
        return lambda: torch.tanh(z, out=buf)
    if name == "relu":
        return lambda: torch.relu(z)  # no out= in torch.relu
    leaky = torch.nn.functional.leaky_relu
    return lambda: leaky(z, LEAKY_SLOPE)


def _torch_backward(torch: Any, name: str, t: dict[str, Any]) -> Callable[[], Any]:
    aten, da, a = torch.ops.aten, t["da"], t["a"][name]
    if name == "sigmoid":
        return lambda: aten.sigmoid_backward(da, a)
    if name == "tanh":
        return lambda: aten.tanh_backward(da, a)
    if name == "relu":
        return lambda: aten.threshold_backward(da, a, 0)
    z = t["z"]
    return lambda: aten.leaky_relu_backward(da, z, LEAKY_SLOPE, False)


def _torch_fn(torch: Any, name: str, pass_: str, case: Case) -> Callable[[], Any] | None:
    if torch is None or case.torch is None:
        return None
    if pass_ == "forward":
        return _torch_forward(torch, name, case.torch)
    return _torch_backward(torch, name, case.torch)


# -- data ---------------------------------------------------------------------------------


def make_case(size: int, dtype: np.dtype, torch: Any) -> Case:
    """Seeded inputs of one size and dtype, with every activation's cached output."""
    rng = np.random.default_rng(SEED)
    z = (rng.standard_normal(size, dtype=dtype) * SCALE).astype(dtype, copy=False)
    da = rng.standard_normal(size, dtype=dtype)
    a = {name: getattr(slopekit, name)(z) for name in ACTIVATIONS}
    case = Case(z=z, da=da, a=a, buf=np.empty_like(z))
    if torch is not None:
        case.torch = {
            "z": torch.from_numpy(z),
            "da": torch.from_numpy(da),
            "a": {name: torch.from_numpy(arr) for name, arr in a.items()},
            "buf": torch.empty(size, dtype=getattr(torch, np.dtype(dtype).name)),
        }
    return case


# -- timing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How many times to run each call: a fixed count, or adaptive within a time budget."""

    repeat: int | None
    budget_s: float
    min_repeat: int
    max_repeat: int

    def count(self, first_call_s: float) -> int:
        if self.repeat is not None:
            return self.repeat
        wanted = int(self.budget_s / max(first_call_s, 1e-9))
        return max(self.min_repeat, min(self.max_repeat, wanted))


def best_times(fns: Sequence[Callable[[], Any] | None], plan: Plan) -> list[float | None]:
    """Best wall time in seconds of each of ``fns``, taking turns; None for a missing one.

    Each round calls each function twice and times the second call: the first
    lets the previous contender's threads go quiet. The first round also sizes
    the number of rounds.
    """
    live = [fn for fn in fns if fn is not None]
    best = [float("inf")] * len(live)
    rounds, done = 1, 0
    while done < rounds:
        start_round = time.perf_counter()
        for i, fn in enumerate(live):
            fn()
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
        if done == 0:
            rounds = plan.count(time.perf_counter() - start_round)
        done += 1
    it = iter(best)
    return [None if fn is None else next(it) for fn in fns]


def disagreement(name: str, pass_: str, label: str, got: Any, want: np.ndarray) -> str | None:
    """A warning if ``got`` does not match slopekit's ``want``; None when it does."""
    got = np.asarray(got.numpy() if hasattr(got, "numpy") else got, dtype=want.dtype)
    rtol = 1e-5 if want.dtype == np.float32 else 1e-12
    if np.allclose(got, want, rtol=rtol, atol=rtol, equal_nan=True):
        return None
    worst = float(np.nanmax(np.abs(got - want)))
    return f"{name} {pass_} {want.dtype} n={want.size}: {label} differs from slopekit by up to {worst:.3g}"


@dataclass
class Row:
    name: str
    pass_: str
    dtype: str
    size: int
    slopekit_s: float
    numpy_s: float
    torch_s: float | None

    @property
    def goal(self) -> float:
        """The most slopekit's time may be, as a multiple of PyTorch's."""
        return GOALS[self.name, self.pass_]

    @property
    def met(self) -> bool | None:
        """Whether the goal is met; None without PyTorch."""
        if self.torch_s is None:
            return None
        return self.slopekit_s <= self.goal * self.torch_s


def measure(name: str, pass_: str, case: Case, torch: Any, plan: Plan, warnings: list[str]) -> Row:
    """Time the three implementations of one activation pass on one case."""
    mine = _slopekit_fn(name, pass_, case)
    naive = _naive_fn(name, pass_, case)
    other = _torch_fn(torch, name, pass_, case)
    want = np.array(mine(), copy=True)
    for label, fn in (("numpy", naive), ("torch", other)):
        if fn is not None and (msg := disagreement(name, pass_, label, fn(), want)):
            warnings.append(msg)
    mine_s, naive_s, other_s = best_times([mine, naive, other], plan)
    return Row(
        name=name,
        pass_=pass_,
        dtype=case.z.dtype.name,
        size=case.z.size,
        slopekit_s=mine_s,
        numpy_s=naive_s,
        torch_s=other_s,
    )


# -- reporting ----------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo, else what `platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def machine_lines(torch: Any, why_no_torch: str) -> list[str]:
    lines = [
        f"platform: {platform.platform()}",
        f"cpu:      {cpu_model()}",
        f"cpus:     {os.cpu_count()} ({usable_cpus()} usable by this process)",
        f"python:   {platform.python_version()} ({platform.python_implementation()})",
        f"numpy:    {np.__version__} (ufuncs on 1 thread)",
        f"slopekit: {slopekit.__version__}, {slopekit.get_num_threads()} threads "
        f"({_blocks_text()})",
    ]
    if torch is None:
        lines.append(f"torch:    {why_no_torch}, skipped")
    else:
        lines.append(f"torch:    {torch.__version__}, {torch.get_num_threads()} threads")
    return lines


def _blocks_text() -> str:
    """How slopekit cuts large arrays into blocks, from its base class's settings."""
    try:
        from slopekit.activations import _base

        return (f"blocks of up to {_base.BLOCK} elements from {_base.BLOCKED_FROM} elements on; "
                f"light kernels from {_base.LIGHT_BLOCKED_BYTES / 2**20:g} MiB on")
    except (ImportError, AttributeError):
        return "no blocking settings found"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.3f}"


def _ratio(num: float, den: float | None) -> str:
    return "-" if den is None or den <= 0 else f"{num / den:.2f}"


def _met(met: bool | None) -> str:
    return "-" if met is None else ("yes" if met else "NO")


def _size_text(size: int) -> str:
    exp = int(np.log10(size)) if size > 0 else 0
    return f"1e{exp}" if 10**exp == size else str(size)


HEADER = ("activation", "pass", "dtype", "size", "slopekit ms", "torch ms", "numpy ms", "sk/numpy", "sk/torch",
          "goal", "met")
WIDTHS = (10, 8, 7, 5, 11, 9, 9, 8, 8, 6, 4)


def _format_line(cells: Sequence[str]) -> str:
    left = 4  # the text columns are left-aligned, the numbers right-aligned
    parts = [c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, WIDTHS))]
    return "  ".join(parts)


def table_lines(rows: Sequence[Row]) -> list[str]:
    head = _format_line(HEADER)
    lines = [
        "times: best of N interleaved rounds, in milliseconds; ratio < 1 means slopekit is faster;",
        "goal: the most slopekit/torch may be (issue 6)",
        head,
        "-" * len(head),
    ]
    for r in rows:
        cells = (
            r.name,
            r.pass_,
            r.dtype,
            _size_text(r.size),
            _ms(r.slopekit_s),
            _ms(r.torch_s),
            _ms(r.numpy_s),
            _ratio(r.slopekit_s, r.numpy_s),
            _ratio(r.slopekit_s, r.torch_s),
            f"{r.goal:g}",
            _met(r.met),
        )
        lines.append(_format_line(cells))
    return lines


# -- command line -------------------------------------------------------------------------


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(float(part)) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be numbers like 1e6,1e7, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return sizes


def _dtypes(text: str) -> list[np.dtype]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    bad = [n for n in names if n not in ("float32", "float64")]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"dtypes must be float32 and/or float64, got {text!r}")
    return [np.dtype(n) for n in names]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"--repeat must be at least 1, got {text}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time slopekit's activations against naive NumPy and PyTorch (CPU).",
    )
    parser.add_argument("--sizes", type=_sizes, default=None, help="comma-separated element counts (default 1e6,1e7)")
    parser.add_argument("--dtypes", type=_dtypes, default=None, help="float32,float64 (default both)")
    parser.add_argument("--repeat", type=_positive, default=None, help="fixed runs per timing (default: adaptive)")
    parser.add_argument("--quick", action="store_true", help="1e6 elements only, fewer runs (< 30 s)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch, as if it were not installed")
    parser.add_argument("--threads", type=_positive, default=None, help="slopekit.set_num_threads (default: its own)")
    return parser.parse_args(argv)


def load_torch(disabled: bool) -> tuple[Any, str]:
    """PyTorch, or None with the reason it is skipped."""
    if disabled:
        return None, "not used (--no-torch or SLOPEKIT_BENCH_NO_TORCH)"
    try:
        import torch
    except ImportError:
        return None, "not installed"
    return torch, ""


def make_plan(args: argparse.Namespace) -> Plan:
    if args.quick:
        return Plan(args.repeat, QUICK_BUDGET_S, QUICK_MIN_REPEAT, QUICK_MAX_REPEAT)
    return Plan(args.repeat, BUDGET_S, MIN_REPEAT, MAX_REPEAT)


def run(sizes: Sequence[int], dtypes: Sequence[np.dtype], torch: Any, plan: Plan) -> tuple[list[Row], list[str]]:
    """Measure every activation, pass, dtype and size; one case's arrays live at a time."""
    rows: list[Row] = []
    warnings: list[str] = []
    for size in sizes:
        for dtype in dtypes:
            case = make_case(size, dtype, torch)
            for name in ACTIVATIONS:
                for pass_ in PASSES:
                    rows.append(measure(name, pass_, case, torch, plan, warnings))
            del case
    order = {name: i for i, name in enumerate(ACTIVATIONS)}
    rows.sort(key=lambda r: (order[r.name], PASSES.index(r.pass_), r.dtype, r.size))
    return rows, warnings


def goal_rows(quick: bool) -> list[dict[str, Any]]:
    """The issue's kernel goals, measured now: dicts of ``what``, ``goal``, ``measured``, ``met``.

    ``quick``: 1e6 elements only and fewer rounds; else 1e6 and 1e7. PyTorch
    is skipped (``met`` None) when it is not installed.
    """
    sizes = [1_000_000] if quick else [1_000_000, 10_000_000]
    torch, why = load_torch(os.environ.get("SLOPEKIT_BENCH_NO_TORCH", "") not in ("", "0"))
    plan = make_plan(argparse.Namespace(quick=quick, repeat=None))
    rows, _ = run(sizes, [np.dtype(np.float32), np.dtype(np.float64)], torch, plan)
    return [goal_row(r, why) for r in rows]


def goal_row(r: Row, why_no_torch: str = "not installed") -> dict[str, Any]:
    """One `Row` as a row of the goal table."""
    call = f"{r.name}(z, out=)" if r.pass_ == "forward" else f"{r.name}.backward(da, a=a, out=)"
    what = f"{call} {r.dtype} {_size_text(r.size)}"
    goal = "no slower than PyTorch" if r.goal == 1.0 else f"at most {r.goal:g}× PyTorch"
    if r.torch_s is None:
        measured = f"{_ms(r.slopekit_s)} ms; PyTorch {why_no_torch}, skipped"
    else:
        measured = f"{r.slopekit_s / r.torch_s:.3f}× ({_ms(r.slopekit_s)} vs {_ms(r.torch_s)} ms)"
    return {"what": what, "goal": goal, "measured": measured, "met": r.met}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        slopekit.set_num_threads(args.threads)
    sizes = args.sizes or ([1_000_000] if args.quick else [1_000_000, 10_000_000])
    dtypes = args.dtypes or [np.dtype(np.float32), np.dtype(np.float64)]
    disabled = args.no_torch or os.environ.get("SLOPEKIT_BENCH_NO_TORCH", "") not in ("", "0")
    torch, why = load_torch(disabled)
    for line in machine_lines(torch, why):
        print(line)
    print()
    started = time.perf_counter()
    rows, warnings = run(sizes, dtypes, torch, make_plan(args))
    for line in table_lines(rows):
        print(line)
    judged = [r.met for r in rows if r.met is not None]
    if judged:
        print(f"\ngoals met: {sum(judged)} of {len(judged)}")
    for msg in warnings:
        print(f"warning: {msg}")
    print(f"\n(total {time.perf_counter() - started:.1f} s)")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
