"""``slopekit train`` and ``slopekit predict`` through main(argv), and once as the installed script."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from _cli_helpers import files_under, one_line_error, png_size, script

import slopekit
from slopekit import cli


def test_default_run_is_the_course_case_and_writes_everything(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "Network([2, 4, 1], hidden='tanh', output='sigmoid'" in stdout
    assert "gd, learning rate 1.2, 10000 epochs, full batch" in stdout
    assert "trained 10000 epochs" in stdout and "accuracy: training" in stdout
    assert "target 'class': 2 classes (0, 1) -> sigmoid output" in stdout
    assert "scaling" not in stdout and "defaults for a data file" not in stdout  # the course's case, unscaled
    assert files_under(out) == ["confusion.png", "decision_boundary.png", "loss.png", "metrics.json", "model.npz"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 10000 and metrics["data"]["n_train"] == 320 and metrics["data"]["n_test"] == 80
    assert metrics["train_accuracy"] > 0.88 and metrics["test_accuracy"] > 0.8  # the course: about 90%
    assert f"{metrics['train_accuracy']:.1%}" in stdout
    net = slopekit.Network.load(out / "model.npz")
    assert net.layer_sizes == (2, 4, 1) and len(net.history) == 10000
    assert net.history[-1] == metrics["final_loss"] < net.history[0]
    assert png_size(out / "loss.png") == (640, 420)
    assert png_size(out / "decision_boundary.png") == (740, 560)
    assert png_size(out / "confusion.png")[0] > 400


def test_options_softmax_minibatch_adam_float32(tmp_path, capsys):
    out = tmp_path / "spirals"
    argv = ["train", "--dataset", "spirals", "--hidden", "16,8", "--activation", "leaky_relu:slope=0.05",
            "--epochs", "60", "--lr", "0.02", "--batch-size", "32", "--optimizer", "adam", "--seed", "5",
            "--test-fraction", "0.25", "--dtype", "float32", "--out", str(out)]
    assert cli.main(argv) == 0
    capsys.readouterr()
    net = slopekit.Network.load(out / "model.npz")
    assert net.layer_sizes == (2, 16, 8, 3) and net.output == "softmax" and net.dtype == np.float32
    assert net.hidden[0] == slopekit.get("leaky_relu", slope=0.05) and net.seed == 5
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data"]["n_test"] == 75 and len(net.history) == 60
    assert png_size(out / "decision_boundary.png") == (740, 560)
    # the same command again gives the same network, bit for bit
    again = tmp_path / "again"
    assert cli.main([*argv[:-1], str(again)]) == 0
    for (name, p), q in zip(net.parameters().items(), slopekit.Network.load(again / "model.npz").parameters().values()):
        assert np.array_equal(p, q), name


def test_csv_data_with_a_target_column_and_predict(tmp_path, capsys):
    from sklearn.preprocessing import StandardScaler

    X, y = slopekit.datasets.moons(n_samples=120)
    csv = tmp_path / "moons.csv"
    rows = ["label,u,v"] + [f"{int(c)},{float(a)!r},{float(b)!r}" for (a, b), c in zip(X, y)]
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(csv), "--target", "label", "--hidden", "8", "--epochs", "300",
                     "--out", str(out)]) == 0
    capsys.readouterr()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data"]["features"] == ["u", "v"] and metrics["data"]["target"] == "label"
    net = slopekit.Network.load(out / "model.npz")
    # the network sees standardised features: the training rows' statistics, kept in the model
    train = np.random.RandomState(0).permutation(120)[24:]
    scaled = StandardScaler().fit(X[train]).transform(X)
    # predict: to a file, leaving the target out
    predictions = tmp_path / "predictions.csv"
    assert cli.main(["predict", str(out / "model.npz"), str(csv), "--target", "label", "--out", str(predictions)]) == 0
    lines = predictions.read_text().splitlines()
    assert lines[0] == "u,v,prediction,probability_0,probability_1"
    table = np.array([[float(c) for c in line.split(",")] for line in lines[1:]])
    assert np.array_equal(table[:, :2], X)
    assert np.array_equal(table[:, 2], net.predict(scaled))
    np.testing.assert_allclose(table[:, 3:], net.predict_proba(scaled), rtol=1e-12)
    assert files_under(tmp_path).count("predictions.csv") == 1 and not any(".tmp" in f for f in files_under(tmp_path))
    # to standard output, from a .npy holding only the features (no names: taken by position)
    np.save(tmp_path / "X.npy", X[:3])
    capsys.readouterr()
    assert cli.main(["predict", str(out / "model.npz"), str(tmp_path / "X.npy")]) == 0
    shown = [line.split(",") for line in capsys.readouterr().out.splitlines()[1:]]
    assert [row[:3] for row in shown] == [line.split(",")[:3] for line in lines[1:4]]
    np.testing.assert_allclose(np.array(shown, dtype=float), table[:3], rtol=1e-12)


def test_regression_from_npz_infers_identity(tmp_path, capsys):
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (80, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.3
    np.savez(tmp_path / "lin.npz", X=X, y=y)
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(tmp_path / "lin.npz"), "--activation", "relu", "--hidden", "8",
                     "--epochs", "400", "--lr", "0.05", "--out", str(out)]) == 0
    assert "R^2: training" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train_r2"] > 0.9
    assert files_under(out) == ["loss.png", "metrics.json", "model.npz"]  # no boundary for a regression
    assert cli.main(["predict", str(out / "model.npz"), str(tmp_path / "lin.npz")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "0,1,2,prediction"


def _bad_files(tmp):
    (tmp / "words.csv").write_text("a,b,y\n1,2,0\n3,red,1\n")
    (tmp / "holes.csv").write_text("a,b,y\n1,2,0\n3,,1\n")
    (tmp / "nan.csv").write_text("a,b,y\n1,NaN,0\n")
    (tmp / "ok.csv").write_text("a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    (tmp / "garbage.npz").write_bytes(b"not a zip file")
    (tmp / "data.txt").write_text("1 2 3\n")
    (tmp / "afile").write_text("")
    (tmp / "half.csv").write_text("a,b,y\n1,2,0.5\n3,4,1\n")
    (tmp / "empty").mkdir()
    (tmp / "empty" / "notes.txt").write_text("a folder of other files\n")


@pytest.mark.parametrize("argv, fragments", [
    (["train", "--data", "{tmp}/none.csv"], ["none.csv: no such file"]),
    (["train", "--data", "{tmp}/words.csv"], ["column 'b' is not numeric: line 3 has 'red'"]),
    (["train", "--data", "{tmp}/holes.csv"], ["missing value in column 'b' on line 3"]),
    (["train", "--data", "{tmp}/nan.csv"], ["missing value ('NaN') in column 'b' on line 2"]),
    (["train", "--data", "{tmp}/ok.csv", "--target", "z"], ["unknown target column 'z'; the columns are: a, b, y"]),
    (["train", "--data", "{tmp}/garbage.npz"], ["garbage.npz: not a .npz file"]),
    (["train", "--data", "{tmp}/data.txt"], ["unsupported file type '.txt'; expected .csv, .tsv, .parquet, .npy, "
                                              ".npz"]),
    (["train", "--data", "{tmp}/empty"], ["empty: a folder without data files; expected .csv, .tsv, .parquet, .npy"]),
    (["train", "--target", "y"], ["--target names a column of --data FILE"]),
    (["train", "--activation", "relu:slop=1"], ["unknown parameter 'slop'; allowed: at_zero"]),
    (["train", "--activation", "sigmod"], ["unknown activation 'sigmod' (did you mean 'sigmoid'?)"]),
    (["train", "--lr", "fast"], ["argument --lr: expected a number, got 'fast'"]),
    (["train", "--lr", "-1"], ["argument --lr: expected a positive number"]),
    (["train", "--epochs", "1e3"], ["argument --epochs: expected a positive integer, got '1e3'"]),
    (["train", "--hidden", "4,x"], ["argument --hidden: expected positive layer sizes"]),
    (["train", "--test-fraction", "1"], ["argument --test-fraction: expected a number in [0, 1)"]),
    (["train", "--dataset", "iris"], ["argument --dataset: invalid choice: 'iris'"]),
    (["train", "--out", "{tmp}/afile"], ["--out {tmp}/afile is a file; name a folder"]),
    (["train", "--out", "{tmp}/afile/run"], ["cannot create the output folder {tmp}/afile/run"]),
    (["train", "--output", "sigmoid", "--data", "{tmp}/half.csv"], ["--output sigmoid needs class labels, but "
                                                                     "target 'y' is continuous"]),
    (["train", "--resume", "{tmp}/nowhere"], ["--resume {tmp}/nowhere: no such folder"]),
    (["train", "--resume", "{tmp}", "--lr", "2"], ["--resume takes every setting from the checkpoint; drop --lr"]),
    (["predict", "{tmp}/none.npz", "{tmp}/ok.csv"], ["none.npz: no such model file"]),
    (["predict", "{tmp}/garbage.npz", "{tmp}/ok.csv"], ["garbage.npz: not a slopekit model"]),
    (["predict", "{tmp}/afile"], ["the following arguments are required: DATA"]),
])
def test_user_mistakes_are_one_line_exit_2_and_leave_nothing(tmp_path, capsys, monkeypatch, argv, fragments):
    monkeypatch.chdir(tmp_path)  # a default runs/ folder would appear here
    _bad_files(tmp_path)
    before = files_under(tmp_path)
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert cli.main(argv) == 2
    one_line_error(capsys.readouterr(), *(f.format(tmp=tmp_path) for f in fragments))
    assert files_under(tmp_path) == before


def test_predict_refuses_a_file_without_the_models_columns(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--epochs", "5", "--out", str(out)]) == 0
    (tmp_path / "three.csv").write_text("a,x2,y\n1,2,0\n")
    capsys.readouterr()
    argv = ["predict", str(out / "model.npz"), str(tmp_path / "three.csv"), "--out", str(tmp_path / "p.csv")]
    assert cli.main(argv) == 2
    one_line_error(capsys.readouterr(), "missing the model's feature column 'x1'", "the file's columns are: a, x2, y")
    assert not (tmp_path / "p.csv").exists()


def test_default_folder_is_runs_timestamp(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--epochs", "3"]) == 0
    assert cli.main(["train", "--epochs", "3"]) == 0
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2 and all((r / "model.npz").exists() for r in runs)
    assert runs[0].name[:8].isdigit() and runs[0].name[8] == "-"


def test_a_diverging_run_says_so_in_one_line(tmp_path, capsys):
    argv = ["train", "--output", "identity", "--activation", "relu", "--lr", "1e5", "--epochs", "50"]
    assert cli.main([*argv, "--out", str(tmp_path / "run")]) == 1
    captured = capsys.readouterr()
    assert "network:" in captured.out  # the header was printed before training
    one_line_error(type(captured)("", captured.err), "training diverged", "try a smaller --lr than 100000")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("missing", ["tqdm", "matplotlib"])
def test_without_the_cli_extra_train_says_how_to_install_it(tmp_path, capsys, monkeypatch, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # makes `import missing` raise ImportError
    assert cli.main(["train", "--out", str(tmp_path / "run")]) == 2
    one_line_error(capsys.readouterr(), missing, 'pip install "slopekit[cli]"')
    assert not (tmp_path / "run").exists()


def test_import_slopekit_loads_neither_matplotlib_nor_tqdm():
    code = ("import sys, slopekit, slopekit.cli, slopekit.runs, slopekit._data_files, slopekit._predictions; "
            "print(sorted(m for m in ('matplotlib', 'tqdm', 'pyarrow', 'pandas', 'sklearn') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stderr


def test_installed_script_trains_with_a_progress_bar(tmp_path):
    result = subprocess.run([script(), "train", "--epochs", "400", "--progress", "--out", str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "trained 400 epochs" in result.stdout
    bar = result.stderr
    assert "400/400" in bar and "epoch/s" in bar and "loss 0." in bar and "accuracy 0." in bar
    assert png_size(tmp_path / "run" / "decision_boundary.png") == (740, 560)


# -- outputs that cannot be written, and folders that already hold a run ------------------------


def _refuse_writes_in(monkeypatch, folder):
    """Make creating files in ``folder`` fail as a read-only or immutable folder does (root included)."""
    import tempfile

    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and os.path.abspath(dir) == os.path.abspath(folder):
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize("argv", [
    ["train", "--epochs", "50", "--out", "{locked}"],
    ["plot", "--out", "{locked}/p.png"],
    ["plot", "sigmoid", "--out", "{locked}/p.svg"],
    ["predict", "{model}", "{tmp}/ok.csv", "--target", "y", "--out", "{locked}/p.csv"],
])
def test_an_unwritable_output_is_refused_before_any_work(tmp_path, capsys, monkeypatch, argv):
    model_dir = tmp_path / "trained"
    assert cli.main(["train", "--epochs", "5", "--out", str(model_dir)]) == 0
    _bad_files(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    capsys.readouterr()
    _refuse_writes_in(monkeypatch, locked)
    trained = []
    monkeypatch.setattr(slopekit.Network, "fit", lambda *a, **k: trained.append(1))
    argv = [a.format(locked=locked, tmp=tmp_path, model=model_dir / "model.npz") for a in argv]
    assert cli.main(argv) == 2
    one_line_error(capsys.readouterr(), f"cannot write in {locked}: Permission denied")
    assert not trained and files_under(locked) == []


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_real_unwritable_folder_is_refused(capsys):
    assert cli.main(["plot", "--out", "/proc/self/p.png"]) == 2
    one_line_error(capsys.readouterr(), "--out /proc/self/p.png: cannot write in /proc/")


@pytest.mark.parametrize("argv, fragments", [
    (["plot", "--out", "{tmp}/afile/p.png"], ["{tmp}/afile is a file, not a folder"]),
    (["plot", "--out", ""], ["--out needs a file name"]),
    (["predict", "{tmp}/x.npz", "{tmp}/ok.csv", "--out", "{tmp}/afile/p.csv"], ["is a file, not a folder"]),
])
def test_output_paths_through_a_file_or_empty(tmp_path, capsys, argv, fragments):
    _bad_files(tmp_path)
    assert cli.main([a.format(tmp=tmp_path) for a in argv]) == 2
    one_line_error(capsys.readouterr(), *(f.format(tmp=tmp_path) for f in fragments))


def test_an_error_while_writing_is_one_line(tmp_path, capsys, monkeypatch):
    """A write that fails after the checks (a full disk, say) is one line and status 1, not a traceback."""
    from slopekit import plotting

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "run" / "loss.png"))

    monkeypatch.setattr(plotting, "loss_curve", full)
    assert cli.main(["train", "--epochs", "5", "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err == f"slopekit train: error: {tmp_path / 'run' / 'loss.png'}: No space left on device\n"


def test_a_folder_holding_a_run_is_not_trained_into(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "--epochs", "5", "--out", str(run)]) == 0
    before = {p: p.read_bytes() for p in run.iterdir()}
    capsys.readouterr()
    assert cli.main(["train", "--epochs", "7", "--dataset", "spirals", "--out", str(run)]) == 2
    one_line_error(capsys.readouterr(), f"--out {run} already holds a finished run (model.npz, metrics.json); "
                                        "name a new folder")
    assert {p: p.read_bytes() for p in run.iterdir()} == before
    # an interrupted run (a checkpoint, no results yet) is pointed to --resume
    (run / "metrics.json").unlink()
    (run / "model.npz").unlink()
    (run / "checkpoint.npz").write_bytes(b"")
    assert cli.main(["train", "--epochs", "7", "--out", str(run)]) == 2
    one_line_error(capsys.readouterr(), "already holds a run (checkpoint.npz)", f"--resume {run}")
    # an empty folder, or one holding other files, is fine
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert cli.main(["train", "--epochs", "3", "--out", str(other)]) == 0
    assert (other / "notes.txt").read_text() == "mine" and (other / "metrics.json").exists()


def test_a_finished_run_leaves_its_final_checkpoint_and_cannot_be_resumed(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "--epochs", "30", "--checkpoint-every", "7", "--out", str(run)]) == 0
    from slopekit import runs

    _, state = runs.load_checkpoint(str(run))
    assert state["epoch"] == 30  # not 28, the last scheduled one: resuming must not retrain a finished run
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(run)]) == 2
    one_line_error(capsys.readouterr(), "that run is complete (30 of 30 epochs); nothing to resume")


def test_an_unwritable_folder_to_resume_names_resume(tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    assert cli.main(["train", "--epochs", "20", "--checkpoint-every", "10", "--out", str(run)]) == 0
    (run / "metrics.json").unlink()  # resumable: its results are not all written
    capsys.readouterr()
    _refuse_writes_in(monkeypatch, run)
    assert cli.main(["train", "--resume", str(run)]) == 2
    one_line_error(capsys.readouterr(), f"--resume {run}: cannot write in {run}: Permission denied")
