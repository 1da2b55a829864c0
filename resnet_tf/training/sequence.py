"""The work behind ``train.py --tasks``: a sequence of tasks learnt one after the other in one run folder.

The sequence's configuration is settled once (``LOGDIR/config.json``); each task trains as a run of its own in
``LOGDIR/task-NN-<name>`` (checkpoints, best, events, history.csv: the guarantees of any run, so a sequence
resumes exactly at any step of any task), starting from the network at the end of the task before. After
each task every task's validation set is scored into the accuracy matrix (:mod:`resnet_tf.lifelong.metrics`),
recorded by :mod:`resnet_tf.training.sequence_report`; a task with its row in the matrix is done.
"""

from __future__ import annotations

import logging
import os
import time

import tensorflow as tf

from data_utils.csv_table import ClassMapping, RowChecks
from data_utils.lifelong_demo import make_lifelong_demo
from resnet_tf.console import files
from resnet_tf.console.errors import ConfigError
from resnet_tf.console.logs import SUMMARY
from resnet_tf.lifelong.metrics import MATRIX_FILE, AccuracyRecord
from resnet_tf.lifelong.strategies import strategy
from resnet_tf.lifelong.tasks import TaskSequence, read_sequence, read_tasks, task_folder
from resnet_tf.runs import config_file, settle
from resnet_tf.runs.builders import build_model, read_table
from resnet_tf.runs.config import TrainConfig
from resnet_tf.runs.placement import Placement
from resnet_tf.runs.resume import has_checkpoints
from resnet_tf.training.data import IMAGE_CHECK_CACHE
from resnet_tf.training.ending import exit_status
from resnet_tf.training.loop import Trainer
from resnet_tf.training.sequence_report import TaskCost, report_task
from resnet_tf.training.signals import StopSignal
from resnet_tf.training.state import Run
from resnet_tf.training.task_run import build_task, score_tasks, task_config

LOG = logging.getLogger(__name__)


def sequence_started(logdir: str) -> bool:
    """Whether ``logdir`` holds a sequence that has begun: its accuracy matrix, or a task with a checkpoint."""
    if files.isfile(files.join(logdir, MATRIX_FILE)):
        return True
    folders = files.listdir(logdir) if files.isdir(logdir) else []
    return any(name.startswith("task-") and has_checkpoints(files.join(logdir, name)) for name in folders)


def load_sequence(cfg: TrainConfig, saved: ClassMapping | None) -> TaskSequence:
    """The tasks CSV (made on the first start of ``--demo lifelong``) and every task's tables, checked;
    ConfigError when a resumed sequence's classes changed."""
    if cfg.data.demo == "lifelong" and not files.isfile(cfg.lifelong.tasks):
        LOG.info("generating the lifelong demo's 12 tasks in %s", os.path.dirname(cfg.lifelong.tasks))
        make_lifelong_demo(os.path.dirname(cfg.lifelong.tasks), seed=cfg.run.seed)
    checks = RowChecks(cfg.runtime.skip_bad_rows, check_cache=files.join(cfg.run.logdir, IMAGE_CHECK_CACHE))
    sequence = read_sequence(
        read_tasks(cfg.lifelong.tasks),
        lambda path, mapping: read_table(cfg, path, mapping=mapping, checks=checks),
        cfg.lifelong.scenario,
    )
    if saved is not None and saved != sequence.mapping:
        raise ConfigError(
            f"the tasks of {cfg.lifelong.tasks} now have other classes than when the run in {cfg.run.logdir} "
            f"started ({saved.num_classes} then, {sequence.mapping.num_classes} now); use another --logdir"
        )
    return sequence


def train_sequence(
    request: TrainConfig,
    requested: dict,
    resumed: config_file.SavedConfig | None,
    placement: Placement,
    profile: tuple[int, int] | None = None,
) -> int:
    """Learns the tasks that are not done yet, each to its end; returns the exit status (that of the task a
    signal stopped, else 0)."""
    if placement.num_workers > 1:
        raise ConfigError("--tasks trains on one machine (its GPUs, or its CPU); start it without TF_CONFIG")
    sequence = load_sequence(request, ClassMapping.from_json(resumed.classes) if resumed else None)
    cfg = settle.settle(request, sequence.mapping.num_classes)
    if cfg.runtime.deterministic:
        tf.keras.utils.set_random_seed(cfg.run.seed)
        tf.config.experimental.enable_op_determinism()
    config_file.save(cfg.to_json(), sequence.mapping.to_json(), requested, cfg.run.logdir)
    record = load_record(cfg, sequence)
    log_sequence(cfg, sequence, placement, len(record.rows))
    if record.before is None:
        with placement.strategy.scope():
            initial = build_model(task_config(cfg, sequence, 0))
        record.before = score_tasks(initial, cfg, sequence, placement)
        record.save(cfg.run.logdir)
    with StopSignal() as stop:
        for index in range(len(record.rows), len(sequence.tasks)):
            status = learn_task(cfg, sequence, index, placement, stop, record, profile)
            if status:
                return status
    log_end(cfg, record)
    return 0


def load_record(cfg: TrainConfig, sequence: TaskSequence) -> AccuracyRecord:
    """The accuracy matrix so far; ConfigError when it records other tasks than the tasks CSV lists."""
    try:
        return AccuracyRecord.load(cfg.run.logdir, [task.name for task in sequence.tasks])
    except ValueError as err:
        raise ConfigError(f"{err}: the tasks CSV changed since the run started; use another --logdir") from None


def learn_task(
    cfg: TrainConfig,
    sequence: TaskSequence,
    index: int,
    placement: Placement,
    stop: StopSignal,
    record: AccuracyRecord,
    profile: tuple[int, int] | None,
) -> int:
    """Trains task ``index`` to its end (from its newest checkpoint, if any), then scores every task and records
    the matrix's new row; returns the exit status (not 0: a signal stopped the task, its checkpoint saved)."""
    started = time.monotonic()
    run, memory = build_task(cfg, sequence, index, placement)
    log_task(run, sequence, index, memory)
    config_file.save(run.cfg.to_json(), run.tables.train.mapping.to_json(), {}, run.outdir)
    if run.network.step < run.total_steps:
        status = exit_status(Trainer(run, stop, profile).train())
        if status:
            return status
    record.rows.append(score_tasks(run.network.validated, cfg, sequence, placement))
    record.save(cfg.run.logdir)
    report_task(cfg.run.logdir, record, index, TaskCost(run.network.step, time.monotonic() - started, memory))
    return 0


def log_sequence(cfg: TrainConfig, sequence: TaskSequence, placement: Placement, done: int) -> None:
    """The sequence's first lines: the tasks, the scenario, the strategy, the network; where it resumes."""
    LOG.info(
        "%d tasks, %s-incremental (%d classes), strategy %s: %s; %s width %d, %dpx, batch %d, %s per task; logdir %s",
        len(sequence.tasks),
        sequence.scenario,
        sequence.mapping.num_classes,
        cfg.lifelong.lifelong_strategy,
        strategy(cfg.lifelong.lifelong_strategy).description,
        cfg.network.arch,
        cfg.network.width,
        cfg.data.image_size,
        cfg.data.batch_size,
        f"{cfg.optimization.max_steps} steps" if cfg.optimization.max_steps else f"{cfg.optimization.epochs} epochs",
        cfg.run.logdir,
    )
    for i, task in enumerate(sequence.tasks):
        LOG.info(
            "  task %d %s: %d train / %d val images, %d classes%s",
            i + 1,
            task.name,
            len(task.train),
            len(task.val),
            len(set(task.train.labels.tolist())),
            " (done)" if i < done else "",
        )
    LOG.info("%s", placement.describe(cfg.data.batch_size))


def log_task(run: Run, sequence: TaskSequence, index: int, memory: int) -> None:
    """A task's first line: what it trains on, how long, its folder."""
    LOG.info(
        "task %d/%d %s: %d training images%s, %d val, %d steps, %d classes in the head; folder %s",
        index + 1,
        len(sequence.tasks),
        sequence.tasks[index].name,
        len(run.tables.train),
        f" (with a memory of {memory} listed among them)" if memory else "",
        len(run.tables.val),
        run.total_steps,
        run.cfg.network.num_classes,
        task_folder(index, sequence.tasks[index].name),
    )


def log_end(cfg: TrainConfig, record: AccuracyRecord) -> None:
    """The sequence's result: the matrix, its figures, where it is kept."""
    figures = record.figures(len(record.rows) - 1)
    LOG.log(SUMMARY, "accuracy matrix (top-1 on each task's validation set, a row per task learnt):")
    for line in record.table().splitlines():
        LOG.log(SUMMARY, "  %s", line)
    LOG.log(
        SUMMARY,
        "done: %d tasks, ACC %.4f, BWT %+.4f, FWT %+.4f (in %s: %s, history.csv, accuracy_matrix.png)",
        len(record.rows),
        figures["acc"],
        figures["bwt"],
        figures["fwt"],
        cfg.run.logdir,
        MATRIX_FILE,
    )
