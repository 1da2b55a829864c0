"""TF1 Saver checkpoints of the original graph load into the original layout and give the session's logits."""

import numpy as np
import pytest
import tensorflow as tf

from resnet_tf.model import ResNet
from resnet_tf.weights import tf1 as tf1_checkpoint
from resnet_tf.weights.tf1 import (
    load_tf1_checkpoint,
    original_convolutions,
    tf1_variable_names,
)


def original_model(ckpt, num_classes=None) -> ResNet:
    return ResNet(
        50, num_classes or ckpt.num_classes, width=ckpt.width, layout="original", image_size=ckpt.image_size, seed=5
    )


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


def test_loaded_model_gives_the_sessions_logits(original_checkpoint):
    model = original_model(original_checkpoint)
    assert load_tf1_checkpoint(model, original_checkpoint.prefix) == original_checkpoint.prefix
    logits = model(tf.constant(original_checkpoint.inputs)).numpy()
    assert relative_error(logits, original_checkpoint.logits) < 1e-4
    # The folder form finds the newest checkpoint through the Saver's `checkpoint` file.
    again = original_model(original_checkpoint)
    load_tf1_checkpoint(again, original_checkpoint.prefix.rsplit("/", 1)[0])
    np.testing.assert_array_equal(again(tf.constant(original_checkpoint.inputs)).numpy(), logits)


def test_batch_norms_are_numbered_in_the_originals_creation_order():
    model = ResNet(50, 51, layout="original", image_size=224)
    names = [name for name, _ in original_convolutions(model)]
    assert len(names) == 53  # stem + 16 blocks x 3 + 4 shortcuts
    assert names[:6] == [
        "conv1",
        "block1_1_ShortcutConv",
        "block1_1_lovalConv1",
        "block1_1_lovalConv2",
        "block1_1_lovalConv3",
        "block1_2_lovalConv1",
    ]
    assert names[11] == "block2_1_ShortcutConv" and names[-1] == "block4_3_lovalConv3"
    variables = tf1_variable_names(model)
    assert len(variables) == len(model.variables) == 320
    assert variables["batch_normalization/gamma"] is model.stem.conv.bn.gamma
    assert variables["batch_normalization_1/moving_mean"] is model.stages[0][0].shortcut.bn.moving_mean
    assert variables["batch_normalization_52/beta"] is model.stages[3][2].convs[2].bn.beta
    assert variables["fc1/w"].shape == (14 * 14 * 2048, 51)  # the original's head at 224 px: 401,408 x 51


def test_a_wrong_numbering_would_be_caught(original_checkpoint, monkeypatch):
    """Swapping two batch norms of equal shape loads without a shape error, but the logits show it."""

    def swapped(model):
        convs = original_convolutions(model)
        convs[5], convs[6] = convs[6], convs[5]  # block1_2's first two convolutions (both 8 channels)
        return convs

    monkeypatch.setattr(tf1_checkpoint, "original_convolutions", swapped)
    model = original_model(original_checkpoint)
    load_tf1_checkpoint(model, original_checkpoint.prefix)
    logits = model(tf.constant(original_checkpoint.inputs)).numpy()
    assert relative_error(logits, original_checkpoint.logits) > 1e-2


def saver_checkpoint(values: dict, prefix: str) -> str:
    """A TF1-format checkpoint (tf.compat.v1 Saver) holding ``values`` under their names."""
    variables = {name: tf.Variable(value) for name, value in values.items()}
    return tf.compat.v1.train.Saver(variables).save(None, prefix)


def checkpoint_values(prefix: str) -> dict:
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def assert_refused(model: ResNet, prefix: str, *expected: str) -> None:
    before = [v.numpy() for v in model.variables]
    with pytest.raises(ValueError) as err:
        load_tf1_checkpoint(model, prefix)
    for text in expected:
        assert text in str(err.value)
    for old, variable in zip(before, model.variables):  # nothing loaded
        np.testing.assert_array_equal(old, variable.numpy())


def test_checkpoints_that_do_not_fit_are_refused_and_nothing_is_loaded(original_checkpoint, tmp_path):
    ckpt = original_checkpoint
    assert_refused(
        original_model(ckpt, num_classes=6),
        ckpt.prefix,
        "wrong shape: fc1/b (checkpoint [5], model [6])",
        "the checkpoint holds resnet50, width 8, 5 classes, a 3x3 final map (image size 33 to 48)",
    )

    values = checkpoint_values(ckpt.prefix)
    assert "beta1_power" in values and "conv1/w/Adam" in values  # ignored, as the next load shows
    del values["batch_normalization_7/gamma"]
    values["block9_1_lovalConv1/w"] = np.zeros([1], np.float32)
    damaged = saver_checkpoint(values, str(tmp_path / "damaged" / "model"))
    assert_refused(
        original_model(ckpt), damaged, "missing: batch_normalization_7/gamma", "extra: block9_1_lovalConv1/w"
    )

    standard = ResNet(50, ckpt.num_classes, width=ckpt.width)
    ours = tf.train.Checkpoint(model=standard).write(str(tmp_path / "ours" / "ckpt"))
    assert_refused(original_model(ckpt), ours, "missing: batch_normalization/beta", "TF2 object-based checkpoint")

    assert_refused(original_model(ckpt), str(tmp_path / "nothing"), "cannot read a checkpoint")
    with pytest.raises(ValueError, match="layout='original'"):
        load_tf1_checkpoint(standard, ckpt.prefix)
