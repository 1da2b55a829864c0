"""Tests of the training loop: what it writes at each boundary, and how and why it stops (end, early stop,
NaN, an undecodable image)."""

import json

import cv2
import numpy as np
import pytest
import tensorflow as tf

import evaluate
import train
from data_utils.csv_table import read_image_csv
from resnet_tf.runs import config_file
from resnet_tf.runs.builders import build_model
from resnet_tf.runs.checkpoints import variable_key
from resnet_tf.training.events import COMPARED_SETTINGS
from tests.helpers import (
    TINY,
    final_weights,
    make_labelled_set,
    scalars,
    tensor_values,
    train_args,
)


def test_event_files_hold_train_and_val_curves(trained_run):
    train_events = scalars(str(trained_run / "train"))
    for tag in ("loss", "accuracy", "learning_rate", "images_per_sec"):
        values = tensor_values(train_events, tag)
        assert [s for s, _ in values] == [2, 4, 6, 8], tag
        assert all(np.isfinite(v) for _, v in values)
    assert "training_inputs" in train_events.Tags()["tensors"]
    assert train_events.SummaryMetadata("train_step").plugin_data.plugin_name == "graph_run_metadata_graph"
    val_events = scalars(str(trained_run / "val"))
    for tag in ("loss", "accuracy", "top5_accuracy"):
        values = tensor_values(val_events, tag)
        assert [s for s, _ in values] == [6, 8] and all(0 <= v < 100 for _, v in values), tag  # every epoch, the end


def test_every_validation_shows_the_confusion_matrix_mistakes_and_per_class_accuracy(trained_run):
    val = scalars(str(trained_run / "val"))
    for tag in ("confusion_matrix", "misclassified"):
        events = val.Tensors(tag)
        assert [e.step for e in events] == [6, 8], tag
        width, height, png = tf.make_ndarray(events[-1].tensor_proto)
        image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (int(height), int(width), 3) and min(image.shape[:2]) > 100, tag
        assert image.std() > 10  # a picture, not a blank
    table = tf.make_ndarray(val.Tensors("per_class_accuracy")[-1].tensor_proto).item().decode()
    assert table.startswith("| class | images | accuracy |") and len(table.splitlines()) == 2 + 6
    assert sum(int(line.split("|")[2]) for line in table.splitlines()[2:]) == 24  # every validation image
    best = tensor_values(val, "best_accuracy")
    assert best[-1][1] == max(v for _, v in tensor_values(val, "accuracy"))


def test_the_run_records_its_settings_for_the_hparams_tab(trained_run):
    from tensorboard.plugins.hparams import metadata

    run = scalars(str(trained_run))  # the run folder itself: one HParams session per run
    plugin = run.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data
    assert plugin.plugin_name == metadata.PLUGIN_NAME
    hparams = metadata.parse_session_start_info_plugin_data(plugin.content).hparams
    assert hparams["arch"].string_value == "resnet10" and hparams["width"].string_value == "4"
    assert hparams["lr"].number_value == pytest.approx(2e-3)  # a real number stays a number: sortable
    assert hparams["stem"].string_value == "standard" and hparams["augment"].string_value == "flip"
    assert set(hparams) == set(COMPARED_SETTINGS) - {"time_budget"} and "logdir" not in hparams  # None: left out


def test_nan_loss_stops_with_the_step_named(demo_data, tmp_path, capsys):
    assert (
        train.main(train_args(demo_data, tmp_path / "nan", "--max-steps", "20", "--lr", "1e12", "--optimizer", "sgd"))
        == 2
    )
    err = capsys.readouterr().err
    assert "became NaN/Inf at step" in err


def test_weight_average_validates_frozen_stages_stay_fixed_and_zero_init_blocks_start_silent(tmp_path, capsys):
    train_csv = make_labelled_set(str(tmp_path), num_classes=3, per_class=6, size=40)
    logdir = tmp_path / "ema"
    assert (
        train.main(
            [
                "--train-csv",
                train_csv,
                "--val-csv",
                train_csv,
                "--logdir",
                str(logdir),
                *TINY,
                "--batch-size",
                "6",
                "--max-steps",
                "6",
                "--eval-every",
                "3",
                "--optimizer",
                "sgd",
                "--lr",
                "0.05",
                "--ema-decay",
                "0.5",
                "--freeze-stages",
                "1",
                "--zero-init-residual",
                "--tta",
                "flip",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "zero-init residual, weight average 0.5, stem and 1 stages frozen, flip test-time augmentation" in out
    assert "step 6: val loss" in out and out.split("step 6: val loss")[1].splitlines()[0].endswith("weight average")
    prefix = tf.train.latest_checkpoint(str(logdir / "checkpoints"))
    reader = tf.train.load_checkpoint(prefix)
    value = lambda *path: reader.get_tensor(variable_key(prefix, list(path)))
    initial = build_model(config_file.saved_run_config(config_file.load_saved(str(logdir)), str(logdir)))
    # the stem and stage 1 are frozen: as initialized, batch-norm statistics included
    np.testing.assert_array_equal(value("model", "stem", "conv", "w"), initial.stem.conv.w.numpy())
    np.testing.assert_array_equal(
        value("model", "stages", "0", "0", "convs", "0", "bn", "moving_mean"),
        initial.stages[0][0].convs[0].bn.moving_mean.numpy(),
    )
    assert not np.array_equal(value("model", "logits", "w"), initial.logits.w.numpy())
    # each block's last batch-norm scale starts at 0: kept in the frozen stage 1, trained away from 0 after it
    last_gamma = lambda stage: value("model", "stages", str(stage), "0", "convs", "1", "bn", "gamma")
    assert not np.any(initial.stages[1][0].convs[1].bn.gamma.numpy()) and not np.any(last_gamma(0))
    assert np.any(last_gamma(1))
    # the average lags the weights; evaluate.py scores it (the checkpoint's network)
    assert not np.array_equal(value("average", "logits", "w"), value("model", "logits", "w"))
    assert (
        evaluate.main(
            ["--logdir", str(logdir), "--csv", train_csv, "--checkpoint", "latest", "--out", str(tmp_path / "eval")]
        )
        == 0
    )
    # validation scored the same network as evaluate.py: the same loss (a chance-level top-1 would not tell)
    val = {tag: tensor_values(scalars(str(logdir / "val")), tag)[-1] for tag in ("accuracy", "loss")}
    metrics = json.load(open(tmp_path / "eval" / "metrics.json"))
    assert val["loss"][0] == 6 and metrics["loss"] == pytest.approx(val["loss"][1], rel=1e-5)
    assert metrics["top1"] == pytest.approx(val["accuracy"][1], abs=1e-6)


def test_early_stopping_names_the_reason_and_a_rerun_does_not_continue(tmp_path, capsys):
    train_csv = make_labelled_set(str(tmp_path), num_classes=3, per_class=6, size=40)
    # everything frozen but the head, which a learning rate of 1e-9 leaves as it is: no validation improves
    args = [
        "--train-csv",
        train_csv,
        "--val-csv",
        train_csv,
        "--logdir",
        str(tmp_path / "run"),
        *TINY,
        "--batch-size",
        "6",
        "--max-steps",
        "20",
        "--eval-every",
        "2",
        "--lr",
        "1e-9",
        "--freeze-stages",
        "4",
        "--early-stop-patience",
        "1",
    ]
    assert train.main(args) == 0
    out = capsys.readouterr().out
    assert "stopped early at step 4/20: no better val accuracy in the last 1 validations" in out
    assert tf.train.latest_checkpoint(str(tmp_path / "run" / "checkpoints")).endswith("ckpt-4")
    assert train.main(args) == 0
    assert "run complete: stopped early at step 4" in capsys.readouterr().out


def test_nonfinite_loss_skip_option_counts_steps_and_saves_only_finite_weights(demo_data, tmp_path, capsys):
    logdir = tmp_path / "skip"
    assert (
        train.main(
            train_args(
                demo_data,
                logdir,
                "--max-steps",
                "6",
                "--lr",
                "1e12",
                "--optimizer",
                "sgd",
                "--skip-nonfinite",
                "--ckpt-every",
                "3",
                "--eval-every",
                "100",
            )
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "update skipped" in out and "steps with NaN/Inf loss or gradients" in out
    skipped = tensor_values(scalars(str(logdir / "train")), "skipped_nonfinite_steps")
    assert skipped[-1][1] >= 1
    for value in final_weights(logdir).values():
        if np.issubdtype(np.asarray(value).dtype, np.floating):
            assert np.isfinite(value).all()


@pytest.mark.slow
def test_image_corrupted_mid_training_stops_with_a_checkpoint_or_is_skipped(tmp_path, capsys):
    train_csv = make_labelled_set(str(tmp_path), num_classes=3, per_class=6, size=40)
    val_csv = make_labelled_set(str(tmp_path / "v"), num_classes=3, per_class=2, size=40, name="val.csv")
    table = read_image_csv(train_csv)  # passes the checks now...
    with open(table.paths[4], "wb") as f:  # ...then breaks, as a disk or a sync job might
        f.write(b"\x89PNG\r\n\x1a\n" + bytes(64) + b"IEND\xaeB`\x82")
    base = ["--train-csv", train_csv, "--val-csv", val_csv, *TINY, "--batch-size", "6", "--eval-every", "100"]
    # The broken file passes the quick check (valid signature and end), so it is met during training.
    assert train.main([*base, "--logdir", str(tmp_path / "stop"), "--max-steps", "6"]) == 2
    err = capsys.readouterr().err
    assert "cannot decode training images at step" in err and "0 problems" not in err
    assert f"{train_csv}:{table.lines[4]}: OpenCV cannot decode the image ({table.paths[4]})" in err
    assert tf.train.latest_checkpoint(str(tmp_path / "stop" / "checkpoints")) is not None
    assert train.main([*base, "--logdir", str(tmp_path / "skip"), "--max-steps", "6", "--skip-bad-rows"]) == 0
    out = capsys.readouterr().out
    assert f"skipping undecodable image {table.paths[4]}" in out and "skipped 2 undecodable training images" in out


@pytest.mark.slow
def test_a_validation_stopped_by_an_undecodable_image_is_made_when_the_run_resumes(tmp_path, capsys):
    train_csv = make_labelled_set(str(tmp_path), num_classes=3, per_class=4, size=40)
    val_csv = make_labelled_set(str(tmp_path / "v"), num_classes=3, per_class=2, size=40, name="val.csv")
    broken = read_image_csv(val_csv).paths[1]
    with open(broken, "wb") as f:  # passes the quick check (a PNG's signature and end), then fails to decode
        f.write(b"\x89PNG\r\n\x1a\n" + bytes(64) + b"IEND\xaeB`\x82")
    args = ["--train-csv", train_csv, "--val-csv", val_csv, "--logdir", str(tmp_path / "run"), *TINY]
    args += ["--batch-size", "4", "--max-steps", "6", "--eval-every", "3", "--ckpt-every", "100"]
    assert train.main(args) == 2
    assert "OpenCV cannot decode the image" in capsys.readouterr().err
    assert train.main([*args, "--skip-bad-rows"]) == 0
    assert "step 3: validating first, as the interrupted run would have" in capsys.readouterr().out
    steps = [int(line.split(",")[0]) for line in (tmp_path / "run" / "history.csv").read_text().splitlines()[1:]]
    assert steps == [3, 6]
