"""Time one training epoch of a slopekit Network against its matrix products, scikit-learn and PyTorch (CPU).

The network is 784-256-128-10, ReLU hidden layers and a softmax output with
cross-entropy, float32, trained by plain mini-batch SGD (batch 128, learning
rate 0.01, no momentum, no L2) on synthetic data: ``--samples`` (default
20,000) standard-normal inputs with labels from a random linear teacher. One
epoch is timed four ways:

* **matmuls**: only that epoch's matrix products, the floor of any
  implementation: per batch 3 in the forward pass and 5 in the backward pass
  (``dW`` for each layer, ``dA`` for the two hidden ones), into preallocated
  buffers, on contiguous batches;
* **slopekit**: ``net.fit(X, y, epochs=1, learning_rate=0.01, batch_size=128)``,
  including its input checks, the shuffle and everything else a call does;
* **sklearn**: ``MLPClassifier(hidden_layer_sizes=(256, 128), solver="sgd",
  momentum=0, alpha=0, batch_size=128, max_iter=1)`` fitted once (it keeps
  float32 input in float32), if scikit-learn is installed;
* **torch**: a hand-written loop over shuffled batches with ``nn.Linear``,
  ``cross_entropy`` and ``torch.optim.SGD``, if PyTorch is installed.

Each figure is the best of ``--repeat`` epochs after one warm-up epoch. NumPy's
BLAS and PyTorch may use several threads; their counts are printed. The script
prints the times and the ratios to slopekit (above 1: slopekit is slower) and
asserts nothing.

Run from the repository root::

    python benchmarks/mlp.py              # 20,000 samples, about a minute on 2 cores
    python benchmarks/mlp.py --quick      # 4,000 samples, 2 repeats
    python benchmarks/mlp.py --no-sklearn --no-torch
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np

import slopekit

SIZES = (784, 256, 128, 10)
BATCH = 128
LEARNING_RATE = 0.01
SEED = 0


def make_data(n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(SEED)
    X = rng.randn(n_samples, SIZES[0]).astype(np.float32)
    teacher = rng.randn(SIZES[0], SIZES[-1]).astype(np.float32)
    return X, np.argmax(X @ teacher, axis=1)


def best_of(repeat: int, epoch: Callable[[], object]) -> float:
    epoch()  # warm-up: first-touch of buffers, BLAS thread start, imports
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_epoch(X: np.ndarray) -> Callable[[], None]:
    """The epoch's matrix products alone, into preallocated buffers."""
    rng = np.random.RandomState(SEED)
    W = [rng.randn(n, n_prev).astype(np.float32) * 0.05 for n_prev, n in zip(SIZES[:-1], SIZES[1:])]
    A = [np.empty((BATCH, n), np.float32) for n in SIZES[1:]]
    dA = [np.empty((BATCH, n), np.float32) for n in SIZES[1:-1]]
    dW = [np.empty_like(w) for w in W]
    n = X.shape[0] - X.shape[0] % BATCH  # whole batches only: the products need fixed shapes

    def epoch() -> None:
        for start in range(0, n, BATCH):
            Xb = X[start:start + BATCH]
            np.matmul(Xb, W[0].T, out=A[0])
            np.matmul(A[0], W[1].T, out=A[1])
            np.matmul(A[1], W[2].T, out=A[2])
            np.matmul(A[2].T, A[1], out=dW[2])
            np.matmul(A[2], W[2], out=dA[1])
            np.matmul(dA[1].T, A[0], out=dW[1])
            np.matmul(dA[1], W[1], out=dA[0])
            np.matmul(dA[0].T, Xb, out=dW[0])

    return epoch


def slopekit_epoch(X: np.ndarray, y: np.ndarray) -> tuple[Callable[[], object], Callable[[], float]]:
    net = slopekit.Network(list(SIZES), "relu", "softmax", dtype=np.float32, seed=SEED)

    def epoch() -> object:
        return net.fit(X, y, epochs=1, learning_rate=LEARNING_RATE, batch_size=BATCH)

    return epoch, lambda: net.score(X, y)


def sklearn_epoch(X: np.ndarray, y: np.ndarray) -> tuple[Callable[[], object], Callable[[], float]] | str:
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return "scikit-learn is not installed (pip install scikit-learn)"
    model = MLPClassifier(hidden_layer_sizes=SIZES[1:-1], activation="relu", solver="sgd", momentum=0.0,
                          nesterovs_momentum=False, alpha=0.0, batch_size=BATCH, learning_rate_init=LEARNING_RATE,
                          max_iter=1, shuffle=True, random_state=SEED, tol=0.0)

    def epoch() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=1 is the point
            return model.fit(X, y)

    return epoch, lambda: float(model.score(X, y))


def torch_epoch(X: np.ndarray, y: np.ndarray) -> tuple[Callable[[], object], Callable[[], float]] | str:
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed (pip install torch)"
    torch.manual_seed(SEED)
    layers: list[torch.nn.Module] = []
    for n_prev, n in zip(SIZES[:-1], SIZES[1:]):
        layers += [torch.nn.Linear(n_prev, n), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def epoch() -> None:
        order = torch.randperm(Xt.shape[0])
        for start in range(0, Xt.shape[0], BATCH):
            idx = order[start:start + BATCH]
            loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def score() -> float:
        with torch.no_grad():
            return float((model(Xt).argmax(dim=1) == yt).float().mean())

    return epoch, score


def threads() -> str:
    parts = []
    try:
        from threadpoolctl import threadpool_info

        parts += [f"{info['internal_api']} {info['num_threads']} thread(s)" for info in threadpool_info()
                  if info.get("user_api") == "blas"]
    except ImportError:
        parts.append(f"BLAS threads unknown (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")
    try:
        import torch

        parts.append(f"torch {torch.__version__} {torch.get_num_threads()} thread(s)")
    except ImportError:
        pass
    return "; ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20_000, help="training samples (default 20000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed epochs per implementation (default 3)")
    parser.add_argument("--quick", action="store_true", help="4000 samples, 2 repeats")
    parser.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    args = parser.parse_args(argv)
    if args.quick:
        args.samples, args.repeat = 4000, 2
    if args.samples < BATCH or args.repeat < 1:
        parser.error(f"need --samples >= {BATCH} and --repeat >= 1")

    X, y = make_data(args.samples)
    print(f"slopekit {slopekit.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} CPU(s); {threads()}")
    print(f"one epoch of {'-'.join(map(str, SIZES))} ReLU/softmax, float32, SGD lr {LEARNING_RATE}, "
          f"batch {BATCH}, {args.samples} samples; best of {args.repeat}\n")

    contenders: dict[str, tuple[Callable[[], object], Callable[[], float] | None] | str] = {
        "matmuls": (matmul_epoch(X), None),
        "slopekit": slopekit_epoch(X, y),
        "sklearn": "skipped (--no-sklearn)" if args.no_sklearn else sklearn_epoch(X, y),
        "torch": "skipped (--no-torch)" if args.no_torch else torch_epoch(X, y),
    }
    times: dict[str, float] = {}
    accuracy: dict[str, str] = {}
    for name, entry in contenders.items():
        if isinstance(entry, str):
            continue
        epoch, score = entry
        times[name] = best_of(args.repeat, epoch)
        accuracy[name] = f"{score():.3f}" if score is not None else "-"

    print(f"{'':<10} {'epoch (ms)':>11} {'slopekit / it':>14} {'train accuracy':>15}")
    for name, entry in contenders.items():
        if isinstance(entry, str):
            print(f"{name:<10} {entry}")
            continue
        ratio = times["slopekit"] / times[name]
        print(f"{name:<10} {times[name] * 1e3:11.1f} {ratio:14.2f} {accuracy[name]:>15}")
    print(f"\n(train accuracy after {1 + args.repeat} epochs; the labels come from a linear teacher, "
          "chance is about 0.1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
