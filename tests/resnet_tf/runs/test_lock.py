"""Tests of the run lock: one trainer per run folder, released even by a killed process."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import train
from resnet_tf.console import files
from resnet_tf.console.errors import OutputError
from resnet_tf.runs.lock import (
    LOCK_OBJECT,
    TAKEN_OVER_STATUS,
    HeartbeatLock,
    RunLocked,
    process_space,
    run_lock,
)
from tests.helpers import ROOT, logged, start_trainer, train_args


def test_lock_refuses_a_second_trainer_and_is_released(tmp_path):
    with run_lock(str(tmp_path)), pytest.raises(RunLocked, match="in use by pid"), run_lock(str(tmp_path)):
        pass
    with run_lock(str(tmp_path)):  # released on exit
        pass
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError, match="cannot use --logdir"), run_lock(str(blocker / "run")):
        pass


@pytest.mark.slow
def test_second_trainer_on_the_same_logdir_refuses(demo_data, tmp_path, capsys):
    args = train_args(demo_data, tmp_path / "busy", "--max-steps", "100000", "--eval-every", "100000")
    first = start_trainer(args)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (tmp_path / "busy" / "train").is_dir():
            time.sleep(0.2)
        assert train.main(args) == 2
        assert "is in use by pid" in capsys.readouterr().err
    finally:
        first.kill()
        first.communicate(timeout=60)
    assert train.main([*args[:-4], "--max-steps", "2", "--eval-every", "100"]) == 0  # kill -9 left no stale lock


@pytest.fixture(params=["ram", "gs"])
def store_run(request) -> str:
    """A run folder in TensorFlow's in-memory file system or in a bucket of a real GCS server."""
    if request.param == "gs":
        request.getfixturevalue("gcs")
        return f"gs://test-bucket/lock-test-{time.monotonic_ns()}/run"
    return f"ram://lock-test-{time.monotonic_ns()}/run"


def test_lock_object_in_a_store_refuses_while_its_heartbeat_is_fresh_and_is_taken_over_when_stale(store_run):
    logdir = store_run
    first = HeartbeatLock(logdir, heartbeat=0.1, stale_after=3.0, settle=0.0)
    with first:
        held = first.read()
        assert held["token"] == first.token and held["owner"] == first.owner
        time.sleep(0.5)
        assert first.read()["heartbeat"] > held["heartbeat"]  # renewed while held
        with pytest.raises(RunLocked, match=f"in use by {first.owner}.*taken over after 3 s"):
            with HeartbeatLock(logdir, heartbeat=0.1, stale_after=3.0, settle=0.0):
                pass  # read while the first rewrites it every 0.1 s: a read of a half-rewritten object is retried
    assert first.read() is None  # released: the object is gone
    files.write_atomic(
        f"{logdir}/{LOCK_OBJECT}",
        json.dumps(  # a holder that crashed 30 s ago
            {"owner": "host-a pid 1", "token": "dead", "heartbeat": time.time() - 30}
        ),
    )
    with logged("resnet_tf") as messages, HeartbeatLock(logdir, heartbeat=0.1, stale_after=3.0, settle=0.0) as taker:
        assert taker.read()["token"] == taker.token
    assert any("taking over the lock of host-a pid 1" in m for m in messages)


def test_an_unreadable_lock_object_counts_as_held_until_it_is_stale(gcs):
    store_run = f"gs://test-bucket/lock-unreadable-{time.monotonic_ns()}/run"
    files.write_atomic(f"{store_run}/{LOCK_OBJECT}", '{"owner": "cut sho')
    with pytest.raises(RunLocked, match="another trainer \\(its lock object cannot be read\\)"):
        with HeartbeatLock(store_run, stale_after=60.0, settle=0.0):
            pass
    time.sleep(0.6)  # its modification time is its heartbeat
    with HeartbeatLock(store_run, stale_after=0.5, settle=0.0) as taker:
        assert taker.read()["token"] == taker.token


def test_the_lock_of_an_ended_process_of_this_machine_is_taken_over_at_once(store_run):
    """A run that a store's outage stopped could not delete its lock object: the rerun on the same machine takes
    it over without waiting the stale time; an owner in another process space (another machine or container)
    is waited for."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    held = {"owner": "vm pid 1", "token": "gone", "heartbeat": time.time(), "pid": int(ended.stdout)}
    files.write_atomic(f"{store_run}/{LOCK_OBJECT}", json.dumps({**held, "processes": "another machine"}))
    with pytest.raises(RunLocked, match="in use by vm pid 1"):
        with HeartbeatLock(store_run, settle=0.0):
            pass
    files.write_atomic(f"{store_run}/{LOCK_OBJECT}", json.dumps({**held, "processes": process_space()}))
    with logged("resnet_tf") as messages, HeartbeatLock(store_run, settle=0.0) as taker:
        assert taker.read()["token"] == taker.token
    assert any("taking over the lock of vm pid 1, a process of this machine that has ended" in m for m in messages)
    alive = {**held, "processes": process_space(), "pid": os.getpid()}  # this process: alive
    files.write_atomic(f"{store_run}/{LOCK_OBJECT}", json.dumps(alive))
    with pytest.raises(RunLocked), HeartbeatLock(store_run, settle=0.0):
        pass


def test_of_two_trainers_starting_together_on_a_bucket_exactly_one_gets_the_lock(gcs):
    """Both find no lock and write theirs; after the settle time each reads the object back: the later write
    is the one both see (a GCS server reads its writes at once), so one trainer holds and the other refuses."""
    logdir = f"gs://test-bucket/lock-race-{time.monotonic_ns()}/run"
    start, results = threading.Barrier(2), []

    def trainer():
        start.wait()
        try:
            with HeartbeatLock(logdir, heartbeat=60, settle=0.5) as lock:
                results.append(("held", lock.token))
                time.sleep(0.8)  # holds while the other reads back
        except RunLocked as refused:
            results.append(("refused", str(refused)))

    threads = [threading.Thread(target=trainer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(kind for kind, _ in results) == ["held", "refused"]
    assert files.exists(logdir) and not files.exists(f"{logdir}/{LOCK_OBJECT}")  # released by the holder


OWNER = """
import sys, time
from resnet_tf.runs.lock import HeartbeatLock
with HeartbeatLock(sys.argv[1], heartbeat=0.2, stale_after=1.0, settle=0.0):
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.mark.slow
def test_an_owner_that_stalled_past_the_stale_time_stops_without_writing_when_it_wakes(tmp_path):
    """A process stopped (SIGSTOP, as a long network outage would) loses its lock to a second trainer and,
    when it runs again, finds the lock taken and ends at once with TAKEN_OVER_STATUS."""
    logdir = str(tmp_path / "run")
    owner = subprocess.Popen([sys.executable, "-c", OWNER, logdir], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout.readline().strip() == "locked"
        os.kill(owner.pid, signal.SIGSTOP)
        time.sleep(1.5)
        with HeartbeatLock(logdir, heartbeat=0.2, stale_after=1.0, settle=0.0) as taker:
            os.kill(owner.pid, signal.SIGCONT)
            assert owner.wait(timeout=30) == TAKEN_OVER_STATUS
            assert taker.read()["token"] == taker.token  # the woken owner wrote nothing over it
    finally:
        owner.kill()
