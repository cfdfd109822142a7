"""``slopekit predict``: --keep columns, a run folder as MODEL, advice that works for a model's fixed dtype,
array files against named tables; and ``train``'s message for a --delimiter that does not split the file."""

import csv
import io

import numpy as np
import pytest
from _cli_helpers import files_under, one_line_error

from slopekit import cli


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run trained on a CSV of two features a, b and a target y; the rows, with IDs and names beside them."""
    folder = tmp_path_factory.mktemp("trained")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > X[:, 1]).astype(int)
    write_csv(folder / "train.csv", ["a", "b", "y"], [[*map(repr, r), c] for r, c in zip(X.tolist(), y.tolist())])
    assert cli.main(["train", "--data", str(folder / "train.csv"), "--epochs", "3", "--out",
                     str(folder / "run")]) == 0
    ids = [f"00{i}" for i in range(60)]  # leading zeros: an ID as text, not a number
    names = [f'row {i}, "quoted"' if i % 7 == 0 else f"row{i}" for i in range(60)]
    write_csv(folder / "rows.csv", ["id", "b", "name", "a", "y"],
              [[i, repr(r[1]), n, repr(r[0]), c] for i, n, r, c in zip(ids, names, X.tolist(), y.tolist())])
    return folder, ids, names


def _predict(capsys, *argv):
    capsys.readouterr()
    status = cli.main(["predict", *map(str, argv)])
    return status, capsys.readouterr()


def test_keep_copies_columns_as_written_in_front_of_the_features(trained, capsys):
    folder, ids, names = trained
    status, captured = _predict(capsys, folder / "run" / "model.npz", folder / "rows.csv", "--keep", "id",
                                "--keep", "name", "--keep", "y")
    assert status == 0
    rows = list(csv.reader(io.StringIO(captured.out)))
    assert rows[0][:6] == ["id", "name", "y", "a", "b", "prediction"]
    assert [r[0] for r in rows[1:]] == ids and [r[1] for r in rows[1:]] == names
    status, plain = _predict(capsys, folder / "run" / "model.npz", folder / "rows.csv")
    plain_rows = list(csv.reader(io.StringIO(plain.out)))
    assert [r[3:] for r in rows] == plain_rows  # the same predictions, the kept columns in front
    assert captured.err == ""  # every column not used is kept: nothing to note
    assert plain.err == ("slopekit predict: note: 3 columns that the model does not use left out: id, name, y; "
                         "copy one into the output with --keep COLUMN\n")


def test_keeping_a_feature_does_not_repeat_it(trained, capsys):
    folder, ids, _ = trained
    status, captured = _predict(capsys, folder / "run", folder / "rows.csv", "--keep", "a", "--keep", "id")
    assert status == 0
    assert captured.out.splitlines()[0].startswith("id,a,b,prediction,")


@pytest.mark.parametrize("keep, fragment", [
    ("nope", "rows.csv: no column 'nope' to --keep; the file's columns are: id, b, name, a, y"),
    ("prediction", "--keep prediction: the output has a column 'prediction' of its own"),
])
def test_a_keep_column_that_cannot_be_kept_is_refused_by_name(trained, capsys, tmp_path, keep, fragment):
    folder, _, _ = trained
    status, captured = _predict(capsys, folder / "run", folder / "rows.csv", "--keep", "id", "--keep", keep,
                                "--out", tmp_path / "p.csv")
    assert status == 2
    one_line_error(captured, fragment)
    assert files_under(tmp_path) == []


def test_keep_on_an_array_file_and_parquet(trained, capsys, tmp_path):
    folder, ids, names = trained
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    with open(folder / "rows.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
    pq.write_table(pa.table({"a": [float(r[3]) for r in rows], "b": [float(r[1]) for r in rows],
                             "id": [int(r[0]) for r in rows], "name": [r[2] for r in rows]}), tmp_path / "t.parquet")
    status, captured = _predict(capsys, folder / "run", tmp_path / "t.parquet", "--keep", "name", "--keep", "id")
    assert status == 0
    out = list(csv.reader(io.StringIO(captured.out)))
    assert out[0][:2] == ["name", "id"] and [r[0] for r in out[1:]] == names
    assert [r[1] for r in out[1:]] == [str(int(i)) for i in ids]
    X = np.array([[float(r[3]), float(r[1]), 7.5] for r in rows])
    np.save(tmp_path / "x.npy", X)
    status, captured = _predict(capsys, folder / "run", tmp_path / "x.npy", "--target", "2", "--keep", "2")
    assert status == 0, captured.err
    out = list(csv.reader(io.StringIO(captured.out)))
    assert out[0][:3] == ["2", "0", "1"] and {r[0] for r in out[1:]} == {"7.5"}


def test_a_run_folder_is_a_model(trained, capsys, tmp_path):
    folder, _, _ = trained
    by_file = _predict(capsys, folder / "run" / "model.npz", folder / "rows.csv")[1].out
    status, captured = _predict(capsys, folder / "run", folder / "rows.csv")
    assert status == 0 and captured.out == by_file
    (tmp_path / "empty").mkdir()
    status, captured = _predict(capsys, tmp_path / "empty", folder / "rows.csv")
    assert status == 2
    one_line_error(captured, f"{tmp_path / 'empty'} is a folder without model.npz")
    (tmp_path / "unfinished").mkdir()
    (tmp_path / "unfinished" / "checkpoint.npz").write_bytes(b"")
    status, captured = _predict(capsys, tmp_path / "unfinished", folder / "rows.csv")
    assert status == 2
    one_line_error(captured, "its run did not finish", "slopekit train --resume")


def test_a_value_beyond_a_float32_model_gets_advice_that_works_for_predict(tmp_path, capsys):
    write_csv(tmp_path / "t.csv", ["a", "b", "y"], [[i, i % 3, i % 2] for i in range(20)])
    assert cli.main(["train", "--data", str(tmp_path / "t.csv"), "--dtype", "float32", "--epochs", "2",
                     "--out", str(tmp_path / "run")]) == 0
    write_csv(tmp_path / "big.csv", ["a", "b"], [[1, 2], ["1e39", 1]])
    np.save(tmp_path / "big.npy", np.array([[1.0, 2.0], [1e39, 1.0]]))
    for data in ("big.csv", "big.npy"):
        status, captured = _predict(capsys, tmp_path / "run", tmp_path / data)
        assert status == 2
        line = one_line_error(captured, "too large for float32",
                              "the model computes in float32: rescale the column, or retrain the model with "
                              "--dtype float64")
        assert "use --dtype" not in line


def test_positional_and_named_columns_are_told_apart(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    np.savez(tmp_path / "t.npz", X=X, y=y)
    assert cli.main(["train", "--data", str(tmp_path / "t.npz"), "--epochs", "2", "--out", str(tmp_path / "arr")]) == 0
    write_csv(tmp_path / "named.csv", ["u", "v", "w"], X.tolist())
    status, captured = _predict(capsys, tmp_path / "arr", tmp_path / "named.csv")
    assert status == 2
    one_line_error(captured, "the model was trained on an array file (.npy or .npz)", "columns are named (u, v, w)",
                   "name this file's feature columns 0..2")
    write_csv(tmp_path / "numbered.csv", ["0", "1", "2", "y"], [[*r, c] for r, c in zip(X.tolist(), y.tolist())])
    status, captured = _predict(capsys, tmp_path / "arr", tmp_path / "numbered.csv")
    assert status == 0, captured.err  # the fix the message gives works
    # the other way: a model of a named table on an array of another width
    write_csv(tmp_path / "t.csv", ["u", "v", "w", "y"], [[*r, c] for r, c in zip(X.tolist(), y.tolist())])
    assert cli.main(["train", "--data", str(tmp_path / "t.csv"), "--epochs", "2", "--out", str(tmp_path / "tab")]) == 0
    np.save(tmp_path / "two.npy", X[:, :2])
    status, captured = _predict(capsys, tmp_path / "tab", tmp_path / "two.npy")
    assert status == 2
    one_line_error(captured, "has 2 feature columns but the model takes 3",
                   "trained on a table with named columns (u, v, w)", "taken by position")


@pytest.mark.parametrize("text, given, fragment", [
    ("a,b,y\n1,2,0\n3,4,1\n", ";", "does not split into columns with --delimiter ';'; its header seems to use ','"),
    ("a;b;y\n1;2;0\n3;4;1\n", "tab", "does not split into columns with --delimiter tab; its header seems to use ';'"),
    ("a b y\n1 2 0\n3 4 1\n", ";", "needs at least two columns (features and a target), got 1 ('a b y'); it does "
                                   "not split into columns with --delimiter ';'"),
])
def test_a_given_delimiter_that_does_not_split_the_file(tmp_path, capsys, text, given, fragment):
    (tmp_path / "t.csv").write_text(text)
    capsys.readouterr()
    assert cli.main(["train", "--data", str(tmp_path / "t.csv"), "--delimiter", given, "--out",
                     str(tmp_path / "run")]) == 2
    line = one_line_error(capsys.readouterr(), fragment)
    assert "give it with --delimiter" not in line
    assert files_under(tmp_path) == ["t.csv"]
