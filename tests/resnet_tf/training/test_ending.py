"""Tests of how a run ends: the exit status of each ending, and when early stopping is due."""

import signal
import types

from resnet_tf.runs.config import TrainConfig
from resnet_tf.training.ending import (
    COMPLETED,
    EARLY_STOP,
    PEER_SIGNALLED,
    SIGNALLED,
    Ending,
    early_stop_due,
    exit_status,
)


def test_each_ending_gives_the_status_a_shell_reports():
    assert exit_status(Ending(COMPLETED, 10)) == exit_status(Ending(EARLY_STOP, 4)) == 0
    assert exit_status(Ending(SIGNALLED, 3, signal.SIGINT)) == 130
    assert exit_status(Ending(SIGNALLED, 3, signal.SIGTERM)) == 143
    assert exit_status(Ending(PEER_SIGNALLED, 3)) == 143  # stopped with another worker's signal: as SIGTERM


def test_early_stopping_is_due_after_patience_validations_without_a_better_one():
    def run(patience, stale):
        cfg = TrainConfig.from_options(early_stop_patience=patience)
        state = types.SimpleNamespace(stale_validations=stale)
        return types.SimpleNamespace(cfg=cfg, network=types.SimpleNamespace(state=state))

    assert [early_stop_due(run(3, stale)) for stale in (0, 2, 3, 4)] == [False, False, True, True]
    assert not early_stop_due(run(0, 100))  # 0: never
