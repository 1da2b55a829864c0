"""Tests of the cheap check of an image file: missing, empty, unknown, truncated JPEG and PNG, and images."""

import cv2
import numpy as np

from data_utils.images.signatures import quick_check


def test_each_problem_is_named_and_whole_images_pass(tmp_path):
    image = np.full((8, 8, 3), 120, np.uint8)
    for ext in ("jpg", "png", "bmp"):
        cv2.imwrite(str(tmp_path / f"ok.{ext}"), image)
        assert quick_check(str(tmp_path / f"ok.{ext}")) is None
    for ext in ("jpg", "png"):
        data = (tmp_path / f"ok.{ext}").read_bytes()
        (tmp_path / f"cut.{ext}").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image at all")
    assert quick_check(str(tmp_path / "cut.jpg")) == "truncated JPEG (no end-of-image marker)"
    assert quick_check(str(tmp_path / "cut.png")) == "truncated PNG (no IEND chunk)"
    assert quick_check(str(tmp_path / "empty.png")) == "empty image file (0 bytes)"
    assert quick_check(str(tmp_path / "missing.png")) == "image file not found"
    assert "unknown file signature" in quick_check(str(tmp_path / "text.png"))
    assert quick_check(str(tmp_path)).startswith("cannot read image file")  # a folder
