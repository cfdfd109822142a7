"""Network.save / Network.load: bit-exact round trips, atomic writes, and refusal of every bad file."""

import json
import os
import pickle
import stat
import zipfile

import numpy as np
import pytest

import slopekit
from slopekit import Network


def trained(**kwargs):
    X, y = slopekit.datasets.spirals(60)
    net = Network([2, 7, 5, 3], [slopekit.get("leaky_relu", slope=0.001, at_zero=1), "tanh"], "softmax", **kwargs)
    return net.fit(X, y, epochs=5, learning_rate=0.05, batch_size=16, optimizer="adam")


def assert_identical(a, b):
    assert type(b) is Network
    assert repr(a) == repr(b)
    assert (a.layer_sizes, a.hidden, a.output, a.dtype, a.seed, a.init) == \
        (b.layer_sizes, b.hidden, b.output, b.dtype, b.seed, b.init)
    assert a.history == b.history
    pa, pb = a.parameters(), b.parameters()
    assert pa.keys() == pb.keys()
    for k in pa:
        assert pa[k].dtype == pb[k].dtype and pa[k].shape == pb[k].shape
        assert pa[k].tobytes() == pb[k].tobytes(), k


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_is_bit_exact(tmp_path, dtype):
    net = trained(dtype=dtype, seed=11, init="he")
    path = tmp_path / "model.npz"
    assert net.save(path) is None
    again = Network.load(path)
    assert_identical(net, again)
    X = np.random.RandomState(0).randn(10, 2)
    assert again.predict_proba(X).tobytes() == net.predict_proba(X).tobytes()


@pytest.mark.parametrize("output, sizes", [("sigmoid", [3, 1]), ("identity", [3, 4, 2]), ("softmax", [3, 2, 2, 2, 2])])
@pytest.mark.parametrize("hidden", slopekit.names())
def test_round_trip_of_every_activation_and_output(tmp_path, hidden, output, sizes):
    net = Network(sizes, hidden, output, seed=3)
    net.save(str(tmp_path / "m.npz"))
    assert_identical(net, Network.load(str(tmp_path / "m.npz")))


def test_loaded_network_trains_on_exactly_like_the_original(tmp_path):
    net = trained()
    net.save(tmp_path / "m.npz")
    again = Network.load(tmp_path / "m.npz")
    X, y = slopekit.datasets.spirals(60)
    for n in (net, again):
        n.fit(X, y, epochs=3, learning_rate=0.05, batch_size=16)
    assert_identical(net, again)


def test_the_file_is_a_plain_npz_with_json_metadata(tmp_path):
    net = trained()
    net.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["W1", "W2", "W3", "b1", "b2", "b3", "metadata"]
        meta = json.loads(archive["metadata"].tobytes().decode("utf-8"))
        assert archive["metadata"].dtype == np.uint8
    assert meta["format"] == "slopekit.Network" and meta["version"] == 1
    assert meta["layer_sizes"] == [2, 7, 5, 3] and meta["output"] == "softmax"
    assert meta["hidden"][0] == {"name": "leaky_relu", "params": {"slope": 0.001, "at_zero": 1.0}}
    assert len(meta["history"]) == 5


def test_save_writes_exactly_the_path_given_and_overwrites_atomically(tmp_path):
    path = tmp_path / "model.weights"
    Network([2, 1], seed=1).save(path)
    os.chmod(path, 0o640)
    Network([2, 3, 1], seed=2).save(path)
    assert sorted(os.listdir(tmp_path)) == ["model.weights"]  # no temporary files left, no ".npz" added
    assert Network.load(path).layer_sizes == (2, 3, 1)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640  # an existing file keeps its permissions


def test_a_failed_write_leaves_the_old_file_and_no_debris(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    Network([2, 1], seed=1).save(path)
    before = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        Network([2, 5, 1]).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]


def test_unsaveable_things_are_refused_before_writing(tmp_path):
    class Custom(slopekit.Tanh):
        pass

    net = Network([2, 3, 1], Custom())
    with pytest.raises(ValueError, match="cannot save the activation"):
        net.save(tmp_path / "m.npz")
    net = Network([2, 3, 1])
    net.history = [0.5, float("nan")]
    with pytest.raises(ValueError, match="history"):
        net.save(tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


# -- loading refuses bad files with ValueError ---------------------------------------------


def good_arrays():
    """The metadata and arrays of a valid file, written out by hand."""
    net = Network([2, 3, 1], "tanh", seed=5)
    net.history = [0.7, 0.6]
    meta = {"format": "slopekit.Network", "version": 1, "layer_sizes": [2, 3, 1],
            "hidden": [{"name": "tanh", "params": {}}], "output": "sigmoid", "dtype": "float64", "seed": 5,
            "init": None, "history": [0.7, 0.6]}
    return meta, net.parameters()


def write(path, meta, arrays, raw_meta=None):
    text = raw_meta if raw_meta is not None else json.dumps(meta).encode()
    np.savez(path, metadata=np.frombuffer(text, dtype=np.uint8), **arrays)


def test_the_hand_written_good_file_loads(tmp_path):
    meta, arrays = good_arrays()
    write(tmp_path / "m.npz", meta, arrays)
    net = Network.load(tmp_path / "m.npz")
    assert net.history == [0.7, 0.6] and net.hidden == (slopekit.tanh,)


def bad_files():
    meta, arrays = good_arrays()
    yield "missing array", meta, {k: v for k, v in arrays.items() if k != "b2"}, None, r"missing \['b2'\]"
    yield "extra array", meta, {**arrays, "W3": np.ones((1, 1))}, None, r"unexpected \['W3'\]"
    yield "wrong shape", meta, {**arrays, "W1": arrays["W1"].T}, None, r"'W1' has shape \(2, 3\), expected \(3, 2\)"
    yield "wrong dtype", meta, {**arrays, "b1": arrays["b1"].astype(np.float32)}, None, "'b1' has dtype float32"
    yield "int array", meta, {**arrays, "b1": np.zeros(3, int)}, None, "'b1' has dtype int"
    yield "nan", meta, {**arrays, "W2": np.full((1, 3), np.nan)}, None, "'W2' contains NaN"
    yield "object array", meta, {**arrays, "b2": np.array([None], dtype=object)}, None, "'b2' cannot be read"
    yield "unknown activation", {**meta, "hidden": [{"name": "nonesuch", "params": {}}]}, arrays, None, \
        "unknown or invalid activation"
    yield "bad activation param", {**meta, "hidden": [{"name": "relu", "params": {"slope": 1}}]}, arrays, None, \
        "unknown or invalid activation"
    yield "unknown output", {**meta, "output": "softplus"}, arrays, None, "invalid architecture"
    yield "bad sizes", {**meta, "layer_sizes": [2, 0, 1]}, arrays, None, "invalid architecture"
    yield "sizes not a list", {**meta, "layer_sizes": "2,3,1"}, arrays, None, "layer_sizes"
    yield "bad dtype", {**meta, "dtype": "float16"}, arrays, None, "dtype"
    yield "bad seed", {**meta, "seed": None}, arrays, None, "seed"
    yield "wrong format", {**meta, "format": "keras"}, arrays, None, "not a saved slopekit network"
    yield "newer version", {**meta, "version": 2}, arrays, None, "format version 2"
    yield "missing field", {k: v for k, v in meta.items() if k != "init"}, arrays, None, r"missing \['init'\]"
    yield "extra field", {**meta, "exec": "import os"}, arrays, None, r"unexpected \['exec'\]"
    yield "history nan", meta, arrays, json.dumps({**meta, "history": [float("nan")]}).encode(), "NaN"
    yield "history text", {**meta, "history": ["0.5"]}, arrays, None, "history"
    yield "not json", meta, arrays, b"{not json", "not UTF-8 JSON"
    yield "not utf-8", meta, arrays, b"\xff\xfe", "not UTF-8 JSON"
    yield "json list", meta, arrays, b"[1, 2]", "JSON object"
    yield "no metadata", None, arrays, None, "no 'metadata' array"


BAD = list(bad_files())


@pytest.mark.parametrize("case, meta, arrays, raw, match", BAD, ids=[b[0] for b in BAD])
def test_bad_contents_are_refused(tmp_path, case, meta, arrays, raw, match):
    path = tmp_path / "m.npz"
    if meta is None:
        np.savez(path, **arrays)
    else:
        write(path, meta, arrays, raw)
    with pytest.raises(ValueError, match=match):
        Network.load(path)


def test_metadata_of_the_wrong_kind_is_refused(tmp_path):
    meta, arrays = good_arrays()
    np.savez(tmp_path / "m.npz", metadata=np.array(json.dumps(meta)), **arrays)  # a str array, not uint8
    with pytest.raises(ValueError, match="1-D uint8"):
        Network.load(tmp_path / "m.npz")


class Exploit:
    """Unpickling this would create a file: loading must never get that far."""

    marker = None

    def __reduce__(self):
        return (open, (str(Exploit.marker), "w"))


def test_pickles_are_never_executed(tmp_path):
    Exploit.marker = tmp_path / "pwned"
    meta, arrays = good_arrays()
    np.savez(tmp_path / "npz.npz", metadata=np.frombuffer(json.dumps(meta).encode(), np.uint8),
             **{**arrays, "W1": np.array([Exploit()], dtype=object)})
    (tmp_path / "raw.pkl").write_bytes(pickle.dumps(Exploit()))
    for name in ("npz.npz", "raw.pkl"):
        with pytest.raises(ValueError):
            Network.load(tmp_path / name)
    assert not Exploit.marker.exists()


def test_corrupt_and_foreign_files_are_refused(tmp_path):
    net = trained()
    net.save(tmp_path / "good.npz")
    data = (tmp_path / "good.npz").read_bytes()
    cases = {
        "truncated.npz": data[: len(data) // 2],
        "empty.npz": b"",
        "text.npz": b"hello, I am not a model\n",
        "flipped.npz": data[:200] + bytes([data[200] ^ 0xFF]) + data[201:],
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    np.save(tmp_path / "single.npy", np.ones(3))
    cases["single.npy"] = None
    for name in cases:
        with pytest.raises(ValueError, match="load"):
            Network.load(tmp_path / name)


def test_zip_with_a_bad_crc_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    Network([2, 3, 1]).save(path)
    with zipfile.ZipFile(path) as z:
        members = {info.filename: z.read(info.filename) for info in z.infolist()}
    raw = bytearray(path.read_bytes())
    payload = members["W1.npy"]
    at = bytes(raw).index(payload) + len(payload) - 1  # the last byte of W1's data
    raw[at] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="W1"):
        Network.load(path)


def test_a_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        Network.load(tmp_path / "nowhere.npz")


def test_plain_text_file_is_refused_without_pickle_advice(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_text("hello")
    with pytest.raises(ValueError, match="not a saved slopekit network") as info:
        Network.load(path)
    assert "pickle" not in str(info.value)


def test_save_into_a_missing_folder_names_the_users_path(tmp_path):
    target = tmp_path / "missing" / "model.npz"
    with pytest.raises(FileNotFoundError, match="missing.*does not exist") as info:
        Network([2, 3, 1]).save(target)
    assert ".tmp" not in str(info.value)
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        Network([2, 3, 1]).save(tmp_path)


def test_info_round_trips_and_must_be_json(tmp_path):
    net = Network([2, 3, 1])
    assert net.info == {}
    net.info = {"features": ["a", "b"], "scale": {"mean": [0.1, 1e300], "std": [2.0, 3.0]}, "classes": [True, 2]}
    path = tmp_path / "net.npz"
    net.save(path)
    assert Network.load(path).info == net.info
    net.info = {"bad": float("nan")}
    with pytest.raises(ValueError, match="info must hold JSON"):
        net.save(tmp_path / "other.npz")
    net.info = {"bad": object()}
    with pytest.raises(ValueError, match="info must hold JSON"):
        net.save(tmp_path / "other.npz")
    assert not (tmp_path / "other.npz").exists()


def test_a_file_without_info_loads_with_an_empty_one(tmp_path):
    import json

    path = tmp_path / "net.npz"
    Network([2, 1]).save(path)
    with np.load(path) as archive:
        arrays = dict(archive)
    meta = json.loads(arrays["metadata"].tobytes())
    del meta["info"]
    arrays["metadata"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(tmp_path / "old.npz", **arrays)
    assert Network.load(tmp_path / "old.npz").info == {}
