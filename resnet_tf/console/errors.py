"""Errors a user can act on, and the exit status of every script.

:class:`UserError` is the one base class for problems the person running a script can fix: bad input
data, a bad option, a locked run folder, a checkpoint that does not fit, output that cannot be written.
A script reports a ``UserError`` in one ``error:`` line and exits with status 2 (:func:`exit_status`);
every other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

USER_ERROR_STATUS = 2  # argparse's status for a bad command line; the same for every error the user can fix


class UserError(Exception):
    """A problem the user can fix; the message says what is wrong and what to do."""


class ConfigError(UserError, ValueError):
    """An option, or a setting of a saved run, that cannot work; or a run folder that is not one."""


class OutputError(UserError):
    """Output that cannot be written (disk full, a read-only folder, a path that is a file)."""


def condensed(err: BaseException, limit: int = 400) -> str:
    """An exception's whole message on one line (its lines joined, runs of spaces made one), cut at ``limit``
    characters: a reason for an ``error:`` line, where only a first line could lose it."""
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def write_failure(path: str, err: OSError, what_then: str = "") -> OutputError:
    """The error for a failed write of ``path``: the system's reason, and what to do (``what_then``, default:
    free space or fix the permissions and rerun)."""
    reason = err.strerror or str(err)
    advice = what_then or "disk full or not writable? Fix it and rerun the same command."
    return OutputError(f"cannot write {path} ({reason}); {advice}")


@contextlib.contextmanager
def writing(path: str, what_then: str = "") -> Iterator[None]:
    """Turns an ``OSError`` of the writes inside into an :class:`OutputError` naming ``path`` (see
    :func:`write_failure`); any other error passes as it is."""
    try:
        yield
    except OSError as err:
        raise write_failure(path, err, what_then) from None


def exit_status(logger: logging.Logger, work: Callable[[], int]) -> int:
    """Runs a script's ``work`` and returns its exit status. A :class:`UserError` becomes one ``error:`` line
    and status 2; any other exception is a bug and propagates with its traceback."""
    try:
        return work()
    except UserError as err:
        logger.error("%s", err)
        return USER_ERROR_STATUS
