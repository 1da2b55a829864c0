"""Tests that every training choice's name is implemented: each precision is a dtype the network computes in,
each optimizer and schedule can be built."""

import pytest
import tensorflow as tf

from resnet_tf.model import ResNet
from resnet_tf.runs.choices import OPTIMIZERS, PRECISIONS, compute_dtype
from resnet_tf.schedules import schedule_names
from resnet_tf.training.schedule import WarmupSchedule
from resnet_tf.training.step import make_optimizer
from tests.helpers import settled_config


@pytest.mark.parametrize("precision", PRECISIONS)
def test_every_precision_is_the_dtype_the_network_computes_in(precision):
    model = ResNet(18, 3, width=4, compute_dtype=compute_dtype(precision))
    features = model.features(tf.zeros([1, 32, 32, 3]))
    assert features["stage_4"].dtype.name == compute_dtype(precision)
    assert model(tf.zeros([1, 32, 32, 3])).dtype == tf.float32  # logits in float32 always
    with pytest.raises(ValueError, match="precision must be one of"):
        compute_dtype("float8")


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("schedule", schedule_names())
def test_every_optimizer_and_schedule_can_be_built(optimizer, schedule):
    cfg = settled_config(optimizer=optimizer, lr_schedule=schedule, lr=0.5, warmup_steps=2)
    built = make_optimizer(cfg, 10)
    assert type(built).__name__.lower() == optimizer
    built.iterations.assign(6)
    assert float(built.learning_rate) == pytest.approx(float(WarmupSchedule(0.5, 10, schedule, 2)(6)))
