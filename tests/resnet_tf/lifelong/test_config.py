"""Tests of the lifelong section of the run configuration."""

import dataclasses

import pytest

from resnet_tf.console.errors import ConfigError
from resnet_tf.lifelong.config import LifelongConfig
from resnet_tf.lifelong.strategies import strategy_names
from resnet_tf.runs.config import TrainConfig, check


def test_the_section_offers_every_registered_strategy_and_defaults_to_a_plain_run():
    fields = {f.name: f for f in dataclasses.fields(LifelongConfig)}
    assert fields["lifelong_strategy"].metadata["choices"] == strategy_names()
    cfg = TrainConfig()
    assert cfg.lifelong.tasks is None and cfg.lifelong.lifelong_strategy == "naive"
    assert TrainConfig.from_options(memory_per_class=50).lifelong.memory_per_class == 50


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("replay_ratio", 1.0, "--replay-ratio must be a number in (0, 1), got 1.0"),
        ("replay_ratio", 0.0, "--replay-ratio must be a number in (0, 1), got 0.0"),
        ("memory_per_class", 0, "--memory-per-class must be an integer of at least 1, got 0"),
        ("distill_temperature", 0.0, "--distill-temperature must be a number above 0, got 0.0"),
        ("distill_weight", -1.0, "--distill-weight must be a number of at least 0, got -1.0"),
        ("lifelong_strategy", "ewc", "--lifelong-strategy must be one of naive, joint, replay, lwf, got 'ewc'"),
    ],
)
def test_a_setting_out_of_its_bounds_is_refused_by_name(option, value, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check(TrainConfig.from_options({option: value}))
