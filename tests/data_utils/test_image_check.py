"""Tests of the check of the image files a CSV lists: a cache of the files that passed, reopened only when
they change."""

import os

import pytest

from data_utils import image_check
from data_utils.csv_table import RowChecks, read_image_csv
from data_utils.errors import DataError
from resnet_tf.console import files


def test_check_cache_skips_unchanged_files_and_catches_changed_ones(tmp_path, labelled_csv, monkeypatch):
    opened = []
    real_check = image_check.quick_check
    monkeypatch.setattr(
        image_check, "quick_check", lambda path, size=None: opened.append(path) or real_check(path, size)
    )
    cache = str(tmp_path / "run" / "image_check.json")
    table = read_image_csv(labelled_csv, checks=RowChecks(check_cache=cache))
    assert len(opened) == 12 and os.path.isfile(cache)
    opened.clear()
    assert (
        len(read_image_csv(labelled_csv, checks=RowChecks(check_cache=cache))) == 12 and opened == []
    )  # nothing reopened
    with open(table.paths[2], "r+b") as f:  # truncated after the check: another size
        f.truncate(30)
    with pytest.raises(DataError) as info:
        read_image_csv(labelled_csv, checks=RowChecks(check_cache=cache))
    assert opened == [table.paths[2]] and "truncated PNG" in str(info.value)
    (tmp_path / "run" / "image_check.json").write_text("{damaged")
    opened.clear()
    assert (
        len(read_image_csv(labelled_csv, checks=RowChecks(skip_bad_rows=True, check_cache=cache))) == 11
        and len(opened) == 12
    )


def test_images_in_a_store_are_checked_from_listings_without_opening_them(monkeypatch):
    store = "ram://image-check"
    for name in ("a/1.png", "a/2.png", "b/1.png"):
        files.write_atomic(f"{store}/{name}", b"not even an image: contents are checked when decoded")
    files.write_csv(
        f"{store}/list.csv",
        ["path", "label"],
        [("a/1.png", "a"), ("a/3.png", "a"), ("b/1.png", "b"), ("c/1.png", "b"), ("a/2.png", "a")],
    )
    monkeypatch.setattr(image_check, "quick_check", lambda *args: pytest.fail("a file in a store was opened"))
    with pytest.raises(DataError) as raised:
        read_image_csv(f"{store}/list.csv")
    assert [(p.line, p.path, p.reason) for p in raised.value.problems] == [
        (3, "a/3.png", "image file not found"),
        (5, "c/1.png", "image file not found"),
    ]  # c/ is no folder
    table = read_image_csv(f"{store}/list.csv", checks=RowChecks(skip_bad_rows=True))
    assert table.paths == [f"{store}/a/1.png", f"{store}/b/1.png", f"{store}/a/2.png"]
