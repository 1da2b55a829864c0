"""The one log channel of every script, and progress bars for a person at a terminal only.

The log channel is ``logging`` with one logger per module (``logging.getLogger(__name__)``, under the
project's packages) and one per script for the process's last word (its ``error:`` line);
:func:`setup_logging` sends those records to the console, and :func:`add_log_file` to a file as well.
Console lines go through ``tqdm.write``, as tqdm's ``logging_redirect_tqdm`` does, so a progress bar is
cleared, the line printed, and the bar redrawn below it. Information and warnings go to standard output,
errors to standard error. ``--quiet`` keeps warnings, errors and the lines logged at ``SUMMARY`` (a run's
final results) on the console; the log file always gets everything from ``INFO`` up.

Progress bars are drawn only when standard error is a terminal: output piped to a file (``nohup``, a
cluster job) gets the log lines alone, without the bars' redraws.
"""

from __future__ import annotations

import logging
import sys
import time

from tqdm import tqdm

from resnet_tf.console import files
from resnet_tf.console.errors import write_failure

PROJECT_PACKAGES = ("resnet_tf", "data_utils")
SUMMARY = logging.INFO + 5  # the lines --quiet still prints: where a run ended and what it reached
LOG_FILE_FORMAT = "%(asctime)s %(levelname)s %(message)s"
REWRITE_INTERVAL = 30.0  # seconds between rewrites of a log file in object storage
logging.addLevelName(SUMMARY, "SUMMARY")


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
        for handler in [
            h
            for h in logger.handlers
            if isinstance(h, (ConsoleHandler, EarlyRecords, logging.FileHandler, RewrittenLogFile))
        ]:
            logger.removeHandler(handler)
            handler.close()
        logger.addHandler(console)
        logger.addHandler(early)
        logger.setLevel(min(level, logging.INFO))
        logger.propagate = False  # the console line is printed here, not again by a root handler


class RewrittenLogFile(logging.Handler):
    """A log file on a store without append (``gs://``...): the old text and the new lines, written whole
    under a temporary name and renamed, at most every ``interval`` seconds, at every warning and summary line,
    and when the handler is flushed or closed; a reader sees the log as it was at most ``interval`` seconds
    ago."""

    def __init__(self, path: str, interval: float = REWRITE_INTERVAL):
        super().__init__()
        self.path, self.interval = path, interval
        self._text = files.read_bytes(path).decode("utf-8", "replace") if files.exists(path) else ""
        self._written, self._dirty = 0.0, False

    def emit(self, record: logging.LogRecord) -> None:
        self._text += self.format(record) + "\n"
        self._dirty = True
        if record.levelno >= SUMMARY or time.monotonic() - self._written >= self.interval:
            self.flush()  # a run's last lines and every warning reach the store at once

    def flush(self) -> None:
        """Writes the whole log if it has new lines."""
        if self._dirty:
            try:
                files.write_atomic(self.path, self._text)
                self._dirty, self._written = False, time.monotonic()
            except OSError:
                pass  # the next flush tries again; the console has the lines meanwhile

    def close(self) -> None:
        self.flush()
        super().close()


def add_log_file(script: str, path: str) -> None:
    """Appends everything logged from ``INFO`` up to ``path`` too, with a time stamp, starting with the lines
    logged since :func:`setup_logging`; until the next :func:`setup_logging`. Raises an OutputError when the
    file cannot be opened."""
    try:
        handler = (
            RewrittenLogFile(path) if files.is_remote(path) else logging.FileHandler(path, mode="a", encoding="utf-8")
        )
    except OSError as err:
        raise write_failure(path, err, "is the run folder writable?") from None
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


def printable(text: str) -> str:
    """``text`` for one console line: control characters (a newline in a class name) shown as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
