"""Tests of what the logits mean: each loss as defined, probabilities never fed to the loss."""

import numpy as np
import pytest
import tensorflow as tf

from resnet_tf.losses import per_example_loss, probabilities


def test_losses_match_their_definitions():
    logits = tf.constant([[2.0, -1.0, 0.5]])
    labels = tf.constant([0])
    softmax = -np.log(np.exp(2.0) / np.exp([2.0, -1.0, 0.5]).sum())
    np.testing.assert_allclose(per_example_loss(labels, logits, 3).numpy(), [softmax], rtol=1e-5)
    sig = lambda z, t: np.log1p(np.exp(-z)) if t else np.log1p(np.exp(z))
    expected = sig(2.0, 1) + sig(-1.0, 0) + sig(0.5, 0)
    np.testing.assert_allclose(per_example_loss(labels, logits, 3, "sigmoid").numpy(), [expected], rtol=1e-5)
    smoothed = per_example_loss(labels, logits, 3, label_smoothing=0.3).numpy()
    assert smoothed[0] > softmax


def test_probabilities_are_separate_from_logits():
    logits = tf.constant([[2.0, 0.0, -1.0]])
    np.testing.assert_allclose(probabilities(logits).numpy().sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(probabilities(logits, "sigmoid").numpy(), 1 / (1 + np.exp(-logits.numpy())), rtol=1e-6)
    with pytest.raises(ValueError, match="unknown loss 'relu'; registered: softmax, sigmoid"):
        probabilities(logits, "relu")
