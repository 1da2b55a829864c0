"""The strategies of lifelong learning, each one registered entry: what the network trains on during each
task (the task's images alone, every task's so far, or the task's mixed with a replay memory) and whether it
is also held to what it answered before the task (distillation, Learning without Forgetting). A new strategy
is a function under :func:`register_strategy` returning a :class:`Strategy`; ``--strategy`` takes its name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from resnet_tf.console.registry import Registry
from resnet_tf.lifelong.memory import Rows, replay_repeats, reservoir


@dataclasses.dataclass(frozen=True)
class Replay:
    """The replay memory's settings: images kept per class, their share of what a task trains on, the seed."""

    per_class: int
    ratio: float
    seed: int


@dataclasses.dataclass(frozen=True)
class Composition:
    """What a task trains on: its training ``rows``, and the replay ``memory`` listed among them (if any)."""

    rows: Rows
    memory: Rows | None = None


@dataclasses.dataclass(frozen=True)
class Strategy:
    """A strategy: its description and cost (``--help``, docs/lifelong.md), how it composes task ``index``'s
    training rows from every task's (``compose(tasks, index, replay)``), and whether it distills from the
    network as it was before the task."""

    description: str
    cost: str
    compose: Callable[[list[Rows], int, Replay], Composition]
    distills: bool = False


STRATEGIES: Registry[Strategy] = Registry("lifelong strategy")
register_strategy = STRATEGIES.register


def strategy_names() -> tuple[str, ...]:
    """The names ``--strategy`` takes."""
    return STRATEGIES.names()


def strategy(name: str) -> Strategy:
    """The registered strategy ``name``."""
    return STRATEGIES.get(name)


def _alone(tasks: list[Rows], index: int, _replay: Replay) -> Composition:
    return Composition(tasks[index])


def _all_so_far(tasks: list[Rows], index: int, _replay: Replay) -> Composition:
    return Composition(Rows.joined(tasks[: index + 1]))


def _with_memory(tasks: list[Rows], index: int, replay: Replay) -> Composition:
    memory = reservoir(tasks[:index], replay.per_class, replay.seed)
    repeats = replay_repeats(len(tasks[index]), len(memory), replay.ratio)
    return Composition(Rows.joined([tasks[index]] + [memory] * repeats), memory)


@register_strategy
def naive() -> Strategy:
    return Strategy("fine-tunes on each task's images alone (forgets most: the lower bound)", "nothing kept", _alone)


@register_strategy
def joint() -> Strategy:
    return Strategy(
        "trains on the images of every task so far (the upper bound)",
        "every image kept; each task trains on all of them",
        _all_so_far,
    )


@register_strategy
def replay() -> Strategy:
    return Strategy(
        "mixes a memory of --memory-per-class images per class (reservoir sampling over every task seen) into "
        "each task's images, --replay-ratio of them",
        "the memory's images kept (their paths, in the task's memory.csv); a task trains 1/(1 - ratio) times the steps",
        _with_memory,
    )


@register_strategy
def lwf() -> Strategy:
    return Strategy(
        "Learning without Forgetting: trains on each task's images (its loss over the task's own classes) and "
        "distils, on them, the outputs of the network as it was before the task (--distill-weight, "
        "--distill-temperature)",
        "no images kept; a second forward pass per step (the network before the task)",
        _alone,
        distills=True,
    )
