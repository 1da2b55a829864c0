"""What a sequence of tasks (``--tasks``, ``--demo lifelong``) settles differently from a run of one task: the
lifelong demo's recipe, where it keeps the tasks it makes, and the options that cannot go with a sequence.
Called by :mod:`resnet_tf.runs.settle`, the one place a configuration is settled."""

from __future__ import annotations

import os

from resnet_tf.console.errors import ConfigError
from resnet_tf.runs.config import TrainConfig, option_name

# What --demo lifelong changes besides: each of its 12 tasks (1,224 training images of 48 px) trains 4 epochs,
# warming up over its first 20 steps.
LIFELONG_DEMO_DEFAULTS = {"image_size": 48, "epochs": 4, "warmup_steps": 20, "ckpt_every": 100}


def generated_tasks(folder: str) -> str:
    """Where the tasks CSV of ``--demo lifelong`` is kept: ``FOLDER/data/tasks.csv``."""
    return os.path.join(folder, "data", "tasks.csv")


def check_sequence(cfg: TrainConfig) -> None:
    """A task sequence's data and length: its tasks CSV names every task's CSVs; its length is per task."""
    other = [name for name in ("train_csv", "val_csv", "image_dir") if cfg.options()[name]]
    other += ["demo"] if cfg.data.demo == "objects" else []
    if cfg.data.demo == "lifelong" and cfg.lifelong.tasks != generated_tasks(cfg.run.logdir):
        raise ConfigError("--demo lifelong makes its tasks; do not also give --tasks")
    if other:
        raise ConfigError(f"--tasks lists each task's CSVs; do not also give {option_name(other[0])}")
    if cfg.optimization.time_budget:
        raise ConfigError("--time-budget does not size a sequence of tasks; give --epochs or --max-steps per task")
    if cfg.runtime.strategy == "multi-worker":
        raise ConfigError("--tasks trains on one machine (all its GPUs, or its CPU): not with --strategy multi-worker")
