"""The decoding contract (:mod:`data_utils.images`) implemented in TensorFlow ops, for the exported model,
which runs without OpenCV or this project: image bytes to 8-bit RGB (JPEGs with the same integer DCT as
OpenCV, turned upright by their EXIF orientation), centre crop and resize as
:mod:`data_utils.images.opencv` does them.
"""

from __future__ import annotations

import tensorflow as tf

from data_utils.choices import RESIZES
from data_utils.images.exif import apply_orientation, exif_orientation

CUBIC_A = -0.75  # OpenCV's INTER_CUBIC kernel; TensorFlow's "bicubic" resize uses Keys' -0.5


def _cubic_taps(out_size: int, in_size: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Source rows (``[out, 4]``, clamped at the borders) and weights of OpenCV's cubic interpolation."""
    scale = tf.cast(in_size, tf.float64) / out_size
    source = (tf.range(out_size, dtype=tf.float64) + 0.5) * scale - 0.5  # pixel centres, as OpenCV
    start = tf.floor(source)
    t = tf.cast(source - start, tf.float32)
    a = CUBIC_A
    w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a
    w1 = ((a + 2) * t - (a + 3)) * t * t + 1
    w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1
    rows = tf.cast(start, tf.int32)[:, None] + tf.constant([-1, 0, 1, 2])
    return tf.clip_by_value(rows, 0, in_size - 1), tf.stack([w0, w1, w2, 1 - w0 - w1 - w2], axis=1)


def cubic_resize(image: tf.Tensor, size: int) -> tf.Tensor:
    """``[H, W, C]`` -> float ``[size, size, C]`` with OpenCV's INTER_CUBIC (the same kernel, pixel centres
    and border replication), one axis at a time."""
    x = tf.cast(image, tf.float32)
    rows, weights = _cubic_taps(size, tf.shape(x)[0])
    x = tf.reduce_sum(tf.gather(x, rows, axis=0) * weights[:, :, None, None], axis=1)
    cols, weights = _cubic_taps(size, tf.shape(x)[1])
    return tf.reduce_sum(tf.gather(x, cols, axis=1) * weights[None, :, :, None], axis=2)


def resize_like_training(image: tf.Tensor, size: int, method: str = "auto") -> tf.Tensor:
    """``[H, W, 3]`` uint8 -> ``[size, size, 3]`` uint8 as :func:`data_utils.images.opencv.resize`: area averaging
    when shrinking (``auto`` only), OpenCV's cubic interpolation otherwise, rounded and saturated to 8 bits."""
    if method not in RESIZES:
        raise ValueError(f"resize must be one of {RESIZES}, got {method!r}")
    shape = tf.shape(image)
    shrinking = size < tf.minimum(shape[0], shape[1]) if method == "auto" else tf.constant(False)
    same = tf.logical_and(tf.equal(shape[0], size), tf.equal(shape[1], size))

    def to_uint8(x: tf.Tensor) -> tf.Tensor:
        return tf.cast(tf.clip_by_value(tf.round(x), 0.0, 255.0), tf.uint8)

    def area() -> tf.Tensor:
        return to_uint8(tf.image.resize(tf.cast(image, tf.float32), [size, size], method="area"))

    out = tf.cond(same, lambda: image, lambda: tf.cond(shrinking, area, lambda: to_uint8(cubic_resize(image, size))))
    return tf.ensure_shape(out, [size, size, 3])


def crop_like_training(image: tf.Tensor, fraction: float) -> tf.Tensor:
    """The centre ``fraction`` of each side of ``[H, W, 3]`` ``image``, as :func:`data_utils.images.opencv.center_crop`
    (the same rounding: half to even)."""
    if fraction >= 1.0:
        return image
    shape = tf.shape(image)
    crop = tf.maximum(1, tf.cast(tf.round(tf.cast(shape[:2], tf.float64) * fraction), tf.int32))
    start = (shape[:2] - crop) // 2
    return image[start[0] : start[0] + crop[0], start[1] : start[1] + crop[1]]


def decode_like_training(image_bytes: tf.Tensor, size: int, resize: str = "auto", crop: float = 1.0) -> tf.Tensor:
    """One encoded image (JPEG, PNG, BMP, GIF) -> ``[size, size, 3]`` uint8 RGB: its centre ``crop`` (see
    :func:`crop_like_training`) resized by ``resize`` (see :func:`resize_like_training`). Bytes that are not
    an image raise ``InvalidArgumentError`` with TensorFlow's message."""
    check = tf.debugging.Assert(tf.strings.length(image_bytes) > 0, ["image_bytes: empty string, not an image"])
    with tf.control_dependencies([check]):
        image = tf.cond(
            tf.io.is_jpeg(image_bytes),
            # libjpeg's accurate integer DCT, as OpenCV decodes: the same pixels (TF's default DCT is not)
            lambda: apply_orientation(
                tf.io.decode_jpeg(image_bytes, channels=3, dct_method="INTEGER_ACCURATE"), exif_orientation(image_bytes)
            ),
            lambda: tf.io.decode_image(image_bytes, channels=3, dtype=tf.uint8, expand_animations=False),
        )
    return resize_like_training(crop_like_training(tf.ensure_shape(image, [None, None, 3]), crop), size, resize)
