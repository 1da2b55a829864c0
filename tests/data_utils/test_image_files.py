"""Tests of finding the image files named on a command line."""

import os

import cv2

from data_utils.image_files import find_images, walk_images
from tests.helpers import label_image, write_csv


def test_folders_are_walked_for_images_following_links(tmp_path):
    (tmp_path / "a" / "deep").mkdir(parents=True)
    for rel in ("a/1.png", "a/deep/2.JPG", "elsewhere.png"):
        cv2.imwrite(str(tmp_path / rel), label_image(1))
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    os.symlink(tmp_path / "elsewhere.png", tmp_path / "a" / "linked.png")
    found = walk_images(str(tmp_path / "a"))
    assert [os.path.relpath(p, tmp_path / "a") for p in found] == ["1.png", "linked.png", "deep/2.JPG"]


def test_files_folders_and_csvs_with_their_problems(tmp_path):
    for name in ("x.png", "y.png"):
        cv2.imwrite(str(tmp_path / name), label_image(0))
    (tmp_path / "empty").mkdir()
    listing = write_csv(str(tmp_path / "list.csv"), [("y.png",), ("gone.png",)], header=("path",))
    paths, problems = find_images(
        [
            str(tmp_path / "x.png"),
            listing,
            str(tmp_path / "x.png"),
            str(tmp_path / "missing.jpg"),
            str(tmp_path / "empty"),
        ]
    )
    assert paths == [str(tmp_path / "x.png"), str(tmp_path / "y.png")]  # in order, without repeats
    reasons = sorted(str(p) for p in problems)
    assert any("list.csv:3: image file not found (gone.png)" in r for r in reasons)
    assert any("missing.jpg: image file not found" in r for r in reasons)
    assert any("empty: no image files in this folder" in r for r in reasons)
