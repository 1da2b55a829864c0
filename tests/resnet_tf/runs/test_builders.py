"""Tests of the one way from a run's configuration to its objects."""

import numpy as np

from resnet_tf.runs import config_file
from resnet_tf.runs.builders import (
    build_model,
    load_model,
    pipeline_settings,
    read_table,
)
from resnet_tf.runs.config import TrainConfig
from resnet_tf.runs.config_file import load_run
from tests.helpers import make_labelled_set, settled_config, write_csv


def test_build_model_follows_the_config():
    cfg = settled_config(arch="resnet34", width=4, num_classes=7, use_shortcut=False, precision="mixed_bfloat16")
    model = build_model(cfg)
    assert (model.arch, model.width, model.num_classes, model.use_shortcut) == ("resnet34", 4, 7, False)
    assert model.compute_dtype.name == "bfloat16" and build_model(cfg, "float32").compute_dtype.name == "float32"
    assert all(block.shortcut is None for stage in model.stages for block in stage)


def test_pipeline_settings_augment_only_for_training():
    cfg = settled_config(image_size=48, batch_size=12, seed=5, threads=3)
    train = pipeline_settings(cfg, training=True)
    # auto: flips at 48 px
    assert (train.image_size, train.batch_size, train.augment, train.seed, train.threads) == (48, 12, "flip", 5, 3)
    assert pipeline_settings(cfg, training=False, batch_size=64).augment == "none"
    assert pipeline_settings(cfg, training=False, batch_size=64).batch_size == 64
    assert pipeline_settings(settled_config(image_size=96), training=True).augment == "light"
    assert pipeline_settings(settled_config(image_size=160), training=True).augment == "standard"
    cropped = settled_config(eval_crop=0.875)
    assert (
        pipeline_settings(cropped, training=False).crop == 0.875 and pipeline_settings(cropped, training=True).crop == 1
    )


def test_build_model_takes_the_settled_stem():
    assert build_model(settled_config(arch="resnet18", width=4, num_classes=3, image_size=32)).stem_name == "small"
    assert build_model(settled_config(arch="resnet18", width=4, num_classes=3, image_size=128)).stem_name == "standard"
    pinned = settled_config(arch="resnet18", width=4, num_classes=3, image_size=32, stem="standard")
    assert build_model(pinned).stem_name == "standard"


def test_read_table_uses_the_runs_columns_and_image_root(tmp_path):
    make_labelled_set(str(tmp_path / "data"))
    csv_path = write_csv(
        str(tmp_path / "list.csv"), [("img/1_0.png", "1"), ("img/2_0.png", "2")], header=("file", "cls")
    )
    cfg = TrainConfig.from_options(
        path_column="file", label_column="cls", image_root=str(tmp_path / "data"), num_classes=4
    )
    table = read_table(cfg, csv_path)
    assert table.labels.tolist() == [1, 2] and table.mapping.num_classes == 4
    assert table.paths[0] == str(tmp_path / "data" / "img" / "1_0.png")


def test_load_model_restores_the_chosen_checkpoint(trained_run):
    run = load_run(str(trained_run))
    model, step, prefix = load_model(run, "latest")
    assert step == 8 and prefix.endswith("ckpt-8")
    logits = model(np.zeros((1, 32, 32, 3), np.float32))
    again, _, _ = load_model(run, prefix)
    np.testing.assert_array_equal(again(np.zeros((1, 32, 32, 3), np.float32)), logits)
    assert config_file.load_saved(str(trained_run)).config["num_classes"] == 6
