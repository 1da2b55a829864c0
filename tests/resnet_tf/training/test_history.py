"""Tests of history.csv: one row per validation, appended across resumes, rows past the resume point dropped."""

import os

import pandas as pd
import pytest

from resnet_tf.training.history import COLUMNS, History, HistoryWriteError
from tests.helpers import scalars, tensor_values


def row(step: int) -> dict:
    return {
        "step": step,
        "epoch": step / 4,
        "train_loss": 1.0 / step,
        "train_accuracy": 0.5,
        "val_loss": 2.0,
        "val_top1": 0.25,
        "val_top5": 1.0,
        "learning_rate": 0.1,
    }


def test_rows_are_appended_and_a_resume_drops_the_rows_after_its_step(tmp_path):
    history = History(str(tmp_path))
    history.resume_at(0)  # nothing yet: nothing written
    assert not os.path.exists(history.path)
    for step in (4, 8, 12):
        history.append(row(step))
    history.resume_at(8)  # the checkpoint of step 12 was lost: its validation will be made again
    history.append(row(12))
    table = pd.read_csv(history.path)
    assert tuple(table.columns) == COLUMNS and table["step"].tolist() == [4, 8, 12]
    assert table["train_loss"].tolist() == pytest.approx([0.25, 0.125, 1 / 12], rel=1e-5)


def test_an_unwritable_history_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(HistoryWriteError, match="cannot write .*history.csv"):
        History(str(blocker)).append(row(1))


def test_history_has_a_row_per_validation(trained_run):
    history = pd.read_csv(trained_run / "history.csv")
    assert list(history.columns) == [
        "step",
        "epoch",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_top1",
        "val_top5",
        "learning_rate",
        "time",
    ]
    assert history["step"].tolist() == [6, 8] and history["epoch"].tolist() == pytest.approx([1.0, 8 / 6], abs=1e-5)
    val = scalars(str(trained_run / "val"))
    for column, tag in (("val_loss", "loss"), ("val_top1", "accuracy"), ("val_top5", "top5_accuracy")):
        assert history[column].tolist() == pytest.approx([v for _, v in tensor_values(val, tag)], rel=1e-5)
    # the training columns cover the steps since the previous validation: here the mean of the logged intervals
    logged = dict(tensor_values(scalars(str(trained_run / "train")), "loss"))
    assert history["train_loss"][1] == pytest.approx(logged[8], rel=1e-5)  # steps 7-8: one log interval (2 steps)
    assert history["learning_rate"].tolist() == pytest.approx(
        [v for s, v in tensor_values(scalars(str(trained_run / "train")), "learning_rate") if s in (6, 8)], rel=1e-5
    )
    assert pd.to_datetime(history["time"]).is_monotonic_increasing
