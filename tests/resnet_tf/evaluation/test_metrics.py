"""Tests of what predictions score: loss, top-k accuracy, the confusion matrix, per-class accuracy."""

import numpy as np
import pytest

from resnet_tf.evaluation.metrics import confusion_matrix, score, topk_correct

LOGITS = np.array(
    [
        [3.0, 1.0, 0.0, -1.0],  # predicts 0
        [0.0, 2.0, 1.0, 0.5],  # predicts 1, label 2 is second
        [5.0, 0.0, -1.0, -2.0],  # predicts 0, label 3 is last
        [0.0, 0.0, 0.0, 9.0],
    ]
)  # predicts 3
LABELS = np.array([0, 2, 3, 3])


def test_topk_correct():
    assert topk_correct(LOGITS, LABELS, 1).tolist() == [True, False, False, True]
    assert topk_correct(LOGITS, LABELS, 2).tolist() == [True, True, False, True]
    assert topk_correct(LOGITS, LABELS, 10).all()  # k above the class count means every class


def test_score_matches_hand_computed_values():
    metrics = score(LOGITS, LABELS, "softmax", 4)
    shifted = LOGITS - LOGITS.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected_loss = -log_probs[np.arange(4), LABELS].mean()
    assert metrics["loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert (metrics["top1"], metrics["top5"], metrics["num_examples"]) == (0.5, 1.0, 4)
    masked = score(LOGITS, LABELS, "softmax", 4, mask=np.array([True, False, False, True]))
    assert (masked["top1"], masked["num_examples"]) == (1.0, 2)


def test_confusion_matrix_counts_true_by_predicted():
    matrix = confusion_matrix(LABELS, LOGITS.argmax(1), 4)
    expected = np.zeros((4, 4), int)
    expected[0, 0] = expected[2, 1] = expected[3, 0] = expected[3, 3] = 1
    np.testing.assert_array_equal(matrix, expected)
