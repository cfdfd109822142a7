"""The small thread pool that evaluates large arrays in blocks, and its size.

NumPy releases the GIL inside its ufunc loops, so blocks of one array run in
parallel on several threads. The pool is created on first use, never at
import; the calling thread always takes part, so a pool of ``n`` threads has
``n - 1`` workers, and ``n = 1`` means no pool at all.

The number of threads is, in order of precedence:

1. the last `set_num_threads` call;
2. the environment variable ``SLOPEKIT_NUM_THREADS``, read once, on first
   use: a positive integer. An empty value counts as unset. Any other value
   (``0``, ``-1``, ``two``) is ignored with a `RuntimeWarning`, and the
   default applies: a typo in a job script should cost speed, not the job;
3. the default: the number of CPUs this process may run on
   (``os.sched_getaffinity``), else `os.cpu_count`.

Only cheap built-in modules are imported here (``concurrent.futures`` and
``threading`` load with the pool): ``import slopekit`` stays fast. A child
process made by ``fork`` starts without the parent's pool.
"""

from __future__ import annotations

import _thread
import contextvars
import operator
import os
import warnings
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

#: The environment variable that sets the default number of threads.
ENV_VAR = "SLOPEKIT_NUM_THREADS"

_lock = _thread.allocate_lock()
_num_threads: int | None = None  # None: not resolved yet (env var and CPUs read on first use)
_executor: ThreadPoolExecutor | None = None
_local = _thread._local()  # _local.worker is True in the pool's own threads


def _after_fork_in_child() -> None:
    """The pool's threads do not exist in a forked child: forget them (the thread count stays)."""
    global _lock, _executor
    _lock = _thread.allocate_lock()
    _executor = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _cpu_count() -> int:
    """The CPUs this process may run on: its affinity mask where the OS has one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def _parse_env(text: str | None) -> int | None:
    """The thread count an environment value asks for; None for unset, empty or invalid (with a warning)."""
    if text is None or not text.strip():
        return None
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value < 1:
        warnings.warn(
            f"{ENV_VAR}={text!r} is not a positive integer; ignored, using {_cpu_count()} threads",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return value


def _check(n: object) -> int:
    """``n`` as an int of at least 1 (NumPy integers accepted), else ValueError."""
    try:
        value = operator.index(n)
    except TypeError:
        value = None
    if value is None or isinstance(n, bool):
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    if value < 1:
        raise ValueError(f"set_num_threads: n must be at least 1, got {value}")
    return value


def get_num_threads() -> int:
    """The number of threads slopekit uses for large arrays (the calling thread included).

    Returns
    -------
    n : int
        At least 1. See `set_num_threads` for where the default comes from.

    Examples
    --------
    >>> import slopekit
    >>> slopekit.get_num_threads() >= 1
    True
    """
    global _num_threads
    n = _num_threads
    if n is None:
        with _lock:
            if _num_threads is None:
                _num_threads = _parse_env(os.environ.get(ENV_VAR)) or _cpu_count()
            n = _num_threads
    return n


def set_num_threads(n: int) -> None:
    """Set the number of threads slopekit uses for large arrays.

    Results do not depend on it: every block runs the same elementwise kernel.
    Arrays below a size threshold always run on the calling thread.

    Parameters
    ----------
    n : int
        At least 1; 1 runs everything on the calling thread. The default is
        the environment variable ``SLOPEKIT_NUM_THREADS`` when it holds a
        positive integer, else the number of CPUs this process may use.

    Raises
    ------
    ValueError
        If ``n`` is not an integer of at least 1 (bools and floats included).

    Examples
    --------
    >>> import slopekit
    >>> before = slopekit.get_num_threads()
    >>> slopekit.set_num_threads(1)
    >>> slopekit.get_num_threads()
    1
    >>> slopekit.set_num_threads(before)
    """
    global _num_threads, _executor
    n = _check(n)
    with _lock:
        if n == _num_threads:
            return
        old, _executor, _num_threads = _executor, None, n
    if old is not None:
        old.shutdown(wait=False)  # its idle workers exit; running blocks finish first


def _mark_worker() -> None:
    _local.worker = True


def _pool(workers: int) -> ThreadPoolExecutor:
    global _executor
    executor = _executor
    if executor is None:
        from concurrent.futures import ThreadPoolExecutor

        with _lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(workers, "slopekit", initializer=_mark_worker)
            executor = _executor
    return executor


class _Counter:
    """Hands out block indices 0, 1, ... below ``stop`` to the threads that ask."""

    __slots__ = ("_lock", "_next", "stop")

    def __init__(self, stop: int):
        self._lock = _thread.allocate_lock()
        self._next = 0
        self.stop = stop

    def __iter__(self):
        return self

    def __next__(self) -> int:
        with self._lock:
            i = self._next
            if i >= self.stop:
                raise StopIteration
            self._next = i + 1
        return i

    def cancel(self) -> None:
        """Hand out no more indices (after an error)."""
        with self._lock:
            self._next = self.stop


def parallel(work: Callable[[_Counter], Any], blocks: int) -> None:
    """Run ``work(indices)`` on up to `get_num_threads` threads until ``indices`` runs out.

    ``work`` is called once per taking part thread with one shared iterator of
    the block indices ``0 .. blocks-1``; it must handle each index it takes.
    The calling thread takes part and returns when every block is done. Each
    thread runs in a copy of the caller's context, so ``np.errstate`` applies
    in all of them. Called from a pool thread (nested), everything runs there.

    Raises
    ------
    Exception
        The first exception a thread raised; the others stop taking blocks.
    """
    indices = _Counter(blocks)
    helpers = min(get_num_threads(), blocks) - 1
    if helpers <= 0 or getattr(_local, "worker", False):
        work(indices)
        return
    executor = _pool(get_num_threads() - 1)

    def task() -> None:
        try:
            work(indices)
        except BaseException:
            indices.cancel()
            raise

    futures = []
    try:
        for _ in range(helpers):
            futures.append(executor.submit(contextvars.copy_context().run, task))
    except RuntimeError:  # set_num_threads shut this pool down meanwhile: fewer helpers
        pass
    error: BaseException | None = None
    try:
        contextvars.copy_context().run(task)
    except BaseException as exc:  # noqa: BLE001 - re-raised below, after the helpers stop
        error = exc
    for future in futures:
        if future.cancel():  # never started: the caller did its share
            continue
        exc = future.exception()
        if error is None:
            error = exc
    if error is not None:
        raise error


class on_calling_thread:
    """A context in which `parallel` runs everything on the calling thread.

    For work that is already one of many parallel tasks, such as a chunk on a
    Dask worker's thread: slopekit then adds no threads of its own to the
    worker's (one thread per Dask worker thread, no oversubscription).
    """

    def __enter__(self) -> None:
        self._before = getattr(_local, "worker", False)
        _local.worker = True

    def __exit__(self, *exc: Any) -> None:
        _local.worker = self._before
