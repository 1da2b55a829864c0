"""Tests of one task of a sequence: the head grown with the earlier classes' weights kept, what a task trains on
(written once), and the scoring of tasks whose classes the head does not have yet."""

import csv

import numpy as np
import pytest
import tensorflow as tf

from resnet_tf.lifelong.tasks import read_sequence, read_tasks
from resnet_tf.model import ResNet
from resnet_tf.runs.builders import read_table
from resnet_tf.runs.config import TrainConfig
from resnet_tf.runs.placement import local_placement
from resnet_tf.training.task_run import compose, grow, score_tasks, task_config


def tiny(num_classes, seed):
    return ResNet("resnet10", num_classes, width=4, seed=seed, stem="standard")


def test_a_grown_head_keeps_the_earlier_classes_weights_and_outputs():
    before, after = tiny(2, seed=1), tiny(5, seed=2)
    fresh = after.logits.w.numpy()
    grow(after, before)
    np.testing.assert_array_equal(after.logits.w.numpy()[:, :2], before.logits.w.numpy())
    np.testing.assert_array_equal(after.logits.w.numpy()[:, 2:], fresh[:, 2:])  # new classes: their own start
    np.testing.assert_array_equal(after.logits.b.numpy()[:2], before.logits.b.numpy())
    images = tf.random.stateless_uniform([3, 32, 32, 3], [0, 1])
    np.testing.assert_allclose(after(images)[:, :2], before(images), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="cannot continue"):
        grow(tiny(2, 0), ResNet("resnet10", 2, width=8, seed=0, stem="standard"))


@pytest.fixture
def sequence_cfg(class_tasks_csv, tmp_path):
    tasks = class_tasks_csv
    cfg = TrainConfig.from_options(
        tasks=tasks,
        logdir=str(tmp_path),
        arch="resnet10",
        width=4,
        stem="standard",
        image_size=32,
        num_classes=6,
        lifelong_strategy="joint",
        tta="none",  # settled, as a run's is
    )
    sequence = read_sequence(read_tasks(tasks), lambda path, mapping: read_table(cfg, path, mapping=mapping))
    return cfg, sequence


def test_what_a_task_trains_on_is_written_once_and_read_back(sequence_cfg):
    cfg, sequence = sequence_cfg
    task_cfg = task_config(cfg, sequence, 1)
    assert task_cfg.network.num_classes == 4 and task_cfg.run.logdir.endswith("task-02-classes_3-4")
    assert compose(cfg, task_cfg, sequence, 1) == 0
    rows = list(csv.reader(open(task_cfg.data.train_csv)))[1:]
    assert len(rows) == len(sequence.tasks[0].train) + len(sequence.tasks[1].train)  # joint: both tasks
    assert compose(cfg.replace(lifelong_strategy="naive"), task_cfg, sequence, 1) == 0
    assert len(list(csv.reader(open(task_cfg.data.train_csv)))) == len(rows) + 1  # the first start's, kept


def test_classes_not_in_the_head_yet_count_as_wrong(sequence_cfg):
    cfg, sequence = sequence_cfg
    model = tiny(2, seed=0)
    model.logits.b.assign([10.0, -10.0])  # always the first class
    scores = score_tasks(model, cfg, sequence, local_placement())
    first = sequence.tasks[0].val.labels
    assert scores.tolist() == [pytest.approx(float(np.mean(first == 0))), 0.0, 0.0]
