"""Tests of the console: levels, streams, prefixes, no duplicate lines, the log file, progress bars, --help."""

import logging
import subprocess
import sys

import pytest

from conftest import ROOT
from data_utils import UserError
from data_utils.console import SUMMARY, add_log_file, exit_status, progress_bars_on, script_parser, setup_logging
from training.cli import add_run_options


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


class Terminal:
    """A standard error that is a terminal."""

    def isatty(self):
        return True

    def write(self, text):
        pass

    def flush(self):
        pass


def test_quiet_keeps_warnings_errors_and_the_summary_and_the_log_file_keeps_everything(capsys, tmp_path,
                                                                                      monkeypatch):
    monkeypatch.setattr("sys.stderr", Terminal())
    setup_logging("quiet_script", level=SUMMARY)
    logging.getLogger("quiet_script").info("chose a stem")  # before the file is opened: replayed into it
    add_log_file("quiet_script", str(tmp_path / "train.log"))
    logging.getLogger("training.step").info("step 5: loss 0.3")
    logging.getLogger("quiet_script").warning("slow disk")
    logging.getLogger("quiet_script").log(SUMMARY, "done: best val accuracy 0.9")
    assert capsys.readouterr().out == "warning: slow disk\ndone: best val accuracy 0.9\n"
    assert not progress_bars_on()  # --quiet: no bars, even on a terminal
    setup_logging("quiet_script")  # closes the file; back to the scripts' level for the tests that follow
    lines = (tmp_path / "train.log").read_text().splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        "INFO chose a stem", "INFO step 5: loss 0.3", "WARNING slow disk", "SUMMARY done: best val accuracy 0.9"]
    logging.getLogger("quiet_script").info("after")
    assert "after" not in (tmp_path / "train.log").read_text()


def test_progress_bars_only_on_a_terminal(monkeypatch):
    setup_logging("bars")
    assert not progress_bars_on()  # pytest's captured stderr is no terminal: a pipe, nohup, a cluster log
    monkeypatch.setattr("sys.stderr", Terminal())
    assert progress_bars_on()


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
    parser.add_argument("--fraction", type=float, default=0.2, help="a fraction (default: 0.2)")
    parser.add_argument("--jit", action="store_true", help="compile")
    text = " ".join(parser.format_help().split())
    assert "Does a thing." in text and "Details." not in text
    assert "warmup steps (default: 0)" in text and "(default: best)" in text
    assert "(default: None)" not in text and "(default: False)" not in text and text.count("(default: 0.2)") == 1


HELP_PROBE = """
import runpy, sys
sys.argv = [{script!r}, "--help"]
try:
    runpy.{runner}({target!r}, run_name="__main__")
except SystemExit as done:
    print("exit", done.code)
print("loaded:", *sorted(m for m in ("tensorflow", "cv2", "pandas", "matplotlib") if m in sys.modules))
"""


@pytest.mark.parametrize("script", ["train.py", "evaluate.py", "export.py", "predict.py", "import_tf1.py",
                                    "data_utils.make_csv"])
def test_help_of_every_script_loads_no_tensorflow_opencv_or_pandas(script):
    runner, target = ("run_module", script) if not script.endswith(".py") else ("run_path", script)
    done = subprocess.run([sys.executable, "-c", HELP_PROBE.format(script=script, runner=runner, target=target)],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.startswith("usage: ") and "options:" in done.stdout
    assert done.stdout.rstrip().endswith("exit 0\nloaded:")  # none of them: --help prints at once
