"""Folders written all at once: built in a temporary folder beside their place and moved there at the end,
so a failure (an error, Ctrl-C, a full disk) leaves nothing half-written."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Iterator

from resnet_tf.console.errors import ConfigError, write_failure


def check_new_folder(path: str, option: str) -> None:
    """Output never mixes with other files: ``path`` (given as ``option``) must not exist, or be an empty
    folder; a ConfigError names the option otherwise."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise ConfigError(f"{option} {path} is a file; choose a new folder")
    if os.path.isdir(path) and os.listdir(path):
        raise ConfigError(f"{option} {path} exists and is not empty; choose a new folder")


@contextlib.contextmanager
def staged_folder(out: str, option: str) -> Iterator[str]:
    """Yields a temporary folder beside ``out`` to write into; when the block ends normally it becomes
    ``out``, otherwise it is deleted. ``out`` (given as ``option``) must not exist, or be empty."""
    out = os.path.abspath(out)
    check_new_folder(out, option)
    try:
        os.makedirs(os.path.dirname(out), exist_ok=True)
        staging = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.", dir=os.path.dirname(out))
    except OSError as err:
        raise write_failure(out, err, f"choose another {option}") from None
    try:
        yield staging
        if os.path.isdir(out):
            os.rmdir(out)  # empty, checked above
        os.rename(staging, out)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise write_failure(out, err, "disk full or not writable? Nothing was written.") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
