"""The EXIF orientation of a JPEG, read and applied in TensorFlow ops (for the exported model, which has no
OpenCV to do it). ``cv2.imread`` and image viewers turn an image the way its orientation tag says; TF's
JPEG decoder ignores the tag, so :func:`exif_orientation` finds it in the bytes and
:func:`apply_orientation` turns the decoded image.

Where it is: a JPEG is a series of segments ``FF xx`` + 2-byte big-endian length; the APP1 segment
(``FF E1``) that starts with ``Exif\\0\\0`` holds a TIFF structure (byte order ``II``/``MM``, offset of the
first IFD), and the orientation is entry 0x0112 (a SHORT, 1..8) of that IFD.
"""

from __future__ import annotations

import tensorflow as tf

MAX_SEGMENTS = 16  # segments looked at before giving up (EXIF comes first or second in practice)
MAX_IFD_ENTRIES = 64  # IFD0 entries looked at
ORIENTATION_TAG = 0x0112
APP1, START_OF_SCAN = 0xFFE1, 0xFFDA


def _uints(data: tf.Tensor, positions: tf.Tensor, size: int, little_endian: tf.Tensor) -> tf.Tensor:
    """Unsigned integers of ``size`` bytes at byte ``positions`` of the string ``data`` (0 past its end)."""
    positions = tf.clip_by_value(tf.cast(positions, tf.int32), 0, tf.strings.length(data))
    chunks = tf.strings.substr(tf.fill(tf.shape(positions), data), positions, tf.fill(tf.shape(positions), size))
    raw = tf.cast(tf.io.decode_raw(chunks, tf.uint8, fixed_length=size), tf.int64)
    weights = tf.constant([256**i for i in range(size)], tf.int64)
    weights = tf.where(little_endian, weights, tf.reverse(weights, [0]))
    return tf.reduce_sum(raw * weights, axis=-1)


def _uint(data: tf.Tensor, position: tf.Tensor, size: int, little_endian=False) -> tf.Tensor:
    return _uints(data, tf.reshape(position, [1]), size, little_endian)[0]


def _exif_start(data: tf.Tensor) -> tf.Tensor:
    """Byte offset of the TIFF header inside the EXIF APP1 segment, or -1."""
    length = tf.cast(tf.strings.length(data), tf.int64)

    def more(position, found, count):
        marker = _uint(data, position, 2)
        return (
            (found < 0)
            & (count < MAX_SEGMENTS)
            & (position + 4 <= length)
            & (marker >= 0xFF00)
            & (marker != START_OF_SCAN)
        )

    def step(position, found, count):
        is_exif = (_uint(data, position, 2) == APP1) & (
            tf.strings.substr(data, tf.cast(tf.minimum(position + 4, length), tf.int32), 6) == b"Exif\x00\x00"
        )
        found = tf.where(is_exif, position + 10, found)
        return position + 2 + _uint(data, position + 2, 2), found, count + 1

    _, found, _ = tf.while_loop(more, step, (tf.constant(2, tf.int64), tf.constant(-1, tf.int64), tf.constant(0)))
    return found


def exif_orientation(data: tf.Tensor) -> tf.Tensor:
    """The EXIF orientation (int32, 1..8) of JPEG bytes; 1 (as stored) when there is no valid tag."""
    start = _exif_start(data)
    little = tf.strings.substr(data, tf.cast(tf.maximum(start, 0), tf.int32), 2) == b"II"
    ifd = start + _uint(data, start + 4, 4, little)
    entries = ifd + 2 + 12 * tf.range(MAX_IFD_ENTRIES, dtype=tf.int64)
    count = tf.minimum(_uint(data, ifd, 2, little), MAX_IFD_ENTRIES)
    tags = _uints(data, entries, 2, little)
    values = _uints(data, entries + 8, 2, little)
    hit = (tags == ORIENTATION_TAG) & (tf.range(MAX_IFD_ENTRIES, dtype=tf.int64) < count)
    value = tf.reduce_max(tf.where(hit, values, 0))
    valid = (start >= 0) & (value >= 1) & (value <= 8)
    return tf.cast(tf.where(valid, value, 1), tf.int32)


def apply_orientation(image: tf.Tensor, orientation: tf.Tensor) -> tf.Tensor:
    """``[H, W, C]`` turned upright for an EXIF orientation 1..8 (as ``cv2.imread`` does)."""
    upright = [
        lambda: image,  # 1: as stored
        lambda: tf.reverse(image, [1]),  # 2: mirrored left-right
        lambda: tf.reverse(image, [0, 1]),  # 3: rotated 180
        lambda: tf.reverse(image, [0]),  # 4: mirrored top-bottom
        lambda: tf.transpose(image, [1, 0, 2]),  # 5: transposed
        lambda: tf.image.rot90(image, 3),  # 6: needs 90 clockwise
        lambda: tf.transpose(tf.reverse(image, [0, 1]), [1, 0, 2]),  # 7: transversed
        lambda: tf.image.rot90(image, 1),  # 8: needs 90 counter-clockwise
    ]
    return tf.switch_case(orientation - 1, upright)
