"""``slopekit train --data FILE --target COLUMN`` with every default, on scikit-learn's bundled tables.

Writes breast-cancer, digits, iris (its target as species names), wine and
diabetes to CSV files in a temporary folder, runs the real command on each
(``python -m slopekit train ...``), and prints what it inferred, the held-out
score and the time. For diabetes, a regression, it also prints the R² of
scikit-learn's ``LinearRegression`` on the same split (the command holds out
the first ``round(0.2 n)`` rows of ``RandomState(seed).permutation(n)``).
``tests/test_cli_tables.py`` asserts the goals printed here.

Run: ``python scripts/sklearn_tables.py`` (needs scikit-learn; about 20 s).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

#: name: (target column, the issue's goal on held-out rows)
TABLES = {
    "breast_cancer": ("target", "accuracy >= 0.95"),
    "digits": ("target", "accuracy >= 0.95"),
    "iris": ("species", "accuracy >= 0.93"),
    "wine": ("target", "-"),
    "diabetes": ("target", "R^2 >= LinearRegression's - 0.05"),
}


def write(folder: str, name: str) -> tuple[str, np.ndarray, np.ndarray]:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    X, y = bunch.data, bunch.target
    if name == "iris":
        y = np.asarray(bunch.target_names)[bunch.target]
    path = os.path.join(folder, f"{name}.csv")
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([*bunch.feature_names, TABLES[name][0]])
        for row, label in zip(X.tolist(), y.tolist()):
            writer.writerow([*map(repr, row), label])
    return path, X, y


def linear_regression_r2(X: np.ndarray, y: np.ndarray, seed: int = 0, fraction: float = 0.2) -> float:
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score

    order = np.random.RandomState(seed).permutation(len(X))
    n_test = int(round(fraction * len(X)))
    test, train = order[:n_test], order[n_test:]
    return float(r2_score(y[test], LinearRegression().fit(X[train], y[train]).predict(X[test])))


def main() -> None:
    folder = tempfile.mkdtemp(prefix="slopekit-tables-")
    print(f"{'table':<14} {'rows':>5} {'features':>8}  {'inferred':<62} {'held out':>9}  {'goal':<34} {'seconds':>7}")
    for name, (target, goal) in TABLES.items():
        path, X, y = write(folder, name)
        out = os.path.join(folder, f"run-{name}")
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "slopekit", "train", "--data", path, "--target", target,
                                 "--out", out, "--no-progress"], capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"{name}: {result.stderr.strip()}")
        inferred = next(line for line in result.stdout.splitlines() if line.startswith("target "))
        inferred = inferred.split(": ", 1)[1]
        inferred = inferred[:inferred.index(" output") + len(" output")]
        metrics = json.load(open(os.path.join(out, "metrics.json")))
        if "test_r2" in metrics:
            score = f"R^2 {metrics['test_r2']:.3f}"
            goal = f"{goal} = {linear_regression_r2(X, y) - 0.05:.3f}"
        else:
            score = f"{metrics['test_accuracy']:.1%}"
        print(f"{name:<14} {len(X):>5} {X.shape[1]:>8}  {inferred[:62]:<62} {score:>9}  {goal:<34} {seconds:>7.1f}")
    print(f"(the CSV files and runs are in {folder})")


if __name__ == "__main__":
    main()
