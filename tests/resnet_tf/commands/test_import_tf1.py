"""Tests of import_tf1.py's command line: --help at once, a user's mistake one error line and status 2."""

import glob
import json
import os

import import_tf1
from resnet_tf.console import files
from tests.helpers import help_without_heavy_imports, probe_imports


def test_help_loads_no_tensorflow_opencv_or_pandas():
    assert "--num-classes" in help_without_heavy_imports("import_tf1.py")


def test_a_mistyped_checkpoint_path_is_answered_before_tensorflow_starts_and_nothing_is_written(tmp_path):
    nothing, logdir = str(tmp_path / "model.ckpt-10000"), tmp_path / "imported"
    args = ["--checkpoint", nothing, "--logdir", str(logdir), "--image-size", "40", "--num-classes", "5"]
    done = probe_imports("import_tf1.py", *args)
    assert done.stdout.rstrip().endswith("exit 2\nloaded:"), done.stdout[-300:]  # no TensorFlow loaded
    assert (
        done.stderr.startswith(f"error: --checkpoint {nothing}: nothing there (expected a prefix")
        and not logdir.exists()
    )


def test_a_run_folder_that_is_a_file_is_an_error_line(original_checkpoint, tmp_path, capsys):
    (tmp_path / "a_file").write_text("mine")
    args = [
        "--checkpoint",
        original_checkpoint.prefix,
        "--logdir",
        str(tmp_path / "a_file"),
        "--image-size",
        "40",
        "--num-classes",
        "5",
    ]
    assert import_tf1.main(args) == 2
    assert f"error: --logdir {tmp_path / 'a_file'} is a file; choose a new folder" in capsys.readouterr().err
    assert (tmp_path / "a_file").read_text() == "mine"


def test_a_checkpoint_in_a_store_imports_into_a_run_folder_in_the_store(original_checkpoint):
    store = "ram://tf1-import"
    for path in glob.glob(original_checkpoint.prefix + ".*"):
        files.copy(path, f"{store}/model/{os.path.basename(path)}")
    prefix = f"{store}/model/{os.path.basename(original_checkpoint.prefix)}"
    assert (
        import_tf1.main(
            ["--checkpoint", prefix, "--logdir", f"{store}/run", "--image-size", "40", "--num-classes", "5"]
        )
        == 0
    )
    assert json.loads(files.read_bytes(f"{store}/run/config.json"))["config"]["network"]["num_classes"] == 5
    assert any(name.endswith(".index") for name in files.listdir(f"{store}/run/checkpoints"))
