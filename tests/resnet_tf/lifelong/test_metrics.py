"""Tests of the accuracy matrix's figures and its record."""

import numpy as np
import pytest

from resnet_tf.lifelong.metrics import MATRIX_FILE, AccuracyRecord, sequence_figures

# R[i][j]: top-1 on task j after task i; b: before any training.
R = np.array([[0.8, 0.3, 0.1], [0.5, 0.9, 0.4], [0.6, 0.7, 0.95]])
B = np.array([0.1, 0.2, 0.15])


def test_figures_after_each_task_match_the_formulas_computed_by_hand():
    assert sequence_figures(R, B, 0) == {"acc": pytest.approx(0.8), "bwt": None, "fwt": None}
    after_two = sequence_figures(R, B, 1)
    assert after_two["acc"] == pytest.approx((0.5 + 0.9) / 2)
    assert after_two["bwt"] == pytest.approx(0.5 - 0.8)
    assert after_two["fwt"] == pytest.approx(0.3 - 0.2)
    after_three = sequence_figures(R, B, 2)
    assert after_three["acc"] == pytest.approx((0.6 + 0.7 + 0.95) / 3)
    assert after_three["bwt"] == pytest.approx(((0.6 - 0.8) + (0.7 - 0.9)) / 2)
    assert after_three["fwt"] == pytest.approx(((0.3 - 0.2) + (0.4 - 0.15)) / 2)


def test_a_network_that_keeps_everything_has_no_backward_transfer():
    kept = np.array([[0.9, 0.0], [0.9, 0.8]])
    assert sequence_figures(kept, np.zeros(2), 1)["bwt"] == 0


def test_the_record_is_saved_and_read_back_row_by_row(tmp_path):
    record = AccuracyRecord(["a", "b", "c"], B, [R[0], R[1]])
    record.save(str(tmp_path))
    text = (tmp_path / MATRIX_FILE).read_text().splitlines()
    assert text[0] == "after,a,b,c" and text[1].startswith("before training,0.100000") and text[3].startswith("b,")
    again = AccuracyRecord.load(str(tmp_path))
    assert again.names == ["a", "b", "c"] and np.allclose(again.before, B) and np.allclose(again.matrix, R[:2])
    assert again.figures(1) == pytest.approx(sequence_figures(R, B, 1))
    assert "0.950" not in again.table() and "0.900" in again.table().splitlines()[3]


def test_a_record_of_other_tasks_is_refused_and_a_missing_one_is_empty(tmp_path):
    AccuracyRecord(["a", "b"], B[:2]).save(str(tmp_path))
    with pytest.raises(ValueError, match="records the tasks a, b, not a, c"):
        AccuracyRecord.load(str(tmp_path), ["a", "c"])
    empty = AccuracyRecord.load(str(tmp_path / "none"), ["x", "y"])
    assert empty.before is None and empty.rows == [] and empty.matrix.shape == (0, 2)
