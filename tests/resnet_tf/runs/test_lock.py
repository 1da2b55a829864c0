"""Tests of the run lock: one trainer per run folder, released even by a killed process."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import train
from resnet_tf.console import files
from resnet_tf.console.errors import OutputError
from resnet_tf.runs.lock import LOCK_OBJECT, TAKEN_OVER_STATUS, HeartbeatLock, RunLocked, run_lock
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


def test_lock_object_in_a_store_refuses_while_its_heartbeat_is_fresh_and_is_taken_over_when_stale():
    logdir = "ram://lock-test/run"
    first = HeartbeatLock(logdir, heartbeat=0.1, stale_after=1.0, settle=0.0)
    with first:
        held = first.read()
        assert held["token"] == first.token and held["owner"] == first.owner
        time.sleep(0.35)
        assert first.read()["heartbeat"] > held["heartbeat"]  # renewed while held
        with pytest.raises(RunLocked, match=f"in use by {first.owner}.*taken over after 1 s"):
            with HeartbeatLock(logdir, heartbeat=0.1, stale_after=1.0, settle=0.0):
                pass
    assert first.read() is None  # released: the object is gone
    files.write_atomic(
        f"{logdir}/{LOCK_OBJECT}",
        json.dumps(  # a holder that crashed 5 s ago
            {"owner": "host-a pid 1", "token": "dead", "heartbeat": time.time() - 5}
        ),
    )
    with logged("resnet_tf") as messages, HeartbeatLock(logdir, heartbeat=0.1, stale_after=1.0, settle=0.0) as taker:
        assert taker.read()["token"] == taker.token
    assert any("taking over the lock of host-a pid 1" in m for m in messages)


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
