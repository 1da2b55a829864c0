"""What a task sequence records after each task: the accuracy matrix and its figures on the console, in
TensorBoard (``LOGDIR/lifelong``: ACC, BWT, FWT and every task's top-1 as scalars by task, the matrix as a
heatmap and a table), in ``LOGDIR/history.csv`` (a row per task) and as ``LOGDIR/accuracy_matrix.png``."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import logging
import os

import numpy as np

from resnet_tf.console import files
from resnet_tf.console.logs import SUMMARY
from resnet_tf.evaluation.plots import accuracy_matrix_figure, figure_rgb, save_png
from resnet_tf.lifelong.metrics import BEFORE_ROW, AccuracyRecord
from resnet_tf.training.events import EventLog

LOG = logging.getLogger(__name__)
EVENTS = "lifelong"  # the sequence's event folder in the run folder
HISTORY_FILE, HEATMAP_FILE = "history.csv", "accuracy_matrix.png"
HISTORY_COLUMNS = ("task", "name", "steps", "seconds", "memory_images", "task_top1", "acc", "bwt", "fwt", "time")


@dataclasses.dataclass(frozen=True)
class TaskCost:
    """What learning a task cost: its steps, the seconds this process trained it, the images in its memory."""

    steps: int
    seconds: float
    memory_images: int


def figure_text(value: float | None) -> str:
    """A figure for a person: ``+0.012``, or ``-`` where it is not defined yet."""
    return "-" if value is None else f"{value:+.4f}"


def report_task(logdir: str, record: AccuracyRecord, index: int, cost: TaskCost) -> dict:
    """Records the matrix after task ``index`` everywhere it is shown; returns its figures (ACC, BWT, FWT)."""
    figures = record.figures(index)
    names = record.names
    LOG.log(
        SUMMARY,
        "task %d/%d %s done: top-1 %.4f on it, ACC %.4f (mean over tasks 1-%d), BWT %s, FWT %s",
        index + 1,
        len(names),
        names[index],
        record.rows[index][index],
        figures["acc"],
        index + 1,
        figure_text(figures["bwt"]),
        figure_text(figures["fwt"]),
    )
    _write_events(logdir, record, index, figures)
    save_png(_heatmap(record), os.path.join(logdir, HEATMAP_FILE))
    _append_history(logdir, record, index, cost, figures)
    return figures


def _heatmap(record: AccuracyRecord):
    labels = [BEFORE_ROW] + [f"task {i + 1} {name}" for i, name in enumerate(record.names[: len(record.rows)])]
    rows = np.vstack([record.before, record.matrix])
    return accuracy_matrix_figure(rows, labels, record.names, "top-1 on each task's validation set")


def _write_events(logdir: str, record: AccuracyRecord, index: int, figures: dict) -> None:
    events = EventLog(logdir, splits=(EVENTS,))
    step = index + 1  # the number of tasks learnt
    events.scalars(EVENTS, step, {k.upper(): v for k, v in figures.items() if v is not None})
    events.scalars(
        EVENTS,
        step,
        {f"task_top1/{j + 1:02d}_{n}": v for j, (n, v) in enumerate(zip(record.names, record.rows[index]))},
    )
    events.image(
        EVENTS, step, "accuracy_matrix", figure_rgb(_heatmap(record), dpi=80), "R[i][j]: top-1 on task j after task i"
    )
    events.text(EVENTS, step, "accuracy_matrix_table", _markdown(record))  # a tag is one plugin's: not the image's
    events.flush()


def _markdown(record: AccuracyRecord) -> str:
    header = "| after | " + " | ".join(record.names) + " |\n|---|" + "---|" * len(record.names)
    labelled = [(BEFORE_ROW, record.before)] + list(zip(record.names, record.rows))
    return header + "".join(f"\n| {label} | " + " | ".join(f"{v:.3f}" for v in row) + " |" for label, row in labelled)


def _append_history(logdir: str, record: AccuracyRecord, index: int, cost: TaskCost, figures: dict) -> None:
    path = os.path.join(logdir, HISTORY_FILE)
    rows = []
    if files.isfile(path):
        rows = [
            r for r in csv.DictReader(io.StringIO(files.read_bytes(path).decode("utf-8"))) if int(r["task"]) <= index
        ]
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    rows.append(
        {
            "task": index + 1,
            "name": record.names[index],
            "steps": cost.steps,
            "seconds": f"{cost.seconds:.1f}",
            "memory_images": cost.memory_images,
            "task_top1": f"{record.rows[index][index]:.6f}",
            **{k: "" if v is None else f"{v:.6f}" for k, v in figures.items()},
            "time": now,
        }
    )
    files.write_csv(path, HISTORY_COLUMNS, [[row[c] for c in HISTORY_COLUMNS] for row in rows])
