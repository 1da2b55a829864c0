"""What the training loop watches: the steps' outputs, NaN/Inf steps, undecodable images, and summaries.

The step function returns its results as tensors that stay on the device. Reading them (``float(loss)``)
waits for the device, which on a GPU would stall the input queue at every step, so :class:`Meter` keeps
them and reads all the steps since the last read in one go (:meth:`Meter.settle`), at every boundary of
the loop (summary, validation, checkpoint, end). A NaN/Inf step or an undecodable image is therefore
noticed at the next boundary, never after a checkpoint that follows it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from resnet_tf.console.errors import UserError
from resnet_tf.training.events import EventLog


class TrainingDiverged(UserError, FloatingPointError):
    """The loss or the gradients became NaN/Inf."""


@dataclasses.dataclass
class PendingStep:
    """One training step's outputs, still on the device. ``number`` counts steps from 1."""

    number: int
    outputs: tuple  # loss, correct, counted, finite: scalars summed over replicas
    ok: tuple  # per replica: whether each example's image decoded
    index: tuple  # per replica: each example's row in the training table


@dataclasses.dataclass
class Settled:
    """What :meth:`Meter.settle` found: NaN/Inf steps with their loss, and steps with undecodable images."""

    nonfinite: list[tuple[int, float]]
    undecodable: list[tuple[int, np.ndarray]]  # (step number, table rows)


class Meter:
    """Training statistics between two summaries, read from the device only when settled.
    Images/s leaves out the first step of a process, which includes tracing the step function."""

    def __init__(self):
        self.skipped_images = 0
        self.nonfinite_steps = 0
        self.pending: list[PendingStep] = []
        self.since_validation = np.zeros(4)  # loss sum, correct, counted, finite steps
        self.reset(time.perf_counter())

    def reset(self, now: float) -> None:
        """Starts a new summary interval at time ``now``."""
        self.sums, self.finite_steps, self.timed_steps, self.tick = np.zeros(3), 0, 0, now

    def add(self, number: int, outputs: tuple, ok: tuple, index: tuple) -> None:
        """Keeps step ``number``'s outputs (tensors) without reading them."""
        self.pending.append(PendingStep(number, outputs, ok, index))
        self.timed_steps += 1

    def restart_clock(self) -> None:
        """Times the interval from now on (after the first, tracing step: call after :meth:`settle`)."""
        self.tick, self.timed_steps = time.perf_counter(), 0

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Leaves the time spent inside (validation, checkpoint writes) out of images/s."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.tick += time.perf_counter() - start

    def settle(self, global_batch: int) -> Settled:
        """Reads every pending step's outputs in one go; adds the finite ones to the interval's sums. A step
        that counted fewer than ``global_batch`` images had an undecodable one: its rows are listed when they
        were in this process's share (under multi-worker training, another worker's share lists none)."""
        pending, self.pending = self.pending, []
        if not pending:
            return Settled([], [])
        values = tf.stack([tf.stack([tf.cast(v, tf.float32) for v in p.outputs]) for p in pending]).numpy()
        ok = tf.stack([tf.concat(p.ok, 0) for p in pending]).numpy()
        settled = Settled([], [])
        for p, (loss, correct, counted, finite), step_ok in zip(pending, values, ok):
            if finite:
                self.sums += [loss, correct, counted]
                self.finite_steps += 1
                self.since_validation += [loss, correct, counted, 1]
            else:
                settled.nonfinite.append((p.number, float(loss)))
            if counted < global_batch:
                settled.undecodable.append((p.number, tf.concat(p.index, 0).numpy()[~step_ok]))
        return settled

    def take_validation_interval(self) -> dict[str, float]:
        """The training loss and accuracy since the previous call (call after :meth:`settle`), for the row of
        a validation; NaN before any finite step."""
        loss, correct, counted, steps = self.since_validation
        self.since_validation = np.zeros(4)
        return {
            "train_loss": loss / steps if steps else float("nan"),
            "train_accuracy": correct / counted if counted else float("nan"),
        }

    def write(self, events: EventLog, step: int, lr: float, batch_size: int, log_nonfinite: bool) -> dict:
        """Writes the interval's averages to the ``train`` events (call after :meth:`settle`) and starts a new
        interval."""
        now = time.perf_counter()
        loss, correct, counted = self.sums
        values = {
            "loss": loss / max(self.finite_steps, 1),
            "accuracy": correct / max(counted, 1),
            "images_per_sec": self.timed_steps * batch_size / max(now - self.tick, 1e-9),
            "learning_rate": lr,
        }
        if log_nonfinite:
            values["skipped_nonfinite_steps"] = self.nonfinite_steps
        events.scalars("train", step, values)
        self.reset(now)
        return values
