"""One task of a sequence (``train.py --tasks``): its run folder inside the sequence's, what it trains on (the
strategy's composition, written on the task's first start and read back on every start), where its weights
start (its own newest checkpoint, else the network at the end of the task before, its head grown by the
task's new classes), the network it distils from (``lwf``), and the scoring of every task's validation set."""

from __future__ import annotations

import dataclasses
import logging
import os

import numpy as np
import tensorflow as tf

from data_utils.csv_table import RowChecks
from resnet_tf.console import files
from resnet_tf.evaluation.predictions import check_decoded, make_predict_step, predict_table
from resnet_tf.lifelong.memory import Rows
from resnet_tf.lifelong.strategies import Replay, strategy
from resnet_tf.lifelong.tasks import TaskSequence, task_folder
from resnet_tf.model import ResNet
from resnet_tf.runs.builders import build_model, pipeline_settings, read_table
from resnet_tf.runs.checkpoints import find_checkpoint, has_average, init_model_from
from resnet_tf.runs.config import TrainConfig
from resnet_tf.runs.placement import Placement
from resnet_tf.runs.resume import restore_newest
from resnet_tf.training.data import IMAGE_CHECK_CACHE, Tables
from resnet_tf.training.state import Run, build_run
from resnet_tf.training.step import Distillation

LOG = logging.getLogger(__name__)
TRAIN_CSV, MEMORY_CSV = "train.csv", "memory.csv"  # in the task folder's data/: what the task trains on


def task_config(cfg: TrainConfig, sequence: TaskSequence, index: int) -> TrainConfig:
    """The configuration of task ``index``: the sequence's, in the task's folder, with the task's data and the
    head it has while it learns the task."""
    folder = files.join(cfg.run.logdir, task_folder(index, sequence.tasks[index].name))
    return cfg.replace(
        logdir=folder,
        tasks=None,
        train_csv=files.join(folder, "data", TRAIN_CSV),
        val_csv=sequence.tasks[index].val.csv_path,
        num_classes=sequence.head_size(index),
    )


def compose(cfg: TrainConfig, task_cfg: TrainConfig, sequence: TaskSequence, index: int) -> int:
    """Writes what task ``index`` trains on, as the strategy composes it (and the replay memory, if any), into
    the task folder's ``data/`` unless a start of the task did; returns the memory's size (0 without one)."""
    memory_csv = files.join(os.path.dirname(task_cfg.data.train_csv), MEMORY_CSV)
    if files.isfile(task_cfg.data.train_csv):
        return len(files.read_bytes(memory_csv).splitlines()) - 1 if files.isfile(memory_csv) else 0
    streams = [Rows(task.train.paths, task.train.labels) for task in sequence.tasks]
    replay = Replay(cfg.lifelong.memory_per_class, cfg.lifelong.replay_ratio, cfg.run.seed)
    composition = strategy(cfg.lifelong.lifelong_strategy).compose(streams, index, replay)
    names = sequence.mapping.names
    if composition.memory is not None:
        files.write_csv(
            memory_csv, ("path", "label"), zip(composition.memory.paths, (names[i] for i in composition.memory.labels))
        )
    rows = composition.rows
    files.write_csv(task_cfg.data.train_csv, ("path", "label"), zip(rows.paths, (names[i] for i in rows.labels)))
    return len(composition.memory) if composition.memory is not None else 0


def task_tables(cfg: TrainConfig, task_cfg: TrainConfig, sequence: TaskSequence, index: int) -> Tables:
    """The task's training table (its composed CSV, read back) and validation table, with the task's classes."""
    mapping = sequence.task_mapping(index)
    checks = RowChecks(cfg.runtime.skip_bad_rows, check_cache=files.join(cfg.run.logdir, IMAGE_CHECK_CACHE))
    train = read_table(task_cfg.replace(image_root=None), task_cfg.data.train_csv, mapping=mapping, checks=checks)
    return Tables(train, dataclasses.replace(sequence.tasks[index].val, mapping=mapping))


def previous_network(cfg: TrainConfig, sequence: TaskSequence, index: int, strategy: tf.distribute.Strategy) -> ResNet:
    """The network at the end of task ``index - 1`` (its newest checkpoint; its weight average if it has
    one), fixed, with that task's head."""
    before = task_config(cfg, sequence, index - 1)
    with strategy.scope():
        model = build_model(before)
    init_model_from(model, find_checkpoint("latest", before.run.logdir))
    return model


def grow(model: ResNet, previous: ResNet) -> None:
    """Sets ``model``'s weights to ``previous``'s; a head with more classes keeps ``previous``'s outputs as its
    first ones, and the new classes' outputs keep their initialization."""
    for new, old in zip(model.variables, previous.variables):
        if new.name != old.name or new.shape[:-1] != old.shape[:-1]:
            raise ValueError(f"cannot continue {new.name} {new.shape} from {old.name} {old.shape}")
        new[..., : old.shape[-1]].assign(old)


def start_task(run: Run, previous: ResNet | None, index: int) -> None:
    """Where task ``index``'s weights start: its own newest checkpoint, else ``previous`` (the network at the
    end of the task before, grown), else the initial weights (the first task)."""
    network = run.network
    path = restore_newest(network.state, run.checkpoints.run_folder)
    if path:
        LOG.info("task %d: resuming from %s at step %d/%d", index + 1, path, network.step, run.total_steps)
    elif previous is not None:
        grow(network.model, previous)
        grown = network.model.num_classes - previous.num_classes
        LOG.info(
            "task %d: starting from the network at the end of task %d%s",
            index + 1,
            index,
            f" (head grown by {grown} classes to {network.model.num_classes})" if grown else "",
        )
    if network.average is not None and not (path and has_average(path)):
        network.average.reset()
    run.history.resume_at(network.step)


def build_task(cfg: TrainConfig, sequence: TaskSequence, index: int, placement: Placement) -> tuple[Run, int]:
    """Task ``index``'s run, its weights restored or started (see :func:`start_task`); and its memory's size."""
    task_cfg = task_config(cfg, sequence, index)
    memory = compose(cfg, task_cfg, sequence, index) if placement.is_chief else 0
    run = build_run(task_cfg, task_tables(cfg, task_cfg, sequence, index), placement, task_cfg.run.logdir)
    previous = previous_network(cfg, sequence, index, placement.strategy) if index else None
    if previous is not None and strategy(cfg.lifelong.lifelong_strategy).distills:
        lifelong = cfg.lifelong
        run.distillation = Distillation(
            previous, lifelong.distill_weight, lifelong.distill_temperature, sequence.task_classes(index)
        )
    start_task(run, previous, index)
    return run, memory


def score_tasks(model: ResNet, cfg: TrainConfig, sequence: TaskSequence, placement: Placement) -> np.ndarray:
    """The top-1 of ``model`` on every task's validation set, in task order. A class the head does not have yet
    (a later task's, class-incremental) is never predicted: its images count as wrong."""
    predict = make_predict_step(model, cfg.data.normalization, cfg.runtime.jit, test_time=cfg.data.tta)
    settings = pipeline_settings(cfg, training=False, batch_size=placement.per_replica_batch(cfg.data.batch_size))
    scores = []
    for j, task in enumerate(sequence.tasks):
        preds = predict_table(predict, task.val, settings, desc=f"task {j + 1}", strategy=placement.strategy)
        ok = check_decoded(task.val, preds, cfg.runtime.skip_bad_rows)
        right = np.argmax(preds.logits, -1) == task.val.labels
        scores.append(float(right[ok].mean()) if ok.any() else 0.0)
    return np.array(scores)
