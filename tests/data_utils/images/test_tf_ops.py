"""Tests of the decoding contract in TensorFlow ops against the OpenCV implementation: decode, EXIF
orientation, every kind of image, centre crop and both resizes."""

import os

import cv2
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from data_utils.images.opencv import center_crop, decode_image, resize
from data_utils.images.tf_ops import (
    crop_like_training,
    decode_like_training,
    resize_like_training,
)
from tests.helpers import (
    contract_cases,
    photo_like,
    quadrants_bgr,
    with_exif_orientation,
)


@pytest.mark.parametrize(
    "shape,size,tolerance", [((120, 90), 32, 1.0), ((20, 28), 32, 0.0), ((48, 64), 64, 0.0), ((32, 32), 32, 0.0)]
)
def test_resize_follows_opencv(shape, size, tolerance):
    image = photo_like(*shape)
    ours = resize_like_training(tf.constant(image), size).numpy()
    theirs = resize(image, size)
    assert ours.shape == (size, size, 3) and ours.dtype == np.uint8
    assert np.abs(ours.astype(int) - theirs.astype(int)).mean() <= tolerance


@pytest.mark.parametrize("shape,size", [((120, 90), 32), ((20, 28), 32)])
def test_cubic_resize_follows_opencv_when_shrinking_too(shape, size):
    image = photo_like(*shape)
    ours = resize_like_training(tf.constant(image), size, "cubic").numpy().astype(int)
    assert np.abs(ours - resize(image, size, "cubic").astype(int)).max() <= 1


def test_decode_gives_rgb_like_the_training_decoder(tmp_path):
    rgb = photo_like(40, 40)
    path = str(tmp_path / "x.png")
    cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    with open(path, "rb") as f:
        ours = decode_like_training(tf.constant(f.read()), 40).numpy()
    np.testing.assert_array_equal(ours, resize(decode_image(path), 40))
    gray = str(tmp_path / "g.png")
    cv2.imwrite(gray, rgb[..., 0])
    with open(gray, "rb") as f:
        decoded = decode_like_training(tf.constant(f.read()), 40).numpy()
    assert (decoded[..., 0] == decoded[..., 1]).all() and (decoded[..., 1] == decoded[..., 2]).all()


def test_jpeg_pixels_equal_opencvs(demo_data):
    folder = os.path.dirname(demo_data[1])
    for rel in [p for p in pd.read_csv(demo_data[1])["path"] if p.endswith(".jpg")][:10]:
        path = os.path.join(folder, rel)
        with open(path, "rb") as f:
            ours = decode_like_training(tf.constant(f.read()), 32).numpy()
        np.testing.assert_array_equal(ours, decode_image(path))  # demo images are 32 px: no resize


@pytest.mark.parametrize("orientation", [1, 3, 6, 7])
def test_serving_decodes_exif_jpegs_like_the_pipeline(tmp_path, orientation):
    data = with_exif_orientation(cv2.imencode(".jpg", quadrants_bgr())[1].tobytes(), orientation)
    path = tmp_path / "tagged.jpg"
    path.write_bytes(data)
    ours = decode_like_training(tf.constant(data), 48).numpy().astype(int)
    expected = resize(decode_image(str(path)), 48).astype(int)
    assert np.abs(ours - expected).max() <= 1  # OpenCV's fixed-point cubic rounds a few values the other way


def test_serving_decodes_every_kind_of_the_contract_like_the_pipeline(tmp_path):
    for name, data in contract_cases(photo_like(20, 30)).items():
        (tmp_path / name).write_bytes(data)
        ours = decode_like_training(tf.constant(data), 32).numpy().astype(int)
        expected = resize(decode_image(str(tmp_path / name)), 32).astype(int)
        # TensorFlow's CMYK -> RGB rounds one level below OpenCV's; OpenCV's fixed-point cubic rounds by 1.
        assert np.abs(ours - expected).max() <= (2 if name.startswith("cmyk") else 1), name


@pytest.mark.parametrize("shape", [(120, 90), (33, 47), (8, 8), (1, 5)])
def test_centre_crop_follows_the_pipeline(shape):
    image = photo_like(*shape)
    for fraction in (0.875, 0.5, 1.0):
        np.testing.assert_array_equal(
            crop_like_training(tf.constant(image), fraction).numpy(), center_crop(image, fraction)
        )
    h, w = center_crop(image, 0.875).shape[:2]
    assert (h, w) == (max(1, round(shape[0] * 0.875)), max(1, round(shape[1] * 0.875)))
