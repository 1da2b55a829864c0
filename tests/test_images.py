"""Tests of decoding, colour conversion, resizing and normalization."""

import cv2
import numpy as np
import pytest
import tensorflow as tf

from data_utils.images import CAFFE_MEAN_BGR, IMAGENET_MEAN_RGB, IMAGENET_STD_RGB, decode_image, normalize, resize


@pytest.mark.parametrize("name,image", [
    ("colour.jpg", np.full((20, 30, 3), (255, 0, 0), np.uint8)),            # pure blue in BGR
    ("gray.png", np.full((20, 30), 77, np.uint8)),
    ("rgba.png", np.dstack([np.full((20, 30, 3), (255, 0, 0), np.uint8), np.full((20, 30), 128, np.uint8)])),
    ("deep.png", np.full((20, 30, 3), (65535, 0, 0), np.uint16)),
])
def test_every_format_becomes_rgb8(tmp_path, name, image):
    path = str(tmp_path / name)
    assert cv2.imwrite(path, image)
    decoded = decode_image(path)
    assert decoded.shape == (20, 30, 3) and decoded.dtype == np.uint8
    if name == "gray.png":
        assert (decoded == 77).all()
    else:  # blue on disk must come out as blue in RGB: the last channel
        assert decoded[..., 2].min() > 240 and decoded[..., 0].max() < 15


def test_decode_failure_names_the_path(tmp_path):
    path = tmp_path / "fake.jpg"
    path.write_text("hello")
    with pytest.raises(ValueError, match="fake.jpg"):
        decode_image(str(path))
    with pytest.raises(ValueError, match="cannot read"):
        decode_image(str(tmp_path / "absent.jpg"))


def test_resize_shrinks_with_area_and_enlarges_with_cubic():
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, ::2] = 255
    small = resize(stripes, 32)
    assert small.shape == (32, 32, 3) and abs(int(small.mean()) - 127) <= 1 and small.std() < 1  # averaged
    big = resize(np.arange(16, dtype=np.uint8).reshape(4, 4, 1).repeat(3, 2) * 16, 8)
    np.testing.assert_array_equal(big, cv2.resize(big, (8, 8), interpolation=cv2.INTER_CUBIC) * 0 + big)
    assert big.shape == (8, 8, 3)


def test_normalizations():
    white = tf.fill([1, 1, 1, 3], tf.constant(255, tf.uint8))
    np.testing.assert_allclose(normalize(white).numpy().ravel(),
                               (1 - np.array(IMAGENET_MEAN_RGB)) / np.array(IMAGENET_STD_RGB), rtol=1e-6)
    rgb = tf.constant([[[[10, 20, 30]]]], tf.uint8)
    np.testing.assert_allclose(normalize(rgb, "caffe").numpy().ravel(),
                               np.array([30, 20, 10]) - np.array(CAFFE_MEAN_BGR), rtol=1e-6)
    assert normalize(rgb, dtype=tf.bfloat16).dtype == tf.bfloat16
    with pytest.raises(ValueError):
        normalize(rgb, "bgr")
