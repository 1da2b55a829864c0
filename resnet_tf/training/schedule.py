"""Learning-rate schedule: linear warmup, then a registered schedule (:mod:`resnet_tf.schedules`)."""

from __future__ import annotations

import tensorflow as tf

from resnet_tf.schedules import schedule


class WarmupSchedule(tf.keras.optimizers.schedules.LearningRateSchedule):
    """``lr`` after ``warmup_steps`` of linear warmup; the position is the optimizer's iteration count,
    which is checkpointed with the optimizer, so a resumed run continues the schedule where it was."""

    def __init__(self, lr: float, total_steps: int, kind: str = "cosine", warmup_steps: int = 0):
        self.multiplier = schedule(kind).multiplier  # ValueError naming the registered ones
        self.lr, self.total_steps, self.kind, self.warmup_steps = lr, max(1, total_steps), kind, warmup_steps

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup = tf.cast(self.warmup_steps, tf.float32)
        decay_len = tf.maximum(tf.cast(self.total_steps, tf.float32) - warmup, 1.0)
        progress = tf.clip_by_value((step - warmup) / decay_len, 0.0, 1.0)
        after = self.lr * self.multiplier(progress)
        if self.warmup_steps <= 0:
            return after
        return tf.where(step < warmup, self.lr * (step + 1.0) / warmup, after)

    def get_config(self) -> dict:
        """Keras serialization."""
        return {"lr": self.lr, "total_steps": self.total_steps, "kind": self.kind, "warmup_steps": self.warmup_steps}
