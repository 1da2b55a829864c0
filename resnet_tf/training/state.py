"""What a run trains and keeps: the network, its optimizer and weight average, the checkpointed state, the
checkpoint folders, and where the run starts from (its newest checkpoint, ``--init-from``, ``--pretrained``,
or nothing)."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable

import tensorflow as tf

from data_utils.errors import DataError, RowProblem
from data_utils.pipeline import steps_per_epoch
from resnet_tf.model import ResNet
from resnet_tf.runs.builders import build_model
from resnet_tf.runs.checkpoints import (
    BEST_FOLDER,
    CHECKPOINT_FOLDER,
    has_average,
    init_model_from,
    managers,
    remove_temporary,
    save_checkpoint,
    training_state,
)
from resnet_tf.runs.config import TrainConfig
from resnet_tf.runs.placement import Placement
from resnet_tf.runs.resume import repair_index, restore_newest
from resnet_tf.training.averaging import WeightAverage
from resnet_tf.training.data import Tables
from resnet_tf.training.distribution import check_same_step
from resnet_tf.training.history import History
from resnet_tf.training.schedule import WarmupSchedule
from resnet_tf.training.step import Distillation, make_batch_norm_averager, make_optimizer, make_schedule
from resnet_tf.weights.imagenet import pretrained_weights

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class Network:
    """What trains: the model, its optimizer, the weight average (``--ema-decay``) and the checkpointed
    ``state`` (step, model, optimizer, best accuracy, validations since it improved, average)."""

    model: ResNet
    optimizer: tf.keras.optimizers.Optimizer
    schedule: WarmupSchedule
    state: tf.train.Checkpoint
    average: WeightAverage | None = None

    @property
    def validated(self) -> ResNet:
        """The network validation scores and the best checkpoint is chosen by: the average if there is one."""
        return self.average.average if self.average is not None else self.model

    @property
    def step(self) -> int:
        """The number of steps trained."""
        return int(self.state.step)

    @property
    def best_accuracy(self) -> float:
        """The best validation top-1 so far (-1 before the first validation)."""
        return float(self.state.best_accuracy)


@dataclasses.dataclass
class Checkpoints:
    """Where the state is saved. ``latest`` and ``best`` write to this process's folder (the run folder, or a
    private folder on the other workers of a multi-worker run); ``run_folder`` reads the run folder's."""

    latest: tf.train.CheckpointManager
    best: tf.train.CheckpointManager
    run_folder: list[tf.train.CheckpointManager]  # the run folder's checkpoints and best one: read to resume
    average_batch_norm: Callable[[], None]

    def save(self, manager: tf.train.CheckpointManager, state: tf.train.Checkpoint) -> str:
        """Saves ``state`` through ``manager``, with the replicas' batch-norm statistics averaged first."""
        self.average_batch_norm()
        return save_checkpoint(manager, state)


@dataclasses.dataclass
class Run:
    """Everything the loop works with: the settled configuration, the tables, the network, the checkpoints,
    where this process trains (``placement``, ``outdir``), how long, and history.csv."""

    cfg: TrainConfig
    tables: Tables
    network: Network
    checkpoints: Checkpoints
    placement: Placement
    outdir: str
    total_steps: int | None  # None: a --time-budget run before it has measured its first steps
    steps_per_epoch: int
    history: History
    distillation: Distillation | None = None  # a task of a lwf sequence: the network before the task

    def save(self, which: str = "latest") -> str:
        """Saves the state as the ``latest`` or the ``best`` checkpoint; returns its path."""
        return self.checkpoints.save(getattr(self.checkpoints, which), self.network.state)


def _network(cfg: TrainConfig, total_steps: int | None, strategy: tf.distribute.Strategy) -> Network:
    with strategy.scope():
        model = build_model(cfg)
        model.freeze(cfg.optimization.freeze_stages)
        schedule = make_schedule(cfg, total_steps)
        optimizer = make_optimizer(cfg, schedule)
        optimizer.build(model.trained_variables())
        average = (
            WeightAverage(model, lambda: build_model(cfg), cfg.optimization.ema_decay)
            if cfg.optimization.ema_decay
            else None
        )
    # outside the strategy: its step, best accuracy and early-stopping count are plain host variables
    state = training_state(model, optimizer, average.average if average else None)
    return Network(model, optimizer, schedule, state, average)


def run_length(cfg: TrainConfig, per_epoch: int) -> int | None:
    """The run's number of steps: ``--max-steps`` (given, or measured for ``--time-budget``), else ``--epochs``
    epochs; None for a budgeted run that has not measured its first steps yet."""
    if cfg.optimization.max_steps:
        return cfg.optimization.max_steps
    return None if cfg.optimization.time_budget else cfg.optimization.epochs * per_epoch


def build_run(cfg: TrainConfig, tables: Tables, placement: Placement, outdir: str) -> Run:
    """Model, optimizer and checkpoint state, created in the strategy's scope."""
    per_epoch = steps_per_epoch(len(tables.train), cfg.data.batch_size)
    if per_epoch == 0:
        raise DataError(
            [
                RowProblem(
                    cfg.data.train_csv,
                    0,
                    "",
                    f"{len(tables.train)} usable images, fewer than one batch of {cfg.data.batch_size}",
                )
            ],
            hint="Lower --batch-size or add images.",
        )
    total_steps = run_length(cfg, per_epoch)
    network = _network(cfg, total_steps, placement.strategy)
    private = outdir != cfg.run.logdir
    for folder in (CHECKPOINT_FOLDER, BEST_FOLDER) if not private else ():  # the chief writes the run folder
        repair_index(os.path.join(cfg.run.logdir, folder))  # before a manager reads the list
        remove_temporary(os.path.join(cfg.run.logdir, folder))  # what a killed save left
    latest, best = managers(network.state, outdir, 1 if private else cfg.run.keep_checkpoints)
    run_folder = list(managers(network.state, cfg.run.logdir, cfg.run.keep_checkpoints)) if private else [latest, best]
    checkpoints = Checkpoints(latest, best, run_folder, make_batch_norm_averager(network.model, placement.strategy))
    return Run(cfg, tables, network, checkpoints, placement, outdir, total_steps, per_epoch, History(outdir))


def restore(run: Run) -> None:
    """Resume order: newest readable checkpoint of this run (:mod:`resnet_tf.runs.resume`); else
    --init-from; else --pretrained; else a fresh start."""
    network, cfg = run.network, run.cfg
    path = restore_newest(network.state, run.checkpoints.run_folder)
    if path:
        LOG.info(
            "resuming from %s at step %d/%s (epoch %d), best val accuracy so far %.4f",
            path,
            network.step,
            run.total_steps or "?",
            network.step // run.steps_per_epoch + 1,
            max(network.best_accuracy, 0),
        )
    elif cfg.network.init_from:
        LOG.info("%s", init_model_from(network.model, cfg.network.init_from))
    elif cfg.network.pretrained:
        LOG.info("%s", init_model_from(network.model, pretrained_weights(cfg.network.pretrained, cfg.network.arch)))
    else:
        LOG.info("starting a new run in %s", cfg.run.logdir)
    if network.average is not None and not (path and has_average(path)):
        network.average.reset()  # a new run, or --ema-decay added to a run that had none: start from the weights
    run.history.resume_at(network.step)
    check_same_step(run.placement, network.step)
