"""Tests of predict.py's command line: --help at once, a user's mistake one error line and status 2."""

import pytest

import predict
from tests.helpers import help_without_heavy_imports, probe_imports


def test_help_loads_no_tensorflow_opencv_or_pandas():
    assert "--saved-model" in help_without_heavy_imports("predict.py")


def test_one_source_of_the_model_is_required(capsys):
    with pytest.raises(SystemExit) as info:
        predict.main(["photo.jpg"])
    assert info.value.code == 2 and "give one of --logdir or --saved-model" in capsys.readouterr().err


def test_an_output_file_that_exists_is_never_written_over(trained_run, demo_data, tmp_path, capsys):
    (tmp_path / "a_file").write_text("mine")
    assert predict.main(["--logdir", str(trained_run), demo_data[1], "--out", str(tmp_path / "a_file")]) == 2
    assert f"error: --out {tmp_path / 'a_file'} exists; choose a new file" in capsys.readouterr().err
    assert (tmp_path / "a_file").read_text() == "mine"


def test_a_folder_that_is_not_a_run_is_answered_before_tensorflow_loads(tmp_path):
    done = probe_imports("predict.py", "--logdir", str(tmp_path), "photo.jpg")
    assert f"error: {tmp_path} is not a training run (no config.json)" in done.stderr
    status, loaded = done.stdout.rstrip().split("\n")[-2:]
    assert status == "exit 2" and "tensorflow" not in loaded.split(), done.stdout
