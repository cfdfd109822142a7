"""On a machine with CUDA: slopekit's activations and Network on CUDA tensors, checked and timed.

Run from the repository root on a GPU machine::

    python scripts/gpu_check.py            # checks, then timings
    python scripts/gpu_check.py --quick    # smaller sizes

It prints, for PyTorch CUDA tensors (and CuPy arrays if CuPy is installed):

1. every activation's value and slope on the GPU against slopekit's NumPy
   result for the same float64 input (the largest relative difference);
2. the Network: 100 epochs of full-batch gradient descent and 5 epochs of
   mini-batch Adam on the course's flower, on CUDA float64, against the same
   training on NumPy (largest relative difference of the parameters);
3. one epoch of the 784-256-128-10 ReLU/softmax network at batch 128 in
   float32 on the GPU, slopekit's Network against a hand-written PyTorch loop
   on the same GPU (best of a few epochs each).

Nothing here is needed by the test suite; on a machine without CUDA it says so
and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import slopekit
from slopekit import datasets


def relative(a: np.ndarray, b: np.ndarray) -> float:
    scale = np.maximum(np.abs(b), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(a - b) / scale)) if a.size else 0.0


def check_activations(to_device, to_host, label: str) -> None:
    z = np.linspace(-30.0, 30.0, 10_001)
    worst = []
    for name in slopekit.names():
        g = slopekit.get(name)
        zz = z.reshape(-1, 1) if not g.elementwise else z
        on = to_device(zz)
        a = g(on)
        gaps = [relative(to_host(a), g(zz))]
        if g.elementwise:
            gaps.append(relative(to_host(g.derivative(on)), g.derivative(zz)))
        worst.append((max(gaps), name))
    worst.sort(reverse=True)
    print(f"{label}: activations, float64, value and slope vs NumPy: worst relative gap "
          f"{worst[0][0]:.2e} ({worst[0][1]}); all {len(worst)} checked")


def check_network(torch, device: str) -> None:
    X, y = datasets.planar_flower()
    for batch, optimizer, epochs in ((None, "gd", 100), (32, "adam", 5)):
        ref = slopekit.Network([2, 4, 1], "tanh", seed=2).fit(X, y, epochs=epochs, learning_rate=0.5,
                                                              batch_size=batch, optimizer=optimizer)
        net = slopekit.Network([2, 4, 1], "tanh", seed=2)
        net.fit(torch.tensor(X, device=device), torch.tensor(y, device=device), epochs=epochs, learning_rate=0.5,
                batch_size=batch, optimizer=optimizer)
        gap = max(relative(net.parameters()[k].cpu().numpy(), p) for k, p in ref.parameters().items())
        print(f"torch {device}: Network, {epochs} epochs {optimizer}, batch {batch or 'full'}, float64: "
              f"largest relative gap to NumPy {gap:.2e} (issue 11 asks 1e-10)")


def time_epoch(torch, device: str, n: int, repeat: int) -> None:
    rng = np.random.RandomState(0)
    X = rng.randn(n, 784).astype(np.float32)
    y = np.argmax(X @ rng.randn(784, 10).astype(np.float32), axis=1)
    Xt, yt = torch.tensor(X, device=device), torch.tensor(y, device=device)
    net = slopekit.Network([784, 256, 128, 10], "relu", "softmax", dtype=np.float32, seed=0)

    def ours():
        net.fit(Xt, yt, epochs=1, learning_rate=0.01, batch_size=128)

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                torch.nn.ReLU(), torch.nn.Linear(128, 10)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def theirs():
        order = torch.randperm(n, device=device)
        for start in range(0, n, 128):
            idx = order[start:start + 128]
            loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()

    best = {}
    for name, epoch in (("slopekit", ours), ("torch", theirs)):
        epoch()
        torch.cuda.synchronize()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            epoch()
            torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        best[name] = min(times)
    print(f"torch {device}: one epoch 784-256-128-10, batch 128, float32, {n} samples: slopekit "
          f"{best['slopekit'] * 1e3:.1f} ms, hand-written PyTorch {best['torch'] * 1e3:.1f} ms, "
          f"ratio {best['slopekit'] / best['torch']:.2f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples and rounds")
    parser.add_argument("--cpu", action="store_true", help="the checks (not the timing) on CPU tensors instead")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: nothing to check")
        return 0
    if args.cpu:
        check_activations(lambda a: torch.tensor(a), lambda t: t.numpy(), "torch cpu")
        check_network(torch, "cpu")
        return 0
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check (--cpu runs the checks on CPU tensors)")
        return 0
    print(f"slopekit {slopekit.__version__}, torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    check_activations(lambda a: torch.tensor(a, device="cuda"), lambda t: t.cpu().numpy(), "torch cuda")
    check_network(torch, "cuda")
    try:
        import cupy
    except ImportError:
        print("CuPy is not installed: skipped")
    else:
        check_activations(cupy.asarray, cupy.asnumpy, "cupy")
    time_epoch(torch, "cuda", 10_000 if args.quick else 60_000, 3 if args.quick else 5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
