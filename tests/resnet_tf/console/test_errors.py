"""Tests of the errors a user can fix and the exit status of every script."""

import logging

import pytest

from resnet_tf.console.errors import OutputError, UserError, condensed, exit_status, writing
from resnet_tf.console.logs import setup_logging


def test_exit_status_reports_user_errors_and_lets_bugs_through(capsys):
    setup_logging("script_x")
    logger = logging.getLogger("script_x")
    assert exit_status(logger, lambda: 0) == 0

    def bad_option():
        raise UserError("--width must be at least 1, got 0")

    assert exit_status(logger, bad_option) == 2
    assert capsys.readouterr().err == "error: --width must be at least 1, got 0\n"

    def bug():
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        exit_status(logger, bug)


def test_writing_names_the_path_and_lets_other_errors_through(tmp_path):
    target = tmp_path / "a_file"
    target.write_text("x")
    with pytest.raises(OutputError, match=f"cannot write {target / 'out.csv'} .*; choose another --out"):
        with writing(str(target / "out.csv"), "choose another --out"):
            open(target / "out.csv", "w")
    with pytest.raises(KeyError), writing(str(target)):
        raise KeyError("a bug keeps its traceback")


def test_a_condensed_reason_keeps_every_line_of_the_message_on_one_line():
    err = ValueError(
        "Found 96 Python objects that were not bound:\n  <tf.Variable 'w:0' shape=(3, 3) numpy=\n  array([1])>"
    )
    assert (
        condensed(err)
        == "Found 96 Python objects that were not bound: <tf.Variable 'w:0' shape=(3, 3) numpy= array([1])>"
    )
    assert condensed(ValueError("x" * 1000), limit=10) == "x" * 9 + "…"
