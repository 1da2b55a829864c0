"""Tests of where a run starts from: its newest readable checkpoint, else --init-from, else a fresh start."""

import numpy as np
import tensorflow as tf

import train
from resnet_tf.runs.checkpoints import variable_key
from tests.helpers import TINY, make_labelled_set, train_args


def test_init_from_checkpoint_reinitializes_a_head_of_another_size(tmp_path, capsys):
    train_csv = make_labelled_set(str(tmp_path), num_classes=3, per_class=6, size=40)
    base = ["--train-csv", train_csv, "--val-csv", train_csv, *TINY, "--batch-size", "6", "--max-steps", "2"]
    assert train.main([*base, "--logdir", str(tmp_path / "a")]) == 0
    def model_variable(run, *path):
        prefix = tf.train.latest_checkpoint(str(tmp_path / run / "checkpoints"))
        return tf.train.load_checkpoint(prefix).get_tensor(variable_key(prefix, ["model", *path]))

    stem = model_variable("a", "stem", "conv", "w")
    capsys.readouterr()
    assert train.main([*base, "--logdir", str(tmp_path / "b"), "--num-classes", "5", "--init-from",
                       str(tmp_path / "a"), "--lr", "1e-9", "--max-steps", "1"]) == 0
    out = capsys.readouterr().out
    assert "except the head (3 classes there, 5 here: re-initialized)" in out
    assert "warning: 2 classes have no training images: 3, 4" in out and "3: 0/0 (EMPTY)" in out
    np.testing.assert_allclose(model_variable("b", "stem", "conv", "w"), stem, atol=1e-6)
    assert model_variable("b", "logits", "w").shape == (32, 5)


def test_corrupted_newest_checkpoint_falls_back_to_the_previous(demo_data, tmp_path, capsys):
    logdir = tmp_path / "run"
    assert train.main(train_args(demo_data, logdir, "--max-steps", "6", "--ckpt-every", "2", "--eval-every", "100",
                                 "--lr-schedule", "constant")) == 0
    for folder in ("checkpoints", "best"):  # the last step's checkpoint and its validated copy
        data_file = next(p for p in (logdir / folder).iterdir() if p.name.startswith("ckpt-6.data"))
        data_file.write_bytes(data_file.read_bytes()[:100])  # truncated
    capsys.readouterr()
    assert train.main(["--logdir", str(logdir), "--max-steps", "8"]) == 0
    out = capsys.readouterr().out
    assert "checkpoints/ckpt-6 cannot be read" in out and "best/ckpt-6 cannot be read" in out
    assert "resuming from" in out and "ckpt-4 at step 4/8" in out
    assert tf.train.latest_checkpoint(str(logdir / "checkpoints")).endswith("ckpt-8")
