"""Tests of the replay memory: reservoir sampling per class, and the share of replayed images."""

import numpy as np
import pytest

from resnet_tf.lifelong.memory import Rows, replay_repeats, reservoir


def stream(labels, prefix):
    return Rows([f"{prefix}{i}" for i in range(len(labels))], np.array(labels, np.int32))


def test_every_image_seen_is_equally_likely_to_be_kept_across_tasks():
    # one class seen in two tasks (6 then 9 images), 3 kept: each of the 15 is kept with probability 3/15
    tasks = [stream([0] * 6, "a"), stream([0] * 9, "b")]
    trials = 4000
    counts = {}
    for seed in range(trials):
        for path in reservoir(tasks, 3, seed).paths:
            counts[path] = counts.get(path, 0) + 1
    assert len(counts) == 15
    frequencies = np.array(list(counts.values())) / trials
    # binomial standard deviation sqrt(0.2 * 0.8 / 4000) = 0.0063: 5 of them either side
    assert np.all(np.abs(frequencies - 0.2) < 0.032), frequencies


def test_the_memory_keeps_at_most_its_size_per_class_and_every_image_of_a_small_class():
    tasks = [stream([0] * 10 + [1] * 2, "a"), stream([2] * 7, "b")]
    memory = reservoir(tasks, 4, seed=3)
    assert np.bincount(memory.labels).tolist() == [4, 2, 4]
    assert {"a10", "a11"} <= set(memory.paths)
    assert set(memory.paths) <= {f"a{i}" for i in range(12)} | {f"b{i}" for i in range(7)}


def test_the_memory_is_a_function_of_the_seed():
    tasks = [stream([0, 1] * 20, "a"), stream([0, 1] * 20, "b")]
    assert reservoir(tasks, 5, 1).paths == reservoir(tasks, 5, 1).paths
    assert reservoir(tasks, 5, 1).paths != reservoir(tasks, 5, 2).paths
    assert len(reservoir([], 5, 1)) == 0


@pytest.mark.parametrize(
    ("new", "memory", "ratio", "repeats"),
    [(1000, 100, 0.5, 10), (1000, 100, 0.2, 2), (100, 1000, 0.5, 1), (10, 0, 0.5, 0)],
)
def test_the_memory_is_listed_often_enough_to_make_up_its_share(new, memory, ratio, repeats):
    assert replay_repeats(new, memory, ratio) == repeats
