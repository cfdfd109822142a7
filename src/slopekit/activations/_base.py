"""The interface every activation shares: value, slope, slope from the cached output, backward.

A subclass supplies a handful of small kernels, in two flavours:

* ``_value_np(z, out)``, ``_derivative_np(z, out)``, ``_from_output_np(a, out)``,
  ``_second_np(z, out)``: the NumPy fast path. Each writes its result into
  ``out``, a float32 or float64 array that never overlaps the input (the base
  class copies the input when a caller's ``out=`` aliases it), using in-place
  ufuncs and as few passes as it can.
* ``_value_xp(xp, z)``, ``_derivative_xp(xp, z)``, ``_from_output_xp(xp, a)``,
  ``_second_xp(xp, z)``: the same math written once against the Python array
  API standard, for PyTorch, CuPy, JAX, Dask or array-api-strict arrays.

The base class does everything else: input checks, dtypes, scalars, ``out=``,
and the chain rule in `Activation.backward`. It also runs large NumPy arrays
in blocks across a small thread pool (`slopekit.set_num_threads`), so the
NumPy kernels must be elementwise: an element's result may depend on that
element alone. A class whose kernels mix elements (softmax) sets
``_blockwise = False``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .. import _arrays, _threads
from . import _torch


class Activation:
    """An activation function :math:`a = g(z)` with its slopes.

    Every activation is an immutable, hashable value object: two activations
    with the same parameters compare equal, and its ``repr`` shows them.

    Attributes
    ----------
    name : str
        The registry name, as accepted by `slopekit.get`.
    kinks : tuple of float
        The points where :math:`g` is not differentiable; the slope there is a
        convention stated by the activation's parameters.
    """

    name: ClassVar[str]
    kinks: ClassVar[tuple[float, ...]] = ()
    #: False for softmax and log_softmax, whose outputs mix the entries along an axis: their
    #: `derivative` is the Jacobian's diagonal and only `backward` is the full chain rule.
    elementwise: ClassVar[bool] = True
    #: Whether the NumPy kernels are elementwise, so that large arrays may run in
    #: blocks on several threads. A kernel that mixes elements (softmax) sets False.
    _blockwise: ClassVar[bool] = True
    #: The kernels (``"_value"``, ``"_derivative"``, ``"_from_output"``, ``"_second"``)
    #: that are a pass or two of cheap operations with no temporaries: for those, waking
    #: a thread costs more than it saves until arrays outgrow the cache, so the NumPy
    #: ones run in blocks from `LIGHT_BLOCKED_BYTES` on instead of `BLOCKED_FROM`
    #: elements, and the PyTorch ones on the whole tensor at once.
    _light_kernels: ClassVar[frozenset[str]] = frozenset()
    #: Why the output cannot determine the slope, for an activation whose slope never
    #: comes from its output (a sentence for error messages); None when it can. An
    #: activation for which that depends on its parameters overrides
    #: `has_derivative_from_output` and `_no_shortcut_reason` instead.
    _no_shortcut: ClassVar[str | None] = None

    # -- what a subclass may override -------------------------------------------------

    @property
    def has_derivative_from_output(self) -> bool:
        """Whether the cached output ``a`` alone determines :math:`g'(z)`.

        When False, `derivative_from_output` raises and `backward` needs ``z``.
        """
        return self._no_shortcut is None

    def _no_shortcut_reason(self) -> str:
        """The sentence that says why `derivative_from_output` is refused."""
        return self._no_shortcut or "its output does not determine its slope"

    # -- the public interface -----------------------------------------------------------

    def __call__(self, z: Any, *, out: Any = None) -> Any:
        """Evaluate the activation, :math:`a = g(z)`.

        Parameters
        ----------
        z : array_like
            Pre-activation: a NumPy array, a Python or NumPy scalar, a list, or
            an array of any library that follows the Python array API standard.
            float16/float32/float64 keep their dtype; integers and bools
            compute in float64.
        out : array, optional
            A buffer of the result's shape and dtype to write into. It may be
            ``z`` itself.

        Returns
        -------
        a : array or scalar
            Same shape as ``z`` (a scalar for scalar input), same library and
            device.
        """
        return self._apply("_value", z, out, "z", "")

    def derivative(self, z: Any, *, out: Any = None) -> Any:
        """The slope :math:`g'(z)` computed from the pre-activation ``z``.

        Accurate to a few units in the last place over the whole range of the
        dtype. Parameters and return as for `__call__`.
        """
        return self._apply("_derivative", z, out, "z", ".derivative")

    def derivative_from_output(self, a: Any, *, out: Any = None) -> Any:
        """The slope :math:`g'(z)` computed from the cached output :math:`a = g(z)`.

        This is the lecture's shortcut: the forward pass already computed
        ``a``, so the slope costs one or two more operations. ``a`` must be an
        output of this activation; nothing checks that, for speed.

        Raises
        ------
        ValueError
            If this activation's output cannot determine its slope (see
            `has_derivative_from_output`).
        """
        if not self.has_derivative_from_output:
            raise ValueError(
                f"{self!r}.derivative_from_output: {self._no_shortcut_reason()}; "
                "use derivative(z) or backward(da, z=z) instead"
            )
        return self._apply("_from_output", a, out, "a", ".derivative_from_output")

    def second_derivative(self, z: Any, *, out: Any = None) -> Any:
        """The second derivative :math:`g''(z)` (0 at the kinks of piecewise-linear functions)."""
        return self._apply("_second", z, out, "z", ".second_derivative")

    def backward(self, da: Any, *, z: Any = None, a: Any = None, out: Any = None) -> Any:
        """Backpropagate through the activation: :math:`dz = da \\cdot g'(z)`.

        Parameters
        ----------
        da : array_like
            Gradient of the loss with respect to the output ``a``.
        z : array_like, optional
            The pre-activation; used when ``a`` is not given, or when this
            activation has no slope-from-output shortcut.
        a : array_like, optional
            The cached output :math:`g(z)` of the forward pass (the lecture's
            way); preferred when given.
        out : array, optional
            A buffer for ``dz``; it may alias ``da``, ``z`` or ``a``.

        Returns
        -------
        dz : array or scalar
            Same shape as ``da``; the dtype is the promotion of ``da`` and the
            cached array's dtype.

        Raises
        ------
        TypeError
            If neither ``z`` nor ``a`` is given, or they come from different
            array libraries than ``da``.
        ValueError
            If the shapes differ, or only ``a`` is given and it cannot
            determine the slope.
        """
        who = f"{self.name}.backward"
        if a is not None and self.has_derivative_from_output:
            cached, argname, kernel = a, "a", "_from_output"
        elif z is not None:
            cached, argname, kernel = z, "z", "_derivative"
        elif a is not None:
            raise ValueError(
                f"{self!r}.backward: {self._no_shortcut_reason()}; pass z= (the pre-activation)"
            )
        else:
            raise TypeError(f"{who}: pass the cached output a= (the lecture's way) or the pre-activation z=")
        d_in = _arrays.prepare(da, who, "da")
        c_in = _arrays.prepare(cached, who, argname)
        if d_in.xp is not c_in.xp:
            raise TypeError(f"{who}: da and {argname} must come from the same array library")
        d, c = d_in.array, c_in.array
        if d.shape != c.shape:
            raise ValueError(f"{who}: da has shape {tuple(d.shape)} but {argname} has shape {tuple(c.shape)}")
        if d_in.xp is not None:
            xp = d_in.xp
            dtype = xp.result_type(d.dtype, c.dtype)
            dz = self._backward_xp(kernel, xp, xp.astype(d, dtype, copy=False), xp.astype(c, dtype, copy=False))
            return _arrays.xp_store(dz, out, who)
        dtype = np.result_type(d.dtype, c.dtype)
        d, c = d.astype(dtype, copy=False), c.astype(dtype, copy=False)
        result = _arrays.numpy_out(out, d.shape, dtype, who)
        self._backward_np(kernel, d, c, result)
        if out is None and d_in.scalar and c_in.scalar:
            return result[()]
        return result

    # -- what a network layer calls ------------------------------------------------------

    def layer_kernels(self, dtype: Any, n_elements: int, xp: Any = None) -> tuple[Callable, Callable]:
        r"""The two calls a network layer makes: ``(forward, backward)``, the fastest that give `__call__`'s bits.

        Parameters
        ----------
        dtype : dtype
            The layer's floating dtype.
        n_elements : int
            The size of the layer's arrays (rows times units): large arrays
            run in blocks across the thread pool, small ones in one piece.
        xp : array namespace, optional
            None for NumPy arrays; otherwise the namespace of the arrays
            (PyTorch, CuPy, JAX, array-api-strict), for the functional form.

        Returns
        -------
        forward, backward : callable
            With NumPy (``xp`` None): ``forward(z, a)`` writes :math:`a = g(z)`
            into ``a``, and ``backward(da, z, a, dz)`` writes
            :math:`dz = da \cdot g'(z)` into ``dz``, the slope taken from the
            cached ``a`` where `has_derivative_from_output` says it can be, else
            from ``z``. The arrays are C-contiguous, of ``dtype`` and
            ``n_elements`` elements, and no two overlap; nothing checks that.
            With ``xp``: ``forward(z)`` returns ``a`` and ``backward(da, z, a)``
            returns ``dz``, new arrays of ``z``'s library and device.

        Notes
        -----
        The choice between the kernel itself (arrays below the block size),
        the blocked run, and the public methods (for a subclass that overrides
        `__call__` or `backward`) is made here, once per layer, so a network
        never names a kernel. Every choice gives the bits of ``g(z, out=a)``
        and ``g.backward(da, a=a, out=dz)`` (or ``z=z``).

        Examples
        --------
        >>> import numpy as np, slopekit
        >>> forward, backward = slopekit.tanh.layer_kernels(np.float64, 3)
        >>> z, a, dz = np.array([-1.0, 0.0, 2.0]), np.empty(3), np.empty(3)
        >>> forward(z, a)
        >>> backward(np.ones(3), z, a, dz)
        >>> bool(np.array_equal(dz, slopekit.tanh.backward(np.ones(3), a=a)))
        True
        """
        from_output = bool(self.has_derivative_from_output)
        if xp is not None:
            kernel = "_from_output" if from_output else "_derivative"

            def forward_xp(z):
                return self._run_xp("_value", xp, z)

            def backward_xp(da, z, a):
                return self._backward_xp(kernel, xp, da, a if from_output else z)

            return forward_xp, backward_xp
        cls = type(self)
        if cls.__call__ is not Activation.__call__ or cls.backward is not Activation.backward:
            return _public_kernels(self, from_output)
        dtype = np.dtype(dtype)
        kernel = "_from_output" if from_output else "_derivative"
        bare = dtype in (np.dtype(np.float32), np.dtype(np.float64)) and cls._run_np is Activation._run_np
        if bare and n_elements < self._blocked_from("_value", dtype):
            forward = getattr(self, "_value_np")  # what _run_np runs for such arrays, without its checks
        else:
            def forward(z, a):
                self._run_np("_value", z, a)
        if bare and cls._backward_np is Activation._backward_np and n_elements < self._blocked_from(kernel, dtype):
            slope, multiply = getattr(self, kernel + "_np"), np.multiply

            def backward(da, z, a, dz):  # what _backward_np does for such arrays: the slope, then times da
                slope(a if from_output else z, dz)
                multiply(dz, da, out=dz)
        else:
            def backward(da, z, a, dz):
                self._backward_np(kernel, da, a if from_output else z, dz)
        return forward, backward

    # -- machinery ----------------------------------------------------------------------

    def _apply(self, kernel: str, x: Any, out: Any, argname: str, method: str) -> Any:
        who = f"{self.name}{method}"
        inp = _arrays.prepare(x, who, argname)
        if inp.xp is not None:
            return _arrays.xp_store(self._run_xp(kernel, inp.xp, inp.array), out, who)
        arr = inp.array
        result = _arrays.numpy_out(out, arr.shape, arr.dtype, who)
        self._run_np(kernel, arr, result)
        if out is None and inp.scalar:
            return result[()]
        return result

    def _blocked_from(self, kernel: str, dtype: np.dtype) -> int:
        """The number of elements from which ``kernel`` runs in blocks across the thread pool."""
        if not self._blockwise:
            return _NEVER
        if kernel in self._light_kernels:  # a pass or two: on one thread, blocks only add calls
            # (docs/performance.md, "The block settings")
            return _NEVER if _threads.get_num_threads() == 1 else LIGHT_BLOCKED_BYTES // dtype.itemsize
        return BLOCKED_FROM

    def _run_np(self, kernel: str, x: np.ndarray, result: np.ndarray) -> None:
        """Run a NumPy kernel from ``x`` into ``result`` (same shape and dtype; they may overlap).

        Large arrays of a `_blockwise` activation run in cache-sized blocks
        across the thread pool (`slopekit.set_num_threads`); the result is the
        same bits for any thread count and any memory layout.
        """
        if not _one_order(x, result):
            _via_contiguous(lambda xc, rc: self._run_np(kernel, xc, rc), (x,), result)
            return
        if x.size < self._blocked_from(kernel, x.dtype):
            _run_whole(getattr(self, kernel + "_np"), x, result)
        else:
            _run_blocks(getattr(self, kernel + "_np"), x, result)

    def _backward_np(self, kernel: str, d: np.ndarray, c: np.ndarray, result: np.ndarray) -> None:
        """The NumPy chain rule: ``result = d * slope(c)``, with ``kernel`` ``"_from_output"`` or ``"_derivative"``.

        ``d``, ``c`` and ``result`` have one shape and one dtype; ``result`` may
        alias either input. `Network` calls this directly on its buffers. Large
        arrays run in blocks as in `_run_np`, each block's slope multiplied
        by its block of ``d`` while it is in the cache.
        """
        if not _one_order(d, c, result):
            _via_contiguous(lambda dc, cc, rc: self._backward_np(kernel, dc, cc, rc), (d, c), result)
            return
        if d.size < self._blocked_from(kernel, d.dtype):
            slope = np.empty_like(result) if np.may_share_memory(d, result) else result
            self._run_np(kernel, c, slope)
            np.multiply(slope, d, out=result)
        else:
            _backward_blocks(getattr(self, kernel + "_np"), d, c, result)

    def _backward_xp(self, kernel: str, xp: Any, d: Any, c: Any) -> Any:
        """The generic chain rule: ``d * slope(c)`` (``d`` and ``c`` of one dtype)."""
        if _torch.namespace_is_torch(xp) and _torch.usable(d, c):
            return self._backward_torch(kernel, xp, d, c)
        return d * self._run_xp(kernel, xp, c)

    def _run_xp(self, kernel: str, xp: Any, x: Any) -> Any:
        """Run a kernel on a non-NumPy array; narrow floats compute in float32.

        PyTorch tensors go to the PyTorch engine (``_torch.py``) where it
        applies; everything else runs the generic formula.
        """
        work = _arrays.xp_compute_dtype(xp, x.dtype)
        if work != x.dtype:
            return xp.astype(self._run_xp(kernel, xp, xp.astype(x, work)), x.dtype)
        if _torch.namespace_is_torch(xp) and _torch.usable(x):
            return self._run_torch(kernel, xp, x)
        return getattr(self, kernel + "_xp")(xp, x)

    def _run_torch(self, kernel: str, xp: Any, x: Any) -> Any:
        """The PyTorch engine for an elementwise activation: its kernel in blocks (`_torch.run`)."""
        return _torch.run(self._torch_kernel(kernel, xp), x)

    def _backward_torch(self, kernel: str, xp: Any, d: Any, c: Any) -> Any:
        """The PyTorch engine's chain rule: ``d * slope(c)`` block by block (`_torch.backward`).

        An activation whose chain rule PyTorch computes in one pass supplies it
        as ``_from_output_backward_torch`` (or ``_derivative_backward_torch``).
        """
        fused = getattr(self, kernel + "_backward_torch", None)
        if fused is not None:
            return _torch.backward(fused, d, c)
        return _torch.backward(_torch.chain_rule(self._torch_kernel(kernel, xp)), d, c)

    def _torch_kernel(self, kernel: str, xp: Any) -> Any:
        """The PyTorch engine's kernel: the activation's own ``*_torch`` one, else its generic formula.

        One of `_light_kernels` runs on the whole tensor at once: a pass or two with no
        temporaries gains nothing from blocks, and each block would wait for PyTorch's threads.
        """
        own = getattr(self, kernel + "_torch", None)
        if own is None:
            return _torch.generic_kernel(getattr(self, kernel + "_xp"), xp)
        if kernel in self._light_kernels and callable(own):
            return _torch.whole(own)
        return own


# -- blocks: large arrays in cache-sized pieces, across the thread pool -----------------

#: The most elements per block. Each NumPy call on a block releases the GIL for
#: its loop; much smaller blocks make the threads queue for the GIL between
#: calls, so that two threads run no faster than one, while a block's arrays
#: (1 MiB each in float32) still stay in the cache, so multi-pass kernels do
#: not stream main memory pass after pass. The measurements behind this and the
#: two settings below: docs/performance.md, "The block settings".
BLOCK = 1 << 18
#: Arrays with fewer elements run in one piece on the calling thread; larger
#: ones in at least as many blocks as threads.
BLOCKED_FROM = 1 << 17
#: The same, in bytes, for an activation's `_light_kernels`. Waking a pool thread
#: and waiting for it costs about what a cheap pass over an array held in the
#: cache costs, so below a few MiB one thread is faster; beyond, two threads pay.
LIGHT_BLOCKED_BYTES = 6 << 20
_NEVER = 1 << 62


def _public_kernels(g: Activation, from_output: bool) -> tuple[Callable, Callable]:
    """`Activation.layer_kernels` through the public methods, for a subclass that overrides them."""

    def forward(z, a):
        g(z, out=a)

    def backward(da, z, a, dz):
        if from_output:
            g.backward(da, a=a, out=dz)
        else:
            g.backward(da, z=z, out=dz)

    return forward, backward


def _one_order(*arrays: np.ndarray) -> bool:
    """Whether the arrays are all C-contiguous or all Fortran-contiguous (then ufuncs see flat memory)."""
    return all(a.flags.c_contiguous for a in arrays) or all(a.flags.f_contiguous for a in arrays)


def _via_contiguous(run, inputs: tuple[np.ndarray, ...], result: np.ndarray) -> None:
    """``run(*inputs, result)`` on C-contiguous copies, then the result copied into ``result``.

    NumPy's SIMD loops for exp, expm1, log1p, tanh and the like serve
    contiguous memory only; strided or mixed-order arrays take scalar loops
    that can round differently (float32 ``expm1`` on AVX-512 here). Kernels
    therefore only ever see arrays of one order: the results do not depend on
    the caller's layout, and the SIMD loops are the faster ones anyway.
    """
    target = np.empty(result.shape, result.dtype)
    run(*(np.ascontiguousarray(x) for x in inputs), target)
    np.copyto(result, target)


def _run_whole(fn, x: np.ndarray, result: np.ndarray) -> None:
    """Run the kernel ``fn`` on the whole array: float16 via float32, overlap via a copy."""
    work = _arrays.compute_dtype(x.dtype)
    if work != x.dtype:  # float16: compute in float32, round once
        x32 = np.empty_like(x, dtype=work)  # empty_like keeps the memory order: kernels see one order
        _via_float32(fn, x, result, x32, np.empty_like(x32))
        return
    if np.may_share_memory(x, result):
        x = x.copy(order="K")  # keeps its memory order, which is the result's
    fn(x, result)


def _via_float32(fn, x: np.ndarray, result: np.ndarray, x32: np.ndarray, target: np.ndarray) -> None:
    """A float16 kernel call: ``x`` copied into the float32 ``x32``, ``fn`` into ``target``, rounded once."""
    np.copyto(x32, x)
    fn(x32, target)
    with np.errstate(over="ignore"):  # a result beyond float16's range rounds to inf
        np.copyto(result, target, casting="same_kind")


def _same_memory(x: np.ndarray, result: np.ndarray) -> bool | None:
    """False: no overlap; True: ``x`` is ``result`` element for element; None: some other overlap."""
    if not np.may_share_memory(x, result):
        return False
    if x.shape == result.shape and x.strides == result.strides:
        if x.__array_interface__["data"][0] == result.__array_interface__["data"][0]:
            return True
    return None


def _unshared(x: np.ndarray, result: np.ndarray) -> tuple[np.ndarray, bool]:
    """``x`` and whether it is ``result`` exactly; a partial overlap is copied away (in ``result``'s layout)."""
    same = _same_memory(x, result)
    if same is None:
        copy = np.empty_like(result)
        np.copyto(copy, x)
        return copy, False
    return x, same


def _layout(*arrays: np.ndarray) -> tuple[list[np.ndarray], int]:
    """Views of ``arrays`` that blocks cut along their first axis, and the rows per block.

    Arrays that are all C-contiguous (or all Fortran-contiguous) become flat
    views; others are cut into whole rows. A block holds at most `BLOCK`
    elements, and there are at least as many blocks as threads.
    """
    if all(a.flags.c_contiguous for a in arrays):
        views = [a.reshape(-1) for a in arrays]
    elif all(a.flags.f_contiguous for a in arrays):
        views = [a.reshape(-1, order="F") for a in arrays]
    else:
        views = list(arrays)
    first = views[0]
    per_block = min(BLOCK, -(-first.size // _threads.get_num_threads()))
    return views, max(1, per_block // (first.size // first.shape[0]))


class _Scratch:
    """One thread's block-sized temporaries, allocated on first use and reused for each block."""

    __slots__ = ("shape", "buffers")

    def __init__(self, rows: int, rest: tuple[int, ...]):
        self.shape = (rows, *rest)
        self.buffers: dict[str, np.ndarray] = {}

    def get(self, key: str, dtype: np.dtype, n: int) -> np.ndarray:
        """The first ``n`` rows of the temporary ``key`` (one dtype per key)."""
        buf = self.buffers.get(key)
        if buf is None:
            buf = self.buffers[key] = np.empty(self.shape, dtype)
        return buf[:n]


# How a block runs its kernel: straight into the result, from a copy of its input
# (the input is the result), or via float32 (float16 arrays).
_PLAIN, _COPY, _NARROW = 0, 1, 2


def _block_mode(x: np.ndarray, same: bool) -> int:
    if x.dtype == np.float16:
        return _NARROW
    return _COPY if same else _PLAIN


def _kernel_block(fn, xb: np.ndarray, rb: np.ndarray, mode: int, scratch: _Scratch) -> None:
    """`_run_whole` for one block, the input copied to scratch first where `_block_mode` says so."""
    if mode == _PLAIN:
        fn(xb, rb)
    elif mode == _COPY:
        xc = scratch.get("x", xb.dtype, xb.shape[0])
        np.copyto(xc, xb)
        fn(xc, rb)
    else:  # float16, as in _run_whole
        n = xb.shape[0]
        _via_float32(fn, xb, rb, scratch.get("x", np.float32, n), scratch.get("t", np.float32, n))


def _run_blocks(fn, x: np.ndarray, result: np.ndarray) -> None:
    """`_run_whole` block by block across the thread pool: the same result, bit for bit."""
    x, same = _unshared(x, result)
    mode = _block_mode(x, same)
    (xv, rv), rows = _layout(x, result)
    rest = xv.shape[1:]

    def work(indices) -> None:
        scratch = _Scratch(rows, rest)
        for i in indices:
            lo = i * rows
            _kernel_block(fn, xv[lo:lo + rows], rv[lo:lo + rows], mode, scratch)

    _threads.parallel(work, -(-xv.shape[0] // rows))


def _backward_blocks(fn, d: np.ndarray, c: np.ndarray, result: np.ndarray) -> None:
    """``result = d * slope(c)`` block by block: each block's slope is multiplied while in cache."""
    d, d_same = _unshared(d, result)
    c, c_same = _unshared(c, result)
    aliased = d_same or c_same  # then the slope goes to scratch, not into the result
    mode = _block_mode(c, False)
    (dv, cv, rv), rows = _layout(d, c, result)
    rest, dtype = dv.shape[1:], dv.dtype

    def work(indices) -> None:
        scratch = _Scratch(rows, rest)
        for i in indices:
            lo = i * rows
            rb = rv[lo:lo + rows]
            slope = scratch.get("s", dtype, rb.shape[0]) if aliased else rb
            _kernel_block(fn, cv[lo:lo + rows], slope, mode, scratch)
            np.multiply(slope, dv[lo:lo + rows], out=rb)

    _threads.parallel(work, -(-dv.shape[0] // rows))
