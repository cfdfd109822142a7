"""A Dask cluster for ``slopekit train --workers N`` or ``--scheduler ADDRESS``.

`connect` starts a `distributed.LocalCluster` of ``N`` worker processes on
this machine, one thread each (slopekit's own thread pool stays off on the
workers, so each worker computes on one core), or connects a
`distributed.Client` to a running scheduler. While the client is open it is
Dask's default scheduler: `slopekit.Network` and the command's lazy reading
(`slopekit._dask_data`) compute on it. The workers of an existing cluster need
slopekit installed (the same version), as they run its functions.

Dask is imported only here and only when asked for; without it the command
says how to install it (``pip install "slopekit[dask]"``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["CONNECT_TIMEOUT", "Cluster", "ClusterError", "connect", "require_dask"]

#: Seconds to wait for ``--scheduler ADDRESS`` to answer.
CONNECT_TIMEOUT = 10.0

#: The dashboard's usual port; a LocalCluster takes any free one when it is busy.
DASHBOARD_PORT = 8787


class ClusterError(Exception):
    """Dask is missing, or the cluster cannot be started or reached; the message is one line."""


def require_dask(flag: str) -> None:
    """Raise `ClusterError` naming ``flag`` unless Dask (arrays, dataframes) and distributed are installed."""
    for name in ("dask", "dask.array", "dask.dataframe", "distributed"):
        try:
            importlib.import_module(name)
        except ImportError:
            raise ClusterError(f'{flag} needs Dask, which is not installed: pip install "slopekit[dask]"') from None


@dataclass
class Cluster:
    """A connected client and what to tell the user about it.

    Attributes
    ----------
    client : distributed.Client
    description : str
        ``"a LocalCluster of 2 workers (1 thread each)"`` or ``"the scheduler
        at tcp://..."``.
    dashboard : str or None
        The dashboard's address, when the scheduler serves one.
    flags : dict
        ``{"workers": N}`` or ``{"scheduler": ADDRESS}``: what to connect to
        again (a checkpoint keeps it).
    """

    client: Any
    description: str
    dashboard: str | None
    flags: dict[str, Any]

    def memory(self) -> int:
        """The workers' memory limits added up, in bytes (0 when unknown)."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        return int(sum(w.get("memory_limit") or 0 for w in workers))

    def threads(self) -> int:
        """The worker threads of the cluster."""
        return int(sum(self.client.nthreads().values()))


def _main_thread() -> bool:
    """Whether this is the main thread (the only one that may set signal handlers)."""
    return threading.current_thread() is threading.main_thread()


def _free(port: int) -> bool:
    """Whether a TCP ``port`` can be listened on, on every interface (as the dashboard does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("", port))
        except OSError:
            return False
    return True


def _dashboard(client: Any) -> str | None:
    try:
        return client.dashboard_link if "dashboard" in client.scheduler_info()["services"] else None
    except (KeyError, AttributeError):
        return None


@contextlib.contextmanager
def connect(workers: int | None = None, scheduler: str | None = None) -> Iterator[Cluster]:
    """A client on a new LocalCluster of ``workers`` processes, or on the scheduler at ``scheduler``.

    Closed (the client, then a cluster it started) when the block ends.

    Raises
    ------
    ClusterError
        Dask is not installed, or the scheduler does not answer within
        `CONNECT_TIMEOUT` seconds, or its address cannot be parsed.
    """
    if (workers is None) == (scheduler is None):
        raise ValueError("connect: give workers or scheduler, one of them")
    require_dask("--workers" if workers is not None else "--scheduler")
    import distributed

    cluster = None
    with contextlib.ExitStack() as stack:
        if workers is not None:
            # Asked for a busy port, distributed warns and leaves a socket unclosed: ask for a free one instead.
            port = DASHBOARD_PORT if _free(DASHBOARD_PORT) else 0
            # Ctrl-C in a terminal goes to the whole process group, the workers included: started with SIGINT
            # ignored (which a new Python process keeps), they stay up while the command writes its checkpoint.
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
            try:
                cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                   dashboard_address=f":{port}", silence_logs=logging.ERROR)
            finally:
                if previous is not None:
                    signal.signal(signal.SIGINT, previous)
            stack.callback(cluster.close)
            client = distributed.Client(cluster)
            description = f"a LocalCluster of {workers} worker{'s' if workers > 1 else ''} (1 thread each)"
        else:
            try:
                client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, ValueError, TypeError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                if not isinstance(exc, OSError):  # the address itself is wrong: no point in waiting
                    raise ClusterError(f"--scheduler {scheduler!r} is not an address a Dask scheduler listens on "
                                       f"({reason}); expected tcp://HOST:PORT") from None
                raise ClusterError(f"--scheduler {scheduler}: cannot connect within {CONNECT_TIMEOUT:g} s "
                                   f"({reason}); is a Dask scheduler running there?") from None
            description = f"the scheduler at {scheduler}"
        stack.callback(client.close)
        dashboard = _dashboard(client)
        if dashboard is not None and cluster is not None and importlib.util.find_spec("bokeh") is None:
            dashboard += " (its pages need bokeh: pip install bokeh)"
        flags = {"workers": workers} if workers is not None else {"scheduler": scheduler}
        yield Cluster(client, description, dashboard, flags)
