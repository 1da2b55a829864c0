"""Tests of reading and applying the EXIF orientation in TensorFlow ops."""

import cv2
import numpy as np
import pytest
import tensorflow as tf

from data_utils.images.exif import apply_orientation, exif_orientation
from tests.helpers import UPRIGHT, quadrants_bgr, with_exif_orientation

JPEG = cv2.imencode(".jpg", quadrants_bgr())[1].tobytes()


@pytest.mark.parametrize("byte_order", ["II", "MM"])
def test_orientation_is_read_in_either_byte_order(byte_order):
    read = tf.function(exif_orientation)
    assert [int(read(tf.constant(with_exif_orientation(JPEG, o, byte_order)))) for o in range(1, 9)] == list(
        range(1, 9)
    )


@pytest.mark.parametrize(
    "data",
    [JPEG, b"", b"\xff\xd8\xff\xe1\x00", b"plain text", with_exif_orientation(JPEG, 9), with_exif_orientation(JPEG, 0)],
)
def test_no_valid_tag_means_as_stored(data):
    assert int(exif_orientation(tf.constant(data))) == 1


def test_apply_orientation_matches_what_a_viewer_shows():
    stored = quadrants_bgr(6, 10)
    for orientation, upright in UPRIGHT.items():
        turned = apply_orientation(tf.constant(stored), tf.constant(orientation)).numpy()
        np.testing.assert_array_equal(turned, upright(stored), err_msg=str(orientation))
