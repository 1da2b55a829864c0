"""Tests of the run configuration: the tree of sections, choices from their owners, checks of each value."""

import dataclasses

import pytest

from data_utils.choices import RESIZES
from data_utils.images.normalization import normalization_names
from resnet_tf.console.errors import ConfigError, UserError
from resnet_tf.losses import loss_names
from resnet_tf.networks import network_names
from resnet_tf.runs.choices import PRECISIONS
from resnet_tf.runs.config import (
    ARCHS,
    SECTIONS,
    DataConfig,
    NetworkConfig,
    TrainConfig,
    check,
    flattened,
    option_fields,
    section_of_options,
)
from resnet_tf.schedules import schedule_names
from resnet_tf.specs import LAYOUTS


def test_choices_come_from_their_owners():
    assert network_names() == ARCHS
    fields = {f.name: f.metadata["choices"] for _, f in option_fields()}
    assert fields["normalization"] == normalization_names() and fields["lr_schedule"] == schedule_names()
    assert fields["resize"] == RESIZES and fields["layout"] == tuple(LAYOUTS)
    assert fields["precision"] == ("auto",) + PRECISIONS and fields["loss"] == loss_names()


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"width": 0}, "--width must be an integer of at least 1, got 0"),
        ({"max_steps": 0}, "--max-steps must be an integer of at least 1"),
        ({"image_size": 16}, "--image-size must be an integer of at least 32, got 16"),
        ({"seed": -5}, "--seed must be an integer from 0 to 2147483647, got -5"),
        ({"lr": float("nan")}, "--lr must be a number above 0, got nan"),
        ({"weight_decay": float("inf")}, "--weight-decay must be a number of at least 0, got inf"),
        ({"lr": -1.0}, "--lr must be a number above 0, got -1.0"),
        ({"label_smoothing": 1.0}, "--label-smoothing must be a number in [0, 1)"),
        (
            {"arch": "resnet20"},
            "--arch must be one of resnet10, resnet18, resnet34, resnet50, resnet101, resnet152, resnet50d, wide_resnet50_2, resnext50_32x4d, got 'resnet20'",
        ),
        ({"normalization": "zscore"}, "--normalization must be one of imagenet, caffe"),
        ({"deterministic": True, "jit": True}, "cannot be combined with --jit"),
        ({"ema_decay": 1.0}, "--ema-decay must be a number in [0, 1)"),
        ({"early_stop_patience": -1}, "--early-stop-patience must be an integer of at least 0"),
        ({"freeze_stages": 5}, "--freeze-stages must be an integer from 0 to 4"),
        ({"augment": "heavy"}, "--augment must be one of auto, none, light, flip, standard"),
        ({"eval_crop": 0.0}, "--eval-crop must be a number in (0, 1]"),
    ],
)
def test_check_names_the_option(changes, message):
    with pytest.raises(ConfigError) as info:
        check(TrainConfig.from_options(changes))
    assert message in str(info.value)
    assert isinstance(info.value, UserError)


def test_the_configuration_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig.from_options().network.width = 8
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig.from_options().network = NetworkConfig(width=8)


def test_every_option_lives_in_exactly_one_section():
    names = [field.name for _, field in option_fields()]
    assert len(names) == len(set(names)) == len(section_of_options())
    assert set(section_of_options().values()) == set(SECTIONS)
    assert section_of_options()["arch"] == "network" and section_of_options()["lr"] == "optimization"
    assert section_of_options()["batch_size"] == "data" and section_of_options()["precision"] == "runtime"


def test_options_build_the_tree_and_read_back_flat():
    cfg = TrainConfig.from_options({"arch": "resnet18", "lr": 0.5}, logdir="runs/x")
    assert (cfg.network.arch, cfg.optimization.lr, cfg.run.logdir) == ("resnet18", 0.5, "runs/x")
    assert cfg.data == DataConfig()  # a section given nothing keeps its defaults
    assert cfg.options()["arch"] == "resnet18" and len(cfg.options()) == len(option_fields())
    assert TrainConfig.from_options(cfg.options()) == cfg
    with pytest.raises(TypeError, match="unknown options: colour"):
        TrainConfig.from_options(colour="red")


def test_replace_changes_only_the_options_named():
    cfg = TrainConfig.from_options(arch="resnet18", width=8)
    changed = cfg.replace(width=16, num_classes=3)
    assert (changed.network.width, changed.network.num_classes, changed.network.arch) == (16, 3, "resnet18")
    assert changed.data == cfg.data and cfg.network.width == 8


def test_the_json_form_is_the_tree_and_flattens_back():
    cfg = TrainConfig.from_options(arch="resnet34", seed=7)
    tree = cfg.to_json()
    assert list(tree) == list(SECTIONS) and tree["network"]["arch"] == "resnet34" and tree["run"]["seed"] == 7
    assert flattened(tree) == cfg.options()
    assert flattened(cfg.options()) == cfg.options()  # the flat form earlier versions saved is read as it is
