"""Tests of evaluate.py's command line: --help at once, a user's mistake one error line and status 2."""

import evaluate
from tests.helpers import help_without_heavy_imports, probe_imports


def test_help_loads_no_tensorflow_opencv_or_pandas():
    assert "--checkpoint" in help_without_heavy_imports("evaluate.py")


def test_an_output_path_that_is_a_file_is_an_error_line(trained_run, demo_data, tmp_path, capsys):
    (tmp_path / "a_file").write_text("mine")
    args = ["--logdir", str(trained_run), "--csv", demo_data[1], "--out", str(tmp_path / "a_file")]
    assert evaluate.main(args) == 2
    assert f"error: --out {tmp_path / 'a_file'} is a file; choose a new folder" in capsys.readouterr().err
    assert (tmp_path / "a_file").read_text() == "mine"


def test_a_folder_that_is_not_a_run_is_answered_before_tensorflow_loads(tmp_path):
    done = probe_imports("evaluate.py", "--logdir", str(tmp_path), "--csv", "val.csv")
    assert f"error: {tmp_path} is not a training run (no config.json)" in done.stderr
    status, loaded = done.stdout.rstrip().split("\n")[-2:]
    assert status == "exit 2" and "tensorflow" not in loaded.split(), done.stdout
