"""Fit the polynomials of slopekit's Mills ratio (used by GELU's exact form) with mpmath.

The Mills ratio of the standard normal distribution is

    M(t) = (1 - Phi(t)) / phi(t) = sqrt(pi/2) * erfcx(t / sqrt(2)),

smooth and decreasing from sqrt(pi/2) at t = 0 to about 1/t. slopekit
evaluates it by a polynomial in u = (t - lo) / (hi - lo) on each interval
below, and by its continued fraction above the last one. This script
computes the Chebyshev-fitted coefficients at 50 digits, checks the float64
Horner evaluation against mpmath on 2,000 points per interval, and prints
the table pasted into ``src/slopekit/activations/_normal.py``.

Run: ``python scripts/fit_mills.py`` (needs mpmath; about 10 s).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

mp.mp.dps = 50
#: (lo, hi): on each, the smallest degree whose fit error is below 2**-60 relative is used.
INTERVALS = ((0.0, 1.0), (1.0, 2.0), (2.0, 4.0), (4.0, 8.0))


def mills(t):
    t = mp.mpf(t)
    return mp.erfc(t / mp.sqrt(2)) / 2 / (mp.exp(-t * t / 2) / mp.sqrt(2 * mp.pi))


def fit(lo: float, hi: float) -> list[float]:
    for degree in range(8, 40):
        poly, err = mp.chebyfit(lambda u: mills(lo + (hi - lo) * u), [0, 1], degree, error=True)
        if err / mills(hi) < mp.mpf(2) ** -60:
            return [float(c) for c in poly]  # highest power first
    raise RuntimeError(f"no fit on [{lo}, {hi}]")


def horner(coefficients: list[float], u: np.ndarray) -> np.ndarray:
    result = np.full_like(u, coefficients[0])
    for c in coefficients[1:]:
        result = result * u + c
    return result


def main() -> None:
    print("_MILLS_POLYNOMIALS = (  # (lo, hi, coefficients, highest power first): scripts/fit_mills.py")
    for lo, hi in INTERVALS:
        coefficients = fit(lo, hi)
        t = np.linspace(lo, hi, 2000)
        got = horner(coefficients, (t - lo) / (hi - lo))
        want = np.array([float(mills(x)) for x in t])
        worst = np.max(np.abs(got - want) / want) / np.finfo(np.float64).eps
        print(f"    ({lo!r}, {hi!r}, (  # max error {worst:.2f} eps")
        for c in coefficients:
            print(f"        {c!r},")
        print("    )),")
    print(")")


if __name__ == "__main__":
    main()
