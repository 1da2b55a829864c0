"""The names of the data options (augmentation, normalization, resize) and the augmentation chosen by image
size, without OpenCV or TensorFlow: the command lines' choices read them, and ``--help`` needs neither."""

from __future__ import annotations

AUGMENTS = ("none", "light", "standard")
# "imagenet": torchvision / timm scaling; "caffe": Keras' ImageNet weights; "rgb_minus_bgr_means": what the
# TF1 original fed its network (data_utils.images says how each is computed).
NORMALIZATIONS = ("imagenet", "caffe", "rgb_minus_bgr_means")
# "auto": INTER_AREA when shrinking, INTER_CUBIC when enlarging. "cubic": INTER_CUBIC always (the original).
RESIZES = ("auto", "cubic")
VAL_FRACTION = 0.2  # of each class, when a folder of class folders is split into train and val


def default_augment(image_size: int) -> str:
    """The augmentation for an image size: ``none`` below 64 px (a shift of a few pixels is a large change
    of such an image, and the short runs small images get are better without: 0.877 against 0.858 top-1
    with ``light`` on 32 px Fashion-MNIST, bench/ACCURACY.md), ``light`` from 64 px, ``standard`` from 128 px.
    """
    if image_size < 64:
        return "none"
    return "light" if image_size < 128 else "standard"
