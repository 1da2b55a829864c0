"""The decoding contract (:mod:`data_utils.images`) implemented with OpenCV: files to 8-bit RGB arrays,
centre crop and resize, for training, evaluation and prediction on files.

The TF1 original fed ``cv2.imread``'s BGR output to Keras' ``preprocess_input``, which expects RGB, and so
swapped the channels against the ImageNet means. Here OpenCV's BGR is converted to RGB right after
decoding.
"""

from __future__ import annotations

import cv2
import numpy as np

from data_utils.choices import RESIZES
from resnet_tf.console import files


def decode_image(path: str) -> np.ndarray:
    """Decodes any image OpenCV reads into an ``[H, W, 3]`` uint8 RGB array, by the contract of
    :mod:`data_utils.images`.

    Reads the bytes with numpy (so non-ASCII paths work everywhere) and decodes them with
    ``cv2.imdecode(..., IMREAD_COLOR)``, which applies the EXIF orientation, drops alpha and scales 16-bit
    images to 8 bits as ``cv2.imread`` does. Raises ``ValueError`` naming the path if the file cannot be
    read or decoded.
    """
    try:
        data = (
            np.fromfile(path, dtype=np.uint8)
            if not files.is_remote(path)
            else np.frombuffer(files.read_bytes(path), dtype=np.uint8)
        )
    except OSError as err:
        raise ValueError(f"cannot read image {path}: {err.strerror or err}") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ValueError(f"OpenCV cannot decode image {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def resize(image: np.ndarray, size: int, method: str = "auto") -> np.ndarray:
    """Resizes to ``size x size``. ``auto``: INTER_AREA when shrinking (averages source pixels, no aliasing),
    INTER_CUBIC when enlarging (the original's choice, sharper than bilinear); ``cubic``: INTER_CUBIC always,
    as the original did (for its models)."""
    if method not in RESIZES:
        raise ValueError(f"resize must be one of {RESIZES}, got {method!r}")
    h, w = image.shape[:2]
    if (h, w) == (size, size):
        return image
    interpolation = cv2.INTER_AREA if method == "auto" and size < min(h, w) else cv2.INTER_CUBIC
    return cv2.resize(image, (size, size), interpolation=interpolation)


def center_crop(image: np.ndarray, fraction: float) -> np.ndarray:
    """The centre ``fraction`` of each side (rounded to whole pixels, at least one); the image itself at 1."""
    if fraction >= 1.0:
        return image
    h, w = image.shape[:2]
    ch, cw = max(1, round(h * fraction)), max(1, round(w * fraction))
    top, left = (h - ch) // 2, (w - cw) // 2
    return image[top : top + ch, left : left + cw]
