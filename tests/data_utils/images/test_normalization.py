"""Tests of the pixels-to-input scaling: each normalization as it is defined."""

import numpy as np
import pytest
import tensorflow as tf

from data_utils.images.normalization import (
    CAFFE_MEAN_BGR,
    IMAGENET_MEAN_RGB,
    IMAGENET_STD_RGB,
    normalize,
)


def test_normalizations():
    white = tf.fill([1, 1, 1, 3], tf.constant(255, tf.uint8))
    np.testing.assert_allclose(
        normalize(white).numpy().ravel(), (1 - np.array(IMAGENET_MEAN_RGB)) / np.array(IMAGENET_STD_RGB), rtol=1e-6
    )
    rgb = tf.constant([[[[10, 20, 30]]]], tf.uint8)
    np.testing.assert_allclose(
        normalize(rgb, "caffe").numpy().ravel(), np.array([30, 20, 10]) - np.array(CAFFE_MEAN_BGR), rtol=1e-6
    )
    # What the TF1 original fed its network: Keras' preprocess_input given cv2.imread's BGR array.
    bgr = np.array([[[30, 20, 10]]], np.float32)
    np.testing.assert_allclose(
        normalize(rgb, "rgb_minus_bgr_means").numpy()[0],
        tf.keras.applications.resnet50.preprocess_input(bgr),
        rtol=1e-6,
    )
    assert normalize(rgb, dtype=tf.bfloat16).dtype == tf.bfloat16
    with pytest.raises(ValueError):
        normalize(rgb, "bgr")
