"""The names of the training options' choices and the defaults chosen by image size, without TensorFlow:
the run configuration's checks and ``--help`` read them; the modules that implement each choice import
their list from here."""

from __future__ import annotations

LOSSES = ("softmax", "sigmoid")
OPTIMIZERS = ("adam", "sgd")
CLASS_WEIGHTS = ("none", "balanced")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")  # activations' dtype; variables stay float32
SCHEDULES = ("constant", "cosine", "step")
STRATEGIES = ("auto", "default", "mirrored", "multi-worker")
PRETRAINED = ("imagenet",)
DEFAULT_TOP_K = 5  # classes export.py's serving_default returns, at most, unless --top-k


def default_weight_decay(image_size: int) -> float:
    """The L2 penalty on kernels when ``--weight-decay`` is not given: 5e-4 below 128 px, what ResNets on
    CIFAR-size images are trained with, 1e-4 from 128 px, the ImageNet value (He et al.; TF Model Garden,
    torchvision). On 32 px Fashion-MNIST, label smoothing 0.1 and this decay together gave +0.6 points
    top-1 over neither (bench/ACCURACY.md)."""
    return 5e-4 if image_size < 128 else 1e-4
