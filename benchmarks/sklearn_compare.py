"""slopekit's scikit-learn estimators against MLPClassifier and MLPRegressor on scikit-learn's bundled tables.

Each table (breast-cancer, digits, iris, wine: classification; diabetes:
regression) is split once (``train_test_split(random_state=0)``, a quarter
held out, stratified for the classifications) and both libraries fit
``make_pipeline(StandardScaler(), estimator)`` with their defaults and
``random_state=0`` (``hidden_layer_sizes=(100,)``, ReLU, Adam at 0.001,
batches of ``min(200, n)``, 200 epochs or until the loss stops improving by
1e-4 for 10 epochs, L2 1e-4). The script prints the held-out score (accuracy,
or R^2 for diabetes), the fit time (the best of ``--repeat`` fits, the two
libraries taking turns) and the ratio of the times (above 1: scikit-learn is
slower), and asserts nothing. Both may stop at ``max_iter``/``epochs`` with a
ConvergenceWarning, which is silenced here (diabetes does, in both).

Run from the repository root::

    python benchmarks/sklearn_compare.py              # all five, best of 3
    python benchmarks/sklearn_compare.py --repeat 1 --epochs 5 --tables iris,wine   # a smoke test

`compare` returns the rows, for tests.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

TABLES = ("breast_cancer", "digits", "iris", "wine", "diabetes")
SEED = 0


def load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """``(X_train, X_test, y_train, y_test, is_classification)`` of one bundled table, split once."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    classification = name != "diabetes"
    parts = train_test_split(X, y, random_state=SEED, stratify=y if classification else None)
    return (*parts, classification)


def estimators(classification: bool, epochs: int) -> tuple[Any, Any]:
    """The two pipelines, defaults but for the seed (and ``epochs``, the same for both)."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from slopekit.sklearn import NetworkClassifier, NetworkRegressor

    ours = (NetworkClassifier if classification else NetworkRegressor)(epochs=epochs, random_state=SEED)
    theirs = (MLPClassifier if classification else MLPRegressor)(max_iter=epochs, random_state=SEED)
    return make_pipeline(StandardScaler(), ours), make_pipeline(StandardScaler(), theirs)


def _fit(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        return time.perf_counter() - start


def compare(tables: Sequence[str] = TABLES, *, repeat: int = 3, epochs: int = 200) -> list[dict[str, Any]]:
    """One row per table: both held-out scores, best fit times and epochs run."""
    rows = []
    for name in tables:
        X_train, X_test, y_train, y_test, classification = load(name)
        times: dict[str, float] = {"slopekit": np.inf, "sklearn": np.inf}
        models: dict[str, Any] = {}
        for _ in range(repeat):
            for key, model in zip(("slopekit", "sklearn"), estimators(classification, epochs)):
                times[key] = min(times[key], _fit(model, X_train, y_train))
                models[key] = model
        rows.append({"table": name, "metric": "accuracy" if classification else "R^2",
                     "n_train": X_train.shape[0],
                     "slopekit": models["slopekit"].score(X_test, y_test),
                     "sklearn": models["sklearn"].score(X_test, y_test),
                     "slopekit_s": times["slopekit"], "sklearn_s": times["sklearn"],
                     "slopekit_epochs": models["slopekit"][-1].n_iter_,
                     "sklearn_epochs": models["sklearn"][-1].n_iter_})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default=",".join(TABLES), help="comma-separated, of " + ", ".join(TABLES))
    parser.add_argument("--repeat", type=int, default=3, help="fits per library and table; the best time counts")
    parser.add_argument("--epochs", type=int, default=200, help="epochs / max_iter of both (default 200)")
    args = parser.parse_args(argv)
    tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        parser.error(f"unknown tables {unknown}; choose from {', '.join(TABLES)}")

    import sklearn

    import slopekit

    print(f"slopekit {slopekit.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
          f"make_pipeline(StandardScaler(), ...) with defaults, random_state={SEED}, max_iter/epochs={args.epochs}; "
          f"best of {args.repeat} fit(s)")
    print()
    header = (f"{'table':<14}{'metric':<10}{'n_train':>8}  {'slopekit':>9}{'sklearn':>9}  "
              f"{'slopekit s':>11}{'sklearn s':>10}{'ratio':>7}  {'epochs':>9}")
    print(header)
    for row in compare(tables, repeat=args.repeat, epochs=args.epochs):
        ratio = row["sklearn_s"] / row["slopekit_s"]
        print(f"{row['table']:<14}{row['metric']:<10}{row['n_train']:>8}  {row['slopekit']:>9.4f}"
              f"{row['sklearn']:>9.4f}  {row['slopekit_s']:>11.3f}{row['sklearn_s']:>10.3f}{ratio:>6.2f}×  "
              f"{row['slopekit_epochs']:>4}/{row['sklearn_epochs']:<4}")
    print()
    print("ratio: scikit-learn's fit time over slopekit's (above 1: slopekit is faster); "
          "epochs: slopekit/scikit-learn")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
