"""Tests of the tf.data pipeline: batches, labels, order, resume offset, sharding, bad files."""

import cv2
import numpy as np
import pytest

from data_utils.csv_table import read_image_csv
from data_utils.images.opencv import center_crop, decode_image, resize
from data_utils.pipeline import (
    PipelineConfig,
    epoch_order,
    eval_dataset,
    steps_per_epoch,
    train_dataset,
)
from tests.helpers import make_labelled_set


@pytest.fixture
def table(tmp_path):
    return read_image_csv(make_labelled_set(str(tmp_path), num_classes=5, per_class=5, size=48))


def take(ds, n):
    return [{k: v.numpy() for k, v in batch.items()} for batch, _ in zip(ds, range(n))]


def test_batches_are_shaped_and_labels_match_pixels(table):
    cfg = PipelineConfig(image_size=32, batch_size=4, augment="none", threads=2)
    for batch in take(train_dataset(table, cfg), 6):
        assert batch["image"].shape == (4, 32, 32, 3) and batch["image"].dtype == np.uint8
        assert batch["ok"].all()
        # RGB order: the label is written in OpenCV's red channel (BGR index 2), so it is RGB channel 0.
        assert (batch["image"][:, 5, 5, 0] == 20 * batch["label"] + 10).all()
        assert (batch["image"][:, 5, 5, 1] == 100).all() and (batch["image"][:, 5, 5, 2] == 0).all()
        np.testing.assert_array_equal(table.labels[batch["index"]], batch["label"])


def test_order_is_deterministic_per_seed_and_differs_between_epochs(table):
    cfg = PipelineConfig(image_size=32, batch_size=5, augment="standard", seed=3)
    per_epoch = steps_per_epoch(len(table), 5)
    first = take(train_dataset(table, cfg), 2 * per_epoch)
    again = take(train_dataset(table, cfg), 2 * per_epoch)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a["index"], b["index"])
        np.testing.assert_array_equal(a["image"], b["image"])  # augmentation too
    epoch0 = np.concatenate([b["index"] for b in first[:per_epoch]])
    epoch1 = np.concatenate([b["index"] for b in first[per_epoch:]])
    assert sorted(epoch0) == sorted(epoch1) == list(range(25)) and not np.array_equal(epoch0, epoch1)
    other_seed = take(train_dataset(table, PipelineConfig(32, 5, "standard", seed=4)), per_epoch)
    assert not np.array_equal(epoch0, np.concatenate([b["index"] for b in other_seed]))


def test_resuming_at_a_step_yields_the_same_remaining_batches(table):
    cfg = PipelineConfig(image_size=32, batch_size=4, augment="standard", seed=1)
    full = take(train_dataset(table, cfg), 14)
    resumed = take(train_dataset(table, cfg, start_step=9), 5)  # 6 steps per epoch: resumes inside epoch 2
    for a, b in zip(full[9:], resumed):
        np.testing.assert_array_equal(a["index"], b["index"])
        np.testing.assert_array_equal(a["image"], b["image"])


def test_last_partial_batch_dropped_in_training_kept_in_evaluation(table):
    assert steps_per_epoch(25, 4) == 6 and len(epoch_order(25, 0, 0, 4)) == 24
    batches = take(eval_dataset(table, PipelineConfig(32, 4)), 100)
    assert [len(b["index"]) for b in batches] == [4] * 6 + [1]
    assert np.concatenate([b["index"] for b in batches]).tolist() == list(range(25))


def global_batches(table, workers: int, replicas_per_worker: int, steps: int, start: int = 0) -> list[list[int]]:
    """The examples of each global step as tf.distribute assembles them: worker p's pipeline yields its
    replicas' batches in turn, replica order = worker order."""
    per_replica = 6 // (workers * replicas_per_worker)
    pipelines = [
        take(
            train_dataset(table, PipelineConfig(32, per_replica, "none"), start, 6, workers, p),
            steps * replicas_per_worker,
        )
        for p in range(workers)
    ]
    return [
        [
            i
            for p in range(workers)
            for b in pipelines[p][k * replicas_per_worker : (k + 1) * replicas_per_worker]
            for i in b["index"].tolist()
        ]
        for k in range(steps)
    ]


def test_global_batch_is_the_same_on_any_number_of_workers_and_replicas(table):
    one = global_batches(table, 1, 1, 6)  # 4 steps per epoch: crosses into the second epoch
    assert global_batches(table, 2, 1, 6) == one
    assert global_batches(table, 2, 3, 6) == one
    assert global_batches(table, 3, 2, 4, start=2) == one[2:]  # resumed at step 2 on 6 replicas
    with pytest.raises(ValueError, match="cannot be split between 4 workers"):
        train_dataset(table, PipelineConfig(32, 1), 0, 6, 4, 0)


def test_distributed_evaluation_pads_to_whole_global_batches(table):
    shares = [take(eval_dataset(table, PipelineConfig(32, 4), 8, 2, p), 100) for p in range(2)]
    assert [len(b["index"]) for b in shares[0]] == [4] * 4
    indices = np.concatenate([b["index"] for share in shares for b in share])
    ok = np.concatenate([b["ok"] for share in shares for b in share])
    assert sorted(indices[indices >= 0].tolist()) == list(range(25)) and (indices == -1).sum() == 7
    assert ok.tolist() == (indices >= 0).tolist()


def test_undecodable_image_is_flagged_not_raised(table):
    with open(table.paths[3], "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)  # corrupted after the check
    batches = take(eval_dataset(table, PipelineConfig(32, 25)), 1)
    ok = batches[0]["ok"]
    assert ok.tolist() == [i != 3 for i in range(25)]
    assert (batches[0]["image"][3] == 0).all()


def test_too_few_images_for_a_batch_is_a_clear_error(table):
    with pytest.raises(ValueError, match="cannot fill one batch"):
        train_dataset(table, PipelineConfig(32, 64))


def test_evaluation_takes_the_centre_crop_it_is_given(table):
    crop = PipelineConfig(32, 4, crop=0.875)
    yy, xx = np.mgrid[0:40, 0:56]
    cv2.imwrite(table.paths[0], np.stack([xx * 4, yy * 6, (xx + yy) % 256], -1).astype(np.uint8))
    image = decode_image(table.paths[0])
    cropped = take(eval_dataset(table, crop), 1)[0]["image"][0]
    np.testing.assert_array_equal(cropped, resize(center_crop(image, 0.875), 32))
    assert not np.array_equal(cropped, take(eval_dataset(table, PipelineConfig(32, 4)), 1)[0]["image"][0])
