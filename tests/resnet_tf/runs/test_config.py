"""Tests of the run configuration's options: types from the dataclass, choices from their owners, checks of
each value."""

import dataclasses
import os

import pytest

from data_utils.choices import RESIZES
from data_utils.images.normalization import normalization_names
from resnet_tf.console.errors import ConfigError, UserError
from resnet_tf.losses import loss_names
from resnet_tf.networks import network_names
from resnet_tf.runs.choices import PRECISIONS
from resnet_tf.runs.config import (
    ARCHS,
    INVOCATION_OPTIONS,
    TrainConfig,
    build_parser,
    check,
    options_markdown,
    parse,
)
from resnet_tf.schedules import schedule_names
from resnet_tf.specs import LAYOUTS
from tests.helpers import ROOT


def parsed(*argv):
    return parse(list(argv), "test")[0]


def test_option_types_come_from_the_annotations():
    given = parsed(
        "--max-steps",
        "5",
        "--lr",
        "0.5",
        "--num-classes",
        "7",
        "--threads",
        "3",
        "--arch",
        "resnet18",
        "--image-root",
        "imgs",
    )
    assert given == {
        "max_steps": 5,
        "lr": 0.5,
        "num_classes": 7,
        "threads": 3,
        "arch": "resnet18",
        "image_root": "imgs",
    }
    assert type(given["max_steps"]) is int and type(given["lr"]) is float
    with pytest.raises(SystemExit):
        parsed("--max-steps", "five")


def test_boolean_options_are_flags_that_flip_the_default():
    assert parsed("--no-shortcut", "--no-augment", "--deterministic", "--skip-bad-rows", "--jit") == {
        "use_shortcut": False,
        "augment": "none",
        "deterministic": True,
        "skip_bad_rows": True,
        "jit": True,
    }
    assert parsed() == {}  # only options given are set: a resumed run keeps its saved values


def test_every_field_is_an_option_and_help_shows_defaults():
    parser = build_parser("test")
    assert {a.dest for a in parser._actions} == {f.name for f in dataclasses.fields(TrainConfig)} | {
        "help",
        *INVOCATION_OPTIONS,
    }
    text = parser.format_help()
    assert "linear warmup from 0 to --lr (default: 0)" in " ".join(text.split())  # a default of 0 is shown too
    assert "(default: None)" not in text


def test_choices_come_from_their_owners():
    assert network_names() == ARCHS
    fields = {f.name: f.metadata["choices"] for f in dataclasses.fields(TrainConfig)}
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
            "--arch must be one of resnet18, resnet34, resnet50, resnet101, resnet152, resnet50d, wide_resnet50_2, resnext50_32x4d, got 'resnet20'",
        ),
        ({"normalization": "zscore"}, "--normalization must be one of imagenet, caffe"),
        ({"deterministic": True, "jit": True}, "cannot be combined with --jit"),
        ({"ema_decay": 1.0}, "--ema-decay must be a number in [0, 1)"),
        ({"early_stop_patience": -1}, "--early-stop-patience must be an integer of at least 0"),
        ({"freeze_stages": 5}, "--freeze-stages must be an integer from 0 to 4"),
        ({"augment": "heavy"}, "--augment must be one of auto, none, light, standard"),
        ({"eval_crop": 0.0}, "--eval-crop must be a number in (0, 1]"),
    ],
)
def test_check_names_the_option(changes, message):
    with pytest.raises(ConfigError) as info:
        check(TrainConfig(**changes))
    assert message in str(info.value)
    assert isinstance(info.value, UserError)


def test_the_configuration_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig().width = 8


def test_the_options_document_is_the_table_made_from_the_configuration():
    with open(os.path.join(ROOT, "docs", "options.md"), encoding="utf-8") as f:
        document = f.read()
    table = options_markdown()
    assert document.endswith(table) and table.count("\n") == len(dataclasses.fields(TrainConfig)) + 2
    assert "| `--no-augment` |" not in table and "`--augment`, `--no-augment`" in table
