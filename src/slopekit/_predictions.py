"""A saved network with what ``slopekit train`` kept in its ``info``: predictions in the data's own terms.

``info`` holds the feature names (``predict`` picks those columns by name),
the target (its task, its classes, a regression's standardisation;
`slopekit._targets.Target`) and the features' scaling
(`slopekit._scaling.Scaler`). A network without them (saved from Python, or
by an older slopekit) predicts on the columns by position, with classes
0, 1, ... and no scaling.
"""

from __future__ import annotations

import csv
import io
from typing import IO, Any

import numpy as np

from . import _chunked
from ._scaling import Scaler
from ._targets import Target

__all__ = ["Predictor"]


class Predictor:
    """A `Network` with its columns, classes and scaling.

    Parameters
    ----------
    net : Network
        A network, usually from `Network.load` of a run's ``model.npz``.

    Raises
    ------
    ValueError
        If ``net.info`` describes the columns, target or scaling in a way that
        does not fit the network.
    """

    def __init__(self, net: Any):
        self.net = net
        info = net.info if isinstance(net.info, dict) else {}
        features = info.get("features")
        n = net.layer_sizes[0]
        if features is not None and (not isinstance(features, list) or len(features) != n
                                     or not all(isinstance(f, str) for f in features)):
            raise ValueError(f"info['features'] must list the {n} feature names")
        self.features: list[str] | None = features
        self.target = Target.from_info(info["target"]) if "target" in info else None
        self.scaler = Scaler.from_info(info["scale"]) if "scale" in info else Scaler("none")
        if self.scaler.offset is not None and len(self.scaler.offset) != n:
            raise ValueError(f"info['scale'] has {len(self.scaler.offset)} columns, the network takes {n}")
        if self.target is not None and self.target.classes is not None and net.output != "identity":
            k = max(net.layer_sizes[-1], 2)
            if len(self.target.classes) != k:
                raise ValueError(f"info['target'] has {len(self.target.classes)} classes, the network {k}")

    @property
    def classes(self) -> list[Any] | None:
        """The classes in output order, or None for a regression."""
        if self.net.output == "identity":
            return None
        if self.target is not None:
            return self.target.classes
        return list(range(max(self.net.layer_sizes[-1], 2)))

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        return self.scaler.transform(X).astype(self.net.dtype, copy=False)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The prediction for each row of ``X`` (in the file's units): original labels, or values."""
        raw = self.net.predict(self._inputs(X))
        if self.target is None:
            return raw
        return self.target.decode(raw)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Each class's probability for each row of ``X``, columns in the order of `classes`."""
        return self.net.predict_proba(self._inputs(X))

    def header(self, names: list[str]) -> list[str]:
        """The CSV header: the features, ``prediction``, and a ``probability_<class>`` per class."""
        if self.classes is None:
            k = self.net.layer_sizes[-1]
            return [*names, *(["prediction"] if k == 1 else [f"prediction_{j}" for j in range(k)])]
        return [*names, "prediction", *(f"probability_{_label(c)}" for c in self.classes)]

    def write_csv(self, f: IO[bytes], X: np.ndarray, names: list[str], rows: int = _chunked.ROWS,
                  kept: dict[str, Any] | None = None) -> None:
        """Write the header, then per row of ``X`` its features, the prediction and each class's probability.

        ``kept`` (name to column: pyarrow or NumPy arrays of ``len(X)``
        values, of any type CSV holds) are written first, as they are: an
        input's ID columns, to join the predictions back to it.

        ``f`` is a binary file (UTF-8 is written). Block by block (``rows`` at
        a time), through pyarrow's CSV writer: numbers in the shortest text
        that reads back as the same float, labels as text (every label in
        quotes when one of them needs them: a comma, a quote, a line break).

        Examples
        --------
        >>> import io, numpy as np, slopekit
        >>> from slopekit._predictions import Predictor
        >>> net = slopekit.Network([1, 1]).set_parameters({"W1": [[2.0]], "b1": [0.0]})
        >>> f = io.BytesIO()
        >>> Predictor(net).write_csv(f, np.array([[0.5], [1.0]]), ["u"])
        >>> print(f.getvalue().decode(), end="")
        u,prediction,probability_0,probability_1
        0.5,1,0.2689414213699951,0.7310585786300049
        1,1,0.11920292202211755,0.8807970779778824
        """
        from ._data_files import pyarrow_modules

        pa, pacsv = pyarrow_modules("csv")
        kept = kept or {}
        head = [*kept, *self.header(names)]
        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow(head)
        f.write(header.getvalue().encode("utf-8"))
        plain = all(_quoted(_label(c)) == _label(c) for c in self.classes or []) and \
            not any(_needs_quotes(column) for column in kept.values())
        # Text that CSV must quote is all quoted ("needed" quotes every text cell); numbers never are.
        options = pacsv.WriteOptions(include_header=False, quoting_style="none" if plain else "needed")
        columns = [f"c{j}" for j in range(len(head))]  # the header is written above, as CSV
        writer = None
        for start in range(0, X.shape[0], rows):
            block = [column[start:start + rows] for column in kept.values()]
            table = pa.table(dict(zip(columns, block + self._columns(X[start:start + rows]))))
            if writer is None:
                writer = pacsv.CSVWriter(f, table.schema, write_options=options)
            writer.write_table(table)
        if writer is not None:
            writer.close()

    def _columns(self, X: np.ndarray) -> list[Any]:
        """The block's output columns: the features, the prediction(s), the probabilities."""
        features = [X[:, j] for j in range(X.shape[1])]
        inputs = self._inputs(X)
        if self.classes is None:
            values = np.asarray(self.predict(X), dtype=np.float64).reshape(len(X), -1)
            return features + [values[:, j] for j in range(values.shape[1])]
        labels = np.array([_label(c) for c in self.classes])
        proba = self.net.predict_proba(inputs).astype(np.float64)
        return features + [labels[self.net.predict(inputs)]] + [proba[:, j] for j in range(proba.shape[1])]


def _needs_quotes(column: Any) -> bool:
    """Whether a kept column holds text with a comma, quote or line break (which CSV must quote)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, np.ndarray):
        return column.dtype.kind == "U" and any(_quoted(str(v)) != str(v) for v in column)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return False
    return bool(pc.any(pc.match_substring_regex(column, '[,"\r\n]')).as_py())


def _quoted(text: str) -> str:
    """``text`` as one CSV cell: in double quotes (doubled inside) only where it holds a comma, quote or
    line break."""
    cell = io.StringIO()
    csv.writer(cell, lineterminator="").writerow([text])
    return cell.getvalue()


def _label(c: Any) -> str:
    """A class as CSV text: ``true``/``false`` for booleans (as pyarrow reads them), else its `str`."""
    if isinstance(c, (bool, np.bool_)):
        return "true" if c else "false"
    return str(c)
