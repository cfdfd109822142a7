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
  read, and `Scratch` hands out block-sized temporaries. A kernel may instead
  be a `Whole` step or a tuple of steps (block kernels and `Whole` steps, run
  in turn over the whole tensor); ``_from_output_backward_torch`` (or
  ``_derivative_backward_torch``) is a fused chain rule ``d * slope(c)``;
* a kernel an activation does not write runs its generic formula on each
  block (same bits as the generic path: the formulas are elementwise).

On the CPU the blocks are `BLOCK` elements, so that a kernel's several passes
over a block and its temporaries stay in the cache, and the temporaries are
reused from block to block (and kept for the next call); each operation on a
block runs on PyTorch's own threads. PyTorch's exp, erfc, tanh and the like
fork and join their threads on anything but small tensors, so a kernel calls
them once on the whole tensor, as a `Whole` step between its block steps. On
other devices (CUDA) the whole tensor is one block, PyTorch's caching
allocator making temporaries cheap there.

The engine steps aside, leaving the generic path, whenever in-place work would
be wrong or invisible to PyTorch: for a tensor that autograd is recording
(``requires_grad`` under grad mode), inside ``torch.func`` transforms
(wrapped tensors), while ``torch.compile`` traces, and for other dtypes than
float32 and float64 or other layouts than strided. This module imports torch
only when a torch tensor reaches it.
"""

from __future__ import annotations

import _thread
import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple


#: Elements per block on the CPU: a kernel's dozen block-sized float32 temporaries (1 MiB each)
#: stay in the cache, and each operation on a block is large enough for PyTorch's threads to
#: share it (docs/performance.md, "PyTorch tensors").
BLOCK = 1 << 18


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
    # torch.func's grad and vmap wrap their tensors; PyTorch has no public test for that
    wrapped = getattr(getattr(torch._C, "_functorch", None), "is_functorch_wrapped_tensor", None)
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

    __slots__ = ("torch", "size", "device", "buffers", "shared", "block")

    def __init__(self, torch: Any, size: int, device: Any, buffers: dict[tuple[str, Any], Any]):
        self.torch, self.size, self.device, self.buffers = torch, size, device, buffers
        self.shared: Shared | None = None
        self.block = slice(0)

    def whole(self, key: str) -> Any:
        """This block's part of the call's whole-size temporary ``key`` (see `Shared`)."""
        return self.shared.get(key)[self.block]

    def get(self, key: str, like: Any, dtype: Any = None) -> Any:
        """A temporary of ``like``'s shape and of ``dtype`` (default: ``like``'s), named ``key``."""
        dtype = like.dtype if dtype is None else dtype
        full = like.dim() == 1 and like.shape[0] == self.size
        if full and (view := self.buffers.get((key, dtype, self.size))) is not None:
            return view  # the same view for every full block: no new tensor object
        buf = self.buffers.get((key, dtype))
        if buf is None or buf.shape[0] < self.size:
            buf = self.buffers[key, dtype] = self.torch.empty(self.size, dtype=dtype, device=self.device)
            for stale in [k for k in self.buffers if len(k) == 3 and k[:2] == (key, dtype)]:
                del self.buffers[stale]
        view = buf[:like.numel()].view(like.shape)
        if full:
            self.buffers[key, dtype, self.size] = view
        return view

    def defer(self, index: Any) -> None:
        """Hand this block's ``index`` (positions within the block) of elements that a final step
        computes otherwise to the call (`Shared.deferred`)."""
        self.shared.deferred.append(index.add_(self.block.start))


class Shared:
    """Temporaries of the whole tensor's size, shared by the steps of one call (allocated on first use).

    For a kernel whose `Whole` steps need two tensors of intermediate results: the
    result itself holds one, these the others.
    """

    __slots__ = ("like", "buffers", "deferred")

    def __init__(self, like: Any):
        self.like, self.buffers = like, {}
        #: Positions whose elements the blocks left to a final `Whole` step (`Scratch.defer`).
        self.deferred: list[Any] = []

    def get(self, key: str) -> Any:
        """The whole-size temporary ``key``, of the result's dtype and device."""
        buf = self.buffers.get(key)
        if buf is None:
            buf = self.buffers[key] = self.like.new_empty(self.like.shape)
        return buf


_kept = _thread._local()  # as _threads.py: `threading` loads only with the pool


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


#: A block step ``kernel(torch, x, out, scratch)``: a result from ``x`` into ``out``.
Kernel = Callable[[Any, Any, Any, Scratch], None]


def _flat(x: Any) -> Any:
    """``x`` as a 1-d contiguous tensor: a view when it is contiguous, else a copy (``x`` is only read).

    PyTorch's SIMD loops serve contiguous memory only, and its scalar loops round
    differently: kernels see contiguous blocks, so results do not depend on the
    caller's layout.
    """
    return x.reshape(-1).contiguous()


class Whole(NamedTuple):
    """A step of a kernel that runs once on the whole tensors: ``fn(torch, x, out, shared)``.

    For PyTorch's functions that fork and join threads of their own on all but
    small tensors (exp, erfc, tanh, sqrt and the like): called once, not once a
    block, where a block's fork and join would cost more than its arithmetic.
    """

    fn: Callable[..., None]


def _steps(kernel: Any) -> tuple[Any, ...]:
    """A kernel's steps: a tuple of block kernels and `Whole` steps, or one of them."""
    return kernel if isinstance(kernel, tuple) and not isinstance(kernel, Whole) else (kernel,)


def _run_steps(torch: Any, kernel: Any, tensors: tuple[Any, ...], out: Any, block_rows: int) -> None:
    """Each step of ``kernel`` on ``tensors`` (split along their first axis) and ``out``, in turn.

    ``block_rows`` is the block length in entries of the first axis (rows of a 2-d ``out``).
    """
    row = out[0].numel() if out.dim() > 1 and out.shape[0] else 1
    count = -(-out.shape[0] // block_rows)
    shared = Shared(out)
    for part in _steps(kernel):
        if isinstance(part, Whole):
            part.fn(torch, *tensors, out, shared)
            continue
        with scratch(torch, block_rows * row, out.device) as temporaries:
            temporaries.shared = shared
            for i in range(count):
                temporaries.block = slice(i * block_rows, (i + 1) * block_rows)
                part(torch, *(x[temporaries.block] for x in tensors), out[temporaries.block], temporaries)


def _block_length(x: Any) -> int:
    """Elements per block: `BLOCK` on the CPU, the whole tensor elsewhere."""
    return BLOCK if x.device.type == "cpu" else max(x.numel(), 1)


def run(kernel: Any, x: Any) -> Any:
    """``kernel`` (a block kernel, or a tuple of steps) on ``x`` into a new tensor of its shape, dtype, device."""
    import torch

    result = torch.empty(x.shape, dtype=x.dtype, device=x.device)
    _run_steps(torch, kernel, (_flat(x),), result.view(-1), _block_length(x))
    return result


def backward(chain: Any, d: Any, c: Any) -> Any:
    """``d * slope(c)`` from ``chain`` (``chain(torch, d, c, out, scratch)``, or steps) into a new tensor."""
    import torch

    result = torch.empty(c.shape, dtype=c.dtype, device=c.device)
    _run_steps(torch, chain, (_flat(d), _flat(c)), result.view(-1), _block_length(c))
    return result


def whole(kernel: Kernel) -> Whole:
    """A block kernel that needs no temporaries, as one step on the whole tensor."""
    return Whole(lambda torch, x, out, shared: kernel(torch, x, out, None))


def chain_rule(slope: Any) -> Any:
    """The chain steps ``d * slope(c)`` from a slope kernel's steps: the slope into ``out``, then
    times ``d`` in the last step (while a block is in the cache, or on the whole tensor)."""
    steps = _steps(slope)
    chain: list[Any] = []
    for i, part in enumerate(steps):
        last = i == len(steps) - 1
        if isinstance(part, Whole):
            def whole_step(torch, d, c, out, shared, fn=part.fn, last=last):
                fn(torch, c, out, shared)
                if last:
                    out.mul_(d)

            chain.append(Whole(whole_step))
        else:
            def block_step(torch, d, c, out, temporaries, fn=part, last=last):
                fn(torch, c, out, temporaries)
                if last:
                    out.mul_(d)

            chain.append(block_step)
    return tuple(chain) if len(chain) > 1 else chain[0]


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


def run_rows(kernel: Any, x: Any, axis: int) -> Any:
    """``kernel`` on the rows of ``x`` along ``axis`` (an activation that mixes them), blocks of rows."""
    import torch

    if x.numel() == 0:
        return torch.empty(x.shape, dtype=x.dtype, device=x.device)
    rows, step = _rows(x, axis)
    out = torch.empty(rows.shape, dtype=x.dtype, device=x.device)
    _run_steps(torch, kernel, (rows,), out, step)
    return _from_rows(out, x, axis)


def vjp_rows(kernel: Any, d: Any, c: Any, axis: int) -> Any:
    """``kernel(torch, d, c, out, scratch)`` (or steps) on blocks of rows of ``d`` and ``c`` along ``axis``."""
    import torch

    if c.numel() == 0:
        return torch.empty(c.shape, dtype=c.dtype, device=c.device)
    rows, step = _rows(c, axis)
    d_rows, _ = _rows(d, axis)
    out = torch.empty(rows.shape, dtype=c.dtype, device=c.device)
    _run_steps(torch, kernel, (d_rows, rows), out, step)
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
