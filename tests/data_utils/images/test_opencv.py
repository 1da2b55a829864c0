"""Tests of decoding, colour conversion, resizing and normalization."""

import cv2
import numpy as np
import pytest

from data_utils.images.opencv import decode_image, resize
from tests.helpers import UPRIGHT, contract_cases, quadrants_bgr, with_exif_orientation


@pytest.mark.parametrize(
    "name,image",
    [
        ("colour.jpg", np.full((20, 30, 3), (255, 0, 0), np.uint8)),  # pure blue in BGR
        ("gray.png", np.full((20, 30), 77, np.uint8)),
        ("rgba.png", np.dstack([np.full((20, 30, 3), (255, 0, 0), np.uint8), np.full((20, 30), 128, np.uint8)])),
        ("deep.png", np.full((20, 30, 3), (65535, 0, 0), np.uint16)),
    ],
)
def test_every_format_becomes_rgb8(tmp_path, name, image):
    path = str(tmp_path / name)
    assert cv2.imwrite(path, image)
    decoded = decode_image(path)
    assert decoded.shape == (20, 30, 3) and decoded.dtype == np.uint8
    if name == "gray.png":
        assert (decoded == 77).all()
    else:  # blue on disk must come out as blue in RGB: the last channel
        assert decoded[..., 2].min() > 240 and decoded[..., 0].max() < 15


def test_decode_failure_names_the_path(tmp_path):
    path = tmp_path / "fake.jpg"
    path.write_text("hello")
    with pytest.raises(ValueError, match="fake.jpg"):
        decode_image(str(path))
    with pytest.raises(ValueError, match="cannot read"):
        decode_image(str(tmp_path / "absent.jpg"))


def test_resize_shrinks_with_area_and_enlarges_with_cubic():
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, ::2] = 255
    small = resize(stripes, 32)
    assert small.shape == (32, 32, 3) and abs(int(small.mean()) - 127) <= 1 and small.std() < 1  # averaged
    big = resize(np.arange(16, dtype=np.uint8).reshape(4, 4, 1).repeat(3, 2) * 16, 8)
    np.testing.assert_array_equal(big, cv2.resize(big, (8, 8), interpolation=cv2.INTER_CUBIC) * 0 + big)
    assert big.shape == (8, 8, 3)


def test_cubic_resize_is_the_originals_in_both_directions():
    image = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    for size in (32, 96):
        np.testing.assert_array_equal(
            resize(image, size, "cubic"), cv2.resize(image, (size, size), interpolation=cv2.INTER_CUBIC)
        )
    with pytest.raises(ValueError, match="resize must be one of"):
        resize(image, 32, "lanczos")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(tmp_path, orientation):
    stored = quadrants_bgr()
    jpeg = cv2.imencode(".jpg", stored, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    (tmp_path / "untagged.jpg").write_bytes(jpeg)
    (tmp_path / "tagged.jpg").write_bytes(with_exif_orientation(jpeg, orientation))
    decoded = decode_image(str(tmp_path / "tagged.jpg"))
    assert decoded.shape == ((40, 80, 3) if orientation <= 4 else (80, 40, 3))
    np.testing.assert_array_equal(decoded, UPRIGHT[orientation](decode_image(str(tmp_path / "untagged.jpg"))))
    top_left = cv2.cvtColor(np.ascontiguousarray(UPRIGHT[orientation](stored)), cv2.COLOR_BGR2RGB)[2, 2]
    assert np.abs(decoded[2, 2].astype(int) - top_left).max() < 8  # the right quadrant ends up top left


def test_cmyk_palette_gif_alpha_and_16_bit_follow_the_contract(tmp_path):
    orange = np.full((20, 30, 3), (230, 120, 20), np.uint8)  # RGB
    for name, data in contract_cases(orange).items():
        (tmp_path / name).write_bytes(data)
        decoded = decode_image(str(tmp_path / name))
        assert decoded.shape == (20, 30, 3) and decoded.dtype == np.uint8, name
        if name == "gray.jpg":
            assert (decoded == decoded[..., :1]).all() and abs(int(decoded[0, 0, 0]) - 230) <= 2
        else:  # the first GIF frame; alpha dropped, the colour under it kept; 16 bits scaled to 8
            assert np.abs(decoded.astype(int) - orange).max() <= 12, name
    deep = (np.arange(20 * 30 * 3).reshape(20, 30, 3) * 97 % 65536).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    np.testing.assert_array_equal(decode_image(str(tmp_path / "deep.png")), (deep >> 8)[..., ::-1])
