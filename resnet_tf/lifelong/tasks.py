"""A sequence of tasks: the tasks CSV (one row per task, in the order they are learnt: its name, its training
CSV, its validation CSV), every task's tables read with one class mapping for the whole sequence, and the
scenario: ``domain``-incremental (every task has the same classes, seen under new conditions: the object
set's own protocol) or ``class``-incremental (tasks bring new classes, and the network's head grows by them).

In a class-incremental sequence the classes are numbered in the order the tasks bring them, so the head after
task ``i`` is the first ``head_size(i)`` outputs, and an earlier task's classes keep their outputs."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable

import numpy as np

from data_utils.csv_table import ClassMapping, ImageTable, read_rows
from data_utils.errors import DataError, RowProblem
from resnet_tf.console import files

TASK_COLUMNS = ("task", "train_csv", "val_csv")
MIN_TASKS = 2
MAX_FOLDER_NAME = 40  # characters of a task's name kept in its folder's name


@dataclasses.dataclass(frozen=True)
class TaskFiles:
    """One row of the tasks CSV: the task's name and its two CSVs (paths resolved against the tasks CSV)."""

    name: str
    train_csv: str
    val_csv: str


@dataclasses.dataclass(frozen=True)
class Task:
    """A task's name and its checked tables, labelled with the sequence's class mapping."""

    name: str
    train: ImageTable
    val: ImageTable


@dataclasses.dataclass(frozen=True)
class TaskSequence:
    """The tasks in order, the class mapping of the whole sequence and its scenario."""

    tasks: list[Task]
    mapping: ClassMapping
    scenario: str

    def head_size(self, index: int) -> int:
        """The network's outputs while it learns task ``index``: every class of a domain-incremental
        sequence; in a class-incremental one, the classes of the tasks so far."""
        if self.scenario == "domain":
            return self.mapping.num_classes
        return max(int(task.train.labels.max()) for task in self.tasks[: index + 1]) + 1

    def task_classes(self, index: int) -> tuple[int, ...]:
        """The classes of task ``index``'s own training images, in order."""
        return tuple(int(c) for c in np.unique(self.tasks[index].train.labels))

    def task_mapping(self, index: int) -> ClassMapping:
        """The classes the network knows while it learns task ``index`` (the first ``head_size`` ones)."""
        return ClassMapping(self.mapping.names[: self.head_size(index)], self.mapping.kind)


def task_folder(index: int, name: str) -> str:
    """The folder of a task in the run folder: ``task-03-<name>``, the name kept to safe characters."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:MAX_FOLDER_NAME]
    return f"task-{index + 1:02d}" + (f"-{safe}" if safe else "")


def read_tasks(path: str) -> list[TaskFiles]:
    """The tasks CSV's rows. Raises DataError naming the file and line of every problem: a missing column, an
    empty or repeated task name, a CSV that does not exist, fewer than ``MIN_TASKS`` tasks."""
    rows = read_rows(path)
    header = [cell.strip() for cell in rows[0][1]]
    missing = [c for c in TASK_COLUMNS if c not in header]
    if missing:
        raise DataError(
            [
                RowProblem(
                    path,
                    rows[0][0],
                    "",
                    f"missing column(s) {', '.join(missing)}: the header must name {', '.join(TASK_COLUMNS)}",
                )
            ]
        )
    base = os.path.dirname(files.absolute(path))
    tasks, problems, first_line = [], [], {}
    for line, row in rows[1:]:
        cells = dict(zip(header, (cell.strip() for cell in row)))
        name = cells.get("task", "")
        found = _task_problems(path, line, cells, base, first_line)
        problems += found
        first_line.setdefault(name, line)
        if not found:
            tasks.append(TaskFiles(name, *(_resolved(base, cells[c]) for c in TASK_COLUMNS[1:])))
    if not problems and len(tasks) < MIN_TASKS:
        problems.append(RowProblem(path, 0, "", f"a sequence needs at least {MIN_TASKS} tasks, got {len(tasks)}"))
    if problems:
        raise DataError(problems, hint="Fix these rows of the tasks CSV.")
    return tasks


def _task_problems(path: str, line: int, cells: dict, base: str, first_line: dict) -> list[RowProblem]:
    name = cells.get("task", "")
    if not name:
        return [RowProblem(path, line, "", "empty task name")]
    if name in first_line:
        return [RowProblem(path, line, "", f"task {name!r} repeats line {first_line[name]}")]
    problems = []
    for column in TASK_COLUMNS[1:]:
        given = cells.get(column, "")
        if not given:
            problems.append(RowProblem(path, line, "", f"task {name!r}: empty {column}"))
        elif not files.isfile(_resolved(base, given)):
            problems.append(RowProblem(path, line, given, f"task {name!r}: {column} not found"))
    return problems


def _resolved(base: str, path: str) -> str:
    return path if files.is_remote(path) or os.path.isabs(path) else os.path.normpath(os.path.join(base, path))


def decide_scenario(label_sets: list[set[str]], asked: str) -> str:
    """The scenario: ``asked``, or for ``auto`` domain-incremental when every task has the same classes, else
    class-incremental."""
    if asked != "auto":
        return asked
    return "domain" if all(s == label_sets[0] for s in label_sets) else "class"


def sequence_mapping(label_lists: list[list[str]], scenario: str) -> ClassMapping:
    """The sequence's classes. Domain-incremental: integer labels as they are, names in sorted order (as one
    training CSV maps them). Class-incremental: in the order the tasks bring them (sorted within a task), so
    that each task's new classes extend the head."""
    numeric = all(re.fullmatch(r"\d+", label) for labels in label_lists for label in labels)
    order = (lambda label: int(label)) if numeric else (lambda label: label)
    if scenario == "domain":
        every = sorted({label for labels in label_lists for label in labels}, key=order)
        return ClassMapping.indices(int(every[-1]) + 1) if numeric else ClassMapping(every, "name")
    names: list[str] = []
    for labels in label_lists:
        names += sorted(set(labels) - set(names), key=order)
    return ClassMapping(names, "name")


def read_sequence(
    tasks: list[TaskFiles], read: Callable[[str, ClassMapping | None], ImageTable], scenario: str = "auto"
) -> TaskSequence:
    """Every task's tables, read with ``read(csv, mapping)`` (no mapping: the CSV's own), relabelled with the
    sequence's mapping; the scenario decided (``auto``: :func:`decide_scenario`)."""
    trains = [read(task.train_csv, None) for task in tasks]
    label_lists = [[table.mapping.names[i] for i in np.unique(table.labels)] for table in trains]
    decided = decide_scenario([set(labels) for labels in label_lists], scenario)
    mapping = sequence_mapping(label_lists, decided)
    index = {name: i for i, name in enumerate(mapping.names)}
    relabelled = [
        dataclasses.replace(
            t, labels=np.array([index[t.mapping.names[i]] for i in t.labels], np.int32), mapping=mapping
        )
        for t in trains
    ]
    return TaskSequence(
        [Task(task.name, train, read(task.val_csv, mapping)) for task, train in zip(tasks, relabelled)],
        mapping,
        decided,
    )
