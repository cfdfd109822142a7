"""Print the whole goal table of issue 6 (speed) in one run, measured now on this machine.

The rows come from the benchmark scripts next to this one, each of which
exposes ``goal_rows(quick) -> list[dict]`` with the keys ``what``, ``goal``,
``measured`` (text) and ``met`` (True, False, or None when a comparison was
skipped):

* ``activations.py``: the NumPy kernels against PyTorch (CPU);
* ``mlp.py``: one epoch of the 784-256-128-10 network against its matrix
  products, a hand-written PyTorch loop and scikit-learn;
* ``course.py``: the course's 2-4-1 network against hand-written PyTorch loops;
* and, measured here, ``import slopekit`` against ``import numpy``: the median
  over fresh interpreters of the time the import statement takes (interpreter
  start-up excluded), the two taking turns, with bytecode caches written and
  used as in an installed package (``PYTHONDONTWRITEBYTECODE`` is dropped).

A script that is missing, or fails, gives a note instead of its rows; PyTorch
and scikit-learn are optional (their rows say "skipped"). Nothing is asserted.
The machine is printed first; timings from a machine that is busy with other
work are worth little, so run it on a quiet one.

Run from the repository root::

    python benchmarks/goals.py            # the full measurements, one to three minutes
    python benchmarks/goals.py --quick    # 1e6-element kernels only (no 1e7 rows), fewer rounds

Reading the table: "measured" is slopekit's time over the other's (lower is
better) for the kernels, the epoch and the import; for scikit-learn it is how
many times faster slopekit is, and for the course network how many times the
iterations per second (higher is better). "met" compares it with the goal.
Ratios have three decimals, so that one at the goal's edge reads as such.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

#: Issue 6: ``import slopekit`` at most this many times ``import numpy``.
IMPORT_GOAL = 1.5
IMPORT_RUNS, QUICK_IMPORT_RUNS = 21, 7
#: The scripts whose ``goal_rows`` make up the table, in its order.
SCRIPTS = ("activations", "mlp", "course")


def _import_time(module: str) -> float:
    """Seconds the statement ``import module`` takes in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    # Bytecode caches on, as in an installed package: otherwise every run would compile
    # slopekit's sources (numpy's wheel ships its caches) and time the compiler.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return float(proc.stdout)


def import_rows(quick: bool) -> list[dict[str, Any]]:
    """The ``import slopekit`` row: medians over alternating fresh interpreters."""
    runs = QUICK_IMPORT_RUNS if quick else IMPORT_RUNS
    _import_time("slopekit")  # warm the file system cache and the bytecode caches
    numpy_s, slopekit_s = [], []
    for _ in range(runs):
        numpy_s.append(_import_time("numpy"))
        slopekit_s.append(_import_time("slopekit"))
    n, s = statistics.median(numpy_s), statistics.median(slopekit_s)
    ratio = s / n
    return [{
        "what": "import slopekit",
        "goal": f"at most {IMPORT_GOAL:g}× import numpy",
        "measured": f"{ratio:.3f}× ({s * 1e3:.1f} vs {n * 1e3:.1f} ms, medians of {runs})",
        "met": ratio <= IMPORT_GOAL,
    }]


def script_rows(name: str, quick: bool) -> tuple[list[dict[str, Any]], str | None]:
    """The rows of ``benchmarks/<name>.py``, or none and a note saying why."""
    if not (HERE / f"{name}.py").exists():
        return [], f"benchmarks/{name}.py is missing: its goals are not measured"
    try:
        module = importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - report and go on with the other scripts
        return [], f"benchmarks/{name}.py failed to import: {exc!r}"
    if not hasattr(module, "goal_rows"):
        return [], f"benchmarks/{name}.py has no goal_rows(quick): its goals are not measured"
    try:
        return list(module.goal_rows(quick)), None
    except Exception:  # noqa: BLE001
        return [], f"benchmarks/{name}.py goal_rows failed:\n{traceback.format_exc()}"


def machine_lines() -> list[str]:
    """The machine, from activations.py when it is there."""
    try:
        activations = importlib.import_module("activations")
        torch, why = activations.load_torch(False)
        return activations.machine_lines(torch, why)
    except Exception as exc:  # noqa: BLE001
        import platform

        import numpy as np

        import slopekit

        return [f"python {platform.python_version()}, numpy {np.__version__}, slopekit {slopekit.__version__}, "
                f"{os.cpu_count()} CPUs, slopekit threads {slopekit.get_num_threads()} "
                f"(activations.py unavailable: {exc!r})"]


def _met(met: bool | None) -> str:
    return "-" if met is None else ("yes" if met else "NO")


def table_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """A Markdown table: what, goal, measured, met."""
    lines = ["| what | goal | measured | met |", "|---|---|---|---|"]
    lines += [f"| {r['what']} | {r['goal']} | {r['measured']} | {_met(r['met'])} |" for r in rows]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1e6-element kernels only (the 1e7 rows are left out) and fewer rounds")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    for line in machine_lines():
        print(line)
    print()
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for name in SCRIPTS:
        got, note = script_rows(name, args.quick)
        rows += got
        if note:
            notes.append(note)
        sys.stdout.flush()
    rows += import_rows(args.quick)
    for line in table_lines(rows):
        print(line)
    print("\n(measured: slopekit's time over the other's, lower is better; \"faster\" and it/s rows: "
          "higher is better)")
    judged = [r["met"] for r in rows if r["met"] is not None]
    print(f"\ngoals met: {sum(judged)} of {len(judged)}" + (f" ({len(rows) - len(judged)} skipped)"
                                                             if len(judged) < len(rows) else ""))
    for note in notes:
        print(f"note: {note}")
    print(f"(total {time.perf_counter() - started:.0f} s{', --quick' if args.quick else ''})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
