"""Learning-rate schedule: linear warmup, then a registered schedule (:mod:`resnet_tf.schedules`)."""

from __future__ import annotations

import tensorflow as tf

from resnet_tf.schedules import schedule

UNKNOWN_LENGTH = 2**31 - 1  # the length of a run not yet sized (--time-budget): the rate stays at its peak


class WarmupSchedule(tf.keras.optimizers.schedules.LearningRateSchedule):
    """``lr`` after ``warmup_steps`` of linear warmup; the position is the optimizer's iteration count,
    which is checkpointed with the optimizer, so a resumed run continues the schedule where it was.

    The run's length is a variable: a run sized by its time budget sets it once it has measured its first
    steps (:meth:`set_total_steps`), without tracing the step again. Until then (``total_steps`` None) the
    schedule sees a run of unknown length, and the rate after warmup stays at ``lr``."""

    def __init__(self, lr: float, total_steps: int | None, kind: str = "cosine", warmup_steps: int = 0):
        self.multiplier = schedule(kind).multiplier  # ValueError naming the registered ones
        self.lr, self.kind, self.warmup_steps = lr, kind, warmup_steps
        self.total_steps = tf.Variable(UNKNOWN_LENGTH, dtype=tf.int64, trainable=False, name="total_steps")
        self.set_total_steps(total_steps)

    def set_total_steps(self, total_steps: int | None) -> None:
        """Sets the run's length in steps (None: not known yet)."""
        self.total_steps.assign(UNKNOWN_LENGTH if total_steps is None else max(1, total_steps))

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
        return {
            "lr": self.lr,
            "total_steps": int(self.total_steps.numpy()),
            "kind": self.kind,
            "warmup_steps": self.warmup_steps,
        }
