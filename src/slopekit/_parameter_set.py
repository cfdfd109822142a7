"""A network's parameters in one array library on one device, and what is done to all of them at once.

`slopekit.Network` keeps its :math:`W_1, b_1, W_2, b_2, \\dots` in a
`ParameterSet`, and so does the training loop (`slopekit._training`), which
updates them: neither reaches into the other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _backends, _flat


def host_dtype(name: str) -> np.dtype:
    """The NumPy dtype that holds a network dtype's values on the host (bfloat16: float32, exactly)."""
    return np.dtype(np.float32) if name == "bfloat16" else np.dtype(name)


class ParameterSet:
    """The arrays ``[W1, b1, W2, b2, ...]`` of one library (``xp``, None for NumPy) on one ``device``.

    Parameters
    ----------
    arrays : list of ndarray
        The initial parameters, NumPy arrays of ``dtype_name``.
    dtype_name : str
        ``"float16"``, ``"bfloat16"``, ``"float32"`` or ``"float64"``.

    Attributes
    ----------
    arrays : list
        The live arrays. NumPy updates them in place; other libraries replace
        them (training assigns a new list after each step).
    xp, device, dtype_name
        Where they are, and their dtype's name.
    """

    def __init__(self, arrays: list[np.ndarray], dtype_name: str):
        self.arrays: list[Any] = arrays
        self.xp: Any = None
        self.device: Any = None
        self.dtype_name = dtype_name
        self._flat: np.ndarray | None = None  # NumPy: the 1-D array the arrays are views of, once there is one

    @property
    def dtype(self) -> Any:
        """The dtype in the arrays' library."""
        return _backends.dtype_of(self.dtype_name, self.xp)

    @property
    def weights(self) -> list[Any]:
        return self.arrays[0::2]

    @property
    def biases(self) -> list[Any]:
        return self.arrays[1::2]

    def flat(self) -> np.ndarray:
        """NumPy: the 1-D array the parameters are views of, moving them there if they are not yet.

        Training keeps them so: a gradient-descent update, and the copy kept
        against divergence, are then one call over all parameters.
        """
        if self._flat is None:
            P = np.empty(sum(p.size for p in self.arrays), self.arrays[0].dtype)
            views = _flat.views(P, [p.shape for p in self.arrays])
            for view, p in zip(views, self.arrays):
                np.copyto(view, p)
            self._flat, self.arrays = P, views
        return self._flat

    def copies(self) -> list[Any]:
        """Copies of the arrays, in their library and on their device."""
        return [_backends.copy(p, self.xp) for p in self.arrays]

    def assign(self, host: Sequence[np.ndarray]) -> None:
        """Replace every value by the NumPy arrays ``host`` (already checked: shapes, dtype ``host_dtype``)."""
        if self.xp is not None:
            self.arrays = [_backends.from_numpy(p, self.xp, self.device, self.dtype) for p in host]
        elif self._flat is not None:  # keep the flat array: an optimizer's state refers to its views
            for view, p in zip(self.arrays, host):
                np.copyto(view, p)
        else:
            self.arrays = [np.array(p, dtype=self.dtype, order="C", copy=True) for p in host]

    def move(self, xp: Any, device: Any, dtype_name: str) -> None:
        """Put the arrays in the library ``xp`` on ``device`` in ``dtype_name`` (through the host)."""
        target = _backends.dtype_of(dtype_name, xp)
        if xp is not None:
            _backends.check_dtype_available(xp, target, dtype_name)
        host = [_backends.to_numpy(p, self.xp) for p in self.arrays]
        if xp is None:
            arrays = [np.array(p, dtype=target, order="C", copy=True) for p in host]
            device = None
        else:  # all arrays made before anything changes: a device that fails leaves the set as it was
            arrays = [_backends.from_numpy(p, xp, device, target) for p in host]
            device = _backends.device_of(arrays[0], xp)  # the library's own: None is its default
        self.xp, self.device, self.dtype_name, self.arrays, self._flat = xp, device, dtype_name, arrays, None

    def at(self, xp: Any, device: Any, dtype_name: str) -> bool:
        """Whether the arrays are in ``xp``'s library, on ``device``, in ``dtype_name`` already."""
        return (_backends.same_library(xp, self.xp) and (xp is None or device == self.device)
                and dtype_name == self.dtype_name)

    def index(self, idx: np.ndarray) -> Any:
        """Row indices as an integer array of the parameters' library, on their device."""
        xp = self.xp
        return xp.asarray(idx, device=self.device) if self.device is not None else xp.asarray(idx)

    def penalty(self, l2: float, n: int) -> float:
        r""":math:`\frac{\lambda}{2n} \sum_l \lVert W_l \rVert^2`, the L2 term of the loss."""
        if not l2:
            return 0.0
        if self.xp is None:
            return l2 / (2.0 * n) * math.fsum(float(np.vdot(W, W)) for W in self.weights)
        xp = self.xp
        return l2 / (2.0 * n) * math.fsum(float(xp.sum(W * W)) for W in self.weights)
