"""8-bit RGB pixels to the network's float input: the one place that defines channel order and scaling,
for the training step, evaluation and the exported model alike (a TensorFlow op).

The normalizations are defined on RGB input; one of them reproduces the TF1 original's channel swap, for
the models it trained. Each is one registered entry.
"""

from __future__ import annotations

from collections.abc import Callable

from resnet_tf.console.registry import Registry

# name -> the float32 RGB batch's scaling; TensorFlow is imported when an image is normalized, so the
# configuration lists the names without it. A new one is a function under register_normalization.
NORMALIZATIONS: Registry[Callable] = Registry("normalization")
register_normalization = NORMALIZATIONS.register
CHANNEL_ORDER = "RGB"
# "imagenet": (x / 255 - mean) / std per RGB channel, the torchvision / timm convention.
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
# "caffe": Keras' ResNet50 preprocess_input: RGB -> BGR, subtract these BGR means, no scaling. Use it
# with weights imported from Keras' ImageNet file, which were trained that way.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
# "rgb_minus_bgr_means": RGB order kept, minus the same means in B, G, R order, no scaling: what the TF1
# original fed its network (preprocess_input given cv2.imread's BGR). Models it trained need it.


def normalize(images, mode: str = "imagenet", dtype=None):
    """Turns a uint8 RGB batch into the network's float input (``mode``: a registered normalization;
    ``dtype``: float32 unless given)."""
    import tensorflow as tf

    scale = NORMALIZATIONS.get(mode)  # ValueError naming the registered ones
    return tf.cast(scale(tf.cast(images, tf.float32)), dtype or tf.float32)


def _imagenet(x):
    import tensorflow as tf

    return (x / 255.0 - tf.constant(IMAGENET_MEAN_RGB)) / tf.constant(IMAGENET_STD_RGB)


def _caffe(x):
    import tensorflow as tf

    return x[..., ::-1] - tf.constant(CAFFE_MEAN_BGR)


def _rgb_minus_bgr_means(x):
    import tensorflow as tf

    return x - tf.constant(CAFFE_MEAN_BGR)


@register_normalization
def imagenet() -> Callable:
    return _imagenet


@register_normalization
def caffe() -> Callable:
    return _caffe


@register_normalization
def rgb_minus_bgr_means() -> Callable:
    return _rgb_minus_bgr_means


def normalization_names() -> tuple[str, ...]:
    """The names ``--normalization`` takes."""
    return NORMALIZATIONS.names()
