"""``--time-budget``: a run's number of steps, set from the speed of its first steps so that it ends in time.

The run trains its first steps at the schedule's peak rate (its length is not known yet) and times them in
two windows. The first is :data:`CALIBRATION_STEPS` steps after the first (which traces the step function) and
:data:`WARMUP_STEPS` more, with a validation (the last one made by then, or one made at that step). Its pace
sizes the second: the steps of :data:`SETTLING_SHARE` of the budget left to settle, then as many timed (none
when that is fewer than :data:`CALIBRATION_STEPS`: the first window's pace is used). After the last window
the run fixes its length: the steps done, and as many more as fit in the time left, each with its share of
the validations. The length is then saved in ``config.json`` as the
run's ``max_steps``, so that a resumed run follows the same schedule to the same last step. Every worker of a
multi-worker run takes the chief's figure.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterator

import tensorflow as tf

from resnet_tf.training.state import Run

LOG = logging.getLogger(__name__)

CALIBRATION_STEPS = 20  # steps timed; a number of steps, so that every worker measures at the same one
# steps after the first left out of the timing: measured on 2 cores, the steps right after the first were 7%
# slower than the rest of the run, and a run timed from them ended 11% short of its budget
WARMUP_STEPS = 5
MEASURED_AFTER = 1 + WARMUP_STEPS + CALIBRATION_STEPS  # the first window's last step
PLANNED_SHARE = 0.97  # of the time left: checkpoint writes and logging are not counted per step
# A process's steps speed up over its first minute (the input pipeline's autotuning, caches warming): measured on
# 2 cores, ResNet-18 at 32 px went from 253 to 304 images/s over its first 150 steps, and a 5-minute run sized
# from its steps 7-26 ended 31 s (10%) short. The second window, later and longer, times the settled pace.
SETTLING_SHARE = 0.05


@dataclasses.dataclass(frozen=True)
class Pace:
    """What the first steps measured: seconds per training step and per validation, and the time used."""

    step_seconds: float
    validation_seconds: float
    elapsed: float


def fitting_steps(budget: float, pace: Pace, steps_per_validation: int) -> int:
    """How many more steps fit in what is left of ``budget`` seconds at ``pace``: each step with its share of a
    validation every ``steps_per_validation`` steps, and the run's final validation."""
    left = (budget - pace.elapsed) * PLANNED_SHARE - pace.validation_seconds
    per_step = pace.step_seconds + pace.validation_seconds / steps_per_validation
    return max(0, int(left // per_step))


def chief_value(strategy: tf.distribute.Strategy, value: int) -> int:
    """``value`` as the first replica of the chief has it, on every worker and replica (a sum in which only
    that replica counts): the workers' own measurements differ, their runs' lengths must not."""

    def own_share() -> tf.Tensor:
        first = tf.equal(tf.distribute.get_replica_context().replica_id_in_sync_group, 0)
        return tf.where(first, tf.constant(value, tf.int64), tf.constant(0, tf.int64))

    if strategy.num_replicas_in_sync == 1:
        return value
    return int(strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(own_share), axis=None))


class TimeBudget:
    """The clock of a budgeted run: started when the run starts (``started``, a ``clock`` reading), it times
    the :data:`CALIBRATION_STEPS` steps after the first :data:`WARMUP_STEPS` + 1 of this start, and the second
    window if :meth:`time_again` sets one, leaving out the time spent :meth:`paused` (validations and checkpoint
    writes); it times each :meth:`validation` too."""

    def __init__(self, seconds: float, start_step: int, started: float, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.start_step, self.started, self.clock = seconds, start_step, started, clock
        self.timed_from: float | None = None
        self.paused_seconds = 0.0
        self.validation_seconds: float | None = None  # the last validation's
        self.window = (start_step + 1 + WARMUP_STEPS, start_step + MEASURED_AFTER)  # timed after, up to

    def timing_starts(self, step: int) -> bool:
        """Whether the timed steps start after step ``step``."""
        return step == self.window[0]

    def start_timing(self) -> None:
        """Starts timing (call once the steps so far have run: their outputs read)."""
        self.timed_from, self.paused_seconds = self.clock(), 0.0

    def measuring(self, step: int) -> bool:
        """Whether step ``step`` is the last of the timed ones: the length is fixed, or the second window set,
        after it."""
        return step == self.window[1]

    def time_again(self, step: int, settling: int, timed: int) -> None:
        """After step ``step`` (the first window's last): ``settling`` steps untimed, then ``timed`` timed."""
        self.window = (step + settling, step + settling + timed)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Leaves the time spent inside out of the steps' timing (it still counts against the budget)."""
        start = self.clock()
        try:
            yield
        finally:
            self.paused_seconds += self.clock() - start

    @contextlib.contextmanager
    def validation(self) -> Iterator[None]:
        """Times the validation made inside."""
        start = self.clock()
        yield
        self.validation_seconds = self.clock() - start

    def pace(self) -> Pace:
        """The pace measured: the timed steps (call after their outputs have been read) and the last validation
        (call after one)."""
        now = self.clock()
        step_seconds = (now - self.timed_from - self.paused_seconds) / (self.window[1] - self.window[0])
        return Pace(step_seconds, self.validation_seconds, now - self.started)


def validation_every(run: Run) -> int:
    """Steps between two validations of ``run``."""
    return run.cfg.run.eval_every or run.steps_per_epoch


def second_window(run: Run, budget: TimeBudget, step: int) -> bool:
    """At the end of the first timed window (step ``step``): whether the run times a second one before fixing
    its length, sized from the first window's pace, validations included (the chief's figure on every worker),
    and sets it."""
    if step != budget.start_step + MEASURED_AFTER:  # the second window's end: one second window only
        return False
    pace, every = budget.pace(), validation_every(run)
    per_step = pace.step_seconds + pace.validation_seconds / every
    steps = chief_value(run.placement.strategy, int(SETTLING_SHARE * budget.seconds / per_step))
    if steps < CALIBRATION_STEPS:
        return False
    budget.time_again(step, steps, steps)
    LOG.info(
        "time budget %s: %.3g s a step over steps %d-%d; the length is set from steps %d-%d (a process's first "
        "steps run slower)",
        run.cfg.optimization.time_budget,
        pace.step_seconds,
        step - CALIBRATION_STEPS + 1,
        step,
        budget.window[0] + 1,
        budget.window[1],
    )
    return True


def fix_length(run: Run, budget: TimeBudget, step: int) -> int:
    """Sets ``run``'s length, at ``step``, from the pace ``budget`` measured: the steps that fit (at least one
    more, which validates and saves), the chief's figure on every worker; in its configuration as
    ``max_steps`` and in its schedule. Returns it."""
    cfg, pace, every = run.cfg, budget.pace(), validation_every(run)
    total = chief_value(run.placement.strategy, step + max(1, fitting_steps(budget.seconds, pace, every)))
    run.total_steps, run.cfg = total, cfg.replace(max_steps=total)
    run.network.schedule.set_total_steps(total)
    LOG.info(
        "time budget %s: %d steps (%.3g s a step, about %.3g s a validation every %d steps, %.0f s used so far); "
        "saved in config.json, a resumed run ends at the same step",
        cfg.optimization.time_budget,
        total,
        pace.step_seconds,
        pace.validation_seconds,
        every,
        pace.elapsed,
    )
    return total
