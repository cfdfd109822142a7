"""`slopekit.Network` on Dask arrays, on a `distributed.LocalCluster` started here (2 workers, 1 thread each).

The references cannot share the Dask code's bugs: the in-memory NumPy `fit`
on the same data (full batch: the same optimizer from sums added up in
another order), `partial_fit` chunk by chunk (mini-batches), and
scikit-learn's own L-BFGS (`MLPClassifier(solver="lbfgs")`) started from the
same weights.
"""

from __future__ import annotations

import os
import signal
import time
import tracemalloc
import warnings

import numpy as np
import pytest

import slopekit
from slopekit import Network, datasets

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=50) as cluster, distributed.Client(cluster) as c:
        yield c


def data(n=203, features=4, outputs="sigmoid", dtype=np.float64, seed=0):
    rs = np.random.RandomState(seed)
    X = rs.randn(n, features).astype(dtype)
    if outputs == "sigmoid":
        y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(np.int64)
    elif outputs == "softmax":
        y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)
    else:
        y = np.stack([X[:, 0] * 2 + 1, np.sin(X[:, 1])], axis=1)
    return X, y


CHUNKINGS = {"even": (70, 70, 63), "short last": (100, 100, 3), "uneven": (13, 120, 1, 69)}


def dask_of(X, y, rows):
    return da.from_array(X, chunks=(rows, X.shape[1])), da.from_array(y, chunks=(rows,) + y.shape[1:])


def relative(a, b):
    return max(float(np.max(np.abs(a[k] - b[k])) / max(np.max(np.abs(a[k])), 1e-300)) for k in a)


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam", "lbfgs"])
@pytest.mark.parametrize("chunking", list(CHUNKINGS))
def test_full_batch_on_the_cluster_is_the_in_memory_fit(client, optimizer, chunking):
    X, y = data()
    Xd, yd = dask_of(X, y, CHUNKINGS[chunking])
    kwargs = dict(epochs=25, optimizer=optimizer, l2=0.01)
    if optimizer != "lbfgs":
        kwargs["learning_rate"] = 0.05
    a = Network([4, 6, 1], "tanh", seed=3).fit(X, y, **kwargs)
    b = Network([4, 6, 1], "tanh", seed=3).fit(Xd, yd, **kwargs)
    assert relative(a.parameters(), b.parameters()) < 1e-10
    assert len(a.history) == len(b.history) > 5
    np.testing.assert_allclose(b.history, a.history, rtol=1e-10)
    assert b.dtype == np.float64


@pytest.mark.parametrize("output", ["softmax", "identity"])
def test_float32_and_other_outputs_agree_with_memory(client, output):
    X, y = data(outputs=output, dtype=np.float32)
    Xd, yd = dask_of(X, y, (50, 50, 50, 53))
    n_out = 3 if output == "softmax" else 2
    a = Network([4, 5, n_out], "relu", output, seed=1).fit(X, y, epochs=20, learning_rate=0.05, optimizer="adam")
    b = Network([4, 5, n_out], "relu", output, seed=1).fit(Xd, yd, epochs=20, learning_rate=0.05, optimizer="adam")
    assert b.dtype == np.float32 and b.parameters()["W1"].dtype == np.float32
    assert relative(a.parameters(), b.parameters()) < 1e-4
    np.testing.assert_allclose(b.history, a.history, rtol=1e-5)


def chunk_by_chunk(X, y, sizes, epochs, optimizer, batch_size, rng, **net):
    """The mini-batch procedure written with partial_fit: chunks in a drawn order, rows shuffled within each."""
    model = Network(**net)
    rs = np.random.RandomState(rng)
    bounds = np.cumsum((0, *sizes))
    for _ in range(epochs):
        for c in rs.permutation(len(sizes)):
            rows = slice(bounds[c], bounds[c + 1])
            model.partial_fit(X[rows], y[rows], learning_rate=0.02, optimizer=optimizer, batch_size=batch_size,
                              rng=rs)
    return model


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_mini_batches_go_chunk_by_chunk_bit_for_bit(client, optimizer, dtype):
    X, y = data(dtype=dtype)
    sizes = (60, 80, 40, 23)  # each chunk at least one batch; the last batch of a chunk is short
    Xd, yd = dask_of(X, y, sizes)
    arch = dict(layer_sizes=[4, 7, 1], hidden="tanh", seed=2)
    a = chunk_by_chunk(X, y, sizes, 3, optimizer, 16, rng=9, **arch)
    b = Network(**arch).fit(Xd, yd, epochs=3, learning_rate=0.02, optimizer=optimizer, batch_size=16, rng=9)
    for k, v in a.parameters().items():
        np.testing.assert_array_equal(b.parameters()[k], v)
    assert len(b.history) == 3 and b.history[-1] < b.history[0]


def test_mini_batches_continue_with_partial_fit_and_the_optimizer_state(client):
    X, y = data()
    Xd, yd = dask_of(X, y, 50)
    a = Network([4, 5, 1], seed=0).fit(Xd, yd, epochs=3, learning_rate=0.01, optimizer="adam", batch_size=20, rng=4)
    b = Network([4, 5, 1], seed=0)
    rs = np.random.RandomState(4)
    for _ in range(3):
        b.partial_fit(Xd, yd, learning_rate=0.01, optimizer="adam", batch_size=20, rng=rs)
    for k, v in a.parameters().items():
        np.testing.assert_array_equal(b.parameters()[k], v)
    assert b.optimizer_state()["t"] == 3 * (4 * 3 + 1)  # 4 chunks of 50 rows: batches of 20, 20, 10; 3 rows: one


def test_partial_fit_full_batch_matches_fit(client):
    X, y = data()
    Xd, yd = dask_of(X, y, 64)
    a = Network([4, 5, 1], seed=0).fit(X, y, epochs=4, learning_rate=0.1, optimizer="momentum")
    b = Network([4, 5, 1], seed=0)
    for _ in range(4):
        b.partial_fit(Xd, yd, learning_rate=0.1, optimizer="momentum")
    assert relative(a.parameters(), b.parameters()) < 1e-12
    np.testing.assert_allclose(b.history, a.history, rtol=1e-12)


def test_losses_gradients_and_scores_are_the_in_memory_ones(client):
    for output, n_out in [("sigmoid", 1), ("softmax", 3), ("identity", 2)]:
        X, y = data(outputs=output)
        Xd, yd = dask_of(X, y, (90, 90, 23))
        net = Network([4, 6, n_out], "relu", output, seed=5)
        assert net.loss(Xd, yd, l2=0.3) == pytest.approx(net.loss(X, y, l2=0.3), rel=1e-12)
        assert relative(net.gradients(X, y, l2=0.3), net.gradients(Xd, yd, l2=0.3)) < 1e-12
        total, sums = net.loss_and_gradients(Xd, yd, reduction="sum")
        total_np, sums_np = net.loss_and_gradients(X, y, reduction="sum")
        assert total == pytest.approx(total_np, rel=1e-12) and relative(sums_np, sums) < 1e-12
        assert net.score(Xd, yd) == pytest.approx(net.score(X, y), rel=1e-12, abs=1e-15)
        lazy = net.predict(Xd)
        assert isinstance(lazy, da.Array) and lazy.chunks[0] == Xd.chunks[0]
        np.testing.assert_array_equal(lazy.compute(), net.predict(X))
        assert lazy.dtype == net.predict(X).dtype and lazy.shape == net.predict(X).shape
        if output != "identity":
            proba = net.predict_proba(Xd)
            assert proba.shape == net.predict_proba(X).shape
            np.testing.assert_array_equal(proba.compute(), net.predict_proba(X))


def test_regression_r2_merges_chunks_stably():
    rs = np.random.RandomState(0)
    X = rs.randn(300, 2)
    y = 1e6 + X[:, 0] + 0.1 * rs.randn(300)  # a large offset: sums of squares would cancel
    net = Network([2, 1], output="identity").set_parameters({"W1": [[1.0, 0.0]], "b1": [1e6]})
    Xd, yd = dask_of(X, y, (7, 100, 193))
    with __import__("dask").config.set(scheduler="synchronous"):
        assert net.score(Xd, yd) == pytest.approx(net.score(X, y), rel=1e-9)


def test_bad_chunks_give_the_in_memory_messages_and_change_nothing(client):
    X, y = data()
    for batch_size in (None, 16):
        Xn = X.copy()
        Xn[150, 2] = np.nan
        net = Network([4, 3, 1], seed=0)
        before = net.parameters()
        with pytest.raises(ValueError) as in_memory:
            Network([4, 3, 1], seed=0).fit(Xn, y, epochs=2, learning_rate=0.1, batch_size=batch_size)
        with pytest.raises(ValueError) as on_dask:
            net.fit(*dask_of(Xn, y, 50), epochs=2, learning_rate=0.1, batch_size=batch_size)
        assert str(on_dask.value) == str(in_memory.value) == "fit: X contains NaN or infinity (in float64)"
        for k, v in before.items():
            np.testing.assert_array_equal(net.parameters()[k], v)
        assert net.history == [] and net.optimizer_state() is None
    bad = y.copy()
    bad[190] = 3
    with pytest.raises(ValueError, match=r"^fit: labels must be 0 or 1 for output='sigmoid', got 3"):
        Network([4, 3, 1]).fit(*dask_of(X, bad, 50), epochs=1, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"^score: labels must be 0 or 1"):
        Network([4, 3, 1]).score(*dask_of(X, bad, 50))
    with pytest.raises(ValueError, match="X has 4 features, but the network expects 3"):
        Network([3, 1]).fit(*dask_of(X, y, 50), epochs=1, learning_rate=0.1)
    with pytest.raises(ValueError, match="y has shape"):
        Network([4, 1]).fit(da.from_array(X, chunks=50), da.from_array(y[:-1], chunks=50), epochs=1,
                            learning_rate=0.1)
    with pytest.raises(TypeError, match="y is a Dask array but X is a ndarray"):
        Network([4, 1]).fit(X, da.from_array(y, chunks=50), epochs=1, learning_rate=0.1)
    with pytest.raises(TypeError, match="real numbers"):
        Network([4, 1]).fit(da.from_array(X.astype(str), chunks=50), da.from_array(y, chunks=50), epochs=1,
                            learning_rate=0.1)
    with pytest.raises(ValueError, match="NaN"):
        Network([4, 1]).predict(dask_of(Xn, y, 50)[0]).compute()


def test_unknown_chunk_sizes_and_dataframes(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = data()
    Xd, yd = dask_of(X, y, 50)
    keep = Xd[:, 0] > -0.5  # rows per chunk unknown until computed
    Xk, yk = Xd[keep], yd[keep]
    assert np.isnan(Xk.shape[0])
    mask = X[:, 0] > -0.5
    a = Network([4, 3, 1], seed=0).fit(X[mask], y[mask], epochs=5, learning_rate=0.1)
    b = Network([4, 3, 1], seed=0).fit(Xk, yk, epochs=5, learning_rate=0.1)
    assert relative(a.parameters(), b.parameters()) < 1e-12
    assert np.isnan(Xk.shape[0]) and np.isnan(yk.shape[0])  # counted on copies: the caller's arrays are as they were
    frame = dd.from_pandas(pd.DataFrame(X, columns=list("abcd")), npartitions=3)
    labels = dd.from_pandas(pd.Series(y), npartitions=3)
    c = Network([4, 3, 1], seed=0).fit(frame, labels, epochs=5, learning_rate=0.1)
    d = Network([4, 3, 1], seed=0).fit(X, y, epochs=5, learning_rate=0.1)
    assert relative(c.parameters(), d.parameters()) < 1e-12


def test_lbfgs_follows_scikit_learn_from_the_same_start():
    neural = pytest.importorskip("sklearn.neural_network")
    from sklearn.exceptions import ConvergenceWarning
    X, y = datasets.moons(200, noise=0.2, seed=0)
    net = Network([2, 8, 1], "tanh", seed=4)
    start = net.parameters()
    net.fit(X, y, epochs=15, optimizer="lbfgs", l2=0.01)
    clf = neural.MLPClassifier(hidden_layer_sizes=(8,), activation="tanh", solver="lbfgs", alpha=0.01, max_iter=15,
                               tol=1e-5, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)  # 15 iterations are not convergence
        clf.fit(X, y)  # sets up the shapes; then start it from slopekit's weights
        clf.coefs_ = [start["W1"].T.copy(), start["W2"].T.copy()]
        clf.intercepts_ = [start["b1"].copy(), start["b2"].copy()]
        clf.fit(X, y)
    got = net.parameters()
    np.testing.assert_allclose(got["W1"], clf.coefs_[0].T, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got["b2"], clf.intercepts_[1], rtol=1e-6, atol=1e-8)
    assert net.history[-1] == pytest.approx(clf.loss_, rel=1e-9)
    assert len(net.history) == clf.n_iter_ == 15


def test_lbfgs_arguments():
    X, y = datasets.xor()
    net = Network([2, 4, 1], "tanh")
    with pytest.raises(ValueError, match="partial_fit: optimizer='lbfgs'"):
        net.partial_fit(X, y, optimizer="lbfgs")
    with pytest.raises(ValueError, match="full-batch"):
        net.fit(X, y, epochs=3, optimizer="lbfgs", batch_size=2)
    with pytest.raises(TypeError, match="learning_rate is required for optimizer 'adam'"):
        net.fit(X, y, epochs=3, optimizer="adam")
    with pytest.raises(ValueError, match="memory must be a positive integer"):
        slopekit.optimizers.get("lbfgs", memory=0)
    assert net.history == []
    stops = []
    net.fit(X, y, epochs=50, optimizer="lbfgs", callback=lambda i, loss: stops.append(i) or i == 4)
    assert stops == [1, 2, 3, 4] and len(net.history) == 4
    assert np.isclose(net.loss(X, y), net.history[-1], rtol=1e-12)


def test_lbfgs_refuses_other_libraries():
    torch = pytest.importorskip("torch")
    X, y = datasets.xor()
    with pytest.raises(TypeError, match="lbfgs.*NumPy"):
        Network([2, 4, 1]).fit(torch.from_numpy(X), torch.from_numpy(y), epochs=3, optimizer="lbfgs")


def test_work_on_a_worker_thread_uses_no_pool_of_its_own(monkeypatch):
    from slopekit import _threads

    monkeypatch.setattr(_threads, "_pool", lambda workers: pytest.fail("a pool was started"))
    slopekit.set_num_threads(4)
    try:
        with _threads.on_calling_thread():
            seen = []
            _threads.parallel(lambda indices: seen.extend(indices), 5)
        assert seen == [0, 1, 2, 3, 4]
        assert not getattr(_threads._local, "worker", False)
    finally:
        slopekit.set_num_threads(_threads._cpu_count())


def _rss():
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc")
def test_out_of_core_the_caller_memory_does_not_grow_with_the_data(client):
    rows, features = 400_000, 50  # 160 MB of float64, made on the workers chunk by chunk, never whole
    X = da.random.RandomState(0).standard_normal((rows, features), chunks=(10_000, features))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    net = Network([features, 4, 1], "tanh", seed=0)
    before = _rss()
    tracemalloc.start()
    try:
        net.fit(X, y, epochs=1, learning_rate=0.5)
        net.fit(X, y, epochs=1, learning_rate=0.01, batch_size=10_000)
        peak = tracemalloc.get_traced_memory()[1]  # mini-batches: a few chunks of 4 MB at once
    finally:
        tracemalloc.stop()
    growth = _rss() - before
    assert peak < X.nbytes / 5, f"the caller held {peak / 2**20:.0f} MiB at once for {X.nbytes / 2**20:.0f} MiB"
    assert growth < X.nbytes / 4, f"the caller grew by {growth / 2**20:.0f} MiB for {X.nbytes / 2**20:.0f} MiB"
    assert len(net.history) == 1 and np.isfinite(net.history[0])


def test_a_worker_killed_mid_fit_changes_nothing(client):
    X, y = data(400)
    Xd, yd = dask_of(X, y, 50)
    pids = list(client.run(os.getpid).values())
    killed = []

    def kill(epoch, loss):
        if epoch == 3:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(time.time())

    a = Network([4, 6, 1], "tanh", seed=0).fit(X, y, epochs=8, learning_rate=0.1, optimizer="adam")
    b = Network([4, 6, 1], "tanh", seed=0).fit(Xd, yd, epochs=8, learning_rate=0.1, optimizer="adam", callback=kill)
    assert killed
    assert relative(a.parameters(), b.parameters()) < 1e-10
    client.wait_for_workers(2, timeout=60)


def test_the_readme_example_runs(tmp_path):
    import pathlib
    import subprocess
    import sys

    text = (pathlib.Path(__file__).parents[1] / "README.md").read_text()
    start = text.index("```python", text.index("### Larger than memory, or a cluster")) + len("```python")
    code = text[start:text.index("```", start)]
    assert "400_000" in code and "50_000" in code
    code = code.replace("400_000", "40_000").replace("50_000", "5_000")  # a tenth of the rows, for speed
    code = code.replace("LocalCluster(n_workers=2", "LocalCluster(dashboard_address=':0', n_workers=2")
    script = tmp_path / "example.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert float(lines[1]) > 0.9 and lines[2].startswith("dask.array<")


def test_training_in_memory_imports_neither_dask_nor_scipy():
    import subprocess
    import sys

    code = ("import sys, slopekit; from slopekit import datasets; X, y = datasets.xor();"
            " net = slopekit.Network([2, 3, 1]).fit(X, y, epochs=2, learning_rate=0.1, batch_size=50);"
            " net.predict(X); net.score(X, y); net.loss_and_gradients(X, y);"
            " print(sorted(m for m in ('dask', 'distributed', 'scipy') if m in sys.modules));"
            " net.fit(X, y, epochs=2, optimizer='lbfgs');"
            " print(sorted(m for m in ('dask', 'distributed', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["[]", "['scipy']"]


def test_a_network_trained_by_lbfgs_copies_and_pickles():
    import copy
    import pickle

    X, y = datasets.xor()
    net = Network([2, 4, 1], "tanh").fit(X, y, epochs=10, optimizer="lbfgs")
    for again in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert again.optimizer_state() == {"optimizer": slopekit.optimizers.LBFGS(), "t": 0}
        np.testing.assert_array_equal(again.predict_proba(X), net.predict_proba(X))
        again.fit(X, y, epochs=2, optimizer="lbfgs")


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_sample_weights_full_batch_are_the_in_memory_ones(client, optimizer):
    X, y = data()
    w = np.random.RandomState(1).randint(0, 4, len(y)).astype(float)
    Xd, yd = dask_of(X, y, (60, 80, 63))
    kwargs = dict(epochs=15, optimizer=optimizer, l2=0.1)
    if optimizer != "lbfgs":
        kwargs["learning_rate"] = 0.05
    a = Network([4, 5, 1], "tanh", seed=0).fit(X, y, sample_weight=w, **kwargs)
    b = Network([4, 5, 1], "tanh", seed=0).fit(Xd, yd, sample_weight=da.from_array(w, chunks=50), **kwargs)
    assert relative(a.parameters(), b.parameters()) < 1e-10
    np.testing.assert_allclose(b.history, a.history, rtol=1e-10)
    net = Network([4, 5, 1], "relu", seed=2)
    assert net.loss(Xd, yd, sample_weight=w) == pytest.approx(net.loss(X, y, sample_weight=w), rel=1e-12)
    assert relative(net.gradients(X, y, sample_weight=w, l2=0.2), net.gradients(Xd, yd, sample_weight=w, l2=0.2)) \
        < 1e-12


def test_sample_weights_in_mini_batches_go_chunk_by_chunk(client):
    X, y = data()
    w = np.random.RandomState(1).randint(0, 4, len(y)).astype(float)
    sizes = (60, 80, 40, 23)
    Xd, yd = dask_of(X, y, sizes)
    a = Network([4, 5, 1], "tanh", seed=0)
    rs = np.random.RandomState(3)
    bounds = np.cumsum((0, *sizes))
    for _ in range(2):
        for c in rs.permutation(len(sizes)):
            rows = slice(bounds[c], bounds[c + 1])
            a.partial_fit(X[rows], y[rows], sample_weight=w[rows], learning_rate=0.05, optimizer="adam",
                          batch_size=16, rng=rs)
    b = Network([4, 5, 1], "tanh", seed=0).fit(Xd, yd, sample_weight=da.from_array(w, chunks=sizes), epochs=2,
                                               learning_rate=0.05, optimizer="adam", batch_size=16, rng=3)
    for k, v in a.parameters().items():
        np.testing.assert_array_equal(b.parameters()[k], v)


def test_bad_sample_weights_on_dask(client):
    X, y = data()
    Xd, yd = dask_of(X, y, 50)
    net = Network([4, 3, 1])
    for w, error, message in [(np.zeros(len(y)), ValueError, "sample_weight is all 0"),
                              (np.full(len(y), np.nan), ValueError, "sample_weight contains NaN"),
                              (np.ones(5), ValueError, "sample_weight has shape"),
                              (-np.arange(len(y)) + 150.0, ValueError, "sample_weight must be >= 0"),
                              (np.array(["a"] * len(y)), TypeError, "real numbers")]:
        with pytest.raises(error, match=message):
            net.fit(Xd, yd, epochs=1, learning_rate=0.1, sample_weight=w)
    assert net.history == [] and net.optimizer_state() is None
