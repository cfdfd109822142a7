"""Write a file so that readers see the old file or the whole new one, never half of it."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterator
from typing import IO


@contextlib.contextmanager
def replacing(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success rename it over ``path``.

    The temporary file is in the same directory (so the rename is atomic on
    POSIX and Windows), flushed and fsynced before `os.replace`. If the block
    raises, or the process is interrupted, the temporary file is removed and
    ``path`` is untouched.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    mode : {"w", "wb"}
        Text or binary.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from slopekit._atomic import replacing
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
    >>> with replacing(path) as f:
    ...     _ = f.write("whole")
    >>> path.read_text(), [p.name for p in path.parent.iterdir()]
    ('whole', ['note.txt'])
    """
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(tmp, "x" + mode.replace("w", ""), **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            with contextlib.suppress(FileNotFoundError):  # keep an existing file's permissions
                os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make a rename in ``directory`` durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


#: The temporary files `replacing` makes: ``.NAME.<12 hex digits>.tmp``.
LEFTOVER = re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$")


def remove_leftovers(directory: str | os.PathLike) -> list[str]:
    """Delete the temporary files that a killed writer (SIGKILL, power loss) left in ``directory``.

    `replacing` removes its temporary file on any exception, but nothing runs
    after SIGKILL; the target itself is intact (old or new), only the
    temporary file stays. Call this before resuming work in a folder, never
    while another process may be writing there. Returns the names removed.
    """
    removed = []
    for name in sorted(os.listdir(directory)):
        if LEFTOVER.match(name):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(directory, name))
                removed.append(name)
    return removed
