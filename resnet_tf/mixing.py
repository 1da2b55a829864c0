"""Batch-level augmentation: images of a training batch mixed with each other, and their labels with them
(soft labels), each kind one registered entry, without TensorFlow until a step is built.

- ``mixup`` (Zhang et al. 2018): every image ``lam * x + (1 - lam) * x[perm]``;
- ``cutmix`` (Yun et al. 2019): a box of ``1 - lam`` of the area pasted from ``x[perm]``, ``lam`` then the
  share of the image left;

with ``lam`` drawn from Beta(alpha, alpha) once per batch and ``perm`` a random permutation of the batch, both
from the run's seed and the step (a resumed run mixes as the interrupted one would have). The targets are
``lam * onehot(y) + (1 - lam) * onehot(y[perm])``. A new kind is one function under
:func:`register_batch_augment` returning a :class:`BatchAugment`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from resnet_tf.console.registry import Registry

# mix(images float [N, H, W, C], partners (the same batch permuted), lam scalar, seed [2]) -> (mixed images,
# lam as applied)
Mix = Callable[..., tuple]


@dataclasses.dataclass(frozen=True)
class BatchAugment:
    """A kind of batch mixing: its one-line description, the Beta distribution's default ``alpha``, and the
    function that mixes (None: no mixing)."""

    description: str
    alpha: float
    mix: Mix | None


BATCH_AUGMENTS: Registry[BatchAugment] = Registry("batch augmentation")
register_batch_augment = BATCH_AUGMENTS.register


def batch_augment_names() -> tuple[str, ...]:
    """The names ``--batch-augment`` takes."""
    return BATCH_AUGMENTS.names()


def _mixup(images, partners, lam, seed):
    return images * lam + partners * (1.0 - lam), lam


def _cutmix(images, partners, lam, seed):
    import tensorflow as tf

    height, width = tf.shape(images)[1], tf.shape(images)[2]
    side = tf.sqrt(1.0 - lam)  # the box's sides, as fractions of the image's: its area is 1 - lam
    box_h = tf.cast(tf.round(side * tf.cast(height, tf.float32)), tf.int32)
    box_w = tf.cast(tf.round(side * tf.cast(width, tf.float32)), tf.int32)
    centre = tf.random.stateless_uniform([2], seed=seed + [0, 7], minval=0.0, maxval=1.0)
    cy = tf.cast(centre[0] * tf.cast(height, tf.float32), tf.int32)
    cx = tf.cast(centre[1] * tf.cast(width, tf.float32), tf.int32)
    top, bottom = tf.maximum(cy - box_h // 2, 0), tf.minimum(cy + box_h - box_h // 2, height)
    left, right = tf.maximum(cx - box_w // 2, 0), tf.minimum(cx + box_w - box_w // 2, width)
    rows, cols = tf.range(height)[:, None], tf.range(width)[None, :]
    inside = (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)
    mask = tf.cast(inside, images.dtype)[None, :, :, None]
    pasted = tf.cast((bottom - top) * (right - left), tf.float32) / tf.cast(height * width, tf.float32)
    return images * (1.0 - mask) + partners * mask, 1.0 - pasted


def mix_batch(name: str, images, labels, num_classes: int, alpha: float | None, seed):
    """``(images, targets)`` of a training batch mixed by the registered kind ``name`` (``targets``: soft
    labels ``[N, num_classes]``); ``alpha`` None takes the kind's own; ``seed``: an integer tensor ``[2]``."""
    import tensorflow as tf

    seed = tf.convert_to_tensor(seed, tf.int64)  # a tensor: seed + [0, k] is then a second stream, not a list
    targets = tf.one_hot(labels, num_classes, dtype=tf.float32)
    entry = BATCH_AUGMENTS.get(name)
    if entry.mix is None:
        return images, targets
    a = tf.constant(entry.alpha if alpha is None else alpha, tf.float32)
    g1 = tf.random.stateless_gamma([], seed=seed + [0, 1], alpha=a)
    g2 = tf.random.stateless_gamma([], seed=seed + [0, 2], alpha=a)
    order = tf.argsort(tf.random.stateless_uniform([tf.shape(images)[0]], seed=seed + [0, 3]))  # each one's partner
    mixed, lam = entry.mix(images, tf.gather(images, order), g1 / (g1 + g2), seed)
    return mixed, targets * lam + tf.gather(targets, order) * (1.0 - lam)


@register_batch_augment
def none() -> BatchAugment:
    return BatchAugment("no mixing", 0.0, None)


@register_batch_augment
def mixup() -> BatchAugment:
    return BatchAugment("each image blended with another of the batch, labels alike (alpha 0.2)", 0.2, _mixup)


@register_batch_augment
def cutmix() -> BatchAugment:
    return BatchAugment("a box pasted from another image of the batch, labels by area (alpha 1.0)", 1.0, _cutmix)
