"""Tests of the log channel: levels, streams, prefixes, no duplicate lines, the log file, progress bars."""

import logging

from resnet_tf.console.logs import (
    SUMMARY,
    add_log_file,
    printable,
    progress_bars_on,
    setup_logging,
)


def test_info_to_stdout_errors_to_stderr_once(capsys):
    setup_logging("some_script")
    setup_logging("some_script")  # a second main() in one process: still one line per record
    logging.getLogger("some_script").info("step %d done", 3)
    logging.getLogger("resnet_tf.runs.checkpoints").warning("checkpoint damaged")
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


def test_quiet_keeps_warnings_errors_and_the_summary_and_the_log_file_keeps_everything(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("sys.stderr", Terminal())
    setup_logging("quiet_script", level=SUMMARY)
    logging.getLogger("quiet_script").info("chose a stem")  # before the file is opened: replayed into it
    add_log_file("quiet_script", str(tmp_path / "train.log"))
    logging.getLogger("resnet_tf.training.step").info("step 5: loss 0.3")
    logging.getLogger("quiet_script").warning("slow disk")
    logging.getLogger("quiet_script").log(SUMMARY, "done: best val accuracy 0.9")
    assert capsys.readouterr().out == "warning: slow disk\ndone: best val accuracy 0.9\n"
    assert not progress_bars_on()  # --quiet: no bars, even on a terminal
    setup_logging("quiet_script")  # closes the file; back to the scripts' level for the tests that follow
    lines = (tmp_path / "train.log").read_text().splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        "INFO chose a stem",
        "INFO step 5: loss 0.3",
        "WARNING slow disk",
        "SUMMARY done: best val accuracy 0.9",
    ]
    logging.getLogger("quiet_script").info("after")
    assert "after" not in (tmp_path / "train.log").read_text()


def test_progress_bars_only_on_a_terminal(monkeypatch):
    setup_logging("bars")
    assert not progress_bars_on()  # pytest's captured stderr is no terminal: a pipe, nohup, a cluster log
    monkeypatch.setattr("sys.stderr", Terminal())
    assert progress_bars_on()


def test_printable_escapes_control_characters_and_keeps_every_other_character():
    assert printable('cup\nred|"x",<b>') == 'cup\\nred|"x",<b>'
    assert printable("Tasse \u00e0 caf\u00e9 \u676f") == "Tasse \u00e0 caf\u00e9 \u676f"
    assert "\n" not in printable("a\nb\tc\x00")
