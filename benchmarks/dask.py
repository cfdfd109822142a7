"""Seconds per full-batch step of a slopekit Network on a Dask array against the same step in memory.

The data: ``--rows`` (default 2,000,000) samples of 50 standard-normal
features, float32, with 0/1 labels from a random linear teacher, in chunks of
``--chunk`` rows (default 100,000), made by Dask on the workers and persisted
in their memory (as a user who trains for many epochs would); the in-memory
run gets the same numbers computed into this process. The network is 50-64-1, tanh, sigmoid
output, plain gradient descent. Timed:

* **in memory**: ``net.fit(X, y, epochs=E, learning_rate=0.1)`` on the NumPy
  arrays, per epoch;
* **dask, k workers**: the same ``fit`` on the Dask arrays with a
  ``distributed.LocalCluster(n_workers=k, threads_per_worker=1)`` on this
  machine, per epoch (one pass over the chunks and one step; the last epoch
  adds a loss-only pass, so ``E + 1`` passes are divided by ``E``);
* **overhead**: the same fit on a Dask array with the same number of chunks
  but 16 rows each, per epoch: what a step costs that is not arithmetic
  (building the graph, the scheduler, sending the parameters, the tree of
  additions, bringing the gradients back);
* **caller memory**: the growth of this process's resident memory during the
  Dask fit (the data live in the workers).

Each figure is the best of ``--repeat`` fits. The script prints the table, the
ratios to the in-memory step, and the issue's goals (a step at most 1.5× the
in-memory one when the data fit, overhead at most 0.1 s), and asserts
nothing.

Run from the repository root::

    python benchmarks/dask.py                    # 2e6 x 50, about a minute on 2 cores
    python benchmarks/dask.py --rows 200000 --chunk 20000 --workers 1
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# This file's own name would shadow the dask package: import it from elsewhere than this folder.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != os.path.dirname(os.path.abspath(__file__))]

import numpy as np  # noqa: E402

import slopekit  # noqa: E402

FEATURES = 50
GOAL_RATIO, GOAL_OVERHEAD = 1.5, 0.1


def _rss() -> int:
    """This process's resident memory in bytes (Linux), else 0."""
    try:
        with open(f"/proc/{os.getpid()}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        return 0


def _data(rows: int, chunk: int) -> tuple:
    """The data as Dask arrays made on the workers (the same numbers on any cluster), persisted there."""
    import dask.array as da
    from distributed import wait

    X = da.random.RandomState(0).standard_normal((rows, FEATURES), chunks=(chunk, FEATURES)).astype(np.float32)
    y = (X @ np.random.RandomState(1).standard_normal(FEATURES).astype(np.float32) > 0).astype(np.int64)
    X, y = X.persist(), y.persist()
    wait([X, y])
    return X, y


def _per_epoch(X, y, epochs: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        net = slopekit.Network([FEATURES, 64, 1], "tanh", seed=0)
        start = time.perf_counter()
        net.fit(X, y, epochs=epochs, learning_rate=0.1)
        best = min(best, (time.perf_counter() - start) / epochs)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    args = parser.parse_args(argv)
    import dask.array as da
    from distributed import Client, LocalCluster

    print(f"{args.rows} x {FEATURES} float32 ({args.rows * FEATURES * 4 / 2**20:.0f} MiB) in chunks of "
          f"{args.chunk} rows; network {FEATURES}-64-1 tanh/sigmoid, gd, {args.epochs} epochs per fit, "
          f"best of {args.repeat}")
    memory = None
    rows = []
    n_chunks = -(-args.rows // args.chunk)
    for workers in [int(w) for w in args.workers.split(",") if w]:
        with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0",
                          processes=True) as cluster, Client(cluster):
            Xd, yd = _data(args.rows, args.chunk)
            if memory is None:  # the same numbers, in this process
                X, y = Xd.compute(), yd.compute()
                memory = _per_epoch(X, y, args.epochs, args.repeat)
                rows.append(("in memory", memory, None, None))
                del X, y
            before = _rss()
            step = _per_epoch(Xd, yd, args.epochs, args.repeat)
            growth = _rss() - before
            tiny = da.from_array(np.zeros((16 * n_chunks, FEATURES), np.float32), chunks=(16, FEATURES)).persist()
            tiny_y = da.from_array(np.arange(16 * n_chunks) % 2, chunks=16).persist()
            overhead = _per_epoch(tiny, tiny_y, args.epochs, args.repeat)
            del Xd, yd, tiny, tiny_y
        rows.append((f"dask, {workers} worker{'s' if workers > 1 else ''}", step, overhead, growth))
    print(f"\n{'':<18}{'s/step':>10}{'x memory':>10}{'overhead s':>12}{'caller MiB':>12}")
    for name, seconds, overhead, growth in rows:
        extra = "" if overhead is None else f"{seconds / memory:>10.2f}{overhead:>12.3f}{growth / 2**20:>12.1f}"
        print(f"{name:<18}{seconds:>10.3f}{extra}")
    print(f"\ngoal: a step at most {GOAL_RATIO}x the in-memory step; overhead at most {GOAL_OVERHEAD} s per step")
    for name, seconds, overhead, _ in rows[1:]:
        met = seconds <= GOAL_RATIO * memory and overhead <= GOAL_OVERHEAD
        print(f"  {name}: {seconds / memory:.2f}x, {overhead:.3f} s -> {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
