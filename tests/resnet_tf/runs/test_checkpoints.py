"""Tests of checkpoints: saving, finding and restoring them, keys in the object graph."""

import numpy as np
import pytest
import tensorflow as tf

from resnet_tf.console.errors import UserError
from resnet_tf.model import ResNet
from resnet_tf.runs.checkpoints import (
    CheckpointError,
    find_checkpoint,
    init_model_from,
    managers,
    network_in,
    restore_weights,
    save_checkpoint,
    variable_key,
    variable_keys,
)
from tests.helpers import saved_run, small_state


def test_find_checkpoint_best_latest_and_paths(tmp_path):
    saved_run(tmp_path)
    assert find_checkpoint("latest", str(tmp_path)).endswith("checkpoints/ckpt-4")
    assert find_checkpoint("best", str(tmp_path)).endswith("best/ckpt-2")
    prefix = str(tmp_path / "checkpoints" / "ckpt-2")
    assert find_checkpoint(prefix) == prefix
    assert find_checkpoint(str(tmp_path)).endswith("checkpoints/ckpt-4")  # a run folder: its newest
    assert find_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-4")
    with pytest.raises(CheckpointError, match="checkpoint not found: /nope/ckpt-1"):
        find_checkpoint("/nope/ckpt-1")
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        find_checkpoint("latest", str(tmp_path / "empty"))


def test_best_falls_back_to_latest_before_the_first_validation(tmp_path):
    state = small_state()
    latest, _ = managers(state, str(tmp_path), keep=2)
    save_checkpoint(latest, state)
    assert find_checkpoint("best", str(tmp_path)).endswith("checkpoints/ckpt-0")


def test_restore_weights_returns_the_step_and_refuses_another_network(tmp_path):
    saved_run(tmp_path)
    model = ResNet(18, 3, width=4, seed=5)
    assert restore_weights(model, find_checkpoint("latest", str(tmp_path))) == 4
    assert model.logits.b.numpy().tolist() == [4.0] * 3
    with pytest.raises(CheckpointError, match="does not hold this network") as info:
        restore_weights(ResNet(18, 3, width=8), find_checkpoint("latest", str(tmp_path)))
    assert isinstance(info.value, UserError)


def test_variable_key_follows_the_object_graph(tmp_path):
    state = saved_run(tmp_path)
    prefix = find_checkpoint("latest", str(tmp_path))
    reader = tf.train.load_checkpoint(prefix)
    key = variable_key(prefix, ["model", "stem", "conv", "w"])
    np.testing.assert_array_equal(reader.get_tensor(key), state.model.stem.conv.w.numpy())
    assert variable_key(prefix, ["model", "nothing"]) is None
    keys = variable_keys(prefix, "model")
    assert keys["stem/conv/w"] == key and keys["stages/0/1/convs/0/bn/moving_mean"].startswith("model/")
    assert len(keys) == len(state.model.variables)


def test_init_from_keeps_the_body_and_reinitializes_another_head(tmp_path):
    saved_run(tmp_path)
    wide_head = ResNet(18, 5, width=4, seed=3)
    head_before = wide_head.logits.w.numpy()
    message = init_model_from(wide_head, str(tmp_path))
    assert "except the head (3 classes there, 5 here: re-initialized)" in message
    np.testing.assert_array_equal(wide_head.logits.w.numpy(), head_before)
    np.testing.assert_array_equal(wide_head.stem.conv.w.numpy(), small_state().model.stem.conv.w.numpy())
    with pytest.raises(CheckpointError, match="--init-from .*missing.h5"):
        init_model_from(ResNet(50, 3), str(tmp_path / "missing.h5"))


def test_save_refuses_non_finite_weights(tmp_path):
    state = small_state()
    latest, _ = managers(state, str(tmp_path), keep=2)
    state.model.logits.b.assign([np.nan, 0.0, 0.0])
    with pytest.raises(CheckpointError, match="non-finite values in resnet/logits/b"):
        save_checkpoint(latest, state)
    assert latest.latest_checkpoint is None


@pytest.mark.parametrize("where", ["local", "ram"])
def test_a_step_saved_again_is_not_rewritten_and_stays_readable(tmp_path, where):
    # a SIGTERM or the end right after a periodic checkpoint asks for the same step twice; in ram:// a rewrite
    # appended to the old files and left the step's only checkpoint with a checksum error
    folder = str(tmp_path) if where == "local" else f"ram://same_step_{id(tmp_path)}"
    state = small_state()
    latest, _ = managers(state, folder, keep=2)
    state.step.assign(2)
    first = save_checkpoint(latest, state)
    sizes = {
        name: tf.io.gfile.stat(f"{folder}/checkpoints/{name}").length
        for name in tf.io.gfile.listdir(f"{folder}/checkpoints")
    }
    assert save_checkpoint(latest, state) == first
    assert {
        name: tf.io.gfile.stat(f"{folder}/checkpoints/{name}").length
        for name in tf.io.gfile.listdir(f"{folder}/checkpoints")
    } == sizes
    assert restore_weights(ResNet(18, 3, width=4, seed=9), first) == 2  # readable, checksums and all
    state.step.assign(3)
    assert save_checkpoint(latest, state).endswith("ckpt-3")


@pytest.mark.parametrize(
    "model,difference",
    [
        (lambda: ResNet(34, 3, width=4), "arch resnet18 there, resnet34 here"),
        (lambda: ResNet(18, 5, width=8), "width 4 there, 8 here"),  # the class count alone would be re-initialized
    ],
)
def test_init_from_another_network_names_what_differs_as_resume_does(tmp_path, model, difference):
    saved_run(tmp_path)
    with pytest.raises(CheckpointError, match=f"--init-from .*: another network \\({difference}\\)"):
        init_model_from(model(), str(tmp_path))


def test_network_in_reads_the_architecture_from_the_shapes(tmp_path):
    saved_run(tmp_path)
    prefix = tf.train.latest_checkpoint(str(tmp_path / "checkpoints"))
    assert network_in(prefix) == {"arch": "resnet18", "width": 4, "stem": "7x7", "num_classes": 3}


@pytest.mark.parametrize("arch", ["resnet50", "resnet50d", "wide_resnet50_2", "resnext50_32x4d"])
def test_network_in_names_every_registered_bottleneck_network(tmp_path, arch):
    model = ResNet(arch, 3, width=16)
    prefix = tf.train.Checkpoint(model=model).write(str(tmp_path / "ckpt"))
    assert network_in(prefix) == {
        "arch": arch,
        "width": 16,
        "stem": "3x3" if arch == "resnet50d" else "7x7",
        "num_classes": 3,
    }
