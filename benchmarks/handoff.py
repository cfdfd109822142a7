"""What handing work to another thread costs, and why 1e6-element light kernels stay on one thread.

slopekit's pool (`slopekit.set_num_threads`) splits large arrays into blocks
and runs them on several threads; NumPy releases the GIL inside each ufunc
call. This script measures, in one process:

* **round trip**: `slopekit._threads.parallel` with two threads and two
  blocks of no work, the calling thread waiting until a pool thread has taken
  the second: the fixed cost of waking a pool thread and waiting for it;
* **one pass over 1e6 elements** (``np.add(x, 1, out=)``, float32 and
  float64) in one piece on the calling thread, and split in two halves, one
  on the calling thread and one on a pool thread;
* the same for ``np.exp``, a pass that costs several times more.

A split pays only when half a pass saves more than the round trip costs.
For cheap passes over arrays that fit in the cache (1e6 float32 is 4 MB)
it does not, which is why slopekit runs its light kernels (relu, leaky_relu,
``a(1-a)``, ``1-a^2``) whole below 6 MiB. Each figure is the best and the
median of ``--repeat`` runs, in microseconds; the script asserts nothing.

Run from the repository root::

    python benchmarks/handoff.py
    python benchmarks/handoff.py --repeat 2000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

import slopekit
from slopekit import _threads


def timings(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best and median of ``repeat`` runs of ``fn``, in microseconds."""
    fn()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return min(runs) * 1e6, statistics.median(runs) * 1e6


def round_trip() -> None:
    """Two blocks of no work, where the calling thread waits until a pool thread has taken the second."""
    taken = threading.Event()

    def work(indices) -> None:
        for i in indices:
            if i == 0:
                taken.wait()  # releases the GIL; the pool thread must wake and take block 1
            else:
                taken.set()

    _threads.parallel(work, 2)


def split(op: Callable[..., object], x: np.ndarray, out: np.ndarray) -> Callable[[], None]:
    """``op`` over ``x`` in two halves: one on the calling thread, one on a pool thread."""
    half = x.size // 2
    parts = [(x[:half], out[:half]), (x[half:], out[half:])]

    def work(indices) -> None:
        for i in indices:
            op(*parts[i])

    return lambda: _threads.parallel(work, 2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=500, help="runs per figure (default 500)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    slopekit.set_num_threads(2)
    print(f"slopekit {slopekit.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}, "
          f"{_threads._cpu_count()} usable CPU(s); best / median of {args.repeat} runs, microseconds")
    best, median = timings(round_trip, args.repeat)
    print(f"round trip to a pool thread (no work):          {best:8.1f} / {median:8.1f}")
    ops = {"add": lambda a, b: np.add(a, 1.0, out=b), "exp": lambda a, b: np.exp(a, out=b)}
    for dtype in (np.float32, np.float64):
        x = np.random.default_rng(0).standard_normal(10**6).astype(dtype)
        out = np.empty_like(x)
        for name, op in ops.items():
            whole = timings(lambda: op(x, out), args.repeat)
            halves = timings(split(op, x, out), args.repeat)
            print(f"{name} 1e6 {np.dtype(dtype).name}: one thread {whole[0]:8.1f} / {whole[1]:8.1f},"
                  f" two halves {halves[0]:8.1f} / {halves[1]:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
