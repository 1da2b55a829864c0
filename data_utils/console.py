"""What every command-line tool of the project shares: the parser's form, the one log channel, progress
bars for a person at a terminal only, and the exit status of errors a user can fix.

The log channel is ``logging`` with one logger per module (a script logs through the logger named after
it); :func:`setup_logging` sends those records to the console, and :func:`add_log_file` to a file as well.
Console lines go through ``tqdm.write``, as tqdm's ``logging_redirect_tqdm`` does, so a progress bar is
cleared, the line printed, and the bar redrawn below it. Information and warnings go to standard output,
errors to standard error. ``--quiet`` keeps warnings, errors and the lines logged at ``SUMMARY`` (a run's
final results) on the console; the log file always gets everything from ``INFO`` up.

Progress bars are drawn only when standard error is a terminal: output piped to a file (``nohup``, a
cluster job) gets the log lines alone, without the bars' redraws.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable

from tqdm import tqdm

from data_utils.errors import UserError

PROJECT_PACKAGES = ("resnet_tf", "data_utils", "training")
USER_ERROR_STATUS = 2  # argparse's status for a bad command line; the same for every error the user can fix
SUMMARY = logging.INFO + 5  # the lines --quiet still prints: where a run ended and what it reached
LOG_FILE_FORMAT = "%(asctime)s %(levelname)s %(message)s"
logging.addLevelName(SUMMARY, "SUMMARY")


class LogFileError(UserError):
    """The log file cannot be opened."""


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default in ``--help`` when it has one (not for None or flags: the help says)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or isinstance(action.default, bool) or "(default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def script_parser(doc: str) -> argparse.ArgumentParser:
    """A script's parser: its docstring's first paragraph as description, defaults shown in ``--help``."""
    return argparse.ArgumentParser(description=doc.split("\n\n")[0], formatter_class=DefaultsHelpFormatter)


class ConsoleHandler(logging.Handler):
    """Writes each record as one line through ``tqdm.write``, to the streams current at that moment (so a
    test that captures ``sys.stdout`` sees them). Warnings are prefixed ``warning:``, errors ``error:``."""

    def emit(self, record: logging.LogRecord) -> None:
        """Prints the record."""
        try:
            message = self.format(record)
            if record.levelno >= logging.WARNING:
                message = f"{record.levelname.lower()}: {message}"
            stream = sys.stderr if record.levelno >= logging.ERROR else sys.stdout
            tqdm.write(message, file=stream)
            stream.flush()
        except Exception:  # noqa: BLE001  logging's contract: a failed emit must not raise
            self.handleError(record)


class EarlyRecords(logging.Handler):
    """Keeps the records logged before a log file is opened (a run's first lines), for :func:`add_log_file`."""

    def __init__(self, capacity: int = 1000):
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.capacity = capacity

    def emit(self, record: logging.LogRecord) -> None:
        """Keeps the record (the first ``capacity`` of them)."""
        if len(self.records) < self.capacity:
            self.records.append(record)


def _project_loggers(script: str) -> list[logging.Logger]:
    return [logging.getLogger(name) for name in (*PROJECT_PACKAGES, script)]


def setup_logging(script: str, level: int = logging.INFO) -> None:
    """Sends the records of the project's packages and of the logger ``script`` to the console at ``level``
    and above (``SUMMARY`` for --quiet), and keeps them for a log file opened later. Calling it again (a
    second ``main()`` in one process) replaces the handlers."""
    early = EarlyRecords()
    console = ConsoleHandler(level)
    for logger in _project_loggers(script):
        for handler in [h for h in logger.handlers if isinstance(h, (ConsoleHandler, EarlyRecords, logging.FileHandler))]:
            logger.removeHandler(handler)
            handler.close()
        logger.addHandler(console)
        logger.addHandler(early)
        logger.setLevel(min(level, logging.INFO))
        logger.propagate = False  # the console line is printed here, not again by a root handler


def add_log_file(script: str, path: str) -> None:
    """Appends everything logged from ``INFO`` up to ``path`` too, with a time stamp, starting with the lines
    logged since :func:`setup_logging`; until the next :func:`setup_logging`. Raises LogFileError when the
    file cannot be opened."""
    try:
        handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    except OSError as err:
        raise LogFileError(f"cannot write the log file {path} ({err.strerror}); is the run folder writable?") from None
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(LOG_FILE_FORMAT))
    loggers = _project_loggers(script)
    early = next((h for h in loggers[0].handlers if isinstance(h, EarlyRecords)), None)
    for logger in loggers:
        if early is not None:
            logger.removeHandler(early)
        logger.addHandler(handler)
    for record in early.records if early is not None else []:
        handler.handle(record)


def progress_bars_on(logger_name: str = "data_utils") -> bool:
    """Whether progress bars are drawn: only when standard error is a terminal, and not when the console
    shows less than ``INFO`` (--quiet)."""
    consoles = [h for h in logging.getLogger(logger_name).handlers if isinstance(h, ConsoleHandler)]
    shown = not consoles or consoles[0].level <= logging.INFO
    return shown and sys.stderr.isatty()


def exit_status(logger: logging.Logger, work: Callable[[], int]) -> int:
    """Runs a script's ``work`` and returns its exit status. A :class:`UserError` becomes one ``error:`` line
    and status 2; any other exception is a bug and propagates with its traceback."""
    try:
        return work()
    except UserError as err:
        logger.error("%s", err)
        return USER_ERROR_STATUS
