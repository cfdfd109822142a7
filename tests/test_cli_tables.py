"""``slopekit train`` and ``predict`` on real tables: scikit-learn's datasets written to CSV, scaling checked
against scikit-learn's scalers, labels of every kind, columns by name, and every bad input as one line."""

import csv
import io
import json
import re
import subprocess

import numpy as np
import pytest
from _cli_helpers import files_under, one_line_error, png_size, script

import slopekit
from slopekit import cli, runs

sklearn = pytest.importorskip("sklearn")
from sklearn import datasets as skdatasets  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402
from sklearn.metrics import accuracy_score, confusion_matrix, r2_score  # noqa: E402
from sklearn.preprocessing import MinMaxScaler, StandardScaler  # noqa: E402


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def sklearn_csv(folder, name):
    """scikit-learn's bundled table ``name`` as a CSV with its column names; iris's target as species names.

    Returns the path, the features and the target as written.
    """
    bunch = getattr(skdatasets, f"load_{name}")()
    X, y = bunch.data, bunch.target
    target = "target"
    if name == "iris":
        y, target = np.asarray(bunch.target_names)[bunch.target], "species"
    path = folder / f"{name}.csv"
    labels = [str(v) for v in y] if y.dtype.kind == "U" else [repr(v) for v in y.tolist()]
    write_csv(path, [*bunch.feature_names, target], [[*map(repr, row), c] for row, c in zip(X.tolist(), labels)])
    return path, X, y


def held_out_rows(n, seed=0, fraction=0.2):
    """The documented split: a permutation by the seed, its first round(fraction * n) rows held out."""
    order = np.random.RandomState(seed).permutation(n)
    n_test = int(round(fraction * n))
    return order[n_test:], order[:n_test]


def predicted(capsys, model, X, names, tmp_path):
    """``slopekit predict`` on the rows ``X`` (written to a CSV), as the ``prediction`` column's text."""
    path = tmp_path / "rows.csv"
    write_csv(path, names, [list(map(repr, row)) for row in X.tolist()])
    capsys.readouterr()
    assert cli.main(["predict", str(model), str(path)]) == 0
    out = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    column = out[0].index("prediction")
    return [row[column] for row in out[1:]], out


# -- the goals: scikit-learn's tables with every default ---------------------------------


@pytest.mark.parametrize("name, goal", [("breast_cancer", 0.95), ("digits", 0.95), ("iris", 0.93)])
def test_default_command_classifies_sklearns_tables(tmp_path, capsys, name, goal):
    path, X, y = sklearn_csv(tmp_path, name)
    target = "species" if name == "iris" else "target"
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(path), "--target", target, "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "(defaults for a data file: hidden 128, tanh activation, adam optimizer" in stdout
    assert "scaling: standard" in stdout
    _, test = held_out_rows(len(X))
    bunch = getattr(skdatasets, f"load_{name}")()
    labels, _ = predicted(capsys, out / "model.npz", X[test], bunch.feature_names, tmp_path)
    truth = [str(v) for v in y[test]] if y.dtype.kind == "U" else [str(int(v)) for v in y[test]]
    accuracy = accuracy_score(truth, labels)
    assert accuracy >= goal
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] == pytest.approx(accuracy, abs=1e-12)
    assert f"held out {accuracy:.1%}" in stdout
    # the confusion picture's counts are scikit-learn's on the held-out rows
    kept = metrics["confusion"]
    assert kept["classes"] == [str(c) for c in metrics["target"]["classes"]]
    assert kept["counts"] == confusion_matrix(truth, labels, labels=kept["classes"]).tolist()
    assert png_size(out / "confusion.png")[0] > 400


def test_default_command_regresses_diabetes_as_well_as_linear_regression(tmp_path, capsys):
    path, X, y = sklearn_csv(tmp_path, "diabetes")
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(path), "--target", "target", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "target 'target': numbers -> regression, identity output (214 distinct whole numbers, more than 20)" \
        in stdout
    train, test = held_out_rows(len(X))
    names = skdatasets.load_diabetes().feature_names
    values, _ = predicted(capsys, out / "model.npz", X[test], names, tmp_path)
    r2 = r2_score(y[test], np.array(values, dtype=float))
    reference = r2_score(y[test], LinearRegression().fit(X[train], y[train]).predict(X[test]))
    assert r2 >= reference - 0.05
    assert json.loads((out / "metrics.json").read_text())["test_r2"] == pytest.approx(r2, abs=1e-9)
    assert files_under(out) == ["loss.png", "metrics.json", "model.npz"]


# -- scaling ----------------------------------------------------------------------------------------


def _table(tmp_path, rng, n=200):
    X = rng.normal(size=(n, 4)) * [1.0, 1e3, 1e-3, 0.0] + [0.0, -5e3, 2.0, 7.0]  # the last column constant
    y = (X[:, 0] + X[:, 1] / 1e3 > -5).astype(int)
    path = tmp_path / "table.csv"
    write_csv(path, ["a", "b", "c", "d", "y"], [[*map(repr, row), c] for row, c in zip(X.tolist(), y.tolist())])
    return path, X, y


@pytest.mark.parametrize("kind, reference", [("standard", StandardScaler), ("minmax", MinMaxScaler)])
def test_scaling_is_scikit_learns_on_the_training_rows(tmp_path, kind, reference):
    path, X, _ = _table(tmp_path, np.random.default_rng(1))
    settings = runs.Settings(dataset=None, data=str(path), scale=kind, seed=3)
    data, _ = runs.load_data(settings)
    train, test = held_out_rows(len(X), seed=3)
    scaler = reference().fit(X[train])
    np.testing.assert_allclose(data.X_train, scaler.transform(X[train]), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(data.X_test, scaler.transform(X[test]), rtol=1e-12, atol=1e-12)
    info = data.info()["scale"]
    if kind == "standard":
        np.testing.assert_allclose(info["offset"], scaler.mean_, rtol=1e-13)
        np.testing.assert_allclose(info["scale"], scaler.scale_, rtol=1e-13)  # 1 for the constant column
    else:
        np.testing.assert_allclose(info["offset"], scaler.data_min_, rtol=1e-13)
        np.testing.assert_allclose(info["scale"], np.where(scaler.data_range_ > 0, scaler.data_range_, 1.0))


def test_scale_none_and_the_built_in_datasets_keep_the_values(tmp_path):
    path, X, _ = _table(tmp_path, np.random.default_rng(2))
    data, _ = runs.load_data(runs.Settings(dataset=None, data=str(path), scale="none"))
    train, test = held_out_rows(len(X))
    assert np.array_equal(data.X_train, X[train]) and np.array_equal(data.X_test, X[test])
    flower, labels = slopekit.datasets.planar_flower()
    data, output = runs.load_data(runs.Settings())  # the course's defaults: no scaling
    train, _ = held_out_rows(len(flower))
    assert np.array_equal(data.X_train, flower[train]) and np.array_equal(data.y_train, labels[train])
    assert output == "sigmoid" and data.scaler.kind == "none"


def test_scaling_is_kept_in_the_model_and_applied_by_predict(tmp_path, capsys):
    path, X, _ = _table(tmp_path, np.random.default_rng(3))
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(path), "--epochs", "3", "--out", str(out)]) == 0
    net = slopekit.Network.load(out / "model.npz")
    train, _ = held_out_rows(len(X))
    scaler = StandardScaler().fit(X[train])
    assert net.info["features"] == ["a", "b", "c", "d"] and net.info["target"]["name"] == "y"
    assert net.info["scale"]["kind"] == "standard"
    _, table = predicted(capsys, out / "model.npz", X, ["a", "b", "c", "d"], tmp_path)
    proba = np.array([row[-2:] for row in table[1:]], dtype=float)
    np.testing.assert_allclose(proba, net.predict_proba(scaler.transform(X)), rtol=1e-12, atol=1e-15)


def test_a_regression_predicts_in_the_targets_units(tmp_path, capsys):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(150, 3)) * [1, 10, 100]
    y = 500 + 40 * X[:, 0] - 3 * X[:, 1] + rng.normal(size=150)
    path = tmp_path / "reg.csv"
    write_csv(path, ["p", "q", "r", "price"], [[*map(repr, row), repr(v)] for row, v in zip(X.tolist(), y.tolist())])
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(path), "--epochs", "40", "--out", str(out)]) == 0
    assert "each feature and the target to mean 0" in capsys.readouterr().out
    net = slopekit.Network.load(out / "model.npz")
    train, _ = held_out_rows(len(X))
    z = net.predict(StandardScaler().fit(X[train]).transform(X))
    expected = z * y[train].std() + y[train].mean()
    values, _ = predicted(capsys, out / "model.npz", X, ["p", "q", "r"], tmp_path)
    np.testing.assert_allclose(np.array(values, dtype=float), expected, rtol=1e-12)
    assert r2_score(y, expected) > 0.9


# -- labels and tasks ---------------------------------------------------------------------------


def _labelled(tmp_path, labels, name="y"):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(len(labels), 2))
    path = tmp_path / "labels.csv"
    write_csv(path, ["u", "v", name], [[repr(a), repr(b), c] for (a, b), c in zip(X.tolist(), labels)])
    return path, X


CYCLE = 60


@pytest.mark.parametrize("labels, argv, line, classes, output", [
    (["setosa", "versicolor", "virginica"], [], "3 classes (setosa, versicolor, virginica) -> softmax output "
     "(text values); --task regression to override", ["setosa", "versicolor", "virginica"], "softmax"),
    (["true", "false"], [], "2 classes (False, True) -> sigmoid output (true/false values)", [False, True], "sigmoid"),
    (["1", "2", "3"], [], "3 classes (1, 2, 3) -> softmax output (3 distinct whole numbers, at most 20)",
     [1, 2, 3], "softmax"),
    (["0", "2"], [], "2 classes (0, 2) -> sigmoid output", [0, 2], "sigmoid"),
    (["1.0", "3.0"], [], "2 classes (1, 3) -> sigmoid output", [1, 3], "sigmoid"),
    (["-1", "1"], ["--output", "softmax"], "2 classes (-1, 1) -> softmax output", [-1, 1], "softmax"),
    ([str(v) for v in range(30)], [], "numbers -> regression, identity output (30 distinct whole numbers, more "
     "than 20); --task classification to override", None, "identity"),
    ([str(v) for v in range(30)], ["--task", "classification"], "30 classes (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...) "
     "-> softmax output (--task classification)", list(range(30)), "softmax"),
    (["1", "2", "3"], ["--task", "regression"], "numbers -> regression, identity output (--task regression)", None,
     "identity"),
    (["0.5", "1.25", "2"], [], "numbers -> regression, identity output (numbers that are not all whole)", None,
     "identity"),
])
def test_the_target_decides_the_task_and_predict_writes_its_labels(tmp_path, capsys, labels, argv, line, classes,
                                                                   output):
    cycle = [labels[i % len(labels)] for i in range(CYCLE)]
    path, X = _labelled(tmp_path, cycle)
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(path), "--epochs", "2", *argv, "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert f"target 'y': {line}" in stdout
    net = slopekit.Network.load(out / "model.npz")
    assert net.output == output and net.info["target"]["classes"] == classes
    values, table = predicted(capsys, out / "model.npz", X, ["u", "v"], tmp_path)
    if classes is None:
        assert table[0] == ["u", "v", "prediction"]
        return
    shown = ["true" if c is True else "false" if c is False else str(c) for c in classes]
    assert table[0] == ["u", "v", "prediction", *(f"probability_{c}" for c in shown)]
    assert set(values) <= set(shown)
    proba = np.array([row[3:] for row in table[1:]], dtype=float)
    assert [shown[j] for j in proba.argmax(axis=1)] == values


# -- columns by name ----------------------------------------------------------------------------


def test_predict_takes_the_features_by_name_in_any_order(tmp_path, capsys):
    path, X, y = _table(tmp_path, np.random.default_rng(6))
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(path), "--epochs", "5", "--out", str(out)]) == 0
    same, _ = predicted(capsys, out / "model.npz", X, ["a", "b", "c", "d"], tmp_path)
    shuffled = tmp_path / "shuffled.csv"  # other order, an extra column, the target too
    write_csv(shuffled, ["d", "note", "b", "y", "a", "c"],
              [[repr(r[3]), "x", repr(r[1]), c, repr(r[0]), repr(r[2])] for r, c in zip(X.tolist(), y.tolist())])
    capsys.readouterr()
    assert cli.main(["predict", str(out / "model.npz"), str(shuffled)]) == 0
    captured = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(captured.out)))
    assert rows[0][:4] == ["a", "b", "c", "d"]
    assert [row[4] for row in rows[1:]] == same
    assert captured.err == ("slopekit predict: note: 2 columns that the model does not use left out: note, y; "
                            "copy one into the output with --keep COLUMN\n")


@pytest.mark.parametrize("via", ["main", "script"])
def test_predict_refuses_missing_features_by_name(tmp_path, capsys, via):
    path, X, _ = _table(tmp_path, np.random.default_rng(7))
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(path), "--epochs", "2", "--out", str(out)]) == 0
    partial = tmp_path / "partial.csv"
    write_csv(partial, ["a", "c", "y"], [[1, 2, 0]])
    argv = ["predict", str(out / "model.npz"), str(partial), "--out", str(tmp_path / "p.csv")]
    err = _run(via, argv, capsys, 2)
    assert "missing the model's feature columns 'b', 'd' (2 of 4); the file's columns are: a, c, y" in err
    assert not (tmp_path / "p.csv").exists()


# -- every bad input: one line, exit 2, nothing written ---------------------------------------------


BAD = {
    "empty.csv": b"",
    "header.csv": b"a,b,y\n",
    "junk.csv": bytes(range(256)) * 4,
    "latin1_header.csv": "a,b,caf\u00e9\n1,2,3\n".encode("latin-1"),
    "ragged.csv": b"a,b,y\n1,2,0\n3,4\n",
    "latin1.csv": "a,b,y\n1,2,0\n3,4,caf\u00e9\n".encode("latin-1"),
    "latin1_feature.csv": "a,b,y\n1,2,0\n3,\u00e94,1\n".encode("latin-1"),
    "holes.csv": b"a,b,y\n1,2,0\n3,,1\n",
    "words.csv": b"a,b,y\n1,2,0\n3,red,1\n",
    "comma.csv": b"a;b;y\n1;2;0\n3;4,5;1\n",
    "na_target.csv": b"a,b,y\n1,2,NA\n3,4,1\n",
    "huge.csv": b"a,b,y\n1,1e39,0\n2,3,1\n",
    "huger.csv": b"a,b,y\n1,1e309,0\n2,3,1\n",
    "one_class.csv": b"a,b,y\n1,2,1\n3,4,1\n5,6,1\n",
    "three.csv": b"a,b,y\n1,2,0\n3,4,1\n5,6,2\n7,8,0\n9,10,1\n",
    "continuous.csv": b"a,b,y\n1,2,0.5\n3,4,1.7\n5,6,2.25\n",
    "text.csv": b"a,b,y\n1,2,cat\n3,4,dog\n5,6,cat\n",
    "twins.csv": b"a,a,y\n1,2,0\n3,4,1\n",
    "numbers.csv": b"1,2,3\n4,5,6\n",
    "fake.parquet": b"PAR1 but not really",
    "x.npy": None,
    "late.csv": b"\n\na,b,y\n1,2,0\n3,x,1\n",
    "spaces.csv": b"a b y\n1 2 0\n3 4 1\n",
    "junk.npy": b"not numpy at all",
    "objects.npy": "objects",
}


@pytest.mark.parametrize("argv, fragments", [
    (["--data", "{tmp}/empty.csv"], ["empty.csv: the file is empty"]),
    (["--data", "{tmp}/header.csv"], ["header.csv: no data rows below the header"]),
    (["--data", "{tmp}/junk.csv"], ["junk.csv: not a text file"]),
    (["--data", "{tmp}/latin1_header.csv"], ["line 1 (the header) is not UTF-8 text (byte 0xe9)"]),
    (["--data", "{tmp}/ragged.csv"], ["ragged.csv: line 3 has 2 cells but the header has 3"]),
    (["--data", "{tmp}/latin1.csv"], ["latin1.csv: line 3 in column 'y' is not UTF-8 text (byte 0xe9)"]),
    (["--data", "{tmp}/latin1_feature.csv"], ["line 3 in column 'b' is not UTF-8 text"]),
    (["--data", "{tmp}/holes.csv"], ["missing value in column 'b' on line 3"]),
    (["--data", "{tmp}/words.csv"], ["column 'b' is not numeric: line 3 has 'red'"]),
    (["--data", "{tmp}/comma.csv"], ["column 'b' is not numeric: line 3 has '4,5' (a decimal comma?"]),
    (["--data", "{tmp}/na_target.csv"], ["missing value ('NA') in column 'y' on line 2"]),
    (["--data", "{tmp}/huge.csv", "--dtype", "float32"], ["value 1e39 in column 'b' on line 2 is too large for "
                                                         "float32"]),
    (["--data", "{tmp}/huger.csv"], ["value 1e309 in column 'b' on line 2 is too large for float64"]),
    (["--data", "{tmp}/one_class.csv"], ["target 'y' has one class only (1); a classifier needs at least two"]),
    (["--data", "{tmp}/three.csv", "--output", "sigmoid"], ["--output sigmoid takes two classes, but target 'y' "
                                                           "has 3"]),
    (["--data", "{tmp}/continuous.csv", "--output", "softmax"], ["--output softmax needs class labels, but target "
                                                                "'y' is continuous"]),
    (["--data", "{tmp}/three.csv", "--task", "classification", "--output", "identity"],
     ["--output identity is a regression"]),
    (["--data", "{tmp}/text.csv", "--task", "regression"], ["target 'y' holds text; a regression needs numbers"]),
    (["--data", "{tmp}/twins.csv"], ["the header needs distinct, non-empty column names"]),
    (["--data", "{tmp}/numbers.csv"], ["the first row must be a header of column names"]),
    (["--data", "{tmp}/fake.parquet"], ["fake.parquet: cannot read it as Parquet"]),
    (["--data", "{tmp}/x.npy", "--delimiter", ";"], ["--delimiter applies to a CSV file given with --data"]),
    (["--data", "{tmp}/three.csv", "--delimiter", "ab"], ["argument --delimiter: expected one character"]),
    (["--data", "{tmp}/three.csv", "--scale", "log"], ["argument --scale: invalid choice: 'log'"]),
    (["--data", "{tmp}/three.csv", "--task", "ranking"], ["argument --task: invalid choice: 'ranking'"]),
    (["--data", "{tmp}/three.csv", "--target", "z"], ["unknown target column 'z'; the columns are: a, b, y"]),
    (["--data", "{tmp}/late.csv"], ["column 'b' is not numeric: line 5 has 'x'"]),  # two empty lines on top
    (["--data", "{tmp}/spaces.csv"], ["got 1 ('a b y'); if its delimiter is not one of , ; tab |, give it with "
                                      "--delimiter"]),
    (["--data", "{tmp}/junk.npy"], ["junk.npy: not a .npy file"]),
    (["--data", "{tmp}/objects.npy"], ["it holds Python objects (a pickle), which slopekit never loads"]),
])
@pytest.mark.parametrize("via", ["main", "script"])
def test_bad_tables_are_one_line_exit_2_and_leave_nothing(tmp_path, capsys, monkeypatch, argv, fragments, via):
    monkeypatch.chdir(tmp_path)
    for name, content in BAD.items():
        if content is None:
            np.save(tmp_path / name, np.zeros((4, 3)))
        elif content == "objects":  # a pickled object array, as np.save(allow_pickle=True) writes it
            np.save(tmp_path / name, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        else:
            (tmp_path / name).write_bytes(content)
    before = files_under(tmp_path)
    argv = ["train", *(a.format(tmp=tmp_path) for a in argv), "--out", str(tmp_path / "run")]
    err = _run(via, argv, capsys, 2)
    for fragment in fragments:
        assert fragment in err
    assert files_under(tmp_path) == before


def _run(via, argv, capsys, status):
    """Run the command through main(argv) or the installed script; check the status and one stderr line."""
    if via == "main":
        capsys.readouterr()
        assert cli.main(argv) == status
        captured = capsys.readouterr()
        return one_line_error(type(captured)("", captured.err))
    result = subprocess.run([script(), *argv], capture_output=True, text=True, timeout=120)
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr.strip()


# -- divergence ---------------------------------------------------------------------------------


@pytest.mark.parametrize("via", ["main", "script"])
@pytest.mark.parametrize("argv, fragments", [
    (["--lr", "1e6"], ["the training loss grew from", "by epoch 1 (more than 1000 times): training diverged; "
                       "try a smaller --lr than 1e+06"]),
    (["--output", "identity", "--dtype", "float32", "--lr", "1e30", "--epochs", "5"],
     ["the training loss became infinite or NaN at epoch 1; try a smaller --lr than 1e+30"]),
])
def test_a_diverging_run_stops_in_one_line_and_writes_nothing(tmp_path, capsys, via, argv, fragments):
    out = tmp_path / "run"
    err = _run(via, ["train", *argv, "--out", str(out), "--no-progress"], capsys, 1)
    for fragment in fragments:
        assert fragment in err
    assert not out.exists()


def test_divergence_keeps_the_last_good_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "--output", "identity", "--lr", "2", "--epochs", "500", "--checkpoint-every", "5"]
    assert cli.main([*argv, "--out", str(out)]) == 1
    captured = capsys.readouterr()
    line = one_line_error(type(captured)("", captured.err), "training diverged", "try a smaller --lr than 2",
                          "the last good checkpoint (epoch ")
    epoch = int(re.search(r"by epoch (\d+) ", line).group(1))
    kept = int(re.search(r"checkpoint \(epoch (\d+)\)", line).group(1))
    assert files_under(out) == ["checkpoint.npz"]  # no model, no pictures, no metrics
    _, state = runs.load_checkpoint(str(out))
    assert state["epoch"] == kept and kept % 5 == 0 and kept < epoch <= kept + 5
    # the reference: the same network and rows trained by Network.fit, its loss before any step
    X, y = slopekit.datasets.planar_flower()
    train, _ = held_out_rows(len(X))
    net = slopekit.Network([2, 4, 1], "tanh", "identity")
    start = net.loss(X[train], y[train])
    net.fit(X[train], y[train], epochs=epoch, learning_rate=2.0)
    grown = [e for e, loss in enumerate(net.history, start=1) if loss > 1000 * start]
    assert grown[0] == epoch
    assert state["history"] == net.history[:kept]


def test_a_data_file_too_large_for_float32_says_so(tmp_path, capsys):
    rng = np.random.default_rng(8)
    path = tmp_path / "big_target.csv"
    write_csv(path, ["a", "b", "y"], [[repr(a), repr(b), repr(1e20 * c)] for a, b, c in rng.normal(size=(40, 3)).tolist()])
    assert cli.main(["train", "--data", str(path), "--scale", "none", "--dtype", "float32",
                     "--out", str(tmp_path / "run")]) == 1
    captured = capsys.readouterr()
    one_line_error(type(captured)("", captured.err), "infinite or NaN before the first epoch",
                   "too large for float32; try --scale standard or --dtype float64")
    assert not (tmp_path / "run").exists()


# -- file formats -------------------------------------------------------------------------------


def test_delimiters_are_sniffed_or_given(tmp_path, capsys):
    X, y = slopekit.datasets.moons(n_samples=60)
    rows = [[repr(a), repr(b), int(c)] for (a, b), c in zip(X.tolist(), y.tolist())]
    for name, delimiter in [("semi.csv", ";"), ("tabs.tsv", "\t"), ("pipes.csv", "|")]:
        with open(tmp_path / name, "w", newline="") as f:
            writer = csv.writer(f, delimiter=delimiter, lineterminator="\n")
            writer.writerow(["u", "v", "label"])
            writer.writerows(rows)
        table = slopekit._data_files.read_labelled(str(tmp_path / name))
        assert table.features == ["u", "v"] and np.array_equal(table.X, X) and np.array_equal(table.y, y)
    # a semicolon file read with the wrong delimiter given: refused, with the delimiter its header uses
    with pytest.raises(slopekit._data_files.DataError, match="does not split into columns with --delimiter ','; "
                       "its header seems to use ';'"):
        slopekit._data_files.read_labelled(str(tmp_path / "semi.csv"), delimiter=",")
    assert cli.main(["train", "--data", str(tmp_path / "semi.csv"), "--delimiter", "semicolon", "--epochs", "2",
                     "--out", str(tmp_path / "run")]) == 0


def test_empty_lines_above_the_header_and_other_delimiters_are_read(tmp_path, capsys):
    (tmp_path / "late.csv").write_bytes(b"\n\r\na,b,y\r\n1,2,0\r\n\r\n3,4,1\r\n5,6,0\r\n")
    table = slopekit._data_files.read_labelled(str(tmp_path / "late.csv"))
    assert table.features == ["a", "b"] and table.X.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert table.y.tolist() == [0, 1, 0]
    (tmp_path / "spaces.csv").write_text("a b y\n1 2 0\n3 4 1\n")
    table = slopekit._data_files.read_labelled(str(tmp_path / "spaces.csv"), delimiter=" ")
    assert table.features == ["a", "b"] and table.X.tolist() == [[1, 2], [3, 4]]


def test_parquet_and_npz_with_text_labels(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rng = np.random.default_rng(9)
    X = rng.normal(size=(80, 3))
    species = np.where(X[:, 0] > 0, "left", "right")
    pq.write_table(pa.table({"p": X[:, 0], "q": X[:, 1], "n": rng.integers(0, 5, 80), "kind": species}),
                   tmp_path / "t.parquet")
    table = slopekit._data_files.read_labelled(str(tmp_path / "t.parquet"), "kind")
    assert table.features == ["p", "q", "n"] and np.array_equal(table.X[:, :2], X[:, :2])
    assert table.y.tolist() == species.tolist()
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(tmp_path / "t.parquet"), "--target", "kind", "--epochs", "30",
                     "--out", str(out)]) == 0
    assert "2 classes (left, right) -> sigmoid output" in capsys.readouterr().out
    np.savez(tmp_path / "t.npz", X=X, y=species)
    table = slopekit._data_files.read_labelled(str(tmp_path / "t.npz"))
    assert table.y.tolist() == species.tolist() and table.features == ["0", "1", "2"]
    assert cli.main(["predict", str(out / "model.npz"), str(tmp_path / "t.parquet")]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["p", "q", "n", "prediction", "probability_left", "probability_right"]
    assert len(rows) == 81


def test_a_large_file_loads_block_by_block_with_the_same_values(tmp_path, monkeypatch):
    """Blocks of the streaming reader meet inside rows: the matrix is still the file's, row for row."""
    from slopekit import _data_files

    monkeypatch.setattr(_data_files, "_BLOCK", 1 << 12)
    rng = np.random.default_rng(10)
    X = rng.normal(size=(3000, 5)) * 10 ** rng.uniform(-5, 5, 5)
    y = rng.integers(0, 3, 3000)
    path = tmp_path / "many.csv"
    write_csv(path, ["a", "b", "c", "d", "e", "y"], [[*map(repr, row), c] for row, c in zip(X.tolist(), y.tolist())])
    table = _data_files.read_labelled(str(path))
    assert np.array_equal(table.X, X) and np.array_equal(table.y, y)
    # a bad cell far down is still found, with its line
    text = path.read_text().splitlines()
    text[2500] = text[2500].replace(text[2500].split(",")[2], "oops", 1)
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(_data_files.DataError, match="column 'c' is not numeric: line 2501 has 'oops'"):
        _data_files.read_labelled(str(path))


def test_the_loss_runs_in_blocks(monkeypatch):
    """(predict, predict_proba and score work in blocks in the network: tests/test_network_backends.py.)"""
    from slopekit import _chunked

    X, y = slopekit.datasets.spirals(n_samples=900)
    net = slopekit.Network([2, 8, 3], "tanh", "softmax").fit(X, y, epochs=50, learning_rate=0.05)
    seen = []
    real = slopekit.Network.loss

    def recording(self, X, y, **kwargs):
        seen.append(len(X))
        return real(self, X, y, **kwargs)

    monkeypatch.setattr(slopekit.Network, "loss", recording)
    assert _chunked.loss(net, X, y, rows=300) == pytest.approx(real(net, X, y), rel=1e-13)
    assert seen == [300, 300, 300]


def test_labels_with_commas_and_quotes_come_back_whole(tmp_path, capsys):
    labels = ['small, round', 'say "hi"', "plain"]
    path, X = _labelled(tmp_path, [labels[i % 3] for i in range(CYCLE)], name="kind, quoted")
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(path), "--target", "kind, quoted", "--epochs", "2",
                     "--out", str(out)]) == 0
    values, table = predicted(capsys, out / "model.npz", X, ["u", "v"], tmp_path)
    assert table[0][3:] == [f"probability_{c}" for c in sorted(labels)]
    assert set(values) <= set(labels) and all(len(row) == 6 for row in table)


def test_the_pictures_get_the_files_name_the_columns_the_classes_and_the_held_out_loss(tmp_path, capsys,
                                                                                      monkeypatch):
    from slopekit import plotting

    calls = {}
    for name in ("loss_curve", "decision_boundary", "confusion_matrix"):
        real = getattr(plotting, name)

        def record(*args, _real=real, _name=name, **kwargs):
            calls[_name] = (args, kwargs)
            return _real(*args, **kwargs)

        monkeypatch.setattr(plotting, name, record)
    rng = np.random.default_rng(11)
    X = rng.normal(size=(90, 2)) * [100.0, 0.01] + [1000.0, 0.0]
    labels = np.where(X[:, 0] - 1000 > 0, "high", "low")
    folder = tmp_path / "some" / "where"
    folder.mkdir(parents=True)
    write_csv(folder / "plants.csv", ["height (mm)", "width (m)", "kind"],
              [[repr(a), repr(b), c] for (a, b), c in zip(X.tolist(), labels)])
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(folder / "plants.csv"), "--epochs", "20", "--out", str(out)]) == 0
    args, kwargs = calls["loss_curve"]
    assert kwargs["title"].startswith("Loss: plants.csv, [2, 128, 1]") and str(folder) not in kwargs["title"]
    assert [e for e, _ in kwargs["held_out"]] == list(range(1, 21)) and len(args[0]) == 20
    args, kwargs = calls["decision_boundary"]
    assert kwargs["feature_names"] == ["height (mm)", "width (m)"] and kwargs["class_names"] == ["high", "low"]
    train, test = held_out_rows(90)
    np.testing.assert_allclose(args[1], X[train], rtol=1e-12)  # drawn in the file's own units
    np.testing.assert_allclose(kwargs["X_test"], X[test], rtol=1e-12)
    scaled = kwargs["transform"](X[test])
    np.testing.assert_allclose(scaled, StandardScaler().fit(X[train]).transform(X[test]), rtol=1e-10, atol=1e-12)
    args, kwargs = calls["confusion_matrix"]
    assert args[1] == ["high", "low"] and int(np.sum(args[0])) == len(test)
    assert files_under(out) == ["confusion.png", "decision_boundary.png", "loss.png", "metrics.json", "model.npz"]


def test_a_large_file_shows_a_progress_bar_while_it_loads(tmp_path, monkeypatch, capsys):
    from slopekit import _data_files

    monkeypatch.setattr(_data_files, "PROGRESS_BYTES", 1000)
    path, X, _ = _table(tmp_path, np.random.default_rng(12), n=300)
    _data_files.read_labelled(str(path), progress=True)
    assert "reading table.csv" in capsys.readouterr().err
    _data_files.read_labelled(str(path), progress=False)
    monkeypatch.setattr(_data_files, "PROGRESS_BYTES", 10 ** 9)
    _data_files.read_labelled(str(path), progress=None)
    assert capsys.readouterr().err == ""
