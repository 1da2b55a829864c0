"""Tests of config.json: what is saved, read back, upgraded from earlier versions, and refused."""

import json

import pytest

from resnet_tf.console.errors import ConfigError, OutputError
from resnet_tf.runs import config_file
from resnet_tf.runs.builders import load_model
from resnet_tf.runs.checkpoints import CheckpointError
from resnet_tf.runs.config import TrainConfig
from resnet_tf.runs.config_file import load_run
from tests.helpers import logged


def test_save_and_load_round_trip_and_damaged_files(tmp_path):
    cfg = TrainConfig.from_options(arch="resnet34", num_classes=4, stem="small")
    config_file.save(cfg.to_json(), {"names": list("abcd"), "kind": "name"}, {"arch": "resnet34"}, str(tmp_path))
    saved = config_file.load_saved(str(tmp_path))
    assert config_file.saved_run_config(saved, cfg.run.logdir) == cfg and saved.classes["names"] == list("abcd")
    assert saved.requested == {"arch": "resnet34"}
    assert config_file.load_saved(str(tmp_path / "new")) is None
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read .*config.json"):
        config_file.load_saved(str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps([1, 2]))
    with pytest.raises(ConfigError, match="is not a run configuration"):
        config_file.load_saved(str(tmp_path))


def test_a_file_of_an_earlier_version_reads_as_that_run_trained(tmp_path):
    added = ("stem", "augment", "tta")
    old = {k: v for k, v in TrainConfig.from_options(arch="resnet18").options().items() if k not in added}
    (tmp_path / "config.json").write_text(json.dumps({"config": {**old, "augment": False}, "classes": {}}))
    saved = config_file.load_saved(str(tmp_path))
    assert (saved.config["stem"], saved.config["augment"], saved.config["tta"]) == ("standard", "none", "none")
    assert saved.requested == saved.config  # no record of what was asked: what was settled
    assert config_file.upgraded({**old, "layout": "original"})["stem"] == "original"
    assert config_file.upgraded(old)["augment"] == "standard"  # before augmentation strengths: the standard one


def test_a_demo_run_of_a_version_whose_demo_was_a_flag_reads_as_the_objects_demo(tmp_path):
    settled = {**TrainConfig.from_options(arch="resnet18").options(), "demo": True}
    (tmp_path / "config.json").write_text(
        json.dumps({"config": settled, "classes": {}, "requested": {"demo": True, "logdir": "x"}})
    )
    saved = config_file.load_saved(str(tmp_path))
    assert saved.config["demo"] == "objects" and saved.requested == {"demo": "objects", "logdir": "x"}
    assert config_file.upgraded({**settled, "demo": False})["demo"] is None


def test_unknown_saved_settings_are_ignored_with_a_warning():
    with logged("resnet_tf.runs.config_file") as messages:
        known = config_file.known_settings({"arch": "resnet18", "future_option": 3}, "X/config.json")
    assert known == {"arch": "resnet18"}
    assert messages == ["ignoring unknown settings in X/config.json: future_option"]


def test_unwritable_run_folder_is_an_output_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError, match="cannot write .*config.json"):
        config_file.save(TrainConfig.from_options().to_json(), {}, {}, str(blocker / "run"))


def test_load_run_reads_config_and_mapping_with_the_checks_of_training(tmp_path):
    made = tmp_path / "made"
    cfg = TrainConfig.from_options(arch="resnet18", width=4, num_classes=3, stem="small", logdir=str(made))
    config_file.save(cfg.to_json(), {"names": ["x", "y", "z"], "kind": "name"}, {}, str(made))
    run = load_run(str(made))
    assert run.config == cfg and run.mapping.names == ["x", "y", "z"]
    # A run folder written by a newer version with settings this one does not know still opens.
    moved = tmp_path / "moved"
    moved.mkdir()
    saved = json.loads((made / "config.json").read_text())
    saved["config"]["network"]["future_option"] = True
    (moved / "config.json").write_text(json.dumps(saved))
    assert load_run(str(moved)).config.run.logdir == str(moved)  # the folder given, wherever it was made
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        load_model(load_run(str(moved)))
    saved["config"]["network"]["width"] = 0
    (moved / "config.json").write_text(json.dumps(saved))
    with pytest.raises(ConfigError, match="--width must be an integer of at least 1"):
        load_run(str(moved))
    saved["config"]["network"]["width"] = 4
    saved["classes"]["names"] = ["x", "y"]
    (moved / "config.json").write_text(json.dumps(saved))
    with pytest.raises(ConfigError, match="num_classes=3 but 2 class names"):
        load_run(str(moved))
    with pytest.raises(ConfigError, match="is not a training run"):
        load_run(str(tmp_path / "nothing"))
