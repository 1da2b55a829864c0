"""The names of the data options (augmentation, normalization, resize) and the validation fraction of a
folder split, without OpenCV or TensorFlow: the command lines' choices read them, and ``--help`` needs
neither."""

from __future__ import annotations

AUGMENTS = ("none", "light", "standard")
# "imagenet": torchvision / timm scaling; "caffe": Keras' ImageNet weights; "rgb_minus_bgr_means": what the
# TF1 original fed its network (data_utils.images.normalization says how each is computed).
NORMALIZATIONS = ("imagenet", "caffe", "rgb_minus_bgr_means")
# "auto": INTER_AREA when shrinking, INTER_CUBIC when enlarging. "cubic": INTER_CUBIC always (the original).
RESIZES = ("auto", "cubic")
VAL_FRACTION = 0.2  # of each class, when a folder of class folders is split into train and val
