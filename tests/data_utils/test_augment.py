"""Tests of the training augmentation: crop and resize, flip, colour jitter, per-example randomness."""

import cv2
import numpy as np
import pytest

from data_utils.augment import (
    BRIGHTNESS,
    CONTRAST,
    PAD_FRACTION,
    augment,
    color_jitter,
    example_rng,
    random_resized_crop,
)
from resnet_tf.runs.defaults import default_augment


def gradient_image(h: int = 60, w: int = 90) -> np.ndarray:
    """An RGB image whose pixels tell their position (red: column, green: row)."""
    image = np.zeros((h, w, 3), np.uint8)
    image[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    image[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    image[..., 2] = 128
    return image


def test_same_example_same_epoch_same_result_and_others_differ():
    image = gradient_image()
    a = augment(image, 32, example_rng(0, 1, 7))
    b = augment(image, 32, example_rng(0, 1, 7))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (32, 32, 3) and a.dtype == np.uint8
    others = [augment(image, 32, example_rng(*key)) for key in ((0, 2, 7), (0, 1, 8), (1, 1, 7))]
    assert all(not np.array_equal(a, o) for o in others)


def test_random_resized_crop_takes_a_part_of_the_image():
    image = gradient_image()
    crops = [random_resized_crop(image, 24, example_rng(0, 0, i)) for i in range(20)]
    assert all(c.shape == (24, 24, 3) for c in crops)
    # A crop covers a sub-range of columns: its red values span less than the full 0..255 most of the time.
    spans = [int(c[..., 0].max()) - int(c[..., 0].min()) for c in crops]
    assert min(spans) < 200 and len(set(spans)) > 5


def test_flip_happens_about_half_the_time():
    image = gradient_image()
    flipped = 0
    for i in range(200):
        out = augment(image, 32, example_rng(3, 0, i)).astype(int)
        flipped += out[16, 0, 0] > out[16, -1, 0]  # red decreases left to right only when mirrored
    assert 70 < flipped < 130


def test_color_jitter_stays_in_range_and_saturates():
    bright = np.full((8, 8, 3), 250, np.uint8)
    for i in range(50):
        out = color_jitter(bright, example_rng(0, 0, i))
        rng = example_rng(0, 0, i)
        rng.uniform(*CONTRAST)  # a flat image keeps its value through the contrast: only the brightness moves it
        shifted = 250 + rng.uniform(-BRIGHTNESS, BRIGHTNESS) * 255.0
        assert out.dtype == np.uint8 and abs(int(out[0, 0, 0]) - min(255.0, shifted)) <= 1  # saturated, not wrapped
    mid = np.full((8, 8, 3), 128, np.uint8)
    offsets = [int(color_jitter(mid, example_rng(1, 0, i))[0, 0, 0]) - 128 for i in range(200)]
    assert max(abs(o) for o in offsets) <= BRIGHTNESS * 255 + 1  # a flat image only gets the brightness shift
    assert len(set(offsets)) > 20 and CONTRAST[0] < 1 < CONTRAST[1]


def test_light_augmentation_shifts_and_flips_without_rescaling_or_recolouring():
    image = gradient_image(32, 32)
    pad = round(32 * PAD_FRACTION)
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    shifts = set()
    for i in range(40):
        out = augment(image, 32, example_rng(0, 0, i), strength="light")
        assert out.shape == (32, 32, 3)
        # the output is a 32x32 window of the mirrored-padded image (or its mirror image): same scale, same colours
        found = [
            (y, x)
            for y in range(2 * pad + 1)
            for x in range(2 * pad + 1)
            if np.array_equal(padded[y : y + 32, x : x + 32], out)
            or np.array_equal(padded[y : y + 32, x : x + 32], out[:, ::-1])
        ]
        assert found, f"example {i} is not a shifted window"
        shifts.add(found[0])
    assert len(shifts) > 10


def test_flip_augmentation_mirrors_half_the_images_and_changes_nothing_else():
    image = gradient_image()
    plain = augment(image, 32, example_rng(0, 0, 0), strength="none")
    outs = [augment(image, 32, example_rng(2, 0, i), strength="flip") for i in range(100)]
    mirrored = [np.array_equal(out, plain[:, ::-1]) for out in outs]
    assert all(m or np.array_equal(out, plain) for m, out in zip(mirrored, outs))
    assert 30 < sum(mirrored) < 70


def test_augmentation_strengths_and_defaults_by_image_size():
    image = gradient_image()
    np.testing.assert_array_equal(
        augment(image, 32, example_rng(0, 0, 0), strength="none"),
        augment(image, 32, example_rng(5, 1, 2), strength="none"),
    )
    assert [default_augment(s) for s in (32, 63, 64, 127, 128)] == ["flip", "flip", "light", "light", "standard"]
    with pytest.raises(ValueError, match="unknown augmentation .strong.; registered: none, light, flip, standard"):
        augment(image, 32, example_rng(0, 0, 0), strength="strong")
