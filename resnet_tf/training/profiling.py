"""``--profile-steps FIRST,LAST``: a TensorFlow profiler trace of those training steps, for TensorBoard's
Profile tab (``LOGDIR/train/plugins/profile/<time>/*.xplane.pb``).

Each profiled step is marked with ``tf.profiler.experimental.Trace("train", step_num=N, _r=1)``, the step
marker the Profile tab's step-time breakdown looks for, as Keras' TensorBoard callback does.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import tensorflow as tf

LOG = logging.getLogger(__name__)


class StepProfiler:
    """Starts the profiler before step ``first`` and stops it after step ``last`` (or when training ends
    first). Steps already done before a resume are not profiled again."""

    def __init__(self, steps: tuple[int, int] | None, folder: str):
        self.steps = steps
        self.folder = folder
        self.active = False
        self.traced: list[int] = []  # the steps of this process's trace

    @contextlib.contextmanager
    def step(self, number: int) -> Iterator[None]:
        """Runs training step ``number`` (counted from 1), traced when it is in the range."""
        if self.steps is None or not self.steps[0] <= number <= self.steps[1]:
            yield
            return
        if not self.active:
            tf.profiler.experimental.start(self.folder)
            self.active = True
        with tf.profiler.experimental.Trace("train", step_num=number, _r=1):
            yield
        self.traced.append(number)
        if number == self.steps[1]:
            self.close()

    def close(self) -> None:
        """Stops the profiler if it runs and writes the trace."""
        if self.active:
            self.active = False
            tf.profiler.experimental.stop()
            if self.traced:
                LOG.info(
                    "profiled steps %d-%d into %s (TensorBoard's Profile tab)",
                    self.traced[0],
                    self.traced[-1],
                    self.folder,
                )
