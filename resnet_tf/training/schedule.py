"""Learning-rate schedule: linear warmup, then constant, cosine decay to zero, or steps of x0.1."""

from __future__ import annotations

import math

import tensorflow as tf

from resnet_tf.runs.choices import SCHEDULES

STEP_DROPS = (1 / 3, 2 / 3)  # fractions of training after which the step schedule multiplies by 0.1


class WarmupSchedule(tf.keras.optimizers.schedules.LearningRateSchedule):
    """``lr`` after ``warmup_steps`` of linear warmup; the position is the optimizer's iteration count,
    which is checkpointed with the optimizer, so a resumed run continues the schedule where it was."""

    def __init__(self, lr: float, total_steps: int, kind: str = "cosine", warmup_steps: int = 0):
        if kind not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {kind!r}")
        self.lr, self.total_steps, self.kind, self.warmup_steps = lr, max(1, total_steps), kind, warmup_steps

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup = tf.cast(self.warmup_steps, tf.float32)
        decay_len = tf.maximum(tf.cast(self.total_steps, tf.float32) - warmup, 1.0)
        progress = tf.clip_by_value((step - warmup) / decay_len, 0.0, 1.0)
        if self.kind == "cosine":
            after = self.lr * 0.5 * (1.0 + tf.cos(math.pi * progress))
        elif self.kind == "step":
            drops = sum(tf.cast(progress >= f, tf.float32) for f in STEP_DROPS)
            after = self.lr * tf.pow(0.1, drops)
        else:
            after = tf.constant(self.lr, tf.float32)
        if self.warmup_steps <= 0:
            return after
        return tf.where(step < warmup, self.lr * (step + 1.0) / warmup, after)

    def get_config(self) -> dict:
        """Keras serialization."""
        return {"lr": self.lr, "total_steps": self.total_steps, "kind": self.kind, "warmup_steps": self.warmup_steps}
