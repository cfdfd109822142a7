"""A/B of the network's NumPy engine against another checkout: the course's fit and one MLP epoch.

Run from the repository root, with a checkout of the older commit beside it::

    git worktree add /tmp/old 782166d
    python benchmarks/engine_ab.py --other /tmp/old --rounds 3

Each round runs this checkout and the other one in fresh interpreters, taking
turns; each prints its best of seven: microseconds per epoch of the course's
2-4-1 tanh/sigmoid network (full batch, 2,000 epochs) and milliseconds per
epoch of the 784-256-128-10 ReLU/softmax network (batch 128, float32, 10,000
samples). The table gives each side's best over the rounds and the ratio.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

MEASURE = r"""
import sys, time, numpy as np
sys.path.insert(0, sys.argv[1])
import slopekit, mlp
from slopekit import datasets
X, y = datasets.planar_flower()
Xm, ym = mlp.make_data(int(sys.argv[2]))
net = slopekit.Network(list(mlp.SIZES), "relu", "softmax", dtype=np.float32, seed=0)
course = epoch = float("inf")
for _ in range(7):
    c = slopekit.Network([2, 4, 1], "tanh", "sigmoid", init="small", seed=2)
    t = time.perf_counter(); c.fit(X, y, epochs=2000, learning_rate=1.2); course = min(course, time.perf_counter() - t)
    t = time.perf_counter(); net.fit(Xm, ym, epochs=1, learning_rate=0.01, batch_size=128)
    epoch = min(epoch, time.perf_counter() - t)
print(course / 2000 * 1e6, epoch * 1e3)
"""


def run(src: Path, samples: int) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", MEASURE, str(HERE), str(samples)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", required=True, help="the root of another checkout (its src/ is imported)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=10_000)
    args = parser.parse_args(argv)
    sides = {"this": HERE.parent / "src", "other": Path(args.other).resolve() / "src"}
    best = {name: [float("inf"), float("inf")] for name in sides}
    for _ in range(args.rounds):
        for name, src in sides.items():
            course, epoch = run(src, args.samples)
            best[name] = [min(best[name][0], course), min(best[name][1], epoch)]
    print(f"{'':<8} {'course (us/epoch)':>18} {'MLP epoch (ms)':>15}")
    for name, (course, epoch) in best.items():
        print(f"{name:<8} {course:18.1f} {epoch:15.1f}")
    print(f"{'ratio':<8} {best['this'][0] / best['other'][0]:18.3f} {best['this'][1] / best['other'][1]:15.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
