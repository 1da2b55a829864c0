"""Tests of task sequences: the tasks CSV, the sequence's classes, the scenario, the head's size per task."""

import os

import cv2
import pytest

from data_utils.csv_table import read_image_csv
from data_utils.errors import DataError
from resnet_tf.lifelong.tasks import decide_scenario, read_sequence, read_tasks, sequence_mapping, task_folder
from tests.helpers import label_image, write_csv


def labelled_csv(folder, name, labels, per_class=2):
    """A CSV of real PNGs, ``per_class`` of each label (names or integers as written)."""
    os.makedirs(os.path.join(folder, "img"), exist_ok=True)
    rows = []
    for k, label in enumerate(labels):
        for i in range(per_class):
            rel = f"img/{name}_{label}_{i}.png"
            cv2.imwrite(os.path.join(folder, rel), label_image(k))
            rows.append((rel, label))
    return write_csv(os.path.join(folder, name), rows)


def tasks_csv(folder, tasks):
    """A tasks CSV with one row per (name, train labels, val labels)."""
    rows = []
    for name, train, val in tasks:
        rows.append((name, labelled_csv(folder, f"{name}_train.csv", train), f"{name}_val.csv"))
        labelled_csv(folder, f"{name}_val.csv", val, per_class=1)
    return write_csv(os.path.join(folder, "tasks.csv"), rows, header=("task", "train_csv", "val_csv"))


def read(path, mapping):
    return read_image_csv(path, mapping=mapping)


def test_tasks_are_read_in_order_with_paths_resolved_against_the_tasks_csv(tmp_path):
    path = tasks_csv(str(tmp_path), [("day", ["cat", "dog"], ["cat"]), ("night", ["cat", "dog"], ["dog"])])
    tasks = read_tasks(path)
    assert [t.name for t in tasks] == ["day", "night"]
    assert tasks[1].val_csv == str(tmp_path / "night_val.csv") and os.path.isabs(tasks[0].train_csv)


def test_every_bad_row_of_a_tasks_csv_is_named_by_its_line(tmp_path):
    train = labelled_csv(str(tmp_path), "t.csv", ["a", "b"])
    rows = [("one", train, "t.csv"), ("", train, train), ("one", train, train), ("two", "missing.csv", "")]
    path = write_csv(str(tmp_path / "tasks.csv"), rows, header=("task", "train_csv", "val_csv"))
    with pytest.raises(DataError) as err:
        read_tasks(path)
    reasons = [(p.line, p.reason) for p in err.value.problems]
    assert reasons == [
        (3, "empty task name"),
        (4, "task 'one' repeats line 2"),
        (5, "task 'two': train_csv not found"),
        (5, "task 'two': empty val_csv"),
    ]


def test_a_tasks_csv_needs_its_columns_and_two_tasks(tmp_path):
    train = labelled_csv(str(tmp_path), "t.csv", ["a", "b"])
    no_val = write_csv(str(tmp_path / "a.csv"), [("one", train)], header=("task", "train_csv"))
    with pytest.raises(DataError, match="missing column.s. val_csv"):
        read_tasks(no_val)
    one = write_csv(str(tmp_path / "b.csv"), [("one", train, train)], header=("task", "train_csv", "val_csv"))
    with pytest.raises(DataError, match="a sequence needs at least 2 tasks, got 1"):
        read_tasks(one)


def test_class_incremental_classes_are_numbered_in_the_order_the_tasks_bring_them(tmp_path):
    path = tasks_csv(
        str(tmp_path),
        [("first", ["zebra", "ant"], ["ant"]), ("second", ["cat", "ant"], ["cat"]), ("third", ["bee"], ["bee"])],
    )
    sequence = read_sequence(read_tasks(path), read)
    assert sequence.scenario == "class"
    assert sequence.mapping.names == ["ant", "zebra", "cat", "bee"]
    assert [sequence.head_size(i) for i in range(3)] == [2, 3, 4]
    assert sequence.task_mapping(1).names == ["ant", "zebra", "cat"]
    assert sequence.task_classes(1) == (0, 2)  # a task may bring back an earlier class
    assert sequence.tasks[2].val.labels.tolist() == [3]


def test_tasks_with_the_same_classes_are_domain_incremental_with_one_head(tmp_path):
    path = tasks_csv(str(tmp_path), [("a", ["2", "0", "1"], ["1"]), ("b", ["1", "2", "0"], ["2"])])
    sequence = read_sequence(read_tasks(path), read)
    assert sequence.scenario == "domain" and sequence.mapping.names == ["0", "1", "2"]
    assert sequence.head_size(0) == sequence.head_size(1) == 3 and sequence.task_classes(1) == (0, 1, 2)


def test_the_scenario_and_the_order_of_classes():
    assert decide_scenario([{"a", "b"}, {"b", "a"}], "auto") == "domain"
    assert decide_scenario([{"a", "b"}, {"c"}], "auto") == "class"
    assert decide_scenario([{"a", "b"}, {"b", "a"}], "class") == "class"
    assert sequence_mapping([["10", "9"], ["2"]], "class").names == ["9", "10", "2"]  # numbers by value
    assert sequence_mapping([["10", "9"], ["2"]], "domain").kind == "index"


def test_task_folders_are_numbered_and_safe_to_name():
    assert task_folder(2, "occlusion 25%") == "task-03-occlusion_25"
    assert task_folder(11, "../x") == "task-12-x"
    assert task_folder(0, "%%") == "task-01"
