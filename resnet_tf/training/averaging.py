"""An exponential moving average of the network's weights (``--ema-decay``), as timm's ModelEma and
torchvision's reference scripts keep one.

The average is a second :class:`ResNet` of the same structure, so it validates, checkpoints and exports as
any network does: checkpoints hold it under ``average`` beside the trained ``model``, and whoever loads a
checkpoint with an average (evaluate.py, export.py, predict.py, ``--init-from``) takes the averaged
weights. Every variable is averaged, the batch-norm moving statistics too (they are part of the network
that is validated). The decay warms up as in ``tf.train.ExponentialMovingAverage`` with ``num_updates``:
``min(decay, (1 + n) / (10 + n))`` after ``n`` updates, so that short runs are not dominated by their first
weights.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from resnet_tf.model import ResNet


def _averaged_variables(next_creator: Callable, **kwargs) -> tf.Variable:
    # Not trained; under tf.distribute an update from the replicas stores their mean (the moving statistics
    # of batch norm differ between replicas; the trained weights do not). Integer variables made while
    # building (the initializers' random state) cannot be averaged and are left as they are.
    dtype = kwargs.get("dtype") or getattr(kwargs.get("initial_value"), "dtype", None)
    kwargs["trainable"] = False
    if dtype is not None and tf.as_dtype(dtype).is_floating:
        kwargs["aggregation"] = tf.VariableAggregation.MEAN
    return next_creator(**kwargs)


class WeightAverage(tf.Module):
    """The averaged copy of ``model`` (``average``), updated by :meth:`update` after every training step."""

    def __init__(self, model: ResNet, build: Callable[[], ResNet], decay: float):
        super().__init__(name="weight_average")
        with tf.variable_creator_scope(_averaged_variables):
            self.average = build()
        self.decay = decay
        self._pairs = list(zip(self.average.variables, model.variables))
        mismatched = [a.name for a, v in self._pairs if a.shape != v.shape]
        if mismatched or len(self.average.variables) != len(model.variables):
            raise ValueError(f"the average does not have the model's structure ({mismatched[:3]})")

    def reset(self) -> None:
        """Makes the average equal to the model (a new run, or weights loaded from elsewhere)."""
        for average, value in self._pairs:
            average.assign(value)

    def update(self, num_updates: tf.Tensor) -> None:
        """``average = d * average + (1 - d) * model`` with the warmed-up decay ``d`` after ``num_updates``
        optimizer steps. Called in the training step (a replica context under tf.distribute)."""
        n = tf.cast(num_updates, tf.float32)
        decay = tf.minimum(self.decay, (1.0 + n) / (10.0 + n))
        for average, value in self._pairs:
            average.assign(decay * average + (1.0 - decay) * value)
