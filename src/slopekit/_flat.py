"""Many parameter arrays as views of one flat array, so that an update over all of them is one operation."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def views(flat: np.ndarray, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    """Consecutive C-contiguous views of the 1-D ``flat``, one per shape, tiling it in order."""
    result, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        result.append(flat[start:start + size].reshape(shape))
        start += size
    return result


def shapes_of(sizes: Sequence[int]) -> list[tuple[int, ...]]:
    """The parameter shapes ``[(n_1, n_0), (n_1,), (n_2, n_1), ...]`` of a network with layer sizes ``sizes``."""
    result: list[tuple[int, ...]] = []
    for n_prev, n in zip(sizes[:-1], sizes[1:]):
        result += [(n, n_prev), (n,)]
    return result
