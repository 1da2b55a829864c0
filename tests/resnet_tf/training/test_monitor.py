"""Tests of what the training loop watches: step outputs read in one go, NaN/Inf steps, bad images."""

import numpy as np
import tensorflow as tf

from resnet_tf.training.events import EventLog
from resnet_tf.training.monitor import Meter
from tests.helpers import scalars, tensor_values


def step_outputs(loss: float, correct: float, counted: float, finite: bool) -> tuple:
    return tf.constant(loss), tf.constant(correct), tf.constant(counted), tf.constant(finite)


def test_settle_reads_pending_steps_and_reports_problems():
    meter = Meter()
    meter.add(
        1,
        step_outputs(2.0, 3, 4, True),
        (tf.constant([True, True]), tf.constant([True, True])),
        (tf.constant([0, 1]), tf.constant([2, 3])),
    )
    meter.add(
        2,
        step_outputs(np.nan, 0, 3, False),
        (tf.constant([True, False]), tf.constant([True, True])),
        (tf.constant([4, 5]), tf.constant([6, 7])),
    )
    meter.add(
        3,
        step_outputs(1.0, 2, 3, True),
        (tf.constant([True, True]), tf.constant([False, True])),
        (tf.constant([8, 9]), tf.constant([10, 11])),
    )
    # counted over all workers: an image of another worker's share failed, none of this process's
    meter.add(
        4,
        step_outputs(1.0, 2, 3, True),
        (tf.constant([True, True]), tf.constant([True, True])),
        (tf.constant([12, 13]), tf.constant([14, 15])),
    )
    settled = meter.settle(global_batch=4)
    assert [n for n, _ in settled.nonfinite] == [2] and np.isnan(settled.nonfinite[0][1])
    assert [(n, rows.tolist()) for n, rows in settled.undecodable] == [(2, [5]), (3, [10]), (4, [])]
    assert meter.sums.tolist() == [4.0, 7.0, 10.0] and meter.finite_steps == 3  # the NaN step left out
    assert meter.pending == [] and meter.settle(4).nonfinite == []


def test_write_logs_the_interval_averages(tmp_path):
    meter = Meter()
    for n in (1, 2):
        meter.add(n, step_outputs(float(n), 4, 8, True), (tf.constant([True] * 8),), (tf.range(8),))
    meter.settle(8)
    events = EventLog(str(tmp_path))
    values = meter.write(events, 2, lr=0.5, batch_size=8, log_nonfinite=True)
    events.flush()
    assert values["loss"] == 1.5 and values["accuracy"] == 0.5 and values["images_per_sec"] > 0
    read = scalars(str(tmp_path / "train"))
    assert tensor_values(read, "loss") == [(2, 1.5)] and tensor_values(read, "learning_rate") == [(2, 0.5)]
    assert tensor_values(read, "skipped_nonfinite_steps") == [(2, 0.0)]
    assert meter.sums.tolist() == [0, 0, 0]  # a new interval


def test_paused_time_is_left_out_of_images_per_second(tmp_path):
    meter = Meter()
    meter.add(1, step_outputs(1.0, 1, 8, True), (tf.constant([True] * 8),), (tf.range(8),))
    meter.settle(8)
    tick = meter.tick
    with meter.paused():
        sum(range(200_000))  # stands for a validation
    assert meter.tick > tick
