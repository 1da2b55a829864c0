"""evaluate.py, export.py and predict.py on the run folder of a sequence of tasks (``train.py --tasks``): the
accuracy matrix it recorded and its figures, printed; the network at the end of the last task learnt, for
scoring a CSV, exporting or predicting as any run's checkpoint is."""

from __future__ import annotations

import argparse
import logging

from resnet_tf.console import files
from resnet_tf.console.errors import ConfigError
from resnet_tf.console.logs import SUMMARY
from resnet_tf.lifelong.metrics import MATRIX_FILE, AccuracyRecord
from resnet_tf.lifelong.tasks import task_folder
from resnet_tf.runs.config_file import SavedRun, load_run

LOG = logging.getLogger(__name__)


def finished_tasks(logdir: str) -> AccuracyRecord:
    """The accuracy matrix of the sequence in ``logdir``; ConfigError when no task has finished."""
    record = AccuracyRecord.load(logdir)
    if not record.rows:
        raise ConfigError(
            f"{logdir} is a sequence of tasks with no task finished yet ({files.join(logdir, MATRIX_FILE)} has no "
            "row of a task): rerun train.py --logdir on it to continue"
        )
    return record


def report_sequence(logdir: str) -> AccuracyRecord:
    """Prints the accuracy matrix of the sequence in ``logdir`` and its figures after its last task learnt;
    returns the record. ConfigError when no task has finished."""
    record = finished_tasks(logdir)
    last = len(record.rows) - 1
    LOG.log(SUMMARY, "accuracy matrix of %s (top-1 on each task's validation set, a row per task learnt):", logdir)
    for line in record.table().splitlines():
        LOG.log(SUMMARY, "  %s", line)
    figures = record.figures(last)
    LOG.log(
        SUMMARY,
        "after task %d/%d (%s): ACC %.4f, BWT %s, FWT %s",
        last + 1,
        len(record.names),
        record.names[last],
        figures["acc"],
        "-" if figures["bwt"] is None else f"{figures['bwt']:+.4f}",
        "-" if figures["fwt"] is None else f"{figures['fwt']:+.4f}",
    )
    return record


def last_task_folder(logdir: str, record: AccuracyRecord) -> str:
    """The run folder of the last task learnt in the sequence ``logdir``."""
    last = len(record.rows) - 1
    return files.join(logdir, task_folder(last, record.names[last]))


def final_network(args: argparse.Namespace, run: SavedRun) -> tuple[argparse.Namespace, SavedRun]:
    """For a sequence of tasks: the options and the run folder of its last task learnt (said on the console);
    any other run as it is."""
    if not run.config.lifelong.tasks:
        return args, run
    folder = last_task_folder(args.logdir, finished_tasks(args.logdir))
    LOG.info("%s is a sequence of tasks: the network at the end of its last task learnt, in %s", args.logdir, folder)
    return task_arguments(args, folder), load_run(folder)


def task_arguments(args: argparse.Namespace, folder: str) -> argparse.Namespace:
    """evaluate.py's options, aimed at the task's run folder ``folder``: its ``latest`` checkpoint unless
    ``--checkpoint`` names another (the network the accuracy matrix scored, at the end of the task)."""
    return argparse.Namespace(**{**vars(args), "logdir": folder, "checkpoint": args.checkpoint or "latest"})
