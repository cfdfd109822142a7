"""The PyTorch engine: an activation's kernels on torch tensors, written into one result tensor.

The generic path (``_*_xp``) composes array-API functions, each of which
returns a new tensor. On the CPU a new tensor beyond the allocator's cache is
fresh memory that the kernel must fault in page by page, which costs more than
the arithmetic, so a formula of twenty operations on a large tensor spends
most of its time allocating. This engine allocates the result once and runs
the activation's kernels on it in blocks, as the NumPy engine does:

* an activation's ``_value_torch(torch, z, out, scratch)`` (and
  ``_derivative_torch``, ``_from_output_torch``, ``_second_torch``) writes its
  result into ``out`` with PyTorch's in-place operations and its own special
  functions (``torch.special.erfc``, ``torch.sigmoid``); ``z`` and ``out`` are
  1-d contiguous blocks that never overlap, ``z`` is the caller's and is only
  read, and `Scratch` hands out block-sized temporaries;
* a kernel an activation does not write runs its generic formula on each
  block (same bits as the generic path: the formulas are elementwise).

On the CPU the blocks are `BLOCK` elements, so temporaries stay in the cache
and are reused from block to block; on other devices (CUDA) the whole tensor is
one block, PyTorch's caching allocator making temporaries cheap there.

The engine steps aside, leaving the generic path, whenever in-place work would
be wrong or invisible to PyTorch: for a tensor that autograd is recording
(``requires_grad`` under grad mode), inside ``torch.func`` transforms
(wrapped tensors), while ``torch.compile`` traces, and for other dtypes than
float32 and float64 or other layouts than strided. This module imports torch
only when a torch tensor reaches it.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Iterator
from typing import Any

#: Elements per block on the CPU: a few block-sized float32 temporaries (4 MiB each) stay in
#: the last-level cache, and a block is large enough that PyTorch's per-call cost stays small.
BLOCK = 1 << 20


def namespace_is_torch(xp: Any) -> bool:
    """Whether ``xp`` is PyTorch's array namespace (``array_api_compat.torch``)."""
    import array_api_compat

    return array_api_compat.is_torch_namespace(xp)


def usable(*tensors: Any) -> bool:
    """Whether the engine may work in place for these tensors (see the module's docstring)."""
    import torch

    if torch.compiler.is_compiling():
        return False
    grad = torch.is_grad_enabled()
    wrapped = getattr(torch._C._functorch, "is_functorch_wrapped_tensor", None)
    for x in tensors:
        if x.dtype not in (torch.float32, torch.float64) or x.layout != torch.strided:
            return False
        if (grad and x.requires_grad) or (wrapped is not None and wrapped(x)):
            return False
    return True


class Scratch:
    """Block-sized temporaries of one call, allocated on first use and reused for every block.

    On the CPU they are also kept, per thread, for the next call (`scratch`): a temporary
    freed at the end of a call goes back to the operating system, and the next call would
    fault its pages in again, at about the cost of the arithmetic itself.
    """

    __slots__ = ("torch", "size", "device", "buffers")

    def __init__(self, torch: Any, size: int, device: Any, buffers: dict[tuple[str, Any], Any]):
        self.torch, self.size, self.device, self.buffers = torch, size, device, buffers

    def get(self, key: str, like: Any, dtype: Any = None) -> Any:
        """A temporary of ``like``'s shape and of ``dtype`` (default: ``like``'s), named ``key``."""
        dtype = like.dtype if dtype is None else dtype
        buf = self.buffers.get((key, dtype))
        if buf is None or buf.shape[0] < self.size:
            buf = self.buffers[key, dtype] = self.torch.empty(self.size, dtype=dtype, device=self.device)
        return buf[:like.numel()].view(like.shape)


_kept = threading.local()


@contextlib.contextmanager
def scratch(torch: Any, size: int, device: Any) -> Iterator[Scratch]:
    """The temporaries of one call of at most ``size`` elements a block: kept on the CPU (see `Scratch`)."""
    if device.type != "cpu" or size > BLOCK or getattr(_kept, "busy", False):  # a nested call: its own
        yield Scratch(torch, size, device, {})
        return
    buffers = getattr(_kept, "buffers", None)
    if buffers is None:
        buffers = _kept.buffers = {}
    _kept.busy = True
    try:
        yield Scratch(torch, BLOCK, device, buffers)
    finally:
        _kept.busy = False


#: ``kernel(torch, x, out, scratch)``: a result from ``x`` into ``out``.
Kernel = Callable[[Any, Any, Any, Scratch], None]
#: ``chain(torch, d, c, out, scratch)``: the chain rule's ``d * slope(c)`` into ``out``.
ChainKernel = Callable[[Any, Any, Any, Any, Scratch], None]


def _blocks(x: Any) -> tuple[Any, int]:
    """``x`` as a 1-d contiguous tensor, and the block length for its device."""
    # PyTorch's SIMD loops serve contiguous memory only, and its scalar loops round differently:
    # kernels see contiguous blocks, so results do not depend on the caller's layout
    flat = x.reshape(-1).contiguous()  # a view when x is contiguous, else a copy: x is only read
    n = flat.shape[0]
    return flat, (BLOCK if x.device.type == "cpu" else max(n, 1))


def run(kernel: Kernel, x: Any) -> Any:
    """``kernel`` on ``x`` block by block, into a new tensor of ``x``'s shape, dtype and device."""
    import torch

    flat, step = _blocks(x)
    result = torch.empty(x.shape, dtype=x.dtype, device=x.device)
    out = result.view(-1)
    with scratch(torch, step, x.device) as temporaries:
        for lo in range(0, flat.shape[0], step):
            kernel(torch, flat[lo:lo + step], out[lo:lo + step], temporaries)
    return result


def backward(chain: ChainKernel, d: Any, c: Any) -> Any:
    """``d * slope(c)`` from ``chain(torch, d, c, out, scratch)``, block by block, into a new tensor."""
    import torch

    flat, step = _blocks(c)
    d_flat, _ = _blocks(d)
    result = torch.empty(c.shape, dtype=c.dtype, device=c.device)
    out = result.view(-1)
    with scratch(torch, step, c.device) as temporaries:
        for lo in range(0, flat.shape[0], step):
            chain(torch, d_flat[lo:lo + step], flat[lo:lo + step], out[lo:lo + step], temporaries)
    return result


def chain_rule(slope: Kernel) -> ChainKernel:
    """The chain kernel ``d * slope(c)`` from a slope kernel: the slope into ``out``, then times ``d``
    while the block is in the cache."""

    def chain(torch, d, c, out, temporaries):
        slope(torch, c, out, temporaries)
        out.mul_(d)

    return chain


def _rows(x: Any, axis: int) -> tuple[Any, int]:
    """``x`` with ``axis`` moved last, as a contiguous 2-d tensor of rows, and the rows per block."""
    moved = x.movedim(axis, -1)
    length = moved.shape[-1]
    rows = moved.reshape(-1, length).contiguous()  # a view when the axis is last and x contiguous
    if x.device.type != "cpu":
        return rows, max(rows.shape[0], 1)
    return rows, max(1, BLOCK // max(length, 1))


def _from_rows(result_rows: Any, x: Any, axis: int) -> Any:
    """Undo `_rows` on a result: ``x``'s shape, contiguous."""
    moved_shape = x.movedim(axis, -1).shape
    return result_rows.reshape(moved_shape).movedim(-1, axis).contiguous()


def run_rows(kernel: Kernel, x: Any, axis: int) -> Any:
    """``kernel`` on the rows of ``x`` along ``axis`` (an activation that mixes them), blocks of rows."""
    import torch

    if x.numel() == 0:
        return torch.empty(x.shape, dtype=x.dtype, device=x.device)
    rows, step = _rows(x, axis)
    out = torch.empty(rows.shape, dtype=x.dtype, device=x.device)
    with scratch(torch, step * rows.shape[1], x.device) as temporaries:
        for lo in range(0, rows.shape[0], step):
            kernel(torch, rows[lo:lo + step], out[lo:lo + step], temporaries)
    return _from_rows(out, x, axis)


def vjp_rows(kernel: ChainKernel, d: Any, c: Any, axis: int) -> Any:
    """``kernel(torch, d, c, out, scratch)`` on blocks of rows of ``d`` and ``c`` along ``axis``."""
    import torch

    if c.numel() == 0:
        return torch.empty(c.shape, dtype=c.dtype, device=c.device)
    rows, step = _rows(c, axis)
    d_rows, _ = _rows(d, axis)
    out = torch.empty(rows.shape, dtype=c.dtype, device=c.device)
    with scratch(torch, step * rows.shape[1], c.device) as temporaries:
        for lo in range(0, rows.shape[0], step):
            kernel(torch, d_rows[lo:lo + step], rows[lo:lo + step], out[lo:lo + step], temporaries)
    return _from_rows(out, c, axis)


def compat_namespace() -> Any:
    """``array_api_compat.torch``: the namespace the generic formulas run with on torch tensors."""
    import array_api_compat.torch

    return array_api_compat.torch


def generic_kernel(formula: Callable[[Any, Any], Any], xp: Any) -> Kernel:
    """A kernel that runs a generic ``formula(xp, x)`` on a block and copies it into the result."""

    def kernel(torch, x, out, scratch):
        out.copy_(formula(xp, x))

    return kernel


def within(torch: Any, x: Any, low: float = -math.inf, high: float = math.inf) -> bool:
    """Whether every element of ``x`` lies in ``[low, high]``, so that none is NaN (one reduction)."""
    if x.shape[0] == 0:
        return True
    if high == math.inf:
        return bool(torch.amin(x) >= low)
    if low == -math.inf:
        return bool(torch.amax(x) <= high)
    smallest, largest = torch.aminmax(x)
    return bool((smallest >= low) & (largest <= high))
