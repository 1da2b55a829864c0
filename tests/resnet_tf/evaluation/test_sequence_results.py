"""Tests of evaluate.py's report of a sequence of tasks."""

import argparse

import numpy as np
import pytest

from resnet_tf.console.errors import ConfigError
from resnet_tf.evaluation.sequence_results import last_task_folder, report_sequence, task_arguments
from resnet_tf.lifelong.metrics import AccuracyRecord
from tests.helpers import logged


def test_the_matrix_and_the_figures_after_the_last_task_are_printed(tmp_path):
    AccuracyRecord(
        ["day", "night", "fog"], np.array([0.1, 0.1, 0.1]), [np.array([0.9, 0.2, 0.1]), np.array([0.5, 0.8, 0.3])]
    ).save(str(tmp_path))
    with logged("resnet_tf.evaluation.sequence_results") as messages:
        record = report_sequence(str(tmp_path))
    text = "\n".join(messages)
    assert "  night             0.500   0.800   0.300" in text
    assert "after task 2/3 (night): ACC 0.6500, BWT -0.4000, FWT +0.1000" in text
    assert last_task_folder(str(tmp_path), record) == str(tmp_path / "task-02-night")


def test_a_sequence_with_no_task_finished_is_an_error(tmp_path):
    AccuracyRecord(["a", "b"], np.zeros(2)).save(str(tmp_path))
    with pytest.raises(ConfigError, match="no task finished yet"):
        report_sequence(str(tmp_path))


def test_the_last_tasks_network_is_scored_at_its_end_unless_another_checkpoint_is_named():
    args = argparse.Namespace(logdir="seq", checkpoint=None, csv="x.csv")
    assert vars(task_arguments(args, "seq/task-03")) == {
        "logdir": "seq/task-03",
        "checkpoint": "latest",
        "csv": "x.csv",
    }
    assert task_arguments(argparse.Namespace(logdir="s", checkpoint="best"), "t").checkpoint == "best"
