"""Tests of output folders written all at once: in place only when complete, nothing left after a failure,
never over other files."""

import os

import pytest

from resnet_tf.console.errors import ConfigError, OutputError
from resnet_tf.runs.staging import check_new_folder, staged_folder


def test_a_complete_folder_moves_into_place_and_a_failed_one_leaves_nothing(tmp_path):
    with staged_folder(str(tmp_path / "out"), "--out") as staging:
        assert os.path.dirname(staging) == str(tmp_path) and not (tmp_path / "out").exists()
        open(os.path.join(staging, "model.txt"), "w").write("done")
    assert (tmp_path / "out" / "model.txt").read_text() == "done"
    with pytest.raises(KeyboardInterrupt), staged_folder(str(tmp_path / "stopped"), "--out") as staging:
        open(os.path.join(staging, "half.txt"), "w").write("half")
        raise KeyboardInterrupt
    assert sorted(os.listdir(tmp_path)) == ["out"]  # neither the folder nor its temporary copy


def test_existing_output_is_never_mixed_with_or_written_over(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    (tmp_path / "a_file").write_text("mine")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="--out .*taken exists and is not empty"):
        check_new_folder(str(tmp_path / "taken"), "--out")
    with pytest.raises(ConfigError, match="--logdir .*a_file is a file"):
        check_new_folder(str(tmp_path / "a_file"), "--logdir")
    with staged_folder(str(tmp_path / "empty"), "--out") as staging:  # an empty folder may be used
        open(os.path.join(staging, "x"), "w").close()
    assert os.listdir(tmp_path / "empty") == ["x"]
    with pytest.raises(OutputError, match="cannot write .*; choose another --out"):
        with staged_folder(str(tmp_path / "a_file" / "below"), "--out"):
            pass


def test_a_staged_folder_is_readable_as_the_umask_says_like_any_new_folder(tmp_path):
    old = os.umask(0o022)
    try:
        with staged_folder(str(tmp_path / "export"), "--out") as staging:
            open(os.path.join(staging, "saved_model.pb"), "w").close()
        os.makedirs(tmp_path / "plain")
    finally:
        os.umask(old)
    assert (tmp_path / "export").stat().st_mode & 0o777 == (tmp_path / "plain").stat().st_mode & 0o777 == 0o755
