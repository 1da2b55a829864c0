"""Tests that every data option's name is implemented where it is used: each normalization by the scaling,
each resize by both decoders, each augmentation strength by the augmentation."""

import numpy as np
import pytest
import tensorflow as tf

from data_utils.augment import augment, augmentation_names, example_rng
from data_utils.choices import RESIZES
from data_utils.images.normalization import normalization_names, normalize
from data_utils.images.opencv import resize
from data_utils.images.tf_ops import resize_like_training

IMAGE = np.random.default_rng(0).integers(0, 256, (40, 30, 3), dtype=np.uint8)


@pytest.mark.parametrize("mode", normalization_names())
def test_every_normalization_is_a_distinct_scaling(mode):
    x = normalize(tf.constant(IMAGE[None]), mode)
    assert x.shape == (1, 40, 30, 3) and x.dtype == tf.float32
    others = [normalize(tf.constant(IMAGE[None]), m).numpy() for m in normalization_names() if m != mode]
    assert all(not np.allclose(x.numpy(), other) for other in others)


@pytest.mark.parametrize("method", RESIZES)
def test_every_resize_is_implemented_by_both_decoders(method):
    for size in (16, 64):  # shrinking and enlarging
        ours = resize(IMAGE, size, method)
        assert ours.shape == (size, size, 3)
        served = resize_like_training(tf.constant(IMAGE), size, method).numpy()
        assert np.abs(served.astype(int) - ours.astype(int)).max() <= 1


@pytest.mark.parametrize("strength", augmentation_names())
def test_every_augmentation_strength_gives_an_image_of_the_size(strength):
    out = augment(IMAGE, 32, example_rng(0, 0, 0), strength=strength)
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
