"""Tests of export.py's command line: --help at once, a user's mistake one error line and status 2."""

import export
from tests.helpers import help_without_heavy_imports, probe_imports


def test_help_loads_no_tensorflow_opencv_or_pandas():
    assert "--tflite" in help_without_heavy_imports("export.py")


def test_an_output_path_that_is_a_file_is_an_error_line(trained_run, tmp_path, capsys):
    (tmp_path / "a_file").write_text("mine")
    assert export.main(["--logdir", str(trained_run), "--out", str(tmp_path / "a_file")]) == 2
    assert f"error: --out {tmp_path / 'a_file'} is a file; choose a new folder" in capsys.readouterr().err
    assert (tmp_path / "a_file").read_text() == "mine"


def test_a_folder_that_is_not_a_run_is_answered_before_tensorflow_loads(tmp_path):
    done = probe_imports("export.py", "--logdir", str(tmp_path), "--out", str(tmp_path / "out"))
    assert f"error: {tmp_path} is not a training run (no config.json)" in done.stderr
    status, loaded = done.stdout.rstrip().split("\n")[-2:]
    assert status == "exit 2" and "tensorflow" not in loaded.split(), done.stdout
