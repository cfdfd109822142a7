"""``--data`` as a folder or a glob: the files of one table, checked to share their columns.

A folder's files are those with a data extension (`PART_FORMATS`), not
hidden and not starting with ``_`` (``_SUCCESS``, ``_metadata`` of Spark and
Dask), in name order; a glob (``parts/*.csv``) takes the files it matches,
in name order. All must be of one format (CSV and TSV count as one) and have
the same columns in the same order, with the same delimiter (a CSV's is
sniffed from the first file unless given).

Without Dask, `read_whole` reads every file as `slopekit._data_files` reads
one and stacks them: the rows in file order, as one table.
`slopekit._dask_data` reads them lazily instead.
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _data_files
from ._data_files import DataError, Table

__all__ = ["PART_FORMATS", "Parts", "columns", "fingerprint", "parts", "read_whole"]

#: The file types a folder or glob may hold.
PART_FORMATS = (".csv", ".tsv", ".parquet", ".npy")


class Parts:
    """The files of ``--data`` and their shared layout.

    Attributes
    ----------
    path : str
        ``--data`` as given (a file, a folder or a glob).
    files : list of str
        The files, in name order (one for a single file).
    kind : {".csv", ".parquet", ".npy", ".npz"}
        Their format (``.tsv`` files are ``.csv`` with a tab).
    delimiter : str or None
        A CSV's delimiter, given or sniffed from the first file.
    columns : list of str
        The columns (an array file's are ``"0"``, ``"1"``, ...).
    skip : int
        Empty lines above a CSV's header (in the first file).
    """

    def __init__(self, path: str, files: list[str], kind: str, delimiter: str | None, columns: list[str],
                 skip: int = 0):
        self.path, self.files, self.kind = path, files, kind
        self.delimiter, self.columns, self.skip = delimiter, columns, skip

    @property
    def several(self) -> bool:
        """Whether ``--data`` named a folder or a glob (rather than one file)."""
        return is_several(self.path)


def is_several(path: str) -> bool:
    """Whether ``path`` names a folder or a glob pattern rather than one file."""
    return os.path.isdir(path) or glob.has_magic(path)


def _listing(path: str) -> list[str]:
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if not n.startswith((".", "_")))
        files = [os.path.join(path, n) for n in names
                 if os.path.splitext(n)[1].lower() in PART_FORMATS and os.path.isfile(os.path.join(path, n))]
        if not files:
            raise DataError(f"{path}: a folder without data files; expected {', '.join(PART_FORMATS)} files in it")
        return files
    files = sorted(f for f in glob.glob(path) if os.path.isfile(f))
    if not files:
        raise DataError(f"{path}: matches no file; give a folder, a glob such as parts/*.csv, or a file")
    return files


def parts(path: str, delimiter: str | None = None) -> Parts:
    """The files ``path`` names and their columns (DataError when they do not make one table)."""
    if not is_several(path):
        ext = _data_files.file_format(path)
        kind = ".csv" if ext in (".csv", ".tsv") else ext
        files = [path]
    else:
        files = _listing(path)
        exts = sorted({os.path.splitext(f)[1].lower() for f in files})
        unusable = [e for e in exts if e not in PART_FORMATS]
        if unusable:
            raise DataError(f"{path}: matches {unusable[0] or 'extensionless'} files; a folder or glob takes "
                            f"{', '.join(PART_FORMATS)} files")
        kinds = {".csv" if e in (".csv", ".tsv") else e for e in exts}
        if len(kinds) > 1:
            raise DataError(f"{path}: holds files of several formats ({', '.join(exts)}); give one format (a glob "
                            "such as parts/*.csv picks one)")
        kind = kinds.pop()
        for f in files:
            _data_files.file_format(f)  # readable
    first, delimiter, skip = _layout(files[0], kind, delimiter)
    for f in files[1:]:
        other = _layout(f, kind, delimiter)[0]
        if other != first:
            raise DataError(_mismatch(path, files[0], first, f, other))
    return Parts(path, files, kind, delimiter, first, skip)


def _layout(path: str, kind: str, delimiter: str | None) -> tuple[list[str], str | None, int]:
    """A file's columns, its delimiter (CSV) and the empty lines above its header."""
    if kind == ".csv":
        if delimiter is None and path.lower().endswith(".tsv"):
            delimiter = "\t"
        delimiter, names, skip = _data_files.csv_header(path, delimiter)
        return names, delimiter, skip
    return columns(path, kind), None, 0


def columns(path: str, kind: str) -> list[str]:
    """The columns of a Parquet file (its schema) or of a ``.npy`` 2-D array (``"0"``, ``"1"``, ...)."""
    if kind == ".parquet":
        return _data_files.parquet_columns(path)
    if kind == ".npy":
        return [str(j) for j in range(npy_shape(path)[1])]
    raise DataError(f"{path}: a folder or glob takes {', '.join(PART_FORMATS)} files")


def npy_shape(path: str) -> tuple[int, int]:
    """The shape of a ``.npy`` file's array, as ``(rows, columns)``, from its header only."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: cannot read it as .npy: {reason}") from None
    if array.dtype.kind not in "biuf":
        raise DataError(f"{path}: expected a numeric array, got dtype {array.dtype}")
    shape = array.shape if array.ndim == 2 else (array.shape[0], 1) if array.ndim == 1 else array.shape
    if len(shape) != 2 or shape[0] == 0:
        raise DataError(f"{path}: expected a 2-D array (n_samples, n_columns), got shape {array.shape}")
    return shape


def _mismatch(path: str, first: str, mine: list[str], other: str, theirs: list[str]) -> str:
    """One line saying how ``other``'s columns differ from ``first``'s."""
    from ._data_files import _shown

    missing = [c for c in mine if c not in theirs]
    extra = [c for c in theirs if c not in mine]
    if missing or extra:
        what = "; ".join(([f"it lacks {_shown([repr(c) for c in missing], 6)}"] if missing else []) +
                         ([f"it has {_shown([repr(c) for c in extra], 6)} besides"] if extra else []))
    else:
        what = f"the same names in another order ({_shown(theirs, 6)})"
    return (f"{other}: its columns differ from those of {first} ({what}); every file of {path} needs the same "
            "columns, in the same order")


def read_whole(found: Parts, target: str | None, *, dtype: Any, progress: bool | None) -> Table:
    """Every file of ``found`` read into memory (`slopekit._data_files.read_labelled`) and stacked."""
    tables = [_data_files.read_labelled(f, target, delimiter=found.delimiter, dtype=dtype, progress=progress)
              for f in found.files]
    X = np.concatenate([t.X for t in tables]) if len(tables) > 1 else tables[0].X
    return Table(X, _stacked([t.y for t in tables]), tables[0].features, tables[0].target, [])


def _stacked(ys: Sequence[np.ndarray]) -> np.ndarray:
    """The files' target values as one column; values read as different kinds (numbers in one file, text in
    another) are taken again as text, as one file holding them all would be."""
    if len(ys) == 1:
        return ys[0]
    kinds = {y.dtype.kind for y in ys}
    if kinds <= {"i", "u", "f"} or len(kinds) == 1:
        return np.concatenate(ys)
    import pyarrow as pa

    text = pa.array([str(v).lower() if isinstance(v, (bool, np.bool_)) else str(v) for y in ys for v in y.tolist()])
    return _data_files.target_values(text)


def fingerprint(found: Parts, *, contents: bool) -> str:
    """A SHA-256 that changes when the data change.

    With ``contents``, one file: of its bytes; several: of each file's name
    and the SHA-256 of its bytes. Without (what a run on Dask, whose data may
    be far larger than memory, checks): of each file's name, size and
    modification time.
    """
    if contents and not found.several:
        return _data_files_sha256(found.files[0])
    digest = hashlib.sha256()
    for f in found.files:
        stat = os.stat(f)
        mark = _data_files_sha256(f) if contents else f"{stat.st_size}:{stat.st_mtime_ns}"
        digest.update(f"{os.path.basename(f)}\t{mark}\n".encode())
    return digest.hexdigest()


def _data_files_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
