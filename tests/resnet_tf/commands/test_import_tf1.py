"""Tests of import_tf1.py's command line: --help at once, a user's mistake one error line and status 2."""

import import_tf1
from tests.helpers import help_without_heavy_imports


def test_help_loads_no_tensorflow_opencv_or_pandas():
    assert "--num-classes" in help_without_heavy_imports("import_tf1.py")


def test_a_run_folder_that_is_a_file_is_an_error_line(original_checkpoint, tmp_path, capsys):
    (tmp_path / "a_file").write_text("mine")
    args = ["--checkpoint", original_checkpoint.prefix, "--logdir", str(tmp_path / "a_file"), "--image-size", "40",
            "--num-classes", "5"]
    assert import_tf1.main(args) == 2
    assert f"error: --logdir {tmp_path / 'a_file'} is a file; choose a new folder" in capsys.readouterr().err
    assert (tmp_path / "a_file").read_text() == "mine"
