"""The names of the training options' choices, without TensorFlow: the configuration's checks and ``--help``
read them, and the modules that implement each choice import their list from here. (The network's own
tables are in :mod:`resnet_tf.specs`, the data options' in :mod:`data_utils.choices`.)"""

from __future__ import annotations

OPTIMIZERS = ("adam", "sgd")
CLASS_WEIGHTS = ("none", "balanced")
STRATEGIES = ("auto", "default", "mirrored", "multi-worker")
PRETRAINED = ("imagenet",)  # sources of --pretrained weights (resnet_tf.weights.imagenet)
# --precision -> dtype of the activations; variables stay float32 in every precision.
COMPUTE_DTYPES = {"float32": "float32", "mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
PRECISIONS = tuple(COMPUTE_DTYPES)
# --precision's choices: auto is decided when a run is settled (resnet_tf.runs.settle.precision_for).
PRECISION_CHOICES = ("auto",) + PRECISIONS


def compute_dtype(precision: str) -> str:
    """The activations' dtype for a ``--precision`` value."""
    if precision not in COMPUTE_DTYPES:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return COMPUTE_DTYPES[precision]
