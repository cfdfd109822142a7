r"""Feature scaling for the command line: ``--scale standard|minmax|none``.

A scaler maps each column :math:`j` by :math:`x'_j = (x_j - o_j) / s_j`:
``"standard"`` takes the training rows' mean and standard deviation
(:math:`o_j = \bar x_j`, :math:`s_j = \sigma_j`, the population one, as
scikit-learn's ``StandardScaler``), ``"minmax"`` their minimum and range
(:math:`o_j = \min x_j`, :math:`s_j = \max x_j - \min x_j`, as
``MinMaxScaler`` onto [0, 1]) and ``"none"`` leaves the columns as they are.
A constant column gets :math:`s_j = 1` (scikit-learn does the same), so it
becomes 0 rather than NaN.

The statistics are plain lists of floats (`to_info`), kept in the model's
``info`` so that ``slopekit predict`` and the decision-boundary picture apply
the same map to new rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["KINDS", "Scaler"]

#: What ``--scale`` accepts.
KINDS = ("standard", "minmax", "none")

#: Rows per pass when a statistic needs a temporary array (bounded memory on large tables).
_ROWS = 65_536


class Scaler:
    """An affine map per column, :math:`x' = (x - o) / s`.

    Parameters
    ----------
    kind : {"standard", "minmax", "none"}
    offset, scale : sequence of float, optional
        :math:`o` and :math:`s`, one per column (omitted for ``"none"``).

    Examples
    --------
    >>> import numpy as np
    >>> from slopekit._scaling import Scaler
    >>> X = np.array([[1.0, 10.0], [3.0, 10.0]])
    >>> s = Scaler.fit("standard", X)
    >>> s.offset, s.scale
    ([2.0, 10.0], [1.0, 1.0])
    >>> s.transform(X)
    array([[-1.,  0.],
           [ 1.,  0.]])
    """

    def __init__(self, kind: str, offset: Sequence[float] | None = None, scale: Sequence[float] | None = None):
        if kind not in KINDS:
            raise ValueError(f"scaling must be one of {', '.join(KINDS)}, got {kind!r}")
        self.kind = kind
        self.offset = None if offset is None else [float(v) for v in offset]
        self.scale = None if scale is None else [float(v) for v in scale]
        if kind != "none" and (self.offset is None or self.scale is None or len(self.offset) != len(self.scale)):
            raise ValueError(f"{kind} scaling needs an offset and a scale per column")

    @classmethod
    def fit(cls, kind: str, X: np.ndarray) -> Scaler:
        """The scaler of ``kind`` for the rows of ``X`` (float64 statistics; ``X`` is not changed)."""
        if kind == "none":
            return cls("none")
        if kind == "standard":
            offset = _mean(X)
            width = np.sqrt(_mean_square_deviation(X, offset))
        elif kind == "minmax":
            offset = X.min(axis=0).astype(np.float64)
            width = X.max(axis=0).astype(np.float64) - offset
        else:
            raise ValueError(f"scaling must be one of {', '.join(KINDS)}, got {kind!r}")
        width = np.where(width > 0, width, 1.0)  # a constant column stays 0, not NaN
        return cls(kind, offset.tolist(), width.tolist())

    def transform(self, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``(X - offset) / scale``, into ``out`` if given (which may be ``X`` itself)."""
        if self.kind == "none":
            return X if out is None else _copy_into(X, out)
        offset, scale = self._arrays(X)
        out = np.subtract(X, offset, out=out, dtype=out.dtype if out is not None else np.result_type(X, 1.0))
        return np.divide(out, scale, out=out)

    def inverse(self, X: np.ndarray) -> np.ndarray:
        """``X * scale + offset``: back to the original units (a new array)."""
        if self.kind == "none":
            return np.array(X, dtype=np.result_type(X, 1.0))
        offset, scale = self._arrays(X)
        return np.asarray(X, dtype=np.float64) * scale + offset

    def _arrays(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        offset, scale = np.asarray(self.offset), np.asarray(self.scale)
        if X.ndim == 2 and X.shape[1] != offset.size or X.ndim == 1 and offset.size != 1:
            raise ValueError(f"scaler of {offset.size} columns applied to an array of shape {X.shape}")
        return offset, scale

    def to_info(self) -> dict[str, Any]:
        """A JSON-ready dict (for `Network.info`)."""
        return {"kind": self.kind, "offset": self.offset, "scale": self.scale}

    @classmethod
    def from_info(cls, info: Any) -> Scaler:
        """The inverse of `to_info`; ValueError for anything else."""
        if not isinstance(info, dict):
            raise ValueError(f"scaling must be a JSON object, got {type(info).__name__}")
        try:
            return cls(info["kind"], info.get("offset"), info.get("scale"))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"scaling is malformed ({exc})") from None

    def __repr__(self) -> str:
        return f"Scaler({self.kind!r})"


def _copy_into(X: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.copyto(out, X)
    return out


def _mean(X: np.ndarray) -> np.ndarray:
    return X.mean(axis=0, dtype=np.float64)


def _mean_square_deviation(X: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """The population variance per column, two-pass, in row blocks (no temporary as large as ``X``)."""
    total = np.zeros(X.shape[1])
    for start in range(0, X.shape[0], _ROWS):
        d = X[start:start + _ROWS] - mean
        total += np.einsum("ij,ij->j", d, d)
    return total / X.shape[0]
