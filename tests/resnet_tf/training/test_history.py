"""Tests of history.csv: one row per validation, appended across resumes, rows past the resume point dropped."""

import os

import pandas as pd
import pytest

from resnet_tf.training.history import COLUMNS, History, HistoryWriteError


def row(step: int) -> dict:
    return {"step": step, "epoch": step / 4, "train_loss": 1.0 / step, "train_accuracy": 0.5, "val_loss": 2.0,
            "val_top1": 0.25, "val_top5": 1.0, "learning_rate": 0.1}


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
