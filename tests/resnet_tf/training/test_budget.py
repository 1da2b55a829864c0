"""Tests of --time-budget: the pace measured after the first steps, the length that fits, the same length on
every replica, and a budgeted run whose length is saved and kept by a resumed run."""

import json
import os
import signal
import subprocess
import sys
import types

import pandas as pd
import pytest
import tensorflow as tf
from tensorboard.plugins.hparams import metadata

import train
from resnet_tf.runs.placement import CPU_REPLICAS
from resnet_tf.training.budget import (
    CALIBRATION_STEPS,
    MEASURED_AFTER,
    SETTLING_SHARE,
    WARMUP_STEPS,
    Pace,
    TimeBudget,
    chief_value,
    fitting_steps,
    second_window,
)
from resnet_tf.training.loop import Trainer
from tests.helpers import ROOT, logged, scalars, tensor_values, train_args


def test_the_steps_that_fit_leave_room_for_the_validations_and_the_last_one():
    # 600 s, 30 used; 0.5 s a step, 6 s a validation every 100 steps: (570 * 0.97 - 6) / (0.5 + 0.06) = 976.6
    assert fitting_steps(600, Pace(0.5, 6.0, 30.0), 100) == 976
    assert fitting_steps(60, Pace(1.0, 1.0, 59.0), 10) == 0  # the time is used up
    assert fitting_steps(60, Pace(1.0, 1.0, 90.0), 10) == 0  # and more


def test_the_pace_leaves_out_the_first_steps_and_the_pauses_and_keeps_the_last_validation():
    now = [100.0]
    budget = TimeBudget(300, start_step=40, started=100.0, clock=lambda: now[0])
    assert [budget.timing_starts(s) for s in (40 + WARMUP_STEPS, 41 + WARMUP_STEPS)] == [False, True]
    now[0] = 108.0  # the first step traced the function, the next ones warmed up
    budget.start_timing()
    with budget.paused(), budget.validation():
        now[0] += 3.0  # a validation, paused: not a step's time
    with budget.paused():
        now[0] += 1.0  # a checkpoint written
    with budget.validation():
        now[0] += 2.5
    now[0] += 10.0 - 2.5  # the timed steps: 10 s of the window, the last validation inside it unpaused
    assert [budget.measuring(s) for s in (39 + MEASURED_AFTER, 40 + MEASURED_AFTER)] == [False, True]
    pace = budget.pace()
    assert pace == Pace(step_seconds=pytest.approx(10.0 / CALIBRATION_STEPS), validation_seconds=2.5, elapsed=22.0)


def one_device_run(budget: str, eval_every: int = 1000) -> types.SimpleNamespace:
    """What :func:`second_window` reads of a run: its strategy (one device), its budget as typed and how often
    it validates."""
    return types.SimpleNamespace(
        placement=types.SimpleNamespace(strategy=tf.distribute.get_strategy()),
        cfg=types.SimpleNamespace(
            optimization=types.SimpleNamespace(time_budget=budget), run=types.SimpleNamespace(eval_every=eval_every)
        ),
    )


def first_window(budget: TimeBudget, now: list, step_seconds: float) -> None:
    """The first window's steps run at ``step_seconds``, and a validation of 2 s after them."""
    now[0] += 5.0
    budget.start_timing()
    now[0] += CALIBRATION_STEPS * step_seconds
    with budget.paused(), budget.validation():
        now[0] += 2.0


def test_the_length_is_set_from_a_second_window_after_the_first_steps_settle(caplog):
    now = [0.0]
    budget = TimeBudget(300, start_step=0, started=0.0, clock=lambda: now[0])
    first_window(budget, now, step_seconds=0.125)  # slower than the steps that follow
    with caplog.at_level("INFO", logger="resnet_tf"):
        assert second_window(one_device_run("5m"), budget, MEASURED_AFTER)
    # a twentieth of the budget at the first pace, a validation of 2 s every 1000 steps: 15 s / 0.127 s = 118 steps
    steps = int(SETTLING_SHARE * 300 / (0.125 + 2.0 / 1000))
    assert budget.window == (MEASURED_AFTER + steps, MEASURED_AFTER + 2 * steps)
    assert f"the length is set from steps {MEASURED_AFTER + steps + 1}-{MEASURED_AFTER + 2 * steps}" in caplog.text
    assert not budget.timing_starts(MEASURED_AFTER + steps - 1) and budget.timing_starts(MEASURED_AFTER + steps)
    budget.start_timing()
    now[0] += steps * 0.1
    assert budget.measuring(MEASURED_AFTER + 2 * steps) and not budget.measuring(MEASURED_AFTER)
    assert budget.pace().step_seconds == pytest.approx(0.1)  # the settled pace, over the second window's steps
    assert not second_window(one_device_run("5m"), budget, MEASURED_AFTER + 2 * steps)  # one second window only


def test_a_budget_too_short_for_a_second_window_keeps_the_first_pace():
    now = [0.0]
    budget = TimeBudget(30, start_step=0, started=0.0, clock=lambda: now[0])
    first_window(budget, now, step_seconds=0.125)
    # a twentieth of 30 s is 11 steps at 0.125 s and 2 s a validation every 1000: fewer than the first window's 20
    assert not second_window(one_device_run("30s"), budget, MEASURED_AFTER)
    assert budget.measuring(MEASURED_AFTER) and budget.pace().step_seconds == pytest.approx(0.125)
    # nor a longer budget whose validations come often: 15 s / (0.125 s + 2 s / 2) is 13 steps
    budget = TimeBudget(300, start_step=0, started=0.0, clock=lambda: now[0])
    first_window(budget, now, step_seconds=0.125)
    assert not second_window(one_device_run("5m", eval_every=2), budget, MEASURED_AFTER)


@pytest.mark.slow
def test_every_replica_takes_the_first_replicas_figure():
    assert chief_value(tf.distribute.get_strategy(), 812) == 812
    # two replicas of one process (logical CPU devices are fixed when TensorFlow starts: a process of its own)
    code = (
        "from resnet_tf.runs.placement import make_placement\n"
        "from resnet_tf.training.budget import chief_value\n"
        "strategy = make_placement('mirrored', __import__('os').environ).strategy\n"
        "print(strategy.num_replicas_in_sync, chief_value(strategy, 812))\n"
    )
    env = {**os.environ, CPU_REPLICAS: "2"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["2", "812"], done.stderr[-2000:]  # not 1624: only the first replica counts


@pytest.mark.slow  # a run stopped and resumed: two trainings, as the interruption tests of train.py
def test_a_budgeted_run_saves_its_length_and_the_same_command_resumes_it_to_that_step(demo_data, tmp_path, monkeypatch):
    # The pace is given (the clock of a shared machine is not a test's to rely on); the run is stopped right
    # after its length is fixed, as a Ctrl-C or SIGTERM would stop it.
    monkeypatch.setattr(TimeBudget, "pace", lambda self: Pace(step_seconds=2.0, validation_seconds=1.0, elapsed=10.0))
    fix = Trainer._fix_length

    def fix_then_stop(self, step):
        fix(self, step)
        self.stop.signum = signal.SIGTERM

    monkeypatch.setattr(Trainer, "_fix_length", fix_then_stop)
    logdir = tmp_path / "run"
    args = train_args(demo_data, logdir, "--time-budget", "30s", "--eval-every", "100", "--ckpt-every", "100")
    with logged("resnet_tf") as messages:
        assert train.main(args) == 128 + signal.SIGTERM
    # 26 steps, then (20 s left * 0.97 - 1 s for the last validation) / (2 s + 1 s / 100) = 9.2 more
    assert (
        "time budget 30s: the run's number of steps is set from the speed of its first steps (timed up to step 26"
        in ("\n".join(messages))
    )
    assert "time budget 30s: 35 steps (2 s a step, about 1 s a validation every 100 steps" in "\n".join(messages)
    with open(logdir / "config.json") as f:
        saved = json.load(f)
    assert saved["config"]["optimization"]["max_steps"] == 35 and saved["requested"]["time_budget"] == "30s"
    monkeypatch.undo()
    with logged("resnet_tf") as messages:
        assert train.main(args) == 0  # the same command
    assert f"resuming from {logdir}/checkpoints/ckpt-26 at step 26/35" in "\n".join(messages)
    assert any(m.startswith("done: 35 steps in ") and "(time budget 30s)" in m for m in messages)
    # a validation timed at step 26 (none was due before), and the last step's
    assert pd.read_csv(logdir / "history.csv")["step"].tolist() == [26, 35]
    plugin = scalars(str(logdir)).SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data
    hparams = metadata.parse_session_start_info_plugin_data(plugin.content).hparams
    assert hparams["time_budget"].string_value == "30s" and "epochs" not in hparams  # the budget, not --epochs
    rates = dict(tensor_values(scalars(str(logdir / "train")), "learning_rate"))
    assert rates[20] == pytest.approx(2e-3)  # the peak (the default rate) while the length was unknown
    assert rates[35] == pytest.approx(0.0, abs=1e-9)  # the cosine over the 35 steps saved, ended
