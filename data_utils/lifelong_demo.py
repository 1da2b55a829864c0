"""The demo's objects as a sequence of tasks, as the OpenLORIS-Object benchmark presents its objects: four
factors (illumination, occlusion, object size, clutter), each at three levels, one task per factor and level,
12 tasks in that order; every task has every class, recorded under its factor's level with the other
factors at their normal level (a domain-incremental sequence).

    python -m data_utils.lifelong_demo --out DIR [--classes 51] [--per-class N] [--size S] [--seed 0]

writes each task's images and CSVs into ``DIR/NN_<factor>_<level>/`` (as ``data_utils.demo`` does) and
``DIR/tasks.csv`` (``task,train_csv,val_csv``), which ``train.py --tasks`` reads.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from collections.abc import Sequence

import numpy as np

from data_utils.demo import DEMO_CLASSES, Condition, make_demo_dataset
from resnet_tf.console import files
from resnet_tf.console.errors import ConfigError, exit_status
from resnet_tf.console.logs import setup_logging
from resnet_tf.console.options import add_shared
from resnet_tf.console.parser import script_parser

LIFELONG_PER_CLASS, LIFELONG_SIZE = 30, 48  # images per class of each task (a fifth for validation), side
TASKS_FILE = "tasks.csv"
LOG = logging.getLogger(__name__)
# The normal level of every factor: a light of gain about 1, nothing hidden, a medium object, a gradient
# background with a few shapes behind the object.
NORMAL = Condition(scale=(0.75, 1.0), gain=(0.85, 1.15), occlusion=0.0, background="gradient", clutter=3)
FACTORS = (
    ("illumination", (("weak", {"gain": (0.2, 0.4)}), ("normal", {}), ("strong", {"gain": (1.8, 2.4)}))),
    ("occlusion", (("0%", {}), ("25%", {"occlusion": 0.25}), ("50%", {"occlusion": 0.5}))),
    ("size", (("small", {"scale": (0.35, 0.5)}), ("medium", {}), ("large", {"scale": (1.35, 1.7)}))),
    ("clutter", (("simple", {"background": "plain", "clutter": 0}), ("normal", {}), ("complex", {"clutter": 14}))),
)


def task_conditions() -> list[tuple[str, str, Condition]]:
    """The 12 tasks in order: ``(factor, level, condition)``."""
    return [
        (factor, level, dataclasses.replace(NORMAL, **changes))
        for factor, levels in FACTORS
        for level, changes in levels
    ]


def task_seed(seed: int, task: int) -> int:
    """The seed of task ``task``'s images: each task's objects in other poses."""
    return int(np.random.SeedSequence([seed, task]).generate_state(1)[0] >> 1)


def make_lifelong_demo(
    out: str,
    num_classes: int = DEMO_CLASSES,
    per_class: int = LIFELONG_PER_CLASS,
    size: int = LIFELONG_SIZE,
    seed: int = 0,
    show_progress: bool = True,
) -> str:
    """Writes the 12 tasks under ``out`` and returns the path of ``tasks.csv``; a ConfigError where ``out``
    holds a tasks CSV already."""
    tasks_csv = files.join(out, TASKS_FILE)
    if files.exists(tasks_csv):
        raise ConfigError(f"{tasks_csv} already exists; the demo writes only new files: choose another --out")
    rows = []
    for t, (factor, level, condition) in enumerate(task_conditions()):
        folder = f"{t + 1:02d}_{factor}_{level.rstrip('%')}"
        LOG.info("rendering task %d/12: %s %s", t + 1, factor, level)
        make_demo_dataset(
            files.join(out, folder), num_classes, per_class, size, task_seed(seed, t), show_progress, condition
        )
        rows.append((f"{factor} {level}", f"{folder}/train.csv", f"{folder}/val.csv"))
    files.write_csv(tasks_csv, ("task", "train_csv", "val_csv"), rows)
    return tasks_csv


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = script_parser(__doc__)
    parser.add_argument("--out", required=True, help="folder to write the tasks to")
    parser.add_argument("--classes", type=int, default=DEMO_CLASSES, help="number of classes")
    parser.add_argument("--per-class", type=int, default=LIFELONG_PER_CLASS, help="images per class of each task")
    parser.add_argument("--size", type=int, default=LIFELONG_SIZE, help="image side in pixels")
    add_shared(parser, "seed", default=0, help="random seed")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    args = parse_args(argv)
    setup_logging("lifelong_demo")

    def work() -> int:
        path = make_lifelong_demo(args.out, args.classes, args.per_class, args.size, args.seed)
        LOG.info("wrote %s", path)
        return 0

    return exit_status(LOG, work)


if __name__ == "__main__":  # python -m data_utils.lifelong_demo: run as the module itself, so it logs by its name
    from data_utils.lifelong_demo import main as module_main

    raise SystemExit(module_main())
