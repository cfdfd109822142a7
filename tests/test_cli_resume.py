"""Checkpoints for real: after SIGKILL at a random moment or Ctrl-C, ``--resume`` ends bit for bit
where an uninterrupted run ends."""

import json
import os
import random
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest
from _cli_helpers import files_under, one_line_error, script

import slopekit
from slopekit._atomic import LEFTOVER
from slopekit import cli

CASES = {
    "full batch, momentum": ["--epochs", "6000", "--optimizer", "momentum", "--lr", "0.5", "--checkpoint-every", "200"],
    "mini-batches, adam": ["--epochs", "600", "--batch-size", "24", "--optimizer", "adam", "--lr", "0.01",
                           "--hidden", "6", "--activation", "relu", "--checkpoint-every", "25"],
}


def _same_network(a, b):
    a, b = slopekit.Network.load(a / "model.npz"), slopekit.Network.load(b / "model.npz")
    for (name, p), q in zip(a.parameters().items(), b.parameters().values()):
        assert p.dtype == q.dtype and np.array_equal(p, q), f"{name} differs"
    assert a.history == b.history


def _wait_for(path, proc, timeout=60.0):
    end = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, "the run ended before its first checkpoint"
        assert time.monotonic() < end, "no checkpoint appeared"
        time.sleep(0.005)


def _start_and_kill(argv, folder, delay):
    """Start a training run, SIGKILL it ``delay`` seconds after its first checkpoint; its exit status."""
    proc = subprocess.Popen([script(), *argv, "--out", str(folder), "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(folder / "checkpoint.npz", proc)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    return proc.returncode


@pytest.mark.parametrize("case", CASES)
def test_sigkill_at_a_random_moment_then_resume_is_bit_exact(tmp_path, capsys, case):
    argv = ["train", *CASES[case], "--seed", "7"]
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    assert cli.main([*argv, "--out", str(reference)]) == 0

    delay = random.uniform(0.0, 0.25)
    for _ in range(4):  # on a loaded machine the run may outpace the kill: start again, kill sooner
        returncode = _start_and_kill(argv, killed, delay)
        if returncode == -signal.SIGKILL:
            break
        shutil.rmtree(killed)
        delay /= 4
    assert returncode == -signal.SIGKILL, f"the run finished before the kill (after {delay:.3f} s)"
    left = [name for name in files_under(killed) if not LEFTOVER.match(name.rsplit("/", 1)[-1])]
    assert left == ["checkpoint.npz"], left  # no model; at most the temporary file of a write cut short
    (killed / ".checkpoint.npz.0123456789ab.tmp").write_bytes(b"half")  # as if killed mid-write: resume clears it

    capsys.readouterr()
    assert cli.main(["train", "--resume", str(killed)]) == 0
    out = capsys.readouterr().out
    assert "resuming after epoch" in out
    _same_network(reference, killed)
    # the resumed run kept writing checkpoints on the same schedule: the last one is the reference's
    with np.load(killed / "checkpoint.npz") as mine, np.load(reference / "checkpoint.npz") as theirs:
        assert sorted(mine.keys()) == sorted(theirs.keys())
        for key in mine.keys():
            assert np.array_equal(mine[key], theirs[key]), key
    assert files_under(killed) == files_under(reference)


def test_ctrl_c_writes_a_checkpoint_exits_130_and_resumes_exactly(tmp_path, capsys):
    argv = ["train", "--epochs", "40000", "--seed", "3"]  # long enough to be running 0.3 s in: ~1.6 s here
    reference, stopped = tmp_path / "reference", tmp_path / "stopped"
    proc = subprocess.Popen([script(), *argv, "--out", str(stopped), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(3):  # the header's three lines: training has begun
            assert proc.stdout.readline().strip()
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("slopekit train: interrupted at epoch ")
    assert f"continue with: slopekit train --resume {stopped}" in lines[0]
    assert files_under(stopped) == ["checkpoint.npz"]

    assert cli.main(["train", "--resume", str(stopped)]) == 0
    assert cli.main([*argv, "--out", str(reference)]) == 0
    _same_network(reference, stopped)


def test_resume_rejects_a_broken_checkpoint(tmp_path, capsys):
    (tmp_path / "checkpoint.npz").write_bytes(b"PK\x03\x04 truncated")
    assert cli.main(["train", "--resume", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "checkpoint.npz cannot be read" in err and "Traceback" not in err


# -- resuming the right data, and Ctrl-C while the results are written ----------------------------


def _csv(path, rows, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, 2))
    lines = ["a,b,y"] + [f"{float(x0)!r},{float(x1)!r},{int(x0 * x1 > 0)}" for x0, x1 in X]
    path.write_text("\n".join(lines) + "\n")


def test_resume_refuses_data_that_changed_and_finds_it_from_another_folder(tmp_path, capsys, monkeypatch):
    (tmp_path / "here").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    _csv(tmp_path / "here" / "train.csv", 60, seed=1)
    run = tmp_path / "run"
    assert cli.main(["train", "--data", "train.csv", "--epochs", "40", "--checkpoint-every", "10",
                     "--out", str(run)]) == 0
    (run / "metrics.json").unlink()  # as if stopped before the end: the checkpoint can be resumed
    capsys.readouterr()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the relative path was stored as an absolute one
    _csv(tmp_path / "elsewhere" / "train.csv", 90, seed=2)  # a different file of the same name here
    assert cli.main(["train", "--resume", str(run)]) == 0
    assert f"data: {tmp_path / 'here' / 'train.csv'}" in capsys.readouterr().out
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["settings"]["dataset"] is None and metrics["settings"]["data"].endswith("here/train.csv")

    (run / "metrics.json").unlink()
    _csv(tmp_path / "here" / "train.csv", 60, seed=3)  # the run's own file, edited
    before = files_under(run)
    assert cli.main(["train", "--resume", str(run)]) == 2
    one_line_error(capsys.readouterr(), "train.csv has changed since this run started", "SHA-256")
    assert files_under(run) == before


def test_a_second_ctrl_c_while_writing_leaves_a_checkpoint_that_finishes_the_run(tmp_path, capsys, monkeypatch):
    from slopekit import plotting

    run = tmp_path / "run"
    real = plotting.loss_curve

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # what a second Ctrl-C raises inside the deferred block

    monkeypatch.setattr(plotting, "loss_curve", interrupted)
    assert cli.main(["train", "--epochs", "30", "--out", str(run)]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"finish with: slopekit train --resume {run}" in err
    assert "metrics.json" not in files_under(run) and "checkpoint.npz" in files_under(run)
    monkeypatch.setattr(plotting, "loss_curve", real)
    assert cli.main(["train", "--resume", str(run)]) == 0  # trains nothing more, writes the results
    assert "trained 0 epochs" in capsys.readouterr().out
    reference = tmp_path / "reference"
    assert cli.main(["train", "--epochs", "30", "--out", str(reference)]) == 0
    _same_network(reference, run)
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(run)]) == 2  # now it is complete
    one_line_error(capsys.readouterr(), "that run is complete (30 of 30 epochs); nothing to resume")


def test_one_ctrl_c_while_writing_waits_for_the_results(tmp_path, capsys, monkeypatch):
    from slopekit import plotting

    real = plotting.loss_curve

    def ctrl_c_then_write(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # delivered to the deferring handler: writing goes on
        return real(*args, **kwargs)

    monkeypatch.setattr(plotting, "loss_curve", ctrl_c_then_write)
    run = tmp_path / "run"
    assert cli.main(["train", "--epochs", "30", "--out", str(run)]) == 130
    captured = capsys.readouterr()
    assert captured.err == ("slopekit train: interrupted while writing the results; "
                            "they were written in full first\n")
    assert files_under(run) == ["confusion.png", "decision_boundary.png", "loss.png", "metrics.json", "model.npz"]


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--out", ""], "--out needs a folder name"),
    (["train", "--resume", "{tmp}/afile"], "--resume {tmp}/afile is a file, not a folder"),
    (["train", "--resume", "{tmp}/text"], "checkpoint.npz cannot be read (not an .npz archive)"),
])
def test_resume_and_out_mistakes(tmp_path, capsys, argv, fragment):
    (tmp_path / "afile").write_text("")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "checkpoint.npz").write_text("just text\n")
    assert cli.main([a.format(tmp=tmp_path) for a in argv]) == 2
    one_line_error(capsys.readouterr(), fragment.format(tmp=tmp_path))


def test_a_checkpoint_with_its_history_in_the_json_still_resumes(tmp_path, capsys):
    """Checkpoints written before the history moved into a float64 array keep working."""
    run = tmp_path / "run"
    assert cli.main(["train", "--epochs", "30", "--checkpoint-every", "10", "--out", str(run)]) == 0
    from slopekit import runs

    _, state = runs.load_checkpoint(str(run))
    with np.load(run / "checkpoint.npz") as archive:
        arrays = {k: archive[k] for k in archive.keys()}
    meta = json.loads(arrays.pop("meta").tobytes().decode())
    history = arrays.pop("history").tolist()
    assert history == state["history"] and len(history) == 30
    # the older layout, as a run stopped after epoch 30 of 40 would have left it
    meta["history"], meta["settings"]["epochs"] = history, 40
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(run / "checkpoint.npz", **arrays)
    (run / "metrics.json").unlink()
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(run)]) == 0
    assert "resuming after epoch 30" in capsys.readouterr().out
    assert len(json.loads((run / "metrics.json").read_text())["settings"]) > 0
    _, resumed = runs.load_checkpoint(str(run))
    assert resumed["epoch"] == 40 and resumed["history"][:30] == history
