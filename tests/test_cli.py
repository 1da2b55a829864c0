"""Tests of the scripts' log channel: levels, streams, prefixes, no duplicate lines."""

import logging

import pytest

from data_utils import UserError
from training.cli import add_run_options, exit_status, script_parser, setup_logging


def test_info_to_stdout_errors_to_stderr_once(capsys):
    setup_logging("some_script")
    setup_logging("some_script")  # a second main() in one process: still one line per record
    logging.getLogger("some_script").info("step %d done", 3)
    logging.getLogger("training.checkpoints").warning("checkpoint damaged")
    logging.getLogger("data_utils.csv_table").error("bad rows")
    logging.getLogger("some_script").debug("not shown")
    out, err = capsys.readouterr()
    assert out == "step 3 done\nwarning: checkpoint damaged\n"
    assert err == "error: bad rows\n"


def test_level_hides_information(capsys):
    setup_logging("quiet_script", level=logging.WARNING)
    logging.getLogger("quiet_script").info("hidden")
    logging.getLogger("quiet_script").warning("shown")
    assert capsys.readouterr().out == "warning: shown\n"
    setup_logging("quiet_script")  # back to the scripts' level for the tests that follow


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


def test_help_shows_real_defaults_only():
    parser = script_parser("Does a thing.\n\nDetails.")
    add_run_options(parser)
    parser.add_argument("--threads", type=int, default=None, help="decode threads (default: all cores)")
    parser.add_argument("--warmup", type=int, default=0, help="warmup steps")
    parser.add_argument("--jit", action="store_true", help="compile")
    text = " ".join(parser.format_help().split())
    assert "Does a thing." in text and "Details." not in text
    assert "warmup steps (default: 0)" in text and "(default: best)" in text
    assert "(default: None)" not in text and "(default: False)" not in text
