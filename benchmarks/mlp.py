"""Time one training epoch of a slopekit Network against its matrix products, scikit-learn and PyTorch (CPU).

The network is 784-256-128-10, ReLU hidden layers and a softmax output with
cross-entropy, float32, trained by plain mini-batch SGD (batch 128, learning
rate 0.01, no momentum, no L2) on synthetic data: ``--samples`` (default
20,000) standard-normal inputs with labels from a random linear teacher. One
epoch is timed four ways:

* **matmuls**: only that epoch's matrix products, the floor of any
  implementation: per batch 3 in the forward pass and 5 in the backward pass
  (``dW`` for each layer, ``dA`` for the two hidden ones), into preallocated
  buffers, on contiguous batches, the last one smaller when the batch size
  does not divide the samples, as in the epoch itself;
* **slopekit**: ``net.fit(X, y, epochs=1, learning_rate=0.01, batch_size=128)``,
  including its input checks, the shuffle and everything else a call does;
* **sklearn**: ``MLPClassifier(hidden_layer_sizes=(256, 128), solver="sgd",
  momentum=0, alpha=0, batch_size=128, max_iter=1)`` fitted once (it keeps
  float32 input in float32), if scikit-learn is installed;
* **on torch**: slopekit's Network on PyTorch tensors (its generic engine);
* **torch**: a hand-written loop over shuffled batches with ``nn.Linear``,
  ``cross_entropy`` and ``torch.optim.SGD``, if PyTorch is installed.

The four take turns: each round runs two epochs of each and times the second
(the first warms up buffers and lets the previous library's idle threads stop
spinning), and each figure is the best over ``--repeat`` rounds, so that a
burst of load from elsewhere on the machine hits all of them alike and the
ratios stay meaningful. NumPy's BLAS and PyTorch may use several threads;
their counts are printed. The script prints the times and the ratios to
slopekit (above 1: slopekit is slower), then the issue's goals for this
network, and asserts nothing.

Run from the repository root::

    python benchmarks/mlp.py              # 20,000 samples, about a minute on 2 cores
    python benchmarks/mlp.py --quick      # 4,000 samples, 5 rounds
    python benchmarks/mlp.py --no-sklearn --no-torch

`goal_rows` gives the goals as rows for ``benchmarks/goals.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import slopekit

SIZES = (784, 256, 128, 10)
BATCH = 128
LEARNING_RATE = 0.01
SEED = 0
SAMPLES, QUICK_SAMPLES = 20_000, 4000
REPEAT, QUICK_REPEAT = 5, 5

#: The issue's goals: slopekit's epoch at most this many times the matmuls' and torch's; sklearn's at least
#: this many times slopekit's.
GOAL_MATMULS, GOAL_TORCH, GOAL_SKLEARN = 1.25, 1.2, 2.0
#: Issue 11: slopekit's epoch on PyTorch tensors (its generic engine) at most this many times the torch loop's.
GOAL_ON_TORCH = 1.3

Contender = tuple[Callable[[], object], Callable[[], float] | None]


def make_data(n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(SEED)
    X = rng.randn(n_samples, SIZES[0]).astype(np.float32)
    teacher = rng.randn(SIZES[0], SIZES[-1]).astype(np.float32)
    return X, np.argmax(X @ teacher, axis=1)


def matmul_epoch(X: np.ndarray) -> Callable[[], None]:
    """The epoch's matrix products alone, into preallocated buffers (views of them for a smaller last batch)."""
    rng = np.random.RandomState(SEED)
    W = [rng.randn(n, n_prev).astype(np.float32) * 0.05 for n_prev, n in zip(SIZES[:-1], SIZES[1:])]
    A = [np.empty((BATCH, n), np.float32) for n in SIZES[1:]]
    dA = [np.empty((BATCH, n), np.float32) for n in SIZES[1:-1]]
    dW = [np.empty_like(w) for w in W]
    n = X.shape[0]

    def epoch() -> None:
        for start in range(0, n, BATCH):
            Xb = X[start:start + BATCH]
            rows = Xb.shape[0]
            a = A if rows == BATCH else [x[:rows] for x in A]
            da = dA if rows == BATCH else [x[:rows] for x in dA]
            np.matmul(Xb, W[0].T, out=a[0])
            np.matmul(a[0], W[1].T, out=a[1])
            np.matmul(a[1], W[2].T, out=a[2])
            np.matmul(a[2].T, a[1], out=dW[2])
            np.matmul(a[2], W[2], out=da[1])
            np.matmul(da[1].T, a[0], out=dW[1])
            np.matmul(da[1], W[1], out=da[0])
            np.matmul(da[0].T, Xb, out=dW[0])

    return epoch


def slopekit_epoch(X: np.ndarray, y: np.ndarray) -> Contender:
    net = slopekit.Network(list(SIZES), "relu", "softmax", dtype=np.float32, seed=SEED)

    def epoch() -> object:
        return net.fit(X, y, epochs=1, learning_rate=LEARNING_RATE, batch_size=BATCH)

    return epoch, lambda: net.score(X, y)


def slopekit_on_torch_epoch(X: np.ndarray, y: np.ndarray) -> Contender | str:
    """slopekit's Network trained on PyTorch tensors: the generic (array-API) engine, on the CPU."""
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed (pip install torch)"
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    net = slopekit.Network(list(SIZES), "relu", "softmax", dtype=np.float32, seed=SEED)

    def epoch() -> object:
        return net.fit(Xt, yt, epochs=1, learning_rate=LEARNING_RATE, batch_size=BATCH)

    return epoch, lambda: net.score(Xt, yt)


def sklearn_epoch(X: np.ndarray, y: np.ndarray) -> Contender | str:
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


def torch_epoch(X: np.ndarray, y: np.ndarray) -> Contender | str:
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed (pip install torch)"
    torch.manual_seed(SEED)
    layers: list[Any] = []
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
    try:
        import sklearn

        parts.append(f"scikit-learn {sklearn.__version__}")
    except ImportError:
        pass
    return "; ".join(parts)


def machine_line() -> str:
    return (f"slopekit {slopekit.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
            f"{platform.machine()}, {os.cpu_count()} CPU(s); {threads()}")


def measure(n_samples: int, repeat: int, sklearn: bool = True, torch: bool = True
            ) -> tuple[dict[str, float], dict[str, str], dict[str, str]]:
    """Best epoch time per contender over ``repeat`` interleaved rounds; also accuracies and skip notes."""
    X, y = make_data(n_samples)
    contenders: dict[str, Contender | str] = {
        "matmuls": (matmul_epoch(X), None),
        "slopekit": slopekit_epoch(X, y),
        "sklearn": sklearn_epoch(X, y) if sklearn else "skipped (--no-sklearn)",
        "torch": torch_epoch(X, y) if torch else "skipped (--no-torch)",
        "on torch": slopekit_on_torch_epoch(X, y) if torch else "skipped (--no-torch)",
    }
    skipped = {name: entry for name, entry in contenders.items() if isinstance(entry, str)}
    running = {name: entry for name, entry in contenders.items() if not isinstance(entry, str)}
    times = {name: float("inf") for name in running}
    for _ in range(repeat):
        for name, (epoch, _) in running.items():
            epoch()  # warm-up after the switch: the other library's idle threads stop spinning
            start = time.perf_counter()
            epoch()
            times[name] = min(times[name], time.perf_counter() - start)
    accuracy = {name: f"{score():.3f}" if score is not None else "-" for name, (_, score) in running.items()}
    return times, accuracy, skipped


def goal_rows(quick: bool) -> list[dict[str, Any]]:
    """The issue's goals for this network, measured now: ``what``, ``goal``, ``measured``, ``met``."""
    times, _, skipped = measure(QUICK_SAMPLES if quick else SAMPLES, QUICK_REPEAT if quick else REPEAT)
    return rows_from(times, skipped)


def rows_from(times: dict[str, float], skipped: dict[str, str]) -> list[dict[str, Any]]:
    sk = times["slopekit"]
    what = f"one epoch {'-'.join(map(str, SIZES))} ReLU/softmax, batch {BATCH}, float32, SGD"
    rows = [{"what": what, "goal": f"at most {GOAL_MATMULS:g}× its matrix products in NumPy",
             "measured": f"{sk / times['matmuls']:.3f}× matmuls", "met": sk / times["matmuls"] <= GOAL_MATMULS}]
    if "torch" in times:
        ratio = sk / times["torch"]
        rows.append({"what": what, "goal": f"at most {GOAL_TORCH:g}× a hand-written PyTorch loop",
                     "measured": f"{ratio:.3f}× torch", "met": ratio <= GOAL_TORCH})
    else:
        rows.append({"what": what, "goal": f"at most {GOAL_TORCH:g}× a hand-written PyTorch loop",
                     "measured": skipped.get("torch", "PyTorch skipped"), "met": None})
    goal = f"slopekit on PyTorch tensors at most {GOAL_ON_TORCH:g}× a hand-written PyTorch loop"
    if "torch" in times and "on torch" in times:
        ratio = times["on torch"] / times["torch"]
        rows.append({"what": what, "goal": goal, "measured": f"{ratio:.3f}× torch", "met": ratio <= GOAL_ON_TORCH})
    else:
        rows.append({"what": what, "goal": goal, "measured": skipped.get("on torch", "PyTorch skipped"),
                     "met": None})
    if "sklearn" in times:
        speedup = times["sklearn"] / sk
        rows.append({"what": what, "goal": f"at least {GOAL_SKLEARN:g}× faster than scikit-learn MLPClassifier",
                     "measured": f"{speedup:.3f}× faster", "met": speedup >= GOAL_SKLEARN})
    else:
        rows.append({"what": what, "goal": f"at least {GOAL_SKLEARN:g}× faster than scikit-learn MLPClassifier",
                     "measured": skipped.get("sklearn", "scikit-learn skipped"), "met": None})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=SAMPLES, help=f"training samples (default {SAMPLES})")
    parser.add_argument("--repeat", type=int, default=REPEAT, help=f"timed rounds (default {REPEAT})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SAMPLES} samples, {QUICK_REPEAT} rounds")
    parser.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    args = parser.parse_args(argv)
    if args.quick:
        args.samples, args.repeat = QUICK_SAMPLES, QUICK_REPEAT
    if args.samples < BATCH or args.repeat < 1:
        parser.error(f"need --samples >= {BATCH} and --repeat >= 1")

    print(machine_line())
    print(f"one epoch of {'-'.join(map(str, SIZES))} ReLU/softmax, float32, SGD lr {LEARNING_RATE}, "
          f"batch {BATCH}, {args.samples} samples; best of {args.repeat} interleaved rounds\n")
    times, accuracy, skipped = measure(args.samples, args.repeat, not args.no_sklearn, not args.no_torch)

    print(f"{'':<10} {'epoch (ms)':>11} {'slopekit / it':>14} {'train accuracy':>15}")
    for name in ("matmuls", "slopekit", "sklearn", "torch", "on torch"):
        if name in skipped:
            print(f"{name:<10} {skipped[name]}")
            continue
        ratio = times["slopekit"] / times[name]
        print(f"{name:<10} {times[name] * 1e3:11.1f} {ratio:14.2f} {accuracy[name]:>15}")
    print(f"\n(train accuracy after {2 * args.repeat} epochs; the labels come from a linear teacher, "
          "chance is about 0.1)\n")
    for row in rows_from(times, skipped):
        met = {True: "met", False: "NOT met", None: "skipped"}[row["met"]]
        print(f"goal: {row['goal']}: {row['measured']} ({met})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
