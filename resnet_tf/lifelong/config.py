"""The ``lifelong`` section of the run configuration: the tasks a run learns one after the other, the strategy,
the scenario and the strategies' settings, with the bounds of its numbers."""

from __future__ import annotations

import dataclasses

from resnet_tf.console.options import Number, option
from resnet_tf.lifelong.strategies import STRATEGIES

# domain: every task has the same classes, under new conditions; class: tasks bring new classes (the head grows)
SCENARIOS = ("domain", "class")

BOUNDS = {
    "memory_per_class": Number(int, 1),
    "replay_ratio": Number(float, 0, 1, open_low=True, open_high=True),
    "distill_weight": Number(float, 0),
    "distill_temperature": Number(float, 0, open_low=True),
}


@dataclasses.dataclass(frozen=True)
class LifelongConfig:
    """A sequence of tasks learnt one after the other, and what is done against forgetting (docs/lifelong.md)."""

    tasks: str | None = option(
        None,
        "a tasks CSV (columns task,train_csv,val_csv; a row per task, in the order they are learnt) instead of "
        "--train-csv/--val-csv: the run learns the tasks one after the other, scores every task after each, and "
        "keeps the accuracy matrix; --epochs and --max-steps are per task",
    )
    lifelong_strategy: str = option(
        "naive",
        f"what each task trains on; {STRATEGIES.describe()}",
        choices=STRATEGIES.names(),
    )
    scenario: str = option(
        "auto",
        "domain: every task has the same classes (new conditions); class: tasks bring new classes and the head "
        "grows; auto: domain when every task has the same classes, else class",
        choices=("auto",) + SCENARIOS,
    )
    memory_per_class: int = option(20, "replay: images kept per class (reservoir sampling)")
    replay_ratio: float = option(0.5, "replay: the memory's share of what each task trains on, in (0, 1)")
    distill_weight: float = option(1.0, "lwf: the weight of the distillation loss")
    distill_temperature: float = option(2.0, "lwf: the softmax temperature of the distillation")
