"""Tests of the learning-rate schedule: warmup, then constant, cosine or steps."""

import pytest

from resnet_tf.schedules import schedule_names
from resnet_tf.training.schedule import WarmupSchedule


def test_schedule_warmup_cosine_and_step():
    cosine = WarmupSchedule(1.0, 110, "cosine", warmup_steps=10)
    assert float(cosine(0)) == pytest.approx(0.1) and float(cosine(10)) == pytest.approx(1.0)
    assert float(cosine(60)) == pytest.approx(0.5, abs=1e-6) and float(cosine(110)) == pytest.approx(0.0, abs=1e-6)
    step = WarmupSchedule(1.0, 90, "step")
    assert [round(float(step(s)), 6) for s in (0, 29, 30, 60, 89)] == [1.0, 1.0, 0.1, 0.01, 0.01]


def test_constant_schedule_and_unknown_kind():
    constant = WarmupSchedule(0.5, 100, "constant", warmup_steps=4)
    assert [round(float(constant(s)), 6) for s in (0, 3, 4, 99)] == [0.125, 0.5, 0.5, 0.5]
    with pytest.raises(ValueError, match="unknown learning-rate schedule 'exponential'; registered: constant, cosine"):
        WarmupSchedule(1.0, 10, "exponential")
    assert schedule_names() == ("constant", "cosine", "step", "linear")


def test_the_linear_schedule_decays_to_zero_after_warmup():
    linear = WarmupSchedule(1.0, 12, "linear", warmup_steps=2)
    assert [round(float(linear(s)), 6) for s in (0, 1, 2, 7, 12)] == [0.5, 1.0, 1.0, 0.5, 0.0]


def test_a_run_of_unknown_length_stays_at_its_peak_until_its_length_is_set():
    cosine = WarmupSchedule(1.0, None, "cosine", warmup_steps=2)
    assert [round(float(cosine(s)), 6) for s in (0, 1, 2, 50, 5000)] == [0.5, 1.0, 1.0, 1.0, 1.0]
    cosine.set_total_steps(102)  # the length measured: the same schedule, from the step it is at
    assert float(cosine(52)) == pytest.approx(0.5, abs=1e-6) and float(cosine(102)) == pytest.approx(0.0, abs=1e-6)
