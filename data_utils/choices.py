"""The resize methods and the validation fraction of a folder split, without OpenCV or TensorFlow: the command
lines' choices read them, and ``--help`` needs neither. (The augmentations and normalizations are registered
where they are implemented: :mod:`data_utils.augment`, :mod:`data_utils.images.normalization`.)"""

from __future__ import annotations

# "auto": INTER_AREA when shrinking, INTER_CUBIC when enlarging. "cubic": INTER_CUBIC always (the original).
RESIZES = ("auto", "cubic")
VAL_FRACTION = 0.2  # of each class, when a folder of class folders is split into train and val
# The built-in data sets of --demo: the 51 classes of objects, or the same objects as 12 tasks (lifelong).
DEMO_KINDS = ("objects", "lifelong")
