"""``slopekit train`` on folders and globs of files, and on Dask (``--workers N``, ``--scheduler ADDRESS``).

One LocalCluster (2 worker processes, 1 thread each) serves the module's
``--scheduler`` runs; one run starts its own with ``--workers 2``. The split
on Dask is checked against its documented rule, the scaling against
scikit-learn's on those rows, the scores against the in-memory command on
the same files, and every bad input against the in-memory message.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from _cli_helpers import files_under, one_line_error, png_size

import slopekit
from slopekit import _cluster, _dask_data, cli, runs

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")
from sklearn import datasets as skdatasets  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

PARTS = 4


@pytest.fixture(scope="module")
def scheduler():
    """The address of a LocalCluster of two one-thread worker processes, closed after the module."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") \
            as cluster:
        yield cluster.scheduler_address


def _table(name):
    bunch = getattr(skdatasets, f"load_{name}")()
    frame = pd.DataFrame(bunch.data, columns=[c.replace(" ", "_") for c in bunch.feature_names])
    frame["target"] = bunch.target
    return frame


def _write_parts(folder, frame, kind, parts=PARTS):
    """``frame`` in ``parts`` files ``part0.<kind>``, ... of about equal rows; returns the folder."""
    folder.mkdir(exist_ok=True)
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), parts)):
        piece = frame.iloc[rows]
        if kind == "csv":
            piece.to_csv(folder / f"part{i}.csv", index=False)
        else:
            piece.to_parquet(folder / f"part{i}.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """Breast cancer as CSV parts and Parquet parts (in one folder: a glob picks one format), diabetes as
    Parquet parts, and breast cancer as one CSV."""
    root = tmp_path_factory.mktemp("tables")
    cancer, diabetes = _table("breast_cancer"), _table("diabetes")
    _write_parts(root / "cancer", cancer, "csv")
    _write_parts(root / "cancer", cancer, "parquet")
    _write_parts(root / "cancer_csv", cancer, "csv")
    _write_parts(root / "diabetes", diabetes, "parquet")
    cancer.to_csv(root / "cancer.csv", index=False)
    return root, cancer, diabetes


def _held_out(sizes, seed=0, fraction=0.2):
    """The documented split on Dask: partition i holds row r out when draw r of default_rng([seed, i]) < fraction."""
    return np.concatenate([np.random.default_rng([seed, i]).random(n) < fraction for i, n in enumerate(sizes)])


def _sizes(n, parts=PARTS):
    return [len(r) for r in np.array_split(np.arange(n), parts)]


def _metrics(folder):
    return json.loads((folder / "metrics.json").read_text())


QUICK = ["--hidden", "16", "--optimizer", "adam", "--lr", "0.01", "--epochs", "20", "--batch-size", "64"]


# -- a folder without Dask: the files stacked, as one file ----------------------------------------


def test_a_folder_without_dask_is_the_same_run_as_one_file(tmp_path, tables, capsys):
    root, _, _ = tables
    assert cli.main(["train", "--data", str(root / "cancer_csv"), *QUICK, "--out", str(tmp_path / "parts")]) == 0
    assert cli.main(["train", "--data", str(root / "cancer.csv"), *QUICK, "--out", str(tmp_path / "one")]) == 0
    assert "dask:" not in capsys.readouterr().out
    a, b = (slopekit.Network.load(tmp_path / f / "model.npz") for f in ("parts", "one"))
    for (name, p), q in zip(a.parameters().items(), b.parameters().values()):
        assert np.array_equal(p, q), name
    assert _metrics(tmp_path / "parts")["test_accuracy"] == _metrics(tmp_path / "one")["test_accuracy"]


# -- on the cluster ------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["cancer_csv", "cancer/*.parquet"])
def test_parts_on_the_cluster_split_scale_and_score_as_documented(tmp_path, tables, scheduler, capsys, pattern):
    root, cancer, _ = tables
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(root / pattern), "--scheduler", scheduler, *QUICK,
                     "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith(f"dask: the scheduler at {scheduler}")
    assert "dask: the rows are held in the workers' memory" in stdout
    test = _held_out(_sizes(len(cancer)))
    metrics = _metrics(out)
    assert (metrics["data"]["n_train"], metrics["data"]["n_test"]) == ((~test).sum(), test.sum())
    # the scaling is scikit-learn's on exactly the training rows of the rule
    X = cancer.drop(columns="target").to_numpy()
    reference = StandardScaler().fit(X[~test])
    scale = slopekit.Network.load(out / "model.npz").info["scale"]
    np.testing.assert_allclose(scale["offset"], reference.mean_, rtol=1e-12)
    np.testing.assert_allclose(scale["scale"], reference.scale_, rtol=1e-12)
    assert metrics["test_accuracy"] > 0.93 and metrics["train_accuracy"] > 0.95
    assert files_under(out) == ["confusion.png", "loss.png", "metrics.json", "model.npz"]
    counts = np.array(metrics["confusion"]["counts"])
    assert counts.sum() == test.sum() and np.trace(counts) == round(metrics["test_accuracy"] * test.sum())
    # the in-memory command on the same files scores about the same
    memory = tmp_path / "memory"
    assert cli.main(["train", "--data", str(root / "cancer_csv"), *QUICK, "--out", str(memory)]) == 0
    assert abs(_metrics(memory)["test_accuracy"] - metrics["test_accuracy"]) < 0.05


def test_a_regression_on_parquet_parts_standardises_its_target(tmp_path, tables, scheduler, capsys):
    root, _, diabetes = tables
    out = tmp_path / "run"
    argv = ["--data", str(root / "diabetes"), "--hidden", "8", "--optimizer", "adam", "--lr", "0.01",
            "--epochs", "40", "--batch-size", "32"]
    assert cli.main(["train", *argv, "--scheduler", scheduler, "--out", str(out)]) == 0
    assert "numbers -> regression" in capsys.readouterr().out
    test = _held_out(_sizes(len(diabetes)))
    y = diabetes["target"].to_numpy()
    target = slopekit.Network.load(out / "model.npz").info["target"]
    assert target["offset"] == pytest.approx(y[~test].mean(), rel=1e-12)
    assert target["scale"] == pytest.approx(y[~test].std(), rel=1e-12)
    memory = tmp_path / "memory"
    assert cli.main(["train", *argv, "--out", str(memory)]) == 0
    r2, r2_memory = _metrics(out)["test_r2"], _metrics(memory)["test_r2"]
    assert r2 > 0.25 and abs(r2 - r2_memory) < 0.15  # 88 held-out rows, split differently: noisy


def test_workers_start_a_local_cluster_for_a_glob(tmp_path, tables, capsys):
    root, cancer, _ = tables
    out = tmp_path / "run"
    started = time.perf_counter()
    assert cli.main(["train", "--data", str(root / "cancer" / "*.csv"), "--workers", "2", *QUICK,
                     "--out", str(out)]) == 0
    assert time.perf_counter() - started < 60
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("dask: a LocalCluster of 2 workers (1 thread each); dashboard http")
    assert _metrics(out)["test_accuracy"] > 0.93


def test_a_large_npy_is_read_in_row_blocks_never_whole(tmp_path, scheduler, capsys, monkeypatch):
    rng = np.random.default_rng(1)
    n = 120_000
    X = rng.standard_normal((n, 2))
    array = np.column_stack([X, (X[:, 0] + X[:, 1] > 0).astype(np.float64)])
    np.save(tmp_path / "big.npy", array)
    monkeypatch.setattr(_dask_data, "NPY_BLOCK_BYTES", 32768 * 8 * 3)  # 32768 rows of 3 columns: 4 partitions

    def whole(*args, **kwargs):
        raise AssertionError("the in-memory reader read the .npy")

    monkeypatch.setattr(runs._data_files, "_read_arrays", whole)
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(tmp_path / "big.npy"), "--scheduler", scheduler, "--hidden", "4",
                     "--epochs", "5", "--batch-size", "512", "--lr", "0.01", "--out", str(out)]) == 0
    capsys.readouterr()
    test = _held_out([32768, 32768, 32768, n - 3 * 32768])
    metrics = _metrics(out)
    assert metrics["data"]["n_test"] == test.sum() and metrics["data"]["features"] == ["0", "1"]
    assert metrics["test_accuracy"] > 0.97
    assert np.array(metrics["confusion"]["counts"]).sum() == test.sum()  # every held-out row, counted on the workers
    assert png_size(out / "decision_boundary.png") == (740, 560)  # drawn from a sample of the rows


# -- resuming ------------------------------------------------------------------------------------


def test_ctrl_c_on_the_cluster_then_resume_is_exact(tmp_path, tables, scheduler, capsys, monkeypatch):
    root, _, _ = tables
    argv = ["train", "--data", str(root / "cancer_csv"), "--hidden", "8", "--epochs", "8", "--batch-size", "100",
            "--checkpoint-every", "2", "--scheduler", scheduler]
    reference, stopped = tmp_path / "reference", tmp_path / "stopped"
    assert cli.main([*argv, "--out", str(reference)]) == 0
    real = runs.Run._after_epoch

    def ctrl_c_at_epoch_3(self, epoch, *args):
        if epoch == 3:
            os.kill(os.getpid(), signal.SIGINT)  # as the user's Ctrl-C: training stops after this epoch
        return real(self, epoch, *args)

    monkeypatch.setattr(runs.Run, "_after_epoch", ctrl_c_at_epoch_3)
    assert cli.main([*argv, "--out", str(stopped)]) == 130
    assert "interrupted at epoch 3 of 8" in capsys.readouterr().err
    monkeypatch.setattr(runs.Run, "_after_epoch", real)
    assert cli.main(["train", "--resume", str(stopped)]) == 0  # on the cluster the checkpoint names
    out = capsys.readouterr().out
    assert out.startswith(f"dask: the scheduler at {scheduler}") and "resuming after epoch 3" in out
    a, b = (slopekit.Network.load(f / "model.npz") for f in (reference, stopped))
    for (name, p), q in zip(a.parameters().items(), b.parameters().values()):
        assert np.array_equal(p, q), name
    assert a.history == b.history


def test_resume_keeps_the_engine_it_started_with(tmp_path, tables, capsys):
    root, _, _ = tables
    run = tmp_path / "run"
    assert cli.main(["train", "--data", str(root / "cancer_csv"), "--epochs", "2", "--checkpoint-every", "1",
                     "--out", str(run)]) == 0
    (run / "metrics.json").unlink()
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(run), "--workers", "2"]) == 2
    one_line_error(capsys.readouterr(), "that run trained in memory (without Dask); resume it without --workers")


# -- bad inputs: one line, exit 2, nothing written ------------------------------------------------


def _bad_csv_parts(folder, problem):
    frame = _table("breast_cancer").iloc[:200].copy()
    frame = frame.astype({"mean_radius": object})
    if problem == "missing":
        frame.iloc[130, 0] = "NA"
    elif problem == "text":
        frame.iloc[170, 0] = "12,5"
    return _write_parts(folder, frame, "csv", parts=3)


@pytest.mark.parametrize("problem, fragment", [
    ("missing", "missing value ('NA') in column 'mean_radius' on line 65"),
    ("text", "column 'mean_radius' is not numeric: line 38 has '12,5' (a decimal comma? slopekit reads a point)"),
])
def test_a_bad_value_in_one_part_gets_the_in_memory_message(tmp_path, scheduler, capsys, problem, fragment):
    folder = _bad_csv_parts(tmp_path / "parts", problem)
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(folder), "--scheduler", scheduler, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("dask: ")
    dask_line = one_line_error(captured._replace(out=""), fragment)
    assert not out.exists()
    # the in-memory command says the same of the file that holds the value
    bad = folder / ("part1.csv" if problem == "missing" else "part2.csv")
    assert cli.main(["train", "--data", str(bad), "--out", str(out)]) == 2
    assert one_line_error(capsys.readouterr(), fragment) == dask_line


def test_nan_in_a_block_of_an_npy_and_a_null_in_parquet_get_the_in_memory_message(tmp_path, scheduler, capsys,
                                                                                 monkeypatch):
    monkeypatch.setattr(_dask_data, "NPY_BLOCK_BYTES", 800)  # 25 rows of 4 columns a partition
    array = np.random.default_rng(0).standard_normal((100, 4))
    array[60, 2] = np.nan
    np.save(tmp_path / "nan.npy", array)
    frame = _table("diabetes").iloc[:90].copy()
    frame.loc[70, "bmi"] = None
    _write_parts(tmp_path / "nulls", frame, "parquet", parts=2)
    for data, fragment in [(tmp_path / "nan.npy", "nan.npy: missing value (nan) at row 60, column 2"),
                           (tmp_path / "nulls", "part1.parquet: missing value in column 'bmi' in row 26")]:
        assert cli.main(["train", "--data", str(data), "--scheduler", scheduler, "--out", str(tmp_path / "r")]) == 2
        captured = capsys.readouterr()
        line = one_line_error(captured._replace(out=""), fragment)
        single = data if data.suffix == ".npy" else data / "part1.parquet"
        assert cli.main(["train", "--data", str(single), "--out", str(tmp_path / "r")]) == 2
        assert one_line_error(capsys.readouterr(), fragment) == line
    assert not (tmp_path / "r").exists()


def test_mistakes_before_the_cluster_starts(tmp_path, tables, capsys, monkeypatch):
    root, cancer, _ = tables
    odd = _write_parts(tmp_path / "odd", cancer, "csv", parts=2)
    cancer.drop(columns="mean_area").iloc[:10].to_csv(odd / "part2.csv", index=False)
    monkeypatch.setattr(_cluster, "connect", None)  # none of these may get as far as a cluster
    cases = [
        (["--data", str(odd), "--workers", "2"], "part2.csv: its columns differ from those of",
         "it lacks 'mean_area'"),
        (["--data", str(odd)], "part2.csv: its columns differ from those of", "same columns, in the same order"),
        (["--data", str(tmp_path / "none" / "*.csv"), "--workers", "2"], "none/*.csv: matches no file"),
        (["--data", str(tmp_path / "odd" / "*.txt")], "*.txt: matches no file"),
        (["--data", str(root / "cancer"), "--workers", "1"], "holds files of several formats (.csv, .parquet)"),
        (["--workers", "2"], "--workers trains on --data with Dask; add --data"),
    ]
    for argv, *fragments in cases:
        assert cli.main(["train", *argv, "--out", str(tmp_path / "r")]) == 2, argv
        one_line_error(capsys.readouterr(), *fragments)
    assert cli.main(["train", "--data", str(odd), "--workers", "2", "--scheduler", "tcp://x:1"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_an_unknown_target_column_on_the_cluster(tmp_path, tables, scheduler, capsys):
    root, _, _ = tables
    assert cli.main(["train", "--data", str(root / "cancer_csv"), "--target", "nope", "--scheduler", scheduler,
                     "--out", str(tmp_path / "r")]) == 2
    captured = capsys.readouterr()
    one_line_error(captured._replace(out=""), "unknown target column 'nope'; the columns are: mean_radius")
    assert not (tmp_path / "r").exists()


def test_a_scheduler_that_does_not_answer_is_one_line_quickly(tmp_path, tables, capsys, monkeypatch):
    root, _, _ = tables
    monkeypatch.setattr(_cluster, "CONNECT_TIMEOUT", 1.0)
    for address, fragments in [("tcp://127.0.0.1:9", ["cannot connect within 1 s", "is a Dask scheduler running"]),
                               ("nonsense", ["--scheduler 'nonsense' is not an address", "tcp://HOST:PORT"])]:
        started = time.perf_counter()
        assert cli.main(["train", "--data", str(root / "cancer_csv"), "--scheduler", address,
                         "--out", str(tmp_path / "r")]) == 2
        assert time.perf_counter() - started < 10
        one_line_error(capsys.readouterr(), *fragments)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("missing", ["distributed", "dask.dataframe"])
def test_without_dask_the_flags_say_how_to_install_it(tmp_path, tables, capsys, monkeypatch, missing):
    root, _, _ = tables
    monkeypatch.setitem(sys.modules, missing, None)
    for flag, value in [("--workers", "2"), ("--scheduler", "tcp://127.0.0.1:9")]:
        assert cli.main(["train", "--data", str(root / "cancer_csv"), flag, value, "--out", str(tmp_path / "r")]) == 2
        one_line_error(capsys.readouterr(), f'{flag} needs Dask, which is not installed: pip install "slopekit[dask]"')


def test_import_and_help_do_not_import_dask():
    code = ("import sys, contextlib, io, slopekit, slopekit.cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    slopekit.cli.main(['train', '--help'])\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'pandas')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_workers_of_a_local_cluster_ignore_ctrl_c():
    """Ctrl-C in a terminal reaches the whole process group: the workers must stay up for the checkpoint."""
    import signal

    before = signal.getsignal(signal.SIGINT)
    with _cluster.connect(workers=1) as cluster:
        handlers = cluster.client.run(lambda: signal.getsignal(signal.SIGINT) == signal.SIG_IGN)
        assert signal.getsignal(signal.SIGINT) is before  # the command's own handler is back
    assert list(handlers.values()) == [True]
