"""Time full-batch training of the course's 2-4-1 network: slopekit against hand-written PyTorch and NumPy loops.

The network is the course's ("Planar data classification with one hidden
layer"): 2 inputs, 4 tanh hidden units, 1 sigmoid output with binary
cross-entropy, trained by full-batch gradient descent (learning rate 1.2) on
`slopekit.datasets.planar_flower` (400 samples), from ``randn * 0.01`` weights.
Each contender runs ``--iterations`` steps:

* **slopekit**: ``Network([2, 4, 1], "tanh", "sigmoid", init="small", seed=2)
  .fit(X, y, epochs=iterations, learning_rate=1.2)``, one call, which also
  checks its input, records the loss of every epoch and watches for divergence;
* **torch**: the idiomatic hand-written loop, ``nn.Sequential(nn.Linear(2, 4),
  nn.Tanh(), nn.Linear(4, 1))`` with ``BCEWithLogitsLoss`` and
  ``torch.optim.SGD``: ``zero_grad``, forward, loss, ``backward``, ``step``;
* **torch lean**: the leanest hand-written loop we know: four leaf tensors,
  ``addmm``, ``tanh``, ``binary_cross_entropy_with_logits``, ``backward``, and
  an in-place ``sub_`` per parameter under ``no_grad``;
* both PyTorch loops again with ``torch.set_num_threads(1)`` (when PyTorch
  has more threads): for tensors this small one thread is often faster, and
  far faster on a machine busy with other work;
* **numpy (course)**: the course's own NumPy code (column samples,
  ``np.dot``, new arrays on every step, cost by ``np.log``), for scale.

Neither PyTorch loop reads its loss back (no ``.item()``), which favours them:
slopekit hands back every epoch's loss. The issue's goal compares slopekit's
iterations per second with the fastest of the PyTorch loops. The contenders
take turns, each round timing one run of each after a warm-up run, and each
figure is the best over ``--repeat`` rounds, so that load from elsewhere on the
machine hits all alike. It prints the machine (CPUs, versions, thread counts),
a table and the goal; it asserts nothing.

Run from the repository root::

    python benchmarks/course.py               # float64 (the course's), 2,000 iterations, 5 rounds
    python benchmarks/course.py --quick       # 500 iterations, 5 rounds
    python benchmarks/course.py --dtype float32 --no-torch

`goal_rows` gives the goal as rows for ``benchmarks/goals.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import slopekit
from slopekit import datasets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp import machine_line  # noqa: E402  (the same machine details as the epoch benchmark)

LEARNING_RATE = 1.2
HIDDEN = 4
ITERATIONS, QUICK_ITERATIONS = 2000, 500
REPEAT, QUICK_REPEAT = 5, 5
#: The issue's goal: at least this many times the iterations per second of a hand-written PyTorch loop.
GOAL_TORCH = 1.5


def slopekit_run(X: np.ndarray, y: np.ndarray, dtype: Any) -> Callable[[int], object]:
    def run(iterations: int) -> object:
        net = slopekit.Network([2, HIDDEN, 1], "tanh", "sigmoid", init="small", seed=2, dtype=dtype)
        return net.fit(X, y, epochs=iterations, learning_rate=LEARNING_RATE)

    return run


def course_numpy_run(X: np.ndarray, y: np.ndarray, dtype: Any) -> Callable[[int], object]:
    """The course's loop: samples as columns, new arrays every step."""
    Xc, Yc = X.T.astype(dtype), y.reshape(1, -1).astype(dtype)

    def run(iterations: int) -> object:
        np.random.seed(2)
        W1, b1 = (np.random.randn(HIDDEN, 2) * 0.01).astype(dtype), np.zeros((HIDDEN, 1), dtype)
        W2, b2 = (np.random.randn(1, HIDDEN) * 0.01).astype(dtype), np.zeros((1, 1), dtype)
        m = Xc.shape[1]
        for _ in range(iterations):
            A1 = np.tanh(np.dot(W1, Xc) + b1)
            A2 = 1 / (1 + np.exp(-(np.dot(W2, A1) + b2)))
            cost = -np.sum(Yc * np.log(A2) + (1 - Yc) * np.log(1 - A2)) / m  # noqa: F841 - the course prints it
            dZ2 = A2 - Yc
            dW2, db2 = np.dot(dZ2, A1.T) / m, np.sum(dZ2, axis=1, keepdims=True) / m
            dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))
            dW1, db1 = np.dot(dZ1, Xc.T) / m, np.sum(dZ1, axis=1, keepdims=True) / m
            W1, b1 = W1 - LEARNING_RATE * dW1, b1 - LEARNING_RATE * db1
            W2, b2 = W2 - LEARNING_RATE * dW2, b2 - LEARNING_RATE * db2
        return W1, b1, W2, b2

    return run


def torch_runs(X: np.ndarray, y: np.ndarray, dtype: Any) -> dict[str, Callable[[int], object]] | str:
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed (pip install torch)"
    tdtype = torch.float32 if np.dtype(dtype) == np.float32 else torch.float64
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=dtype))
    Yt = torch.from_numpy(y.astype(dtype).reshape(-1, 1))

    def idiomatic(iterations: int) -> object:
        torch.manual_seed(2)
        model = torch.nn.Sequential(torch.nn.Linear(2, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, 1)).to(tdtype)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
        for _ in range(iterations):
            optimizer.zero_grad()
            loss = loss_fn(model(Xt), Yt)
            loss.backward()
            optimizer.step()
        return model

    def lean(iterations: int) -> object:
        gen = torch.Generator().manual_seed(2)
        W1 = (torch.randn(HIDDEN, 2, generator=gen, dtype=tdtype) * 0.01).requires_grad_()
        W2 = (torch.randn(1, HIDDEN, generator=gen, dtype=tdtype) * 0.01).requires_grad_()
        b1 = torch.zeros(HIDDEN, dtype=tdtype, requires_grad=True)
        b2 = torch.zeros(1, dtype=tdtype, requires_grad=True)
        params = (W1, b1, W2, b2)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        for _ in range(iterations):
            z = torch.addmm(b2, torch.tanh(torch.addmm(b1, Xt, W1.t())), W2.t())
            bce(z, Yt).backward()
            with torch.no_grad():
                for p in params:
                    p.sub_(p.grad, alpha=LEARNING_RATE)
                    p.grad = None
        return params

    def one_thread(run: Callable[[int], object]) -> Callable[[int], object]:
        def wrapped(iterations: int) -> object:
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return run(iterations)
            finally:
                torch.set_num_threads(before)

        return wrapped

    runs = {"torch": idiomatic, "torch lean": lean}
    if torch.get_num_threads() > 1:  # tiny tensors: one thread can be faster, above all on a busy machine
        runs.update({"torch 1 thread": one_thread(idiomatic), "torch lean 1 thread": one_thread(lean)})
    return runs


def measure(iterations: int, repeat: int, dtype: Any = np.float64, torch: bool = True,
            numpy: bool = True) -> tuple[dict[str, float], dict[str, str]]:
    """Best seconds per iteration for each contender over ``repeat`` interleaved rounds; and skip notes."""
    X, y = datasets.planar_flower()
    runs: dict[str, Callable[[int], object]] = {"slopekit": slopekit_run(X, y, dtype)}
    skipped: dict[str, str] = {}
    found = torch_runs(X, y, dtype) if torch else "skipped (--no-torch)"
    if isinstance(found, str):
        skipped["torch"] = found
    else:
        runs.update(found)
    if numpy:
        runs["numpy (course)"] = course_numpy_run(X, y, dtype)
    best = {name: float("inf") for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            run(max(1, iterations // 10))  # warm-up after the switch
            start = time.perf_counter()
            run(iterations)
            best[name] = min(best[name], (time.perf_counter() - start) / iterations)
    return best, skipped


def rows_from(per_iteration: dict[str, float], skipped: dict[str, str], dtype: Any = np.float64
              ) -> list[dict[str, Any]]:
    what = f"the course's 2-4-1 network, 400 samples, full batch, {np.dtype(dtype).name}"
    goal = f"at least {GOAL_TORCH:g}× the iterations per second of a hand-written PyTorch loop"
    torch_names = [name for name in per_iteration if name.startswith("torch")]
    if not torch_names:
        return [{"what": what, "goal": goal, "measured": skipped.get("torch", "PyTorch skipped"), "met": None}]
    fastest = min(torch_names, key=per_iteration.__getitem__)
    ratio = per_iteration[fastest] / per_iteration["slopekit"]
    measured = (f"{ratio:.3f}× {fastest} ({1 / per_iteration['slopekit']:,.0f} vs "
                f"{1 / per_iteration[fastest]:,.0f} it/s)")
    return [{"what": what, "goal": goal, "measured": measured, "met": ratio >= GOAL_TORCH}]


def goal_rows(quick: bool) -> list[dict[str, Any]]:
    """The issue's goal for this network, measured now: ``what``, ``goal``, ``measured``, ``met``."""
    per_iteration, skipped = measure(QUICK_ITERATIONS if quick else ITERATIONS, QUICK_REPEAT if quick else REPEAT,
                                     numpy=False)
    return rows_from(per_iteration, skipped)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=ITERATIONS,
                        help=f"gradient-descent steps per timed run (default {ITERATIONS})")
    parser.add_argument("--repeat", type=int, default=REPEAT, help=f"timed rounds (default {REPEAT})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ITERATIONS} iterations, {QUICK_REPEAT} rounds")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="the dtype of every contender (default float64, the course's)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    args = parser.parse_args(argv)
    if args.quick:
        args.iterations, args.repeat = QUICK_ITERATIONS, QUICK_REPEAT
    if args.iterations < 1 or args.repeat < 1:
        parser.error("need --iterations >= 1 and --repeat >= 1")
    dtype = np.dtype(args.dtype)

    print(machine_line())
    print(f"the course's 2-{HIDDEN}-1 tanh/sigmoid network, planar flower (400 samples), full batch, "
          f"lr {LEARNING_RATE}, {dtype.name}; {args.iterations} iterations, best of {args.repeat} interleaved "
          "rounds\n")
    per_iteration, skipped = measure(args.iterations, args.repeat, dtype, torch=not args.no_torch)
    print(f"{'':<20} {'us / iteration':>15} {'iterations / s':>15} {'slopekit speed-up':>18}")
    for name, seconds in per_iteration.items():
        print(f"{name:<20} {seconds * 1e6:15.1f} {1 / seconds:15,.0f} {seconds / per_iteration['slopekit']:17.2f}×")
    for name, why in skipped.items():
        print(f"{name:<20} {why}")
    print()
    for row in rows_from(per_iteration, skipped, dtype):
        met = {True: "met", False: "NOT met", None: "skipped"}[row["met"]]
        print(f"goal: {row['goal']}: {row['measured']} ({met})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
