"""Tests of the files beside an exported model: any class name reads back as it is."""

import json

import pytest

from resnet_tf.console.errors import ConfigError
from resnet_tf.serving.export_folder import (
    CLASS_NAMES_FILE,
    EXPORT_INFO_FILE,
    read_class_names,
    write_export_files,
)

ODD_NAMES = ["cup, red", "knife|steel", 'say "hi"', "two\nlines", "<b>bold</b>", "Tasse à café", "杯子"]


def test_class_names_round_trip_and_the_list_for_a_person_has_one_line_per_class(tmp_path):
    write_export_files(str(tmp_path), {"image_size": 32, "class_names": ODD_NAMES})
    assert read_class_names(str(tmp_path)) == ODD_NAMES
    lines = (tmp_path / CLASS_NAMES_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(ODD_NAMES) and lines[3] == "two\\nlines" and lines[6] == "杯子"
    assert json.loads((tmp_path / EXPORT_INFO_FILE).read_text(encoding="utf-8"))["image_size"] == 32


def test_a_folder_that_is_not_an_export_is_named(tmp_path):
    with pytest.raises(ConfigError, match="is not an export of this project"):
        read_class_names(str(tmp_path))
    (tmp_path / EXPORT_INFO_FILE).write_text(json.dumps({"class_names": [1, 2]}))
    with pytest.raises(ConfigError, match="class_names is not a list of names"):
        read_class_names(str(tmp_path))
