"""The ``slopekit`` command: ``main(argv) -> int`` for tests, ``entrypoint()`` for the console script.

Subcommands: ``train`` (a network, with a progress bar, pictures and
checkpoints; `slopekit.runs`), ``predict`` (a saved model on a data file,
its columns taken by name; `slopekit._predictions`),
``plot`` (the lecture's slope triangles; `slopekit.plotting`) and ``check``
(every slope against its numerical estimate). This module only parses and
reports: a user's mistake becomes `UsageError`, printed as one line with exit
status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import math
import os
import sys
import tempfile
from typing import Any, Sequence

LECTURE_POINTS = (-10.0, 0.0, 10.0)


LECTURE_ORDER = ("sigmoid", "tanh", "relu", "leaky_relu")
G_PRIME = "g'(z)"


class UsageError(Exception):
    """A mistake on the command line: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (exit status 2), not the usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _activations(specs: Sequence[str] | None) -> list:
    from . import activations

    if not specs:
        rest = sorted(set(activations.names()) - set(LECTURE_ORDER))
        return [activations.get(name) for name in (*LECTURE_ORDER, *rest)]
    try:
        return [activations.parse(spec) for spec in specs]
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None


def _number(x: float) -> str:
    return f"{x:11.4e}" if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e4) else f"{x:11.6f}"


def lecture_table(activations: Sequence) -> str:
    """The lecture's values of g, g' from z and g' from the cached a, at z = -10, 0, 10."""
    lines = [
        "The lecture's values: g(z), its slope g'(z) from z, and the same slope from the cached a = g(z)",
        "",
        f"{'activation':<38} {'z':>5} {'g(z)':>11} {G_PRIME:>11} {'from a':>11}",
    ]
    import numpy as np

    from .numerical import first_entries, rows_with

    for g in activations:
        z = np.array(LECTURE_POINTS, dtype=np.float64)
        if g.elementwise:
            a, slope = g(z), g.derivative(z)
            from_a = g.derivative_from_output(a) if g.has_derivative_from_output else None
        else:  # softmax-like: the first entry of rows [z, 0.5, -1] and the Jacobian's diagonal there
            rows = rows_with(g, z)
            a_rows = g(rows)
            a, slope = first_entries(g, a_rows), first_entries(g, g.derivative(rows))
            from_a = first_entries(g, g.derivative_from_output(a_rows)) if g.has_derivative_from_output else None
        for i, zi in enumerate(LECTURE_POINTS):
            cell = _number(float(from_a[i])) if from_a is not None else f"{'-':>11}"
            lines.append(f"{g!r:<38} {zi:>5g} {_number(float(a[i]))} {_number(float(slope[i]))} {cell}")
    if not all(g.has_derivative_from_output for g in activations):
        lines += ["", "-: the output a cannot determine the slope here (relu with at_zero > 0: a = 0 comes from "
                  "z < 0 and from z = 0; hard_sigmoid: a rounds to 0 or 1 just inside its kinks; silu, gelu, "
                  "mish: not monotonic); use g'(z) from z"]
    if not all(g.elementwise for g in activations):
        lines += ["", "softmax-like activations: the entry z of a row [z, 0.5, -1], and the Jacobian's diagonal "
                  "(backward is the vector-Jacobian product, which uses every entry of the row)"]
    return "\n".join(lines)


#: The largest relative difference `network_gradient_check` accepts (the course's rule of thumb).
NETWORK_TOLERANCE = 1e-7


def network_gradient_check(g: Any) -> float:
    """The course's gradient check of a small network ``[2, 5, 3, 1]`` with hidden activation ``g``.

    The biases start at random positive values, so that no pre-activation
    sits exactly on a kink (where the numerical slope is the average of the
    two one-sided slopes, not the convention's).
    """
    import numpy as np

    from . import datasets
    from .gradcheck import gradient_check
    from .network import Network

    X, y = datasets.xor(n_samples=8, seed=0)
    net = Network([2, 5, 3, 1], hidden=g, output="sigmoid", seed=1)
    rng = np.random.RandomState(1)
    net.set_parameters({name: rng.uniform(0.1, 0.5, p.shape) if name[0] == "b" else p
                        for name, p in net.parameters().items()})
    return gradient_check(net, X, y)


def slope_table(activations: Sequence) -> tuple[str, bool]:
    """Analytic against numerical slopes, per dtype, and a network's gradient check; and whether all passed."""
    import numpy as np

    from .numerical import check_slopes

    by_dtype = {dt: check_slopes(activations, dtype=dt) for dt in (np.float32, np.float64)}
    lines = [
        'Analytic slopes against the numerical "height over width of a small triangle",',
        "on 2001 points of [-10, 10] away from the kinks (worst gap / tolerance), and the gradient",
        f"check of a network [2, 5, 3, 1] (relative difference, float64; below {NETWORK_TOLERANCE:.0e} passes):",
        "",
        f"{'activation':<38} {'float32':>21} {'float64':>21} {'network':>9}  status",
    ]
    ok = True
    for g, row in zip(activations, zip(*by_dtype.values())):
        network = network_gradient_check(g)
        passed = all(r.passed for r in row) and network < NETWORK_TOLERANCE
        ok &= passed
        cells = " ".join(f"{r.worst_gap:9.2e} / {r.tolerance:8.1e}  " for r in row)
        lines.append(f"{row[0].activation!r:<38} {cells}{network:9.2e}  {'ok' if passed else 'FAIL'}")
    return "\n".join(lines), ok


def _check(args: argparse.Namespace) -> int:
    chosen = _activations(args.activation)
    print(lecture_table(chosen))
    print()
    table, ok = slope_table(chosen)
    print(table)
    print()
    print("all slopes agree, and every network passes its gradient check" if ok
          else "some slopes disagree with their numerical estimate")
    return 0 if ok else 1


# -- values on the command line ------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected an integer in [0, 2**32 - 1], got {text!r}")
    return value


#: The farthest --at that slope plots are drawn around (beyond a few hundred every slope of the
#: family is constant, and near 1e16 the window z +- 4 would collapse to one double).
AT_LIMIT = 1e6


def _plottable(text: str) -> float:
    value = _finite(text)
    if abs(value) > AT_LIMIT:
        raise argparse.ArgumentTypeError(f"expected a number within ±{AT_LIMIT:g} (the plot spans z ± 4), "
                                         f"got {text!r}")
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _positive(text: str) -> float:
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _fraction(text: str) -> float:
    value = _finite(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _sizes(text: str) -> tuple[int, ...]:
    """``"64,32"`` -> ``(64, 32)``; ``""`` -> ``()`` (no hidden layer)."""
    parts = [p.strip() for p in text.split(",")] if text.strip() else []
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        sizes = (0,)
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"expected positive layer sizes separated by commas, such as 64,32; "
                                         f"got {text!r}")
    return sizes


#: Names ``--delimiter`` accepts for characters that are awkward to type.
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}


def _delimiter(text: str) -> str:
    """One character, or ``tab``, ``\\t``, ``comma``, ``semicolon``, ``pipe``, ``space``."""
    value = _DELIMITER_NAMES.get(text.lower(), text)
    if len(value) != 1 or value in "\"\r\n":
        raise argparse.ArgumentTypeError(f"expected one character (or tab, comma, semicolon, pipe, space), "
                                         f"got {text!r}")
    return value


def _need(command: str, *modules: str) -> None:
    """Import ``modules`` or stop with the one line that says how to install them."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            raise UsageError(f"needs {name}, which is not installed: pip install \"slopekit[cli]\"") from None


def _writable_file(path: str) -> None:
    """Refuse an output file that is a folder, or whose folder is missing, a file, or not writable."""
    if not path:
        raise UsageError("--out needs a file name")
    if os.path.isdir(path):
        raise UsageError(f"--out {path} is a folder; name a file")
    folder = os.path.dirname(os.path.abspath(path))
    shown = os.path.dirname(path) or "."
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageError(f"--out {path}: {shown} is a file, not a folder")
    if not os.path.isdir(folder):
        raise UsageError(f"--out {path}: the folder {shown} does not exist")
    _probe(folder, f"--out {path}")


def _probe(folder: str, what: str) -> None:
    """Create and remove a file in ``folder``, so that an unwritable output fails before any work is done.

    Permission bits alone do not tell (root ignores them; read-only mounts and
    immutable folders refuse root too), so this tries.
    """
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".slopekit-probe-")
    except OSError as exc:
        raise UsageError(f"{what}: cannot write in {folder}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(name)


# -- train ---------------------------------------------------------------------------------------

_SETTINGS = ("dataset", "data", "target", "hidden", "activation", "output", "epochs", "lr", "batch_size",
             "optimizer", "seed", "test_fraction", "dtype", "scale", "task", "delimiter")


def _settings(args: argparse.Namespace) -> tuple[Any, list[str]]:
    """The run's settings, and the names of those taken from `runs.FILE_DEFAULTS` (a data file's defaults)."""
    from .runs import FILE_DEFAULTS, Settings

    if args.data is not None and args.dataset is not None:
        raise UsageError("give --dataset or --data FILE, not both")
    if args.target is not None and args.data is None:
        raise UsageError("--target names a column of --data FILE; add --data")
    from ._data_parts import is_several

    several = args.data is not None and is_several(args.data)  # a folder or glob: checked on reading
    if args.delimiter is not None and (args.data is None or not (several or args.data.lower().endswith((".csv",
                                                                                                        ".tsv")))):
        raise UsageError("--delimiter applies to a CSV file given with --data")
    on_dask = args.workers is not None or args.scheduler is not None
    if on_dask and args.data is None:
        raise UsageError(f"{'--workers' if args.workers is not None else '--scheduler'} trains on --data with Dask; "
                         "add --data (a file, a folder or a glob)")
    given = {k: getattr(args, k) for k in _SETTINGS if getattr(args, k) is not None}
    defaulted = []
    if args.data is not None:  # absolute, so that --resume finds it from any folder
        given.update(data=os.path.abspath(args.data), dataset=None, dask=on_dask)
        defaulted = [k for k in FILE_DEFAULTS if k not in given]
        given.update({k: FILE_DEFAULTS[k] for k in defaulted})
    return Settings(**given), defaulted


def _not_a_file(path: str, flag: str) -> None:
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"{flag} {path} is a file; name a folder (it is created if missing)")


def _folder(path: str, flag: str) -> None:
    _not_a_file(path, flag)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output folder {path}: {exc.strerror or exc}") from None
    _probe(path, f"{flag} {path}")


def _count(n: int, noun: str) -> str:
    """``"1 epoch"``, ``"2 epochs"``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _percent(key: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if key == "accuracy" else f"{value:.4f}"


def _header(run: Any, settings: Any, defaulted: list[str], state: dict[str, Any] | None) -> None:
    """The lines printed before training: the data, what the target was taken for, the scaling, the network."""
    d = run.data
    n_train, n_test, n_features = len(d.X_train), len(d.X_test), len(d.features)
    batch = "full batch" if settings.batch_size is None else f"batches of {settings.batch_size}"
    print(f"data: {d.source}, {n_train + n_test} rows ({n_train} for training, {n_test} held out), "
          f"{n_features} feature{'s' if n_features != 1 else ''}, target {d.target.name}")
    t = d.target
    other = "regression" if t.task == "classification" else "classification"
    hint = f"; --task {other} to override" if not t.reason.startswith("--") else ""
    print(f"target {t.name!r}: {t.describe()}{hint}")
    if settings.scale != "none" or settings.data is not None:
        print(_scaling_line(settings.scale, t.task, n_train))
    if d.where is not None:
        print(f"dask: the rows are {d.where}")
    print(f"network: {run.net!r}")
    print(f"training: {settings.optimizer}, learning rate {settings.lr:g}, {_count(settings.epochs, 'epoch')}, {batch}"
          + (f", resuming after epoch {run.epoch}" if state else ""))
    if defaulted:
        shown = {"hidden": "--hidden", "activation": "--activation", "optimizer": "--optimizer", "lr": "--lr",
                 "epochs": "--epochs", "batch_size": "--batch-size", "scale": "--scale"}
        print(f"(defaults for a data file: {', '.join(_default_text(k, getattr(settings, k)) for k in defaulted)}; "
              f"set them with {', '.join(shown[k] for k in defaulted)})")
    sys.stdout.flush()


def _scaling_line(scale: str, task: str, n_train: int) -> str:
    """``scaling: standard: each feature to mean 0 and standard deviation 1 over the 455 training rows ...``"""
    if scale == "none":
        return "scaling: none (the columns as they are)"
    standard = "mean 0 and standard deviation 1"
    if scale == "standard":
        how = f"each feature{' and the target' if task == 'regression' else ''} to {standard}"
    else:
        how = "each feature to the range [0, 1]" + (f", and the target to {standard}," if task == "regression" else "")
    return f"scaling: {scale}: {how} over the {n_train} training rows (kept in model.npz for predict)"


def _default_text(key: str, value: Any) -> str:
    """A data file's default as the header shows it: ``hidden 64``, ``learning rate 0.001``, ..."""
    return {"hidden": lambda: f"hidden {','.join(map(str, value)) or 'none'}",
            "activation": lambda: f"{value} activation", "optimizer": lambda: f"{value} optimizer",
            "lr": lambda: f"learning rate {value:g}", "epochs": lambda: f"{value} epochs",
            "batch_size": lambda: f"batch size {value}", "scale": lambda: f"{value} scaling"}[key]()


def _diverged(run: Any, folder: str, created: bool, what: str | None) -> int:
    """Training diverged: one line (the epoch, a smaller --lr), no results written; the last checkpoint stays."""
    from . import runs

    if what is None:  # the very first loss was not finite
        message = (f"the training loss is infinite or NaN before the first epoch: the data or the weights are "
                   f"too large for {run.settings.dtype}; try --scale standard or --dtype float64")
    else:
        message = f"{what}; try a smaller --lr than {run.settings.lr:g}"
    checkpoint = os.path.join(folder, runs.CHECKPOINT)
    if os.path.exists(checkpoint):
        try:
            kept = f"epoch {runs.load_checkpoint(folder)[1]['epoch']}"
        except ValueError:
            kept = "the last one written"
        message += f"; the last good checkpoint ({kept}) is kept in {checkpoint}"
    elif created and os.path.isdir(folder) and not os.listdir(folder):
        os.rmdir(folder)
    print(f"slopekit train: error: {message}", file=sys.stderr)
    return 1


def _train(args: argparse.Namespace) -> int:
    from . import runs

    _need("train", "tqdm", "matplotlib")
    state, defaulted = None, []
    if args.resume is not None:
        given = [k for k in (*_SETTINGS, "out") if getattr(args, k) is not None]
        if given:
            raise UsageError(f"--resume takes every setting from the checkpoint; drop "
                             f"{', '.join('--' + k.replace('_', '-') for k in given)}")
        try:
            settings, state = runs.load_checkpoint(args.resume)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        folder = args.resume
        if state["epoch"] >= settings.epochs and os.path.exists(os.path.join(folder, "metrics.json")):
            raise UsageError(f"--resume {folder}: that run is complete ({state['epoch']} of {settings.epochs} "
                             "epochs); nothing to resume")  # (without metrics.json: its results get written)
        if args.checkpoint_every is None:  # keep the interrupted run's schedule
            args.checkpoint_every = state["checkpoint_every"]
    else:
        settings, defaulted = _settings(args)
        if args.out == "":
            raise UsageError("--out needs a folder name")
        folder = args.out or runs.default_folder()
        _not_a_file(folder, "--out")  # before the data is read: the cheaper mistake first
        held = [name for name in (runs.CHECKPOINT, "model.npz", "metrics.json")
                if os.path.exists(os.path.join(folder, name))]
        if "metrics.json" in held:
            raise UsageError(f"--out {folder} already holds a finished run ({', '.join(held)}); name a new folder")
        if held:
            raise UsageError(f"--out {folder} already holds a run ({', '.join(held)}); name a new folder, "
                             f"or continue an interrupted one with --resume {folder}")
    flags = _cluster_flags(args, settings, state, folder)
    _check_parts(settings)  # before a cluster starts: the cheaper mistake first
    stored = state is not None and args.workers is None and args.scheduler is None and "scheduler" in flags
    hint = (f" (The run in {folder} used that cluster; to resume it on another, add --workers N or --scheduler "
            "ADDRESS.)" if stored else "")
    with _cluster(flags, hint) as cluster:
        return _run(args, settings, folder, state, defaulted, cluster)


def _check_parts(settings: Any) -> None:
    """Refuse a folder or glob that matches nothing, or whose files differ in format or columns."""
    from . import _data_parts
    from ._data_files import DataError

    if settings.data is None or not (settings.dask or _data_parts.is_several(settings.data)):
        return
    try:
        _data_parts.parts(settings.data, settings.delimiter)
    except DataError as exc:
        raise UsageError(str(exc)) from None


def _cluster_flags(args: argparse.Namespace, settings: Any, state: dict[str, Any] | None,
                   folder: str) -> dict[str, Any]:
    """Where a run on Dask computes: ``{"workers": N}``, ``{"scheduler": ADDRESS}``, or ``{}`` in memory.

    A resumed run on Dask connects to what its checkpoint names unless the
    command line names another cluster; a run in memory is resumed in memory.
    """
    given = {"workers": args.workers} if args.workers is not None else \
        {"scheduler": args.scheduler} if args.scheduler is not None else {}
    if state is None:
        return given
    if not settings.dask:
        if given:
            raise UsageError(f"--resume {folder}: that run trained in memory (without Dask); resume it without "
                             f"--{next(iter(given))}")
        return {}
    flags = given or state.get("cluster") or {}
    if not flags:
        raise UsageError(f"--resume {folder}: that run trained with Dask; give --workers N or --scheduler ADDRESS")
    return flags


@contextlib.contextmanager
def _cluster(flags: dict[str, Any], hint: str = "") -> Any:
    """The Dask cluster of ``flags`` (`slopekit._cluster.connect`), announced on the first line; None without.

    ``hint`` ends the message when the cluster cannot be reached.
    """
    if not flags:
        yield None
        return
    from . import _cluster as cluster_module

    try:
        cluster = cluster_module.connect(**flags)
        connected = cluster.__enter__()
    except cluster_module.ClusterError as exc:
        raise UsageError(str(exc) + hint) from None
    with contextlib.ExitStack() as stack:
        stack.push(cluster.__exit__)
        dashboard = f"; dashboard {connected.dashboard}" if connected.dashboard else ""
        print(f"dask: {connected.description}{dashboard}", flush=True)
        yield connected


def _run(args: argparse.Namespace, settings: Any, folder: str, state: dict[str, Any] | None,
         defaulted: list[str], cluster: Any) -> int:
    """Read the data, train, write the results: `_train` once the settings, folder and cluster are known."""
    from . import runs
    from ._data_files import DataError

    try:
        run = runs.Run(settings, folder, checkpoint_every=args.checkpoint_every, progress=args.progress,
                       checkpoint=state, cluster=cluster)
    except (DataError, ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    created = not os.path.exists(folder)
    _folder(folder, "--resume" if state is not None else "--out")
    _header(run, settings, defaulted, state)
    try:
        run.train()
    except ValueError as exc:
        if not settings.dask:
            raise
        raise UsageError(str(exc).splitlines()[0]) from None  # bad data found by a worker while training
    except runs.Interrupted as exc:
        print(f"slopekit train: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("slopekit train: interrupted twice; stopped without a checkpoint", file=sys.stderr)
        return 130
    except FloatingPointError:
        return _diverged(run, folder, created, f"the training loss became infinite or NaN at epoch {run.epoch + 1}"
                         if math.isfinite(run.start_loss) else None)
    if run.diverged:
        return _diverged(run, folder, created, run.diverged)
    try:
        with runs.deferred_sigint() as late:  # the results take a moment to write: Ctrl-C waits for them
            metrics = run.finish()
    except KeyboardInterrupt:  # a second Ctrl-C while writing: keep what resuming needs
        path = run.write_checkpoint()
        print(f"slopekit train: interrupted while writing the results; checkpoint written to {path}; "
              f"finish with: slopekit train --resume {folder}", file=sys.stderr)
        return 130
    key = runs.score_name(run.output)
    done = run.epoch - (state["epoch"] if state else 0)
    speed = "" if run.seconds <= 0 or not done else f" ({done / run.seconds:,.0f} epochs/s)" \
        if done >= run.seconds else f" ({run.seconds / done:,.1f} s per epoch)"
    print(f"trained {_count(done, 'epoch')} in {run.seconds:.1f} s{speed}; final loss {metrics['final_loss']:.6f}")
    print(f"{'accuracy' if key == 'accuracy' else 'R^2'}: training {_percent(key, metrics[f'train_{key}'])}, "
          f"held out {_percent(key, metrics[f'test_{key}'])}")
    print(f"wrote {os.path.join(folder, '')}: {', '.join(metrics['files'])}")
    if late[0]:
        sys.stdout.flush()
        print("slopekit train: interrupted while writing the results; they were written in full first",
              file=sys.stderr)
        return 130
    return 0


# -- predict -------------------------------------------------------------------------------------


def _model_file(path: str) -> str:
    """The model file ``predict`` reads: ``path``, or the ``model.npz`` of a run folder."""
    if os.path.isdir(path):
        inside = os.path.join(path, "model.npz")
        if os.path.isfile(inside):
            return inside
        from .runs import CHECKPOINT

        unfinished = os.path.isfile(os.path.join(path, CHECKPOINT))
        raise UsageError(f"{path} is a folder without model.npz; " + (
            f"its run did not finish: finish it with slopekit train --resume {path}" if unfinished else
            "give a `slopekit train` run folder, or its model.npz"))
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such model file; give the model.npz of a `slopekit train` run, or its folder")
    return path


def _keep(values: Sequence[str] | None, outputs: list[str], features: list[str] | None) -> list[str]:
    """The ``--keep`` columns, in order, each once; a feature column is in the output already."""
    keep: list[str] = []
    for name in values or []:
        if name in outputs:
            raise UsageError(f"--keep {name}: the output has a column {name!r} of its own; rename the input's")
        if name not in keep and name not in (features or []):
            keep.append(name)
    return keep


def _predict(args: argparse.Namespace) -> int:
    from ._atomic import replacing
    from ._data_files import DataError, read_features
    from .network import Network
    from ._predictions import Predictor

    if args.out is not None:
        _writable_file(args.out)
    path = _model_file(args.model)
    try:
        net = Network.load(path)
        model = Predictor(net)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a slopekit model ({exc})") from None
    if args.delimiter is not None and not args.data.lower().endswith((".csv", ".tsv")):
        raise UsageError("--delimiter applies to a CSV file")
    outputs = model.header([])
    keep = _keep(args.keep, outputs, model.features)
    try:
        table = read_features(args.data, model.features, net.layer_sizes[0], target=args.target,
                              delimiter=args.delimiter, dtype=net.dtype, progress=args.progress, keep=keep)
    except DataError as exc:
        raise UsageError(str(exc)) from None
    if model.features is None:  # columns by position: a kept feature is in the output already
        table.kept = {k: v for k, v in table.kept.items() if k not in table.features}
    left_out = [c for c in table.ignored if c not in table.kept]
    if left_out and model.features is not None:
        print(f"slopekit predict: note: {len(left_out)} column{'s' if len(left_out) > 1 else ''} "
              f"that the model does not use left out: {', '.join(left_out[:8])}"
              + (", ..." if len(left_out) > 8 else "") + "; copy one into the output with --keep COLUMN",
              file=sys.stderr)
    if args.out is None:
        sys.stdout.flush()
        model.write_csv(sys.stdout.buffer, table.X, table.features, kept=table.kept)
    else:
        with replacing(args.out, "wb") as f:
            model.write_csv(f, table.X, table.features, kept=table.kept)
        print(f"wrote {len(table.X)} predictions to {args.out}")
    return 0


# -- plot ----------------------------------------------------------------------------------------


def _plot(args: argparse.Namespace) -> int:
    from . import activations, plotting

    _need("plot", "matplotlib")
    _writable_file(args.out)
    try:
        chosen = [activations.parse(spec) for spec in args.names] if args.names else \
            [activations.get(name) for name in LECTURE_ORDER]
        path = plotting.check_path(args.out)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    width, height = plotting.slope_triangles(chosen, path, at=args.at)
    size = f" ({width} x {height} pixels)" if path.lower().endswith(".png") else ""
    print(f"wrote {path}{size}: g, g' and the slope triangle at z = {args.at:g} for "
          f"{', '.join(g.name for g in chosen)}")
    return 0


# -- the parser ----------------------------------------------------------------------------------


def _add_train(sub: Any) -> None:
    from ._data_files import DATASETS
    from ._targets import CLASS_LIMIT
    from .runs import FILE_DEFAULTS as F

    train = sub.add_parser(
        "train", help="train a network (default: the course's flower network) and write its pictures",
        description="Train a network with a progress bar, print its training and held-out score, and write "
        "model.npz, loss.png, decision_boundary.png (two features), confusion.png (a classifier) and metrics.json "
        "into an output folder. Without options: the course's case, [2, 4, 1] with tanh and a sigmoid output on "
        "the flower data, learning rate 1.2, 10000 full-batch epochs. With --data FILE --target COLUMN: the "
        f"defaults for a data file, a hidden layer of {F['hidden'][0]} {F['activation']} units, {F['optimizer']} "
        f"at learning rate {F['lr']:g} on batches of {F['batch_size']} for {F['epochs']} epochs, "
        f"{F['scale']} scaling. (Defaults below: built-in dataset / data file.)",
    )
    data = train.add_argument_group("data")
    data.add_argument("--dataset", choices=tuple(DATASETS), help="a built-in dataset (default: flower)")
    data.add_argument("--data", metavar="PATH", help="a CSV or TSV file with a header row (the delimiter is "
                      "sniffed), a Parquet file, a .npy 2-D array, or a .npz with arrays X and y; or a folder or "
                      "a glob (quote it: 'parts/*.csv') of CSV, Parquet or .npy files with the same columns, "
                      "read as one table (whole into memory, unless --workers or --scheduler)")
    data.add_argument("--target", metavar="COLUMN", help="the target column of --data (default: the last one)")
    data.add_argument("--delimiter", type=_delimiter, metavar="CHAR",
                      help="the CSV delimiter, such as ';' or tab (default: sniffed from the first lines)")
    data.add_argument("--task", choices=("classification", "regression"),
                      help="(default: inferred from the target: text, true/false, or whole numbers with at most "
                      f"{CLASS_LIMIT} distinct values are classes; other numbers a regression)")
    data.add_argument("--scale", choices=("standard", "minmax", "none"),
                      help="scale the features (and a regression's target) with statistics of the training rows, "
                      "kept in model.npz (default: none / standard)")
    data.add_argument("--test-fraction", type=_fraction, metavar="F", help="the share held out (default 0.2)")
    dask = train.add_argument_group(
        "larger than memory, or a cluster (Dask: pip install \"slopekit[dask]\")",
        "With --workers or --scheduler, --data is read lazily with Dask, in partitions (CSV blocks of 64 MB, "
        "Parquet row groups, .npy row blocks), never whole in this process; the held-out rows are drawn per "
        "row of each partition by the seed; the rows stay in the workers' memory when they take at most "
        "half of it, else each pass reads the files again. The dashboard's address is printed first.")
    where = dask.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, metavar="N",
                       help="start a Dask LocalCluster of N worker processes (1 thread each) on this machine")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="train on the running Dask cluster whose scheduler is at ADDRESS, such as "
                       "tcp://10.0.0.5:8786 (its workers need slopekit installed)")
    net = train.add_argument_group("network")
    net.add_argument("--hidden", type=_sizes, metavar="N,N,...",
                     help=f"hidden layer sizes (default 4 / {','.join(map(str, F['hidden']))})")
    net.add_argument("--activation", metavar="NAME[:PARAM=VALUE,...]",
                     help="the hidden activation, e.g. relu or leaky_relu:slope=0.001 "
                     f"(default tanh / {F['activation']})")
    net.add_argument("--output", choices=("sigmoid", "softmax", "identity"),
                     help="the output activation (default: from the target: two classes sigmoid, more softmax, "
                     "a regression identity)")
    net.add_argument("--dtype", choices=("float32", "float64"), help="(default float64)")
    net.add_argument("--seed", type=_seed, help="seeds the weights, the split and the shuffles (default 0)")
    fit = train.add_argument_group("training")
    fit.add_argument("--epochs", type=_positive_int, help=f"(default 10000 / {F['epochs']})")
    fit.add_argument("--lr", type=_positive, metavar="RATE", help=f"the learning rate (default 1.2 / {F['lr']:g})")
    fit.add_argument("--batch-size", type=_positive_int, metavar="N",
                     help=f"mini-batches (default: full batch / {F['batch_size']})")
    fit.add_argument("--optimizer", choices=("gd", "sgd", "momentum", "adam"),
                     help=f"(default gd / {F['optimizer']})")
    out = train.add_argument_group("output")
    out.add_argument("--out", metavar="DIR", help="the output folder (default runs/<timestamp>)")
    out.add_argument("--checkpoint-every", type=_positive_int, metavar="N",
                     help="write DIR/checkpoint.npz every N epochs (Ctrl-C always writes one)")
    out.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its checkpoint (a run on Dask: "
                     "on the cluster it ran on, unless --workers or --scheduler names another)")
    out.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="show progress bars (default: on a terminal)")
    train.set_defaults(run=_train)


def _add_predict(sub: Any) -> None:
    predict = sub.add_parser(
        "predict", help="predictions (and probabilities) of a saved model, as CSV",
        description="Read MODEL (the model.npz of a `slopekit train` run, or the run's folder) and DATA (CSV "
        "with a header row, Parquet, .npy or .npz) and write one CSV row per sample: the --keep columns, the "
        "model's features, the prediction (the original label, or a value in the target's units) and, for a "
        "classifier, a probability_<class> column per class. The features are taken by name, in any order; "
        "other columns are left out unless kept. The model's scaling is applied.",
    )
    predict.add_argument("model", metavar="MODEL", help="a model.npz, or a run folder holding one")
    predict.add_argument("data", metavar="DATA")
    predict.add_argument("--target", metavar="COLUMN", help="a column of DATA to leave out (for a model without "
                         "feature names; others leave out every column they do not use)")
    predict.add_argument("--delimiter", type=_delimiter, metavar="CHAR", help="the CSV delimiter (default: "
                         "sniffed)")
    predict.add_argument("--keep", action="append", metavar="COLUMN",
                         help="copy this column of DATA (an ID, a label: any type, as written) into the output, "
                         "in front; repeat for more (--keep id --keep name); an array file's columns are 0, 1, "
                         "... (and y)")
    predict.add_argument("--out", metavar="FILE", help="write the CSV here (default: standard output)")
    predict.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                         help="show a progress bar while a large file loads (default: on a terminal)")
    predict.set_defaults(run=_predict)


def _add_plot(sub: Any) -> None:
    plot = sub.add_parser(
        "plot", help="the lecture's picture: g, g' and the slope triangle on the tangent",
        description="For each activation draw g(z) and g'(z), and at the point z the tangent with its small "
        "right triangle, height / width = slope. PNG or SVG by the file's extension. Without names: the "
        "lecture's four, side by side.",
    )
    plot.add_argument("names", nargs="*", metavar="NAME[:PARAM=VALUE,...]", help="activations (default: "
                      "sigmoid tanh relu leaky_relu)")
    plot.add_argument("--at", type=_plottable, default=1.0, metavar="Z", help="where to draw the tangent (default 1)")
    plot.add_argument("--out", default="slopes.png", metavar="FILE", help="a .png or .svg file (default "
                      "slopes.png)")
    plot.set_defaults(run=_plot)


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser."""
    parser = _Parser(
        prog="slopekit",
        description="Activation functions, their slopes, and networks trained on them, after the lecture.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"slopekit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_train(sub)
    _add_predict(sub)
    _add_plot(sub)
    check = sub.add_parser(
        "check",
        help="print the lecture's table and check every slope against its numerical estimate",
        description="Print g, g' from z and g' from a at z = -10, 0, 10, compare each analytic slope "
        "with the numerical one, and run the gradient check of a small network. Exit status 1 if any fails.",
    )
    check.add_argument(
        "--activation", "-a", action="append", metavar="NAME[:PARAM=VALUE,...]",
        help="an activation to check, e.g. relu:at_zero=1 or leaky_relu:slope=0.001 (repeatable; default: all)",
    )
    check.set_defaults(run=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its one-line error or the help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"slopekit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away: entrypoint handles it quietly
        raise
    except OSError as exc:  # e.g. the disk filled up while writing: one line, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"slopekit {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      line: str | None = None) -> str:
    """Warnings on the command line: one line each, without the source line Python would quote."""
    return f"slopekit: warning: {message}\n"


def entrypoint() -> None:
    """The console script ``slopekit``."""
    import warnings

    warnings.formatwarning = _one_line_warning
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (``slopekit check | head``): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 0
    except KeyboardInterrupt:  # Ctrl-C outside training (which handles it itself)
        print("slopekit: interrupted", file=sys.stderr)
        status = 130
    sys.exit(status)
