"""The run's TensorBoard event files: ``LOGDIR/train`` and ``LOGDIR/val``, written through one object so
that a failed write (disk full, file too large, permissions) is reported as such, and any other error of
the training step keeps its traceback."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

import tensorflow as tf

from data_utils.errors import UserError

SPLITS = ("train", "val")


class EventWriteError(UserError):
    """TensorBoard events could not be written to the run folder."""


class EventLog:
    """One summary writer per split; every write goes through :meth:`writing`."""

    def __init__(self, logdir: str):
        self.logdir = logdir
        self.writers = {}
        for split in SPLITS:
            with self._reporting(split):
                self.writers[split] = tf.summary.create_file_writer(os.path.join(logdir, split))

    @contextlib.contextmanager
    def _reporting(self, split: str) -> Iterator[None]:
        try:
            yield
        except tf.errors.OpError as err:
            raise EventWriteError(
                f"could not write TensorBoard events to {os.path.join(self.logdir, split)} "
                f"({err.message.splitlines()[0][-200:]}); disk full or not writable? Earlier checkpoints are "
                "intact: fix it and rerun the same command to resume.") from None

    @contextlib.contextmanager
    def writing(self, split: str, step: int) -> Iterator[None]:
        """Summaries written inside go to ``split`` at ``step``; a write that fails raises EventWriteError."""
        with self._reporting(split), self.writers[split].as_default(step=step):
            yield

    def scalars(self, split: str, step: int, values: dict[str, float]) -> None:
        """Writes one scalar per entry of ``values``."""
        with self.writing(split, step):
            for name, value in values.items():
                tf.summary.scalar(name, value)

    def flush(self) -> None:
        """Writes buffered events to disk."""
        for split, writer in self.writers.items():
            with self._reporting(split):
                writer.flush()
