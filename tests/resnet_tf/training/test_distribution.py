"""Distributed training through train.py itself: MirroredStrategy on two logical CPU devices, and
MultiWorkerMirroredStrategy over two local worker processes sharing one logdir (TF_CONFIG on 127.0.0.1
ports), against a one-device run of the same global batch."""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import types

import numpy as np
import pytest

from resnet_tf.runs.placement import (
    CPU_REPLICAS,
)
from resnet_tf.training.distribution import lost_peer, lost_worker
from tests.helpers import ROOT, TINY, scalars, tensor_values
from tests.ports import free_ports

# SGD, a constant rate and synchronized batch norm: runs that differ only in how the global batch is split
# must agree up to float summation order, the weight average (checkpointed beside the weights) included.
RECIPE = [
    *TINY,
    "--optimizer",
    "sgd",
    "--lr",
    "0.01",
    "--lr-schedule",
    "constant",
    "--sync-bn",
    "--ema-decay",
    "0.9",
    "--ckpt-every",
    "1",
    "--eval-every",
    "3",
]
WORKER_TIMEOUT = 240
# The slow tests start processes of several workers and devices; in one test process, one after the other (they
# share the machine's ports and its folder of the workers' private checkpoints).


def recipe(demo_data, logdir, *extra) -> list[str]:
    return ["--train-csv", demo_data[0], "--val-csv", demo_data[1], "--logdir", str(logdir), *RECIPE, *extra]


def start(args: list[str], out: str, **env) -> subprocess.Popen:
    """train.py in its own process, its console in the file ``out``; Ctrl-C reaches it as it reaches a command
    started from a terminal (a suite started in the background, ``pytest &``, has its own ignored, and the
    children inherit that)."""
    with open(out, "w") as f:
        return subprocess.Popen(
            [sys.executable, "train.py", *args],
            cwd=ROOT,
            stdout=f,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **env},
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )


def start_workers(args: list[str], folder: str, tag: str) -> list[subprocess.Popen]:
    """Two workers of one multi-worker run (worker 0 is the chief); consoles in ``folder/tag-<i>.log``."""
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    return [
        start(
            args,
            os.path.join(folder, f"{tag}-{i}.log"),
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}),
        )
        for i in range(2)
    ]


def finish(procs: list[subprocess.Popen], timeout: float = WORKER_TIMEOUT) -> list[int]:
    return [p.wait(timeout=timeout) for p in procs]


def console(folder: str, tag: str, i: int = 0) -> str:
    with open(os.path.join(folder, f"{tag}-{i}.log")) as f:
        return f.read()


def checkpoint_values(logdir, step: int) -> dict:
    import tensorflow as tf

    reader = tf.train.load_checkpoint(os.path.join(str(logdir), "checkpoints", f"ckpt-{step}"))
    # bookkeeping of validations, which the runs compared here make at different steps
    skip = (
        "_CHECKPOINTABLE_OBJECT_GRAPH",
        "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
        "best_accuracy/.ATTRIBUTES/VARIABLE_VALUE",
        "stale_validations/.ATTRIBUTES/VARIABLE_VALUE",
    )
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map() if k not in skip}


def assert_close_weights(a: dict, b: dict) -> None:
    """Equal up to float summation order (per-replica batch norm would differ by about 10%)."""
    assert a.keys() == b.keys()
    for key in a:
        scale = float(np.abs(a[key]).max()) if a[key].size else 0.0
        assert np.abs(a[key] - b[key]).max() <= 1e-4 * scale + 1e-6, key


def files_under(folder) -> set[str]:
    return {os.path.relpath(p, folder) for p in glob.glob(os.path.join(str(folder), "**"), recursive=True)}


def worker_folders() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "resnet-tf-worker-*")))


@pytest.fixture(scope="session")
def reference(demo_data, tmp_path_factory):
    """Three steps of the recipe on one device."""
    import train

    logdir = tmp_path_factory.mktemp("one_device") / "run"
    assert train.main(recipe(demo_data, logdir, "--max-steps", "3")) == 0
    return logdir


@pytest.fixture(scope="session")
def relay(demo_data, tmp_path_factory):
    """One run taken over at every step: step 1 on one device, step 2 by two worker processes, step 3 by
    one process mirrored over two CPU devices (which validates at step 3)."""
    import train

    folder = tmp_path_factory.mktemp("relay")
    logdir = folder / "run"
    assert train.main(recipe(demo_data, logdir, "--max-steps", "1")) == 0
    before, private_before = files_under(logdir), worker_folders()
    workers = start_workers(recipe(demo_data, logdir, "--max-steps", "2"), str(folder), "workers")
    statuses = finish(workers)
    written = files_under(logdir) - before
    with open(logdir / ".lock") as f:
        lock = f.read()
    mirrored = start(
        recipe(demo_data, logdir, "--max-steps", "3", "--strategy", "mirrored"),
        str(folder / "mirrored-0.log"),
        **{CPU_REPLICAS: "2"},
    )
    assert mirrored.wait(timeout=WORKER_TIMEOUT) == 0, console(str(folder), "mirrored")
    return types.SimpleNamespace(
        logdir=logdir,
        folder=str(folder),
        statuses=statuses,
        written=written,
        lock=lock,
        chief=workers[0].pid,
        private_left=worker_folders() - private_before,
    )


@pytest.mark.slow
def test_workers_and_devices_follow_one_device_step_for_step(reference, relay):
    assert relay.statuses == [0, 0], (
        console(relay.folder, "workers", 0)[-3000:] + console(relay.folder, "workers", 1)[-3000:]
    )
    for i in range(2):
        out = console(relay.folder, "workers", i)
        assert f"multi-worker strategy: worker {i} of 2, 2 replicas" in out and "8 per replica" in out
        assert "ckpt-1 at step 1/2" in out  # both resumed the one-device run
    out = console(relay.folder, "mirrored")
    assert "mirrored strategy: 2 replicas (CPU:0, CPU:1), global batch 16 = 8 per replica" in out
    assert "ckpt-2 at step 2/3" in out
    for step in (2, 3):  # after the two workers' step, and after the two devices' step
        assert_close_weights(checkpoint_values(reference, step), checkpoint_values(relay.logdir, step))
    assert any(key.startswith("average/") for key in checkpoint_values(relay.logdir, 3))


@pytest.mark.slow
def test_only_the_chief_writes_the_run_folder(relay):
    assert relay.lock == f"pid {relay.chief}"  # the other worker did not take the lock
    accuracy = dict(tensor_values(scalars(str(relay.logdir / "val")), "accuracy"))
    # the workers' run ends with a validation; a better one than step 1's is also saved as the best
    saved = ["checkpoints"] + (["best"] if accuracy[2] > accuracy[1] else [])
    assert sorted(relay.written) == sorted(
        [f"{folder}/ckpt-2.{part}" for folder in saved for part in ("index", "data-00000-of-00001")]
        + [w for w in relay.written if w.startswith(("train/events", "val/events", "events"))]
    )
    for events in ("train/events", "events"):  # the training curves, the settings for the HParams tab
        assert len([w for w in relay.written if w.startswith(events)]) == 1  # one writer: the chief
    assert relay.private_left == set()  # the other worker's private folder is gone


@pytest.mark.slow
def test_distributed_validation_and_evaluation_match_one_device(relay, demo_data, tmp_path):
    import evaluate

    val = scalars(str(relay.logdir / "val"))  # validated at step 3 by the two mirrored devices
    logged = {tag: dict(tensor_values(val, tag))[3] for tag in ("loss", "accuracy", "top5_accuracy")}
    args = ["--logdir", str(relay.logdir), "--csv", demo_data[1], "--checkpoint", "latest"]
    assert evaluate.main([*args, "--out", str(tmp_path / "one")]) == 0  # this process: one device
    two = subprocess.run(
        [sys.executable, "evaluate.py", *args, "--out", str(tmp_path / "two")],
        cwd=ROOT,
        text=True,
        capture_output=True,
        env={**os.environ, CPU_REPLICAS: "2"},
        timeout=WORKER_TIMEOUT,
    )
    assert two.returncode == 0 and "mirrored strategy: 2 replicas" in two.stderr + two.stdout, two.stderr[-2000:]
    one, two = (json.load(open(tmp_path / name / "metrics.json")) for name in ("one", "two"))
    assert one["step"] == 3 and one["num_examples"] == two["num_examples"] == 24  # 2 global batches, 8 padded
    assert (two["top1"], two["top5"]) == (one["top1"], one["top5"]) and two["loss"] == pytest.approx(one["loss"], 1e-6)
    assert logged["accuracy"] == pytest.approx(one["top1"], 1e-6) and logged["top5_accuracy"] == pytest.approx(
        one["top5"], 1e-6
    )
    assert logged["loss"] == pytest.approx(one["loss"], 1e-5)


def wait_for(path: str, procs: list[subprocess.Popen], timeout: float = WORKER_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert all(p.poll() is None for p in procs), "a worker exited early"
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.2)


def newest_step(logdir) -> int:
    import tensorflow as tf

    return int(tf.train.latest_checkpoint(os.path.join(str(logdir), "checkpoints")).rsplit("-", 1)[1])


@pytest.mark.slow
def test_lost_worker_or_stop_signal_stops_all_and_a_rerun_resumes(demo_data, tmp_path):
    logdir = tmp_path / "run"
    long_run = recipe(demo_data, logdir, "--max-steps", "10000", "--ckpt-every", "4", "--eval-every", "10000")
    # kill -9 of a worker: the chief stops with a clear error instead of waiting forever
    workers = start_workers(long_run, str(tmp_path), "kill")
    wait_for(str(logdir / "checkpoints" / "ckpt-4.index"), workers)
    workers[1].kill()
    assert finish(workers[:1], 60) == [2]
    out = console(str(tmp_path), "kill")
    assert "error: lost contact with another worker" in out and "Restart all of them with the same command" in out
    assert 'File "' not in out.split("error: lost contact")[1].splitlines()[0]  # TensorFlow's answer, not its stack
    killed = glob.glob(os.path.join(tempfile.gettempdir(), f"resnet-tf-worker-{workers[1].pid}-*"))
    assert len(killed) == 1  # the killed worker could not remove its private folder...
    # both started again: they resume from the newest checkpoint; then SIGTERM on the other worker (a
    # preempted machine): both save the same step and exit as interrupted
    resumed = newest_step(logdir)
    workers = start_workers(long_run, str(tmp_path), "term")
    wait_for(str(logdir / "checkpoints" / f"ckpt-{resumed + 4}.index"), workers)
    workers[1].send_signal(signal.SIGTERM)
    assert finish(workers, 60) == [143, 143], console(str(tmp_path), "term")[-2000:]
    assert not os.path.exists(killed[0])  # ...the next worker started on the machine did
    for i in range(2):
        assert f"resuming from {logdir}/checkpoints/ckpt-{resumed} at step {resumed}/" in console(
            str(tmp_path), "term", i
        )
    saved = newest_step(logdir)
    assert saved >= resumed + 4
    assert f"stopped with the worker that received a stop signal at step {saved}: saved" in console(
        str(tmp_path), "term"
    )
    assert f"interrupted by SIGTERM at step {saved}" in console(str(tmp_path), "term", 1)


@pytest.mark.slow
def test_a_worker_whose_peer_never_starts_says_whom_it_waits_for_and_stops_on_a_signal_or_in_time(demo_data, tmp_path):
    # three lone workers at once, each waiting for a peer that never starts: one stopped by SIGTERM, one by
    # Ctrl-C, one by its timeout
    statuses = {"SIGTERM": 143, "SIGINT": 130, "timeout": 2}
    waiting, free = {}, free_ports(2 * len(statuses))
    for stop in statuses:
        ports = [free.pop(), free.pop()]
        config = json.dumps(
            {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": 0}}
        )
        log, timeout = tmp_path / f"{stop}.log", "4" if stop == "timeout" else "600"
        proc = start(recipe(demo_data, tmp_path / stop), str(log), TF_CONFIG=config, RESNET_TF_PEER_TIMEOUT=timeout)
        waiting[stop] = (proc, log, ports[1], timeout)
    for stop, (proc, log, peer, timeout) in waiting.items():
        deadline = time.monotonic() + 60
        while "waiting for the other workers" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert f"waiting for the other workers of TF_CONFIG to start (127.0.0.1:{peer}), up to {timeout} s" in (
            log.read_text()
        )
        if stop != "timeout":
            time.sleep(1)
            proc.send_signal(getattr(signal, stop))
    for stop, (proc, log, peer, _) in waiting.items():
        try:
            status = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"the {stop} worker did not end within 60 s:\n{log.read_text()}")
        assert status == statuses[stop], log.read_text()
        if stop == "timeout":
            assert f"error: the workers at 127.0.0.1:{peer} did not start within 4 s" in log.read_text()
        assert not (tmp_path / stop).exists()  # nothing written before the workers met


def test_a_lost_workers_error_line_gives_the_stores_answer_not_a_frame_of_the_stack():
    import tensorflow as tf

    # the layout of TensorFlow 2.21's error of a collective whose peer was killed (kill -9)
    message = (
        "Graph execution error:\n\nDetected at node CollectiveReduceV2 defined at (most recent call last):\n"
        '  File "/home/user/train.py", line 11, in <module>\n\n  File "/home/user/train.py", line 7, in run\n\n'
        "Collective ops is aborted by: recvmsg:Connection reset by peer\n"
        "Additional GRPC error information from remote target /job:worker/replica:0/task:1 while calling "
        "/tensorflow.WorkerService/RecvBuf:\n:UNKNOWN:Error received from peer\n"
        "\t [[{{node CollectiveReduceV2}}]] [Op:__inference_step_123]"
    )
    err = tf.errors.UnavailableError(None, None, message)
    assert lost_peer(err) and not lost_peer(tf.errors.UnavailableError(None, None, "cancelled by this process"))
    line = str(lost_worker(err, 4, "run/checkpoints/ckpt-4"))
    assert line.startswith(
        "lost contact with another worker at step 4 (UnavailableError: Collective ops is aborted by: recvmsg:"
        "Connection reset by peer); every worker stops."
    ), line
    assert line.endswith("newest checkpoint (run/checkpoints/ckpt-4)")
