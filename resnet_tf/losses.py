"""What the logits mean: the loss of each example and the class probabilities, for the two kinds of
output the family is trained with (``LOSSES``): softmax over classes, or a sigmoid per class (the TF1
original's choice, which it found better on classes that differ only slightly)."""

from __future__ import annotations

import tensorflow as tf

from resnet_tf.specs import LOSSES


def per_example_loss(
    labels: tf.Tensor, logits: tf.Tensor, num_classes: int, kind: str = "softmax", label_smoothing: float = 0.0
) -> tf.Tensor:
    """Loss of every example: softmax cross-entropy, or sigmoid cross-entropy summed over classes."""
    return target_loss(tf.one_hot(labels, num_classes, dtype=tf.float32), logits, kind, label_smoothing)


def target_loss(
    targets: tf.Tensor, logits: tf.Tensor, kind: str = "softmax", label_smoothing: float = 0.0
) -> tf.Tensor:
    """:func:`per_example_loss` of soft ``targets`` ``[N, C]`` (rows summing to 1, as mixed labels do)."""
    if label_smoothing:
        targets = targets * (1.0 - label_smoothing) + label_smoothing / targets.shape[-1]
    logits = tf.cast(logits, tf.float32)
    if kind == "softmax":
        return tf.nn.softmax_cross_entropy_with_logits(labels=targets, logits=logits)
    if kind == "sigmoid":
        return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits), axis=-1)
    raise ValueError(f"loss must be one of {LOSSES}, got {kind!r}")


def probabilities(logits: tf.Tensor, loss: str = "softmax") -> tf.Tensor:
    """Class probabilities from logits: softmax, or per-class sigmoid for a model trained with the
    sigmoid loss (the original's choice)."""
    if loss == "softmax":
        return tf.nn.softmax(logits, axis=-1)
    if loss == "sigmoid":
        return tf.nn.sigmoid(logits)
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
