"""What the logits mean: the loss of each example and the class probabilities, for each kind of output the
family is trained with, one registered entry each: ``softmax`` over the classes, or ``sigmoid``, one per class
(the TF1 original's choice, which it found better on classes that differ only slightly). TensorFlow is
imported when a loss is computed, so ``--help`` lists the kinds without it. A new kind is one function under
:func:`register_loss` returning a :class:`Loss`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from resnet_tf.console.registry import Registry


@dataclasses.dataclass(frozen=True)
class Loss:
    """A kind of output: its description, the loss of every example from soft ``targets`` ``[N, C]`` and float32
    ``logits`` (``per_example(targets, logits)``), and the class probabilities of logits."""

    description: str
    per_example: Callable
    probabilities: Callable


LOSSES: Registry[Loss] = Registry("loss")
register_loss = LOSSES.register


def loss_names() -> tuple[str, ...]:
    """The names ``--loss`` takes."""
    return LOSSES.names()


def per_example_loss(labels, logits, num_classes: int, kind: str = "softmax", label_smoothing: float = 0.0):
    """Loss of every example of integer ``labels``: the ``kind``'s loss of their one-hot targets."""
    import tensorflow as tf

    return target_loss(tf.one_hot(labels, num_classes, dtype=tf.float32), logits, kind, label_smoothing)


def target_loss(targets, logits, kind: str = "softmax", label_smoothing: float = 0.0):
    """:func:`per_example_loss` of soft ``targets`` ``[N, C]`` (rows summing to 1, as mixed labels do)."""
    import tensorflow as tf

    entry = LOSSES.get(kind)
    if label_smoothing:
        targets = targets * (1.0 - label_smoothing) + label_smoothing / targets.shape[-1]
    return entry.per_example(targets, tf.cast(logits, tf.float32))


def probabilities(logits, loss: str = "softmax"):
    """Class probabilities from logits, as the ``loss`` the model was trained with reads them."""
    return LOSSES.get(loss).probabilities(logits)


def _softmax_loss(targets, logits):
    import tensorflow as tf

    return tf.nn.softmax_cross_entropy_with_logits(labels=targets, logits=logits)


def _sigmoid_loss(targets, logits):
    import tensorflow as tf

    return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits), axis=-1)


def _softmax(logits):
    import tensorflow as tf

    return tf.nn.softmax(logits, axis=-1)


def _sigmoid(logits):
    import tensorflow as tf

    return tf.nn.sigmoid(logits)


@register_loss
def softmax() -> Loss:
    return Loss("softmax cross-entropy over the classes", _softmax_loss, _softmax)


@register_loss
def sigmoid() -> Loss:
    return Loss("a sigmoid cross-entropy per class, summed (the TF1 original)", _sigmoid_loss, _sigmoid)
