"""NumPy kernels that run an activation's array-API formula with ``np`` as the namespace."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ._base import Activation


class Generic(Activation):
    """An activation whose NumPy kernels are its ``_*_xp`` formulas, copied into ``out``.

    A subclass states what its formulas may meet by design instead of
    overriding the kernels: ``_np_errstate`` (floating-point conditions to
    ignore, e.g. an overflow whose result the formula then discards) and
    ``_np_float64`` (compute float32 input in float64, rounding once at the end).
    """

    _np_errstate: ClassVar[dict[str, str]] = {}
    _np_float64: ClassVar[bool] = False

    def _run_formula_np(self, formula, x, out):
        if self._np_float64 and x.dtype != np.float64:
            x = x.astype(np.float64)
        with np.errstate(**self._np_errstate):
            np.copyto(out, formula(np, x), casting="same_kind")

    def _value_np(self, z, out):
        self._run_formula_np(self._value_xp, z, out)

    def _derivative_np(self, z, out):
        self._run_formula_np(self._derivative_xp, z, out)

    def _from_output_np(self, a, out):
        self._run_formula_np(self._from_output_xp, a, out)

    def _second_np(self, z, out):
        self._run_formula_np(self._second_xp, z, out)

    def _from_output_xp(self, xp, a):  # pragma: no cover - guarded by has_derivative_from_output
        raise NotImplementedError
