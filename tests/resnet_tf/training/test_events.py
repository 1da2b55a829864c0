"""Tests of the run's TensorBoard event files: what is written, and a failed write reported as such."""

import pytest
import tensorflow as tf

from tests.helpers import scalars, tensor_values
from resnet_tf.console.errors import UserError
from resnet_tf.training.events import EventLog, EventWriteError


def test_scalars_land_in_their_split(tmp_path):
    events = EventLog(str(tmp_path))
    events.scalars("val", 7, {"accuracy": 0.25, "loss": 1.5})
    with events.writing("train", 3):
        tf.summary.scalar("learning_rate", 0.1)
    events.flush()
    assert tensor_values(scalars(str(tmp_path / "val")), "accuracy") == [(7, 0.25)]
    assert tensor_values(scalars(str(tmp_path / "train")), "learning_rate") == [(3, pytest.approx(0.1))]


def test_unwritable_event_folder_is_a_clear_error(tmp_path):
    (tmp_path / "train").write_text("a file where the events folder should be")
    with pytest.raises(EventWriteError, match="could not write TensorBoard events to .*train.*not writable") as info:
        EventLog(str(tmp_path))
    assert isinstance(info.value, UserError)
