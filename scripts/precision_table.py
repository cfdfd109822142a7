"""Print docs/precision.md: where the lecture's slope-from-output formulas lose precision.

Usage::

    python scripts/precision_table.py > docs/precision.md

For sigmoid and tanh, in float16, float32 and float64, it finds by scanning z:

* where the output a = g(z) itself rounds to 1 (sigmoid) or ±1 (tanh);
* from where the lecture's a(1 - a) and 1 - a^2 (slopekit's
  `derivative_from_output`, PyTorch's and JAX's backward) have a relative
  error above 1e-3, and above 50 %, against the true slope;
* from where they return exactly 0 although the true slope is still a
  nonzero number of the dtype, and up to where the true slope stays nonzero;
* the largest z where slopekit's `derivative(z)` is still nonzero;
* the largest error of `derivative(z)` in ULPs over the whole range.

Scans run over every representable value of the dtype in a window around
each threshold (float16, float32) or over a grid of 2^22 points there
(float64), with the true slope in long double (80-bit on x86; float64
elsewhere, still ample for a 1e-3 decision). Every reported threshold is
then checked against mpmath at 50 digits; the ULP errors use mpmath
throughout. Nothing in the output is typed in by hand.
"""

from __future__ import annotations

import math
import platform
import sys
import time
from pathlib import Path

import mpmath
import numpy as np

import slopekit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from _reference import round_to, ulp  # noqa: E402  (one definition with the accuracy tests)

DTYPES = (np.float16, np.float32, np.float64)
FUNCS = ("sigmoid", "tanh")
DPS = 50
LD = np.longdouble
MAX_EXHAUSTIVE = 1 << 25  # windows with more representable values than this are sampled
GRID = 1 << 22  # points per window when sampled
# Beyond these z every slope of the dtype has underflowed (slopes are even, so z > 0 suffices).
ZMAX = {np.float16: 20.0, np.float32: 110.0, np.float64: 760.0}


# -- the truth ----------------------------------------------------------------------------


def true_slope_ld(name: str, z: np.ndarray) -> np.ndarray:
    """The slope in long double, from formulas that do not cancel (vectorized screening)."""
    x = np.abs(z.astype(LD))
    if name == "sigmoid":
        e = np.exp(-x)
        return e / ((1 + e) * (1 + e))
    e = np.exp(-2 * x)
    return 4 * e / ((1 + e) * (1 + e))


def true_slope_mp(name: str, z: float):
    """The slope at the exact value z, with mpmath."""
    x = abs(mpmath.mpf(float(z)))
    if name == "sigmoid":
        e = mpmath.exp(-x)
        return e / (1 + e) ** 2
    e = mpmath.exp(-2 * x)
    return 4 * e / (1 + e) ** 2


# -- what is scanned ----------------------------------------------------------------------


def g_of(name):
    return getattr(slopekit, name)


def lecture_slope(name, z):
    g = g_of(name)
    return g.derivative_from_output(g(z))


def rel_error_ld(name, z):
    truth = true_slope_ld(name, z)
    return np.abs(lecture_slope(name, z).astype(LD) - truth) / truth


def predicates(name, dtype):
    """Vectorized tests on arrays z of dtype, each True from its threshold on."""
    tiny_half = float(np.finfo(dtype).smallest_subnormal) / 2
    return {
        "a_is_one": lambda z: np.abs(g_of(name)(z)) == 1,
        "rel_1e-3": lambda z: rel_error_ld(name, z) > 1e-3,
        "rel_half": lambda z: rel_error_ld(name, z) > 0.5,
        # the lecture's slope is 0 while the true slope is clearly above half the smallest subnormal
        "zero": lambda z: (lecture_slope(name, z) == 0) & (true_slope_ld(name, z) > 2 * tiny_half),
        "derivative_zero": lambda z: g_of(name).derivative(z) == 0,
    }


def bits_int(dtype):
    return {np.float16: np.uint16, np.float32: np.uint32, np.float64: np.uint64}[dtype]


def representable(dtype, lo, hi, limit):
    """All values of dtype in [lo, hi] (0 <= lo < hi), or `limit` evenly spaced ones if more."""
    it = bits_int(dtype)
    a, b = np.array([lo, hi], dtype).view(it).astype(np.int64)
    count = int(b - a + 1)
    if count <= limit:
        return np.arange(a, b + 1, dtype=np.int64).astype(it).view(dtype), True
    return np.unique(np.linspace(lo, hi, limit).astype(dtype)), False


def first_true(pred, dtype, zmax, monotone=False):
    """The smallest z in (0, zmax] of dtype where pred holds, and whether it is exact.

    A coarse grid finds the first crossing; then every representable value (or a
    fine grid, for float64) in a window reaching well below it is tried. When the
    first hit lies near the window's lower end the window is widened, so the
    answer never depends on where the window started. A monotone predicate is
    then bisected, bit pattern by bit pattern, between the last grid point
    where it fails and the first where it holds, which makes it exact.
    """
    coarse = np.unique(np.linspace(0, zmax, 400_001).astype(dtype))
    coarse = coarse[coarse > 0]
    hits = np.flatnonzero(pred(coarse))
    if not hits.size:
        return None, True
    zc = float(coarse[hits[0]])
    width = 1.0
    while True:
        lo = max(zc - width, float(np.finfo(dtype).smallest_subnormal))
        zs, exhaustive = representable(dtype, lo, zc, MAX_EXHAUSTIVE if dtype is not np.float64 else GRID)
        found = None
        for chunk in np.array_split(zs, max(1, len(zs) // (1 << 20))):
            h = np.flatnonzero(pred(chunk))
            if h.size:
                found = chunk[h[0]]
                break
        assert found is not None
        if lo <= float(np.finfo(dtype).smallest_subnormal) or float(found) - lo > 0.25 * width:
            break
        width *= 4
    if exhaustive or not monotone:
        return found, exhaustive
    it = bits_int(dtype)
    b = int(np.array([found], dtype).view(it)[0])  # holds
    a = int(np.array([zs[np.searchsorted(zs, found) - 1]], dtype).view(it)[0])  # fails
    while b - a > 1:
        m = (a + b) // 2
        if pred(np.array([m], dtype=it).view(dtype))[0]:
            b = m
        else:
            a = m
    return np.array([b], dtype=it).view(dtype)[0], True


def largest_true_mp(name, dtype, zmax):
    """The largest z of dtype whose true slope rounds to a nonzero value (bisection on the bits)."""
    it = bits_int(dtype)
    a, b = (int(v) for v in np.array([0.0, zmax], dtype).view(it))  # nonzero at a, zero at b
    with mpmath.workdps(DPS):
        while b - a > 1:
            m = (a + b) // 2
            z = np.array([m], dtype=it).view(dtype)[0]
            if round_to(true_slope_mp(name, z), dtype) > 0:
                a = m
            else:
                b = m
    return np.array([a], dtype=it).view(dtype)[0]


# -- ULP errors of derivative(z) ------------------------------------------------------------


def ulp_grid(dtype):
    """Every finite float16 value; for float32 and float64 a deterministic grid of the whole range."""
    if dtype is np.float16:
        z = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
        return z[np.isfinite(z)], "all finite values"
    fi = np.finfo(dtype)
    low = fi.minexp - fi.nmant
    mags = np.array([math.ldexp(1.0 + j / 5, k) for k in range(low, fi.maxexp) for j in range(5)])
    mags = mags[mags <= float(fi.max)]
    lin = np.linspace(0.0, ZMAX[dtype], 20_001)
    pos = np.unique(np.concatenate([mags, lin, [float(fi.max), math.inf]]).astype(dtype))
    z = np.concatenate([-pos[::-1], pos])
    return z, f"{len(z)} values, both signs, from the smallest subnormal to the max and inf"


def max_ulp_error(name, dtype):
    z, what = ulp_grid(dtype)
    y = g_of(name).derivative(z).astype(np.float64)
    worst, where = 0.0, None
    with mpmath.workdps(DPS):
        for zi, yi in zip(z.tolist(), y.tolist()):
            exact = true_slope_mp(name, zi) if math.isfinite(zi) else mpmath.mpf(0)
            u = ulp(round_to(exact, dtype), dtype)
            err = float(abs(mpmath.mpf(yi) - exact) / u) if math.isfinite(yi) else math.inf
            if err > worst:
                worst, where = err, zi
    return worst, where, what


# -- formatting -----------------------------------------------------------------------------


def fmt(z, dtype):
    return np.format_float_positional(dtype(z), unique=True, trim="-")


def sci(x, digits=3):
    return f"{float(x):.{digits}g}" if x != 0 else "0"


def shown_above(x, threshold):
    """x with the fewest digits (at least 3) that still show it is above threshold."""
    digits = 3
    while float(sci(x, digits)) <= threshold and digits < 17:
        digits += 1
    return sci(x, digits)


def mp_rel_error(name, z):
    with mpmath.workdps(DPS):
        truth = true_slope_mp(name, z)
        got = mpmath.mpf(float(lecture_slope(name, np.array([z]))[0]))
        return float(abs(got - truth) / truth)


def column(name, dtype):
    p = predicates(name, dtype)
    zmax = ZMAX[dtype]
    cells = {}
    note = ""

    z1, ex = first_true(p["a_is_one"], dtype, zmax, monotone=True)
    cells["a_is_one"] = f"{fmt(z1, dtype)}"

    z0, ex = first_true(p["zero"], dtype, zmax, monotone=True)
    with mpmath.workdps(DPS):
        true_there = round_to(true_slope_mp(name, z0), dtype)
    assert lecture_slope(name, np.array([z0]))[0] == 0 and true_there > 0
    cells["zero"] = f"{fmt(z0, dtype)} (true slope {sci(true_there)})"

    for key, threshold in (("rel_1e-3", 1e-3), ("rel_half", 0.5)):
        z, ex = first_true(p[key], dtype, zmax)
        if z > z0:  # a sampled grid can step over the jump to exactly 0, whose error is 100 %
            z, ex = z0, True
        err = mp_rel_error(name, z)
        assert err > threshold, (name, dtype, z, err)  # the long double screening agrees with mpmath
        cells[key] = f"{fmt(z, dtype)} ({shown_above(err, threshold)})"
        if not ex:
            note = "sampled"

    zt = largest_true_mp(name, dtype, zmax)
    with mpmath.workdps(DPS):
        cells["true_nonzero"] = f"{fmt(zt, dtype)} ({sci(round_to(true_slope_mp(name, zt), dtype))})"

    zd, ex = first_true(p["derivative_zero"], dtype, zmax, monotone=True)
    last = np.nextafter(zd, dtype(0))
    # derivative(z) must stay 0 above that point, or "largest" would be wrong
    above, _ = representable(dtype, float(zd), min(float(zd) + 8.0, float(np.finfo(dtype).max)), 1 << 22)
    assert np.all(g_of(name).derivative(above) == 0)
    d_last = g_of(name).derivative(np.array([last]))[0]
    cells["derivative_nonzero"] = f"{fmt(last, dtype)} ({sci(d_last)})"

    worst, where, what = max_ulp_error(name, dtype)
    cells["ulps"] = f"{worst:.2f} (at z = {fmt(where, dtype)})"
    early = ""
    if last < zt:
        early = (f"{name}'s `derivative(z)` reaches 0 at z = {fmt(zd, dtype)}, before the true slope "
                 f"underflows (above z = {fmt(zt, dtype)}): in between it returns 0 for a true slope "
                 f"of a few subnormal ULPs.")
    return cells, note, what, early


ROWS = [
    ("a_is_one", "a = g(z) rounds to 1 (tanh: ±1) from z ="),
    ("rel_1e-3", "lecture's formula: relative error > 1e-3 from z = (error there)"),
    ("rel_half", "lecture's formula: relative error > 50 % from z = (error there)"),
    ("zero", "lecture's formula returns exactly 0 from z ="),
    ("true_nonzero", "true slope still nonzero in the dtype up to z = (its value there)"),
    ("derivative_nonzero", "`derivative(z)` nonzero up to z = (its value there)"),
    ("ulps", "max error of `derivative(z)`, ULPs"),
]

INTRO = """\
# Where the lecture's slope-from-output loses precision

The lecture computes the slope from the cached output a = g(z): sigmoid's
slope is a(1 - a) and tanh's is 1 - a². PyTorch and JAX do the same in their
backward passes, and slopekit's `derivative_from_output` keeps these formulas.
They are exact in real numbers but not in floating point: once z is moderately
large, a is so close to 1 that it rounds to a number a few units in the last
place (ULPs) from 1, or to exactly 1. Then 1 - a (and 1 - a²) cancels: it is
computed from the rounding error of a rather than from z, so its relative
error grows like e^z (e^2z for tanh) until, where a has rounded to 1, the slope
comes out as exactly 0 although the true slope is still a perfectly
representable number — the gradient vanishes for a reason that has nothing to
do with the network. slopekit's `derivative(z)` avoids the subtraction: it
evaluates sigmoid's slope as e/(1 + e)² with e = exp(-|z|), and tanh's as
4e/(1 + e)² with e = exp(-2|z|) (and (2 exp(-|z|))² beyond |z| = 20, which
rounds only once), which never cancel and never overflow, so the
slope stays within a few ULPs of the truth all the way down into the subnormal
range. For z < 0, sigmoid's a(1 - a) is accurate (a ≤ 1/2, so 1 - a
does not cancel); tanh is odd and its slope even, so the tables for z > 0
cover z < 0 too.

Each table gives, for z > 0, the smallest z where each thing happens, or
the largest where it says "up to" (z is a value of the dtype, printed as its
shortest repr); relative errors are measured against mpmath at 50 digits, and
ULP errors in units of the dtype's spacing at the true slope. float16 is
computed in float32 and rounded once, as slopekit does; its own relative
precision is 2^-11 ≈ 4.9e-4, so there a relative error of 1e-3 is only about
two ULPs.
"""


def main() -> None:
    start = time.time()
    out = [INTRO]
    for dtype in DTYPES:
        cols = {name: column(name, dtype) for name in FUNCS}
        sampled = any(cols[n][1] for n in FUNCS)
        out.append(f"## {dtype.__name__}\n")
        out.append("| | sigmoid | tanh |")
        out.append("|---|---|---|")
        for key, label in ROWS:
            out.append(f"| {label} | {cols['sigmoid'][0][key]} | {cols['tanh'][0][key]} |")
        out.append("")
        how = (f"the relative-error thresholds were searched on a grid of {GRID:,} points around each "
               "threshold (every float64 cannot be tried), so the first float64 exceeding them may be "
               "slightly smaller; the other thresholds were found exactly"
               if sampled else "every representable value around each threshold was tried, so the thresholds are exact")
        out.append(f"Scan: {how}. ULP errors over {cols['sigmoid'][2]}.\n")
        for name in FUNCS:
            if cols[name][3]:
                out.append(f"Note: {cols[name][3]}\n")
    out.append(f"Measured with NumPy {np.__version__} and mpmath {mpmath.__version__} on {platform.machine()}; "
               "float32 exp and tanh come from NumPy's SIMD code, so float32 thresholds that depend on them "
               "(a rounding to 1, the ULP errors) may differ slightly on other CPUs.\n")
    out.append("Regenerate this file with `python scripts/precision_table.py > docs/precision.md`.")
    sys.stdout.write("\n".join(out) + "\n")
    print(f"precision_table: {time.time() - start:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
