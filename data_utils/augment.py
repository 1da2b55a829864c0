"""Training augmentation on uint8 RGB arrays, driven by a per-example random generator.

Three strengths besides ``none``, each a registered :class:`Augmentation` with its description (docs/extending.md
adds one):

- ``standard``: the ImageNet recipe for photos, for which the data set's changes of lighting and viewpoint
  call: random resized crop (Inception-style, 35-100% of the area), horizontal flip, brightness and
  contrast.
- ``light``: the CIFAR recipe for small images and short runs: resize, pad by 1/8 of the side (mirrored
  border), random crop back to the size, horizontal flip. The objects keep their scale, so evaluation's
  plain resize sees what training saw.
- ``flip``: horizontal flip only, the mildest: every pixel stays where a mirror puts it, for runs too short
  for shifted images to pay; not for images whose mirror image is another class (digits, text).

Each example's generator is seeded from ``(seed, epoch, index)``, so the result does not depend on which
thread decoded it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from resnet_tf.console.registry import Registry

CROP_AREA = (0.35, 1.0)  # fraction of the image a random crop keeps
CROP_ASPECT = (3 / 4, 4 / 3)  # aspect ratio range of that crop
BRIGHTNESS = 0.15  # added offset, as a fraction of 255, drawn from [-B, B]
CONTRAST = (0.7, 1.3)  # multiplicative contrast factor around the image mean
PAD_FRACTION = 1 / 8  # light: padding on each side, as a fraction of the side (4 px at 32)


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """A strength: its one-line description (``--help``), ``apply(image, size, rng, resize method)``, and
    whether it mirrors images (the network then learns mirror images as the same class, and ``--tta auto``
    scores both). OpenCV is imported when an image is augmented, so the configuration lists the entries
    without it."""

    description: str
    apply: Callable[[np.ndarray, int, np.random.Generator, str], np.ndarray]
    flips: bool = True


AUGMENTATIONS: Registry[Augmentation] = Registry("augmentation")
register_augmentation = AUGMENTATIONS.register


def example_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The random generator of one example in one epoch."""
    return np.random.default_rng([seed, epoch, index])


def random_resized_crop(image: np.ndarray, size: int, rng: np.random.Generator, method: str = "auto") -> np.ndarray:
    """Crops a random area and aspect ratio (Inception-style) and resizes it to ``size x size`` (``method``:
    see :func:`data_utils.images.opencv.resize`)."""
    from data_utils.images.opencv import resize

    h, w = image.shape[:2]
    for _ in range(10):
        area = h * w * rng.uniform(*CROP_AREA)
        aspect = math.exp(rng.uniform(math.log(CROP_ASPECT[0]), math.log(CROP_ASPECT[1])))
        cw, ch = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
        if 0 < cw <= w and 0 < ch <= h:
            y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
            return resize(image[y : y + ch, x : x + cw], size, method)
    return resize(image, size, method)


def color_jitter(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random contrast (around the mean) and brightness, saturating at 0 and 255."""
    import cv2

    contrast = rng.uniform(*CONTRAST)
    brightness = rng.uniform(-BRIGHTNESS, BRIGHTNESS) * 255.0
    mean = float(image.mean())
    # addWeighted saturates to [0, 255] (convertScaleAbs would fold negatives back up).
    return cv2.addWeighted(image, contrast, image, 0.0, brightness + mean * (1.0 - contrast))


def pad_and_crop(image: np.ndarray, size: int, rng: np.random.Generator, method: str = "auto") -> np.ndarray:
    """Resizes to ``size x size``, pads each side by ``PAD_FRACTION`` of it with a mirrored border and crops a
    random ``size x size`` window: shifts of up to 1/8 of the image, scale unchanged."""
    import cv2

    from data_utils.images.opencv import resize

    image = resize(image, size, method)
    pad = max(1, round(size * PAD_FRACTION))
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    y, x = rng.integers(0, 2 * pad + 1, size=2)
    return padded[y : y + size, x : x + size]


def augment(
    image: np.ndarray, size: int, rng: np.random.Generator, resize_method: str = "auto", strength: str = "standard"
) -> np.ndarray:
    """The training augmentation ``strength`` (a registered name, :func:`augmentation_names`) of ``image``,
    resized to ``size x size``."""
    return np.ascontiguousarray(AUGMENTATIONS.get(strength).apply(image, size, rng, resize_method))


def _flip(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1] if rng.random() < 0.5 else image)


def _none(image: np.ndarray, size: int, rng: np.random.Generator, method: str) -> np.ndarray:
    from data_utils.images.opencv import resize

    return resize(image, size, method)


def _flipped(image: np.ndarray, size: int, rng: np.random.Generator, method: str) -> np.ndarray:
    return _flip(_none(image, size, rng, method), rng)


def _light(image: np.ndarray, size: int, rng: np.random.Generator, method: str) -> np.ndarray:
    return _flip(pad_and_crop(image, size, rng, method), rng)


def _standard(image: np.ndarray, size: int, rng: np.random.Generator, method: str) -> np.ndarray:
    return color_jitter(_flip(random_resized_crop(image, size, rng, method), rng), rng)


@register_augmentation
def none() -> Augmentation:
    return Augmentation("resize only", _none, flips=False)


@register_augmentation
def light() -> Augmentation:
    return Augmentation("pad-and-crop by 1/8 of the side, horizontal flip (the CIFAR recipe)", _light)


@register_augmentation
def flip() -> Augmentation:
    return Augmentation("horizontal flip of half the images, nothing else", _flipped)


@register_augmentation
def standard() -> Augmentation:
    return Augmentation(
        "random resized crop (35-100% of the area), flip, brightness and contrast (the ImageNet recipe)", _standard
    )


def augmentation_names() -> tuple[str, ...]:
    """The names ``--augment`` takes (besides ``auto``)."""
    return AUGMENTATIONS.names()
