"""Tests of the run lock: one trainer per run folder, released even by a killed process."""

import time

import pytest

import train
from resnet_tf.console.errors import OutputError
from resnet_tf.runs.lock import RunLock, RunLocked
from tests.helpers import start_trainer, train_args


def test_lock_refuses_a_second_trainer_and_is_released(tmp_path):
    with RunLock(str(tmp_path)):
        with pytest.raises(RunLocked, match="in use by pid"):
            with RunLock(str(tmp_path)):
                pass
    with RunLock(str(tmp_path)):  # released on exit
        pass
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError, match="cannot use --logdir"):
        with RunLock(str(blocker / "run")):
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
