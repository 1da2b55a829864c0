"""Tests of what a sequence records after each task: console, TensorBoard events, history.csv, heatmap PNG."""

import csv

import numpy as np
import pytest

from resnet_tf.lifelong.metrics import AccuracyRecord
from resnet_tf.training.sequence_report import EVENTS, HEATMAP_FILE, TaskCost, figure_text, report_task
from tests.helpers import logged, scalars, tensor_values


def test_each_task_adds_its_figures_to_the_events_and_history_and_redraws_the_heatmap(tmp_path):
    logdir = str(tmp_path)
    record = AccuracyRecord(["day", "night"], np.array([0.2, 0.1]), [np.array([0.9, 0.3])])
    with logged("resnet_tf.training.sequence_report") as messages:
        report_task(logdir, record, 0, TaskCost(steps=10, seconds=3.25, memory_images=0))
    assert "task 1/2 day done: top-1 0.9000 on it, ACC 0.9000 (mean over tasks 1-1), BWT -, FWT -" in messages
    record.rows.append(np.array([0.6, 0.8]))
    figures = report_task(logdir, record, 1, TaskCost(steps=12, seconds=4.0, memory_images=40))
    assert figures == pytest.approx({"acc": 0.7, "bwt": -0.3, "fwt": 0.2})
    rows = list(csv.DictReader(open(tmp_path / "history.csv")))
    assert [(r["task"], r["name"], r["steps"], r["memory_images"]) for r in rows] == [
        ("1", "day", "10", "0"),
        ("2", "night", "12", "40"),
    ]
    assert rows[0]["bwt"] == "" and float(rows[1]["bwt"]) == pytest.approx(-0.3)
    events = scalars(str(tmp_path / EVENTS))
    assert tensor_values(events, "ACC") == [(1, pytest.approx(0.9)), (2, pytest.approx(0.7))]
    assert tensor_values(events, "task_top1/01_day") == [(1, pytest.approx(0.9)), (2, pytest.approx(0.6))]
    plugins = {tag: events.SummaryMetadata(tag).plugin_data.plugin_name for tag in events.Tags()["tensors"]}
    assert plugins["accuracy_matrix"] == "images" and plugins["accuracy_matrix_table"] == "text"  # one tag each
    assert (tmp_path / HEATMAP_FILE).read_bytes().startswith(b"\x89PNG")
    record.rows = record.rows[:1]  # a task learnt again (its row lost): its history row is replaced
    report_task(logdir, record, 0, TaskCost(steps=10, seconds=1.0, memory_images=0))
    assert [r["task"] for r in csv.DictReader(open(tmp_path / "history.csv"))] == ["1"]


def test_an_undefined_figure_is_a_dash():
    assert figure_text(None) == "-" and figure_text(-0.01234) == "-0.0123"
