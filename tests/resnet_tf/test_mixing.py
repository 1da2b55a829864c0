"""Tests of batch-level augmentation: mixup and CutMix images and soft labels, from the step's seed."""

import numpy as np
import pytest
import tensorflow as tf

from resnet_tf.losses import per_example_loss, target_loss
from resnet_tf.mixing import batch_augment_names, mix_batch

IMAGES = tf.constant(np.random.default_rng(0).normal(size=(6, 8, 8, 3)).astype(np.float32))
LABELS = tf.constant([0, 1, 2, 3, 0, 1])


def test_the_registered_kinds():
    assert batch_augment_names() == ("none", "mixup", "cutmix")


def test_no_mixing_keeps_the_batch_and_one_hot_targets():
    images, targets = mix_batch("none", IMAGES, LABELS, 4, None, [1, 2])
    assert np.array_equal(images, IMAGES) and np.array_equal(targets, np.eye(4)[LABELS.numpy()])


def test_mixup_blends_each_image_with_another_and_its_label_alike():
    images, targets = mix_batch("mixup", IMAGES, LABELS, 4, 0.4, [1, 2])
    targets = targets.numpy()
    assert np.allclose(targets.sum(1), 1.0)
    # the share of each image's own label is lam, the same for the whole batch
    own = targets[np.arange(6), LABELS.numpy()]
    x, mixed = IMAGES.numpy(), images.numpy()
    lam = next(lam for lam in np.unique(np.round(own, 6)) if lam > 0)
    for i in range(6):  # each row is lam * itself + (1 - lam) * some row of the batch
        residual = (mixed[i] - lam * x[i]) / (1 - lam)
        assert min(np.abs(residual - x[j]).max() for j in range(6)) < 1e-4


def test_cutmix_pastes_one_box_and_labels_by_its_area():
    images, targets = mix_batch("cutmix", IMAGES, LABELS, 4, 1.0, [3, 4])
    x, mixed, targets = IMAGES.numpy(), images.numpy(), targets.numpy()
    changed = np.any(mixed != x, axis=-1)  # [N, H, W]: pixels taken from the partner
    box = changed.any(0)  # one box for the whole batch
    rows, cols = np.flatnonzero(box.any(1)), np.flatnonzero(box.any(0))
    if box.any():
        assert box[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].all()  # a rectangle
    pasted = box.mean()
    assert 0 < pasted < 1
    for i in range(6):
        assert np.array_equal(mixed[i][~box], x[i][~box])  # outside the box: the image itself
        partner = [j for j in range(6) if np.array_equal(mixed[i][box], x[j][box])]
        assert partner  # inside: one image of the batch
        own = targets[i, LABELS[i]]  # its label's share: the area left, plus the box's if the partner's is the same
        same = LABELS[partner[0]] == LABELS[i]
        assert own == pytest.approx(1.0 if same else 1 - pasted) and targets[i].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("kind", ["mixup", "cutmix"])
def test_the_same_seed_mixes_the_same_way_and_another_differently(kind):
    first = mix_batch(kind, IMAGES, LABELS, 4, None, [5, 6])
    again = mix_batch(kind, IMAGES, LABELS, 4, None, [5, 6])
    other = mix_batch(kind, IMAGES, LABELS, 4, None, [5, 7])
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], other[1])


def test_the_soft_label_loss_is_the_one_hot_loss_for_one_hot_targets():
    logits = tf.constant(np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32))
    for kind in ("softmax", "sigmoid"):
        one_hot = tf.one_hot(LABELS, 4)
        assert np.allclose(target_loss(one_hot, logits, kind, 0.1), per_example_loss(LABELS, logits, 4, kind, 0.1))
    half = 0.5 * tf.one_hot(LABELS, 4) + 0.5 * tf.one_hot((LABELS + 1) % 4, 4)
    mixed = target_loss(half, logits)
    parts = 0.5 * per_example_loss(LABELS, logits, 4) + 0.5 * per_example_loss((LABELS + 1) % 4, logits, 4)
    assert np.allclose(mixed, parts, atol=1e-6)  # cross-entropy is linear in its targets
