"""Tests of the registered strategies: what each task trains on."""

import numpy as np
import pytest

from resnet_tf.lifelong.memory import Rows
from resnet_tf.lifelong.strategies import Replay, strategy, strategy_names

TASKS = [
    Rows([f"a{i}" for i in range(8)], np.array([0, 1] * 4, np.int32)),
    Rows([f"b{i}" for i in range(8)], np.array([2, 3] * 4, np.int32)),
    Rows([f"c{i}" for i in range(40)], np.array([4, 5] * 20, np.int32)),
]
REPLAY = Replay(per_class=2, ratio=0.5, seed=0)


def test_the_registry_holds_the_four_strategies_and_refuses_others():
    assert strategy_names() == ("naive", "joint", "replay", "lwf")
    with pytest.raises(ValueError, match="unknown lifelong strategy 'ewc'; registered: naive, joint"):
        strategy("ewc")


@pytest.mark.parametrize("name", ["naive", "lwf"])
def test_naive_and_lwf_train_on_the_task_alone(name):
    composition = strategy(name).compose(TASKS, 1, REPLAY)
    assert composition.rows == TASKS[1] and composition.memory is None
    assert strategy(name).distills == (name == "lwf")


def test_joint_trains_on_every_task_so_far():
    rows = strategy("joint").compose(TASKS, 1, REPLAY).rows
    assert rows.paths == TASKS[0].paths + TASKS[1].paths and rows.labels.tolist() == [0, 1] * 4 + [2, 3] * 4


def test_replay_lists_the_memory_of_earlier_tasks_at_its_share():
    composition = strategy("replay").compose(TASKS, 2, REPLAY)
    memory = composition.memory
    assert len(memory) == 8 and sorted(set(memory.labels.tolist())) == [0, 1, 2, 3]  # 2 of each earlier class
    rows = composition.rows
    assert rows.paths[:40] == TASKS[2].paths
    replayed = rows.paths[40:]
    assert replayed == memory.paths * 5 and len(replayed) / len(rows) == pytest.approx(0.5)
    first = strategy("replay").compose(TASKS, 0, REPLAY)  # nothing to replay yet
    assert first.rows.paths == TASKS[0].paths and len(first.memory) == 0
