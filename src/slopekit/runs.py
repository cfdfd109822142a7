"""One ``slopekit train`` run: data, network, training with a progress bar, checkpoints, output folder.

A run folder holds ``model.npz`` (`Network.save`, with the columns, target
and scaling in ``net.info`` for ``slopekit predict``), ``loss.png`` (training
and held-out loss), ``decision_boundary.png`` (two features and a
classifier), ``confusion.png`` (a classifier with held-out rows),
``metrics.json`` and, once one is written, ``checkpoint.npz``. Every file is
written atomically, so a run killed at any moment leaves whole files or none.
A run whose training loss grows `GROWTH` times past its start stops after that
epoch (``Run.diverged`` says why) and writes nothing more.

A data file is split by the seed, then scaled with statistics of the
training rows only (`slopekit._scaling`); its target decides the task and the
output (`slopekit._targets`). Scores, the held-out loss and the confusion
matrix are computed on row blocks (`Network.score` and `Network.predict` do
so themselves, the loss goes through `slopekit._chunked`), so that memory
stays bounded on large tables.

Resuming is exact: a checkpoint holds the parameters, the optimizer's state
(step count, velocities, moments; `Network.optimizer_state`), the epoch, the
loss history and the state of the random generator that shuffles
mini-batches. A fresh run is one `Network.fit` call whose callback writes the
checkpoints; mini-batches are shuffled by the run's own generator (`fit`'s
``rng``), which draws one permutation at the start of each epoch, so that any
epoch boundary is a point to stop and resume from. A resumed run puts the
optimizer's state back (`Network.set_optimizer_state`) and continues with one
`Network.partial_fit` per epoch, which is ``fit`` continued bit for bit, so it
ends with exactly the parameters of an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import json
import os
import signal
import sys
import time
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _chunked, _data_files, _data_parts, optimizers
from ._atomic import remove_leftovers, replacing

__all__ = ["CHECKPOINT", "FILE_DEFAULTS", "Interrupted", "Settings", "Run", "default_folder", "load_checkpoint"]

CHECKPOINT = "checkpoint.npz"
_FORMAT = "slopekit-checkpoint-1"

#: Training stops as diverged once the loss exceeds this many times the loss it started from.
GROWTH = 1000.0

#: The held-out loss is measured at about this many epochs of a run (every epoch of a short one).
HELD_OUT_POINTS = 200


class Interrupted(Exception):
    """Training stopped on Ctrl-C after writing a checkpoint; ``args[0]`` is the message."""


@dataclass(frozen=True)
class Settings:
    """Everything that decides a run's result; defaults are the course's flower network.

    ``dataset`` names a built-in dataset unless ``data`` names a file (then
    ``dataset`` is None, ``data`` an absolute path, ``target`` its target
    column, None for the last one, and ``delimiter`` a CSV's delimiter, None
    to sniff it). ``data`` may name a folder or a glob of files
    (`slopekit._data_parts`). ``dask`` reads them lazily with Dask
    (`slopekit._dask_data`), which splits the rows per partition rather than
    by one permutation, so it is part of what decides the result. ``task``
    and ``output`` None are inferred from the target (`slopekit._targets`).
    ``scale`` is the features' scaling (`slopekit._scaling`); for a
    regression, anything but ``"none"`` also standardises the target. A run on a file takes `FILE_DEFAULTS` for what
    is not given (the command line fills them in, so a checkpoint holds every
    value).
    """

    dataset: str | None = "flower"
    data: str | None = None
    target: str | None = None
    hidden: tuple[int, ...] = (4,)
    activation: str = "tanh"
    output: str | None = None
    epochs: int = 10_000
    lr: float = 1.2
    batch_size: int | None = None
    optimizer: str = "gd"
    seed: int = 0
    test_fraction: float = 0.2
    dtype: str = "float64"
    scale: str = "none"
    task: str | None = None
    delimiter: str | None = None
    dask: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``hidden`` as a list)."""
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Settings:
        """The inverse of `to_json` (settings written before ``scale`` existed get ``"none"``, as they ran)."""
        return cls(**{**d, "hidden": tuple(d["hidden"])})


#: The defaults of a run on a data file (``--data``), for what the command line does not give: one
#: hidden layer of 128 tanh units, Adam at 0.001 on mini-batches of 32 for 100 epochs, standardised
#: features (and target). Chosen on scikit-learn's tables written to CSV (tests/test_cli_tables.py,
#: scripts/sklearn_tables.py): wide and smooth enough for the classifiers, few enough epochs that the
#: small regression (diabetes) does not overfit.
FILE_DEFAULTS: dict[str, Any] = {
    "hidden": (128,),
    "activation": "tanh",
    "optimizer": "adam",
    "lr": 0.001,
    "epochs": 100,
    "batch_size": 32,
    "scale": "standard",
}


def _fingerprint(settings: Settings) -> str | None:
    """What a checkpoint keeps to tell that the data have not changed (`slopekit._data_parts.fingerprint`):
    a file's SHA-256; for a run on Dask, the files' names, sizes and modification times."""
    if settings.data is None:
        return None
    if not settings.dask and not _data_parts.is_several(settings.data):
        return _sha256(settings.data)
    return _data_parts.fingerprint(_data_parts.parts(settings.data, settings.delimiter), contents=not settings.dask)


def _sha256(path: str) -> str:
    """The SHA-256 of a file's bytes, in hex: a checkpoint's fingerprint of its data."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def deferred_sigint():
    """Within the block, a first Ctrl-C only sets ``flag[0]``; a second raises KeyboardInterrupt at once.

    Yields the one-element list ``flag``. Outside the main thread (where
    signal handlers cannot be set) Ctrl-C is left as it is.
    """
    flag = [False]

    def on_sigint(signum, frame):
        if flag[0]:
            raise KeyboardInterrupt
        flag[0] = True

    previous = signal.signal(signal.SIGINT, on_sigint) if _main_thread() else None
    try:
        yield flag
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def default_folder(root: str = "runs") -> str:
    """``runs/<YYYYmmdd-HHMMSS>``, with ``-2``, ``-3``, ... if that exists already."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path, k = os.path.join(root, stamp), 1
    while os.path.exists(path):
        k += 1
        path = os.path.join(root, f"{stamp}-{k}")
    return path


@dataclass
class Data:
    """A run's data, split: training and held-out rows as the network sees them, and how they were made.

    ``X_train``, ``X_test`` are scaled (`scaler`) and in the run's dtype;
    ``y_train``, ``y_test`` are class indices (int64) or a regression's
    (standardised) values, float64 (`target`). They are NumPy arrays, or
    Dask arrays for a run on Dask, which then keeps ``sample``: at most
    `slopekit._dask_data.SAMPLE_ROWS` rows of each side in memory, for the
    progress bar's score and the pictures.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    features: list[str]
    target: Any  # slopekit._targets.Target
    source: str
    scaler: Any  # slopekit._scaling.Scaler
    sample: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    where: str | None = None  # a run on Dask: where its rows are kept (`slopekit._dask_data.keep`)

    def in_memory(self, test: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The training (or held-out) rows held in memory: all of them, or a run on Dask's sample."""
        if self.sample is None:
            return (self.X_test, self.y_test) if test else (self.X_train, self.y_train)
        return self.sample[2:] if test else self.sample[:2]

    def info(self) -> dict[str, Any]:
        """What `Network.info` keeps for ``slopekit predict``: the columns, the target and the scaling."""
        return {"features": list(self.features), "target": self.target.to_info(), "scale": self.scaler.to_info(),
                "source": os.path.basename(self.source)}


def load_data(settings: Settings, progress: bool | None = None, cluster: Any = None) -> tuple[Data, str]:
    """The run's data, split by its seed and scaled, and the output activation to use.

    The scaling's statistics come from the training rows only. A run on Dask
    (``settings.dask``) reads its data lazily on ``cluster``
    (`slopekit._cluster.Cluster`) and keeps them in its workers' memory when
    they take at most half of it.

    Raises
    ------
    _data_files.DataError, ValueError
        For a file that cannot be used, a target that does not fit the task
        or output, or a split that leaves a side empty.
    """
    from ._scaling import Scaler
    from ._targets import Target, TargetError

    if settings.dask:
        return _lazy_data(settings, cluster)
    if settings.data is not None:
        if _data_parts.is_several(settings.data):  # a folder or a glob: its files stacked in memory
            found = _data_parts.parts(settings.data, settings.delimiter)
            _delimiter_applies(settings, found)
            table = _data_parts.read_whole(found, settings.target, dtype=settings.dtype, progress=progress)
        else:
            table = _data_files.read_labelled(settings.data, settings.target, delimiter=settings.delimiter,
                                              dtype=settings.dtype, progress=progress)
        X, y, features, name, source = table.X, table.y, table.features, table.target, settings.data
        del table  # X is split below: the whole matrix should not outlive that
    else:
        X, y = _data_files.dataset(settings.dataset)
        features, name, source = ["x1", "x2"], "class", settings.dataset
    try:
        target = Target.infer(name, y, task=settings.task, output=settings.output)
    except TargetError as exc:
        raise _data_files.DataError(f"{source}: {exc}") from None
    train, test = _split(X.shape[0], settings)
    X_train, X_test = X[train], X[test]
    del X
    if target.task == "regression" and settings.scale != "none":
        target.standardise(y[train])
    scaler = Scaler.fit(settings.scale, X_train)
    dtype = np.dtype(settings.dtype)
    X_train = scaler.transform(X_train, out=X_train).astype(dtype, copy=False)
    X_test = scaler.transform(X_test, out=X_test).astype(dtype, copy=False)
    data = Data(X_train, target.encode(y[train]), X_test, target.encode(y[test]), features, target, source, scaler)
    return data, target.output


def _delimiter_applies(settings: Settings, found: Any) -> None:
    if settings.delimiter is not None and found.kind != ".csv":
        raise _data_files.DataError(f"--delimiter applies to CSV files; {settings.data} holds {found.kind} files")


def _lazy_data(settings: Settings, cluster: Any) -> tuple[Data, str]:
    """The run's data as Dask arrays (`slopekit._dask_data`), with a sample of each side in memory."""
    from . import _dask_data

    found = _data_parts.parts(settings.data, settings.delimiter)
    _delimiter_applies(settings, found)
    split = _dask_data.load(settings, found)
    where = None if cluster is None else _dask_data.keep(split, cluster.memory() // 2)
    sample = (*_dask_data.sample(split.X_train, split.y_train), *_dask_data.sample(split.X_test, split.y_test))
    data = Data(split.X_train, split.y_train, split.X_test, split.y_test, split.features, split.target,
                settings.data, split.scaler, sample, where)
    return data, split.target.output


def _split(n: int, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """The training and held-out row indices: a permutation by the run's seed, the first rows held out."""
    n_test = int(round(settings.test_fraction * n))
    if n - n_test < 1 or (settings.test_fraction > 0 and n_test < 1):
        raise ValueError(f"--test-fraction {settings.test_fraction:g} of {n} rows leaves "
                         f"{n - n_test} for training and {n_test} held out; both need at least one")
    order = np.random.RandomState(settings.seed).permutation(n)
    return order[n_test:], order[:n_test]


def build_network(settings: Settings, n_features: int, n_outputs: int, output: str) -> Any:
    """The run's `Network` (ValueError/TypeError for a bad activation, dtype, ...)."""
    from . import activations
    from .network import Network

    hidden = activations.parse(settings.activation)
    return Network([n_features, *settings.hidden, n_outputs], hidden=hidden, output=output,
                   seed=settings.seed, dtype=settings.dtype)


def score_name(output: str) -> str:
    """``"accuracy"`` for a classifier, ``"r2"`` for a regression (``output="identity"``)."""
    return "r2" if output == "identity" else "accuracy"


class Run:
    """A training run writing into ``folder``: call `train`, then `finish`.

    Parameters
    ----------
    settings : Settings
    folder : str
        The output folder; created by `train`, not before.
    checkpoint_every : int or None
        Write ``checkpoint.npz`` every that many epochs (and always on Ctrl-C).
    progress : bool or None
        Show the progress bar (None: only on a terminal).
    """

    def __init__(self, settings: Settings, folder: str, *, checkpoint_every: int | None = None,
                 progress: bool | None = None, checkpoint: dict[str, Any] | None = None, cluster: Any = None):
        self.settings, self.folder = settings, folder
        self.checkpoint_every, self.progress = checkpoint_every, progress
        self.cluster = None if cluster is None else cluster.flags  # where a run on Dask computes, to resume there
        self.data, self.output = load_data(settings, progress, cluster)
        self.data_sha256 = _fingerprint(settings)
        self.net = build_network(settings, self.data.X_train.shape[1], self.data.target.n_outputs, self.output)
        self.net.info = self.data.info()
        self.rule = optimizers.get(settings.optimizer)
        self.epoch, self.history, self.resumed = 0, [], False
        self.shuffle = np.random.RandomState(settings.seed)
        if checkpoint is not None:
            saved = checkpoint.get("data_sha256")
            if saved is not None and saved != self.data_sha256:
                what = ("its files' names, sizes or modification times differ from the checkpoint's" if settings.dask
                        else "its SHA-256 differs from the checkpoint's")
                raise ValueError(f"--resume {folder}: {settings.data} has changed since this run started ({what}); "
                                 "resuming would train on other data")
            remove_leftovers(folder)  # a run killed while writing leaves its temporary file behind
            self.net.set_parameters(checkpoint["parameters"])
            self.net.set_optimizer_state({"optimizer": self.rule, **checkpoint["optimizer"]})
            self.epoch, self.history = checkpoint["epoch"], list(checkpoint["history"])
            self.shuffle.set_state(checkpoint["shuffle"])
            self.resumed = True
        self.seconds = 0.0
        self._watch(checkpoint)

    def _watch(self, checkpoint: dict[str, Any] | None) -> None:
        """The held-out losses so far, and the training loss at the start (what divergence is measured from)."""
        self.held_out: list[tuple[int, float]] = [] if checkpoint is None else \
            [(int(e), float(v)) for e, v in checkpoint.get("held_out", [])]
        start = None if checkpoint is None else checkpoint.get("start_loss")
        if start is None and self.history:  # a checkpoint from before the start was kept
            start = self.history[0]
        if start is None:
            with np.errstate(all="ignore"):
                start = _chunked.loss(self.net, self.data.X_train, self.data.y_train)
        self.start_loss = float(start)
        self.diverged: str | None = None

    # -- checkpoints ------------------------------------------------------------------------------

    def write_checkpoint(self) -> str:
        """Write ``checkpoint.npz`` (atomically) for the epochs done so far; returns its path."""
        state = self.net.optimizer_state() or {"t": 0}
        state.pop("optimizer", None)
        name, keys, pos, has_gauss, gauss = self.shuffle.get_state()
        meta = {"format": _FORMAT, "settings": self.settings.to_json(), "epoch": self.epoch,
                "optimizer_t": state["t"], "checkpoint_every": self.checkpoint_every,
                "shuffle": [name, int(pos), int(has_gauss), float(gauss)], "data_sha256": self.data_sha256,
                "start_loss": self.start_loss, "cluster": self.cluster}
        # The loss history as a float64 array, not JSON: frequent checkpoints of a long run
        # would spend most of their time formatting numbers.
        arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), "shuffle_keys": keys,
                  "history": np.asarray(self.history, dtype=np.float64),
                  "held_out": np.asarray(self.held_out, dtype=np.float64).reshape(-1, 2)}
        arrays.update(self.net.parameters())
        for field, values in state.items():
            if field != "t":
                arrays.update({f"optimizer.{field}.{i}": x for i, x in enumerate(values)})
        path = os.path.join(self.folder, CHECKPOINT)
        with replacing(path, "wb") as f:
            np.savez(f, **arrays)
        return path

    # -- training -----------------------------------------------------------------------------------

    def _after_epoch(self, epoch: int, loss: float, bar: Any, stop: list[bool]) -> bool:
        self.epoch = epoch
        self.history.append(loss)
        if self._grew(epoch, loss):  # before any checkpoint: the last one written stays the last good one
            return True
        s, d = self.settings, self.data
        if len(d.X_test) and (epoch % max(1, s.epochs // HELD_OUT_POINTS) == 0 or epoch == s.epochs):
            with np.errstate(all="ignore"):
                self.held_out.append((epoch, _chunked.loss(self.net, d.X_test, d.y_test)))
        if bar is not None:
            every = max(1, s.epochs // 200)
            if epoch % every == 0 or epoch == s.epochs:
                with np.errstate(all="ignore"):  # a diverging run's overflow is reported by fit
                    score = self.net.score(*d.in_memory())
                bar.set_postfix_str(f"loss {loss:.4f}, {score_name(self.output)} {score:.3f}", refresh=False)
            bar.update(1)
        if self.checkpoint_every and epoch % self.checkpoint_every == 0:
            self.write_checkpoint()
        return stop[0]

    def _grew(self, epoch: int, loss: float) -> bool:
        """Whether the loss has grown `GROWTH` times past its start; if so, ``diverged`` says so."""
        if not (self.start_loss > 0 and loss > GROWTH * self.start_loss):
            return False
        self.diverged = (f"the training loss grew from {self.start_loss:.4g} to {loss:.4g} by epoch {epoch} "
                         f"(more than {GROWTH:g} times): training diverged")
        return True

    def train(self) -> None:
        """Train from the current epoch to ``settings.epochs``.

        Raises
        ------
        Interrupted
            On Ctrl-C (SIGINT), after the epoch in progress and a checkpoint.
        FloatingPointError
            If the loss diverges.
        """
        os.makedirs(self.folder, exist_ok=True)
        s = self.settings
        bar = None
        if self.progress is not False:
            from tqdm import tqdm

            bar = tqdm(total=s.epochs, initial=self.epoch, unit="epoch", desc="training", file=sys.stderr,
                       disable=None if self.progress is None else False, dynamic_ncols=True, mininterval=0.1)
            if bar.disable:
                bar = None
        started = time.perf_counter()
        try:
            with deferred_sigint() as stop:  # a first Ctrl-C stops after the epoch in progress
                self._epochs(bar, stop)
        finally:
            self.seconds = time.perf_counter() - started
            if bar is not None:
                bar.close()
        self.net.history = list(self.history)
        if stop[0] and self.epoch < s.epochs:
            path = self.write_checkpoint()
            raise Interrupted(f"interrupted at epoch {self.epoch} of {s.epochs}; checkpoint written to {path}; "
                              f"continue with: slopekit train --resume {self.folder}")

    def _epochs(self, bar: Any, stop: list[bool]) -> None:
        s, d = self.settings, self.data
        start = self.epoch
        if start >= s.epochs:
            return

        def callback(epoch: int, loss: float) -> bool:
            return self._after_epoch(start + epoch, loss, bar, stop)

        # The mini-batch shuffles come from self.shuffle, whose state a checkpoint saves between epochs.
        if not self.resumed:  # one fit call for all epochs
            self.net.fit(d.X_train, d.y_train, epochs=s.epochs - start, learning_rate=s.lr, optimizer=self.rule,
                         batch_size=s.batch_size, callback=callback, rng=self.shuffle)
            return
        for epoch in range(1, s.epochs - start + 1):  # the checkpoint's optimizer state, continued
            self.net.partial_fit(d.X_train, d.y_train, learning_rate=s.lr, optimizer=self.rule,
                                 batch_size=s.batch_size, rng=self.shuffle)
            if callback(epoch, self.net.history[-1]):
                return

    # -- results ------------------------------------------------------------------------------------

    def finish(self) -> dict[str, Any]:
        """Score the network and write the model, pictures and ``metrics.json``; returns the metrics."""
        d, net, key = self.data, self.net, score_name(self.output)
        with np.errstate(all="ignore"):  # huge but finite weights may overflow on the way to a score
            train_score = net.score(d.X_train, d.y_train)
            test_score = net.score(d.X_test, d.y_test) if len(d.X_test) else None
        metrics: dict[str, Any] = {
            "settings": self.settings.to_json(),
            "network": repr(net),
            "data": {"source": d.source, "features": d.features, "target": d.target.name,
                     "n_train": len(d.X_train), "n_test": len(d.X_test)},
            "target": {"task": d.target.task, "output": d.target.output, "classes": d.target.classes},
            "epochs": self.epoch,
            "final_loss": self.history[-1] if self.history else None,
            "final_held_out_loss": self.held_out[-1][1] if self.held_out else None,
            f"train_{key}": train_score,
            f"test_{key}": test_score,
            "seconds": round(self.seconds, 3),
        }
        files = ["model.npz"]
        net.save(os.path.join(self.folder, "model.npz"))
        if self.checkpoint_every or os.path.exists(os.path.join(self.folder, CHECKPOINT)):
            self.write_checkpoint()  # the run's last state: an earlier checkpoint would resume a finished run
        files += self._pictures(metrics, key)
        files.append("metrics.json")
        metrics["files"] = files
        with replacing(os.path.join(self.folder, "metrics.json")) as f:
            json.dump(metrics, f, indent=2)
            f.write("\n")
        return metrics

    def _pictures(self, metrics: dict[str, Any], key: str) -> list[str]:
        """Write loss.png, and for a classifier confusion.png and (two features) decision_boundary.png."""
        from . import plotting

        d, net, name = self.data, self.net, self.source_name()
        files = ["loss.png"]
        unit = " (standardised target)" if d.target.task == "regression" and d.target.scale != 1.0 else ""
        plotting.loss_curve(self.history, os.path.join(self.folder, "loss.png"), held_out=self.held_out,
                            title=f"Loss{unit}: {name}, {list(net.layer_sizes)}")
        if self.output == "identity":
            return files
        classes = d.target.class_names()
        if d.X_train.shape[1] == 2:
            test = f", held out {metrics[f'test_{key}']:.1%}" if len(d.X_test) else ""
            (X_train, y_train), (X_test, y_test) = d.in_memory(), d.in_memory(test=True)
            plotting.decision_boundary(
                net, d.scaler.inverse(X_train), y_train, os.path.join(self.folder, "decision_boundary.png"),
                X_test=d.scaler.inverse(X_test), y_test=y_test, transform=d.scaler.transform,
                class_names=classes, feature_names=d.features,
                title=f"{name}: {list(net.layer_sizes)} {self.settings.activation}, "
                      f"training {metrics[f'train_{key}']:.1%}{test}")
            files.append("decision_boundary.png")
        if len(d.X_test):
            with np.errstate(all="ignore"):
                predicted = net.predict(d.X_test)
            counts = _chunked.confusion(d.y_test, predicted, len(classes))
            metrics["confusion"] = {"classes": classes, "counts": counts.tolist()}  # row: true, column: predicted
            plotting.confusion_matrix(counts, classes, os.path.join(self.folder, "confusion.png"),
                                      title=f"{name}: the {len(d.X_test)} held-out rows, "
                                            f"{metrics[f'test_{key}']:.1%} right")
            files.append("confusion.png")
        return files

    def source_name(self) -> str:
        """The data's name for titles: a file's name without its folders, or the built-in dataset's."""
        return os.path.basename(self.data.source)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def load_checkpoint(folder: str) -> tuple[Settings, dict[str, Any]]:
    """Read ``folder/checkpoint.npz``: the run's settings and the state `Run` resumes from.

    Raises
    ------
    ValueError
        If there is no checkpoint or it is not one.
    """
    path = os.path.join(folder, CHECKPOINT)
    if os.path.isfile(folder):
        raise ValueError(f"--resume {folder} is a file, not a folder; name a run folder holding {CHECKPOINT}")
    if not os.path.isdir(folder):
        raise ValueError(f"--resume {folder}: no such folder; name a run folder holding {CHECKPOINT}")
    if not os.path.isfile(path):
        raise ValueError(f"--resume {folder}: no {CHECKPOINT} in it; train with --checkpoint-every N to write "
                         "one (Ctrl-C writes one too)")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"--resume {folder}: {CHECKPOINT} cannot be read (not an .npz archive)")
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.keys()}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
        if meta.get("format") != _FORMAT:
            raise ValueError("not a slopekit checkpoint")
        settings = Settings.from_json(meta["settings"])
        name, pos, has_gauss, gauss = meta["shuffle"]
        optimizer: dict[str, Any] = {"t": meta["optimizer_t"]}
        for key in sorted(k for k in arrays if k.startswith("optimizer.")):
            _, field, i = key.split(".")
            optimizer.setdefault(field, []).append((int(i), arrays[key]))
        for field in [f for f in optimizer if f != "t"]:
            optimizer[field] = [x for _, x in sorted(optimizer[field])]
        parameters = {k: v for k, v in arrays.items() if k[0] in "Wb" and k[1:].isdigit()}
        history = arrays["history"].tolist() if "history" in arrays else meta["history"]  # older: in the JSON
        state = {"parameters": parameters, "epoch": int(meta["epoch"]), "history": history,
                 "checkpoint_every": meta.get("checkpoint_every"), "data_sha256": meta.get("data_sha256"),
                 "cluster": meta.get("cluster"),
                 "start_loss": meta.get("start_loss"), "held_out": arrays.get("held_out", np.empty((0, 2))).tolist(),
                 "optimizer": optimizer, "shuffle": (name, arrays["shuffle_keys"], pos, has_gauss, gauss)}
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"--resume {folder}: {CHECKPOINT} cannot be read ({exc})") from None
    return settings, state

