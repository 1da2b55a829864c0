"""Tests of the report of bad input data: every problem kept, the first ones shown, all written to a CSV."""

import csv

import pytest

from data_utils.errors import (
    MAX_REPORTED_PROBLEMS,
    DataError,
    RowProblem,
    write_problems,
)
from resnet_tf.console.errors import UserError


def test_a_data_error_keeps_every_problem_and_shows_the_first_ones():
    problems = [RowProblem("train.csv", line, f"img/{line}.png", "image file not found") for line in range(2, 32)]
    err = DataError(problems, hint="Fix these rows.")
    text = str(err)
    assert isinstance(err, UserError) and err.problems == problems
    assert text.startswith("30 problems in the input data:\n  train.csv:2: image file not found (img/2.png)")
    assert f"train.csv:{MAX_REPORTED_PROBLEMS + 1}:" in text and f"train.csv:{MAX_REPORTED_PROBLEMS + 2}:" not in text
    assert text.endswith(f"... and {30 - MAX_REPORTED_PROBLEMS} more\nFix these rows.")
    assert str(RowProblem("train.csv", 0, "", "the CSV file is empty")) == "train.csv: the CSV file is empty"
    with pytest.raises(TypeError):
        DataError([])


def test_write_problems_lists_every_problem_and_any_path_reads_back(tmp_path):
    odd = 'img/a,b "c"\nd.png'
    problems = [RowProblem("t.csv", 3, odd, "truncated PNG (no IEND chunk)"), RowProblem("v.csv", 0, "", "empty")]
    out = tmp_path / "sub" / "bad_rows.csv"
    write_problems(problems, str(out))
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["csv", "line", "path", "reason"],
        ["t.csv", "3", odd, "truncated PNG (no IEND chunk)"],
        ["v.csv", "0", "", "empty"],
    ]
