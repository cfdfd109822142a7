"""Blocks and threads: large arrays run in blocks across a thread pool, with the same bits as one piece.

Every activation, every method, every dtype, contiguous and strided layouts,
``out=`` aliasing an input: the blocked result must equal, bit for bit, the
result of the whole array in one piece on one thread, and the result of small
slices evaluated one at a time. Most tests shrink the block size so that
arrays of a few hundred elements span many blocks; a few run at the real size.
No timing is asserted anywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import slopekit
from conftest import ACTIVATIONS, FLOAT_DTYPES
from slopekit import _threads
from slopekit.activations import _base

# Every registered activation with its default parameters, plus conftest's variants.
_BY_REPR = {repr(g): g for g in [*ACTIVATIONS, *(slopekit.get(n) for n in slopekit.names())]}
ALL = list(_BY_REPR.values())
BLOCKWISE = [g for g in ALL if g._blockwise]
LECTURE = [slopekit.sigmoid, slopekit.tanh, slopekit.relu, slopekit.leaky_relu]
METHODS = ["value", "derivative", "second_derivative", "derivative_from_output", "backward_a", "backward_z"]
THREADS = [1, 2, 3]
SMALL_BLOCK = 64


@pytest.fixture(autouse=True)
def restore_threads():
    """Each test may change the thread count; put it back afterwards."""
    before = slopekit.get_num_threads()
    yield
    slopekit.set_num_threads(before)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 64 elements from 128 on, so a few hundred elements make many blocks."""
    shrink(monkeypatch)


def shrink(monkeypatch):
    """Blocks of `SMALL_BLOCK` elements from twice that on, for light kernels too."""
    monkeypatch.setattr(_base, "BLOCK", SMALL_BLOCK)
    monkeypatch.setattr(_base, "BLOCKED_FROM", 2 * SMALL_BLOCK)
    monkeypatch.setattr(_base, "LIGHT_BLOCKED_BYTES", 2 * SMALL_BLOCK)


def whole(monkeypatch):
    """Switch blocking off: every array runs in one piece (the reference)."""
    monkeypatch.setattr(_base, "BLOCKED_FROM", sys.maxsize)
    monkeypatch.setattr(_base, "LIGHT_BLOCKED_BYTES", sys.maxsize)


# -- data and calls -------------------------------------------------------------------


def data(n: int, dtype, seed: int = 0) -> np.ndarray:
    """``n`` values over many scales, with zeros, infinities, NaN and subnormals among them."""
    return _data(n, dtype, seed, [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-40, -1e-310, 20.5, -20.5])


def grad(n: int, dtype, seed: int = 0) -> np.ndarray:
    """A gradient ``da``: finite (inf * a zero slope would be NaN, with a warning), zeros and NaN among it."""
    return _data(n, dtype, seed, [0.0, -0.0, np.nan, 1e-40])


def _data(n: int, dtype, seed: int, specials: list[float]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * rng.choice([0.01, 1.0, 5.0, 40.0, 1e3], n)
    k = min(n, len(specials))
    x[rng.choice(n, k, replace=False)] = specials[:k] if n else []
    with np.errstate(over="ignore"):
        x = x.astype(dtype)
    if specials is not None and np.isinf(specials).sum() == 0:
        x[np.isinf(x)] = 1.0  # float16 overflow
    return x


def slope_input(g, method: str, z: np.ndarray) -> np.ndarray:
    """What the method takes: the output ``a = g(z)`` for the shortcut, else ``z``."""
    return g(z) if method in ("derivative_from_output", "backward_a") else z


def call(g, method: str, x: np.ndarray, da: np.ndarray | None = None, out=None):
    """Run one method; ``x`` is what `slope_input` gave."""
    if method == "value":
        return g(x, out=out)
    if method == "backward_a":
        return g.backward(da, a=x, out=out)
    if method == "backward_z":
        return g.backward(da, z=x, out=out)
    return getattr(g, method)(x, out=out)


def methods_of(g) -> list[str]:
    shortcut = g.has_derivative_from_output
    return [m for m in METHODS if shortcut or m not in ("derivative_from_output", "backward_a")]


def assert_same_bits(got, want, what: str = "") -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, what
    bits = {2: np.uint16, 4: np.uint32, 8: np.uint64}[want.dtype.itemsize]
    g, w = np.ascontiguousarray(got).view(bits), np.ascontiguousarray(want).view(bits)
    bad = np.flatnonzero(g.ravel() != w.ravel())
    assert bad.size == 0, f"{what}: {bad.size} elements differ, first at {bad[:5]}: {got.ravel()[bad[:5]]} vs {want.ravel()[bad[:5]]}"


# Layouts: how an array of n = 17 * 19 values is laid out in memory.
N_ROWS, N_COLS = 17, 19


def layout(flat: np.ndarray, kind: str) -> np.ndarray:
    """``flat`` (1-d) as a new array of the given memory layout."""
    if kind == "contiguous":
        return flat.copy()
    if kind == "strided":  # every other element of a longer array
        wide = np.zeros(2 * flat.size, flat.dtype)
        wide[::2] = flat
        return wide[::2]
    if kind == "reversed":  # negative strides
        return flat[::-1].copy()[::-1]
    if kind == "c2d":
        return flat.reshape(N_ROWS, N_COLS).copy()
    if kind == "transposed":  # Fortran-contiguous
        return flat.reshape(N_COLS, N_ROWS).copy().T
    if kind == "columns":  # every third column of a wider C array
        wide = np.zeros((N_ROWS, 3 * N_COLS), flat.dtype)
        wide[:, ::3] = flat.reshape(N_ROWS, N_COLS)
        return wide[:, ::3]
    raise AssertionError(kind)


LAYOUTS = ["contiguous", "strided", "reversed", "c2d", "transposed", "columns"]
# Where the result goes: a fresh array, a buffer like the input (same layout), the input itself, or da.
ALIASES = ["fresh", "like", "input", "da"]


def run_case(g, method: str, xflat: np.ndarray, daflat: np.ndarray, kind: str, where: str):
    """One call on new arrays of layout ``kind`` (so that aliasing never leaks between runs).

    Returns a copy of the result, or None when ``where`` does not apply (``out=da`` off backward).
    """
    x, da = layout(xflat, kind), layout(daflat, kind)
    backward = method.startswith("backward")
    if where == "da" and not backward:
        return None
    out = {"fresh": None, "like": np.empty_like(x), "input": x, "da": da}[where]
    result = call(g, method, x, da if backward else None, out=out)
    if out is not None:
        assert result is out
    return np.array(result, copy=True)


# -- the results do not depend on threads, blocks or layout ----------------------------


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("g", ALL, ids=repr)
def test_blocks_and_threads_give_the_same_bits(g, dtype, monkeypatch):
    """Blocked on 1, 2, 3 threads, every layout and aliasing: the bits of one piece on one thread."""
    zflat = data(N_ROWS * N_COLS, dtype, seed=1)
    daflat = grad(N_ROWS * N_COLS, dtype, seed=2)
    for method in methods_of(g):
        xflat = slope_input(g, method, zflat)
        for kind in LAYOUTS if g._blockwise else ["contiguous"]:
            with monkeypatch.context() as m:
                whole(m)
                slopekit.set_num_threads(1)
                want = {w: run_case(g, method, xflat, daflat, kind, w) for w in ALIASES}
            if kind == "contiguous":
                contiguous = want["fresh"]
            for w in ALIASES:  # aliasing and layout do not change the bits either
                if want[w] is not None:
                    assert_same_bits(want[w], layout(contiguous, kind), f"{g!r}.{method} {kind} out={w} whole")
            with monkeypatch.context() as m:
                shrink(m)
                for n in THREADS:
                    slopekit.set_num_threads(n)
                    for w in ALIASES:
                        got = run_case(g, method, xflat, daflat, kind, w)
                        if got is not None:
                            assert_same_bits(got, want[w], f"{g!r}.{method} {kind} out={w} threads={n}")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("g", BLOCKWISE, ids=repr)
def test_blocked_result_equals_small_slices_one_at_a_time(g, dtype, small_blocks):
    """The elementwise contract: a blocked array gives what its pieces give, evaluated alone."""
    z, da = data(1001, dtype, seed=3), grad(1001, dtype, seed=4)
    slopekit.set_num_threads(3)
    for method in methods_of(g):
        x = slope_input(g, method, z)
        got = call(g, method, x, da if method.startswith("backward") else None)
        pieces = [call(g, method, x[i:i + 7], da[i:i + 7] if method.startswith("backward") else None)
                  for i in range(0, x.size, 7)]
        assert_same_bits(got, np.concatenate(pieces), f"{g!r}.{method}")


SIZES = [0, 1, 2, 63, 64, 65, 127, 128, 129, 191, 192, 193, 255, 256, 257, 64 * 11 + 5]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("g", [*LECTURE, slopekit.get("softplus"), slopekit.get("relu", at_zero=0.5)], ids=repr)
def test_sizes_around_the_threshold_and_block_boundaries(g, size, monkeypatch):
    for dtype in FLOAT_DTYPES:
        z, da = data(size, dtype, seed=size), grad(size, dtype, seed=size + 1)
        for method in methods_of(g):
            x = slope_input(g, method, z)
            with monkeypatch.context() as m:
                whole(m)
                want = run_case(g, method, x, da, "contiguous", "fresh")
            with monkeypatch.context() as m:
                shrink(m)
                for n in THREADS:
                    slopekit.set_num_threads(n)
                    for w in ALIASES:
                        got = run_case(g, method, x, da, "contiguous", w)
                        if got is not None:
                            assert_same_bits(got, want, f"{g!r}.{method} {dtype.__name__} n={size} out={w} threads={n}")


KERNEL_OF = {"value": "_value", "derivative": "_derivative", "second_derivative": "_second",
             "derivative_from_output": "_from_output", "backward_a": "_from_output", "backward_z": "_derivative"}


@pytest.mark.parametrize("g", LECTURE, ids=repr)
def test_real_block_size(g, monkeypatch):
    """The shipped block size and thresholds, at and around them, float32 (float16 and 64 share the code)."""
    for method in methods_of(g):
        start = g._blocked_from(KERNEL_OF[method], np.dtype(np.float32))
        assert start in (_base.BLOCKED_FROM, _base.LIGHT_BLOCKED_BYTES // 4)
        for size in (start - 1, start, start + 1, start + 3 * _base.BLOCK + 7):
            z, da = data(size, np.float32, seed=5), grad(size, np.float32, seed=6)
            x = slope_input(g, method, z)
            with monkeypatch.context() as m:
                whole(m)
                want = run_case(g, method, x, da, "contiguous", "fresh")
            for n in (1, 2):
                slopekit.set_num_threads(n)
                for w in ("fresh", "input", "da"):
                    got = run_case(g, method, x, da, "contiguous", w)
                    if got is not None:
                        assert_same_bits(got, want, f"{g!r}.{method} n={size} out={w} threads={n}")


@pytest.mark.parametrize("g", LECTURE, ids=repr)
def test_scalars_and_0d_arrays(g, small_blocks):
    slopekit.set_num_threads(3)
    for dtype in FLOAT_DTYPES:
        z = dtype(0.75)
        assert_same_bits(g(z), g(np.array([z]))[0])
        assert_same_bits(g.derivative(np.array(z)), g.derivative(np.array([z]))[0])
        assert_same_bits(g.backward(dtype(2), z=z), g.backward(np.array([dtype(2)]), z=np.array([z]))[0])
    assert isinstance(g(0.5), np.floating)


def test_backward_with_da_and_cached_array_the_same_object(small_blocks, monkeypatch):
    """``backward(x, a=x, out=x)``: every argument one array."""
    z = data(700, np.float64, seed=7)
    a = slopekit.sigmoid(z)
    with monkeypatch.context() as m:
        whole(m)
        want = slopekit.sigmoid.backward(a, a=a)
    slopekit.set_num_threads(2)
    same = a.copy()
    assert_same_bits(slopekit.sigmoid.backward(same, a=same, out=same), want)


def test_partial_overlap_between_out_and_input(small_blocks, monkeypatch):
    """``out`` shifted by one element against the input: copied first, the result as without overlap."""
    buf = data(801, np.float64, seed=8)
    want = slopekit.tanh(buf[:-1].copy())
    slopekit.set_num_threads(2)
    got = slopekit.tanh(buf[:-1], out=buf[1:])
    assert_same_bits(got, want)


# -- the machinery: which arrays are blocked, errors, errstate, nesting ----------------


class _Recorder(slopekit.Activation):
    """An elementwise activation that records the sizes its kernel sees, and can fail on request."""

    name = "recorder"
    fail_at = None

    def __init__(self, blockwise: bool = True):
        self.sizes: list[int] = []
        self._lock = threading.Lock()
        self._blockwise = blockwise

    def _value_np(self, z, out):
        with self._lock:
            self.sizes.append(z.size)
        if self.fail_at is not None and np.any(z == self.fail_at):
            raise ArithmeticError("failing on purpose")
        np.multiply(z, 2.0, out=out)

    _derivative_np = _from_output_np = _second_np = _value_np


def test_blocks_only_above_the_threshold_and_only_blockwise_classes(small_blocks):
    slopekit.set_num_threads(2)
    g = _Recorder()
    g(np.zeros(2 * SMALL_BLOCK - 1))
    assert g.sizes == [2 * SMALL_BLOCK - 1]
    g.sizes.clear()
    g(np.zeros(5 * SMALL_BLOCK + 1))
    assert sorted(g.sizes) == [1] + [SMALL_BLOCK] * 5
    g.sizes.clear()
    g.backward(np.ones(5 * SMALL_BLOCK), z=np.zeros(5 * SMALL_BLOCK))
    assert g.sizes == [SMALL_BLOCK] * 5
    h = _Recorder(blockwise=False)
    h(np.zeros(5 * SMALL_BLOCK + 1))
    h.backward(np.ones(5 * SMALL_BLOCK), z=np.zeros(5 * SMALL_BLOCK))
    assert h.sizes == [5 * SMALL_BLOCK + 1, 5 * SMALL_BLOCK]


def test_softmax_is_never_blocked(small_blocks):
    for name in ("softmax", "log_softmax"):
        if name in slopekit.names():
            assert slopekit.get(name)._blockwise is False


def test_an_error_in_any_block_propagates_and_the_pool_still_works(small_blocks):
    slopekit.set_num_threads(3)
    g = _Recorder()
    g.fail_at = 7.0
    z = np.zeros(20 * SMALL_BLOCK)
    z[-3] = 7.0  # in the last block, which a helper thread may well take
    with pytest.raises(ArithmeticError, match="on purpose"):
        g(z)
    g.fail_at = None
    assert_same_bits(g(z), 2 * z)


def test_errstate_of_the_caller_applies_in_every_thread(small_blocks):
    slopekit.set_num_threads(3)

    class Reciprocal(_Recorder):
        def _value_np(self, z, out):
            np.divide(1.0, z, out=out)

    z = np.ones(20 * SMALL_BLOCK)
    z[-5] = 0.0
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        Reciprocal()(z)
    with np.errstate(divide="ignore"):
        assert np.isinf(Reciprocal()(z)[-5])


def test_a_kernel_may_call_a_blocked_activation_from_a_pool_thread(small_blocks):
    """Nested use runs in the pool thread itself: no deadlock, the same result."""
    slopekit.set_num_threads(2)

    class Nested(_Recorder):
        def _value_np(self, z, out):
            slopekit.sigmoid(np.repeat(z, 4)[: 3 * SMALL_BLOCK])  # blocked if called from the caller
            np.multiply(z, 2.0, out=out)

    z = data(10 * SMALL_BLOCK, np.float64)
    assert_same_bits(Nested()(z), 2 * z)


def test_calls_from_several_threads_at_once(small_blocks):
    slopekit.set_num_threads(2)
    z = data(50 * SMALL_BLOCK, np.float32, seed=9)
    want = slopekit.sigmoid(z)
    results = [None] * 4

    def work(i):
        results[i] = slopekit.sigmoid(z)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got in results:
        assert_same_bits(got, want)


# -- set_num_threads, get_num_threads and the environment variable ---------------------


def test_set_and_get_num_threads():
    for n in (1, 2, 5, np.int64(3)):
        slopekit.set_num_threads(n)
        assert slopekit.get_num_threads() == n
        assert type(slopekit.get_num_threads()) is int


@pytest.mark.parametrize("bad", [0, -1, 1.5, 2.0, "2", None, True, False])
def test_set_num_threads_rejects_bad_values(bad):
    before = slopekit.get_num_threads()
    with pytest.raises(ValueError, match="set_num_threads"):
        slopekit.set_num_threads(bad)
    assert slopekit.get_num_threads() == before


def test_exported():
    assert slopekit.set_num_threads is _threads.set_num_threads
    assert {"set_num_threads", "get_num_threads"} <= set(slopekit.__all__)


def _in_subprocess(code: str, env_value: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != _threads.ENV_VAR}
    if env_value is not None:
        env[_threads.ENV_VAR] = env_value
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


@pytest.mark.parametrize(
    "value, expected, warns",
    [(None, "cpus", False), ("", "cpus", False), ("  ", "cpus", False), ("3", 3, False), (" 1 ", 1, False),
     ("0", "cpus", True), ("-2", "cpus", True), ("two", "cpus", True), ("1.5", "cpus", True)],
)
def test_environment_variable(value, expected, warns):
    code = "import slopekit; print(slopekit.get_num_threads())"
    proc = _in_subprocess(code, value)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) == (_cpus() if expected == "cpus" else expected)
    assert ("RuntimeWarning" in proc.stderr) == warns, proc.stderr
    if warns:
        assert _threads.ENV_VAR in proc.stderr


def test_set_num_threads_overrides_the_environment_variable():
    code = "import slopekit; slopekit.set_num_threads(2); print(slopekit.get_num_threads())"
    proc = _in_subprocess(code, "5")
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) == 2


def test_import_creates_no_threads_and_small_arrays_none_either():
    code = (
        "import threading, numpy as np, slopekit\n"
        "from slopekit import _threads\n"
        "assert _threads._executor is None and _threads._num_threads is None\n"
        "slopekit.sigmoid(np.zeros(1000))\n"
        "assert _threads._executor is None and threading.active_count() == 1\n"
        "slopekit.set_num_threads(2)\n"
        "slopekit.sigmoid(np.zeros(1_000_000))\n"
        "assert _threads._executor is not None\n"
        "print('ok')\n"
    )
    proc = _in_subprocess(code, None)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


# -- relu's chunks against a cached zero array --------------------------------------------


def _relu_reference(z: np.ndarray) -> np.ndarray:
    """max(z, 0) by selection, not by NumPy's maximum: NaN kept, +0.0 for z <= 0 (as `maximum` gives)."""
    return np.where(np.isnan(z), z, np.where(z > 0, z, np.zeros_like(z)))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("chunk", [64, None], ids=["small-chunks", "real-chunks"])
def test_relu_chunks_and_the_scalar_path_equal_a_selection(dtype, chunk, monkeypatch):
    """relu compares chunks against cached zeros below `_SCALAR_FROM_BYTES`, the scalar 0 above: both exact."""
    from slopekit.activations import relu as relu_module

    if chunk is not None:
        monkeypatch.setattr(relu_module, "_CHUNK", chunk)
        monkeypatch.setattr(relu_module, "_ZEROS", {})
    c = relu_module._CHUNK
    whole(monkeypatch)
    slopekit.set_num_threads(1)
    for size in (0, 1, c - 1, c, c + 1, 3 * c + 5):
        z = data(size, dtype, seed=size)
        want = _relu_reference(z)
        for scalar_from in (relu_module._SCALAR_FROM_BYTES, 0):  # chunked, then the scalar path
            with monkeypatch.context() as m:
                m.setattr(relu_module, "_SCALAR_FROM_BYTES", scalar_from)
                assert_same_bits(slopekit.relu(z), want, f"relu n={size} scalar_from={scalar_from}")
                zz = z.copy()
                assert_same_bits(slopekit.relu(zz, out=zz), want, "out=z")
                f = np.asfortranarray(np.resize(z, (size, 3)) if size else z.reshape(0, 3))
                assert_same_bits(slopekit.relu(f), _relu_reference(f), "Fortran order")
    assert relu_module._zeros(np.dtype(dtype)).flags.writeable is False
