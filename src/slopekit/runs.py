"""One ``slopekit train`` run: data, network, training with a progress bar, checkpoints, output folder.

A run folder holds ``model.npz`` (`Network.save`), ``loss.png``,
``decision_boundary.png`` (two features and a classifier), ``metrics.json``
and, once one is written, ``checkpoint.npz``. Every file is written
atomically, so a run killed at any moment leaves whole files or none.

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

from . import _data_files, optimizers
from ._atomic import remove_leftovers, replacing

__all__ = ["CHECKPOINT", "Interrupted", "Settings", "Run", "default_folder", "load_checkpoint"]

CHECKPOINT = "checkpoint.npz"
_FORMAT = "slopekit-checkpoint-1"


class Interrupted(Exception):
    """Training stopped on Ctrl-C after writing a checkpoint; ``args[0]`` is the message."""


@dataclass(frozen=True)
class Settings:
    """Everything that decides a run's result; defaults are the course's flower network.

    ``dataset`` names a built-in dataset unless ``data`` names a file (then
    ``dataset`` is None, ``data`` an absolute path, and ``target`` its target
    column, None for the last one). ``output`` None
    is inferred from the target (`_data_files.infer_output`).
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

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``hidden`` as a list)."""
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Settings:
        """The inverse of `to_json`."""
        return cls(**{**d, "hidden": tuple(d["hidden"])})


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
    """A run's data, split: training and held-out rows, with the column names."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    features: list[str]
    target: str
    source: str


def load_data(settings: Settings) -> tuple[Data, str]:
    """The run's data, split by its seed, and the output activation to use.

    Raises
    ------
    _data_files.DataError, ValueError
        For a file that cannot be used or a split that leaves a side empty.
    """
    if settings.data is not None:
        X, y, features, target = _data_files.read_labelled(settings.data, settings.target)
        source = settings.data
    else:
        X, y = _data_files.dataset(settings.dataset)
        features, target, source = ["x1", "x2"], "class", settings.dataset
    output = settings.output or _data_files.infer_output(y)
    if output != "identity":
        if not np.array_equal(y, np.round(y)) or y.min() < 0:
            raise _data_files.DataError(f"{source}: target {target!r} must hold class labels 0, 1, ... for "
                                        f"--output {output}; use --output identity for a regression")
        y = y.astype(np.int64)
    n = X.shape[0]
    n_test = int(round(settings.test_fraction * n))
    if n - n_test < 1 or (settings.test_fraction > 0 and n_test < 1):
        raise ValueError(f"--test-fraction {settings.test_fraction:g} of {n} rows leaves "
                         f"{n - n_test} for training and {n_test} held out; both need at least one")
    order = np.random.RandomState(settings.seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return Data(X[train], y[train], X[test], y[test], features, target, source), output


def build_network(settings: Settings, n_features: int, n_outputs: int, output: str) -> Any:
    """The run's `Network` (ValueError/TypeError for a bad activation, dtype, ...)."""
    from . import activations
    from .network import Network

    hidden = activations.parse(settings.activation)
    return Network([n_features, *settings.hidden, n_outputs], hidden=hidden, output=output,
                   seed=settings.seed, dtype=settings.dtype)


def _n_outputs(y: np.ndarray, output: str) -> int:
    return int(y.max()) + 1 if output == "softmax" else 1


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
                 progress: bool | None = None, checkpoint: dict[str, Any] | None = None):
        self.settings, self.folder = settings, folder
        self.checkpoint_every, self.progress = checkpoint_every, progress
        self.data, self.output = load_data(settings)
        self.data_sha256 = _sha256(settings.data) if settings.data is not None else None
        y = self.data.y_train if not len(self.data.y_test) else np.concatenate([self.data.y_train, self.data.y_test])
        self.net = build_network(settings, self.data.X_train.shape[1], _n_outputs(y, self.output), self.output)
        self.rule = optimizers.get(settings.optimizer)
        self.epoch, self.history, self.resumed = 0, [], False
        self.shuffle = np.random.RandomState(settings.seed)
        if checkpoint is not None:
            saved = checkpoint.get("data_sha256")
            if saved is not None and saved != self.data_sha256:
                raise ValueError(f"--resume {folder}: {settings.data} has changed since this run started (its "
                                 "SHA-256 differs from the checkpoint's); resuming would train on other data")
            remove_leftovers(folder)  # a run killed while writing leaves its temporary file behind
            self.net.set_parameters(checkpoint["parameters"])
            self.net.set_optimizer_state({"optimizer": self.rule, **checkpoint["optimizer"]})
            self.epoch, self.history = checkpoint["epoch"], list(checkpoint["history"])
            self.shuffle.set_state(checkpoint["shuffle"])
            self.resumed = True
        self.seconds = 0.0

    # -- checkpoints ------------------------------------------------------------------------------

    def write_checkpoint(self) -> str:
        """Write ``checkpoint.npz`` (atomically) for the epochs done so far; returns its path."""
        state = self.net.optimizer_state() or {"t": 0}
        state.pop("optimizer", None)
        name, keys, pos, has_gauss, gauss = self.shuffle.get_state()
        meta = {"format": _FORMAT, "settings": self.settings.to_json(), "epoch": self.epoch,
                "optimizer_t": state["t"], "checkpoint_every": self.checkpoint_every,
                "shuffle": [name, int(pos), int(has_gauss), float(gauss)], "data_sha256": self.data_sha256}
        # The loss history as a float64 array, not JSON: frequent checkpoints of a long run
        # would spend most of their time formatting numbers.
        arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), "shuffle_keys": keys,
                  "history": np.asarray(self.history, dtype=np.float64)}
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
        if bar is not None:
            every = max(1, self.settings.epochs // 200)
            if epoch % every == 0 or epoch == self.settings.epochs:
                with np.errstate(all="ignore"):  # a diverging run's overflow is reported by fit
                    score = self.net.score(self.data.X_train, self.data.y_train)
                bar.set_postfix_str(f"loss {loss:.4f}, {score_name(self.output)} {score:.3f}", refresh=False)
            bar.update(1)
        if self.checkpoint_every and epoch % self.checkpoint_every == 0:
            self.write_checkpoint()
        return stop[0]

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
        from . import plotting

        d, net, key = self.data, self.net, score_name(self.output)
        with np.errstate(all="ignore"):  # huge but finite weights may overflow on the way to a score
            train_score = net.score(d.X_train, d.y_train)
            test_score = net.score(d.X_test, d.y_test) if len(d.X_test) else None
        metrics: dict[str, Any] = {
            "settings": self.settings.to_json(),
            "network": repr(net),
            "data": {"source": d.source, "features": d.features, "target": d.target,
                     "n_train": len(d.X_train), "n_test": len(d.X_test)},
            "epochs": self.epoch,
            "final_loss": self.history[-1] if self.history else None,
            f"train_{key}": train_score,
            f"test_{key}": test_score,
            "seconds": round(self.seconds, 3),
        }
        files = ["model.npz", "loss.png"]
        net.save(os.path.join(self.folder, "model.npz"))
        if self.checkpoint_every or os.path.exists(os.path.join(self.folder, CHECKPOINT)):
            self.write_checkpoint()  # the run's last state: an earlier checkpoint would resume a finished run
        plotting.loss_curve(self.history, os.path.join(self.folder, "loss.png"),
                            title=f"Training loss: {d.source}, {list(net.layer_sizes)}")
        if d.X_train.shape[1] == 2 and self.output != "identity":
            test = f", held out {metrics[f'test_{key}']:.1%}" if len(d.X_test) else ""
            plotting.decision_boundary(net, d.X_train, d.y_train, os.path.join(self.folder, "decision_boundary.png"),
                                       X_test=d.X_test, y_test=d.y_test,
                                       title=f"{d.source}: {list(net.layer_sizes)} {self.settings.activation}, "
                                             f"training {metrics[f'train_{key}']:.1%}{test}")
            files.append("decision_boundary.png")
        files.append("metrics.json")
        metrics["files"] = files
        with replacing(os.path.join(self.folder, "metrics.json")) as f:
            json.dump(metrics, f, indent=2)
            f.write("\n")
        return metrics


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
                 "optimizer": optimizer, "shuffle": (name, arrays["shuffle_keys"], pos, has_gauss, gauss)}
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"--resume {folder}: {CHECKPOINT} cannot be read ({exc})") from None
    return settings, state

