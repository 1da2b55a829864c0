"""Tests of the weight average (--ema-decay): its update, its warmup, and how checkpoints hand it out."""

import numpy as np
import tensorflow as tf

from resnet_tf.model import ResNet
from resnet_tf.runs.checkpoints import (
    has_average,
    init_model_from,
    managers,
    restore_weights,
    save_checkpoint,
    training_state,
)
from resnet_tf.training.averaging import WeightAverage


def tiny(seed: int = 0) -> ResNet:
    return ResNet(18, 3, width=4, seed=seed)


def test_average_follows_the_weights_with_a_warmed_up_decay():
    model = tiny()
    average = WeightAverage(model, lambda: tiny(seed=1), decay=0.9)
    assert not average.average.trainable_variables  # never trained, never in the optimizer
    average.reset()
    start = model.logits.b.numpy().copy()
    model.logits.b.assign_add(tf.fill([3], 1.0))
    average.update(tf.constant(0))  # decay min(0.9, 1/10) = 0.1: mostly the new weights
    np.testing.assert_allclose(average.average.logits.b.numpy(), start + 0.9, rtol=1e-6)
    model.logits.b.assign_add(tf.fill([3], 1.0))
    average.update(tf.constant(1000))  # decay 0.9 once warmed up
    np.testing.assert_allclose(average.average.logits.b.numpy(), 0.9 * (start + 0.9) + 0.1 * (start + 2), rtol=1e-6)
    moving = [v for v in average.average.variables if "moving_mean" in v.name]
    assert moving  # batch-norm statistics are averaged too


def test_checkpoints_hand_out_the_average_as_the_network(tmp_path):
    model, averaged = tiny(), tiny(seed=1)
    averaged.logits.b.assign([7.0, 8.0, 9.0])
    optimizer = tf.keras.optimizers.SGD(0.1)
    optimizer.build(model.trainable_variables)
    state = training_state(model, optimizer, averaged)
    state.step.assign(3)
    path = save_checkpoint(managers(state, str(tmp_path), keep=2)[0], state)
    assert has_average(path)
    restored = tiny(seed=2)
    assert restore_weights(restored, path) == 3
    np.testing.assert_array_equal(restored.logits.b.numpy(), [7.0, 8.0, 9.0])
    other = tiny(seed=3)
    assert "its weight average" in init_model_from(other, path)
    np.testing.assert_array_equal(other.logits.b.numpy(), [7.0, 8.0, 9.0])
    plain = training_state(tiny(), optimizer)
    plain_path = save_checkpoint(managers(plain, str(tmp_path / "plain"), keep=2)[0], plain)
    assert not has_average(plain_path)
