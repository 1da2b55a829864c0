"""Tests of where a run starts from: its newest readable checkpoint, else --init-from, else a fresh start."""

import shutil

import numpy as np
import tensorflow as tf

import train
from resnet_tf.runs.checkpoints import variable_key
from tests.helpers import TINY, make_labelled_set


def test_init_from_checkpoint_reinitializes_a_head_of_another_size(trained_run, tmp_path, capsys):
    train_csv = make_labelled_set(str(tmp_path), num_classes=3, per_class=6, size=40)
    base = ["--train-csv", train_csv, "--val-csv", train_csv, *TINY, "--batch-size", "6", "--max-steps", "1"]

    def model_variable(run, *path):
        prefix = tf.train.latest_checkpoint(str(run / "checkpoints"))
        return tf.train.load_checkpoint(prefix).get_tensor(variable_key(prefix, ["model", *path]))

    stem = model_variable(trained_run, "stem", "conv", "w")  # a run of 6 classes
    capsys.readouterr()
    assert (
        train.main(
            [
                *base,
                "--logdir",
                str(tmp_path / "b"),
                "--num-classes",
                "5",
                "--init-from",
                str(trained_run),
                "--lr",
                "1e-9",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "except the head (6 classes there, 5 here: re-initialized)" in out
    assert "warning: 2 classes have no training images: 3, 4" in out and "3: 0/0 (EMPTY)" in out
    np.testing.assert_allclose(model_variable(tmp_path / "b", "stem", "conv", "w"), stem, atol=1e-6)
    assert model_variable(tmp_path / "b", "logits", "w").shape == (32, 5)


def test_corrupted_newest_checkpoint_falls_back_to_the_previous(six_step_run, tmp_path, capsys):
    logdir = tmp_path / "run"
    shutil.copytree(six_step_run, logdir)
    for folder in ("checkpoints", "best"):  # the last step's checkpoint and the best one (it holds the state too)
        data_file = max((p for p in (logdir / folder).iterdir() if ".data" in p.name), key=lambda p: p.name)
        data_file.write_bytes(data_file.read_bytes()[:100])  # truncated
    best = tf.train.latest_checkpoint(str(logdir / "best")).rsplit("/", 1)[1]
    capsys.readouterr()
    assert train.main(["--logdir", str(logdir), "--max-steps", "8"]) == 0
    out = capsys.readouterr().out
    assert "checkpoints/ckpt-6 cannot be read" in out
    assert (f"best/{best} cannot be read" in out) == (best == "ckpt-6")  # tried only where it is the newest
    assert f"resuming from {logdir}/checkpoints/ckpt-4 at step 4/8" in out
    assert tf.train.latest_checkpoint(str(logdir / "checkpoints")).endswith("ckpt-8")
