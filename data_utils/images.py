"""Image decoding and preprocessing with OpenCV: the one place that defines channel order and scaling.

The decoding contract, the same in training, evaluation, prediction and (in TensorFlow ops,
:mod:`training.serving`) the exported model: every image becomes an ``[H, W, 3]`` 8-bit **RGB** array as a
person sees it in an image viewer, as ``cv2.imread`` gives it:

- JPEG: the EXIF orientation tag is applied (a phone photo tagged "rotate 90" comes out upright);
  colour, grayscale, CMYK and YCCK JPEGs all become RGB;
- grayscale is replicated to three channels; palette PNGs are expanded;
- an alpha channel is dropped (the colour under it is kept, not composited on a background);
- 16-bit images are scaled to 8 bits (the high byte);
- GIF: the first frame.

Normalization to float happens on the accelerator, inside the model step (:func:`normalize`), so the
input pipeline moves 1 byte per channel instead of 4.

The TF1 original fed ``cv2.imread``'s BGR output to Keras' ``preprocess_input``, which expects RGB, and so
swapped the channels against the ImageNet means. Here OpenCV's BGR is converted to RGB right after
decoding, and the normalizations below are defined on RGB input (one of them reproduces the original's
swap, for the models it trained).
"""

from __future__ import annotations

import os

import cv2
import numpy as np
import tensorflow as tf

from data_utils.choices import NORMALIZATIONS, RESIZES  # noqa: F401  (re-exported)

CHANNEL_ORDER = "RGB"
# "imagenet": (x / 255 - mean) / std per RGB channel, the torchvision / timm convention.
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
# "caffe": Keras' ResNet50 preprocess_input: RGB -> BGR, subtract these BGR means, no scaling. Use it
# with weights imported from Keras' ImageNet file, which were trained that way.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
# "rgb_minus_bgr_means": RGB order kept, minus the same means in B, G, R order, no scaling: what the TF1
# original fed its network (preprocess_input given cv2.imread's BGR). Models it trained need it.

# Signatures of the formats OpenCV decodes that the cheap check knows (others are decoded lazily).
_SIGNATURES = {
    b"\xff\xd8\xff": "jpeg",
    b"\x89PNG\r\n\x1a\n": "png",
    b"BM": "bmp",
    b"GIF8": "gif",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
    b"RIFF": "webp",
}


def quick_check(path: str) -> str | None:
    """Cheap test of an image file without decoding it: exists, not empty, a known image signature, and
    for JPEG and PNG the end marker (catches truncated files). Returns the problem, or None if it passes.
    Reads at most 16 bytes from each end of the file."""
    try:
        size = os.path.getsize(path)
        if size == 0:
            return "empty image file (0 bytes)"
        with open(path, "rb") as f:
            head = f.read(16)
            f.seek(max(0, size - 16))
            tail = f.read(16)
    except FileNotFoundError:
        return "image file not found"
    except OSError as err:
        return f"cannot read image file: {err.strerror or err}"
    kind = next((k for sig, k in _SIGNATURES.items() if head.startswith(sig)), None)
    if kind is None:
        return "not an image file OpenCV can decode (unknown file signature)"
    if kind == "jpeg" and b"\xff\xd9" not in tail:
        return "truncated JPEG (no end-of-image marker)"
    if kind == "png" and b"IEND" not in tail:
        return "truncated PNG (no IEND chunk)"
    return None


def decode_image(path: str) -> np.ndarray:
    """Decodes any image OpenCV reads into an ``[H, W, 3]`` uint8 RGB array, by the module's contract.

    Reads the bytes with numpy (so non-ASCII paths work everywhere) and decodes them with
    ``cv2.imdecode(..., IMREAD_COLOR)``, which applies the EXIF orientation, drops alpha and scales 16-bit
    images to 8 bits as ``cv2.imread`` does. Raises ``ValueError`` naming the path if the file cannot be
    read or decoded.
    """
    try:
        data = np.fromfile(path, dtype=np.uint8)
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
    return image[top:top + ch, left:left + cw]


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
