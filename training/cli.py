"""What every script shares: its parser's form, the one log channel, and the exit status of its errors.

The log channel is ``logging`` with one logger per module, printed around the progress bars.

Every module logs through ``logging.getLogger(__name__)`` (a script through the logger named after it);
:func:`setup_logging` sends those records to the console. Lines go through ``tqdm.write``, as tqdm's
``logging_redirect_tqdm`` does, so a progress bar is cleared, the line printed, and the bar redrawn below
it. Information and warnings go to standard output; errors to standard error.
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


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default in ``--help`` when it has one (not for None or flags: the help says)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


def script_parser(doc: str) -> argparse.ArgumentParser:
    """A script's parser: its docstring's first paragraph as description, defaults shown in ``--help``."""
    return argparse.ArgumentParser(description=doc.split("\n\n")[0], formatter_class=DefaultsHelpFormatter)


def add_run_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """``--logdir`` and ``--checkpoint``: which run, and which of its checkpoints."""
    parser.add_argument("--logdir", required=required, help="the training run's folder (holds config.json)")
    parser.add_argument("--checkpoint", default="best", help="best, latest, or a checkpoint path prefix")


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


def setup_logging(script: str, level: int = logging.INFO) -> None:
    """Sends the records of the project's packages and of the logger ``script`` to the console at
    ``level`` and above. Calling it again (a second ``main()`` in one process) replaces the handler."""
    for name in (*PROJECT_PACKAGES, script):
        logger = logging.getLogger(name)
        for handler in [h for h in logger.handlers if isinstance(h, ConsoleHandler)]:
            logger.removeHandler(handler)
        logger.addHandler(ConsoleHandler())
        logger.setLevel(level)
        logger.propagate = False  # the console line is printed here, not again by a root handler


def exit_status(logger: logging.Logger, work: Callable[[], int]) -> int:
    """Runs a script's ``work`` and returns its exit status. A :class:`UserError` becomes one ``error:`` line
    and status 2; any other exception is a bug and propagates with its traceback."""
    try:
        return work()
    except UserError as err:
        logger.error("%s", err)
        return USER_ERROR_STATUS


def run_script(script: str, work: Callable[[], int]) -> int:
    """What every script's ``main`` does after parsing its command line: logging to the console, the
    runtime's thread settings, then ``work``, whose user errors become status 2 (see :func:`exit_status`)."""
    from training.runtime import configure_threads  # TensorFlow: imported only once a script runs

    setup_logging(script)
    configure_threads()
    return exit_status(logging.getLogger(script), work)
