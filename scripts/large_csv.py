"""A large CSV: each parser's time and peak memory, and the peak of a whole ``slopekit train`` run on it.

Writes (once) a CSV of ``--rows`` rows and 21 columns (20 features of up to
17 significant digits and a 0/1 label, about 195 MB at the default 500,000
rows). Then:

1. loads it into a float64 matrix ``(n_rows, 20)`` and a label vector with
   each candidate parser, each in a fresh interpreter, and prints the wall
   time and the peak resident memory above that interpreter's baseline (its
   peak after importing the parser, before reading): what chose pyarrow's
   streaming reader for ``slopekit train``;
2. runs ``slopekit train --data FILE --epochs 1`` (load, split, scale, train,
   evaluate, pictures) and prints its wall time and peak resident memory,
   less the peak of the same command on the file's first 1,000 rows (the
   interpreter with numpy, pyarrow and matplotlib loaded: its own baseline).

Run: ``python scripts/large_csv.py [--rows N] [--file PATH]`` (needs pandas
and pyarrow; about a minute at the default size); ``--blocks`` measures
slopekit's reader alone at block sizes from 256 KiB to 16 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

CANDIDATES = {
    "hand-written (csv module, Python lists)": "handwritten",
    "pandas.read_csv, C engine": "pandas_c",
    "pandas.read_csv, pyarrow engine": "pandas_arrow",
    "pyarrow.csv.read_csv": "arrow",
    "pyarrow.csv.open_csv (streaming)": "arrow_stream",
    "slopekit's reader (pyarrow streaming, with checks)": "slopekit",
}

_MEASURE = r"""
import resource, sys, time
import numpy as np
kind, path = sys.argv[1], sys.argv[2]
if kind.startswith("pandas"):
    import pandas as pd
if kind.startswith("arrow") or kind == "pandas_arrow":
    import pyarrow, pyarrow.csv
if kind == "slopekit":
    import pyarrow, pyarrow.csv
    from slopekit import _data_files
    if len(sys.argv) > 3:
        _data_files._BLOCK = int(sys.argv[3])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if kind == "handwritten":
    import csv
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    values = np.array([[float(c) for c in row] for row in rows[1:]])
    X, y = values[:, :-1].copy(), values[:, -1].copy()
    del rows, values
elif kind.startswith("pandas"):
    frame = pd.read_csv(path, engine="c" if kind == "pandas_c" else "pyarrow")
    X = frame.iloc[:, :-1].to_numpy(dtype=np.float64)
    y = frame.iloc[:, -1].to_numpy()
elif kind == "arrow":
    table = pyarrow.csv.read_csv(path)
    X = np.empty((table.num_rows, table.num_columns - 1))
    for j in range(table.num_columns - 1):
        X[:, j] = table.column(j).to_numpy()
    y = table.column(table.num_columns - 1).to_numpy()
    del table
elif kind == "arrow_stream":
    reader = pyarrow.csv.open_csv(path)
    blocks = []
    for batch in reader:
        blocks.append(np.column_stack([batch.column(j).to_numpy() for j in range(batch.num_columns)]))
    values = np.concatenate(blocks)
    del blocks
    X, y = values[:, :-1].copy(), values[:, -1].copy()
    del values
else:
    data = _data_files.read_labelled(path, None)
    X, y = data.X, data.y
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{seconds:.2f} {(peak - base) / 1024:.0f} {X.shape[0]} {X.shape[1]} {float(X.sum()):.6e}")
"""


def write_csv(path: str, rows: int, seed: int = 0) -> None:
    """Twenty normal features of varied scale and offset, and a 0/1 label from a linear rule plus noise."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n_features = 20
    X = rng.standard_normal((rows, n_features)) * rng.uniform(0.5, 3, n_features) + rng.uniform(-2, 2, n_features)
    w = rng.standard_normal(n_features)
    y = ((X - X.mean(axis=0)) @ w + 0.5 * rng.standard_normal(rows) > 0).astype(int)
    with open(path, "w") as f:
        f.write(",".join([f"x{j}" for j in range(n_features)] + ["label"]) + "\n")
        for start in range(0, rows, 50_000):
            block = zip(X[start:start + 50_000].tolist(), y[start:start + 50_000].tolist())
            f.write("".join(",".join(map(repr, row)) + f",{label}\n" for row, label in block))


def whole_run(path: str, epochs: int) -> tuple[float, float, dict]:
    """``slopekit train --data path --epochs N`` in a child process: (seconds, peak RSS in MB, metrics)."""
    out = tempfile.mkdtemp(prefix="slopekit-run-")
    shutil.rmtree(out)
    command = [sys.executable, "-c", "import resource, sys; from slopekit.cli import main; status = main(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(status)",
               "train", "--data", path, "--epochs", str(epochs), "--out", out, "--no-progress"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"slopekit train failed: {result.stderr.strip()}")
    peak = float(result.stderr.strip().splitlines()[-1]) / 1024
    with open(os.path.join(out, "metrics.json")) as f:
        metrics = json.load(f)
    shutil.rmtree(out)
    return seconds, peak, metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--file", help="the CSV to write (once) and read (default: in the temporary folder)")
    parser.add_argument("--skip", action="append", default=[], help="a candidate's key to leave out")
    parser.add_argument("--epochs", type=int, default=1, help="epochs of the whole run (default 1)")
    parser.add_argument("--blocks", action="store_true", help="only slopekit's reader, at several block sizes")
    args = parser.parse_args()
    path = args.file or os.path.join(tempfile.gettempdir(), f"slopekit-{args.rows}x21.csv")
    if not os.path.exists(path):
        write_csv(path, args.rows)
    size = os.path.getsize(path) / 1e6
    print(f"{path}: {size:.0f} MB, {args.rows} rows x 21 columns; {os.cpu_count()} CPUs")
    if args.blocks:
        print(f"{'slopekit reader, block size':<52} {'seconds':>8} {'peak MB':>8} {'x file':>7}")
        for block in (1 << 18, 1 << 20, 1 << 22, 1 << 24):
            result = subprocess.run([sys.executable, "-c", _MEASURE, "slopekit", path, str(block)],
                                    capture_output=True, text=True, check=True)
            seconds, peak, *_ = result.stdout.split()
            print(f"{f'{block >> 10} KiB':<52} {float(seconds):8.2f} {float(peak):8.0f} {float(peak) / size:7.2f}")
        return
    print(f"{'parser':<52} {'seconds':>8} {'peak MB':>8} {'x file':>7}")
    for label, key in CANDIDATES.items():
        if key in args.skip:
            continue
        result = subprocess.run([sys.executable, "-c", _MEASURE, key, path], capture_output=True, text=True)
        if result.returncode != 0:
            print(f"{label:<52} failed: {result.stderr.strip().splitlines()[-1]}")
            continue
        seconds, peak, *_ = result.stdout.split()
        print(f"{label:<52} {float(seconds):8.2f} {float(peak):8.0f} {float(peak) / size:7.2f}")
    small = os.path.join(tempfile.gettempdir(), "slopekit-first-1000-rows.csv")
    with open(path) as f, open(small, "w") as g:
        g.writelines(line for _, line in zip(range(1001), f))
    _, base, _ = whole_run(small, args.epochs)
    seconds, peak, metrics = whole_run(path, args.epochs)
    print()
    print(f"slopekit train --data FILE --epochs {args.epochs}: {seconds:.1f} s (training {metrics['seconds']:.1f} s), "
          f"peak {peak:.0f} MB; on the first 1,000 rows {base:.0f} MB; above that baseline {peak - base:.0f} MB "
          f"= {(peak - base) / size:.2f} x the file; held-out accuracy {metrics['test_accuracy']:.3f}")


if __name__ == "__main__":
    main()
