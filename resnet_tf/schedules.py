"""The learning-rate schedules after warmup, each one registered entry, without TensorFlow until a step is
built: a schedule is the multiplier of the peak rate at each point of training, ``progress`` going from 0
(end of warmup) to 1 (last step). A new one is a function under :func:`register_schedule` returning a
:class:`Schedule`; ``--lr-schedule`` takes its name.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

from resnet_tf.console.registry import Registry

STEP_DROPS = (1 / 3, 2 / 3)  # fractions of training after which the step schedule multiplies by 0.1


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A schedule's one-line description and its multiplier of the peak rate: a function of ``progress``
    (a float32 tensor in [0, 1]) written with TensorFlow's ops."""

    description: str
    multiplier: Callable


SCHEDULES: Registry[Schedule] = Registry("learning-rate schedule")
register_schedule = SCHEDULES.register


def schedule_names() -> tuple[str, ...]:
    """The names ``--lr-schedule`` takes."""
    return SCHEDULES.names()


def schedule(name: str) -> Schedule:
    """The registered schedule ``name``."""
    return SCHEDULES.get(name)


def _constant(progress):
    import tensorflow as tf

    return tf.ones_like(progress)


def _cosine(progress):
    import tensorflow as tf

    return 0.5 * (1.0 + tf.cos(math.pi * progress))


def _step(progress):
    import tensorflow as tf

    return tf.pow(0.1, sum(tf.cast(progress >= f, tf.float32) for f in STEP_DROPS))


def _linear(progress):
    return 1.0 - progress


@register_schedule
def constant() -> Schedule:
    return Schedule("the peak rate throughout", _constant)


@register_schedule
def cosine() -> Schedule:
    return Schedule("cosine decay to 0 (Loshchilov and Hutter)", _cosine)


@register_schedule
def step() -> Schedule:
    return Schedule("x0.1 at 1/3 and at 2/3 of training (He et al.)", _step)


@register_schedule
def linear() -> Schedule:
    return Schedule("linear decay to 0", _linear)
