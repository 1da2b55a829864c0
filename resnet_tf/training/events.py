"""The run's TensorBoard event files: ``LOGDIR/train`` and ``LOGDIR/val``, written through one object so
that a failed write of an event file (disk full, file too large, permissions) is reported as such, and any
other error (of the training step, of a graph trace) keeps its traceback."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api

from resnet_tf.console import files
from resnet_tf.console.errors import OutputError

SPLITS = ("train", "val")
# The metrics of a run in the HParams tab, in its order: (run part, scalar tag, column title).
HPARAMS_METRICS = (
    ("val", "accuracy", "val top-1"),
    ("val", "best_accuracy", "val best top-1"),
    ("val", "top5_accuracy", "val top-5"),
    ("val", "loss", "val loss"),
    ("train", "loss", "train loss"),
)
# The settings people compare runs by, in TensorBoard's HParams tab (all of them are in config.json): few
# enough that the metrics' columns are on the first screen.
COMPARED_SETTINGS = (
    "arch",
    "width",
    "image_size",
    "batch_size",
    "optimizer",
    "lr",
    "lr_schedule",
    "epochs",
    "time_budget",
    "augment",
    "batch_augment",
    "stem",
    "weight_decay",
    "label_smoothing",
    "precision",
    "ema_decay",
)
# The ops that write event files: an error of one of them is a failed write.
WRITER_OPS = (
    "CreateSummaryFileWriter",
    "WriteSummary",
    "WriteScalarSummary",
    "WriteImageSummary",
    "WriteRawProtoSummary",
    "WriteGraphSummary",
    "FlushSummaryWriter",
    "CloseSummaryWriter",
)


def compared_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The settings of ``COMPARED_SETTINGS`` from a run's options, for the HParams tab: a run sized by its
    time budget shows the budget, not ``--epochs``, which is not its length."""
    return {k: None if k == "epochs" and options["time_budget"] else options[k] for k in COMPARED_SETTINGS}


class EventWriteError(OutputError):
    """TensorBoard events could not be written to the run folder."""


class EventLog:
    """One summary writer per split (``LOGDIR/<split>``); every write goes through :meth:`writing`."""

    def __init__(self, logdir: str, splits: tuple[str, ...] = SPLITS):
        self.logdir = logdir
        self.writers = {}
        for split in splits:
            with self._reporting(split):
                self.writers[split] = tf.summary.create_file_writer(os.path.join(logdir, split))

    @contextlib.contextmanager
    def _reporting(self, split: str) -> Iterator[None]:
        try:
            yield
        except tf.errors.OpError as err:
            if not any(op in (err.message or "") for op in WRITER_OPS):
                raise
            remote = files.is_remote(self.logdir)
            detail = files.store_answer(err.message)[:300] if remote else err.message.splitlines()[0][-200:]
            raise EventWriteError(
                f"could not write TensorBoard events to {os.path.join(self.logdir, split)} "
                f"({detail}); {files.what_to_check(self.logdir)} "
                "Earlier checkpoints are intact: fix it and rerun the same command to resume."
            ) from None

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

    def image(self, split: str, step: int, name: str, rgb: np.ndarray, description: str = "") -> None:
        """Writes one ``[H, W, 3]`` uint8 image (TensorBoard's Images tab)."""
        with self.writing(split, step):
            tf.summary.image(name, rgb[np.newaxis], description=description)

    def text(self, split: str, step: int, name: str, markdown: str) -> None:
        """Writes Markdown text (TensorBoard's Text tab renders tables)."""
        with self.writing(split, step):
            tf.summary.text(name, markdown)

    def hparams(self, values: dict[str, Any]) -> None:
        """Records the run's settings for TensorBoard's HParams tab, in the run folder itself (one session
        per run; its metrics are the last values of the ``train`` and ``val`` scalars). Settings that are
        None are left out, since the tab compares values of one type; whole numbers are written as text,
        which the tab shows as they are (it shows numbers with five digits: 32.000)."""
        kept = {
            k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in values.items()
            if v is not None
        }
        with self._reporting(""):
            writer = tf.summary.create_file_writer(self.logdir)
            with writer.as_default():
                # the columns in this order, the validation's metrics first (the tab shows five of each)
                hparams_api.hparams_config(
                    hparams=[hparams_api.HParam(name) for name in kept],
                    metrics=[
                        hparams_api.Metric(tag, group=group, display_name=shown)
                        for group, tag, shown in HPARAMS_METRICS
                    ],
                )
                hparams_api.hparams(kept, trial_id=os.path.basename(files.absolute(self.logdir)))
            writer.close()

    def flush(self) -> None:
        """Writes buffered events to disk."""
        for split, writer in self.writers.items():
            with self._reporting(split):
                writer.flush()
