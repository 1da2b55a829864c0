"""Tests of the check of the image files a CSV lists: a cache of the files that passed, reopened only when
they change."""

import os

import pytest

from data_utils import image_check
from data_utils.csv_table import RowChecks, read_image_csv
from data_utils.errors import DataError


def test_check_cache_skips_unchanged_files_and_catches_changed_ones(tmp_path, labelled_csv, monkeypatch):
    opened = []
    real_check = image_check.quick_check
    monkeypatch.setattr(image_check, "quick_check", lambda path, size=None: opened.append(path) or real_check(path, size))
    cache = str(tmp_path / "run" / "image_check.json")
    table = read_image_csv(labelled_csv, checks=RowChecks(check_cache=cache))
    assert len(opened) == 12 and os.path.isfile(cache)
    opened.clear()
    assert len(read_image_csv(labelled_csv, checks=RowChecks(check_cache=cache))) == 12 and opened == []  # nothing reopened
    with open(table.paths[2], "r+b") as f:  # truncated after the check: another size
        f.truncate(30)
    with pytest.raises(DataError) as info:
        read_image_csv(labelled_csv, checks=RowChecks(check_cache=cache))
    assert opened == [table.paths[2]] and "truncated PNG" in str(info.value)
    (tmp_path / "run" / "image_check.json").write_text("{damaged")
    opened.clear()
    assert len(read_image_csv(labelled_csv, checks=RowChecks(skip_bad_rows=True, check_cache=cache))) == 11 and len(opened) == 12
