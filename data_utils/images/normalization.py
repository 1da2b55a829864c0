"""8-bit RGB pixels to the network's float input: the one place that defines channel order and scaling,
for the training step, evaluation and the exported model alike (a TensorFlow op).

The normalizations are defined on RGB input; one of them reproduces the TF1 original's channel swap, for
the models it trained.
"""

from __future__ import annotations

import tensorflow as tf

from data_utils.choices import NORMALIZATIONS

CHANNEL_ORDER = "RGB"
# "imagenet": (x / 255 - mean) / std per RGB channel, the torchvision / timm convention.
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
# "caffe": Keras' ResNet50 preprocess_input: RGB -> BGR, subtract these BGR means, no scaling. Use it
# with weights imported from Keras' ImageNet file, which were trained that way.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
# "rgb_minus_bgr_means": RGB order kept, minus the same means in B, G, R order, no scaling: what the TF1
# original fed its network (preprocess_input given cv2.imread's BGR). Models it trained need it.


def normalize(images: tf.Tensor, mode: str = "imagenet", dtype: tf.DType = tf.float32) -> tf.Tensor:
    """Turns a uint8 RGB batch into the network's float input (``mode`` is one of ``NORMALIZATIONS``)."""
    x = tf.cast(images, tf.float32)
    if mode == "imagenet":
        x = (x / 255.0 - tf.constant(IMAGENET_MEAN_RGB)) / tf.constant(IMAGENET_STD_RGB)
    elif mode == "caffe":
        x = x[..., ::-1] - tf.constant(CAFFE_MEAN_BGR)
    elif mode == "rgb_minus_bgr_means":
        x = x - tf.constant(CAFFE_MEAN_BGR)
    else:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {mode!r}")
    return tf.cast(x, dtype)
