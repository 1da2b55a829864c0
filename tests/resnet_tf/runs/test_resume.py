"""Tests of resuming: the newest readable checkpoint of the run, a damaged list rebuilt, a checkpoint of another
network refused with nothing written, never a fresh start over checkpoints that cannot be read."""

import pytest
import tensorflow as tf

from resnet_tf.model import ResNet
from resnet_tf.runs.checkpoints import managers, save_checkpoint, training_state
from resnet_tf.runs.resume import (
    CheckpointMismatch,
    NoReadableCheckpoint,
    has_checkpoints,
    present_checkpoints,
    repair_index,
    restore_newest,
)
from tests.helpers import logged, saved_run, small_state


def truncate(folder, step: int) -> None:
    data = next(p for p in folder.iterdir() if p.name.startswith(f"ckpt-{step}.data"))
    data.write_bytes(data.read_bytes()[:50])


def test_restore_newest_skips_a_damaged_checkpoint(tmp_path):
    saved_run(tmp_path)
    truncate(tmp_path / "checkpoints", 4)
    state = small_state(seed=9)
    with logged("resnet_tf.runs.resume") as messages:
        assert restore_newest(state, list(managers(state, str(tmp_path), keep=5))).endswith("ckpt-2")
    assert int(state.step) == 2 and state.model.logits.b.numpy().tolist() == [2.0] * 3
    assert len(messages) == 1 and "ckpt-4 cannot be read" in messages[0] and "trying the previous one" in messages[0]


def test_the_best_checkpoint_is_resumed_when_it_is_the_newest(tmp_path):
    state = small_state()
    latest, best = managers(state, str(tmp_path), keep=5)
    state.step.assign(3)
    save_checkpoint(latest, state)
    state.step.assign(6)  # validated and saved as best, killed before the next periodic checkpoint
    state.model.logits.b.assign([6.0] * 3)
    save_checkpoint(best, state)
    fresh = small_state(seed=1)
    assert has_checkpoints(str(tmp_path)) and not has_checkpoints(str(tmp_path / "new"))
    assert restore_newest(fresh, list(managers(fresh, str(tmp_path), keep=5))).endswith("best/ckpt-6")
    assert int(fresh.step) == 6 and fresh.model.logits.b.numpy().tolist() == [6.0] * 3


def test_a_checkpoint_of_another_network_is_refused_naming_what_differs(tmp_path):
    saved_run(tmp_path)  # ResNet-18, width 4, 3 classes
    before = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    for model, differ in (
        (ResNet(50, 3, width=4), "arch resnet18 there, resnet50 here"),
        (ResNet(18, 5, width=4), "num_classes 3 there, 5 here"),
        (ResNet(18, 3, width=8), "width 4 there, 8 here"),
        (ResNet(18, 3, width=4, stem="small"), "stem 7x7 there, 3x3 here"),
    ):
        optimizer = tf.keras.optimizers.SGD(0.1)
        optimizer.build(model.trainable_variables)
        state = training_state(model, optimizer)
        with pytest.raises(
            CheckpointMismatch, match=f"ckpt-4 does not hold the network .*{differ}.*Nothing was written"
        ):
            restore_newest(state, list(managers(state, str(tmp_path), keep=5)))
        assert int(state.step) == 0
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == before


def test_a_damaged_checkpoint_list_is_rebuilt_from_the_checkpoints_present(tmp_path):
    saved_run(tmp_path, steps=(2, 4, 6))
    folder = tmp_path / "checkpoints"
    (folder / "checkpoint").write_text("garbage\x00 that is not a checkpoint list")
    with logged("resnet_tf.runs.resume") as messages:
        repair_index(str(folder))
    assert "missing or damaged; rebuilt from the 3 checkpoints present (ckpt-2, ckpt-4, ckpt-6)" in messages[0]
    assert tf.train.latest_checkpoint(str(folder)).endswith("ckpt-6")
    state = small_state(seed=4)
    assert restore_newest(state, list(managers(state, str(tmp_path), keep=5))).endswith("ckpt-6")
    (folder / "checkpoint").unlink()  # missing: the same
    repair_index(str(folder))
    assert [p.rsplit("/", 1)[1] for p in present_checkpoints(str(folder))] == ["ckpt-2", "ckpt-4", "ckpt-6"]
    listed = managers(small_state(), str(tmp_path), keep=5)[0].checkpoints  # what resume and rotation go by
    assert [p.rsplit("/", 1)[1] for p in listed] == ["ckpt-2", "ckpt-4", "ckpt-6"]
    with logged("resnet_tf.runs.resume") as messages:
        repair_index(str(folder))  # a valid list is left alone
    assert messages == []


def test_a_run_stopped_before_its_first_list_was_written_resumes_from_its_one_checkpoint(tmp_path):
    """The list is written after the checkpoint: a run stopped between the two (kill -9, a store that stopped
    answering) has one checkpoint and no list; the rebuilt list must hold it, or the rerun starts again."""
    saved_run(tmp_path, steps=(2,))
    (tmp_path / "checkpoints" / "checkpoint").unlink()
    repair_index(str(tmp_path / "checkpoints"))
    state = small_state(seed=4)
    latest = managers(state, str(tmp_path), keep=5)[0]
    assert restore_newest(state, [latest]).endswith("checkpoints/ckpt-2") and int(state.step) == 2


def test_checkpoints_none_of_which_can_be_read_stop_the_run(tmp_path):
    saved_run(tmp_path)
    for step in (2, 4):
        truncate(tmp_path / "checkpoints", step)
    truncate(tmp_path / "best", 2)
    state = small_state(seed=9)
    with pytest.raises(NoReadableCheckpoint, match="none of the 3 checkpoints in .* can be read .*nothing was written"):
        restore_newest(state, list(managers(state, str(tmp_path), keep=5)))
    empty = small_state()
    assert restore_newest(empty, list(managers(empty, str(tmp_path / "new"), keep=5))) is None
