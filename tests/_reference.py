"""Correct rounding of mpmath numbers to NumPy dtypes, and ULPs: shared by the accuracy tests and scripts.

``tests/test_accuracy.py`` measures errors in ULPs with these, and
``scripts/precision_table.py`` (which puts this folder on its path) writes
``docs/precision.md`` with them: one definition of "correctly rounded".
"""

from __future__ import annotations

import math

import numpy as np


def round_to(x, dtype) -> float:
    """The mpf ``x`` correctly rounded (to nearest, ties to even) to ``dtype``, as a float.

    Handles subnormal results, underflow to 0 and overflow to inf exactly,
    with integer arithmetic on the mantissa (``float(x)`` truncates).
    """
    import mpmath  # here, not at import: test_accuracy skips when mpmath is missing

    fi = np.finfo(dtype)
    if mpmath.isinf(x):
        return float(x)
    sign, man, exp, bc = x._mpf_
    if not man:
        return 0.0
    top = exp + bc - 1  # 2**top <= |x| < 2**(top + 1)
    if top < fi.minexp - fi.nmant - 1:  # below half the smallest subnormal
        return -0.0 if sign else 0.0
    if top >= fi.maxexp:
        return -math.inf if sign else math.inf
    q = max(top, fi.minexp) - fi.nmant  # exponent of the ulp at x
    shift = q - exp
    if shift <= 0:
        m = man << -shift
    else:
        m, rem = divmod(man, 1 << shift)
        half = 1 << (shift - 1)
        if rem > half or (rem == half and m & 1):
            m += 1
    v = math.inf if m.bit_length() + q > fi.maxexp else math.ldexp(m, q)
    return -v if sign else v


def ulp(r: float, dtype) -> float:
    """The spacing of ``dtype`` at ``r`` (a value of that dtype): the smallest subnormal at 0."""
    fi = np.finfo(dtype)
    top = math.frexp(r)[1] - 1 if r != 0 and math.isfinite(r) else fi.minexp
    return math.ldexp(1.0, max(top, fi.minexp) - fi.nmant)
