"""Tests of a sequence of tasks trained end to end (``train.py --tasks``): its records, its exact resume in the
middle of a task, and the mistakes it refuses."""

import csv
import json
import shutil
import signal

import pytest

import evaluate
import predict
import train
from resnet_tf.lifelong.metrics import AccuracyRecord
from resnet_tf.training.loop import Trainer
from resnet_tf.training.sequence_report import EVENTS
from tests.helpers import TINY, assert_same_weights, final_weights, scalars, tensor_values

TASK_FOLDERS = ("task-01-classes_1-2", "task-02-classes_3-4", "task-03-classes_5-6")


def test_a_sequence_keeps_each_task_as_a_run_and_the_accuracy_matrix_of_them_all(class_sequence):
    _, logdir = class_sequence
    for folder in TASK_FOLDERS:
        assert final_weights(logdir / folder)["step/.ATTRIBUTES/VARIABLE_VALUE"] == 4
        assert (logdir / folder / "best").is_dir() and (logdir / folder / "history.csv").is_file()
    heads = [final_weights(logdir / f)["model/logits/w/.ATTRIBUTES/VARIABLE_VALUE"].shape[1] for f in TASK_FOLDERS]
    assert heads == [2, 4, 6]  # the head grows by each task's classes
    memory = list(csv.DictReader(open(logdir / TASK_FOLDERS[2] / "data" / "memory.csv")))
    assert len(memory) == 4 * 4 and len({row["label"] for row in memory}) == 4  # 4 kept of each earlier class
    record = AccuracyRecord.load(str(logdir))
    assert record.matrix.shape == (3, 3) and record.before.shape == (3,)
    assert record.matrix[0, 1:].tolist() == [0, 0] and record.matrix[1, 2] == 0  # classes not in the head yet
    history = list(csv.DictReader(open(logdir / "history.csv")))
    assert [row["task"] for row in history] == ["1", "2", "3"]
    for i, row in enumerate(history):
        figures = record.figures(i)
        assert float(row["acc"]) == pytest.approx(figures["acc"], abs=1e-6) and int(row["steps"]) == 4
        assert row["bwt"] == ("" if i == 0 else f"{figures['bwt']:.6f}")
    assert [int(row["memory_images"]) for row in history] == [0, 8, 16]
    events = scalars(str(logdir / EVENTS))
    assert [step for step, _ in tensor_values(events, "ACC")] == [1, 2, 3]
    assert [step for step, _ in tensor_values(events, "BWT")] == [2, 3]
    assert tensor_values(events, "ACC")[-1][1] == pytest.approx(record.figures(2)["acc"], abs=1e-6)
    assert "accuracy_matrix" in events.Tags()["tensors"] and (logdir / "accuracy_matrix.png").stat().st_size > 5000


def stop_in_task_three(monkeypatch, at_step: int) -> None:
    """A stop signal arrives as task 3 finishes step ``at_step`` (as Ctrl-C or SIGTERM would set it)."""
    boundaries = Trainer._at_boundaries

    def at_boundaries(self, step, first):
        boundaries(self, step, first)
        if self.run.outdir.endswith(TASK_FOLDERS[2]) and step == at_step:
            self.stop.signum = signal.SIGTERM

    monkeypatch.setattr(Trainer, "_at_boundaries", at_boundaries)


def after_two_tasks(straight, logdir) -> None:
    """``logdir``: the run folder of the sequence ``straight`` as it was when its second task had ended (the
    recipe is deterministic: the first two tasks' folders are the ones it made)."""
    shutil.copytree(straight, logdir, ignore=shutil.ignore_patterns(TASK_FOLDERS[2], EVENTS))
    record = AccuracyRecord.load(str(logdir))
    record.rows = record.rows[:2]
    record.save(str(logdir))
    lines = (logdir / "history.csv").read_text().splitlines(keepends=True)
    (logdir / "history.csv").write_text("".join(lines[:3]))


@pytest.mark.slow
def test_a_sequence_stopped_in_its_third_task_resumes_to_the_same_weights_and_matrix(
    class_sequence, tmp_path, monkeypatch
):
    _, straight = class_sequence
    logdir = tmp_path / "run"
    after_two_tasks(straight, logdir)
    stop_in_task_three(monkeypatch, at_step=3)
    assert train.main(["--logdir", str(logdir)]) == 128 + signal.SIGTERM
    assert final_weights(logdir / TASK_FOLDERS[2])["step/.ATTRIBUTES/VARIABLE_VALUE"] == 3
    assert len(AccuracyRecord.load(str(logdir)).rows) == 2
    monkeypatch.undo()
    assert train.main(["--logdir", str(logdir)]) == 0
    assert_same_weights(final_weights(straight / TASK_FOLDERS[2]), final_weights(logdir / TASK_FOLDERS[2]))
    losses = [tensor_values(scalars(str(run / TASK_FOLDERS[2] / "train")), "loss") for run in (straight, logdir)]
    assert len(losses[0]) == 4 and losses[0] == losses[1]
    assert (logdir / "accuracy_matrix.csv").read_text() == (straight / "accuracy_matrix.csv").read_text()
    assert (logdir / "history.csv").read_text().count("\n") == 4


def test_a_finished_sequence_has_nothing_to_do_and_refuses_changes_of_its_tasks(class_sequence, tmp_path, capsys):
    tasks, straight = class_sequence
    logdir = tmp_path / "done"
    shutil.copytree(straight, logdir)
    matrix = (logdir / "accuracy_matrix.csv").read_text()
    assert train.main(["--logdir", str(logdir), "--quiet"]) == 0
    assert "done: 3 tasks, ACC" in capsys.readouterr().out
    for option, value in (("--lifelong-strategy", "naive"), ("--tasks", tasks + ".other"), ("--scenario", "domain")):
        assert train.main(["--logdir", str(logdir), option, value]) == 2
        assert f"error: {option}={value} conflicts with the saved run" in capsys.readouterr().err
    assert (logdir / "accuracy_matrix.csv").read_text() == matrix


def test_evaluate_prints_a_sequences_matrix_and_scores_a_csv_with_its_last_network(class_sequence, capsys):
    tasks, logdir = class_sequence
    assert evaluate.main(["--logdir", str(logdir)]) == 0
    out = capsys.readouterr().out
    record = AccuracyRecord.load(str(logdir))
    assert record.table().splitlines()[-1] in out and f"ACC {record.figures(2)['acc']:.4f}" in out
    first_val = list(csv.reader(open(tasks)))[1][2]
    assert evaluate.main(["--logdir", str(logdir), "--csv", first_val]) == 0
    metrics = json.loads((logdir / TASK_FOLDERS[2] / "eval" / "4" / "metrics.json").read_text())
    assert metrics["top1"] == pytest.approx(record.matrix[2, 0], abs=1e-6)  # the network the matrix scored


def test_predict_on_a_sequence_uses_the_network_at_the_end_of_its_last_task(class_sequence, tmp_path):
    tasks, logdir = class_sequence
    last_val = list(csv.reader(open(tasks)))[3][2]
    image = next(iter(csv.DictReader(open(last_val))))["path"]
    out = tmp_path / "predictions.csv"
    assert predict.main(["--logdir", str(logdir), image, "--out", str(out), "--top-k", "6"]) == 0
    row = next(csv.DictReader(open(out)))
    assert len(json.loads(row["top_k"])) == 6 and row["error"] == ""  # the grown head: every class of the sequence


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--train-csv", "x.csv"], "--tasks lists each task's CSVs; do not also give --train-csv"),
        (["--time-budget", "5m"], "--time-budget does not size a sequence of tasks"),
        (["--demo"], "--tasks lists each task's CSVs; do not also give --demo"),
        (["--demo", "lifelong"], "--demo lifelong makes its tasks; do not also give --tasks"),
        (["--strategy", "multi-worker"], "--tasks trains on one machine"),
    ],
)
def test_options_that_do_not_go_with_a_sequence_are_an_error_line(class_sequence, tmp_path, capsys, extra, message):
    tasks, _ = class_sequence
    assert train.main(["--tasks", tasks, "--logdir", str(tmp_path / "x"), *extra]) == 2
    assert f"error: {message}" in capsys.readouterr().err
    assert not (tmp_path / "x" / "config.json").exists()


def test_a_bad_row_of_a_task_is_named_before_any_task_trains(class_sequence, tmp_path, capsys):
    tasks, _ = class_sequence
    rows = list(csv.reader(open(tasks)))
    third_train = rows[3][1]
    with open(third_train, "a") as f:
        f.write("no/such/image.png,red_circle\n")
    try:
        assert train.main(["--tasks", tasks, "--logdir", str(tmp_path / "bad"), *TINY]) == 2
        err = capsys.readouterr().err
        assert f"{third_train}:" in err and "no/such/image.png" in err
        assert not (tmp_path / "bad" / TASK_FOLDERS[0]).exists()
    finally:
        with open(third_train) as f:
            lines = f.readlines()
        with open(third_train, "w") as f:
            f.writelines(lines[:-1])
