"""Training data for the command line: a built-in dataset by name, or a CSV, Parquet, ``.npy`` or ``.npz`` file.

CSV and Parquet are read with pyarrow (``pip install "slopekit[cli]"``):
CSV through its streaming reader, one block at a time, into a float64
matrix, with a progress bar for files over `PROGRESS_BYTES`. The delimiter is
sniffed from the first lines unless given. The feature columns must hold
numbers; the target column may hold numbers, text or true/false.

When pyarrow refuses a file, or a value is missing, infinite or too large for
the run's dtype, the file is scanned once more with Python's ``csv`` module
up to the first such cell, so that the message names its column and its line
(`first_problem`). Every problem is a `DataError` whose message names the
file and says what would be right; the command line prints it as one line.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["DATASETS", "FORMATS", "DataError", "Table", "dataset", "read_features", "read_labelled",
           "sniff_delimiter"]

#: The names ``--dataset`` accepts, and the `slopekit.datasets` function of each.
DATASETS = {
    "flower": "planar_flower",
    "moons": "moons",
    "circles": "circles",
    "spirals": "spirals",
    "xor": "xor",
}

#: The file types ``--data`` reads, by extension.
FORMATS = (".csv", ".tsv", ".parquet", ".npy", ".npz")
_TEXT = (".csv", ".tsv")

#: Files larger than this (in bytes) get a progress bar while they load (on a terminal).
PROGRESS_BYTES = 8 << 20

#: The delimiters `sniff_delimiter` chooses from.
DELIMITERS = (",", ";", "\t", "|")

#: Bytes per block of the streaming CSV reader (pyarrow's default; larger blocks raise the peak: the reader
#: reads several ahead).
_BLOCK = 1 << 20


class DataError(ValueError):
    """A data file that cannot be used, or a column that does not exist."""


@dataclass
class Table:
    """Feature columns as a float64 matrix, and the raw target column.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,) or None
        The target as read: int64, float64, bool or str; None when no target
        was read.
    features : list of str
        The names of the columns of ``X``.
    target : str or None
        The target column's name.
    ignored : list of str
        Columns of the file that were not read.
    kept : dict of str to array
        Columns read as they are for ``predict --keep`` (pyarrow or NumPy
        arrays, one value per row), by name.
    """

    X: np.ndarray
    y: np.ndarray | None
    features: list[str]
    target: str | None
    ignored: list[str]
    kept: dict[str, Any] = field(default_factory=dict)


def dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The built-in dataset ``name`` (a key of `DATASETS`) with its default size and seed.

    Examples
    --------
    >>> from slopekit._data_files import dataset
    >>> X, y = dataset("flower")
    >>> X.shape, sorted(set(y.tolist()))
    ((400, 2), [0, 1])
    """
    from . import datasets

    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    return getattr(datasets, DATASETS[name])()


# -- choosing columns -----------------------------------------------------------------------------


def _shown(names: Sequence[str], limit: int = 12) -> str:
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")


def target_index(columns: list[str], target: str | None, path: str) -> int:
    if len(columns) < 2:
        raise DataError(f"{path}: needs at least two columns (features and a target), got {len(columns)}")
    if target is None:
        return len(columns) - 1
    if target in columns:
        return columns.index(target)
    raise DataError(f"{path}: unknown target column {target!r}; the columns are: {_shown(columns)}")


def _chosen(columns: list[str], features: Sequence[str], path: str) -> None:
    missing = [name for name in features if name not in columns]
    if missing:
        count = f" ({len(missing)} of {len(features)})" if len(missing) > 1 else ""
        raise DataError(f"{path}: missing the model's feature column{'s' if len(missing) > 1 else ''} "
                        f"{_shown([repr(m) for m in missing], 8)}{count}; the file's columns are: {_shown(columns)}")


# -- reading --------------------------------------------------------------------------------------


def read_labelled(path: str, target: str | None = None, *, delimiter: str | None = None,
                  dtype: Any = np.float64, progress: bool | None = None) -> Table:
    """Features and target from a file.

    Parameters
    ----------
    path : str
        A CSV (``.csv``, ``.tsv``) file with a header row, a Parquet file, a
        ``.npy`` 2-D array, or a ``.npz`` holding ``X`` and ``y`` (or one 2-D
        array).
    target : str or None
        The target column's name (for arrays: its index, as text); None takes
        the last column. Must be None or ``"y"`` for a ``.npz`` with ``X``
        and ``y``.
    delimiter : str, optional
        The CSV delimiter; sniffed from the first lines when None.
    dtype : float32 or float64
        The run's dtype: a value beyond its range is refused.
    progress : bool or None
        A progress bar for a large CSV (None: on a terminal only).

    Returns
    -------
    Table
        Every column but the target as features, in file order.
    """
    ext = file_format(path)
    if ext in _TEXT:
        given = delimiter
        delimiter, columns, skip = csv_header(path, delimiter)
        if len(columns) < 2:
            advice = (f"it does not split into columns with --delimiter {_delimiter_name(given)}" if given else
                      "if its delimiter is not one of , ; tab |, give it with --delimiter")
            raise DataError(f"{path}: needs at least two columns (features and a target), got 1 "
                            f"({columns[0]!r}); {advice}")
        j = target_index(columns, target, path)
        features = [c for i, c in enumerate(columns) if i != j]
        X, y = _read_csv(path, (delimiter, columns, skip), features, columns[j], dtype, progress)
        return Table(X, y, features, columns[j], [])
    if ext == ".parquet":
        columns = parquet_columns(path)
        j = target_index(columns, target, path)
        features = [c for i, c in enumerate(columns) if i != j]
        X, y = _read_parquet(path, features, columns[j], dtype)
        return Table(X, y, features, columns[j], [])
    X, y = _read_arrays(path, dtype)
    if y is not None:
        if target not in (None, "y"):
            raise DataError(f"{path}: holds arrays X and y, so --target must be omitted, got {target!r}")
        return Table(X, y, [str(j) for j in range(X.shape[1])], "y", [])
    columns = [str(j) for j in range(X.shape[1])]
    j = target_index(columns, target, path)
    y = X[:, j].copy()
    return Table(np.delete(X, j, axis=1), y, [c for c in columns if c != columns[j]], columns[j], [])


def read_features(path: str, features: Sequence[str] | None, n_features: int, *, target: str | None = None,
                  delimiter: str | None = None, dtype: Any = np.float64, progress: bool | None = None,
                  keep: Sequence[str] = ()) -> Table:
    """The feature columns of a file, to predict on.

    Parameters
    ----------
    path : str
        As for `read_labelled`.
    features : sequence of str or None
        The model's feature names: those columns are read, in this order,
        whatever their order in the file; other columns are left out (and
        listed in ``Table.ignored``). None (a model without names), or an
        array file whose columns (named ``"0"``, ``"1"``, ...) do not hold
        them: the file's columns by position, less ``target``.
    n_features : int
        The number of features the model takes.
    target : str, optional
        Without ``features``: a column to leave out.
    keep : sequence of str
        Columns to read as they are (any type; a CSV's as text), into
        ``Table.kept``; a name the file does not have is refused.

    Returns
    -------
    Table
        With ``y`` None.
    """
    try:
        return _read_features(path, features, n_features, target, delimiter, dtype, progress, keep)
    except DataError as exc:  # the model's dtype is fixed: retraining is the way to another
        raise DataError(str(exc).replace(TRAIN_DTYPE_HINT, PREDICT_DTYPE_HINT)) from None


def _positional(names: Sequence[str]) -> bool:
    """Whether ``names`` are an array file's column positions (``"0"``, ``"1"``, ...), not a table's names."""
    return bool(names) and all(name.isdigit() for name in names)


def _read_features(path: str, features: Sequence[str] | None, n_features: int, target: str | None,
                   delimiter: str | None, dtype: Any, progress: bool | None, keep: Sequence[str]) -> Table:
    ext = file_format(path)
    y = None
    if ext in _TEXT:
        delimiter, columns, skip = csv_header(path, delimiter)
    elif ext == ".parquet":
        columns = parquet_columns(path)
    else:
        X, y = _read_arrays(path, dtype)
        columns = [str(j) for j in range(X.shape[1])]
    if target is not None and target not in columns:
        raise DataError(f"{path}: unknown target column {target!r}; the columns are: {_shown(columns)}")
    keepable = columns + (["y"] if y is not None else [])
    missing = [name for name in keep if name not in keepable]
    if missing:
        raise DataError(f"{path}: no column {_shown([repr(m) for m in missing], 8)} to --keep; the file's columns "
                        f"are: {_shown(keepable)}")
    named = list(features) if features is not None and not _positional(features) else None
    if ext in (".npy", ".npz") and features is not None and not set(features) <= set(columns):
        features = None  # an array has no column names to match: its columns are taken by position
    if features is None:
        chosen = [c for c in columns if c != target]
        if len(chosen) != n_features:
            hint = " (name the target column to leave out with --target)" if len(chosen) == n_features + 1 else ""
            if named and ext in (".npy", ".npz"):
                hint += (f"; the model was trained on a table with named columns ({_shown(named, 6)}), and an "
                         "array file's columns are taken by position in that order: predict on a table with "
                         "those column names (CSV or Parquet), or on an array of exactly those columns")
            raise DataError(f"{path}: has {len(chosen)} feature columns but the model takes {n_features}{hint}")
    else:
        chosen = list(features)
        if ext not in (".npy", ".npz") and _positional(chosen) and not set(chosen) <= set(columns) \
                and not _positional(columns):
            k = len(chosen)
            raise DataError(f"{path}: the model was trained on an array file (.npy or .npz), so its features are "
                            f"array columns {_shown(chosen, 6)}, not names, and this file's columns are named "
                            f"({_shown(columns, 6)}); predict on a .npy or .npz file with the columns in the "
                            f"training order, or name this file's feature columns {chosen[0]}"
                            f"{'' if k == 1 else (', ' if k == 2 else '..') + chosen[-1]} in its header")
        _chosen(columns, chosen, path)
    ignored = [c for c in columns if c not in chosen]
    kept: dict[str, Any] = {}
    if ext in _TEXT:
        X, _ = _read_csv(path, (delimiter, columns, skip), chosen, None, dtype, progress)
        if keep:
            kept = _read_csv_text(path, (delimiter, columns, skip), list(keep), len(X))
    elif ext == ".parquet":
        X, _ = _read_parquet(path, chosen, None, dtype)
        if keep:
            kept = _read_parquet_columns(path, list(keep))
    else:
        kept = {name: y if name == "y" else X[:, columns.index(name)].copy() for name in keep}
        X = X[:, [columns.index(c) for c in chosen]]
    return Table(X, None, chosen, None, ignored, kept)


def _read_csv_text(path: str, layout: tuple[str, list[str], int], names: list[str], n: int) -> dict[str, Any]:
    """The columns ``names`` of a CSV as pyarrow text arrays, each cell as written (``n`` rows, as read before)."""
    delimiter, columns, skip = layout
    pa, pacsv = pyarrow_modules("csv")
    read = pacsv.ReadOptions(block_size=_block_size(_head(path)), column_names=columns, skip_rows=skip + 1)
    convert = pacsv.ConvertOptions(column_types={name: pa.string() for name in names}, include_columns=names,
                                   strings_can_be_null=False)
    try:
        with pa.input_stream(path) as stream:
            stream.read(_bom_length(path))
            table = pacsv.read_csv(stream, read_options=read, parse_options=pacsv.ParseOptions(delimiter=delimiter),
                                   convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise DataError(f"{path}: cannot read the --keep columns: {str(exc).splitlines()[0]}") from None
    if table.num_rows != n:
        raise DataError(f"{path}: changed while it was read")
    return {name: table.column(name) for name in names}


def _read_parquet_columns(path: str, names: list[str]) -> dict[str, Any]:
    """The columns ``names`` of a Parquet file as they are (any type CSV can hold)."""
    pa, pq = pyarrow_modules("parquet")
    try:
        table = pq.read_table(path, columns=names)
    except Exception as exc:  # as in _read_parquet
        raise DataError(f"{path}: cannot read it as Parquet: {str(exc).splitlines()[0] if str(exc) else exc}") from None
    for name in names:
        kind = table.column(name).type
        if pa.types.is_nested(kind) or pa.types.is_dictionary(kind) and pa.types.is_nested(kind.value_type):
            raise DataError(f"{path}: column {name!r} holds {kind}, which a CSV cell cannot; --keep columns of "
                            "numbers, text, true/false or dates")
    return {name: table.column(name) for name in names}


def file_format(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory; expected a {', '.join(FORMATS)} file")
    if ext not in FORMATS:
        raise DataError(f"{path}: unsupported file type {ext or '(none)'!r}; expected {', '.join(FORMATS)}")
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file")
    if not os.access(path, os.R_OK):
        raise DataError(f"{path}: permission denied")
    return ext


# -- CSV ------------------------------------------------------------------------------------------


def sniff_delimiter(sample: str) -> str:
    """The delimiter of `DELIMITERS` that splits the sample's lines into the most columns, equally.

    Only whole lines of ``sample`` count; a candidate must give every line the
    same number of cells, more than one. Without one: ``","``.

    Examples
    --------
    >>> from slopekit._data_files import sniff_delimiter
    >>> sniff_delimiter("a;b;c\\n1,5;2;3\\n4;5,5;6\\n")
    ';'
    >>> sniff_delimiter("a,b\\n1,2\\n")
    ','
    """
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1 and not lines[-1].endswith(("\n", "\r")):
        lines = lines[:-1]  # cut off by the sample's end
    lines = lines[:50]
    best, most = ",", 1
    for candidate in DELIMITERS:
        try:
            counts = {len(row) for row in csv.reader(lines, delimiter=candidate) if row}
        except csv.Error:  # a wide line is one field longer than the csv module takes: not this delimiter
            continue
        if len(counts) == 1 and (n := counts.pop()) > most:
            best, most = candidate, n
    return best


def _head(path: str, lines: int = 3, limit: int = 1 << 28) -> bytes:
    """The file's first 64 KiB, or more until it holds ``lines`` whole lines (a wide table's header is long)."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
            while head.count(b"\n") < lines and len(head) < limit:
                more = f.read(len(head))
                if not more:
                    break
                head += more
    except OSError as exc:
        raise DataError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    return head


def csv_header(path: str, delimiter: str | None) -> tuple[str, list[str], int]:
    """The delimiter (given or sniffed), the header's column names (checked), and the empty lines above it."""
    head = _head(path)
    if not head.strip():
        raise DataError(f"{path}: the file is empty; expected a header row of column names, then rows of numbers")
    if b"\x00" in head:
        raise DataError(f"{path}: not a text file (it holds NUL bytes); expected CSV with a header row")
    head = head.removeprefix(codecs.BOM_UTF8)
    lines = head.split(b"\n")
    skip = next(i for i, line in enumerate(lines) if line.strip(b"\r"))  # empty lines above the header
    first = lines[skip]
    try:
        first.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: line {skip + 1} (the header) is not UTF-8 text (byte {first[exc.start]:#04x}); "
                        "save the file as UTF-8") from None
    text = b"\n".join(lines[skip:]).decode("utf-8", errors="replace")
    given = delimiter
    if delimiter is None:
        delimiter = "\t" if path.lower().endswith(".tsv") else sniff_delimiter(text)
    header = [cell.strip() for cell in next(csv.reader(io.StringIO(text), delimiter=delimiter))]
    if given is not None and len(header) == 1 and (seen := sniff_delimiter(text)) != given \
            and len(next(csv.reader(io.StringIO(text), delimiter=seen))) > 1:
        raise DataError(f"{path}: does not split into columns with --delimiter {_delimiter_name(given)}; its "
                        f"header seems to use {_delimiter_name(seen)}: give that, or leave --delimiter out to "
                        "have it sniffed")
    if all(_is_number(cell) for cell in header):
        raise DataError(f"{path}: the first row must be a header of column names, got the numbers "
                        f"{_shown(header)}")
    if len(set(header)) != len(header) or not all(header):
        raise DataError(f"{path}: the header needs distinct, non-empty column names, got {_shown(header)}")
    if not any(line.strip() for line in lines[skip + 1:]) and os.path.getsize(path) <= len(head) + 3:
        raise DataError(f"{path}: no data rows below the header")
    return delimiter, header, skip


def _delimiter_name(delimiter: str) -> str:
    """A delimiter as the user would type it: ``';'``, ``tab``, ``space``."""
    return {"\t": "tab", " ": "space"}.get(delimiter, repr(delimiter))


def _is_number(text: str) -> bool:
    """Whether pyarrow would read ``text`` as a number (Python's float, without its ``_`` separators)."""
    text = text.strip()
    if "_" in text:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(path: str, layout: tuple[str, list[str], int], features: list[str], target: str | None,
              dtype: Any, progress: bool | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The ``features`` as float64 ``(n, f)`` and the ``target`` column's values, through pyarrow.

    ``layout`` is what `csv_header` found: the delimiter, the columns, and
    the empty lines above the header.
    """
    delimiter, columns, skip = layout
    pa, pacsv = pyarrow_modules("csv")
    types = {name: pa.float64() for name in features}
    if target is not None:
        types[target] = pa.string()
    head = _head(path)
    block = _block_size(head)
    read = pacsv.ReadOptions(block_size=block, column_names=columns, skip_rows=skip + 1)
    parse = pacsv.ParseOptions(delimiter=delimiter)
    convert = pacsv.ConvertOptions(column_types=types, include_columns=[*features, *([target] if target else [])],
                                   strings_can_be_null=False)
    size = os.path.getsize(path)
    rows = _Rows(len(features), _row_estimate(head, size))
    labels = []
    bar = _progress_bar(path, size, progress)
    try:
        with pa.input_stream(path) as stream:
            stream.read(_bom_length(path))
            for batch in pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert):
                rows.add(batch)
                if target is not None:
                    labels.append(batch.column(len(features)))
                if bar is not None:
                    bar.update(min(block, size - bar.n))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DataError(first_problem(path, delimiter, columns, features, dtype)
                        or f"{path}: cannot read it as CSV: {str(exc).splitlines()[0]}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    finally:
        if bar is not None:
            bar.close()
    if rows.n == 0:
        raise DataError(f"{path}: no data rows below the header")
    X = rows.matrix()
    bad = bad_cell(X, dtype)
    if bad is not None:
        raise DataError(cell_message(path, delimiter, columns, features[bad[1]], bad[0], dtype))
    if target is None:
        return X, None
    y = target_values(pa.chunked_array(labels, type=pa.string()))
    bad_row = bad_target(y, dtype)
    if bad_row is not None:
        raise DataError(cell_message(path, delimiter, columns, target, bad_row, dtype))
    return X, y


def _bom_length(path: str) -> int:
    with open(path, "rb") as f:
        return 3 if f.read(3) == codecs.BOM_UTF8 else 0


class _Rows:
    """The feature columns of the reader's batches, copied into one float64 matrix as they come.

    The matrix is allocated for the rows the file's size suggests (`_row_estimate`)
    and grown by a quarter when that was too few, so that loading holds little
    more than the matrix itself: no list of blocks to join at the end.
    """

    def __init__(self, n_features: int, estimate: int):
        self.n_features, self.n = n_features, 0
        self.X = np.empty((estimate, n_features))

    def add(self, batch: Any) -> None:
        m = batch.num_rows
        if self.n + m > self.X.shape[0]:
            grown = np.empty((max(self.n + m, int(self.X.shape[0] * 1.25)), self.n_features))
            grown[:self.n] = self.X[:self.n]
            self.X = grown
        for j in range(self.n_features):  # missing values come as NaN
            self.X[self.n:self.n + m, j] = batch.column(j).to_numpy(zero_copy_only=False)
        self.n += m

    def matrix(self) -> np.ndarray:
        """The rows read, ``(n, n_features)``: a view of the matrix, or a copy where the estimate was far off."""
        if self.n < 0.9 * self.X.shape[0]:
            return self.X[:self.n].copy()
        return self.X[:self.n]


def _block_size(head: bytes) -> int:
    """`_BLOCK`, or more for a file whose lines are long: a block must hold whole rows (eight of the longest
    whole line of the file's `_head`)."""
    lines = head.split(b"\n")[:-1]
    return max(_BLOCK, 8 * max(map(len, lines), default=len(head)))


def _row_estimate(head: bytes, size: int) -> int:
    """The data rows a CSV of ``size`` bytes holds if its rows are as long as those of its `_head`, plus 5 %."""
    lines = head.count(b"\n") - 1  # less the header
    if lines < 1 or len(head) >= size:
        return max(lines + 1, 1)
    return int(size / (len(head) / (lines + 1)) * 1.05) + 64


def pyarrow_modules(module: str) -> tuple[Any, Any]:
    try:
        import importlib

        import pyarrow

        return pyarrow, importlib.import_module(f"pyarrow.{module}")
    except ImportError:
        raise DataError('reading CSV and Parquet files needs pyarrow, which is not installed: '
                        'pip install "slopekit[cli]"') from None


def _progress_bar(path: str, size: int, progress: bool | None) -> Any:
    if progress is False or (progress is None and size <= PROGRESS_BYTES):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    bar = tqdm(total=size, unit="B", unit_scale=True, desc=f"reading {os.path.basename(path)}",
               file=__import__("sys").stderr, disable=None if progress is None else False, dynamic_ncols=True,
               mininterval=0.1, leave=False)
    return None if bar.disable else bar


# -- the values' checks ---------------------------------------------------------------------------


def value_limit(dtype: Any) -> float:
    return float(np.finfo(np.dtype(dtype)).max)


def bad_cell(X: np.ndarray, dtype: Any) -> tuple[int, int] | None:
    """The first (row, column) of ``X`` holding NaN, infinity or a value beyond ``dtype``'s range; or None.

    Only columns whose minimum or maximum is out of range are searched, so a
    good matrix costs two reductions.
    """
    limit = value_limit(dtype)
    with np.errstate(invalid="ignore"):
        lo, hi = X.min(axis=0), X.max(axis=0)
    suspects = np.flatnonzero(~((lo >= -limit) & (hi <= limit)))
    found = None
    for j in suspects:
        row = int(np.flatnonzero(~(np.abs(X[:, j]) <= limit))[0])
        if found is None or row < found[0]:
            found = (row, int(j))
    return found


def bad_target(y: np.ndarray, dtype: Any) -> int | None:
    """The first row whose target is missing (empty text, NaN) or beyond ``dtype``'s range; or None."""
    if y.dtype.kind == "U":
        empty = np.flatnonzero(np.char.str_len(y) == 0)
        return int(empty[0]) if empty.size else None
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~(np.abs(y) <= value_limit(dtype)))
        return int(bad[0]) if bad.size else None
    return None


def target_values(column: Any) -> np.ndarray:
    """A text column's values as int64, float64, bool or str, the first of these that every value fits.

    Numbers among texts that pyarrow reads as missing (``NA``, ``NaN``, ...)
    come back as float64 with NaN there, for `bad_target` to report.
    """
    pa = pyarrow_modules("compute")[0]
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(column)
    for kind in (pa.int64(), pa.float64(), pa.bool_()):
        try:
            return text.cast(kind).to_numpy()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    missing = pc.is_in(pc.utf8_lower(text), value_set=pa.array(sorted(MISSING)))
    try:
        return pc.if_else(missing, None, text).cast(pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.asarray(text.to_numpy(zero_copy_only=False).astype(str))


def cell_message(path: str, delimiter: str, columns: list[str], column: str, row: int, dtype: Any) -> str:
    """What is wrong with the cell of data row ``row`` (0-based) in ``column``, with its line number."""
    line, text = _locate(path, delimiter, columns, columns.index(column), row)
    return value_problem(text, column, f"on line {line}", path, dtype) or \
        f"{path}: unusable value {text!r} in column {column!r} on line {line}"


def value_problem(text: str, column: str, where: str, path: str, dtype: Any) -> str | None:
    """The message for a cell's text that is not a usable number of ``dtype`` (None if it is one)."""
    cell = text.strip()
    if not cell:
        return f"{path}: missing value in column {column!r} {where}; fill it in or drop the row"
    if not _is_number(cell):
        if cell.lower() in MISSING:
            return f"{path}: missing value ({cell!r}) in column {column!r} {where}; fill it in or drop the row"
        comma = " (a decimal comma? slopekit reads a point)" if _is_number(cell.replace(",", ".", 1)) else ""
        return (f"{path}: column {column!r} is not numeric: {where.removeprefix('on ')} has {cell!r}{comma}; "
                "every feature column must hold numbers (encode categories as integers)")
    value = float(cell)
    if math.isnan(value):
        return f"{path}: missing value ({cell!r}) in column {column!r} {where}; fill it in or drop the row"
    if math.isinf(value) and cell.lstrip("+-").lower() in ("inf", "infinity"):
        return f"{path}: infinite value in column {column!r} {where}; values must be finite"
    name = np.dtype(dtype).name
    if not abs(value) <= value_limit(dtype):
        hint = TRAIN_DTYPE_HINT if name == "float32" else ""
        return (f"{path}: value {cell} in column {column!r} {where} is too large for {name} (at most "
                f"{value_limit(dtype):.4g}){hint}")
    return None


#: The advice for a value beyond float32 when training; `read_features` (a model whose dtype is fixed) gives
#: `PREDICT_DTYPE_HINT` instead.
TRAIN_DTYPE_HINT = "; rescale the column, or use --dtype float64"
PREDICT_DTYPE_HINT = "; the model computes in float32: rescale the column, or retrain the model with --dtype float64"


#: The texts pyarrow reads as a missing number (its default ``null_values``).
MISSING = {"#n/a", "#n/a n/a", "#na", "-1.#ind", "-1.#qnan", "-nan", "1.#ind", "1.#qnan", "n/a", "na", "null",
            "nan"}


def _lines(path: str, delimiter: str, columns: list[str]) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of each line, decoded as UTF-8; a DataError names the first line (and
    column) that is not."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[3:]
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                before = next(csv.reader([raw[:exc.start].decode("utf-8")], delimiter=delimiter), [""])
                where = f" in column {columns[len(before) - 1]!r}" if 0 < len(before) <= len(columns) else ""
                raise DataError(f"{path}: line {number}{where} is not UTF-8 text (byte {raw[exc.start]:#04x}); "
                                "save the file as UTF-8") from None


def _rows(path: str, delimiter: str, columns: list[str]) -> Iterator[tuple[int, list[str]]]:
    """``(line, cells)`` of each data row below the header, empty lines skipped (as pyarrow does)."""
    consumed = [0]  # the number of the last line the reader took

    def text() -> Iterator[str]:
        for number, line in _lines(path, delimiter, columns):
            consumed[0] = number
            yield line

    reader = csv.reader(text(), delimiter=delimiter)
    for cells in reader:  # up to the header, the first row that is not empty
        if cells:
            break
    while True:
        start = consumed[0] + 1
        cells = next(reader, None)
        if cells is None:
            return
        if cells:
            yield start, cells


def _locate(path: str, delimiter: str, columns: list[str], column: int, row: int) -> tuple[int, str]:
    """The line number and text of data row ``row``'s cell in ``column``."""
    for i, (line, cells) in enumerate(_rows(path, delimiter, columns)):
        if i == row:
            return line, cells[column] if column < len(cells) else ""
    raise DataError(f"{path}: changed while it was read")


def first_problem(path: str, delimiter: str, columns: list[str], features: list[str], dtype: Any) -> str | None:
    """The message for the first row that pyarrow cannot read: wrong number of cells, bytes that are not
    UTF-8, or a feature cell that is not a usable number. None if no row has a problem."""
    wanted = [(columns.index(name), name) for name in features]
    try:
        for line, cells in _rows(path, delimiter, columns):
            if len(cells) != len(columns):
                return f"{path}: line {line} has {len(cells)} cells but the header has {len(columns)}"
            for j, name in wanted:
                problem = value_problem(cells[j], name, f"on line {line}", path, dtype)
                if problem:
                    return problem
    except DataError as exc:
        return str(exc)
    except csv.Error as exc:
        return f"{path}: cannot read it as CSV: {exc}"
    return None


# -- Parquet --------------------------------------------------------------------------------------


def parquet_columns(path: str) -> list[str]:
    _, pq = pyarrow_modules("parquet")
    try:
        return list(pq.read_schema(path).names)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others for a file that is not Parquet
        raise DataError(f"{path}: cannot read it as Parquet: {str(exc).splitlines()[0] if str(exc) else exc}") from None


def _read_parquet(path: str, features: list[str], target: str | None, dtype: Any) -> tuple[np.ndarray, Any]:
    pa, pq = pyarrow_modules("parquet")
    try:
        table = pq.read_table(path, columns=[*features, *([target] if target else [])])
    except Exception as exc:  # as above
        raise DataError(f"{path}: cannot read it as Parquet: {str(exc).splitlines()[0] if str(exc) else exc}") from None
    if table.num_rows == 0:
        raise DataError(f"{path}: holds no rows")
    X = np.empty((table.num_rows, len(features)))
    for j, name in enumerate(features):
        column = table.column(name)
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
                or pa.types.is_boolean(column.type)):
            raise DataError(f"{path}: column {name!r} is not numeric (it holds {column.type}); every feature "
                            "column must hold numbers (encode categories as integers)")
        X[:, j] = column.to_numpy().astype(np.float64) if column.null_count == 0 else \
            column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    bad = bad_cell(X, dtype)
    if bad is not None:
        text = repr(float(X[bad]))
        raise DataError(value_problem(text if not math.isnan(X[bad]) else "", features[bad[1]],
                                       f"in row {bad[0] + 1}", path, dtype) or f"{path}: bad value")
    if target is None:
        return X, None
    column = table.column(target)
    if column.null_count:
        row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
        raise DataError(f"{path}: missing value in column {target!r} in row {row + 1}; fill it in or drop the row")
    if pa.types.is_dictionary(column.type):
        column = column.cast(pa.string())
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        y = target_values(column.cast(pa.string()))
    elif pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type):
        y = column.to_numpy()
    else:
        raise DataError(f"{path}: target column {target!r} holds {column.type}; expected numbers, text or "
                        "true/false")
    bad_row = bad_target(y, dtype)
    if bad_row is not None:
        raise DataError(value_problem(str(y[bad_row]), target, f"in row {bad_row + 1}", path, dtype)
                        or f"{path}: bad value")
    return X, y


# -- NumPy files ----------------------------------------------------------------------------------


def _read_arrays(path: str, dtype: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """A ``.npy`` 2-D array, or a ``.npz``'s ``X`` and ``y`` (or single array): ``(X, y or None)``."""
    npy = path.lower().endswith(".npy")
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
            f.seek(0)
            if npy and magic != b"\x93NUMPY" or not npy and magic[:2] != b"PK":
                raise DataError(f"{path}: not a {'.npy' if npy else '.npz'} file (it does not start as NumPy "
                                f"writes one{'' if npy else ': a zip archive'})")
            if npy:
                return _matrix(np.load(f, allow_pickle=False), path, dtype), None
            with np.load(f, allow_pickle=False) as archive:
                keys = list(archive.keys())
                if "X" in keys and "y" in keys:
                    X, y = _matrix(archive["X"], f"{path}[X]", dtype), archive["y"]
                    return X, _labels(y, X.shape[0], path, dtype)
                if len(keys) != 1:
                    raise DataError(f"{path}: expected arrays 'X' and 'y', or a single array, got {keys}")
                return _matrix(archive[keys[0]], path, dtype), None
    except DataError:
        raise
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "pickle" in reason:  # NumPy's refusal of object arrays: slopekit never unpickles
            reason = "it holds Python objects (a pickle), which slopekit never loads; save arrays of numbers or text"
        raise DataError(f"{path}: cannot read it as {os.path.splitext(path)[1].lower()}: {reason}") from None


def _matrix(array: np.ndarray, what: str, dtype: Any) -> np.ndarray:
    if array.dtype.kind not in "biuf":
        raise DataError(f"{what}: expected a numeric array, got dtype {array.dtype}")
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0:
        raise DataError(f"{what}: expected a 2-D array (n_samples, n_columns), got shape {array.shape}")
    bad = bad_cell(array, dtype)
    if bad is not None:
        value = array[bad]
        if not (math.isnan(value) or math.isinf(value)):
            name = np.dtype(dtype).name
            raise DataError(f"{what}: value {value:g} at row {bad[0]}, column {bad[1]} is too large for {name} "
                            f"(at most {value_limit(dtype):.4g}){TRAIN_DTYPE_HINT if name == 'float32' else ''}")
        problem = "missing value (nan)" if math.isnan(value) else "infinite value"
        raise DataError(f"{what}: {problem} at row {bad[0]}, column {bad[1]}; values must be finite")
    return array


def _labels(y: np.ndarray, n: int, path: str, dtype: Any) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != n:
        raise DataError(f"{path}: y must have one value per row of X ({n}), got shape {y.shape}")
    if y.dtype.kind == "S":
        y = y.astype(str)
    if y.dtype.kind not in "biufU":
        raise DataError(f"{path}[y]: expected numbers, text or true/false, got dtype {y.dtype}")
    bad = bad_target(y.astype(np.float64) if y.dtype.kind == "f" else y, dtype)
    if bad is not None:
        raise DataError(f"{path}[y]: missing or unusable value {y[bad]!r} at row {bad}")
    return y
